//! The portals' data: accounts of every role, client projects, invoices with their lines and
//! the payments made on them.
//!
//! The first company is the benchmark's own client ("the bench company"): it holds a larger
//! share of projects and invoices (a list of 100 rows with a filter must have 100 rows to show)
//! and its client account signs in with `--bench-password`.

use anyhow::Result;
use auth::users::NewUser;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use client::invoices::service::{NewLine, totals};
use entity::Role;
use entity::invoice::{self, InvoiceDirection, InvoiceStatus};
use entity::payment::{self, PaymentMethod, PaymentStatus};
use entity::project::{self, ProjectStatus};
use entity::{invoice_line, user};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, Statement, TransactionTrait,
};
use uuid::Uuid;

use crate::{RESPONSABLES, Rng, Site, uuid_at};

/// How much of the portals to seed.
pub struct Sizes {
    pub projects: u32,
    pub invoices: u32,
    pub prestataires: u32,
    pub revendeurs: u32,
    /// Projects and invoices the bench company gets out of the totals.
    pub bench_projects: u32,
    pub bench_invoices: u32,
}

/// What was written, for the log line.
#[derive(Debug, Default)]
pub struct Seeded {
    pub users: usize,
    pub projects: usize,
    pub invoices: usize,
    pub lines: usize,
    pub payments: usize,
}

/// An account that can sign in with the password `hash` was made from.
pub fn account(
    id: Uuid,
    email: String,
    full_name: String,
    role: Role,
    company_id: Option<Uuid>,
    password_hash: &str,
    at: DateTime<Utc>,
) -> user::ActiveModel {
    let mut row = NewUser {
        email,
        password_hash: password_hash.to_owned(),
        full_name,
        phone: None,
        role,
        company_id,
        is_active: true,
        verified: true,
        must_change_password: false,
    }
    .into_active_model();
    row.id = Set(id);
    row.email_verified_at = Set(Some(at));
    row.password_changed_at = Set(at);
    row.created_at = Set(at);
    row.updated_at = Set(at);
    row
}

const PROJECT_KINDS: &[&str] = &[
    "Rénovation",
    "Extension",
    "Mise aux normes",
    "Aménagement",
    "Réfection",
    "Construction",
    "Ravalement",
    "Isolation",
];
const PROJECT_OBJECTS: &[&str] = &[
    "du siège",
    "de l'entrepôt",
    "des bureaux",
    "de la toiture",
    "du hall d'accueil",
    "des façades",
    "du parking",
    "de l'atelier",
    "des sanitaires",
    "de la cantine",
];
const LINE_ITEMS: &[(&str, i64, i32)] = &[
    ("Main d'œuvre (heures)", 5_500, 2_000),
    ("Études et plans", 450_000, 2_000),
    ("Situation de travaux", 1_200_000, 1_000),
    ("Fournitures diverses", 64_350, 2_000),
    ("Évacuation des gravats", 85_000, 2_000),
    ("Location d'échafaudage (jours)", 12_000, 2_000),
    ("Acompte travaux (30 %)", 2_550_000, 1_000),
    ("Documentation technique", 1_500, 550),
];

/// The company row `i` of `n` goes to: every `n / bench`-th row (so the bench company's rows
/// span the whole period) to the first company, the others spread over the rest.
fn owner(rng: &mut Rng, companies: &[Uuid], i: u32, n: u32, bench: u32) -> Uuid {
    let every = n.checked_div(bench).unwrap_or(u32::MAX).max(1);
    if (i.is_multiple_of(every) && i / every < bench) || companies.len() < 2 {
        companies[0]
    } else {
        companies[1 + rng.below(companies.len() - 1)]
    }
}

async fn insert_chunks<E, A>(db: &impl ConnectionTrait, rows: Vec<A>, chunk: usize) -> Result<()>
where
    E: EntityTrait<ActiveModel = A>,
    A: sea_orm::ActiveModelTrait<Entity = E> + Clone + Send,
{
    for part in rows.chunks(chunk) {
        E::insert_many(part.to_vec()).exec(db).await?;
    }
    Ok(())
}

