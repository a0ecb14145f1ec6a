//! Who is in the ambient mesh (DOMAIN.md section 4).

use crate::model::labels::Labels;
use crate::model::{Service, Workload};
use crate::pipeline::Cluster;

pub const DATAPLANE_MODE: &str = "istio.io/dataplane-mode";
pub use crate::model::{GATEWAY_NAME, USE_WAYPOINT, USE_WAYPOINT_NAMESPACE};
pub const INGRESS_USE_WAYPOINT: &str = "istio.io/ingress-use-waypoint";

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Membership {
    /// Captured by ztunnel: HBONE in and out, probes SNATed.
    Ambient,
    /// Has (or will get) a sidecar: not captured, but receives HBONE from ambient pods and (an
    /// Istio proxy) sends HBONE to ambient destinations.
    Sidecar,
    /// An Istio gateway proxy: not captured and no probe SNAT, but it sends HBONE to ambient
    /// destinations.
    Gateway(GatewayKind),
    /// Not in the mesh at all.
    Outside(Reason),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Its namespace is not enrolled and the pod has no label of its own.
    NotEnrolled,
    /// `istio.io/dataplane-mode: none` on the pod.
    OptedOut,
    HostNetwork,
    /// A waypoint proxy itself.
    Waypoint,
    /// In a namespace istio-cni never captures (`excludeNamespaces`).
    ExcludedNamespace,
}

/// Which Istio gateway a gateway proxy is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GatewayKind {
    Ingress,
    Egress,
    EastWest,
    /// A Gateway API gateway of class `istio`, or a pod injected with the `gateway` template.
    Other,
}

impl GatewayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayKind::Ingress => "ingress gateway",
            GatewayKind::Egress => "egress gateway",
            GatewayKind::EastWest => "east-west gateway",
            GatewayKind::Other => "Istio gateway",
        }
    }
}

impl Membership {
    pub fn is_ambient(self) -> bool {
        self == Membership::Ambient
    }

    /// Receives mesh traffic over HBONE (ambient pods, and sidecar pods from ambient peers).
    pub fn receives_hbone(self) -> bool {
        matches!(self, Membership::Ambient | Membership::Sidecar)
    }

    /// An Istio proxy of its own (sidecar or gateway): tunnels to ambient destinations when
    /// proxies send HBONE.
    pub fn is_proxy(self) -> bool {
        matches!(self, Membership::Sidecar | Membership::Gateway(_))
    }

    /// Has a mesh identity (a service account certificate) when it sends.
    pub fn in_mesh(self) -> bool {
        self.is_ambient() || self.is_proxy()
    }
}

/// How membership is decided, beyond the labels.
#[derive(Clone, Copy, Debug)]
pub struct Settings<'o> {
    /// The mode in force (`Auto` resolved).
    pub mode: MeshMode,
    /// istio-cni's `excludeNamespaces`.
    pub excluded: &'o [String],
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

pub fn membership(cluster: &Cluster, workload: &Workload, settings: Settings) -> Membership {
    let ns_labels = cluster.namespace(&workload.namespace).map(|ns| &ns.labels);
    let ns_label = |key: &str| ns_labels.and_then(|l| l.get(key)).map(String::as_str);
    let label = |key: &str| workload.labels.get(key).map(String::as_str);
    if workload.host_network {
        return Membership::Outside(Reason::HostNetwork);
    }
    if let Some(proxy) = proxy_kind(cluster, workload) {
        return proxy;
    }
    let pod_mode = label(DATAPLANE_MODE);
    if pod_mode == Some("none") {
        return Membership::Outside(Reason::OptedOut);
    }
    if sidecar_cause(cluster, workload).is_some() {
        return Membership::Sidecar;
    }
    if settings.excluded.contains(&workload.namespace) {
        return Membership::Outside(Reason::ExcludedNamespace);
    }
    let enrolled = pod_mode == Some("ambient")
        || ns_label(DATAPLANE_MODE) == Some("ambient")
        || settings.mode == MeshMode::All;
    if enrolled {
        Membership::Ambient
    } else {
        Membership::Outside(Reason::NotEnrolled)
    }
}

/// Why a pod has (or will get) a sidecar, as a message says it; `None` without one. The injector
/// selects pods by their namespace's labels and by their own (`sidecar.istio.io/inject: "true"`
/// or a revision label), and a sidecar wins over ambient.
pub fn sidecar_cause(cluster: &Cluster, workload: &Workload) -> Option<&'static str> {
    let ns_labels = cluster.namespace(&workload.namespace).map(|ns| &ns.labels);
    let ns_label = |key: &str| ns_labels.and_then(|l| l.get(key)).map(String::as_str);
    let label = |key: &str| workload.labels.get(key).map(String::as_str);
    let no_inject = workload.annotations.get(INJECT).map(String::as_str) == Some("false")
        || label(INJECT) == Some("false");
    if workload.annotations.contains_key("sidecar.istio.io/status")
        || workload.containers.iter().any(|c| c.name == "istio-proxy")
    {
        Some("has an Istio sidecar")
    } else if label(INJECT) == Some("true") {
        Some(
            "is labelled `sidecar.istio.io/inject: \"true\"` (Istio's injector gives it a sidecar)",
        )
    } else if label(REVISION).is_some() && !no_inject {
        Some("is labelled `istio.io/rev` (Istio's injector gives it a sidecar)")
    } else if (ns_label("istio-injection") == Some("enabled") || ns_label(REVISION).is_some())
        && !no_inject
    {
        Some("will get an Istio sidecar from its namespace's injection label")
    } else {
        None
    }
}

