//! What a target can be checked for: whether it has each capability a scenario or step `requires`
//! (accounts, secrets, the clock, how it treats `X-Forwarded-For`), and the per-IP signup rule its
//! scenarios share when they all come from one client address.

use authconform_scenario::model::Capability;

use super::description::{ClockMode, TargetDescription};

/// The per-IP signup rule of one target: signups one address may send per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SignupRule {
    /// Signups one address may send per window (`limits.signup_ip`).
    pub(crate) limit: u64,
    pub(crate) window_ms: u64,
}

/// The per-IP signup rule scenarios on this target share, or `None` when it trusts `X-Forwarded-For` and
/// each scenario has an address of its own.
pub(crate) fn signup_rule(target: &TargetDescription) -> Option<SignupRule> {
    (!target.forwarded_for).then_some(SignupRule {
        limit: target.limits.signup_ip,
        window_ms: target.limits.signup_ip_window_ms,
    })
}

/// Why the target lacks one of `capabilities` (a scenario's or a step's `requires`), or `None` when it has
/// them all.
pub(crate) fn unmet(target: &TargetDescription, capabilities: &[Capability]) -> Option<String> {
    capabilities.iter().find_map(|cap| missing(target, *cap))
}

/// Why the target lacks a capability, or `None` when it has it.
fn missing(target: &TargetDescription, capability: Capability) -> Option<String> {
    let why = match capability {
        Capability::ClockControl => {
            (target.clock != ClockMode::Control).then(|| "the target's clock is real".to_owned())
        }
        Capability::OpenSignup => target
            .user_create_scope
            .as_ref()
            .map(|scope| format!("creating users needs the `{scope}` scope on this target")),
        Capability::CreateScope => match (&target.user_create_scope, &target.admin) {
            (None, _) => Some("no user_create_scope is configured".to_owned()),
            (Some(_), None) => Some("no admin account is configured".to_owned()),
            (Some(_), Some(_)) => None,
        },
        Capability::AdminAccount => target
            .admin
            .is_none()
            .then(|| "no admin account is configured".to_owned()),
        Capability::CreditsafeAccount => target
            .creditsafe
            .is_none()
            .then(|| "no creditsafe account is configured".to_owned()),
        Capability::TokenSecret => target
            .appmixer_jwt_secret
            .is_none()
            .then(|| "no secrets.appmixer_jwt_secret is configured".to_owned()),
        Capability::ForwardedFor => (!target.forwarded_for).then(|| {
            "the target does not trust X-Forwarded-For (forwarded_for = false)".to_owned()
        }),
        Capability::UntrustedForwardedFor => target.forwarded_for.then(|| {
            "the target is declared to trust X-Forwarded-For (forwarded_for = true)".to_owned()
        }),
    }?;
    Some(format!("needs {}; {why}", capability.as_str()))
}
