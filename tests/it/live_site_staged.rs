//! Staged steps (what the daemon does: live feeds and sitemaps first, the
//! archives after) end in exactly the files of a full build, the live files
//! are right even before the archives are; and a step renders only the
//! documents whose items changed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::common::*;
use herald::config::{Config, Overrides, fill_template};
use herald::pipeline;
use herald::site::{LiveSite, Stage, Start};
use herald::snapshot::{ResourceKind, Snapshot};
use herald::store::{ArticleStore, MemoryStore};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

fn config() -> Arc<Config> {
    // A small item limit, so feeds have archives (RFC 5005).
    let text = format!(
        "store = \"unused\"\n{TEST_CONFIG}\n[sections.kinh-te]\ntitle = \"Kinh tế\"\n\n[feeds]\nitem_limit = 2\n\n[taxonomies.tags]\nmin_articles = 2\n"
    );
    Arc::new(Config::parse(&text, Path::new("feeds.toml"), &Overrides::default()).unwrap())
}

fn article(title: &str, date: &str, extra: &str) -> String {
    format!("+++\ntitle = \"{title}\"\ndate = {date}\n{extra}+++\nBody of {title}.\n")
}

/// Whether `path` is an archive document or an archive index (what a
/// staged step leaves for later).
fn is_archive(path: &str, snapshots: [&Snapshot; 2], config: &Config) -> bool {
    let index = |lang: &str| fill_template(&config.archives.index_path, &[("lang", lang)]);
    snapshots.iter().any(|s| s.get(path).is_some_and(|r| matches!(r.kind, ResourceKind::Archive { .. })))
        || config
            .languages
            .iter()
            .any(|l| index(&l.code) == path || herald::render::view::twin_path(&index(&l.code)) == path)
}

/// Every term feed and its view a full build of the store's documents at
/// `now` holds (what a deferred start renders after the others).
fn term_files(
    documents: &std::collections::BTreeMap<String, Vec<u8>>,
    config: &Config,
    now: Timestamp,
) -> std::collections::HashSet<String> {
    let store = MemoryStore::new();
    for (path, bytes) in documents {
        store.insert(path.as_str(), bytes.clone());
    }
    let full = pipeline::build(&store, config, now);
    let mut out = std::collections::HashSet::new();
    for scope in herald::render::scope::term_scopes(&full.loaded.catalog, config) {
        for format in herald::render::FeedFormat::ALL {
            let path = scope.path(format, config);
            out.insert(herald::render::view::twin_path(&path));
            out.insert(path);
        }
    }
    out
}

/// Whether `path`, which differs from a full build in `site`, may: it is an
/// archive document, or a term feed (or its view) the site does not hold
/// yet while its term feeds are pending. A file the site holds is never
/// allowed to be wrong but for the archives.
fn may_lag(path: &str, site: &LiveSite, expected: &Snapshot, terms: &std::collections::HashSet<String>) -> bool {
    is_archive(path, [site.snapshot(), expected], site.config())
        || (site.terms_pending() && terms.contains(path) && site.snapshot().get(path).is_none())
}

/// A full build of the store's documents at `now`, with the index page the
/// daemon adds.
fn full_build(documents: &std::collections::BTreeMap<String, Vec<u8>>, config: &Config, now: Timestamp) -> Snapshot {
    let store = MemoryStore::new();
    for (path, bytes) in documents {
        store.insert(path.as_str(), bytes.clone());
    }
    let full = pipeline::build(&store, config, now);
    let mut expected = full.snapshot;
    let (path, page) = herald::render::html::index_page(&full.loaded.catalog, config, &Default::default());
    expected.insert(path, page);
    expected
}

