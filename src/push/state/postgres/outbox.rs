//! The outbox in PostgreSQL: jobs claimed with `FOR UPDATE SKIP LOCKED`
//! by one replica at a time, under a lease in database time that the
//! replica renews while it lives (see `PgStore`); when a replica dies its
//! claims lapse and any other replica takes them. Settled, retried or
//! released only by the replica that holds the claim.

use deadpool_postgres::Client;
use jiff::Timestamp;
use tokio_postgres::{Error, Row};

use super::subscriptions::SUBSCRIPTION_COLUMNS;
use super::{host_of, instant, seconds};
use crate::push::state::{Delivery, DeliveryKind, NewDelivery, PendingLimits, Queued, Settled, Subscription};

/// When a given-up job's slot is taken by a newer event, the job starts
/// over: these are the columns that say so.
pub(super) const REVIVE: &str = "attempts = CASE WHEN outbox.failed THEN 0 ELSE outbox.attempts END,
    next_attempt_at = CASE WHEN outbox.failed THEN excluded.next_attempt_at ELSE outbox.next_attempt_at END,
    created_at = CASE WHEN outbox.failed THEN excluded.created_at ELSE outbox.created_at END,
    last_error = CASE WHEN outbox.failed THEN NULL ELSE outbox.last_error END,
    failed = FALSE";

/// A claim that no live replica holds: none, or its lease ended.
pub(super) const UNCLAIMED: &str = "(claimed_until IS NULL OR claimed_until < now())";

const DELIVERY_COLUMNS: &str = "id, kind, target, topic, subscription_id, payload, attempts, generation, created_at, last_error, failed, message_id";

fn row_to_delivery(row: &Row) -> Delivery {
    let kind: String = row.get(1);
    Delivery {
        id: row.get(0),
        kind: DeliveryKind::parse(&kind).unwrap_or(DeliveryKind::Ping),
        target: row.get(2),
        topic: row.get(3),
        subscription_id: row.get(4),
        payload: row.get(5),
        attempts: row.get::<_, i32>(6).max(0) as u32,
        generation: row.get(7),
        created_at: instant(row.get(8)),
        last_error: row.get(9),
        failed: row.get(10),
        message_id: row.get(11),
        subscription: None,
    }
}

/// The subscription read with a claimed delivery, in the columns after the
/// job's (`s.id` NULL: none, as for other kinds or a subscription ended
/// meanwhile).
fn row_to_subscription(row: &Row) -> Option<Subscription> {
    row.get::<_, Option<i64>>(12)?;
    Some(super::subscriptions::subscription_at(row, 12))
}

/// Queues a verification or denial, unless `limits` are reached; a job
/// replacing the one waiting for the same topic and callback is always
/// queued. Replicas count and insert one at a time (an advisory lock), so
/// the limits hold across them.
pub(super) async fn enqueue(
    client: &mut Client,
    job: NewDelivery,
    now: Timestamp,
    limits: PendingLimits,
) -> Result<Queued, Error> {
    let key = format!("verify:{} {}", job.topic, job.target);
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock(hashtextextended('herald.enqueue' || current_schema(), 0))", &[]).await?;
    let replaces: bool = tx
        .query_one("SELECT EXISTS (SELECT 1 FROM outbox WHERE coalesce_key = $1 AND NOT failed)", &[&key])
        .await?
        .get(0);
    if !replaces {
        let pending = "SELECT count(*) FROM outbox WHERE kind IN ('websub.verify', 'websub.deny') AND NOT failed";
        let for_topic: i64 = tx.query_one(&format!("{pending} AND topic = $1"), &[&job.topic]).await?.get(0);
        if for_topic >= limits.per_topic as i64 {
            return Ok(Queued::TopicFull);
        }
        let overall: i64 = tx.query_one(pending, &[]).await?.get(0);
        if overall >= limits.overall as i64 {
            return Ok(Queued::HubFull);
        }
    }
    tx.execute(
        "INSERT INTO outbox (kind, target, host, topic, payload, coalesce_key, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (coalesce_key) DO UPDATE SET kind = excluded.kind, payload = excluded.payload,
             generation = outbox.generation + 1, attempts = 0, failed = FALSE, last_error = NULL,
             next_attempt_at = excluded.next_attempt_at, created_at = excluded.created_at",
        &[&job.kind.as_str(), &job.target, &host_of(&job.target), &job.topic, &job.payload, &key, &seconds(now)],
    )
    .await?;
    tx.commit().await?;
    Ok(Queued::Yes)
}

