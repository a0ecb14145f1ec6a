//! Cilium's own policies (`cilium.io/v2`): `CiliumNetworkPolicy` (namespaced) and
//! `CiliumClusterwideNetworkPolicy` (cluster-scoped), parsed and validated (located INP003) and
//! read into the pipeline's two shapes. DOMAIN.md section 7 and Cilium's documentation ("Policy
//! Enforcement Modes", "Deny Policies", "Layer 3 Policies", "Layer 4 Policies") are the authority.
//!
//! Cilium enforces NetworkPolicy, CNP and CCNP as one union of allows under which deny rules win:
//!
//! - the allow rules (`ingress`, `egress`) of each `spec` become a [`NetworkPolicy`] (its
//!   [`Origin`] says which Cilium rule each rule is, for findings and fixes), so they join
//!   NetworkPolicy's union and its class tables unchanged. A spec isolates its endpoints in a
//!   direction when it has allow or deny rules there, unless `enableDefaultDeny` says `false`
//!   (then its allows count only for endpoints another policy isolates: `NetworkPolicy::adds`);
//! - the deny rules (`ingressDeny`, `egressDeny`) become a cluster-wide policy of the Admin tier
//!   whose rules all `Deny` ([`ClusterPolicy`]): evaluated before NetworkPolicy, they win over
//!   every allow, NetworkPolicy's included, and hand everything else on.
//!
//! Identities: an endpoint selector's labels with or without the `k8s:` (or `any:`) prefix are
//! pod labels, except `io.kubernetes.pod.namespace` (the namespace's name) and
//! `io.cilium.k8s.namespace.labels.<key>` (its labels). A CNP's peers without a namespace label
//! are in the policy's namespace; a CCNP's in every namespace. Entities: `world` is every
//! address outside the cluster (so the probe SNAT address 169.254.7.127 is `world`), `cluster`
//! every pod and node, `all` both; `host` and `remote-node` together are every node (the Node
//! objects' addresses and the host-network pods: [`node_peers`]), each alone no address the
//! input can place; `kube-apiserver`, `health`, `init`, `unmanaged` and `ingress` are Cilium's
//! own identities, none of them a pod or an address the input names (in particular `host` does
//! not cover the SNAT address). CIDR selectors (and `world`) never select a pod or a node,
//! whatever their addresses ([`cidr_addresses`]). Every pod carries
//! `io.cilium.k8s.policy.cluster` (the input is taken to be one cluster). What an offline analysis
//! cannot resolve (`toFQDNs`, `toServices`, `toGroups`, node selectors, CIDR groups,
//! `fromRequires`) is reported (INP007) and matches nothing. Service accounts are selected by
//! `io.cilium.k8s.policy.serviceaccount`, a label the model gives every pod.

use crate::cnp::{self, Action, ClusterPolicy, Tier};
use crate::input::Object;
use crate::input::yaml::Node;
use crate::model::fields::{self, Checked, Invalid};
use crate::model::labels::{Operator, Requirement, Selector};
use crate::net::conn::{MAX_PORT, Protocol};
use crate::net::ip::{Cidr, IpSet};
use crate::netpol::policy::{self, Direction, NetworkPolicy, Peer, PortRef, PortSpec, Rule};

pub const KINDS: &[&str] = &["CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"];
pub const GROUP: &str = "cilium.io/";

/// The label Cilium gives every pod for its service account; the model adds it to every
/// workload (`serviceAccountName`, else `default`) when a Cilium policy is in the input, and
/// keeps it out of generated selectors (`model::owners::is_controller_label`).
pub const SERVICE_ACCOUNT_LABEL: &str = "io.cilium.k8s.policy.serviceaccount";

/// The namespace label the selectors' namespace keys become.
const NAMESPACE_NAME: &str = "kubernetes.io/metadata.name";

/// Whether an object is one of this family's.
pub fn is_cilium_policy(object: &Object) -> bool {
    KINDS.contains(&object.kind.as_str()) && object.api_version.starts_with(GROUP)
}

pub use crate::netpol::policy::{L7Rule, Origin};

/// A part of a policy the analysis does not evaluate, with where it is and what that means.
#[derive(Clone, Debug)]
pub struct NotAnalysed {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// One Cilium object, read.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    /// The allow part of each spec (one per spec with an `endpointSelector`).
    pub allow: Vec<NetworkPolicy>,
    /// The deny part of each spec that has deny rules.
    pub deny: Vec<ClusterPolicy>,
    pub not_analysed: Vec<NotAnalysed>,
}

