//! Splitting a document into front matter and body, and reading the front
//! matter (TOML between `+++` lines, YAML between `---` lines, or a whole
//! JSON object) into one representation: a JSON object.
//!
//! Using JSON values for all three formats lets [`crate::article`] read
//! fields one way, with its own clear messages, and keeps unknown fields
//! harmless. TOML dates become RFC 3339 strings.

use serde_json::{Map, Value};

/// The syntax of a document's front matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontMatterFormat {
    /// `+++` fences.
    Toml,
    /// `---` fences.
    Yaml,
    /// A `.json` article file.
    Json,
}

/// A document split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split<'a> {
    /// The front matter syntax.
    pub format: FrontMatterFormat,
    /// The text between the fences.
    pub front_matter: &'a str,
    /// 1-based line of the first front-matter line in the file.
    pub first_line: usize,
    /// Everything after the closing fence.
    pub body: &'a str,
    /// 1-based line where the body starts.
    pub body_line: usize,
}

/// Why a document could not be read, with the 1-based line where it went
/// wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Line in the file.
    pub line: usize,
    /// Column in the file, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: &'static str,
}

/// Splits a Markdown document at its front-matter fences.
pub fn split(document: &str) -> Result<Split<'_>, SyntaxError> {
    let document = document.strip_prefix('\u{feff}').unwrap_or(document);
    let (format, fence) = if starts_with_fence(document, "+++") {
        (FrontMatterFormat::Toml, "+++")
    } else if starts_with_fence(document, "---") {
        (FrontMatterFormat::Yaml, "---")
    } else {
        return Err(SyntaxError {
            line: 1,
            column: None,
            message: "the file does not start with front matter".into(),
            hint: "start the file with a `+++` (TOML) or `---` (YAML) line, then title and date, then the same line again",
        });
    };
    let after_open = document.find('\n').map_or(document.len(), |i| i + 1);
    let mut offset = after_open;
    for (line, raw_line) in (2..).zip(document[after_open..].split_inclusive('\n')) {
        let trimmed = raw_line.trim_end_matches(['\n', '\r']).trim_end();
        if trimmed == fence || (format == FrontMatterFormat::Yaml && trimmed == "...") {
            let body_start = offset + raw_line.len();
            return Ok(Split {
                format,
                front_matter: &document[after_open..offset],
                first_line: 2,
                body: &document[body_start..],
                body_line: line + 1,
            });
        }
        offset += raw_line.len();
    }
    Err(SyntaxError {
        line: 1,
        column: None,
        message: format!("the front matter opened with `{fence}` is never closed"),
        hint: "end the front matter with a line holding only the same fence",
    })
}

fn starts_with_fence(document: &str, fence: &str) -> bool {
    let first = document.lines().next().unwrap_or("");
    first.trim_end() == fence
}

/// Reads front matter text into a JSON object. `first_line` is where the
/// text starts in the file, so errors carry file lines.
pub fn parse(format: FrontMatterFormat, text: &str, first_line: usize) -> Result<Map<String, Value>, SyntaxError> {
    let value = match format {
        FrontMatterFormat::Toml => {
            let table: toml::Table = toml::from_str(text).map_err(|e| {
                let (line, column) = e.span().map_or((1, None), |s| {
                    let (l, c) = crate::diagnostic::line_col(text, s.start);
                    (l, Some(c))
                });
                SyntaxError {
                    line: first_line + line - 1,
                    column,
                    message: format!("front matter is not valid TOML: {}", first_line_of(e.message())),
                    hint: "TOML front matter looks like `title = \"…\"` and `date = 2024-01-15T08:30:00+07:00`",
                }
            })?;
            toml_to_json(toml::Value::Table(table))
        }
        FrontMatterFormat::Yaml => {
            if text.trim().is_empty() {
                Value::Object(Map::new())
            } else {
                serde_saphyr::from_str::<Value>(text).map_err(|e| {
                    let (line, column) = e
                        .location()
                        .map_or((1, None), |l| (usize::try_from(l.line()).unwrap_or(1).max(1), usize::try_from(l.column()).ok()));
                    SyntaxError {
                        line: first_line + line - 1,
                        column,
                        message: format!("front matter is not valid YAML: {}", yaml_message(&e.to_string())),
                        hint: "YAML front matter looks like `title: \"…\"` and `date: 2024-01-15T08:30:00+07:00`",
                    }
                })?
            }
        }
        FrontMatterFormat::Json => serde_json::from_str::<Value>(text).map_err(|e| SyntaxError {
            line: e.line().max(1),
            column: Some(e.column()),
            message: format!("not valid JSON: {}", strip_json_position(&e.to_string())),
            hint: "a JSON article is one object, e.g. {\"title\": \"…\", \"date\": \"2024-01-15T08:30:00+07:00\", \"body\": \"…\"}",
        })?,
    };
    match value {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        _ => Err(SyntaxError {
            line: first_line,
            column: None,
            message: "the front matter is not a table of fields".into(),
            hint: "write one `key = value` (TOML) or `key: value` (YAML) per line",
        }),
    }
}

