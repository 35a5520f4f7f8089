//! Where a limit the target is described with disagrees with the one it declares, and where each value came
//! from.

use std::path::Path;

use super::{Declarations, LimitKind, probe};
use crate::target::description::{Limits, TargetDescription};
use crate::target::flags::TargetFlags;

/// Where a limit's value in a description came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Given {
    /// `--limit NAME=VALUE`.
    Flag,
    /// The target file, at `file:line:col`.
    File(String),
    /// Neither: the documented default.
    Default,
}

impl Given {
    fn describe(&self, name: &str, value: u64) -> String {
        match self {
            Given::Flag => format!("--limit {name}={value}"),
            Given::File(at) => format!("{at} sets {value}"),
            Given::Default => format!("not given, so the documented default {value}"),
        }
    }
}

/// Where `name`'s value came from: a flag, a line of the target file, or the default.
pub(crate) fn origin_of(flags: &TargetFlags, name: &str) -> Given {
    if flags.limits.iter().any(|l| l.name == name) {
        return Given::Flag;
    }
    if let Some(path) = &flags.target_file
        && let Ok(text) = std::fs::read_to_string(path)
        && let Some(at) = locate_limit(path, &text, name)
    {
        return Given::File(at);
    }
    Given::Default
}

/// `file:line:col` of `[limits] name` in a target file's text.
fn locate_limit(path: &Path, text: &str, name: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Spans {
        #[serde(default)]
        limits: std::collections::BTreeMap<String, toml::Spanned<toml::Value>>,
    }
    let spans: Spans = toml::from_str(text).ok()?;
    let start = spans.limits.get(name)?.span().start;
    let before = text.get(..start)?;
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some(format!("{}:{line}:{col}", path.display()))
}

/// One limit the description gives otherwise than the target declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    pub limit: &'static str,
    pub given: u64,
    pub given_from: Given,
    pub declared: u64,
    /// `POST /user declares "email";q=3;w=2 (placed by its name)`.
    pub declared_from: String,
}

impl std::fmt::Display for Disagreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}, but the server declares {} ({})",
            self.limit,
            self.given_from.describe(self.limit, self.given),
            self.declared,
            self.declared_from
        )
    }
}

impl Disagreement {
    /// What `--trust-declared` took instead: `cs_identical_invalid = 4 as the server declares (...), not 5`.
    pub fn taken(&self) -> String {
        format!(
            "{} = {} as the server declares ({}), not {}",
            self.limit, self.declared, self.declared_from, self.given
        )
    }
}

/// The limits `limits` gives otherwise than `declarations` declare. A window agrees when it rounds up to
/// the declared whole seconds (`w`), as GEN-05 reads it.
pub(crate) fn disagreements(
    declarations: &Declarations,
    limits: &Limits,
    flags: &TargetFlags,
) -> Vec<Disagreement> {
    let mut out = Vec::new();
    for kind in LimitKind::ALL {
        let Some(placed) = declarations.of(kind) else {
            continue;
        };
        let (quota_name, window_name) = kind.names();
        let declared_from = format!(
            "{} declares `{}`, placed as {quota_name} by {}",
            placed.policy.endpoint.request(),
            placed.policy.member(),
            placed.by
        );
        // `Limits` is read by name through its one setter, on a copy.
        let mut given_limits = limits.clone();
        if let Some(quota) = placed.quota() {
            let given = given_limits.field_mut(quota_name).map_or(0, |v| *v);
            if given != quota {
                out.push(Disagreement {
                    limit: quota_name,
                    given,
                    given_from: origin_of(flags, quota_name),
                    declared: quota,
                    declared_from: declared_from.clone(),
                });
            }
        }
        if let Some(window_s) = placed.policy.window_s {
            let given = given_limits.field_mut(window_name).map_or(0, |v| *v);
            if given.div_ceil(1000) != window_s {
                out.push(Disagreement {
                    limit: window_name,
                    given,
                    given_from: origin_of(flags, window_name),
                    declared: window_s.saturating_mul(1000),
                    declared_from,
                });
            }
        }
    }
    out
}

