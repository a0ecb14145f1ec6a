//! A deterministic generator of realistic clusters (namespaces, workloads of every kind, and
//! NetworkPolicies of every shape), for benchmarks and property tests. Used by
//! `examples/gen-cluster.rs`, `benches/` and tests through `#[path]`.
//!
//! Sizes used in BENCHMARKS.md: S = 10/50/10, M = 10/200/50, L = 50/2000/500,
//! XL = 200/10000/2500 (namespaces / workloads / policies).

#![allow(dead_code)] // each user takes what it needs

use std::fmt::Write;

/// A small deterministic PRNG (SplitMix64): the same seed gives the same cluster everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Size {
    pub namespaces: usize,
    pub workloads: usize,
    pub policies: usize,
}

pub const S: Size = Size {
    namespaces: 10,
    workloads: 50,
    policies: 10,
};
pub const M: Size = Size {
    namespaces: 10,
    workloads: 200,
    policies: 50,
};
pub const L: Size = Size {
    namespaces: 50,
    workloads: 2000,
    policies: 500,
};
pub const XL: Size = Size {
    namespaces: 200,
    workloads: 10_000,
    policies: 2500,
};

const KINDS: [&str; 7] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Pod",
    "Job",
    "CronJob",
    "ReplicaSet",
];
const TIERS: [&str; 3] = ["frontend", "backend", "data"];

/// The cluster as one multi-document YAML text (the benchmarks' clusters).
pub fn generate(size: Size, seed: u64) -> String {
    generate_with(size, seed, false)
}

/// [`generate`], and with `proxies` Istio's own proxies too: a quarter of the namespaces inject
/// sidecars, some pods ask for a sidecar by label, an ingress gateway in the first namespace
/// whose pods are egress-isolated and admitted to some apps' ports, and policies admitting the
/// gateway on app ports.
pub fn generate_with(size: Size, seed: u64, proxies: bool) -> String {
    generate_full(size, seed, proxies, false)
}

/// [`generate`] with everything in the ambient mesh, for [`authorization_policies`]: every
/// namespace enrolled, no waypoint (the destination's ztunnel sees the client's own identity),
/// and two workloads in three run as their tier's service account (`frontend`, `backend`,
/// `data`; the rest as `default`). The rest of the cluster (workloads, tiers, ports,
/// NetworkPolicies) is [`generate`]'s for the same size and seed.
pub fn generate_mesh(size: Size, seed: u64) -> String {
    generate_full(size, seed, false, true)
}

fn generate_full(size: Size, seed: u64, proxies: bool, mesh: bool) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(size.workloads * 900 + size.policies * 600);
    let ns = |i: usize| format!("ns-{i:03}");
    for i in 0..size.namespaces {
        // Half the namespaces enrolled; half of those send mesh traffic through a waypoint.
        let enrolled = match i % 4 {
            _ if mesh => "\n    istio.io/dataplane-mode: ambient",
            0 => "\n    istio.io/dataplane-mode: ambient\n    istio.io/use-waypoint: waypoint",
            2 => "\n    istio.io/dataplane-mode: ambient",
            1 if proxies => "\n    istio-injection: enabled",
            _ => "",
        };
        let _ = write!(
            out,
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {}\n  labels:\n    team: team-{}{enrolled}\n---\n",
            ns(i),
            i % 5
        );
        if i % 4 == 0 && !mesh {
            let _ = write!(
                out,
                "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: waypoint\n  namespace: {}\nspec:\n  gatewayClassName: istio-waypoint\n  listeners:\n  - {{name: mesh, port: 15008, protocol: HBONE}}\n---\n",
                ns(i)
            );
        }
    }
    if proxies {
        // The classic chart's ingress gateway, egress-isolated towards some apps' ports.
        let _ = write!(
            out,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: istio-ingressgateway\n  namespace: {0}\nspec:\n  selector:\n    matchLabels:\n      istio: ingressgateway\n  template:\n    metadata:\n      annotations:\n        inject.istio.io/templates: gateway\n      labels:\n        istio: ingressgateway\n    spec:\n      containers:\n      - name: istio-proxy\n        image: auto\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: gateway-egress\n  namespace: {0}\nspec:\n  podSelector:\n    matchLabels:\n      istio: ingressgateway\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - namespaceSelector: {{}}\n      podSelector:\n        matchLabels:\n          tier: frontend\n    ports:\n    - port: 8080\n    - port: http\n---\n",
            ns(0)
        );
    }
    for w in 0..size.workloads {
        let namespace = ns(w % size.namespaces);
        let kind = KINDS[w % KINDS.len()];
        let tier = TIERS[rng.below(3)];
        let app = format!("app-{w:05}");
        let http = 8000 + rng.below(100) as u16;
        let mut template = workload_template(&app, tier, http, w);
        if mesh && w % 3 != 0 {
            let account = format!("spec:\n  serviceAccountName: {tier}\n");
            template.full = template.full.replacen("spec:\n", &account, 1);
            template.spec_only = template.spec_only.replacen("spec:\n", &account, 1);
        }
        if proxies && w % 11 == 3 {
            template.full = template.full.replacen(
                "  labels:\n",
                "  labels:\n    sidecar.istio.io/inject: \"true\"\n",
                1,
            );
        }
        let _ = match kind {
            "Pod" => write!(
                out,
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {app}\n  namespace: {namespace}\n  labels:\n    app: {app}\n    tier: {tier}\n{}",
                indent(&template.spec_only, 0)
            ),
            "CronJob" => write!(
                out,
                "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {app}\n  namespace: {namespace}\nspec:\n  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n{}",
                indent(&template.full, 8)
            ),
            _ => write!(
                out,
                "apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {app}\n  namespace: {namespace}\nspec:\n  selector:\n    matchLabels:\n      app: {app}\n  template:\n{}",
                indent(&template.full, 4)
            ),
        };
        out.push_str("---\n");
    }
    for p in 0..size.policies {
        // Target a workload in its own namespace, so the policy selects something.
        let w = rng.below(size.workloads);
        let namespace = ns(w % size.namespaces);
        let target = format!("app-{w:05}");
        out.push_str(&policy(&mut rng, p, &namespace, &target, size));
        out.push_str("---\n");
        if proxies && p % 3 == 0 {
            let _ = write!(
                out,
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: from-gateway-{p:04}\n  namespace: {namespace}\nspec:\n  podSelector:\n    matchLabels:\n      app: {target}\n  ingress:\n  - from:\n    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: {}\n      podSelector:\n        matchLabels:\n          istio: ingressgateway\n    ports:\n    - port: http\n---\n",
                ns(0)
            );
        }
    }
    out
}