fn first_line_of(message: &str) -> &str {
    message.trim().lines().next().unwrap_or("").trim()
}

/// serde-saphyr's message without its own `error: line N column M:`
/// prefix (positions relative to the front matter; we print file lines).
fn yaml_message(message: &str) -> String {
    let first = first_line_of(message);
    let rest = first.strip_prefix("error:").unwrap_or(first).trim_start();
    match rest.strip_prefix("line ").and_then(|r| r.split_once(": ")) {
        Some((_, text)) => text.to_string(),
        None => rest.to_string(),
    }
}

fn strip_json_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The 1-based file line where front-matter field `key` is set, if it can
/// be found by a plain look at the text.
pub fn field_line(format: FrontMatterFormat, text: &str, first_line: usize, key: &str) -> Option<usize> {
    text.lines().enumerate().find_map(|(i, line)| {
        let t = line.trim_start();
        let rest = match format {
            FrontMatterFormat::Json => {
                t.strip_prefix('"').and_then(|r| r.strip_prefix(key)).and_then(|r| r.strip_prefix('"'))
            }
            _ => t.strip_prefix(key).or_else(|| t.strip_prefix(&format!("\"{key}\""))),
        }?;
        let rest = rest.trim_start();
        let separator = match format {
            FrontMatterFormat::Toml => '=',
            FrontMatterFormat::Yaml | FrontMatterFormat::Json => ':',
        };
        rest.starts_with(separator).then_some(first_line + i)
    })
}

fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(table.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_toml_and_yaml() {
        let doc = "+++\ntitle = \"A\"\n+++\nBody\n";
        let s = split(doc).unwrap();
        assert_eq!(s.format, FrontMatterFormat::Toml);
        assert_eq!(s.front_matter, "title = \"A\"\n");
        assert_eq!(s.body, "Body\n");
        assert_eq!(s.body_line, 4);

        let doc = "\u{feff}---\r\ntitle: A\r\n---\r\nBody";
        let s = split(doc).unwrap();
        assert_eq!(s.format, FrontMatterFormat::Yaml);
        assert_eq!(s.front_matter, "title: A\r\n");
        assert_eq!(s.body, "Body");
    }

    #[test]
    fn unclosed_or_missing_front_matter_is_an_error() {
        assert!(split("+++\ntitle = 1\n").unwrap_err().message.contains("never closed"));
        assert!(split("Just text").unwrap_err().message.contains("does not start"));
    }

    #[test]
    fn toml_dates_become_strings() {
        let map = parse(FrontMatterFormat::Toml, "date = 2024-01-15T08:30:00+07:00\nlocal = 2024-01-15T08:30:00\n", 2)
            .unwrap();
        assert_eq!(map["date"], "2024-01-15T08:30:00+07:00");
        assert_eq!(map["local"], "2024-01-15T08:30:00");
    }

    #[test]
    fn toml_errors_carry_file_lines() {
        let e = parse(FrontMatterFormat::Toml, "title = \"A\"\ndate = = 1\n", 2).unwrap_err();
        assert_eq!(e.line, 3, "{e:?}");
        assert!(e.message.starts_with("front matter is not valid TOML"), "{e:?}");
    }

    #[test]
    fn yaml_parses_and_errors_carry_file_lines() {
        let map = parse(
            FrontMatterFormat::Yaml,
            "title: Tin\ndraft: false\ntags: [a, b]\ndate: 2024-01-15T08:30:00+07:00\n",
            2,
        )
        .unwrap();
        assert_eq!(map["title"], "Tin");
        assert_eq!(map["draft"], false);
        assert_eq!(map["tags"][1], "b");
        assert_eq!(map["date"], "2024-01-15T08:30:00+07:00");
        let e = parse(FrontMatterFormat::Yaml, "title: Tin\ntags: [a, b\n", 2).unwrap_err();
        assert!(e.line >= 3, "{e:?}");
    }

    #[test]
    fn finds_field_lines() {
        let text = "title = \"A\"\n  date = 1\n";
        assert_eq!(field_line(FrontMatterFormat::Toml, text, 2, "date"), Some(3));
        assert_eq!(field_line(FrontMatterFormat::Toml, text, 2, "dat"), None);
        assert_eq!(field_line(FrontMatterFormat::Yaml, "date: x\n", 2, "date"), Some(2));
        assert_eq!(field_line(FrontMatterFormat::Json, "{\n  \"date\": 1\n}", 1, "date"), Some(2));
    }
}
