//! Unified diff of the input against the fixed text (the `similar` crate's Myers diff), with `a/`
//! and `b/` headers so `git apply` takes it.
//!
//! Two levels: Myers first over the texts' YAML documents, then over the lines of each run of
//! changed documents (and the equal document on each side) only. A fix changes a few documents of
//! many, so the line diff reads those instead of the whole text (Myers' cost grows with the text's
//! length times its changes); the equal documents between the runs are equal lines, and the line
//! script is grouped into hunks as one. A text without `---` markers is one document: a plain
//! line diff.
//!
//! Only `capture_diff` / `capture_diff_slices` and `group_diff_ops` of `similar` are used, all
//! over `u32` numbers: its `TextDiff` front end instantiates the algorithm for many types and
//! costs the page's wasm about 45 KB gzipped (measured), this path a fraction of it.

use std::ops::Range;

use similar::{Algorithm, DiffOp, capture_diff, capture_diff_slices, group_diff_ops};

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
        let (old, new) = (Text::new(old), Text::new(new));
        out.push_str(&format!("--- a/{name}\n+++ b/{name}\n"));
        for group in group_diff_ops(line_ops(&old, &new), CONTEXT) {
            hunk(&mut out, &group, &old, &new);
        }
    }
    out
}

/// A text cut into its YAML documents: a document starts at a `---` marker line, and the lines
/// before the first marker are one too. Lines are split only where they are read (the changed
/// documents and the hunks' context).
struct Text<'a> {
    text: &'a str,
    /// Each document's first byte, then the text's length.
    at: Vec<usize>,
    /// Each document's first line, then the number of lines.
    starts: Vec<usize>,
}

impl<'a> Text<'a> {
    fn new(text: &'a str) -> Self {
        let (mut at, mut starts) = (vec![0], vec![0]);
        let (mut byte, mut lines) = (0, 0);
        for line in text.as_bytes().split_inclusive(|&b| b == b'\n') {
            let marker = line.strip_prefix(b"---").is_some_and(|rest| {
                matches!(rest.first(), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
            });
            if marker && lines > 0 {
                at.push(byte);
                starts.push(lines);
            }
            byte += line.len();
            lines += 1;
        }
        at.push(byte);
        starts.push(lines);
        Text { text, at, starts }
    }

    fn docs(&self) -> impl Iterator<Item = &'a str> {
        self.at.windows(2).map(|doc| &self.text[doc[0]..doc[1]])
    }

    /// The lines of the documents `docs`.
    fn lines_of(&self, docs: Range<usize>) -> Range<usize> {
        self.starts[docs.start]..self.starts[docs.end]
    }

    /// The lines `lines`, split from the document holding the first.
    fn lines(&self, lines: Range<usize>) -> impl Iterator<Item = &'a str> {
        let doc = self.starts.partition_point(|&start| start <= lines.start) - 1;
        self.text[self.at[doc]..]
            .split_inclusive('\n')
            .skip(lines.start - self.starts[doc])
            .take(lines.len())
    }
}

