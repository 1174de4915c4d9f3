//! A person opening a feed, archive or sitemap in a browser sees a readable
//! page: headless Chromium, with XSLT switched off (as browsers are removing
//! it), navigates to files served by herald and gets their HTML views,
//! while a feed reader asking for the same address gets the document.
//! Screenshots go to `target/screenshots/`.
//!
//! Needs Chromium (`apt install chromium`). Without it the test says so and
//! passes, unless `HERALD_REQUIRE_BROWSER=1` (set by `.ci/run`, which
//! installs it) makes a missing browser a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use herald::clock::ManualClock;
use herald::config::Overrides;
use herald::daemon::{ConfigSource, Daemon};

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Runs headless Chromium (XSLT off) on `url`; returns the DOM and writes
/// a screenshot to `screenshot`.
fn render(browser: &Path, url: &str, screenshot: &Path, profile: &Path) -> String {
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1100,1400",
        "--disable-blink-features=XSLT",
    ];
    let profile_arg = format!("--user-data-dir={}", profile.display());
    let run = |extra: &str| {
        let output = Command::new("timeout")
            .arg("60")
            .arg(browser)
            .args(common)
            .arg(&profile_arg)
            .arg(extra)
            .arg(url)
            .output()
            .expect("chromium runs");
        assert!(output.status.success(), "chromium failed on {url}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let dom = run("--dump-dom");
    run(&format!("--screenshot={}", screenshot.display()));
    assert!(screenshot.is_file(), "no screenshot at {}", screenshot.display());
    dom
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_archives_and_sitemaps_read_as_pages_in_a_browser_without_xslt() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("HERALD_REQUIRE_BROWSER").is_err(),
            "HERALD_REQUIRE_BROWSER is set but Chromium is not installed"
        );
        eprintln!("skipped: Chromium is not installed (apt install chromium)");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let state = tempfile::tempdir().unwrap();
    let source = ConfigSource {
        path: root.join("feeds.toml"),
        overrides: Overrides { state_dir: Some(state.path().join("state")), ..Overrides::default() },
    };
    let config = source.load().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let clock = Arc::new(ManualClock::new(crate::common::now()));
    let daemon = Daemon::start(config, source, listener, clock).await.unwrap();
    let base = format!("http://{}", daemon.addr);

    // What a feed reader gets at each address, before any browser came.
    let client = reqwest::Client::builder().no_gzip().no_brotli().build().unwrap();
    let reader = |path: &'static str| {
        let request = client.get(format!("{base}{path}")).header(
            "accept",
            "application/atom+xml,application/rdf+xml,application/rss+xml,application/x-netcdf,application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1",
        );
        async move {
            let response = request.send().await.unwrap();
            let etag = response.headers()["etag"].to_str().unwrap().to_string();
            let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
            (etag, content_type, response.bytes().await.unwrap())
        }
    };
    let paths = ["/vi/rss.xml", "/en/atom.xml", "/vi/archive/2026-10.rss.xml", "/vi/sitemap-2026-11.xml"];
    let mut before = Vec::new();
    for path in paths {
        before.push(reader(path).await);
    }

    let shots = root.join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = state.path().join("chromium");
    let (feed, english, archive, sitemap) = tokio::task::spawn_blocking({
        let base = base.clone();
        let shots = shots.clone();
        move || {
            let page = |path: &str, shot: &str| render(&browser, &format!("{base}{path}"), &shots.join(shot), &profile);
            (
                page("/vi/rss.xml", "feed-vi.png"),
                page("/en/atom.xml", "feed-en.png"),
                page("/vi/archive/2026-10.rss.xml", "archive-vi.png"),
                page("/vi/sitemap-2026-11.xml", "sitemap-vi.png"),
            )
        }
    })
    .await
    .unwrap();

    for dom in [&feed, &english, &archive, &sitemap] {
        // An HTML page (not the XML tree Chromium shows without XSLT), and
        // no XSLT deprecation banner.
        assert!(dom.contains("<body>") && dom.contains("<header>"), "{dom}");
        assert!(!dom.to_ascii_lowercase().contains("xslt"), "{dom}");
        assert!(!dom.contains("This XML file does not appear to have any style information"), "{dom}");
    }
    // The feed, in Vietnamese: title, subscribe address, newest articles
    // with dates, authors and links.
    assert!(feed.contains("<html lang=\"vi\""), "{feed}");
    assert!(feed.contains("<h1>Báo Sông Hương</h1>"), "{feed}");
    assert!(feed.contains("Bài mới nhất"), "{feed}");
    assert!(feed.contains("value=\"https://baosonghuong.example.vn/vi/rss.xml\""), "{feed}");
    assert!(feed.contains("href=\"https://baosonghuong.example.vn/du-lich/homestay-a-luoi/\""), "{feed}");
    assert!(feed.contains("Võ Thị Ngọc Lan, Trần Thị Bích"), "{feed}");
    assert!(feed.contains("rel=\"prev-archive\""), "{feed}");
    // The Atom feed, in English.
    assert!(english.contains("Newest articles") && english.contains("<h1>Song Huong News</h1>"), "{english}");
    // An archive month: its articles and the way to the other months.
    assert!(archive.contains("Kho lưu trữ nguồn tin") && archive.contains("Bài trong tháng"), "{archive}");
    assert!(archive.contains("href=\"https://baosonghuong.example.vn/thoi-su/mua-lu-cuoi-thang-muoi/\""), "{archive}");
    assert!(archive.contains("rel=\"current\" href=\"https://baosonghuong.example.vn/vi/rss.xml\""), "{archive}");
    // The sitemap: a table of addresses with their languages.
    assert!(sitemap.contains("Sơ đồ trang"), "{sitemap}");
    assert!(sitemap.contains("<td><a href=\"https://baosonghuong.example.vn/thoi-su/ky-hop-hdnd/\">"), "{sitemap}");
    assert!(sitemap.contains(">en</a>"), "{sitemap}");

    // A feed reader asking for the same addresses after the browser still
    // gets the documents, byte for byte, with the same ETags.
    for (path, earlier) in paths.into_iter().zip(before) {
        let now = reader(path).await;
        assert_eq!(now, earlier, "{path}");
        assert!(now.1.contains("xml") && now.2.starts_with(b"<?xml"), "{path}: {}", now.1);
    }

    daemon.shutdown().await;
    tokio::time::sleep(Duration::ZERO).await;
}

