//! Calico's own policies (`projectcalico.org/v3`, and the same objects as the CRDs
//! `crd.projectcalico.org/v1`): `NetworkPolicy` (namespaced), `GlobalNetworkPolicy`
//! (cluster-scoped) and `Tier`, parsed and validated (located INP003) into one shape. Calico's
//! reference documentation ("Network policy", "Global network policy", "Tier", "Rule",
//! "Entity rule", "Selectors") is the authority; DOMAIN.md section 7 the summary.
//!
//! What the analysis cannot see is kept and reported (INP007) rather than guessed: HTTP
//! matches, `services` peers, `source.ports` (client ports), host-endpoint policies
//! (`doNotTrack`, `preDNAT`, `applyOnForward`). Such a rule matches nothing here.

pub mod eval;
pub mod selector;

use std::cmp::Ordering;

use crate::findings::{Code, Finding, Location};
use crate::input::Object;
use crate::input::yaml::{Node, Value};
use crate::model::fields::{self, Checked, Invalid};
use crate::model::inferred::{Namespaces, StandIn};
use crate::model::labels::Selector;
use crate::net::conn::{ConnSet, MAX_PORT, Protocol};
use crate::net::ip::{Cidr, IpSet};
use crate::net::{Direction, PortRef, PortSpec};
pub use selector::CalicoSelector;

/// The kinds this family reads (with a Calico API group).
pub const KINDS: &[&str] = &["NetworkPolicy", "GlobalNetworkPolicy", "Tier"];
/// The kinds without a namespace.
pub const CLUSTER_SCOPED: &[&str] = &["GlobalNetworkPolicy", "Tier"];
/// Calico's API groups: the aggregated API and the CRDs behind it.
pub const GROUPS: &[&str] = &["projectcalico.org/", "crd.projectcalico.org/"];

/// The tier every policy without `tier` is in, and the Kubernetes NetworkPolicies' tier.
pub const DEFAULT_TIER: &str = "default";
/// Where Calico puts a Kubernetes NetworkPolicy among the default tier's policies.
pub const KUBERNETES_ORDER: f64 = 1000.0;

/// Rules per direction and entries per list (hostile-input limits; no real policy comes near).
const MAX_RULES: usize = 1_000;
const MAX_ENTRIES: usize = 1_000;

/// Whether an object is one of Calico's (and not, say, a Kubernetes NetworkPolicy).
pub fn is_calico(object: &Object) -> bool {
    KINDS.contains(&object.kind.as_str())
        && GROUPS.iter().any(|g| object.api_version.starts_with(g))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Allow,
    Deny,
    /// On to the next tier.
    Pass,
    /// Logs and goes on with the next rule: decides nothing.
    Log,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "Allow",
            Action::Deny => "Deny",
            Action::Pass => "Pass",
            Action::Log => "Log",
        }
    }
}

/// A `Tier` object: where its policies come among the tiers, and what happens to traffic its
/// policies select but no rule matches.
#[derive(Clone, Debug)]
pub struct Tier {
    pub name: String,
    /// Lower first; `None`: after every tier with an order.
    pub order: Option<f64>,
    /// `Deny` (the default) or `Pass`.
    pub default_action: Action,
    pub location: Location,
}

/// One side of a rule (`source` or `destination`).
#[derive(Clone, Debug, Default)]
pub struct Entity {
    pub nets: Option<IpSet>,
    pub not_nets: Option<IpSet>,
    pub selector: Option<CalicoSelector>,
    pub not_selector: Option<CalicoSelector>,
    pub namespace_selector: Option<CalicoSelector>,
    /// `serviceAccounts.names`: the pod's `serviceAccountName` is one of them.
    pub service_account_names: Option<Vec<String>>,
    /// `serviceAccounts.selector`, on the service account's labels (here only
    /// `projectcalico.org/name`, since ServiceAccount objects are not read).
    pub service_account_selector: Option<CalicoSelector>,
    /// Numbers, ranges and names, as written; the rule's protocols give them a protocol.
    pub ports: Option<Vec<CalicoPort>>,
    pub not_ports: Option<Vec<CalicoPort>>,
}

