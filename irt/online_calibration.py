"""Online calibration of pretest items: anchored MML with the operational items fixed at their
published parameters, so that the pretest items land on the bank's scale without a separate field
trial (the "fixed parameter calibration" of Kim 2006, one EM run of :class:`Calibrator` with
anchors), and the recovery of known generating parameters in simulation.

The operational responses may come from adaptive sessions: which items a person saw depended on
their earlier answers only, so the missing responses are ignorable for the marginal likelihood
(Mislevy & Wu 1996) and the anchored EM is unbiased for the pretest items.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .calibration import CalibrationError, CalibrationResult, Calibrator
from .models import ItemParameters


def calibrate_pretest(
    responses: np.ndarray,
    item_ids: Sequence[str],
    operational: ItemParameters,
    models: str | Mapping[str, str] = "2pl",
    **settings: Any,
) -> CalibrationResult:
    """Calibrate the pretest items of ``responses`` with the operational items anchored.

    responses: (N persons, J items) scores, NaN = not administered; item_ids: (J,).  Columns whose
    id is in ``operational`` are anchored at those parameters (anchors nobody answered are left
    out); the others are the pretest items, calibrated with ``models`` (one model, or item id →
    model, "2pl" for items not named).  ``settings`` go to :class:`Calibrator` (``se_method``,
    ``tol``, ...).  The latent mean and SD are estimated, on the operational items' scale."""
    x = np.asarray(responses, float)
    ids = list(item_ids)
    anchored = [j for j, i in enumerate(ids) if i in set(operational.ids)]
    free = [j for j in range(len(ids)) if j not in set(anchored)]
    if not free:
        raise CalibrationError("no pretest item to calibrate: every item is operational")
    if not anchored:
        raise CalibrationError("no operational item in the data to anchor the scale")
    answered = ~np.isnan(x[:, anchored]).all(axis=0)
    keep = [j for j, a in zip(anchored, answered, strict=True) if a] + free
    kept_ids = [ids[j] for j in keep]
    anchors = operational.subset(operational.index(i for i in kept_ids if i in operational.ids))
    free_ids = [ids[j] for j in free]
    if isinstance(models, str):
        item_models = dict.fromkeys(free_ids, models)
    else:
        item_models = {i: models.get(i, "2pl") for i in free_ids}
    return Calibrator(
        "2pl", item_models=item_models, anchors=anchors, **settings
    ).fit(x[:, keep], kept_ids)


def parameter_rmse(truth: ItemParameters, estimate: ItemParameters) -> dict[str, float]:
    """Root mean squared errors of ``estimate`` against ``truth`` over the items of ``truth``
    that ``estimate`` has: ``rmse_a`` (over items whose slope is free, i.e. not Rasch),
    ``rmse_b`` (over every difficulty, boundary or step) and ``rmse_c`` (3PL items only).  A
    value is NaN when no item has that parameter."""
    common = [i for i in truth.ids if i in set(estimate.ids)]
    t = truth.subset(truth.index(common))
    e = estimate.subset(estimate.index(common))
    models = np.asarray(t.models)
    slope = models != "rasch"
    width = min(t.b.shape[1], e.b.shape[1])
    db = t.b[:, :width] - e.b[:, :width]
    db = db[~np.isnan(db)]
    three = models == "3pl"

    def rmse(d: np.ndarray) -> float:
        return float(np.sqrt(np.mean(d**2))) if d.size else float("nan")

    return {
        "rmse_a": rmse((t.a - e.a)[slope]),
        "rmse_b": rmse(db),
        "rmse_c": rmse((t.c - e.c)[three]),
    }


__all__ = ["calibrate_pretest", "parameter_rmse"]
