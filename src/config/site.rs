//! `[site]`, `[languages.CODE]` and `[sections.SLUG]`: who publishes, at
//! which address, in which languages and time zone, and what the sections
//! are called.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use jiff::tz::TimeZone;
use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::template::unknown_placeholder;
use super::validate::{Localized, Validator};

/// The time zone when `time_zone` is not given (its IANA name).
const DEFAULT_TIME_ZONE: &str = "UTC";
/// `permalink` when not given.
const DEFAULT_PERMALINK: &str = "{prefix}/{section}/{slug}/";
/// The placeholders a permalink template may hold.
const PERMALINK_PLACEHOLDERS: &[&str] = &["prefix", "lang", "section", "slug", "year", "month", "day"];
/// The hint for an unusable base URL.
const BASE_URL_HINT: &str = "give an absolute http(s) URL such as https://news.example.vn/";

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
    /// Prefix that turns an article's stable id into a globally unique IRI
    /// (Atom `id`, RSS `guid`, JSON Feed `id`). Never change it once published.
    pub id_prefix: String,
    /// `logo` as written, resolved again when the base URL is replaced.
    logo_as_written: Option<String>,
    /// Whether `id_prefix` was written; if not, it follows the base URL.
    id_prefix_written: bool,
}

impl Site {
    /// Absolute URL of a site path (`/vi/rss.xml`).
    pub fn url_for(&self, path: &str) -> String {
        let mut url = self.base_url.as_str().to_string();
        url.push_str(path.trim_start_matches('/'));
        url
    }

    /// Moves the site to `base_url` (given as `--base-url`): a logo given
    /// as a path, and the id prefix when the file does not set one, follow.
    pub(super) fn rebase(&mut self, base_url: &BaseUrl) {
        let base_url = base_url.as_url();
        if let Some(logo) = self.logo_as_written.as_deref().and_then(|logo| resolve_logo(logo, base_url)) {
            self.logo = Some(logo);
        }
        if !self.id_prefix_written {
            self.id_prefix = default_id_prefix(base_url);
        }
        self.base_url = base_url.clone();
    }
}

/// A site's base URL: absolute, http(s), with a host, without query or
/// fragment, ending in `/`. What `--base-url` gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(Url);

impl BaseUrl {
    /// Reads a base URL (a missing final `/` is added); the error says what
    /// is wrong with it.
    pub fn parse(text: &str) -> Result<BaseUrl, String> {
        parse_base_url(text).map(BaseUrl)
    }

    /// The URL.
    pub fn as_url(&self) -> &Url {
        &self.0
    }
}

impl FromStr for BaseUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<BaseUrl, String> {
        BaseUrl::parse(text)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
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

/// `[site]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSite {
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
    /// Accepted and ignored: feeds and sitemaps named XSL stylesheets until
    /// browsers dropped XSLT; HTML views replace them.
    #[allow(dead_code)]
    stylesheets: Option<bool>,
}

/// One `[languages.CODE]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLanguage {
    name: Option<String>,
    prefix: Option<Spanned<String>>,
}

/// One `[sections.SLUG]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSection {
    title: Spanned<Localized>,
}

