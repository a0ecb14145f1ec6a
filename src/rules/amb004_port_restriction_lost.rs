#![doc = include_str!("docs/AMB004.md")]

use foldhash::{HashMap, HashMapExt, HashSet};
use std::collections::BTreeMap;

use super::Output;
use crate::ambient::authz::GuardRail;
use crate::ambient::{Context, DirectionKey, FixRequest, HBONE_PORT};
use crate::cnp::Action;
use crate::findings::{Code, Finding};
use crate::istio::ztunnel::{self, Peer};
use crate::net::conn::{ConnSet, Protocol};
use crate::netpol::policy::{Direction, PortRef};
use crate::pipeline::RuleRef;
use crate::pipeline::engine::Endpoint;
use crate::pipeline::engine::TiersKey;
use crate::pipeline::engine::{BitSet, port_conns};
use crate::pipeline::memo::ConnId;

/// The extra AuthorizationPolicies of the findings: one per destination, written once however
/// many rules ask for it.
/// A destination, and the cluster-wide (policy, rule) of a guard rail's extra.
type ExtraKey = (usize, Option<(usize, usize)>);

#[derive(Default)]
struct Extras {
    /// By destination and, for a guard rail's extra, the cluster-wide Deny rule it puts back:
    /// the document's name, or why there is none.
    authz: HashMap<ExtraKey, Result<String, String>>,
    /// Written documents by (namespace, name): the same name in another namespace is another
    /// policy (pods named alike in several namespaces are common).
    written: HashSet<(String, String)>,
}

impl Extras {
    /// Writes the extra of each destination and says so in the finding: its fix names them, its
    /// message says where none could be written. `what` ends the fix: "so mesh sources keep
    /// ...".
    #[allow(clippy::too_many_arguments)]
    fn attach(
        &mut self,
        cx: &Context,
        out: &mut Output,
        finding: &mut Finding,
        destinations: &[usize],
        rail: Option<((usize, usize), &GuardRail)>,
        what: &str,
    ) {
        const NAMED: usize = 3;
        // The first few of each, and how many (the finding names no more).
        let (mut written, mut unwritten) = (Vec::new(), Vec::new());
        let (mut written_count, mut unwritten_count) = (0, 0);
        for &d in destinations {
            let result = self.authz.entry((d, rail.map(|r| r.0))).or_insert_with(|| {
                match rail {
                    Some((_, rail)) => crate::ambient::authz::guard_rail_for(cx, d, rail),
                    None => crate::ambient::authz::policy_for(cx, d),
                }
                .map(|doc| {
                    let name = doc.name.clone();
                    let namespace = cx.cluster.workloads[d].namespace.clone();
                    if self.written.insert((namespace, name.clone())) {
                        out.extras.push(doc);
                    }
                    name
                })
            });
            match result {
                Ok(name) => {
                    if written_count < super::SHOWN {
                        written.push(format!("`{name}`"));
                    }
                    written_count += 1;
                }
                Err(why) => {
                    if unwritten_count < NAMED {
                        unwritten.push(why.clone());
                    }
                    unwritten_count += 1;
                }
            }
        }
        if unwritten_count > 0 {
            let more = unwritten_count.saturating_sub(NAMED);
            if more > 0 {
                unwritten.push(format!("for {more} more destinations"));
            }
            finding.message.push_str(&format!(
                " No AuthorizationPolicy is generated where {}.",
                unwritten.join("; ")
            ));
        }
        if written_count > 0 {
            let documents = if written_count == 1 {
                "an extra document"
            } else {
                "extra documents"
            };
            finding.fix = Some(format!(
                "apply the AuthorizationPolicy {} ({documents}) so mesh sources keep {what}",
                super::list_of(written, written_count)
            ));
        }
    }
}

/// The (policy, rule) pairs of `direction` the fixes of the direct paths open to 15008
/// ([`Output::opening`]): NetworkPolicy rules, or with `layer` the cluster-wide ones.
fn opened_rules(out: &Output, direction: DirectionKey, layer: bool) -> HashSet<(usize, usize)> {
    out.fixes[..out.opening]
        .iter()
        .filter_map(|f| match *f {
            FixRequest::AddHbonePort {
                policy,
                direction: d,
                rule,
            } if !layer && d == direction => Some((policy, rule)),
            FixRequest::AddLayerHbonePort {
                policy,
                direction: d,
                rule,
                ..
            } if layer && d == direction => Some((policy, rule)),
            _ => None,
        })
        .collect()
}

