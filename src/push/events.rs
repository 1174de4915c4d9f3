//! Article events for webhooks and IndexNow: what changed since it was
//! last announced, queued exactly once per article version.
//!
//! The truth is a table of what was last announced about each article (its
//! *version*: a digest of what the events report — title, summary, body,
//! images, URL — and whether it was visible). Events come from comparing
//! the catalog with that table, and the table is updated in the same
//! transaction that queues the events. So a restart, a crash or a full
//! rebuild announces exactly what changed since the last commit, and never
//! anything twice; the very first run records a silent baseline.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::sources::{ArticleNews, ArticleSource, Fediverse};
use super::state::{Announced, EventDelivery, PushStore};
use super::webhooks::message_id;
use crate::article::Article;
use crate::catalog::Change;
use crate::config::{ArticleEvent, Config, Webhook};

/// The announceable version of `article`: changes exactly when an event
/// reader would see a difference.
pub fn version(article: &Article) -> String {
    let mut text = String::new();
    for part in [&article.title, &article.summary, &article.url] {
        text.push_str(part);
        text.push('\u{0}');
    }
    text.push_str(&format!("{:032x}\u{0}", article.body_digest));
    for image in &article.images {
        text.push_str(&format!("{}\u{1}{:?}\u{1}{:?}\u{0}", image.src, image.caption, image.alt));
    }
    format!("{:032x}", crate::article::digest(text.as_bytes()))
}

/// One event about one article.
struct Event<'a> {
    kind: ArticleEvent,
    id: String,
    version: String,
    /// The article's event number (part of the message id).
    sequence: i64,
    /// The article now (published, updated), or as last seen (unpublished).
    article: Option<Arc<Article>>,
    /// What was last announced (updated, unpublished).
    previous: Option<&'a Announced>,
}

/// Compares the articles `change` touched (every article when `None`) with
/// what was last announced, and queues the events and IndexNow URLs that
/// follow, plus the activities `fediverse` publishes for them (when
/// ActivityPub is on), recording the new state in the same transaction.
/// Returns how many jobs were queued.
pub fn announce(
    store: &dyn PushStore,
    articles: &mut dyn ArticleSource,
    change: Option<&Change>,
    now: Timestamp,
    fediverse: Option<&dyn Fediverse>,
) -> super::state::Result<usize> {
    let config = Arc::clone(articles.config());
    let fediverse = fediverse.filter(|_| config.activitypub.enabled);
    if config.webhooks.is_empty() && config.indexnow.is_none() && fediverse.is_none() {
        return Ok(0);
    }
    // The articles to look at, by id, with their last known version.
    let mut last_seen: BTreeMap<String, Option<Arc<Article>>> = BTreeMap::new();
    match change {
        Some(change) => {
            for article in change.published.iter().chain(change.unpublished.iter()) {
                last_seen.insert(article.id.clone(), Some(Arc::clone(article)));
            }
            for (old, new) in &change.updated {
                last_seen.insert(old.id.clone(), Some(Arc::clone(old)));
                last_seen.insert(new.id.clone(), Some(Arc::clone(new)));
            }
        }
        None => {
            for article in articles.catalog().all() {
                last_seen.insert(article.id.clone(), Some(Arc::clone(article)));
            }
        }
    }
    if last_seen.is_empty() && change.is_some() {
        return Ok(0);
    }
    let announced: HashMap<String, Announced> = match change {
        Some(_) => store.announced(Some(&last_seen.keys().cloned().collect::<Vec<_>>()))?,
        None => store.announced(None)?,
    };
    if change.is_none() {
        for (id, state) in &announced {
            if state.visible {
                last_seen.entry(id.clone()).or_insert(None);
            }
        }
    }
    let baseline = !store.has_baseline()?;

    let mut states = Vec::new();
    let mut events = Vec::new();
    for (id, seen) in &last_seen {
        let previous = announced.get(id);
        let sequence = previous.map_or(0, |p| p.sequence) + 1;
        match articles.catalog().visible_by_id(id).cloned() {
            Some(article) => {
                let version = version(&article);
                let kind = match previous {
                    Some(p) if p.visible && p.version == version => None,
                    Some(p) if p.visible => Some(ArticleEvent::Updated),
                    _ => Some(ArticleEvent::Published),
                };
                let state = Announced {
                    id: id.clone(),
                    version: version.clone(),
                    visible: true,
                    url: article.url.clone(),
                    lang: article.lang.clone(),
                    section: article.section.clone(),
                    sequence: if kind.is_some() { sequence } else { sequence - 1 },
                };
                // Only what changed is written: a full compare of an
                // unchanged store writes nothing.
                if previous != Some(&state) {
                    states.push(state);
                }
                if let Some(kind) = kind {
                    events.push(Event { kind, id: id.clone(), version, sequence, article: Some(article), previous });
                }
            }
            None => {
                if let Some(p) = previous.filter(|p| p.visible) {
                    states.push(Announced { visible: false, sequence, ..p.clone() });
                    events.push(Event {
                        kind: ArticleEvent::Unpublished,
                        id: id.clone(),
                        version: p.version.clone(),
                        sequence,
                        article: seen.clone(),
                        previous: Some(p),
                    });
                }
            }
        }
    }

    let mut jobs = Vec::new();
    let mut cancel = Vec::new();
    let mut urls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let host = config.site.base_url.host_str().unwrap_or_default().to_string();
    for event in &events {
        if event.kind == ArticleEvent::Unpublished {
            // Whatever still waits about this article is moot, for every
            // webhook (even those not told about unpublications).
            for hook in &config.webhooks {
                cancel.push(slot(hook, &event.id, ArticleEvent::Published));
                cancel.push(slot(hook, &event.id, ArticleEvent::Updated));
            }
        }
        let hooks: Vec<&Webhook> = config
            .webhooks
            .iter()
            .filter(|hook| !baseline || (hook.announce_existing && event.kind == ArticleEvent::Published))
            .filter(|hook| wanted(hook, event))
            .collect();
        if !hooks.is_empty() {
            let payload = payload(articles, event, now);
            for hook in hooks {
                jobs.push(job(hook, event, &payload, now));
            }
        }
        if !baseline && let Some(fediverse) = fediverse {
            let news = ArticleNews {
                kind: event.kind,
                id: &event.id,
                version: &event.version,
                sequence: event.sequence,
                article: event.article.as_ref(),
                previous: event.previous,
            };
            jobs.extend(fediverse.activities(store, &news, &config, now));
        }
        if !baseline && config.indexnow.is_some() {
            let current =
                event.article.as_ref().filter(|_| event.kind != ArticleEvent::Unpublished).map(|a| a.url.clone());
            let before = event.previous.map(|p| p.url.clone());
            for url in current.into_iter().chain(before) {
                if url::Url::parse(&url).ok().and_then(|u| u.host_str().map(str::to_string)).as_deref()
                    == Some(host.as_str())
                {
                    urls.entry(host.clone()).or_default().insert(url);
                }
            }
        }
    }
    let urls: Vec<(String, Vec<String>)> = urls.into_iter().map(|(h, set)| (h, set.into_iter().collect())).collect();
    let delay = config
        .indexnow
        .as_ref()
        .map_or(SignedDuration::ZERO, |i| SignedDuration::try_from(i.delay).unwrap_or(SignedDuration::ZERO));
    let due = now.checked_add(delay).unwrap_or(now);
    if baseline && events.len() > jobs.len() {
        tracing::info!(
            "recorded a baseline of {} articles; nothing announced (announce_existing = false)",
            states.len()
        );
    }
    store.record_announcements(&states, &cancel, &jobs, &urls, due)
}

