//! `herald check`: read the configuration and the whole store and list
//! the problems on stdout (every error; warnings of one kind past the first
//! few counted, unless `--all`); exit 1 when there is an error.

use std::process::ExitCode;

use herald::diagnostic::{render_all, render_summarised};
use herald::pipeline;
use jiff::Timestamp;

use super::args::{CheckArgs, Cli};
use super::error::{CliError, Status};
use super::load_config;

/// How many warnings of one kind are listed before the rest are counted
/// (without `--all`).
const SHOWN_PER_KIND: usize = 5;

/// Runs `herald check`.
pub fn run(cli: &Cli, args: &CheckArgs) -> Result<ExitCode, CliError> {
    let config = load_config(cli, &args.store)?;
    let store = super::open_articles(&config)?;
    let now = args.store.now.unwrap_or_else(Timestamp::now);
    let loaded = pipeline::load(store.as_ref(), &config, now);
    let errors = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = loaded.diagnostics.len() - errors;
    if args.all {
        print!("{}", render_all(&loaded.diagnostics));
    } else {
        print!("{}", render_summarised(&loaded.diagnostics, SHOWN_PER_KIND));
    }
    println!("{} documents: {errors} error(s), {warnings} warning(s)", loaded.documents);
    Ok(if errors > 0 { Status::Problems } else { Status::Ok }.into())
}
