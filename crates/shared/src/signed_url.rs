//! Signed, expiring download links (`…?expires=<unix>&signature=<hex>`).
//!
//! A link is a capability: whoever holds it may download that one object until it expires, with
//! no bearer token (a browser `<img src>` or a plain download works). Links are only minted for a
//! caller allowed to see the object, and they name the object, not a storage path. The key is
//! derived from `JWT_SECRET`, so links die when the secret rotates.

use aws_lc_rs::hmac;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::config::Config;
use crate::crypto::constant_time_eq;
use crate::error::AppError;

/// Signs and checks links.
#[derive(Clone)]
pub struct UrlSigner {
    key: hmac::Key,
    public_url: String,
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UrlSigner")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// `?expires=&signature=` of a signed link.
#[derive(Debug, Clone, Deserialize, IntoParams, validator::Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SignedQuery {
    /// Unix time (seconds) after which the link no longer works.
    pub expires: i64,
    /// Hex HMAC-SHA256 of the path and `expires`.
    #[param(min_length = 64, max_length = 64)]
    #[validate(length(min = 64, max = 64))]
    pub signature: String,
}

impl UrlSigner {
    #[must_use]
    pub fn from_config(config: &Config) -> Self {
        Self::new(
            config.jwt_secret.expose_secret().as_bytes(),
            &config.public_url,
        )
    }

    #[must_use]
    pub fn new(secret: &[u8], public_url: &str) -> Self {
        // A key of its own, derived from the token secret, so a link signature can never be
        // confused with a token signature.
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let derived = hmac::sign(&root, b"presta signed download links v1");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    fn signature(&self, path: &str, expires: i64) -> String {
        let message = format!("{path}\n{expires}");
        hex::encode(hmac::sign(&self.key, message.as_bytes()).as_ref())
    }

    /// An absolute link to `path` (which starts with `/`) valid until `expires_at`.
    #[must_use]
    pub fn sign(&self, path: &str, expires_at: DateTime<Utc>) -> String {
        let expires = expires_at.timestamp();
        format!(
            "{}{path}?expires={expires}&signature={}",
            self.public_url,
            self.signature(path, expires)
        )
    }

    /// Check a link to `path` at `now`.
    ///
    /// # Errors
    /// 404 for a wrong signature (as far as the caller can tell, no such link exists) and for an
    /// expired link (with a message saying so).
    pub fn verify(
        &self,
        path: &str,
        query: &SignedQuery,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let expected = self.signature(path, query.expires);
        if !constant_time_eq(expected.as_bytes(), query.signature.as_bytes()) {
            return Err(AppError::not_found("No such download link"));
        }
        if now.timestamp() > query.expires {
            return Err(AppError::not_found(
                "This download link has expired; ask for a new one",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn query_of(url: &str) -> SignedQuery {
        let query = url.split_once('?').unwrap().1;
        serde_urlencoded::from_str(query).unwrap()
    }

    #[test]
    fn a_signed_link_verifies_until_it_expires() {
        let signer = UrlSigner::new(b"0123456789abcdef0123456789abcdef", "https://x.test/");
        let now = Utc::now();
        let url = signer.sign("/files/a", now + Duration::minutes(5));
        assert!(url.starts_with("https://x.test/files/a?expires="));
        let query = query_of(&url);
        signer.verify("/files/a", &query, now).unwrap();
        assert!(signer.verify("/files/b", &query, now).is_err());
        assert!(
            signer
                .verify("/files/a", &query, now + Duration::minutes(6))
                .is_err()
        );
        let mut longer = query.clone();
        longer.expires += 3600;
        assert!(signer.verify("/files/a", &longer, now).is_err());
        let other = UrlSigner::new(b"another-secret-0123456789abcdef!", "https://x.test");
        assert!(other.verify("/files/a", &query, now).is_err());
    }
}
