//! The fediverse: each actor's private key (made once, never replaced) and
//! who follows which actor, with the inboxes activities go to.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::{instant, seconds};
use crate::push::state::Follower;

/// The stored private key of `actor`, if any.
pub(super) fn actor_key(connection: &mut Connection, actor: &str) -> rusqlite::Result<Option<String>> {
    connection.query_row("SELECT private_pem FROM ap_keys WHERE actor = ?1", params![actor], |r| r.get(0)).optional()
}

/// Stores `pem` for `actor` unless it has a key, and returns the one kept.
pub(super) fn keep_actor_key(
    connection: &mut Connection,
    actor: &str,
    pem: &str,
    now: Timestamp,
) -> rusqlite::Result<String> {
    let tx = connection.transaction()?;
    tx.execute(
        "INSERT OR IGNORE INTO ap_keys (actor, private_pem, created_at) VALUES (?1, ?2, ?3)",
        params![actor, pem, seconds(now)],
    )?;
    let kept: String =
        tx.query_row("SELECT private_pem FROM ap_keys WHERE actor = ?1", params![actor], |r| r.get(0))?;
    tx.commit()?;
    Ok(kept)
}

/// Adds `f`, or renews its inboxes and follow id.
pub(super) fn add_follower(connection: &mut Connection, f: &Follower) -> rusqlite::Result<()> {
    connection.execute(
        "INSERT INTO ap_followers (actor, follower, inbox, shared_inbox, follow_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (actor, follower) DO UPDATE SET inbox = excluded.inbox,
             shared_inbox = excluded.shared_inbox, follow_id = excluded.follow_id",
        params![f.actor, f.follower, f.inbox, f.shared_inbox, f.follow_id, seconds(f.created_at)],
    )?;
    Ok(())
}

/// Removes the follow of `follower` on `actor`.
pub(super) fn remove_follower(connection: &mut Connection, actor: &str, follower: &str) -> rusqlite::Result<bool> {
    Ok(connection.execute("DELETE FROM ap_followers WHERE actor = ?1 AND follower = ?2", params![actor, follower])? > 0)
}

/// Removes every follow of `follower`.
pub(super) fn remove_follows_of(connection: &mut Connection, follower: &str) -> rusqlite::Result<usize> {
    connection.execute("DELETE FROM ap_followers WHERE follower = ?1", params![follower])
}

/// Removes the followers of `actor` delivered at `inbox`.
pub(super) fn remove_followers_at(connection: &mut Connection, actor: &str, inbox: &str) -> rusqlite::Result<usize> {
    connection.execute(
        "DELETE FROM ap_followers WHERE actor = ?1 AND COALESCE(shared_inbox, inbox) = ?2",
        params![actor, inbox],
    )
}

/// The followers of `actor` (every actor's when `None`).
pub(super) fn followers(connection: &mut Connection, actor: Option<&str>) -> rusqlite::Result<Vec<Follower>> {
    let mut statement = connection.prepare_cached(
        "SELECT actor, follower, inbox, shared_inbox, follow_id, created_at FROM ap_followers
         WHERE ?1 IS NULL OR actor = ?1 ORDER BY actor, follower",
    )?;
    statement
        .query_map(params![actor], |r| {
            Ok(Follower {
                actor: r.get(0)?,
                follower: r.get(1)?,
                inbox: r.get(2)?,
                shared_inbox: r.get(3)?,
                follow_id: r.get(4)?,
                created_at: instant(r.get(5)?),
            })
        })?
        .collect()
}

/// Followers per actor.
pub(super) fn follower_counts(connection: &mut Connection) -> rusqlite::Result<Vec<(String, u64)>> {
    let mut statement =
        connection.prepare_cached("SELECT actor, COUNT(*) FROM ap_followers GROUP BY actor ORDER BY actor")?;
    statement.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?.collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::push::state::{Follower, PushStore};

    fn follower(actor: &str, who: &str, shared: Option<&str>) -> Follower {
        Follower {
            actor: actor.into(),
            follower: format!("https://{who}/users/a"),
            inbox: format!("https://{who}/users/a/inbox"),
            shared_inbox: shared.map(str::to_string),
            follow_id: format!("https://{who}/follows/1"),
            created_at: at("2026-12-01T00:00:00Z"),
        }
    }

    #[test]
    fn keys_are_kept_and_never_replaced() {
        let (_dir, store) = store();
        let now = at("2026-12-01T00:00:00Z");
        assert_eq!(store.actor_key("vi").unwrap(), None);
        assert_eq!(store.keep_actor_key("vi", "first", now).unwrap(), "first");
        assert_eq!(store.keep_actor_key("vi", "second", now).unwrap(), "first");
        assert_eq!(store.actor_key("vi").unwrap().as_deref(), Some("first"));
    }

    #[test]
    fn followers_come_and_go() {
        let (_dir, store) = store();
        store.add_follower(&follower("vi", "a.example", Some("https://a.example/inbox"))).unwrap();
        store.add_follower(&follower("vi", "b.example", None)).unwrap();
        store.add_follower(&follower("en", "a.example", Some("https://a.example/inbox"))).unwrap();
        store.add_follower(&follower("en", "a.example", Some("https://a.example/inbox"))).unwrap();
        assert_eq!(store.follower_counts().unwrap(), [("en".to_string(), 1), ("vi".to_string(), 2)]);
        assert_eq!(store.followers(Some("vi")).unwrap()[0].delivery_inbox(), "https://a.example/inbox");
        assert!(store.remove_follower("vi", "https://b.example/users/a").unwrap());
        assert!(!store.remove_follower("vi", "https://b.example/users/a").unwrap());
        assert_eq!(store.remove_followers_at("vi", "https://a.example/inbox").unwrap(), 1);
        assert_eq!(store.remove_follows_of("https://a.example/users/a").unwrap(), 1);
        assert!(store.followers(None).unwrap().is_empty());
    }
}
