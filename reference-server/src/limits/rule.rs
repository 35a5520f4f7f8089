//! The rule a limiter enforces, whichever store keeps its counts: how many attempts per window, what
//! happens past them (refusal or lockout), and how attempts are grouped in time.

/// What happens once a key has used up its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnExceed {
    /// Refused until the window that counted `limit` attempts has passed; refused attempts do not count.
    Refuse,
    /// Every attempt counts, refused ones too; attempt `limit + 1` starts a lockout of this length, during
    /// which everything is refused. A lockout is not extended by attempts made during it.
    LockOut { for_ms: u64 },
}

/// How attempts are grouped in time (the documents allow either reading).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum WindowKind {
    /// A window opens at a key's first counted attempt and closes `window_ms` later.
    #[default]
    Fixed,
    /// At any moment, the attempts of the last `window_ms` count.
    Sliding,
    /// A window opens at every multiple of `window_ms` on the server's clock (epoch-aligned buckets, as
    /// cache-counter limiters keep them), whenever a key's first attempt came.
    Aligned,
}

/// The rule a limiter enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) limit: u64,
    pub(crate) window_ms: u64,
    pub(crate) on_exceed: OnExceed,
    pub(crate) kind: WindowKind,
    /// For lockouts: every attempt during a lockout restarts it.
    pub(crate) lockout_extends: bool,
    /// For lockouts (a deliberate fault, fixed windows in memory only): the lockout ends when the window
    /// that counted the attempts ends, not a full lockout after the attempt that started it.
    pub(crate) lockout_ends_with_window: bool,
    /// The longest wait a refusal announces (`Retry-After`): the configured window or lockout, even when a
    /// deliberate fault makes the real one longer, so that fault breaks only the requirement it names.
    pub(crate) announced_ms: u64,
}

impl Rule {
    /// A fixed window that refuses once `limit` attempts are used.
    pub(crate) fn refuse(limit: u64, window_ms: u64) -> Rule {
        Rule {
            limit,
            window_ms,
            on_exceed: OnExceed::Refuse,
            kind: WindowKind::Fixed,
            lockout_extends: false,
            lockout_ends_with_window: false,
            announced_ms: window_ms,
        }
    }

    /// A fixed window whose attempt `limit + 1` starts a lockout of `for_ms`.
    pub(crate) fn lock_out(limit: u64, window_ms: u64, for_ms: u64) -> Rule {
        Rule {
            on_exceed: OnExceed::LockOut { for_ms },
            announced_ms: for_ms,
            ..Rule::refuse(limit, window_ms)
        }
    }

    pub(crate) fn with_kind(self, kind: WindowKind) -> Rule {
        Rule { kind, ..self }
    }

    /// The same rule, announcing at most `announced_ms` of wait.
    pub(crate) fn announcing(self, announced_ms: u64) -> Rule {
        Rule {
            announced_ms,
            ..self
        }
    }
}