struct Template {
    /// `metadata` + `spec` of a pod template.
    full: String,
    /// `spec` alone (for a Pod, whose metadata is the object's).
    spec_only: String,
}

fn workload_template(app: &str, tier: &str, http: u16, w: usize) -> Template {
    let probes = match w % 4 {
        0 => "        readinessProbe:\n          httpGet: {path: /ready, port: http}\n        livenessProbe:\n          tcpSocket: {port: 9090}\n".to_string(),
        1 => "        livenessProbe:\n          grpc: {port: 9090}\n".to_string(),
        2 => "        startupProbe:\n          exec: {command: [cat, /tmp/ready]}\n".to_string(),
        _ => format!("        readinessProbe:\n          httpGet: {{path: /, port: {http}}}\n"),
    };
    let host_network = if w % 97 == 5 {
        "  hostNetwork: true\n"
    } else {
        ""
    };
    let spec = format!(
        "spec:\n{host_network}  containers:\n  - name: main\n    image: example.com/{app}:1.0\n    ports:\n    - {{name: http, containerPort: {http}}}\n    - {{name: grpc, containerPort: 9090}}\n    - {{name: metrics, containerPort: 9100}}\n    - {{name: dns, containerPort: 5353, protocol: UDP}}\n{}",
        probes.replace("        ", "    ")
    );
    Template {
        full: format!("metadata:\n  labels:\n    app: {app}\n    tier: {tier}\n{spec}"),
        spec_only: spec,
    }
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

fn policy(rng: &mut Rng, p: usize, namespace: &str, target: &str, size: Size) -> String {
    let head = format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: policy-{p:04}\n  namespace: {namespace}\nspec:\n"
    );
    let peer_app = format!("app-{:05}", rng.below(size.workloads));
    let team = format!("team-{}", rng.below(5));
    let body = match p % 8 {
        // Namespace-wide default deny (ingress, sometimes egress too).
        0 => if rng.chance(50) { "  podSelector: {}\n  policyTypes: [Ingress]\n".to_string() } else { "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n".to_string() },
        // Pod selector peer, numeric port.
        1 => format!("  podSelector:\n    matchLabels:\n      app: {target}\n  ingress:\n  - from:\n    - podSelector:\n        matchLabels:\n          app: {peer_app}\n    ports:\n    - port: 8080\n      protocol: TCP\n"),
        // Namespace selector AND pod selector in one peer, named port.
        2 => format!("  podSelector:\n    matchLabels:\n      app: {target}\n  ingress:\n  - from:\n    - namespaceSelector:\n        matchLabels:\n          team: {team}\n      podSelector:\n        matchExpressions:\n        - {{key: tier, operator: In, values: [frontend, backend]}}\n    ports:\n    - port: http\n"),
        // OR of peers, endPort range, UDP.
        3 => format!("  podSelector:\n    matchLabels:\n      tier: data\n  ingress:\n  - from:\n    - namespaceSelector:\n        matchLabels:\n          team: {team}\n    - podSelector:\n        matchLabels:\n          tier: backend\n    ports:\n    - port: 9000\n      endPort: 9100\n    - port: 5353\n      protocol: UDP\n"),
        // ipBlock with except.
        4 => "  podSelector:\n    matchLabels:\n      tier: frontend\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 0.0.0.0/0\n        except:\n        - 10.0.0.0/8\n        - 169.254.0.0/16\n    ports:\n    - port: 443\n".to_string(),
        // Egress: DNS and a named port towards a team's namespaces.
        5 => format!("  podSelector:\n    matchLabels:\n      app: {target}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - namespaceSelector: {{}}\n      podSelector:\n        matchLabels:\n          k8s-app: kube-dns\n    ports:\n    - {{port: 53, protocol: UDP}}\n    - {{port: 53, protocol: TCP}}\n  - to:\n    - namespaceSelector:\n        matchLabels:\n          team: {team}\n    ports:\n    - port: grpc\n"),
        // Rule without from: all sources on some ports; NotIn expression.
        6 => "  podSelector:\n    matchExpressions:\n    - {key: tier, operator: NotIn, values: [data]}\n  ingress:\n  - ports:\n    - port: metrics\n    - port: 9090\n".to_string(),
        // Allow everything from the namespace (podSelector {} peer).
        _ => format!("  podSelector:\n    matchLabels:\n      app: {target}\n  ingress:\n  - from:\n    - podSelector: {{}}\n  egress:\n  - to:\n    - podSelector:\n        matchLabels:\n          app: {peer_app}\n"),
    };
    format!("{head}{body}")
}

