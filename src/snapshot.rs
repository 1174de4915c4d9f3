//! A snapshot: every rendered file of the site at one instant, by URL path,
//! with what HTTP needs to serve it (media type, strong ETag,
//! Last-Modified).
//!
//! A snapshot is immutable once built. The server holds the current one and
//! swaps in a new one after a rebuild, and writes it to a folder with
//! [`Snapshot::write_dir_atomic`]; `herald build` writes each file as it is
//! rendered, without a snapshot, through the same [`StagedDir`]. Both
//! assemble the files aside and swap the whole folder in, so no reader ever
//! sees a half-written site.
//!
//! Files whose bytes did not change keep their identity (inode, mtime) in
//! the output folder, so a web server serving it (nginx's `mtime-size`
//! ETag, `Last-Modified`) tells clients nothing changed. For that, herald
//! never writes into an existing file: new content always goes to a fresh
//! file that is then renamed into place, so a file hard-linked from an
//! earlier folder is never modified.

use std::collections::BTreeMap;
use std::fs::{File, Metadata};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use jiff::Timestamp;

use crate::file_cache::{FileCache, Representation, StoredFile};
use crate::parallel::lock;

/// Name of the marker file herald leaves in folders it writes, so it never
/// replaces a folder it did not create.
pub const OUTPUT_MARKER: &str = ".herald-output";

/// What the marker file says.
const OUTPUT_MARKER_TEXT: &[u8] = b"This folder is written by herald; it is replaced on every build.\n";

/// What a rendered file is, for the server (headers, cache policy) and for
/// the sitemap index (which files it lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// An RSS, Atom or JSON feed.
    Feed,
    /// A sitemap listed in the sitemap index.
    Sitemap,
    /// The sitemap index itself.
    SitemapIndex,
    /// A feed archive document (RFC 5005); `past` when its month is over
    /// (such documents can be cached for good).
    Archive {
        /// Whether the month is over.
        past: bool,
    },
    /// Anything else: robots.txt, pages (the index, HTML views), `.gz` twins.
    Other,
}

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// What the file is.
    pub kind: ResourceKind,
    /// The bytes served for `identity` encoding, when they are kept in
    /// memory; empty when they are kept on disk (`stored`): read them with
    /// [`Resource::bytes`].
    pub body: Bytes,
    /// Where the bytes are kept when not in memory (archives of past
    /// months in a daemon with a [`FileCache`]).
    pub stored: Option<Arc<StoredFile>>,
    /// The `Content-Type` header value, with charset for text.
    pub content_type: &'static str,
    /// Strong entity tag, quoted: a digest of the body.
    pub etag: String,
    /// The newest modification the file shows, for `Last-Modified`.
    pub last_modified: Option<Timestamp>,
}

impl Resource {
    /// A resource holding `body`, its ETag computed from the bytes.
    pub fn new(
        kind: ResourceKind,
        body: Vec<u8>,
        content_type: &'static str,
        last_modified: Option<Timestamp>,
    ) -> Resource {
        let etag = format!("\"{:032x}\"", crate::digest::digest(&body));
        Resource { kind, body: Bytes::from(body), content_type, etag, last_modified, stored: None }
    }

    /// The bytes: `body`, or read from disk when they are kept there (an
    /// error when the file is gone or truncated).
    pub fn bytes(&self) -> io::Result<Bytes> {
        match &self.stored {
            Some(stored) => stored.read(Representation::Identity),
            None => Ok(self.body.clone()),
        }
    }

    /// Length of the bytes, wherever they are kept.
    pub fn len(&self) -> u64 {
        self.stored.as_ref().map_or(self.body.len() as u64, |stored| stored.len())
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the bytes are kept in `cache` rather than in memory: only
    /// archives of past months are (they never change, are rarely read and
    /// are most of the bytes).
    pub fn belongs_on_disk(&self) -> bool {
        self.kind == ResourceKind::Archive { past: true } && self.stored.is_none()
    }

    /// The same file with its bytes kept in `cache` instead of in memory;
    /// unchanged (with a warning) when they cannot be written.
    pub fn store_in(mut self, cache: &FileCache) -> Resource {
        let digest = self
            .etag
            .trim_matches('"')
            .get(..32)
            .and_then(|hex| u128::from_str_radix(hex, 16).ok())
            .unwrap_or_else(|| crate::digest::digest(&self.body));
        match cache.store(&self.body, digest) {
            Ok(stored) => {
                self.stored = Some(stored);
                self.body = Bytes::new();
            }
            Err(e) => tracing::warn!("cannot keep a file in {}: {e}; keeping it in memory", cache.dir().display()),
        }
        self
    }

    /// The same file with its bytes in memory (read from disk if kept
    /// there).
    pub fn loaded(self: &Arc<Resource>) -> io::Result<Arc<Resource>> {
        if self.stored.is_none() {
            return Ok(Arc::clone(self));
        }
        let body = self.bytes()?;
        Ok(Arc::new(Resource { body, stored: None, ..Resource::clone(self) }))
    }
}

/// Every rendered file of the site, by URL path (`/vi/rss.xml`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    resources: BTreeMap<String, Arc<Resource>>,
}

