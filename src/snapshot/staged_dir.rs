//! The atomic output folder: [`StagedDir`] assembles a new folder beside
//! the one it replaces and swaps it in whole; the helpers that place one
//! file without ever writing into an existing one (shared with
//! [`Snapshot::write_changes`]); the guard that refuses to replace a folder
//! herald did not write ([`ForeignFolder`]).

use std::fs::{File, Metadata};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use super::Resource;
#[cfg(doc)]
use super::Snapshot;
use crate::parallel::lock;

/// Name of the marker file herald leaves in folders it writes, so it never
/// replaces a folder it did not create.
pub const OUTPUT_MARKER: &str = ".herald-output";

/// What the marker file says.
const OUTPUT_MARKER_TEXT: &[u8] = b"This folder is written by herald; it is replaced on every build.\n";

/// A new output folder being assembled file by file beside the folder it
/// replaces, then swapped in place of it in one step: what
/// [`Snapshot::write_dir_atomic`] does with a whole snapshot, and what
/// `herald build` does with each file as soon as it is rendered (so the
/// site is never held in memory whole).
///
/// [`StagedDir::begin`] checks the output folder, removes staging folders
/// killed builds left (`snapshot/stale_staging.rs`) and creates its own (with
/// the [`OUTPUT_MARKER`]); [`StagedDir::put`] places one file
/// (hard-linked from the previous output when its bytes are the same, see
/// [`Snapshot::write_dir_atomic`]) and may be called from several threads
/// at once; [`StagedDir::commit`] swaps the folders. Dropped without a
/// successful commit (an error, `--strict` finding a problem), the staging
/// folder is removed and the output is left as it was.
#[derive(Debug)]
pub struct StagedDir {
    /// The output folder (absolute).
    out: PathBuf,
    /// The folder holding `out`.
    parent: PathBuf,
    /// `out`'s file name.
    name: String,
    /// The folder being assembled.
    staging: PathBuf,
    /// The current output, whose unchanged files are linked, not written.
    previous: Option<PathBuf>,
    /// Folders already created in the staging folder. (Both sets stay
    /// consistent after a panic elsewhere: each change is one insert.)
    folders: std::sync::Mutex<std::collections::HashSet<PathBuf>>,
    /// URL paths of the files put so far.
    paths: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Whether the staging folder no longer needs removing.
    done: bool,
}

impl StagedDir {
    /// Starts a new folder to replace `out`, which must not exist, be
    /// empty, or have been written by herald; nothing in `out` changes
    /// until [`StagedDir::commit`].
    pub fn begin(out: &Path) -> io::Result<StagedDir> {
        let out = absolute(out)?;
        let parent = out.parent().ok_or_else(|| io::Error::other("the output folder has no parent folder"))?;
        let name = out.file_name().ok_or_else(|| io::Error::other("the output folder has no name"))?.to_string_lossy();
        guard_output_folder(&out)?;
        std::fs::create_dir_all(parent)?;
        // Folders builds killed before their swap left (never one in use).
        super::stale_staging::remove_stale(parent, &name, OUTPUT_MARKER);
        let staging = parent.join(format!(".{name}.herald-new-{}", std::process::id()));
        if staging.exists() {
            // Left by a crash; removing it only unlinks names.
            std::fs::remove_dir_all(&staging)?;
        }
        let previous = out.is_dir().then(|| out.clone());
        let staged = StagedDir {
            parent: parent.to_path_buf(),
            name: name.into_owned(),
            out,
            staging,
            previous,
            folders: Default::default(),
            paths: Default::default(),
            done: false,
        };
        std::fs::create_dir_all(&staged.staging)?;
        let marker = Path::new(OUTPUT_MARKER);
        let old = staged.previous.as_ref().map(|p| p.join(marker));
        place_file(&staged.staging.join(marker), OUTPUT_MARKER_TEXT, old.as_deref(), hard_link)?;
        Ok(staged)
    }

    /// Places `resource` at URL path `path` (which must start with `/` and
    /// stay inside the folder). Putting a path again replaces its file.
    pub fn put(&self, path: &str, resource: &Resource) -> io::Result<()> {
        let relative = relative_file(path)?;
        let file = self.staging.join(&relative);
        if let Some(dir) = relative.parent().filter(|d| !d.as_os_str().is_empty()) {
            let known = lock(&self.folders).contains(dir);
            if !known {
                std::fs::create_dir_all(self.staging.join(dir))?;
                lock(&self.folders).insert(dir.to_path_buf());
            }
        }
        if !lock(&self.paths).insert(path.to_string()) {
            std::fs::remove_file(&file)?;
        }
        let old = self.previous.as_ref().map(|p| p.join(&relative));
        place_file(&file, &resource.bytes()?, old.as_deref(), hard_link)
    }

