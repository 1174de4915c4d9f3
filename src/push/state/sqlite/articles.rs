//! Articles: what was last announced about each (its version, whether it
//! was visible), recorded in the transaction that queues the webhook events
//! and IndexNow URLs the change causes; the baseline mark of the first run.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::outbox::REVIVE;
use super::{host_of, seconds};
use crate::push::state::common::{add_to_batches, batch_urls};
use crate::push::state::{Announced, EventDelivery};

/// What was last announced about articles `ids` (every article when
/// `None`), by id.
pub(super) fn announced(
    connection: &mut Connection,
    ids: Option<&[String]>,
) -> rusqlite::Result<std::collections::HashMap<String, Announced>> {
    let row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<Announced> {
        Ok(Announced {
            id: r.get(0)?,
            version: r.get(1)?,
            visible: r.get::<_, i64>(2)? != 0,
            url: r.get(3)?,
            lang: r.get(4)?,
            section: r.get(5)?,
            sequence: r.get(6)?,
        })
    };
    let columns = "id, version, visible, url, lang, section, sequence";
    let mut out = std::collections::HashMap::new();
    match ids {
        None => {
            let mut statement = connection.prepare(&format!("SELECT {columns} FROM announced"))?;
            for state in statement.query_map([], row)? {
                let state = state?;
                out.insert(state.id.clone(), state);
            }
        }
        Some(ids) => {
            let mut statement = connection.prepare_cached(&format!("SELECT {columns} FROM announced WHERE id = ?1"))?;
            for id in ids {
                if let Some(state) = statement.query_row(params![id], row).optional()? {
                    out.insert(state.id.clone(), state);
                }
            }
        }
    }
    Ok(out)
}

/// Whether article announcements have a baseline yet (false before the
/// very first start completed).
pub(super) fn has_baseline(connection: &mut Connection) -> rusqlite::Result<bool> {
    Ok(connection.query_row("SELECT COUNT(*) FROM meta WHERE key = 'baseline'", [], |r| r.get::<_, i64>(0))? > 0)
}

/// In one transaction: records `states`, deletes waiting events under
/// `cancel` keys, queues `events`, adds `urls` (host → URLs, due at
/// `indexnow_due`) to IndexNow batches of at most 10,000, and marks the
/// baseline as taken. Returns how many jobs were queued.
pub(super) fn record_announcements(
    connection: &mut Connection,
    states: &[Announced],
    cancel: &[String],
    events: &[EventDelivery],
    urls: &[(String, Vec<String>)],
    indexnow_due: Timestamp,
) -> rusqlite::Result<usize> {
    let tx = connection.transaction()?;
    let mut queued = 0;
    {
        let mut state = tx.prepare_cached(
            "INSERT INTO announced (id, version, visible, url, lang, section, sequence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, visible = excluded.visible,
                 url = excluded.url, lang = excluded.lang, section = excluded.section, sequence = excluded.sequence",
        )?;
        for s in states {
            state.execute(params![s.id, s.version, i64::from(s.visible), s.url, s.lang, s.section, s.sequence])?;
        }
        let mut cancel_waiting =
            tx.prepare_cached("DELETE FROM outbox WHERE coalesce_key = ?1 AND claimed_until IS NULL")?;
        for key in cancel {
            cancel_waiting.execute(params![key])?;
        }
    }
    queued += insert_events(&tx, events)?;
    for (host, new_urls) in urls {
        queued += add_indexnow_urls(&tx, host, new_urls, indexnow_due)?;
    }
    tx.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('baseline', 'taken')", [])?;
    tx.commit()?;
    Ok(queued)
}

/// Queues `events` in one transaction, outside any announcement (an
/// `Accept` answering a `Follow`); returns how many were queued.
pub(super) fn queue_events(connection: &mut Connection, events: &[EventDelivery]) -> rusqlite::Result<usize> {
    let tx = connection.transaction()?;
    let queued = insert_events(&tx, events)?;
    tx.commit()?;
    Ok(queued)
}

