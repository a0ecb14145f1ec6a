//! Example inputs the page starts with.

/// The seed's first example: a policy that admits only 9090/TCP to `my-app`, which blocks HBONE
/// (15008) once `my-app` is in the ambient mesh.
pub const SEED_HBONE: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
spec:
  ingress:
  - ports:
    - port: 9090
      protocol: TCP
  podSelector:
    matchLabels:
      app.kubernetes.io/name: my-app
";
