//! The cluster as the evaluator sees it: namespaces (given or inferred, each with its automatic
//! `kubernetes.io/metadata.name` label), workloads (one per owner chain: pods, ReplicaSets and
//! Jobs collapsed under their Deployment, CronJob, StatefulSet, ...), Services, Gateways and
//! Nodes. Invalid objects become INP003 findings and are skipped.
//!
//! The model is the bottom layer: it depends on the input and the shared vocabulary
//! (`crate::net`) only. Policies are read by their families (`crate::netpol`, `crate::cnp`,
//! `crate::cilium`, `crate::calico`, `crate::istio`), which depend on the model, and composed by
//! `crate::pipeline`.

pub mod fields;
pub mod inferred;
pub mod labels;
pub mod owners;

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::findings::{Code, Finding, Location};
use crate::input::yaml::Node;
use crate::input::{Object, WORKLOAD_KINDS};
use crate::net::PortRef;
use crate::net::conn::Protocol;
use fields::{Checked, Invalid};
use labels::{LabelIndex, Labels, Selector};

pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// The waypoint a pod, Service or namespace sends its traffic through.
pub const USE_WAYPOINT: &str = "istio.io/use-waypoint";
/// The namespace of that waypoint, when it is not the object's own.
pub const USE_WAYPOINT_NAMESPACE: &str = "istio.io/use-waypoint-namespace";
/// The label Gateway API implementations give the pods of a Gateway.
pub const GATEWAY_NAME: &str = "gateway.networking.k8s.io/gateway-name";

#[derive(Clone, Debug)]
pub struct Namespace {
    pub name: String,
    pub labels: Labels,
    /// Where the Namespace object is; `None` for a namespace only named by other objects.
    pub location: Option<Location>,
}

/// Namespaces by label, so that a `namespaceSelector` with a `matchLabels` entry looks at the
/// namespaces with that label only (10,000 namespaces each with a policy naming another would
/// otherwise cost policies × namespaces).
pub struct NamespaceIndex<'c> {
    namespaces: &'c [Namespace],
    index: LabelIndex<'c, ()>,
}

impl<'c> NamespaceIndex<'c> {
    pub fn new(namespaces: &'c [Namespace]) -> Self {
        let mut index = LabelIndex::default();
        for (i, ns) in namespaces.iter().enumerate() {
            index.insert((), i, &ns.labels);
        }
        NamespaceIndex { namespaces, index }
    }

    /// The namespaces `selector` matches, in their order.
    pub fn matching<'a>(
        &'a self,
        selector: &'a Selector,
    ) -> impl Iterator<Item = &'c Namespace> + 'a {
        self.index
            .candidates((), selector)
            .iter()
            .map(|&i| &self.namespaces[i])
            .filter(|ns| selector.matches(&ns.labels))
    }
}

#[derive(Clone, Debug)]
pub struct Workload {
    /// The kind shown to users: the workload object's kind, or for pods and controllers with an
    /// owner the kind at the top of the chain (`Deployment` for a ReplicaSet and its pods,
    /// `CronJob`, `StatefulSet`, ...), whether or not the input has that owner.
    pub kind: String,
    pub name: String,
    pub namespace: String,
    pub labels: Labels,
    pub annotations: Labels,
    pub containers: Vec<Container>,
    pub host_network: bool,
    /// `serviceAccountName` of the pod template (the mesh identity); `None`: `default`.
    pub service_account: Option<String>,
    /// Pod IPs known from `status` (pods dumped from a cluster); empty for manifests.
    pub ips: Vec<IpAddr>,
    pub location: Location,
    /// For a workload the input does not show but a selector stands for ("pods matching
    /// app=my-app in default"): why it is assumed. `None` for workloads of the input.
    pub inferred: Option<String>,
    /// It can run more than one pod (replicas, a DaemonSet, an autoscaler, pods of one
    /// controller, pods a selector stands for): its pods talk to each other, so a workload is
    /// its own peer.
    pub replicated: bool,
    /// The `spec.selector.matchLabels` of the highest controller of the chain the input has
    /// (the Deployment's, else its ReplicaSet's), without controller labels
    /// ([`owners::is_controller_label`]); `None` without one.
    pub owner_selector: Option<Labels>,
}

