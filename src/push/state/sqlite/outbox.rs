//! The outbox: queued deliveries. Claimed when due (never handed out
//! twice), settled in batches once attempted (done, retried later, given
//! up, or the subscription gone), released when their outcome could not be
//! recorded or at start-up.

use jiff::Timestamp;
use rusqlite::{Connection, params};

use super::{host_of, instant, seconds};
use crate::push::state::{Delivery, DeliveryKind, NewDelivery, PendingLimits, Queued, Settled};

/// How long a claim is recorded for (informational in a single process,
/// whose claims are released at start-up).
const CLAIM_SECONDS: i64 = 3600;

/// When a given-up job's slot is taken by a newer event, the job starts
/// over: these are the columns that say so.
pub(super) const REVIVE: &str = "attempts = CASE WHEN failed = 1 THEN 0 ELSE attempts END,
    next_attempt_at = CASE WHEN failed = 1 THEN excluded.next_attempt_at ELSE next_attempt_at END,
    created_at = CASE WHEN failed = 1 THEN excluded.created_at ELSE created_at END,
    last_error = CASE WHEN failed = 1 THEN NULL ELSE last_error END,
    failed = 0";

const DELIVERY_COLUMNS: &str = "id, kind, target, topic, subscription_id, payload, attempts, generation, created_at, last_error, failed, message_id";

fn row_to_delivery(row: &rusqlite::Row<'_>) -> rusqlite::Result<Delivery> {
    let kind: String = row.get(1)?;
    Ok(Delivery {
        id: row.get(0)?,
        kind: DeliveryKind::parse(&kind).unwrap_or(DeliveryKind::Ping),
        target: row.get(2)?,
        topic: row.get(3)?,
        subscription_id: row.get(4)?,
        payload: row.get(5)?,
        attempts: row.get::<_, i64>(6)?.max(0) as u32,
        generation: row.get(7)?,
        created_at: instant(row.get(8)?),
        last_error: row.get(9)?,
        failed: row.get::<_, i64>(10)? != 0,
        message_id: row.get(11)?,
        subscription: None,
    })
}

/// Queues a verification or denial, unless `limits` are reached; a job
/// replacing the one waiting for the same topic and callback adds nothing
/// and is always queued.
pub(super) fn enqueue(
    connection: &mut Connection,
    job: NewDelivery,
    now: Timestamp,
    limits: PendingLimits,
) -> rusqlite::Result<Queued> {
    let key = format!("verify:{} {}", job.topic, job.target);
    let tx = connection.transaction()?;
    let replaces: bool =
        tx.query_row("SELECT EXISTS (SELECT 1 FROM outbox WHERE coalesce_key = ?1 AND failed = 0)", [&key], |r| {
            r.get(0)
        })?;
    if !replaces {
        let pending = "SELECT COUNT(*) FROM outbox WHERE kind IN ('websub.verify', 'websub.deny') AND failed = 0";
        let for_topic: i64 = tx.query_row(&format!("{pending} AND topic = ?1"), [&job.topic], |r| r.get(0))?;
        if for_topic >= limits.per_topic as i64 {
            return Ok(Queued::TopicFull);
        }
        let overall: i64 = tx.query_row(pending, [], |r| r.get(0))?;
        if overall >= limits.overall as i64 {
            return Ok(Queued::HubFull);
        }
    }
    tx.execute(
        "INSERT INTO outbox (kind, target, host, topic, payload, coalesce_key, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
         ON CONFLICT (coalesce_key) DO UPDATE SET kind = excluded.kind, payload = excluded.payload,
             generation = generation + 1, attempts = 0, failed = 0, last_error = NULL,
             next_attempt_at = excluded.next_attempt_at, created_at = excluded.created_at",
        params![job.kind.as_str(), job.target, host_of(&job.target), job.topic, job.payload, key, seconds(now)],
    )?;
    tx.commit()?;
    Ok(Queued::Yes)
}

