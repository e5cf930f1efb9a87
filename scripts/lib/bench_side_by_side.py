#!/usr/bin/env python3
"""% of the same-run copy per (type, output): the default build (OUT/bench.csv) beside each
kernel variant (OUT/bench-kv-NAME.csv), as dq-cuda-bench --csv writes them."""
import csv
import glob
import os
import sys

out = sys.argv[1]
files = [("default", f"{out}/bench.csv")] + [
    (os.path.basename(f)[9:-4], f) for f in sorted(glob.glob(f"{out}/bench-kv-*.csv"))]
tables = {}
for name, f in files:
    if os.path.exists(f) and os.path.getsize(f):
        with open(f) as rows:
            tables[name] = {(r["type"], r["out"]): float(r["pct_copy"]) for r in csv.DictReader(rows)}
if tables:
    keys = list(next(iter(tables.values())).keys())
    print("type/out      " + " ".join(f"{n:>10}" for n in tables))
    for k in keys:
        print(f"{k[0]:>8}/{k[1]:<4} " + " ".join(f"{t.get(k, float('nan')):>10.1f}" for t in tables.values()))
    for n, t in tables.items():
        v = sorted(t.values())
        if v:
            print(f"{n}: min {v[0]:.1f}% median {v[len(v)//2]:.1f}% below 93%: {sum(x < 93 for x in v)} of {len(v)}")
