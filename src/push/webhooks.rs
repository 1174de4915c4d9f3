//! Article webhooks for bots, signed per the Standard Webhooks convention
//! (standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};

/// The `User-Agent` of webhook and IndexNow requests:
/// `herald/VERSION (webhooks; +BASE_URL)`, so a receiver sees which site
/// calls it (WebSub deliveries and hub pings name herald as the hub).
pub fn user_agent(config: &crate::config::Config) -> String {
    format!("herald/{} (webhooks; +{})", env!("CARGO_PKG_VERSION"), config.site.base_url)
}

/// The `webhook-signature` value for message `id` sent at `timestamp`
/// (Unix seconds) with `body`, under `key` (the decoded `whsec_` secret).
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// The message id of one event: stored with the queued event, so every
/// retry carries it; different for every event of every article (the
/// article's event `sequence` is part of it) and for every webhook, so a
/// receiver can deduplicate on it.
pub fn message_id(webhook: &str, article_id: &str, event: &str, version: &str, sequence: i64) -> String {
    let digest = crate::article::digest(
        format!("{webhook}\u{0}{article_id}\u{0}{event}\u{0}{version}\u{0}{sequence}").as_bytes(),
    );
    format!("msg_{digest:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification.
    #[test]
    fn matches_the_specification_example() {
        let key = base64::engine::general_purpose::STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn message_ids_are_stable_and_distinct() {
        let a = message_id("bot", "vi/thoi-su/a", "article.published", "v1", 1);
        assert_eq!(a, message_id("bot", "vi/thoi-su/a", "article.published", "v1", 1));
        assert_ne!(a, message_id("bot", "vi/thoi-su/a", "article.updated", "v1", 1));
        assert_ne!(a, message_id("other", "vi/thoi-su/a", "article.published", "v1", 1));
        assert_ne!(
            a,
            message_id("bot", "vi/thoi-su/a", "article.published", "v1", 3),
            "a re-publication is a new event"
        );
        assert!(a.starts_with("msg_"));
    }
}
