//! SQLite: the companies' and chantiers' names beside their ids in an index of their own, so the
//! ticket list reads each row's client and chantier names from an index alone. A page of 100
//! tickets looks up 200 names: through the primary key's index each lookup found the row's
//! rowid there, then the row in the table, a second b-tree walk (about 8 % of the list's server
//! CPU in its profile, bench/RESULTS.md item 44). SQLite's planner prefers the unique index of
//! the primary key to these without statistics, so the list names them (`INDEXED BY`, see
//! `shared::db::indexed_by`). PostgreSQL's plans of the list are left as they are (item 37):
//! it gets no such index.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::helpers::{iden, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
    Name,
}

#[derive(DeriveIden)]
enum Chantiers {
    Table,
    Id,
    Nom,
}

/// The index of the companies' ids and names (the list's `INDEXED BY` names it).
pub const COMPANY_NAMES: &str = "idx-companies-id-name";
/// The index of the chantiers' ids and names.
pub const CHANTIER_NAMES: &str = "idx-chantiers-id-nom";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        index(
            manager,
            COMPANY_NAMES,
            Companies::Table,
            vec![iden(Companies::Id), iden(Companies::Name)],
            false,
        )
        .await?;
        index(
            manager,
            CHANTIER_NAMES,
            Chantiers::Table,
            vec![iden(Chantiers::Id), iden(Chantiers::Nom)],
            false,
        )
        .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
