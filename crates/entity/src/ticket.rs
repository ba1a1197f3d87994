//! `tickets`: customer support tickets about construction sites (seed 003), numbered
//! `TC-<year>-<seq>`, with their SLA clock materialised for SQL filtering.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum,
            Serialize, Deserialize, utoipa::ToSchema,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
        // `rename_all` rather than a per-variant `rename = $value`: utoipa does not see renames
        // passed through a macro fragment. The test below keeps the two spellings equal.
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $(
                #[sea_orm(string_value = $value)]
                $variant,
            )+
        }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $value,)+
                }
            }

            /// The variant spelled `value` in the database and the API.
            #[must_use]
            pub fn parse(value: &str) -> Option<Self> {
                match value {
                    $($value => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// Where a ticket stands. The SLA clock runs in `nouveau` and `en_cours` and is paused in the
    /// others (`en_attente`: waiting on the client).
    TicketStatus {
        Nouveau = "nouveau",
        EnCours = "en_cours",
        EnAttente = "en_attente",
        Resolu = "resolu",
        Ferme = "ferme",
    }
}

string_enum! {
    /// How urgent; each has its SLA targets.
    TicketPriority {
        Critique = "critique",
        Haute = "haute",
        Normale = "normale",
        Basse = "basse",
    }
}

string_enum! {
    /// What the ticket is about.
    TicketCategorie {
        Securite = "securite",
        Qualite = "qualite",
        Delais = "delais",
        Travaux = "travaux",
        Facturation = "facturation",
        Autre = "autre",
    }
}

impl TicketStatus {
    /// Does the SLA clock run in this status?
    #[must_use]
    pub fn clock_runs(self) -> bool {
        matches!(self, Self::Nouveau | Self::EnCours)
    }

    /// Done with (resolved or closed).
    #[must_use]
    pub fn is_done(self) -> bool {
        matches!(self, Self::Resolu | Self::Ferme)
    }
}

impl TicketPriority {
    /// 0 = most urgent (for sorting).
    #[must_use]
    pub fn rank(self) -> i32 {
        match self {
            Self::Critique => 0,
            Self::Haute => 1,
            Self::Normale => 2,
            Self::Basse => 3,
        }
    }
}

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `TC-2026-001`.
    #[sea_orm(unique)]
    pub numero: String,
    /// Year and sequence of `numero` (unique together).
    pub annee: i32,
    pub sequence: i32,
    pub titre: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub status: TicketStatus,
    pub priority: TicketPriority,
    pub categorie: TicketCategorie,
    /// The client company.
    pub client_id: Uuid,
    pub chantier_id: Option<Uuid>,
    /// Who handles it (a name, as in the seed) and, when it is a user of the platform, which.
    pub responsable: Option<String>,
    pub responsable_id: Option<Uuid>,
    /// Lower-case tags (JSON array of strings).
    #[sea_orm(column_type = "JsonBinary")]
    pub tags: Json,
    pub escalation_level: i32,
    pub created_by: Option<Uuid>,
    pub date_creation: DateTimeUtc,
    pub date_modification: DateTimeUtc,
    /// Resolution deadline (moves later by the time spent paused).
    pub date_limite: DateTimeUtc,
    /// When the resolution budget reaches the warning share.
    pub sla_warning_at: DateTimeUtc,
    /// First-response deadline and its warning point.
    pub sla_response_due: DateTimeUtc,
    pub sla_response_warning_at: DateTimeUtc,
    pub first_response_at: Option<DateTimeUtc>,
    /// The first-response SLA level (0 ok, 1 warning, 2 breach), fixed once answered.
    pub sla_response_level: Option<i32>,
    /// Start of the current pause of the clock, if paused.
    pub sla_paused_since: Option<DateTimeUtc>,
    /// Last SLA level announced (0 ok, 1 warning, 2 breach), so each is announced once.
    pub sla_notified_level: i32,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text")]
    pub motif_cloture: Option<String>,
    /// 1..=5, given by the client when closing.
    pub note_satisfaction: Option<i32>,
}

impl ActiveModelBehavior for ActiveModel {}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::PartialSchema;

    fn check<T: Serialize + PartialSchema + PartialEq + std::fmt::Debug>(
        all: &[T],
        as_str: impl Fn(&T) -> &'static str,
        parse: impl Fn(&str) -> Option<T>,
    ) {
        let schema = serde_json::to_value(T::schema()).unwrap_or_default();
        let documented: Vec<&str> = schema["enum"]
            .as_array()
            .map(|values| values.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        let spelled: Vec<&str> = all.iter().map(&as_str).collect();
        assert_eq!(documented, spelled, "the OpenAPI enum");
        for value in all {
            assert_eq!(
                serde_json::to_value(value).unwrap_or_default(),
                serde_json::Value::from(as_str(value)),
                "JSON and SQL spell it alike"
            );
            assert_eq!(parse(as_str(value)).as_ref(), Some(value), "read back");
        }
        assert_eq!(parse("nope"), None);
    }

    #[test]
    fn json_sql_and_openapi_spell_the_values_alike() {
        check(TicketStatus::ALL, |v| v.as_str(), TicketStatus::parse);
        check(TicketPriority::ALL, |v| v.as_str(), TicketPriority::parse);
        check(TicketCategorie::ALL, |v| v.as_str(), TicketCategorie::parse);
    }
}
