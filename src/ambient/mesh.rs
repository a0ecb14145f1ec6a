//! Who is in the ambient mesh (DOMAIN.md section 4).

use crate::model::{Cluster, Workload};

pub const DATAPLANE_MODE: &str = "istio.io/dataplane-mode";
pub const USE_WAYPOINT: &str = "istio.io/use-waypoint";
pub const USE_WAYPOINT_NAMESPACE: &str = "istio.io/use-waypoint-namespace";
pub const GATEWAY_NAME: &str = "gateway.networking.k8s.io/gateway-name";

/// How membership is decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MeshMode {
    /// `labels` when the input has any `istio.io/dataplane-mode` label, else `all`.
    #[default]
    Auto,
    /// Every namespace is enrolled (what-if: "I am about to enroll all of this").
    All,
    /// Only what the labels say.
    Labels,
}

/// What ambient does with a workload's traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Membership {
    /// Captured by ztunnel: HBONE in and out, probes SNATed.
    Ambient,
    /// Has (or will get) a sidecar: not captured, but receives HBONE from ambient pods.
    Sidecar,
    /// Not in the mesh at all.
    Outside(Reason),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Its namespace is not enrolled and the pod has no label of its own.
    NotEnrolled,
    /// `istio.io/dataplane-mode: none` on the pod.
    OptedOut,
    HostNetwork,
    /// A waypoint proxy itself.
    Waypoint,
}

impl Membership {
    pub fn is_ambient(self) -> bool {
        self == Membership::Ambient
    }

    /// Receives mesh traffic over HBONE (ambient pods, and sidecar pods from ambient peers).
    pub fn receives_hbone(self) -> bool {
        matches!(self, Membership::Ambient | Membership::Sidecar)
    }
}

/// Whether the input says anything about enrollment.
pub fn has_enrollment_labels(cluster: &Cluster) -> bool {
    cluster
        .namespaces
        .iter()
        .any(|ns| ns.labels.contains_key(DATAPLANE_MODE))
        || cluster
            .workloads
            .iter()
            .any(|w| w.labels.contains_key(DATAPLANE_MODE))
}

/// The mode in force: `Auto` resolved to `All` or `Labels`.
pub fn effective_mode(cluster: &Cluster, mode: MeshMode) -> MeshMode {
    match mode {
        MeshMode::Auto if has_enrollment_labels(cluster) => MeshMode::Labels,
        MeshMode::Auto => MeshMode::All,
        other => other,
    }
}

pub fn membership(cluster: &Cluster, workload: &Workload, mode: MeshMode) -> Membership {
    let ns_labels = cluster.namespace(&workload.namespace).map(|ns| &ns.labels);
    let ns_label = |key: &str| ns_labels.and_then(|l| l.get(key)).map(String::as_str);
    if workload.host_network {
        return Membership::Outside(Reason::HostNetwork);
    }
    if workload.labels.contains_key(GATEWAY_NAME) {
        return Membership::Outside(Reason::Waypoint);
    }
    let pod_mode = workload.labels.get(DATAPLANE_MODE).map(String::as_str);
    if pod_mode == Some("none") {
        return Membership::Outside(Reason::OptedOut);
    }
    let has_sidecar = workload.annotations.contains_key("sidecar.istio.io/status")
        || workload.containers.iter().any(|c| c.name == "istio-proxy")
        || ((ns_label("istio-injection") == Some("enabled") || ns_label("istio.io/rev").is_some())
            && workload
                .annotations
                .get("sidecar.istio.io/inject")
                .map(String::as_str)
                != Some("false")
            && workload
                .labels
                .get("sidecar.istio.io/inject")
                .map(String::as_str)
                != Some("false"));
    if has_sidecar {
        return Membership::Sidecar;
    }
    let enrolled = pod_mode == Some("ambient")
        || ns_label(DATAPLANE_MODE) == Some("ambient")
        || mode == MeshMode::All;
    if enrolled {
        Membership::Ambient
    } else {
        Membership::Outside(Reason::NotEnrolled)
    }
}

/// The waypoint a destination's mesh traffic goes through: (name, namespace), from the pod's
/// `istio.io/use-waypoint` label or else its namespace's (`none` on the pod opts out).
pub fn waypoint_of(cluster: &Cluster, workload: &Workload) -> Option<(String, String)> {
    let from = |labels: &crate::netpol::selector::Labels| {
        labels.get(USE_WAYPOINT).map(|name| {
            let ns = labels
                .get(USE_WAYPOINT_NAMESPACE)
                .cloned()
                .unwrap_or_else(|| workload.namespace.clone());
            (name.clone(), ns)
        })
    };
    let chosen = from(&workload.labels).or_else(|| {
        cluster
            .namespace(&workload.namespace)
            .and_then(|ns| from(&ns.labels))
    });
    chosen.filter(|(name, _)| name != "none")
}
