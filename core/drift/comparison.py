"""One window against the reference profile, feature by feature (``drift_compare``):
the statistics of each feature, its verdict under ``DriftThresholds``, and a result with
a ``status`` and a readable ``message`` for every feature that cannot be compared."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from core.drift.base import (
    ALL_MISSING,
    INVALID,
    MISSING_IN_WINDOW,
    NO_ROWS,
    NOT_IN_REFERENCE,
    OK,
    PARALLEL_MIN_ROWS,
    SCHEMA_VERSION,
    DriftThresholds,
)
from core.drift.profiles import (
    CategoricalProfile,
    FeatureProfile,
    NumericProfile,
    Profile,
    _bin_counts,
    _infer_kind,
    _max_distinct,
    _pool,
    _profile_feature,
    categorical_counts,
    numeric_counts,
    profile_merge,
)
from core.drift.stattests import (
    chi2_from_counts,
    chi2_goodness_of_fit,
    js_distance,
    ks_from_counts,
    psi,
)
from core.fairness import MISSING_LABEL


def _result(name: str, kind: str | None, status: str, message: str, **extra: Any) -> dict:
    out = {
        "feature": name,
        "kind": kind,
        "status": status,
        "message": message,
        "drift": None if status != OK else False,
        "reasons": [],
    }
    out.update(extra)
    return out


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _compare_numeric(
    name: str, ref: NumericProfile, cur: NumericProfile, t: DriftThresholds
) -> dict:
    base = {
        "n_reference": ref.n,
        "n_current": cur.n,
        "missing_share_reference": ref.missing / ref.rows if ref.rows else None,
        "missing_share_current": cur.missing / cur.rows if cur.rows else None,
    }
    if ref.n == 0:
        return _result(
            name, "numeric", ALL_MISSING, "All values are missing in the reference.", **base
        )
    if cur.n == 0:
        return _result(
            name,
            "numeric",
            ALL_MISSING,
            f"All {cur.rows:,} values are missing in the window.",
            **base,
        )
    d, p, method = ks_from_counts(ref.values, ref.counts, cur.values, cur.counts)
    cur_props = _bin_counts(cur.values, cur.counts, ref.edges) / cur.n
    value_psi = psi(ref.proportions, cur_props)
    value_js = js_distance(ref.proportions, cur_props)
    notes = []
    if len(ref.values) == 1:
        notes.append(f"The reference is constant ({_fmt(float(ref.values[0]))}).")
    if len(cur.values) == 1:
        notes.append(f"The window is constant ({_fmt(float(cur.values[0]))}).")
    if cur.missing:
        notes.append(f"{cur.missing:,} missing values in the window left out.")
    if ref.approximate or cur.approximate:
        notes.append(
            f"More than {_max_distinct():,} distinct values: pooled into equal-mass buckets, "
            "so the KS figures are approximate (D within about 1e-5)."
        )
    out = _result(
        name,
        "numeric",
        OK,
        " ".join(notes) or "Compared.",
        **base,
        ks_statistic=d,
        ks_pvalue=p,
        ks_method=method,
        psi=value_psi,
        js_distance=value_js,
        bins=ref.proportions.size,
        reference_proportions=ref.proportions.tolist(),
        current_proportions=cur_props.tolist(),
    )
    test_drift = p < t.alpha and d >= t.ks_min_effect
    if test_drift:
        out["reasons"].append(
            f"KS p = {_fmt(p)} < {_fmt(t.alpha)} and D = {_fmt(d)} >= {_fmt(t.ks_min_effect)}"
        )
    return _verdict(out, test_drift, value_psi, t)


def _compare_categorical(
    name: str, ref: CategoricalProfile, cur: CategoricalProfile, t: DriftThresholds
) -> dict:
    base = {
        "n_reference": ref.n,
        "n_current": cur.n,
        "missing_share_reference": ref.missing / ref.n if ref.n else None,
        "missing_share_current": cur.missing / cur.n if cur.n else None,
    }
    if cur.n == 0:
        return _result(name, "categorical", NO_ROWS, "The window has no rows.", **base)
    if ref.n == 0:
        return _result(name, "categorical", NO_ROWS, "The reference has no rows.", **base)
    known = set(ref.categories)
    new = [c for c in cur.categories if c not in known and c in cur.categories]
    categories = list(ref.categories) + new
    cur_map = dict(zip(cur.categories, cur.counts.tolist(), strict=True))
    ref_counts = np.concatenate([ref.counts, np.zeros(len(new), np.int64)])
    cur_counts = np.array([cur_map.get(c, 0) for c in categories], dtype=np.int64)
    stat, p, dof, v = chi2_from_counts(ref_counts, cur_counts)
    if t.chi2_test == "goodness_of_fit":
        present = np.array([c != MISSING_LABEL for c in categories])
        r_n, c_n = ref_counts[present], cur_counts[present]
        if r_n.sum() == 0 or c_n.sum() == 0:
            side = "reference" if r_n.sum() == 0 else "window"
            return _result(
                name, "categorical", ALL_MISSING, f"All values are missing in the {side}.", **base
            )
        stat, p = chi2_goodness_of_fit(r_n, c_n)
        dof = int(present.sum()) - 1
    ref_props = ref_counts / ref.n
    cur_props = cur_counts / cur.n
    value_psi = psi(ref_props, cur_props)
    value_js = js_distance(ref_props, cur_props)
    notes = _categorical_notes(new, categories)
    out = _result(
        name,
        "categorical",
        OK,
        " ".join(notes) or "Compared.",
        **base,
        chi2_test=t.chi2_test,
        chi2_statistic=stat,
        chi2_pvalue=p,
        chi2_dof=dof,
        cramers_v=v,
        psi=value_psi,
        js_distance=value_js,
        categories=categories,
        new_categories=new,
        reference_counts=ref_counts.tolist(),
        current_counts=cur_counts.tolist(),
    )
    test_drift = p < t.alpha and v >= t.cramers_v_min
    if test_drift:
        out["reasons"].append(
            f"chi-square p = {_fmt(p)} < {_fmt(t.alpha)} and "
            f"Cramer's V = {_fmt(v)} >= {_fmt(t.cramers_v_min)}"
        )
    return _verdict(out, test_drift, value_psi, t)


def _categorical_notes(new: list[str], categories: list[str]) -> list[str]:
    notes = []
    if new:
        shown = ", ".join(repr(c) for c in new[:10]) + (" ..." if len(new) > 10 else "")
        notes.append(f"New categories unseen in the reference: {shown}.")
    if len(categories) == 1:
        notes.append(f"One category on both sides ({categories[0]!r}).")
    return notes


def _verdict(out: dict, test_drift: bool, value_psi: float, t: DriftThresholds) -> dict:
    psi_drift = value_psi > t.psi_max
    if psi_drift:
        out["reasons"].append(f"PSI = {_fmt(value_psi)} > {_fmt(t.psi_max)}")
    out["test_drift"] = bool(test_drift)
    out["psi_drift"] = bool(psi_drift)
    out["drift"] = bool(test_drift or psi_drift)
    return out


def _current_feature(ref: FeatureProfile, values: Any) -> FeatureProfile:
    if isinstance(ref, NumericProfile):
        uniq, counts, missing = numeric_counts(values)
        # edges are the reference's; the window's own are not needed
        cap = _max_distinct()
        approximate = len(uniq) > cap
        if approximate:
            uniq, counts = _pool(uniq, counts, cap)
        return NumericProfile(
            uniq, counts, missing, ref.bins, np.empty(0), np.empty(1), approximate=approximate
        )
    cats, counts = categorical_counts(values)
    return CategoricalProfile(cats, counts)


def _window_profile(
    reference: Profile, current: Profile | Mapping[str, Any] | Iterable[Mapping[str, Any]]
) -> Profile:
    """The window as a profile with the reference's kinds; a column that cannot be read
    goes to `problems`."""
    if isinstance(current, Profile):
        return current
    batches = [current] if isinstance(current, Mapping) else list(current)
    parts = []
    for batch in batches:
        lengths = {name: len(np.asarray(v).reshape(-1)) for name, v in batch.items()}
        rows = max(lengths.values(), default=0)
        features: dict[str, FeatureProfile] = {}
        problems: dict[str, str] = {}
        for name, values in batch.items():
            if lengths[name] != rows:
                problems[name] = f"has {lengths[name]:,} rows where other columns have {rows:,}"
                continue
            ref = reference.features.get(name)
            try:
                if ref is None:
                    features[name] = _profile_feature(values, _infer_kind(values), reference.bins)
                else:
                    features[name] = _current_feature(ref, values)
            except ValueError as exc:
                problems[name] = str(exc)
        parts.append(Profile(features, rows, reference.bins, problems))
    if not parts:
        return Profile({}, 0, reference.bins)
    if len(parts) == 1:
        return parts[0]
    merged = profile_merge(parts)
    # a window's numeric edges are never used; keep the merge's, harmless
    return merged


def drift_compare(
    reference: Profile,
    current: Profile | Mapping[str, Any] | Iterable[Mapping[str, Any]],
    *,
    thresholds: DriftThresholds | None = None,
    prediction: str | None = None,
    features: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Compare one window with the reference profile, feature by feature.

    `current` is the window's columns (name -> 1-D array), a list of such batches, or a
    `Profile` of them. `prediction` names the prediction or score column: its result goes
    under "prediction" (the same tests as a feature). `features` limits the comparison to
    these reference columns. Never raises for bad data: each feature's result has a
    `status` ("ok", "missing_in_window", "not_in_reference", "no_rows", "all_missing",
    "invalid") and a readable `message`; `drift` is True/False when status is "ok".

    Returns a JSON-safe dict: rows, thresholds, features (name -> result), prediction,
    drifted (names), problems (the results whose status is not "ok").
    """
    t = thresholds or DriftThresholds()
    window = _window_profile(reference, current)
    names = _names_to_compare(reference, features, prediction)
    results: dict[str, dict] = {}
    compared = _compare_all(names, reference, window, t)
    for name, result in zip(names, compared, strict=True):
        results[name] = result
    _add_not_in_reference(results, reference, window, names, features)
    pred = results.pop(prediction, None) if prediction is not None else None
    if prediction is not None and pred is None:
        pred = _result(prediction, None, MISSING_IN_WINDOW, "No prediction column given.")
    return {
        "schema_version": SCHEMA_VERSION,
        "rows": window.rows,
        "thresholds": t.to_dict(),
        "features": results,
        "prediction": pred,
        "drifted": [n for n, r in results.items() if r["drift"]],
        "prediction_drift": None if pred is None else pred["drift"],
        "problems": [
            {"feature": r["feature"], "status": r["status"], "message": r["message"]}
            for r in [*results.values(), *([pred] if pred else [])]
            if r["status"] != OK
        ],
    }


