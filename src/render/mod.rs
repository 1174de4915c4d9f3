//! Render: (catalog, config) → files. Pure apart from reading bodies from
//! the store: no clock reads, no HashMap order reaching the bytes, so the
//! same store at the same instant gives byte-identical output and stable
//! ETags.

pub mod archive;
pub mod atom;
pub mod bodies;
pub mod feed;
pub mod html;
pub mod index_terms;
pub mod json_feed;
pub mod news_sitemap;
pub mod opml;
pub mod pieces;
pub mod rss;
pub mod scope;
pub mod sitemap;
pub mod splice;
pub mod time;
pub mod view;

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::article::Month;
use crate::catalog::Catalog;
use crate::config::{Config, fill_template};
use crate::parallel::{self, lock};
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
/// their HTML views, OPML subscription lists and robots.txt.
pub fn render_site(catalog: &Catalog, config: &Config, store: &dyn ArticleStore, bodies: &mut BodyCache) -> Snapshot {
    render_site_into_snapshot(catalog, config, store, bodies, Parts::EVERYTHING)
}

/// [`render_site`] without the archive documents (RFC 5005 months and
/// archive indexes) and the term feeds (every tag's, author's and
/// category's feeds and their views): what `herald serve` renders before
/// it starts serving a large store, leaving the archives (most of the
/// bytes) and the term feeds (with taxonomies on, most of the live files)
/// for right after.
pub fn render_site_live_first(
    catalog: &Catalog,
    config: &Config,
    store: &dyn ArticleStore,
    bodies: &mut BodyCache,
) -> Snapshot {
    render_site_into_snapshot(catalog, config, store, bodies, Parts { archives: false, terms: false })
}

/// Which optional parts of the site a render writes.
#[derive(Debug, Clone, Copy)]
struct Parts {
    /// The archive documents (RFC 5005 months and archive indexes).
    archives: bool,
    /// The term feeds (tags, authors, categories) and their views.
    terms: bool,
}

impl Parts {
    const EVERYTHING: Parts = Parts { archives: true, terms: true };
}

