//! The fixer in every YAML style: the fixtures' and seed's inputs and generated clusters are
//! re-rendered in random styles (`support/restyle.rs`: block and flow collections mixed per
//! level, `- {…}` items, zero-indented sequences, quoted keys, comments, tags, anchors, CRLF,
//! JSON) and fixed. The output must parse, hold the input with additions only, re-analyse with
//! no fix still wanted, and stay as it is when fixed again; the analysis of a restyled input
//! must be the analysis of the original.

#[path = "support/restyle.rs"]
mod restyle;

#[path = "support/files.rs"]
mod files;

use std::collections::BTreeMap;
use std::path::Path;

use ambient_netpol::ambient::FixStyle;
use ambient_netpol::input::yaml::parse_documents;
use ambient_netpol::{Code, Options, Report, Severity, Source, analyze};
use restyle::{Rng, Shapes, grows_into, restyle, same};

/// Restyles per input.
const RENDERINGS: u64 = 12;

fn run(text: &str, options: &Options) -> Report {
    analyze(
        &[Source {
            name: "x.yaml",
            text,
        }],
        options,
    )
}

fn codes(report: &Report) -> BTreeMap<Code, usize> {
    let mut out = BTreeMap::new();
    for f in &report.findings {
        *out.entry(f.code).or_default() += 1;
    }
    out
}

/// The inputs: every fixture file and seed example that parses as a whole (and has its `---`
/// lines), and small generated
/// clusters (with sidecars and a gateway in every other one).
fn inputs() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["tests/fixtures", "tests/seed"] {
        let paths = files::sorted(root.join(dir)).into_iter().flat_map(|p| {
            if p.is_dir() {
                files::sorted(p)
            } else {
                vec![p]
            }
        });
        for path in paths {
            let name = path.display().to_string();
            if !(name.ends_with(".yaml") || name.ends_with(".json")) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Objects pasted without `---` (INP006): the restyling renders each object as a
            // document of its own, which is the fix, not the same input in another style.
            let pasted = run(&text, &Options::default())
                .findings
                .iter()
                .any(|f| f.code == Code::Inp006);
            if !pasted && parse_documents(&text).all(|d| d.root.is_ok()) {
                out.push((name, text));
            }
        }
    }
    for seed in 0..8 {
        let size = restyle::cluster::Size {
            namespaces: 3,
            workloads: 12,
            policies: 8,
        };
        let text = restyle::cluster::generate_with(size, seed, seed % 2 == 0);
        out.push((format!("generated cluster {seed}"), text));
    }
    out
}

