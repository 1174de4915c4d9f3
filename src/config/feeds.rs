//! `[feeds]`: how many items a feed holds, full content or summaries, what
//! the site-wide feeds hold, and the path of every feed of every scope.

use serde::Deserialize;
use toml::Spanned;

use super::validate::{NumberKey, Validator};

/// `item_limit`: 1 to 10,000 items, 50 by default.
const ITEM_LIMIT: NumberKey =
    NumberKey::new("item_limit", 1, 10_000, 50).with_hint("use a number from 1 to 10000 (50 is usual)");
/// The site-wide feeds' default paths (RSS, Atom, JSON Feed); no placeholders.
const DEFAULT_SITE_PATHS: [&str; 3] = ["/rss.xml", "/atom.xml", "/feed.json"];
/// The placeholders of a site-wide feed path: none.
const SITE_PLACEHOLDERS: &[&str] = &[];
/// A language's feeds' default paths.
const DEFAULT_LANGUAGE_PATHS: [&str; 3] = ["/{lang}/rss.xml", "/{lang}/atom.xml", "/{lang}/feed.json"];
/// The placeholders a language feed path must hold.
const LANGUAGE_PLACEHOLDERS: &[&str] = &["lang"];
/// A section's feeds' default paths.
const DEFAULT_SECTION_PATHS: [&str; 3] =
    ["/{lang}/{section}/rss.xml", "/{lang}/{section}/atom.xml", "/{lang}/{section}/feed.json"];
/// The placeholders a section feed path must hold.
const SECTION_PLACEHOLDERS: &[&str] = &["lang", "section"];

/// Whether feeds carry the full article or only its summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentMode {
    /// `content:encoded` / Atom `content` / `content_html` carry the body
    /// (the default).
    #[default]
    Full,
    /// Only the summary is published.
    Summary,
}

/// Which articles the site-wide feeds (`/rss.xml` …) hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteScope {
    /// Articles in the default language (the usual choice and the default:
    /// `/rss.xml` is the main-language feed).
    #[default]
    DefaultLanguage,
    /// Articles in every language, mixed.
    AllLanguages,
}

/// Path templates for one feed scope, one per format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPaths {
    /// RSS 2.0 path.
    pub rss: String,
    /// Atom 1.0 path.
    pub atom: String,
    /// JSON Feed 1.1 path.
    pub json: String,
}

/// `[feeds]`: limits, content mode and path templates.
#[derive(Debug, Clone)]
pub struct FeedSettings {
    /// Most items in one feed (default 50).
    pub item_limit: usize,
    /// Full content or summaries.
    pub content: ContentMode,
    /// What the site-wide feeds hold.
    pub site_scope: SiteScope,
    /// Site-wide feed paths (no placeholders).
    pub site_paths: FeedPaths,
    /// Per-language feed paths (`{lang}`).
    pub language_paths: FeedPaths,
    /// Per-section feed paths (`{lang}` and `{section}`).
    pub section_paths: FeedPaths,
}

/// `[feeds]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFeeds {
    item_limit: Option<Spanned<i64>>,
    content: Option<ContentMode>,
    site_scope: Option<SiteScope>,
    #[serde(default)]
    paths: RawFeedPathsByScope,
}

/// `[feeds.paths]` as written: one table per scope.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFeedPathsByScope {
    #[serde(default)]
    site: RawFeedPaths,
    #[serde(default)]
    language: RawFeedPaths,
    #[serde(default)]
    section: RawFeedPaths,
}

/// `[feeds.paths.SCOPE]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFeedPaths {
    rss: Option<Spanned<String>>,
    atom: Option<Spanned<String>>,
    json: Option<Spanned<String>>,
}

/// Checks `[feeds]`; every value has a default.
pub(super) fn validate(v: &mut Validator<'_>, raw: RawFeeds) -> FeedSettings {
    let item_limit = v.number(&raw.item_limit, &ITEM_LIMIT) as usize;
    let paths = raw.paths;
    let site_paths = feed_paths(v, paths.site, DEFAULT_SITE_PATHS, SITE_PLACEHOLDERS);
    let language_paths = feed_paths(v, paths.language, DEFAULT_LANGUAGE_PATHS, LANGUAGE_PLACEHOLDERS);
    let section_paths = feed_paths(v, paths.section, DEFAULT_SECTION_PATHS, SECTION_PLACEHOLDERS);
    FeedSettings {
        item_limit,
        content: raw.content.unwrap_or_default(),
        site_scope: raw.site_scope.unwrap_or_default(),
        site_paths,
        language_paths,
        section_paths,
    }
}

/// The three paths of one scope, each checked to hold the `required`
/// placeholders.
fn feed_paths(v: &mut Validator<'_>, raw: RawFeedPaths, defaults: [&str; 3], required: &[&str]) -> FeedPaths {
    let mut check = |value, default: &str| v.path_template(value, default, required, "feed", None);
    FeedPaths {
        rss: check(raw.rss, defaults[0]),
        atom: check(raw.atom, defaults[1]),
        json: check(raw.json, defaults[2]),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::testing::{MINIMAL, first_error};

    #[test]
    fn feed_paths_need_their_placeholders() {
        let text = format!("{MINIMAL}\n[feeds.paths.section]\nrss = \"/{{lang}}/rss.xml\"\n");
        let e = first_error(&text);
        assert!(e.contains("lacks `{section}`"), "{e}");
    }
}
