//! `presta`: serve (default), migrate, print the OpenAPI document.

use clap::{Parser, Subcommand};
use server::{Application, migrate, openapi_document, telemetry};
use shared::config::Config;

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

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (migrations run first). The default.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document as JSON.
    Openapi,
}

fn config() -> anyhow::Result<Config> {
    Config::from_env().map_err(|e| anyhow::anyhow!("configuration error: {e}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            let json = openapi_document()
                .to_pretty_json()
                .map_err(|e| anyhow::anyhow!("cannot render the OpenAPI document: {e}"))?;
            #[allow(clippy::print_stdout)]
            {
                println!("{json}");
            }
            Ok(())
        }
        Command::Migrate => {
            let config = config()?;
            telemetry::init(&config);
            migrate::run(&config).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Serve => {
            let config = config()?;
            telemetry::init(&config);
            let app = Application::build(config).await?;
            app.run_until_stopped().await?;
            Ok(())
        }
    }
}
