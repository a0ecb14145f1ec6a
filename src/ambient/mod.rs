//! The ambient overlay: who is in the mesh, the CNI profiles, and the context every ambient rule
//! reads (DOMAIN.md sections 2 to 4).

pub mod authz;
pub mod mesh;
pub mod paths;
pub mod service_ports;
pub mod ztunnel_layer;

use foldhash::{HashMap, HashMapExt};
use std::net::IpAddr;

use crate::netpol::policy::{Direction, PortRef};
use crate::pipeline::Cluster;
use crate::pipeline::engine::{BitSet, Engine};
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
    /// Add 15008/TCP to the ports (`protocols`) of one rule of a cluster-wide policy (index
    /// into `Policies::tiered`).
    AddLayerHbonePort {
        policy: usize,
        direction: DirectionKey,
        rule: usize,
        /// The priority of the policy whose rule denies 15008 (`None`: NetworkPolicy blocks
        /// it): where the add style's separate policy must come first.
        before: Option<u32>,
    },
    /// Add 15008 to the destination `ports` of one rule of a Calico policy (index into
    /// `Policies::calico`).
    AddCalicoHbonePort {
        policy: usize,
        direction: DirectionKey,
        rule: usize,
        /// The Calico policy whose rule denies 15008 (`None`: a tier's end does): the add
        /// style's separate policy comes before it.
        blocker: Option<usize>,
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
    /// A separate policy for a gateway's or waypoint's pods (`selector`) admitting egress to
    /// istiod (its namespace and a label of its pods) on 15012/TCP and to kube-dns on 53; `policy`
    /// is the policy that isolates the proxy (the new document goes next to it).
    AddProxyPolicy {
        policy: usize,
        workload: usize,
        selector: Vec<(String, String)>,
        istiod: Option<(String, (String, String))>,
        dns: bool,
    },
    /// AMB010, edit style: attach an AuthorizationPolicy (index into
    /// `istio::Policies::authorization`) to the Service `service` with `targetRefs`, in place
    /// of its `selector` (or besides nothing: a namespace-wide one).
    AttachToService { authz: usize, service: String },
    /// AMB010, edit style: an ALLOW AuthorizationPolicy's L4 part alone, its L7 attributes
    /// deleted in place (what `authz::l4_part` writes as a separate document).
    KeepL4Part { authz: usize },
    /// Label a Service (index into `Cluster::services`) `istio.io/use-waypoint: <waypoint>`.
    LabelUseWaypoint { service: usize, waypoint: String },
    /// AMB011, edit style: a rule admitting a waypoint's principal added to an ALLOW
    /// AuthorizationPolicy (index into `istio::Policies::authorization`).
    AdmitPrincipal { authz: usize, principal: String },
}

impl FixRequest {
    /// The user's NetworkPolicy an in-place fix edits (`None` for the separate documents and
    /// the other families' policies).
    pub fn policy(&self) -> Option<usize> {
        match self {
            FixRequest::AddHbonePort { policy, .. }
            | FixRequest::AddProbeRule { policy, .. }
            | FixRequest::AddWaypointRule { policy, .. } => Some(*policy),
            FixRequest::AddWaypointPolicy { .. }
            | FixRequest::AddProxyPolicy { .. }
            | FixRequest::AddLayerHbonePort { .. }
            | FixRequest::AttachToService { .. }
            | FixRequest::KeepL4Part { .. }
            | FixRequest::LabelUseWaypoint { .. }
            | FixRequest::AdmitPrincipal { .. }
            | FixRequest::AddCalicoHbonePort { .. } => None,
        }
    }
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

/// How a connection from one workload to another travels once enrolled (DOMAIN.md section 2).
/// The one place that decides it: every rule, the AuthorizationPolicy extras, `connectivity
/// --mode ambient` and the drawn paths ask [`Context::route`] or the sets built from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// On the original port: plaintext from or to pods outside the mesh, or mTLS between two
    /// proxies (sidecar or gateway to sidecar), or from a proxy when proxies do not send HBONE.
    Direct,
    /// HBONE to 15008/TCP of the destination: ambient or proxy source, ambient destination;
    /// ambient source, sidecar destination.
    Hbone,
    /// HBONE through the destination's waypoint: source -> waypoint pod :15008, waypoint pod
    /// -> destination :15008.
    Waypoint,
}

/// Who sends mesh traffic, as the route decision tells senders apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sender {
    Ambient,
    Sidecar,
    Gateway,
}

