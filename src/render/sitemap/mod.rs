//! Sitemaps (sitemaps.org 0.9 with Google's image and xhtml extensions):
//! the index, per-language monthly article sitemaps, the sitemap of other
//! pages, and robots.txt.
//!
//! Article sitemaps are partitioned by publication month and list articles
//! oldest first, so a past month keeps its bytes (and ETag) until one of its
//! own articles changes, and new articles only ever extend the current
//! month's last part. A month with more than 50,000 URLs or 50 MB splits
//! into numbered parts. A one-part month can be written again entry by
//! entry, copying the unchanged entries' bytes ([`splice`]).

pub mod splice;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::sync::Arc;

use jiff::Timestamp;
use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};

use super::time::rfc3339;
use crate::article::{Article, Month};
use crate::catalog::Catalog;
use crate::config::{Config, fill_template};
use crate::snapshot::{Resource, ResourceKind};

/// Most URLs in one sitemap file (sitemaps.org).
pub const MAX_URLS: usize = 50_000;
/// Largest uncompressed sitemap file in bytes (sitemaps.org).
pub const MAX_BYTES: usize = 50 * 1024 * 1024;

/// `Content-Type` of sitemaps.
pub const SITEMAP_CONTENT_TYPE: &str = "application/xml; charset=utf-8";

const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";
const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";
const IMAGE_NS: &str = "http://www.google.com/schemas/sitemap-image/1.1";
/// Namespace of Google News sitemaps.
pub const NEWS_NS: &str = "http://www.google.com/schemas/sitemap-news/0.9";

/// One `<url>` of a sitemap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlEntry {
    /// Absolute URL.
    pub loc: String,
    /// Last modification, if known.
    pub lastmod: Option<Timestamp>,
    /// `xhtml:link rel="alternate"` pairs (hreflang, href), `x-default` last.
    pub alternates: Vec<(String, String)>,
    /// Image URLs (`image:image`).
    pub images: Vec<String>,
    /// Google News data, only in the news sitemap.
    pub news: Option<NewsEntry>,
}

/// The `news:news` element of one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsEntry {
    /// Publication name.
    pub publication: String,
    /// Language code.
    pub language: String,
    /// Publication instant.
    pub published: Timestamp,
    /// Article title.
    pub title: String,
}

/// Writes `<url>` entries into one `<urlset>` until it is full.
pub struct UrlsetWriter<'c> {
    writer: Writer<Vec<u8>>,
    count: usize,
    newest: Option<Timestamp>,
    config: &'c Config,
}

