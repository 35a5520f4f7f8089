//! A target's tokens as it issues them: a compact JWT's header and claims, decoded without verifying the
//! signature (the runner has no key), and the lifetime they declare. The engine reports and judges them;
//! detection reads a token's lifetime for `init`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_a_jwt() {
        assert!(decode("not.a-jwt").is_err());
        assert!(decode("abc").is_err());
    }
}
