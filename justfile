# Everyday commands. `just --list` shows them.

pg_url := env_var_or_default("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
redis_url := env_var_or_default("TEST_REDIS_URL", "redis://127.0.0.1:6379")

# The server (release build, SQLite in ./data unless DATABASE_URL says otherwise).
run:
    cargo run --release

# The whole suite on SQLite (fresh database per test).
test:
    cargo test --workspace

# The whole suite on PostgreSQL and Redis.
test-pg:
    TEST_DATABASE_URL={{pg_url}} TEST_REDIS_URL={{redis_url}} cargo test --workspace

# rustfmt and clippy, warnings as errors.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Regenerate the committed OpenAPI document.
openapi:
    cargo run -q -p server -- openapi > openapi/openapi.json

# Contract fuzzing with schemathesis against a fresh server (every check).
fuzz-api:
    scripts/fuzz-api.sh

# Load benchmark, release build on a fresh seeded database: [--pg] [--scale] [--smoke].
bench *args:
    bench/run.sh {{args}}

# Everything CI runs.
ci:
    .ci/run
