//! The saved catalog: a restart reads only the documents that changed
//! while herald was stopped, and its files are exactly a full build's,
//! whatever was edited, added, deleted, renamed or broken meanwhile; a
//! truncated or corrupt catalog file is reported and its documents read
//! again; whatever a crash can leave while the catalog is written (a
//! temporary file, a cut file, some shards new and some old) gives the
//! same files at the next start.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::common::*;
use herald::config::Config;
use herald::diagnostic::Diagnostic;
use herald::pipeline;
use herald::saved_catalog::{CATALOG_DIR, SavedCatalog};
use herald::site::{LiveSite, Stage, Start};
use herald::store::{ArticleStore, FolderStore};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

/// A store with a few articles, and its configuration (a small item
/// limit, so feeds have archives; tag feeds).
pub(crate) fn store() -> TempStore {
    let mut store = TempStore::new();
    store.extra_config =
        "[sections.kinh-te]\ntitle = \"Kinh tế\"\n\n[feeds]\nitem_limit = 2\n\n[taxonomies.tags]\nmin_articles = 2\n"
            .into();
    store.article("thoi-su/a.vi.md", "Một", "2026-11-20T08:00:00+07:00");
    store.article("thoi-su/a.en.md", "One", "2026-11-20T09:00:00+07:00");
    store.article("thoi-su/b.vi.md", "Hai", "2026-10-20T08:00:00+07:00");
    store.article("kinh-te/c.vi.md", "Ba", "2026-10-05T08:00:00+07:00");
    store.article("kinh-te/d.en.md", "Four", "2026-09-05T08:00:00+07:00");
    store
}

fn config(store: &TempStore) -> Arc<Config> {
    let mut config = store.config();
    config.state_dir = store.dir.path().join("state");
    Arc::new(config)
}

/// A live site over the folder, from (and saving to) its saved catalog.
/// The test's file times are fine-grained and nothing writes to the store
/// while it is read, so no margin is needed (see `wait_for_file_clock`).
pub(crate) fn start(store: &TempStore, now: Timestamp) -> LiveSite {
    let config = config(store);
    let folder: Arc<dyn ArticleStore> = Arc::new(FolderStore::for_config(&config).unwrap());
    let saved = SavedCatalog::open_with_margin(&config, Duration::ZERO);
    LiveSite::start_saving(config, folder, now, Start::Whole, Some(saved))
}

/// Stops `site`, its catalog written.
pub(crate) fn stop(site: LiveSite) {
    site.flush_saved_catalog();
    drop(site);
}

/// Waits until the file system's clock is past every change made to the
/// store so far, so that the next change shows in the change times even
/// where they are coarse (bounded; no fixed wait).
fn wait_for_file_clock(store: &TempStore) {
    let newest = stamps(&store.root()).values().map(|s| s.1).max().unwrap_or(SystemTime::UNIX_EPOCH);
    let probe = store.dir.path().join("clock-probe");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        std::fs::write(&probe, b"").unwrap();
        if std::fs::metadata(&probe).unwrap().modified().unwrap() > newest {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "the file system's clock does not move");
        std::thread::yield_now();
    }
}

/// Every document's (inode, change time) by store-relative path.
pub(crate) fn stamps(root: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    use std::os::unix::fs::MetadataExt as _;
    let folder = FolderStore::open(root).unwrap();
    folder
        .document_paths()
        .0
        .into_iter()
        .map(|path| {
            let meta = std::fs::metadata(root.join(&path)).unwrap();
            let changed = SystemTime::UNIX_EPOCH + Duration::new(meta.ctime() as u64, meta.ctime_nsec() as u32);
            (path, (meta.ino(), changed))
        })
        .collect()
}

/// Paths whose bytes differ between `site` and a full build of the
/// folder at `now` (with the index page the live site adds).
pub(crate) fn differing(site: &LiveSite, store: &TempStore, now: Timestamp) -> Vec<String> {
    let config = config(store);
    let folder = FolderStore::for_config(&config).unwrap();
    let full = pipeline::build(&folder, &config, now);
    let mut expected = full.snapshot;
    let (path, page) = herald::render::html::index_page(&full.loaded.catalog, &config, &Default::default());
    expected.insert(path, page);
    let mut out = site.snapshot().changed_paths(&expected);
    let errors = |list: &[Diagnostic]| -> BTreeSet<String> {
        list.iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{}: {}", d.path.strip_prefix(&config.store_dir).unwrap_or(&d.path).display(), d.message))
            .collect()
    };
    let (live, built) = (errors(&site.problems()), errors(&full.loaded.diagnostics));
    if live != built {
        out.push(format!("the problems reported: {live:?}, a build's: {built:?}"));
    }
    out
}

