//! Cluster-wide network policies of the network-policy-api (`policy.networking.k8s.io`):
//! `ClusterNetworkPolicy` (v1alpha2, tiers Admin and Baseline) and its predecessors
//! `AdminNetworkPolicy` and `BaselineAdminNetworkPolicy` (v1alpha1), parsed and validated into
//! one shape. DOMAIN.md section 7 and the API's Go types are the authority.
//!
//! Both versions say the same things in other words: v1alpha1's `Allow` is v1alpha2's `Accept`,
//! the kind is the tier, `ports` (`portNumber`, `portRange`, `namedPort`) are `protocols`
//! (`tcp.destinationPort.number` or `.range`, `destinationNamedPort`). How the tiers decide a
//! connection together with NetworkPolicy is `pipeline::engine`'s policy pipeline.

use crate::findings::{Code, Finding, Location};
use crate::input::Object;
use crate::input::yaml::Node;
use crate::model::fields::{self, Checked, Invalid};
use crate::model::labels::Selector;
use crate::net::conn::{MAX_PORT, Protocol};
use crate::net::ip::{Cidr, IpSet};
use crate::net::{Direction, PortRef, PortSpec};

/// The API group's kinds the evaluator reads.
pub const KINDS: &[&str] = &[
    "ClusterNetworkPolicy",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
];

/// The API group (any version): a `ClusterNetworkPolicy` of another group is not this one.
pub const GROUP: &str = "policy.networking.k8s.io/";

/// Whether an object is one of this family's.
pub fn is_cluster_policy(object: &Object) -> bool {
    KINDS.contains(&object.kind.as_str()) && object.api_version.starts_with(GROUP)
}

/// Where a policy sits in the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Before NetworkPolicy: its decisions stand.
    Admin,
    /// After NetworkPolicy, for the pods no NetworkPolicy isolates.
    Baseline,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Admin => "Admin",
            Tier::Baseline => "Baseline",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// v1alpha2 `Accept`, v1alpha1 `Allow`.
    Accept,
    Deny,
    /// On to the next tier.
    Pass,
}

impl Action {
    /// The v1alpha2 spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "Accept",
            Action::Deny => "Deny",
            Action::Pass => "Pass",
        }
    }
}

/// Which pods a policy applies to (`spec.subject`) or a rule names (`from`/`to` entries).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Pods {
    /// Every pod of the namespaces the selector selects.
    Namespaces(Selector),
    /// The pods the pod selector selects in the namespaces the namespace selector selects.
    Pods {
        namespaces: Selector,
        pods: Selector,
    },
}

#[derive(Clone, Debug)]
pub enum Peer {
    Pods(Pods),
    /// Egress only: addresses (pods' addresses too, where known).
    Networks {
        cidrs: Vec<String>,
        set: IpSet,
    },
    /// Egress only: nodes by their labels. Nodes are not in the input: such a peer matches
    /// nothing (reported, INP007).
    Nodes(Selector),
    /// Egress only: DNS names, which an offline analysis cannot resolve (reported, INP007).
    DomainNames(Vec<String>),
}

#[derive(Clone, Debug)]
pub struct Rule {
    /// The rule's optional `name`.
    pub name: Option<String>,
    pub action: Action,
    pub peers: Vec<Peer>,
    /// `None`: every port and protocol. Named ports are written once per protocol, since a
    /// container port's name says its protocol.
    pub ports: Option<Vec<PortSpec>>,
    pub line: u32,
    pub column: u32,
}

#[derive(Clone, Debug)]
pub struct ClusterPolicy {
    /// `ClusterNetworkPolicy`, `AdminNetworkPolicy` or `BaselineAdminNetworkPolicy`.
    pub kind: String,
    pub name: String,
    pub tier: Tier,
    /// Lower first; a BaselineAdminNetworkPolicy (one per cluster) has none: 0.
    pub priority: u32,
    pub subject: Pods,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
    pub location: Location,
    /// The policy's whole YAML node, for the fixer.
    pub node: Node,
}

