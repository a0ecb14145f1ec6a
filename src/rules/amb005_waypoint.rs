#![doc = include_str!("docs/AMB005.md")]

use foldhash::HashMap;

use super::{Output, describe, names};
use crate::ambient::{Context, DirectionKey, FixRequest, HBONE_PORT, Route};
use crate::cnp::Action;
use crate::findings::{Code, Finding};
use crate::net::Direction;
use crate::net::conn::Protocol;
use crate::pipeline::engine::{BitSet, Decider, Endpoint};
use crate::pipeline::{Layer, PolicyRef, RuleRef};

/// Where a hop is blocked: the workload whose policies block it, and in which direction.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Block<'a> {
    workload: usize,
    direction: DirectionKey,
    /// The waypoint (namespace, name): one finding per waypoint the block breaks.
    waypoint: (&'a str, &'a str),
}

/// The sources and the destinations of the pairs a block breaks.
struct Broken {
    sources: BitSet,
    destinations: BitSet,
    /// The other end of the blocked hop, first seen (to ask who blocks it).
    peer: usize,
}

pub fn check(cx: &Context, out: &mut Output) {
    let n = cx.cluster.workloads.len();
    let mut blocks = Blocks {
        n,
        list: Vec::new(),
        found: HashMap::default(),
    };
    // The waypoint's number, name and first pod: the groups come in the waypoints' order.
    let (mut number, mut last) = (0, None);
    // The blocks of the hop to the waypoint (sources' egress), by group of senders: the members
    // in some pair and the destinations of their pairs, added when the waypoint's groups are
    // done (each member's block is the union of its pairs').
    let mut to_waypoint_blocks: Vec<Option<(BitSet, BitSet)>> = vec![None; cx.senders.len()];
    // Traffic on the tunnel's port alone: not app traffic.
    let tunnel_only = crate::net::ranges::Ranges::span(HBONE_PORT, HBONE_PORT);

    // Ambient destinations behind a waypoint, grouped by waypoint and receiver class: every
    // member of a group is judged alike, and so is every member of a group of senders.
    let groups = super::grouped(
        (0..n).filter(|&d| cx.waypoint[d].is_some() && cx.membership[d].is_ambient()),
        |d| (&cx.waypoint[d], cx.engine.receiver_class(d)),
    );
    let tunnel = |from: usize, to: usize, direction: Direction| {
        let (this, peer) = match direction {
            Direction::Egress => (from, to),
            Direction::Ingress => (to, from),
        };
        cx.engine
            .conns(cx.engine.allowed_id(this, peer, direction))
            .contains(Protocol::Tcp, HBONE_PORT)
    };

    for ((waypoint, _), destinations) in groups {
        let Some(waypoint) = waypoint else { continue };
        let pods = cx.waypoint_pods(&waypoint.name, &waypoint.namespace);
        let Some(&w) = pods.first() else { continue };
        let key = (waypoint.namespace.as_str(), waypoint.name.as_str());
        if let Some((last_key, last_w)) = last
            && last_key != key
        {
            blocks.add_to_waypoint(cx, &mut to_waypoint_blocks, last_w, (number, last_key));
            number += 1;
        }
        last = Some((key, w));
        // The blocks of the hop to the destinations (their ingress), as `to_waypoint_blocks`.
        let mut to_destination_blocks: Option<(BitSet, BitSet)> = None;
        let d = destinations[0];
        // Whether the tunnel passes the waypoint's hop to the destinations, both sides.
        let to_destination = (
            tunnel(w, d, Direction::Egress),
            tunnel(w, d, Direction::Ingress),
        );
        // A sender group is one kind of sender, and the destinations share their waypoint: the
        // route of one pair is the route of all.
        for (group, sources) in cx.senders.iter().enumerate() {
            let s = sources[0];
            if cx.route(s, d) != Route::Waypoint {
                continue;
            }
            // Only traffic NetworkPolicy allows today is broken by the waypoint: app traffic, not
            // 15008 itself (a fix that admits the tunnel both ways allows it "today" too).
            let allowed = cx
                .engine
                .allowed_between(Endpoint::Workload(s), Endpoint::Workload(d));
            let tcp = allowed.of(Protocol::Tcp);
            if tcp.is_empty() || *tcp == tunnel_only {
                continue;
            }
            // Whether the tunnel passes the hop from the sources to the waypoint, both sides.
            let to_waypoint = (
                tunnel(s, w, Direction::Egress),
                tunnel(s, w, Direction::Ingress),
            );
            // The pairs are every (source, destination) of the two groups but a workload with
            // itself: keep the members that are in some pair.
            let (from, to) = (
                super::paired(cx, sources, destinations.iter().copied()),
                super::paired(cx, &destinations, sources.iter().copied()),
            );
            if from.is_empty() {
                continue;
            }
            // The two groups' members as sets, made when a hop is blocked.
            let sets = std::cell::OnceCell::new();
            let sets = || sets.get_or_init(|| (BitSet::of(n, &from), BitSet::of(n, &to)));
            let waypoint = (number, key);
            // The layers that deny 15008/TCP on a blocked hop's side (`this` towards `peer`),
            // one bit per layer.
            let mut layers = 0u8;
            let draw = out.draw;
            let mut blocked_by = |this: usize, peer: usize, direction: Direction| {
                if draw {
                    layers |= 1 << super::hbone_layer(cx, this, peer, direction) as u8;
                }
            };
            let mut blocked = false;
            // Hop 1: source -> waypoint; hop 2: waypoint -> destination.
            if !to_waypoint.0 {
                blocked_by(s, w, Direction::Egress);
                let (from_set, to_set) = sets();
                if from_set.contains(w) {
                    // The waypoint's own pod: its block may be another hop's, added now.
                    blocks.add_members(cx, (from_set, to_set), w, DirectionKey::Egress, waypoint);
                } else {
                    join(&mut to_waypoint_blocks[group], n, from_set, to_set);
                }
                blocked = true;
            }
            if !to_waypoint.1 {
                blocked_by(w, s, Direction::Ingress);
                let (from, to) = sets();
                let (from, to) = (Side::All(from), Side::All(to));
                blocks.add(w, s, DirectionKey::Ingress, waypoint, from, to);
                blocked = true;
            }
            if !to_destination.0 {
                blocked_by(w, d, Direction::Egress);
                let (from, to) = sets();
                let (from, to) = (Side::All(from), Side::All(to));
                blocks.add(w, d, DirectionKey::Egress, waypoint, from, to);
                blocked = true;
            }
            if !to_destination.1 {
                blocked_by(d, w, Direction::Ingress);
                let (from_set, to_set) = sets();
                if to_set.contains(w) {
                    blocks.add_members(cx, (from_set, to_set), w, DirectionKey::Ingress, waypoint);
                } else {
                    join(&mut to_destination_blocks, n, from_set, to_set);
                }
                blocked = true;
            }
            // Every pair of the two groups, once per layer that blocks a hop (a workload of one
            // pod is not its own peer: the reader of `blocked` leaves it out).
            if blocked && draw {
                let (sources, _) = sets();
                for layer in Layer::ALL
                    .into_iter()
                    .filter(|&l| layers & 1 << l as u8 != 0)
                {
                    out.blocked.push(crate::ambient::paths::Block {
                        sources: sources.clone(),
                        destinations: to.clone(),
                        layer,
                    });
                }
            }
        }
        if let Some((from, to)) = &to_destination_blocks {
            blocks.add_members(cx, (from, to), w, DirectionKey::Ingress, (number, key));
        }
    }
    if let Some((key, w)) = last {
        blocks.add_to_waypoint(cx, &mut to_waypoint_blocks, w, (number, key));
    }
    let mut blocks = blocks.list;

    crate::sort::sort_by(&mut blocks, |a, b| a.0.cmp(&b.0));
    let mut named = Named {
        cx,
        sets: HashMap::default(),
        rules: HashMap::default(),
    };
    for (block, broken) in &blocks {
        let (namespace, name) = block.waypoint;
        let (namespace, name) = (namespace.to_string(), name.to_string());
        let direction = Direction::from(block.direction);
        let side = cx
            .engine
            .workload_side(block.workload, broken.peer, direction);
        if let Decider::Calico(..) = side.decider(Protocol::Tcp, HBONE_PORT)
            && let Some(hop) = super::hbone_calico::hop_block(cx, &side, direction)
        {
            // The finding is on the rule that lets the hop's other traffic through, else on the
            // Deny, else (a tier's end denies everything on the hop) on the first policy of the
            // pipeline that selects the pod.
            let at = hop.through.or(hop.blocker_rule).or_else(|| {
                cx.engine
                    .calico_layered(block.workload, direction)
                    .first()
                    .map(|&c| (c, usize::MAX))
            });
            let Some((fc, fr)) = at else {
                continue;
            };
            let mut finding = cx.cluster.rule_finding(
                Code::Amb005,
                format!(
                    "mesh traffic {} goes through waypoint `{namespace}/{name}` (istio.io/use-waypoint), and {} denies 15008/TCP on that hop ({} the waypoint's pods): this traffic is allowed today, the waypoint hop blocks it once enrolled",
                    named.pair(broken),
                    hop.describe,
                    if direction == Direction::Ingress { "from" } else { "to" },
                ),
                &RuleRef::calico(fc, direction, fr),
            );
            match hop.through {
                Some((tc, tr)) => {
                    finding.fixable = true;
                    finding.fix = Some(format!(
                        "add 15008 to the `destination.ports` of {}, which lets the hop's other TCP traffic through: the tunnel is then allowed for the same peers only, and the Deny is not touched",
                        named.rule(RuleRef::calico(tc, direction, tr)),
                    ));
                    out.fixes.push(FixRequest::AddCalicoHbonePort {
                        policy: tc,
                        direction: block.direction,
                        rule: tr,
                        blocker: hop.blocker_policy,
                    });
                }
                None => {
                    finding.fix = Some(format!(
                        "no automatic fix: a Deny is never changed. Before this rule, allow 15008/TCP {} the waypoint's pods only (`selector: gateway.networking.k8s.io/gateway-name == '{name}'`, `namespaceSelector: projectcalico.org/name == '{namespace}'`)",
                        if direction == Direction::Ingress {
                            "from"
                        } else {
                            "to"
                        },
                    ));
                }
            }
            out.findings.push(finding);
            continue;
        }
        if let Decider::Layer(c, r, _) = side.decider(Protocol::Tcp, HBONE_PORT) {
            let mut finding = layer_block(&mut named, c, r, direction, &namespace, &name, broken);
            // A rule of the same tier that lets the hop's other TCP traffic through (the
            // waypoint's pods are among its peers): 15008/TCP added to it, as AMB001 and AMB002
            // do on these policies.
            if let Some((tc, tr)) = super::hbone_tiers::through_rule(&side, (c, r)) {
                let through = &cx.cluster.policies.tiered[tc];
                finding.fixable = true;
                finding.fix = Some(format!(
                    "add 15008/TCP to {} (`{}`), which {} other TCP traffic on this hop: the tunnel is then {} for the same peers only, and the Deny is not widened",
                    named.rule(RuleRef::tiered(tc, direction, tr)),
                    if through.kind == "ClusterNetworkPolicy" {
                        "tcp: {destinationPort: {number: 15008}}"
                    } else {
                        "portNumber: {protocol: TCP, port: 15008}"
                    },
                    match through.rules(direction)[tr].action {
                        Action::Pass => "passes on",
                        _ => "accepts",
                    },
                    match through.rules(direction)[tr].action {
                        Action::Pass => "passed on",
                        _ => "accepted",
                    },
                ));
                out.fixes.push(FixRequest::AddLayerHbonePort {
                    policy: tc,
                    direction: block.direction,
                    rule: tr,
                    before: Some(cx.cluster.policies.tiered[c].priority),
                });
            }
            out.findings.push(finding);
            continue;
        }
        let policies = cx.engine.isolating(block.workload, direction);
        let Some(target) = cx.fix_target(policies) else {
            continue;
        };
        let is_waypoint = cx
            .waypoint_pods(&name, &namespace)
            .contains(&block.workload);
        let hop = match (is_waypoint, block.direction) {
            (false, DirectionKey::Ingress) => format!(
                "the destination {} sees the waypoint's pods as the source, and its ingress policies do not admit them on 15008/TCP",
                describe(cx, block.workload)
            ),
            (false, DirectionKey::Egress) => format!(
                "the source {} must reach the waypoint's pods on 15008/TCP, and its egress policies do not admit that",
                describe(cx, block.workload)
            ),
            (true, DirectionKey::Ingress) => {
                "the waypoint's own ingress policies do not admit 15008/TCP from the clients"
                    .to_string()
            }
            (true, DirectionKey::Egress) => {
                "the waypoint's own egress policies do not admit 15008/TCP to the destination"
                    .to_string()
            }
        };
        let mut finding = Finding::new(
            Code::Amb005,
            format!(
                "mesh traffic {} goes through waypoint `{namespace}/{name}` (istio.io/use-waypoint), and {hop}: NetworkPolicy allows this traffic today, the waypoint hop blocks it once enrolled",
                named.pair(broken),
            ),
            Some(cx.cluster.policy_location(PolicyRef::Network(target))),
        );
        finding.policy = Some(cx.policy_name(target));
        finding.workload = Some(cx.workload_name(block.workload));
        finding.fixable = true;
        if is_waypoint {
            finding.fix = Some(format!(
                "add a policy `allow-ambient-waypoint-{name}` that admits 15008/TCP {} mesh pods for the waypoint's pods only (the waypoint enforces Istio's AuthorizationPolicies itself)",
                if direction == Direction::Ingress {
                    "from"
                } else {
                    "to"
                }
            ));
            let (ingress, egress) = (
                direction == Direction::Ingress,
                direction == Direction::Egress,
            );
            out.fixes.push(FixRequest::AddWaypointPolicy {
                policy: target,
                waypoint: name.clone(),
                waypoint_namespace: namespace.clone(),
                ingress,
                egress,
            });
        } else {
            finding.fix = Some(format!(
                "add an {} rule to `{}` admitting 15008/TCP {} the pods of waypoint `{name}`",
                direction.as_str(),
                cx.policy_name(target),
                if direction == Direction::Ingress {
                    "from"
                } else {
                    "to"
                }
            ));
            out.fixes.push(FixRequest::AddWaypointRule {
                policy: target,
                direction: block.direction,
                waypoint: name.clone(),
                waypoint_namespace: namespace.clone(),
            });
        }
        out.findings.push(finding);
    }
}

