//! NetworkPolicy objects (networking.k8s.io/v1), parsed and validated.

use crate::findings::Location;
use crate::input::Object;
use crate::input::yaml::Node;
use crate::model::fields::{self, Checked, Invalid};

pub use crate::model::fields::port_ref;
use crate::model::labels::Selector;
pub use crate::net::conn::{MAX_PORT, Protocol};
use crate::net::ip::{Cidr, IpSet};
pub use crate::net::{Direction, PortRef, PortSpec};

#[derive(Clone, Debug)]
pub struct NetworkPolicy {
    pub name: String,
    pub namespace: String,
    pub pod_selector: Selector,
    /// Whether the policy isolates the pods it selects for ingress / egress (`policyTypes`, with
    /// its defaults applied).
    pub affects_ingress: bool,
    pub affects_egress: bool,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
    pub location: Location,
    /// The policy's whole YAML node, for the fixer.
    pub node: Node,
    /// A cluster-wide subject (CiliumClusterwideNetworkPolicy): the pods of the namespaces this
    /// selects; `None`: the pods of `namespace`.
    pub namespaces: Option<Selector>,
    /// The allow rules of a Cilium policy read as NetworkPolicy (`crate::cilium`): its kind,
    /// its rules' own nodes (for the fixer) and its default-deny settings.
    pub cilium: Option<Box<Origin>>,
}

impl NetworkPolicy {
    /// `namespace/name`; a cluster-scoped policy by its name alone.
    pub fn qualified_name(&self) -> String {
        if self.namespaces.is_some() {
            return self.name.clone();
        }
        format!("{}/{}", self.namespace, self.name)
    }

    /// `NetworkPolicy`, or the Cilium kind it was read from.
    pub fn kind(&self) -> &'static str {
        self.cilium.as_ref().map_or("NetworkPolicy", |c| c.kind)
    }

    /// Whether its rules in `direction` admit without isolating (Cilium's `enableDefaultDeny:
    /// false`): they count only for pods another policy isolates.
    pub fn adds(&self, direction: Direction) -> bool {
        !self.affects(direction) && !self.rules(direction).is_empty() && self.cilium.is_some()
    }

    pub fn rules(&self, direction: Direction) -> &[Rule] {
        match direction {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }

    pub fn affects(&self, direction: Direction) -> bool {
        match direction {
            Direction::Ingress => self.affects_ingress,
            Direction::Egress => self.affects_egress,
        }
    }
}

/// One ingress or egress rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// `None`: the rule has no (or an empty) `from`/`to`, so it admits every peer.
    pub peers: Option<Vec<Peer>>,
    /// `None`: no (or empty) `ports`, so every port and protocol.
    pub ports: Option<Vec<PortSpec>>,
    pub line: u32,
    pub column: u32,
}

#[derive(Clone, Debug)]
pub enum Peer {
    Pods {
        /// `None`: the policy's own namespace. `Some(empty)`: every namespace.
        namespaces: Option<Selector>,
        /// `None`: every pod of the selected namespaces.
        pods: Option<Selector>,
    },
    IpBlock {
        cidr: String,
        except: Vec<String>,
        set: IpSet,
    },
}

/// Parses a NetworkPolicy object; any invalid field rejects the whole policy (as the API would).
pub fn parse(object: &Object) -> Checked<NetworkPolicy> {
    let node = &object.node;
    let spec = fields::map(node, "spec", "spec")?.ok_or_else(|| {
        Invalid::at(
            node,
            "the NetworkPolicy has no `spec`; it needs at least `spec.podSelector`".into(),
        )
    })?;
    let pod_selector = match spec.get("podSelector") {
        Some(sel) => Selector::parse(sel, "spec.podSelector")?,
        None => {
            return Err(Invalid::at(spec, "`spec.podSelector` is missing; write `podSelector: {}` to select every pod of the namespace".into()));
        }
    };
    let ingress = rules(spec, Direction::Ingress)?;
    let egress = rules(spec, Direction::Egress)?;

    let types = fields::string_list(spec, "policyTypes", "spec.policyTypes")?;
    let (affects_ingress, affects_egress) = if spec.field("policyTypes").is_some() {
        for (i, t) in types.iter().enumerate() {
            if t != "Ingress" && t != "Egress" {
                let at = spec
                    .get("policyTypes")
                    .and_then(|n| n.as_seq())
                    .and_then(|s| s.get(i))
                    .unwrap_or(spec);
                return Err(Invalid::at(
                    at,
                    format!("`spec.policyTypes[{i}]` is `{t}`; it must be Ingress or Egress"),
                ));
            }
        }
        (
            types.iter().any(|t| t == "Ingress"),
            types.iter().any(|t| t == "Egress"),
        )
    } else {
        // Defaults: Ingress always; Egress only when there is at least one egress rule.
        (true, !egress.is_empty())
    };

    Ok(NetworkPolicy {
        name: object.name.clone(),
        namespace: object.namespace.clone(),
        pod_selector,
        affects_ingress,
        affects_egress,
        ingress,
        egress,
        location: object.location,
        node: node.clone(),
        namespaces: None,
        cilium: None,
    })
}