/// Whether `hook` wants `event` (event type, language and section filters).
fn wanted(hook: &Webhook, event: &Event<'_>) -> bool {
    let (lang, section) = match (&event.article, event.previous) {
        (Some(a), _) => (a.lang.as_str(), a.section.as_str()),
        (None, Some(p)) => (p.lang.as_str(), p.section.as_str()),
        (None, None) => return false,
    };
    hook.events.contains(&event.kind)
        && (hook.languages.is_empty() || hook.languages.iter().any(|l| l == lang))
        && (hook.sections.is_empty() || hook.sections.iter().any(|s| s == section))
}

/// The JSON body of an event: type, time, and the article as a JSON Feed
/// item plus its language, section and translations.
fn payload(articles: &mut dyn ArticleSource, event: &Event<'_>, now: Timestamp) -> String {
    let config = Arc::clone(articles.config());
    let data = match (&event.article, event.kind) {
        (Some(article), ArticleEvent::Published | ArticleEvent::Updated) => {
            let item = articles.feed_item(article);
            let mut data = serde_json::to_value(crate::render::json_feed::item_of(&item, &config)).unwrap_or_default();
            if let Some(map) = data.as_object_mut() {
                map.insert("section".into(), item.article.section.clone().into());
                map.insert("section_title".into(), item.section_title.clone().into());
                let translations: Vec<serde_json::Value> = item
                    .translations
                    .iter()
                    .map(|(lang, url)| serde_json::json!({ "language": lang, "url": url }))
                    .collect();
                map.insert("translations".into(), translations.into());
            }
            data
        }
        _ => {
            let previous = event.previous;
            serde_json::json!({
                "id": event.article.as_ref().map_or_else(|| iri(&event.id, &config), |a| a.iri(&config)),
                "url": previous.map(|p| p.url.clone()).or_else(|| event.article.as_ref().map(|a| a.url.clone())),
                "language": previous.map(|p| p.lang.clone()),
                "section": previous.map(|p| p.section.clone()),
            })
        }
    };
    let timestamp = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    serde_json::json!({ "type": event.kind.as_str(), "timestamp": timestamp, "data": data }).to_string()
}

fn iri(id: &str, config: &Config) -> String {
    if id.contains(':') { id.to_string() } else { format!("{}{id}", config.site.id_prefix) }
}

/// The outbox slot of `hook`'s events of type `kind` about article `id`.
fn slot(hook: &Webhook, id: &str, kind: ArticleEvent) -> String {
    format!("webhook:{}:{id}:{}", hook.name, kind.as_str())
}

/// The queued job of `event` for `hook`. An update waits `update_delay`
/// (a burst of edits is one update, the newest) and merges into a
/// publication that is still waiting.
fn job(hook: &Webhook, event: &Event<'_>, payload: &str, now: Timestamp) -> EventDelivery {
    let message_id = message_id(&hook.name, &event.id, event.kind.as_str(), &event.version, event.sequence);
    let (due, merge_into) = match event.kind {
        ArticleEvent::Updated => {
            let delay = SignedDuration::try_from(hook.update_delay).unwrap_or(SignedDuration::ZERO);
            (now.checked_add(delay).unwrap_or(now), Some(slot(hook, &event.id, ArticleEvent::Published)))
        }
        ArticleEvent::Published | ArticleEvent::Unpublished => (now, None),
    };
    EventDelivery {
        kind: super::state::DeliveryKind::Webhook,
        target: hook.url.clone(),
        webhook: hook.name.clone(),
        message_id,
        payload: payload.to_string(),
        due,
        key: slot(hook, &event.id, event.kind),
        merge_into,
    }
}
