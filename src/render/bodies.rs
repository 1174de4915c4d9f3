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
        let html = match fetch(article, store, config) {
            Ok(html) => html?,
            Err(problem) => {
                tracing::warn!("{problem}");
                self.problems.push(problem);
                return None;
            }
        };
        self.keep(article, &html);
        Some(html)
    }

    /// Renders, on every core, the bodies of `articles` not cached yet, so
    /// that [`BodyCache::html`] finds them; the problems are left for
    /// `html` to meet and report.
    pub fn prefetch(&mut self, articles: &[&Arc<Article>], store: &dyn ArticleStore, config: &Config) {
        let mut seen = std::collections::HashSet::new();
        let missing: Vec<&Arc<Article>> =
            articles.iter().copied().filter(|a| !self.holds(a) && seen.insert(&a.source.path)).collect();
        let rendered = crate::parallel::map(&missing, |article| fetch(article, store, config).ok().flatten());
        for (article, html) in missing.iter().zip(rendered) {
            if let Some(html) = html {
                self.keep(article, &html);
            }
        }
    }

    /// Whether the cached body of `article` is the one it was read with.
    fn holds(&self, article: &Article) -> bool {
        self.entries
            .get(&article.source.path)
            .is_some_and(|cached| cached.digest == article.body_digest && cached.url == article.url)
    }

    /// Caches `html` as `article`'s body, keyed by the digest the article
    /// was read with: if the file changed since, the next read of the
    /// article renders again.
    fn keep(&mut self, article: &Article, html: &Arc<str>) {
        self.entries.insert(
            article.source.path.clone(),
            CachedBody { digest: article.body_digest, url: article.url.clone(), html: Arc::clone(html) },
        );
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

/// The sanitised HTML body of `article` read from `store`: `Ok(None)` when
/// the document changed since the article was read, an error when the
/// store cannot give it.
fn fetch(
    article: &Article,
    store: &dyn ArticleStore,
    config: &Config,
) -> Result<Option<Arc<str>>, crate::diagnostic::Diagnostic> {
    let body = store.body(article)?;
    if crate::digest::digest(body.as_bytes()) != article.body_digest {
        // The document changed since the article was read (it is broken
        // now, or a newer version is on its way): never pair a body with
        // metadata from another version. The item carries its summary.
        tracing::debug!("{}: the body changed since it was read; using the summary", article.source.path.display());
        return Ok(None);
    }
    let permalink = Url::parse(&article.url).unwrap_or_else(|_| config.site.base_url.clone());
    Ok(Some(crate::markdown::render_body(&body, article.source.body_format, &config.site.base_url, &permalink).into()))
}
