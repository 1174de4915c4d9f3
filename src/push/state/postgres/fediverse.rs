//! The fediverse in PostgreSQL: each actor's private key (made once by
//! whichever replica needs it first, never replaced: the first insert
//! wins and every replica signs with that one) and who follows which
//! actor (a follow accepted through one replica is delivered to by all).

use deadpool_postgres::Client;
use jiff::Timestamp;
use tokio_postgres::{Error, Row};

use super::{instant, seconds};
use crate::push::state::Follower;

/// The stored private key of `actor`, if any.
pub(super) async fn actor_key(client: &mut Client, actor: &str) -> Result<Option<String>, Error> {
    Ok(client.query_opt("SELECT private_pem FROM ap_keys WHERE actor = $1", &[&actor]).await?.map(|r| r.get(0)))
}

/// Stores `pem` for `actor` unless it has a key, and returns the one kept.
pub(super) async fn keep_actor_key(
    client: &mut Client,
    actor: &str,
    pem: &str,
    now: Timestamp,
) -> Result<String, Error> {
    let tx = client.transaction().await?;
    tx.execute(
        "INSERT INTO ap_keys (actor, private_pem, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        &[&actor, &pem, &seconds(now)],
    )
    .await?;
    let kept: String = tx.query_one("SELECT private_pem FROM ap_keys WHERE actor = $1", &[&actor]).await?.get(0);
    tx.commit().await?;
    Ok(kept)
}

/// Adds `f`, or renews its inboxes and follow id.
pub(super) async fn add_follower(client: &mut Client, f: &Follower) -> Result<(), Error> {
    client
        .execute(
            "INSERT INTO ap_followers (actor, follower, inbox, shared_inbox, follow_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (actor, follower) DO UPDATE SET inbox = excluded.inbox,
                 shared_inbox = excluded.shared_inbox, follow_id = excluded.follow_id",
            &[&f.actor, &f.follower, &f.inbox, &f.shared_inbox, &f.follow_id, &seconds(f.created_at)],
        )
        .await?;
    Ok(())
}

/// Removes the follow of `follower` on `actor`.
pub(super) async fn remove_follower(client: &mut Client, actor: &str, follower: &str) -> Result<bool, Error> {
    Ok(client.execute("DELETE FROM ap_followers WHERE actor = $1 AND follower = $2", &[&actor, &follower]).await? > 0)
}

/// Removes every follow of `follower`.
pub(super) async fn remove_follows_of(client: &mut Client, follower: &str) -> Result<usize, Error> {
    Ok(client.execute("DELETE FROM ap_followers WHERE follower = $1", &[&follower]).await? as usize)
}

/// Removes the followers of `actor` delivered at `inbox`.
pub(super) async fn remove_followers_at(client: &mut Client, actor: &str, inbox: &str) -> Result<usize, Error> {
    Ok(client
        .execute("DELETE FROM ap_followers WHERE actor = $1 AND COALESCE(shared_inbox, inbox) = $2", &[&actor, &inbox])
        .await? as usize)
}

fn row_to_follower(r: &Row) -> Follower {
    Follower {
        actor: r.get(0),
        follower: r.get(1),
        inbox: r.get(2),
        shared_inbox: r.get(3),
        follow_id: r.get(4),
        created_at: instant(r.get(5)),
    }
}

/// The followers of `actor` (every actor's when `None`).
pub(super) async fn followers(client: &mut Client, actor: Option<&str>) -> Result<Vec<Follower>, Error> {
    let rows = client
        .query(
            "SELECT actor, follower, inbox, shared_inbox, follow_id, created_at FROM ap_followers
             WHERE $1::text IS NULL OR actor = $1 ORDER BY actor, follower",
            &[&actor],
        )
        .await?;
    Ok(rows.iter().map(row_to_follower).collect())
}

/// Followers per actor.
pub(super) async fn follower_counts(client: &mut Client) -> Result<Vec<(String, u64)>, Error> {
    let rows = client.query("SELECT actor, count(*) FROM ap_followers GROUP BY actor ORDER BY actor", &[]).await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get::<_, i64>(1).max(0) as u64)).collect())
}
