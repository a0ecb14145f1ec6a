#![doc = include_str!("docs/AMB013.md")]

use super::Output;
use crate::ambient::mesh::{GATEWAY_NAME, Membership, Reason};
use crate::ambient::{Context, FixRequest};
use crate::findings::{Code, Finding};
use crate::model::labels::Labels;
use crate::model::{NAMESPACE_NAME_LABEL, Workload};
use crate::net::conn::Protocol;
use crate::net::ip::Cidr;
use crate::netpol::policy::{Direction, NetworkPolicy, Peer, Rule};
use crate::pipeline::PolicyRef;
use crate::pipeline::engine::rule_conns;

/// istiod's xDS port (the proxies' configuration and certificates).
pub const ISTIOD_PORT: u16 = 15012;
const DNS_PORT: u16 = 53;
/// The labels of istiod's pods (the `istiod` chart) and of the cluster DNS (kube-dns and
/// CoreDNS both carry `k8s-app: kube-dns`).
const ISTIOD_LABELS: &[(&str, &str)] = &[("app", "istiod"), ("istio", "pilot")];
const DNS_NAMESPACE: &str = "kube-system";
const DNS_LABELS: &[(&str, &str)] = &[("k8s-app", "kube-dns")];

/// A pod a proxy must reach, as the input shows it or as the charts deploy it.
struct Target<'c> {
    namespace: String,
    namespace_labels: Labels,
    labels: Labels,
    /// The workload of the input, for its named ports.
    workload: Option<&'c Workload>,
}