/// Specs per object, rules per direction, entries per rule (hostile-input limits).
const MAX_SPECS: usize = 1_000;
const MAX_RULES: usize = policy::MAX_RULES;
const MAX_ENTRIES: usize = policy::MAX_PEERS;

/// Parses one CNP or CCNP; an invalid field rejects the whole object, as the API server would.
pub fn parse(object: &Object) -> Checked<Parsed> {
    let node = &object.node;
    let cluster_wide = object.kind == "CiliumClusterwideNetworkPolicy";
    let kind = if cluster_wide { KINDS[1] } else { KINDS[0] };
    let mut specs: Vec<(String, &Node)> = Vec::new();
    if let Some(spec) = fields::map(node, "spec", "spec")? {
        specs.push(("spec".into(), spec));
    }
    if let Some(list) = fields::seq_at_most(node, "specs", "specs", MAX_SPECS)? {
        for (i, spec) in list.iter().enumerate() {
            let path = format!("specs[{i}]");
            expect_map(spec, &path, "a map with `endpointSelector` and rules")?;
            specs.push((path, spec));
        }
    }
    if specs.is_empty() {
        return Err(Invalid::at(
            node,
            format!(
                "the {kind} has neither `spec` nor `specs`; it needs at least `spec.endpointSelector`"
            ),
        ));
    }
    let reader = Reader {
        kind,
        cluster_wide,
        namespace: &object.namespace,
    };
    let mut out = Parsed::default();
    for (path, spec) in specs {
        reader.spec(object, &path, spec, &mut out)?;
    }
    Ok(out)
}

struct Reader<'a> {
    kind: &'static str,
    cluster_wide: bool,
    /// The CNP's namespace (empty for a CCNP).
    namespace: &'a str,
}

/// Who a selector or entity stands for, as NetworkPolicy peers; `Err` says why it is not
/// analysed (it matches nothing).
type Peers = Result<Vec<Peer>, String>;

/// A `toPorts` entry's L7 rules as read: its ports, the protocols, where.
type L7Entry = (Option<Vec<PortSpec>>, Vec<String>, u32, u32);

/// An allow or deny rule, read.
struct ReadRule {
    /// `None`: every peer.
    peers: Option<Vec<Peer>>,
    /// Its entities cover every node (see [`node_peers`]).
    nodes: bool,
    ports: Option<Vec<PortSpec>>,
    l7: Vec<L7Entry>,
    node: Node,
}

