#!/usr/bin/env python3
"""Proves that check_doc_examples.py fails a broken example: runs it on broken_examples.md,
where every checked block is wrong, and requires a FAIL for each (and the exit status 1).
A runner that passed everything (a parser that found no block, a language never run) would
let the docs rot unnoticed. Same arguments as check_doc_examples.py."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
fixture = here / "broken_examples.md"
lines = fixture.read_text().splitlines()
want = {i + 1 for i, ln in enumerate(lines) if re.match(r"^```(python|sh|c|rust)$", ln)}
# A replacement's failure is reported at its block's fence, a lone marker at its own line.
want |= {i + 1 for i, ln in enumerate(lines) if "a marker that lost its block" in ln}
if not shutil.which("cargo"):  # the rust block is then skipped, visibly
    want -= {i + 1 for i, ln in enumerate(lines) if ln == "```rust"}

r = subprocess.run([sys.executable, str(here / "check_doc_examples.py"), *sys.argv[1:],
                    str(fixture)], capture_output=True, text=True)
print(r.stdout + r.stderr)
if r.returncode == 77:
    sys.exit(77)
failed = {int(m.group(1)) for m in re.finditer(r"^FAIL\s+\S+:(\d+)\s", r.stdout, re.M)}
passed = re.findall(r"^PASS\s+(\S+)", r.stdout, re.M)
problems = []
if r.returncode != 1:
    problems.append(f"exit status {r.returncode}, want 1")
if missing := sorted(want - failed):
    problems.append(f"broken blocks at lines {missing} were not reported as FAIL")
if passed:
    problems.append(f"broken blocks passed: {passed}")
if problems:
    print("catch_breakage: " + "; ".join(problems))
    sys.exit(1)
print(f"catch_breakage: all {len(want)} broken examples failed, as they must")
