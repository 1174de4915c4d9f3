//! `herald serve` as a process: signals and start-up errors.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;

const PATIENCE: Duration = Duration::from_secs(20);

/// A `herald serve` child process and its log lines.
struct Process {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
    addr: String,
}

impl Process {
    fn start(config: &std::path::Path) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(config)
            .env_remove("HERALD_LOG")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut process = Process { child, lines, log: Vec::new(), addr: String::new() };
        let line = process.wait_for_line("listening on http://");
        process.addr = line.split("http://").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
        process
    }

    /// Waits for a log line containing `needle`.
    fn wait_for_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no log line with {needle:?}; log so far:\n{}", self.log.join("\n")),
            }
        }
    }

    fn get(&self, path: &str) -> String {
        let mut stream = std::net::TcpStream::connect(&self.addr).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).unwrap();
        out
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill").args([&format!("-{name}"), &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    fn wait(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "herald did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SIGHUP with a broken feeds.toml logs why and keeps serving with the old
/// configuration; SIGHUP with a valid one switches; SIGTERM stops cleanly.
#[test]
fn sighup_reloads_only_a_valid_config() {
    let store = TempStore::new();
    store.article("thoi-su/a.vi.md", "A", "2026-11-20T08:00:00+07:00");
    let config = store.config_path();
    let good = std::fs::read_to_string(&config).unwrap();
    let mut herald = Process::start(&config);
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

/// A port that is taken is a clear start-up error, exit status 2.
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
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("127.0.0.1:{port}: error: cannot listen")), "{stderr}");
    assert!(stderr.contains("hint: another program (or another herald) uses this port"), "{stderr}");
}

/// A state folder that cannot be written is a clear start-up error.
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
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: cannot use the state folder"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
}
