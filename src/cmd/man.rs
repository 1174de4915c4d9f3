//! `herald man [--out-dir DIR]`: the manual page, or one page per command,
//! generated from the command-line definition.

use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;
use herald::diagnostic::Diagnostic;

use super::args::Cli;
use super::error::{CliError, Status};

/// Prints `herald.1`, or writes it and `herald-COMMAND.1` into `out_dir`.
pub fn run(out_dir: Option<&Path>) -> Result<ExitCode, CliError> {
    let command = Cli::command();
    let written = match out_dir {
        // One page per command, as git does: herald.1, herald-build.1, …
        Some(dir) => std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(command, dir)),
        None => clap_mangen::Man::new(command).render(&mut std::io::stdout()),
    };
    written.map_err(|e| {
        let message = format!("cannot write the manual pages: {e}");
        CliError::failed(match out_dir {
            Some(dir) => Diagnostic::error(dir, message),
            None => Diagnostic::general_error(message),
        })
    })?;
    Ok(Status::Ok.into())
}
