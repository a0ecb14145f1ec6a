#!/usr/bin/env python3
"""Compares the connectivity of network-config-analyzer (NCA) with ours, pair by pair.

Usage: compare_nca.py NCA_TXT OURS_JSON
       compare_nca.py --authz-inputs CLUSTER OURS_YAML NCA_YAML [--keep-netpol] [--ablate]
       compare_nca.py --authz NCA_TXT OURS_JSON CLUSTER [--keep-netpol] [--ablate]
       compare_nca.py --calico-inputs CLUSTER OURS_YAML NCA_YAML [--ablate[=nets|not-selector]]
       compare_nca.py --calico NCA_TXT OURS_JSON [--ablate]

NCA_TXT is `nca --connectivity -r FILE --output_format txt_no_fw_rules --output_endpoints
deployments`; OURS_JSON is `ambient-netpol connectivity --format json FILE`. Both are reduced to
(source, destination) -> {protocol: port ranges}; address ranges are cut at every edge either tool
used, so different but equivalent splits of the address space compare equal. Prints the
differences grouped by kind, and exits 0 (differences are reported, not judged: BENCHMARKS.md
explains each kind).

The `--authz` forms compare the TCP ports after Istio AuthorizationPolicies (`gen-cluster
--authz`): `--authz-inputs` writes our input (without the NetworkPolicies, unless
--keep-netpol) and NCA's (the same, with the root namespace's policies moved from istio-system to
istio-config, the root namespace NCA 2.1.0 hard-codes); `--authz` compares NCA's TCP section
with `ambient-netpol connectivity --mode ambient --host-network pod --format json`, where our
answer is a range (the ports ztunnel surely allows, `conn` without `ztunnel_uncertain`, up to
`conn`). With --keep-netpol only the pairs where NetworkPolicy's verdict is the same under ambient
(where mesh traffic reaches NetworkPolicy on 15008) and in plain Kubernetes (NCA's sidecar
model, the app port) are compared; the others are counted. With --ablate, the inputs lose the
causes of the known differences (hostNetwork pods; `notPrincipals` and `notNamespaces` become
`principals` and `namespaces`) and any remaining difference fails. BENCHMARKS.md explains each
kind.

The `--calico` forms compare Calico's verdicts (`gen-cluster --calico`, Calico policies beside
Kubernetes NetworkPolicies): `--calico-inputs` writes our input (the cluster; with --ablate
without the known causes of differences: the pod range `10.244.0.0/16` is added to every
`notNets`, and to the entities with `nets` alone, so no address block matches a pod, as NCA
models it; a namespaced policy's lone `notSelector` gets `selector: all()`, which changes
nothing in Calico) and NCA's (the same, its policies in Calico's evaluation order, since NCA 2.1.0 breaks
ties of `order` by input order); `--calico` compares NCA's answer with `ambient-netpol
connectivity --cni calico --pod-cidr 10.244.0.0/16 --host-network pod --format json`, pair by
pair and per protocol, prints one `RESULT compared identical different` line, and with --ablate
fails on any difference. `--ablate=nets` or `--ablate=not-selector` takes out one cause only;
`--ablate=nets,not-selector,file-order` both, with NCA's copy in the input's order.
"""

import ipaddress
import json
import re
import sys
from collections import defaultdict

PROTOCOLS = ("TCP", "UDP", "SCTP")
ALL = {p: ((1, 65535),) for p in PROTOCOLS}


def merge(ranges):
    out = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def port_ranges(text):
    ranges = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        ranges.append((int(lo), int(hi or lo)))
    return ranges


def union(a, b):
    return {p: merge(a.get(p, ()) + b.get(p, ())) for p in set(a) | set(b) if a.get(p, ()) + b.get(p, ())}


def nca_conns(text):
    """`All connections` or `{protocols:TCP, UDP,dst_ports:53},{...}`."""
    if text.strip().lower() == "all connections":
        return dict(ALL)
    conns = {}
    for body in re.findall(r"\{([^}]*)\}", text):
        m = re.match(r"protocols:([A-Z, ]+?)(?:,dst_ports:(.*))?$", body.strip())
        if not m:
            raise ValueError(f"unknown NCA connection set: {body}")
        protocols = [p.strip() for p in m.group(1).split(",") if p.strip()]
        ports = port_ranges(m.group(2)) if m.group(2) else [(1, 65535)]
        conns = union(conns, {p: merge(ports) for p in protocols})
    return conns