/// A summary holding `&`, `<` and `>` as characters (escaped in the RSS
/// `description`) shows in the browser page as those characters: neither
/// as markup nor as entity text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_summary_with_markup_characters_reads_as_written() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("HERALD_REQUIRE_BROWSER").is_err(),
            "HERALD_REQUIRE_BROWSER is set but Chromium is not installed"
        );
        eprintln!("skipped: Chromium is not installed (apt install chromium)");
        return;
    };
    let store = crate::common::TempStore::new();
    store.write(
        "thoi-su/hoi-dap.vi.md",
        "+++\ntitle = \"Hỏi & đáp\"\ndate = 2026-11-20T08:00:00+07:00\nsummary = \"Q&A: <b>đậm</b> &amp; x\"\n+++\nThân bài.\n",
    );
    let source = ConfigSource { path: store.config_path(), overrides: Overrides::default() };
    let config = source.load().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let clock = Arc::new(ManualClock::new(crate::common::now()));
    let daemon = Daemon::start(config, source, listener, clock).await.unwrap();
    let url = format!("http://{}/vi/rss.xml", daemon.addr);
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = store.dir.path().join("chromium");
    let page = tokio::task::spawn_blocking(move || render(&browser, &url, &shots.join("feed-markup.png"), &profile))
        .await
        .unwrap();
    // The DOM, serialised: text characters `&`, `<`, `>` appear as entities once.
    assert!(page.contains("<p>Q&amp;A: &lt;b&gt;đậm&lt;/b&gt; &amp;amp; x</p>"), "{page}");
    assert!(page.contains("Hỏi &amp; đáp</a></h3>"), "{page}");
    daemon.shutdown().await;
}