    /// How many files have been put.
    pub fn len(&self) -> usize {
        lock(&self.paths).len()
    }

    /// Whether no file has been put.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Swaps the new folder in place of the output folder and removes the
    /// previous contents. If the swap fails, the output is as it was.
    pub fn commit(mut self) -> io::Result<()> {
        if !self.out.exists() {
            std::fs::rename(&self.staging, &self.out)?;
            self.done = true;
            return Ok(());
        }
        // Linux swaps two folders atomically; elsewhere, two renames leave
        // a moment with no folder, but never a partial one.
        match rustix::fs::renameat_with(
            rustix::fs::CWD,
            &self.staging,
            rustix::fs::CWD,
            &self.out,
            rustix::fs::RenameFlags::EXCHANGE,
        ) {
            // The staging name now holds the previous output.
            Ok(()) => std::fs::remove_dir_all(&self.staging).inspect(|_| self.done = true),
            Err(_) => {
                let previous = self.parent.join(format!(".{}.herald-old-{}", self.name, std::process::id()));
                if previous.exists() {
                    std::fs::remove_dir_all(&previous)?;
                }
                std::fs::rename(&self.out, &previous)?;
                if let Err(e) = std::fs::rename(&self.staging, &self.out) {
                    // Put the previous output back rather than leave none.
                    std::fs::rename(&previous, &self.out)?;
                    return Err(e);
                }
                self.done = true;
                std::fs::remove_dir_all(&previous)
            }
        }
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

fn hard_link(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::hard_link(from, to)
}

/// Creates `new` (which must not exist) holding `body`. When `old` holds
/// the same bytes, `new` becomes another link to it (same inode and
/// mtime); if `link` fails, `new` is written and given `old`'s mtime.
fn place_file(new: &Path, body: &[u8], old: Option<&Path>, link: fn(&Path, &Path) -> io::Result<()>) -> io::Result<()> {
    let Some((old, compared)) = old.and_then(|old| same_contents(old, body).map(|m| (old, m))) else {
        write_new(new, body)?;
        return Ok(());
    };
    if link(old, new).is_ok() {
        // Only herald renames over `old`, but make sure the file linked is
        // the one compared; if not, write the bytes afresh.
        match std::fs::symlink_metadata(new) {
            Ok(linked) if same_file(&linked, &compared) => return Ok(()),
            _ => std::fs::remove_file(new)?,
        }
    }
    let file = write_new(new, body)?;
    if let Ok(modified) = compared.modified() {
        file.set_modified(modified)?;
    }
    Ok(())
}

/// Writes `body` to a file created at `path`, refusing to open one that
/// exists (so no other link to an existing file is ever written through).
pub(crate) fn write_new(path: &Path, body: &[u8]) -> io::Result<File> {
    let mut file = File::options().write(true).create_new(true).open(path)?;
    file.write_all(body)?;
    Ok(file)
}

/// The metadata of `path` when it is a regular file holding exactly
/// `body` (sizes compared first, then bytes); `None` otherwise or when it
/// cannot be read.
pub(super) fn same_contents(path: &Path, body: &[u8]) -> Option<Metadata> {
    let before = std::fs::symlink_metadata(path).ok()?;
    if !before.is_file() || before.len() != body.len() as u64 {
        return None;
    }
    let mut file = File::open(path).ok()?;
    let metadata = file.metadata().ok()?;
    if !same_file(&metadata, &before) {
        return None;
    }
    let mut buffer = vec![0; 64 * 1024];
    let mut rest = body;
    loop {
        let n = file.read(&mut buffer).ok()?;
        if n == 0 {
            return rest.is_empty().then_some(metadata);
        }
        if n > rest.len() || buffer[..n] != rest[..n] {
            return None;
        }
        rest = &rest[n..];
    }
}

/// Whether two metadata describe the same file (same inode where the
/// platform says; elsewhere, same size and modification time).
fn same_file(a: &Metadata, b: &Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        a.dev() == b.dev() && a.ino() == b.ino()
    }
    #[cfg(not(unix))]
    {
        a.len() == b.len() && a.modified().ok() == b.modified().ok()
    }
}

/// The file path (relative) for URL path `path`, refusing anything that
/// could leave the output folder.
pub(super) fn relative_file(path: &str) -> io::Result<PathBuf> {
    let trimmed = path.trim_start_matches('/');
    let relative = Path::new(trimmed);
    let safe =
        relative.components().all(|c| matches!(c, Component::Normal(_))) && !trimmed.split('/').any(str::is_empty);
    if !safe || relative.as_os_str().is_empty() {
        return Err(io::Error::other(format!("refusing to write unsafe path `{path}`")));
    }
    Ok(relative.to_path_buf())
}

fn absolute(path: &Path) -> io::Result<PathBuf> {
    if path.is_absolute() { Ok(path.to_path_buf()) } else { Ok(std::env::current_dir()?.join(path)) }
}

fn guard_output_folder(out: &Path) -> io::Result<()> {
    match std::fs::read_dir(out) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(mut entries) => {
            if entries.next().is_none() || out.join(OUTPUT_MARKER).exists() {
                Ok(())
            } else {
                Err(io::Error::other(ForeignFolder { folder: out.to_path_buf() }))
            }
        }
    }
}

