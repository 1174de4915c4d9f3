use std::path::Path;

use super::*;
use crate::catalog::Catalog;
use crate::config::Overrides;
use crate::config::testing::MINIMAL;
use crate::render::{BodyCache, render_site};
use crate::snapshot::Snapshot;
use crate::store::{ArticleStore, MemoryStore};

/// Added to the two languages of [`MINIMAL`]: one section, one item a
/// feed, archives.
const MORE: &str = r#"
[sections.thoi-su]
title = { vi = "Thời sự", en = "News" }

[feeds]
item_limit = 1

[archives]
enabled = true
"#;

fn site() -> (Snapshot, Config) {
    let config = Config::parse(&format!("{MINIMAL}{MORE}"), Path::new("feeds.toml"), &Overrides::default()).unwrap();
    let store = MemoryStore::new();
    store.insert(
        "thoi-su/a.vi.md",
        "+++\ntitle = \"Tin <script>alert(1)</script> & mưa\"\ndate = 2026-11-20T08:00:00+07:00\nauthors = [\"Nguyễn Văn An\"]\nsummary = \"Q&A: <b>đậm</b>\"\n+++\nBody\n",
    );
    store.insert("thoi-su/b.vi.md", "+++\ntitle = \"Tháng trước\"\ndate = 2026-10-02T08:00:00+07:00\n+++\nBody\n");
    store.insert("thoi-su/a.en.md", "+++\ntitle = \"Rain\"\ndate = 2026-11-20T09:00:00+07:00\n+++\nBody\n");
    let scan = store.scan(&config);
    assert!(scan.diagnostics.is_empty(), "{:?}", scan.diagnostics);
    let now: jiff::Timestamp = "2026-11-21T00:00:00Z".parse().unwrap();
    let (catalog, _) = Catalog::from_articles(scan.articles, now, config.taxonomies.enabled());
    let snapshot = render_site(&catalog, &config, &store, &mut BodyCache::default());
    (snapshot, config)
}

fn page(snapshot: &Snapshot, path: &str) -> String {
    let view = snapshot.get(&twin_path(path)).unwrap_or_else(|| panic!("no view of {path}"));
    assert_eq!(view.content_type, HTML_CONTENT_TYPE);
    String::from_utf8(view.body.to_vec()).unwrap()
}

#[test]
fn every_feed_and_sitemap_has_a_view_and_nothing_else_does() {
    let (snapshot, config) = site();
    let mut views = 0;
    for (path, resource) in snapshot.iter() {
        if path.ends_with(".html") {
            continue;
        }
        let wanted = path.ends_with(".xml") || path.ends_with(".json");
        assert_eq!(snapshot.get(&twin_path(path)).is_some(), wanted, "{path}");
        if wanted {
            assert_eq!(view(path, resource, &config).unwrap().1, **snapshot.get(&twin_path(path)).unwrap());
            views += 1;
        }
    }
    assert!(views > 20, "{views} views");
}

#[test]
fn a_feed_reads_as_a_page_in_its_language() {
    let (snapshot, _) = site();
    let html = page(&snapshot, "/vi/rss.xml");
    assert!(html.starts_with("<!doctype html>\n<html lang=\"vi\">"), "{html}");
    assert!(html.contains("<h1>Báo Mẫu</h1>"), "{html}");
    assert!(html.contains("Địa chỉ nguồn tin"), "{html}");
    let address = "https://news.example.vn/vi/rss.xml";
    assert!(html.contains(&format!("readonly value=\"{address}\"")), "{html}");
    assert!(html.contains(&format!("<button type=\"button\" data-copy=\"{address}\">Sao chép</button>")), "{html}");
    // Escaped title, date in the site's zone, author, summary as text.
    assert!(
        html.contains("<h3><a href=\"https://news.example.vn/thoi-su/a/\">Tin &lt;script&gt;alert(1)&lt;/script&gt; &amp; mưa</a></h3>"),
        "{html}"
    );
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(
        html.contains("<time datetime=\"2026-11-20T08:00:00+07:00\">20/11/2026 08:00</time> · Nguyễn Văn An"),
        "{html}"
    );
    assert!(html.contains("<p>Q&amp;A: &lt;b&gt;đậm&lt;/b&gt;</p>"), "{html}");
    assert!(
        html.contains("rel=\"prev-archive\" href=\"https://news.example.vn/vi/archive/2026-11.rss.xml\""),
        "{html}"
    );

    // The other formats show the same items, each with its own address.
    for path in ["/vi/atom.xml", "/vi/feed.json"] {
        let other = page(&snapshot, path);
        assert!(other.contains(&format!("readonly value=\"https://news.example.vn{path}\"")), "{other}");
        assert!(other.contains("20/11/2026 08:00</time> · Nguyễn Văn An"), "{other}");
        assert!(other.contains("<p>Q&amp;A: &lt;b&gt;đậm&lt;/b&gt;</p>"), "{other}");
    }
    let english = page(&snapshot, "/en/atom.xml");
    assert!(english.contains("<html lang=\"en\">") && english.contains("Newest articles"), "{english}");
    assert!(english.contains("2026-11-20 09:00"), "{english}");
}

#[test]
fn an_archive_links_its_neighbours() {
    let (snapshot, _) = site();
    let html = page(&snapshot, "/vi/archive/2026-10.rss.xml");
    assert!(html.contains("Kho lưu trữ nguồn tin") && html.contains("Bài trong tháng"), "{html}");
    assert!(html.contains("Tháng trước</a></h3>"), "{html}");
    assert!(html.contains("<a rel=\"current\" href=\"https://news.example.vn/vi/rss.xml\">"), "{html}");
    assert!(html.contains("<a rel=\"next-archive\" href=\"https://news.example.vn/vi/archive/2026-11.rss.xml\">"));
    let archive = snapshot.get("/vi/archive/2026-10.rss.xml").unwrap();
    assert_eq!(snapshot.get("/vi/archive/2026-10.rss.xml.html").unwrap().kind, archive.kind);
}

#[test]
fn sitemaps_list_their_addresses() {
    let (snapshot, _) = site();
    let html = page(&snapshot, "/vi/sitemap-2026-11.xml");
    assert!(html.contains("Sơ đồ trang (sitemap)"), "{html}");
    assert!(
        html.contains("<td><a href=\"https://news.example.vn/thoi-su/a/\">https://news.example.vn/thoi-su/a/</a></td>")
    );
    assert!(html.contains("<a href=\"https://news.example.vn/en/thoi-su/a/\" hreflang=\"en\">en</a>"), "{html}");
    let index = page(&snapshot, "/sitemap.xml");
    assert!(index.contains("Chỉ mục sơ đồ trang"), "{index}");
    assert!(index.contains("<a href=\"https://news.example.vn/vi/sitemap-2026-11.xml\">"), "{index}");
    assert_eq!(snapshot.get("/sitemap.xml.html").unwrap().kind, ResourceKind::Other);
}

#[test]
fn views_are_deterministic() {
    let (a, _) = site();
    let (b, _) = site();
    assert_eq!(page(&a, "/vi/rss.xml"), page(&b, "/vi/rss.xml"));
    assert_eq!(a.get("/sitemap.xml.html").unwrap().etag, b.get("/sitemap.xml.html").unwrap().etag);
}
