//! A restart serves what a full build serves: `herald serve` saves its
//! files at shutdown and, on an unchanged store, serves them again at once
//! (while it reads the store as usual); any edit, addition, deletion or
//! rename made while it was stopped means a cold start. A saved list that
//! is truncated or corrupt (a run killed while writing it, a disk error) is
//! never used: herald starts cold instead. The bodies it names are not read
//! before serving: one that is corrupt is answered 503, never served, until
//! the background build writes it again.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use crate::watched_store::{Edit, apply, differing, edits};
use herald::clock::ManualClock;
use herald::daemon::saved_files::SAVED_FILES;
use herald::daemon::{ConfigSource, Daemon, FILE_CACHE_DIR};
use proptest::prelude::*;

const PATIENCE: Duration = Duration::from_secs(20);

fn store() -> TempStore {
    let mut store = TempStore::new();
    // Archives deferred at every start, as on a large store.
    store.extra_config =
        "[sections.kinh-te]\ntitle = \"Kinh tế\"\n\n[feeds]\nitem_limit = 2\n\n[server]\ndeferred_archives_from = 0\n"
            .into();
    store.article("thoi-su/a.vi.md", "Một", "2026-11-20T08:00:00+07:00");
    store.article("thoi-su/b.vi.md", "Hai", "2026-10-20T08:00:00+07:00");
    store.article("kinh-te/c.vi.md", "Ba", "2026-10-05T08:00:00+07:00");
    store.article("kinh-te/d.en.md", "Four", "2026-09-05T08:00:00+07:00");
    store
}

fn state_dir(store: &TempStore) -> PathBuf {
    store.dir.path().join("state")
}

async fn start(store: &TempStore) -> Daemon {
    let source = ConfigSource {
        path: store.config_path(),
        overrides: herald::config::Overrides { state_dir: Some(state_dir(store)), ..Default::default() },
    };
    let config = source.load().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Daemon::start(config, source, listener, Arc::new(ManualClock::new(now()))).await.unwrap()
}

/// Waits until every served file is that of a full build of the store.
async fn settles_to_a_full_build(daemon: &Daemon, store: &TempStore) -> Vec<String> {
    let config = store.config();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut left = differing(daemon, &config);
    while !left.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        left = differing(daemon, &config);
    }
    left
}

/// Starts, stops (saving the files), makes `edits` while stopped, starts
/// again: the files served right after the start, and once settled, are a
/// full build's.
async fn restart_equals_full(edits: &[Edit]) -> Result<(), TestCaseError> {
    let store = store();
    let daemon = start(&store).await;
    prop_assert!(settles_to_a_full_build(&daemon, &store).await.is_empty());
    daemon.shutdown().await;
    prop_assert!(state_dir(&store).join(SAVED_FILES).exists(), "the files are saved at shutdown");
    for edit in edits {
        apply(&store.root(), edit);
    }
    // What the next start serves at once: the saved files, if it takes
    // them (only on an unchanged store), exactly a full build's.
    let list = std::fs::read(state_dir(&store).join(SAVED_FILES)).unwrap();
    let restored = restored_files(&store);
    std::fs::write(state_dir(&store).join(SAVED_FILES), list).unwrap();
    let changed = edits_changed_the_store(edits);
    if let Some(restored) = &restored {
        prop_assert!(!changed, "after {:?}, the saved files were taken", edits);
        let differing = restored_differing(restored, &store);
        prop_assert!(differing.is_empty(), "after {:?}, the saved files differ from a build: {:?}", edits, differing);
    } else {
        prop_assert!(changed, "the saved files of an unchanged store were refused");
    }
    let daemon = start(&store).await;
    let settled = settles_to_a_full_build(&daemon, &store).await;
    daemon.shutdown().await;
    prop_assert!(settled.is_empty(), "after {:?}, still differing from a full build: {:?}", edits, settled);
    Ok(())
}

