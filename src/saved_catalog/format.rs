//! The saved catalog's files: one per shard of the documents, each saying
//! which herald and configuration wrote it, then every document of the
//! shard (path, file metadata, when it was read, its article), and last a
//! digest of all that, so a truncated or corrupt file is never taken.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::article::{Article, BodyFormat, Image, Month, Source};
use crate::config::Config;

/// The layout of the files; another one is never read.
const FORMAT: u32 = 1;

/// What a document's file is now: any edit, replacement or rename changes
/// one of these (the change time cannot be set back by anyone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Stamp {
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    ino: u64,
    dev: u64,
}

impl Stamp {
    /// The stamp of a file with `metadata`.
    pub(super) fn of(metadata: &std::fs::Metadata) -> Stamp {
        Stamp {
            size: metadata.size(),
            mtime: (metadata.mtime(), metadata.mtime_nsec()),
            ctime: (metadata.ctime(), metadata.ctime_nsec()),
            ino: metadata.ino(),
            dev: metadata.dev(),
        }
    }

    /// Whether a file with this stamp, read from `seen_at` on, surely had
    /// its last change before then: its change and modification times
    /// are more than `margin` before `seen_at` (file times are coarse, and
    /// a network file system's clock may differ a little from ours), and
    /// its modification time is not after `now`. Otherwise an edit made
    /// just after the read could leave the stamp as it was, and the file
    /// is read again.
    pub(super) fn settled(&self, seen_at: SystemTime, margin: Duration, now: SystemTime) -> bool {
        let Some(limit) = seen_at.checked_sub(margin) else { return false };
        let before = |(secs, nanos): (i64, i64)| instant(secs, nanos).is_some_and(|t| t < limit);
        let not_future = instant(self.mtime.0, self.mtime.1).is_some_and(|t| t <= now);
        before(self.ctime) && before(self.mtime) && not_future
    }
}

/// The instant of `secs` and `nanos` after the Unix epoch, if it is one.
fn instant(secs: i64, nanos: i64) -> Option<SystemTime> {
    let secs = u64::try_from(secs).ok()?;
    let nanos = u32::try_from(nanos).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

/// Which herald and configuration wrote a file: anything else reads
/// documents differently, so its files are not taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Identity {
    format: u32,
    version: String,
    /// A digest of the configuration (but the listening address).
    config: String,
}

impl Identity {
    /// The identity of files written by this herald for `config`.
    pub(super) fn of(config: &Config) -> Identity {
        let mut config = config.clone();
        config.server.listen = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
        Identity {
            format: FORMAT,
            version: env!("CARGO_PKG_VERSION").to_string(),
            config: format!("{:032x}", crate::digest::digest(format!("{config:?}").as_bytes())),
        }
    }
}

/// One shard's file.
#[derive(Debug, Serialize, Deserialize)]
struct ShardFile {
    identity: Identity,
    shard: u16,
    entries: Vec<StoredEntry>,
}

/// One document as saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct StoredEntry {
    /// Store-relative path.
    pub(super) path: String,
    /// The file's stamp when its article was read (or after).
    pub(super) stamp: Stamp,
    /// When the reading began (seconds and nanoseconds since the epoch).
    seen_at: (u64, u32),
    article: StoredArticle,
}

impl StoredEntry {
    /// `article`, read from `seen_at` on from a file with `stamp`.
    pub(super) fn new(article: &Article, stamp: Stamp, seen_at: SystemTime) -> StoredEntry {
        let since = seen_at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        StoredEntry {
            path: path_text(&article.source.path),
            stamp,
            seen_at: (since.as_secs(), since.subsec_nanos()),
            article: StoredArticle::from(article),
        }
    }

    /// When the reading began.
    pub(super) fn seen_at(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::new(self.seen_at.0, self.seen_at.1)
    }

    /// The article, if the entry holds a well-formed one.
    pub(super) fn article(&self) -> Result<Article, String> {
        self.article.to_article()
    }
}

/// A store-relative path as saved (documents' paths are UTF-8: the walk
/// skips other names).
pub(super) fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The bytes of shard `shard`'s file holding `entries` (sorted by path).
pub(super) fn encode(identity: &Identity, shard: u16, entries: Vec<StoredEntry>) -> Vec<u8> {
    let file = ShardFile { identity: identity.clone(), shard, entries };
    let mut text = serde_json::to_vec(&file).expect("a shard serialises");
    let check = format!("\n{:032x}\n", crate::digest::digest(&text));
    text.extend_from_slice(check.as_bytes());
    text
}

