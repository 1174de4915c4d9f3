//! The one model of an article, and how it is built from the fields a store
//! provides.
//!
//! An [`Article`] holds what the catalog and the feed headers need: cleaned
//! text, instants, the stable id, the permalink, translations. It does **not**
//! hold the body: a store of a million articles must fit in memory, and only
//! the few hundred articles that appear in a feed ever need their body. The
//! body is fetched again from the store by [`crate::store::ArticleStore::body`]
//! and checked against [`Article::body_digest`].

use std::path::PathBuf;

use jiff::Timestamp;
use serde_json::{Map, Value};
use url::Url;

use crate::config::{Config, fill_template};
use crate::diagnostic::Diagnostic;
/// Kept here too for the callers that hash with the article model at hand.
pub use crate::digest::digest;
pub use crate::markdown::BodyFormat;
use crate::text::{clean, clean_line, is_slug, slugify, truncate_words};

/// Longest summary derived from a body, in characters.
pub const DERIVED_SUMMARY_CHARS: usize = 300;

/// A parsed, normalised article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    /// The stable identifier (front matter `id`, else `lang/section/slug`).
    /// It never changes when the title or date is edited.
    pub id: String,
    /// Language code (from front matter `lang`, else the file name, else the
    /// site's default language).
    pub lang: String,
    /// Section slug (front matter `section`, else the first folder).
    pub section: String,
    /// URL slug (front matter `slug`, else the file or bundle name, folded).
    pub slug: String,
    /// Title, NFC, one line.
    pub title: String,
    /// Summary (lede), NFC, one line; derived from the body's first paragraph
    /// when the front matter gives none. May be empty.
    pub summary: String,
    /// Author names, in the order given.
    pub authors: Vec<String>,
    /// Tags, in the order given, duplicates removed.
    pub tags: Vec<String>,
    /// Categories, in the order given, duplicates removed.
    pub categories: Vec<String>,
    /// Publication date (front matter `date`).
    pub date: Timestamp,
    /// The calendar month of `date` in the site's time zone: the partition
    /// of sitemaps and archives.
    pub month: Month,
    /// Last modification (front matter `lastmod`), if any.
    pub lastmod: Option<Timestamp>,
    /// When the article may first be shown (front matter `publishDate`).
    pub publish_date: Option<Timestamp>,
    /// When the article must stop being shown (front matter `expiryDate`).
    pub expiry_date: Option<Timestamp>,
    /// Drafts are never published.
    pub draft: bool,
    /// Whether the article may be listed in sitemaps (`noindex = true` or
    /// `sitemap = false` keep it out of sitemaps, not out of feeds).
    pub in_sitemap: bool,
    /// Absolute permalink.
    pub url: String,
    /// Key shared by all translations of one story.
    pub translation_key: String,
    /// Whether the key was given in the front matter (rather than derived
    /// from the file name), so a missing twin is worth a warning.
    pub translation_key_explicit: bool,
    /// Images, with absolute URLs.
    pub images: Vec<Image>,
    /// Where the article came from and how to fetch its body again.
    pub source: Source,
    /// Digest of the body text, to notice body edits without keeping bodies.
    pub body_digest: u128,
}

/// A calendar month, `2026-11`: how sitemaps are partitioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// Year, e.g. 2026.
    pub year: i16,
    /// Month, 1-12.
    pub month: i8,
}

impl Month {
    /// The month `at` falls in, in time zone `tz`.
    pub fn of(at: Timestamp, tz: &jiff::tz::TimeZone) -> Month {
        let date = at.to_zoned_datetime(tz.clone());
        Month { year: date.year(), month: date.month() }
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// One image of an article.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Image {
    /// Absolute URL.
    pub src: String,
    /// Caption, if any.
    pub caption: Option<String>,
    /// Alternative text, if any.
    pub alt: Option<String>,
}

impl Image {
    /// The image media type `src`'s extension names (`image/jpeg` for
    /// `.jpg` or `.JPG?w=1`), if it names one.
    pub fn media_type(&self) -> Option<&'static str> {
        let path = self.src.split(['?', '#']).next().unwrap_or(&self.src).to_ascii_lowercase();
        let extension = path.rsplit_once('.').map(|(_, e)| e)?;
        Some(match extension {
            "jpg" | "jpeg" => "image/jpeg",
            "png" => "image/png",
            "gif" => "image/gif",
            "webp" => "image/webp",
            "avif" => "image/avif",
            "svg" => "image/svg+xml",
            _ => return None,
        })
    }
}

