//! The PostgreSQL infrastructure against a real server (each test in its
//! own schema; skipped with a visible line when PostgreSQL is unreachable,
//! required by `.ci/run`): migrations are versioned and applied once even
//! when replicas start together, a schema newer than this herald is
//! refused with the version to run, the password never shows, and
//! `herald db status` reports what the database holds.

use std::sync::Arc;

use assert_cmd::Command;
use herald::config::{DatabaseSettings, DatabaseUrl};
use herald::db::{Database, DbError, SCHEMA_VERSION, migrate, replicas, status};
use predicates::prelude::*;

use crate::common::TempStore;
use crate::common::postgres::TestDb;

fn herald() -> Command {
    let mut cmd = crate::common::herald();
    cmd.env_remove("HERALD_DATABASE_URL");
    cmd
}

/// Eight replicas starting at once: each version is applied once, every
/// starter ends on the current schema, and a second run does nothing.
#[test]
fn concurrent_starters_apply_each_migration_once() {
    let Some(db) = TestDb::create("concurrent_migrations") else { return };
    let starters: Vec<_> = (0..8)
        .map(|_| {
            let (url, settings) = (db.url.clone(), db.settings());
            std::thread::spawn(move || {
                let database = Database::connect(&url, &settings).unwrap();
                database.block_on(migrate::migrate(&database)).unwrap()
            })
        })
        .collect();
    let results: Vec<_> = starters.into_iter().map(|t| t.join().unwrap()).collect();
    let appliers = results.iter().filter(|r| !r.applied.is_empty()).count();
    assert_eq!(appliers, 1, "exactly one starter applies the migrations: {results:?}");
    assert!(results.iter().all(|r| r.to == SCHEMA_VERSION));
    let database = db.connect();
    let again = database.block_on(migrate::migrate(&database)).unwrap();
    assert!(again.applied.is_empty(), "{again:?}");
    let rows: i64 = database.block_on(async {
        let client = database.client().await.unwrap();
        client.query_one("SELECT count(*) FROM herald_migrations", &[]).await.unwrap().get(0)
    });
    assert_eq!(rows, i64::from(SCHEMA_VERSION));
    database.block_on(migrate::check(&database)).unwrap();
}

/// A schema migrated by a newer herald is refused by `db migrate` and by
/// `serve` (exit 2), naming both versions and the herald to run.
#[test]
fn a_newer_schema_is_refused_with_the_version_to_run() {
    let Some(db) = TestDb::create("newer_schema") else { return };
    let database = db.connect();
    database.block_on(migrate::migrate(&database)).unwrap();
    let future = SCHEMA_VERSION + 7;
    db.execute(&format!(
        "INSERT INTO herald_migrations (version, name, herald_version) VALUES ({future}, 'from_the_future', '9.9.9')"
    ));
    match database.block_on(migrate::migrate(&database)) {
        Err(DbError::SchemaNewer { found, known, written_by }) => {
            assert_eq!((found, known, written_by.as_str()), (future, SCHEMA_VERSION, "9.9.9"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let expected = format!("schema version {future} (written by herald 9.9.9)");
    herald()
        .args(["db", "migrate", "--database-url", db.url.secret()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(&expected).and(predicate::str::contains("run herald 9.9.9 or newer")));
    let store = TempStore::new();
    herald()
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(store.config_path())
        .arg("--state")
        .arg(store.root().join("state"))
        .env("HERALD_DATABASE_URL", db.url.secret())
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(&expected));
}

/// The password is in no message: not in a failed connection's error, not
/// in the command line's, not in the configuration's Debug.
#[test]
fn the_password_never_shows() {
    let url = DatabaseUrl::parse("postgresql://herald:Sekr1t-pw@127.0.0.1:1/test?connect_timeout=2").unwrap();
    let error = Database::connect(&url, &DatabaseSettings::default()).unwrap_err().to_string();
    assert!(error.contains("herald:***@127.0.0.1:1") && !error.contains("Sekr1t"), "{error}");
    let output = herald().args(["db", "status", "--database-url", url.secret()]).output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(printed.contains("***") && !printed.contains("Sekr1t"), "{printed}");
    // A malformed URL from the environment is not echoed either.
    let output =
        herald().args(["db", "status"]).env("HERALD_DATABASE_URL", "mysql://u:Sekr1t-pw@h/db").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("Sekr1t"));
    // Nor does --help show the variable's value.
    let help = herald().args(["db", "--help"]).env("HERALD_DATABASE_URL", url.secret()).output().unwrap();
    assert!(!String::from_utf8_lossy(&help.stdout).contains("Sekr1t"));
}

/// `herald db status`: version, counts, outbox depth, live replicas.
#[test]
fn db_status_reports_what_the_database_holds() {
    let Some(db) = TestDb::create("db_status") else { return };
    herald()
        .args(["db", "status", "--database-url", db.url.secret()])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("schema version:  0 (this herald uses {SCHEMA_VERSION}")));
    herald()
        .args(["db", "migrate", "--database-url", db.url.secret()])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("→ {SCHEMA_VERSION}")));
    db.execute(
        "INSERT INTO subscriptions (topic, callback, host, lease_seconds, expires_at, created_at, renewed_at)
             VALUES ('t', 'https://a/cb', 'a', 60, 9999999999, 0, 0), ('t', 'https://b/cb', 'b', 60, 9999999999, 0, 0);
         INSERT INTO outbox (kind, target, host, topic, next_attempt_at, created_at, failed)
             VALUES ('websub.deliver', 'https://a/cb', 'a', 't', 0, 0, false),
                    ('websub.deliver', 'https://b/cb', 'b', 't', 0, 0, false),
                    ('webhook', 'https://c/h', 'c', 'bot', 0, 0, true);",
    );
    let database = Arc::new(db.connect());
    let replica = replicas::ReplicaId::this_process();
    database.block_on(replicas::beat(&database, &replica, "127.0.0.1:8080")).unwrap();
    let status = database.block_on(status::status(&database)).unwrap();
    assert_eq!(
        (status.schema_version, status.subscriptions, status.outbox_pending, status.outbox_failed),
        (SCHEMA_VERSION, 2, 2, 1)
    );
    assert_eq!(status.replicas.len(), 1);
    herald().args(["db", "status", "--database-url", db.url.secret()]).assert().success().stdout(
        predicate::str::contains(format!("schema version:  {SCHEMA_VERSION} (current)"))
            .and(predicate::str::contains("subscriptions:   2"))
            .and(predicate::str::contains("outbox:          2 pending (0 claimed now), 1 failed"))
            .and(predicate::str::contains("replicas seen in the last 60 s: 1"))
            .and(predicate::str::contains(&replica.id)),
    );
    database.block_on(replicas::leave(&database, &replica)).unwrap();
    assert!(database.block_on(status::status(&database)).unwrap().replicas.is_empty());
}
