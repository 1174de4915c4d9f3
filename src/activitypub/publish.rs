//! Publishing: the activities an article event causes, one per distinct
//! inbox of the followers of the article's section actor and of its
//! language's actor (followers on one server share its shared inbox, so
//! the server gets one request), and the signatures on every request the
//! delivery engine sends (draft-cavage rsa-sha256 over `(request-target)
//! host date digest`, what Mastodon expects).

use std::collections::BTreeSet;

use jiff::Timestamp;

use super::actors::{Actor, actor_id};
use super::signatures::{digest_header, http_date};
use super::{ActivityPub, activities};
use crate::config::{ArticleEvent, Config};
use crate::push::sources::{ArticleNews, Fediverse};
use crate::push::state::{DeliveryKind, EventDelivery, PushStore};

impl Fediverse for ActivityPub {
    fn activities(
        &self,
        store: &dyn PushStore,
        news: &ArticleNews<'_>,
        config: &Config,
        now: Timestamp,
    ) -> Vec<EventDelivery> {
        let (lang, section) = match (news.article, news.previous) {
            (Some(a), _) if news.kind != ArticleEvent::Unpublished => (a.lang.clone(), a.section.clone()),
            (_, Some(p)) => (p.lang.clone(), p.section.clone()),
            (Some(a), None) => (a.lang.clone(), a.section.clone()),
            (None, None) => return Vec::new(),
        };
        let default = &config.site.default_language;
        let actors = [
            Actor {
                username: config.activitypub.username(&lang, Some(&section), default),
                lang: lang.clone(),
                section: Some(section.clone()),
            },
            Actor { username: config.activitypub.username(&lang, None, default), lang: lang.clone(), section: None },
        ];
        let mut jobs = Vec::new();
        for actor in &actors {
            let followers = match store.followers(Some(&actor.username)) {
                Ok(followers) => followers,
                Err(e) => {
                    tracing::error!("cannot read the followers of @{}: {e}", actor.username);
                    continue;
                }
            };
            if followers.is_empty() {
                continue;
            }
            let activity = match (news.kind, news.article) {
                (ArticleEvent::Published, Some(article)) => {
                    activities::create_or_update("Create", actor, article, news.sequence, config)
                }
                (ArticleEvent::Updated, Some(article)) => {
                    activities::create_or_update("Update", actor, article, news.sequence, config)
                }
                (ArticleEvent::Unpublished, _) => activities::delete(actor, news.id, news.sequence, config),
                _ => continue,
            };
            let payload = activity.to_string();
            let message_id = activity["id"].as_str().unwrap_or_default().to_string();
            let inboxes: BTreeSet<&str> = followers.iter().map(|f| f.delivery_inbox()).collect();
            for inbox in inboxes {
                jobs.push(EventDelivery {
                    kind: DeliveryKind::Activity,
                    target: inbox.to_string(),
                    webhook: actor.username.clone(),
                    message_id: message_id.clone(),
                    payload: payload.clone(),
                    due: now,
                    key: format!("ap:{}:{}:{}:{inbox}", actor.username, news.id, news.kind.as_str()),
                    merge_into: None,
                });
            }
        }
        jobs
    }

    fn followers_removed(&self) {
        self.follower_changes.notify_one();
    }

    fn sign(&self, actor: &str, inbox: &str, body: &[u8], now: Timestamp) -> Result<Vec<(String, String)>, String> {
        let key = self.keys.get(actor, now)?;
        let url = url::Url::parse(inbox).map_err(|e| format!("{inbox}: {e}"))?;
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        };
        let date = http_date(now);
        let digest = digest_header(body);
        let message = format!("(request-target): post {target}\nhost: {host}\ndate: {date}\ndigest: {digest}");
        let signature = key.sign(message.as_bytes())?;
        let key_id = format!("{}#main-key", actor_id(actor, &self.config()));
        // Host is signed as the client will send it (reqwest writes it from
        // the URL, with the port when it is not the default).
        Ok(vec![
            ("Date".into(), date),
            ("Digest".into(), digest),
            (
                "Signature".into(),
                format!(
                    "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest\",\
                     signature=\"{signature}\""
                ),
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::clock::ManualClock;
    use crate::config::Overrides;
    use crate::push::ssrf::SystemLookup;
    use crate::push::state::{Follower, SqliteStore};
    use crate::store::{ArticleStore, MemoryStore};

    const CONFIG: &str = r#"
[site]
base_url = "https://news.example.vn"
default_language = "vi"
time_zone = "Asia/Ho_Chi_Minh"
title = { vi = "Báo Mẫu" }

[languages.vi]
name = "Tiếng Việt"
prefix = ""

[activitypub]
enabled = true
"#;

    /// Three followers of the section behind one server's shared inbox,
    /// one with only a personal inbox, and the language's follower on the
    /// same big server: one job per distinct inbox and actor (the shared
    /// inbox gets the section's activity once and the language's once).
    #[test]
    fn one_job_per_distinct_inbox_and_actor() {
        let config = Arc::new(Config::parse(CONFIG, Path::new("feeds.toml"), &Overrides::default()).unwrap());
        let now: Timestamp = "2026-11-21T00:00:00Z".parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn PushStore> = Arc::new(SqliteStore::open(&dir.path().join("push.sqlite3")).unwrap());
        let follower = |actor: &str, host: &str, n: usize, shared: bool| Follower {
            actor: actor.into(),
            follower: format!("https://{host}/users/{n}"),
            inbox: format!("https://{host}/users/{n}/inbox"),
            shared_inbox: shared.then(|| format!("https://{host}/inbox")),
            follow_id: format!("https://{host}/follows/{actor}/{n}"),
            created_at: now,
        };
        for n in 0..3 {
            store.add_follower(&follower("thoi-su", "big.example", n, true)).unwrap();
        }
        store.add_follower(&follower("thoi-su", "small.example", 0, false)).unwrap();
        store.add_follower(&follower("vi", "big.example", 0, true)).unwrap();
        let articles = MemoryStore::new();
        articles.insert("thoi-su/a.vi.md", "+++\ntitle = \"A\"\ndate = 2026-11-20T08:00:00+07:00\n+++\nBody\n");
        let article = Arc::new(articles.scan(&config).articles.remove(0));
        let news = ArticleNews {
            kind: ArticleEvent::Published,
            id: &article.id,
            version: "v1",
            sequence: 1,
            article: Some(&article),
            previous: None,
        };
        let (_config_tx, config_rx) = tokio::sync::watch::channel(Arc::clone(&config));
        let activitypub = ActivityPub::new(
            Arc::clone(&store),
            config_rx,
            Arc::new(ManualClock::new(now)),
            Arc::default(),
            Arc::new(SystemLookup),
        );
        let jobs = activitypub.activities(store.as_ref(), &news, &config, now);
        let mut sent: Vec<(&str, &str)> = jobs.iter().map(|j| (j.webhook.as_str(), j.target.as_str())).collect();
        sent.sort();
        assert_eq!(
            sent,
            [
                ("thoi-su", "https://big.example/inbox"),
                ("thoi-su", "https://small.example/users/0/inbox"),
                ("vi", "https://big.example/inbox"),
            ]
        );
        assert!(jobs.iter().all(|j| j.kind == DeliveryKind::Activity && j.payload.contains("\"Create\"")));
    }
}
