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

/// The layer of the pipeline a deciding rule or policy belongs to: what the page's namespace
/// matrix counts blocked pairs by (a platform team's guard rail or a namespace's own
/// NetworkPolicy). Declared in pipeline order, as [`Layer::ALL`] lists them (`layer as usize`
/// is a layer's place there).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// The Admin tier: ClusterNetworkPolicy `tier: Admin` and AdminNetworkPolicy.
    Admin,
    /// Kubernetes NetworkPolicy.
    NetworkPolicy,
    /// Cilium's policies (CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy): their allow
    /// rules, read as NetworkPolicy, and their deny rules, read into the Admin tier.
    Cilium,
    /// Calico's tiers (its policies and the tiers' ends), under `--cni calico`.
    Calico,
    /// The Baseline tier: ClusterNetworkPolicy `tier: Baseline` and BaselineAdminNetworkPolicy.
    Baseline,
}

impl Layer {
    /// Every layer, in pipeline order.
    pub const ALL: [Layer; 5] = [
        Layer::Admin,
        Layer::NetworkPolicy,
        Layer::Cilium,
        Layer::Calico,
        Layer::Baseline,
    ];

    /// How messages name the layer: "the Admin tier", "NetworkPolicy".
    pub fn words(self) -> &'static str {
        match self {
            Layer::Admin => "the Admin tier",
            Layer::NetworkPolicy => "NetworkPolicy",
            Layer::Cilium => "Cilium policies",
            Layer::Calico => "Calico tiers",
            Layer::Baseline => "the Baseline tier",
        }
    }
}

impl Cluster {
    /// The layer a policy belongs to.
    pub fn layer(&self, policy: PolicyRef) -> Layer {
        match policy {
            PolicyRef::Network(p) if self.policies.network[p].cilium.is_some() => Layer::Cilium,
            PolicyRef::Network(_) => Layer::NetworkPolicy,
            PolicyRef::Tiered(c) => {
                let policy = &self.policies.tiered[c];
                if policy.kind.starts_with("Cilium") {
                    Layer::Cilium
                } else {
                    match policy.tier {
                        crate::cnp::Tier::Admin => Layer::Admin,
                        crate::cnp::Tier::Baseline => Layer::Baseline,
                    }
                }
            }
            PolicyRef::Calico(_) => Layer::Calico,
        }
    }

    /// The layer of a rule (a Calico tier's end is Calico's).
    pub fn rule_layer(&self, rule: &RuleRef) -> Layer {
        rule.policy().map_or(Layer::Calico, |p| self.layer(p))
    }

    /// The layer of a side's `decider` (`isolating`: the NetworkPolicies that isolate the side,
    /// for a decision of NetworkPolicy's or the default's).
    pub fn decider_layer(&self, decider: &super::engine::Decider, isolating: &[usize]) -> Layer {
        use super::engine::Decider;
        match *decider {
            Decider::Layer(c, _, _) => self.layer(PolicyRef::Tiered(c)),
            Decider::Calico(..) => Layer::Calico,
            Decider::NetworkPolicy | Decider::Default => self.network_layer(isolating),
        }
    }

