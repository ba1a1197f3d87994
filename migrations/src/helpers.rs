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
