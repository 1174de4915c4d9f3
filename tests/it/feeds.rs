//! `herald build` turns a store into RSS 2.0, Atom 1.0 and JSON Feed 1.1
//! feeds for the site, each language and each section in each language:
//! the right articles, in the right order, with the right fields, the same
//! bytes every time.

use crate::common::*;

/// The site, each language, each (language, section) and each (language,
/// tag or author) with articles get all three formats, and there are no
/// other feeds.
#[test]
fn every_scope_gets_three_formats() {
    let built = build_fixture("basic");
    let paths: Vec<&str> = built
        .snapshot
        .iter()
        .filter(|(_, r)| r.kind == herald::snapshot::ResourceKind::Feed)
        .map(|(p, _)| p.as_str())
        .collect();
    let mut expected = vec![];
    let terms = [
        "/vi/tags/mua-lu",
        "/vi/tags/hue",
        "/en/tags/trade",
        "/vi/authors/nguyen-van-an",
        "/vi/authors/tran-thi-bich",
        "/en/authors/nguyen-van-an",
    ];
    let sections = ["", "/vi", "/en", "/vi/thoi-su", "/en/thoi-su", "/vi/kinh-te", "/en/kinh-te"];
    for base in sections.into_iter().chain(terms) {
        for file in ["rss.xml", "atom.xml", "feed.json"] {
            expected.push(format!("{base}/{file}"));
        }
    }
    expected.sort();
    assert_eq!(paths, expected);
}

/// Drafts, future-dated and expired articles are left out; the rest come
/// newest first.
#[test]
fn only_visible_articles_newest_first() {
    let built = build_fixture("basic");
    assert_eq!(titles(&built, "/vi/rss.xml"), ["Mưa lũ ở Huế: đường ngập sâu", "Giá lúa tăng", "Lễ hội Huế khai mạc"]);
    assert_eq!(titles(&built, "/rss.xml"), titles(&built, "/vi/rss.xml"));
    assert_eq!(titles(&built, "/vi/thoi-su/atom.xml"), ["Mưa lũ ở Huế: đường ngập sâu", "Lễ hội Huế khai mạc"]);
    assert_eq!(
        titles(&built, "/en/feed.json"),
        ["Floods in Hue: streets under water", "Rice & coffee: \"record\" year < 2025 peak"]
    );
    let counts = built.loaded.catalog.counts();
    assert_eq!((counts.visible, counts.drafts, counts.scheduled, counts.expired), (5, 1, 1, 1));
}

/// Every field of an RSS item, read back with a real parser (feed-rs) and
/// with the rss crate.
#[test]
fn rss_items_carry_every_field() {
    let built = build_fixture("basic");
    let xml = text(&built, "/vi/thoi-su/rss.xml");
    let channel = rss::Channel::read_from(xml.as_bytes()).unwrap();
    assert_eq!(channel.title, "Thời sự – Báo Mẫu");
    assert_eq!(channel.link, "https://example.vn/thoi-su/");
    assert_eq!(channel.language.as_deref(), Some("vi"));
    assert_eq!(channel.last_build_date.as_deref(), Some("Fri, 20 Nov 2026 08:30:00 +0700"));
    assert_eq!(channel.image.as_ref().unwrap().url, "https://example.vn/logo.png");
    let self_link = &channel.atom_ext.as_ref().unwrap().links[0];
    assert_eq!((self_link.rel.as_str(), self_link.href.as_str()), ("self", "https://example.vn/vi/thoi-su/rss.xml"));

    let item = &channel.items[0];
    assert_eq!(item.link.as_deref(), Some("https://example.vn/thoi-su/mua-lu/"));
    let guid = item.guid.as_ref().unwrap();
    assert_eq!(guid.value, "tag:example.vn,2026:vi/thoi-su/mua-lu");
    assert!(!guid.permalink);
    assert_eq!(item.pub_date.as_deref(), Some("Fri, 20 Nov 2026 08:30:00 +0700"));
    assert_eq!(item.description.as_deref(), Some("Nhiều tuyến đường ngập sâu sau đêm mưa lớn."));
    assert_eq!(item.dublin_core_ext.as_ref().unwrap().creators, ["Nguyễn Văn An", "Trần Thị Bích"]);
    let categories: Vec<&str> = item.categories.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(categories, ["Thời sự", "mưa lũ", "Huế"]);
    let content = item.content.as_deref().unwrap();
    assert!(content.contains("<strong>Huế</strong>"), "{content}");
    assert!(content.contains("<h2>Ứng phó</h2>"), "{content}");
    assert!(content.contains("<figcaption>Đội cứu hộ làm việc trong đêm</figcaption>"), "{content}");
    assert!(content.contains("src=\"https://example.vn/thoi-su/mua-lu/cuu-ho.jpg\""), "{content}");
    assert!(content.contains("href=\"https://example.vn/thoi-su/tin-khac/\""), "{content}");

    let media = &item.extensions["media"]["content"][0];
    assert_eq!(media.attrs["url"], "https://example.vn/images/mua-lu.jpg");
    assert_eq!(media.attrs["type"], "image/jpeg");
    assert_eq!(media.children["description"][0].value.as_deref(), Some("Đường Lê Lợi ngập nước"));
    assert!(xml.contains("xmlns:media=\"http://search.yahoo.com/mrss/\""));

    let parsed = parse_feed(&built, "/vi/thoi-su/rss.xml");
    assert_eq!(parsed.entries[0].id, "tag:example.vn,2026:vi/thoi-su/mua-lu");
    assert_eq!(parsed.entries[0].published.unwrap().to_rfc3339(), "2026-11-20T01:30:00+00:00");
}