pub fn check(cx: &Context, out: &mut Output) {
    let mut extras = Extras::default();
    // The ingress rules AMB001 asks to open to 15008 (a set: a policy may have thousands).
    let opened = opened_rules(out, DirectionKey::Ingress, false);
    // Everyone who can open a tunnel to 15008 (ambient pods, and proxies when they send HBONE),
    // whatever route their traffic takes today: once 15008 is admitted, a client can address
    // the pod itself and pass a waypoint that takes only Service traffic.
    let tunnellers = cx.tunnellers();
    let mesh_destinations = super::members(cx, |m| m.receives_hbone());
    for (p, policy) in cx.cluster.policies.network.iter().enumerate() {
        let mut destinations = cx.engine.selected(p).clone();
        destinations.intersect_with(&mesh_destinations);
        if destinations.is_empty() || !policy.affects_ingress {
            continue;
        }
        for (i, rule) in policy.ingress.iter().enumerate() {
            let Some(ports) = &rule.ports else { continue };
            let admits_now = ports
                .iter()
                .any(|spec| port_conns(spec, None).contains(Protocol::Tcp, HBONE_PORT));
            let after_fix = opened.contains(&(p, i));
            if !admits_now && !after_fix {
                continue;
            }
            let peers = cx.engine.rule_peers(p, Direction::Ingress, i);
            let mut mesh_peers: BitSet = if peers.everyone {
                tunnellers.clone()
            } else {
                peers.workloads.clone()
            };
            mesh_peers.intersect_with(&tunnellers);
            if mesh_peers.is_empty() && !peers.everyone {
                continue;
            }
            // Where the user's own AuthorizationPolicies already keep every mesh peer of the rule
            // to the ports NetworkPolicy allows it, nothing is lost.
            let rule_tcp = |d: usize| {
                ports.iter().fold(ConnSet::none(), |acc, spec| {
                    acc.union(&port_conns(spec, Some(&cx.cluster.workloads[d])))
                })
            };
            let open: Vec<usize> = destinations
                .iter()
                .filter(|&d| !restricted(cx, d, &mesh_peers, peers.everyone, &rule_tcp(d)))
                .collect();
            if open.is_empty() {
                continue;
            }
            let listed: Vec<String> = ports
                .iter()
                // Every entry but the bare `15008/TCP` (a range that covers it still names ports).
                .filter(|s| {
                    !(s.protocol == Protocol::Tcp
                        && s.end_port.is_none()
                        && s.port == Some(PortRef::Number(HBONE_PORT)))
                })
                .map(|s| {
                    let port = s.port.as_ref().map_or("all".to_string(), |p| p.to_string());
                    match s.end_port {
                        Some(end) => format!("{port}-{end}/{}", s.protocol.as_str()),
                        None => format!("{port}/{}", s.protocol.as_str()),
                    }
                })
                .collect();
            let named = RuleRef::network(p, Direction::Ingress, i);
            let rule_name = cx.cluster.rule_name(&named);
            let when = if after_fix {
                format!("Once the fix adds 15008/TCP to {rule_name}")
            } else {
                format!("Because {rule_name} admits 15008/TCP")
            };
            let who = if peers.everyone && policy.cilium.is_some() {
                "every mesh client (the rule names no peer, only `toPorts`)".to_string()
            } else if peers.everyone {
                "every mesh client (the rule has no `from`)".to_string()
            } else {
                super::sender_names(cx, &mesh_peers)
            };
            // The user's AuthorizationPolicies (DENY rules, ALLOW rules on other ports) may
            // already take some ports away from some clients: say which remain.
            let who_reaches = match reachable(cx, &open, &mesh_peers, peers.everyone) {
                Some(groups) => groups,
                None => format!(
                    "{who} can reach every port of the selected pods through the HBONE tunnel"
                ),
            };
            let limited = if listed.is_empty() {
                "15008, the only port the rule lists".to_string()
            } else {
                listed.join(", ")
            };
            let enforcer = match policy.cilium {
                Some(_) => "Cilium",
                None => "NetworkPolicy",
            };
            let mut finding = cx.cluster.rule_finding(
                Code::Amb004,
                format!(
                    "{when}, {who_reaches}, not only {limited}: {enforcer} no longer enforces this port list for mesh traffic. Restrict the ports with an Istio AuthorizationPolicy (security.istio.io/v1, enforced by ztunnel at L4).",
                ),
                &named,
            );
            finding.workload = Some(super::subject(cx, p, &open));
            // The fix names the rule's own kind: a CiliumNetworkPolicy's ports are not
            // "the ports NetworkPolicy allowed".
            let what = format!("only the ports {} allowed them", policy_words(policy));
            extras.attach(cx, out, &mut finding, &open, None, &what);
            out.findings.push(finding);
        }
    }
    check_tiers(cx, out, &mut extras);
    check_calico(cx, out, &mut extras);
}

