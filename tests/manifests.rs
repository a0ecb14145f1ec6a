//! The page's examples apply to a lab cluster as they are: `kubectl apply --dry-run=client`
//! without a cluster. Every object is checked against the Kubernetes JSON schema of its kind
//! (`tests/data/kubernetes/schemas.json`, the strict schemas of Kubernetes 1.37, in which an
//! unknown field is an error), a custom resource against its CRD's schema as strictly
//! (`clusternetworkpolicy-v1alpha2.json`, `istio-security.json`), and against what the API
//! server checks besides the schema: a name, a Deployment's selector that matches its pod
//! template, an image in every container, and a namespace created before the objects in it.

#[allow(dead_code)]
#[path = "../src/ui/examples.rs"]
mod examples;

use ambient_netpol::input::yaml::{Node, Value, parse_documents};
use serde_json::{Value as Json, json};

const SCHEMAS: &str = include_str!("data/kubernetes/schemas.json");

/// A plain YAML scalar as the YAML 1.2 core schema reads it (what `kubectl` does); quoted and
/// block scalars are strings.
fn scalar(text: &str, plain: bool) -> Json {
    if !plain {
        return Json::String(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Json::Null,
        "true" | "True" | "TRUE" => return Json::Bool(true),
        "false" | "False" | "FALSE" => return Json::Bool(false),
        _ => {}
    }
    if let Ok(n) = text.parse::<i64>() {
        return json!(n);
    }
    match text.parse::<f64>() {
        Ok(f) if text.chars().any(|c| c.is_ascii_digit()) => json!(f),
        _ => Json::String(text.to_string()),
    }
}

fn to_json(node: &Node) -> Json {
    match &node.value {
        Value::Scalar { text, plain } => scalar(text, *plain),
        Value::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), to_json(v)))
                .collect(),
        ),
    }
}

/// Gateway API's Gateway is a custom resource, not in Kubernetes' schema: its required fields,
/// written by hand from the Gateway API v1 reference.
fn gateway_schema() -> Json {
    json!({
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["gatewayClassName", "listeners"],
                "properties": {
                    "gatewayClassName": {"type": "string", "minLength": 1},
                    "listeners": {
                        "type": "array", "minItems": 1, "maxItems": 64,
                        "items": {
                            "type": "object",
                            "required": ["name", "port", "protocol"],
                            "properties": {
                                "name": {"type": "string", "minLength": 1},
                                "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                                "protocol": {"type": "string", "minLength": 1}
                            }
                        }
                    }
                }
            }
        }
    })
}

/// Calico's `projectcalico.org/v3` policies and tiers (served by Calico's API server, not CRDs):
/// their fields, written by hand from Calico's reference ("Global network policy", "Network
/// policy", "Tier", "Rule", "Entity rule"); `strict` makes any other field an error.
fn calico_schema(kind: &str, all: &Json) -> Json {
    let strings = json!({"type": "array", "items": {"type": "string"}});
    let ports = json!({"type": "array", "items": {"type": ["integer", "string"]}});
    let entity = json!({
        "type": "object",
        "properties": {
            "nets": strings, "notNets": strings,
            "selector": {"type": "string"}, "notSelector": {"type": "string"},
            "namespaceSelector": {"type": "string"},
            "ports": ports, "notPorts": ports,
            "serviceAccounts": {"type": "object", "properties": {
                "names": strings, "selector": {"type": "string"}}},
            "services": {"type": "object", "properties": {
                "name": {"type": "string"}, "namespace": {"type": "string"}}}
        }
    });
    let rule = json!({
        "type": "object",
        "required": ["action"],
        "properties": {
            "action": {"enum": ["Allow", "Deny", "Log", "Pass"]},
            "protocol": {"type": ["integer", "string"]},
            "notProtocol": {"type": ["integer", "string"]},
            "ipVersion": {"enum": [4, 6]},
            "icmp": {"type": "object", "properties": {
                "type": {"type": "integer"}, "code": {"type": "integer"}}},
            "notICMP": {"type": "object", "properties": {
                "type": {"type": "integer"}, "code": {"type": "integer"}}},
            "source": entity, "destination": entity,
            "http": {"type": "object", "properties": {"methods": strings, "paths": {"type": "array"}}},
            "metadata": {"type": "object", "properties": {
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}}}}
        }
    });
    let spec = match kind {
        "Tier" => json!({"type": "object", "properties": {
            "order": {"type": "number"},
            "defaultAction": {"enum": ["Deny", "Pass"]}}}),
        _ => {
            let mut spec = json!({"type": "object", "properties": {
                "order": {"type": "number"},
                "tier": {"type": "string"},
                "selector": {"type": "string"},
                "serviceAccountSelector": {"type": "string"},
                "types": {"type": "array", "items": {"enum": ["Ingress", "Egress"]}},
                "ingress": {"type": "array", "items": rule},
                "egress": {"type": "array", "items": rule},
                "performanceHints": strings}});
            if kind == "GlobalNetworkPolicy" {
                for (key, value) in [
                    ("namespaceSelector", json!({"type": "string"})),
                    ("doNotTrack", json!({"type": "boolean"})),
                    ("preDNAT", json!({"type": "boolean"})),
                    ("applyOnForward", json!({"type": "boolean"})),
                ] {
                    spec["properties"][key] = value;
                }
            }
            spec
        }
    };
    crd_schema(
        &json!({"type": "object", "properties": {"spec": spec}}),
        all,
    )
}

