//! The validator's shared core. Every problem in `feeds.toml` becomes a
//! `feeds.toml:LINE:COL: error: …` diagnostic with a hint, and all of them
//! are gathered before the configuration is refused. The table files
//! (`site.rs`, `feeds.rs`, …) check their own keys with the helpers here:
//! spans to positions, "did you mean" for misspelt keys, whole numbers in
//! a range, path templates, texts given per language.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;

use super::template::unknown_placeholder;
use crate::diagnostic::{Diagnostic, line_col};

/// Deserialises `text`, read from `path`; a syntax error, an unknown key or
/// a value of the wrong type becomes one diagnostic at its position, with a
/// "did you mean" hint when the key is a near miss.
pub(super) fn parse_toml<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T, Diagnostic> {
    toml::from_str(text).map_err(|e| {
        let mut d = Diagnostic::error(path, toml_message(&e));
        if let Some(span) = e.span() {
            let (line, col) = line_col(text, span.start);
            d = d.at(line, col);
        }
        let hint = match closest_field(&d.message) {
            Some(meant) => format!("did you mean `{meant}`? (the README lists every key)"),
            None => "see the commented sample feeds.toml and the README's configuration reference".to_string(),
        };
        d.with_hint(hint)
    })
}

/// toml's message without its own snippet (we print our own position).
fn toml_message(e: &toml::de::Error) -> String {
    let message = e.message().trim();
    message.lines().next().unwrap_or(message).to_string()
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" messages: the
/// expected name closest to the misspelt one, when it is close enough to be
/// what the user meant (`base_ulr` → `base_url`).
fn closest_field(message: &str) -> Option<String> {
    let rest = message.split_once("unknown field `")?.1;
    let (unknown, rest) = rest.split_once('`')?;
    let expected = rest.split_once("expected")?.1;
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|candidate| (strsim::damerau_levenshtein(unknown, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= 2.max(candidate.len() / 4))
        .min()
        .map(|(_, candidate)| candidate.to_string())
}

/// A text given once for all languages, or per language code.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum Localized {
    /// The same text in every language.
    Same(String),
    /// One text per language code.
    PerLanguage(BTreeMap<String, String>),
}

/// A whole-number key: its name, the values it accepts, its value when not
/// given, and the hint for a value out of range when the usual one ("use a
/// number from MIN to MAX (default D)") would not do.
pub(super) struct NumberKey {
    /// The key as written in the file.
    pub(super) name: &'static str,
    /// The smallest value accepted.
    pub(super) min: i64,
    /// The largest value accepted.
    pub(super) max: i64,
    /// The value when the key is not given.
    pub(super) default: i64,
    /// The hint for a value out of range, instead of the usual one.
    pub(super) hint: Option<&'static str>,
}

impl NumberKey {
    /// A key from `min` to `max`, `default` when not given.
    pub(super) const fn new(name: &'static str, min: i64, max: i64, default: i64) -> NumberKey {
        NumberKey { name, min, max, default, hint: None }
    }

    /// The same key with its own hint for a value out of range.
    pub(super) const fn with_hint(self, hint: &'static str) -> NumberKey {
        NumberKey { hint: Some(hint), ..self }
    }
}

/// Collects every problem with its position while the raw tables turn into
/// settings.
pub(super) struct Validator<'a> {
    /// The file's text, to turn byte spans into lines and columns.
    text: &'a str,
    /// The file, as named in messages.
    path: &'a Path,
    /// Problems found so far, in the order found.
    problems: Vec<Diagnostic>,
}

impl<'a> Validator<'a> {
    /// A validator for `text`, read from `path`.
    pub(super) fn new(text: &'a str, path: &'a Path) -> Self {
        Validator { text, path, problems: Vec::new() }
    }

