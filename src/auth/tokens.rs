//! Access tokens (JWT) and refresh tokens (opaque).
//!
//! An access token is short-lived and carries `kid` in its header so that keys can rotate: the
//! current key signs, retired keys still verify until their tokens expire. Only the configured
//! algorithm is accepted (never `none`), and `exp`, `iat`, `iss`, `aud` and `sub` are required
//! and checked; expiry against the service's clock, not the machine's. A refresh token is 256 random bits; only its SHA-256 digest is stored.

use std::collections::HashMap;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::config::AuthSettings;

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// The session (refresh-token family) the token was issued under.
    pub sid: String,
}

/// Why a presented access token was refused. Logged, never sent: the client only learns that
/// the token is not valid.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token or header: {0}")]
    Malformed(String),
    #[error("algorithm {0:?} is not the configured one")]
    WrongAlgorithm(Algorithm),
    #[error("unknown key id {0:?}")]
    UnknownKey(Option<String>),
    #[error("invalid token: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    #[error("expired at {0}")]
    Expired(i64),
}

pub struct TokenKeys {
    algorithm: Algorithm,
    signing_kid: String,
    signing_key: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    validation: Validation,
    issuer: String,
    audience: String,
    access_ttl_secs: i64,
    /// Key of the console's cookies and form tokens, derived from the signing secret: a cookie
    /// sealed by one instance opens on every instance sharing the secret.
    console_key: [u8; 64],
    /// Whether the signing secret was generated at start (tokens die with the process).
    pub ephemeral: bool,
}

const MIN_SECRET_BYTES: usize = 32;
/// Seconds past `exp` that a token is still accepted.
pub const LEEWAY_SECS: i64 = 30;

impl TokenKeys {
    pub fn from_settings(settings: &AuthSettings) -> anyhow::Result<Self> {
        let algorithm = match settings.algorithm.as_str() {
            "HS256" => Algorithm::HS256,
            "HS384" => Algorithm::HS384,
            "HS512" => Algorithm::HS512,
            other => anyhow::bail!("auth.algorithm must be HS256, HS384 or HS512, not {other:?}"),
        };
        let (secret, ephemeral) = match &settings.jwt_secret {
            Some(secret) => (secret.expose_secret().as_bytes().to_vec(), false),
            None => {
                let mut bytes = vec![0u8; 32];
                rand::rng().fill_bytes(&mut bytes);
                (bytes, true)
            }
        };
        anyhow::ensure!(
            secret.len() >= MIN_SECRET_BYTES,
            "auth.jwt_secret must be at least {MIN_SECRET_BYTES} bytes"
        );
        let kid = settings.jwt_key_id.trim().to_owned();
        anyhow::ensure!(!kid.is_empty(), "auth.jwt_key_id must not be empty");
        let mut verifying = HashMap::from([(kid.clone(), DecodingKey::from_secret(&secret))]);
        for (retired_kid, retired_secret) in parse_retired(settings.jwt_retired_keys.as_ref())? {
            anyhow::ensure!(
                retired_kid != kid,
                "retired key id {retired_kid:?} is also the signing key id"
            );
            verifying.insert(
                retired_kid,
                DecodingKey::from_secret(retired_secret.as_bytes()),
            );
        }
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        // Expiry is checked in `verify` against the service's clock: the library would read the
        // machine's.
        validation.validate_exp = false;
        Ok(Self {
            algorithm,
            signing_kid: kid,
            signing_key: EncodingKey::from_secret(&secret),
            verifying,
            validation,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            access_ttl_secs: i64::try_from(settings.access_token_ttl_secs).unwrap_or(900),
            console_key: console_key(&secret)?,
            ephemeral,
        })
    }

    /// Signs an access token for `user_id` in `session_id`; returns it with its expiry.
    pub fn issue(
        &self,
        user_id: &str,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        let exp = now + chrono::Duration::seconds(self.access_ttl_secs);
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_owned(),
            iat: now.timestamp(),
            exp: exp.timestamp(),
            sid: session_id.to_owned(),
        };
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.signing_kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.signing_key)
            .context("signing an access token")?;
        Ok((token, exp))
    }

    /// Checks a token's signature and claims, and that it has not expired at `now` (with
    /// [`LEEWAY_SECS`] for clocks a little apart between instances).
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, TokenError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
        if header.alg != self.algorithm {
            return Err(TokenError::WrongAlgorithm(header.alg));
        }
        let key = header
            .kid
            .as_ref()
            .and_then(|kid| self.verifying.get(kid))
            .ok_or_else(|| TokenError::UnknownKey(header.kid.clone()))?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.validation)?.claims;
        if claims.exp.saturating_add(LEEWAY_SECS) <= now.timestamp() {
            return Err(TokenError::Expired(claims.exp));
        }
        Ok(claims)
    }
}

