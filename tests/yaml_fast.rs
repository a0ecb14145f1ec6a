//! The YAML fast path (`src/input/yaml/fast.rs`) against saphyr: wherever the fast path reads a
//! document, its tree (spans included) is saphyr's, on every YAML and JSON file the tests use,
//! on generated clusters and on generated Kubernetes-like text. And it reads nearly all of the
//! clusters and of the real-world manifests, or it would not be faster.

#[path = "support/cluster.rs"]
mod cluster;

use std::path::{Path, PathBuf};

use ambient_netpol::input::yaml::{document_ranges, parse_fast, parse_saphyr};
use proptest::prelude::*;

/// Documents of `text` and how many of them the fast path read; panics where it read one
/// differently from saphyr.
fn compare(name: &str, text: &str) -> (usize, usize) {
    let (mut docs, mut fast) = (0, 0);
    for (start, end, line) in document_ranges(text) {
        docs += 1;
        let chunk = &text[start..end];
        let Some(quick) = parse_fast(chunk, start, line) else {
            continue;
        };
        fast += 1;
        let slow = parse_saphyr(chunk, start, line);
        assert_eq!(
            Ok(quick),
            slow,
            "{name}: the fast path read the document at line {line} differently:\n{chunk}"
        );
    }
    (docs, fast)
}

/// The same as a property: `Err` names the document read differently.
fn agree(text: &str) -> Result<(), TestCaseError> {
    for (start, end, line) in document_ranges(text) {
        let chunk = &text[start..end];
        if let Some(quick) = parse_fast(chunk, start, line) {
            let slow = parse_saphyr(chunk, start, line);
            prop_assert_eq!(Ok(quick), slow, "{:?}", chunk);
        }
    }
    Ok(())
}

/// The YAML and JSON files under `dir`, recursively, in name order.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            || path.starts_with(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile"))
            || path.starts_with(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus"))
        {
            out.push(path);
        }
    }
}

fn share(fast: usize, docs: usize) -> f64 {
    100.0 * fast as f64 / docs.max(1) as f64
}

#[test]
fn every_test_file_reads_alike() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    for dir in ["tests", "examples", "fuzz/corpus", "lessons"] {
        files(&root.join(dir), &mut paths);
    }
    assert!(paths.len() > 500, "{} files", paths.len());
    let realworld = root.join("tests/data/realworld");
    let (mut all, mut real) = ((0, 0), (0, 0));
    for path in &paths {
        // (A running fuzzer may remove a file of its corpus meanwhile.)
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let (docs, fast) = compare(&path.display().to_string(), &text);
        all = (all.0 + docs, all.1 + fast);
        if path.starts_with(&realworld) {
            real = (real.0 + docs, real.1 + fast);
            if fast < docs {
                println!(
                    "{}: {} of {docs} documents left to saphyr",
                    path.display(),
                    docs - fast
                );
            }
        }
    }
    println!(
        "fast path: {} of {} documents of {} files ({:.1} %), real-world manifests {} of {} ({:.1} %)",
        all.1,
        all.0,
        paths.len(),
        share(all.1, all.0),
        real.1,
        real.0,
        share(real.1, real.0)
    );
    assert!(share(real.1, real.0) >= 90.0, "real-world share too low");
}

#[test]
fn generated_clusters_read_alike_and_fast() {
    let mut texts = vec![
        // `gen-cluster L 1 100`, the benchmarks' L + 100 (L and its first 2,564 documents).
        cluster::generate(cluster::L, 1)
            + &cluster::cluster_policies(100, cluster::L.namespaces, 1),
        cluster::generate_with(cluster::M, 2, true),
        cluster::generate_mesh(cluster::S, 3) + &cluster::authorization_policies(20, cluster::S, 3),
        cluster::cluster_policies(30, 10, 4),
        cluster::cilium_policies(30, 10, 5),
        cluster::calico_policies(30, 10, 6),
        cluster::calico_nca_policies(30, cluster::S, 7),
    ];
    texts.push(cluster::generate(cluster::M, 8) + &cluster::cluster_policies(20, 10, 8));
    for (i, text) in texts.iter().enumerate() {
        let (docs, fast) = compare(&format!("cluster {i}"), text);
        println!(
            "cluster {i}: fast path {fast} of {docs} documents ({:.1} %)",
            share(fast, docs)
        );
        assert!(share(fast, docs) >= 99.0, "cluster {i}: share too low");
    }
}

/// Kubernetes-like YAML from a seed: maps and lists nested in every block style (indentation
/// of 1 to 4, `- ` entries holding maps inline or below, lists at their key's column),
/// scalars plain, quoted and odd, flow collections, comments and blank lines.
struct Gen {
    rng: cluster::Rng,
    out: String,
}

