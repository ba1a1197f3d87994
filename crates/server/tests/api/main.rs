//! Integration tests of the foundation, through HTTP against the real server and a fresh
//! database per test (SQLite, or PostgreSQL when `TEST_DATABASE_URL` is set).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit;
mod binary;
mod cors;
mod database;
mod envelope;
mod health;
mod idempotency;
mod jobs;
mod openapi;
mod pagination;
mod rate_limit;
mod rejections;
mod storage;
