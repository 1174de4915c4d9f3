//! What a command hands back to `main`: its exit status, and when it could
//! not do its work, the problems to print ([`CliError`]). Commands never
//! print their failure themselves; `main` prints it once, as text or as
//! JSON log lines (`--log-format`).

use std::process::ExitCode;

use herald::config::ConfigError;
use herald::diagnostic::Diagnostic;

use crate::cmd::args::LogFormat;

/// herald's exit statuses, the same for every command (README, "Commands").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 0: all well.
    Ok,
    /// 1: the command ran and found problems (`check` found errors, `build
    /// --strict` met a bad article, no such subscription or delivery).
    Problems,
    /// 2: bad usage or configuration (a flag, `feeds.toml`, a store that
    /// cannot be opened, a folder or file herald refuses to replace):
    /// nothing was done.
    Usage,
    /// 3: the work failed: the system refused something herald needed (a
    /// write, a full disk, a port in use, the state database). A build
    /// leaves the previous output as it was.
    Failed,
}

impl Status {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Problems => 1,
            Status::Usage => 2,
            Status::Failed => 3,
        }
    }
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        ExitCode::from(status.code())
    }
}

/// A command that stopped: the exit status and every problem to show, in
/// the order to show them.
#[derive(Debug)]
pub struct CliError {
    /// The exit status.
    pub status: Status,
    /// What went wrong, each with its place and what to do.
    pub diagnostics: Vec<Diagnostic>,
}

impl CliError {
    /// Bad usage or configuration (exit 2): nothing was done.
    pub fn usage(diagnostic: Diagnostic) -> CliError {
        CliError { status: Status::Usage, diagnostics: vec![diagnostic] }
    }

    /// The work failed (exit 3).
    pub fn failed(diagnostic: Diagnostic) -> CliError {
        CliError { status: Status::Failed, diagnostics: vec![diagnostic] }
    }

    /// The command ran and found problems (exit 1).
    pub fn problems(diagnostics: Vec<Diagnostic>) -> CliError {
        CliError { status: Status::Problems, diagnostics }
    }

    /// Prints the problems on stderr: as `path:line: error: …` paragraphs,
    /// or one JSON log line each with `--log-format json`. Warnings are left
    /// out with `--quiet`; errors never are.
    pub fn print(&self, quiet: bool, format: LogFormat) {
        for d in self.diagnostics.iter().filter(|d| d.is_error() || !quiet) {
            match format {
                LogFormat::Text => eprintln!("{d}"),
                LogFormat::Json => log(d),
            }
        }
    }
}

/// One problem as a log event (the JSON log's fields: `path`, `line`,
/// `column`, `hint` and the message).
fn log(d: &Diagnostic) {
    let path = (!d.path.as_os_str().is_empty()).then(|| d.path.display().to_string());
    let (message, hint) = (&d.message, d.hint.as_deref());
    if d.is_error() {
        tracing::error!(path, line = d.line, column = d.column, hint, "{message}");
    } else {
        tracing::warn!(path, line = d.line, column = d.column, hint, "{message}");
    }
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> CliError {
        CliError { status: Status::Usage, diagnostics: e.diagnostics }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::args::EXIT_CODES;

    /// `--help` and the manual page list every status with its number.
    #[test]
    fn the_help_text_lists_every_status() {
        let listed = [
            (Status::Ok, "ok"),
            (Status::Problems, "problems found"),
            (Status::Usage, "usage or configuration error"),
            (Status::Failed, "the work failed"),
        ];
        for (status, meaning) in listed {
            let entry = format!("{} {meaning}", status.code());
            assert!(EXIT_CODES.contains(&entry), "{EXIT_CODES:?} lacks {entry:?}");
        }
        let mut codes: Vec<u8> = listed.iter().map(|(s, _)| s.code()).collect();
        codes.dedup();
        assert_eq!(codes, [0, 1, 2, 3]);
    }
}
