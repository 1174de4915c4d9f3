//! The daemon's incremental updates give exactly the files a full build
//! gives, and touch only what the change concerns.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::common::*;
use herald::config::{Config, Overrides};
use herald::pipeline;
use herald::site::{LiveSite, Stage, Start};
use herald::store::{ArticleStore, MemoryStore};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

fn config() -> Arc<Config> {
    // A small item limit, so feeds have archives (RFC 5005) to keep right.
    let text = format!(
        "store = \"unused\"\n{TEST_CONFIG}\n[sections.kinh-te]\ntitle = \"Kinh tế\"\n\n[feeds]\nitem_limit = 2\n\n[taxonomies.tags]\nmin_articles = 2\n"
    );
    Arc::new(Config::parse(&text, Path::new("feeds.toml"), &Overrides::default()).unwrap())
}

fn article(title: &str, date: &str, extra: &str) -> String {
    format!("+++\ntitle = \"{title}\"\ndate = {date}\n{extra}+++\nBody of {title}.\n")
}

/// One edit to the store.
#[derive(Debug, Clone)]
enum Edit {
    Write {
        path: String,
        title: String,
        day: u8,
        extra: &'static str,
    },
    Break {
        path: String,
    },
    Delete {
        path: String,
    },
    /// A rename, applied as one batch of the two paths (as the watcher
    /// reports it), in either order.
    Move {
        from: String,
        to: String,
        reversed: bool,
    },
    /// Deleting a whole folder, reported as the folder's path.
    DeleteFolder {
        folder: String,
    },
    Tick {
        hours: i64,
    },
}

fn paths() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("thoi-su/a.vi.md"),
        Just("thoi-su/a.en.md"),
        Just("thoi-su/b.vi.md"),
        Just("kinh-te/c.vi.md"),
        Just("kinh-te/c.en.md"),
        Just("kinh-te/d.en.md"),
        Just("giao-duc/e.vi.md"),
        Just("thoi-su/a/index.vi.md"),
    ]
    .prop_map(String::from)
}

fn edits() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (paths(), "[A-Za-zà-ỹ ]{1,12}", 1u8..=28, prop_oneof![
            Just(""),
            Just("draft = true\n"),
            Just("expiryDate = 2026-11-27T00:00:00+07:00\n"),
            Just("publishDate = 2026-11-27T06:00:00+07:00\n"),
            Just("lastmod = 2026-11-26T10:00:00+07:00\n"),
            Just("noindex = true\n"),
            Just("images = [\"/anh.jpg\"]\n"),
            Just("id = \"same\"\n"),
            // Taxonomies: spellings of one tag (case, NFD input) that fold
            // to one feed whose title follows the most used, authors with
            // `đ`, a category; tags need two articles for a feed.
            Just("tags = [\"Lễ hội\", \"Huế\"]\n"),
            Just("tags = [\"lễ hội\"]\nauthors = [\"Đặng Ân\"]\n"),
            Just("tags = [\"LE\u{302}\u{303} HO\u{323}\u{302}I\", \"huế\"]\ncategories = [\"Văn hoá\"]\n"),
            Just("authors = [\"dang an\"]\ncategories = [\"văn hoá\"]\n"),
        ]).prop_map(|(path, title, day, extra)| Edit::Write { path, title, day, extra }),
        1 => paths().prop_map(|path| Edit::Break { path }),
        1 => paths().prop_map(|path| Edit::Delete { path }),
        1 => (paths(), paths(), any::<bool>()).prop_map(|(from, to, reversed)| Edit::Move { from, to, reversed }),
        1 => prop_oneof![Just("thoi-su"), Just("kinh-te"), Just("giao-duc")].prop_map(|f| Edit::DeleteFolder { folder: f.to_string() }),
        1 => (1i64..40).prop_map(|hours| Edit::Tick { hours }),
    ]
}

/// Applies `edits` one by one to a live site and checks, after each, that
/// its files equal a full build of the same store at the same instant.
fn incremental_equals_full(edits: &[Edit]) -> Result<(), TestCaseError> {
    incremental_equals_full_kept(edits, false)
}

