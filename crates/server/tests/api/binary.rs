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
