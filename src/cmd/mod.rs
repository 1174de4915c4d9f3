//! herald's commands, one file each, run by `main` with the parsed command
//! line ([`args`]). Each returns `Result<ExitCode, CliError>`: its exit
//! status when it did its work (`check` finding errors is work done, exit
//! 1), or a [`CliError`](error::CliError) carrying the problems that stopped
//! it, which `main` prints. What a command reports on success (a summary,
//! skipped articles, a table) it prints itself.
//!
//! The helpers here are shared by several commands.

pub mod args;
pub mod build;
pub mod check;
pub mod completions;
pub mod db;
pub mod deliveries;
pub mod error;
pub mod followers;
pub mod gen_corpus;
pub mod init;
pub mod man;
pub mod push_state;
pub mod serve;
pub mod subscriptions;

use std::sync::Arc;

use herald::config::{Config, DatabaseUrl, Overrides};
use herald::db::Database;
use herald::diagnostic::{Diagnostic, render_all};
use herald::store::ArticleStore;
use herald::store::postgres::PostgresArticleStore;

use args::{Cli, StoreArgs};
use error::CliError;

/// The configuration, with the store-reading commands' overrides.
fn load_config(cli: &Cli, store: &StoreArgs) -> Result<Config, CliError> {
    let overrides = Overrides {
        store: store.store.clone(),
        base_url: store.base_url.clone(),
        database_url: database_url(cli)?,
        ..Overrides::default()
    };
    Ok(Config::load(&cli.config, &overrides)?)
}

/// `--database-url` (or `HERALD_DATABASE_URL`), checked; the error never
/// repeats the URL (it may hold a password).
fn database_url(cli: &Cli) -> Result<Option<DatabaseUrl>, CliError> {
    match &cli.database_url {
        None => Ok(None),
        Some(text) if text.0.trim().is_empty() => Ok(None),
        Some(text) => DatabaseUrl::parse(&text.0).map(Some).map_err(|why| {
            CliError::usage(
                Diagnostic::general_error(format!("--database-url (or HERALD_DATABASE_URL): {why}"))
                    .with_hint("write postgresql://USER:PASSWORD@HOST:PORT/DATABASE"),
            )
        }),
    }
}

/// The articles `config` names: the store folder, or with `[database]
/// articles = true` the database's `articles` table (its schema must be
/// this herald's: `herald db migrate` makes it so).
fn open_articles(config: &Config) -> Result<Box<dyn ArticleStore>, CliError> {
    if !config.database.articles {
        return Ok(Box::new(herald::pipeline::open_store(config).map_err(CliError::usage)?));
    }
    let Some(url) = &config.database.url else {
        return Err(CliError::usage(
            Diagnostic::error(&config.source, "[database] articles = true, but no database is configured")
                .with_hint("add [database] url = \"postgresql://…\", set HERALD_DATABASE_URL, or pass --database-url"),
        ));
    };
    let database = Database::connect(url, &config.database).map_err(db::db_failed)?;
    database.block_on(herald::db::migrate::check(&database)).map_err(db::db_failed)?;
    Ok(Box::new(PostgresArticleStore::new(Arc::new(database))))
}

/// Prints a command's report of problems on stderr, sorted by place;
/// warnings are left out with `--quiet`.
fn print_diagnostics(diagnostics: &[Diagnostic], quiet: bool) {
    let shown: Vec<Diagnostic> = diagnostics.iter().filter(|d| !quiet || d.is_error()).cloned().collect();
    if !shown.is_empty() {
        eprint!("{}", render_all(&shown));
    }
}