impl Reader<'_> {
    fn spec(&self, object: &Object, path: &str, spec: &Node, out: &mut Parsed) -> Checked<()> {
        let note = |out: &mut Parsed, at: &Node, message: String| {
            out.not_analysed.push(NotAnalysed {
                line: at.span.line,
                column: at.span.column,
                message,
            })
        };
        let subject = match (spec.field("endpointSelector"), spec.field("nodeSelector")) {
            (Some(_), Some(n)) => {
                return Err(Invalid::at(
                    n,
                    format!(
                        "`{path}` has both `endpointSelector` and `nodeSelector`; give exactly one"
                    ),
                ));
            }
            (None, None) => {
                return Err(Invalid::at(
                    spec,
                    format!(
                        "`{path}.endpointSelector` is missing; write `endpointSelector: {{}}` to select every pod{}",
                        if self.cluster_wide {
                            ""
                        } else {
                            " of the namespace"
                        }
                    ),
                ));
            }
            (None, Some(n)) => {
                Selector::parse(n, &format!("{path}.nodeSelector"))?;
                note(
                    out,
                    n,
                    format!(
                        "{path} is a host policy (`nodeSelector`): it filters the nodes' own traffic, which this analysis does not model; pods' traffic is analysed without it"
                    ),
                );
                return Ok(());
            }
            (Some(e), None) => e,
        };
        let endpoints = self.selector(subject, &format!("{path}.endpointSelector"), true)?;
        let (namespaces, pods) = match endpoints {
            Ok(s) => s,
            Err(why) => {
                note(
                    out,
                    subject,
                    format!(
                        "the endpoints of {path} are chosen by {why}, which the input does not show; its rules are not analysed"
                    ),
                );
                return Ok(());
            }
        };

        let default_deny = fields::map(
            spec,
            "enableDefaultDeny",
            &format!("{path}.enableDefaultDeny"),
        )?;
        let defaults = |key: &str| -> Checked<Option<bool>> {
            match default_deny {
                Some(d) => fields::boolean(d, key, &format!("{path}.enableDefaultDeny.{key}")),
                None => Ok(None),
            }
        };
        let (dd_ingress, dd_egress) = (defaults("ingress")?, defaults("egress")?);

        let ingress = self.rules(spec, path, "ingress", Direction::Ingress, out)?;
        let egress = self.rules(spec, path, "egress", Direction::Egress, out)?;
        let ingress_deny = self.rules(spec, path, "ingressDeny", Direction::Ingress, out)?;
        let egress_deny = self.rules(spec, path, "egressDeny", Direction::Egress, out)?;

        let present = |key: &str| {
            spec.field(key)
                .and_then(Node::as_seq)
                .is_some_and(|s| !s.is_empty())
        };
        let affects_ingress =
            (present("ingress") || present("ingressDeny")) && dd_ingress.unwrap_or(true);
        let affects_egress =
            (present("egress") || present("egressDeny")) && dd_egress.unwrap_or(true);

        let name = if self.cluster_wide {
            object.name.clone()
        } else {
            object.qualified_name()
        };
        let suffix = if path == "spec" {
            String::new()
        } else {
            format!(" ({path})")
        };

        // The allow part.
        let mut l7 = Vec::new();
        for (direction, rules) in [(Direction::Ingress, &ingress), (Direction::Egress, &egress)] {
            for (r, rule) in rules.iter().enumerate() {
                for (ports, protocols, line, column) in &rule.l7 {
                    l7.push(L7Rule {
                        direction,
                        rule: r,
                        ports: ports.clone(),
                        protocols: protocols.clone(),
                        line: *line,
                        column: *column,
                    });
                }
            }
        }
        let np_rules = |rules: &[ReadRule]| -> Vec<Rule> {
            rules
                .iter()
                .map(|r| Rule {
                    peers: r.peers.clone(),
                    ports: r.ports.clone(),
                    line: r.node.span.line,
                    column: r.node.span.column,
                })
                .collect()
        };
        out.allow.push(NetworkPolicy {
            name: format!("{}{suffix}", object.name),
            namespace: object.namespace.clone(),
            pod_selector: pods.clone(),
            affects_ingress,
            affects_egress,
            ingress: np_rules(&ingress),
            egress: np_rules(&egress),
            location: object.location,
            node: object.node.clone(),
            namespaces: self
                .cluster_wide
                .then(|| namespaces.clone().unwrap_or_default()),
            cilium: Some(Box::new(Origin {
                kind: self.kind,
                spec_path: path.to_string(),
                spec: spec.clone(),
                ingress: ingress.iter().map(|r| r.node.clone()).collect(),
                egress: egress.iter().map(|r| r.node.clone()).collect(),
                l7,
                ingress_nodes: ingress.iter().map(|r| r.nodes).collect(),
                egress_nodes: egress.iter().map(|r| r.nodes).collect(),
            })),
        });

        // The deny part: an Admin-tier policy whose rules all deny.
        if !ingress_deny.is_empty() || !egress_deny.is_empty() {
            let subject_namespaces = match (&namespaces, self.cluster_wide) {
                (Some(ns), true) => ns.clone(),
                (None, true) => Selector::default(),
                (_, false) => self.own_namespace(),
            };
            let deny = |rules: &[ReadRule]| -> Vec<cnp::Rule> {
                rules
                    .iter()
                    .map(|r| {
                        let peers = match &r.peers {
                            None => everything_cnp(),
                            Some(peers) => {
                                let mut peers: Vec<cnp::Peer> =
                                    peers.iter().map(|p| self.cnp_peer(p)).collect();
                                // Every node: the nodes peer of the cluster-wide policies (the
                                // Node objects' addresses, see `node_peers`).
                                if r.nodes {
                                    peers.push(cnp::Peer::Nodes(Selector::default()));
                                }
                                peers
                            }
                        };
                        cnp::Rule {
                            name: None,
                            action: Action::Deny,
                            peers,
                            ports: r.ports.clone(),
                            line: r.node.span.line,
                            column: r.node.span.column,
                        }
                    })
                    .collect()
            };
            out.deny.push(ClusterPolicy {
                kind: self.kind.to_string(),
                name: format!("{name}{suffix}"),
                tier: Tier::Admin,
                priority: 0,
                subject: cnp::Pods::Pods {
                    namespaces: subject_namespaces,
                    pods,
                },
                ingress: deny(&ingress_deny),
                egress: deny(&egress_deny),
                location: object.location,
                node: object.node.clone(),
            });
        }
        Ok(())
    }

    /// The selector of the CNP's own namespace.
    fn own_namespace(&self) -> Selector {
        Selector {
            match_labels: vec![(NAMESPACE_NAME.to_string(), self.namespace.to_string())],
            requirements: Vec::new(),
        }
    }

    fn cnp_peer(&self, peer: &Peer) -> cnp::Peer {
        match peer {
            Peer::Pods { namespaces, pods } => cnp::Peer::Pods(cnp::Pods::Pods {
                namespaces: namespaces.clone().unwrap_or_else(|| self.own_namespace()),
                pods: pods.clone().unwrap_or_default(),
            }),
            Peer::IpBlock { cidr, set, .. } => cnp::Peer::Networks {
                cidrs: vec![cidr.clone()],
                set: set.clone(),
            },
        }
    }

    /// An endpoint selector as (namespace selector, pod selector): `Some` namespaces when it
    /// names them. `Ok(Err(why))` when it selects by something the input does not show.
    fn selector(
        &self,
        node: &Node,
        path: &str,
        _subject: bool,
    ) -> Checked<Result<(Option<Selector>, Selector), String>> {
        let parsed = Selector::parse(node, path)?;
        let mut namespaces = Selector::default();
        let mut pods = Selector::default();
        for (key, value) in parsed.match_labels {
            match label_key(&key) {
                Key::Namespace(k) => namespaces.match_labels.push((k, value)),
                Key::Pod(k) => pods.match_labels.push((k, value)),
                Key::ServiceAccount => pods
                    .match_labels
                    .push((SERVICE_ACCOUNT_LABEL.to_string(), value)),
                Key::Cluster => {}
                Key::Unknown(why) => return Ok(Err(why)),
            }
        }
        // `io.kubernetes.pod.namespace` Exists: every namespace (the empty selector, as a CCNP's
        // peers have it), not a selector that happens to match each namespace the input names
        // (whose pods would then be inferred namespace by namespace).
        let mut every_namespace = false;
        for requirement in parsed.requirements {
            match label_key(&requirement.key) {
                Key::Namespace(key)
                    if key == NAMESPACE_NAME && requirement.operator == Operator::Exists =>
                {
                    every_namespace = true;
                }
                Key::Namespace(key) => namespaces
                    .requirements
                    .push(Requirement { key, ..requirement }),
                Key::Pod(key) => pods.requirements.push(Requirement { key, ..requirement }),
                Key::ServiceAccount => pods.requirements.push(Requirement {
                    key: SERVICE_ACCOUNT_LABEL.to_string(),
                    ..requirement
                }),
                Key::Cluster if matches!(requirement.operator, Operator::Exists | Operator::In) => {
                }
                Key::Cluster => {
                    return Ok(Err(
                        "cluster name (`io.cilium.k8s.policy.cluster` other than this cluster's)"
                            .into(),
                    ));
                }
                // A key no pod has: `DoesNotExist` and `NotIn` match every pod, the others none.
                Key::Unknown(_)
                    if matches!(
                        requirement.operator,
                        Operator::DoesNotExist | Operator::NotIn
                    ) => {}
                Key::Unknown(why) => return Ok(Err(why)),
            }
        }
        let namespaces = if !namespaces.is_empty() {
            Some(namespaces)
        } else {
            every_namespace.then(Selector::default)
        };
        Ok(Ok((namespaces, pods)))
    }

    /// A peer selector (`fromEndpoints`, `toEndpoints`).
    fn endpoint_peer(&self, node: &Node, path: &str) -> Checked<Peers> {
        Ok(self.selector(node, path, false)?.map(|(namespaces, pods)| {
            let namespaces = match namespaces {
                Some(ns) => Some(ns),
                None if self.cluster_wide => Some(Selector::default()),
                None => None,
            };
            vec![Peer::Pods {
                namespaces,
                pods: Some(pods),
            }]
        }))
    }

    fn rules(
        &self,
        spec: &Node,
        spec_path: &str,
        key: &str,
        direction: Direction,
        out: &mut Parsed,
    ) -> Checked<Vec<ReadRule>> {
        let path = format!("{spec_path}.{key}");
        let Some(items) = fields::seq_at_most(spec, key, &path, MAX_RULES)? else {
            return Ok(Vec::new());
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.rule(item, &format!("{path}[{i}]"), direction, out))
            .collect()
    }

    fn rule(
        &self,
        node: &Node,
        path: &str,
        direction: Direction,
        out: &mut Parsed,
    ) -> Checked<ReadRule> {
        if node.is_null() {
            // `- {}`: a rule that admits nothing (Cilium's way to write default deny).
            return Ok(ReadRule {
                peers: Some(Vec::new()),
                nodes: false,
                ports: None,
                l7: Vec::new(),
                node: node.clone(),
            });
        }
        expect_map(node, path, "a map of peers and `toPorts`")?;
        let (endpoints, entities, cidr, cidr_set, unresolved): (&str, &str, &str, &str, &[&str]) =
            match direction {
                Direction::Ingress => (
                    "fromEndpoints",
                    "fromEntities",
                    "fromCIDR",
                    "fromCIDRSet",
                    &["fromNodes", "fromGroups"],
                ),
                Direction::Egress => (
                    "toEndpoints",
                    "toEntities",
                    "toCIDR",
                    "toCIDRSet",
                    &["toFQDNs", "toServices", "toGroups", "toNodes"],
                ),
            };
        let mut any_peer_key = false;
        let mut peers: Vec<Peer> = Vec::new();
        let mut note = |at: &Node, message: String| {
            out.not_analysed.push(NotAnalysed {
                line: at.span.line,
                column: at.span.column,
                message,
            })
        };
        let list = |key: &str| -> Checked<&[Node]> {
            Ok(
                fields::seq_at_most(node, key, &format!("{path}.{key}"), MAX_ENTRIES)?
                    .unwrap_or_default(),
            )
        };
        for (j, item) in list(endpoints)?.iter().enumerate() {
            any_peer_key = true;
            match self.endpoint_peer(item, &format!("{path}.{endpoints}[{j}]"))? {
                Ok(p) => peers.extend(p),
                Err(why) => note(
                    item,
                    format!(
                        "`{path}.{endpoints}[{j}]` selects by {why}, which the input does not show: it is treated as matching nothing"
                    ),
                ),
            }
        }
        let (mut host, mut remote_node) = (false, false);
        for (j, item) in list(entities)?.iter().enumerate() {
            any_peer_key = true;
            let here = format!("{path}.{entities}[{j}]");
            let name = fields::scalar_string(item, &here)?;
            match name {
                "host" => host = true,
                "remote-node" => remote_node = true,
                // `cluster` includes the host and remote-node identities (docs "Layer 3
                // Policies", Entities based), and `all` includes `cluster`.
                "cluster" | "all" => (host, remote_node) = (true, true),
                _ => {}
            }
            peers.extend(entity(name).ok_or_else(|| {
                Invalid::at(
                    item,
                    format!("`{here}` is `{name}`, which is not a Cilium entity (world, world-ipv4, world-ipv6, cluster, host, remote-node, kube-apiserver, ingress, health, init, unmanaged, all, none)"),
                )
            })?);
        }
        for (j, item) in list(cidr)?.iter().enumerate() {
            any_peer_key = true;
            let here = format!("{path}.{cidr}[{j}]");
            let text = fields::scalar_string(item, &here)?;
            peers.push(cidr_peer(text).map_err(|m| Invalid::at(item, format!("`{here}`: {m}")))?);
        }
        for (j, item) in list(cidr_set)?.iter().enumerate() {
            any_peer_key = true;
            let here = format!("{path}.{cidr_set}[{j}]");
            expect_map(item, &here, "a map with `cidr` and optional `except`")?;
            if item.field("cidr").is_none() {
                note(
                    item,
                    format!(
                        "`{here}` names a CIDR group, whose addresses are only in the cluster: it is treated as matching nothing"
                    ),
                );
                continue;
            }
            let text = fields::string(item, "cidr", &format!("{here}.cidr"))?.unwrap_or_default();
            if text.contains('/') {
                peers.push(policy::ip_block(item, &here)?);
            } else {
                peers.push(cidr_peer(text).map_err(|m| {
                    Invalid::at(
                        item.get("cidr").unwrap_or(item),
                        format!("`{here}.cidr`: {m}"),
                    )
                })?);
            }
        }
        for key in unresolved {
            if let Some(items) =
                fields::seq_at_most(node, key, &format!("{path}.{key}"), MAX_ENTRIES)?
            {
                if items.is_empty() {
                    continue;
                }
                any_peer_key = true;
                let at = node.get(key).unwrap_or(node);
                let what = match *key {
                    "toFQDNs" => "DNS names are resolved only in the cluster",
                    "toServices" => "the Services' endpoints are only in the cluster",
                    "fromGroups" | "toGroups" => "cloud groups are resolved only by the provider",
                    _ => "node identities are not in the input",
                };
                note(
                    at,
                    format!(
                        "`{path}.{key}` is not analysed ({what}): those peers are treated as matching nothing, so connections they admit are reported as blocked"
                    ),
                );
            }
        }
        for key in ["fromRequires", "toRequires"] {
            if node.field(key).is_some() {
                note(
                    node.get(key).unwrap_or(node),
                    format!(
                        "`{path}.{key}` is not analysed: the rule is read without that extra condition, so it may admit less than the analysis says"
                    ),
                );
            }
        }
        let icmp = node.field("icmps").is_some();
        if icmp {
            note(
                node.get("icmps").unwrap_or(node),
                format!(
                    "`{path}.icmps` is not analysed: ICMP is not tunneled and plays no part in HBONE or probes"
                ),
            );
        }
        let (ports, l7) = self.to_ports(node, path)?;
        let peers = if any_peer_key {
            Some(peers)
        } else if node.field("toPorts").is_some() && !icmp {
            // Layer 4 alone: every peer.
            None
        } else {
            Some(Vec::new())
        };
        Ok(ReadRule {
            peers,
            nodes: host && remote_node,
            ports,
            l7,
            node: node.clone(),
        })
    }

    fn to_ports(&self, rule: &Node, path: &str) -> Checked<(Option<Vec<PortSpec>>, Vec<L7Entry>)> {
        let here = format!("{path}.toPorts");
        let Some(entries) = fields::seq_at_most(rule, "toPorts", &here, MAX_ENTRIES)? else {
            return Ok((None, Vec::new()));
        };
        if entries.is_empty() {
            return Ok((None, Vec::new()));
        }
        let mut all: Option<Vec<PortSpec>> = Some(Vec::new());
        let mut l7 = Vec::new();
        for (k, entry) in entries.iter().enumerate() {
            let at = format!("{here}[{k}]");
            expect_map(entry, &at, "a map with `ports` and optional `rules`")?;
            let ports =
                match fields::seq_at_most(entry, "ports", &format!("{at}.ports"), MAX_ENTRIES)? {
                    None | Some([]) => None,
                    Some(items) => {
                        let mut specs = Vec::new();
                        for (j, item) in items.iter().enumerate() {
                            let spec = port(item, &format!("{at}.ports[{j}]"))?;
                            match spec {
                                None => {
                                    specs.clear();
                                    break;
                                }
                                Some(s) => specs.extend(s),
                            }
                        }
                        (!specs.is_empty()).then_some(specs)
                    }
                };
            match (&mut all, &ports) {
                (Some(list), Some(p)) => list.extend(p.iter().cloned()),
                _ => all = None,
            }
            if let Some(rules) = fields::map(entry, "rules", &format!("{at}.rules"))? {
                let protocols: Vec<String> = rules
                    .as_map()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|(k, v)| {
                        (!v.is_null())
                            .then(|| k.as_str().map(str::to_string))
                            .flatten()
                    })
                    .collect();
                if !protocols.is_empty() {
                    l7.push((ports.clone(), protocols, rules.span.line, rules.span.column));
                }
            }
        }
        Ok((all, l7))
    }
}