/// Rules per direction, peers per rule and ports per rule a policy may have (hostile-input limits;
/// real policies have a handful).
pub const MAX_RULES: usize = 5_000;
pub const MAX_PEERS: usize = 5_000;
pub const MAX_PORTS: usize = 5_000;

fn rules(spec: &Node, direction: Direction) -> Checked<Vec<Rule>> {
    let key = direction.as_str();
    let peer_key = match direction {
        Direction::Ingress => "from",
        Direction::Egress => "to",
    };
    let Some(items) = fields::seq_at_most(spec, key, &format!("spec.{key}"), MAX_RULES)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, rule) in items.iter().enumerate() {
        let path = format!("spec.{key}[{i}]");
        if rule.is_null() {
            // `- {}` and a bare `-` are both a rule that admits everything.
            out.push(Rule {
                peers: None,
                ports: None,
                line: rule.span.line,
                column: rule.span.column,
            });
            continue;
        }
        if rule.as_map().is_none() {
            return Err(Invalid::at(
                rule,
                format!(
                    "`{path}` is {}; it must be a map with `{peer_key}` and/or `ports`",
                    rule.type_name()
                ),
            ));
        }
        let peers = entries(rule, peer_key, &path, MAX_PEERS, peer)?;
        let ports = entries(rule, "ports", &path, MAX_PORTS, port_spec)?;
        out.push(Rule {
            peers,
            ports,
            line: rule.span.line,
            column: rule.span.column,
        });
    }
    Ok(out)
}

/// A rule's `from`/`to` or `ports`, each entry parsed; `None` when absent or empty (which
/// Kubernetes reads alike: everyone, every port).
fn entries<T>(
    rule: &Node,
    key: &str,
    path: &str,
    max: usize,
    parse: impl Fn(&Node, &str) -> Checked<T>,
) -> Checked<Option<Vec<T>>> {
    match fields::seq_at_most(rule, key, &format!("{path}.{key}"), max)? {
        None | Some([]) => Ok(None),
        Some(items) => items
            .iter()
            .enumerate()
            .map(|(j, item)| parse(item, &format!("{path}.{key}[{j}]")))
            .collect::<Checked<Vec<_>>>()
            .map(Some),
    }
}

fn peer(node: &Node, path: &str) -> Checked<Peer> {
    if node.as_map().is_none() {
        return Err(Invalid::at(
            node,
            format!(
                "`{path}` is {}; it must be a map with `podSelector`, `namespaceSelector` or `ipBlock`",
                node.type_name()
            ),
        ));
    }
    // A null selector is an absent one (Go's nil pointer), not an empty one.
    let pods = node
        .field("podSelector")
        .map(|n| Selector::parse(n, &format!("{path}.podSelector")))
        .transpose()?;
    let namespaces = node
        .field("namespaceSelector")
        .map(|n| Selector::parse(n, &format!("{path}.namespaceSelector")))
        .transpose()?;
    match node.field("ipBlock") {
        Some(block) if pods.is_some() || namespaces.is_some() => Err(Invalid::at(
            block,
            format!(
                "`{path}` has `ipBlock` together with a selector; Kubernetes allows `ipBlock` alone: split them into two peers"
            ),
        )),
        Some(block) => ip_block(block, &format!("{path}.ipBlock")),
        None if pods.is_none() && namespaces.is_none() => Err(Invalid::at(
            node,
            format!(
                "`{path}` names no peer; give `podSelector`, `namespaceSelector` or `ipBlock` (to admit everyone, leave out the whole `from`/`to`)"
            ),
        )),
        None => Ok(Peer::Pods { namespaces, pods }),
    }
}

