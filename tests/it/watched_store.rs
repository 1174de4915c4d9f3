//! Incremental equals full through the real file watcher: random short
//! sequences of edits (new and changed articles, deletions, renames, a
//! section folder removed) are made to a store folder on disk while the
//! daemon runs in-process and watches it; once it settles, every served
//! file is byte-identical to a full build of the folder at the same clock.
//! (tests/it/live_site.rs checks the same property without the watcher,
//! edit by edit, on an in-memory store.)

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use herald::clock::ManualClock;
use herald::config::Config;
use herald::daemon::{ConfigSource, Daemon};
use herald::pipeline;
use herald::store::FolderStore;
use proptest::prelude::*;

const PATIENCE: Duration = Duration::from_secs(20);

/// One change to the store folder.
#[derive(Debug, Clone)]
pub(crate) enum Edit {
    Write { path: &'static str, title: String, month: u8, day: u8 },
    Delete { path: &'static str },
    Rename { from: &'static str, to: &'static str },
    DeleteSection { section: &'static str },
}

fn paths() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("thoi-su/a.vi.md"),
        Just("thoi-su/a.en.md"),
        Just("thoi-su/b.vi.md"),
        Just("kinh-te/c.vi.md"),
        Just("kinh-te/d.en.md"),
        Just("thoi-su/e/index.vi.md"),
    ]
}

pub(crate) fn edits() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (paths(), "[A-Za-zà-ỹ]{1,10}", 9u8..=11, 1u8..=28)
            .prop_map(|(path, title, month, day)| Edit::Write { path, title, month, day }),
        1 => paths().prop_map(|path| Edit::Delete { path }),
        1 => (paths(), paths()).prop_map(|(from, to)| Edit::Rename { from, to }),
        1 => prop_oneof![Just("thoi-su"), Just("kinh-te")].prop_map(|section| Edit::DeleteSection { section }),
    ]
}

pub(crate) fn apply(root: &Path, edit: &Edit) {
    match edit {
        Edit::Write { path, title, month, day } => {
            let full = root.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            let text = format!(
                "+++\ntitle = \"{title}\"\ndate = 2026-{month:02}-{day:02}T08:00:00+07:00\n+++\nBody of {title}.\n"
            );
            std::fs::write(full, text).unwrap();
        }
        Edit::Delete { path } => {
            let _ = std::fs::remove_file(root.join(path));
        }
        Edit::Rename { from, to } => {
            let to = root.join(to);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            let _ = std::fs::rename(root.join(from), to);
        }
        Edit::DeleteSection { section } => {
            let _ = std::fs::remove_dir_all(root.join(section));
        }
    }
}

/// The paths whose served bytes differ from a full build of the folder
/// now (the daemon adds the index page to what a build writes).
pub(crate) fn differing(daemon: &Daemon, config: &Config) -> Vec<String> {
    let folder = FolderStore::open(&config.store_dir).unwrap();
    let full = pipeline::build(&folder, config, now());
    let mut expected = full.snapshot;
    let (path, page) = herald::render::html::index_page(&full.loaded.catalog, config, &Default::default());
    expected.insert(path, page);
    let served = daemon.state.files.load();
    let mut differing: Vec<String> = expected
        .iter()
        .filter(|(path, resource)| {
            // A file on disk that fails its check (not served) differs too.
            served.get(path).is_none_or(|file| file.resource.bytes().map_or(true, |bytes| bytes != resource.body))
        })
        .map(|(path, _)| path.clone())
        .collect();
    if served.len() != expected.len() {
        differing.push(format!("{} files served, {} built", served.len(), expected.len()));
    }
    differing
}

async fn served_equals_full(edits: &[Edit]) -> Result<(), TestCaseError> {
    let mut store = TempStore::new();
    // A small item limit, so feeds have archives to keep right too.
    store.extra_config = "[sections.kinh-te]\ntitle = \"Kinh tế\"\n\n[feeds]\nitem_limit = 2\n".into();
    store.article("thoi-su/a.vi.md", "Một", "2026-11-20T08:00:00+07:00");
    store.article("kinh-te/c.vi.md", "Ba", "2026-10-05T08:00:00+07:00");
    let source = ConfigSource { path: store.config_path(), overrides: Default::default() };
    let config = source.load().unwrap();
    let expected_config = config.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let daemon = Daemon::start(config, source, listener, Arc::new(ManualClock::new(now()))).await.unwrap();
    for edit in edits {
        apply(&store.root(), edit);
    }
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut left = differing(&daemon, &expected_config);
    while !left.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        left = differing(&daemon, &expected_config);
    }
    daemon.shutdown().await;
    prop_assert!(left.is_empty(), "after {:?}, still differing from a full build: {:?}", edits, left);
    Ok(())
}

proptest! {
    // Each case starts a daemon and waits for the watcher: few cases, and
    // a failing one (which waits out PATIENCE) shrunk only a little.
    #![proptest_config(ProptestConfig { cases: 12, max_shrink_iters: 16, ..ProptestConfig::default() })]

    #[test]
    fn served_files_equal_a_full_build_of_the_watched_folder(
        edits in proptest::collection::vec(edits(), 1..8),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(served_equals_full(&edits))?;
    }
}