    /// The layer of the NetworkPolicies `isolating` a side (indexes into `Policies::network`):
    /// Cilium when each is a Cilium policy's allow rules, else NetworkPolicy.
    pub fn network_layer(&self, isolating: &[usize]) -> Layer {
        if !isolating.is_empty()
            && isolating
                .iter()
                .all(|&p| self.policies.network[p].cilium.is_some())
        {
            Layer::Cilium
        } else {
            Layer::NetworkPolicy
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

#[cfg(test)]
mod tests {
    //! The names and places below are those of the fixtures' snapshots (checked by hand against
    //! `tests/snapshots/fixtures__<name>.snap`), here asked of the API directly.

    use super::*;
    use crate::calico::eval::PodAddresses;
    use crate::pipeline::engine::{Endpoint, Engine, HostNetwork};

    fn cluster(fixture: &[&str]) -> Cluster {
        let sources: Vec<crate::Source> = fixture
            .iter()
            .map(|text| crate::Source { name: "f", text })
            .collect();
        let loaded = crate::input::load(&sources);
        super::super::load(&loaded.objects).0
    }

    /// The ingress side of `shop/api` from `web/frontend` (the fixtures' pair).
    fn api_from_web(engine: &Engine) -> crate::pipeline::engine::SideVerdict {
        let workload = |name: &str| engine.cluster.workload(name).expect("the fixture's pod");
        engine.side(
            Endpoint::Workload(workload("shop/api")),
            Endpoint::Workload(workload("web/frontend")),
            Direction::Ingress,
        )
    }

    fn at(location: Option<Location>) -> Option<(u32, u32)> {
        location.map(|l| (l.line, l.column))
    }

    /// `client-to-server-app-port`: "app.yaml:57:5: AMB001 error: ingress rule 1 of
    /// NetworkPolicy `shop/server` admits ...".
    #[test]
    fn a_network_policy_rule() {
        let cluster = cluster(&[include_str!(
            "../../tests/fixtures/client-to-server-app-port/app.yaml"
        )]);
        let p = (0..cluster.policies.network.len())
            .find(|&p| cluster.policies.network[p].qualified_name() == "shop/server")
            .expect("the fixture's policy");
        let rule = RuleRef::network(p, Direction::Ingress, 0);
        assert_eq!(
            cluster.rule_name(&rule),
            "ingress rule 1 of NetworkPolicy `shop/server`"
        );
        assert_eq!(cluster.rule_in_policy(&rule), "ingress rule 1");
        assert_eq!(cluster.rule_label(&rule), "shop/server ingress rule 1");
        assert_eq!(at(cluster.rule_location(&rule)), Some((57, 5)));
        let policy = PolicyRef::Network(p);
        assert_eq!(cluster.policy_name(policy), "shop/server");
        assert_eq!(cluster.policy_kind(policy), "NetworkPolicy");
        assert_eq!(cluster.layer(policy), Layer::NetworkPolicy);
        assert_eq!(cluster.rule_layer(&rule), Layer::NetworkPolicy);
        assert_eq!(cluster.network_layer(&[p]), Layer::NetworkPolicy);
        let finding = cluster.rule_finding(crate::findings::Code::Amb001, "m".into(), &rule);
        assert_eq!(at(finding.location), Some((57, 5)));
        assert_eq!(finding.policy.as_deref(), Some("shop/server"));
        assert_eq!(finding.policy_kind.as_deref(), Some("NetworkPolicy"));
        // An index past the rules names the policy alone: its findings point at the policy.
        let past = RuleRef::network(p, Direction::Ingress, usize::MAX);
        assert_eq!(cluster.rule_location(&past), None);
        assert_eq!(
            cluster
                .rule_finding(crate::findings::Code::Amb001, "m".into(), &past)
                .location,
            Some(cluster.policy_location(policy))
        );
    }

    /// `cnp-admin-accept-then-deny`: "policies.yaml:15:5: AMB001 error: ingress rule 1
    /// (`accept-web-8080`) of ClusterNetworkPolicy `shop-guard` (Admin tier, priority 10) accepts
    /// ..., but ingress rule 2 (`deny-web`) of the same policy denies ...", and its extra's note
    /// "ClusterNetworkPolicy `shop-guard` (Admin tier, priority 10) ingress rule 2 (`deny-web`)";
    /// the engine's deciding matches hand out those rules.
    #[test]
    fn a_cluster_network_policy_rule() {
        let cluster = cluster(&[
            include_str!("../../tests/fixtures/cnp-admin-accept-then-deny/cluster.yaml"),
            include_str!("../../tests/fixtures/cnp-admin-accept-then-deny/policies.yaml"),
        ]);
        let accept = RuleRef::tiered(0, Direction::Ingress, 0);
        let deny = RuleRef::tiered(0, Direction::Ingress, 1);
        assert_eq!(
            cluster.rule_name(&accept),
            "ingress rule 1 (`accept-web-8080`) of ClusterNetworkPolicy `shop-guard` (Admin tier, priority 10)"
        );
        assert_eq!(cluster.rule_in_policy(&deny), "ingress rule 2 (`deny-web`)");
        assert_eq!(
            cluster.rule_label(&deny),
            "ClusterNetworkPolicy `shop-guard` (Admin tier, priority 10) ingress rule 2 (`deny-web`)"
        );
        assert_eq!(at(cluster.rule_location(&accept)), Some((15, 5)));
        // The source is the second one given (`cluster.yaml` first).
        assert_eq!(cluster.rule_location(&accept).map(|l| l.source), Some(1));
        assert_eq!(at(cluster.rule_location(&deny)), Some((25, 5)));
        assert_eq!(cluster.policy_name(PolicyRef::Tiered(0)), "shop-guard");
        assert_eq!(
            cluster.policy_kind(PolicyRef::Tiered(0)),
            "ClusterNetworkPolicy"
        );

        assert_eq!(cluster.layer(PolicyRef::Tiered(0)), Layer::Admin);
        assert_eq!(cluster.rule_layer(&deny), Layer::Admin);

        let engine = Engine::new(&cluster);
        let side = api_from_web(&engine);
        let refs: Vec<RuleRef> = side
            .decided_by
            .iter()
            .map(|m| m.rule_ref(Direction::Ingress))
            .collect();
        assert_eq!(refs, vec![accept, deny.clone()]);
        let decider = side.decider(crate::net::conn::Protocol::Tcp, 15008);
        assert_eq!(decider.rule_ref(Direction::Ingress), Some(deny));
        assert_eq!(cluster.decider_layer(&decider, &[]), Layer::Admin);
    }

    /// `calico-ordered-policies`: "policies.yaml:35:5: AMB001 error: ingress rule 1 (Allow) of
    /// Calico GlobalNetworkPolicy `api-allow-frontend` (tier `default`, order 200) allows ...,
    /// but ingress rule 2 (Deny) of Calico GlobalNetworkPolicy `shop-deny-rest` (tier `default`,
    /// order 300) denies ...".
    #[test]
    fn a_calico_rule() {
        let cluster = cluster(&[
            include_str!("../../tests/fixtures/calico-ordered-policies/cluster.yaml"),
            include_str!("../../tests/fixtures/calico-ordered-policies/policies.yaml"),
        ]);
        let index = |name: &str| {
            (0..cluster.policies.calico.len())
                .find(|&c| cluster.policies.calico[c].name == name)
                .expect("the fixture's policy")
        };
        let allow = RuleRef::calico(index("api-allow-frontend"), Direction::Ingress, 0);
        let deny = RuleRef::calico(index("shop-deny-rest"), Direction::Ingress, 1);
        assert_eq!(
            cluster.rule_name(&allow),
            "ingress rule 1 (Allow) of Calico GlobalNetworkPolicy `api-allow-frontend` (tier `default`, order 200)"
        );
        assert_eq!(
            cluster.rule_name(&deny),
            "ingress rule 2 (Deny) of Calico GlobalNetworkPolicy `shop-deny-rest` (tier `default`, order 300)"
        );
        assert_eq!(at(cluster.rule_location(&allow)), Some((35, 5)));
        let policy = allow.policy().expect("a rule's policy");
        assert_eq!(cluster.policy_name(policy), "api-allow-frontend");
        assert_eq!(cluster.policy_kind(policy), "GlobalNetworkPolicy (Calico)");
    }

    /// `calico-pass-then-tier-end`: the `security` tier's end denies 15008/TCP. Its match names
    /// the tier, as the paths' `blocked_by` and AMB005 do ("the end of Calico tier `security`"),
    /// and has no place of its own.
    #[test]
    fn a_calico_tier_end() {
        let cluster = cluster(&[
            include_str!("../../tests/fixtures/calico-pass-then-tier-end/cluster.yaml"),
            include_str!("../../tests/fixtures/calico-pass-then-tier-end/policies.yaml"),
        ]);
        let engine = Engine::configured(
            &cluster,
            HostNetwork::default(),
            Some(PodAddresses::default()),
        );
        let side = api_from_web(&engine);
        let end = side
            .calico
            .iter()
            .find(|m| m.policy.is_none() && m.tier == "security")
            .expect("the security tier's end")
            .rule_ref(Direction::Ingress);
        assert_eq!(end, RuleRef::CalicoTierEnd("security".into()));
        assert_eq!(cluster.rule_name(&end), "the end of Calico tier `security`");
        assert_eq!(
            cluster.rule_label(&end),
            "the end of Calico tier `security`"
        );
        assert_eq!(cluster.rule_location(&end), None);
        assert_eq!(end.policy(), None);
        assert_eq!(cluster.rule_layer(&end), Layer::Calico);
        let decider = side.decider(crate::net::conn::Protocol::Tcp, 15008);
        assert_eq!(cluster.decider_layer(&decider, &[]), Layer::Calico);
        let pass = side
            .calico
            .iter()
            .find(|m| m.policy.is_some())
            .expect("the Pass rule")
            .rule_ref(Direction::Ingress);
        assert_eq!(
            cluster.rule_name(&pass),
            "ingress rule 1 (Pass) of Calico GlobalNetworkPolicy `security.pass-web` (tier `security`, order 10)"
        );
        assert_eq!(at(cluster.rule_location(&pass)), Some((17, 5)));
    }
}
