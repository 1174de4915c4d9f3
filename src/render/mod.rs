//! Render: (catalog, config) → files. Pure apart from reading bodies from
//! the store: no clock reads, no HashMap order reaching the bytes, so the
//! same store at the same instant gives byte-identical output and stable
//! ETags.

pub mod archive;
pub mod atom;
pub mod bodies;
pub mod feed;
pub mod html;
pub mod json_feed;
pub mod news_sitemap;
pub mod rss;
pub mod sitemap;
pub mod stylesheet;
pub mod time;

use crate::article::Month;
use crate::catalog::Catalog;
use crate::config::{Config, fill_template};
use crate::snapshot::{Resource, ResourceKind, Snapshot};
use crate::store::ArticleStore;

pub use bodies::BodyCache;
pub use feed::{FeedDoc, FeedFormat, FeedScope};

/// The `generator` named in feeds.
pub const GENERATOR: &str = "herald";

/// The XML declaration every XML file starts with.
pub const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

/// `Content-Type` of RSS files.
pub const RSS_CONTENT_TYPE: &str = "application/rss+xml; charset=utf-8";
/// `Content-Type` of Atom files.
pub const ATOM_CONTENT_TYPE: &str = "application/atom+xml; charset=utf-8";
/// `Content-Type` of JSON Feed files.
pub const JSON_FEED_CONTENT_TYPE: &str = "application/feed+json; charset=utf-8";

/// Renders every file of the site into a new snapshot: feeds, sitemaps,
/// stylesheets and robots.txt.
pub fn render_site(catalog: &Catalog, config: &Config, store: &dyn ArticleStore, bodies: &mut BodyCache) -> Snapshot {
    let mut snapshot = Snapshot::new();
    for scope in feed::feed_scopes(catalog, config) {
        for (path, resource) in render_feed(&scope, catalog, config, store, bodies) {
            snapshot.insert(path, resource);
        }
    }
    bodies.retain_used();
    let layout = archive_layout(catalog, config);
    for (scope, months) in &layout {
        for month in months {
            for (path, resource) in render_archive_month(scope, *month, months, catalog, config) {
                snapshot.insert(path, resource);
            }
        }
    }
    let langs: Vec<String> = config.languages.iter().map(|l| l.code.clone()).collect();
    refresh_archive_indexes(&mut snapshot, &layout, &langs, config);
    if config.sitemaps.enabled {
        for (lang, month) in catalog.months() {
            for (path, resource) in sitemap::month_files(lang, month, catalog, config) {
                snapshot.insert(path, resource);
            }
        }
        let (path, resource) = sitemap::pages_file(catalog, config);
        snapshot.insert(path, resource);
        if let Some((path, resource)) = news_sitemap::news_file(catalog, config) {
            snapshot.insert(path, resource);
        }
        refresh_sitemap_index(&mut snapshot, config);
        if config.sitemaps.gzip {
            let sitemaps: Vec<String> = snapshot
                .iter()
                .filter(|(_, r)| matches!(r.kind, ResourceKind::Sitemap | ResourceKind::SitemapIndex))
                .map(|(p, _)| p.clone())
                .collect();
            refresh_gzip_twins(&mut snapshot, &sitemaps);
        }
    }
    if config.sitemaps.robots_txt {
        let (path, resource) = sitemap::robots_file(config);
        snapshot.insert(path, resource);
    }
    if config.site.stylesheets {
        for (path, resource) in stylesheet::files(config) {
            snapshot.insert(path, resource);
        }
    }
    if let Some(indexnow) = &config.indexnow {
        // IndexNow checks that the site owns the key: /{key}.txt holds it.
        let body = indexnow.key.clone().into_bytes();
        snapshot.insert(
            format!("/{}.txt", indexnow.key),
            Resource::new(ResourceKind::Other, body, "text/plain; charset=utf-8", None),
        );
    }
    snapshot
}

/// Rewrites the sitemap index from the sitemaps the snapshot holds.
pub fn refresh_sitemap_index(snapshot: &mut Snapshot, config: &Config) {
    let children: Vec<(String, Option<jiff::Timestamp>)> = snapshot
        .iter()
        .filter(|(_, r)| r.kind == ResourceKind::Sitemap)
        .map(|(path, r)| (path.clone(), r.last_modified))
        .collect();
    let (path, resource) = sitemap::index_file(&children, config);
    snapshot.insert(path, resource);
}

/// Brings the `.gz` twins of `paths` in line with the snapshot: written for
/// sitemaps present, removed for sitemaps gone.
pub fn refresh_gzip_twins(snapshot: &mut Snapshot, paths: &[String]) {
    for path in paths {
        let twin = format!("{path}.gz");
        match snapshot.get(path) {
            Some(resource) if matches!(resource.kind, ResourceKind::Sitemap | ResourceKind::SitemapIndex) => {
                let (twin_path, twin_resource) = sitemap::gzip_twin(path, resource);
                snapshot.insert(twin_path, twin_resource);
            }
            _ => {
                snapshot.remove(&twin);
            }
        }
    }
}

