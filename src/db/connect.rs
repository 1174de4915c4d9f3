//! From `[database]` to a driver configuration and a TLS connector: the
//! URL's `sslmode` and `sslrootcert` as libpq reads them (herald verifies
//! the server's certificate in every TLS mode), rustls with the `ring`
//! provider the HTTP client uses, the system's roots plus `ca_file`.

use std::sync::Arc;

use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::{DatabaseSettings, DatabaseUrl};

/// What the driver needs to connect: its configuration (password
/// included: never shown) and the TLS connector.
pub(super) struct Target {
    /// The driver's configuration.
    pub(super) config: tokio_postgres::Config,
    /// TLS, used unless the mode is `disable`.
    pub(super) tls: MakeRustlsConnect,
}

/// The driver configuration and TLS connector for `url` with `settings`;
/// the error names the URL redacted.
pub(super) fn target(url: &DatabaseUrl, settings: &DatabaseSettings) -> Result<Target, String> {
    let mut sslmode: Option<String> = None;
    let mut rootcert: Option<std::path::PathBuf> = settings.ca_file.clone();
    let mut kept = url.as_url().clone();
    let pairs: Vec<(String, String)> =
        url.as_url().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let mut query = Vec::new();
    for (key, value) in &pairs {
        match key.as_str() {
            "sslmode" => sslmode = Some(value.clone()),
            "sslrootcert" => rootcert = Some(value.into()),
            _ => query.push(format!("{}={}", encode(key), encode(value))),
        }
    }
    // Spaces as %20: the driver does not read `+` as a space.
    let query = query.join("&");
    kept.set_query(if query.is_empty() { None } else { Some(&query) });
    let mut config: tokio_postgres::Config = kept.as_str().parse().map_err(|e: tokio_postgres::Error| {
        format!("{}: not a usable database URL: {}", url, url.scrub(&e.to_string()))
    })?;
    let mode = match sslmode.as_deref() {
        Some("disable") => SslMode::Disable,
        Some("allow" | "prefer") => SslMode::Prefer,
        Some("require" | "verify-ca" | "verify-full") => SslMode::Require,
        Some(other) => {
            return Err(format!(
                "{url}: sslmode `{other}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
            ));
        }
        // Not said: plain on this machine, TLS to anywhere else.
        None if is_local(&config) => SslMode::Disable,
        None => SslMode::Require,
    };
    config.ssl_mode(mode);
    config.connect_timeout(settings.connect_timeout);
    if config.get_application_name().is_none() {
        config.application_name("herald");
    }
    let tls = MakeRustlsConnect::new(client_config(rootcert.as_deref())?);
    Ok(Target { config, tls })
}

/// `text` percent-encoded for a URL's query (unreserved characters kept).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Whether every host of `config` is this machine (loopback or a Unix
/// socket).
fn is_local(config: &tokio_postgres::Config) -> bool {
    config.get_hosts().iter().all(|host| match host {
        tokio_postgres::config::Host::Tcp(name) => {
            name == "localhost"
                || name.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        tokio_postgres::config::Host::Unix(_) => true,
    })
}

/// rustls with the `ring` provider, trusting the system's roots and the
/// certificates of `ca_file`.
fn client_config(ca_file: Option<&std::path::Path>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        use rustls::pki_types::pem::PemObject;
        let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("{}: cannot read the database's CA certificates: {e}", path.display()))?;
        let mut added = 0;
        for cert in certs {
            let cert = cert.map_err(|e| format!("{}: not a PEM certificate: {e}", path.display()))?;
            roots.add(cert).map_err(|e| format!("{}: unusable CA certificate: {e}", path.display()))?;
            added += 1;
        }
        if added == 0 {
            return Err(format!("{}: holds no PEM certificate", path.display()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> SslMode {
        let url = DatabaseUrl::parse(url).unwrap();
        target(&url, &DatabaseSettings::default()).unwrap().config.get_ssl_mode()
    }

    #[test]
    fn tls_is_required_off_this_machine_unless_the_url_says_otherwise() {
        assert_eq!(mode("postgresql://u@127.0.0.1/test"), SslMode::Disable);
        assert_eq!(mode("postgresql://u@localhost/test"), SslMode::Disable);
        assert_eq!(mode("postgresql://u@db.example/test"), SslMode::Require);
        assert_eq!(mode("postgresql://u@db.example/test?sslmode=disable"), SslMode::Disable);
        assert_eq!(mode("postgresql://u@127.0.0.1/test?sslmode=verify-full"), SslMode::Require);
        assert_eq!(mode("postgresql://u@db.example/test?sslmode=prefer"), SslMode::Prefer);
    }

    #[test]
    fn a_bad_sslmode_or_ca_file_is_named_without_the_password() {
        let url = DatabaseUrl::parse("postgresql://u:hunter2@db.example/test?sslmode=sometimes").unwrap();
        let e = target(&url, &DatabaseSettings::default()).err().unwrap();
        assert!(e.contains("sometimes") && !e.contains("hunter2"), "{e}");
        let url = DatabaseUrl::parse("postgresql://u:hunter2@db.example/test?sslrootcert=/nonexistent/ca.pem").unwrap();
        let e = target(&url, &DatabaseSettings::default()).err().unwrap();
        assert!(e.contains("/nonexistent/ca.pem") && !e.contains("hunter2"), "{e}");
    }

    #[test]
    fn other_parameters_reach_the_driver() {
        let url = DatabaseUrl::parse("postgresql://u@127.0.0.1:5433/test?options=-c%20search_path%3Dx&sslmode=disable")
            .unwrap();
        let config = target(&url, &DatabaseSettings::default()).unwrap().config;
        assert_eq!(config.get_options(), Some("-c search_path=x"));
        assert_eq!(config.get_ports(), [5433]);
        assert_eq!(config.get_application_name(), Some("herald"));
    }
}
