//! What unit tests share: a minimal valid `feeds.toml` (the configuration's
//! tests and the renderers' start from it) and shorthands to parse a text
//! and read its first error.

use std::path::Path;

use super::{Config, ConfigError, Overrides};

/// The smallest useful configuration: two languages, Vietnamese at the root.
pub(crate) const MINIMAL: &str = r#"
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

/// `text` validated as `feeds.toml`, without command-line overrides.
pub(super) fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("feeds.toml"), &Overrides::default())
}

/// The first problem found in `text`, as printed; panics when it is valid.
pub(super) fn first_error(text: &str) -> String {
    parse(text).expect_err("config should be refused").diagnostics[0].to_string()
}
