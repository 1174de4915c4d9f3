//! `[database]`: the PostgreSQL database that replicas share (push state,
//! and articles with `articles = true`). Without a URL herald keeps its
//! state in SQLite and reads articles from the store folder, as always.
//!
//! The URL's password is a secret: [`DatabaseUrl`] shows itself (Display,
//! Debug, every message) with the password replaced by `***`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::validate::{NumberKey, Validator};

/// `pool_size`: connections each replica keeps open at most.
const POOL_SIZE: NumberKey = NumberKey::new("pool_size", 1, 1000, 8);
/// `connect_timeout_seconds`: up to 5 minutes, 10 seconds by default.
const CONNECT_TIMEOUT_SECONDS: NumberKey = NumberKey::new("connect_timeout_seconds", 1, 300, 10);
/// `claim_lease_seconds`: how long a replica's claim on a delivery lasts
/// without renewal (it renews them while it lives): 5 s to an hour, 60 s
/// by default.
const CLAIM_LEASE_SECONDS: NumberKey = NumberKey::new("claim_lease_seconds", 5, 3600, 60);
/// The hint for an unusable URL.
const URL_HINT: &str = "write postgresql://USER:PASSWORD@HOST:PORT/DATABASE (optionally ?sslmode=require)";

/// A PostgreSQL connection URL whose password never shows: Display and
/// Debug print it as `***`. [`DatabaseUrl::secret`] is the one way to the
/// real text, for the driver.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: url::Url,
}

impl DatabaseUrl {
    /// Parses a `postgresql://` (or `postgres://`) URL. The error never
    /// repeats the text (it may hold a password).
    pub fn parse(text: &str) -> Result<DatabaseUrl, String> {
        let url = url::Url::parse(text.trim()).map_err(|e| format!("the database URL is not a URL ({e})"))?;
        if !matches!(url.scheme(), "postgresql" | "postgres") {
            return Err(format!("the database URL's scheme is `{}`; expected postgresql://", url.scheme()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("the database URL names no host".into());
        }
        Ok(DatabaseUrl { url })
    }

    /// The whole URL, password included: only for the driver, never for a
    /// message.
    pub fn secret(&self) -> &str {
        self.url.as_str()
    }

    /// The URL as it may be shown: the password replaced by `***`.
    pub fn redacted(&self) -> String {
        let mut shown = self.url.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        shown.to_string()
    }

    /// The password, if the URL has one (percent-decoded), so that messages
    /// from elsewhere can be scrubbed of it.
    pub fn password(&self) -> Option<String> {
        let raw = self.url.password()?;
        Some(percent_decode(raw))
    }

    /// `text` with every occurrence of the password (as written and
    /// decoded) replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        if let Some(raw) = self.url.password().filter(|p| !p.is_empty()) {
            out = out.replace(raw, "***");
            let decoded = percent_decode(raw);
            if !decoded.is_empty() {
                out = out.replace(&decoded, "***");
            }
        }
        out
    }

    /// The URL itself (password included), for code that takes its parts
    /// apart.
    pub fn as_url(&self) -> &url::Url {
        &self.url
    }
}

/// `%XX` sequences decoded (lossily), as a driver reads a URL's password.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

/// `[database]`: where the shared state lives, and how herald connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseSettings {
    /// The database; `None` keeps push state in SQLite (the default).
    pub url: Option<DatabaseUrl>,
    /// Whether articles come from the database instead of the store folder.
    pub articles: bool,
    /// Most connections one replica keeps open.
    pub pool_size: usize,
    /// Longest wait for a new connection (TCP, TLS and authentication).
    pub connect_timeout: Duration,
    /// Extra trusted certificate authorities (PEM) for TLS to the database,
    /// beside the system's (also `sslrootcert=` in the URL).
    pub ca_file: Option<PathBuf>,
    /// How long a claim on a delivery lasts unless its replica renews it.
    pub claim_lease: Duration,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: None,
            articles: false,
            pool_size: POOL_SIZE.default as usize,
            connect_timeout: Duration::from_secs(CONNECT_TIMEOUT_SECONDS.default as u64),
            ca_file: None,
            claim_lease: Duration::from_secs(CLAIM_LEASE_SECONDS.default as u64),
        }
    }
}

/// `[database]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDatabase {
    url: Option<Spanned<String>>,
    #[serde(default)]
    articles: bool,
    pool_size: Option<Spanned<i64>>,
    connect_timeout_seconds: Option<Spanned<i64>>,
    ca_file: Option<String>,
    claim_lease_seconds: Option<Spanned<i64>>,
}

/// Checks `[database]`; `ca_file` is resolved against the configuration
/// file's folder. An unusable URL is reported without its text.
pub(super) fn validate(v: &mut Validator<'_>, raw: RawDatabase, resolve: &dyn Fn(&str) -> PathBuf) -> DatabaseSettings {
    let url = raw.url.as_ref().and_then(|text| match DatabaseUrl::parse(text.get_ref()) {
        Ok(url) => Some(url),
        Err(why) => {
            v.problem(text, why, URL_HINT);
            None
        }
    });
    let pool_size = v.number(&raw.pool_size, &POOL_SIZE);
    let connect_timeout = v.number(&raw.connect_timeout_seconds, &CONNECT_TIMEOUT_SECONDS);
    let claim_lease = v.number(&raw.claim_lease_seconds, &CLAIM_LEASE_SECONDS);
    DatabaseSettings {
        url,
        articles: raw.articles,
        pool_size: pool_size as usize,
        connect_timeout: Duration::from_secs(connect_timeout as u64),
        ca_file: raw.ca_file.as_deref().map(resolve),
        claim_lease: Duration::from_secs(claim_lease as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::{MINIMAL, first_error, parse};

    #[test]
    fn the_password_never_shows() {
        let url = DatabaseUrl::parse("postgresql://herald:s%40cret-pw@db.example:5432/news?sslmode=require").unwrap();
        for shown in [url.to_string(), format!("{url:?}"), url.redacted()] {
            assert!(!shown.contains("cret-pw"), "{shown}");
            assert!(shown.contains("herald:***@db.example:5432/news"), "{shown}");
        }
        assert!(url.secret().contains("s%40cret-pw"));
        assert_eq!(url.password().as_deref(), Some("s@cret-pw"));
        assert_eq!(url.scrub("auth failed for s@cret-pw and s%40cret-pw"), "auth failed for *** and ***");
        let bad = DatabaseUrl::parse("mysql://u:topsecret@h/db").unwrap_err();
        assert!(!bad.contains("topsecret"), "{bad}");
    }

    #[test]
    fn database_settings_are_read_and_checked() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.database, DatabaseSettings::default());
        let text = format!(
            "{MINIMAL}\n[database]\nurl = \"postgresql://u:pw@127.0.0.1/test\"\npool_size = 4\nclaim_lease_seconds = 30\n"
        );
        let c = parse(&text).unwrap();
        assert_eq!(c.database.pool_size, 4);
        assert_eq!(c.database.claim_lease, Duration::from_secs(30));
        assert!(format!("{:?}", c).contains("u:***@127.0.0.1"));
        assert!(!format!("{:?}", c).contains(":pw@"));
        let e = first_error(&format!("{MINIMAL}\n[database]\nurl = \"http://u:hidden@h/db\"\n"));
        assert!(e.contains("scheme is `http`") && !e.contains("hidden"), "{e}");
    }
}