/// `n` cluster-wide policies over a cluster of `namespaces` generated namespaces (teams
/// `team-0`..`team-4`): ClusterNetworkPolicy (v1alpha2) and AdminNetworkPolicy (v1alpha1) guard
/// rails that accept or pass some ports from a team and deny the rest from it, egress ones, and
/// Baseline-tier defaults; numbered and named ports, priorities spread so that few tie.
pub fn cluster_policies(n: usize, namespaces: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0x5eed_c1a5);
    let mut out = String::new();
    let team = |rng: &mut Rng| format!("team-{}", rng.below(5));
    for p in 0..n {
        let subject = match rng.below(3) {
            0 => format!(
                "    namespaces:\n      matchLabels:\n        team: {}\n",
                team(&mut rng)
            ),
            1 => format!(
                "    pods:\n      namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: ns-{:03}\n      podSelector:\n        matchLabels:\n          tier: {}\n",
                rng.below(namespaces.max(1)),
                TIERS[rng.below(3)]
            ),
            _ => "    namespaces: {}\n".to_string(),
        };
        let from = format!(
            "    - namespaces:\n        matchLabels:\n          team: {}\n",
            team(&mut rng)
        );
        let priority = (p * 7 + rng.below(5)) % 1000;
        let (v1alpha2, kind, tier) = match p % 4 {
            3 => (true, "ClusterNetworkPolicy", "Baseline"),
            2 => (false, "AdminNetworkPolicy", "Admin"),
            _ => (true, "ClusterNetworkPolicy", "Admin"),
        };
        let port = |number: bool, p: u16| match (v1alpha2, number) {
            (true, true) => {
                format!("    - tcp:\n        destinationPort:\n          number: {p}\n")
            }
            (true, false) => "    - destinationNamedPort: http\n".to_string(),
            (false, true) => {
                format!("    - portNumber:\n        protocol: TCP\n        port: {p}\n")
            }
            (false, false) => "    - namedPort: http\n".to_string(),
        };
        let ports_key = if v1alpha2 { "protocols" } else { "ports" };
        let accept = match (v1alpha2, rng.below(3)) {
            (_, 0) => "Pass",
            (true, _) => "Accept",
            (false, _) => "Allow",
        };
        let named = rng.chance(40);
        let (direction, peer_key) = if rng.chance(25) {
            ("egress", "to")
        } else {
            ("ingress", "from")
        };
        let _ = write!(
            out,
            "apiVersion: policy.networking.k8s.io/{}\nkind: {kind}\nmetadata:\n  name: guard-{p:03}\nspec:\n{}  priority: {priority}\n  subject:\n{subject}  {direction}:\n  - name: through\n    action: {accept}\n    {peer_key}:\n{from}    {ports_key}:\n{}  - name: deny-rest\n    action: Deny\n    {peer_key}:\n{from}---\n",
            if v1alpha2 { "v1alpha2" } else { "v1alpha1" },
            if v1alpha2 {
                format!("  tier: {tier}\n")
            } else {
                String::new()
            },
            port(!named, 8000 + rng.below(100) as u16),
        );
    }
    out
}