/// Why a shard's file is not taken.
#[derive(Debug)]
pub(super) enum Unusable {
    /// Written by another herald or for another configuration.
    Other,
    /// Truncated, corrupt, or not a shard file of this place.
    Broken(String),
}

/// The entries of shard `shard`'s file `bytes`, if it is whole and was
/// written by this herald for this configuration (`identity`).
pub(super) fn decode(bytes: &[u8], identity: &Identity, shard: u16) -> Result<Vec<StoredEntry>, Unusable> {
    let broken = |why: &str| Unusable::Broken(why.to_string());
    let text = bytes.strip_suffix(b"\n").ok_or_else(|| broken("truncated"))?;
    let split = text.iter().rposition(|b| *b == b'\n').ok_or_else(|| broken("truncated"))?;
    let (body, check) = (&text[..split], &text[split + 1..]);
    if check != format!("{:032x}", crate::digest::digest(body)).as_bytes() {
        return Err(broken("its digest does not match: truncated or corrupt"));
    }
    let file: ShardFile = serde_json::from_slice(body).map_err(|e| Unusable::Broken(e.to_string()))?;
    if file.identity != *identity {
        return Err(Unusable::Other);
    }
    if file.shard != shard {
        return Err(broken("it is another shard's file"));
    }
    Ok(file.entries)
}

/// An article as saved: every field, losslessly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredArticle {
    id: String,
    lang: String,
    section: String,
    slug: String,
    title: String,
    summary: String,
    authors: Vec<String>,
    tags: Vec<String>,
    categories: Vec<String>,
    date: (i64, i32),
    month: (i16, i8),
    lastmod: Option<(i64, i32)>,
    publish_date: Option<(i64, i32)>,
    expiry_date: Option<(i64, i32)>,
    draft: bool,
    in_sitemap: bool,
    url: String,
    translation_key: String,
    translation_key_explicit: bool,
    images: Vec<(String, Option<String>, Option<String>)>,
    path: String,
    html: bool,
    body_digest: String,
}

fn stored_time(t: Timestamp) -> (i64, i32) {
    (t.as_second(), t.subsec_nanosecond())
}

fn time((secs, nanos): (i64, i32)) -> Result<Timestamp, String> {
    Timestamp::new(secs, nanos).map_err(|e| e.to_string())
}

impl From<&Article> for StoredArticle {
    fn from(a: &Article) -> StoredArticle {
        StoredArticle {
            id: a.id.clone(),
            lang: a.lang.clone(),
            section: a.section.clone(),
            slug: a.slug.clone(),
            title: a.title.clone(),
            summary: a.summary.clone(),
            authors: a.authors.clone(),
            tags: a.tags.clone(),
            categories: a.categories.clone(),
            date: stored_time(a.date),
            month: (a.month.year, a.month.month),
            lastmod: a.lastmod.map(stored_time),
            publish_date: a.publish_date.map(stored_time),
            expiry_date: a.expiry_date.map(stored_time),
            draft: a.draft,
            in_sitemap: a.in_sitemap,
            url: a.url.clone(),
            translation_key: a.translation_key.clone(),
            translation_key_explicit: a.translation_key_explicit,
            images: a.images.iter().map(|i| (i.src.clone(), i.caption.clone(), i.alt.clone())).collect(),
            path: path_text(&a.source.path),
            html: a.source.body_format == BodyFormat::Html,
            body_digest: format!("{:032x}", a.body_digest),
        }
    }
}

