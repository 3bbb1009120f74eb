//! `latchkey db …`: the database itself — migrate, back up, copy to another.

use std::path::PathBuf;

use clap::Subcommand;

use super::CliError;
use super::progress::Bar;
use crate::settings::Settings;
use crate::store;

/// What `latchkey db` can do.
#[derive(Debug, Subcommand)]
pub(super) enum DbCommand {
    /// Bring the configured database's schema up to date (the server does this
    /// at start-up too; run it first to upgrade before a rolling restart).
    Migrate,
    /// Back up the configured SQLite database into FILE, consistently, even while
    /// the server runs (PostgreSQL: use pg_dump).
    Backup {
        /// The backup file to write (replaced if it exists).
        file: PathBuf,
    },
    /// Copy everything (users, hashes, items, sessions, keys, throttle counts)
    /// from one database into another, empty one: SQLite to PostgreSQL and back.
    /// Stop the servers first: writes made during the copy are not carried over.
    Copy {
        /// The database to copy from (`sqlite://…` or `postgres://…`).
        #[arg(long, value_name = "URL")]
        from: String,
        /// The empty database to copy into (created and migrated if needed).
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

/// Runs a `db` command.
pub(super) async fn run(command: DbCommand, settings: &Settings) -> Result<(), CliError> {
    match command {
        DbCommand::Migrate => {
            store::open(settings.database_url.as_deref(), &settings.data_dir)
                .await
                .map_err(CliError::from_display)?;
            println!("database schema is up to date");
            Ok(())
        }
        DbCommand::Backup { file } => {
            let spinner = Bar::spinner("backing up");
            let report =
                store::backup::backup(settings.database_url.as_deref(), &settings.data_dir, &file)
                    .await;
            spinner.finish();
            let report = report.map_err(CliError::from_display)?;
            println!(
                "backed up {} pages ({} bytes) to {}",
                report.pages,
                report.bytes,
                file.display()
            );
            Ok(())
        }
        DbCommand::Copy { from, to } => copy(&from, &to, settings).await,
    }
}

async fn copy(from: &str, to: &str, settings: &Settings) -> Result<(), CliError> {
    if from == to {
        return Err(CliError("--from and --to name the same database".into()));
    }
    if let Some(file) = store::sqlite_file_of(from).map_err(CliError::from_display)?
        && !file.is_file()
    {
        return Err(CliError(format!(
            "--from: {}: no database there",
            file.display()
        )));
    }
    let source = store::open(Some(from), &settings.data_dir)
        .await
        .map_err(|e| CliError(format!("--from: {e}")))?;
    let destination = store::open(Some(to), &settings.data_dir)
        .await
        .map_err(|e| CliError(format!("--to: {e}")))?;
    let bar = Bar::new(0, "copying");
    let report = store::copy::copy(source.as_ref(), destination.as_ref(), &bar).await;
    bar.finish();
    let report = report.map_err(|e| CliError(format!("nothing copied: {e}")))?;
    let counts: Vec<_> = report
        .iter()
        .map(|(table, rows)| format!("{rows} {table}"))
        .collect();
    println!("copied {}", counts.join(", "));
    Ok(())
}