fn render_site_into_snapshot(
    catalog: &Catalog,
    config: &Config,
    store: &dyn ArticleStore,
    bodies: &mut BodyCache,
    parts: Parts,
) -> Snapshot {
    let snapshot = std::sync::Mutex::new(Snapshot::new());
    let rendered = render_site_parts(catalog, config, store, bodies, parts, &|path, resource| {
        lock(&snapshot).insert(path, resource);
        Ok(())
    });
    // Inserting never fails.
    debug_assert!(rendered.is_ok());
    snapshot.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Where [`render_site_to`] hands each file: called from several threads at
/// once, each path once.
pub type Emit<'a> = dyn Fn(String, Resource) -> std::io::Result<()> + Sync + 'a;

/// Renders every file of the site, as [`render_site`] does, handing each
/// to `emit` as soon as it is rendered instead of holding them all, so
/// `herald build` writes a large site without keeping it in memory.
///
/// The archive months and monthly sitemaps, most of the work, depend on the
/// catalog alone and are rendered on every core ([`crate::parallel`]):
/// `emit` is called from all of them, in no particular order (the bytes of
/// each file do not depend on the order). Stops at the first error `emit`
/// returns. How many files were emitted.
pub fn render_site_to(
    catalog: &Catalog,
    config: &Config,
    store: &dyn ArticleStore,
    bodies: &mut BodyCache,
    emit: &Emit<'_>,
) -> std::io::Result<usize> {
    render_site_parts(catalog, config, store, bodies, Parts::EVERYTHING, emit)
}

/// [`render_site_to`], with or without the archive documents and the term
/// feeds.
fn render_site_parts(
    catalog: &Catalog,
    config: &Config,
    store: &dyn ArticleStore,
    bodies: &mut BodyCache,
    parts: Parts,
    emit: &Emit<'_>,
) -> std::io::Result<usize> {
    // What the indexes need of the files already emitted.
    let emitted: std::sync::Mutex<BTreeMap<String, (ResourceKind, Option<Timestamp>)>> = Default::default();
    let put = |path: String, resource: Resource| -> std::io::Result<()> {
        let twin = (config.sitemaps.gzip
            && matches!(resource.kind, ResourceKind::Sitemap | ResourceKind::SitemapIndex))
        .then(|| sitemap::gzip_twin(&path, &resource));
        let page = view::view(&path, &resource, config);
        let mut files = vec![(path, resource)];
        files.extend(twin);
        files.extend(page);
        for (path, resource) in files {
            lock(&emitted).insert(path.clone(), (resource.kind, resource.last_modified));
            emit(path, resource)?;
        }
        Ok(())
    };

    let mut scopes = feed::feed_scopes(catalog, config);
    if !parts.terms {
        scopes.retain(|scope| !matches!(scope, FeedScope::Term(_)));
    }
    if config.feeds.content == crate::config::ContentMode::Full {
        // The bodies the live feeds carry, rendered on every core first.
        let live: Vec<&std::sync::Arc<crate::article::Article>> =
            scopes.iter().flat_map(|scope| scope.articles(catalog, config).take(config.feeds.item_limit)).collect();
        bodies.prefetch(&live, store, config);
    }
    for scope in scopes {
        for (path, resource) in render_feed(&scope, catalog, config, store, bodies) {
            put(path, resource)?;
        }
    }
    bodies.retain_used();

    let layout = if parts.archives { archive_layout(catalog, config) } else { std::collections::HashMap::new() };
    let mut jobs: Vec<MonthJob<'_>> = archive_months_by_month(&layout)
        .into_iter()
        .map(|(month, scopes)| MonthJob::Archives { month, scopes })
        .collect();
    if config.sitemaps.enabled {
        jobs.extend(catalog.months().map(|(lang, month)| MonthJob::Sitemap { lang, month }));
    }
    parallel::try_for_each(&jobs, |job| {
        let files = match *job {
            MonthJob::Archives { month, ref scopes } => pieces::month_documents(month, scopes, catalog, config),
            MonthJob::Sitemap { lang, month } => sitemap::month_files(lang, month, catalog, config),
        };
        files.into_iter().try_for_each(|(path, resource)| put(path, resource))
    })?;

    for lang in &config.languages {
        let entries = archive_index_entries(&layout, &lang.code, config, |path| {
            lock(&emitted).get(path).and_then(|(_, modified)| *modified)
        });
        if !entries.is_empty() {
            let (path, resource) = archive::index_file(&lang.code, &entries, config);
            put(path, resource)?;
        }
    }
    if config.sitemaps.enabled {
        let (path, resource) = sitemap::pages_file(catalog, config);
        put(path, resource)?;
        if let Some((path, resource)) = news_sitemap::news_file(catalog, config) {
            put(path, resource)?;
        }
        let children: Vec<(String, Option<Timestamp>)> = lock(&emitted)
            .iter()
            .filter(|(_, (kind, _))| *kind == ResourceKind::Sitemap)
            .map(|(path, (_, modified))| (path.clone(), *modified))
            .collect();
        let (path, resource) = sitemap::index_file(&children, config);
        put(path, resource)?;
    }
    if config.sitemaps.robots_txt {
        let (path, resource) = sitemap::robots_file(config);
        put(path, resource)?;
    }
    for (path, resource) in opml::files(catalog, config) {
        put(path, resource)?;
    }
    if let Some(indexnow) = &config.indexnow {
        // IndexNow checks that the site owns the key: /{key}.txt holds it.
        let body = indexnow.key.clone().into_bytes();
        put(
            format!("/{}.txt", indexnow.key),
            Resource::new(ResourceKind::Other, body, "text/plain; charset=utf-8", None),
        )?;
    }
    let count = lock(&emitted).len();
    Ok(count)
}

/// One month's files of a full render that depend on the catalog alone.
enum MonthJob<'a> {
    /// The archive documents of `month` in every scope archived then
    /// (each with its archive months), their items rendered once.
    Archives { month: Month, scopes: Vec<pieces::ScopeMonths<'a>> },
    /// The sitemap of `lang` for `month`.
    Sitemap { lang: &'a str, month: Month },
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
    let files = render_doc(&doc, config, ResourceKind::Feed, |format| scope.path(format, config));
    files.into_iter().map(|(path, resource)| (path, resource.with_cold(scope.is_cold()))).collect()
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
    let files = render_doc(&doc, config, ResourceKind::Archive { past }, |format| {
        archive::archive_path(scope, month, format, config)
    });
    files.into_iter().map(|(path, resource)| (path, resource.with_cold(scope.is_cold()))).collect()
}

/// The archive months of `layout` grouped by month, oldest first: each
/// month with every scope archived then and that scope's months.
fn archive_months_by_month(
    layout: &std::collections::HashMap<FeedScope, Vec<Month>>,
) -> Vec<(Month, Vec<pieces::ScopeMonths<'_>>)> {
    let mut by_month: BTreeMap<Month, Vec<pieces::ScopeMonths<'_>>> = BTreeMap::new();
    for (scope, months) in layout {
        for month in months {
            by_month.entry(*month).or_default().push((scope, months.as_slice()));
        }
    }
    by_month.into_iter().collect()
}

/// One archive month to render: its feed scope, the month, and the scope's
/// archive months (for the links to the neighbours).
pub type ArchiveMonthJob<'a> = (&'a FeedScope, Month, &'a [Month]);

/// [`render_archive_month`] for each of `jobs`, on every core: each job's
/// files, in the order of `jobs`.
pub fn render_archive_months(
    jobs: &[ArchiveMonthJob<'_>],
    catalog: &Catalog,
    config: &Config,
) -> Vec<Vec<(String, Resource)>> {
    // Grouped by month, so each article's items are rendered once for all
    // the scopes that list it; then handed back in the order of `jobs`.
    let mut by_month: BTreeMap<Month, Vec<(usize, pieces::ScopeMonths<'_>)>> = BTreeMap::new();
    for (n, (scope, month, months)) in jobs.iter().enumerate() {
        by_month.entry(*month).or_default().push((n, (*scope, *months)));
    }
    let groups: Vec<(Month, Vec<(usize, pieces::ScopeMonths<'_>)>)> = by_month.into_iter().collect();
    let rendered = parallel::map(&groups, |(month, scopes)| {
        let only: Vec<pieces::ScopeMonths<'_>> = scopes.iter().map(|(_, s)| *s).collect();
        pieces::month_documents(*month, &only, catalog, config)
    });
    let mut out: Vec<Vec<(String, Resource)>> = jobs.iter().map(|_| Vec::new()).collect();
    for ((_, scopes), files) in groups.iter().zip(rendered) {
        let mut files = files.into_iter();
        for (n, _) in scopes {
            out[*n] = files.by_ref().take(FeedFormat::ALL.len()).collect();
        }
    }
    out
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
        let entries =
            archive_index_entries(layout, lang, config, |path| snapshot.get(path).and_then(|r| r.last_modified));
        let index_path = fill_template(&config.archives.index_path, &[("lang", lang)]);
        if entries.is_empty() {
            snapshot.remove(&index_path);
        } else {
            let (path, resource) = archive::index_file(lang, &entries, config);
            snapshot.insert(path, resource);
        }
    }
}

/// The entries of `lang`'s archive index: every archive document of the
/// language's feeds in `layout`, with its date (`modified`), sorted.
fn archive_index_entries(
    layout: &std::collections::HashMap<FeedScope, Vec<Month>>,
    lang: &str,
    config: &Config,
    modified: impl Fn(&str) -> Option<Timestamp>,
) -> Vec<(String, Option<Timestamp>)> {
    let mut entries: Vec<(String, Option<Timestamp>)> = Vec::new();
    for (scope, months) in layout {
        if scope.lang(config) != lang {
            continue;
        }
        for month in months {
            for format in FeedFormat::ALL {
                let path = archive::archive_path(scope, *month, format, config);
                let at = modified(&path);
                entries.push((path, at));
            }
        }
    }
    entries.sort();
    entries
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
            let bytes = splice::format_bytes(doc, &doc.items, format, config);
            (path_of(format), Resource::new(kind, bytes, splice::content_type(format), last_modified))
        })
        .collect()
}
