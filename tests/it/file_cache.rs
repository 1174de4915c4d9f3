//! `herald serve` keeps the rarely read files (archives of past months,
//! tag/author/category feeds, HTML views) on disk (the state folder's file
//! cache), not in memory, and serves them with exactly the bytes, ETags,
//! 304s and caching of a file in memory; files a previous run left there
//! are checked before use, never served blindly.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use herald::clock::ManualClock;
use herald::daemon::{ConfigSource, Daemon, FILE_CACHE_DIR};

/// Longest wait for the daemon to reach a state.
/// Generous, since the machine may be loaded: a poll ends as soon as the
/// state is reached.
const PATIENCE: Duration = Duration::from_secs(60);

/// A past month's archive (October, with the clock in November).
const PAST: &str = "/vi/archive/2026-10.rss.xml";

/// Three articles in two months, one item per live feed, so that October
/// lives in archives only; the state folder is `<store>/state`.
fn store() -> TempStore {
    let mut store = TempStore::new();
    store.extra_config = "[feeds]\nitem_limit = 1\n".into();
    store.article("thoi-su/mot.vi.md", "Một", "2026-11-20T08:00:00+07:00");
    store.article("thoi-su/hai.vi.md", "Hai", "2026-11-10T08:00:00+07:00");
    store.article("thoi-su/ba.vi.md", "Ba", "2026-10-10T08:00:00+07:00");
    store
}

fn cache_dir(store: &TempStore) -> PathBuf {
    store.dir.path().join("state").join(FILE_CACHE_DIR)
}

async fn start(store: &TempStore) -> Daemon {
    let source = ConfigSource {
        path: store.config_path(),
        overrides: herald::config::Overrides { state_dir: Some(store.dir.path().join("state")), ..Default::default() },
    };
    let config = source.load().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Daemon::start(config, source, listener, Arc::new(ManualClock::new(now()))).await.unwrap()
}

/// The value of metric `name` in `/metrics`.
async fn metric(client: &reqwest::Client, base: &str, name: &str) -> u64 {
    let text = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    let line = text.lines().find(|l| l.split(' ').next() == Some(name)).unwrap_or_else(|| panic!("no {name}"));
    line.split(' ').nth(1).unwrap().parse().unwrap()
}

