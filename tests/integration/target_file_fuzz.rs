//! The target-file loader never panics: arbitrary text, and arbitrary edits of a valid file, give a
//! description or an error with file:line:col.

use std::path::Path;

use authconform::target::{self, TargetFlags};
use proptest::prelude::*;

const VALID: &str = include_str!("../../fixtures/targets/reference-short-windows.toml");

proptest! {
    // PROPTEST_CASES (scripts/fuzz.sh) runs a longer campaign; 400 cases otherwise.
    #![proptest_config(ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() { ProptestConfig::default().cases } else { 400 },
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = target::resolve(Some((Path::new("target.toml"), &text)), &TargetFlags::default());
    }

    #[test]
    fn edited_valid_files_never_panic(cut in 0usize..2000, insert in "[\\[\\]=\"{},.a-z0-9 \\n-]{0,12}") {
        let cut = cut.min(VALID.len());
        let cut = (0..=cut).rev().find(|&i| VALID.is_char_boundary(i)).unwrap_or(0);
        let text = format!("{}{}{}", &VALID[..cut], insert, &VALID[cut..]);
        match target::resolve(Some((Path::new("target.toml"), &text)), &TargetFlags::default()) {
            Ok(_) => {}
            Err(error) => {
                let message = error.to_string();
                prop_assert!(!message.is_empty());
            }
        }
    }
}

#[test]
fn a_mistake_is_reported_with_file_line_and_column() {
    let text = VALID.replace("slack_ms = 400", "slack_ms = \"soon\"");
    let error = target::resolve(
        Some((Path::new("target.toml"), &text)),
        &TargetFlags::default(),
    )
    .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("target.toml:"), "{message}");
}
