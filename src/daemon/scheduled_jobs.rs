//! The cron jobs of `[schedule]`: each waits for its next time on the
//! daemon's clock (reading the schedule afresh after a reload) and sends
//! the site loop its event.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::SiteEvent;
use crate::clock::Clock;
use crate::config::Config;

/// The periodic jobs of `[schedule]`.
#[derive(Debug, Clone, Copy)]
pub(super) enum ScheduledJob {
    /// A full rescan of the store (`schedule.rebuild`).
    Rebuild,
    /// Tidying caches and push state (`schedule.housekeeping`).
    Housekeeping,
}

/// Sends `job`'s event at each of its times until `shutdown`.
pub(super) async fn run_job(
    job: ScheduledJob,
    mut config: watch::Receiver<Arc<Config>>,
    clock: Arc<dyn Clock>,
    events: mpsc::UnboundedSender<SiteEvent>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        // Read the schedule afresh: a reload may have changed it.
        let current = Arc::clone(&config.borrow_and_update());
        let schedule = match job {
            ScheduledJob::Rebuild => &current.schedule.rebuild,
            ScheduledJob::Housekeeping => &current.schedule.housekeeping,
        };
        let Some(next) = schedule.next_after(clock.now(), &current.site.time_zone) else { return };
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            changed = config.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
            () = clock.sleep_until(next) => {}
        }
        if clock.now() < next {
            continue;
        }
        let event = match job {
            ScheduledJob::Rebuild => SiteEvent::Rebuild,
            ScheduledJob::Housekeeping => SiteEvent::Housekeeping,
        };
        if events.send(event).is_err() {
            return;
        }
    }
}
