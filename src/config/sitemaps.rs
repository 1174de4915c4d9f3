//! `[sitemaps]`: the sitemap index, the monthly article sitemaps of each
//! language, the sitemap of other pages, the Google News sitemap and
//! robots.txt.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::site::Site;
use super::validate::{Localized, Validator};

/// `enabled` when not given: sitemaps are written.
const DEFAULT_ENABLED: bool = true;
/// Every sitemap path ends so.
const SUFFIX: &str = ".xml";
/// The sitemap index's default path.
const DEFAULT_INDEX_PATH: &str = "/sitemap.xml";
/// The monthly article sitemaps' default path.
const DEFAULT_MONTH_PATH: &str = "/{lang}/sitemap-{month}.xml";
/// The placeholders a monthly sitemap path must hold.
const MONTH_PLACEHOLDERS: &[&str] = &["lang", "month"];
/// The page sitemap's default path.
const DEFAULT_PAGES_PATH: &str = "/sitemap-pages.xml";
/// The news sitemap's default path.
const DEFAULT_NEWS_PATH: &str = "/sitemap-news.xml";
/// `news` when not given: the news sitemap is written.
const DEFAULT_NEWS: bool = true;
/// `gzip` when not given: no `.gz` twins.
const DEFAULT_GZIP: bool = false;
/// `robots_txt` when not given: herald writes `/robots.txt`.
const DEFAULT_ROBOTS_TXT: bool = true;

/// `[sitemaps]`: the sitemap index, per-language monthly sitemaps, the page
/// sitemap, the Google News sitemap and robots.txt.
#[derive(Debug, Clone)]
pub struct SitemapSettings {
    /// Whether sitemaps are written at all.
    pub enabled: bool,
    /// Path of the sitemap index.
    pub index_path: String,
    /// Path template of monthly article sitemaps (`{lang}`, `{month}` as
    /// `YYYY-MM`). Parts after the first get `-2`, `-3` … before `.xml`.
    pub month_path: String,
    /// Path of the sitemap of non-article pages.
    pub pages_path: String,
    /// Path of the Google News sitemap; `None` when news is off.
    pub news_path: Option<String>,
    /// Publication name per language for the news sitemap.
    pub news_names: BTreeMap<String, String>,
    /// Other pages of the site to list, as absolute URLs.
    pub extra_pages: Vec<String>,
    /// Whether each sitemap also gets a `.gz` twin.
    pub gzip: bool,
    /// Whether herald writes `/robots.txt` naming the sitemap index.
    pub robots_txt: bool,
    /// Each of `extra_pages` as written, resolved again when the base URL
    /// is replaced.
    extra_pages_as_written: Vec<String>,
}

impl SitemapSettings {
    /// Moves the extra pages given as paths below `base_url` (given as
    /// `--base-url`).
    pub(super) fn rebase(&mut self, base_url: &Url) {
        for (page, text) in self.extra_pages.iter_mut().zip(&self.extra_pages_as_written) {
            if let Some(url) = resolve_page(text, base_url) {
                *page = url.to_string();
            }
        }
    }
}

/// An extra page's absolute URL: a path is taken below `base_url`; an
/// absolute URL must be http(s).
fn resolve_page(text: &str, base_url: &Url) -> Option<Url> {
    if text.starts_with('/') {
        base_url.join(text.trim_start_matches('/')).ok()
    } else {
        Url::parse(text).ok().filter(|u| u.scheme() == "http" || u.scheme() == "https")
    }
}

/// `[sitemaps]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSitemaps {
    enabled: Option<bool>,
    index_path: Option<Spanned<String>>,
    month_path: Option<Spanned<String>>,
    pages_path: Option<Spanned<String>>,
    news: Option<bool>,
    news_path: Option<Spanned<String>>,
    news_name: Option<Spanned<Localized>>,
    #[serde(default)]
    extra_pages: Vec<Spanned<String>>,
    gzip: Option<bool>,
    robots_txt: Option<bool>,
}

/// Checks `[sitemaps]` for a `site` in the declared language `codes`.
pub(super) fn validate(v: &mut Validator<'_>, raw: RawSitemaps, codes: &[String], site: &Site) -> SitemapSettings {
    let mut path =
        |value, default: &str, required: &[&str]| v.path_template(value, default, required, "sitemap", Some(SUFFIX));
    let index_path = path(raw.index_path, DEFAULT_INDEX_PATH, &[]);
    let month_path = path(raw.month_path, DEFAULT_MONTH_PATH, MONTH_PLACEHOLDERS);
    let pages_path = path(raw.pages_path, DEFAULT_PAGES_PATH, &[]);
    let news_path = path(raw.news_path, DEFAULT_NEWS_PATH, &[]);
    let news_names = match &raw.news_name {
        Some(names) => v.localized(names, codes, "news publication name"),
        None => site.title.clone(),
    };
    let (extra_pages, extra_pages_as_written) = raw
        .extra_pages
        .into_iter()
        .filter_map(|page| {
            let text = page.get_ref();
            let resolved = resolve_page(text, &site.base_url);
            if resolved.is_none() {
                v.problem(
                    &page,
                    format!("extra page `{text}` is not a usable URL"),
                    "give a path such as `/gioi-thieu/` or an absolute http(s) URL",
                );
            }
            resolved.map(|u| (u.to_string(), page.into_inner()))
        })
        .unzip();
    SitemapSettings {
        enabled: raw.enabled.unwrap_or(DEFAULT_ENABLED),
        index_path,
        month_path,
        pages_path,
        news_path: raw.news.unwrap_or(DEFAULT_NEWS).then_some(news_path),
        news_names,
        extra_pages,
        gzip: raw.gzip.unwrap_or(DEFAULT_GZIP),
        robots_txt: raw.robots_txt.unwrap_or(DEFAULT_ROBOTS_TXT),
        extra_pages_as_written,
    }
}
