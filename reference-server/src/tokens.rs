//! Tokens: Appmixer's HS256 JWTs (`id`, `scope`, `iat`, `exp`) and Creditsafe's RS256 JWTs with a `kid`,
//! whose public key is published as a JWK set. Times come from the server's clock, never the system's.

use std::collections::HashSet;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("could not generate the Creditsafe signing key")]
    Generate,
    #[error(
        "the Creditsafe signing key is not a PKCS#8 PEM RSA private key (2048 to 8192 bits): {0}"
    )]
    Invalid(String),
    #[error("could not sign a token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// Why a token was refused (all answered 401; the reason is for logs and tests).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TokenRejection {
    #[error("the token is malformed or its signature does not verify")]
    Invalid,
    #[error("the token has expired")]
    Expired,
}

/// Checks a verifier may skip (only ever under a deliberate fault).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Lenience {
    pub(crate) accept_expired: bool,
    pub(crate) accept_unsigned: bool,
}

/// The claims of an Appmixer access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AppmixerClaims {
    pub(crate) id: String,
    pub(crate) scope: Vec<String>,
    #[serde(default)]
    pub(crate) iat: u64,
    pub(crate) exp: u64,
}

/// How many verified tokens are remembered (clients reuse a token for every request).
const VERIFIED_CACHE_SIZE: usize = 4096;

/// Issues and checks Appmixer tokens.
pub(crate) struct AppmixerTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime_s: u64,
    /// Tokens whose signature has verified, with their claims: a token is immutable, so a second check of
    /// the same string only needs the expiry compared with the clock again. Bounded; cleared when full.
    /// Shared, so a request takes them with a reference count instead of copying every string.
    /// Read-mostly: every `GET /user` reads it, only a token's first use writes it. Hashed with foldhash
    /// rather than SipHash, which takes a while over a token's few hundred bytes: only tokens this server
    /// signed are stored, so nobody can choose keys that collide.
    verified: parking_lot::RwLock<
        std::collections::HashMap<Box<str>, Arc<AppmixerClaims>, foldhash::fast::RandomState>,
    >,
}

impl std::fmt::Debug for AppmixerTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppmixerTokens")
            .field("lifetime_s", &self.lifetime_s)
            .finish_non_exhaustive()
    }
}

impl AppmixerTokens {
    /// With `secret = None`, a random 256-bit secret.
    pub(crate) fn new(secret: Option<&str>, lifetime_s: u64) -> AppmixerTokens {
        let secret = match secret {
            Some(secret) => secret.as_bytes().to_vec(),
            None => {
                let mut bytes = vec![0u8; 32];
                rand::rng().fill_bytes(&mut bytes);
                bytes
            }
        };
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against the server's clock below, not the system's.
        validation.validate_exp = false;
        validation.required_spec_claims = HashSet::new();
        AppmixerTokens {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            validation,
            lifetime_s,
            verified: parking_lot::RwLock::new(std::collections::HashMap::default()),
        }
    }

    pub(crate) fn issue(&self, id: &str, scope: &[String], now_s: u64) -> Result<String, KeyError> {
        let claims = AppmixerClaims {
            id: id.to_owned(),
            scope: scope.to_vec(),
            iat: now_s,
            exp: now_s.saturating_add(self.lifetime_s),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    #[cfg(test)]
    pub(crate) fn verify(
        &self,
        token: &str,
        now_s: u64,
    ) -> Result<Arc<AppmixerClaims>, TokenRejection> {
        self.verify_with(token, now_s, Lenience::default())
    }

    /// [`verify`](Self::verify), skipping the checks `lenience` names.
    pub(crate) fn verify_with(
        &self,
        token: &str,
        now_s: u64,
        lenience: Lenience,
    ) -> Result<Arc<AppmixerClaims>, TokenRejection> {
        let cached = self.verified.read().get(token).cloned();
        let claims = match cached {
            Some(claims) => claims,
            None => match jsonwebtoken::decode::<AppmixerClaims>(
                token,
                &self.decoding,
                &self.validation,
            ) {
                Ok(data) => {
                    let claims = Arc::new(data.claims);
                    let mut verified = self.verified.write();
                    if verified.len() >= VERIFIED_CACHE_SIZE {
                        verified.clear();
                    }
                    verified.insert(token.into(), claims.clone());
                    claims
                }
                Err(_) if lenience.accept_unsigned => {
                    Arc::new(unverified_claims(token).ok_or(TokenRejection::Invalid)?)
                }
                Err(_) => return Err(TokenRejection::Invalid),
            },
        };
        if now_s >= claims.exp && !lenience.accept_expired {
            return Err(TokenRejection::Expired);
        }
        Ok(claims)
    }

    /// A token like [`issue`](Self::issue)'s but without `iat` (a deliberate fault).
    pub(crate) fn issue_without_iat(
        &self,
        id: &str,
        scope: &[String],
        now_s: u64,
    ) -> Result<String, KeyError> {
        let claims = serde_json::json!({
            "id": id,
            "scope": scope,
            "exp": now_s.saturating_add(self.lifetime_s),
        });
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }
}

/// The claims of an `alg: none` token, read without any check.
fn unverified_claims(token: &str) -> Option<AppmixerClaims> {
    let mut parts = token.split('.');
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next()?).ok()?).ok()?;
    if header.get("alg")?.as_str()? != "none" {
        return None;
    }
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next()?).ok()?).ok()
}

