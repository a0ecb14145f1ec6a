//! The ambient overlay: who is in the mesh, the CNI profiles, and the context every ambient rule
//! reads (DOMAIN.md sections 2 to 4).

pub mod authz;
pub mod mesh;
pub mod paths;

use std::collections::HashMap;
use std::net::IpAddr;

use crate::model::Cluster;
use crate::netpol::eval::Engine;
use crate::netpol::policy::{Direction, PortRef};
use mesh::{Membership, MeshMode};

/// The default SNAT address of kubelet probes for ambient pods (istio-cni `HOST_PROBE_SNAT_IP`).
pub const PROBE_SNAT_IPV4: &str = "169.254.7.127";
/// The IPv6 default (`HOST_PROBE_SNAT_IPV6`).
pub const PROBE_SNAT_IPV6: &str = "fd16:9254:7127:1337:ffff:ffff:ffff:ffff";
/// HBONE: ztunnel's tunnel port on the destination pod.
pub const HBONE_PORT: u16 = 15008;

/// The CNI that enforces NetworkPolicy: it decides whether SNATed probes are blocked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Cni {
    /// Unknown CNI: probes "may be blocked".
    #[default]
    Generic,
    /// Blocks them under a default-deny (only its own host identity is exempt; Istio issue 49277).
    Cilium,
    /// No source found for its verdict on the SNAT address: "may be blocked".
    Calico,
    /// Blocks them under a deny-all ingress policy (Istio issue 56983, OpenShift Service Mesh 3).
    OvnKubernetes,
}

impl Cni {
    pub fn parse(text: &str) -> Option<Cni> {
        match text {
            "generic" => Some(Cni::Generic),
            "cilium" => Some(Cni::Cilium),
            "calico" => Some(Cni::Calico),
            "ovn-kubernetes" | "ovn" => Some(Cni::OvnKubernetes),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cni::Generic => "generic",
            Cni::Cilium => "cilium",
            Cni::Calico => "calico",
            Cni::OvnKubernetes => "ovn-kubernetes",
        }
    }

    /// Whether this CNI is known to block SNATed probes that no policy admits.
    pub fn blocks_probes(self) -> bool {
        matches!(self, Cni::Cilium | Cni::OvnKubernetes)
    }
}

/// Where kubelet probes of ambient pods come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeSnat {
    /// istio-cni SNATs them to these link-local addresses.
    Addresses(Vec<IpAddr>),
    /// `useHostIPForProbeSnat`: the node's own IP, which CNIs exempt as node traffic.
    HostIp,
}

impl Default for ProbeSnat {
    fn default() -> Self {
        ProbeSnat::Addresses(vec![PROBE_SNAT_IPV4.parse().expect("a valid IPv4 literal")])
    }
}

/// How ambient findings are fixed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FixStyle {
    /// Edit the user's policies in place (smallest edits).
    #[default]
    Edit,
    /// Leave them untouched and add separate, additive policies.
    Add,
}

/// A change that makes ambient work, as data; `crate::fix` turns it into edits or documents.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FixRequest {
    /// Add `port: 15008, protocol: TCP` to the ports of one rule.
    AddHbonePort {
        policy: usize,
        direction: DirectionKey,
        rule: usize,
    },
    /// Add an ingress rule admitting the probe SNAT addresses (on these ports; all when empty).
    AddProbeRule { policy: usize, ports: Vec<PortKey> },
    /// A separate policy for a waypoint's own pods admitting 15008/TCP from (ingress) and to
    /// (egress) mesh pods; `policy` is the policy that isolates the waypoint (the new document
    /// goes next to it).
    AddWaypointPolicy {
        policy: usize,
        waypoint: String,
        waypoint_namespace: String,
        ingress: bool,
        egress: bool,
    },
    /// Add a rule admitting 15008/TCP from (ingress) or to (egress) the waypoint's pods.
    AddWaypointRule {
        policy: usize,
        direction: DirectionKey,
        waypoint: String,
        waypoint_namespace: String,
    },
}

/// `Direction` with an order, for sorting requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DirectionKey {
    Ingress,
    Egress,
}

impl From<Direction> for DirectionKey {
    fn from(d: Direction) -> Self {
        match d {
            Direction::Ingress => DirectionKey::Ingress,
            Direction::Egress => DirectionKey::Egress,
        }
    }
}

impl From<DirectionKey> for Direction {
    fn from(d: DirectionKey) -> Self {
        match d {
            DirectionKey::Ingress => Direction::Ingress,
            DirectionKey::Egress => Direction::Egress,
        }
    }
}

/// A probe port as the probe names it (a number, or a container port name).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortKey {
    Number(u16),
    Name(String),
}

impl From<&PortRef> for PortKey {
    fn from(p: &PortRef) -> Self {
        match p {
            PortRef::Number(n) => PortKey::Number(*n),
            PortRef::Name(n) => PortKey::Name(n.clone()),
        }
    }
}

