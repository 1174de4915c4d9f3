//! WebSub subscriptions: added or renewed once verified, ended by the
//! subscriber, by `herald subscriptions remove`, by 410 Gone (see the
//! outbox) or when their lease runs out. Ending one drops its queued
//! deliveries with it.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::{host_of, instant, seconds};
use crate::push::state::Subscription;

const SUBSCRIPTION_COLUMNS: &str = "id, topic, callback, secret, lease_seconds, expires_at, created_at";

fn row_to_subscription(row: &rusqlite::Row<'_>) -> rusqlite::Result<Subscription> {
    Ok(Subscription {
        id: row.get(0)?,
        topic: row.get(1)?,
        callback: row.get(2)?,
        secret: row.get(3)?,
        lease_seconds: row.get::<_, i64>(4)?.max(0) as u64,
        expires_at: instant(row.get(5)?),
        created_at: instant(row.get(6)?),
    })
}

/// Adds or renews the subscription of `callback` to `topic`.
pub(super) fn subscribe(
    connection: &mut Connection,
    topic: &str,
    callback: &str,
    secret: Option<&[u8]>,
    lease_seconds: u64,
    now: Timestamp,
) -> rusqlite::Result<()> {
    let expires = seconds(now).saturating_add(lease_seconds as i64);
    connection.execute(
        "INSERT INTO subscriptions (topic, callback, host, secret, lease_seconds, expires_at, created_at, renewed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
         ON CONFLICT (topic, callback) DO UPDATE SET secret = excluded.secret,
             lease_seconds = excluded.lease_seconds, expires_at = excluded.expires_at, renewed_at = excluded.renewed_at",
        params![topic, callback, host_of(callback), secret, lease_seconds as i64, expires, seconds(now)],
    )?;
    Ok(())
}

/// Ends the subscription of `callback` to `topic`; whether there was one.
pub(super) fn unsubscribe(connection: &mut Connection, topic: &str, callback: &str) -> rusqlite::Result<bool> {
    let tx = connection.transaction()?;
    let id: Option<i64> = tx
        .query_row("SELECT id FROM subscriptions WHERE topic = ?1 AND callback = ?2", params![topic, callback], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(id) = id {
        tx.execute("DELETE FROM outbox WHERE subscription_id = ?1", params![id])?;
        tx.execute("DELETE FROM subscriptions WHERE id = ?1", params![id])?;
    }
    tx.commit()?;
    Ok(id.is_some())
}

/// Ends subscription `id` (and its pending deliveries); whether it
/// existed.
pub(super) fn remove_subscription(connection: &mut Connection, id: i64) -> rusqlite::Result<bool> {
    let tx = connection.transaction()?;
    tx.execute("DELETE FROM outbox WHERE subscription_id = ?1", params![id])?;
    let removed = tx.execute("DELETE FROM subscriptions WHERE id = ?1", params![id])?;
    tx.commit()?;
    Ok(removed > 0)
}

/// The subscription with row `id`.
pub(super) fn subscription(connection: &mut Connection, id: i64) -> rusqlite::Result<Option<Subscription>> {
    connection
        .query_row(
            &format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?1"),
            params![id],
            row_to_subscription,
        )
        .optional()
}

/// Every subscription, sorted by topic and callback.
pub(super) fn subscriptions(connection: &mut Connection) -> rusqlite::Result<Vec<Subscription>> {
    let mut statement =
        connection.prepare(&format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions ORDER BY topic, callback"))?;
    statement.query_map([], row_to_subscription)?.collect()
}

/// Deletes subscriptions whose lease ended; returns how many.
pub(super) fn prune_expired(connection: &mut Connection, now: Timestamp) -> rusqlite::Result<usize> {
    let tx = connection.transaction()?;
    tx.execute(
        "DELETE FROM outbox WHERE subscription_id IN (SELECT id FROM subscriptions WHERE expires_at <= ?1)",
        params![seconds(now)],
    )?;
    let pruned = tx.execute("DELETE FROM subscriptions WHERE expires_at <= ?1", params![seconds(now)])?;
    tx.commit()?;
    Ok(pruned)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::push::state::PushStore;

    #[test]
    fn leases_expire_and_are_pruned() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        store.subscribe("t", "https://sub/cb", Some(b"s"), 60, now).unwrap();
        store.subscribe("t", "https://sub/cb", Some(b"s2"), 120, now).unwrap();
        assert_eq!(store.subscriptions().unwrap().len(), 1, "renewal does not duplicate");
        store.announce(&[("t".into(), "1".into())], &[], now).unwrap();
        let later = at("2026-11-26T00:03:00Z");
        assert_eq!(store.announce(&[("t".into(), "2".into())], &[], later).unwrap(), 0, "expired lease gets nothing");
        assert_eq!(store.prune_expired(later).unwrap(), 1);
        assert!(store.subscriptions().unwrap().is_empty());
    }
}
