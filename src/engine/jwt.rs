//! JSON Web Tokens as the runner makes them to prove the target refuses them: tampered, `alg: none`,
//! expired. Decoding a target's own tokens is `target::token`'s.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

pub(crate) use crate::target::decode_jwt as decode;

/// The token with its signature altered (its first character changed, so the decoded bytes change too).
pub(crate) fn tamper(token: &str) -> String {
    match token.rsplit_once('.') {
        Some((signed, signature)) if !signature.is_empty() => {
            let mut chars = signature.chars();
            let first = chars.next().unwrap_or('A');
            let replacement = if first == 'A' { 'B' } else { 'A' };
            format!("{signed}.{replacement}{}", chars.as_str())
        }
        Some((signed, _)) => format!("{signed}.AAAA"),
        None => format!("{token}.AAAA"),
    }
}

/// The token re-encoded with `alg: none` and an empty signature, claims unchanged.
pub(crate) fn alg_none(token: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = token.split('.').nth(1).unwrap_or_default();
    format!("{header}.{claims}.")
}

/// An HS256 token for `user_id` in the shape of Appmixer's sample, expired an hour before `now_s`. `Err`
/// says why it could not be signed.
pub(crate) fn expired_token(user_id: &str, secret: &str, now_s: i64) -> Result<String, String> {
    let claims = json!({
        "id": user_id,
        "scope": ["user"],
        "iat": now_s - 2 * 3600,
        "exp": now_s - 3600,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expired_token_decodes_with_its_lifetime() {
        let token = expired_token("u1", "secret", 10_000).unwrap();
        let decoded = decode(&token).unwrap();
        assert_eq!(decoded.alg(), Some("HS256"));
        assert_eq!(decoded.claims["exp"], json!(10_000 - 3600));
        assert_eq!(decoded.lifetime(), Some((3600, "exp − iat")));
        assert!(
            decoded.describe().contains("lifetime 3600 s"),
            "{}",
            decoded.describe()
        );
    }

    #[test]
    fn tampering_changes_only_the_signature() {
        let token = expired_token("u1", "secret", 10_000).unwrap();
        let tampered = tamper(&token);
        assert_ne!(tampered, token);
        let (signed, _) = token.rsplit_once('.').unwrap();
        assert!(tampered.starts_with(signed));
    }

    #[test]
    fn alg_none_keeps_the_claims_and_drops_the_signature() {
        let token = expired_token("u1", "secret", 10_000).unwrap();
        let none = alg_none(&token);
        assert!(none.ends_with('.'));
        assert_eq!(none.split('.').nth(1), token.split('.').nth(1));
    }
}