/// Atom entries: stable id, published/updated with the site offset,
/// authors, summary, html content, one alternate link and hreflang
/// translation links,
/// categories, xml:lang.
#[test]
fn atom_entries_carry_every_field() {
    let built = build_fixture("basic");
    let xml = text(&built, "/vi/atom.xml");
    assert!(xml.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:fh=\"http://purl.org/syndication/history/1.0\" xml:lang=\"vi\">"), "{xml}");
    assert!(xml.contains("<fh:complete/>"), "a feed that holds every article says so: {xml}");
    assert!(xml.contains("<updated>2026-11-20T08:30:00+07:00</updated>"), "{xml}");
    let feed = atom_syndication::Feed::read_from(xml.as_bytes()).unwrap();
    assert_eq!(feed.id, "https://example.vn/vi/atom.xml");
    assert!(feed.links.iter().any(|l| l.rel == "self" && l.href == "https://example.vn/vi/atom.xml"));
    let entry = &feed.entries[0];
    assert_eq!(entry.id, "tag:example.vn,2026:vi/thoi-su/mua-lu");
    assert_eq!(entry.published.unwrap().to_rfc3339(), "2026-11-20T08:30:00+07:00");
    assert_eq!(entry.authors.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["Nguyễn Văn An", "Trần Thị Bích"]);
    assert_eq!(entry.content.as_ref().unwrap().content_type.as_deref(), Some("html"));
    assert_eq!(entry.title.lang.as_deref(), Some("vi"));
    // One alternate, the entry's own page; the translation is `related`.
    let links: Vec<(&str, Option<&str>, &str)> = entry
        .links
        .iter()
        .filter(|l| l.rel != "enclosure")
        .map(|l| (l.rel.as_str(), l.hreflang.as_deref(), l.href.as_str()))
        .collect();
    assert_eq!(
        links,
        [
            ("alternate", Some("vi"), "https://example.vn/thoi-su/mua-lu/"),
            ("related", Some("en"), "https://example.vn/en/thoi-su/mua-lu/")
        ]
    );
    assert_eq!(entry.categories[0].term, "thoi-su");
    assert_eq!(entry.categories[0].label.as_deref(), Some("Thời sự"));

    // lastmod later than date becomes `updated`.
    let en = atom_syndication::Feed::read_from(text(&built, "/en/atom.xml").as_bytes()).unwrap();
    let export = en.entries.iter().find(|e| e.title.value.starts_with("Rice")).unwrap();
    assert_eq!(export.updated.to_rfc3339(), "2026-11-19T09:00:00+07:00");
    // A local date without offset is read in the site's zone.
    assert_eq!(export.published.unwrap().to_rfc3339(), "2026-11-18T14:00:00+07:00");
}

