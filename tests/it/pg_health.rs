//! `/healthz` of a replica that follows the `articles` table: `degraded`,
//! with the reason, while its LISTEN connection is lost (terminated by the
//! server with `pg_terminate_backend`, and kept from reconnecting by a
//! loopback proxy the test closes); `ok` again once it has reconnected and
//! caught up, with the row written meanwhile published.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::TempStore;
use crate::common::postgres::TestDb;
use crate::common::process::{PATIENCE, Process};

/// A loopback TCP proxy to the database that forwards connections while
/// `open`, and refuses new ones (closes them at once) while not; the
/// connections it forwards meanwhile stay up.
struct Gate {
    port: u16,
    open: Arc<AtomicBool>,
}

impl Gate {
    fn start(runtime: &tokio::runtime::Runtime, upstream: String) -> Gate {
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        let gate = Arc::clone(&open);
        runtime.spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !gate.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Gate { port, open }
    }
}

/// The first column of the rows of `sql`, as text, run on a connection of
/// its own (not through the gate).
fn column(runtime: &tokio::runtime::Runtime, db: &TestDb, sql: &str) -> Vec<String> {
    runtime.block_on(db.text_rows(sql)).into_iter().map(|mut row| row.swap_remove(0)).collect()
}

/// The JSON body of `/healthz`.
fn health(herald: &Process) -> serde_json::Value {
    let response = herald.get("/healthz");
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {response}"))
}

/// Polls `/healthz` (bounded) until `done` holds; returns that report.
fn until(herald: &Process, what: &str, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let report = health(herald);
        if done(&report) {
            return report;
        }
        assert!(Instant::now() < deadline, "{what}: not within {PATIENCE:?}; /healthz:\n{report:#}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn lost(report: &serde_json::Value) -> bool {
    report["status"] == "degraded"
        && report["problems"].as_array().is_some_and(|problems| {
            problems.iter().any(|p| p.as_str().unwrap_or("").contains("lost the database connection that follows"))
        })
}

#[test]
fn a_lost_listen_connection_is_degraded_health_until_it_is_back_and_caught_up() {
    let Some(db) = TestDb::create("pg_health") else { return };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let direct = db.url.as_url();
    let upstream = format!("{}:{}", direct.host_str().unwrap(), direct.port().unwrap_or(5432));
    let gate = Gate::start(&runtime, upstream);
    // herald connects through the gate, under a name of its own: its
    // LISTEN connection is then "<name> listen" in pg_stat_activity.
    let name = format!("herald_health_{}", std::process::id());
    let mut url = direct.clone();
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(gate.port)).unwrap();
    url.query_pairs_mut().append_pair("application_name", &name);
    let mut store = TempStore::new();
    store.extra_config = format!("[database]\nurl = \"{url}\"\narticles = true\npool_size = 4\n");
    let mut herald = Process::start(&store.config_path(), &[]);
    until(&herald, "ok at start", |report| report["status"] == "ok");

    // The connection is cut and cannot be made again.
    gate.open.store(false, Ordering::SeqCst);
    let listen = format!("{name} listen");
    let killed = column(
        &runtime,
        &db,
        &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{listen}'"),
    );
    assert_eq!(killed, ["t"], "exactly one listening connection named {listen:?}");
    let report = until(&herald, "degraded once the connection is lost", lost);
    assert!(!report.to_string().contains("postgres@"), "no URL in the report: {report:#}");

    // A row written meanwhile: its notification is lost with the
    // connection; the replica stays degraded while it cannot reconnect.
    db.execute("INSERT INTO articles (key, title, date, section) VALUES ('cms/late', 'Tin muộn', now() - interval '1 minute', 'thoi-su')");
    assert!(lost(&health(&herald)), "{:#}", health(&herald));

    // Back: reconnected, caught up from the watermark, the row published.
    gate.open.store(true, Ordering::SeqCst);
    until(&herald, "ok once reconnected and caught up", |report| report["status"] == "ok");
    let deadline = Instant::now() + PATIENCE;
    while !herald.get("/rss.xml").contains("Tin muộn") {
        assert!(Instant::now() < deadline, "the row written while disconnected is not served");
        std::thread::sleep(Duration::from_millis(20));
    }
    herald.signal("TERM");
    assert!(herald.wait().success());
}
