//! Verdicts: what NetworkPolicy allows from a source to a destination, and why.
//!
//! Selectors are matched once per distinct (namespace, labels) class of workloads, not per
//! workload, and the results kept as bit sets; connections are port-range sets. A connection
//! needs both the source's egress and the destination's ingress to allow it.

use foldhash::{HashMap, HashMapExt};
use std::borrow::Cow;
use std::cell::RefCell;
use std::net::IpAddr;
use std::rc::Rc;

use serde::Serialize;

use super::memo::{self, Classifier, ConnId, Memo, Roles};
use crate::calico::eval::Stage;
use crate::cnp::{self, Action, ClusterPolicy, Tier};
use crate::model::labels::{LabelIndex, Selector};
use crate::model::{NamespaceIndex, Workload};
use crate::net::Direction;
pub use crate::net::bitset::{BitSet, PeerMatch};
use crate::net::conn::ConnSet;
use crate::netpol::fixed_conns;
use crate::netpol::policy::{NetworkPolicy, Peer, PortSpec, Rule};
pub use crate::netpol::{port_conns, ports_conns, rule_conns};
use crate::pipeline::{Cluster, RuleRef};

/// A class of workloads that verdicts treat alike (see [`Engine::sender_class`]).
pub type Class = (u32, u32);

/// One side of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Workload(usize),
    Ip(IpAddr),
}

/// A rule that admits (part of) a connection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleMatch {
    /// Index into `Policies::network`.
    pub policy: usize,
    /// Index of the rule in the policy's ingress or egress list.
    pub rule: usize,
    #[serde(serialize_with = "display")]
    pub conns: ConnSet,
}

/// The verdict of one side (the source's egress or the destination's ingress).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SideVerdict {
    /// Policies that select this side's pod for this direction (empty: not isolated, all allowed).
    pub isolated_by: Vec<usize>,
    /// Rules that admit part of the connection.
    pub admitted_by: Vec<RuleMatch>,
    /// Rules of cluster-wide policies that decide part of the connection, in the order the
    /// pipeline asks them (Admin tier, then Baseline); empty when none applies.
    pub decided_by: Vec<LayerMatch>,
    /// Under Calico (`--cni calico`): the Calico rules and tier ends that decide part of the
    /// connection, in the order the pipeline asks them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub calico: Vec<CalicoMatch>,
    #[serde(serialize_with = "display")]
    pub allowed: ConnSet,
}

/// A Calico rule (or a tier's end, with no rule) that decides part of a connection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalicoMatch {
    /// Index into `Policies::calico`; `None`: the tier's default action at its end.
    pub policy: Option<usize>,
    /// Index of the rule in the policy's ingress or egress list.
    pub rule: Option<usize>,
    /// The tier's name.
    pub tier: String,
    #[serde(serialize_with = "calico_action_name")]
    pub action: crate::calico::Action,
    /// It comes after the Kubernetes NetworkPolicies of the default tier (which decide first
    /// what they allow).
    #[serde(skip)]
    pub after_kubernetes: bool,
    #[serde(serialize_with = "display")]
    pub conns: ConnSet,
}

impl RuleMatch {
    /// The rule, for naming and placing it ([`Cluster::rule_name`]): `direction` is the side's.
    pub fn rule_ref(&self, direction: Direction) -> RuleRef {
        RuleRef::network(self.policy, direction, self.rule)
    }
}

impl CalicoMatch {
    /// The rule, or the tier's end, for naming and placing it ([`Cluster::rule_name`]).
    pub fn rule_ref(&self, direction: Direction) -> RuleRef {
        match (self.policy, self.rule) {
            (Some(c), Some(r)) => RuleRef::calico(c, direction, r),
            _ => RuleRef::CalicoTierEnd(self.tier.clone()),
        }
    }
}

fn calico_action_name<S: serde::Serializer>(
    action: &crate::calico::Action,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(action.as_str())
}

/// Who decided one port of a side's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decider {
    /// A rule of a cluster-wide policy (policy, rule) that accepted or denied it.
    Layer(usize, usize, Action),
    /// The NetworkPolicies that isolate the side.
    NetworkPolicy,
    /// Nobody: allowed by default.
    Default,
    /// Under Calico: a Calico rule (policy, rule) or a tier's end (policy and rule `None`) that
    /// allowed or denied it.
    Calico(Option<usize>, Option<usize>, crate::calico::Action),
}

impl Decider {
    /// The deciding rule, for naming and placing it ([`Cluster::rule_name`]); `None` for
    /// NetworkPolicy, the default and a Calico tier's end (its match names the tier:
    /// [`CalicoMatch::rule_ref`]).
    pub fn rule_ref(&self, direction: Direction) -> Option<RuleRef> {
        match *self {
            Decider::Layer(c, r, _) => Some(RuleRef::tiered(c, direction, r)),
            Decider::Calico(Some(c), Some(r), _) => Some(RuleRef::calico(c, direction, r)),
            _ => None,
        }
    }
}

impl SideVerdict {
    /// What the cluster-wide rules with this action decided.
    pub fn decided(&self, action: Action) -> ConnSet {
        let mut out = ConnSet::none();
        for m in self.decided_by.iter().filter(|m| m.action == action) {
            out.union_with(&m.conns);
        }
        out
    }

    /// Who decided `port`: the first cluster-wide rule that accepted or denied it (a Pass sends
    /// it on), else NetworkPolicy if it isolates this side, else the default.
    pub fn decider(&self, protocol: crate::net::conn::Protocol, port: u16) -> Decider {
        if !self.calico.is_empty() {
            return calico_decider(self, protocol, port);
        }
        decider(
            &self.decided_by,
            !self.isolated_by.is_empty(),
            protocol,
            port,
        )
    }
}

/// [`SideVerdict::decider`] from a side's deciding cluster-wide rules and whether NetworkPolicy
/// isolates it.
pub fn decider(
    decided_by: &[LayerMatch],
    isolated: bool,
    protocol: crate::net::conn::Protocol,
    port: u16,
) -> Decider {
    decided_by
        .iter()
        .find(|m| m.action != Action::Pass && m.conns.contains(protocol, port))
        .map(|m| Decider::Layer(m.policy, m.rule, m.action))
        .unwrap_or(if isolated {
            Decider::NetworkPolicy
        } else {
            Decider::Default
        })
}

/// [`SideVerdict::decider`] under Calico: the Admin tier, then the Calico tiers (the Kubernetes
/// NetworkPolicies in their place in the default tier), then the Baseline tier, then allow.
fn calico_decider(side: &SideVerdict, protocol: crate::net::conn::Protocol, port: u16) -> Decider {
    use crate::calico::Action as Calico;
    let has = |c: &ConnSet| c.contains(protocol, port);
    let layer = |tier: Tier| {
        side.decided_by
            .iter()
            .find(|m| m.tier == tier && m.action != Action::Pass && has(&m.conns))
            .map(|m| Decider::Layer(m.policy, m.rule, m.action))
    };
    let calico = |after: bool| {
        side.calico
            .iter()
            .filter(|m| m.after_kubernetes == after)
            .find(|m| matches!(m.action, Calico::Allow | Calico::Deny) && has(&m.conns))
            .map(|m| Decider::Calico(m.policy, m.rule, m.action))
    };
    let kubernetes = (!side.isolated_by.is_empty()
        && side.admitted_by.iter().any(|m| has(&m.conns)))
    .then_some(Decider::NetworkPolicy);
    layer(Tier::Admin)
        .or_else(|| calico(false))
        .or(kubernetes)
        .or_else(|| calico(true))
        .or_else(|| layer(Tier::Baseline))
        .unwrap_or(Decider::Default)
}

/// (cluster-wide subject class, cluster-wide peer class, whether NetworkPolicy isolates the
/// side): sides with equal keys are decided alike by the tiers.
pub type TiersKey = (u32, u32, bool);

/// The cluster-wide part of a side's explanation ([`Engine::tiers_side`]).
#[derive(Clone, Debug)]
pub struct TiersSide {
    /// Equal for two sides whose tiers decide alike (with equal `allowed`, their verdicts are
    /// explained alike by the tiers).
    pub key: TiersKey,
    /// Whether NetworkPolicy isolates the side.
    pub isolated: bool,
    /// As [`SideVerdict::decided_by`].
    pub decided_by: Rc<Vec<LayerMatch>>,
}