/// Whether `edits` change anything in the store (a deletion of a missing
/// file or a rename onto itself does not).
fn edits_changed_the_store(edits: &[Edit]) -> bool {
    let before = store();
    let after = store();
    for edit in edits {
        apply(&after.root(), edit);
    }
    listing(&before.root()) != listing(&after.root())
}

/// Every file of a folder with its bytes.
fn listing(root: &std::path::Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                out.push((path.strip_prefix(root).unwrap().to_path_buf(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// What the next start would serve at once (the saved list is consumed).
fn restored_files(store: &TempStore) -> Option<herald::snapshot::Snapshot> {
    let mut config = store.config();
    config.state_dir = state_dir(store);
    let folder = herald::store::FolderStore::for_config(&config).unwrap();
    let cache = herald::file_cache::FileCache::open(&state_dir(store).join(FILE_CACHE_DIR)).unwrap();
    cache.keep_files();
    herald::daemon::saved_files::restore(&config, &folder, &cache, now())
}

/// Paths whose bytes differ between `restored` and a full build now (with
/// the index page the daemon adds).
fn restored_differing(restored: &herald::snapshot::Snapshot, store: &TempStore) -> Vec<String> {
    let full = store.build();
    let config = store.config();
    let mut expected = full.snapshot;
    let (path, page) = herald::render::html::index_page(&full.loaded.catalog, &config, &Default::default());
    expected.insert(path, page);
    let mut out: Vec<String> = expected
        .iter()
        .filter(|(path, built)| {
            restored.get(path).is_none_or(|r| r.etag != built.etag || r.bytes().unwrap() != built.body)
        })
        .map(|(path, _)| path.clone())
        .collect();
    out.extend(restored.iter().map(|(p, _)| p).filter(|p| expected.get(p).is_none()).cloned());
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, max_shrink_iters: 16, ..ProptestConfig::default() })]

    #[test]
    fn a_restart_serves_what_a_full_build_serves(edits in proptest::collection::vec(edits(), 0..5)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(restart_equals_full(&edits))?;
    }
}

/// The saved list is used once, on an unchanged store, and what it names
/// is served; a truncated or corrupt list, a corrupt body it names, or a
/// temporary list a killed run left, means a cold start with the same
/// files, never their bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_or_corrupt_saved_list_or_body_is_never_served() {
    let store = store();
    let saved = state_dir(&store).join(SAVED_FILES);
    let save = || async {
        let daemon = start(&store).await;
        assert!(settles_to_a_full_build(&daemon, &store).await.is_empty());
        daemon.shutdown().await;
        assert!(saved.exists());
    };
    save().await;
    // Used and removed: a run killed later starts cold.
    let daemon = start(&store).await;
    assert!(!saved.exists(), "the saved list is used once");
    assert!(differing(&daemon, &store.config()).is_empty());
    daemon.shutdown().await;

    // A run killed while writing the list: a temporary file, or (a disk
    // losing the end) a truncated list.
    let text = std::fs::read(&saved).unwrap();
    let temp = state_dir(&store).join(format!(".{SAVED_FILES}.tmp-424242"));
    std::fs::write(&temp, &text[..text.len() / 2]).unwrap();
    std::fs::write(&saved, &text[..text.len() - 40]).unwrap();
    let daemon = start(&store).await;
    assert!(!temp.exists(), "the temporary list is removed");
    assert!(settles_to_a_full_build(&daemon, &store).await.is_empty(), "a truncated list is not used");
    daemon.shutdown().await;

    // One flipped byte in the list.
    let mut text = std::fs::read(&saved).unwrap();
    let at = text.len() / 2;
    text[at] = if text[at] == b'a' { b'b' } else { b'a' };
    std::fs::write(&saved, &text).unwrap();
    let daemon = start(&store).await;
    assert!(settles_to_a_full_build(&daemon, &store).await.is_empty(), "a corrupt list is not used");
    daemon.shutdown().await;

    // Every body the list names, corrupt (same length): each is checked
    // as read (never served), and written again by the background build.
    let cache = state_dir(&store).join(FILE_CACHE_DIR);
    for entry in std::fs::read_dir(&cache).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.len() == 32 {
            let mut bytes = std::fs::read(&path).unwrap();
            let at = bytes.len() / 2;
            bytes[at] ^= 0x01;
            std::fs::write(&path, bytes).unwrap();
        }
    }
    let daemon = start(&store).await;
    assert!(settles_to_a_full_build(&daemon, &store).await.is_empty(), "a corrupt body is not served");
    daemon.shutdown().await;
}

