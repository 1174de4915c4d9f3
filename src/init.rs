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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use crate::config::{Config, Overrides};
use crate::diagnostic::Diagnostic;
use crate::store::FolderStore;
use crate::store::folder::{DocumentKind, classify};
use crate::store::front_matter::{self, FrontMatterFormat};
use crate::text::{clean_line, is_slug, slugify};

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

/// The static site generator a site configuration belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generator {
    /// Hugo (`hugo.toml`, `hugo.yaml`, `config.toml` …).
    Hugo,
    /// Zola (`config.toml` with `base_url`).
    Zola,
}

impl Generator {
    /// The generator's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Generator::Hugo => "Hugo",
            Generator::Zola => "Zola",
        }
    }
}

/// What a Hugo or Zola site configuration says that herald can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteConfig {
    /// Hugo or Zola.
    pub generator: Generator,
    /// The configuration file read.
    pub file: PathBuf,
    /// The site's base URL, when it is a usable absolute http(s) URL
    /// (always ending in `/`).
    pub base_url: Option<String>,
    /// The site title.
    pub title: Option<String>,
    /// The site description (Hugo `params.description`, Zola `description`).
    pub description: Option<String>,
    /// Per-language titles (Hugo and Zola `[languages.xx] title`).
    pub language_titles: BTreeMap<String, String>,
    /// Per-language names (Hugo `languageName`).
    pub language_names: BTreeMap<String, String>,
    /// Languages declared by the configuration.
    pub languages: BTreeSet<String>,
    /// The default language (Hugo `defaultContentLanguage`, Zola `default_language`).
    pub default_language: Option<String>,
    /// Hugo `timeZone`, when it names a time zone herald knows.
    pub time_zone: Option<String>,
    /// Hugo `defaultContentLanguageInSubdir`: the default language's URLs
    /// start with `/<code>` too.
    pub default_language_in_subdir: bool,
    /// Per-language content folders (Hugo `contentDir`), which herald does
    /// not read as one store.
    pub content_dirs: BTreeMap<String, String>,
    /// Whether Hugo `[permalinks]` is set (article URLs may differ from
    /// herald's default permalink).
    pub has_permalinks: bool,
}

impl SiteConfig {
    fn file_name(&self) -> String {
        self.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }
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
    let mut out = String::new();
    let i = inspection;
    let site = i.site.as_ref();
    let from_site = |what: &str| site.map(|s| format!("{}'s {what}", s.file_name())).unwrap_or_default();

    // Header.
    out.push_str("# herald configuration, written by `herald init`.\n#\n");
    out.push_str("# Relative paths are read from this file's folder. Every key is optional\n");
    out.push_str("# unless marked \"required\"; unknown keys are errors, so a typo never passes\n");
    out.push_str("# silently. \"CHANGE THIS\" marks a placeholder to replace, \"CHECK\" a guess\n");
    out.push_str("# to confirm. Check a change with:  herald check --config FILE\n#\n");
    let _ = writeln!(out, "# herald init found {}.", i.found_line());
    if let Some(s) = site {
        let _ = writeln!(out, "# Site configuration read: {} ({}).", path_for(&s.file, config_dir), s.generator.name());
    }
    if !i.problems.is_empty() {
        out.push_str("#\n# Notes from herald init:\n");
        for p in &i.problems {
            comment(&mut out, &format!("- {}", p.message), "  ");
        }
    }

    // Store and state.
    out.push_str("\n# The article store: <store>/<section>/<slug>.<lang>.md (see README).\n");
    out.push_str("# Overridden by --store PATH.\n");
    let _ = writeln!(out, "store = {}", quote(&path_for(&i.store, config_dir)));
    out.push_str("\n# Where herald keeps its own state (subscriptions, delivery queue).\n");
    out.push_str("# Overridden by --state DIR.\n");
    if is_inside(config_dir, &i.store) {
        out.push_str("# A hidden folder: this file is inside the store, and the store skips hidden folders.\n");
        out.push_str("state_dir = \".herald-state\"\n");
    } else {
        out.push_str("state_dir = \"state\"\n");
    }

