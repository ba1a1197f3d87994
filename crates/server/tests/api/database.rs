//! The database layer as the server configures it, on SQLite and PostgreSQL alike.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, Statement};
use shared::AppError;
use test_support::spawn_app;
use uuid::Uuid;

use entity::idempotency_key;

fn key_row(scope: &str, key: &str) -> idempotency_key::ActiveModel {
    let now = Utc::now();
    idempotency_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        scope: Set(scope.to_owned()),
        key: Set(key.to_owned()),
        method: Set("POST".to_owned()),
        path: Set("/x".to_owned()),
        request_hash: Set("h".to_owned()),
        state: Set("completed".to_owned()),
        response_status: Set(None),
        response_content_type: Set(None),
        response_body: Set(None),
        created_at: Set(now),
        completed_at: Set(None),
        // Not expired: the maintenance task purges expired keys at start-up.
        expires_at: Set(now + chrono::Duration::days(1)),
    }
}

#[tokio::test]
async fn a_unique_violation_becomes_a_409_naming_the_columns() {
    let app = spawn_app().await;
    key_row("user:1", "k").insert(&app.db).await.unwrap();
    let err = key_row("user:1", "k").insert(&app.db).await.unwrap_err();
    assert!(shared::error::unique_violation(&err));
    match AppError::from(err) {
        AppError::Conflict { message, details } => {
            assert_eq!(message, "A record with this scope, key already exists");
            assert_eq!(details.unwrap()["field"], "scope, key");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Another scope may use the same key.
    key_row("user:2", "k").insert(&app.db).await.unwrap();
}

#[tokio::test]
async fn a_broken_reference_becomes_a_422_not_a_500() {
    let app = spawn_app().await;
    let backend = app.db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "INSERT INTO job_logs (id, job_id, level, message, created_at) \
             VALUES (gen_random_uuid(), gen_random_uuid(), 'info', 'x', now())"
        }
        _ => {
            "INSERT INTO job_logs (id, job_id, level, message, created_at) \
             VALUES (randomblob(16), randomblob(16), 'info', 'x', '2026-01-01T00:00:00Z')"
        }
    };
    let err = app
        .db
        .execute_raw(Statement::from_string(backend, sql))
        .await
        .unwrap_err();
    let app_err = AppError::from(err);
    assert!(matches!(app_err, AppError::Validation(_)), "{app_err:?}");
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_foreign_keys_and_full_sync() {
    let app = spawn_app().await;
    if app.database.is_postgres() {
        return;
    }
    let backend = app.db.get_database_backend();
    let pragma = |name: &'static str| {
        let db = app.db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(backend, format!("PRAGMA {name}")))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                .unwrap()
        }
    };
    assert_eq!(pragma("journal_mode").await, "wal");
    assert_eq!(pragma("foreign_keys").await, "1");
    assert_eq!(pragma("synchronous").await, "2");
}

#[tokio::test]
async fn a_statement_past_the_timeout_is_cancelled_and_answers_503() {
    let app = test_support::spawn_app_with(
        test_support::TestOptions::default().env("DB_STATEMENT_TIMEOUT_MS", "300"),
    )
    .await;
    if app.db.get_database_backend() != sea_orm::DbBackend::Postgres {
        // SQLite has no statement timeout: the setting changes nothing there.
        app.db.execute_unprepared("SELECT 1").await.unwrap();
        return;
    }
    let started = std::time::Instant::now();
    let err = app
        .db
        .execute_unprepared("SELECT pg_sleep(10)")
        .await
        .unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    match AppError::from(err) {
        AppError::Unavailable(message) => {
            assert_eq!(message, "The database took too long to answer");
        }
        other => panic!("expected a 503, got {other:?}"),
    }
    // A statement within the limit runs, on the same pool.
    app.db
        .execute_unprepared("SELECT pg_sleep(0.05)")
        .await
        .unwrap();
}

#[tokio::test]
async fn postgresql_sessions_run_without_jit() {
    let app = spawn_app().await;
    let backend = app.db.get_database_backend();
    if backend != sea_orm::DbBackend::Postgres {
        // SQLite compiles no plan to machine code: nothing to turn off.
        return;
    }
    // Every connection of the pool: open as many as it holds at once.
    let checks = (0..4).map(|_| {
        app.db.query_one_raw(Statement::from_string(
            backend,
            "SELECT current_setting('jit'), pg_sleep(0.05)::text".to_owned(),
        ))
    });
    for row in futures_util::future::join_all(checks).await {
        let row = row.unwrap().unwrap();
        assert_eq!(row.try_get_by_index::<String>(0).unwrap(), "off");
    }
}