/// The declared languages, sorted by code; malformed codes and prefixes are
/// problems.
pub(super) fn languages(v: &mut Validator<'_>, raw: &BTreeMap<Spanned<String>, RawLanguage>) -> Vec<Language> {
    let mut out = Vec::new();
    for (code, lang) in raw {
        if !is_language_code(code.get_ref()) {
            v.problem(
                code,
                format!("`{}` is not a language code", code.get_ref()),
                "use a BCP 47 code such as `vi`, `en` or `zh-Hant`",
            );
            continue;
        }
        let prefix = match &lang.prefix {
            None => default_language_prefix(code.get_ref()),
            Some(p) => {
                let value = p.get_ref().trim_end_matches('/');
                if !(value.is_empty() || value.starts_with('/')) || value.contains(char::is_whitespace) {
                    v.problem(
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

/// The declared sections by slug; a key that is not a slug is a problem.
pub(super) fn sections(
    v: &mut Validator<'_>,
    raw: BTreeMap<Spanned<String>, RawSection>,
    codes: &[String],
) -> BTreeMap<String, Section> {
    let mut out = BTreeMap::new();
    for (slug, section) in raw {
        if !crate::text::is_slug(slug.get_ref()) {
            v.problem(
                &slug,
                format!("section `{}` is not a slug", slug.get_ref()),
                format!("name sections by their folder's slug, e.g. `{}`", crate::text::slugify(slug.get_ref())),
            );
            continue;
        }
        let title = v.localized(&section.title, codes, "section title");
        out.insert(slug.into_inner(), Section { title });
    }
    out
}

/// Checks `[site]` against the declared language `codes`; `None` when a
/// value everything else depends on (base URL, time zone) is unusable.
pub(super) fn validate(v: &mut Validator<'_>, raw: RawSite, codes: &[String]) -> Option<Site> {
    let base_url = match parse_base_url(raw.base_url.get_ref()) {
        Ok(url) => Some(url),
        Err(why) => {
            v.problem(
                &raw.base_url,
                format!("`{}` is not a usable base URL: {why}", raw.base_url.get_ref()),
                BASE_URL_HINT,
            );
            None
        }
    };

    if codes.is_empty() {
        v.problem_in_file(
            "no languages are declared",
            "add a table per language, e.g. `[languages.vi]` with `name = \"Tiếng Việt\"`",
        );
    }
    let default_language = raw.default_language.get_ref().clone();
    if !codes.is_empty() && !codes.contains(&default_language) {
        v.problem(
            &raw.default_language,
            format!("default language `{default_language}` is not declared under [languages]"),
            format!("declare `[languages.{default_language}]` or use one of: {}", codes.join(", ")),
        );
    }

    let (time_zone_name, time_zone) = match &raw.time_zone {
        None => (DEFAULT_TIME_ZONE.to_string(), Some(TimeZone::UTC)),
        Some(name) => match TimeZone::get(name.get_ref()) {
            Ok(tz) => (name.get_ref().clone(), Some(tz)),
            Err(_) => {
                v.problem(
                    name,
                    format!("unknown time zone `{}`", name.get_ref()),
                    "use an IANA time zone name such as `Asia/Ho_Chi_Minh` or `Europe/London`",
                );
                (name.get_ref().clone(), None)
            }
        },
    };

    let title = v.localized(&raw.title, codes, "site title");
    let description = match &raw.description {
        Some(d) => v.localized(d, codes, "site description"),
        None => BTreeMap::new(),
    };

    let logo = raw.logo.as_ref().zip(base_url.as_ref()).and_then(|(logo, base_url)| {
        let resolved = resolve_logo(logo.get_ref(), base_url);
        if resolved.is_none() {
            v.problem(
                logo,
                format!("`{}` is not a usable logo URL", logo.get_ref()),
                "give a path such as `/images/logo.png` or an absolute URL",
            );
        }
        resolved
    });

    let permalink = match &raw.permalink {
        None => DEFAULT_PERMALINK.to_string(),
        Some(p) => {
            let value = p.get_ref();
            if !value.contains("{slug}") {
                v.problem(
                    p,
                    format!("permalink template `{value}` has no `{{slug}}`"),
                    "every article needs its own URL: include `{slug}`, e.g. `{prefix}/{section}/{slug}/`",
                );
            }
            if let Some(bad) = unknown_placeholder(value, PERMALINK_PLACEHOLDERS) {
                v.problem(
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
                v.problem(
                    p,
                    format!("id prefix `{}` does not start an IRI", p.get_ref()),
                    "use a tag URI such as `tag:news.example.vn,2026:`",
                );
            }
            p.get_ref().clone()
        }
        (None, Some(url)) => default_id_prefix(url),
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
        logo_as_written: raw.logo.map(Spanned::into_inner),
        permalink,
        id_prefix,
        id_prefix_written: raw.id_prefix.is_some(),
    })
}

/// A language's `prefix` when not given: `/` and its code (`/en`).
fn default_language_prefix(code: &str) -> String {
    format!("/{code}")
}

/// The logo's absolute URL: a path is taken below `base_url`; an absolute
/// URL must be http(s).
fn resolve_logo(logo: &str, base_url: &Url) -> Option<Url> {
    let url = base_url.join(logo.trim_start_matches('/')).ok()?;
    (logo.starts_with("http") || !logo.contains(':')).then_some(url)
}

/// `id_prefix` when not given: a tag URI naming the base URL's host.
fn default_id_prefix(base_url: &Url) -> String {
    format!("tag:{},2000:", base_url.host_str().unwrap_or("localhost"))
}

/// Reads a base URL: absolute, http(s), with a host, no query or fragment;
/// a missing final `/` is added.
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

#[cfg(test)]
mod tests {
    use crate::config::testing::{MINIMAL, first_error};

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
}