impl Workload {
    pub fn is_inferred(&self) -> bool {
        self.inferred.is_some()
    }

    /// How messages name it: `ns/name`, or for an inferred workload what it stands for.
    pub fn describe(&self) -> String {
        match &self.inferred {
            None => format!("{} `{}`", self.kind, self.qualified_name()),
            Some(_) => {
                let pods = match self.name.as_str() {
                    "[all pods]" => "all pods".to_string(),
                    name => format!(
                        "pods matching {}",
                        name.trim_start_matches('[').trim_end_matches(']')
                    ),
                };
                let namespace = if self.namespace == inferred::ANY_NAMESPACE {
                    "any namespace".to_string()
                } else {
                    format!("`{}`", self.namespace)
                };
                format!("{pods} in {namespace} (not in the input)")
            }
        }
    }

    pub fn qualified_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The labels a generated selector (the AMB004 AuthorizationPolicy's) selects this workload's
    /// pods by: its controller's own selector when the input has the controller, else its labels
    /// without the ones controllers add (`pod-template-hash`, `controller-revision-hash`, ...),
    /// which change with the next rollout and would leave the selector selecting nothing.
    pub fn selector_labels(&self) -> Labels {
        match &self.owner_selector {
            Some(selector)
                if !selector.is_empty()
                    && selector.iter().all(|(k, v)| self.labels.get(k) == Some(v)) =>
            {
                selector.clone()
            }
            _ => owners::without_controller_labels(&self.labels),
        }
    }

    /// The container port numbers a named port means on this workload, for one protocol.
    pub fn resolve_port<'a>(
        &'a self,
        name: &'a str,
        protocol: Protocol,
    ) -> impl Iterator<Item = u16> + 'a {
        self.containers
            .iter()
            .flat_map(|c| &c.ports)
            .filter(move |p| p.name.as_deref() == Some(name) && p.protocol == protocol)
            .map(|p| p.port)
    }
}

#[derive(Clone, Debug)]
pub struct Container {
    pub name: String,
    pub ports: Vec<ContainerPort>,
    pub probes: Vec<Probe>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    Liveness,
    Readiness,
    Startup,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeAction {
    HttpGet,
    TcpSocket,
    Grpc,
}

/// A network probe (exec probes make no connection and are not kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    pub kind: ProbeKind,
    pub action: ProbeAction,
    pub port: PortRef,
    pub line: u32,
}

/// The cluster's objects that policies are about: namespaces, workloads, the Services and
/// Gateways that route mesh traffic, and Nodes. Policies are not part of it: each family reads its
/// own (`crate::pipeline`), and depends on the model, never the reverse.
#[derive(Debug, Default)]
pub struct Model {
    /// Sorted by name.
    pub namespaces: Vec<Namespace>,
    pub workloads: Vec<Workload>,
    /// Nodes, when the input has them (cluster dumps): the `nodes` peers of cluster-wide
    /// policies match their addresses.
    pub nodes: Vec<ClusterNode>,
    /// Waypoints declared by Gateways of class `istio-waypoint`.
    pub waypoints: Vec<Waypoint>,
    /// Gateway API gateways Istio deploys as gateway proxies (class `istio`, `istio-east-west`).
    pub gateways: Vec<Gateway>,
    /// Services with a selector (they decide which waypoint service traffic goes through).
    pub services: Vec<Service>,
    /// ServiceAccounts, when the input has them: (namespace, name) and their labels, which
    /// Calico's service-account selectors read.
    pub service_accounts: Vec<ServiceAccount>,
}

/// A ServiceAccount object: its labels.
#[derive(Clone, Debug)]
pub struct ServiceAccount {
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
}

