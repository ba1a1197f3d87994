//! Password hashing (Argon2id, OWASP parameters: m = 19456 KiB, t = 2, p = 1) off the async
//! runtime, behind a semaphore sized to the cores so a login storm cannot starve other routes.

use std::sync::Arc;

use argon2::password_hash::PasswordVerifier;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version};
use shared::AppError;
use tokio::sync::Semaphore;

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Hashes and verifies passwords.
pub struct PasswordHasher {
    argon: Argon2<'static>,
    permits: Arc<Semaphore>,
    /// Verified against when the account does not exist, so both failures cost the same.
    dummy_hash: String,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PasswordHasher(permits: {})",
            self.permits.available_permits()
        )
    }
}

impl PasswordHasher {
    /// # Errors
    /// The parameters are rejected (never with the constants used here).
    pub fn new() -> Result<Self, argon2::Error> {
        let params = Params::new(19_456, 2, 1, None)?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let dummy_hash = argon
            .hash_password(shared::crypto::random_token(24).as_bytes())
            .map_err(|_| argon2::Error::AlgorithmInvalid)?
            .to_string();
        Ok(Self {
            argon,
            permits: Arc::new(Semaphore::new(cores)),
            dummy_hash,
        })
    }

    /// Hash a password (PHC string).
    ///
    /// # Errors
    /// A 500 if the blocking pool is gone or hashing fails.
    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        let argon = self.argon.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            argon
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
        })
        .await
        .map_err(AppError::internal)?
        .map_err(|e| AppError::internal(std::io::Error::other(e.to_string())))
    }

    /// Does `password` match `hash`? With no hash (unknown account) a dummy hash is checked,
    /// so the answer takes the same time, and is always `false`.
    ///
    /// # Errors
    /// A 500 if the blocking pool is gone.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, AppError> {
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        let argon = self.argon.clone();
        let password = password.to_owned();
        let known = hash.is_some();
        let hash = hash.unwrap_or(&self.dummy_hash).to_owned();
        let ok = tokio::task::spawn_blocking(move || {
            argon
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok()
        })
        .await
        .map_err(AppError::internal)?;
        Ok(known && ok)
    }
}

/// Passwords people pick first; refused whatever their length.
const COMMON: &[&str] = &[
    "password1234",
    "123456789012",
    "qwertyuiopas",
    "azertyuiopqs",
    "motdepasse12",
    "passwordpassword",
    "iloveyou1234",
    "administrator",
    "welcome12345",
    "changeme1234",
    "letmein12345",
    "000000000000",
    "111111111111",
    "abcdefghijkl",
    "presta123456",
];

/// The password rules (NIST 800-63B style: length, no known-common passwords, not the e-mail).
///
/// # Errors
/// A message for the password field.
pub fn check_policy(password: &str, email: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "must have at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!("must have at most {MAX_PASSWORD_CHARS} characters"));
    }
    let lowered = password.to_lowercase();
    if COMMON.contains(&lowered.as_str()) {
        return Err("is too common".to_owned());
    }
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    if local.len() >= 4 && lowered.contains(&local) {
        return Err("must not contain your e-mail address".to_owned());
    }
    let distinct: std::collections::HashSet<char> = password.chars().collect();
    if distinct.len() < 5 {
        return Err("is too repetitive".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let hasher = PasswordHasher::new().unwrap();
        let hash = hasher.hash("Correct-Horse-Battery-9").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            hasher
                .verify("Correct-Horse-Battery-9", Some(&hash))
                .await
                .unwrap()
        );
        assert!(!hasher.verify("wrong", Some(&hash)).await.unwrap());
        assert!(
            !hasher
                .verify("Correct-Horse-Battery-9", None)
                .await
                .unwrap()
        );
    }

    #[test]
    fn the_policy_names_what_is_wrong() {
        assert!(check_policy("short", "a@b.fr").is_err());
        assert!(check_policy(&"x".repeat(129), "a@b.fr").is_err());
        assert!(check_policy("Password1234", "a@b.fr").is_err());
        assert!(check_policy("aaaaaaaaaaaaaa", "a@b.fr").is_err());
        assert!(check_policy("jean.dupont-2026!", "jean.dupont@b.fr").is_err());
        assert!(check_policy("Correct-Horse-Battery-9", "jean@b.fr").is_ok());
    }
}