impl ClusterPolicy {
    pub fn rules(&self, direction: crate::net::Direction) -> &[Rule] {
        match direction {
            crate::net::Direction::Ingress => &self.ingress,
            crate::net::Direction::Egress => &self.egress,
        }
    }

    /// How findings and explanations name it: ClusterNetworkPolicy `guard` (Admin tier,
    /// priority 10).
    pub fn describe(&self) -> String {
        match self.kind.as_str() {
            "BaselineAdminNetworkPolicy" => format!("{} `{}`", self.kind, self.name),
            // A Cilium policy's deny rules (`crate::cilium`): they win over every allow.
            "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy" => {
                format!("{} `{}`", self.kind, self.name)
            }
            "AdminNetworkPolicy" => {
                format!("{} `{}` (priority {})", self.kind, self.name, self.priority)
            }
            _ => format!(
                "{} `{}` ({} tier, priority {})",
                self.kind,
                self.name,
                self.tier.as_str(),
                self.priority
            ),
        }
    }

    /// A finding on one of its rules, naming the policy (cluster-scoped: by name) and its kind.
    pub fn finding(
        &self,
        code: crate::findings::Code,
        message: String,
        direction: crate::net::Direction,
        rule: usize,
    ) -> crate::findings::Finding {
        let at = self.rules(direction).get(rule).map(|r| Location {
            line: r.line,
            column: r.column,
            ..self.location
        });
        let mut finding = crate::findings::Finding::new(code, message, at.or(Some(self.location)));
        finding.policy = Some(self.name.clone());
        finding.policy_kind = Some(self.kind.clone());
        finding
    }

    /// One rule named for people: "ingress rule 2 (`deny-web`)".
    pub fn rule_name(&self, direction: crate::net::Direction, rule: usize) -> String {
        if self.kind.starts_with("Cilium") {
            return format!("{}Deny rule {}", direction.as_str(), rule + 1);
        }
        match self
            .rules(direction)
            .get(rule)
            .and_then(|r| r.name.as_deref())
        {
            Some(name) => format!("{} rule {} (`{name}`)", direction.as_str(), rule + 1),
            None => format!("{} rule {}", direction.as_str(), rule + 1),
        }
    }
}

/// The priority range both versions allow.
pub const MAX_PRIORITY: i64 = 1000;
/// Rules per direction and entries per rule (the API's limits: 25 in v1alpha2, 100 in v1alpha1).
const MAX_RULES: usize = 100;
const MAX_ENTRIES: usize = 100;