/// A Node: its labels and addresses (`status.addresses`, the IP ones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterNode {
    pub name: String,
    pub labels: Labels,
    pub addresses: Vec<IpAddr>,
}

/// An Istio waypoint proxy (a Gateway of class `istio-waypoint`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waypoint {
    pub name: String,
    pub namespace: String,
    /// Which traffic it takes (`istio.io/waypoint-for`); `None` when the Gateway is not in the
    /// input (only a `use-waypoint` label names it), so every use of it is taken at its word.
    pub traffic: Option<WaypointFor>,
}

/// The Gateway's `istio.io/waypoint-for` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaypointFor {
    /// The default: traffic addressed to Services.
    Service,
    /// Traffic addressed to pods.
    Workload,
    All,
    None,
}

impl WaypointFor {
    pub const LABEL: &str = "istio.io/waypoint-for";

    fn parse(text: &str) -> Option<WaypointFor> {
        match text {
            "service" => Some(WaypointFor::Service),
            "workload" => Some(WaypointFor::Workload),
            "all" => Some(WaypointFor::All),
            "none" => Some(WaypointFor::None),
            _ => None,
        }
    }

    pub fn takes_services(self) -> bool {
        matches!(self, WaypointFor::Service | WaypointFor::All)
    }

    pub fn takes_workloads(self) -> bool {
        matches!(self, WaypointFor::Workload | WaypointFor::All)
    }
}

/// A Gateway API gateway that Istio runs as a gateway proxy (not a waypoint).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gateway {
    pub name: String,
    pub namespace: String,
    /// `gatewayClassName`: `istio` or `istio-east-west`.
    pub class: String,
}

/// A Service: which pods it selects, and its labels (`istio.io/use-waypoint`,
/// `istio.io/ingress-use-waypoint`). Its ports are not needed: NetworkPolicy sees the pod's
/// port (the `targetPort`) once the Service address is translated.
#[derive(Clone, Debug)]
pub struct Service {
    pub name: String,
    pub namespace: String,
    pub labels: Labels,
    pub selector: Selector,
    pub location: Location,
    /// The object as written, for the fix that labels it.
    pub node: crate::input::yaml::Node,
}

impl Model {
    /// The index of the (first) workload named `namespace/name`, as messages and the CLI's
    /// `--from`/`--to` write it.
    pub fn workload(&self, qualified: &str) -> Option<usize> {
        let (namespace, name) = qualified.split_once('/')?;
        self.workloads
            .iter()
            .position(|w| w.namespace == namespace && w.name == name)
    }

    pub fn namespace(&self, name: &str) -> Option<&Namespace> {
        self.namespaces
            .binary_search_by(|ns| ns.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.namespaces[i])
    }
}

/// Reads the model's objects one at a time ([`Builder::add`]), in input order, so that its
/// findings interleave with the policy families' (`crate::pipeline::load`).
#[derive(Default)]
pub struct Builder {
    model: Model,
    namespaces: BTreeMap<String, Namespace>,
    /// Workload objects, collapsed into one workload per owner chain once all are read.
    members: Vec<owners::Member>,
    /// (namespace, kind, name) of the workloads an autoscaler may scale past one pod.
    autoscaled: foldhash::HashSet<(String, String, String)>,
}

