//! `herald init [STORE]`: look at an existing article store (a plain folder,
//! or a Hugo or Zola site) and write a commented `feeds.toml` that validates.
//!
//! Three steps, each usable alone: [`inspect`] reads the store (paths for
//! languages and sections, a bounded sample of front matter for time-zone
//! hints, the site generator's configuration for base URL and title),
//! [`render_config`] turns what was found into the file's text, and [`init`]
//! checks that text with [`Config::parse`] and writes it atomically.
//!
//! Every guess is written down: the file says where each value came from and
//! marks the keys the user must check (`CHECK`) or replace (`CHANGE THIS`).
//!
//! This module holds the public API and runs the steps; the work is done in
//! `site_config` (Hugo and Zola configurations), `guess` (what the articles
//! and their front matter suggest) and `template` (the file's text).

mod guess;
mod site_config;
mod template;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{Config, Overrides, is_language_code};
use crate::diagnostic::{Diagnostic, Severity};
use crate::snapshot::write_new;
use crate::store::FolderStore;
use crate::store::folder::classify;
use crate::text::clean_line;

pub use site_config::{Generator, SiteConfig};

use guess::{choose_default_language, choose_time_zone, read_sample, sections};
use site_config::find_site;
use template::plural;

/// At most this many documents have their front matter read (for `lang`
/// and the offsets of `date`), spread evenly over the store, so `herald
/// init` stays quick on a store of a million articles.
pub const SAMPLE_SIZE: usize = 2000;

/// The base URL written when no site configuration gives one.
pub const PLACEHOLDER_BASE_URL: &str = "https://example.com/";

/// What `herald init` found in a store.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The folder of articles actually used: STORE, or its content folder
    /// when STORE is a Hugo or Zola site.
    pub store: PathBuf,
    /// The Hugo or Zola site configuration found beside the content folder.
    pub site: Option<SiteConfig>,
    /// How many article documents the store holds.
    pub documents: usize,
    /// How many documents had their front matter read (at most [`SAMPLE_SIZE`]).
    pub sampled: usize,
    /// Every language with its number of documents; documents whose name
    /// gives no language are counted in the default language.
    pub languages: BTreeMap<String, usize>,
    /// The language of documents whose name gives none.
    pub default_language: String,
    /// Why that language is the default (for the summary and the file).
    pub default_language_reason: String,
    /// Whether the default language is a guess the user should check (no
    /// site configuration named it).
    pub default_language_is_guess: bool,
    /// Every section, sorted by slug.
    pub sections: Vec<SectionFound>,
    /// Documents outside any section folder (herald skips those without a
    /// `section` field).
    pub outside_sections: usize,
    /// The IANA time zone to use.
    pub time_zone: String,
    /// Where [`Inspection::time_zone`] came from.
    pub time_zone_reason: String,
    /// Whether the time zone is a guess the user should check.
    pub time_zone_is_guess: bool,
    /// Things the user should know about, as warnings with hints.
    pub problems: Vec<Diagnostic>,
    /// The name of the site folder (or the store folder), the title of last
    /// resort.
    pub folder_name: String,
}

/// One section of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionFound {
    /// The section slug (the folder's name, folded to a slug).
    pub slug: String,
    /// The folders that give this slug (usually just one, equal to it).
    pub folders: Vec<String>,
    /// Title per language, from `_index.<lang>.md` (or `_index.md` for the
    /// default language).
    pub titles: BTreeMap<String, String>,
    /// How many article documents the section holds.
    pub articles: usize,
}

