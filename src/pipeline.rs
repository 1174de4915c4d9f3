//! One full pass of the pipeline: read the store, index it, render every
//! file. `herald build` and `herald check` are thin wrappers around this;
//! the daemon starts from it and then keeps the result current.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use crate::article::Article;
use crate::catalog::Catalog;
use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::render::{self, BodyCache};
use crate::snapshot::{Snapshot, StagedDir};
use crate::store::{ArticleStore, FolderStore};

/// The store read and indexed at one instant.
#[derive(Debug)]
pub struct Loaded {
    /// Visible articles and the timeline of future changes.
    pub catalog: Catalog,
    /// Every problem found (errors: skipped documents; warnings).
    pub diagnostics: Vec<Diagnostic>,
    /// How many article documents the store holds.
    pub documents: usize,
}

impl Loaded {
    /// Whether any problem made herald skip something.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Reads the whole store and indexes it at `now`, with warnings about
/// questionable but usable content.
pub fn load(store: &dyn ArticleStore, config: &Config, now: Timestamp) -> Loaded {
    load_reporting(store, config, now, &|_, _| {})
}

/// [`load`], calling `progress(done, total)` as documents are read.
pub fn load_reporting(
    store: &dyn ArticleStore,
    config: &Config,
    now: Timestamp,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Loaded {
    let scan = store.scan_reporting(config, progress);
    let mut diagnostics = scan.diagnostics;
    if scan.documents == 0 {
        diagnostics.push(empty_store_warning(config));
    }
    let warnings = content_warnings(&scan.articles, config);
    let (catalog, refused) = Catalog::from_articles(scan.articles, now, config.taxonomies.enabled());
    diagnostics.extend(refused);
    diagnostics.extend(warnings);
    diagnostics.sort();
    Loaded { catalog, diagnostics, documents: scan.documents }
}

/// The warning for a store without a single article document, with a hint
/// for the usual mistake (pointing at a Hugo or Zola site instead of its
/// `content/` folder).
fn empty_store_warning(config: &Config) -> Diagnostic {
    if config.database.articles {
        return Diagnostic::warning("articles", "the articles table holds no articles").with_hint(
            "fill it with `herald db import FOLDER`, or let the CMS write rows (README: Articles in PostgreSQL)",
        );
    }
    let store = &config.store_dir;
    let content = store.join("content");
    let hint = if content.is_dir() {
        format!("this looks like a site folder: set `store` to {} (or pass --store)", content.display())
    } else {
        "articles are files such as <store>/<section>/<slug>.<lang>.md; check `store` in feeds.toml or --store"
            .to_string()
    };
    Diagnostic::warning(store, "the store holds no articles").with_hint(hint)
}

/// Opens the configured folder store.
pub fn open_store(config: &Config) -> Result<FolderStore, Diagnostic> {
    FolderStore::for_config(config)
}

/// The result of a full build.
#[derive(Debug)]
pub struct Built {
    /// Every rendered file.
    pub snapshot: Snapshot,
    /// The indexed store the files were rendered from.
    pub loaded: Loaded,
}

/// Reads, indexes and renders the whole site at `now`.
pub fn build(store: &dyn ArticleStore, config: &Config, now: Timestamp) -> Built {
    build_reporting(store, config, now, &|_| {})
}

/// A step of a full build, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildStep {
    /// Reading documents: this many of that many.
    Reading {
        /// Documents read so far.
        done: usize,
        /// Documents in the store.
        total: usize,
    },
    /// Every document is read; the files are being rendered.
    Rendering,
}

/// [`build`], calling `progress` as it goes.
pub fn build_reporting(
    store: &dyn ArticleStore,
    config: &Config,
    now: Timestamp,
    progress: &(dyn Fn(BuildStep) + Sync),
) -> Built {
    let mut loaded = load_reporting(store, config, now, &|done, total| progress(BuildStep::Reading { done, total }));
    progress(BuildStep::Rendering);
    let mut bodies = BodyCache::default();
    let snapshot = render::render_site(&loaded.catalog, config, store, &mut bodies);
    loaded.diagnostics.append(&mut bodies.problems);
    Built { snapshot, loaded }
}

/// Renders the site of `loaded` file by file into `staged` (the folder
/// `herald build` swaps in), never holding the whole site in memory; the
/// problems met reading bodies are added to `loaded.diagnostics`. How many
/// files were written.
pub fn write_site(
    loaded: &mut Loaded,
    store: &dyn ArticleStore,
    config: &Config,
    staged: &StagedDir,
) -> std::io::Result<usize> {
    let mut bodies = BodyCache::default();
    let written = render::render_site_to(&loaded.catalog, config, store, &mut bodies, &|path, resource| {
        staged.put(&path, &resource)
    });
    loaded.diagnostics.append(&mut bodies.problems);
    written
}

/// Warnings `herald check` reports about content that builds but is
/// probably not what the newsroom meant.
fn content_warnings(articles: &[Article], config: &Config) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    // A row's place (`articles:KEY`) is not under the store folder.
    let path_of = |a: &Article| match crate::store::postgres::row_key(&a.source.path) {
        Some(_) => a.source.path.clone(),
        None => config.store_dir.join(&a.source.path),
    };

