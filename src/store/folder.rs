//! The folder store: a Hugo/Zola-compatible content folder.
//!
//! Layout: `<store>/<section>/<slug>.<lang>.md`, `<store>/<section>/<slug>.md`
//! (default language), page bundles `<store>/<section>/<slug>/index.<lang>.md`,
//! and `.json` articles with the same names. Hidden files, `_index.*` section
//! pages, editor back-ups and other extensions are not articles.

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use super::disk::{self, ReadPolicy, Unread};
use super::front_matter::{self, FrontMatterFormat, SyntaxError};
use super::{ArticleStore, KnownArticles, Loaded, Scan};
use crate::article::{Article, ArticleInput, BodyFormat, build_article};
use crate::config::Config;
use crate::diagnostic::Diagnostic;

/// Articles read from a folder on disk (what it refuses to read:
/// [`disk`]).
#[derive(Debug, Clone)]
pub struct FolderStore {
    root: PathBuf,
    policy: ReadPolicy,
}

/// What a document's path says about it before it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathInfo {
    /// Section from the first folder, if the document is inside one.
    pub folder_section: Option<String>,
    /// Language from the file name, if it names one.
    pub file_lang: Option<String>,
    /// Slug candidate: the file's base name, or the bundle folder's name.
    pub file_slug: String,
    /// Default translation key: the path without language and extension.
    pub translation_key: String,
    /// Markdown or JSON.
    pub kind: DocumentKind,
}

/// The two kinds of article documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// Front matter + Markdown body.
    Markdown,
    /// One JSON object.
    Json,
}

impl FolderStore {
    /// A store rooted at `root`, which must be a readable folder, read
    /// with the default [`ReadPolicy`].
    pub fn open(root: &Path) -> Result<FolderStore, Diagnostic> {
        match std::fs::metadata(root) {
            Ok(m) if m.is_dir() => Ok(FolderStore { root: root.to_path_buf(), policy: ReadPolicy::default() }),
            Ok(_) => Err(Diagnostic::error(root, "the article store is not a folder")
                .with_hint("point `store` in feeds.toml (or --store) at the folder that holds the section folders")),
            Err(e) => Err(Diagnostic::error(root, format!("cannot open the article store: {e}"))
                .with_hint("check `store` in feeds.toml (relative paths are read from the config file's folder) or pass --store PATH")),
        }
    }

    /// The store `config` names, read as `config` says.
    pub fn for_config(config: &Config) -> Result<FolderStore, Diagnostic> {
        Ok(FolderStore::open(&config.store_dir)?.with_policy(read_policy(config)))
    }

    /// This store, read with `policy`.
    pub fn with_policy(self, policy: ReadPolicy) -> FolderStore {
        FolderStore { policy, ..self }
    }

    /// The store's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every article document's store-relative path, sorted.
    pub fn document_paths(&self) -> (Vec<PathBuf>, Vec<Diagnostic>) {
        self.documents_under(Path::new(""))
    }

    /// Every article document's store-relative path under folder `under`,
    /// sorted, and what could not be listed or must not be read.
    fn documents_under(&self, under: &Path) -> (Vec<PathBuf>, Vec<Diagnostic>) {
        disk::walk(&self.root, under, &self.policy, &|rel| classify(rel).is_some())
    }

    /// Reads and parses one document given by its store-relative path:
    /// one a walk of the store found, or (`named`) one a file event named.
    fn read(&self, rel: &Path, config: &Config, named: bool) -> Loaded {
        let Some(info) = classify(rel) else { return Loaded::Gone };
        let full = self.root.join(rel);
        let read = if named {
            disk::read_named(&self.root, rel, &self.policy)
        } else {
            disk::read_found(&self.root, rel, &self.policy)
        };
        let bytes = match read {
            Ok(bytes) => bytes,
            Err(Unread::Gone) => return Loaded::Gone,
            Err(Unread::Refused(problem)) => return Loaded::Invalid(problem),
        };
        match parse_document(&full, &info, rel, &bytes, config) {
            Ok(article) => Loaded::Article(Box::new(article)),
            Err(d) => Loaded::Invalid(d),
        }
    }
}

/// What `config` allows the folder store to read.
pub fn read_policy(config: &Config) -> ReadPolicy {
    ReadPolicy { max_bytes: config.articles.max_bytes, follow_links_into: config.articles.follow_links_into.clone() }
}

impl ArticleStore for FolderStore {
    fn scan(&self, config: &Config) -> Scan {
        self.scan_reporting(config, &|_, _| {})
    }

