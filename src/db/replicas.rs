//! Heartbeats: each replica upserts its row in `replicas` every few
//! seconds, so `herald db status` can say which replicas are alive. Rows
//! not seen for a day are deleted.

use std::sync::Arc;
use std::time::Duration;

use super::{Database, Result};

/// How often a replica says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// A replica seen in the last [`RECENT_SECONDS`] counts as running.
pub const RECENT_SECONDS: i64 = 60;

/// Who this process is, as the `replicas` table and the outbox's claims
/// name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaId {
    /// `hostname:pid:start` — unique per process, readable in a claim.
    pub id: String,
    /// The machine's name.
    pub hostname: String,
    /// The process id.
    pub pid: u32,
}

impl ReplicaId {
    /// This process.
    pub fn this_process() -> ReplicaId {
        let hostname = rustix::system::uname().nodename().to_string_lossy().into_owned();
        let pid = std::process::id();
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() % 1_000_000_000);
        // A counter keeps two stores of one process (tests) apart.
        static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ReplicaId { id: format!("{hostname}:{pid}:{start}.{n}"), hostname, pid }
    }
}

/// Records that replica `id`, listening on `listen`, is alive now.
pub async fn beat(database: &Database, id: &ReplicaId, listen: &str) -> Result<()> {
    let client = database.client().await?;
    client
        .execute(
            "INSERT INTO replicas (id, hostname, pid, version, listen) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET seen_at = now(), listen = excluded.listen",
            &[&id.id, &id.hostname, &(id.pid as i32), &env!("CARGO_PKG_VERSION"), &listen],
        )
        .await
        .map_err(|e| database.error(e))?;
    client
        .execute("DELETE FROM replicas WHERE seen_at < now() - interval '1 day'", &[])
        .await
        .map_err(|e| database.error(e))?;
    Ok(())
}

/// Removes replica `id`'s row (a clean stop).
pub async fn leave(database: &Database, id: &ReplicaId) -> Result<()> {
    let client = database.client().await?;
    client.execute("DELETE FROM replicas WHERE id = $1", &[&id.id]).await.map_err(|e| database.error(e))?;
    Ok(())
}

/// Beats every [`HEARTBEAT`] until the returned task is aborted (failures
/// are logged, and the next beat tries again).
pub fn spawn_heartbeat(database: Arc<Database>, id: ReplicaId, listen: String) -> tokio::task::JoinHandle<()> {
    let handle = database.handle();
    handle.spawn(async move {
        let mut ticks = tokio::time::interval(HEARTBEAT);
        let mut failing = false;
        loop {
            ticks.tick().await;
            match beat(&database, &id, &listen).await {
                Ok(()) if failing => {
                    tracing::info!("database heartbeat works again");
                    failing = false;
                }
                Ok(()) => {}
                Err(e) if !failing => {
                    tracing::warn!("database heartbeat failed: {e}");
                    failing = true;
                }
                Err(_) => {}
            }
        }
    })
}
