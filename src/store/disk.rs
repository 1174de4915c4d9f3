//! The folder store's contact with the disk: walking its folders and
//! reading its files, refusing what must not be read.
//!
//! - Only regular files are opened: a named pipe would block the reader
//!   for ever, a device (`/dev/zero`) never ends. Other kinds of file named
//!   like an article are diagnostics, found by the walk without opening
//!   them; a file read is checked again once open (and opened without
//!   blocking), in case it was replaced in between.
//! - Symbolic links are followed only when they resolve inside the store's
//!   real path, or inside one of the folders [`ReadPolicy::follow_links_into`]
//!   names: a section folder linked from elsewhere in the store is read, a
//!   link to `/etc/passwd` is a diagnostic. A link to a folder that holds
//!   it is not followed (the walk would never end), and each linked folder
//!   is walked once.
//! - A document larger than [`ReadPolicy::max_bytes`] is a diagnostic; the
//!   reader never reads past the limit, also from a file that grows.
//! - A folder named like an article (`x.vi.md`) is a diagnostic.
//!
//! The walk vouches for the folders it went through, so reading what it
//! found costs what a plain read costs (one open, one `fstat`); reading a
//! document named by a file event ([`read_named`]) checks its whole path.
//! Either way a refusal is the same [`Diagnostic`], naming the document's
//! path in the store.

use std::collections::HashSet;
use std::fs::{File, FileType, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;

/// The default of [`ReadPolicy::max_bytes`] (`[articles] max_bytes`).
pub const DEFAULT_MAX_ARTICLE_BYTES: u64 = 4 << 20;

/// What the folder store agrees to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadPolicy {
    /// Largest document read, in bytes.
    pub max_bytes: u64,
    /// Folders outside the store that symbolic links in it may lead into
    /// (a store assembled from several folders by links).
    pub follow_links_into: Vec<PathBuf>,
}

impl Default for ReadPolicy {
    fn default() -> ReadPolicy {
        ReadPolicy { max_bytes: DEFAULT_MAX_ARTICLE_BYTES, follow_links_into: Vec::new() }
    }
}

/// Why a document was not read.
#[derive(Debug)]
pub enum Unread {
    /// There is nothing at its path (any more).
    Gone,
    /// It is there but must not, or cannot, be read.
    Refused(Diagnostic),
}

/// The real paths documents may be read from: the store's and those of
/// the folders links may lead into.
struct Allowed {
    root: PathBuf,
    elsewhere: Vec<PathBuf>,
}

impl Allowed {
    fn of(root: &Path, policy: &ReadPolicy) -> io::Result<Allowed> {
        let elsewhere = policy.follow_links_into.iter().filter_map(|f| f.canonicalize().ok()).collect();
        Ok(Allowed { root: root.canonicalize()?, elsewhere })
    }

    fn contains(&self, real: &Path) -> bool {
        real.starts_with(&self.root) || self.elsewhere.iter().any(|f| real.starts_with(f))
    }
}

