//! Visitors: the people chatting through the widget. Anonymous by default, identified by a
//! random token the widget keeps; the IP address is only ever stored truncated.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::{SiteId, Timestamp, VisitorId};

/// A visitor as agents see it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Visitor {
    pub id: VisitorId,
    pub site_id: SiteId,
    pub name: Option<String>,
    pub email: Option<String>,
    pub page_url: Option<String>,
    pub referrer: Option<String>,
    pub language: Option<String>,
    pub user_agent: Option<String>,
    /// The network part only: IPv4 /24, IPv6 /48.
    pub ip_truncated: Option<String>,
    /// The version of the site's privacy notice the visitor accepted, and when.
    pub consent_version: Option<String>,
    pub consent_at: Option<Timestamp>,
    /// The customer's own user id, set only when the widget's identity signature checked out.
    pub external_id: Option<String>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// Keeps the network part of an address and zeroes the host part (IPv4 /24, IPv6 /48), so
/// a rough location stays possible while the address no longer identifies a household.
pub fn truncate_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0")
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return truncate_ip(IpAddr::V4(v4));
            }
            let s = v6.segments();
            std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0).to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_keeps_24_bits() {
        assert_eq!(truncate_ip("203.0.113.77".parse().unwrap()), "203.0.113.0");
    }

    #[test]
    fn ipv6_keeps_48_bits_and_unmaps_v4() {
        assert_eq!(
            truncate_ip("2001:db8:abcd:12::1".parse().unwrap()),
            "2001:db8:abcd::"
        );
        assert_eq!(
            truncate_ip("::ffff:198.51.100.9".parse().unwrap()),
            "198.51.100.0"
        );
    }
}