/// Parses one of the family's objects; an invalid field rejects the whole policy, as the API
/// server would.
pub fn parse(object: &Object) -> Checked<ClusterPolicy> {
    let node = &object.node;
    let v1alpha1 = object.kind != "ClusterNetworkPolicy";
    let spec = fields::map(node, "spec", "spec")?.ok_or_else(|| {
        Invalid::at(
            node,
            format!(
                "the {} has no `spec`; it needs at least `spec.subject`",
                object.kind
            ),
        )
    })?;
    let tier = match object.kind.as_str() {
        "AdminNetworkPolicy" => Tier::Admin,
        "BaselineAdminNetworkPolicy" => {
            if object.name != "default" {
                return Err(Invalid::at(
                    node.get("metadata").unwrap_or(node),
                    format!(
                        "a BaselineAdminNetworkPolicy must be named `default` (there is one per cluster), not `{}`",
                        object.name
                    ),
                ));
            }
            Tier::Baseline
        }
        _ => match fields::string(spec, "tier", "spec.tier")? {
            Some("Admin") => Tier::Admin,
            Some("Baseline") => Tier::Baseline,
            Some(other) => {
                return Err(Invalid::at(
                    spec.get("tier").unwrap_or(spec),
                    format!("`spec.tier` is `{other}`; it must be Admin or Baseline"),
                ));
            }
            None => {
                return Err(Invalid::at(
                    spec,
                    "`spec.tier` is missing; write `tier: Admin` (before NetworkPolicy) or `tier: Baseline` (after it)".into(),
                ));
            }
        },
    };
    let priority = if object.kind == "BaselineAdminNetworkPolicy" {
        0
    } else {
        let at = spec.field("priority").ok_or_else(|| {
            Invalid::at(
                spec,
                "`spec.priority` is missing; give a number from 0 (first) to 1000".into(),
            )
        })?;
        at.as_int()
            .filter(|p| (0..=MAX_PRIORITY).contains(p))
            .ok_or_else(|| {
                Invalid::at(
                    at,
                    format!(
                        "`spec.priority` is `{}`; it must be a number from 0 (first) to 1000",
                        at.as_str().unwrap_or("not a number")
                    ),
                )
            })? as u32
    };
    let subject = match spec.field("subject") {
        Some(subject) => pods(subject, "spec.subject")?,
        None => {
            return Err(Invalid::at(
                spec,
                "`spec.subject` is missing; give `namespaces: {}` or `pods: {namespaceSelector, podSelector}`".into(),
            ));
        }
    };
    let rules = |key: &str, peer_key: &str| -> Checked<Vec<Rule>> {
        let path = format!("spec.{key}");
        let Some(items) = fields::seq_at_most(spec, key, &path, MAX_RULES)? else {
            return Ok(Vec::new());
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                rule(
                    item,
                    &format!("{path}[{i}]"),
                    peer_key,
                    v1alpha1,
                    tier == Tier::Baseline && v1alpha1,
                )
            })
            .collect()
    };
    Ok(ClusterPolicy {
        kind: object.kind.clone(),
        name: object.name.clone(),
        tier,
        priority,
        subject,
        ingress: rules("ingress", "from")?,
        egress: rules("egress", "to")?,
        location: object.location,
        node: node.clone(),
    })
}

fn expect_map(node: &Node, path: &str, what: &str) -> Checked<()> {
    match node.as_map() {
        Some(_) => Ok(()),
        None => Err(Invalid::at(
            node,
            format!("`{path}` is {}; it must be {what}", node.type_name()),
        )),
    }
}

/// A subject or a `namespaces`/`pods` peer: exactly one of the two keys.
fn pods(node: &Node, path: &str) -> Checked<Pods> {
    expect_map(node, path, "a map with `namespaces` or `pods`")?;
    match (node.field("namespaces"), node.field("pods")) {
        (Some(ns), None) => Ok(Pods::Namespaces(Selector::parse(
            ns,
            &format!("{path}.namespaces"),
        )?)),
        (None, Some(p)) => {
            let here = format!("{path}.pods");
            expect_map(p, &here, "a map with `namespaceSelector` and `podSelector`")?;
            let pods = p.field("podSelector").ok_or_else(|| {
                Invalid::at(
                    p,
                    format!(
                        "`{here}.podSelector` is missing; write `podSelector: {{}}` for every pod"
                    ),
                )
            })?;
            Ok(Pods::Pods {
                namespaces: match p.field("namespaceSelector") {
                    Some(ns) => Selector::parse(ns, &format!("{here}.namespaceSelector"))?,
                    None => Selector::default(),
                },
                pods: Selector::parse(pods, &format!("{here}.podSelector"))?,
            })
        }
        (Some(_), Some(_)) => Err(Invalid::at(
            node,
            format!("`{path}` has both `namespaces` and `pods`; exactly one is allowed"),
        )),
        (None, None) => Err(Invalid::at(
            node,
            format!("`{path}` has neither `namespaces` nor `pods`; give exactly one"),
        )),
    }
}

