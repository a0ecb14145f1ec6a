//! One module per finding code that needs analysis beyond reading the input. Each module's
//! documentation (in `docs/<CODE>.md`) is also the text the CLI's `--explain` and the page show.

pub mod amb001_hbone_ingress;
pub mod amb002_hbone_egress;
pub mod amb003_probes;
pub mod amb004_port_restriction_lost;
pub mod amb005_waypoint;
pub mod amb006_deny_all;
pub mod amb007_not_tunneled;
pub mod amb008_not_captured;
pub mod amb009_cilium_l7;
pub mod amb010_l7_authorization;
pub mod amb011_waypoint_identity;
pub mod amb012_strict_plaintext;
pub mod amb013_proxy_control_plane;
pub mod hbone_calico;
pub mod hbone_tiers;
pub mod inp004;

use std::collections::BTreeMap;

use crate::ambient::{Context, FixRequest};
use crate::findings::Finding;
use crate::net::Direction;
use crate::net::conn::ConnSet;
use crate::pipeline::engine::BitSet;
use crate::pipeline::{Layer, RuleRef};

/// What the ambient rules produce.
#[derive(Debug, Default)]
pub struct Output {
    pub findings: Vec<Finding>,
    pub fixes: Vec<FixRequest>,
    /// Extra documents (AMB004's AuthorizationPolicies).
    pub extras: Vec<crate::fix::Generated>,
    /// The workloads whose HBONE the blocks of AMB001, AMB002 and AMB005 break, with the layer
    /// that blocks it: every source of an entry to every destination of it but itself (what the
    /// page's matrix counts when the cluster is too large to list its paths). Gathered only
    /// when `draw` asks for them.
    pub blocked: Vec<crate::ambient::paths::Block>,
    /// Whether the paths' summary will be drawn from `blocked`.
    pub draw: bool,
    /// How many of `fixes` open rules to 15008/TCP for the direct paths (AMB001, AMB002, the
    /// tiers' and Calico's rules, AMB003): the ones AMB004 judges by.
    pub opening: usize,
}

/// The layer that decides 15008/TCP on `this` side (a workload's ingress or egress) towards
/// `peer`: the isolating NetworkPolicies' without a cluster-wide or Calico policy on the side,
/// else the decider of the side's verdict (the class tables hold it).
pub fn hbone_layer(cx: &Context, this: usize, peer: usize, direction: Direction) -> Layer {
    let engine = cx.engine;
    let isolating = engine.isolating(this, direction);
    if engine.layered(this, direction).is_empty()
        && engine.calico_layered(this, direction).is_empty()
    {
        return cx.cluster.network_layer(isolating);
    }
    let side = engine.workload_side(this, peer, direction);
    let decider = side.decider(crate::net::conn::Protocol::Tcp, crate::ambient::HBONE_PORT);
    cx.cluster.decider_layer(&decider, isolating)
}

/// The rules whose errors a fix removes (what the check of a fix needs), in an order where later
/// rules can read earlier fixes; [`check_rest`] runs the others after them.
pub fn check_blocking(cx: &Context, draw: bool) -> Output {
    let mut out = Output {
        draw,
        ..Output::default()
    };
    amb001_hbone_ingress::check(cx, &mut out);
    amb002_hbone_egress::check(cx, &mut out);
    hbone_tiers::check(cx, &mut out);
    hbone_calico::check(cx, &mut out);
    amb003_probes::check(cx, &mut out);
    out.opening = out.fixes.len();
    amb005_waypoint::check(cx, &mut out);
    amb013_proxy_control_plane::check(cx, &mut out);
    out
}

/// The other rules, after [`check_blocking`] (the check of a fix that failed goes on with them
/// to make the next round's fix).
pub fn check_rest(cx: &Context, out: &mut Output) {
    amb004_port_restriction_lost::check(cx, out);
    amb006_deny_all::check(cx, out);
    amb007_not_tunneled::check(cx, out);
    amb008_not_captured::check(cx, out);
    // Istio's own policy: errors no NetworkPolicy fix removes (not `fixable`), so the check of
    // a fix does not need them.
    amb009_cilium_l7::check(cx, out);
    amb010_l7_authorization::check(cx, out);
    amb011_waypoint_identity::check(cx, out);
    amb012_strict_plaintext::check(cx, out);
}

