//! Fetching web pages and sitemaps for URL imports, only from hosts the site's admin allowed.
//!
//! Fetching on an admin's behalf is a server-side request forgery risk, so every request is
//! held to [`HostPolicy`]: http(s) only; the host must match the allow-list (exactly, or a
//! `*.example.com` subdomain pattern) on the first request and on every redirect hop; a host
//! name must resolve to public addresses only (the check runs inside the client's resolver,
//! on the addresses actually connected to, so DNS rebinding gains nothing). A private,
//! loopback or link-local address is reachable only when the allow-list names it literally
//! (`127.0.0.1`). Proxies from the environment are ignored, since they would bypass the
//! resolver. Bodies are read up to a size cap under a whole-request timeout.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why a fetch failed; [`FetchError::code`] is what the job's file outcome records.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("not an http(s) address: {0}")]
    BadUrl(String),
    #[error("host {0} is not in this site's import_allowed_hosts")]
    HostNotAllowed(String),
    #[error("{0}")]
    Request(String),
    #[error("the server answered HTTP {0}")]
    Status(u16),
    #[error("the response is larger than {0} bytes")]
    TooLarge(usize),
}

impl FetchError {
    /// Stable code for outcomes and the API.
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::BadUrl(_) => "invalid_url",
            FetchError::HostNotAllowed(_) => "host_not_allowed",
            FetchError::Request(_) => "fetch_failed",
            FetchError::Status(_) => "http_status",
            FetchError::TooLarge(_) => "too_large",
        }
    }
}

/// The hosts a site may fetch from.
#[derive(Clone, Debug, Default)]
pub struct HostPolicy {
    patterns: Vec<String>,
}

impl HostPolicy {
    /// A policy over validated `import_allowed_hosts` patterns.
    pub fn new(patterns: &[String]) -> Self {
        Self {
            patterns: patterns.iter().map(|p| p.to_ascii_lowercase()).collect(),
        }
    }

    /// Whether nothing may be fetched.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Parses `url` and checks its scheme and host.
    pub fn check(&self, url: &str) -> Result<Url, FetchError> {
        let parsed = Url::parse(url).map_err(|_| FetchError::BadUrl(url.to_owned()))?;
        self.check_url(&parsed)?;
        Ok(parsed)
    }

    fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() {
            return Err(FetchError::BadUrl(url.to_string()));
        }
        // IPv6 hosts come bracketed (`[::1]`); the allow-list holds bare addresses.
        let host = match url.host_str() {
            Some(h) => h
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase(),
            None => return Err(FetchError::BadUrl(url.to_string())),
        };
        if self.host_allowed(&host) {
            Ok(())
        } else {
            Err(FetchError::HostNotAllowed(host))
        }
    }

    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        let is_ip = host.parse::<IpAddr>().is_ok();
        self.patterns.iter().any(|p| {
            if p == host {
                return true;
            }
            // Wildcards cover names only: `*.example.com` never matches an address.
            match p.strip_prefix("*.") {
                Some(base) if !is_ip => host.ends_with(&format!(".{base}")),
                _ => false,
            }
        })
    }

    /// Whether `ip` may be connected to: public, or listed literally.
    fn address_allowed(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.patterns.iter().any(|p| p.parse::<IpAddr>() == Ok(ip))
    }
}

/// Globally routable unicast, by the ranges that matter for request forgery.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
                || (a == 198 && (18..20).contains(&b)) // benchmarking
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80) // link-local
        }
    }
}

/// The system resolver with the policy applied to every answer.
struct GuardedResolver {
    policy: Arc<HostPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.address_allowed(a.ip()))
                .collect();
            if allowed.is_empty() {
                let message = if found.is_empty() {
                    format!("{host} did not resolve")
                } else {
                    format!(
                        "{host} resolves to a private or loopback address; list the address itself in import_allowed_hosts to allow it"
                    )
                };
                return Err(message.into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Limits of one fetch.
#[derive(Clone, Debug)]
pub struct FetchLimits {
    /// Whole request, redirects included.
    pub timeout: Duration,
    pub max_bytes: usize,
    pub max_redirects: usize,
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_bytes: kefu_import::DEFAULT_MAX_FILE_BYTES,
            max_redirects: 5,
        }
    }
}

