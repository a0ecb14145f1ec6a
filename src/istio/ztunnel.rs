//! What the destination's ztunnel lets through: the AuthorizationPolicies it enforces for a pod
//! (selector-bound or namespace-wide in the pod's namespace, mesh-wide in the root namespace;
//! not the `targetRefs` ones) and the PeerAuthentication mode that makes it reject plaintext.
//!
//! A connection is judged by the sender's identity (none for plaintext) and the inner TCP port.
//! Pod addresses are rarely in the input, so `ipBlocks` (and `destination.ip`) may or may not
//! match: the answer is a pair of port sets, the ports surely allowed (`lower`) and those maybe
//! allowed (`upper`); they are equal when no address matters. The order is istio.io's: a DENY
//! policy that matches denies; else, when ALLOW policies apply, one of them must match; else
//! allow. STRICT mTLS then rejects plaintext (istiod's static DENY on `notPrincipals: ["*"]`).

use super::{Action, AuthorizationPolicy, Condition, MtlsMode, Rule, Scope, Source};
use crate::model::Workload;
use crate::net::ranges::Ranges;

/// TCP ports.
pub type Ports = Ranges<u16>;

pub fn all_ports() -> Ports {
    Ranges::span(1, u16::MAX)
}

/// Where the mesh's names come from.
#[derive(Clone, Copy, Debug)]
pub struct Settings<'a> {
    pub trust_domain: &'a str,
    pub root_namespace: &'a str,
}

/// The peer ztunnel sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Peer<'a> {
    /// No mesh identity: plaintext from a pod outside the mesh.
    Plaintext,
    /// A mesh identity: its namespace and service account (`None`: unknown, for pods the input
    /// does not show).
    Mesh {
        namespace: &'a str,
        account: Option<&'a str>,
    },
    /// A mesh identity the input cannot name, in any namespace.
    Anyone,
}

impl<'a> Peer<'a> {
    /// The identity of a workload's pods (`default` when the pod template names no account).
    pub fn of(w: &'a Workload) -> Peer<'a> {
        if w.is_inferred() {
            if w.namespace == crate::model::inferred::ANY_NAMESPACE {
                Peer::Anyone
            } else {
                Peer::Mesh {
                    namespace: &w.namespace,
                    account: None,
                }
            }
        } else {
            Peer::Mesh {
                namespace: &w.namespace,
                account: Some(w.service_account.as_deref().unwrap_or("default")),
            }
        }
    }
}

/// `<trust domain>/ns/<namespace>/sa/<service account>`.
pub fn principal(settings: Settings, namespace: &str, account: &str) -> String {
    format!("{}/ns/{namespace}/sa/{account}", settings.trust_domain)
}

/// Three-valued matching: a field about an unknown address (or an unknown account) may match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tri {
    No,
    Maybe,
    Yes,
}

impl Tri {
    fn and(self, other: Tri) -> Tri {
        self.min(other)
    }

    fn or(self, other: Tri) -> Tri {
        self.max(other)
    }

    fn not(self) -> Tri {
        match self {
            Tri::No => Tri::Yes,
            Tri::Maybe => Tri::Maybe,
            Tri::Yes => Tri::No,
        }
    }

    fn from(b: bool) -> Tri {
        if b { Tri::Yes } else { Tri::No }
    }
}

/// Istio's string match: `*` (present), `prefix*`, `*suffix`, or exact.
pub fn string_match(pattern: &str, value: &str) -> bool {
    if pattern == "*" {
        true
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        value.ends_with(suffix)
    } else if let Some(prefix) = pattern.strip_suffix('*') {
        value.starts_with(prefix)
    } else {
        pattern == value
    }
}

fn principal_tri(settings: Settings, pattern: &str, peer: Peer) -> Tri {
    match peer {
        Peer::Plaintext => Tri::No,
        Peer::Mesh {
            namespace,
            account: Some(account),
        } => Tri::from(string_match(
            pattern,
            &principal(settings, namespace, account),
        )),
        Peer::Mesh {
            namespace,
            account: None,
        } => {
            if pattern == "*" {
                Tri::Yes
            } else if pattern.contains('*') {
                Tri::Maybe
            } else {
                let prefix = format!("{}/ns/{namespace}/sa/", settings.trust_domain);
                if pattern.starts_with(&prefix) {
                    Tri::Maybe
                } else {
                    Tri::No
                }
            }
        }
        Peer::Anyone => {
            if pattern == "*" {
                Tri::Yes
            } else {
                Tri::Maybe
            }
        }
    }
}

