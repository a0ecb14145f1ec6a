//! AMB001 and AMB002 where Calico decides (`--cni calico`): the HBONE tunnel blocked by a Calico
//! NetworkPolicy or GlobalNetworkPolicy (a Deny rule, or the end of a tier whose policies select
//! the pod), for a source and destination whose application traffic Calico lets through.
//!
//! - a Calico rule lets the application port through (Allow, or Pass on to the next tier) and a
//!   later rule or the tier's end denies 15008/TCP: the finding is on the rule that lets the
//!   application traffic through, and the fix adds 15008 to its destination `ports` (same
//!   peers, same action); the add style writes a policy with that rule for 15008 only, ordered
//!   before the blocking policy;
//! - a Deny rule denies 15008/TCP while no Calico rule lets the application port through (the
//!   Kubernetes NetworkPolicies or no tier did): the finding is on the Deny rule, and there is no
//!   automatic fix, since a user's Deny is never touched.
//!
//! Where the Kubernetes NetworkPolicies admitted the application port and Calico denies 15008
//! after them (a later policy of the default tier, or its end), the NetworkPolicy rules
//! (`amb001_hbone_ingress`, `amb002_hbone_egress`) judge: their fix admits 15008 where the
//! application port is admitted, before the Deny.

use foldhash::{HashMap, HashMapExt};
use std::collections::BTreeMap;

use super::{Hit, Output};
use crate::ambient::{Context, DirectionKey, FixRequest, HBONE_PORT};
use crate::calico::Action;
use crate::findings::Code;
use crate::net::Direction;
use crate::net::conn::{ConnSet, Protocol};
use crate::pipeline::engine::{CalicoMatch, Decider, SideVerdict};
use crate::pipeline::memo::ConnId;
use crate::pipeline::{PolicyRef, RuleRef};

#[derive(Clone)]
struct Judged {
    app: ConnSet,
    rule: (usize, usize),
    through: bool,
    /// Who denies 15008/TCP: a Calico rule, or a tier's end.
    blocker: RuleRef,
}

/// A Calico rule's (policy, rule); `None` for a tier's end.
fn calico_rule(rule: &RuleRef) -> Option<(usize, usize)> {
    match *rule {
        RuleRef::Rule {
            policy: PolicyRef::Calico(c),
            rule,
            ..
        } => Some((c, rule)),
        _ => None,
    }
}

/// The application ports the Kubernetes NetworkPolicies admitted on a side.
fn kubernetes_admitted(side: &SideVerdict) -> ConnSet {
    let mut out = ConnSet::none();
    if !side.isolated_by.is_empty() {
        for m in &side.admitted_by {
            out.union_with(&m.conns);
        }
    }
    out
}

/// The match that denies 15008/TCP, with its position in `side.calico`.
fn blocking(side: &SideVerdict) -> Option<(usize, &CalicoMatch)> {
    match side.decider(Protocol::Tcp, HBONE_PORT) {
        Decider::Calico(_, _, Action::Deny) => {
            side.calico.iter().enumerate().find(|(_, m)| {
                m.action == Action::Deny && m.conns.contains(Protocol::Tcp, HBONE_PORT)
            })
        }
        _ => None,
    }
}

/// Whether the NetworkPolicy rules judge this side (see the module's documentation): Calico
/// denies 15008/TCP after the Kubernetes NetworkPolicies, which admitted some of `app`.
pub fn network_policy_judges(side: &SideVerdict, app: &ConnSet) -> bool {
    blocking(side).is_some_and(|(_, m)| {
        m.after_kubernetes && !kubernetes_admitted(side).intersect(app).is_empty()
    })
}

fn judge(allowed: &ConnSet, side: &SideVerdict, direction: Direction) -> Option<Judged> {
    if allowed.contains(Protocol::Tcp, HBONE_PORT) {
        return None;
    }
    let app = ConnSet::ports(Protocol::Tcp, allowed.of(Protocol::Tcp).clone());
    if app.is_empty() {
        return None;
    }
    if network_policy_judges(side, &app) {
        return None;
    }
    let (through, blocker) = through_and_blocker(side, &app, direction)?;
    let (rule, through) = match through {
        Some(rule) => (rule, true),
        None => (calico_rule(&blocker)?, false),
    };
    Some(Judged {
        app,
        rule,
        through,
        blocker,
    })
}

/// The Calico rule (policy, rule) that lets some of `app` through before 15008/TCP is denied
/// (`None`: none does), and who denies 15008/TCP; `None` when Calico does not deny it.
fn through_and_blocker(
    side: &SideVerdict,
    app: &ConnSet,
    direction: Direction,
) -> Option<(Option<(usize, usize)>, RuleRef)> {
    let (at, block) = blocking(side)?;
    let blocker = block.rule_ref(direction);
    // The rule that let the application traffic through: in the blocking tier if one did there
    // (a fix elsewhere would be caught by that tier again), else the first before it.
    let earlier = &side.calico[..at];
    let lets_through = |m: &&CalicoMatch| {
        matches!(m.action, Action::Allow | Action::Pass)
            && m.policy.is_some()
            && !m.conns.intersect(app).is_empty()
    };
    let through = earlier
        .iter()
        .filter(lets_through)
        .find(|m| m.tier == block.tier)
        .or_else(|| earlier.iter().find(lets_through))
        .and_then(|m| Some((m.policy?, m.rule?)));
    Some((through, blocker))
}

