//! `herald serve` as a process: signals and start-up errors.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::process::{PATIENCE, Process};
use crate::common::*;

/// SIGHUP with a broken feeds.toml logs why and keeps serving with the old
/// configuration; SIGHUP with a valid one switches; SIGTERM stops cleanly.
#[test]
fn sighup_reloads_only_a_valid_config() {
    let store = TempStore::new();
    store.article("thoi-su/a.vi.md", "A", "2026-11-20T08:00:00+07:00");
    let config = store.config_path();
    let good = std::fs::read_to_string(&config).unwrap();
    let mut herald = Process::start(&config, &[]);
    assert!(herald.get("/vi/rss.xml").contains("<title>Báo Mẫu</title>"));

    std::fs::write(&config, good.replace("default_language = \"vi\"", "default_language = \"fr\"")).unwrap();
    herald.signal("HUP");
    let line = herald.wait_for_line("was not reloaded");
    assert!(line.contains("the previous one stays in force"), "{line}");
    let detail = herald.wait_for_line("default language `fr` is not declared");
    assert!(detail.contains("feeds.toml:"), "{detail}");
    assert!(herald.get("/vi/rss.xml").contains("<title>Báo Mẫu</title>"), "still serving the old site");

    std::fs::write(&config, good.replace("Báo Mẫu", "Báo Đã Đổi")).unwrap();
    herald.signal("HUP");
    herald.wait_for_line("configuration reloaded");
    let deadline = Instant::now() + PATIENCE;
    while !herald.get("/vi/rss.xml").contains("<title>Báo Đã Đổi</title>") {
        assert!(Instant::now() < deadline, "the new title never showed");
        std::thread::sleep(Duration::from_millis(20));
    }

    herald.signal("TERM");
    assert!(herald.wait().success());
    herald.wait_for_line("stopped");
}

/// A port that is taken is a clear start-up error, exit status 3 (the work
/// failed: the configuration is fine, the system refused).
#[test]
fn port_in_use_is_explained() {
    let store = TempStore::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--config"])
        .arg(store.config_path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("127.0.0.1:{port}: error: cannot listen")), "{stderr}");
    assert!(stderr.contains("hint: another program (or another herald) uses this port"), "{stderr}");
}

/// A state folder that cannot be created is a clear start-up error, exit
/// status 3.
#[test]
fn unwritable_state_folder_is_explained() {
    let store = TempStore::new();
    let blocker = store.dir.path().join("not-a-folder");
    std::fs::write(&blocker, "a file where the state folder should be").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["serve", "--listen", "127.0.0.1:0", "--state"])
        .arg(&blocker)
        .arg("--config")
        .arg(store.config_path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: cannot use the state folder"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
}

/// A zero-byte state database is refused with what to do, and left as it
/// was; `--init-state` initialises it; a missing one is a first start.
#[test]
fn an_empty_state_database_is_refused_unless_initialising() {
    let store = TempStore::new();
    let config = store.config_path();
    let state = store.dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let database = state.join("herald.sqlite3");
    std::fs::write(&database, b"").unwrap();

    // Not `output()`: a herald that accepted the file would serve forever.
    let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .env_remove("HERALD_LOG")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + PATIENCE;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("herald started on an empty state database");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("{}: error: the state database is empty", database.display())), "{stderr}");
    assert!(stderr.contains("herald serve --init-state"), "{stderr}");
    assert_eq!(std::fs::metadata(&database).unwrap().len(), 0, "the refused file was written to");

    let mut herald = Process::start(&config, &["--init-state"]);
    assert!(herald.get("/healthz").contains("200 OK"));
    herald.signal("TERM");
    assert!(herald.wait().success());
    assert!(std::fs::metadata(&database).unwrap().len() > 0);

    // Once initialised, it is herald's: no flag needed.
    let mut herald = Process::start(&config, &[]);
    herald.signal("TERM");
    assert!(herald.wait().success());
}

/// SIGTERM stops herald gracefully: a request already in its hands (a
/// subscription whose body is still on its way, answered `100 Continue`)
/// is finished after the signal, then herald exits 0.
#[test]
fn sigterm_finishes_requests_in_flight() {
    use std::io::{Read, Write};
    let store = TempStore::new();
    store.article("thoi-su/a.vi.md", "A", "2026-11-20T08:00:00+07:00");
    let mut herald = Process::start(&store.config_path(), &["--allow-private-callbacks"]);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.topic", "https://example.vn/vi/rss.xml")
        .append_pair("hub.callback", "http://127.0.0.1:9/cb")
        .finish();
    let mut stream = std::net::TcpStream::connect(&herald.addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "POST /websub HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    // 100 Continue comes when the hub starts reading the body: the
    // request is in flight.
    let mut interim = Vec::new();
    let mut byte = [0u8; 1];
    while !interim.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "closed before 100 Continue");
        interim.push(byte[0]);
    }
    assert!(interim.starts_with(b"HTTP/1.1 100 Continue"), "{}", String::from_utf8_lossy(&interim));

    herald.signal("TERM");
    herald.wait_for_line("finishing requests in flight");
    stream.write_all(body.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 202 Accepted"), "{response:?}");
    assert!(herald.wait().success());
    herald.wait_for_line("stopped");
}