/// A CRD's openAPIV3Schema as the API server applies it with `kubectl apply --validate=strict`:
/// apiVersion, kind and metadata (an ObjectMeta) are allowed at the root, and a field the
/// schema does not declare is an error, except in an object marked
/// `x-kubernetes-preserve-unknown-fields`.
fn crd_schema(schema: &Json, all: &Json) -> Json {
    let mut schema = schema.clone();
    let properties = schema["properties"]
        .as_object_mut()
        .expect("a CRD's schema has properties");
    properties.insert("apiVersion".into(), json!({"type": "string"}));
    properties.insert("kind".into(), json!({"type": "string"}));
    properties.insert(
        "metadata".into(),
        json!({"$ref": "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}),
    );
    strict(&mut schema);
    schema["$defs"] = all["$defs"].clone();
    schema["$schema"] = all["$schema"].clone();
    schema
}

/// Unknown fields are errors in every object of this schema that declares its fields (what the
/// API server's pruning with `fieldValidation=Strict` does).
fn strict(schema: &mut Json) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let preserve = object.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true));
    if object.contains_key("properties")
        && !object.contains_key("additionalProperties")
        && !preserve
    {
        object.insert("additionalProperties".into(), json!(false));
    }
    for (keyword, value) in object.iter_mut() {
        match keyword.as_str() {
            "properties" | "patternProperties" => {
                value
                    .as_object_mut()
                    .into_iter()
                    .flatten()
                    .for_each(|(_, s)| strict(s));
            }
            "items" | "additionalProperties" | "not" => strict(value),
            "allOf" | "anyOf" | "oneOf" => {
                value.as_array_mut().into_iter().flatten().for_each(strict);
            }
            _ => {}
        }
    }
}

/// The schema of `apiVersion/kind`, if we have it.
fn schema(key: &str) -> Option<Json> {
    if key == "gateway.networking.k8s.io/v1/Gateway" {
        return Some(gateway_schema());
    }
    let all: Json = serde_json::from_str(SCHEMAS).expect("schemas.json is JSON");
    if key == "policy.networking.k8s.io/v1alpha2/ClusterNetworkPolicy" {
        // The CRD's own schema (tests/data/kubernetes/clusternetworkpolicy-v1alpha2.json says
        // where from).
        let crd: Json = serde_json::from_str(include_str!(
            "data/kubernetes/clusternetworkpolicy-v1alpha2.json"
        ))
        .expect("the CRD schema is JSON");
        return Some(crd_schema(&crd["schema"], &all));
    }
    if let Some(kind) = key.strip_prefix("projectcalico.org/v3/")
        && ["NetworkPolicy", "GlobalNetworkPolicy", "Tier"].contains(&kind)
    {
        return Some(calico_schema(kind, &all));
    }
    if key.starts_with("security.istio.io/") {
        // Istio's CRDs (tests/data/kubernetes/istio-security.json says where from).
        let crds: Json = serde_json::from_str(include_str!("data/kubernetes/istio-security.json"))
            .expect("the CRD schemas are JSON");
        return Some(crd_schema(crds["schemas"].get(key)?, &all));
    }
    let kind = all["kinds"].get(key)?.clone();
    let mut schema = kind
        .as_object()
        .expect("a kind's schema is an object")
        .clone();
    schema.insert("$defs".into(), all["$defs"].clone());
    schema.insert("$schema".into(), all["$schema"].clone());
    Some(Json::Object(schema))
}

/// A DNS-1123 subdomain (object names), or a label (namespace names).
fn is_dns_name(name: &str, label: bool) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.len() <= 63
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !p.starts_with('-')
            && !p.ends_with('-')
    };
    name.len() <= 253
        && if label {
            part(name)
        } else {
            name.split('.').all(part)
        }
}

