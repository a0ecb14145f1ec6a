//! Input: source texts to Kubernetes objects, each with its place in the input.
//!
//! Owns everything between the user's text and typed data: splitting into documents, YAML and
//! JSON parsing (JSON is read as YAML), `List` expansion, namespaces defaulting to `default`, and
//! the input findings INP001 (syntax), INP002 (ignored kind), INP003 (not an object), INP005
//! (no namespace) and INP006 (files pasted without `---`, read as separate documents). One
//! broken document never hides the others.

pub mod yaml;

use crate::findings::{Code, Finding, Location};
use yaml::{Node, Value};

/// One input text: a file, standard input or the page's editor.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

/// A Kubernetes object found in the input.
#[derive(Clone, Debug)]
pub struct Object {
    pub kind: String,
    pub api_version: String,
    /// `metadata.name`, or `<unnamed-N>` with N the document's position.
    pub name: String,
    pub namespace: String,
    pub location: Location,
    pub node: Node,
}

impl Object {
    /// `namespace/name`, the way findings and the CLI name objects.
    /// Cluster-scoped objects (no namespace): `name`.
    pub fn qualified_name(&self) -> String {
        if self.namespace.is_empty() {
            return self.name.clone();
        }
        format!("{}/{}", self.namespace, self.name)
    }
}

/// Kinds that carry pods (a pod template, or the pod itself).
pub const WORKLOAD_KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
];

/// Other kinds the evaluator reads (Gateway API: `gatewayClassName: istio-waypoint` declares a
/// waypoint, `istio` a gateway proxy; Services choose waypoints; autoscalers make replicas);
/// everything else is INP002.
pub const OTHER_KNOWN_KINDS: &[&str] = &[
    "NetworkPolicy",
    "Namespace",
    "Gateway",
    "Service",
    "HorizontalPodAutoscaler",
    "Node",
];

/// Kinds without a namespace (besides Namespace itself).
fn cluster_scoped(kind: &str) -> bool {
    kind == "Node"
        || kind == "CiliumClusterwideNetworkPolicy"
        || crate::cnp::KINDS.contains(&kind)
        || crate::calico::CLUSTER_SCOPED.contains(&kind)
}

pub fn is_known_kind(kind: &str) -> bool {
    WORKLOAD_KINDS.contains(&kind)
        || OTHER_KNOWN_KINDS.contains(&kind)
        || crate::cnp::KINDS.contains(&kind)
        || crate::cilium::KINDS.contains(&kind)
        || crate::calico::KINDS.contains(&kind)
        || crate::istio::KINDS.contains(&kind)
}

#[derive(Debug, Default)]
pub struct Loaded {
    pub objects: Vec<Object>,
    pub findings: Vec<Finding>,
    /// Documents that hold something (empty and comment-only ones are not counted).
    pub documents: usize,
    /// Where the documents that follow another without a `---` line start (INP006): the
    /// source and the byte offset, where the fix inserts the marker.
    pub joined: Vec<(usize, usize)>,
}

/// How much one run reads: far above real clusters (the XL benchmark cluster, 10,000 workloads
/// in 6.7 MB and 12,700 objects, is a small fraction), low enough that time and memory stay
/// bounded (README, "Limits and hostile input").
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Bytes of all sources together; a source that would pass it is not read.
    pub input_bytes: usize,
    /// Kubernetes objects (list items included); the ones past it are not analysed.
    pub objects: usize,
    /// YAML documents, empty ones included; the ones past it are not read.
    pub documents: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            input_bytes: 256 * 1024 * 1024,
            objects: 200_000,
            documents: 1_000_000,
        }
    }
}

/// Parses every source and collects its objects and input findings.
pub fn load(sources: &[Source]) -> Loaded {
    load_within(sources, Limits::default())
}

