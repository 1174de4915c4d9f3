//! `[[webhooks]]` and `[indexnow]`: the pushes herald sends besides WebSub,
//! signed article events for bots and URL pings for search engines.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::validate::{NumberKey, Validator};

/// `events` when not given: all three.
const DEFAULT_EVENTS: [ArticleEvent; 3] = [ArticleEvent::Published, ArticleEvent::Updated, ArticleEvent::Unpublished];
/// `update_delay_seconds`: up to a day, none by default.
const UPDATE_DELAY_SECONDS: NumberKey =
    NumberKey::new("update_delay_seconds", 0, 86_400, 0).with_hint("use 0 to 86400 seconds");
/// `announce_existing` when not given: the first start records a silent
/// baseline.
const DEFAULT_ANNOUNCE_EXISTING: bool = false;
/// The prefix of a webhook secret (Standard Webhooks).
const SECRET_PREFIX: &str = "whsec_";
/// The fewest random bytes a webhook secret holds.
const MIN_SECRET_BYTES: usize = 16;
/// The IndexNow endpoint when `endpoint` is not given.
const DEFAULT_INDEXNOW_ENDPOINT: &str = "https://api.indexnow.org/indexnow";
/// The lengths an IndexNow key may have.
const INDEXNOW_KEY_LENGTH: std::ops::RangeInclusive<usize> = 8..=128;
/// `[indexnow] delay_seconds`: up to an hour, 10 seconds by default.
const INDEXNOW_DELAY_SECONDS: NumberKey =
    NumberKey::new("delay_seconds", 0, 3600, 10).with_hint("use 0 to 3600 seconds");

/// The article events a webhook can receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum ArticleEvent {
    /// The article became visible for the first time (or again).
    #[serde(rename = "article.published")]
    Published,
    /// Its title, summary, body, images or URL changed.
    #[serde(rename = "article.updated")]
    Updated,
    /// It was deleted, drafted or expired.
    #[serde(rename = "article.unpublished")]
    Unpublished,
}

impl ArticleEvent {
    /// The event type as sent (`article.published` …).
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleEvent::Published => "article.published",
            ArticleEvent::Updated => "article.updated",
            ArticleEvent::Unpublished => "article.unpublished",
        }
    }
}

/// One `[[webhooks]]` entry: where to POST article events, signed per the
/// Standard Webhooks convention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Unique name (used in logs and to find the webhook of a queued job).
    pub name: String,
    /// Where events are POSTed.
    pub url: String,
    /// The signing key (decoded from the `whsec_` secret).
    pub key: Vec<u8>,
    /// Events sent; all three by default.
    pub events: Vec<ArticleEvent>,
    /// Languages sent; empty means all.
    pub languages: Vec<String>,
    /// Sections sent; empty means all.
    pub sections: Vec<String>,
    /// Updates wait this long, so a burst of edits sends one event.
    pub update_delay: Duration,
    /// On the very first start, announce every visible article instead of
    /// recording a silent baseline.
    pub announce_existing: bool,
}

/// `[indexnow]`: tell search engines about new and changed URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexNowSettings {
    /// The key (8-128 letters, digits or dashes), also served at `/{key}.txt`.
    pub key: String,
    /// The endpoint URLs are POSTed to.
    pub endpoint: String,
    /// Changes are gathered this long into one request.
    pub delay: Duration,
}

/// One `[[webhooks]]` entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebhook {
    name: Spanned<String>,
    url: Spanned<String>,
    secret: Spanned<String>,
    events: Option<Vec<ArticleEvent>>,
    #[serde(default)]
    languages: Vec<Spanned<String>>,
    #[serde(default)]
    sections: Vec<String>,
    update_delay_seconds: Option<Spanned<i64>>,
    announce_existing: Option<bool>,
}

/// `[indexnow]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIndexNow {
    key: Spanned<String>,
    endpoint: Option<Spanned<String>>,
    delay_seconds: Option<Spanned<i64>>,
}

