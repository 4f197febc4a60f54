//! Who is calling: console sessions (HttpOnly cookie + CSRF token), bearer API tokens for
//! integrations, and visitor tokens for the widget. Secrets are random, prefixed by kind so a
//! token pasted into the wrong place is recognised, and stored only as SHA-256 hashes.

pub mod agent;
pub mod identity;
pub mod password;
pub mod throttle;
pub mod totp;
pub mod visitor;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub use agent::{AgentAuth, AuthMethod};
pub use visitor::VisitorAuth;

/// Name of the console session cookie.
pub const SESSION_COOKIE: &str = "kefu_session";
/// Header carrying the CSRF token on cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Prefix of visitor tokens.
pub const VISITOR_TOKEN_PREFIX: &str = "kefu_vt_";
/// Prefix of API tokens.
pub const API_TOKEN_PREFIX: &str = "kefu_at_";
/// Prefix of session tokens.
pub const SESSION_TOKEN_PREFIX: &str = "kefu_s_";

/// A fresh random secret: `prefix` + 256 random bits, base64url.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a secret.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The bearer token of a request, if any.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The value of one cookie from the `Cookie` header(s).
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    #[test]
    fn secrets_are_prefixed_unique_and_hashed() {
        let a = new_secret(VISITOR_TOKEN_PREFIX);
        let b = new_secret(VISITOR_TOKEN_PREFIX);
        assert!(a.starts_with("kefu_vt_"));
        assert_ne!(a, b);
        assert_eq!(hash_secret(&a).len(), 64);
        assert_eq!(hash_secret(&a), hash_secret(&a));
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &b));
    }

    #[test]
    fn cookies_and_bearer_tokens_are_read() {
        let mut h = HeaderMap::new();
        h.insert("cookie", "a=1; kefu_session=xyz; b=2".parse().unwrap());
        h.insert("authorization", "Bearer tok".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "missing"), None);
        assert_eq!(bearer_token(&h), Some("tok"));
    }
}