fn namespace_tri(pattern: &str, peer: Peer) -> Tri {
    match peer {
        Peer::Plaintext => Tri::No,
        Peer::Mesh { namespace, .. } => Tri::from(string_match(pattern, namespace)),
        Peer::Anyone => {
            if pattern == "*" {
                Tri::Yes
            } else {
                Tri::Maybe
            }
        }
    }
}

fn account_tri((ns, sa): &(String, String), peer: Peer) -> Tri {
    match peer {
        Peer::Plaintext => Tri::No,
        Peer::Mesh {
            namespace,
            account: Some(account),
        } => Tri::from(ns == namespace && sa == account),
        Peer::Mesh {
            namespace,
            account: None,
        } => {
            if ns == namespace {
                Tri::Maybe
            } else {
                Tri::No
            }
        }
        Peer::Anyone => Tri::Maybe,
    }
}

fn any<T>(items: &[T], f: impl Fn(&T) -> Tri) -> Tri {
    items.iter().fold(Tri::No, |acc, x| acc.or(f(x)))
}

fn source_tri(settings: Settings, s: &Source, peer: Peer) -> Tri {
    let mut t = Tri::Yes;
    if !s.principals.is_empty() {
        t = t.and(any(&s.principals, |p| principal_tri(settings, p, peer)));
    }
    if !s.not_principals.is_empty() {
        t = t.and(any(&s.not_principals, |p| principal_tri(settings, p, peer)).not());
    }
    if !s.namespaces.is_empty() {
        t = t.and(any(&s.namespaces, |p| namespace_tri(p, peer)));
    }
    if !s.not_namespaces.is_empty() {
        t = t.and(any(&s.not_namespaces, |p| namespace_tri(p, peer)).not());
    }
    if !s.service_accounts.is_empty() {
        t = t.and(any(&s.service_accounts, |a| account_tri(a, peer)));
    }
    if !s.not_service_accounts.is_empty() {
        t = t.and(any(&s.not_service_accounts, |a| account_tri(a, peer)).not());
    }
    if !s.ip_blocks.is_empty() || !s.not_ip_blocks.is_empty() {
        t = t.and(Tri::Maybe);
    }
    t
}

fn port_set(ports: &[u16]) -> Ports {
    ports
        .iter()
        .fold(Ranges::empty(), |acc, &p| acc.union(&Ranges::single(p)))
}

fn condition(settings: Settings, c: &Condition, peer: Peer) -> (Tri, Ports) {
    let values = |f: &dyn Fn(&String) -> Tri| {
        let mut t = Tri::Yes;
        if !c.values.is_empty() {
            t = t.and(any(&c.values, f));
        }
        if !c.not_values.is_empty() {
            t = t.and(any(&c.not_values, f).not());
        }
        t
    };
    match c.key.as_str() {
        "source.namespace" => (values(&|p| namespace_tri(p, peer)), all_ports()),
        "source.principal" => (values(&|p| principal_tri(settings, p, peer)), all_ports()),
        "destination.port" => {
            let parse = |list: &[String]| -> Vec<u16> {
                list.iter().filter_map(|v| v.parse().ok()).collect()
            };
            let mut ports = if c.values.is_empty() {
                all_ports()
            } else {
                port_set(&parse(&c.values))
            };
            ports = ports.subtract(&port_set(&parse(&c.not_values)));
            (Tri::Yes, ports)
        }
        // `source.ip`, `destination.ip`: addresses the input rarely has.
        _ => (Tri::Maybe, all_ports()),
    }
}

/// Whether a rule matches the peer, and on which ports.
pub fn rule_match(settings: Settings, rule: &Rule, peer: Peer) -> (Tri, Ports) {
    let mut tri = Tri::Yes;
    if !rule.from.is_empty() {
        tri = any(&rule.from, |s| source_tri(settings, s, peer));
    }
    let mut ports = if rule.to.is_empty() {
        all_ports()
    } else {
        rule.to.iter().fold(Ranges::empty(), |acc, op| {
            let base = if op.ports.is_empty() {
                all_ports()
            } else {
                port_set(&op.ports)
            };
            acc.union(&base.subtract(&port_set(&op.not_ports)))
        })
    };
    for c in &rule.when {
        let (t, p) = condition(settings, c, peer);
        tri = tri.and(t);
        ports = ports.intersect(&p);
    }
    (tri, ports)
}

/// Whether ztunnel enforces a policy for the pods of `w`.
pub fn enforced_for(settings: Settings, policy: &AuthorizationPolicy, w: &Workload) -> bool {
    if !matches!(policy.action, Action::Allow | Action::Deny) {
        return false;
    }
    let here = policy.namespace == w.namespace || policy.namespace == settings.root_namespace;
    here && match &policy.scope {
        Scope::TargetRefs(_) => false,
        Scope::Namespace => true,
        Scope::Selector(labels) => labels.iter().all(|(k, v)| w.labels.get(k) == Some(v)),
    }
}

