//! `/api/auth` through HTTP against the real server and a fresh database per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod guards;
mod login;
mod password;
mod pat;
mod profile;
mod register;
mod sessions;
mod two_factor;

use reqwest::Method;
use serde_json::Value;
use test_support::{TestApp, TestResponse};

/// `GET /api/auth/me` with a token.
pub async fn me(app: &TestApp, token: &str) -> TestResponse {
    app.send(app.authed(Method::GET, "/api/auth/me", token))
        .await
}

/// POST JSON with a token.
pub async fn post_authed(app: &TestApp, path: &str, token: &str, body: &Value) -> TestResponse {
    app.send(app.authed(Method::POST, path, token).json(body))
        .await
}
