//! The four roles of the platform.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Who a user is on the platform; each portal scope admits one role.
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
pub enum Role {
    #[sea_orm(string_value = "client")]
    Client,
    #[sea_orm(string_value = "prestataire")]
    Prestataire,
    #[sea_orm(string_value = "revendeur")]
    Revendeur,
    #[sea_orm(string_value = "superadmin")]
    Superadmin,
}

impl Role {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Prestataire => "prestataire",
            Self::Revendeur => "revendeur",
            Self::Superadmin => "superadmin",
        }
    }

    #[must_use]
    pub fn all() -> [Role; 4] {
        [
            Self::Client,
            Self::Prestataire,
            Self::Revendeur,
            Self::Superadmin,
        ]
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