/// Scalars as written: plain ones with indicators inside, quoted ones with escapes, and some that
/// are not scalars at all (saphyr reads those as something else, or rejects them).
const SCALARS: &[&str] = &[
    "web",
    "80",
    "8080",
    "-1",
    "~",
    "null",
    "true",
    "a b",
    "a:b",
    "a#b",
    "a -b",
    "a - b",
    "a #c",
    "a: b",
    "key:value",
    "http://x.y/z",
    "10.0.0.0/8",
    "é café",
    "日本語",
    "a'b",
    "a\"b",
    "a{b}",
    "a[0]",
    "[a",
    "{a",
    "a,b",
    "?x",
    ":x",
    "-x",
    "--flag",
    "-",
    "?",
    ":",
    "a  ",
    "@x",
    "%x",
    "*x",
    "&x",
    "!x",
    "|",
    ">",
    ">-",
    "|\n  text",
    "'q'",
    "'it''s'",
    "''",
    "'a # b'",
    "'a: b'",
    "' x '",
    "\"q\"",
    "\"\"",
    "\"a\\nb\"",
    "\"\\t\\\"\\\\\"",
    "\"\\x41\\u00e9\\U0001F600\"",
    "\"\\q\"",
    "\"\\/\"",
    "\"a # b\"",
    "\"a: b\"",
    "\"\\x4\"",
    "\"\\uD800\"",
    "\"x\"y",
    "'x'y",
    "\"x\"#c",
    "\"x\" #c",
    "{}",
    "[]",
    "[TCP, UDP]",
    "{a: b, c: d}",
    "{ }",
    "[ ]",
    "[a,b]",
    "{a: b,}",
    "[a, ]",
    "{a:b}",
    "{\"a\": 1}",
    "{\"a\":1}",
    "[\"a\" , 'b' ]",
    "{a: [b, c], d: {e: f}}",
    "[a: b]",
    "[-]",
    "[a-]",
    "[a -]",
    "[a #c]",
    "{a: b} # c",
    "[x] #c",
    "[x]#c",
    "&a x",
    "*a",
    "!!str x",
    "a\tb",
    "x\r",
    "a:",
    "a :",
    "\u{feff}x",
    "a\u{85}b",
    "--- x",
    "... x",
    "# c",
    "a  # c",
    "'a'  # c",
];

const KEYS: &[&str] = &[
    "name",
    "app",
    "port",
    "a b",
    "\"quoted\"",
    "'single'",
    "a:b",
    "-x",
    "?x",
    "é",
    "key",
    "k-1",
    "x.y/z",
    "\"a\\\"b\"",
    "''",
    "\"\"",
    "~",
    "null",
    "[a]",
    "{a: b}",
    "? q",
    "a#b",
];