/// Who tunnels straight to a destination (see [`Context::hbone_senders_kind`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HboneSenders {
    /// An ambient destination without a waypoint: ambient pods and proxies.
    All,
    /// An ambient destination behind a waypoint that gateways skip: gateways only.
    Gateways,
    /// A sidecar destination: ambient pods only.
    Ambient,
    None,
}

/// A mesh identity: (namespace, service account); for pods not in the input, whose service
/// account is unknown, their namespace alone.
pub type Identity<'c> = (&'c str, Option<&'c str>);

/// Everything an ambient rule reads.
pub struct Context<'c> {
    pub cluster: &'c Cluster,
    pub engine: &'c Engine<'c>,
    pub membership: Vec<Membership>,
    /// Per workload: the waypoint its mesh traffic goes through.
    pub waypoint: Vec<Option<mesh::WaypointUse>>,
    /// namespace -> waypoint name -> its pods (workloads labelled with its gateway name in its
    /// namespace).
    waypoint_pods: HashMap<String, HashMap<String, Vec<usize>>>,
    /// The workloads with a mesh identity (ambient pods and proxies), grouped by sender class
    /// ([`Engine::sender_class`]) and kind: a rule that loops over sources judges one member per
    /// group. Groups and members in input order.
    pub senders: Vec<Vec<usize>>,
    /// Per group of `senders`: one member per mesh identity ([`Context::sender_identities`]).
    sender_identities: std::cell::OnceCell<Vec<Vec<usize>>>,
    /// Workloads by the part they play in [`Context::route`].
    ambient: BitSet,
    sidecars: BitSet,
    gateways: BitSet,
    /// Ambient workloads reached without a waypoint, and those whose waypoint gateways skip.
    ambient_direct: BitSet,
    ambient_gateway_direct: BitSet,
    pub cni: Cni,
    pub probe_snat: &'c ProbeSnat,
    /// The mode in force (`Auto` resolved).
    pub mode: MeshMode,
    /// Whether proxies (sidecars, gateways) send HBONE to ambient destinations.
    pub proxy_hbone: bool,
    /// Where istiod runs.
    pub istiod_namespace: &'c str,
    /// The trust domain and root namespace of Istio's security policy.
    pub istio: crate::istio::ztunnel::Settings<'c>,
    /// How the fix is written: the rules whose fix is a separate document in the add style
    /// (AMB010) ask for an edit in the edit style.
    pub fix_style: FixStyle,
}

