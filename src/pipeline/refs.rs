//! How the layers above name and place a policy or one of its rules: a [`PolicyRef`] or
//! [`RuleRef`] (the engine's verdicts hand them out: [`super::engine::RuleMatch::rule_ref`] and
//! the like), and [`Cluster`]'s methods that turn one into the words of a message or a place in
//! the input. The phrasing lives here once, not at every finding that names a rule.

use super::Cluster;
use crate::findings::{Code, Finding, Location};
use crate::net::Direction;

/// A policy of one of the families the engine composes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyRef {
    /// Index into `Policies::network` (NetworkPolicies, and Cilium's allow rules).
    Network(usize),
    /// Index into `Policies::tiered` (the Admin and Baseline tiers, and Cilium's deny rules).
    Tiered(usize),
    /// Index into `Policies::calico`.
    Calico(usize),
}

/// A rule of a policy, or the end of a Calico tier (its default action, with no rule).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RuleRef {
    /// Rule `rule` (0-based) of the policy's `direction` list. An index past the list names the
    /// policy alone (its findings point at the policy).
    Rule {
        policy: PolicyRef,
        direction: Direction,
        rule: usize,
    },
    /// The end of the Calico tier of this name: what its policies selected and no rule decided.
    CalicoTierEnd(String),
}

impl RuleRef {
    /// Rule `rule` of NetworkPolicy `policy` (an index into `Policies::network`).
    pub fn network(policy: usize, direction: Direction, rule: usize) -> Self {
        Self::of(PolicyRef::Network(policy), direction, rule)
    }

    /// Rule `rule` of cluster-wide policy `policy` (an index into `Policies::tiered`).
    pub fn tiered(policy: usize, direction: Direction, rule: usize) -> Self {
        Self::of(PolicyRef::Tiered(policy), direction, rule)
    }

    /// Rule `rule` of Calico policy `policy` (an index into `Policies::calico`).
    pub fn calico(policy: usize, direction: Direction, rule: usize) -> Self {
        Self::of(PolicyRef::Calico(policy), direction, rule)
    }

    pub fn of(policy: PolicyRef, direction: Direction, rule: usize) -> Self {
        RuleRef::Rule {
            policy,
            direction,
            rule,
        }
    }

    /// The policy the rule belongs to (`None`: a tier's end).
    pub fn policy(&self) -> Option<PolicyRef> {
        match self {
            RuleRef::Rule { policy, .. } => Some(*policy),
            RuleRef::CalicoTierEnd(_) => None,
        }
    }
}

impl Cluster {
    /// How a finding's `policy` field names it: `ns/name`, or `name` for a cluster-scoped
    /// object.
    pub fn policy_name(&self, policy: PolicyRef) -> String {
        match policy {
            PolicyRef::Network(p) => self.policies.network[p].qualified_name(),
            PolicyRef::Tiered(c) => self.policies.tiered[c].name.clone(),
            PolicyRef::Calico(c) => self.policies.calico[c].qualified_name(),
        }
    }

    /// A finding's `policy_kind`: the object's kind (Calico's with ` (Calico)`).
    pub fn policy_kind(&self, policy: PolicyRef) -> String {
        match policy {
            PolicyRef::Network(p) => self.policies.network[p].kind().to_string(),
            PolicyRef::Tiered(c) => self.policies.tiered[c].kind.clone(),
            PolicyRef::Calico(c) => format!("{} (Calico)", self.policies.calico[c].kind),
        }
    }

    /// Where the policy's object starts in the input.
    pub fn policy_location(&self, policy: PolicyRef) -> Location {
        match policy {
            PolicyRef::Network(p) => self.policies.network[p].location,
            PolicyRef::Tiered(c) => self.policies.tiered[c].location,
            PolicyRef::Calico(c) => self.policies.calico[c].location,
        }
    }

    /// How messages name the policy: NetworkPolicy `ns/name`; ClusterNetworkPolicy `guard`
    /// (Admin tier, priority 10); Calico GlobalNetworkPolicy `deny-rest` (tier `default`,
    /// order 200).
    pub fn describe_policy(&self, policy: PolicyRef) -> String {
        match policy {
            PolicyRef::Network(p) => {
                let p = &self.policies.network[p];
                format!("{} `{}`", p.kind(), p.qualified_name())
            }
            PolicyRef::Tiered(c) => self.policies.tiered[c].describe(),
            PolicyRef::Calico(c) => self.policies.calico[c].describe(),
        }
    }

