//! `feeds.toml`: the one configuration file, its schema and its validation.
//!
//! Loading follows one path: deserialise into the `Raw*` types (unknown keys
//! are errors, every value that needs a semantic check keeps its span), then
//! validate and derive into [`Config`]. Downstream code never re-checks: a
//! `Config` that exists is valid. Every problem is reported as
//! `feeds.toml:LINE:COL: what is wrong` with a hint, all at once.
//!
//! One file per table, each with its settings type, its raw type, its
//! defaults and its checks: `site.rs` (`[site]`, `[languages]`,
//! `[sections]`), `feeds.rs`, `archives.rs`, `sitemaps.rs`, `server.rs`,
//! `websub.rs`, `webhooks.rs` (with `[indexnow]`), `schedule.rs`,
//! `activitypub.rs`, `taxonomies.rs`. The checks
//! they share are in `validate.rs`, path templates in `template.rs`.
//!
//! Command-line [`Overrides`] come already parsed (the command line refuses
//! a malformed flag) and are applied after the file is validated: the
//! validator knows nothing of flags.

mod activitypub;
mod archives;
mod articles;
mod database;
mod feeds;
mod ip_network;
mod schedule;
mod server;
mod site;
mod sitemaps;
mod taxonomies;
mod template;
#[cfg(test)]
pub(crate) mod testing;
mod validate;
mod webhooks;
mod websub;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

pub use activitypub::{ActivityPubSettings, actor_path, fold_username, handle_host, is_valid_username};
pub use archives::ArchiveSettings;
pub use articles::ArticleSettings;
pub use database::{DatabaseSettings, DatabaseUrl};
pub use feeds::{ContentMode, FeedPaths, FeedSettings, SiteScope};
pub use ip_network::IpNetwork;
pub use schedule::ScheduleSettings;
pub use server::ServerSettings;
pub use site::{BaseUrl, Language, Section, Site};
pub(crate) use site::{is_language_code, parse_base_url};
pub use sitemaps::SitemapSettings;
pub use taxonomies::{TaxonomiesSettings, Taxonomy, TaxonomySettings};
pub use template::fill_template;
pub use webhooks::{ArticleEvent, IndexNowSettings, Webhook};
pub use websub::{SignatureAlgorithm, WebSubSettings};

use crate::diagnostic::Diagnostic;
use validate::Validator;

/// The article store when `store` is not given, beside the file.
const DEFAULT_STORE_DIR: &str = "content";
/// herald's own state when `state_dir` is not given, beside the file.
const DEFAULT_STATE_DIR: &str = "state";

/// The validated configuration herald runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this configuration was read from (for messages and reloads).
    pub source: PathBuf,
    /// Root folder of the article store.
    pub store_dir: PathBuf,
    /// Folder for herald's own state (SQLite database).
    pub state_dir: PathBuf,
    /// Site-wide settings.
    pub site: Site,
    /// The site's languages, sorted by code; the default language is among them.
    pub languages: Vec<Language>,
    /// Declared sections by slug. Folders not declared here still get feeds.
    pub sections: BTreeMap<String, Section>,
    /// What goes into feeds and where they are published.
    pub feeds: FeedSettings,
    /// Sitemaps and robots.txt.
    pub sitemaps: SitemapSettings,
    /// The HTTP server of `herald serve`.
    pub server: ServerSettings,
    /// Periodic jobs of `herald serve`.
    pub schedule: ScheduleSettings,
    /// The WebSub hub and the delivery engine.
    pub websub: WebSubSettings,
    /// Signed webhooks for bots, from `[[webhooks]]`.
    pub webhooks: Vec<Webhook>,
    /// IndexNow pings for search engines, when configured.
    pub indexnow: Option<IndexNowSettings>,
    /// RFC 5005 feed archives.
    pub archives: ArchiveSettings,
    /// `[articles]`: what the store may hold.
    pub articles: ArticleSettings,
    /// `[database]`: the PostgreSQL database replicas share, if any.
    pub database: DatabaseSettings,
    /// `[activitypub]`: languages and sections as fediverse actors.
    pub activitypub: ActivityPubSettings,
    /// `[taxonomies]`: tag, author and category feeds.
    pub taxonomies: TaxonomiesSettings,
}