/// Where an article came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Source {
    /// Path of the document relative to the store root (`/`-separated).
    pub path: PathBuf,
    /// How the body is written.
    pub body_format: BodyFormat,
}

impl Article {
    /// The globally unique IRI for this article: `id_prefix` + id, unless the
    /// id already is an IRI (contains a `:`).
    pub fn iri(&self, config: &Config) -> String {
        if self.id.contains(':') { self.id.clone() } else { format!("{}{}", config.site.id_prefix, self.id) }
    }

    /// When the article becomes visible: the later of `date` and
    /// `publishDate`.
    pub fn visible_from(&self) -> Timestamp {
        match self.publish_date {
            Some(p) if p > self.date => p,
            _ => self.date,
        }
    }

    /// Whether the article is visible at `now`: not a draft, its date and
    /// publish date reached, not expired.
    pub fn is_visible_at(&self, now: Timestamp) -> bool {
        !self.draft && self.visible_from() <= now && self.expiry_date.is_none_or(|e| e > now)
    }

    /// The modification instant feeds and sitemaps show: `lastmod` when it is
    /// later than `date`, else `date`.
    pub fn updated(&self) -> Timestamp {
        match self.lastmod {
            Some(m) if m > self.date => m,
            _ => self.date,
        }
    }
}

/// What a store knows about one document before it becomes an [`Article`]:
/// its path-derived defaults, its front matter and its body.
#[derive(Clone)]
pub struct ArticleInput<'a> {
    /// Path relative to the store root, for messages and [`Source`].
    pub path: PathBuf,
    /// Section from the first folder of the path, if any.
    pub folder_section: Option<String>,
    /// Language from the file name (`slug.en.md`), if any.
    pub file_lang: Option<String>,
    /// Slug candidate from the file or bundle name.
    pub file_slug: String,
    /// Translation key default: section folder + file base name.
    pub default_translation_key: String,
    /// Front matter fields (TOML, YAML and JSON all arrive as JSON values).
    pub fields: &'a Map<String, Value>,
    /// Line of each field in the file, for messages.
    pub field_line: &'a dyn Fn(&str) -> Option<usize>,
    /// The body text.
    pub body: &'a str,
    /// Markdown or HTML.
    pub body_format: BodyFormat,
}

impl ArticleInput<'_> {
    fn error(&self, field: &str, message: impl Into<String>, hint: impl Into<String>) -> Diagnostic {
        let d = Diagnostic::error(&self.path, message).with_hint(hint);
        match (self.field_line)(field) {
            Some(line) => d.at_line(line),
            None => d,
        }
    }

    fn string(&self, key: &str) -> Result<Option<String>, Diagnostic> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(self.error(
                key,
                format!("`{key}` must be text, found {}", describe(other)),
                format!("write e.g. {key} = \"…\""),
            )),
        }
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, Diagnostic> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            Some(other) => Err(self.error(
                key,
                format!("`{key}` must be true or false, found {}", describe(other)),
                format!("write `{key} = true` or `{key} = false`"),
            )),
        }
    }

    fn list(&self, key: &str) -> Result<Vec<String>, Diagnostic> {
        let values = match self.fields.get(key) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::String(s)) => return Ok(vec![s.clone()]),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(self.error(
                    key,
                    format!("`{key}` must be a list of text, found {}", describe(other)),
                    format!("write e.g. {key} = [\"a\", \"b\"]"),
                ));
            }
        };
        values
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(self.error(
                    key,
                    format!("`{key}` must be a list of text, but one entry is {}", describe(other)),
                    format!("write e.g. {key} = [\"a\", \"b\"]"),
                )),
            })
            .collect()
    }

    fn date(&self, key: &str, config: &Config) -> Result<Option<Timestamp>, Diagnostic> {
        let Some(text) = self.string(key)? else { return Ok(None) };
        parse_date(&text, config).map(Some).map_err(|why| match why {
            DateError::Unreadable(why) => self.error(
                key,
                format!("`{key}` is not a date: `{text}` ({why})"),
                "use RFC 3339, e.g. 2024-01-15T08:30:00+07:00, or a local time such as 2024-01-15T08:30:00 (read in the site's time zone)",
            ),
            DateError::OutOfRange(year) => self.error(
                key,
                format!("`{key}` is out of range: `{}` is in the year {year}", text.trim()),
                format!(
                    "herald reads dates from the years {} to {} (others are taken for typos): check the year",
                    DATE_YEARS.start(),
                    DATE_YEARS.end()
                ),
            ),
        })
    }
}

