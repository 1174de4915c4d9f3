//! Following the `articles` table: NOTIFY says *when* to look, a watermark
//! of transaction ids says *what* to look at, so that no change is missed.
//!
//! Every write to a row sets its `change_seq` (a sequence) and its
//! `change_xid` (the writing transaction's id, `pg_current_xact_id()`), and
//! every statement that writes notifies channel [`CHANNEL`] (triggers from
//! the migration). A replica LISTENs on a connection of its own, outside
//! the pool, whose messages it reads itself (the driver hands
//! notifications only to whoever polls the connection), and on each
//! notification it looks again:
//!
//! - It reads, in one repeatable-read snapshot, the snapshot's `xmin` (no
//!   transaction with a smaller id is still running) and the rows whose
//!   `change_xid` is at least the previous look's `xmin`: the watermark.
//! - A transaction that took its sequence number early but commits late
//!   has an id at least the watermark of every look made while it ran, so
//!   the first look after its commit sees its rows. Sequence numbers alone
//!   would not do: a look that saw sequence 6 committed would skip 5,
//!   committed later.
//! - The rows seen at or above the new watermark are remembered with their
//!   `change_seq`, so that a row is reported again only once it changed
//!   again.
//!
//! When the connection drops the follower reconnects (backing off up to
//! [`MAX_BACKOFF`]) and looks once from its watermark, which catches up on
//! whatever happened meanwhile. It also looks every [`SAFETY_LOOK`] without
//! being told. A replica that restarts reads the whole table, taking the
//! watermark just before ([`current_watermark`]). Its state
//! ([`FollowStatus`]) says whether it is connected and caught up; `herald
//! serve` shows [`FollowStatus::problem`] in `/healthz` until it is.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_postgres::{AsyncMessage, Client, IsolationLevel};

use super::row::row_path;
use crate::config::DatabaseSettings;
use crate::db::Database;

/// The channel the migration's trigger notifies; the payload is the schema
/// of the table written, so replicas of another schema look only at theirs.
pub const CHANNEL: &str = "herald_articles";

/// How often the follower looks without being notified (a safety net; the
/// notifications are what makes changes prompt).
pub const SAFETY_LOOK: Duration = Duration::from_secs(30);

/// The longest wait between two attempts to reconnect.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A transaction id (`xid8`) below which every change has been seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Watermark(pub u64);

/// The watermark now: the `xmin` of a new snapshot. Every transaction not
/// committed yet has an id at least this.
pub async fn current_watermark(client: &Client) -> Result<Watermark, tokio_postgres::Error> {
    let row = client.query_one("SELECT pg_snapshot_xmin(pg_current_snapshot())::text", &[]).await?;
    Ok(Watermark(parse_xid(&row.get::<_, String>(0))))
}

fn parse_xid(text: &str) -> u64 {
    text.trim().parse().unwrap_or(0)
}

/// One row a look found at or above the watermark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedRow {
    /// The row's key.
    pub key: String,
    /// Its `change_seq`.
    pub seq: i64,
    /// Its `change_xid`.
    pub xid: u64,
}

/// What the follower remembers between two looks: the watermark and the
/// rows seen at or above it (with the version seen).
#[derive(Debug, Clone)]
pub struct ChangeTracker {
    watermark: Watermark,
    seen: HashMap<String, i64>,
}

impl ChangeTracker {
    /// A tracker that has seen everything below `from`.
    pub fn new(from: Watermark) -> ChangeTracker {
        ChangeTracker { watermark: from, seen: HashMap::new() }
    }

    /// The watermark: the next look reads rows from here.
    pub fn watermark(&self) -> Watermark {
        self.watermark
    }

    /// Takes one look's result (`rows` at or above the watermark, read in
    /// the snapshot whose `xmin` is `xmin`); returns the keys of rows not
    /// seen in this version before, sorted.
    pub fn absorb(&mut self, xmin: Watermark, rows: Vec<ChangedRow>) -> Vec<String> {
        let mut changed = Vec::new();
        let mut seen = HashMap::new();
        for row in rows {
            if self.seen.get(&row.key) != Some(&row.seq) {
                changed.push(row.key.clone());
            }
            // Below the new watermark a row is settled: no later look
            // reads it again unless it changes.
            if row.xid >= xmin.0 {
                seen.insert(row.key, row.seq);
            }
        }
        self.seen = seen;
        self.watermark = self.watermark.max(xmin);
        changed.sort();
        changed.dedup();
        changed
    }

