//! `[archives]`: the RFC 5005 monthly archive documents of every feed, so a
//! new subscriber can read back through the whole history, and where each
//! one is published.

use serde::Deserialize;
use toml::Spanned;

use super::validate::Validator;

/// `[archives]`: monthly archive documents of every feed (RFC 5005), so a
/// new subscriber can read back through the whole history.
#[derive(Debug, Clone)]
pub struct ArchiveSettings {
    /// Whether archives are published.
    pub enabled: bool,
    /// Path template of the site feed's archives (`{month}`, `{ext}`).
    pub site_path: String,
    /// Path template of a language feed's archives (`{lang}`, `{month}`, `{ext}`).
    pub language_path: String,
    /// Path template of a section feed's archives (`{lang}`, `{section}`,
    /// `{month}`, `{ext}`).
    pub section_path: String,
    /// Path template of each language's archive index (`{lang}`).
    pub index_path: String,
}

/// `[archives]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawArchives {
    enabled: Option<bool>,
    site_path: Option<Spanned<String>>,
    language_path: Option<Spanned<String>>,
    section_path: Option<Spanned<String>>,
    index_path: Option<Spanned<String>>,
}

/// Checks `[archives]`: every path template holds the placeholders that keep
/// two archives from sharing a path.
pub(super) fn validate(v: &mut Validator<'_>, raw: RawArchives) -> ArchiveSettings {
    let mut path = |value, default: &str, required: &[&str]| v.path_template(value, default, required, "archive", None);
    ArchiveSettings {
        enabled: raw.enabled.unwrap_or(true),
        site_path: path(raw.site_path, "/archive/{month}.{ext}", &["month", "ext"]),
        language_path: path(raw.language_path, "/{lang}/archive/{month}.{ext}", &["lang", "month", "ext"]),
        section_path: path(
            raw.section_path,
            "/{lang}/{section}/archive/{month}.{ext}",
            &["lang", "section", "month", "ext"],
        ),
        index_path: path(raw.index_path, "/{lang}/archive.xml", &["lang"]),
    }
}
