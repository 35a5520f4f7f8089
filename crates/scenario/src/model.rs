//! The validated scenario model: what a scenario file means once parsed and checked.
//!
//! These types are the contract between the parser (this crate) and the runner. Everything here is already
//! validated: ids exist in the catalogue, templates parsed, names resolved, so the runner never re-checks.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::template::Template;

/// A requirement's level in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Should,
    Must,
}

impl Level {
    /// `must` or `should`, as the catalogue and the JSON report spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "must",
            Level::Should => "should",
        }
    }

    /// `MUST` or `SHOULD`, the requirement keyword as the documents write it (RFC 2119).
    pub fn keyword(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
        }
    }
}

/// The documented API profiles a target can implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Profile {
    #[serde(rename = "appmixer-5.1")]
    Appmixer51,
    #[serde(rename = "appmixer-6")]
    Appmixer6,
    #[serde(rename = "appmixer-cloud")]
    AppmixerCloud,
    #[serde(rename = "creditsafe-connect")]
    CreditsafeConnect,
}

impl Profile {
    pub const ALL: [Profile; 4] = [
        Profile::Appmixer51,
        Profile::Appmixer6,
        Profile::AppmixerCloud,
        Profile::CreditsafeConnect,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Appmixer51 => "appmixer-5.1",
            Profile::Appmixer6 => "appmixer-6",
            Profile::AppmixerCloud => "appmixer-cloud",
            Profile::CreditsafeConnect => "creditsafe-connect",
        }
    }

    pub fn parse(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the requirement catalogue (`scenarios/requirements.toml`).
#[derive(Debug, Clone, Serialize)]
pub struct Requirement {
    pub id: String,
    pub level: Level,
    pub profiles: Vec<Profile>,
    /// The paraphrase the report prints.
    pub requirement: String,
    /// The quoted clause of the source document.
    pub clause: String,
    /// Which document and section the clause comes from.
    pub source: String,
    /// The readings a conforming target may follow, where the documentation is ambiguous.
    pub accept: Option<String>,
}

/// The whole catalogue, in file order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Catalogue {
    pub requirements: Vec<Requirement>,
}

impl Catalogue {
    pub fn get(&self, id: &str) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.id == id)
    }
}

/// Where a scenario came from, for messages and reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

/// Capabilities a target must have for a scenario to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    ClockControl,
    OpenSignup,
    CreateScope,
    AdminAccount,
    CreditsafeAccount,
    TokenSecret,
    ForwardedFor,
    /// The target is not declared to trust `X-Forwarded-For`, so a client-sent one must not change its address.
    UntrustedForwardedFor,
}

impl Capability {
    /// Every capability, as scenario files name them (`requires`).
    pub const ALL: [Capability; 8] = [
        Capability::ClockControl,
        Capability::OpenSignup,
        Capability::CreateScope,
        Capability::AdminAccount,
        Capability::CreditsafeAccount,
        Capability::TokenSecret,
        Capability::ForwardedFor,
        Capability::UntrustedForwardedFor,
    ];

    /// The capability a scenario file names.
    pub fn parse(name: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Capability::ClockControl => "clock-control",
            Capability::OpenSignup => "open-signup",
            Capability::CreateScope => "create-scope",
            Capability::AdminAccount => "admin-account",
            Capability::CreditsafeAccount => "creditsafe-account",
            Capability::TokenSecret => "token-secret",
            Capability::ForwardedFor => "forwarded-for",
            Capability::UntrustedForwardedFor => "untrusted-forwarded-for",
        }
    }
}

/// When a scenario runs relative to the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    #[default]
    Normal,
    /// Locks the client out of an endpoint: runs after every normal scenario.
    Lockout,
}

/// A part of the target whose counts a scenario can disturb or depend on (docs/scenario-format.md,
/// "Running beside other scenarios").
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resource {
    /// The one client address every scenario shares when the target does not trust `X-Forwarded-For`:
    /// its per-IP signup count.
    ClientAddress,
    /// Every request to one path, whoever sends it (a lockout may be keyed on the whole endpoint).
    Endpoint(String),
}

impl Resource {
    /// Parses `client-address` or `endpoint:/path`.
    pub fn parse(text: &str) -> Option<Resource> {
        if text == "client-address" {
            return Some(Resource::ClientAddress);
        }
        text.strip_prefix("endpoint:")
            .filter(|path| path.starts_with('/'))
            .map(|path| Resource::Endpoint(path.to_owned()))
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resource::ClientAddress => f.write_str("client-address"),
            Resource::Endpoint(path) => write!(f, "endpoint:{path}"),
        }
    }
}

/// How a scenario holds a resource while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HoldMode {
    /// It uses the resource but counts nothing on it: others that do the same may run beside it.
    Shared,
    /// Its checks count on the resource: nothing else that uses it may run beside it.
    Exclusive,
}

