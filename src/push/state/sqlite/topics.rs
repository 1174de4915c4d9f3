//! WebSub topics: the version (ETag) of each feed last announced. A
//! changed version queues one delivery per active subscriber and one ping
//! per external hub, in the transaction that records it.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::outbox::REVIVE;
use super::{host_of, seconds};

/// Records `changes` (topic URL, version) as announced, and in the same
/// transaction queues a delivery to each active subscriber of each topic
/// whose version differs from the last one announced, plus a ping to
/// each of `external_hubs`. A topic seen for the first time only gets
/// its version recorded. Returns how many jobs were queued.
pub(super) fn announce(
    connection: &mut Connection,
    changes: &[(String, String)],
    external_hubs: &[String],
    now: Timestamp,
) -> rusqlite::Result<usize> {
    let tx = connection.transaction()?;
    let mut queued = 0;
    {
        let mut previous = tx.prepare_cached("SELECT version FROM topics WHERE topic = ?1")?;
        let mut record = tx.prepare_cached(
            "INSERT INTO topics (topic, version, changed_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (topic) DO UPDATE SET version = excluded.version, changed_at = excluded.changed_at",
        )?;
        // One delivery per subscriber; if one is already waiting, it
        // will send the newest content: bump its generation. One that
        // was given up starts over with this change.
        let mut deliver = tx.prepare_cached(&format!(
            "INSERT INTO outbox (kind, target, host, topic, subscription_id, coalesce_key, next_attempt_at, created_at)
             SELECT 'websub.deliver', callback, host, topic, id, 'deliver:' || id, ?2, ?2
             FROM subscriptions WHERE topic = ?1 AND expires_at > ?2
             ON CONFLICT (coalesce_key) DO UPDATE SET generation = generation + 1, {REVIVE}"
        ))?;
        let mut ping = tx.prepare_cached(&format!(
            "INSERT INTO outbox (kind, target, host, topic, coalesce_key, next_attempt_at, created_at)
             VALUES ('websub.ping', ?1, ?2, ?3, 'ping:' || ?1 || ' ' || ?3, ?4, ?4)
             ON CONFLICT (coalesce_key) DO UPDATE SET generation = generation + 1, {REVIVE}"
        ))?;
        for (topic, version) in changes {
            let before: Option<String> = previous.query_row(params![topic], |row| row.get(0)).optional()?;
            if before.as_deref() == Some(version.as_str()) {
                continue;
            }
            record.execute(params![topic, version, seconds(now)])?;
            if before.is_none() {
                // First sight of this topic: a baseline, no news.
                continue;
            }
            queued += deliver.execute(params![topic, seconds(now)])?;
            for hub in external_hubs {
                queued += ping.execute(params![hub, host_of(hub), topic, seconds(now)])?;
            }
        }
    }
    tx.commit()?;
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::push::state::{PushStore, Settled};

    #[test]
    fn first_sight_is_a_baseline_and_unchanged_versions_announce_nothing() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        store.subscribe("https://x/rss.xml", "https://sub/cb", None, 3600, now).unwrap();
        let topic = |v: &str| vec![("https://x/rss.xml".to_string(), v.to_string())];
        assert_eq!(store.announce(&topic("a"), &[], now).unwrap(), 0, "baseline");
        assert_eq!(store.announce(&topic("a"), &[], now).unwrap(), 0, "unchanged");
        assert_eq!(store.announce(&topic("b"), &["https://hub/".into()], now).unwrap(), 2, "delivery and ping");
        let jobs = store.claim_due(now, 10, &[]).unwrap();
        assert_eq!(jobs.len(), 2);
        // Claimed jobs are not handed out twice.
        assert!(store.claim_due(now, 10, &[]).unwrap().is_empty());
    }

    #[test]
    fn a_change_during_delivery_is_delivered_again() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        store.subscribe("t", "https://sub/cb", None, 3600, now).unwrap();
        store.announce(&[("t".into(), "1".into())], &[], now).unwrap();
        store.announce(&[("t".into(), "2".into())], &[], now).unwrap();
        let job = store.claim_due(now, 10, &[]).unwrap().remove(0);
        // The topic changes while the delivery is in flight.
        store.announce(&[("t".into(), "3".into())], &[], now).unwrap();
        store.settle(&[Settled::Done { id: job.id, generation: job.generation }]).unwrap();
        let again = store.claim_due(now, 10, &[]).unwrap();
        assert_eq!(again.len(), 1, "the newest content must go out too");
        store.settle(&[Settled::Done { id: again[0].id, generation: again[0].generation }]).unwrap();
        assert!(store.deliveries(false, 10).unwrap().is_empty());
    }
}
