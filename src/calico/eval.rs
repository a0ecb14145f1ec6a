//! What Calico's policies select and match, precomputed for `pipeline::engine`'s pipeline (which
//! runs the tiers): per policy the endpoints it applies to, per rule who its peer side names,
//! which of the selected endpoints its own side keeps, and its connections; per workload the
//! policies that select it in the pipeline's order; and the tiers in order.
//!
//! Endpoints are labelled as Calico labels them: a pod's labels plus
//! `projectcalico.org/namespace`, `projectcalico.org/orchestrator: k8s` and
//! `projectcalico.org/serviceaccount`; a namespace's plus `projectcalico.org/name`.
//!
//! Addresses: Calico matches `nets` (and a Kubernetes `ipBlock`, which it turns into `nets`)
//! against pod addresses too. Pods whose addresses the input has (cluster dumps) are matched by
//! them; otherwise by the pod ranges given (`--pod-cidr`): a block matches the pods when it
//! overlaps a pod range, a `notNets` block excludes them when it covers every pod range.
//! Without pod ranges the analysis assumes pods fall inside every `nets` block (but a single
//! address or a link-local range) and outside every `notNets` block, and says so.

use foldhash::{HashMap, HashMapExt};

use super::{Action, CalicoPolicy, CalicoSelector, DEFAULT_TIER, Entity, KUBERNETES_ORDER, Tier};
use crate::model::labels::Labels;
use crate::model::{Model, Workload};
use crate::net::Direction;
use crate::net::bitset::{BitSet, PeerMatch};
use crate::net::conn::ConnSet;
use crate::net::ip::IpSet;
use crate::netpol::ports_conns;

/// The default tier's order (Calico's: after the Kubernetes admin tier at 1,000, before the
/// baseline tier at 10,000,000).
pub const DEFAULT_TIER_ORDER: f64 = 1_000_000.0;

/// Calico's tier of the Kubernetes AdminNetworkPolicies (`kube-admin`): Calico tiers ordered
/// below it come before them.
pub const ADMIN_TIER_ORDER: f64 = 1_000.0;

/// The order of Calico's tier of BaselineAdminNetworkPolicies: tiers ordered after it, and tiers
/// without an order (last of all), come after the Baseline tier.
pub const BASELINE_TIER_ORDER: f64 = 10_000_000.0;

/// Where a Calico tier runs in the pipeline, by its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Before the Admin tier (order below 1,000).
    BeforeAdmin,
    /// Between the Admin and the Baseline tier (the default tier among them).
    BeforeBaseline,
    /// After the Baseline tier (order 10,000,000 and above, or none).
    AfterBaseline,
}

impl Stage {
    pub fn of(order: Option<f64>) -> Stage {
        match order {
            Some(o) if o < ADMIN_TIER_ORDER => Stage::BeforeAdmin,
            Some(o) if o < BASELINE_TIER_ORDER => Stage::BeforeBaseline,
            _ => Stage::AfterBaseline,
        }
    }
}

/// Where the pods' addresses are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodAddresses {
    /// `--pod-cidr`s; `None`: unknown (pods are assumed inside `nets`, outside `notNets`).
    pub ranges: Option<IpSet>,
}

impl PodAddresses {
    /// Whether a pod of `workload` may have an address in `set`.
    pub fn may_be_in(&self, workload: &Workload, set: &IpSet) -> bool {
        if !workload.ips.is_empty() {
            return workload.ips.iter().any(|ip| set.contains(*ip));
        }
        match &self.ranges {
            None => may_hold_pods(set),
            Some(pods) => !pods.intersect(set).is_empty(),
        }
    }

    /// Whether every pod of `workload` surely has an address in `set`.
    pub fn surely_in(&self, workload: &Workload, set: &IpSet) -> bool {
        if !workload.ips.is_empty() {
            return workload.ips.iter().all(|ip| set.contains(*ip));
        }
        match &self.ranges {
            None => false,
            Some(pods) => set.contains_all(pods),
        }
    }
}

/// Without pod ranges: whether a block may hold pod addresses. Single addresses (a host, a
/// probe SNAT address) and link-local ranges (169.254.0.0/16, fe80::/10) never do; any other
/// block is assumed to.
fn may_hold_pods(set: &IpSet) -> bool {
    let link_local = ["169.254.0.0/16", "fe80::/10"]
        .iter()
        .filter_map(|c| crate::net::ip::Cidr::parse(c).ok())
        .fold(IpSet::default(), |acc, c| acc.union(&c.set()));
    let rest = set.subtract(&link_local);
    rest.v4.spans().iter().any(|(lo, hi)| lo < hi) || rest.v6.spans().iter().any(|(lo, hi)| lo < hi)
}

