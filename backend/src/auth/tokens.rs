//! Access tokens (HS256 JWT, algorithm pinned, short-lived) and opaque refresh tokens
//! (random, stored only as a SHA-256 hash).

use crate::config::Config;
use crate::error::{AppError, AppResult};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use relay_protocol::users::Role;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const ISSUER: &str = "relay-desk";
pub const AUDIENCE: &str = "relay-desk-api";
pub const ACCESS_TYPE: &str = "access";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub role: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub iss: String,
    pub aud: String,
    /// Token type: always `access`; refresh tokens are not JWTs at all.
    pub typ: String,
    /// The user's `token_version` when issued; a bump revokes the token.
    pub ver: i32,
}

impl AccessClaims {
    pub fn user_id(&self) -> AppResult<i64> {
        self.sub.parse().map_err(|_| AppError::invalid_token())
    }
}

pub fn issue_access(config: &Config, user_id: i64, role: Role, version: i32) -> AppResult<String> {
    let now = chrono::Utc::now().timestamp();
    let claims = AccessClaims {
        sub: user_id.to_string(),
        role: role.as_str().to_owned(),
        exp: now + config.access_token_ttl,
        iat: now,
        jti: uuid::Uuid::new_v4().to_string(),
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        typ: ACCESS_TYPE.into(),
        ver: version,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&config.jwt_secret),
    )
    .map_err(|e| AppError::internal(format!("jwt encode: {e}")))
}

/// Verifies signature (HS256 only), expiry, issuer, audience and type.
pub fn verify_access(config: &Config, token: &str) -> AppResult<AccessClaims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
    validation.leeway = 5;
    let data = jsonwebtoken::decode::<AccessClaims>(
        token,
        &DecodingKey::from_secret(&config.jwt_secret),
        &validation,
    )
    .map_err(|_| AppError::invalid_token())?;
    if data.claims.typ != ACCESS_TYPE {
        return Err(AppError::invalid_token());
    }
    Ok(data.claims)
}

/// A new opaque refresh token: 256 random bits, URL-safe.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored for a refresh token: its SHA-256, hex. A fast hash is right here:
/// the token is 256 random bits, not a guessable password.
pub fn hash_refresh_token(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::from_lookup(|k| match k {
            "DATABASE_URL" => Some("postgres://unused".into()),
            "JWT_SECRET" => Some("0123456789abcdef0123456789abcdef".into()),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn roundtrip() {
        let c = config();
        let t = issue_access(&c, 7, Role::Technician, 3).unwrap();
        let claims = verify_access(&c, &t).unwrap();
        assert_eq!(claims.user_id().unwrap(), 7);
        assert_eq!(claims.role, "technician");
        assert_eq!(claims.ver, 3);
        assert!(claims.exp - claims.iat <= 900);
    }

    #[test]
    fn alg_none_and_tampering_refused() {
        let c = config();
        let t = issue_access(&c, 7, Role::Customer, 0).unwrap();
        let parts: Vec<&str> = t.split('.').collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        // alg: none with the same payload and no signature.
        let none_header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(verify_access(&c, &format!("{none_header}.{}.", parts[1])).is_err());
        // Payload changed to admin, old signature kept.
        let payload = String::from_utf8(b64.decode(parts[1]).unwrap()).unwrap();
        let forged = b64.encode(payload.replace("customer", "admin"));
        assert!(verify_access(&c, &format!("{}.{forged}.{}", parts[0], parts[2])).is_err());
        // Signed with another key.
        let mut other = c.clone();
        other.jwt_secret = b"another-secret-another-secret-another".to_vec();
        let t2 = issue_access(&other, 7, Role::Customer, 0).unwrap();
        assert!(verify_access(&c, &t2).is_err());
    }

    #[test]
    fn expired_refused() {
        let c = config();
        let now = chrono::Utc::now().timestamp();
        let claims = AccessClaims {
            sub: "1".into(),
            role: "admin".into(),
            exp: now - 60,
            iat: now - 120,
            jti: "x".into(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            typ: ACCESS_TYPE.into(),
            ver: 0,
        };
        let t = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&c.jwt_secret),
        )
        .unwrap();
        assert!(verify_access(&c, &t).is_err());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = new_refresh_token();
        let b = new_refresh_token();
        assert_ne!(a, b);
        assert!(a.len() >= 43);
        assert_eq!(hash_refresh_token(&a).len(), 64);
        assert_ne!(hash_refresh_token(&a), a);
    }
}
