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
    /// Hosts of 203.0.113.0/24 an earlier run's signups still count against: handed out last.
    busy: Vec<u32>,
}

impl ClientAddresses {
    pub(crate) fn new(trusted: bool) -> ClientAddresses {
        ClientAddresses {
            trusted,
            started: AtomicU32::new(0),
            busy: Vec::new(),
        }
    }

    /// Addresses an earlier run used within a window (`203.0.113.N`, from the state file) are skipped
    /// while others are left.
    pub(crate) fn avoiding<'a>(
        mut self,
        busy: impl IntoIterator<Item = &'a str>,
    ) -> ClientAddresses {
        self.busy = busy
            .into_iter()
            .filter_map(|address| address.strip_prefix("203.0.113.")?.parse().ok())
            .filter(|host| (1..=254).contains(host))
            .collect();
        self.busy.sort_unstable();
        self.busy.dedup();
        self
    }

    /// The `X-Forwarded-For` value for the next scenario, when the target trusts it.
    pub(crate) fn next(&self) -> Option<(HeaderName, HeaderValue)> {
        let started = self.started.fetch_add(1, Ordering::Relaxed) + 1;
        if !self.trusted {
            return None;
        }
        // 203.0.113.0/24 is reserved for documentation, so no real client shares an address with a scenario.
        // The free hosts come first, in order, then the busy ones.
        let free = 254 - self.busy.len() as u32;
        let index = (started - 1) % 254;
        let host = if index < free {
            (1..=254)
                .filter(|host| !self.busy.contains(host))
                .nth(index as usize)
                .unwrap_or(index + 1)
        } else {
            self.busy[(index - free) as usize]
        };
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

    #[test]
    fn addresses_an_earlier_run_used_come_last() {
        let addresses = ClientAddresses::new(true).avoiding([
            "203.0.113.1",
            "203.0.113.3",
            "direct",
            "10.0.0.1",
        ]);
        let handed: Vec<String> = (0..254)
            .map(|_| addresses.next().unwrap().1.to_str().unwrap().to_owned())
            .collect();
        assert_eq!(handed[..2], ["203.0.113.2", "203.0.113.4"]);
        assert_eq!(handed[252..], ["203.0.113.1", "203.0.113.3"]);
        assert_eq!(
            addresses.next().unwrap().1,
            "203.0.113.2",
            "then round again"
        );
    }
}
