//! `presta`: serve (default), migrate, print the OpenAPI document, create accounts.

use clap::{Parser, Subcommand, ValueEnum};
use server::{Application, migrate, openapi_document, telemetry};
use shared::config::Config;

/// mimalloc instead of glibc's malloc: large blocks freed on one of the many blocking or
/// connection threads stayed in glibc's per-thread arenas (Argon2's, when it allocated its
/// memory per hash: hundreds of MiB of RSS after a login burst). Argon2 now keeps its memory
/// (`auth::password`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (the `mi_option_e` enum of the v3 `mimalloc.h` that
/// libmimalloc-sys builds; the crate names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long (ms) mimalloc keeps a page it no longer uses before giving it back to the system:
/// 10 ms instead of its default of a second. Since SQLite allocates through it too
/// (`shared::db`), each of the pool's connection threads kept a second's worth of freed pages:
/// 15–17 MiB of the peak RSS (bench/RESULTS.md item 24). Not 0: a page given back at once and
/// used again a moment later is a `madvise` (a TLB flush on every core the process runs on)
/// and a page fault each time: two runs in five of the ticket detail did it about once every
/// other request, for a sixth of their throughput (item 39). 10 ms is some tens of requests of
/// a worker.
const PURGE_DELAY_MS: std::ffi::c_long = 10;

/// Set mimalloc's purge delay to [`PURGE_DELAY_MS`], unless `MIMALLOC_PURGE_DELAY` is set in
/// the environment (mimalloc then reads it, as it reads its other `MIMALLOC_*` options).
#[allow(unsafe_code)]
fn set_purge_delay() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: setting an option is an atomic store mimalloc allows at any time, from any
    // thread; the purge delay is read each time a purge is scheduled.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) }
}

#[derive(Parser)]
#[command(
    name = "presta",
    version,
    about = "Presta: one server for a service business"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Client,
    Prestataire,
    Revendeur,
    Superadmin,
}

impl From<RoleArg> for entity::Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Client => Self::Client,
            RoleArg::Prestataire => Self::Prestataire,
            RoleArg::Revendeur => Self::Revendeur,
            RoleArg::Superadmin => Self::Superadmin,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (migrations run first). The default.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document as JSON.
    Openapi,
    /// Create a superadmin (active, verified). Without --password one is generated and shown.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: Option<String>,
        #[arg(long, default_value = "Administrator")]
        name: String,
    },
    /// Create an account of any role (active, verified), for admin scripts.
    CreateUser {
        #[arg(long)]
        email: String,
        /// The password, or `-` to read it from standard input.
        #[arg(long)]
        password: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The company of a client account (created if no company has this name).
        #[arg(long)]
        company: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Create a demo client company with an account to sign in with, and fill its portal:
    /// projects in every state, documents, invoices, payments, notifications.
    SeedDemo {
        #[arg(long, default_value = "client@demo.presta.local")]
        email: String,
        /// Without it one is generated and shown.
        #[arg(long)]
        password: Option<String>,
        #[arg(long, default_value = "Bâtiments Durand SA")]
        company: String,
    },
}

fn config() -> anyhow::Result<Config> {
    Config::from_env().map_err(|e| anyhow::anyhow!("configuration error: {e}"))
}

/// Shown on the terminal, never through the log pipeline.
#[allow(clippy::print_stdout)]
fn show(text: &str) {
    println!("{text}");
}

