//! Files pasted without `---` (INP006): every fixture, its `---` lines taken out, must read as
//! the same objects with the same findings (plus one INP006 per missing marker), and its fix
//! must put the markers back where they were, with the same corrections as the fixture's own.

#[path = "support/files.rs"]
mod files;

use std::path::Path;

use ambient_netpol::{Code, Options, Source, analyze};

/// The codes of a report's findings, sorted, without INP006.
fn codes(report: &ambient_netpol::Report) -> Vec<Code> {
    let mut codes: Vec<Code> = report
        .findings
        .iter()
        .map(|f| f.code)
        .filter(|&c| c != Code::Inp006)
        .collect();
    codes.sort();
    codes
}

/// The documents of a text split on bare `---` lines, when that is all its markers are and each
/// document starts with `apiVersion` or `kind` after its comments (what a pasted file looks
/// like); `None` otherwise.
fn pasteable(text: &str) -> Option<Vec<&str>> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare.starts_with("---") || bare.starts_with("...") {
            if bare != "---" {
                return None;
            }
            docs.push(&text[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    docs.push(&text[start..]);
    docs.retain(|d| !d.trim().is_empty());
    let starts_an_object = |doc: &str| {
        doc.lines()
            .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .is_some_and(|l| l.starts_with("apiVersion:") || l.starts_with("kind:"))
    };
    (docs.len() > 1 && docs.iter().all(|d| starts_an_object(d))).then_some(docs)
}

#[test]
fn every_fixture_pasted_without_markers_reads_and_fixes_the_same() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let options = Options::default();
    let mut checked = 0;
    for case in files::sorted(root).into_iter().filter(|p| p.is_dir()) {
        for file in files::sorted(&case) {
            if file.extension().is_none_or(|e| e != "yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            let Some(docs) = pasteable(&text) else {
                continue;
            };
            let name = file.display();
            let pasted = docs.concat();
            let source = |text| {
                [Source {
                    name: "x.yaml",
                    text,
                }]
            };
            let original = analyze(&source(&text), &options);
            let report = analyze(&source(&pasted), &options);
            let inp006 = |r: &ambient_netpol::Report| {
                r.findings.iter().filter(|f| f.code == Code::Inp006).count()
            };
            // (A fixture may have pasted objects of its own.)
            assert_eq!(
                inp006(&report),
                inp006(&original) + docs.len() - 1,
                "{name}"
            );
            assert_eq!(codes(&report), codes(&original), "{name}");
            assert_eq!(report.objects, original.objects, "{name}");
            // The fix puts each marker back where it was (the fixture's blank lines and comments
            // stay on their side of it), with the fixture's own corrections.
            let marker = if text.contains("\r\n") {
                "---\r\n"
            } else {
                "---\n"
            };
            let expected: String = docs.join(marker);
            let fixed_original = analyze(&source(&expected), &options).fixed.texts;
            assert_eq!(report.fixed.texts, fixed_original, "{name}");
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked} fixtures checked");
}
