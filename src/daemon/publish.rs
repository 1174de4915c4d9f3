//! Publishing a step: the new files to the HTTP server (an atomic swap),
//! the health report and metrics, and the changed files to the optional
//! output folder.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;

use crate::server::health::{ArticleCounts, StoreProblem};
use crate::server::{HealthReport, ServedFiles, ServerState};
use crate::site::{LiveSite, Update};

/// The state of the output folder that mirrors the served files.
#[derive(Debug)]
pub(super) struct Mirror {
    /// The folder written last.
    pub(super) dir: Option<PathBuf>,
    /// Whether it may disagree with the served files (a write failed).
    pub(super) dirty: bool,
}

/// Hands the site's current files, health and metrics to the server, and
/// mirrors changed files to the output folder (all of them when the folder
/// is new or a write failed before). Returns when the new files began to be
/// served, if any changed.
pub(super) fn publish(
    state: &ServerState,
    site: &LiveSite,
    update: &Update,
    mirror: &mut Mirror,
    now: Timestamp,
    everything: bool,
) -> Option<Instant> {
    let mut published = None;
    if everything || !update.changed_paths.is_empty() {
        let previous = state.files.load();
        let compressor = state.compressor.as_ref();
        let files = if everything {
            // The configuration may have changed every header: look at all.
            ServedFiles::prepare(site.snapshot(), Some(&previous), site.config(), now, compressor)
        } else {
            ServedFiles::update(&previous, site.snapshot(), &update.changed_paths, site.config(), now, compressor)
        };
        state.files.store(Arc::new(files));
        published = Some(Instant::now());
    }
    let out = site.config().server.out_dir.clone();
    if out != mirror.dir {
        mirror.dir = out.clone();
        mirror.dirty = true;
    }
    if let Some(out) = &out {
        let written = if mirror.dirty {
            site.snapshot().write_dir_atomic(out)
        } else {
            site.snapshot().write_changes(out, &update.changed_paths)
        };
        mirror.dirty = written.is_err();
        if let Err(e) = written {
            tracing::error!(
                "{}: cannot update the output folder: {e}; it is written in full at the next update",
                out.display()
            );
        }
    }
    if !site.archives_pending() && state.archives_starting.swap(false, std::sync::atomic::Ordering::Relaxed) {
        tracing::info!("the term feeds and archives are rendered: every file is served");
        site.sweep_file_cache();
    }
    publish_health(state, site, now);
    published
}

/// Reports the site's state to the server (`/healthz`, `/metrics`).
pub(super) fn publish_health(state: &ServerState, site: &LiveSite, now: Timestamp) {
    let stats = site.stats();
    let counts = site.counts();
    let problems = site.problems();
    let tz = &site.config().site.time_zone;
    let time = |t: Timestamp| crate::render::time::rfc3339(t, tz);
    state.publish_health(&HealthReport {
        now: time(now),
        last_build: stats.last_build.map(time),
        last_build_seconds: stats.last_build_seconds,
        total_build_seconds: stats.total_build_seconds,
        builds: stats.builds,
        full_builds: stats.full_builds,
        documents: site.documents(),
        documents_reused: stats.reused_documents,
        articles: ArticleCounts {
            visible: counts.visible,
            drafts: counts.drafts,
            scheduled: counts.scheduled,
            expired: counts.expired,
        },
        files: site.snapshot().len(),
        archives_complete: !site.archives_pending(),
        terms_complete: !site.terms_pending(),
        next_change: site.next_change().map(time),
        store_error_count: problems.len(),
        store_errors: problems
            .iter()
            .take(100)
            .map(|d| StoreProblem {
                path: d.path.display().to_string(),
                line: d.line,
                message: d.message.clone(),
                text: d.to_string(),
            })
            .collect(),
        // A failing push store is added by the server while it lasts.
        problems: Vec::new(),
    });
}
