//! Sitemaps: the index, per-language monthly sitemaps with hreflang and
//! images, the page sitemap, the Google News sitemap and robots.txt.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::*;
use herald::config::{Config, Overrides};
use herald::pipeline::{self, Built};
use herald::store::MemoryStore;
use quick_xml::events::Event;

/// Every `<loc>` with its `xhtml:link` alternates (hreflang → href), and
/// image locations, of a sitemap.
fn urls(built: &Built, path: &str) -> BTreeMap<String, (BTreeMap<String, String>, Vec<String>)> {
    let body = &built.snapshot.get(path).unwrap_or_else(|| panic!("no {path}")).body;
    let mut reader = quick_xml::Reader::from_reader(body.as_ref());
    let mut out = BTreeMap::new();
    let mut current = String::new();
    let mut element = String::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => element = String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
            Event::Empty(e) if e.name().as_ref() == b"xhtml:link" => {
                let attr = |name: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == name.as_bytes())
                        .map(|a| String::from_utf8(a.value.to_vec()).unwrap().replace("&amp;", "&"))
                        .unwrap()
                };
                let entry: &mut (BTreeMap<String, String>, Vec<String>) = out.get_mut(&current).unwrap();
                entry.0.insert(attr("hreflang"), attr("href"));
            }
            Event::Text(t) if element == "loc" => {
                current = t.decode().unwrap().into_owned();
                out.insert(current.clone(), (BTreeMap::new(), Vec::new()));
            }
            Event::Text(t) if element == "image:loc" => {
                out.get_mut(&current).unwrap().1.push(t.decode().unwrap().into_owned());
            }
            Event::End(_) => element.clear(),
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn sitemap_paths(built: &Built) -> Vec<String> {
    built
        .snapshot
        .iter()
        .filter(|(p, _)| p.contains("sitemap") && p.ends_with(".xml"))
        .map(|(p, _)| p.clone())
        .collect()
}

/// The index lists every sitemap the build wrote, and only those.
#[test]
fn index_lists_every_sitemap() {
    let built = build_fixture("basic");
    let listed: BTreeSet<String> = urls(&built, "/sitemap.xml").into_keys().collect();
    let written: BTreeSet<String> = sitemap_paths(&built)
        .into_iter()
        .filter(|p| p != "/sitemap.xml")
        .map(|p| format!("https://example.vn{p}"))
        .collect();
    assert_eq!(listed, written);
    assert!(written.contains("https://example.vn/vi/sitemap-2026-10.xml"));
    assert!(written.contains("https://example.vn/vi/sitemap-2026-11.xml"));
    assert!(written.contains("https://example.vn/en/sitemap-2026-11.xml"));
    assert!(written.contains("https://example.vn/sitemap-pages.xml"));
}

/// Month files hold that month's visible articles, with lastmod in the
/// site's offset and images; drafts, future and expired articles never
/// appear anywhere.
#[test]
fn monthly_sitemaps_hold_visible_articles() {
    let built = build_fixture("basic");
    let november = urls(&built, "/vi/sitemap-2026-11.xml");
    assert_eq!(
        november.keys().collect::<Vec<_>>(),
        ["https://example.vn/kinh-te/gia-lua/", "https://example.vn/thoi-su/mua-lu/"]
    );
    assert_eq!(november["https://example.vn/thoi-su/mua-lu/"].1, ["https://example.vn/images/mua-lu.jpg"]);
    let xml = text(&built, "/vi/sitemap-2026-11.xml");
    assert!(xml.contains("<lastmod>2026-11-20T08:30:00+07:00</lastmod>"), "{xml}");
    let october = urls(&built, "/vi/sitemap-2026-10.xml");
    assert_eq!(october.keys().collect::<Vec<_>>(), ["https://example.vn/thoi-su/le-hoi-hue/"]);
    assert_eq!(
        october["https://example.vn/thoi-su/le-hoi-hue/"].1,
        ["https://example.vn/thoi-su/le-hoi-hue/anh-le-hoi.jpg"]
    );
    // September held only the expired article: no file.
    assert!(built.snapshot.get("/vi/sitemap-2026-09.xml").is_none());
    let everything: String = sitemap_paths(&built).iter().map(|p| text(&built, p)).collect();
    for hidden in ["ban-nhap", "tuong-lai", "het-han"] {
        assert!(!everything.contains(hidden), "{hidden} leaked into a sitemap");
    }
}