impl Entity {
    /// Whether it names endpoints by labels or service accounts (then plain addresses outside
    /// the cluster match it only as [`Entity::matches_addresses`] says).
    pub fn names_endpoints(&self) -> bool {
        self.selector.is_some()
            || self.not_selector.is_some()
            || self.namespace_selector.is_some()
            || self.service_account_names.is_some()
            || self.service_account_selector.is_some()
    }

    /// Whether plain addresses (outside the cluster) can match it: not when it names endpoints,
    /// except a GlobalNetworkPolicy's lone `notSelector`. Calico scopes a rule's selectors to
    /// endpoints by the policy's namespace or a `namespaceSelector` (libcalico-go's rule
    /// conversion adds `projectcalico.org/namespace == '<ns>'` to a namespaced policy's
    /// `selector`/`notSelector`); a global rule's `notSelector` alone only excludes the
    /// addresses of the endpoints it selects.
    pub fn matches_addresses(&self, namespaced: bool) -> bool {
        !self.names_endpoints()
            || (!namespaced
                && self.selector.is_none()
                && self.namespace_selector.is_none()
                && self.service_account_names.is_none()
                && self.service_account_selector.is_none())
    }

    /// Whether anything but ports constrains it.
    pub fn constrains_peer(&self) -> bool {
        self.names_endpoints() || self.nets.is_some() || self.not_nets.is_some()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CalicoPort {
    /// `from..=to` (`8080` is `8080..=8080`, `"8000:9000"` a range).
    Range(u16, u16),
    Named(String),
}

impl std::fmt::Display for CalicoPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CalicoPort::Range(a, b) if a == b => write!(f, "{a}"),
            CalicoPort::Range(a, b) => write!(f, "{a}:{b}"),
            CalicoPort::Named(n) => write!(f, "{n}"),
        }
    }
}

/// A rule's `protocol` or `notProtocol`: the three the analysis knows, or another one (ICMP,
/// UDPLite, a number) that no analysed connection uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleProtocol {
    Known(Protocol),
    Other,
}

