//! `companies`: client companies, suppliers and partners. A client user belongs to one; a
//! revendeur brings some (`revendeur_id`).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum CompanyType {
    #[sea_orm(string_value = "client")]
    Client,
    #[sea_orm(string_value = "supplier")]
    Supplier,
    #[sea_orm(string_value = "partner")]
    Partner,
}

/// What kind of customer a client company is (seed 003's `type`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    #[sea_orm(string_value = "entreprise")]
    Entreprise,
    #[sea_orm(string_value = "particulier")]
    Particulier,
    #[sea_orm(string_value = "collectivite")]
    Collectivite,
    #[sea_orm(string_value = "association")]
    Association,
}

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "companies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub company_type: CompanyType,
    /// The revendeur who brought this company, if any.
    pub revendeur_id: Option<Uuid>,
    /// For a client: `entreprise`, `particulier`, `collectivite` or `association`.
    pub client_kind: Option<ClientKind>,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub address: Option<String>,
    pub city: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

/// A new client company: a name, the rest to be filled in.
#[must_use]
pub fn new_client(name: &str, kind: Option<ClientKind>) -> ActiveModel {
    use sea_orm::ActiveValue::Set;
    let now = chrono::Utc::now();
    ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.trim().to_owned()),
        company_type: Set(CompanyType::Client),
        revendeur_id: Set(None),
        client_kind: Set(kind),
        email: Set(None),
        phone: Set(None),
        address: Set(None),
        city: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}