def our_conns(text):
    """`All Connections`, `No Connections` or `TCP 9000-9100,UDP 5353`."""
    if text.strip().lower() == "all connections":
        return dict(ALL)
    if text.strip().lower() == "no connections":
        return {}
    conns = {}
    protocol = None
    for token in re.split(r"[ ,]+", text.strip()):
        if token in PROTOCOLS:
            protocol = token
            conns.setdefault(protocol, ())
        elif protocol is None:
            raise ValueError(f"unknown connection set: {text}")
        else:
            conns[protocol] += tuple(port_ranges(token))
    return {p: merge(r) for p, r in conns.items()}


def address_range(text):
    """`a-b` or a CIDR as (version, first, last); None for a workload."""
    try:
        if "/" in text and not re.match(r"^[\w.-]+/[\w.-]+$", text):
            net = ipaddress.ip_network(text, strict=False)
            return (net.version, int(net[0]), int(net[-1]))
        lo, sep, hi = text.partition("-")
        a, b = ipaddress.ip_address(lo), ipaddress.ip_address(hi if sep else lo)
        return (a.version, int(a), int(b))
    except ValueError:
        return None


def endpoint(name, kind):
    rng = address_range(name)
    return ("ip", rng) if rng else ("workload", name, kind)


def read_nca(path):
    pairs = defaultdict(dict)
    for line in open(path, encoding="utf-8"):
        if " => " not in line:
            continue
        left, rest = line.rstrip("\n").split(" => ", 1)
        right, conns = rest.split(" : ", 1)

        def split(e):
            m = re.match(r"^(.*)\[(\w+)\]$", e.strip())
            return (m.group(1), m.group(2)) if m else (e.strip(), "External")

        key = (endpoint(*split(left)), endpoint(*split(right)))
        pairs[key] = union(pairs[key], nca_conns(conns))
    return pairs


def read_ours(path):
    pairs = defaultdict(dict)
    for row in json.load(open(path, encoding="utf-8")):
        key = (endpoint(row["src"], row["src_kind"]), endpoint(row["dst"], row["dst_kind"]))
        pairs[key] = union(pairs[key], our_conns(row["conn"]))
    return pairs


def cut_addresses(pairs, edges):
    """Splits every address range at the edges, so both sides compare per elementary segment."""
    out = {}
    for (src, dst), conns in pairs.items():
        for s in cut(src, edges):
            for d in cut(dst, edges):
                out[(s, d)] = conns
    return out


def cut(e, edges):
    if e[0] != "ip":
        return [e]
    version, lo, hi = e[1]
    points = sorted(p for p in edges[version] if lo < p <= hi)
    starts = [lo] + points
    ends = [p - 1 for p in points] + [hi]
    return [("ip", (version, a, b)) for a, b in zip(starts, ends)]


def show(e):
    if e[0] == "ip":
        version, lo, hi = e[1]
        address = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
        return f"{address(lo)}-{address(hi)}"
    return f"{e[1]}[{e[2]}]"


def show_conns(c):
    if c == ALL:
        return "All"
    return ";".join(f"{p} " + ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in r) for p, r in sorted(c.items()))


def main():
    nca, ours = read_nca(sys.argv[1]), read_ours(sys.argv[2])
    edges = {4: set(), 6: set()}
    for pairs in (nca, ours):
        for src, dst in pairs:
            for e in (src, dst):
                if e[0] == "ip":
                    version, lo, hi = e[1]
                    edges[version].update((lo, hi + 1))
    nca, ours = cut_addresses(nca, edges), cut_addresses(ours, edges)

    kinds = defaultdict(list)
    for key in sorted(set(nca) | set(ours), key=lambda k: (show(k[0]), show(k[1]))):
        a, b = nca.get(key), ours.get(key)
        if a == b:
            continue
        names = " ".join(show(e) for e in key)
        if any(e[0] == "workload" and e[1].startswith("kube-system/kube-dns") for e in key):
            kind = "NCA adds a kube-dns pod the input does not have"
        elif a is None:
            kind = "only ours"
        elif b is None:
            kind = "only NCA"
        else:
            kind = "different connections"
        kinds[kind].append(f"{names}: NCA {show_conns(a) if a else '-'} / ours {show_conns(b) if b else '-'}")

    same = sum(1 for k in set(nca) & set(ours) if nca[k] == ours[k])
    print(f"pairs (address ranges cut at common edges): NCA {len(nca)}, ours {len(ours)}, identical {same}")
    if not kinds:
        print("no differences")
    for kind, rows in sorted(kinds.items()):
        print(f"{kind}: {len(rows)}")
        for row in rows[:5]:
            print(f"  {row}")
        if len(rows) > 5:
            print(f"  ... and {len(rows) - 5} more")


