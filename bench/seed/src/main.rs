//! `presta-seed`: fills a Presta database with realistic data for the load benchmark.
//!
//! It writes rows straight through the entities (so the same program serves SQLite and
//! PostgreSQL) in large transactions, with what the services would have written: client
//! companies, their chantiers, tickets numbered `TC-<year>-<seq>` over the past year with a
//! believable mix of priorities, categories and statuses, their status history, a first staff
//! answer where one was given, and SLA deadlines materialised by the tickets crate's own
//! [`SlaPolicy`] from that history. Runs are reproducible (`--seed`).
//!
//! ```sh
//! DATABASE_URL=sqlite://data/presta.db?mode=rwc cargo run --release -p bench-seed -- --tickets 100000
//! ```

mod planning;
mod portal;
mod scale;

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, Duration, Utc};
use clap::Parser;
use entity::chantier::{self, ChantierStatut, ChantierType};
use entity::company::{self, ClientKind};
use entity::ticket::{self, TicketCategorie, TicketPriority, TicketStatus};
use entity::{ticket_counter, ticket_history, ticket_message};
use migration::MigratorTrait;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, Database, DatabaseConnection, EntityTrait, TransactionTrait};
use tickets::sla::{SlaPolicy, Timeline};
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(
    name = "presta-seed",
    about = "Fill a Presta database with benchmark data"
)]
struct Args {
    /// The database to fill (migrated first if needed).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Client companies.
    #[arg(long, default_value_t = 1_000)]
    companies: u32,
    /// Chantiers per company.
    #[arg(long, default_value_t = 3)]
    chantiers_per_company: u32,
    /// Tickets, created over the past year.
    #[arg(long, default_value_t = 100_000)]
    tickets: u32,
    /// Tickets per transaction.
    #[arg(long, default_value_t = 2_000)]
    batch: usize,
    /// Seed of the pseudo-random choices (same seed, same data).
    #[arg(long, default_value_t = 20_261_122)]
    seed: u64,
    /// Planning PRO shifts in the week of 2027-03-01 on the first ten chantiers, staffed by
    /// the auto-assign solver (0: none).
    #[arg(long, default_value_t = 0)]
    planning_shifts: usize,
    /// Prestataire users to plan with `--planning-shifts`.
    #[arg(long, default_value_t = 400)]
    planning_people: usize,
    /// Client projects (the bench company gets `--bench-projects` of them).
    #[arg(long, default_value_t = 10_000)]
    projects: u32,
    /// Invoices with their lines and payments (the bench company gets `--bench-invoices`).
    #[arg(long, default_value_t = 50_000)]
    invoices: u32,
    /// Projects of the bench company (the first one).
    #[arg(long, default_value_t = 400)]
    bench_projects: u32,
    /// Invoices of the bench company.
    #[arg(long, default_value_t = 1_000)]
    bench_invoices: u32,
    /// Prestataire and revendeur accounts (besides one client account per company).
    #[arg(long, default_value_t = 50)]
    prestataires: u32,
    #[arg(long, default_value_t = 20)]
    revendeurs: u32,
    /// The bench company's client account, and the password of every seeded account.
    #[arg(long, default_value = "bench-client@presta.local")]
    bench_email: String,
    #[arg(long, env = "BENCH_PASSWORD")]
    bench_password: Option<String>,
    /// Instead of seeding: copy the tickets there are by SQL until there are this many (the
    /// scale scenario), then refresh PostgreSQL's statistics.
    #[arg(long)]
    grow_tickets: Option<i64>,
    /// Instead of seeding: show the plans of the benchmark's filtered ticket list (count and
    /// page of 100, as the tickets crate builds them) and time them.
    #[arg(long)]
    explain_list: bool,
    /// Instead of seeding: show the plan of this SQL statement (SQLite's `EXPLAIN QUERY PLAN`,
    /// PostgreSQL's `EXPLAIN ANALYZE`), run it and print its time, to study the queries.
    #[arg(long)]
    explain: Option<String>,
}

/// A line of a report on standard output (printing is its purpose).
#[allow(clippy::print_stdout)]
fn print_line(line: &str) {
    println!("{line}");
}