/// [`incremental_equals_full`], with a file cache when `on_disk`: then,
/// after each edit, every file of a tag, author or category feed, every
/// HTML view and every past month is on disk holding the full build's
/// bytes, and the site, language and section feeds and the sitemaps are
/// in memory.
fn incremental_equals_full_kept(edits: &[Edit], on_disk: bool) -> Result<(), TestCaseError> {
    let config = config();
    let store = Arc::new(MemoryStore::new());
    store.insert("thoi-su/a.vi.md", article("Một", "2026-11-20T08:00:00+07:00", ""));
    store.insert("thoi-su/a.en.md", article("One", "2026-11-20T09:00:00+07:00", ""));
    store.insert("kinh-te/c.vi.md", article("Ba", "2026-10-05T09:00:00+07:00", ""));
    let mut now = now();
    let mut site = LiveSite::start(Arc::clone(&config), store.clone() as Arc<dyn ArticleStore>, now, Start::Whole);
    let cache_dir = tempfile::tempdir().unwrap();
    if on_disk {
        site.keep_past_archives_in(herald::file_cache::FileCache::open(cache_dir.path()).unwrap());
    }
    // Broken documents keep their last good version in the live site; the
    // full build below cannot know it, so it gets the same good version.
    let mut last_good: std::collections::BTreeMap<String, Vec<u8>> = Default::default();
    for (path, bytes) in [("thoi-su/a.vi.md", 0), ("thoi-su/a.en.md", 1), ("kinh-te/c.vi.md", 2)] {
        let _ = bytes;
        let live = site.catalog().by_source(Path::new(path)).is_some();
        prop_assert!(live);
    }
    let mut documents: std::collections::BTreeMap<String, Vec<u8>> = [
        ("thoi-su/a.vi.md".to_string(), article("Một", "2026-11-20T08:00:00+07:00", "").into_bytes()),
        ("thoi-su/a.en.md".to_string(), article("One", "2026-11-20T09:00:00+07:00", "").into_bytes()),
        ("kinh-te/c.vi.md".to_string(), article("Ba", "2026-10-05T09:00:00+07:00", "").into_bytes()),
    ]
    .into_iter()
    .collect();
    last_good.extend(documents.clone());

    for edit in edits {
        match edit {
            Edit::Write { path, title, day, extra } => {
                let bytes = article(title.trim(), &format!("2026-11-{day:02}T08:00:00+07:00"), extra).into_bytes();
                store.insert(path.as_str(), bytes.clone());
                documents.insert(path.clone(), bytes.clone());
                if !title.trim().is_empty() {
                    last_good.insert(path.clone(), bytes);
                }
                site.apply(&[PathBuf::from(path)], now, Stage::Whole);
            }
            Edit::Break { path } => {
                let bytes = b"+++\ntitle = \"x\"\ndate = = nope\n+++\n".to_vec();
                store.insert(path.as_str(), bytes.clone());
                documents.insert(path.clone(), bytes);
                site.apply(&[PathBuf::from(path)], now, Stage::Whole);
            }
            Edit::Delete { path } => {
                store.remove(Path::new(path));
                documents.remove(path);
                last_good.remove(path);
                site.apply(&[PathBuf::from(path)], now, Stage::Whole);
            }
            Edit::Move { from, to, reversed } => {
                if from == to {
                    continue;
                }
                if let Some(bytes) = documents.remove(from) {
                    store.remove(Path::new(from));
                    store.insert(to.as_str(), bytes.clone());
                    documents.insert(to.clone(), bytes.clone());
                    // "Last good" belongs to a path: moving broken bytes
                    // over a path leaves that path's last good version.
                    if last_good.remove(from).as_ref() == Some(&bytes) {
                        last_good.insert(to.clone(), bytes);
                    }
                    let mut batch = vec![PathBuf::from(from), PathBuf::from(to)];
                    if *reversed {
                        batch.reverse();
                    }
                    site.apply(&batch, now, Stage::Whole);
                }
            }
            Edit::DeleteFolder { folder } => {
                let gone: Vec<String> =
                    documents.keys().filter(|p| p.starts_with(&format!("{folder}/"))).cloned().collect();
                for path in gone {
                    store.remove(Path::new(&path));
                    documents.remove(&path);
                    last_good.remove(&path);
                }
                site.apply(&[PathBuf::from(folder)], now, Stage::Whole);
            }
            Edit::Tick { hours } => {
                now += SignedDuration::from_hours(*hours);
                site.advance(now, Stage::Whole);
            }
        }
        // The full build sees each document's last good version.
        let reference = MemoryStore::new();
        for (path, bytes) in &documents {
            let good = last_good.get(path).unwrap_or(bytes);
            reference.insert(path.as_str(), good.clone());
        }
        let full = pipeline::build(&reference, &config, now);
        let mut expected = full.snapshot;
        let (path, page) = herald::render::html::index_page(&full.loaded.catalog, &config, &Default::default());
        expected.insert(path, page);
        let differing = site.snapshot().changed_paths(&expected);
        if let Some(path) = differing.first().filter(|_| std::env::var("DEBUG_DIFF").is_ok()) {
            let show = |s: &herald::snapshot::Snapshot| {
                s.get(path).map(|r| String::from_utf8_lossy(&r.body).into_owned()).unwrap_or_default()
            };
            eprintln!("LIVE {path}:\n{}\nFULL:\n{}", show(site.snapshot()), show(&expected));
        }
        prop_assert!(differing.is_empty(), "after {edit:?}: {differing:?} differ from a full build");
        if on_disk {
            for (path, full) in expected.iter() {
                let live = site.snapshot().get(path).unwrap();
                let term = ["/tags/", "/authors/", "/categories/"].iter().any(|t| path.contains(t));
                let cold = term || (path.ends_with(".html") && path != "/index.html");
                let kept = cold || full.kind == herald::snapshot::ResourceKind::Archive { past: true };
                prop_assert_eq!(live.stored.is_some(), kept, "after {:?}: {} on disk?", edit, path);
                prop_assert_eq!(live.bytes().unwrap(), full.body.clone(), "after {:?}: {}", edit, path);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn incremental_updates_equal_a_full_build(edits in proptest::collection::vec(edits(), 1..12)) {
        incremental_equals_full(&edits)?;
    }

    #[test]
    fn incremental_updates_with_files_on_disk_equal_a_full_build(edits in proptest::collection::vec(edits(), 1..12)) {
        incremental_equals_full_kept(&edits, true)?;
    }
}

/// An edit to a Vietnamese article in one section changes that section's,
/// the language's and the site's feeds and its month's sitemap, and not
/// the English feeds or other sections.
#[test]
fn an_edit_touches_only_its_files() {
    let config = config();
    let store = Arc::new(MemoryStore::new());
    store.insert("thoi-su/a.vi.md", article("Một", "2026-11-20T08:00:00+07:00", ""));
    store.insert("kinh-te/c.vi.md", article("Ba", "2026-10-05T09:00:00+07:00", ""));
    store.insert("kinh-te/d.en.md", article("Four", "2026-10-06T09:00:00+07:00", ""));
    let mut site = LiveSite::start(Arc::clone(&config), store.clone() as Arc<dyn ArticleStore>, now(), Start::Whole);
    store.insert("thoi-su/a.vi.md", article("Một (sửa)", "2026-11-20T08:00:00+07:00", ""));
    let update = site.apply(&[PathBuf::from("thoi-su/a.vi.md")], now(), Stage::Whole);
    let mut expected: Vec<String> = Vec::new();
    for base in ["", "/vi", "/vi/thoi-su"] {
        for file in ["rss.xml", "atom.xml", "feed.json"] {
            expected.push(format!("{base}/{file}"));
            expected.push(format!("{base}/{file}.html"));
        }
    }
    expected.sort();
    // Each feed's HTML view changes with it. Sitemaps list URLs and the index page lists feeds, not titles: a title
    // edit leaves them alone.
    assert_eq!(update.changed_paths, expected);
    assert_eq!(update.articles.updated.len(), 1);
}

/// A scheduled article whose file breaks before its time comes is
/// published, when its time comes, complete: its last good version, body
/// included. (Found by the property test above.)
#[test]
fn scheduled_article_broken_before_its_time_keeps_its_body() {
    incremental_equals_full(&[
        Edit::Write {
            path: "giao-duc/e.vi.md".into(),
            title: "à".into(),
            day: 27,
            extra: "publishDate = 2026-11-27T06:00:00+07:00\n",
        },
        Edit::Break { path: "giao-duc/e.vi.md".into() },
        Edit::Tick { hours: 20 },
    ])
    .unwrap();
}

/// Nothing changes when nothing changed: re-reading an unchanged file, or
/// a full rebuild of an unchanged store, announces no article and no file.
#[test]
fn no_op_steps_change_nothing() {
    let config = config();
    let store = Arc::new(MemoryStore::new());
    store.insert("thoi-su/a.vi.md", article("Một", "2026-11-20T08:00:00+07:00", ""));
    let mut site = LiveSite::start(Arc::clone(&config), store.clone() as Arc<dyn ArticleStore>, now(), Start::Whole);
    let update = site.apply(&[PathBuf::from("thoi-su/a.vi.md")], now(), Stage::Whole);
    assert!(update.changed_paths.is_empty() && update.articles.is_empty(), "{update:?}");
    let update = site.rebuild(now());
    assert!(update.changed_paths.is_empty() && update.articles.is_empty(), "{update:?}");
    let later: Timestamp = now() + SignedDuration::from_hours(1);
    let update = site.advance(later, Stage::Whole);
    assert!(update.changed_paths.is_empty(), "{update:?}");
}

/// Follower counts (ActivityPub) are data the index page is rendered from:
/// new counts change the index page alone, at the next step, exactly as a
/// full build given the same counts renders it; the same counts again
/// change nothing, and a rebuild keeps them.
#[test]
fn follower_counts_change_the_index_page_alone() {
    let text = format!("store = \"unused\"\n{TEST_CONFIG}\n[activitypub]\nenabled = true\n");
    let config = Arc::new(Config::parse(&text, Path::new("feeds.toml"), &Overrides::default()).unwrap());
    let store = Arc::new(MemoryStore::new());
    store.insert("thoi-su/a.vi.md", article("Một", "2026-11-20T08:00:00+07:00", ""));
    let mut site = LiveSite::start(Arc::clone(&config), store.clone() as Arc<dyn ArticleStore>, now(), Start::Whole);
    let index = |site: &LiveSite| String::from_utf8(site.snapshot().get("/index.html").unwrap().body.to_vec()).unwrap();
    assert!(index(&site).contains("@thoi-su@example.vn</a> · <span class=\"followers\">0 người theo dõi"));
    let counts = herald::render::html::FollowerCounts::from([("thoi-su".to_string(), 2), ("vi".to_string(), 1)]);
    assert!(site.set_follower_counts(counts.clone()));
    let update = site.advance(now(), Stage::LiveFirst);
    assert_eq!(update.changed_paths, ["/index.html"]);
    assert!(index(&site).contains("@thoi-su@example.vn</a> · <span class=\"followers\">2 người theo dõi"));
    assert!(index(&site).contains("@vi@example.vn</a> · <span class=\"followers\">1 người theo dõi"));
    let full = pipeline::build(store.as_ref(), &config, now());
    let (_, page) = herald::render::html::index_page(&full.loaded.catalog, &config, &counts);
    assert_eq!(site.snapshot().get("/index.html").unwrap().etag, page.etag, "as a full build renders it");
    assert!(!site.set_follower_counts(counts));
    assert!(site.advance(now(), Stage::LiveFirst).changed_paths.is_empty());
    assert!(site.rebuild(now()).changed_paths.is_empty(), "a rebuild shows the same counts");
}

/// Turning an article into a page bundle (same id) in one batch, new path
/// first: the article stays published and no duplicate is reported.
/// (Review finding: a refused duplicate was never retried.)
#[test]
fn rename_into_a_bundle_keeps_the_article() {
    let config = config();
    let store = Arc::new(MemoryStore::new());
    store.insert("thoi-su/bai.vi.md", article("Bài", "2026-11-20T08:00:00+07:00", ""));
    let mut site = LiveSite::start(Arc::clone(&config), store.clone() as Arc<dyn ArticleStore>, now(), Start::Whole);
    store.remove(Path::new("thoi-su/bai.vi.md"));
    store.insert("thoi-su/bai/index.vi.md", article("Bài", "2026-11-20T08:00:00+07:00", ""));
    site.apply(&[PathBuf::from("thoi-su/bai/index.vi.md"), PathBuf::from("thoi-su/bai.vi.md")], now(), Stage::Whole);
    assert_eq!(site.counts().visible, 1);
    assert!(site.problems().is_empty(), "{:?}", site.problems());
    assert!(site.catalog().by_source(Path::new("thoi-su/bai/index.vi.md")).is_some());
}

/// When the holder of a duplicated id is deleted, the other document takes
/// the id and is published.
#[test]
fn duplicate_is_admitted_when_the_holder_goes() {
    let config = config();
    let store = Arc::new(MemoryStore::new());
    store.insert("thoi-su/a.vi.md", article("A", "2026-11-20T08:00:00+07:00", "id = \"same\"\n"));
    store.insert("thoi-su/b.vi.md", article("B", "2026-11-21T08:00:00+07:00", "id = \"same\"\n"));
    let mut site = LiveSite::start(Arc::clone(&config), store.clone() as Arc<dyn ArticleStore>, now(), Start::Whole);
    assert_eq!(site.problems().len(), 1);
    assert!(site.problems()[0].to_string().contains("b.vi.md: error: id `same` is already used by thoi-su/a.vi.md"));
    store.remove(Path::new("thoi-su/a.vi.md"));
    let update = site.apply(&[PathBuf::from("thoi-su/a.vi.md")], now(), Stage::Whole);
    assert_eq!(update.articles.published.len(), 1);
    assert_eq!(update.articles.published[0].title, "B");
    assert!(site.problems().is_empty());
}

/// Deleting a folder clears the problems of broken files that were in it.
#[test]
fn deleting_a_folder_clears_its_problems() {
    let config = config();
    let store = Arc::new(MemoryStore::new());
    store.insert("giao-duc/hong.vi.md", "+++\ntitle = \"x\"\n+++\n");
    let mut site = LiveSite::start(Arc::clone(&config), store.clone() as Arc<dyn ArticleStore>, now(), Start::Whole);
    assert_eq!(site.problems().len(), 1);
    store.remove(Path::new("giao-duc/hong.vi.md"));
    site.apply(&[PathBuf::from("giao-duc")], now(), Stage::Whole);
    assert!(site.problems().is_empty(), "{:?}", site.problems());
    assert_eq!(site.documents(), 0);
}

/// A refused duplicate whose file breaks and is then moved over the holder's
/// place is published complete, body included. (Found by the property test.)
#[test]
fn refused_duplicate_broken_then_moved_keeps_its_body() {
    incremental_equals_full(&[
        Edit::Write { path: "kinh-te/c.en.md".into(), title: "A".into(), day: 1, extra: "id = \"same\"\n" },
        Edit::Write { path: "thoi-su/b.vi.md".into(), title: "a".into(), day: 1, extra: "id = \"same\"\n" },
        Edit::Break { path: "kinh-te/c.en.md".into() },
        Edit::Move { from: "kinh-te/c.en.md".into(), to: "thoi-su/b.vi.md".into(), reversed: false },
    ])
    .unwrap();
}

/// The live site's files equal a full build of `store` at `now`.
fn assert_equals_full(site: &LiveSite, store: &MemoryStore, config: &Config, now: Timestamp) {
    let full = pipeline::build(store, config, now);
    let mut expected = full.snapshot;
    let (path, page) = herald::render::html::index_page(&full.loaded.catalog, config, &Default::default());
    expected.insert(path, page);
    let differing = site.snapshot().changed_paths(&expected);
    assert!(differing.is_empty(), "{differing:?} differ from a full build");
}

/// A term feed is titled by its most used spelling: an edit to an old
/// article that tips the balance retitles the live feed and every archive
/// month of the term, those the edit does not touch included; the other
/// term feeds keep their bytes but for the month holding the edit.
#[test]
fn a_term_retitled_by_an_old_article_rewrites_all_its_archives() {
    let config = config();
    let store = Arc::new(MemoryStore::new());
    let tagged = |spelling: &str| format!("tags = [\"{spelling}\", \"Huế\"]\n");
    for (path, date, spelling) in [
        ("thoi-su/a.vi.md", "2026-11-20", "Lễ hội"),
        ("thoi-su/b.vi.md", "2026-11-18", "Lễ hội"),
        ("kinh-te/c.vi.md", "2026-10-05", "lễ hội"),
        ("kinh-te/d.vi.md", "2026-09-05", "lễ hội"),
        ("giao-duc/e.vi.md", "2026-09-06", "Lễ hội"),
    ] {
        store.insert(path, article(path, &format!("{date}T08:00:00+07:00"), &tagged(spelling)));
    }
    let mut site = LiveSite::start(Arc::clone(&config), store.clone() as Arc<dyn ArticleStore>, now(), Start::Whole);
    let feed =
        |site: &LiveSite| String::from_utf8(site.snapshot().get("/vi/tags/le-hoi/rss.xml").unwrap().body.to_vec());
    assert!(feed(&site).unwrap().contains("<title>Lễ hội – "), "{:?}", feed(&site));
    store.insert("giao-duc/e.vi.md", article("giao-duc/e.vi.md", "2026-09-06T08:00:00+07:00", &tagged("lễ hội")));
    let update = site.apply(&[PathBuf::from("giao-duc/e.vi.md")], now(), Stage::Whole);
    assert!(feed(&site).unwrap().contains("<title>lễ hội – "), "{:?}", feed(&site));
    assert!(update.changed_paths.contains(&"/vi/tags/le-hoi/archive/2026-10.rss.xml".to_string()), "{update:?}");
    // The other tag of the edited article: only the month holding it.
    let hue: Vec<&String> = update.changed_paths.iter().filter(|p| p.starts_with("/vi/tags/hue/")).collect();
    assert!(hue.iter().all(|p| p.starts_with("/vi/tags/hue/archive/2026-09.")), "{hue:?}");
    assert_equals_full(&site, &store, &config, now());
}
