//! The delivery engine driven directly: its own state file, a test clock,
//! and a table of names instead of DNS, so a test decides what a callback's
//! name resolves to at each call. Callbacks are checked against SSRF at
//! every call (a name that turns private between subscription and call is
//! refused: DNS rebinding); a failing delivery is retried until the 24-hour
//! horizon and then given up; one slow host never holds up another.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

use crate::common::subscriber::Subscriber;
use crate::common::*;
use herald::clock::{Clock, ManualClock};
use herald::config::{Config, Overrides};
use herald::push::Push;
use herald::push::sources::TopicSource;
use herald::push::ssrf::{Looking, Lookup};
use herald::push::state::{Delivery, Initialise};
use herald::snapshot::{Resource, ResourceKind, Snapshot};

const PATIENCE: Duration = Duration::from_secs(10);
const TOPIC: &str = "https://example.vn/vi/rss.xml";

/// Names and their addresses, changed by the test at will.
#[derive(Debug, Default)]
struct Names(Mutex<HashMap<String, Vec<IpAddr>>>);

impl Names {
    fn set(&self, name: &str, address: &str) {
        self.0.lock().unwrap().insert(name.to_string(), vec![address.parse().unwrap()]);
    }
}

impl Lookup for Names {
    fn lookup(&self, host: &str) -> Looking {
        let found = self.0.lock().unwrap().get(host).cloned();
        let host = host.to_string();
        Box::pin(async move {
            found.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, format!("{host}: no such name")))
        })
    }
}

/// The feed served as the topic.
#[derive(Default)]
struct Files(Mutex<Option<Arc<Resource>>>);

impl TopicSource for Files {
    fn current(&self, path: &str) -> Option<Arc<Resource>> {
        (path == "/vi/rss.xml").then(|| self.0.lock().unwrap().clone()).flatten()
    }
}

/// Push (store, hub, engine) over a temporary state folder, not running
/// until [`Engine::run`].
struct Engine {
    push: Push,
    clock: Arc<ManualClock>,
    names: Arc<Names>,
    files: Arc<Files>,
    config: Arc<Config>,
    shutdown: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    _state: tempfile::TempDir,
}

impl Engine {
    /// With `websub` appended to the `[websub]` table.
    fn open(websub: &str) -> Engine {
        let state = tempfile::tempdir().unwrap();
        let text = format!("store = \"unused\"\n{TEST_CONFIG}\n[websub]\n{websub}\n");
        let overrides = Overrides { state_dir: Some(state.path().to_path_buf()), ..Overrides::default() };
        let config = Arc::new(Config::parse(&text, std::path::Path::new("feeds.toml"), &overrides).unwrap());
        let (_, config_rx) = watch::channel(Arc::clone(&config));
        let clock = Arc::new(ManualClock::new(now()));
        let names = Arc::new(Names::default());
        let files = Arc::new(Files::default());
        let push = Push::open(
            config_rx,
            Arc::clone(&files) as Arc<dyn TopicSource>,
            Arc::clone(&clock) as Arc<dyn Clock>,
            Initialise::IfMissing,
            Arc::clone(&names) as Arc<dyn Lookup>,
        )
        .unwrap();
        let (shutdown, _) = watch::channel(false);
        Engine { push, clock, names, files, config, shutdown, task: None, _state: state }
    }

    fn run(&mut self) {
        self.task = Some(tokio::spawn(Arc::clone(&self.push.engine).run(self.shutdown.subscribe())));
    }

    /// Serves `body` as the topic and announces it (the first version is
    /// only recorded; a changed one queues a delivery per subscriber).
    fn publish(&self, body: &str) {
        let resource = Resource::new(ResourceKind::Feed, body.as_bytes().to_vec(), "application/rss+xml", None);
        *self.files.0.lock().unwrap() = Some(Arc::new(resource.clone()));
        let mut snapshot = Snapshot::new();
        snapshot.insert("/vi/rss.xml".to_string(), resource);
        self.push.announce(&snapshot, None, &self.config, self.clock.now());
    }

    /// A verified subscription of `callback` to the topic.
    fn subscribed(&self, callback: &str) {
        self.push.store.subscribe(TOPIC, callback, None, 86_400 * 30, self.clock.now()).unwrap();
    }

    async fn jobs(&self) -> Vec<Delivery> {
        let store = Arc::clone(&self.push.store);
        tokio::task::spawn_blocking(move || store.deliveries(false, 1000).unwrap()).await.unwrap()
    }

    /// Polls the outbox until `done` holds.
    async fn wait_jobs(&self, what: &str, done: impl Fn(&[Delivery]) -> bool) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let jobs = self.jobs().await;
            if done(&jobs) {
                return jobs;
            }
            assert!(tokio::time::Instant::now() < deadline, "{what} did not happen: {jobs:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn stop(mut self) {
        self.shutdown.send_replace(true);
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "{what} did not happen within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A subscription request to the hub: its status.
async fn subscribe(engine: &Engine, callback: &str) -> u16 {
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.topic", TOPIC)
        .append_pair("hub.callback", callback)
        .finish();
    let request = http::Request::post("/websub")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form)))
        .unwrap();
    let client: IpAddr = "192.0.2.7".parse().unwrap();
    engine.push.hub.handle(request, client, engine.files.as_ref()).await.status().as_u16()
}