/// Every document (as `is_document` tells by its store-relative path)
/// under folder `under` of the store at `root`, store-relative and sorted,
/// and the problems met on the way.
pub fn walk(
    root: &Path,
    under: &Path,
    policy: &ReadPolicy,
    is_document: &dyn Fn(&Path) -> bool,
) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let start = root.join(under);
    let allowed = match Allowed::of(root, policy) {
        Ok(allowed) => allowed,
        Err(e) => {
            problems.push(Diagnostic::error(root, format!("cannot list folder: {e}")));
            return (found, problems);
        }
    };
    let start_real = match start.canonicalize() {
        Ok(real) if allowed.contains(&real) => real,
        Ok(real) => {
            problems.push(outside_the_store(&start, &real));
            return (found, problems);
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return (found, problems),
        Err(e) => {
            problems.push(Diagnostic::error(&start, format!("cannot list folder: {e}")));
            return (found, problems);
        }
    };
    // Folders reached through links so far (by real path): each is walked once.
    let mut linked = HashSet::new();
    let mut pending = vec![(under.to_path_buf(), start_real)];
    while let Some((dir, real)) = pending.pop() {
        let entries = match std::fs::read_dir(root.join(&dir)) {
            Ok(entries) => entries,
            Err(e) => {
                problems.push(Diagnostic::error(root.join(&dir), format!("cannot list folder: {e}")));
                continue;
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with('.') {
                continue;
            }
            let rel = dir.join(name);
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_file() {
                if is_document(&rel) {
                    found.push(rel);
                }
            } else if kind.is_dir() {
                if is_document(&rel) {
                    problems.push(folder_named_like_an_article(&root.join(&rel)));
                } else {
                    pending.push((rel, real.join(name)));
                }
            } else if kind.is_symlink() {
                let link = root.join(&rel);
                match link.canonicalize() {
                    Ok(target) if target.is_dir() => {
                        if !allowed.contains(&target) {
                            problems.push(outside_the_store(&link, &target));
                        } else if is_document(&rel) {
                            problems.push(folder_named_like_an_article(&link));
                        } else if real.starts_with(&target) {
                            problems.push(
                                Diagnostic::warning(&link, "a symbolic link to a folder that holds it; not followed")
                                    .with_hint("remove the link: what it leads to is read already"),
                            );
                        } else if linked.insert(target.clone()) {
                            pending.push((rel, target));
                        }
                    }
                    // A link to a file, or to nothing: reading it tells.
                    _ if is_document(&rel) => found.push(rel),
                    _ => {}
                }
            } else if is_document(&rel) {
                problems.push(not_a_regular_file(&root.join(&rel), kind));
            }
        }
    }
    found.sort();
    (found, problems)
}

/// Reads document `rel` of the store at `root`, found by [`walk`] (which
/// vouched for the folders on its way) or read before.
pub fn read_found(root: &Path, rel: &Path, policy: &ReadPolicy) -> Result<Vec<u8>, Unread> {
    let full = root.join(rel);
    match open_no_follow(&full) {
        Ok(file) => read_open(file, &full, policy.max_bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Unread::Gone),
        Err(e) => {
            if !std::fs::symlink_metadata(&full).is_ok_and(|m| m.is_symlink()) {
                return Err(Unread::Refused(cannot_read(&full, &e)));
            }
            let allowed = Allowed::of(root, policy).map_err(|e| Unread::Refused(cannot_read(&full, &e)))?;
            let target = link_target(&full, &allowed)?;
            let file = open_no_follow(&target).map_err(|e| Unread::Refused(cannot_read(&full, &e)))?;
            read_open(file, &full, policy.max_bytes)
        }
    }
}

/// Reads document `rel` of the store at `root`, named by a file event:
/// every folder on its way and the file itself are checked before it is
/// opened.
pub fn read_named(root: &Path, rel: &Path, policy: &ReadPolicy) -> Result<Vec<u8>, Unread> {
    let full = root.join(rel);
    let refused = |e: io::Error| Unread::Refused(cannot_read(&full, &e));
    let metadata = match std::fs::symlink_metadata(&full) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Unread::Gone),
        Err(e) => return Err(refused(e)),
    };
    let allowed = Allowed::of(root, policy).map_err(refused)?;
    if let Some(parent) = full.parent() {
        let real = parent.canonicalize().map_err(refused)?;
        if !allowed.contains(&real) {
            return Err(Unread::Refused(outside_the_store(&full, &real.join(rel.file_name().unwrap_or_default()))));
        }
    }
    let (path, metadata) = if metadata.is_symlink() {
        let target = link_target(&full, &allowed)?;
        let metadata = std::fs::metadata(&target).map_err(refused)?;
        (target, metadata)
    } else {
        (full.clone(), metadata)
    };
    if metadata.is_dir() {
        return Err(Unread::Refused(folder_named_like_an_article(&full)));
    }
    if !metadata.is_file() {
        return Err(Unread::Refused(not_a_regular_file(&full, metadata.file_type())));
    }
    let file = open_no_follow(&path).map_err(refused)?;
    read_open(file, &full, policy.max_bytes)
}

/// Where the link at `link` leads, when reading it is allowed.
fn link_target(link: &Path, allowed: &Allowed) -> Result<PathBuf, Unread> {
    match link.canonicalize() {
        Ok(target) if allowed.contains(&target) => Ok(target),
        Ok(target) => Err(Unread::Refused(outside_the_store(link, &target))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let to = std::fs::read_link(link).unwrap_or_default();
            Err(Unread::Refused(
                Diagnostic::error(link, format!("a symbolic link to nothing (to {})", to.display()))
                    .with_hint("remove the link, or put back what it leads to"),
            ))
        }
        Err(e) => Err(Unread::Refused(cannot_read(link, &e))),
    }
}

/// Opens `path` for reading: not through a link (in its last part), and
/// without blocking (a named pipe put there since the walk would otherwise
/// wait for a writer), and on Linux without updating the access time
/// (`O_NOATIME`, allowed when herald owns the file): reading a store must
/// not write to it (the first read after an edit would otherwise update
/// the inode and wait for the file system's journal, seen as stalls of an
/// update while the disk was busy, and a full build would dirty every
/// article's inode).
fn open_no_follow(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        let flags = libc::O_NOFOLLOW | libc::O_NONBLOCK;
        #[cfg(target_os = "linux")]
        match options.clone().custom_flags(flags | libc::O_NOATIME).open(path) {
            // Not the owner: O_NOATIME is refused; read as anyone may.
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {}
            opened => return opened,
        }
        options.custom_flags(flags);
    }
    options.open(path)
}

/// Reads the open file `file` (document `shown`) if it is a regular file
/// of at most `max` bytes.
fn read_open(file: File, shown: &Path, max: u64) -> Result<Vec<u8>, Unread> {
    let metadata = file.metadata().map_err(|e| Unread::Refused(cannot_read(shown, &e)))?;
    if !metadata.is_file() {
        return Err(Unread::Refused(not_a_regular_file(shown, metadata.file_type())));
    }
    if metadata.len() > max {
        return Err(Unread::Refused(too_large(shown, Some(metadata.len()), max)));
    }
    match read_at_most(file, metadata.len(), max) {
        Ok(Some(bytes)) => Ok(bytes),
        // It grew while it was read.
        Ok(None) => Err(Unread::Refused(too_large(shown, None, max))),
        Err(e) => Err(Unread::Refused(cannot_read(shown, &e))),
    }
}

