//! A WebSub subscriber on loopback for tests: answers verification GETs
//! (echoing the challenge, or misbehaving on purpose) and records every
//! delivery. One server serves many callbacks, `/cb/<name>`.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    /// Delay before answering a delivery.
    delay: Duration,
}

/// The subscriber server.
pub struct Subscriber {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Subscriber {
    /// Starts a subscriber on an ephemeral loopback port.
    pub async fn start() -> Subscriber {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
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
                    let service = service_fn(move |request| answer(request, Arc::clone(&state)));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Subscriber { addr, state, stop, task }
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

    /// Makes every delivery wait `delay` before being answered.
    pub fn set_delay(&self, delay: Duration) {
        self.lock().delay = delay;
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

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Stops the server.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn answer(request: Request<Incoming>, state: Arc<Mutex<State>>) -> Result<Response<Full<Bytes>>, Infallible> {
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
    let (status, delay) = {
        let mut state = state.lock().unwrap();
        let status = state.statuses.get_mut(&name).and_then(VecDeque::pop_front).unwrap_or(200);
        (status, state.delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if (200..300).contains(&status) {
        state.lock().unwrap().posts.push(received);
    }
    respond(StatusCode::from_u16(status).unwrap().as_u16(), String::new())
}