/// A rule of a cluster-wide policy that decides (part of) a connection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerMatch {
    /// Index into `Policies::tiered`.
    pub policy: usize,
    /// Index of the rule in the policy's ingress or egress list.
    pub rule: usize,
    #[serde(serialize_with = "action_name")]
    pub action: Action,
    #[serde(skip)]
    pub tier: Tier,
    /// The part of the connection this rule decides (what earlier rules left).
    #[serde(serialize_with = "display")]
    pub conns: ConnSet,
}

impl LayerMatch {
    /// The rule, for naming and placing it ([`Cluster::rule_name`]): `direction` is the side's.
    pub fn rule_ref(&self, direction: Direction) -> RuleRef {
        RuleRef::tiered(self.policy, direction, self.rule)
    }
}

fn action_name<S: serde::Serializer>(action: &Action, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(action.as_str())
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    pub egress: SideVerdict,
    pub ingress: SideVerdict,
    /// What both sides allow.
    #[serde(serialize_with = "display")]
    pub allowed: ConnSet,
}

fn display<S: serde::Serializer>(conns: &ConnSet, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(conns)
}

/// The precomputed matches of a cluster's policies.
pub struct Engine<'c> {
    pub cluster: &'c Cluster,
    /// Per policy: the workloads its `podSelector` selects (never hostNetwork ones).
    selected: Vec<BitSet>,
    /// Per policy, per direction: per rule, who it admits.
    peers: Vec<[Vec<PeerMatch>; 2]>,
    /// Per workload, per direction: the policies that isolate it.
    isolating: Vec<[Vec<usize>; 2]>,
    /// Per policy, per direction, per rule: its connections when no named port makes them
    /// depend on the destination (most rules), computed once.
    static_conns: Vec<[Vec<Option<ConnSet>>; 2]>,
    /// Per cluster-wide policy, per direction: per rule, who it names.
    layer_peers: Vec<[Vec<PeerMatch>; 2]>,
    /// Per cluster-wide policy, per direction, per rule: its connections unless named ports
    /// make them depend on the destination.
    layer_static: Vec<[Vec<Option<ConnSet>>; 2]>,
    /// Per workload, per direction: the cluster-wide policies with rules for it, in the order
    /// the pipeline asks them (tier, priority, then kind and name, since the API leaves the order
    /// of equal priorities to the implementation).
    layered: Vec<[Vec<usize>; 2]>,
    /// Per direction: the classes of workloads whose verdicts are alike (see `memo`).
    roles: [Roles; 2],
    /// Per workload: its named ports' profile, shared by the workloads that declare the same
    /// named ports (what a rule's named ports mean depends on nothing else).
    profiles: Vec<u32>,
    /// Per direction: what the NetworkPolicy rules with named ports mean on the profiles
    /// `classify` met them on.
    named: [NamedConns; 2],
    memo: RefCell<Memo>,
    /// Explained sides between workloads, per direction and (subject class, peer class), and
    /// their parts: NetworkPolicy's admitting rules per pair of its classes, the tiers'
    /// deciding rules per pair of theirs and whether NetworkPolicy isolates.
    sides: Memoised<(usize, u32, u32), SideVerdict>,
    np_sides: Memoised<(usize, u32, u32), Vec<RuleMatch>>,
    layer_sides: Memoised<(usize, TiersKey), Vec<LayerMatch>>,
    /// Calico's policies, precomputed (`--cni calico` only; `None`: they are not evaluated).
    calico: Option<Box<crate::calico::eval::Precomputed>>,
    calico_sides: Memoised<(usize, TiersKey), Vec<CalicoMatch>>,
}

/// What NetworkPolicy rules with named ports mean on the workloads of a profile, computed once
/// by `classify`.
#[derive(Default)]
struct NamedConns {
    /// (policy, rule, profile) to its index in `sets`.
    index: HashMap<(u32, u32, u32), u32>,
    sets: Vec<ConnSet>,
}

/// Answers computed once per key.
type Memoised<K, V> = RefCell<HashMap<K, Rc<V>>>;

/// Per workload, a number shared by the workloads that declare the same named ports (name,
/// protocol and number, in order).
fn named_port_profiles(workloads: &[Workload]) -> Vec<u32> {
    let mut profiles: HashMap<Vec<(&str, crate::net::conn::Protocol, u16)>, u32> = HashMap::new();
    workloads
        .iter()
        .map(|w| {
            let declared = w
                .containers
                .iter()
                .flat_map(|c| &c.ports)
                .filter_map(|p| Some((p.name.as_deref()?, p.protocol, p.port)))
                .collect();
            let next = profiles.len() as u32;
            *profiles.entry(declared).or_insert(next)
        })
        .collect()
}

fn dir_index(d: Direction) -> usize {
    match d {
        Direction::Ingress => 0,
        Direction::Egress => 1,
    }
}

/// How `hostNetwork: true` pods are treated. Kubernetes leaves it to the CNI ("NetworkPolicy and
/// hostNetwork pods" in its documentation) and allows exactly these two behaviours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HostNetwork {
    /// The most common implementation: the CNI cannot tell a hostNetwork pod's traffic from the
    /// node's, so policies neither select nor match it (its traffic is the node's).
    #[default]
    Node,
    /// The CNI tells hostNetwork pods apart and applies policies to them like to any pod.
    Pod,
}

impl<'c> Engine<'c> {
    pub fn new(cluster: &'c Cluster) -> Self {
        Self::with(cluster, HostNetwork::default())
    }

    pub fn with(cluster: &'c Cluster, host_network: HostNetwork) -> Self {
        Self::configured(cluster, host_network, None)
    }

    /// [`Engine::with`] for a CNI: `calico` (where pods' addresses are) turns on Calico's
    /// semantics: its policies and tiers in the pipeline, and addresses (`ipBlock`, `nets`)
    /// that match pods.
    pub fn configured(
        cluster: &'c Cluster,
        host_network: HostNetwork,
        calico: Option<crate::calico::eval::PodAddresses>,
    ) -> Self {
        Self::for_cni(cluster, host_network, calico, false)
    }

    /// [`Engine::configured`], and with `cilium` (`--cni cilium`) a NetworkPolicy's `ipBlock`
    /// selects no pod and no node whatever their addresses, as Cilium's own CIDR rules
    /// (`cilium::cidr_addresses`): Cilium turns it into a CIDR selector.
    pub fn for_cni(
        cluster: &'c Cluster,
        host_network: HostNetwork,
        calico: Option<crate::calico::eval::PodAddresses>,
        cilium: bool,
    ) -> Self {
        let n = cluster.workloads.len();
        let classes = Classes::new(cluster, host_network);

        let mut selected = Vec::with_capacity(cluster.policies.network.len());
        let mut peers = Vec::with_capacity(cluster.policies.network.len());
        let mut isolating = vec![[Vec::new(), Vec::new()]; n];
        let mut static_conns = Vec::with_capacity(cluster.policies.network.len());
        for (p, policy) in cluster.policies.network.iter().enumerate() {
            let mut sel = BitSet::new(n);
            match &policy.namespaces {
                None => {
                    classes.select_in(cluster, &policy.namespace, &policy.pod_selector, &mut sel)
                }
                Some(namespaces) => {
                    for ns in classes.namespaces.matching(namespaces) {
                        classes.select_in(cluster, &ns.name, &policy.pod_selector, &mut sel);
                    }
                }
            }
            for w in sel.iter() {
                for d in [Direction::Ingress, Direction::Egress] {
                    if policy.affects(d) {
                        isolating[w][dir_index(d)].push(p);
                    }
                }
            }
            selected.push(sel);
            let rules = |d: Direction| -> Vec<PeerMatch> {
                policy
                    .rules(d)
                    .iter()
                    .enumerate()
                    .map(|(r, rule)| {
                        let mut m =
                            peer_match(cluster, policy, rule, &classes, calico.as_ref(), cilium);
                        // Cilium's `host` with `remote-node` (or `cluster`, `all`): every node.
                        if policy.cilium.as_ref().is_some_and(|c| c.admits_nodes(d, r)) {
                            let (ips, pods) = crate::cilium::node_peers(cluster);
                            m.ips = m.ips.union(&ips);
                            pods.into_iter().for_each(|w| m.workloads.insert(w));
                        }
                        m
                    })
                    .collect()
            };
            peers.push([rules(Direction::Ingress), rules(Direction::Egress)]);
            let fixed = |d: Direction| -> Vec<Option<ConnSet>> {
                policy
                    .rules(d)
                    .iter()
                    .map(|rule| fixed_conns(rule.ports.as_deref()))
                    .collect()
            };
            static_conns.push([fixed(Direction::Ingress), fixed(Direction::Egress)]);
        }
        // Cilium's `enableDefaultDeny: false`: a policy's rules admit for the pods another
        // policy isolates, and isolate none themselves.
        for (p, policy) in cluster.policies.network.iter().enumerate() {
            for d in [Direction::Ingress, Direction::Egress] {
                if policy.adds(d) {
                    for w in selected[p].iter() {
                        let list = &mut isolating[w][dir_index(d)];
                        if !list.is_empty() {
                            list.push(p);
                            crate::sort::sort(list);
                        }
                    }
                }
            }
        }
        let (layer_peers, layer_static, layered) = layers(cluster, &classes);
        let calico = calico.map(|pods| {
            let policed = |w: usize| {
                !(cluster.workloads[w].host_network && host_network == HostNetwork::Node)
            };
            Box::new(crate::calico::eval::precompute(
                cluster,
                &cluster.policies.calico,
                &cluster.policies.calico_tiers,
                policed,
                pods,
            ))
        });
        let mut engine = Engine {
            cluster,
            selected,
            peers,
            isolating,
            static_conns,
            layer_peers,
            layer_static,
            layered,
            roles: Default::default(),
            profiles: named_port_profiles(&cluster.workloads),
            named: Default::default(),
            memo: Memo::new([&Roles::default(), &Roles::default()]),
            sides: RefCell::default(),
            np_sides: RefCell::default(),
            layer_sides: RefCell::default(),
            calico,
            calico_sides: RefCell::default(),
        };
        let [(ingress, ingress_named), (egress, egress_named)] =
            [Direction::Ingress, Direction::Egress].map(|d| engine.classify(d));
        engine.roles = [ingress, egress];
        engine.named = [ingress_named, egress_named];
        engine.memo = Memo::new(engine.roles.each_ref());
        engine
    }

