"""Writes istio-security.json: the openAPIV3Schema of Istio's AuthorizationPolicy and
PeerAuthentication CRDs (security.istio.io, v1 and v1beta1), the Istio kinds the page's examples
use, without descriptions, CEL rules (x-kubernetes-validations) and status, to keep the file
small. The schemas are kept as the CRD has them: tests/manifests.rs adds what the API server
adds (apiVersion, kind, metadata) and makes unknown fields errors (`--validate=strict`).

Source: istio/istio, manifests/charts/base/files/crd-all.gen.yaml (Apache-2.0). Run from this
folder, with PyYAML, COMMIT being the commit to take it from:

    curl -sSLo crd-all.gen.yaml \
      https://raw.githubusercontent.com/istio/istio/$COMMIT/manifests/charts/base/files/crd-all.gen.yaml
    python3 extract_istio.py crd-all.gen.yaml $COMMIT
"""

import json
import sys
from pathlib import Path

import yaml

GROUP = "security.istio.io"
KINDS = ["AuthorizationPolicy", "PeerAuthentication"]
VERSIONS = ["v1", "v1beta1"]
DROP = ("description", "x-kubernetes-validations")


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in DROP}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


path, commit = Path(sys.argv[1]), sys.argv[2]
schemas = {}
for crd in yaml.safe_load_all(path.read_text()):
    if not crd or crd.get("kind") != "CustomResourceDefinition":
        continue
    spec = crd["spec"]
    if spec["group"] != GROUP or spec["names"]["kind"] not in KINDS:
        continue
    for version in spec["versions"]:
        if version["name"] in VERSIONS:
            schema = strip(version["schema"]["openAPIV3Schema"])
            schema["properties"].pop("status", None)
            schemas[f"{GROUP}/{version['name']}/{spec['names']['kind']}"] = schema
expected = {f"{GROUP}/{v}/{k}" for k in KINDS for v in VERSIONS}
assert set(schemas) == expected, sorted(expected - set(schemas))
out = {
    "source": f"istio/istio, manifests/charts/base/files/crd-all.gen.yaml at commit {commit} "
    "(Apache License 2.0, Copyright Istio Authors): the openAPIV3Schema of each version, "
    "without descriptions, without the CEL rules (x-kubernetes-validations) and without status",
    "schemas": schemas,
}
Path("istio-security.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
print(f"{len(schemas)} schemas")
