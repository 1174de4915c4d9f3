//! What a restart announces: after edits, additions, deletions, renames
//! and breakages made while herald was stopped, a start from the saved
//! catalog (reading only the changed documents) announces exactly what a
//! start without it (reading every document) announces, event for event
//! and under the same webhook ids; and a further restart announces
//! nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::common::subscriber::Subscriber;
use crate::common::*;
use crate::saved_catalog::{Edit, apply, edits, stamps};
use crate::watched_store::differing;
use herald::clock::ManualClock;
use herald::daemon::{ConfigSource, Daemon};
use herald::saved_catalog::{CATALOG_DIR, RACY_MARGIN};
use proptest::prelude::*;

const PATIENCE: Duration = Duration::from_secs(60);

fn store(receiver: &Subscriber) -> TempStore {
    let mut store = TempStore::new();
    store.extra_config = format!(
        "[sections.kinh-te]\ntitle = \"Kinh tế\"\n\n[feeds]\nitem_limit = 2\n\n[[webhooks]]\nname = \"bot\"\nurl = \"{}\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n",
        receiver.callback("bot"),
    );
    store.article("thoi-su/a.vi.md", "Một", "2026-11-20T08:00:00+07:00");
    store.article("thoi-su/a.en.md", "One", "2026-11-20T09:00:00+07:00");
    store.article("thoi-su/b.vi.md", "Hai", "2026-10-20T08:00:00+07:00");
    store.article("kinh-te/c.vi.md", "Ba", "2026-10-05T08:00:00+07:00");
    store.article("kinh-te/d.en.md", "Four", "2026-09-05T08:00:00+07:00");
    store
}

async fn start(store: &TempStore, state: &Path) -> Daemon {
    let source = ConfigSource {
        path: store.config_path(),
        overrides: herald::config::Overrides { state_dir: Some(state.to_path_buf()), ..Default::default() },
    };
    let config = source.load().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Daemon::start(config, source, listener, Arc::new(ManualClock::new(now()))).await.unwrap()
}

/// Waits until the daemon serves a full build's files and its outbox is
/// empty (every announcement delivered); stops it.
async fn settle_and_stop(daemon: Daemon, store: &TempStore) -> Result<(), TestCaseError> {
    let config = store.config();
    let push = Arc::clone(daemon.push.as_ref().unwrap());
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let state = Arc::clone(&push.store);
        let waiting = tokio::task::spawn_blocking(move || state.deliveries(false, 1000).unwrap()).await.unwrap();
        let left = differing(&daemon, &config);
        if waiting.is_empty() && left.is_empty() {
            break;
        }
        prop_assert!(tokio::time::Instant::now() < deadline, "not settled: {:?} {:?}", waiting, left);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    daemon.shutdown().await;
    Ok(())
}

/// The webhook events received after the first `from`: (id, type, url).
fn events(receiver: &Subscriber, from: usize) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = receiver
        .deliveries("bot")
        .iter()
        .skip(from)
        .map(|r| {
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            let field = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
            (r.headers["webhook-id"].clone(), field(&body["type"]), field(&body["data"]["url"]))
        })
        .collect();
    out.sort();
    out
}

/// Waits until the system's clock is `RACY_MARGIN` past every change to
/// the store, so that the first start saves every document (a document
/// changed just before it is read is read again at the next start).
fn wait_for_settled_files(root: &Path) {
    let newest = stamps(root).values().map(|s| s.1).max().unwrap_or(SystemTime::UNIX_EPOCH);
    let deadline = std::time::Instant::now() + RACY_MARGIN + Duration::from_secs(10);
    while SystemTime::now() <= newest + RACY_MARGIN + Duration::from_millis(20) {
        assert!(std::time::Instant::now() < deadline, "the clock does not move");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How many documents of the store now are unchanged since `before`
/// (and were good then: all the store's first documents are).
fn after_stamps(store: &TempStore, before: &std::collections::BTreeMap<PathBuf, (u64, SystemTime)>) -> u64 {
    stamps(&store.root()).iter().filter(|(path, stamp)| before.get(*path) == Some(stamp)).count() as u64
}

fn copy_dir_all(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target: PathBuf = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir_all(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

async fn announces_like_a_cold_start(stopped: &[Edit]) -> Result<(), TestCaseError> {
    let receiver = Subscriber::start().await;
    let store = store(&receiver);
    let (warm, cold) = (store.dir.path().join("state"), store.dir.path().join("state-cold"));
    wait_for_settled_files(&store.root());
    settle_and_stop(start(&store, &warm).await, &store).await?;
    prop_assert!(events(&receiver, 0).is_empty(), "a first start announces nothing");
    prop_assert!(warm.join(CATALOG_DIR).is_dir());
    let before = stamps(&store.root());
    for edit in stopped {
        apply(&store.root(), edit);
    }
    // The same state, but for the saved catalog.
    copy_dir_all(&warm, &cold);
    std::fs::remove_dir_all(cold.join(CATALOG_DIR)).unwrap();

    let from = receiver.deliveries("bot").len();
    let daemon = start(&store, &warm).await;
    // Only what the edits touched was read.
    let health: serde_json::Value = serde_json::from_slice(&daemon.state.health.load()).unwrap();
    let unchanged = after_stamps(&store, &before);
    prop_assert_eq!(health["documents_reused"].as_u64(), Some(unchanged), "after {:?}", stopped);
    settle_and_stop(daemon, &store).await?;
    let restarted = events(&receiver, from);
    let from = receiver.deliveries("bot").len();
    settle_and_stop(start(&store, &warm).await, &store).await?;
    prop_assert_eq!(events(&receiver, from), vec![], "a second restart announced again");
    let from = receiver.deliveries("bot").len();
    settle_and_stop(start(&store, &cold).await, &store).await?;
    let cold_start = events(&receiver, from);
    receiver.stop().await;
    prop_assert_eq!(restarted, cold_start, "after {:?}", stopped);
    Ok(())
}

proptest! {
    // Each case starts four daemons and waits out the catalog's margin
    // once: few cases.
    #![proptest_config(ProptestConfig { cases: 6, max_shrink_iters: 8, ..ProptestConfig::default() })]

    #[test]
    fn a_restart_announces_what_changed_while_stopped_once(stopped in proptest::collection::vec(edits(), 1..6)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(announces_like_a_cold_start(&stopped))?;
    }
}