/// JSON Feed 1.1 members.
#[test]
fn json_feed_members() {
    let built = build_fixture("basic");
    let feed: serde_json::Value = serde_json::from_str(&text(&built, "/vi/thoi-su/feed.json")).unwrap();
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(feed["feed_url"], "https://example.vn/vi/thoi-su/feed.json");
    assert_eq!(feed["home_page_url"], "https://example.vn/thoi-su/");
    assert_eq!(feed["language"], "vi");
    let item = &feed["items"][0];
    assert_eq!(item["id"], "tag:example.vn,2026:vi/thoi-su/mua-lu");
    assert_eq!(item["url"], "https://example.vn/thoi-su/mua-lu/");
    assert_eq!(item["image"], "https://example.vn/images/mua-lu.jpg");
    assert_eq!(item["date_published"], "2026-11-20T08:30:00+07:00");
    assert!(item.get("date_modified").is_none());
    assert_eq!(item["authors"][1]["name"], "Trần Thị Bích");
    assert_eq!(item["tags"], serde_json::json!(["mưa lũ", "Huế"]));
    assert!(item["content_html"].as_str().unwrap().contains("<h2>Ứng phó</h2>"));
    // The page bundle's relative image resolves against its permalink.
    let bundle = &feed["items"][1];
    assert_eq!(bundle["image"], "https://example.vn/thoi-su/le-hoi-hue/anh-le-hoi.jpg");
    // A summary derived from the first paragraph when none is given.
    assert_eq!(bundle["summary"], "Lễ hội khai mạc tại Đại Nội.");
}

/// Scripts, event handlers and javascript: URLs never reach a feed;
/// `&`, `<` and quotes in titles are escaped, not lost.
#[test]
fn markup_is_escaped_and_sanitised() {
    let built = build_fixture("basic");
    let xml = text(&built, "/en/kinh-te/rss.xml");
    assert!(!xml.contains("<script") && !xml.contains("&lt;script"), "{xml}");
    assert!(!xml.contains("javascript:"), "{xml}");
    assert!(!xml.contains("onclick"), "{xml}");
    assert!(xml.contains("<title>Rice &amp; coffee: &quot;record&quot; year &lt; 2025 peak</title>"), "{xml}");
    let feed = parse_feed(&built, "/en/kinh-te/atom.xml");
    assert_eq!(feed.entries[0].title.as_ref().unwrap().content, "Rice & coffee: \"record\" year < 2025 peak");
}

/// The same store at the same instant gives byte-identical files.
#[test]
fn builds_are_deterministic() {
    let a = build_fixture("basic");
    let b = build_fixture("basic");
    assert_eq!(a.snapshot, b.snapshot);
    // A copy of the store in another folder, files written in another order.
    let copy = TempStore::new();
    let mut files: Vec<_> = walk(&fixture("basic").join("store"));
    files.reverse();
    for (rel, bytes) in files {
        copy.write(&rel, bytes);
    }
    let config_text = std::fs::read_to_string(fixture("basic").join("feeds.toml")).unwrap();
    std::fs::write(copy.dir.path().join("feeds.toml"), config_text).unwrap();
    let config = herald::config::Config::load(&copy.dir.path().join("feeds.toml"), &Default::default()).unwrap();
    let store = herald::store::FolderStore::open(&config.store_dir).unwrap();
    let c = herald::pipeline::build(&store, &config, now());
    assert_eq!(a.snapshot, c.snapshot);
}

