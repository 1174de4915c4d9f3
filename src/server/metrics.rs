//! Counters for `/metrics`, in the Prometheus text format.
//!
//! Plain atomics rather than a metrics crate: the request path must take no
//! lock and allocate nothing, the label sets are small and fixed (route ×
//! status), and the text format for counters and gauges is a few lines.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::files::{FileBytes, Route};
use super::health::HealthReport;
use crate::push::delivery::DeliveryCounters;

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
    /// From the watcher delivering a (debounced) batch of store changes to
    /// the new files being served.
    event_to_publish: Histogram,
    /// From the first file event of that batch (as the watcher saw it,
    /// before the debounce) to the new files being served.
    file_event_to_publish: Histogram,
    /// The watcher's debounce, in microseconds.
    debounce_micros: AtomicU64,
}

/// Upper bounds (seconds) of the update-latency histogram buckets.
const LATENCY_BUCKETS: [f64; 14] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0];

/// A Prometheus histogram of durations, with the last and largest value
/// observed (atomics only: one writer, the site task; any number of readers).
#[derive(Debug, Default)]
struct Histogram {
    /// Non-cumulative counts per bucket; the last slot is `+Inf`.
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    count: AtomicU64,
    sum_micros: AtomicU64,
    last_micros: AtomicU64,
    max_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, value: Duration) {
        let seconds = value.as_secs_f64();
        let micros = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
        let slot = LATENCY_BUCKETS.iter().position(|bound| seconds <= *bound).unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[slot].fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.last_micros.store(micros, Ordering::Relaxed);
        self.max_micros.fetch_max(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Writes `herald_<name>_seconds` (histogram), `herald_last_<name>_seconds`
    /// and `herald_max_<name>_seconds` (gauges).
    fn render(&self, out: &mut String, name: &str, help: &str) {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let seconds = |micros: u64| format!("{:.6}", micros as f64 / 1e6);
        let _ = writeln!(out, "# HELP herald_{name}_seconds {help}\n# TYPE herald_{name}_seconds histogram");
        let mut cumulative = 0;
        for (slot, bound) in
            self.buckets.iter().zip(LATENCY_BUCKETS.iter().map(|b| b.to_string()).chain(["+Inf".into()]))
        {
            cumulative += get(slot);
            let _ = writeln!(out, "herald_{name}_seconds_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "herald_{name}_seconds_sum {}", seconds(get(&self.sum_micros)));
        let _ = writeln!(out, "herald_{name}_seconds_count {}", get(&self.count));
        let _ = writeln!(
            out,
            "# HELP herald_last_{name}_seconds The last value of herald_{name}_seconds.\n# TYPE herald_last_{name}_seconds gauge\nherald_last_{name}_seconds {}",
            seconds(get(&self.last_micros))
        );
        let _ = writeln!(
            out,
            "# HELP herald_max_{name}_seconds The largest value of herald_{name}_seconds.\n# TYPE herald_max_{name}_seconds gauge\nherald_max_{name}_seconds {}",
            seconds(get(&self.max_micros))
        );
    }
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
            event_to_publish: Histogram::default(),
            file_event_to_publish: Histogram::default(),
            debounce_micros: AtomicU64::new(0),
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
    pub fn site(&self, report: &HealthReport) {
        self.builds.store(report.builds, Ordering::Relaxed);
        self.full_builds.store(report.full_builds, Ordering::Relaxed);
        self.build_seconds_total_micros.store((report.total_build_seconds * 1e6) as u64, Ordering::Relaxed);
        self.last_build_seconds_micros.store((report.last_build_seconds * 1e6) as u64, Ordering::Relaxed);
        let counts = &report.articles;
        for (slot, value) in self.articles.iter().zip([counts.visible, counts.drafts, counts.scheduled, counts.expired])
        {
            slot.store(value as u64, Ordering::Relaxed);
        }
        self.documents.store(report.documents as u64, Ordering::Relaxed);
        self.store_errors.store(report.store_error_count as u64, Ordering::Relaxed);
        self.files.store(report.files as u64, Ordering::Relaxed);
    }

    /// Records one store change made visible: `from_batch` is the time
    /// from the watcher delivering the debounced batch to the new files
    /// being served, `from_file_event` from the batch's first file event
    /// (it includes the debounce).
    pub fn update_published(&self, from_batch: Duration, from_file_event: Duration) {
        self.event_to_publish.observe(from_batch);
        self.file_event_to_publish.observe(from_file_event);
    }

    /// Records the watcher's debounce (how long it waits for a burst of
    /// file events to end before delivering them).
    pub fn set_debounce(&self, debounce: Duration) {
        self.debounce_micros.store(u64::try_from(debounce.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every metric, with push delivery
    /// outcomes when push runs and the files waiting for compression.
    pub fn render(
        &self,
        deliveries: Option<&DeliveryCounters>,
        compression_pending: usize,
        file_bytes: FileBytes,
    ) -> String {
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
            "herald_compression_pending",
            "gauge",
            "Served files waiting for their gzip and brotli bodies (sent uncompressed meanwhile).",
            compression_pending.to_string(),
        );
        single(
            "herald_store_errors",
            "gauge",
            "Documents that cannot be read now.",
            get(&self.store_errors).to_string(),
        );
        single("herald_files", "gauge", "Files served.", get(&self.files).to_string());
        single(
            "herald_files_memory_bytes",
            "gauge",
            "Bytes of the served files held in memory (bodies and their gzip and brotli twins).",
            file_bytes.memory.to_string(),
        );
        single(
            "herald_files_disk_bytes",
            "gauge",
            "Bytes of the served files kept on disk in the state folder's file cache (bodies and twins).",
            file_bytes.disk.to_string(),
        );
        single("herald_files_on_disk", "gauge", "Served files kept on disk.", file_bytes.disk_files.to_string());
        single(
            "herald_update_debounce_seconds",
            "gauge",
            "How long the store watcher waits for a burst of file events to end.",
            format!("{:.6}", get(&self.debounce_micros) as f64 / 1e6),
        );
        out.push_str("# HELP herald_articles Articles by state.\n# TYPE herald_articles gauge\n");
        for (state, value) in ["visible", "draft", "scheduled", "expired"].iter().zip(&self.articles) {
            let _ = writeln!(out, "herald_articles{{state=\"{state}\"}} {}", get(value));
        }
        self.event_to_publish.render(
            &mut out,
            "update_event_to_publish",
            "From the store watcher delivering a debounced batch of changes to the new files being served.",
        );
        self.file_event_to_publish.render(
            &mut out,
            "update_file_event_to_publish",
            "From the first file event of a batch of store changes (before the debounce) to the new files being served.",
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_latency_is_a_histogram_with_last_and_max() {
        let metrics = Metrics::default();
        metrics.set_debounce(Duration::from_millis(100));
        metrics.update_published(Duration::from_micros(1_500), Duration::from_micros(101_500));
        metrics.update_published(Duration::from_micros(30_000), Duration::from_micros(130_000));
        metrics.update_published(Duration::from_micros(700), Duration::from_micros(100_700));
        let text = metrics.render(None, 0, FileBytes { memory: 7, disk: 9, disk_files: 1 });
        for line in [
            "herald_update_debounce_seconds 0.100000",
            "# TYPE herald_update_event_to_publish_seconds histogram",
            "herald_update_event_to_publish_seconds_bucket{le=\"0.001\"} 1",
            "herald_update_event_to_publish_seconds_bucket{le=\"0.002\"} 2",
            "herald_update_event_to_publish_seconds_bucket{le=\"0.02\"} 2",
            "herald_update_event_to_publish_seconds_bucket{le=\"0.05\"} 3",
            "herald_update_event_to_publish_seconds_bucket{le=\"+Inf\"} 3",
            "herald_update_event_to_publish_seconds_sum 0.032200",
            "herald_update_event_to_publish_seconds_count 3",
            "herald_last_update_event_to_publish_seconds 0.000700",
            "herald_max_update_event_to_publish_seconds 0.030000",
            "herald_update_file_event_to_publish_seconds_bucket{le=\"0.1\"} 0",
            "herald_update_file_event_to_publish_seconds_bucket{le=\"0.2\"} 3",
            "herald_last_update_file_event_to_publish_seconds 0.100700",
            "herald_files_memory_bytes 7",
            "herald_files_disk_bytes 9",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
    }
}
