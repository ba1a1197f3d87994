//! The `presta` binary itself: the README's run command on a fresh machine, the production
//! start-up checks, and `presta openapi`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_presta");

fn clean_command(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir).env_clear();
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    cmd
}

#[test]
fn production_refuses_to_start_without_a_jwt_secret() {
    let dir = tempfile::tempdir().unwrap();
    let out = clean_command(dir.path())
        .env("APP_ENV", "production")
        .env(
            "ENCRYPTION_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("JWT_SECRET"), "{stderr}");
    assert!(
        !dir.path().join("data").exists(),
        "nothing is created before the checks pass"
    );
}

#[test]
fn production_refuses_a_weak_secret_or_a_missing_encryption_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = clean_command(dir.path())
        .env("APP_ENV", "production")
        .env("JWT_SECRET", "secret")
        .env(
            "ENCRYPTION_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("JWT_SECRET"));

    let out = clean_command(dir.path())
        .env("APP_ENV", "production")
        .env("JWT_SECRET", "Zx8Qp2Lm9Vr4Tn7Bc1Kd5Hf3Gj6Wy0Ea")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ENCRYPTION_KEY"));
}

#[test]
fn the_openapi_subcommand_prints_the_document() {
    let out = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(out.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        printed,
        serde_json::to_value(server::openapi_document()).unwrap()
    );
}

/// `cargo run --release` with nothing configured: it creates its data folder, database and
/// development secrets, migrates, and serves.
#[test]
fn the_server_starts_on_a_fresh_machine_with_zero_setup() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = clean_command(dir.path())
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut healthy = false;
    while Instant::now() < deadline {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            stream
                .write_all(b"GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).ok();
            if response.starts_with("HTTP/1.1 200") {
                healthy = true;
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().ok();
    child.wait().ok();
    assert!(healthy, "the server did not become ready");
    let data = dir.path().join("data");
    assert!(data.join("presta.db").exists());
    assert!(data.join("secrets/jwt_secret").exists());
    assert!(data.join("secrets/encryption_key").exists());
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start `presta serve` in `dir`; returns the child and its stdout reader thread's output.
fn serve(
    dir: &std::path::Path,
    port: u16,
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut child = clean_command(dir)
        .env("PORT", port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

async fn wait_ready(port: u16) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(res) = client
            .get(format!("http://127.0.0.1:{port}/ready"))
            .send()
            .await
            && res.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not become ready");
}

async fn login(port: u16, email: &str, password: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/auth/login"))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn the_first_start_creates_a_superadmin_and_shows_its_one_time_password() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut child, lines) = serve(dir.path(), port);
    wait_ready(port).await;
    let mut password = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    while password.is_none() && Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
            let trimmed = line.trim();
            if !trimmed.is_empty() && !trimmed.contains(' ') && trimmed.len() >= 20 {
                password = Some(trimmed.to_owned());
            }
        }
    }
    let password = password.expect("the one-time password is printed");
    test_support::remember_secret(&password);
    assert_eq!(login(port, "admin@presta.local", &password).await, 200);

    // One-time: until it is changed, nothing else is allowed.
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}/api/auth");
    let tokens: serde_json::Value = client
        .post(format!("{base}/login"))
        .json(&serde_json::json!({ "email": "admin@presta.local", "password": password }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = tokens["data"]["token"].as_str().unwrap().to_owned();
    test_support::remember_secret(&token);
    let status = |res: reqwest::Response| res.status().as_u16();
    assert_eq!(
        status(
            client
                .get(format!("{base}/permissions"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
        ),
        403
    );
    assert_eq!(
        status(
            client
                .get(format!("{base}/me"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
        ),
        200
    );
    let new_password = "A-Brand-New-Root-Phrase-1";
    test_support::remember_secret(new_password);
    let changed: serde_json::Value = client
        .post(format!("{base}/change-password"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "current_password": password, "new_password": new_password }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fresh = changed["data"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("new tokens: {changed}"))
        .to_owned();
    test_support::remember_secret(&fresh);
    assert_eq!(
        status(
            client
                .get(format!("{base}/permissions"))
                .bearer_auth(&fresh)
                .send()
                .await
                .unwrap()
        ),
        200
    );
    child.kill().ok();
    child.wait().ok();

    // A second start creates nobody and prints nothing.
    let port = free_port();
    let (mut child, lines) = serve(dir.path(), port);
    wait_ready(port).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let printed: Vec<String> = lines.try_iter().collect();
    assert!(
        printed.iter().all(|l| !l.contains("one-time")),
        "{printed:?}"
    );
    child.kill().ok();
    child.wait().ok();
}

#[tokio::test]
async fn create_user_and_create_admin_make_accounts_that_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let out = clean_command(dir.path())
        .args([
            "create-user",
            "--email",
            "client@example.test",
            "--password",
            "Correct-Horse-Battery-9",
            "--role",
            "client",
            "--company",
            "ACME Construction",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created client client@example.test"));

    let out = clean_command(dir.path())
        .args(["create-admin", "--email", "ops@example.test"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let admin_password = stdout
        .lines()
        .find_map(|l| {
            l.split("one-time password (change it after signing in): ")
                .nth(1)
        })
        .expect("a generated password is shown")
        .trim()
        .to_owned();
    test_support::remember_secret(&admin_password);

    // Refusals are explained.
    let out = clean_command(dir.path())
        .args([
            "create-user",
            "--email",
            "client@example.test",
            "--password",
            "Correct-Horse-Battery-9",
            "--role",
            "prestataire",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = clean_command(dir.path())
        .args([
            "create-user",
            "--email",
            "weak@example.test",
            "--password",
            "short",
            "--role",
            "prestataire",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));

    let port = free_port();
    let (mut child, _) = serve(dir.path(), port);
    wait_ready(port).await;
    assert_eq!(
        login(port, "client@example.test", "Correct-Horse-Battery-9").await,
        200
    );
    assert_eq!(login(port, "ops@example.test", &admin_password).await, 200);
    child.kill().ok();
    child.wait().ok();
}
