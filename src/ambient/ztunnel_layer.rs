//! The ztunnel layer of the pipeline: once enrolled, what the destination's ztunnel does with
//! the traffic the CNI lets through. It judges the inner port by the identity it sees: the
//! sender's over HBONE, the waypoint's on a waypoint path (the destination's ztunnel sees the
//! waypoint, not the client), none for plaintext from outside the mesh (istio.io "Use Layer 4
//! security policy"). Only ambient destinations have a ztunnel in front of them; `explain`,
//! `connectivity --mode ambient` and the drawn paths read this layer, after the CNI's verdict.

use std::cell::OnceCell;

use super::mesh::{GATEWAY_NAME, Membership, Reason};
use super::{Context, Route};
use crate::istio::ztunnel::{self, Decision, Peer, Ports, Verdict};
use crate::net::conn::{ConnSet, Protocol};

/// How the traffic reaches the destination's ztunnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// Plaintext on the original port: no mesh identity.
    Plaintext,
    /// HBONE from the sender: its identity.
    Hbone,
    /// HBONE from the waypoint pod (given): the waypoint's identity.
    Waypoint(usize),
}

/// ztunnel's verdict on some TCP ports of one connection.
#[derive(Clone, Debug)]
pub struct Judgement {
    pub destination: usize,
    pub via: Via,
    /// The identity ztunnel sees, as a principal or a description; `None` for plaintext.
    pub identity: Option<String>,
    /// The TCP ports judged.
    pub asked: Ports,
    pub verdict: Verdict,
    /// `asked`, split by who decides.
    pub decisions: Vec<Decision>,
}

impl Judgement {
    /// The ports of `asked` ztunnel surely refuses.
    pub fn denied(&self) -> Ports {
        self.asked.subtract(&self.verdict.upper)
    }

    /// The ports of `asked` that depend on addresses the input lacks.
    pub fn uncertain(&self) -> Ports {
        self.asked
            .intersect(&self.verdict.upper)
            .subtract(&self.verdict.lower)
    }

    /// The ports of `asked` ztunnel surely lets through.
    pub fn allowed(&self) -> Ports {
        self.asked.intersect(&self.verdict.lower)
    }

    /// The objects that refuse (or may refuse) some port, each once, as `Kind namespace/name`.
    pub fn refused_by(&self, cx: &Context) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for d in self
            .decisions
            .iter()
            .filter(|d| d.outcome != ztunnel::Outcome::Allowed)
        {
            for name in ztunnel::decider_name(&cx.cluster.policies.istio, &d.why) {
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
        out
    }
}

/// What ztunnel enforces for one destination.
struct Enforced {
    policies: Vec<usize>,
    strict: Ports,
    strict_by: Option<usize>,
}

pub struct Layer<'c> {
    cx: &'c Context<'c>,
    enforced: Vec<OnceCell<Enforced>>,
}

impl<'c> Layer<'c> {
    pub fn new(cx: &'c Context<'c>) -> Self {
        Layer {
            cx,
            enforced: (0..cx.cluster.workloads.len())
                .map(|_| OnceCell::new())
                .collect(),
        }
    }

    fn enforced(&self, d: usize) -> &Enforced {
        self.enforced[d].get_or_init(|| {
            let w = &self.cx.cluster.workloads[d];
            let (strict, strict_by) =
                ztunnel::strict_ports(&self.cx.cluster.policies.istio, self.cx.istio, w);
            Enforced {
                policies: ztunnel::enforced(&self.cx.cluster.policies.istio, self.cx.istio, w),
                strict,
                strict_by,
            }
        })
    }

    /// Whether ztunnel may refuse anything to `d`: an ambient destination with an
    /// AuthorizationPolicy ztunnel enforces or STRICT ports.
    pub fn restricts(&self, d: usize) -> bool {
        if !self.cx.membership[d].is_ambient()
            || self.cx.cluster.policies.istio.authorization.is_empty()
                && self
                    .cx
                    .cluster
                    .policies
                    .istio
                    .peer_authentications
                    .is_empty()
        {
            return false;
        }
        let e = self.enforced(d);
        !e.policies.is_empty() || !e.strict.is_empty()
    }

