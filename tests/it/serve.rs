//! `herald serve`: the daemon serves every file over HTTP, cache-correctly,
//! and keeps it current as the store changes and as time passes. Each test
//! starts a daemon in-process on an ephemeral loopback port, with a clock
//! the test moves by hand, and stops it at the end.

use std::future::Future;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use herald::clock::ManualClock;
use herald::daemon::{ConfigSource, Daemon};
use reqwest::header;

/// Longest wait for the daemon to reflect a change.
const PATIENCE: Duration = Duration::from_secs(10);

struct Running {
    daemon: Daemon,
    clock: Arc<ManualClock>,
    client: reqwest::Client,
    base: String,
}

impl Running {
    async fn start(store: &TempStore) -> Running {
        let source = ConfigSource { path: store.config_path(), overrides: Default::default() };
        let config = source.load().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let clock = Arc::new(ManualClock::new(now()));
        let daemon = Daemon::start(config, source, listener, clock.clone()).await.unwrap();
        let base = format!("http://{}", daemon.addr);
        let client = reqwest::Client::builder().no_gzip().no_brotli().timeout(Duration::from_secs(5)).build().unwrap();
        Running { daemon, clock, client, base }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    async fn text(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// Polls `path` until its body satisfies `done`, for at most PATIENCE.
    async fn wait_for(&self, path: &str, what: &str, done: impl Fn(&str) -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let body = self.text(path).await;
            if done(&body) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{path}: {what} did not happen within {PATIENCE:?}:\n{body}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(self) {
        self.daemon.shutdown().await;
    }
}

fn sample_store() -> TempStore {
    let store = TempStore::new();
    store.article("thoi-su/mot.vi.md", "Một", "2026-11-20T08:00:00+07:00");
    store.article("thoi-su/mot.en.md", "One", "2026-11-20T09:00:00+07:00");
    store
}

async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future).await.expect("timed out")
}

/// Strong ETag and Last-Modified; both validators answer 304; HEAD sends
/// the headers of GET without the body.
#[tokio::test]
async fn conditional_requests_and_head() {
    let store = sample_store();
    let server = Running::start(&store).await;
    let response = server.get("/vi/rss.xml").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/rss+xml; charset=utf-8");
    assert_eq!(response.headers()[header::CACHE_CONTROL], "public, max-age=300");
    let etag = response.headers()[header::ETAG].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
    let last_modified = response.headers()[header::LAST_MODIFIED].to_str().unwrap().to_string();
    let length = response.headers()[header::CONTENT_LENGTH].to_str().unwrap().to_string();
    let body = response.bytes().await.unwrap();
    assert_eq!(body.len().to_string(), length);

    let url = format!("{}/vi/rss.xml", server.base);
    let by_etag = server.client.get(&url).header(header::IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(by_etag.status(), 304);
    assert_eq!(by_etag.headers()[header::ETAG].to_str().unwrap(), etag);
    assert!(by_etag.bytes().await.unwrap().is_empty());
    let by_date = server.client.get(&url).header(header::IF_MODIFIED_SINCE, &last_modified).send().await.unwrap();
    assert_eq!(by_date.status(), 304);
    let stale = server.client.get(&url).header(header::IF_NONE_MATCH, "\"something-else\"").send().await.unwrap();
    assert_eq!(stale.status(), 200);
    let old_date = server
        .client
        .get(&url)
        .header(header::IF_MODIFIED_SINCE, "Mon, 01 Jan 2024 00:00:00 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(old_date.status(), 200);

    let head = server.client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()[header::CONTENT_LENGTH].to_str().unwrap(), length);
    assert_eq!(head.headers()[header::ETAG].to_str().unwrap(), etag);
    assert!(head.bytes().await.unwrap().is_empty());
    server.stop().await;
}

/// brotli and gzip bodies are chosen by Accept-Encoding, decode to the
/// identity bytes, carry their own ETags, and every answer says Vary.
#[tokio::test]
async fn compression_negotiation() {
    let store = sample_store();
    let server = Running::start(&store).await;
    let url = format!("{}/vi/atom.xml", server.base);
    let get = |accept: &'static str| {
        let request = server.client.get(&url);
        async move {
            let request = if accept.is_empty() { request } else { request.header(header::ACCEPT_ENCODING, accept) };
            request.send().await.unwrap()
        }
    };
    // Compressed bodies are made in the background after start-up; until
    // then the file is sent uncompressed, with the same Vary.
    let identity_etag = get("").await.headers()[header::ETAG].clone();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let answer = get("br").await;
        assert_eq!(answer.headers()[header::VARY], "Accept, Sec-Fetch-Dest, Accept-Encoding");
        if answer.headers().get(header::CONTENT_ENCODING).is_some() {
            break;
        }
        assert_eq!(answer.headers()[header::ETAG], identity_etag, "uncompressed bytes carry the identity ETag");
        assert!(tokio::time::Instant::now() < deadline, "no brotli body within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let plain = get("").await;
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(plain.headers()[header::VARY], "Accept, Sec-Fetch-Dest, Accept-Encoding");
    let plain_etag = plain.headers()[header::ETAG].clone();
    let identity = plain.bytes().await.unwrap();

    let br = get("gzip, deflate, br").await;
    assert_eq!(br.headers()[header::CONTENT_ENCODING], "br");
    assert_eq!(br.headers()[header::VARY], "Accept, Sec-Fetch-Dest, Accept-Encoding");
    // Sitemaps have HTML views too; a file without one varies on the encoding only.
    let sitemap = server.get("/vi/sitemap-2026-11.xml").await;
    assert_eq!(sitemap.headers()[header::VARY], "Accept, Sec-Fetch-Dest, Accept-Encoding");
    let page = server.get("/index.html").await;
    assert_eq!(page.headers()[header::VARY], "Accept-Encoding");
    assert_ne!(br.headers()[header::ETAG], plain_etag);
    let mut decoded = Vec::new();
    brotli::BrotliDecompress(&mut std::io::Cursor::new(br.bytes().await.unwrap()), &mut decoded).unwrap();
    assert_eq!(decoded, identity);

    let gz = get("gzip").await;
    assert_eq!(gz.headers()[header::CONTENT_ENCODING], "gzip");
    let gz_etag = gz.headers()[header::ETAG].clone();
    let compressed = gz.bytes().await.unwrap();
    assert!(compressed.len() < identity.len());
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_ref()).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, identity);