/// What `kubectl apply` of this text would refuse: one sentence per problem.
fn apply_problems(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    // `istio-system` is there in every cluster with Istio installed, which ambient needs.
    let mut namespaces = vec!["default".to_string(), "istio-system".to_string()];
    for (i, document) in parse_documents(text).enumerate() {
        let object = match document.root {
            Ok(Some(root)) => to_json(&root),
            Ok(None) => continue,
            Err(e) => {
                problems.push(format!("document {}: not YAML: {e:?}", i + 1));
                continue;
            }
        };
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default();
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        let at = format!("document {} ({kind} {name:?})", i + 1);
        let key = format!("{api_version}/{kind}");
        if api_version == "cilium.io/v2" {
            // Cilium's CRD schemas are not in tests/data (its repository is too large to fetch
            // here): the analyser's own validation stands in (`every_example_applies_to_a_cluster`
            // refuses an example with an INP003).
            continue;
        }
        match schema(&key) {
            None => problems.push(format!(
                "{at}: no schema for {key} (add it to tests/data/kubernetes/extract.py)"
            )),
            Some(schema) => {
                let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
                for error in validator.iter_errors(&object) {
                    problems.push(format!("{at}: {} at {}", error, error.instance_path()));
                }
            }
        }
        if !is_dns_name(name, kind == "Namespace") {
            problems.push(format!(
                "{at}: metadata.name must be a DNS name, is {name:?}"
            ));
        }
        if kind == "Namespace" {
            namespaces.push(name.to_string());
        } else if let Some(ns) = object["metadata"]["namespace"].as_str()
            && !namespaces.iter().any(|n| n == ns)
        {
            problems.push(format!("{at}: namespace {ns:?} is not created before it"));
        }
        if kind == "Deployment" {
            let spec = &object["spec"];
            let labels = &spec["template"]["metadata"]["labels"];
            match spec["selector"]["matchLabels"].as_object() {
                Some(selector) if !selector.is_empty() => {
                    for (k, v) in selector {
                        if labels.get(k) != Some(v) {
                            problems.push(format!(
                                "{at}: the selector's {k}={v} is not a label of the pod template"
                            ));
                        }
                    }
                }
                _ => problems.push(format!("{at}: spec.selector.matchLabels is required")),
            }
            let containers = spec["template"]["spec"]["containers"].as_array();
            for c in containers.into_iter().flatten() {
                if c["image"].as_str().is_none_or(str::is_empty) {
                    problems.push(format!("{at}: container {} has no image", c["name"]));
                }
            }
        }
    }
    problems
}

#[test]
fn every_example_applies_to_a_cluster() {
    for example in examples::EXAMPLES {
        let problems = apply_problems(example.text);
        assert!(problems.is_empty(), "{}: {problems:#?}", example.id);
        let invalid: Vec<_> = ambient_netpol::load(&[ambient_netpol::Source {
            name: example.id,
            text: example.text,
        }])
        .findings
        .into_iter()
        .filter(|f| f.code.id() == "INP003")
        .collect();
        assert!(invalid.is_empty(), "{}: {invalid:#?}", example.id);
    }
}

#[test]
fn the_check_refuses_what_kubectl_refuses() {
    // The multi-namespace example as it was: Deployments without selector and image.
    let old = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n---\n\
        apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: frontend\n  namespace: web\n\
        spec:\n  template:\n    metadata:\n      labels:\n        app: frontend\n    spec:\n      \
        containers:\n      - name: app\n";
    let problems = apply_problems(old).join("\n");
    assert!(problems.contains("selector"), "{problems}");
    assert!(problems.contains("has no image"), "{problems}");

    // The Istio page's first policy as published: no name.
    let unnamed = include_str!("seed/hbone-blocked.yaml");
    assert!(apply_problems(unnamed).join("\n").contains("metadata.name"));

    // A misspelt field (strict schema), a port of the wrong type, a selector that selects
    // nothing of the template, a namespace used before it is created, an unknown kind.
    let bad = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n\
        spec:\n  podSelector: {}\n  ingres: []\n---\n\
        apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  namespace: shop\nspec:\n  \
        selector:\n    matchLabels:\n      app: d\n  template:\n    metadata:\n      labels:\n        \
        app: other\n    spec:\n      containers:\n      - name: app\n        image: x\n        \
        ports:\n        - containerPort: [80]\n---\n\
        apiVersion: v1\nkind: Shop\nmetadata:\n  name: s\n";
    let problems = apply_problems(bad);
    let all = problems.join("\n");
    for expected in [
        "ingres",
        "containerPort",
        "app=\"d\"",
        "namespace \"shop\"",
        "v1/Shop",
    ] {
        assert!(all.contains(expected), "{expected} in {all}");
    }

    // Custom resources are as strict: misspelt fields of Istio's policies (v1 and v1beta1) and
    // of a ClusterNetworkPolicy, in spec and in metadata, and a value outside an enum.
    let crds = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  \
        name: a\nspec:\n  actoin: DENY\n  rules:\n  - to:\n    - operation:\n        \
        method: [GET]\n---\n\
        apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: p\n  \
        namespce: shop\nspec:\n  mtls:\n    mode: STRCT\n---\n\
        apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  \
        name: c\nspec:\n  tier: Admin\n  priority: 1\n  subject:\n    namespaces: {}\n  \
        ingress:\n  - action: Deny\n    form: []\n";
    let all = apply_problems(crds).join("\n");
    for expected in ["'actoin'", "'method'", "'namespce'", "\"STRCT\"", "'form'"] {
        assert!(all.contains(expected), "{expected} in {all}");
    }
}

#[test]
fn plain_scalars_are_read_as_kubectl_reads_them() {
    assert_eq!(scalar("9090", true), json!(9090));
    assert_eq!(scalar("9090", false), json!("9090"));
    assert_eq!(scalar("true", true), json!(true));
    assert_eq!(scalar("auto", true), json!("auto"));
    assert_eq!(scalar("169.254.7.127/32", true), json!("169.254.7.127/32"));
    assert_eq!(scalar("~", true), Json::Null);
}