/// Claims up to `limit` jobs due at `now`, skipping jobs for the hosts
/// in `skip_hosts` (whose queues are full): they are not handed out
/// again until settled or released. Claims of one process are released
/// at its start (`PushStore::release_claims`).
pub(super) fn claim_due(
    connection: &mut Connection,
    now: Timestamp,
    limit: usize,
    skip_hosts: &[String],
) -> rusqlite::Result<Vec<Delivery>> {
    let skip = serde_json::to_string(skip_hosts).unwrap_or_else(|_| "[]".into());
    let tx = connection.transaction()?;
    let jobs = {
        let mut statement = tx.prepare_cached(&format!(
            "UPDATE outbox SET claimed_until = ?2
             WHERE id IN (SELECT id FROM outbox
                          WHERE claimed_until IS NULL AND failed = 0 AND next_attempt_at <= ?1
                            AND host NOT IN (SELECT value FROM json_each(?4))
                          ORDER BY next_attempt_at, id LIMIT ?3)
             RETURNING {DELIVERY_COLUMNS}"
        ))?;
        statement
            .query_map(params![seconds(now), seconds(now) + CLAIM_SECONDS, limit as i64, skip], row_to_delivery)?
            .collect::<rusqlite::Result<Vec<Delivery>>>()?
    };
    tx.commit()?;
    Ok(jobs)
}

/// Records the outcomes of attempts, in one transaction.
pub(super) fn settle(connection: &mut Connection, outcomes: &[Settled]) -> rusqlite::Result<()> {
    let tx = connection.transaction()?;
    {
        let mut delete = tx.prepare_cached("DELETE FROM outbox WHERE id = ?1 AND generation = ?2")?;
        // A job whose content changed meanwhile goes again, at once.
        let mut again =
            tx.prepare_cached("UPDATE outbox SET claimed_until = NULL, attempts = 0, last_error = NULL WHERE id = ?1")?;
        let mut retry = tx.prepare_cached(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, claimed_until = NULL, last_error = ?3 WHERE id = ?1",
        )?;
        let mut fail = tx.prepare_cached(
            "UPDATE outbox SET attempts = attempts + 1, failed = 1, claimed_until = NULL, last_error = ?2 WHERE id = ?1",
        )?;
        let mut gone_jobs = tx.prepare_cached("DELETE FROM outbox WHERE subscription_id = ?1")?;
        let mut gone = tx.prepare_cached("DELETE FROM subscriptions WHERE id = ?1")?;
        for outcome in outcomes {
            match outcome {
                Settled::Done { id, generation } => {
                    if delete.execute(params![id, generation])? == 0 {
                        again.execute(params![id])?;
                    }
                }
                Settled::Retry { id, next, error } => {
                    retry.execute(params![id, seconds(*next), error])?;
                }
                Settled::Failed { id, error } => {
                    fail.execute(params![id, error])?;
                }
                Settled::Gone { subscription } => {
                    gone_jobs.execute(params![subscription])?;
                    gone.execute(params![subscription])?;
                }
            }
        }
    }
    tx.commit()
}

/// Releases the claims on jobs `ids` (their outcome could not be
/// recorded): they are due again.
pub(super) fn release(connection: &mut Connection, ids: &[i64]) -> rusqlite::Result<()> {
    let tx = connection.transaction()?;
    {
        let mut release = tx.prepare_cached("UPDATE outbox SET claimed_until = NULL WHERE id = ?1")?;
        for id in ids {
            release.execute(params![id])?;
        }
    }
    tx.commit()
}

/// Releases every claim: at start-up, nothing is in flight.
pub(super) fn release_claims(connection: &mut Connection) -> rusqlite::Result<()> {
    connection.execute("UPDATE outbox SET claimed_until = NULL WHERE claimed_until IS NOT NULL", [])?;
    Ok(())
}

/// When the next unclaimed job is due, if any.
pub(super) fn next_due(connection: &mut Connection) -> rusqlite::Result<Option<Timestamp>> {
    let next: Option<i64> = connection.query_row(
        "SELECT MIN(next_attempt_at) FROM outbox WHERE claimed_until IS NULL AND failed = 0",
        [],
        |row| row.get(0),
    )?;
    Ok(next.map(instant))
}

/// Pending and failed deliveries, oldest first.
pub(super) fn deliveries(
    connection: &mut Connection,
    failed_only: bool,
    limit: usize,
) -> rusqlite::Result<Vec<Delivery>> {
    let mut statement = connection.prepare(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM outbox WHERE failed = 1 OR ?1 = 0 ORDER BY created_at, id LIMIT ?2"
    ))?;
    statement.query_map(params![i64::from(failed_only), limit as i64], row_to_delivery)?.collect()
}

