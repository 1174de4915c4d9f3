//! Problems a user can cause, reported as `path:line:col: message` plus a hint.
//!
//! One type serves the store (a bad article), the configuration (a bad key)
//! and `herald check`, so every problem reads the same way wherever it shows.

use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; the output is still complete (a missing translation twin).
    Warning,
    /// Something was skipped or refused (an article without a title).
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One problem, with where it is, what is wrong and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    /// The file the problem is in, as the user named it (store-relative
    /// paths are joined to the store root), or another place such as an
    /// address; empty when the problem has no place (see
    /// [`Diagnostic::general_error`]).
    pub path: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column (in characters), when known.
    pub column: Option<usize>,
    /// Whether the input was skipped or only questionable.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do about it, when there is something useful to say.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error in `path` with no position yet.
    pub fn error(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.into(),
            line: None,
            column: None,
            severity: Severity::Error,
            message: message.into(),
            hint: None,
        }
    }

    /// An error that belongs to no file or place (the async runtime did not
    /// start); it prints as `error: message`.
    pub fn general_error(message: impl Into<String>) -> Self {
        Diagnostic::error(PathBuf::new(), message)
    }

    /// A warning in `path` with no position yet.
    pub fn warning(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(path, message) }
    }

    /// Sets the 1-based line.
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// Sets the 1-based line and column.
    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// Adds a hint saying what to do.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Whether this problem made herald skip or refuse something.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.as_os_str().is_empty() {
            write!(f, "{}", self.path.display())?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
                if let Some(column) = self.column {
                    write!(f, ":{column}")?;
                }
            }
            f.write_str(": ")?;
        }
        write!(f, "{}: {}", self.severity, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = match text.get(..offset) {
        Some(before) => before,
        // Not on a character boundary: step back to one.
        None => {
            let mut at = offset;
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            &text[..at]
        }
    };
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Formats a list of diagnostics for a terminal, one per paragraph, sorted
/// by file and line so the output is stable.
pub fn render_all(diagnostics: &[Diagnostic]) -> String {
    let mut sorted: Vec<&Diagnostic> = diagnostics.iter().collect();
    sorted.sort();
    let mut out = String::new();
    for d in sorted {
        out.push_str(&d.to_string());
        out.push('\n');
    }
    out
}

/// Shortens `path` to be relative to `base` when it lies inside it.
pub fn relative_to(path: &Path, base: &Path) -> PathBuf {
    path.strip_prefix(base).map(Path::to_path_buf).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        // "bé " is 4 bytes; the '=' is the 4th character.
        assert_eq!(line_col(text, 10), (2, 4));
        assert_eq!(line_col(text, 1000), (3, 1));
    }

    #[test]
    fn display_names_file_line_and_hint() {
        let d = Diagnostic::error("feeds.toml", "unknown key `tittle`").at(3, 1).with_hint("did you mean `title`?");
        assert_eq!(d.to_string(), "feeds.toml:3:1: error: unknown key `tittle`\n  hint: did you mean `title`?");
    }

    #[test]
    fn a_general_error_has_no_place() {
        let d = Diagnostic::general_error("cannot start the async runtime").with_hint("free some memory");
        assert_eq!(d.to_string(), "error: cannot start the async runtime\n  hint: free some memory");
    }
}
