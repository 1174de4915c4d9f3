//! Tag, author and category feeds: one per term and language, terms folded
//! to slugs as sections are (case, Vietnamese marks, `đ`, NFC or NFD
//! input), titled by the most used spelling, with `min_articles`, each
//! taxonomy switchable, paths configurable, and RFC 5005 archives like any
//! feed.

use crate::common::*;

/// An article of `lang` in `thoi-su` dated `day` of November with
/// `front` (front matter lines).
fn tagged(store: &TempStore, slug: &str, day: u8, front: &str) {
    let lang = if slug.ends_with("-en") { "en" } else { "vi" };
    store.write(
        &format!("thoi-su/{slug}.{lang}.md"),
        format!("+++\ntitle = \"{slug}\"\ndate = 2026-11-{day:02}T08:00:00+07:00\n{front}+++\nBody.\n"),
    );
}

/// The index page `herald serve` serves for `built`.
fn index_page(built: &herald::pipeline::Built, config: &herald::config::Config) -> String {
    let (_, page) = herald::render::html::index_page(&built.loaded.catalog, config, &Default::default());
    String::from_utf8(page.body.to_vec()).unwrap()
}

/// The feed documents (not their HTML views) whose path starts with `prefix`.
fn feed_paths(built: &herald::pipeline::Built, prefix: &str) -> Vec<String> {
    built
        .snapshot
        .iter()
        .filter(|(p, r)| p.starts_with(prefix) && r.kind == herald::snapshot::ResourceKind::Feed)
        .map(|(p, _)| p.clone())
        .collect()
}

/// `Lễ hội`, `lễ hội`, `LỄ HỘI` written in NFD and `Lễ Hội` are one tag,
/// `le-hoi`, titled by the spelling most articles use; `đ` folds to `d`;
/// `herald check` names the other spellings.
#[test]
fn spellings_fold_to_one_feed_titled_by_the_most_used() {
    let store = TempStore::new();
    tagged(&store, "a", 20, "tags = [\"Lễ hội\", \"Đà Nẵng\"]\n");
    tagged(&store, "b", 19, "tags = [\"lễ hội\"]\n");
    tagged(&store, "c", 18, "tags = [\"LE\u{302}\u{303} HO\u{323}\u{302}I\"]\n");
    tagged(&store, "d", 17, "tags = [\"Lễ hội\", \"đà nẵng\"]\n");
    tagged(&store, "e", 16, "tags = [\"Lễ Hội\"]\n");
    let built = store.build();
    let feed = parse_feed(&built, "/vi/tags/le-hoi/rss.xml");
    assert_eq!(feed.title.unwrap().content, "Lễ hội – Báo Mẫu");
    assert_eq!(feed.entries.len(), 5);
    assert_eq!(titles(&built, "/vi/tags/da-nang/atom.xml"), ["a", "d"]);
    assert!(text(&built, "/vi/tags/le-hoi/feed.json").contains("\"title\": \"Lễ hội – Báo Mẫu\""));
    assert_eq!(
        feed_paths(&built, "/vi/tags/").len(),
        6,
        "two tags, three formats: {:?}",
        feed_paths(&built, "/vi/tags/")
    );

    let warnings: Vec<String> = built.loaded.diagnostics.iter().map(|d| d.to_string()).collect();
    let variants: Vec<&String> = warnings.iter().filter(|w| w.contains("is also written")).collect();
    assert_eq!(variants.len(), 2, "{warnings:?}");
    assert!(
        variants.iter().any(|w| w.contains("b.vi.md: warning: tag `Lễ hội` (2) is also written `LỄ HỘI` (1), `Lễ Hội` (1), `lễ hội` (1): one feed, /vi/tags/le-hoi/rss.xml, titled `Lễ hội`")),
        "{variants:?}"
    );
    // A tie goes to the spelling first by code point: `Đà Nẵng` (U+0110)
    // before `đà nẵng` (U+0111).
    assert_eq!(parse_feed(&built, "/vi/tags/da-nang/rss.xml").title.unwrap().content, "Đà Nẵng – Báo Mẫu");
}

