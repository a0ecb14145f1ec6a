//! AMB001 and AMB002 where a cluster-wide tier decides: the HBONE tunnel blocked by a
//! ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy (`pipeline::engine`'s
//! pipeline), for a source and destination whose application traffic the pipeline lets through.
//!
//! The NetworkPolicy rules (`amb001_hbone_ingress`, `amb002_hbone_egress`) judge what
//! NetworkPolicy decides; this one what a cluster-wide rule decides, on either port:
//!
//! - a rule of a tier lets the application port through (Accept, or Pass on to NetworkPolicy)
//!   and a later rule of the tier denies 15008/TCP: the finding is on the rule that lets the
//!   application traffic through, and the fix adds 15008/TCP to it (same peers, same action);
//! - an Admin rule accepts the application port, and NetworkPolicy, deciding 15008 for lack of a
//!   cluster-wide rule naming it, does not admit it: the fix is the same;
//! - a Deny rule names 15008/TCP while no cluster-wide rule lets the application port through (a
//!   NetworkPolicy or the default did): the finding is on the Deny rule, and there is no
//!   automatic fix, since an Admin Deny is never widened.

use foldhash::{HashMap, HashMapExt};
use std::collections::BTreeMap;

use super::{Hit, Output};
use crate::ambient::{Context, DirectionKey, FixRequest, HBONE_PORT};
use crate::cnp::{Action, Tier};
use crate::findings::Code;
use crate::net::Direction;
use crate::net::conn::{ConnSet, Protocol};
use crate::pipeline::engine::{Decider, LayerMatch, SideVerdict, TiersKey, TiersSide, decider};
use crate::pipeline::memo::ConnId;
use crate::pipeline::{PolicyRef, RuleRef};

/// What a side's verdict says when a cluster-wide rule has a part in blocking 15008.
#[derive(Clone)]
struct Judged {
    /// The TCP application ports let through.
    app: ConnSet,
    /// The rule (policy, rule) the finding is on.
    rule: (usize, usize),
    /// Whether that rule lets the application traffic through (else it is the Deny).
    through: bool,
    /// The rule that denies 15008 (`None`: NetworkPolicy does).
    blocker: Option<(usize, usize)>,
}

/// Judges a side from what it allows and the tiers' part of its explanation.
fn judge(allowed: &ConnSet, side: &TiersSide) -> Option<Judged> {
    if allowed.contains(Protocol::Tcp, HBONE_PORT) {
        return None;
    }
    let app = ConnSet::ports(Protocol::Tcp, allowed.of(Protocol::Tcp).clone());
    if app.is_empty() {
        return None;
    }
    // The first cluster-wide rule that lets some of the application traffic through, in the
    // tier that decides 15008 (a fix elsewhere would be undone by that tier).
    let through = |tier: Option<Tier>| first_through(&side.decided_by, &app, tier);
    let judged = |rule, through, blocker| Judged {
        app: app.clone(),
        rule,
        through,
        blocker,
    };
    match decider(&side.decided_by, side.isolated, Protocol::Tcp, HBONE_PORT) {
        Decider::Layer(c, r, Action::Deny) => {
            match through(Some(tier_of(&side.decided_by, c, r))) {
                Some(t) => Some(judged((t.policy, t.rule), true, Some((c, r)))),
                None => Some(judged((c, r), false, Some((c, r)))),
            }
        }
        // NetworkPolicy blocks 15008: ours only when an Admin Accept let the application in
        // (what a Pass hands over, NetworkPolicy decides, and its rules' findings say so).
        Decider::NetworkPolicy => through(None)
            .filter(|t| t.action == Action::Accept)
            .map(|t| judged((t.policy, t.rule), true, None)),
        _ => None,
    }
}

