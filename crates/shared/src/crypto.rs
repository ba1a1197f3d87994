//! Small cryptographic helpers: random opaque tokens, their hashes, and authenticated
//! encryption of secrets stored in the database (AES-256-GCM from aws-lc-rs, already the TLS
//! provider of this binary, with the `ENCRYPTION_KEY`).

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::config::EncryptionKey;

/// Format byte of the stored ciphertext, so the scheme can change later.
const VERSION: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the encryption key was refused")]
    Key,
    #[error("encryption failed")]
    Seal,
    #[error("the stored secret cannot be decrypted (wrong key, or tampered with)")]
    Open,
}

/// `n` random bytes from the operating system's CSPRNG, URL-safe base64 without padding.
#[must_use]
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::fill(bytes.as_mut_slice());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Lower-case hex SHA-256 (for high-entropy tokens, which need no slow hash).
#[must_use]
pub fn token_hash(token: &str) -> String {
    hex::encode(sha256(token.as_bytes()))
}

/// The SHA-256 of `bytes`.
#[must_use]
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Equal without revealing, through timing, where two secrets differ.
#[must_use]
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn key(key: &EncryptionKey) -> Result<LessSafeKey, CryptoError> {
    UnboundKey::new(&AES_256_GCM, key.bytes())
        .map(LessSafeKey::new)
        .map_err(|_| CryptoError::Key)
}

/// Encrypt `plaintext`, bound to `context` (say `users.totp_secret:<user id>`) so a ciphertext
/// copied to another row or column does not decrypt there.
///
/// # Errors
/// The key is unusable or sealing failed.
pub fn encrypt(
    encryption_key: &EncryptionKey,
    plaintext: &[u8],
    context: &str,
) -> Result<Vec<u8>, CryptoError> {
    let key = key(encryption_key)?;
    let mut nonce = [0u8; NONCE_LEN];
    rand::fill(&mut nonce);
    let mut sealed = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(context.as_bytes()),
        &mut sealed,
    )
    .map_err(|_| CryptoError::Seal)?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
    out.push(VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypt what [`encrypt`] produced with the same key and context.
///
/// # Errors
/// Wrong key, wrong context, or tampered bytes.
pub fn decrypt(
    encryption_key: &EncryptionKey,
    stored: &[u8],
    context: &str,
) -> Result<Vec<u8>, CryptoError> {
    let key = key(encryption_key)?;
    let (&version, rest) = stored.split_first().ok_or(CryptoError::Open)?;
    if version != VERSION || rest.len() < NONCE_LEN {
        return Err(CryptoError::Open);
    }
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Open)?;
    let mut buffer = sealed.to_vec();
    let plain = key
        .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buffer)
        .map_err(|_| CryptoError::Open)?;
    Ok(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_key(byte: u8) -> EncryptionKey {
        EncryptionKey::from_bytes([byte; 32])
    }

    #[test]
    fn secrets_round_trip_and_are_bound_to_their_context() {
        let k = test_key(7);
        let sealed = encrypt(&k, b"JBSWY3DPEHPK3PXP", "users.totp_secret:1").unwrap();
        assert_ne!(&sealed[1 + NONCE_LEN..], b"JBSWY3DPEHPK3PXP");
        assert_eq!(
            decrypt(&k, &sealed, "users.totp_secret:1").unwrap(),
            b"JBSWY3DPEHPK3PXP"
        );
        assert!(decrypt(&k, &sealed, "users.totp_secret:2").is_err());
        assert!(decrypt(&test_key(8), &sealed, "users.totp_secret:1").is_err());
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(decrypt(&k, &tampered, "users.totp_secret:1").is_err());
        // Two encryptions of one secret differ (fresh nonce).
        assert_ne!(
            sealed,
            encrypt(&k, b"JBSWY3DPEHPK3PXP", "users.totp_secret:1").unwrap()
        );
    }

    #[test]
    fn tokens_are_long_random_and_hashed_stably() {
        let a = random_token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token(32));
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_eq!(token_hash(&a).len(), 64);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
