//! `herald db migrate|status`: the PostgreSQL database replicas share.
//! The URL comes from `--database-url`, `HERALD_DATABASE_URL` or
//! `[database] url`; without a configuration file, the flag or the
//! variable alone will do.

use std::process::ExitCode;

use herald::config::{Config, DatabaseSettings, Overrides};
use herald::db::{Database, DbError, migrate, status};
use herald::diagnostic::Diagnostic;

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
    }
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