/// The blocks found, and where each is by (workload, direction, waypoint number): a hop is
/// blocked for many pairs, so it is looked up by numbers, and the blocks sorted once.
struct Blocks<'a> {
    n: usize,
    list: Vec<(Block<'a>, Broken)>,
    found: HashMap<(usize, DirectionKey, usize), usize>,
}

impl<'a> Blocks<'a> {
    /// `at` blocks the pairs of `from` x `to` on the hop to or from `peer`, for the waypoint
    /// (its number, its namespace and name).
    fn add(
        &mut self,
        at: usize,
        peer: usize,
        direction: DirectionKey,
        (number, waypoint): (usize, (&'a str, &'a str)),
        from: Side,
        to: Side,
    ) {
        let (list, n) = (&mut self.list, self.n);
        let i = *self
            .found
            .entry((at, direction, number))
            .or_insert_with(|| {
                list.push((
                    Block {
                        workload: at,
                        direction,
                        waypoint,
                    },
                    Broken {
                        sources: BitSet::new(n),
                        destinations: BitSet::new(n),
                        peer,
                    },
                ));
                list.len() - 1
            });
        let broken = &mut list[i].1;
        from.put(&mut broken.sources);
        to.put(&mut broken.destinations);
    }

    /// The blocks of the hop between each member of a pair of groups (`from`, `to`) and
    /// waypoint pod `w`: a source's egress (`Egress`) blocks its pairs' destinations, a
    /// destination's ingress (`Ingress`) its pairs' sources.
    fn add_members(
        &mut self,
        cx: &Context,
        (from, to): (&BitSet, &BitSet),
        w: usize,
        direction: DirectionKey,
        waypoint: (usize, (&'a str, &'a str)),
    ) {
        match direction {
            DirectionKey::Egress => {
                for x in from.iter() {
                    let to = Side::others(cx, to, x);
                    self.add(x, w, direction, waypoint, Side::One(x), to);
                }
            }
            DirectionKey::Ingress => {
                for x in to.iter() {
                    let from = Side::others(cx, from, x);
                    self.add(x, w, direction, waypoint, from, Side::One(x));
                }
            }
        }
    }