/// `n` Istio AuthorizationPolicies over a cluster of [`generate_mesh`] (same size): ALLOW and
/// DENY, by selector (`app`, `tier`), namespace-wide, and in the root namespace `istio-system`
/// (mesh-wide, or by selector in every namespace); sources by principal (exact, `*`, prefix,
/// suffix), `notPrincipals`, namespaces, `notNamespaces`, `ipBlocks`; `ports`, `notPorts` and
/// `when` on `destination.port` and `source.namespace`. Only L4 attributes, no `targetRefs`:
/// what ztunnel enforces and sidecars enforce alike.
pub fn authorization_policies(n: usize, size: Size, seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0xa17_40c5);
    let mut out = String::new();
    let ns = |i: usize| format!("ns-{:03}", i % size.namespaces.max(1));
    for p in 0..n {
        let w = rng.below(size.workloads);
        let (namespace, app) = (ns(w), format!("app-{w:05}"));
        let other = ns(rng.below(size.namespaces));
        let third = ns(rng.below(size.namespaces));
        let tier = TIERS[rng.below(3)];
        let account = ["default", "frontend", "backend", "data"][rng.below(4)];
        let principal = format!("cluster.local/ns/{other}/sa/{account}");
        let http = 8000 + rng.below(100);
        let (meta_ns, action, selector, rules) = match p % 8 {
            0 => (
                namespace,
                "ALLOW",
                format!("  selector:\n    matchLabels:\n      app: {app}\n"),
                format!(
                    "  - from:\n    - source:\n        principals: [{principal}, cluster.local/ns/{third}/sa/{tier}]\n    to:\n    - operation:\n        ports: [\"{http}\", \"9090\"]\n"
                ),
            ),
            1 => (
                namespace,
                "ALLOW",
                String::new(),
                format!(
                    "  - from:\n    - source:\n        namespaces: [{other}, {third}]\n  - to:\n    - operation:\n        ports: [\"9100\"]\n"
                ),
            ),
            2 => (
                namespace.clone(),
                "DENY",
                format!("  selector:\n    matchLabels:\n      tier: {tier}\n"),
                format!(
                    "  - from:\n    - source:\n        notNamespaces: [{namespace}]\n    to:\n    - operation:\n        ports: [\"9090\"]\n"
                ),
            ),
            3 => (
                namespace,
                "DENY",
                String::new(),
                format!(
                    "  - from:\n    - source:\n        principals: [\"cluster.local/ns/{other}/*\"]\n    to:\n    - operation:\n        notPorts: [\"9090\", \"9100\"]\n"
                ),
            ),
            4 => (
                "istio-system".to_string(),
                "ALLOW",
                format!("  selector:\n    matchLabels:\n      tier: {tier}\n"),
                format!(
                    "  - from:\n    - source:\n        principals: [\"*/sa/{account}\"]\n  - from:\n    - source:\n        namespaces: [{other}]\n    to:\n    - operation:\n        ports: [\"9090\", \"{http}\"]\n"
                ),
            ),
            5 => (
                "istio-system".to_string(),
                "DENY",
                String::new(),
                format!(
                    "  - from:\n    - source:\n        principals: [{principal}]\n    to:\n    - operation:\n        ports: [\"9100\"]\n"
                ),
            ),
            6 => (
                namespace.clone(),
                "ALLOW",
                format!("  selector:\n    matchLabels:\n      app: {app}\n"),
                format!(
                    "  - from:\n    - source:\n        ipBlocks: [203.0.113.0/24]\n    to:\n    - operation:\n        ports: [\"443\"]\n  - from:\n    - source:\n        principals: [\"*\"]\n    when:\n    - key: destination.port\n      values: [\"9090\", \"9100\"]\n    - key: source.namespace\n      notValues: [{other}]\n"
                ),
            ),
            _ => (
                namespace,
                "ALLOW",
                format!("  selector:\n    matchLabels:\n      app: {app}\n"),
                format!(
                    "  - from:\n    - source:\n        notPrincipals: [{principal}]\n    to:\n    - operation:\n        ports: [\"{http}\"]\n  - to:\n    - operation:\n        notPorts: [\"9100\"]\n    from:\n    - source:\n        principals: [\"cluster.local/ns/{third}/sa/*\"]\n"
                ),
            ),
        };
        let _ = write!(
            out,
            "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: authz-{p:03}\n  namespace: {meta_ns}\nspec:\n{selector}  action: {action}\n  rules:\n{rules}---\n"
        );
    }
    out
}