/// A `toPorts[].ports[]` entry: the port specs it stands for (one per protocol of `ANY`), or
/// `None` for every port of every protocol.
fn port(node: &Node, path: &str) -> Checked<Option<Vec<PortSpec>>> {
    expect_map(
        node,
        path,
        "a map with `port`, optional `endPort` and `protocol`",
    )?;
    let protocols: Vec<Protocol> =
        match fields::string(node, "protocol", &format!("{path}.protocol"))? {
            None | Some("ANY") => vec![Protocol::Tcp, Protocol::Udp, Protocol::Sctp],
            Some(p) => vec![Protocol::parse(p).ok_or_else(|| {
                Invalid::at(
                    node.get("protocol").unwrap_or(node),
                    format!("`{path}.protocol` is `{p}`; it must be TCP, UDP, SCTP or ANY"),
                )
            })?],
        };
    let port = match node.field("port") {
        None => None,
        Some(p) => {
            let text = match p.as_int() {
                Some(n) => n.to_string(),
                None => fields::scalar_string(p, &format!("{path}.port"))?.to_string(),
            };
            match text.parse::<i64>() {
                Ok(0) => None,
                Ok(n) if (1..=i64::from(MAX_PORT)).contains(&n) => Some(PortRef::Number(n as u16)),
                Ok(n) => {
                    return Err(Invalid::at(
                        p,
                        format!(
                            "`{path}.port` is {n}; a port must be from 1 to 65535 (0: every port)"
                        ),
                    ));
                }
                Err(_) => {
                    let name = text.to_ascii_lowercase();
                    if !crate::model::fields::is_port_name(&name) {
                        return Err(Invalid::at(
                            p,
                            format!(
                                "`{path}.port` is `{text}`, which is neither a port number nor a valid port name"
                            ),
                        ));
                    }
                    Some(PortRef::Name(name))
                }
            }
        }
    };
    let end_port = match node.field("endPort") {
        None => None,
        Some(e) => {
            let end = e
                .as_int()
                .filter(|n| (0..=i64::from(MAX_PORT)).contains(n))
                .ok_or_else(|| {
                    Invalid::at(
                        e,
                        format!("`{path}.endPort` must be a number from 0 to 65535"),
                    )
                })? as u16;
            match &port {
                _ if end == 0 => None,
                Some(PortRef::Number(start)) if end >= *start => Some(end),
                Some(PortRef::Number(start)) => {
                    return Err(Invalid::at(
                        e,
                        format!(
                            "`{path}.endPort` ({end}) is below `port` ({start}); it must be at least the port"
                        ),
                    ));
                }
                _ => {
                    return Err(Invalid::at(
                        e,
                        format!("`{path}.endPort` needs a numeric `port` to start the range"),
                    ));
                }
            }
        }
    };
    if port.is_none() {
        // Every port: of the protocols given.
        if protocols.len() == 3 {
            return Ok(None);
        }
    }
    Ok(Some(
        protocols
            .into_iter()
            .map(|protocol| PortSpec {
                protocol,
                port: port.clone(),
                end_port,
                line: node.span.line,
            })
            .collect(),
    ))
}

