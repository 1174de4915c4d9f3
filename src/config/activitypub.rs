//! `[activitypub]`: every language and every section in each language is an
//! ActivityPub actor (`@name@host`) that fediverse readers can follow.
//!
//! Usernames default to the language code (the language's actor) and to
//! the section slug (the section's actor in the default language) or
//! `slug.lang` (in another language), folded to what every server accepts
//! in a remote handle: `[a-z0-9_]`, with `.` and `-` only inside. They can
//! be set per actor in `[activitypub.usernames]` (keys `lang` and
//! `lang/section`); a name once followed must not change (followers keep
//! the old handle), so the README says to choose before going live.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::validate::{NumberKey, Validator};

/// `max_inbox_body_bytes`: up to 10 MB, 256 KB by default (Mastodon's own
/// activities are a few KB).
const MAX_INBOX_BODY_BYTES: NumberKey = NumberKey::new("max_inbox_body_bytes", 1024, 10 * 1024 * 1024, 256 * 1024);
/// `inbox_rate_per_minute`: up to a million, 600 by default (per client
/// address, like the hub's limit).
const INBOX_RATE_PER_MINUTE: NumberKey = NumberKey::new("inbox_rate_per_minute", 1, 1_000_000, 600);
/// `outbox_page_size`: 1 to 200, 20 by default (Mastodon's page size).
const OUTBOX_PAGE_SIZE: NumberKey = NumberKey::new("outbox_page_size", 1, 200, 20);
/// Longest username accepted (Mastodon's limit on local accounts).
const MAX_USERNAME_CHARS: usize = 30;

/// `[activitypub]` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityPubSettings {
    /// Whether the actors exist (discovery, inboxes, publishing).
    pub enabled: bool,
    /// Usernames set by hand: `lang` or `lang/section` → username.
    pub usernames: BTreeMap<String, String>,
    /// `discoverable` of every actor (may appear in directories).
    pub discoverable: bool,
    /// `indexable` of every actor (posts may be found by full-text search).
    pub indexable: bool,
    /// Largest inbox request body (beyond: 413).
    pub max_inbox_body_bytes: usize,
    /// Inbox requests accepted per client address per minute (beyond: 429).
    pub inbox_rate_per_minute: u32,
    /// Activities per page of an outbox.
    pub outbox_page_size: usize,
}

impl Default for ActivityPubSettings {
    fn default() -> Self {
        ActivityPubSettings {
            enabled: false,
            usernames: BTreeMap::new(),
            discoverable: true,
            indexable: true,
            max_inbox_body_bytes: MAX_INBOX_BODY_BYTES.default as usize,
            inbox_rate_per_minute: INBOX_RATE_PER_MINUTE.default as u32,
            outbox_page_size: OUTBOX_PAGE_SIZE.default as usize,
        }
    }
}

impl ActivityPubSettings {
    /// The username of the actor of language `lang` (`section` `None`) or
    /// of section `section` in `lang`, where `default_language` is the
    /// site's.
    pub fn username(&self, lang: &str, section: Option<&str>, default_language: &str) -> String {
        let key = match section {
            None => lang.to_string(),
            Some(section) => format!("{lang}/{section}"),
        };
        if let Some(name) = self.usernames.get(&key) {
            return name.clone();
        }
        match section {
            None => fold_username(lang),
            Some(section) if lang == default_language => fold_username(section),
            Some(section) => fold_username(&format!("{section}.{lang}")),
        }
    }
}

/// The site path of the actor named `username` (its id, relative to the
/// base URL); its inbox, outbox and followers are below it.
pub fn actor_path(username: &str) -> String {
    format!("/ap/{username}")
}

/// The host part of every handle: `base_url`'s host, with its port when it
/// has one (`@vi@127.0.0.1:8080` on loopback).
pub fn handle_host(base_url: &url::Url) -> String {
    let host = base_url.host_str().unwrap_or_default();
    match base_url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// `text` as a username every fediverse server accepts in a remote handle:
/// lowercase ASCII letters, digits and `_`, with `.` and `-` only between
/// them (runs of anything else become one `_`), at most 30 characters.
pub fn fold_username(text: &str) -> String {
    // Letters with marks fold (`đ` → `d`) piece by piece, keeping the
    // separators slugify would turn into hyphens.
    let mut folded = String::new();
    for piece in text.split_inclusive(['.', '_']) {
        let (word, separator) = match piece.strip_suffix(['.', '_']) {
            Some(word) => (word, &piece[word.len()..]),
            None => (piece, ""),
        };
        folded.push_str(&crate::text::slugify(word));
        folded.push_str(separator);
    }
    let mut out = String::new();
    for c in folded.chars() {
        let c = c.to_ascii_lowercase();
        let keep = if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-') { c } else { '_' };
        if keep == '_' && out.ends_with('_') {
            continue;
        }
        out.push(keep);
    }
    let trimmed: String = out.trim_matches(['.', '-']).chars().take(MAX_USERNAME_CHARS).collect();
    let trimmed = trimmed.trim_end_matches(['.', '-']).to_string();
    if trimmed.is_empty() { "_".to_string() } else { trimmed }
}

/// Whether `name` is a username remote servers accept as written.
pub fn is_valid_username(name: &str) -> bool {
    let bytes = name.as_bytes();
    let inner = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_';
    !bytes.is_empty()
        && name.len() <= MAX_USERNAME_CHARS
        && bytes.first().is_some_and(inner)
        && bytes.last().is_some_and(inner)
        && bytes.iter().all(|b| inner(b) || *b == b'.' || *b == b'-')
}

/// `[activitypub]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawActivityPub {
    enabled: Option<bool>,
    #[serde(default)]
    usernames: BTreeMap<Spanned<String>, Spanned<String>>,
    discoverable: Option<bool>,
    indexable: Option<bool>,
    max_inbox_body_bytes: Option<Spanned<i64>>,
    inbox_rate_per_minute: Option<Spanned<i64>>,
    outbox_page_size: Option<Spanned<i64>>,
}

