//! Deliberate non-conformances, one per fault, each breaking one documented requirement. Compiled only with
//! the `faults` feature (test builds): the mutation suite starts a server with a fault switched on and
//! proves the checker fails it on that requirement. Nothing here exists in a release build.

/// One deliberate non-conformance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    SignInWithoutToken,
    SignInUserWithoutPlan,
    SignInByEmailRefused,
    SignIn51ByEmail,
    SignInWithoutPasswordCrashes,
    SignInWithoutIdentityCrashes,
    SignInUnknownUserDiffers,
    SignInRateLimited,
    SignupNeedsToken,
    SignupAnswersWithoutToken,
    SignupEmailOptional,
    SignupTokenUnusable,
    SignupDuplicatesAllowed,
    CreateScopeIgnored,
    EmailLimitOffByOne,
    EmailLimitMessageOneWordOff,
    IpLimitAnswers403,
    SignupWindowTooLong,
    AdminRateLimited,
    SignupLimitsIgnoreConfiguration,
    SignupLimitPlainText,
    EmailLimitGlobal,
    MeWithoutScope,
    ExpiredTokensAccepted,
    AlgNoneAccepted,
    TokenWithoutIat,
    ConnectTokenRenamed,
    ConnectMissingBodyCrashes,
    IdenticalInvalidOffByOne,
    IdenticalInvalidNeverResets,
    InvalidLimitPerClient,
    LockoutOneEarly,
    NoLockout,
    RefusalsNotCounted,
    LockoutEndsEarly,
    CounterNotAtomic,
    ConnectTokenAlgNone,
    JsonAsTextPlain,
    MalformedJsonCrashes,
    PasswordEchoed,
    EmailLimitCaseSensitive,
    IpLimitTrustsForwardedFor,
    InvalidLimitTrustsForwardedFor,
    LockoutTrustsForwardedFor,
    RetryAfterBeyondWindow,
    DuplicateSignupCrashes,
    EmailLimitUntrimmed,
    IdenticalInvalidOneLow,
    LockoutOneLate,
    SuccessfulSignInsNotCounted,
    IdenticalValidCounted,
    LockoutFromWindowStart,
    LockoutRetryAfterMillis,
    ParserErrorEchoesBody,
    RateLimitRemainingOnRefusal,
    RateLimitPolicyQuotaWrong,
}

impl Fault {
    pub const ALL: [Fault; 56] = [
        Fault::SignInWithoutToken,
        Fault::SignInUserWithoutPlan,
        Fault::SignInByEmailRefused,
        Fault::SignIn51ByEmail,
        Fault::SignInWithoutPasswordCrashes,
        Fault::SignInWithoutIdentityCrashes,
        Fault::SignInUnknownUserDiffers,
        Fault::SignInRateLimited,
        Fault::SignupNeedsToken,
        Fault::SignupAnswersWithoutToken,
        Fault::SignupEmailOptional,
        Fault::SignupTokenUnusable,
        Fault::SignupDuplicatesAllowed,
        Fault::CreateScopeIgnored,
        Fault::EmailLimitOffByOne,
        Fault::EmailLimitMessageOneWordOff,
        Fault::IpLimitAnswers403,
        Fault::SignupWindowTooLong,
        Fault::AdminRateLimited,
        Fault::SignupLimitsIgnoreConfiguration,
        Fault::SignupLimitPlainText,
        Fault::EmailLimitGlobal,
        Fault::MeWithoutScope,
        Fault::ExpiredTokensAccepted,
        Fault::AlgNoneAccepted,
        Fault::TokenWithoutIat,
        Fault::ConnectTokenRenamed,
        Fault::ConnectMissingBodyCrashes,
        Fault::IdenticalInvalidOffByOne,
        Fault::IdenticalInvalidNeverResets,
        Fault::InvalidLimitPerClient,
        Fault::LockoutOneEarly,
        Fault::NoLockout,
        Fault::RefusalsNotCounted,
        Fault::LockoutEndsEarly,
        Fault::CounterNotAtomic,
        Fault::ConnectTokenAlgNone,
        Fault::JsonAsTextPlain,
        Fault::MalformedJsonCrashes,
        Fault::PasswordEchoed,
        Fault::EmailLimitCaseSensitive,
        Fault::IpLimitTrustsForwardedFor,
        Fault::InvalidLimitTrustsForwardedFor,
        Fault::LockoutTrustsForwardedFor,
        Fault::RetryAfterBeyondWindow,
        Fault::DuplicateSignupCrashes,
        Fault::EmailLimitUntrimmed,
        Fault::IdenticalInvalidOneLow,
        Fault::LockoutOneLate,
        Fault::SuccessfulSignInsNotCounted,
        Fault::IdenticalValidCounted,
        Fault::LockoutFromWindowStart,
        Fault::LockoutRetryAfterMillis,
        Fault::ParserErrorEchoesBody,
        Fault::RateLimitRemainingOnRefusal,
        Fault::RateLimitPolicyQuotaWrong,
    ];

