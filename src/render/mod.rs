//! Render: (catalog, config) → files. Pure apart from reading bodies from
//! the store: no clock reads, no HashMap order reaching the bytes, so the
//! same store at the same instant gives byte-identical output and stable
//! ETags.

pub mod atom;
pub mod bodies;
pub mod feed;
pub mod json_feed;
pub mod rss;
pub mod time;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::snapshot::{Resource, Snapshot};
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

/// Renders every feed of the site into a new snapshot.
pub fn render_site(catalog: &Catalog, config: &Config, store: &dyn ArticleStore, bodies: &mut BodyCache) -> Snapshot {
    let mut snapshot = Snapshot::new();
    for scope in feed::feed_scopes(catalog, config) {
        for (path, resource) in render_feed(&scope, catalog, config, store, bodies) {
            snapshot.insert(path, resource);
        }
    }
    bodies.retain_used();
    snapshot
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
    let last_modified = Some(doc.updated);
    FeedFormat::ALL
        .into_iter()
        .map(|format| {
            let (bytes, content_type) = match format {
                FeedFormat::Rss => (rss::write(&doc, config), RSS_CONTENT_TYPE),
                FeedFormat::Atom => (atom::write(&doc, config), ATOM_CONTENT_TYPE),
                FeedFormat::Json => (json_feed::write(&doc, config), JSON_FEED_CONTENT_TYPE),
            };
            (scope.path(format, config), Resource::new(bytes, content_type, last_modified))
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