    /// The file being validated.
    pub(super) fn path(&self) -> &'a Path {
        self.path
    }

    /// Everything found; empty when the file is valid.
    pub(super) fn into_problems(self) -> Vec<Diagnostic> {
        self.problems
    }

    /// Records a problem with the value `at`, at its position.
    pub(super) fn problem<T>(&mut self, at: &Spanned<T>, message: impl Into<String>, hint: impl Into<String>) {
        let (line, col) = line_col(self.text, at.span().start);
        self.problems.push(Diagnostic::error(self.path, message).at(line, col).with_hint(hint));
    }

    /// Records a problem of the file as a whole (something missing).
    pub(super) fn problem_in_file(&mut self, message: impl Into<String>, hint: impl Into<String>) {
        self.problems.push(Diagnostic::error(self.path, message).with_hint(hint));
    }

    /// The whole number `key` holds, or its default when not given; out of
    /// range is a problem (and the default is used).
    pub(super) fn number(&mut self, value: &Option<Spanned<i64>>, key: &NumberKey) -> i64 {
        match value {
            None => key.default,
            Some(n) if (key.min..=key.max).contains(n.get_ref()) => *n.get_ref(),
            Some(n) => {
                let hint = match key.hint {
                    Some(hint) => hint.to_string(),
                    None => format!("use a number from {} to {} (default {})", key.min, key.max, key.default),
                };
                self.problem(n, format!("{} {} is out of range", key.name, n.get_ref()), hint);
                key.default
            }
        }
    }

    /// Checks a path template of `kind` (feed, sitemap, archive): it starts
    /// with `/`, names a file (ending in `suffix` when given), holds every
    /// `required` placeholder (else files would overwrite each other) and
    /// no other. `None` gives `default`.
    pub(super) fn path_template(
        &mut self,
        value: Option<Spanned<String>>,
        default: &str,
        required: &[&str],
        kind: &str,
        suffix: Option<&str>,
    ) -> String {
        let Some(value) = value else { return default.to_string() };
        let template = value.get_ref();
        let example = format!("e.g. `{default}`");
        let names_a_file = !template.ends_with('/') && suffix.is_none_or(|s| template.ends_with(s));
        if !template.starts_with('/') || template.contains("..") || !names_a_file {
            let ending = suffix.map(|s| format!(" and end with `{s}`")).unwrap_or_else(|| " and name a file".into());
            self.problem(&value, format!("{kind} path `{template}` must start with `/`{ending}"), example.clone());
        }
        for placeholder in required {
            if !template.contains(&format!("{{{placeholder}}}")) {
                let why = format!(
                    "{kind} path `{template}` lacks `{{{placeholder}}}`, so {kind}s would overwrite each other"
                );
                self.problem(&value, why, example.clone());
            }
        }
        if let Some(bad) = unknown_placeholder(template, required) {
            self.problem(
                &value,
                format!("placeholder `{{{bad}}}` cannot be used in {kind} path `{template}`"),
                example,
            );
        }
        template.clone()
    }

    /// A text per language code (cleaned to one line); a code that is not
    /// among the declared `codes` is a problem.
    pub(super) fn localized(
        &mut self,
        raw: &Spanned<Localized>,
        codes: &[String],
        what: &str,
    ) -> BTreeMap<String, String> {
        match raw.get_ref() {
            Localized::Same(s) => codes.iter().map(|c| (c.clone(), crate::text::clean_line(s))).collect(),
            Localized::PerLanguage(map) => {
                for code in map.keys() {
                    if !codes.is_empty() && !codes.contains(code) {
                        self.problem(
                            raw,
                            format!("{what} is given for `{code}`, which is not a declared language"),
                            format!("declared languages: {}", codes.join(", ")),
                        );
                    }
                }
                map.iter().map(|(k, v)| (k.clone(), crate::text::clean_line(v))).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::closest_field;
    use crate::config::testing::{MINIMAL, first_error};

    #[test]
    fn unknown_key_names_line_and_column() {
        let text = MINIMAL.replace("prefix = \"\"", "prefx = \"\"");
        let e = first_error(&text);
        assert!(e.starts_with("feeds.toml:10:1: error: unknown field `prefx`"), "{e}");
        assert!(e.contains("hint:"), "{e}");
    }

    #[test]
    fn syntax_error_has_position() {
        let e = first_error("[site\nbase_url = 1");
        assert!(e.starts_with("feeds.toml:1:"), "{e}");
    }

    #[test]
    fn suggests_only_near_names() {
        let message = "unknown field `base_ulr`, expected one of `base_url`, `default_language`, `title`";
        assert_eq!(closest_field(message).as_deref(), Some("base_url"));
        let message = "unknown field `colour`, expected one of `base_url`, `default_language`, `title`";
        assert_eq!(closest_field(message), None);
        let message = "unknown field `itemlimit`, expected `item_limit` or `content`";
        assert_eq!(closest_field(message).as_deref(), Some("item_limit"));
        assert_eq!(closest_field("invalid type: string, expected a table"), None);
    }
}
