//! One module per finding code that needs analysis beyond reading the input (see
//! `crate::findings` for the registry of all codes).

pub mod inp004;
