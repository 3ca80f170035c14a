"""Sufficient statistics of observed outcomes, mergeable batch by batch: successes out of
n (``BinomialCounts``), n / mean / m2 of a sample (``MeanSummary``) and the paired
binary table of shadow scoring (``PairedBinaryCounts``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.experiment_stats.base import ExperimentDataError, _Serialisable


@dataclass(frozen=True)
class BinomialCounts(_Serialisable):
    """Successes out of n units of one arm; counts from batches add up."""

    successes: int
    n: int

    def __post_init__(self) -> None:
        if not 0 <= self.successes <= self.n:
            raise ExperimentDataError(f"need 0 <= successes <= n: {self.successes}/{self.n}")

    def merge(self, other: BinomialCounts) -> BinomialCounts:
        return BinomialCounts(self.successes + other.successes, self.n + other.n)

    @property
    def proportion(self) -> float:
        return self.successes / self.n if self.n else float("nan")


@dataclass(frozen=True)
class MeanSummary(_Serialisable):
    """n, mean and m2 (sum of squared deviations from the mean) of one sample. Batches
    merge exactly up to rounding (Chan et al.'s parallel update), so a worker can
    aggregate outcomes per upload and the test runs on the merged summary."""

    n: int
    mean: float
    m2: float

    def __post_init__(self) -> None:
        if self.n < 0 or self.m2 < 0 or not math.isfinite(self.mean) and self.n:
            raise ExperimentDataError(f"invalid summary n={self.n} m2={self.m2}")

    @classmethod
    def from_values(cls, values: Any) -> MeanSummary:
        x = np.asarray(values, dtype=float).ravel()
        if x.size == 0:
            return cls(0, 0.0, 0.0)
        if not np.all(np.isfinite(x)):
            raise ExperimentDataError("values must be finite")
        mean = float(np.mean(x))
        return cls(int(x.size), mean, float(np.sum((x - mean) ** 2)))

    @classmethod
    def from_moments(cls, n: int, mean: float, sd: float) -> MeanSummary:
        """From a reported n, mean and sample standard deviation (ddof = 1)."""
        return cls(int(n), float(mean), float(sd) ** 2 * max(int(n) - 1, 0))

    def merge(self, other: MeanSummary) -> MeanSummary:
        n = self.n + other.n
        if n == 0:
            return self
        delta = other.mean - self.mean
        mean = self.mean + delta * other.n / n
        return MeanSummary(n, mean, self.m2 + other.m2 + delta * delta * self.n * other.n / n)

    @property
    def variance(self) -> float:
        """Sample variance (ddof = 1)."""
        return self.m2 / (self.n - 1) if self.n > 1 else float("nan")

    @property
    def sd(self) -> float:
        return math.sqrt(self.variance)


@dataclass(frozen=True)
class PairedBinaryCounts(_Serialisable):
    """Shadow scoring of a binary outcome: how many requests each model got right."""

    both: int
    champion_only: int
    challenger_only: int
    neither: int

    def __post_init__(self) -> None:
        if min(self.both, self.champion_only, self.challenger_only, self.neither) < 0:
            raise ExperimentDataError("paired counts must be non-negative")

    def merge(self, other: PairedBinaryCounts) -> PairedBinaryCounts:
        return PairedBinaryCounts(
            self.both + other.both,
            self.champion_only + other.champion_only,
            self.challenger_only + other.challenger_only,
            self.neither + other.neither,
        )

    @property
    def n(self) -> int:
        return self.both + self.champion_only + self.challenger_only + self.neither

    @classmethod
    def from_outcomes(cls, champion: Any, challenger: Any) -> PairedBinaryCounts:
        a, b = np.asarray(champion).astype(bool), np.asarray(challenger).astype(bool)
        if a.shape != b.shape:
            raise ExperimentDataError("paired outcomes must have the same length")
        return cls(
            int(np.sum(a & b)), int(np.sum(a & ~b)), int(np.sum(~a & b)), int(np.sum(~a & ~b))
        )
