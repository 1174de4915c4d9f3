//! A failing push store is not a healthy daemon: with its state file unable
//! to grow (a full disk), `/healthz` says `degraded` and why, and `ok` again
//! once the file can grow.

use std::time::{Duration, Instant};

use crate::common::process::{PATIENCE, Process};
use crate::common::*;

/// The JSON body of `/healthz`.
fn health(herald: &Process) -> serde_json::Value {
    let response = herald.get("/healthz");
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {response}"))
}

/// A subscription request over a fresh connection: its status line.
fn subscribe(herald: &Process, callback: &str) -> String {
    use std::io::{Read, Write};
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.topic", "https://example.vn/vi/rss.xml")
        .append_pair("hub.callback", callback)
        .finish();
    let mut stream = std::net::TcpStream::connect(&herald.addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "POST /websub HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    out.lines().next().unwrap_or_default().to_string()
}

#[test]
fn a_full_disk_under_the_push_store_is_degraded_health() {
    let mut store = TempStore::new();
    store.extra_config = "[websub]\nallow_private_callbacks = true\nsubscribe_rate_per_minute = 100000\n".into();
    store.article("thoi-su/a.vi.md", "A", "2026-11-20T08:00:00+07:00");
    let config = store.config_path();
    let mut herald = Process::start_with_file_size_limit(&config, &[], 512 * 1024);
    assert_eq!(health(&herald)["status"], "ok");

    // Callbacks nobody answers: each request and each failed attempt is a
    // write, until the state file cannot grow.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let refused = (0..2000)
        .map(|i| subscribe(&herald, &format!("http://127.0.0.1:{port}/cb/{i}")))
        .find(|status| !status.contains("202"));
    // The hub could not queue it: the store failed.
    let refused = refused.expect("the state file never filled up");
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");

    let report = health(&herald);
    assert_eq!(report["status"], "degraded", "{report:#}");
    let problem = report["problems"][0].as_str().unwrap_or_default();
    assert!(problem.contains("push store") && problem.contains("herald.sqlite3"), "{report:#}");

    herald.lift_file_size_limit();
    let deadline = Instant::now() + PATIENCE;
    while health(&herald)["status"] != "ok" {
        assert!(Instant::now() < deadline, "still degraded: {:#}", health(&herald));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(subscribe(&herald, &format!("http://127.0.0.1:{port}/cb/again")).contains("202"));
    herald.signal("TERM");
    assert!(herald.wait().success());
}
