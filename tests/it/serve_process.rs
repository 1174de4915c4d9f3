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