/// Whether NetworkPolicy's verdict is the one that counts for a rule of `this` side's policies
/// towards `peer`, whose TCP ports are `tcp`: where cluster-wide policies decide 15008/TCP, or
/// decide the rule's ports before NetworkPolicy sees them, the tiers' rule (`hbone_tiers`) judges
/// instead. Always true without cluster-wide policies.
pub fn network_policy_decides(
    cx: &Context,
    this: usize,
    peer: usize,
    direction: Direction,
    tcp: &crate::net::conn::ConnSet,
) -> bool {
    use crate::net::conn::Protocol;
    use crate::pipeline::engine::Decider;
    if cx.engine.layered(this, direction).is_empty()
        && cx.engine.calico_layered(this, direction).is_empty()
    {
        return true;
    }
    // Settled by the class tables: 15008 passes, or none of the rule's ports does.
    let allowed = cx.engine.conns(cx.engine.allowed_id(this, peer, direction));
    if allowed.contains(Protocol::Tcp, crate::ambient::HBONE_PORT)
        || allowed.intersect(tcp).is_empty()
    {
        return false;
    }
    let side = cx.engine.workload_side(this, peer, direction);
    let app = tcp
        .intersect(&side.allowed)
        .subtract(&side.decided(crate::cnp::Action::Accept));
    match side.decider(Protocol::Tcp, crate::ambient::HBONE_PORT) {
        // Calico denies 15008: NetworkPolicy's rules judge when it denies after them.
        Decider::Calico(..) => hbone_calico::network_policy_judges(&side, &app),
        Decider::NetworkPolicy => !app.is_empty(),
        // A tier passes the application port on and denies 15008: its fix passes 15008 on too
        // (`hbone_tiers`), and then NetworkPolicy decides it, so its rules are judged as well.
        Decider::Layer(_, _, crate::cnp::Action::Deny) => {
            !side.isolated_by.is_empty()
                && !app
                    .intersect(&side.decided(crate::cnp::Action::Pass))
                    .is_empty()
        }
        _ => false,
    }
}

/// Under Calico, a NetworkPolicy rule's `ipBlock` matches pods too; without `--pod-cidr` the
/// verdict assumes they fall inside the block, and the finding says so (`None` otherwise).
pub fn ip_block_assumption(cx: &Context, rule: &crate::netpol::policy::Rule) -> Option<String> {
    let calico = cx.engine.calico()?;
    let blocks = rule
        .peers
        .iter()
        .flatten()
        .any(|p| matches!(p, crate::netpol::policy::Peer::IpBlock { .. }));
    (blocks && calico.pods.ranges.is_none()).then(|| {
        " (Calico matches the rule's ipBlock against pod addresses too; without --pod-cidr the verdict assumes the pods fall inside the block)".to_string()
    })
}

/// "`blocker` denies", said from the rule `this` a finding is on: "ingress rule 3 of the same
/// policy denies" when both are of one policy.
pub fn denies(cx: &Context, this: &RuleRef, blocker: &RuleRef) -> String {
    if blocker.policy().is_some() && blocker.policy() == this.policy() {
        format!(
            "{} of the same policy denies",
            cx.cluster.rule_in_policy(blocker)
        )
    } else {
        format!("{} denies", cx.cluster.rule_name(blocker))
    }
}

/// "`a/x`, `a/y` and 3 more", naming inferred workloads by what they stand for.
pub fn names(cx: &Context, set: &BitSet) -> String {
    names_by(set, |w| describe(cx, w))
}

/// [`names`] of sources, saying which of them are Istio proxies.
pub fn sender_names(cx: &Context, set: &BitSet) -> String {
    names_by(set, |w| cx.describe_sender(w))
}

fn names_by(set: &BitSet, describe: impl Fn(usize) -> String) -> String {
    let total = set.count();
    let shown = if total > SHOWN { SHOWN } else { total };
    list_of(set.iter().take(shown).map(describe).collect(), total)
}

pub fn describe(cx: &Context, workload: usize) -> String {
    let w = &cx.cluster.workloads[workload];
    if w.is_inferred() {
        w.describe()
    } else {
        format!("`{}`", w.qualified_name())
    }
}

/// How many items a list names before "and N more".
pub const SHOWN: usize = 3;

pub fn list(items: Vec<String>) -> String {
    let total = items.len();
    list_of(items, total)
}