    /// The subject and peer classes of every workload in one direction (see `memo`), and what
    /// the NetworkPolicy rules with named ports mean on the workloads they were met on.
    fn classify(&self, direction: Direction) -> (Roles, NamedConns) {
        let d = dir_index(direction);
        let workloads = &self.cluster.workloads;
        // Every rule of the direction, numbered across policies.
        let rules: Vec<(usize, usize)> = self
            .peers
            .iter()
            .enumerate()
            .flat_map(|(p, dirs)| (0..dirs[d].len()).map(move |r| (p, r)))
            .collect();
        let mut admitted_by = vec![Vec::new(); workloads.len()];
        for (id, &(p, r)) in rules.iter().enumerate() {
            let peers = &self.peers[p][d][r];
            if !peers.everyone {
                for w in peers.workloads.iter() {
                    admitted_by[w].push(id as u32);
                }
            }
        }
        // What a rule with named ports (of either family) means on a workload, as an interned
        // number; workloads that declare the same named ports share it, so it is computed once
        // per rule and set of named ports.
        let profiles = &self.profiles;
        let mut meanings: HashMap<ConnSet, u32> = HashMap::new();
        let mut resolved: HashMap<(bool, usize, usize, u32), u32> = HashMap::new();
        // `layer`: a rule (p, r) of a cluster-wide policy, else of a NetworkPolicy.
        let mut meaning =
            |(layer, p, r): (bool, usize, usize), ports: Option<&[PortSpec]>, w: usize| {
                *resolved
                    .entry((layer, p, r, profiles[w]))
                    .or_insert_with(|| {
                        let set = ports_conns(ports, Some(&workloads[w]));
                        let next = meanings.len() as u32;
                        *meanings.entry(set).or_insert(next)
                    })
            };
        let np_ports = |p: usize, r: usize| {
            self.cluster.policies.network[p].rules(direction)[r]
                .ports
                .as_deref()
        };
        let layer_ports = |c: usize, r: usize| {
            self.cluster.policies.tiered[c].rules(direction)[r]
                .ports
                .as_deref()
        };
        let named = |&(p, r): &(usize, usize)| self.static_conns[p][d][r].is_none();
        let layer_rules: Vec<(usize, usize)> = self
            .layer_peers
            .iter()
            .enumerate()
            .flat_map(|(c, dirs)| (0..dirs[d].len()).map(move |r| (c, r)))
            .collect();
        // The cluster-wide rules naming each workload (peer side), in rule order: each rule's
        // peers are walked once, not every rule asked about every workload.
        let mut layer_named: Vec<Vec<u32>> = vec![Vec::new(); workloads.len()];
        for (id, &(c, r)) in layer_rules.iter().enumerate() {
            let peers = &self.layer_peers[c][d][r];
            if peers.everyone {
                layer_named.iter_mut().for_each(|ids| ids.push(id as u32));
            } else {
                for w in peers.workloads.iter() {
                    layer_named[w].push(id as u32);
                }
            }
        }
        // The NetworkPolicy rules with named ports (egress: they resolve on each destination).
        let named_rules: Vec<(usize, (usize, usize))> = rules
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, pr)| named(pr))
            .collect();

        // Calico: the rules naming each workload (peer side), and what a rule's named ports
        // mean on a workload, interned apart from the other families'.
        let mut calico_named: Vec<Vec<(u32, u32)>> = vec![Vec::new(); workloads.len()];
        if let Some(calico) = &self.calico {
            for (c, dirs) in calico.peers.iter().enumerate() {
                for (r, m) in dirs[d].iter().enumerate() {
                    if !m.everyone {
                        for w in m.workloads.iter() {
                            calico_named[w].push((c as u32, r as u32));
                        }
                    }
                }
            }
        }
        let mut calico_meanings: HashMap<ConnSet, u32> = HashMap::new();
        let mut calico_meaning = |c: usize, r: usize, w: usize| -> u32 {
            let rule = &self.cluster.policies.calico[c].rules(direction)[r];
            let set = crate::calico::eval::rule_conns(rule, Some(&workloads[w]));
            let next = calico_meanings.len() as u32;
            *calico_meanings.entry(set).or_insert(next)
        };
        let mut roles = Roles::with_capacity(workloads.len());
        let (mut subjects, mut peers) = (Classifier::default(), Classifier::default());
        // The NetworkPolicy and the cluster-wide parts of the keys, classified apart too: a
        // class's answer is composed from the answers of its parts (see `memo`).
        let (mut np_subjects, mut np_peers) = (Classifier::default(), Classifier::default());
        let (mut layer_subjects, mut layer_peers) = (Classifier::default(), Classifier::default());
        let (mut np_reps, mut layer_reps) = (Vec::new(), Vec::new());
        let (mut np_peer_reps, mut layer_peer_reps) = (Vec::new(), Vec::new());
        for (w, admitted) in admitted_by.into_iter().enumerate() {
            let isolating = &self.isolating[w][d];
            let mut np_key: Vec<u32> = isolating.iter().map(|&p| p as u32).collect();
            if direction == Direction::Ingress {
                // Ingress named ports resolve against this workload, the destination.
                for &p in isolating {
                    for r in 0..self.peers[p][d].len() {
                        if named(&(p, r)) {
                            np_key.extend([
                                u32::MAX,
                                p as u32,
                                r as u32,
                                meaning((false, p, r), np_ports(p, r), w),
                            ]);
                        }
                    }
                }
            }
            // The cluster-wide policies with rules for it, and (ingress) what their named ports
            // mean on it.
            let layered = &self.layered[w][d];
            let mut layer_key: Vec<u32> = layered.iter().map(|&c| c as u32).collect();
            if direction == Direction::Ingress {
                for &c in layered {
                    for r in 0..self.layer_peers[c][d].len() {
                        if self.layer_static[c][d][r].is_none() {
                            layer_key.extend([
                                u32::MAX,
                                c as u32,
                                r as u32,
                                meaning((true, c, r), layer_ports(c, r), w),
                            ]);
                        }
                    }
                }
            }
            // Calico's policies that select it, the rules whose own side leaves it out, and
            // (ingress) what their named ports mean on it.
            let calico_layered = self.calico_layered(w, direction);
            if let Some(calico) = &self.calico {
                for &c in calico_layered {
                    layer_key.extend([u32::MAX - 2, c as u32]);
                    for r in 0..calico.peers[c][d].len() {
                        if !calico.subject_ok(c, direction, r, w) {
                            layer_key.extend([u32::MAX - 3, r as u32]);
                        }
                        if direction == Direction::Ingress && calico.fixed[c][d][r].is_none() {
                            layer_key.extend([u32::MAX - 4, r as u32, calico_meaning(c, r, w)]);
                        }
                    }
                }
            }
            let has_layers = !layered.is_empty() || !calico_layered.is_empty();
            let mut key = np_key.clone();
            if has_layers {
                key.push(u32::MAX - 1);
                key.extend(&layer_key);
            }
            let np = (!isolating.is_empty()).then(|| np_subjects.class(np_key, &mut np_reps, w));
            let layer = has_layers.then(|| layer_subjects.class(layer_key, &mut layer_reps, w));
            let affected = np.is_some() || layer.is_some();
            let classes = roles.subject_rep.len();
            let class = subjects.class(key, &mut roles.subject_rep, (w, affected));
            if class as usize == classes {
                roles.subject_parts.push((np, layer));
            }
            roles.subject.push(class);

            let mut np_key = admitted;
            if direction == Direction::Egress {
                // Egress named ports resolve against this workload, the destination.
                for &(id, pr) in &named_rules {
                    if self.peers[pr.0][d][pr.1].admits(w) {
                        np_key.extend([
                            u32::MAX,
                            id as u32,
                            meaning((false, pr.0, pr.1), np_ports(pr.0, pr.1), w),
                        ]);
                    }
                }
            }
            // The cluster-wide rules that name it, and (egress) what their named ports mean on it.
            let mut layer_key = Vec::new();
            for &id in &layer_named[w] {
                let (c, r) = layer_rules[id as usize];
                layer_key.push(id);
                if direction == Direction::Egress && self.layer_static[c][d][r].is_none() {
                    layer_key.extend([u32::MAX, meaning((true, c, r), layer_ports(c, r), w)]);
                }
            }
            // The Calico rules whose peer side names it, and (egress) what their named ports
            // mean on it.
            if let Some(calico) = &self.calico {
                for &(c, r) in &calico_named[w] {
                    layer_key.extend([u32::MAX - 2, c, r]);
                    if direction == Direction::Egress
                        && calico.fixed[c as usize][d][r as usize].is_none()
                    {
                        layer_key.push(calico_meaning(c as usize, r as usize, w));
                    }
                }
            }
            let mut key = np_key.clone();
            if !layer_key.is_empty() {
                key.push(u32::MAX - 1);
                key.extend(&layer_key);
            }
            let parts = (
                np_peers.class(np_key, &mut np_peer_reps, w),
                layer_peers.class(layer_key, &mut layer_peer_reps, w),
            );
            let classes = roles.peer_rep.len();
            let class = peers.class(key, &mut roles.peer_rep, w);
            if class as usize == classes {
                roles.peer_parts.push(parts);
            }
            roles.peer.push(class);
        }
        roles.parts = [
            (np_reps.len(), np_peer_reps.len()),
            (layer_reps.len(), layer_peer_reps.len()),
        ];
        let mut sets = vec![ConnSet::none(); meanings.len()];
        for (set, id) in meanings {
            sets[id as usize] = set;
        }
        let index = resolved
            .into_iter()
            .filter(|((layer, ..), _)| !layer)
            .map(|((_, p, r, profile), id)| ((p as u32, r as u32, profile), id))
            .collect();
        (roles, NamedConns { index, sets })
    }

    /// The Calico policies that select a workload in a direction, in pipeline order (empty
    /// unless Calico's policies are evaluated).
    pub fn calico_layered(&self, workload: usize, direction: Direction) -> &[usize] {
        self.calico.as_ref().map_or(&[], |c| {
            c.layered[workload][dir_index(direction)].as_slice()
        })
    }

    /// Whether some policy decides for a workload in a direction (a NetworkPolicy isolates it,
    /// or a cluster-wide or Calico policy selects it): otherwise everything passes that side.
    pub fn policed(&self, workload: usize, direction: Direction) -> bool {
        !self.isolating(workload, direction).is_empty()
            || !self.layered(workload, direction).is_empty()
            || !self.calico_layered(workload, direction).is_empty()
    }

    /// Whether Calico's semantics are on (`--cni calico`).
    pub fn calico(&self) -> Option<&crate::calico::eval::Precomputed> {
        self.calico.as_deref()
    }

    /// The workloads a policy's `podSelector` selects.
    pub fn selected(&self, policy: usize) -> &BitSet {
        &self.selected[policy]
    }

    /// Who one rule admits.
    pub fn rule_peers(&self, policy: usize, direction: Direction, rule: usize) -> &PeerMatch {
        &self.peers[policy][dir_index(direction)][rule]
    }

    /// The cluster-wide policies with rules for a workload in a direction, in pipeline order.
    pub fn layered(&self, workload: usize, direction: Direction) -> &[usize] {
        &self.layered[workload][dir_index(direction)]
    }

    /// Workloads with equal peer classes in a direction are named by the same rules (of every
    /// tier), whose named ports mean the same on them.
    pub fn peer_class(&self, workload: usize, direction: Direction) -> u32 {
        self.roles[dir_index(direction)].peer[workload]
    }

    /// The policies that isolate a workload in a direction.
    pub fn isolating(&self, workload: usize, direction: Direction) -> &[usize] {
        &self.isolating[workload][dir_index(direction)]
    }

    /// The workloads that may reach `workload` at all: those a rule of a policy isolating its
    /// ingress admits. `None` when that is everyone (not isolated, or a rule without `from`).
    /// Lets a caller skip the senders no rule names instead of asking for each verdict.
    pub fn ingress_candidates(&self, workload: usize) -> Option<BitSet> {
        let isolating = self.isolating(workload, Direction::Ingress);
        // A cluster-wide or Calico policy may accept anyone NetworkPolicy does not name.
        if isolating.is_empty()
            || !self.layered[workload][0].is_empty()
            || !self.calico_layered(workload, Direction::Ingress).is_empty()
        {
            return None;
        }
        let mut candidates = BitSet::new(self.isolating.len());
        for &p in isolating {
            for peers in &self.peers[p][dir_index(Direction::Ingress)] {
                if peers.everyone {
                    return None;
                }
                candidates.union_with(&peers.workloads);
            }
        }
        Some(candidates)
    }

    pub fn verdict(&self, src: Endpoint, dst: Endpoint) -> Verdict {
        let egress = self.side(src, dst, Direction::Egress);
        let ingress = self.side(dst, src, Direction::Ingress);
        let allowed = egress.allowed.intersect(&ingress.allowed);
        Verdict {
            egress,
            ingress,
            allowed,
        }
    }

    /// A rule's connections: precomputed unless named ports make them depend on the destination.
    pub fn rule_conns(
        &self,
        policy: usize,
        direction: Direction,
        rule: usize,
        destination: Option<&Workload>,
    ) -> Cow<'_, ConnSet> {
        match &self.static_conns[policy][dir_index(direction)][rule] {
            Some(conns) => Cow::Borrowed(conns),
            None => Cow::Owned(rule_conns(
                &self.cluster.policies.network[policy].rules(direction)[rule],
                destination,
            )),
        }
    }

    /// [`Engine::rule_conns`] towards the workload numbered `destination`, looked up when
    /// `classify` met the rule on a workload with the same named ports.
    fn rule_conns_to(
        &self,
        policy: usize,
        direction: Direction,
        rule: usize,
        destination: Option<usize>,
    ) -> Cow<'_, ConnSet> {
        let named = &self.named[dir_index(direction)];
        let known = destination.and_then(|w| {
            let key = (policy as u32, rule as u32, self.profiles[w]);
            named.index.get(&key)
        });
        match known {
            Some(&id) if self.static_conns[policy][dir_index(direction)][rule].is_none() => {
                Cow::Borrowed(&named.sets[id as usize])
            }
            _ => self.rule_conns(
                policy,
                direction,
                rule,
                destination.map(|w| &self.cluster.workloads[w]),
            ),
        }
    }

    /// Calls `visit` with each rule of `this` endpoint's policies that admits some of the
    /// connection with `peer`; returns whether `this` is isolated in that direction at all.
    fn admitting(
        &self,
        this: Endpoint,
        peer: Endpoint,
        direction: Direction,
        mut visit: impl FnMut(usize, usize, &ConnSet),
    ) -> bool {
        // Addresses outside the cluster have no policies.
        let Endpoint::Workload(w) = this else {
            return false;
        };
        let isolated_by = self.isolating(w, direction);
        // Named ports resolve against the destination pod.
        let destination = match (direction, peer) {
            (Direction::Ingress, _) => Some(w),
            (Direction::Egress, Endpoint::Workload(d)) => Some(d),
            (Direction::Egress, Endpoint::Ip(_)) => None,
        };
        for &p in isolated_by {
            for (r, matcher) in self.peers[p][dir_index(direction)].iter().enumerate() {
                let admits = matcher.everyone
                    || match peer {
                        Endpoint::Workload(o) => matcher.workloads.contains(o),
                        Endpoint::Ip(ip) => matcher.ips.contains(ip),
                    };
                if admits {
                    let conns = self.rule_conns_to(p, direction, r, destination);
                    if !conns.is_empty() {
                        visit(p, r, &conns);
                    }
                }
            }
        }
        !isolated_by.is_empty()
    }

    /// What `this` endpoint's policies allow to (egress) or from (ingress) `peer`, without the
    /// explanation (the fast path of the rules).
    pub fn allowed(&self, this: Endpoint, peer: Endpoint, direction: Direction) -> Rc<ConnSet> {
        match (this, peer) {
            (Endpoint::Workload(t), Endpoint::Workload(p)) => {
                self.conns(self.allowed_id(t, p, direction))
            }
            _ => Rc::new(self.compute_allowed(this, peer, direction)),
        }
    }

    /// [`Engine::allowed`] between two workloads as an interned id, computed once per class pair
    /// from the answers of its parts (see `memo`).
    pub fn allowed_id(&self, this: usize, peer: usize, direction: Direction) -> ConnId {
        let d = dir_index(direction);
        let roles = &self.roles[d];
        let subject = roles.subject[this];
        let (_, affected) = roles.subject_rep[subject as usize];
        if !affected {
            return memo::ALL;
        }
        let class = roles.peer[peer];
        let classes = roles.peer_rep.len();
        let known = *self.memo.borrow_mut().cell(d, subject, class, classes);
        if Memo::is_known(known) {
            return known;
        }
        let (np_subject, layer_subject) = roles.subject_parts[subject as usize];
        let (np_peer, layer_peer) = roles.peer_parts[class as usize];
        let network_policy = np_subject.map(|np| {
            let known = *self.memo.borrow_mut().network_policy(d, np, np_peer);
            known.unwrap_or_else(|| {
                let mut allowed = ConnSet::none();
                self.admitting(
                    Endpoint::Workload(this),
                    Endpoint::Workload(peer),
                    direction,
                    |_, _, conns| allowed.union_with(conns),
                );
                let mut memo = self.memo.borrow_mut();
                let id = memo.intern(allowed);
                *memo.network_policy(d, np, np_peer) = Some(id);
                id
            })
        });
        let id = match layer_subject {
            None => network_policy.expect("an affected subject without tiers is isolated"),
            Some(layer) => {
                let known = *self.memo.borrow_mut().layers(d, layer, layer_peer);
                let layers = known.unwrap_or_else(|| {
                    let layers = self.layers(this, peer, direction);
                    *self.memo.borrow_mut().layers(d, layer, layer_peer) = Some(layers);
                    layers
                });
                match network_policy {
                    // NetworkPolicy decides what the Admin tier left.
                    Some(np) => {
                        let mut memo = self.memo.borrow_mut();
                        let left = memo.intersect(layers.open, np);
                        memo.union(layers.accepted, left)
                    }
                    None => layers.alone,
                }
            }
        };
        *self.memo.borrow_mut().cell(d, subject, class, classes) = id;
        id
    }

    /// What the tiers decide between two workloads (which must have cluster-wide rules for
    /// `this` side), interned.
    fn layers(&self, this: usize, peer: usize, direction: Direction) -> memo::Layered {
        let (this, peer) = (Endpoint::Workload(this), Endpoint::Workload(peer));
        if self.calico.is_some() {
            // NetworkPolicy sits inside the default tier: what the pipeline gives when it allows
            // nothing, and when it allows everything, bound the answer (per port, NetworkPolicy
            // decides only what reaches it): `accepted ∪ (open ∩ allowed)`.
            let run =
                |np: Option<ConnSet>| self.pipeline(this, peer, direction, np, |_| {}, &mut |_| {});
            let (accepted, open, alone) = (
                run(Some(ConnSet::none())),
                run(Some(ConnSet::all())),
                run(None),
            );
            let mut memo = self.memo.borrow_mut();
            return memo::Layered {
                accepted: memo.intern(accepted),
                open: memo.intern(open),
                alone: memo.intern(alone),
            };
        }
        let mut accepted = ConnSet::none();
        let mut open = ConnSet::all();
        self.tier(
            Tier::Admin,
            this,
            peer,
            direction,
            &mut open,
            &mut accepted,
            &mut |_| {},
        );
        let admin = (accepted.clone(), open.clone());
        self.tier(
            Tier::Baseline,
            this,
            peer,
            direction,
            &mut open,
            &mut accepted,
            &mut |_| {},
        );
        accepted.union_with(&open);
        let mut memo = self.memo.borrow_mut();
        memo::Layered {
            accepted: memo.intern(admin.0),
            open: memo.intern(admin.1),
            alone: memo.intern(accepted),
        }
    }

    /// Workloads with equal sender classes are allowed the same towards every destination: the
    /// same policies decide their egress and the same ingress rules admit them.
    pub fn sender_class(&self, workload: usize) -> Class {
        let [ingress, egress] = &self.roles;
        (egress.subject[workload], ingress.peer[workload])
    }

    /// Workloads with equal subject classes in a direction are isolated by the same policies,
    /// whose rules mean the same on them.
    pub fn subject_class(&self, workload: usize, direction: Direction) -> u32 {
        self.roles[dir_index(direction)].subject[workload]
    }

    /// Workloads with equal receiver classes are allowed the same from every source.
    pub fn receiver_class(&self, workload: usize) -> Class {
        let [ingress, egress] = &self.roles;
        (egress.peer[workload], ingress.subject[workload])
    }

    /// An interned connection set.
    pub fn conns(&self, id: ConnId) -> Rc<ConnSet> {
        self.memo.borrow().get(id)
    }

    fn compute_allowed(&self, this: Endpoint, peer: Endpoint, direction: Direction) -> ConnSet {
        let mut allowed = ConnSet::none();
        let isolated = self.admitting(this, peer, direction, |_, _, conns| {
            allowed.union_with(conns)
        });
        self.pipeline(
            this,
            peer,
            direction,
            isolated.then_some(allowed),
            |_| {},
            &mut |_| {},
        )
    }

    /// The policy pipeline of one side: the Admin tier's rules (by priority, each policy's
    /// rules in order; the first that matches a connection decides: Accept and Deny end it,
    /// Pass sends it on), then NetworkPolicy (`network_policy`: what it allows, `None` when no
    /// NetworkPolicy isolates this side, which then leaves the decision to the next tier), then
    /// the Baseline tier likewise, then allow. `visit` is told each deciding rule.
    fn pipeline(
        &self,
        this: Endpoint,
        peer: Endpoint,
        direction: Direction,
        network_policy: Option<ConnSet>,
        mut visit: impl FnMut(LayerMatch),
        calico_visit: &mut dyn FnMut(CalicoMatch),
    ) -> ConnSet {
        let Endpoint::Workload(w) = this else {
            return network_policy.unwrap_or_else(ConnSet::all);
        };
        if self.layered[w][dir_index(direction)].is_empty()
            && self.calico_layered(w, direction).is_empty()
        {
            return network_policy.unwrap_or_else(ConnSet::all);
        }
        let mut accepted = ConnSet::none();
        // What no tier has decided yet.
        let mut open = ConnSet::all();
        if let Some(calico) = &self.calico {
            // Calico's tiers ordered before its admin network policy tier (order 1000).
            self.calico_tiers(
                calico,
                w,
                peer,
                direction,
                (network_policy.as_ref(), Stage::BeforeAdmin),
                (&mut open, &mut accepted),
                calico_visit,
            );
        }
        self.tier(
            Tier::Admin,
            this,
            peer,
            direction,
            &mut open,
            &mut accepted,
            &mut visit,
        );
        if let Some(calico) = &self.calico {
            // Calico's other tiers, the Kubernetes NetworkPolicies among the default tier's
            // policies.
            self.calico_tiers(
                calico,
                w,
                peer,
                direction,
                (network_policy.as_ref(), Stage::BeforeBaseline),
                (&mut open, &mut accepted),
                calico_visit,
            );
        } else if let Some(allowed) = network_policy {
            // NetworkPolicy decides whatever the Admin tier left.
            accepted.union_with(&open.intersect(&allowed));
            return accepted;
        }
        self.tier(
            Tier::Baseline,
            this,
            peer,
            direction,
            &mut open,
            &mut accepted,
            &mut visit,
        );
        if let Some(calico) = &self.calico {
            // Calico's tiers ordered after its Baseline tier, and those without an order.
            self.calico_tiers(
                calico,
                w,
                peer,
                direction,
                (network_policy.as_ref(), Stage::AfterBaseline),
                (&mut open, &mut accepted),
                calico_visit,
            );
        }
        accepted.union_with(&open);
        accepted
    }

    /// Calico's tiers in [`Engine::pipeline`] for workload `w`, in order: a tier applies when one
    /// of its policies selects `w` (in the default tier, also when a Kubernetes NetworkPolicy
    /// isolates it); its policies by order, their rules in order, the first rule that matches a
    /// port decides it (Allow and Deny end there, Pass goes on to the next tier, Log decides
    /// nothing); the Kubernetes NetworkPolicies (`network_policy`: what they allow) act as one
    /// policy of order 1000 whose rules allow; what no rule decides gets the tier's default
    /// action (Deny, or Pass). `visit` is told each deciding rule and tier end. `stage`: the
    /// tiers ordered before Calico's tier of AdminNetworkPolicies (order 1000), those between it
    /// and its tier of BaselineAdminNetworkPolicies (order 10,000,000), or those after (and
    /// without an order).
    #[allow(clippy::too_many_arguments)]
    fn calico_tiers(
        &self,
        calico: &crate::calico::eval::Precomputed,
        w: usize,
        peer: Endpoint,
        direction: Direction,
        (network_policy, stage): (Option<&ConnSet>, Stage),
        (open, accepted): (&mut ConnSet, &mut ConnSet),
        visit: &mut dyn FnMut(CalicoMatch),
    ) {
        use crate::calico::Action as Calico;
        use crate::calico::eval::Step;
        let destination = match (direction, peer) {
            (Direction::Ingress, _) => Some(&self.cluster.workloads[w]),
            (Direction::Egress, Endpoint::Workload(d)) => Some(&self.cluster.workloads[d]),
            (Direction::Egress, Endpoint::Ip(_)) => None,
        };
        let d = dir_index(direction);
        // Whether the default tier (where the Kubernetes NetworkPolicies are) is behind.
        let mut past_default = stage == Stage::AfterBaseline;
        for (t, tier) in calico.tiers.iter().enumerate() {
            if open.is_empty() {
                return;
            }
            let default_tier = tier.name == crate::calico::DEFAULT_TIER;
            if Stage::of(tier.order) != stage {
                continue;
            }
            let steps = calico.steps(t, w, direction, network_policy.is_some());
            if steps.is_empty() {
                continue;
            }
            let mut passed = ConnSet::none();
            let mut after_kubernetes = past_default;
            for step in steps {
                let c = match step {
                    Step::Kubernetes => {
                        after_kubernetes = true;
                        if let Some(allowed) = network_policy {
                            let conns = open.intersect(allowed);
                            *open = open.subtract(&conns);
                            accepted.union_with(&conns);
                        }
                        continue;
                    }
                    Step::Policy(c) => c,
                };
                let policy = &self.cluster.policies.calico[c];
                for (r, rule) in policy.rules(direction).iter().enumerate() {
                    if open.is_empty() {
                        break;
                    }
                    if rule.action == Calico::Log || !calico.subject_ok(c, direction, r, w) {
                        continue;
                    }
                    let names = calico.peer_match(c, direction, r);
                    let matches = names.everyone
                        || match peer {
                            Endpoint::Workload(o) => names.workloads.contains(o),
                            Endpoint::Ip(ip) => names.ips.contains(ip),
                        };
                    if !matches {
                        continue;
                    }
                    let conns = match &calico.fixed[c][d][r] {
                        Some(conns) => open.intersect(conns),
                        None => open.intersect(&crate::calico::eval::rule_conns(rule, destination)),
                    };
                    if conns.is_empty() {
                        continue;
                    }
                    *open = open.subtract(&conns);
                    match rule.action {
                        Calico::Allow => accepted.union_with(&conns),
                        Calico::Pass => passed.union_with(&conns),
                        Calico::Deny | Calico::Log => {}
                    }
                    visit(CalicoMatch {
                        policy: Some(c),
                        rule: Some(r),
                        tier: tier.name.clone(),
                        action: rule.action,
                        after_kubernetes: after_kubernetes
                            || (default_tier && calico.comes_after_kubernetes(c, w)),
                        conns,
                    });
                }
            }
            // The end of the tier: what its policies selected and no rule decided.
            if !open.is_empty() {
                visit(CalicoMatch {
                    policy: None,
                    rule: None,
                    tier: tier.name.clone(),
                    action: tier.default_action,
                    after_kubernetes: past_default || default_tier,
                    conns: open.clone(),
                });
                if tier.default_action != Calico::Pass {
                    *open = ConnSet::none();
                }
            }
            open.union_with(&passed);
            past_default |= default_tier;
        }
    }

    /// One tier of [`Engine::pipeline`] for a workload `this`: decides what is `open`, adding
    /// what it accepts to `accepted`; what it passes on is open again after it.
    #[allow(clippy::too_many_arguments)]
    fn tier(
        &self,
        tier: Tier,
        this: Endpoint,
        peer: Endpoint,
        direction: Direction,
        open: &mut ConnSet,
        accepted: &mut ConnSet,
        visit: &mut impl FnMut(LayerMatch),
    ) {
        let Endpoint::Workload(w) = this else {
            return;
        };
        let destination = match (direction, peer) {
            (Direction::Ingress, _) => Some(&self.cluster.workloads[w]),
            (Direction::Egress, Endpoint::Workload(d)) => Some(&self.cluster.workloads[d]),
            (Direction::Egress, Endpoint::Ip(_)) => None,
        };
        let mut passed = ConnSet::none();
        for &c in &self.layered[w][dir_index(direction)] {
            let policy = &self.cluster.policies.tiered[c];
            if policy.tier != tier {
                continue;
            }
            for (r, rule) in policy.rules(direction).iter().enumerate() {
                if open.is_empty() {
                    break;
                }
                let names = &self.layer_peers[c][dir_index(direction)][r];
                let matches = match peer {
                    Endpoint::Workload(o) => names.workloads.contains(o),
                    Endpoint::Ip(ip) => names.ips.contains(ip),
                };
                if !matches {
                    continue;
                }
                let conns = match &self.layer_static[c][dir_index(direction)][r] {
                    Some(conns) => open.intersect(conns),
                    None => open.intersect(&ports_conns(rule.ports.as_deref(), destination)),
                };
                if conns.is_empty() {
                    continue;
                }
                *open = open.subtract(&conns);
                match rule.action {
                    Action::Accept => accepted.union_with(&conns),
                    Action::Deny => {}
                    Action::Pass => passed.union_with(&conns),
                }
                visit(LayerMatch {
                    policy: c,
                    rule: r,
                    action: rule.action,
                    tier,
                    conns,
                });
            }
        }
        open.union_with(&passed);
    }

    /// [`Engine::allowed_between`] two workloads as an interned id.
    pub fn between_id(&self, src: usize, dst: usize) -> ConnId {
        let egress = self.allowed_id(src, dst, Direction::Egress);
        if egress == memo::NONE {
            return egress;
        }
        let ingress = self.allowed_id(dst, src, Direction::Ingress);
        self.memo.borrow_mut().intersect(egress, ingress)
    }

    /// What both sides allow from `src` to `dst` (the verdict without its explanation).
    pub fn allowed_between(&self, src: Endpoint, dst: Endpoint) -> Rc<ConnSet> {
        if let (Endpoint::Workload(s), Endpoint::Workload(d)) = (src, dst) {
            return self.conns(self.between_id(s, d));
        }
        let egress = self.compute_allowed(src, dst, Direction::Egress);
        if egress.is_empty() {
            return Rc::new(egress);
        }
        Rc::new(egress.intersect(&self.compute_allowed(dst, src, Direction::Ingress)))
    }

    /// What `this` endpoint's policies allow to (egress) or from (ingress) `peer`, and why.
    pub fn side(&self, this: Endpoint, peer: Endpoint, direction: Direction) -> SideVerdict {
        let mut allowed = ConnSet::none();
        let mut admitted_by = Vec::new();
        let isolated = self.admitting(this, peer, direction, |p, r, conns| {
            allowed.union_with(conns);
            admitted_by.push(RuleMatch {
                policy: p,
                rule: r,
                conns: conns.clone(),
            });
        });
        let isolated_by = match this {
            Endpoint::Workload(w) if isolated => self.isolating(w, direction).to_vec(),
            _ => Vec::new(),
        };
        let mut decided_by = Vec::new();
        let mut calico = Vec::new();
        let allowed = if self.calico.is_some() && isolated {
            // The explanation as `workload_side` gives it: the Calico rules after the
            // NetworkPolicies are told everything NetworkPolicy leaves open or not (see
            // `Engine::decided_by`); the answer with what it allows.
            self.pipeline(
                this,
                peer,
                direction,
                Some(ConnSet::none()),
                |m| decided_by.push(m),
                &mut |m| calico.push(m),
            );
            self.pipeline(this, peer, direction, Some(allowed), |_| {}, &mut |_| {})
        } else {
            self.pipeline(
                this,
                peer,
                direction,
                isolated.then_some(allowed),
                |m| decided_by.push(m),
                &mut |m| calico.push(m),
            )
        };
        SideVerdict {
            isolated_by,
            admitted_by,
            decided_by,
            calico,
            allowed,
        }
    }

    /// [`Engine::side`] between two workloads, composed like [`Engine::allowed_id`] from the
    /// explanations of its parts: NetworkPolicy's (the isolating policies, the admitting rules)
    /// per pair of NetworkPolicy classes, the tiers' deciding rules per pair of cluster-wide
    /// classes (and whether NetworkPolicy isolates, which keeps the Baseline tier out). The
    /// classes hold everything the explanation names.
    pub fn workload_side(&self, this: usize, peer: usize, direction: Direction) -> Rc<SideVerdict> {
        let d = dir_index(direction);
        let roles = &self.roles[d];
        let (subject, class) = (roles.subject[this], roles.peer[peer]);
        if let Some(side) = self.sides.borrow().get(&(d, subject, class)) {
            return side.clone();
        }
        let (np_subject, layer_subject) = roles.subject_parts[subject as usize];
        let (np_peer, layer_peer) = roles.peer_parts[class as usize];
        let (this_end, peer_end) = (Endpoint::Workload(this), Endpoint::Workload(peer));
        let network_policy = np_subject.map(|np| {
            let known = self.np_sides.borrow().get(&(d, np, np_peer)).cloned();
            known.unwrap_or_else(|| {
                let mut admitted_by = Vec::new();
                self.admitting(this_end, peer_end, direction, |p, r, conns| {
                    admitted_by.push(RuleMatch {
                        policy: p,
                        rule: r,
                        conns: conns.clone(),
                    })
                });
                let part = Rc::new(admitted_by);
                self.np_sides
                    .borrow_mut()
                    .insert((d, np, np_peer), part.clone());
                part
            })
        });
        let isolated = network_policy.is_some();
        let key = layer_subject.map(|layer| (layer, layer_peer, isolated));
        let decided_by = key.map(|key| self.decided_by(this, peer, direction, key));
        let calico = key.map(|key| self.calico_decided_by(this, peer, direction, key));
        let side = Rc::new(SideVerdict {
            isolated_by: if isolated {
                self.isolating(this, direction).to_vec()
            } else {
                Vec::new()
            },
            admitted_by: network_policy.map_or_else(Vec::new, |a| a.to_vec()),
            decided_by: decided_by.map_or_else(Vec::new, |m| m.to_vec()),
            calico: calico.map_or_else(Vec::new, |m| m.to_vec()),
            allowed: (*self.conns(self.allowed_id(this, peer, direction))).clone(),
        });
        self.sides
            .borrow_mut()
            .insert((d, subject, class), side.clone());
        side
    }

    /// The tiers' part of [`Engine::workload_side`]: who decides, without NetworkPolicy's
    /// explanation. `None` when no cluster-wide policy has rules for `this` side.
    pub fn tiers_side(&self, this: usize, peer: usize, direction: Direction) -> Option<TiersSide> {
        let key = self.tiers_key(this, peer, direction)?;
        Some(TiersSide {
            key,
            isolated: key.2,
            decided_by: self.decided_by(this, peer, direction, key),
        })
    }

    /// [`TiersSide::key`] alone, for a caller that judges once per key.
    pub fn tiers_key(&self, this: usize, peer: usize, direction: Direction) -> Option<TiersKey> {
        let roles = &self.roles[dir_index(direction)];
        let (np, layer) = roles.subject_parts[roles.subject[this] as usize];
        let (_, layer_peer) = roles.peer_parts[roles.peer[peer] as usize];
        Some((layer?, layer_peer, np.is_some()))
    }

    /// The cluster-wide rules that decide between two workloads, computed once per `key`:
    /// (cluster-wide subject class, cluster-wide peer class, whether NetworkPolicy isolates
    /// `this` side, which keeps the Baseline tier out).
    fn decided_by(
        &self,
        this: usize,
        peer: usize,
        direction: Direction,
        key: TiersKey,
    ) -> Rc<Vec<LayerMatch>> {
        let isolated = key.2;
        let key = (dir_index(direction), key);
        if let Some(known) = self.layer_sides.borrow().get(&key) {
            return known.clone();
        }
        let mut decided_by = Vec::new();
        let mut calico = Vec::new();
        // The pipeline's visits are the same whatever NetworkPolicy allows; only whether it
        // isolates matters (it keeps the Baseline tier out). Under Calico, the rules after the
        // NetworkPolicies are told what NetworkPolicy allows too; `SideVerdict::decider` puts
        // NetworkPolicy first for those.
        self.pipeline(
            Endpoint::Workload(this),
            Endpoint::Workload(peer),
            direction,
            isolated.then(ConnSet::none),
            |m| decided_by.push(m),
            &mut |m| calico.push(m),
        );
        let part = Rc::new(decided_by);
        self.layer_sides.borrow_mut().insert(key, part.clone());
        self.calico_sides.borrow_mut().insert(key, Rc::new(calico));
        part
    }

    /// The Calico part of [`Engine::decided_by`], computed with it.
    fn calico_decided_by(
        &self,
        this: usize,
        peer: usize,
        direction: Direction,
        key: TiersKey,
    ) -> Rc<Vec<CalicoMatch>> {
        let full = (dir_index(direction), key);
        if let Some(known) = self.calico_sides.borrow().get(&full) {
            return known.clone();
        }
        self.decided_by(this, peer, direction, key);
        self.calico_sides
            .borrow()
            .get(&full)
            .cloned()
            .unwrap_or_default()
    }

    /// Every address block of every rule in one direction (NetworkPolicy's and Cilium's
    /// ipBlocks, the tiers' `networks`, Calico's `nets`): the boundaries that split the address
    /// space into segments where verdicts are constant.
    pub fn ip_blocks(&self, direction: Direction) -> Vec<&crate::net::ip::IpSet> {
        self.cluster
            .policies
            .network
            .iter()
            .flat_map(|p| p.rules(direction))
            .flat_map(|r| r.peers.iter().flatten())
            .filter_map(|peer| match peer {
                Peer::IpBlock { set, .. } => Some(set),
                Peer::Pods { .. } => None,
            })
            // The cluster-wide tiers' egress `networks`.
            .chain(
                self.cluster
                    .policies
                    .tiered
                    .iter()
                    .flat_map(|p| p.rules(direction))
                    .flat_map(|r| &r.peers)
                    .filter_map(|peer| match peer {
                        crate::cnp::Peer::Networks { set, .. } => Some(set),
                        _ => None,
                    }),
            )
            // Calico's rules: the addresses each one names (`nets` less `notNets`).
            .chain(self.calico.iter().flat_map(move |calico| {
                calico
                    .peers
                    .iter()
                    .flat_map(move |dirs| dirs[dir_index(direction)].iter())
                    .filter(|m| !m.everyone && !m.ips.is_empty())
                    .map(|m| &m.ips)
            }))
            .collect()
    }
}