/// Claims up to `limit` jobs due at `now` for replica `me` for `lease`
/// seconds, skipping the hosts in `skip_hosts` and the jobs other
/// replicas hold: rows locked by a concurrent claim are skipped, not
/// waited for. A delivery comes with its subscription, read in the same
/// statement (the engine would otherwise look each one up).
pub(super) async fn claim_due(
    client: &mut Client,
    now: Timestamp,
    limit: usize,
    skip_hosts: &[String],
    me: &str,
    lease: f64,
) -> Result<Vec<Delivery>, Error> {
    let sql = format!(
        "WITH due AS (
             SELECT id FROM outbox
             WHERE NOT failed AND next_attempt_at <= $1 AND {UNCLAIMED} AND NOT (host = ANY($3))
             ORDER BY next_attempt_at, id
             LIMIT $2
             FOR UPDATE SKIP LOCKED),
         claimed AS (
             UPDATE outbox SET claimed_by = $4, claimed_until = now() + make_interval(secs => $5)
             FROM due WHERE outbox.id = due.id
             RETURNING {})
         SELECT claimed.*, {}
         FROM claimed LEFT JOIN subscriptions s ON s.id = claimed.subscription_id",
        DELIVERY_COLUMNS.split(", ").map(|c| format!("outbox.{c}")).collect::<Vec<_>>().join(", "),
        SUBSCRIPTION_COLUMNS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ")
    );
    let statement = client.prepare_cached(&sql).await?;
    let rows = client.query(&statement, &[&seconds(now), &(limit as i64), &skip_hosts, &me, &lease]).await?;
    let mut jobs: Vec<Delivery> =
        rows.iter().map(|row| Delivery { subscription: row_to_subscription(row), ..row_to_delivery(row) }).collect();
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
}

/// Extends the claims replica `me` holds on `ids` by `lease` seconds,
/// skipping a job another transaction holds: that is a settle of this
/// replica's in progress (it locks its jobs in its own order, so a renewal
/// that waited for them could deadlock with it, and the settle's outcomes
/// would be lost: delivered jobs would go again). Its lease can lapse
/// meanwhile; claims skip locked jobs too, and the settle ends its claim.
pub(super) async fn renew(client: &mut Client, ids: &[i64], me: &str, lease: f64) -> Result<u64, Error> {
    client
        .execute(
            "UPDATE outbox SET claimed_until = now() + make_interval(secs => $3)
             WHERE id IN (SELECT id FROM outbox WHERE id = ANY($1) AND claimed_by = $2
                          ORDER BY id FOR UPDATE SKIP LOCKED)",
            &[&ids, &me, &lease],
        )
        .await
}

/// Records the outcomes of attempts, in one transaction of a few
/// set-based statements (not one per job). It first locks the jobs in id
/// order, so that two transactions touching the same jobs lock them in the
/// same order. A job whose claim passed to another replica meanwhile is
/// left to that replica, except that a delivered one is deleted (it was
/// delivered).
pub(super) async fn settle(client: &mut Client, outcomes: &[Settled], me: &str) -> Result<(), Error> {
    let (mut done, mut generations) = (Vec::new(), Vec::new());
    let (mut retried, mut next, mut retry_errors) = (Vec::new(), Vec::new(), Vec::new());
    let (mut failed, mut fail_errors) = (Vec::new(), Vec::new());
    let mut gone: Vec<i64> = Vec::new();
    for outcome in outcomes {
        match outcome {
            Settled::Done { id, generation } => {
                done.push(*id);
                generations.push(*generation);
            }
            Settled::Retry { id, next: at, error } => {
                retried.push(*id);
                next.push(seconds(*at));
                retry_errors.push(error.as_str());
            }
            Settled::Failed { id, error } => {
                failed.push(*id);
                fail_errors.push(error.as_str());
            }
            Settled::Gone { subscription } => gone.push(*subscription),
        }
    }
    let mut jobs: Vec<i64> = done.iter().chain(&retried).chain(&failed).copied().collect();
    jobs.sort_unstable();
    gone.sort_unstable();
    gone.dedup();
    let tx = client.transaction().await?;
    if !jobs.is_empty() {
        let lock = tx.prepare_cached("SELECT id FROM outbox WHERE id = ANY($1) ORDER BY id FOR UPDATE").await?;
        tx.execute(&lock, &[&jobs]).await?;
    }
    if !done.is_empty() {
        let delete = tx
            .prepare_cached(
                "DELETE FROM outbox USING unnest($1::bigint[], $2::bigint[]) AS d(id, generation)
                 WHERE outbox.id = d.id AND outbox.generation = d.generation RETURNING outbox.id",
            )
            .await?;
        let deleted: std::collections::HashSet<i64> =
            tx.query(&delete, &[&done, &generations]).await?.iter().map(|row| row.get(0)).collect();
        // A job whose content changed meanwhile goes again, at once.
        let changed: Vec<i64> = done.iter().copied().filter(|id| !deleted.contains(id)).collect();
        if !changed.is_empty() {
            let again = tx
                .prepare_cached(
                    "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL, attempts = 0, last_error = NULL
                     WHERE id = ANY($1) AND (claimed_by = $2 OR claimed_by IS NULL)",
                )
                .await?;
            tx.execute(&again, &[&changed, &me]).await?;
        }
    }
    if !retried.is_empty() {
        let retry = tx
            .prepare_cached(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = r.next, claimed_by = NULL,
                     claimed_until = NULL, last_error = r.error
                 FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS r(id, next, error)
                 WHERE outbox.id = r.id AND outbox.claimed_by = $4",
            )
            .await?;
        tx.execute(&retry, &[&retried, &next, &retry_errors, &me]).await?;
    }
    if !failed.is_empty() {
        let fail = tx
            .prepare_cached(
                "UPDATE outbox SET attempts = attempts + 1, failed = TRUE, claimed_by = NULL, claimed_until = NULL,
                     last_error = f.error
                 FROM unnest($1::bigint[], $2::text[]) AS f(id, error)
                 WHERE outbox.id = f.id AND outbox.claimed_by = $3",
            )
            .await?;
        tx.execute(&fail, &[&failed, &fail_errors, &me]).await?;
    }
    if !gone.is_empty() {
        // The subscriptions that are gone, after the jobs, in id order.
        tx.execute("DELETE FROM outbox WHERE subscription_id = ANY($1)", &[&gone]).await?;
        tx.execute("DELETE FROM subscriptions WHERE id IN (SELECT id FROM subscriptions WHERE id = ANY($1) ORDER BY id FOR UPDATE)", &[&gone]).await?;
    }
    tx.commit().await
}