fn walk(root: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Editing an article's title and date keeps its guid/id: readers must not
/// see it twice.
#[test]
fn ids_survive_title_and_date_edits() {
    let store = TempStore::new();
    store.article("thoi-su/bai-viet.vi.md", "Tiêu đề cũ", "2026-11-20T08:00:00+07:00");
    let before = parse_feed(&store.build(), "/vi/rss.xml");
    store.article("thoi-su/bai-viet.vi.md", "Tiêu đề mới hoàn toàn", "2026-11-21T09:00:00+07:00");
    let after = parse_feed(&store.build(), "/vi/rss.xml");
    assert_eq!(before.entries[0].id, after.entries[0].id);
    assert_eq!(after.entries[0].id, "tag:example.vn,2026:vi/thoi-su/bai-viet");
    assert_ne!(before.entries[0].title, after.entries[0].title);
}

/// Items are limited per feed; ties on date are broken by id.
#[test]
fn item_limit_and_tie_break() {
    let mut store = TempStore::new();
    store.extra_config = "[feeds]\nitem_limit = 3\n".into();
    for slug in ["e", "c", "a", "d", "b"] {
        store.article(&format!("thoi-su/{slug}.vi.md"), slug, "2026-11-20T08:00:00+07:00");
    }
    store.article("thoi-su/newest.vi.md", "newest", "2026-11-21T08:00:00+07:00");
    let built = store.build();
    assert_eq!(titles(&built, "/vi/rss.xml"), ["newest", "a", "b"]);
    assert_eq!(titles(&built, "/vi/feed.json"), ["newest", "a", "b"]);
}

/// Vietnamese in NFD becomes NFC; characters XML forbids are dropped; the
/// slug of a non-slug file name is folded.
#[test]
fn unicode_is_normalised() {
    use unicode_normalization::UnicodeNormalization;
    let store = TempStore::new();
    // TOML refuses raw control characters, but its escapes can still
    // produce them.
    let title: String = "Ngành Tuyên giáo \\u000Bđạt kết quả".nfd().collect();
    store.write(
        "thoi-su/Đồn Biên phòng.vi.md",
        format!("+++\ntitle = \"{title}\"\ndate = 2026-11-20T08:00:00+07:00\n+++\nNội dung\u{1}.\n"),
    );
    let built = store.build();
    assert!(built.loaded.diagnostics.iter().all(|d| !d.is_error()), "{:?}", built.loaded.diagnostics);
    let xml = text(&built, "/vi/rss.xml");
    assert!(xml.contains("<title>Ngành Tuyên giáo đạt kết quả</title>"), "{xml}");
    assert!(!xml.contains('\u{b}') && !xml.contains('\u{1}'));
    assert!(xml.contains("<link>https://example.vn/thoi-su/don-bien-phong/</link>"), "{xml}");
}

/// A section folder not declared in feeds.toml still gets feeds, titled by
/// its slug.
#[test]
fn undeclared_section_gets_feeds() {
    let store = TempStore::new();
    store.article("giao-duc/bai.vi.md", "Bài", "2026-11-20T08:00:00+07:00");
    let built = store.build();
    let feed = parse_feed(&built, "/vi/giao-duc/rss.xml");
    assert_eq!(feed.title.unwrap().content, "giao-duc – Báo Mẫu");
    assert!(built.loaded.diagnostics.iter().any(|d| !d.is_error() && d.message.contains("`giao-duc` is not declared")));
}

/// YAML front matter, JSON articles and `body_html` all work like TOML.
#[test]
fn yaml_and_json_articles() {
    let store = TempStore::new();
    store.write(
        "thoi-su/yaml.vi.md",
        "---\ntitle: Bài YAML\ndate: 2026-11-20T08:00:00+07:00\ntags: [a, b]\n---\nThân bài.\n",
    );
    store.write(
        "thoi-su/json.en.json",
        r#"{"title": "JSON story", "date": "2026-11-21T08:00:00+07:00", "authors": ["A"], "body": "Some *markdown*."}"#,
    );
    store.write(
        "thoi-su/html.en.json",
        r#"{"title": "HTML story", "date": "2026-11-19T08:00:00+07:00", "body_html": "<p>Raw <b>html</b><script>x</script></p>"}"#,
    );
    let built = store.build();
    assert!(built.loaded.diagnostics.iter().all(|d| !d.is_error()), "{:?}", built.loaded.diagnostics);
    assert_eq!(titles(&built, "/vi/rss.xml"), ["Bài YAML"]);
    let feed: serde_json::Value = serde_json::from_str(&text(&built, "/en/feed.json")).unwrap();
    assert_eq!(feed["items"][0]["content_html"], "<p>Some <em>markdown</em>.</p>");
    assert_eq!(feed["items"][1]["content_html"], "<p>Raw <b>html</b></p>");
}

/// Summary-only feeds carry no body.
#[test]
fn summary_mode_leaves_bodies_out() {
    let mut store = TempStore::new();
    store.extra_config = "[feeds]\ncontent = \"summary\"\n".into();
    store.write(
        "thoi-su/a.vi.md",
        "+++\ntitle = \"A\"\ndate = 2026-11-20T08:00:00+07:00\nsummary = \"Tóm tắt\"\n+++\nThân bài dài.\n",
    );
    let built = store.build();
    let xml = text(&built, "/vi/rss.xml");
    assert!(!xml.contains("content:encoded"), "{xml}");
    let feed: serde_json::Value = serde_json::from_str(&text(&built, "/vi/feed.json")).unwrap();
    assert_eq!(feed["items"][0]["content_text"], "Tóm tắt");
    assert!(feed["items"][0].get("content_html").is_none());
}

/// A site-wide feed may hold every language.
#[test]
fn site_feed_can_hold_all_languages() {
    let mut store = TempStore::new();
    store.extra_config = "[feeds]\nsite_scope = \"all_languages\"\n".into();
    store.article("thoi-su/a.vi.md", "Tiếng Việt", "2026-11-20T08:00:00+07:00");
    store.article("thoi-su/a.en.md", "English", "2026-11-21T08:00:00+07:00");
    assert_eq!(titles(&store.build(), "/rss.xml"), ["English", "Tiếng Việt"]);
}

/// An article of the basic fixture as its file says it, for the expected
/// feeds: written here by reading tests/fixtures/basic/store, not taken
/// from the catalog under test.
struct Expected {
    lang: &'static str,
    section: &'static str,
    slug: &'static str,
    title: &'static str,
    date: &'static str,
    authors: &'static [&'static str],
    tags: &'static [&'static str],
    summary: &'static str,
}