/// Workloads that share namespace and labels match every selector alike: each class is matched
/// once, by a representative; classes are filed by namespace and label, so a selector bound to
/// some namespaces looks only at theirs, and one with `matchLabels` only at those with its label.
struct Classes<'c> {
    /// (representative workload, members)
    classes: Vec<(usize, Vec<usize>)>,
    /// The classes by namespace and label.
    index: LabelIndex<'c, &'c str>,
    /// The namespaces by label, for `namespaceSelector`s likewise.
    namespaces: NamespaceIndex<'c>,
}

impl<'c> Classes<'c> {
    fn new(cluster: &'c Cluster, host_network: HostNetwork) -> Self {
        let mut class_of: HashMap<(&str, &crate::model::labels::Labels), usize> = HashMap::new();
        let mut classes: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut index = LabelIndex::default();
        for (i, w) in cluster.workloads.iter().enumerate() {
            if w.host_network && host_network == HostNetwork::Node {
                continue; // its traffic carries the node's address: no pod selector matches it
            }
            let class = *class_of
                .entry((&w.namespace, &w.labels))
                .or_insert_with(|| {
                    classes.push((i, Vec::new()));
                    index.insert(w.namespace.as_str(), classes.len() - 1, &w.labels);
                    classes.len() - 1
                });
            classes[class].1.push(i);
        }
        Classes {
            classes,
            index,
            namespaces: NamespaceIndex::new(&cluster.namespaces),
        }
    }