impl Config {
    /// Reads and validates `path`, then applies command-line `overrides`.
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::NotFound {
                "pass --config PATH, set HERALD_CONFIG, or run `herald init` to write one"
            } else {
                "check the file's permissions"
            };
            ConfigError::one(Diagnostic::error(path, format!("cannot read the configuration: {e}")).with_hint(hint))
        })?;
        Config::parse(&text, path, overrides)
    }

    /// Validates configuration `text` read from `path` (used for messages and
    /// to resolve relative folders), then applies `overrides`.
    pub fn parse(text: &str, path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
        let raw: RawConfig = validate::parse_toml(text, path).map_err(ConfigError::one)?;
        let mut v = Validator::new(text, path);
        let config = validate_config(&mut v, raw);
        let problems = v.into_problems();
        match config {
            Some(mut config) if problems.is_empty() => {
                overrides.apply(&mut config);
                Ok(config)
            }
            _ => Err(ConfigError { diagnostics: problems }),
        }
    }

    /// The language entry for `code`, if the site has it.
    pub fn language(&self, code: &str) -> Option<&Language> {
        self.languages.iter().find(|l| l.code == code)
    }

    /// The site title in `lang`, falling back to the default language.
    pub fn site_title(&self, lang: &str) -> &str {
        localized(&self.site.title, lang, &self.site.default_language).unwrap_or("")
    }

    /// The site description in `lang`, falling back to the default language.
    pub fn site_description(&self, lang: &str) -> &str {
        localized(&self.site.description, lang, &self.site.default_language).unwrap_or("")
    }

    /// The title of section `slug` in `lang`: the declared title, else the
    /// default language's, else the slug itself.
    pub fn section_title<'a>(&'a self, slug: &'a str, lang: &str) -> &'a str {
        self.sections.get(slug).and_then(|s| localized(&s.title, lang, &self.site.default_language)).unwrap_or(slug)
    }

    /// The hubs feeds advertise (herald's own first, then external ones);
    /// empty when WebSub is off.
    pub fn hubs(&self) -> Vec<String> {
        self.websub.hubs(&self.site)
    }

    /// Resolves a site path (`/vi/rss.xml`) to an absolute URL.
    pub fn url_for(&self, path: &str) -> String {
        self.site.url_for(path)
    }
}

/// The text for `lang` in `map`, else the default language's, else any.
fn localized<'a>(map: &'a BTreeMap<String, String>, lang: &str, default: &str) -> Option<&'a str> {
    map.get(lang).or_else(|| map.get(default)).or_else(|| map.values().next()).map(String::as_str)
}

/// Values given on the command line that replace those in the file. They
/// are typed, so already valid (the command line parses them), and applied
/// after the file is validated: the file's own values are checked even when
/// a flag replaces them.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--store PATH`.
    pub store: Option<PathBuf>,
    /// `--base-url URL`.
    pub base_url: Option<BaseUrl>,
    /// `--state DIR`.
    pub state_dir: Option<PathBuf>,
    /// `--listen ADDR:PORT`.
    pub listen: Option<SocketAddr>,
    /// `--out DIR` of `herald serve`.
    pub out_dir: Option<PathBuf>,
    /// `--allow-private-callbacks` of `herald serve`.
    pub allow_private_callbacks: bool,
    /// `--init-state` of `herald serve`: initialise an empty state
    /// database instead of refusing it (read at start, not a setting).
    pub init_state: bool,
    /// `--database-url URL` (or `HERALD_DATABASE_URL`).
    pub database_url: Option<DatabaseUrl>,
}

impl Overrides {
    /// Puts the values given into `config`. A new base URL carries along
    /// what the file derives from it (a logo or extra pages given as
    /// paths, the default id prefix).
    fn apply(&self, config: &mut Config) {
        if let Some(store) = &self.store {
            config.store_dir = store.clone();
        }
        if let Some(state_dir) = &self.state_dir {
            config.state_dir = state_dir.clone();
        }
        if let Some(base_url) = &self.base_url {
            config.site.rebase(base_url);
            config.sitemaps.rebase(base_url.as_url());
        }
        if let Some(listen) = self.listen {
            config.server.listen = listen;
        }
        if let Some(out_dir) = &self.out_dir {
            config.server.out_dir = Some(out_dir.clone());
        }
        if self.allow_private_callbacks {
            config.websub.allow_private_callbacks = true;
        }
        if let Some(url) = &self.database_url {
            config.database.url = Some(url.clone());
        }
    }
}