    fn scan_reporting(&self, config: &Config, progress: &(dyn Fn(usize, usize) + Sync)) -> Scan {
        self.scan_with(config, progress, None)
    }

    fn scan_reusing(&self, config: &Config, known: &dyn KnownArticles) -> Scan {
        self.scan_with(config, &|_, _| {}, Some(known))
    }

    fn load(&self, path: &Path, config: &Config) -> Loaded {
        self.read(path, config, true)
    }

    fn list(&self, under: &Path) -> Vec<PathBuf> {
        if !self.root.join(under).is_dir() {
            return Vec::new();
        }
        self.documents_under(under).0
    }

    fn is_document(&self, path: &Path) -> bool {
        classify(path).is_some()
    }

    fn body(&self, article: &Article) -> Result<String, Diagnostic> {
        let full = self.root.join(&article.source.path);
        let bytes =
            disk::read_found(&self.root, &article.source.path, &self.policy).map_err(|unread| match unread {
                Unread::Gone => Diagnostic::error(&full, "cannot read the body: the file is gone"),
                Unread::Refused(problem) => problem,
            })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            Diagnostic::error(&full, format!("cannot read the body: the file is not valid UTF-8 ({e})"))
        })?;
        document_body(&full, &text)
    }
}

impl FolderStore {
    /// Reads every document (but those `known` gives, by their files'
    /// metadata), calling `progress(done, total)` now and then.
    fn scan_with(
        &self,
        config: &Config,
        progress: &(dyn Fn(usize, usize) + Sync),
        known: Option<&dyn KnownArticles>,
    ) -> Scan {
        /// How many documents a worker reads between two progress reports.
        const REPORT_EVERY: usize = 512;
        let reused = std::sync::atomic::AtomicUsize::new(0);
        let (paths, mut diagnostics) = self.document_paths();
        let total = paths.len();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let workers = crate::parallel::threads().min(paths.len().max(1));
        let chunk = paths.len().div_ceil(workers).max(1);
        let report = |newly_read: usize| {
            let so_far = done.fetch_add(newly_read, std::sync::atomic::Ordering::Relaxed) + newly_read;
            progress(so_far, total);
        };
        // Each worker gives its articles and problems in path order. The
        // articles are unboxed as they come, so the boxes' memory is reused
        // for the next document instead of left behind in holes.
        let read_part = |part: &[PathBuf]| {
            let mut articles = Vec::with_capacity(part.len());
            let mut problems = Vec::new();
            let mut unreported = 0;
            for path in part {
                let given = known.and_then(|known| {
                    let metadata = std::fs::metadata(self.root.join(path)).ok()?;
                    known.take(path, &metadata)
                });
                let loaded = match given {
                    Some(article) => {
                        reused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        Loaded::Article(Box::new(article))
                    }
                    None => self.read(path, config, false),
                };
                match loaded {
                    Loaded::Article(a) => articles.push(*a),
                    Loaded::Invalid(d) => problems.push(d),
                    Loaded::Gone => {}
                }
                unreported += 1;
                if unreported == REPORT_EVERY {
                    report(unreported);
                    unreported = 0;
                }
            }
            if unreported > 0 {
                report(unreported);
            }
            (articles, problems)
        };
        // One part per worker. A reader that panics does not leave its
        // share of the store out silently: the panic goes on to the caller
        // (the daemon then keeps the files it serves; `herald build` stops).
        let parts: Vec<&[PathBuf]> = paths.chunks(chunk).collect();
        let results: Vec<(Vec<Article>, Vec<Diagnostic>)> = crate::parallel::map(&parts, |part| read_part(part));
        // The first part's list grows in place to hold them all.
        let mut parts = results.into_iter();
        let (mut articles, problems) = parts.next().unwrap_or_default();
        diagnostics.extend(problems);
        let rest: Vec<_> = parts.collect();
        articles.reserve_exact(rest.iter().map(|(part, _)| part.len()).sum());
        for (mut part, problems) in rest {
            articles.append(&mut part);
            diagnostics.extend(problems);
        }
        Scan { articles, diagnostics, documents: paths.len(), reused: reused.into_inner() }
    }
}

/// The body of a document's text: after the front matter for Markdown,
/// `body`/`body_html` for JSON. `path` names the document in messages and
/// decides its kind by extension.
pub fn document_body(path: &Path, text: &str) -> Result<String, Diagnostic> {
    if path.extension().is_some_and(|e| e == "json") {
        let fields = front_matter::parse(FrontMatterFormat::Json, text, 1).map_err(|e| syntax_diagnostic(path, e))?;
        Ok(json_body(&fields).map(|(body, _)| body).unwrap_or_default())
    } else {
        let split = front_matter::split(text).map_err(|e| syntax_diagnostic(path, e))?;
        Ok(split.body.to_string())
    }
}

