//! Fixing then re-analysing: the core never needs to withhold its fix (INT001 means a fixer bug
//! its safety net caught), every document of the input that parsed is held by the fixed text
//! with additions only, the fixed YAML brings no new input error, and fixing it again changes
//! nothing.
#![no_main]
use ambient_netpol::input::yaml::parse_documents;
use ambient_netpol::{Options, Source, analyze};
use libfuzzer_sys::fuzz_target;

fn input_errors(report: &ambient_netpol::Report) -> usize {
    report
        .findings
        .iter()
        .filter(|f| matches!(f.code.id(), "INP001" | "INP003"))
        .count()
}

fuzz_target!(|text: &str| {
    let options = Options::default();
    let first = analyze(
        &[Source {
            name: "fuzz.yaml",
            text,
        }],
        &options,
    );
    assert!(
        first.findings.iter().all(|f| f.code.id() != "INT001"),
        "the fix was withheld: {:?}",
        first.findings.iter().find(|f| f.code.id() == "INT001")
    );
    let fixed = first.fixed.texts[0].clone();
    if fixed == text {
        return;
    }
    // Edits add to documents and separate policies are appended: document by document, the
    // input's documents are held by the first ones of the fixed text. AMB010's fix edits an
    // AuthorizationPolicy's `spec` in place (checked by the fixer itself), so a document holding
    // one may change where the input has such a finding.
    let edits_authz = first
        .findings
        .iter()
        .any(|f| f.code.id() == "AMB010" && f.fixable);
    let before: Vec<_> = parse_documents(text).map(|d| d.root).collect();
    let after: Vec<_> = parse_documents(&fixed).map(|d| d.root).collect();
    assert!(after.len() >= before.len(), "documents lost:\n{fixed}");
    for (old, new) in before.iter().zip(&after) {
        if let (Ok(Some(old)), Ok(Some(new))) = (old, new) {
            // (A document that holds the word: the policy, or a List of objects with it.)
            let authz = format!("{old:?}").contains("AuthorizationPolicy");
            assert!(
                old.is_extended_by(new) || (edits_authz && authz),
                "a document changed more than by additions:\n{fixed}"
            );
        }
    }
    let second = analyze(
        &[Source {
            name: "fuzz.yaml",
            text: &fixed,
        }],
        &options,
    );
    assert!(
        input_errors(&second) <= input_errors(&first),
        "the fix introduced an input error:\n{fixed}"
    );
    assert_eq!(second.fixed.texts[0], fixed, "fixing twice changed the text");
});
