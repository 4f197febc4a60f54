//! Secrets at rest: values such as providers' API keys are sealed with AES-256-GCM before they
//! reach the database, so a copied database file or backup does not leak them. The key comes
//! from the configuration (`secret_key`) or, on a single node, is generated once into
//! `<data_dir>/secret.key`, readable only by the server's user.
//!
//! Sealed form: `v1:` + base64(12-byte random nonce ‖ ciphertext ‖ tag). The version prefix lets
//! a later key rotation tell old values from new ones.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// Why a secret could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret_key must be 32 bytes in base64")]
    BadKey,
    #[error("reading or writing the key file: {0}")]
    KeyFile(#[from] std::io::Error),
    #[error("a sealed secret could not be opened (wrong secret_key, or corrupt value)")]
    Open,
}

/// Seals and opens secrets with one key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<key>)")
    }
}

impl SecretBox {
    /// A box from raw key bytes.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)),
        }
    }

    /// The configured key, or the one in `<data_dir>/secret.key` (created when missing).
    pub fn load(configured: &str, data_dir: &Path) -> Result<Self, SecretError> {
        if !configured.trim().is_empty() {
            return decode_key(configured.trim()).map(|k| Self::new(&k));
        }
        let path = data_dir.join("secret.key");
        match std::fs::read_to_string(&path) {
            Ok(text) => decode_key(text.trim()).map(|k| Self::new(&k)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = rand::random();
                std::fs::create_dir_all(data_dir)?;
                write_private(&path, &STANDARD.encode(key))?;
                tracing::info!(path = %path.display(), "generated the secret key; back it up with the database");
                Ok(Self::new(&key))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Seals a secret.
    pub fn seal(&self, plain: &str) -> String {
        let nonce: [u8; NONCE_LEN] = rand::random();
        // Encryption with a valid key and nonce cannot fail for inputs this small.
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    /// Opens a sealed secret.
    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        let body = sealed.strip_prefix(PREFIX).ok_or(SecretError::Open)?;
        let bytes = STANDARD.decode(body).map_err(|_| SecretError::Open)?;
        if bytes.len() <= NONCE_LEN {
            return Err(SecretError::Open);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| SecretError::Open)?;
        String::from_utf8(plain).map_err(|_| SecretError::Open)
    }
}

fn decode_key(text: &str) -> Result<[u8; 32], SecretError> {
    STANDARD
        .decode(text)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or(SecretError::BadKey)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_opens_and_refuses_the_wrong_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let a = SecretBox::load("", dir.path()).expect("generated");
        let sealed = a.seal("sk-live-123");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("sk-live"));
        assert_ne!(sealed, a.seal("sk-live-123"), "a fresh nonce every time");
        // The same folder gives the same key back.
        let again = SecretBox::load("", dir.path()).expect("reloaded");
        assert_eq!(again.open(&sealed).expect("opens"), "sk-live-123");
        let other = SecretBox::new(&[7; 32]);
        assert!(matches!(other.open(&sealed), Err(SecretError::Open)));
        assert!(matches!(
            SecretBox::load("not base64", dir.path()),
            Err(SecretError::BadKey)
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secret.key"))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
