//! `herald build`: read the store, render every feed and sitemap into a
//! folder beside the output, and swap it in place of the output in one step.

use std::path::Path;
use std::process::ExitCode;

use herald::diagnostic::Diagnostic;
use herald::pipeline::{self, Loaded};
use herald::snapshot::{ForeignFolder, StagedDir};
use jiff::Timestamp;

use super::args::{BuildArgs, Cli};
use super::error::{CliError, Status};
use super::{load_config, print_diagnostics};

/// Runs `herald build`.
pub fn run(cli: &Cli, args: &BuildArgs) -> Result<ExitCode, CliError> {
    let config = load_config(cli, &args.store)?;
    let store = super::open_articles(&config)?;
    let now = args.store.now.unwrap_or_else(Timestamp::now);
    let bar = progress_bar(cli);
    let mut loaded = pipeline::load_reporting(store.as_ref(), &config, now, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    // Errors are known once the store is read: a strict build stops before
    // rendering anything.
    if args.strict && loaded.has_errors() {
        bar.finish_and_clear();
        return Err(refuse(report(&loaded, cli.quiet)));
    }
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} rendering feeds and sitemaps {elapsed}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    // Each file goes to a folder beside the output as soon as it is
    // rendered; the folder replaces the output only once all went well.
    let written = StagedDir::begin(&args.out).and_then(|staged| {
        pipeline::write_site(&mut loaded, store.as_ref(), &config, &staged).map(|files| (staged, files))
    });
    bar.finish_and_clear();
    let skipped = report(&loaded, cli.quiet);
    let (staged, files) = written.map_err(|e| cannot_write(&args.out, e))?;
    // A body that could not be read while rendering (its file deleted
    // meanwhile): the new folder is dropped, the output left as it was.
    if args.strict && skipped > 0 {
        drop(staged);
        return Err(refuse(skipped));
    }
    staged.commit().map_err(|e| cannot_write(&args.out, e))?;
    let counts = loaded.catalog.counts();
    if !cli.quiet {
        eprintln!(
            "wrote {} files to {} from {} visible articles ({} documents, {} skipped, {} drafts, {} scheduled, {} expired)",
            files,
            args.out.display(),
            counts.visible,
            loaded.documents,
            skipped,
            counts.drafts,
            counts.scheduled,
            counts.expired,
        );
    }
    // The process ends here: freeing the catalog article by article would
    // only cost time.
    std::mem::forget(loaded);
    Ok(Status::Ok.into())
}

/// Prints what the build skipped (every error) and returns how many
/// articles that is. Warnings belong to `herald check`, except when nothing
/// was read at all: then they say why (an empty store, a site folder given
/// instead of its content folder).
fn report(loaded: &Loaded, quiet: bool) -> usize {
    let shown: Vec<Diagnostic> =
        loaded.diagnostics.iter().filter(|d| d.is_error() || loaded.documents == 0).cloned().collect();
    print_diagnostics(&shown, quiet);
    shown.iter().filter(|d| d.is_error()).count()
}

/// `--strict` met `errors` bad articles: nothing is written.
fn refuse(errors: usize) -> CliError {
    CliError::problems(vec![Diagnostic::general_error(format!(
        "{errors} article(s) have errors; nothing was written (--strict)"
    ))])
}

/// The output folder could not be written (exit 3), or holds files herald
/// did not write and was left alone (exit 2).
fn cannot_write(out: &Path, e: std::io::Error) -> CliError {
    if ForeignFolder::in_error(&e).is_some() {
        return CliError::usage(
            Diagnostic::error(out, "the folder is not empty and was not written by herald")
                .with_hint("herald replaces its output folder as a whole: choose a new or empty folder for --out"),
        );
    }
    CliError::failed(Diagnostic::error(out, format!("cannot write the output: {e}")))
}

/// A progress bar on stderr for long builds: drawn only when stderr is a
/// terminal and `--quiet` is off (indicatif draws nothing otherwise).
fn progress_bar(cli: &Cli) -> indicatif::ProgressBar {
    if cli.quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    let style =
        indicatif::ProgressStyle::with_template("{spinner} reading articles {pos}/{len} {wide_bar} {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}
