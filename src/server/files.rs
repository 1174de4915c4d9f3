//! The files as the server hands them out: each rendered file with its
//! gzip and brotli bodies and every header value computed once, when the
//! file changes, never per request.
//!
//! A new [`ServedFiles`] is built after every site update. Files whose
//! bytes did not change are carried over from the previous one (same
//! compressed bodies, same `Last-Modified`), so an update costs work only
//! for the files it touched. Compressed bodies are made in the background
//! (see [`super::compress`]), never on the publish path.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::HeaderValue;
use jiff::Timestamp;

use super::compress::Compressor;
use crate::config::Config;
use crate::file_cache::Representation;
use crate::snapshot::{Resource, ResourceKind, Snapshot};

/// Files smaller than this are not compressed: the saving is a few bytes.
const MIN_COMPRESS_BYTES: usize = 512;

/// What kind of route a request went to, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// A feed.
    Feed,
    /// A sitemap or the sitemap index.
    Sitemap,
    /// The HTML index page, and the HTML views of feeds and sitemaps.
    Page,
    /// Stylesheets, robots.txt, `.gz` twins.
    Asset,
    /// `/healthz`.
    Health,
    /// `/metrics`.
    Metrics,
    /// The WebSub hub endpoint.
    Hub,
    /// ActivityPub: actors, discovery, inboxes, collections.
    ActivityPub,
    /// Anything not found.
    NotFound,
}

impl Route {
    /// Every route, in metrics order.
    pub const ALL: [Route; 9] = [
        Route::Feed,
        Route::Sitemap,
        Route::Page,
        Route::Asset,
        Route::Health,
        Route::Metrics,
        Route::Hub,
        Route::ActivityPub,
        Route::NotFound,
    ];

    /// The label value in metrics.
    pub fn label(self) -> &'static str {
        match self {
            Route::Feed => "feed",
            Route::Sitemap => "sitemap",
            Route::Page => "page",
            Route::Asset => "asset",
            Route::Health => "healthz",
            Route::Metrics => "metrics",
            Route::Hub => "websub",
            Route::ActivityPub => "activitypub",
            Route::NotFound => "not_found",
        }
    }
}

/// One file, ready to send.
#[derive(Debug)]
pub struct ServedFile {
    /// The rendered file.
    pub resource: Arc<Resource>,
    /// Whether compressed bodies are worth having (large enough, not
    /// already compressed).
    pub compressible: bool,
    /// gzip and brotli bodies, once the background compressor has made them;
    /// until then (and forever when not compressible) the file is sent as is.
    pub compressed: OnceLock<Compressed>,
    /// Set when the compressed bodies could not be made (bytes kept on disk
    /// unreadable or corrupt then, until the site writes them again): the
    /// next [`ServedFiles::prepare`] or [`ServedFiles::update`] that carries
    /// the file over submits it again.
    pub compression_failed: AtomicBool,
    /// Strong ETags, one per encoding: `[identity, gzip, brotli]`. Each
    /// representation has its own, so a cache never confuses one with
    /// another (a document's HTML view is another file, with its own).
    pub etags: [HeaderValue; 3],
    /// When herald started serving these bytes (or, at start-up, the
    /// newest modification they show).
    pub last_modified: Option<Timestamp>,
    /// `Last-Modified` header value.
    pub last_modified_header: Option<HeaderValue>,
    /// `Content-Type` header value.
    pub content_type: HeaderValue,
    /// `Vary` header value: `Accept-Encoding` for compressible files (a
    /// document with an HTML view varies on more, see
    /// [`super::NEGOTIATED_VARY`]).
    pub vary: Option<HeaderValue>,
    /// `Cache-Control` header value.
    pub cache_control: HeaderValue,
    /// Route kind for metrics.
    pub route: Route,
    /// `Link: <hub>; rel="hub", <self>; rel="self"` for feeds, once a hub
    /// is configured.
    pub link: Option<HeaderValue>,
}

/// A file's compressed bodies. For a file kept on disk they are on disk
/// beside it, and both are empty here.
#[derive(Debug)]
pub struct Compressed {
    /// gzip.
    pub gzip: Bytes,
    /// brotli.
    pub brotli: Bytes,
}

