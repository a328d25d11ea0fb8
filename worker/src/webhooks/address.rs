//! Where deliveries may go. Without `WEBHOOK_ALLOW_PRIVATE` an endpoint must be `https://` and
//! its host must not be, or resolve to, a loopback, private, link-local (cloud metadata),
//! shared or otherwise special address: a webhook URL is an admin's to choose, and must not
//! make the service a way into its own network. The rule is checked when an endpoint is saved
//! and again on every delivery, by the resolver the delivery connects through, because DNS can
//! change in between. Redirects are never followed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Why a URL may not receive deliveries, in words for the admin.
pub type Refusal = String;

/// The class of a forbidden address, or `None` for a public one.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            // An IPv4 address written as IPv6 (::ffff:a.b.c.d, NAT64's 64:ff9b::/96) is that address.
            let segments = v6.segments();
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [a, b] = segments[6].to_be_bytes();
                let [c, d] = segments[7].to_be_bytes();
                return forbidden_v4(Ipv4Addr::new(a, b, c, d));
            }
            forbidden_v6(v6)
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local (cloud metadata)")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared (carrier-grade NAT)")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if ip.is_multicast() || ip.is_broadcast() || a >= 240 {
        Some("multicast or reserved")
    } else if a == 192 && b == 0 && ip.octets()[2] == 0 || a == 198 && (18..20).contains(&b) {
        Some("reserved")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if first & 0xfe00 == 0xfc00 {
        Some("private")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local (cloud metadata)")
    } else if first & 0xff00 == 0xff00 {
        Some("multicast or reserved")
    } else {
        None
    }
}

/// Checks what can be checked of `raw` without DNS: its form, its scheme, and an address
/// written as the host. Answers the parsed URL.
pub fn check_url(raw: &str, allow_private: bool) -> Result<Url, Refusal> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("'{raw}' is not a URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err("webhook URLs must use https".into()),
        other => return Err(format!("webhook URLs must use https, not {other}")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("webhook URLs must not carry a user name or password; the signature authenticates us".into());
    }
    let literal = match url.host() {
        None => return Err("the URL has no host".into()),
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(Host::Domain(_)) => None,
    };
    if let (Some(ip), false) = (literal, allow_private) {
        if let Some(class) = forbidden(ip) {
            return Err(format!("{ip} is a {class} address; webhooks go to public addresses only"));
        }
    }
    Ok(url)
}

/// The addresses `host` resolves to, refused when none is public (unless private ones are
/// allowed): used when an endpoint is saved, and by [`PublicOnly`] on every delivery.
async fn public_addresses(host: &str, port: u16, allow_private: bool) -> Result<Vec<SocketAddr>, Refusal> {
    let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("{host} could not be resolved ({e})"))?
        .collect();
    filter_public(host, resolved, allow_private)
}

fn filter_public(host: &str, resolved: Vec<SocketAddr>, allow_private: bool) -> Result<Vec<SocketAddr>, Refusal> {
    if allow_private {
        return Ok(resolved);
    }
    let public: Vec<SocketAddr> = resolved.iter().copied().filter(|a| forbidden(a.ip()).is_none()).collect();
    match (public.is_empty(), resolved.first()) {
        (false, _) => Ok(public),
        (true, Some(first)) => Err(format!(
            "{host} resolves to {}, a {} address; webhooks go to public addresses only",
            first.ip(),
            forbidden(first.ip()).unwrap_or("forbidden")
        )),
        (true, None) => Err(format!("{host} does not resolve to any address")),
    }
}

/// Checks `raw` completely, DNS included, as an endpoint is saved. A name that does not
/// resolve (yet, or from here) is accepted: its deliveries fail until it resolves, and then
/// only to a public address.
pub async fn check_endpoint_url(raw: &str, allow_private: bool) -> Result<Url, Refusal> {
    let url = check_url(raw, allow_private)?;
    if let Some(Host::Domain(host)) = url.host() {
        let port = url.port_or_known_default().unwrap_or(443);
        if let Ok(resolved) = tokio::net::lookup_host((host, port)).await {
            filter_public(host, resolved.collect(), allow_private)?;
        }
    }
    Ok(url)
}

/// The resolver deliveries connect through: it answers only public addresses, so the address
/// checked is the address connected to.
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly;

impl PublicOnly {
    pub fn resolver() -> Arc<Self> {
        Arc::new(Self)
    }
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let addresses = public_addresses(name.as_str(), 0, false).await?;
            let addrs: Addrs = Box::new(addresses.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_addresses_are_forbidden_and_public_ones_are_not() {
        for (ip, class) in [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local (cloud metadata)"),
            ("100.100.100.200", "shared (carrier-grade NAT)"),
            ("0.0.0.0", "unspecified"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "link-local (cloud metadata)"),
            ("fd00:ec2::254", "private"),
            ("fe80::1", "link-local (cloud metadata)"),
        ] {
            assert_eq!(forbidden(ip.parse().unwrap()), Some(class), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert_eq!(forbidden(ip.parse().unwrap()), None, "{ip}");
        }
    }

    #[test]
    fn urls_must_be_https_to_a_public_host_unless_private_ones_are_allowed() {
        assert!(check_url("https://hooks.example.com/in", false).is_ok());
        assert!(check_url("http://hooks.example.com/in", false).unwrap_err().contains("https"));
        assert!(check_url("ftp://hooks.example.com/in", false).is_err());
        assert!(check_url("https://127.0.0.1:9000/in", false).unwrap_err().contains("loopback"));
        assert!(check_url("https://[::1]/in", false).unwrap_err().contains("loopback"));
        assert!(check_url("https://user:pw@hooks.example.com/", false).unwrap_err().contains("password"));
        assert!(check_url("not a url", false).is_err());
        assert!(check_url("http://127.0.0.1:9000/in", true).is_ok(), "tests and private deployments");
    }
}