const INJECT: &str = "sidecar.istio.io/inject";
const REVISION: &str = "istio.io/rev";
/// Istio's injection template annotation: `gateway` makes the pod a gateway proxy.
const INJECT_TEMPLATES: &str = "inject.istio.io/templates";

/// A waypoint or gateway proxy's membership, from its labels (`gateway-name` of a declared
/// Gateway, the classic charts' `istio` label, the `gateway` injection template).
fn proxy_kind(cluster: &Cluster, workload: &Workload) -> Option<Membership> {
    // Istio injects gateway pods with the `gateway` template (waypoints get `waypoint`).
    let templated = workload
        .annotations
        .get(INJECT_TEMPLATES)
        .is_some_and(|t| t.split(',').any(|t| t.trim() == "gateway"));
    if let Some(name) = workload.labels.get(GATEWAY_NAME) {
        let here = |n: &String, ns: &String| n == name && *ns == workload.namespace;
        if let Some(gateway) = cluster
            .gateways
            .iter()
            .find(|g| here(&g.name, &g.namespace))
        {
            return Some(Membership::Gateway(if gateway.class == "istio-east-west" {
                GatewayKind::EastWest
            } else {
                GatewayKind::Other
            }));
        }
        // A declared waypoint, or pods of a Gateway the input does not show that were not
        // injected as a gateway.
        if cluster
            .waypoints
            .iter()
            .any(|w| here(&w.name, &w.namespace))
            || !templated
        {
            return Some(Membership::Outside(Reason::Waypoint));
        }
    }
    match workload.labels.get("istio").map(String::as_str) {
        Some("ingressgateway") => Some(Membership::Gateway(GatewayKind::Ingress)),
        Some("egressgateway") => Some(Membership::Gateway(GatewayKind::Egress)),
        Some("eastwestgateway") => Some(Membership::Gateway(GatewayKind::EastWest)),
        _ => templated.then_some(Membership::Gateway(GatewayKind::Other)),
    }
}

/// A waypoint a destination's mesh traffic goes through.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WaypointUse {
    pub name: String,
    pub namespace: String,
    /// Gateways send through it too (`istio.io/ingress-use-waypoint: "true"` on the Service or
    /// its namespace); without it they go straight to the destination.
    pub ingress: bool,
}

/// `istio.io/use-waypoint` of one object: `None` without the label, `Some(None)` for `none`.
fn use_waypoint(labels: &Labels, namespace: &str) -> Option<Option<(String, String)>> {
    labels.get(USE_WAYPOINT).map(|name| {
        (name != "none").then(|| {
            let ns = labels
                .get(USE_WAYPOINT_NAMESPACE)
                .cloned()
                .unwrap_or_else(|| namespace.to_string());
            (name.clone(), ns)
        })
    })
}

/// The waypoint a destination's mesh traffic goes through (DOMAIN.md section 2): for traffic
/// addressed to a Service (what clients do), the Service's `istio.io/use-waypoint` or else its
/// namespace's, when the waypoint takes service traffic; otherwise the pod's own label or else
/// its namespace's, when the waypoint takes workload traffic (`istio.io/waypoint-for`). A
/// destination no Service of the input selects is taken to be reached through a Service the
/// input does not show. `services` are the Services selecting it.
pub fn waypoint_of(
    cluster: &Cluster,
    workload: &Workload,
    services: &[&Service],
) -> Option<WaypointUse> {
    let namespace = cluster.namespace(&workload.namespace);
    let empty = Labels::new();
    let ns_labels = namespace.map_or(&empty, |ns| &ns.labels);
    let takes = |(name, ns): &(String, String), services: bool| {
        match cluster
            .waypoints
            .iter()
            .find(|w| &w.name == name && &w.namespace == ns)
            .and_then(|w| w.traffic)
        {
            Some(traffic) if services => traffic.takes_services(),
            Some(traffic) => traffic.takes_workloads(),
            // Not declared in the input: the label is taken at its word.
            None => true,
        }
    };
    let ns_choice = use_waypoint(ns_labels, &workload.namespace);
    let ingress = |labels: &Labels| {
        labels
            .get(INGRESS_USE_WAYPOINT)
            .is_some_and(|v| v == "true")
            || ns_labels
                .get(INGRESS_USE_WAYPOINT)
                .is_some_and(|v| v == "true")
    };
    // Service traffic.
    let by_service: Vec<(Option<(String, String)>, bool)> = if services.is_empty() {
        vec![(ns_choice.clone().flatten(), ingress(&empty))]
    } else {
        services
            .iter()
            .map(|s| {
                let choice = use_waypoint(&s.labels, &s.namespace)
                    .unwrap_or_else(|| ns_choice.clone().flatten());
                (choice, ingress(&s.labels))
            })
            .collect()
    };
    let service_waypoint = by_service
        .into_iter()
        .find_map(|(choice, ingress)| choice.filter(|c| takes(c, true)).map(|c| (c, ingress)));
    if let Some(((name, namespace), ingress)) = service_waypoint {
        return Some(WaypointUse {
            name,
            namespace,
            ingress,
        });
    }
    // Workload traffic: the pod's label (`none` opts it out), else its namespace's.
    use_waypoint(&workload.labels, &workload.namespace)
        .unwrap_or(ns_choice.flatten())
        .filter(|c| takes(c, false))
        .map(|(name, namespace)| WaypointUse {
            name,
            namespace,
            ingress: false,
        })
}