/// The pool takes a connection back without a round trip when it has nothing left to send
/// (`vendor/sqlx-core`). A transaction dropped without a commit leaves its ROLLBACK to send: it
/// must reach the server when the connection returns, not when its next user comes (maybe
/// much later), or the abandoned transaction keeps its locks all that time.
#[tokio::test]
async fn a_dropped_transaction_is_rolled_back_when_its_connection_returns() {
    use sea_orm::{EntityTrait, PaginatorTrait, TransactionTrait};
    let app = spawn_app().await;
    let db = shared::db::connect_url(&app.config.database_url, 1)
        .await
        .unwrap();
    {
        let abandoned = db.begin().await.unwrap();
        key_row("user:1", "k").insert(&abandoned).await.unwrap();
    }
    // Another connection inserts the same key: it waits on the abandoned insert until the
    // rollback reaches the server, and `db` is not used again meanwhile.
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        key_row("user:1", "k").insert(&app.db),
    )
    .await
    .expect("the abandoned transaction still holds its lock")
    .unwrap();
    // The pooled connection then serves its next user outside any transaction.
    assert_eq!(idempotency_key::Entity::find().count(&db).await.unwrap(), 1);
}

/// A PostgreSQL connection is a socket of the runtime that opened it: one opened by an HTTP
/// worker (the pool grew during a request) dies with the worker's runtime when the server
/// stops, while the job runner still writes. Checkouts are not pinged under load
/// (`shared::db::PG_CHECK_IF_IDLE_FOR`), so the server records the stop
/// (`shared::db::runtime_stopped`) and every connection opened before it is replaced instead
/// of failing its next statement (a ping would not do: it passes now and then on a stopped
/// runtime's socket).
#[tokio::test]
async fn connections_of_a_stopped_runtime_are_replaced_not_lent() {
    let app = spawn_app().await;
    let db = shared::db::connect_url(&app.config.database_url, 4)
        .await
        .unwrap();
    // The pool grows to 4 connections on a runtime of its own, which then stops. (Awaited
    // from a blocking task: the connection `connect_url` opened belongs to this test's runtime,
    // which must keep running to serve it.)
    let pool = db.clone();
    tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let pause = match pool.get_database_backend() {
                sea_orm::DbBackend::Postgres => "SELECT pg_sleep(0.05)",
                _ => "SELECT 1",
            };
            let queries = (0..4).map(|_| pool.execute_unprepared(pause));
            for result in futures_util::future::join_all(queries).await {
                result.unwrap();
            }
        });
    })
    .await
    .unwrap();
    shared::db::runtime_stopped();
    // At once (well within the idle window), every connection serves or is replaced.
    let queries = (0..8).map(|_| db.execute_unprepared("SELECT 1"));
    for result in futures_util::future::join_all(queries).await {
        result.unwrap();
    }
}

/// The server may end a pooled PostgreSQL connection (a restart, `pg_terminate_backend`, a
/// network cut). Used within the idle window, the dead connection fails the one statement
/// that finds it and is closed as it returns (it still awaits an answer:
/// `vendor/sqlx-postgres`), not lent again to fail every later user; idle longer, it is
/// checked at checkout and replaced before any statement fails.
#[tokio::test]
async fn a_connection_the_server_ended_is_replaced() {
    let app = spawn_app().await;
    if app.db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    let opened = std::time::Instant::now();
    let db = shared::db::connect_url(&app.config.database_url, 1)
        .await
        .unwrap();
    let backend_pid = |db: sea_orm::DatabaseConnection| async move {
        db.query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT pg_backend_pid()",
        ))
        .await
        .map(|row| row.unwrap().try_get_by_index::<i32>(0).unwrap())
    };
    let end = |pid: i32| {
        let admin = app.db.clone();
        async move {
            admin
                .execute_unprepared(&format!("SELECT pg_terminate_backend({pid})"))
                .await
                .unwrap();
            // Until the backend has exited (its socket closed).
            for _ in 0..200 {
                let left = admin
                    .query_one_raw(Statement::from_string(
                        admin.get_database_backend(),
                        format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}"),
                    ))
                    .await
                    .unwrap()
                    .unwrap()
                    .try_get_by_index::<i64>(0)
                    .unwrap();
                if left == 0 {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            panic!("backend {pid} did not exit");
        }
    };

    // Used again at once: one statement fails, the next gets a new connection.
    let first = backend_pid(db.clone()).await.unwrap();
    let used = std::time::Instant::now();
    end(first).await;
    let failed = backend_pid(db.clone()).await;
    // Unless the checkout checked it after all: idle past the window, or another test's
    // server stopped since the connection opened (the record of a stop is process-wide).
    if used.elapsed() < shared::db::PG_CHECK_IF_IDLE_FOR
        && !shared::db::runtime_stopped_since(opened)
    {
        // Answered 503 (the database is unavailable to this request), not 500.
        let err = AppError::from(failed.expect_err("a dead connection answered"));
        assert!(matches!(err, AppError::Unavailable(_)), "{err:?}");
    }
    let second = backend_pid(db.clone()).await.unwrap();
    assert_ne!(second, first);

    // Idle past the window: checked at checkout, replaced, nothing fails.
    end(second).await;
    tokio::time::sleep(shared::db::PG_CHECK_IF_IDLE_FOR + std::time::Duration::from_millis(100))
        .await;
    let third = backend_pid(db.clone()).await.unwrap();
    assert_ne!(third, second);
}