impl Builder {
    /// Reads one object if it is of a kind the model holds (other kinds are left alone). An
    /// invalid object is reported (INP003) and left out; an invalid entry of a workload (a port,
    /// a probe) is reported and the rest of the workload kept.
    pub fn add(&mut self, object: &Object, findings: &mut Vec<Finding>) {
        let model = &mut self.model;
        let mut soft = Vec::new();
        let result = match object.kind.as_str() {
            "Namespace" => namespace(object).map(|ns| {
                self.namespaces.insert(ns.name.clone(), ns);
            }),
            // (`networking.istio.io` has a `Gateway` too: the classic gateway's routing, no class.)
            "Gateway" if object.api_version.starts_with("gateway.networking.k8s.io/") => {
                gateway_class(object)
                    .and_then(|class| Ok((class, metadata_labels(object)?)))
                    .map(|(class, labels)| match class {
                        Some("istio-waypoint") => model.waypoints.push(Waypoint {
                            name: object.name.clone(),
                            namespace: object.namespace.clone(),
                            traffic: Some(
                                labels
                                    .iter()
                                    .find(|(k, _)| k == WaypointFor::LABEL)
                                    .and_then(|(_, v)| WaypointFor::parse(v))
                                    .unwrap_or(WaypointFor::Service),
                            ),
                        }),
                        Some(class @ ("istio" | "istio-east-west")) => {
                            model.gateways.push(Gateway {
                                name: object.name.clone(),
                                namespace: object.namespace.clone(),
                                class: class.to_string(),
                            })
                        }
                        _ => {}
                    })
            }
            "Service" => service(object).map(|s| model.services.extend(s)),
            "Node" => cluster_node(object).map(|n| model.nodes.push(n)),
            "ServiceAccount" => metadata_labels(object).map(|labels| {
                model.service_accounts.push(ServiceAccount {
                    namespace: object.namespace.clone(),
                    name: object.name.clone(),
                    labels: crate::sort::map(labels),
                })
            }),
            "HorizontalPodAutoscaler" => scale_target(object).map(|target| {
                if let Some(target) = target {
                    self.autoscaled.insert(target);
                }
            }),
            kind if WORKLOAD_KINDS.contains(&kind) => {
                workload(object, &mut soft).map(|member| self.members.push(member))
            }
            _ => Ok(()),
        };
        if let Err(invalid) = result {
            findings.push(invalid_object(
                object,
                invalid,
                "the object is skipped",
                false,
            ));
        }
        for invalid in soft {
            findings.push(invalid_object(
                object,
                invalid,
                "that entry is ignored, the rest of the object is used",
                false,
            ));
        }
    }

    /// The model, once every object is read. `named` are the namespaces other objects (policies)
    /// name: every namespace named exists, with its automatic name label.
    pub fn finish<'n>(mut self, named: impl IntoIterator<Item = &'n String>) -> Model {
        let mut model = self.model;
        model.workloads = owners::collapse(self.members);
        for w in &mut model.workloads {
            if self
                .autoscaled
                .contains(&(w.namespace.clone(), w.kind.clone(), w.name.clone()))
            {
                w.replicated = true;
            }
        }
        let mut name_exists = |name: &str| {
            if !self.namespaces.contains_key(name) {
                let namespace = Namespace {
                    name: name.to_string(),
                    labels: Labels::new(),
                    location: None,
                };
                self.namespaces.insert(name.to_string(), namespace);
            }
        };
        for w in &model.workloads {
            name_exists(&w.namespace);
        }
        for name in named {
            name_exists(name);
        }
        for ns in self.namespaces.values_mut() {
            ns.labels
                .insert(NAMESPACE_NAME_LABEL.to_string(), ns.name.clone());
        }
        model.namespaces = self.namespaces.into_values().collect();
        model
    }
}

/// The model of these objects alone (policies' namespaces are not added).
pub fn build<'o>(objects: impl IntoIterator<Item = &'o Object>) -> (Model, Vec<Finding>) {
    let mut builder = Builder::default();
    let mut findings = Vec::new();
    for object in objects {
        builder.add(object, &mut findings);
    }
    (builder.finish([]), findings)
}

/// An INP003 finding on an invalid object or entry, on the policy (`policy`) or the workload.
pub fn invalid_object(
    object: &Object,
    invalid: Invalid,
    consequence: &str,
    policy: bool,
) -> Finding {
    let mut finding = Finding::new(
        Code::Inp003,
        format!(
            "{} `{}`: {}; {consequence}",
            object.kind, object.name, invalid.message
        ),
        Some(Location {
            line: invalid.line,
            column: invalid.column,
            ..object.location
        }),
    );
    if policy {
        finding.policy = Some(object.qualified_name());
        finding.policy_kind = Some(object.kind.clone());
    } else {
        finding.workload = Some(object.qualified_name());
    }
    finding
}