/// The limits with every declared value in place of the described one.
pub(crate) fn with_declared(limits: &Limits, disagreements: &[Disagreement]) -> Limits {
    let mut limits = limits.clone();
    for disagreement in disagreements {
        if let Some(field) = limits.field_mut(disagreement.limit) {
            *field = disagreement.declared;
        }
    }
    limits
}

/// The description gives limits otherwise than the target declares: `run` stops before any check.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "the target declares other limits than it is described with:\n{}\nnothing was sent to check it: correct the \
     description, or add --trust-declared to run with the server's values",
    disagreements.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n")
)]
pub struct DeclaredMismatch {
    pub disagreements: Vec<Disagreement>,
}

/// Reads what `target` declares ([`probe`]) and holds it against its limits: agreement leaves the
/// description as it is; a disagreement is an error, unless `trust_declared`, which puts the server's values
/// in place (and returns the disagreements so the caller can say so).
pub async fn reconcile(
    flags: &TargetFlags,
    target: &mut TargetDescription,
    trust_declared: bool,
) -> Result<Reconciled, DeclaredMismatch> {
    let declarations = probe(target).await;
    let disagreements = disagreements(&declarations, &target.limits, flags);
    let signup_counted = declarations.signup_counted();
    let signup_ip_held = declarations.signup_ip_held();
    if disagreements.is_empty() {
        return Ok(Reconciled {
            used: disagreements,
            signup_counted,
            signup_ip_held,
        });
    }
    if !trust_declared {
        return Err(DeclaredMismatch { disagreements });
    }
    target.limits = with_declared(&target.limits, &disagreements);
    Ok(Reconciled {
        used: disagreements,
        signup_counted,
        signup_ip_held,
    })
}

/// What [`reconcile`] found, when the run may go on.
#[derive(Debug)]
pub struct Reconciled {
    /// The declared values used in place of given ones (`--trust-declared`).
    pub used: Vec<Disagreement>,
    /// Whether the probe's signup is known to count toward the IP limit (it was accepted).
    pub signup_counted: bool,
    /// What the target said its IP window held once it accepted the probe's signup (see
    /// [`super::Declarations::signup_ip_held`]).
    pub signup_ip_held: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::super::{Endpoint, place};
    use super::*;
    use crate::target::declared::tests::policy;

    #[test]
    fn a_window_agrees_when_it_rounds_up_to_the_declared_seconds() {
        let declarations = place(
            vec![policy(Endpoint::Signup, "email", 3, 2, None)],
            Vec::new(),
            vec![Endpoint::Signup],
            true,
        );
        let limits = Limits {
            signup_email: 3,
            signup_email_window_ms: 1_500,
            ..Limits::default()
        };
        let flags = TargetFlags::default();
        assert!(disagreements(&declarations, &limits, &flags).is_empty());
        let longer = Limits {
            signup_email: 5,
            signup_email_window_ms: 3_000,
            ..limits
        };
        let found = disagreements(&declarations, &longer, &flags);
        assert_eq!(
            found
                .iter()
                .map(|d| (d.limit, d.given, d.declared))
                .collect::<Vec<_>>(),
            [
                ("signup_email", 5, 3),
                ("signup_email_window_ms", 3_000, 2_000)
            ]
        );
        assert_eq!(found[0].given_from, Given::Default);
        let taken = with_declared(&longer, &found);
        assert_eq!(
            (taken.signup_email, taken.signup_email_window_ms),
            (3, 2_000)
        );
    }

    #[test]
    fn a_limit_is_located_in_the_target_file() {
        let text = "base_url = \"http://x\"\nprofiles = [\"appmixer-cloud\"]\n\n[limits]\nsignup_email = 7\n";
        assert_eq!(
            locate_limit(Path::new("t.toml"), text, "signup_email").as_deref(),
            Some("t.toml:5:16")
        );
        assert_eq!(locate_limit(Path::new("t.toml"), text, "signup_ip"), None);
    }
}