def _names_to_compare(
    reference: Profile, features: Sequence[str] | None, prediction: str | None
) -> list[str]:
    """The reference columns to compare (all, problems included, or `features`), and
    the prediction column when the reference has it."""
    if features is not None:
        names = list(features)
    else:
        names = [
            *reference.features,
            *(n for n in reference.problems if n not in reference.features),
        ]
    if prediction is not None and prediction not in names and prediction in reference.features:
        names.append(prediction)
    return names


def _compare_all(
    names: list[str], reference: Profile, window: Profile, t: DriftThresholds
) -> list[dict]:
    # Columns are independent and the heavy parts (sorting, scipy's KS distribution)
    # run in C without the GIL: compare them on a few threads, in a fixed order.
    if len(names) > 1 and window.rows >= PARALLEL_MIN_ROWS:
        with ThreadPoolExecutor(max_workers=min(len(names), os.cpu_count() or 1)) as pool:
            return list(pool.map(lambda n: _compare_one(n, reference, window, t), names))
    return [_compare_one(name, reference, window, t) for name in names]


def _add_not_in_reference(
    results: dict[str, dict],
    reference: Profile,
    window: Profile,
    names: list[str],
    features: Sequence[str] | None,
) -> None:
    """A "not_in_reference" result for each window column the reference lacks (unless
    `features` leaves it out)."""
    for name in list(window.features) + list(window.problems):
        if name in results or name in reference.features or (features and name not in names):
            continue
        if name in reference.problems:
            continue
        results[name] = _result(
            name,
            getattr(window.features.get(name), "kind", None),
            NOT_IN_REFERENCE,
            "In the window but not in the reference profile; not compared.",
        )


