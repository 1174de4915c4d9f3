//! Documents of other servers: the signer's public key (by `keyId`) and a
//! follower's actor (for its inboxes), fetched through the same SSRF guard
//! as WebSub callbacks (`--allow-private-callbacks` lets them reach private
//! addresses too), at most 1 MB, and cached: keys for an hour (refetched
//! once at once when a signature fails with the cached one, for a rotated
//! key), actors for a day.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use url::Url;

use crate::parallel::lock;
use crate::push::ssrf::{GuardedResolver, Lookup, check_callback};

/// Largest remote document read.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// How long a fetched key is trusted without asking again.
const KEY_TTL: Duration = Duration::from_secs(3600);
/// How long a fetched actor (inboxes) is kept.
const ACTOR_TTL: Duration = Duration::from_secs(24 * 3600);
/// Most entries of each cache (beyond, the oldest half is dropped).
const MAX_CACHED: usize = 10_000;
/// Time limit of one fetch.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// What herald asks for.
const ACCEPT: &str =
    "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

/// A signer's public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteKey {
    /// The key in PEM.
    pub pem: String,
    /// The actor that owns it.
    pub owner: String,
}

/// A remote actor's addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteActor {
    /// Its id.
    pub id: String,
    /// Its inbox.
    pub inbox: String,
    /// Its server's shared inbox, if any.
    pub shared_inbox: Option<String>,
}

/// Fetches and caches other servers' keys and actors.
pub struct Remote {
    lookup: Arc<dyn Lookup>,
    /// (allow private addresses, client) — rebuilt when the setting changes.
    client: Mutex<Option<(bool, reqwest::Client)>>,
    keys: Mutex<HashMap<String, (RemoteKey, Instant)>>,
    actors: Mutex<HashMap<String, (RemoteActor, Instant)>>,
}

impl Remote {
    /// Fetches names through `lookup`.
    pub fn new(lookup: Arc<dyn Lookup>) -> Remote {
        Remote { lookup, client: Mutex::default(), keys: Mutex::default(), actors: Mutex::default() }
    }

    /// The key `key_id` names: from the cache unless `fresh`, else fetched.
    pub async fn key(&self, key_id: &str, allow_private: bool, fresh: bool) -> Result<RemoteKey, String> {
        if !fresh
            && let Some((key, at)) = lock(&self.keys).get(key_id)
            && at.elapsed() < KEY_TTL
        {
            return Ok(key.clone());
        }
        let document = self.fetch(key_id, allow_private).await?;
        let key = key_in(&document, key_id).ok_or_else(|| format!("{key_id} holds no public key"))?;
        let mut keys = lock(&self.keys);
        trim(&mut keys);
        keys.insert(key_id.to_string(), (key.clone(), Instant::now()));
        if let Some(actor) = actor_in(&document) {
            drop(keys);
            self.remember_actor(actor);
        }
        Ok(key)
    }

    /// The actor `id`: from the cache, else fetched.
    pub async fn actor(&self, id: &str, allow_private: bool) -> Result<RemoteActor, String> {
        if let Some((actor, at)) = lock(&self.actors).get(id)
            && at.elapsed() < ACTOR_TTL
        {
            return Ok(actor.clone());
        }
        let document = self.fetch(id, allow_private).await?;
        let actor = actor_in(&document).ok_or_else(|| format!("{id} is not an actor with an inbox"))?;
        if actor.id != id {
            return Err(format!("{id} answered with another actor, {}", actor.id));
        }
        self.remember_actor(actor.clone());
        Ok(actor)
    }

    fn remember_actor(&self, actor: RemoteActor) {
        let mut actors = lock(&self.actors);
        trim(&mut actors);
        actors.insert(actor.id.clone(), (actor, Instant::now()));
    }

    /// GETs `url` (without its fragment) as ActivityStreams JSON.
    async fn fetch(&self, url: &str, allow_private: bool) -> Result<Value, String> {
        let mut parsed = Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
        parsed.set_fragment(None);
        check_callback(&parsed, allow_private, self.lookup.as_ref())
            .await
            .map_err(|e| e.replace("hub.callback", url))?;
        let client = self.client(allow_private)?;
        let mut response = client
            .get(parsed.as_str())
            .header(http::header::ACCEPT, ACCEPT)
            .send()
            .await
            .map_err(|e| format!("cannot fetch {parsed}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{parsed} answered {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("cannot fetch {parsed}: {e}"))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_DOCUMENT_BYTES {
                return Err(format!("{parsed} is larger than {MAX_DOCUMENT_BYTES} bytes"));
            }
        }
        serde_json::from_slice(&body).map_err(|e| format!("{parsed} is not JSON: {e}"))
    }

    fn client(&self, allow_private: bool) -> Result<reqwest::Client, String> {
        let mut slot = lock(&self.client);
        if let Some((allowed, client)) = slot.as_ref()
            && *allowed == allow_private
        {
            return Ok(client.clone());
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(concat!("herald/", env!("CARGO_PKG_VERSION"), " (ActivityPub)"))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(FETCH_TIMEOUT)
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::new(Arc::clone(&self.lookup), !allow_private)))
            .build()
            .map_err(|e| format!("cannot create the HTTP client: {e}"))?;
        *slot = Some((allow_private, client.clone()));
        Ok(client)
    }
}

/// Drops the older half of a full cache.
fn trim<T>(cache: &mut HashMap<String, (T, Instant)>) {
    if cache.len() >= MAX_CACHED {
        let mut ages: Vec<Instant> = cache.values().map(|(_, at)| *at).collect();
        ages.sort_unstable();
        let cut = ages[ages.len() / 2];
        cache.retain(|_, (_, at)| *at > cut);
    }
}

/// The public key `key_id` in `document`: the document itself (a key
/// object), or one of its `publicKey`s (an actor).
fn key_in(document: &Value, key_id: &str) -> Option<RemoteKey> {
    let from = |key: &Value| -> Option<RemoteKey> {
        let pem = key.get("publicKeyPem")?.as_str()?.to_string();
        let owner = key.get("owner").and_then(Value::as_str).or_else(|| document.get("id")?.as_str())?.to_string();
        Some(RemoteKey { pem, owner })
    };
    if document.get("publicKeyPem").is_some() {
        return from(document);
    }
    let keys: Vec<&Value> = match document.get("publicKey")? {
        Value::Array(keys) => keys.iter().collect(),
        key => vec![key],
    };
    keys.iter().find(|k| k.get("id").and_then(Value::as_str) == Some(key_id)).or(keys.first()).and_then(|k| from(k))
}

/// The addresses of the actor `document` describes, if it is one.
pub fn actor_in(document: &Value) -> Option<RemoteActor> {
    let id = document.get("id")?.as_str()?.to_string();
    let inbox = document.get("inbox")?.as_str()?.to_string();
    let shared_inbox =
        document.get("endpoints").and_then(|e| e.get("sharedInbox")).and_then(Value::as_str).map(str::to_string);
    Some(RemoteActor { id, inbox, shared_inbox })
}