    let refused = get("br;q=0, gzip;q=0.5").await;
    assert_eq!(refused.headers()[header::CONTENT_ENCODING], "gzip");
    // `*` covers only the codings the header does not name.
    let star = get("br;q=0, *").await;
    assert_eq!(star.headers()[header::CONTENT_ENCODING], "gzip");
    // A validator matches only the representation it names.
    let gzip_etag = gz_etag.clone();
    let plain_with_gzip_tag = server.client.get(&url).header(header::IF_NONE_MATCH, &gzip_etag).send().await.unwrap();
    assert_eq!(plain_with_gzip_tag.status(), 200);
    let gzip_with_gzip_tag = server
        .client
        .get(&url)
        .header(header::ACCEPT_ENCODING, "gzip")
        .header(header::IF_NONE_MATCH, &gzip_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(gzip_with_gzip_tag.status(), 304);
    assert_eq!(gzip_with_gzip_tag.headers()[header::ETAG], gzip_etag);
    let none = get("identity").await;
    assert!(none.headers().get(header::CONTENT_ENCODING).is_none());
    server.stop().await;
}

/// What Chromium sends when a person opens an address.
const NAVIGATION_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";

/// A browser navigating to a feed, archive or sitemap gets its HTML view,
/// with its own ETag; every other request, whatever it accepts, gets the
/// document with the bytes and ETag it always had. Both say what they vary
/// on, and conditional requests work on each.
#[tokio::test]
async fn browser_navigations_get_html_views() {
    let store = sample_store();
    let server = Running::start(&store).await;
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut request =
            server.client.get(format!("{}{path}", server.base)).header(header::ACCEPT_ENCODING, "identity");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        async move { request.send().await.unwrap() }
    };
    let navigation = [("sec-fetch-dest", "document"), ("sec-fetch-mode", "navigate"), ("accept", NAVIGATION_ACCEPT)];
    let readers: [&[(&str, &str)]; 5] = [
        &[],
        &[("accept", "*/*")],
        &[(
            "accept",
            "application/atom+xml,application/rdf+xml,application/rss+xml,application/x-netcdf,application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1",
        )],
        &[("accept", "application/rss+xml"), ("user-agent", "rss-parser")],
        // A browser's fetch() of the feed (not a navigation).
        &[("sec-fetch-dest", "empty"), ("accept", NAVIGATION_ACCEPT)],
    ];
    for (path, content_type) in [
        ("/vi/rss.xml", "application/rss+xml; charset=utf-8"),
        ("/en/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/vi/feed.json", "application/feed+json; charset=utf-8"),
        ("/sitemap.xml", "application/xml; charset=utf-8"),
        ("/vi/sitemap-2026-11.xml", "application/xml; charset=utf-8"),
    ] {
        // What a request without any negotiation gets: the document.
        let plain = get(path, &[]).await;
        let document_etag = plain.headers()[header::ETAG].to_str().unwrap().to_string();
        let document = plain.bytes().await.unwrap();
        assert!(document.starts_with(b"<?xml") || document.starts_with(b"{"), "{path}");
        for headers in readers {
            let answer = get(path, headers).await;
            assert_eq!(answer.headers()[header::CONTENT_TYPE], content_type, "{path} {headers:?}");
            assert_eq!(answer.headers()[header::ETAG], document_etag.as_str(), "{path} {headers:?}");
            assert_eq!(answer.headers()[header::VARY], "Accept, Sec-Fetch-Dest, Accept-Encoding", "{path}");
            assert_eq!(answer.bytes().await.unwrap(), document, "{path} {headers:?}");
        }
        let page = get(path, &navigation).await;
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8", "{path}");
        assert_eq!(page.headers()[header::VARY], "Accept, Sec-Fetch-Dest, Accept-Encoding", "{path}");
        let page_etag = page.headers()[header::ETAG].to_str().unwrap().to_string();
        assert_ne!(page_etag, document_etag, "{path}: the view has its own ETag");
        let html = page.text().await.unwrap();
        assert!(html.starts_with("<!doctype html>"), "{path}: {html}");
        // Each representation is revalidated against its own ETag.
        let again = get(path, &[navigation[0], navigation[2], ("if-none-match", page_etag.as_str())]).await;
        assert_eq!(again.status(), 304, "{path}");
        let crossed = get(path, &[navigation[0], navigation[2], ("if-none-match", document_etag.as_str())]).await;
        assert_eq!(crossed.status(), 200, "{path}: the document's ETag does not validate the view");
        let reader = get(path, &[("if-none-match", document_etag.as_str())]).await;
        assert_eq!(reader.status(), 304, "{path}");
        // The view is also at its own address.
        let direct = get(&format!("{path}.html"), &[]).await;
        assert_eq!(direct.headers()[header::ETAG], page_etag.as_str(), "{path}.html");
    }
    server.stop().await;
}

