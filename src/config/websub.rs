//! `[websub]`: herald's own WebSub hub (leases, signatures, who may
//! subscribe), the external hubs it pings, and how the delivery engine
//! retries and limits outgoing requests.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::site::Site;
use super::validate::{NumberKey, Validator};

/// A day in seconds, for the lease keys.
const DAY: i64 = 86_400;
/// `enabled` when not given: the hub runs.
const DEFAULT_ENABLED: bool = true;
/// `path` when not given.
const DEFAULT_PATH: &str = "/websub";
/// `lease_min_seconds`: up to a year, a minute by default.
const LEASE_MIN_SECONDS: NumberKey = NumberKey::new("lease_min_seconds", 1, 365 * DAY, 60);
/// `lease_max_seconds`: up to a year, 30 days by default.
const LEASE_MAX_SECONDS: NumberKey = NumberKey::new("lease_max_seconds", 1, 365 * DAY, 30 * DAY);
/// `lease_default_seconds`: up to a year, 10 days by default (then kept
/// between the shortest and the longest lease).
const LEASE_DEFAULT_SECONDS: NumberKey = NumberKey::new("lease_default_seconds", 1, 365 * DAY, 10 * DAY);
/// `subscribe_rate_per_minute`: up to a million, 120 by default.
const SUBSCRIBE_RATE_PER_MINUTE: NumberKey = NumberKey::new("subscribe_rate_per_minute", 1, 1_000_000, 120);
/// `max_pending_verifications`: up to a million, 2,000 by default.
const MAX_PENDING_VERIFICATIONS: NumberKey = NumberKey::new("max_pending_verifications", 1, 1_000_000, 2_000);
/// `max_pending_verifications_per_topic`: up to a million, 200 by default.
const MAX_PENDING_VERIFICATIONS_PER_TOPIC: NumberKey =
    NumberKey::new("max_pending_verifications_per_topic", 1, 1_000_000, 200);
/// `retry_base_seconds`: up to an hour, 10 seconds by default.
const RETRY_BASE_SECONDS: NumberKey = NumberKey::new("retry_base_seconds", 1, 3600, 10);
/// `retry_horizon_hours`: up to 30 days, a day by default.
const RETRY_HORIZON_HOURS: NumberKey = NumberKey::new("retry_horizon_hours", 1, 24 * 30, 24);
/// `request_timeout_seconds`: up to 5 minutes, 10 seconds by default.
const REQUEST_TIMEOUT_SECONDS: NumberKey = NumberKey::new("request_timeout_seconds", 1, 300, 10);
/// `max_concurrent_deliveries`: up to 100,000, 512 by default.
const MAX_CONCURRENT_DELIVERIES: NumberKey = NumberKey::new("max_concurrent_deliveries", 1, 100_000, 512);
/// `max_concurrent_per_host`: up to 100,000, 64 by default.
const MAX_CONCURRENT_PER_HOST: NumberKey = NumberKey::new("max_concurrent_per_host", 1, 100_000, 64);
/// `allow_private_callbacks` when not given: refused, against SSRF.
const DEFAULT_ALLOW_PRIVATE_CALLBACKS: bool = false;

/// HMAC algorithms for `X-Hub-Signature` (WebSub §7.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureAlgorithm {
    /// HMAC-SHA1 (allowed by the spec, weak; for old subscribers only).
    Sha1,
    /// HMAC-SHA256 (the default).
    #[default]
    Sha256,
    /// HMAC-SHA384.
    Sha384,
    /// HMAC-SHA512.
    Sha512,
}

