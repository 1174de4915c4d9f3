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
