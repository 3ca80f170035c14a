"""The stored form of ``GroupCounts``: a JSON-safe dict whose numeric arrays are packed
(issue 18). Schema 2 holds each array as base64 of its little-endian bytes, integers in
the narrowest type that holds them and the score histogram's grid points as integers, so
storing a summary's ~100,000 histogram entries costs a few milliseconds where their
lists cost a tenth of a second. Schema 1 (the arrays as nested lists, what summaries
stored before) is still read, and still written by ``plain_dict`` for fingerprints.

Both forms are canonical (``GroupCounts.canonical``): equal counts give equal dicts.
Floats round-trip exactly in both."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

PLAIN_SCHEMA = 1  # arrays as nested lists
PACKED_SCHEMA = 2  # arrays as base64 of little-endian bytes
_INTEGER_TYPES = ("<u1", "<u2", "<u4", "<i8")
_READABLE = frozenset({"<u1", "<u2", "<u4", "<u8", "<i1", "<i2", "<i4", "<i8", "<f8"})
_MAX_ROWS = 1 << 40


def pack(values: np.ndarray) -> dict[str, Any]:
    """An array as {"dtype", "shape", "data"}: integers in the narrowest of u1/u2/u4/i8
    that holds every value (chosen by the values, so equal arrays pack equally),
    floats as f8."""
    values = np.asarray(values)
    if values.dtype.kind in "iub":
        low = int(values.min()) if values.size else 0
        high = int(values.max()) if values.size else 0
        dtype = "<i8"
        if low >= 0:
            dtype = next(t for t in _INTEGER_TYPES if high <= np.iinfo(t).max)
    elif values.dtype.kind == "f":
        dtype = "<f8"
    else:
        raise ValueError(f"cannot pack an array of {values.dtype}")
    data = np.ascontiguousarray(values, dtype=dtype).tobytes()
    return {
        "dtype": dtype,
        "shape": list(values.shape),
        "data": base64.b64encode(data).decode("ascii"),
    }


def unpack(packed: Any, dtype: Any, width: int | None = None) -> np.ndarray:
    """The array of `pack`, as `dtype`; `width` the number of columns expected (None: a
    vector). Raises ValueError on anything `pack` does not write."""
    if not isinstance(packed, Mapping) or set(packed) != {"dtype", "shape", "data"}:
        raise ValueError("a packed array is a mapping of dtype, shape and data")
    stored = packed["dtype"]
    shape = packed["shape"]
    if stored not in _READABLE:
        raise ValueError(f"unknown packed array type {stored!r}")
    want = 1 if width is None else 2
    if (
        not isinstance(shape, list)
        or len(shape) != want
        or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in shape)
        or (width is not None and shape[1] != width)
        or math.prod(shape) > _MAX_ROWS
    ):
        raise ValueError(f"packed array of unexpected shape {shape!r}")
    try:
        raw = base64.b64decode(packed["data"], validate=True)
    except (TypeError, ValueError) as exc:
        raise ValueError("packed array data is not base64") from exc
    item = np.dtype(stored)
    if len(raw) != math.prod(shape) * item.itemsize:
        raise ValueError("packed array data does not match its shape")
    return np.frombuffer(raw, dtype=item).reshape(shape).astype(dtype)


def grid_points(scores: np.ndarray, grid_bins: int) -> np.ndarray | None:
    """The grid indices k of scores on the grid (k / (grid_bins - 1)), None if any is not."""
    k = np.rint(scores * (grid_bins - 1))
    if not np.array_equal(k / (grid_bins - 1), scores):
        return None
    return k.astype(np.int64)


def packed_dict(c: Any, grid_bins: int) -> dict[str, Any]:
    """Schema 2 of canonical counts `c` (what a summary and its shares store)."""
    out: dict[str, Any] = {
        "schema_version": PACKED_SCHEMA,
        "attributes": list(c.attributes),
        "labels": c.labels,
        "weighted": c.weighted,
        "cells": pack(c.cells),
        "n": pack(c.n),
        "w": pack(c.w) if c.weighted else None,
        "w2": pack(c.w2) if c.weighted else None,
        "scored": c.scored,
        "score_cap": c.score_cap,
        "score_grid": c.score_grid,
    }
    if c.scored:
        out["h_cells"] = pack(c.h_cells)
        k = grid_points(c.h_score, grid_bins) if c.score_grid else None
        if k is not None:
            out["h_grid"] = pack(k)
        else:
            out["h_score"] = pack(c.h_score)
        out["h_n"] = pack(c.h_n)
        out["h_w"] = pack(c.h_w) if c.weighted else None
    return out


def plain_dict(c: Any) -> dict[str, Any]:
    """Schema 1 of canonical counts `c`: the arrays as nested lists."""
    out: dict[str, Any] = {
        "schema_version": PLAIN_SCHEMA,
        "attributes": list(c.attributes),
        "labels": c.labels,
        "weighted": c.weighted,
        "cells": c.cells.tolist(),
        "n": c.n.tolist(),
        "w": c.w.tolist() if c.weighted else None,
        "w2": c.w2.tolist() if c.weighted else None,
        "scored": c.scored,
        "score_cap": c.score_cap,
        "score_grid": c.score_grid,
    }
    if c.scored:
        out["h_cells"] = c.h_cells.tolist()
        out["h_score"] = c.h_score.tolist()
        out["h_n"] = c.h_n.tolist()
        out["h_w"] = c.h_w.tolist() if c.weighted else None
    return out


def fields_from_dict(data: Mapping[str, Any], grid_bins: int) -> dict[str, Any]:
    """The ``GroupCounts`` fields of a stored dict of schema 1 or 2. Raises ValueError."""
    version = data.get("schema_version")
    if version not in (PLAIN_SCHEMA, PACKED_SCHEMA):
        raise ValueError("unknown GroupCounts schema version")
    m = len(data["attributes"])

    def arr(key: str, width: int | None, dtype) -> np.ndarray | None:
        if data.get(key) is None:
            return None
        if version == PACKED_SCHEMA:
            return unpack(data[key], dtype, width)
        values = np.asarray(data[key], dtype=dtype)
        return values.reshape(-1) if width is None else values.reshape(-1, width)

    h_score = arr("h_score", None, np.float64)
    if version == PACKED_SCHEMA and data.get("h_grid") is not None:
        h_score = arr("h_grid", None, np.int64) / (grid_bins - 1)
    return {
        "attributes": tuple(data["attributes"]),
        "weighted": bool(data["weighted"]),
        "scored": bool(data["scored"]),
        "score_cap": int(data["score_cap"]),
        "labels": [list(x) for x in data["labels"]],
        "cells": arr("cells", m, np.int64),
        "n": arr("n", 4, np.int64),
        "w": arr("w", 4, np.float64),
        "w2": arr("w2", 4, np.float64),
        "score_grid": bool(data["score_grid"]),
        "h_cells": arr("h_cells", m, np.int64),
        "h_score": np.zeros(0) if h_score is None else h_score,
        "h_n": arr("h_n", 2, np.int64),
        "h_w": arr("h_w", 2, np.float64),
    }