/// Everything an ambient rule reads.
pub struct Context<'c> {
    pub cluster: &'c Cluster,
    pub engine: &'c Engine<'c>,
    pub membership: Vec<Membership>,
    /// Per workload: the waypoint (name, namespace) its mesh traffic goes through.
    pub waypoint: Vec<Option<(String, String)>>,
    /// namespace -> waypoint name -> its pods (workloads labelled with its gateway name in its
    /// namespace).
    waypoint_pods: HashMap<String, HashMap<String, Vec<usize>>>,
    /// The ambient workloads grouped by sender class ([`Engine::sender_class`]): a rule that
    /// loops over sources judges one member per group. Groups and members in input order.
    pub senders: Vec<Vec<usize>>,
    pub cni: Cni,
    pub probe_snat: &'c ProbeSnat,
    /// The mode in force (`Auto` resolved).
    pub mode: MeshMode,
}

impl<'c> Context<'c> {
    pub fn new(
        engine: &'c Engine<'c>,
        mode: MeshMode,
        cni: Cni,
        probe_snat: &'c ProbeSnat,
    ) -> Self {
        let cluster = engine.cluster;
        let mode = mesh::effective_mode(cluster, mode);
        let membership: Vec<Membership> = cluster
            .workloads
            .iter()
            .map(|w| mesh::membership(cluster, w, mode))
            .collect();
        let waypoint = cluster
            .workloads
            .iter()
            .map(|w| mesh::waypoint_of(cluster, w))
            .collect();
        let mut waypoint_pods: HashMap<String, HashMap<String, Vec<usize>>> = HashMap::new();
        for (i, w) in cluster.workloads.iter().enumerate() {
            if let Some(name) = w.labels.get(mesh::GATEWAY_NAME) {
                waypoint_pods
                    .entry(w.namespace.clone())
                    .or_default()
                    .entry(name.clone())
                    .or_default()
                    .push(i);
            }
        }
        let mut senders: Vec<Vec<usize>> = Vec::new();
        let mut group_of: HashMap<crate::netpol::eval::Class, usize> = HashMap::new();
        for (w, m) in membership.iter().enumerate() {
            if m.is_ambient() {
                let group = *group_of.entry(engine.sender_class(w)).or_insert_with(|| {
                    senders.push(Vec::new());
                    senders.len() - 1
                });
                senders[group].push(w);
            }
        }
        Context {
            cluster,
            engine,
            membership,
            waypoint,
            waypoint_pods,
            senders,
            cni,
            probe_snat,
            mode,
        }
    }

    pub fn policy_name(&self, policy: usize) -> String {
        self.cluster.policies[policy].qualified_name()
    }

    /// The policy a new rule goes to among those isolating a workload: the most specific one
    /// (fewest selected workloads; on a tie, one with a real selector rather than a namespace-wide
    /// `podSelector: {}`), so a namespace's default-deny stays a default-deny.
    pub fn fix_target(&self, policies: &[usize]) -> Option<usize> {
        policies.iter().copied().min_by_key(|&p| {
            (
                self.engine.selected(p).count(),
                self.cluster.policies[p].pod_selector.is_empty(),
            )
        })
    }

    /// The pods of a waypoint (workloads labelled with its gateway name in its namespace).
    pub fn waypoint_pods(&self, name: &str, namespace: &str) -> &[usize] {
        self.waypoint_pods
            .get(namespace)
            .and_then(|by_name| by_name.get(name))
            .map_or(&[], Vec::as_slice)
    }

    pub fn workload_name(&self, workload: usize) -> String {
        self.cluster.workloads[workload].qualified_name()
    }
}

impl Context<'_> {
    /// What flows from one workload to another once enrolled: mesh TCP goes through the HBONE
    /// tunnel (directly, or through the destination's waypoint), so NetworkPolicy sees only
    /// 15008/TCP: every TCP port when the tunnel is admitted on every hop, none otherwise. UDP,
    /// SCTP and traffic with a pod outside the mesh keep their plain verdict.
    pub fn ambient_conns(&self, s: usize, d: usize) -> std::rc::Rc<crate::netpol::conn::ConnSet> {
        use crate::netpol::conn::{ConnSet, Protocol};
        use crate::netpol::eval::Endpoint;
        let plain = self
            .engine
            .allowed_between(Endpoint::Workload(s), Endpoint::Workload(d));
        if !self.membership[s].is_ambient() || !self.membership[d].receives_hbone() {
            return plain;
        }
        let hbone = |from: usize, to: usize| {
            self.engine
                .allowed_between(Endpoint::Workload(from), Endpoint::Workload(to))
                .contains(Protocol::Tcp, HBONE_PORT)
        };
        let waypoint_pods = self.waypoint[d]
            .as_ref()
            .map_or(&[][..], |(name, ns)| self.waypoint_pods(name, ns));
        let tunnel = match waypoint_pods.first() {
            Some(&w) if w != s => hbone(s, w) && hbone(w, d),
            _ => hbone(s, d),
        };
        let not_tcp = plain.subtract(&ConnSet::all_of(Protocol::Tcp));
        std::rc::Rc::new(if tunnel {
            not_tcp.union(&ConnSet::all_of(Protocol::Tcp))
        } else {
            not_tcp
        })
    }
}
