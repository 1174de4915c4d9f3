//! A fediverse server on loopback for tests: it serves its accounts' actor
//! documents (with their public keys, which it can rotate), records every
//! activity POSTed to their inboxes or its shared inbox (answering with
//! statuses the test sets), and signs requests to herald's inboxes as one
//! of its accounts, correctly or with one thing wrong on purpose.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::watch;

use herald::activitypub::keys::ActorKey;
use herald::activitypub::signatures::{digest_header, http_date};

/// One activity the peer received.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The path POSTed to (`/users/a/inbox`, `/inbox`).
    pub path: String,
    /// Headers, lower-case names.
    pub headers: HashMap<String, String>,
    /// The activity.
    pub body: serde_json::Value,
}

/// What is wrong with a signed request, on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// Nothing: a correct signature.
    None,
    /// A `Digest` of another body.
    WrongDigest,
    /// A `Date` 13 hours ago.
    StaleDate,
    /// Signed with a key the actor document does not hold.
    OtherKey,
    /// No `Signature` header.
    Unsigned,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, Arc<ActorKey>>,
    received: Vec<Delivered>,
    statuses: VecDeque<u16>,
    /// Actor documents served, by account.
    actor_fetches: HashMap<String, usize>,
    shared_inbox: bool,
}

/// The peer server.
pub struct Peer {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Peer {
    /// A peer on an ephemeral loopback port; with `shared_inbox`, its
    /// actors advertise `/inbox`.
    pub async fn start(shared_inbox: bool) -> Peer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State { shared_inbox, ..State::default() }));
        let (stop, mut stopped) = watch::channel(false);
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            loop {
                let (stream, _) = tokio::select! {
                    accepted = listener.accept() => match accepted { Ok(pair) => pair, Err(_) => continue },
                    _ = stopped.wait_for(|s| *s) => break,
                };
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(request, Arc::clone(&state), addr));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Peer { addr, state, stop, task }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// The actor id of account `name`.
    pub fn actor(&self, name: &str) -> String {
        format!("http://{}/users/{name}", self.addr)
    }

    /// The key of `name`, made on first use.
    fn key(&self, name: &str) -> Arc<ActorKey> {
        let mut state = self.lock();
        Arc::clone(state.keys.entry(name.to_string()).or_insert_with(|| Arc::new(new_key())))
    }

    /// Gives `name` a new key (its actor document shows the new one).
    pub fn rotate(&self, name: &str) {
        self.lock().keys.insert(name.to_string(), Arc::new(new_key()));
    }

    /// How often the actor document of `name` was fetched.
    pub fn actor_fetches(&self, name: &str) -> usize {
        self.lock().actor_fetches.get(name).copied().unwrap_or(0)
    }

    /// Answers the next deliveries with `statuses`, then 202.
    pub fn set_statuses(&self, statuses: &[u16]) {
        self.lock().statuses = statuses.iter().copied().collect();
    }

    /// Every activity received (answered 2xx or not).
    pub fn received(&self) -> Vec<Delivered> {
        self.lock().received.clone()
    }

    /// POSTs `activity` to `url` (herald's inbox) signed as `name`, with
    /// `tamper` applied; returns the status and body.
    pub async fn post(&self, name: &str, url: &str, activity: &serde_json::Value, tamper: Tamper) -> (u16, String) {
        let body = activity.to_string();
        let parsed = url::Url::parse(url).unwrap();
        let host = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap());
        let at = match tamper {
            Tamper::StaleDate => jiff::Timestamp::now() - jiff::SignedDuration::from_hours(13),
            _ => jiff::Timestamp::now(),
        };
        let date = http_date(at);
        let digest = match tamper {
            Tamper::WrongDigest => digest_header(b"{\"something\":\"else\"}"),
            _ => digest_header(body.as_bytes()),
        };
        let message = format!("(request-target): post {}\nhost: {host}\ndate: {date}\ndigest: {digest}", parsed.path());
        let key = match tamper {
            Tamper::OtherKey => Arc::new(new_key()),
            _ => self.key(name),
        };
        let signature = key.sign(message.as_bytes()).unwrap();
        let mut request = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/activity+json")
            .header("date", date)
            .header("digest", digest)
            .body(body);
        if tamper != Tamper::Unsigned {
            request = request.header(
                "signature",
                format!(
                    "keyId=\"{}#main-key\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest\",signature=\"{signature}\"",
                    self.actor(name)
                ),
            );
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// POSTs `activity` to `url` signed as `name` the RFC 9421 way
    /// (`Signature-Input` over `@method`, `@target-uri` and
    /// `content-digest`), the base written out here by hand; `tamper_body`
    /// sends another body than the one digested. `signed_uri` is the
    /// `@target-uri` (the address herald is known by, not the loopback one).
    pub async fn post_rfc9421(
        &self,
        name: &str,
        url: &str,
        signed_uri: &str,
        activity: &serde_json::Value,
        tamper_body: bool,
    ) -> u16 {
        use base64::Engine as _;
        use sha2::Digest as _;
        let body = activity.to_string();
        let digest = format!(
            "sha-256=:{}:",
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(body.as_bytes()))
        );
        let created = jiff::Timestamp::now().as_second();
        let params = format!(
            "(\"@method\" \"@target-uri\" \"content-digest\");created={created};keyid=\"{}#main-key\";alg=\"rsa-v1_5-sha256\"",
            self.actor(name)
        );
        let base = format!(
            "\"@method\": POST\n\"@target-uri\": {signed_uri}\n\"content-digest\": {digest}\n\"@signature-params\": {params}"
        );
        let signature = self.key(name).sign(base.as_bytes()).unwrap();
        let sent = if tamper_body { body.replace("Like", "Follow") } else { body };
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/activity+json")
            .header("content-digest", digest)
            .header("signature-input", format!("sig1={params}"))
            .header("signature", format!("sig1=:{signature}:"))
            .body(sent)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// Stops the server.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

fn new_key() -> ActorKey {
    ActorKey::from_pem(&ActorKey::generate_pem().unwrap()).unwrap()
}

async fn answer(
    request: Request<Incoming>,
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let path = request.uri().path().to_string();
    let headers: HashMap<String, String> = request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let method = request.method().clone();
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let respond = |status: u16, body: String| {
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
        response.headers_mut().insert("content-type", "application/activity+json".parse().unwrap());
        Ok(response)
    };
    if method == hyper::Method::GET {
        let Some(name) = path.strip_prefix("/users/").filter(|n| !n.contains('/')) else {
            return respond(404, String::new());
        };
        let mut state = state.lock().unwrap();
        *state.actor_fetches.entry(name.to_string()).or_default() += 1;
        let key = Arc::clone(state.keys.entry(name.to_string()).or_insert_with(|| Arc::new(new_key())));
        let id = format!("http://{addr}/users/{name}");
        let mut actor = serde_json::json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id,
            "type": "Person",
            "preferredUsername": name,
            "inbox": format!("{id}/inbox"),
            "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": key.public_pem },
        });
        if state.shared_inbox {
            actor["endpoints"] = serde_json::json!({ "sharedInbox": format!("http://{addr}/inbox") });
        }
        return respond(200, actor.to_string());
    }
    let mut state = state.lock().unwrap();
    let status = state.statuses.pop_front().unwrap_or(202);
    state.received.push(Delivered {
        path,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    });
    respond(status, String::new())
}