/// The next instant at which the site's files change with no change to the
/// store: a scheduled article appearing, an expiry, or an article leaving
/// the news sitemap.
pub fn next_change(catalog: &Catalog, config: &Config) -> Option<jiff::Timestamp> {
    let news = if config.sitemaps.enabled && config.sitemaps.news_path.is_some() {
        news_sitemap::next_expiry(catalog)
    } else {
        None
    };
    match (catalog.next_change(), news) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Renders one feed in all three formats: `(path, resource)` pairs.
pub fn render_feed(
    scope: &FeedScope,
    catalog: &Catalog,
    config: &Config,
    store: &dyn ArticleStore,
    bodies: &mut BodyCache,
) -> Vec<(String, Resource)> {
    let doc = feed::feed_doc(scope, catalog, config, store, bodies);
    render_doc(&doc, config, ResourceKind::Feed, |format| scope.path(format, config))
}

/// Renders `scope`'s archive of `month` in all three formats, linked to the
/// neighbouring months of `months` (the scope's archive months, oldest
/// first).
pub fn render_archive_month(
    scope: &FeedScope,
    month: Month,
    months: &[Month],
    catalog: &Catalog,
    config: &Config,
) -> Vec<(String, Resource)> {
    let at = months.iter().position(|m| *m == month);
    let prev = at.and_then(|i| i.checked_sub(1)).map(|i| months[i]);
    let next = at.and_then(|i| months.get(i + 1)).copied();
    let doc = feed::archive_doc(scope, month, prev, next, catalog, config);
    let past = month < Month::of(catalog.now(), &config.site.time_zone);
    render_doc(&doc, config, ResourceKind::Archive { past }, |format| {
        archive::archive_path(scope, month, format, config)
    })
}

/// The archive months of every archived feed scope: what
/// [`render_site`] publishes.
pub fn archive_layout(catalog: &Catalog, config: &Config) -> std::collections::HashMap<FeedScope, Vec<Month>> {
    feed::feed_scopes(catalog, config)
        .into_iter()
        .filter(|scope| archive::is_archived(scope, catalog, config))
        .map(|scope| {
            let months = archive::months(&scope, catalog, config);
            (scope, months)
        })
        .collect()
}

/// Rewrites the archive index of each of `langs` from the archive
/// documents `snapshot` holds (none when the language has no archive).
pub fn refresh_archive_indexes(
    snapshot: &mut Snapshot,
    layout: &std::collections::HashMap<FeedScope, Vec<Month>>,
    langs: &[String],
    config: &Config,
) {
    for lang in langs {
        let mut entries: Vec<(String, Option<jiff::Timestamp>)> = Vec::new();
        for (scope, months) in layout {
            if scope.lang(config) != lang {
                continue;
            }
            for month in months {
                for format in FeedFormat::ALL {
                    let path = archive::archive_path(scope, *month, format, config);
                    let modified = snapshot.get(&path).and_then(|r| r.last_modified);
                    entries.push((path, modified));
                }
            }
        }
        entries.sort();
        let index_path = fill_template(&config.archives.index_path, &[("lang", lang)]);
        if entries.is_empty() {
            snapshot.remove(&index_path);
        } else {
            let (path, resource) = archive::index_file(lang, &entries, config);
            snapshot.insert(path, resource);
        }
    }
}

/// Writes `doc` in the three formats, at the paths `path_of` gives.
fn render_doc(
    doc: &FeedDoc,
    config: &Config,
    kind: ResourceKind,
    path_of: impl Fn(FeedFormat) -> String,
) -> Vec<(String, Resource)> {
    let last_modified = Some(doc.updated);
    FeedFormat::ALL
        .into_iter()
        .map(|format| {
            let (mut bytes, content_type) = match format {
                FeedFormat::Rss => (rss::write(doc, config), RSS_CONTENT_TYPE),
                FeedFormat::Atom => (atom::write(doc, config), ATOM_CONTENT_TYPE),
                FeedFormat::Json => (json_feed::write(doc, config), JSON_FEED_CONTENT_TYPE),
            };
            if config.site.stylesheets && format != FeedFormat::Json {
                let instruction = stylesheet::processing_instruction(config, stylesheet::Kind::Feed, &doc.lang);
                bytes = stylesheet::insert_after_declaration(bytes, &instruction);
            }
            (path_of(format), Resource::new(kind, bytes, content_type, last_modified))
        })
        .collect()
}

/// The image media type implied by a URL's extension, if it names one.
pub fn image_mime_type(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url).to_ascii_lowercase();
    let extension = path.rsplit_once('.').map(|(_, e)| e)?;
    Some(match extension {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        _ => return None,
    })
}
