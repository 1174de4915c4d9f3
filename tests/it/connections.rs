//! The HTTP server's connection limits: a connection that sends nothing
//! (not even enough to tell HTTP/1 from HTTP/2), one left idle, and one
//! whose client never reads what it asked for are all closed in bounded
//! time, so they cannot keep other clients out once `max_connections` is
//! reached. Each test runs `server::serve` on a loopback port with small
//! limits (one to a few connections, timeouts of a second) and stops it at
//! the end; "closed" is shown by the next client being answered at all,
//! since it can only be let in when a connection ends.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use herald::server::{self, Limits, ServedFiles, ServerState};
use herald::snapshot::{Resource, ResourceKind, Snapshot};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Longest wait for anything the server should do.
const PATIENCE: Duration = Duration::from_secs(20);

/// A response far larger than the socket buffers on both sides.
const BIG: usize = 32 << 20;

struct Server {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Serves `/big.xml` (BIG bytes) and `/healthz` with `limits`.
    async fn start(limits: Limits) -> Server {
        let config = TempStore::new().config();
        let mut snapshot = Snapshot::new();
        let body = vec![b'x'; BIG];
        snapshot.insert("/big.xml".to_string(), Resource::new(ResourceKind::Other, body, "application/xml", None));
        let state = Arc::new(ServerState::new(Arc::default(), None, None, None, None));
        state.files.store(Arc::new(ServedFiles::prepare(&snapshot, None, &config, now(), None)));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(listener, state, limits, async {
            let _ = stopped.await;
        }));
        Server { addr, stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        within("the server to stop", self.task).await.unwrap();
    }
}

fn limits(request_timeout_ms: u64, write_timeout_ms: u64, max_connections: usize) -> Limits {
    Limits {
        request_timeout: Duration::from_millis(request_timeout_ms),
        write_timeout: Duration::from_millis(write_timeout_ms),
        max_header_bytes: 16 * 1024,
        max_connections,
    }
}

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future).await.unwrap_or_else(|_| panic!("{what}: not within {PATIENCE:?}"))
}

/// GET `path` over a new HTTP/1.1 connection; the whole answer.
async fn get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// Whether the server closed `stream` (end of stream or reset), waiting
/// for it at most PATIENCE.
async fn closed(stream: &mut TcpStream) -> bool {
    let mut buffer = [0u8; 256];
    matches!(tokio::time::timeout(PATIENCE, stream.read(&mut buffer)).await, Ok(Ok(0) | Err(_)))
}

/// More connections than allowed, sending nothing (one sends half of the
/// HTTP/2 preface, so the protocol is never settled): each is closed, and
/// a normal client gets its answer.
#[tokio::test]
async fn connections_that_send_nothing_are_closed_and_keep_no_one_out() {
    let server = Server::start(limits(500, 30_000, 3)).await;
    let mut silent = Vec::new();
    for _ in 0..5 {
        silent.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let mut half_preface = TcpStream::connect(server.addr).await.unwrap();
    half_preface.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    silent.push(half_preface);
    let answer = within("a normal client's answer", get(server.addr, "/healthz")).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    for (i, stream) in silent.iter_mut().enumerate() {
        assert!(closed(stream).await, "silent connection {i} is still open");
    }
    server.stop().await;
}

/// A client that asks for a large file and never reads it: the server
/// abandons the response once writing makes no progress, and the only
/// connection allowed is free for the next client. The first client
/// receives less than was sent its way.
#[tokio::test]
async fn a_client_that_never_reads_is_disconnected() {
    // Idle and request timeouts far longer than the test: only the write
    // timeout can free the connection.
    let server = Server::start(limits(60_000, 500, 1)).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut reader = socket.connect(server.addr).await.unwrap();
    reader.write_all(b"GET /big.xml HTTP/1.1\r\nHost: test\r\n\r\n").await.unwrap();
    let answer = within("the next client's answer", get(server.addr, "/healthz")).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let mut received = Vec::new();
    let _ = within("the first client's connection to end", reader.read_to_end(&mut received)).await;
    assert!(received.len() < BIG, "the whole response arrived: {} bytes", received.len());
    server.stop().await;
}

/// An HTTP/2 client keeps its connection after a request (answering the
/// server's pings): once idle for the request timeout, it is closed.
#[tokio::test]
async fn an_idle_http2_connection_is_closed() {
    let server = Server::start(limits(500, 30_000, 1)).await;
    let client = h2_client();
    let response = client.get(format!("http://{}/healthz", server.addr)).send().await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap();
    let answer = within("the next client's answer", get(server.addr, "/healthz")).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(client);
    server.stop().await;
}

/// An HTTP/2 client that asks for a large file and never reads it (its
/// flow-control window stays shut, so the server has nothing it may
/// write): the connection is closed all the same.
#[tokio::test]
async fn an_http2_client_that_never_reads_is_disconnected() {
    let server = Server::start(limits(500, 500, 1)).await;
    let client = h2_client();
    let response = client.get(format!("http://{}/big.xml", server.addr)).send().await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    let answer = within("the next client's answer", get(server.addr, "/healthz")).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The body the client never read is cut short.
    let body = within("the unread body to end", response.bytes()).await;
    assert!(body.map_or(true, |b| b.len() < BIG), "the whole body arrived");
    drop(client);
    server.stop().await;
}

/// A client speaking HTTP/2 without TLS that keeps its connections.
fn h2_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().http2_prior_knowledge().pool_idle_timeout(None).build().unwrap()
}

/// The write timeout is `[server] write_timeout_seconds`.
#[test]
fn the_write_timeout_is_configurable() {
    let mut store = TempStore::new();
    assert_eq!(store.config().server.write_timeout, Duration::from_secs(30));
    store.extra_config = "[server]\nwrite_timeout_seconds = 7\n".to_string();
    assert_eq!(store.config().server.write_timeout, Duration::from_secs(7));
}
