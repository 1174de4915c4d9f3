//! The on-disk file cache: rendered files kept in the state folder instead
//! of in memory (those `Resource::belongs_on_disk` names: archives of past
//! months, most of a large site's bytes, never changing; the files of tag,
//! author and category feeds and every HTML view, many and rarely read),
//! with their gzip and brotli twins.
//!
//! Files are content-addressed: a file whose bytes have the digest `D`
//! (the digest in its ETag) is `<dir>/D`, its twins `<dir>/D.gz` and
//! `<dir>/D.br`. Every file is written to a temporary name and renamed into
//! place, so a file with its final name is whole (a process killed while
//! writing leaves only a temporary file, removed at the next open). No
//! file is ever trusted on its name alone: a file found on disk is used
//! only after its bytes were read and their digest checked (twins:
//! decompressed and checked); anything else is rewritten with a warning.
//! Files written in this run are trusted (the page cache is coherent), and
//! every read checks the length. (Hence no `fsync`: after a power loss, a
//! file whose bytes did not reach the disk fails its check and is
//! rewritten.)
//!
//! A [`StoredFile`] is shared by every resource with the same bytes; when
//! the last one goes, its files are deleted (unless the cache was told to
//! [`FileCache::keep_files`], at shutdown). Files a previous run left that
//! nothing uses are deleted by [`FileCache::sweep`].

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use bytes::Bytes;

use crate::parallel::lock;

/// Prefix of the temporary files being written.
const TEMP_PREFIX: &str = ".tmp-";

/// A representation of a stored file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    /// The bytes themselves.
    Identity,
    /// gzip.
    Gzip,
    /// brotli.
    Brotli,
}

impl Representation {
    fn suffix(self) -> &'static str {
        match self {
            Representation::Identity => "",
            Representation::Gzip => ".gz",
            Representation::Brotli => ".br",
        }
    }
}

/// The cache folder and the files in use in it.
#[derive(Clone)]
pub struct FileCache {
    shared: Arc<Shared>,
}

struct Shared {
    dir: PathBuf,
    /// The stored files in use, by digest.
    live: Mutex<HashMap<u128, Weak<StoredFile>>>,
    /// Bytes of the files in use (twins included).
    disk_bytes: AtomicU64,
    /// Set at shutdown: files no longer used are kept for the next run.
    keep: AtomicBool,
    /// Numbers temporary files.
    temp_counter: AtomicU64,
}

impl fmt::Debug for FileCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileCache").field("dir", &self.shared.dir).finish_non_exhaustive()
    }
}

/// One file's bytes on disk, with their twins once made.
pub struct StoredFile {
    shared: Arc<Shared>,
    digest: u128,
    len: u64,
    /// Lengths of the gzip and brotli twins, once on disk.
    twins: OnceLock<(u64, u64)>,
    /// Whether the bytes on disk are known good: written or checked in
    /// this run. A file adopted unchecked ([`FileCache::adopt`]) is
    /// checked when first read.
    verified: AtomicBool,
}

impl fmt::Debug for StoredFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoredFile({:032x}, {} bytes)", self.digest, self.len)
    }
}

impl PartialEq for StoredFile {
    fn eq(&self, other: &StoredFile) -> bool {
        self.digest == other.digest && self.len == other.len
    }
}

impl Eq for StoredFile {}