    // [site]
    out.push_str("\n[site]\n");
    out.push_str("# Required. Every URL herald writes starts with this. Overridden by --base-url.\n");
    match site.and_then(|s| s.base_url.as_deref()) {
        Some(url) => {
            let _ = writeln!(out, "# From {}.\nbase_url = {}", from_site("base URL"), quote(url));
        }
        None => {
            out.push_str("# CHANGE THIS: no site configuration gave the site's address.\n");
            let _ = writeln!(out, "base_url = {}", quote(PLACEHOLDER_BASE_URL));
        }
    }
    out.push_str("# Required. Articles whose file name names no language are in this one, and\n");
    out.push_str("# the site-wide feeds (/rss.xml …) carry it.\n");
    comment(&mut out, &checked(i.default_language_is_guess, &i.default_language_reason), "");
    let _ = writeln!(out, "default_language = {}", quote(&i.default_language));
    out.push_str("# IANA time zone: dates without an offset are read in it, every date is\n");
    out.push_str("# written in it (default UTC).\n");
    comment(&mut out, &checked(i.time_zone_is_guess, &i.time_zone_reason), "");
    let _ = writeln!(out, "time_zone = {}", quote(&i.time_zone));
    out.push_str("# Required. One text for all languages, or one per language.\n");
    let (title, title_from_site) = i.site_title();
    if title_from_site {
        let _ = writeln!(out, "# From {}.", from_site("title"));
    } else {
        out.push_str("# CHANGE THIS: no site configuration gave a title; this is the folder's name.\n");
    }
    let _ = writeln!(out, "title = {title}");
    match site.and_then(|s| s.description.as_deref()) {
        Some(d) => {
            let _ = writeln!(out, "description = {}", quote(d));
        }
        None => out.push_str("# description = \"What the site is about, in one line\"\n"),
    }
    out.push_str("# copyright = \"© Newsroom name\"\n");
    out.push_str("# A path on the site or an absolute URL.\n# logo = \"/images/logo.png\"\n");
    out.push_str("# Where articles live on the site. Placeholders: {prefix} (the language's\n");
    out.push_str("# prefix below), {lang}, {section}, {slug}, {year}, {month}, {day}.\n");
    if site.is_some_and(|s| s.has_permalinks) {
        let _ = writeln!(
            out,
            "# CHECK: {} sets [permalinks]; write the same URL pattern here.",
            site.map(SiteConfig::file_name).unwrap_or_default()
        );
    } else {
        out.push_str("# CHECK: it must match the article URLs of your site.\n");
    }
    out.push_str("permalink = \"{prefix}/{section}/{slug}/\"\n");
    out.push_str("# Turns an article id into a globally unique feed id (Atom id, RSS guid).\n");
    out.push_str("# Set it once and never change it: feed readers show every article again\n");
    out.push_str("# when ids change. The default is tag:<host of base_url>,2000:\n");
    match site.and_then(|s| s.base_url.as_deref()).and_then(|u| url::Url::parse(u).ok()) {
        Some(url) => {
            let _ =
                writeln!(out, "id_prefix = {}", quote(&format!("tag:{},2000:", url.host_str().unwrap_or("localhost"))));
        }
        None => out.push_str("# id_prefix = \"tag:example.com,2000:\"  (set it together with base_url)\n"),
    }

    // [languages.*]
    out.push_str("\n# One table per language. `prefix` is the path prefix of its article URLs\n");
    out.push_str("# (default \"/<code>\"; \"\" puts the language at the site root).\n");
    if let Some(s) = site.filter(|s| !s.content_dirs.is_empty()) {
        let note = format!(
            "CHECK: {} gives each language its own content folder; herald reads one folder with `<slug>.<lang>.md` names, so merge them or run one herald per language.",
            s.file_name()
        );
        comment(&mut out, &note, "");
    }
    for code in i.language_order() {
        let count = i.languages.get(code).copied().unwrap_or(0);
        let _ = writeln!(out, "[languages.{code}]");
        let name = i.language_name(code);
        let note = match &name {
            Some(_) => format!("{count} {}", plural(count, "article", "articles")),
            None => format!("{count} {}; CHECK: the language's name in itself", plural(count, "article", "articles")),
        };
        let _ = writeln!(out, "name = {}  # {note}", quote(name.as_deref().unwrap_or(code)));
        let in_subdir = site.is_some_and(|s| s.default_language_in_subdir);
        let prefix = if code == i.default_language && !in_subdir { String::new() } else { format!("/{code}") };
        let _ = writeln!(out, "prefix = {}\n", quote(&prefix));
    }

    // [sections.*]
    out.push_str("# One table per section folder. Undeclared folders still get feeds, titled\n");
    out.push_str("# by their slug (herald check warns about them).\n");
    if i.sections.is_empty() {
        out.push_str("# No section folder holds articles yet. Declare each like this:\n");
        out.push_str("# [sections.news]\n# title = \"News\"\n");
    }
    for section in &i.sections {
        let _ = writeln!(out, "[sections.{}]", section.slug);
        let folders: Vec<String> = section.folders.iter().map(|f| format!("{f}/")).collect();
        let count = section.articles;
        let _ = write!(out, "# {}: {count} {}", folders.join(", "), plural(count, "article", "articles"));
        if section.titles.is_empty() {
            out.push_str("; CHECK: no _index.md gives a title, so the slug is used.\n");
            let _ = writeln!(out, "title = {}\n", quote(&section.slug));
        } else {
            out.push_str("; titles from _index.md files.\n");
            let _ = writeln!(out, "title = {}\n", localized(&section.titles, &i.default_language));
        }
    }

    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str(FIXED_TABLES);
    out.push('\n');
    if let Some(s) = site {
        let note = format!(
            "CHECK: {} may write /sitemap.xml and /robots.txt too; if both are served from one site, turn one off or change herald's paths below.",
            s.generator.name()
        );
        comment(&mut out, &note, "");
    }
    out.push_str(SITEMAPS_AND_MORE);
    out
}