/// Reads what a store-relative path says about a document, or `None` when
/// the path is not an article document.
pub fn classify(rel: &Path) -> Option<PathInfo> {
    let parts: Vec<&str> = rel
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    let (file, folders) = parts.split_last()?;
    // Nothing in a folder named like a document is one: the folder is
    // reported instead (see `disk`).
    if file.starts_with('.')
        || file.starts_with('_')
        || folders.iter().any(|f| f.starts_with('.') || f.starts_with('_') || document_kind(f).is_some())
    {
        return None;
    }
    let (stem, kind) = document_kind(file)?;
    let (base, file_lang) = match stem.rsplit_once('.') {
        Some((base, lang)) if looks_like_language(lang) => (base, Some(lang.to_string())),
        _ => (stem, None),
    };
    if base.is_empty() {
        return None;
    }
    let (file_slug, slug_folders) = if base == "index" {
        let (bundle, outer) = folders.split_last()?;
        (bundle.to_string(), outer)
    } else {
        (base.to_string(), folders)
    };
    let mut key_parts: Vec<&str> = slug_folders.to_vec();
    key_parts.push(&file_slug);
    Some(PathInfo {
        folder_section: slug_folders.first().map(|s| s.to_string()),
        file_lang,
        translation_key: key_parts.join("/"),
        file_slug,
        kind,
    })
}

/// A document file name's stem and kind, by its extension.
fn document_kind(name: &str) -> Option<(&str, DocumentKind)> {
    if let Some(stem) = name.strip_suffix(".md").or_else(|| name.strip_suffix(".markdown")) {
        Some((stem, DocumentKind::Markdown))
    } else {
        name.strip_suffix(".json").map(|stem| (stem, DocumentKind::Json))
    }
}

fn looks_like_language(s: &str) -> bool {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or("");
    (2..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| !p.is_empty() && p.len() <= 8)
}

/// Parses one document's bytes into an article. `full` is the path used in
/// messages; `rel` the store-relative path kept in the article.
pub fn parse_document(
    full: &Path,
    info: &PathInfo,
    rel: &Path,
    bytes: &[u8],
    config: &Config,
) -> Result<Article, Diagnostic> {
    parse_with(full, info, rel, bytes, config, |article, _, _| article)
}

/// A document read whole: its article, and the front matter and body it
/// was built from (what `herald db import` copies into the database).
#[derive(Debug, Clone)]
pub struct DocumentParts {
    /// The article, as the folder store reads it.
    pub article: Article,
    /// The front-matter fields (TOML, YAML and JSON alike, as JSON values).
    pub fields: serde_json::Map<String, Value>,
    /// The body text.
    pub body: String,
    /// What the path says about the document.
    pub info: PathInfo,
}

impl FolderStore {
    /// Reads the document at store-relative `rel` whole: `Ok(None)` when it
    /// is gone or not an article document, an error when it is broken.
    pub fn read_parts(&self, rel: &Path, config: &Config) -> Result<Option<DocumentParts>, Diagnostic> {
        let Some(info) = classify(rel) else { return Ok(None) };
        let bytes = match disk::read_found(&self.root, rel, &self.policy) {
            Ok(bytes) => bytes,
            Err(Unread::Gone) => return Ok(None),
            Err(Unread::Refused(problem)) => return Err(problem),
        };
        let full = self.root.join(rel);
        parse_with(&full, &info, rel, &bytes, config, |article, fields, body| {
            Some(DocumentParts { article, fields: fields.clone(), body: body.to_string(), info: info.clone() })
        })
    }
}

