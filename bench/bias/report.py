"""The results as one table: every section flattened into rows of COLUMNS, each target
judged (compute ratios against Aequitas and fairlearn, end to end against pyarrow's
read, peak memory), and printed."""

from __future__ import annotations

# One row of the printed table / of results["table"]; the smoke test checks these keys.
COLUMNS = (
    "section",
    "case",
    "rows",
    "tool",
    "seconds",
    "relative",
    "peak_rss_mib",
    "target",
    "met",
    "detail",
)
TARGET_COMPUTE_FAIRLEARN = 1000.0  # at least this many times faster than fairlearn
TARGET_COMPUTE_AEQUITAS = 10.0  # ... and than Aequitas
TARGET_E2E_RATIO = 2.0  # end to end within 2x of pyarrow's read of the needed columns
TARGET_PEAK_BYTES = 1 << 30  # 1 GiB


def _fmt_seconds(s: float | None) -> str:
    if s is None:
        return ""
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def _row(**kw) -> dict:
    return {c: kw.get(c) for c in COLUMNS}


def _judge_compute(case: str, tool: str, r: dict, items: dict) -> tuple:
    """(relative, target, met) of one compute timing against the others of its size."""
    mine = items.get((case, "ours (from codes)"))
    relative = target = met = None
    if tool in ("aequitas", "fairlearn") and mine:
        relative = r["seconds"] / mine["seconds"]  # how many times slower than ours
        if case == "race":
            target = TARGET_COMPUTE_FAIRLEARN if tool == "fairlearn" else TARGET_COMPUTE_AEQUITAS
            met = relative >= target
    elif tool == "ours (from strings)":
        other = items.get((case, "aequitas"))
        relative = other["seconds"] / r["seconds"] if other else None
    return relative, target, met


def _compute_rows(compute: list[dict]) -> list[dict]:
    by_size: dict[int, dict[tuple[str, str], dict]] = {}
    for r in compute:
        by_size.setdefault(r["rows"], {})[(r["case"], r["tool"])] = r
    rows = []
    for size, items in by_size.items():
        for (case, tool), r in items.items():
            relative, target, met = _judge_compute(case, tool, r, items)
            rows.append(
                _row(
                    section="compute",
                    case=case,
                    rows=size,
                    tool=tool,
                    seconds=r["seconds"],
                    relative=relative,
                    target=target,
                    met=met,
                    detail=r["detail"],
                )
            )
    return rows


def _end_to_end_rows(e2e: list[dict]) -> list[dict]:
    rows = []
    for fmt in ("parquet", "csv"):
        items = [r for r in e2e if r["format"] == fmt]
        if not items:
            continue
        ours = items[-1]
        # the target is judged against the fastest read (issue 18), not the plain one
        base = next((r for r in items if r.get("strongest")), items[0])
        for r in items:
            relative = target = met = None
            detail = f"file {r['file_bytes'] / 2**20:.0f} MiB"
            if r is ours:
                relative = ours["seconds"] / base["seconds"]
                target, met = TARGET_E2E_RATIO, relative <= TARGET_E2E_RATIO
                plain = ours["seconds"] / items[0]["seconds"]
                detail += f"; {plain:.2f}x the plain read"
                if r.get("load_average_1min"):
                    loads = r["load_average_1min"]
                    detail += f"; load {min(loads):.1f}-{max(loads):.1f}"
            else:
                relative = ours["seconds"] / r["seconds"]
            rows.append(
                _row(
                    section="end_to_end",
                    case=fmt,
                    rows=r["rows"],
                    tool=r["tool"],
                    seconds=r["seconds"],
                    relative=relative,
                    target=target,
                    met=met,
                    detail=detail,
                )
            )
    return rows


def _memory_rows(memory: list[dict]) -> list[dict]:
    rows = []
    for m in memory:
        peak = m["peak_rss_bytes"]
        judged = m["what"] == "summarise Parquet" and m["rows"] == max(x["rows"] for x in memory)
        rows.append(
            _row(
                section="memory",
                case="child process",
                rows=m["rows"],
                tool=m["what"],
                seconds=m.get("seconds") if m["rows"] else None,
                peak_rss_mib=peak / 2**20,
                target=TARGET_PEAK_BYTES / 2**20 if judged and m["rows"] else None,
                met=(peak < TARGET_PEAK_BYTES) if judged and m["rows"] else None,
                detail="VmHWM of the child",
            )
        )
    return rows


def _split_row(split: dict) -> dict:
    return _row(
        section="split",
        case=f"{split['workers']} processes, row groups {split['row_groups']}",
        rows=split["rows"],
        tool="bias_counts_read(row_groups) x2 + merge + summarise_counts",
        seconds=split["seconds"],
        relative=split["seconds"] / split["one_process_seconds"],
        detail=f"merged == whole: {split['merged_equals_whole']}",
    )


def build_table(results: dict) -> list[dict]:
    """Flatten the sections into rows of COLUMNS, with the targets judged."""
    rows = _compute_rows(results["compute"])
    rows += _end_to_end_rows(results["end_to_end"])
    rows += _memory_rows(results["memory"])
    split = results.get("split")
    if split:
        rows.append(_split_row(split))
    return rows


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'section':<11} {'case':<24} {'rows':>11} {'tool':<46} {'time':>10} {'rel.':>9}  target"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        rel = "" if r["relative"] is None else f"{r['relative']:.3g}x"
        if r["section"] == "memory":
            rel = f"{r['peak_rss_mib']:.0f} MiB"
        verdict = ""
        if r["target"] is not None:
            op = "<=" if r["section"] in ("end_to_end", "memory") else ">="
            unit = " MiB" if r["section"] == "memory" else "x"
            verdict = f"{op} {r['target']:g}{unit}: {'met' if r['met'] else 'NOT met'}"
        print(
            f"{r['section']:<11} {r['case'][:24]:<24} {r['rows']:>11,} {r['tool'][:46]:<46} "
            f"{_fmt_seconds(r['seconds']):>10} {rel:>9}  {verdict}"
        )
    print(
        "rel.: compute = that tool's time / ours from codes (for 'from strings': Aequitas's "
        "/ its); end_to_end = ours / that reader's (target: / the fastest read); memory = "
        "peak RSS; split = 2 processes / 1. Every time is a median of several runs."
    )
    for r in rows:
        if r["section"] == "end_to_end" and r["target"] is not None:
            print(f"  end to end, {r['case']}: {r['detail']}")


def machine_line(machine: dict, when: str) -> str:
    """One line naming the machine and its load, printed next to the figures."""
    load = machine.get(f"load_average_at_{when}") or []
    ram = (machine.get("ram_bytes") or 0) / 2**30
    return (
        f"machine ({when}): {machine.get('cpu')}, {machine.get('cores')} cores "
        f"({machine.get('cores_usable')} usable), {ram:.1f} GiB RAM, Python "
        f"{machine.get('python')}; load average {' / '.join(f'{x:.2f}' for x in load)} "
        "(1 / 5 / 15 min)"
    )