/// The policies ztunnel enforces for `w`, by index into `Policies::authorization`.
pub fn enforced(istio: &super::Policies, settings: Settings, w: &Workload) -> Vec<usize> {
    istio
        .authorization
        .iter()
        .enumerate()
        .filter(|(_, p)| enforced_for(settings, p, w))
        .map(|(i, _)| i)
        .collect()
}

/// The ports a policy's rules match for the peer: surely, maybe. ALLOW rules with L7
/// attributes never match in ztunnel (their L4 part in a DENY policy does: it is all that is
/// kept).
pub fn policy_ports(
    settings: Settings,
    policy: &AuthorizationPolicy,
    peer: Peer,
) -> (Ports, Ports) {
    let (mut sure, mut maybe) = (Ranges::empty(), Ranges::empty());
    for rule in &policy.rules {
        if policy.action == Action::Allow && !rule.l7.is_empty() {
            continue;
        }
        let (tri, ports) = rule_match(settings, rule, peer);
        match tri {
            Tri::Yes => {
                sure.union_with(&ports);
                maybe.union_with(&ports);
            }
            Tri::Maybe => maybe.union_with(&ports),
            Tri::No => {}
        }
    }
    (sure, maybe)
}

/// ztunnel's answer for one peer at one destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Ports surely allowed.
    pub lower: Ports,
    /// Ports that may be allowed (addresses unknown).
    pub upper: Ports,
    /// The enforced ALLOW policies (empty: ztunnel allows what no DENY denies).
    pub allow: Vec<usize>,
    /// The enforced DENY policies that match on some port.
    pub deny: Vec<usize>,
    /// The ports STRICT mTLS closes to plaintext (for a plaintext peer).
    pub strict: Ports,
}

/// ztunnel's verdict for `peer` to the pods of `w`, given the policies ztunnel enforces for
/// them (`policies`, as [`enforced`] gives) and the ports where mTLS is STRICT.
pub fn verdict(
    istio: &super::Policies,
    settings: Settings,
    policies: &[usize],
    strict: &Ports,
    peer: Peer,
) -> Verdict {
    let (mut allow_sure, mut allow_maybe) = (Ranges::empty(), Ranges::empty());
    let (mut deny_sure, mut deny_maybe) = (Ranges::empty(), Ranges::empty());
    let mut allow = Vec::new();
    let mut deny = Vec::new();
    for &i in policies {
        let policy = &istio.authorization[i];
        let (sure, maybe) = policy_ports(settings, policy, peer);
        match policy.action {
            Action::Allow => {
                allow.push(i);
                allow_sure.union_with(&sure);
                allow_maybe.union_with(&maybe);
            }
            Action::Deny => {
                if !maybe.is_empty() {
                    deny.push(i);
                }
                deny_sure.union_with(&sure);
                deny_maybe.union_with(&maybe);
            }
            Action::Audit | Action::Custom => {}
        }
    }
    if allow.is_empty() {
        allow_sure = all_ports();
        allow_maybe = all_ports();
    }
    let mut lower = allow_sure.subtract(&deny_maybe);
    let mut upper = allow_maybe.subtract(&deny_sure);
    let strict = if peer == Peer::Plaintext {
        lower = lower.subtract(strict);
        upper = upper.subtract(strict);
        strict.clone()
    } else {
        Ranges::empty()
    };
    Verdict {
        lower,
        upper,
        allow,
        deny,
        strict,
    }
}

