//! The command line: `wastetrack [serve|migrate|openapi]`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::startup::Application;

#[derive(Debug, Parser)]
#[command(
    name = "wastetrack",
    version,
    about = "Industrial solid-waste tracking, from the park warehouse to the disposer"
)]
pub struct Cli {
    /// A TOML configuration file (default: ./wastetrack.toml if present).
    #[arg(long, short, global = true, env = "WASTETRACK_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations, create the first administrator if needed, and serve HTTP (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
}

pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            println!("{}", crate::openapi::document().to_pretty_json()?);
            Ok(())
        }
        Command::Migrate => {
            let settings = Settings::load(cli.config.as_deref())?;
            crate::telemetry::init(&settings.log_filter, settings.log_format);
            let db = crate::db::Db::connect(&settings.database_url, 1)?;
            let applied = crate::db::run_migrations(&mut *db.get()?)?;
            println!(
                "applied {} migration(s){}",
                applied.len(),
                if applied.is_empty() {
                    String::new()
                } else {
                    format!(": {}", applied.join(", "))
                }
            );
            Ok(())
        }
        Command::Serve => {
            let settings = Settings::load(cli.config.as_deref())?;
            crate::telemetry::init(&settings.log_filter, settings.log_format);
            actix_web::rt::System::new().block_on(async move {
                let app = Application::build(settings).await?;
                if let Some(password) = &app.bootstrap_password {
                    // Printed, not logged: it must not end up in a log store.
                    println!(
                        "\nCreated the platform administrator.\n  username: {}\n  password: {password}\n\
                         This password is shown once. Change it with POST /api/v1/auth/password.\n",
                        crate::identity::service::BOOTSTRAP_ADMIN_USERNAME
                    );
                }
                app.run_until_stopped().await?;
                Ok(())
            })
        }
    }
}
