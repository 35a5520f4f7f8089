//! JSON Web Tokens as the runner sees them: decoding a target's token to report what it is, and making bad
//! tokens (tampered, `alg: none`, expired) to prove the target refuses them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

/// A token's decoded header and claims. The signature is not verified: the runner has no key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DecodedJwt {
    pub(crate) header: Map<String, Value>,
    pub(crate) claims: Map<String, Value>,
}

impl DecodedJwt {
    pub(crate) fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    /// `exp − iat`, or `exp − nbf`, in seconds, with which pair was used.
    pub(crate) fn lifetime(&self) -> Option<(i64, &'static str)> {
        let claim = |name: &str| self.claims.get(name).and_then(Value::as_i64);
        let exp = claim("exp")?;
        if let Some(iat) = claim("iat") {
            return Some((exp - iat, "exp − iat"));
        }
        claim("nbf").map(|nbf| (exp - nbf, "exp − nbf"))
    }

    /// One line for the report: algorithm, key id, claims and lifetime.
    pub(crate) fn describe(&self) -> String {
        let alg = self.alg().unwrap_or("(none)");
        let kid = self
            .header
            .get("kid")
            .and_then(Value::as_str)
            .unwrap_or("(none)");
        let claims: Vec<&str> = self.claims.keys().map(String::as_str).collect();
        let lifetime = match self.lifetime() {
            Some((seconds, how)) => format!("{seconds} s ({how})"),
            None => "unknown (no exp with iat or nbf)".into(),
        };
        format!(
            "alg {alg}, kid {kid}, claims {}, lifetime {lifetime}",
            claims.join(", ")
        )
    }
}

/// Decodes a compact JWT's header and claims.
pub(crate) fn decode(token: &str) -> Result<DecodedJwt, String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(format!(
            "not a JWT: {} dot-separated parts, not 3",
            parts.len()
        ));
    }
    // Decoded by hand rather than with `jsonwebtoken::decode_header`, which refuses algorithms it does not
    // know (such as `none`); the report should say what a target issues, whatever it is.
    let section = |name: &str, text: &str| -> Result<Map<String, Value>, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|err| format!("the {name} is not base64url: {err}"))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(format!("the {name} is not a JSON object")),
            Err(err) => Err(format!("the {name} is not JSON: {err}")),
        }
    };
    Ok(DecodedJwt {
        header: section("header", parts[0])?,
        claims: section("claims", parts[1])?,
    })
}

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

    #[test]
    fn garbage_is_not_a_jwt() {
        assert!(decode("not.a-jwt").is_err());
        assert!(decode("abc").is_err());
    }
}
