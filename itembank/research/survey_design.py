"""The sampling design of a data set's persons as a replicate design: final student weights and
JK2 or BRR-Fay replicates built from stratum and school (primary sampling unit) with
:mod:`irt.replicates`, for the learning-outcome report's design-based standard errors
(docs/research.md).  Persons are the dicts of :class:`~itembank.research.datasets.Matrix`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from irt.replicates import METHODS, ReplicateDesign, SurveyDesignError, build

__all__ = ["design_of"]


def design_of(persons: Sequence[Mapping[str, Any]], method: str) -> ReplicateDesign:
    """The ``method`` ("jk2" or "brr-fay") replicate design of ``persons``, each with
    ``weight`` (blank: 1), ``stratum`` and ``psu`` (the school when blank).  Raises
    :class:`~irt.replicates.SurveyDesignError` naming the first person without a stratum."""
    if method not in METHODS:
        raise SurveyDesignError(f"unknown replicate method {method!r}; use one of {METHODS}")
    for p in persons:
        if not p.get("stratum"):
            raise SurveyDesignError(f"person {p.get('person_id')!r} has no stratum")
    stratum = np.array([str(p["stratum"]) for p in persons])
    psu = np.array([str(p.get("psu") or p.get("school") or "") for p in persons])
    weights = np.array([1.0 if p.get("weight") in (None, "") else float(p["weight"])
                        for p in persons])  # a weight of 0 stays 0
    return build(method, stratum, psu, weights)
