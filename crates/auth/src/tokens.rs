//! Access tokens (JWT, HS256, 15 minutes) and the opaque tokens' formats.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use entity::Role;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const ISSUER: &str = "presta";
pub const AUDIENCE: &str = "presta-api";
/// Lifetime of an access token.
pub const ACCESS_TTL: Duration = Duration::minutes(15);
/// Lifetime of one refresh token (each use rotates it).
pub const REFRESH_TTL: Duration = Duration::days(14);
/// Absolute lifetime of a session, whatever the refreshes.
pub const SESSION_TTL: Duration = Duration::days(30);
/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECONDS: u64 = LEEWAY.unsigned_abs();
/// [`LEEWAY_SECONDS`] as a timestamp difference.
const LEEWAY: i64 = 5;
/// Personal access tokens start with this.
pub const PAT_PREFIX: &str = "presta_pat_";
/// How many verified access tokens [`TokenIssuer`] keeps (about 200 bytes each).
pub const VERIFIED_KEPT: usize = 4096;

/// What an access token says. Every field is required: a token missing one is refused.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    pub sub: Uuid,
    pub role: Role,
    /// The session (refresh-token family) the token belongs to.
    pub sid: Uuid,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: Uuid,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is invalid")]
    Invalid,
}

/// Signs and checks access tokens with `JWT_SECRET`.
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    verified: Verified,
}

/// The claims of the access tokens whose signature, algorithm, issuer, audience and claims
/// [`TokenIssuer::verify`] checked, by the SHA-256 of the token's text: a client sends the same
/// token with each request for its 15 minutes, and checking it again (two base64 decodings,
/// two JSON parsings and an HMAC) was a twelfth of the ticket detail's CPU (bench/RESULTS.md
/// item 41). A token differing by one character has another digest and is checked in full;
/// only what passed is kept, so a flood of bad tokens keeps nothing. The times (`exp`, `nbf`,
/// `iat`) are checked again at each use; revocation is the account check's, after this.
#[derive(Default)]
struct Verified(Mutex<HashMap<[u8; 32], Claims>>);

impl Verified {
    fn get(&self, digest: &[u8; 32]) -> Option<Claims> {
        self.0.lock().ok()?.get(digest).cloned()
    }

    /// Keep `claims` under `digest`; when [`VERIFIED_KEPT`] are kept, those expired at `now`
    /// go, and if none has, an eighth of them (any: each is checked in full again if it comes
    /// back).
    fn keep(&self, digest: [u8; 32], claims: &Claims, now: i64) {
        let Ok(mut kept) = self.0.lock() else {
            return;
        };
        if kept.len() >= VERIFIED_KEPT {
            kept.retain(|_, kept| !expired(kept, now));
        }
        if kept.len() >= VERIFIED_KEPT {
            let gone: Vec<[u8; 32]> = kept.keys().take(VERIFIED_KEPT / 8).copied().collect();
            for digest in &gone {
                kept.remove(digest);
            }
        }
        kept.insert(digest, claims.clone());
    }

    fn len(&self) -> usize {
        self.0.lock().map_or(0, |kept| kept.len())
    }
}

/// Past `exp` by more than the leeway at `now` (as `jsonwebtoken` checks it).
fn expired(claims: &Claims, now: i64) -> bool {
    claims.exp < now - LEEWAY
}

/// `exp`, `nbf` and `iat` at `now`, with the leeway.
fn check_times(claims: Claims, now: i64) -> Result<Claims, TokenError> {
    if expired(&claims, now) {
        return Err(TokenError::Expired);
    }
    if claims.nbf > now + LEEWAY || claims.iat > now + LEEWAY || claims.iat > claims.exp {
        return Err(TokenError::Invalid);
    }
    Ok(claims)
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenIssuer([keys redacted])")
    }
}

/// A freshly signed access token.
#[derive(Clone)]
pub struct AccessToken {
    pub token: String,
    pub claims: Claims,
}

