//! Unified diff of the input against the fixed text (the `similar` crate's Myers diff), with `a/`
//! and `b/` headers so `git apply` takes it.
//!
//! Only `capture_diff_slices` and `group_diff_ops` of `similar` are used, over line slices: its
//! `TextDiff` front end instantiates the algorithm for many types and costs the page's wasm about
//! 45 KB gzipped (measured), this path a fraction of it.

use similar::{Algorithm, DiffOp, capture_diff_slices, group_diff_ops};

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// One unified diff over every source that changed.
pub fn unified(names: &[&str], before: &[&str], after: &[String]) -> String {
    let mut out = String::new();
    for ((name, old), new) in names.iter().zip(before).zip(after) {
        if *old == new.as_str() {
            continue;
        }
        let name = name.trim_start_matches("./").trim_start_matches('/');
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
        // The diff runs over line numbers, equal where the lines are: it compares numbers, not
        // text (the same edit script, since the algorithm reads only which lines are equal).
        let mut ids = foldhash::HashMap::default();
        let old_ids = number(&mut ids, &old_lines);
        let new_ids = number(&mut ids, &new_lines);
        let ops = capture_diff_slices(Algorithm::Myers, &old_ids, &new_ids);
        out.push_str(&format!("--- a/{name}\n+++ b/{name}\n"));
        for group in group_diff_ops(ops, CONTEXT) {
            hunk(&mut out, &group, &old_lines, &new_lines);
        }
    }
    out
}

/// Each line's number: the same for equal lines.
fn number<'a>(ids: &mut foldhash::HashMap<&'a str, u32>, lines: &[&'a str]) -> Vec<u32> {
    lines
        .iter()
        .map(|&line| {
            let next = ids.len() as u32;
            *ids.entry(line).or_insert(next)
        })
        .collect()
}

fn hunk(out: &mut String, group: &[DiffOp], old: &[&str], new: &[&str]) {
    let (Some(first), Some(last)) = (group.first(), group.last()) else {
        return;
    };
    let old_start = first.old_range().start;
    let new_start = first.new_range().start;
    let old_len = last.old_range().end - old_start;
    let new_len = last.new_range().end - new_start;
    // Unified diff numbers lines from 1; an empty range names the line before it.
    let range = |start: usize, len: usize| match len {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        n => format!("{},{n}", start + 1),
    };
    out.push_str(&format!(
        "@@ -{} +{} @@\n",
        range(old_start, old_len),
        range(new_start, new_len)
    ));
    for op in group {
        for i in op.old_range() {
            if !matches!(op, DiffOp::Insert { .. }) {
                let sign = if matches!(op, DiffOp::Equal { .. }) {
                    ' '
                } else {
                    '-'
                };
                line(out, sign, old[i]);
            }
        }
        if !matches!(op, DiffOp::Equal { .. } | DiffOp::Delete { .. }) {
            for i in op.new_range() {
                line(out, '+', new[i]);
            }
        }
    }
}

fn line(out: &mut String, sign: char, text: &str) {
    out.push(sign);
    out.push_str(text);
    if !text.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_hunks() {
        let diff = unified(&["p.yaml"], &["a\nb\n"], &["a\nb\nc\n".to_string()]);
        assert_eq!(
            diff,
            "--- a/p.yaml\n+++ b/p.yaml\n@@ -1,2 +1,3 @@\n a\n b\n+c\n"
        );
        assert_eq!(
            unified(&["p.yaml"], &["same\n"], &["same\n".to_string()]),
            ""
        );
    }

    #[test]
    fn context_is_three_lines_and_far_changes_make_two_hunks() {
        let old: String = (1..=20).map(|i| format!("l{i}\n")).collect();
        let new = old.replace("l2\n", "l2\nX\n").replace("l18\n", "l18\nY\n");
        let diff = unified(&["f"], &[&old], &[new]);
        let hunks: Vec<&str> = diff.lines().filter(|l| l.starts_with("@@")).collect();
        assert_eq!(hunks, ["@@ -1,5 +1,6 @@", "@@ -16,5 +17,6 @@"]);
    }

    #[test]
    fn a_missing_final_newline_is_marked() {
        let diff = unified(&["f"], &["a"], &["a\nb".to_string()]);
        assert_eq!(
            diff,
            "--- a/f\n+++ b/f\n@@ -1 +1,2 @@\n-a\n\\ No newline at end of file\n+a\n+b\n\\ No newline at end of file\n"
        );
    }
}
