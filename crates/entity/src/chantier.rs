//! `chantiers`: construction sites, each attached to a client company (seed 003).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What is being built.
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
pub enum ChantierType {
    #[sea_orm(string_value = "construction")]
    Construction,
    #[sea_orm(string_value = "renovation")]
    Renovation,
    #[sea_orm(string_value = "genie_civil")]
    GenieCivil,
    #[sea_orm(string_value = "amenagement")]
    Amenagement,
    #[sea_orm(string_value = "demolition")]
    Demolition,
    #[sea_orm(string_value = "maintenance")]
    Maintenance,
}

/// Where the site stands.
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
pub enum ChantierStatut {
    #[sea_orm(string_value = "planifie")]
    Planifie,
    #[sea_orm(string_value = "en_cours")]
    EnCours,
    #[sea_orm(string_value = "suspendu")]
    Suspendu,
    #[sea_orm(string_value = "termine")]
    Termine,
    #[sea_orm(string_value = "annule")]
    Annule,
}

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "chantiers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The client company the site is for.
    pub client_id: Uuid,
    pub nom: String,
    pub chantier_type: ChantierType,
    #[sea_orm(column_type = "Text")]
    pub adresse: Option<String>,
    pub ville: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub statut: ChantierStatut,
    pub date_debut: Option<Date>,
    pub date_fin: Option<Date>,
    /// Minor units of `currency`.
    pub budget_cents: Option<i64>,
    pub currency: String,
    /// 0..=100.
    pub avancement: i32,
    pub responsable: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
