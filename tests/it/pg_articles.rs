//! Articles in PostgreSQL (`[database] articles = true`), against the real
//! server, each test in a schema of its own (dropped at the end; skipped
//! with a visible line when PostgreSQL is unreachable, failing instead with
//! HERALD_REQUIRE_POSTGRES=1):
//! - a row written with SQL reads as the article a file with the same
//!   fields gives, body included;
//! - a bad row is a diagnostic naming the row and the column, and the rest
//!   still publishes;
//! - `import_folder` is idempotent, and `--delete-missing` soft-deletes the
//!   rows whose file is gone (and no row a CMS wrote);
//! - a build from the imported table is byte-identical to the build from
//!   the folder;
//! - the follower reports every change exactly once, also when two
//!   transactions commit out of the order of their sequence numbers, and
//!   catches up after its LISTEN connection was killed;
//! - `herald serve` on the table publishes a row inserted with SQL.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::common::postgres::TestDb;
use crate::common::*;
use herald::config::{Config, Overrides};
use herald::db::{Database, migrate};
use herald::pipeline;
use herald::store::postgres::follow::{self, Connect, FollowStatus, Follower};
use herald::store::postgres::import::import_folder;
use herald::store::postgres::{PostgresArticleStore, row_path};
use herald::store::{ArticleStore, FolderStore, Loaded};
use tokio::sync::{mpsc, watch};

/// Longest wait for something the database or the follower should do.
const PATIENCE: Duration = Duration::from_secs(10);

/// A migrated schema of its own, and the database connected to it.
fn migrated(name: &str) -> Option<(TestDb, Arc<Database>)> {
    let db = TestDb::create(name)?;
    let database = Arc::new(db.connect());
    database.block_on(migrate::migrate(&database)).unwrap();
    Some((db, database))
}

/// The sample newspaper's configuration (examples/store).
fn sample_config() -> Config {
    Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds.toml"), &Overrides::default()).unwrap()
}

/// A copy of examples/store in a temporary folder.
fn sample_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/store"), &root);
    (dir, root)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Imports `root` with `config`'s rules.
fn import(
    database: &Database,
    root: &Path,
    config: &Config,
    delete_missing: bool,
) -> herald::store::postgres::import::ImportReport {
    let folder = FolderStore::open(root).unwrap();
    let config = Arc::new(config.clone());
    database.block_on(async {
        let mut client = database.client().await.unwrap();
        import_folder(&mut client, folder, config, delete_missing).await.unwrap()
    })
}