impl Gen {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.rng.below(from.len())]
    }

    fn comment(&mut self, indent: usize) {
        match self.rng.below(12) {
            0 => self.out.push('\n'),
            1 => {
                let pad = " ".repeat(self.rng.below(indent + 3));
                self.out.push_str(&format!("{pad}# a comment: - x\n"));
            }
            2 => self.out.push_str("   \n"),
            _ => {}
        }
    }

    fn line_end(&mut self) {
        match self.rng.below(10) {
            0 => self.out.push_str("  # trailing"),
            1 => self.out.push_str("   "),
            2 => self.out.push_str(" #"),
            _ => {}
        }
        self.out.push('\n');
    }

    /// A map at column `col` whose first key goes right after what is written (`first_inline`:
    /// after a `- `).
    fn map(&mut self, col: usize, depth: usize, first_inline: bool) {
        let n = 1 + self.rng.below(4);
        for i in 0..n {
            if i > 0 || !first_inline {
                self.comment(col);
                self.out.push_str(&" ".repeat(col));
            }
            let key = if self.rng.chance(85) {
                ["name", "kind", "spec", "ports", "labels", "from", "to"][self.rng.below(7)]
            } else {
                self.pick(KEYS)
            };
            self.out.push_str(key);
            self.out.push(':');
            self.value(col, depth);
        }
    }

    /// The value after a `key:` of a map at column `col`.
    fn value(&mut self, col: usize, depth: usize) {
        let step = 1 + self.rng.below(4);
        match if depth > 4 { 0 } else { self.rng.below(8) } {
            0..=2 => {
                self.out
                    .push_str(&" ".repeat(1 + usize::from(self.rng.chance(10))));
                let s = self.pick(SCALARS);
                self.out.push_str(s);
                self.line_end();
            }
            3 => self.line_end(), // empty
            4 => {
                self.line_end();
                self.map(col + step, depth + 1, false);
            }
            5 => {
                // A list at the key's column.
                self.line_end();
                self.seq(col, depth + 1);
            }
            _ => {
                self.line_end();
                self.seq(col + step, depth + 1);
            }
        }
    }

    fn seq(&mut self, col: usize, depth: usize) {
        let n = 1 + self.rng.below(3);
        for _ in 0..n {
            self.comment(col);
            self.out.push_str(&" ".repeat(col));
            self.out.push('-');
            let gap = 1 + self.rng.below(3);
            match if depth > 4 { 0 } else { self.rng.below(7) } {
                0 | 1 => {
                    self.out.push_str(&" ".repeat(gap));
                    let s = self.pick(SCALARS);
                    self.out.push_str(s);
                    self.line_end();
                }
                2 => self.line_end(), // empty entry
                3 | 4 => {
                    self.out.push_str(&" ".repeat(gap));
                    self.map(col + 1 + gap, depth + 1, true);
                }
                5 => {
                    self.line_end();
                    let step = 1 + self.rng.below(3);
                    self.map(col + step, depth + 1, false);
                }
                _ => {
                    self.out.push_str(&" ".repeat(gap));
                    self.seq_inline(col + 1 + gap, depth + 1);
                }
            }
        }
    }

    /// A list whose first `-` goes right after what is written (`- - a`).
    fn seq_inline(&mut self, col: usize, depth: usize) {
        self.out.push_str("- ");
        let s = self.pick(SCALARS);
        self.out.push_str(s);
        self.line_end();
        if self.rng.chance(50) {
            self.seq(col, depth);
        }
    }

    fn document(seed: u64) -> String {
        let mut g = Gen {
            rng: cluster::Rng::new(seed),
            out: String::new(),
        };
        if g.rng.chance(30) {
            g.out
                .push_str(["---\n", "--- # c\n", "---  \n"][g.rng.below(3)]);
        }
        match g.rng.below(8) {
            0 => g.seq(0, 1),
            1 => {
                // A root map indented as a whole.
                let col = 1 + g.rng.below(2);
                g.map(col, 0, false);
            }
            _ => {
                g.out.push_str("apiVersion: v1\nkind: Thing\n");
                g.map(0, 0, false);
            }
        }
        g.out
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Generated documents, and the same with a character inserted, removed or replaced: where
    /// the fast path reads one, saphyr reads it alike.
    #[test]
    fn generated_yaml_reads_alike(
        seed in any::<u64>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..3, prop::sample::select(&[' ', '-', ':', '#', '"', '\'', '\n', '{', '}', '[', ']', ',', 'a', '\\', 'é', '\t', '&', '|', '?'][..])), 0..3),
    ) {
        let text = Gen::document(seed);
        agree(&text)?;
        let mut edited: Vec<char> = text.chars().collect();
        for (at, how, c) in edits {
            let i = at.index(edited.len() + 1);
            match how {
                0 => edited.insert(i, c),
                1 if i < edited.len() => { edited.remove(i); }
                _ if i < edited.len() => edited[i] = c,
                _ => {}
            }
        }
        agree(&edited.into_iter().collect::<String>())?;
    }
}

/// The generator writes what the fast path reads, most of the time, or the property above would
/// test little.
#[test]
fn the_generator_mostly_stays_in_the_subset() {
    let (mut docs, mut fast) = (0, 0);
    for seed in 0..500 {
        let (d, f) = compare("generated", &Gen::document(seed));
        docs += d;
        fast += f;
    }
    println!("generated: fast path {fast} of {docs} documents");
    assert!(fast * 5 >= docs, "{fast} of {docs}");
}

/// saphyr's quirks that the fast path keeps, and what it leaves to saphyr.
#[test]
fn quirks_read_alike_and_the_rest_goes_to_saphyr() {
    let read = [
        // An empty value sits at its `:`; an empty entry at the end of its `-` line.
        "a:\nb: 1\n",
        "- \n- x\n",
        // A quoted scalar's span runs over the blanks and the comment after it, as does an
        // empty flow collection's.
        "a: \"x\"   # c\nb: 'y' \nc: {}  # d\nd: [ ]\n",
        // A list at its key's column starts where its first entry's content does.
        "a:\n-   x\n- y\nb:\n- # c\n  k: v\n",
        "- - a\n  - b\n- c: d\n  e: [f, \"g\" , 'h']\n",
        // Columns count characters.
        "é: \"ü\"\nß:\n  - ñ: {ö: ä}\n",
        "--- # c\n  a: 1\n  b: \"\\x41\\u00e9\\t\\\\\"\n",
        "# only a comment\n",
    ];
    for text in read {
        assert!(parse_fast(text, 0, 1).is_some(), "not read: {text:?}");
        assert_eq!(compare("quirk", text), (1, 1), "{text:?}");
    }
    let left = [
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: |\n  x\n",
        "a:\tb\n",
        "a: b\r\n",
        "a: b\n  c\n",
        "a: 1\na: 2\n",
        "a: b: c\n",
        "a: \"x\"#c\n",
        "a:\n  value\n",
        "a: [b, ]\n",
        "? a\n: b\n",
        "a: \"x\n  y\"\n",
        "a:\n  b: 1\n c: 2\n",
        "\u{feff}a: 1\n",
    ];
    for text in left {
        assert_eq!(parse_fast(text, 0, 1), None, "read: {text:?}");
    }
}