def documents(path):
    return open(path, encoding="utf-8").read().split("---\n")


def authz_inputs(cluster, ours_path, nca_path, keep_netpol, ablate):
    docs = [d for d in documents(cluster) if keep_netpol or "\nkind: NetworkPolicy\n" not in "\n" + d]
    if ablate:
        # Without the two causes of the known differences: no hostNetwork pod, and no negative
        # source field (ztunnel matches plaintext with `notPrincipals` and `notNamespaces`).
        docs = [
            re.sub(r"^ *hostNetwork: true\n", "", d, flags=re.M)
            .replace("notPrincipals:", "principals:")
            .replace("notNamespaces:", "namespaces:")
            for d in docs
        ]
    open(ours_path, "w", encoding="utf-8").write("---\n".join(docs))
    moved = [
        d.replace("\n  namespace: istio-system\n", "\n  namespace: istio-config\n")
        if "\nkind: AuthorizationPolicy\n" in "\n" + d
        else d
        for d in docs
    ]
    open(nca_path, "w", encoding="utf-8").write("---\n".join(moved))


def host_network_workloads(cluster):
    """`namespace/name` of the workloads whose pods use the host's network."""
    out = set()
    for d in documents(cluster):
        if "hostNetwork: true" in d:
            name = re.search(r"^  name: (\S+)$", d, re.M).group(1)
            namespace = re.search(r"^  namespace: (\S+)$", d, re.M).group(1)
            out.add(f"{namespace}/{name}")
    return out


def read_nca_tcp(path):
    """The `TCP Connections:` section of NCA's output (with Istio policies it splits TCP and
    non-TCP): (source, destination) -> TCP port ranges."""
    pairs = defaultdict(tuple)
    section = None
    for line in open(path, encoding="utf-8"):
        if line.rstrip().endswith("Connections:"):
            section = line.split()[0]
            continue
        if section != "TCP" or " => " not in line:
            continue
        left, rest = line.rstrip("\n").split(" => ", 1)
        right, conns = rest.split(" : ", 1)

        def split(e):
            m = re.match(r"^(.*)\[(\w+)\]$", e.strip())
            return (m.group(1), m.group(2)) if m else (e.strip(), "External")

        key = (endpoint(*split(left)), endpoint(*split(right)))
        if conns.strip().lower() == "all connections":
            ports = ((1, 65535),)
        else:
            ports = ()
            for body in re.findall(r"\{([^}]*)\}", conns):
                m = re.match(r"(?:protocols:TCP,?)?(?:dst_ports:(.*))?$", body.strip())
                if not m:
                    raise ValueError(f"unknown NCA TCP connection set: {body}")
                ports += tuple(port_ranges(m.group(1))) if m.group(1) else ((1, 65535),)
        pairs[key] = merge(pairs[key] + ports)
    return pairs


def subtract(a, b):
    out = []
    for lo, hi in a:
        pieces = [(lo, hi)]
        for blo, bhi in b:
            pieces = [q for plo, phi in pieces for q in ((plo, min(phi, blo - 1)), (max(plo, bhi + 1), phi)) if q[0] <= q[1]]
        out.extend(pieces)
    return merge(out)


