//! Keeps webhooks from being turned against the private network: a URL's host may not be, or
//! resolve to, a loopback, private, link-local, unique-local or otherwise non-public address,
//! unless the operator allows that host by name in configuration.
//!
//! The check runs when an endpoint is saved (for addresses written in the URL) and again at
//! every connection: the HTTP client resolves names through [`GuardedResolver`], which refuses
//! the whole answer if any address is forbidden, so a name cannot be re-pointed at an internal
//! address between the check and the connection.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Hosts the operator allows even though they are internal (e.g. a receiver on this machine).
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    /// From a comma-separated list of host names or addresses.
    pub fn parse(list: &str) -> Self {
        Self(
            list.split(',')
                .map(|h| {
                    h.trim()
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_ascii_lowercase()
                })
                .filter(|h| !h.is_empty())
                .collect(),
        )
    }

    pub fn allows(&self, host: &str) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        self.0.contains(&host)
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("a broadcast, multicast or reserved address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (carrier-grade NAT) address")
    } else if a == 192 && b == 0 && ip.octets()[2] == 0 {
        Some("an IETF protocol address")
    } else if a == 198 && (b == 18 || b == 19) {
        Some("a benchmarking address")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses are IPv4.
    if segments[..5].iter().all(|s| *s == 0) && (segments[5] == 0xffff || segments[5] == 0) {
        if ip.is_loopback() {
            return Some("a loopback address");
        }
        if ip.is_unspecified() {
            return Some("an unspecified address");
        }
        if let Some(v4) = ip.to_ipv4() {
            return forbidden_v4(v4);
        }
    }
    let first = segments[0];
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() {
        Some("an unspecified address")
    } else if first & 0xfe00 == 0xfc00 {
        Some("a unique-local address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("a link-local address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if first & 0xffc0 == 0xfec0 {
        Some("a site-local address")
    } else if first == 0x0064 && segments[1] == 0xff9b && segments[2] == 0x0001 {
        Some("a local-use NAT64 address")
    } else if first == 0x0064 && segments[1] == 0xff9b {
        // NAT64 embeds an IPv4 address in its last 32 bits.
        let [.., a, b] = segments;
        forbidden_v4(Ipv4Addr::new(
            (a >> 8) as u8,
            a as u8,
            (b >> 8) as u8,
            b as u8,
        ))
    } else if first == 0x2002 {
        // 6to4 embeds an IPv4 address in its second and third groups.
        let (a, b) = (segments[1], segments[2]);
        forbidden_v4(Ipv4Addr::new(
            (a >> 8) as u8,
            a as u8,
            (b >> 8) as u8,
            b as u8,
        ))
    } else {
        None
    }
}

/// Why an address may not be reached, or `None` if it is a public address.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

/// Checks a webhook URL as written: http or https, a host, no credentials, and no forbidden
/// address literal (names are checked when resolved). Returns the reason of a refusal.
pub fn check_url(raw: &str, allowed: &AllowedHosts) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("is not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".to_owned());
    }
    let host = match url.host() {
        Some(h) => h,
        None => return Err("must name a host".to_owned()),
    };
    if allowed.allows(&host.to_string()) {
        return Ok(url);
    }
    let literal = match host {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    };
    if let Some(reason) = literal.and_then(forbidden) {
        return Err(format!("points at {reason}, which webhooks may not reach"));
    }
    Ok(url)
}

/// The DNS resolver of the webhook client: resolves with the system resolver, then refuses the
/// answer if any address is forbidden (unless the name is allowed).
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub allowed: Arc<AllowedHosts>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self.allowed.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allowed.allows(&host)
                && let Some((ip, reason)) = addrs
                    .iter()
                    .find_map(|a| forbidden(a.ip()).map(|r| (a.ip(), r)))
            {
                // The address stays in the server's log: the endpoint's owner is told the kind
                // of address, not the address (no probing of internal names).
                tracing::info!(%host, %ip, "webhook refused: the name resolves to an internal address");
                return Err(
                    format!("{host} resolves to {reason}, which webhooks may not reach").into(),
                );
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "::127.0.0.1",
            "::10.0.0.1",
            "fec0::1",
            "64:ff9b:1::1",
            "2002:a00:1::1",
            "2002:7f00:1::1",
            "224.0.0.1",
            "::",
        ] {
            let ip: IpAddr = ip.parse().expect("ip");
            assert!(forbidden(ip).is_some(), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "203.0.114.1",
            "2001:4860:4860::8888",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            let ip: IpAddr = ip.parse().expect("ip");
            assert_eq!(forbidden(ip), None, "{ip}");
        }
    }

    #[test]
    fn urls_are_checked_as_written() {
        let none = AllowedHosts::default();
        assert!(check_url("https://hooks.example.com/wastetrack", &none).is_ok());
        assert!(check_url("http://127.0.0.1:9000/", &none).is_err());
        assert!(check_url("http://[::1]/", &none).is_err());
        assert!(check_url("http://169.254.169.254/latest/meta-data", &none).is_err());
        assert!(check_url("ftp://example.com/", &none).is_err());
        assert!(check_url("https://user:pw@example.com/", &none).is_err());
        assert!(check_url("not a url", &none).is_err());
        let local = AllowedHosts::parse(" 127.0.0.1 , [::1]");
        assert!(check_url("http://127.0.0.1:9000/", &local).is_ok());
        assert!(check_url("http://[::1]:9000/", &local).is_ok());
        assert!(check_url("http://10.0.0.1/", &local).is_err());
    }
}