/// Reads `store` (a folder of articles, or a Hugo/Zola site root or content
/// folder) and reports what a configuration for it needs.
pub fn inspect(store: &Path) -> Result<Inspection, Diagnostic> {
    match std::fs::metadata(store) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(Diagnostic::error(store, "not a folder; herald init reads a folder of articles")
                .with_hint("give the folder that holds the section folders, or a Hugo or Zola site folder"));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Diagnostic::error(store, "the folder does not exist")
                .with_hint("give the folder that holds the section folders, or a Hugo or Zola site folder"));
        }
        Err(e) => {
            return Err(Diagnostic::error(store, format!("cannot open the folder: {e}"))
                .with_hint("check the folder's permissions"));
        }
    }
    let mut problems = Vec::new();
    let (articles_dir, site, site_root) = find_site(store, &mut problems);
    let folder = FolderStore::open(&articles_dir)?;
    let (paths, listing_problems) = folder.document_paths();
    problems.extend(listing_problems.into_iter().map(as_warning));

    // Languages and sections from the paths of every document.
    let mut by_language: BTreeMap<Option<String>, usize> = BTreeMap::new();
    let mut folders: BTreeMap<String, usize> = BTreeMap::new();
    let mut outside: Vec<&Path> = Vec::new();
    let infos: Vec<_> = paths.iter().filter_map(|p| classify(p).map(|i| (p, i))).collect();
    for (path, info) in &infos {
        *by_language.entry(info.file_lang.clone()).or_default() += 1;
        match &info.folder_section {
            Some(f) => *folders.entry(f.clone()).or_default() += 1,
            None => outside.push(path),
        }
    }

    // Front matter of a bounded, evenly spread sample: `lang` and `date`.
    let sample = read_sample(&articles_dir, &infos, &mut problems);
    for (file_lang, lang) in &sample.lang_moves {
        if let Some(n) = by_language.get_mut(file_lang) {
            *n -= 1;
        }
        *by_language.entry(Some(lang.clone())).or_default() += 1;
    }

    // Every language named anywhere, checked the way feeds.toml checks it.
    let mut named: BTreeMap<String, usize> = BTreeMap::new();
    for (code, n) in &by_language {
        if let Some(code) = code {
            *named.entry(code.clone()).or_default() += n;
        }
    }
    for code in site.iter().flat_map(|s| s.languages.iter()) {
        named.entry(code.clone()).or_default();
    }
    let mut languages: BTreeMap<String, usize> = BTreeMap::new();
    for (code, n) in named {
        if is_language_code(&code) {
            languages.insert(code, n);
        } else {
            problems.push(
                Diagnostic::warning(
                    &articles_dir,
                    format!("`{code}` is not a language code feeds.toml accepts ({n} documents use it)"),
                )
                .with_hint("name files `<slug>.<code>.md` with a BCP 47 code such as `vi`, `en` or `zh-Hant`"),
            );
        }
    }

    let (default_language, default_language_reason, default_language_is_guess) =
        choose_default_language(site.as_ref(), &languages);
    let unlabelled = by_language.get(&None).copied().unwrap_or(0);
    *languages.entry(default_language.clone()).or_default() += unlabelled;

    let sections = sections(&articles_dir, &folders, &languages, &default_language, &mut problems);
    if !outside.is_empty() {
        let named: Vec<String> = outside.iter().take(3).map(|p| p.display().to_string()).collect();
        let more = if outside.len() > 3 { ", …" } else { "" };
        problems.push(
            Diagnostic::warning(
                &articles_dir,
                format!(
                    "{} {} not in a section folder ({}{more}); herald skips them unless their front matter names a `section`",
                    outside.len(),
                    plural(outside.len(), "document is", "documents are"),
                    named.join(", ")
                ),
            )
            .with_hint("move articles into a section folder such as `news/`, or add `section = \"…\"`"),
        );
    }

    let (time_zone, time_zone_reason, time_zone_is_guess) = choose_time_zone(site.as_ref(), &sample);
    let name_source = site_root.as_deref().unwrap_or(&articles_dir);
    let folder_name = std::fs::canonicalize(name_source)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .map(|n| clean_line(&n))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "My site".to_string());

    Ok(Inspection {
        store: articles_dir,
        site,
        documents: infos.len(),
        sampled: sample.read,
        languages,
        default_language,
        default_language_reason,
        default_language_is_guess,
        sections,
        outside_sections: outside.len(),
        time_zone,
        time_zone_reason,
        time_zone_is_guess,
        problems,
        folder_name,
    })
}

/// The commented feeds.toml text for this inspection; `config_dir` is the
/// folder the file will be written in (the store path in it is written
/// relative to that folder when possible).
pub fn render_config(inspection: &Inspection, config_dir: &Path) -> String {
    template::render(inspection, config_dir)
}
/// Why `herald init` wrote nothing.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InitError {
    /// What it was given was refused before anything was written: the
    /// configuration file exists (without `force`) or is a folder, the
    /// store is missing or unreadable.
    #[error("{0}")]
    Refused(Diagnostic),
    /// The work failed: the file or its folder could not be written, or the
    /// file made was not valid (a bug in herald init).
    #[error("{0}")]
    Failed(Diagnostic),
}

impl InitError {
    /// The problem, with its place and a hint.
    pub fn diagnostic(&self) -> &Diagnostic {
        match self {
            InitError::Refused(d) | InitError::Failed(d) => d,
        }
    }
}