/// `--explain`: the plan of `sql` and how long it takes (printing is its purpose).
#[allow(clippy::print_stdout)]
async fn explain(db: &DatabaseConnection, sql: &str) -> Result<()> {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = db.get_database_backend();
    let prefix = match backend {
        sea_orm::DbBackend::Postgres => "EXPLAIN (ANALYZE, BUFFERS) ",
        _ => "EXPLAIN QUERY PLAN ",
    };
    for row in db
        .query_all_raw(Statement::from_string(backend, format!("{prefix}{sql}")))
        .await?
    {
        let line: String = row
            .try_get_by_index::<String>(0)
            .or_else(|_| row.try_get_by_index::<String>(3))?;
        println!("{line}");
    }
    let started = Instant::now();
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql.to_owned()))
        .await?;
    println!(
        "{} rows in {:.2} ms",
        rows.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}

/// splitmix64: small, fast and reproducible; nothing here needs cryptographic randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    /// A uniform number in [0, 1).
    fn unit(&mut self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let value = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        value
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// With probability `p`, one of `items` (none when there are none).
    fn maybe_pick<T: Copy>(&mut self, items: Option<&Vec<T>>, p: f64) -> Option<T> {
        items
            .filter(|_| self.chance(p))
            .map(|items| *self.pick(items))
    }

    /// One of `items`, each with its weight.
    fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut draw = u32::try_from(self.below(total as usize)).unwrap_or(0);
        for (item, weight) in items {
            if draw < *weight {
                return *item;
            }
            draw -= weight;
        }
        items[0].0
    }

    /// A span of `max` scaled by a uniform draw.
    fn span(&mut self, max: Duration) -> Duration {
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let seconds = (max.num_seconds() as f64 * self.unit()) as i64;
        Duration::seconds(seconds)
    }
}

const COMPANY_WORDS: &[&str] = &[
    "Bâtir",
    "Construction",
    "Habitat",
    "Rénov",
    "Génie",
    "Structures",
    "Charpente",
    "Maçonnerie",
    "Toiture",
    "Terrassement",
    "Aménagement",
    "Immobilier",
    "Promotion",
    "Travaux",
    "Ouvrages",
];
const COMPANY_PLACES: &[&str] = &[
    "Sahel",
    "Atlantique",
    "Provence",
    "Alpes",
    "Bretagne",
    "Loire",
    "Dakar",
    "Lyon",
    "Nord",
    "Océan",
    "Plateau",
    "Vallée",
    "Cap",
    "Rhône",
    "Garonne",
];
const CITIES: &[&str] = &[
    "Paris",
    "Lyon",
    "Marseille",
    "Dakar",
    "Thiès",
    "Nantes",
    "Bordeaux",
    "Lille",
    "Toulouse",
    "Abidjan",
    "Rennes",
    "Grenoble",
];
const SITE_KINDS: &[&str] = &[
    "Résidence",
    "Immeuble",
    "École",
    "Centre commercial",
    "Entrepôt",
    "Pont",
    "Clinique",
    "Lotissement",
    "Gymnase",
    "Siège social",
];
const SITE_NAMES: &[&str] = &[
    "Les Jardins",
    "Horizon",
    "Les Acacias",
    "Belvédère",
    "Le Phare",
    "Les Tilleuls",
    "Émeraude",
    "La Corniche",
    "Les Baobabs",
    "Cap Vert",
    "Le Parc",
    "Saint-Louis",
];
const PROBLEMS: &[(&str, TicketCategorie)] = &[
    ("Échafaudage instable", TicketCategorie::Securite),
    ("Garde-corps manquant", TicketCategorie::Securite),
    ("Câbles électriques apparents", TicketCategorie::Securite),
    ("Absence de signalisation", TicketCategorie::Securite),
    ("Fissure sur mur porteur", TicketCategorie::Qualite),
    ("Infiltration d'eau", TicketCategorie::Qualite),
    ("Carrelage mal posé", TicketCategorie::Qualite),
    ("Enduit qui se décolle", TicketCategorie::Qualite),
    ("Retard de livraison du béton", TicketCategorie::Delais),
    ("Planning des finitions dépassé", TicketCategorie::Delais),
    ("Réception des travaux reportée", TicketCategorie::Delais),
    ("Modification de cloison demandée", TicketCategorie::Travaux),
    ("Ajout de prises électriques", TicketCategorie::Travaux),
    ("Reprise de la toiture", TicketCategorie::Travaux),
    ("Facture en double", TicketCategorie::Facturation),
    ("Acompte non déduit", TicketCategorie::Facturation),
    ("Écart sur le devis", TicketCategorie::Facturation),
    ("Demande d'information", TicketCategorie::Autre),
    ("Accès au chantier bloqué", TicketCategorie::Autre),
];
const PLACES: &[&str] = &[
    "bâtiment A",
    "bâtiment B",
    "sous-sol",
    "parking",
    "façade nord",
    "façade sud",
    "hall",
    "cage d'escalier",
    "troisième étage",
    "toiture",
    "local technique",
    "cour intérieure",
];
const DETAILS: &[&str] = &[
    "Constaté lors de la visite de ce matin.",
    "Le chef d'équipe a été prévenu mais rien n'a bougé.",
    "Photos disponibles sur demande.",
    "Merci d'intervenir avant la réunion de chantier.",
    "Le problème s'aggrave après chaque pluie.",
    "Les riverains se plaignent.",
    "À traiter avant la réception.",
    "Le bureau de contrôle l'a signalé.",
];
const RESPONSABLES: &[&str] = &[
    "Amadou Diallo",
    "Sophie Martin",
    "Jean Dupont",
    "Fatou Ndiaye",
    "Luc Bernard",
    "Claire Petit",
    "Moussa Sow",
    "Julie Moreau",
    "Ibrahima Fall",
    "Nicolas Laurent",
];
const TAGS: &[&str] = &[
    "urgent",
    "electricite",
    "plomberie",
    "gros-oeuvre",
    "finitions",
    "securite",
    "client-vip",
];
const ANSWERS: &[&str] = &[
    "Bien reçu, nous envoyons une équipe sur place.",
    "Le conducteur de travaux passe demain matin.",
    "Nous avons transmis au sous-traitant concerné.",
    "Pouvez-vous préciser l'emplacement exact ?",
];