    /// The workloads of `namespace` whose labels `selector` matches.
    fn select_in(&self, cluster: &Cluster, namespace: &str, selector: &Selector, set: &mut BitSet) {
        for &class in self.index.candidates(namespace, selector) {
            let (rep, members) = &self.classes[class];
            if selector.matches(&cluster.workloads[*rep].labels) {
                for &w in members {
                    set.insert(w);
                }
            }
        }
    }
}

fn peer_match(
    cluster: &Cluster,
    policy: &NetworkPolicy,
    rule: &Rule,
    classes: &Classes,
    calico: Option<&crate::calico::eval::PodAddresses>,
    cilium: bool,
) -> PeerMatch {
    let n = cluster.workloads.len();
    let Some(peers) = &rule.peers else {
        return PeerMatch {
            everyone: true,
            workloads: BitSet::new(n),
            ips: Default::default(),
        };
    };
    let mut workloads = BitSet::new(n);
    let mut ips = crate::net::ip::IpSet::default();
    let everything = Selector::default();
    for peer in peers {
        match peer {
            Peer::Pods { namespaces, pods } => {
                let pods = pods.as_ref().unwrap_or(&everything);
                match namespaces {
                    None => classes.select_in(cluster, &policy.namespace, pods, &mut workloads),
                    Some(sel) => {
                        for ns in classes.namespaces.matching(sel) {
                            classes.select_in(cluster, &ns.name, pods, &mut workloads);
                        }
                    }
                }
            }
            // Cilium's CIDR selectors select neither pods nor nodes (`cilium::cidr_addresses`),
            // nor does a NetworkPolicy's ipBlock when Cilium enforces it.
            Peer::IpBlock { set, .. } if cilium || policy.cilium.is_some() => {
                ips = ips.union(&crate::cilium::cidr_addresses(cluster, set));
            }
            Peer::IpBlock { set, .. } => {
                ips = ips.union(set);
                // Pods whose addresses are known (cluster dumps) match by address; under
                // Calico, which turns the block into `nets`, pods in the block match too.
                for (i, w) in cluster.workloads.iter().enumerate() {
                    let matches = match calico {
                        Some(pods) => !w.host_network && pods.may_be_in(w, set),
                        None => w.ips.iter().any(|ip| set.contains(*ip)),
                    };
                    if matches {
                        workloads.insert(i);
                    }
                }
            }
        }
    }
    PeerMatch {
        everyone: false,
        workloads,
        ips,
    }
}

