"""Reference and window profiles: per numeric column the sorted distinct finite values
with counts, the missing count and the reference's quantile bins; per categorical
column the category counts. ``profile_build`` profiles one batch, ``profile_merge``
merges batch profiles into the profile of all their rows."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.drift.base import DEFAULT_BINS, SCHEMA_VERSION, Kind
from core.fairness import MISSING_LABEL, label_for


@dataclass(eq=False)
class NumericProfile:
    """One numeric column: sorted distinct finite values, their counts, missing count,
    and the quantile bins (inner edges, reference proportion per bin)."""

    values: np.ndarray
    counts: np.ndarray
    missing: int = 0
    bins: int = DEFAULT_BINS
    edges: np.ndarray = field(default=None)  # type: ignore[assignment]
    proportions: np.ndarray = field(default=None)  # type: ignore[assignment]
    approximate: bool = False  # values pooled past MAX_DISTINCT (see `_pool`)

    kind = "numeric"

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float64)
        self.counts = np.asarray(self.counts, dtype=np.int64)
        self.missing = int(self.missing)
        if self.edges is None:
            self.edges = _quantile_edges(self.values, self.counts, self.bins)
        self.edges = np.asarray(self.edges, dtype=np.float64)
        if self.proportions is None:
            self.proportions = _bin_counts(self.values, self.counts, self.edges) / max(self.n, 1)
        self.proportions = np.asarray(self.proportions, dtype=np.float64)

    @property
    def n(self) -> int:
        """Non-missing values."""
        return int(self.counts.sum())

    @property
    def rows(self) -> int:
        return self.n + self.missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "numeric",
            "values": self.values.tolist(),
            "counts": self.counts.tolist(),
            "missing": self.missing,
            "bins": self.bins,
            "edges": self.edges.tolist(),
            "proportions": self.proportions.tolist(),
            "approximate": self.approximate,
        }


@dataclass(eq=False)
class CategoricalProfile:
    """One categorical column: category labels (missing = "(missing)") and counts."""

    categories: list[str]
    counts: np.ndarray

    kind = "categorical"

    def __post_init__(self) -> None:
        self.categories = [str(c) for c in self.categories]
        self.counts = np.asarray(self.counts, dtype=np.int64)

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @property
    def rows(self) -> int:
        return self.n

    @property
    def missing(self) -> int:
        return self.count_of(MISSING_LABEL)

    def count_of(self, category: str) -> int:
        try:
            return int(self.counts[self.categories.index(category)])
        except ValueError:
            return 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "categorical",
            "categories": list(self.categories),
            "counts": self.counts.tolist(),
        }


FeatureProfile = NumericProfile | CategoricalProfile


@dataclass(eq=False)
class Profile:
    """The profile of a dataset: one entry per column, in the order first seen.

    `problems` holds columns that could not be profiled (name -> message), so a bad
    column in a reference batch is reported rather than stopping the others.
    """

    features: dict[str, FeatureProfile]
    rows: int
    bins: int = DEFAULT_BINS
    problems: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (floats round-trip exactly through `json`)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "rows": self.rows,
            "bins": self.bins,
            "features": {name: f.to_dict() for name, f in self.features.items()},
            "problems": dict(self.problems),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"unknown drift profile schema version {version!r}")
        features: dict[str, FeatureProfile] = {}
        for name, f in data["features"].items():
            if f["kind"] == "numeric":
                features[name] = NumericProfile(
                    values=np.asarray(f["values"], dtype=np.float64),
                    counts=np.asarray(f["counts"], dtype=np.int64),
                    missing=f["missing"],
                    bins=f["bins"],
                    edges=np.asarray(f["edges"], dtype=np.float64),
                    proportions=np.asarray(f["proportions"], dtype=np.float64),
                    approximate=bool(f.get("approximate", False)),
                )
            elif f["kind"] == "categorical":
                features[name] = CategoricalProfile(f["categories"], f["counts"])
            else:
                raise ValueError(f"unknown feature kind {f['kind']!r} for {name!r}")
        return cls(features, int(data["rows"]), int(data["bins"]), dict(data.get("problems", {})))


def _quantile_edges(values: np.ndarray, counts: np.ndarray, bins: int) -> np.ndarray:
    """`np.unique(np.quantile(raw, q))` for q = 1/bins .. (bins-1)/bins ("linear"), from
    distinct values and counts, without expanding them."""
    n = int(counts.sum())
    if n == 0 or bins < 2:
        return np.empty(0, dtype=np.float64)
    q = np.linspace(0.0, 1.0, bins + 1)[1:-1]
    virtual = (n - 1) * q
    prev = np.floor(virtual)
    nxt = np.minimum(prev + 1, n - 1)
    gamma = virtual - prev
    cum = np.cumsum(counts)
    a = values[np.searchsorted(cum, prev.astype(np.int64), side="right")]
    b = values[np.searchsorted(cum, nxt.astype(np.int64), side="right")]
    # numpy's _lerp, so that the edges equal np.quantile bit for bit
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return np.unique(out)


def _bin_index(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Right-closed bins: (-inf, e0], (e0, e1], ..., (e_last, inf)."""
    return np.searchsorted(edges, x, side="left")