/// [`load`] with other limits (tests use small ones).
pub fn load_within(sources: &[Source], limits: Limits) -> Loaded {
    let mut loaded = Loaded::default();
    let mut bytes = 0usize;
    let mut documents = 0usize;
    for (index, source) in sources.iter().enumerate() {
        bytes = bytes.saturating_add(source.text.len());
        if bytes > limits.input_bytes {
            loaded.findings.push(Finding::new(
                Code::Inp001,
                format!(
                    "the input passes {} MB here ({} MB with this file); ambient-netpol reads at \
                     most that much in one run, so this file is skipped: check it on its own or \
                     split the input",
                    limits.input_bytes / (1024 * 1024),
                    bytes.div_ceil(1024 * 1024)
                ),
                Some(Location {
                    source: index,
                    document: 0,
                    line: 1,
                    column: 1,
                }),
            ));
            bytes -= source.text.len();
            continue;
        }
        for doc in yaml::parse_documents(source.text) {
            let location = |line: u32, column: u32, document: usize| Location {
                source: index,
                document,
                line,
                column,
            };
            documents += 1;
            if documents > limits.documents {
                loaded.findings.push(Finding::new(
                    Code::Inp001,
                    format!(
                        "the input has more than {} YAML documents (empty ones included); \
                         ambient-netpol reads at most that many in one run, so the rest, from \
                         here on, are not read: remove the empty documents or split the input",
                        limits.documents
                    ),
                    Some(location(doc.line, 1, loaded.documents + 1)),
                ));
                return loaded;
            }
            if let Some(finding) = joined_finding(&doc, index, loaded.documents + 1) {
                loaded.findings.push(finding);
                loaded.joined.push((index, doc.start));
            }
            match doc.root {
                Ok(None) => {}
                Ok(Some(root)) => {
                    loaded.documents += 1;
                    let root_line = root.span.line;
                    let position = loaded.documents;
                    let at = |node: &Node| location(node.span.line, node.span.column, position);
                    collect_objects(root, position, &at, &mut loaded);
                    if loaded.objects.len() > limits.objects {
                        loaded.objects.truncate(limits.objects);
                        loaded.findings.push(Finding::new(
                            Code::Inp001,
                            format!(
                                "the input has more than {} Kubernetes objects; only the first {0} \
                                 are analysed (the rest, from this document on, are not): split \
                                 the input",
                                limits.objects
                            ),
                            Some(location(root_line, 1, position)),
                        ));
                        return loaded;
                    }
                }
                Err(err) => {
                    loaded.documents += 1;
                    loaded.findings.push(Finding::new(
                        Code::Inp001,
                        format!(
                            "YAML syntax error at line {}, column {}: {}; this document is \
                             skipped, the others are still evaluated",
                            err.line,
                            err.column,
                            describe_syntax_error(&err.message)
                        ),
                        Some(location(err.line, err.column, loaded.documents)),
                    ));
                }
            }
        }
    }
    loaded
}

/// Where a reused object's document sits in the edited text ([`reload`]): its text moved by
/// `bytes` and `lines`, and it is the `document`-th document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moved {
    pub bytes: isize,
    pub lines: i32,
    pub document: usize,
}

impl Object {
    /// The object as read from the edited text its document [`Moved`] to.
    pub fn moved(&self, to: Moved) -> Object {
        let mut object = self.clone();
        object.node.shift(to.bytes, to.lines);
        object.location.line = object.location.line.saturating_add_signed(to.lines);
        if object.name.starts_with("<unnamed-")
            && object.name == format!("<unnamed-{}>", object.location.document)
        {
            object.name = format!("<unnamed-{}>", to.document);
        }
        object.location.document = to.document;
        object
    }
}

