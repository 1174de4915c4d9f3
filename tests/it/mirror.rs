//! The output folder (`herald build --out`, `[server] out_dir`): a file
//! whose bytes did not change keeps its identity (modification time and
//! inode) when the folder is written again, so a web server serving the
//! folder (nginx's `mtime-size` ETag, `Last-Modified`) tells clients it did
//! not change; files a change touches get new ones.
//!
//! Each test first sets every file's modification time far into the past,
//! so a file rewritten by mistake cannot keep its time by chance.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::common::*;
use herald::clock::ManualClock;
use herald::config::{Config, Overrides};
use herald::daemon::{ConfigSource, Daemon};
use herald::site::LiveSite;
use herald::snapshot::{OUTPUT_MARKER, Snapshot};
use herald::store::{ArticleStore, MemoryStore};

/// An instant long before any test runs.
fn long_ago() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000)
}

/// Identity of a file: modification time, and inode where there are inodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    modified: SystemTime,
    inode: u64,
}

fn identity(path: &Path) -> Identity {
    let metadata = std::fs::metadata(path).unwrap();
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
    #[cfg(not(unix))]
    let inode = 0;
    Identity { modified: metadata.modified().unwrap(), inode }
}

/// Every file under `out`, by URL path (`/vi/rss.xml`).
fn files(out: &Path) -> BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, prefix: &str, into: &mut BTreeMap<String, PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{prefix}/{}", entry.file_name().to_string_lossy());
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path(), &name, into);
            } else {
                into.insert(name, entry.path());
            }
        }
    }
    let mut into = BTreeMap::new();
    walk(out, "", &mut into);
    into
}

/// Sets every file's modification time to [`long_ago`] and returns each
/// file's identity.
fn age(out: &Path) -> BTreeMap<String, Identity> {
    files(out)
        .into_iter()
        .map(|(path, file)| {
            std::fs::File::options().write(true).open(&file).unwrap().set_modified(long_ago()).unwrap();
            (path, identity(&file))
        })
        .collect()
}

/// The folder holds exactly the snapshot's files (and the marker).
fn assert_mirrors(out: &Path, snapshot: &Snapshot) {
    let on_disk = files(out);
    let mut expected: BTreeSet<String> = snapshot.iter().map(|(p, _)| p.clone()).collect();
    expected.insert(format!("/{OUTPUT_MARKER}"));
    assert_eq!(on_disk.keys().cloned().collect::<BTreeSet<_>>(), expected);
    for (path, resource) in snapshot.iter() {
        assert_eq!(std::fs::read(&on_disk[path]).unwrap(), resource.body.as_ref(), "{path}");
    }
}

fn config() -> Arc<Config> {
    // A small item limit, so feeds have monthly archives.
    let text = format!("store = \"unused\"\n{TEST_CONFIG}\n[feeds]\nitem_limit = 2\n");
    Arc::new(Config::parse(&text, Path::new("feeds.toml"), &Overrides::default()).unwrap())
}

fn article(title: &str, date: &str) -> String {
    format!("+++\ntitle = \"{title}\"\ndate = {date}\n+++\nBody of {title}.\n")
}

/// Articles over three months, so there are past-month archives.
fn store() -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new());
    store.insert("thoi-su/a.vi.md", article("Một", "2026-09-20T08:00:00+07:00"));
    store.insert("thoi-su/b.vi.md", article("Hai", "2026-10-05T09:00:00+07:00"));
    store.insert("thoi-su/c.vi.md", article("Ba", "2026-10-06T09:00:00+07:00"));
    store.insert("thoi-su/d.vi.md", article("Bốn", "2026-11-20T08:00:00+07:00"));
    store.insert("thoi-su/e.vi.md", article("Năm", "2026-11-21T08:00:00+07:00"));
    store.insert("thoi-su/a.en.md", article("One", "2026-09-20T09:00:00+07:00"));
    store
}

/// Writing the same site twice keeps every file: same time, same inode.
#[test]
fn a_second_full_write_keeps_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    let first = LiveSite::start(config(), store() as Arc<dyn ArticleStore>, now());
    first.snapshot().write_dir_atomic(&out).unwrap();
    let before = age(&out);
    assert!(before.keys().any(|p| p.contains("/archive/")), "the site has archives: {:?}", before.keys());

    // A new process: built again from scratch.
    let second = LiveSite::start(config(), store() as Arc<dyn ArticleStore>, now());
    second.snapshot().write_dir_atomic(&out).unwrap();
    assert_mirrors(&out, second.snapshot());
    let after: BTreeMap<String, Identity> = files(&out).into_iter().map(|(p, f)| (p, identity(&f))).collect();
    assert_eq!(after, before);
}

/// An edit renews exactly the files it touches, in a full write and in an
/// incremental one; every other file (past-month archives included) keeps
/// its identity.
#[test]
fn an_edit_renews_only_the_touched_files() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    let incremental = dir.path().join("incremental");
    let store = store();
    let mut site = LiveSite::start(config(), Arc::clone(&store) as Arc<dyn ArticleStore>, now());
    site.snapshot().write_dir_atomic(&full).unwrap();
    site.snapshot().write_dir_atomic(&incremental).unwrap();
    let before_full = age(&full);
    let before_incremental = age(&incremental);

    store.insert("thoi-su/e.vi.md", article("Năm (sửa)", "2026-11-21T08:00:00+07:00"));
    let update = site.apply_paths(&[PathBuf::from("thoi-su/e.vi.md")], now());
    let touched: BTreeSet<String> = update.changed_paths.iter().cloned().collect();
    assert!(touched.contains("/vi/rss.xml"), "{touched:?}");

    site.snapshot().write_dir_atomic(&full).unwrap();
    site.snapshot().write_changes(&incremental, &update.changed_paths).unwrap();
    for (out, before) in [(&full, &before_full), (&incremental, &before_incremental)] {
        assert_mirrors(out, site.snapshot());
        let mut kept = 0;
        for (path, file) in files(out) {
            let now = identity(&file);
            if touched.contains(&path) {
                assert_ne!(now.modified, long_ago(), "{}: {path} was not rewritten", out.display());
            } else {
                assert_eq!(Some(&now), before.get(&path), "{}: {path} was rewritten", out.display());
                kept += 1;
            }
        }
        assert!(kept > touched.len(), "most files are untouched ({kept} kept)");
        assert!(before.keys().any(|p| p.contains("/archive/2026-09") && !touched.contains(p)));
    }
}

/// A restart of `herald serve` with an output folder leaves every file of
/// an unchanged site as it was.
#[tokio::test]
async fn a_restart_keeps_the_output_folder() {
    let mut store = TempStore::new();
    store.extra_config = "[server]\nout_dir = \"public\"\n".into();
    store.article("thoi-su/mot.vi.md", "Một", "2026-10-20T08:00:00+07:00");
    store.article("thoi-su/hai.vi.md", "Hai", "2026-11-20T08:00:00+07:00");
    let out = store.dir.path().join("public");
    let start = || async {
        let source = ConfigSource { path: store.config_path(), overrides: Default::default() };
        let config = source.load().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Daemon::start(config, source, listener, Arc::new(ManualClock::new(now()))).await.unwrap()
    };

    start().await.shutdown().await;
    let before = age(&out);
    assert!(before.contains_key("/vi/rss.xml"), "{:?}", before.keys());
    start().await.shutdown().await;
    let after: BTreeMap<String, Identity> = files(&out).into_iter().map(|(p, f)| (p, identity(&f))).collect();
    assert_eq!(after, before);
}