/// For AMB005: where Calico denies a waypoint hop's 15008/TCP (and not after Kubernetes
/// NetworkPolicies that admit the hop's other traffic): the rule that lets that traffic through
/// (its fix), the blocking policy (`None`: a tier's end), and a sentence naming the blocker.
pub fn hop_block(cx: &Context, side: &SideVerdict, direction: Direction) -> Option<HopBlock> {
    let app = ConnSet::ports(Protocol::Tcp, side.allowed.of(Protocol::Tcp).clone());
    if network_policy_judges(side, &app) {
        return None;
    }
    let (through, blocker) = through_and_blocker(side, &app, direction)?;
    let blocker_rule = calico_rule(&blocker);
    let mut describe = cx.cluster.rule_name(&blocker);
    if blocker_rule.is_none() {
        describe.push_str(" (its default action)");
    }
    Some(HopBlock {
        through,
        blocker_policy: blocker_rule.map(|(c, _)| c),
        blocker_rule,
        describe,
    })
}

pub struct HopBlock {
    pub through: Option<(usize, usize)>,
    pub blocker_policy: Option<usize>,
    pub blocker_rule: Option<(usize, usize)>,
    pub describe: String,
}

pub fn check(cx: &Context, out: &mut Output) {
    let engine = cx.engine;
    if engine.calico().is_none() || cx.cluster.policies.calico.is_empty() {
        return;
    }
    let n = cx.cluster.workloads.len();
    let mut hits: BTreeMap<(usize, DirectionKey, usize), Hit<RuleRef>> = BTreeMap::new();
    for direction in [Direction::Ingress, Direction::Egress] {
        let subjects = super::grouped(
            (0..n).filter(|&w| {
                !engine.calico_layered(w, direction).is_empty()
                    && match direction {
                        Direction::Ingress => cx.membership[w].receives_hbone(),
                        Direction::Egress => cx.sender(w).is_some(),
                    }
            }),
            |w| match direction {
                Direction::Ingress => (
                    engine.subject_class(w, direction),
                    Some(cx.hbone_senders_kind(w)),
                    None,
                ),
                Direction::Egress => (engine.subject_class(w, direction), None, Some(cx.sender(w))),
            },
        );
        let mut peer_classes = BTreeMap::new();
        let mut judged: HashMap<(u32, u32, ConnId), Option<Judged>> = HashMap::new();
        for ((class, senders, sender), members) in &subjects {
            let x = members[0];
            let classes = peer_classes
                .entry((*senders, *sender))
                .or_insert_with(|| super::hbone_peer_classes(cx, x, direction));
            for (peer_set, peer_members) in classes.iter() {
                let peer_class = engine.peer_class(peer_members[0], direction);
                let Some(&y) = peer_members.iter().find(|&&y| super::distinct(cx, x, y)) else {
                    continue;
                };
                let id = engine.allowed_id(x, y, direction);
                let Some(Judged {
                    app,
                    rule: (c, r),
                    through,
                    blocker,
                }) = judged
                    .entry((*class, peer_class, id))
                    .or_insert_with(|| {
                        let allowed = engine.conns(id);
                        if allowed.contains(Protocol::Tcp, HBONE_PORT)
                            || allowed.of(Protocol::Tcp).is_empty()
                        {
                            return None;
                        }
                        judge(&allowed, &engine.workload_side(x, y, direction), direction)
                    })
                    .clone()
                else {
                    continue;
                };
                let layer = cx.cluster.rule_layer(&blocker);
                hits.entry((c, DirectionKey::from(direction), r))
                    .or_insert_with(|| Hit::new(n, blocker, through))
                    .add(
                        cx,
                        members,
                        (peer_members, peer_set),
                        direction,
                        &app,
                        layer,
                        out,
                    );
            }
        }
    }

    for ((c, direction, r), hit) in hits {
        let policy = &cx.cluster.policies.calico[c];
        let dir = Direction::from(direction);
        let rule = &policy.rules(dir)[r];
        let named = RuleRef::calico(c, dir, r);
        let this = cx.cluster.rule_name(&named);
        let (to, from) = hit.ends(cx, dir);
        let blocker = match &hit.blocker {
            RuleRef::CalicoTierEnd(tier) => format!(
                "the end of tier `{tier}` (its policies select the pod and no rule decides 15008/TCP: its default action) denies"
            ),
            blocker => super::denies(cx, &named, blocker),
        };
        let what = if hit.through {
            format!(
                "{this} {} {} from {from} to {to}, but {blocker} 15008/TCP between them",
                match rule.action {
                    Action::Pass => "passes on to the next tier",
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
                "{what}: once they are in the ambient mesh, this traffic is tunnelled over HBONE to port 15008 and the Calico policy blocks it (requests time out; ztunnel logs a connection timeout to port 15008)"
            ),
            &named,
        );
        if let [one] = hit.subjects.iter().take(2).collect::<Vec<_>>()[..] {
            finding.workload = Some(cx.workload_name(one));
        }
        if hit.through {
            finding.fixable = true;
            let verb = match rule.action {
                Action::Pass => "passed on",
                _ => "allowed",
            };
            finding.fix = Some(if rule.destination.ports.is_some() {
                format!(
                    "add 15008 to this rule's `destination.ports`, so the tunnel is {verb} for the same peers only"
                )
            } else {
                format!(
                    "insert after this rule one with the same action and source for 15008/TCP only (it has no `destination.ports` to extend), so the tunnel is {verb} for the same peers only, before the rule that denies it"
                )
            });
            out.fixes.push(FixRequest::AddCalicoHbonePort {
                policy: c,
                direction,
                rule: r,
                blocker: calico_rule(&hit.blocker).map(|(bc, _)| bc),
            });
        } else {
            finding.fix = Some("no automatic fix: a Deny is never changed. Take 15008/TCP out of this rule, or allow 15008/TCP from these peers in a rule before it".into());
        }
        out.findings.push(finding);
    }
}