/// The same loss for Calico's Allow rules with destination ports (`--cni calico`): once such a
/// rule admits 15008 (today, or after AMB001's fix), its mesh peers reach every port of the
/// selected mesh pods through the tunnel.
fn check_calico(cx: &Context, out: &mut Output, extras: &mut Extras) {
    let Some(calico) = cx.engine.calico() else {
        return;
    };
    let opened: HashSet<(usize, usize)> = out.fixes[..out.opening]
        .iter()
        .filter_map(|f| match *f {
            FixRequest::AddCalicoHbonePort {
                policy,
                direction: DirectionKey::Ingress,
                rule,
                ..
            } => Some((policy, rule)),
            _ => None,
        })
        .collect();
    let tunnellers = cx.tunnellers();
    let mesh_destinations = super::members(cx, |m| m.receives_hbone());
    let ingress = Direction::Ingress;
    for (c, policy) in cx.cluster.policies.calico.iter().enumerate() {
        if !policy.applies(ingress) {
            continue;
        }
        let destinations: Vec<usize> = mesh_destinations
            .iter()
            .filter(|&d| cx.engine.calico_layered(d, ingress).contains(&c))
            .collect();
        if destinations.is_empty() {
            continue;
        }
        for (i, rule) in policy.ingress.iter().enumerate() {
            if rule.action != crate::calico::Action::Allow || rule.destination.ports.is_none() {
                continue;
            }
            let admits_now =
                crate::calico::eval::rule_conns(rule, None).contains(Protocol::Tcp, HBONE_PORT);
            let after_fix = opened.contains(&(c, i));
            if !admits_now && !after_fix {
                continue;
            }
            let peers = calico.peer_match(c, ingress, i);
            let mut mesh_peers: BitSet = if peers.everyone {
                tunnellers.clone()
            } else {
                peers.workloads.clone()
            };
            mesh_peers.intersect_with(&tunnellers);
            if mesh_peers.is_empty() && !peers.everyone {
                continue;
            }
            let rule_tcp =
                |d: usize| crate::calico::eval::rule_conns(rule, Some(&cx.cluster.workloads[d]));
            let open: Vec<usize> = destinations
                .iter()
                .copied()
                .filter(|&d| calico.subject_ok(c, ingress, i, d))
                .filter(|&d| !restricted(cx, d, &mesh_peers, peers.everyone, &rule_tcp(d)))
                .collect();
            if open.is_empty() {
                continue;
            }
            let listed: Vec<String> = rule
                .destination
                .ports
                .iter()
                .flatten()
                .filter(|p| **p != crate::calico::CalicoPort::Range(HBONE_PORT, HBONE_PORT))
                .map(|p| p.to_string())
                .collect();
            let named = RuleRef::calico(c, ingress, i);
            let rule_name = cx.cluster.rule_name(&named);
            let when = if after_fix && !admits_now {
                format!("Once the fix adds 15008 to {rule_name}")
            } else {
                format!("Because {rule_name} allows 15008/TCP")
            };
            let who = if peers.everyone {
                "every mesh client (the rule names no source)".to_string()
            } else {
                super::sender_names(cx, &mesh_peers)
            };
            let limited = if listed.is_empty() {
                "15008, the only port the rule lists".to_string()
            } else {
                listed.join(", ")
            };
            let mut finding = cx.cluster.rule_finding(
                Code::Amb004,
                format!(
                    "{when}, {who} can reach every port of the selected pods through the HBONE tunnel, not only {limited}: Calico no longer enforces this port list for mesh traffic. Restrict the ports with an Istio AuthorizationPolicy (security.istio.io/v1, enforced by ztunnel at L4).",
                ),
                &named,
            );
            finding.workload = open.first().map(|&d| cx.workload_name(d));
            extras.attach(
                cx,
                out,
                &mut finding,
                &open,
                None,
                "only the ports Calico allowed them",
            );
            out.findings.push(finding);
        }
    }
}