/// The documents broken now in `site` (not the refused duplicates, which
/// are good documents).
fn broken(site: &LiveSite, store: &TempStore) -> BTreeSet<PathBuf> {
    let config = config(store);
    site.problems()
        .iter()
        .filter(|p| !p.message.contains("is already used by"))
        .map(|p| p.path.strip_prefix(&config.store_dir).unwrap_or(&p.path).to_path_buf())
        .collect()
}

/// One change to the store.
#[derive(Debug, Clone)]
pub(crate) enum Edit {
    Write {
        path: &'static str,
        title: String,
        day: u8,
        extra: &'static str,
    },
    /// The same bytes written again.
    Touch {
        path: &'static str,
    },
    Break {
        path: &'static str,
    },
    Delete {
        path: &'static str,
    },
    Rename {
        from: &'static str,
        to: &'static str,
    },
    DeleteFolder {
        folder: &'static str,
    },
}

fn paths() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("thoi-su/a.vi.md"),
        Just("thoi-su/a.en.md"),
        Just("thoi-su/b.vi.md"),
        Just("kinh-te/c.vi.md"),
        Just("kinh-te/d.en.md"),
        Just("giao-duc/e.vi.md"),
        Just("thoi-su/f/index.vi.md"),
    ]
}

pub(crate) fn edits() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (paths(), "[A-Za-zà-ỹ ]{1,10}", 1u8..=28, prop_oneof![
            Just(""),
            Just("draft = true\n"),
            Just("publishDate = 2026-11-27T06:00:00+07:00\n"),
            Just("id = \"same\"\n"),
            Just("tags = [\"Lễ hội\", \"Huế\"]\n"),
            Just("tags = [\"lễ hội\"]\nauthors = [\"Đặng Ân\"]\n"),
        ]).prop_map(|(path, title, day, extra)| Edit::Write { path, title, day, extra }),
        1 => paths().prop_map(|path| Edit::Touch { path }),
        1 => paths().prop_map(|path| Edit::Break { path }),
        1 => paths().prop_map(|path| Edit::Delete { path }),
        2 => (paths(), paths()).prop_map(|(from, to)| Edit::Rename { from, to }),
        1 => prop_oneof![Just("thoi-su"), Just("kinh-te")].prop_map(|folder| Edit::DeleteFolder { folder }),
    ]
}

/// Applies `edit` to the folder at `root`; the store-relative paths it
/// names (for a live site's step).
pub(crate) fn apply(root: &Path, edit: &Edit) -> Vec<PathBuf> {
    let write = |path: &str, text: String| {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    };
    match edit {
        Edit::Write { path, title, day, extra } => {
            let title = title.trim();
            write(
                path,
                format!(
                    "+++\ntitle = \"{title}\"\ndate = 2026-11-{day:02}T08:00:00+07:00\n{extra}+++\nBody of {title}.\n"
                ),
            );
            vec![PathBuf::from(path)]
        }
        Edit::Touch { path } => {
            if let Ok(bytes) = std::fs::read(root.join(path)) {
                std::fs::write(root.join(path), bytes).unwrap();
            }
            vec![PathBuf::from(path)]
        }
        Edit::Break { path } => {
            write(path, "+++\ntitle = \"x\"\ndate = = nope\n+++\n".into());
            vec![PathBuf::from(path)]
        }
        Edit::Delete { path } => {
            let _ = std::fs::remove_file(root.join(path));
            vec![PathBuf::from(path)]
        }
        Edit::Rename { from, to } => {
            let target = root.join(to);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            let _ = std::fs::rename(root.join(from), target);
            vec![PathBuf::from(from), PathBuf::from(to)]
        }
        Edit::DeleteFolder { folder } => {
            let _ = std::fs::remove_dir_all(root.join(folder));
            vec![PathBuf::from(folder)]
        }
    }
}

