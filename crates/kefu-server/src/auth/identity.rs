//! Widget identity verification. A customer's site that knows who is logged in passes the
//! user's id to the widget together with `HMAC-SHA256(site identity secret, user id)` in hex,
//! computed on its own server. Kefu recomputes it with the site's secret (kept sealed at rest)
//! and only then treats the visitor as that user; anything else stays anonymous, so a visitor
//! cannot claim to be someone else by editing the page.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Whether `signature_hex` is the HMAC of `user_id` under `secret` (compared in constant time).
pub fn verify(secret: &str, user_id: &str, signature_hex: &str) -> bool {
    let Ok(signature) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(user_id.as_bytes());
    mac.verify_slice(&signature).is_ok()
}

/// The signature for `user_id`, as a customer's server computes it (used by tests and docs).
pub fn sign(secret: &str, user_id: &str) -> String {
    // HMAC accepts keys of any length, so the error branch is never taken.
    Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map(|mut mac| {
            mac.update(user_id.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_right_user_and_secret() {
        let sig = sign("s3cret", "user-42");
        assert_eq!(sig.len(), 64);
        assert!(verify("s3cret", "user-42", &sig));
        assert!(verify("s3cret", "user-42", &sig.to_uppercase()));
        assert!(!verify("s3cret", "user-43", &sig));
        assert!(!verify("other", "user-42", &sig));
        assert!(!verify("s3cret", "user-42", "not hex"));
        assert!(!verify("s3cret", "user-42", ""));
    }
}