def _compare_one(name: str, reference: Profile, window: Profile, t: DriftThresholds) -> dict:
    if name in reference.problems:
        return _result(
            name, None, INVALID, f"Reference column unusable: {reference.problems[name]}"
        )
    ref = reference.features.get(name)
    if ref is None:
        return _result(name, None, NOT_IN_REFERENCE, "Not in the reference profile.")
    if name in window.problems:
        return _result(name, ref.kind, INVALID, f"Unusable in the window: {window.problems[name]}")
    if window.rows == 0:
        return _result(name, ref.kind, NO_ROWS, "The window has no rows.")
    cur = window.features.get(name)
    if cur is None:
        return _result(
            name,
            ref.kind,
            MISSING_IN_WINDOW,
            "Missing in the window: the reference has this column.",
        )
    if cur.kind != ref.kind:
        return _result(
            name, ref.kind, INVALID, f"Is {cur.kind} in the window but {ref.kind} in the reference."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if isinstance(ref, NumericProfile):
                return _compare_numeric(name, ref, cur, t)  # type: ignore[arg-type]
            return _compare_categorical(name, ref, cur, t)  # type: ignore[arg-type]
    except (ValueError, ArithmeticError) as exc:  # a last resort: one feature, not the run
        return _result(name, ref.kind, INVALID, f"Could not compare: {exc}")