/// [`list`] of `total` items of which `items` are the first (at least [`SHOWN`] of them when
/// there are more).
pub fn list_of(items: Vec<String>, total: usize) -> String {
    match total {
        0 => "nobody".into(),
        1 => items[0].clone(),
        n if n <= SHOWN => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
        n => format!("{} and {} more", items[..SHOWN].join(", "), n - SHOWN),
    }
}

/// The workload a finding names: the only one, or the policy's selector standing for several.
pub fn subject(cx: &Context, policy: usize, workloads: &[usize]) -> String {
    match workloads {
        [one] => cx.workload_name(*one),
        _ => {
            let p = &cx.cluster.policies.network[policy];
            match &p.namespaces {
                None => format!("{}/[{}]", p.namespace, p.pod_selector),
                Some(ns) if ns.is_empty() => format!("[{}]", p.pod_selector),
                Some(ns) => format!("[namespaces {ns}]/[{}]", p.pod_selector),
            }
        }
    }
}

/// Workloads grouped by a class (members in input order): rules judge one member per group.
pub fn grouped<K: Ord>(
    workloads: impl Iterator<Item = usize>,
    class: impl Fn(usize) -> K,
) -> BTreeMap<K, Vec<usize>> {
    let mut groups: BTreeMap<K, Vec<usize>> = BTreeMap::new();
    for w in workloads {
        groups.entry(class(w)).or_default().push(w);
    }
    groups
}

/// Who sends HBONE to `x` (ingress) or receives it from `x` (egress), by peer class: each class
/// as a set and a list (judged by its first member that is not `x`).
pub fn hbone_peer_classes(
    cx: &Context,
    x: usize,
    direction: Direction,
) -> Vec<(BitSet, Vec<usize>)> {
    let peers = match direction {
        Direction::Ingress => cx.hbone_senders(x),
        Direction::Egress => cx.hbone_receivers(x),
    };
    let n = cx.cluster.workloads.len();
    grouped(peers.iter(), |y| cx.engine.peer_class(y, direction))
        .into_values()
        .map(|m| (BitSet::of(n, &m), m))
        .collect()
}

/// The members of `one` that pair with some member of `other`: a workload is its own source or
/// destination only when it runs several pods (replicas talk to each other). (The first two of
/// `other` decide it.)
pub fn paired(cx: &Context, one: &[usize], other: impl IntoIterator<Item = usize>) -> Vec<usize> {
    let mut other = other.into_iter();
    let two = [other.next(), other.next()];
    let mut paired = Vec::with_capacity(one.len());
    paired.extend(
        one.iter()
            .copied()
            .filter(|&x| two.iter().flatten().any(|&y| y != x || cx.replicated(x))),
    );
    paired
}

/// A rule of a layer beyond NetworkPolicy (a cluster-wide tier, Calico) that lets application
/// traffic through where 15008/TCP is then denied (`through`), or the rule that denies it: the
/// subjects and peers it is between, the application ports, and who denies (`B`: the layer's
/// way of naming it).
pub struct Hit<B> {
    pub subjects: BitSet,
    pub peers: BitSet,
    pub ports: ConnSet,
    pub blocker: B,
    /// Whether the finding's rule lets the application traffic through (fixable).
    pub through: bool,
}

impl<B> Hit<B> {
    pub fn new(n: usize, blocker: B, through: bool) -> Self {
        Hit {
            subjects: BitSet::new(n),
            peers: BitSet::new(n),
            ports: ConnSet::none(),
            blocker,
            through,
        }
    }

    /// Adds the application ports `app` blocked between `members` (subjects) and
    /// `peer_members` (as a list and a set, which callers keep per peer class): the members
    /// with another peer join `subjects`, the peers `peers`, and the broken (sources,
    /// destinations) go to the page's matrix with `layer`, the layer that denies 15008/TCP
    /// between them.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        cx: &Context,
        members: &[usize],
        (peer_members, others): (&[usize], &BitSet),
        direction: Direction,
        app: &ConnSet,
        layer: Layer,
        out: &mut Output,
    ) {
        self.ports.union_with(app);
        let hit_members = paired(cx, members, peer_members.iter().copied());
        for &m in &hit_members {
            self.subjects.insert(m);
        }
        self.peers.union_with(others);
        if out.draw {
            let (sources, destinations) = match direction {
                Direction::Ingress => (others.clone(), hit_members),
                Direction::Egress => (
                    BitSet::of(cx.cluster.workloads.len(), &hit_members),
                    peer_members.to_vec(),
                ),
            };
            out.blocked.push(crate::ambient::paths::Block {
                sources,
                destinations,
                layer,
            });
        }
    }

    /// The destinations and the sources, named for a message: (to, from).
    pub fn ends(&self, cx: &Context, direction: Direction) -> (String, String) {
        match direction {
            Direction::Ingress => (names(cx, &self.subjects), sender_names(cx, &self.peers)),
            Direction::Egress => (names(cx, &self.peers), sender_names(cx, &self.subjects)),
        }
    }
}

