//! Articles in PostgreSQL: what was last announced about each, and the
//! webhook events and IndexNow URLs a change causes, each queued once
//! across replicas: an event's message id (a digest of webhook, article,
//! event, version and sequence) is recorded in `announced_messages` with
//! `ON CONFLICT DO NOTHING`, and only the replica whose insert took queues
//! it; IndexNow URLs are added only by a call that changed a recorded
//! state. Announcers take turns (a transaction-scoped advisory lock).

use std::collections::HashMap;

use deadpool_postgres::{Client, Transaction};
use jiff::Timestamp;
use tokio_postgres::{Error, Row};

use super::outbox::{REVIVE, UNCLAIMED};
use super::{ANNOUNCE_LOCK, host_of, seconds};
use crate::push::state::common::{add_to_batches, batch_urls};
use crate::push::state::{Announced, EventDelivery};

const COLUMNS: &str = "id, version, visible, url, lang, section, sequence";

fn row_to_announced(r: &Row) -> Announced {
    Announced {
        id: r.get(0),
        version: r.get(1),
        visible: r.get(2),
        url: r.get(3),
        lang: r.get(4),
        section: r.get(5),
        sequence: r.get(6),
    }
}

/// What was last announced about articles `ids` (every article when
/// `None`), by id.
pub(super) async fn announced(
    client: &mut Client,
    ids: Option<&[String]>,
) -> Result<HashMap<String, Announced>, Error> {
    let rows = match ids {
        None => client.query(&format!("SELECT {COLUMNS} FROM announced"), &[]).await?,
        Some(ids) => client.query(&format!("SELECT {COLUMNS} FROM announced WHERE id = ANY($1)"), &[&ids]).await?,
    };
    Ok(rows.iter().map(row_to_announced).map(|a| (a.id.clone(), a)).collect())
}

/// Whether article announcements have a baseline yet.
pub(super) async fn has_baseline(client: &mut Client) -> Result<bool, Error> {
    Ok(client.query_one("SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'baseline')", &[]).await?.get(0))
}

/// In one transaction: records `states`, deletes waiting events under
/// `cancel` keys, queues the `events` no replica queued before, adds
/// `urls` to IndexNow batches (unless every state was recorded already by
/// another replica), and marks the baseline as taken. Returns how many
/// jobs were queued.
pub(super) async fn record_announcements(
    client: &mut Client,
    states: &[Announced],
    cancel: &[String],
    events: &[EventDelivery],
    urls: &[(String, Vec<String>)],
    indexnow_due: Timestamp,
) -> Result<usize, Error> {
    let tx = client.transaction().await?;
    tx.execute(ANNOUNCE_LOCK, &[]).await?;
    let state = tx
        .prepare_cached(
            "INSERT INTO announced (id, version, visible, url, lang, section, sequence)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, visible = excluded.visible,
                 url = excluded.url, lang = excluded.lang, section = excluded.section, sequence = excluded.sequence
             WHERE (announced.version, announced.visible, announced.url, announced.lang, announced.section,
                    announced.sequence)
                   IS DISTINCT FROM (excluded.version, excluded.visible, excluded.url, excluded.lang,
                    excluded.section, excluded.sequence)
               AND announced.sequence <= excluded.sequence",
        )
        .await?;
    let mut changed = 0;
    for s in states {
        changed +=
            tx.execute(&state, &[&s.id, &s.version, &s.visible, &s.url, &s.lang, &s.section, &s.sequence]).await?;
    }
    let cancel_waiting =
        tx.prepare_cached(&format!("DELETE FROM outbox WHERE coalesce_key = $1 AND {UNCLAIMED}")).await?;
    for key in cancel {
        tx.execute(&cancel_waiting, &[key]).await?;
    }
    let mut queued = insert_events(&tx, events, true).await?;
    if states.is_empty() || changed > 0 {
        for (host, new_urls) in urls {
            queued += add_indexnow_urls(&tx, host, new_urls, indexnow_due).await?;
        }
    }
    tx.execute("INSERT INTO meta (key, value) VALUES ('baseline', 'taken') ON CONFLICT DO NOTHING", &[]).await?;
    tx.commit().await?;
    Ok(queued)
}

