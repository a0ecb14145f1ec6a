//! The examples the page offers: the seed's four examples from `tests/seed/`, and teaching cases
//! that are also fixture tests (`tests/fixtures/`), so every example's findings are checked by
//! `cargo test`. Each one can be applied to a lab cluster as it is (`tests/manifests.rs` checks
//! them against the Kubernetes schema): the Istio page's first two policies have no name, which
//! `kubectl apply` refuses, so the page's copies end with one (at the end, so that the lines the
//! findings and lessons point at stay those of the seed).

use ambient_netpol::ambient::Cni;

pub struct Example {
    pub id: &'static str,
    pub title: &'static str,
    pub text: &'static str,
    /// The CNI the example is about: choosing the example sets it (Calico's policies are
    /// evaluated only under Calico, Cilium's probe facts only under Cilium).
    pub cni: Option<Cni>,
}

pub const EXAMPLES: &[Example] = &[
    Example {
        id: "seed-hbone",
        cni: None,
        title: "Seed 1: a policy that blocks HBONE (9090 only)",
        text: concat!(
            include_str!("../../tests/seed/hbone-blocked.yaml"),
            "metadata:\n  name: my-app-ingress\n"
        ),
    },
    Example {
        id: "seed-hbone-corrected",
        cni: None,
        title: "Seed 2: the corrected policy (15008 added)",
        text: concat!(
            include_str!("../../tests/seed/hbone-corrected.yaml"),
            "metadata:\n  name: my-app-ingress\n"
        ),
    },
    Example {
        id: "seed-deny-ingress",
        cni: None,
        title: "Seed 3: a deny-all that blocks probes",
        text: include_str!("../../tests/seed/deny-ingress.yaml"),
    },
    Example {
        id: "seed-allow-probes",
        cni: None,
        title: "Seed 4: allowing the probe SNAT address",
        text: include_str!("../../tests/seed/deny-ingress-allow-kubelet-healthprobes.yaml"),
    },
    Example {
        id: "egress",
        cni: None,
        title: "Egress to a mesh service (AMB002)",
        text: include_str!("../../tests/fixtures/egress-to-mesh-service/app.yaml"),
    },
    Example {
        id: "waypoint",
        cni: None,
        title: "A waypoint in the path (AMB005)",
        text: include_str!("../../tests/fixtures/waypoint-destination-admits-client-only/app.yaml"),
    },
    Example {
        id: "named-probe-port",
        cni: None,
        title: "A named probe port under a default-deny (AMB003)",
        text: include_str!("../../tests/fixtures/probe-named-port/app.yaml"),
    },
    Example {
        id: "multi-namespace",
        cni: None,
        title: "Two namespaces with a default-deny",
        text: include_str!("../../tests/fixtures/multi-namespace-default-deny/app.yaml"),
    },
    Example {
        id: "cluster-guard-rail",
        cni: None,
        title: "A cluster-wide guard rail blocks HBONE (ClusterNetworkPolicy)",
        text: concat!(
            include_str!("../../tests/fixtures/cnp-admin-accept-then-deny/cluster.yaml"),
            "---\n",
            include_str!("../../tests/fixtures/cnp-admin-accept-then-deny/policies.yaml")
        ),
    },
    Example {
        id: "cilium-l7",
        cni: Some(Cni::Cilium),
        title: "Cilium default deny with an L7 rule (AMB001, AMB003, AMB009)",
        text: include_str!("../../tests/fixtures/cilium-default-deny-l7/app.yaml"),
    },
    Example {
        id: "calico-ordered",
        cni: Some(Cni::Calico),
        title: "Calico ordered policies: allow, then a later deny (AMB001, with CNI Calico)",
        text: concat!(
            include_str!("../../tests/fixtures/calico-ordered-policies/cluster.yaml"),
            "---\n",
            include_str!("../../tests/fixtures/calico-ordered-policies/policies.yaml")
        ),
    },
    Example {
        id: "sidecar-l7",
        cni: None,
        title: "Coming from sidecars: an HTTP-level AuthorizationPolicy without a waypoint (AMB010)",
        text: concat!(
            include_str!("../../tests/fixtures/istio-l7-policy-sidecar-era/app.yaml"),
            "---\n",
            include_str!("../../tests/fixtures/istio-l7-policy-sidecar-era/authz.yaml")
        ),
    },
    Example {
        id: "strict-mtls",
        cni: None,
        title: "STRICT mTLS refuses a client outside the mesh (AMB012)",
        text: concat!(
            include_str!("../../tests/fixtures/peer-auth-strict-mesh-wide/app.yaml"),
            "---\n",
            include_str!(
                "../../tests/fixtures/peer-auth-strict-mesh-wide/peer-authentication.yaml"
            )
        ),
    },
    Example {
        id: "ingress-gateway",
        cni: None,
        title: "An app behind an ingress gateway (AMB001)",
        text: include_str!("../../tests/fixtures/ingress-gateway-to-ambient-app/app.yaml"),
    },
];

/// The example the page starts with.
pub fn first() -> &'static Example {
    &EXAMPLES[0]
}