/// Everything wrong with a configuration, each with its position.
#[derive(Debug, Clone)]
pub struct ConfigError {
    /// One entry per problem, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl ConfigError {
    /// A configuration refused for one problem.
    fn one(d: Diagnostic) -> Self {
        ConfigError { diagnostics: vec![d] }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// The whole file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    store: Option<Spanned<String>>,
    state_dir: Option<Spanned<String>>,
    site: site::RawSite,
    #[serde(default)]
    languages: BTreeMap<Spanned<String>, site::RawLanguage>,
    #[serde(default)]
    sections: BTreeMap<Spanned<String>, site::RawSection>,
    #[serde(default)]
    feeds: feeds::RawFeeds,
    #[serde(default)]
    sitemaps: sitemaps::RawSitemaps,
    #[serde(default)]
    server: server::RawServer,
    #[serde(default)]
    schedule: schedule::RawSchedule,
    #[serde(default)]
    websub: websub::RawWebSub,
    #[serde(default)]
    webhooks: Vec<webhooks::RawWebhook>,
    indexnow: Option<webhooks::RawIndexNow>,
    #[serde(default)]
    archives: archives::RawArchives,
    #[serde(default)]
    articles: articles::RawArticles,
    #[serde(default)]
    database: database::RawDatabase,
    #[serde(default)]
    activitypub: activitypub::RawActivityPub,
    #[serde(default)]
    taxonomies: taxonomies::RawTaxonomies,
}

/// Checks every table of `raw`, gathering problems in `v`; `None` when a
/// value the settings cannot do without is unusable.
fn validate_config(v: &mut Validator<'_>, raw: RawConfig) -> Option<Config> {
    let path = v.path();
    let config_dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let resolve = |p: &str| -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() { p.to_path_buf() } else { config_dir.join(p) }
    };
    let store_dir = resolve(raw.store.as_ref().map_or(DEFAULT_STORE_DIR, |s| s.get_ref()));
    let state_dir = resolve(raw.state_dir.as_ref().map_or(DEFAULT_STATE_DIR, |s| s.get_ref()));

    let languages = site::languages(v, &raw.languages);
    let codes: Vec<String> = languages.iter().map(|l| l.code.clone()).collect();
    let site = site::validate(v, raw.site, &codes)?;
    let sections = site::sections(v, raw.sections, &codes);
    let feeds = feeds::validate(v, raw.feeds);
    let sitemaps = sitemaps::validate(v, raw.sitemaps, &codes, &site);
    let server = server::validate(v, raw.server, &resolve);
    let schedule = schedule::validate(v, raw.schedule);
    let websub = websub::validate(v, raw.websub);
    let webhooks = webhooks::validate(v, raw.webhooks, &codes);
    let indexnow = raw.indexnow.map(|raw| webhooks::validate_indexnow(v, raw));
    let archives = archives::validate(v, raw.archives);
    let articles = articles::validate(v, raw.articles, &resolve);
    let database = database::validate(v, raw.database, &resolve);
    let activitypub = activitypub::validate(v, raw.activitypub, &codes);
    let taxonomies = taxonomies::validate(v, raw.taxonomies);
    Some(Config {
        source: path.to_path_buf(),
        store_dir,
        state_dir,
        site,
        languages,
        sections,
        feeds,
        sitemaps,
        server: server?,
        schedule: schedule?,
        websub,
        webhooks,
        indexnow,
        archives,
        articles,
        database,
        activitypub,
        taxonomies,
    })
}

#[cfg(test)]
mod tests {
    use super::testing::{MINIMAL, parse};
    use super::*;

