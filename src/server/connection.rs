//! What keeps one HTTP connection from holding its place for ever: a
//! client that sends nothing, one that stops reading, one that stays idle.
//!
//! - A new connection must deliver its first request head within the
//!   request timeout, or it is dropped. hyper's own header timer starts only
//!   once HTTP/1 or HTTP/2 has been told apart, and telling them apart waits
//!   for the client's first bytes with no limit: the clock here starts at
//!   accept.
//! - A connection with no request in progress and none started for the
//!   request timeout is shut down gracefully (HTTP/1 keep-alive, and
//!   HTTP/2, whose clients answer the server's pings for ever).
//! - Writing that makes no progress for the write timeout fails the
//!   connection ([`TimedIo`]: a client that stopped reading fills the
//!   socket buffers). A connection being shut down (idle, or the server
//!   stopping) that writes nothing for the write timeout is dropped: an
//!   HTTP/2 client that shuts its flow-control window leaves the server
//!   nothing it may write, so no write ever stalls.
//!
//! [`Activity`] is what the three parts share: requests started and in
//! progress, when the last one ended, when the last bytes were written.

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

/// What one connection has been doing, shared by its requests, its socket
/// and its supervisor. Times are milliseconds since the connection was
/// accepted.
#[derive(Debug)]
pub struct Activity {
    accepted: Instant,
    requests: AtomicU64,
    in_flight: AtomicUsize,
    last_request_end: AtomicU64,
    last_write: AtomicU64,
}

impl Activity {
    /// A connection accepted now.
    pub fn new() -> Activity {
        Activity {
            accepted: Instant::now(),
            requests: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            last_request_end: AtomicU64::new(0),
            last_write: AtomicU64::new(0),
        }
    }

    /// Counts a request as started; the guard counts it as ended when
    /// dropped (answered, or abandoned with its connection).
    pub fn begin_request(self: &Arc<Self>) -> RequestGuard {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        RequestGuard { activity: Arc::clone(self) }
    }

    fn since_accepted(&self) -> u64 {
        u64::try_from(self.accepted.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn at(&self, millis: u64) -> Instant {
        self.accepted + Duration::from_millis(millis)
    }

    fn wrote(&self) {
        self.last_write.store(self.since_accepted(), Ordering::Relaxed);
    }
}

impl Default for Activity {
    fn default() -> Activity {
        Activity::new()
    }
}

/// A request in progress (see [`Activity::begin_request`]).
#[derive(Debug)]
pub struct RequestGuard {
    activity: Arc<Activity>,
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.activity.last_request_end.store(self.activity.since_accepted(), Ordering::Relaxed);
        self.activity.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A socket whose writes fail once they have made no progress for
/// `timeout` (the client stopped reading), and which records when bytes
/// were last written in its connection's [`Activity`].
#[derive(Debug)]
pub struct TimedIo<S> {
    inner: S,
    activity: Arc<Activity>,
    timeout: Duration,
    /// Fires `timeout` after the current stall began, while `stalled`.
    stall: Pin<Box<Sleep>>,
    stalled: bool,
}

impl<S> TimedIo<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, activity: Arc<Activity>, timeout: Duration) -> TimedIo<S> {
        TimedIo { inner, activity, timeout, stall: Box::pin(tokio::time::sleep(timeout)), stalled: false }
    }

    /// Passes on what the socket did with a write, a flush or a shutdown;
    /// a `Pending` answer starts (or continues) a stall, which becomes an
    /// error once it lasts `timeout`.
    fn watch<T>(&mut self, cx: &mut Context<'_>, result: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match result {
            Poll::Ready(result) => {
                self.stalled = false;
                if result.is_ok() {
                    self.activity.wrote();
                }
                Poll::Ready(result)
            }
            Poll::Pending => {
                if !self.stalled {
                    self.stalled = true;
                    self.stall.as_mut().reset(Instant::now() + self.timeout);
                }
                match self.stall.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("the client read nothing for {:?}", self.timeout),
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for TimedIo<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for TimedIo<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.watch(cx, result)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.watch(cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_flush(cx);
        this.watch(cx, result)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.watch(cx, result)
    }
}

/// The timeouts [`supervise`] applies.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// For the first request head, and for idleness.
    pub request: Duration,
    /// For writing nothing while shutting down.
    pub write: Duration,
}

/// Drives `connection` to its end, unless it must be cut short (see the
/// module's documentation): `graceful` starts its graceful shutdown, which
/// also happens when `stopping` turns true (or its sender goes).
pub async fn supervise<F: Future>(
    connection: F,
    graceful: impl Fn(Pin<&mut F>),
    activity: &Activity,
    timeouts: Timeouts,
    mut stopping: watch::Receiver<bool>,
) {
    let mut connection = pin!(connection);
    // When the graceful shutdown began.
    let mut closing: Option<Instant> = None;
    let mut stop_heard = *stopping.borrow_and_update();
    if stop_heard {
        graceful(connection.as_mut());
        closing = Some(Instant::now());
    }
    loop {
        let check = next_check(activity, timeouts, closing);
        tokio::select! {
            _ = connection.as_mut() => return,
            changed = stopping.changed(), if !stop_heard => {
                stop_heard = changed.is_err() || *stopping.borrow();
                if stop_heard && closing.is_none() {
                    graceful(connection.as_mut());
                    closing = Some(Instant::now());
                }
            }
            () = tokio::time::sleep_until(check) => {
                let now = Instant::now();
                let in_flight = activity.in_flight.load(Ordering::Relaxed);
                match closing {
                    Some(since) => {
                        let last_write = activity.at(activity.last_write.load(Ordering::Relaxed)).max(since);
                        if in_flight == 0 && now >= last_write + timeouts.write {
                            tracing::debug!("a connection being shut down wrote nothing for {:?}; dropped", timeouts.write);
                            return;
                        }
                    }
                    None if activity.requests.load(Ordering::Relaxed) == 0 => {
                        tracing::debug!("a connection sent no request within {:?}; dropped", timeouts.request);
                        return;
                    }
                    None => {
                        let ended = activity.at(activity.last_request_end.load(Ordering::Relaxed));
                        if in_flight == 0 && now >= ended + timeouts.request {
                            graceful(connection.as_mut());
                            closing = Some(now);
                        }
                    }
                }
            }
        }
    }
}

/// When [`supervise`] next looks at the connection.
fn next_check(activity: &Activity, timeouts: Timeouts, closing: Option<Instant>) -> Instant {
    let now = Instant::now();
    let busy = activity.in_flight.load(Ordering::Relaxed) > 0;
    match closing {
        Some(since) => {
            let last_write = activity.at(activity.last_write.load(Ordering::Relaxed)).max(since);
            if busy { now + timeouts.write } else { (last_write + timeouts.write).max(now) }
        }
        None if activity.requests.load(Ordering::Relaxed) == 0 => activity.accepted + timeouts.request,
        None if busy => now + timeouts.request,
        None => (activity.at(activity.last_request_end.load(Ordering::Relaxed)) + timeouts.request).max(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt as _;

    /// A write the other end never reads fails after the timeout; the
    /// bytes written before count as progress.
    #[tokio::test]
    async fn a_write_nobody_reads_fails_after_the_timeout() {
        let (near, _far) = tokio::io::duplex(1024);
        let activity = Arc::new(Activity::new());
        let mut io = TimedIo::new(near, Arc::clone(&activity), Duration::from_millis(200));
        let outcome = tokio::time::timeout(Duration::from_secs(20), io.write_all(&[0u8; 4096])).await;
        let error = outcome.expect("the write gave up").expect_err("nobody reads");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    }
}