def _bin_counts(values: np.ndarray, counts: np.ndarray, edges: np.ndarray) -> np.ndarray:
    idx = _bin_index(values, edges)
    return np.bincount(idx, weights=counts, minlength=len(edges) + 1).astype(np.float64)


def _as_float(values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        return arr.astype(np.float64, copy=False)
    if arr.dtype.kind in "iub":
        return arr.astype(np.float64)
    if arr.dtype.kind == "M" or arr.dtype.kind == "m":
        raise ValueError(f"expected numbers, got {arr.dtype} values")
    try:
        return np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError):
        bad = next((v for v in arr.ravel() if not _float_ok(v)), None)
        raise ValueError(f"expected numbers, got {bad!r}") from None


def _float_ok(v: Any) -> bool:
    try:
        float(v if v is not None else "nan")
    except (TypeError, ValueError):
        return False
    return True


def numeric_counts(values: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """(sorted distinct finite values, counts, missing count) of one column.

    Raises ValueError when a value is not a number.
    """
    arr = _as_float(values).ravel()
    finite = np.isfinite(arr)
    missing = int(arr.size - np.count_nonzero(finite))
    if missing:
        arr = arr[finite]
    uniq, counts = np.unique(arr, return_counts=True)
    return uniq, counts.astype(np.int64), missing


def categorical_counts(values: Any) -> tuple[list[str], np.ndarray]:
    """(sorted category labels, counts) of one column; None, NaN and "" are "(missing)",
    integral floats are labelled as integers (as `core.fairness.label_for`).

    Raises ValueError for values that cannot be categories (unhashable ones)."""
    arr = np.asarray(values)
    arr = arr.reshape(-1)
    if arr.dtype.kind == "O":
        try:
            items = Counter(arr.tolist()).items()
        except TypeError as exc:
            raise ValueError(f"values cannot be categories: {exc}") from None
    elif arr.dtype.kind == "f":
        nan = np.isnan(arr)
        uniq, counts = np.unique(arr[~nan], return_counts=True)
        items = [*zip(uniq.tolist(), counts.tolist(), strict=True), (None, int(nan.sum()))]
    else:
        uniq, counts = np.unique(arr, return_counts=True)
        items = zip(uniq.tolist(), counts.tolist(), strict=True)
    out: dict[str, int] = {}
    for value, count in items:
        if count:
            label = label_for(value)
            out[label] = out.get(label, 0) + count
    names = sorted(out)
    return names, np.array([out[c] for c in names], dtype=np.int64)


def _infer_kind(values: Any) -> Kind:
    arr = np.asarray(values)
    if arr.dtype.kind in "iuf":
        return "numeric"
    if arr.dtype.kind == "O":
        sample = [v for v in arr.ravel()[:1000] if v is not None]
        numbers = [v for v in sample if isinstance(v, int | float | np.number)]
        if sample and len(numbers) == len(sample) and not any(isinstance(v, bool) for v in sample):
            return "numeric"
    return "categorical"


def _max_distinct() -> int:
    """``core.drift.MAX_DISTINCT``, read from the package at every call: the setting lives
    there, so changing it on the package (as a test does with monkeypatch) reaches every
    module that pools values."""
    import core.drift

    return core.drift.MAX_DISTINCT


def _pool(values: np.ndarray, counts: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """At most `cap` equal-mass buckets of sorted values, each kept as its largest value
    with the bucket's count: the ECDF stays exact at every kept value and is off by less
    than one bucket's mass (about 1/cap) in between."""
    cum = np.cumsum(counts)
    bucket = ((cum - 1) * cap) // cum[-1]
    last = np.r_[bucket[1:] != bucket[:-1], True]
    return values[last], np.diff(np.r_[0, cum[last]])


def _numeric_profile(uniq, counts, missing, bins, approximate=False) -> NumericProfile:
    cap = _max_distinct()
    if len(uniq) > cap:
        uniq, counts = _pool(uniq, counts, cap)
        approximate = True
    return NumericProfile(uniq, counts, missing, bins, approximate=approximate)


def _profile_feature(values: Any, kind: Kind, bins: int) -> FeatureProfile:
    if kind == "numeric":
        uniq, counts, missing = numeric_counts(values)
        return _numeric_profile(uniq, counts, missing, bins)
    cats, counts = categorical_counts(values)
    return CategoricalProfile(cats, counts)


def profile_build(
    columns: Mapping[str, Any],
    *,
    categorical: Iterable[str] = (),
    numeric: Iterable[str] = (),
    bins: int = DEFAULT_BINS,
) -> Profile:
    """Profile one batch of columns (name -> 1-D array, all of the same length).

    A column is numeric when its dtype is (or `numeric` names it), categorical otherwise
    (or when `categorical` names it). A column that cannot be profiled (text in a column
    named numeric, a wrong length) goes to `Profile.problems` instead of raising.
    """
    if bins < 1:
        raise ValueError("bins must be >= 1")
    categorical, numeric = set(categorical), set(numeric)
    if categorical & numeric:
        raise ValueError(f"named both numeric and categorical: {sorted(categorical & numeric)}")
    lengths = {name: len(np.asarray(v).reshape(-1)) for name, v in columns.items()}
    rows = max(lengths.values(), default=0)
    features: dict[str, FeatureProfile] = {}
    problems: dict[str, str] = {}
    for name, values in columns.items():
        if lengths[name] != rows:
            problems[name] = f"has {lengths[name]:,} rows where other columns have {rows:,}"
            continue
        if name in numeric:
            kind: Kind = "numeric"
        elif name in categorical:
            kind = "categorical"
        else:
            kind = _infer_kind(values)
        try:
            features[name] = _profile_feature(values, kind, bins)
        except ValueError as exc:
            problems[name] = str(exc)
    return Profile(features, rows, bins, problems)


def _merge_feature(a: FeatureProfile, b: FeatureProfile, bins: int) -> FeatureProfile:
    if a.kind != b.kind:
        raise ValueError(f"is {a.kind} in one batch and {b.kind} in another")
    if isinstance(a, NumericProfile):
        assert isinstance(b, NumericProfile)
        values = np.concatenate([a.values, b.values])
        counts = np.concatenate([a.counts, b.counts])
        uniq, inv = np.unique(values, return_inverse=True)
        merged = np.bincount(inv.reshape(-1), weights=counts, minlength=len(uniq))
        return _numeric_profile(
            uniq,
            merged.astype(np.int64),
            a.missing + b.missing,
            bins,
            approximate=a.approximate or b.approximate,
        )
    assert isinstance(b, CategoricalProfile)
    out = dict(zip(a.categories, a.counts.tolist(), strict=True))
    for c, n in zip(b.categories, b.counts.tolist(), strict=True):
        out[c] = out.get(c, 0) + n
    names = sorted(out)
    return CategoricalProfile(names, np.array([out[c] for c in names], dtype=np.int64))


def profile_merge(profiles: Iterable[Profile]) -> Profile:
    """Merge batch profiles into the profile of all their rows (edges recomputed from the
    merged values, so the result equals `profile_build` on the whole data)."""
    profiles = list(profiles)
    if not profiles:
        raise ValueError("nothing to merge")
    bins = profiles[0].bins
    if any(p.bins != bins for p in profiles):
        raise ValueError("profiles with different bin counts cannot be merged")
    features: dict[str, FeatureProfile] = {}
    problems: dict[str, str] = {}
    for p in profiles:
        problems.update(p.problems)
    seen_in: dict[str, int] = {}
    for p in profiles:
        for name, f in p.features.items():
            if name in problems:
                continue
            seen_in[name] = seen_in.get(name, 0) + 1
            if name not in features:
                features[name] = f
                continue
            try:
                features[name] = _merge_feature(features[name], f, bins)
            except ValueError as exc:
                problems[name] = str(exc)
                del features[name]
    for name, count in seen_in.items():
        if count != len(profiles) and name in features:
            problems[name] = f"present in {count} of {len(profiles)} batches"
            del features[name]
    return Profile(features, sum(p.rows for p in profiles), bins, problems)


def array_bytes(arr: np.ndarray) -> bytes:
    """One array in NumPy's .npy format (dtype and shape kept, no pickling)."""
    out = io.BytesIO()
    np.save(out, np.ascontiguousarray(arr), allow_pickle=False)
    return out.getvalue()


def array_from_bytes(data: bytes | memoryview) -> np.ndarray:
    """The array ``array_bytes`` wrote. Raises ValueError for anything else."""
    return np.load(io.BytesIO(bytes(data)), allow_pickle=False)
