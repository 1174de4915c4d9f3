//! Watching the store folder: notify's many event kinds become one small
//! message, "these store-relative paths changed" (or "rescan everything"
//! when the kernel's queue overflowed).
//!
//! Events are batched. The first event of a burst opens a batch; the batch
//! is delivered
//! - [`SETTLE`] after its last event when every file it saw being written
//!   was closed, renamed into place or deleted: the files are complete (an
//!   editor's save, which writes a temporary file and renames it over the
//!   article, is delivered about a millisecond after the rename);
//! - otherwise once no event came for the quiet period
//!   (`[server] watch_debounce_ms`, 100 ms by default): a file written in
//!   place in slow pieces is read once it is finished, not half-written
//!   (also where the platform reports no "closed after writing" event);
//! - and at the latest [`MAX_HOLD`] after its first event, so that a long
//!   copy is delivered in pieces rather than held back.
//!
//! The watching thread sleeps while nothing happens: no timer ticks in an
//! idle daemon.
//!
//! Each message carries when its first file event was seen and when the
//! batch was delivered, for the update-latency metrics.
//!
//! The store folder itself may go: deleted and made again (editors' tools,
//! `rsync --delete-after`, checkouts), or moved away and another put in its
//! place. The kernel's watch follows the old folder, so after any event on
//! the folder itself (or lost events) the watcher checks that the folder at
//! the store's path is still the one it watches; if not, it waits for one
//! to be there (looking at most [`REATTACH_POLL_MAX`] apart), watches it,
//! and asks for a full rescan ([`StoreEvent::Rescan`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, CreateKind, EventKind, ModifyKind};
use notify::{Event, RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc::UnboundedSender;

/// The longest a batch is held open by a steady stream of events.
pub const MAX_HOLD: Duration = Duration::from_secs(1);

/// How long a batch whose files are all complete waits for more events:
/// the events of one save arrive within microseconds, those of a copy of
/// many files back to back.
pub const SETTLE: Duration = Duration::from_millis(2);

/// The longest wait between two looks for a store folder that is gone.
pub const REATTACH_POLL_MAX: Duration = Duration::from_millis(500);

/// What the watcher reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEvent {
    /// These store-relative paths (files or folders) were created, changed,
    /// renamed or deleted.
    Paths(Vec<PathBuf>),
    /// Events were lost: read the whole store again.
    Rescan,
}

/// One delivery of the watcher: what changed, and when.
#[derive(Debug, Clone)]
pub struct StoreChange {
    /// What changed.
    pub event: StoreEvent,
    /// When the watcher saw the batch's first file event (before the
    /// quiet period).
    pub first_event: Instant,
    /// When the watcher delivered the batch (after the quiet period).
    pub delivered: Instant,
}

/// A running watcher; dropping it stops watching (and its thread ends).
pub struct StoreWatcher {
    stop: Sender<Raw>,
}

impl Drop for StoreWatcher {
    fn drop(&mut self) {
        let _ = self.stop.send(Raw::Stop);
    }
}

/// What reaches the watching thread: a file event (and when it was seen),
/// or the order to stop.
enum Raw {
    Event(notify::Result<Event>, Instant),
    Stop,
}

/// Watches `store_dir` recursively, sending what changed to `events` in
/// batches (see the module's documentation; `quiet` is the quiet period
/// for files still being written).
pub fn watch(store_dir: &Path, quiet: Duration, events: UnboundedSender<StoreChange>) -> notify::Result<StoreWatcher> {
    let (raw_tx, raw_rx) = channel::<Raw>();
    let mut watching = Watching {
        store_dir: store_dir.to_path_buf(),
        root: PathBuf::new(),
        identity: None,
        watcher: None,
        raw: raw_tx.clone(),
    };
    watching.attach()?;
    std::thread::Builder::new()
        .name("herald-watch".to_string())
        .spawn(move || batch_events(&raw_rx, &mut watching, effective_debounce(quiet), &events))?;
    Ok(StoreWatcher { stop: raw_tx })
}

/// What the watching thread watches.
struct Watching {
    /// The store's path as configured.
    store_dir: PathBuf,
    /// Its real path when watching began (events name paths under it).
    root: PathBuf,
    /// The folder watched (device and inode).
    identity: Option<(u64, u64)>,
    watcher: Option<RecommendedWatcher>,
    /// Where the watcher sends its events.
    raw: Sender<Raw>,
}

