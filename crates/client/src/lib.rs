//! The client portal (`/api/client`, seed 001): a client company's projects (comments, files,
//! timeline, the status changes a client may ask for), documents (upload, preview, share
//! links), invoices with their PDF, payments, balance and ledger, a dashboard, notifications
//! and support tickets (the same tickets staff work in `/api/tickets-client`).
//!
//! Only `client` accounts reach it, and every service function takes the caller's company:
//! another company's object answers 404. Public share links are served under
//! `/api/public/shares`.

pub mod caller;
pub mod dashboard;
pub mod demo;
pub mod documents;
pub mod finance;
pub mod invoices;
pub mod notifications;
pub mod payments;
pub mod projects;
pub mod shares;
pub mod support;
pub mod text;

use entity::Role;
use shared::clock::Clock;
use shared::config::{Config, Seller};
use shared::storage::Storage;
use utoipa_actix_web::scope as doc_scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub use caller::ClientUser;

/// What the client routes share (as `web::Data<ClientState>`).
#[derive(Debug, Clone)]
pub struct ClientState {
    pub clock: Clock,
    pub storage: Storage,
    /// Who issues the invoices.
    pub seller: Seller,
    /// The currency invoices and payments are in.
    pub currency: String,
    /// Where people reach the product (share links point there).
    pub public_url: String,
    /// Reads on the request's own thread, for an SQLite file (`None` otherwise).
    pub inline_reads: Option<std::sync::Arc<shared::db::InlineReads>>,
}

impl ClientState {
    #[must_use]
    pub fn from_config(config: &Config, clock: Clock, storage: Storage) -> Self {
        Self {
            clock,
            storage,
            seller: config.seller.clone(),
            currency: config.default_currency.clone(),
            public_url: config.public_url.trim_end_matches('/').to_owned(),
            inline_reads: shared::db::InlineReads::for_url(&config.database_url),
        }
    }

    /// Today (UTC).
    #[must_use]
    pub fn today(&self) -> chrono::NaiveDate {
        self.clock.now().date_naive()
    }
}

/// Path prefix of the public share links (their own strict rate-limit bucket per address, so
/// passwords cannot be guessed at speed).
pub const SHARE_PREFIX: &str = "/api/public/shares";

/// Mount `/api/client` (client accounts only) and the public share-link routes.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(
        doc_scope::scope("/api/client")
            .wrap(auth::RequireRole(Role::Client))
            // Fixed paths before `/{id}`.
            .service(projects::stats)
            .service(projects::list)
            .service(projects::get)
            .service(projects::comment)
            .service(projects::files)
            .service(projects::upload)
            .service(projects::timeline)
            .service(projects::change_status)
            .service(documents::categories)
            .service(documents::upload)
            .service(documents::list)
            .service(documents::get)
            .service(documents::delete)
            .service(documents::download)
            .service(documents::preview)
            .service(documents::share)
            .service(invoices::list)
            .service(invoices::get)
            .service(invoices::download_pdf)
            .service(payments::list)
            .service(payments::create)
            .service(finance::balance)
            .service(finance::transactions)
            .service(finance::summary)
            .service(dashboard::stats)
            .service(dashboard::activity)
            .service(notifications::read_all)
            .service(notifications::list)
            .service(notifications::read)
            .service(support::create)
            .service(support::list),
    )
    .service(
        doc_scope::scope(SHARE_PREFIX)
            .service(shares::download)
            .service(shares::unlock),
    );
}