/// Accounts of every role, projects, invoices with lines, and payments.
#[allow(clippy::too_many_lines, clippy::too_many_arguments)]
pub async fn seed(
    db: &DatabaseConnection,
    rng: &mut Rng,
    companies: &[Uuid],
    sites: &[Site],
    sizes: &Sizes,
    bench_email: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<Seeded> {
    let mut seeded = Seeded::default();
    if companies.is_empty() {
        return Ok(seeded);
    }
    let since = now - Duration::days(400);

    // Accounts: the bench client, one client per company, prestataires and revendeurs.
    let mut users = vec![account(
        uuid_at(since),
        bench_email.to_owned(),
        "Client du banc d'essai".to_owned(),
        Role::Client,
        Some(companies[0]),
        password_hash,
        since,
    )];
    for (i, company) in companies.iter().enumerate() {
        users.push(account(
            Uuid::now_v7(),
            format!("client{}@bench.presta.local", i + 1),
            format!("Client {}", i + 1),
            Role::Client,
            Some(*company),
            password_hash,
            since,
        ));
    }
    for (role, label, name, count) in [
        (
            Role::Prestataire,
            "prestataire",
            "Prestataire",
            sizes.prestataires,
        ),
        (Role::Revendeur, "revendeur", "Revendeur", sizes.revendeurs),
    ] {
        for i in 1..=count {
            users.push(account(
                Uuid::now_v7(),
                format!("{label}{i}@bench.presta.local"),
                format!("{name} {i}"),
                role,
                None,
                password_hash,
                since,
            ));
        }
    }
    seeded.users = users.len();
    let txn = db.begin().await?;
    insert_chunks(&txn, users, 1_000).await?;
    txn.commit().await?;

    // Projects, over the past 400 days, most of them on one of their company's chantiers.
    let mut by_company: std::collections::HashMap<Uuid, Vec<Uuid>> =
        std::collections::HashMap::new();
    for site in sites {
        by_company.entry(site.client_id).or_default().push(site.id);
    }
    let mut projects = Vec::new();
    let mut project_of: std::collections::HashMap<Uuid, Vec<Uuid>> =
        std::collections::HashMap::new();
    let step = Duration::days(400).num_seconds() / i64::from(sizes.projects.max(1));
    for i in 0..sizes.projects {
        let company_id = owner(rng, companies, i, sizes.projects, sizes.bench_projects);
        let created = since + Duration::seconds(step * i64::from(i));
        let status = rng.weighted(&[
            (ProjectStatus::Planning, 15),
            (ProjectStatus::InProgress, 35),
            (ProjectStatus::OnHold, 5),
            (ProjectStatus::Delivered, 10),
            (ProjectStatus::Completed, 30),
            (ProjectStatus::Cancelled, 5),
        ]);
        let progress = match status {
            ProjectStatus::Planning => rng.below(10),
            ProjectStatus::Delivered | ProjectStatus::Completed => 100,
            _ => 10 + rng.below(85),
        };
        let budget = i64::try_from(rng.below(400) + 10).unwrap_or(10) * 100_000;
        let spent = budget * i64::try_from(progress).unwrap_or(0) / 100;
        let id = uuid_at(created);
        let start = (created + Duration::days(14)).date_naive();
        projects.push(project::ActiveModel {
            id: Set(id),
            company_id: Set(company_id),
            chantier_id: Set(rng.maybe_pick(by_company.get(&company_id), 0.8)),
            name: Set(format!(
                "{} {} n° {}",
                rng.pick(PROJECT_KINDS),
                rng.pick(PROJECT_OBJECTS),
                i + 1
            )),
            description: Set(Some(format!(
                "Lot {} — suivi par {}",
                rng.below(12) + 1,
                rng.pick(RESPONSABLES)
            ))),
            status: Set(status),
            status_before_hold: Set(
                (status == ProjectStatus::OnHold).then_some(ProjectStatus::InProgress)
            ),
            progress: Set(i32::try_from(progress).unwrap_or(0)),
            budget_cents: Set(Some(budget)),
            spent_cents: Set(spent),
            currency: Set("EUR".to_owned()),
            start_date: Set(Some(start)),
            end_date: Set(Some(
                start + Duration::days(30 + i64::try_from(rng.below(300)).unwrap_or(0)),
            )),
            manager_name: Set(Some((*rng.pick(RESPONSABLES)).to_owned())),
            created_at: Set(created),
            updated_at: Set(created),
        });
        project_of.entry(company_id).or_default().push(id);
    }
    seeded.projects = projects.len();
    let txn = db.begin().await?;
    insert_chunks(&txn, projects, 1_000).await?;
    txn.commit().await?;

    // Invoices over the past year, numbered without gaps per year, with their lines; most are
    // paid (by transfer or card), some partly, some still open or overdue, a few cancelled.
    let today = now.date_naive();
    let first_day = today - Duration::days(365);
    let day_step = 365.0 / f64::from(sizes.invoices.max(1));
    let mut counters: std::collections::BTreeMap<i32, i32> = std::collections::BTreeMap::new();
    let mut invoices = Vec::new();
    let mut lines = Vec::new();
    let mut payments = Vec::new();
    for i in 0..sizes.invoices {
        let company_id = owner(rng, companies, i, sizes.invoices, sizes.bench_invoices);
        #[allow(clippy::cast_possible_truncation)]
        let issue_date: NaiveDate = first_day + Duration::days((f64::from(i) * day_step) as i64);
        let due_date = issue_date + Duration::days(30);
        let year = issue_date.year();
        let sequence = counters.entry(year).or_insert(0);
        *sequence += 1;
        let new_lines: Vec<NewLine> = (0..=rng.below(3))
            .map(|_| {
                let (description, price, rate) = *rng.pick(LINE_ITEMS);
                NewLine {
                    description: description.to_owned(),
                    quantity_milli: i64::try_from(rng.below(40) + 1).unwrap_or(1) * 1_000,
                    unit_price_cents: price,
                    vat_rate_bp: rate,
                }
            })
            .collect();
        let amounts = totals(&new_lines);
        let issued_at = issue_date.and_hms_opt(9, 0, 0).map_or(now, |d| d.and_utc());
        let id = uuid_at(issued_at + Duration::milliseconds(i64::from(i % 1000)));
        let status = if due_date > today {
            rng.weighted(&[
                (InvoiceStatus::Issued, 60),
                (InvoiceStatus::PartiallyPaid, 15),
                (InvoiceStatus::Paid, 25),
            ])
        } else {
            rng.weighted(&[
                (InvoiceStatus::Paid, 80),
                (InvoiceStatus::PartiallyPaid, 6),
                (InvoiceStatus::Issued, 10),
                (InvoiceStatus::Cancelled, 4),
            ])
        };
        let paid = match status {
            InvoiceStatus::Paid => amounts.total,
            InvoiceStatus::PartiallyPaid => amounts.total / 2,
            _ => 0,
        };
        let paid_at = (paid > 0).then(|| {
            (issued_at + Duration::days(i64::try_from(rng.below(30)).unwrap_or(0)))
                .min(now - Duration::minutes(1))
        });
        if let Some(at) = paid_at {
            payments.push(payment::ActiveModel {
                id: Set(uuid_at(at)),
                company_id: Set(company_id),
                invoice_id: Set(id),
                amount_cents: Set(paid),
                currency: Set("EUR".to_owned()),
                method: Set(if rng.chance(0.7) {
                    PaymentMethod::BankTransfer
                } else {
                    PaymentMethod::Card
                }),
                status: Set(PaymentStatus::Completed),
                reference: Set(format!(
                    "PAY-FAC-{year}-{sequence:04}-{:06}",
                    rng.below(1_000_000)
                )),
                created_by: Set(None),
                created_at: Set(at),
                confirmed_at: Set(Some(at)),
            });
        }
        for (position, (line, (base, vat))) in new_lines.iter().zip(&amounts.lines).enumerate() {
            lines.push(invoice_line::ActiveModel {
                id: Set(Uuid::now_v7()),
                invoice_id: Set(id),
                position: Set(i32::try_from(position + 1).unwrap_or(1)),
                description: Set(line.description.clone()),
                quantity_milli: Set(line.quantity_milli),
                unit_price_cents: Set(line.unit_price_cents),
                vat_rate_bp: Set(line.vat_rate_bp),
                total_ht_cents: Set(*base),
                vat_cents: Set(*vat),
            });
        }
        invoices.push(invoice::ActiveModel {
            id: Set(id),
            company_id: Set(company_id),
            project_id: Set(rng.maybe_pick(project_of.get(&company_id), 0.9)),
            direction: Set(InvoiceDirection::Out),
            number: Set(format!("FAC-{year}-{sequence:04}")),
            annee: Set(year),
            sequence: Set(*sequence),
            status: Set(status),
            issue_date: Set(issue_date),
            due_date: Set(due_date),
            currency: Set("EUR".to_owned()),
            subtotal_cents: Set(amounts.subtotal),
            vat_cents: Set(amounts.vat),
            total_cents: Set(amounts.total),
            paid_cents: Set(paid),
            notes: Set(None),
            paid_at: Set(paid_at.filter(|_| status == InvoiceStatus::Paid)),
            created_at: Set(issued_at),
            updated_at: Set(paid_at.unwrap_or(issued_at)),
        });
    }
    seeded.invoices = invoices.len();
    seeded.lines = lines.len();
    seeded.payments = payments.len();
    let txn = db.begin().await?;
    insert_chunks(&txn, invoices, 1_000).await?;
    insert_chunks(&txn, lines, 2_000).await?;
    insert_chunks(&txn, payments, 2_000).await?;
    let backend = txn.get_database_backend();
    for (year, last) in counters {
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DbBackend::Postgres => {
                    "INSERT INTO invoice_counters (annee, last_sequence) VALUES ($1, $2) \
                     ON CONFLICT (annee) DO UPDATE SET last_sequence = EXCLUDED.last_sequence"
                }
                _ => {
                    "INSERT INTO invoice_counters (annee, last_sequence) VALUES (?, ?) \
                     ON CONFLICT (annee) DO UPDATE SET last_sequence = excluded.last_sequence"
                }
            },
            [year.into(), last.into()],
        ))
        .await?;
    }
    txn.commit().await?;
    Ok(seeded)
}