/// Checks every `[[webhooks]]` entry against the declared language `codes`:
/// unique names, http(s) URLs, usable secrets.
pub(super) fn validate(v: &mut Validator<'_>, raw: Vec<RawWebhook>, codes: &[String]) -> Vec<Webhook> {
    use base64::Engine as _;
    let mut out: Vec<Webhook> = Vec::new();
    for hook in raw {
        let name = hook.name.get_ref().clone();
        if name.is_empty() || out.iter().any(|w| w.name == name) {
            v.problem(
                &hook.name,
                format!("webhook name `{name}` is empty or used twice"),
                "give each [[webhooks]] its own name",
            );
        }
        match Url::parse(hook.url.get_ref()) {
            Ok(url) if url.scheme() == "http" || url.scheme() == "https" => {}
            _ => v.problem(
                &hook.url,
                format!("`{}` is not an http(s) URL", hook.url.get_ref()),
                "e.g. url = \"https://bot.example.vn/hooks/herald\"",
            ),
        }
        let key = match hook
            .secret
            .get_ref()
            .strip_prefix(SECRET_PREFIX)
            .map(|b| base64::engine::general_purpose::STANDARD.decode(b))
        {
            Some(Ok(key)) if key.len() >= MIN_SECRET_BYTES => key,
            _ => {
                v.problem(
                    &hook.secret,
                    "the webhook secret must be `whsec_` followed by base64 of at least 16 random bytes",
                    "generate one with: printf 'whsec_%s\\n' \"$(head -c 32 /dev/urandom | base64)\"",
                );
                Vec::new()
            }
        };
        for lang in &hook.languages {
            if !codes.contains(lang.get_ref()) {
                v.problem(
                    lang,
                    format!("webhook language `{}` is not declared", lang.get_ref()),
                    format!("declared languages: {}", codes.join(", ")),
                );
            }
        }
        let delay = v.number(&hook.update_delay_seconds, &UPDATE_DELAY_SECONDS);
        let mut events = hook.events.unwrap_or_else(|| DEFAULT_EVENTS.to_vec());
        events.sort();
        events.dedup();
        out.push(Webhook {
            name,
            url: hook.url.get_ref().clone(),
            key,
            events,
            languages: hook.languages.into_iter().map(Spanned::into_inner).collect(),
            sections: hook.sections,
            update_delay: Duration::from_secs(delay as u64),
            announce_existing: hook.announce_existing.unwrap_or(DEFAULT_ANNOUNCE_EXISTING),
        });
    }
    out
}

/// Checks `[indexnow]`: a well-formed key and an http(s) endpoint.
pub(super) fn validate_indexnow(v: &mut Validator<'_>, raw: RawIndexNow) -> IndexNowSettings {
    let key = raw.key.get_ref().clone();
    if !INDEXNOW_KEY_LENGTH.contains(&key.len()) || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        v.problem(
            &raw.key,
            "the IndexNow key must be 8 to 128 letters, digits or dashes",
            "generate one with: head -c 16 /dev/urandom | xxd -p",
        );
    }
    let endpoint = match &raw.endpoint {
        None => DEFAULT_INDEXNOW_ENDPOINT.to_string(),
        Some(e) => match Url::parse(e.get_ref()) {
            Ok(url) if url.scheme() == "http" || url.scheme() == "https" => url.to_string(),
            _ => {
                v.problem(
                    e,
                    format!("`{}` is not an http(s) URL", e.get_ref()),
                    "e.g. endpoint = \"https://api.indexnow.org/indexnow\"",
                );
                String::new()
            }
        },
    };
    let delay = v.number(&raw.delay_seconds, &INDEXNOW_DELAY_SECONDS);
    IndexNowSettings { key, endpoint, delay: Duration::from_secs(delay as u64) }
}

#[cfg(test)]
mod tests {
    use crate::config::testing::{MINIMAL, first_error, parse};

    #[test]
    fn webhooks_and_indexnow() {
        let text = format!(
            "{MINIMAL}\n[[webhooks]]\nname = \"bot\"\nurl = \"https://bot.example/h\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nlanguages = [\"vi\"]\nupdate_delay_seconds = 60\n\n[indexnow]\nkey = \"abcdef0123456789\"\n"
        );
        let c = parse(&text).unwrap();
        assert_eq!(c.webhooks[0].events.len(), 3);
        assert_eq!(c.webhooks[0].key.len(), 24);
        assert_eq!(c.webhooks[0].update_delay.as_secs(), 60);
        assert_eq!(c.indexnow.as_ref().unwrap().endpoint, "https://api.indexnow.org/indexnow");
        let bad = text.replace("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "plain-secret");
        let e = first_error(&bad);
        assert!(e.contains("must be `whsec_` followed by base64"), "{e}");
        let bad = text.replace("abcdef0123456789", "short");
        assert!(first_error(&bad).contains("IndexNow key must be 8 to 128"));
    }
}