/// The visible articles of the basic fixture at [`now`] (a draft, an
/// expired and a scheduled one left out), newest first.
const BASIC_VISIBLE: [Expected; 5] = [
    Expected {
        lang: "en",
        section: "thoi-su",
        slug: "mua-lu",
        title: "Floods in Hue: streets under water",
        date: "2026-11-20T10:00:00+07:00",
        authors: &["Nguyen Van An"],
        tags: &[],
        summary: "After a night of heavy rain, many streets in Hue were flooded.",
    },
    Expected {
        lang: "vi",
        section: "thoi-su",
        slug: "mua-lu",
        title: "Mưa lũ ở Huế: đường ngập sâu",
        date: "2026-11-20T08:30:00+07:00",
        authors: &["Nguyễn Văn An", "Trần Thị Bích"],
        tags: &["mưa lũ", "Huế"],
        summary: "Nhiều tuyến đường ngập sâu sau đêm mưa lớn.",
    },
    Expected {
        lang: "vi",
        section: "kinh-te",
        slug: "gia-lua",
        title: "Giá lúa tăng",
        date: "2026-11-18T14:00:00+07:00",
        authors: &[],
        tags: &[],
        summary: "Giá lúa tăng mạnh trong tuần.",
    },
    Expected {
        lang: "en",
        section: "kinh-te",
        slug: "xuat-khau",
        title: "Rice & coffee: \"record\" year < 2025 peak",
        // Written without an offset: the site's time zone.
        date: "2026-11-18T14:00:00+07:00",
        authors: &[],
        tags: &["trade"],
        summary: "Exports rose sharply.",
    },
    Expected {
        lang: "vi",
        section: "thoi-su",
        slug: "le-hoi-hue",
        title: "Lễ hội Huế khai mạc",
        date: "2026-10-05T19:00:00+07:00",
        authors: &[],
        tags: &[],
        summary: "Lễ hội khai mạc tại Đại Nội.",
    },
];

