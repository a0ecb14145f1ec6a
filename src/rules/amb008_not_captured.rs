#![doc = include_str!("docs/AMB008.md")]

use super::Output;
use crate::ambient::Context;
use crate::ambient::mesh::{self, DATAPLANE_MODE, Membership, MeshMode, Reason};
use crate::findings::{Code, Finding};

pub fn check(cx: &Context, out: &mut Output) {
    for (w, workload) in cx.cluster.workloads.iter().enumerate() {
        if workload.is_inferred() {
            continue;
        }
        let enrolled_namespace = cx.mode == MeshMode::All
            || cx
                .cluster
                .namespace(&workload.namespace)
                .and_then(|ns| ns.labels.get(DATAPLANE_MODE))
                .is_some_and(|m| m == "ambient")
            || workload
                .labels
                .get(DATAPLANE_MODE)
                .is_some_and(|m| m == "ambient");
        // Gateways are named wherever they are: they send HBONE to the enrolled pods.
        let gateway = matches!(cx.membership[w], Membership::Gateway(_));
        if !enrolled_namespace && !gateway {
            continue;
        }
        let sidecar;
        let why = match cx.membership[w] {
            Membership::Ambient | Membership::Outside(Reason::NotEnrolled) => continue,
            Membership::Sidecar => {
                sidecar = format!(
                    "{}, so ambient does not capture it; ambient pods still reach it over HBONE, so its ingress needs 15008/TCP from them (AMB001){}",
                    mesh::sidecar_cause(cx.cluster, workload).unwrap_or("has an Istio sidecar"),
                    if cx.proxy_hbone {
                        "; as an Istio proxy it tunnels to ambient pods itself, so its egress needs 15008/TCP to them (AMB002)"
                    } else {
                        ""
                    }
                );
                &sidecar
            }
            Membership::Outside(Reason::OptedOut) => {
                "is labelled `istio.io/dataplane-mode: none` and stays out of the mesh"
            }
            Membership::Outside(Reason::HostNetwork) => {
                "uses `hostNetwork: true`: it shares the node's network and is never part of the ambient mesh"
            }
            Membership::Outside(Reason::Waypoint) => {
                "is a waypoint proxy: it speaks HBONE itself and is not captured by ztunnel"
            }
            Membership::Gateway(_) if !cx.proxy_hbone => {
                "is an Istio gateway proxy: ambient does not capture it, and with proxies not sending HBONE it reaches ambient pods on their original ports"
            }
            Membership::Gateway(_) => {
                "is an Istio gateway proxy: ambient does not capture it, but it tunnels to ambient pods over HBONE itself, so their ingress policies (AMB001) and its own egress policies (AMB002) need 15008/TCP for it"
            }
            Membership::Outside(Reason::ExcludedNamespace) => {
                "is in a namespace istio-cni never captures (its `excludeNamespaces`; --exclude-namespace changes the list), whatever the labels say"
            }
        };
        let mut finding = Finding::new(
            Code::Amb008,
            format!(
                "{} {why}; {} not apply to it",
                workload.describe(),
                if cx.proxy_hbone && cx.membership[w].is_proxy() {
                    "probe SNAT does"
                } else {
                    "probe SNAT and egress tunneling do"
                }
            ),
            Some(workload.location),
        );
        finding.workload = Some(workload.qualified_name());
        out.findings.push(finding);
    }
}
