//! Directory listings for the data-driven tests, in name order so failures are reproducible.

use std::path::{Path, PathBuf};

/// The entries of `dir` (files and directories), sorted by path.
pub fn sorted(dir: impl AsRef<Path>) -> Vec<PathBuf> {
    let dir = dir.as_ref();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    entries
}
