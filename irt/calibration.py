"""Marginal maximum likelihood calibration of item parameters by Bock–Aitkin EM.

Rasch, 2PL, 3PL, GRM, GPCM and PCM items mixed freely, incomplete designs (NaN = not
administered), optional priors (MAP), anchored items held exactly, and a normal latent trait
whose mean and SD are estimated when the scale is fixed by anchors (or by Rasch/PCM slopes).

The E-step forms the posterior over fixed quadrature nodes θ_q = μ + σ z_q for every person with
matrix products, and the expected counts r_jqk = Σ_n [x_nj = k] · posterior_nq as one-hot
indicators (K, N, J) times the posterior (N, Q) (Bock & Aitkin 1981).  The M-step
(:mod:`irt.calibration_mstep`) updates all items of one model at once by Fisher scoring.  The
latent mean and variance follow the EM update of the posterior moments (Mislevy 1984).

Standard errors come from the observed information of the marginal likelihood: the observed
gradient is exact by Fisher's identity (Louis 1982), and its Jacobian is taken by central
differences ("oakes", equivalent to Oakes 1999); for large problems the cross-product of the
per-person gradients ("xpd") is used instead.  SEs of b and c follow by the delta method.

Decisions (docs/calibration.md): an item without variance, without any response, or with an
unobserved middle category of a polytomous model is refused with :class:`CalibrationError` naming
it, unless ``drop_degenerate=True`` drops it (reported in ``result.dropped``); a score above the
model's range is always an error; negative or extreme estimates are flagged per item; running out
of iterations gives ``converged=False`` and a :class:`CalibrationWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import calibration_mstep as mstep
from .models import DICHOTOMOUS, ItemParameters, category_derivatives, category_probabilities
from .priors import Priors
from .quadrature import standard_normal_grid

ProgressCallback = Callable[[int, int, float], None]
_TINY = 1e-300

FLAG_NEGATIVE_SLOPE = "negative_discrimination"
FLAG_LOW_SLOPE = "low_discrimination"
FLAG_EXTREME_SLOPE = "extreme_discrimination"
FLAG_EXTREME_DIFFICULTY = "extreme_difficulty"
FLAG_NO_SE = "standard_error_unavailable"
FLAG_NO_VARIANCE = "no_variance"
FLAG_NO_RESPONSES = "no_responses"
FLAG_UNOBSERVED_CATEGORY = "unobserved_category"


class CalibrationError(ValueError):
    """Data or settings that cannot be calibrated (the message names the item or setting)."""


class CalibrationWarning(UserWarning):
    """A calibration finished but its result needs care (non-convergence, flagged items)."""


@dataclass
class CalibrationResult:
    """What an MML-EM calibration learned.

    params: the J calibrated items (anchored items bit-identical to the anchors; PCM reported as
    GPCM with a = 1).  se: per item id ``{"a", "b", "c", "d"}`` as estimated (b, d lists for
    polytomous items; d = -a·b is the slope-intercept form).  flags: per item id, a list of
    FLAG_* names.  n_responses: (J,) administered count per item.
    """

    params: ItemParameters
    se: dict[str, dict[str, Any]]
    log_likelihood: float
    aic: float
    bic: float
    n_parameters: int
    n_persons: int
    iterations: int
    converged: bool
    population_mean: float
    population_sd: float
    population_se: dict[str, float]
    flags: dict[str, list[str]]
    warnings: list[str]
    n_responses: np.ndarray
    anchored: frozenset[str] = frozenset()
    dropped: dict[str, str] = field(default_factory=dict)
    se_method: str = "none"

    def summary(self) -> str:
        """A readable table of estimates with SEs, the fit and any warnings."""
        lines = [
            "MML-EM calibration (Bock & Aitkin 1981)",
            f"persons: {self.n_persons}   items: {self.params.n_items}   "
            f"free parameters: {self.n_parameters}",
            f"log-likelihood: {self.log_likelihood:.4f}   AIC: {self.aic:.2f}   "
            f"BIC: {self.bic:.2f}",
            f"iterations: {self.iterations}   converged: {self.converged}   SE: {self.se_method}",
            f"population: mean {self.population_mean:.4f}   sd {self.population_sd:.4f}",
            "",
            f"{'item':<16}{'model':<7}{'a':>9}{'se':>8}   b (se)",
        ]
        for rec in self.params.to_records():
            se = self.se.get(rec["id"], {})
            bs = rec["b"] if isinstance(rec["b"], list) else [rec["b"]]
            sb = se.get("b")
            sbs = sb if isinstance(sb, list) else [sb] * len(bs)
            b_text = "  ".join(_fmt(b, s) for b, s in zip(bs, sbs, strict=True))
            c_text = f"  c {_fmt(rec['c'], se.get('c'))}" if rec["model"] == "3pl" else ""
            sa = se.get("a")
            mark = " *" + ",".join(self.flags[rec["id"]]) if self.flags.get(rec["id"]) else ""
            anchor = " (anchor)" if rec["id"] in self.anchored else ""
            lines.append(
                f"{rec['id']:<16}{rec['model']:<7}{rec['a']:>9.4f}"
                f"{'' if sa is None else f'{sa:.4f}':>8}   {b_text}{c_text}{anchor}{mark}"
            )
        for item_id, reason in self.dropped.items():
            lines.append(f"dropped {item_id}: {reason}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


def _fmt(value: float, se: float | None) -> str:
    return f"{value:.4f}" + ("" if se is None or not np.isfinite(se) else f" ({se:.4f})")


@dataclass
class _Group:
    """Free items of one model and one number of categories."""

    model: str
    items: np.ndarray  # (n,) positions in the calibrated item set
    n_cat: int
    eta: np.ndarray  # (n, P)


class Calibrator:
    """MML-EM calibration, configured here and applied with :meth:`fit`.

    model: the model of every item ("rasch", "2pl", "3pl", "grm", "gpcm", "pcm"), unless
    ``item_models`` (item id → model) says otherwise.  priors: :class:`Priors` (default: only the
    Beta(5, 17) prior on 3PL c).  anchors: fixed items, an :class:`ItemParameters` or PARAMS.json
    style records; their parameters are kept exactly and the latent mean and SD are estimated.
    tol: largest parameter change between EM cycles at convergence.  n_nodes, bound: the
    quadrature grid on z ∈ [-bound, bound].  se_method: "auto", "oakes", "xpd" or "none".
    estimate_mean / estimate_sd: override the default (estimated with anchors; SD also with
    fixed-slope Rasch/PCM items).  progress: called as ``progress(iteration, max_iter, change)``.
    """

    def __init__(
        self,
        model: str = "2pl",
        *,
        item_models: Mapping[str, str] | None = None,
        priors: Priors | None = None,
        anchors: ItemParameters | Sequence[Mapping[str, Any]] | None = None,
        tol: float = 1e-4,
        max_iter: int = 500,
        n_nodes: int = 61,
        bound: float = 6.0,
        se_method: str = "auto",
        drop_degenerate: bool = False,
        estimate_mean: bool | None = None,
        estimate_sd: bool | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.model = model
        self.item_models = item_models
        self.priors = priors
        self.anchors = anchors
        self.tol = tol
        self.max_iter = max_iter
        self.n_nodes = n_nodes
        self.bound = bound
        self.se_method = se_method
        self.drop_degenerate = drop_degenerate
        self.estimate_mean = estimate_mean
        self.estimate_sd = estimate_sd
        self.progress = progress

    # -- input checks -------------------------------------------------------------------------
    def _check_settings(self) -> None:
        models = [self.model, *(self.item_models or {}).values()]
        for m in models:
            if m not in mstep.FIT_MODELS:
                raise CalibrationError(f"unknown model {m!r}; use one of {mstep.FIT_MODELS}")
        if self.max_iter < 1:
            raise CalibrationError(f"max_iter must be at least 1, got {self.max_iter}")
        if not self.tol > 0:
            raise CalibrationError(f"tol must be positive, got {self.tol}")
        if self.se_method not in ("auto", "oakes", "xpd", "none"):
            raise CalibrationError(f"unknown se_method {self.se_method!r}")

    def fit(
        self, responses: np.ndarray, item_ids: Sequence[str] | None = None
    ) -> CalibrationResult:
        """Calibrate.  responses: (N persons, J items) float, NaN = not administered, else an
        integer score ≥ 0.  item_ids: (J,), default "I1".."IJ".  Returns (and keeps as
        ``result_``) a :class:`CalibrationResult`."""
        self._check_settings()
        priors = self.priors if self.priors is not None else Priors()
        x = np.array(responses, dtype=float)
        if x.ndim != 2 or x.shape[1] == 0:
            raise CalibrationError(f"responses must be a (persons, items) array, got {x.shape}")
        ids = [f"I{j + 1}" for j in range(x.shape[1])] if item_ids is None else list(item_ids)
        if len(ids) != x.shape[1]:
            raise CalibrationError(f"{len(ids)} item ids for {x.shape[1]} response columns")
        if len(set(ids)) != len(ids):
            raise CalibrationError("item ids must be unique")
        seen = ~np.isnan(x)
        bad = seen & ((x < 0) | (x != np.round(x)) | ~np.isfinite(np.where(seen, x, 0)))
        if bad.any():
            n, j = np.argwhere(bad)[0]
            raise CalibrationError(
                f"item {ids[j]}, person row {n + 1}: score {x[n, j]!r} is not an integer ≥ 0"
            )
        anchors = self._anchor_params()
        unknown = sorted(set(self.item_models or {}) - set(ids))
        if unknown:
            raise CalibrationError(f"item_models names items not in the data: {unknown}")
        if anchors is not None:
            missing = sorted(set(anchors.ids) - set(ids))
            if missing:
                raise CalibrationError(f"anchors name items not in the data: {missing}")
        models = [(self.item_models or {}).get(i, self.model) for i in ids]
        anchor_pos = {} if anchors is None else {i: k for k, i in enumerate(anchors.ids)}

        # -- per-item checks: range errors always, degenerate items refused or dropped --------
        n_resp = seen.sum(axis=0)
        maxima = np.where(seen, x, -1).max(axis=0).astype(int)
        range_errors, degenerate = [], {}
        for j, item_id in enumerate(ids):
            if item_id in anchor_pos:
                k_max = int(anchors.n_categories[anchor_pos[item_id]]) - 1  # type: ignore[union-attr]
                what = f"anchor model {anchors.models[anchor_pos[item_id]]}"  # type: ignore[union-attr]
            elif models[j] in DICHOTOMOUS:
                k_max, what = 1, f"model {models[j]} (scores 0/1)"
            else:
                k_max, what = None, ""
            if k_max is not None and maxima[j] > k_max:
                row = int(np.argmax(np.where(seen[:, j], x[:, j], -1) > k_max))
                range_errors.append(
                    f"item {item_id}, person row {row + 1}: score {int(x[row, j])} is above "
                    f"{k_max}, the highest score of {what}"
                )
                continue
            if item_id in anchor_pos:
                continue
            values = x[seen[:, j], j]
            if values.size == 0:
                degenerate[item_id] = (FLAG_NO_RESPONSES, "no responses")
            elif np.all(values == values[0]):
                degenerate[item_id] = (
                    FLAG_NO_VARIANCE,
                    f"no variance (all {values.size} responses score {int(values[0])})",
                )
            elif models[j] not in DICHOTOMOUS:
                observed = set(np.unique(values).astype(int))
                absent = sorted(set(range(int(values.max()) + 1)) - observed)
                if absent:
                    degenerate[item_id] = (
                        FLAG_UNOBSERVED_CATEGORY,
                        f"score categories {absent} are never observed; rescore (collapse "
                        f"categories) so that scores 0..{int(values.max())} all occur",
                    )
        if range_errors:
            raise CalibrationError("; ".join(range_errors))
        if degenerate and not self.drop_degenerate:
            raise CalibrationError(
                "cannot calibrate: "
                + "; ".join(f"item {i}: {why}" for i, (_, why) in degenerate.items())
                + " (drop these items, or use drop_degenerate=True)"
            )
        keep = np.array([i not in degenerate for i in ids])
        if not keep.any():
            raise CalibrationError("no item left to calibrate")
        x = x[:, keep]
        ids = [i for i, k in zip(ids, keep, strict=True) if k]
        models = [m for m, k in zip(models, keep, strict=True) if k]
        n_resp = n_resp[keep]
        maxima = maxima[keep]
        seen = seen[:, keep]
        answered = seen.any(axis=1)
        notes: list[str] = []
        if not answered.all():
            notes.append(f"{int((~answered).sum())} persons without any response were left out")
            x, seen = x[answered], seen[answered]
        if x.shape[0] == 0:
            raise CalibrationError("no person has any response")
        return self._run(
            x, ids, models, maxima, n_resp, anchors, anchor_pos, priors, degenerate, notes
        )

    def _anchor_params(self) -> ItemParameters | None:
        if self.anchors is None:
            return None
        if isinstance(self.anchors, ItemParameters):
            return self.anchors
        try:
            return ItemParameters.from_records(self.anchors)
        except (ValueError, KeyError, TypeError) as exc:
            raise CalibrationError(f"anchors: {exc}") from exc

    # -- the EM algorithm ---------------------------------------------------------------------
    def _run(
        self,
        x: np.ndarray,
        ids: list[str],
        models: list[str],
        maxima: np.ndarray,
        n_resp: np.ndarray,
        anchors: ItemParameters | None,
        anchor_pos: dict[str, int],
        priors: Priors,
        degenerate: dict[str, tuple[str, str]],
        notes: list[str],
    ) -> CalibrationResult:
        n_persons, n_items = x.shape
        anchored = [j for j, i in enumerate(ids) if i in anchor_pos]
        free = [j for j in range(n_items) if ids[j] not in anchor_pos]
        n_cat = np.where([m in DICHOTOMOUS for m in models], 2, maxima + 1).astype(int)
        for j in anchored:
            n_cat[j] = int(anchors.n_categories[anchor_pos[ids[j]]])  # type: ignore[union-attr]
        k_max = int(n_cat.max())
        onehot32 = _one_hot(x, k_max)  # (N, K·J), float32 (0 and 1 are exact)
        counts = onehot32.sum(axis=0, dtype=float).reshape(k_max, n_items).T  # (J, K)

        groups: list[_Group] = []
        for key in sorted({(models[j], int(n_cat[j])) for j in free}):
            idx = np.array([j for j in free if (models[j], int(n_cat[j])) == key])
            c0 = 0.2
            if priors.c is not None:
                c0 = priors.c[0] / (priors.c[0] + priors.c[1])
            eta = mstep.start_values(key[0], counts[idx, : key[1]], c_start=c0)
            groups.append(_Group(key[0], idx, key[1], eta))

        has_anchor = bool(anchored)
        fixed_slope = any(g.model in ("rasch", "pcm") for g in groups)
        est_mean = has_anchor if self.estimate_mean is None else self.estimate_mean
        est_sd = (has_anchor or fixed_slope) if self.estimate_sd is None else self.estimate_sd
        unidentified = _identification_problem(
            ~np.isnan(x), n_cat, groups, priors, est_mean, est_sd
        )
        if unidentified:
            raise CalibrationError(unidentified)
        state = _State(
            self, ids, models, n_cat, groups, anchors, anchor_pos, anchored, n_items, k_max
        )

        z, w = standard_normal_grid(self.n_nodes, self.bound)
        log_w = np.log(w)
        em = _EMMap(state, onehot32, z, log_w, priors, est_mean, est_sd)
        x_now = em.pack(0.0, 1.0)
        converged = False
        iteration = 0
        change = np.inf

        def cycle(vec: np.ndarray) -> tuple[np.ndarray, float]:
            """One EM cycle from ``vec``: the updated vector and the objective at ``vec``."""
            nonlocal iteration, change, converged
            iteration += 1
            new_vec, objective = em(vec)
            change = float(np.abs(new_vec - vec).max(initial=0.0))
            if self.progress is not None:
                self.progress(iteration, self.max_iter, change)
            converged = change < self.tol
            if not converged and em.single and change < _SINGLE_PRECISION_CHANGE:
                # single precision cannot resolve smaller changes (its rounding noise moves the
                # parameters by ~1e-7 per cycle): finish a tight tol in double precision
                em.use_double()
            return new_vec, objective

        # SQUAREM (Varadhan & Roland 2008, scheme S3): two EM cycles give the steps r and v, the
        # extrapolation x0 − 2αr + α²v with α = −‖r‖/‖v‖ jumps along EM's slow direction.  It is
        # kept only if the penalised log-likelihood at the extrapolated point is not below that
        # of the first EM cycle; otherwise EM resumes from x2.  Convergence is judged, as for
        # plain EM, on the change made by one EM cycle.
        while iteration < self.max_iter:
            x1, _ = cycle(x_now)
            if converged or iteration >= self.max_iter:
                x_now = x1
                break
            x2, objective_1 = cycle(x1)
            if converged or iteration >= self.max_iter:
                x_now = x2
                break
            r = x1 - x_now
            v = x2 - x1 - r
            norm_v = float(np.sqrt(v @ v))
            alpha = -float(np.sqrt(r @ r)) / norm_v if norm_v > 0 else -1.0
            if alpha >= -1.0:
                x_now = x2
                continue
            alpha = max(alpha, -_MAX_EXTRAPOLATION)
            jump = x_now - 2 * alpha * r + alpha**2 * v
            if not em.admissible(jump):
                x_now = x2
                continue
            x3, objective_jump = cycle(jump)
            if converged:
                x_now = x3
                break
            tolerance = 1e-7 * max(1.0, abs(objective_1))
            x_now = x3 if objective_jump >= objective_1 - tolerance else x2
        mu, sd = em.unpack(x_now)

        theta = mu + sd * z
        loglik = _log_likelihood(onehot32, state.log_probs(theta), log_w)
        flags: dict[str, list[str]] = {i: [] for i in ids}
        warn_list = list(notes)
        if not converged:
            warn_list.append(
                f"EM did not converge in {self.max_iter} iterations (last change {change:.3g} > "
                f"tol {self.tol:g}); estimates are not final"
            )
        for item_id, (_flag, why) in degenerate.items():
            warn_list.append(f"item {item_id} dropped: {why}")

        n_free = sum(g.eta.size for g in groups) + int(est_mean) + int(est_sd)
        se_method = self.se_method
        if se_method == "auto":
            cost = n_free * x.size * self.n_nodes * k_max
            se_method = "oakes" if cost <= 3e9 else "xpd"
        se: dict[str, dict[str, Any]] = {}
        pop_se: dict[str, float] = {}
        if se_method != "none":
            se, pop_se, se_note = _standard_errors(
                se_method, state, onehot32.astype(float), z, log_w, mu, sd, est_mean, est_sd, priors
            )
            if se_note:
                warn_list.append(se_note)

        params = state.params()
        for j, item_id in enumerate(ids):
            if item_id in anchor_pos:
                continue
            a = float(params.a[j])
            bj = params.b[j, : n_cat[j] - 1]
            if a < 0:
                flags[item_id].append(FLAG_NEGATIVE_SLOPE)
            elif a < 0.2 and models[j] not in ("rasch", "pcm"):
                flags[item_id].append(FLAG_LOW_SLOPE)
            if abs(a) > 6:
                flags[item_id].append(FLAG_EXTREME_SLOPE)
            if np.any(np.abs(bj) > self.bound):
                flags[item_id].append(FLAG_EXTREME_DIFFICULTY)
            if se_method != "none" and not np.all(np.isfinite(_flat(se.get(item_id, {})))):
                flags[item_id].append(FLAG_NO_SE)
        for item_id, item_flags in flags.items():
            for flag in item_flags:
                warn_list.append(f"item {item_id}: {flag.replace('_', ' ')}")
        for item_id, (flag, _) in degenerate.items():
            flags[item_id] = [flag]
        for message in warn_list:
            warnings.warn(message, CalibrationWarning, stacklevel=3)

        result = CalibrationResult(
            params=params,
            se=se,
            log_likelihood=float(loglik),
            aic=float(-2 * loglik + 2 * n_free),
            bic=float(-2 * loglik + np.log(n_persons) * n_free),
            n_parameters=n_free,
            n_persons=n_persons,
            iterations=iteration,
            converged=converged,
            population_mean=mu,
            population_sd=sd,
            population_se=pop_se,
            flags={i: f for i, f in flags.items() if f},
            warnings=warn_list,
            n_responses=n_resp,
            anchored=frozenset(ids[j] for j in anchored),
            dropped={i: why for i, (_, why) in degenerate.items()},
            se_method=se_method,
        )
        self.result_ = result
        return result


def _identification_problem(
    seen: np.ndarray,
    n_cat: np.ndarray,
    groups: Sequence[_Group],
    priors: Priors,
    est_mean: bool,
    est_sd: bool,
) -> str:
    """Why the model cannot be identified by the likelihood, or "" when the count allows it.

    The marginal likelihood depends on the data only through the table of response patterns: a
    set of administered items with categories K_j has Π K_j cells and Π K_j - 1 free
    proportions.  A model with more free parameters than the sum of these over the observed
    sets of administered items is not identified (e.g. one 2PL item: 2 parameters, 1 proportion;
    two 2PL items: 4 against 3), whatever EM reports.  Parameters with a proper prior (MAP) do
    not count.  seen: (N, J) administered; n_cat: (J,).
    """
    n_free = int(est_mean) + int(est_sd)
    for g in groups:
        n, width = g.eta.shape
        penalised = 0
        if priors.a is not None and mstep.slope_index(g.model) is not None:
            penalised += 1
        if priors.b is not None:
            sl = mstep.intercept_slice(g.model, g.n_cat)
            penalised += sl.stop - sl.start
        if priors.c is not None and g.model == "3pl":
            penalised += 1
        n_free += n * (width - penalised)
    if n_free == 0:
        return ""
    log_cells = seen.astype(float) @ np.log(n_cat.astype(float))  # (N,)
    if float(log_cells.max(initial=0.0)) >= np.log(n_free + 1.0):
        return ""  # one person's set of items alone has enough cells
    patterns = np.unique(seen, axis=0)
    df = int(np.sum(np.round(np.exp(patterns @ np.log(n_cat.astype(float)))) - 1))
    if n_free <= df:
        return ""
    return (
        f"the model is not identified: {n_free} free parameters, but the response patterns "
        f"of {seen.shape[1]} item(s) give only {df} independent proportion(s); add items, fix "
        "parameters (anchors) or use a model with fewer parameters (e.g. 2PL needs 3 items)"
    )


def _flat(entry: Mapping[str, Any]) -> list[float]:
    out: list[float] = []
    for v in entry.values():
        out.extend(v if isinstance(v, list) else [v])
    return [float(v) for v in out]


def _one_hot(x: np.ndarray, k_max: int, dtype: type = np.float32) -> np.ndarray:
    """Score indicators (N, K·J), column k·J + j = [x_nj = k]; NaN gives a zero row block.

    One C-contiguous matrix, so that the E-step is two matrix products per cycle however many
    categories there are, instead of two per category on strided views."""
    n, j = x.shape
    out = np.zeros((n, k_max * j), dtype=dtype)
    for k in range(k_max):
        out[:, k * j : (k + 1) * j] = x == k
    return out


def _by_category(log_probs: np.ndarray) -> np.ndarray:
    """Per-item, per-node, per-category values (J, Q, K) → (K·J, Q), rows in the column order
    of :func:`_one_hot` (log-probabilities for the E-step, ∂log P/∂θ for the SEs)."""
    n_items, n_nodes, k_max = log_probs.shape
    return np.ascontiguousarray(log_probs.transpose(2, 0, 1).reshape(k_max * n_items, n_nodes))


# exp(-80) ≈ 2e-35 is still a normal single-precision number: the floor keeps the posterior of long
# tests free of subnormals (slow arithmetic on x86); the mass it adds, < 61 · 2e-35, is negligible
_LOG_FLOOR = -80.0


def _posterior(
    onehot: np.ndarray,
    log_probs: np.ndarray,
    log_w: np.ndarray,
    flat: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Posterior over nodes (N, Q) and the marginal log-likelihood.

    onehot: (N, K·J) from :func:`_one_hot`; log_probs: (J, Q, K); log_w: (Q,) log prior weights.
    Computed in the precision of ``onehot``; the log-likelihood is summed in double precision.
    flat: ``log_probs`` already in the layout of :func:`_by_category`, if at hand."""
    if flat is None:
        flat = _by_category(log_probs)
    logl = onehot @ flat.astype(onehot.dtype, copy=False)
    logl += log_w.astype(onehot.dtype)[None, :]
    top = logl.max(axis=1, keepdims=True)
    np.subtract(logl, top, out=logl)
    np.maximum(logl, _LOG_FLOOR, out=logl)
    np.exp(logl, out=logl)
    total = logl.sum(axis=1, keepdims=True)
    logl /= total
    loglik = np.sum(top, dtype=float) + np.sum(np.log(total), dtype=float)
    return logl, float(loglik)