/// inspect + render + validate with [`Config::parse`] + write to
/// `config_path`; refuses to overwrite an existing file unless `force`.
/// Returns the inspection for the CLI to summarise.
pub fn init(store: &Path, config_path: &Path, force: bool) -> Result<Inspection, Diagnostic> {
    if config_path.is_dir() {
        return Err(Diagnostic::error(config_path, "this is a folder, not a configuration file")
            .with_hint("pass --config with a file name such as feeds.toml"));
    }
    if config_path.exists() && !force {
        return Err(Diagnostic::error(config_path, "the file exists")
            .with_hint("pass --force to replace it, or --config to write elsewhere"));
    }
    let inspection = inspect(store)?;
    let config_dir = match config_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&config_dir).map_err(|e| {
        Diagnostic::error(&config_dir, format!("cannot create the folder for the configuration: {e}"))
            .with_hint("check the folder's permissions, or pass --config with another path")
    })?;
    let text = render_config(&inspection, &config_dir);
    let bug = |why: String| {
        Diagnostic::error(
            config_path,
            format!("herald init made a configuration herald refuses ({why}); nothing was written"),
        )
        .with_hint("this is a bug in herald init: please report it with the store's folder layout")
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
        Diagnostic::error(config_path, format!("cannot write the file: {e}"))
            .with_hint("check the folder's permissions")
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

    /// Languages in the order they are written: the default first, then by code.
    fn language_order(&self) -> Vec<&str> {
        let mut order = vec![self.default_language.as_str()];
        order.extend(self.languages.keys().map(String::as_str).filter(|c| *c != self.default_language));
        order
    }

    /// The name of language `code` in itself, from the site configuration or
    /// herald's short list.
    fn language_name(&self, code: &str) -> Option<String> {
        if let Some(name) = self.site.as_ref().and_then(|s| s.language_names.get(code)) {
            return Some(name.clone());
        }
        let base = code.split('-').next().unwrap_or(code);
        LANGUAGE_NAMES.iter().find(|(c, _)| *c == base).map(|(_, n)| n.to_string())
    }

    /// The TOML value of `[site] title`, and whether a site configuration gave it.
    fn site_title(&self) -> (String, bool) {
        let Some(site) = self.site.as_ref().filter(|s| s.title.is_some() || !s.language_titles.is_empty()) else {
            return (quote(&self.folder_name), false);
        };
        let mut titles = BTreeMap::new();
        for code in self.languages.keys() {
            if let Some(t) = site.language_titles.get(code).or(site.title.as_ref()) {
                titles.insert(code.clone(), t.clone());
            }
        }
        let distinct: BTreeSet<&String> = titles.values().collect();
        match distinct.iter().next() {
            None => (quote(&self.folder_name), false),
            Some(only) if distinct.len() == 1 => (quote(only), true),
            Some(_) => (localized(&titles, &self.default_language), true),
        }
    }
}

/// What the sampled front matter said.
#[derive(Default)]
struct Sample {
    /// Documents read.
    read: usize,
    /// Dates carrying an offset: the instant and the offset in seconds.
    dated: Vec<(jiff::Timestamp, i32)>,
    /// Dates read (with or without offset).
    dates: usize,
    /// Documents whose `lang` field differs from their file name's language:
    /// (file language, front-matter language).
    lang_moves: Vec<(Option<String>, String)>,
}

fn read_sample(
    root: &Path,
    infos: &[(&PathBuf, crate::store::folder::PathInfo)],
    problems: &mut Vec<Diagnostic>,
) -> Sample {
    let mut sample = Sample::default();
    let take = infos.len().min(SAMPLE_SIZE);
    let mut unreadable: Vec<&Path> = Vec::new();
    for k in 0..take {
        let (path, info) = &infos[k * infos.len() / take];
        let Some(fields) = read_fields(&root.join(path), info.kind) else {
            unreadable.push(path);
            continue;
        };
        sample.read += 1;
        if let Some(Value::String(lang)) = fields.get("lang") {
            let lang = clean_line(lang);
            if Some(&lang) != info.file_lang.as_ref() {
                sample.lang_moves.push((info.file_lang.clone(), lang));
            }
        }
        if let Some(Value::String(date)) = fields.get("date") {
            sample.dates += 1;
            if let Some(dated) = date_offset(date.trim()) {
                sample.dated.push(dated);
            }
        }
    }
    if let Some(first) = unreadable.first() {
        problems.push(
            Diagnostic::warning(
                root.join(first),
                format!(
                    "{} of the {take} documents read have front matter herald cannot read (this is the first)",
                    unreadable.len()
                ),
            )
            .with_hint("`herald check` names each with its line"),
        );
    }
    sample
}

/// The front-matter fields of one document, or `None` when it cannot be read.
fn read_fields(path: &Path, kind: DocumentKind) -> Option<Map<String, Value>> {
    let text = std::fs::read_to_string(path).ok()?;
    match kind {
        DocumentKind::Json => front_matter::parse(FrontMatterFormat::Json, &text, 1).ok(),
        DocumentKind::Markdown => {
            let split = front_matter::split(&text).ok()?;
            front_matter::parse(split.format, split.front_matter, split.first_line).ok()
        }
    }
}

/// The instant of an RFC 3339 date and the UTC offset (in seconds) written
/// in it; `None` for local dates.
fn date_offset(date: &str) -> Option<(jiff::Timestamp, i32)> {
    let pieces = jiff::fmt::temporal::Pieces::parse(date).ok()?;
    let offset = pieces.offset()?.to_numeric_offset().seconds();
    Some((date.parse().ok()?, offset))
}

