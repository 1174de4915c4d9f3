//! A daemon with its WebSub hub for in-process tests: started on loopback
//! with a test clock, requests to the hub, its subscriptions.

use std::sync::Arc;
use std::time::Duration;

use super::{TempStore, now};
use herald::clock::ManualClock;
use herald::daemon::{ConfigSource, Daemon};
use herald::push::state::PushStore;

/// Longest wait for something the hub does.
pub const PATIENCE: Duration = Duration::from_secs(10);
/// The Vietnamese feed, the topic most tests subscribe to.
pub const TOPIC: &str = "https://example.vn/vi/rss.xml";

/// `[websub]` for tests: loopback callbacks, short leases and retries.
pub const PUSH_CONFIG: &str =
    "[websub]\nallow_private_callbacks = true\nlease_min_seconds = 10\nretry_base_seconds = 10\n";

/// A daemon with its hub, on loopback, with a test clock.
pub struct Hub {
    /// The daemon.
    pub daemon: Daemon,
    /// Its clock.
    pub clock: Arc<ManualClock>,
    /// A client for requests to it.
    pub client: reqwest::Client,
    /// `http://addr`.
    pub base: String,
}

impl Hub {
    /// Starts a daemon over `store` at [`now`].
    pub async fn start(store: &TempStore) -> Hub {
        Hub::start_at(store, Arc::new(ManualClock::new(now()))).await
    }

    /// Starts a daemon over `store` with `clock`.
    pub async fn start_at(store: &TempStore, clock: Arc<ManualClock>) -> Hub {
        let source = ConfigSource { path: store.config_path(), overrides: Default::default() };
        let config = source.load().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let daemon = Daemon::start(config, source, listener, clock.clone()).await.unwrap();
        let base = format!("http://{}", daemon.addr);
        Hub { daemon, clock, client: reqwest::Client::new(), base }
    }

    /// Posts `form` to the hub.
    pub async fn post(&self, form: &[(&str, &str)]) -> (u16, String) {
        self.post_forwarded(None, form).await
    }

    /// Posts `form` with `X-Forwarded-For: forwarded_for` when given (as a
    /// reverse proxy on loopback would).
    pub async fn post_forwarded(&self, forwarded_for: Option<&str>, form: &[(&str, &str)]) -> (u16, String) {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let mut request = self
            .client
            .post(format!("{}/websub", self.base))
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(forwarded_for) = forwarded_for {
            request = request.header("x-forwarded-for", forwarded_for);
        }
        let response = request.body(body).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// Subscribes `callback` to [`TOPIC`], with `extra` form fields.
    pub async fn subscribe(&self, callback: &str, extra: &[(&str, &str)]) -> (u16, String) {
        let mut form = vec![("hub.mode", "subscribe"), ("hub.topic", TOPIC), ("hub.callback", callback)];
        form.extend_from_slice(extra);
        self.post(&form).await
    }

    /// The push store.
    pub fn store(&self) -> &Arc<dyn PushStore> {
        &self.daemon.push.as_ref().unwrap().store
    }

    /// Every subscription.
    pub async fn subscriptions(&self) -> Vec<herald::push::state::Subscription> {
        let store = Arc::clone(self.store());
        tokio::task::spawn_blocking(move || store.subscriptions().unwrap()).await.unwrap()
    }

    /// Waits until `callback` is subscribed.
    pub async fn wait_subscribed(&self, callback: &str) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !self.subscriptions().await.iter().any(|s| s.callback == callback) {
            assert!(tokio::time::Instant::now() < deadline, "{callback} was never subscribed");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The current bytes of the topic.
    pub async fn topic_body(&self) -> bytes::Bytes {
        self.client.get(format!("{}/vi/rss.xml", self.base)).send().await.unwrap().bytes().await.unwrap()
    }

    /// Stops the daemon.
    pub async fn stop(self) {
        self.daemon.shutdown().await;
    }
}

/// Polls `condition` until it holds, for at most PATIENCE.
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "{what} did not happen within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A store with one article and [`PUSH_CONFIG`].
pub fn store_with_push() -> TempStore {
    let mut store = TempStore::new();
    store.extra_config = PUSH_CONFIG.into();
    store.article("thoi-su/mot.vi.md", "Một", "2026-11-20T08:00:00+07:00");
    store
}

impl Hub {
    /// Posts `form` to the hub from loopback address `local` (127.0.0.x:
    /// each is another client to the per-address rate limit): the status,
    /// `Retry-After`, and the body.
    pub async fn post_from(&self, local: std::net::IpAddr, form: &[(&str, &str)]) -> (u16, Option<String>, String) {
        let client = reqwest::Client::builder().local_address(local).build().unwrap();
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let response = client
            .post(format!("{}/websub", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
        (response.status().as_u16(), retry_after, response.text().await.unwrap())
    }
}