    /// Looks at the table once through `client` and absorbs the result.
    pub async fn look(&mut self, client: &mut Client) -> Result<Vec<String>, tokio_postgres::Error> {
        let transaction =
            client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start().await?;
        let xmin = transaction.query_one("SELECT pg_snapshot_xmin(pg_current_snapshot())::text", &[]).await?;
        let xmin = Watermark(parse_xid(&xmin.get::<_, String>(0)));
        let rows = transaction
            .query(
                "SELECT key, change_seq, change_xid::text FROM articles WHERE change_xid >= $1::text::xid8",
                &[&self.watermark.0.to_string()],
            )
            .await?;
        transaction.commit().await?;
        let rows = rows
            .iter()
            .map(|row| ChangedRow { key: row.get(0), seq: row.get(1), xid: parse_xid(&row.get::<_, String>(2)) })
            .collect();
        Ok(self.absorb(xmin, rows))
    }
}

/// A connection made for listening (outside the pool): its client, and
/// the messages its connection received (the channel closes when the
/// connection ends). Whoever drives the connection must poll it for its
/// messages ([`tokio_postgres::Connection::poll_message`]): awaiting it as
/// a plain future drops the notifications; [`Database::dedicated`] does.
pub struct Listener {
    /// The connection's client.
    pub client: Client,
    /// The connection's messages (notifications among them), in order.
    pub messages: mpsc::UnboundedReceiver<AsyncMessage>,
}

/// Makes listening connections to `database` with `settings`: the
/// follower's way to reconnect.
pub fn connector(database: Arc<Database>, settings: DatabaseSettings) -> Connect {
    Arc::new(move || {
        let (database, settings) = (Arc::clone(&database), settings.clone());
        Box::pin(async move {
            let (tx, messages) = mpsc::unbounded_channel();
            let client = database.dedicated(&settings, tx).await.map_err(|e| e.to_string())?;
            Ok(Listener { client, messages })
        })
    })
}

/// Makes a new listening connection (outside the pool); the error says why
/// not, without the password.
pub type Connect = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Listener, String>> + Send>> + Send + Sync>;

/// The follower's state, for health reports and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowStatus {
    /// Whether the listening connection is up.
    pub connected: bool,
    /// Whether the look made on connecting (which reads what changed
    /// since the watermark: while the connection was down, or since the
    /// start) is done and its changes handed on. Until then the replica
    /// may serve rows older than the table's.
    pub caught_up: bool,
    /// How many times it was made.
    pub connections: u64,
    /// How many looks were made.
    pub looks: u64,
    /// The server process of the listening connection, while connected.
    pub backend_pid: Option<i32>,
    /// Why the last connection ended or the last attempt failed (no
    /// password in it), while not connected.
    pub error: Option<String>,
}

impl FollowStatus {
    /// What keeps the replica from following the table now, one sentence
    /// for `/healthz`; `None` once connected and caught up.
    pub fn problem(&self) -> Option<String> {
        let why = self.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default();
        match (self.connected, self.caught_up) {
            (true, true) => None,
            (true, false) if self.connections > 1 => {
                Some("catching up on the article changes made in the database while its connection was lost".into())
            }
            (true, false) => Some("reading the article changes made in the database since the start".into()),
            (false, _) if self.connections > 0 => Some(format!(
                "lost the database connection that follows article changes{why}: new and changed articles are not \
                 published until it is back; reconnecting"
            )),
            (false, _) if self.error.is_some() => Some(format!(
                "cannot connect to the database to follow article changes{why}: new and changed articles are not \
                 published until it can; retrying"
            )),
            (false, _) => Some("not following article changes in the database yet: connecting".into()),
        }
    }
}

/// Follows the `articles` table, sending the places (`articles:KEY`) of the
/// rows that changed.
pub struct Follower {
    connect: Connect,
    tracker: ChangeTracker,
    changes: mpsc::UnboundedSender<Vec<PathBuf>>,
    status: watch::Sender<FollowStatus>,
}

impl Follower {
    /// A follower that has seen every change below `from`, sending what
    /// changes to `changes`.
    pub fn new(connect: Connect, from: Watermark, changes: mpsc::UnboundedSender<Vec<PathBuf>>) -> Follower {
        Follower {
            connect,
            tracker: ChangeTracker::new(from),
            changes,
            status: watch::channel(FollowStatus::default()).0,
        }
    }

    /// A receiver of the follower's state.
    pub fn status(&self) -> watch::Receiver<FollowStatus> {
        self.status.subscribe()
    }