/// The ports where ztunnel rejects plaintext to the pods of `w`, and the PeerAuthentication
/// that makes them STRICT (the most specific one that says so). ztunnel's reading (istiod's
/// `convertedSelectorPeerAuthentications`): the mesh-wide policy (root namespace, no selector),
/// then the namespace's, then the workload's (selector, not in the root namespace), each level
/// overriding the one above unless UNSET; DISABLE counts as PERMISSIVE (ztunnel always speaks
/// mTLS over HBONE, and plaintext is let through); port-level modes of the workload's policy
/// open or close single ports. Where several policies of one level match, Istio takes the
/// oldest; without creation times the first in the input is taken.
pub fn strict_ports(
    istio: &super::Policies,
    settings: Settings,
    w: &Workload,
) -> (Ports, Option<usize>) {
    let first = |pred: &dyn Fn(&super::PeerAuthentication) -> bool| {
        istio.peer_authentications.iter().position(pred)
    };
    let mesh = first(&|p| p.namespace == settings.root_namespace && p.selector.is_none());
    let namespace = first(&|p| {
        p.namespace == w.namespace && p.namespace != settings.root_namespace && p.selector.is_none()
    });
    let workload = first(&|p| {
        p.namespace == w.namespace
            && p.namespace != settings.root_namespace
            && p.selector
                .as_ref()
                .is_some_and(|s| s.iter().all(|(k, v)| w.labels.get(k) == Some(v)))
    });
    let mode = |i: Option<usize>| i.map(|i| istio.peer_authentications[i].mode);
    let (mut strict, mut decider) = (false, None);
    if let Some(m) = mode(mesh) {
        strict = m == MtlsMode::Strict;
        decider = mesh;
    }
    if let Some(m) = mode(namespace).filter(|m| *m != MtlsMode::Unset) {
        strict = m == MtlsMode::Strict;
        decider = namespace;
    }
    if let Some(m) = mode(workload).filter(|m| *m != MtlsMode::Unset) {
        strict = m == MtlsMode::Strict;
        decider = workload;
    }
    let mut ports = if strict { all_ports() } else { Ranges::empty() };
    if let Some(i) = workload {
        for &(port, m) in &istio.peer_authentications[i].port_level {
            match m {
                MtlsMode::Strict => {
                    ports.union_with(&Ranges::single(port));
                    decider = Some(i);
                }
                MtlsMode::Permissive | MtlsMode::Disable => {
                    ports = ports.subtract(&Ranges::single(port));
                }
                MtlsMode::Unset => {}
            }
        }
    }
    if ports.is_empty() {
        decider = None;
    }
    (ports, decider)
}

/// "8080, 9090-9091" (or "every port").
pub fn describe_ports(ports: &Ports) -> String {
    if ports.spans() == [(1, u16::MAX)] {
        return "every port".into();
    }
    ports
        .spans()
        .iter()
        .map(|&(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What ztunnel decides for a set of ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    /// Depends on addresses (or accounts) the input does not give.
    Maybe,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Maybe => "uncertain",
            Outcome::Denied => "denied",
        }
    }
}

/// Who decides some ports of ztunnel's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// A rule of a DENY policy matches (for `Maybe`: may match).
    Deny { policy: usize, rule: usize },
    /// STRICT mTLS refuses plaintext (the PeerAuthentication that makes it so).
    Strict { peer_authentication: Option<usize> },
    /// ALLOW policies apply and none of their rules admits the peer there.
    NoAllow { policies: Vec<usize> },
    /// A rule of an ALLOW policy admits the peer (for `Maybe`: may admit).
    Allow { policy: usize, rule: usize },
    /// No ALLOW policy applies and no DENY rule matches.
    Open,
}

/// Some ports, their outcome and who decided it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub ports: Ports,
    pub outcome: Outcome,
    pub why: Why,
}

/// ztunnel's verdict on `asked` (TCP ports) for `peer`, split by who decides: the deciding rule
/// of each part, in istio.io's order (DENY policies, then STRICT mTLS for plaintext, then the
/// ALLOW policies). `verdict` is [`verdict`]'s answer for the same arguments.
pub fn explain(
    istio: &super::Policies,
    settings: Settings,
    policies: &[usize],
    strict: (&Ports, Option<usize>),
    peer: Peer,
    asked: &Ports,
) -> (Verdict, Vec<Decision>) {
    let verdict = verdict(istio, settings, policies, strict.0, peer);
    let rules = |action: Action, want: Tri| {
        policies.iter().flat_map(move |&i| {
            let policy = &istio.authorization[i];
            policy
                .rules
                .iter()
                .enumerate()
                .filter(move |(_, r)| {
                    // (An ALLOW rule with L7 attributes never matches in ztunnel.)
                    policy.action == action && (action != Action::Allow || r.l7.is_empty())
                })
                .filter_map(move |(r, rule)| {
                    let (tri, ports) = rule_match(settings, rule, peer);
                    (tri == want).then_some((i, r, ports))
                })
        })
    };
    let mut out = Vec::new();
    let mut take = |rest: &mut Ports, ports: &Ports, outcome: Outcome, why: Why| {
        let part = rest.intersect(ports);
        if !part.is_empty() {
            *rest = rest.subtract(&part);
            out.push(Decision {
                ports: part,
                outcome,
                why,
            });
        }
    };
    let mut denied = asked.subtract(&verdict.upper);
    for (policy, rule, ports) in rules(Action::Deny, Tri::Yes) {
        take(
            &mut denied,
            &ports,
            Outcome::Denied,
            Why::Deny { policy, rule },
        );
    }
    if peer == Peer::Plaintext {
        take(
            &mut denied,
            strict.0,
            Outcome::Denied,
            Why::Strict {
                peer_authentication: strict.1,
            },
        );
    }
    let allow: Vec<usize> = policies
        .iter()
        .copied()
        .filter(|&i| istio.authorization[i].action == Action::Allow)
        .collect();
    let everything = all_ports();
    take(
        &mut denied,
        &everything,
        Outcome::Denied,
        Why::NoAllow {
            policies: allow.clone(),
        },
    );
    let mut maybe = asked.intersect(&verdict.upper).subtract(&verdict.lower);
    for (policy, rule, ports) in rules(Action::Deny, Tri::Maybe) {
        take(
            &mut maybe,
            &ports,
            Outcome::Maybe,
            Why::Deny { policy, rule },
        );
    }
    for (policy, rule, ports) in rules(Action::Allow, Tri::Maybe) {
        take(
            &mut maybe,
            &ports,
            Outcome::Maybe,
            Why::Allow { policy, rule },
        );
    }
    let mut allowed = asked.intersect(&verdict.lower);
    for (policy, rule, ports) in rules(Action::Allow, Tri::Yes) {
        take(
            &mut allowed,
            &ports,
            Outcome::Allowed,
            Why::Allow { policy, rule },
        );
    }
    take(&mut allowed, &everything, Outcome::Allowed, Why::Open);
    (verdict, out)
}

