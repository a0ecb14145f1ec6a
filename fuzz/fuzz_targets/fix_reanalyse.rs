//! Fixing then re-analysing: the fixed YAML parses, brings no new input error, and fixing it again
//! changes nothing.
#![no_main]
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
    let fixed = first.fixed.combined();
    if fixed == text {
        return;
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
    assert_eq!(
        second.fixed.combined(),
        fixed,
        "fixing twice changed the text"
    );
});
