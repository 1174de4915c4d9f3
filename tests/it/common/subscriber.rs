//! A WebSub subscriber on loopback for tests: answers verification GETs
//! (echoing the challenge, or misbehaving on purpose) and records every
//! delivery, and every attempt whatever it was answered. It can also hold
//! deliveries unanswered (a receiver in the middle of its work) until
//! released. One server serves many callbacks, `/cb/<name>`.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::watch;

/// How a callback answers verification requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// 200 with the challenge (the subscriber confirms).
    Echo,
    /// 404.
    NotFound,
    /// 200 with something else than the challenge.
    WrongChallenge,
}

/// One request the subscriber received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Callback name.
    pub name: String,
    /// Query parameters (verification and denial GETs).
    pub query: HashMap<String, String>,
    /// Headers, lower-case names.
    pub headers: HashMap<String, String>,
    /// Body (deliveries).
    pub body: Bytes,
}

#[derive(Debug, Default)]
struct State {
    verify: HashMap<String, Verify>,
    /// Statuses to answer deliveries with, in order; then 200.
    statuses: HashMap<String, VecDeque<u16>>,
    gets: Vec<Received>,
    posts: Vec<Received>,
    /// Every POST on arrival, with the status it is (or will be) answered.
    attempts: Vec<(Received, u16)>,
    /// POSTs after this many are held unanswered until released.
    hold_after: Option<usize>,
    /// POSTs held so far.
    held: usize,
}

/// The subscriber server.
pub struct Subscriber {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: watch::Sender<bool>,
    /// Open (true) unless deliveries are being held.
    gate: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Subscriber {
    /// Starts a subscriber on an ephemeral loopback port.
    pub async fn start() -> Subscriber {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let (stop, mut stopped) = watch::channel(false);
        let (gate, gate_rx) = watch::channel(true);
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            loop {
                let (stream, _) = tokio::select! {
                    accepted = listener.accept() => match accepted { Ok(pair) => pair, Err(_) => continue },
                    _ = stopped.wait_for(|s| *s) => break,
                };
                let state = Arc::clone(&shared);
                let gate = gate_rx.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(request, Arc::clone(&state), gate.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Subscriber { addr, state, stop, gate, task }
    }

    /// The callback URL of `name`.
    pub fn callback(&self, name: &str) -> String {
        format!("http://{}/cb/{name}", self.addr)
    }

    /// Sets how `name` answers verifications.
    pub fn set_verify(&self, name: &str, verify: Verify) {
        self.lock().verify.insert(name.to_string(), verify);
    }

    /// Makes `name` answer its next deliveries with `statuses`, then 200.
    pub fn set_statuses(&self, name: &str, statuses: &[u16]) {
        self.lock().statuses.insert(name.to_string(), statuses.iter().copied().collect());
    }

    /// Verification and denial GETs received by `name`.
    pub fn gets(&self, name: &str) -> Vec<Received> {
        self.lock().gets.iter().filter(|r| r.name == name).cloned().collect()
    }

    /// Deliveries received by `name` and answered 2xx.
    pub fn deliveries(&self, name: &str) -> Vec<Received> {
        self.lock().posts.iter().filter(|r| r.name == name).cloned().collect()
    }

    /// Every delivery answered 2xx.
    pub fn all_deliveries(&self) -> Vec<Received> {
        self.lock().posts.clone()
    }

    /// Every delivery attempt to `name` on arrival, with the status it was
    /// (or, held, will be) answered: failed ones and ones cut off too.
    pub fn attempts(&self, name: &str) -> Vec<(Received, u16)> {
        self.lock().attempts.iter().filter(|(r, _)| r.name == name).cloned().collect()
    }

    /// Answers the next `answered` deliveries (counted from the first ever)
    /// as usual, then holds the others unanswered until [`Subscriber::release`].
    pub fn hold_after(&self, answered: usize) {
        self.lock().hold_after = Some(answered);
        self.gate.send_replace(false);
    }

    /// How many deliveries are held unanswered (or were, until released).
    pub fn held(&self) -> usize {
        self.lock().held
    }

    /// Answers the held deliveries and holds no more.
    pub fn release(&self) {
        self.lock().hold_after = None;
        self.gate.send_replace(true);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Stops the server.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn answer(
    request: Request<Incoming>,
    state: Arc<Mutex<State>>,
    mut gate: watch::Receiver<bool>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let name = request.uri().path().trim_start_matches("/cb/").to_string();
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes()).into_owned().collect();
    let headers: HashMap<String, String> =
        request.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
    let is_get = request.method() == hyper::Method::GET;
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let received = Received { name: name.clone(), query: query.clone(), headers, body };
    let respond =
        |status: u16, body: String| Ok(Response::builder().status(status).body(Full::new(Bytes::from(body))).unwrap());
    if is_get {
        let verify = {
            let mut state = state.lock().unwrap();
            state.gets.push(received);
            state.verify.get(&name).copied().unwrap_or(Verify::Echo)
        };
        let challenge = query.get("hub.challenge").cloned().unwrap_or_default();
        return match verify {
            Verify::Echo => respond(200, challenge),
            Verify::NotFound => respond(404, String::new()),
            Verify::WrongChallenge => respond(200, format!("{challenge}-wrong")),
        };
    }
    let (status, hold) = {
        let mut state = state.lock().unwrap();
        let status = state.statuses.get_mut(&name).and_then(VecDeque::pop_front).unwrap_or(200);
        let hold = state.hold_after.is_some_and(|after| state.attempts.len() >= after);
        state.held += usize::from(hold);
        state.attempts.push((received.clone(), status));
        (status, hold)
    };
    if hold {
        let _ = gate.wait_for(|open| *open).await;
    }
    if (200..300).contains(&status) {
        state.lock().unwrap().posts.push(received);
    }
    respond(StatusCode::from_u16(status).unwrap().as_u16(), String::new())
}
