//! An article store held in memory: documents by store-relative path, read
//! with the same rules as the folder store. For tests, benchmarks and
//! generated stores that never touch the disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use super::folder::{classify, document_body, parse_document};
use super::{ArticleStore, Loaded, Scan};
use crate::article::Article;
use crate::config::Config;
use crate::diagnostic::Diagnostic;

/// Documents in memory, by store-relative path (`thoi-su/bai.vi.md`).
#[derive(Debug, Default)]
pub struct MemoryStore {
    documents: RwLock<BTreeMap<PathBuf, Vec<u8>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Adds or replaces the document at `path`.
    pub fn insert(&self, path: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>) {
        self.write_lock().insert(path.into(), bytes.into());
    }

    /// Deletes the document at `path`.
    pub fn remove(&self, path: &Path) {
        self.write_lock().remove(path);
    }

    fn write_lock(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<PathBuf, Vec<u8>>> {
        self.documents.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read_lock(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<PathBuf, Vec<u8>>> {
        self.documents.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ArticleStore for MemoryStore {
    fn scan(&self, config: &Config) -> Scan {
        let paths: Vec<PathBuf> = self.read_lock().keys().cloned().collect();
        let mut scan = Scan::default();
        for path in paths {
            match self.load(&path, config) {
                Loaded::Article(a) => {
                    scan.documents += 1;
                    scan.articles.push(*a);
                }
                Loaded::Invalid(d) => {
                    scan.documents += 1;
                    scan.diagnostics.push(d);
                }
                Loaded::Gone => {}
            }
        }
        scan
    }

    fn load(&self, path: &Path, config: &Config) -> Loaded {
        let Some(info) = classify(path) else { return Loaded::Gone };
        let documents = self.read_lock();
        let Some(bytes) = documents.get(path) else { return Loaded::Gone };
        match parse_document(path, &info, path, bytes, config) {
            Ok(article) => Loaded::Article(Box::new(article)),
            Err(d) => Loaded::Invalid(d),
        }
    }

    fn list(&self, under: &Path) -> Vec<PathBuf> {
        self.read_lock().keys().filter(|p| p.starts_with(under) && p.as_path() != under).cloned().collect()
    }

    fn is_document(&self, path: &Path) -> bool {
        classify(path).is_some()
    }

    fn body(&self, article: &Article) -> Result<String, Diagnostic> {
        let documents = self.read_lock();
        let bytes = documents
            .get(&article.source.path)
            .ok_or_else(|| Diagnostic::error(&article.source.path, "the document is gone"))?;
        let text = std::str::from_utf8(bytes).map_err(|e| Diagnostic::error(&article.source.path, e.to_string()))?;
        document_body(&article.source.path, text)
    }
}