/// Builds an article from a store document, validating and normalising
/// every field. Errors name the file and, where known, the line.
pub fn build_article(input: &ArticleInput<'_>, config: &Config) -> Result<Article, Diagnostic> {
    let title = match input.string("title")? {
        Some(t) if !clean_line(&t).is_empty() => clean_line(&t),
        _ => {
            return Err(Diagnostic::error(&input.path, "the article has no title")
                .at_line(1)
                .with_hint("add `title = \"…\"` to the front matter"));
        }
    };
    let date = input.date("date", config)?.ok_or_else(|| {
        Diagnostic::error(&input.path, "the article has no date")
            .at_line(1)
            .with_hint("add e.g. `date = 2024-01-15T08:30:00+07:00` to the front matter")
    })?;

    let lang = match input.string("lang")? {
        Some(l) => clean_line(&l),
        None => input.file_lang.clone().unwrap_or_else(|| config.site.default_language.clone()),
    };
    if config.language(&lang).is_none() {
        let codes: Vec<&str> = config.languages.iter().map(|l| l.code.as_str()).collect();
        return Err(input.error(
            "lang",
            format!("language `{lang}` is not declared in {}", config.source.display()),
            format!("declare [languages.{lang}] or use one of: {}", codes.join(", ")),
        ));
    }

    let section = match input.string("section")? {
        Some(s) if !slugify(&clean_line(&s)).is_empty() => slugify(&clean_line(&s)),
        Some(s) => {
            return Err(input.error(
                "section",
                format!("section `{s}` has no letters or digits to make a slug from"),
                "name the section with letters or digits, e.g. `thoi-su`",
            ));
        }
        None => match &input.folder_section {
            Some(folder) if !slugify(folder).is_empty() => slugify(folder),
            Some(folder) => {
                return Err(input.error(
                    "section",
                    format!("the folder `{folder}` has no letters or digits to make a section slug from"),
                    "rename the folder, or add `section = \"…\"`",
                ));
            }
            None => {
                return Err(input.error(
                    "section",
                    "the article is not in a section folder and names no section",
                    "move it into a folder such as `thoi-su/`, or add `section = \"…\"`",
                ));
            }
        },
    };
    let slug = match input.string("slug")? {
        Some(s) => slugify(&clean_line(&s)),
        None if !input.file_slug.is_empty() => slugify(&input.file_slug),
        None => slugify(&title),
    };
    if slug.is_empty() || !is_slug(&slug) {
        return Err(input.error(
            "slug",
            "the article's slug is empty after folding",
            "add `slug = \"…\"` with letters or digits",
        ));
    }

    let id = match input.string("id")? {
        Some(id) if !clean_line(&id).is_empty() => clean_line(&id),
        _ => format!("{lang}/{section}/{slug}"),
    };

    let zoned = date.to_zoned_datetime(config.site.time_zone.clone());
    let publication_month = Month { year: zoned.year(), month: zoned.month() };
    let year = zoned.year().to_string();
    let month = format!("{:02}", zoned.month());
    let day = format!("{:02}", zoned.day());
    let prefix = config.language(&lang).map(|l| l.prefix.as_str()).unwrap_or_default();
    let url = match input.string("url")? {
        Some(u) => absolute_url(&config.site.base_url, &config.site.base_url, u.trim()).ok_or_else(|| {
            input.error(
                "url",
                format!("`url` is not a usable URL: `{u}`"),
                "give a path such as `/vi/bai-viet/` or an absolute http(s) URL",
            )
        })?,
        None => {
            let path = fill_template(
                &config.site.permalink,
                &[
                    ("prefix", prefix),
                    ("lang", &lang),
                    ("section", &section),
                    ("slug", &slug),
                    ("year", &year),
                    ("month", &month),
                    ("day", &day),
                ],
            );
            config.url_for(&path.replace("//", "/"))
        }
    };
    let permalink = Url::parse(&url).unwrap_or_else(|_| config.site.base_url.clone());

    let summary_field = match input.string("summary")? {
        Some(s) => Some(s),
        None => input.string("description")?,
    };
    let summary = match summary_field {
        Some(s) => clean_line(&s),
        None => truncate_words(
            &clean_line(&crate::markdown::first_paragraph_text(input.body, input.body_format)),
            DERIVED_SUMMARY_CHARS,
        ),
    };

    let mut authors = input.list("authors")?;
    if authors.is_empty() {
        authors = input.string("author")?.into_iter().collect();
    }

    let mut images = images(input, &config.site.base_url, &permalink)?;
    if images.is_empty() {
        // No image in the front matter: the body's first, if any.
        images.extend(body_image(input, &config.site.base_url, &permalink));
    }
    let explicit_key = input.string("translationKey")?.map(|k| clean_line(&k)).filter(|k| !k.is_empty());
    let noindex = input.bool("noindex")?.unwrap_or(false);
    let sitemap = input.bool("sitemap")?.unwrap_or(true);

    Ok(Article {
        id,
        lang,
        section,
        slug,
        title,
        summary,
        authors: clean_list(authors),
        tags: clean_list(input.list("tags")?),
        categories: clean_list(input.list("categories")?),
        date,
        month: publication_month,
        lastmod: input.date("lastmod", config)?,
        publish_date: input.date("publishDate", config)?,
        expiry_date: input.date("expiryDate", config)?,
        draft: input.bool("draft")?.unwrap_or(false),
        in_sitemap: sitemap && !noindex,
        url,
        translation_key: explicit_key.clone().unwrap_or_else(|| input.default_translation_key.clone()),
        translation_key_explicit: explicit_key.is_some(),
        images,
        source: Source { path: input.path.clone(), body_format: input.body_format },
        body_digest: digest(input.body.as_bytes()),
    })
}

