//! Files saved at shutdown for a fast restart: when `herald serve` stops,
//! it writes the list of the files it served (path, kind, type, ETag, date;
//! every body in the state folder's file cache) with what they were
//! rendered from (herald's version, the configuration, the instant, and the
//! size, modification and change times and inode of every document of the
//! store). At the next start, if all of that is unchanged, those files are
//! served at once while the store is read and rendered in the background
//! as usual; the rendered files then replace them (the same bytes, unless
//! an edit raced the shutdown: then the edit is published and announced
//! like any other). Anything else (another version or configuration, a
//! store changed while herald was down, a scheduled change due, another
//! month, a list or file missing, truncated or corrupt) means the site is
//! built before anything is served (reading only the documents changed
//! since: [`crate::saved_catalog`]), never other output.
//!
//! The list is written under a temporary name and renamed into place, and
//! ends with a digest of itself; it is removed when read, so that it is
//! used for one start only.

use std::io::{self, Write as _};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::article::Month;
use crate::config::Config;
use crate::file_cache::FileCache;
use crate::parallel::lock;
use crate::snapshot::{Resource, ResourceKind, Snapshot};
use crate::store::ArticleStore;

/// The list's file name in the state folder.
pub const SAVED_FILES: &str = "served-files.json";

/// What the list says.
#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    /// herald's version: another one may render other bytes.
    version: String,
    /// Digest of the configuration in force (but the listening address).
    config: String,
    /// When the files were saved (the site's clock, RFC 3339).
    saved_at: String,
    /// When the files would next change with no store change.
    next_change: Option<String>,
    /// Digest of the store's documents and their metadata.
    store: String,
    /// Every file.
    files: Vec<SavedFile>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedFile {
    path: String,
    kind: String,
    content_type: String,
    etag: String,
    last_modified: Option<String>,
    /// The digest naming the body in the file cache.
    digest: String,
    len: u64,
    /// Whether the file is rarely read (kept on disk: `Resource::cold`).
    #[serde(default)]
    cold: bool,
}

