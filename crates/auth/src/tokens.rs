//! Access tokens (JWT, HS256, 15 minutes) and the opaque tokens' formats.

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
pub const LEEWAY_SECONDS: u64 = 5;
/// Personal access tokens start with this.
pub const PAT_PREFIX: &str = "presta_pat_";

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
    /// future.
    ///
    /// # Errors
    /// [`TokenError::Expired`] or [`TokenError::Invalid`].
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        let claims = data.claims;
        let skew = i64::try_from(LEEWAY_SECONDS).unwrap_or(0);
        if claims.iat > now.timestamp() + skew || claims.iat > claims.exp {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
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
}
