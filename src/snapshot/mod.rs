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

mod staged_dir;
mod stale_staging;

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use jiff::Timestamp;

use crate::file_cache::{FileCache, Representation, StoredFile};
pub(crate) use staged_dir::write_new;
pub use staged_dir::{ForeignFolder, OUTPUT_MARKER, StagedDir};
use staged_dir::{relative_file, same_contents};
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
    /// Whether the file is rarely read (set by the renderer: the files of
    /// tag, author and category feeds, and every HTML view), so that its
    /// bytes belong on disk ([`Resource::belongs_on_disk`]). Says nothing
    /// about how it is served: headers follow `kind` alone.
    pub cold: bool,
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
        Resource { kind, body: Bytes::from(body), content_type, etag, last_modified, stored: None, cold: false }
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

    /// The same file, marked rarely read (`cold`) or not.
    pub fn with_cold(mut self, cold: bool) -> Resource {
        self.cold = cold;
        self
    }

    /// Whether the bytes belong in the file cache rather than in memory
    /// (and are not there yet): archives of past months (they never change
    /// and are most of the bytes) and every file marked `cold` (term feeds
    /// and their archives, HTML views: many, rarely read). The hot files
    /// stay in memory: the site, language and section feeds and their
    /// current months' archives, sitemaps, the index page, small files.
    pub fn belongs_on_disk(&self) -> bool {
        (self.cold || self.kind == ResourceKind::Archive { past: true }) && self.stored.is_none()
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
#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn snapshot(files: &[(&str, &str)]) -> Snapshot {
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
    fn refuses_paths_that_escape() {
        let dir = tempfile::tempdir().unwrap();
        let e = snapshot(&[("/../evil.xml", "x")]).write_dir_atomic(&dir.path().join("out")).unwrap_err();
        assert!(e.to_string().contains("unsafe path"), "{e}");
        let e = snapshot(&[("/vi//rss.xml", "x")]).write_dir_atomic(&dir.path().join("out")).unwrap_err();
        assert!(e.to_string().contains("unsafe path"), "{e}");
        assert!(!dir.path().join("out").exists());
        assert!(!dir.path().join("evil.xml").exists());
    }

    pub(super) fn set_old_mtime(path: &Path) -> std::time::SystemTime {
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
        std::fs::File::options().write(true).open(path).unwrap().set_modified(old).unwrap();
        old
    }

    pub(super) fn mtime(path: &Path) -> std::time::SystemTime {
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
    fn etag_follows_bytes() {
        let a = Resource::new(ResourceKind::Other, b"abc".to_vec(), "text/plain", None);
        let b = Resource::new(ResourceKind::Other, b"abc".to_vec(), "text/plain", None);
        let c = Resource::new(ResourceKind::Other, b"abd".to_vec(), "text/plain", None);
        assert_eq!(a.etag, b.etag);
        assert_ne!(a.etag, c.etag);
        assert!(a.etag.starts_with('"') && a.etag.ends_with('"'));
    }
}