/// Bytes of the served files, by where they are kept, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileBytes {
    /// In memory: bodies and their compressed twins.
    pub memory: u64,
    /// On disk (the file cache): bodies and their compressed twins.
    pub disk: u64,
    /// Files kept on disk.
    pub disk_files: u64,
}

impl ServedFile {
    /// The bytes of `representation` (a compressed one only once made):
    /// from memory, or read from disk for a file kept there.
    pub fn body(&self, representation: Representation) -> std::io::Result<Bytes> {
        if let Some(stored) = &self.resource.stored {
            return stored.read(representation);
        }
        Ok(match (representation, self.compressed.get()) {
            (Representation::Gzip, Some(bodies)) => bodies.gzip.clone(),
            (Representation::Brotli, Some(bodies)) => bodies.brotli.clone(),
            _ => self.resource.body.clone(),
        })
    }
}

/// Every served file, by URL path.
#[derive(Debug, Default)]
pub struct ServedFiles {
    files: HashMap<String, Arc<ServedFile>>,
}

impl ServedFiles {
    /// The file at `path`.
    pub fn get(&self, path: &str) -> Option<&Arc<ServedFile>> {
        self.files.get(path)
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Every file, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<ServedFile>> {
        self.files.values()
    }

    /// Bytes of the files in memory and on disk (files with the same bytes
    /// on disk share them and count once).
    pub fn bytes(&self) -> FileBytes {
        let mut out = FileBytes::default();
        let mut on_disk = std::collections::HashSet::new();
        for file in self.files.values() {
            let twins = file.compressed.get().map_or(0, |c| (c.gzip.len() + c.brotli.len()) as u64);
            out.memory += file.resource.body.len() as u64 + twins;
            if let Some(stored) = &file.resource.stored
                && on_disk.insert(stored.digest())
            {
                out.disk += stored.len() + stored.twins().map_or(0, |(gzip, brotli)| gzip + brotli);
                out.disk_files += 1;
            }
        }
        out
    }

    /// Prepares `snapshot` for serving, reusing what `previous` already
    /// prepared for unchanged files, and queues the new ones on
    /// `compressor` (without one, files are only ever sent uncompressed).
    /// `now` dates files that changed after start-up. Looks at every file:
    /// for start-up and configuration changes; an update that knows which
    /// paths changed uses [`ServedFiles::update`].
    pub fn prepare(
        snapshot: &Snapshot,
        previous: Option<&ServedFiles>,
        config: &Config,
        now: Timestamp,
        compressor: Option<&Compressor>,
    ) -> ServedFiles {
        let headers = SharedHeaders::of(config);
        let mut files = HashMap::with_capacity(snapshot.len());
        let mut fresh = Vec::new();
        for (path, resource) in snapshot.iter() {
            let old = previous.map(|p| p.files.get(path));
            let served = headers.serve(path, resource, old, config, now);
            if served.compressible && (!old.flatten().is_some_and(|old| Arc::ptr_eq(old, &served)) || retry(&served)) {
                fresh.push(Arc::clone(&served));
            }
            files.insert(path.clone(), served);
        }
        if let Some(compressor) = compressor {
            compressor.submit(fresh);
        }
        ServedFiles { files }
    }

    /// `previous` with the files at `changed` (paths whose bytes changed,
    /// appeared or went) taken from `snapshot`: the same result as
    /// [`ServedFiles::prepare`] when the configuration is unchanged, with
    /// work for the changed files only (besides copying the map's
    /// pointers), so that an edit costs the same in a store of any size.
    pub fn update(
        previous: &ServedFiles,
        snapshot: &Snapshot,
        changed: &[String],
        config: &Config,
        now: Timestamp,
        compressor: Option<&Compressor>,
    ) -> ServedFiles {
        let headers = SharedHeaders::of(config);
        let mut files = previous.files.clone();
        let mut fresh = Vec::new();
        for path in changed {
            match snapshot.get(path) {
                Some(resource) => {
                    let old = previous.files.get(path);
                    let served = headers.serve(path, resource, Some(old), config, now);
                    if served.compressible && (!old.is_some_and(|old| Arc::ptr_eq(old, &served)) || retry(&served)) {
                        fresh.push(Arc::clone(&served));
                    }
                    files.insert(path.clone(), served);
                }
                None => {
                    files.remove(path);
                }
            }
        }
        if let Some(compressor) = compressor {
            compressor.submit(fresh);
        }
        ServedFiles { files }
    }
}

/// Whether a file carried over from the previous files is to be submitted
/// again: its compression failed (the flag is cleared).
fn retry(file: &ServedFile) -> bool {
    file.compression_failed.swap(false, Ordering::Relaxed)
}

/// Header values shared by many files, made once per update.
struct SharedHeaders {
    cache_control: HeaderValue,
    asset_cache_control: HeaderValue,
    /// Whether feeds name a hub in a `Link` header.
    hubs: bool,
}

impl SharedHeaders {
    fn of(config: &Config) -> SharedHeaders {
        SharedHeaders {
            cache_control: header(&config.server.cache_control),
            asset_cache_control: HeaderValue::from_static("public, max-age=3600"),
            hubs: !config.hubs().is_empty(),
        }
    }

