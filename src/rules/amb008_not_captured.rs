#![doc = include_str!("docs/AMB008.md")]

use super::Output;
use crate::ambient::Context;
use crate::ambient::mesh::{DATAPLANE_MODE, Membership, MeshMode, Reason};
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
        if !enrolled_namespace {
            continue;
        }
        let why = match cx.membership[w] {
            Membership::Ambient | Membership::Outside(Reason::NotEnrolled) => continue,
            Membership::Sidecar => {
                "has an Istio sidecar (or will get one from its namespace's injection label), so ambient does not capture it; ambient pods still reach it over HBONE, so its ingress needs 15008/TCP from them (AMB001)"
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
        };
        let mut finding = Finding::new(
            Code::Amb008,
            format!(
                "{} {why}; probe SNAT and egress tunneling do not apply to it",
                workload.describe()
            ),
            Some(workload.location),
        );
        finding.workload = Some(workload.qualified_name());
        out.findings.push(finding);
    }
}