/// Every feed file, parsed back by an independent parser (feed-rs), holds
/// exactly its scope's articles as the fixture's files give them, newest
/// first, each once, with their ids, titles, links, dates, authors and
/// summaries; and every scope that should have feeds has them.
#[test]
fn every_feed_parses_back_to_its_articles() {
    use herald::config::Taxonomy;
    use herald::render::{FeedFormat, FeedScope, feed::feed_scopes};
    let built = build_fixture("basic");
    let config = fixture_config("basic");
    let scopes = feed_scopes(&built.loaded.catalog, &config);
    let section = |lang: &str, section: &str| FeedScope::Section { lang: lang.into(), section: section.into() };
    let term = |lang: &str, taxonomy, slug: &str| {
        FeedScope::Term(herald::catalog::Term { lang: lang.into(), taxonomy, slug: slug.into() })
    };
    let wanted = [
        FeedScope::Site,
        FeedScope::Language("vi".into()),
        FeedScope::Language("en".into()),
        section("vi", "thoi-su"),
        section("vi", "kinh-te"),
        section("en", "thoi-su"),
        section("en", "kinh-te"),
        term("vi", Taxonomy::Tags, "mua-lu"),
        term("vi", Taxonomy::Tags, "hue"),
        term("en", Taxonomy::Tags, "trade"),
        term("vi", Taxonomy::Authors, "nguyen-van-an"),
        term("vi", Taxonomy::Authors, "tran-thi-bich"),
        term("en", Taxonomy::Authors, "nguyen-van-an"),
    ];
    assert_eq!(scopes.len(), wanted.len(), "{scopes:?}");
    assert!(wanted.iter().all(|scope| scopes.contains(scope)), "{scopes:?}");
    let mut checked = 0;
    for scope in &wanted {
        let expected: Vec<&Expected> = BASIC_VISIBLE
            .iter()
            .filter(|e| match scope {
                // The site feeds hold the default language.
                FeedScope::Site => e.lang == "vi",
                FeedScope::Language(lang) => lang == e.lang,
                FeedScope::Section { lang, section } => lang == e.lang && section == e.section,
                FeedScope::Term(term) => {
                    let terms = match term.taxonomy {
                        herald::config::Taxonomy::Tags => e.tags,
                        herald::config::Taxonomy::Authors => e.authors,
                        herald::config::Taxonomy::Categories => &[],
                    };
                    term.lang == e.lang && terms.iter().any(|t| herald::text::slugify(t) == term.slug)
                }
            })
            .collect();
        assert!(!expected.is_empty());
        for format in FeedFormat::ALL {
            let path = scope.path(format, &config);
            let feed = parse_feed(&built, &path);
            let ids: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
            let expected_ids: Vec<String> =
                expected.iter().map(|e| format!("tag:example.vn,2026:{}/{}/{}", e.lang, e.section, e.slug)).collect();
            assert_eq!(ids, expected_ids, "{path}");
            for (entry, article) in feed.entries.iter().zip(&expected) {
                let prefix = if article.lang == "vi" { String::new() } else { format!("{}/", article.lang) };
                let url = format!("https://example.vn/{prefix}{}/{}/", article.section, article.slug);
                assert_eq!(entry.title.as_ref().unwrap().content, article.title, "{path}");
                assert_eq!(entry.links[0].href, url, "{path}");
                let date: jiff::Timestamp = article.date.parse().unwrap();
                assert_eq!(entry.published.unwrap().timestamp(), date.as_second(), "{path}");
                let authors: Vec<&str> = entry.authors.iter().filter_map(|a| a.name.as_deref()).collect();
                if article.authors.is_empty() {
                    // Atom and JSON Feed items without authors take the
                    // feed's (the site); RSS items have none.
                    let site = if article.lang == "vi" { "Báo Mẫu" } else { "Sample News" };
                    assert!(authors.is_empty() || authors == [site], "{path}: {authors:?}");
                } else {
                    assert_eq!(authors, article.authors, "{path}");
                }
                assert_eq!(entry.summary.as_ref().unwrap().content, article.summary, "{path}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 39);
}

/// Every Atom entry of every feed has exactly one `rel="alternate"` link,
/// its own page, and feed-rs (like rss-parser and gofeed, which keep the
/// first link) and a last-alternate reader (feedparser) agree on it.
#[test]
fn every_atom_entry_links_its_own_page_only() {
    let built = build_fixture("basic");
    let mut checked = 0;
    for (path, resource) in built.snapshot.iter().filter(|(p, _)| p.ends_with("atom.xml")) {
        let own = atom_syndication::Feed::read_from(resource.body.as_ref()).unwrap();
        let parsed = feed_rs::parser::parse(resource.body.as_ref()).unwrap();
        for (entry, read) in own.entries.iter().zip(&parsed.entries) {
            let alternates: Vec<&str> =
                entry.links.iter().filter(|l| l.rel == "alternate").map(|l| l.href.as_str()).collect();
            assert_eq!(alternates.len(), 1, "{path}: {}: {alternates:?}", entry.id);
            let lang_prefix = if entry.title.lang.as_deref() == Some("en") { "/en/" } else { "/" };
            assert!(alternates[0].starts_with(&format!("https://example.vn{lang_prefix}")), "{path}: {alternates:?}");
            assert!(lang_prefix == "/en/" || !alternates[0].starts_with("https://example.vn/en/"), "{path}");
            assert_eq!(read.links[0].href, alternates[0], "{path}: feed-rs's first link");
            checked += 1;
        }
    }
    assert!(checked > 10, "{checked} entries checked");
}