/// Checks `[activitypub]`: usernames must be valid handles, keyed by a
/// declared language (and a section slug), and distinct.
pub(super) fn validate(v: &mut Validator<'_>, raw: RawActivityPub, codes: &[String]) -> ActivityPubSettings {
    let mut usernames = BTreeMap::new();
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    for (key, name) in &raw.usernames {
        let lang = key.get_ref().split('/').next().unwrap_or_default();
        let parts = key.get_ref().split('/').count();
        if !codes.iter().any(|c| c == lang) || parts > 2 || key.get_ref().ends_with('/') {
            v.problem(
                key,
                format!("`{}` names no actor", key.get_ref()),
                format!("use a language code or `lang/section`; declared languages: {}", codes.join(", ")),
            );
        }
        if !is_valid_username(name.get_ref()) {
            v.problem(
                name,
                format!("username `{}` is not accepted by every fediverse server", name.get_ref()),
                format!(
                    "use lowercase letters, digits and `_`, with `.` or `-` only inside, at most \
                     {MAX_USERNAME_CHARS} characters, e.g. `{}`",
                    fold_username(name.get_ref())
                ),
            );
        }
        if let Some(other) = taken.insert(name.get_ref().clone(), key.get_ref().clone()) {
            v.problem(
                name,
                format!("username `{}` is given to both `{other}` and `{}`", name.get_ref(), key.get_ref()),
                "every actor needs its own username",
            );
        }
        usernames.insert(key.get_ref().clone(), name.get_ref().clone());
    }
    ActivityPubSettings {
        enabled: raw.enabled.unwrap_or(false),
        usernames,
        discoverable: raw.discoverable.unwrap_or(true),
        indexable: raw.indexable.unwrap_or(true),
        max_inbox_body_bytes: v.number(&raw.max_inbox_body_bytes, &MAX_INBOX_BODY_BYTES) as usize,
        inbox_rate_per_minute: v.number(&raw.inbox_rate_per_minute, &INBOX_RATE_PER_MINUTE) as u32,
        outbox_page_size: v.number(&raw.outbox_page_size, &OUTBOX_PAGE_SIZE) as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::{MINIMAL, first_error, parse};

    #[test]
    fn default_usernames_fold_to_handles_servers_accept() {
        let settings = ActivityPubSettings::default();
        assert_eq!(settings.username("vi", None, "vi"), "vi");
        assert_eq!(settings.username("vi", Some("thoi-su"), "vi"), "thoi-su");
        assert_eq!(settings.username("en", Some("thoi-su"), "vi"), "thoi-su.en");
        assert_eq!(settings.username("vi", Some("Văn Hoá"), "vi"), "van-hoa");
        assert_eq!(fold_username("-a b!!c-"), "a-b-c");
        assert_eq!(fold_username("a__b"), "a_b");
        for name in ["thoi-su.en", "vi", "a_b", "x1"] {
            assert!(is_valid_username(name), "{name}");
        }
        for name in ["", "-a", "a.", "Ab", "a b", "trăm"] {
            assert!(!is_valid_username(name), "{name}");
        }
    }

    #[test]
    fn usernames_are_checked() {
        let text = format!("{MINIMAL}\n[activitypub]\nenabled = true\nusernames = {{ vi = \"Báo\" }}\n");
        let e = first_error(&text);
        assert!(e.contains("username `Báo` is not accepted"), "{e}");
        let text = format!("{MINIMAL}\n[activitypub]\nusernames = {{ fr = \"x\" }}\n");
        assert!(first_error(&text).contains("`fr` names no actor"));
        let text = format!("{MINIMAL}\n[activitypub]\nusernames = {{ vi = \"x\", \"en/a\" = \"x\" }}\n");
        assert!(first_error(&text).contains("given to both"));
        let text = format!("{MINIMAL}\n[activitypub]\nenabled = true\nusernames = {{ \"vi/thoi-su\" = \"news\" }}\n");
        let c = parse(&text).unwrap();
        assert!(c.activitypub.enabled);
        assert_eq!(c.activitypub.username("vi", Some("thoi-su"), "vi"), "news");
    }
}