/// Queues `events` in their slots: an event whose `merge_into` slot waits
/// updates that one; otherwise a newer event of a slot replaces the
/// waiting one's content (reviving it if it was given up).
fn insert_events(tx: &rusqlite::Transaction<'_>, events: &[EventDelivery]) -> rusqlite::Result<usize> {
    let mut queued = 0;
    let mut merge = tx.prepare_cached(
        "UPDATE outbox SET message_id = ?2, payload = ?3, generation = generation + 1
         WHERE coalesce_key = ?1 AND failed = 0",
    )?;
    let mut insert = tx.prepare_cached(&format!(
        "INSERT INTO outbox (kind, target, host, topic, message_id, payload, coalesce_key, next_attempt_at, created_at)
         VALUES (?8, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
         ON CONFLICT (coalesce_key) DO UPDATE SET message_id = excluded.message_id, payload = excluded.payload,
             generation = generation + 1, {REVIVE}"
    ))?;
    for e in events {
        if let Some(slot) = &e.merge_into
            && merge.execute(params![slot, e.message_id, e.payload])? > 0
        {
            continue;
        }
        queued += insert.execute(params![
            e.target,
            host_of(&e.target),
            e.webhook,
            e.message_id,
            e.payload,
            e.key,
            seconds(e.due),
            e.kind.as_str()
        ])?;
    }
    Ok(queued)
}

/// Adds `urls` to the waiting IndexNow batches of `host` (filling the
/// newest first, at most [`INDEXNOW_BATCH`](crate::push::state::INDEXNOW_BATCH) each), opening new batches due
/// at `due` as needed. Returns how many batches were opened.
fn add_indexnow_urls(
    tx: &rusqlite::Transaction<'_>,
    host: &str,
    urls: &[String],
    due: Timestamp,
) -> rusqlite::Result<usize> {
    let waiting: Vec<(i64, Vec<String>)> = {
        let mut statement = tx.prepare_cached(
            "SELECT id, payload FROM outbox WHERE kind = 'indexnow' AND topic = ?1 AND failed = 0 AND claimed_until IS NULL
             ORDER BY id",
        )?;
        statement
            .query_map(params![host], |r| Ok((r.get(0)?, batch_urls(&r.get::<_, String>(1)?))))?
            .collect::<rusqlite::Result<_>>()?
    };
    let changes = add_to_batches(&waiting, urls);
    if let Some((id, payload)) = &changes.top_up {
        tx.execute("UPDATE outbox SET payload = ?2 WHERE id = ?1", params![id, payload])?;
    }
    for payload in &changes.open {
        tx.execute(
            "INSERT INTO outbox (kind, target, host, topic, payload, next_attempt_at, created_at)
             VALUES ('indexnow', '', 'indexnow', ?1, ?2, ?3, ?3)",
            params![host, payload, seconds(due)],
        )?;
    }
    Ok(changes.open.len())
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::push::state::{PushStore, Settled};

    #[test]
    fn indexnow_urls_fill_batches_of_ten_thousand() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        let urls = |n: usize, from: usize| (from..from + n).map(|i| format!("https://x/{i}")).collect::<Vec<_>>();
        store.record_announcements(&[], &[], &[], &[("x".into(), urls(6_000, 0))], now).unwrap();
        store.record_announcements(&[], &[], &[], &[("x".into(), urls(6_000, 6_000))], now).unwrap();
        store.record_announcements(&[], &[], &[], &[("x".into(), urls(100, 0))], now).unwrap();
        let jobs = store.deliveries(false, 10).unwrap();
        let sizes: Vec<usize> =
            jobs.iter().map(|j| serde_json::from_str::<Vec<String>>(&j.payload).unwrap().len()).collect();
        assert_eq!(sizes, [10_000, 2_000], "12,000 distinct URLs, duplicates merged");
    }

    #[test]
    fn webhook_events_share_a_slot_and_merge() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        let record = |events: &[EventDelivery], cancel: &[String]| {
            store.record_announcements(&[], cancel, events, &[], now).unwrap()
        };
        record(&[event("u1", "bot:a:updated", None, now)], &[]);
        record(&[event("u2", "bot:a:updated", None, now)], &[]);
        assert_eq!(message_ids(&store), ["u2"], "a burst of updates is one, the newest");
        // An update to an article whose publication still waits merges
        // into the publication.
        record(&[event("p1", "bot:b:published", None, now)], &[]);
        record(&[event("u3", "bot:b:updated", Some("bot:b:published"), now)], &[]);
        assert_eq!(message_ids(&store), ["u2", "u3"]);
        assert!(store.deliveries(false, 10).unwrap().iter().all(|j| j.message_id.as_deref() != Some("p1")));
        record(&[], &["bot:a:updated".into()]);
        assert_eq!(message_ids(&store), ["u3"], "cancelled");
        assert!(store.has_baseline().unwrap());
    }

    /// A given-up event does not swallow later events of its slot.
    /// (Review finding: failed rows blocked their coalescing key.)
    #[test]
    fn a_failed_slot_comes_back_with_the_next_event() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        store.record_announcements(&[], &[], &[event("u1", "bot:a:updated", None, now)], &[], now).unwrap();
        let job = store.claim_due(now, 10, &[]).unwrap().remove(0);
        store.settle(&[Settled::Failed { id: job.id, error: "410".into() }]).unwrap();
        assert!(store.claim_due(now, 10, &[]).unwrap().is_empty());
        let later = at("2026-11-27T00:00:00Z");
        store.record_announcements(&[], &[], &[event("u2", "bot:a:updated", None, later)], &[], later).unwrap();
        let again = store.claim_due(later, 10, &[]).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].message_id.as_deref(), Some("u2"));
        assert!(!again[0].failed && again[0].attempts == 0);
        // Pings too.
        store.subscribe("t", "https://sub/cb", None, 7 * 86_400, now).unwrap();
        store.announce(&[("t".into(), "1".into())], &[], now).unwrap();
        store.announce(&[("t".into(), "2".into())], &["https://hub/".into()], now).unwrap();
        for job in store.claim_due(now, 10, &[]).unwrap() {
            store.settle(&[Settled::Failed { id: job.id, error: "down".into() }]).unwrap();
        }
        store.announce(&[("t".into(), "3".into())], &["https://hub/".into()], later).unwrap();
        assert_eq!(store.claim_due(later, 10, &[]).unwrap().len(), 2, "delivery and ping revived");
        assert_eq!(store.prune_failed(at("2026-12-31T00:00:00Z")).unwrap(), 0, "nothing left given up");
    }
}