async fn create(
    email: String,
    password: String,
    role: entity::Role,
    company: Option<String>,
    name: String,
    must_change_password: bool,
) -> anyhow::Result<()> {
    let config = config()?;
    telemetry::init(&config);
    migrate::run(&config).await?;
    let db = shared::db::connect(&config).await?;
    let hasher = auth::password::PasswordHasher::new()
        .map_err(|e| anyhow::anyhow!("password hashing set-up failed: {e}"))?;
    let account = auth::bootstrap::create_account(
        &db,
        &hasher,
        auth::bootstrap::NewAccount {
            email,
            password,
            full_name: name,
            role,
            company,
            must_change_password,
        },
        &shared::audit::Actor::system(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", e.envelope().error.message_with_details()))?;
    show(&format!(
        "created {} {} ({})",
        account.role, account.email, account.id
    ));
    Ok(())
}

async fn seed_demo(email: String, password: Option<String>, company: String) -> anyhow::Result<()> {
    let config = config()?;
    telemetry::init(&config);
    migrate::run(&config).await?;
    let db = shared::db::connect(&config).await?;
    if auth::users::find_by_email(&db, &email).await?.is_some() {
        show(&format!(
            "{email} already exists: the demo data is in place"
        ));
        return Ok(());
    }
    let password = password.unwrap_or_else(|| format!("Demo-{}", shared::crypto::random_token(12)));
    let hasher = auth::password::PasswordHasher::new()
        .map_err(|e| anyhow::anyhow!("password hashing set-up failed: {e}"))?;
    let fail =
        |e: shared::AppError| anyhow::anyhow!("{}", e.envelope().error.message_with_details());
    let account = auth::bootstrap::create_account(
        &db,
        &hasher,
        auth::bootstrap::NewAccount {
            email: email.clone(),
            password: password.clone(),
            full_name: "Claire Durand".to_owned(),
            role: entity::Role::Client,
            company: Some(company.clone()),
            must_change_password: false,
        },
        &shared::audit::Actor::system(),
    )
    .await
    .map_err(fail)?;
    let company_id = account
        .company_id
        .ok_or_else(|| anyhow::anyhow!("the demo account has no company"))?;
    let storage = shared::storage::Storage::from_config(&config)?;
    let state = client::ClientState::from_config(&config, shared::clock::Clock::system(), storage);
    let seeded = client::demo::seed_company(&db, &state, company_id, account.id)
        .await
        .map_err(fail)?;
    show(&format!(
        "demo company \"{company}\": {} projects, {} documents, {} invoices, {} payments\n\
         sign in as {email} with the password\n\n    {password}\n\n\
         then explore /docs (POST /api/auth/login, then Authorize with the token)",
        seeded.projects, seeded.documents, seeded.invoices, seeded.payments
    ));
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    set_purge_delay();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            let json = openapi_document()
                .to_pretty_json()
                .map_err(|e| anyhow::anyhow!("cannot render the OpenAPI document: {e}"))?;
            show(&json);
            Ok(())
        }
        Command::Migrate => {
            let config = config()?;
            telemetry::init(&config);
            migrate::run(&config).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::CreateAdmin {
            email,
            password,
            name,
        } => {
            let (password, generated) = match password {
                Some(p) => (p, false),
                None => (shared::crypto::random_token(18), true),
            };
            create(
                email,
                password.clone(),
                entity::Role::Superadmin,
                None,
                name,
                generated,
            )
            .await?;
            if generated {
                show(&format!(
                    "one-time password (change it after signing in): {password}"
                ));
            }
            Ok(())
        }
        Command::CreateUser {
            email,
            password,
            role,
            company,
            name,
        } => {
            let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or("User").to_owned());
            // `--password -` reads it from standard input, out of the process list and history.
            let password = if password == "-" {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            } else {
                password
            };
            create(email, password, role.into(), company, name, false).await
        }
        Command::SeedDemo {
            email,
            password,
            company,
        } => seed_demo(email, password, company).await,
        Command::Serve => {
            let config = config()?;
            telemetry::init(&config);
            let app = Application::build(config).await?;
            if let Some(admin) = app.bootstrapped() {
                match &admin.generated_password {
                    Some(password) => show(&format!(
                        "\nFirst start: created the superadmin {} with the one-time password\n\n    {}\n\nSign in and change it (POST /api/auth/change-password).\n",
                        admin.email, password
                    )),
                    None => show(&format!(
                        "First start: created the superadmin {}",
                        admin.email
                    )),
                }
            }
            app.run_until_stopped().await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS, set_purge_delay};

    #[test]
    #[allow(unsafe_code)]
    fn freed_pages_go_back_after_the_purge_delay() {
        // SAFETY: reading an option is an atomic load.
        let get = || unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        // The option's documented default (1 s) identifies it as the purge delay, should a
        // mimalloc upgrade renumber the options.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            // The environment's value holds, whatever it is.
            set_purge_delay();
            return;
        }
        assert_eq!(get(), 1000);
        set_purge_delay();
        assert_eq!(get(), PURGE_DELAY_MS);
    }
}