def read_ours_tcp(path, keep_netpol):
    """(source, destination) -> (ports ztunnel surely allows, ports it may allow), TCP; with
    `keep_netpol`, the pairs whose NetworkPolicy verdict differs under ambient apart."""
    pairs, apart = {}, set()
    for row in json.load(open(path, encoding="utf-8")):
        key = (endpoint(row["src"], row["src_kind"]), endpoint(row["dst"], row["dst_kind"]))
        tcp = lambda field: our_conns(row[field]).get("TCP", ()) if row.get(field) else ()
        upper = tcp("conn")
        lower = subtract(upper, tcp("ztunnel_uncertain"))
        if keep_netpol:
            cni_ambient = merge(upper + tcp("ztunnel_denied"))
            plain = tcp("plain") if "plain" in row else cni_ambient
            if plain != cni_ambient:
                apart.add(key)
        old = pairs.get(key, ((), ()))
        pairs[key] = (merge(old[0] + lower), merge(old[1] + upper))
    return pairs, apart


def contains(big, small):
    return subtract(small, big) == ()


def main_authz(nca_path, ours_path, cluster, keep_netpol, ablate):
    nca = read_nca_tcp(nca_path)
    ours, apart = read_ours_tcp(ours_path, keep_netpol)
    host = host_network_workloads(cluster)
    edges = {4: set(), 6: set()}
    for pairs in (nca, ours):
        for src, dst in pairs:
            for e in (src, dst):
                if e[0] == "ip":
                    version, lo, hi = e[1]
                    edges[version].update((lo, hi + 1))
    nca, ours = cut_addresses(nca, edges), cut_addresses(ours, edges)
    apart = {k for k0 in apart for k in cut_addresses({k0: None}, edges)}

    kinds = defaultdict(list)
    same = within = ambient_netpol = kube_dns = 0
    keys = sorted(set(nca) | set(ours), key=lambda k: (show(k[0]), show(k[1])))
    for key in keys:
        if any(e[0] == "workload" and e[1].startswith("kube-system/kube-dns") for e in key):
            kube_dns += 1
            continue
        if keep_netpol and key in apart:
            ambient_netpol += 1
            continue
        a = nca.get(key, ())
        lower, upper = ours.get(key, ((), ()))
        if a == lower == upper:
            same += 1
            continue
        if contains(a, lower) and contains(upper, a):
            within += 1
            continue
        src, dst = key
        if dst[0] == "workload" and dst[1] in host:
            kind = "no ztunnel: a hostNetwork destination"
        elif src[0] == "workload" and src[1] in host:
            kind = "plaintext: a hostNetwork source"
        elif src[0] == "ip":
            kind = "plaintext: an address source"
        else:
            kind = "different TCP ports"
        ranges = lambda r: ",".join(f"{x}" if x == y else f"{x}-{y}" for x, y in r) or "-"
        ours_text = ranges(lower) if lower == upper else f"{ranges(lower)} .. {ranges(upper)}"
        kinds[kind].append(f"{show(key[0])} {show(key[1])}: NCA {ranges(a)} / ours {ours_text}")

    compared = len(keys) - ambient_netpol - kube_dns
    print(
        f"pairs compared (address ranges cut at common edges): {compared}, identical {same}, "
        f"NCA within our range (addresses the input lacks) {within}, different {compared - same - within}"
    )
    if ambient_netpol:
        print(f"not compared: {ambient_netpol} where NetworkPolicy's verdict differs under ambient (15008)")
    if kube_dns:
        print(f"not compared: {kube_dns} with the kube-dns pod NCA adds")
    if ipv6:
        print(f"not compared: {ipv6} with IPv6 addresses of a direction one side does not list")
    for kind, rows in sorted(kinds.items()):
        print(f"{kind}: {len(rows)}")
        for row in rows[:5]:
            print(f"  {row}")
        if len(rows) > 5:
            print(f"  ... and {len(rows) - 5} more")
    if ablate and kinds:
        print("FAIL: differences remain once the known causes are taken out", file=sys.stderr)
        sys.exit(1)


POD_CIDR = "10.244.0.0/16"


def field(doc, key, indent):
    m = re.search(rf"^{' ' * indent}{key}: *(.*)$", doc, re.M)
    return m.group(1).strip().strip('"') if m else None


