//! Any text: `analyze` returns a report (never panics, never hangs).
#![no_main]
use ambient_netpol::{Options, Source, analyze};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = analyze(
        &[Source {
            name: "fuzz.yaml",
            text,
        }],
        &Options::default(),
    );
});
