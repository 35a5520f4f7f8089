//! The mixed profile's weights (`--mix signin=60,me=30,signup=10`): which share of the requests each kind of
//! traffic gets. Each kind is a scenario of `benchmarks.toml` run side by side with the others, its flood
//! sending its share (and, in the open model, its share of the schedule's rate).

use std::str::FromStr;

/// The default day of traffic: mostly sign-ins and reads of the signed-in user, a few sign-ups.
pub const DEFAULT_MIX: &str = "signin=60,me=30,signup=10";

/// The weight of each kind of request in the mixed profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mix {
    pub signin: u32,
    pub me: u32,
    pub signup: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--mix `{given}`: {reason} (e.g. `{DEFAULT_MIX}`)")]
pub struct MixError {
    pub given: String,
    pub reason: String,
}

impl Default for Mix {
    fn default() -> Mix {
        DEFAULT_MIX.parse().expect("the default mix parses")
    }
}

impl FromStr for Mix {
    type Err = MixError;

    fn from_str(text: &str) -> Result<Mix, MixError> {
        let error = |reason: &str| MixError {
            given: text.to_owned(),
            reason: reason.to_owned(),
        };
        let mut mix = Mix {
            signin: 0,
            me: 0,
            signup: 0,
        };
        for part in text.split(',').filter(|part| !part.trim().is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| error("each weight is KIND=N"))?;
            let weight: u32 = weight
                .trim()
                .parse()
                .map_err(|_| error("a weight is a whole number"))?;
            match name.trim() {
                "signin" => mix.signin = weight,
                "me" => mix.me = weight,
                "signup" => mix.signup = weight,
                _ => return Err(error("the kinds are signin, me (GET /user) and signup")),
            }
        }
        if mix.weights().iter().all(|(_, weight)| *weight == 0) {
            return Err(error("give at least one kind a weight above 0"));
        }
        Ok(mix)
    }
}

impl Mix {
    /// Each kind's scenario and weight.
    pub fn weights(&self) -> [(&'static str, u32); 3] {
        [
            ("load-mixed-signin", self.signin),
            ("load-mixed-me", self.me),
            ("load-mixed-signup", self.signup),
        ]
    }

    /// `total` requests shared by weight (largest remainders, so the shares add up exactly): each
    /// scenario with a share above 0, and its requests.
    pub fn split(&self, total: u64) -> Vec<(&'static str, u64)> {
        let weights = self.weights();
        let sum: u64 = weights.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut shares: Vec<(&'static str, u64, u64)> = weights
            .iter()
            .map(|(name, weight)| {
                let exact = total * u64::from(*weight);
                (*name, exact / sum, exact % sum)
            })
            .collect();
        let mut left = total - shares.iter().map(|(_, n, _)| n).sum::<u64>();
        let mut order: Vec<usize> = (0..shares.len()).collect();
        order.sort_by_key(|i| std::cmp::Reverse(shares[*i].2));
        for i in order {
            if left == 0 {
                break;
            }
            if weights[i].1 > 0 {
                shares[i].1 += 1;
                left -= 1;
            }
        }
        shares
            .into_iter()
            .filter(|(_, n, _)| *n > 0)
            .map(|(name, n, _)| (name, n))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_parse_and_split_the_requests_exactly() {
        let mix = Mix::default();
        assert_eq!((mix.signin, mix.me, mix.signup), (60, 30, 10));
        assert_eq!(
            mix.split(1000),
            vec![
                ("load-mixed-signin", 600),
                ("load-mixed-me", 300),
                ("load-mixed-signup", 100)
            ]
        );
        let odd: Mix = "signin=1,me=1,signup=1".parse().unwrap();
        assert_eq!(odd.split(10).iter().map(|(_, n)| n).sum::<u64>(), 10);
        let reads: Mix = "me=1".parse().unwrap();
        assert_eq!(reads.split(7), vec![("load-mixed-me", 7)]);
        assert!(
            "signin=0"
                .parse::<Mix>()
                .unwrap_err()
                .reason
                .contains("above 0")
        );
        assert!(
            "login=5"
                .parse::<Mix>()
                .unwrap_err()
                .reason
                .contains("signin, me")
        );
        assert!("me=x".parse::<Mix>().is_err());
    }
}