/// Makes a failed or waiting job due now; whether it existed.
pub(super) fn retry_now(connection: &mut Connection, id: i64, now: Timestamp) -> rusqlite::Result<bool> {
    let changed = connection.execute(
        "UPDATE outbox SET failed = 0, next_attempt_at = ?2, claimed_until = NULL WHERE id = ?1",
        params![id, seconds(now)],
    )?;
    Ok(changed > 0)
}

/// Deletes jobs given up before `before`; returns how many.
pub(super) fn prune_failed(connection: &mut Connection, before: Timestamp) -> rusqlite::Result<usize> {
    connection.execute("DELETE FROM outbox WHERE failed = 1 AND created_at < ?1", params![seconds(before)])
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::push::state::PushStore;

    const ROOMY: PendingLimits = PendingLimits { per_topic: 100, overall: 100 };

    #[test]
    fn claims_are_released_at_start_and_on_request() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        store
            .enqueue(
                NewDelivery {
                    kind: DeliveryKind::Verify,
                    target: "https://cb".into(),
                    topic: "t".into(),
                    payload: "{}".into(),
                },
                now,
                ROOMY,
            )
            .unwrap();
        let job = store.claim_due(now, 10, &[]).unwrap().remove(0);
        assert!(store.claim_due(now, 10, &[]).unwrap().is_empty());
        assert_eq!(store.next_due().unwrap(), None, "claimed jobs are not due");
        store.release(&[job.id]).unwrap();
        assert_eq!(store.claim_due(now, 10, &[]).unwrap().len(), 1);
        store.release_claims().unwrap();
        assert_eq!(store.claim_due(now, 10, &[]).unwrap().len(), 1, "released at start-up");
    }

    #[test]
    fn saturated_hosts_are_skipped() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        for (topic, callback) in
            [("t1", "https://slow.example/a"), ("t2", "https://slow.example/b"), ("t3", "https://fast.example/c")]
        {
            store
                .enqueue(
                    NewDelivery {
                        kind: DeliveryKind::Verify,
                        target: callback.into(),
                        topic: topic.into(),
                        payload: "{}".into(),
                    },
                    now,
                    ROOMY,
                )
                .unwrap();
        }
        let jobs = store.claim_due(now, 10, &["slow.example".to_string()]).unwrap();
        assert_eq!(jobs.iter().map(|j| j.target.as_str()).collect::<Vec<_>>(), ["https://fast.example/c"]);
    }

    #[test]
    fn a_newer_verification_replaces_a_waiting_one() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        let job = |payload: &str| NewDelivery {
            kind: DeliveryKind::Verify,
            target: "https://cb".into(),
            topic: "t".into(),
            payload: payload.into(),
        };
        store.enqueue(job("subscribe"), now, ROOMY).unwrap();
        store.enqueue(job("unsubscribe"), now, ROOMY).unwrap();
        let jobs = store.deliveries(false, 10).unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].payload, "unsubscribe");
    }

    #[test]
    fn waiting_verifications_are_bounded_per_topic_and_overall() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        let limits = PendingLimits { per_topic: 2, overall: 3 };
        let job = |kind, topic: &str, callback: &str| NewDelivery {
            kind,
            target: format!("https://cb.example/{callback}"),
            topic: topic.into(),
            payload: "{}".into(),
        };
        let queue = |kind, topic, callback| store.enqueue(job(kind, topic, callback), now, limits).unwrap();
        assert_eq!(queue(DeliveryKind::Verify, "t1", "a"), Queued::Yes);
        assert_eq!(queue(DeliveryKind::Verify, "t1", "b"), Queued::Yes);
        assert_eq!(queue(DeliveryKind::Verify, "t1", "c"), Queued::TopicFull);
        // A newer request for a waiting pair replaces it: always queued.
        assert_eq!(queue(DeliveryKind::Verify, "t1", "a"), Queued::Yes);
        // Denials count towards the whole hub.
        assert_eq!(queue(DeliveryKind::Deny, "not-served", "d"), Queued::Yes);
        assert_eq!(queue(DeliveryKind::Verify, "t2", "e"), Queued::HubFull);
        assert_eq!(store.deliveries(false, 100).unwrap().len(), 3);
        // Once one is settled, there is room again.
        let claimed = store.claim_due(now, 1, &[]).unwrap();
        store.settle(&[Settled::Done { id: claimed[0].id, generation: claimed[0].generation }]).unwrap();
        assert_eq!(queue(DeliveryKind::Verify, "t2", "e"), Queued::Yes);
    }
}
