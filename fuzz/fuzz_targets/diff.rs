//! The unified diff of any two texts: never panics, and names the file in its headers.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|pair: (&str, &str)| {
    let (old, new) = pair;
    let diff = ambient_netpol::diff::unified(&["f.yaml"], &[old], &[new.to_string()]);
    assert_eq!(diff.is_empty(), old == new);
    if !diff.is_empty() {
        assert!(diff.starts_with("--- a/f.yaml\n+++ b/f.yaml\n"));
    }
});