/// Queues `events` without recording any article state (activities a
/// replica's inbox caused); returns how many were queued.
pub(super) async fn queue_events(client: &mut Client, events: &[EventDelivery]) -> Result<usize, Error> {
    let tx = client.transaction().await?;
    let queued = insert_events(&tx, events, false).await?;
    tx.commit().await?;
    Ok(queued)
}

/// Queues `events` in their slots: an event whose `merge_into` slot waits
/// updates that one; otherwise a newer event of a slot replaces the
/// waiting one's content (reviving it if it was given up). With `once`,
/// an event whose message id was queued before (by any replica) is left
/// out.
async fn insert_events(tx: &Transaction<'_>, events: &[EventDelivery], once: bool) -> Result<usize, Error> {
    let first_time = tx
        .prepare_cached("INSERT INTO announced_messages (message_id, queued_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .await?;
    let merge = tx
        .prepare_cached(
            "UPDATE outbox SET message_id = $2, payload = $3, generation = generation + 1
             WHERE coalesce_key = $1 AND NOT failed",
        )
        .await?;
    let insert = tx
        .prepare_cached(&format!(
            "INSERT INTO outbox (kind, target, host, topic, message_id, payload, coalesce_key, next_attempt_at, created_at)
             VALUES ($8, $1, $2, $3, $4, $5, $6, $7, $7)
             ON CONFLICT (coalesce_key) DO UPDATE SET message_id = excluded.message_id, payload = excluded.payload,
                 generation = outbox.generation + 1, {REVIVE}"
        ))
        .await?;
    let mut queued = 0;
    for e in events {
        if once && tx.execute(&first_time, &[&e.message_id, &seconds(e.due)]).await? == 0 {
            // Another replica queued this very event.
            continue;
        }
        if let Some(slot) = &e.merge_into
            && tx.execute(&merge, &[slot, &e.message_id, &e.payload]).await? > 0
        {
            continue;
        }
        queued += tx
            .execute(
                &insert,
                &[
                    &e.target,
                    &host_of(&e.target),
                    &e.webhook,
                    &e.message_id,
                    &e.payload,
                    &e.key,
                    &seconds(e.due),
                    &e.kind.as_str(),
                ],
            )
            .await? as usize;
    }
    Ok(queued)
}

/// Adds `urls` to the waiting IndexNow batches of `host` (filling the
/// newest first, at most [`INDEXNOW_BATCH`](crate::push::state::INDEXNOW_BATCH) each), opening new batches due
/// at `due` as needed. Returns how many batches were opened.
async fn add_indexnow_urls(tx: &Transaction<'_>, host: &str, urls: &[String], due: Timestamp) -> Result<usize, Error> {
    let waiting: Vec<(i64, Vec<String>)> = tx
        .query(
            &format!(
                "SELECT id, payload FROM outbox WHERE kind = 'indexnow' AND topic = $1 AND NOT failed AND {UNCLAIMED}
                 ORDER BY id"
            ),
            &[&host],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), batch_urls(&r.get::<_, String>(1))))
        .collect();
    let changes = add_to_batches(&waiting, urls);
    if let Some((id, payload)) = &changes.top_up {
        tx.execute("UPDATE outbox SET payload = $2 WHERE id = $1", &[id, payload]).await?;
    }
    for payload in &changes.open {
        tx.execute(
            "INSERT INTO outbox (kind, target, host, topic, payload, next_attempt_at, created_at)
             VALUES ('indexnow', '', 'indexnow', $1, $2, $3, $3)",
            &[&host, payload, &seconds(due)],
        )
        .await?;
    }
    Ok(changes.open.len())
}
