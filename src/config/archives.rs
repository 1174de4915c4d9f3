//! `[archives]`: the RFC 5005 monthly archive documents of every feed, so a
//! new subscriber can read back through the whole history, and where each
//! one is published.

use serde::Deserialize;
use toml::Spanned;

use super::validate::Validator;

/// `enabled` when not given: archives are published.
const DEFAULT_ENABLED: bool = true;
/// The site feed's archives' default path.
const DEFAULT_SITE_PATH: &str = "/archive/{month}.{ext}";
/// The placeholders the site feed's archive path must hold.
const SITE_PLACEHOLDERS: &[&str] = &["month", "ext"];
/// A language feed's archives' default path.
const DEFAULT_LANGUAGE_PATH: &str = "/{lang}/archive/{month}.{ext}";
/// The placeholders a language feed's archive path must hold.
const LANGUAGE_PLACEHOLDERS: &[&str] = &["lang", "month", "ext"];
/// A section feed's archives' default path.
const DEFAULT_SECTION_PATH: &str = "/{lang}/{section}/archive/{month}.{ext}";
/// The placeholders a section feed's archive path must hold.
const SECTION_PLACEHOLDERS: &[&str] = &["lang", "section", "month", "ext"];
/// Each language's archive index's default path.
const DEFAULT_INDEX_PATH: &str = "/{lang}/archive.xml";
/// The placeholders an archive index path must hold.
const INDEX_PLACEHOLDERS: &[&str] = &["lang"];

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
        enabled: raw.enabled.unwrap_or(DEFAULT_ENABLED),
        site_path: path(raw.site_path, DEFAULT_SITE_PATH, SITE_PLACEHOLDERS),
        language_path: path(raw.language_path, DEFAULT_LANGUAGE_PATH, LANGUAGE_PLACEHOLDERS),
        section_path: path(raw.section_path, DEFAULT_SECTION_PATH, SECTION_PLACEHOLDERS),
        index_path: path(raw.index_path, DEFAULT_INDEX_PATH, INDEX_PLACEHOLDERS),
    }
}
