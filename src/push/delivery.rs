//! The delivery engine: every outgoing push request goes through here.
//!
//! It claims due jobs from the durable outbox into per-host queues, runs
//! them with bounded concurrency overall and per callback host (one slow or
//! dead subscriber only ever occupies its own host's slots), and writes the
//! outcomes back in batches: a delivery leaves the outbox only once its
//! receiver answered 2xx. Failures are retried with exponential backoff and
//! jitter until the horizon; `410 Gone` ends a subscription.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};
use rand::RngExt;
use tokio::sync::{Notify, mpsc, watch};
use url::Url;

use super::hub::{Verification, topic_path};
use super::sources::{Fediverse, TopicSource};
use super::ssrf::{GuardedResolver, Lookup};
use super::state::{Delivery, DeliveryKind, PushStore, Settled};
use crate::clock::Clock;
use crate::config::Config;

/// Jobs held in memory at once (claimed, queued or running).
const MAX_IN_MEMORY: usize = 20_000;
/// Jobs held in memory for one host, as a multiple of its concurrency: a
/// host with a long backlog never fills the engine's memory, so other
/// hosts' jobs keep being claimed.
const HOST_QUEUE_FACTOR: usize = 4;
/// Largest verification or denial response read (the challenge is short).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Longest wait between two retries.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Verifications and denials are tried this many times at most.
const MAX_VERIFY_ATTEMPTS: u32 = 3;
/// How long a stopping engine waits for running requests.
pub const DRAIN: Duration = Duration::from_secs(10);
/// After a claim found nothing, how long until the next unprompted one.
const CLAIM_RETRY: Duration = Duration::from_millis(200);

/// What happened to one job: its id and how it settled.
type Outcome = (i64, Settled);

/// Counters of delivery outcomes, for `/metrics`.
#[derive(Debug, Default)]
pub struct DeliveryCounters {
    /// Acknowledged requests.
    pub ok: std::sync::atomic::AtomicU64,
    /// Failed attempts that will be retried.
    pub retried: std::sync::atomic::AtomicU64,
    /// Requests given up.
    pub failed: std::sync::atomic::AtomicU64,
    /// Subscriptions ended by 410 Gone.
    pub gone: std::sync::atomic::AtomicU64,
}

/// The engine and what it needs.
pub struct Engine {
    store: Arc<dyn PushStore>,
    /// Where a delivery reads its topic's current content.
    topics: Arc<dyn TopicSource>,
    config: watch::Receiver<Arc<Config>>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    /// For subscriber callbacks: refuses private addresses unless allowed.
    client: reqwest::Client,
    /// For targets the operator configured (webhooks, IndexNow, external
    /// hubs): they may be on the newsroom's own network.
    trusted: reqwest::Client,
    /// Outcome counters.
    pub counters: Arc<DeliveryCounters>,
    /// Signs activities for fediverse inboxes, once attached.
    pub(super) fediverse: std::sync::OnceLock<Arc<dyn Fediverse>>,
}

impl Engine {
    /// An engine over `store`, reading topic content from `topics`, looking
    /// names up through `lookup`.
    pub fn new(
        store: Arc<dyn PushStore>,
        topics: Arc<dyn TopicSource>,
        config: watch::Receiver<Arc<Config>>,
        clock: Arc<dyn Clock>,
        wake: Arc<Notify>,
        lookup: Arc<dyn Lookup>,
    ) -> Result<Engine, reqwest::Error> {
        let client = http_client(&config.borrow(), true, Arc::clone(&lookup))?;
        let trusted = http_client(&config.borrow(), false, lookup)?;
        Ok(Engine {
            store,
            topics,
            config,
            clock,
            wake,
            client,
            trusted,
            counters: Arc::default(),
            fediverse: std::sync::OnceLock::new(),
        })
    }