impl FileCache {
    /// Opens (creating it if need be) the cache folder `dir`, removing the
    /// temporary files a killed process left.
    pub fn open(dir: &Path) -> io::Result<FileCache> {
        std::fs::create_dir_all(dir)?;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                tracing::info!("removing {}, left by a herald stopped while writing it", entry.path().display());
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(FileCache {
            shared: Arc::new(Shared {
                dir: dir.to_path_buf(),
                live: Mutex::default(),
                disk_bytes: AtomicU64::new(0),
                keep: AtomicBool::new(false),
                temp_counter: AtomicU64::new(0),
            }),
        })
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Keeps `body` (whose digest is `digest`) on disk: the file already in
    /// use with those bytes, or one found on disk whose bytes check out, or
    /// a new one.
    pub fn store(&self, body: &[u8], digest: u128) -> io::Result<Arc<StoredFile>> {
        let mut live = lock(&self.shared.live);
        let path = self.shared.path(digest, Representation::Identity);
        let good = |bytes: Vec<u8>| crate::digest::digest(&bytes) == digest;
        if let Some(file) = live.get(&digest).and_then(Weak::upgrade) {
            if !file.verified.load(Ordering::Acquire) {
                if !self.shared.holds(&path, body.len() as u64, good) {
                    self.shared.write(&path, body)?;
                }
                file.verified.store(true, Ordering::Release);
            }
            return Ok(file);
        }
        if !self.shared.holds(&path, body.len() as u64, good) {
            self.shared.write(&path, body)?;
        }
        let file = Arc::new(StoredFile {
            shared: Arc::clone(&self.shared),
            digest,
            len: body.len() as u64,
            twins: OnceLock::new(),
            verified: AtomicBool::new(true),
        });
        self.shared.disk_bytes.fetch_add(file.len, Ordering::Relaxed);
        live.insert(digest, Arc::downgrade(&file));
        Ok(file)
    }

    /// The file a previous run left for bytes of digest `digest` and length
    /// `len`, used without reading it now (at a restart, to serve at once):
    /// it is checked when first read, and when the same bytes are stored.
    /// An error when there is no such file (or not of that length).
    pub fn adopt(&self, digest: u128, len: u64) -> io::Result<Arc<StoredFile>> {
        let mut live = lock(&self.shared.live);
        if let Some(file) = live.get(&digest).and_then(Weak::upgrade) {
            return Ok(file);
        }
        let path = self.shared.path(digest, Representation::Identity);
        let found = std::fs::metadata(&path)?.len();
        if found != len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} holds {found} bytes, not {len}", path.display()),
            ));
        }
        let file = Arc::new(StoredFile {
            shared: Arc::clone(&self.shared),
            digest,
            len,
            twins: OnceLock::new(),
            verified: AtomicBool::new(false),
        });
        self.shared.disk_bytes.fetch_add(len, Ordering::Relaxed);
        live.insert(digest, Arc::downgrade(&file));
        Ok(file)
    }

    /// Bytes on disk of the files in use, twins included.
    pub fn disk_bytes(&self) -> u64 {
        self.shared.disk_bytes.load(Ordering::Relaxed)
    }

    /// From now on, files no longer used stay on disk (for the next run);
    /// called at shutdown.
    pub fn keep_files(&self) {
        self.shared.keep.store(true, Ordering::Relaxed);
    }

    /// Deletes the files (and temporary files) in the folder that no
    /// stored file in use names; how many.
    pub fn sweep(&self) -> io::Result<usize> {
        let live = lock(&self.shared.live);
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.shared.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(&format!("{TEMP_PREFIX}{}-", std::process::id())) {
                continue; // being written now
            }
            let digest = name.split('.').next().and_then(|hex| u128::from_str_radix(hex, 16).ok());
            let used = digest.is_some_and(|d| live.get(&d).is_some_and(|w| w.strong_count() > 0));
            if !used {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(removed)
    }
}

impl Shared {
    fn path(&self, digest: u128, representation: Representation) -> PathBuf {
        self.dir.join(format!("{digest:032x}{}", representation.suffix()))
    }