impl<'c> Target<'c> {
    /// The first workload of `namespace` carrying one of `labels`, else a pod with all of them.
    fn find(cx: &'c Context, namespace: &str, labels: &[(&str, &str)]) -> Target<'c> {
        let workload = cx.cluster.workloads.iter().find(|w| {
            w.namespace == namespace
                && !w.is_inferred()
                && labels
                    .iter()
                    .any(|(k, v)| w.labels.get(*k).is_some_and(|x| x == v))
        });
        let namespace_labels = cx.cluster.namespace(namespace).map_or_else(
            || crate::sort::map([(NAMESPACE_NAME_LABEL.to_string(), namespace.to_string())]),
            |ns| ns.labels.clone(),
        );
        Target {
            namespace: namespace.to_string(),
            namespace_labels,
            labels: workload.map_or_else(
                || crate::sort::map(labels.iter().map(|(k, v)| (k.to_string(), v.to_string()))),
                |w| w.labels.clone(),
            ),
            workload,
        }
    }

    /// Whether an egress rule of `policy` admits this pod on `protocol`/`port`.
    fn admitted_by(
        &self,
        policy: &NetworkPolicy,
        rule: &Rule,
        protocol: Protocol,
        port: u16,
    ) -> bool {
        rule_conns(rule, self.workload).contains(protocol, port)
            && match &rule.peers {
                None => true,
                Some(peers) => peers.iter().any(|peer| self.matches(policy, peer)),
            }
    }

    fn matches(&self, policy: &NetworkPolicy, peer: &Peer) -> bool {
        match peer {
            Peer::Pods { namespaces, pods } => {
                let namespace = match namespaces {
                    None => policy.namespace == self.namespace,
                    Some(selector) => selector.matches(&self.namespace_labels),
                };
                namespace && pods.as_ref().is_none_or(|s| s.matches(&self.labels))
            }
            // Pod addresses are not in the input: a block counts when it holds a whole private
            // range, where clusters put their pods.
            Peer::IpBlock { set, .. } => [
                "10.0.0.0/8",
                "172.16.0.0/12",
                "192.168.0.0/16",
                "100.64.0.0/10",
            ]
            .iter()
            .filter_map(|c| Cidr::parse(c).ok())
            .any(|c: Cidr| set.contains_all(&c.set())),
        }
    }
}

/// What a proxy's egress policies fail to admit.
struct Needs {
    istiod: bool,
    dns: bool,
}

pub fn check(cx: &Context, out: &mut Output) {
    let istiod = Target::find(cx, cx.istiod_namespace, ISTIOD_LABELS);
    let dns = Target::find(cx, DNS_NAMESPACE, DNS_LABELS);
    for (w, workload) in cx.cluster.workloads.iter().enumerate() {
        let what = match cx.membership[w] {
            Membership::Gateway(kind) => kind.as_str(),
            Membership::Outside(Reason::Waypoint) => "waypoint",
            _ => continue,
        };
        let policies = cx.engine.isolating(w, Direction::Egress);
        let admits = |target: &Target, protocol: Protocol, port: u16| {
            policies.iter().any(|&p| {
                let policy = &cx.cluster.policies.network[p];
                policy
                    .egress
                    .iter()
                    .any(|rule| target.admitted_by(policy, rule, protocol, port))
            })
        };
        let Some(target) = cx.fix_target(policies) else {
            continue;
        };
        let needs = Needs {
            istiod: !admits(&istiod, Protocol::Tcp, ISTIOD_PORT),
            dns: !admits(&dns, Protocol::Udp, DNS_PORT),
        };
        if !needs.istiod && !needs.dns {
            continue;
        }
        let istiod_text = format!("istiod (15012/TCP in `{}`)", istiod.namespace);
        let dns_text = "DNS (53/UDP to kube-dns in `kube-system`)";
        let missing = match (needs.istiod, needs.dns) {
            (true, true) => format!("admit neither {istiod_text} nor {dns_text}"),
            (true, false) => format!("do not admit {istiod_text}"),
            _ => format!("do not admit {dns_text}"),
        };
        let names: Vec<String> = policies
            .iter()
            .map(|&p| format!("`{}`", cx.policy_name(p)))
            .collect();
        let proxy = workload.labels.get(GATEWAY_NAME).unwrap_or(&workload.name);
        let mut finding = Finding::new(
            Code::Amb013,
            format!(
                "the {what} `{}/{proxy}` is an Envoy proxy that gets its configuration and certificates from istiod, and the egress policies of its pods ({}) {missing}: the proxy never becomes ready and every request through it fails",
                workload.namespace,
                super::list(names),
            ),
            Some(cx.cluster.policy_location(PolicyRef::Network(target))),
        );
        finding.policy = Some(cx.policy_name(target));
        finding.workload = Some(cx.workload_name(w));
        match proxy_selector(workload) {
            Some(selector) => {
                finding.fixable = true;
                finding.fix = Some(format!(
                    "add a policy `{}` for the proxy's pods only, admitting exactly what is missing: {}",
                    crate::fix::proxy_policy_name(workload),
                    match (needs.istiod, needs.dns) {
                        (true, true) => "15012/TCP to istiod and 53/UDP and 53/TCP to kube-dns",
                        (true, false) => "15012/TCP to istiod",
                        _ => "53/UDP and 53/TCP to kube-dns",
                    }
                ));
                out.fixes.push(FixRequest::AddProxyPolicy {
                    policy: target,
                    workload: w,
                    selector,
                    istiod: needs.istiod.then(|| {
                        (
                            istiod.namespace.clone(),
                            pick(&istiod.labels, ISTIOD_LABELS),
                        )
                    }),
                    dns: needs.dns,
                });
            }
            None => {
                finding.fix = Some("admit 15012/TCP to istiod and 53/UDP and 53/TCP to kube-dns from the proxy's pods (they carry no label to select them by)".into());
            }
        }
        out.findings.push(finding);
    }
}

/// The labels that select a proxy's pods: its gateway name, the classic charts' `istio` label,
/// else all of its labels (`None` without any).
fn proxy_selector(workload: &Workload) -> Option<Vec<(String, String)>> {
    for key in [GATEWAY_NAME, "istio"] {
        if let Some(value) = workload.labels.get(key) {
            return Some(vec![(key.to_string(), value.clone())]);
        }
    }
    // (Not the service-account label the model adds for Cilium: no pod carries it.)
    let labels: Vec<_> = workload
        .labels
        .iter()
        .filter(|(k, _)| k.as_str() != crate::cilium::SERVICE_ACCOUNT_LABEL)
        .collect();
    (!labels.is_empty()).then(|| {
        labels
            .into_iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    })
}

/// The first of `known` that `labels` carry (the chart's label when the input has no pod).
fn pick(labels: &Labels, known: &[(&str, &str)]) -> (String, String) {
    let (k, v) = known
        .iter()
        .find(|(k, v)| labels.get(*k).is_some_and(|x| x == v))
        .unwrap_or(&known[0]);
    (k.to_string(), v.to_string())
}