/// The first cluster-wide rule that lets some of `app` through (Accept, or Pass on to
/// NetworkPolicy), in `tier` if one is given: the rule whose ports a fix extends to 15008/TCP.
fn first_through<'m>(
    decided_by: &'m [LayerMatch],
    app: &ConnSet,
    tier: Option<Tier>,
) -> Option<&'m LayerMatch> {
    decided_by.iter().find(|m| {
        m.action != Action::Deny
            && !m.conns.intersect(app).is_empty()
            && tier.is_none_or(|t| t == m.tier)
    })
}

/// Where a side's 15008/TCP is denied by the cluster-wide rule `blocker` (policy, rule): the rule
/// of the same tier that lets some of the side's TCP traffic through, whose ports a fix extends
/// to 15008/TCP (same peers, same action), so the Deny is never widened. `None` when no rule lets
/// any of it through.
pub fn through_rule(side: &SideVerdict, blocker: (usize, usize)) -> Option<(usize, usize)> {
    let app = ConnSet::ports(Protocol::Tcp, side.allowed.of(Protocol::Tcp).clone());
    let tier = tier_of(&side.decided_by, blocker.0, blocker.1);
    first_through(&side.decided_by, &app, Some(tier)).map(|m| (m.policy, m.rule))
}

/// The tier of a deciding rule.
fn tier_of(decided_by: &[LayerMatch], c: usize, r: usize) -> Tier {
    decided_by
        .iter()
        .find(|m| m.policy == c && m.rule == r)
        .map_or(Tier::Admin, |m| m.tier)
}