/// One change to the store (always valid documents: the last good version
/// of broken ones is the business of tests/it/live_site.rs).
#[derive(Debug, Clone)]
enum Edit {
    Write { path: String, title: String, day: u8, month: u8, extra: &'static str },
    Delete { path: String },
    Tick { hours: i64 },
}

fn paths() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("thoi-su/a.vi.md"),
        Just("thoi-su/a.en.md"),
        Just("thoi-su/b.vi.md"),
        Just("thoi-su/f.vi.md"),
        Just("kinh-te/c.vi.md"),
        Just("kinh-te/c.en.md"),
        Just("kinh-te/d.en.md"),
        Just("kinh-te/g.vi.md"),
    ]
    .prop_map(String::from)
}

fn edits() -> impl Strategy<Value = Edit> {
    prop_oneof![
        5 => (paths(), "[A-Za-zà-ỹ]{1,8}", 1u8..=28, 9u8..=11, prop_oneof![
            Just(""),
            Just("draft = true\n"),
            Just("lastmod = 2026-11-26T10:00:00+07:00\n"),
            Just("publishDate = 2026-11-27T06:00:00+07:00\n"),
            Just("noindex = true\n"),
            Just("slug = \"khac\"\n"),
            Just("translationKey = \"chung\"\n"),
            Just("images = [\"/anh.jpg\"]\n"),
            // Taxonomies: spellings of one tag (case, NFD input) that fold
            // to one feed whose title follows the most used, authors with
            // `đ`, a category; tags need two articles for a feed.
            Just("tags = [\"Lễ hội\", \"Huế\"]\n"),
            Just("tags = [\"lễ hội\"]\nauthors = [\"Đặng Ân\"]\n"),
            Just("tags = [\"LE\u{302}\u{303} HO\u{323}\u{302}I\", \"huế\"]\ncategories = [\"Văn hoá\"]\n"),
            Just("authors = [\"dang an\"]\ncategories = [\"văn hoá\"]\n"),
        ]).prop_map(|(path, title, day, month, extra)| Edit::Write { path, title, day, month, extra }),
        1 => paths().prop_map(|path| Edit::Delete { path }),
        1 => (1i64..40).prop_map(|hours| Edit::Tick { hours }),
    ]
}

/// What to do with the archives after a staged step.
#[derive(Debug, Clone, Copy)]
enum Then {
    /// Leave them pending.
    Wait,
    /// Complete those of one feed.
    Some,
    /// Complete them all.
    All,
}

fn thens() -> impl Strategy<Value = Then> {
    prop_oneof![Just(Then::Wait), Just(Then::Some), Just(Then::All)]
}

