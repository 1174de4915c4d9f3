//! Hugo and Zola site configurations: finding one beside (or above) the
//! store, and reading what herald can use from it (base URL, titles,
//! languages, time zone, content folder), tolerantly: what cannot be read
//! becomes a warning, never an error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::config::parse_base_url;
use crate::diagnostic::Diagnostic;
use crate::store::front_matter::{self, FrontMatterFormat};
use crate::text::clean_line;

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
    /// The configuration file's name (`hugo.toml`), for messages.
    pub(super) fn file_name(&self) -> String {
        self.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }
}

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
pub(super) fn find_site(
    store: &Path,
    problems: &mut Vec<Diagnostic>,
) -> (PathBuf, Option<SiteConfig>, Option<PathBuf>) {
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

/// The first of [`SITE_CONFIG_FILES`] in `dir`.
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
        match parse_base_url(&raw) {
            Ok(url) => site.base_url = Some(url.into()),
            Err(_) => problems.push(
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
            .filter(|s| !s.is_empty())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_hugo_description_is_no_description() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hugo.toml");
        std::fs::write(&file, "baseURL = \"https://a.example/\"\n[params]\ndescription = \"  \"\n").unwrap();
        let mut problems = Vec::new();
        let (site, content_dir) = read_site_config(&file, &mut problems).unwrap();
        assert_eq!(site.description, None);
        assert_eq!(site.base_url.as_deref(), Some("https://a.example/"));
        assert_eq!(content_dir, "content");
        assert!(problems.is_empty(), "{problems:?}");
    }
}