/// A tier in the pipeline's order.
#[derive(Clone, Debug)]
pub struct TierPlan {
    pub name: String,
    pub order: Option<f64>,
    /// What happens to traffic its policies select but no rule decides: Deny or Pass.
    pub default_action: Action,
}

/// One step of a tier for a workload: a Calico policy, or the Kubernetes NetworkPolicies (the
/// default tier's policies of order 1000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Policy(usize),
    Kubernetes,
}

#[derive(Default)]
pub struct Precomputed {
    pub tiers: Vec<TierPlan>,
    /// Per policy: its tier's index in `tiers`.
    pub tier_of: Vec<usize>,
    /// Per policy, per direction (ingress, egress): who its rules' peer side names.
    pub peers: Vec<[Vec<PeerMatch>; 2]>,
    /// Per policy, per direction, per rule: the selected endpoints its own side keeps (`None`:
    /// all of them).
    pub subjects: Vec<[Vec<Option<BitSet>>; 2]>,
    /// Per policy, per direction, per rule: its connections unless named ports make them
    /// depend on the destination.
    pub fixed: Vec<[Vec<Option<ConnSet>>; 2]>,
    /// Per workload, per direction: the policies that select it, in pipeline order (tier, order,
    /// name).
    pub layered: Vec<[Vec<usize>; 2]>,
    /// Per policy: whether it comes after the Kubernetes NetworkPolicies of its tier (the
    /// default tier's policies above order 1000, or of order 1000 whose name sorts after theirs:
    /// felix breaks ties by the v1 name, `ns/name` for a NetworkPolicy, `ns/knp.default.<name>`
    /// for a Kubernetes one, so a NetworkPolicy's name is compared with `knp.default.`). For a
    /// GlobalNetworkPolicy of order 1000 this depends on the pod's namespace: see
    /// [`Precomputed::comes_after_kubernetes`].
    pub after_kubernetes: Vec<bool>,
    /// Per policy: its name when it is a default-tier GlobalNetworkPolicy of order 1000, whose
    /// place among a namespace's Kubernetes NetworkPolicies (`ns/knp.default.<name>`) depends on
    /// the namespace.
    pub global_ties: Vec<Option<String>>,
    /// Per workload: its namespace (for `global_ties`).
    pub workload_namespaces: Vec<String>,
    pub pods: PodAddresses,
}

/// Calico's label for a pod's namespace, its orchestrator, its service account; a namespace's
/// name.
const NAMESPACE_LABEL: &str = "projectcalico.org/namespace";
const ORCHESTRATOR_LABEL: &str = "projectcalico.org/orchestrator";
const SERVICE_ACCOUNT_LABEL: &str = "projectcalico.org/serviceaccount";
const NAME_LABEL: &str = "projectcalico.org/name";

fn dir_index(d: Direction) -> usize {
    match d {
        Direction::Ingress => 0,
        Direction::Egress => 1,
    }
}

fn every_address() -> IpSet {
    let v4 = crate::net::ip::Cidr::parse("0.0.0.0/0").map(|c| c.set());
    let v6 = crate::net::ip::Cidr::parse("::/0").map(|c| c.set());
    match (v4, v6) {
        (Ok(a), Ok(b)) => a.union(&b),
        _ => IpSet::default(),
    }
}

struct Endpoints<'c> {
    cluster: &'c Model,
    /// Per workload: its labels as Calico sees them; `None` for pods Calico does not police.
    labels: Vec<Option<Labels>>,
    /// Per namespace name: its labels as Calico sees them.
    namespaces: HashMap<&'c str, Labels>,
    /// Per (namespace, name) of a service account the input has: its labels as Calico sees
    /// them (with `projectcalico.org/name`); the others carry that label alone.
    accounts: HashMap<(&'c str, &'c str), Labels>,
    pods: PodAddresses,
    /// Workloads every selector, service account and address test treats alike (same
    /// namespace, labels, service account and known addresses): (representative, members).
    groups: Vec<(usize, Vec<usize>)>,
}

