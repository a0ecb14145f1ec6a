//! `check --format sarif` is valid SARIF 2.1.0 (against the OASIS schema in tests/data/sarif) and
//! carries rule metadata, file URIs and lines.

use std::process::Command;

#[test]
fn sarif_output_validates_against_the_schema() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{root}/tests/data/sarif/sarif-2.1.0-rtm.5.json"))
            .unwrap(),
    )
    .unwrap();
    // The OASIS schema's `language` pattern (on `run` and `toolComponent`, which we never write)
    // has a stray `]` that validation of the schema itself rejects as a regex: drop it here.
    for owner in ["run", "toolComponent"] {
        schema["definitions"][owner]["properties"]["language"]
            .as_object_mut()
            .expect("language is described")
            .remove("pattern");
    }
    let validator = jsonschema::draft4::new(&schema).expect("the SARIF schema compiles");
    let out = Command::new(env!("CARGO_BIN_EXE_ambient-netpol"))
        .current_dir(format!("{root}/tests/data/realworld"))
        .args([
            "check",
            "online-boutique",
            "kube-prometheus",
            "--format",
            "sarif",
            "--cni",
            "cilium",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // The validator does reject what the schema forbids.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken));

    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r["id"] == "AMB001"
                && r["help"]["markdown"].as_str().unwrap().contains("## Fix"))
    );
    let result = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "AMB001")
        .unwrap();
    assert_eq!(result["level"], "error");
    let location = &result["locations"][0]["physicalLocation"];
    assert!(
        location["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .starts_with("online-boutique/network-policy-")
    );
    assert!(location["region"]["startLine"].as_u64().unwrap() > 1);
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "AMB001");
}