impl Snapshot {
    /// An empty snapshot.
    pub fn new() -> Snapshot {
        Snapshot::default()
    }

    /// Adds or replaces the file at `path` (must start with `/`).
    pub fn insert(&mut self, path: String, resource: Resource) {
        self.resources.insert(path, Arc::new(resource));
    }

    /// Removes the file at `path`, if present.
    pub fn remove(&mut self, path: &str) -> Option<Arc<Resource>> {
        self.resources.remove(path)
    }

    /// The file at `path`.
    pub fn get(&self, path: &str) -> Option<&Arc<Resource>> {
        self.resources.get(path)
    }

    /// Every file, sorted by path.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Arc<Resource>)> {
        self.resources.iter()
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.resources.len()
    }

    /// Moves the bytes of the files that belong on disk
    /// ([`Resource::belongs_on_disk`]) into `cache`.
    pub fn store_on_disk(&mut self, cache: &FileCache) {
        for resource in self.resources.values_mut() {
            if resource.belongs_on_disk() {
                *resource = Arc::new(Resource::clone(resource).store_in(cache));
            }
        }
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// Paths whose bytes differ between `self` (old) and `new`, plus paths
    /// added or removed, sorted.
    pub fn changed_paths(&self, new: &Snapshot) -> Vec<String> {
        let mut out: Vec<String> = new
            .resources
            .iter()
            .filter(|(path, r)| self.resources.get(*path).is_none_or(|old| old.etag != r.etag))
            .map(|(path, _)| path.clone())
            .collect();
        out.extend(self.resources.keys().filter(|p| !new.resources.contains_key(*p)).cloned());
        out.sort();
        out
    }

    /// Writes every file into a new folder next to `out`, then swaps it in
    /// place of `out` in one step, and removes the previous contents.
    ///
    /// A file of the previous `out` with exactly the new bytes is
    /// hard-linked into the new folder instead of written again, so it
    /// keeps its inode and modification time (and a web server's ETag and
    /// `Last-Modified` for it stay the same). Where linking fails (another
    /// file system, no hard links), the file is written and given the old
    /// modification time.
    ///
    /// If anything fails before the swap, `out` is untouched. `out` must not
    /// exist, be empty, or have been written by herald (it holds
    /// [`OUTPUT_MARKER`]): herald never replaces a folder it did not create.
    pub fn write_dir_atomic(&self, out: &Path) -> io::Result<()> {
        let staged = StagedDir::begin(out)?;
        for (path, resource) in &self.resources {
            staged.put(path, resource)?;
        }
        staged.commit()
    }

    /// Brings a folder written by [`Snapshot::write_dir_atomic`] up to date
    /// for `changed` paths only: each changed file is written to a new file
    /// beside its place and renamed over it (readers see the old or the new
    /// file, never a part; the old file's other links keep the old bytes),
    /// removed files are deleted. A file that already holds the new bytes
    /// is left alone.
    pub fn write_changes(&self, out: &Path, changed: &[String]) -> io::Result<()> {
        for path in changed {
            let file = out.join(relative_file(path)?);
            match self.resources.get(path) {
                Some(resource) => {
                    let body = resource.bytes()?;
                    if same_contents(&file, &body).is_some() {
                        continue;
                    }
                    let dir = file.parent().unwrap_or(out);
                    std::fs::create_dir_all(dir)?;
                    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    let staging = dir.join(format!(".{name}.herald-new-{}", std::process::id()));
                    // A leftover from a crash is unlinked, never written into.
                    match std::fs::remove_file(&staging) {
                        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                        _ => {}
                    }
                    let renamed = write_new(&staging, &body).and_then(|_| std::fs::rename(&staging, &file));
                    if let Err(e) = renamed {
                        let _ = std::fs::remove_file(&staging);
                        return Err(e);
                    }
                }
                None => match std::fs::remove_file(&file) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                },
            }
        }
        Ok(())
    }
}