/// `n` Cilium policies over a cluster of `namespaces` generated namespaces: CiliumNetworkPolicy
/// ingress and egress rules with `toPorts` (numbered, named, ranges, ANY; flow-style items),
/// entities, CIDRs, deny rules, and CiliumClusterwideNetworkPolicy default denies and
/// `enableDefaultDeny: false` allows.
pub fn cilium_policies(n: usize, namespaces: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0xc111_0c11);
    let mut out = String::new();
    for p in 0..n {
        let ns = format!("ns-{:03}", rng.below(namespaces.max(1)));
        let tier = TIERS[rng.below(3)];
        let peer_tier = TIERS[rng.below(3)];
        let team = format!("team-{}", rng.below(5));
        let cnp = |body: String| {
            format!(
                "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: cilium-{p:03}\n  namespace: {ns}\nspec:\n  endpointSelector:\n    matchLabels:\n      tier: {tier}\n{body}---\n"
            )
        };
        let doc = match rng.below(8) {
            // Ingress from a tier of the namespace on a port, block style.
            0 => cnp(format!(
                "  ingress:\n  - fromEndpoints:\n    - matchLabels:\n        k8s:tier: {peer_tier}\n    toPorts:\n    - ports:\n      - port: \"8080\"\n        protocol: TCP\n"
            )),
            // Ingress from a team's namespaces on a named port (flow-style peers and items: the
            // property test wants whole lines kept, so `toPorts` itself is a block list), and
            // the world on a range.
            1 => cnp(format!(
                "  ingress:\n  - fromEndpoints: [{{matchLabels: {{io.cilium.k8s.namespace.labels.team: {team}}}}}]\n    toPorts:\n    - {{ports: [{{port: http, protocol: TCP}}]}}\n  - fromEntities: [world]\n    toPorts:\n    - ports: [{{port: \"9000\", endPort: 9100}}]\n"
            )),
            // Egress to a tier anywhere on 8080 and DNS (ANY).
            2 => cnp(format!(
                "  egress:\n  - toEndpoints:\n    - matchLabels:\n        tier: {peer_tier}\n      matchExpressions:\n      - {{key: io.kubernetes.pod.namespace, operator: Exists}}\n    toPorts:\n    - ports:\n      - port: \"8080\"\n        protocol: TCP\n  - toEndpoints:\n    - matchLabels:\n        k8s:io.kubernetes.pod.namespace: kube-system\n        k8s-app: kube-dns\n    toPorts:\n    - ports:\n      - port: \"53\"\n"
            )),
            // A CIDR rule with an exception, and the cluster entity on a port.
            3 => cnp(
                "  ingress:\n  - fromCIDRSet:\n    - cidr: 0.0.0.0/0\n      except: [169.254.0.0/16]\n  - fromEntities: [cluster]\n    toPorts:\n    - ports:\n      - port: \"8080\"\n        protocol: TCP\n".to_string(),
            ),
            // A deny rule next to an allow.
            4 => cnp(format!(
                "  ingress:\n  - fromEndpoints:\n    - {{}}\n    toPorts:\n    - ports:\n      - port: \"8080\"\n        protocol: TCP\n  ingressDeny:\n  - fromEndpoints:\n    - matchLabels:\n        tier: {peer_tier}\n    toPorts:\n    - ports:\n      - port: \"9090\"\n        protocol: TCP\n"
            )),
            // A clusterwide default deny for a team's namespaces.
            5 => format!(
                "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata:\n  name: cilium-deny-{p:03}\nspec:\n  endpointSelector:\n    matchLabels:\n      io.cilium.k8s.namespace.labels.team: {team}\n  ingress:\n  - {{}}\n---\n"
            ),
            // A clusterwide allow that isolates nothing.
            6 => format!(
                "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata:\n  name: cilium-allow-{p:03}\nspec:\n  endpointSelector:\n    matchLabels:\n      tier: {tier}\n  enableDefaultDeny:\n    ingress: false\n    egress: false\n  ingress:\n  - fromEndpoints:\n    - matchLabels:\n        tier: {peer_tier}\n    toPorts:\n    - ports:\n      - port: \"8080\"\n        protocol: TCP\n---\n"
            ),
            // Layer 4 only: every peer on a port, in `specs`.
            _ => format!(
                "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: cilium-{p:03}\n  namespace: {ns}\nspecs:\n- endpointSelector:\n    matchLabels:\n      tier: {tier}\n  ingress:\n  - toPorts:\n    - ports:\n      - port: \"8080\"\n        protocol: TCP\n---\n"
            ),
        };
        out.push_str(&doc);
    }
    out
}

