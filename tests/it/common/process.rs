//! A `herald serve` child process for tests: started on an ephemeral
//! loopback port, its log read line by line, stopped when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Longest wait for a child process.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A `herald serve` child process and its log lines.
pub struct Process {
    /// The child.
    pub child: Child,
    /// Its address, from its log.
    pub addr: String,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Process {
    /// Starts `herald serve --config CONFIG` (plus `extra` arguments) on an
    /// ephemeral loopback port and waits until it listens.
    pub fn start(config: &std::path::Path, extra: &[&str]) -> Process {
        Process::spawn(Process::command(config, extra))
    }

    /// Like [`Process::start`], but the files herald writes may not grow
    /// past `bytes` (as on a full disk: a write beyond fails, instead of
    /// the default SIGXFSZ) until [`Process::lift_file_size_limit`].
    #[cfg(target_os = "linux")]
    pub fn start_with_file_size_limit(config: &std::path::Path, extra: &[&str], bytes: u64) -> Process {
        use std::os::unix::process::CommandExt;
        let mut command = Process::command(config, extra);
        // SAFETY: setrlimit and signal are async-signal-safe.
        unsafe {
            command.pre_exec(move || {
                let limit = libc::rlimit { rlim_cur: bytes, rlim_max: libc::RLIM_INFINITY };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0
                    || libc::signal(libc::SIGXFSZ, libc::SIG_IGN) == libc::SIG_ERR
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Process::spawn(command)
    }

    /// Lets the files of a process started with a file size limit grow
    /// again (as when disk space is freed).
    #[cfg(target_os = "linux")]
    pub fn lift_file_size_limit(&self) {
        let limit = libc::rlimit { rlim_cur: libc::RLIM_INFINITY, rlim_max: libc::RLIM_INFINITY };
        // SAFETY: a valid pid and limit; the old limit is not asked for.
        let status =
            unsafe { libc::prlimit(self.child.id() as libc::pid_t, libc::RLIMIT_FSIZE, &limit, std::ptr::null_mut()) };
        assert_eq!(status, 0, "{}", std::io::Error::last_os_error());
    }

    fn command(config: &std::path::Path, extra: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_herald"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(config)
            .args(extra)
            .env_remove("HERALD_LOG")
            .stderr(Stdio::piped())
            .stdout(Stdio::null());
        command
    }

    fn spawn(mut command: Command) -> Process {
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut process = Process { child, addr: String::new(), lines, log: Vec::new() };
        let line = process.wait_for_line("listening on http://");
        process.addr = line.split("http://").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
        process
    }

    /// Waits for a log line containing `needle`.
    pub fn wait_for_line(&mut self, needle: &str) -> String {
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

    /// GETs `path` over a fresh connection; the whole response as text.
    pub fn get(&self, path: &str) -> String {
        let mut stream = std::net::TcpStream::connect(&self.addr).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).unwrap();
        out
    }

    /// Sends signal `name` (`HUP`, `TERM`, `KILL`) with kill(1).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill").args([&format!("-{name}"), &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end.
    pub fn wait(&mut self) -> std::process::ExitStatus {
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
