//! What a request to the WebSub hub asks for, read from its form body
//! (W3C WebSub §5.1): pure, so it can be tested and fuzzed without a store,
//! a network or a clock. The hub ([`super::hub`]) then checks the callback's
//! addresses, the topic and the bounds, and queues the work.

use std::collections::HashMap;

use url::Url;

/// The spec: the secret MUST be less than 200 bytes.
pub const MAX_SECRET_BYTES: usize = 199;

/// A well-formed hub request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubRequest {
    /// `hub.mode=publish`: a publisher says a topic changed (herald
    /// publishes its own topics itself; the request is only checked).
    Publish {
        /// `hub.url` (or `hub.topic`).
        topic: String,
    },
    /// `hub.mode=subscribe` or `unsubscribe`.
    Subscription(Subscription),
}

/// A subscription or unsubscription request, checked for shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// `subscribe` or `unsubscribe`.
    pub mode: SubscriptionMode,
    /// `hub.callback` as sent (what the subscriber is later called at).
    pub callback: String,
    /// The callback, parsed: an absolute URL.
    pub callback_url: Url,
    /// `hub.topic`, not empty.
    pub topic: String,
    /// `hub.secret`, when given and not empty; under 200 bytes.
    pub secret: Option<String>,
    /// `hub.lease_seconds`, when it is a number (the hub clamps it).
    pub lease_seconds: Option<u64>,
}

/// Subscribe or unsubscribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionMode {
    /// `hub.mode=subscribe`.
    Subscribe,
    /// `hub.mode=unsubscribe`.
    Unsubscribe,
}

impl SubscriptionMode {
    /// The mode as the form spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionMode::Subscribe => "subscribe",
            SubscriptionMode::Unsubscribe => "unsubscribe",
        }
    }
}

/// Reads a hub request from an `application/x-www-form-urlencoded` body.
/// A field given twice counts as its last value. The error is the reason
/// for the `400 Bad Request` answer.
pub fn parse_hub_request(body: &[u8]) -> Result<HubRequest, &'static str> {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let mode = form.get("hub.mode").ok_or("hub.mode is missing")?;
    let mode = match mode.as_str() {
        "publish" => {
            let topic = form.get("hub.url").or_else(|| form.get("hub.topic")).ok_or("hub.url is missing")?;
            return Ok(HubRequest::Publish { topic: topic.clone() });
        }
        "subscribe" => SubscriptionMode::Subscribe,
        "unsubscribe" => SubscriptionMode::Unsubscribe,
        _ => return Err("hub.mode must be subscribe or unsubscribe"),
    };
    let callback = form.get("hub.callback").filter(|c| !c.is_empty()).ok_or("hub.callback is missing")?;
    let callback_url = Url::parse(callback).map_err(|_| "hub.callback is not an absolute URL")?;
    let topic = form.get("hub.topic").filter(|t| !t.is_empty()).ok_or("hub.topic is missing")?;
    let secret = form.get("hub.secret").filter(|s| !s.is_empty());
    if secret.is_some_and(|s| s.len() > MAX_SECRET_BYTES) {
        return Err("hub.secret must be less than 200 bytes");
    }
    Ok(HubRequest::Subscription(Subscription {
        mode,
        callback: callback.clone(),
        callback_url,
        topic: topic.clone(),
        secret: secret.cloned(),
        lease_seconds: form.get("hub.lease_seconds").and_then(|l| l.parse::<u64>().ok()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_reads_every_field() {
        let body = b"hub.mode=subscribe&hub.callback=https%3A%2F%2Fsub.example%2Fcb%3Fa%3D1&hub.topic=https%3A%2F%2Fexample.vn%2Frss.xml&hub.secret=s%C3%A9&hub.lease_seconds=3600";
        let HubRequest::Subscription(s) = parse_hub_request(body).unwrap() else { panic!("not a subscription") };
        assert_eq!(s.mode, SubscriptionMode::Subscribe);
        assert_eq!(s.callback, "https://sub.example/cb?a=1");
        assert_eq!(s.topic, "https://example.vn/rss.xml");
        assert_eq!(s.secret.as_deref(), Some("sé"));
        assert_eq!(s.lease_seconds, Some(3600));
    }

    #[test]
    fn malformed_requests_say_what_is_wrong() {
        let cases: [(&[u8], &str); 7] = [
            (b"", "hub.mode is missing"),
            (b"hub.mode=watch", "hub.mode must be subscribe or unsubscribe"),
            (b"hub.mode=publish", "hub.url is missing"),
            (b"hub.mode=subscribe&hub.callback=&hub.topic=t", "hub.callback is missing"),
            (b"hub.mode=subscribe&hub.callback=%2Frelative&hub.topic=t", "hub.callback is not an absolute URL"),
            (b"hub.mode=unsubscribe&hub.callback=https://a.example/", "hub.topic is missing"),
            (b"hub.mode=subscribe&hub.callback=https://a.example/&hub.topic=t&hub.secret=", "ok"),
        ];
        for (body, reason) in cases {
            let got = parse_hub_request(body).map(|_| "ok").unwrap_or_else(|e| e);
            assert_eq!(got, reason, "{}", String::from_utf8_lossy(body));
        }
        let long =
            format!("hub.mode=subscribe&hub.callback=https://a.example/&hub.topic=t&hub.secret={}", "s".repeat(200));
        assert_eq!(parse_hub_request(long.as_bytes()), Err("hub.secret must be less than 200 bytes"));
    }

    #[test]
    fn the_last_of_repeated_fields_counts_and_bad_leases_are_ignored() {
        let body =
            b"hub.mode=unsubscribe&hub.mode=subscribe&hub.callback=https://a.example/&hub.topic=t&hub.lease_seconds=-5";
        let HubRequest::Subscription(s) = parse_hub_request(body).unwrap() else { panic!("not a subscription") };
        assert_eq!(s.mode, SubscriptionMode::Subscribe);
        assert_eq!(s.lease_seconds, None);
        assert_eq!(parse_hub_request(b"hub.mode=publish&hub.topic=x"), Ok(HubRequest::Publish { topic: "x".into() }));
    }
}