/// The claims of a Creditsafe Connect token (the sample's claims, with this server's values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CreditsafeClaims {
    pub(crate) nbf: u64,
    pub(crate) exp: u64,
    pub(crate) iss: String,
    pub(crate) aud: Vec<String>,
    pub(crate) client_id: String,
    pub(crate) sub: String,
    pub(crate) auth_time: u64,
    pub(crate) username: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) email: Option<String>,
    pub(crate) scope: Vec<String>,
    pub(crate) amr: Vec<String>,
}

pub(crate) const CREDITSAFE_ISSUER: &str = "authconform-reference-server";

/// Issues Creditsafe tokens and publishes the key that verifies them.
pub(crate) struct CreditsafeTokens {
    encoding: EncodingKey,
    /// Only tests verify what this server signs.
    #[cfg(test)]
    decoding: DecodingKey,
    kid: String,
    jwks: serde_json::Value,
    lifetime_s: u64,
}

impl std::fmt::Debug for CreditsafeTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreditsafeTokens")
            .field("kid", &self.kid)
            .field("lifetime_s", &self.lifetime_s)
            .finish_non_exhaustive()
    }
}

impl CreditsafeTokens {
    /// A fresh RSA-2048 key as PKCS#8 PEM (for instances that must share one key).
    pub(crate) fn generate_pem() -> Result<String, KeyError> {
        use aws_lc_rs::encoding::AsDer;
        let key_pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .map_err(|_| KeyError::Generate)?;
        let der = key_pair.as_der().map_err(|_| KeyError::Generate)?;
        Ok(to_pem("PRIVATE KEY", der.as_ref()))
    }

    /// With `pem = None`, a fresh RSA-2048 key.
    pub(crate) fn new(pem: Option<&str>, lifetime_s: u64) -> Result<CreditsafeTokens, KeyError> {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
        use aws_lc_rs::signature::KeyPair as _;

        let (key_pair, pem) = match pem {
            Some(pem) => {
                let der = pem_body(pem).ok_or_else(|| KeyError::Invalid("no PEM body".into()))?;
                let key_pair = KeyPair::from_pkcs8(&der)
                    .map_err(|error| KeyError::Invalid(error.to_string()))?;
                (key_pair, pem.to_owned())
            }
            None => {
                let key_pair =
                    KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
                let der = key_pair.as_der().map_err(|_| KeyError::Generate)?;
                let pem = to_pem("PRIVATE KEY", der.as_ref());
                (key_pair, pem)
            }
        };
        let components: PublicKeyComponents<Vec<u8>> = key_pair.public_key().into();
        let n = URL_SAFE_NO_PAD.encode(&components.n);
        let e = URL_SAFE_NO_PAD.encode(&components.e);
        let thumbprint = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &components.n);
        let kid = URL_SAFE_NO_PAD.encode(&thumbprint.as_ref()[..20]);
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes())?;
        #[cfg(test)]
        let decoding = DecodingKey::from_rsa_components(&n, &e)?;
        let jwks = serde_json::json!({
            "keys": [{ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e }]
        });
        Ok(CreditsafeTokens {
            encoding,
            #[cfg(test)]
            decoding,
            kid,
            jwks,
            lifetime_s,
        })
    }

    pub(crate) fn issue(
        &self,
        subject: &str,
        username: &str,
        email: Option<&str>,
        now_s: u64,
    ) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        let claims = CreditsafeClaims {
            nbf: now_s,
            exp: now_s.saturating_add(self.lifetime_s),
            iss: CREDITSAFE_ISSUER.into(),
            aud: vec!["connect_api".into()],
            client_id: "connect.api.client".into(),
            sub: subject.to_owned(),
            auth_time: now_s,
            username: username.to_owned(),
            email: email.map(str::to_owned),
            scope: vec!["connect_api".into()],
            amr: vec!["pwd".into()],
        };
        Ok(jsonwebtoken::encode(&header, &claims, &self.encoding)?)
    }

    /// Checks a token this server issued (signature and expiry against `now_s`).
    #[cfg(test)]
    pub(crate) fn verify(
        &self,
        token: &str,
        now_s: u64,
    ) -> Result<CreditsafeClaims, TokenRejection> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        let data = jsonwebtoken::decode::<CreditsafeClaims>(token, &self.decoding, &validation)
            .map_err(|_| TokenRejection::Invalid)?;
        if now_s >= data.claims.exp {
            return Err(TokenRejection::Expired);
        }
        Ok(data.claims)
    }

    #[cfg(test)]
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWK set (`GET /.well-known/jwks.json`).
    pub(crate) fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }
}