    /// How traffic from `s` (`None`: an address, outside the mesh) reaches `d`'s ztunnel.
    pub fn via(&self, s: Option<usize>, d: usize) -> Via {
        let Some(s) = s else { return Via::Plaintext };
        if self.waypoint_identity(s).is_some() {
            // A waypoint pod speaks HBONE with its own identity.
            return Via::Hbone;
        }
        match self.cx.route(s, d) {
            Route::Direct => Via::Plaintext,
            Route::Hbone => Via::Hbone,
            Route::Waypoint => Via::Waypoint(
                self.cx
                    .waypoint_pod(d)
                    .expect("a waypoint route has a waypoint pod"),
            ),
        }
    }

    /// A waypoint pod's identity (namespace, account): its service account, else its Gateway's
    /// name (what Istio's deployment of a waypoint uses).
    fn waypoint_identity(&self, w: usize) -> Option<(&'c str, &'c str)> {
        if self.cx.membership[w] != Membership::Outside(Reason::Waypoint) {
            return None;
        }
        let pod = &self.cx.cluster.workloads[w];
        let account = pod
            .service_account
            .as_deref()
            .or_else(|| pod.labels.get(GATEWAY_NAME).map(String::as_str))?;
        Some((pod.namespace.as_str(), account))
    }

    fn peer(&self, s: Option<usize>, via: Via) -> Peer<'c> {
        let workloads = &self.cx.cluster.workloads;
        let identity = |w: usize| match self.waypoint_identity(w) {
            Some((namespace, account)) => Peer::Mesh {
                namespace,
                account: Some(account),
            },
            None => Peer::of(&workloads[w]),
        };
        match (via, s) {
            (Via::Plaintext, _) | (_, None) => Peer::Plaintext,
            (Via::Hbone, Some(s)) => identity(s),
            (Via::Waypoint(w), _) => identity(w),
        }
    }

    /// ztunnel's verdict on the TCP ports `asked` from `s` (`None`: an address) to `d`; `None`
    /// when `d` is not an ambient pod (no ztunnel in front of it).
    pub fn judge(&self, s: Option<usize>, d: usize, asked: &Ports) -> Option<Judgement> {
        if !self.cx.membership[d].is_ambient() {
            return None;
        }
        let via = self.via(s, d);
        let peer = self.peer(s, via);
        let e = self.enforced(d);
        let (verdict, decisions) = ztunnel::explain(
            &self.cx.cluster.policies.istio,
            self.cx.istio,
            &e.policies,
            (&e.strict, e.strict_by),
            peer,
            asked,
        );
        let identity = match peer {
            Peer::Plaintext => None,
            Peer::Mesh {
                namespace,
                account: Some(account),
            } => Some(ztunnel::principal(self.cx.istio, namespace, account)),
            Peer::Mesh {
                namespace,
                account: None,
            } => Some(format!(
                "an identity of namespace `{namespace}` (pods not in the input)"
            )),
            Peer::Anyone => Some("a mesh identity the input does not name".into()),
        };
        Some(Judgement {
            destination: d,
            via,
            identity,
            asked: asked.clone(),
            verdict,
            decisions,
        })
    }

    /// What ztunnel refuses of `allowed` (what the CNI lets through from `s`, `None`: an address,
    /// to `d` once enrolled), for the connectivity map; `None` when it refuses nothing.
    pub fn refused(
        &self,
        s: Option<usize>,
        d: usize,
        allowed: &ConnSet,
    ) -> Option<crate::pipeline::connectivity::Refused> {
        if !self.restricts(d) {
            return None;
        }
        let j = self.judge(s, d, allowed.of(Protocol::Tcp))?;
        let (denied, uncertain) = (j.denied(), j.uncertain());
        if denied.is_empty() && uncertain.is_empty() {
            return None;
        }
        Some(crate::pipeline::connectivity::Refused {
            denied: ConnSet::ports(Protocol::Tcp, denied),
            uncertain: ConnSet::ports(Protocol::Tcp, uncertain),
            by: j.refused_by(self.cx),
        })
    }

    /// "the identity `cluster.local/ns/shop/sa/web` over HBONE", "no identity (plaintext)".
    pub fn describe_peer(&self, j: &Judgement) -> String {
        let identity = j.identity.as_deref().unwrap_or("");
        let named = if identity.starts_with(self.cx.istio.trust_domain) {
            format!("`{identity}`")
        } else {
            identity.to_string()
        };
        match j.via {
            Via::Plaintext => "no identity (plaintext from outside the mesh)".into(),
            Via::Hbone => format!("the identity {named} over HBONE"),
            Via::Waypoint(w) => format!(
                "the waypoint's identity {named} (through `{}`), not the client's",
                self.cx.workload_name(w)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Layer, Via};
    use crate::ambient::Context;
    use crate::istio::ztunnel::{Outcome, Why, all_ports};
    use crate::net::ranges::Ranges;
    use crate::{Options, Source, pipeline};

    const CLUSTER: &str = "apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Namespace
metadata: {name: legacy}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {serviceAccountName: web, containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {serviceAccountName: api, containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: old, namespace: legacy, labels: {app: old}}
spec: {containers: [{name: c}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  rules:
  - from: [{source: {principals: [cluster.local/ns/shop/sa/web]}}]
    to: [{operation: {ports: ['8080']}}]
  - from: [{source: {principals: [cluster.local/ns/shop/sa/web]}}]
    to: [{operation: {methods: [GET]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: no-admin, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  action: DENY
  rules:
  - to: [{operation: {ports: ['9000']}}]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
";

    fn with_layer(check: impl Fn(&Context, &Layer)) {
        let loaded = crate::load(&[Source {
            name: "c.yaml",
            text: CLUSTER,
        }]);
        let mut cluster: pipeline::Cluster = loaded.cluster;
        cluster.add_inferred();
        let engine = pipeline::engine::Engine::new(&cluster);
        let options = Options::default();
        let cx = Context::new(&engine, &options);
        let layer = Layer::new(&cx);
        check(&cx, &layer);
    }

    fn index(cx: &Context, name: &str) -> usize {
        cx.cluster
            .workload(name)
            .expect("the workload is in the cluster")
    }

    #[test]
    fn each_part_of_the_ports_is_decided_by_its_own_rule() {
        with_layer(|cx, layer| {
            let (web, api) = (index(cx, "shop/web"), index(cx, "shop/api"));
            let j = layer.judge(Some(web), api, &all_ports()).expect("ambient");
            assert_eq!(j.via, Via::Hbone);
            assert_eq!(j.identity.as_deref(), Some("cluster.local/ns/shop/sa/web"));
            assert_eq!(j.allowed(), Ranges::single(8080));
            assert!(j.uncertain().is_empty());
            let parts: Vec<(Outcome, &Why, String)> = j
                .decisions
                .iter()
                .map(|d| {
                    (
                        d.outcome,
                        &d.why,
                        crate::istio::ztunnel::describe_ports(&d.ports),
                    )
                })
                .collect();
            assert_eq!(
                parts,
                [
                    (
                        Outcome::Denied,
                        &Why::Deny { policy: 1, rule: 0 },
                        "9000".to_string()
                    ),
                    (
                        Outcome::Denied,
                        &Why::NoAllow { policies: vec![0] },
                        "1-8079, 8081-8999, 9001-65535".to_string()
                    ),
                    (
                        Outcome::Allowed,
                        &Why::Allow { policy: 0, rule: 0 },
                        "8080".to_string()
                    ),
                ]
            );
            assert_eq!(
                j.refused_by(cx),
                [
                    "AuthorizationPolicy shop/no-admin",
                    "AuthorizationPolicy shop/api"
                ]
            );
        });
    }

    #[test]
    fn plaintext_meets_strict_mtls_and_other_destinations_have_no_ztunnel() {
        with_layer(|cx, layer| {
            let (old, web, api) = (
                index(cx, "legacy/old"),
                index(cx, "shop/web"),
                index(cx, "shop/api"),
            );
            // web has no AuthorizationPolicy: only STRICT mTLS refuses the plaintext of `old`.
            let j = layer
                .judge(Some(old), web, &Ranges::single(80))
                .expect("ambient");
            assert_eq!(j.via, Via::Plaintext);
            assert_eq!(j.identity, None);
            assert_eq!(j.denied(), Ranges::single(80));
            assert!(matches!(
                j.decisions[0].why,
                Why::Strict {
                    peer_authentication: Some(0)
                }
            ));
            assert!(layer.restricts(web) && layer.restricts(api));
            // An address is plaintext too.
            assert_eq!(
                layer.judge(None, api, &all_ports()).map(|j| j.via),
                Some(Via::Plaintext)
            );
            assert!(layer.judge(Some(web), old, &all_ports()).is_none());
            assert!(!layer.restricts(old));
        });
    }
}