/// `+07:00` for 25200.
fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The zone among [`CANDIDATE_ZONES`] that gives the offsets of the most
/// `dated` instants (so +01:00 in winter and +02:00 in summer is
/// Europe/Paris), with how many it gives; earlier zones win ties. `None`
/// when no zone gives at least half of them.
fn best_zone(dated: &[(jiff::Timestamp, i32)]) -> Option<(&'static str, usize)> {
    let mut best: Option<(&'static str, usize)> = None;
    for zone in CANDIDATE_ZONES {
        let Ok(tz) = jiff::tz::TimeZone::get(zone) else { continue };
        let matches = dated.iter().filter(|(at, offset)| tz.to_offset(*at).seconds() == *offset).count();
        if matches > best.map_or(0, |(_, n)| n) {
            best = Some((zone, matches));
        }
    }
    best.filter(|(_, n)| n * 2 >= dated.len())
}

/// Representative zones for the UTC offsets of article dates, one or two per
/// offset; the first of zones that fit equally well is chosen.
const CANDIDATE_ZONES: &[&str] = &[
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Africa/Lagos",
    "Europe/Athens",
    "Africa/Johannesburg",
    "Europe/Moscow",
    "Asia/Tehran",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Yangon",
    "Asia/Ho_Chi_Minh",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Darwin",
    "Australia/Adelaide",
    "Australia/Sydney",
    "Australia/Brisbane",
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Denver",
    "America/Phoenix",
    "America/Chicago",
    "America/Mexico_City",
    "America/New_York",
    "America/Bogota",
    "America/Halifax",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
];

/// Names of common languages in themselves, for `[languages.xx] name`.
const LANGUAGE_NAMES: &[(&str, &str)] = &[
    ("ar", "العربية"),
    ("de", "Deutsch"),
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("hi", "हिन्दी"),
    ("id", "Bahasa Indonesia"),
    ("it", "Italiano"),
    ("ja", "日本語"),
    ("km", "ភាសាខ្មែរ"),
    ("ko", "한국어"),
    ("lo", "ພາສາລາວ"),
    ("ms", "Bahasa Melayu"),
    ("nl", "Nederlands"),
    ("pl", "Polski"),
    ("pt", "Português"),
    ("ru", "Русский"),
    ("th", "ไทย"),
    ("tr", "Türkçe"),
    ("uk", "Українська"),
    ("vi", "Tiếng Việt"),
    ("zh", "中文"),
];

/// The time zone, why, and whether it is a guess.
fn choose_time_zone(site: Option<&SiteConfig>, sample: &Sample) -> (String, String, bool) {
    if let Some((zone, site)) = site.and_then(|s| s.time_zone.as_ref().map(|z| (z, s))) {
        return (zone.clone(), format!("from {}'s timeZone", site.file_name()), false);
    }
    if sample.dates == 0 {
        return ("UTC".into(), "no article dates to learn it from".into(), true);
    }
    if sample.dated.is_empty() {
        return ("UTC".into(), "no article date carries a UTC offset".into(), true);
    }
    let share = |n: usize| {
        if n == sample.dates {
            "article dates".to_string()
        } else {
            format!("{n} of {} article dates read", sample.dates)
        }
    };
    match best_zone(&sample.dated) {
        Some((zone, n)) => {
            let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
            let offsets: BTreeSet<i32> =
                sample.dated.iter().filter(|(at, o)| tz.to_offset(*at).seconds() == *o).map(|(_, o)| *o).collect();
            let offsets: Vec<String> = offsets.into_iter().map(offset_text).collect();
            (zone.to_string(), format!("from the {} offsets in {}", offsets.join(" and "), share(n)), true)
        }
        None => {
            let mut counts: BTreeMap<i32, usize> = BTreeMap::new();
            for (_, offset) in &sample.dated {
                *counts.entry(*offset).or_default() += 1;
            }
            let (offset, n) =
                counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map_or((0, 0), |(o, n)| (*o, *n));
            let why = format!("the {} offsets in {} match no zone herald init knows", offset_text(offset), share(n));
            ("UTC".into(), why, true)
        }
    }
}

/// The default language and why: the site configuration's, else the
/// language with the most documents, else `en`.
fn choose_default_language(site: Option<&SiteConfig>, languages: &BTreeMap<String, usize>) -> (String, String, bool) {
    if let Some(site) = site
        && let Some(code) = site.default_language.as_ref().filter(|c| is_language_code(c))
    {
        let key = match site.generator {
            Generator::Zola => "default_language",
            Generator::Hugo => "defaultContentLanguage",
        };
        return (code.clone(), format!("from {}'s {key}", site.file_name()), false);
    }
    let most = languages.iter().filter(|(_, n)| **n > 0).max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
    match most {
        Some((code, _)) => (
            code.clone(),
            "the language with the most articles, counting files without a language code in it".into(),
            true,
        ),
        None => ("en".into(), "no file names its language, so English is assumed".into(), true),
    }
}

/// Sections from the first-level folders, with titles from `_index` files.
fn sections(
    root: &Path,
    folders: &BTreeMap<String, usize>,
    languages: &BTreeMap<String, usize>,
    default_language: &str,
    problems: &mut Vec<Diagnostic>,
) -> Vec<SectionFound> {
    let mut by_slug: BTreeMap<String, SectionFound> = BTreeMap::new();
    for (folder, &count) in folders {
        let slug = slugify(folder);
        if slug.is_empty() || !is_slug(&slug) {
            problems.push(
                Diagnostic::warning(
                    root.join(folder),
                    format!("the folder `{folder}` gives no section slug; herald skips its {count} articles"),
                )
                .with_hint("rename the folder with letters or digits, e.g. `news`"),
            );
            continue;
        }
        if &slug != folder {
            problems.push(
                Diagnostic::warning(
                    root.join(folder),
                    format!("the folder `{folder}` is published as section `{slug}`"),
                )
                .with_hint(format!("rename the folder to `{slug}` so folders and URLs agree")),
            );
        }
        let section = by_slug.entry(slug.clone()).or_insert_with(|| SectionFound {
            slug,
            folders: Vec::new(),
            titles: BTreeMap::new(),
            articles: 0,
        });
        section.folders.push(folder.clone());
        section.articles += count;
        for (lang, title) in index_titles(&root.join(folder), languages, default_language) {
            section.titles.entry(lang).or_insert(title);
        }
    }
    by_slug.into_values().collect()
}

/// Titles from `_index.<lang>.md` files in `folder` (and `_index.md` for the
/// default language when it has no `_index.<lang>.md`), for declared
/// languages only. Looks the files up by name: a section folder may hold
/// a hundred thousand articles.
fn index_titles(
    folder: &Path,
    languages: &BTreeMap<String, usize>,
    default_language: &str,
) -> BTreeMap<String, String> {
    let title_in = |name: String| {
        read_fields(&folder.join(name), DocumentKind::Markdown)
            .and_then(|f| f.get("title").and_then(Value::as_str).map(clean_line))
            .filter(|t| !t.is_empty())
    };
    let mut titles = BTreeMap::new();
    for code in languages.keys() {
        let title = title_in(format!("_index.{code}.md"))
            .or_else(|| (code == default_language).then(|| title_in("_index.md".into())).flatten());
        if let Some(title) = title {
            titles.insert(code.clone(), title);
        }
    }
    titles
}

// ---------------------------------------------------------------------------
// Hugo and Zola site configurations.

/// Configuration file names, in the order Hugo looks for them.
const SITE_CONFIG_FILES: &[&str] = &[
    "hugo.toml",
    "hugo.yaml",
    "hugo.yml",
    "hugo.json",
    "config.toml",
    "config.yaml",
    "config.yml",
    "config.json",
    "config/_default/hugo.toml",
    "config/_default/hugo.yaml",
    "config/_default/hugo.yml",
    "config/_default/config.toml",
    "config/_default/config.yaml",
    "config/_default/config.yml",
];

/// The folder of articles, the site configuration (if STORE is a Hugo or
/// Zola site root or its content folder) and the site root.
fn find_site(store: &Path, problems: &mut Vec<Diagnostic>) -> (PathBuf, Option<SiteConfig>, Option<PathBuf>) {
    // STORE is the site root: it has a site configuration and a content folder.
    if let Some(file) = site_config_file(store) {
        let mut notes = Vec::new();
        let site = read_site_config(&file, &mut notes);
        let content_dir = site.as_ref().map_or_else(|| "content".to_string(), |(_, dir)| dir.clone());
        let content = store.join(&content_dir);
        if content.is_dir() {
            problems.append(&mut notes);
            return (content, site.map(|(s, _)| s), Some(store.to_path_buf()));
        }
        problems.push(
            Diagnostic::warning(&file, format!("a site configuration, but no `{content_dir}` folder beside it"))
                .with_hint("herald init read the folder itself as the article store"),
        );
        return (store.to_path_buf(), None, None);
    }
    // STORE is the content folder of a site: the configuration is in its parent.
    let Ok(full) = std::fs::canonicalize(store) else { return (store.to_path_buf(), None, None) };
    let (Some(parent), Some(name)) = (full.parent(), full.file_name()) else {
        return (store.to_path_buf(), None, None);
    };
    let Some(file) = site_config_file(parent) else { return (store.to_path_buf(), None, None) };
    let mut notes = Vec::new();
    match read_site_config(&file, &mut notes) {
        Some((site, content_dir)) if Path::new(&content_dir) == Path::new(name) => {
            problems.append(&mut notes);
            // Name the root as the user would: `site` for `site/content`.
            let root = match store.parent() {
                Some(p) if !p.as_os_str().is_empty() && store.file_name().is_some() => p.to_path_buf(),
                _ => parent.to_path_buf(),
            };
            let file = root.join(file.strip_prefix(parent).unwrap_or(&file));
            (store.to_path_buf(), Some(SiteConfig { file, ..site }), Some(root))
        }
        _ => (store.to_path_buf(), None, None),
    }
}

fn site_config_file(dir: &Path) -> Option<PathBuf> {
    SITE_CONFIG_FILES.iter().map(|name| dir.join(name)).find(|p| p.is_file())
}

/// Reads a Hugo or Zola configuration, tolerantly: what cannot be read is a
/// note. Returns the configuration and the content folder it names.
fn read_site_config(file: &Path, problems: &mut Vec<Diagnostic>) -> Option<(SiteConfig, String)> {
    let unreadable = |why: String| {
        Diagnostic::warning(file, format!("cannot read the site configuration: {why}"))
            .with_hint("herald init used defaults; fill in [site] in the written file by hand")
    };
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) => {
            problems.push(unreadable(e.to_string()));
            return None;
        }
    };
    let format = match file.extension().and_then(|e| e.to_str()) {
        Some("toml") => FrontMatterFormat::Toml,
        Some("json") => FrontMatterFormat::Json,
        _ => FrontMatterFormat::Yaml,
    };
    let fields = match front_matter::parse(format, &text, 1) {
        Ok(fields) => fields,
        Err(e) => {
            problems.push(unreadable(format!("line {}: {}", e.line, e.message)));
            return None;
        }
    };
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let zola = !name.starts_with("hugo") && get(&fields, "base_url").is_some();
    let generator = if zola { Generator::Zola } else { Generator::Hugo };
    let text_of = |key: &str| get(&fields, key).and_then(Value::as_str).map(clean_line).filter(|s| !s.is_empty());

    let mut site = SiteConfig {
        generator,
        file: file.to_path_buf(),
        base_url: None,
        title: None,
        description: None,
        language_titles: BTreeMap::new(),
        language_names: BTreeMap::new(),
        languages: BTreeSet::new(),
        default_language: None,
        time_zone: None,
        default_language_in_subdir: false,
        content_dirs: BTreeMap::new(),
        has_permalinks: false,
    };
    let base_key = if zola { "base_url" } else { "baseURL" };
    if let Some(raw) = text_of(base_key) {
        match usable_base_url(&raw) {
            Some(url) => site.base_url = Some(url),
            None => problems.push(
                Diagnostic::warning(file, format!("{base_key} `{raw}` is not an absolute http(s) URL"))
                    .with_hint("set base_url in the written file to the site's address"),
            ),
        }
    }
    site.title = text_of("title");
    site.description = if zola {
        text_of("description")
    } else {
        get(&fields, "params")
            .and_then(Value::as_object)
            .and_then(|p| get(p, "description"))
            .and_then(Value::as_str)
            .map(clean_line)
    };
    let default_key = if zola { "default_language" } else { "defaultContentLanguage" };
    site.default_language = text_of(default_key).map(|c| if zola { c } else { c.to_lowercase() });
    if let Some(lang) = site.default_language.clone() {
        site.languages.insert(lang);
    }
    if let Some(Value::Object(languages)) = get(&fields, "languages") {
        for (code, table) in languages {
            let code = if zola { code.clone() } else { code.to_lowercase() };
            let Some(table) = table.as_object() else { continue };
            let field = |key: &str| get(table, key).and_then(Value::as_str).map(clean_line).filter(|s| !s.is_empty());
            if let Some(title) = field("title") {
                site.language_titles.insert(code.clone(), title);
            }
            if let Some(name) = field("languageName") {
                site.language_names.insert(code.clone(), name);
            }
            if let Some(dir) = field("contentDir") {
                site.content_dirs.insert(code.clone(), dir);
            }
            site.languages.insert(code);
        }
    }
    if !zola {
        if let Some(zone) = text_of("timeZone") {
            if jiff::tz::TimeZone::get(&zone).is_ok() {
                site.time_zone = Some(zone);
            } else {
                problems.push(
                    Diagnostic::warning(file, format!("timeZone `{zone}` is not an IANA time zone herald knows"))
                        .with_hint("herald init guessed the zone from article dates instead"),
                );
            }
        }
        site.default_language_in_subdir =
            get(&fields, "defaultContentLanguageInSubdir").and_then(Value::as_bool).unwrap_or(false);
        site.has_permalinks = get(&fields, "permalinks").is_some_and(|p| p.as_object().is_some_and(|m| !m.is_empty()));
    }
    if !site.content_dirs.is_empty() {
        let dirs: Vec<String> = site.content_dirs.iter().map(|(code, dir)| format!("{code}: {dir}")).collect();
        problems.push(
            Diagnostic::warning(
                file,
                format!("each language has its own content folder ({}); herald reads one folder", dirs.join(", ")),
            )
            .with_hint("herald expects one folder with `<slug>.<lang>.md` names: merge the folders, or run one herald per language"),
        );
    }
    let content_dir = if zola { None } else { text_of("contentDir") };
    Some((site, content_dir.unwrap_or_else(|| "content".into())))
}

