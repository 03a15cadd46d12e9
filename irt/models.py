"""Item response models (Rasch, 2PL, 3PL, GRM, GPCM): category probabilities, their θ-derivatives,
Fisher information and log-likelihood, vectorized over items × quadrature nodes (× persons).

Logistic metric without the 1.7 constant (the parameterisation of shared/reference-data/README.md):

- Rasch / 2PL / 3PL:  P(X=1 | θ) = c + (1 - c) / (1 + exp(-a(θ - b)));  Rasch has a = 1, c = 0.
- GRM (Samejima 1969):  P(X ≥ k | θ) = 1 / (1 + exp(-a(θ - b_k))),  k = 1..m,  b ascending.
- GPCM (Muraki 1992):  P(X = k | θ) ∝ exp(Σ_{v ≤ k} a(θ - b_v)),  k = 0..m, empty sum = 0;
  PCM is GPCM with a = 1.

A test mixes models freely: :class:`ItemParameters` holds J items of any models, and every
function here returns arrays padded to K = the largest number of categories, with probability 0
in the categories an item does not have.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

MODELS = ("rasch", "2pl", "3pl", "grm", "gpcm")
DICHOTOMOUS = frozenset({"rasch", "2pl", "3pl"})
POLYTOMOUS = frozenset({"grm", "gpcm"})

_TINY = 1e-300


class ParameterError(ValueError):
    """Item parameters that do not fit their model (unknown model, wrong number of b, c out of range)."""


@dataclass(frozen=True)
class ItemParameters:
    """Parameters of J items of possibly mixed models.

    ids: (J,) item ids.  models: (J,) model names from :data:`MODELS`.
    a: (J,) discrimination (1 for Rasch).  c: (J,) lower asymptote (0 unless 3PL).
    b: (J, M) difficulties, NaN-padded: column 0 for dichotomous items, b_1..b_m for GRM
    (category boundaries) and GPCM (step difficulties).  M = the largest m (at least 1).
    """

    ids: tuple[str, ...]
    models: tuple[str, ...]
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray

    def __post_init__(self) -> None:
        j = len(self.ids)
        if len(self.models) != j or self.a.shape != (j,) or self.c.shape != (j,):
            raise ParameterError("ids, models, a and c must all have one entry per item")
        if self.b.ndim != 2 or self.b.shape[0] != j:
            raise ParameterError("b must be a (J, M) array")
        for item_id, model in zip(self.ids, self.models, strict=True):
            if model not in MODELS:
                raise ParameterError(f"item {item_id}: unknown model {model!r}; use one of {MODELS}")

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> ItemParameters:
        """Build from dicts ``{"id", "model", "a", "b", "c"}`` as in PARAMS.json.

        ``b`` is a number for dichotomous models, a list for GRM and GPCM; ``a`` defaults to 1
        and ``c`` to 0.
        """
        records = list(records)
        ids, models, a, c, bs = [], [], [], [], []
        for rec in records:
            item_id = str(rec["id"])
            model = str(rec["model"]).lower()
            if model not in MODELS:
                raise ParameterError(f"item {item_id}: unknown model {model!r}; use one of {MODELS}")
            b = rec["b"]
            b_list = [float(x) for x in (b if isinstance(b, Sequence) else [b])]
            if model in DICHOTOMOUS and len(b_list) != 1:
                raise ParameterError(f"item {item_id}: model {model} takes one b, got {len(b_list)}")
            if model in POLYTOMOUS and len(b_list) < 1:
                raise ParameterError(f"item {item_id}: model {model} needs at least one b")
            a_val = 1.0 if model == "rasch" else float(rec.get("a", 1.0) if rec.get("a") is not None else 1.0)
            if model == "grm" and not grm_boundaries_ordered(a_val, b_list):
                raise ParameterError(
                    f"item {item_id}: GRM boundaries must increase (decrease when a < 0), "
                    f"got a = {a_val:g}, b = {b_list}"
                )
            c_val = float(rec.get("c") or 0.0) if model == "3pl" else 0.0
            if not 0.0 <= c_val < 1.0:
                raise ParameterError(f"item {item_id}: c must be in [0, 1), got {c_val}")
            ids.append(item_id)
            models.append(model)
            a.append(a_val)
            c.append(c_val)
            bs.append(b_list)
        width = max((len(x) for x in bs), default=1)
        b_arr = np.full((len(bs), width), np.nan)
        for j, row in enumerate(bs):
            b_arr[j, : len(row)] = row
        return cls(tuple(ids), tuple(models), np.asarray(a, float), b_arr, np.asarray(c, float))

    def to_records(self) -> list[dict[str, Any]]:
        """The inverse of :meth:`from_records`: ``b`` a float or a list, ``c`` only for 3PL."""
        out = []
        for j, (item_id, model) in enumerate(zip(self.ids, self.models, strict=True)):
            bj = self.b[j, : self.n_categories[j] - 1]
            out.append(
                {
                    "id": item_id,
                    "model": model,
                    "a": float(self.a[j]),
                    "b": float(bj[0]) if model in DICHOTOMOUS else [float(x) for x in bj],
                    "c": float(self.c[j]) if model == "3pl" else None,
                }
            )
        return out

    # -- derived ----------------------------------------------------------------------------
    @property
    def n_items(self) -> int:
        return len(self.ids)

    # The derived values below are computed once per (immutable) set: scoring one person calls
    # them on every Newton step.
    @cached_property
    def n_categories(self) -> np.ndarray:
        """(J,) number of score categories: 2 for dichotomous items, m + 1 for polytomous."""
        counts = np.where(
            np.isin(np.asarray(self.models), list(DICHOTOMOUS)),
            2,
            np.sum(~np.isnan(self.b), axis=1) + 1,
        ).astype(int)
        counts.setflags(write=False)  # shared by every caller
        return counts

    @cached_property
    def max_categories(self) -> int:
        return int(self.n_categories.max(initial=2))

    def index(self, item_ids: Iterable[str]) -> np.ndarray:
        """Positions of ``item_ids`` in this set (KeyError naming the first unknown id)."""
        pos = {item_id: j for j, item_id in enumerate(self.ids)}
        return np.array([pos[i] for i in item_ids], dtype=int)

    def subset(self, indices: Sequence[int] | np.ndarray) -> ItemParameters:
        """The items at ``indices``, in that order (b trimmed to the widest of them)."""
        idx = np.asarray(indices, dtype=int)
        b = self.b[idx]
        # trim b to the widest remaining item, so K stays consistent with the items kept
        filled = np.flatnonzero(np.any(~np.isnan(b), axis=0)) if b.size else np.array([0])
        width = int(filled.max()) + 1 if filled.size else 1
        return ItemParameters(
            tuple(self.ids[i] for i in idx),
            tuple(self.models[i] for i in idx),
            self.a[idx].copy(),
            b[:, :width].copy(),
            self.c[idx].copy(),
        )

    def model_groups(self) -> dict[str, np.ndarray]:
        """Item indices per model present."""
        return dict(self._model_groups)

    @cached_property
    def _model_groups(self) -> dict[str, np.ndarray]:
        models = np.asarray(self.models)
        return {m: np.flatnonzero(models == m) for m in MODELS if np.any(models == m)}


def grm_boundaries_ordered(a: float, b: Sequence[float]) -> bool:
    """Whether GRM boundaries give P(X ≥ 1) > P(X ≥ 2) > ... at every θ.

    P(X ≥ k) = logistic(a(θ - b_k)) decreases in k iff the intercepts d_k = -a·b_k decrease, i.e.
    a·b_k increases: increasing b for a > 0, decreasing b for a < 0 (a negative-slope item, which
    calibration flags but keeps; Samejima 1969 in slope-intercept form).  a = 0 orders nothing.
    """
    ab = a * np.asarray(b, dtype=float)
    return bool(np.all(np.diff(ab) > 0))


def _as_nodes(theta: np.ndarray | float) -> np.ndarray:
    return np.atleast_1d(np.asarray(theta, dtype=float))


def _logistic(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1/(1+exp(-x)), without overflow warnings


def category_probabilities(params: ItemParameters, theta: np.ndarray | float) -> np.ndarray:
    """P(X_j = k | θ_q).  theta: (Q,).  Returns (J, Q, K), rows summing to one over k."""
    probs, _ = _probabilities_and_derivatives(params, _as_nodes(theta), derivatives=False)
    return probs


def category_derivatives(params: ItemParameters, theta: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """(P, dP/dθ), each (J, Q, K)."""
    probs, deriv = _probabilities_and_derivatives(params, _as_nodes(theta), derivatives=True)
    assert deriv is not None
    return probs, deriv


def _probabilities_and_derivatives(
    params: ItemParameters, theta: np.ndarray, derivatives: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    J, Q, K = params.n_items, theta.size, params.max_categories
    probs = np.zeros((J, Q, K))
    deriv = np.zeros((J, Q, K)) if derivatives else None
    for model, idx in params.model_groups().items():
        a = params.a[idx][:, None]
        if model in DICHOTOMOUS:
            b = params.b[idx, 0][:, None]
            c = params.c[idx][:, None]
            star = _logistic(a * (theta[None, :] - b))
            p1 = c + (1.0 - c) * star
            probs[idx, :, 0] = 1.0 - p1
            probs[idx, :, 1] = p1
            if deriv is not None:
                d1 = (1.0 - c) * a * star * (1.0 - star)
                deriv[idx, :, 0] = -d1
                deriv[idx, :, 1] = d1
        elif model == "grm":
            b = params.b[idx]  # (n, M), NaN-padded
            n, m = b.shape
            # cumulative P(X >= k), k = 0..M+1; NaN boundaries give 0 (category absent)
            star = np.zeros((n, Q, m + 2))
            star[:, :, 0] = 1.0
            z = a[:, :, None] * (theta[None, :, None] - b[:, None, :])
            star[:, :, 1 : m + 1] = np.where(np.isnan(z), 0.0, _logistic(np.nan_to_num(z)))
            probs[idx, :, : m + 1] = star[:, :, : m + 1] - star[:, :, 1 : m + 2]
            if deriv is not None:
                ds = a[:, :, None] * star * (1.0 - star)
                deriv[idx, :, : m + 1] = ds[:, :, : m + 1] - ds[:, :, 1 : m + 2]
        else:  # gpcm
            b = params.b[idx]
            n, m = b.shape
            steps = a[:, :, None] * (theta[None, :, None] - b[:, None, :])  # (n, Q, M)
            valid = ~np.isnan(b)[:, None, :]
            cum = np.concatenate(
                [np.zeros((n, Q, 1)), np.cumsum(np.where(valid, steps, 0.0), axis=2)], axis=2
            )
            present = np.concatenate([np.ones((n, 1, 1), bool), valid], axis=2)
            cum = np.where(present, cum, -np.inf)
            cum -= cum.max(axis=2, keepdims=True)
            e = np.exp(cum)
            p = e / e.sum(axis=2, keepdims=True)
            probs[idx, :, : m + 1] = p
            if deriv is not None:
                k = np.arange(m + 1)[None, None, :]
                mean = np.sum(k * p, axis=2, keepdims=True)
                deriv[idx, :, : m + 1] = a[:, :, None] * p * (k - mean)
    return probs, deriv


def expected_score(params: ItemParameters, theta: np.ndarray | float) -> np.ndarray:
    """E[X_j | θ_q], (J, Q)."""
    probs = category_probabilities(params, theta)
    return probs @ np.arange(probs.shape[2], dtype=float)


def item_information(params: ItemParameters, theta: np.ndarray | float) -> np.ndarray:
    """Fisher information I_j(θ_q) = Σ_k (dP_jk/dθ)² / P_jk, (J, Q); ≥ 0 for every model."""
    probs, deriv = category_derivatives(params, theta)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(probs > _TINY, deriv**2 / np.maximum(probs, _TINY), 0.0)
    return terms.sum(axis=2)


def test_information(params: ItemParameters, theta: np.ndarray | float) -> np.ndarray:
    """Σ_j I_j(θ_q), (Q,)."""
    return item_information(params, theta).sum(axis=0)


def response_indicators(responses: np.ndarray, n_categories: int) -> np.ndarray:
    """One-hot scores.  responses: (N, J), NaN = not administered.  Returns (K, N, J) of 0/1."""
    resp = np.asarray(responses, dtype=float)
    return np.stack([(resp == k) for k in range(n_categories)]).astype(float)


def log_likelihood(params: ItemParameters, responses: np.ndarray, theta: np.ndarray | float) -> np.ndarray:
    """log L(θ_q | x_n) = Σ_j log P(X_j = x_nj | θ_q) over the administered items.

    responses: (N, J) integer scores as floats, NaN = not administered.  theta: (Q,).
    Returns (N, Q).
    """
    probs = category_probabilities(params, theta)
    logp = np.log(np.maximum(probs, _TINY))  # (J, Q, K)
    ind = response_indicators(responses, probs.shape[2])  # (K, N, J)
    return np.einsum("knj,jqk->nq", ind, logp, optimize=True)


def sample_responses(
    params: ItemParameters, theta: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw scores for persons at ``theta`` (N,).  Returns (N, J) integer scores."""
    probs = category_probabilities(params, np.asarray(theta, float))  # (J, N, K)
    cum = np.cumsum(probs, axis=2)
    u = rng.random((params.n_items, len(theta), 1))
    return (u > cum[:, :, :-1]).sum(axis=2).T.astype(int)
