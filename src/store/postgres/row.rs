//! One row of the `articles` table, and how it becomes an [`Article`].
//!
//! A row's columns are handed to [`build_article`] as the front-matter
//! fields of a file would be, so a row goes through exactly the validation
//! a file does. A bad row becomes a [`Diagnostic`] whose place is the row
//! (`articles:KEY`) and whose message names the column.
//!
//! Where a file's path gives defaults (language, section, slug, translation
//! key), a row has none: `language` defaults to the site's default
//! language, `slug` to the folded title, `translation_key` to
//! `section/slug`, and `section` must be given.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::article::{Article, ArticleInput, BodyFormat, build_article};
use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::text::clean_line;

/// What a row's place starts with: `articles:KEY` stands where a file's
/// store-relative path would (in messages, and as [`crate::article::Source`]).
pub const PATH_PREFIX: &str = "articles:";

/// The place of the row with `key`: `articles:KEY`.
pub fn row_path(key: &str) -> PathBuf {
    PathBuf::from(format!("{PATH_PREFIX}{key}"))
}

/// The key of the row at `path`, if `path` names a row.
pub fn row_key(path: &Path) -> Option<&str> {
    path.to_str()?.strip_prefix(PATH_PREFIX)
}

/// One row of `articles` as read, columns as the driver gives them.
/// Instants are RFC 3339 text (as a file's front matter has them), so that
/// they are checked by the same code.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ArticleRow {
    /// `key`: the row's name (for imported files, their store-relative path).
    pub key: String,
    /// `id`: the stable id, or `None` for `language/section/slug`.
    pub id: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `date`: publication instant.
    pub date: Option<String>,
    /// `lastmod`.
    pub lastmod: Option<String>,
    /// `publish_date`: not shown before.
    pub publish_date: Option<String>,
    /// `expiry_date`: not shown from.
    pub expiry_date: Option<String>,
    /// `draft`.
    pub draft: bool,
    /// `summary`, or `None` for the body's first paragraph.
    pub summary: Option<String>,
    /// `authors` (an entry may be NULL: that is reported).
    pub authors: Vec<Option<String>>,
    /// `tags`.
    pub tags: Vec<Option<String>>,
    /// `categories`.
    pub categories: Vec<Option<String>>,
    /// `section` (required).
    pub section: Option<String>,
    /// `language`, or `None` for the site's default language.
    pub language: Option<String>,
    /// `slug`, or `None` for the folded title.
    pub slug: Option<String>,
    /// `url`, or `None` for the permalink template.
    pub url: Option<String>,
    /// `translation_key`, or `None` for `section/slug`.
    pub translation_key: Option<String>,
    /// `images` (JSON, as in front matter).
    pub images: Value,
    /// `sitemap`: whether the article may be listed in sitemaps.
    pub sitemap: bool,
    /// `body`.
    pub body: String,
    /// `body_format`: `markdown` or `html`.
    pub body_format: String,
}

impl ArticleRow {
    /// The body format the row names, if it is one herald knows.
    pub fn format(&self) -> Option<BodyFormat> {
        match self.body_format.as_str() {
            "markdown" => Some(BodyFormat::Markdown),
            "html" => Some(BodyFormat::Html),
            _ => None,
        }
    }