/// The entities' column types as PostgreSQL names them, beside the migrated tables' own: the
/// type of a `CAST(NULL AS …)` that `shared::db::null_of` writes for the column (the padding
/// of a `UNION ALL` branch, which PostgreSQL matches type by type), and the column's.
async fn column_type_mismatches<E: sea_orm::EntityTrait>(db: &impl ConnectionTrait) -> Vec<String> {
    use sea_orm::sea_query::{Alias, Expr, Func, JoinType, Query};
    use sea_orm::{ColumnTrait, DbBackend, IdenStatic, Iterable};

    let table = Alias::new("t");
    let mut select = Query::select();
    let columns: Vec<E::Column> = E::Column::iter().collect();
    for column in &columns {
        let padding = shared::db::null_of(DbBackend::Postgres, column.def().get_column_type());
        for expr in [padding, Expr::col((table.clone(), *column))] {
            select.expr(Func::cast_as(
                Func::cust("pg_typeof").arg(expr),
                Alias::new("TEXT"),
            ));
        }
    }
    // One row even when the table is empty: its columns' `NULL`s keep their types.
    select
        .from_subquery(
            Query::select().expr(Expr::val(1)).to_owned(),
            Alias::new("one"),
        )
        .join_as(JoinType::LeftJoin, E::default(), table, Expr::cust("false"));
    let row = db.query_one(&select).await.unwrap().expect("one row");
    let mut mismatches = Vec::new();
    for (i, column) in columns.iter().enumerate() {
        let entity: String = row.try_get_by_index(2 * i).unwrap();
        let table: String = row.try_get_by_index(2 * i + 1).unwrap();
        if entity != table {
            mismatches.push(format!(
                "{}.{}: the entity says {entity}, the table has {table}",
                E::default().table_name(),
                column.as_str()
            ));
        }
    }
    mismatches
}

#[tokio::test]
async fn every_entity_column_has_its_tables_type_on_postgresql() {
    let app = spawn_app().await;
    if app.db.get_database_backend() != sea_orm::DbBackend::Postgres {
        // SQLite's values carry their own types: no padding is typed there.
        return;
    }
    use entity::planning::{
        assignment, availability, collaborator, holiday, job_role, leave, rule, shift,
        shift_template, site, skill, team,
    };
    use entity::*;
    let db = &app.db;
    let mut mismatches = Vec::new();
    let mut checked = std::collections::BTreeSet::new();
    macro_rules! check {
        ($($entity:ident),* $(,)?) => {
            $(
                mismatches.extend(column_type_mismatches::<$entity::Entity>(db).await);
                checked.insert(sea_orm::EntityName::table_name(&$entity::Entity).to_owned());
            )*
        };
    }
    check!(
        api_token,
        audit_log,
        auth_token,
        chantier,
        company,
        document,
        document_share,
        idempotency_key,
        invoice,
        invoice_line,
        job,
        job_log,
        notification,
        outbox_email,
        payment,
        project,
        project_comment,
        project_event,
        recovery_code,
        refresh_token,
        session,
        ticket,
        ticket_attachment,
        ticket_counter,
        ticket_export,
        ticket_history,
        ticket_message,
        two_factor_challenge,
        user,
        site,
        skill,
        team,
        job_role,
        collaborator,
        availability,
        leave,
        holiday,
        shift_template,
        shift,
        assignment,
        rule,
    );
    assert!(mismatches.is_empty(), "{mismatches:#?}");

    // Every other table is read by SQL alone (counts kept by triggers, numbering, the
    // migrations' record): a table of a new entity must join the list above.
    const WITHOUT_ENTITY: [&str; 8] = [
        "invoice_counters",
        "seaql_migrations",
        "ticket_count_changes",
        "ticket_counts",
        "ticket_day_count_changes",
        "ticket_day_counts",
        "ticket_sla_hour_count_changes",
        "ticket_sla_hour_counts",
    ];
    let tables = db
        .query_all_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        ))
        .await
        .unwrap();
    let unchecked: Vec<String> = tables
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .filter(|table| !checked.contains(table) && !WITHOUT_ENTITY.contains(&table.as_str()))
        .collect();
    assert!(
        unchecked.is_empty(),
        "tables no entity checks: {unchecked:?}"
    );
}