#[test]
fn a_row_written_with_sql_reads_like_a_file() {
    let Some((db, database)) = migrated("round_trip") else { return };
    db.execute(
        r#"INSERT INTO articles (key, id, title, date, lastmod, publish_date, expiry_date, draft, summary, authors, tags,
                                 categories, section, language, slug, url, translation_key, images, sitemap, body, body_format)
           VALUES ('cms/1', 'tin-1', ' Lễ hội   Huế ', '2026-11-20 08:00:00+07', '2026-11-21 09:30:00+07',
                   '2026-11-20 07:00:00+07', '2027-01-01 00:00:00+07', false, 'Tóm tắt', '{"Trần An","Lê Bình"}',
                   '{lễ hội,Huế,Huế}', '{Văn hoá}', 'Thời sự', 'en', 'Le Hoi', NULL, 'le-hoi',
                   '[{"src": "/anh/1.jpg", "alt": "Ảnh"}, "2.jpg"]', false, '**Đậm** và <b>html</b>', 'markdown');
           INSERT INTO articles (key, title, date, section, body, body_format)
           VALUES ('cms/2', 'Hai', '2026-11-19 08:00:00+07', 'thoi-su', '<p>Đoạn <em>một</em></p>', 'html');"#,
    );
    let config = TempStore::new().config();
    let store = PostgresArticleStore::new(Arc::clone(&database));
    store.check().unwrap();
    let scan = store.scan(&config);
    assert!(scan.diagnostics.is_empty(), "{:?}", scan.diagnostics);
    assert_eq!(scan.documents, 2);
    let one = &scan.articles[0];
    assert_eq!(one.source.path, Path::new("articles:cms/1"));
    assert_eq!(one.id, "tin-1");
    assert_eq!(one.title, "Lễ hội Huế");
    assert_eq!(one.date, "2026-11-20T01:00:00Z".parse().unwrap());
    assert_eq!(one.lastmod, Some("2026-11-21T02:30:00Z".parse().unwrap()));
    assert_eq!(one.publish_date, Some("2026-11-20T00:00:00Z".parse().unwrap()));
    assert_eq!(one.expiry_date, Some("2026-12-31T17:00:00Z".parse().unwrap()));
    assert_eq!(one.summary, "Tóm tắt");
    assert_eq!(one.authors, ["Trần An", "Lê Bình"]);
    assert_eq!(one.tags, ["lễ hội", "Huế"]);
    assert_eq!(one.categories, ["Văn hoá"]);
    assert_eq!((one.section.as_str(), one.lang.as_str(), one.slug.as_str()), ("thoi-su", "en", "le-hoi"));
    assert_eq!(one.url, "https://example.vn/en/thoi-su/le-hoi/");
    assert_eq!(one.translation_key, "le-hoi");
    assert!(!one.in_sitemap);
    assert_eq!(one.images.len(), 2);
    assert_eq!(one.images[0].src, "https://example.vn/anh/1.jpg");
    assert_eq!(one.images[1].src, "https://example.vn/en/thoi-su/le-hoi/2.jpg");
    assert_eq!(store.body(one).unwrap(), "**Đậm** và <b>html</b>");

    let two = &scan.articles[1];
    assert_eq!(two.id, "vi/thoi-su/hai");
    assert_eq!(two.lang, "vi");
    assert_eq!(two.translation_key, "thoi-su/hai");
    assert_eq!(two.summary, "Đoạn một");
    assert_eq!(two.source.body_format, herald::article::BodyFormat::Html);

    // One row read again is the same article; a deleted row is gone, and
    // a DELETE only marks it (replicas must hear of it).
    match store.load(&row_path("cms/1"), &config) {
        Loaded::Article(again) => assert_eq!(*again, *one),
        other => panic!("{other:?}"),
    }
    db.execute("DELETE FROM articles WHERE key = 'cms/2'");
    assert!(matches!(store.load(&row_path("cms/2"), &config), Loaded::Gone));
    assert!(store.body(two).is_err());
    let count = query_count(&database, "SELECT count(*) FROM articles WHERE deleted_at IS NOT NULL");
    assert_eq!(count, 1, "DELETE soft-deletes");
    assert_eq!(store.scan(&config).documents, 1);
}

fn query_count(database: &Database, sql: &str) -> i64 {
    database.block_on(async { database.client().await.unwrap().query_one(sql, &[]).await.unwrap().get(0) })
}