impl Endpoints<'_> {
    /// Whether a service-account selector matches the account `account` of `namespace`: its
    /// labels when the input has the ServiceAccount, else its name alone.
    fn account_matches(&self, namespace: &str, account: &str, selector: &CalicoSelector) -> bool {
        match self.accounts.get(&(namespace, account)) {
            Some(labels) => selector.matches(labels),
            None => selector.matches(&crate::sort::map([(
                NAME_LABEL.to_string(),
                account.to_string(),
            )])),
        }
    }

    fn namespace_matches(&self, namespace: &str, selector: &CalicoSelector) -> bool {
        self.namespaces
            .get(namespace)
            .is_some_and(|labels| selector.matches(labels))
    }

    /// Whether workload `w` is one the entity names (ports aside). `namespace`: the policy's,
    /// for a NetworkPolicy.
    fn entity_matches(&self, entity: &Entity, namespace: Option<&str>, w: usize) -> bool {
        let Some(labels) = &self.labels[w] else {
            return false;
        };
        let workload = &self.cluster.workloads[w];
        if entity.names_endpoints() {
            let in_namespace = match (&entity.namespace_selector, namespace) {
                (Some(sel), _) => self.namespace_matches(&workload.namespace, sel),
                (None, Some(ns)) => workload.namespace == ns,
                (None, None) => true,
            };
            let account = workload.service_account.as_deref().unwrap_or("default");
            let positive = in_namespace
                && entity.selector.as_ref().is_none_or(|s| s.matches(labels))
                && entity
                    .service_account_names
                    .as_ref()
                    .is_none_or(|names| names.iter().any(|n| n == account))
                && entity
                    .service_account_selector
                    .as_ref()
                    .is_none_or(|s| self.account_matches(&workload.namespace, account, s));
            if !positive
                || entity
                    .not_selector
                    .as_ref()
                    .is_some_and(|s| s.matches(labels))
            {
                return false;
            }
        }
        entity
            .nets
            .as_ref()
            .is_none_or(|set| self.pods.may_be_in(workload, set))
            && !entity
                .not_nets
                .as_ref()
                .is_some_and(|set| self.pods.surely_in(workload, set))
    }

    fn entity_set(&self, entity: &Entity, namespace: Option<&str>) -> BitSet {
        let mut set = BitSet::new(self.labels.len());
        for (rep, members) in &self.groups {
            if self.entity_matches(entity, namespace, *rep) {
                for &w in members {
                    set.insert(w);
                }
            }
        }
        set
    }

    /// Whether the policy selects workload `w`.
    fn selects(&self, policy: &CalicoPolicy, w: usize) -> bool {
        let Some(labels) = &self.labels[w] else {
            return false;
        };
        let workload = &self.cluster.workloads[w];
        let account = workload.service_account.as_deref().unwrap_or("default");
        policy
            .namespace
            .as_ref()
            .is_none_or(|ns| *ns == workload.namespace)
            && policy
                .namespace_selector
                .as_ref()
                .is_none_or(|s| self.namespace_matches(&workload.namespace, s))
            && policy.selector.matches(labels)
            && policy
                .service_account_selector
                .as_ref()
                .is_none_or(|s| self.account_matches(&workload.namespace, account, s))
    }
}

