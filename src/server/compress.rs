//! Background compression of served files.
//!
//! New bytes must be served at once: compressing a large site takes seconds
//! (gzip and brotli of every feed, archive and sitemap at start-up; a few
//! hundred milliseconds for the files one edit touches), so it never
//! happens on the publish path or per request. A published file is served
//! uncompressed until a [`Compressor`] worker has made its gzip and brotli
//! bodies, once, and set them on the file; from then on clients that accept
//! them get them. Each representation has its own ETag, so a client never
//! mixes them up.
//!
//! Workers take the files kept in memory (the site, language and section
//! feeds, sitemaps, the index page) before those kept on disk and archives
//! of past months, which are many and rarely read. A file replaced before
//! its turn is skipped: the queue holds only weak references.

use crate::parallel::lock;
use std::collections::VecDeque;
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};

use bytes::Bytes;

use super::files::{Compressed, ServedFile};
use crate::file_cache::{Representation, StoredFile};
use crate::snapshot::ResourceKind;

/// The `nice` value of the compression threads where the idle scheduling
/// class is refused: the lowest priority.
const WORKER_NICENESS: i32 = 19;

/// Bytes compressed after which a worker finding the queues empty gives
/// the freed memory back ([`crate::parallel::release_free_memory`]).
const RELEASE_AFTER_BYTES: u64 = 256 << 20;

/// gzip level: zlib's default, a good ratio at a small cost per feed.
const GZIP_LEVEL: u32 = 6;
/// brotli quality: smaller than gzip, fast enough for every update.
const BROTLI_QUALITY: u32 = 6;

/// A pool of worker threads compressing submitted files.
#[derive(Debug)]
pub struct Compressor {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    queues: Mutex<Queues>,
    wakeup: Condvar,
    /// Files submitted and not yet compressed or skipped (for /metrics and
    /// tests).
    pending: AtomicUsize,
    /// Files skipped because they were replaced before their turn.
    skipped: AtomicUsize,
}

#[derive(Debug, Default)]
struct Queues {
    /// Files kept in memory: what readers fetch now.
    live: VecDeque<Weak<ServedFile>>,
    /// Files kept on disk (term feeds, views) and archives of past months.
    archives: VecDeque<Weak<ServedFile>>,
    /// Set when the compressor is dropped: workers stop.
    closed: bool,
}

impl Compressor {
    /// Starts `workers` threads (at least one).
    pub fn start(workers: usize) -> Compressor {
        let shared = Arc::new(Shared::default());
        for n in 0..workers.max(1) {
            let shared = Arc::clone(&shared);
            let spawned = std::thread::Builder::new().name(format!("herald-compress-{n}")).spawn(move || work(&shared));
            if let Err(e) = spawned {
                tracing::error!("cannot start a compression thread: {e}; files are served uncompressed");
            }
        }
        Compressor { shared }
    }

    /// As many workers as leave one core to the site and the server (one on
    /// a machine with one or two cores).
    pub fn default_workers() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
    }

    /// Queues `files` for compression; files that need none are ignored.
    pub fn submit(&self, files: impl IntoIterator<Item = Arc<ServedFile>>) {
        let mut queues = lock(&self.shared.queues);
        if queues.closed {
            return;
        }
        let mut added = 0;
        for file in files {
            if !file.compressible || file.compressed.get().is_some() {
                continue;
            }
            let weak = Arc::downgrade(&file);
            if file.resource.stored.is_some() || matches!(file.resource.kind, ResourceKind::Archive { past: true }) {
                queues.archives.push_back(weak);
            } else {
                queues.live.push_back(weak);
            }
            added += 1;
        }
        self.shared.pending.fetch_add(added, Ordering::Relaxed);
        drop(queues);
        self.shared.wakeup.notify_all();
    }

    /// Files waiting to be compressed.
    pub fn pending(&self) -> usize {
        self.shared.pending.load(Ordering::Acquire)
    }

    /// Files skipped so far because they were replaced (no longer served)
    /// before their turn: no time was spent compressing them.
    pub fn skipped(&self) -> usize {
        self.shared.skipped.load(Ordering::Relaxed)
    }
}

impl Compressor {
    /// Stops the workers (after the file each is compressing); later
    /// submissions are ignored and files stay uncompressed.
    pub fn close(&self) {
        lock(&self.shared.queues).closed = true;
        self.shared.wakeup.notify_all();
    }
}

impl Drop for Compressor {
    fn drop(&mut self) {
        self.close();
    }
}

/// Puts the calling thread in the idle scheduling class (Linux
/// `SCHED_IDLE`): it runs only when a core has nothing else to do, and any
/// other thread waking up takes the core at once. Compressing a large
/// store takes minutes of CPU after start-up; an edit or a request must
/// never wait for it. Falls back to `nice` 19 if the class is refused;
/// elsewhere the thread keeps the process's priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: sched_setscheduler reads `param` only during the call;
        // pid 0 is the calling thread.
        let refused = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } != 0;
        if refused && let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), WORKER_NICENESS)
        {
            tracing::debug!("compression threads keep the normal priority: {e}");
        }
    }
}

