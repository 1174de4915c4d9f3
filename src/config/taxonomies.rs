//! `[taxonomies]`: the feeds of one tag, author or category per language
//! (`/vi/tags/le-hoi/rss.xml`), each taxonomy switchable, with its paths
//! and the fewest articles a term needs to get a feed.

use serde::Deserialize;
use toml::Spanned;

use super::feeds::FeedPaths;
use super::validate::{NumberKey, Validator};

/// `min_articles`: how many visible articles a term needs for its feeds.
const MIN_ARTICLES: NumberKey = NumberKey::new("min_articles", 1, 1_000_000, 1)
    .with_hint("use a number from 1 up (1: every term that has an article gets feeds)");
/// The placeholders a term feed path must hold.
const FEED_PLACEHOLDERS: &[&str] = &["lang", "term"];
/// The placeholders a term feed's archive path must hold.
const ARCHIVE_PLACEHOLDERS: &[&str] = &["lang", "term", "month", "ext"];

/// A way of grouping articles across sections: each term (one tag, one
/// author, one category) gets feeds of its own in each language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Taxonomy {
    /// Front matter `tags`.
    Tags,
    /// Front matter `authors` (or `author`).
    Authors,
    /// Front matter `categories`.
    Categories,
}

impl Taxonomy {
    /// Every taxonomy, in output order.
    pub const ALL: [Taxonomy; 3] = [Taxonomy::Tags, Taxonomy::Authors, Taxonomy::Categories];

    /// Its name in `feeds.toml` and in default paths (`tags`).
    pub fn name(self) -> &'static str {
        match self {
            Taxonomy::Tags => "tags",
            Taxonomy::Authors => "authors",
            Taxonomy::Categories => "categories",
        }
    }

    /// One term of it, in English, for messages (`tag`).
    pub fn singular(self) -> &'static str {
        match self {
            Taxonomy::Tags => "tag",
            Taxonomy::Authors => "author",
            Taxonomy::Categories => "category",
        }
    }
}

/// The settings of one taxonomy (`[taxonomies.tags]` …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxonomySettings {
    /// Whether its terms get feeds (default: yes).
    pub enabled: bool,
    /// The fewest visible articles a term needs for its feeds.
    pub min_articles: usize,
    /// Feed paths (`{lang}`, `{term}`: the term's slug).
    pub paths: FeedPaths,
    /// Archive path (`{lang}`, `{term}`, `{month}`, `{ext}`).
    pub archive_path: String,
}

/// `[taxonomies]`: one [`TaxonomySettings`] per taxonomy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxonomiesSettings {
    /// `[taxonomies.tags]`.
    pub tags: TaxonomySettings,
    /// `[taxonomies.authors]`.
    pub authors: TaxonomySettings,
    /// `[taxonomies.categories]`.
    pub categories: TaxonomySettings,
}

impl TaxonomiesSettings {
    /// The settings of `taxonomy`.
    pub fn get(&self, taxonomy: Taxonomy) -> &TaxonomySettings {
        match taxonomy {
            Taxonomy::Tags => &self.tags,
            Taxonomy::Authors => &self.authors,
            Taxonomy::Categories => &self.categories,
        }
    }

    /// The taxonomies whose terms get feeds, in output order.
    pub fn enabled(&self) -> Vec<Taxonomy> {
        Taxonomy::ALL.into_iter().filter(|t| self.get(*t).enabled).collect()
    }
}

/// `[taxonomies]` as written: a shared `min_articles` and a table per
/// taxonomy.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTaxonomies {
    min_articles: Option<Spanned<i64>>,
    #[serde(default)]
    tags: RawTaxonomy,
    #[serde(default)]
    authors: RawTaxonomy,
    #[serde(default)]
    categories: RawTaxonomy,
}

/// `[taxonomies.NAME]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTaxonomy {
    enabled: Option<bool>,
    min_articles: Option<Spanned<i64>>,
    rss: Option<Spanned<String>>,
    atom: Option<Spanned<String>>,
    json: Option<Spanned<String>>,
    archive_path: Option<Spanned<String>>,
}

