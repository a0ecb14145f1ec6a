//! Workloads the input does not show but its selectors stand for.
//!
//! Policies are often pasted alone (the seed's examples are), and operators create pods no file
//! shows. A `podSelector` (of a policy or of a peer) that matches none of the given workloads
//! still stands for pods that may exist; each becomes an inferred workload whose labels satisfy
//! the selector, in the namespace(s) the selector can match, so the analysis can reason about it.

use foldhash::{HashMap, HashMapExt};
use std::collections::BTreeSet;

use crate::findings::Location;

use super::labels::{Labels, Operator, Selector};
use super::{Model, NAMESPACE_NAME_LABEL, Namespace, Workload};

/// The namespace inferred workloads of "any namespace" live in.
pub const ANY_NAMESPACE: &str = "[any namespace]";

/// Pods a policy's selector stands for (a policy family lists them: `crate::netpol`,
/// `crate::calico`).
pub struct StandIn {
    pub namespaces: Namespaces,
    /// The empty selector: every pod.
    pub pods: Selector,
    /// The policy's.
    pub location: Location,
    /// Why it is assumed, for people: "selected by NetworkPolicy `shop/web`".
    pub why: String,
}

/// Where the pods of a [`StandIn`] are.
pub enum Namespaces {
    /// This namespace.
    In(String),
    /// The namespaces a selector matches (an empty one: every namespace). None matching: a
    /// namespace with labels that satisfy it is assumed.
    Matching(Selector),
}

/// Adds the inferred workloads (and namespaces) to the model: those the stand-ins stand for when
/// no workload of the input is one of them, the pods of proxies the input names but does not
/// show, and, when the input is policies alone (`first_policy` is where the first is), any other
/// pod. Workloads of the input stay first, so their indexes do not change.
pub fn add_inferred(model: &mut Model, stand_ins: Vec<StandIn>, first_policy: Option<Location>) {
    let cluster = model;
    let concrete = cluster.workloads.len();
    let mut wanted: BTreeSet<(String, String)> = BTreeSet::new(); // (namespace, selector text)
    let mut added: Vec<(String, Selector, Location, String)> = Vec::new();
    let mut new_namespaces: Vec<Namespace> = Vec::new();

    // The distinct label sets of the given workloads, per namespace.
    let mut labels_in: HashMap<String, BTreeSet<Labels>> = HashMap::new();
    for w in &cluster.workloads {
        labels_in
            .entry(w.namespace.clone())
            .or_default()
            .insert(w.labels.clone());
    }
    let selects_concrete = |ns: &str, sel: &Selector| {
        labels_in
            .get(ns)
            .is_some_and(|sets| sets.iter().any(|labels| sel.matches(labels)))
    };
    // Whether a pod selector matches a given workload in some namespace, per selector.
    let mut anywhere_memo: HashMap<String, bool> = HashMap::new();
    let namespace_index = super::NamespaceIndex::new(&cluster.namespaces);
    let mut new_names: foldhash::HashSet<String> = foldhash::HashSet::default();
    for stand_in in stand_ins {
        let pods = &stand_in.pods;
        let candidates: Vec<String> = match &stand_in.namespaces {
            Namespaces::In(ns) => vec![ns.clone()],
            Namespaces::Matching(sel) if sel.is_empty() => {
                let anywhere = *anywhere_memo.entry(pods.to_string()).or_insert_with(|| {
                    cluster
                        .namespaces
                        .iter()
                        .any(|ns| selects_concrete(&ns.name, pods))
                });
                if anywhere {
                    Vec::new()
                } else {
                    vec![ANY_NAMESPACE.to_string()]
                }
            }
            Namespaces::Matching(sel) => {
                let known: Vec<String> = namespace_index
                    .matching(sel)
                    .map(|ns| ns.name.clone())
                    .collect();
                if known.is_empty() {
                    let ns = namespace_for(sel);
                    if new_names.insert(ns.name.clone()) {
                        new_namespaces.push(ns.clone());
                    }
                    vec![ns.name]
                } else {
                    known
                }
            }
        };
        for ns in candidates {
            if !selects_concrete(&ns, pods) && wanted.insert((ns.clone(), pods.to_string())) {
                added.push((ns, pods.clone(), stand_in.location, stand_in.why.clone()));
            }
        }
    }
    // Waypoints declared or referenced (`istio.io/use-waypoint`) and Gateway API gateways of
    // Istio's classes whose pods the input lacks: the Gateway stands for them.
    let proxies = referenced_waypoints(cluster)
        .into_iter()
        .map(|w| (w.namespace, w.name, "waypoint"))
        .chain(
            cluster
                .gateways
                .iter()
                .map(|g| (g.namespace.clone(), g.name.clone(), "gateway")),
        );
    for (namespace, name, what) in proxies {
        let selector = Selector {
            match_labels: vec![(super::GATEWAY_NAME.to_string(), name.clone())],
            requirements: Vec::new(),
        };
        if !selects_concrete(&namespace, &selector)
            && wanted.insert((namespace.clone(), selector.to_string()))
        {
            let location = first_policy.unwrap_or_default();
            added.push((
                namespace,
                selector,
                location,
                format!("pods of {what} `{name}`"),
            ));
        }
    }
    // Policies alone: some pod of the mesh may talk to them (a rule without `from` admits it).
    if concrete == 0
        && let Some(location) = first_policy
        && wanted.insert((ANY_NAMESPACE.to_string(), String::new()))
    {
        added.push((
            ANY_NAMESPACE.to_string(),
            Selector::default(),
            location,
            "any other pod".into(),
        ));
    }

    if added.iter().any(|(ns, ..)| ns == ANY_NAMESPACE) {
        new_namespaces.push(Namespace {
            name: ANY_NAMESPACE.to_string(),
            labels: Labels::new(),
            location: None,
        });
    }
    for ns in new_namespaces {
        if cluster.namespace(&ns.name).is_none() {
            cluster.namespaces.push(ns);
        }
    }
    crate::sort::sort_by(&mut cluster.namespaces, |a, b| a.name.cmp(&b.name));

    for (namespace, selector, location, why) in added {
        let Some(labels) = labels_for(&selector) else {
            continue;
        };
        cluster.workloads.push(Workload {
            kind: "Pod".into(),
            name: if selector.is_empty() {
                "[all pods]".into()
            } else {
                format!("[{selector}]")
            },
            namespace,
            labels,
            annotations: Labels::new(),
            containers: Vec::new(),
            host_network: false,
            service_account: None,
            ips: Vec::new(),
            location,
            inferred: Some(why),
            // A selector stands for any number of pods.
            replicated: true,
            owner_selector: None,
        });
    }
}