impl<'c> Context<'c> {
    pub fn new(engine: &'c Engine<'c>, options: &'c crate::Options) -> Self {
        let cluster = engine.cluster;
        let mode = mesh::effective_mode(cluster, options.mode);
        let settings = mesh::Settings {
            mode,
            excluded: &options.exclude_namespaces,
        };
        let membership: Vec<Membership> = cluster
            .workloads
            .iter()
            .map(|w| mesh::membership(cluster, w, settings))
            .collect();
        let mut waypoint_pods: HashMap<String, HashMap<String, Vec<usize>>> = HashMap::new();
        for (i, w) in cluster.workloads.iter().enumerate() {
            if membership[i] == Membership::Outside(mesh::Reason::Waypoint)
                && let Some(name) = w.labels.get(mesh::GATEWAY_NAME)
            {
                waypoint_pods
                    .entry(w.namespace.clone())
                    .or_default()
                    .entry(name.clone())
                    .or_default()
                    .push(i);
            }
        }
        let services = Services::new(cluster);
        // (A waypoint without pods is no hop: the tunnel goes straight to the destination.)
        let waypoint: Vec<Option<mesh::WaypointUse>> = cluster
            .workloads
            .iter()
            .map(|w| {
                mesh::waypoint_of(cluster, w, &services.selecting(w)).filter(|use_| {
                    waypoint_pods
                        .get(&use_.namespace)
                        .is_some_and(|by_name| by_name.contains_key(&use_.name))
                })
            })
            .collect();
        let n = cluster.workloads.len();
        let set = |pred: &dyn Fn(usize) -> bool| {
            let mut set = BitSet::new(n);
            for i in (0..n).filter(|&i| pred(i)) {
                set.insert(i);
            }
            set
        };
        let ambient = set(&|i| membership[i].is_ambient());
        let sidecars = set(&|i| membership[i] == Membership::Sidecar);
        let gateways = set(&|i| matches!(membership[i], Membership::Gateway(_)));
        let ambient_direct = set(&|i| membership[i].is_ambient() && waypoint[i].is_none());
        let ambient_gateway_direct = set(&|i| {
            membership[i].is_ambient() && waypoint[i].as_ref().is_some_and(|w| !w.ingress)
        });
        let mut senders: Vec<Vec<usize>> = Vec::new();
        let mut group_of: HashMap<(crate::pipeline::engine::Class, Membership), usize> =
            HashMap::new();
        for (w, m) in membership.iter().enumerate() {
            if m.in_mesh() {
                let key = (engine.sender_class(w), *m);
                let group = *group_of.entry(key).or_insert_with(|| {
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
            sender_identities: std::cell::OnceCell::new(),
            ambient,
            sidecars,
            gateways,
            ambient_direct,
            ambient_gateway_direct,
            cni: options.cni,
            probe_snat: &options.probe_snat,
            mode,
            proxy_hbone: options.proxy_hbone,
            istiod_namespace: &options.istiod_namespace,
            istio: crate::istio::ztunnel::Settings {
                trust_domain: &options.trust_domain,
                root_namespace: &options.istio_root_namespace,
            },
            fix_style: options.fix_style,
        }
    }

    /// The distinct mesh identities of the members of each group of [`Context::senders`], as
    /// one member for each ([`Context::identity`]), in the identities' order: an
    /// AuthorizationPolicy names a group's identities (`authz::policy_for`), not its members one
    /// by one, and one that would name more than its limit is refused at once.
    pub fn sender_identities(&self) -> &[Vec<usize>] {
        self.sender_identities.get_or_init(|| {
            self.senders
                .iter()
                .map(|members| {
                    let mut identities: Vec<(Identity, usize)> =
                        members.iter().map(|&s| (self.identity(s), s)).collect();
                    crate::sort::sort(&mut identities);
                    identities.dedup_by_key(|(identity, _)| *identity);
                    identities.into_iter().map(|(_, s)| s).collect()
                })
                .collect()
        })
    }

    /// Workload `w`'s mesh identity.
    pub fn identity(&self, w: usize) -> Identity<'c> {
        let w = &self.cluster.workloads[w];
        let account = (!w.is_inferred()).then(|| w.service_account.as_deref().unwrap_or("default"));
        (w.namespace.as_str(), account)
    }

    /// Whether any of `workloads` is an Istio proxy (a sidecar or a gateway).
    pub fn has_proxy(&self, workloads: &BitSet) -> bool {
        workloads.intersects(&self.sidecars) || workloads.intersects(&self.gateways)
    }

    /// NetworkPolicy `policy`'s `ns/name` ([`crate::pipeline::Cluster::policy_name`]).
    pub fn policy_name(&self, policy: usize) -> String {
        self.cluster
            .policy_name(crate::pipeline::PolicyRef::Network(policy))
    }

    /// The policy a new rule goes to among those isolating a workload: the most specific one
    /// (fewest selected workloads; on a tie, one with a real selector rather than a namespace-wide
    /// `podSelector: {}`), so a namespace's default-deny stays a default-deny.
    pub fn fix_target(&self, policies: &[usize]) -> Option<usize> {
        policies.iter().copied().min_by_key(|&p| {
            (
                self.engine.selected(p).count(),
                self.cluster.policies.network[p].pod_selector.is_empty(),
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

    /// The first pod of the waypoint a destination's traffic goes through.
    pub fn waypoint_pod(&self, d: usize) -> Option<usize> {
        self.waypoint[d]
            .as_ref()
            .and_then(|w| self.waypoint_pods(&w.name, &w.namespace).first().copied())
    }

    pub fn workload_name(&self, workload: usize) -> String {
        self.cluster.workloads[workload].qualified_name()
    }

    /// How a workload sends mesh traffic: `None` when it sends none (outside the mesh, or a
    /// proxy when proxies do not send HBONE).
    pub fn sender(&self, s: usize) -> Option<Sender> {
        match self.membership[s] {
            Membership::Ambient => Some(Sender::Ambient),
            Membership::Sidecar if self.proxy_hbone => Some(Sender::Sidecar),
            Membership::Gateway(_) if self.proxy_hbone => Some(Sender::Gateway),
            _ => None,
        }
    }

    /// How traffic from `s` to `d` travels once enrolled.
    pub fn route(&self, s: usize, d: usize) -> Route {
        let through_waypoint = |gateway: bool| {
            self.waypoint[d]
                .as_ref()
                .is_some_and(|w| !gateway || w.ingress)
        };
        match (self.sender(s), self.membership[d]) {
            (Some(sender), Membership::Ambient) => {
                if through_waypoint(sender == Sender::Gateway) {
                    Route::Waypoint
                } else {
                    Route::Hbone
                }
            }
            (Some(Sender::Ambient), Membership::Sidecar) => Route::Hbone,
            _ => Route::Direct,
        }
    }

    /// Every workload that opens HBONE tunnels ([`Context::sender`]): ambient pods, and proxies
    /// when they send HBONE.
    pub fn tunnellers(&self) -> BitSet {
        let mut set = self.ambient.clone();
        if self.proxy_hbone {
            set.union_with(&self.sidecars);
            set.union_with(&self.gateways);
        }
        set
    }

    /// Which senders tunnel straight to `d`: destinations of one kind have the same
    /// [`Context::hbone_senders`].
    pub fn hbone_senders_kind(&self, d: usize) -> HboneSenders {
        match self.membership[d] {
            Membership::Ambient if self.ambient_direct.contains(d) => HboneSenders::All,
            Membership::Ambient if self.proxy_hbone && self.ambient_gateway_direct.contains(d) => {
                HboneSenders::Gateways
            }
            Membership::Sidecar => HboneSenders::Ambient,
            _ => HboneSenders::None,
        }
    }

    /// The workloads that tunnel straight to `d` ([`Route::Hbone`]).
    pub fn hbone_senders(&self, d: usize) -> BitSet {
        let mut set = BitSet::new(self.membership.len());
        match self.hbone_senders_kind(d) {
            HboneSenders::All => set = self.tunnellers(),
            HboneSenders::Gateways => set.union_with(&self.gateways),
            HboneSenders::Ambient => set.union_with(&self.ambient),
            HboneSenders::None => {}
        }
        set
    }

    /// The workloads `s` tunnels straight to ([`Route::Hbone`]).
    pub fn hbone_receivers(&self, s: usize) -> BitSet {
        let mut set = self.ambient_direct.clone();
        match self.sender(s) {
            Some(Sender::Ambient) => set.union_with(&self.sidecars),
            Some(Sender::Sidecar) => {}
            Some(Sender::Gateway) => set.union_with(&self.ambient_gateway_direct),
            None => return BitSet::new(self.membership.len()),
        }
        set
    }

    /// Whether a workload can be its own peer (it runs more than one pod).
    pub fn replicated(&self, w: usize) -> bool {
        self.cluster.workloads[w].replicated
    }

    /// "the ingress gateway `ns/name` (an Istio proxy, which tunnels to ambient pods over
    /// HBONE)": how a message names a source whose kind matters.
    pub fn describe_sender(&self, s: usize) -> String {
        let name = crate::rules::describe(self, s);
        match self.membership[s] {
            Membership::Gateway(kind) => format!(
                "the {} {name} (an Istio proxy, which tunnels to ambient pods over HBONE)",
                kind.as_str()
            ),
            Membership::Sidecar => format!(
                "the sidecar client {name} (an Istio proxy, which tunnels to ambient pods over HBONE)"
            ),
            _ => name,
        }
    }
}

/// Services by namespace, to find the ones selecting a workload.
struct Services<'c> {
    by_namespace: HashMap<&'c str, Vec<&'c crate::model::Service>>,
}

impl<'c> Services<'c> {
    fn new(cluster: &'c Cluster) -> Self {
        let mut by_namespace: HashMap<&str, Vec<&crate::model::Service>> = HashMap::new();
        for s in &cluster.services {
            by_namespace
                .entry(s.namespace.as_str())
                .or_default()
                .push(s);
        }
        Services { by_namespace }
    }

    fn selecting(&self, w: &crate::model::Workload) -> Vec<&'c crate::model::Service> {
        self.by_namespace
            .get(w.namespace.as_str())
            .map(|list| {
                list.iter()
                    .copied()
                    .filter(|s| s.selector.matches(&w.labels))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Context<'_> {
    /// What flows from one workload to another once enrolled: mesh TCP goes through the HBONE
    /// tunnel (directly, or through the destination's waypoint), so NetworkPolicy sees only
    /// 15008/TCP: every TCP port when the tunnel is admitted on every hop, none otherwise. UDP,
    /// SCTP and traffic on the original port keep their plain verdict.
    pub fn ambient_conns(&self, s: usize, d: usize) -> std::rc::Rc<crate::net::conn::ConnSet> {
        use crate::net::conn::{ConnSet, Protocol};
        use crate::pipeline::engine::Endpoint;
        let plain = self
            .engine
            .allowed_between(Endpoint::Workload(s), Endpoint::Workload(d));
        let hbone = |from: usize, to: usize| {
            self.engine
                .allowed_between(Endpoint::Workload(from), Endpoint::Workload(to))
                .contains(Protocol::Tcp, HBONE_PORT)
        };
        let tunnel = match self.route(s, d) {
            Route::Direct => return plain,
            Route::Hbone => hbone(s, d),
            Route::Waypoint => {
                let w = self
                    .waypoint_pod(d)
                    .expect("a waypoint route has a waypoint pod");
                hbone(s, w) && hbone(w, d)
            }
        };
        let not_tcp = plain.subtract(&ConnSet::all_of(Protocol::Tcp));
        std::rc::Rc::new(if tunnel {
            not_tcp.union(&ConnSet::all_of(Protocol::Tcp))
        } else {
            not_tcp
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Context, Route};
    use crate::{Options, Source, pipeline};

    /// Namespaces `amb` (ambient, its Service `b` through waypoint `wp`; `c` through it for
    /// gateways too), `side` (sidecar injection), `out` (neither), `istio-ingress` (a gateway).
    const CLUSTER: &str = "
apiVersion: v1
kind: Namespace
metadata: {name: amb, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Namespace
metadata: {name: side, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: out}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: wp, namespace: amb}
spec: {gatewayClassName: istio-waypoint}
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: amb, labels: {istio.io/use-waypoint: wp}}
spec: {selector: {app: b}}
---
apiVersion: v1
kind: Service
metadata: {name: c, namespace: amb, labels: {istio.io/use-waypoint: wp, istio.io/ingress-use-waypoint: 'true'}}
spec: {selector: {app: c}}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: amb, labels: {app: a}}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: amb, labels: {app: b}}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: amb, labels: {app: c}}
---
apiVersion: v1
kind: Pod
metadata: {name: s, namespace: side, labels: {app: s}}
---
apiVersion: v1
kind: Pod
metadata: {name: o, namespace: out, labels: {app: o}}
---
apiVersion: v1
kind: Pod
metadata: {name: gw, namespace: istio-ingress, labels: {istio: ingressgateway}}
";

    /// The route of every (source, destination) among a, b, c, s, o and gw.
    fn routes(options: &Options) -> Vec<String> {
        let loaded = crate::load(&[Source {
            name: "c.yaml",
            text: CLUSTER,
        }]);
        let mut cluster = loaded.cluster;
        cluster.add_inferred();
        let engine = pipeline::engine::Engine::new(&cluster);
        let cx = Context::new(&engine, options);
        let index = |name: &str| {
            cluster
                .workloads
                .iter()
                .position(|w| w.name == name)
                .expect("the pod is in the cluster")
        };
        let names = ["a", "b", "c", "s", "o", "gw"];
        let mut out = Vec::new();
        for from in names {
            for to in names.iter().filter(|&&to| to != from) {
                let route = match cx.route(index(from), index(to)) {
                    Route::Direct => continue,
                    Route::Hbone => "hbone",
                    Route::Waypoint => "waypoint",
                };
                out.push(format!("{from}->{to} {route}"));
            }
        }
        out
    }

    #[test]
    fn who_sends_hbone_to_whom() {
        let options = Options {
            mode: crate::ambient::mesh::MeshMode::Labels,
            ..Options::default()
        };
        assert_eq!(
            routes(&options),
            [
                // Ambient sources: HBONE to ambient (through the Services' waypoint) and to
                // sidecar pods.
                "a->b waypoint",
                "a->c waypoint",
                "a->s hbone",
                "b->a hbone",
                "b->c waypoint",
                "b->s hbone",
                "c->a hbone",
                "c->b waypoint",
                "c->s hbone",
                // A sidecar tunnels to ambient pods (and uses their waypoints), keeps mTLS on
                // the original port to sidecars.
                "s->a hbone",
                "s->b waypoint",
                "s->c waypoint",
                // The gateway skips a waypoint unless the Service says ingress-use-waypoint.
                "gw->a hbone",
                "gw->b hbone",
                "gw->c waypoint",
            ]
        );
        let off = Options {
            proxy_hbone: false,
            ..options
        };
        assert_eq!(
            routes(&off),
            [
                "a->b waypoint",
                "a->c waypoint",
                "a->s hbone",
                "b->a hbone",
                "b->c waypoint",
                "b->s hbone",
                "c->a hbone",
                "c->b waypoint",
                "c->s hbone",
            ]
        );
    }
}
