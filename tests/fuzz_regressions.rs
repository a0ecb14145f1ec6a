//! Inputs the fuzzers (`fuzz/`) once broke, minimised, and their hand-written relatives in
//! `tests/fuzz-regressions/`: each must hold the fuzz targets' properties. Analysis returns a
//! report whose fix is not withheld, every document is held by the fix with additions only, and
//! the fixed YAML re-analyses without new input errors, with nothing left to fix in the policies
//! it corrected, and fixing it again changes nothing.

#[path = "support/files.rs"]
mod files;

use ambient_netpol::input::yaml::parse_documents;
use ambient_netpol::{Options, Report, Source, analyze};

fn input_errors(report: &Report) -> Vec<String> {
    report
        .findings
        .iter()
        .filter(|f| matches!(f.code.id(), "INP001" | "INP003"))
        .map(|f| f.message.clone())
        .collect()
}

#[test]
fn fuzz_regressions_hold_the_fuzz_properties() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let files = files::sorted(dir);
    assert!(files.len() >= 5, "{} regression files", files.len());
    let options = Options::default();
    for file in files {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        let first = analyze(
            &[Source {
                name: &name,
                text: &text,
            }],
            &options,
        );
        assert!(
            first.findings.iter().all(|f| f.code.id() != "INT001"),
            "{name}: the core withheld its fix: {:#?}",
            first.findings.iter().find(|f| f.code.id() == "INT001")
        );
        let fixed = first.fixed.combined();
        // Document by document, the input is held by the fix with additions only.
        let before: Vec<_> = parse_documents(&text).map(|d| d.root).collect();
        let after: Vec<_> = parse_documents(&fixed).map(|d| d.root).collect();
        for (old, new) in before.iter().zip(&after) {
            if let (Ok(Some(old)), Ok(Some(new))) = (old, new) {
                assert!(
                    old.is_extended_by(new),
                    "{name}: a document changed more than by additions:\n{fixed}"
                );
            }
        }
        let second = analyze(
            &[Source {
                name: &name,
                text: &fixed,
            }],
            &options,
        );
        let (before, after) = (input_errors(&first), input_errors(&second));
        assert!(
            after.len() <= before.len(),
            "{name}: the fix introduced input errors {after:?}\n{fixed}"
        );
        let left: Vec<_> = second.findings.iter().filter(|f| f.fixable).collect();
        assert!(
            left.is_empty(),
            "{name}: still fixable after the fix: {left:#?}\n{fixed}"
        );
        assert_eq!(
            second.fixed.combined(),
            fixed,
            "{name}: fixing twice changed the text"
        );
    }
}
