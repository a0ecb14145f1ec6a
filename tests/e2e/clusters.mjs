// Shared by the browser tests and measurements: generated input.

/** About `bytes` of distinct, valid objects: a namespace, a deployment and a policy per step. */
export function bigCluster(bytes) {
  const parts = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const part = `apiVersion: v1
kind: Namespace
metadata:
  name: ns-${i}
  labels:
    istio.io/dataplane-mode: ambient
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-${i}
  namespace: ns-${i}
spec:
  selector:
    matchLabels:
      app: app-${i}
  template:
    metadata:
      labels:
        app: app-${i}
    spec:
      containers:
      - name: app
        image: example.com/app:1
        ports:
        - name: http
          containerPort: 8080
        readinessProbe:
          httpGet:
            path: /ready
            port: http
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-http
  namespace: ns-${i}
spec:
  podSelector:
    matchLabels:
      app: app-${i}
  ingress:
  - ports:
    - port: http
---
`;
    parts.push(part);
    size += part.length;
  }
  return parts.join("");
}

/**
 * bigCluster's namespaces with a guard rail: the first `guarded` of them (`ns-0`, `ns-1`, ...)
 * behind an Admin-tier ClusterNetworkPolicy that accepts 8080 from every namespace and denies
 * the rest, HBONE's 15008 with it. The Admin tier blocks the tunnels to those namespaces, their
 * own NetworkPolicies the tunnels to the others.
 */
export function guardedCluster(bytes, guarded = 10) {
  const names = Array.from({ length: guarded }, (_, i) => `ns-${i}`).join(", ");
  return `${bigCluster(bytes)}apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: guard
spec:
  tier: Admin
  priority: 10
  subject:
    namespaces:
      matchExpressions:
      - {key: kubernetes.io/metadata.name, operator: In, values: [${names}]}
  ingress:
  - name: accept-http
    action: Accept
    from:
    - namespaces: {}
    protocols:
    - tcp:
        destinationPort:
          number: 8080
  - name: deny-rest
    action: Deny
    from:
    - namespaces: {}
`;
}