/// Applies `edits` as staged steps, doing with the archives after each what
/// it says, and checks after each step that every file but the archives
/// equals a full build, and after each completion that every file does.
fn staged_equals_full(edits: &[(Edit, Then)], deferred_start: bool) -> Result<(), TestCaseError> {
    let config = config();
    let store = Arc::new(MemoryStore::new());
    let mut documents: std::collections::BTreeMap<String, Vec<u8>> = [
        ("thoi-su/a.vi.md", article("Một", "2026-11-20T08:00:00+07:00", "tags = [\"Lễ hội\"]\n")),
        ("thoi-su/a.en.md", article("One", "2026-11-20T09:00:00+07:00", "")),
        ("thoi-su/b.vi.md", article("Hai", "2026-10-20T09:00:00+07:00", "tags = [\"lễ hội\"]\n")),
        ("kinh-te/c.vi.md", article("Ba", "2026-10-05T09:00:00+07:00", "")),
        ("kinh-te/g.vi.md", article("Bốn", "2026-09-05T09:00:00+07:00", "")),
    ]
    .into_iter()
    .map(|(p, t)| (p.to_string(), t.into_bytes()))
    .collect();
    for (path, bytes) in &documents {
        store.insert(path.as_str(), bytes.clone());
    }
    let mut now = now();
    let mut site = if deferred_start {
        // As `herald serve` starts on a large store: the archives after.
        let site = LiveSite::start(
            Arc::clone(&config),
            store.clone() as Arc<dyn ArticleStore>,
            now,
            Start::LiveFirst { from_documents: 0 },
        );
        prop_assert!(site.archives_pending());
        prop_assert!(site.terms_pending(), "the term feeds were rendered at once");
        let expected = full_build(&documents, &config, now);
        let terms = term_files(&documents, &config, now);
        prop_assert!(terms.contains("/vi/tags/le-hoi/rss.xml"), "{terms:?}");
        prop_assert!(site.snapshot().get("/vi/tags/le-hoi/rss.xml").is_none(), "the tag feed was rendered at once");
        let differing: Vec<String> = site.snapshot().changed_paths(&expected);
        prop_assert!(
            differing.iter().all(|p| may_lag(p, &site, &expected, &terms)),
            "at the start, files besides the archives and term feeds differ: {differing:?}"
        );
        prop_assert!(!differing.is_empty(), "the archives were rendered at once");
        site
    } else {
        LiveSite::start(Arc::clone(&config), store.clone() as Arc<dyn ArticleStore>, now, Start::Whole)
    };
    for (edit, then) in edits {
        match edit {
            Edit::Write { path, title, day, month, extra } => {
                let bytes = article(title, &format!("2026-{month:02}-{day:02}T08:00:00+07:00"), extra).into_bytes();
                store.insert(path.as_str(), bytes.clone());
                documents.insert(path.clone(), bytes);
                site.apply(&[PathBuf::from(path)], now, Stage::LiveFirst);
            }
            Edit::Delete { path } => {
                store.remove(Path::new(path));
                documents.remove(path);
                site.apply(&[PathBuf::from(path)], now, Stage::LiveFirst);
            }
            Edit::Tick { hours } => {
                now += SignedDuration::from_hours(*hours);
                site.advance(now, Stage::LiveFirst);
            }
        }
        let expected = full_build(&documents, &config, now);
        let terms = term_files(&documents, &config, now);
        let differing: Vec<String> = site
            .snapshot()
            .changed_paths(&expected)
            .into_iter()
            .filter(|p| !may_lag(p, &site, &expected, &terms))
            .collect();
        prop_assert!(differing.is_empty(), "after {edit:?}, before the archives: {differing:?} differ");
        match then {
            Then::Wait => {}
            Then::Some => {
                // An update comes back exactly when the last archives are done.
                let finished = site.complete_some_archives().is_some();
                prop_assert_eq!(finished, !site.archives_pending(), "complete_some_archives after {:?}", edit);
            }
            Then::All => {
                site.complete_archives();
                prop_assert!(!site.archives_pending(), "archives still pending after complete_archives");
            }
        }
        // A site that says its archives are complete holds a full build's
        // archives too; one that does not holds at least its live files.
        let complete = !site.archives_pending();
        let differing: Vec<String> = site
            .snapshot()
            .changed_paths(&expected)
            .into_iter()
            .filter(|p| complete || !may_lag(p, &site, &expected, &terms))
            .collect();
        prop_assert!(complete || site.archives_pending() || !site.terms_pending());
        prop_assert!(differing.is_empty(), "after {edit:?} and {then:?}: {differing:?} differ");
    }
    site.complete_archives();
    let expected = full_build(&documents, &config, now);
    let differing = site.snapshot().changed_paths(&expected);
    prop_assert!(differing.is_empty(), "at the end: {differing:?} differ from a full build");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn staged_updates_equal_a_full_build(
        edits in proptest::collection::vec((edits(), thens()), 1..12),
        deferred_start in any::<bool>(),
    ) {
        staged_equals_full(&edits, deferred_start)?;
    }
}