/// Runs a site, makes `live` edits while it runs (each a step, saved as
/// it goes), stops it, makes `stopped` edits, and starts again `hours`
/// later: the restart serves a full build's files, reads exactly the
/// documents whose files changed (or are broken), and a further restart
/// reads only the broken ones.
fn restart_equals_full(live: &[Edit], stopped: &[Edit], hours: i64) -> Result<(), TestCaseError> {
    let store = store();
    let root = store.root();
    let mut now = now();
    let mut site = start(&store, now);
    prop_assert_eq!(site.stats().reused_documents, 0, "nothing is saved before the first start");
    for edit in live {
        wait_for_file_clock(&store);
        let paths = apply(&root, edit);
        site.apply(&paths, now, Stage::Whole);
    }
    // (A live site keeps the last good version of a broken document,
    // which a full build cannot know: no comparison here.)
    let broken_then = broken(&site, &store);
    stop(site);

    wait_for_file_clock(&store);
    let before = stamps(&root);
    for edit in stopped {
        apply(&root, edit);
    }
    let after = stamps(&root);
    now += SignedDuration::from_hours(hours);
    let site = start(&store, now);
    let differ = differing(&site, &store, now);
    prop_assert!(
        differ.is_empty(),
        "after {:?} then {:?}, the restart differs from a full build: {:?}",
        live,
        stopped,
        differ
    );
    // Read: every document whose file changed, appeared, or was broken
    // (broken ones are never saved); the rest is taken as saved.
    let unchanged =
        after.iter().filter(|(path, stamp)| before.get(*path) == Some(stamp) && !broken_then.contains(*path)).count()
            as u64;
    prop_assert_eq!(site.stats().reused_documents, unchanged, "after {:?} then {:?}", live, stopped);
    let broken_now = broken(&site, &store).len() as u64;
    stop(site);

    // Unchanged since: everything is taken, but the broken documents.
    let site = start(&store, now);
    prop_assert!(differing(&site, &store, now).is_empty());
    prop_assert_eq!(site.stats().reused_documents, after.len() as u64 - broken_now);
    stop(site);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, max_shrink_iters: 32, ..ProptestConfig::default() })]

    #[test]
    fn a_restart_reads_what_changed_and_serves_a_full_build(
        live in proptest::collection::vec(edits(), 0..4),
        stopped in proptest::collection::vec(edits(), 0..6),
        hours in prop_oneof![Just(0i64), 1i64..200],
    ) {
        restart_equals_full(&live, &stopped, hours)?;
    }
}

/// The catalog's shard files, by name, with their bytes.
fn shard_files(store: &TempStore) -> BTreeMap<String, Vec<u8>> {
    let dir = config(store).state_dir.join(CATALOG_DIR);
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect()
}

/// Damages a file's bytes (or says to delete it: `false`).
type Damage = fn(&mut Vec<u8>) -> bool;

/// A shard file truncated, with a flipped byte, emptied or deleted is
/// noticed: its documents are read again (and only those), the output is
/// a full build's, and the file is written whole again.
#[test]
fn a_truncated_or_corrupt_catalog_file_is_read_again() {
    let store = store();
    for i in 0..40 {
        store.article(&format!("thoi-su/n{i}.vi.md"), &format!("Tin {i}"), "2026-11-02T08:00:00+07:00");
    }
    wait_for_file_clock(&store);
    stop(start(&store, now()));
    let documents = stamps(&store.root()).len() as u64;
    let site = start(&store, now());
    assert_eq!(site.stats().reused_documents, documents, "an unchanged store is not read");
    stop(site);

    let dir = config(&store).state_dir.join(CATALOG_DIR);
    let holding: Vec<(String, Vec<u8>)> =
        shard_files(&store).into_iter().filter(|(_, bytes)| bytes.windows(9).any(|w| w == b"\"thoi-su/")).collect();
    assert!(holding.len() >= 4, "the documents are spread over shards");
    let damages: [(&str, Damage); 4] = [
        ("truncated", |b| {
            b.truncate(b.len() * 2 / 3);
            true
        }),
        ("corrupt", |b| {
            let at = b.len() / 2;
            b[at] ^= 0x20;
            true
        }),
        ("emptied", |b| {
            b.clear();
            true
        }),
        ("deleted", |_| false),
    ];
    for ((name, bytes), (damage, how)) in holding.iter().zip(damages) {
        let path = dir.join(name);
        let entries = bytes.windows(8).filter(|w| *w == b"\"stamp\":").count() as u64;
        let mut damaged = bytes.clone();
        if how(&mut damaged) {
            std::fs::write(&path, &damaged).unwrap();
        } else {
            std::fs::remove_file(&path).unwrap();
        }
        let site = start(&store, now());
        assert!(differing(&site, &store, now()).is_empty(), "a {damage} catalog file changed the output");
        assert_eq!(site.stats().reused_documents, documents - entries, "a {damage} file: only its documents are read");
        stop(site);
        let site = start(&store, now());
        assert_eq!(site.stats().reused_documents, documents, "the {damage} file is written again, whole");
        stop(site);
    }
}