    /// Runs until `shutdown` says stop. Then it claims nothing more, lets
    /// the requests already running finish (for up to [`DRAIN`]) and records
    /// their outcomes, so a clean stop repeats nothing; whatever is still
    /// unfinished stays in the outbox and runs after a restart.
    ///
    /// Claims are sized to what the engine can send ([`claim_size`]) and
    /// taken ahead, while the previous ones are being sent, once fewer jobs
    /// wait than can run at once. Outcomes are recorded as soon as they
    /// come (those that came while the last were being recorded, together),
    /// so a killed process repeats little besides what was running.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let store = Arc::clone(&self.store);
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.release_claims()).await {
            tracing::error!("push store: {e}");
        }
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(String, Outcome)>();
        let mut slots = Slots::default();
        // Whether to look for due jobs even though the last look found none
        // (woken, a due time reached, or the start).
        let mut poked = true;
        let mut last_empty_claim: Option<tokio::time::Instant> = None;
        loop {
            let config = Arc::clone(&self.config.borrow());
            self.start_jobs(&mut slots, &config, &done_tx);
            // Take in what is due, when it could run soon; again while
            // claims come back full and more could run.
            let may_claim = poked || last_empty_claim.is_none_or(|at| at.elapsed() >= CLAIM_RETRY);
            while may_claim && slots.held < MAX_IN_MEMORY && slots.wants_more(&config) {
                poked = false;
                let now = self.clock.now();
                let store = Arc::clone(&self.store);
                let limit = claim_size(&config).min(MAX_IN_MEMORY - slots.held);
                let host_cap = HOST_QUEUE_FACTOR * config.websub.max_per_host;
                let full: Vec<String> =
                    slots.queues.iter().filter(|(_, q)| q.len() >= host_cap).map(|(h, _)| h.clone()).collect();
                let jobs = match tokio::task::spawn_blocking(move || store.claim_due(now, limit, &full)).await {
                    Ok(Ok(jobs)) => jobs,
                    Ok(Err(e)) => {
                        tracing::error!("push store: {e}");
                        break;
                    }
                    Err(e) => {
                        tracing::error!("push store: {e}");
                        break;
                    }
                };
                let more = jobs.len() == limit;
                last_empty_claim = jobs.is_empty().then(tokio::time::Instant::now);
                slots.held += jobs.len();
                for job in jobs {
                    slots.queues.entry(host_of(&job)).or_default().push_back(job);
                }
                self.start_jobs(&mut slots, &config, &done_tx);
                if !more {
                    break;
                }
            }
            // Wait for a finished job, new work, the next due time, or stop.
            let idle = slots.held == 0;
            let next_due = if idle {
                let store = Arc::clone(&self.store);
                tokio::task::spawn_blocking(move || store.next_due()).await.ok().and_then(Result::ok).flatten()
            } else {
                None
            };
            let clock = Arc::clone(&self.clock);
            let mut outcomes = Vec::new();
            let mut stopping = false;
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => stopping = true,
                received = done_rx.recv() => {
                    if let Some(first) = received {
                        outcomes.push(first);
                        while let Ok(more) = done_rx.try_recv() {
                            outcomes.push(more);
                        }
                    }
                }
                () = self.wake.notified() => poked = true,
                () = async {
                    match next_due {
                        Some(at) if idle => clock.sleep_until(at).await,
                        _ => std::future::pending().await,
                    }
                } => poked = true,
            }
            if stopping {
                self.drain(done_rx, slots.running_total).await;
                return;
            }
            for (host, _) in &outcomes {
                slots.finish(host);
            }
            if !outcomes.is_empty() {
                self.record(outcomes.into_iter().map(|(_, o)| o).collect()).await;
            }
        }
    }

    /// Starts the queued jobs the limits allow.
    fn start_jobs(
        self: &Arc<Self>,
        slots: &mut Slots,
        config: &Arc<Config>,
        done: &mpsc::UnboundedSender<(String, Outcome)>,
    ) {
        for (host, queue) in slots.queues.iter_mut() {
            let busy = slots.running.entry(host.clone()).or_default();
            while *busy < config.websub.max_per_host && slots.running_total < config.websub.max_concurrent {
                let Some(job) = queue.pop_front() else { break };
                *busy += 1;
                slots.running_total += 1;
                let engine = Arc::clone(self);
                let done = done.clone();
                let host = host.clone();
                let config = Arc::clone(config);
                tokio::spawn(async move {
                    let settled = engine.attempt(&job, &config).await;
                    let _ = done.send((host, (job.id, settled)));
                });
            }
        }
        slots.queues.retain(|_, q| !q.is_empty());
    }

    /// Waits (for up to [`DRAIN`]) for the `running` requests to finish and
    /// records their outcomes.
    async fn drain(&self, mut done: mpsc::UnboundedReceiver<(String, Outcome)>, running: usize) {
        let mut outcomes = Vec::new();
        let deadline = tokio::time::Instant::now() + DRAIN;
        while outcomes.len() < running {
            match tokio::time::timeout_at(deadline, done.recv()).await {
                Ok(Some((_, outcome))) => outcomes.push(outcome),
                _ => break,
            }
        }
        if !outcomes.is_empty() {
            self.record(outcomes).await;
        }
    }

    /// Writes a batch of outcomes in one transaction; if that fails, the
    /// jobs are released (due again) rather than left claimed.
    async fn record(&self, outcomes: Vec<Outcome>) {
        use std::sync::atomic::Ordering::Relaxed;
        for (_, settled) in &outcomes {
            let counter = match settled {
                Settled::Done { .. } => &self.counters.ok,
                Settled::Retry { .. } => &self.counters.retried,
                Settled::Failed { id, error } => {
                    tracing::warn!("giving up push job {id}: {error}");
                    &self.counters.failed
                }
                Settled::Gone { .. } => &self.counters.gone,
            };
            counter.fetch_add(1, Relaxed);
        }
        let store = Arc::clone(&self.store);
        let result = tokio::task::spawn_blocking(move || {
            let settled: Vec<Settled> = outcomes.iter().map(|(_, s)| s.clone()).collect();
            store.settle(&settled).inspect_err(|_| {
                let ids: Vec<i64> = outcomes.iter().map(|(id, _)| *id).collect();
                let _ = store.release(&ids);
            })
        })
        .await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("push store: {e}; the jobs will be tried again"),
            Err(e) => tracing::error!("push store: {e}"),
        }
    }

    /// Makes one attempt at `job`.
    async fn attempt(&self, job: &Delivery, config: &Config) -> Settled {
        match job.kind {
            DeliveryKind::Deliver => self.deliver(job, config).await,
            DeliveryKind::Verify => self.verify(job, config).await,
            DeliveryKind::Deny => self.deny(job, config).await,
            DeliveryKind::Ping => self.ping(job, config).await,
            DeliveryKind::Webhook => self.webhook(job, config).await,
            DeliveryKind::IndexNow => self.indexnow(job, config).await,
            DeliveryKind::Activity => self.activity(job, config).await,
        }
    }

    /// POSTs an activity to a fediverse inbox, signed as its actor (the
    /// job's topic). 410 Gone ends the follows delivered there; a refusal
    /// that retrying cannot change is given up.
    async fn activity(&self, job: &Delivery, config: &Config) -> Settled {
        let Some(fediverse) = self.fediverse.get() else {
            return self.retry(job, config, "ActivityPub is not running".into());
        };
        let headers = match fediverse.sign(&job.topic, &job.target, job.payload.as_bytes(), self.clock.now()) {
            Ok(headers) => headers,
            Err(error) => return self.retry(job, config, error),
        };
        let mut request = self
            .client
            .post(&job.target)
            .header(http::header::CONTENT_TYPE, "application/activity+json")
            .body(job.payload.clone());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        match self.send(&job.target, request, config).await {
            Ok(status) if status.is_success() => Settled::Done { id: job.id, generation: job.generation },
            Ok(status) if status == http::StatusCode::GONE => {
                let store = Arc::clone(&self.store);
                let (actor, inbox) = (job.topic.clone(), job.target.clone());
                match tokio::task::spawn_blocking(move || store.remove_followers_at(&actor, &inbox)).await {
                    Ok(Ok(n)) => {
                        tracing::info!("{} answered 410 Gone: {n} followers of {} removed", job.target, job.topic);
                        self.counters.gone.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        fediverse.followers_removed();
                        Settled::Done { id: job.id, generation: job.generation }
                    }
                    _ => self.retry(job, config, "the push store is unavailable".into()),
                }
            }
            Ok(status) if matches!(status.as_u16(), 400 | 403 | 404 | 422) => {
                Settled::Failed { id: job.id, error: format!("the inbox answered {status}") }
            }
            Ok(status) => self.retry(job, config, format!("the inbox answered {status}")),
            Err(error) => self.retry(job, config, error),
        }
    }

    async fn webhook(&self, job: &Delivery, config: &Config) -> Settled {
        // The webhook may have been removed from feeds.toml meanwhile.
        let Some(hook) = config.webhooks.iter().find(|w| w.name == job.topic) else {
            return Settled::Done { id: job.id, generation: job.generation };
        };
        let id = job.message_id.clone().unwrap_or_default();
        let timestamp = self.clock.now().as_second();
        let signature = super::webhooks::sign(&hook.key, &id, timestamp, job.payload.as_bytes());
        let request = self
            .trusted
            .post(&hook.url)
            .header(http::header::USER_AGENT, super::webhooks::user_agent(config))
            .header(http::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(job.payload.clone());
        match self.send_trusted(request, config).await {
            Ok(status) if status.is_success() => Settled::Done { id: job.id, generation: job.generation },
            Ok(status) if status == http::StatusCode::GONE => {
                Settled::Failed { id: job.id, error: format!("webhook {} answered 410 Gone", hook.name) }
            }
            Ok(status) => self.retry(job, config, format!("webhook {} answered {status}", hook.name)),
            Err(error) => self.retry(job, config, error),
        }
    }

    async fn indexnow(&self, job: &Delivery, config: &Config) -> Settled {
        let Some(indexnow) = &config.indexnow else { return Settled::Done { id: job.id, generation: job.generation } };
        let urls: Vec<String> = serde_json::from_str(&job.payload).unwrap_or_default();
        let body = serde_json::json!({
            "host": job.topic,
            "key": indexnow.key,
            "keyLocation": config.url_for(&format!("/{}.txt", indexnow.key)),
            "urlList": urls,
        });
        let request = self
            .trusted
            .post(&indexnow.endpoint)
            .header(http::header::USER_AGENT, super::webhooks::user_agent(config))
            .header(http::header::CONTENT_TYPE, "application/json; charset=utf-8")
            .body(body.to_string());
        match self.send_trusted(request, config).await {
            Ok(status) if status.is_success() => Settled::Done { id: job.id, generation: job.generation },
            // The request itself is wrong (key, host, URLs): retrying won't help.
            Ok(status) if matches!(status.as_u16(), 400 | 403 | 422) => {
                Settled::Failed { id: job.id, error: format!("IndexNow answered {status}") }
            }
            Ok(status) => self.retry(job, config, format!("IndexNow answered {status}")),
            Err(error) => self.retry(job, config, error),
        }
    }

    /// Sends to a target the operator configured.
    async fn send_trusted(
        &self,
        request: reqwest::RequestBuilder,
        config: &Config,
    ) -> Result<http::StatusCode, String> {
        let response = request.timeout(config.websub.request_timeout).send().await.map_err(|e| error_text(&e))?;
        Ok(response.status())
    }

    async fn deliver(&self, job: &Delivery, config: &Config) -> Settled {
        let drop_job = Settled::Done { id: job.id, generation: job.generation };
        let Some(subscription_id) = job.subscription_id else { return drop_job };
        let subscription = match &job.subscription {
            Some(read_with_claim) => read_with_claim.clone(),
            None => {
                let store = Arc::clone(&self.store);
                match tokio::task::spawn_blocking(move || store.subscription(subscription_id)).await {
                    Ok(Ok(Some(s))) => s,
                    Ok(Ok(None)) => return drop_job, // unsubscribed meanwhile
                    _ => return self.retry(job, config, "the push store is unavailable".into()),
                }
            }
        };
        if subscription.expires_at <= self.clock.now() {
            return drop_job;
        }
        let Some(path) = topic_path(&job.topic, config) else { return drop_job };
        let Some(file) = self.topics.current(&path) else { return drop_job };
        let body: Bytes = match file.bytes() {
            Ok(body) => body,
            Err(e) => return self.retry(job, config, format!("cannot read the topic's file: {e}")),
        };
        let mut request = self
            .client
            .post(&subscription.callback)
            .header(http::header::CONTENT_TYPE, file.content_type)
            .header(http::header::LINK, config.websub.link_header(&config.site, &job.topic))
            .body(body.clone());
        if let Some(secret) = &subscription.secret {
            request = request
                .header("X-Hub-Signature", super::signature::sign(config.websub.signature_algorithm, secret, &body));
        }
        match self.send(&subscription.callback, request, config).await {
            Ok(status) if status.is_success() => Settled::Done { id: job.id, generation: job.generation },
            Ok(status) if status == http::StatusCode::GONE => Settled::Gone { subscription: subscription.id },
            Ok(status) => self.retry(job, config, format!("the callback answered {status}")),
            Err(error) => self.retry(job, config, error),
        }
    }

    async fn verify(&self, job: &Delivery, config: &Config) -> Settled {
        let Ok(verification) = serde_json::from_str::<Verification>(&job.payload) else {
            return Settled::Failed { id: job.id, error: "unreadable verification".into() };
        };
        let mut url = match Url::parse(&job.target) {
            Ok(url) => url,
            Err(e) => return Settled::Failed { id: job.id, error: e.to_string() },
        };
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("hub.mode", &verification.mode);
            query.append_pair("hub.topic", &job.topic);
            query.append_pair("hub.challenge", &verification.challenge);
            if verification.mode == "subscribe" {
                query.append_pair("hub.lease_seconds", &verification.lease_seconds.to_string());
            }
        }
        let response = match self.get(url.as_str(), config).await {
            Ok(response) => response,
            Err(error) if job.attempts + 1 < MAX_VERIFY_ATTEMPTS => return self.retry(job, config, error),
            Err(error) => return Settled::Failed { id: job.id, error },
        };
        let (status, echoed) = response;
        let confirmed = status.is_success() && echoed.trim() == verification.challenge;
        if !confirmed {
            // The subscriber did not confirm: nothing changes.
            tracing::info!("{} did not confirm {} to {} ({status})", job.target, verification.mode, job.topic);
            return Settled::Done { id: job.id, generation: job.generation };
        }
        let store = Arc::clone(&self.store);
        let now = self.clock.now();
        let (topic, callback) = (job.topic.clone(), job.target.clone());
        let applied = tokio::task::spawn_blocking(move || {
            if verification.mode == "subscribe" {
                let secret = verification.secret_hex.as_deref().and_then(|h| hex::decode(h).ok());
                store.subscribe(&topic, &callback, secret.as_deref(), verification.lease_seconds, now)
            } else {
                store.unsubscribe(&topic, &callback).map(|_| ())
            }
        })
        .await;
        match applied {
            Ok(Ok(())) => Settled::Done { id: job.id, generation: job.generation },
            _ => self.retry(job, config, "the push store is unavailable".into()),
        }
    }

    async fn deny(&self, job: &Delivery, config: &Config) -> Settled {
        let mut url = match Url::parse(&job.target) {
            Ok(url) => url,
            Err(e) => return Settled::Failed { id: job.id, error: e.to_string() },
        };
        url.query_pairs_mut()
            .append_pair("hub.mode", "denied")
            .append_pair("hub.topic", &job.topic)
            .append_pair("hub.reason", &job.payload);
        match self.get(url.as_str(), config).await {
            Ok(_) => Settled::Done { id: job.id, generation: job.generation },
            Err(error) if job.attempts + 1 < MAX_VERIFY_ATTEMPTS => self.retry(job, config, error),
            Err(error) => Settled::Failed { id: job.id, error },
        }
    }

    async fn ping(&self, job: &Delivery, config: &Config) -> Settled {
        let form: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("hub.mode", "publish")
            .append_pair("hub.url", &job.topic)
            .append_pair("hub.topic", &job.topic)
            .finish();
        let request = self
            .trusted
            .post(&job.target)
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form);
        match self.send_trusted(request, config).await {
            Ok(status) if status.is_success() => Settled::Done { id: job.id, generation: job.generation },
            Ok(status) => self.retry(job, config, format!("the hub answered {status}")),
            Err(error) => self.retry(job, config, error),
        }
    }

    /// Sends `request` to `url`, refusing private addresses unless allowed.
    async fn send(
        &self,
        url: &str,
        request: reqwest::RequestBuilder,
        config: &Config,
    ) -> Result<http::StatusCode, String> {
        let parsed = Url::parse(url).map_err(|e| e.to_string())?;
        if !super::ssrf::literal_host_allowed(&parsed, config.websub.allow_private_callbacks) {
            return Err(format!("{url} is a private address"));
        }
        let response = request.timeout(config.websub.request_timeout).send().await.map_err(|e| error_text(&e))?;
        Ok(response.status())
    }

    /// GETs `url`, returning the status and (at most 64 KB of) the body.
    async fn get(&self, url: &str, config: &Config) -> Result<(http::StatusCode, String), String> {
        let parsed = Url::parse(url).map_err(|e| e.to_string())?;
        if !super::ssrf::literal_host_allowed(&parsed, config.websub.allow_private_callbacks) {
            return Err(format!("{url} is a private address"));
        }
        let response =
            self.client.get(url).timeout(config.websub.request_timeout).send().await.map_err(|e| error_text(&e))?;
        let status = response.status();
        // Read at most MAX_RESPONSE_BYTES: a callback cannot make the hub
        // hold a huge answer in memory.
        let mut response = response;
        let mut body = Vec::new();
        while body.len() <= MAX_RESPONSE_BYTES {
            match response.chunk().await.map_err(|e| error_text(&e))? {
                Some(chunk) => body.extend_from_slice(&chunk),
                None => break,
            }
        }
        body.truncate(MAX_RESPONSE_BYTES);
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// The next attempt after a failure, or giving up past the horizon.
    fn retry(&self, job: &Delivery, config: &Config, error: String) -> Settled {
        let now = self.clock.now();
        let delay = backoff(config.websub.retry_base, job.attempts);
        let next = now.checked_add(SignedDuration::try_from(delay).unwrap_or(SignedDuration::MAX)).unwrap_or(now);
        let horizon = SignedDuration::try_from(config.websub.retry_horizon).unwrap_or(SignedDuration::MAX);
        let deadline = job.created_at.checked_add(horizon).unwrap_or(Timestamp::MAX);
        if next > deadline {
            Settled::Failed { id: job.id, error: format!("{error}; gave up after {} attempts", job.attempts + 1) }
        } else {
            Settled::Retry { id: job.id, next, error }
        }
    }
}