/// Saves `snapshot` (rendered at `at`, next changing at `next_change`) for
/// the next start; its bodies go to `cache`, which must keep its files.
pub fn save(
    snapshot: &Snapshot,
    next_change: Option<Timestamp>,
    at: Timestamp,
    config: &Config,
    store: &dyn ArticleStore,
    cache: &FileCache,
) -> io::Result<()> {
    let mut files = Vec::with_capacity(snapshot.len());
    for (path, resource) in snapshot.iter() {
        let stored = match &resource.stored {
            Some(stored) => Arc::clone(stored),
            None => cache.store(&resource.body, crate::digest::digest(&resource.body))?,
        };
        files.push(SavedFile {
            path: path.clone(),
            kind: kind_name(resource.kind).to_string(),
            content_type: resource.content_type.to_string(),
            etag: resource.etag.clone(),
            last_modified: resource.last_modified.map(|t| t.to_string()),
            digest: format!("{:032x}", stored.digest()),
            len: stored.len(),
            cold: resource.cold,
        });
    }
    let saved = Saved {
        version: env!("CARGO_PKG_VERSION").to_string(),
        config: config_digest(config),
        saved_at: at.to_string(),
        next_change: next_change.map(|t| t.to_string()),
        store: store_digest(store, config)?,
        files,
    };
    let mut text = serde_json::to_vec(&saved).map_err(io::Error::other)?;
    let check = format!("\n{:032x}\n", crate::digest::digest(&text));
    text.extend_from_slice(check.as_bytes());
    let path = config.state_dir.join(SAVED_FILES);
    let temp = config.state_dir.join(format!(".{SAVED_FILES}.tmp-{}", std::process::id()));
    let written = std::fs::File::create(&temp)
        .and_then(|mut file| file.write_all(&text).and_then(|()| file.sync_all()))
        .and_then(|()| std::fs::rename(&temp, &path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// The files saved by the last run, if they are exactly what a full build
/// at `now` gives (see the module documentation); the list is removed
/// either way. `None` means a cold start (with the reason logged).
pub fn restore(config: &Config, store: &dyn ArticleStore, cache: &FileCache, now: Timestamp) -> Option<Snapshot> {
    let path = config.state_dir.join(SAVED_FILES);
    // Temporary files of a run killed while saving.
    if let Ok(entries) = std::fs::read_dir(&config.state_dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&format!(".{SAVED_FILES}.tmp-")) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!("cannot read {}: {e}; building the site before serving", path.display());
            return None;
        }
    };
    let _ = std::fs::remove_file(&path);
    match check(&text, config, store, cache, now) {
        Ok(snapshot) => Some(snapshot),
        Err(Cold::Changed(why)) => {
            tracing::info!(
                "the files saved at the last stop are not current ({why}): building the site before serving"
            );
            None
        }
        Err(Cold::Broken(why)) => {
            tracing::warn!("{} is unusable ({why}); building the site before serving", path.display());
            None
        }
    }
}

/// Why saved files are not used.
enum Cold {
    /// They are fine but no longer current.
    Changed(String),
    /// They are truncated, corrupt or incomplete.
    Broken(String),
}

fn check(
    text: &[u8],
    config: &Config,
    store: &dyn ArticleStore,
    cache: &FileCache,
    now: Timestamp,
) -> Result<Snapshot, Cold> {
    let broken = |why: &str| Cold::Broken(why.to_string());
    let text = text.strip_suffix(b"\n").ok_or_else(|| broken("truncated"))?;
    let split = text.iter().rposition(|b| *b == b'\n').ok_or_else(|| broken("truncated"))?;
    let (body, check) = (&text[..split], &text[split + 1..]);
    if check != format!("{:032x}", crate::digest::digest(body)).as_bytes() {
        return Err(broken("its digest does not match: truncated or corrupt"));
    }
    let saved: Saved = serde_json::from_slice(body).map_err(|e| Cold::Broken(e.to_string()))?;
    let changed = |why: &str| Err(Cold::Changed(why.to_string()));
    if saved.version != env!("CARGO_PKG_VERSION") {
        return changed("saved by another version of herald");
    }
    if saved.config != config_digest(config) {
        return changed("the configuration changed");
    }
    let time = |text: &str| text.parse::<Timestamp>().map_err(|e| Cold::Broken(e.to_string()));
    let saved_at = time(&saved.saved_at)?;
    let next_change = saved.next_change.as_deref().map(time).transpose()?;
    let tz = &config.site.time_zone;
    if now < saved_at || Month::of(now, tz) != Month::of(saved_at, tz) {
        return changed("the clock is in another month or went back");
    }
    if next_change.is_some_and(|next| next <= now) {
        return changed("a scheduled change is due");
    }
    let fingerprint = store_digest(store, config).map_err(|e| Cold::Changed(format!("cannot read the store: {e}")))?;
    if fingerprint != saved.store {
        return changed("the store changed");
    }
    let mut snapshot = Snapshot::new();
    for file in saved.files {
        let digest = u128::from_str_radix(&file.digest, 16).map_err(|_| broken("a bad digest"))?;
        let kind = kind_of(&file.kind).ok_or_else(|| broken("an unknown kind of file"))?;
        let mut resource = Resource {
            kind,
            body: Bytes::new(),
            content_type: intern(&file.content_type),
            etag: file.etag,
            last_modified: file.last_modified.as_deref().map(time).transpose()?,
            stored: None,
            cold: file.cold,
        };
        let missing = |e: io::Error| Cold::Broken(format!("{}: {e}", file.path));
        // Every file is served from the cache without being read now: its
        // digest is checked when first read (a file failing it is answered
        // 503, never served), and the background build writes again any
        // that fails ([`repair`]).
        resource.stored = Some(cache.adopt(digest, file.len).map_err(missing)?);
        snapshot.insert(file.path, resource);
    }
    Ok(snapshot)
}

/// Once the background build rendered `built`, checks the bytes on disk of
/// every file of `restored` (served from the cache since the start) that
/// `built` holds with the same ETag, writing again from `built` those that
/// are missing, truncated or corrupt: from then on they read right (they
/// stay served, the same bytes, until they change). How many were written
/// again is logged by the cache.
pub fn repair(restored: &Snapshot, built: &Snapshot, cache: &FileCache) {
    for (path, old) in restored.iter() {
        let (Some(stored), Some(new)) = (&old.stored, built.get(path)) else { continue };
        // A file the build kept on disk was stored (and so checked) by it.
        if new.etag != old.etag || new.stored.is_some() {
            continue;
        }
        if let Err(e) = cache.store(&new.body, stored.digest()) {
            tracing::warn!("cannot write the file of {path} again: {e}");
        }
    }
}

/// The configuration's digest, but for the listening address (a restart on
/// another port renders the same files).
fn config_digest(config: &Config) -> String {
    let mut config = config.clone();
    config.server.listen = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
    format!("{:032x}", crate::digest::digest(format!("{config:?}").as_bytes()))
}

/// The digest of every document of the store with its size, modification
/// and change times (nanoseconds) and inode: any edit, addition, deletion
/// or rename changes it.
fn store_digest(store: &dyn ArticleStore, config: &Config) -> io::Result<String> {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for path in store.list(Path::new("")) {
        let meta = std::fs::metadata(config.store_dir.join(&path))?;
        hasher.update(path.to_string_lossy().as_bytes());
        for n in [meta.size(), meta.ino()] {
            hasher.update(&n.to_le_bytes());
        }
        for n in [meta.mtime(), meta.mtime_nsec(), meta.ctime(), meta.ctime_nsec()] {
            hasher.update(&n.to_le_bytes());
        }
    }
    Ok(format!("{:032x}", hasher.digest128()))
}

fn kind_name(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Feed => "feed",
        ResourceKind::Sitemap => "sitemap",
        ResourceKind::SitemapIndex => "sitemap-index",
        ResourceKind::Archive { past: true } => "archive-past",
        ResourceKind::Archive { past: false } => "archive",
        ResourceKind::Other => "other",
    }
}

fn kind_of(name: &str) -> Option<ResourceKind> {
    Some(match name {
        "feed" => ResourceKind::Feed,
        "sitemap" => ResourceKind::Sitemap,
        "sitemap-index" => ResourceKind::SitemapIndex,
        "archive-past" => ResourceKind::Archive { past: true },
        "archive" => ResourceKind::Archive { past: false },
        "other" => ResourceKind::Other,
        _ => return None,
    })
}

/// The `&'static str` for a content type read back (a handful of distinct
/// values; each is kept once for the life of the process).
fn intern(text: &str) -> &'static str {
    static KNOWN: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut known = lock(&KNOWN);
    if let Some(found) = known.iter().find(|k| **k == text) {
        return found;
    }
    let leaked: &'static str = Box::leak(text.to_string().into_boxed_str());
    known.push(leaked);
    leaked
}

/// Where the saved list is for `config`.
pub fn saved_files_path(config: &Config) -> PathBuf {
    config.state_dir.join(SAVED_FILES)
}
