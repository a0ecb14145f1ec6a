#!/usr/bin/env python3
"""Draws benches/scaling.csv as a small log-log SVG (docs/benchmarks/scaling.svg): `check` time
against workloads, now and before issue 7, with a workloads-squared reference line.

Usage: benches/plot.py [CSV] [SVG]"""

import csv
import math
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "benches/scaling.csv"
dst = sys.argv[2] if len(sys.argv) > 2 else "docs/benchmarks/scaling.svg"
rows = list(csv.DictReader(line for line in open(src) if not line.startswith("#")))
W, H, L, R, T, B = 560, 320, 64, 150, 24, 44
xs = [float(r["workloads"]) for r in rows]
ys = [float(r[k]) for r in rows for k in ("now_ms", "before_ms")]
x0, x1 = math.log10(min(xs)) - 0.15, math.log10(max(xs)) + 0.15
y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys) * 3))


def px(x):
    return L + (math.log10(x) - x0) / (x1 - x0) * (W - L - R)


def py(y):
    return H - B - (math.log10(y) - y0) / (y1 - y0) * (H - T - B)


out = [
    f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" '
    'font-family="sans-serif" font-size="11" role="img" aria-labelledby="title">',
    '<title id="title">check time against workloads (log-log): now, before issue 7, and a '
    "workloads-squared reference</title>",
    f'<rect width="{W}" height="{H}" fill="#fff"/>',
]
for e in range(y0, y1 + 1):
    y = py(10**e)
    label = f"{10**e:g} ms" if e < 3 else f"{10 ** (e - 3):g} s"
    out.append(f'<line x1="{L}" x2="{W - R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
    out.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#444">{label}</text>')
for r in rows:
    x = px(float(r["workloads"]))
    out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{T}" y2="{H - B}" stroke="#eee"/>')
    out.append(
        f'<text x="{x:.1f}" y="{H - B + 16}" text-anchor="middle" fill="#444">'
        f'{r["size"]} ({int(r["workloads"]):,})</text>'
    )
out.append(
    f'<text x="{(L + W - R) / 2:.1f}" y="{H - 8}" text-anchor="middle" fill="#222">'
    "workloads (policies = workloads / 4)</text>"
)


def series(key, colour, dash=""):
    pts = [(px(float(r["workloads"])), py(float(r[key]))) for r in rows]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(pts))
    out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2" {dash}/>')
    for x, y in pts:
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
    return pts


now = series("now_ms", "#1565c0")
before = series("before_ms", "#c62828", 'stroke-dasharray="5 3"')
# workloads^2 through the L point of "now".
l_row = next(r for r in rows if r["size"] == "L")
lw, lt = float(l_row["workloads"]), float(l_row["now_ms"])
ref = [(float(r["workloads"]), lt * (float(r["workloads"]) / lw) ** 2) for r in rows]
ref = [(x, y) for x, y in ref if 10**y0 <= y <= 10**y1]
path = " ".join(f"{'M' if i == 0 else 'L'}{px(x):.1f},{py(y):.1f}" for i, (x, y) in enumerate(ref))
out.append(f'<path d="{path}" fill="none" stroke="#888" stroke-width="1" stroke-dasharray="2 3"/>')
legend = [
    ("#1565c0", "", "now"),
    ("#c62828", 'stroke-dasharray="5 3"', "before issue 7"),
    ("#888", 'stroke-dasharray="2 3"', "∝ workloads² (from L)"),
]
for i, (colour, dash, text) in enumerate(legend):
    y = T + 14 + i * 18
    out.append(f'<line x1="{W - R + 12}" x2="{W - R + 36}" y1="{y}" y2="{y}" stroke="{colour}" stroke-width="2" {dash}/>')
    out.append(f'<text x="{W - R + 42}" y="{y + 4}" fill="#222">{text}</text>')
out.append("</svg>")
open(dst, "w").write("\n".join(out) + "\n")
print(f"wrote {dst}")
