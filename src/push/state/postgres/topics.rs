//! WebSub topics in PostgreSQL: each feed version is announced once
//! across replicas. A version is recorded in `topic_versions` (unique per
//! topic and version) with `ON CONFLICT DO NOTHING`: only the replica
//! whose insert took queues the deliveries, in the same transaction; a
//! replica that is a step behind, whose version was announced already,
//! queues nothing.

use deadpool_postgres::Client;
use jiff::Timestamp;
use tokio_postgres::Error;

use super::outbox::REVIVE;
use super::{ANNOUNCE_LOCK, host_of, seconds};

/// Records `changes` (topic URL, version) and queues a delivery to each
/// active subscriber of each topic whose version was never announced,
/// plus a ping to each of `external_hubs`. A topic seen for the first time
/// only gets its version recorded. Returns how many jobs were queued.
pub(super) async fn announce(
    client: &mut Client,
    changes: &[(String, String)],
    external_hubs: &[String],
    now: Timestamp,
) -> Result<usize, Error> {
    let tx = client.transaction().await?;
    tx.execute(ANNOUNCE_LOCK, &[]).await?;
    let seen = tx
        .prepare_cached(
            "INSERT INTO topic_versions (topic, version, seen_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .await?;
    let previous = tx.prepare_cached("SELECT version FROM topics WHERE topic = $1").await?;
    let record = tx
        .prepare_cached(
            "INSERT INTO topics (topic, version, changed_at) VALUES ($1, $2, $3)
             ON CONFLICT (topic) DO UPDATE SET version = excluded.version, changed_at = excluded.changed_at",
        )
        .await?;
    let deliver = tx
        .prepare_cached(&format!(
            "INSERT INTO outbox (kind, target, host, topic, subscription_id, coalesce_key, next_attempt_at, created_at)
             SELECT 'websub.deliver', callback, host, topic, id, 'deliver:' || id, $2, $2
             FROM subscriptions WHERE topic = $1 AND expires_at > $2
             ON CONFLICT (coalesce_key) DO UPDATE SET generation = outbox.generation + 1, {REVIVE}"
        ))
        .await?;
    let ping = tx
        .prepare_cached(&format!(
            "INSERT INTO outbox (kind, target, host, topic, coalesce_key, next_attempt_at, created_at)
             VALUES ('websub.ping', $1, $2, $3, 'ping:' || $1 || ' ' || $3, $4, $4)
             ON CONFLICT (coalesce_key) DO UPDATE SET generation = outbox.generation + 1, {REVIVE}"
        ))
        .await?;
    let mut queued = 0;
    for (topic, version) in changes {
        if tx.execute(&seen, &[topic, version, &seconds(now)]).await? == 0 {
            // Announced before, by this replica or another.
            continue;
        }
        let before: Option<String> = tx.query_opt(&previous, &[topic]).await?.map(|r| r.get(0));
        tx.execute(&record, &[topic, version, &seconds(now)]).await?;
        if before.is_none() {
            // First sight of this topic: a baseline, no news.
            continue;
        }
        queued += tx.execute(&deliver, &[topic, &seconds(now)]).await? as usize;
        for hub in external_hubs {
            queued += tx.execute(&ping, &[hub, &host_of(hub), topic, &seconds(now)]).await? as usize;
        }
    }
    tx.commit().await?;
    Ok(queued)
}