/// Unknown paths are 404 with a short body, other methods 405 with Allow,
/// and no path escapes the served files.
#[tokio::test]
async fn not_found_method_not_allowed_and_traversal() {
    let store = sample_store();
    let server = Running::start(&store).await;
    let missing = server.get("/nope.xml").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.text().await.unwrap(), "not found\n");
    let post = server.client.post(format!("{}/vi/rss.xml", server.base)).send().await.unwrap();
    assert_eq!(post.status(), 405);
    assert_eq!(post.headers()[header::ALLOW], "GET, HEAD");
    let delete = server.client.delete(format!("{}/healthz", server.base)).send().await.unwrap();
    assert_eq!(delete.status(), 405);

    // reqwest normalises dots away; speak raw HTTP to send them as they are.
    let base = server.base.clone();
    tokio::task::spawn_blocking(move || {
        for target in
            ["/../feeds.toml", "/%2e%2e/feeds.toml", "/vi/../../feeds.toml", "/store/thoi-su/mot.vi.md", "//etc/passwd"]
        {
            let response =
                raw_request(&base, &format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
            assert!(response.starts_with("HTTP/1.1 404"), "{target}: {response}");
            assert!(!response.contains("base_url"), "{target} leaked the configuration");
        }
    })
    .await
    .unwrap();
    server.stop().await;
}