/// A fetched document.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// Where it was finally read from (after redirects).
    pub final_url: String,
    /// The `Content-Type` without parameters, lower-cased.
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// An HTTP client bound to one site's host policy.
#[derive(Clone, Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<HostPolicy>,
    limits: FetchLimits,
}

impl Fetcher {
    /// A client for `policy`.
    pub fn new(policy: HostPolicy, limits: FetchLimits) -> Result<Self, FetchError> {
        let policy = Arc::new(policy);
        let redirect_policy = {
            let policy = policy.clone();
            let max = limits.max_redirects;
            reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= max {
                    attempt.error(format!("more than {max} redirects"))
                } else if let Err(e) = policy.check_url(attempt.url()) {
                    attempt.error(format!("redirect refused: {e}"))
                } else {
                    attempt.follow()
                }
            })
        };
        let client = reqwest::Client::builder()
            .timeout(limits.timeout)
            .connect_timeout(limits.timeout.min(Duration::from_secs(10)))
            .redirect(redirect_policy)
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .user_agent(concat!(
                "kefu/",
                env!("CARGO_PKG_VERSION"),
                " (knowledge-base import)"
            ))
            .build()
            .map_err(|e| FetchError::Request(e.to_string()))?;
        Ok(Self {
            client,
            policy,
            limits,
        })
    }

    /// Fetches `url` (GET), following allowed redirects, reading at most the size cap.
    pub async fn fetch(&self, url: &str) -> Result<Fetched, FetchError> {
        let parsed = self.policy.check(url)?;
        let mut response = self.client.get(parsed).send().await.map_err(describe)?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        let max = self.limits.max_bytes;
        if response.content_length().is_some_and(|n| n > max as u64) {
            return Err(FetchError::TooLarge(max));
        }
        let final_url = response.url().to_string();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(describe)? {
            if bytes.len() + chunk.len() > max {
                return Err(FetchError::TooLarge(max));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            final_url,
            content_type,
            bytes,
        })
    }
}

/// reqwest's error with its causes (the redirect or resolver reason is in the chain).
fn describe(e: reqwest::Error) -> FetchError {
    let mut message = if e.is_timeout() {
        "timed out".to_owned()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    FetchError::Request(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(hosts: &[&str]) -> HostPolicy {
        HostPolicy::new(&hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn hosts_match_exactly_or_by_subdomain_pattern() {
        let p = policy(&["help.example.com", "*.docs.example.org", "127.0.0.1"]);
        assert!(p.check("https://help.example.com/a").is_ok());
        assert!(p.check("https://HELP.example.com./a").is_ok());
        assert!(p.check("https://v2.docs.example.org/x").is_ok());
        assert!(p.check("http://127.0.0.1:8080/x").is_ok());
        for refused in [
            "https://evil.example.com/",
            "https://help.example.com.evil.net/",
            "https://docs.example.org/",
            "https://notdocs.example.org/",
            "http://127.0.0.2/",
            "http://[::1]/",
            "ftp://help.example.com/",
            "file:///etc/passwd",
            "https://user@help.example.com/",
        ] {
            assert!(p.check(refused).is_err(), "{refused}");
        }
        assert!(
            HostPolicy::default()
                .check("https://help.example.com/")
                .is_err()
        );
    }

    #[test]
    fn private_addresses_need_literal_listing() {
        let p = policy(&["intranet.example", "10.0.0.8"]);
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "169.254.169.254",
            "::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "100.64.0.1",
            "0.0.0.0",
        ] {
            assert!(!p.address_allowed(private.parse().unwrap()), "{private}");
        }
        assert!(p.address_allowed("10.0.0.8".parse().unwrap()));
        assert!(p.address_allowed("93.184.215.14".parse().unwrap()));
        assert!(p.address_allowed("2606:4700::1".parse().unwrap()));
    }
}