/// Whether `x` and `y` are two pods that talk: two workloads, or one that runs several pods.
pub fn distinct(cx: &Context, x: usize, y: usize) -> bool {
    x != y || cx.replicated(x)
}

/// The set of workloads whose membership satisfies `pred`.
pub fn members(cx: &Context, pred: impl Fn(crate::ambient::mesh::Membership) -> bool) -> BitSet {
    let mut set = BitSet::new(cx.membership.len());
    for (i, m) in cx.membership.iter().enumerate() {
        if pred(*m) {
            set.insert(i);
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ambient::Cni;

    /// The layers of the blocks the HBONE findings report on a fixture's files, each once.
    fn layers(texts: &[&str], cni: Cni) -> Vec<Layer> {
        let sources: Vec<crate::Source> = texts
            .iter()
            .map(|text| crate::Source { name: "f", text })
            .collect();
        let options = crate::Options {
            cni,
            ..crate::Options::default()
        };
        let mut cluster = crate::load(&sources).cluster;
        cluster.add_inferred_for(cni == Cni::Calico);
        let engine = options.engine(&cluster);
        let cx = Context::new(&engine, &options);
        let out = check_blocking(&cx, true);
        assert!(out.blocked.iter().all(|b| !b.destinations.is_empty()));
        let mut layers: Vec<Layer> = out.blocked.iter().map(|b| b.layer).collect();
        crate::sort::sort(&mut layers);
        layers.dedup();
        layers
    }

    macro_rules! fixture {
        ($name:literal, $($file:literal),+) => {
            &[$(include_str!(concat!("../../tests/fixtures/", $name, "/", $file))),+]
        };
    }

    /// Each family's blocks carry its layer: the rule that denies 15008/TCP, not the one the
    /// finding is on (an Admin Accept's finding, the Admin tier's Deny).
    #[test]
    fn blocks_carry_the_layer_that_denies_the_tunnel() {
        use Layer::*;
        let cases: [(&[&str], Cni, Vec<Layer>); 8] = [
            (
                fixture!("client-to-server-app-port", "app.yaml"),
                Cni::Generic,
                vec![NetworkPolicy],
            ),
            (
                fixture!(
                    "cnp-admin-accept-then-deny",
                    "cluster.yaml",
                    "policies.yaml"
                ),
                Cni::Generic,
                vec![Admin],
            ),
            (
                fixture!(
                    "banp-baseline-allow-then-deny",
                    "cluster.yaml",
                    "policies.yaml"
                ),
                Cni::Generic,
                vec![Baseline],
            ),
            (
                fixture!("cilium-deny-15008", "app.yaml"),
                Cni::Cilium,
                vec![Cilium],
            ),
            (
                fixture!("cilium-cnp-admits-8080-from-frontend", "app.yaml"),
                Cni::Cilium,
                vec![Cilium],
            ),
            (
                fixture!("calico-ordered-policies", "cluster.yaml", "policies.yaml"),
                Cni::Calico,
                vec![Calico],
            ),
            // AMB005: the layer that denies a waypoint hop.
            (
                fixture!(
                    "cnp-waypoint-hop-accept-then-deny",
                    "cluster.yaml",
                    "policies.yaml"
                ),
                Cni::Generic,
                vec![Admin],
            ),
            (
                fixture!("waypoint-destination-admits-client-only", "app.yaml"),
                Cni::Generic,
                vec![NetworkPolicy],
            ),
        ];
        for (i, (texts, cni, want)) in cases.into_iter().enumerate() {
            assert_eq!(layers(texts, cni), want, "case {i}");
        }
    }
}