/// Everything `reader` gives, or `None` once it gives more than `max`
/// bytes (never reading more than one byte past it); `expected` is how many
/// bytes to make room for.
pub fn read_at_most(reader: impl Read, expected: u64, max: u64) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::with_capacity(usize::try_from(expected.min(max)).unwrap_or(0));
    reader.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

fn cannot_read(path: &Path, e: &io::Error) -> Diagnostic {
    Diagnostic::error(path, format!("cannot read: {e}"))
}

/// `size`: the file's size, when it was known before reading.
fn too_large(path: &Path, size: Option<u64>, max: u64) -> Diagnostic {
    let size = size.map_or_else(|| "grew while read to".to_string(), |n| format!("is {n} bytes,"));
    Diagnostic::error(path, format!("the file {size} more than the {max} bytes an article may have; not read"))
        .with_hint("raise `[articles] max_bytes` in feeds.toml if an article really is this long")
}

fn outside_the_store(link: &Path, target: &Path) -> Diagnostic {
    Diagnostic::error(
        link,
        format!("a symbolic link leading outside the store (to {}); not followed", target.display()),
    )
    .with_hint(
        "copy what it leads to into the store, or, if the folder it leads into is meant to be published, \
         list that folder in `[articles] follow_links_into` in feeds.toml",
    )
}

fn folder_named_like_an_article(path: &Path) -> Diagnostic {
    Diagnostic::error(path, "a folder named like an article; neither it nor what it holds is read").with_hint(
        "rename the folder: an article is a file, and a page bundle is a folder named by the slug alone \
         holding `index.<lang>.md`",
    )
}

fn not_a_regular_file(path: &Path, kind: FileType) -> Diagnostic {
    Diagnostic::error(
        path,
        format!(
            "not a regular file but {}; herald reads only regular files, and never opens this one",
            kind_name(kind)
        ),
    )
    .with_hint("remove it or move it out of the store")
}

fn kind_name(kind: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_char_device() {
            return "a character device";
        }
    }
    let _ = kind;
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An endless source is read one byte past the limit and no further.
    #[test]
    fn an_endless_source_stops_at_the_limit() {
        assert_eq!(read_at_most(io::repeat(b'a'), 0, 1000).unwrap(), None);
        let mut counted = Counted { inner: io::repeat(b'a'), read: 0 };
        assert_eq!(read_at_most(&mut counted, 0, 1000).unwrap(), None);
        assert_eq!(counted.read, 1001);
        assert_eq!(read_at_most(&b"short"[..], 5, 1000).unwrap().as_deref(), Some(&b"short"[..]));
        assert_eq!(read_at_most(&b"exact"[..], 5, 5).unwrap().as_deref(), Some(&b"exact"[..]));
    }

    struct Counted<R> {
        inner: R,
        read: usize,
    }

    impl<R: Read> Read for Counted<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read += n;
            Ok(n)
        }
    }

    /// Reading a store file gives its bytes and leaves its access time
    /// alone, where a plain read would update it (checked first: on a file
    /// system mounted `noatime` there is nothing to show).
    #[cfg(target_os = "linux")]
    #[test]
    fn reading_a_document_does_not_touch_its_access_time() {
        use rustix::fs::{AtFlags, CWD, Timespec, Timestamps, UTIME_OMIT, utimensat};
        let dir = std::env::temp_dir().join(format!("herald-noatime-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bai.vi.md");
        std::fs::write(&file, "+++\ntitle = \"Bài\"\n+++\nThân bài.\n").unwrap();
        let accessed = || std::fs::metadata(&file).unwrap().accessed().unwrap();
        // An access time a day before the modification: with relatime, the
        // next plain read updates it.
        let set_old_access_time = || {
            let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
            let secs = modified.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 - 86_400;
            let times = Timestamps {
                last_access: Timespec { tv_sec: secs, tv_nsec: 0 },
                last_modification: Timespec { tv_sec: 0, tv_nsec: UTIME_OMIT },
            };
            utimensat(CWD, &file, &times, AtFlags::empty()).unwrap();
            accessed()
        };
        let before = set_old_access_time();
        let plain = std::fs::read(&file).unwrap();
        let plain_read_updates = accessed() != before;
        let before = set_old_access_time();
        let policy = ReadPolicy::default();
        let read = read_found(&dir, Path::new("bai.vi.md"), &policy).unwrap_or_else(|_| panic!("not read"));
        assert_eq!(read, plain);
        if plain_read_updates {
            assert_eq!(accessed(), before, "read_found updated the access time");
        } else {
            eprintln!("this file system keeps no access times: nothing to compare");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