fn rule(node: &Node, path: &str, peer_key: &str, v1alpha1: bool, banp: bool) -> Checked<Rule> {
    expect_map(
        node,
        path,
        &format!("a map with `action`, `{peer_key}` and optional ports"),
    )?;
    let action_node = node
        .field("action")
        .ok_or_else(|| Invalid::at(node, format!("`{path}.action` is missing")))?;
    let action_text = fields::scalar_string(action_node, &format!("{path}.action"))?;
    let action = match (action_text, v1alpha1) {
        ("Accept", false) | ("Allow", true) => Action::Accept,
        ("Deny", _) => Action::Deny,
        ("Pass", _) if !banp => Action::Pass,
        _ => {
            let allowed = match (v1alpha1, banp) {
                (false, _) => "Accept, Deny or Pass",
                (true, false) => "Allow, Deny or Pass",
                (true, true) => "Allow or Deny",
            };
            return Err(Invalid::at(
                action_node,
                format!("`{path}.action` is `{action_text}`; it must be {allowed}"),
            ));
        }
    };
    let peers_path = format!("{path}.{peer_key}");
    let peers = match fields::seq_at_most(node, peer_key, &peers_path, MAX_ENTRIES)? {
        Some(items) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, p)| peer(p, &format!("{peers_path}[{i}]"), peer_key == "to"))
            .collect::<Checked<Vec<_>>>()?,
        _ => {
            return Err(Invalid::at(
                node,
                format!("`{peers_path}` is missing or empty; it must list at least one peer"),
            ));
        }
    };
    let ports = if v1alpha1 {
        entries(node, "ports", path, port_v1alpha1)?
    } else {
        entries(node, "protocols", path, protocol_v1alpha2)?
    };
    let ports = ports.map(|lists| lists.into_iter().flatten().collect::<Vec<_>>());
    if let Some(specs) = &ports {
        let named = specs
            .iter()
            .any(|s| matches!(s.port, Some(PortRef::Name(_))));
        let off_cluster = peers.iter().any(|p| !matches!(p, Peer::Pods(_)));
        if named && off_cluster {
            return Err(Invalid::at(
                node,
                format!(
                    "`{path}` names a port by name with a `networks`, `nodes` or `domainNames` peer; those have no named ports: use a number"
                ),
            ));
        }
    }
    Ok(Rule {
        name: fields::string(node, "name", &format!("{path}.name"))?.map(str::to_string),
        action,
        peers,
        ports,
        line: node.span.line,
        column: node.span.column,
    })
}

fn entries(
    node: &Node,
    key: &str,
    path: &str,
    parse: fn(&Node, &str) -> Checked<Vec<PortSpec>>,
) -> Checked<Option<Vec<Vec<PortSpec>>>> {
    let here = format!("{path}.{key}");
    match fields::seq_at_most(node, key, &here, MAX_ENTRIES)? {
        None => Ok(None),
        Some([]) => Err(Invalid::at(
            node.get(key).unwrap_or(node),
            format!("`{here}` is empty; leave it out to match every port"),
        )),
        Some(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| parse(item, &format!("{here}[{i}]")))
            .collect::<Checked<Vec<_>>>()
            .map(Some),
    }
}

fn peer(node: &Node, path: &str, egress: bool) -> Checked<Peer> {
    let keys = if egress {
        "`namespaces`, `pods`, `networks`, `nodes` or `domainNames`"
    } else {
        "`namespaces` or `pods`"
    };
    expect_map(node, path, &format!("a map with one of {keys}"))?;
    let given: Vec<&str> = ["namespaces", "pods", "networks", "nodes", "domainNames"]
        .into_iter()
        .filter(|k| node.field(k).is_some())
        .collect();
    match given.as_slice() {
        ["namespaces" | "pods"] => pods(node, path).map(Peer::Pods),
        [key @ ("networks" | "nodes" | "domainNames")] if !egress => Err(Invalid::at(
            node,
            format!("`{path}.{key}` is an egress peer; ingress peers are {keys}"),
        )),
        ["networks"] => {
            let cidrs = fields::string_list(node, "networks", &format!("{path}.networks"))?;
            let mut set = IpSet::default();
            for (i, text) in cidrs.iter().enumerate() {
                let at = node
                    .get("networks")
                    .and_then(Node::as_seq)
                    .and_then(|s| s.get(i))
                    .unwrap_or(node);
                let cidr = Cidr::parse(text)
                    .map_err(|m| Invalid::at(at, format!("`{path}.networks[{i}]`: {m}")))?;
                set = set.union(&cidr.set());
            }
            if cidrs.is_empty() {
                return Err(Invalid::at(
                    node,
                    format!("`{path}.networks` is empty; list at least one CIDR"),
                ));
            }
            Ok(Peer::Networks { cidrs, set })
        }
        ["nodes"] => Ok(Peer::Nodes(Selector::parse(
            node.field("nodes").unwrap_or(node),
            &format!("{path}.nodes"),
        )?)),
        ["domainNames"] => Ok(Peer::DomainNames(fields::string_list(
            node,
            "domainNames",
            &format!("{path}.domainNames"),
        )?)),
        [] => Err(Invalid::at(
            node,
            format!("`{path}` names no peer; give one of {keys}"),
        )),
        _ => Err(Invalid::at(
            node,
            format!(
                "`{path}` has {}; exactly one of {keys} is allowed per entry: split it",
                given.join(" and ")
            ),
        )),
    }
}

