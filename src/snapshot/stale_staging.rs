//! Staging folders a killed `herald build` left behind.
//!
//! A build assembles the new output folder beside the old one, as
//! `.<out>.herald-new-<pid>` (and, where folders cannot be swapped in one
//! step, moves the old one aside as `.<out>.herald-old-<pid>`), then swaps
//! it in. Killed before the swap, it leaves that folder, as large as the
//! site. The next build of the same output removes such folders when the
//! process that made them is gone.
//!
//! Removed is only what herald itself names and marks: a folder (not a
//! link) named exactly as above for this output, whose `<pid>` is a number,
//! holding herald's output marker file (or nothing: killed right after
//! making it). A folder whose process still runs is left alone: it may be another
//! build at work, and a process of any kind counts, since a build may run
//! under another binary name; a PID taken over by an unrelated process only
//! puts the cleaning off to a later build.

use std::path::{Path, PathBuf};

/// Removes from `parent` the staging folders of output folder `name` that
/// a build no longer running left behind (`marker`: the name of herald's
/// output marker file); returns those removed. Problems are logged, never
/// fatal: they only leave a folder behind.
pub(super) fn remove_stale(parent: &Path, name: &str, marker: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(parent) else { return Vec::new() };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name.to_str().and_then(|n| staging_pid(n, name)) else { continue };
        if !entry.file_type().is_ok_and(|t| t.is_dir()) || process_exists(pid) {
            continue;
        }
        let path = entry.path();
        if !marked_or_empty(&path, marker) {
            continue;
        }
        match std::fs::remove_dir_all(&path) {
            Ok(()) => {
                tracing::info!("removed {}, left by a build that was stopped (process {pid})", path.display());
                removed.push(path);
            }
            Err(e) => tracing::warn!("{}: cannot remove this folder left by a stopped build: {e}", path.display()),
        }
    }
    removed
}

/// The process number in `file_name` when it names a staging folder of
/// output `name`.
fn staging_pid(file_name: &str, name: &str) -> Option<u32> {
    let rest = file_name.strip_prefix('.')?.strip_prefix(name)?;
    let pid = rest.strip_prefix(".herald-new-").or_else(|| rest.strip_prefix(".herald-old-"))?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok().filter(|&pid| pid > 0)
}

/// Whether folder `path` holds file `marker`, or nothing at all.
fn marked_or_empty(path: &Path, marker: &str) -> bool {
    path.join(marker).is_file() || std::fs::read_dir(path).is_ok_and(|mut e| e.next().is_none())
}

/// Whether a process numbered `pid` exists (also one herald may not
/// signal); when that cannot be told, it is taken to exist.
fn process_exists(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else { return true };
    !matches!(rustix::process::test_kill_process(pid), Err(rustix::io::Errno::SRCH))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_outputs_staging_names_are_read() {
        assert_eq!(staging_pid(".public.herald-new-4242", "public"), Some(4242));
        assert_eq!(staging_pid(".public.herald-old-7", "public"), Some(7));
        assert_eq!(staging_pid(".public.herald-new-", "public"), None);
        assert_eq!(staging_pid(".public.herald-new-12ab", "public"), None);
        assert_eq!(staging_pid(".public.herald-new-+12", "public"), None);
        assert_eq!(staging_pid(".public.herald-new-0", "public"), None);
        assert_eq!(staging_pid(".site.herald-new-4242", "public"), None);
        assert_eq!(staging_pid(".public2.herald-new-4242", "public"), None);
        assert_eq!(staging_pid("public.herald-new-4242", "public"), None);
        assert_eq!(staging_pid(".public.herald-new-4242.tmp", "public"), None);
    }

    #[test]
    fn this_process_exists() {
        assert!(process_exists(std::process::id()));
    }
}