/// A start that leaves the term feeds and the archives for later ends, once
/// they are done, in exactly the files of a full start; a store smaller
/// than the threshold is rendered whole at once.
#[test]
fn a_deferred_start_completes_to_a_full_start() {
    let store = Arc::new(MemoryStore::new());
    for (n, month) in [(1, 9), (2, 10), (3, 10), (4, 11), (5, 11)] {
        store.insert(
            format!("thoi-su/bai-{n}.vi.md").as_str(),
            article(&format!("Bài {n}"), &format!("2026-{month:02}-0{n}T08:00:00+07:00"), "tags = [\"Huế\"]\n"),
        );
    }
    let tag = "/vi/tags/hue/rss.xml";
    let full = LiveSite::start(config(), store.clone() as Arc<dyn ArticleStore>, now(), Start::Whole);
    let mut deferred = LiveSite::start(
        config(),
        store.clone() as Arc<dyn ArticleStore>,
        now(),
        Start::LiveFirst { from_documents: 5 },
    );
    assert!(deferred.archives_pending());
    assert!(deferred.snapshot().len() < full.snapshot().len());
    // The term feeds are left out too, and come first.
    assert!(full.snapshot().get(tag).is_some());
    assert!(deferred.terms_pending());
    assert!(deferred.snapshot().get(tag).is_none(), "the tag feed was rendered before serving");
    let mut chunks = 0;
    while deferred.complete_some_archives().is_none() {
        chunks += 1;
        assert!(chunks < 100, "the archive work does not end");
        if chunks == 1 {
            assert!(!deferred.terms_pending(), "a small site's term feeds come in one portion");
            assert_eq!(deferred.snapshot().get(tag).map(|r| &r.body), full.snapshot().get(tag).map(|r| &r.body));
        }
    }
    assert!(chunks > 1);
    assert!(!deferred.archives_pending());
    assert_eq!(deferred.snapshot().changed_paths(full.snapshot()), Vec::<String>::new());
    assert_eq!(deferred.snapshot().len(), full.snapshot().len());

    let whole =
        LiveSite::start(config(), store as Arc<dyn ArticleStore>, now(), Start::LiveFirst { from_documents: 6 });
    assert!(!whole.archives_pending(), "5 documents, threshold 6: rendered whole");
    assert_eq!(whole.snapshot().changed_paths(full.snapshot()), Vec::<String>::new());
}

/// A site with three Vietnamese articles in one section (two fit the live
/// feeds) and an English translation of the newest.
fn three_articles() -> (Arc<MemoryStore>, LiveSite) {
    let store = Arc::new(MemoryStore::new());
    store.insert("thoi-su/moi.vi.md", article("Mới", "2026-11-20T08:00:00+07:00", ""));
    store.insert("thoi-su/moi.en.md", article("New", "2026-11-20T09:00:00+07:00", ""));
    store.insert("thoi-su/vua.vi.md", article("Vừa", "2026-11-10T08:00:00+07:00", ""));
    store.insert("thoi-su/cu.vi.md", article("Cũ", "2026-09-10T08:00:00+07:00", ""));
    let site = LiveSite::start(config(), store.clone() as Arc<dyn ArticleStore>, now(), Start::Whole);
    (store, site)
}

