#!/usr/bin/env python3
"""What weighs in the page's wasm, by crate: `twiggy top` over the wasm-bindgen output (before
wasm-opt strips the names), code and data only.

Usage: benches/wasm-weight.py FILE.wasm [ROWS]   (after `scripts/build`, the files are in
target/wasm-bindgen/release/)."""

import collections
import csv
import re
import subprocess
import sys

path, rows = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10
out = subprocess.run(
    ["twiggy", "top", "-n", "1000000", "-f", "csv", path], check=True, capture_output=True, text=True
).stdout
by_crate, items, total = collections.Counter(), [], 0
for row in csv.DictReader(out.splitlines()):
    name, size = row["Name"], int(row["ShallowSize"])
    if name.startswith("custom section") or "function names" in name:
        continue
    total += size
    items.append((size, name))
    if name.startswith("data segment"):
        crate = "(data)"
    else:
        # `crate::path`, `<crate::Type as ...>`, `<T as crate::Trait>`: the first crate named.
        m = re.search(r"([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::", name)
        crate = m.group(1) if m else "(unnamed)"
    by_crate[crate] += size
print(f"{path}: {total} bytes of code and data before wasm-opt")
print("by crate:")
for crate, size in by_crate.most_common(rows):
    print(f"  {size:8d}  {100 * size / total:5.1f} %  {crate}")
print("largest items:")
for size, name in sorted(items, reverse=True)[:rows]:
    print(f"  {size:8d}  {name[:110]}")
