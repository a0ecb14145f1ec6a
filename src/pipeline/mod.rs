//! The policy pipeline: the model ([`crate::model`]) and every policy family's objects read into
//! one [`Cluster`] ([`load`]), and composed into one verdict per connection ([`engine`]).
//!
//! Layers, each depending only on those above it:
//! 1. `input` (YAML, objects), `findings`, `net` (connection sets, addresses, directions, ports);
//! 2. `model`: namespaces, workloads, Services, Gateways, Nodes;
//! 3. the policy families, each parsing and validating its own objects: `netpol`, `cnp`
//!    (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy), `cilium` (read into
//!    `netpol` and `cnp` shapes), `calico`, `istio`;
//! 4. `pipeline`: this module (the cluster and its policies) and the engine (tiers, NetworkPolicy,
//!    Calico's tiers, the class tables that make large inputs fast);
//! 5. `ambient`, `rules`, `fix`, `report`: what ambient mode changes, asked of the pipeline.

pub mod connectivity;
pub mod engine;
pub mod memo;
pub mod refs;

pub use refs::{Layer, PolicyRef, RuleRef};

use crate::findings::{Code, Finding, Location};
use crate::input::Object;
use crate::model::{self, Model};
use crate::netpol::policy::{self, NetworkPolicy};
use crate::{calico, cilium, cnp, istio};

/// Every policy of the input, by family, in input order.
#[derive(Debug, Default)]
pub struct Policies {
    /// NetworkPolicies, and the allow rules of Cilium policies read as NetworkPolicies.
    pub network: Vec<NetworkPolicy>,
    /// Admin and Baseline tiers (ClusterNetworkPolicy, AdminNetworkPolicy,
    /// BaselineAdminNetworkPolicy), and the deny rules of Cilium policies.
    pub tiered: Vec<cnp::ClusterPolicy>,
    /// Calico's NetworkPolicies and GlobalNetworkPolicies (evaluated under `--cni calico` only).
    pub calico: Vec<calico::CalicoPolicy>,
    /// Calico `Tier` objects; a tier policies name without one has the defaults.
    pub calico_tiers: Vec<calico::Tier>,
    /// Istio's AuthorizationPolicies and PeerAuthentications.
    pub istio: istio::Policies,
}

/// The model and the policies: what the engine, the rules and the fixes read.
#[derive(Debug, Default)]
pub struct Cluster {
    pub model: Model,
    pub policies: Policies,
}

/// The cluster reads as its model: `cluster.workloads`, `cluster.namespace(..)`.
impl std::ops::Deref for Cluster {
    type Target = Model;

    fn deref(&self) -> &Model {
        &self.model
    }
}

/// Whether an object is a policy of one of the families.
pub fn is_policy(object: &Object) -> bool {
    object.kind == "NetworkPolicy"
        || calico::is_calico(object)
        || cnp::is_cluster_policy(object)
        || cilium::is_cilium_policy(object)
        || istio::is_istio_security(object)
}

/// Reads the objects into a cluster: the model's objects, and each family's policies. Invalid
/// objects are reported (INP003) and left out, in input order; rules the analysis cannot judge
/// are reported (INP007).
pub fn load<'o>(objects: impl IntoIterator<Item = &'o Object>) -> (Cluster, Vec<Finding>) {
    let mut findings = Vec::new();
    let mut builder = model::Builder::default();
    let mut policies = Policies::default();
    for object in objects {
        if !is_policy(object) {
            builder.add(object, &mut findings);
            continue;
        }
        if let Err(invalid) = read_policy(object, &mut policies, &mut findings) {
            findings.push(model::invalid_object(
                object,
                invalid,
                "the object is skipped",
                true,
            ));
        }
    }
    let named = policies
        .network
        .iter()
        .filter(|p| p.namespaces.is_none())
        .map(|p| &p.namespace)
        .chain(policies.calico.iter().filter_map(|p| p.namespace.as_ref()));
    let mut model = builder.finish(named);
    cnp::unresolved_peers(&policies.tiered, !model.nodes.is_empty(), &mut findings);
    calico::not_analysed(&policies.calico, &mut findings);
    // Cilium selects pods by service account through a label of its own.
    if policies.network.iter().any(|p| p.cilium.is_some()) {
        for w in &mut model.workloads {
            let account = w
                .service_account
                .clone()
                .unwrap_or_else(|| "default".into());
            w.labels
                .insert(cilium::SERVICE_ACCOUNT_LABEL.to_string(), account);
        }
    }
    (Cluster { model, policies }, findings)
}

fn read_policy(
    object: &Object,
    policies: &mut Policies,
    findings: &mut Vec<Finding>,
) -> Result<(), model::fields::Invalid> {
    match object.kind.as_str() {
        _ if calico::is_calico(object) => calico::parse(object).map(|parsed| match parsed {
            calico::Parsed::Policy(p) => policies.calico.push(*p),
            calico::Parsed::Tier(t) => policies.calico_tiers.push(t),
        }),
        "NetworkPolicy" => policy::parse(object).map(|p| policies.network.push(p)),
        _ if cnp::is_cluster_policy(object) => cnp::parse(object).map(|p| policies.tiered.push(p)),
        _ if cilium::is_cilium_policy(object) => cilium::parse(object).map(|parsed| {
            for note in parsed.not_analysed {
                let mut finding = Finding::new(
                    Code::Inp007,
                    format!("{} `{}`: {}", object.kind, object.name, note.message),
                    Some(Location {
                        line: note.line,
                        column: note.column,
                        ..object.location
                    }),
                );
                finding.policy = Some(object.qualified_name());
                finding.policy_kind = Some(object.kind.clone());
                findings.push(finding);
            }
            policies.network.extend(parsed.allow);
            policies.tiered.extend(parsed.deny);
        }),
        _ => istio::parse(object).map(|parsed| match parsed {
            istio::Parsed::Authorization(p) => policies.istio.authorization.push(p),
            istio::Parsed::Peer(p) => policies.istio.peer_authentications.push(p),
        }),
    }
}

impl Cluster {
    /// Adds the workloads (and namespaces) the NetworkPolicies' selectors stand for
    /// ([`model::inferred`]).
    pub fn add_inferred(&mut self) {
        self.add_inferred_for(false);
    }

    /// [`Cluster::add_inferred`], and with `calico` (`--cni calico`, where Calico's policies
    /// are evaluated) Calico's policies' selectors too.
    pub fn add_inferred_for(&mut self, calico: bool) {
        let mut stand_ins = crate::netpol::stand_ins(&self.policies.network);
        let mut first = self.policies.network.first().map(|p| p.location);
        if calico {
            stand_ins.extend(crate::calico::stand_ins(&self.policies.calico));
            first = first.or(self.policies.calico.first().map(|p| p.location));
        }
        model::inferred::add_inferred(&mut self.model, stand_ins, first);
    }
}
