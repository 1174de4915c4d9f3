//! A fresh PostgreSQL schema per test, dropped when the test ends.
//!
//! The server is `HERALD_TEST_DATABASE_URL`, else the one every machine of
//! this project runs (`postgresql://postgres@127.0.0.1:5432/test`, trust
//! authentication). When it cannot be reached, [`TestDb::create`] prints
//! `skipped: …` and returns `None` — unless `HERALD_REQUIRE_POSTGRES=1`
//! (as `.ci/run` sets), where the test fails instead.
//!
//! Each test gets its own schema, named after it, and a URL whose
//! `options=-c search_path=SCHEMA` puts every herald table there: tests run
//! in parallel without seeing each other's rows.

use std::sync::atomic::{AtomicU32, Ordering};

use herald::config::{DatabaseSettings, DatabaseUrl};
use herald::db::Database;

/// The server tests use when `HERALD_TEST_DATABASE_URL` is not set.
pub const DEFAULT_URL: &str = "postgresql://postgres@127.0.0.1:5432/test";

/// A schema of its own for one test.
pub struct TestDb {
    /// The URL herald connects with: the test's schema is its search path.
    pub url: DatabaseUrl,
    /// The schema's name.
    pub schema: String,
    /// The server's URL (no search path), for the clean-up.
    base: String,
}

impl TestDb {
    /// The rows of `sql` on a connection of its own (simple query
    /// protocol: every value as text, NULL as "").
    pub async fn text_rows(&self, sql: &str) -> Vec<Vec<String>> {
        let config: tokio_postgres::Config = self.url.as_url().as_str().parse().unwrap();
        let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
        let driver = tokio::spawn(connection);
        let mut out = Vec::new();
        for message in client.simple_query(sql).await.unwrap() {
            if let tokio_postgres::SimpleQueryMessage::Row(row) = message {
                out.push((0..row.len()).map(|i| row.get(i).unwrap_or("").to_string()).collect());
            }
        }
        drop(client);
        let _ = driver.await;
        out
    }

    /// A new, empty schema for test `name`; `None` (with a visible
    /// "skipped" line) when PostgreSQL is unreachable and not required.
    pub fn create(name: &str) -> Option<TestDb> {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let base = std::env::var("HERALD_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_string());
        let slug: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).take(30).collect();
        let schema = format!("herald_t{}_{}_{slug}", std::process::id(), COUNT.fetch_add(1, Ordering::Relaxed));
        match admin(&base, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")) {
            Ok(()) => {}
            Err(why) => {
                assert!(
                    std::env::var("HERALD_REQUIRE_POSTGRES").map_or(true, |v| v != "1"),
                    "HERALD_REQUIRE_POSTGRES=1 but PostgreSQL is unreachable at {base}: {why}\n\
                     start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
                );
                // Written past the test harness's capture, so that a skip
                // shows in a plain `cargo test` run.
                use std::io::Write;
                let _ = writeln!(std::io::stderr(), "skipped {name}: PostgreSQL is not reachable at {base} ({why})");
                return None;
            }
        }
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = DatabaseUrl::parse(&format!("{base}{separator}options=-c%20search_path%3D{schema}")).unwrap();
        Some(TestDb { url, schema, base })
    }

    /// Settings for this schema: a small pool, short timeouts.
    pub fn settings(&self) -> DatabaseSettings {
        DatabaseSettings {
            url: Some(self.url.clone()),
            pool_size: 4,
            connect_timeout: std::time::Duration::from_secs(5),
            ..DatabaseSettings::default()
        }
    }

    /// A connected pool on this schema (not migrated).
    pub fn connect(&self) -> Database {
        Database::connect(&self.url, &self.settings()).unwrap()
    }

    /// Runs `sql` (several statements) in this schema.
    pub fn execute(&self, sql: &str) {
        admin(&self.base, &format!("SET search_path = {}; {sql}", self.schema)).unwrap();
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Err(why) = admin(&self.base, &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema)) {
            eprintln!("could not drop the test schema {}: {why}", self.schema);
        }
    }
}

/// Runs `sql` on the server of `url`, on a connection of its own.
fn admin(url: &str, sql: &str) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let mut config: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| e.to_string())?;
        config.connect_timeout(std::time::Duration::from_secs(3));
        let (client, connection) = config.connect(tokio_postgres::NoTls).await.map_err(|e| e.to_string())?;
        let driver = tokio::spawn(connection);
        let result = client.batch_execute(sql).await.map_err(|e| e.to_string());
        drop(client);
        let _ = driver.await;
        result
    })
}
