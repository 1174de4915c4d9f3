//! `herald completions SHELL`: a shell completion script, generated from
//! the command-line definition.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;
use herald::diagnostic::Diagnostic;

use super::args::Cli;
use super::error::{CliError, Status};

/// Prints the completion script for `shell`.
pub fn run(shell: clap_complete::Shell) -> Result<ExitCode, CliError> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "herald", &mut script);
    std::io::stdout()
        .write_all(&script)
        .map_err(|e| CliError::failed(Diagnostic::general_error(format!("cannot write the completion script: {e}"))))?;
    Ok(Status::Ok.into())
}