fn number(node: &Node, path: &str) -> Checked<u16> {
    node.as_int()
        .filter(|n| (1..=i64::from(MAX_PORT)).contains(n))
        .map(|n| n as u16)
        .ok_or_else(|| {
            Invalid::at(
                node,
                format!("`{path}` must be a port number from 1 to 65535"),
            )
        })
}

fn required<'a>(node: &'a Node, key: &str, path: &str) -> Checked<&'a Node> {
    node.field(key)
        .ok_or_else(|| Invalid::at(node, format!("`{path}.{key}` is missing")))
}

fn range(node: &Node, path: &str, protocol: Protocol) -> Checked<PortSpec> {
    let start = number(required(node, "start", path)?, &format!("{path}.start"))?;
    let end = number(required(node, "end", path)?, &format!("{path}.end"))?;
    if start >= end {
        return Err(Invalid::at(
            node,
            format!("`{path}`: start ({start}) must be below end ({end})"),
        ));
    }
    Ok(PortSpec {
        protocol,
        port: Some(PortRef::Number(start)),
        end_port: Some(end),
        line: node.span.line,
    })
}

/// A named port: one spec per protocol, since the container port's name carries its protocol.
fn named(name: &str, node: &Node, path: &str) -> Checked<Vec<PortSpec>> {
    match crate::model::fields::port_ref(node, path)? {
        PortRef::Name(_) => Ok(Protocol::ALL
            .into_iter()
            .map(|protocol| PortSpec {
                protocol,
                port: Some(PortRef::Name(name.to_string())),
                end_port: None,
                line: node.span.line,
            })
            .collect()),
        PortRef::Number(_) => Err(Invalid::at(
            node,
            format!("`{path}` is a number; a named port is a container port's name"),
        )),
    }
}

/// v1alpha2: `{tcp|udp|sctp: {destinationPort: {number | range}}}` or `{destinationNamedPort}`.
fn protocol_v1alpha2(node: &Node, path: &str) -> Checked<Vec<PortSpec>> {
    expect_map(
        node,
        path,
        "a map with one of `tcp`, `udp`, `sctp` or `destinationNamedPort`",
    )?;
    let given: Vec<&str> = ["tcp", "udp", "sctp", "destinationNamedPort"]
        .into_iter()
        .filter(|k| node.field(k).is_some())
        .collect();
    let [key] = given.as_slice() else {
        return Err(Invalid::at(
            node,
            format!(
                "`{path}` must have exactly one of `tcp`, `udp`, `sctp` or `destinationNamedPort`"
            ),
        ));
    };
    let value = node.field(key).unwrap_or(node);
    let here = format!("{path}.{key}");
    if *key == "destinationNamedPort" {
        let name = fields::scalar_string(value, &here)?;
        return named(name, value, &here);
    }
    let protocol = match *key {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        _ => Protocol::Sctp,
    };
    expect_map(value, &here, "a map with `destinationPort`")?;
    let port = required(value, "destinationPort", &here)?;
    let here = format!("{here}.destinationPort");
    expect_map(port, &here, "a map with `number` or `range`")?;
    match (port.field("number"), port.field("range")) {
        (Some(n), None) => Ok(vec![PortSpec {
            protocol,
            port: Some(PortRef::Number(number(n, &format!("{here}.number"))?)),
            end_port: None,
            line: n.span.line,
        }]),
        (None, Some(r)) => Ok(vec![range(r, &format!("{here}.range"), protocol)?]),
        _ => Err(Invalid::at(
            port,
            format!("`{here}` must have exactly one of `number` or `range`"),
        )),
    }
}

