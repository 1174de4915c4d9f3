//! `feeds.toml`: the one configuration file, its schema and its validation.
//!
//! Loading follows one path: deserialise into the `Raw*` types (unknown keys
//! are errors, every value that needs a semantic check keeps its span), then
//! validate and derive into [`Config`]. Downstream code never re-checks: a
//! `Config` that exists is valid. Every problem is reported as
//! `feeds.toml:LINE:COL: what is wrong` with a hint, all at once.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use serde::Deserialize;
use toml::Spanned;
use url::Url;

use crate::diagnostic::{Diagnostic, line_col};

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
}

/// `[archives]`: monthly archive documents of every feed (RFC 5005), so a
/// new subscriber can read back through the whole history.
#[derive(Debug, Clone)]
pub struct ArchiveSettings {
    /// Whether archives are published.
    pub enabled: bool,
    /// Path template of the site feed's archives (`{month}`, `{ext}`).
    pub site_path: String,
    /// Path template of a language feed's archives (`{lang}`, `{month}`, `{ext}`).
    pub language_path: String,
    /// Path template of a section feed's archives (`{lang}`, `{section}`,
    /// `{month}`, `{ext}`).
    pub section_path: String,
    /// Path template of each language's archive index (`{lang}`).
    pub index_path: String,
}

/// The article events a webhook can receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum ArticleEvent {
    /// The article became visible for the first time (or again).
    #[serde(rename = "article.published")]
    Published,
    /// Its title, summary, body, images or URL changed.
    #[serde(rename = "article.updated")]
    Updated,
    /// It was deleted, drafted or expired.
    #[serde(rename = "article.unpublished")]
    Unpublished,
}

impl ArticleEvent {
    /// The event type as sent (`article.published` …).
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleEvent::Published => "article.published",
            ArticleEvent::Updated => "article.updated",
            ArticleEvent::Unpublished => "article.unpublished",
        }
    }
}

/// One `[[webhooks]]` entry: where to POST article events, signed per the
/// Standard Webhooks convention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Unique name (used in logs and to find the webhook of a queued job).
    pub name: String,
    /// Where events are POSTed.
    pub url: String,
    /// The signing key (decoded from the `whsec_` secret).
    pub key: Vec<u8>,
    /// Events sent; all three by default.
    pub events: Vec<ArticleEvent>,
    /// Languages sent; empty means all.
    pub languages: Vec<String>,
    /// Sections sent; empty means all.
    pub sections: Vec<String>,
    /// Updates wait this long, so a burst of edits sends one event.
    pub update_delay: std::time::Duration,
    /// On the very first start, announce every visible article instead of
    /// recording a silent baseline.
    pub announce_existing: bool,
}

/// `[indexnow]`: tell search engines about new and changed URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexNowSettings {
    /// The key (8-128 letters, digits or dashes), also served at `/{key}.txt`.
    pub key: String,
    /// The endpoint URLs are POSTed to.
    pub endpoint: String,
    /// Changes are gathered this long into one request.
    pub delay: std::time::Duration,
}

/// HMAC algorithms for `X-Hub-Signature` (WebSub §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureAlgorithm {
    /// HMAC-SHA1 (allowed by the spec, weak; for old subscribers only).
    Sha1,
    /// HMAC-SHA256 (the default).
    Sha256,
    /// HMAC-SHA384.
    Sha384,
    /// HMAC-SHA512.
    Sha512,
}

/// `[websub]`: herald's own hub, pings to external hubs, and how
/// deliveries are made.
#[derive(Debug, Clone)]
pub struct WebSubSettings {
    /// Whether the hub runs and feeds advertise it.
    pub enabled: bool,
    /// Path of the hub endpoint (default `/websub`).
    pub path: String,
    /// External hubs to ping (`hub.mode=publish`) when a feed changes; they
    /// are advertised in feeds after herald's own hub.
    pub external_hubs: Vec<String>,
    /// Lease granted when the subscriber asks for none.
    pub lease_default: u64,
    /// Shortest lease granted (seconds).
    pub lease_min: u64,
    /// Longest lease granted (seconds).
    pub lease_max: u64,
    /// Algorithm of `X-Hub-Signature` for subscriptions with a secret.
    pub signature_algorithm: SignatureAlgorithm,
    /// Whether callbacks may resolve to loopback, private, link-local or
    /// multicast addresses (tests, intranets). Off by default (SSRF).
    pub allow_private_callbacks: bool,
    /// Subscription requests accepted per client address per minute.
    pub subscribe_rate_per_minute: u32,
    /// First retry delay; each further retry doubles it (with jitter).
    pub retry_base: std::time::Duration,
    /// How long a delivery is retried before it is given up.
    pub retry_horizon: std::time::Duration,
    /// Time limit of one outgoing request.
    pub request_timeout: std::time::Duration,
    /// Most outgoing requests at once.
    pub max_concurrent: usize,
    /// Most outgoing requests at once to one host.
    pub max_per_host: usize,
}

/// `[server]`: how `herald serve` listens and answers.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Address and port to listen on (default 127.0.0.1:8080).
    pub listen: std::net::SocketAddr,
    /// `Cache-Control` of feeds, sitemaps and the index page.
    pub cache_control: String,
    /// A folder that mirrors every served file, for a CDN or web server.
    pub out_dir: Option<PathBuf>,
    /// Longest time a request may take, headers included.
    pub request_timeout: std::time::Duration,
    /// Largest request head (request line and headers) accepted, in bytes.
    pub max_header_bytes: usize,
    /// Most connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// How long the watcher waits for quiet before reading files still
    /// open for writing (complete files are read at once).
    pub watch_debounce: std::time::Duration,
    /// `herald serve` on a store of at least this many documents (and no
    /// output folder) serves the live feeds and sitemaps before rendering
    /// the archive documents, instead of after: the first byte in about
    /// half the time at 100,000 articles. Paths not found meanwhile get a
    /// 503.
    pub deferred_archives_from: usize,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for
    /// per-client limits); empty trusts no one.
    pub trusted_proxies: Vec<IpNetwork>,
}

/// An IP address or CIDR network (`127.0.0.1`, `::1`, `10.0.0.0/8`,
/// `2001:db8::/32`), as listed in `[server] trusted_proxies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    /// The network's first address (host bits are zero).
    address: std::net::IpAddr,
    /// How many leading bits an address must share with it.
    prefix_len: u8,
}

