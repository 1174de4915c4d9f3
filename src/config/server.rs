//! `[server]`: where `herald serve` listens, how it answers (cache headers,
//! limits on requests and connections), which proxies it trusts, and when
//! the watcher reads a changed file.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::ip_network::IpNetwork;
use super::validate::{NumberKey, Validator};

/// `listen` when not given: loopback only, port 8080.
const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080));
/// `cache_control` when not given.
const DEFAULT_CACHE_CONTROL: &str = "public, max-age=300";
/// `request_timeout_seconds`: up to an hour, 30 seconds by default.
const REQUEST_TIMEOUT_SECONDS: NumberKey = NumberKey::new("request_timeout_seconds", 1, 3600, 30);
/// `max_header_bytes`: 1 KiB to 1 MiB, 16 KiB by default.
const MAX_HEADER_BYTES: NumberKey = NumberKey::new("max_header_bytes", 1024, 1024 * 1024, 16 * 1024);
/// `max_connections`: up to a million, 10,000 by default.
const MAX_CONNECTIONS: NumberKey = NumberKey::new("max_connections", 1, 1_000_000, 10_000);
/// `watch_debounce_ms`: up to a minute, 100 ms by default.
const WRITE_TIMEOUT_SECONDS: NumberKey = NumberKey::new("write_timeout_seconds", 1, 3600, 30);
const WATCH_DEBOUNCE_MS: NumberKey = NumberKey::new("watch_debounce_ms", 0, 60_000, 100);
/// `deferred_archives_from`: any count of documents, 20,000 by default.
const DEFERRED_ARCHIVES_FROM: NumberKey = NumberKey::new("deferred_archives_from", 0, i64::MAX, 20_000);
/// The hint for an unusable listening address.
const LISTEN_HINT: &str = "write host:port, e.g. \"127.0.0.1:8080\" or \"[::]:80\"";

/// `[server]`: how `herald serve` listens and answers.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Address and port to listen on (default 127.0.0.1:8080).
    pub listen: SocketAddr,
    /// `Cache-Control` of feeds, sitemaps and the index page.
    pub cache_control: String,
    /// A folder that mirrors every served file, for a CDN or web server.
    pub out_dir: Option<PathBuf>,
    /// Longest time a request may take, headers included.
    pub request_timeout: Duration,
    /// Largest request head (request line and headers) accepted, in bytes.
    pub max_header_bytes: usize,
    /// Most connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// Longest a response's writing may make no progress (the client
    /// stopped reading) before its connection is closed.
    pub write_timeout: Duration,
    /// How long the watcher waits for quiet before reading files still
    /// open for writing (complete files are read at once).
    pub watch_debounce: Duration,
    /// `herald serve` on a store of at least this many documents (and no
    /// output folder) serves the live feeds and sitemaps before rendering
    /// the archive documents, instead of after (the first byte sooner on a
    /// large store: BENCHMARKS.md). Paths not found meanwhile get a 503.
    pub deferred_archives_from: usize,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for
    /// per-client limits); empty trusts no one.
    pub trusted_proxies: Vec<IpNetwork>,
}

/// `[server]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    listen: Option<Spanned<String>>,
    cache_control: Option<String>,
    out_dir: Option<String>,
    request_timeout_seconds: Option<Spanned<i64>>,
    max_header_bytes: Option<Spanned<i64>>,
    max_connections: Option<Spanned<i64>>,
    write_timeout_seconds: Option<Spanned<i64>>,
    watch_debounce_ms: Option<Spanned<i64>>,
    deferred_archives_from: Option<Spanned<i64>>,
    #[serde(default)]
    trusted_proxies: Vec<Spanned<String>>,
}

/// Checks `[server]`; `out_dir` is resolved with `resolve` (relative to the
/// configuration file). `None` when the listening address is unusable.
pub(super) fn validate(
    v: &mut Validator<'_>,
    raw: RawServer,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Option<ServerSettings> {
    let listen = match &raw.listen {
        Some(text) => match text.get_ref().parse() {
            Ok(addr) => Some(addr),
            Err(_) => {
                v.problem(text, format!("`{}` is not an address and port", text.get_ref()), LISTEN_HINT);
                None
            }
        },
        None => Some(DEFAULT_LISTEN),
    };
    let request_timeout = v.number(&raw.request_timeout_seconds, &REQUEST_TIMEOUT_SECONDS);
    let max_header_bytes = v.number(&raw.max_header_bytes, &MAX_HEADER_BYTES);
    let max_connections = v.number(&raw.max_connections, &MAX_CONNECTIONS);
    let write_timeout = v.number(&raw.write_timeout_seconds, &WRITE_TIMEOUT_SECONDS);
    let debounce = v.number(&raw.watch_debounce_ms, &WATCH_DEBOUNCE_MS);
    let deferred_archives_from = v.number(&raw.deferred_archives_from, &DEFERRED_ARCHIVES_FROM);
    let trusted_proxies = raw
        .trusted_proxies
        .iter()
        .filter_map(|entry| match IpNetwork::parse(entry.get_ref().trim()) {
            Ok(network) => Some(network),
            Err(why) => {
                v.problem(
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
        cache_control: raw.cache_control.unwrap_or_else(|| DEFAULT_CACHE_CONTROL.to_string()),
        out_dir: raw.out_dir.as_deref().map(resolve),
        request_timeout: Duration::from_secs(request_timeout as u64),
        max_header_bytes: max_header_bytes as usize,
        max_connections: max_connections as usize,
        write_timeout: Duration::from_secs(write_timeout as u64),
        watch_debounce: Duration::from_millis(debounce as u64),
        deferred_archives_from: usize::try_from(deferred_archives_from).unwrap_or(usize::MAX),
        trusted_proxies,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::testing::{MINIMAL, first_error, parse};

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
    }
}
