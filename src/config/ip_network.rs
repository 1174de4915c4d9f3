//! `IpNetwork`: an IP address or CIDR network, as `[server] trusted_proxies`
//! lists them, and the test whether an address belongs to one.

use std::fmt;
use std::net::IpAddr;

/// An IP address or CIDR network (`127.0.0.1`, `::1`, `10.0.0.0/8`,
/// `2001:db8::/32`), as listed in `[server] trusted_proxies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    /// The network's first address (host bits are zero).
    address: IpAddr,
    /// How many leading bits an address must share with it.
    prefix_len: u8,
}

impl IpNetwork {
    /// Reads `address` or `address/prefix-length`. A network with bits set
    /// after its prefix (`10.0.0.1/8`) is refused, as a likely typo.
    pub fn parse(text: &str) -> Result<IpNetwork, String> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address.parse().map_err(|_| match prefix {
            Some(_) => format!("`{address}` is not an IPv4 or IPv6 address"),
            None => "it is not an IPv4 or IPv6 address".to_string(),
        })?;
        let bits: u8 = if address.is_ipv4() { 32 } else { 128 };
        let Some(prefix) = prefix else {
            // A lone address; an IPv4-mapped IPv6 one means the IPv4 one.
            let address = address.to_canonical();
            return Ok(IpNetwork { address, prefix_len: if address.is_ipv4() { 32 } else { 128 } });
        };
        let prefix_len = match prefix.parse::<u8>() {
            Ok(n) if n <= bits && prefix.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(format!("`/{prefix}` is not a prefix length from 0 to {bits}")),
        };
        let network = IpNetwork { address, prefix_len };
        let first = network.first();
        if first != address {
            return Err(format!(
                "it has bits set after its /{prefix_len} prefix (the network is `{first}/{prefix_len}`)"
            ));
        }
        // `::ffff:10.0.0.0/104` is the IPv4 network `10.0.0.0/8`.
        match address {
            IpAddr::V6(v6) if prefix_len >= 96 => match v6.to_ipv4_mapped() {
                Some(v4) => Ok(IpNetwork { address: v4.into(), prefix_len: prefix_len - 96 }),
                None => Ok(network),
            },
            _ => Ok(network),
        }
    }

    /// Whether `ip` is in this network (an IPv4-mapped IPv6 address counts
    /// as its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix_len)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix_len)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }

    /// The first address of the network: `address` with its host bits zeroed.
    fn first(&self) -> IpAddr {
        match self.address {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix_len)).unwrap_or(0);
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix_len)).unwrap_or(0);
                IpAddr::V6((u128::from(a) & mask).into())
            }
        }
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_contain_their_addresses() {
        assert!(IpNetwork::parse("0.0.0.0/0").unwrap().contains("203.0.113.9".parse().unwrap()));
        assert!(IpNetwork::parse("::/0").unwrap().contains("2001:db8::1".parse().unwrap()));
        assert!(IpNetwork::parse("10.0.0.0/+8").is_err());
        assert!(IpNetwork::parse("::ffff:10.0.0.0/104").unwrap().contains("10.2.3.4".parse().unwrap()));
    }
}