/// DNS rebinding: a callback name that is public when the subscription is
/// requested (so the hub takes it) and loopback when herald calls it is
/// refused at the call, for a verification and for a delivery alike; no
/// request reaches the loopback receiver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_turns_private_is_refused_at_every_call() {
    let receiver = Subscriber::start().await;
    let port = receiver.addr.port();
    let mut engine = Engine::open("");
    engine.publish("<rss>1</rss>");
    engine.names.set("rebind.example", "93.184.216.34");
    assert_eq!(subscribe(&engine, &format!("http://rebind.example:{port}/cb/verify")).await, 202);
    // Loopback is refused at the door while the name says so.
    engine.names.set("private.example", "127.0.0.1");
    assert_eq!(subscribe(&engine, &format!("http://private.example:{port}/cb/no")).await, 400);
    engine.subscribed(&format!("http://rebind.example:{port}/cb/deliver"));
    engine.publish("<rss>2</rss>");

    engine.names.set("rebind.example", "127.0.0.1");
    engine.run();
    let refused =
        |j: &Delivery| j.attempts >= 1 && j.last_error.as_deref().is_some_and(|e| e.contains("no public address"));
    engine.wait_jobs("both calls refused", |jobs| jobs.len() == 2 && jobs.iter().all(refused)).await;
    assert!(receiver.gets("verify").is_empty(), "the verification reached loopback");
    assert!(receiver.attempts("deliver").is_empty(), "the delivery reached loopback");
    engine.stop().await;
    receiver.stop().await;
}

/// The control of the test above: the same names, with private callbacks
/// allowed, reach the receiver; so the refusal there is the guard's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_looked_up_at_every_call() {
    let receiver = Subscriber::start().await;
    let port = receiver.addr.port();
    let mut engine = Engine::open("allow_private_callbacks = true\n");
    engine.publish("<rss>1</rss>");
    engine.names.set("rebind.example", "127.0.0.1");
    assert_eq!(subscribe(&engine, &format!("http://rebind.example:{port}/cb/verify")).await, 202);
    engine.subscribed(&format!("http://rebind.example:{port}/cb/deliver"));
    engine.publish("<rss>2</rss>");
    engine.run();
    eventually("the verification", || receiver.gets("verify").len() == 1).await;
    eventually("the delivery", || receiver.deliveries("deliver").len() == 1).await;
    assert_eq!(&receiver.deliveries("deliver")[0].body[..], b"<rss>2</rss>");
    engine.stop().await;
    receiver.stop().await;
}

/// A delivery that keeps failing is retried (with the backoff capped at an
/// hour) until `retry_horizon_hours` (24 by default) after it was queued,
/// then given up; none is attempted after the horizon.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_delivery_is_given_up_at_the_retry_horizon() {
    let receiver = Subscriber::start().await;
    receiver.set_statuses("down", &[503; 100]);
    let mut engine = Engine::open("allow_private_callbacks = true\nretry_base_seconds = 3600\n");
    assert_eq!(engine.config.websub.retry_horizon, Duration::from_secs(24 * 3600));
    engine.publish("<rss>1</rss>");
    engine.subscribed(&receiver.callback("down"));
    let queued: Timestamp = engine.clock.now();
    engine.publish("<rss>2</rss>");
    engine.run();
    let mut attempted_at = vec![queued];
    let job = loop {
        let attempts = attempted_at.len();
        eventually("the attempt", || receiver.attempts("down").len() == attempts).await;
        let jobs = engine.wait_jobs("the outcome recorded", |jobs| jobs[0].attempts as usize == attempts).await;
        if jobs[0].failed {
            break jobs[0].clone();
        }
        let store = Arc::clone(&engine.push.store);
        let next = tokio::task::spawn_blocking(move || store.next_due().unwrap()).await.unwrap().unwrap();
        assert!(attempts < 60, "still retrying after {attempts} attempts");
        engine.clock.set(next);
        attempted_at.push(next);
    };
    let horizon = queued + SignedDuration::from_hours(24);
    let last = *attempted_at.last().unwrap();
    assert!(last <= horizon, "an attempt after the horizon: {last}");
    // Given up only when the next retry (an hour ± 20%) would pass it.
    assert!(last > horizon - SignedDuration::from_mins(72), "given up early, at {last}");
    assert!(job.last_error.as_deref().is_some_and(|e| e.contains("gave up")), "{job:?}");
    let store = Arc::clone(&engine.push.store);
    assert_eq!(tokio::task::spawn_blocking(move || store.next_due().unwrap()).await.unwrap(), None);
    engine.stop().await;
    receiver.stop().await;
}

/// One host that holds its requests unanswered occupies only its own
/// `max_concurrent_per_host` slots: another host's deliveries all arrive
/// meanwhile, and the slow host's follow once it answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_host_never_holds_up_another() {
    let slow = Subscriber::start().await;
    let fast = Subscriber::start().await;
    slow.hold_after(0);
    let mut engine = Engine::open("allow_private_callbacks = true\nmax_concurrent_per_host = 2\n");
    engine.names.set("slow.example", "127.0.0.1");
    engine.names.set("fast.example", "127.0.0.1");
    engine.publish("<rss>1</rss>");
    for i in 0..6 {
        engine.subscribed(&format!("http://slow.example:{}/cb/s{i}", slow.addr.port()));
    }
    for i in 0..3 {
        engine.subscribed(&format!("http://fast.example:{}/cb/f{i}", fast.addr.port()));
    }
    engine.publish("<rss>2</rss>");
    engine.run();
    eventually("the fast host's deliveries", || fast.all_deliveries().len() == 3).await;
    eventually("the slow host's first two requests", || slow.held() == 2).await;
    assert_eq!(slow.held(), 2, "more requests to the slow host than its limit");
    slow.release();
    eventually("the slow host's deliveries", || slow.all_deliveries().len() == 6).await;
    engine.wait_jobs("the outbox to empty", <[Delivery]>::is_empty).await;
    engine.stop().await;
    slow.stop().await;
    fast.stop().await;
}