impl IpNetwork {
    /// Reads `address` or `address/prefix-length`. A network with bits set
    /// after its prefix (`10.0.0.1/8`) is refused, as a likely typo.
    pub fn parse(text: &str) -> Result<IpNetwork, String> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: std::net::IpAddr = address.parse().map_err(|_| match prefix {
            Some(_) => format!("`{address}` is not an IPv4 or IPv6 address"),
            None => "it is not an IPv4 or IPv6 address".to_string(),
        })?;
        let bits: u8 = if address.is_ipv4() { 32 } else { 128 };
        let Some(prefix) = prefix else {
            // A lone address; an IPv4-mapped IPv6 one means the IPv4 one.
            let address = address.to_canonical();
            return Ok(IpNetwork { address, prefix_len: if address.is_ipv4() { 32 } else { 128 } });
        };
        let prefix_len = match prefix.parse::<u8>() {
            Ok(n) if n <= bits && prefix.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(format!("`/{prefix}` is not a prefix length from 0 to {bits}")),
        };
        let network = IpNetwork { address, prefix_len };
        let first = network.first();
        if first != address {
            return Err(format!(
                "it has bits set after its /{prefix_len} prefix (the network is `{first}/{prefix_len}`)"
            ));
        }
        // `::ffff:10.0.0.0/104` is the IPv4 network `10.0.0.0/8`.
        match address {
            std::net::IpAddr::V6(v6) if prefix_len >= 96 => match v6.to_ipv4_mapped() {
                Some(v4) => Ok(IpNetwork { address: v4.into(), prefix_len: prefix_len - 96 }),
                None => Ok(network),
            },
            _ => Ok(network),
        }
    }

    /// Whether `ip` is in this network (an IPv4-mapped IPv6 address counts
    /// as its IPv4 address).
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        match (self.address, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix_len)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix_len)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }

    /// The first address of the network: `address` with its host bits zeroed.
    fn first(&self) -> std::net::IpAddr {
        use std::net::IpAddr;
        match self.address {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix_len)).unwrap_or(0);
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix_len)).unwrap_or(0);
                IpAddr::V6((u128::from(a) & mask).into())
            }
        }
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

/// `[schedule]`: cron expressions (5 fields, minute first; or 6 with
/// seconds first), read in the site's time zone.
#[derive(Debug, Clone)]
pub struct ScheduleSettings {
    /// Full rescan and rebuild, a safety net for missed file events.
    pub rebuild: crate::schedule::CronSchedule,
    /// Housekeeping: trimming caches and pruning expired state.
    pub housekeeping: crate::schedule::CronSchedule,
}

/// Site-wide settings from `[site]`.
#[derive(Debug, Clone)]
pub struct Site {
    /// Absolute base URL, always ending in `/`.
    pub base_url: Url,
    /// Code of the default language (e.g. `vi`).
    pub default_language: String,
    /// The newsroom's time zone: dates without an offset are read in it, and
    /// every date is written in it.
    pub time_zone: TimeZone,
    /// The IANA name of [`Site::time_zone`], as written in the config.
    pub time_zone_name: String,
    /// Site title per language code.
    pub title: BTreeMap<String, String>,
    /// Site description per language code.
    pub description: BTreeMap<String, String>,
    /// Copyright line for feeds, if any.
    pub copyright: Option<String>,
    /// Absolute URL of the site logo, if any.
    pub logo: Option<Url>,
    /// Permalink template for articles, e.g. `{prefix}/{section}/{slug}/`.
    pub permalink: String,
    /// Whether feeds and sitemaps name an XSL stylesheet, so a person who
    /// opens one in a browser sees a readable page.
    pub stylesheets: bool,
    /// Prefix that turns an article's stable id into a globally unique IRI
    /// (Atom `id`, RSS `guid`, JSON Feed `id`). Never change it once published.
    pub id_prefix: String,
}

/// One language of the site, from `[languages.CODE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Language {
    /// BCP 47 code, e.g. `vi` or `en`.
    pub code: String,
    /// The language's name in itself, e.g. `Tiếng Việt`.
    pub name: String,
    /// Path prefix of this language's article URLs: `""` or `/en`.
    pub prefix: String,
}

/// One declared section, from `[sections.SLUG]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Title per language code; languages missing here fall back to the slug.
    pub title: BTreeMap<String, String>,
}

/// `[sitemaps]`: the sitemap index, per-language monthly sitemaps, the page
/// sitemap, the Google News sitemap and robots.txt.
#[derive(Debug, Clone)]
pub struct SitemapSettings {
    /// Whether sitemaps are written at all.
    pub enabled: bool,
    /// Path of the sitemap index.
    pub index_path: String,
    /// Path template of monthly article sitemaps (`{lang}`, `{month}` as
    /// `YYYY-MM`). Parts after the first get `-2`, `-3` … before `.xml`.
    pub month_path: String,
    /// Path of the sitemap of non-article pages.
    pub pages_path: String,
    /// Path of the Google News sitemap; `None` when news is off.
    pub news_path: Option<String>,
    /// Publication name per language for the news sitemap.
    pub news_names: BTreeMap<String, String>,
    /// Other pages of the site to list, as absolute URLs.
    pub extra_pages: Vec<String>,
    /// Whether each sitemap also gets a `.gz` twin.
    pub gzip: bool,
    /// Whether herald writes `/robots.txt` naming the sitemap index.
    pub robots_txt: bool,
}

/// Whether feeds carry the full article or only its summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentMode {
    /// `content:encoded` / Atom `content` / `content_html` carry the body.
    Full,
    /// Only the summary is published.
    Summary,
}

/// Which articles the site-wide feeds (`/rss.xml` …) hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteScope {
    /// Articles in the default language (the usual choice: `/rss.xml` is the
    /// main-language feed).
    DefaultLanguage,
    /// Articles in every language, mixed.
    AllLanguages,
}

/// Path templates for one feed scope, one per format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPaths {
    /// RSS 2.0 path.
    pub rss: String,
    /// Atom 1.0 path.
    pub atom: String,
    /// JSON Feed 1.1 path.
    pub json: String,
}

/// `[feeds]`: limits, content mode and path templates.
#[derive(Debug, Clone)]
pub struct FeedSettings {
    /// Most items in one feed (default 50).
    pub item_limit: usize,
    /// Full content or summaries.
    pub content: ContentMode,
    /// What the site-wide feeds hold.
    pub site_scope: SiteScope,
    /// Site-wide feed paths (no placeholders).
    pub site_paths: FeedPaths,
    /// Per-language feed paths (`{lang}`).
    pub language_paths: FeedPaths,
    /// Per-section feed paths (`{lang}` and `{section}`).
    pub section_paths: FeedPaths,
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
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let mut d = Diagnostic::error(path, toml_message(&e));
            if let Some(span) = e.span() {
                let (line, col) = line_col(text, span.start);
                d = d.at(line, col);
            }
            let hint = match crate::diagnostic::closest_field(&d.message) {
                Some(meant) => format!("did you mean `{meant}`? (the README lists every key)"),
                None => "see the commented sample feeds.toml and the README's configuration reference".to_string(),
            };
            ConfigError::one(d.with_hint(hint))
        })?;
        let mut v = Validator { text, path, problems: Vec::new() };
        let config = v.config(raw, overrides);
        match config {
            Some(config) if v.problems.is_empty() => Ok(config),
            _ => Err(ConfigError { diagnostics: v.problems }),
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
        if !self.websub.enabled {
            return Vec::new();
        }
        let mut hubs = vec![self.url_for(&self.websub.path)];
        hubs.extend(self.websub.external_hubs.iter().cloned());
        hubs
    }

    /// Resolves a site path (`/vi/rss.xml`) to an absolute URL.
    pub fn url_for(&self, path: &str) -> String {
        let mut url = self.site.base_url.as_str().to_string();
        url.push_str(path.trim_start_matches('/'));
        url
    }
}

