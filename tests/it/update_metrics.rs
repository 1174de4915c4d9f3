//! The daemon measures its own update latency: after an edit in the store
//! is served, /metrics counts it in `herald_update_event_to_publish_seconds`
//! (from the watcher's debounced batch) and
//! `herald_update_file_event_to_publish_seconds` (from the first file event,
//! so never less), and names the watcher's debounce. The benchmark suite
//! (benches/run) reads these. No assertion depends on how fast anything is.

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use herald::clock::ManualClock;
use herald::daemon::{ConfigSource, Daemon};

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_is_counted_with_its_latency() {
    let mut store = TempStore::new();
    store.extra_config = "[server]\nwatch_debounce_ms = 50\n".into();
    store.article("thoi-su/mot.vi.md", "Một", "2026-11-20T08:00:00+07:00");
    let source = ConfigSource { path: store.config_path(), overrides: Default::default() };
    let config = source.load().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let clock = Arc::new(ManualClock::new(now()));
    let daemon = Daemon::start(config, source, listener, clock).await.unwrap();
    let base = format!("http://{}", daemon.addr);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let text = |path: &'static str| {
        let request = client.get(format!("{base}{path}"));
        async move { request.send().await.unwrap().text().await.unwrap() }
    };

    let before = text("/metrics").await;
    assert_eq!(metric(&before, "herald_update_debounce_seconds"), Some(0.05), "{before}");
    assert_eq!(metric(&before, "herald_update_event_to_publish_seconds_count"), Some(0.0), "{before}");
    assert!(before.contains("# TYPE herald_update_event_to_publish_seconds histogram"), "{before}");

    store.article("thoi-su/mot.vi.md", "Một, sửa lại", "2026-11-20T08:00:00+07:00");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !text("/vi/rss.xml").await.contains("Một, sửa lại") {
        assert!(tokio::time::Instant::now() < deadline, "the edit was not served within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The latencies are recorded just after the files are swapped in (they
    // end at the swap), one histogram after the other: poll until both
    // count the edit.
    let counted = |text: &str| {
        let count = metric(text, "herald_update_event_to_publish_seconds_count").unwrap();
        count >= 1.0
            && metric(text, "herald_update_file_event_to_publish_seconds_count") == Some(count)
            && metric(text, "herald_update_event_to_publish_seconds_bucket{le=\"+Inf\"}") == Some(count)
    };
    let mut after = text("/metrics").await;
    while !counted(&after) {
        assert!(tokio::time::Instant::now() < deadline, "the edit was never counted in both histograms: {after}");
        tokio::time::sleep(Duration::from_millis(20)).await;
        after = text("/metrics").await;
    }
    let from_batch = metric(&after, "herald_last_update_event_to_publish_seconds").unwrap();
    let from_event = metric(&after, "herald_last_update_file_event_to_publish_seconds").unwrap();
    assert!(from_event >= from_batch, "{after}");
    assert!(metric(&after, "herald_max_update_event_to_publish_seconds").unwrap() >= from_batch, "{after}");
    daemon.shutdown().await;
}