/// Whether the step kept the very file it had at `path` (not rendered
/// again), comparing `before` with the site's current file.
fn kept(site: &LiveSite, before: &Snapshot, path: &str) -> bool {
    match (before.get(path), site.snapshot().get(path)) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

/// An edit to an article older than every live feed's items renders no
/// live feed again, only its archive month and sitemap.
#[test]
fn an_edit_to_an_old_article_does_not_render_the_live_feeds() {
    let (store, mut site) = three_articles();
    let before = site.snapshot().clone();
    store.insert(
        "thoi-su/cu.vi.md",
        article("Cũ (sửa)", "2026-09-10T08:00:00+07:00", "lastmod = 2026-11-26T10:00:00+07:00\n"),
    );
    let update = site.apply(&[PathBuf::from("thoi-su/cu.vi.md")], now(), Stage::Whole);
    for path in ["/rss.xml", "/atom.xml", "/feed.json", "/vi/rss.xml", "/vi/thoi-su/rss.xml", "/vi/thoi-su/feed.json"] {
        assert!(kept(&site, &before, path), "{path} was rendered again");
    }
    assert!(update.changed_paths.contains(&"/vi/thoi-su/archive/2026-09.rss.xml".to_string()), "{update:?}");
    assert!(update.changed_paths.contains(&"/vi/sitemap-2026-09.xml".to_string()), "{update:?}");
    assert!(!update.changed_paths.iter().any(|p| p.ends_with("rss.xml") && !p.contains("/archive/")), "{update:?}");
    // The November archive does not show it either.
    assert!(kept(&site, &before, "/vi/thoi-su/archive/2026-11.rss.xml"));
}

/// A title edit of an article with a translation leaves the translation's
/// feeds and sitemap alone (they link to its address, not its title); a
/// new address renders them again.
#[test]
fn a_title_edit_leaves_the_translations_files_alone() {
    let (store, mut site) = three_articles();
    let before = site.snapshot().clone();
    store.insert("thoi-su/moi.vi.md", article("Mới (sửa)", "2026-11-20T08:00:00+07:00", ""));
    let update = site.apply(&[PathBuf::from("thoi-su/moi.vi.md")], now(), Stage::Whole);
    assert!(update.changed_paths.contains(&"/vi/rss.xml".to_string()), "{update:?}");
    for path in ["/en/rss.xml", "/en/thoi-su/atom.xml", "/en/sitemap-2026-11.xml", "/vi/sitemap-2026-11.xml"] {
        assert!(kept(&site, &before, path), "{path} was rendered again");
    }

    let before = site.snapshot().clone();
    store.insert("thoi-su/moi.vi.md", article("Mới (sửa)", "2026-11-20T08:00:00+07:00", "slug = \"moi-hon\"\n"));
    let update = site.apply(&[PathBuf::from("thoi-su/moi.vi.md")], now(), Stage::Whole);
    // Atom entries and sitemaps link to the translations (RSS items do not).
    for path in ["/en/atom.xml", "/en/thoi-su/atom.xml", "/en/sitemap-2026-11.xml", "/vi/sitemap-2026-11.xml"] {
        assert!(update.changed_paths.contains(&path.to_string()), "{path} not changed: {update:?}");
    }
    assert!(!kept(&site, &before, "/en/rss.xml"));
}

/// A staged step serves the live feeds and sitemaps at once and leaves the
/// archives, which `complete_archives` then brings up to date.
#[test]
fn a_staged_step_leaves_the_archives_for_later() {
    let (store, mut site) = three_articles();
    store.insert("thoi-su/moi.vi.md", article("Mới (sửa)", "2026-11-20T08:00:00+07:00", ""));
    let update = site.apply(&[PathBuf::from("thoi-su/moi.vi.md")], now(), Stage::LiveFirst);
    assert!(site.archives_pending());
    assert!(update.changed_paths.contains(&"/vi/thoi-su/rss.xml".to_string()), "{update:?}");
    assert!(!update.changed_paths.iter().any(|p| p.contains("/archive")), "{update:?}");
    let archive = |site: &LiveSite| {
        String::from_utf8(site.snapshot().get("/vi/thoi-su/archive/2026-11.rss.xml").unwrap().body.to_vec()).unwrap()
    };
    assert!(!archive(&site).contains("Mới (sửa)"));

    let rest = site.complete_archives();
    assert!(!site.archives_pending());
    assert!(rest.articles.is_empty());
    assert!(rest.changed_paths.contains(&"/vi/thoi-su/archive/2026-11.rss.xml".to_string()), "{rest:?}");
    assert!(archive(&site).contains("Mới (sửa)"));
    assert!(site.complete_archives().changed_paths.is_empty());
}

/// Two staged steps before the archives are completed: the archive work of
/// both is done.
#[test]
fn staged_steps_add_up() {
    let edits = [
        (Edit::Write { path: "kinh-te/g.vi.md".into(), title: "x".into(), day: 3, month: 9, extra: "" }, Then::Wait),
        (Edit::Write { path: "thoi-su/f.vi.md".into(), title: "y".into(), day: 4, month: 10, extra: "" }, Then::Some),
        (Edit::Delete { path: "thoi-su/b.vi.md".into() }, Then::All),
    ];
    // Also after a start that left every archive for later.
    for deferred_start in [false, true] {
        staged_equals_full(&edits, deferred_start).unwrap();
    }
}

/// The archives can be completed one feed at a time: nothing is reported
/// until the last, which reports every archive file that changed.
#[test]
fn archives_complete_one_feed_at_a_time() {
    let (store, mut site) = three_articles();
    store.insert("thoi-su/moi.vi.md", article("Mới (sửa)", "2026-11-20T08:00:00+07:00", ""));
    site.apply(&[PathBuf::from("thoi-su/moi.vi.md")], now(), Stage::LiveFirst);
    // The site, Vietnamese and section feeds have archives to redo.
    let mut chunks = 1;
    let update = loop {
        match site.complete_some_archives() {
            Some(update) => break update,
            None => chunks += 1,
        }
    };
    assert_eq!(chunks, 3);
    assert!(!site.archives_pending());
    for path in ["/archive/2026-11.rss.xml", "/vi/archive/2026-11.atom.xml", "/vi/thoi-su/archive/2026-11.feed.json"] {
        assert!(update.changed_paths.contains(&path.to_string()), "{path} not reported: {update:?}");
    }
}

/// Warming up (what the daemon does after a full build) changes no file,
/// queues the newest archive months, and leaves later steps exact.
#[test]
fn warming_up_changes_nothing() {
    let (store, mut site) = three_articles();
    let before = site.snapshot().clone();
    site.warm_up();
    assert!(site.archives_pending());
    assert!(site.complete_archives().changed_paths.is_empty());
    assert!(before.changed_paths(site.snapshot()).is_empty());
    store.insert("thoi-su/vua.vi.md", article("Vừa (sửa)", "2026-11-10T08:00:00+07:00", ""));
    let update = site.apply(&[PathBuf::from("thoi-su/vua.vi.md")], now(), Stage::Whole);
    assert!(update.changed_paths.contains(&"/vi/thoi-su/archive/2026-11.rss.xml".to_string()), "{update:?}");
}

/// The freed heap memory is given back once the archives a live-first start
/// left are complete, and not after an edit's archive work (the trim walks
/// the whole heap: tens of milliseconds on the site loop per edit).
#[test]
fn memory_is_released_after_the_start_archives_not_after_each_edit() {
    let store = Arc::new(MemoryStore::new());
    for n in 1..=5 {
        store.insert(
            format!("thoi-su/bai-{n}.vi.md").as_str(),
            article(&format!("Bài {n}"), &format!("2026-11-0{n}T08:00:00+07:00"), ""),
        );
    }
    let mut site = LiveSite::start(
        config(),
        store.clone() as Arc<dyn ArticleStore>,
        now(),
        Start::LiveFirst { from_documents: 5 },
    );
    assert!(site.archives_pending());
    assert_eq!(site.stats().memory_releases, 0);
    site.complete_archives();
    assert_eq!(site.stats().memory_releases, 1, "not released after the start's archives");

    store.insert("thoi-su/bai-5.vi.md", article("Bài 5 (sửa)", "2026-11-05T08:00:00+07:00", ""));
    site.apply(&[PathBuf::from("thoi-su/bai-5.vi.md")], now(), Stage::LiveFirst);
    assert!(site.archives_pending());
    site.complete_archives();
    assert_eq!(site.stats().memory_releases, 1, "released again after an edit's archive work");
}
