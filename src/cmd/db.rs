//! `herald db migrate|status|import`: the PostgreSQL database replicas
//! share.
//! The URL comes from `--database-url`, `HERALD_DATABASE_URL` or
//! `[database] url`; without a configuration file, the flag or the
//! variable alone will do.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use herald::config::{Config, DatabaseSettings, Overrides};
use herald::db::{Database, DbError, migrate, status};
use herald::diagnostic::Diagnostic;
use herald::store::FolderStore;
use herald::store::folder::read_policy;
use herald::store::postgres::import::import_folder;

use super::args::{Cli, DbCommand};
use super::error::{CliError, Status};

/// Runs `herald db …`.
pub fn run(cli: &Cli, command: &DbCommand) -> Result<ExitCode, CliError> {
    let database = connect(cli)?;
    match command {
        DbCommand::Migrate => {
            let done = database.block_on(migrate::migrate(&database)).map_err(db_failed)?;
            if done.applied.is_empty() {
                println!("schema version {}: nothing to do", done.to);
            } else {
                println!("schema version {} → {} (applied {:?})", done.from, done.to, done.applied);
            }
            Ok(Status::Ok.into())
        }
        DbCommand::Status => {
            let status = database.block_on(status::status(&database)).map_err(db_failed)?;
            print!("{status}");
            Ok(Status::Ok.into())
        }
        DbCommand::Import { folder, delete_missing } => import(cli, &database, folder, *delete_missing),
    }
}

/// `herald db import FOLDER`: the folder's documents upserted into the
/// articles table (after migrating), with what was done printed.
fn import(cli: &Cli, database: &Database, folder: &Path, delete_missing: bool) -> Result<ExitCode, CliError> {
    let overrides = Overrides { database_url: super::database_url(cli)?, ..Overrides::default() };
    let config = Config::load(&cli.config, &overrides)?;
    let store = FolderStore::open(folder).map_err(CliError::usage)?.with_policy(read_policy(&config));
    database.block_on(migrate::migrate(database)).map_err(db_failed)?;
    let report = database
        .block_on(async {
            let mut client = database.client().await?;
            import_folder(&mut client, store, Arc::new(config), delete_missing).await.map_err(|e| database.error(e))
        })
        .map_err(db_failed)?;
    super::print_diagnostics(&report.problems, cli.quiet);
    println!(
        "{}: {} documents: {} added, {} updated, {} unchanged, {} skipped, {} deleted",
        folder.display(),
        report.documents,
        report.inserted,
        report.updated,
        report.unchanged,
        report.skipped,
        report.deleted
    );
    Ok(if report.skipped > 0 { Status::Problems } else { Status::Ok }.into())
}

/// The database the command line or the configuration names.
fn connect(cli: &Cli) -> Result<Database, CliError> {
    let url = super::database_url(cli)?;
    let settings = if url.is_some() && !cli.config.exists() {
        DatabaseSettings { url: url.clone(), ..DatabaseSettings::default() }
    } else {
        let overrides = Overrides { database_url: url, ..Overrides::default() };
        Config::load(&cli.config, &overrides)?.database
    };
    let Some(url) = settings.url.clone() else {
        return Err(CliError::usage(
            Diagnostic::error(&cli.config, "no database is configured")
                .with_hint("add [database] url = \"postgresql://…\", set HERALD_DATABASE_URL, or pass --database-url"),
        ));
    };
    Database::connect(&url, &settings).map_err(db_failed)
}

/// A database error as the command's failure (a newer schema is a usage
/// problem: nothing was done).
pub fn db_failed(e: DbError) -> CliError {
    match e {
        DbError::SchemaNewer { .. } => CliError::usage(
            Diagnostic::general_error(e.to_string())
                .with_hint("the database was migrated by a newer herald; upgrade this one (never downgrade a schema)"),
        ),
        e => CliError::failed(
            Diagnostic::general_error(e.to_string())
                .with_hint("check the database URL, that PostgreSQL is running, and the user's rights"),
        ),
    }
}
