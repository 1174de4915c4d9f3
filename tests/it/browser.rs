//! A person opening a feed or sitemap in a browser sees a readable page:
//! headless Chromium applies herald's XSL stylesheets to files served by
//! herald. Screenshots go to `target/screenshots/`.
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

/// Runs headless Chromium on `url`; returns the DOM after the stylesheet
/// ran and writes a screenshot to `screenshot`.
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
async fn feeds_and_sitemaps_render_as_pages_in_a_browser() {
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

    let shots = root.join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = state.path().join("chromium");
    let (feed, sitemap, english) = tokio::task::spawn_blocking({
        let base = base.clone();
        let shots = shots.clone();
        move || {
            let feed = render(&browser, &format!("{base}/vi/rss.xml"), &shots.join("feed-vi.png"), &profile);
            let sitemap =
                render(&browser, &format!("{base}/vi/sitemap-2026-11.xml"), &shots.join("sitemap-vi.png"), &profile);
            let english = render(&browser, &format!("{base}/en/atom.xml"), &shots.join("feed-en.png"), &profile);
            (feed, sitemap, english)
        }
    })
    .await
    .unwrap();

    // The feed became an HTML page in Vietnamese: title, subscribe address,
    // newest articles with links.
    assert!(feed.contains("<h1>Báo Sông Hương</h1>"), "{feed}");
    assert!(feed.contains("Bài mới nhất"), "{feed}");
    assert!(feed.contains("value=\"https://baosonghuong.example.vn/vi/rss.xml\""), "{feed}");
    assert!(feed.contains("href=\"https://baosonghuong.example.vn/du-lich/homestay-a-luoi/\""), "{feed}");
    // The Atom feed, in English.
    assert!(english.contains("Newest articles") && english.contains("<h1>Song Huong News</h1>"), "{english}");
    // The sitemap became a table of addresses with their languages.
    assert!(sitemap.contains("Sơ đồ trang"), "{sitemap}");
    assert!(sitemap.contains("<td><a href=\"https://baosonghuong.example.vn/thoi-su/ky-hop-hdnd/\">"), "{sitemap}");
    assert!(sitemap.contains(">en</a>"), "{sitemap}");

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
    daemon.shutdown().await;
}