/// `[websub]`: herald's own hub, pings to external hubs, and how
/// deliveries are made.
#[derive(Debug, Clone)]
pub struct WebSubSettings {
    /// Whether the hub runs and feeds advertise it.
    pub enabled: bool,
    /// Path of the hub endpoint (default `/websub`).
    pub path: String,
    /// External hubs to ping (`hub.mode=publish`) when a feed changes; they
    /// are advertised in feeds after herald's own hub.
    pub external_hubs: Vec<String>,
    /// Lease granted when the subscriber asks for none.
    pub lease_default: u64,
    /// Shortest lease granted (seconds).
    pub lease_min: u64,
    /// Longest lease granted (seconds).
    pub lease_max: u64,
    /// Algorithm of `X-Hub-Signature` for subscriptions with a secret.
    pub signature_algorithm: SignatureAlgorithm,
    /// Whether callbacks may resolve to loopback, private, link-local or
    /// multicast addresses (tests, intranets). Off by default (SSRF).
    pub allow_private_callbacks: bool,
    /// Subscription requests accepted per client address per minute.
    pub subscribe_rate_per_minute: u32,
    /// Most verifications and denials waiting at once, whoever asked for
    /// them (beyond: 503 with `Retry-After`).
    pub max_pending_verifications: usize,
    /// Most verifications waiting at once for one topic.
    pub max_pending_verifications_per_topic: usize,
    /// First retry delay; each further retry doubles it (with jitter).
    pub retry_base: Duration,
    /// How long a delivery is retried before it is given up.
    pub retry_horizon: Duration,
    /// Time limit of one outgoing request.
    pub request_timeout: Duration,
    /// Most outgoing requests at once.
    pub max_concurrent: usize,
    /// Most outgoing requests at once to one host.
    pub max_per_host: usize,
}

impl WebSubSettings {
    /// The hubs feeds of `site` advertise: herald's own first, then the
    /// external ones; none when WebSub is off.
    pub fn hubs(&self, site: &Site) -> Vec<String> {
        if !self.enabled {
            return Vec::new();
        }
        let mut hubs = vec![site.url_for(&self.path)];
        hubs.extend(self.external_hubs.iter().cloned());
        hubs
    }

    /// The `Link` header served and delivered with a feed of `site`
    /// (WebSub §4): `<hub>; rel="hub"` per hub, then
    /// `<topic_url>; rel="self"`.
    pub fn link_header(&self, site: &Site, topic_url: &str) -> String {
        let mut links: Vec<String> = self.hubs(site).iter().map(|hub| format!("<{hub}>; rel=\"hub\"")).collect();
        links.push(format!("<{topic_url}>; rel=\"self\""));
        links.join(", ")
    }
}

/// `[websub]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebSub {
    enabled: Option<bool>,
    path: Option<Spanned<String>>,
    #[serde(default)]
    external_hubs: Vec<Spanned<String>>,
    lease_default_seconds: Option<Spanned<i64>>,
    lease_min_seconds: Option<Spanned<i64>>,
    lease_max_seconds: Option<Spanned<i64>>,
    signature_algorithm: Option<SignatureAlgorithm>,
    allow_private_callbacks: Option<bool>,
    subscribe_rate_per_minute: Option<Spanned<i64>>,
    max_pending_verifications: Option<Spanned<i64>>,
    max_pending_verifications_per_topic: Option<Spanned<i64>>,
    retry_base_seconds: Option<Spanned<i64>>,
    retry_horizon_hours: Option<Spanned<i64>>,
    request_timeout_seconds: Option<Spanned<i64>>,
    max_concurrent_deliveries: Option<Spanned<i64>>,
    max_concurrent_per_host: Option<Spanned<i64>>,
}

