//! The YAML fast path against saphyr: on any text, document by document, the fast path either
//! leaves the document to saphyr or reads it exactly as saphyr does (spans included), and never
//! panics.
#![no_main]
use ambient_netpol::input::yaml::{document_ranges, parse_fast, parse_saphyr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for (start, end, line) in document_ranges(text) {
        let chunk = &text[start..end];
        if let Some(fast) = parse_fast(chunk, start, line) {
            assert_eq!(Ok(fast), parse_saphyr(chunk, start, line), "{chunk:?}");
        }
    }
    // The whole text as one document too (markers inside, which the fast path leaves alone).
    if let Some(fast) = parse_fast(text, 0, 1) {
        assert_eq!(Ok(fast), parse_saphyr(text, 0, 1), "{text:?}");
    }
});
