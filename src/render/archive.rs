//! Feed history (RFC 5005): monthly archive documents of every feed, so a
//! subscriber can read back through everything the feed ever held.
//!
//! A feed whose visible articles all fit in the live document is marked
//! *complete* (`fh:complete`) and has no archives. Otherwise each month
//! with articles gets an archive document per format, holding that
//! month's articles newest first (with summaries, not bodies), marked
//! `fh:archive`, linking `current` (the live feed) and `prev-archive` /
//! `next-archive` (the neighbouring months). The live feed links
//! `prev-archive` to the newest month; JSON Feed uses `next_url` along the
//! same chain. The months partition the articles, so walking the chain
//! visits each article once, and a past month keeps its bytes unless one of
//! its own articles changes.

use std::collections::BTreeSet;
use std::sync::Arc;

use quick_xml::Writer;
use quick_xml::events::BytesText;

use super::scope::{FeedFormat, FeedScope};
use super::sitemap::SITEMAP_CONTENT_TYPE;
use crate::article::{Article, Month};
use crate::catalog::Catalog;
use crate::config::{Config, SiteScope, fill_template};
use crate::snapshot::{Resource, ResourceKind};

/// The feed-history namespace of RFC 5005.
pub const HISTORY_NS: &str = "http://purl.org/syndication/history/1.0";

/// Where a feed document stands in its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// Archives are off: no history markup.
    Off,
    /// The live feed holds every article (`fh:complete`).
    Complete,
    /// The live feed; older articles are in archives, newest month given.
    Live {
        /// The newest archive month.
        newest: Month,
    },
    /// The archive document of one month.
    Archive {
        /// Its month.
        month: Month,
        /// The nearest earlier month with an archive.
        prev: Option<Month>,
        /// The nearest later month with an archive.
        next: Option<Month>,
    },
}

/// The file name suffix of each format in archive paths.
fn ext(format: FeedFormat) -> &'static str {
    match format {
        FeedFormat::Rss => "rss.xml",
        FeedFormat::Atom => "atom.xml",
        FeedFormat::Json => "feed.json",
    }
}

/// The site path of `scope`'s archive of `month` in `format`.
pub fn archive_path(scope: &FeedScope, month: Month, format: FeedFormat, config: &Config) -> String {
    let month = month.to_string();
    let settings = &config.archives;
    match scope {
        FeedScope::Site => fill_template(&settings.site_path, &[("month", &month), ("ext", ext(format))]),
        FeedScope::Language(lang) => {
            fill_template(&settings.language_path, &[("lang", lang), ("month", &month), ("ext", ext(format))])
        }
        FeedScope::Section { lang, section } => fill_template(
            &settings.section_path,
            &[("lang", lang), ("section", section), ("month", &month), ("ext", ext(format))],
        ),
        FeedScope::Term(term) => fill_template(
            &config.taxonomies.get(term.taxonomy).archive_path,
            &[("lang", &term.lang), ("term", &term.slug), ("month", &month), ("ext", ext(format))],
        ),
    }
}

/// How many visible articles `scope` has (O(1)).
pub fn article_count(scope: &FeedScope, catalog: &Catalog, config: &Config) -> usize {
    match scope {
        FeedScope::Site => match config.feeds.site_scope {
            SiteScope::DefaultLanguage => catalog.count_in_language(&config.site.default_language),
            SiteScope::AllLanguages => catalog.count_all(),
        },
        FeedScope::Language(lang) => catalog.count_in_language(lang),
        FeedScope::Section { lang, section } => catalog.count_in_section(lang, section),
        FeedScope::Term(term) => catalog.term(term).map_or(0, |entry| entry.count()),
    }
}

/// Whether `scope` has archives: archives are on and the live feed cannot
/// hold every article.
pub fn is_archived(scope: &FeedScope, catalog: &Catalog, config: &Config) -> bool {
    config.archives.enabled
        && article_count(scope, catalog, config) > config.feeds.item_limit
        && scope.is_published(catalog, config)
}

/// The months in which `scope` has visible articles, oldest first.
pub fn months(scope: &FeedScope, catalog: &Catalog, config: &Config) -> Vec<Month> {
    let set: BTreeSet<Month> = match scope {
        FeedScope::Site => match config.feeds.site_scope {
            SiteScope::DefaultLanguage => lang_months(catalog, &config.site.default_language),
            SiteScope::AllLanguages => catalog.months().map(|(_, m)| m).collect(),
        },
        FeedScope::Language(lang) => lang_months(catalog, lang),
        FeedScope::Section { lang, section } => catalog.section_months(lang, section).collect(),
        FeedScope::Term(term) => catalog.term(term).into_iter().flat_map(|entry| entry.months()).collect(),
    };
    set.into_iter().collect()
}

fn lang_months(catalog: &Catalog, lang: &str) -> BTreeSet<Month> {
    catalog.months().filter(|(l, _)| *l == lang).map(|(_, m)| m).collect()
}

