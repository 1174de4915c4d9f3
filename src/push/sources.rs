//! What push reads from the rest of herald, as narrow traits: the current
//! content of a topic, and the articles with their feed items. The daemon
//! hands push an implementation of each (the server's files being served,
//! the live site), so push depends on neither the server nor the site.

use std::sync::Arc;

use crate::article::Article;
use crate::catalog::Catalog;
use crate::config::Config;
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