def _log_likelihood(onehot32: np.ndarray, log_probs: np.ndarray, log_w: np.ndarray) -> float:
    """The marginal log-likelihood in double precision, by blocks of persons (no full
    double-precision copy of the indicators).  onehot32: (N, K·J); log_probs: (J, Q, K)."""
    flat = _by_category(log_probs)
    total = 0.0
    block = max(1, 2**22 // max(1, onehot32.shape[1]))
    for start in range(0, onehot32.shape[0], block):
        rows = onehot32[start : start + block].astype(float)
        _, part = _posterior(rows, log_probs, log_w, flat)
        total += part
    return total


def _expected_counts(onehot: np.ndarray, post: np.ndarray, n_items: int) -> np.ndarray:
    """r_jqk = Σ_n [x_nj = k] posterior_nq.  onehot: (N, K·J); post: (N, Q).  Returns (J, Q, K)."""
    flat = onehot.T @ post  # (K·J, Q)
    return flat.reshape(-1, n_items, post.shape[1]).transpose(1, 2, 0)


# SQUAREM's step length is capped: a longer jump is rarely accepted and costs an E-step
_MAX_EXTRAPOLATION = 64.0
# below this change per EM cycle the E-step switches to double precision (when tol is smaller):
# float32 rounding (ε ≈ 6e-8, summed over persons) moves the estimates by ~1e-7 per cycle
_SINGLE_PRECISION_CHANGE = 1e-5


class _EMMap:
    """One Bock–Aitkin EM cycle as a map on the vector (η of every free group, μ?, σ?), the
    form SQUAREM extrapolates.  The E-step runs in single precision: it halves the memory
    traffic; the final log-likelihood and the standard errors are computed in double precision.
    :meth:`use_double` switches the E-step to double precision for a tol that single precision
    cannot meet (changes below ``_SINGLE_PRECISION_CHANGE``).

    onehot32: (N, K·J) float32 indicators; z, log_w: (Q,) standard grid and its log weights."""

    def __init__(
        self,
        state: _State,
        onehot32: np.ndarray,
        z: np.ndarray,
        log_w: np.ndarray,
        priors: Priors,
        est_mean: bool,
        est_sd: bool,
    ) -> None:
        self.state, self.onehot32, self.z, self.log_w = state, onehot32, z, log_w
        self.priors, self.est_mean, self.est_sd = priors, est_mean, est_sd
        self.mu, self.sd = 0.0, 1.0

    @property
    def single(self) -> bool:
        """Whether the E-step still runs in single precision."""
        return bool(self.onehot32.dtype == np.float32)

    def use_double(self) -> None:
        """Run every later E-step in double precision (a float64 copy of the indicators)."""
        self.onehot32 = self.onehot32.astype(float)

    def pack(self, mu: float, sd: float) -> np.ndarray:
        self.mu, self.sd = mu, sd
        pop = [mu] * self.est_mean + [sd] * self.est_sd
        return np.concatenate([g.eta.ravel() for g in self.state.groups] + [np.array(pop)])

    def unpack(self, vec: np.ndarray) -> tuple[float, float]:
        pos = 0
        for g in self.state.groups:
            g.eta = vec[pos : pos + g.eta.size].reshape(g.eta.shape).copy()
            pos += g.eta.size
        mu = float(vec[pos]) if self.est_mean else self.mu
        sd = float(vec[pos + int(self.est_mean)]) if self.est_sd else self.sd
        return mu, sd

    def admissible(self, vec: np.ndarray) -> bool:
        """Whether an extrapolated vector is inside the model: finite, σ > 0, GRM intercepts
        strictly decreasing."""
        if not np.all(np.isfinite(vec)):
            return False
        if self.est_sd and vec[-1] <= 1e-3:
            return False
        pos = 0
        for g in self.state.groups:
            if g.model == "grm":
                d = vec[pos : pos + g.eta.size].reshape(g.eta.shape)[:, 1:]
                if np.any(np.diff(d, axis=1) >= 0):
                    return False
            pos += g.eta.size
        return True

    def __call__(self, vec: np.ndarray) -> tuple[np.ndarray, float]:
        """(the vector after one EM cycle, the penalised log-likelihood at ``vec``)."""
        mu, sd = self.unpack(vec)
        theta = mu + sd * self.z
        log_probs = self.state.log_probs(theta)
        post32, objective = _posterior(self.onehot32, log_probs, self.log_w)
        r = _expected_counts(self.onehot32, post32, self.state.n_items).astype(float)
        for g in self.state.groups:
            objective += float(mstep.penalty(g.model, g.eta, g.n_cat, self.priors)[0].sum())
            step = mstep.fisher_scoring(
                g.model, g.eta, r[g.items, :, : g.n_cat], theta, g.n_cat, self.priors
            )
            g.eta = step.eta
        if self.est_mean or self.est_sd:
            post = post32.astype(float)
            new_mu = float((post @ theta).mean()) if self.est_mean else mu
            second = float((post @ theta**2).mean())
            new_sd = float(np.sqrt(max(second - new_mu**2, 1e-8))) if self.est_sd else sd
            mu, sd = new_mu, new_sd
        return self.pack(mu, sd), objective


class _State:
    """The current item parameters: free groups' η plus the anchors, as ItemParameters."""

    def __init__(
        self,
        cal: Calibrator,
        ids: list[str],
        models: list[str],
        n_cat: np.ndarray,
        groups: list[_Group],
        anchors: ItemParameters | None,
        anchor_pos: dict[str, int],
        anchored: list[int],
        n_items: int,
        k_max: int,
    ) -> None:
        self.ids, self.models, self.n_cat = ids, models, n_cat
        self.groups, self.anchors, self.anchor_pos, self.anchored = (
            groups,
            anchors,
            anchor_pos,
            anchored,
        )
        self.n_items, self.k_max = n_items, k_max

    def params(self) -> ItemParameters:
        """Reported parameters: a, b (J, M) NaN-padded, c; anchors copied exactly."""
        width = max(1, self.k_max - 1)
        if self.anchors is not None:
            width = max(width, self.anchors.b.shape[1])
        a = np.ones(self.n_items)
        b = np.full((self.n_items, width), np.nan)
        c = np.zeros(self.n_items)
        out_models = ["gpcm" if m == "pcm" else m for m in self.models]
        for g in self.groups:
            ga, gb, gc = mstep.to_reported(g.model, g.eta, g.n_cat)
            a[g.items] = ga
            b[g.items, : g.n_cat - 1] = gb
            c[g.items] = gc
        for j in self.anchored:
            k = self.anchor_pos[self.ids[j]]
            assert self.anchors is not None
            a[j] = self.anchors.a[k]
            c[j] = self.anchors.c[k]
            row = self.anchors.b[k]
            b[j, : row.size] = row
            out_models[j] = self.anchors.models[k]
        return ItemParameters(tuple(self.ids), tuple(out_models), a, b, c)

    def log_probs(self, theta: np.ndarray) -> np.ndarray:
        """log P_jk(θ_q): (J, Q, K)."""
        probs = category_probabilities(self.params(), theta)
        return np.log(np.maximum(probs[:, :, : self.k_max], _TINY))


# -- standard errors ---------------------------------------------------------------------------
def _observed_gradient(
    state: _State,
    onehot: np.ndarray,
    z: np.ndarray,
    log_w: np.ndarray,
    mu: float,
    sd: float,
    est_mean: bool,
    est_sd: bool,
    priors: Priors,
) -> np.ndarray:
    """Gradient (P,) of the penalised marginal log-likelihood in (η of all groups, μ?, σ?), exact
    by Fisher's identity (Louis 1982): Σ_n Σ_q posterior_nq ∂log P(x_n | θ_q)/∂η."""
    theta = mu + sd * z
    n_items = state.n_items
    post, _ = _posterior(onehot, state.log_probs(theta), log_w)
    r_all = _expected_counts(onehot, post, n_items)
    parts: list[np.ndarray] = []
    for g in state.groups:
        u = _log_prob_jacobian(g, theta)
        grad = np.einsum("nqk,nqkp->np", r_all[g.items, :, : g.n_cat], u)
        grad += mstep.penalty(g.model, g.eta, g.n_cat, priors)[1]
        parts.append(grad.ravel())
    if est_mean or est_sd:
        per_node = (onehot @ _by_category(_theta_scores(state, theta))) * post  # (N, Q)
        if est_mean:
            parts.append(np.array([per_node.sum(axis=1).sum()]))
        if est_sd:
            parts.append(np.array([(per_node @ z).sum()]))
    return np.concatenate(parts)


def _log_prob_jacobian(group: _Group, theta: np.ndarray) -> np.ndarray:
    """∂log P_jk(θ_q)/∂η of one group's items at the nodes: (n, Q, K, P)."""
    probs, jac = mstep.probabilities(group.model, group.eta, theta, group.n_cat)
    assert jac is not None
    return jac / np.maximum(probs, _TINY)[..., None]


def _theta_scores(state: _State, theta: np.ndarray) -> np.ndarray:
    """∂log P_jk/∂θ at the nodes: (J, Q, K) (the per-person gradient in μ and σ goes through θ)."""
    probs, dprobs = category_derivatives(state.params(), theta)
    return (dprobs / np.maximum(probs, _TINY))[:, :, : state.k_max]


# persons per block of the cross-product: the block's posterior (B, Q) and gradients (B, P) stay
# a few MB, so that the products run from cache and no (N, items, parameters) array exists
_XPD_BLOCK_CELLS = 2**20


def _crossproduct_information(
    state: _State,
    onehot: np.ndarray,
    z: np.ndarray,
    log_w: np.ndarray,
    mu: float,
    sd: float,
    est_mean: bool,
    est_sd: bool,
) -> np.ndarray:
    """The cross-product information Σ_n g_n g_nᵀ (P, P) of the per-person gradients g_n (P,) of
    the marginal log-likelihood (no priors) in (η of all groups, μ?, σ?).

    onehot: (N, K·J) double-precision indicators from :func:`_one_hot`; z, log_w: (Q,).
    By Fisher's identity g_n = Σ_q posterior_nq Σ_k [x_nj = k] ∂log P_jk(θ_q)/∂η, i.e. for each
    category k one product posterior (N, Q) @ U_k (Q, n·P), masked by the indicators of k.  It
    runs over blocks of persons (a loop over blocks, not persons), adding each block's GᵀG."""
    theta = mu + sd * z
    n_items, n_nodes = state.n_items, z.size
    log_probs = state.log_probs(theta)
    flat = _by_category(log_probs)
    # per group: its columns in the gradient, U (K_g, Q, n·P) and the indicator columns per k
    tables: list[tuple[int, int, int, np.ndarray, list[np.ndarray]]] = []
    pos = 0
    for g in state.groups:
        n, p_ = g.eta.shape
        u = _log_prob_jacobian(g, theta)
        u_k = np.ascontiguousarray(u.transpose(2, 1, 0, 3).reshape(g.n_cat, n_nodes, n * p_))
        cols = [k * n_items + g.items for k in range(g.n_cat)]
        tables.append((pos, n, p_, u_k, cols))
        pos += n * p_
    v_flat = _by_category(_theta_scores(state, theta)) if est_mean or est_sd else None
    n_par = pos + int(est_mean) + int(est_sd)

    n_persons = onehot.shape[0]
    block = max(64, _XPD_BLOCK_CELLS // max(n_par, n_nodes, onehot.shape[1]))
    grad = np.empty((min(block, n_persons), n_par))
    info = np.zeros((n_par, n_par))
    for start in range(0, n_persons, block):
        rows = onehot[start : start + block]
        b = rows.shape[0]
        post, _ = _posterior(rows, log_probs, log_w, flat)
        g_b = grad[:b]
        for at, n, p_, u_k, cols in tables:
            out = g_b[:, at : at + n * p_].reshape(b, n, p_)
            np.multiply((post @ u_k[0]).reshape(b, n, p_), rows[:, cols[0], None], out=out)
            for k in range(1, len(cols)):
                out += (post @ u_k[k]).reshape(b, n, p_) * rows[:, cols[k], None]
        if v_flat is not None:
            per_node = (rows @ v_flat) * post  # (B, Q) Σ_j ∂log P_j,x_nj/∂θ at each node
            col = pos
            if est_mean:
                g_b[:, col] = per_node.sum(axis=1)
                col += 1
            if est_sd:
                g_b[:, col] = per_node @ z
        info += g_b.T @ g_b
    return info


def _standard_errors(
    method: str,
    state: _State,
    onehot: np.ndarray,
    z: np.ndarray,
    log_w: np.ndarray,
    mu: float,
    sd: float,
    est_mean: bool,
    est_sd: bool,
    priors: Priors,
) -> tuple[dict[str, dict[str, Any]], dict[str, float], str]:
    sizes = [g.eta.size for g in state.groups]
    n_pop = int(est_mean) + int(est_sd)
    n_par = sum(sizes) + n_pop

    def unpack(vec: np.ndarray) -> tuple[float, float]:
        pos = 0
        for g, size in zip(state.groups, sizes, strict=True):
            g.eta = vec[pos : pos + size].reshape(g.eta.shape)
            pos += size
        m = vec[pos] if est_mean else mu
        s = vec[pos + int(est_mean)] if est_sd else sd
        return float(m), float(s)

    base = np.concatenate(
        [g.eta.ravel() for g in state.groups]
        + [np.array([mu])[: int(est_mean)], np.array([sd])[: int(est_sd)]]
    )
    if method == "oakes":
        hess = np.zeros((n_par, n_par))
        for p in range(n_par):
            h = 1e-5 * max(1.0, abs(base[p]))
            grads = []
            for sign in (1.0, -1.0):
                vec = base.copy()
                vec[p] += sign * h
                mu_p, sd_p = unpack(vec)
                grads.append(
                    _observed_gradient(
                        state, onehot, z, log_w, mu_p, sd_p, est_mean, est_sd, priors
                    )
                )
            hess[:, p] = (grads[0] - grads[1]) / (2 * h)
        unpack(base)
        info = -(hess + hess.T) / 2
    else:
        unpack(base)
        info = _crossproduct_information(state, onehot, z, log_w, mu, sd, est_mean, est_sd)
        pos = 0
        for grp, size in zip(state.groups, sizes, strict=True):
            # the priors' curvature on each item's diagonal (P, P) block, all items at once
            curv = mstep.penalty(grp.model, grp.eta, grp.n_cat, priors)[2]  # (n, P, P)
            n, p_ = grp.eta.shape
            idx = pos + np.arange(n)[:, None] * p_ + np.arange(p_)[None, :]  # (n, P)
            info[idx[:, :, None], idx[:, None, :]] -= curv
            pos += size
    note = ""
    try:
        cov = np.linalg.inv(info)
        if np.any(np.diag(cov) <= 0):
            raise np.linalg.LinAlgError("information not positive definite")
    except np.linalg.LinAlgError:
        cov = np.full((n_par, n_par), np.nan)
        note = "the information matrix is singular: standard errors are unavailable"
    se: dict[str, dict[str, Any]] = {}
    pos = 0
    for g, size in zip(state.groups, sizes, strict=True):
        n, p_ = g.eta.shape
        a, d, c = mstep.split(g.model, g.eta, g.n_cat)
        ka = mstep.slope_index(g.model)
        dsl = mstep.intercept_slice(g.model, g.n_cat)
        for i in range(n):
            block = cov[pos + i * p_ : pos + (i + 1) * p_, pos + i * p_ : pos + (i + 1) * p_]
            # Jacobian of (a, b_1..b_m, c) with respect to η (delta method)
            m = d.shape[1]
            jac = np.zeros((1 + m + 1, p_))
            if ka is not None:
                jac[0, ka] = 1.0
            for v in range(m):
                jac[1 + v, dsl.start + v] = -1.0 / a[i]
                if ka is not None:
                    jac[1 + v, ka] = d[i, v] / a[i] ** 2
            if g.model == "3pl":
                jac[-1, 2] = c[i] * (1 - c[i])
            var = np.einsum("rp,pq,rq->r", jac, block, jac)
            s = np.sqrt(np.where(var >= 0, var, np.nan))
            sd_d = np.sqrt(np.abs(np.diag(block)))[dsl]
            entry: dict[str, Any] = {}
            if ka is not None:
                entry["a"] = float(s[0])
            if g.model in DICHOTOMOUS:
                entry["b"] = float(s[1])
                entry["d"] = float(sd_d[0])
            else:
                entry["b"] = [float(v) for v in s[1 : 1 + m]]
                entry["d"] = [float(v) for v in sd_d]
            if g.model == "3pl":
                entry["c"] = float(s[-1])
            se[state.ids[int(g.items[i])]] = entry
        pos += size
    pop_se: dict[str, float] = {}
    if est_mean:
        pop_se["mean"] = float(np.sqrt(cov[pos, pos]))
    if est_sd:
        k = pos + int(est_mean)
        pop_se["sd"] = float(np.sqrt(cov[k, k]))
    return se, pop_se, note


def calibrate(
    responses: np.ndarray,
    models: str | Mapping[str, str] = "2pl",
    *,
    item_ids: Sequence[str] | None = None,
    **settings: Any,
) -> CalibrationResult:
    """Calibrate in one call: ``models`` is one model for every item or a mapping item id →
    model (items not in it get "2pl"); other settings as for :class:`Calibrator`."""
    if isinstance(models, str):
        return Calibrator(models, **settings).fit(responses, item_ids)
    return Calibrator("2pl", item_models=dict(models), **settings).fit(responses, item_ids)