/// A resource a scenario declares in its file (`exclusive = [...]`, `shared = [...]`), on top of what the
/// runner derives from its steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    pub resource: Resource,
    pub mode: HoldMode,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub name: String,
    pub title: String,
    pub covers: Vec<String>,
    /// Resolved: never empty.
    pub profiles: Vec<Profile>,
    pub tags: Vec<String>,
    pub requires: Vec<Capability>,
    pub phase: Phase,
    /// Resources declared in the file; the scheduler adds those it derives.
    pub holds: Vec<Hold>,
    pub steps: Vec<Step>,
    pub origin: Origin,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Given or `step N` (1-based).
    pub name: String,
    /// Resolved: the step's own covers or the scenario's. Empty marks a setup step: its failure makes the
    /// scenario's requirements inconclusive rather than failed.
    pub covers: Vec<String>,
    /// Capabilities the target must have for this step to run; without one the step is skipped (its
    /// requirements are skipped with the reason unless another step judges them).
    pub requires: Vec<Capability>,
    /// A check that leaves the target as later steps need it whatever it finds: when it fails, the
    /// scenario goes on (`continue_on_failure = true`) instead of stopping there.
    pub continue_on_failure: bool,
    /// A wait that a sequence repeated just after a clock-aligned window boundary leaves out
    /// (`skip_after_clock_boundary = true`): it would put the boundary back inside the repeat.
    pub skip_after_clock_boundary: bool,
    pub action: Action,
    pub origin: Origin,
}

#[derive(Debug, Clone, Serialize)]
pub enum Action {
    Request(Box<RequestStep>),
    Wait(Wait),
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestStep {
    pub request: RequestSpec,
    /// Evaluates to a non-negative integer; default 1.
    pub repeat: Option<Template>,
    /// At least 1; default 1.
    pub concurrency: u32,
    pub expect: Expectations,
    /// Name → dotted JSON path in the last response body.
    pub capture: BTreeMap<String, String>,
    pub capture_response: Option<String>,
    pub mark: Option<String>,
    pub within: Option<Within>,
    /// Status code → reading name.
    pub reading: BTreeMap<u16, String>,
    /// What must hold of every response before the step's own expectations mean anything; when it does
    /// not, the step's requirements are inconclusive, blocked by the precondition's requirement.
    pub precondition: Option<Precondition>,
    /// Looked at, in order, only when the step's expectations failed: the first whose expectations hold
    /// puts the failure on its requirement (the step's other requirements are inconclusive, blocked by it).
    pub blame: Vec<Blame>,
}

/// Expectations that are only a precondition of a step's check, and the requirement they belong to.
#[derive(Debug, Clone, Serialize)]
pub struct Precondition {
    /// The requirement whose breach they reveal; `None` when no single requirement is to blame.
    pub requirement: Option<String>,
    pub expect: Expectations,
}

/// What tells whether a failed step failed because of another requirement: a probe request, or (without
/// one) the step's first failing response itself.
#[derive(Debug, Clone, Serialize)]
pub struct Blame {
    /// The requirement blamed when the expectations hold.
    pub requirement: String,
    pub request: Option<RequestSpec>,
    /// How many times the probe is sent (default once); the expectations judge every answer, `tally`
    /// included.
    pub repeat: Option<Template>,
    pub expect: Expectations,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestSpec {
    pub method: String,
    pub path: Template,
    /// Header name as written → value.
    pub headers: Vec<(String, Template)>,
    pub body: Body,
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub enum Body {
    None,
    /// A JSON document whose strings are templates.
    Json(JsonTemplate),
    Raw(Template),
}

/// A JSON value whose string leaves are templates.
#[derive(Debug, Clone, Serialize)]
pub enum JsonTemplate {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(Template),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowName {
    SignupEmailWindow,
    SignupIpWindow,
    CsInvalidWindow,
    CsOverallWindow,
    AppmixerTokenLifetime,
    CreditsafeTokenLifetime,
}

impl WindowName {
    pub const ALL: [WindowName; 6] = [
        WindowName::SignupEmailWindow,
        WindowName::SignupIpWindow,
        WindowName::CsInvalidWindow,
        WindowName::CsOverallWindow,
        WindowName::AppmixerTokenLifetime,
        WindowName::CreditsafeTokenLifetime,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WindowName::SignupEmailWindow => "signup_email_window",
            WindowName::SignupIpWindow => "signup_ip_window",
            WindowName::CsInvalidWindow => "cs_invalid_window",
            WindowName::CsOverallWindow => "cs_overall_window",
            WindowName::AppmixerTokenLifetime => "appmixer_token_lifetime",
            WindowName::CreditsafeTokenLifetime => "creditsafe_token_lifetime",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub enum Wait {
    /// A named window plus an offset in milliseconds (default +1000), or ending `slack` before its end;
    /// counted from now, or from the time of an earlier step's `mark` (`since`), so a wait whose span has
    /// already passed does not wait at all.
    Window {
        window: WindowName,
        offset_ms: i64,
        minus_slack: bool,
        since: Option<String>,
        /// `wait.percent`: that share of the window in percent (1 to 1000) instead of the whole window plus
        /// the offset.
        percent: Option<u16>,
    },
    /// Until the scenario's client address has an empty `window` (`wait.empty_window`): when the target
    /// trusts `X-Forwarded-For` the scenario takes a new address and does not wait; otherwise it waits until
    /// the window (plus a second) has passed since the last signup any scenario sent from the one address.
    EmptyWindow(WindowName),
    Millis(u64),
}

#[derive(Debug, Clone, Serialize)]
pub struct Within {
    pub since: String,
    pub window: WindowName,
}

/// A status pattern: one code or a class such as `4xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StatusPattern {
    Code(u16),
    /// The hundreds digit: `4` for `4xx`.
    Class(u8),
}

impl StatusPattern {
    pub fn matches(self, status: u16) -> bool {
        match self {
            StatusPattern::Code(code) => code == status,
            StatusPattern::Class(class) => status / 100 == u16::from(class),
        }
    }
}

impl std::fmt::Display for StatusPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StatusPattern::Code(code) => write!(f, "{code}"),
            StatusPattern::Class(class) => write!(f, "{class}xx"),
        }
    }
}

/// One or more status patterns; matches when any does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusSet(pub Vec<StatusPattern>);

impl StatusSet {
    pub fn matches(&self, status: u16) -> bool {
        self.0.iter().any(|p| p.matches(status))
    }
}

impl std::fmt::Display for StatusSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(" or "))
    }
}