/// The same loss for the cluster-wide tiers: where the tunnel is admitted, the ports an Admin or
/// Baseline Deny rule denies a mesh client at a mesh destination pass inside it, since every
/// layer of the CNI sees 15008 only. One finding per Deny rule (its guard rail is lost for
/// mesh traffic), judged once per (tiers' key, allowed set) (`Bypass`).
fn check_tiers(cx: &Context, out: &mut Output, extras: &mut Extras) {
    if cx.cluster.policies.tiered.is_empty() {
        return;
    }
    let tunnellers = cx.tunnellers();
    let mesh_destinations = super::members(cx, |m| m.receives_hbone());
    let n = cx.cluster.workloads.len();
    // Only a side whose tiers have a Deny rule can lose one.
    let denies = |w: usize, direction: Direction| {
        cx.engine.layered(w, direction).iter().any(|&c| {
            cx.cluster.policies.tiered[c]
                .rules(direction)
                .iter()
                .any(|r| r.action == Action::Deny)
        })
    };

    // Ingress: the destination's Deny rules, for each group of its senders. What the tiers
    // decide depends on the destination's subject class and the group's peer class, so it is
    // judged once per (class, peer class); who sends is worked out per group and destination (a
    // workload of one pod is not its own sender).
    // Each group's mesh members, as a list (whose first two find a sender for any destination)
    // and a set (the Bypass's).
    let mesh_groups: Vec<Vec<usize>> = cx
        .senders
        .iter()
        .map(|group| {
            group
                .iter()
                .copied()
                .filter(|&s| tunnellers.contains(s))
                .collect()
        })
        .collect();
    let sets = mesh_groups.iter().map(|m| BitSet::of(n, m)).collect();
    let mut ingress = Bypass::new(cx, out, Direction::Ingress, sets);
    let classes = super::grouped(
        mesh_destinations
            .iter()
            .filter(|&d| denies(d, Direction::Ingress)),
        |d| cx.engine.subject_class(d, Direction::Ingress),
    );
    // A group's members share their peer class, and many groups share one.
    let by_peer: Vec<Vec<usize>> = super::grouped(
        (0..mesh_groups.len()).filter(|&g| !mesh_groups[g].is_empty()),
        |g| cx.engine.peer_class(mesh_groups[g][0], Direction::Ingress),
    )
    .into_values()
    .collect();
    for class in classes.values() {
        for groups in &by_peer {
            let mut judged = None;
            for &g in groups {
                let Some((d, s)) = class.iter().find_map(|&d| {
                    mesh_groups[g]
                        .iter()
                        .take(2)
                        .find(|&&s| super::distinct(cx, s, d))
                        .map(|&s| (d, s))
                }) else {
                    continue;
                };
                if let Some(id) = *judged.get_or_insert_with(|| ingress.judge(d, s)) {
                    ingress.lose(id, class, g);
                }
            }
        }
    }

    // Egress: the sender's Deny rules, for each class of destinations it tunnels to: its CNI
    // sees 15008/TCP to them, never the port inside.
    let sources = super::grouped(
        tunnellers.iter().filter(|&s| denies(s, Direction::Egress)),
        |s| cx.engine.subject_class(s, Direction::Egress),
    );
    let sets = sources.values().map(|m| BitSet::of(n, m)).collect();
    let mut egress = Bypass::new(cx, out, Direction::Egress, sets);
    let destinations = super::grouped(mesh_destinations.iter(), |d| {
        cx.engine.peer_class(d, Direction::Egress)
    });
    for (m, members) in sources.values().enumerate() {
        for peers in destinations.values() {
            let Some((s, d)) = members.iter().find_map(|&s| {
                peers
                    .iter()
                    .find(|&&d| super::distinct(cx, s, d))
                    .map(|&d| (s, d))
            }) else {
                continue;
            };
            if let Some(id) = egress.judge(s, d) {
                egress.lose(id, peers, m);
            }
        }
    }

    // By Deny rule (policy, direction, rule): destinations, senders, ports, whether only the fix
    // admits the tunnel.
    let mut hits: BTreeMap<(usize, DirectionKey, usize), TierHit> = BTreeMap::new();
    for bypass in [ingress, egress] {
        let direction = DirectionKey::from(bypass.direction);
        // (A judgement whose pairs reach no destination loses nothing.)
        for lost in bypass.lost.iter().filter(|l| !l.destinations.is_empty()) {
            let by_fix = lost.by_fix;
            for ((c, r), ports) in &lost.rules {
                let hit = hits.entry((*c, direction, *r)).or_insert_with(|| {
                    let none = BitSet::new(n);
                    (none.clone(), none.clone(), ConnSet::none(), true, none)
                });
                hit.0.union_with(&lost.destinations);
                hit.1.union_with(&lost.senders);
                hit.2.union_with(ports);
                hit.3 &= by_fix;
                hit.4.union_with(&lost.groups);
            }
        }
        // Whole groups of senders last, once per Deny rule.
        for (_, hit) in hits.iter_mut().filter(|(key, _)| key.1 == direction) {
            for g in hit.4.iter() {
                hit.1.union_with(&bypass.groups[g]);
            }
        }
    }

    for ((c, direction, r), (destinations, senders, ports, by_fix, _)) in hits {
        let policy = &cx.cluster.policies.tiered[c];
        let direction = Direction::from(direction);
        let named = super::names(cx, &destinations);
        let senders_named = super::sender_names(cx, &senders);
        let when = if by_fix {
            "once the fix admits the HBONE tunnel"
        } else {
            "since the HBONE tunnel is admitted"
        };
        let destinations: Vec<usize> = destinations.iter().collect();
        let what = match direction {
            Direction::Ingress => format!(
                "denies {ports} to {named}, but {when}, {senders_named} can reach those ports inside it"
            ),
            Direction::Egress => format!(
                "denies {ports} from {senders_named}, but {when}, {senders_named} can reach those ports of {named} inside it"
            ),
        };
        let named = RuleRef::tiered(c, direction, r);
        let mut finding = cx.cluster.rule_finding(
            Code::Amb004,
            format!(
                "{} {what}: every layer of the CNI sees 15008/TCP only, so this guard rail no longer holds for mesh traffic. Restrict the ports with an Istio AuthorizationPolicy (security.istio.io/v1, enforced by ztunnel at L4).",
                cx.cluster.rule_name(&named),
            ),
            &named,
        );
        finding.workload = destinations
            .first()
            .map(|&d| cx.cluster.workloads[d].qualified_name());
        let rule = &policy.rules(direction)[r];
        let rail = GuardRail {
            // An egress rule's peers are the destinations: the sources are its subjects, named
            // by their identities.
            peers: match direction {
                Direction::Ingress => Some(&rule.peers),
                Direction::Egress => None,
            },
            senders: &senders,
            ports: ports.of(Protocol::Tcp),
            rule: cx.cluster.rule_label(&named),
            id: match &rule.name {
                Some(rule) => format!("{}-{rule}", policy.name),
                None => format!("{}-{}", policy.name, r + 1),
            },
            rules: Default::default(),
        };
        extras.attach(
            cx,
            out,
            &mut finding,
            &destinations,
            Some(((c, r), &rail)),
            "out of the ports this rule denies",
        );
        out.findings.push(finding);
    }
}