/// A `fromCIDR`/`toCIDR` entry (an address alone is one address).
fn cidr_peer(text: &str) -> Result<Peer, String> {
    let full = if text.contains('/') {
        text.to_string()
    } else if text.contains(':') {
        format!("{text}/128")
    } else {
        format!("{text}/32")
    };
    let cidr = Cidr::parse(&full)?;
    Ok(Peer::IpBlock {
        cidr: full,
        except: Vec::new(),
        set: cidr.set(),
    })
}

/// What a Cilium CIDR selector (`fromCIDR`, `fromCIDRSet`, `toCIDR`, `toCIDRSet`, and the
/// `world` entities, which are `0.0.0.0/0` and `::/0`) selects of the addresses `set` covers.
///
/// Cilium's "Layer 3 Policies" (IP/CIDR based): "CIDR rules do not apply to traffic where both
/// sides of the connection are either managed by Cilium or use an IP belonging to a node in the
/// cluster (including host networking pods)", and "By default, CIDR-based selectors do not match
/// in-cluster entities (pods or nodes)" (section "Selecting nodes with CIDR / ipBlock"; the
/// `--policy-cidr-match-mode=nodes` option, off by default, is not modelled). The policy caveats
/// say the same of pods: CIDR policies are for endpoints not managed by Cilium. So a CIDR
/// selector matches no pod whatever address the input gives it (status.podIP of a cluster dump:
/// the engine leaves pods out of a Cilium rule's CIDR peers), and none of the Node objects'
/// addresses, which are the `host` and `remote-node` identities (see [`node_peers`]). The probe
/// SNAT address 169.254.7.127 is neither, so it stays `world`.
pub fn cidr_addresses(cluster: &crate::model::Model, set: &IpSet) -> IpSet {
    let (nodes, _) = node_peers(cluster);
    if nodes.is_empty() {
        set.clone()
    } else {
        set.subtract(&nodes)
    }
}

