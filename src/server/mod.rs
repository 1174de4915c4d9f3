//! The HTTP server: hyper 1.x on tokio, HTTP/1.1 and HTTP/2.
//!
//! Requests read the current [`ServedFiles`] through an `ArcSwap` (no lock),
//! pick the precompressed body `Accept-Encoding` allows, answer conditional
//! requests with 304, and count themselves in [`Metrics`]. Nothing on the
//! request path touches the disk, compresses, or waits for the site to
//! update.
//!
//! [`serve`] takes a bound listener and a shutdown future (the mini-redis
//! pattern), so tests run it on an ephemeral loopback port. Each
//! connection is bounded in time by [`connection`]: its first request, its
//! idle spells and its stalled writes.
//!
//! Behind a reverse proxy every connection comes from the proxy; when the
//! peer is one of `[server] trusted_proxies`, [`client_address`] reads the
//! client's address from `X-Forwarded-For` instead.

pub mod compress;
pub mod connection;
pub mod current;
pub mod files;
pub mod health;
pub mod metrics;

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::activitypub::ActivityPub;
use crate::file_cache::Representation;
use crate::push::delivery::DeliveryCounters;
use crate::push::hub::WebSubHub;
use crate::push::state::PushStore;

pub use current::CurrentFiles;
pub use files::{Route, ServedFile, ServedFiles};
pub use health::{HEALTH_CHECK_INTERVAL, HealthReport};
pub use metrics::Metrics;

/// What the request handlers read. Complete when made: the push parts
/// and the compressor are given to [`ServerState::new`]; the daemon then
/// replaces `files` and `health` after every site update.
pub struct ServerState {
    /// The files being served (push reads topic content from them too).
    pub files: Arc<CurrentFiles>,
    /// The `/healthz` body (JSON), rendered after each update.
    pub health: ArcSwap<Bytes>,
    /// The report `health` was rendered from, to add a problem to.
    report: ArcSwap<HealthReport>,
    /// The push store, when push runs: a failure of it makes `/healthz`
    /// say `degraded`.
    pub push_store: Option<Arc<dyn PushStore>>,
    /// When `/healthz` last checked whether a failing push store works
    /// again.
    last_check: std::sync::Mutex<Option<std::time::Instant>>,
    /// Problems other parts of the daemon report between updates (the
    /// articles table's follower), by who reports them: `/healthz` is
    /// `degraded` while there is any.
    conditions: std::sync::Mutex<std::collections::BTreeMap<&'static str, String>>,
    /// Request and build counters.
    pub metrics: Metrics,
    /// The WebSub hub, when enabled.
    pub hub: Option<Arc<WebSubHub>>,
    /// Outcomes of push deliveries, for `/metrics`, when push runs.
    pub deliveries: Option<Arc<DeliveryCounters>>,
    /// The background compressor of served files; without one, files are
    /// sent uncompressed.
    pub compressor: Option<compress::Compressor>,
    /// The fediverse side (actors, discovery, inboxes), when enabled.
    pub activitypub: Option<Arc<ActivityPub>>,
    /// Set while the archive documents of a large store are still being
    /// rendered after start-up (the live files are served already): a path
    /// not found may be one of them, so it is answered 503 with
    /// `Retry-After` rather than a 404 a crawler would remember.
    pub archives_starting: std::sync::atomic::AtomicBool,
}