/// Destinations, senders, TCP ports, whether only the fix admits the tunnel and the whole groups
/// of senders (by index, added to the senders at the end), for one Deny rule of a tier.
type TierHit = (BitSet, BitSet, ConnSet, bool, BitSet);

/// The Deny rules of the tiers that a tunnel bypasses on one side (a judgement), and what the
/// pairs judged alike lose: the destinations and senders of their tunnels.
struct Lost {
    /// Whether only the fix admits the tunnel.
    by_fix: bool,
    /// Per (policy, rule): the TCP ports it denies that pass inside.
    rules: Vec<((usize, usize), ConnSet)>,
    destinations: BitSet,
    /// The senders but whole groups: the others of a workload of one pod.
    senders: BitSet,
    /// The whole groups of senders, by index.
    groups: BitSet,
}

/// The judgements of one direction, made once per (tiers' key, allowed set).
struct Bypass<'a, 'c> {
    cx: &'a Context<'c>,
    direction: Direction,
    /// The Accept rules of this direction AMB001/AMB002 ask to open to 15008: the tunnel of
    /// the pairs they match is admitted once the fix is applied.
    opened: HashSet<(usize, usize)>,
    /// The number of each judgement in `lost`; `None`: it bypasses no Deny rule.
    judged: HashMap<(TiersKey, ConnId), Option<usize>>,
    /// What the pairs judged alike lose, by the judgement's number: a judgement is shared by
    /// many pairs of classes, and its Deny rules get its losses once, at the end.
    lost: Vec<Lost>,
    /// The groups of senders the pairs are judged for, by index.
    groups: Vec<BitSet>,
}

