//! Push reads the articles through its own trait; the live site is what
//! implements it.

use std::sync::Arc;

use crate::article::Article;
use crate::catalog::Catalog;
use crate::config::Config;
use crate::push::sources::ArticleSource;
use crate::render::feed::FeedItem;
use crate::site::LiveSite;

/// Webhook events read the articles and their feed items from the live
/// site.
impl ArticleSource for LiveSite {
    fn config(&self) -> &Arc<Config> {
        LiveSite::config(self)
    }

    fn catalog(&self) -> &Catalog {
        LiveSite::catalog(self)
    }

    fn feed_item(&mut self, article: &Arc<Article>) -> FeedItem {
        LiveSite::feed_item(self, article)
    }
}
