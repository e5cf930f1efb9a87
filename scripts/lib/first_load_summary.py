#!/usr/bin/env python3
"""Per-variant medians of fresh-process first loads (dev_first_loads in device-common.sh).

Input lines: "[name] round r: <the `dq load FILE` lines with time:, load/bus, load trace>".
A field the loader did not print is nan.
"""
import math
import re
import statistics
import sys

FIELDS = {
    "bus": r"load/bus = (\d+)%",
    "pipe_pct": r"\(pipeline (\d+)%\)",
    "staging": r"staging ([\d.]+)",
    "outputs": r"outputs ([\d.]+)",
    "pipe_ms": r"pipeline ([\d.]+) ms\)",
    "total": r"time: ([\d.]+) ms total",
}


def field(pattern, line):
    m = re.search(pattern, line)
    return float(m.group(1)) if m else math.nan


def median(values):
    known = [v for v in values if not math.isnan(v)]
    return statistics.median(known) if known else math.nan


rows = {}
with open(sys.argv[1]) as f:
    for line in f:
        m = re.match(r"\[(\S+)\] round", line)
        if m:
            rows.setdefault(m.group(1), []).append({k: field(p, line) for k, p in FIELDS.items()})

for name, runs in rows.items():
    med = {k: median(r[k] for r in runs) for k in FIELDS}
    bus = [r["bus"] for r in runs]
    print(f"{name:>12}: n={len(runs)} total {med['total']:.1f} ms = staging {med['staging']:.1f} + outputs "
          f"{med['outputs']:.1f} + pipeline {med['pipe_ms']:.1f} ms; load/bus median {med['bus']:.0f}% "
          f"(runs: {' '.join(f'{x:.0f}' for x in bus)}), pipeline/bus median {med['pipe_pct']:.0f}%")
