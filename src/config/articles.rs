//! `[articles]`: what the folder store agrees to read: how large one
//! document may be, and which folders outside the store its symbolic links
//! may lead into.

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::validate::{NumberKey, Validator};

/// The largest article document read, in bytes (4 MiB by default: far above
/// any real article, JSON ones with `body_html` included).
const MAX_BYTES: NumberKey = NumberKey::new("max_bytes", 1024, 1 << 30, 4 << 20);

/// `[articles]`: limits on reading the article store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleSettings {
    /// Largest article document read, in bytes.
    pub max_bytes: u64,
    /// Folders outside the store that symbolic links in it may lead into.
    pub follow_links_into: Vec<PathBuf>,
}

/// `[articles]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawArticles {
    max_bytes: Option<Spanned<i64>>,
    #[serde(default)]
    follow_links_into: Vec<String>,
}

/// Checks `[articles]`; folders are resolved against the configuration
/// file's folder.
pub(super) fn validate(v: &mut Validator<'_>, raw: RawArticles, resolve: &dyn Fn(&str) -> PathBuf) -> ArticleSettings {
    let max_bytes = v.number(&raw.max_bytes, &MAX_BYTES);
    ArticleSettings {
        max_bytes: max_bytes as u64,
        follow_links_into: raw.follow_links_into.iter().map(|p| resolve(p)).collect(),
    }
}
