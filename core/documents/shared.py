"""Blocks several documents share, each built from the facts of one version (no
Django imports): its identity, purpose, metrics, data, bias, findings, monitoring,
experiments, classification, obligations, signatures and ethics."""

from __future__ import annotations

from typing import Any

from core.documents.content import Block, Facts, chart, facts, missing, table, text


def get_fact(data: Facts, key: str) -> Any:
    return data.get(key) or None


# --- Shared pieces ---------------------------------------------------------------------


def identity_blocks(f: Facts) -> list[Block]:
    v, uc = f["version"], f["use_case"]
    return [
        facts(
            [
                ("Use case", f"{uc['name']} (#{uc['id']})"),
                ("Model", v["model"]),
                ("Version", f"{v['label']} (#{v['id']})"),
                ("Environment", v["environment"]),
                ("Artifact", v["artifact_uri"]),
                ("Artifact SHA-256", v["artifact_sha256"]),
                ("Framework", v["framework"]),
                ("Registered", f"{v['registered_at']} by {v['registered_by']}"),
                ("Authors", v["authors"]),
            ]
        )
    ]


def purpose_blocks(f: Facts) -> list[Block]:
    uc = f["use_case"]
    blocks = [text(uc["purpose"])] if uc.get("purpose") else [missing("No intended purpose.")]
    if uc.get("restrictions"):
        blocks.append(facts([("Not to be used for", uc["restrictions"])]))
    else:
        blocks.append(missing("No restrictions of use are recorded (uses out of scope)."))
    blocks.append(
        facts(
            [
                ("Team", uc["team"]),
                ("Business owner", uc["business_owner"]),
                ("Technical owner", uc["technical_owner"]),
                ("Lifecycle status", uc["status"]),
                ("Regulations", uc["regulations"]),
                ("Uses personal data", uc["uses_pii"]),
            ]
        )
    )
    return blocks


def metrics_blocks(f: Facts) -> list[Block]:
    metrics = f["version"].get("metrics") or {}
    if not metrics:
        return [missing("The version records no performance metrics.")]
    return [table(["Metric", "Value"], sorted(metrics.items()))]


def dataset_blocks(f: Facts) -> list[Block]:
    data = get_fact(f, "dataset")
    if data is None:
        ref = f["version"].get("training_data_ref")
        if ref:
            return [facts([("Training data (reference)", ref)]), missing(_NO_DATASET)]
        return [missing(_NO_DATASET)]
    blocks = [
        facts(
            [
                ("Training dataset", data["name"]),
                ("Description", data["description"]),
                ("Owner", data["owner"]),
                ("Columns", len(data["columns"])),
                ("Personal-data columns", [c[0] for c in data["columns"] if c[1]]),
            ]
        )
    ]
    if data["columns"]:
        blocks.append(table(["Column", "Personal data", "Lineage"], data["columns"]))
    if not any(c[2] for c in data["columns"]):
        blocks.append(missing("No column records its lineage."))
    return blocks


_NO_DATASET = "No training dataset is linked to the version (datasets and lineage)."


def bias_blocks(f: Facts, *, with_chart: bool = True) -> list[Block]:
    bias = get_fact(f, "bias")
    if bias is None:
        return [missing("No bias summary has been computed on the version's scored data.")]
    blocks = [
        facts(
            [
                ("Scored dataset", f"{bias['dataset']} ({bias['rows']} rows)"),
                ("Its SHA-256", bias["sha256"]),
                ("Bias summary", f"#{bias['id']}, {bias['finished_at']}"),
                ("Thresholds", bias["thresholds"]),
            ]
        )
    ]
    for block in bias["attributes"]:
        blocks.append(text(f"By {block['name']} (reference group: {block['reference']})."))
        blocks.append(
            table(
                ["Group", "Rows", "Selection rate", "TPR", "FPR", "Disparity ratio", "Four-fifths"],
                block["rows"],
            )
        )
        if with_chart and block.get("figure"):
            blocks.append(
                chart(
                    block["figure"],
                    f"Rates by {block['name']}",
                    f"Selection rate, TPR and FPR for each group of {block['name']}, with 95% "
                    "intervals and the four-fifths line; the numbers are in the table above.",
                )
            )
    return blocks


def findings_blocks(f: Facts) -> list[Block]:
    rows = f.get("findings") or []
    if not rows:
        return [text("No finding has been raised on this version.")]
    return [
        table(
            ["#", "Severity", "Source", "Finding", "Status", "Opened", "Due", "Closing note"],
            [
                [
                    r["id"],
                    r.get("severity", ""),
                    r["source"],
                    r["title"],
                    r["status"],
                    r["opened_at"],
                    r.get("due_on", ""),
                    r["resolution"],
                ]
                for r in rows
            ],
        )
    ]


def monitoring_blocks(f: Facts) -> list[Block]:
    mon = get_fact(f, "monitoring")
    if mon is None:
        return [missing("No monitoring is configured for this version (drift and performance).")]
    blocks = [
        facts(
            [
                ("Cadence", mon["cadence"]),
                ("Features watched", mon["features"]),
                ("Drift threshold", mon["threshold"]),
                ("Reference", mon["reference"]),
            ]
        )
    ]
    if mon["windows"]:
        blocks.append(
            table(
                ["Window start", "Window end", "Status", "Largest drift", "Feature"], mon["windows"]
            )
        )
    else:
        blocks.append(missing("No monitoring window has been computed yet."))
    if mon["alerts"]:
        blocks.append(table(["Alert", "Kind", "Status", "Opened"], mon["alerts"]))
    return blocks


def experiments_blocks(f: Facts) -> list[Block]:
    rows = f.get("experiments") or []
    if not rows:
        return [text("No experiment has compared this version with another.")]
    return [table(["#", "Experiment", "Design", "Status", "Result"], rows)]


def classification_blocks(f: Facts) -> list[Block]:
    c = get_fact(f, "classification")
    if c is None:
        return [missing("The use case has not been classified.")]
    blocks = [
        facts(
            [
                ("Risk tier", c["risk_tier"]),
                ("Criticality", c["criticality"]),
                ("Classified", f"{c['at']} by {c['by']}"),
                ("Confirmed by the second line", c["confirmed"]),
            ]
        )
    ]
    if c["reasons"]:
        blocks.append(table(["Why"], [[r] for r in c["reasons"]]))
    return blocks


def obligations_blocks(f: Facts) -> list[Block]:
    rows = f.get("obligations") or []
    if not rows:
        return [missing("No obligation has been derived from the policy for this version.")]
    return [
        table(["Consideration", "Level", "Status", "Due", "Evidence", "Evidence SHA-256"], rows)
    ]


def signatures_blocks(f: Facts, meanings: tuple[str, ...] | None = None) -> list[Block]:
    rows = [s for s in f.get("signatures") or [] if meanings is None or s["meaning"] in meanings]
    if not rows:
        return [missing("No signature of this kind has been given yet.")]
    return [
        table(
            ["Printed name", "Meaning", "Signed (UTC)", "Manifest SHA-256"],
            [
                [s["printed_name"], s["meaning_display"], s["signed_at"], s["manifest_hash"]]
                for s in rows
            ],
        )
    ]


def ethics_blocks(f: Facts) -> list[Block]:
    e = get_fact(f, "ethics")
    if e is None:
        return [missing("The use case has not answered its ethical questions.")]
    blocks = [facts([("Answered", f"{e['answered_at']} by {e['answered_by']}")])]
    if e["deviations"]:
        blocks.append(table(["Deviation from the ethical position", "Status"], e["deviations"]))
    else:
        blocks.append(text("No deviation from the organisation's ethical position."))
    return blocks