/// The objects of `texts`, an edited copy of `sources` (a fix), read again where they changed:
/// a document whose text is the same as before keeps its objects from `previous` (what [`load`]
/// read from `sources`; their spans are the old ones, and where its document moved is given:
/// [`Object::moved`] makes the object `texts` would read), every other one is parsed. Returns
/// the objects in document order, and the input findings of the documents parsed.
pub fn reload<'o>(
    sources: &[Source],
    texts: &[&str],
    previous: &'o [Object],
    fresh: &'o mut Vec<Object>,
) -> (Vec<(&'o Object, Option<Moved>)>, Vec<Finding>) {
    // Where each object came from: (source, byte offset of its node).
    let mut by_source: Vec<Vec<&Object>> = vec![Vec::new(); sources.len()];
    for object in previous {
        if let Some(list) = by_source.get_mut(object.location.source) {
            list.push(object);
        }
    }
    // Per document of `texts`: its source, its range and first line, and the range of the same
    // text in the source (its objects are reused) or `None` (it is parsed).
    struct Planned {
        source: usize,
        range: (usize, usize, u32),
        reused: Option<(usize, usize, Moved)>,
    }
    let mut plan: Vec<Planned> = Vec::new();
    let mut loaded = Loaded::default();
    for (index, (source, text)) in sources.iter().zip(texts).enumerate() {
        let old: Vec<(usize, usize, u32)> = yaml::document_ranges(source.text).collect();
        for (d, range) in yaml::document_ranges(text).enumerate() {
            // (A line break the fixer adds before a document it appends changes nothing, nor
            // does the `---` line it adds before an object pasted after another: INP006.)
            let bare = ['\n', '\r'];
            // The same text, after the marker the fix added (its length, and its line).
            let same = old.get(d).and_then(|&(s, e, line)| {
                let (old, new) = (
                    source.text[s..e].trim_end_matches(bare),
                    text[range.0..range.1].trim_end_matches(bare),
                );
                let added = if old == new {
                    Some((0, 0))
                } else {
                    ["---\n", "---\r\n"]
                        .iter()
                        .find(|marker| new.strip_prefix(**marker) == Some(old))
                        .map(|marker| (marker.len(), 1))
                };
                added.map(|(bytes, lines)| (s, e, line, bytes, lines))
            });
            let position = plan.len() + 1;
            plan.push(Planned {
                source: index,
                range,
                reused: same.map(|(s, e, line, bytes, lines)| {
                    let moved = Moved {
                        bytes: (range.0 + bytes) as isize - s as isize,
                        lines: (range.2 + lines) as i32 - line as i32,
                        document: position,
                    };
                    (s, e, moved)
                }),
            });
        }
    }
    let mut parsed: Vec<(usize, usize)> = Vec::new(); // plan entry -> range of `fresh`
    for planned in &plan {
        let (index, (start, end, line)) = (planned.source, planned.range);
        let from = loaded.objects.len();
        if planned.reused.is_none() {
            let doc = yaml::parse_range(texts[index], start, end, line);
            let position = loaded.documents + 1;
            loaded
                .findings
                .extend(joined_finding(&doc, index, position));
            let at = |node: &Node| Location {
                source: index,
                document: position,
                line: node.span.line,
                column: node.span.column,
            };
            match doc.root {
                Ok(Some(root)) => collect_objects(root, position, &at, &mut loaded),
                Ok(None) => {}
                Err(err) => loaded.findings.push(Finding::new(
                    Code::Inp001,
                    format!(
                        "YAML syntax error at line {}, column {}: {}",
                        err.line, err.column, err.message
                    ),
                    Some(Location {
                        source: index,
                        document: position,
                        line: err.line,
                        column: err.column,
                    }),
                )),
            }
        }
        loaded.documents += 1;
        parsed.push((from, loaded.objects.len()));
    }
    *fresh = loaded.objects;
    let fresh: &'o Vec<Object> = fresh;
    let mut objects = Vec::new();
    for (planned, &(from, to)) in plan.iter().zip(&parsed) {
        let index = planned.source;
        match planned.reused {
            // A source's objects come in the order of their text.
            Some((start, end, moved)) => {
                let list = &by_source[index];
                let first = list.partition_point(|o| o.node.span.start < start);
                let last = list.partition_point(|o| o.node.span.start < end);
                objects.extend(list[first..last].iter().map(|&o| (o, Some(moved))));
            }
            None => objects.extend(fresh[from..to].iter().map(|o| (o, None))),
        }
    }
    (objects, loaded.findings)
}

/// INP006 for a document that follows another with no `---` line between them (a second
/// object starts in the same YAML document): `position` is its place among the documents.
fn joined_finding(doc: &yaml::Document, source: usize, position: usize) -> Option<Finding> {
    let line = doc.joined?;
    let root = doc.root.as_ref().ok().and_then(Option::as_ref);
    let kind = root.and_then(|r| r.field("kind")).and_then(Node::as_str);
    let name = root
        .and_then(|r| r.field("metadata"))
        .and_then(|m| m.field("name"))
        .and_then(Node::as_str);
    let what = match (kind, name) {
        (Some(kind), Some(name)) => format!("{kind} `{name}`"),
        (Some(kind), None) => format!("a {kind}"),
        _ => "another object".to_string(),
    };
    let mut finding = Finding::new(
        Code::Inp006,
        format!(
            "{what} starts at line {line} inside the document above it, which already has its \
             `apiVersion` or `kind`: this looks like several files pasted without a `---` line \
             between them (Kubernetes rejects the duplicate keys); each object is analysed on \
             its own here; insert a line `---` above it (the fix does)"
        ),
        Some(Location {
            source,
            document: position,
            line,
            column: 1,
        }),
    );
    finding.fixable = true;
    finding.fix = Some(format!("insert a line `---` before line {}", doc.line));
    Some(finding)
}

/// The parser's messages are terse; add the usual cause where one is recognisable.
fn describe_syntax_error(message: &str) -> String {
    let hint = if message.contains("tabs") {
        " (YAML indentation must use spaces, not tabs)"
    } else if message.contains("unprintable") {
        " (control characters such as NUL are not allowed in YAML text; remove it or quote it as an escape like \"\\0\")"
    } else if message.contains("mapping values") || message.contains("did not find expected key") {
        " (check the indentation of this line against the one above it)"
    } else {
        ""
    };
    format!("{message}{hint}")
}

fn collect_objects(
    node: Node,
    position: usize,
    at: &dyn Fn(&Node) -> Location,
    loaded: &mut Loaded,
) {
    let Some(kind) = node.field("kind").and_then(Node::as_str) else {
        let what = if matches!(node.value, Value::Map(_)) {
            "has no `kind`".to_string()
        } else {
            format!("is {}, not a map", node.type_name())
        };
        loaded.findings.push(Finding::new(
            Code::Inp003,
            format!(
                "this document {what}: a Kubernetes object needs `apiVersion`, `kind` and \
                 `metadata`; the document is skipped"
            ),
            Some(at(&node)),
        ));
        return;
    };
    let kind = kind.to_string();

    // `kind: List` (kubectl get -o yaml) and typed lists (`PodList`) hold objects in `items`;
    // the items of a typed list may leave out their kind.
    if kind == "List" || (kind.ends_with("List") && node.get("items").is_some()) {
        let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
        if node
            .field("items")
            .is_some_and(|items| items.as_seq().is_none())
        {
            loaded.findings.push(Finding::new(
                Code::Inp003,
                format!("`items` of this {kind} must be a list of objects; the list is skipped"),
                node.get("items").map(at),
            ));
            return;
        }
        let Value::Map(entries) = node.value else {
            return;
        };
        let items = entries
            .into_iter()
            .find(|(k, _)| k.as_str() == Some("items"))
            .map(|(_, items)| items.value);
        let Some(Value::Seq(items)) = items else {
            return;
        };
        for mut item in items {
            if let (Some(k), None) = (item_kind, item.field("kind")) {
                let implied = (synthetic(&item, "kind"), synthetic(&item, k));
                if let Value::Map(entries) = &mut item.value {
                    entries.push(implied);
                }
            }
            collect_objects(item, position, at, loaded);
        }
        return;
    }

    let metadata = node.field("metadata");
    let name_node = metadata.and_then(|m| m.field("name"));
    let name = name_node
        .and_then(Node::as_str)
        .map_or_else(|| format!("<unnamed-{position}>"), str::to_string);
    let namespace_node = metadata.and_then(|m| m.field("namespace"));
    let namespace = namespace_node.and_then(Node::as_str).map(str::to_string);
    let api_version = node
        .field("apiVersion")
        .and_then(Node::as_str)
        .unwrap_or_default()
        .to_string();

    if !is_known_kind(&kind) {
        loaded.findings.push(Finding::new(
            Code::Inp002,
            format!("{kind} `{name}` is ignored: it does not change what NetworkPolicy allows"),
            Some(at(&node)),
        ));
        // A ServiceAccount's labels are read all the same, for Calico's service-account
        // selectors (`--cni calico`).
        if kind != "ServiceAccount" {
            return;
        }
    }
    if let Some(bad) = metadata.filter(|m| !matches!(m.value, Value::Map(_))) {
        loaded.findings.push(Finding::new(
            Code::Inp003,
            format!(
                "`metadata` of this {kind} is {}, it must be a map with `name` and \
                 `namespace`; the object is skipped",
                bad.type_name()
            ),
            Some(at(bad)),
        ));
        return;
    }

    let namespace = if kind == "Namespace" {
        // A Namespace is cluster-scoped: its own name is the namespace it describes.
        name.clone()
    } else if cluster_scoped(&kind) {
        // Cluster-scoped objects belong to no namespace.
        String::new()
    } else if let Some(namespace) = namespace {
        namespace
    } else if kind == "ServiceAccount" {
        // Reported as ignored already (INP002): its namespace is no finding of its own.
        "default".to_string()
    } else {
        let mut finding = Finding::new(
            Code::Inp005,
            format!(
                "{kind} `{name}` has no `metadata.namespace`; it is evaluated in `default`, \
                 where `kubectl apply` puts it unless given `-n`"
            ),
            Some(at(&node)),
        );
        let qualified = format!("default/{name}");
        if kind == "NetworkPolicy" {
            finding.policy = Some(qualified);
        } else {
            finding.workload = Some(qualified);
        }
        loaded.findings.push(finding);
        "default".to_string()
    };

    loaded.objects.push(Object {
        kind,
        api_version,
        name,
        namespace,
        location: at(&node),
        node,
    });
}

/// A scalar that is not in the text (the implied kind of a typed list's items), placed at the
/// item so messages still point somewhere real.
fn synthetic(at: &Node, text: &str) -> Node {
    Node {
        value: Value::Scalar {
            text: text.to_string(),
            plain: false,
        },
        span: yaml::Span {
            end: at.span.start,
            ..at.span
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The objects of the documents a fix leaves as they were, moved to where the fix put them,
    /// are those a full reading of the fixed text gives: spans, lines, document positions and
    /// the names of unnamed objects, in every source.
    #[test]
    fn kept_objects_move_where_the_fix_put_them() {
        // Two objects pasted without `---` (the second gets one from INP006's fix, which moves
        // it by a line more), the first growing by a line, and a document appended to the first
        // file, which moves the unnamed object of the second to the next position.
        let first = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\napiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: a}\nspec:\n  containers: [{name: c}]\n---\napiVersion: v1\nkind: Service\nmetadata: {namespace: a}\nspec: {ports: [{port: 3}]}\n";
        let first_fixed = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: {z: \"1\"}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: a}\nspec:\n  containers: [{name: c}]\n---\napiVersion: v1\nkind: Service\nmetadata: {namespace: a}\nspec: {ports: [{port: 3}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: added, namespace: a}\nspec: {ports: [{port: 5}]}\n";
        let second =
            "apiVersion: v1\nkind: Service\nmetadata: {namespace: a}\nspec: {ports: [{port: 4}]}\n";
        let sources = [
            Source {
                name: "1.yaml",
                text: first,
            },
            Source {
                name: "2.yaml",
                text: second,
            },
        ];
        let previous = load(&sources).objects;
        let mut fresh = Vec::new();
        let texts = [first_fixed, second];
        let (reloaded, findings) = reload(&sources, &texts, &previous, &mut fresh);
        assert!(
            findings.iter().all(|f| f.code != Code::Inp001),
            "{findings:?}"
        );
        let fixed: Vec<Source> = sources
            .iter()
            .zip(texts)
            .map(|(s, text)| Source { name: s.name, text })
            .collect();
        let read = load(&fixed).objects;
        assert_eq!(reloaded.len(), read.len());
        // The first document is read again; the others are kept and moved.
        let moved: Vec<bool> = reloaded.iter().map(|(_, to)| to.is_some()).collect();
        assert_eq!(moved, [false, true, true, false, true]);
        for ((object, to), read) in reloaded.iter().zip(&read) {
            let object = to.map_or_else(|| (*object).clone(), |to| object.moved(to));
            assert_eq!(object.node, read.node, "{}", read.name);
            assert_eq!(object.location, read.location, "{}", read.name);
            assert_eq!(object.name, read.name);
        }
        let kept = reloaded[1].0;
        assert_ne!(kept.node.span.start, read[1].node.span.start);
        assert_ne!(kept.location.line, read[1].location.line);
        assert_eq!(
            (reloaded[4].0.name.as_str(), read[4].name.as_str()),
            ("<unnamed-4>", "<unnamed-5>")
        );
    }

    #[test]
    fn limits_skip_the_sources_and_objects_past_them() {
        let doc = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n";
        let three = doc.repeat(3);
        let limits = Limits {
            input_bytes: three.len() * 2,
            objects: 4,
            documents: 100,
        };
        let sources = [
            Source {
                name: "1.yaml",
                text: &three,
            },
            Source {
                name: "2.yaml",
                text: &three,
            },
            Source {
                name: "3.yaml",
                text: "kind: Namespace\nmetadata: {name: b}\n",
            },
        ];
        let loaded = load_within(&sources, limits);
        // The objects: three of the first file, one of the second, then the cap.
        assert_eq!(loaded.objects.len(), 4);
        let over = |what: &str| {
            loaded
                .findings
                .iter()
                .find(|f| f.message.contains(what))
                .cloned()
        };
        let objects = over("more than 4 Kubernetes objects").expect("the object limit is reported");
        assert_eq!(
            objects.location.map(|l| (l.source, l.document)),
            Some((1, 5))
        );
        // Reading stops at the object cap, before the third file's bytes are counted.
        assert!(over("reads at most").is_none());

        let loaded = load_within(
            &sources,
            Limits {
                objects: 100,
                ..limits
            },
        );
        let bytes = loaded
            .findings
            .iter()
            .find(|f| f.message.contains("reads at most"))
            .expect("the size limit is reported");
        assert_eq!(bytes.location.map(|l| (l.source, l.line)), Some((2, 1)));
        assert_eq!(loaded.objects.len(), 6);
    }

    #[test]
    fn the_document_limit_counts_empty_documents_and_stops_reading() {
        let text = "---\n# nothing\n---\nkind: Namespace\nmetadata: {name: a}\n---\n---\nkind: Namespace\nmetadata: {name: b}\n";
        let limits = Limits {
            documents: 3,
            ..Limits::default()
        };
        let loaded = load_within(
            &[Source {
                name: "t.yaml",
                text,
            }],
            limits,
        );
        assert_eq!(loaded.objects.len(), 1);
        let over = loaded
            .findings
            .iter()
            .find(|f| f.message.contains("more than 3 YAML documents"))
            .expect("the document limit is reported");
        assert_eq!(over.location.map(|l| l.line), Some(7));
        let all = load_within(
            &[Source {
                name: "t.yaml",
                text,
            }],
            Limits::default(),
        );
        assert_eq!(all.objects.len(), 2);
        assert!(all.findings.iter().all(|f| f.code != Code::Inp001));
    }

    fn load_one(text: &str) -> Loaded {
        load(&[Source {
            name: "test.yaml",
            text,
        }])
    }

    fn codes(loaded: &Loaded) -> Vec<&'static str> {
        loaded.findings.iter().map(|f| f.code.id()).collect()
    }

    const POLICY: &str = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: my-app-policy
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: my-app
";

    #[test]
    fn multi_document_input_keeps_every_object_and_its_line() {
        let text = format!("{POLICY}---\n{}", POLICY.replace("my-app-policy", "second"));
        let loaded = load_one(&text);
        assert_eq!(loaded.documents, 2);
        let names: Vec<_> = loaded.objects.iter().map(Object::qualified_name).collect();
        assert_eq!(names, ["shop/my-app-policy", "shop/second"]);
        assert_eq!(loaded.objects[1].location.line, 11);
        assert_eq!(loaded.objects[1].location.document, 2);
        let spec = loaded.objects[1].node.get("spec").unwrap();
        let (key, value) = spec.entry("podSelector").unwrap();
        assert_eq!((key.span.line, value.span.line), (17, 18));
        assert!(loaded.findings.is_empty(), "{:?}", loaded.findings);
    }

    #[test]
    fn files_pasted_without_a_marker_are_read_apart_with_an_inp006() {
        let second = POLICY.replace("my-app-policy", "second");
        let text = format!("{POLICY}\n# second.yaml\n{second}");
        let loaded = load_one(&text);
        assert_eq!(codes(&loaded), ["INP006"]);
        let finding = &loaded.findings[0];
        assert_eq!(finding.severity, crate::Severity::Error);
        assert!(finding.fixable);
        let at = finding.location.unwrap();
        assert_eq!((at.line, at.column, at.document), (12, 1, 2));
        assert!(
            finding
                .message
                .starts_with("NetworkPolicy `second` starts at line 12"),
            "{}",
            finding.message
        );
        assert!(finding.message.contains("without a `---` line"));
        assert_eq!(
            finding.fix.as_deref(),
            Some("insert a line `---` before line 11")
        );
        let names: Vec<_> = loaded.objects.iter().map(Object::qualified_name).collect();
        assert_eq!(names, ["shop/my-app-policy", "shop/second"]);
        assert_eq!(loaded.documents, 2);
    }

    #[test]
    fn syntax_errors_get_the_hint_for_their_cause() {
        let message = |text: &str| load_one(text).findings[0].message.clone();
        let nul = message("kind: Namespace\0\n");
        assert!(
            nul.contains("control characters") && !nul.contains("tabs"),
            "{nul}"
        );
        let tab = message("metadata:\n\tname: x\n");
        assert!(tab.contains("spaces, not tabs"), "{tab}");
    }

    #[test]
    fn json_input_from_kubectl() {
        let text = r#"{
    "apiVersion": "v1",
    "kind": "List",
    "items": [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "shop"}
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "deny", "namespace": "shop"},
            "spec": {"podSelector": {}}
        }
    ]
}"#;
        let loaded = load_one(text);
        assert_eq!(codes(&loaded), Vec::<&str>::new());
        assert_eq!(loaded.objects.len(), 2);
        assert_eq!(loaded.objects[0].kind, "Pod");
        assert_eq!(loaded.objects[1].location.line, 10);
    }

    #[test]
    fn yaml_list_items_are_objects() {
        let text = "apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: shop
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: web
    namespace: shop
";
        let loaded = load_one(text);
        assert_eq!(loaded.objects.len(), 1);
        assert_eq!(loaded.objects[0].namespace, "shop");
        assert_eq!(codes(&loaded), ["INP002"]);
        assert_eq!(loaded.findings[0].line(), Some(8));
    }

    #[test]
    fn typed_list_items_take_the_list_kind() {
        let text = "kind: NamespaceList\napiVersion: v1\nitems:\n- metadata:\n    name: shop\n    labels: {team: a}\n";
        let loaded = load_one(text);
        assert_eq!(codes(&loaded), Vec::<&str>::new());
        assert_eq!(loaded.objects[0].kind, "Namespace");
        assert_eq!(loaded.objects[0].name, "shop");
        assert_eq!(loaded.objects[0].location.line, 4);
    }

    #[test]
    fn syntax_error_in_middle_document_keeps_the_others() {
        let text = format!(
            "{POLICY}---\nkind: [broken\n---\n{}",
            POLICY.replace("shop", "other")
        );
        let loaded = load_one(&text);
        assert_eq!(codes(&loaded), ["INP001"]);
        let err = &loaded.findings[0];
        assert_eq!(err.location.unwrap().document, 2);
        assert!((11..=12).contains(&err.line().unwrap()), "{err:?}");
        assert!(err.message.contains("line"));
        let names: Vec<_> = loaded.objects.iter().map(Object::qualified_name).collect();
        assert_eq!(names, ["shop/my-app-policy", "other/my-app-policy"]);
        assert_eq!(loaded.objects[1].location.line, 13);
    }

    #[test]
    fn comment_only_and_empty_documents_are_not_objects() {
        let text = format!("# header comment\n---\n---\n{POLICY}---\n# trailing\n");
        let loaded = load_one(&text);
        assert_eq!(loaded.documents, 1);
        assert_eq!(loaded.objects.len(), 1);
        assert_eq!(loaded.objects[0].location.document, 1);
        assert!(loaded.findings.is_empty());
    }

    #[test]
    fn crlf_input_has_the_same_lines() {
        let lf = load_one(POLICY);
        let crlf = load_one(&POLICY.replace('\n', "\r\n"));
        assert_eq!(lf.objects[0].location, crlf.objects[0].location);
        let line = |l: &Loaded| l.objects[0].node.get("spec").unwrap().span.line;
        assert_eq!(line(&lf), line(&crlf));
    }

    #[test]
    fn byte_order_mark_is_ignored() {
        let loaded = load_one(&format!("\u{feff}{POLICY}"));
        assert_eq!(loaded.objects.len(), 1);
        assert!(loaded.findings.is_empty());
    }

    #[test]
    fn missing_namespace_defaults_with_an_info() {
        let loaded = load_one(&POLICY.replace("  namespace: shop\n", ""));
        assert_eq!(codes(&loaded), ["INP005"]);
        assert_eq!(loaded.objects[0].namespace, "default");
        assert_eq!(
            loaded.findings[0].policy.as_deref(),
            Some("default/my-app-policy")
        );
    }

    #[test]
    fn unnamed_objects_are_numbered_by_document() {
        let seed =
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nspec:\n  podSelector: {}\n";
        let loaded = load_one(&format!("{POLICY}---\n{seed}"));
        assert_eq!(loaded.objects[1].qualified_name(), "default/<unnamed-2>");
    }

    #[test]
    fn non_objects_are_reported_and_skipped() {
        let loaded = load_one(
            "- just\n- a list\n---\nmetadata:\n  name: x\n---\nkind: Pod\nmetadata: [1]\n",
        );
        assert_eq!(codes(&loaded), ["INP003", "INP003", "INP003"]);
        assert!(loaded.findings[0].message.contains("a list, not a map"));
        assert!(loaded.findings[1].message.contains("no `kind`"));
        assert_eq!(loaded.findings[2].line(), Some(8));
        assert!(loaded.objects.is_empty());
    }

    #[test]
    fn sources_are_numbered_and_documents_counted_across_them() {
        let loaded = load(&[
            Source {
                name: "a.yaml",
                text: POLICY,
            },
            Source {
                name: "b.yaml",
                text: POLICY,
            },
        ]);
        assert_eq!(loaded.objects[1].location.source, 1);
        assert_eq!(loaded.objects[1].location.document, 2);
        assert_eq!(loaded.objects[1].location.line, 1);
    }
}
