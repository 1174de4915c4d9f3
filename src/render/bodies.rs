//! Rendered article bodies, fetched from the store only for articles that
//! appear in a feed and kept while they stay there.
//!
//! A body is rendered again only when its text or its permalink changed
//! (relative links resolve against the permalink), so a daemon that
//! re-renders a feed after one edit renders one body, not fifty.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use url::Url;

use crate::article::Article;
use crate::config::Config;
use crate::store::ArticleStore;

/// Cache of sanitised body HTML by article source. A body is used only if
/// it is the one the article was read with (same digest), so metadata and
/// body always come from one version of the document.
#[derive(Debug, Default)]
pub struct BodyCache {
    entries: HashMap<PathBuf, CachedBody>,
    /// Sources used since the last [`BodyCache::retain_used`].
    used: std::collections::HashSet<PathBuf>,
    /// Problems met while reading bodies (a file deleted since the scan).
    pub problems: Vec<crate::diagnostic::Diagnostic>,
}

#[derive(Debug)]
struct CachedBody {
    digest: u128,
    url: String,
    html: Arc<str>,
}

impl BodyCache {
    /// The sanitised HTML body of `article`, or `None` when the store can
    /// no longer give it (the item then carries its summary only).
    pub fn html(&mut self, article: &Article, store: &dyn ArticleStore, config: &Config) -> Option<Arc<str>> {
        self.used.insert(article.source.path.clone());
        if let Some(cached) = self.entries.get(&article.source.path)
            && cached.digest == article.body_digest
            && cached.url == article.url
        {
            return Some(Arc::clone(&cached.html));
        }
        let body = match store.body(article) {
            Ok(body) => body,
            Err(problem) => {
                tracing::warn!("{problem}");
                self.problems.push(problem);
                return None;
            }
        };
        if crate::digest::digest(body.as_bytes()) != article.body_digest {
            // The document changed since the article was read (it is broken
            // now, or a newer version is on its way): never pair a body with
            // metadata from another version. The item carries its summary.
            tracing::debug!("{}: the body changed since it was read; using the summary", article.source.path.display());
            return None;
        }
        let permalink = Url::parse(&article.url).unwrap_or_else(|_| config.site.base_url.clone());
        let html: Arc<str> =
            crate::markdown::render_body(&body, article.source.body_format, &config.site.base_url, &permalink).into();
        // Keyed by the digest the article was read with: if the file changed
        // since, the next read of the article renders again.
        self.entries.insert(
            article.source.path.clone(),
            CachedBody { digest: article.body_digest, url: article.url.clone(), html: Arc::clone(&html) },
        );
        Some(html)
    }

    /// Keeps only the bodies of sources for which `keep` is true.
    pub fn retain(&mut self, keep: impl Fn(&std::path::Path) -> bool) {
        self.entries.retain(|path, _| keep(path));
        self.used.retain(|path| keep(path));
    }

    /// How many bodies are cached.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no body is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets bodies not used since the previous call, so the cache holds
    /// only what the current feeds show. Call it after rendering every feed,
    /// never after a partial render.
    pub fn retain_used(&mut self) {
        let used = std::mem::take(&mut self.used);
        self.entries.retain(|path, _| used.contains(path));
    }
}
