//! HTML views: the page a person sees on opening a feed, archive or
//! sitemap address in a browser, without XSLT (which browsers are removing).
//!
//! Every RSS, Atom and JSON Feed document, archive document, sitemap and
//! sitemap index has a view: an HTML page of the same content, in the
//! document's language, at the document's path plus `.html`
//! ([`twin_path`]: `/vi/rss.xml` → `/vi/rss.xml.html`). `herald build`
//! writes it beside the document; `herald serve` answers a browser's
//! navigation to the document's address with it (the rule is in
//! `server::wants_view`), and `deploy/nginx-static.conf` does the same for
//! a folder.
//!
//! A view is made from the document's own bytes (`read.rs`), never from the
//! catalog: whatever writes a document, in a full build or an incremental
//! step, writes its view from it, so the two always agree, and the view is
//! as deterministic as the document (no clock is read; dates are shown in
//! the site's time zone). Every text is escaped; summaries given as HTML
//! are reduced to their text.
//!
//! A view of a month that is over has the same kind as its archive
//! document ([`ResourceKind::Archive`]), so it is cached and stored the same
//! way; other views are pages ([`ResourceKind::Other`]), so they are never
//! taken for a feed (WebSub topics) or a sitemap (the sitemap index).
//! Every view is marked rarely read ([`Resource::cold`]): a daemon with a
//! file cache keeps its bytes on disk.

mod labels;
mod read;

use jiff::Timestamp;

use self::labels::Labels;
use super::html::{HTML_CONTENT_TYPE, SCRIPT, STYLE};
use super::{ATOM_CONTENT_TYPE, JSON_FEED_CONTENT_TYPE, RSS_CONTENT_TYPE};
use crate::config::Config;
use crate::snapshot::{Resource, ResourceKind};
use crate::text::escape_html;

/// The path of the view of the document at `path`.
pub fn twin_path(path: &str) -> String {
    format!("{path}.html")
}

/// Whether the document at `path` has a view: feeds, archives, sitemaps
/// and sitemap indexes (never their `.gz` twins, robots.txt, pages).
pub fn has_view(path: &str, resource: &Resource) -> bool {
    let feed = [RSS_CONTENT_TYPE, ATOM_CONTENT_TYPE, JSON_FEED_CONTENT_TYPE].contains(&resource.content_type);
    let sitemap = resource.content_type == super::sitemap::SITEMAP_CONTENT_TYPE && path.ends_with(".xml");
    feed || sitemap
}

/// The view of the document at `path`, as `(twin path, resource)`; `None`
/// when the document has no view or cannot be read back.
pub fn view(path: &str, resource: &Resource, config: &Config) -> Option<(String, Resource)> {
    if !has_view(path, resource) {
        return None;
    }
    let bytes = resource.bytes().ok()?;
    let mut page = match resource.content_type {
        RSS_CONTENT_TYPE => read::rss(&bytes)?,
        ATOM_CONTENT_TYPE => read::atom(&bytes)?,
        JSON_FEED_CONTENT_TYPE => read::json_feed(&bytes)?,
        _ => read::sitemap(&bytes)?,
    };
    if let PageKind::Feed { archive } = &mut page.kind {
        *archive = matches!(resource.kind, ResourceKind::Archive { .. });
    }
    if page.lang.is_empty() {
        page.lang = language_of(path, config);
    }
    let html = write(&page, &config.url_for(path), config);
    let kind = match resource.kind {
        ResourceKind::Archive { past } => ResourceKind::Archive { past },
        _ => ResourceKind::Other,
    };
    // Views are read by people browsing, rarely: on disk, like term feeds.
    let page = Resource::new(kind, html.into_bytes(), HTML_CONTENT_TYPE, resource.last_modified).with_cold(true);
    Some((twin_path(path), page))
}

/// The language of a document without one of its own (sitemaps): the
/// language whose folder it is in, else the site's default language.
fn language_of(path: &str, config: &Config) -> String {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    let folder = path.trim_start_matches('/').contains('/');
    match config.language(first) {
        Some(language) if folder => language.code.clone(),
        _ => config.site.default_language.clone(),
    }
}

