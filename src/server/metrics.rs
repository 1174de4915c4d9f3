//! Counters for `/metrics`, in the Prometheus text format.
//!
//! Plain atomics rather than a metrics crate: the request path must take no
//! lock and allocate nothing, the label sets are small and fixed (route ×
//! status), and the text format for counters and gauges is a few lines.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use super::files::Route;
use crate::catalog::StateCounts;
use crate::site::BuildStats;

/// Status codes counted one by one; others count as `other`.
const STATUSES: [u16; 9] = [200, 202, 304, 400, 404, 405, 413, 429, 503];

/// Every counter and gauge the daemon exports.
#[derive(Debug)]
pub struct Metrics {
    requests: [[AtomicU64; STATUSES.len() + 1]; Route::ALL.len()],
    bytes_served: AtomicU64,
    builds: AtomicU64,
    full_builds: AtomicU64,
    build_seconds_total_micros: AtomicU64,
    last_build_seconds_micros: AtomicU64,
    articles: [AtomicU64; 4],
    documents: AtomicU64,
    store_errors: AtomicU64,
    files: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            bytes_served: AtomicU64::new(0),
            builds: AtomicU64::new(0),
            full_builds: AtomicU64::new(0),
            build_seconds_total_micros: AtomicU64::new(0),
            last_build_seconds_micros: AtomicU64::new(0),
            articles: std::array::from_fn(|_| AtomicU64::new(0)),
            documents: AtomicU64::new(0),
            store_errors: AtomicU64::new(0),
            files: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Counts one answered request and the body bytes sent.
    pub fn request(&self, route: Route, status: u16, bytes: usize) {
        let r = Route::ALL.iter().position(|x| *x == route).unwrap_or(0);
        let s = STATUSES.iter().position(|x| *x == status).unwrap_or(STATUSES.len());
        self.requests[r][s].fetch_add(1, Ordering::Relaxed);
        self.bytes_served.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Records the state after a site update.
    pub fn site(&self, stats: BuildStats, counts: StateCounts, documents: usize, store_errors: usize, files: usize) {
        self.builds.store(stats.builds, Ordering::Relaxed);
        self.full_builds.store(stats.full_builds, Ordering::Relaxed);
        self.build_seconds_total_micros.store((stats.total_build_seconds * 1e6) as u64, Ordering::Relaxed);
        self.last_build_seconds_micros.store((stats.last_build_seconds * 1e6) as u64, Ordering::Relaxed);
        for (slot, value) in self.articles.iter().zip([counts.visible, counts.drafts, counts.scheduled, counts.expired])
        {
            slot.store(value as u64, Ordering::Relaxed);
        }
        self.documents.store(documents as u64, Ordering::Relaxed);
        self.store_errors.store(store_errors as u64, Ordering::Relaxed);
        self.files.store(files as u64, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every metric, with push delivery
    /// outcomes when push runs.
    pub fn render(&self, deliveries: Option<&crate::push::delivery::DeliveryCounters>) -> String {
        let mut out = String::with_capacity(4096);
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        out.push_str("# HELP herald_http_requests_total HTTP requests answered, by route and status.\n");
        out.push_str("# TYPE herald_http_requests_total counter\n");
        for (r, route) in Route::ALL.iter().enumerate() {
            for s in 0..=STATUSES.len() {
                let status = STATUSES.get(s).map_or("other".to_string(), u16::to_string);
                let _ = writeln!(
                    out,
                    "herald_http_requests_total{{route=\"{}\",status=\"{status}\"}} {}",
                    route.label(),
                    get(&self.requests[r][s])
                );
            }
        }
        let mut single = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        };
        single("herald_http_response_bytes_total", "counter", "Body bytes sent.", get(&self.bytes_served).to_string());
        single("herald_builds_total", "counter", "Site updates (full and incremental).", get(&self.builds).to_string());
        single("herald_full_builds_total", "counter", "Full rebuilds.", get(&self.full_builds).to_string());
        single(
            "herald_build_seconds_total",
            "counter",
            "Seconds spent updating the site.",
            format!("{:.6}", get(&self.build_seconds_total_micros) as f64 / 1e6),
        );
        single(
            "herald_last_build_seconds",
            "gauge",
            "Duration of the last site update.",
            format!("{:.6}", get(&self.last_build_seconds_micros) as f64 / 1e6),
        );
        single("herald_documents", "gauge", "Article documents in the store.", get(&self.documents).to_string());
        single(
            "herald_store_errors",
            "gauge",
            "Documents that cannot be read now.",
            get(&self.store_errors).to_string(),
        );
        single("herald_files", "gauge", "Files served.", get(&self.files).to_string());
        out.push_str("# HELP herald_articles Articles by state.\n# TYPE herald_articles gauge\n");
        for (state, value) in ["visible", "draft", "scheduled", "expired"].iter().zip(&self.articles) {
            let _ = writeln!(out, "herald_articles{{state=\"{state}\"}} {}", get(value));
        }
        if let Some(d) = deliveries {
            out.push_str("# HELP herald_push_requests_total Outgoing push requests (WebSub deliveries, verifications, pings) by outcome.\n");
            out.push_str("# TYPE herald_push_requests_total counter\n");
            for (outcome, value) in [("ok", &d.ok), ("retried", &d.retried), ("failed", &d.failed), ("gone", &d.gone)] {
                let _ = writeln!(out, "herald_push_requests_total{{outcome=\"{outcome}\"}} {}", get(value));
            }
        }
        out
    }
}
