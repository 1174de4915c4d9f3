//! `herald gen-corpus DIR N [--seed S]`: write a synthetic bilingual store
//! into a new or empty folder.

use std::process::ExitCode;

use herald::diagnostic::Diagnostic;

use super::args::{Cli, GenCorpusArgs};
use super::error::{CliError, Status};

/// Runs `herald gen-corpus`.
pub fn run(cli: &Cli, args: &GenCorpusArgs) -> Result<ExitCode, CliError> {
    let occupied = std::fs::read_dir(&args.dir).map(|mut entries| entries.next().is_some()).unwrap_or(false);
    if occupied {
        return Err(CliError::usage(
            Diagnostic::error(&args.dir, "the folder is not empty")
                .with_hint("gen-corpus writes a fresh store; give it a new or empty folder"),
        ));
    }
    let summary = herald::corpus::generate(&args.dir, args.count, args.seed)
        .map_err(|e| CliError::failed(Diagnostic::error(&args.dir, format!("cannot write the corpus: {e}"))))?;
    if !cli.quiet {
        eprintln!(
            "wrote {} documents to {} ({} stories in both languages, {} drafts, {} future-dated)",
            summary.documents,
            args.dir.display(),
            summary.pairs,
            summary.drafts,
            summary.future
        );
    }
    Ok(Status::Ok.into())
}
