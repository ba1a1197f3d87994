//! The server with the test fixtures mounted, on a fresh database, for fuzzing the shared
//! extractors and middleware with schemathesis: `cargo run -p test-support --example
//! fixture_server` prints the port, then serves until killed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use test_support::{TestOptions, spawn_app_with};

#[tokio::main]
async fn main() {
    let port = std::env::var("PORT").unwrap_or_else(|_| "0".to_owned());
    let app = spawn_app_with(TestOptions::default().with_fixtures().env("PORT", &port)).await;
    println!("{}", app.address);
    tokio::signal::ctrl_c().await.ok();
}