fn to_pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD.decode(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appmixer_tokens_verify_until_exp_against_the_given_time() {
        let tokens = AppmixerTokens::new(Some("secret"), 100);
        let token = tokens.issue("abc", &["user".into()], 1_000).unwrap();
        let claims = tokens.verify(&token, 1_099).unwrap();
        assert_eq!(claims.exp - claims.iat, 100);
        assert_eq!(tokens.verify(&token, 1_100), Err(TokenRejection::Expired));
    }

    #[test]
    fn appmixer_tokens_from_another_secret_or_alg_none_are_refused() {
        let tokens = AppmixerTokens::new(Some("secret"), 100);
        let other = AppmixerTokens::new(Some("other"), 100);
        let forged = other.issue("abc", &["admin".into()], 1_000).unwrap();
        assert_eq!(tokens.verify(&forged, 1_000), Err(TokenRejection::Invalid));
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims =
            URL_SAFE_NO_PAD.encode(br#"{"id":"abc","scope":["admin"],"iat":1000,"exp":9999}"#);
        assert_eq!(
            tokens.verify(&format!("{header}.{claims}."), 1_000),
            Err(TokenRejection::Invalid)
        );
        assert_eq!(
            tokens.verify("not-a-jwt", 1_000),
            Err(TokenRejection::Invalid)
        );
    }

    #[test]
    fn creditsafe_tokens_are_rs256_with_the_published_kid() {
        let tokens = CreditsafeTokens::new(None, 3600).unwrap();
        let token = tokens.issue("1", "connect-user", None, 5_000).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.kid.as_deref(), Some(tokens.kid()));
        assert_eq!(tokens.jwks()["keys"][0]["kid"], tokens.kid());
        let claims = tokens.verify(&token, 5_000).unwrap();
        assert_eq!(claims.exp - claims.nbf, 3600);
        assert_eq!(tokens.verify(&token, 8_600), Err(TokenRejection::Expired));
    }

    #[test]
    fn a_configured_pem_key_round_trips() {
        let generated = CreditsafeTokens::new(None, 60).unwrap();
        let _ = generated;
        use aws_lc_rs::encoding::AsDer;
        let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pem = to_pem("PRIVATE KEY", key.as_der().unwrap().as_ref());
        let tokens = CreditsafeTokens::new(Some(&pem), 60).unwrap();
        let token = tokens.issue("1", "u", Some("u@example.com"), 0).unwrap();
        assert!(tokens.verify(&token, 1).is_ok());
        assert!(matches!(
            CreditsafeTokens::new(
                Some("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
                60
            ),
            Err(KeyError::Invalid(_))
        ));
    }

    #[test]
    fn a_cached_token_still_expires_and_a_tampered_one_is_still_refused() {
        let tokens = AppmixerTokens::new(Some("secret"), 100);
        let token = tokens.issue("abc", &["user".into()], 1_000).unwrap();
        assert!(tokens.verify(&token, 1_000).is_ok());
        assert!(tokens.verify(&token, 1_050).is_ok(), "from the cache");
        assert_eq!(tokens.verify(&token, 1_100), Err(TokenRejection::Expired));
        let tampered = format!("{}x", &token[..token.len() - 1]);
        assert_eq!(
            tokens.verify(&tampered, 1_000),
            Err(TokenRejection::Invalid)
        );
    }
}