/// inspect + render + validate with [`Config::parse`] + write to
/// `config_path`; refuses to overwrite an existing file unless `force`.
/// Returns the inspection for the CLI to summarise.
pub fn init(store: &Path, config_path: &Path, force: bool) -> Result<Inspection, InitError> {
    if config_path.is_dir() {
        return Err(InitError::Refused(
            Diagnostic::error(config_path, "this is a folder, not a configuration file")
                .with_hint("pass --config with a file name such as feeds.toml"),
        ));
    }
    if config_path.exists() && !force {
        return Err(InitError::Refused(
            Diagnostic::error(config_path, "the file exists")
                .with_hint("pass --force to replace it, or --config to write elsewhere"),
        ));
    }
    let inspection = inspect(store).map_err(InitError::Refused)?;
    let config_dir = match config_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&config_dir).map_err(|e| {
        InitError::Failed(
            Diagnostic::error(&config_dir, format!("cannot create the folder for the configuration: {e}"))
                .with_hint("check the folder's permissions, or pass --config with another path"),
        )
    })?;
    let text = render_config(&inspection, &config_dir);
    let bug = |why: String| {
        InitError::Failed(
            Diagnostic::error(
                config_path,
                format!("herald init made a configuration herald refuses ({why}); nothing was written"),
            )
            .with_hint("this is a bug in herald init: please report it with the store's folder layout"),
        )
    };
    let config = Config::parse(&text, config_path, &Overrides::default()).map_err(|e| bug(e.to_string()))?;
    let same_store = match (std::fs::canonicalize(&config.store_dir), std::fs::canonicalize(&inspection.store)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same_store {
        return Err(bug(format!("its store {} is not {}", config.store_dir.display(), inspection.store.display())));
    }
    write_atomic(config_path, &text).map_err(|e| {
        InitError::Failed(
            Diagnostic::error(config_path, format!("cannot write the file: {e}"))
                .with_hint("check the folder's permissions"),
        )
    })?;
    Ok(inspection)
}

impl Inspection {
    /// A few human lines on what was found, for the CLI to print.
    pub fn summary(&self) -> String {
        let mut lines = Vec::new();
        lines.push(format!(
            "found {} in {}; time zone {} ({})",
            self.found_line(),
            self.store.display(),
            self.time_zone,
            self.time_zone_reason
        ));
        lines.push(format!("default language {} ({})", self.default_language, self.default_language_reason));
        match &self.site {
            Some(site) => lines.push(format!(
                "site configuration {} ({}): base URL {}, title {}",
                site.file.display(),
                site.generator.name(),
                site.base_url.as_deref().unwrap_or("not given (CHANGE THIS in the file)"),
                site.title.as_deref().map(|t| format!("\"{t}\"")).unwrap_or_else(|| "not given".into()),
            )),
            None => lines
                .push("no Hugo or Zola site configuration found: replace base_url and title in the file".to_string()),
        }
        for p in &self.problems {
            lines.push(p.to_string());
        }
        lines.join("\n")
    }

    /// "29 articles in 2 languages (vi 20, en 9) and 5 sections", or "no
    /// articles".
    fn found_line(&self) -> String {
        if self.documents == 0 {
            return "no articles".to_string();
        }
        let mut counts: Vec<(&String, &usize)> = self.languages.iter().filter(|(_, n)| **n > 0).collect();
        counts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let list: Vec<String> = counts.iter().map(|(code, n)| format!("{code} {n}")).collect();
        format!(
            "{} {} in {} {} ({}) and {} {}",
            self.documents,
            plural(self.documents, "article", "articles"),
            counts.len(),
            plural(counts.len(), "language", "languages"),
            list.join(", "),
            self.sections.len(),
            plural(self.sections.len(), "section", "sections"),
        )
    }
}

/// Writes `text` to `path` through a temporary file in the same folder, so
/// the file is either the old one or the whole new one.
fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "feeds.toml".into());
    let temp = path.with_file_name(format!(".{name}.herald-init-{}", std::process::id()));
    // A leftover from a crash is unlinked, never written through.
    match std::fs::remove_file(&temp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let result =
        write_new(&temp, text.as_bytes()).and_then(|file| file.sync_all()).and_then(|()| std::fs::rename(&temp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// `d` as a warning: a store listing problem does not stop `herald init`.
fn as_warning(d: Diagnostic) -> Diagnostic {
    Diagnostic { severity: Severity::Warning, ..d }
}