/// What a view shows, read from its document.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Page {
    /// What the document is.
    kind: PageKind,
    /// Language code.
    lang: String,
    /// Feed title (empty for sitemaps).
    title: String,
    /// Feed description.
    description: String,
    /// The HTML page the feed mirrors.
    home: Option<String>,
    /// Feed items, in document order (newest first).
    items: Vec<Item>,
    /// History links: (`current` | `next-archive` | `prev-archive`, URL).
    nav: Vec<(&'static str, String)>,
    /// Sitemap entries, in document order.
    entries: Vec<Entry>,
}

/// What kind of document a view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PageKind {
    /// A feed; `archive` for an RFC 5005 archive document.
    Feed { archive: bool },
    /// A sitemap (`urlset`).
    Sitemap,
    /// A sitemap index.
    SitemapIndex,
}

/// One feed item.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    title: String,
    link: String,
    date: Option<Timestamp>,
    authors: Vec<String>,
    /// Plain text.
    summary: String,
}

/// One sitemap entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Entry {
    loc: String,
    /// A news title, for news sitemaps.
    title: Option<String>,
    lastmod: Option<Timestamp>,
    images: usize,
    /// Other-language versions: (language, URL).
    alternates: Vec<(String, String)>,
}

/// Writes the page for `page`, whose document is at `address`.
fn write(page: &Page, address: &str, config: &Config) -> String {
    let labels = Labels::for_language(&page.lang);
    let title = match page.kind {
        PageKind::Feed { .. } => page.title.clone(),
        PageKind::Sitemap => format!("{} – {}", labels.sitemap_badge, config.site_title(&page.lang)),
        PageKind::SitemapIndex => format!("{} – {}", labels.sitemap_index_badge, config.site_title(&page.lang)),
    };
    let mut out = String::with_capacity(4096 + page.items.len() * 600 + page.entries.len() * 300);
    out.push_str(&format!(
        "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n",
        escape_html(&page.lang)
    ));
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape_html(&title)));
    out.push_str(&format!("<style>\n{STYLE}{VIEW_STYLE}</style>\n</head>\n<body>\n"));
    match page.kind {
        PageKind::Feed { archive } => feed_body(&mut out, page, archive, &title, address, &labels, config),
        PageKind::Sitemap | PageKind::SitemapIndex => sitemap_body(&mut out, page, &title, &labels, config),
    }
    out.push_str(&format!("<script>\n{SCRIPT}</script>\n</body>\n</html>\n"));
    out
}

/// The header, subscribe box, items and archive navigation of a feed.
fn feed_body(
    out: &mut String,
    page: &Page,
    archive: bool,
    title: &str,
    address: &str,
    labels: &Labels,
    config: &Config,
) {
    let badge = if archive { labels.archive_badge } else { labels.feed_badge };
    out.push_str(&format!("<header>\n<p class=\"badge\">{badge}</p>\n<h1>{}</h1>\n", escape_html(title)));
    if !page.description.is_empty() {
        out.push_str(&format!("<p>{}</p>\n", escape_html(&page.description)));
    }
    out.push_str(&format!("<p>{}</p>\n", labels.feed_intro));
    let address = escape_html(address);
    out.push_str(&format!(
        "<p><label for=\"feed-address\">{}</label></p>\n<p class=\"subscribe\"><input id=\"feed-address\" type=\"text\" readonly value=\"{address}\"> <button type=\"button\" data-copy=\"{address}\">{}</button></p>\n",
        labels.feed_address, labels.copy,
    ));
    if let Some(home) = &page.home {
        out.push_str(&format!("<p><a href=\"{}\">{}</a></p>\n", escape_html(home), labels.home));
    }
    out.push_str("</header>\n<main>\n");
    out.push_str(&format!("<h2>{}</h2>\n", if archive { labels.archive_items } else { labels.newest }));
    if page.items.is_empty() {
        out.push_str(&format!("<p>{}</p>\n", labels.no_items));
    }
    for item in &page.items {
        out.push_str(&format!(
            "<article>\n<h3><a href=\"{}\">{}</a></h3>\n",
            escape_html(&item.link),
            escape_html(&item.title)
        ));
        let mut meta = Vec::new();
        if let Some(date) = item.date {
            meta.push(time(date, labels, config));
        }
        if !item.authors.is_empty() {
            meta.push(escape_html(&item.authors.join(", ")));
        }
        if !meta.is_empty() {
            out.push_str(&format!("<p class=\"meta\">{}</p>\n", meta.join(" · ")));
        }
        if !item.summary.is_empty() {
            out.push_str(&format!("<p>{}</p>\n", escape_html(&item.summary)));
        }
        out.push_str("</article>\n");
    }
    if !page.nav.is_empty() {
        out.push_str(&format!("<nav aria-label=\"{}\">\n<ul class=\"history\">\n", labels.history));
        for (rel, url) in &page.nav {
            let label = match *rel {
                "current" => labels.current,
                "next-archive" => labels.newer,
                _ => labels.older,
            };
            out.push_str(&format!("<li><a rel=\"{rel}\" href=\"{}\">{label}</a></li>\n", escape_html(url)));
        }
        out.push_str("</ul>\n</nav>\n");
    }
    out.push_str("</main>\n");
}