/// hreflang links are symmetric: if A lists B, B lists A; x-default is
/// the default language's version.
#[test]
fn hreflang_links_are_symmetric() {
    let config =
        Config::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds.toml"), &Overrides::default())
            .unwrap();
    let store = herald::store::FolderStore::open(&config.store_dir).unwrap();
    let built = pipeline::build(&store, &config, now());
    let mut all = BTreeMap::new();
    for path in sitemap_paths(&built).iter().filter(|p| p.contains("/sitemap-20")) {
        all.extend(urls(&built, path));
    }
    let mut pairs = 0;
    for (loc, (alternates, _)) in &all {
        if alternates.is_empty() {
            continue;
        }
        assert!(alternates.values().any(|href| href == loc), "{loc} does not list itself");
        for (lang, href) in alternates.iter().filter(|(l, _)| *l != "x-default") {
            let (theirs, _) =
                all.get(href).unwrap_or_else(|| panic!("{loc} lists {href} ({lang}), which is in no sitemap"));
            assert!(theirs.values().any(|h| h == loc), "{href} does not list {loc} back");
            assert_eq!(theirs, alternates, "{loc} and {href} disagree on the story's versions");
            pairs += 1;
        }
        assert!(alternates["x-default"] == alternates["vi"], "{loc}: x-default is not the Vietnamese version");
    }
    assert!(pairs >= 16, "the sample store has at least 8 translated stories, found {pairs} links");
}

/// The news sitemap holds what was published in the last 48 hours: an
/// article 47 hours old is in, one 49 hours old is out.
#[test]
fn news_sitemap_window() {
    let store = TempStore::new();
    let at = |hours_ago: i64| (now() - jiff::SignedDuration::from_hours(hours_ago)).to_string();
    store.article("thoi-su/bon-bay-gio.vi.md", "47 giờ trước", &at(47));
    store.article("thoi-su/bon-chin-gio.vi.md", "49 giờ trước", &at(49));
    store.article("thoi-su/moi.en.md", "Fresh", &at(1));
    let built = store.build();
    let news = text(&built, "/sitemap-news.xml");
    assert!(news.contains("<news:title>47 giờ trước</news:title>"), "{news}");
    assert!(!news.contains("49 giờ trước"), "{news}");
    assert!(news.contains("<news:name>Sample News</news:name>\n        <news:language>en</news:language>"), "{news}");
    assert!(news.contains("<news:name>Báo Mẫu</news:name>\n        <news:language>vi</news:language>"), "{news}");
    // The render layer knows when the 47-hour article leaves.
    let config = store.config();
    let next = herald::render::next_change(&built.loaded.catalog, &config).unwrap();
    assert_eq!(next, now() + jiff::SignedDuration::from_hours(1));
    // An hour later it is gone; with nothing recent at all there is no news
    // sitemap (an empty one would be invalid) and the index drops it.
    let later = store.build_at(now() + jiff::SignedDuration::from_hours(2));
    assert!(!text(&later, "/sitemap-news.xml").contains("47 giờ trước"));
    let much_later = store.build_at(now() + jiff::SignedDuration::from_hours(72));
    assert!(much_later.snapshot.get("/sitemap-news.xml").is_none());
    assert!(!text(&much_later, "/sitemap.xml").contains("sitemap-news"));
}

/// Editing an old month's article changes that month's sitemap and the
/// index, and no other sitemap.
#[test]
fn editing_an_old_article_touches_one_month() {
    let store = TempStore::new();
    store.article("thoi-su/cu.vi.md", "Cũ", "2026-09-10T08:00:00+07:00");
    store.article("thoi-su/cu.en.md", "Old", "2026-09-10T09:00:00+07:00");
    store.article("thoi-su/giua.vi.md", "Giữa", "2026-10-10T08:00:00+07:00");
    store.article("thoi-su/moi.vi.md", "Mới", "2026-11-25T08:00:00+07:00");
    let before = store.build();
    store.write("thoi-su/cu.vi.md", "+++\ntitle = \"Cũ (sửa)\"\ndate = 2026-09-10T08:00:00+07:00\nlastmod = 2026-11-26T09:00:00+07:00\nimages = [\"/anh.jpg\"]\n+++\nĐã sửa.\n");
    let after = store.build();
    let changed: Vec<String> =
        before.snapshot.changed_paths(&after.snapshot).into_iter().filter(|p| p.contains("sitemap")).collect();
    assert_eq!(
        changed,
        ["/sitemap.xml", "/sitemap.xml.html", "/vi/sitemap-2026-09.xml", "/vi/sitemap-2026-09.xml.html"]
    );
}