fn gateway_class(object: &Object) -> Checked<Option<&str>> {
    match fields::map(&object.node, "spec", "spec")? {
        Some(spec) => fields::string(spec, "gatewayClassName", "spec.gatewayClassName"),
        None => Ok(None),
    }
}

fn metadata_labels(object: &Object) -> Checked<Vec<(String, String)>> {
    match fields::map(&object.node, "metadata", "metadata")? {
        Some(m) => fields::string_map(m, "labels", "metadata.labels"),
        None => Ok(Vec::new()),
    }
}

fn cluster_node(object: &Object) -> Checked<ClusterNode> {
    let mut addresses = Vec::new();
    if let Some(status) = fields::map(&object.node, "status", "status")? {
        for (i, entry) in fields::seq(status, "addresses", "status.addresses")?
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let path = format!("status.addresses[{i}].address");
            // Hostnames and DNS names sit beside the IP addresses: only the latter are kept.
            if let Some(Ok(ip)) = fields::string(entry, "address", &path)?.map(str::parse::<IpAddr>)
            {
                addresses.push(ip);
            }
        }
    }
    Ok(ClusterNode {
        name: object.name.clone(),
        labels: crate::sort::map(metadata_labels(object)?),
        addresses,
    })
}

/// A Service with a selector (one without selects no pod: its endpoints are managed by hand).
fn service(object: &Object) -> Checked<Option<Service>> {
    let selector = match fields::map(&object.node, "spec", "spec")? {
        Some(spec) => fields::string_map(spec, "selector", "spec.selector")?,
        None => Vec::new(),
    };
    if selector.is_empty() {
        return Ok(None);
    }
    Ok(Some(Service {
        name: object.name.clone(),
        namespace: object.namespace.clone(),
        labels: crate::sort::map(metadata_labels(object)?),
        selector: Selector {
            match_labels: selector,
            requirements: Vec::new(),
        },
        location: object.location,
        node: object.node.clone(),
    }))
}

/// The workload a HorizontalPodAutoscaler may scale past one pod: (namespace, kind, name).
fn scale_target(object: &Object) -> Checked<Option<(String, String, String)>> {
    let Some(spec) = fields::map(&object.node, "spec", "spec")? else {
        return Ok(None);
    };
    let max = spec.field("maxReplicas").and_then(|n| n.as_int());
    let Some(target) = fields::map(spec, "scaleTargetRef", "spec.scaleTargetRef")? else {
        return Ok(None);
    };
    let kind = fields::string(target, "kind", "spec.scaleTargetRef.kind")?;
    let name = fields::string(target, "name", "spec.scaleTargetRef.name")?;
    Ok(match (kind, name, max) {
        (Some(kind), Some(name), Some(max)) if max > 1 => {
            Some((object.namespace.clone(), kind.to_string(), name.to_string()))
        }
        _ => None,
    })
}

/// Whether a workload object can run more than one pod.
fn replicated(object: &Object) -> Checked<bool> {
    let count = |key: &str| -> Checked<bool> {
        Ok(match fields::map(&object.node, "spec", "spec")? {
            Some(spec) => spec
                .field(key)
                .and_then(|n| n.as_int())
                .is_some_and(|n| n > 1),
            None => false,
        })
    };
    match object.kind.as_str() {
        "DaemonSet" => Ok(true),
        "Deployment" | "StatefulSet" | "ReplicaSet" | "ReplicationController" => count("replicas"),
        "Job" => count("parallelism"),
        _ => Ok(false),
    }
}

fn namespace(object: &Object) -> Checked<Namespace> {
    let metadata = fields::map(&object.node, "metadata", "metadata")?;
    let labels = match metadata {
        Some(m) => fields::string_map(m, "labels", "metadata.labels")?,
        None => Vec::new(),
    };
    Ok(Namespace {
        name: object.name.clone(),
        labels: crate::sort::map(labels),
        location: Some(object.location),
    })
}