/// `n` Calico policies over a cluster of `namespaces` generated namespaces: GlobalNetworkPolicies
/// and namespaced NetworkPolicies in the default tier and in a `security` tier (order 100,
/// default action Deny or Pass), with orders that tie, orders left out, rules that Allow or Pass
/// some ports (numbers, `"a:b"` ranges, named ports, `notPorts`, `notPorts` alone) from a team or a tier and Deny
/// the rest from it, Log rules, and egress ones.
pub fn calico_policies(n: usize, namespaces: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0x00ca_11c0);
    let mut out = String::new();
    if n > 0 {
        let _ = write!(
            out,
            "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: security\nspec:\n  order: 100\n  defaultAction: {}\n---\n",
            if rng.chance(50) { "Pass" } else { "Deny" }
        );
    }
    for p in 0..n {
        let global = rng.chance(50);
        let tier = if rng.chance(30) {
            Some("security")
        } else {
            None
        };
        let name = match tier {
            Some(t) => format!("{t}.calico-{p:03}"),
            None => format!("calico-{p:03}"),
        };
        let metadata = if global {
            format!("  name: {name}\n")
        } else {
            format!(
                "  name: {name}\n  namespace: ns-{:03}\n",
                rng.below(namespaces.max(1))
            )
        };
        let selector = match rng.below(3) {
            0 => format!("tier == '{}'", TIERS[rng.below(3)]),
            1 => "all()".to_string(),
            _ => format!(
                "tier in {{'{}', '{}'}}",
                TIERS[rng.below(3)],
                TIERS[rng.below(3)]
            ),
        };
        let order = match rng.below(4) {
            0 => String::new(),
            _ => format!("  order: {}\n", [10, 100, 500, 1000, 2000][rng.below(5)]),
        };
        let peer = match rng.below(3) {
            0 => format!("namespaceSelector: team == 'team-{}'", rng.below(5)),
            1 => format!("selector: tier == '{}'", TIERS[rng.below(3)]),
            _ => format!(
                "selector: tier != '{}'\n      namespaceSelector: has(team)",
                TIERS[rng.below(3)]
            ),
        };
        // Block lists, as the other generated policies (the fix property holds their lines).
        let ports = match rng.below(5) {
            // No port list: every port but a range around 15008 (the fix inserts a rule).
            4 => "notPorts:\n      - \"15000:15100\"".to_string(),
            0 => format!("ports:\n      - {}", 8000 + rng.below(100)),
            1 => "ports:\n      - http".to_string(),
            2 => format!("ports:\n      - \"8000:{}\"", 8050 + rng.below(50)),
            _ => "ports:\n      - \"8000:9000\"\n      notPorts:\n      - grpc".to_string(),
        };
        let action = if rng.chance(25) { "Pass" } else { "Allow" };
        let log = if rng.chance(20) {
            "  - action: Log\n"
        } else {
            ""
        };
        let (direction, types, own, other) = if rng.chance(25) {
            ("egress", "Egress", "destination", "destination")
        } else {
            ("ingress", "Ingress", "source", "destination")
        };
        // Egress: the peer and the ports are both the destination's.
        let through = if own == other {
            format!("    {other}:\n      {peer}\n      {ports}\n")
        } else {
            format!("    {own}:\n      {peer}\n    {other}:\n      {ports}\n")
        };
        let _ = write!(
            out,
            "apiVersion: projectcalico.org/v3\nkind: {}\nmetadata:\n{metadata}spec:\n{}{order}  selector: \"{selector}\"\n  types: [{types}]\n  {direction}:\n{log}  - action: {action}\n    protocol: TCP\n{through}  - action: Deny\n    {own}:\n      {peer}\n---\n",
            if global {
                "GlobalNetworkPolicy"
            } else {
                "NetworkPolicy"
            },
            tier.map_or(String::new(), |t| format!("  tier: {t}\n")),
        );
    }
    out
}

/// The pod range of [`calico_nca_policies`]' clusters (`ambient-netpol --pod-cidr`): inside the
/// `10.0.0.0/8` the generated Kubernetes `ipBlock` excepts.
pub const CALICO_POD_CIDR: &str = "10.244.0.0/16";

