//! ActivityPub: every language and every section in each language is an
//! actor fediverse readers follow (`@thoi-su@example.vn`); new, changed and
//! unpublished articles go to their followers as `Create`, `Update` and
//! `Delete` activities through push's durable outbox.
//!
//! It sits between push (whose store keeps the keys and followers, whose
//! outbox and engine deliver, and which calls back through
//! [`crate::push::sources::Fediverse`]) and the server and daemon, which
//! route requests here and keep the [`Directory`] of actors current. By job:
//! `actors` (who the actors are, their documents), `keys` (their RSA keys),
//! `discovery` (WebFinger, NodeInfo, host-meta), `signatures` (HTTP
//! Signatures, pure), `remote` (other servers' keys and actors), `verify`
//! (checking an inbox request), `inbox` (what activities do),
//! `activities` (what herald sends), `publish` (fan-out and signing),
//! `collections` (outbox and followers).

pub mod activities;
pub mod actors;
pub mod collections;
pub mod discovery;
mod inbox;
pub mod keys;
mod publish;
pub mod remote;
pub mod signatures;
pub mod verify;

use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::{Method, Response, StatusCode, header};
use http_body_util::Full;
use tokio::sync::{Notify, watch};

pub use actors::{Actor, Directory};
pub use collections::ArticleIndex;

use crate::clock::Clock;
use crate::config::Config;
use crate::push::hub::RateLimiter;
use crate::push::ssrf::Lookup;
use crate::push::state::PushStore;

/// `Content-Type` of ActivityStreams documents.
pub const ACTIVITY_JSON: &str = "application/activity+json";

/// The fediverse side of a running daemon.
pub struct ActivityPub {
    store: Arc<dyn PushStore>,
    config: watch::Receiver<Arc<Config>>,
    clock: Arc<dyn Clock>,
    /// Wakes the delivery engine when an `Accept` is queued.
    wake: Arc<Notify>,
    keys: Arc<keys::ActorKeys>,
    remote: remote::Remote,
    rate: RateLimiter,
    /// The actors and their articles, as of the site's last update.
    index: ArcSwap<ArticleIndex>,
    /// Told when follows may have been added or removed.
    follower_changes: Arc<Notify>,
}

impl ActivityPub {
    /// The fediverse side over push's `store`, waking its engine with
    /// `wake`, fetching other servers' documents through `lookup`.
    pub fn new(
        store: Arc<dyn PushStore>,
        config: watch::Receiver<Arc<Config>>,
        clock: Arc<dyn Clock>,
        wake: Arc<Notify>,
        lookup: Arc<dyn Lookup>,
    ) -> ActivityPub {
        ActivityPub {
            keys: Arc::new(keys::ActorKeys::new(Arc::clone(&store))),
            store,
            config,
            clock,
            wake,
            remote: remote::Remote::new(lookup),
            rate: RateLimiter::default(),
            index: ArcSwap::default(),
            follower_changes: Arc::default(),
        }
    }