impl<'a, 'c> Bypass<'a, 'c> {
    fn new(cx: &'a Context<'c>, out: &Output, direction: Direction, groups: Vec<BitSet>) -> Self {
        Bypass {
            cx,
            direction,
            opened: opened_rules(out, DirectionKey::from(direction), true),
            judged: HashMap::new(),
            lost: Vec::new(),
            groups,
        }
    }

    /// Adds to what judgement `id` loses: those of `destinations` (whose Deny rules a tunnel
    /// from the senders of group `g` bypasses alike) that some mesh sender of the group reaches
    /// and whose own AuthorizationPolicies do not keep the ports, and their senders: a workload
    /// of one pod is not its own sender.
    fn lose(&mut self, id: usize, destinations: &[usize], g: usize) {
        let cx = self.cx;
        let senders = &self.groups[g];
        let lost = &mut self.lost[id];
        let own = |d: usize| senders.contains(d) && !cx.replicated(d);
        // (`restricted` leaves a workload of one pod out of its own senders too.)
        let (mut count, mut last) = (0, 0);
        for &d in destinations {
            let reached = if own(d) {
                senders.iter().take(2).any(|s| s != d)
            } else {
                !senders.is_empty()
            };
            if reached && !restricted(cx, d, senders, false, &ConnSet::none()) {
                lost.destinations.insert(d);
                (count, last) = (count + 1, d);
            }
        }
        match count {
            0 => {}
            1 if own(last) => {
                let mut others = senders.clone();
                others.remove(last);
                lost.senders.union_with(&others);
            }
            // Two destinations' senders together are all of them.
            _ => lost.groups.insert(g),
        }
    }

