#!/usr/bin/env python3
"""Sums CTest JUnit reports into one closing line: 'dq: N passed, N failed, N skipped'.

Before that line it names every failed test with the last lines of its output, so the tail of
a CI log (often all that is kept) says what failed and why.
"""
import sys
import xml.etree.ElementTree as ET

TAIL_LINES = 15


def failure_text(case: ET.Element) -> str:
    """The last lines a failed test printed, or its failure message."""
    out = case.findtext("system-out") or ""
    for tag in ("failure", "error"):
        node = case.find(tag)
        if node is not None:
            out = out or node.get("message", "") or (node.text or "")
    lines = [line for line in out.splitlines() if line.strip()]
    return "\n".join("    " + line for line in lines[-TAIL_LINES:])


def main(paths: list[str]) -> int:
    passed = failed = skipped = 0
    failures: list[str] = []
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as e:
            failures.append(f"junit_summary: {path}: {e}")
            failed += 1
            continue
        for case in root.iter("testcase"):
            status = case.get("status", "run")
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                failures.append(f"FAILED ({path}): {case.get('name')}\n{failure_text(case)}")
            elif case.find("skipped") is not None or status in ("notrun", "disabled"):
                skipped += 1
            else:
                passed += 1
    for f in failures:
        print(f)
    print(f"dq: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
