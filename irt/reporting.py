"""The reporting scale and proficiency levels: θ → scale score (default mean 500, SD 100 in the
calibration population) and a score → level with its descriptor.  The descriptors are data given by
the caller (``{"zh-TW": ..., "en": ...}`` per level); this module holds no content.

    score = mean + sd · (θ - population_mean) / population_sd
    SE_score = sd · SE_θ / population_sd

(a linear transformation, as PISA's 500/100 scale; OECD 2009, PISA Data Analysis Manual, ch. 5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


class ReportingError(ValueError):
    """A reporting configuration that cannot be used; ``field`` is its dotted path."""

    def __init__(self, field_path: str, message: str) -> None:
        self.field = field_path
        super().__init__(f"{field_path}: {message}")


@dataclass(frozen=True)
class ReportingScale:
    """θ → reporting scale: ``mean`` and ``sd`` of the scale in a population with θ ~
    N(population_mean, population_sd²)."""

    population_mean: float = 0.0
    population_sd: float = 1.0
    mean: float = 500.0
    sd: float = 100.0

    def __post_init__(self) -> None:
        if not self.population_sd > 0:
            raise ReportingError("reporting.population.sd", "must be > 0")
        if not self.sd > 0:
            raise ReportingError("reporting.sd", "must be > 0")

    def score(self, theta: np.ndarray | float) -> np.ndarray:
        """Scale scores for θ, same shape."""
        theta = np.asarray(theta, float)
        return self.mean + self.sd * (theta - self.population_mean) / self.population_sd

    def se(self, se_theta: np.ndarray | float) -> np.ndarray:
        """Standard errors on the scale for SE(θ), same shape."""
        return self.sd * np.asarray(se_theta, float) / self.population_sd

    def theta(self, score: np.ndarray | float) -> np.ndarray:
        """The inverse of :meth:`score`."""
        score = np.asarray(score, float)
        return self.population_mean + self.population_sd * (score - self.mean) / self.sd

    def to_dict(self) -> dict[str, Any]:
        """``{mean, sd, population: {mean, sd}}``, as REPORT.json gives it and :func:`from_dict`
        reads it."""
        return {"mean": self.mean, "sd": self.sd,
                "population": {"mean": self.population_mean, "sd": self.population_sd}}


@dataclass(frozen=True)
class Level:
    """A proficiency level: 0-based ``index``, ``label`` and ``descriptor`` by language."""

    index: int
    label: str
    descriptor: Mapping[str, str]


@dataclass(frozen=True)
class ProficiencyLevels:
    """Levels cut on the reporting scale.  cuts: (L - 1,) ascending lower bounds of levels 2..L;
    labels, descriptors: (L,).  A score equal to a cut belongs to the higher level."""

    cuts: tuple[float, ...]
    labels: tuple[str, ...]
    descriptors: tuple[Mapping[str, str], ...]

    def __post_init__(self) -> None:
        if any(b <= a for a, b in zip(self.cuts, self.cuts[1:], strict=False)):
            raise ReportingError("reporting.levels.cuts", f"must increase, got {list(self.cuts)}")
        if len(self.labels) != len(self.cuts) + 1:
            raise ReportingError(
                "reporting.levels.labels",
                f"{len(self.cuts)} cuts make {len(self.cuts) + 1} levels, "
                f"got {len(self.labels)} labels",
            )
        if len(self.descriptors) != len(self.labels):
            raise ReportingError(
                "reporting.levels.descriptors",
                f"need one per level ({len(self.labels)}), got {len(self.descriptors)}",
            )

    def index(self, score: np.ndarray | float) -> np.ndarray:
        """0-based level of each score, same shape."""
        return np.searchsorted(np.asarray(self.cuts, float), np.asarray(score, float), side="right")

    def level(self, score: float) -> Level:
        """The level of one score."""
        i = int(self.index(score))
        return Level(i, self.labels[i], self.descriptors[i])


def from_dict(data: Mapping[str, Any] | None) -> tuple[ReportingScale, ProficiencyLevels | None]:
    """Build from ``{mean, sd, population: {mean, sd}, levels: {cuts, labels, descriptors}}``
    (every key optional; no ``levels``: no levels)."""
    data = data or {}
    pop = data.get("population") or {}
    try:
        scale = ReportingScale(
            population_mean=float(pop.get("mean", 0.0)),
            population_sd=float(pop.get("sd", 1.0)),
            mean=float(data.get("mean", 500.0)),
            sd=float(data.get("sd", 100.0)),
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ReportingError):
            raise
        raise ReportingError(
            "reporting", f"mean, sd and population must be numbers ({exc})"
        ) from exc
    levels = data.get("levels")
    if not levels:
        return scale, None
    cuts = _list(levels, "cuts")
    labels = _list(levels, "labels")
    descriptors = _list(levels, "descriptors")
    try:
        cut_values = tuple(float(c) for c in cuts)
    except (TypeError, ValueError) as exc:
        raise ReportingError("reporting.levels.cuts", "must be numbers") from exc
    for i, d in enumerate(descriptors):
        if not isinstance(d, Mapping):
            raise ReportingError(
                f"reporting.levels.descriptors[{i}]", "must be a mapping language → text"
            )
    return scale, ProficiencyLevels(
        cut_values, tuple(str(x) for x in labels), tuple(dict(d) for d in descriptors)
    )


def _list(section: Mapping[str, Any], key: str) -> Sequence[Any]:
    value = section.get(key)
    if not isinstance(value, list | tuple):
        raise ReportingError(f"reporting.levels.{key}", f"must be a list, got {value!r}")
    return value