#[test]
fn a_bad_row_is_a_diagnostic_naming_row_and_column_and_the_rest_publishes() {
    let Some((db, database)) = migrated("bad_rows") else { return };
    db.execute(
        r#"INSERT INTO articles (key, title, date, section) VALUES
             ('good/1', 'Tin tốt một', '2026-11-20 08:00:00+07', 'thoi-su'),
             ('good/2', 'Tin tốt hai', '2026-11-21 08:00:00+07', 'thoi-su'),
             ('bad/title', '   ', '2026-11-20 08:00:00+07', 'thoi-su'),
             ('bad/date', 'Không ngày', NULL, 'thoi-su'),
             ('bad/year', 'Năm 1850', '1850-01-01 00:00:00+00', 'thoi-su'),
             ('bad/section', 'Không mục', '2026-11-20 08:00:00+07', NULL);
           INSERT INTO articles (key, title, date, section, language) VALUES
             ('bad/language', 'Tiếng lạ', '2026-11-20 08:00:00+07', 'thoi-su', 'xx');
           INSERT INTO articles (key, title, date, section, images) VALUES
             ('bad/images', 'Ảnh hỏng', '2026-11-20 08:00:00+07', 'thoi-su', '[{"alt": "no src"}]');
           INSERT INTO articles (key, title, date, section, tags) VALUES
             ('bad/tags', 'Thẻ rỗng', '2026-11-20 08:00:00+07', 'thoi-su', ARRAY['a', NULL]);
           INSERT INTO articles (key, title, date, section, publish_date) VALUES
             ('bad/infinity', 'Vô hạn', '2026-11-20 08:00:00+07', 'thoi-su', 'infinity');"#,
    );
    let store = TempStore::new();
    let config = store.config();
    let articles = PostgresArticleStore::new(Arc::clone(&database));
    let built = pipeline::build(&articles, &config, now());
    let problems: Vec<String> =
        built.loaded.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.to_string()).collect();
    for (key, column) in [
        ("bad/title", "title"),
        ("bad/date", "date"),
        ("bad/year", "date"),
        ("bad/section", "section"),
        ("bad/language", "language"),
        ("bad/images", "images"),
        ("bad/tags", "tags"),
        ("bad/infinity", "publish_date"),
    ] {
        let prefix = format!("articles:{key}: error: column `{column}`: ");
        assert!(problems.iter().any(|p| p.starts_with(&prefix)), "no `{prefix}…` among {problems:#?}");
    }
    assert_eq!(problems.len(), 8, "{problems:#?}");
    assert_eq!(titles(&built, "/rss.xml"), ["Tin tốt hai", "Tin tốt một"]);
}

#[test]
fn import_is_idempotent_and_delete_missing_soft_deletes_only_files_gone() {
    let Some((db, database)) = migrated("import") else { return };
    let (_dir, root) = sample_copy();
    let config = sample_config();
    let documents = FolderStore::open(&root).unwrap().document_paths().0.len();
    assert!(documents > 20);

    let first = import(&database, &root, &config, false);
    assert_eq!((first.documents, first.inserted, first.updated, first.unchanged), (documents, documents, 0, 0));
    assert_eq!((first.skipped, first.deleted), (0, 0), "{:?}", first.problems);
    let seq = "SELECT max(change_seq) FROM articles";
    let stamped = query_count(&database, seq);

    // Nothing changed: nothing written, no new change for replicas.
    let again = import(&database, &root, &config, false);
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, documents));
    assert_eq!(query_count(&database, seq), stamped);

    // A row a CMS wrote, an edited file, a broken file, a deleted file.
    db.execute("INSERT INTO articles (key, title, date, section) VALUES ('cms/77', 'CMS', now(), 'thoi-su')");
    let edited = FolderStore::open(&root).unwrap().document_paths().0;
    let (edit, remove, break_it) = (&edited[0], &edited[1], &edited[2]);
    let text = std::fs::read_to_string(root.join(edit)).unwrap();
    std::fs::write(root.join(edit), format!("{text}\nMột đoạn mới.\n")).unwrap();
    std::fs::remove_file(root.join(remove)).unwrap();
    std::fs::write(root.join(break_it), "+++\ntitle = \"không đóng\"\n").unwrap();
    let third = import(&database, &root, &config, true);
    assert_eq!((third.inserted, third.updated, third.skipped, third.deleted), (0, 1, 1, 1), "{:?}", third.problems);
    assert_eq!(third.unchanged, documents - 3);
    let removed_key = remove.to_str().unwrap().replace('\\', "/");
    let gone = query_count(
        &database,
        &format!("SELECT count(*) FROM articles WHERE key = '{removed_key}' AND deleted_at IS NOT NULL"),
    );
    assert_eq!(gone, 1);
    // The CMS row and the broken file's last good row stay.
    let live = query_count(&database, "SELECT count(*) FROM articles WHERE deleted_at IS NULL");
    assert_eq!(live, documents as i64);

    // The file back: the row comes back.
    std::fs::write(root.join(remove), "+++\ntitle = \"Trở lại\"\ndate = 2026-11-20T08:00:00+07:00\n+++\nBody\n")
        .unwrap();
    let fourth = import(&database, &root, &config, true);
    assert_eq!((fourth.inserted, fourth.deleted), (1, 0));
}