impl TokenKeys {
    /// A seal over `message` for `purpose` (the console's session cookie, its form tokens):
    /// URL-safe, unforgeable without the signing secret, different for each purpose.
    pub fn seal(&self, purpose: &str, message: &str) -> String {
        URL_SAFE_NO_PAD.encode(mac(
            &self.console_key,
            format!("{purpose}\u{0}{message}").as_bytes(),
        ))
    }

    /// Whether `seal` is the seal of `message` for `purpose` (compared in constant time).
    pub fn opens(&self, purpose: &str, message: &str, seal: &str) -> bool {
        use subtle::ConstantTimeEq;
        let expected = self.seal(purpose, message);
        expected.as_bytes().ct_eq(seal.as_bytes()).into()
    }
}

/// HMAC-SHA256 under the console key: a key shorter than SHA-256's 64-byte block is padded with
/// zeros by HMAC itself, so the padded array is the same key.
fn mac(key: &[u8; 64], message: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut m = <Hmac<sha2::Sha256> as Mac>::new(key.into());
    m.update(message);
    m.finalize().into_bytes().into()
}

fn console_key(secret: &[u8]) -> anyhow::Result<[u8; 64]> {
    use hmac::{Hmac, Mac};
    let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret)
        .map_err(|e| anyhow::anyhow!("deriving the console key: {e}"))?;
    m.update(b"wastetrack console v1");
    let mut key = [0u8; 64];
    key[..32].copy_from_slice(&m.finalize().into_bytes());
    Ok(key)
}

fn parse_retired(raw: Option<&SecretString>) -> anyhow::Result<Vec<(String, String)>> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.expose_secret()
        .split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (kid, secret) = pair
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("auth.jwt_retired_keys entries must be kid=secret"))?;
            anyhow::ensure!(
                !kid.trim().is_empty() && secret.len() >= MIN_SECRET_BYTES,
                "auth.jwt_retired_keys: each entry needs a key id and a secret of at least {MIN_SECRET_BYTES} bytes"
            );
            Ok((kid.trim().to_owned(), secret.to_owned()))
        })
        .collect()
}

/// A new opaque refresh token.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The digest under which a refresh token is stored and looked up.
pub fn digest(token: &str) -> String {
    crate::domain::digest::sha256_hex(token.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(secret: &str) -> AuthSettings {
        AuthSettings {
            jwt_secret: Some(SecretString::from(secret)),
            ..AuthSettings::default()
        }
    }

    #[test]
    fn tokens_round_trip_and_rotate() -> anyhow::Result<()> {
        let old = TokenKeys::from_settings(&AuthSettings {
            jwt_key_id: "old".into(),
            ..settings(&"a".repeat(32))
        })?;
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T02:00:00Z")?.to_utc();
        let (token, exp) = old.issue("usr_1", "ses_1", now)?;
        assert_eq!(
            old.verify(&token, now).map(|c| c.sub).ok().as_deref(),
            Some("usr_1")
        );
        let late = exp + chrono::Duration::seconds(LEEWAY_SECS);
        assert!(
            old.verify(&token, late - chrono::Duration::seconds(1))
                .is_ok()
        );
        assert!(matches!(
            old.verify(&token, late),
            Err(TokenError::Expired(_))
        ));

        let new = TokenKeys::from_settings(&AuthSettings {
            jwt_key_id: "new".into(),
            jwt_retired_keys: Some(SecretString::from(format!("old={}", "a".repeat(32)))),
            ..settings(&"b".repeat(32))
        })?;
        assert!(
            new.verify(&token, now).is_ok(),
            "a retired key still verifies"
        );
        let without_old = TokenKeys::from_settings(&AuthSettings {
            jwt_key_id: "new".into(),
            ..settings(&"b".repeat(32))
        })?;
        assert!(matches!(
            without_old.verify(&token, now),
            Err(TokenError::UnknownKey(_))
        ));
        Ok(())
    }

    #[test]
    fn short_secrets_and_other_algorithms_are_refused() {
        assert!(TokenKeys::from_settings(&settings("short")).is_err());
        assert!(
            TokenKeys::from_settings(&AuthSettings {
                algorithm: "none".into(),
                ..settings(&"a".repeat(32))
            })
            .is_err()
        );
    }

    #[test]
    fn digests_are_stable_hex() {
        assert_eq!(digest("abc").len(), 64);
        assert_eq!(digest("abc"), digest("abc"));
        assert_ne!(new_refresh_token(), new_refresh_token());
    }
}
