//! `documents`: files of a client company (contracts, quotes, plans, reports...), optionally
//! attached to a project.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What a document is.
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
pub enum DocumentCategory {
    #[sea_orm(string_value = "contract")]
    Contract,
    #[sea_orm(string_value = "quote")]
    Quote,
    #[sea_orm(string_value = "invoice")]
    Invoice,
    #[sea_orm(string_value = "plan")]
    Plan,
    #[sea_orm(string_value = "report")]
    Report,
    #[sea_orm(string_value = "photo")]
    Photo,
    #[sea_orm(string_value = "deliverable")]
    Deliverable,
    #[sea_orm(string_value = "other")]
    Other,
}

impl DocumentCategory {
    pub const ALL: [Self; 8] = [
        Self::Contract,
        Self::Quote,
        Self::Invoice,
        Self::Plan,
        Self::Report,
        Self::Photo,
        Self::Deliverable,
        Self::Other,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contract => "contract",
            Self::Quote => "quote",
            Self::Invoice => "invoice",
            Self::Plan => "plan",
            Self::Report => "report",
            Self::Photo => "photo",
            Self::Deliverable => "deliverable",
            Self::Other => "other",
        }
    }

    /// The name shown to people (French, as the rest of the product).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Contract => "Contrats",
            Self::Quote => "Devis",
            Self::Invoice => "Factures",
            Self::Plan => "Plans",
            Self::Report => "Rapports",
            Self::Photo => "Photos",
            Self::Deliverable => "Livrables",
            Self::Other => "Autres",
        }
    }
}

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub company_id: Uuid,
    pub project_id: Option<Uuid>,
    pub name: String,
    pub category: DocumentCategory,
    #[sea_orm(column_type = "Text")]
    pub description: Option<String>,
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    pub sha256: String,
    pub storage_key: String,
    /// The client user who uploaded it (`None` once that account is gone, or for the
    /// business's own documents).
    pub uploaded_by: Option<Uuid>,
    /// Uploaded by someone of the client company (it may delete it), rather than provided by
    /// the business; kept when the uploader's account is deleted.
    pub uploaded_by_client: bool,
    pub uploader_name: Option<String>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