#[test]
fn a_build_from_the_imported_table_is_byte_identical_to_the_folder_build() {
    let Some((_db, database)) = migrated("identical") else { return };
    let config = sample_config();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/store");
    let report = import(&database, &root, &config, false);
    assert_eq!(report.skipped, 0, "{:?}", report.problems);
    let from_folder = pipeline::build(&FolderStore::open(&root).unwrap(), &config, now());
    let from_table = pipeline::build(&PostgresArticleStore::new(Arc::clone(&database)), &config, now());
    assert!(from_folder.snapshot.len() > 10);
    let folder_files: Vec<(&String, &[u8])> = from_folder.snapshot.iter().map(|(p, r)| (p, r.body.as_ref())).collect();
    let table_files: Vec<(&String, &[u8])> = from_table.snapshot.iter().map(|(p, r)| (p, r.body.as_ref())).collect();
    assert_eq!(folder_files.len(), table_files.len());
    for ((path, bytes), (table_path, table_bytes)) in folder_files.iter().zip(&table_files) {
        assert_eq!(path, table_path);
        assert!(
            bytes == table_bytes,
            "{path} differs:\n--- folder\n{}\n--- table\n{}",
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(table_bytes)
        );
    }
    assert_eq!(from_folder.loaded.catalog.counts(), from_table.loaded.catalog.counts());
}

