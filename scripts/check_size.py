"""Keep units small: no module over MAX_LINES lines and no function over MAX_CC
cyclomatic complexity (radon), outside migrations and tests.

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
    "engagement",
    "experiments",
    "fairness",
    "governance",
    "inventory",
    "monitoring",
    "oversight",
    "reviews",
    "bench",
    "scripts",
]
MAX_LINES = 600
MAX_CC = 20


def problems() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel:
                continue
            source = path.read_text(encoding="utf-8")
            lines = source.count("\n")
            if lines > MAX_LINES:
                found.append(f"{rel}: {lines} lines (limit {MAX_LINES})")
            for block in cc_visit(source):
                if block.complexity > MAX_CC:
                    found.append(
                        f"{rel}:{block.name}: complexity {block.complexity} (limit {MAX_CC})"
                    )
    return found


if __name__ == "__main__":
    found = problems()
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} unit(s) too large: split them (see docs/architecture.md).")
        sys.exit(1)
    print("module sizes and function complexity: ok")
