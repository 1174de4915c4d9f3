//! What `herald db status` shows: the schema's version, how many
//! articles and subscriptions there are, how deep the outbox is, and
//! which replicas were seen recently.

use std::fmt;

use super::migrate::{SCHEMA_VERSION, version};
use super::replicas::RECENT_SECONDS;
use super::{Database, Result};

/// One replica's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaSeen {
    /// Its id (`hostname:pid:start`).
    pub id: String,
    /// Its listening address.
    pub listen: String,
    /// Its herald version.
    pub version: String,
    /// Seconds since its last heartbeat.
    pub seen_seconds_ago: i64,
}

/// The state of the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The URL, redacted.
    pub url: String,
    /// The schema's version (0: no herald tables).
    pub schema_version: i32,
    /// The version this herald uses.
    pub known_version: i32,
    /// Rows of the articles table, when it exists.
    pub articles: Option<i64>,
    /// WebSub subscriptions.
    pub subscriptions: i64,
    /// Jobs waiting in the outbox (claimed ones included).
    pub outbox_pending: i64,
    /// Of those, claimed by a replica now.
    pub outbox_claimed: i64,
    /// Jobs given up.
    pub outbox_failed: i64,
    /// Replicas seen in the last minute.
    pub replicas: Vec<ReplicaSeen>,
}

/// Reads the status of `database`.
pub async fn status(database: &Database) -> Result<Status> {
    let client = database.client().await?;
    let e = |e| database.error(e);
    let (schema_version, _) = version(&client).await.map_err(e)?;
    let exists = |table: &'static str| {
        let client = &client;
        async move { client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&table]).await.map(|r| r.get::<_, bool>(0)) }
    };
    let count = |sql: &'static str| {
        let client = &client;
        async move { client.query_one(sql, &[]).await.map(|r| r.get::<_, i64>(0)) }
    };
    let articles = if exists("articles").await.map_err(e)? {
        Some(count("SELECT count(*) FROM articles WHERE deleted_at IS NULL").await.map_err(e)?)
    } else {
        None
    };
    let (mut subscriptions, mut outbox_pending, mut outbox_claimed, mut outbox_failed) = (0, 0, 0, 0);
    let mut replicas = Vec::new();
    if exists("outbox").await.map_err(e)? {
        subscriptions = count("SELECT count(*) FROM subscriptions").await.map_err(e)?;
        outbox_pending = count("SELECT count(*) FROM outbox WHERE NOT failed").await.map_err(e)?;
        outbox_claimed =
            count("SELECT count(*) FROM outbox WHERE NOT failed AND claimed_until > now()").await.map_err(e)?;
        outbox_failed = count("SELECT count(*) FROM outbox WHERE failed").await.map_err(e)?;
        let rows = client
            .query(
                "SELECT id, listen, version, floor(extract(epoch FROM now() - seen_at))::bigint FROM replicas
                 WHERE seen_at > now() - make_interval(secs => $1) ORDER BY id",
                &[&(RECENT_SECONDS as f64)],
            )
            .await
            .map_err(e)?;
        replicas = rows
            .iter()
            .map(|r| ReplicaSeen { id: r.get(0), listen: r.get(1), version: r.get(2), seen_seconds_ago: r.get(3) })
            .collect();
    }
    Ok(Status {
        url: database.url().to_string(),
        schema_version,
        known_version: SCHEMA_VERSION,
        articles,
        subscriptions,
        outbox_pending,
        outbox_claimed,
        outbox_failed,
        replicas,
    })
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "database:        {}", self.url)?;
        let verdict = match self.schema_version.cmp(&self.known_version) {
            std::cmp::Ordering::Equal => "current".to_string(),
            std::cmp::Ordering::Less => format!("this herald uses {}: run `herald db migrate`", self.known_version),
            std::cmp::Ordering::Greater => format!("newer than this herald ({})", self.known_version),
        };
        writeln!(f, "schema version:  {} ({verdict})", self.schema_version)?;
        match self.articles {
            Some(n) => writeln!(f, "articles:        {n}")?,
            None => writeln!(f, "articles:        (no articles table: articles come from the store folder)")?,
        }
        writeln!(f, "subscriptions:   {}", self.subscriptions)?;
        writeln!(
            f,
            "outbox:          {} pending ({} claimed now), {} failed",
            self.outbox_pending, self.outbox_claimed, self.outbox_failed
        )?;
        writeln!(f, "replicas seen in the last {RECENT_SECONDS} s: {}", self.replicas.len())?;
        for r in &self.replicas {
            writeln!(f, "  {}  {}  herald {}  {} s ago", r.id, r.listen, r.version, r.seen_seconds_ago)?;
        }
        Ok(())
    }
}
