//! The WebSub hub endpoint (W3C WebSub §5): subscription and
//! unsubscription requests.
//!
//! A well-formed request is answered `202 Accepted` at once; the intent is
//! then verified asynchronously by the delivery engine (a GET to the
//! callback that must echo a challenge), and only a verified subscription
//! becomes active. Topics herald does not serve are denied the same way
//! (a GET with `hub.mode=denied`). Malformed requests get a 4xx with a
//! plain-text reason. What strangers can make the hub queue is bounded
//! twice: requests per client address per minute (429), and
//! verifications and denials waiting at once, per topic and overall,
//! whatever the addresses (503 with `Retry-After`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use tokio::sync::{Notify, watch};

use super::hub_request::{HubRequest, Subscription, SubscriptionMode, parse_hub_request};
use super::sources::TopicSource;
use super::ssrf::Lookup;
use super::state::{DeliveryKind, NewDelivery, PendingLimits, PushStore, Queued};
use crate::clock::Clock;
use crate::config::Config;
use crate::snapshot::ResourceKind;

/// Largest request body accepted (a subscription request is a few hundred
/// bytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
pub use super::hub_request::MAX_SECRET_BYTES;

/// `Retry-After` when too many verifications wait (they usually take a
/// second each; a callback that never answers waits out its retries).
pub const BUSY_RETRY_SECONDS: u16 = 60;

/// Why a hub request is not queued.
enum Refusal {
    /// A plain answer: bad request, or the store failed.
    Status(StatusCode, String),
    /// Too many verifications wait: 503 with `Retry-After`.
    Busy(&'static str),
}

/// The verification a queued `websub.verify` job performs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Verification {
    /// `subscribe` or `unsubscribe`.
    pub mode: String,
    /// The lease granted (subscribe only).
    pub lease_seconds: u64,
    /// The secret, hex-encoded, if one was given.
    pub secret_hex: Option<String>,
    /// The challenge the callback must echo.
    pub challenge: String,
}

/// The WebSub hub: takes subscription requests and queues their verification.
pub struct WebSubHub {
    store: Arc<dyn PushStore>,
    config: watch::Receiver<Arc<Config>>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    rate: RateLimiter,
    /// Where callback host names are looked up (the SSRF check).
    lookup: Arc<dyn Lookup>,
}

impl WebSubHub {
    /// A hub queuing its work in `store` and waking the engine with `wake`;
    /// callback names are looked up through `lookup`.
    pub fn new(
        store: Arc<dyn PushStore>,
        config: watch::Receiver<Arc<Config>>,
        clock: Arc<dyn Clock>,
        wake: Arc<Notify>,
        lookup: Arc<dyn Lookup>,
    ) -> WebSubHub {
        WebSubHub { store, config, clock, wake, rate: RateLimiter::default(), lookup }
    }

    /// The hub endpoint's path (from the configuration in force).
    pub fn path(&self) -> String {
        self.config.borrow().websub.path.clone()
    }