    /// For the side of `this` towards `peer`: what the tiers decide there and what the side
    /// allows settle it, so it is judged once per (tiers' key, allowed set), far fewer than
    /// the class pairs. The judgement's number when it bypasses some Deny rule.
    fn judge(&mut self, this: usize, peer: usize) -> Option<usize> {
        let (cx, direction) = (self.cx, self.direction);
        let key = cx.engine.tiers_key(this, peer, direction)?;
        let allowed = cx.engine.allowed_id(this, peer, direction);
        if let Some(&known) = self.judged.get(&(key, allowed)) {
            return known;
        }
        let opened = &self.opened;
        let bypassed = || {
            let side = cx.engine.tiers_side(this, peer, direction)?;
            let allowed = cx.engine.conns(allowed);
            let by_fix = !allowed.contains(Protocol::Tcp, HBONE_PORT);
            if by_fix
                && !side
                    .decided_by
                    .iter()
                    .any(|m| m.action == Action::Accept && opened.contains(&(m.policy, m.rule)))
            {
                return None;
            }
            // The TCP ports the side denies, but 15008.
            let mut kept = allowed.of(Protocol::Tcp).clone();
            kept.union_with(&crate::net::ranges::Ranges::single(HBONE_PORT));
            let denied = ConnSet::ports(Protocol::Tcp, kept.complement_within(0, u16::MAX));
            let rules: Vec<_> = side
                .decided_by
                .iter()
                .filter(|m| m.action == Action::Deny)
                .map(|m| ((m.policy, m.rule), m.conns.intersect(&denied)))
                .filter(|(_, ports)| !ports.is_empty())
                .collect();
            (!rules.is_empty()).then_some((by_fix, rules))
        };
        let n = cx.cluster.workloads.len();
        let number = bypassed().map(|(by_fix, rules)| {
            self.lost.push(Lost {
                by_fix,
                rules,
                destinations: BitSet::new(n),
                senders: BitSet::new(n),
                groups: BitSet::new(self.groups.len()),
            });
            self.lost.len() - 1
        });
        self.judged.insert((key, allowed), number);
        number
    }
}

/// Whether the AuthorizationPolicies ztunnel enforces for `d` already keep every mesh peer of a
/// rule (and, for a rule without `from`, any mesh identity) to the TCP ports NetworkPolicy allows
/// it: then admitting 15008 loses nothing.
/// Who can reach which ports of `destinations` through the tunnel, once the user's
/// AuthorizationPolicies that ztunnel enforces have had their say: "`a` can reach every port of
/// the selected pods through the HBONE tunnel and `b` every port but 5432 (what
/// AuthorizationPolicy `ns/x`, enforced by ztunnel, leaves open)". `None` when they take
/// nothing away from anyone.
fn reachable(
    cx: &Context,
    destinations: &[usize],
    mesh_peers: &BitSet,
    everyone: bool,
) -> Option<String> {
    use crate::net::ranges::Ranges;
    // Destinations alike (the same enforced policies) are judged once.
    let mut enforced: Vec<Vec<usize>> = destinations
        .iter()
        .map(|&d| {
            ztunnel::enforced(
                &cx.cluster.policies.istio,
                cx.istio,
                &cx.cluster.workloads[d],
            )
        })
        .collect();
    crate::sort::sort(&mut enforced);
    enforced.dedup();
    if enforced.iter().all(Vec::is_empty) {
        return None;
    }
    let none = Ranges::empty();
    // The ports a peer may reach on some destination, and the policies that deny it some.
    let reach = |peer: Peer, deciders: &mut Vec<usize>| {
        let mut ports = Ranges::empty();
        for policies in &enforced {
            let verdict =
                ztunnel::verdict(&cx.cluster.policies.istio, cx.istio, policies, &none, peer);
            ports.union_with(&verdict.upper);
            if verdict.upper != ztunnel::all_ports() {
                deciders.extend(verdict.deny.iter().copied());
                deciders.extend(verdict.allow.iter().copied());
            }
        }
        ports
    };
    let mut deciders = Vec::new();
    // (ports, clients), in the order first met; `None` clients: every mesh client.
    let mut groups: Vec<(Ranges<u16>, Option<BitSet>)> = Vec::new();
    let anyone = everyone.then(|| reach(Peer::Anyone, &mut deciders));
    if let Some(ports) = &anyone {
        groups.push((ports.clone(), None));
    }
    // Clients of one identity reach the same ports: each identity is judged once.
    let mut by_identity: HashMap<Peer, Ranges<u16>> = HashMap::new();
    for group in &cx.senders {
        for &s in group.iter().filter(|&&s| mesh_peers.contains(s)) {
            let peer = Peer::of(&cx.cluster.workloads[s]);
            let ports = match by_identity.get(&peer) {
                Some(ports) => ports.clone(),
                None => {
                    let ports = reach(peer, &mut deciders);
                    by_identity.insert(peer, ports.clone());
                    ports
                }
            };
            // "Every mesh client" says it already.
            if anyone.as_ref() == Some(&ports) {
                continue;
            }
            match groups
                .iter_mut()
                .find(|(p, set)| *p == ports && set.is_some())
            {
                Some((_, Some(set))) => set.insert(s),
                _ => {
                    let mut set = BitSet::new(cx.cluster.workloads.len());
                    set.insert(s);
                    groups.push((ports, Some(set)));
                }
            }
        }
    }
    let all = ztunnel::all_ports();
    if groups.iter().all(|(ports, _)| *ports == all) {
        return None;
    }
    // Every port first, then the narrower sets.
    crate::sort::sort_by_key(&mut groups, |(ports, _)| *ports != all);
    let parts: Vec<String> = groups
        .iter()
        .enumerate()
        .map(|(i, (ports, set))| {
            let who = match set {
                None => "every mesh client (the rule has no `from`)".to_string(),
                Some(set) => super::sender_names(cx, set),
            };
            let rest = all.subtract(ports);
            let what = if ports.is_empty() {
                "no port at all".to_string()
            } else if rest.is_empty() {
                "every port".to_string()
            } else if rest.spans().len() <= ports.spans().len() {
                format!("every port but {}", ztunnel::describe_ports(&rest))
            } else {
                format!("only {}", ztunnel::describe_ports(ports))
            };
            if i == 0 {
                format!("{who} can reach {what} of the selected pods through the HBONE tunnel")
            } else {
                format!("{who} {what}")
            }
        })
        .collect();
    crate::sort::sort(&mut deciders);
    deciders.dedup();
    let names: Vec<String> = deciders
        .iter()
        .map(|&p| {
            format!(
                "`{}`",
                cx.cluster.policies.istio.authorization[p].qualified_name()
            )
        })
        .collect();
    let by = match names.len() {
        0 => String::new(),
        1 => format!(
            " (what AuthorizationPolicy {}, enforced by ztunnel, leaves open)",
            names[0]
        ),
        _ => format!(
            " (what AuthorizationPolicies {}, enforced by ztunnel, leave open)",
            super::list(names)
        ),
    };
    Some(format!("{}{by}", super::list(parts)))
}