/// The delay before retry number `attempts + 1`: `base` doubled per
/// attempt, at most an hour, ±20% jitter so retries do not arrive in
/// waves.
pub fn backoff(base: Duration, attempts: u32) -> Duration {
    let exponential = base.saturating_mul(1u32.checked_shl(attempts.min(20)).unwrap_or(u32::MAX)).min(MAX_BACKOFF);
    exponential.mul_f64(rand::rng().random_range(0.8..1.2))
}

/// How many jobs one claim takes at most: two rounds of what can run at
/// once (the next claim comes while the first round is being sent).
pub fn claim_size(config: &Config) -> usize {
    (2 * config.websub.max_concurrent).clamp(64, MAX_IN_MEMORY)
}

/// The jobs the engine holds: queued by host, and running.
#[derive(Default)]
struct Slots {
    queues: HashMap<String, VecDeque<Delivery>>,
    running: HashMap<String, usize>,
    running_total: usize,
    /// Claimed and not finished (queued or running).
    held: usize,
}

impl Slots {
    /// Whether a claim is worth it: some of what may run at once is free
    /// (every queued job's host is at its limit), or fewer jobs wait than
    /// can run at once.
    fn wants_more(&self, config: &Config) -> bool {
        let max = config.websub.max_concurrent;
        self.running_total < max || self.held.saturating_sub(self.running_total) < max
    }