    /// The configuration in force (it follows reloads).
    pub fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config.borrow())
    }

    /// Answers one request to the hub endpoint from `client`: the address
    /// requests are counted against for the rate limit (the client's own
    /// address, not a reverse proxy's). `topics` are the files served
    /// when the request came.
    pub async fn handle<B>(
        &self,
        request: http::Request<B>,
        client: IpAddr,
        topics: &dyn TopicSource,
    ) -> Response<Full<Bytes>>
    where
        B: http_body::Body<Data = Bytes> + Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let config = Arc::clone(&self.config.borrow());
        if !self.rate.allow(client, config.websub.subscribe_rate_per_minute) {
            let mut response = text(
                StatusCode::TOO_MANY_REQUESTS,
                "too many subscription requests from this address; try again in a minute\n",
            );
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            return response;
        }
        let body = match Limited::new(request.into_body(), MAX_BODY_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "the request body is too large\n"),
        };
        let accepted = match parse_hub_request(&body) {
            Ok(request) => self.accept(request, &config, topics).await,
            Err(reason) => Err(Refusal::Status(StatusCode::BAD_REQUEST, reason.to_string())),
        };
        match accepted {
            Ok(()) => {
                self.wake.notify_one();
                text(StatusCode::ACCEPTED, "accepted; the callback will be asked to verify\n")
            }
            Err(Refusal::Status(status, reason)) => text(status, &format!("{reason}\n")),
            Err(Refusal::Busy(reason)) => {
                let mut response = text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!("{reason}; try again in {BUSY_RETRY_SECONDS} seconds\n"),
                );
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(BUSY_RETRY_SECONDS));
                response
            }
        }
    }

    /// Checks a well-formed request against this hub (the callback's
    /// addresses, the topic) and queues its verification (or denial).
    async fn accept(&self, request: HubRequest, config: &Config, topics: &dyn TopicSource) -> Result<(), Refusal> {
        let bad = |reason: &str| Refusal::Status(StatusCode::BAD_REQUEST, reason.to_string());
        let Subscription { mode, callback, callback_url, topic, secret, lease_seconds } = match request {
            // herald publishes its own topics as they change.
            HubRequest::Publish { topic } => {
                return if served_topic(&topic, config, topics) {
                    Ok(())
                } else {
                    Err(bad("this hub does not serve that topic"))
                };
            }
            HubRequest::Subscription(subscription) => subscription,
        };
        super::ssrf::check_callback(&callback_url, config.websub.allow_private_callbacks, self.lookup.as_ref())
            .await
            .map_err(|why| bad(&why))?;
        let now = self.clock.now();
        let websub = &config.websub;
        let job = if mode == SubscriptionMode::Subscribe && !served_topic(&topic, config, topics) {
            NewDelivery {
                kind: DeliveryKind::Deny,
                target: callback,
                topic,
                payload: "this hub only serves the feeds of its own site".to_string(),
            }
        } else {
            let lease = lease_seconds.unwrap_or(websub.lease_default).clamp(websub.lease_min, websub.lease_max);
            let verification = Verification {
                mode: mode.as_str().to_string(),
                lease_seconds: lease,
                secret_hex: secret.map(hex::encode),
                challenge: hex::encode(rand::random::<[u8; 16]>()),
            };
            NewDelivery {
                kind: DeliveryKind::Verify,
                target: callback,
                topic,
                payload: serde_json::to_string(&verification).unwrap_or_default(),
            }
        };
        let store = Arc::clone(&self.store);
        let limits = PendingLimits {
            per_topic: websub.max_pending_verifications_per_topic,
            overall: websub.max_pending_verifications,
        };
        let queued = tokio::task::spawn_blocking(move || store.enqueue(job, now, limits))
            .await
            .map_err(|e| Refusal::Status(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
            .map_err(|e| {
                tracing::error!("cannot queue a WebSub verification: {e}");
                Refusal::Status(StatusCode::SERVICE_UNAVAILABLE, "the hub cannot take requests right now".to_string())
            })?;
        match queued {
            Queued::Yes => Ok(()),
            Queued::TopicFull => {
                Err(Refusal::Busy("too many subscriptions to this topic are waiting for verification"))
            }
            Queued::HubFull => Err(Refusal::Busy("too many subscriptions are waiting for verification")),
        }
    }
}

/// Whether `topic` is the URL of a feed herald serves now.
pub fn served_topic(topic: &str, config: &Config, topics: &dyn TopicSource) -> bool {
    topic_path(topic, config).is_some_and(|path| topics.current(&path).is_some_and(|r| r.kind == ResourceKind::Feed))
}

/// The site path of a topic URL (`https://site/vi/rss.xml` → `/vi/rss.xml`).
pub fn topic_path(topic: &str, config: &Config) -> Option<String> {
    let base = config.site.base_url.as_str();
    topic.strip_prefix(base).map(|rest| format!("/{rest}"))
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

/// A token bucket per client address: `per_minute` requests, refilled
/// evenly (an IPv6 client counts per /64); the inboxes use one too.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    /// Whether `client` may make one more request at `per_minute`.
    pub fn allow(&self, client: IpAddr, per_minute: u32) -> bool {
        // One IPv6 client usually holds a whole /64: count it as one. An
        // IPv4-mapped address is its IPv4 client (not the /64 of them all).
        let client = match client.to_canonical() {
            IpAddr::V6(v6) => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
            v4 => v4,
        };
        let capacity = f64::from(per_minute);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            // Forget clients whose buckets are full again.
            buckets
                .retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * capacity / 60.0 < capacity);
        }
        let (tokens, at) = buckets.entry(client).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * capacity / 60.0).min(capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_refuses_a_burst_beyond_the_limit() {
        let limiter = RateLimiter::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let allowed = (0..10).filter(|_| limiter.allow(ip, 5)).count();
        assert_eq!(allowed, 5);
        assert!(limiter.allow("192.0.2.2".parse().unwrap(), 5), "other clients are not affected");
        let v6 = |last: &str| format!("2001:db8:1:2::{last}").parse::<IpAddr>().unwrap();
        assert_eq!((0..10).filter(|i| limiter.allow(v6(&format!("{i:x}")), 5)).count(), 5, "one /64 is one client");
        let mapped = |last: u8| format!("::ffff:198.51.100.{last}").parse::<IpAddr>().unwrap();
        assert_eq!((1..=10).filter(|i| limiter.allow(mapped(*i), 1)).count(), 10, "mapped IPv4 clients are apart");
    }
}
