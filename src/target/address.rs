//! Client addresses: when the target trusts `X-Forwarded-For`, each scenario (and each load run) is given
//! an address of its own, so per-IP limits count it apart from every other.

use std::sync::atomic::{AtomicU32, Ordering};

use reqwest::header::{HeaderName, HeaderValue};

/// The header that carries a client address to a target that trusts it.
pub(crate) const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Hands out one address per scenario, in the order scenarios start; none when the target does not trust
/// the header. Shared by scenarios running at the same time.
#[derive(Debug)]
pub(crate) struct ClientAddresses {
    trusted: bool,
    started: AtomicU32,
}

impl ClientAddresses {
    pub(crate) fn new(trusted: bool) -> ClientAddresses {
        ClientAddresses {
            trusted,
            started: AtomicU32::new(0),
        }
    }

    /// The `X-Forwarded-For` value for the next scenario, when the target trusts it.
    pub(crate) fn next(&self) -> Option<(HeaderName, HeaderValue)> {
        let started = self.started.fetch_add(1, Ordering::Relaxed) + 1;
        if !self.trusted {
            return None;
        }
        // 203.0.113.0/24 is reserved for documentation, so no real client shares an address with a scenario.
        let host = (started - 1) % 254 + 1;
        let value = HeaderValue::from_str(&format!("203.0.113.{host}")).ok()?;
        Some((FORWARDED_FOR, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scenario_gets_its_own_address_when_trusted() {
        let addresses = ClientAddresses::new(true);
        let first = addresses.next().unwrap().1;
        let second = addresses.next().unwrap().1;
        assert_eq!(first, "203.0.113.1");
        assert_eq!(second, "203.0.113.2");
        assert!(ClientAddresses::new(false).next().is_none());
    }
}