    /// The requirement this fault breaks, and what it does.
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            Fault::SignInWithoutToken => ("AM-SIGNIN-01", "sign-in answers 200 without a token"),
            Fault::SignInUserWithoutPlan => {
                ("AM-SIGNIN-02", "the signed-in user object has no `plan`")
            }
            Fault::SignInByEmailRefused => (
                "AM-SIGNIN-03",
                "sign-in by e-mail (no username) is refused with 400",
            ),
            Fault::SignIn51ByEmail => (
                "AM-SIGNIN-04",
                "appmixer-5.1 signs in by `email` when `username` is missing",
            ),
            Fault::SignInWithoutPasswordCrashes => {
                ("AM-SIGNIN-05", "sign-in without a password answers 500")
            }
            Fault::SignInWithoutIdentityCrashes => (
                "AM-SIGNIN-06",
                "sign-in with neither username nor e-mail answers 500",
            ),
            Fault::SignInUnknownUserDiffers => (
                "AM-SIGNIN-07",
                "an unknown user gets 404 `User not found` (account enumeration)",
            ),
            Fault::SignInRateLimited => {
                ("AM-SIGNIN-08", "sign-ins count against the signup IP limit")
            }
            Fault::SignupNeedsToken => (
                "AM-SIGNUP-01",
                "create user needs a token although no scope is configured",
            ),
            Fault::SignupAnswersWithoutToken => {
                ("AM-SIGNUP-02", "create user answers without a token")
            }
            Fault::SignupEmailOptional => (
                "AM-SIGNUP-03",
                "create user accepts a missing e-mail on 6 and cloud",
            ),
            Fault::SignupTokenUnusable => (
                "AM-SIGNUP-04",
                "the token from create user is signed with another key",
            ),
            Fault::SignupDuplicatesAllowed => {
                ("AM-SIGNUP-05", "creating an existing user answers 200")
            }
            Fault::CreateScopeIgnored => ("AM-SIGNUP-06", "API_USER_CREATE_SCOPE is ignored"),
            Fault::EmailLimitOffByOne => (
                "AM-SIGNUP-RL-01",
                "the e-mail limit lets limit + 1 attempts through",
            ),
            Fault::EmailLimitMessageOneWordOff => (
                "AM-SIGNUP-RL-01",
                "the e-mail 429 says `e-mail` instead of `email`",
            ),
            Fault::IpLimitAnswers403 => {
                ("AM-SIGNUP-RL-02", "the IP limit answers 403 instead of 429")
            }
            Fault::SignupWindowTooLong => (
                "AM-SIGNUP-RL-03",
                "signup windows do not reset when they end (they last four)",
            ),
            Fault::AdminRateLimited => {
                ("AM-SIGNUP-RL-04", "an authenticated admin is rate limited")
            }
            Fault::SignupLimitsIgnoreConfiguration => (
                "AM-SIGNUP-RL-05",
                "the signup limits stay at the defaults whatever is configured",
            ),
            Fault::SignupLimitPlainText => (
                "AM-SIGNUP-RL-06",
                "signup 429s are plain text, not JSON with `message`",
            ),
            Fault::EmailLimitGlobal => (
                "AM-SIGNUP-RL-07",
                "the e-mail limit is one counter for every address",
            ),
            Fault::MeWithoutScope => ("AM-ME-01", "GET /user has no `scope`"),
            Fault::ExpiredTokensAccepted => ("AM-ME-02", "expired tokens are accepted"),
            Fault::AlgNoneAccepted => ("AM-ME-02", "`alg: none` tokens are accepted"),
            Fault::TokenWithoutIat => ("AM-TOKEN-01", "Appmixer tokens carry no `iat`"),
            Fault::ConnectTokenRenamed => (
                "CS-AUTH-01",
                "authenticate answers `access_token` instead of `token`",
            ),
            Fault::ConnectMissingBodyCrashes => {
                ("CS-AUTH-02", "authenticate without a body answers 500")
            }
            Fault::IdenticalInvalidOffByOne => (
                "CS-INVALID-01",
                "six identical invalid requests are answered 401",
            ),
            Fault::IdenticalInvalidNeverResets => {
                ("CS-INVALID-02", "the identical-invalid block never ends")
            }
            Fault::InvalidLimitPerClient => (
                "CS-INVALID-03",
                "the invalid-request block covers every request of the client",
            ),
            Fault::LockoutOneEarly => (
                "CS-LOCKOUT-01",
                "the lockout starts at request threshold instead of threshold + 1",
            ),
            Fault::NoLockout => ("CS-LOCKOUT-02", "there is no lockout"),
            Fault::RefusalsNotCounted => (
                "CS-LOCKOUT-03",
                "429s of the invalid-request limit do not count toward the threshold",
            ),
            Fault::LockoutEndsEarly => (
                "CS-LOCKOUT-04",
                "the lockout ends after four fifths of the window",
            ),
            Fault::CounterNotAtomic => (
                "CS-LOCKOUT-05",
                "the threshold is checked and counted in two steps, so concurrent requests slip through",
            ),
            Fault::ConnectTokenAlgNone => {
                ("CS-TOKEN-01", "Creditsafe tokens are `alg: none`, unsigned")
            }
            Fault::JsonAsTextPlain => ("GEN-01", "JSON answers say `Content-Type: text/plain`"),
            Fault::MalformedJsonCrashes => ("GEN-02", "malformed JSON answers 500"),
            Fault::PasswordEchoed => ("GEN-03", "a failed sign-in echoes the password"),
            Fault::EmailLimitCaseSensitive => (
                "AM-SIGNUP-RL-09",
                "the e-mail limit counts an address as sent, so a change of case or spaces escapes it",
            ),
            Fault::IpLimitTrustsForwardedFor => (
                "AM-SIGNUP-RL-08",
                "the per-IP signup limit keys on a client-sent `X-Forwarded-For` although it is not trusted",
            ),
            Fault::InvalidLimitTrustsForwardedFor => (
                "CS-LOCKOUT-06",
                "the identical-invalid block keys on a client-sent `X-Forwarded-For` although it is not trusted",
            ),
            Fault::LockoutTrustsForwardedFor => (
                "CS-LOCKOUT-06",
                "a per-client lockout keys on a client-sent `X-Forwarded-For` although it is not trusted",
            ),
            Fault::RetryAfterBeyondWindow => (
                "GEN-04",
                "the identical-invalid 429 says `Retry-After` thirty times its window",
            ),
            Fault::DuplicateSignupCrashes => (
                "AM-SIGNUP-05",
                "a signup for a taken username or e-mail answers 500",
            ),
            Fault::EmailLimitUntrimmed => (
                "AM-SIGNUP-RL-09",
                "the e-mail limit lower-cases the address as sent but keeps its spaces, so spaces escape it",
            ),
            Fault::IdenticalInvalidOneLow => (
                "CS-INVALID-01",
                "the fifth identical invalid request is already answered 429",
            ),
            Fault::LockoutOneLate => (
                "CS-LOCKOUT-02",
                "the lockout starts at request threshold + 2: one request too many is answered, even one at a time",
            ),
            Fault::SuccessfulSignInsNotCounted => (
                "CS-LOCKOUT-02",
                "successful sign-ins do not count toward the threshold",
            ),
            Fault::IdenticalValidCounted => (
                "CS-INVALID-03",
                "the identical-invalid limit counts valid sign-ins too, so the sixth identical valid sign-in inside its window is refused",
            ),
            Fault::LockoutFromWindowStart => (
                "CS-LOCKOUT-04",
                "the lockout ends when the window opened by the first request ends, less than a full window after the trigger",
            ),
            Fault::LockoutRetryAfterMillis => (
                "GEN-04",
                "the lockout's 429 says `Retry-After` in milliseconds",
            ),
            Fault::ParserErrorEchoesBody => (
                "GEN-03",
                "a malformed-JSON error quotes the raw body, password included",
            ),
            Fault::RateLimitRemainingOnRefusal => (
                "GEN-05",
                "a 429's `RateLimit` field shows `r=1` for the policy that refused",
            ),
            Fault::RateLimitPolicyQuotaWrong => (
                "GEN-05",
                "the refusing policy's `q` in `RateLimit-Policy` is one more than the limit it enforces",
            ),
        }
    }

    /// A short kebab-case name.
    pub fn name(self) -> String {
        let debug = format!("{self:?}");
        let mut name = String::new();
        for (index, c) in debug.char_indices() {
            if c.is_ascii_uppercase() && index > 0 {
                name.push('-');
            }
            name.push(c.to_ascii_lowercase());
        }
        name
    }
}