impl Watching {
    /// Starts watching the folder now at the store's path.
    fn attach(&mut self) -> notify::Result<()> {
        self.watcher = None;
        let root = self.store_dir.canonicalize()?;
        let raw = self.raw.clone();
        let mut watcher = notify::recommended_watcher(move |event| {
            // The receiving thread is gone only when the watcher is dropped.
            let _ = raw.send(Raw::Event(event, Instant::now()));
        })?;
        watcher.watch(&root, RecursiveMode::Recursive)?;
        self.identity = folder_identity(&root);
        self.root = root;
        self.watcher = Some(watcher);
        Ok(())
    }

    /// Whether the folder at the store's path is no longer the one watched.
    fn replaced(&self) -> bool {
        folder_identity(&self.store_dir) != self.identity || self.identity.is_none()
    }

    /// Waits for a folder at the store's path and watches it; false when
    /// told to stop meanwhile.
    fn reattach(&mut self, raw: &Receiver<Raw>) -> bool {
        self.watcher = None;
        tracing::warn!(
            "{}: the store folder was deleted or replaced; watching for it to come back",
            self.store_dir.display()
        );
        let mut wait = Duration::from_millis(5);
        loop {
            if self.store_dir.is_dir() {
                match self.attach() {
                    Ok(()) => {
                        tracing::info!("{}: the store folder is back; reading it again", self.store_dir.display());
                        return true;
                    }
                    Err(e) => tracing::debug!("{}: not watched yet: {e}", self.store_dir.display()),
                }
            }
            // Events of the folder that went are of no use now.
            match raw.recv_timeout(wait) {
                Ok(Raw::Stop) | Err(RecvTimeoutError::Disconnected) => return false,
                Ok(Raw::Event(..)) | Err(RecvTimeoutError::Timeout) => {}
            }
            wait = (wait * 2).min(REATTACH_POLL_MAX);
        }
    }
}

/// Device and inode of the folder at `path`, if there is one.
fn folder_identity(path: &Path) -> Option<(u64, u64)> {
    let metadata = std::fs::metadata(path).ok().filter(std::fs::Metadata::is_dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        Some((metadata.dev(), metadata.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
        Some((0, 0))
    }
}

/// The quiet period the watcher really uses for a configured one (the
/// configuration allows 0: deliver each event with whatever came with it).
pub fn effective_debounce(configured: Duration) -> Duration {
    configured
}

/// The watcher thread: turns raw events into batches until the watcher
/// is dropped or the daemon stops listening; finds the store folder again
/// when it was replaced.
fn batch_events(raw: &Receiver<Raw>, watching: &mut Watching, quiet: Duration, events: &UnboundedSender<StoreChange>) {
    // Wait, without a timer, for the first event of the next batch.
    while let Ok(Raw::Event(event, at)) = raw.recv() {
        if !matters(&event) {
            continue;
        }
        let mut batch = Batch::new(at);
        batch.add(event, &watching.root);
        // When the last event that matters came.
        let mut last = at;
        let mut stop = false;
        loop {
            let wait = if batch.writing.is_empty() { SETTLE } else { quiet };
            let deadline = (last + wait).min(batch.first_event + MAX_HOLD);
            let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) else { break };
            match raw.recv_timeout(left) {
                Ok(Raw::Event(event, at)) if matters(&event) => {
                    batch.add(event, &watching.root);
                    last = at;
                }
                Ok(Raw::Event(..)) => {}
                Err(RecvTimeoutError::Timeout) => break,
                Ok(Raw::Stop) | Err(RecvTimeoutError::Disconnected) => {
                    stop = true;
                    break;
                }
            }
        }
        let check_folder = batch.root_touched || batch.rescan;
        let gone = batch.root_gone;
        if !batch.deliver(events) || stop {
            return;
        }
        if gone || (check_folder && watching.replaced()) {
            if !watching.reattach(raw) {
                return;
            }
            let now = Instant::now();
            if events.send(StoreChange { event: StoreEvent::Rescan, first_event: now, delivered: now }).is_err() {
                return;
            }
        }
    }
}

/// Whether an event can change the store or end a write: not the opening
/// and reading of files (herald's own reads of articles among them), which
/// must neither open a batch nor keep one open.
fn matters(event: &notify::Result<Event>) -> bool {
    match event {
        Ok(event) => match event.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
            EventKind::Access(_) => event.need_rescan(),
            _ => true,
        },
        Err(_) => true,
    }
}