    /// Builds the row's article with the rules a file is read by, or the
    /// problem that keeps it out (naming the row and the column).
    pub fn to_article(&self, config: &Config) -> Result<Article, Diagnostic> {
        let path = row_path(&self.key);
        if let Some(why) = key_problem(&self.key) {
            return Err(row_problem(&path, "key", why, "use keys such as `thoi-su/le-hoi.vi.md` or `cms/1234`"));
        }
        let Some(format) = self.format() else {
            return Err(row_problem(
                &path,
                "body_format",
                format!("`{}` is not a body format", self.body_format),
                "write `markdown` or `html`",
            ));
        };
        if self.section.as_deref().is_none_or(|s| s.trim().is_empty()) {
            return Err(row_problem(
                &path,
                "section",
                "the article names no section",
                "set `section` to the section's slug, e.g. `thoi-su`",
            ));
        }
        let fields = self.fields();
        // The field the validation complained about: `build_article` asks
        // for a field's line exactly when it reports a problem with it.
        let asked: RefCell<Option<String>> = RefCell::new(None);
        let field_line = |key: &str| {
            *asked.borrow_mut() = Some(key.to_string());
            None
        };
        let input = ArticleInput {
            path: path.clone(),
            folder_section: None,
            file_lang: None,
            file_slug: String::new(),
            default_translation_key: String::new(),
            fields: &fields,
            field_line: &field_line,
            body: &self.body,
            body_format: format,
        };
        match build_article(&input, config) {
            Ok(mut article) => {
                if !article.translation_key_explicit {
                    article.translation_key = format!("{}/{}", article.section, article.slug);
                }
                Ok(article)
            }
            Err(problem) => {
                let field = asked.into_inner().unwrap_or_else(|| {
                    // Only the title and the date are reported without
                    // asking for their line (when they are missing).
                    let titled = self.title.as_deref().is_some_and(|t| !clean_line(t).is_empty());
                    if titled { "date" } else { "title" }.to_string()
                });
                Err(from_field_problem(&path, &field, problem))
            }
        }
    }

    /// The row's columns as front-matter fields.
    fn fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        let mut text = |name: &str, value: &Option<String>| {
            if let Some(v) = value {
                fields.insert(name.to_string(), Value::String(v.clone()));
            }
        };
        text("id", &self.id);
        text("title", &self.title);
        text("date", &self.date);
        text("lastmod", &self.lastmod);
        text("publishDate", &self.publish_date);
        text("expiryDate", &self.expiry_date);
        text("summary", &self.summary);
        text("section", &self.section);
        text("lang", &self.language);
        text("slug", &self.slug);
        text("url", &self.url);
        text("translationKey", &self.translation_key);
        let list = |items: &[Option<String>]| {
            Value::Array(items.iter().map(|i| i.clone().map_or(Value::Null, Value::String)).collect())
        };
        fields.insert("authors".into(), list(&self.authors));
        fields.insert("tags".into(), list(&self.tags));
        fields.insert("categories".into(), list(&self.categories));
        fields.insert("draft".into(), Value::Bool(self.draft));
        fields.insert("sitemap".into(), Value::Bool(self.sitemap));
        fields.insert("images".into(), self.images.clone());
        fields
    }
}

/// Why `key` cannot name a row, if it cannot: it must be a path that reads
/// back as written (no empty or `.` segment, no `/` at either end), since
/// rows are told apart by it as files are by their paths.
fn key_problem(key: &str) -> Option<String> {
    if key.is_empty() {
        return Some("the key is empty".into());
    }
    if key.starts_with('/') || key.ends_with('/') || key.split('/').any(|s| s.is_empty() || s == ".") {
        return Some(format!("`{key}` has an empty or `.` segment, or a `/` at one end"));
    }
    None
}

/// The column a front-matter field is stored in.
fn column_of(field: &str) -> &str {
    match field {
        "lang" => "language",
        "publishDate" => "publish_date",
        "expiryDate" => "expiry_date",
        "translationKey" => "translation_key",
        "description" => "summary",
        "author" => "authors",
        "noindex" => "sitemap",
        other => other,
    }
}

/// A problem with the row at `path`, in `column`.
fn row_problem(path: &Path, column: &str, message: impl Into<String>, hint: impl Into<String>) -> Diagnostic {
    Diagnostic::error(path, format!("column `{column}`: {}", message.into())).with_hint(hint)
}