    /// How explanations and paths list the policy: a NetworkPolicy by its `ns/name` alone,
    /// every other kind as [`Cluster::describe_policy`] (a Cilium policy's allow rules with
    /// their kind).
    pub fn policy_label(&self, policy: PolicyRef) -> String {
        match policy {
            PolicyRef::Network(p) if self.policies.network[p].cilium.is_none() => {
                self.policy_name(policy)
            }
            _ => self.describe_policy(policy),
        }
    }

    /// The rule named within its policy: "ingress rule 1"; a cluster-wide rule with its name,
    /// "ingress rule 2 (`deny-web`)" (Cilium's deny rules "ingressDeny rule 1"); a Calico rule
    /// with its action, "ingress rule 2 (Deny)". A tier's end as [`Cluster::rule_name`].
    pub fn rule_in_policy(&self, rule: &RuleRef) -> String {
        match *rule {
            RuleRef::Rule {
                policy: PolicyRef::Network(_),
                direction,
                rule,
            } => format!("{} rule {}", direction.as_str(), rule + 1),
            RuleRef::Rule {
                policy: PolicyRef::Tiered(c),
                direction,
                rule,
            } => self.policies.tiered[c].rule_name(direction, rule),
            RuleRef::Rule {
                policy: PolicyRef::Calico(c),
                direction,
                rule,
            } => self.policies.calico[c].rule_name(direction, rule),
            RuleRef::CalicoTierEnd(_) => self.rule_name(rule),
        }
    }

    /// How messages name the rule: "ingress rule 1 of NetworkPolicy `ns/name`", "ingress rule 2
    /// (Deny) of Calico GlobalNetworkPolicy `x` (tier `default`, order 100)", "the end of Calico
    /// tier `default`".
    pub fn rule_name(&self, rule: &RuleRef) -> String {
        match rule {
            RuleRef::Rule { policy, .. } => format!(
                "{} of {}",
                self.rule_in_policy(rule),
                self.describe_policy(*policy)
            ),
            RuleRef::CalicoTierEnd(tier) => format!("the end of Calico tier `{tier}`"),
        }
    }

    /// How explanations and paths list the rule: the policy as [`Cluster::policy_label`], then
    /// the rule within it ("ns/name ingress rule 1").
    pub fn rule_label(&self, rule: &RuleRef) -> String {
        match rule {
            RuleRef::Rule { policy, .. } => format!(
                "{} {}",
                self.policy_label(*policy),
                self.rule_in_policy(rule)
            ),
            RuleRef::CalicoTierEnd(_) => self.rule_name(rule),
        }
    }

    /// The rule's place in the input (`None`: a tier's end, or an index past the rules).
    pub fn rule_location(&self, rule: &RuleRef) -> Option<Location> {
        let RuleRef::Rule {
            policy,
            direction,
            rule,
        } = *rule
        else {
            return None;
        };
        let (line, column) = match policy {
            PolicyRef::Network(p) => self.policies.network[p]
                .rules(direction)
                .get(rule)
                .map(|r| (r.line, r.column)),
            PolicyRef::Tiered(c) => self.policies.tiered[c]
                .rules(direction)
                .get(rule)
                .map(|r| (r.line, r.column)),
            PolicyRef::Calico(c) => self.policies.calico[c]
                .rules(direction)
                .get(rule)
                .map(|r| (r.line, r.column)),
        }?;
        Some(Location {
            line,
            column,
            ..self.policy_location(policy)
        })
    }

    /// A finding on a rule: at the rule (else at its policy), naming the policy and its kind.
    pub fn rule_finding(&self, code: Code, message: String, rule: &RuleRef) -> Finding {
        let policy = rule.policy();
        let at = self
            .rule_location(rule)
            .or(policy.map(|p| self.policy_location(p)));
        let mut finding = Finding::new(code, message, at);
        finding.policy = policy.map(|p| self.policy_name(p));
        finding.policy_kind = policy.map(|p| self.policy_kind(p));
        finding
    }
}