/// Checks `[websub]`; every value has a default.
pub(super) fn validate(v: &mut Validator<'_>, raw: RawWebSub) -> WebSubSettings {
    let lease_min = v.number(&raw.lease_min_seconds, &LEASE_MIN_SECONDS);
    let lease_max = v.number(&raw.lease_max_seconds, &LEASE_MAX_SECONDS);
    let lease_default = v.number(&raw.lease_default_seconds, &LEASE_DEFAULT_SECONDS);
    let rate = v.number(&raw.subscribe_rate_per_minute, &SUBSCRIBE_RATE_PER_MINUTE);
    let max_pending = v.number(&raw.max_pending_verifications, &MAX_PENDING_VERIFICATIONS);
    let max_pending_per_topic =
        v.number(&raw.max_pending_verifications_per_topic, &MAX_PENDING_VERIFICATIONS_PER_TOPIC);
    let retry_base = v.number(&raw.retry_base_seconds, &RETRY_BASE_SECONDS);
    let horizon = v.number(&raw.retry_horizon_hours, &RETRY_HORIZON_HOURS);
    let timeout = v.number(&raw.request_timeout_seconds, &REQUEST_TIMEOUT_SECONDS);
    let max_concurrent = v.number(&raw.max_concurrent_deliveries, &MAX_CONCURRENT_DELIVERIES);
    let max_per_host = v.number(&raw.max_concurrent_per_host, &MAX_CONCURRENT_PER_HOST);
    if let Some(min) = &raw.lease_min_seconds
        && lease_min > lease_max
    {
        v.problem(
            min,
            format!("lease_min_seconds {lease_min} is above lease_max_seconds {lease_max}"),
            "the shortest lease must not exceed the longest",
        );
    }
    let path = match &raw.path {
        None => DEFAULT_PATH.to_string(),
        Some(p) => {
            let value = p.get_ref();
            if !value.starts_with('/') || value.contains(char::is_whitespace) || value == "/" {
                v.problem(p, format!("hub path `{value}` must start with `/` and name an endpoint"), "e.g. `/websub`");
            }
            value.clone()
        }
    };
    let external_hubs = raw
        .external_hubs
        .iter()
        .filter_map(|hub| match Url::parse(hub.get_ref()) {
            Ok(url) if url.scheme() == "http" || url.scheme() == "https" => Some(url.to_string()),
            _ => {
                v.problem(
                    hub,
                    format!("`{}` is not an http(s) hub URL", hub.get_ref()),
                    "e.g. \"https://pubsubhubbub.appspot.com/\"",
                );
                None
            }
        })
        .collect();
    WebSubSettings {
        enabled: raw.enabled.unwrap_or(DEFAULT_ENABLED),
        path,
        external_hubs,
        lease_default: lease_default.clamp(lease_min, lease_max.max(lease_min)) as u64,
        lease_min: lease_min as u64,
        lease_max: lease_max.max(lease_min) as u64,
        signature_algorithm: raw.signature_algorithm.unwrap_or_default(),
        allow_private_callbacks: raw.allow_private_callbacks.unwrap_or(DEFAULT_ALLOW_PRIVATE_CALLBACKS),
        subscribe_rate_per_minute: rate as u32,
        max_pending_verifications: max_pending as usize,
        max_pending_verifications_per_topic: max_pending_per_topic as usize,
        retry_base: Duration::from_secs(retry_base as u64),
        retry_horizon: Duration::from_secs(horizon as u64 * 3600),
        request_timeout: Duration::from_secs(timeout as u64),
        max_concurrent: max_concurrent as usize,
        max_per_host: max_per_host as usize,
    }
}

#[cfg(test)]
mod tests {
    use crate::config::testing::{MINIMAL, parse};

    #[test]
    fn link_header_names_every_hub_then_the_topic() {
        let text = format!("{MINIMAL}\n[websub]\nexternal_hubs = [\"https://hub.example/\"]\n");
        let c = parse(&text).unwrap();
        assert_eq!(
            c.websub.link_header(&c.site, "https://news.example.vn/rss.xml"),
            "<https://news.example.vn/websub>; rel=\"hub\", <https://hub.example/>; rel=\"hub\", \
             <https://news.example.vn/rss.xml>; rel=\"self\""
        );
        let c = parse(&format!("{MINIMAL}\n[websub]\nenabled = false\n")).unwrap();
        assert!(c.hubs().is_empty());
        assert_eq!(
            c.websub.link_header(&c.site, "https://news.example.vn/rss.xml"),
            "<https://news.example.vn/rss.xml>; rel=\"self\""
        );
    }

    #[test]
    fn pending_verification_bounds_have_defaults_and_ranges() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!((c.websub.max_pending_verifications, c.websub.max_pending_verifications_per_topic), (2_000, 200));
        let c = parse(&format!(
            "{MINIMAL}\n[websub]\nmax_pending_verifications = 50\nmax_pending_verifications_per_topic = 5\n"
        ))
        .unwrap();
        assert_eq!((c.websub.max_pending_verifications, c.websub.max_pending_verifications_per_topic), (50, 5));
        let e = parse(&format!("{MINIMAL}\n[websub]\nmax_pending_verifications = 0\n")).unwrap_err().to_string();
        assert!(e.contains("max_pending_verifications 0 is out of range"), "{e}");
    }
}
