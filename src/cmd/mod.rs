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

use herald::config::{Config, DatabaseUrl, Overrides};
use herald::diagnostic::{Diagnostic, render_all};

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

/// Prints a command's report of problems on stderr, sorted by place;
/// warnings are left out with `--quiet`.
fn print_diagnostics(diagnostics: &[Diagnostic], quiet: bool) {
    let shown: Vec<Diagnostic> = diagnostics.iter().filter(|d| !quiet || d.is_error()).cloned().collect();
    if !shown.is_empty() {
        eprint!("{}", render_all(&shown));
    }
}
