//! The thread that writes the saved catalog's files, off the site's path:
//! it takes what changed, waits a moment for more, and rewrites just the
//! shards concerned, each under a temporary name, flushed to disk, then
//! renamed into place.

use std::collections::BTreeMap;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use super::format::{self, Identity, Stamp, StoredEntry};
use super::{shard_of, shard_path};
use crate::article::Article;

/// How long the writer waits for more changes before writing.
const GATHER: Duration = Duration::from_millis(50);

/// The writer's niceness: it gives way to the site loop and requests.
const NICENESS: i32 = 10;

/// A document to save.
pub(super) struct Entry {
    /// The article read from it.
    pub(super) article: Arc<Article>,
    /// Its file's stamp, when known; else taken when written (after the
    /// read: a change since shows in its change time, see `settled`).
    pub(super) stamp: Option<Stamp>,
    /// When its reading began.
    pub(super) seen_at: SystemTime,
}

/// What the writer is asked.
pub(super) enum Job {
    /// These shards hold exactly these documents now.
    Replace { identity: Identity, shards: BTreeMap<u16, Vec<Entry>> },
    /// These documents changed (`None`: no longer saved); the rest of
    /// their shards is as written.
    Patch { identity: Identity, changes: Vec<(PathBuf, Option<Entry>)> },
    /// Says when everything asked before is written.
    Flush(Sender<()>),
}

/// One shard's pending work.
enum Work {
    Replace(BTreeMap<PathBuf, Entry>),
    Patch(BTreeMap<PathBuf, Option<Entry>>),
}

/// The writing thread.
pub(super) struct Writer {
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

/// Where and how the writer works.
#[derive(Clone)]
pub(super) struct Place {
    /// The catalog's folder.
    pub(super) dir: PathBuf,
    /// The store's folder (to stamp documents).
    pub(super) store_dir: PathBuf,
    /// See [`Stamp::settled`].
    pub(super) margin: Duration,
}

impl Writer {
    /// Starts the thread.
    pub(super) fn start(place: Place) -> Writer {
        let (jobs, received) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("herald-catalog".into())
            .spawn(move || run(&place, &received))
            .expect("a thread starts");
        Writer { jobs: Some(jobs), thread: Some(thread) }
    }

    /// Hands `job` to the thread.
    pub(super) fn send(&self, job: Job) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(job);
        }
    }

    /// Returns once everything handed so far is written.
    pub(super) fn flush(&self) {
        let (done, wait) = mpsc::channel();
        self.send(Job::Flush(done));
        let _ = wait.recv();
    }
}

impl Drop for Writer {
    /// Writes what is pending, then stops the thread.
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(place: &Place, jobs: &Receiver<Job>) {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), NICENESS) {
        tracing::debug!("the catalog writer keeps the normal priority: {e}");
    }
    let mut identity = None;
    let mut pending: BTreeMap<u16, Work> = BTreeMap::new();
    let mut flushes = Vec::new();
    let mut open = true;
    while open {
        // The first job, then whatever follows within a moment.
        let mut job = jobs.recv().ok();
        open = job.is_some();
        while let Some(next) = job.take() {
            match next {
                Job::Replace { identity: id, shards } => {
                    identity = Some(id);
                    for (shard, entries) in shards {
                        let entries = entries.into_iter().map(|e| (e.article.source.path.clone(), e)).collect();
                        pending.insert(shard, Work::Replace(entries));
                    }
                }
                Job::Patch { identity: id, changes } => {
                    identity = Some(id);
                    for (path, entry) in changes {
                        match pending.entry(shard_of(&path)).or_insert_with(|| Work::Patch(BTreeMap::new())) {
                            Work::Replace(entries) => {
                                match entry {
                                    Some(entry) => entries.insert(path, entry),
                                    None => entries.remove(&path),
                                };
                            }
                            Work::Patch(changes) => {
                                changes.insert(path, entry);
                            }
                        }
                    }
                }
                Job::Flush(done) => flushes.push(done),
            }
            job = match jobs.recv_timeout(GATHER) {
                Ok(next) => Some(next),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => {
                    open = false;
                    None
                }
            };
        }
        if let Some(identity) = &identity
            && !pending.is_empty()
        {
            write(place, identity, std::mem::take(&mut pending));
        }
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

/// Writes every shard of `pending`, then makes the renames durable.
fn write(place: &Place, identity: &Identity, pending: BTreeMap<u16, Work>) {
    let now = SystemTime::now();
    let stored = |path: &Path, entry: Entry| -> Option<StoredEntry> {
        let stamp = match entry.stamp {
            Some(stamp) => stamp,
            None => Stamp::of(&std::fs::metadata(place.store_dir.join(path)).ok()?),
        };
        // One that would not be taken is left out: read again next time.
        stamp.settled(entry.seen_at, place.margin, now).then(|| StoredEntry::new(&entry.article, stamp, entry.seen_at))
    };
    let mut failed = None;
    for (shard, work) in pending {
        let entries: Vec<StoredEntry> = match work {
            Work::Replace(entries) => entries.into_iter().filter_map(|(path, e)| stored(&path, e)).collect(),
            Work::Patch(changes) => {
                // The shard as written (nothing if unusable: its documents
                // are read again at the next start), with the changes.
                let mut entries: BTreeMap<String, StoredEntry> = std::fs::read(shard_path(&place.dir, shard))
                    .ok()
                    .and_then(|bytes| format::decode(&bytes, identity, shard).ok())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|e| (e.path.clone(), e))
                    .collect();
                for (path, entry) in changes {
                    let key = format::path_text(&path);
                    match entry.and_then(|e| stored(&path, e)) {
                        Some(entry) => entries.insert(key, entry),
                        None => entries.remove(&key),
                    };
                }
                entries.into_values().collect()
            }
        };
        let bytes = format::encode(identity, shard, entries);
        if let Err(e) = write_file(&place.dir, shard, &bytes) {
            failed = Some(e);
        }
    }
    let synced = std::fs::File::open(&place.dir).and_then(|dir| dir.sync_all());
    if let Some(e) = failed.or(synced.err()) {
        tracing::warn!(
            "cannot save the catalog in {}: {e}; the next start reads the documents it could not save",
            place.dir.display()
        );
    }
}

/// Writes shard `shard`'s file in `dir` atomically: a temporary file,
/// flushed to disk, renamed into place.
fn write_file(dir: &Path, shard: u16, bytes: &[u8]) -> io::Result<()> {
    let path = shard_path(dir, shard);
    let temp = dir.join(format!(".{shard:02x}.tmp-{}", std::process::id()));
    let written = std::fs::File::create(&temp)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
        .and_then(|()| std::fs::rename(&temp, &path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}
