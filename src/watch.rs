//! Watching the store folder: notify's many event kinds become one small
//! message, "these store-relative paths changed" (or "rescan everything"
//! when the kernel's queue overflowed), after a short debounce so a burst
//! of saves is one update. Each message carries when its first file event
//! was seen and when the batch was delivered, for the update-latency
//! metrics.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use notify::RecursiveMode;
use notify::event::EventKind;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use tokio::sync::mpsc::UnboundedSender;

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
    /// debounce).
    pub first_event: Instant,
    /// When the watcher delivered the batch (after the debounce).
    pub delivered: Instant,
}

/// A running watcher; dropping it stops watching.
pub struct StoreWatcher {
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
}

/// Watches `store_dir` recursively, sending what changed to `events`.
pub fn watch(
    store_dir: &Path,
    debounce: Duration,
    events: UnboundedSender<StoreChange>,
) -> notify::Result<StoreWatcher> {
    let root = store_dir.canonicalize()?;
    let prefix = root.clone();
    let mut debouncer = new_debouncer(effective_debounce(debounce), None, move |result: DebounceEventResult| {
        let delivered = Instant::now();
        let mut first_event = delivered;
        let message = match result {
            Ok(batch) => {
                first_event = batch.iter().map(|e| e.time).min().unwrap_or(delivered).min(delivered);
                if batch.iter().any(|e| e.event.need_rescan()) {
                    StoreEvent::Rescan
                } else {
                    let paths: BTreeSet<PathBuf> = batch
                        .iter()
                        .filter(|e| !matches!(e.event.kind, EventKind::Access(_)))
                        .flat_map(|e| e.event.paths.iter())
                        .filter_map(|p| p.strip_prefix(&prefix).ok().map(Path::to_path_buf))
                        .filter(|p| !p.as_os_str().is_empty())
                        .collect();
                    if paths.is_empty() {
                        return;
                    }
                    StoreEvent::Paths(paths.into_iter().collect())
                }
            }
            Err(errors) => {
                for e in errors {
                    tracing::warn!("watching the store: {e}; reading it again");
                }
                StoreEvent::Rescan
            }
        };
        let _ = events.send(StoreChange { event: message, first_event, delivered });
    })?;
    debouncer.watch(&root, RecursiveMode::Recursive)?;
    Ok(StoreWatcher { _debouncer: debouncer })
}

/// The debounce the watcher really uses for a configured one.
pub fn effective_debounce(configured: Duration) -> Duration {
    configured.max(Duration::from_millis(10))
}