/// Whether `b` holds `a` with additions only, but for the `spec` of AuthorizationPolicies (an
/// object, or the items of a `List`), which AMB010's fix edits.
fn grows_but_authz_spec(
    a: &ambient_netpol::input::yaml::Node,
    b: &ambient_netpol::input::yaml::Node,
) -> bool {
    let kind = |n: &ambient_netpol::input::yaml::Node| {
        n.get("kind").and_then(|k| k.as_str()).map(str::to_string)
    };
    match kind(a).as_deref() {
        Some("AuthorizationPolicy") => {
            kind(b).as_deref() == Some("AuthorizationPolicy")
                && ["apiVersion", "metadata"]
                    .iter()
                    .all(|key| match (a.get(key), b.get(key)) {
                        (Some(x), Some(y)) => grows_into(x, y),
                        (None, _) => true,
                        _ => false,
                    })
        }
        Some(k) if k.ends_with("List") => {
            match (
                a.get("items").and_then(|i| i.as_seq()),
                b.get("items").and_then(|i| i.as_seq()),
            ) {
                (Some(x), Some(y)) => {
                    x.len() == y.len()
                        && x.iter()
                            .zip(y)
                            .all(|(x, y)| grows_into(x, y) || grows_but_authz_spec(x, y))
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// Checks one restyled input; returns whether its fix fell back to the add style somewhere.
fn check(name: &str, original: &str, styled: &str, options: &Options) -> bool {
    // The rendering keeps every value (else the renderer is wrong, not the fixer).
    let before: Vec<_> = parse_documents(original)
        .filter_map(|d| d.root.ok().flatten())
        .collect();
    let after: Vec<_> = parse_documents(styled)
        .filter_map(|d| {
            d.root
                .unwrap_or_else(|e| panic!("{name}: the rendering does not parse: {e:?}\n{styled}"))
        })
        .collect();
    assert_eq!(before.len(), after.len(), "{name}: documents\n{styled}");
    for (a, b) in before.iter().zip(&after) {
        assert!(
            same(a, b),
            "{name}: the rendering changed a value\n{styled}"
        );
    }

    let first = run(styled, options);
    assert_eq!(
        codes(&first),
        codes(&run(original, options)),
        "{name}: the style changed the analysis\n{styled}"
    );
    assert!(
        !first.findings.iter().any(|f| f.code == Code::Int001),
        "{name}: the core withheld its fix: {:#?}\n{styled}",
        first.findings.iter().find(|f| f.code == Code::Int001)
    );
    let fixed = &first.fixed.texts[0];
    let fixed_docs: Vec<_> = parse_documents(fixed)
        .filter_map(|d| {
            d.root
                .unwrap_or_else(|e| panic!("{name}: the fix does not parse: {e:?}\n{fixed}"))
        })
        .collect();
    assert!(
        fixed_docs.len() >= after.len(),
        "{name}: documents lost\n{fixed}"
    );
    // AMB010's fix edits an AuthorizationPolicy's `spec` in place (`targetRefs` for
    // `selector`, its L7 attributes deleted): the rest of such a document only grows.
    let edits_authz = first
        .findings
        .iter()
        .any(|f| f.code == Code::Amb010 && f.fixable);
    for (a, b) in after.iter().zip(&fixed_docs) {
        if edits_authz && !grows_into(a, b) {
            assert!(
                grows_but_authz_spec(a, b),
                "{name}: the fix changed more than it added and an AuthorizationPolicy's spec\n--- input\n{styled}\n--- fixed\n{fixed}"
            );
            continue;
        }
        assert!(
            grows_into(a, b),
            "{name}: the fix changed more than it added\n--- input\n{styled}\n--- fixed\n{fixed}"
        );
    }
    let second = run(fixed, options);
    let left: Vec<String> = second
        .findings
        .iter()
        .filter(|f| {
            f.severity == Severity::Error
                && (f.fixable || matches!(f.code, Code::Inp001 | Code::Inp003))
        })
        .filter(|f| {
            !first
                .findings
                .iter()
                .any(|g| g.code == f.code && !g.fixable && g.message == f.message)
        })
        .map(|f| format!("{}: {}", f.code.id(), f.message))
        .collect();
    assert!(
        left.is_empty(),
        "{name}: after the fix: {left:#?}\n--- input\n{styled}\n--- fixed\n{fixed}"
    );
    assert_eq!(
        &second.fixed.texts[0], fixed,
        "{name}: fixing again changed the text\n{styled}"
    );
    first
        .notes
        .iter()
        .any(|n| n.contains("instead of an edit") || n.contains("in place ("))
}

#[test]
fn every_style_is_fixed_into_valid_yaml_with_insertions_only() {
    // (Insertions only, but for AMB010's in-place edit of an AuthorizationPolicy's `spec`.)
    let mut shapes = Shapes::default();
    let (mut cases, mut fallbacks) = (0, 0);
    for (name, text) in inputs() {
        for seed in 0..RENDERINGS {
            let mut rng = Rng::new(seed * 7919 + name.len() as u64);
            let (styled, used) = restyle(&text, &mut rng);
            shapes.add(&used);
            let options = Options {
                fix_style: if rng.chance(15) {
                    FixStyle::Add
                } else {
                    FixStyle::Edit
                },
                ..Options::default()
            };
            fallbacks += usize::from(check(&name, &text, &styled, &options));
            cases += 1;
        }
    }
    eprintln!(
        "{cases} restyled inputs, {fallbacks} with a policy fixed in the add style; shapes: {shapes:#?}"
    );
    assert!(cases > 500, "{cases} cases");
    // No rendering uses an alias, so every policy is edited in place: the fixer handles the
    // style itself rather than leaving it to its safety net.
    assert_eq!(
        fallbacks, 0,
        "policies fixed in the add style instead of in place"
    );
    // Every shape was exercised.
    for (shape, count) in [
        ("flow items", shapes.flow_items),
        ("indentless sequences", shapes.indentless_seqs),
        ("flow maps", shapes.flow_maps),
        ("tags", shapes.tags),
        ("anchors", shapes.anchors),
        ("JSON documents", shapes.json_documents),
        ("CRLF", shapes.crlf_texts),
        ("quoted keys", shapes.quoted_keys),
        ("comments", shapes.comments),
    ] {
        assert!(count > 20, "{shape}: {count}");
    }
}
