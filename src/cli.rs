//! The command line: `wastetrack [serve|migrate|openapi|demo|audit verify|backup|restore]`.

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
    /// Prepare the database and load a realistic demo park; prints the demo sign-ins.
    Demo,
    /// The audit chain: `audit verify` walks it and names the first broken link.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Write a consistent copy of the SQLite database to FILE, also while the service runs
    /// (PostgreSQL: use pg_dump).
    Backup {
        /// The copy to write; it must not exist yet.
        file: PathBuf,
    },
    /// Check a copy made by `backup` and install it as the SQLite database; stop the service
    /// first (PostgreSQL: use pg_restore).
    Restore {
        /// The copy to check and install.
        file: PathBuf,
    },
    /// Serve a stand-in for WeChat's code2session endpoint, to try the mini-program's sign-in
    /// without WeChat (tests and training only). Point `wechat.code2session_url` at
    /// `http://LISTEN/sns/jscode2session`; the code `user-NAME` signs in the WeChat user NAME.
    WechatStandIn {
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8089")]
        listen: String,
        /// The AppID it accepts.
        #[arg(long, default_value = "wx-stand-in")]
        appid: String,
        /// The AppSecret it accepts.
        #[arg(long, default_value = "stand-in-secret")]
        secret: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the audit chain from its first kept entry to its head; print the outcome as JSON and
    /// exit with status 1 if a link is broken.
    Verify,
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
        Command::Demo => {
            let settings = Settings::load(cli.config.as_deref())?;
            crate::telemetry::init(&settings.log_filter, settings.log_format);
            let db = crate::db::Db::connect(&settings.database_url, 2)?;
            let admin_password = settings
                .admin_password
                .as_ref()
                .map(|p| secrecy::ExposeSecret::expose_secret(p).to_owned());
            if let Some(password) = crate::startup::prepare_database(
                &db,
                settings.clock().now(),
                admin_password.as_deref(),
            )? {
                print_admin_password(&password);
            }
            let loaded = crate::demo::load(&db, settings.clock().now())?;
            println!(
                "{}\n\nSign in with POST /api/v1/auth/login; every demo user has the password {:?}:\n",
                if loaded.already_present {
                    "The demo park was already loaded."
                } else {
                    "Loaded the demo park."
                },
                crate::demo::DEMO_PASSWORD
            );
            for (username, role, organization) in &loaded.credentials {
                println!("  {username:<18} {role:<20} {organization}");
            }
            println!("\nStart the service with `wastetrack serve` (or `cargo run`).");
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let settings = Settings::load(cli.config.as_deref())?;
            crate::telemetry::init(&settings.log_filter, settings.log_format);
            let db = crate::db::Db::connect(&settings.database_url, 1)?;
            let report = crate::db::read_snapshot(&mut *db.get()?, crate::audit::service::verify)
                .map_err(|e| anyhow::anyhow!("walking the audit chain: {e}"))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if let Some(broken) = &report.first_broken {
                anyhow::bail!(
                    "the audit chain is broken at entry {} ({:?})",
                    broken.seq,
                    broken.reason
                );
            }
            Ok(())
        }
        Command::Backup { file } => {
            let settings = Settings::load(cli.config.as_deref())?;
            let report = crate::db::backup::backup(&settings.database_url, &file)?;
            println!(
                "backed up {} to {} ({} bytes, integrity checked{})",
                report.source.display(),
                report.file.display(),
                report.bytes,
                report
                    .latest_migration
                    .map(|v| format!(", migrations up to {v}"))
                    .unwrap_or_default()
            );
            Ok(())
        }
        Command::Restore { file } => {
            let settings = Settings::load(cli.config.as_deref())?;
            let report =
                crate::db::backup::restore(&settings.database_url, &file, chrono::Utc::now())?;
            println!(
                "restored {} as {} (integrity checked{}); {}",
                file.display(),
                report.database.display(),
                report
                    .latest_migration
                    .map(|v| format!(", migrations up to {v}"))
                    .unwrap_or_default(),
                match &report.replaced {
                    Some(kept) => format!("the database it replaced is kept as {}", kept.display()),
                    None => "there was no database there before".to_owned(),
                }
            );
            Ok(())
        }
        Command::WechatStandIn {
            listen,
            appid,
            secret,
        } => {
            let listener = std::net::TcpListener::bind(&listen)
                .map_err(|e| anyhow::anyhow!("binding {listen}: {e}"))?;
            println!(
                "WeChat stand-in at http://{}/sns/jscode2session (AppID {appid}); Ctrl-C stops it",
                listener.local_addr()?
            );
            actix_web::rt::System::new().block_on(async move {
                let server = crate::auth::wechat_stand_in::server(listener, appid, secret)?;
                let handle = server.handle();
                actix_web::rt::spawn(async move {
                    let _ = actix_web::rt::signal::ctrl_c().await;
                    handle.stop(true).await;
                });
                server.await?;
                Ok(())
            })
        }
        Command::Serve => {
            let settings = Settings::load(cli.config.as_deref())?;
            crate::telemetry::init(&settings.log_filter, settings.log_format);
            actix_web::rt::System::new().block_on(async move {
                let app = Application::build(settings).await?;
                if let Some(password) = &app.bootstrap_password {
                    print_admin_password(password);
                }
                app.run_until_stopped().await?;
                Ok(())
            })
        }
    }
}

/// Printed, not logged: the generated password must not end up in a log store.
fn print_admin_password(password: &str) {
    println!(
        "\nCreated the platform administrator.\n  username: {}\n  password: {password}\n\
         This password is shown once. Change it with POST /api/v1/auth/password.\n",
        crate::identity::service::BOOTSTRAP_ADMIN_USERNAME
    );
}
