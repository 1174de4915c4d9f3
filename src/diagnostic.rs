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

/// What makes problems "of one kind" for [`render_summarised`]: the
/// severity and the message with its particulars (the parts in backticks:
/// a path, a key, an address) left out, so "image `a.jpg` has no alt text"
/// and "image `b.jpg` has no alt text" are one kind.
pub fn kind_of(diagnostic: &Diagnostic) -> String {
    let mut kind = format!("{}: ", diagnostic.severity);
    let mut quoted = false;
    for (i, part) in diagnostic.message.split('`').enumerate() {
        quoted = i % 2 == 1;
        if quoted {
            // A list of particulars (`a`, `b`) is one particular.
            if !kind.ends_with('…') {
                kind.push('…');
            }
        } else if !(part.trim() == "," && kind.ends_with('…')) {
            kind.push_str(part);
        }
    }
    if quoted {
        // An unmatched backtick: the rest was a particular too.
        kind.push('…');
    }
    kind
}

/// Every problem, for people reading a large store's report: errors in
/// full, sorted; then warnings grouped by kind ([`kind_of`]), each kind in
/// full when it has at most `shown_per_kind + 2` problems, else its first
/// `shown_per_kind` (sorted) and a line counting the others.
/// [`render_all`] lists everything.
pub fn render_summarised(diagnostics: &[Diagnostic], shown_per_kind: usize) -> String {
    let mut sorted: Vec<&Diagnostic> = diagnostics.iter().collect();
    sorted.sort();
    let mut out = String::new();
    for d in sorted.iter().filter(|d| d.is_error()) {
        out.push_str(&d.to_string());
        out.push('\n');
    }
    // Kinds in the order of their first problem.
    let mut kinds: Vec<(String, Vec<&Diagnostic>)> = Vec::new();
    for d in sorted.iter().filter(|d| !d.is_error()) {
        let kind = kind_of(d);
        match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, members)) => members.push(d),
            None => kinds.push((kind, vec![d])),
        }
    }
    for (kind, members) in &kinds {
        let shown = if members.len() > shown_per_kind + 2 { shown_per_kind } else { members.len() };
        for d in &members[..shown] {
            out.push_str(&d.to_string());
            out.push('\n');
        }
        if shown < members.len() {
            out.push_str(&format!(
                "… and {} more like this ({} in all: {kind}; `herald check --all` lists every one)\n",
                members.len() - shown,
                members.len(),
            ));
        }
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
    fn repeated_warnings_are_summarised_and_errors_listed_in_full() {
        let mut all = Vec::new();
        for i in 0..10 {
            all.push(Diagnostic::warning(format!("a/{i}.md"), format!("image `/{i}.jpg` has no alt text")));
            all.push(Diagnostic::error(format!("b/{i}.md"), format!("`date` `{i}` is not a date")));
        }
        all.push(Diagnostic::warning("c.md", "permalink `/x/` is also used by `d.md`, `e.md`"));
        all.push(Diagnostic::warning("d.md", "permalink `/y/` is also used by `f.md`"));
        let out = render_summarised(&all, 3);
        assert_eq!(out.matches("error: ").count(), 10, "{out}");
        assert_eq!(out.matches("has no alt text").count(), 4, "{out}");
        assert!(out.contains("a/0.md: warning: image `/0.jpg` has no alt text\na/1.md: warning"), "{out}");
        assert!(
            out.contains("… and 7 more like this (10 in all: warning: image … has no alt text; `herald check --all` lists every one)"),
            "{out}"
        );
        // Two of a kind (a list of particulars is one particular): both shown.
        assert_eq!(out.matches("is also used by").count(), 2, "{out}");
        assert_eq!(kind_of(&all[20]), kind_of(&all[21]));
        // Errors first, whatever the order given.
        assert!(out.find("error: ").unwrap() < out.find("warning: ").unwrap());
        // Few of a kind: all shown.
        assert_eq!(render_summarised(&all[..10], 3).matches("has no alt text").count(), 5);
        assert_eq!(render_all(&all).lines().count(), 22);
    }

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
