//! TOTP (RFC 6238) as authenticator apps speak it: HMAC-SHA-1, 30-second steps, 6 digits,
//! a 160-bit secret shown as base32. Built directly on the `hmac` and `sha1` crates (HOTP is
//! twenty lines; the `hmac` crate was already a dependency and `sha1` already in the build
//! through the WebSocket stack), rather than a TOTP crate that would bring its own copies.
//!
//! A code is accepted for the current step and one step either side (clock drift); which
//! step matched is returned so the caller can refuse a second use of it. Recovery codes are
//! random, shown once, and stored as SHA-256 hashes (they carry 50 random bits, so a slow
//! hash would add nothing).

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

use super::{constant_time_eq, hash_secret};

/// Seconds per time step.
pub const STEP_SECS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Secret length in bytes (RFC 4226 recommends 160 bits).
pub const SECRET_BYTES: usize = 20;
/// Recovery codes issued when TOTP is turned on.
pub const RECOVERY_CODES: usize = 10;
/// Name shown in authenticator apps.
pub const ISSUER: &str = "Kefu";

/// A fresh random secret.
pub fn new_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// The secret as authenticator apps take it: base32, no padding.
pub fn encode_secret(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// Reads a base32 secret back.
pub fn decode_secret(text: &str) -> Option<Vec<u8>> {
    data_encoding::BASE32_NOPAD.decode(text.as_bytes()).ok()
}

/// HOTP (RFC 4226): the `DIGITS`-digit code for a counter.
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return u32::MAX; // unreachable: HMAC takes keys of any length; matches no code
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    binary % 10u32.pow(DIGITS)
}

/// The time step of a Unix time.
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECS)
}

/// The code for a time step, zero-padded.
pub fn code_for_step(secret: &[u8], step: i64) -> String {
    let code = hotp(secret, u64::try_from(step).unwrap_or(0));
    format!("{code:0width$}", width = DIGITS as usize)
}

/// The step whose code `code` is, among the current step and one either side; `None` when
/// it is none of them or is not six digits.
pub fn matching_step(secret: &[u8], code: &str, unix_seconds: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix_seconds);
    // Every candidate is compared, so timing does not say which step matched.
    let mut found = None;
    for step in [now - 1, now, now + 1] {
        if step >= 0 && constant_time_eq(&code_for_step(secret, step), &code) {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` URI an authenticator app scans.
pub fn otpauth_uri(account: &str, secret_b32: &str) -> String {
    let label = format!("{}:{}", percent_encode(ISSUER), percent_encode(account));
    format!(
        "otpauth://totp/{label}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        percent_encode(ISSUER)
    )
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The URI as a QR code, in SVG.
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

/// Fresh recovery codes, as shown to the agent (`xxxxx-xxxxx`, lowercase base32).
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 7];
            rand::rng().fill_bytes(&mut bytes);
            let text = data_encoding::BASE32_NOPAD.encode(&bytes).to_lowercase();
            format!("{}-{}", &text[..5], &text[5..10])
        })
        .collect()
}

/// The stored form of a recovery code; spacing, dashes and case do not matter.
pub fn hash_recovery_code(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hash_secret(&format!("recovery:{normal}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows, cut to six digits.
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(code_for_step(secret, step_at(time)), code, "t={time}");
        }
    }

    #[test]
    fn rfc4226_hotp_vectors() {
        let secret = b"12345678901234567890";
        let expected = [755224, 287082, 359152, 969429, 338314];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(hotp(secret, counter as u64), *code);
        }
    }

    #[test]
    fn accepts_one_step_either_side_only() {
        let secret = new_secret();
        let now = 1_700_000_000;
        let step = step_at(now);
        for delta in [-1, 0, 1] {
            let code = code_for_step(&secret, step + delta);
            assert_eq!(matching_step(&secret, &code, now), Some(step + delta));
        }
        for delta in [-3, -2, 2, 3] {
            let code = code_for_step(&secret, step + delta);
            assert_eq!(matching_step(&secret, &code, now), None, "delta {delta}");
        }
        let spaced = code_for_step(&secret, step);
        let spaced = format!("{} {}", &spaced[..3], &spaced[3..]);
        assert_eq!(matching_step(&secret, &spaced, now), Some(step));
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn secret_round_trips_and_uri_is_well_formed() {
        let secret = new_secret();
        let b32 = encode_secret(&secret);
        assert_eq!(b32.len(), 32);
        assert_eq!(decode_secret(&b32), Some(secret));
        let uri = otpauth_uri("li ming@example.com", &b32);
        assert!(uri.starts_with("otpauth://totp/Kefu:li%20ming@example.com?secret="));
        assert!(uri.contains("&issuer=Kefu&algorithm=SHA1&digits=6&period=30"));
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.contains("<svg"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_loosely() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        assert!(codes[0].len() == 11 && codes[0].as_bytes()[5] == b'-');
        assert_eq!(
            hash_recovery_code(&codes[0]),
            hash_recovery_code(&codes[0].to_uppercase().replace('-', " "))
        );
        assert_ne!(hash_recovery_code(&codes[0]), hash_recovery_code(&codes[1]));
    }
}
