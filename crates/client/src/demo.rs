//! Demo data for a client company (`presta seed-demo`): projects in every state with comments
//! and milestones, documents (real files), invoices with mixed VAT rates, and payments, some
//! confirmed — everything through the same services the routes use.

use chrono::{Days, NaiveDate};
use entity::document::DocumentCategory;
use entity::payment::PaymentMethod;
use entity::project::ProjectStatus;
use sea_orm::DatabaseConnection;
use shared::AppError;
use shared::audit::Actor;
use uuid::Uuid;

use crate::caller::ClientUser;
use crate::documents::DocumentForm;
use crate::invoices::service::{NewInvoice, NewLine};
use crate::payments::NewPaymentRequest;
use crate::projects::service::NewProject;
use crate::projects::{ChangeStatusRequest, CommentRequest};
use crate::{ClientState, documents, invoices, payments, projects};

/// Name, description, status, progress, budget, spent, days since start, days to the end.
type ProjectSpec = (
    &'static str,
    &'static str,
    ProjectStatus,
    i32,
    i64,
    i64,
    u64,
    u64,
);
/// Name, type, category, bytes, index of the project it belongs to.
type FileSpec = (
    &'static str,
    &'static str,
    DocumentCategory,
    &'static [u8],
    Option<usize>,
);

/// What was created.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    pub projects: usize,
    pub documents: usize,
    pub invoices: usize,
    pub payments: usize,
}

fn days_ago(today: NaiveDate, n: u64) -> NaiveDate {
    today.checked_sub_days(Days::new(n)).unwrap_or(today)
}

fn days_ahead(today: NaiveDate, n: u64) -> NaiveDate {
    today.checked_add_days(Days::new(n)).unwrap_or(today)
}