/// A worker: takes the next file (live ones first), compresses it unless it
/// was replaced meanwhile, until the compressor is dropped.
fn work(shared: &Shared) {
    lower_priority();
    // Bytes this worker compressed since it last gave memory back: after
    // a burst (start-up, a rebuild), once the queues are empty, the memory
    // that work freed is given back; not after an edit's few files (the
    // walk of the heap is not free).
    let mut worked: u64 = 0;
    loop {
        let next = {
            let mut queues = lock(&shared.queues);
            loop {
                if queues.closed {
                    return;
                }
                if let Some(next) = queues.live.pop_front().or_else(|| queues.archives.pop_front()) {
                    break next;
                }
                if worked >= RELEASE_AFTER_BYTES {
                    worked = 0;
                    drop(queues);
                    crate::parallel::release_free_memory();
                    queues = lock(&shared.queues);
                    continue;
                }
                queues = shared.wakeup.wait(queues).unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        };
        worked += next.upgrade().map_or(0, |file| file.resource.len());
        match next.upgrade() {
            // Another worker may hold an older submission of the same file.
            Some(file) if file.compressed.get().is_none() => match &file.resource.stored {
                // Kept on disk: twins a previous run left (checked), else
                // made and written beside it.
                Some(stored) => {
                    if stored.reuse_twins() || compress_stored(stored) {
                        let _ = file.compressed.set(Compressed { gzip: Bytes::new(), brotli: Bytes::new() });
                    } else {
                        // Tried again once the site has written the bytes
                        // again (a full build stores every file anew).
                        file.compression_failed.store(true, Ordering::Relaxed);
                    }
                }
                None => {
                    let body = &file.resource.body;
                    let _ = file.compressed.set(Compressed { gzip: gzip(body), brotli: brotli(body) });
                }
            },
            Some(_) => {}
            None => {
                shared.skipped.fetch_add(1, Ordering::Relaxed);
            }
        }
        // Release: what was done for the file is seen by whoever sees the
        // count drop.
        shared.pending.fetch_sub(1, Ordering::Release);
    }
}

/// Makes and writes the twins of a file kept on disk; whether it could
/// (otherwise the file is sent uncompressed).
fn compress_stored(stored: &StoredFile) -> bool {
    let written =
        stored.read(Representation::Identity).and_then(|body| stored.write_twins(&gzip(&body), &brotli(&body)));
    if let Err(e) = &written {
        tracing::warn!("cannot write the compressed twins of {}: {e}", stored.path(Representation::Identity).display());
    }
    written.is_ok()
}

/// gzip of `body`, with no timestamp in the header (the same bytes give the
/// same output).
pub fn gzip(body: &[u8]) -> Bytes {
    let mut encoder = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::new(GZIP_LEVEL));
    let _ = encoder.write_all(body);
    Bytes::from(encoder.finish().unwrap_or_default())
}