/// A workload object with what it says about its owners and its own selector.
fn workload(object: &Object, soft: &mut Vec<Invalid>) -> Checked<owners::Member> {
    let node = &object.node;
    let (template, template_path) = match object.kind.as_str() {
        "Pod" => (Some(node), ""),
        "CronJob" => {
            let job = fields::map(node, "spec", "spec")?
                .map(|s| fields::map(s, "jobTemplate", "spec.jobTemplate"))
                .transpose()?
                .flatten()
                .map(|j| fields::map(j, "spec", "spec.jobTemplate.spec"))
                .transpose()?
                .flatten();
            let template = job
                .map(|j| fields::map(j, "template", "spec.jobTemplate.spec.template"))
                .transpose()?
                .flatten();
            (template, "spec.jobTemplate.spec.template.")
        }
        _ => {
            let template = fields::map(node, "spec", "spec")?
                .map(|s| fields::map(s, "template", "spec.template"))
                .transpose()?
                .flatten();
            (template, "spec.template.")
        }
    };
    let empty = Node {
        value: crate::input::yaml::Value::Map(Vec::new()),
        span: node.span,
    };
    let template = template.unwrap_or(&empty);
    let metadata = fields::at(
        |p| fields::map(template, "metadata", p),
        || format!("{template_path}metadata"),
    )?;
    let (labels, annotations) = match metadata {
        Some(m) => (
            fields::at(
                |p| fields::string_map(m, "labels", p),
                || format!("{template_path}metadata.labels"),
            )?,
            fields::at(
                |p| fields::string_map(m, "annotations", p),
                || format!("{template_path}metadata.annotations"),
            )?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let spec_path = format!("{template_path}spec");
    let spec = fields::map(template, "spec", &spec_path)?;
    let (containers, host_network) = match spec {
        Some(spec) => (
            containers(spec, &spec_path, soft)?,
            fields::at(
                |p| fields::boolean(spec, "hostNetwork", p),
                || format!("{spec_path}.hostNetwork"),
            )?
            .unwrap_or(false),
        ),
        None => (Vec::new(), false),
    };
    let service_account = match spec {
        Some(spec) => match fields::at(
            |p| fields::string(spec, "serviceAccountName", p),
            || format!("{spec_path}.serviceAccountName"),
        )? {
            Some(sa) => Some(sa),
            None => fields::at(
                |p| fields::string(spec, "serviceAccount", p),
                || format!("{spec_path}.serviceAccount"),
            )?,
        },
        None => None,
    }
    .map(str::to_string);

    let kind = object.kind.as_str();
    let (ips, finished) = if kind == "Pod" {
        pod_status(node)
    } else {
        (Vec::new(), false)
    };
    let owner = match kind {
        "Pod" | "ReplicaSet" | "Job" | "ReplicationController" => controller(node)?,
        _ => None,
    };
    let spec = fields::map(node, "spec", "spec")?;
    let scaled_to_zero = kind == "ReplicaSet"
        && spec
            .and_then(|s| s.field("replicas"))
            .and_then(|n| n.as_int())
            == Some(0);

    Ok(owners::Member {
        workload: Workload {
            kind: object.kind.clone(),
            name: object.name.clone(),
            namespace: object.namespace.clone(),
            labels: crate::sort::map(labels),
            annotations: crate::sort::map(annotations),
            containers,
            host_network,
            service_account,
            ips,
            location: object.location,
            inferred: None,
            replicated: replicated(object)?,
            owner_selector: None,
        },
        owner,
        selector: own_selector(object, soft),
        scaled_to_zero,
        finished,
    })
}

/// What a pod's `status` says: its addresses, and whether it has finished (`Succeeded` or
/// `Failed`). The cluster writes `status`, not the user: whatever is in it, nothing here is a
/// finding, and what cannot be read is left out.
fn pod_status(node: &Node) -> (Vec<IpAddr>, bool) {
    let Some(status) = node.field("status") else {
        return (Vec::new(), false);
    };
    let mut ips = Vec::new();
    let listed = status
        .field("podIPs")
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| entry.field("ip"));
    for text in status.field("podIP").into_iter().chain(listed) {
        if let Some(ip) = text.as_str().and_then(|t| t.parse::<IpAddr>().ok())
            && !ips.contains(&ip)
        {
            ips.push(ip);
        }
    }
    let finished = matches!(
        status.field("phase").and_then(Node::as_str),
        Some("Succeeded" | "Failed")
    );
    (ips, finished)
}

/// The controller `ownerReference` of an object: (kind, name). Static pods' mirrors are "owned"
/// by their Node: each is its own workload.
fn controller(node: &Node) -> Checked<Option<(String, String)>> {
    let Some(metadata) = fields::map(node, "metadata", "metadata")? else {
        return Ok(None);
    };
    let mut owner = None;
    for (i, reference) in fields::seq(metadata, "ownerReferences", "metadata.ownerReferences")?
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let path = format!("metadata.ownerReferences[{i}]");
        if fields::boolean(reference, "controller", &format!("{path}.controller"))? == Some(true)
            && let Some(name) = fields::string(reference, "name", &format!("{path}.name"))?
        {
            let kind = fields::string(reference, "kind", &format!("{path}.kind"))?.unwrap_or("Pod");
            if kind != "Node" {
                owner = Some((kind.to_string(), name.to_string()));
            }
        }
    }
    Ok(owner)
}