fn images(input: &ArticleInput<'_>, base: &Url, permalink: &Url) -> Result<Vec<Image>, Diagnostic> {
    let entries = match input.fields.get("images") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(entries)) => entries.clone(),
        Some(single @ (Value::String(_) | Value::Object(_))) => vec![single.clone()],
        Some(other) => {
            return Err(input.error(
                "images",
                format!("`images` must be a list, found {}", describe(other)),
                "write images = [\"photo.jpg\"] or [[images]] tables with src, caption and alt",
            ));
        }
    };
    let mut out = Vec::new();
    for entry in entries {
        let (src, caption, alt) = match &entry {
            Value::String(src) => (src.clone(), None, None),
            Value::Object(table) => {
                let text = |k: &str| table.get(k).and_then(Value::as_str).map(clean_line).filter(|s| !s.is_empty());
                let Some(src) = table.get("src").and_then(Value::as_str) else {
                    return Err(input.error(
                        "images",
                        "an image has no `src`",
                        "give each image a `src`, e.g. { src = \"photo.jpg\", caption = \"…\" }",
                    ));
                };
                (src.to_string(), text("caption"), text("alt"))
            }
            other => {
                return Err(input.error(
                    "images",
                    format!("an image must be text or a table, found {}", describe(other)),
                    "write images = [\"photo.jpg\"] or tables with src, caption and alt",
                ));
            }
        };
        let src = absolute_url(base, permalink, src.trim()).ok_or_else(|| {
            input.error(
                "images",
                format!("image `{src}` is not a usable URL"),
                "give a path or an absolute http(s) URL",
            )
        })?;
        out.push(Image { src, caption, alt });
    }
    Ok(out)
}

/// The first image of the body ([`crate::markdown::first_image`]) as the
/// article's image, its address made absolute; none when it has no usable
/// address.
fn body_image(input: &ArticleInput<'_>, base: &Url, permalink: &Url) -> Option<Image> {
    let found = crate::markdown::first_image(input.body, input.body_format)?;
    let src = absolute_url(base, permalink, &found.src)?;
    Some(Image { src, caption: found.caption, alt: found.alt })
}

/// Makes `link` absolute: URLs with a scheme stay as they are, `/path` is
/// taken from the site's base URL (so a base with a path prefix is kept), and
/// anything else is relative to the article's own permalink (page bundles).
/// Returns `None` for links that cannot be resolved or use another scheme
/// than http, https or mailto.
pub fn absolute_url(base: &Url, permalink: &Url, link: &str) -> Option<String> {
    let link = clean(link);
    let link = link.trim();
    if link.is_empty() {
        return None;
    }
    let resolved = if let Some(rest) = link.strip_prefix('/').filter(|r| !r.starts_with('/')) {
        base.join(rest)
    } else {
        permalink.join(link)
    }
    .ok()?;
    matches!(resolved.scheme(), "http" | "https" | "mailto").then(|| resolved.to_string())
}