/// Every state a crash can leave while the catalog is written after a
/// step (a partly written temporary file, a whole one not yet renamed,
/// some shards renamed and others not, a renamed file whose end never
/// reached the disk) gives a full build's files at the next start.
#[test]
fn a_crash_while_writing_leaves_a_catalog_the_next_start_accepts_or_reads_again() {
    let store = store();
    for i in 0..20 {
        store.article(&format!("kinh-te/n{i}.vi.md"), &format!("Tin {i}"), "2026-11-03T08:00:00+07:00");
    }
    wait_for_file_clock(&store);
    let mut site = start(&store, now());
    site.flush_saved_catalog();
    let old = shard_files(&store);
    // One step touching many shards: a retitle of every article, a
    // deletion, an addition.
    wait_for_file_clock(&store);
    let mut paths = Vec::new();
    for i in 0..20 {
        let path = format!("kinh-te/n{i}.vi.md");
        store.article(&path, &format!("Tin {i} (sửa)"), "2026-11-03T08:00:00+07:00");
        paths.push(PathBuf::from(path));
    }
    store.remove("thoi-su/b.vi.md");
    store.article("giao-duc/moi.vi.md", "Mới", "2026-11-04T08:00:00+07:00");
    paths.extend([PathBuf::from("thoi-su/b.vi.md"), PathBuf::from("giao-duc/moi.vi.md")]);
    site.apply(&paths, now(), Stage::Whole);
    stop(site);
    let new = shard_files(&store);
    let changed: Vec<&String> = new.keys().filter(|name| old.get(*name) != new.get(*name)).collect();
    assert!(changed.len() >= 4, "the step rewrote several shards");

    let dir = config(&store).state_dir.join(CATALOG_DIR);
    let put = |files: &[(&String, &Vec<u8>)]| {
        for (name, bytes) in files {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    };
    // The crash after the first k renames, for every k, with the next
    // shard's temporary file part written, or whole.
    for k in 0..=changed.len() {
        for temporary in [None, Some(0.5), Some(1.0)] {
            let mut files: Vec<(&String, &Vec<u8>)> = Vec::new();
            for (i, name) in changed.iter().enumerate() {
                files.push((name, if i < k { &new[*name] } else { &old[*name] }));
            }
            put(&files);
            let temp = dir.join(".ab.tmp-4242");
            if let (Some(part), Some(next)) = (temporary, changed.get(k)) {
                let bytes = &new[*next];
                std::fs::write(&temp, &bytes[..(bytes.len() as f64 * part) as usize]).unwrap();
            }
            let site = start(&store, now());
            assert!(!temp.exists(), "the temporary file is removed");
            assert!(differing(&site, &store, now()).is_empty(), "a crash after {k} renames changed the output");
            stop(site);
        }
    }
    // A renamed file whose end never reached the disk.
    for name in &changed {
        let bytes = &new[*name];
        put(&[(name, &bytes[..bytes.len() - 3].to_vec())]);
        let site = start(&store, now());
        assert!(differing(&site, &store, now()).is_empty(), "a cut {name} changed the output");
        stop(site);
    }
    let site = start(&store, now());
    assert_eq!(site.stats().reused_documents, stamps(&store.root()).len() as u64, "all written whole again");
    stop(site);
}

/// Another configuration never takes the catalog saved for the first.
#[test]
fn another_configuration_reads_everything() {
    let mut store = store();
    wait_for_file_clock(&store);
    stop(start(&store, now()));
    let site = start(&store, now());
    assert_eq!(site.stats().reused_documents, stamps(&store.root()).len() as u64);
    stop(site);
    store.extra_config = store.extra_config.replace("item_limit = 2", "item_limit = 3");
    let site = start(&store, now());
    assert_eq!(site.stats().reused_documents, 0, "saved for another configuration");
    assert!(differing(&site, &store, now()).is_empty());
    stop(site);
}