fn localized<'a>(map: &'a BTreeMap<String, String>, lang: &str, default: &str) -> Option<&'a str> {
    map.get(lang).or_else(|| map.get(default)).or_else(|| map.values().next()).map(String::as_str)
}

/// Values given on the command line that replace those in the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--store PATH`.
    pub store: Option<PathBuf>,
    /// `--base-url URL`.
    pub base_url: Option<String>,
    /// `--state DIR`.
    pub state_dir: Option<PathBuf>,
    /// `--listen ADDR:PORT`.
    pub listen: Option<String>,
    /// `--out DIR` of `herald serve`.
    pub out_dir: Option<PathBuf>,
    /// `--allow-private-callbacks` of `herald serve`.
    pub allow_private_callbacks: bool,
}

/// Everything wrong with a configuration, each with its position.
#[derive(Debug, Clone)]
pub struct ConfigError {
    /// One entry per problem, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl ConfigError {
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

/// toml's message without its own snippet (we print our own position).
fn toml_message(e: &toml::de::Error) -> String {
    let message = e.message().trim();
    message.lines().next().unwrap_or(message).to_string()
}

// ---------------------------------------------------------------------------
// Raw, as written in the file.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    store: Option<Spanned<String>>,
    state_dir: Option<Spanned<String>>,
    site: RawSite,
    #[serde(default)]
    languages: BTreeMap<Spanned<String>, RawLanguage>,
    #[serde(default)]
    sections: BTreeMap<Spanned<String>, RawSection>,
    #[serde(default)]
    feeds: RawFeeds,
    #[serde(default)]
    sitemaps: RawSitemaps,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    schedule: RawSchedule,
    #[serde(default)]
    websub: RawWebSub,
    #[serde(default)]
    webhooks: Vec<RawWebhook>,
    indexnow: Option<RawIndexNow>,
    #[serde(default)]
    archives: RawArchives,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawArchives {
    enabled: Option<bool>,
    site_path: Option<Spanned<String>>,
    language_path: Option<Spanned<String>>,
    section_path: Option<Spanned<String>>,
    index_path: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    name: Spanned<String>,
    url: Spanned<String>,
    secret: Spanned<String>,
    events: Option<Vec<ArticleEvent>>,
    #[serde(default)]
    languages: Vec<Spanned<String>>,
    #[serde(default)]
    sections: Vec<String>,
    update_delay_seconds: Option<Spanned<i64>>,
    announce_existing: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndexNow {
    key: Spanned<String>,
    endpoint: Option<Spanned<String>>,
    delay_seconds: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWebSub {
    enabled: Option<bool>,
    path: Option<Spanned<String>>,
    #[serde(default)]
    external_hubs: Vec<Spanned<String>>,
    lease_default_seconds: Option<Spanned<i64>>,
    lease_min_seconds: Option<Spanned<i64>>,
    lease_max_seconds: Option<Spanned<i64>>,
    signature_algorithm: Option<SignatureAlgorithm>,
    allow_private_callbacks: Option<bool>,
    subscribe_rate_per_minute: Option<Spanned<i64>>,
    retry_base_seconds: Option<Spanned<i64>>,
    retry_horizon_hours: Option<Spanned<i64>>,
    request_timeout_seconds: Option<Spanned<i64>>,
    max_concurrent_deliveries: Option<Spanned<i64>>,
    max_concurrent_per_host: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<Spanned<String>>,
    cache_control: Option<String>,
    out_dir: Option<String>,
    request_timeout_seconds: Option<Spanned<i64>>,
    max_header_bytes: Option<Spanned<i64>>,
    max_connections: Option<Spanned<i64>>,
    watch_debounce_ms: Option<Spanned<i64>>,
    deferred_archives_from: Option<Spanned<i64>>,
    #[serde(default)]
    trusted_proxies: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    rebuild: Option<Spanned<String>>,
    housekeeping: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    base_url: Spanned<String>,
    default_language: Spanned<String>,
    time_zone: Option<Spanned<String>>,
    title: Spanned<Localized>,
    #[serde(default)]
    description: Option<Spanned<Localized>>,
    copyright: Option<String>,
    logo: Option<Spanned<String>>,
    permalink: Option<Spanned<String>>,
    id_prefix: Option<Spanned<String>>,
    stylesheets: Option<bool>,
}

/// A text given once for all languages, or per language code.
#[derive(Deserialize)]
#[serde(untagged)]
enum Localized {
    Same(String),
    PerLanguage(BTreeMap<String, String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLanguage {
    name: Option<String>,
    prefix: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    title: Spanned<Localized>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFeeds {
    item_limit: Option<Spanned<i64>>,
    content: Option<ContentMode>,
    site_scope: Option<SiteScope>,
    #[serde(default)]
    paths: RawFeedPathsByScope,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSitemaps {
    enabled: Option<bool>,
    index_path: Option<Spanned<String>>,
    month_path: Option<Spanned<String>>,
    pages_path: Option<Spanned<String>>,
    news: Option<bool>,
    news_path: Option<Spanned<String>>,
    news_name: Option<Spanned<Localized>>,
    #[serde(default)]
    extra_pages: Vec<Spanned<String>>,
    gzip: Option<bool>,
    robots_txt: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFeedPathsByScope {
    #[serde(default)]
    site: RawFeedPaths,
    #[serde(default)]
    language: RawFeedPaths,
    #[serde(default)]
    section: RawFeedPaths,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFeedPaths {
    rss: Option<Spanned<String>>,
    atom: Option<Spanned<String>>,
    json: Option<Spanned<String>>,
}

// ---------------------------------------------------------------------------
// Validation.

/// Collects every problem with its position while turning raw into valid.
struct Validator<'a> {
    text: &'a str,
    path: &'a Path,
    problems: Vec<Diagnostic>,
}

impl Validator<'_> {
    fn problem<T>(&mut self, at: &Spanned<T>, message: impl Into<String>, hint: impl Into<String>) {
        let (line, col) = line_col(self.text, at.span().start);
        self.problems.push(Diagnostic::error(self.path, message).at(line, col).with_hint(hint));
    }

    fn config(&mut self, raw: RawConfig, overrides: &Overrides) -> Option<Config> {
        let config_dir = self.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let resolve = |p: &str| -> PathBuf {
            let p = Path::new(p);
            if p.is_absolute() { p.to_path_buf() } else { config_dir.join(p) }
        };
        let store_dir = match (&overrides.store, &raw.store) {
            (Some(p), _) => p.clone(),
            (None, Some(s)) => resolve(s.get_ref()),
            (None, None) => resolve("content"),
        };
        let state_dir = match (&overrides.state_dir, &raw.state_dir) {
            (Some(p), _) => p.clone(),
            (None, Some(s)) => resolve(s.get_ref()),
            (None, None) => resolve("state"),
        };

        let languages = self.languages(&raw.languages);
        let codes: Vec<String> = languages.iter().map(|l| l.code.clone()).collect();
        let site = self.site(raw.site, &codes, overrides)?;
        let sections = self.sections(raw.sections, &codes);
        let feeds = self.feeds(raw.feeds);
        let sitemaps = self.sitemaps(raw.sitemaps, &codes, &site);
        let server = self.server(raw.server, overrides, &resolve);
        let schedule = self.schedule(raw.schedule);
        let websub = self.websub(raw.websub, overrides);
        let webhooks = self.webhooks(raw.webhooks, &codes);
        let indexnow = raw.indexnow.map(|raw| self.indexnow(raw));
        let archives = self.archives(raw.archives);
        Some(Config {
            source: self.path.to_path_buf(),
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
        })
    }

    fn languages(&mut self, raw: &BTreeMap<Spanned<String>, RawLanguage>) -> Vec<Language> {
        let mut out = Vec::new();
        for (code, lang) in raw {
            if !is_language_code(code.get_ref()) {
                self.problem(
                    code,
                    format!("`{}` is not a language code", code.get_ref()),
                    "use a BCP 47 code such as `vi`, `en` or `zh-Hant`",
                );
                continue;
            }
            let prefix = match &lang.prefix {
                None => format!("/{}", code.get_ref()),
                Some(p) => {
                    let value = p.get_ref().trim_end_matches('/');
                    if !(value.is_empty() || value.starts_with('/')) || value.contains(char::is_whitespace) {
                        self.problem(
                            p,
                            format!("language prefix `{}` must be empty or start with `/`", p.get_ref()),
                            "write e.g. `prefix = \"/en\"`, or `prefix = \"\"` for the root",
                        );
                    }
                    value.to_string()
                }
            };
            out.push(Language {
                code: code.get_ref().clone(),
                name: lang.name.clone().unwrap_or_else(|| code.get_ref().clone()),
                prefix,
            });
        }
        out
    }

    fn site(&mut self, raw: RawSite, codes: &[String], overrides: &Overrides) -> Option<Site> {
        let base_url = match &overrides.base_url {
            Some(u) => match parse_base_url(u) {
                Ok(url) => Some(url),
                Err(why) => {
                    self.problems.push(
                        Diagnostic::error("--base-url", format!("`{u}` is not a usable base URL: {why}"))
                            .with_hint("give an absolute http(s) URL such as https://news.example.vn/"),
                    );
                    None
                }
            },
            None => match parse_base_url(raw.base_url.get_ref()) {
                Ok(url) => Some(url),
                Err(why) => {
                    self.problem(
                        &raw.base_url,
                        format!("`{}` is not a usable base URL: {why}", raw.base_url.get_ref()),
                        "give an absolute http(s) URL such as https://news.example.vn/",
                    );
                    None
                }
            },
        };

        if codes.is_empty() {
            self.problems.push(
                Diagnostic::error(self.path, "no languages are declared")
                    .with_hint("add a table per language, e.g. `[languages.vi]` with `name = \"Tiếng Việt\"`"),
            );
        }
        let default_language = raw.default_language.get_ref().clone();
        if !codes.is_empty() && !codes.contains(&default_language) {
            self.problem(
                &raw.default_language,
                format!("default language `{default_language}` is not declared under [languages]"),
                format!("declare `[languages.{default_language}]` or use one of: {}", codes.join(", ")),
            );
        }

        let (time_zone_name, time_zone) = match &raw.time_zone {
            None => ("UTC".to_string(), Some(TimeZone::UTC)),
            Some(name) => match TimeZone::get(name.get_ref()) {
                Ok(tz) => (name.get_ref().clone(), Some(tz)),
                Err(_) => {
                    self.problem(
                        name,
                        format!("unknown time zone `{}`", name.get_ref()),
                        "use an IANA time zone name such as `Asia/Ho_Chi_Minh` or `Europe/London`",
                    );
                    (name.get_ref().clone(), None)
                }
            },
        };

        let title = self.localized(&raw.title, codes, "site title");
        let description = match &raw.description {
            Some(d) => self.localized(d, codes, "site description"),
            None => BTreeMap::new(),
        };

        let logo = raw.logo.as_ref().and_then(|logo| {
            let resolved = base_url.as_ref().map(|b| b.join(logo.get_ref().trim_start_matches('/')));
            match resolved {
                Some(Ok(url)) if logo.get_ref().starts_with("http") || !logo.get_ref().contains(':') => Some(url),
                Some(_) => {
                    self.problem(
                        logo,
                        format!("`{}` is not a usable logo URL", logo.get_ref()),
                        "give a path such as `/images/logo.png` or an absolute URL",
                    );
                    None
                }
                None => None,
            }
        });

        let permalink = match &raw.permalink {
            None => "{prefix}/{section}/{slug}/".to_string(),
            Some(p) => {
                let value = p.get_ref();
                if !value.contains("{slug}") {
                    self.problem(
                        p,
                        format!("permalink template `{value}` has no `{{slug}}`"),
                        "every article needs its own URL: include `{slug}`, e.g. `{prefix}/{section}/{slug}/`",
                    );
                }
                if let Some(bad) =
                    unknown_placeholder(value, &["prefix", "lang", "section", "slug", "year", "month", "day"])
                {
                    self.problem(
                        p,
                        format!("unknown placeholder `{{{bad}}}` in permalink template"),
                        "use {prefix}, {lang}, {section}, {slug}, {year}, {month} or {day}",
                    );
                }
                value.clone()
            }
        };

        let id_prefix = match (&raw.id_prefix, &base_url) {
            (Some(p), _) => {
                if !p.get_ref().contains(':') {
                    self.problem(
                        p,
                        format!("id prefix `{}` does not start an IRI", p.get_ref()),
                        "use a tag URI such as `tag:news.example.vn,2026:`",
                    );
                }
                p.get_ref().clone()
            }
            (None, Some(url)) => format!("tag:{},2000:", url.host_str().unwrap_or("localhost")),
            (None, None) => String::new(),
        };

        Some(Site {
            base_url: base_url?,
            default_language,
            time_zone: time_zone?,
            time_zone_name,
            title,
            description,
            copyright: raw.copyright.map(|c| crate::text::clean_line(&c)),
            logo,
            permalink,
            stylesheets: raw.stylesheets.unwrap_or(true),
            id_prefix,
        })
    }

    fn localized(&mut self, raw: &Spanned<Localized>, codes: &[String], what: &str) -> BTreeMap<String, String> {
        match raw.get_ref() {
            Localized::Same(s) => codes.iter().map(|c| (c.clone(), crate::text::clean_line(s))).collect(),
            Localized::PerLanguage(map) => {
                for code in map.keys() {
                    if !codes.is_empty() && !codes.contains(code) {
                        self.problem(
                            raw,
                            format!("{what} is given for `{code}`, which is not a declared language"),
                            format!("declared languages: {}", codes.join(", ")),
                        );
                    }
                }
                map.iter().map(|(k, v)| (k.clone(), crate::text::clean_line(v))).collect()
            }
        }
    }

    fn sections(&mut self, raw: BTreeMap<Spanned<String>, RawSection>, codes: &[String]) -> BTreeMap<String, Section> {
        let mut out = BTreeMap::new();
        for (slug, section) in raw {
            if !crate::text::is_slug(slug.get_ref()) {
                self.problem(
                    &slug,
                    format!("section `{}` is not a slug", slug.get_ref()),
                    format!("name sections by their folder's slug, e.g. `{}`", crate::text::slugify(slug.get_ref())),
                );
                continue;
            }
            let title = self.localized(&section.title, codes, "section title");
            out.insert(slug.into_inner(), Section { title });
        }
        out
    }

    fn feeds(&mut self, raw: RawFeeds) -> FeedSettings {
        let item_limit = match &raw.item_limit {
            None => 50,
            Some(n) if (1..=10_000).contains(n.get_ref()) => *n.get_ref() as usize,
            Some(n) => {
                self.problem(
                    n,
                    format!("item_limit {} is out of range", n.get_ref()),
                    "use a number from 1 to 10000 (50 is usual)",
                );
                50
            }
        };
        let paths = raw.paths;
        let site_paths = self.paths(paths.site, ["/rss.xml", "/atom.xml", "/feed.json"], &[]);
        let language_paths =
            self.paths(paths.language, ["/{lang}/rss.xml", "/{lang}/atom.xml", "/{lang}/feed.json"], &["lang"]);
        let section_paths = self.paths(
            paths.section,
            ["/{lang}/{section}/rss.xml", "/{lang}/{section}/atom.xml", "/{lang}/{section}/feed.json"],
            &["lang", "section"],
        );
        FeedSettings {
            item_limit,
            content: raw.content.unwrap_or(ContentMode::Full),
            site_scope: raw.site_scope.unwrap_or(SiteScope::DefaultLanguage),
            site_paths,
            language_paths,
            section_paths,
        }
    }

    fn server(
        &mut self,
        raw: RawServer,
        overrides: &Overrides,
        resolve: &dyn Fn(&str) -> PathBuf,
    ) -> Option<ServerSettings> {
        let hint = "write host:port, e.g. \"127.0.0.1:8080\" or \"[::]:80\"";
        let listen = match (&overrides.listen, &raw.listen) {
            (Some(text), _) => match text.parse() {
                Ok(addr) => Some(addr),
                Err(_) => {
                    self.problems.push(
                        Diagnostic::error("--listen", format!("`{text}` is not an address and port")).with_hint(hint),
                    );
                    None
                }
            },
            (None, Some(text)) => match text.get_ref().parse() {
                Ok(addr) => Some(addr),
                Err(_) => {
                    self.problem(text, format!("`{}` is not an address and port", text.get_ref()), hint);
                    None
                }
            },
            (None, None) => Some(std::net::SocketAddr::from(([127, 0, 0, 1], 8080))),
        };
        let request_timeout = self.number(&raw.request_timeout_seconds, 30, 1..=3600, "request_timeout_seconds");
        let max_header_bytes = self.number(&raw.max_header_bytes, 16 * 1024, 1024..=1024 * 1024, "max_header_bytes");
        let max_connections = self.number(&raw.max_connections, 10_000, 1..=1_000_000, "max_connections");
        let debounce = self.number(&raw.watch_debounce_ms, 100, 0..=60_000, "watch_debounce_ms");
        let deferred_archives_from =
            self.number(&raw.deferred_archives_from, 20_000, 0..=i64::MAX, "deferred_archives_from");
        let trusted_proxies = raw
            .trusted_proxies
            .iter()
            .filter_map(|entry| match IpNetwork::parse(entry.get_ref().trim()) {
                Ok(network) => Some(network),
                Err(why) => {
                    self.problem(
                        entry,
                        format!("trusted proxy `{}` is not usable: {why}", entry.get_ref()),
                        "list the proxies' addresses or CIDR networks, e.g. [\"127.0.0.1\", \"::1\", \"10.0.0.0/8\"]; host names are not accepted",
                    );
                    None
                }
            })
            .collect();
        Some(ServerSettings {
            listen: listen?,
            cache_control: raw.cache_control.unwrap_or_else(|| "public, max-age=300".to_string()),
            out_dir: overrides.out_dir.clone().or_else(|| raw.out_dir.as_deref().map(resolve)),
            request_timeout: std::time::Duration::from_secs(request_timeout as u64),
            max_header_bytes: max_header_bytes as usize,
            max_connections: max_connections as usize,
            watch_debounce: std::time::Duration::from_millis(debounce as u64),
            deferred_archives_from: usize::try_from(deferred_archives_from).unwrap_or(usize::MAX),
            trusted_proxies,
        })
    }

    fn websub(&mut self, raw: RawWebSub, overrides: &Overrides) -> WebSubSettings {
        let day = 86_400;
        let lease_min = self.number(&raw.lease_min_seconds, 60, 1..=365 * day, "lease_min_seconds");
        let lease_max = self.number(&raw.lease_max_seconds, 30 * day, 1..=365 * day, "lease_max_seconds");
        let lease_default = self.number(&raw.lease_default_seconds, 10 * day, 1..=365 * day, "lease_default_seconds");
        let rate = self.number(&raw.subscribe_rate_per_minute, 120, 1..=1_000_000, "subscribe_rate_per_minute");
        let retry_base = self.number(&raw.retry_base_seconds, 10, 1..=3600, "retry_base_seconds");
        let horizon = self.number(&raw.retry_horizon_hours, 24, 1..=24 * 30, "retry_horizon_hours");
        let timeout = self.number(&raw.request_timeout_seconds, 10, 1..=300, "request_timeout_seconds");
        let max_concurrent = self.number(&raw.max_concurrent_deliveries, 512, 1..=100_000, "max_concurrent_deliveries");
        let max_per_host = self.number(&raw.max_concurrent_per_host, 64, 1..=100_000, "max_concurrent_per_host");
        if let Some(min) = &raw.lease_min_seconds
            && lease_min > lease_max
        {
            self.problem(
                min,
                format!("lease_min_seconds {lease_min} is above lease_max_seconds {lease_max}"),
                "the shortest lease must not exceed the longest",
            );
        }
        let path = match &raw.path {
            None => "/websub".to_string(),
            Some(p) => {
                let value = p.get_ref();
                if !value.starts_with('/') || value.contains(char::is_whitespace) || value == "/" {
                    self.problem(
                        p,
                        format!("hub path `{value}` must start with `/` and name an endpoint"),
                        "e.g. `/websub`",
                    );
                }
                value.clone()
            }
        };
        let external_hubs = raw
            .external_hubs
            .iter()
            .filter_map(|hub| match Url::parse(hub.get_ref()) {
                Ok(url) if url.scheme() == "http" || url.scheme() == "https" => Some(url.to_string()),
                _ => {
                    self.problem(
                        hub,
                        format!("`{}` is not an http(s) hub URL", hub.get_ref()),
                        "e.g. \"https://pubsubhubbub.appspot.com/\"",
                    );
                    None
                }
            })
            .collect();
        WebSubSettings {
            enabled: raw.enabled.unwrap_or(true),
            path,
            external_hubs,
            lease_default: lease_default.clamp(lease_min, lease_max.max(lease_min)) as u64,
            lease_min: lease_min as u64,
            lease_max: lease_max.max(lease_min) as u64,
            signature_algorithm: raw.signature_algorithm.unwrap_or(SignatureAlgorithm::Sha256),
            allow_private_callbacks: overrides.allow_private_callbacks || raw.allow_private_callbacks.unwrap_or(false),
            subscribe_rate_per_minute: rate as u32,
            retry_base: std::time::Duration::from_secs(retry_base as u64),
            retry_horizon: std::time::Duration::from_secs(horizon as u64 * 3600),
            request_timeout: std::time::Duration::from_secs(timeout as u64),
            max_concurrent: max_concurrent as usize,
            max_per_host: max_per_host as usize,
        }
    }

    fn webhooks(&mut self, raw: Vec<RawWebhook>, codes: &[String]) -> Vec<Webhook> {
        use base64::Engine as _;
        let mut out: Vec<Webhook> = Vec::new();
        for hook in raw {
            let name = hook.name.get_ref().clone();
            if name.is_empty() || out.iter().any(|w| w.name == name) {
                self.problem(
                    &hook.name,
                    format!("webhook name `{name}` is empty or used twice"),
                    "give each [[webhooks]] its own name",
                );
            }
            match Url::parse(hook.url.get_ref()) {
                Ok(url) if url.scheme() == "http" || url.scheme() == "https" => {}
                _ => self.problem(
                    &hook.url,
                    format!("`{}` is not an http(s) URL", hook.url.get_ref()),
                    "e.g. url = \"https://bot.example.vn/hooks/herald\"",
                ),
            }
            let key = match hook
                .secret
                .get_ref()
                .strip_prefix("whsec_")
                .map(|b| base64::engine::general_purpose::STANDARD.decode(b))
            {
                Some(Ok(key)) if key.len() >= 16 => key,
                _ => {
                    self.problem(
                        &hook.secret,
                        "the webhook secret must be `whsec_` followed by base64 of at least 16 random bytes",
                        "generate one with: printf 'whsec_%s\\n' \"$(head -c 32 /dev/urandom | base64)\"",
                    );
                    Vec::new()
                }
            };
            for lang in &hook.languages {
                if !codes.contains(lang.get_ref()) {
                    self.problem(
                        lang,
                        format!("webhook language `{}` is not declared", lang.get_ref()),
                        format!("declared languages: {}", codes.join(", ")),
                    );
                }
            }
            let delay = match &hook.update_delay_seconds {
                None => 0,
                Some(n) if (0..=86_400).contains(n.get_ref()) => *n.get_ref(),
                Some(n) => {
                    self.problem(
                        n,
                        format!("update_delay_seconds {} is out of range", n.get_ref()),
                        "use 0 to 86400 seconds",
                    );
                    0
                }
            };
            let mut events = hook
                .events
                .unwrap_or_else(|| vec![ArticleEvent::Published, ArticleEvent::Updated, ArticleEvent::Unpublished]);
            events.sort();
            events.dedup();
            out.push(Webhook {
                name,
                url: hook.url.get_ref().clone(),
                key,
                events,
                languages: hook.languages.into_iter().map(Spanned::into_inner).collect(),
                sections: hook.sections,
                update_delay: std::time::Duration::from_secs(delay as u64),
                announce_existing: hook.announce_existing.unwrap_or(false),
            });
        }
        out
    }

    fn archives(&mut self, raw: RawArchives) -> ArchiveSettings {
        let mut path =
            |value, default: &str, required: &[&str]| self.path_template(value, default, required, "archive", None);
        ArchiveSettings {
            enabled: raw.enabled.unwrap_or(true),
            site_path: path(raw.site_path, "/archive/{month}.{ext}", &["month", "ext"]),
            language_path: path(raw.language_path, "/{lang}/archive/{month}.{ext}", &["lang", "month", "ext"]),
            section_path: path(
                raw.section_path,
                "/{lang}/{section}/archive/{month}.{ext}",
                &["lang", "section", "month", "ext"],
            ),
            index_path: path(raw.index_path, "/{lang}/archive.xml", &["lang"]),
        }
    }

    fn indexnow(&mut self, raw: RawIndexNow) -> IndexNowSettings {
        let key = raw.key.get_ref().clone();
        if !(8..=128).contains(&key.len()) || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            self.problem(
                &raw.key,
                "the IndexNow key must be 8 to 128 letters, digits or dashes",
                "generate one with: head -c 16 /dev/urandom | xxd -p",
            );
        }
        let endpoint = match &raw.endpoint {
            None => "https://api.indexnow.org/indexnow".to_string(),
            Some(e) => match Url::parse(e.get_ref()) {
                Ok(url) if url.scheme() == "http" || url.scheme() == "https" => url.to_string(),
                _ => {
                    self.problem(
                        e,
                        format!("`{}` is not an http(s) URL", e.get_ref()),
                        "e.g. endpoint = \"https://api.indexnow.org/indexnow\"",
                    );
                    String::new()
                }
            },
        };
        let delay = match &raw.delay_seconds {
            None => 10,
            Some(n) if (0..=3600).contains(n.get_ref()) => *n.get_ref(),
            Some(n) => {
                self.problem(n, format!("delay_seconds {} is out of range", n.get_ref()), "use 0 to 3600 seconds");
                10
            }
        };
        IndexNowSettings { key, endpoint, delay: std::time::Duration::from_secs(delay as u64) }
    }

    fn schedule(&mut self, raw: RawSchedule) -> Option<ScheduleSettings> {
        let mut parse = |value: Option<Spanned<String>>, default: &str| match value {
            None => crate::schedule::CronSchedule::parse(default).ok(),
            Some(text) => {
                match crate::schedule::CronSchedule::parse(text.get_ref()) {
                    Ok(schedule) => Some(schedule),
                    Err(why) => {
                        self.problem(&text, why, "five fields: minute hour day-of-month month day-of-week (a sixth, first, field is seconds)");
                        None
                    }
                }
            }
        };
        let rebuild = parse(raw.rebuild, "0 * * * *");
        let housekeeping = parse(raw.housekeeping, "30 3 * * *");
        Some(ScheduleSettings { rebuild: rebuild?, housekeeping: housekeeping? })
    }

    fn sitemaps(&mut self, raw: RawSitemaps, codes: &[String], site: &Site) -> SitemapSettings {
        let mut path = |value, default: &str, required: &[&str]| {
            self.path_template(value, default, required, "sitemap", Some(".xml"))
        };
        let index_path = path(raw.index_path, "/sitemap.xml", &[]);
        let month_path = path(raw.month_path, "/{lang}/sitemap-{month}.xml", &["lang", "month"]);
        let pages_path = path(raw.pages_path, "/sitemap-pages.xml", &[]);
        let news_path = path(raw.news_path, "/sitemap-news.xml", &[]);
        let news_names = match &raw.news_name {
            Some(names) => self.localized(names, codes, "news publication name"),
            None => site.title.clone(),
        };
        let extra_pages = raw
            .extra_pages
            .iter()
            .filter_map(|page| {
                let text = page.get_ref();
                let resolved = if text.starts_with('/') {
                    site.base_url.join(text.trim_start_matches('/')).ok()
                } else {
                    Url::parse(text).ok().filter(|u| u.scheme() == "http" || u.scheme() == "https")
                };
                if resolved.is_none() {
                    self.problem(
                        page,
                        format!("extra page `{text}` is not a usable URL"),
                        "give a path such as `/gioi-thieu/` or an absolute http(s) URL",
                    );
                }
                resolved.map(|u| u.to_string())
            })
            .collect();
        SitemapSettings {
            enabled: raw.enabled.unwrap_or(true),
            index_path,
            month_path,
            pages_path,
            news_path: raw.news.unwrap_or(true).then_some(news_path),
            news_names,
            extra_pages,
            gzip: raw.gzip.unwrap_or(false),
            robots_txt: raw.robots_txt.unwrap_or(true),
        }
    }

    /// Checks a path template of `kind` (feed, sitemap, archive): it starts
    /// with `/`, names a file (ending in `suffix` when given), holds every
    /// `required` placeholder (else files would overwrite each other) and
    /// no other. `None` gives `default`.
    fn path_template(
        &mut self,
        value: Option<Spanned<String>>,
        default: &str,
        required: &[&str],
        kind: &str,
        suffix: Option<&str>,
    ) -> String {
        let Some(value) = value else { return default.to_string() };
        let template = value.get_ref();
        let example = format!("e.g. `{default}`");
        let names_a_file = !template.ends_with('/') && suffix.is_none_or(|s| template.ends_with(s));
        if !template.starts_with('/') || template.contains("..") || !names_a_file {
            let ending = suffix.map(|s| format!(" and end with `{s}`")).unwrap_or_else(|| " and name a file".into());
            self.problem(&value, format!("{kind} path `{template}` must start with `/`{ending}"), example.clone());
        }
        for placeholder in required {
            if !template.contains(&format!("{{{placeholder}}}")) {
                let why = format!(
                    "{kind} path `{template}` lacks `{{{placeholder}}}`, so {kind}s would overwrite each other"
                );
                self.problem(&value, why, example.clone());
            }
        }
        if let Some(bad) = unknown_placeholder(template, required) {
            self.problem(
                &value,
                format!("placeholder `{{{bad}}}` cannot be used in {kind} path `{template}`"),
                example,
            );
        }
        template.clone()
    }

    /// A whole number in `range`, or `default` when not given; out of
    /// range is a problem (and `default` is used).
    fn number(
        &mut self,
        value: &Option<Spanned<i64>>,
        default: i64,
        range: std::ops::RangeInclusive<i64>,
        what: &str,
    ) -> i64 {
        match value {
            None => default,
            Some(n) if range.contains(n.get_ref()) => *n.get_ref(),
            Some(n) => {
                let hint = format!("use a number from {} to {} (default {default})", range.start(), range.end());
                self.problem(n, format!("{what} {} is out of range", n.get_ref()), hint);
                default
            }
        }
    }

    fn paths(&mut self, raw: RawFeedPaths, defaults: [&str; 3], required: &[&str]) -> FeedPaths {
        let mut check = |value, default: &str| self.path_template(value, default, required, "feed", None);
        FeedPaths {
            rss: check(raw.rss, defaults[0]),
            atom: check(raw.atom, defaults[1]),
            json: check(raw.json, defaults[2]),
        }
    }
}

pub(crate) fn parse_base_url(s: &str) -> Result<Url, String> {
    let mut url = Url::parse(s).map_err(|e| e.to_string())?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!("the scheme is `{}`, not http or https", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("it has a query or fragment".into());
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// A BCP 47-shaped code: a 2-3 letter language, then alphanumeric subtags.
pub(crate) fn is_language_code(code: &str) -> bool {
    let mut parts = code.split('-');
    let first = parts.next().unwrap_or("");
    (2..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The first `{name}` in `template` that is not in `allowed`.
fn unknown_placeholder(template: &str, allowed: &[&str]) -> Option<String> {
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let end = after.find('}')?;
        let name = &after[..end];
        if !allowed.contains(&name) {
            return Some(name.to_string());
        }
        rest = &after[end + 1..];
    }
    None
}

/// Fills `{name}` placeholders in `template` from `values`.
pub fn fill_template(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[site]
base_url = "https://news.example.vn"
default_language = "vi"
time_zone = "Asia/Ho_Chi_Minh"
title = { vi = "Báo Mẫu", en = "Sample News" }

[languages.vi]
name = "Tiếng Việt"
prefix = ""

[languages.en]
name = "English"
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("feeds.toml"), &Overrides::default())
    }

    fn first_error(text: &str) -> String {
        parse(text).expect_err("config should be refused").diagnostics[0].to_string()
    }

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
    fn unknown_key_names_line_and_column() {
        let text = MINIMAL.replace("prefix = \"\"", "prefx = \"\"");
        let e = first_error(&text);
        assert!(e.starts_with("feeds.toml:10:1: error: unknown field `prefx`"), "{e}");
        assert!(e.contains("hint:"), "{e}");
    }

    #[test]
    fn unknown_time_zone_is_refused_with_position() {
        let text = MINIMAL.replace("Asia/Ho_Chi_Minh", "Asia/Saigon_City");
        let e = first_error(&text);
        assert!(e.starts_with("feeds.toml:5:13: error: unknown time zone `Asia/Saigon_City`"), "{e}");
    }

    #[test]
    fn bad_base_url_is_refused() {
        let e = first_error(&MINIMAL.replace("https://news.example.vn", "news.example.vn"));
        assert!(e.starts_with("feeds.toml:3:12: error: `news.example.vn` is not a usable base URL"), "{e}");
        let e = first_error(&MINIMAL.replace("https://news.example.vn", "ftp://news.example.vn"));
        assert!(e.contains("not http or https"), "{e}");
    }

    #[test]
    fn undeclared_default_language_is_refused() {
        let e = first_error(&MINIMAL.replace("default_language = \"vi\"", "default_language = \"fr\""));
        assert!(e.starts_with("feeds.toml:4:20: error: default language `fr` is not declared"), "{e}");
        assert!(e.contains("en, vi"), "{e}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = MINIMAL.replace("Asia/Ho_Chi_Minh", "Nowhere").replace("\"vi\"\ntime", "\"fr\"\ntime");
        let e = parse(&text).unwrap_err();
        assert_eq!(e.diagnostics.len(), 2, "{e}");
    }

    #[test]
    fn syntax_error_has_position() {
        let e = first_error("[site\nbase_url = 1");
        assert!(e.starts_with("feeds.toml:1:"), "{e}");
    }

    #[test]
    fn feed_paths_need_their_placeholders() {
        let text = format!("{MINIMAL}\n[feeds.paths.section]\nrss = \"/{{lang}}/rss.xml\"\n");
        let e = first_error(&text);
        assert!(e.contains("lacks `{section}`"), "{e}");
    }

    #[test]
    fn overrides_replace_store_and_base_url() {
        let overrides = Overrides {
            store: Some(PathBuf::from("/elsewhere")),
            base_url: Some("http://127.0.0.1:8080".into()),
            ..Overrides::default()
        };
        let c = Config::parse(MINIMAL, Path::new("/etc/herald/feeds.toml"), &overrides).unwrap();
        assert_eq!(c.store_dir, PathBuf::from("/elsewhere"));
        assert_eq!(c.state_dir, PathBuf::from("/etc/herald/state"));
        assert_eq!(c.site.base_url.as_str(), "http://127.0.0.1:8080/");
        let bad = Overrides { base_url: Some("nope".into()), ..Overrides::default() };
        let e = Config::parse(MINIMAL, Path::new("feeds.toml"), &bad).unwrap_err().to_string();
        assert!(e.starts_with("--base-url: error:"), "{e}");
    }

    #[test]
    fn bad_cron_expression_names_its_line() {
        let text = format!("{MINIMAL}\n[schedule]\nrebuild = \"every hour\"\n");
        let e = first_error(&text);
        assert!(e.starts_with("feeds.toml:16:11: error: `every hour` has 2 fields; expected 5"), "{e}");
    }

    #[test]
    fn server_defaults_and_bad_listen() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.schedule.rebuild.as_str(), "0 * * * *");
        let e = first_error(&format!("{MINIMAL}\n[server]\nlisten = \"localhost\"\n"));
        assert!(e.contains("`localhost` is not an address and port"), "{e}");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let c = parse(MINIMAL).unwrap();
        assert!(c.server.trusted_proxies.is_empty(), "no one is trusted by default");
        let text = format!(
            "{MINIMAL}\n[server]\ntrusted_proxies = [\"127.0.0.1\", \"::1\", \"10.0.0.0/8\", \"2001:db8::/32\"]\n"
        );
        let c = parse(&text).unwrap();
        let trusted = |ip: &str| c.server.trusted_proxies.iter().any(|n| n.contains(ip.parse().unwrap()));
        for ip in ["127.0.0.1", "::1", "10.1.2.3", "2001:db8:ffff::1", "::ffff:127.0.0.1", "::ffff:10.9.9.9"] {
            assert!(trusted(ip), "{ip}");
        }
        for ip in ["127.0.0.2", "11.0.0.1", "2001:db9::1", "::2"] {
            assert!(!trusted(ip), "{ip}");
        }
        assert_eq!(c.server.trusted_proxies[2].to_string(), "10.0.0.0/8");

        let e = first_error(&format!("{MINIMAL}\n[server]\ntrusted_proxies = [\"127.0.0.1\", \"localhost\"]\n"));
        assert!(
            e.starts_with("feeds.toml:16:33: error: trusted proxy `localhost` is not usable: it is not an IPv4"),
            "{e}"
        );
        assert!(e.contains("hint: list the proxies' addresses"), "{e}");
        let e = first_error(&format!("{MINIMAL}\n[server]\ntrusted_proxies = [\"10.0.0.1/8\"]\n"));
        assert!(e.contains("the network is `10.0.0.0/8`"), "{e}");
        let e = first_error(&format!("{MINIMAL}\n[server]\ntrusted_proxies = [\"10.0.0.0/33\"]\n"));
        assert!(e.contains("`/33` is not a prefix length from 0 to 32"), "{e}");
        assert!(IpNetwork::parse("0.0.0.0/0").unwrap().contains("203.0.113.9".parse().unwrap()));
        assert!(IpNetwork::parse("::/0").unwrap().contains("2001:db8::1".parse().unwrap()));
        assert!(IpNetwork::parse("10.0.0.0/+8").is_err());
        assert!(IpNetwork::parse("::ffff:10.0.0.0/104").unwrap().contains("10.2.3.4".parse().unwrap()));
    }

    #[test]
    fn webhooks_and_indexnow() {
        let text = format!(
            "{MINIMAL}\n[[webhooks]]\nname = \"bot\"\nurl = \"https://bot.example/h\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nlanguages = [\"vi\"]\nupdate_delay_seconds = 60\n\n[indexnow]\nkey = \"abcdef0123456789\"\n"
        );
        let c = parse(&text).unwrap();
        assert_eq!(c.webhooks[0].events.len(), 3);
        assert_eq!(c.webhooks[0].key.len(), 24);
        assert_eq!(c.webhooks[0].update_delay.as_secs(), 60);
        assert_eq!(c.indexnow.as_ref().unwrap().endpoint, "https://api.indexnow.org/indexnow");
        let bad = text.replace("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "plain-secret");
        let e = first_error(&bad);
        assert!(e.contains("must be `whsec_` followed by base64"), "{e}");
        let bad = text.replace("abcdef0123456789", "short");
        assert!(first_error(&bad).contains("IndexNow key must be 8 to 128"));
    }

    #[test]
    fn templates_fill() {
        assert_eq!(
            fill_template("/{lang}/{section}/rss.xml", &[("lang", "vi"), ("section", "the-thao")]),
            "/vi/the-thao/rss.xml"
        );
    }
}
