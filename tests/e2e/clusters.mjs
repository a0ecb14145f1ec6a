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
