//! What push reads from the rest of herald, as narrow traits: the current
//! content of a topic, and the articles with their feed items. The daemon
//! hands push an implementation of each (the server's files being served,
//! the live site), so push depends on neither the server nor the site.

use std::sync::Arc;

use jiff::Timestamp;

use super::state::{Announced, EventDelivery, PushStore};
use crate::article::Article;
use crate::catalog::Catalog;
use crate::config::{ArticleEvent, Config};
use crate::render::feed::FeedItem;
use crate::snapshot::Resource;

/// Where the current content of a topic comes from: the files being
/// served. The hub checks that a topic is a feed herald serves; a
/// content-distribution delivery sends its bytes with its content type.
pub trait TopicSource: Send + Sync {
    /// The file served at site path `path` now (its kind, bytes, content
    /// type and ETag), if there is one.
    fn current(&self, path: &str) -> Option<Arc<Resource>>;
}

/// What webhook events and IndexNow read about the articles: every article
/// the site knows, and each visible one as its feeds show it (the item a
/// webhook payload carries).
pub trait ArticleSource {
    /// The configuration the articles were read with.
    fn config(&self) -> &Arc<Config>;

    /// Every article, with its state at the site's clock.
    fn catalog(&self) -> &Catalog;

    /// `article` as a feed item: rendered body, section title,
    /// translations.
    fn feed_item(&mut self, article: &Arc<Article>) -> FeedItem;
}

/// One article event, as the fediverse publisher reads it.
pub struct ArticleNews<'a> {
    /// Published, updated or unpublished.
    pub kind: ArticleEvent,
    /// The article's stable id.
    pub id: &'a str,
    /// The version announced (for unpublished: the last one).
    pub version: &'a str,
    /// The article's event number.
    pub sequence: i64,
    /// The article as it is now (published, updated) or as last seen.
    pub article: Option<&'a Arc<Article>>,
    /// What was last announced about it (updated, unpublished).
    pub previous: Option<&'a Announced>,
}

/// The fediverse side of publishing, which push calls without knowing it
/// (the `activitypub` room implements it; the daemon attaches it).
pub trait Fediverse: Send + Sync {
    /// The activities announcing `news`, one per distinct inbox of the
    /// followers of the actors concerned, to queue in the transaction that
    /// records the article's new version.
    fn activities(
        &self,
        store: &dyn PushStore,
        news: &ArticleNews<'_>,
        config: &Config,
        now: Timestamp,
    ) -> Vec<EventDelivery>;

    /// The headers (`Date`, `Digest`, `Signature` …) that sign a POST of
    /// `body` to `inbox` by the actor named `actor`.
    fn sign(&self, actor: &str, inbox: &str, body: &[u8], now: Timestamp) -> Result<Vec<(String, String)>, String>;

    /// Told when the engine removed followers (their inbox answered 410
    /// Gone).
    fn followers_removed(&self);
}