impl TokenIssuer {
    #[must_use]
    pub fn new(secret: &[u8]) -> Self {
        // HS256 only: a token claiming another algorithm (`none`, RS256 with our secret as a
        // "public key") is refused before any signature check.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            verified: Verified::default(),
        }
    }

    /// Sign an access token for a session.
    ///
    /// # Errors
    /// Signing failed (a broken key).
    pub fn issue(
        &self,
        user_id: Uuid,
        role: Role,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<AccessToken, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: user_id,
            role,
            sid: session_id,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            exp: (now + ACCESS_TTL).timestamp(),
            nbf: now.timestamp(),
            iat: now.timestamp(),
            jti: Uuid::now_v7(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok(AccessToken { token, claims })
    }

    /// Check signature, algorithm, `exp`, `nbf`, `iss`, `aud`, and that `iat` is not in the
    /// future. A token that passed once is not decoded again: its times are checked at `now`.
    ///
    /// # Errors
    /// [`TokenError::Expired`] or [`TokenError::Invalid`].
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, TokenError> {
        let now = now.timestamp();
        let digest = shared::crypto::sha256(token.as_bytes());
        if let Some(claims) = self.verified.get(&digest) {
            return check_times(claims, now);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        let claims = check_times(data.claims, now)?;
        self.verified.keep(digest, &claims, now);
        Ok(claims)
    }

    /// How many verified tokens are kept (at most [`VERIFIED_KEPT`]).
    #[must_use]
    pub fn verified_kept(&self) -> usize {
        self.verified.len()
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

    fn issuer() -> TokenIssuer {
        TokenIssuer::new(SECRET)
    }

    fn sign(claims: &serde_json::Value, alg: Algorithm, secret: &[u8]) -> String {
        jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    fn valid_claims(now: DateTime<Utc>) -> serde_json::Value {
        json!({
            "sub": Uuid::now_v7(), "role": "client", "sid": Uuid::now_v7(),
            "iss": ISSUER, "aud": AUDIENCE,
            "exp": (now + ACCESS_TTL).timestamp(), "nbf": now.timestamp(),
            "iat": now.timestamp(), "jti": Uuid::now_v7(),
        })
    }

    #[test]
    fn a_token_we_issued_verifies() {
        let now = Utc::now();
        let issued = issuer()
            .issue(Uuid::now_v7(), Role::Client, Uuid::now_v7(), now)
            .unwrap();
        assert_eq!(issuer().verify(&issued.token, now).unwrap(), issued.claims);
        assert_eq!(issued.claims.exp - issued.claims.iat, 15 * 60);
    }

    #[test]
    fn forged_or_stale_tokens_are_refused() {
        let now = Utc::now();
        let good = valid_claims(now);
        assert!(
            issuer()
                .verify(&sign(&good, Algorithm::HS256, SECRET), now)
                .is_ok()
        );

        let wrong_key = sign(
            &good,
            Algorithm::HS256,
            b"another-secret-another-secret-123",
        );
        assert_eq!(issuer().verify(&wrong_key, now), Err(TokenError::Invalid));

        let other_alg = sign(&good, Algorithm::HS512, SECRET);
        assert_eq!(issuer().verify(&other_alg, now), Err(TokenError::Invalid));

        let mut expired = good.clone();
        expired["exp"] = json!((now - Duration::minutes(1)).timestamp());
        expired["iat"] = json!((now - Duration::minutes(16)).timestamp());
        expired["nbf"] = expired["iat"].clone();
        assert_eq!(
            issuer().verify(&sign(&expired, Algorithm::HS256, SECRET), now),
            Err(TokenError::Expired)
        );

        for (field, value) in [
            ("aud", json!("someone-else")),
            ("iss", json!("evil")),
            ("exp", json!((now + ACCESS_TTL).timestamp().to_string())),
            ("nbf", json!((now + Duration::minutes(5)).timestamp())),
            ("iat", json!((now + Duration::minutes(5)).timestamp())),
            ("role", json!("god")),
        ] {
            let mut claims = good.clone();
            claims[field] = value;
            assert_eq!(
                issuer().verify(&sign(&claims, Algorithm::HS256, SECRET), now),
                Err(TokenError::Invalid),
                "{field}"
            );
        }
        for missing in ["exp", "nbf", "iat", "jti", "sid", "aud", "iss", "sub"] {
            let mut claims = good.clone();
            claims.as_object_mut().unwrap().remove(missing);
            assert!(
                issuer()
                    .verify(&sign(&claims, Algorithm::HS256, SECRET), now)
                    .is_err(),
                "{missing}"
            );
        }

        // alg "none" with no signature.
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(good.to_string());
        assert_eq!(
            issuer().verify(&format!("{header}.{body}."), now),
            Err(TokenError::Invalid)
        );
    }

    /// A kept token is not decoded again, but its times still count at each use, and a token
    /// that differs from a kept one by its signature alone is checked in full.
    #[test]
    fn a_verified_token_is_kept_and_its_times_checked_at_each_use() {
        let now = Utc::now();
        let issuer = issuer();
        let issued = issuer
            .issue(Uuid::now_v7(), Role::Client, Uuid::now_v7(), now)
            .unwrap();
        assert_eq!(issuer.verified_kept(), 0);
        assert_eq!(issuer.verify(&issued.token, now).unwrap(), issued.claims);
        assert_eq!(issuer.verified_kept(), 1);
        assert_eq!(issuer.verify(&issued.token, now).unwrap(), issued.claims);
        assert_eq!(issuer.verified_kept(), 1);

        let later = now + ACCESS_TTL + Duration::seconds(6);
        assert_eq!(
            issuer.verify(&issued.token, later),
            Err(TokenError::Expired)
        );
        let within_leeway = now + ACCESS_TTL + Duration::seconds(5);
        assert!(issuer.verify(&issued.token, within_leeway).is_ok());
        let before_issue = now - Duration::seconds(6);
        assert_eq!(
            issuer.verify(&issued.token, before_issue),
            Err(TokenError::Invalid)
        );

        let (signed, signature) = issued.token.rsplit_once('.').unwrap();
        let mut forged = signature.as_bytes().to_vec();
        forged[0] = if forged[0] == b'A' { b'B' } else { b'A' };
        let forged = format!("{signed}.{}", String::from_utf8(forged).unwrap());
        assert_eq!(issuer.verify(&forged, now), Err(TokenError::Invalid));
        // What one issuer keeps is its own: another secret refuses the token.
        assert_eq!(
            TokenIssuer::new(b"another-secret-another-secret-123").verify(&issued.token, now),
            Err(TokenError::Invalid)
        );
        assert_eq!(issuer.verified_kept(), 1);
    }

    /// However many tokens pass, at most [`VERIFIED_KEPT`] are kept, and each still verifies.
    #[test]
    fn verified_tokens_kept_are_bounded() {
        let now = Utc::now();
        let issuer = issuer();
        let tokens: Vec<AccessToken> = (0..VERIFIED_KEPT + VERIFIED_KEPT / 4)
            .map(|_| {
                issuer
                    .issue(Uuid::now_v7(), Role::Client, Uuid::now_v7(), now)
                    .unwrap()
            })
            .collect();
        for issued in &tokens {
            assert_eq!(issuer.verify(&issued.token, now).unwrap(), issued.claims);
            assert!(issuer.verified_kept() <= VERIFIED_KEPT);
        }
        assert!(issuer.verified_kept() > VERIFIED_KEPT / 2);
        for issued in &tokens {
            assert_eq!(issuer.verify(&issued.token, now).unwrap(), issued.claims);
        }
    }
}