    /// The served file for `resource` at `path`: `old` itself when nothing
    /// it sends changed. `old` is `None` at start-up (no previous files),
    /// `Some(None)` for a new path.
    fn serve(
        &self,
        path: &str,
        resource: &Arc<Resource>,
        old: Option<Option<&Arc<ServedFile>>>,
        config: &Config,
        now: Timestamp,
    ) -> Arc<ServedFile> {
        let link = (resource.kind == ResourceKind::Feed && self.hubs)
            .then(|| header(&config.websub.link_header(&config.site, &config.url_for(path))));
        let cache_control = cache_control_for(resource, &self.cache_control, &self.asset_cache_control);
        if let Some(Some(old)) = old
            && old.resource.etag == resource.etag
            && old.resource.content_type == resource.content_type
            && old.cache_control == cache_control
            && old.link == link
        {
            return Arc::clone(old);
        }
        let last_modified = match old {
            // At start-up: no earlier than now, since the file may have
            // changed while herald was stopped (If-Modified-Since must
            // never hide a change); the content's own date if later.
            None => Some(resource.last_modified.map_or(now, |t| t.max(now))),
            // A changed file: now, and always later than before.
            Some(Some(old)) => Some(
                old.last_modified
                    .map_or(now, |t| now.max(t.checked_add(jiff::SignedDuration::from_secs(1)).unwrap_or(t))),
            ),
            Some(None) => Some(now),
        };
        Arc::new(prepare_file(resource, last_modified, cache_control, link))
    }
}

/// Archives of months that are over never change (unless one of their own
/// articles is edited): caches may keep them for good.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn cache_control_for(resource: &Resource, configured: &HeaderValue, asset: &HeaderValue) -> HeaderValue {
    match resource.kind {
        ResourceKind::Archive { past: true } => HeaderValue::from_static(IMMUTABLE),
        ResourceKind::Feed
        | ResourceKind::Sitemap
        | ResourceKind::SitemapIndex
        | ResourceKind::Archive { past: false } => configured.clone(),
        ResourceKind::Other if resource.content_type.starts_with("text/html") => configured.clone(),
        ResourceKind::Other => asset.clone(),
    }
}

fn prepare_file(
    resource: &Arc<Resource>,
    last_modified: Option<Timestamp>,
    cache_control: HeaderValue,
    link: Option<HeaderValue>,
) -> ServedFile {
    let compressible = resource.len() >= MIN_COMPRESS_BYTES as u64 && resource.content_type != "application/gzip";
    let tag = resource.etag.trim_matches('"');
    let route = match resource.kind {
        ResourceKind::Feed | ResourceKind::Archive { .. } => Route::Feed,
        ResourceKind::Sitemap | ResourceKind::SitemapIndex => Route::Sitemap,
        ResourceKind::Other if resource.content_type.starts_with("text/html") => Route::Page,
        ResourceKind::Other => Route::Asset,
    };
    let vary = compressible.then(|| HeaderValue::from_static("Accept-Encoding"));
    ServedFile {
        resource: Arc::clone(resource),
        vary,
        compressible,
        compressed: OnceLock::new(),
        compression_failed: AtomicBool::new(false),
        etags: [header(&resource.etag), header(&format!("\"{tag}-gz\"")), header(&format!("\"{tag}-br\""))],
        last_modified,
        last_modified_header: last_modified.map(|t| header(&http_date(t))),
        content_type: header(resource.content_type),
        cache_control,
        route,
        link,
    }
}

fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// An HTTP date (RFC 9110 IMF-fixdate): `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(at: Timestamp) -> String {
    at.to_zoned_datetime(jiff::tz::TimeZone::UTC).strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Parses an HTTP date (IMF-fixdate, as every current client sends).
pub fn parse_http_date(text: &str) -> Option<Timestamp> {
    let parsed = jiff::fmt::strtime::parse("%a, %d %b %Y %H:%M:%S GMT", text.trim()).ok()?;
    parsed.to_datetime().ok()?.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::parse(
            "[site]\nbase_url = \"https://example.vn/\"\ndefault_language = \"vi\"\ntitle = \"T\"\n[languages.vi]\n\n[websub]\nenabled = true\n",
            std::path::Path::new("feeds.toml"),
            &Default::default(),
        )
        .unwrap()
    }

    fn file(kind: ResourceKind, text: &str) -> Resource {
        Resource::new(kind, text.repeat(100).into_bytes(), "application/rss+xml; charset=utf-8", None)
    }

    /// What a client would see of every file: path, ETag, dates and
    /// headers, one line per file, sorted.
    fn seen(files: &ServedFiles) -> Vec<String> {
        let mut seen: Vec<String> = files
            .files
            .iter()
            .map(|(path, f)| {
                format!("{path} {} {:?} {:?} {:?}", f.resource.etag, f.last_modified, f.cache_control, f.link)
            })
            .collect();
        seen.sort();
        seen
    }

    /// An update that names the changed paths gives exactly what looking
    /// at every file gives, and keeps the unchanged files themselves.
    #[test]
    fn an_update_of_the_changed_paths_equals_a_full_prepare() {
        let config = config();
        let start: Timestamp = "2026-11-01T00:00:00Z".parse().unwrap();
        let later: Timestamp = "2026-11-02T00:00:00Z".parse().unwrap();
        let mut snapshot = Snapshot::new();
        snapshot.insert("/rss.xml".into(), file(ResourceKind::Feed, "a"));
        snapshot.insert("/archive/2026-10.rss.xml".into(), file(ResourceKind::Archive { past: true }, "b"));
        snapshot.insert("/sitemap.xml".into(), file(ResourceKind::SitemapIndex, "c"));
        let first = ServedFiles::prepare(&snapshot, None, &config, start, None);

        snapshot.insert("/rss.xml".into(), file(ResourceKind::Feed, "a2"));
        snapshot.remove("/sitemap.xml");
        snapshot.insert("/vi/rss.xml".into(), file(ResourceKind::Feed, "d"));
        let changed = ["/rss.xml".to_string(), "/sitemap.xml".to_string(), "/vi/rss.xml".to_string()];
        let updated = ServedFiles::update(&first, &snapshot, &changed, &config, later, None);
        let full = ServedFiles::prepare(&snapshot, Some(&first), &config, later, None);

        assert_eq!(seen(&updated), seen(&full));
        assert_eq!(updated.len(), 3);
        assert!(updated.get("/sitemap.xml").is_none());
        let archive = "/archive/2026-10.rss.xml";
        assert!(Arc::ptr_eq(updated.get(archive).unwrap(), first.get(archive).unwrap()));
        assert_eq!(updated.get("/rss.xml").unwrap().last_modified, Some(later));
        assert!(updated.get("/rss.xml").unwrap().link.is_some(), "feeds name the hub");
    }

    #[test]
    fn http_dates_round_trip() {
        let at: Timestamp = "1994-11-06T08:49:37Z".parse().unwrap();
        assert_eq!(http_date(at), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(at));
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
