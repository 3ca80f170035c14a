"""Run Evidently's data-drift report and print per-column verdicts as JSON (issue #6).

Runs in its own virtualenv (Evidently pins plotly < 6; the product needs plotly 7):

    sh scripts/venv.sh .venv-evidently requirements-evidently.txt
    .venv-evidently/bin/python tests/reviews/evidently_runner.py REF CURRENT SETTINGS

REF and CURRENT are Parquet (.parquet) or CSV files with the same columns. SETTINGS is a
JSON file (or "-" for standard input):

    {"numerical": ["age", ...], "categorical": ["sex", ...],
     "runs": [{"name": "tests", "num_stattest": "ks", "cat_stattest": "chisquare",
               "threshold": 0.05},
              {"name": "psi", "num_stattest": "psi", "cat_stattest": "psi",
               "threshold": 0.2},
              {"name": "default"}]}

A run with "api": "report" uses Evidently 0.7's own default report (`Report([
DataDriftPreset()])`, the new API; its per-column `ValueDrift` results). A run with no
stattest uses Evidently's defaults (its own choice of test per column and
its own thresholds). Each run goes through the legacy `DataDriftTable` metric, which
reports Evidently's own verdict (`drift_detected`) per column; the output is

    {"evidently": "0.7.23", "runs": {"tests": {"seconds": 1.2, "columns": {"age":
        {"stattest": "ks", "score": 0.01, "threshold": 0.05, "drift": true}, ...}}}}

Never imported by the test suite (it cannot be: it needs Evidently and pandas).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def _read(path: str, categorical: list[str]):
    import pandas as pd

    if path.endswith(".parquet"):
        frame = pd.read_parquet(path)
    else:
        frame = pd.read_csv(path, dtype={c: str for c in categorical}, keep_default_na=False)
    for c in categorical:
        frame[c] = frame[c].astype(object)
    return frame


def _run(reference, current, numerical, categorical, spec):
    from evidently.legacy.metrics import DataDriftTable
    from evidently.legacy.pipeline.column_mapping import ColumnMapping
    from evidently.legacy.report import Report

    mapping = ColumnMapping(
        target=None,
        prediction=None,
        datetime=None,
        id=None,
        numerical_features=numerical,
        categorical_features=categorical,
    )
    kwargs = {"columns": numerical + categorical}
    per_column, thresholds = {}, {}
    for col in numerical:
        if spec.get("num_stattest"):
            per_column[col] = spec["num_stattest"]
    for col in categorical:
        if spec.get("cat_stattest"):
            per_column[col] = spec["cat_stattest"]
    if spec.get("threshold") is not None:
        thresholds = dict.fromkeys(numerical + categorical, float(spec["threshold"]))
    if per_column:
        kwargs["per_column_stattest"] = per_column
    if thresholds:
        kwargs["per_column_stattest_threshold"] = thresholds
    report = Report(metrics=[DataDriftTable(**kwargs)])
    start = time.perf_counter()
    report.run(reference_data=reference, current_data=current, column_mapping=mapping)
    result = report.as_dict()["metrics"][0]["result"]
    seconds = time.perf_counter() - start
    columns = {
        name: {
            "stattest": col["stattest_name"],
            "score": col["drift_score"],
            "threshold": col["stattest_threshold"],
            "drift": bool(col["drift_detected"]),
        }
        for name, col in result["drift_by_columns"].items()
    }
    return {"seconds": seconds, "columns": columns}


P_VALUE_METHODS = ("p_value", "K-S", "chi-square", "Z-test", "Fisher")


def _run_preset(reference, current, numerical, categorical, spec=None):
    """Evidently 0.7's own default: `Report([DataDriftPreset()])` (the new API)."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    report = Report([DataDriftPreset()])
    start = time.perf_counter()
    snapshot = report.run(
        current_data=Dataset.from_pandas(current, data_definition=definition),
        reference_data=Dataset.from_pandas(reference, data_definition=definition),
    )
    data = snapshot.dict()
    seconds = time.perf_counter() - start
    columns = {}
    for metric in data["metrics"]:
        config = metric.get("config", {})
        if not config.get("type", "").endswith("ValueDrift"):
            continue
        method, threshold, value = config["method"], config["threshold"], metric["value"]
        p_value = any(word in method for word in P_VALUE_METHODS)
        columns[config["column"]] = {
            "stattest": method,
            "score": value,
            "threshold": threshold,
            "drift": bool(value < threshold if p_value else value >= threshold),
        }
    return {"seconds": seconds, "columns": columns}


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    _, ref_path, cur_path, settings_path = argv
    text = sys.stdin.read() if settings_path == "-" else Path(settings_path).read_text()
    settings = json.loads(text)
    numerical = list(settings.get("numerical", []))
    categorical = list(settings.get("categorical", []))

    import evidently

    reference = _read(ref_path, categorical)
    current = _read(cur_path, categorical)
    out = {"evidently": evidently.__version__, "runs": {}}
    for spec in settings.get("runs", [{"name": "default"}]):
        run = _run_preset if spec.get("api") == "report" else _run
        out["runs"][spec["name"]] = run(reference, current, numerical, categorical, spec)
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