/// The problem `build_article` found with `field`, told of the row's
/// column: without the file's line, in column names, with a hint for
/// whoever writes the row where the file's hint would not fit.
fn from_field_problem(path: &Path, field: &str, problem: Diagnostic) -> Diagnostic {
    let column = column_of(field);
    let rename = |text: &str| {
        ["lang", "publishDate", "expiryDate", "translationKey"]
            .iter()
            .fold(text.to_string(), |text, f| text.replace(&format!("`{f}`"), &format!("`{}`", column_of(f))))
    };
    let hint = match column {
        "title" => Some("set `title` to the headline".to_string()),
        "date" if problem.message.contains("no date") => {
            Some("set `date` to the publication instant, e.g. '2024-01-15 08:30:00+07'".to_string())
        }
        "slug" => Some("set `slug` to letters or digits, or to NULL to make one from the title".to_string()),
        "images" => Some(
            "write `images` as a JSON array of URLs, or of objects with src, caption and alt: '[{\"src\": \"/a.jpg\", \"alt\": \"…\"}]'"
                .to_string(),
        ),
        "authors" | "tags" | "categories" => Some(format!("remove the NULL entries of `{column}`")),
        _ => problem.hint.as_deref().map(rename),
    };
    let d = Diagnostic::error(path, format!("column `{column}`: {}", rename(&problem.message)));
    match hint {
        Some(hint) => d.with_hint(hint),
        None => d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let text = r#"
[site]
base_url = "https://example.vn/"
default_language = "vi"
time_zone = "Asia/Ho_Chi_Minh"
title = "Báo"
[languages.vi]
name = "Tiếng Việt"
prefix = ""
[languages.en]
name = "English"
"#;
        Config::parse(text, Path::new("feeds.toml"), &crate::config::Overrides::default()).unwrap()
    }

    fn good() -> ArticleRow {
        ArticleRow {
            key: "cms/1".into(),
            title: Some("Lễ hội  mùa thu".into()),
            date: Some("2026-11-20T01:00:00Z".into()),
            section: Some("thoi-su".into()),
            body: "Đoạn đầu.\n\nĐoạn hai.".into(),
            body_format: "markdown".into(),
            sitemap: true,
            images: Value::Array(vec![]),
            ..ArticleRow::default()
        }
    }

    #[test]
    fn a_row_reads_like_a_file() {
        let article = good().to_article(&config()).unwrap();
        assert_eq!(article.title, "Lễ hội mùa thu");
        assert_eq!(article.lang, "vi");
        assert_eq!(article.slug, "le-hoi-mua-thu");
        assert_eq!(article.id, "vi/thoi-su/le-hoi-mua-thu");
        assert_eq!(article.summary, "Đoạn đầu.");
        assert_eq!(article.translation_key, "thoi-su/le-hoi-mua-thu");
        assert!(!article.translation_key_explicit);
        assert_eq!(article.source.path, Path::new("articles:cms/1"));
        assert_eq!(row_key(&article.source.path), Some("cms/1"));
    }

    #[test]
    fn bad_rows_name_the_column() {
        let config = config();
        let cases: Vec<(ArticleRow, &str)> = vec![
            (ArticleRow { title: Some("  ".into()), ..good() }, "column `title`"),
            (ArticleRow { date: None, ..good() }, "column `date`"),
            (ArticleRow { date: Some("1850-01-01T00:00:00Z".into()), ..good() }, "column `date`"),
            (ArticleRow { language: Some("xx".into()), ..good() }, "column `language`"),
            (ArticleRow { publish_date: Some("infinity".into()), ..good() }, "column `publish_date`"),
            (ArticleRow { section: None, ..good() }, "column `section`"),
            (ArticleRow { url: Some("javascript:x".into()), ..good() }, "column `url`"),
            (ArticleRow { images: serde_json::json!([{"alt": "x"}]), ..good() }, "column `images`"),
            (ArticleRow { tags: vec![Some("a".into()), None], ..good() }, "column `tags`"),
            (ArticleRow { body_format: "rtf".into(), ..good() }, "column `body_format`"),
            (ArticleRow { key: "a//b".into(), ..good() }, "column `key`"),
        ];
        for (row, expected) in cases {
            let problem = row.to_article(&config).unwrap_err();
            let shown = problem.to_string();
            assert!(shown.contains(expected), "{expected}: {shown}");
            assert!(shown.starts_with(&format!("articles:{}: error:", row.key)), "{shown}");
            assert!(!shown.contains("front matter") && !shown.contains("publishDate"), "{shown}");
            assert_eq!(problem.line, None);
        }
    }
}
