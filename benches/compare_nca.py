#!/usr/bin/env python3
"""Compares the connectivity of network-config-analyzer (NCA) with ours, pair by pair.

Usage: compare_nca.py NCA_TXT OURS_JSON

NCA_TXT is `nca --connectivity -r FILE --output_format txt_no_fw_rules --output_endpoints
deployments`; OURS_JSON is `ambient-netpol connectivity --format json FILE`. Both are reduced to
(source, destination) -> {protocol: port ranges}; address ranges are cut at every edge either tool
used, so different but equivalent splits of the address space compare equal. Prints the
differences grouped by kind, and exits 0 (differences are reported, not judged: BENCHMARKS.md
explains each kind).
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
    """`All Connections` or `TCP 9000-9100,UDP 5353`."""
    if text.strip().lower() == "all connections":
        return dict(ALL)
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
        return f"{ipaddress.ip_address(lo)}-{ipaddress.ip_address(hi)}"
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


if __name__ == "__main__":
    main()