/// A month with more than 50,000 articles splits into valid parts, every
/// article in exactly one part, every part in the index.
#[test]
fn big_month_splits_into_parts() {
    let config = Config::parse(
        &format!("store = \"unused\"\n{TEST_CONFIG}"),
        std::path::Path::new("feeds.toml"),
        &Overrides::default(),
    )
    .unwrap();
    let store = MemoryStore::new();
    let count = 50_001;
    for i in 0..count {
        let minute = i % 60;
        let hour = (i / 60) % 24;
        let day = 1 + (i / 1440) % 28;
        store.insert(
            format!("thoi-su/bai-{i:05}.vi.md"),
            format!("+++\ntitle = \"Bài {i}\"\ndate = 2026-10-{day:02}T{hour:02}:{minute:02}:00+07:00\nsummary = \"x\"\n+++\n"),
        );
    }
    let built = pipeline::build(&store, &config, now());
    assert_eq!(built.loaded.catalog.counts().visible, count);
    let first = urls(&built, "/vi/sitemap-2026-10.xml");
    let second = urls(&built, "/vi/sitemap-2026-10-2.xml");
    assert_eq!(first.len(), 50_000);
    assert_eq!(second.len(), 1);
    assert!(first.keys().all(|k| !second.contains_key(k)));
    let index = text(&built, "/sitemap.xml");
    assert!(index.contains("<loc>https://example.vn/vi/sitemap-2026-10.xml</loc>"));
    assert!(index.contains("<loc>https://example.vn/vi/sitemap-2026-10-2.xml</loc>"));
    // Parts list the month oldest first, so the newest article (computed
    // here from the dates written above, and unique) is alone in the last.
    let written = |i: usize| (1 + (i / 1440) % 28, (i / 60) % 24, i % 60);
    let newest = (0..count).max_by_key(|i| written(*i)).unwrap();
    assert_eq!((0..count).filter(|i| written(*i) == written(newest)).count(), 1);
    assert_eq!(second.keys().collect::<Vec<_>>(), [&format!("https://example.vn/thoi-su/bai-{newest:05}/")]);
    let size = built.snapshot.get("/vi/sitemap-2026-10.xml").unwrap().body.len();
    assert!(size <= herald::render::sitemap::MAX_BYTES);
}

/// noindex keeps an article out of sitemaps, not out of feeds.
#[test]
fn noindex_articles_stay_in_feeds() {
    let store = TempStore::new();
    store.write("thoi-su/an.vi.md", "+++\ntitle = \"Ẩn\"\ndate = 2026-11-25T08:00:00+07:00\nnoindex = true\n+++\n");
    store.write(
        "thoi-su/khong.vi.md",
        "+++\ntitle = \"Không\"\ndate = 2026-11-25T09:00:00+07:00\nsitemap = false\n+++\n",
    );
    store.article("thoi-su/hien.vi.md", "Hiện", "2026-11-25T10:00:00+07:00");
    let built = store.build();
    assert_eq!(titles(&built, "/vi/rss.xml"), ["Hiện", "Không", "Ẩn"]);
    let listed: Vec<String> = urls(&built, "/vi/sitemap-2026-11.xml").into_keys().collect();
    assert_eq!(listed, ["https://example.vn/thoi-su/hien/"]);
    let news = text(&built, "/sitemap-news.xml");
    assert!(
        news.contains("/thoi-su/hien/") && !news.contains("/thoi-su/an/") && !news.contains("/thoi-su/khong/"),
        "{news}"
    );
}

/// robots.txt names the index; `.gz` twins hold the same bytes.
#[test]
fn robots_and_gzip_twins() {
    let mut store = TempStore::new();
    store.extra_config = "[sitemaps]\ngzip = true\nextra_pages = [\"/gioi-thieu/\"]\n".into();
    store.article("thoi-su/a.vi.md", "A", "2026-11-20T08:00:00+07:00");
    let built = store.build();
    assert_eq!(
        text(&built, "/robots.txt"),
        "# Written by herald.\nUser-agent: *\nAllow: /\n\nSitemap: https://example.vn/sitemap.xml\n"
    );
    for path in ["/sitemap.xml", "/vi/sitemap-2026-11.xml", "/sitemap-pages.xml"] {
        let twin = &built.snapshot.get(&format!("{path}.gz")).unwrap().body;
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(twin.as_ref()), &mut plain).unwrap();
        assert_eq!(plain, built.snapshot.get(path).unwrap().body.as_ref(), "{path}.gz");
    }
    assert!(urls(&built, "/sitemap-pages.xml").contains_key("https://example.vn/gioi-thieu/"));
}

/// No document names an XSL stylesheet any more (browsers are removing
/// XSLT and Chromium paints a deprecation banner over pages that use it):
/// each has an HTML view beside it instead, in its language.
#[test]
fn no_stylesheets_but_html_views() {
    let built = build_fixture("basic");
    assert!(text(&built, "/en/rss.xml").starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss"));
    assert!(text(&built, "/vi/atom.xml").starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed"));
    for (path, resource) in built.snapshot.iter() {
        assert!(!path.ends_with(".xsl"), "{path}");
        assert!(!resource.body.windows(15).any(|w| w == b"xml-stylesheet "), "{path}");
    }
    assert!(text(&built, "/en/rss.xml.html").contains("<html lang=\"en\">"));
    assert!(text(&built, "/en/sitemap-2026-11.xml.html").contains("<html lang=\"en\">"));
    assert!(text(&built, "/vi/atom.xml.html").contains("Bài mới nhất"));
}