/// Who a rule that admits every node admits besides its other peers: the Node objects'
/// addresses and the host-network pods (workload indices), which carry the nodes' identities.
///
/// Cilium's entities (docs "Layer 3 Policies", Entities based): `host` is the local node "and all
/// containers running in host networking mode on the local host", `remote-node` every other
/// node likewise, and `cluster` includes both identities (`all` includes `cluster`). Which node
/// is local depends on where each pod is scheduled, which the model does not keep: a rule that
/// names both (or `cluster`, `all`) admits every node, and one that names `host` or
/// `remote-node` alone is taken to admit no node address (it admits some nodes, and which ones
/// the input cannot tell), as it admits no pod and not the probe SNAT address.
pub fn node_peers(cluster: &crate::model::Model) -> (IpSet, Vec<usize>) {
    let mut ips = IpSet::default();
    for node in &cluster.nodes {
        for &ip in &node.addresses {
            ips = ips.union(&IpSet::address(ip));
        }
    }
    let pods = (0..cluster.workloads.len())
        .filter(|&w| cluster.workloads[w].host_network)
        .collect();
    (ips, pods)
}

fn world_v4() -> Peer {
    cidr_peer("0.0.0.0/0").expect("a valid CIDR")
}

fn world_v6() -> Peer {
    cidr_peer("::/0").expect("a valid CIDR")
}