/// The refusal to replace an output folder that holds files herald did not
/// write (no [`OUTPUT_MARKER`]): the error inside the [`io::Error`] that
/// [`StagedDir::begin`] and [`Snapshot::write_dir_atomic`] return then.
#[derive(Debug, thiserror::Error)]
#[error("refusing to replace {}: it is not empty and was not written by herald; choose a new or empty folder", folder.display())]
pub struct ForeignFolder {
    /// The output folder.
    pub folder: PathBuf,
}

impl ForeignFolder {
    /// The refusal carried by `error`, if that is what it is (rather than a
    /// failed read or write).
    pub fn in_error(error: &io::Error) -> Option<&ForeignFolder> {
        error.get_ref()?.downcast_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::ResourceKind;
    use crate::snapshot::tests::{mtime, set_old_mtime, snapshot};

    #[test]
    fn without_hard_links_the_modification_time_is_copied() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.xml");
        std::fs::write(&old, "bytes").unwrap();
        let when = set_old_mtime(&old);
        let no_links: fn(&Path, &Path) -> io::Result<()> = |_, _| Err(io::Error::other("no links here"));
        let new = dir.path().join("new.xml");
        place_file(&new, b"bytes", Some(&old), no_links).unwrap();
        assert_eq!(std::fs::read_to_string(&new).unwrap(), "bytes");
        assert_eq!(mtime(&new), when);
        // Different bytes of the same size are written with a new time.
        let other = dir.path().join("other.xml");
        place_file(&other, b"BYTES", Some(&old), hard_link).unwrap();
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "BYTES");
        assert_ne!(mtime(&other), when);
    }

    #[test]
    fn a_staged_folder_dropped_leaves_the_output_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        snapshot(&[("/a.xml", "one")]).write_dir_atomic(&out).unwrap();
        let staged = StagedDir::begin(&out).unwrap();
        staged.put("/a.xml", &snapshot(&[("/a.xml", "two")]).get("/a.xml").unwrap().clone()).unwrap();
        assert!(staged.put("/../b.xml", &Resource::new(ResourceKind::Other, vec![], "text/plain", None)).is_err());
        drop(staged);
        assert_eq!(std::fs::read_to_string(out.join("a.xml")).unwrap(), "one");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("public")]);
    }

    #[test]
    fn a_staged_folder_takes_files_from_several_threads() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let staged = StagedDir::begin(&out).unwrap();
        std::thread::scope(|scope| {
            for t in 0..4 {
                let staged = &staged;
                scope.spawn(move || {
                    for i in 0..25 {
                        let body = format!("{t}-{i}").into_bytes();
                        let resource = Resource::new(ResourceKind::Other, body, "text/plain", None);
                        staged.put(&format!("/t{t}/n{}/{i}.txt", i % 3), &resource).unwrap();
                    }
                });
            }
        });
        // A path put again is replaced.
        staged.put("/t0/n0/0.txt", &Resource::new(ResourceKind::Other, b"again".to_vec(), "text/plain", None)).unwrap();
        assert_eq!(staged.len(), 100);
        staged.commit().unwrap();
        assert_eq!(std::fs::read_to_string(out.join("t3/n1/4.txt")).unwrap(), "3-4");
        assert_eq!(std::fs::read_to_string(out.join("t0/n0/0.txt")).unwrap(), "again");
        assert!(out.join(OUTPUT_MARKER).exists());
    }

    #[test]
    fn refuses_to_replace_a_foreign_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("precious.txt"), "keep").unwrap();
        let e = snapshot(&[("/rss.xml", "x")]).write_dir_atomic(dir.path()).unwrap_err();
        assert!(e.to_string().contains("was not written by herald"), "{e}");
        assert_eq!(ForeignFolder::in_error(&e).map(|f| f.folder.as_path()), Some(dir.path()));
        assert_eq!(std::fs::read_to_string(dir.path().join("precious.txt")).unwrap(), "keep");
        // A failed write is not a refusal.
        let file = dir.path().join("precious.txt");
        let e = snapshot(&[("/rss.xml", "x")]).write_dir_atomic(&file.join("public")).unwrap_err();
        assert!(ForeignFolder::in_error(&e).is_none(), "{e}");
    }
}