    /// The blocks of the hop to waypoint pod `w` gathered by group of senders
    /// ([`Blocks::add_members`]).
    fn add_to_waypoint(
        &mut self,
        cx: &Context,
        groups: &mut [Option<(BitSet, BitSet)>],
        w: usize,
        waypoint: (usize, (&'a str, &'a str)),
    ) {
        for (from, to) in groups.iter_mut().filter_map(Option::take) {
            self.add_members(cx, (&from, &to), w, DirectionKey::Egress, waypoint);
        }
    }
}

/// Adds the members of a pair of groups (`from`, `to`) to those gathered.
fn join(gathered: &mut Option<(BitSet, BitSet)>, n: usize, from: &BitSet, to: &BitSet) {
    let (f, t) = gathered.get_or_insert_with(|| (BitSet::new(n), BitSet::new(n)));
    f.union_with(from);
    t.union_with(to);
}

/// The workloads on one side of the pairs a blocked hop breaks.
enum Side<'s> {
    One(usize),
    All(&'s BitSet),
    /// All but a workload of one pod, paired with the others only (see `rules::distinct`).
    AllBut(&'s BitSet, usize),
}

impl<'s> Side<'s> {
    /// The members of `set` that pair with `x`.
    fn others(cx: &Context, set: &'s BitSet, x: usize) -> Side<'s> {
        if set.contains(x) && !super::distinct(cx, x, x) {
            Side::AllBut(set, x)
        } else {
            Side::All(set)
        }
    }

    /// Adds this side's workloads to `set`.
    fn put(self, set: &mut BitSet) {
        match self {
            Side::One(x) => set.insert(x),
            Side::All(members) => set.union_with(members),
            Side::AllBut(members, x) => {
                let had = set.contains(x);
                set.union_with(members);
                if !had {
                    set.remove(x);
                }
            }
        }
    }
}

/// The names of the pairs and rules the findings speak of, each made once: the blocks of a
/// waypoint share their sets (every member of a sender group blocks the same destinations) and
/// their rules.
struct Named<'c, 'b> {
    cx: &'c Context<'c>,
    /// By set of senders (`true`) or of receivers.
    sets: HashMap<(bool, &'b BitSet), String>,
    rules: HashMap<RuleRef, String>,
}

impl<'b> Named<'_, 'b> {
    /// "from `a`, `b` and 3 more to `c`".
    fn pair(&mut self, broken: &'b Broken) -> String {
        let cx = self.cx;
        let from = self
            .sets
            .entry((true, &broken.sources))
            .or_insert_with(|| super::sender_names(cx, &broken.sources))
            .clone();
        let to = self
            .sets
            .entry((false, &broken.destinations))
            .or_insert_with(|| names(cx, &broken.destinations));
        format!("from {from} to {to}")
    }

    /// [`crate::pipeline::Cluster::rule_name`].
    fn rule(&mut self, rule: RuleRef) -> String {
        let cluster = self.cx.cluster;
        self.rules
            .entry(rule)
            .or_insert_with_key(|rule| cluster.rule_name(rule))
            .clone()
    }
}

/// A waypoint hop whose 15008/TCP a cluster-wide rule denies: reported on that rule, without an
/// automatic fix (a Deny is never widened; the rule to add before it is named).
fn layer_block<'b>(
    named: &mut Named<'_, 'b>,
    c: usize,
    r: usize,
    direction: Direction,
    namespace: &str,
    name: &str,
    broken: &'b Broken,
) -> Finding {
    let rule = RuleRef::tiered(c, direction, r);
    let message = format!(
        "mesh traffic {} goes through waypoint `{namespace}/{name}` (istio.io/use-waypoint), and {} denies 15008/TCP on that hop ({} the waypoint's pods): this traffic is allowed today, the waypoint hop blocks it once enrolled",
        named.pair(broken),
        named.rule(rule.clone()),
        if direction == Direction::Ingress {
            "from"
        } else {
            "to"
        },
    );
    let mut finding = named.cx.cluster.rule_finding(Code::Amb005, message, &rule);
    finding.fix = Some(format!(
        "no automatic fix: a Deny is never widened. Before this rule, add one that accepts 15008/TCP {} the waypoint's pods only: `pods: {{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {namespace}}}}}, podSelector: {{matchLabels: {{gateway.networking.k8s.io/gateway-name: {name}}}}}}}` (the waypoint enforces Istio's AuthorizationPolicies itself)",
        if direction == Direction::Ingress {
            "from"
        } else {
            "to"
        },
    ));
    finding
}

#[cfg(test)]
mod tests {
    /// Traffic on 15008 alone is the tunnel, not app traffic a waypoint hop could break: a fix
    /// that admits 15008 on both sides allows it "today" too, and AMB005 then appeared on the
    /// fixed text only (the fix property test withheld such fixes).
    #[test]
    fn only_app_traffic_allowed_today_is_broken_by_the_waypoint() {
        let app =
            include_str!("../../tests/fixtures/waypoint-destination-admits-client-only/app.yaml");
        let codes = |ports: &str| {
            let text = app.replace("    ports:\n    - port: 9090\n      protocol: TCP\n", ports);
            assert_ne!(text, app, "the fixture's rule was found");
            crate::analyze(
                &[crate::Source {
                    name: "app.yaml",
                    text: &text,
                }],
                &crate::Options::default(),
            )
            .findings
            .iter()
            .map(|f| f.code.id())
            .collect::<Vec<_>>()
        };
        let tunnel_only = codes("    ports:\n    - port: 15008\n      protocol: TCP\n");
        assert!(!tunnel_only.contains(&"AMB005"), "{tunnel_only:?}");
        let app_port_too = codes(
            "    ports:\n    - port: 9090\n      protocol: TCP\n    - port: 15008\n      protocol: TCP\n",
        );
        assert!(app_port_too.contains(&"AMB005"), "{app_port_too:?}");
    }
}