    #[test]
    fn minimal_config_gets_defaults() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.site.base_url.as_str(), "https://news.example.vn/");
        assert_eq!(c.site.id_prefix, "tag:news.example.vn,2000:");
        assert_eq!(c.languages.len(), 2);
        assert_eq!(c.language("vi").unwrap().prefix, "");
        assert_eq!(c.language("en").unwrap().prefix, "/en");
        assert_eq!(c.feeds.item_limit, 50);
        assert_eq!(c.feeds.section_paths.rss, "/{lang}/{section}/rss.xml");
        assert_eq!(c.site_title("en"), "Sample News");
        assert_eq!(c.site_title("fr"), "Báo Mẫu");
        assert_eq!(c.section_title("the-thao", "vi"), "the-thao");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = MINIMAL.replace("Asia/Ho_Chi_Minh", "Nowhere").replace("\"vi\"\ntime", "\"fr\"\ntime");
        let e = parse(&text).unwrap_err();
        assert_eq!(e.diagnostics.len(), 2, "{e}");
    }

    #[test]
    fn overrides_replace_store_and_base_url() {
        let overrides = Overrides {
            store: Some(PathBuf::from("/elsewhere")),
            base_url: Some(BaseUrl::parse("http://127.0.0.1:8080").unwrap()),
            ..Overrides::default()
        };
        let c = Config::parse(MINIMAL, Path::new("/etc/herald/feeds.toml"), &overrides).unwrap();
        assert_eq!(c.store_dir, PathBuf::from("/elsewhere"));
        assert_eq!(c.state_dir, PathBuf::from("/etc/herald/state"));
        assert_eq!(c.site.base_url.as_str(), "http://127.0.0.1:8080/");
        // A malformed --base-url never reaches the configuration: the
        // command line refuses it (tests/it/cli.rs).
        let e = BaseUrl::parse("nope").unwrap_err();
        assert!(e.contains("relative URL without a base"), "{e}");
    }

    /// A base URL from the command line carries along what the file derives
    /// from the base URL, as if the file had said it; the file's own values
    /// are still checked.
    #[test]
    fn a_new_base_url_moves_what_derives_from_it() {
        let text = format!(
            "{}\n[sitemaps]\nextra_pages = [\"/gioi-thieu/\", \"https://other.example/a\"]\n",
            MINIMAL.replace("time_zone", "logo = \"/logo.png\"\ntime_zone")
        );
        let overrides = Overrides {
            base_url: Some(BaseUrl::parse("http://127.0.0.1:8080/preview").unwrap()),
            listen: Some("[::1]:0".parse().unwrap()),
            out_dir: Some(PathBuf::from("/srv/out")),
            state_dir: Some(PathBuf::from("/var/lib/herald")),
            allow_private_callbacks: true,
            ..Overrides::default()
        };
        let c = Config::parse(&text, Path::new("feeds.toml"), &overrides).unwrap();
        assert_eq!(c.site.base_url.as_str(), "http://127.0.0.1:8080/preview/");
        assert_eq!(c.site.logo.as_ref().map(|u| u.as_str()), Some("http://127.0.0.1:8080/preview/logo.png"));
        assert_eq!(c.site.id_prefix, "tag:127.0.0.1,2000:");
        assert_eq!(c.sitemaps.extra_pages, ["http://127.0.0.1:8080/preview/gioi-thieu/", "https://other.example/a"]);
        assert_eq!(c.url_for("/vi/rss.xml"), "http://127.0.0.1:8080/preview/vi/rss.xml");
        assert_eq!(c.server.listen.to_string(), "[::1]:0");
        assert_eq!(c.server.out_dir, Some(PathBuf::from("/srv/out")));
        assert_eq!(c.state_dir, PathBuf::from("/var/lib/herald"));
        assert!(c.websub.allow_private_callbacks);

        let written = text.replace("time_zone", "id_prefix = \"tag:news.example.vn,2026:\"\ntime_zone");
        let c = Config::parse(&written, Path::new("feeds.toml"), &overrides).unwrap();
        assert_eq!(c.site.id_prefix, "tag:news.example.vn,2026:", "a written id prefix stays");

        let bad = MINIMAL.replace("https://news.example.vn", "news.example.vn");
        let e = Config::parse(&bad, Path::new("feeds.toml"), &overrides).unwrap_err().to_string();
        assert!(e.starts_with("feeds.toml:3:12: error: `news.example.vn` is not a usable base URL"), "{e}");
    }
}