    /// Whether `path` exists with `len` bytes that pass `check`; a file
    /// that exists and does not is reported (it is then rewritten).
    fn holds(&self, path: &Path, len: u64, check: impl FnOnce(Vec<u8>) -> bool) -> bool {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return false,
            Err(e) => {
                tracing::warn!("cannot read the cached file {}: {e}; writing it again", path.display());
                return false;
            }
        };
        let good = bytes.len() as u64 == len && check(bytes);
        if !good {
            tracing::warn!("the cached file {} is corrupt or truncated; writing it again", path.display());
        }
        good
    }

    /// Writes `bytes` to `path` through a temporary file renamed into place.
    fn write(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let n = self.temp_counter.fetch_add(1, Ordering::Relaxed);
        let temp = self.dir.join(format!("{TEMP_PREFIX}{}-{n}", std::process::id()));
        let written = std::fs::File::create(&temp)
            .and_then(|mut file| file.write_all(bytes))
            .and_then(|()| std::fs::rename(&temp, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written
    }
}

impl StoredFile {
    /// Length of the bytes (identity).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digest of the bytes.
    pub fn digest(&self) -> u128 {
        self.digest
    }

    /// Lengths of the gzip and brotli twins, once on disk.
    pub fn twins(&self) -> Option<(u64, u64)> {
        self.twins.get().copied()
    }

    /// Where `representation` of the file is.
    pub fn path(&self, representation: Representation) -> PathBuf {
        self.shared.path(self.digest, representation)
    }

    /// Reads `representation` (a twin only once on disk); a file of the
    /// wrong length (truncated or replaced behind herald's back) is an
    /// error, never served.
    pub fn read(&self, representation: Representation) -> io::Result<Bytes> {
        let expected = match (representation, self.twins()) {
            (Representation::Identity, _) => self.len,
            (Representation::Gzip, Some((gzip, _))) => gzip,
            (Representation::Brotli, Some((_, brotli))) => brotli,
            _ => return Err(io::Error::new(io::ErrorKind::NotFound, "no compressed twin yet")),
        };
        let path = self.path(representation);
        let mut file = std::fs::File::open(&path)?;
        let mut bytes = Vec::with_capacity(expected as usize);
        file.read_to_end(&mut bytes)?;
        if bytes.len() as u64 != expected {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} holds {} bytes, not {expected}", path.display(), bytes.len()),
            ));
        }
        if representation == Representation::Identity && !self.verified.load(Ordering::Acquire) {
            if crate::digest::digest(&bytes) != self.digest {
                tracing::warn!("the cached file {} is corrupt: not served", path.display());
                return Err(io::Error::new(io::ErrorKind::InvalidData, format!("{} is corrupt", path.display())));
            }
            self.verified.store(true, Ordering::Release);
        }
        Ok(Bytes::from(bytes))
    }

    /// Uses the twins a previous run left when they decompress to this
    /// file's bytes; whether it did.
    pub fn reuse_twins(&self) -> bool {
        if self.twins.get().is_some() {
            return true;
        }
        // Twins are only as good as the bytes they were checked against.
        if !self.verified.load(Ordering::Acquire) && self.read(Representation::Identity).is_err() {
            return false;
        }
        let gzip = self.path(Representation::Gzip);
        let brotli = self.path(Representation::Brotli);
        let (Ok(gzip_len), Ok(brotli_len)) = (std::fs::metadata(&gzip), std::fs::metadata(&brotli)) else {
            return false;
        };
        let decodes = |bytes: Vec<u8>, decode: fn(&[u8]) -> io::Result<Vec<u8>>| {
            decode(&bytes).is_ok_and(|plain| crate::digest::digest(&plain) == self.digest)
        };
        let good = self.shared.holds(&gzip, gzip_len.len(), |b| decodes(b, gunzip))
            && self.shared.holds(&brotli, brotli_len.len(), |b| decodes(b, unbrotli));
        if good {
            self.set_twins(gzip_len.len(), brotli_len.len());
        }
        good
    }

    /// Writes the twins made from this file's bytes.
    pub fn write_twins(&self, gzip: &[u8], brotli: &[u8]) -> io::Result<()> {
        self.shared.write(&self.path(Representation::Gzip), gzip)?;
        self.shared.write(&self.path(Representation::Brotli), brotli)?;
        self.set_twins(gzip.len() as u64, brotli.len() as u64);
        Ok(())
    }

    fn set_twins(&self, gzip: u64, brotli: u64) {
        if self.twins.set((gzip, brotli)).is_ok() {
            self.shared.disk_bytes.fetch_add(gzip + brotli, Ordering::Relaxed);
        }
    }
}

impl Drop for StoredFile {
    fn drop(&mut self) {
        let mut live = lock(&self.shared.live);
        let twins = self.twins().map_or(0, |(g, b)| g + b);
        self.shared.disk_bytes.fetch_sub(self.len + twins, Ordering::Relaxed);
        // Another file with the same bytes may have been stored since this
        // one's last user went: its entry (and its files) stay.
        let ours = live.get(&self.digest).is_some_and(|w| w.strong_count() == 0);
        if !ours {
            return;
        }
        live.remove(&self.digest);
        if self.shared.keep.load(Ordering::Relaxed) {
            return;
        }
        for representation in [Representation::Identity, Representation::Gzip, Representation::Brotli] {
            match std::fs::remove_file(self.path(representation)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    tracing::warn!("cannot remove {}: {e}", self.path(representation).display());
                }
                _ => {}
            }
        }
    }
}

