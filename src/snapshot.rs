//! A snapshot: every rendered file of the site at one instant, by URL path,
//! with what HTTP needs to serve it (media type, strong ETag,
//! Last-Modified).
//!
//! A snapshot is immutable once built. The server holds the current one and
//! swaps in a new one after a rebuild; `herald build` writes one to a folder
//! with [`Snapshot::write_dir_atomic`], which assembles the files aside and
//! swaps the whole folder in, so no reader ever sees a half-written site.

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use jiff::Timestamp;

/// Name of the marker file herald leaves in folders it writes, so it never
/// replaces a folder it did not create.
pub const OUTPUT_MARKER: &str = ".herald-output";

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
    /// Anything else: stylesheets, robots.txt, pages, `.gz` twins.
    Other,
}

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// What the file is.
    pub kind: ResourceKind,
    /// The bytes served for `identity` encoding.
    pub body: Bytes,
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
        let etag = format!("\"{:032x}\"", crate::article::digest(&body));
        Resource { kind, body: Bytes::from(body), content_type, etag, last_modified }
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
    /// If anything fails before the swap, `out` is untouched. `out` must not
    /// exist, be empty, or have been written by herald (it holds
    /// [`OUTPUT_MARKER`]): herald never replaces a folder it did not create.
    pub fn write_dir_atomic(&self, out: &Path) -> io::Result<()> {
        let out = absolute(out)?;
        let parent = out.parent().ok_or_else(|| io::Error::other("the output folder has no parent folder"))?;
        let name = out.file_name().ok_or_else(|| io::Error::other("the output folder has no name"))?.to_string_lossy();
        guard_output_folder(&out)?;
        std::fs::create_dir_all(parent)?;

        let staging = parent.join(format!(".{name}.herald-new-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging)?;
        }
        let written = self.write_files(&staging);
        if let Err(e) = written {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }

        if !out.exists() {
            return std::fs::rename(&staging, &out);
        }
        // Linux swaps two folders atomically; elsewhere, two renames leave
        // a moment with no folder, but never a partial one.
        match rustix::fs::renameat_with(
            rustix::fs::CWD,
            &staging,
            rustix::fs::CWD,
            &out,
            rustix::fs::RenameFlags::EXCHANGE,
        ) {
            Ok(()) => std::fs::remove_dir_all(&staging),
            Err(_) => {
                let previous = parent.join(format!(".{name}.herald-old-{}", std::process::id()));
                std::fs::rename(&out, &previous)?;
                if let Err(e) = std::fs::rename(&staging, &out) {
                    // Put the previous output back rather than leave none.
                    std::fs::rename(&previous, &out)?;
                    let _ = std::fs::remove_dir_all(&staging);
                    return Err(e);
                }
                std::fs::remove_dir_all(&previous)
            }
        }
    }

    /// Brings a folder written by [`Snapshot::write_dir_atomic`] up to date
    /// for `changed` paths only: each changed file is written beside its
    /// place and renamed over it (readers see the old or the new file,
    /// never a part), removed files are deleted.
    pub fn write_changes(&self, out: &Path, changed: &[String]) -> io::Result<()> {
        for path in changed {
            let file = out.join(relative_file(path)?);
            match self.resources.get(path) {
                Some(resource) => {
                    let dir = file.parent().unwrap_or(out);
                    std::fs::create_dir_all(dir)?;
                    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    let staging = dir.join(format!(".{name}.herald-new-{}", std::process::id()));
                    std::fs::write(&staging, &resource.body)?;
                    std::fs::rename(&staging, &file)?;
                }
                None => match std::fs::remove_file(&file) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                },
            }
        }
        Ok(())
    }

    fn write_files(&self, folder: &Path) -> io::Result<()> {
        std::fs::create_dir_all(folder)?;
        std::fs::write(
            folder.join(OUTPUT_MARKER),
            b"This folder is written by herald; it is replaced on every build.\n",
        )?;
        for (path, resource) in &self.resources {
            let file = folder.join(relative_file(path)?);
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&file, &resource.body)?;
        }
        Ok(())
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
                Err(io::Error::other(format!(
                    "refusing to replace {}: it is not empty and was not written by herald; choose a new or empty folder",
                    out.display()
                )))
            }
        }
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
        assert_eq!(std::fs::read_to_string(dir.path().join("precious.txt")).unwrap(), "keep");
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