/// The JSON types a matcher can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonType {
    String,
    Number,
    Integer,
    Boolean,
    Null,
    Array,
    Object,
    /// Any value, as long as the path exists.
    Present,
    /// The path must not exist.
    Absent,
}

/// A regular expression, compiled once when the scenario file is read. Serialized as its source.
#[derive(Debug, Clone)]
pub struct Pattern(regex::Regex);

impl Pattern {
    pub fn new(source: &str) -> Result<Pattern, regex::Error> {
        regex::Regex::new(source).map(Pattern)
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.0.is_match(text)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Matcher {
    /// Alternatives; empty means any type.
    pub types: Vec<JsonType>,
    pub equals: Option<JsonTemplate>,
    pub contains: Option<JsonTemplate>,
    pub starts_with: Option<Template>,
    pub matches: Option<Pattern>,
    pub integer_range: Option<(i64, i64)>,
    pub optional: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tally {
    pub status: StatusSet,
    /// Only answers whose message (a JSON body's `message`, or a plain-text body) is exactly this: a 429
    /// counts for the limit it names.
    pub message: Option<Template>,
    /// Answers whose `RateLimit` fields show this limit's policy used up (`r=0`, with the limit's `q` and
    /// `w` declared in `RateLimit-Policy`) count too: a 429 names its limit by its policy as well as by its
    /// text.
    pub policy: Option<RateLimitExpectation>,
    pub count: Template,
    /// `at_most` instead of `count`: no more than that many, rather than exactly.
    pub at_most: bool,
    /// `at_least` instead of `count`: that many or more, rather than exactly.
    pub at_least: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct JwtExpectation {
    /// Dotted JSON path of the token in the body.
    pub field: String,
    /// Accepted algorithms; empty means any.
    pub alg: Vec<String>,
    /// Claims that must be present.
    pub claims: Vec<String>,
    /// Header fields that must be present (e.g. `kid`).
    pub header: Vec<String>,
}

/// `expect.ratelimit`: the limit a refusal is by, whose quota and window its `RateLimit` fields must show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateLimitExpectation {
    pub limit: crate::template::LimitName,
    pub window: WindowName,
}

/// What must hold of a response. `should` holds the same again as warnings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Expectations {
    pub status: Option<StatusSet>,
    /// Dotted path → matcher, in file order.
    pub json: Vec<(String, Matcher)>,
    pub message: Option<Template>,
    /// Lower-cased header name → matcher, in file order.
    pub headers: Vec<(String, Matcher)>,
    pub body_excludes: Vec<Template>,
    pub same_as: Option<String>,
    pub jwt: Option<JwtExpectation>,
    pub tally: Vec<Tally>,
    /// On a 429: a `Retry-After`, if sent, is whole seconds or an HTTP-date, not negative, and no longer
    /// than this window plus a second. What was sent is reported as an observation.
    pub retry_after: Option<WindowName>,
    /// On a 429: `RateLimit`/`RateLimit-Policy` fields, if sent, parse (every line, every member) and agree
    /// with the limit that refused (GEN-05).
    pub ratelimit: Option<RateLimitExpectation>,
    /// Warnings instead of failures. Never nested further.
    pub should: Option<Box<Expectations>>,
}

/// A loaded suite: the catalogue plus every scenario, in run order (normal phase, then lockout).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Suite {
    pub catalogue: Catalogue,
    pub scenarios: Vec<Scenario>,
}