impl RuleProtocol {
    fn conns(self) -> ConnSet {
        match self {
            RuleProtocol::Known(p) => ConnSet::all_of(p),
            RuleProtocol::Other => ConnSet::none(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub action: Action,
    pub protocol: Option<RuleProtocol>,
    pub not_protocol: Option<RuleProtocol>,
    /// `ipVersion`: 4 or 6.
    pub ip_version: Option<u8>,
    pub source: Entity,
    pub destination: Entity,
    /// Why the analysis cannot judge the rule (reported, INP007); such a rule matches nothing.
    pub not_analysed: Option<String>,
    pub line: u32,
    pub column: u32,
}

impl Rule {
    /// The peer's side of the rule: `source` for ingress, `destination` for egress.
    pub fn peer(&self, direction: Direction) -> &Entity {
        match direction {
            Direction::Ingress => &self.source,
            Direction::Egress => &self.destination,
        }
    }

    /// The selected endpoint's own side: `destination` for ingress, `source` for egress.
    pub fn subject(&self, direction: Direction) -> &Entity {
        match direction {
            Direction::Ingress => &self.destination,
            Direction::Egress => &self.source,
        }
    }

    /// The protocols the rule matches.
    pub fn protocols(&self) -> ConnSet {
        let mut set = self.protocol.map_or_else(ConnSet::all, RuleProtocol::conns);
        if let Some(not) = self.not_protocol {
            set = set.subtract(&not.conns());
        }
        set
    }

    /// The destination ports as NetworkPolicy port specs, one per protocol the rule matches
    /// (Calico needs a `protocol` for ports, so that is one).
    pub fn port_specs(&self, ports: &[CalicoPort]) -> Vec<PortSpec> {
        let protocols = self.protocols();
        let mut out = Vec::new();
        for protocol in Protocol::ALL {
            if protocols.of(protocol).is_empty() {
                continue;
            }
            for port in ports {
                out.push(PortSpec {
                    protocol,
                    port: Some(match port {
                        CalicoPort::Range(a, _) => PortRef::Number(*a),
                        CalicoPort::Named(n) => PortRef::Name(n.clone()),
                    }),
                    end_port: match port {
                        CalicoPort::Range(a, b) if a != b => Some(*b),
                        _ => None,
                    },
                    line: self.line,
                });
            }
        }
        out
    }

    /// Whether a named port makes the rule's connections depend on the destination pod.
    pub fn has_named_ports(&self) -> bool {
        [&self.destination.ports, &self.destination.not_ports]
            .into_iter()
            .flatten()
            .flatten()
            .any(|p| matches!(p, CalicoPort::Named(_)))
    }
}

#[derive(Clone, Debug)]
pub struct CalicoPolicy {
    /// `NetworkPolicy` or `GlobalNetworkPolicy`.
    pub kind: String,
    pub name: String,
    /// The namespace of a `NetworkPolicy`; `None` for a `GlobalNetworkPolicy`.
    pub namespace: Option<String>,
    pub tier: String,
    /// Lower first; `None`: after every policy of the tier with an order.
    pub order: Option<f64>,
    pub selector: CalicoSelector,
    /// `GlobalNetworkPolicy` only.
    pub namespace_selector: Option<CalicoSelector>,
    pub service_account_selector: Option<CalicoSelector>,
    /// `types`, or their default: which directions the policy applies to.
    pub ingress_applies: bool,
    pub egress_applies: bool,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
    /// Why the whole policy is left out (host endpoints only; reported, INP007).
    pub not_analysed: Option<String>,
    pub location: Location,
    pub node: Node,
}

impl CalicoPolicy {
    pub fn rules(&self, direction: Direction) -> &[Rule] {
        match direction {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }

    pub fn applies(&self, direction: Direction) -> bool {
        self.not_analysed.is_none()
            && match direction {
                Direction::Ingress => self.ingress_applies,
                Direction::Egress => self.egress_applies,
            }
    }

    /// `ns/name` for a NetworkPolicy, the name for a GlobalNetworkPolicy.
    pub fn qualified_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }

    /// How findings and explanations name it: Calico GlobalNetworkPolicy `deny-rest` (tier
    /// `default`, order 200).
    pub fn describe(&self) -> String {
        let order = match self.order {
            Some(o) => format!("order {o}"),
            None => "no order: after the ordered ones".to_string(),
        };
        format!(
            "Calico {} `{}` (tier `{}`, {order})",
            self.kind,
            self.qualified_name(),
            self.tier
        )
    }

    /// One rule named for people: "ingress rule 2 (Deny)".
    pub fn rule_name(&self, direction: Direction, rule: usize) -> String {
        match self.rules(direction).get(rule) {
            Some(r) => format!(
                "{} rule {} ({})",
                direction.as_str(),
                rule + 1,
                r.action.as_str()
            ),
            None => format!("{} rule {}", direction.as_str(), rule + 1),
        }
    }

    /// A finding on one of its rules, naming the policy and its kind.
    pub fn finding(
        &self,
        code: crate::findings::Code,
        message: String,
        direction: Direction,
        rule: usize,
    ) -> crate::findings::Finding {
        let at = self.rules(direction).get(rule).map(|r| Location {
            line: r.line,
            column: r.column,
            ..self.location
        });
        let mut finding = crate::findings::Finding::new(code, message, at.or(Some(self.location)));
        finding.policy = Some(self.qualified_name());
        finding.policy_kind = Some(format!("{} (Calico)", self.kind));
        finding
    }
}

/// Orders with `None` after every number (Calico: "policies without an order are applied
/// last"), then by name.
pub fn by_order(a: (Option<f64>, &str), b: (Option<f64>, &str)) -> Ordering {
    let order = match (a.0, b.0) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    order.then_with(|| a.1.cmp(b.1))
}

/// A parsed object of the family.
pub enum Parsed {
    Policy(Box<CalicoPolicy>),
    Tier(Tier),
}

pub fn parse(object: &Object) -> Checked<Parsed> {
    if object.kind == "Tier" {
        return tier(object).map(Parsed::Tier);
    }
    policy(object).map(|p| Parsed::Policy(Box::new(p)))
}

fn spec_of(object: &Object) -> Checked<Option<&Node>> {
    fields::map(&object.node, "spec", "spec")
}

/// A float field (`order`): a plain number.
fn order(spec: &Node, path: &str) -> Checked<Option<f64>> {
    let Some(node) = spec.field("order") else {
        return Ok(None);
    };
    let number = match &node.value {
        Value::Scalar { text, plain: true } => text.parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    };
    number.map(Some).ok_or_else(|| {
        Invalid::at(
            node,
            format!(
                "`{path}` is {}; it must be a number (lower comes first; leave it out to come after every ordered one)",
                node.type_name()
            ),
        )
    })
}

fn tier(object: &Object) -> Checked<Tier> {
    let (order, default_action) = match spec_of(object)? {
        None => (None, Action::Deny),
        Some(spec) => {
            let order = order(spec, "spec.order")?;
            let action = match fields::string(spec, "defaultAction", "spec.defaultAction")? {
                None | Some("Deny") => Action::Deny,
                Some("Pass") => Action::Pass,
                Some(other) => {
                    return Err(Invalid::at(
                        spec.get("defaultAction").unwrap_or(spec),
                        format!("`spec.defaultAction` is `{other}`; it must be Deny or Pass"),
                    ));
                }
            };
            (order, action)
        }
    };
    Ok(Tier {
        name: object.name.clone(),
        order,
        default_action,
        location: object.location,
    })
}

/// A selector field, parsed, with an error placed on the character where it goes wrong when the
/// selector is written on one line.
pub fn selector_field(parent: &Node, key: &str, path: &str) -> Checked<Option<CalicoSelector>> {
    let Some(node) = parent.field(key) else {
        return Ok(None);
    };
    let text = fields::scalar_string(node, path)?;
    CalicoSelector::parse(text).map(Some).map_err(|e| {
        let mut invalid = Invalid::at(
            node,
            format!(
                "`{path}` is not a valid Calico selector: {} (at character {} of `{}`)",
                e.message,
                e.offset + 1,
                text.trim()
            ),
        );
        // On one line, as written (plain, or quoted with nothing escaped): point at the spot.
        if let Value::Scalar { plain, .. } = &node.value {
            let quotes = if *plain { 0 } else { 2 };
            if !text.contains('\n') && node.span.end - node.span.start == text.len() + quotes {
                let before = text.get(..e.offset).map_or(0, |s| s.chars().count());
                invalid.column = node.span.column + quotes as u32 / 2 + before as u32;
            }
        }
        invalid
    })
}

fn policy(object: &Object) -> Checked<CalicoPolicy> {
    let node = &object.node;
    let global = object.kind == "GlobalNetworkPolicy";
    let empty = Node {
        value: Value::Map(Vec::new()),
        span: node.span,
    };
    let spec = spec_of(object)?.unwrap_or(&empty);
    let tier = fields::string(spec, "tier", "spec.tier")?
        .unwrap_or(DEFAULT_TIER)
        .to_string();
    if tier.is_empty() {
        return Err(Invalid::at(
            spec.get("tier").unwrap_or(spec),
            "`spec.tier` is empty; leave it out for the default tier".into(),
        ));
    }
    // Calico before 3.30 wants a policy of tier `t` named `t.<name>` and later versions add the
    // prefix themselves: both spellings are read, and findings name the policy as written.
    let order = order(spec, "spec.order")?;
    let selector =
        selector_field(spec, "selector", "spec.selector")?.unwrap_or_else(CalicoSelector::all);
    let namespace_selector = selector_field(spec, "namespaceSelector", "spec.namespaceSelector")?;
    if namespace_selector.is_some() && !global {
        return Err(Invalid::at(
            spec.get("namespaceSelector").unwrap_or(spec),
            "`spec.namespaceSelector` is a GlobalNetworkPolicy field; a NetworkPolicy applies to its own namespace".into(),
        ));
    }
    let service_account_selector = selector_field(
        spec,
        "serviceAccountSelector",
        "spec.serviceAccountSelector",
    )?;
    let rules = |key: &str| -> Checked<Vec<Rule>> {
        let path = format!("spec.{key}");
        let Some(items) = fields::seq_at_most(spec, key, &path, MAX_RULES)? else {
            return Ok(Vec::new());
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| rule(item, &format!("{path}[{i}]")))
            .collect()
    };
    let ingress = rules("ingress")?;
    let egress = rules("egress")?;
    let (ingress_applies, egress_applies) = match spec.field("types") {
        // Calico's default: Ingress, plus Egress when there are egress rules; Egress alone
        // when there are egress rules and no ingress rules.
        None => (!ingress.is_empty() || egress.is_empty(), !egress.is_empty()),
        Some(types) => {
            let items = types.as_seq().ok_or_else(|| {
                Invalid::at(
                    types,
                    format!(
                        "`spec.types` is {}; it must be a list of Ingress and Egress",
                        types.type_name()
                    ),
                )
            })?;
            let (mut ingress, mut egress) = (false, false);
            for (i, item) in items.iter().enumerate() {
                match fields::scalar_string(item, &format!("spec.types[{i}]"))? {
                    "Ingress" => ingress = true,
                    "Egress" => egress = true,
                    other => {
                        return Err(Invalid::at(
                            item,
                            format!("`spec.types[{i}]` is `{other}`; it must be Ingress or Egress"),
                        ));
                    }
                }
            }
            (ingress, egress)
        }
    };
    if !ingress_applies && !ingress.is_empty() {
        return Err(Invalid::at(
            spec.get("ingress").unwrap_or(spec),
            "`spec.ingress` has rules but `spec.types` leaves out Ingress; add Ingress to `types`"
                .into(),
        ));
    }
    if !egress_applies && !egress.is_empty() {
        return Err(Invalid::at(
            spec.get("egress").unwrap_or(spec),
            "`spec.egress` has rules but `spec.types` leaves out Egress; add Egress to `types`"
                .into(),
        ));
    }
    let mut not_analysed = None;
    for key in ["doNotTrack", "preDNAT", "applyOnForward"] {
        if fields::boolean(spec, key, &format!("spec.{key}"))? == Some(true) {
            if !global {
                return Err(Invalid::at(
                    spec.get(key).unwrap_or(spec),
                    format!("`spec.{key}` is a GlobalNetworkPolicy field"),
                ));
            }
            not_analysed = Some(format!(
                "`{key}: true` makes it a host endpoint policy, and host endpoints are not analysed"
            ));
        }
    }
    Ok(CalicoPolicy {
        kind: object.kind.clone(),
        name: object.name.clone(),
        namespace: (!global).then(|| object.namespace.clone()),
        tier,
        order,
        selector,
        namespace_selector,
        service_account_selector,
        ingress_applies,
        egress_applies,
        ingress,
        egress,
        not_analysed,
        location: object.location,
        node: node.clone(),
    })
}

fn protocol(node: &Node, path: &str) -> Checked<RuleProtocol> {
    if let Some(n) = node.as_int() {
        return match n {
            6 => Ok(RuleProtocol::Known(Protocol::Tcp)),
            17 => Ok(RuleProtocol::Known(Protocol::Udp)),
            132 => Ok(RuleProtocol::Known(Protocol::Sctp)),
            1..=255 => Ok(RuleProtocol::Other),
            _ => Err(Invalid::at(
                node,
                format!("`{path}` is {n}; a protocol number is from 1 to 255"),
            )),
        };
    }
    match fields::scalar_string(node, path)? {
        "TCP" => Ok(RuleProtocol::Known(Protocol::Tcp)),
        "UDP" => Ok(RuleProtocol::Known(Protocol::Udp)),
        "SCTP" => Ok(RuleProtocol::Known(Protocol::Sctp)),
        "ICMP" | "ICMPv6" | "UDPLite" => Ok(RuleProtocol::Other),
        other => Err(Invalid::at(
            node,
            format!(
                "`{path}` is `{other}`; it must be TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number from 1 to 255"
            ),
        )),
    }
}

fn rule(node: &Node, path: &str) -> Checked<Rule> {
    if node.as_map().is_none() {
        return Err(Invalid::at(
            node,
            format!(
                "`{path}` is {}; it must be a map with `action` and optional `protocol`, `source`, `destination`",
                node.type_name()
            ),
        ));
    }
    let action_node = node.field("action").ok_or_else(|| {
        Invalid::at(
            node,
            format!("`{path}.action` is missing; give Allow, Deny, Pass or Log"),
        )
    })?;
    let action = match fields::scalar_string(action_node, &format!("{path}.action"))? {
        "Allow" => Action::Allow,
        "Deny" => Action::Deny,
        "Pass" => Action::Pass,
        "Log" => Action::Log,
        other => {
            return Err(Invalid::at(
                action_node,
                format!("`{path}.action` is `{other}`; it must be Allow, Deny, Pass or Log"),
            ));
        }
    };
    let protocol_of = |key: &str| -> Checked<Option<RuleProtocol>> {
        node.field(key)
            .map(|n| protocol(n, &format!("{path}.{key}")))
            .transpose()
    };
    let rule_protocol = protocol_of("protocol")?;
    let not_protocol = protocol_of("notProtocol")?;
    let ip_version = match node.field("ipVersion") {
        None => None,
        Some(v) => match v.as_int() {
            Some(4) => Some(4),
            Some(6) => Some(6),
            _ => {
                return Err(Invalid::at(v, format!("`{path}.ipVersion` must be 4 or 6")));
            }
        },
    };
    let source = entity(node, "source", path)?;
    let destination = entity(node, "destination", path)?;
    let has_ports = [&source, &destination]
        .iter()
        .any(|e| e.ports.is_some() || e.not_ports.is_some());
    let port_protocol = matches!(rule_protocol, Some(RuleProtocol::Known(_)))
        || matches!(
            node.field("protocol").and_then(Node::as_str),
            Some("UDPLite")
        );
    if has_ports && !port_protocol {
        return Err(Invalid::at(
            node,
            format!(
                "`{path}` matches ports without `protocol`; Calico needs `protocol: TCP` (or UDP, SCTP, UDPLite) for `ports` and `notPorts`"
            ),
        ));
    }
    let mut not_analysed = None;
    if node.field("http").is_some() {
        not_analysed = Some(format!(
            "`{path}.http` matches HTTP requests, which only Calico's application layer sees"
        ));
    }
    for (side, key) in [("source", "services"), ("destination", "services")] {
        if node.field(side).and_then(|s| s.field(key)).is_some() {
            not_analysed = Some(format!(
                "`{path}.{side}.services` names a Service's endpoints, which are resolved only in the cluster"
            ));
        }
    }
    if source.ports.is_some() || source.not_ports.is_some() {
        not_analysed = Some(format!(
            "`{path}.source.ports` matches the client's port, which connections do not fix"
        ));
    }
    Ok(Rule {
        action,
        protocol: rule_protocol,
        not_protocol,
        ip_version,
        source,
        destination,
        not_analysed,
        line: node.span.line,
        column: node.span.column,
    })
}

fn entity(rule: &Node, key: &str, path: &str) -> Checked<Entity> {
    let here = format!("{path}.{key}");
    let Some(node) = fields::map(rule, key, &here)? else {
        return Ok(Entity::default());
    };
    let nets = |k: &str| -> Checked<Option<IpSet>> {
        let p = format!("{here}.{k}");
        let Some(items) = fields::seq_at_most(node, k, &p, MAX_ENTRIES)? else {
            return Ok(None);
        };
        let mut set = IpSet::default();
        for (i, item) in items.iter().enumerate() {
            let text = fields::scalar_string(item, &format!("{p}[{i}]"))?;
            // Calico takes a bare address as its /32 or /128.
            let cidr = if text.contains('/') {
                Cidr::parse(text)
            } else {
                text.parse::<std::net::IpAddr>()
                    .map(|addr| Cidr {
                        addr,
                        prefix: if addr.is_ipv4() { 32 } else { 128 },
                    })
                    .map_err(|_| format!("`{text}` is not an address or a CIDR"))
            }
            .map_err(|m| Invalid::at(item, format!("`{p}[{i}]`: {m}")))?;
            set = set.union(&cidr.set());
        }
        Ok(Some(set))
    };
    let ports = |k: &str| -> Checked<Option<Vec<CalicoPort>>> {
        let p = format!("{here}.{k}");
        let Some(items) = fields::seq_at_most(node, k, &p, MAX_ENTRIES)? else {
            return Ok(None);
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| port(item, &format!("{p}[{i}]")))
            .collect::<Checked<Vec<_>>>()
            .map(Some)
    };
    let (service_account_names, service_account_selector) =
        match fields::map(node, "serviceAccounts", &format!("{here}.serviceAccounts"))? {
            None => (None, None),
            Some(sa) => {
                let p = format!("{here}.serviceAccounts");
                let names = sa
                    .field("names")
                    .map(|_| fields::string_list(sa, "names", &format!("{p}.names")))
                    .transpose()?;
                (
                    names,
                    selector_field(sa, "selector", &format!("{p}.selector"))?,
                )
            }
        };
    Ok(Entity {
        nets: nets("nets")?,
        not_nets: nets("notNets")?,
        selector: selector_field(node, "selector", &format!("{here}.selector"))?,
        not_selector: selector_field(node, "notSelector", &format!("{here}.notSelector"))?,
        namespace_selector: selector_field(
            node,
            "namespaceSelector",
            &format!("{here}.namespaceSelector"),
        )?,
        service_account_names,
        service_account_selector,
        ports: ports("ports")?,
        not_ports: ports("notPorts")?,
    })
}

/// `80`, `"8000:9000"` or a named port.
fn port(node: &Node, path: &str) -> Checked<CalicoPort> {
    let number = |text: &str, at: &Node| -> Checked<u16> {
        text.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=u32::from(MAX_PORT)).contains(n))
            .map(|n| n as u16)
            .ok_or_else(|| {
                Invalid::at(
                    at,
                    format!("`{path}`: `{text}` is not a port number from 1 to 65535"),
                )
            })
    };
    if let Some(n) = node.as_int() {
        return number(&n.to_string(), node).map(|p| CalicoPort::Range(p, p));
    }
    let text = fields::scalar_string(node, path)?;
    if let Some((a, b)) = text.split_once(':') {
        let (a, b) = (number(a, node)?, number(b, node)?);
        if a > b {
            return Err(Invalid::at(
                node,
                format!("`{path}`: the range `{text}` ends below its start; write `{b}:{a}`"),
            ));
        }
        return Ok(CalicoPort::Range(a, b));
    }
    if let Ok(n) = text.parse::<u32>() {
        return number(&n.to_string(), node).map(|p| CalicoPort::Range(p, p));
    }
    match crate::model::fields::port_ref(node, path)? {
        PortRef::Name(name) => Ok(CalicoPort::Named(name)),
        PortRef::Number(p) => Ok(CalicoPort::Range(p, p)),
    }
}

/// The pods Calico policies' selectors stand for ([`crate::model::inferred`]), for input that
/// has policies and not their pods: those a policy selects, and those its rules name, where the
/// selector says plainly which labels they carry (a conjunction Kubernetes can say; see
/// [`CalicoSelector::as_kubernetes`]). A namespace is the policy's, the one a
/// `projectcalico.org/namespace == '...'` conjunct names, or those a `namespaceSelector` matches.
pub fn stand_ins(policies: &[CalicoPolicy]) -> Vec<StandIn> {
    const NAMESPACE: &str = "projectcalico.org/namespace";
    const NAME: &str = "projectcalico.org/name";
    // Calico's own endpoint labels are not on the model's pods; its namespace name label is
    // Kubernetes' own.
    let pod_key = |k: &str| (!k.starts_with("projectcalico.org/")).then(|| k.to_string());
    let namespace_key = |k: &str| match k {
        NAME => Some(crate::model::NAMESPACE_NAME_LABEL.to_string()),
        _ => pod_key(k),
    };
    let mut out = Vec::new();
    let mut add = |policy: &CalicoPolicy,
                   pods: &CalicoSelector,
                   namespaces: Option<&CalicoSelector>,
                   why: String| {
        let Some(selector) = pods.as_kubernetes(&pod_key) else {
            return;
        };
        let namespaces = match (pods.equals(NAMESPACE), namespaces, &policy.namespace) {
            (Some(ns), ..) => Namespaces::In(ns.to_string()),
            (None, Some(sel), _) => match sel.as_kubernetes(&namespace_key) {
                Some(sel) => Namespaces::Matching(sel),
                None => return,
            },
            (None, None, Some(ns)) => Namespaces::In(ns.clone()),
            (None, None, None) => Namespaces::Matching(Selector::default()),
        };
        out.push(StandIn {
            namespaces,
            pods: selector,
            location: policy.location,
            why,
        });
    };
    for policy in policies.iter().filter(|p| p.not_analysed.is_none()) {
        add(
            policy,
            &policy.selector,
            policy.namespace_selector.as_ref(),
            format!("selected by {}", policy.describe()),
        );
        for direction in [Direction::Ingress, Direction::Egress] {
            for rule in policy.rules(direction) {
                let peer = rule.peer(direction);
                if let Some(pods) = &peer.selector {
                    add(
                        policy,
                        pods,
                        peer.namespace_selector.as_ref(),
                        format!("named by a rule of {}", policy.describe()),
                    );
                }
            }
        }
    }
    out
}

/// INP007 for the Calico policies and rules the analysis cannot judge.
pub fn not_analysed(policies: &[CalicoPolicy], findings: &mut Vec<Finding>) {
    for policy in policies {
        if let Some(why) = &policy.not_analysed {
            let mut finding = Finding::new(
                Code::Inp007,
                format!(
                    "{}: {why}; the analysis leaves the policy out",
                    policy.describe()
                ),
                Some(policy.location),
            );
            finding.policy = Some(policy.qualified_name());
            finding.policy_kind = Some(format!("{} (Calico)", policy.kind));
            findings.push(finding);
            continue;
        }
        for direction in [Direction::Ingress, Direction::Egress] {
            for (r, rule) in policy.rules(direction).iter().enumerate() {
                if let Some(why) = &rule.not_analysed {
                    findings.push(policy.finding(
                        Code::Inp007,
                        format!(
                            "{} of {}: {why}; the analysis treats that rule as matching nothing",
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
mod tests;