impl<'c> UrlsetWriter<'c> {
    /// Starts a `<urlset>`, with the news namespace when `news` is set.
    pub fn new(config: &'c Config, news: bool) -> UrlsetWriter<'c> {
        let prolog = super::XML_DECLARATION.as_bytes().to_vec();
        let mut writer = Writer::new_with_indent(prolog, b' ', 2);
        let mut start = BytesStart::new("urlset");
        start.push_attribute(("xmlns", SITEMAP_NS));
        start.push_attribute(("xmlns:xhtml", XHTML_NS));
        start.push_attribute(("xmlns:image", IMAGE_NS));
        if news {
            start.push_attribute(("xmlns:news", NEWS_NS));
        }
        // Writing to a Vec cannot fail.
        let _ = writer.write_event(Event::Start(start));
        UrlsetWriter { writer, count: 0, newest: None, config }
    }

    /// Adds `entry`, or returns `false` (writing nothing) when the file is
    /// full by count or by size.
    pub fn push(&mut self, entry: &UrlEntry) -> bool {
        if self.count >= MAX_URLS {
            return false;
        }
        let before = self.writer.get_ref().len();
        let _ = self.write_entry(entry);
        let closing = "\n</urlset>\n".len();
        if self.count > 0 && self.writer.get_ref().len() + closing > MAX_BYTES {
            self.writer.get_mut().truncate(before);
            return false;
        }
        self.count += 1;
        self.newest = self.newest.max(entry.lastmod);
        true
    }

    fn write_entry(&mut self, entry: &UrlEntry) -> std::io::Result<()> {
        let tz = &self.config.site.time_zone;
        self.writer.create_element("url").write_inner_content(|w| {
            w.create_element("loc").write_text_content(BytesText::new(&entry.loc))?;
            if let Some(at) = entry.lastmod {
                w.create_element("lastmod").write_text_content(BytesText::new(&rfc3339(at, tz)))?;
            }
            for (hreflang, href) in &entry.alternates {
                w.create_element("xhtml:link")
                    .with_attributes([("rel", "alternate"), ("hreflang", hreflang.as_str()), ("href", href.as_str())])
                    .write_empty()?;
            }
            for image in &entry.images {
                w.create_element("image:image").write_inner_content(|w| {
                    w.create_element("image:loc").write_text_content(BytesText::new(image))?;
                    Ok(())
                })?;
            }
            if let Some(news) = &entry.news {
                w.create_element("news:news").write_inner_content(|w| {
                    w.create_element("news:publication").write_inner_content(|w| {
                        w.create_element("news:name").write_text_content(BytesText::new(&news.publication))?;
                        w.create_element("news:language").write_text_content(BytesText::new(&news.language))?;
                        Ok(())
                    })?;
                    w.create_element("news:publication_date")
                        .write_text_content(BytesText::new(&rfc3339(news.published, tz)))?;
                    w.create_element("news:title").write_text_content(BytesText::new(&news.title))?;
                    Ok(())
                })?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// How many URLs the file holds.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the file holds no URL yet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Closes the `<urlset>`: the file's bytes and its newest `lastmod`.
    pub fn finish(mut self) -> (Vec<u8>, Option<Timestamp>) {
        let _ = self.writer.write_event(Event::End(BytesEnd::new("urlset")));
        let mut bytes = self.writer.into_inner();
        bytes.push(b'\n');
        (bytes, self.newest)
    }
}

/// The header of a one-part sitemap and the closing
/// after its entries: with the entries' [`entry_bytes`] between them, the
/// bytes [`pack`] writes for entries that fit one file (so that a sitemap
/// can be written again entry by entry).
pub fn urlset_frame(config: &Config) -> (Vec<u8>, Vec<u8>) {
    let head = UrlsetWriter::new(config, false).writer.into_inner();
    let mut one = UrlsetWriter::new(config, false);
    let entry = UrlEntry { loc: String::new(), lastmod: None, alternates: Vec::new(), images: Vec::new(), news: None };
    let _ = one.write_entry(&entry);
    let written = one.writer.get_ref().len();
    one.count = 1;
    let (bytes, _) = one.finish();
    (head, bytes[written..].to_vec())
}

/// The bytes `entry` takes in a sitemap (see [`urlset_frame`]).
pub fn entry_bytes(entry: &UrlEntry, config: &Config) -> Vec<u8> {
    let mut writer = UrlsetWriter::new(config, false);
    let start = writer.writer.get_ref().len();
    let _ = writer.write_entry(entry);
    writer.writer.into_inner().split_off(start)
}

/// Packs `entries` into as many files as the limits need: `(bytes, newest
/// lastmod)` per file, in order.
pub fn pack(entries: &[UrlEntry], config: &Config, news: bool) -> Vec<(Vec<u8>, Option<Timestamp>)> {
    let mut files = Vec::new();
    let mut current = UrlsetWriter::new(config, news);
    for entry in entries {
        if !current.push(entry) {
            files.push(std::mem::replace(&mut current, UrlsetWriter::new(config, news)).finish());
            // A single entry always fits an empty file.
            current.push(entry);
        }
    }
    if !current.is_empty() || files.is_empty() {
        files.push(current.finish());
    }
    files
}

/// The path of part `part` (1-based) of a sitemap whose first part is at
/// `path`: `/vi/sitemap-2026-11.xml` → `/vi/sitemap-2026-11-2.xml`.
pub fn part_path(path: &str, part: usize) -> String {
    if part <= 1 {
        return path.to_string();
    }
    match path.strip_suffix(".xml") {
        Some(stem) => format!("{stem}-{part}.xml"),
        None => format!("{path}-{part}"),
    }
}

/// The sitemap entry of `article`: its URL, last modification, hreflang
/// alternates (when the story has other visible, indexable versions) and
/// images.
pub fn article_entry(article: &Article, catalog: &Catalog, config: &Config) -> UrlEntry {
    let versions: Vec<&Arc<Article>> = catalog.translations(article).into_iter().filter(|v| v.in_sitemap).collect();
    let mut alternates: Vec<(String, String)> = Vec::new();
    if versions.len() > 1 {
        alternates = versions.iter().map(|v| (v.lang.clone(), v.url.clone())).collect();
        if let Some(default) = versions.iter().find(|v| v.lang == config.site.default_language) {
            alternates.push(("x-default".to_string(), default.url.clone()));
        }
    }
    UrlEntry {
        loc: article.url.clone(),
        lastmod: Some(article.updated()),
        alternates,
        images: article.images.iter().map(|i| i.src.clone()).collect(),
        news: None,
    }
}

/// The files of `lang`'s sitemap for `month`: `(path, resource)` pairs,
/// parts in order. Empty when the month has no indexable article.
pub fn month_files(lang: &str, month: Month, catalog: &Catalog, config: &Config) -> Vec<(String, Resource)> {
    let articles = month_articles(lang, month, catalog);
    if articles.is_empty() {
        return Vec::new();
    }
    let entries: Vec<UrlEntry> = articles.iter().map(|a| article_entry(a, catalog, config)).collect();
    let path = month_path(lang, month, config);
    pack(&entries, config, false)
        .into_iter()
        .enumerate()
        .map(|(i, (bytes, newest))| {
            (part_path(&path, i + 1), Resource::new(ResourceKind::Sitemap, bytes, SITEMAP_CONTENT_TYPE, newest))
        })
        .collect()
}

/// The articles `lang`'s sitemap of `month` lists: the indexable ones,
/// oldest first, so new articles extend the last part only.
pub fn month_articles<'a>(lang: &str, month: Month, catalog: &'a Catalog) -> Vec<&'a Arc<Article>> {
    let mut articles: Vec<&Arc<Article>> = catalog.in_month(lang, month).filter(|a| a.in_sitemap).collect();
    articles.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.id.cmp(&b.id)));
    articles
}

/// The path of `lang`'s first sitemap part for `month`.
pub fn month_path(lang: &str, month: Month, config: &Config) -> String {
    fill_template(&config.sitemaps.month_path, &[("lang", lang), ("month", &month.to_string())])
}

/// The sitemap of pages that are not articles: each language's home page,
/// each section page with articles, and the extra pages from feeds.toml.
pub fn pages_file(catalog: &Catalog, config: &Config) -> (String, Resource) {
    let default_lang = &config.site.default_language;
    let home =
        |lang: &str| config.url_for(&format!("{}/", config.language(lang).map(|l| l.prefix.as_str()).unwrap_or("")));
    // A home or section page changes when an article is published there,
    // not when an old one is edited: its lastmod is the newest date.
    let newest = |articles: &mut dyn Iterator<Item = &Arc<Article>>| articles.next().map(|a| a.date);
    let langs: Vec<&str> = config.languages.iter().map(|l| l.code.as_str()).collect();

    let with_default = |mut alternates: Vec<(String, String)>| {
        if alternates.len() > 1
            && let Some((_, href)) = alternates.iter().find(|(l, _)| l == default_lang).cloned()
        {
            alternates.push(("x-default".to_string(), href));
        }
        if alternates.len() < 2 { Vec::new() } else { alternates }
    };

    let mut entries = Vec::new();
    let home_alternates = with_default(langs.iter().map(|l| (l.to_string(), home(l))).collect());
    for lang in &langs {
        entries.push(UrlEntry {
            loc: home(lang),
            lastmod: newest(&mut catalog.in_language(lang)),
            alternates: home_alternates.clone(),
            images: Vec::new(),
            news: None,
        });
    }
    let sections: BTreeSet<&str> = catalog.placements().map(|p| p.section.as_str()).collect();
    for section in sections {
        let section_url = |lang: &str| format!("{}{section}/", home(lang));
        let present: Vec<&str> =
            langs.iter().copied().filter(|l| catalog.in_section(l, section).next().is_some()).collect();
        let alternates = with_default(present.iter().map(|l| (l.to_string(), section_url(l))).collect());
        for lang in &present {
            entries.push(UrlEntry {
                loc: section_url(lang),
                lastmod: newest(&mut catalog.in_section(lang, section)),
                alternates: alternates.clone(),
                images: Vec::new(),
                news: None,
            });
        }
    }
    for page in &config.sitemaps.extra_pages {
        entries.push(UrlEntry {
            loc: page.clone(),
            lastmod: None,
            alternates: Vec::new(),
            images: Vec::new(),
            news: None,
        });
    }
    // The page sitemap is small: one file.
    let (bytes, newest) = pack(&entries, config, false).remove(0);
    (config.sitemaps.pages_path.clone(), Resource::new(ResourceKind::Sitemap, bytes, SITEMAP_CONTENT_TYPE, newest))
}

/// The sitemap index listing `children` (path, lastmod), sorted by path.
pub fn index_file(children: &[(String, Option<Timestamp>)], config: &Config) -> (String, Resource) {
    let tz = &config.site.time_zone;
    let out = super::XML_DECLARATION.as_bytes().to_vec();
    let mut writer = Writer::new_with_indent(out, b' ', 2);
    let _ = writer.create_element("sitemapindex").with_attribute(("xmlns", SITEMAP_NS)).write_inner_content(|w| {
        for (path, lastmod) in children {
            w.create_element("sitemap").write_inner_content(|w| {
                w.create_element("loc").write_text_content(BytesText::new(&config.url_for(path)))?;
                if let Some(at) = lastmod {
                    w.create_element("lastmod").write_text_content(BytesText::new(&rfc3339(*at, tz)))?;
                }
                Ok(())
            })?;
        }
        Ok(())
    });
    let mut bytes = writer.into_inner();
    bytes.push(b'\n');
    let newest = children.iter().filter_map(|(_, at)| *at).max();
    (config.sitemaps.index_path.clone(), Resource::new(ResourceKind::SitemapIndex, bytes, SITEMAP_CONTENT_TYPE, newest))
}

/// `/robots.txt`: allow everything, name the sitemap index.
pub fn robots_file(config: &Config) -> (String, Resource) {
    let mut text = String::from("# Written by herald.\nUser-agent: *\nAllow: /\n");
    if config.sitemaps.enabled {
        text.push_str(&format!("\nSitemap: {}\n", config.url_for(&config.sitemaps.index_path)));
    }
    (
        "/robots.txt".to_string(),
        Resource::new(ResourceKind::Other, text.into_bytes(), "text/plain; charset=utf-8", None),
    )
}

/// A `.gz` twin of a sitemap: the same bytes, gzip-compressed with a fixed
/// header (no name, no time), so the twin is as deterministic as the file.
pub fn gzip_twin(path: &str, resource: &Resource) -> (String, Resource) {
    let mut encoder = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::best());
    let _ = encoder.write_all(&resource.body);
    let bytes = encoder.finish().unwrap_or_default();
    (format!("{path}.gz"), Resource::new(ResourceKind::Other, bytes, "application/gzip", resource.last_modified))
}