/// [`parse_document`], handing the article, its fields and its body to
/// `keep`.
fn parse_with<T>(
    full: &Path,
    info: &PathInfo,
    rel: &Path,
    bytes: &[u8],
    config: &Config,
    keep: impl FnOnce(Article, &serde_json::Map<String, Value>, &str) -> T,
) -> Result<T, Diagnostic> {
    // The fast check first; std's, for the position of the fault.
    let text = simdutf8::basic::from_utf8(bytes).or_else(|_| std::str::from_utf8(bytes)).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
        Diagnostic::error(
            full,
            format!("the file is not valid UTF-8 (byte {} is not part of a UTF-8 character)", e.valid_up_to()),
        )
        .at_line(line)
        .with_hint("save the file as UTF-8")
    })?;
    let (fields, fm_format, fm_text, first_line, body, body_format) = match info.kind {
        DocumentKind::Markdown => {
            let split = front_matter::split(text).map_err(|e| syntax_diagnostic(full, e))?;
            let fields = front_matter::parse(split.format, split.front_matter, split.first_line)
                .map_err(|e| syntax_diagnostic(full, e))?;
            (
                fields,
                split.format,
                split.front_matter,
                split.first_line,
                Cow::Borrowed(split.body),
                BodyFormat::Markdown,
            )
        }
        DocumentKind::Json => {
            let fields =
                front_matter::parse(FrontMatterFormat::Json, text, 1).map_err(|e| syntax_diagnostic(full, e))?;
            let (body, format) = json_body(&fields).ok_or_else(|| {
                let line = front_matter::field_line(FrontMatterFormat::Json, text, 1, "body").unwrap_or(1);
                Diagnostic::error(full, "`body` and `body_html` must be text")
                    .at_line(line)
                    .with_hint("give the body as a string in `body` (Markdown) or `body_html` (HTML)")
            })?;
            (fields, FrontMatterFormat::Json, text, 1, Cow::Owned(body), format)
        }
    };
    let field_line = |key: &str| front_matter::field_line(fm_format, fm_text, first_line, key);
    let input = ArticleInput {
        path: full.to_path_buf(),
        folder_section: info.folder_section.clone(),
        file_lang: info.file_lang.clone(),
        file_slug: info.file_slug.clone(),
        default_translation_key: info.translation_key.clone(),
        fields: &fields,
        field_line: &field_line,
        body: &body,
        body_format,
    };
    let mut article = build_article(&input, config)?;
    article.source.path = rel.to_path_buf();
    Ok(keep(article, &fields, &body))
}

/// The body of a JSON article: `body` (Markdown) or `body_html` (HTML).
/// `None` when one of them is present but not text.
fn json_body(fields: &serde_json::Map<String, Value>) -> Option<(String, BodyFormat)> {
    match (fields.get("body"), fields.get("body_html")) {
        (Some(Value::String(md)), _) => Some((md.clone(), BodyFormat::Markdown)),
        (None | Some(Value::Null), Some(Value::String(html))) => Some((html.clone(), BodyFormat::Html)),
        (None | Some(Value::Null), None | Some(Value::Null)) => Some((String::new(), BodyFormat::Markdown)),
        _ => None,
    }
}

fn syntax_diagnostic(path: &Path, e: SyntaxError) -> Diagnostic {
    let d = Diagnostic::error(path, e.message).with_hint(e.hint);
    match e.column {
        Some(c) => d.at(e.line, c),
        None => d.at_line(e.line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(path: &str) -> Option<PathInfo> {
        classify(Path::new(path))
    }

    #[test]
    fn classifies_hugo_layouts() {
        let i = info("thoi-su/le-hoi.en.md").unwrap();
        assert_eq!(i.folder_section.as_deref(), Some("thoi-su"));
        assert_eq!(i.file_lang.as_deref(), Some("en"));
        assert_eq!(i.file_slug, "le-hoi");
        assert_eq!(i.translation_key, "thoi-su/le-hoi");

        let i = info("thoi-su/le-hoi.md").unwrap();
        assert_eq!(i.file_lang, None);
        assert_eq!(i.translation_key, "thoi-su/le-hoi");

        let i = info("thoi-su/le-hoi/index.vi.md").unwrap();
        assert_eq!(i.folder_section.as_deref(), Some("thoi-su"));
        assert_eq!(i.file_slug, "le-hoi");
        assert_eq!(i.translation_key, "thoi-su/le-hoi");

        let i = info("kinh-te/bao-cao.json").unwrap();
        assert_eq!(i.kind, DocumentKind::Json);

        let i = info("about.md").unwrap();
        assert_eq!(i.folder_section, None);

        let i = info("thoi-su/v2.0.md").unwrap();
        assert_eq!(i.file_slug, "v2.0");
        assert_eq!(i.file_lang, None);
    }

    #[test]
    fn skips_non_articles() {
        assert_eq!(info("thoi-su/_index.md"), None);
        assert_eq!(info("thoi-su/.draft.md"), None);
        assert_eq!(info("thoi-su/photo.jpg"), None);
        assert_eq!(info("thoi-su/bai.md~"), None);
        assert_eq!(info("_drafts/bai.md"), None);
        assert_eq!(info("thoi-su/x.vi.md/index.vi.md"), None);
    }
}