fn gunzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

fn unbrotli(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut io::Cursor::new(bytes), &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn brotli(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        brotli::BrotliCompress(&mut io::Cursor::new(bytes), &mut out, &Default::default()).unwrap();
        out
    }

    fn body(n: usize) -> Vec<u8> {
        format!("<rss>archive {n}</rss>\n").repeat(100).into_bytes()
    }

    #[test]
    fn stores_reads_shares_and_deletes_when_unused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::open(dir.path()).unwrap();
        let bytes = body(1);
        let digest = crate::digest::digest(&bytes);
        let first = cache.store(&bytes, digest).unwrap();
        let again = cache.store(&bytes, digest).unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the same bytes share one file");
        assert_eq!(first.read(Representation::Identity).unwrap(), bytes);
        assert!(first.read(Representation::Gzip).is_err(), "no twin yet");
        first.write_twins(&gzip(&bytes), &brotli(&bytes)).unwrap();
        assert_eq!(gunzip(&first.read(Representation::Gzip).unwrap()).unwrap(), bytes);
        assert_eq!(cache.disk_bytes(), bytes.len() as u64 + first.twins().map_or(0, |(g, b)| g + b));
        drop((first, again));
        assert_eq!(cache.disk_bytes(), 0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "an unused file is deleted");
    }

    /// A file a previous run left is used only when its bytes check out; a
    /// corrupt or truncated one (identity or twin) is rewritten, never
    /// served; temporary files of a killed run are removed.
    #[test]
    fn files_left_by_a_previous_run_are_checked_before_use() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = body(2);
        let digest = crate::digest::digest(&bytes);
        {
            let cache = FileCache::open(dir.path()).unwrap();
            let file = cache.store(&bytes, digest).unwrap();
            file.write_twins(&gzip(&bytes), &brotli(&bytes)).unwrap();
            cache.keep_files();
        }
        let identity = dir.path().join(format!("{digest:032x}"));
        let twin = dir.path().join(format!("{digest:032x}.br"));
        assert!(identity.exists() && twin.exists(), "kept at shutdown");
        // Kept twins are reused as they are.
        let cache = FileCache::open(dir.path()).unwrap();
        let file = cache.store(&bytes, digest).unwrap();
        assert!(file.reuse_twins());
        cache.keep_files();
        drop(file);

        // Same length, other bytes; a truncated twin; a killed write.
        let mut corrupt = bytes.clone();
        corrupt[10] ^= 1;
        std::fs::write(&identity, &corrupt).unwrap();
        let brotli_bytes = std::fs::read(&twin).unwrap();
        std::fs::write(&twin, &brotli_bytes[..brotli_bytes.len() / 2]).unwrap();
        std::fs::write(dir.path().join(".tmp-1-0"), b"half a fi").unwrap();

        let cache = FileCache::open(dir.path()).unwrap();
        assert!(!dir.path().join(".tmp-1-0").exists());
        let file = cache.store(&bytes, digest).unwrap();
        assert_eq!(file.read(Representation::Identity).unwrap(), bytes, "the corrupt file was rewritten");
        assert!(!file.reuse_twins(), "a truncated twin is not used");
        file.write_twins(&gzip(&bytes), &brotli(&bytes)).unwrap();
        assert_eq!(unbrotli(&file.read(Representation::Brotli).unwrap()).unwrap(), bytes);

        // Something truncating a file while herald runs: an error, not bytes.
        std::fs::write(&identity, &bytes[..100]).unwrap();
        assert!(file.read(Representation::Identity).is_err());
    }

    #[test]
    fn a_sweep_removes_what_nothing_uses() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::open(dir.path()).unwrap();
        let (a, b) = (body(3), body(4));
        let kept = cache.store(&a, crate::digest::digest(&a)).unwrap();
        cache.keep_files();
        drop(cache.store(&b, crate::digest::digest(&b)).unwrap());
        std::fs::write(dir.path().join("stray"), b"x").unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
        assert_eq!(cache.sweep().unwrap(), 2);
        assert_eq!(kept.read(Representation::Identity).unwrap(), a);
    }
}