/// Waypoints the Gateways declare and the `istio.io/use-waypoint` labels name (on pods or
/// namespaces; `istio.io/use-waypoint-namespace` points to another namespace).
pub fn referenced_waypoints(cluster: &Model) -> Vec<super::Waypoint> {
    use super::{USE_WAYPOINT, USE_WAYPOINT_NAMESPACE};
    let mut out = cluster.waypoints.clone();
    let labelled = cluster
        .workloads
        .iter()
        .map(|w| (&w.labels, &w.namespace))
        .chain(cluster.namespaces.iter().map(|ns| (&ns.labels, &ns.name)))
        .chain(cluster.services.iter().map(|s| (&s.labels, &s.namespace)));
    for (labels, namespace) in labelled {
        if let Some(name) = labels.get(USE_WAYPOINT).filter(|n| n.as_str() != "none") {
            let namespace = labels.get(USE_WAYPOINT_NAMESPACE).unwrap_or(namespace);
            if !out
                .iter()
                .any(|w| &w.name == name && &w.namespace == namespace)
            {
                out.push(super::Waypoint {
                    name: name.clone(),
                    namespace: namespace.clone(),
                    traffic: None,
                });
            }
        }
    }
    out
}

/// Labels that satisfy a selector (`None` when none can, e.g. `a=x` with `a notin (x)`).
fn labels_for(selector: &Selector) -> Option<Labels> {
    let mut labels: Labels = crate::sort::map(selector.match_labels.iter().cloned());
    for r in &selector.requirements {
        match r.operator {
            Operator::In => {
                labels
                    .entry(r.key.clone())
                    .or_insert_with(|| r.values[0].clone());
            }
            Operator::Exists => {
                labels.entry(r.key.clone()).or_default();
            }
            Operator::NotIn | Operator::DoesNotExist => {}
        }
    }
    selector.matches(&labels).then_some(labels)
}

/// A namespace the input does not have, with labels that satisfy a namespace selector.
fn namespace_for(selector: &Selector) -> Namespace {
    let labels = labels_for(selector).unwrap_or_default();
    let name = labels
        .get(NAMESPACE_NAME_LABEL)
        .cloned()
        .unwrap_or_else(|| format!("[namespaces matching {selector}]"));
    let mut labels = labels;
    labels.insert(NAMESPACE_NAME_LABEL.into(), name.clone());
    Namespace {
        name,
        labels,
        location: None,
    }
}
