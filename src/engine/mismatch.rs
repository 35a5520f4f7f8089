//! A mismatch: one expectation that did not hold, as what was expected and what came instead.

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mismatch {
    pub(crate) expected: String,
    pub(crate) actual: String,
}

impl Mismatch {
    pub(crate) fn new(expected: impl Into<String>, actual: impl Into<String>) -> Mismatch {
        Mismatch {
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}