/// brotli of `body`.
pub fn brotli(body: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(body.len() / 4);
    let params = brotli::enc::BrotliEncoderParams { quality: BROTLI_QUALITY as i32, ..Default::default() };
    let _ = brotli::BrotliCompress(&mut std::io::Cursor::new(body), &mut out, &params);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Resource;

    fn config() -> crate::config::Config {
        crate::config::Config::parse(
            "[site]\nbase_url = \"https://example.vn/\"\ndefault_language = \"vi\"\ntitle = \"T\"\n[languages.vi]\n",
            std::path::Path::new("feeds.toml"),
            &Default::default(),
        )
        .unwrap()
    }

    fn served(kind: ResourceKind, body: Vec<u8>) -> Arc<ServedFile> {
        let resource = Arc::new(Resource::new(kind, body, "application/rss+xml; charset=utf-8", None));
        let snapshot = {
            let mut snapshot = crate::snapshot::Snapshot::new();
            snapshot.insert("/f.xml".to_string(), Arc::unwrap_or_clone(resource));
            snapshot
        };
        let files = super::super::ServedFiles::prepare(&snapshot, None, &config(), jiff::Timestamp::UNIX_EPOCH, None);
        Arc::clone(files.get("/f.xml").unwrap())
    }

    /// The compression threads run in the idle scheduling class (or at
    /// the lowest `nice`), so that they only use CPU time nothing else
    /// wants.
    #[cfg(target_os = "linux")]
    #[test]
    fn workers_run_at_the_lowest_priority() {
        let compressor = Compressor::start(1);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let lowered = |(nice, policy): (i32, u32)| nice == WORKER_NICENESS || policy == libc::SCHED_IDLE as u32;
        let found = loop {
            // Fields 19 and 41 of /proc/self/task/TID/stat: the nice value
            // and the scheduling policy; the worker sets them as it starts.
            let found = std::fs::read_dir("/proc/self/task").unwrap().flatten().find_map(|task| {
                let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
                if !comm.starts_with("herald-compress") {
                    return None;
                }
                let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
                let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
                Some((fields.get(16)?.parse::<i32>().ok()?, fields.get(38)?.parse::<u32>().ok()?))
            });
            match found {
                Some(seen) if lowered(seen) => break found,
                _ if std::time::Instant::now() > deadline => break found,
                _ => std::thread::yield_now(),
            }
        };
        assert!(found.is_some_and(lowered), "nice and policy of the worker: {found:?}");
        drop(compressor);
    }

    fn wait_until_idle(compressor: &Compressor) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while compressor.pending() > 0 {
            assert!(std::time::Instant::now() < deadline, "compression did not finish");
            std::thread::yield_now();
        }
    }

    /// Submitted files get gzip and brotli bodies that decode to their
    /// bytes; files replaced before their turn are skipped; small files are
    /// not queued at all.
    #[test]
    fn compresses_what_is_still_served() {
        let compressor = Compressor::start(2);
        let body = "<rss>Tin tức mới nhất</rss>\n".repeat(200).into_bytes();
        let live = served(ResourceKind::Feed, body.clone());
        let archive = served(ResourceKind::Archive { past: true }, body.clone());
        // Nothing holds this one once submitted: it is no longer served when
        // its turn comes (the queue is locked while files are submitted).
        let replaced = served(ResourceKind::Feed, body.clone());
        let small = served(ResourceKind::Feed, b"<rss/>".to_vec());
        assert!(!small.compressible);
        compressor.submit([Arc::clone(&live), Arc::clone(&archive), replaced, Arc::clone(&small)]);
        wait_until_idle(&compressor);
        assert_eq!(compressor.skipped(), 1, "the replaced file was compressed");
        for file in [&live, &archive] {
            let bodies = file.compressed.get().expect("compressed");
            let mut unzipped = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bodies.gzip[..]), &mut unzipped).unwrap();
            assert_eq!(unzipped, body);
            let mut unbrotli = Vec::new();
            brotli::BrotliDecompress(&mut std::io::Cursor::new(&bodies.brotli[..]), &mut unbrotli).unwrap();
            assert_eq!(unbrotli, body);
            assert!(bodies.gzip.len() < body.len() / 4);
        }
        assert!(small.compressed.get().is_none());

        compressor.close();
        let late = served(ResourceKind::Feed, body);
        compressor.submit([Arc::clone(&late)]);
        assert_eq!(compressor.pending(), 0, "a closed compressor takes nothing");
        assert!(late.compressed.get().is_none());
    }

    /// A file kept on disk whose bytes were corrupt when its turn came (a
    /// restart adopted a damaged file) is compressed once the site has
    /// written its bytes again, although the served file is carried over
    /// unchanged (same bytes, same ETag).
    #[test]
    fn a_file_unreadable_at_its_turn_is_compressed_once_written_again() {
        use crate::file_cache::FileCache;
        use crate::server::files::ServedFiles;
        use crate::snapshot::Snapshot;
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::open(dir.path()).unwrap();
        let body = "<rss>Tin cũ</rss>\n".repeat(200).into_bytes();
        let resource = Resource::new(ResourceKind::Archive { past: true }, body.clone(), "application/rss+xml", None);
        let digest = crate::digest::digest(&body);
        let mut damaged = body.clone();
        damaged[10] ^= 0x20;
        std::fs::write(dir.path().join(format!("{digest:032x}")), &damaged).unwrap();
        let adopted = cache.adopt(digest, body.len() as u64).unwrap();
        let mut saved = Snapshot::new();
        saved.insert("/a.xml".into(), Resource { body: Bytes::new(), stored: Some(adopted), ..resource.clone() });
        let compressor = Compressor::start(1);
        let epoch = jiff::Timestamp::UNIX_EPOCH;
        let first = ServedFiles::prepare(&saved, None, &config(), epoch, Some(&compressor));
        wait_until_idle(&compressor);
        assert!(first.get("/a.xml").unwrap().compressed.get().is_none(), "made from damaged bytes");

        // The site renders the file again: its bytes are written anew.
        let mut built = Snapshot::new();
        built.insert("/a.xml".into(), resource);
        built.store_on_disk(&cache);
        let second = ServedFiles::prepare(&built, Some(&first), &config(), epoch, Some(&compressor));
        let file = second.get("/a.xml").unwrap();
        assert!(Arc::ptr_eq(file, first.get("/a.xml").unwrap()), "carried over");
        wait_until_idle(&compressor);
        assert!(file.compressed.get().is_some(), "compressed once readable");
        let gzip = file.body(Representation::Gzip).unwrap();
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzip[..]), &mut plain).unwrap();
        assert_eq!(plain, body);
    }
}
