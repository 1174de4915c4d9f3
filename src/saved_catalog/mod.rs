//! The saved catalog: what the live site read from each document of a
//! folder store (its article: every field the catalog and the feeds use;
//! never its body), kept in the state folder so that a restart reads only
//! the documents that changed since.
//!
//! Each saved document has its file's stamp (size, modification and
//! change times, inode and device) and when its reading began. At the
//! next start, the store is walked and every document's file is `stat`ed:
//! one whose stamp is the saved one, whose times are settled (more than
//! [`RACY_MARGIN`] before its reading began, and not in the future) and
//! whose shard file is whole and of this herald and configuration is not
//! read; its saved article is taken. Every other document (changed,
//! appeared, racy, or in a missing, corrupt or foreign shard) is read as
//! at a cold start. Saved documents that vanished are simply not walked.
//! So each saved document stands on its own, and any file a crash leaves
//! is either taken whole or not at all: the result is always the full
//! scan's.
//!
//! The documents are spread over [`SHARDS`] files by a digest of their
//! path (`catalog/<nn>.json` in the state folder), so that an edit
//! rewrites one small file. Files are written by a thread of their own
//! (`writer`) after each step, under a temporary name, flushed to disk and
//! renamed into place; each ends with a digest of itself (`format`).
//! Broken documents are not saved (a full scan does not keep their last
//! good version either).

mod format;
mod writer;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use self::format::{Identity, Stamp, Unusable};
use self::writer::{Entry, Job, Place, Writer};
use crate::article::Article;
use crate::config::Config;
use crate::parallel::lock;
use crate::store::KnownArticles;

/// The catalog's folder in the state folder.
pub const CATALOG_DIR: &str = "catalog";

/// How many files the documents are spread over.
pub const SHARDS: u16 = 256;

/// How long before its reading began a document's file must have last
/// changed for its saved article to be trusted (file times are coarse,
/// and a network file system's clock may differ a little from ours).
pub const RACY_MARGIN: Duration = Duration::from_secs(1);

/// The saved catalog of one store and configuration, and its writer.
pub struct SavedCatalog {
    /// What the last run saved, until the first scan takes it.
    known: Option<Known>,
    /// Which herald and configuration the files are for.
    identity: Identity,
    place: Place,
    writer: Writer,
}

/// The documents saved by the last run, for the first scan.
struct Known {
    entries: HashMap<PathBuf, KnownEntry>,
    /// How many documents each shard held (0 for missing or unusable
    /// files), and whether its file was whole.
    shards: Vec<(usize, bool)>,
    /// When the scan that takes them began (for future times).
    now: SystemTime,
    margin: Duration,
}

struct KnownEntry {
    stamp: Stamp,
    seen_at: SystemTime,
    /// Taken by the scan once.
    article: Mutex<Option<Article>>,
}

impl KnownArticles for Known {
    fn take(&self, path: &Path, metadata: &std::fs::Metadata) -> Option<Article> {
        let entry = self.entries.get(path)?;
        let stamp = Stamp::of(metadata);
        if stamp != entry.stamp || !stamp.settled(entry.seen_at, self.margin, self.now) {
            return None;
        }
        lock(&entry.article).take()
    }
}

impl SavedCatalog {
    /// Opens the catalog saved in `config`'s state folder for the store
    /// and configuration of `config`, reading what the last run saved
    /// (files of another herald or configuration are not taken; a
    /// truncated or corrupt one is reported, and its documents are read
    /// again). Temporary files a killed run left are removed.
    pub fn open(config: &Config) -> SavedCatalog {
        SavedCatalog::open_with_margin(config, RACY_MARGIN)
    }