    /// Follows until `shutdown` says stop or nobody takes the changes.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = Duration::from_millis(100);
        let mut failing = false;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let listener = tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return,
                made = (self.connect)() => made,
            };
            let outcome = match listener {
                Ok(listener) => {
                    backoff = Duration::from_millis(100);
                    if failing {
                        tracing::info!("following article changes in the database again");
                        failing = false;
                    }
                    self.listen(listener, &mut shutdown).await
                }
                Err(e) => Err(e),
            };
            self.status.send_modify(|s| {
                s.connected = false;
                s.caught_up = false;
                s.backend_pid = None;
                s.error = outcome.as_ref().err().cloned();
            });
            match outcome {
                Ok(Stop::Shutdown) => return,
                Ok(Stop::NobodyListens) => return,
                Err(e) => {
                    if !failing {
                        tracing::warn!(
                            "lost the database connection that follows article changes ({e}); reconnecting, then catching up"
                        );
                        failing = true;
                    }
                }
            }
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Listens on one connection until it ends (an error) or the follower
    /// stops.
    async fn listen(&mut self, listener: Listener, shutdown: &mut watch::Receiver<bool>) -> Result<Stop, String> {
        let Listener { mut client, messages: mut notifications } = listener;
        let failed = |e: tokio_postgres::Error| e.to_string();
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await.map_err(failed)?;
        let session = client.query_one("SELECT current_schema(), pg_backend_pid()", &[]).await.map_err(failed)?;
        let schema: String = session.get(0);
        let pid: i32 = session.get(1);
        self.status.send_modify(|s| {
            s.connected = true;
            s.caught_up = false;
            s.connections += 1;
            s.backend_pid = Some(pid);
            s.error = None;
        });
        let ours = |message: &AsyncMessage| matches!(message, AsyncMessage::Notification(n) if n.payload() == schema);
        // Whatever happened before LISTEN took effect (while disconnected,
        // or since the watermark was taken) is read now.
        if !self.look(&mut client).await.map_err(failed)? {
            return Ok(Stop::NobodyListens);
        }
        self.status.send_modify(|s| s.caught_up = true);
        loop {
            let mut told = tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return Ok(Stop::Shutdown),
                message = notifications.recv() => match message {
                    Some(message) => ours(&message),
                    None => return Err("the connection ended".into()),
                },
                () = tokio::time::sleep(SAFETY_LOOK) => true,
            };
            // A burst of notifications is one look.
            while let Ok(message) = notifications.try_recv() {
                told |= ours(&message);
            }
            if told && !self.look(&mut client).await.map_err(failed)? {
                return Ok(Stop::NobodyListens);
            }
        }
    }

    /// Looks once and sends what changed; `false` when nobody takes it.
    async fn look(&mut self, client: &mut Client) -> Result<bool, tokio_postgres::Error> {
        let changed = self.tracker.look(client).await?;
        self.status.send_modify(|s| s.looks += 1);
        if changed.is_empty() {
            return Ok(true);
        }
        tracing::debug!("{} article row(s) changed in the database", changed.len());
        Ok(self.changes.send(changed.iter().map(|key| row_path(key)).collect()).is_ok())
    }
}

/// Why listening stopped without an error.
enum Stop {
    Shutdown,
    NobodyListens,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_connected_caught_up_follower_has_no_problem() {
        let following = FollowStatus { connected: true, caught_up: true, connections: 2, ..FollowStatus::default() };
        assert_eq!(following.problem(), None);
        let catching_up = FollowStatus { caught_up: false, ..following.clone() };
        assert!(catching_up.problem().unwrap().contains("catching up"), "{catching_up:?}");
        let lost = FollowStatus {
            connected: false,
            caught_up: false,
            error: Some("connection closed".into()),
            ..following.clone()
        };
        let problem = lost.problem().unwrap();
        assert!(problem.contains("lost the database connection") && problem.contains("connection closed"), "{problem}");
        let never = FollowStatus { error: Some("refused".into()), ..FollowStatus::default() };
        assert!(never.problem().unwrap().contains("cannot connect"), "{never:?}");
        assert!(FollowStatus::default().problem().unwrap().contains("connecting"));
    }

    fn row(key: &str, seq: i64, xid: u64) -> ChangedRow {
        ChangedRow { key: key.into(), seq, xid }
    }

    #[test]
    fn a_late_commit_below_a_seen_sequence_is_still_reported() {
        // T1 (xid 100) took seq 5, T2 (xid 101) seq 6; T2 commits first.
        let mut tracker = ChangeTracker::new(Watermark(90));
        // While T1 runs, the snapshot's xmin is 100: B is seen, the
        // watermark stays at 100.
        assert_eq!(tracker.absorb(Watermark(100), vec![row("b", 6, 101)]), ["b"]);
        assert_eq!(tracker.watermark(), Watermark(100));
        // T1 commits: A (seq 5 < 6) is read from the watermark; B is not
        // reported again.
        assert_eq!(tracker.absorb(Watermark(102), vec![row("a", 5, 100), row("b", 6, 101)]), ["a"]);
        assert_eq!(tracker.watermark(), Watermark(102));
        // Settled rows are forgotten; a new version is reported.
        assert!(tracker.absorb(Watermark(102), vec![]).is_empty());
        assert_eq!(tracker.absorb(Watermark(110), vec![row("a", 9, 105)]), ["a"]);
    }
}
