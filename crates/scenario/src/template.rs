//! Templates: the `{{ expr }}` mini-language inside scenario strings, parsed into a typed expression tree.
//!
//! This module owns the grammar and its types. Evaluation needs HTTP-side state (captured values, accounts,
//! tokens) and so lives in the runner; everything a runner needs to evaluate is named by these types.

use serde::Serialize;

/// A parsed template string.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Template {
    /// The string as written in the file.
    pub source: String,
    pub parts: Vec<Part>,
}

impl Template {
    /// A template with no expressions.
    pub fn literal(text: impl Into<String>) -> Template {
        let text = text.into();
        Template {
            source: text.clone(),
            parts: vec![Part::Literal(text)],
        }
    }

    /// The expression when the whole string is exactly one `{{ expr }}`: it then keeps its JSON type.
    pub fn single_expression(&self) -> Option<&Expr> {
        match self.parts.as_slice() {
            [Part::Expr(expr)] => Some(expr),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Part {
    Literal(String),
    Expr(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserField {
    Username,
    Email,
    Password,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountName {
    Admin,
    Creditsafe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountField {
    Username,
    Email,
    Password,
    /// Admin only: a token from signing the account in once per run.
    Token,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitName {
    SignupEmail,
    SignupIp,
    CsIdenticalInvalid,
    CsOverallThreshold,
}

impl LimitName {
    pub const ALL: [LimitName; 4] = [
        LimitName::SignupEmail,
        LimitName::SignupIp,
        LimitName::CsIdenticalInvalid,
        LimitName::CsOverallThreshold,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LimitName::SignupEmail => "signup_email",
            LimitName::SignupIp => "signup_ip",
            LimitName::CsIdenticalInvalid => "cs_identical_invalid",
            LimitName::CsOverallThreshold => "cs_overall_threshold",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Function {
    /// The JWT with its signature altered.
    Tamper,
    /// The JWT re-encoded with `alg: none` and an empty signature.
    AlgNone,
    /// An HS256 token for the given user id, signed with the configured secret, expired an hour ago.
    ExpiredToken,
    /// A string of N characters.
    LongString,
    /// The same address written differently: upper case, with a space before and after.
    Respell,
    /// The same text in upper case (`ALICE@EXAMPLE.COM`): one spelling of an address.
    Uppercase,
    /// The same text with a space before and after (` alice@example.com `): another spelling.
    Padded,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Expr {
    /// `user.NAME.FIELD`: a fresh identity per NAME per scenario run.
    User { name: String, field: UserField },
    /// `unique`: a fresh token on every evaluation.
    Unique,
    /// `unique.email`: a fresh e-mail address on every evaluation.
    UniqueEmail,
    /// `account.NAME.FIELD`
    Account {
        account: AccountName,
        field: AccountField,
    },
    /// `limits.NAME`
    Limit(LimitName),
    /// `captured.NAME`
    Captured(String),
    /// `repeat.index`
    RepeatIndex,
    /// `sent.MARK`: how many requests the step marked MARK sent (0 when it was left out).
    Sent(String),
    /// `signup_auth`: `Bearer <admin token>` when creating users needs a token, else empty.
    SignupAuth,
    /// `signups.counted`: the signups from the scenario's client address known to count toward the IP
    /// window when its last `wait.empty_window` ended (0 on an address of its own, or with no such wait).
    CountedSignups,
    /// An integer literal (function arguments).
    Integer(i64),
    /// `expr + N` or `expr - N` (N negative).
    Offset(Box<Expr>, i64),
    /// `expr + expr` or `expr - expr`: the left, the sign of the right (`1` or `-1`), the right.
    Sum(Box<Expr>, i64, Box<Expr>),
    /// `function(expr)`
    Call(Function, Box<Expr>),
}