fn every_pod() -> Peer {
    Peer::Pods {
        namespaces: Some(Selector::default()),
        pods: None,
    }
}

/// What an entity stands for among pods and addresses; `None`: not an entity.
fn entity(name: &str) -> Option<Vec<Peer>> {
    Some(match name {
        "all" => vec![every_pod(), world_v4(), world_v6()],
        "world" => vec![world_v4(), world_v6()],
        "world-ipv4" => vec![world_v4()],
        "world-ipv6" => vec![world_v6()],
        "cluster" => vec![every_pod()],
        // Cilium's own identities: no pod of the input (the probe SNAT address is not `host`
        // either). `host` with `remote-node` (and `cluster`, `all`) also admit every node: the
        // rule's `Origin::admits_nodes` flag, which the engine resolves (`node_peers`).
        "host" | "remote-node" | "kube-apiserver" | "ingress" | "health" | "init" | "unmanaged"
        | "none" => Vec::new(),
        _ => return None,
    })
}

fn everything_cnp() -> Vec<cnp::Peer> {
    let mut set = IpSet::default();
    for peer in [world_v4(), world_v6()] {
        if let Peer::IpBlock { set: s, .. } = peer {
            set = set.union(&s);
        }
    }
    vec![
        cnp::Peer::Pods(cnp::Pods::Namespaces(Selector::default())),
        cnp::Peer::Networks {
            cidrs: vec!["0.0.0.0/0".into(), "::/0".into()],
            set,
        },
    ]
}