/// The saved files are served without being read first (at 100,000
/// articles they are gigabytes): a live feed's body corrupted while herald
/// was stopped is taken as it is listed, fails its check when read (never
/// served), and is right once the background build wrote it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_live_feed_is_restored_unread_and_never_served() {
    let store = store();
    let daemon = start(&store).await;
    assert!(settles_to_a_full_build(&daemon, &store).await.is_empty());
    daemon.shutdown().await;
    let feed = "/vi/rss.xml";
    let built = store.build().snapshot.get(feed).unwrap().body.clone();
    let file = state_dir(&store).join(FILE_CACHE_DIR).join(format!("{:032x}", herald::digest::digest(&built)));
    let mut bytes = std::fs::read(&file).unwrap();
    assert_eq!(bytes, built);
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&file, &bytes).unwrap();
    // The list is kept for the daemon below (reading it consumes it).
    let saved = std::fs::read(state_dir(&store).join(SAVED_FILES)).unwrap();
    let restored = restored_files(&store).expect("the saved files are used, their bodies unread");
    assert!(restored.get(feed).unwrap().bytes().is_err(), "the corrupt feed passed its check");
    assert_eq!(
        restored.get("/vi/thoi-su/rss.xml").unwrap().bytes().unwrap(),
        store.build().snapshot.get("/vi/thoi-su/rss.xml").unwrap().body
    );
    drop(restored);
    std::fs::write(state_dir(&store).join(SAVED_FILES), saved).unwrap();

    let daemon = start(&store).await;
    let client = http_client();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let response = client.get(format!("http://{}{feed}", daemon.addr)).send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.bytes().await.unwrap();
        assert_ne!(body.as_ref(), &bytes[..], "the corrupt bytes were served");
        if status == 200 {
            assert_eq!(body, built);
            break;
        }
        assert_eq!(status, 503);
        assert!(tokio::time::Instant::now() < deadline, "the feed was not written again");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(settles_to_a_full_build(&daemon, &store).await.is_empty());
    daemon.shutdown().await;
}

/// Past archives are restored without being read, too: one corrupted
/// behind herald's back is answered 503, never with its bytes, until the
/// background build writes it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_past_archive_is_rewritten_before_it_is_served() {
    let store = store();
    let daemon = start(&store).await;
    assert!(settles_to_a_full_build(&daemon, &store).await.is_empty());
    let archive = "/vi/archive/2026-10.rss.xml";
    let stored = daemon.state.files.load().get(archive).unwrap().resource.stored.clone().expect("on disk");
    let file = stored.path(herald::file_cache::Representation::Identity);
    drop(stored);
    daemon.shutdown().await;
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&file, &bytes).unwrap();

    let daemon = start(&store).await;
    let client = http_client();
    let built = store.build();
    let expected = built.snapshot.get(archive).unwrap().body.clone();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let response = client.get(format!("http://{}{archive}", daemon.addr)).send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.bytes().await.unwrap();
        assert_ne!(body.as_ref(), &bytes[..], "the corrupt bytes were served");
        if status == 200 {
            assert_eq!(body, expected);
            break;
        }
        assert_eq!(status, 503);
        assert!(tokio::time::Instant::now() < deadline, "the archive was not written again");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(settles_to_a_full_build(&daemon, &store).await.is_empty());
    daemon.shutdown().await;
}