    /// [`SavedCatalog::open`] trusting files changed more than `margin`
    /// before they were read (instead of [`RACY_MARGIN`]): for tests that
    /// cannot wait for the clock, on a file system whose times are fine.
    pub fn open_with_margin(config: &Config, margin: Duration) -> SavedCatalog {
        let dir = config.state_dir.join(CATALOG_DIR);
        let identity = Identity::of(config);
        let place = Place { dir: dir.clone(), store_dir: config.store_dir.clone(), margin };
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::warn!("cannot make {}: {e}; every start reads the whole store", dir.display());
        }
        remove_temporary_files(&dir);
        let known = load(&dir, &identity, margin);
        SavedCatalog { known: Some(known), identity, writer: Writer::start(place.clone()), place }
    }

    /// What the last run saved, for [`crate::store::ArticleStore::scan_reusing`]
    /// (before [`SavedCatalog::saved_scan`]; nothing afterwards).
    pub fn known(&self) -> Option<&dyn KnownArticles> {
        self.known.as_ref().map(|known| known as &dyn KnownArticles)
    }

    /// Saves the result of a full scan that began at `read_at`: `articles`,
    /// the articles of every good document (not the last good versions of
    /// broken ones). Only the shards whose documents are not exactly those
    /// taken from the last run are written. Forgets what the last run saved.
    pub fn saved_scan<'a>(&mut self, articles: impl Iterator<Item = &'a Arc<Article>>, read_at: SystemTime) {
        let known = self.known.take();
        let mut shards: BTreeMap<u16, Vec<Entry>> = BTreeMap::new();
        // How many taken from the last run each shard has.
        let mut taken: HashMap<u16, usize> = HashMap::new();
        for article in articles {
            let path = &article.source.path;
            let shard = shard_of(path);
            let reused = known.as_ref().and_then(|known| known.entries.get(path)).filter(|e| {
                // Taken by the scan (a document read again still has it).
                lock(&e.article).is_none()
            });
            let entry = match reused {
                Some(known) => {
                    *taken.entry(shard).or_default() += 1;
                    Entry { article: Arc::clone(article), stamp: Some(known.stamp), seen_at: known.seen_at }
                }
                None => Entry { article: Arc::clone(article), stamp: None, seen_at: read_at },
            };
            shards.entry(shard).or_default().push(entry);
        }
        if let Some(known) = &known {
            // A shard whose file was whole and whose every document was
            // taken from it, and no other, is already written.
            shards.retain(|shard, entries| {
                let (held, whole) = known.shards[usize::from(*shard)];
                !(whole && held == entries.len() && taken.get(shard) == Some(&held))
            });
            for (shard, (held, whole)) in known.shards.iter().enumerate() {
                let shard = shard as u16;
                if (*held > 0 || !whole) && !shards.contains_key(&shard) && !taken.contains_key(&shard) {
                    shards.insert(shard, Vec::new());
                }
            }
        } else {
            for shard in 0..SHARDS {
                shards.entry(shard).or_default();
            }
        }
        self.writer.send(Job::Replace { identity: self.identity.clone(), shards });
    }

    /// Saves the documents read by a step that began at `read_at`: each
    /// with the article now read from it, or `None` when it is gone or
    /// broken.
    pub fn saved_documents(&mut self, documents: Vec<(PathBuf, Option<Arc<Article>>)>, read_at: SystemTime) {
        if documents.is_empty() {
            return;
        }
        let changes = documents
            .into_iter()
            .map(|(path, article)| (path, article.map(|article| Entry { article, stamp: None, seen_at: read_at })))
            .collect();
        self.writer.send(Job::Patch { identity: self.identity.clone(), changes });
    }

    /// Switches to `config` (a reload): the next full scan saves every
    /// document for it.
    pub fn reconfigure(&mut self, config: &Config) {
        self.known = None;
        self.identity = Identity::of(config);
        if config.store_dir != self.place.store_dir {
            self.place.store_dir = config.store_dir.clone();
            self.writer = Writer::start(self.place.clone());
        }
    }

    /// Returns once everything saved so far is on disk.
    pub fn flush(&self) {
        self.writer.flush();
    }

    /// The catalog's folder.
    pub fn dir(&self) -> &Path {
        &self.place.dir
    }
}

/// Which shard holds the document at `path`.
fn shard_of(path: &Path) -> u16 {
    (crate::digest::digest(path.as_os_str().as_encoded_bytes()) % u128::from(SHARDS)) as u16
}

/// The file of shard `shard` in folder `dir`.
fn shard_path(dir: &Path, shard: u16) -> PathBuf {
    dir.join(format!("{shard:02x}.json"))
}

/// Removes the temporary files of a run killed while writing.
fn remove_temporary_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with('.') {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// What the shard files in `dir` hold, saying why any is not taken.
fn load(dir: &Path, identity: &Identity, margin: Duration) -> Known {
    let now = SystemTime::now();
    let shards: Vec<u16> = (0..SHARDS).collect();
    let read = crate::parallel::map(&shards, |shard| {
        let path = shard_path(dir, *shard);
        match std::fs::read(&path) {
            Ok(bytes) => format::decode(&bytes, identity, *shard).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Unusable::Broken(e.to_string())),
        }
    });
    let mut entries = HashMap::new();
    let mut counts = Vec::with_capacity(read.len());
    let (mut missing, mut other) = (0, 0);
    for (shard, result) in shards.iter().zip(read) {
        let shard_file = || shard_path(dir, *shard).display().to_string();
        match result {
            Ok(Some(stored)) => {
                let mut held = 0;
                let mut whole = true;
                for entry in stored {
                    match entry.article() {
                        Ok(article) if shard_of(&article.source.path) == *shard => {
                            held += 1;
                            let known = KnownEntry {
                                stamp: entry.stamp,
                                seen_at: entry.seen_at(),
                                article: Mutex::new(Some(article)),
                            };
                            entries.insert(PathBuf::from(entry.path), known);
                        }
                        Ok(_) | Err(_) => {
                            tracing::warn!("{}: a document is unusable; it is read again", shard_file());
                            whole = false;
                        }
                    }
                }
                counts.push((held, whole));
            }
            Ok(None) => {
                missing += 1;
                counts.push((0, false));
            }
            Err(Unusable::Other) => {
                other += 1;
                counts.push((0, false));
            }
            Err(Unusable::Broken(why)) => {
                tracing::warn!("{} is unusable ({why}); its documents are read again", shard_file());
                counts.push((0, false));
            }
        }
    }
    let all = usize::from(SHARDS);
    if missing == all {
        tracing::info!("no saved catalog in {}: reading every document", dir.display());
    } else if other > 0 {
        tracing::info!(
            "the catalog in {} was saved by another herald or for another configuration: reading {} its documents",
            dir.display(),
            if other == all { "all" } else { "some of" }
        );
    } else if missing > 0 {
        tracing::warn!(
            "{missing} of the catalog's files in {} are missing; their documents are read again",
            dir.display()
        );
    }
    Known { entries, shards: counts, now, margin }
}