/// A term is a feed per language: the same tag in English is another
/// feed, and authors and categories get feeds too.
#[test]
fn terms_are_per_language_and_per_taxonomy() {
    let store = TempStore::new();
    tagged(&store, "a", 20, "tags = [\"Huế\"]\nauthors = [\"Đặng Thùy Trâm\"]\ncategories = [\"Văn hoá\"]\n");
    tagged(&store, "a-en", 20, "tags = [\"Hue\"]\nauthors = [\"Dang Thuy Tram\"]\n");
    let built = store.build();
    assert_eq!(titles(&built, "/vi/tags/hue/rss.xml"), ["a"]);
    assert_eq!(titles(&built, "/en/tags/hue/rss.xml"), ["a-en"]);
    assert_eq!(titles(&built, "/vi/authors/dang-thuy-tram/rss.xml"), ["a"]);
    assert_eq!(titles(&built, "/en/authors/dang-thuy-tram/rss.xml"), ["a-en"]);
    assert_eq!(titles(&built, "/vi/categories/van-hoa/rss.xml"), ["a"]);
}

/// `min_articles` keeps terms with fewer articles out; switching a
/// taxonomy off removes its feeds and OPML list; paths follow the
/// configuration.
#[test]
fn min_articles_switches_and_paths() {
    let mut store = TempStore::new();
    tagged(&store, "a", 20, "tags = [\"Huế\", \"bão\"]\nauthors = [\"An\"]\n");
    tagged(&store, "b", 19, "tags = [\"Huế\"]\nauthors = [\"An\"]\n");
    store.extra_config = "[taxonomies.tags]\nmin_articles = 2\n".into();
    let built = store.build();
    assert!(built.snapshot.get("/vi/tags/hue/rss.xml").is_some());
    assert!(built.snapshot.get("/vi/tags/bao/rss.xml").is_none(), "one article is below min_articles = 2");
    assert!(!text(&built, "/vi/tags.opml").contains("/bao/"));

    store.extra_config = "[taxonomies]\nmin_articles = 3\n".into();
    let built = store.build();
    assert!(feed_paths(&built, "/vi/tags/").is_empty() && feed_paths(&built, "/vi/authors/").is_empty());
    assert!(built.snapshot.get("/vi/tags.opml").is_none(), "no term feeds, no list");

    store.extra_config = "[taxonomies.authors]\nenabled = false\n".into();
    let built = store.build();
    assert!(feed_paths(&built, "/vi/authors").is_empty(), "{:?}", feed_paths(&built, "/vi/authors"));
    assert!(built.snapshot.get("/vi/tags/bao/rss.xml").is_some());
    assert!(!index_page(&built, &store.config()).contains("/vi/authors/"));

    store.extra_config = "[taxonomies.tags]\nrss = \"/{lang}/chu-de/{term}.rss\"\n\
                          archive_path = \"/{lang}/chu-de/{term}/{month}.{ext}\"\n"
        .into();
    let built = store.build();
    assert_eq!(titles(&built, "/vi/chu-de/hue.rss"), ["a", "b"]);
    assert!(built.snapshot.get("/vi/tags/hue/atom.xml").is_some(), "atom keeps its default");
    assert!(text(&built, "/vi/tags.opml").contains("https://example.vn/vi/chu-de/hue.rss"));
}