def calico_order(doc):
    """The key of a policy in Calico's evaluation order (order, none last; then felix's v1 name:
    `ns/name` for a NetworkPolicy, the name for a GlobalNetworkPolicy, `ns/knp.default.<name>`
    for a Kubernetes NetworkPolicy, of order 1000); None for the rest."""
    kind = field(doc, "kind", 0)
    api = field(doc, "apiVersion", 0) or ""
    if kind == "NetworkPolicy" and api.startswith("networking.k8s.io/"):
        return (0, 1000.0, f"{field(doc, 'namespace', 2)}/knp.default.{field(doc, 'name', 2)}")
    if kind in ("NetworkPolicy", "GlobalNetworkPolicy") and api.startswith("projectcalico.org/"):
        order = field(doc, "order", 2)
        name = field(doc, "name", 2)
        namespace = field(doc, "namespace", 2)
        qualified = f"{namespace}/{name}" if namespace else name
        return (1, 0.0, qualified) if order is None else (0, float(order), qualified)
    return None


def ablate_nets(doc):
    """No address block matches a pod: the pod range joins every `notNets`, and follows every
    `nets` without one."""
    lines = doc.split("\n")
    out = []
    for i, line in enumerate(lines):
        m = re.match(r"^( *)notNets: \[(.*)\]$", line)
        if m:
            out.append(f"{m.group(1)}notNets: [{m.group(2)}, {POD_CIDR}]")
            continue
        out.append(line)
        m = re.match(r"^( *)nets: \[", line)
        if m and not (i + 1 < len(lines) and lines[i + 1].startswith(f"{m.group(1)}notNets:")):
            out.append(f"{m.group(1)}notNets: [{POD_CIDR}]")
    return "\n".join(out)


def ablate_not_selector(doc):
    """A namespaced Calico NetworkPolicy's `notSelector` without a `selector` or a
    `namespaceSelector` gets `selector: all()`: Calico scopes it to the policy's namespace and
    to endpoints either way, NCA only with the selector."""
    if not (field(doc, "kind", 0) == "NetworkPolicy" and (field(doc, "apiVersion", 0) or "").startswith("projectcalico.org/")):
        return doc
    return re.sub(r"^(    (?:source|destination):\n)(      notSelector:)", r"\1      selector: all()\n\2", doc, flags=re.M)


def calico_inputs(cluster, ours_path, nca_path, ablate):
    """`ablate`: the causes to take out, `nets` and/or `not-selector`; with `file-order` NCA's
    copy keeps the input's order (to count what the ties decide)."""
    docs = [d for d in documents(cluster) if d.strip()]
    if "nets" in ablate:
        docs = [ablate_nets(d) for d in docs]
    if "not-selector" in ablate:
        docs = [ablate_not_selector(d) for d in docs]
    open(ours_path, "w", encoding="utf-8").write("---\n".join(docs) + "---\n")
    rest = [d for d in docs if calico_order(d) is None]
    policies = [d for d in docs if calico_order(d) is not None]
    if "file-order" not in ablate:
        policies.sort(key=calico_order)
    # NCA 2.1.0's YAML reader knows integers only: a fractional order stays a string, which it
    # fails to compare with a number. The next integer up takes the same place when no policy
    # has an order in between (checked).
    orders = {k[1] for k in map(calico_order, policies) if k[0] == 0}
    def integral(m):
        value = float(m.group(1))
        up = int(value) + 1
        if any(value < o <= up for o in orders):
            raise ValueError(f"order {value}: no integer takes its place")
        return f"order: {up}"
    policies = [re.sub(r"(?m)(?<=^  )order: (\d+\.\d*[1-9]\d*)$", integral, d) for d in policies]
    open(nca_path, "w", encoding="utf-8").write("---\n".join(rest + policies) + "---\n")


def nca_conns_any(text):
    """NCA's connection sets with Calico rules, where protocols may be `all but UDP` and a set
    `All but {...}`: reduced to TCP, UDP and SCTP (the protocols we analyse)."""
    text = text.strip()
    if text.lower() == "all connections":
        return dict(ALL)
    if text.lower() == "no connections":
        return {}
    if text.startswith("All but "):
        return subtract_conns(dict(ALL), nca_conns_any(text[len("All but "):]))
    conns = {}
    for body in re.findall(r"\{([^}]*)\}", text):
        fields = dict(re.findall(r"(\w+):((?:[^,:]|,(?!\s*\w+:))*)", body))
        protocols = fields.pop("protocols", "*").strip()
        if protocols.startswith("all but "):
            names = {p.strip() for p in protocols[len("all but "):].split(",")}
            names = [p for p in PROTOCOLS if p not in names]
        elif protocols == "*":
            names = list(PROTOCOLS)
        else:
            names = [p.strip() for p in protocols.split(",") if p.strip() in PROTOCOLS]
        ports = port_ranges(fields.pop("dst_ports")) if "dst_ports" in fields else [(1, 65535)]
        if fields:
            raise ValueError(f"unknown NCA connection set: {body}")
        conns = union(conns, {p: merge(ports) for p in names})
    return conns