/// A controller's own `spec.selector.matchLabels` (a ReplicationController's `spec.selector`, a
/// CronJob's in its `jobTemplate`), without controller labels; `None` when it has none. Only
/// generated selectors use it: an invalid one is reported and left out, the object is kept.
fn own_selector(object: &Object, soft: &mut Vec<Invalid>) -> Option<Labels> {
    let read = || -> Checked<Option<Vec<(String, String)>>> {
        let Some(spec) = fields::map(&object.node, "spec", "spec")? else {
            return Ok(None);
        };
        Ok(match object.kind.as_str() {
            "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" => {
                match fields::map(spec, "selector", "spec.selector")? {
                    Some(s) => Some(fields::string_map(
                        s,
                        "matchLabels",
                        "spec.selector.matchLabels",
                    )?),
                    None => None,
                }
            }
            "ReplicationController" => Some(fields::string_map(spec, "selector", "spec.selector")?),
            "CronJob" => {
                let job = fields::map(spec, "jobTemplate", "spec.jobTemplate")?
                    .map(|j| fields::map(j, "spec", "spec.jobTemplate.spec"))
                    .transpose()?
                    .flatten();
                let selector = job
                    .map(|j| fields::map(j, "selector", "spec.jobTemplate.spec.selector"))
                    .transpose()?
                    .flatten();
                match selector {
                    Some(s) => Some(fields::string_map(
                        s,
                        "matchLabels",
                        "spec.jobTemplate.spec.selector.matchLabels",
                    )?),
                    None => None,
                }
            }
            _ => None,
        })
    };
    match read() {
        Ok(labels) => {
            let labels: Labels = crate::sort::map(
                labels?
                    .into_iter()
                    .filter(|(k, _)| !owners::is_controller_label(k)),
            );
            (!labels.is_empty()).then_some(labels)
        }
        Err(invalid) => {
            soft.push(invalid);
            None
        }
    }
}