/// A key of a site configuration, ignoring case (Hugo's keys are
/// case-insensitive; Zola's are lowercase anyway).
fn get<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    fields.get(key).or_else(|| fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// `raw` as a base URL feeds.toml accepts (absolute http(s), a host, no
/// query or fragment), ending in `/`.
fn usable_base_url(raw: &str) -> Option<String> {
    let mut url = url::Url::parse(raw).ok()?;
    let usable = (url.scheme() == "http" || url.scheme() == "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.query().is_none()
        && url.fragment().is_none();
    if !usable {
        return None;
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Some(url.to_string())
}

// ---------------------------------------------------------------------------
// Writing.

/// The same rule feeds.toml applies to `[languages.CODE]`: a 2-3 letter
/// language, then alphanumeric subtags.
fn is_language_code(code: &str) -> bool {
    let mut parts = code.split('-');
    let first = parts.next().unwrap_or("");
    (2..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `path` as written in a feeds.toml in `config_dir`: relative when the two
/// share an ancestor below the file system root, else absolute.
fn path_for(path: &Path, config_dir: &Path) -> String {
    let absolute =
        |p: &Path| std::fs::canonicalize(p).or_else(|_| std::path::absolute(p)).unwrap_or_else(|_| p.to_path_buf());
    let (store, base) = (absolute(path), absolute(config_dir));
    let s: Vec<Component> = store.components().collect();
    let b: Vec<Component> = base.components().collect();
    let common = s.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let only_root = s.iter().take(common).all(|c| matches!(c, Component::RootDir | Component::Prefix(_)));
    if only_root {
        return store.to_string_lossy().into_owned();
    }
    let mut parts: Vec<String> = vec!["..".to_string(); b.len() - common];
    parts.extend(s[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    if parts.is_empty() { ".".to_string() } else { parts.join("/") }
}

/// Whether `folder` is `store` or lies inside it.
fn is_inside(folder: &Path, store: &Path) -> bool {
    match (std::fs::canonicalize(folder), std::fs::canonicalize(store)) {
        (Ok(folder), Ok(store)) => folder.starts_with(store),
        _ => false,
    }
}

/// Writes `text` to `path` through a temporary file in the same folder, so
/// the file is either the old one or the whole new one.
fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "feeds.toml".into());
    let temp = path.with_file_name(format!(".{name}.herald-init-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `{ vi = "…", en = "…" }`, the default language first.
fn localized(texts: &BTreeMap<String, String>, default_language: &str) -> String {
    let mut entries: Vec<(&String, &String)> = texts.iter().collect();
    entries.sort_by_key(|(code, _)| (code.as_str() != default_language, code.as_str()));
    let parts: Vec<String> = entries.iter().map(|(code, text)| format!("{code} = {}", quote(text))).collect();
    format!("{{ {} }}", parts.join(", "))
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// "CHECK: why." for a guess, "Why." otherwise.
fn checked(guess: bool, why: &str) -> String {
    if guess {
        return format!("CHECK: {why}.");
    }
    let mut chars = why.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// Appends `text` as `#` comment lines of at most about 78 columns; lines
/// after the first start with `indent`.
fn comment(out: &mut String, text: &str, indent: &str) {
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.chars().count() + 1 + word.chars().count() > 78 && line.len() > 2 + indent.len() {
            out.push_str(&line);
            out.push('\n');
            line = format!("# {indent}{word}");
        } else {
            line.push(' ');
            line.push_str(word);
        }
    }
    out.push_str(&line);
    out.push('\n');
}

fn as_warning(d: Diagnostic) -> Diagnostic {
    Diagnostic { severity: crate::diagnostic::Severity::Warning, ..d }
}

/// `[feeds]` and `[archives]`, with herald's defaults.
const FIXED_TABLES: &str = r#"[feeds]
# Most items per feed (default 50). Older articles stay reachable through
# the monthly archives (RFC 5005).
item_limit = 50
# "full": feeds carry the whole article; "summary": only the lede.
content = "full"
# What /rss.xml, /atom.xml and /feed.json hold: "default_language" or
# "all_languages".
site_scope = "default_language"

# Feed locations. {lang} is the language code, {section} the section slug.
[feeds.paths.site]
rss = "/rss.xml"
atom = "/atom.xml"
json = "/feed.json"

[feeds.paths.language]
rss = "/{lang}/rss.xml"
atom = "/{lang}/atom.xml"
json = "/{lang}/feed.json"

[feeds.paths.section]
rss = "/{lang}/{section}/rss.xml"
atom = "/{lang}/{section}/atom.xml"
json = "/{lang}/{section}/feed.json"

# Feed archives (RFC 5005): every feed's history, one document per month.
[archives]
enabled = true
# {lang}, {section}, {month} (YYYY-MM) and {ext} (rss.xml, atom.xml, feed.json).
site_path = "/archive/{month}.{ext}"
language_path = "/{lang}/archive/{month}.{ext}"
section_path = "/{lang}/{section}/archive/{month}.{ext}"
# A sitemap-like list of every archive document of a language.
index_path = "/{lang}/archive.xml"
"#;

/// `[sitemaps]`, `[server]`, `[schedule]`, `[websub]` and the commented
/// `[[webhooks]]` and `[indexnow]`, with herald's defaults.
const SITEMAPS_AND_MORE: &str = r#"# Sitemaps: an index, monthly article sitemaps per language, a page sitemap,
# a Google News sitemap (last 48 hours) and robots.txt naming the index.
[sitemaps]
enabled = true
index_path = "/sitemap.xml"
# {lang} and {month} (YYYY-MM).
month_path = "/{lang}/sitemap-{month}.xml"
pages_path = "/sitemap-pages.xml"
news = true
news_path = "/sitemap-news.xml"
# Other pages of the site for the page sitemap: paths or absolute URLs.
extra_pages = []
# Also write .xml.gz twins.
gzip = false
robots_txt = true

# The HTTP server of `herald serve`.
[server]
# Overridden by --listen.
listen = "127.0.0.1:8080"
# For feeds, sitemaps and the index page.
cache_control = "public, max-age=300"
# Mirror every served file into a folder too (for a CDN); --out.
# out_dir = "public"
request_timeout_seconds = 30
max_header_bytes = 16384
max_connections = 10000
# How long a burst of file changes may settle before a rebuild.
watch_debounce_ms = 100

# Periodic jobs, cron lines (minute hour day-of-month month day-of-week) read
# in the site's time zone: a full rescan as a safety net, and housekeeping.
[schedule]
rebuild = "0 * * * *"
housekeeping = "30 3 * * *"

# herald's own WebSub hub: feed readers subscribe here and get new articles
# pushed within seconds. Subscriptions live in <state_dir>/herald.sqlite3.
[websub]
enabled = true
path = "/websub"
# Hubs to ping as well when a feed changes (also advertised in feeds).
external_hubs = []
# Leases (seconds): when the subscriber asks for none, shortest, longest.
lease_default_seconds = 864000
lease_min_seconds = 60
lease_max_seconds = 2592000
# X-Hub-Signature for subscriptions with a secret: sha1, sha256, sha384, sha512.
signature_algorithm = "sha256"
# Refuse callbacks on loopback/private addresses (SSRF); --allow-private-callbacks
# turns this off for tests and intranets.
allow_private_callbacks = false

# Signed article events for bots (Standard Webhooks). Uncomment and point at
# a real receiver; see the README for the payload.
# [[webhooks]]
# name = "social-bot"
# url = "https://bot.example.com/hooks/herald"
# secret = "whsec_…"  (generate: printf 'whsec_%s\n' "$(head -c 32 /dev/urandom | base64)")
# events = ["article.published", "article.updated", "article.unpublished"]
# update_delay_seconds = 300

# Tell search engines about new and changed URLs at once.
# [indexnow]
# key = "…"  (8-128 letters, digits or dashes; e.g. head -c 16 /dev/urandom | xxd -p)
# endpoint = "https://api.indexnow.org/indexnow"
# delay_seconds = 10
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_candidate_zone_exists() {
        for zone in CANDIDATE_ZONES {
            assert!(jiff::tz::TimeZone::get(zone).is_ok(), "{zone}");
        }
    }

    #[test]
    fn zones_are_chosen_by_the_offsets_they_give() {
        let dated =
            |dates: &[&str]| -> Vec<(jiff::Timestamp, i32)> { dates.iter().map(|d| date_offset(d).unwrap()).collect() };
        let zone = |dates: &[&str]| best_zone(&dated(dates)).map(|(z, _)| z);
        assert_eq!(zone(&["2026-11-20T08:30:00+07:00"]), Some("Asia/Ho_Chi_Minh"));
        assert_eq!(zone(&["2026-01-20T08:30:00+01:00", "2026-07-20T08:30:00+02:00"]), Some("Europe/Paris"));
        assert_eq!(zone(&["2026-01-20T08:30:00-05:00", "2026-07-20T08:30:00-04:00"]), Some("America/New_York"));
        assert_eq!(zone(&["2026-01-20T08:30:00Z", "2026-07-20T08:30:00+00:00"]), Some("UTC"));
        assert_eq!(zone(&["2026-07-20T08:30:00+08:00"]), Some("Asia/Singapore"));
        assert_eq!(zone(&["2026-07-20T08:30:00+09:00"]), Some("Asia/Tokyo"));
        assert_eq!(zone(&["2026-07-20T08:30:00+05:30"]), Some("Asia/Kolkata"));
        assert_eq!(zone(&["2026-07-20T08:30:00+03:17"]), None);
    }

    #[test]
    fn offsets_are_read_from_dates() {
        let offset = |d: &str| date_offset(d).map(|(_, o)| o);
        assert_eq!(offset("2026-11-20T08:30:00+07:00"), Some(25_200));
        assert_eq!(offset("2026-11-20T08:30:00Z"), Some(0));
        assert_eq!(offset("2026-11-20T08:30:00-05:30"), Some(-19_800));
        assert_eq!(date_offset("2026-11-20T08:30:00"), None);
        assert_eq!(date_offset("2026-11-20"), None);
        assert_eq!(offset_text(-19_800), "-05:30");
        assert_eq!(offset_text(25_200), "+07:00");
    }

    #[test]
    fn strings_are_quoted_for_toml() {
        assert_eq!(quote(r#"a "b" \ c"#), r#""a \"b\" \\ c""#);
        assert_eq!(quote("x\u{7}"), "\"x\\u0007\"");
    }

    #[test]
    fn store_paths_are_relative_when_close() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("site/content");
        std::fs::create_dir_all(&store).unwrap();
        assert_eq!(path_for(&store, &dir.path().join("site")), "content");
        assert_eq!(path_for(&store, &store), ".");
        assert_eq!(path_for(&store, &dir.path().join("etc")), "../site/content");
    }
}