/// Releases replica `me`'s claims on jobs `ids`: they are due again.
pub(super) async fn release(client: &mut Client, ids: &[i64], me: &str) -> Result<(), Error> {
    client
        .execute(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE id = ANY($1) AND claimed_by = $2",
            &[&ids, &me],
        )
        .await?;
    Ok(())
}

/// Releases every claim replica `me` holds (a new process holds none;
/// another replica's claims end with their lease).
pub(super) async fn release_claims(client: &mut Client, me: &str) -> Result<(), Error> {
    client.execute("UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1", &[&me]).await?;
    Ok(())
}

/// When the next job not held by replica `me` is due (a job another
/// replica holds is due when its lease ends), and at the latest in
/// `poll` seconds: jobs other replicas queue wake only them, so this
/// replica looks again now and then in case they died.
pub(super) async fn next_due(client: &mut Client, me: &str, poll: i64) -> Result<Option<Timestamp>, Error> {
    let row = client
        .query_one(
            "SELECT LEAST(
                 (SELECT MIN(GREATEST(next_attempt_at,
                                      COALESCE(ceil(extract(epoch FROM claimed_until))::bigint, 0)))
                  FROM outbox WHERE NOT failed AND NOT (claimed_by IS NOT DISTINCT FROM $1 AND claimed_until >= now())),
                 ceil(extract(epoch FROM now()))::bigint + $2)",
            &[&me, &poll],
        )
        .await?;
    Ok(row.get::<_, Option<i64>>(0).map(instant))
}

/// Pending and failed deliveries, oldest first.
pub(super) async fn deliveries(client: &mut Client, failed_only: bool, limit: usize) -> Result<Vec<Delivery>, Error> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM outbox WHERE failed OR NOT $1 ORDER BY created_at, id LIMIT $2");
    Ok(client.query(&sql, &[&failed_only, &(limit as i64)]).await?.iter().map(row_to_delivery).collect())
}

/// Makes a failed or waiting job due now; whether it existed.
pub(super) async fn retry_now(client: &mut Client, id: i64, now: Timestamp) -> Result<bool, Error> {
    let changed = client
        .execute(
            "UPDATE outbox SET failed = FALSE, next_attempt_at = $2, claimed_by = NULL, claimed_until = NULL WHERE id = $1",
            &[&id, &seconds(now)],
        )
        .await?;
    Ok(changed > 0)
}

/// Deletes jobs given up before `before`; returns how many.
pub(super) async fn prune_failed(client: &mut Client, before: Timestamp) -> Result<usize, Error> {
    Ok(client.execute("DELETE FROM outbox WHERE failed AND created_at < $1", &[&seconds(before)]).await? as usize)
}
