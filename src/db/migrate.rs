//! The schema's versions and the runner that applies them.
//!
//! Each version is a numbered SQL file in `src/db/migrations/` (see its
//! README), compiled in. [`migrate`] applies the pending ones in one
//! transaction that first takes a transaction-scoped advisory lock: when
//! several replicas start at once, one applies them and the others wait,
//! then find nothing left to do. The table `herald_migrations` records
//! each version applied, when, and by which herald.

use deadpool_postgres::GenericClient;

use super::{Database, DbError, Result};

/// One version of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its number (the file's prefix).
    pub version: i32,
    /// What it does (the file's name after the number).
    pub name: &'static str,
    /// The SQL.
    pub sql: &'static str,
}

/// Every version, in order. Append a line when adding a file.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "push_state", sql: include_str!("migrations/0001_push_state.sql") },
    Migration { version: 2, name: "articles", sql: include_str!("migrations/0002_articles.sql") },
];

/// The newest version this herald knows.
pub const SCHEMA_VERSION: i32 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// The advisory lock's name, hashed with the schema's name (so tests in
/// their own schemas do not wait for each other).
const LOCK_NAME: &str = "herald.migrate";

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS herald_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    herald_version TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)";

/// What [`migrate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    /// The version found.
    pub from: i32,
    /// The version now.
    pub to: i32,
    /// The versions this call applied (empty when another replica had).
    pub applied: Vec<i32>,
}

/// The schema's version (0 when herald's tables are not there), and the
/// herald that wrote the newest version.
pub async fn version(client: &impl GenericClient) -> std::result::Result<(i32, String), tokio_postgres::Error> {
    let exists: bool = client.query_one("SELECT to_regclass('herald_migrations') IS NOT NULL", &[]).await?.get(0);
    if !exists {
        return Ok((0, String::new()));
    }
    let row = client
        .query_opt("SELECT version, herald_version FROM herald_migrations ORDER BY version DESC LIMIT 1", &[])
        .await?;
    Ok(row.map_or((0, String::new()), |r| (r.get(0), r.get(1))))
}

/// Brings the schema to [`SCHEMA_VERSION`], safe to run from several
/// replicas at once; refuses a schema newer than this herald knows.
pub async fn migrate(database: &Database) -> Result<Migrated> {
    let mut client = database.client().await?;
    let tx = client.transaction().await.map_err(|e| database.error(e))?;
    tx.execute("SELECT pg_advisory_xact_lock(hashtextextended($1 || current_schema(), 0))", &[&LOCK_NAME])
        .await
        .map_err(|e| database.error(e))?;
    tx.batch_execute(CREATE_TABLE).await.map_err(|e| database.error(e))?;
    let (from, written_by) = version(&tx).await.map_err(|e| database.error(e))?;
    if from > SCHEMA_VERSION {
        return Err(DbError::SchemaNewer { found: from, known: SCHEMA_VERSION, written_by });
    }
    let mut applied = Vec::new();
    for migration in MIGRATIONS.iter().filter(|m| m.version > from) {
        tx.batch_execute(migration.sql).await.map_err(|e| {
            DbError::Failed(format!(
                "{}: migration {:04}_{} failed (nothing was changed): {}",
                database.url(),
                migration.version,
                migration.name,
                database.url().scrub(&e.to_string())
            ))
        })?;
        tx.execute(
            "INSERT INTO herald_migrations (version, name, herald_version) VALUES ($1, $2, $3)",
            &[&migration.version, &migration.name, &env!("CARGO_PKG_VERSION")],
        )
        .await
        .map_err(|e| database.error(e))?;
        applied.push(migration.version);
    }
    tx.commit().await.map_err(|e| database.error(e))?;
    if !applied.is_empty() {
        tracing::info!("database schema migrated from version {from} to {SCHEMA_VERSION}");
    }
    Ok(Migrated { from, to: from.max(SCHEMA_VERSION), applied })
}

/// Checks that the schema is the one this herald uses: newer and older are
/// errors that say what to run.
pub async fn check(database: &Database) -> Result<()> {
    let client = database.client().await?;
    let (found, written_by) = version(&client).await.map_err(|e| database.error(e))?;
    match found.cmp(&SCHEMA_VERSION) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Greater => Err(DbError::SchemaNewer { found, known: SCHEMA_VERSION, written_by }),
        std::cmp::Ordering::Less => Err(DbError::SchemaOlder { found, known: SCHEMA_VERSION }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of `migrations/` is listed, numbered from 1 without
    /// gaps, and named as listed.
    #[test]
    fn every_migration_file_is_listed_in_order() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/db/migrations");
        let mut files: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS.iter().map(|m| format!("{:04}_{}.sql", m.version, m.name)).collect();
        assert_eq!(files, listed, "add each file of src/db/migrations to MIGRATIONS");
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i32 + 1, "versions are numbered 1, 2, 3 … without gaps");
        }
    }
}
