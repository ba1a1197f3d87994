//! Tickets-Clients BTP (seed 003): support tickets about construction sites with SLA clocks,
//! messages, attachments, history, search, statistics, exports and bulk actions; the client
//! companies and chantiers they concern; and the `/ws/tickets-client` live feed.
//!
//! Staff (superadmins) see everything. A client user sees its own company's tickets, clients and
//! chantiers — another company's answer 404 — and never internal messages. The client portal
//! creates and lists the same tickets through [`tickets::service`].

pub mod attachments;
pub mod bulk;
pub mod chantiers;
pub mod clients;
pub mod counts;
pub mod events;
pub mod export;
pub mod files;
pub mod filters;
pub mod history;
pub mod messages;
pub mod scope;
pub mod search;
pub mod sla;
pub mod sla_scan;
pub mod stats;
pub mod tickets;
pub mod ws;

use std::sync::Arc;
use std::time::Duration;

use shared::clock::Clock;
use shared::config::Config;
use shared::events::EventBus;
use shared::jobs::JobRegistry;
use shared::signed_url::UrlSigner;
use shared::storage::Storage;
use utoipa_actix_web::scope as doc_scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub use scope::{Caller, Scope};

/// Shared by the tickets routes and jobs (as `web::Data<TicketsState>`).
#[derive(Debug, Clone)]
pub struct TicketsState {
    pub clock: Clock,
    pub sla: sla::SlaPolicy,
    pub signer: UrlSigner,
    pub bus: EventBus,
    pub storage: Storage,
    /// How long `POST /export` waits for the file before answering 202.
    pub export_wait: Duration,
    pub export_ttl: Duration,
    pub download_link_ttl: Duration,
    pub default_currency: String,
    /// Where people reach the product (links in e-mails).
    pub public_url: String,
    /// How often an open feed checks that its credential still holds.
    pub ws_recheck: Duration,
    /// New tickets, written in batches (group commit).
    pub creations: tickets::creation::Creations,
    /// A ticket's detail read on the request's own thread, for an SQLite file (`None`
    /// otherwise).
    pub inline_reads: Option<Arc<shared::db::InlineReads>>,
}

impl TicketsState {
    /// # Errors
    /// The SLA targets do not cover every priority (a message naming it).
    pub fn from_config(
        config: &Config,
        clock: Clock,
        bus: EventBus,
        storage: Storage,
    ) -> Result<Self, String> {
        Ok(Self {
            clock,
            sla: sla::SlaPolicy::from_config(&config.sla_targets, config.sla_warning_percent)?,
            signer: UrlSigner::from_config(config),
            bus,
            storage,
            export_wait: config.export_wait,
            export_ttl: config.export_ttl,
            download_link_ttl: config.download_link_ttl,
            default_currency: config.default_currency.clone(),
            public_url: config.public_url.clone(),
            ws_recheck: config.ws_recheck_interval,
            creations: tickets::creation::Creations::default(),
            inline_reads: shared::db::InlineReads::for_url(&config.database_url),
        })
    }
}

/// Register this crate's jobs: exports, and the SLA watch every `sla_scan_interval`.
pub fn register_jobs(
    registry: &mut JobRegistry,
    state: &Arc<TicketsState>,
    sla_scan_interval: Duration,
) {
    registry.register(
        export::EXPORT_JOB,
        Arc::new(export::ExportJob {
            state: Arc::clone(state),
        }),
    );
    registry.register_recurring(
        sla_scan::SLA_SCAN_JOB,
        Arc::new(sla_scan::SlaScanJob {
            state: Arc::clone(state),
        }),
        sla_scan_interval,
    );
}

/// Mount `/api/tickets-client`, `/api/clients`, `/api/chantiers` and `/ws/tickets-client`.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(
        doc_scope::scope("/api/tickets-client")
            // Fixed paths first: `/{id}` would otherwise take them.
            .service(stats::stats)
            .service(search::search)
            .service(export::create_export)
            .service(bulk::bulk)
            .service(files::download_attachment)
            .service(files::download_export)
            .service(tickets::list)
            .service(tickets::create)
            .service(tickets::get)
            .service(tickets::update)
            .service(tickets::action)
            .service(messages::list)
            .service(messages::create)
            .service(attachments::upload),
    )
    .service(
        doc_scope::scope("/api/clients")
            .service(clients::list)
            .service(clients::create)
            .service(clients::get)
            .service(clients::update),
    )
    .service(
        doc_scope::scope("/api/chantiers")
            .service(chantiers::list)
            .service(chantiers::create)
            .service(chantiers::get)
            .service(chantiers::update),
    )
    .service(ws::feed);
}
