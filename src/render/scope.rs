//! Which feeds the site publishes and in which formats: a feed's scope
//! (the site, a language, a section), its paths, title and articles. The
//! feed documents ([`super::feed`]) and their archives ([`super::archive`])
//! both start from here.

use std::sync::Arc;

use crate::article::Article;
use crate::catalog::Catalog;
use crate::config::{Config, FeedPaths, SiteScope, fill_template};

/// Which articles a feed holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FeedScope {
    /// The site-wide feed (`/rss.xml`): the default language, or every
    /// language, per `feeds.site_scope`.
    Site,
    /// One language (`/vi/rss.xml`).
    Language(String),
    /// One section in one language (`/vi/thoi-su/rss.xml`).
    Section {
        /// Language code.
        lang: String,
        /// Section slug.
        section: String,
    },
}

/// The three published formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FeedFormat {
    /// RSS 2.0.
    Rss,
    /// Atom 1.0 (RFC 4287).
    Atom,
    /// JSON Feed 1.1.
    Json,
}

impl FeedFormat {
    /// All formats, in output order.
    pub const ALL: [FeedFormat; 3] = [FeedFormat::Rss, FeedFormat::Atom, FeedFormat::Json];

    /// The HTTP media type of this format.
    pub fn media_type(self) -> &'static str {
        match self {
            FeedFormat::Rss => "application/rss+xml",
            FeedFormat::Atom => "application/atom+xml",
            FeedFormat::Json => "application/feed+json",
        }
    }
}

/// Every feed the site publishes at the catalog's instant: the site feed,
/// one per declared language, and one per (language, section) with articles.
pub fn feed_scopes(catalog: &Catalog, config: &Config) -> Vec<FeedScope> {
    let mut scopes = vec![FeedScope::Site];
    scopes.extend(config.languages.iter().map(|l| FeedScope::Language(l.code.clone())));
    scopes
        .extend(catalog.placements().map(|p| FeedScope::Section { lang: p.lang.clone(), section: p.section.clone() }));
    scopes
}

impl FeedScope {
    /// The language a feed is written in (`xml:lang`, `<language>`).
    pub fn lang<'a>(&'a self, config: &'a Config) -> &'a str {
        match self {
            FeedScope::Site => &config.site.default_language,
            FeedScope::Language(lang) | FeedScope::Section { lang, .. } => lang,
        }
    }

    /// The site path of this feed in `format`.
    pub fn path(&self, format: FeedFormat, config: &Config) -> String {
        let (paths, values): (&FeedPaths, Vec<(&str, &str)>) = match self {
            FeedScope::Site => (&config.feeds.site_paths, vec![]),
            FeedScope::Language(lang) => (&config.feeds.language_paths, vec![("lang", lang)]),
            FeedScope::Section { lang, section } => {
                (&config.feeds.section_paths, vec![("lang", lang), ("section", section)])
            }
        };
        let template = match format {
            FeedFormat::Rss => &paths.rss,
            FeedFormat::Atom => &paths.atom,
            FeedFormat::Json => &paths.json,
        };
        fill_template(template, &values)
    }

    /// The scope's articles, newest first, unlimited.
    pub fn articles<'a>(
        &'a self,
        catalog: &'a Catalog,
        config: &'a Config,
    ) -> Box<dyn Iterator<Item = &'a Arc<Article>> + 'a> {
        match self {
            FeedScope::Site => match config.feeds.site_scope {
                SiteScope::DefaultLanguage => Box::new(catalog.in_language(&config.site.default_language)),
                SiteScope::AllLanguages => Box::new(catalog.all()),
            },
            FeedScope::Language(lang) => Box::new(catalog.in_language(lang)),
            FeedScope::Section { lang, section } => Box::new(catalog.in_section(lang, section)),
        }
    }

    /// The HTML page this feed mirrors (the site's home, language or section
    /// page).
    pub fn home_url(&self, config: &Config) -> String {
        let prefix = |lang: &str| config.language(lang).map(|l| l.prefix.clone()).unwrap_or_default();
        let path = match self {
            FeedScope::Site => String::from("/"),
            FeedScope::Language(lang) => format!("{}/", prefix(lang)),
            FeedScope::Section { lang, section } => format!("{}/{section}/", prefix(lang)),
        };
        config.url_for(&path)
    }

    /// The feed's title: the site title, with the section's in front for
    /// section feeds.
    pub fn title(&self, config: &Config) -> String {
        let lang = self.lang(config);
        match self {
            FeedScope::Section { section, .. } => {
                format!("{} – {}", config.section_title(section, lang), config.site_title(lang))
            }
            _ => config.site_title(lang).to_string(),
        }
    }
}