fn raw_request(base: &str, request: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// One connection carries several requests (keep-alive); an oversized
/// request head is refused; a client that never finishes its request is
/// cut off.
#[tokio::test]
async fn keep_alive_and_limits() {
    let mut store = sample_store();
    store.extra_config = "[server]\nrequest_timeout_seconds = 1\nmax_header_bytes = 8192\n".into();
    let server = Running::start(&store).await;
    let base = server.base.clone();
    tokio::task::spawn_blocking(move || {
        let two = raw_request(
            &base,
            "GET /vi/rss.xml HTTP/1.1\r\nHost: x\r\n\r\nGET /en/rss.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(two.matches("HTTP/1.1 200 OK").count(), 2, "{two}");

        // A head that fills the 8 KB allowed without ending is answered 431.
        // (Exactly that much: the server reads all of it, so closing the
        // connection cannot reset it before the answer is read.)
        let start = "GET /vi/rss.xml HTTP/1.1\r\nHost: x\r\nX-Big: ";
        let huge = format!("{start}{}", "a".repeat(8192 - start.len()));
        let refused = raw_request(&base, &huge);
        assert!(refused.starts_with("HTTP/1.1 431 Request Header Fields Too Large"), "{refused:?}");

        let started = std::time::Instant::now();
        let slow = raw_request(&base, "GET /vi/rss.xml HTTP/1.1\r\nHost: x\r\n");
        assert!(!slow.contains("200 OK"), "{slow}");
        assert!(started.elapsed() < PATIENCE);
    })
    .await
    .unwrap();
    server.stop().await;
}

/// A new article file appears in its section feed, its language feed and
/// its sitemap; deleting it removes it from all three.
#[tokio::test]
async fn store_changes_reach_feeds_and_sitemaps() {
    let store = sample_store();
    let server = Running::start(&store).await;
    assert!(!server.text("/vi/thoi-su/rss.xml").await.contains("Hai"));
    store.article("thoi-su/hai.vi.md", "Hai", "2026-11-21T08:00:00+07:00");
    server.wait_for("/vi/thoi-su/rss.xml", "the new article", |b| b.contains("<title>Hai</title>")).await;
    assert!(server.text("/vi/rss.xml").await.contains("<title>Hai</title>"));
    assert!(server.text("/vi/sitemap-2026-11.xml").await.contains("https://example.vn/thoi-su/hai/"));
    assert!(server.text("/").await.contains("/vi/thoi-su/rss.xml"));

    // An article in a new section brings that section's feeds.
    store.article("kinh-te/gia.vi.md", "Giá", "2026-11-22T08:00:00+07:00");
    server.wait_for("/vi/kinh-te/atom.xml", "the new section feed", |b| b.contains("Giá")).await;

    store.remove("thoi-su/hai.vi.md");
    server.wait_for("/vi/thoi-su/rss.xml", "the deletion", |b| !b.contains("<title>Hai</title>")).await;
    assert!(!server.text("/vi/rss.xml").await.contains("<title>Hai</title>"));
    assert!(!server.text("/vi/sitemap-2026-11.xml").await.contains("/thoi-su/hai/"));

    store.remove("kinh-te/gia.vi.md");
    let gone = async {
        while server.get("/vi/kinh-te/atom.xml").await.status() != 404 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    within(gone).await;
    server.stop().await;
}

/// The store folder deleted and made again (editors' tools, `rsync
/// --delete-after`, checkouts do it): the watcher finds the new folder,
/// reads it whole, and keeps watching it, so an edit made in it, and the
/// edits after, are served. Then the same with the folder moved away and
/// another put in its place.
#[tokio::test]
async fn a_store_folder_replaced_is_watched_again() {
    let store = sample_store();
    let server = Running::start(&store).await;
    std::fs::remove_dir_all(store.root()).unwrap();
    store.article("thoi-su/mot.vi.md", "Một đã sửa", "2026-11-20T08:00:00+07:00");
    server.wait_for("/vi/rss.xml", "the edit in the new folder", |b| b.contains("Một đã sửa")).await;
    store.article("thoi-su/hai.vi.md", "Hai", "2026-11-21T08:00:00+07:00");
    server.wait_for("/vi/rss.xml", "a later edit", |b| b.contains("<title>Hai</title>")).await;

    let aside = store.dir.path().join("store.old");
    std::fs::rename(store.root(), &aside).unwrap();
    store.article("thoi-su/ba.vi.md", "Ba", "2026-11-22T08:00:00+07:00");
    server
        .wait_for("/vi/rss.xml", "the folder put in place", |b| b.contains("<title>Ba</title>") && !b.contains("Hai"))
        .await;
    // The folder moved away is no longer watched.
    std::fs::write(aside.join("thoi-su/bon.vi.md"), "+++\ntitle = \"Bốn\"\ndate = 2026-11-23T08:00:00+07:00\n+++\nX\n")
        .unwrap();
    store.article("thoi-su/nam.vi.md", "Năm", "2026-11-24T08:00:00+07:00");
    server.wait_for("/vi/rss.xml", "an edit in the new folder", |b| b.contains("<title>Năm</title>")).await;
    assert!(!server.text("/vi/rss.xml").await.contains("Bốn"));
    server.stop().await;
}

/// A future-dated article appears when the clock passes its date, with no
/// file change; an expiry removes one the same way.
#[tokio::test]
async fn scheduled_articles_follow_the_clock() {
    let store = sample_store();
    store.article("thoi-su/sap-toi.vi.md", "Sắp tới", "2026-11-26T18:00:00+07:00");
    store.write(
        "thoi-su/het-han.vi.md",
        "+++\ntitle = \"Hết hạn\"\ndate = 2026-11-20T07:00:00+07:00\nexpiryDate = 2026-11-26T19:00:00+07:00\n+++\n",
    );
    let server = Running::start(&store).await;
    let feed = server.text("/vi/rss.xml").await;
    assert!(!feed.contains("Sắp tới") && feed.contains("Hết hạn"));

    server.clock.set("2026-11-26T18:00:01+07:00".parse().unwrap());
    server.wait_for("/vi/rss.xml", "the scheduled article", |b| b.contains("Sắp tới")).await;
    assert!(server.text("/vi/sitemap-2026-11.xml").await.contains("/thoi-su/sap-toi/"));

    server.clock.set("2026-11-26T19:00:00+07:00".parse().unwrap());
    server.wait_for("/vi/rss.xml", "the expiry", |b| !b.contains("Hết hạn")).await;
    server.stop().await;
}

/// A broken edit keeps the last good version served, and /healthz and
/// /metrics report the problem with its path and line; fixing the file
/// clears it.
#[tokio::test]
async fn broken_edit_keeps_last_good_version() {
    let store = sample_store();
    let server = Running::start(&store).await;
    store.write("thoi-su/mot.vi.md", "+++\ntitle = \"Một (sửa)\"\ndate = = sai\n+++\n");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let health = loop {
        let health: serde_json::Value = server.get("/healthz").await.json().await.unwrap();
        if health["store_error_count"] == 1 {
            break health;
        }
        assert!(tokio::time::Instant::now() < deadline, "no error reported: {health}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let error = &health["store_errors"][0];
    assert!(error["path"].as_str().unwrap().ends_with("thoi-su/mot.vi.md"), "{health}");
    assert_eq!(error["line"], 3);
    assert!(
        error["text"].as_str().unwrap().contains("mot.vi.md:3:8: error: front matter is not valid TOML"),
        "{health}"
    );
    assert!(server.text("/vi/rss.xml").await.contains("<title>Một</title>"), "the last good version must stay");
    // /metrics takes the report just after /healthz does.
    server.wait_for("/metrics", "the error counted", |b| b.contains("herald_store_errors 1")).await;

    store.write("thoi-su/mot.vi.md", "+++\ntitle = \"Một (đã sửa)\"\ndate = 2026-11-20T08:00:00+07:00\n+++\n");
    server.wait_for("/vi/rss.xml", "the fix", |b| b.contains("Một (đã sửa)")).await;
    // The health report follows the files it describes.
    server.wait_for("/healthz", "the error cleared", |b| b.contains("\"store_error_count\": 0")).await;
    server.stop().await;
}

/// /healthz and /metrics describe the site and the traffic.
#[tokio::test]
async fn health_and_metrics() {
    let store = sample_store();
    store.write("thoi-su/nhap.vi.md", "+++\ntitle = \"Nháp\"\ndate = 2026-11-20T08:00:00+07:00\ndraft = true\n+++\n");
    let server = Running::start(&store).await;
    let health: serde_json::Value = server.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["articles"]["visible"], 2);
    assert_eq!(health["articles"]["draft"], 1);
    assert_eq!(health["documents"], 3);
    assert!(health["last_build"].as_str().unwrap().starts_with("2026-11-26T12:00:00"));
    server.get("/vi/rss.xml").await;
    server.get("/missing").await;
    let metrics = server.text("/metrics").await;
    assert!(metrics.contains("herald_http_requests_total{route=\"feed\",status=\"200\"} 1"), "{metrics}");
    assert!(metrics.contains("herald_http_requests_total{route=\"not_found\",status=\"404\"} 1"), "{metrics}");
    assert!(metrics.contains("herald_articles{state=\"visible\"} 2"), "{metrics}");
    assert!(metrics.contains("herald_builds_total 1"), "{metrics}");
    assert!(metrics.contains("# TYPE herald_http_response_bytes_total counter"), "{metrics}");
    server.stop().await;
}

/// `/` is the index page with autodiscovery links for every feed.
#[tokio::test]
async fn index_page_lists_feeds() {
    let store = sample_store();
    let server = Running::start(&store).await;
    let page = server.get("/").await;
    assert_eq!(page.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
    let html = page.text().await.unwrap();
    assert!(html.contains("<link rel=\"alternate\" type=\"application/rss+xml\""), "{html}");
    assert!(html.contains("href=\"https://example.vn/en/thoi-su/feed.json\""), "{html}");
    server.stop().await;
}

/// With an output folder, every served file is mirrored there and kept
/// current.
#[tokio::test]
async fn output_folder_mirrors_the_served_files() {
    let mut store = sample_store();
    store.extra_config = "[server]\nout_dir = \"public\"\n".into();
    let server = Running::start(&store).await;
    let out = store.dir.path().join("public");
    assert_eq!(std::fs::read_to_string(out.join("vi/rss.xml")).unwrap(), server.text("/vi/rss.xml").await);
    store.article("thoi-su/ba.vi.md", "Ba", "2026-11-22T08:00:00+07:00");
    server.wait_for("/vi/rss.xml", "the new article", |b| b.contains("<title>Ba</title>")).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !std::fs::read_to_string(out.join("vi/rss.xml")).unwrap().contains("<title>Ba</title>") {
        assert!(tokio::time::Instant::now() < deadline, "the output folder was not updated");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(out.join("vi/thoi-su/rss.xml").is_file());
    server.stop().await;
}

/// A reload with a broken configuration keeps the old one; a valid one
/// takes effect.
#[tokio::test]
async fn reload_keeps_a_good_config() {
    let store = sample_store();
    let server = Running::start(&store).await;
    let config_path = store.dir.path().join("feeds.toml");
    let good = std::fs::read_to_string(&config_path).unwrap();
    std::fs::write(&config_path, good.replace("time_zone = \"Asia/Ho_Chi_Minh\"", "time_zone = \"Nowhere/Land\""))
        .unwrap();
    let mut steps = server.daemon.steps();
    let before = *steps.borrow();
    server.daemon.reload();
    within(steps.wait_for(|n| *n > before)).await.unwrap();
    assert!(server.text("/vi/rss.xml").await.contains("Báo Mẫu"));

    std::fs::write(&config_path, good.replace("Báo Mẫu", "Báo Mới")).unwrap();
    server.daemon.reload();
    server.wait_for("/vi/rss.xml", "the new title", |b| b.contains("Báo Mới")).await;
    server.stop().await;
}
