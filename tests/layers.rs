//! The core's layers point one way (ARCHITECTURE.md, "Layers"): each module of `src/` names
//! only the modules of its own layer or below. Read from the sources, so a new `use` that points
//! up fails here, with the file and the line.

use std::collections::BTreeMap;
use std::path::Path;

/// Each top-level module of the library and the modules it may name.
fn allowed() -> BTreeMap<&'static str, Vec<&'static str>> {
    let base = ["findings", "sort", "net"];
    let below_families = [&base[..], &["input", "model"]].concat();
    let mut families = BTreeMap::new();
    families.insert("netpol", below_families.clone());
    families.insert("cnp", below_families.clone());
    families.insert("istio", below_families.clone());
    // Cilium's policies are read into NetworkPolicy and cluster-wide shapes; Calico's default
    // tier holds the Kubernetes NetworkPolicies.
    families.insert("cilium", [&below_families[..], &["netpol", "cnp"]].concat());
    families.insert("calico", [&below_families[..], &["netpol"]].concat());
    let mut allowed: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    allowed.insert("findings", vec![]);
    allowed.insert("sort", vec![]);
    allowed.insert("net", vec!["sort"]);
    // The input knows which kinds the families read (their `KINDS` lists: data, not code), to
    // say INP002 and to leave cluster-scoped kinds without a namespace.
    allowed.insert(
        "input",
        vec!["findings", "sort", "cnp", "cilium", "calico", "istio"],
    );
    allowed.insert("model", [&base[..], &["input"]].concat());
    let family_names: Vec<&str> = families.keys().copied().collect();
    allowed.insert(
        "pipeline",
        [&below_families[..], &family_names[..]].concat(),
    );
    allowed.extend(families);
    allowed
}

#[test]
fn modules_name_only_their_layer_and_below() {
    let allowed = allowed();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (module, may) in &allowed {
        let dir = src.join(module);
        let files: Vec<_> = if dir.is_dir() {
            walk(&dir)
        } else {
            vec![src.join(format!("{module}.rs"))]
        };
        assert!(
            !files.is_empty() && files[0].exists(),
            "no source for `{module}`"
        );
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a source file");
            // Tests may name anything: a file's scan ends at its test module.
            if file.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let code_lines = text.lines().take_while(|l| l.trim() != "#[cfg(test)]");
            for (n, line) in code_lines.enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for named in crate_paths(code) {
                    checked += 1;
                    if named != *module && !may.contains(&named) && !is_crate_root(named) {
                        wrong.push(format!(
                            "{}:{}: `{module}` names `crate::{named}`",
                            file.display(),
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} paths read: is the scan broken?"
    );
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

/// Items of `lib.rs` itself that any layer may not name either: only the root's re-exports of
/// the base (`crate::Location` and the like) are fine.
fn is_crate_root(name: &str) -> bool {
    matches!(
        name,
        "Code" | "Finding" | "Location" | "Severity" | "Source"
    )
}

/// The first segment after each `crate::` on a line (each of a `crate::{a, b::c}` group).
fn crate_paths(code: &str) -> Vec<&str> {
    fn first(s: &str) -> &str {
        let s = s.trim_start();
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        &s[..end]
    }
    let mut out = Vec::new();
    for (i, m) in code.match_indices("crate::") {
        if code[..i].ends_with("ambient_netpol::") {
            continue;
        }
        let rest = &code[i + m.len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                out.extend(group.split(',').map(first));
            }
            None => out.push(first(rest)),
        }
    }
    out.retain(|name| !name.is_empty() && *name != "self");
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn the_scan_finds_a_path_that_points_up() {
    assert_eq!(
        crate_paths("use crate::pipeline::Cluster; // crate::x"),
        ["pipeline", "x"]
    );
    assert_eq!(
        crate_paths("use crate::{calico, model::Model, self};"),
        ["calico", "model"]
    );
    assert_eq!(
        crate_paths("let e = crate::pipeline::engine::Engine::new(crate::model::m());"),
        ["pipeline", "model"]
    );
}