fn containers(spec: &Node, spec_path: &str, soft: &mut Vec<Invalid>) -> Checked<Vec<Container>> {
    let mut out = Vec::new();
    for key in ["initContainers", "containers"] {
        let path = format!("{spec_path}.{key}");
        for (i, c) in fields::seq(spec, key, &path)?
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let here = format!("{path}[{i}]");
            if c.as_map().is_none() {
                return Err(Invalid::at(
                    c,
                    format!("`{here}` is {}; it must be a map", c.type_name()),
                ));
            }
            let name = fields::at(|p| fields::string(c, "name", p), || format!("{here}.name"))?
                .unwrap_or_default()
                .to_string();
            let mut ports = Vec::new();
            for (j, p) in fields::at(|p| fields::seq(c, "ports", p), || format!("{here}.ports"))?
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                match fields::at(|pp| container_port(p, pp), || format!("{here}.ports[{j}]")) {
                    Ok(port) => ports.push(port),
                    Err(invalid) => soft.push(invalid),
                }
            }
            let mut probes = Vec::new();
            for (key, kind) in [
                ("livenessProbe", ProbeKind::Liveness),
                ("readinessProbe", ProbeKind::Readiness),
                ("startupProbe", ProbeKind::Startup),
            ] {
                let Some(probe) =
                    fields::at(|p| fields::map(c, key, p), || format!("{here}.{key}"))?
                else {
                    continue;
                };
                for (action_key, action) in [
                    ("httpGet", ProbeAction::HttpGet),
                    ("tcpSocket", ProbeAction::TcpSocket),
                    ("grpc", ProbeAction::Grpc),
                ] {
                    let action_path = || format!("{here}.{key}.{action_key}");
                    let Some(handler) =
                        fields::at(|p| fields::map(probe, action_key, p), action_path)?
                    else {
                        continue;
                    };
                    let Some(port) = handler.field("port") else {
                        soft.push(Invalid::at(
                            handler,
                            format!("`{}` has no `port`", action_path()),
                        ));
                        continue;
                    };
                    let port = if action == ProbeAction::Grpc {
                        // gRPC probes take a number only.
                        port.as_int()
                            .and_then(|n| u16::try_from(n).ok())
                            .filter(|n| *n >= 1)
                            .map(PortRef::Number)
                            .ok_or_else(|| {
                                Invalid::at(
                                    port,
                                    format!(
                                        "`{}.port` must be a number from 1 to 65535",
                                        action_path()
                                    ),
                                )
                            })
                    } else {
                        fields::at(
                            |p| fields::port_ref(port, p),
                            || format!("{}.port", action_path()),
                        )
                    };
                    let port = match port {
                        Ok(port) => port,
                        Err(invalid) => {
                            soft.push(invalid);
                            continue;
                        }
                    };
                    probes.push(Probe {
                        kind,
                        action,
                        port,
                        line: handler.span.line,
                    });
                }
            }
            out.push(Container {
                name,
                ports,
                probes,
            });
        }
    }
    Ok(out)
}

fn container_port(p: &Node, pp: &str) -> Checked<ContainerPort> {
    let number = p.field("containerPort").ok_or_else(|| {
        let near = p.as_map().unwrap_or_default().iter().find_map(|(k, _)| {
            k.as_str()
                .filter(|k| k.eq_ignore_ascii_case("containerPort"))
        });
        let hint = near.map_or_else(String::new, |k| {
            format!(" (`{k}` is misspelt: field names are case-sensitive)")
        });
        Invalid::at(p, format!("`{pp}` has no `containerPort`{hint}"))
    })?;
    let port = number
        .as_int()
        .and_then(|n| u16::try_from(n).ok())
        .filter(|n| *n >= 1)
        .ok_or_else(|| {
            Invalid::at(
                number,
                format!("`{pp}.containerPort` must be a number from 1 to 65535"),
            )
        })?;
    let protocol = match fields::at(
        |q| fields::string(p, "protocol", q),
        || format!("{pp}.protocol"),
    )? {
        None => Protocol::Tcp,
        Some(text) => Protocol::parse(text).ok_or_else(|| {
            Invalid::at(
                p,
                format!("`{pp}.protocol` is `{text}`; it must be TCP, UDP or SCTP"),
            )
        })?,
    };
    let name =
        fields::at(|q| fields::string(p, "name", q), || format!("{pp}.name"))?.map(str::to_string);
    Ok(ContainerPort {
        name,
        port,
        protocol,
    })
}