/// Precomputes the cluster's Calico policies. `policed(w)`: whether Calico polices workload `w`
/// (host-network pods carry the node's address and have no workload endpoint).
pub fn precompute(
    cluster: &Model,
    policies: &[CalicoPolicy],
    tiers_given: &[Tier],
    policed: impl Fn(usize) -> bool,
    pods: PodAddresses,
) -> Precomputed {
    let n = cluster.workloads.len();
    let labels: Vec<Option<Labels>> = (0..n)
        .map(|w| {
            policed(w).then(|| {
                let workload = &cluster.workloads[w];
                let mut labels = workload.labels.clone();
                labels.insert(NAMESPACE_LABEL.into(), workload.namespace.clone());
                labels.insert(ORCHESTRATOR_LABEL.into(), "k8s".into());
                labels.insert(
                    SERVICE_ACCOUNT_LABEL.into(),
                    workload
                        .service_account
                        .clone()
                        .unwrap_or_else(|| "default".into()),
                );
                labels
            })
        })
        .collect();
    let namespaces = cluster
        .namespaces
        .iter()
        .map(|ns| {
            let mut labels = ns.labels.clone();
            labels.insert(NAME_LABEL.into(), ns.name.clone());
            (ns.name.as_str(), labels)
        })
        .collect();
    let mut grouped: HashMap<(&Option<Labels>, &[std::net::IpAddr]), usize> = HashMap::new();
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for (w, l) in labels.iter().enumerate() {
        if l.is_none() {
            continue;
        }
        // The Calico labels hold the namespace and the service account.
        let g = *grouped
            .entry((l, cluster.workloads[w].ips.as_slice()))
            .or_insert_with(|| {
                groups.push((w, Vec::new()));
                groups.len() - 1
            });
        groups[g].1.push(w);
    }
    drop(grouped);
    let accounts = cluster
        .service_accounts
        .iter()
        .map(|sa| {
            let mut labels = sa.labels.clone();
            labels.insert(NAME_LABEL.into(), sa.name.clone());
            ((sa.namespace.as_str(), sa.name.as_str()), labels)
        })
        .collect();
    let endpoints = Endpoints {
        cluster,
        labels,
        namespaces,
        accounts,
        pods,
        groups,
    };

    // Tiers: the Tier objects, the tiers policies name without one (defaults), the default tier.
    let mut tiers: Vec<TierPlan> = Vec::new();
    let mut add_tier = |name: &str, order: Option<f64>, default_action: Action| {
        if !tiers.iter().any(|t| t.name == name) {
            tiers.push(TierPlan {
                name: name.to_string(),
                order,
                default_action,
            });
        }
    };
    for tier in tiers_given {
        add_tier(&tier.name, tier.order, tier.default_action);
    }
    add_tier(DEFAULT_TIER, Some(DEFAULT_TIER_ORDER), Action::Deny);
    for policy in policies {
        add_tier(&policy.tier, None, Action::Deny);
    }
    crate::sort::sort_by(&mut tiers, |a, b| {
        super::by_order((a.order, &a.name), (b.order, &b.name))
    });
    let tier_of: Vec<usize> = policies
        .iter()
        .map(|p| {
            tiers
                .iter()
                .position(|t| t.name == p.tier)
                .expect("every policy's tier was added")
        })
        .collect();

    let all_ips = every_address();
    let mut peers = Vec::with_capacity(policies.len());
    let mut subjects = Vec::with_capacity(policies.len());
    let mut fixed = Vec::with_capacity(policies.len());
    let mut layered = vec![[Vec::new(), Vec::new()]; n];
    for (c, policy) in policies.iter().enumerate() {
        let namespace = policy.namespace.as_deref();
        let mut per_dir_peers = [Vec::new(), Vec::new()];
        let mut per_dir_subjects = [Vec::new(), Vec::new()];
        let mut per_dir_fixed = [Vec::new(), Vec::new()];
        for d in [Direction::Ingress, Direction::Egress] {
            if !policy.applies(d) {
                // Rules of a direction the policy does not apply to are never asked.
                for _ in policy.rules(d) {
                    per_dir_peers[dir_index(d)].push(PeerMatch {
                        everyone: false,
                        workloads: BitSet::new(n),
                        ips: IpSet::default(),
                    });
                    per_dir_subjects[dir_index(d)].push(None);
                    per_dir_fixed[dir_index(d)].push(Some(ConnSet::none()));
                }
                continue;
            }
            for (rep, members) in &endpoints.groups {
                if endpoints.selects(policy, *rep) {
                    for &w in members {
                        layered[w][dir_index(d)].push(c);
                    }
                }
            }
            for rule in policy.rules(d) {
                let peer = rule.peer(d);
                let matcher = if rule.not_analysed.is_some() {
                    PeerMatch {
                        everyone: false,
                        workloads: BitSet::new(n),
                        ips: IpSet::default(),
                    }
                } else if !peer.constrains_peer() && rule.ip_version.is_none() {
                    PeerMatch {
                        everyone: true,
                        workloads: BitSet::new(n),
                        ips: IpSet::default(),
                    }
                } else {
                    let mut ips = if !peer.matches_addresses(namespace.is_some()) {
                        IpSet::default()
                    } else {
                        peer.nets.clone().unwrap_or_else(|| all_ips.clone())
                    };
                    if let Some(not) = &peer.not_nets {
                        ips = ips.subtract(not);
                    }
                    match rule.ip_version {
                        Some(4) => {
                            ips = IpSet {
                                v4: ips.v4,
                                ..Default::default()
                            }
                        }
                        Some(6) => {
                            ips = IpSet {
                                v6: ips.v6,
                                ..Default::default()
                            }
                        }
                        _ => {}
                    }
                    PeerMatch {
                        everyone: false,
                        workloads: endpoints.entity_set(peer, namespace),
                        ips,
                    }
                };
                per_dir_peers[dir_index(d)].push(matcher);
                let own = rule.subject(d);
                per_dir_subjects[dir_index(d)].push(
                    own.constrains_peer()
                        .then(|| endpoints.entity_set(own, namespace)),
                );
                per_dir_fixed[dir_index(d)]
                    .push((!rule.has_named_ports()).then(|| rule_conns(rule, None)));
            }
        }
        peers.push(per_dir_peers);
        subjects.push(per_dir_subjects);
        fixed.push(per_dir_fixed);
    }
    // Each list in pipeline order (tier, order, name): by the policies' ranks, computed once.
    let names: Vec<String> = policies.iter().map(CalicoPolicy::qualified_name).collect();
    let mut ranked: Vec<usize> = (0..policies.len()).collect();
    crate::sort::sort_by(&mut ranked, |&a, &b| {
        let (pa, pb) = (&policies[a], &policies[b]);
        tier_of[a]
            .cmp(&tier_of[b])
            .then_with(|| super::by_order((pa.order, &names[a]), (pb.order, &names[b])))
    });
    let mut rank = vec![0usize; ranked.len()];
    for (i, &c) in ranked.iter().enumerate() {
        rank[c] = i;
    }
    for dirs in &mut layered {
        for list in dirs.iter_mut() {
            crate::sort::sort_by_key(list, |&c| rank[c]);
        }
    }
    // felix sorts a tier's policies by order, then by v1 name: `ns/name` for a NetworkPolicy
    // (libcalico-go's ConvertNetworkPolicyV3ToV1Key), the name for a GlobalNetworkPolicy; a
    // Kubernetes NetworkPolicy is the NetworkPolicy `knp.default.<name>` of its namespace.
    let after_kubernetes = policies
        .iter()
        .map(|p| {
            p.tier == DEFAULT_TIER
                && super::by_order(
                    (p.order, p.name.as_str()),
                    (Some(KUBERNETES_ORDER), "knp.default."),
                ) == std::cmp::Ordering::Greater
        })
        .collect();
    let global_ties = policies
        .iter()
        .map(|p| {
            (p.tier == DEFAULT_TIER && p.namespace.is_none() && p.order == Some(KUBERNETES_ORDER))
                .then(|| p.name.clone())
        })
        .collect();
    let workload_namespaces = cluster
        .workloads
        .iter()
        .map(|w| w.namespace.clone())
        .collect();
    Precomputed {
        tiers,
        tier_of,
        peers,
        subjects,
        fixed,
        layered,
        after_kubernetes,
        global_ties,
        workload_namespaces,
        pods: endpoints.pods,
    }
}