fn clean_list(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let item = clean_line(&item);
        if !item.is_empty() && !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

/// The years a front-matter date may be in: outside, it is taken for a
/// typo (and arithmetic near year 9999 would overflow).
pub const DATE_YEARS: std::ops::RangeInclusive<i64> = 1900..=9000;

/// Why a front-matter date was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    /// Not a date herald can read (the parser's reason).
    Unreadable(String),
    /// A date in a year outside [`DATE_YEARS`] (the year as written).
    OutOfRange(i64),
}

/// Parses a front-matter date: RFC 3339 with an offset (`Z` or `+07:00`), or
/// a local date-time or date without offset, taken in the site's time zone.
/// Its year as written must be within [`DATE_YEARS`]; that is checked
/// first, so a well-formed date past what a timestamp holds (the last
/// second of 9999, a six-digit or signed year) is out of range, not
/// unreadable.
pub fn parse_date(text: &str, config: &Config) -> Result<Timestamp, DateError> {
    let text = text.trim();
    // The year as written: from the parsed pieces (any ISO 8601 form), or
    // read off the start when the year is beyond what they hold.
    let pieces = jiff::fmt::temporal::Pieces::parse(text).ok().map(|p| i64::from(p.date().year()));
    if let Some(year) = pieces.or_else(|| written_year(text))
        && !DATE_YEARS.contains(&year)
    {
        return Err(DateError::OutOfRange(year));
    }
    parse_any_date(text, config).map_err(DateError::Unreadable)
}

/// The year a date starts with (`2026-…`, `-0001-…`, `+099999-…`), if it
/// starts with one: digits, optionally signed, then `-`.
fn written_year(text: &str) -> Option<i64> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || rest.as_bytes().get(digits) != Some(&b'-') {
        return None;
    }
    let year = rest[..digits].parse::<i64>().unwrap_or(i64::MAX);
    Some(if negative { -year } else { year })
}

fn parse_any_date(text: &str, config: &Config) -> Result<Timestamp, String> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    let local = text
        .parse::<jiff::civil::DateTime>()
        .or_else(|_| text.parse::<jiff::civil::Date>().map(|d| d.to_datetime(jiff::civil::Time::midnight())));
    match local {
        Ok(dt) => dt.to_zoned_datetime(config.site.time_zone.clone()).map(|z| z.timestamp()).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_media_type_comes_from_its_extension() {
        let image = |src: &str| Image { src: src.into(), caption: None, alt: None };
        assert_eq!(image("https://x/a.JPG?w=1").media_type(), Some("image/jpeg"));
        assert_eq!(image("https://x/a.webp#top").media_type(), Some("image/webp"));
        assert_eq!(image("https://x/a.svg").media_type(), Some("image/svg+xml"));
        assert_eq!(image("https://x/a").media_type(), None);
        assert_eq!(image("https://x/a.bmp").media_type(), None);
    }

    #[test]
    fn absolute_urls_resolve_against_base_and_permalink() {
        let base = Url::parse("https://news.example.vn/tin/").unwrap();
        let permalink = Url::parse("https://news.example.vn/tin/vi/thoi-su/bai/").unwrap();
        assert_eq!(
            absolute_url(&base, &permalink, "/images/a.jpg").unwrap(),
            "https://news.example.vn/tin/images/a.jpg"
        );
        assert_eq!(
            absolute_url(&base, &permalink, "a.jpg").unwrap(),
            "https://news.example.vn/tin/vi/thoi-su/bai/a.jpg"
        );
        assert_eq!(
            absolute_url(&base, &permalink, "https://cdn.example.com/x.png").unwrap(),
            "https://cdn.example.com/x.png"
        );
        assert_eq!(
            absolute_url(&base, &permalink, "//cdn.example.com/x.png").unwrap(),
            "https://cdn.example.com/x.png"
        );
        assert_eq!(absolute_url(&base, &permalink, "javascript:alert(1)"), None);
        assert_eq!(
            absolute_url(&base, &permalink, "ảnh đẹp.jpg").unwrap(),
            "https://news.example.vn/tin/vi/thoi-su/bai/%E1%BA%A3nh%20%C4%91%E1%BA%B9p.jpg"
        );
    }

    #[test]
    fn the_year_is_read_as_written() {
        assert_eq!(written_year("2026-11-20"), Some(2026));
        assert_eq!(written_year("-000001-01-01T00:00:00Z"), Some(-1));
        assert_eq!(written_year("+099999-01-01"), Some(99999));
        assert_eq!(written_year("99999999999999999999999-01-01"), Some(i64::MAX));
        assert_eq!(written_year("20261120T0800Z"), None);
        assert_eq!(written_year("hôm qua"), None);
        assert_eq!(written_year(""), None);
    }
}