/// Waits until every served file has its compressed twins.
async fn wait_for_compression(client: &reqwest::Client, base: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while metric(client, base, "herald_compression_pending").await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "compression did not finish");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// GET `path` with `encoding` (and `if_none_match`): status, headers, body.
async fn get(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    encoding: &str,
    if_none_match: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = client.get(format!("{base}{path}")).header("accept-encoding", encoding);
    if let Some(tag) = if_none_match {
        request = request.header("if-none-match", tag);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

fn decode(encoding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "gzip" => {
            flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
        }
        "br" => {
            brotli::BrotliDecompress(&mut std::io::Cursor::new(bytes), &mut out).unwrap();
        }
        _ => out = bytes.to_vec(),
    }
    out
}

/// Every representation of `path` is the bytes of a full build, with its
/// own ETag, a 304 for it, and the caching of a past month.
async fn assert_served_like_a_build(client: &reqwest::Client, base: &str, path: &str, built: &herald::pipeline::Built) {
    assert_served_as(client, base, path, built, "public, max-age=31536000, immutable").await;
}

/// Every representation of `path` is the bytes of a full build, with its
/// own ETag, a 304 for it, and `cache_control`.
async fn assert_served_as(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    built: &herald::pipeline::Built,
    cache_control: &str,
) {
    let expected = built.snapshot.get(path).unwrap().body.to_vec();
    for (encoding, suffix) in [("identity", ""), ("gzip", "-gz"), ("br", "-br")] {
        // A twin still being made (or made again after a bad one was
        // dropped) means the identity bytes meanwhile: every answer must
        // decode, by its own Content-Encoding, to the build's bytes, and
        // the twin must come.
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let (status, headers, body) = loop {
            let (status, headers, body) = get(client, base, path, encoding, None).await;
            assert_eq!(status, 200, "{path} {encoding}");
            let served = headers.get("content-encoding").map_or("identity", |v| v.to_str().unwrap()).to_string();
            assert_eq!(decode(&served, &body), expected, "{path} asked in {encoding}, served in {served}");
            if served == encoding {
                break (status, headers, body);
            }
            assert!(tokio::time::Instant::now() < deadline, "{path}: {encoding} never served");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(status, 200, "{path} {encoding}");
        assert_eq!(decode(encoding, &body), expected, "{path} in {encoding}");
        let etag = headers["etag"].to_str().unwrap().to_string();
        let built_etag = &built.snapshot.get(path).unwrap().etag;
        assert_eq!(etag, format!("{}{suffix}\"", built_etag.trim_end_matches('"')), "{path} {encoding}");
        assert_eq!(headers["cache-control"], cache_control, "{path} {encoding}");
        let (status, _, body) = get(client, base, path, encoding, Some(&etag)).await;
        assert_eq!((status, body.len()), (304, 0), "{path} {encoding} revalidated");
    }
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

/// A past month's archive is kept on disk with its twins, served exactly
/// as from memory; `/metrics` counts disk and memory bytes apart; an edit
/// to the month replaces its file and the old one is deleted.
#[tokio::test]
async fn past_archives_are_served_from_disk_like_files_in_memory() {
    let store = store();
    let daemon = start(&store).await;
    let base = format!("http://{}", daemon.addr);
    let client = http_client();
    wait_for_compression(&client, &base).await;
    assert_served_like_a_build(&client, &base, PAST, &store.build()).await;

    // Only past months are on disk: identity, gzip and brotli of each.
    let files = daemon.state.files.load();
    let on_disk: Vec<&str> =
        ["/vi/archive/2026-10.rss.xml", "/vi/archive/2026-11.rss.xml", "/vi/rss.xml", "/sitemap.xml"]
            .into_iter()
            .filter(|path| files.get(path).unwrap().resource.stored.is_some())
            .collect();
    assert_eq!(on_disk, [PAST]);
    let stored = files.get(PAST).unwrap().resource.stored.clone().unwrap();
    assert!(files.get(PAST).unwrap().resource.body.is_empty(), "its bytes are not in memory");
    let disk = metric(&client, &base, "herald_files_disk_bytes").await;
    let memory = metric(&client, &base, "herald_files_memory_bytes").await;
    let expected_disk: u64 = files
        .iter()
        .filter_map(|f| f.resource.stored.as_ref())
        .map(|s| (s.digest(), s.len() + s.twins().map_or(0, |(g, b)| g + b)))
        .collect::<std::collections::HashMap<_, _>>()
        .values()
        .sum();
    assert_eq!(disk, expected_disk);
    assert!(disk > stored.len() && memory > 0, "disk {disk}, memory {memory}");
    let cached = files_in(&cache_dir(&store));
    assert!(cached.contains(&stored.path(herald::file_cache::Representation::Brotli)), "{cached:?}");
    drop(files);

    // An edit to October: its file is replaced, the old one deleted.
    let old_file = stored.path(herald::file_cache::Representation::Identity);
    drop(stored);
    store.article("thoi-su/ba.vi.md", "Ba (sửa)", "2026-10-10T08:00:00+07:00");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !String::from_utf8_lossy(&get(&client, &base, PAST, "identity", None).await.2).contains("Ba (sửa)") {
        assert!(tokio::time::Instant::now() < deadline, "the edit was not served");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_for_compression(&client, &base).await;
    assert_served_like_a_build(&client, &base, PAST, &store.build()).await;
    assert!(!old_file.exists(), "the old month's file is deleted once nothing serves it");
    daemon.shutdown().await;
}

/// Files a previous run left (kept at shutdown) are reused when they check
/// out; a corrupt or truncated one, or a temporary file a killed run left
/// half written, is never served: rewritten or removed, with a warning.
#[tokio::test]
async fn a_corrupt_or_truncated_cache_file_is_rewritten_never_served() {
    let store = store();
    let daemon = start(&store).await;
    let base = format!("http://{}", daemon.addr);
    let client = http_client();
    wait_for_compression(&client, &base).await;
    let stored = daemon.state.files.load().get(PAST).unwrap().resource.stored.clone().unwrap();
    let [identity, gzip, brotli] = [
        herald::file_cache::Representation::Identity,
        herald::file_cache::Representation::Gzip,
        herald::file_cache::Representation::Brotli,
    ]
    .map(|r| stored.path(r));
    drop(stored);
    daemon.shutdown().await;
    assert!(identity.exists() && gzip.exists() && brotli.exists(), "kept for the next start");

    // A flipped byte, a truncated twin, a twin of other bytes, a killed
    // write, a stray file.
    let mut bytes = std::fs::read(&identity).unwrap();
    bytes[40] ^= 0x20;
    std::fs::write(&identity, &bytes).unwrap();
    let twin = std::fs::read(&brotli).unwrap();
    std::fs::write(&brotli, &twin[..twin.len() / 2]).unwrap();
    std::fs::write(&gzip, flate2_gzip(b"<rss>something else</rss>")).unwrap();
    let temp = cache_dir(&store).join(".tmp-999999-0");
    std::fs::write(&temp, &bytes[..bytes.len() / 3]).unwrap();
    let stray = cache_dir(&store).join(format!("{:032x}", 7));
    std::fs::write(&stray, b"old").unwrap();

    let daemon = start(&store).await;
    let base = format!("http://{}", daemon.addr);
    wait_for_compression(&client, &base).await;
    assert_served_like_a_build(&client, &base, PAST, &store.build()).await;
    assert!(!temp.exists(), "a killed run's temporary file is removed");
    assert!(!stray.exists(), "a file nothing uses is removed");
    daemon.shutdown().await;
}

/// The files of a tag feed (live and archives of every month) and every
/// HTML view are kept on disk, served with the headers, ETags, 304s and
/// twins of the same file in memory (a live term feed is not
/// `immutable`); the site, language and section feeds and the sitemaps
/// stay in memory; an edit to a tagged article rewrites the tag's files on
/// disk, and a restart serves them again from there.
#[tokio::test]
async fn term_feeds_and_views_are_served_from_disk() {
    let store = store();
    let tagged = |title: &str, date: &str| {
        format!(
            "+++\ntitle = {title:?}\ndate = {date}\ntags = [\"Lễ hội\"]\n+++\nBody of {title}, long enough to be worth compressing. {}\n",
            "Lorem ipsum dolor sit amet. ".repeat(30)
        )
    };
    store.write("thoi-su/mot.vi.md", tagged("Một", "2026-11-20T08:00:00+07:00"));
    store.write("thoi-su/ba.vi.md", tagged("Ba", "2026-10-10T08:00:00+07:00"));
    let daemon = start(&store).await;
    let base = format!("http://{}", daemon.addr);
    let client = http_client();
    wait_for_compression(&client, &base).await;
    let built = store.build();
    let configured = {
        let (_, headers, _) = get(&client, &base, "/vi/rss.xml", "identity", None).await;
        headers["cache-control"].to_str().unwrap().to_string()
    };
    let term: Vec<String> = built.snapshot.iter().map(|(p, _)| p.clone()).filter(|p| p.contains("/tags/")).collect();
    for path in ["/vi/tags/le-hoi/rss.xml", "/vi/tags/le-hoi/feed.json", "/vi/tags/le-hoi/archive/2026-11.atom.xml"] {
        assert!(term.contains(&path.to_string()), "{path} not in {term:?}");
    }
    let files = daemon.state.files.load();
    for (path, resource) in built.snapshot.iter() {
        let served = files.get(path).unwrap_or_else(|| panic!("{path} not served"));
        let cold = path.contains("/tags/") || (path.ends_with(".html") && path != "/index.html");
        let on_disk = cold || resource.kind == herald::snapshot::ResourceKind::Archive { past: true };
        assert_eq!(served.resource.stored.is_some(), on_disk, "{path}: on disk?");
        assert_eq!(served.resource.body.is_empty(), on_disk, "{path}: in memory?");
        assert_eq!(served.resource.etag, resource.etag, "{path}");
    }
    drop(files);
    // Same headers as a file in memory: a live term feed and a view are
    // cached as configured, a past month for good.
    assert_served_as(&client, &base, "/vi/tags/le-hoi/rss.xml", &built, &configured).await;
    assert_served_as(&client, &base, "/vi/tags/le-hoi/feed.json.html", &built, &configured).await;
    assert_served_as(&client, &base, "/vi/rss.xml.html", &built, &configured).await;
    assert_served_as(&client, &base, "/vi/tags/le-hoi/archive/2026-11.rss.xml", &built, &configured).await;
    assert_served_like_a_build(&client, &base, "/vi/tags/le-hoi/archive/2026-10.rss.xml", &built).await;
    let (_, feed, _) = get(&client, &base, "/vi/tags/le-hoi/rss.xml", "identity", None).await;
    let (_, hot, _) = get(&client, &base, "/vi/rss.xml", "identity", None).await;
    for name in ["content-type", "vary", "link"] {
        assert_eq!(feed.get(name).is_some(), hot.get(name).is_some(), "{name}");
    }
    let memory = metric(&client, &base, "herald_files_memory_bytes").await;
    let in_memory: u64 = daemon
        .state
        .files
        .load()
        .iter()
        .map(|f| {
            f.resource.body.len() as u64 + f.compressed.get().map_or(0, |c| (c.gzip.len() + c.brotli.len()) as u64)
        })
        .sum();
    assert_eq!(memory, in_memory);

    // An edit to a tagged article: the tag's feed is rewritten on disk.
    store.write("thoi-su/mot.vi.md", tagged("Một (sửa)", "2026-11-20T08:00:00+07:00"));
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !String::from_utf8_lossy(&get(&client, &base, "/vi/tags/le-hoi/rss.xml", "identity", None).await.2)
        .contains("Một (sửa)")
    {
        assert!(tokio::time::Instant::now() < deadline, "the edit was not served");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_for_compression(&client, &base).await;
    let built = store.build();
    assert!(daemon.state.files.load().get("/vi/tags/le-hoi/rss.xml").unwrap().resource.stored.is_some());
    assert_served_as(&client, &base, "/vi/tags/le-hoi/rss.xml", &built, &configured).await;
    assert_served_as(&client, &base, "/vi/tags/le-hoi/rss.xml.html", &built, &configured).await;
    daemon.shutdown().await;

    // A restart serves them from disk again, the same bytes.
    let daemon = start(&store).await;
    let base = format!("http://{}", daemon.addr);
    wait_for_compression(&client, &base).await;
    assert!(daemon.state.files.load().get("/vi/tags/le-hoi/atom.xml").unwrap().resource.stored.is_some());
    assert_served_as(&client, &base, "/vi/tags/le-hoi/atom.xml", &built, &configured).await;
    daemon.shutdown().await;
}

fn flate2_gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}