    /// A job for `host` finished.
    fn finish(&mut self, host: &str) {
        if let Some(busy) = self.running.get_mut(host) {
            *busy = busy.saturating_sub(1);
            if *busy == 0 {
                self.running.remove(host);
            }
        }
        self.running_total = self.running_total.saturating_sub(1);
        self.held = self.held.saturating_sub(1);
    }
}

/// The host a job calls, its unit of concurrency (IndexNow jobs share one).
fn host_of(job: &Delivery) -> String {
    if job.kind == DeliveryKind::IndexNow { "indexnow".to_string() } else { super::state::host_of(&job.target) }
}

fn error_text(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// An HTTP client for outgoing pushes: no redirects, timeouts, TLS with
/// the ring provider, names looked up through `lookup`, and, when
/// `guarded` (subscriber callbacks) and private callbacks are not allowed,
/// private addresses refused at every call.
fn http_client(config: &Config, guarded: bool, lookup: Arc<dyn Lookup>) -> Result<reqwest::Client, reqwest::Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("herald/", env!("CARGO_PKG_VERSION"), " (WebSub hub)"))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(config.websub.request_timeout)
        .pool_max_idle_per_host(config.websub.max_per_host);
    let public_only = guarded && !config.websub.allow_private_callbacks;
    if public_only {
        // A proxy would resolve the callback's name itself, past the
        // guard: subscriber callbacks are always called directly.
        builder = builder.no_proxy();
    }
    builder.dns_resolver(Arc::new(GuardedResolver::new(lookup, public_only))).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_secs(10);
        for (attempts, expected) in [(0u32, 10.0), (1, 20.0), (2, 40.0), (5, 320.0)] {
            let d = backoff(base, attempts).as_secs_f64();
            assert!(d >= expected * 0.8 && d <= expected * 1.2, "attempt {attempts}: {d}");
        }
        assert!(backoff(base, 30) <= MAX_BACKOFF.mul_f64(1.2));
    }
}
