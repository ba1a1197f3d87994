use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::Value;
use test_support::spawn_app;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

fn generated() -> Value {
    serde_json::to_value(server::openapi_document()).unwrap()
}

#[test]
fn the_committed_document_matches_the_generated_one() {
    let path = workspace_root().join("openapi/openapi.json");
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap();
    assert!(
        committed == generated(),
        "openapi/openapi.json is stale: run `cargo run -q -- openapi > openapi/openapi.json` (or `just openapi`) and commit it"
    );
}

#[tokio::test]
async fn the_served_document_is_the_generated_one() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api-docs/openapi.json").await.json(), generated());
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                ops.push((path.clone(), method.to_uppercase(), op.clone()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn every_documented_route_is_mounted() {
    let app = spawn_app().await;
    let doc = generated();
    let ops = operations(&doc);
    assert!(!ops.is_empty());
    for (path, method, _) in ops {
        let concrete = path
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    "0193a9f0-0000-7000-8000-000000000000".to_owned()
                } else {
                    seg.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let res = app
            .send(app.request(Method::from_bytes(method.as_bytes()).unwrap(), &concrete))
            .await;
        let fallback = res.status == 405
            || (res.status == 404
                && res.json()["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("No route for")));
        assert!(!fallback, "{method} {path} is documented but not mounted");
    }
}

#[test]
fn every_operation_documents_its_security_and_errors() {
    for (path, method, op) in operations(&generated()) {
        assert!(
            op.get("security").is_some(),
            "{method} {path}: no security requirement"
        );
        let responses = op["responses"].as_object().unwrap();
        // Liveness answers 200 or nothing at all.
        let liveness = path == "/health";
        assert!(
            liveness
                || responses
                    .keys()
                    .any(|code| code.starts_with('4') || code.starts_with('5')),
            "{method} {path}: no error response documented"
        );
        // A WebSocket handshake succeeds with 101 Switching Protocols.
        assert!(
            responses
                .keys()
                .any(|code| code.starts_with('2') || code == "101"),
            "{method} {path}: no success response documented"
        );
    }
}

/// Routes are registered through `utoipa_actix_web` (`.service(handler)`), which only accepts
/// handlers annotated with `#[utoipa::path]`. This scan makes sure no crate bypasses it with
/// actix's own registration APIs, and that every route macro carries its documentation.
#[test]
fn every_route_handler_is_documented() {
    let crates = workspace_root().join("crates");
    let mut offenders = Vec::new();
    let mut handlers = 0;
    for file in rust_files(&crates) {
        let text = std::fs::read_to_string(&file).unwrap();
        if file.components().any(|c| c.as_os_str() == "tests") {
            continue;
        }
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let is_route_macro = [
                "#[get(",
                "#[post(",
                "#[put(",
                "#[patch(",
                "#[delete(",
                "#[route(",
            ]
            .iter()
            .any(|m| trimmed.starts_with(m));
            if is_route_macro {
                handlers += 1;
                let window = &lines[i.saturating_sub(40)..i];
                let documented = window
                    .iter()
                    .rev()
                    .take_while(|l| {
                        !l.trim_start().starts_with("async fn") && !l.trim().is_empty()
                            || l.trim_start().starts_with("///")
                            || l.trim().ends_with(',')
                    })
                    .any(|l| l.contains("#[utoipa::path"));
                if !documented {
                    offenders.push(format!(
                        "{}:{}: route without #[utoipa::path]",
                        file.display(),
                        i + 1
                    ));
                }
            }
            for raw in [
                ".route(\"",
                "web::resource(",
                "web::scope(",
                "web::to(",
                "web::route(",
            ] {
                let allowed = trimmed.starts_with("//")
                    || (raw == "web::to(" && line.contains("web::to(openapi::fallback)"));
                if line.contains(raw) && !allowed {
                    offenders.push(format!(
                        "{}:{}: `{raw}` registers a route outside the OpenAPI document",
                        file.display(),
                        i + 1
                    ));
                }
            }
        }
    }
    assert!(handlers > 0, "the scan found no handler at all");
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}