impl StoredArticle {
    fn to_article(&self) -> Result<Article, String> {
        let s = self.clone();
        Ok(Article {
            id: s.id,
            lang: s.lang,
            section: s.section,
            slug: s.slug,
            title: s.title,
            summary: s.summary,
            authors: s.authors,
            tags: s.tags,
            categories: s.categories,
            date: time(s.date)?,
            month: Month { year: s.month.0, month: s.month.1 },
            lastmod: s.lastmod.map(time).transpose()?,
            publish_date: s.publish_date.map(time).transpose()?,
            expiry_date: s.expiry_date.map(time).transpose()?,
            draft: s.draft,
            in_sitemap: s.in_sitemap,
            url: s.url,
            translation_key: s.translation_key,
            translation_key_explicit: s.translation_key_explicit,
            images: s.images.into_iter().map(|(src, caption, alt)| Image { src, caption, alt }).collect(),
            source: Source {
                path: PathBuf::from(s.path),
                body_format: if s.html { BodyFormat::Html } else { BodyFormat::Markdown },
            },
            body_digest: u128::from_str_radix(&s.body_digest, 16).map_err(|e| format!("a bad body digest: {e}"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article() -> Article {
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        Article {
            id: "vi/thoi-su/bai".into(),
            lang: "vi".into(),
            section: "thoi-su".into(),
            slug: "bai".into(),
            title: "Bài \"một\"".into(),
            summary: "Tóm tắt".into(),
            authors: vec!["An".into(), "Bình".into()],
            tags: vec!["kinh tế".into()],
            categories: vec!["tin".into()],
            date: at("2026-11-20T01:00:00.123456789Z"),
            month: Month { year: 2026, month: 11 },
            lastmod: Some(at("2026-11-21T00:00:00Z")),
            publish_date: Some(at("1969-12-31T23:59:59.5Z")),
            expiry_date: None,
            draft: true,
            in_sitemap: false,
            url: "https://example.vn/vi/bai/".into(),
            translation_key: "thoi-su/bai".into(),
            translation_key_explicit: true,
            images: vec![Image { src: "https://example.vn/a.jpg".into(), caption: None, alt: Some("ảnh".into()) }],
            source: Source { path: PathBuf::from("thoi-su/bai.vi.md"), body_format: BodyFormat::Html },
            body_digest: u128::MAX - 7,
        }
    }

    fn identity() -> Identity {
        Identity { format: FORMAT, version: "v".into(), config: "c".into() }
    }

    /// Every field comes back exactly, through the file's bytes.
    #[test]
    fn an_article_comes_back_exactly() {
        let stamp = Stamp { size: 1, mtime: (2, 3), ctime: (4, 5), ino: 6, dev: 7 };
        let entry = StoredEntry::new(&article(), stamp, SystemTime::now());
        let bytes = encode(&identity(), 9, vec![entry.clone()]);
        let entries = decode(&bytes, &identity(), 9).unwrap();
        assert_eq!(entries, vec![entry]);
        assert_eq!(entries[0].article().unwrap(), article());
    }

    /// A file cut short, with a changed byte, of another shard or of
    /// another herald or configuration is refused.
    #[test]
    fn other_or_damaged_files_are_refused() {
        let stamp = Stamp { size: 1, mtime: (2, 3), ctime: (4, 5), ino: 6, dev: 7 };
        let bytes = encode(&identity(), 9, vec![StoredEntry::new(&article(), stamp, SystemTime::now())]);
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 2, bytes.len() - 1] {
            assert!(matches!(decode(&bytes[..cut], &identity(), 9), Err(Unusable::Broken(_))), "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        flipped[bytes.len() / 3] ^= 0x01;
        assert!(matches!(decode(&flipped, &identity(), 9), Err(Unusable::Broken(_))));
        assert!(matches!(decode(&bytes, &identity(), 8), Err(Unusable::Broken(_))));
        let other = Identity { version: "w".into(), ..identity() };
        assert!(matches!(decode(&bytes, &other, 9), Err(Unusable::Other)));
    }

    /// A file changed within the margin before it was read, or dated in
    /// the future, is not settled.
    #[test]
    fn recent_or_future_times_are_not_settled() {
        let seen = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let margin = Duration::from_secs(1);
        let stamp = |m: i64, c: i64| Stamp { size: 1, mtime: (m, 0), ctime: (c, 0), ino: 1, dev: 1 };
        assert!(stamp(500, 998).settled(seen, margin, seen));
        assert!(!stamp(500, 999).settled(seen, margin, seen), "changed within the margin");
        assert!(!stamp(999, 500).settled(seen, margin, seen), "modified within the margin");
        assert!(!stamp(2000, 500).settled(seen, margin, seen), "modified in the future");
        assert!(!stamp(-5, 500).settled(seen, margin, seen), "before the epoch");
    }
}