fn uuid_at(at: DateTime<Utc>) -> Uuid {
    let seconds = u64::try_from(at.timestamp()).unwrap_or(0);
    Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        seconds,
        at.timestamp_subsec_nanos(),
    ))
}

struct Site {
    id: Uuid,
    client_id: Uuid,
}

async fn seed_companies(
    db: &DatabaseConnection,
    rng: &mut Rng,
    args: &Args,
    now: DateTime<Utc>,
) -> Result<(Vec<Uuid>, Vec<Site>)> {
    let mut companies = Vec::new();
    let mut sites = Vec::new();
    let mut company_rows = Vec::new();
    let mut site_rows = Vec::new();
    for i in 0..args.companies {
        let created = now - Duration::days(400) + Duration::minutes(i64::from(i));
        let name = format!(
            "{} {} {}",
            rng.pick(COMPANY_WORDS),
            rng.pick(COMPANY_PLACES),
            i + 1
        );
        let mut row = company::new_client(
            &name,
            Some(*rng.pick(&[
                ClientKind::Entreprise,
                ClientKind::Entreprise,
                ClientKind::Collectivite,
                ClientKind::Particulier,
                ClientKind::Association,
            ])),
        );
        let id = uuid_at(created);
        row.id = Set(id);
        row.city = Set(Some((*rng.pick(CITIES)).to_owned()));
        row.email = Set(Some(format!("contact{}@client{}.example", i + 1, i + 1)));
        row.created_at = Set(created);
        row.updated_at = Set(created);
        company_rows.push(row);
        companies.push(id);
        for s in 0..args.chantiers_per_company {
            let site_id = uuid_at(created + Duration::seconds(i64::from(s) + 1));
            site_rows.push(chantier::ActiveModel {
                id: Set(site_id),
                client_id: Set(id),
                nom: Set(format!("{} {}", rng.pick(SITE_KINDS), rng.pick(SITE_NAMES))),
                chantier_type: Set(*rng.pick(&[
                    ChantierType::Construction,
                    ChantierType::Renovation,
                    ChantierType::GenieCivil,
                    ChantierType::Amenagement,
                    ChantierType::Maintenance,
                ])),
                adresse: Set(Some(format!("{} rue des Artisans", rng.below(200) + 1))),
                ville: Set(Some((*rng.pick(CITIES)).to_owned())),
                latitude: Set(Some(43.0 + rng.unit() * 6.0)),
                longitude: Set(Some(-1.0 + rng.unit() * 7.0)),
                statut: Set(*rng.pick(&[
                    ChantierStatut::EnCours,
                    ChantierStatut::EnCours,
                    ChantierStatut::Planifie,
                    ChantierStatut::Termine,
                    ChantierStatut::Suspendu,
                ])),
                date_debut: Set(Some((created + Duration::days(30)).date_naive())),
                date_fin: Set(Some((created + Duration::days(700)).date_naive())),
                budget_cents: Set(Some(
                    i64::try_from(rng.below(50_000) + 500).unwrap_or(500) * 100_000,
                )),
                currency: Set("EUR".to_owned()),
                avancement: Set(i32::try_from(rng.below(101)).unwrap_or(0)),
                responsable: Set(Some((*rng.pick(RESPONSABLES)).to_owned())),
                created_at: Set(created),
                updated_at: Set(created),
            });
            sites.push(Site {
                id: site_id,
                client_id: id,
            });
        }
    }
    let txn = db.begin().await?;
    // SQLite allows 32,766 bound values per statement: 1,000 rows of up to 17 columns fit.
    for chunk in company_rows.chunks(1_000) {
        company::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    for chunk in site_rows.chunks(1_000) {
        chantier::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok((companies, sites))
}

/// The statuses a ticket went through, newest last, for its age.
fn statuses_for(rng: &mut Rng, age: Duration) -> Vec<TicketStatus> {
    use TicketStatus::{EnAttente, EnCours, Ferme, Nouveau, Resolu};
    let end = if age < Duration::days(2) {
        rng.weighted(&[(Nouveau, 60), (EnCours, 30), (EnAttente, 10)])
    } else if age < Duration::days(30) {
        rng.weighted(&[
            (Nouveau, 10),
            (EnCours, 35),
            (EnAttente, 15),
            (Resolu, 25),
            (Ferme, 15),
        ])
    } else {
        rng.weighted(&[
            (Nouveau, 2),
            (EnCours, 6),
            (EnAttente, 4),
            (Resolu, 18),
            (Ferme, 70),
        ])
    };
    match end {
        Nouveau => vec![],
        EnCours => vec![EnCours],
        EnAttente => vec![EnCours, EnAttente],
        Resolu => vec![EnCours, Resolu],
        Ferme => vec![EnCours, Resolu, Ferme],
    }
}

struct Batch {
    tickets: Vec<ticket::ActiveModel>,
    history: Vec<ticket_history::ActiveModel>,
    messages: Vec<ticket_message::ActiveModel>,
}

impl Batch {
    fn new() -> Self {
        Self {
            tickets: Vec::new(),
            history: Vec::new(),
            messages: Vec::new(),
        }
    }

    async fn flush(&mut self, db: &DatabaseConnection) -> Result<()> {
        if self.tickets.is_empty() {
            return Ok(());
        }
        let txn = db.begin().await?;
        // SQLite allows 32,766 bound values per statement: stay well under it.
        for chunk in std::mem::take(&mut self.tickets).chunks(500) {
            ticket::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
        for chunk in std::mem::take(&mut self.history).chunks(2_000) {
            ticket_history::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
        for chunk in std::mem::take(&mut self.messages).chunks(2_000) {
            ticket_message::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

fn history_row(
    ticket_id: Uuid,
    at: DateTime<Utc>,
    action: &str,
    description: String,
    change: Option<(&str, Option<String>, String)>,
) -> ticket_history::ActiveModel {
    let (field, old_value, new_value) = match change {
        Some((field, old, new)) => (Some(field.to_owned()), old, Some(new)),
        None => (None, None, None),
    };
    ticket_history::ActiveModel {
        id: Set(uuid_at(at)),
        ticket_id: Set(ticket_id),
        action: Set(action.to_owned()),
        description: Set(description),
        auteur: Set("Support Presta".to_owned()),
        author_id: Set(None),
        field: Set(field),
        old_value: Set(old_value),
        new_value: Set(new_value),
        interne: Set(false),
        created_at: Set(at),
    }
}

#[allow(clippy::too_many_lines)]
async fn seed_tickets(
    db: &DatabaseConnection,
    rng: &mut Rng,
    args: &Args,
    sites: &[Site],
    companies: &[Uuid],
    policy: &SlaPolicy,
    now: DateTime<Utc>,
) -> Result<BTreeMap<i32, i32>> {
    let start = now - Duration::days(365);
    let step_ms = (Duration::days(365).num_milliseconds() / i64::from(args.tickets.max(1))).max(1);
    let mut sequences: BTreeMap<i32, i32> = BTreeMap::new();
    let mut batch = Batch::new();
    for i in 0..args.tickets {
        let created = start
            + Duration::milliseconds(i64::from(i) * step_ms)
            + Duration::milliseconds(
                i64::try_from(rng.below(usize::try_from(step_ms).unwrap_or(1))).unwrap_or(0),
            );
        let age = now - created;
        let year = created.year();
        let sequence = sequences.entry(year).or_insert(0);
        *sequence += 1;
        let numero = format!("TC-{year}-{sequence:03}");
        let id = uuid_at(created);

        let (client_id, chantier_id) = if rng.chance(0.85) {
            let site = rng.pick(sites);
            (site.client_id, Some(site.id))
        } else {
            (*rng.pick(companies), None)
        };
        let (problem, categorie) = *rng.pick(PROBLEMS);
        let titre = format!("{problem} - {}", rng.pick(PLACES));
        let description = format!(
            "{problem} au niveau du {}. {} {}",
            rng.pick(PLACES),
            rng.pick(DETAILS),
            rng.pick(DETAILS)
        );
        let priority = rng.weighted(&[
            (TicketPriority::Critique, 5),
            (TicketPriority::Haute, 20),
            (TicketPriority::Normale, 55),
            (TicketPriority::Basse, 20),
        ]);
        let responsable = rng
            .chance(0.7)
            .then(|| (*rng.pick(RESPONSABLES)).to_owned());
        let mut tags: Vec<&str> = Vec::new();
        for _ in 0..rng.below(3) {
            let tag = *rng.pick(TAGS);
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }

        batch.history.push(history_row(
            id,
            created,
            "created",
            format!("Ticket {numero} créé"),
            None,
        ));
        // Transitions spread over the ticket's life so far, each before now.
        let statuses = statuses_for(rng, age);
        let mut transitions = Vec::new();
        let mut at = created;
        let mut previous = TicketStatus::Nouveau;
        let life = age.min(Duration::days(20));
        for status in &statuses {
            at += rng.span(life / 4) + Duration::minutes(5);
            at = at.min(now - Duration::minutes(1));
            transitions.push((at, *status));
            batch.history.push(history_row(
                id,
                at,
                tickets::history::STATUS_CHANGE,
                format!("Statut : {previous} → {status}"),
                Some(("status", Some(previous.to_string()), status.to_string())),
            ));
            previous = *status;
        }
        // The first staff answer comes with the ticket being taken in hand.
        let first_response_at = transitions.first().map(|(at, _)| *at);
        if let Some(answered) = first_response_at {
            batch.messages.push(ticket_message::ActiveModel {
                id: Set(uuid_at(answered)),
                ticket_id: Set(id),
                author_id: Set(None),
                auteur: Set("Support Presta".to_owned()),
                contenu: Set((*rng.pick(ANSWERS)).to_owned()),
                interne: Set(false),
                created_at: Set(answered),
            });
        }
        let timeline = Timeline {
            created_at: created,
            transitions: transitions.clone(),
            first_response_at,
        };
        let sla = policy.materialize(&timeline, priority);
        let reading = policy.read(&timeline, priority, now);
        let resolved_at = transitions
            .iter()
            .find(|(_, s)| *s == TicketStatus::Resolu)
            .map(|(at, _)| *at);
        let closed_at = transitions
            .iter()
            .find(|(_, s)| *s == TicketStatus::Ferme)
            .map(|(at, _)| *at);
        let status = statuses.last().copied().unwrap_or(TicketStatus::Nouveau);
        batch.tickets.push(ticket::ActiveModel {
            id: Set(id),
            numero: Set(numero),
            annee: Set(year),
            sequence: Set(*sequence),
            titre: Set(titre),
            description: Set(description),
            status: Set(status),
            priority: Set(priority),
            categorie: Set(categorie),
            client_id: Set(client_id),
            chantier_id: Set(chantier_id),
            responsable: Set(responsable),
            responsable_id: Set(None),
            tags: Set(serde_json::json!(tags)),
            escalation_level: Set(0),
            created_by: Set(None),
            date_creation: Set(created),
            date_modification: Set(transitions.last().map_or(created, |(at, _)| *at)),
            date_limite: Set(sla.date_limite),
            sla_warning_at: Set(sla.sla_warning_at),
            sla_response_due: Set(sla.sla_response_due),
            sla_response_warning_at: Set(sla.sla_response_warning_at),
            first_response_at: Set(first_response_at),
            sla_response_level: Set(sla.sla_response_level.map(|l| l.number())),
            sla_paused_since: Set(sla.sla_paused_since),
            // What the SLA watch would already have announced.
            sla_notified_level: Set(reading.level().number()),
            resolved_at: Set(resolved_at),
            closed_at: Set(closed_at),
            motif_cloture: Set(closed_at.map(|_| "Travaux repris et validés".to_owned())),
            note_satisfaction: Set(closed_at
                .filter(|_| rng.chance(0.6))
                .map(|_| i32::try_from(rng.below(5) + 1).unwrap_or(3))),
        });
        if batch.tickets.len() >= args.batch {
            batch.flush(db).await?;
        }
    }
    batch.flush(db).await?;
    Ok(sequences)
}

async fn save_counters(db: &DatabaseConnection, sequences: &BTreeMap<i32, i32>) -> Result<()> {
    for (year, last) in sequences {
        ticket_counter::Entity::insert(ticket_counter::ActiveModel {
            annee: Set(*year),
            last_sequence: Set(*last),
        })
        .on_conflict(
            OnConflict::column(ticket_counter::Column::Annee)
                .update_column(ticket_counter::Column::LastSequence)
                .to_owned(),
        )
        .exec(db)
        .await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let db = Database::connect(&args.database_url)
        .await
        .with_context(|| {
            format!(
                "connecting to {}",
                shared::config::redact_url(&args.database_url)
            )
        })?;
    migration::Migrator::up(&db, None).await?;
    if let Some(sql) = &args.explain {
        return explain(&db, sql).await;
    }
    if args.explain_list {
        return scale::explain_list(&db).await;
    }
    if let Some(target) = args.grow_tickets {
        let total = scale::grow_tickets(&db, target).await?;
        eprintln!(
            "{total} tickets in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let targets = shared::config::parse_sla_targets(shared::config::DEFAULT_SLA_TARGETS)
        .map_err(anyhow::Error::msg)?;
    let policy = SlaPolicy::from_config(&targets, 75).map_err(anyhow::Error::msg)?;
    let now = Utc::now();
    let mut rng = Rng(args.seed);

    let (companies, sites) = seed_companies(&db, &mut rng, &args, now).await?;
    eprintln!(
        "{} companies and {} chantiers in {:.1} s",
        companies.len(),
        sites.len(),
        started.elapsed().as_secs_f64()
    );
    let sequences = seed_tickets(&db, &mut rng, &args, &sites, &companies, &policy, now).await?;
    save_counters(&db, &sequences).await?;
    eprintln!(
        "{} tickets (with history and first answers) in {:.1} s",
        args.tickets,
        started.elapsed().as_secs_f64()
    );
    if args.projects + args.invoices > 0 || args.bench_password.is_some() {
        // One Argon2id hash (the server's parameters) for every seeded account: hashing a
        // thousand passwords would take the seeding's whole time.
        let password = args
            .bench_password
            .clone()
            .unwrap_or_else(|| shared::crypto::random_token(24));
        let hash = auth::password::PasswordHasher::new()
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
            .hash(&password)
            .await
            .map_err(|e| anyhow::anyhow!("hashing the bench password: {e}"))?;
        let sizes = portal::Sizes {
            projects: args.projects,
            invoices: args.invoices,
            prestataires: args.prestataires,
            revendeurs: args.revendeurs,
            bench_projects: args.bench_projects.min(args.projects),
            bench_invoices: args.bench_invoices.min(args.invoices),
        };
        let seeded = portal::seed(
            &db,
            &mut rng,
            &companies,
            &sites,
            &sizes,
            &args.bench_email,
            &hash,
            now,
        )
        .await?;
        eprintln!(
            "{} accounts, {} projects, {} invoices ({} lines, {} payments) in {:.1} s",
            seeded.users,
            seeded.projects,
            seeded.invoices,
            seeded.lines,
            seeded.payments,
            started.elapsed().as_secs_f64()
        );
    }
    if args.planning_shifts > 0 {
        let site_ids: Vec<Uuid> = sites.iter().map(|s| s.id).collect();
        let week = chrono::NaiveDate::from_ymd_opt(2027, 3, 1).context("a date")?;
        let seeded = planning::seed(
            &db,
            &mut rng,
            &site_ids,
            args.planning_shifts,
            args.planning_people,
            week,
        )
        .await?;
        eprintln!(
            "{} planning shifts with {} assignments ({:.1} % of seats) in {:.1} s",
            seeded.shifts,
            seeded.assignments,
            seeded.coverage * 100.0,
            started.elapsed().as_secs_f64()
        );
    }
    scale::refresh_statistics(&db).await?;
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