impl ServerState {
    /// The state of a server handing out `files`, answering at the hub
    /// endpoint when there is a `hub`, showing push `deliveries` in
    /// `/metrics`, and compressing new files with `compressor`. The health
    /// report is empty until the first one is published.
    pub fn new(
        files: Arc<CurrentFiles>,
        hub: Option<Arc<WebSubHub>>,
        deliveries: Option<Arc<DeliveryCounters>>,
        compressor: Option<compress::Compressor>,
        push_store: Option<Arc<dyn PushStore>>,
    ) -> ServerState {
        ServerState {
            files,
            health: ArcSwap::default(),
            report: ArcSwap::default(),
            push_store,
            last_check: std::sync::Mutex::new(None),
            conditions: std::sync::Mutex::default(),
            metrics: Metrics::default(),
            hub,
            deliveries,
            compressor,
            activitypub: None,
            archives_starting: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The same state, answering ActivityPub requests with `activitypub`.
    pub fn with_activitypub(mut self, activitypub: Option<Arc<ActivityPub>>) -> ServerState {
        self.activitypub = activitypub;
        self
    }

    /// Serves `report` at `/healthz` from now on, and records its counters
    /// for `/metrics`.
    pub fn publish_health(&self, report: &HealthReport) {
        self.health.store(Arc::new(report.to_json()));
        self.report.store(Arc::new(report.clone()));
        self.metrics.site(report);
    }
}

/// Limits that protect the server from slow or oversized requests.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest time to receive a request head (a new connection's first
    /// one included, protocol detection and all), and to answer; also how
    /// long a connection may stay idle between requests.
    pub request_timeout: Duration,
    /// Longest time the writing of a response may make no progress (a
    /// client that stopped reading) before the connection is closed.
    pub write_timeout: Duration,
    /// Largest request head accepted.
    pub max_header_bytes: usize,
    /// Most connections at once.
    pub max_connections: usize,
}

/// Accepts connections on `listener` until `shutdown` resolves, then stops
/// accepting, lets in-flight requests finish (for up to 10 seconds) and
/// returns.
pub async fn serve(listener: TcpListener, state: Arc<ServerState>, limits: Limits, shutdown: impl Future<Output = ()>) {
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.request_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(limits.max_header_bytes as u32)
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(10));
    // Turns true when the server stops: every connection then shuts down
    // gracefully.
    let (stopping, stopping_rx) = tokio::sync::watch::channel(false);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    let mut backoff = Duration::from_millis(10);
    let timeouts = connection::Timeouts { request: limits.request_timeout, write: limits.write_timeout };

    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => {
                    backoff = Duration::from_millis(10);
                    pair
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait, retry.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        let timeout = limits.request_timeout;
        let peer = peer.ip();
        let activity = Arc::new(connection::Activity::new());
        let requests = Arc::clone(&activity);
        let service = service_fn(move |request: Request<Incoming>| {
            let state = Arc::clone(&state);
            let in_progress = requests.begin_request();
            async move {
                let response = match tokio::time::timeout(timeout, handle(request, peer, &state)).await {
                    Ok(response) => response,
                    Err(_) => plain(StatusCode::SERVICE_UNAVAILABLE, "timed out\n"),
                };
                drop(in_progress);
                Ok::<_, Infallible>(response)
            }
        });
        let io = TokioIo::new(connection::TimedIo::new(stream, Arc::clone(&activity), limits.write_timeout));
        let connection = builder.serve_connection(io, service).into_owned();
        let stopping = stopping_rx.clone();
        tokio::spawn(async move {
            connection::supervise(connection, |c| c.graceful_shutdown(), &activity, timeouts, stopping).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    // Every connection has ended once every permit is back.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(Duration::from_secs(10), permits.acquire_many(all)).await.is_err() {
        tracing::warn!("some connections were still open after 10 seconds; closing them");
    }
}

/// Answers one request that came over a connection from `peer` (the
/// client, or a reverse proxy in front of herald).
pub async fn handle<B>(request: Request<B>, peer: IpAddr, state: &ServerState) -> Response<Full<Bytes>>
where
    B: http_body::Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let method = request.method().clone();
    let (route, response) = match request.uri().path() {
        "/healthz" => (Route::Health, dynamic(&method, state.current_health().await, "application/json")),
        "/metrics" => {
            let pending = state.compressor.as_ref().map_or(0, compress::Compressor::pending);
            let bytes = state.files.load().bytes();
            let mut text = state.metrics.render(state.deliveries.as_deref(), pending, bytes);
            if let Some(activitypub) = &state.activitypub {
                text.push_str(&activitypub.metrics().await);
            }
            (Route::Metrics, dynamic(&method, Bytes::from(text), "text/plain; version=0.0.4; charset=utf-8"))
        }
        path if state.activitypub.as_ref().is_some_and(|ap| ap.owns(path)) => {
            let activitypub = state.activitypub.as_ref().expect("checked");
            let trusted = &activitypub.config().server.trusted_proxies;
            let client = client_address(peer, request.headers(), trusted);
            (Route::ActivityPub, activitypub.handle(request, client).await)
        }
        path => {
            let files = state.files.load();
            let lookup = if path == "/" { "/index.html" } else { path };
            match files.get(lookup) {
                Some(file) if method == Method::GET || method == Method::HEAD => {
                    // A document with an HTML view: the view for a browser's
                    // navigation, the document for everyone else.
                    let twin = files.get(&crate::render::view::twin_path(lookup));
                    match twin {
                        Some(page) if wants_view(request.headers()) => {
                            (page.route, respond_file(page, request.headers(), Some(NEGOTIATED_VARY)))
                        }
                        Some(_) => (file.route, respond_file(file, request.headers(), Some(NEGOTIATED_VARY))),
                        None => (file.route, respond_file(file, request.headers(), None)),
                    }
                }
                Some(file) => (file.route, method_not_allowed("GET, HEAD")),
                None => match state.hub.as_ref().filter(|hub| hub.path() == path) {
                    Some(hub) if method == Method::POST => {
                        // The hub limits requests per client: find who it is.
                        let trusted = &hub.config().server.trusted_proxies;
                        let client = client_address(peer, request.headers(), trusted);
                        (Route::Hub, hub.handle(request, client, &**files).await)
                    }
                    Some(_) => (Route::Hub, method_not_allowed("POST")),
                    None if state.archives_starting.load(std::sync::atomic::Ordering::Relaxed) => {
                        (Route::NotFound, not_yet_rendered())
                    }
                    None => (Route::NotFound, plain(StatusCode::NOT_FOUND, "not found\n")),
                },
            }
        }
    };
    let bytes = if method == Method::HEAD {
        0
    } else {
        hyper::body::Body::size_hint(response.body()).exact().unwrap_or(0) as usize
    };
    state.metrics.request(route, response.status().as_u16(), bytes);
    response
}

/// The address of the client a request is from. That is `peer` (the
/// connection's other end), unless `peer` is in `trusted` (a reverse proxy
/// herald is told to believe): then it is the rightmost address of
/// `X-Forwarded-For` that is not itself trusted (each proxy appends the
/// address it got the request from, so addresses further left are the
/// client's own say). When every address listed is trusted, the leftmost
/// one is the client. Without the header, or when the part read is not a
/// list of addresses, it is `peer`. IPv4-mapped IPv6 addresses are read as
/// IPv4.
///
/// RFC 7239 `Forwarded` is not read: a proxy that sets only one of the two
/// headers passes the other through from the client unchanged, so reading
/// both would let a client choose its own address.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[crate::config::IpNetwork]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|network| network.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    // Several header lines are one comma-separated list, in order.
    let mut lines = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        match value.to_str() {
            Ok(line) => lines.push(line),
            Err(_) => return peer,
        }
    }
    let mut client = peer;
    for entry in lines.iter().rev().flat_map(|line| line.rsplit(',')) {
        match forwarded_address(entry) {
            Some(ip) if is_trusted(ip) => client = ip,
            Some(ip) => return ip,
            None => return peer,
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, perhaps with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`, some proxies add it).
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = entry.parse::<IpAddr>().ok().or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))?;
    Some(ip.to_canonical())
}

fn dynamic(method: &Method, body: Bytes, content_type: &'static str) -> Response<Full<Bytes>> {
    if method != Method::GET && method != Method::HEAD {
        return method_not_allowed("GET, HEAD");
    }
    let mut response = Response::new(Full::new(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

/// 503 for a path that may be an archive document not rendered yet (see
/// [`ServerState::archives_starting`]): retry in a few seconds, cache nothing.
fn not_yet_rendered() -> Response<Full<Bytes>> {
    let mut response =
        plain(StatusCode::SERVICE_UNAVAILABLE, "starting: the feed archives are being rendered; retry shortly\n");
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// 503 for a file kept on disk that cannot be read: retry later, cache
/// nothing.
fn unreadable() -> Response<Full<Bytes>> {
    let mut response = plain(StatusCode::SERVICE_UNAVAILABLE, "this file cannot be read now; retry later\n");
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn method_not_allowed(allow: &'static str) -> Response<Full<Bytes>> {
    let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// The encodings a file can be sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity = 0,
    Gzip = 1,
    Brotli = 2,
}

/// `Vary` of a document that has an HTML view, and of the view when
/// answered in its place: what [`wants_view`] reads, and the encoding.
pub const NEGOTIATED_VARY: HeaderValue = HeaderValue::from_static("Accept, Sec-Fetch-Dest, Accept-Encoding");

/// Sends `file`, or 304 when the client's copy is current, with `vary`
/// instead of the file's own `Vary` when given.
fn respond_file(file: &ServedFile, request: &HeaderMap, vary: Option<HeaderValue>) -> Response<Full<Bytes>> {
    let compressed = file.compressed.get();
    let encoding = negotiate(compressed.is_some(), request.get(header::ACCEPT_ENCODING));
    let etag = &file.etags[encoding as usize];
    let not_modified = is_not_modified(file, etag, request);
    let body = if not_modified {
        Bytes::new()
    } else {
        let representation = match encoding {
            Encoding::Identity => Representation::Identity,
            Encoding::Gzip => Representation::Gzip,
            Encoding::Brotli => Representation::Brotli,
        };
        match file.body(representation) {
            Ok(body) => body,
            Err(e) => {
                // A cached file gone or truncated behind herald's back: never
                // served; the next update of its month writes it again.
                tracing::error!("cannot read the file kept on disk for {}: {e}", file.resource.etag);
                return unreadable();
            }
        }
    };
    let mut response = Response::new(Full::new(body));
    if not_modified {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
    }
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag.clone());
    if let Some(last_modified) = &file.last_modified_header {
        headers.insert(header::LAST_MODIFIED, last_modified.clone());
    }
    headers.insert(header::CACHE_CONTROL, file.cache_control.clone());
    if let Some(link) = &file.link {
        headers.insert(header::LINK, link.clone());
    }
    if let Some(vary) = vary.as_ref().or(file.vary.as_ref()) {
        headers.insert(header::VARY, vary.clone());
    }
    if !not_modified {
        headers.insert(header::CONTENT_TYPE, file.content_type.clone());
        match encoding {
            Encoding::Brotli => {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
            }
            Encoding::Gzip => {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            Encoding::Identity => {}
        }
    }
    response
}

/// Whether a request for a feed, archive or sitemap gets its HTML view:
/// a browser's top-level navigation (`Sec-Fetch-Dest: document`, a header
/// only browsers send and scripts cannot set) whose `Accept` prefers
/// `text/html` to every XML and feed type it names. Feed readers send no
/// `Sec-Fetch-Dest`, and accept `*/*` or name the feed types: they always
/// get the document. (README, "Feeds in a browser".)
pub fn wants_view(request: &HeaderMap) -> bool {
    let document = request.get("sec-fetch-dest").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"document"));
    document && prefers_html(request.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or(""))
}

/// Whether `accept` names `text/html` (or XHTML) with a higher quality than
/// any XML, feed or JSON type it names. Wildcards count for neither.
fn prefers_html(accept: &str) -> bool {
    let mut html: f32 = 0.0;
    let mut documents: f32 = 0.0;
    for part in accept.split(',') {
        let mut pieces = part.split(';');
        let media = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .next()
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "text/html" | "application/xhtml+xml" => html = html.max(quality),
            "application/xml"
            | "text/xml"
            | "application/rss+xml"
            | "application/atom+xml"
            | "application/rdf+xml"
            | "application/feed+json"
            | "application/json" => documents = documents.max(quality),
            _ => {}
        }
    }
    html > 0.0 && html > documents
}

/// Whether the client's copy is the representation about to be sent:
/// `If-None-Match` (weak comparison with `etag`) wins over
/// `If-Modified-Since`.
fn is_not_modified(file: &ServedFile, etag: &HeaderValue, request: &HeaderMap) -> bool {
    if let Some(tags) = request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        return tags
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/").as_bytes() == etag.as_bytes());
    }
    let since = request.get(header::IF_MODIFIED_SINCE).and_then(|v| v.to_str().ok()).and_then(files::parse_http_date);
    match (since, file.last_modified) {
        (Some(since), Some(modified)) => modified.as_second() <= since.as_second(),
        _ => false,
    }
}

/// Picks brotli, then gzip, then identity, as `Accept-Encoding` allows:
/// q-values honoured, `q=0` refuses, `*` covers only codings not named.
/// Identity while the file has no `compressed` bodies (yet).
fn negotiate(compressed: bool, accept: Option<&HeaderValue>) -> Encoding {
    let Some(accept) = accept.and_then(|v| v.to_str().ok()) else { return Encoding::Identity };
    let mut brotli: Option<f32> = None;
    let mut gzip: Option<f32> = None;
    let mut any: Option<f32> = None;
    for part in accept.split(',') {
        let mut pieces = part.split(';');
        let coding = pieces.next().unwrap_or("").trim();
        let quality = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .next()
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if coding.eq_ignore_ascii_case("br") {
            brotli = Some(quality);
        } else if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            gzip = Some(quality);
        } else if coding == "*" {
            any = Some(quality);
        }
    }
    let brotli = brotli.or(any).unwrap_or(0.0);
    let gzip = gzip.or(any).unwrap_or(0.0);
    if !compressed {
        Encoding::Identity
    } else if brotli > 0.0 && brotli >= gzip {
        Encoding::Brotli
    } else if gzip > 0.0 {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IpNetwork;

    /// While a deferred start renders the archives, a path not found may be
    /// one of them: 503 with Retry-After, not cached; afterwards, 404.
    #[tokio::test]
    async fn a_path_not_found_while_the_archives_render_is_503() {
        let state = ServerState::new(Arc::default(), None, None, None, None);
        let get = || Request::get("/vi/archive/2026-10.rss.xml").body(Full::new(Bytes::new())).unwrap();
        let localhost = IpAddr::from([127, 0, 0, 1]);
        state.archives_starting.store(true, std::sync::atomic::Ordering::Relaxed);
        let response = handle(get(), localhost, &state).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        state.archives_starting.store(false, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(handle(get(), localhost, &state).await.status(), StatusCode::NOT_FOUND);
    }

    fn navigation(dest: Option<&str>, accept: Option<&str>) -> bool {
        let mut headers = HeaderMap::new();
        if let Some(dest) = dest {
            headers.insert("sec-fetch-dest", HeaderValue::from_str(dest).unwrap());
        }
        if let Some(accept) = accept {
            headers.insert(header::ACCEPT, HeaderValue::from_str(accept).unwrap());
        }
        wants_view(&headers)
    }

    /// Browsers navigating get the view; what feed readers send (their
    /// source, see the README) never does, even from a browser engine.
    #[test]
    fn only_browser_navigations_get_the_html_view() {
        let chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(navigation(Some("document"), Some(chromium)));
        assert!(navigation(Some("Document"), Some(firefox)));
        // A browser's other requests (fetch(), iframes, feed previews).
        assert!(!navigation(Some("empty"), Some(firefox)));
        assert!(!navigation(Some("iframe"), Some(firefox)));
        assert!(!navigation(None, Some(firefox)));
        // Feed readers: feedparser, Liferea, rss-parser, newsboat and curl (*/*),
        // readers that send nothing.
        for accept in [
            "application/atom+xml,application/rdf+xml,application/rss+xml,application/x-netcdf,application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1",
            "application/atom+xml,application/xml;q=0.9,text/xml;q=0.8,*/*;q=0.7",
            "application/rss+xml",
            "*/*",
        ] {
            assert!(!navigation(None, Some(accept)), "{accept}");
            assert!(!navigation(Some("document"), Some(accept)), "{accept}");
        }
        assert!(!navigation(None, None));
        assert!(!navigation(Some("document"), None));
        // A navigation that prefers a feed type, or likes both the same.
        assert!(!navigation(Some("document"), Some("application/rss+xml,text/html;q=0.9")));
        assert!(!navigation(Some("document"), Some("text/html,application/atom+xml")));
        assert!(!navigation(Some("document"), Some("text/html;q=0")));
    }

    fn resolve(peer: &str, forwarded: &[&str], trusted: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        let trusted: Vec<IpNetwork> = trusted.iter().map(|t| IpNetwork::parse(t).unwrap()).collect();
        client_address(peer.parse().unwrap(), &headers, &trusted).to_string()
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        let local = ["127.0.0.1", "::1"];
        // Nobody trusted: the header is the client's own say.
        assert_eq!(resolve("127.0.0.1", &["203.0.113.7"], &[]), "127.0.0.1");
        assert_eq!(resolve("198.51.100.1", &["203.0.113.7"], &local), "198.51.100.1");
        // The proxy appended the address it saw; what the client sent is left of it.
        assert_eq!(resolve("127.0.0.1", &["203.0.113.7"], &local), "203.0.113.7");
        assert_eq!(resolve("127.0.0.1", &["6.6.6.6, 203.0.113.7"], &local), "203.0.113.7");
        assert_eq!(resolve("::1", &["2001:db8::5"], &local), "2001:db8::5");
        // A chain of trusted proxies is walked back.
        assert_eq!(
            resolve("127.0.0.1", &["6.6.6.6, 203.0.113.7, 10.0.0.2"], &["127.0.0.1", "10.0.0.0/8"]),
            "203.0.113.7"
        );
        assert_eq!(
            resolve("127.0.0.1", &["6.6.6.6", "203.0.113.7, 10.0.0.2"], &["127.0.0.1", "10.0.0.0/8"]),
            "203.0.113.7"
        );
        // Every address trusted: the leftmost.
        assert_eq!(resolve("127.0.0.1", &["10.0.0.3, 10.0.0.2"], &["127.0.0.1", "10.0.0.0/8"]), "10.0.0.3");
        // Ports, brackets and mapped addresses.
        assert_eq!(resolve("127.0.0.1", &["203.0.113.7:4711"], &local), "203.0.113.7");
        assert_eq!(resolve("127.0.0.1", &["[2001:db8::5]:4711"], &local), "2001:db8::5");
        assert_eq!(resolve("::ffff:127.0.0.1", &["::ffff:203.0.113.7"], &local), "203.0.113.7");
        assert_eq!(resolve("::ffff:198.51.100.1", &[], &[]), "198.51.100.1");
        // No header, or a malformed one: the peer.
        assert_eq!(resolve("127.0.0.1", &[], &local), "127.0.0.1");
        assert_eq!(resolve("127.0.0.1", &["unknown"], &local), "127.0.0.1");
        assert_eq!(resolve("127.0.0.1", &["203.0.113.7, "], &local), "127.0.0.1");
        assert_eq!(resolve("127.0.0.1", &[""], &local), "127.0.0.1");
        // Garbage left of the client's address is the client's business.
        assert_eq!(resolve("127.0.0.1", &["nonsense, 203.0.113.7"], &local), "203.0.113.7");
    }
}