/// Checks `[taxonomies]`; every value has a default.
pub(super) fn validate(v: &mut Validator<'_>, raw: RawTaxonomies) -> TaxonomiesSettings {
    let shared = v.number(&raw.min_articles, &MIN_ARTICLES) as usize;
    TaxonomiesSettings {
        tags: taxonomy(v, raw.tags, Taxonomy::Tags, shared),
        authors: taxonomy(v, raw.authors, Taxonomy::Authors, shared),
        categories: taxonomy(v, raw.categories, Taxonomy::Categories, shared),
    }
}

/// One taxonomy's settings; `min_articles` not given is the shared one.
fn taxonomy(v: &mut Validator<'_>, raw: RawTaxonomy, which: Taxonomy, shared: usize) -> TaxonomySettings {
    let name = which.name();
    let min_articles = match &raw.min_articles {
        None => shared,
        given => v.number(given, &MIN_ARTICLES) as usize,
    };
    let mut feed = |value, file: &str| {
        let default = format!("/{{lang}}/{name}/{{term}}/{file}");
        v.path_template(value, &default, FEED_PLACEHOLDERS, "feed", None)
    };
    let paths = FeedPaths {
        rss: feed(raw.rss, "rss.xml"),
        atom: feed(raw.atom, "atom.xml"),
        json: feed(raw.json, "feed.json"),
    };
    let archive_default = format!("/{{lang}}/{name}/{{term}}/archive/{{month}}.{{ext}}");
    let archive_path = v.path_template(raw.archive_path, &archive_default, ARCHIVE_PLACEHOLDERS, "archive", None);
    TaxonomySettings { enabled: raw.enabled.unwrap_or(true), min_articles, paths, archive_path }
}

#[cfg(test)]
mod tests {
    use super::Taxonomy;
    use crate::config::testing::{MINIMAL, first_error, parse};

    #[test]
    fn every_taxonomy_is_on_by_default_with_its_own_paths() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.taxonomies.enabled(), Taxonomy::ALL);
        assert_eq!(c.taxonomies.tags.paths.rss, "/{lang}/tags/{term}/rss.xml");
        assert_eq!(c.taxonomies.authors.paths.json, "/{lang}/authors/{term}/feed.json");
        assert_eq!(c.taxonomies.categories.archive_path, "/{lang}/categories/{term}/archive/{month}.{ext}");
        assert_eq!(c.taxonomies.tags.min_articles, 1);
    }

    #[test]
    fn taxonomies_are_switched_and_configured_one_by_one() {
        let text = format!(
            "{MINIMAL}\n[taxonomies]\nmin_articles = 3\n[taxonomies.authors]\nenabled = false\n\
             [taxonomies.tags]\nmin_articles = 2\nrss = \"/{{lang}}/chu-de/{{term}}.rss\"\n"
        );
        let c = parse(&text).unwrap();
        assert_eq!(c.taxonomies.enabled(), [Taxonomy::Tags, Taxonomy::Categories]);
        assert_eq!(c.taxonomies.tags.min_articles, 2);
        assert_eq!(c.taxonomies.categories.min_articles, 3);
        assert_eq!(c.taxonomies.tags.paths.rss, "/{lang}/chu-de/{term}.rss");
        assert_eq!(c.taxonomies.tags.paths.atom, "/{lang}/tags/{term}/atom.xml");
    }

    #[test]
    fn term_paths_need_the_term() {
        let text = format!("{MINIMAL}\n[taxonomies.tags]\nrss = \"/{{lang}}/tags/rss.xml\"\n");
        let e = first_error(&text);
        assert!(e.contains("lacks `{term}`"), "{e}");
        let text = format!("{MINIMAL}\n[taxonomies]\nmin_articles = 0\n");
        assert!(first_error(&text).contains("min_articles 0 is out of range"));
    }
}