/// v1alpha1: `{portNumber: {protocol, port}}`, `{portRange: {protocol, start, end}}` or
/// `{namedPort}`.
fn port_v1alpha1(node: &Node, path: &str) -> Checked<Vec<PortSpec>> {
    expect_map(
        node,
        path,
        "a map with one of `portNumber`, `portRange` or `namedPort`",
    )?;
    let given: Vec<&str> = ["portNumber", "portRange", "namedPort"]
        .into_iter()
        .filter(|k| node.field(k).is_some())
        .collect();
    let [key] = given.as_slice() else {
        return Err(Invalid::at(
            node,
            format!("`{path}` must have exactly one of `portNumber`, `portRange` or `namedPort`"),
        ));
    };
    let value = node.field(key).unwrap_or(node);
    let here = format!("{path}.{key}");
    if *key == "namedPort" {
        let name = fields::scalar_string(value, &here)?;
        return named(name, value, &here);
    }
    expect_map(value, &here, "a map with `protocol` and the port")?;
    let protocol = match fields::string(value, "protocol", &format!("{here}.protocol"))? {
        None => Protocol::Tcp,
        Some(p) => Protocol::parse(p).ok_or_else(|| {
            Invalid::at(
                value.get("protocol").unwrap_or(value),
                format!("`{here}.protocol` is `{p}`; it must be TCP, UDP or SCTP"),
            )
        })?,
    };
    if *key == "portRange" {
        return Ok(vec![range(value, &here, protocol)?]);
    }
    let port = required(value, "port", &here)?;
    Ok(vec![PortSpec {
        protocol,
        port: Some(PortRef::Number(number(port, &format!("{here}.port"))?)),
        end_port: None,
        line: port.span.line,
    }])
}

/// INP007 for the peers of cluster-wide policies that manifests cannot resolve: `domainNames`,
/// and `nodes` when the input has no Node objects (`has_nodes`).
pub fn unresolved_peers(policies: &[ClusterPolicy], has_nodes: bool, findings: &mut Vec<Finding>) {
    for policy in policies {
        for direction in [Direction::Ingress, Direction::Egress] {
            for (r, rule) in policy.rules(direction).iter().enumerate() {
                let what = rule.peers.iter().find_map(|peer| {
                    match peer {
                    Peer::DomainNames(names) => Some(format!(
                        "its `domainNames` peer ({}) is resolved only in the cluster",
                        names.join(", ")
                    )),
                    Peer::Nodes(_) if !has_nodes => Some(
                        "its `nodes` peer matches Node addresses, and the input has no Node objects"
                            .to_string(),
                    ),
                    _ => None,
                }
                });
                if let Some(what) = what {
                    findings.push(policy.finding(
                        Code::Inp007,
                        format!(
                            "{} of {}: {what}; the analysis treats that peer as matching nothing",
                            policy.rule_name(direction, r),
                            policy.describe()
                        ),
                        direction,
                        r,
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Source, load};

    fn parse_one(text: &str) -> Checked<ClusterPolicy> {
        let loaded = load(&[Source {
            name: "p.yaml",
            text,
        }]);
        parse(&loaded.objects[0])
    }

    #[test]
    fn both_versions_read_alike() {
        let v2 = parse_one(
            "apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: guard}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {team: a}}}
  ingress:
  - name: web
    action: Accept
    from: [{namespaces: {}}]
    protocols:
    - tcp: {destinationPort: {number: 8080}}
    - udp: {destinationPort: {range: {start: 5000, end: 5010}}}
    - destinationNamedPort: http
  - action: Deny
    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: x}}}}]
",
        )
        .expect("valid");
        let v1 = parse_one(
            "apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: guard}
spec:
  priority: 10
  subject: {namespaces: {matchLabels: {team: a}}}
  ingress:
  - name: web
    action: Allow
    from: [{namespaces: {}}]
    ports:
    - portNumber: {protocol: TCP, port: 8080}
    - portRange: {protocol: UDP, start: 5000, end: 5010}
    - namedPort: http
  - action: Deny
    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: x}}}}]