/// The line edit script of `old` into `new`: Myers over the documents, then over the lines between
/// the equal runs of documents. The line diff of a change reads the equal document on each side
/// of it too, so that it slides its edits over them as a single-level diff does (`similar` moves
/// an inserted document down to where its first lines stop repeating the next document's).
///
/// The diffs run over numbers, equal where the texts are: they compare numbers, not text (the
/// same edit script, since the algorithm reads only which items are equal).
fn line_ops(old: &Text, new: &Text) -> Vec<DiffOp> {
    let mut ids = foldhash::HashMap::default();
    let old_docs = number(&mut ids, old.docs());
    let new_docs = number(&mut ids, new.docs());
    let ends = (old_docs.len(), new_docs.len());
    let mut equal = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, &old_docs, &new_docs) {
        if let DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = op
        {
            let head = usize::from((old_index, new_index) != (0, 0));
            let tail = usize::from((old_index + len, new_index + len) != ends);
            if len > head + tail {
                equal.push((old_index + head, new_index + head, len - head - tail));
            }
        }
    }
    ids.clear();
    // Only the changed lines and their neighbours are numbered: the diffs read nothing else.
    let mut old_ids = vec![0; old.starts[ends.0]];
    let mut new_ids = vec![0; new.starts[ends.1]];
    let mut ops: Vec<DiffOp> = Vec::new();
    let mut at = (0, 0);
    for (old_doc, new_doc, len) in equal.into_iter().chain([(ends.0, ends.1, 0)]) {
        let old_range = old.lines_of(at.0..old_doc);
        let new_range = new.lines_of(at.1..new_doc);
        if !old_range.is_empty() || !new_range.is_empty() {
            for (i, line) in old_range.clone().zip(old.lines(old_range.clone())) {
                old_ids[i] = id(&mut ids, line);
            }
            for (i, line) in new_range.clone().zip(new.lines(new_range.clone())) {
                new_ids[i] = id(&mut ids, line);
            }
            ops.extend(capture_diff(
                Algorithm::Myers,
                &old_ids[..],
                old_range,
                &new_ids[..],
                new_range,
            ));
        }
        let lines = old.lines_of(old_doc..old_doc + len);
        if !lines.is_empty() {
            ops.push(DiffOp::Equal {
                old_index: lines.start,
                new_index: new.starts[new_doc],
                len: lines.len(),
            });
        }
        at = (old_doc + len, new_doc + len);
    }
    // Equal ranges that meet are one, as in a single-level script (hunks split on their length).
    ops.dedup_by(|next, op| match (op, *next) {
        (DiffOp::Equal { len, .. }, DiffOp::Equal { len: more, .. }) => {
            *len += more;
            true
        }
        _ => false,
    });
    ops
}

/// Each item's number: the same for equal items.
fn number<'a>(
    ids: &mut foldhash::HashMap<&'a str, u32>,
    items: impl Iterator<Item = &'a str>,
) -> Vec<u32> {
    items.map(|item| id(ids, item)).collect()
}

fn id<'a>(ids: &mut foldhash::HashMap<&'a str, u32>, item: &'a str) -> u32 {
    let next = ids.len() as u32;
    *ids.entry(item).or_insert(next)
}

