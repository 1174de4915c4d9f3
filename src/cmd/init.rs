//! `herald init [STORE]`: inspect a store and write a commented
//! `feeds.toml` for it (the work is `herald::init`'s; this prints what it
//! found).

use std::process::ExitCode;

use herald::init::InitError;

use super::args::{Cli, InitArgs};
use super::error::{CliError, Status};

/// Runs `herald init`.
pub fn run(cli: &Cli, args: &InitArgs) -> Result<ExitCode, CliError> {
    let inspection = herald::init::init(&args.store, &cli.config, args.force).map_err(|e| match e {
        InitError::Refused(d) => CliError::usage(d),
        InitError::Failed(d) => CliError::failed(d),
    })?;
    if !cli.quiet {
        eprintln!("{}", inspection.summary().trim_end());
        eprintln!(
            "wrote {}: read it, set base_url if it says CHANGE, then run `herald check --config {}`",
            cli.config.display(),
            cli.config.display()
        );
    }
    Ok(Status::Ok.into())
}