fn restricted(cx: &Context, d: usize, mesh_peers: &BitSet, everyone: bool, rule: &ConnSet) -> bool {
    // (Without AuthorizationPolicies, nothing is kept: asked per pair of classes, it is quick.)
    if cx.cluster.policies.istio.authorization.is_empty() {
        return false;
    }
    let target = &cx.cluster.workloads[d];
    let policies = ztunnel::enforced(&cx.cluster.policies.istio, cx.istio, target);
    if policies.is_empty() {
        return false;
    }
    let none = crate::net::ranges::Ranges::empty();
    let hbone = crate::net::ranges::Ranges::single(HBONE_PORT);
    let keeps = |peer: Peer, allowed: &crate::net::ranges::Ranges<u16>| {
        let verdict =
            ztunnel::verdict(&cx.cluster.policies.istio, cx.istio, &policies, &none, peer);
        allowed.union(&hbone).contains_all(&verdict.upper)
    };
    if everyone && !keeps(Peer::Anyone, rule.of(Protocol::Tcp)) {
        return false;
    }
    // Members of a sender group are allowed alike by NetworkPolicy, but their identities differ.
    cx.senders.iter().all(|group| {
        group
            .iter()
            .copied()
            .filter(|&s| mesh_peers.contains(s) && super::distinct(cx, s, d))
            .all(|s| {
                let allowed = cx
                    .engine
                    .allowed_between(Endpoint::Workload(s), Endpoint::Workload(d));
                keeps(
                    Peer::of(&cx.cluster.workloads[s]),
                    allowed.of(Protocol::Tcp),
                )
            })
    })
}

/// Who allowed a rule's ports, in the fix's words: "NetworkPolicy" (the API as a whole, as the
/// rule docs say it), or "the CiliumNetworkPolicy" / "the CiliumClusterwideNetworkPolicy" for a
/// Cilium rule, whose ports Cilium (not NetworkPolicy) enforced.
fn policy_words(policy: &crate::netpol::policy::NetworkPolicy) -> String {
    match &policy.cilium {
        Some(origin) => format!("the {}", origin.kind),
        None => "NetworkPolicy".to_string(),
    }
}