",
        )
        .expect("valid");
        for p in [&v2, &v1] {
            assert_eq!((p.tier, p.priority), (Tier::Admin, 10));
            assert_eq!(p.ingress.len(), 2);
            assert_eq!(p.ingress[0].action, Action::Accept);
            assert_eq!(p.ingress[0].name.as_deref(), Some("web"));
            let ports = p.ingress[0].ports.as_ref().expect("ports");
            // 8080/TCP, 5000-5010/UDP, and `http` under each of the three protocols.
            assert_eq!(ports.len(), 5);
            assert_eq!(ports[1].end_port, Some(5010));
            assert_eq!(ports[1].protocol, Protocol::Udp);
            assert_eq!(p.ingress[1].action, Action::Deny);
            assert!(p.ingress[1].ports.is_none());
        }
    }

    #[test]
    fn invalid_fields_are_located_and_explained() {
        let cases = [
            (
                "kind: ClusterNetworkPolicy\nspec: {tier: Admin, priority: 1001, subject: {namespaces: {}}}",
                "`spec.priority` is `1001`",
            ),
            (
                "kind: ClusterNetworkPolicy\nspec: {tier: Middle, priority: 1, subject: {namespaces: {}}}",
                "`spec.tier` is `Middle`",
            ),
            (
                "kind: ClusterNetworkPolicy\nspec: {tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Allow, from: [{namespaces: {}}]}]}",
                "`spec.ingress[0].action` is `Allow`; it must be Accept, Deny or Pass",
            ),
            (
                "kind: BaselineAdminNetworkPolicy\nmetadata: {name: mine}\nspec: {subject: {namespaces: {}}}",
                "must be named `default`",
            ),
            (
                "kind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec: {subject: {namespaces: {}}, egress: [{action: Pass, to: [{namespaces: {}}]}]}",
                "it must be Allow or Deny",
            ),
            (
                "kind: ClusterNetworkPolicy\nspec: {tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{networks: [10.0.0.0/8]}]}]}",
                "is an egress peer",
            ),
            (
                "kind: ClusterNetworkPolicy\nspec: {tier: Admin, priority: 1, subject: {namespaces: {}, pods: {podSelector: {}}}}",
                "exactly one is allowed",
            ),
            (
                "kind: ClusterNetworkPolicy\nspec: {tier: Admin, priority: 1, subject: {namespaces: {}}, egress: [{action: Deny, to: [{networks: [10.0.0.0/8]}], protocols: [{destinationNamedPort: dns}]}]}",
                "no named ports",
            ),
            (
                "kind: ClusterNetworkPolicy\nspec: {tier: Admin, priority: 1, subject: {namespaces: {}}, egress: [{action: Deny, to: [{networks: [10.0.0.0/8]}], protocols: [{tcp: {destinationPort: {range: {start: 90, end: 80}}}}]}]}",
                "start (90) must be below end (80)",
            ),
        ];
        for (text, expected) in cases {
            let object = format!(
                "apiVersion: policy.networking.k8s.io/{}\n{text}\n",
                if text.contains("kind: ClusterNetworkPolicy") {
                    "v1alpha2"
                } else {
                    "v1alpha1"
                }
            );
            let err = parse_one(&object).expect_err(text);
            assert!(err.message.contains(expected), "{}\n{}", err.message, text);
            assert!(err.line >= 2, "{err:?}");
        }
    }
}
