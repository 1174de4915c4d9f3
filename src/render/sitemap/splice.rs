//! A monthly sitemap written again entry by entry, for the live site's
//! small steps: the entries of articles that did not change are copied
//! from the current file's bytes, only the others are written (the feed
//! documents' counterpart is [`crate::render::splice`]). The bytes are
//! exactly those [`super::month_files`] writes at once.

use std::collections::HashMap;
use std::sync::Arc;

use crate::article::{Article, Month};
use crate::catalog::Catalog;
use crate::config::Config;
use crate::snapshot::{Resource, ResourceKind};

/// Where the entries lie in a one-part monthly sitemap.
#[derive(Debug)]
pub struct SitemapLayout {
    /// The ETag of the bytes this describes.
    etag: String,
    /// The articles listed, in order.
    articles: Vec<Arc<Article>>,
    /// Length of the header.
    head: usize,
    /// Length of each entry.
    lengths: Vec<usize>,
}

impl SitemapLayout {
    /// Whether this describes `file`'s bytes.
    pub fn describes(&self, file: &Resource) -> bool {
        self.etag == file.etag
    }
}

/// `lang`'s sitemap of `month` as one file, with where its entries lie,
/// copying from `previous` (a layout and the file it describes) the
/// entries of the articles it lists that are not `relinked`. `None` when
/// the month lists no article or needs more than one file: then
/// [`super::month_files`] writes it.
pub fn month_file(
    lang: &str,
    month: Month,
    previous: Option<(&SitemapLayout, &Resource)>,
    relinked: impl Fn(&Article) -> bool,
    catalog: &Catalog,
    config: &Config,
) -> Option<(Resource, SitemapLayout)> {
    let articles = super::month_articles(lang, month, catalog);
    if articles.is_empty() {
        return None;
    }
    let (head, tail) = super::urlset_frame(config);
    let mut old_entries: HashMap<usize, (usize, usize)> = HashMap::new();
    if let Some((layout, _)) = previous {
        let mut at = layout.head;
        for (article, length) in layout.articles.iter().zip(&layout.lengths) {
            old_entries.insert(Arc::as_ptr(article) as usize, (at, *length));
            at += length;
        }
    }
    let mut out =
        Vec::with_capacity(previous.map_or(head.len() + articles.len() * 512, |(_, file)| file.body.len() + 1024));
    out.extend_from_slice(&head);
    let mut lengths = Vec::with_capacity(articles.len());
    for article in &articles {
        let copied = match (previous, old_entries.get(&(Arc::as_ptr(article) as usize))) {
            (Some((_, file)), Some((start, length))) if !relinked(article) => {
                out.extend_from_slice(file.body.get(*start..start + length)?);
                Some(*length)
            }
            _ => None,
        };
        let length = match copied {
            Some(length) => length,
            None => {
                let bytes = super::entry_bytes(&super::article_entry(article, catalog, config), config);
                out.extend_from_slice(&bytes);
                bytes.len()
            }
        };
        lengths.push(length);
    }
    out.extend_from_slice(&tail);
    if articles.len() > super::MAX_URLS || out.len() > super::MAX_BYTES {
        return None;
    }
    let newest = articles.iter().map(|a| a.updated()).max();
    let resource = Resource::new(ResourceKind::Sitemap, out, super::SITEMAP_CONTENT_TYPE, newest);
    let articles = articles.into_iter().map(Arc::clone).collect();
    let layout = SitemapLayout { etag: resource.etag.clone(), articles, head: head.len(), lengths };
    Some((resource, layout))
}