enum Key {
    Namespace(String),
    Pod(String),
    /// `io.cilium.k8s.policy.serviceaccount`: the pod's service account.
    ServiceAccount,
    /// `io.cilium.k8s.policy.cluster`: every pod of the cluster has it (Cilium's cluster name);
    /// the input is taken to be that cluster.
    Cluster,
    /// Selects by something the input does not show (service account, cluster, reserved
    /// identity): why.
    Unknown(String),
}

/// What a selector's label key means: `k8s:app` and `app` are the pod label `app`.
fn label_key(key: &str) -> Key {
    let bare = key
        .strip_prefix("k8s:")
        .or_else(|| key.strip_prefix("any:"))
        .unwrap_or(key);
    if let Some(rest) = bare.strip_prefix("io.cilium.k8s.namespace.labels.") {
        return Key::Namespace(rest.to_string());
    }
    match bare {
        "io.kubernetes.pod.namespace" => Key::Namespace(NAMESPACE_NAME.to_string()),
        // The model gives every pod this label when a Cilium policy reads it (`pipeline::load`).
        SERVICE_ACCOUNT_LABEL => Key::ServiceAccount,
        "io.cilium.k8s.policy.cluster" => Key::Cluster,
        _ if bare.starts_with("reserved:") => Key::Unknown(format!("Cilium's identity `{bare}`")),
        _ => Key::Pod(bare.to_string()),
    }
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
