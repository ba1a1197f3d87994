//! Statement builders the migrations share: named foreign keys, indexes, column lists.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// A named foreign key from `from` (table, column) to `to` (table, column).
pub fn fk(
    name: &str,
    from: (impl IntoIden + 'static, impl IntoIden + 'static),
    to: (impl IntoIden + 'static, impl IntoIden + 'static),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .to_owned()
}

/// Create a named index over `columns` of `table`.
///
/// # Errors
/// The database refused the statement.
pub async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + 'static,
    columns: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut statement = Index::create();
    statement.name(name).table(table);
    for column in columns {
        statement.col(column);
    }
    if unique {
        statement.unique();
    }
    manager.create_index(statement.to_owned()).await
}

/// Replace the index `old` of `table` by `new` over `columns` (not unique). The new one is
/// built before the old one goes, so the reads the old one served have an index throughout.
///
/// # Errors
/// The database refused a statement.
pub async fn replace_index(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + 'static,
    old: &str,
    new: &str,
    columns: Vec<DynIden>,
) -> Result<(), DbErr> {
    let table = table.into_iden();
    index(manager, new, table.clone(), columns, false).await?;
    manager
        .drop_index(Index::drop().name(old).table(table).to_owned())
        .await
}

/// Run `statements` (raw SQL) in order, on the migration's connection (in its transaction).
///
/// # Errors
/// The database refused a statement; the ones after it do not run.
pub async fn run_all(
    manager: &SchemaManager<'_>,
    statements: impl IntoIterator<Item = impl AsRef<str>>,
) -> Result<(), DbErr> {
    let connection = manager.get_connection();
    for statement in statements {
        connection.execute_unprepared(statement.as_ref()).await?;
    }
    Ok(())
}

/// A column name for [`index`]'s list.
pub fn iden(i: impl IntoIden) -> DynIden {
    i.into_iden()
}

/// The column types and table suffix of a kept-count table (raw SQL): a short text key of
/// `key_len` characters, a 64-bit count, and on SQLite a table clustered on its key.
pub fn kept_table_types(backend: DbBackend, key_len: u32) -> (String, &'static str, &'static str) {
    if backend == DbBackend::Postgres {
        (format!("varchar({key_len})"), "bigint", "")
    } else {
        ("text".to_owned(), "integer", " WITHOUT ROWID")
    }
}

/// The triggers that keep a count of `tickets` as change rows (raw SQL): on every insert the
/// new row's `changes(row, +1)`, on every delete the old row's `changes(row, -1)`, and on an
/// update of `columns` for which `changed(old, new, distinct)` holds, both. `changes` gives the
/// statements (each ending with `;`) for `row` (`new`/`old`, `NEW`/`OLD` on PostgreSQL);
/// `distinct` is the backend's null-safe "differs". Named `tickets_{name}_*` (and the
/// PostgreSQL function `presta_ticket_{name}`).
pub fn count_triggers(
    backend: DbBackend,
    name: &str,
    columns: &str,
    changes: impl Fn(&str, i32) -> String,
    changed: impl Fn(&str, &str, &str) -> String,
) -> Vec<String> {
    row_triggers(
        backend,
        "tickets",
        &format!("tickets_{name}"),
        &format!("presta_ticket_{name}"),
        columns,
        changes,
        changed,
    )
}

/// [`count_triggers`] on any `table`: triggers named `{name}_*`, and on PostgreSQL the
/// function `function`.
pub fn row_triggers(
    backend: DbBackend,
    table: &str,
    name: &str,
    function: &str,
    columns: &str,
    changes: impl Fn(&str, i32) -> String,
    changed: impl Fn(&str, &str, &str) -> String,
) -> Vec<String> {
    if backend == DbBackend::Postgres {
        return vec![
            format!(
                "CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN \
                   IF TG_OP <> 'INSERT' THEN {} END IF; \
                   IF TG_OP <> 'DELETE' THEN {} END IF; \
                   RETURN NULL; \
                 END $$",
                changes("OLD", -1),
                changes("NEW", 1)
            ),
            format!(
                "CREATE TRIGGER {name}_insert_delete AFTER INSERT OR DELETE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION {function}()"
            ),
            format!(
                "CREATE TRIGGER {name}_update AFTER UPDATE OF {columns} ON {table} \
                 FOR EACH ROW WHEN ({}) EXECUTE FUNCTION {function}()",
                changed("OLD", "NEW", "IS DISTINCT FROM")
            ),
        ];
    }
    vec![
        format!(
            "CREATE TRIGGER {name}_insert AFTER INSERT ON {table} BEGIN {} END",
            changes("new", 1)
        ),
        format!(
            "CREATE TRIGGER {name}_delete AFTER DELETE ON {table} BEGIN {} END",
            changes("old", -1)
        ),
        format!(
            "CREATE TRIGGER {name}_update AFTER UPDATE OF {columns} ON {table} \
             WHEN {} BEGIN {} {} END",
            changed("old", "new", "IS NOT"),
            changes("old", -1),
            changes("new", 1)
        ),
    ]
}
