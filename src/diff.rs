//! Unified diff of the input against the fixed text (the `similar` crate), with `a/` and `b/`
//! headers so `git apply` takes it.

use similar::TextDiff;

/// One unified diff over every source that changed.
pub fn unified(names: &[&str], before: &[&str], after: &[String]) -> String {
    let mut out = String::new();
    for ((name, old), new) in names.iter().zip(before).zip(after) {
        if *old == new.as_str() {
            continue;
        }
        let name = name.trim_start_matches("./").trim_start_matches('/');
        let diff = TextDiff::from_lines(*old, new.as_str());
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{name}"), &format!("b/{name}"))
                .to_string(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_hunks() {
        let diff = unified(&["p.yaml"], &["a\nb\n"], &["a\nb\nc\n".to_string()]);
        assert!(
            diff.starts_with("--- a/p.yaml\n+++ b/p.yaml\n@@ -1,2 +1,3 @@\n"),
            "{diff}"
        );
        assert!(diff.contains("\n+c\n"));
        assert_eq!(
            unified(&["p.yaml"], &["same\n"], &["same\n".to_string()]),
            ""
        );
    }
}