/// Fill a client company's portal, acting as `user_id` (a client user of it) where a client
/// acts.
///
/// # Errors
/// Any service error.
#[allow(clippy::too_many_lines)]
pub async fn seed_company(
    db: &DatabaseConnection,
    state: &ClientState,
    company_id: Uuid,
    user_id: Uuid,
) -> Result<Seeded, AppError> {
    let staff = Actor::system();
    let client = ClientUser {
        company_id,
        user_id,
        name: tickets::history::Author::user(db, user_id).await?.name,
        actor: Actor {
            user_id: Some(user_id),
            ..Actor::default()
        },
    };
    let today = state.today();
    let now = state.clock.now();
    let mut seeded = Seeded::default();
    let specs: [ProjectSpec; 5] = [
        (
            "Rénovation du siège",
            "Réfection complète des bureaux du 2e étage",
            ProjectStatus::InProgress,
            55,
            8_500_000,
            4_200_000,
            60,
            45,
        ),
        (
            "Extension de l'entrepôt",
            "Bâtiment de 800 m² et quai de chargement",
            ProjectStatus::Planning,
            5,
            24_000_000,
            150_000,
            5,
            180,
        ),
        (
            "Mise aux normes électriques",
            "Tableaux, éclairage de sécurité et contrôle Consuel",
            ProjectStatus::Delivered,
            100,
            1_800_000,
            1_750_000,
            90,
            3,
        ),
        (
            "Aménagement de l'accueil",
            "Banque d'accueil, signalétique et mobilier",
            ProjectStatus::Completed,
            100,
            2_200_000,
            2_350_000,
            200,
            120,
        ),
        (
            "Parking visiteurs",
            "Enrobé, marquage et bornes de recharge",
            ProjectStatus::OnHold,
            30,
            3_600_000,
            900_000,
            75,
            20,
        ),
    ];
    let mut project_ids = Vec::new();
    for (name, description, status, progress, budget, spent, started, due) in specs {
        let project = projects::service::create(
            db,
            &staff,
            NewProject {
                company_id,
                chantier_id: None,
                name: name.to_owned(),
                description: Some(description.to_owned()),
                status: ProjectStatus::Planning,
                progress: 0,
                budget_cents: Some(budget),
                spent_cents: spent,
                currency: state.currency.clone(),
                start_date: Some(days_ago(today, started)),
                end_date: Some(if status == ProjectStatus::Completed {
                    days_ago(today, due)
                } else {
                    days_ahead(today, due)
                }),
                manager_name: Some("Camille Martin".to_owned()),
            },
            now,
        )
        .await?;
        if status != ProjectStatus::Planning {
            let path = match status {
                ProjectStatus::OnHold => vec![ProjectStatus::InProgress],
                ProjectStatus::Completed => {
                    vec![ProjectStatus::InProgress, ProjectStatus::Delivered]
                }
                ProjectStatus::Delivered => vec![ProjectStatus::InProgress],
                _ => vec![],
            };
            for step in path {
                projects::service::staff_set_status(db, &staff, project.id, step, None, now)
                    .await?;
            }
            if status == ProjectStatus::Completed {
                projects::service::change_status(
                    db,
                    &client,
                    project.id,
                    ChangeStatusRequest {
                        status: ProjectStatus::Completed,
                        reason: None,
                    },
                    now,
                    today,
                )
                .await?;
            } else if status == ProjectStatus::OnHold {
                projects::service::change_status(
                    db,
                    &client,
                    project.id,
                    ChangeStatusRequest {
                        status: ProjectStatus::OnHold,
                        reason: Some("Budget à revoir au prochain trimestre".to_owned()),
                    },
                    now,
                    today,
                )
                .await?;
            } else {
                projects::service::staff_set_status(
                    db,
                    &staff,
                    project.id,
                    status,
                    Some(progress),
                    now,
                )
                .await?;
            }
        }
        projects::service::record_milestone(db, &staff, project.id, "Réunion de lancement", now)
            .await?;
        projects::service::comment(
            db,
            &client,
            project.id,
            CommentRequest {
                content: format!("Merci pour le point d'avancement sur « {name} »."),
            },
            now,
        )
        .await?;
        project_ids.push(project.id);
        seeded.projects += 1;
    }

    let files: [FileSpec; 3] = [
        ("compte-rendu-chantier.txt", "text/plain", DocumentCategory::Report, b"Compte rendu de chantier\n\nAvancement conforme au planning. Prochaine visite mardi.\n", Some(0)),
        ("cahier-des-charges.md", "text/markdown", DocumentCategory::Contract, b"# Cahier des charges\n\n- Surface : 800 m2\n- Livraison : T3\n", Some(1)),
        ("inventaire.csv", "text/csv", DocumentCategory::Other, b"piece;quantite\nbureau;12\nchaise;30\n", None),
    ];
    for (name, mime, category, bytes, project) in files {
        documents::service::store(
            db,
            state,
            &client,
            DocumentForm {
                file_name: name.to_owned(),
                content_type: mime.to_owned(),
                bytes: bytes::Bytes::from_static(bytes),
                category,
                project_id: project.and_then(|i| project_ids.get(i).copied()),
                description: None,
            },
            None,
        )
        .await?;
        seeded.documents += 1;
    }

    let invoices_spec: [(u64, i64, Vec<NewLine>, usize); 3] = [
        (
            75,
            45,
            vec![
                line("Études et plans", 1000, 450_000, 2000),
                line("Main d'œuvre électricien (heures)", 38_500, 5_500, 2000),
                line("Matériel éclairage de sécurité", 12_000, 8_900, 2000),
            ],
            2,
        ),
        (
            40,
            10,
            vec![
                line(
                    "Acompte travaux de rénovation (30 %)",
                    1000,
                    2_550_000,
                    1000,
                ),
                line("Évacuation des gravats", 1000, 85_000, 2000),
            ],
            0,
        ),
        (
            5,
            -25,
            vec![
                line("Situation de travaux n° 2", 1000, 1_200_000, 1000),
                line("Fournitures diverses", 1000, 64_350, 2000),
                line("Documentation technique", 2000, 1_500, 550),
            ],
            0,
        ),
    ];
    let mut issued = Vec::new();
    for (ago, due_offset, lines, project) in invoices_spec {
        let issue_date = days_ago(today, ago);
        let due_date = if due_offset >= 0 {
            issue_date
                .checked_add_days(Days::new(due_offset.unsigned_abs()))
                .unwrap_or(issue_date)
        } else {
            days_ahead(today, due_offset.unsigned_abs())
        };
        let invoice = invoices::service::issue(
            db,
            state,
            &staff,
            NewInvoice {
                company_id,
                project_id: project_ids.get(project).copied(),
                issue_date,
                due_date,
                lines,
                notes: Some("Merci de votre confiance.".to_owned()),
            },
        )
        .await?;
        issued.push(invoice);
        seeded.invoices += 1;
    }
    // The first invoice is paid in full, the second half paid, the third has a transfer on
    // its way.
    let plans = [
        (0usize, 1.0f64, PaymentMethod::BankTransfer, true),
        (1, 0.5, PaymentMethod::Card, true),
        (2, 0.25, PaymentMethod::BankTransfer, false),
    ];
    for (index, share, method, confirm) in plans {
        let Some(invoice) = issued.get(index) else {
            continue;
        };
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let amount = (invoice.total_cents as f64 * share).round() as i64;
        let payment = payments::service::create(
            db,
            state,
            &client,
            NewPaymentRequest {
                invoice_id: invoice.id,
                amount_cents: amount,
                method,
            },
        )
        .await?;
        if confirm {
            payments::service::confirm(db, state, &staff, payment.id).await?;
        }
        seeded.payments += 1;
    }
    Ok(seeded)
}

fn line(
    description: &str,
    quantity_milli: i64,
    unit_price_cents: i64,
    vat_rate_bp: i32,
) -> NewLine {
    NewLine {
        description: description.to_owned(),
        quantity_milli,
        unit_price_cents,
        vat_rate_bp,
    }
}