    // Sections without a declaration in feeds.toml.
    let undeclared: BTreeSet<&str> =
        articles.iter().map(|a| a.section.as_str()).filter(|s| !config.sections.contains_key(*s)).collect();
    for section in undeclared {
        out.push(
            Diagnostic::warning(
                config.store_dir.join(section),
                format!("section `{section}` is not declared in feeds.toml; its feeds are titled `{section}`"),
            )
            .with_hint(format!("add [sections.{section}] with a title per language")),
        );
    }

    // Permalinks used twice.
    let mut by_url: BTreeMap<&str, Vec<&Article>> = BTreeMap::new();
    for a in articles {
        by_url.entry(&a.url).or_default().push(a);
    }
    for (url, holders) in by_url.iter().filter(|(_, h)| h.len() > 1) {
        let others: Vec<String> = holders[1..].iter().map(|a| a.source.path.display().to_string()).collect();
        out.push(
            Diagnostic::warning(
                path_of(holders[0]),
                format!("permalink `{url}` is also used by `{}`", others.join("`, `")),
            )
            .with_hint("give one of them another `slug` or `url`"),
        );
    }

    // Translations: a key given by hand that no other language shares, or
    // two versions in one language.
    let mut by_key: BTreeMap<&str, Vec<&Article>> = BTreeMap::new();
    for a in articles.iter().filter(|a| !a.draft) {
        by_key.entry(&a.translation_key).or_default().push(a);
    }
    for (key, versions) in &by_key {
        let langs: BTreeSet<&str> = versions.iter().map(|a| a.lang.as_str()).collect();
        if langs.len() < versions.len() {
            out.push(
                Diagnostic::warning(
                    path_of(versions[0]),
                    format!("translation key `{key}` has two versions in one language"),
                )
                .with_hint("each language may have one version of a story; check `translationKey`"),
            );
        }
        if versions.len() == 1 && versions[0].translation_key_explicit && config.languages.len() > 1 {
            out.push(
                Diagnostic::warning(
                    path_of(versions[0]),
                    format!("translation key `{key}` has no version in another language"),
                )
                .with_hint("add the translation, or remove `translationKey` if there is none"),
            );
        }
    }

    // Images without alternative text.
    for a in articles {
        for image in a.images.iter().filter(|i| i.alt.is_none()) {
            out.push(
                Diagnostic::warning(path_of(a), format!("image `{}` has no alt text", image.src))
                    .with_hint("write images as { src = \"…\", alt = \"what the photo shows\", caption = \"…\" }"),
            );
        }
    }
    out
}