pub(crate) fn ip_block(node: &Node, path: &str) -> Checked<Peer> {
    if node.as_map().is_none() {
        return Err(Invalid::at(
            node,
            format!(
                "`{path}` is {}; it must be a map with `cidr` and optional `except`",
                node.type_name()
            ),
        ));
    }
    let cidr_text = fields::string(node, "cidr", &format!("{path}.cidr"))?
        .ok_or_else(|| Invalid::at(node, format!("`{path}` has no `cidr`")))?;
    let cidr_node = node.get("cidr").unwrap_or(node);
    let cidr = Cidr::parse(cidr_text)
        .map_err(|m| Invalid::at(cidr_node, format!("`{path}.cidr`: {m}")))?;
    let mut set = cidr.set();
    let block = set.clone();
    let except = fields::string_list(node, "except", &format!("{path}.except"))?;
    for (i, e) in except.iter().enumerate() {
        let at = node
            .get("except")
            .and_then(|n| n.as_seq())
            .and_then(|s| s.get(i))
            .unwrap_or(node);
        let ex =
            Cidr::parse(e).map_err(|m| Invalid::at(at, format!("`{path}.except[{i}]`: {m}")))?;
        let ex_set = ex.set();
        if ex.addr.is_ipv4() != cidr.addr.is_ipv4()
            || !block.contains_all(&ex_set)
            || ex_set == block
        {
            return Err(Invalid::at(
                at,
                format!(
                    "`{path}.except[{i}]` (`{e}`) must lie strictly inside `cidr` (`{cidr_text}`)"
                ),
            ));
        }
        set = set.subtract(&ex_set);
    }
    Ok(Peer::IpBlock {
        cidr: cidr_text.to_string(),
        except,
        set,
    })
}

pub(crate) fn port_spec(node: &Node, path: &str) -> Checked<PortSpec> {
    if node.as_map().is_none() {
        return Err(Invalid::at(
            node,
            format!(
                "`{path}` is {}; it must be a map with `port`, `protocol` and optional `endPort`",
                node.type_name()
            ),
        ));
    }
    let protocol = match fields::string(node, "protocol", &format!("{path}.protocol"))? {
        None => Protocol::Tcp,
        Some(p) => Protocol::parse(p).ok_or_else(|| {
            Invalid::at(
                node.get("protocol").unwrap_or(node),
                format!("`{path}.protocol` is `{p}`; it must be TCP, UDP or SCTP (upper case)"),
            )
        })?,
    };
    let port = match node.field("port") {
        None => None,
        Some(p) => Some(port_ref(p, &format!("{path}.port"))?),
    };
    let end_port = match node.field("endPort") {
        None => None,
        Some(e) => {
            let end = e
                .as_int()
                .filter(|n| (1..=i64::from(MAX_PORT)).contains(n))
                .ok_or_else(|| {
                    Invalid::at(
                        e,
                        format!("`{path}.endPort` must be a number from 1 to 65535"),
                    )
                })? as u16;
            match &port {
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
    Ok(PortSpec {
        protocol,
        port,
        end_port,
        line: node.span.line,
    })
}

/// What a Cilium spec's allow rules were (`crate::cilium` reads them as NetworkPolicies), for
/// findings, fixes and AMB009.
#[derive(Clone, Debug)]
pub struct Origin {
    /// `CiliumNetworkPolicy` or `CiliumClusterwideNetworkPolicy`.
    pub kind: &'static str,
    /// `spec` or `specs[i]`.
    pub spec_path: String,
    /// That spec's node: where the fixer adds a rule.
    pub spec: Node,
    /// The allow rules' own nodes, in the order of the policy's `ingress` and `egress` rules.
    pub ingress: Vec<Node>,
    pub egress: Vec<Node>,
    /// The `toPorts` entries with L7 rules.
    pub l7: Vec<L7Rule>,
    /// Per allow rule (in the order of `ingress`, `egress`): whether its entities cover every
    /// node (`host` and `remote-node` together, `cluster`, `all`); see `cilium::node_peers`.
    pub ingress_nodes: Vec<bool>,
    pub egress_nodes: Vec<bool>,
}

impl Origin {
    pub fn rule_nodes(&self, direction: Direction) -> &[Node] {
        match direction {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }

    /// Whether allow rule `rule` of `direction` admits every node of the cluster (its
    /// addresses and its host-network pods): see `cilium::node_peers`.
    pub fn admits_nodes(&self, direction: Direction, rule: usize) -> bool {
        let list = match direction {
            Direction::Ingress => &self.ingress_nodes,
            Direction::Egress => &self.egress_nodes,
        };
        list.get(rule).copied().unwrap_or(false)
    }
}

/// A `toPorts` entry with `rules` (HTTP, Kafka, DNS, ...): Cilium's proxy judges that traffic.
#[derive(Clone, Debug)]
pub struct L7Rule {
    pub direction: Direction,
    /// The allow rule it belongs to (index among the direction's rules).
    pub rule: usize,
    /// Its ports (`None`: every port).
    pub ports: Option<Vec<PortSpec>>,
    /// `http`, `kafka`, `dns`, `l7proto`.
    pub protocols: Vec<String>,
    pub line: u32,
    pub column: u32,
}