    /// Notified when follows may have been added or removed (by an inbox
    /// request, or a follower's server answering 410 Gone), so the daemon
    /// can show the new counts on the index page. Notifications coalesce:
    /// one may stand for many changes; read the counts afresh each time.
    pub fn follower_changes(&self) -> Arc<Notify> {
        Arc::clone(&self.follower_changes)
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config.borrow())
    }

    /// The actors now.
    pub fn directory(&self) -> Arc<ArticleIndex> {
        self.index.load_full()
    }

    /// Serves `index` from now on, and makes the keys of actors that have
    /// none yet (blocking: call it off the async threads).
    pub fn publish_index(&self, index: ArticleIndex) {
        let now = self.clock.now();
        for actor in index.iter() {
            if let Err(e) = self.keys.get(&actor.username, now) {
                tracing::error!("ActivityPub key of @{}: {e}", actor.username);
            }
        }
        self.index.store(Arc::new(index));
    }

    /// Whether `path` is one of the paths answered here (when enabled).
    pub fn owns(&self, path: &str) -> bool {
        self.config.borrow().activitypub.enabled
            && (path.starts_with("/.well-known/webfinger")
                || path == "/.well-known/nodeinfo"
                || path == "/.well-known/host-meta"
                || path == "/nodeinfo/2.1"
                || path.starts_with("/ap/"))
    }

    /// Answers a request to one of the paths [`ActivityPub::owns`] from
    /// `client`.
    pub async fn handle<B>(&self, request: http::Request<B>, client: IpAddr) -> Response<Full<Bytes>>
    where
        B: http_body::Body<Data = Bytes> + Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let config = self.config();
        let path = request.uri().path().to_string();
        let query = request.uri().query().unwrap_or("").to_string();
        let method = request.method().clone();
        if method == Method::POST {
            return match path.strip_prefix("/ap/").map(|rest| rest.split('/').collect::<Vec<_>>()).as_deref() {
                Some(["inbox"]) => self.inbox(request, None, client).await,
                Some([name, "inbox"]) => self.inbox(request, Some(name), client).await,
                _ => allow_only("GET, HEAD"),
            };
        }
        if method != Method::GET && method != Method::HEAD {
            return allow_only(if path.ends_with("/inbox") { "POST" } else { "GET, HEAD" });
        }
        let index = self.directory();
        let response = match path.as_str() {
            "/.well-known/webfinger" => {
                let resource = url::form_urlencoded::parse(query.as_bytes())
                    .find(|(k, _)| k == "resource")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                match discovery::webfinger(&resource, index.actors(), &config) {
                    Ok(jrd) => json(jrd, "application/jrd+json"),
                    Err((status, why)) => text(status, why),
                }
            }
            "/.well-known/nodeinfo" => json(discovery::nodeinfo_index(&config), "application/json"),
            "/nodeinfo/2.1" => json(
                discovery::nodeinfo(&config, index.actors().len(), index.local_posts()),
                "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"",
            ),
            "/.well-known/host-meta" => bytes(discovery::host_meta(&config).into(), "application/xrd+xml"),
            _ => self.actor_route(&request, &path, &query, &index, &config).await,
        };
        if method == Method::HEAD {
            let (parts, _) = response.into_parts();
            return Response::from_parts(parts, Full::new(Bytes::new()));
        }
        response
    }

    /// `/ap/NAME`, `/ap/NAME/outbox`, `/ap/NAME/followers`,
    /// `/ap/NAME/notes/ID`.
    async fn actor_route<B>(
        &self,
        request: &http::Request<B>,
        path: &str,
        query: &str,
        index: &ArticleIndex,
        config: &Config,
    ) -> Response<Full<Bytes>> {
        let parts: Vec<&str> = path.trim_start_matches("/ap/").split('/').collect();
        let Some(actor) = parts.first().and_then(|name| index.actors().get(name)).cloned() else {
            return text(StatusCode::NOT_FOUND, "no such actor here\n");
        };
        let followers = self.follower_count(&actor.username).await;
        match parts[1..] {
            [] => {
                if wants_html(request.headers()) {
                    return bytes(actors::page(&actor, config, followers).into(), "text/html; charset=utf-8");
                }
                let now = self.clock.now();
                let name = actor.username.clone();
                let keys = Arc::clone(&self.keys);
                let key = tokio::task::spawn_blocking(move || keys.get(&name, now))
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()));
                match key {
                    Ok(key) => json(actors::document(&actor, config, &key.public_pem), ACTIVITY_JSON),
                    Err(e) => {
                        let name = &actor.username;
                        tracing::error!("ActivityPub key of @{name}: {e}");
                        text(StatusCode::SERVICE_UNAVAILABLE, "the actor's key is not available now\n")
                    }
                }
            }
            ["followers"] => json(collections::followers(&actor, config, followers), ACTIVITY_JSON),
            ["following"] => json(collections::following(&actor, config), ACTIVITY_JSON),
            ["outbox"] => json(collections::outbox(&actor, index, config, page_of(query)), ACTIVITY_JSON),
            ["notes", object] => match collections::note(&actor, index, config, object) {
                Some(note) => json(note, ACTIVITY_JSON),
                None => text(StatusCode::NOT_FOUND, "no such note\n"),
            },
            _ => text(StatusCode::NOT_FOUND, "not found\n"),
        }
    }

    /// How many follow `username` (0 when the store cannot say).
    async fn follower_count(&self, username: &str) -> u64 {
        self.follower_counts().await.into_iter().find(|(a, _)| a == username).map_or(0, |(_, n)| n)
    }

    /// Followers per actor, for `/metrics` and the actor pages.
    pub async fn follower_counts(&self) -> Vec<(String, u64)> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || store.follower_counts()).await.ok().and_then(Result::ok).unwrap_or_default()
    }

    /// The follower counts in Prometheus text, one line per actor (every
    /// actor, 0 for those without followers).
    pub async fn metrics(&self) -> String {
        let counts = self.follower_counts().await;
        let mut out = String::from(
            "# HELP herald_activitypub_followers Fediverse accounts following each actor.\n\
             # TYPE herald_activitypub_followers gauge\n",
        );
        for actor in self.directory().actors().iter() {
            let n = counts.iter().find(|(a, _)| *a == actor.username).map_or(0, |(_, n)| *n);
            out.push_str(&format!("herald_activitypub_followers{{actor=\"{}\"}} {n}\n", actor.username));
        }
        out
    }
}

/// The `page` query parameter (1-based), if any.
fn page_of(query: &str) -> Option<usize> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .filter(|p| *p >= 1)
}

/// Whether a request prefers HTML (a browser) over ActivityStreams JSON.
fn wants_html(headers: &http::HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    accept.contains("text/html") && !accept.contains("activity+json") && !accept.contains("ld+json")
}

fn json(value: serde_json::Value, content_type: &'static str) -> Response<Full<Bytes>> {
    bytes(value.to_string().into(), content_type)
}

fn bytes(body: Bytes, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, http::HeaderValue::from_static(content_type));
    headers.insert(header::VARY, http::HeaderValue::from_static("Accept"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, http::HeaderValue::from_static("*"));
    headers.insert(header::CACHE_CONTROL, http::HeaderValue::from_static("max-age=60"));
    response
}

/// A plain-text answer.
pub(crate) fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

fn allow_only(allow: &'static str) -> Response<Full<Bytes>> {
    let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    response.headers_mut().insert(header::ALLOW, http::HeaderValue::from_static(allow));
    response
}