/// A rule's connections towards `destination` (named ports resolve against it; without a
/// destination pod they match nothing): its protocols, its destination `ports` (all when
/// absent), less its destination `notPorts`.
pub fn rule_conns(rule: &super::Rule, destination: Option<&Workload>) -> ConnSet {
    let protocols = rule.protocols();
    let ports = match &rule.destination.ports {
        None => protocols.clone(),
        Some(list) => ports_conns(Some(&rule.port_specs(list)), destination).intersect(&protocols),
    };
    match &rule.destination.not_ports {
        None => ports,
        Some(list) => {
            // A named port in `notPorts` that does not resolve excludes nothing.
            ports.subtract(&ports_conns(Some(&rule.port_specs(list)), destination))
        }
    }
}

impl Precomputed {
    /// The steps of one tier for a workload in a direction: its policies of that tier in order,
    /// with the Kubernetes NetworkPolicies in their place in the default tier when they isolate
    /// it. Empty when nothing of the tier selects it (the tier does not apply).
    pub fn steps(
        &self,
        tier: usize,
        workload: usize,
        direction: Direction,
        kubernetes: bool,
    ) -> Vec<Step> {
        let mut steps: Vec<Step> = Vec::new();
        let kubernetes = kubernetes && self.tiers[tier].name == DEFAULT_TIER;
        let mut placed = !kubernetes;
        for &c in &self.layered[workload][dir_index(direction)] {
            if self.tier_of[c] != tier {
                continue;
            }
            if !placed && self.comes_after_kubernetes(c, workload) {
                steps.push(Step::Kubernetes);
                placed = true;
            }
            steps.push(Step::Policy(c));
        }
        if !placed {
            steps.push(Step::Kubernetes);
        }
        steps
    }

    /// Whether policy `c` comes after the Kubernetes NetworkPolicies selecting `workload` (of
    /// its namespace, `ns/knp.default.<name>`).
    pub fn comes_after_kubernetes(&self, c: usize, workload: usize) -> bool {
        match &self.global_ties[c] {
            Some(name) => {
                name.as_str()
                    > format!("{}/knp.default.", self.workload_namespaces[workload]).as_str()
            }
            None => self.after_kubernetes[c],
        }
    }

    pub fn peer_match(&self, policy: usize, direction: Direction, rule: usize) -> &PeerMatch {
        &self.peers[policy][dir_index(direction)][rule]
    }

    pub fn subject_ok(&self, policy: usize, direction: Direction, rule: usize, w: usize) -> bool {
        self.subjects[policy][dir_index(direction)][rule]
            .as_ref()
            .is_none_or(|set| set.contains(w))
    }
}