/// A new output folder being assembled file by file beside the folder it
/// replaces, then swapped in place of it in one step: what
/// [`Snapshot::write_dir_atomic`] does with a whole snapshot, and what
/// `herald build` does with each file as soon as it is rendered (so the
/// site is never held in memory whole).
///
/// [`StagedDir::begin`] checks the output folder, removes staging folders
/// killed builds left ([`crate::stale_staging`]) and creates its own (with
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
        crate::stale_staging::remove_stale(parent, &name, OUTPUT_MARKER);
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
fn same_contents(path: &Path, body: &[u8]) -> Option<Metadata> {
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
fn relative_file(path: &str) -> io::Result<PathBuf> {
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

    fn snapshot(files: &[(&str, &str)]) -> Snapshot {
        let mut s = Snapshot::new();
        for (path, body) in files {
            s.insert(
                path.to_string(),
                Resource::new(ResourceKind::Other, body.as_bytes().to_vec(), "text/plain; charset=utf-8", None),
            );
        }
        s
    }

    #[test]
    fn writes_and_swaps_whole_folder() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        snapshot(&[("/rss.xml", "one"), ("/vi/rss.xml", "vi"), ("/old.xml", "x")]).write_dir_atomic(&out).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("vi/rss.xml")).unwrap(), "vi");
        snapshot(&[("/rss.xml", "two")]).write_dir_atomic(&out).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("rss.xml")).unwrap(), "two");
        assert!(!out.join("old.xml").exists());
        assert!(!out.join("vi").exists());
        // Nothing is left beside the output.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("public")]);
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

    #[test]
    fn refuses_paths_that_escape() {
        let dir = tempfile::tempdir().unwrap();
        let e = snapshot(&[("/../evil.xml", "x")]).write_dir_atomic(&dir.path().join("out")).unwrap_err();
        assert!(e.to_string().contains("unsafe path"), "{e}");
        let e = snapshot(&[("/vi//rss.xml", "x")]).write_dir_atomic(&dir.path().join("out")).unwrap_err();
        assert!(e.to_string().contains("unsafe path"), "{e}");
        assert!(!dir.path().join("out").exists());
        assert!(!dir.path().join("evil.xml").exists());
    }

    fn set_old_mtime(path: &Path) -> std::time::SystemTime {
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
        File::options().write(true).open(path).unwrap().set_modified(old).unwrap();
        old
    }

    fn mtime(path: &Path) -> std::time::SystemTime {
        std::fs::metadata(path).unwrap().modified().unwrap()
    }

    #[test]
    fn unchanged_files_keep_their_identity_across_full_writes() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        snapshot(&[("/a.xml", "same"), ("/vi/b.xml", "before")]).write_dir_atomic(&out).unwrap();
        let old = set_old_mtime(&out.join("a.xml"));
        set_old_mtime(&out.join("vi/b.xml"));
        snapshot(&[("/a.xml", "same"), ("/vi/b.xml", "after!")]).write_dir_atomic(&out).unwrap();
        assert_eq!(mtime(&out.join("a.xml")), old, "same bytes: same file");
        assert_ne!(mtime(&out.join("vi/b.xml")), old, "new bytes: new file");
        assert_eq!(std::fs::read_to_string(out.join("vi/b.xml")).unwrap(), "after!");
        assert_eq!(std::fs::read_to_string(out.join("a.xml")).unwrap(), "same");
    }

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
    fn files_are_never_written_in_place() {
        // Another link to an output file (an earlier folder's, a backup's)
        // keeps its bytes through full and incremental writes.
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        snapshot(&[("/a.xml", "one")]).write_dir_atomic(&out).unwrap();
        let elsewhere = dir.path().join("kept.xml");
        std::fs::hard_link(out.join("a.xml"), &elsewhere).unwrap();
        snapshot(&[("/a.xml", "two")]).write_dir_atomic(&out).unwrap();
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "one");
        assert_eq!(std::fs::read_to_string(out.join("a.xml")).unwrap(), "two");

        std::fs::remove_file(&elsewhere).unwrap();
        std::fs::hard_link(out.join("a.xml"), &elsewhere).unwrap();
        // A staging file left by a crash that links to the live file.
        let leftover = out.join(format!(".a.xml.herald-new-{}", std::process::id()));
        std::fs::hard_link(out.join("a.xml"), &leftover).unwrap();
        let three = snapshot(&[("/a.xml", "three")]);
        three.write_changes(&out, &["/a.xml".to_string()]).unwrap();
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "two");
        assert_eq!(std::fs::read_to_string(out.join("a.xml")).unwrap(), "three");
        assert!(!leftover.exists());
    }

    #[test]
    fn incremental_writes_leave_unchanged_files_alone() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let first = snapshot(&[("/a.xml", "same"), ("/b.xml", "before"), ("/gone.xml", "x")]);
        first.write_dir_atomic(&out).unwrap();
        let old = set_old_mtime(&out.join("a.xml"));
        set_old_mtime(&out.join("b.xml"));
        let second = snapshot(&[("/a.xml", "same"), ("/b.xml", "after"), ("/new/c.xml", "c")]);
        // `a.xml` is listed although its bytes are the same: not touched.
        let changed = ["/a.xml", "/b.xml", "/gone.xml", "/new/c.xml"].map(String::from);
        second.write_changes(&out, &changed).unwrap();
        assert_eq!(mtime(&out.join("a.xml")), old);
        assert_ne!(mtime(&out.join("b.xml")), old);
        assert_eq!(std::fs::read_to_string(out.join("b.xml")).unwrap(), "after");
        assert_eq!(std::fs::read_to_string(out.join("new/c.xml")).unwrap(), "c");
        assert!(!out.join("gone.xml").exists());
        let names: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(!names.iter().any(|n| n.to_string_lossy().contains("herald-new")), "{names:?}");
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
    fn etag_follows_bytes() {
        let a = Resource::new(ResourceKind::Other, b"abc".to_vec(), "text/plain", None);
        let b = Resource::new(ResourceKind::Other, b"abc".to_vec(), "text/plain", None);
        let c = Resource::new(ResourceKind::Other, b"abd".to_vec(), "text/plain", None);
        assert_eq!(a.etag, b.etag);
        assert_ne!(a.etag, c.etag);
        assert!(a.etag.starts_with('"') && a.etag.ends_with('"'));
    }
}
