//! Keeping callbacks off the newsroom's own network (SSRF).
//!
//! A subscriber chooses the URL herald calls. Unless the operator allows it,
//! herald refuses callbacks that resolve to loopback, private, link-local,
//! multicast or otherwise special addresses, both when the subscription is
//! requested and at every call: the HTTP client resolves names through
//! [`GuardedResolver`], so a name that later resolves somewhere private
//! (DNS rebinding) is still refused. Names are looked up through a
//! [`Lookup`]: the system's resolver, or a test's table, so a test can make
//! a name change its addresses between two calls.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use url::{Host, Url};

/// The addresses a lookup found, when it resolves.
pub type Looking = Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;

/// Where host names are looked up.
pub trait Lookup: Send + Sync + std::fmt::Debug {
    /// The addresses of `host`.
    fn lookup(&self, host: &str) -> Looking;
}

/// The system's resolver (`getaddrinfo`, off the async threads).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: &str) -> Looking {
        let host = host.to_string();
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.map(|a| a.ip()).collect()) })
    }
}

/// Whether `ip` is an ordinary public address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, _, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    // Addresses that carry an IPv4 address: judge the IPv4 one.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_public_v4(v4(s[6], s[7])); // NAT64 (64:ff9b::/96)
    }
    if s[0] == 0x2002 {
        return is_public_v4(v4(s[1], s[2])); // 6to4 (2002::/16)
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] || s[..6] == [0, 0, 0, 0, 0xffff, 0] {
        return is_public_v4(v4(s[6], s[7])); // IPv4-compatible, IPv4-translated
    }
    // Only global unicast (2000::/3) is public, minus special ranges.
    (s[0] & 0xe000) == 0x2000
        && !(s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        && !(s[0] == 0x2001 && s[1] < 0x0200) // IETF protocol assignments (Teredo, benchmarking …)
        && !(s[0] == 0x64 && s[1] == 0xff9b) // local-use NAT64 (64:ff9b:1::/48)
}

/// Checks a callback URL: http(s), and (unless `allow_private`) every
/// address it resolves to through `lookup` is public. The error says why,
/// for the 4xx body.
pub async fn check_callback(url: &Url, allow_private: bool, lookup: &dyn Lookup) -> Result<(), String> {
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!("hub.callback must be an http or https URL, not {}", url.scheme()));
    }
    if allow_private {
        return Ok(());
    }
    let addresses: Vec<IpAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(Host::Domain(name)) => {
            // A slow name server must not tie up the hub.
            match tokio::time::timeout(std::time::Duration::from_secs(5), lookup.lookup(name)).await {
                Ok(Ok(found)) => found,
                Ok(Err(e)) => return Err(format!("hub.callback host {name} does not resolve: {e}")),
                Err(_) => return Err(format!("hub.callback host {name} took too long to resolve")),
            }
        }
        None => return Err("hub.callback has no host".into()),
    };
    match addresses.iter().find(|ip| !is_public(**ip)) {
        Some(ip) => Err(format!(
            "hub.callback resolves to {ip}, a loopback, private or special address, which this hub does not call"
        )),
        None if addresses.is_empty() => Err("hub.callback resolves to no address".into()),
        None => Ok(()),
    }
}

/// Whether a URL with an IP literal host may be called.
pub fn literal_host_allowed(url: &Url, allow_private: bool) -> bool {
    allow_private
        || match url.host() {
            Some(Host::Ipv4(ip)) => is_public(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => is_public(IpAddr::V6(ip)),
            _ => true,
        }
}

/// The HTTP client's resolver: names through a [`Lookup`]; when guarding,
/// non-public addresses are dropped and a name with none left fails.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    lookup: Arc<dyn Lookup>,
    public_only: bool,
}

impl GuardedResolver {
    /// A resolver through `lookup`, keeping only public addresses when
    /// `public_only`.
    pub fn new(lookup: Arc<dyn Lookup>, public_only: bool) -> GuardedResolver {
        GuardedResolver { lookup, public_only }
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let found = self.lookup.lookup(&host);
        let public_only = self.public_only;
        Box::pin(async move {
            let found: Vec<SocketAddr> = found.await?.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect();
            let kept: Vec<SocketAddr> = found.into_iter().filter(|a| !public_only || is_public(a.ip())).collect();
            if kept.is_empty() {
                let what = if public_only { "no public address" } else { "no address" };
                return Err(format!("{host} resolves to {what}").into());
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn refuses_private_callbacks_unless_allowed() {
        let url = Url::parse("http://127.0.0.1:9/cb").unwrap();
        assert!(check_callback(&url, false, &SystemLookup).await.unwrap_err().contains("127.0.0.1"));
        assert!(check_callback(&url, true, &SystemLookup).await.is_ok());
        let localhost = Url::parse("http://localhost:9/cb").unwrap();
        assert!(check_callback(&localhost, false, &SystemLookup).await.is_err());
        let ftp = Url::parse("ftp://example.com/cb").unwrap();
        assert!(check_callback(&ftp, true, &SystemLookup).await.unwrap_err().contains("http or https"));
    }
}