/// A term feed with more articles than `item_limit` has RFC 5005 monthly
/// archives, linked from the live feed and listed in the archive index.
#[test]
fn term_feeds_have_archives() {
    let mut store = TempStore::new();
    store.extra_config = "[feeds]\nitem_limit = 2\n".into();
    for (slug, month) in [("a", 11), ("b", 11), ("c", 10), ("d", 9)] {
        store.write(
            &format!("thoi-su/{slug}.vi.md"),
            format!(
                "+++\ntitle = \"{slug}\"\ndate = 2026-{month:02}-10T08:00:00+07:00\ntags = [\"Bão lũ\"]\n+++\nBody.\n"
            ),
        );
    }
    let built = store.build();
    assert_eq!(titles(&built, "/vi/tags/bao-lu/rss.xml"), ["a", "b"]);
    let live = text(&built, "/vi/tags/bao-lu/atom.xml");
    assert!(live.contains("href=\"https://example.vn/vi/tags/bao-lu/archive/2026-11.atom.xml\""), "{live}");
    assert_eq!(titles(&built, "/vi/tags/bao-lu/archive/2026-10.rss.xml"), ["c"]);
    assert_eq!(titles(&built, "/vi/tags/bao-lu/archive/2026-09.feed.json"), ["d"]);
    let archive = text(&built, "/vi/tags/bao-lu/archive/2026-10.atom.xml");
    assert!(archive.contains("<title>Bão lũ – Báo Mẫu (2026-10)</title>"), "{archive}");
    assert!(archive.contains("rel=\"prev-archive\"") && archive.contains("rel=\"next-archive\""), "{archive}");
    assert!(text(&built, "/vi/archive.xml").contains("https://example.vn/vi/tags/bao-lu/archive/2026-10.rss.xml"));
}

/// Term feeds are feeds: the served files carry the hub `Link` headers and
/// are WebSub topics, as they are `ResourceKind::Feed`.
#[test]
fn term_feeds_are_feeds() {
    let store = TempStore::new();
    tagged(&store, "a", 20, "tags = [\"Huế\"]\n");
    let built = store.build();
    let feed = built.snapshot.get("/vi/tags/hue/rss.xml").unwrap();
    assert_eq!(feed.kind, herald::snapshot::ResourceKind::Feed);
    assert_eq!(feed.content_type, "application/rss+xml; charset=utf-8");
}

/// The index page lists term feeds in closed, filterable lists, most used
/// first, without announcing each in `<head>`.
#[test]
fn the_index_page_lists_terms_in_closed_lists() {
    let store = TempStore::new();
    tagged(&store, "a", 20, "tags = [\"Huế\", \"bão\"]\n");
    tagged(&store, "b", 19, "tags = [\"bão\"]\n");
    let page = index_page(&store.build(), &store.config());
    let list = page.split("<details class=\"terms\">").nth(1).expect("a list of tags");
    assert!(list.starts_with("\n<summary>Thẻ (2)</summary>"), "{list}");
    let bao = list.find("/vi/tags/bao/rss.xml").unwrap();
    let hue = list.find("/vi/tags/hue/rss.xml").unwrap();
    assert!(bao < hue, "most used first");
    assert!(list.contains("class=\"term-filter\""));
    let head = page.split("</head>").next().unwrap();
    assert!(!head.contains("/tags/"), "term feeds are not announced in <head>");
    assert!(head.contains("rel=\"outline\" type=\"text/x-opml\""));
    assert!(page.contains("https://example.vn/vi/tags.opml"));
}

/// With 5,000 tags the index page stays usable: the tags are one closed
/// list with a filter box, not 5,000 table rows, and the page stays small
/// enough to load at once.
#[test]
fn the_index_page_stays_usable_with_5000_tags() {
    use herald::store::MemoryStore;
    let store = TempStore::new();
    let config = store.config();
    let memory = MemoryStore::new();
    for n in 0..1_000 {
        let tags: Vec<String> = (0..5).map(|k| format!("\"chủ đề {}\"", n * 5 + k)).collect();
        memory.insert(
            format!("thoi-su/bai-{n}.vi.md").as_str(),
            format!(
                "+++\ntitle = \"Bài {n}\"\ndate = 2026-11-20T08:00:00+07:00\ntags = [{}]\n+++\nBody.\n",
                tags.join(", ")
            ),
        );
    }
    let loaded = herald::pipeline::load(&memory, &config, now());
    let (_, page) = herald::render::html::index_page(&loaded.catalog, &config, &Default::default());
    let page = String::from_utf8(page.body.to_vec()).unwrap();
    assert_eq!(page.matches("<details class=\"terms\">").count(), 1, "closed: no `open` attribute");
    assert!(page.contains("<summary>Thẻ (5000)</summary>"));
    assert_eq!(page.matches("<li data-slug=\"chu-de-").count(), 5_000);
    assert!(page.matches("<tr>").count() < 10, "feeds of languages and sections only in the table");
    assert!(page.len() < 800_000, "{} bytes", page.len());
}