/// Who the rules of the cluster-wide policies name and what their ports are, and which policies
/// have rules for each workload, in the pipeline's order. Host-network pods are neither subjects
/// nor `namespaces`/`pods` peers of these policies (the API says so), whatever the CNI does for
/// NetworkPolicy.
#[allow(clippy::type_complexity)]
fn layers(
    cluster: &Cluster,
    classes: &Classes,
) -> (
    Vec<[Vec<PeerMatch>; 2]>,
    Vec<[Vec<Option<ConnSet>>; 2]>,
    Vec<[Vec<usize>; 2]>,
) {
    let n = cluster.workloads.len();
    let host: Vec<usize> = (0..n)
        .filter(|&w| cluster.workloads[w].host_network)
        .collect();
    let pods = |which: &cnp::Pods, set: &mut BitSet| {
        let everything = Selector::default();
        let (namespaces, pods) = match which {
            cnp::Pods::Namespaces(ns) => (ns, &everything),
            cnp::Pods::Pods { namespaces, pods } => (namespaces, pods),
        };
        for ns in classes.namespaces.matching(namespaces) {
            classes.select_in(cluster, &ns.name, pods, set);
        }
        for &w in &host {
            set.remove(w);
        }
    };
    let mut order: Vec<usize> = (0..cluster.policies.tiered.len()).collect();
    let key = |c: &usize| {
        let p: &ClusterPolicy = &cluster.policies.tiered[*c];
        (p.tier, p.priority, &p.kind, &p.name)
    };
    crate::sort::sort_by(&mut order, |a, b| key(a).cmp(&key(b)));
    let mut layered = vec![[Vec::new(), Vec::new()]; n];
    let mut peers = vec![[Vec::new(), Vec::new()]; cluster.policies.tiered.len()];
    let mut fixed = vec![[Vec::new(), Vec::new()]; cluster.policies.tiered.len()];
    for c in order {
        let policy = &cluster.policies.tiered[c];
        let mut subject = BitSet::new(n);
        pods(&policy.subject, &mut subject);
        for d in [Direction::Ingress, Direction::Egress] {
            let rules = policy.rules(d);
            if rules.is_empty() {
                continue; // no rules: the policy does not affect that direction
            }
            for w in subject.iter() {
                layered[w][dir_index(d)].push(c);
            }
            for rule in rules {
                let mut workloads = BitSet::new(n);
                let mut ips = crate::net::ip::IpSet::default();
                for peer in &rule.peers {
                    match peer {
                        cnp::Peer::Pods(which) => pods(which, &mut workloads),
                        // Cilium's deny rules: CIDR selectors select neither pods nor nodes
                        // (`cilium::cidr_addresses`).
                        cnp::Peer::Networks { set, .. }
                            if crate::cilium::KINDS.contains(&policy.kind.as_str()) =>
                        {
                            ips = ips.union(&crate::cilium::cidr_addresses(cluster, set));
                        }
                        cnp::Peer::Networks { set, .. } => {
                            ips = ips.union(set);
                            for (i, w) in cluster.workloads.iter().enumerate() {
                                if w.ips.iter().any(|ip| set.contains(*ip)) {
                                    workloads.insert(i);
                                }
                            }
                        }
                        // Cilium's deny rules naming every node (`host` with `remote-node`):
                        // as its allow rules, the nodes' addresses and every host-network pod.
                        cnp::Peer::Nodes(_)
                            if crate::cilium::KINDS.contains(&policy.kind.as_str()) =>
                        {
                            let (nodes, pods) = crate::cilium::node_peers(cluster);
                            ips = ips.union(&nodes);
                            pods.into_iter().for_each(|w| workloads.insert(w));
                        }
                        // The addresses of the matching nodes, and the host-network pods that
                        // have them.
                        cnp::Peer::Nodes(selector) => {
                            for node in cluster.nodes.iter().filter(|n| selector.matches(&n.labels))
                            {
                                for &ip in &node.addresses {
                                    ips = ips.union(&crate::net::ip::IpSet::address(ip));
                                }
                                for (i, w) in cluster.workloads.iter().enumerate() {
                                    if w.ips.iter().any(|ip| node.addresses.contains(ip)) {
                                        workloads.insert(i);
                                    }
                                }
                            }
                        }
                        // Not resolvable offline (INP007): they match nothing here.
                        cnp::Peer::DomainNames(_) => {}
                    }
                }
                peers[c][dir_index(d)].push(PeerMatch {
                    everyone: false,
                    workloads,
                    ips,
                });
                fixed[c][dir_index(d)].push(fixed_conns(rule.ports.as_deref()));
            }
        }
    }
    (peers, fixed, layered)
}
