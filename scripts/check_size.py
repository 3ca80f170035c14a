"""Keep units small: no module over MAX_LINES lines and no function over MAX_CC
cyclomatic complexity (radon), outside migrations and tests.

A unit that must stay larger for a while can be listed below with its size today (it
may then shrink, never grow); the lists are empty.

    python scripts/check_size.py      (make lint and .ci/run call it)
"""

import sys
from pathlib import Path

from radon.complexity import cc_visit

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [
    "accounts",
    "audit",
    "core",
    "dashboard",
    "demo",
    "experiments",
    "fairness",
    "governance",
    "inventory",
    "monitoring",
    "reviews",
    "bench",
    "scripts",
]
MAX_LINES = 600
MAX_CC = 20

KNOWN_LONG_MODULES: dict[str, int] = {}
KNOWN_COMPLEX_FUNCTIONS: dict[str, int] = {}


def problems() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel:
                continue
            source = path.read_text(encoding="utf-8")
            lines = source.count("\n")
            if lines > KNOWN_LONG_MODULES.get(rel, MAX_LINES):
                found.append(
                    f"{rel}: {lines} lines (limit {KNOWN_LONG_MODULES.get(rel, MAX_LINES)})"
                )
            for block in cc_visit(source):
                name = f"{rel}:{block.name}"
                limit = KNOWN_COMPLEX_FUNCTIONS.get(name, MAX_CC)
                if block.complexity > limit:
                    found.append(f"{name}: complexity {block.complexity} (limit {limit})")
    return found


if __name__ == "__main__":
    found = problems()
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} unit(s) too large: split them (see docs/architecture.md).")
        sys.exit(1)
    print("module sizes and function complexity: ok")
