"""Writes schemas.json: the Kubernetes JSON schemas of the kinds the page's examples use, with
every definition they reference and without the descriptions (to keep the file small).

Source: the PyPI package kubernetes-validate (Apache-2.0), which ships the schemas generated from
Kubernetes' OpenAPI document, in the "local-strict" flavour (unknown fields are errors, as with
`kubectl apply --validate=strict`). Run from this folder:

    pip download --no-deps kubernetes-validate==1.37.0 && unzip -q kubernetes_validate-*.whl -d whl
    python3 extract.py whl/kubernetes_validate/kubernetes-json-schema/v1.37.0-local-strict
"""

import json
import re
import sys
from pathlib import Path

# file name in the package -> apiVersion/kind
KINDS = {
    "namespace-v1.json": "v1/Namespace",
    "deployment-apps-v1.json": "apps/v1/Deployment",
    "networkpolicy-networking-v1.json": "networking.k8s.io/v1/NetworkPolicy",
    "service-v1.json": "v1/Service",
}

source = Path(sys.argv[1])
definitions = json.loads((source / "_definitions.json").read_text())["$defs"]
REF = re.compile(r'"\$ref": "(?:/api/_definitions\.json)?#/\$defs/([^"]+)"')


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in ("description", "$id", "$schema")}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def local_refs(node):
    return json.loads(REF.sub(r'"$ref": "#/$defs/\1"', json.dumps(node)))


kinds = {name: local_refs(strip(json.loads((source / file).read_text()))) for file, name in KINDS.items()}
needed, queue = set(), [m for k in kinds.values() for m in REF.findall(json.dumps(k))]
while queue:
    name = queue.pop()
    if name not in needed:
        needed.add(name)
        queue += REF.findall(json.dumps(definitions[name]))
out = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "source": f"kubernetes-validate (PyPI), {source.name}, Apache-2.0",
    "kinds": kinds,
    "$defs": {name: local_refs(strip(definitions[name])) for name in sorted(needed)},
}
Path("schemas.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
print(f"{len(kinds)} kinds, {len(needed)} definitions")