/// A runtime for the tests that follow the table (the test's schema is
/// dropped outside it).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// A follower of `database`'s table from now on, whose connections are
/// made only while `open` is true.
struct Following {
    changes: mpsc::UnboundedReceiver<Vec<PathBuf>>,
    status: watch::Receiver<FollowStatus>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Following {
    fn start(db: &TestDb, database: &Arc<Database>, open: Arc<AtomicBool>) -> Following {
        let store = PostgresArticleStore::new(Arc::clone(database));
        let from = store.watermark().unwrap();
        let real = follow::connector(Arc::clone(database), db.settings());
        let connect: Connect = Arc::new(move || {
            let real = Arc::clone(&real);
            let open = open.load(Ordering::SeqCst);
            Box::pin(async move { if open { real().await } else { Err("closed by the test".into()) } })
        });
        let (tx, changes) = mpsc::unbounded_channel();
        let follower = Follower::new(connect, from, tx);
        let status = follower.status();
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(follower.run(stop_rx));
        Following { changes, status, stop, task }
    }

    /// Waits until the follower's state satisfies `done`.
    async fn until(&mut self, what: &str, done: impl Fn(&FollowStatus) -> bool) {
        tokio::time::timeout(PATIENCE, self.status.wait_for(|s| done(s)))
            .await
            .unwrap_or_else(|_| panic!("the follower did not get {what} within {PATIENCE:?}"))
            .unwrap();
    }

    /// The next rows reported.
    async fn next(&mut self) -> Vec<String> {
        let paths = tokio::time::timeout(PATIENCE, self.changes.recv())
            .await
            .expect("no change reported in time")
            .expect("the follower stopped");
        paths.iter().map(|p| p.to_str().unwrap().to_string()).collect()
    }

    /// Nothing more is reported: the follower is told to look again
    /// (as the trigger would) and finds nothing new.
    async fn quiet(&mut self, database: &Database) {
        let seen = self.status.borrow().looks;
        let client = database.client().await.unwrap();
        client.execute("SELECT pg_notify('herald_articles', current_schema())", &[]).await.unwrap();
        self.until("one more look", |s| s.looks > seen).await;
        assert!(self.changes.try_recv().is_err(), "a change was reported twice");
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// T1 takes its sequence number (and transaction id) first, T2 second; T2
/// commits first and is reported; then T1 commits, with a sequence number
/// below one already seen: it must be reported too, and each once.
#[test]
fn changes_committed_out_of_sequence_order_are_all_reported_once() {
    let Some((db, database)) = migrated("out_of_order") else { return };
    runtime().block_on(out_of_order(&db, &database));
}

async fn out_of_order(db: &TestDb, database: &Arc<Database>) {
    let mut following = Following::start(db, database, Arc::new(AtomicBool::new(true)));
    following.until("connected", |s| s.connected).await;

    let mut first = database.client().await.unwrap();
    let mut second = database.client().await.unwrap();
    let t1 = first.transaction().await.unwrap();
    t1.execute("INSERT INTO articles (key, title, date, section) VALUES ('t1', 'Một', now(), 'thoi-su')", &[])
        .await
        .unwrap();
    let t2 = second.transaction().await.unwrap();
    t2.execute("INSERT INTO articles (key, title, date, section) VALUES ('t2', 'Hai', now(), 'thoi-su')", &[])
        .await
        .unwrap();
    t2.commit().await.unwrap();
    assert_eq!(following.next().await, ["articles:t2"]);
    t1.commit().await.unwrap();
    assert_eq!(following.next().await, ["articles:t1"]);
    let (seq1, seq2): (i64, i64) = {
        let row = first
            .query_one(
                "SELECT (SELECT change_seq FROM articles WHERE key = 't1'), (SELECT change_seq FROM articles WHERE key = 't2')",
                &[],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert!(seq1 < seq2, "t1 took the smaller sequence number ({seq1} vs {seq2})");
    // An update is one more change; nothing is reported twice.
    first.execute("UPDATE articles SET title = 'Một (sửa)' WHERE key = 't1'", &[]).await.unwrap();
    assert_eq!(following.next().await, ["articles:t1"]);
    following.quiet(database).await;
    following.stop().await;
}

/// The LISTEN connection is killed by the server; a row is inserted while
/// the follower cannot reconnect (its notification is lost with the
/// connection); once it can, it catches up from its watermark.
#[test]
fn a_killed_listen_connection_catches_up_from_the_watermark() {
    let Some((db, database)) = migrated("dropped_listen") else { return };
    runtime().block_on(killed_listen(&db, &database));
}

async fn killed_listen(db: &TestDb, database: &Arc<Database>) {
    let open = Arc::new(AtomicBool::new(true));
    let mut following = Following::start(db, database, Arc::clone(&open));
    following.until("connected", |s| s.connected).await;
    let pid = following.status.borrow().backend_pid.expect("the listening backend's pid");

    open.store(false, Ordering::SeqCst);
    let client = database.client().await.unwrap();
    let killed: bool = client.query_one("SELECT pg_terminate_backend($1)", &[&pid]).await.unwrap().get(0);
    assert!(killed);
    following.until("disconnected", |s| !s.connected).await;
    client
        .execute("INSERT INTO articles (key, title, date, section) VALUES ('late', 'Muộn', now(), 'thoi-su')", &[])
        .await
        .unwrap();
    open.store(true, Ordering::SeqCst);
    following.until("connected again", |s| s.connected && s.connections == 2).await;
    assert_eq!(following.next().await, ["articles:late"]);
    following.quiet(database).await;
    following.stop().await;
}

/// `herald serve` with `[database] articles = true`: a row inserted with
/// SQL is served (the latency is printed), a row broken with SQL is
/// reported while its last good version stays, and a row deleted with SQL
/// is withdrawn.
#[test]
fn serve_publishes_rows_written_with_sql() {
    use crate::common::process::Process;
    let Some((db, _database)) = migrated("serve") else { return };
    db.execute("INSERT INTO articles (key, title, date, section) VALUES ('cms/0', 'Tin cũ', now() - interval '1 day', 'thoi-su')");
    let mut store = TempStore::new();
    store.extra_config = format!("[database]\nurl = \"{}\"\narticles = true\n", db.url.secret());
    let mut herald = Process::start(&store.config_path(), &[]);
    assert!(herald.get("/rss.xml").contains("Tin cũ"));

    let inserted = std::time::Instant::now();
    db.execute("INSERT INTO articles (key, title, date, section) VALUES ('cms/1', 'Tin mới', now() - interval '1 minute', 'thoi-su')");
    wait_for_feed(&herald, "the inserted row", |feed| feed.contains("Tin mới"));
    eprintln!("a row inserted with SQL was served {:?} after its commit", inserted.elapsed());

    // A row broken by the CMS is reported by /healthz, naming the row and
    // the column; its last good version stays published.
    db.execute("UPDATE articles SET title = '  ' WHERE key = 'cms/1'");
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let health = herald.get("/healthz");
        if health.contains("articles:cms/1") {
            assert!(health.contains("column `title`"), "{health}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the broken row is not in /healthz:\n{health}");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(herald.get("/rss.xml").contains("Tin mới"));

    db.execute("DELETE FROM articles WHERE key = 'cms/0'");
    wait_for_feed(&herald, "the deleted row gone", |feed| !feed.contains("Tin cũ"));
    herald.signal("TERM");
    assert!(herald.wait().success());
}

fn wait_for_feed(herald: &crate::common::process::Process, what: &str, done: impl Fn(&str) -> bool) {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let feed = herald.get("/rss.xml");
        if done(&feed) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: not served within {PATIENCE:?}:\n{feed}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The commands: `herald db import` (twice: the second changes nothing),
/// then `herald build` and `herald check` from the table, whose output is
/// the folder build's, file for file.
#[test]
fn db_import_then_build_from_the_table_gives_the_folders_bytes() {
    use assert_cmd::Command;
    use predicates::prelude::*;
    let Some((db, _database)) = migrated("cli_import") else { return };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let herald = || {
        let mut command = Command::cargo_bin("herald").unwrap();
        command.env("HERALD_DATABASE_URL", db.url.secret()).env_remove("HERALD_LOG");
        command
    };
    let documents = FolderStore::open(&repo.join("examples/store")).unwrap().document_paths().0.len();
    herald()
        .args(["--config", "feeds.toml", "db", "import", "examples/store"])
        .current_dir(repo)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("{documents} documents: {documents} added, 0 updated, 0 unchanged")));
    herald()
        .args(["--config", "feeds.toml", "db", "import", "examples/store", "--delete-missing"])
        .current_dir(repo)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("0 added, 0 updated, {documents} unchanged, 0 skipped, 0 deleted")));

    let work = tempfile::tempdir().unwrap();
    let table_config = work.path().join("feeds.toml");
    let text = std::fs::read_to_string(repo.join("feeds.toml")).unwrap();
    std::fs::write(&table_config, format!("{text}\n[database]\narticles = true\n")).unwrap();
    let at = "--now=2026-11-26T12:00:00+07:00";
    let (from_folder, from_table) = (work.path().join("folder"), work.path().join("table"));
    herald()
        .args(["--config", "feeds.toml", "build", at, "--out"])
        .arg(&from_folder)
        .current_dir(repo)
        .assert()
        .success();
    herald().arg("--config").arg(&table_config).args(["build", at, "--out"]).arg(&from_table).assert().success();
    assert_same_tree(&from_folder, &from_table);
    herald()
        .arg("--config")
        .arg(&table_config)
        .args(["check", at])
        .assert()
        .stdout(predicate::str::contains(format!("{documents} documents: 0 error(s)")));
}

/// `a` and `b` hold the same files with the same bytes.
fn assert_same_tree(a: &Path, b: &Path) {
    fn files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let (mut left, mut right) = (Vec::new(), Vec::new());
    files(a, a, &mut left);
    files(b, b, &mut right);
    left.sort();
    right.sort();
    assert_eq!(left, right);
    assert!(left.len() > 10);
    for file in &left {
        assert!(
            std::fs::read(a.join(file)).unwrap() == std::fs::read(b.join(file)).unwrap(),
            "{} differs",
            file.display()
        );
    }
}
