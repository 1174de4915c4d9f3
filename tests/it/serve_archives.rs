//! `herald serve` publishes an edit's live feeds and sitemap first and its
//! archive documents (RFC 5005 months, archive indexes) right after: both
//! end up served, and the output folder mirrors both.

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use herald::clock::ManualClock;
use herald::daemon::{ConfigSource, Daemon};

/// Longest wait for the daemon to reflect a change.
/// Generous, since the machine may be loaded: a poll ends as soon as the
/// state is reached.
const PATIENCE: Duration = Duration::from_secs(60);

/// Polls `url` until its body satisfies `done`, for at most PATIENCE.
async fn wait_for(client: &reqwest::Client, url: &str, done: impl Fn(&str) -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let body = client.get(url).send().await.unwrap().text().await.unwrap();
        if done(&body) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{url} did not change within {PATIENCE:?}:\n{body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A store of three articles in two months, with one item per live feed
/// (every article is also in an archive month), and `extra` configuration.
fn three_articles(extra: &str) -> TempStore {
    let mut store = TempStore::new();
    store.extra_config = format!("[feeds]\nitem_limit = 1\n{extra}");
    store.article("thoi-su/mot.vi.md", "Một", "2026-11-20T08:00:00+07:00");
    store.article("thoi-su/hai.vi.md", "Hai", "2026-11-10T08:00:00+07:00");
    store.article("thoi-su/ba.vi.md", "Ba", "2026-10-10T08:00:00+07:00");
    store
}

#[tokio::test]
async fn an_edit_reaches_the_live_feed_then_its_archive() {
    let store = three_articles("");
    let out = store.dir.path().join("public");
    let source = ConfigSource {
        path: store.config_path(),
        overrides: herald::config::Overrides { out_dir: Some(out.clone()), ..Default::default() },
    };
    let config = source.load().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let clock = Arc::new(ManualClock::new(now()));
    let daemon = Daemon::start(config, source, listener, clock).await.unwrap();
    let base = format!("http://{}", daemon.addr);
    let client = http_client();

    // The October archives as served before the edit: bytes and ETag.
    let october = ["/vi/archive/2026-10.rss.xml", "/vi/thoi-su/archive/2026-10.atom.xml"];
    let mut before = Vec::new();
    for path in october {
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let etag = response.headers()["etag"].clone();
        before.push((etag, response.bytes().await.unwrap()));
    }

    store.article("thoi-su/mot.vi.md", "Một (sửa)", "2026-11-20T08:00:00+07:00");
    wait_for(&client, &format!("{base}/vi/thoi-su/rss.xml"), |b| b.contains("Một (sửa)")).await;
    for path in ["/archive/2026-11.rss.xml", "/vi/archive/2026-11.atom.xml", "/vi/thoi-su/archive/2026-11.feed.json"] {
        wait_for(&client, &format!("{base}{path}"), |b| b.contains("Một (sửa)")).await;
    }
    // The October archives did not change at all (caches keep them); the
    // November one is mirrored.
    for (path, (etag, bytes)) in october.iter().zip(&before) {
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(&response.headers()["etag"], etag, "{path}");
        assert_eq!(&response.bytes().await.unwrap(), bytes, "{path}");
    }
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !std::fs::read_to_string(out.join("vi/thoi-su/archive/2026-11.rss.xml"))
        .unwrap_or_default()
        .contains("Một (sửa)")
    {
        assert!(tokio::time::Instant::now() < deadline, "the output folder's archive was not updated");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    daemon.shutdown().await;
}

/// On a store large enough to defer its archives (a threshold of 0 here),
/// the live feed is served at once and an archive document answers 503 with
/// `Retry-After` or already 200, never 404; soon it is 200 with exactly the
/// bytes of a full build, and a path that does not exist is 404 again.
#[tokio::test]
async fn a_deferred_start_serves_the_archives_right_after() {
    let store = three_articles("\n[server]\ndeferred_archives_from = 0\n");
    let source = ConfigSource { path: store.config_path(), overrides: Default::default() };
    let config = source.load().unwrap();
    assert_eq!(config.server.deferred_archives_from, 0);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let clock = Arc::new(ManualClock::new(now()));
    let daemon = Daemon::start(config, source, listener, clock).await.unwrap();
    let base = format!("http://{}", daemon.addr);
    let client = http_client();

    let live = client.get(format!("{base}/vi/rss.xml")).send().await.unwrap();
    assert_eq!(live.status(), 200);
    let built = store.build();
    let archive = "/vi/archive/2026-10.rss.xml";
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let body = loop {
        let response = client.get(format!("{base}{archive}")).send().await.unwrap();
        match response.status().as_u16() {
            200 => break response.bytes().await.unwrap(),
            503 => assert_eq!(response.headers()["retry-after"], "5"),
            other => panic!("{archive} answered {other} while the archives were being rendered"),
        }
        assert!(tokio::time::Instant::now() < deadline, "{archive} was not served within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(body, built.snapshot.get(archive).unwrap().body);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let status = client.get(format!("{base}/no-such-file.xml")).send().await.unwrap().status();
        if status == 404 {
            break;
        }
        assert_eq!(status, 503);
        assert!(tokio::time::Instant::now() < deadline, "unknown paths still answer 503");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    daemon.shutdown().await;
}