/// The header and table of a sitemap or sitemap index.
fn sitemap_body(out: &mut String, page: &Page, title: &str, labels: &Labels, config: &Config) {
    let index = page.kind == PageKind::SitemapIndex;
    let (badge, intro) = if index {
        (labels.sitemap_index_badge, labels.sitemap_index_intro)
    } else {
        (labels.sitemap_badge, labels.sitemap_intro)
    };
    out.push_str(&format!(
        "<header>\n<p class=\"badge\">{badge}</p>\n<h1>{}</h1>\n<p>{intro}</p>\n",
        escape_html(title)
    ));
    out.push_str(&format!("<p>{}: {}</p>\n</header>\n<main>\n", labels.count, page.entries.len()));
    out.push_str(&format!("<table>\n<thead><tr><th>{}</th><th>{}</th>", labels.address, labels.updated));
    if !index {
        out.push_str(&format!("<th>{}</th><th>{}</th>", labels.images, labels.languages));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for entry in &page.entries {
        // Links to other documents are their own addresses: a browser
        // following one is answered with that document's view.
        let text = entry.title.as_deref().unwrap_or(&entry.loc);
        out.push_str(&format!("<tr><td><a href=\"{}\">{}</a></td>", escape_html(&entry.loc), escape_html(text)));
        out.push_str(&format!("<td>{}</td>", entry.lastmod.map(|t| time(t, labels, config)).unwrap_or_default()));
        if !index {
            let images = if entry.images > 0 { entry.images.to_string() } else { String::new() };
            let languages: Vec<String> = entry
                .alternates
                .iter()
                .map(|(lang, href)| {
                    format!(
                        "<a href=\"{}\" hreflang=\"{lang}\">{lang}</a>",
                        escape_html(href),
                        lang = escape_html(lang)
                    )
                })
                .collect();
            out.push_str(&format!("<td>{images}</td><td>{}</td>", languages.join(" ")));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</main>\n");
}

/// `<time>` for `at`, shown in the site's time zone.
fn time(at: Timestamp, labels: &Labels, config: &Config) -> String {
    let local = at.to_zoned_datetime(config.site.time_zone.clone());
    format!(
        "<time datetime=\"{}\">{}</time>",
        local.strftime("%Y-%m-%dT%H:%M:%S%:z"),
        local.strftime(labels.date_format)
    )
}

/// Styles the views add to the index page's.
const VIEW_STYLE: &str = r#"article { margin: 1.2rem 0; }
article h3 { margin: 0 0 .2rem; }
.meta { color: #666; font-size: .9rem; margin: 0; }
.history { list-style: none; padding: 0; display: flex; gap: 1rem; flex-wrap: wrap; }
label { font-weight: 600; }
"#;

#[cfg(test)]
mod tests;