pub fn check(cx: &Context, out: &mut Output) {
    let engine = cx.engine;
    let n = cx.cluster.workloads.len();
    if cx.cluster.policies.tiered.is_empty() {
        return;
    }
    // The rule that denies 15008 (`None`: NetworkPolicy does).
    type Blocker = Option<(usize, usize)>;
    let mut hits: BTreeMap<(usize, DirectionKey, usize), Hit<Blocker>> = BTreeMap::new();
    for direction in [Direction::Ingress, Direction::Egress] {
        // Ingress: destinations that receive HBONE, from their senders; egress: senders, to
        // the destinations they tunnel to. One member of each subject class is judged against
        // one member of each peer class.
        let subjects = super::grouped(
            (0..n).filter(|&w| {
                !engine.layered(w, direction).is_empty()
                    && match direction {
                        Direction::Ingress => cx.membership[w].receives_hbone(),
                        Direction::Egress => cx.sender(w).is_some(),
                    }
            }),
            // (Who tunnels to it, or how it tunnels: members of a group have the same peers.)
            |w| match direction {
                Direction::Ingress => (
                    engine.subject_class(w, direction),
                    Some(cx.hbone_senders_kind(w)),
                    None,
                ),
                Direction::Egress => (engine.subject_class(w, direction), None, Some(cx.sender(w))),
            },
        );
        // The peers by class, per kind of peers (the same for every subject of a kind), each
        // class as a list and a set.
        let mut peer_classes = BTreeMap::new();
        // Judgements by the tiers' part of the side and what it allows.
        let mut judged: HashMap<(TiersKey, ConnId), Option<Judged>> = HashMap::new();
        let mut settled: HashMap<ConnId, bool> = HashMap::new();
        for ((_, senders, sender), members) in &subjects {
            let x = members[0];
            let classes: &mut Vec<_> = peer_classes
                .entry((*senders, *sender))
                .or_insert_with(|| super::hbone_peer_classes(cx, x, direction));
            for (peer_set, peer_members) in classes.iter() {
                let Some(&y) = peer_members.iter().find(|&&y| super::distinct(cx, x, y)) else {
                    continue;
                };
                // Most pairs are settled by the class tables: 15008 passes, or no TCP does.
                let id = engine.allowed_id(x, y, direction);
                let settled = *settled.entry(id).or_insert_with(|| {
                    let allowed = engine.conns(id);
                    allowed.contains(Protocol::Tcp, HBONE_PORT)
                        || allowed.of(Protocol::Tcp).is_empty()
                });
                if settled {
                    continue;
                }
                // (The tiers' explanation only for a judgement not made yet.)
                let Some(key) = engine.tiers_key(x, y, direction) else {
                    continue;
                };
                let Some(Judged {
                    app,
                    rule: (c, r),
                    through,
                    blocker,
                }) = judged.entry((key, id)).or_insert_with(|| {
                    let side = engine.tiers_side(x, y, direction)?;
                    judge(&engine.conns(id), &side)
                })
                else {
                    continue;
                };
                let key = (*c, DirectionKey::from(direction), *r);
                // The layer that denies 15008/TCP: the blocking rule's, else NetworkPolicy's.
                let layer = match blocker {
                    Some((bc, _)) => cx.cluster.layer(PolicyRef::Tiered(*bc)),
                    None => cx.cluster.network_layer(engine.isolating(x, direction)),
                };
                hits.entry(key)
                    .or_insert_with(|| Hit::new(n, *blocker, *through))
                    .add(
                        cx,
                        members,
                        (peer_members, peer_set),
                        direction,
                        app,
                        layer,
                        out,
                    );
            }
        }
    }

    for ((c, direction, r), hit) in hits {
        let policy = &cx.cluster.policies.tiered[c];
        let dir = Direction::from(direction);
        let rule = &policy.rules(dir)[r];
        let named = RuleRef::tiered(c, dir, r);
        let this = cx.cluster.rule_name(&named);
        let (to, from) = hit.ends(cx, dir);
        let blocker = match hit.blocker {
            Some((bc, br)) => super::denies(cx, &named, &RuleRef::tiered(bc, dir, br)),
            None => "NetworkPolicy, which decides what no cluster-wide rule names, does not admit"
                .to_string(),
        };
        let what = if hit.through {
            format!(
                "{this} {} {} from {from} to {to}, but {blocker} 15008/TCP between them",
                match (rule.action, policy.kind.as_str()) {
                    (Action::Pass, _) => "passes on to NetworkPolicy",
                    (_, "ClusterNetworkPolicy") => "accepts",
                    _ => "allows",
                },
                hit.ports
            )
        } else {
            format!(
                "{this} denies 15008/TCP from {from} to {to}, whose other TCP traffic ({}) is allowed",
                hit.ports
            )
        };
        let mut finding = cx.cluster.rule_finding(
            match dir {
                Direction::Ingress => Code::Amb001,
                Direction::Egress => Code::Amb002,
            },
            format!(
                "{what}: once they are in the ambient mesh, this traffic is tunnelled over HBONE to port 15008 and the cluster-wide policy blocks it (requests time out; ztunnel logs a connection timeout to port 15008)"
            ),
            &named,
        );
        if let [one] = hit.subjects.iter().take(2).collect::<Vec<_>>()[..] {
            finding.workload = Some(cx.workload_name(one));
        }
        if hit.through {
            finding.fixable = true;
            finding.fix = Some(format!(
                "add 15008/TCP to this rule's {} (`{}`), so the tunnel is {} for the same peers only",
                if policy.kind == "ClusterNetworkPolicy" {
                    "protocols"
                } else {
                    "ports"
                },
                if policy.kind == "ClusterNetworkPolicy" {
                    "tcp: {destinationPort: {number: 15008}}"
                } else {
                    "portNumber: {protocol: TCP, port: 15008}"
                },
                match rule.action {
                    Action::Pass => "passed on",
                    _ => "accepted",
                }
            ));
            out.fixes.push(FixRequest::AddLayerHbonePort {
                policy: c,
                direction,
                rule: r,
                before: hit
                    .blocker
                    .map(|(bc, _)| cx.cluster.policies.tiered[bc].priority),
            });
        } else {
            finding.fix = Some(if policy.kind.starts_with("Cilium") {
                "no automatic fix: a deny rule is never widened, and Cilium's deny rules win over every allow. Take 15008/TCP out of this rule (or its peers out of it)".into()
            } else {
                "no automatic fix: an Admin Deny is never widened. Take 15008/TCP out of this rule, or accept 15008/TCP from these peers in a rule before it".into()
            });
        }
        out.findings.push(finding);
    }
}
