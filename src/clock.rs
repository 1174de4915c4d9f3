//! Where "now" comes from. The daemon reads time only through a [`Clock`],
//! so tests can move time forward (a scheduled article's date arriving)
//! without waiting for it.

use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::watch;

/// A source of the current instant that can also wait for an instant.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Timestamp;

    /// Resolves at or soon after `at` (or at once if it has passed). May
    /// resolve early; callers check [`Clock::now`] again.
    fn sleep_until(&self, at: Timestamp) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

/// Longest single sleep: wall-clock jumps (NTP, suspend) are noticed at
/// least this often.
const MAX_SLEEP: Duration = Duration::from_secs(3600);

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    fn sleep_until(&self, at: Timestamp) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let wait = at.duration_since(Timestamp::now());
        let wait = Duration::try_from(wait).unwrap_or(Duration::ZERO).min(MAX_SLEEP);
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that stands still until told to move: for tests.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
    changed: watch::Sender<Timestamp>,
}

impl ManualClock {
    /// A clock showing `now`.
    pub fn new(now: Timestamp) -> ManualClock {
        ManualClock { now: Mutex::new(now), changed: watch::Sender::new(now) }
    }

    /// Moves the clock to `now`, waking anything sleeping until then.
    pub fn set(&self, now: Timestamp) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = now;
        self.changed.send_replace(now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sleep_until(&self, at: Timestamp) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let mut changes = self.changed.subscribe();
        Box::pin(async move {
            // Resolves once the clock reaches `at`; never, if it does not.
            let _ = changes.wait_for(|now| *now >= at).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_clock_wakes_sleepers_when_set() {
        let t0: Timestamp = "2026-11-26T00:00:00Z".parse().unwrap();
        let clock = std::sync::Arc::new(ManualClock::new(t0));
        let sleeper = {
            let clock = std::sync::Arc::clone(&clock);
            tokio::spawn(async move { clock.sleep_until(t0 + jiff::SignedDuration::from_secs(60)).await })
        };
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.set(t0 + jiff::SignedDuration::from_secs(61));
        tokio::time::timeout(Duration::from_secs(5), sleeper).await.unwrap().unwrap();
        assert_eq!(clock.now(), t0 + jiff::SignedDuration::from_secs(61));
    }
}