/// `n` Calico policies of the default tier over a cluster of [`generate`] (same size), in what
/// network-config-analyzer 2.1.0 reads (no `tier`, no service accounts, no `nets` beside a
/// selector: BENCHMARKS.md, "Calico against NCA"): GlobalNetworkPolicies (some with a
/// `namespaceSelector`) and NetworkPolicies, orders that tie (with each other and with the
/// Kubernetes NetworkPolicies' 1000), fractional and missing orders, names whose order is not the
/// file's; selectors with `==`, `!=`, `in`, `not in`, `has()`, `!`, `&&`, `||`, parentheses and
/// `all()`; rules that Allow, Deny, Pass or Log, by `selector`, `notSelector`,
/// `namespaceSelector`, `nets`/`notNets` (some covering the pod range [`CALICO_POD_CIDR`]), or
/// nothing; TCP, UDP, no protocol or `notProtocol`; `ports` and `notPorts` with numbers, `"a:b"`
/// ranges and named ports; `types` given or left out.
pub fn calico_nca_policies(n: usize, size: Size, seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0x0ca1_1c0a);
    let mut out = String::new();
    let ns = |i: usize| format!("ns-{:03}", i % size.namespaces.max(1));
    fn pod_selector(rng: &mut Rng, size: Size) -> String {
        let tier = |rng: &mut Rng| TIERS[rng.below(3)];
        let app = |rng: &mut Rng| format!("app-{:05}", rng.below(size.workloads));
        match rng.below(12) {
            0 => format!("tier == '{}'", tier(rng)),
            1 => format!("tier != '{}'", tier(rng)),
            2 => format!("tier in {{'{}', '{}'}}", tier(rng), tier(rng)),
            3 => format!("tier not in {{'{}'}}", tier(rng)),
            4 => "has(tier)".to_string(),
            5 => format!("!has(owner) && tier == '{}'", tier(rng)),
            6 => format!("app == '{}' || app == '{}'", app(rng), app(rng)),
            7 => format!(
                "(tier == '{}' || tier == '{}') && !has(canary)",
                tier(rng),
                tier(rng)
            ),
            8 => format!(
                "has(app) && !(tier in {{'{}', '{}'}})",
                tier(rng),
                tier(rng)
            ),
            9 => format!("app == '{}'", app(rng)),
            10 => format!("!(tier == '{}')", tier(rng)),
            _ => "all()".to_string(),
        }
    }
    fn namespace_selector(rng: &mut Rng, size: Size) -> String {
        let team = |rng: &mut Rng| format!("team-{}", rng.below(5));
        match rng.below(6) {
            0 => format!("team == '{}'", team(rng)),
            1 => format!("team in {{'{}', '{}'}}", team(rng), team(rng)),
            2 => format!("team != '{}'", team(rng)),
            3 => "has(team)".to_string(),
            4 => format!(
                "kubernetes.io/metadata.name == 'ns-{:03}'",
                rng.below(size.namespaces.max(1))
            ),
            _ => "all()".to_string(),
        }
    }
    for p in 0..n {
        let global = rng.chance(30);
        // Names whose alphabetical order is not the file's, for the ties.
        let name = format!(
            "{}-{p:03}",
            ["zeta", "alpha", "mid", "knp", "default", "beta"][rng.below(6)]
        );
        let metadata = if global {
            format!("  name: {name}\n")
        } else {
            format!(
                "  name: {name}\n  namespace: {}\n",
                ns(rng.below(size.namespaces))
            )
        };
        let order = match rng.below(8) {
            0 | 1 => String::new(),
            2 => "  order: 1000\n".to_string(),
            3 => "  order: 750.5\n".to_string(),
            _ => format!(
                "  order: {}\n",
                [10, 100, 500, 1000, 1500, 2000][rng.below(6)]
            ),
        };
        let mut spec = order;
        // A global policy without a selector selects every pod: rarer.
        if rng.below(if global { 10 } else { 5 }) > 0 {
            spec += &format!("  selector: \"{}\"\n", pod_selector(&mut rng, size));
        }
        if global && rng.chance(40) {
            spec += &format!(
                "  namespaceSelector: \"{}\"\n",
                namespace_selector(&mut rng, size)
            );
        }
        let (ingress, egress) = match rng.below(8) {
            0 => (false, true),
            1 | 2 => (true, true),
            _ => (true, false),
        };
        let explicit_types = rng.below(5) > 0;
        if explicit_types {
            let types: Vec<&str> = [("Ingress", ingress), ("Egress", egress)]
                .iter()
                .filter(|t| t.1)
                .map(|t| t.0)
                .collect();
            spec += &format!("  types: [{}]\n", types.join(", "));
        }
        for (direction, on) in [("ingress", ingress), ("egress", egress)] {
            if !on {
                continue;
            }
            spec += &format!("  {direction}:\n");
            for _ in 0..1 + rng.below(3) {
                spec += &calico_rule(&mut rng, size, direction == "ingress");
            }
            // Often a last rule for the rest, so that not every selected pod is cut off.
            match rng.below(6) {
                0 | 1 => spec += "  - action: Allow\n",
                2 => spec += "  - action: Pass\n",
                _ => {}
            }
        }
        let _ = write!(
            out,
            "apiVersion: projectcalico.org/v3\nkind: {}\nmetadata:\n{metadata}spec:\n{spec}---\n",
            if global {
                "GlobalNetworkPolicy"
            } else {
                "NetworkPolicy"
            }
        );
    }
    out
}

