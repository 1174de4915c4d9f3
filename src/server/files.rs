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
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::HeaderValue;
use jiff::Timestamp;

use super::compress::Compressor;
use crate::config::Config;
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
    /// The HTML index page.
    Page,
    /// Stylesheets, robots.txt, `.gz` twins.
    Asset,
    /// `/healthz`.
    Health,
    /// `/metrics`.
    Metrics,
    /// The WebSub hub endpoint.
    Hub,
    /// Anything not found.
    NotFound,
}

impl Route {
    /// Every route, in metrics order.
    pub const ALL: [Route; 8] = [
        Route::Feed,
        Route::Sitemap,
        Route::Page,
        Route::Asset,
        Route::Health,
        Route::Metrics,
        Route::Hub,
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
    /// Strong ETags, one per representation: `[feed type, browser type]`
    /// × `[identity, gzip, brotli]`. Each representation has its own, so a
    /// cache never confuses one with another.
    pub etags: [[HeaderValue; 3]; 2],
    /// When herald started serving these bytes (or, at start-up, the
    /// newest modification they show).
    pub last_modified: Option<Timestamp>,
    /// `Last-Modified` header value.
    pub last_modified_header: Option<HeaderValue>,
    /// `Content-Type` header value.
    pub content_type: HeaderValue,
    /// `Content-Type` for browsers, for RSS and Atom feeds: `application/xml`,
    /// because browsers show `application/rss+xml` as text (or download it)
    /// instead of applying the feed's stylesheet.
    pub browser_content_type: Option<HeaderValue>,
    /// `Vary` header value: `Accept-Encoding`, plus `Accept` when the
    /// content type depends on it.
    pub vary: Option<HeaderValue>,
    /// `Cache-Control` header value.
    pub cache_control: HeaderValue,
    /// Route kind for metrics.
    pub route: Route,
    /// `Link: <hub>; rel="hub", <self>; rel="self"` for feeds, once a hub
    /// is configured.
    pub link: Option<HeaderValue>,
}

/// A file's compressed bodies.
#[derive(Debug)]
pub struct Compressed {
    /// gzip.
    pub gzip: Bytes,
    /// brotli.
    pub brotli: Bytes,
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

    /// Prepares `snapshot` for serving, reusing what `previous` already
    /// prepared for unchanged files, and queues the new ones on
    /// `compressor` (without one, files are only ever sent uncompressed).
    /// `now` dates files that changed after start-up.
    pub fn prepare(
        snapshot: &Snapshot,
        previous: Option<&ServedFiles>,
        config: &Config,
        now: Timestamp,
        compressor: Option<&Compressor>,
    ) -> ServedFiles {
        let cache_control = header(&config.server.cache_control);
        let asset_cache_control = HeaderValue::from_static("public, max-age=3600");
        let mut files = HashMap::with_capacity(snapshot.len());
        let mut fresh = Vec::new();
        for (path, resource) in snapshot.iter() {
            let old = previous.and_then(|p| p.files.get(path));
            let link = (resource.kind == ResourceKind::Feed && !config.hubs().is_empty())
                .then(|| header(&crate::push::delivery::link_header(config, &config.url_for(path))));
            if let Some(old) = old
                && old.resource.etag == resource.etag
                && old.resource.content_type == resource.content_type
                && old.cache_control == cache_control_for(resource, &cache_control, &asset_cache_control)
                && old.link == link
            {
                files.insert(path.clone(), Arc::clone(old));
                continue;
            }
            let last_modified = match (previous, old) {
                // At start-up: no earlier than now, since the file may have
                // changed while herald was stopped (If-Modified-Since must
                // never hide a change); the content's own date if later.
                (None, _) => Some(resource.last_modified.map_or(now, |t| t.max(now))),
                // A changed file: now, and always later than before.
                (Some(_), Some(old)) => Some(
                    old.last_modified
                        .map_or(now, |t| now.max(t.checked_add(jiff::SignedDuration::from_secs(1)).unwrap_or(t))),
                ),
                (Some(_), None) => Some(now),
            };
            let served = Arc::new(prepare_file(
                resource,
                last_modified,
                cache_control_for(resource, &cache_control, &asset_cache_control),
                link,
            ));
            if served.compressible {
                fresh.push(Arc::clone(&served));
            }
            files.insert(path.clone(), served);
        }
        if let Some(compressor) = compressor {
            compressor.submit(fresh);
        }
        ServedFiles { files }
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
    let compressible = resource.body.len() >= MIN_COMPRESS_BYTES && resource.content_type != "application/gzip";
    let tag = resource.etag.trim_matches('"');
    let route = match resource.kind {
        ResourceKind::Feed | ResourceKind::Archive { .. } => Route::Feed,
        ResourceKind::Sitemap | ResourceKind::SitemapIndex => Route::Sitemap,
        ResourceKind::Other if resource.content_type.starts_with("text/html") => Route::Page,
        ResourceKind::Other => Route::Asset,
    };
    let feed_like = matches!(resource.kind, ResourceKind::Feed | ResourceKind::Archive { .. });
    let xml_feed = feed_like && resource.content_type.contains("+xml");
    let browser_content_type = xml_feed.then(|| HeaderValue::from_static("application/xml; charset=utf-8"));
    let vary = match (xml_feed, compressible) {
        (true, _) => Some(HeaderValue::from_static("Accept, Accept-Encoding")),
        (false, true) => Some(HeaderValue::from_static("Accept-Encoding")),
        (false, false) => None,
    };
    ServedFile {
        resource: Arc::clone(resource),
        browser_content_type,
        vary,
        compressible,
        compressed: OnceLock::new(),
        etags: [
            [header(&resource.etag), header(&format!("\"{tag}-gz\"")), header(&format!("\"{tag}-br\""))],
            [header(&format!("\"{tag}-x\"")), header(&format!("\"{tag}-x-gz\"")), header(&format!("\"{tag}-x-br\""))],
        ],
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

    #[test]
    fn http_dates_round_trip() {
        let at: Timestamp = "1994-11-06T08:49:37Z".parse().unwrap();
        assert_eq!(http_date(at), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(at));
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
