"""Scale linking: the linear transformation θ_to = A·θ_from + B between two calibrations that share
common items, by mean–mean, mean–sigma, Haebara (1980) or Stocking–Lord (1983), and putting item
parameters on the target scale (Kolen & Brennan 2014, ch. 6).

Under θ_to = A·θ_from + B the item parameters transform as a_to = a_from / A, b_to = A·b_from + B
(every GRM boundary and GPCM step), c unchanged, so every model's probabilities are invariant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from .models import ItemParameters, category_probabilities

METHODS = ("mean-mean", "mean-sigma", "haebara", "stocking-lord")


class LinkingError(ValueError):
    """Linking is impossible as asked: too few common items, mismatched models, degenerate data."""


@dataclass(frozen=True)
class LinkingResult:
    """θ_to = A·θ_from + B; ``common_items`` are the ids the constants rest on."""

    A: float
    B: float
    method: str
    common_items: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "A": self.A,
            "B": self.B,
            "method": self.method,
            "common_items": list(self.common_items),
        }


def transform(params: ItemParameters, A: float, B: float) -> ItemParameters:
    """Item parameters on the target scale: a/A, A·b + B (all b columns), c unchanged."""
    if not np.isfinite(A) or A <= 0 or not np.isfinite(B):
        raise LinkingError(f"A must be a positive number and B finite, got A={A}, B={B}")
    b = A * params.b + B
    return ItemParameters(params.ids, params.models, params.a / A, b, params.c.copy())


def _rebuilt(params: ItemParameters, idx: np.ndarray) -> ItemParameters:
    # subset() keeps b's full width; trim it to the items kept (category_probabilities needs
    # b's width to match the largest number of categories)
    sub = params.subset(idx)
    width = max(int(sub.n_categories.max(initial=2)) - 1, 1)
    return ItemParameters(sub.ids, sub.models, sub.a, sub.b[:, :width].copy(), sub.c)


def common_items(
    from_params: ItemParameters, to_params: ItemParameters
) -> tuple[ItemParameters, ItemParameters]:
    """The items in both sets, in ``from_params`` order, as two aligned ItemParameters.

    Raises LinkingError with fewer than 2 common items or a common item whose model (or number of
    categories) differs between the two calibrations.
    """
    to_ids = set(to_params.ids)
    ids = [i for i in from_params.ids if i in to_ids]
    if len(ids) < 2:
        raise LinkingError(
            f"linking needs at least 2 common items; the two calibrations share {len(ids)}"
            + (f" ({ids[0]})" if ids else "")
        )
    f = _rebuilt(from_params, from_params.index(ids))
    t = _rebuilt(to_params, to_params.index(ids))
    for j, item_id in enumerate(ids):
        if f.models[j] != t.models[j] or f.n_categories[j] != t.n_categories[j]:
            raise LinkingError(
                f"common item {item_id}: model {f.models[j]} with {f.n_categories[j]} categories "
                f"in one calibration, {t.models[j]} with {t.n_categories[j]} in the other"
            )
    return f, t


def _all_b(params: ItemParameters) -> np.ndarray:
    return params.b[~np.isnan(params.b)]


def mean_mean(from_params: ItemParameters, to_params: ItemParameters) -> LinkingResult:
    """A = mean(a_from)/mean(a_to), B = mean(b_to) - A·mean(b_from) (Loyd & Hoover 1980).

    All thresholds of polytomous items enter the means of b.  With only Rasch items A = 1.
    """
    f, t = common_items(from_params, to_params)
    A = float(np.mean(f.a) / np.mean(t.a))
    B = float(np.mean(_all_b(t)) - A * np.mean(_all_b(f)))
    return LinkingResult(A, B, "mean-mean", f.ids)


def mean_sigma(from_params: ItemParameters, to_params: ItemParameters) -> LinkingResult:
    """A = sd(b_to)/sd(b_from), B = mean(b_to) - A·mean(b_from) (Marco 1977), over all b."""
    f, t = common_items(from_params, to_params)
    bf, bt = _all_b(f), _all_b(t)
    if np.std(bf) == 0 or np.std(bt) == 0:
        raise LinkingError("mean-sigma needs common items whose difficulties differ")
    A = float(np.std(bt) / np.std(bf))
    B = float(np.mean(bt) - A * np.mean(bf))
    return LinkingResult(A, B, "mean-sigma", f.ids)


def default_grid(n_nodes: int = 41) -> tuple[np.ndarray, np.ndarray]:
    """θ nodes (Q,) on [-4, 4] of the target scale and N(0, 1) weights summing to one."""
    nodes = np.linspace(-4.0, 4.0, n_nodes)
    w = np.exp(-0.5 * nodes**2)
    return nodes, w / w.sum()


def _characteristic_curve(
    method: str,
    from_params: ItemParameters,
    to_params: ItemParameters,
    theta: np.ndarray | None,
    weights: np.ndarray | None,
) -> LinkingResult:
    f, t = common_items(from_params, to_params)
    if theta is None:
        theta, weights = default_grid()
    theta = np.asarray(theta, float)
    weights = np.full(theta.shape, 1.0 / theta.size) if weights is None else np.asarray(weights)
    if weights.shape != theta.shape:
        raise LinkingError("theta and weights must have the same shape (Q,)")
    target = category_probabilities(t, theta)  # (J, Q, K) on the target scale
    scores = np.arange(target.shape[2], dtype=float)
    target_tcc = (target @ scores).sum(axis=0)  # (Q,)

    def loss(x: np.ndarray) -> float:
        A, B = float(np.exp(x[0])), float(x[1])  # A > 0 by construction
        moved = category_probabilities(
            ItemParameters(f.ids, f.models, f.a / A, A * f.b + B, f.c), theta
        )
        if method == "haebara":
            # Haebara (1980): squared differences of every item's category curves
            return float(np.sum(weights * np.sum((target - moved) ** 2, axis=(0, 2))))
        # Stocking & Lord (1983): squared difference of the test characteristic curves
        return float(np.sum(weights * (target_tcc - (moved @ scores).sum(axis=0)) ** 2))

    try:
        start = mean_sigma(f, t)
        x0 = np.array([np.log(start.A), start.B])
    except LinkingError:
        x0 = np.zeros(2)
    if not np.all(np.isfinite(x0)):
        x0 = np.zeros(2)
    res = optimize.minimize(loss, x0, method="BFGS", options={"gtol": 1e-10})
    if not np.all(np.isfinite(res.x)):
        raise LinkingError(f"{method} criterion could not be minimised: {res.message}")
    return LinkingResult(float(np.exp(res.x[0])), float(res.x[1]), method, f.ids)


def haebara(
    from_params: ItemParameters,
    to_params: ItemParameters,
    *,
    theta: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> LinkingResult:
    """Haebara (1980): minimise Σ_q w_q Σ_j Σ_k (P_jk(θ_q; to) - P_jk(θ_q; from → to))².

    theta: (Q,) nodes on the target scale, weights: (Q,); default 41 nodes on [-4, 4] with
    N(0, 1) weights.  Any mix of models: the sum runs over every category of every common item.
    """
    return _characteristic_curve("haebara", from_params, to_params, theta, weights)


def stocking_lord(
    from_params: ItemParameters,
    to_params: ItemParameters,
    *,
    theta: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> LinkingResult:
    """Stocking & Lord (1983): minimise Σ_q w_q (T(θ_q; to) - T(θ_q; from → to))², with T the
    test characteristic curve (sum of expected item scores) of the common items.

    theta, weights: (Q,) as in :func:`haebara`.
    """
    return _characteristic_curve("stocking-lord", from_params, to_params, theta, weights)


def link(
    from_params: ItemParameters, to_params: ItemParameters, method: str, **kw: object
) -> LinkingResult:
    """Dispatch by name: "mean-mean", "mean-sigma", "haebara" or "stocking-lord"."""
    key = method.lower().replace("_", "-")
    if key == "mean-mean":
        return mean_mean(from_params, to_params)
    if key == "mean-sigma":
        return mean_sigma(from_params, to_params)
    if key == "haebara":
        return haebara(from_params, to_params, **kw)  # type: ignore[arg-type]
    if key == "stocking-lord":
        return stocking_lord(from_params, to_params, **kw)  # type: ignore[arg-type]
    raise LinkingError(f"unknown linking method {method!r}; use one of {METHODS}")
