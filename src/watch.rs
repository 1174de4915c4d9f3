//! Watching the store folder: notify's many event kinds become one small
//! message, "these store-relative paths changed" (or "rescan everything"
//! when the kernel's queue overflowed), after a short debounce so a burst
//! of saves is one update.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

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

/// A running watcher; dropping it stops watching.
pub struct StoreWatcher {
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
}

/// Watches `store_dir` recursively, sending what changed to `events`.
pub fn watch(
    store_dir: &Path,
    debounce: Duration,
    events: UnboundedSender<StoreEvent>,
) -> notify::Result<StoreWatcher> {
    let root = store_dir.canonicalize()?;
    let prefix = root.clone();
    let mut debouncer =
        new_debouncer(debounce.max(Duration::from_millis(10)), None, move |result: DebounceEventResult| {
            let message = match result {
                Ok(batch) => {
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
            let _ = events.send(message);
        })?;
    debouncer.watch(&root, RecursiveMode::Recursive)?;
    Ok(StoreWatcher { _debouncer: debouncer })
}
