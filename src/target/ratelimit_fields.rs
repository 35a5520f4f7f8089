//! The IETF `RateLimit` and `RateLimit-Policy` fields (draft-ietf-httpapi-ratelimit-headers) as a target
//! sends them, parsed: every field line and every list member read, as RFC 9651 lists. The one reader of
//! these fields: the engine judges them (GEN-05), detection and `init` learn the limits a target declares.

use sfv::{BareItem, ListEntry, Parameters};

use super::client::Response;

/// One member of `RateLimit-Policy`: a policy's name, quota (`q`) and window in seconds (`w`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Policy {
    pub(crate) name: String,
    pub(crate) quota: Option<i64>,
    pub(crate) window_s: Option<i64>,
}

/// One member of `RateLimit`: a policy's name, what is left of its quota (`r`) and seconds until it
/// resets (`t`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Remaining {
    pub(crate) name: String,
    pub(crate) remaining: Option<i64>,
    pub(crate) reset_s: Option<i64>,
}

/// Everything a response says in the two fields, over all their lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RateLimitFields {
    pub(crate) policies: Vec<Policy>,
    pub(crate) remaining: Vec<Remaining>,
    /// Field lines that are no structured-field list, or members that are not an item named by a string or
    /// token, as `name: value` with why.
    pub(crate) malformed: Vec<String>,
    /// Every line as sent, `name: value`, for the report.
    pub(crate) lines: Vec<String>,
}

impl RateLimitFields {
    pub(crate) fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// Reads every `RateLimit` and `RateLimit-Policy` line of a response.
pub(crate) fn read(response: &Response) -> RateLimitFields {
    let mut fields = RateLimitFields::default();
    for name in ["ratelimit-policy", "ratelimit"] {
        for line in response.header_lines(name) {
            fields.lines.push(format!("{name}: {line}"));
            let list = match sfv::Parser::new(line).parse::<sfv::List>() {
                Ok(list) => list,
                Err(error) => {
                    fields.malformed.push(format!(
                        "`{name}: {line}` is no structured-field list ({error})"
                    ));
                    continue;
                }
            };
            for entry in list {
                let ListEntry::Item(item) = entry else {
                    fields.malformed.push(format!(
                        "`{name}: {line}` has an inner list where a policy belongs"
                    ));
                    continue;
                };
                let Some(policy) = item_name(&item.bare_item) else {
                    fields.malformed.push(format!(
                        "`{name}: {line}` names a policy with neither a string nor a token"
                    ));
                    continue;
                };
                let integer = |key: &str| integer_param(&item.params, key);
                if name == "ratelimit-policy" {
                    fields.policies.push(Policy {
                        name: policy,
                        quota: integer("q"),
                        window_s: integer("w"),
                    });
                } else {
                    fields.remaining.push(Remaining {
                        name: policy,
                        remaining: integer("r"),
                        reset_s: integer("t"),
                    });
                }
            }
        }
    }
    fields
}

fn item_name(item: &BareItem) -> Option<String> {
    item.as_string()
        .map(|s| s.as_str().to_owned())
        .or_else(|| item.as_token().map(|t| t.as_str().to_owned()))
}

fn integer_param(params: &Parameters, key: &str) -> Option<i64> {
    params
        .iter()
        .find(|(k, _)| k.as_str() == key)
        .and_then(|(_, value)| value.as_integer())
        .map(i64::from)
}