/// One sentence naming who decided, e.g. "DENY AuthorizationPolicy `shop/no-admin` rule 1
/// (line 12) matches".
pub fn describe_why(istio: &super::Policies, why: &Why) -> String {
    let policy_at = |i: usize| &istio.authorization[i];
    match why {
        Why::Deny { policy, rule } => {
            let p = policy_at(*policy);
            let r = &p.rules[*rule];
            let l7 = if r.l7.is_empty() {
                String::new()
            } else {
                format!(
                    " (its L7 attributes {} are dropped: ztunnel denies on the rest)",
                    r.l7.join(", ")
                )
            };
            format!(
                "DENY AuthorizationPolicy `{}` rule {} (line {}) matches{l7}",
                p.qualified_name(),
                rule + 1,
                r.line
            )
        }
        Why::Strict {
            peer_authentication,
        } => match peer_authentication {
            Some(i) => {
                let pa = &istio.peer_authentications[*i];
                format!(
                    "PeerAuthentication `{}` (line {}) makes mTLS STRICT: plaintext is refused",
                    pa.qualified_name(),
                    pa.location.line
                )
            }
            None => "mTLS is STRICT: plaintext is refused".into(),
        },
        Why::NoAllow { policies } => {
            let names: Vec<String> = policies
                .iter()
                .map(|&i| format!("`{}`", policy_at(i).qualified_name()))
                .collect();
            let mut text = format!(
                "no rule of the ALLOW AuthorizationPolic{} {} admits this peer",
                if policies.len() == 1 { "y" } else { "ies" },
                names.join(", ")
            );
            for &i in policies {
                let p = policy_at(i);
                for (r, rule) in p.rules.iter().enumerate().filter(|(_, r)| !r.l7.is_empty()) {
                    text.push_str(&format!(
                        "; `{}` rule {} (line {}) uses L7 attributes ({}), which ztunnel cannot see: it never matches",
                        p.qualified_name(),
                        r + 1,
                        rule.line,
                        rule.l7.join(", ")
                    ));
                }
            }
            text
        }
        Why::Allow { policy, rule } => {
            let p = policy_at(*policy);
            format!(
                "ALLOW AuthorizationPolicy `{}` rule {} (line {}) admits it",
                p.qualified_name(),
                rule + 1,
                p.rules[*rule].line
            )
        }
        Why::Open => "no ALLOW AuthorizationPolicy applies and no DENY rule matches".into(),
    }
}

/// The objects that decided, as `Kind namespace/name` (none for [`Why::Open`]).
pub fn decider_name(istio: &super::Policies, why: &Why) -> Vec<String> {
    let ap = |i: usize| {
        format!(
            "AuthorizationPolicy {}",
            istio.authorization[i].qualified_name()
        )
    };
    match why {
        Why::Deny { policy, .. } | Why::Allow { policy, .. } => vec![ap(*policy)],
        Why::Strict {
            peer_authentication: Some(i),
        } => vec![format!(
            "PeerAuthentication {}",
            istio.peer_authentications[*i].qualified_name()
        )],
        Why::Strict { .. } | Why::Open => Vec::new(),
        Why::NoAllow { policies } => policies.iter().map(|&i| ap(i)).collect(),
    }
}