def subtract_conns(a, b):
    out = {p: subtract(r, b.get(p, ())) for p, r in a.items()}
    return {p: r for p, r in out.items() if r}


def read_nca_any(path):
    pairs = defaultdict(dict)
    for line in open(path, encoding="utf-8"):
        if " => " not in line:
            continue
        left, rest = line.rstrip("\n").split(" => ", 1)
        right, conns = rest.split(" : ", 1)

        def split(e):
            m = re.match(r"^(.*)\[(\w+)\]$", e.strip())
            return (m.group(1), m.group(2)) if m else (e.strip(), "External")

        key = (endpoint(*split(left)), endpoint(*split(right)))
        pairs[key] = union(pairs[key], nca_conns_any(conns))
    return pairs


def main_calico(nca_path, ours_path, ablate):
    nca, ours = read_nca_any(nca_path), read_ours(ours_path)
    edges = {4: set(), 6: set()}
    for pairs in (nca, ours):
        for src, dst in pairs:
            for e in (src, dst):
                if e[0] == "ip":
                    version, lo, hi = e[1]
                    edges[version].update((lo, hi + 1))
    nca, ours = cut_addresses(nca, edges), cut_addresses(ours, edges)
    kinds = defaultdict(list)
    compared = same = kube_dns = ipv6 = 0
    # We list IPv6 segments for a direction only when one of its address blocks is IPv6; NCA
    # for both once any policy has an IPv6 address. Those of a direction one side does not
    # list are not compared.
    def v6(key, side):
        e = key[side]
        return e[0] == "ip" and e[1][0] == 6
    listed = {side: all(any(v6(k, side) for k in pairs) for pairs in (nca, ours)) for side in (0, 1)}
    for key in sorted(set(nca) | set(ours), key=lambda k: (show(k[0]), show(k[1]))):
        if any(e[0] == "workload" and e[1].startswith("kube-system/kube-dns") for e in key):
            kube_dns += 1
            continue
        if any(v6(key, side) and not listed[side] for side in (0, 1)):
            ipv6 += 1
            continue
        compared += 1
        a, b = nca.get(key, {}), ours.get(key, {})
        if a == b:
            same += 1
            continue
        src, dst = key
        if src[0] == "ip" or dst[0] == "ip":
            kind = "an address peer"
        else:
            kind = "pod to pod"
        kinds[kind].append(f"{show(src)} {show(dst)}: NCA {show_conns(a) or '-'} / ours {show_conns(b) or '-'}")
    print(f"RESULT {compared} {same} {compared - same}")
    print(f"pairs compared (address ranges cut at common edges): {compared}, identical {same}, different {compared - same}")
    if kube_dns:
        print(f"not compared: {kube_dns} with the kube-dns pod NCA adds")
    if ipv6:
        print(f"not compared: {ipv6} with IPv6 addresses of a direction one side does not list")
    for kind, rows in sorted(kinds.items()):
        print(f"{kind}: {len(rows)}")
        for row in rows[:5]:
            print(f"  {row}")
        if len(rows) > 5:
            print(f"  ... and {len(rows) - 5} more")
    if ablate and kinds:
        print("FAIL: differences remain once the known causes are taken out", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a not in ("--keep-netpol", "--ablate") and not a.startswith("--ablate=")]
    keep, ablate = "--keep-netpol" in sys.argv[1:], "--ablate" in sys.argv[1:]
    causes = {c for a in sys.argv[1:] if a.startswith("--ablate=") for c in a[len("--ablate="):].split(",")}
    if args and args[0] == "--calico-inputs":
        calico_inputs(*args[1:4], causes | ({"nets", "not-selector"} if ablate else set()))
    elif args and args[0] == "--calico":
        main_calico(*args[1:3], ablate)
    elif args and args[0] == "--authz-inputs":
        authz_inputs(*args[1:4], keep, ablate)
    elif args and args[0] == "--authz":
        main_authz(*args[1:4], keep, ablate)
    else:
        main()
