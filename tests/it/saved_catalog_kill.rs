//! `kill -9` while `herald serve` writes its saved catalog (after a start
//! that read edited documents) leaves a state folder the next start
//! accepts or reads again: its files are always a full build's.

use std::time::{Duration, Instant, SystemTime};

use crate::common::process::Process;
use crate::common::*;
use crate::saved_catalog::{differing, stamps, start, stop, store};
use herald::saved_catalog::{CATALOG_DIR, RACY_MARGIN};

/// Waits until the system's clock is `RACY_MARGIN` past every change to
/// the store, so that herald saves every document it reads (bounded).
fn wait_for_settled_files(store: &TempStore) {
    let newest = stamps(&store.root()).values().map(|s| s.1).max().unwrap_or(SystemTime::UNIX_EPOCH);
    let deadline = Instant::now() + RACY_MARGIN + Duration::from_secs(10);
    while SystemTime::now() <= newest + RACY_MARGIN + Duration::from_millis(20) {
        assert!(Instant::now() < deadline, "the clock does not move");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills herald at points spread over the writing of its catalog, each
/// time after editing a different part of the store; after each kill, a
/// start from what is left serves a full build's files.
#[test]
fn kill_9_while_the_catalog_is_written_leaves_a_state_the_next_start_accepts() {
    let store = store();
    for i in 0..300 {
        store.article(&format!("kinh-te/n{i}.vi.md"), &format!("Tin {i}"), "2026-11-03T08:00:00+07:00");
    }
    let catalog = store.dir.path().join("state").join(CATALOG_DIR);
    // After "listening", the catalog is being written (the start sends it
    // to the writer just before); these points spread over that writing.
    for (round, delay_ms) in [0u64, 1, 2, 5, 10, 30].into_iter().enumerate() {
        for i in (round..300).step_by(4) {
            store.article(&format!("kinh-te/n{i}.vi.md"), &format!("Tin {i} ({round})"), "2026-11-03T08:00:00+07:00");
        }
        wait_for_settled_files(&store);
        let mut herald = Process::start(&store.config_path(), &[]);
        std::thread::sleep(Duration::from_millis(delay_ms));
        herald.signal("KILL");
        herald.wait();
        assert!(catalog.is_dir());
        let site = start(&store, now());
        let differ = differing(&site, &store, now());
        assert!(differ.is_empty(), "killed {delay_ms} ms after listening: {differ:?}");
        stop(site);
    }
    // And a state written whole is taken whole.
    let site = start(&store, now());
    assert_eq!(site.stats().reused_documents, stamps(&store.root()).len() as u64);
    stop(site);
}