fn hunk(out: &mut String, group: &[DiffOp], old: &Text, new: &Text) {
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
    let old_lines: Vec<&str> = old.lines(old_start..old_start + old_len).collect();
    let new_lines: Vec<&str> = new.lines(new_start..new_start + new_len).collect();
    for op in group {
        for i in op.old_range() {
            if !matches!(op, DiffOp::Insert { .. }) {
                let sign = if matches!(op, DiffOp::Equal { .. }) {
                    ' '
                } else {
                    '-'
                };
                line(out, sign, old_lines[i - old_start]);
            }
        }
        if !matches!(op, DiffOp::Equal { .. } | DiffOp::Delete { .. }) {
            for i in op.new_range() {
                line(out, '+', new_lines[i - new_start]);
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

    /// The single-level diff, as before the documents: Myers over all the lines.
    fn plain(old: &str, new: &str) -> String {
        let mut ids = foldhash::HashMap::default();
        let old_ids = number(&mut ids, old.split_inclusive('\n'));
        let new_ids = number(&mut ids, new.split_inclusive('\n'));
        let ops = capture_diff_slices(Algorithm::Myers, &old_ids, &new_ids);
        let mut out = "--- a/f\n+++ b/f\n".to_string();
        for group in group_diff_ops(ops, CONTEXT) {
            hunk(&mut out, &group, &Text::new(old), &Text::new(new));
        }
        out
    }

    /// A NetworkPolicy of 13 lines (its `---` included) allowing `ports`.
    fn doc(name: &str, ports: &[&str]) -> String {
        let mut doc = format!(
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n  namespace: ns\nspec:\n  podSelector: {{}}\n  ingress:\n  - ports:\n"
        );
        for port in ports {
            doc.push_str(&format!("    - port: {port}\n      protocol: TCP\n"));
        }
        doc
    }

    /// Both diffs, checked equal; the diff.
    fn same_as_plain(old: &str, new: &str) -> String {
        let diff = unified(&["f"], &[old], &[new.to_string()]);
        assert_eq!(diff, plain(old, new));
        diff
    }

    fn hunks(diff: &str) -> Vec<&str> {
        diff.lines().filter(|l| l.starts_with("@@")).collect()
    }

    #[test]
    fn documents_split_at_markers_only() {
        let text = "a: 1\n--- # c\nb: 2\n----\n---\n--- !t\n---x\n---";
        let docs: Vec<&str> = Text::new(text).docs().collect();
        assert_eq!(
            docs,
            [
                "a: 1\n",
                "--- # c\nb: 2\n----\n",
                "---\n",
                "--- !t\n---x\n",
                "---"
            ]
        );
        assert_eq!(Text::new(text).starts, [0, 1, 4, 5, 7, 8]);
        let text = "---\na\n---\r\nb";
        assert_eq!(
            Text::new(text).docs().collect::<Vec<_>>(),
            ["---\na\n", "---\r\nb"]
        );
        assert_eq!(Text::new("").docs().collect::<Vec<_>>(), [""]);
    }

    #[test]
    fn a_change_in_one_document_is_one_hunk_as_in_a_line_diff() {
        let docs: Vec<String> = (0..6).map(|i| doc(&format!("p{i}"), &["80"])).collect();
        let old = docs.concat();
        let mut new_docs = docs.clone();
        new_docs[3] = doc("p3", &["80", "15008"]);
        let diff = same_as_plain(&old, &new_docs.concat());
        assert_eq!(hunks(&diff), ["@@ -46,6 +46,8 @@"]);
    }

    #[test]
    fn documents_inserted_and_removed() {
        let docs: Vec<String> = (0..6).map(|i| doc(&format!("p{i}"), &["80"])).collect();
        let old = docs.concat();
        let mut new_docs = docs.clone();
        new_docs.insert(2, doc("waypoint", &["15008"]));
        same_as_plain(&old, &new_docs.concat());
        new_docs.push(doc("last", &["15008"]));
        same_as_plain(&old, &new_docs.concat());
        let mut new_docs = docs.clone();
        new_docs.remove(4);
        same_as_plain(&old, &new_docs.concat());
        // Two removals: the line diff aligns the second one differently (either is as short).
        new_docs.remove(0);
        let new = new_docs.concat();
        let diff = unified(&["f"], &[&old], std::slice::from_ref(&new));
        assert_eq!(apply(&old, &diff), new);
        assert_eq!(changed(&diff), changed(&plain(&old, &new)));
    }

    /// `diff` applied to `old`.
    fn apply(old: &str, diff: &str) -> String {
        let old: Vec<&str> = old.split_inclusive('\n').collect();
        let (mut out, mut next, mut pushed) = (String::new(), 0, false);
        for line in diff.split_inclusive('\n').skip(2) {
            if let Some(hunk) = line.strip_prefix("@@ -") {
                let range = hunk.split(' ').next().unwrap();
                let start: usize = range.split(',').next().unwrap().parse().unwrap();
                // An empty range names the line before it.
                let start = if range.ends_with(",0") {
                    start
                } else {
                    start - 1
                };
                out.extend(old[next..start].iter().copied());
                next = start;
                continue;
            }
            let (sign, text) = line.split_at(1);
            match sign {
                " " | "+" => out.push_str(text),
                "\\" if pushed => drop(out.pop()),
                _ => {}
            }
            next += usize::from(sign == " " || sign == "-");
            pushed = sign == " " || sign == "+";
        }
        out.extend(old[next..].iter().copied());
        out
    }

    /// The lines a diff removes and adds.
    fn changed(diff: &str) -> usize {
        diff.lines()
            .skip(2)
            .filter(|l| l.starts_with(['+', '-']))
            .count()
    }

    #[test]
    fn random_edits_of_documents_apply() {
        let mut seed = 7u64;
        let mut random = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let ports = ["80", "443", "8080", "15008"];
        let mut same = 0;
        for case in 0..300 {
            let docs: Vec<String> = (0..1 + random(12))
                .map(|_| doc(&format!("p{}", random(4)), &ports[..1 + random(3)]))
                .collect();
            let mut new_docs = docs.clone();
            for _ in 0..1 + random(4) {
                let at = random(new_docs.len() + 1);
                let port = ports[random(4)];
                match random(4) {
                    0 => new_docs.insert(at, doc(&format!("p{}", random(4)), &[port])),
                    1 if at < new_docs.len() => drop(new_docs.remove(at)),
                    _ if at < new_docs.len() => {
                        new_docs[at] = new_docs[at].replacen("80\n", &format!("{port}\n"), 1)
                    }
                    _ => {}
                }
            }
            let mut old = format!("# c\n{}", docs.concat());
            let mut new = format!("# c\n{}", new_docs.concat());
            if case % 3 == 0 {
                old = docs.concat().trim_end().to_string();
            }
            if case % 5 == 0 {
                new = new.trim_end().to_string();
            }
            let diff = unified(&["f"], &[&old], std::slice::from_ref(&new));
            assert_eq!(apply(&old, &diff), new, "{diff}");
            let plain = plain(&old, &new);
            assert_eq!(apply(&old, &plain), new);
            same += usize::from(diff == plain);
        }
        // These documents repeat each other (4 names, 3 port lists): in some cases (40 of 300
        // when written) the line diff pairs lines across documents into another script than the
        // documents' one, shorter in 12; nearly all are the same.
        assert!(same >= 250, "{same} of 300 the same as the line diff");
    }

    #[test]
    fn changes_in_the_first_and_last_documents() {
        let docs: Vec<String> = (0..5).map(|i| doc(&format!("p{i}"), &["80"])).collect();
        // The lines before the first marker are a document too.
        let old = format!("# header\n{}", docs.concat());
        let new = format!(
            "# header 2\n{}{}",
            docs[..4].concat(),
            doc("p4", &["80", "15008"])
        );
        let diff = same_as_plain(&old, &new);
        assert_eq!(hunks(&diff).len(), 2);
        let new = format!(
            "{}{}",
            doc("p0", &["81"]),
            &new[new.find("---\n").unwrap_or(0) + 4..]
        );
        same_as_plain(&old, &new);
    }

    #[test]
    fn hunks_of_neighbouring_documents_merge() {
        let docs: Vec<String> = (0..4).map(|i| doc(&format!("p{i}"), &["80"])).collect();
        // The last line of p1 (24) and the fifth of p2 (29): four equal lines between, one hunk.
        let mut new_docs = docs.clone();
        new_docs[1] = new_docs[1].replace("protocol: TCP", "protocol: UDP");
        new_docs[2] = new_docs[2].replace("name: p2", "name: q2");
        let diff = same_as_plain(&docs.concat(), &new_docs.concat());
        assert_eq!(hunks(&diff), ["@@ -21,12 +21,12 @@"]);
        // Six equal lines between (`spec:`, 31): still one.
        new_docs[2] = docs[2].replace("spec:", "spec: # s");
        let diff = same_as_plain(&docs.concat(), &new_docs.concat());
        assert_eq!(hunks(&diff), ["@@ -21,14 +21,14 @@"]);
        // Seven (`podSelector`, 32): two.
        new_docs[2] = docs[2].replace("{}", "{a: b}");
        let diff = same_as_plain(&docs.concat(), &new_docs.concat());
        assert_eq!(hunks(&diff).len(), 2);
    }

    #[test]
    fn documents_without_a_final_newline() {
        let docs: Vec<String> = (0..3).map(|i| doc(&format!("p{i}"), &["80"])).collect();
        let old = docs.concat();
        let old = old.trim_end();
        let new = format!("{}{}", docs[..2].concat(), doc("p2", &["80", "443"]));
        let diff = same_as_plain(old, new.trim_end());
        assert!(
            diff.ends_with(" - port: 443\n       protocol: TCP\n\\ No newline at end of file\n")
        );
        same_as_plain(old, &new);
        same_as_plain(&new, old);
        same_as_plain("", &new);
        same_as_plain(&new, "");
    }
}