/// `scope`'s articles published in `month`, newest first.
pub fn articles_in_month<'a>(
    scope: &FeedScope,
    month: Month,
    catalog: &'a Catalog,
    config: &Config,
) -> Vec<&'a Arc<Article>> {
    let mut out: Vec<&Arc<Article>> = match scope {
        FeedScope::Site => match config.feeds.site_scope {
            SiteScope::DefaultLanguage => catalog.in_month(&config.site.default_language, month).collect(),
            SiteScope::AllLanguages => {
                let langs: Vec<&str> = catalog.languages().collect();
                langs.into_iter().flat_map(|l| catalog.in_month(l, month)).collect()
            }
        },
        FeedScope::Language(lang) => catalog.in_month(lang, month).collect(),
        FeedScope::Section { lang, section } => {
            catalog.in_month(lang, month).filter(|a| a.section == *section).collect()
        }
        FeedScope::Term(term) => catalog.term(term).into_iter().flat_map(|entry| entry.in_month(month)).collect(),
    };
    out.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.id.cmp(&b.id)));
    out
}

/// The history of `scope`'s live feed.
pub fn live_history(scope: &FeedScope, catalog: &Catalog, config: &Config) -> History {
    if !config.archives.enabled {
        return History::Off;
    }
    if !is_archived(scope, catalog, config) {
        return History::Complete;
    }
    match months(scope, catalog, config).last() {
        Some(newest) => History::Live { newest: *newest },
        None => History::Complete,
    }
}

/// The URLs the history links of `scope`'s document at `history` point
/// to, in `format`: (`rel`, URL).
pub fn links(scope: &FeedScope, history: History, format: FeedFormat, config: &Config) -> Vec<(&'static str, String)> {
    let url = |month: Month| config.url_for(&archive_path(scope, month, format, config));
    match history {
        History::Off | History::Complete => Vec::new(),
        History::Live { newest } => vec![("prev-archive", url(newest))],
        History::Archive { prev, next, .. } => {
            let mut out = vec![("current", config.url_for(&scope.path(format, config)))];
            out.extend(prev.map(|m| ("prev-archive", url(m))));
            out.extend(next.map(|m| ("next-archive", url(m))));
            out
        }
    }
}

/// Inserts `<fh:{marker}/>` as the first child of the element whose start
/// tag begins with `tag` (`<feed `, `<channel`), on its own indented line.
pub fn insert_marker(xml: Vec<u8>, tag: &str, marker: &str) -> Vec<u8> {
    let Some(start) = xml.windows(tag.len()).position(|w| w == tag.as_bytes()) else { return xml };
    let Some(end) = xml[start..].iter().position(|b| *b == b'>').map(|i| start + i + 1) else { return xml };
    // The start tag's own indentation, plus two spaces.
    let line_start = xml[..start].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let indent = " ".repeat(start - line_start + 2);
    let mut out = Vec::with_capacity(xml.len() + 32);
    out.extend_from_slice(&xml[..end]);
    out.extend_from_slice(format!("\n{indent}<fh:{marker}/>").as_bytes());
    out.extend_from_slice(&xml[end..]);
    out
}

/// The archive index of `lang`: a sitemaps.org `urlset` listing every
/// archive document of the language's feeds, with their newest dates.
pub fn index_file(lang: &str, entries: &[(String, Option<jiff::Timestamp>)], config: &Config) -> (String, Resource) {
    index_file_of(lang, entries.iter().map(|(path, at)| (path.as_str(), *at)), config)
}

/// [`index_file`] of `entries` given as (path, newest date), sorted by path.
pub fn index_file_of<'a>(
    lang: &str,
    entries: impl Iterator<Item = (&'a str, Option<jiff::Timestamp>)> + Clone,
    config: &Config,
) -> (String, Resource) {
    let tz = &config.site.time_zone;
    let out = super::XML_DECLARATION.as_bytes().to_vec();
    let mut writer = Writer::new_with_indent(out, b' ', 2);
    let _ = writer
        .create_element("urlset")
        .with_attribute(("xmlns", "http://www.sitemaps.org/schemas/sitemap/0.9"))
        .write_inner_content(|w| {
            for (path, lastmod) in entries.clone() {
                w.create_element("url").write_inner_content(|w| {
                    w.create_element("loc").write_text_content(BytesText::new(&config.url_for(path)))?;
                    if let Some(at) = lastmod {
                        w.create_element("lastmod")
                            .write_text_content(BytesText::new(&super::time::rfc3339(at, tz)))?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        });
    let mut bytes = writer.into_inner();
    bytes.push(b'\n');
    let newest = entries.filter_map(|(_, at)| at).max();
    let path = fill_template(&config.archives.index_path, &[("lang", lang)]);
    (path, Resource::new(ResourceKind::Other, bytes, SITEMAP_CONTENT_TYPE, newest))
}
