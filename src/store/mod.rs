//! The article store: where articles come from.
//!
//! A store knows documents and nothing of feeds. It yields [`Article`]s and
//! reports each bad document as a [`Diagnostic`] without stopping the rest.
//! The [`ArticleStore`] trait is small on purpose: the folder store is the
//! embedded default, and a database-backed store (PostgreSQL, for several
//! replicas) can implement the same three calls.

pub mod disk;
pub mod folder;
pub mod front_matter;
pub mod memory;
pub mod postgres;

use std::path::{Path, PathBuf};

use crate::article::Article;
use crate::config::Config;
use crate::diagnostic::Diagnostic;

pub use folder::FolderStore;
pub use memory::MemoryStore;

/// Everything a full read of the store found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Every article that could be read, in document order (sorted by path).
    pub articles: Vec<Article>,
    /// One entry per document that could not be read, and per warning.
    pub diagnostics: Vec<Diagnostic>,
    /// How many documents were looked at.
    pub documents: usize,
    /// How many of their articles were not read but given by a
    /// [`KnownArticles`] ([`ArticleStore::scan_reusing`]).
    pub reused: usize,
}

/// Articles read before, offered to [`ArticleStore::scan_reusing`] so that
/// documents unchanged since need not be read again.
pub trait KnownArticles: Sync {
    /// The article last read from document `path` (store-relative), if the
    /// document's `metadata` now shows it unchanged since; each is given
    /// at most once.
    fn take(&self, path: &Path, metadata: &std::fs::Metadata) -> Option<Article>;
}

/// What reading one document found.
#[derive(Debug)]
pub enum Loaded {
    /// The document is a valid article.
    Article(Box<Article>),
    /// The document no longer exists, or is not an article document.
    Gone,
    /// The document exists but is broken.
    Invalid(Diagnostic),
}

/// A source of articles.
pub trait ArticleStore: Send + Sync {
    /// Reads every article. Bad documents become diagnostics; they never stop
    /// the scan.
    fn scan(&self, config: &Config) -> Scan;

    /// Like [`ArticleStore::scan`], calling `progress(done, total)` now and
    /// then as documents are read (for `herald build`'s progress bar). A
    /// store that cannot count ahead just scans.
    fn scan_reporting(&self, config: &Config, progress: &(dyn Fn(usize, usize) + Sync)) -> Scan {
        let _ = progress;
        self.scan(config)
    }

    /// Like [`ArticleStore::scan`], but a document `known` vouches for
    /// (by its file's metadata) is not read: its article is `known`'s. The
    /// result is the same as a scan's. A store whose documents are not
    /// files just scans.
    fn scan_reusing(&self, config: &Config, known: &dyn KnownArticles) -> Scan {
        let _ = known;
        self.scan(config)
    }

    /// Reads one document again, by its store-relative path (after the
    /// watcher saw it change).
    fn load(&self, path: &Path, config: &Config) -> Loaded;

    /// Store-relative paths of every document under folder `under`
    /// (store-relative; empty for the whole store), sorted. Empty when
    /// `under` is not a folder.
    fn list(&self, under: &Path) -> Vec<PathBuf>;

    /// Whether `path` names an article document (by its name alone).
    fn is_document(&self, path: &Path) -> bool;

    /// The current body text of `article` (Markdown or HTML, per
    /// `article.source.body_format`). Bodies are not kept in memory: they are
    /// fetched when a feed needs them.
    fn body(&self, article: &Article) -> Result<String, Diagnostic>;
}