fn pick(rng: &mut Rng, list: &[&'static str]) -> &'static str {
    list[rng.below(list.len())]
}

fn calico_rule(rng: &mut Rng, size: Size, ingress: bool) -> String {
    let action = match rng.below(10) {
        0..=3 => "Allow",
        4..=6 => "Deny",
        7 | 8 => "Pass",
        _ => "Log",
    };
    let tier = |rng: &mut Rng| TIERS[rng.below(3)];
    // The peer: who sent (ingress) or who receives (egress).
    let peer: Vec<String> = match rng.below(11) {
        0 => vec![format!("selector: \"tier == '{}'\"", tier(rng))],
        1 => vec![format!(
            "selector: \"tier in {{'{}', '{}'}} || app == 'app-{:05}'\"",
            tier(rng),
            tier(rng),
            rng.below(size.workloads)
        )],
        2 => vec![format!(
            "namespaceSelector: \"team == 'team-{}'\"",
            rng.below(5)
        )],
        3 => vec![
            format!(
                "namespaceSelector: \"has(team) && team != 'team-{}'\"",
                rng.below(5)
            ),
            format!("selector: \"tier != '{}'\"", tier(rng)),
        ],
        4 => vec![format!("notSelector: \"tier == '{}'\"", tier(rng))],
        5 => vec![
            "namespaceSelector: all()".to_string(),
            format!("notSelector: \"has(app) && tier == '{}'\"", tier(rng)),
        ],
        // Addresses outside the pod range.
        6 => vec![format!(
            "nets: [{}]",
            pick(
                rng,
                &[
                    "192.0.2.0/24",
                    "198.51.100.0/24, 203.0.113.0/25",
                    "172.16.0.0/12"
                ]
            )
        )],
        7 => vec![
            "nets: [0.0.0.0/0]".to_string(),
            "notNets: [10.0.0.0/8, 192.168.0.0/16]".to_string(),
        ],
        // Addresses that hold the pod range: Calico matches the pods by their addresses.
        8 => vec![format!(
            "nets: [{}]",
            pick(rng, &["10.0.0.0/8", "0.0.0.0/0"])
        )],
        9 => vec![format!(
            "notNets: [{}]",
            pick(rng, &["192.0.2.0/24", "10.1.0.0/16"])
        )],
        _ => vec![],
    };
    // Ports: a protocol for them; destination ports only.
    let (protocol, ports): (Option<&str>, Vec<String>) = match rng.below(9) {
        0 => (
            Some("TCP"),
            vec![format!("ports: [{}]", 8000 + rng.below(100))],
        ),
        1 => (Some("TCP"), vec!["ports: [http, 9090]".to_string()]),
        2 => (
            Some("TCP"),
            vec![format!("ports: [\"8000:{}\", 9100]", 8020 + rng.below(80))],
        ),
        3 => (
            Some("TCP"),
            vec![
                "ports: [\"8000:9999\"]".to_string(),
                format!("notPorts: [grpc, \"{}:9050\"]", 8040 + rng.below(20)),
            ],
        ),
        4 => (Some("TCP"), vec!["notPorts: [metrics, 15008]".to_string()]),
        5 => (
            Some("UDP"),
            vec![pick(rng, &["ports: [dns]", "ports: [5353, 53]"]).to_string()],
        ),
        6 => (Some(pick(rng, &["TCP", "UDP"])), vec![]),
        7 => (None, vec!["__notProtocol".to_string()]),
        _ => (None, vec![]),
    };
    let mut out = format!("  - action: {action}\n");
    let mut ports = ports;
    if ports.first().is_some_and(|p| p == "__notProtocol") {
        ports.clear();
        out += "    notProtocol: UDP\n";
    }
    if let Some(p) = protocol {
        out += &format!("    protocol: {p}\n");
    }
    let entity = |key: &str, lines: &[String]| {
        if lines.is_empty() {
            String::new()
        } else {
            format!(
                "    {key}:\n{}",
                lines
                    .iter()
                    .map(|l| format!("      {l}\n"))
                    .collect::<String>()
            )
        }
    };
    // Sometimes an ingress rule narrows the selected endpoints by its own destination selector.
    let own: Vec<String> = if ingress && rng.chance(15) {
        vec![format!("selector: \"tier != '{}'\"", tier(rng))]
    } else {
        vec![]
    };
    if ingress {
        out += &entity("source", &peer);
        let mut dst = own;
        dst.extend(ports);
        out += &entity("destination", &dst);
    } else {
        let mut dst = peer;
        dst.extend(ports);
        out += &entity("destination", &dst);
    }
    out
}
