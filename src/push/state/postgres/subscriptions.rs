//! WebSub subscriptions in PostgreSQL: verified through any replica,
//! served by all (every replica reads the same rows).

use deadpool_postgres::Client;
use jiff::Timestamp;
use tokio_postgres::{Error, Row};

use super::{host_of, instant, seconds};
use crate::push::state::Subscription;

pub(super) const SUBSCRIPTION_COLUMNS: &str = "id, topic, callback, secret, lease_seconds, expires_at, created_at";

fn row_to_subscription(row: &Row) -> Subscription {
    subscription_at(row, 0)
}

/// The subscription in `row`'s columns from `first` on, in the order of
/// [`SUBSCRIPTION_COLUMNS`] (the claim reads them after the job's).
pub(super) fn subscription_at(row: &Row, first: usize) -> Subscription {
    Subscription {
        id: row.get(first),
        topic: row.get(first + 1),
        callback: row.get(first + 2),
        secret: row.get(first + 3),
        lease_seconds: row.get::<_, i64>(first + 4).max(0) as u64,
        expires_at: instant(row.get(first + 5)),
        created_at: instant(row.get(first + 6)),
    }
}

/// Adds or renews the subscription of `callback` to `topic`.
pub(super) async fn subscribe(
    client: &mut Client,
    topic: &str,
    callback: &str,
    secret: Option<&[u8]>,
    lease_seconds: u64,
    now: Timestamp,
) -> Result<(), Error> {
    let expires = seconds(now).saturating_add(lease_seconds as i64);
    client
        .execute(
            "INSERT INTO subscriptions (topic, callback, host, secret, lease_seconds, expires_at, created_at, renewed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
             ON CONFLICT (topic, callback) DO UPDATE SET secret = excluded.secret,
                 lease_seconds = excluded.lease_seconds, expires_at = excluded.expires_at,
                 renewed_at = excluded.renewed_at",
            &[&topic, &callback, &host_of(callback), &secret, &(lease_seconds as i64), &expires, &seconds(now)],
        )
        .await?;
    Ok(())
}

/// Ends the subscription of `callback` to `topic`; whether there was one.
pub(super) async fn unsubscribe(client: &mut Client, topic: &str, callback: &str) -> Result<bool, Error> {
    let tx = client.transaction().await?;
    let id: Option<i64> = tx
        .query_opt("SELECT id FROM subscriptions WHERE topic = $1 AND callback = $2", &[&topic, &callback])
        .await?
        .map(|r| r.get(0));
    if let Some(id) = id {
        tx.execute("DELETE FROM outbox WHERE subscription_id = $1", &[&id]).await?;
        tx.execute("DELETE FROM subscriptions WHERE id = $1", &[&id]).await?;
    }
    tx.commit().await?;
    Ok(id.is_some())
}

/// Ends subscription `id` (and its pending deliveries); whether it existed.
pub(super) async fn remove_subscription(client: &mut Client, id: i64) -> Result<bool, Error> {
    let tx = client.transaction().await?;
    tx.execute("DELETE FROM outbox WHERE subscription_id = $1", &[&id]).await?;
    let removed = tx.execute("DELETE FROM subscriptions WHERE id = $1", &[&id]).await?;
    tx.commit().await?;
    Ok(removed > 0)
}

/// The subscription with row `id`.
pub(super) async fn subscription(client: &mut Client, id: i64) -> Result<Option<Subscription>, Error> {
    let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = $1");
    Ok(client.query_opt(&sql, &[&id]).await?.as_ref().map(row_to_subscription))
}

/// Every subscription, sorted by topic and callback.
pub(super) async fn subscriptions(client: &mut Client) -> Result<Vec<Subscription>, Error> {
    let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions ORDER BY topic, callback");
    Ok(client.query(&sql, &[]).await?.iter().map(row_to_subscription).collect())
}

/// Deletes subscriptions whose lease ended (and their jobs), and feed
/// versions older than [`super::KEEP_TOPIC_VERSIONS`] that are not
/// current; returns how many subscriptions.
pub(super) async fn prune_expired(client: &mut Client, now: Timestamp) -> Result<usize, Error> {
    let tx = client.transaction().await?;
    tx.execute(
        "DELETE FROM outbox WHERE subscription_id IN (SELECT id FROM subscriptions WHERE expires_at <= $1)",
        &[&seconds(now)],
    )
    .await?;
    let pruned = tx.execute("DELETE FROM subscriptions WHERE expires_at <= $1", &[&seconds(now)]).await?;
    tx.execute(
        "DELETE FROM topic_versions v WHERE seen_at < $1
             AND version <> (SELECT t.version FROM topics t WHERE t.topic = v.topic)",
        &[&(seconds(now) - super::KEEP_TOPIC_VERSIONS)],
    )
    .await?;
    tx.execute("DELETE FROM announced_messages WHERE queued_at < $1", &[&(seconds(now) - super::KEEP_TOPIC_VERSIONS)])
        .await?;
    tx.commit().await?;
    Ok(pruned as usize)
}