/// The events of one batch, gathered.
struct Batch {
    paths: BTreeSet<PathBuf>,
    /// Whether an event was about the store folder itself.
    root_touched: bool,
    /// Whether the store folder itself was deleted or moved away (the
    /// kernel's watch went with it, even if a new folder got its inode).
    root_gone: bool,
    /// Files created or written and not yet closed, renamed or deleted:
    /// while there are any, the batch waits for the quiet period.
    writing: BTreeSet<PathBuf>,
    rescan: bool,
    first_event: Instant,
}

impl Batch {
    fn new(first_event: Instant) -> Batch {
        Batch {
            paths: BTreeSet::new(),
            root_touched: false,
            root_gone: false,
            writing: BTreeSet::new(),
            rescan: false,
            first_event,
        }
    }

    fn add(&mut self, event: notify::Result<Event>, root: &Path) {
        let event = match event {
            Ok(event) if event.need_rescan() => {
                self.rescan = true;
                return;
            }
            Ok(event) => event,
            Err(e) => {
                tracing::warn!("watching the store: {e}; reading it again");
                self.rescan = true;
                return;
            }
        };
        match event.kind {
            // Being written: complete once closed, renamed or deleted.
            EventKind::Create(CreateKind::File) | EventKind::Modify(ModifyKind::Data(_)) => {
                self.writing.extend(event.paths.iter().cloned());
            }
            EventKind::Access(AccessKind::Close(AccessMode::Write))
            | EventKind::Modify(ModifyKind::Name(_))
            | EventKind::Remove(_) => {
                for path in &event.paths {
                    self.writing.remove(path);
                }
            }
            _ => {}
        }
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        if event.paths.iter().any(|p| p == root) {
            self.root_touched = true;
            self.root_gone |= matches!(event.kind, EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_)));
        }
        self.paths.extend(
            event
                .paths
                .iter()
                .filter_map(|p| p.strip_prefix(root).ok().map(Path::to_path_buf))
                .filter(|p| !p.as_os_str().is_empty()),
        );
    }

    /// Sends the batch (if it holds anything); false when nobody listens.
    fn deliver(self, events: &UnboundedSender<StoreChange>) -> bool {
        let event = if self.rescan {
            StoreEvent::Rescan
        } else if self.paths.is_empty() {
            return !events.is_closed();
        } else {
            StoreEvent::Paths(self.paths.into_iter().collect())
        };
        let what = match &event {
            StoreEvent::Paths(paths) => format!("{} path(s), the first {:?}", paths.len(), paths[0]),
            StoreEvent::Rescan => "a rescan".to_string(),
        };
        tracing::debug!(
            "store change: {what}, delivered {:.1} ms after its first event",
            self.first_event.elapsed().as_secs_f64() * 1000.0
        );
        events.send(StoreChange { event, first_event: self.first_event, delivered: Instant::now() }).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(rx: &mut tokio::sync::mpsc::UnboundedReceiver<StoreChange>, within: Duration) -> Option<StoreChange> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(change) = rx.try_recv() {
                return Some(change);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn temp_store(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("herald-watch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("thoi-su")).unwrap();
        dir
    }

    /// An editor's save (a hidden file written, then renamed over the
    /// article) is delivered as soon as the file is complete (long before
    /// the quiet period), naming the article, and timed from its first
    /// event. Usually it is one batch; a save whose steps are further apart
    /// than the settling time (a busy machine) may be two, and that is
    /// fine: each names only the files the save touched.
    #[test]
    fn a_complete_save_is_delivered_at_once() {
        let dir = temp_store("save");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let quiet = Duration::from_secs(30);
        let watcher = watch(&dir, quiet, tx).unwrap();
        let hidden = dir.join("thoi-su/.bai.vi.md.tmp");
        std::fs::write(&hidden, "+++\ntitle = \"Bài\"\n+++\n").unwrap();
        std::fs::rename(&hidden, dir.join("thoi-su/bai.vi.md")).unwrap();
        let article = PathBuf::from("thoi-su/bai.vi.md");
        let touched = [PathBuf::from("thoi-su/.bai.vi.md.tmp"), article.clone()];
        let mut batches = Vec::new();
        let change = loop {
            // Well within the quiet period: only a complete file ends a
            // batch this early.
            let change = poll(&mut rx, Duration::from_secs(10)).expect("a batch before the quiet period");
            let StoreEvent::Paths(paths) = &change.event else { panic!("{:?}", change.event) };
            assert!(paths.iter().all(|p| touched.contains(p)), "{paths:?}");
            batches.push(paths.clone());
            if paths.contains(&article) {
                break change;
            }
            assert!(batches.len() < 3, "the save came in pieces: {batches:?}");
        };
        assert!(change.delivered >= change.first_event);
        drop(watcher);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A file written in place and not yet closed is delivered only after
    /// the quiet period (it may be half-written), and again once closed.
    #[test]
    fn a_file_still_being_written_waits_for_the_quiet_period() {
        use std::io::Write as _;
        let dir = temp_store("open");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let quiet = Duration::from_millis(300);
        let watcher = watch(&dir, quiet, tx).unwrap();
        let mut file = std::fs::File::create(dir.join("thoi-su/bai.vi.md")).unwrap();
        file.write_all(b"+++\ntitle = ").unwrap();
        let change = poll(&mut rx, Duration::from_secs(10)).expect("a batch after the quiet period");
        assert!(change.delivered - change.first_event >= quiet, "{:?}", change.delivered - change.first_event);
        file.write_all(b"\"B\\u00e0i\"\n+++\n").unwrap();
        drop(file);
        let change = poll(&mut rx, Duration::from_secs(10)).expect("a batch once the file is closed");
        assert_eq!(change.event, StoreEvent::Paths(vec![PathBuf::from("thoi-su/bai.vi.md")]));
        drop(watcher);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A steady stream of events is delivered in pieces: a batch is held
    /// at most `MAX_HOLD` after its first event.
    #[test]
    fn a_steady_stream_is_not_held_back() {
        use std::io::Write as _;
        let dir = temp_store("stream");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        // A quiet period longer than the stream lasts, and a file that is
        // never closed: only the hold limit can end the batch.
        let watcher = watch(&dir, Duration::from_secs(30), tx).unwrap();
        let mut file = std::fs::File::create(dir.join("thoi-su/log.md")).unwrap();
        let started = Instant::now();
        let mut first = None;
        while first.is_none() && started.elapsed() < Duration::from_secs(20) {
            file.write_all(b"x").unwrap();
            first = poll(&mut rx, Duration::from_millis(20));
        }
        let change = first.expect("a batch while events kept coming");
        assert!(change.delivered - change.first_event >= MAX_HOLD);
        assert!(change.delivered - change.first_event < Duration::from_secs(30));
        drop(file);
        drop(watcher);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The store folder deleted and made again: a rescan once it is back,
    /// then the new folder's changes.
    #[test]
    fn a_store_folder_made_again_is_watched_again() {
        let dir = temp_store("again");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let watcher = watch(&dir, Duration::from_millis(50), tx).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::create_dir_all(dir.join("thoi-su")).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while poll(&mut rx, Duration::from_secs(10)).expect("a rescan").event != StoreEvent::Rescan {
            assert!(Instant::now() < deadline, "no rescan");
        }
        std::fs::write(dir.join("thoi-su/bai.vi.md"), "+++\ntitle = \"B\"\n+++\n").unwrap();
        // The folder's own creation may come after the rescan (the new
        // folder was watched while `thoi-su` was being made), alone or with
        // the file; nothing else may.
        let article = PathBuf::from("thoi-su/bai.vi.md");
        loop {
            let change = poll(&mut rx, Duration::from_secs(10)).expect("the new folder's change");
            let StoreEvent::Paths(paths) = change.event else { panic!("a second rescan") };
            assert!(paths.iter().all(|p| *p == article || *p == Path::new("thoi-su")), "{paths:?}");
            if paths.contains(&article) {
                break;
            }
        }
        drop(watcher);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
