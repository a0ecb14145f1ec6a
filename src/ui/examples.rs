//! The examples the page offers: the seed's four examples, verbatim from `tests/seed/`, and
//! teaching cases that are also fixture tests (`tests/fixtures/`), so every example's findings
//! are checked by `cargo test`.

pub struct Example {
    pub id: &'static str,
    pub title: &'static str,
    pub text: &'static str,
}

pub const EXAMPLES: &[Example] = &[
    Example {
        id: "seed-hbone",
        title: "Seed 1: a policy that blocks HBONE (9090 only)",
        text: include_str!("../../tests/seed/hbone-blocked.yaml"),
    },
    Example {
        id: "seed-hbone-corrected",
        title: "Seed 2: the corrected policy (15008 added)",
        text: include_str!("../../tests/seed/hbone-corrected.yaml"),
    },
    Example {
        id: "seed-deny-ingress",
        title: "Seed 3: a deny-all that blocks probes",
        text: include_str!("../../tests/seed/deny-ingress.yaml"),
    },
    Example {
        id: "seed-allow-probes",
        title: "Seed 4: allowing the probe SNAT address",
        text: include_str!("../../tests/seed/deny-ingress-allow-kubelet-healthprobes.yaml"),
    },
    Example {
        id: "egress",
        title: "Egress to a mesh service (AMB002)",
        text: include_str!("../../tests/fixtures/egress-to-mesh-service/app.yaml"),
    },
    Example {
        id: "waypoint",
        title: "A waypoint in the path (AMB005)",
        text: include_str!("../../tests/fixtures/waypoint-destination-admits-client-only/app.yaml"),
    },
    Example {
        id: "named-probe-port",
        title: "A named probe port under a default-deny (AMB003)",
        text: include_str!("../../tests/fixtures/probe-named-port/app.yaml"),
    },
    Example {
        id: "multi-namespace",
        title: "Two namespaces with a default-deny",
        text: include_str!("../../tests/fixtures/multi-namespace-default-deny/app.yaml"),
    },
    Example {
        id: "ingress-gateway",
        title: "An app behind an ingress gateway (AMB001)",
        text: include_str!("../../tests/fixtures/ingress-gateway-to-ambient-app/app.yaml"),
    },
];

/// The example the page starts with.
pub fn first() -> &'static Example {
    &EXAMPLES[0]
}
