"""Lock-step batch simulation of the CAT: every simulee steps forward at once, one unit per step,
with numpy operations over all simulees still testing (no Python loop over simulees).

It makes the decisions of the per-session engine (:func:`irt.cat.engine.next_step`), rule by rule:

- start θ, eligibility, stopping rules (``max_items`` → ``se`` → no unit fits / none left →
  ``no_information``), the criteria (max-info from the same interpolated θ-grid table, the same
  ``criterion`` function for KL and a-stratified), content balancing (the engine's own
  ``balanced_score``), Sympson–Hetter (lottery draw < K, all eligible units when none is left),
  randomesque (uniformly one of the k best ordered by score then unit index), easy start (one of
  the ``n_easy`` eligible units with the lowest mean b);
- interim EAP (Bock & Mislevy 1982) on the quadrature of :func:`irt.scoring.eap` (61 nodes on
  prior mean ± 6 SD), with each simulee's log-likelihood on the nodes kept and updated by the
  new answers instead of recomputed from all of them: log L_n(θ_q) = Σ_j log P_j(x_nj | θ_q)
  (Lord 1980, local independence); the same terms, so θ̂ agrees with :func:`irt.scoring.eap` to
  rounding (the sum runs in delivery order, not in bank order).  Interim MLE: this EAP, then
  :func:`irt.scoring.mle` for the simulees whose pattern is mixed; MAP: the engine's
  ``interim_estimate``.  Final θ: the engine's ``final_estimate`` (WLE or EAP).

**Random numbers.**  The live engine draws a session's k-th selection from
``default_rng([seed, k])`` and its Sympson–Hetter lotteries from ``default_rng([seed, 0, 1])``;
creating one generator per simulee and step would cost more than the whole step, so the batch
draws all uniforms at once from ``default_rng([seed, 4])`` (:class:`BatchDraws`: ``selection``
(N, S), ``lottery`` (N, U)) and turns the k-th uniform u into one of m choices as ⌊u·m⌋.  The
per-session engine replays a simulee with exactly these draws inside
:func:`irt.cat.draws.fixed_draws` (``draws.session(n)``), which is how the tests compare the two
item by item.  Without exposure control and with a fixed or prior start no random number is used,
and a simulee replays through the live ``next_step`` with its seed unchanged.

Shapes: N simulees, U units, R routing items, Q = 61 EAP nodes, S = most selections a session
can make (min(max_items, units with routing items)).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import scoring
from ..models import DICHOTOMOUS, sample_responses
from .bank import GRID_HIGH, GRID_LOW, GRID_STEP, CatBank
from .config import CatConfig
from .content import balanced_score
from .draws import SessionDraws, pick
from .estimation import (
    EAP_NODES,
    _mixed,
    eap_from_loglik,
    eap_tables,
    final_estimate,
    interim_estimate,
)
from .estimation import TINY as _TINY
from .exposure import exposure_parameters
from .selection import criterion
from .simulator import SimulationResult
from .start import start_theta
from .stopping import REASONS


@dataclass(frozen=True)
class BatchDraws:
    """Every uniform in [0, 1) a batch simulation may use.  selection: (N, S), the k-th column
    for each simulee's k-th unit selection; lottery: (N, U) Sympson–Hetter draws ((N, 0) when the
    configuration does not use them)."""

    selection: np.ndarray
    lottery: np.ndarray

    @classmethod
    def draw(cls, n: int, bank: CatBank, config: CatConfig, rng: np.random.Generator) -> BatchDraws:
        routable = int(np.count_nonzero(bank.unit_routing_count > 0))
        s = max(1, min(config.stopping.max_items, routable))
        selection = rng.random((n, s))
        u = bank.n_units if config.exposure.method == "sympson-hetter" else 0
        return cls(selection, rng.random((n, u)))

    def session(self, n: int) -> SessionDraws:
        """Simulee n's draws, for :func:`irt.cat.draws.fixed_draws`."""
        return SessionDraws(self.selection[n], self.lottery[n])


@dataclass(frozen=True)
class BatchResult(SimulationResult):
    """A :class:`~irt.cat.simulator.SimulationResult` plus the batch's own records.

    unit_order: (N, S) unit indices in delivery order, -1 after the last.  stop_codes: (N,) index
    into :data:`irt.cat.stopping.REASONS`.  draws: the uniforms used.  seconds: wall time of the
    whole simulation (answers drawn, steps, final estimate).  ``answers`` (N, R) holds every
    routing item's drawn score for polytomous banks, and for dichotomous banks only those of the
    items given (NaN elsewhere): the answers are drawn when an item is given."""

    unit_order: np.ndarray
    stop_codes: np.ndarray
    draws: BatchDraws
    seconds: float


def _unit_routing(bank: CatBank) -> np.ndarray:
    """(U, M) routing item indices of each unit, padded with -1 (M = most routing items)."""
    count = bank.unit_routing_count
    width = int(count.max(initial=0))
    out = np.full((bank.n_units, max(width, 1)), -1, dtype=int)
    starts = np.searchsorted(bank.routing_unit, np.arange(bank.n_units), side="left")
    slot = np.arange(bank.params.n_items) - starts[bank.routing_unit]
    out[bank.routing_unit, slot] = np.arange(bank.params.n_items)
    return out


def _interpolate(
    table: np.ndarray, theta: np.ndarray, out: np.ndarray, spare: np.ndarray
) -> np.ndarray:
    """:meth:`CatBank.interpolate` of a (Q, U) table at θ (n,) (same operations, same floats),
    into the first n rows of the preallocated (N, U) ``out`` (returned) using ``spare``."""
    m = theta.size
    pos = (np.clip(theta, GRID_LOW, GRID_HIGH) - GRID_LOW) / GRID_STEP
    lo = np.minimum(pos.astype(int), table.shape[0] - 2)
    w = (pos - lo)[:, None]
    res, upper = out[:m], spare[:m]
    np.take(table, lo, axis=0, out=res)
    res *= 1.0 - w
    np.take(table, lo + 1, axis=0, out=upper)
    upper *= w
    res += upper
    return res


def _randomesque(scores: np.ndarray, k: int, u: np.ndarray) -> np.ndarray:
    """(n,) one of the min(k, allowed) best units per row, ordered by score then index, the
    ⌊u·m⌋-th (irt.cat.exposure.choose).  scores: (n, U), -inf = not allowed; overwritten.

    The k best in that order are k rounds of argmax (the first index among equal maxima) with the
    winner set to -inf: k passes over the units, cheaper than a partition and a sort."""
    n = scores.shape[0]
    rows = np.arange(n)
    kk = min(k, scores.shape[1])
    picks = np.empty((n, kk), dtype=int)
    finite = np.empty((n, kk), bool)
    for j in range(kk):  # rounds over the k best, not over simulees
        col = np.argmax(scores, axis=1)
        picks[:, j] = col
        finite[:, j] = np.isfinite(scores[rows, col])
        scores[rows, col] = -np.inf
    m = np.maximum(finite.sum(axis=1), 1)
    return picks[rows, pick(u, m)]


def _easy(bank: CatBank, config: CatConfig, allowed: np.ndarray, u: np.ndarray) -> np.ndarray:
    """(n,) one of the ``n_easy`` allowed units with the lowest mean b, the ⌊u·m⌋-th in order of
    b then index (irt.cat.start.easy_unit).  allowed: (n, U)."""
    order = np.argsort(bank.unit_b, kind="stable")
    ok = allowed[:, order]
    m = np.minimum(config.start.n_easy, ok.sum(axis=1))
    want = pick(u, m) + 1
    hit = ok & (np.cumsum(ok, axis=1) == want[:, None])
    return order[np.argmax(hit, axis=1)]


def _logistic(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # irt.models._logistic


def _final_wle_dichotomous(
    bank: CatBank, items: np.ndarray, scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Warm's (1989) WLE within [-6, 6] for dichotomous items, each simulee over its own items.

    items: (N, L) routing item indices in delivery order, -1 after the last; scores: (N, L).
    The estimating equation, its terms and the root finder are those of :func:`irt.scoring.wle`
    (d log L/dθ + J/(2I) = 0, J = Σ_j Σ_k P'_jk P''_jk / P_jk with P'' by a central difference of
    step 1e-5, Fisher scoring with the secant slope inside a bisection bracket), on the (N, L)
    layout instead of (N, R) mostly-missing columns; sums run over delivery order, so θ̂ agrees
    with ``scoring.wle`` to rounding.  Returns θ, SE (N,); NaN for a simulee without items."""
    admin = items >= 0
    safe_items = np.where(admin, items, 0)
    a_all = bank.params.a[safe_items]
    b_all = bank.params.b[safe_items, 0]
    c_all = bank.params.c[safe_items]
    x_all = scores == 1

    def terms(rows: np.ndarray, th: np.ndarray, warm: bool) -> tuple[np.ndarray, ...]:
        a, b, c, ok, x = a_all[rows], b_all[rows], c_all[rows], admin[rows], x_all[rows]

        def d1_at(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            star = _logistic(a * (t[:, None] - b))
            return c + (1.0 - c) * star, (1.0 - c) * a * star * (1.0 - star)

        p1, d1 = d1_at(th)
        p0 = 1.0 - p1
        safe0, safe1 = np.maximum(p0, _TINY), np.maximum(p1, _TINY)
        chosen = np.where(x, d1 / safe1, -d1 / safe0)
        score = np.where(ok, chosen, 0.0).sum(axis=1)
        sq = d1**2
        info_j = np.where(p0 > _TINY, sq / safe0, 0.0) + np.where(p1 > _TINY, sq / safe1, 0.0)
        info = np.where(ok, info_j, 0.0).sum(axis=1)
        if not warm:
            return score, info
        h = 1e-5  # irt.scoring._H
        second = (d1_at(th + h)[1] - d1_at(th - h)[1]) / (2 * h)
        prod = d1 * second
        j_j = np.where(p0 > _TINY, prod / safe0, 0.0) + np.where(p1 > _TINY, prod / safe1, 0.0)
        return score, info, np.where(ok, j_j, 0.0).sum(axis=1)

    def fun(rows: np.ndarray, th: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        score, info, j = terms(rows, th, True)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = score + np.where(info > 0, j / (2.0 * info), 0.0)
        return score, -info

    n = items.shape[0]
    theta, se = np.full(n, np.nan), np.full(n, np.nan)
    solve = np.flatnonzero(admin.any(axis=1))
    if solve.size:
        est, interior = scoring._bracketed_root(
            lambda rows, th: fun(solve[rows], th),
            np.full(solve.size, -6.0),
            np.full(solve.size, 6.0),
            np.zeros(solve.size),
            secant=True,
        )
        _, info = terms(solve, est, False)
        with np.errstate(divide="ignore"):
            se[solve] = np.where(interior, 1.0 / np.sqrt(info), np.inf)
        theta[solve] = est
    return theta, se


def simulate_batch(
    bank: CatBank,
    config: CatConfig,
    true_theta: np.ndarray,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> BatchResult:
    """Run the CAT for simulees at ``true_theta`` (N,) in lock-step.

    Answers are those :func:`irt.cat.simulator.simulate` draws (``sample_responses`` with
    ``default_rng([seed, 1])``; for a bank of dichotomous items computed only for the items
    given, from the same uniforms), and the session seeds are the same, so both simulators see
    the same answers; the selection uniforms come from ``default_rng([seed, 4])``.
    ``progress(k)`` is called with the number of simulees that finished in each step."""
    t_start = time.perf_counter()
    true_theta = np.asarray(true_theta, float)
    n = true_theta.size
    seeds = np.random.default_rng([seed, 0]).integers(0, 2**31 - 1, n)
    answer_rng = np.random.default_rng([seed, 1])
    answers: np.ndarray | Callable[[np.ndarray, np.ndarray], np.ndarray]
    if set(bank.params.models) <= DICHOTOMOUS:
        answers = _dichotomous_answers(bank, true_theta, answer_rng)
    else:
        answers = sample_responses(bank.params, true_theta, answer_rng)
    draws = BatchDraws.draw(n, bank, config, np.random.default_rng([seed, 4]))
    result = run_batch(bank, config, answers, draws, progress=progress)
    theta_hat, se_hat, method, lengths, administered, order, codes, sel_seconds, n_sel = result[:9]
    if callable(answers):
        answers = result[9]  # the answers drawn: to the items given, NaN elsewhere
    unit_exposure = administered.mean(axis=0) if n else np.zeros(bank.n_units)
    reasons = np.asarray(REASONS + ("",), dtype=object)[codes].tolist()
    units = [row[row >= 0].tolist() for row in order]  # once, for the report and replays
    return BatchResult(
        true_theta=true_theta,
        theta=theta_hat,
        se=se_hat,
        method=method,
        lengths=lengths,
        units=units,
        reasons=reasons,
        item_exposure=unit_exposure[bank.item_unit],
        unit_exposure=unit_exposure,
        seeds=seeds,
        answers=answers.astype(float),
        selection_seconds=sel_seconds,
        n_selections=n_sel,
        unit_order=order,
        stop_codes=codes,
        draws=draws,
        seconds=time.perf_counter() - t_start,
    )


def _dichotomous_answers(
    bank: CatBank, true_theta: np.ndarray, rng: np.random.Generator
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Answers drawn when an item is given, equal to those of :func:`irt.models.sample_responses`
    with the same generator: the same (R, N) uniforms, and X = 1 iff u > P(X = 0 | θ) computed by
    the same operations; only the items given are computed."""
    u = rng.random((bank.params.n_items, true_theta.size, 1))[:, :, 0]
    a, b, c = bank.params.a, bank.params.b[:, 0], bank.params.c

    def answer(who: np.ndarray, item: np.ndarray) -> np.ndarray:
        star = _logistic(a[item] * (true_theta[who] - b[item]))
        p1 = c[item] + (1.0 - c[item]) * star
        return (u[item, who] > 1.0 - p1).astype(int)

    return answer


def run_batch(
    bank: CatBank,
    config: CatConfig,
    answers: np.ndarray | Callable[[np.ndarray, np.ndarray], np.ndarray],
    draws: BatchDraws,
    progress: Callable[[int], None] | None = None,
) -> tuple[
    np.ndarray, np.ndarray, str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, int,
    np.ndarray,
]:
    """The lock-step loop.  answers: (N, R) integer scores of every routing item, or a function
    (simulees (m,), items (m,)) → (m,) scores called when the items are given.

    Returns final θ (N,), SE (N,), the final method, lengths (N,), administered (N, U) bool,
    unit order (N, S), stop codes (N,), seconds spent stepping, the number of selections and the
    (N, R) routing responses given (NaN elsewhere)."""
    n, n_units = draws.selection.shape[0], bank.n_units
    answer: Callable[[np.ndarray, np.ndarray], np.ndarray]
    if callable(answers):
        answer = answers
    else:
        table = np.asarray(answers).astype(int)
        answer = lambda who, item: table[who, item]  # noqa: E731
    rule, exposure, method = config.stopping, config.exposure, config.estimation.interim
    tables = eap_tables(bank, config.estimation.prior_mean, config.estimation.prior_sd)
    nodes, log_w, logp = tables.nodes, tables.log_weights, tables.log_p
    info_table = bank.unit_information_table
    unit_items = _unit_routing(bank)
    size = bank.unit_size
    routable = bank.unit_routing_count > 0
    sh_k = exposure_parameters(bank, config) if exposure.method == "sympson-hetter" else None
    per_item = config.selection.unit_criterion == "mean"
    easy = config.start.method == "easy"
    need_room = bool(size.max(initial=0) > 1)
    all_routable = bool(routable.all())
    # max-info on the information itself, no content targets, no lotteries, no easy start: the
    # scores are the information with -inf where not eligible, for every active row at once
    plain = (
        config.selection.method == "max-info"
        and not config.content.active
        and sh_k is None
        and not easy
        and (not per_item or not need_room)  # info / 1 == info
    )
    buf = np.empty((n, n_units))
    spare = np.empty((n, n_units))
    last_col = draws.selection.shape[1] - 1

    loglik = np.zeros((n, len(nodes)))
    responses = np.full((n, bank.params.n_items), np.nan)
    given = np.full((n, max(rule.max_items, 1)), -1, dtype=int)  # routing items, delivery order
    n_given = np.zeros(n, dtype=int)
    administered = np.zeros((n, n_units), bool)
    n_items = np.zeros(n, dtype=int)
    n_sel = np.zeros(n, dtype=int)
    order = np.full((n, draws.selection.shape[1]), -1, dtype=int)
    codes = np.full(n, len(REASONS), dtype=int)
    active = np.arange(n)
    selections = 0

    def _deliver(rows: np.ndarray, chosen: np.ndarray, k_sel: np.ndarray) -> None:
        """Give unit chosen[i] to simulee rows[i] (its k_sel[i]-th selection): record it and its
        answers, and add their log-probabilities on the EAP nodes."""
        nonlocal selections
        order[rows, k_sel] = chosen
        administered[rows, chosen] = True
        n_sel[rows] += 1
        n_items[rows] += size[chosen]
        selections += rows.size
        for slot in range(unit_items.shape[1]):  # items within a unit, not simulees
            r = unit_items[chosen, slot]
            has = r >= 0
            who, item = rows[has], r[has]
            x = answer(who, item)
            responses[who, item] = x
            loglik[who] += logp[item, x]
            given[who, n_given[who]] = item
            n_given[who] += 1

    t0 = time.perf_counter()
    while active.size:
        # -- interim θ (engine.routing_theta) -----------------------------------------------
        started = n_sel[active] > 0  # every selected unit has a routing item, so answers exist
        if method == "map":
            theta, se = interim_estimate(bank, config, responses[active])
        else:
            theta, se = eap_from_loglik(loglik[active], log_w, nodes)
            if method == "mle" and started.any():
                cols = np.flatnonzero(~np.all(np.isnan(responses[active]), axis=0))
                resp = responses[active][:, cols]
                mixed = _mixed(bank, responses[active], cols)
                if mixed.any():
                    ml = scoring.mle(bank.params.subset(cols), resp[mixed])
                    theta[mixed], se[mixed] = ml.theta, ml.se
        theta[~started] = start_theta(config, None)
        se[~started] = config.estimation.prior_sd

        # -- stopping (irt.cat.stopping.stop_reasons) ------------------------------------------
        done_items = n_items[active]
        adm = administered[active]
        eligible = ~adm if all_routable else ~adm & routable[None, :]
        if need_room:
            eligible &= size[None, :] <= (rule.max_items - done_items)[:, None]
        info = _interpolate(info_table, theta, buf, spare)
        if plain:  # info ≥ 0, so max(0, best eligible) is the engine's max over where(…, 0)
            np.copyto(info, -np.inf, where=~eligible)
            top = np.argmax(info, axis=1)
            best = np.maximum(info[np.arange(active.size), top], 0.0)
        else:
            best = np.where(eligible, info, 0.0).max(axis=1, initial=0.0)
        reached = done_items >= rule.min_items
        by_se = (
            reached & (done_items > 0) & (se <= rule.se)
            if rule.se is not None
            else np.zeros(active.size, bool)
        )
        none_eligible = ~eligible.any(axis=1)
        units_left = np.zeros(active.size, bool)
        if none_eligible.any():
            units_left[none_eligible] = (~adm[none_eligible] & routable[None, :]).any(axis=1)
        code = np.select(
            [
                done_items >= rule.max_items,
                by_se,
                none_eligible & units_left,
                none_eligible,
                reached & (best < rule.min_information),
            ],
            [0, 1, 0, 2, 3],
            -1,
        )
        stop = code >= 0
        if stop.any():
            codes[active[stop]] = code[stop]
            if progress is not None:
                progress(int(stop.sum()))
        go = ~stop
        rows = active[go]
        if rows.size == 0:
            break
        k_sel = n_sel[rows]
        if plain:  # info holds the scores of every active row
            if exposure.method == "randomesque":
                u_all = draws.selection[active, np.minimum(n_sel[active], last_col)]
                chosen = _randomesque(info, exposure.k, u_all)[go]
            else:
                chosen = top[go]
            _deliver(rows, chosen, k_sel)
            active = rows
            continue
        theta, info, eligible, adm = theta[go], info[go], eligible[go], adm[go]
        u = draws.selection[rows, k_sel]

        # -- exposure control and selection (engine.select) -----------------------------------
        allowed = eligible
        if sh_k is not None:
            allowed = eligible & (draws.lottery[rows] < sh_k[None, :])
            empty = ~allowed.any(axis=1)
            allowed[empty] = eligible[empty]
        chosen = np.empty(rows.size, dtype=int)
        later = (k_sel > 0) if easy else np.ones(rows.size, bool)
        if easy and not later.all():
            first = ~later
            chosen[first] = _easy(bank, config, allowed[first], u[first])
        if later.any():
            if not later.all():
                theta_l, info_l, allowed_l = theta[later], info[later], allowed[later]
                adm_l, items_l, u_l = adm[later], done_items[go][later], u[later]
            else:
                theta_l, info_l, allowed_l, adm_l, items_l, u_l = (
                    theta, info, allowed, adm, done_items[go], u
                )
            if config.selection.method == "max-info":
                crit = info_l / size[None, :] if per_item else info_l
                mask = allowed_l
            else:
                crit, mask = criterion(bank, config, theta_l, items_l, allowed_l)
            scores = balanced_score(bank, config, crit, mask, adm_l, items_l)
            if exposure.method == "randomesque":
                chosen[later] = _randomesque(scores, exposure.k, u_l)
            else:
                chosen[later] = np.argmax(scores, axis=1)

        _deliver(rows, chosen, k_sel)
        active = rows
    seconds = time.perf_counter() - t0
    theta_hat, se_hat, final_method = _final(bank, config, responses, given, loglik)
    return (
        theta_hat, se_hat, final_method, n_items, administered, order, codes, seconds, selections,
        responses,
    )


def _final(
    bank: CatBank,
    config: CatConfig,
    responses: np.ndarray,
    given: np.ndarray,
    loglik: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, str]:
    """The engine's ``final_estimate`` (θ, SE, method), computed on each simulee's own items.

    responses: (N, R) NaN-padded; given: (N, L) routing items in delivery order (-1 padded);
    loglik: (N, Q) interim log-likelihoods on the EAP nodes.  Final EAP is the
    posterior of the kept log-likelihoods (the nodes and prior of ``scoring.eap``); final WLE of a
    bank of dichotomous items uses :func:`_final_wle_dichotomous`; otherwise ``final_estimate``."""
    est = config.estimation
    none = given[:, 0] < 0
    if none.all():
        return final_estimate(bank, config, responses)
    if est.final == "eap":
        nodes, weights = scoring.quadrature(est.prior_mean, est.prior_sd, EAP_NODES)
        theta, se = eap_from_loglik(loglik, np.log(weights), nodes)
        theta[none], se[none] = est.prior_mean, est.prior_sd
        return theta, se, "eap"
    if not set(bank.params.models) <= DICHOTOMOUS:
        return final_estimate(bank, config, responses)
    scores = np.take_along_axis(responses, np.where(given >= 0, given, 0), axis=1)
    theta, se = _final_wle_dichotomous(bank, given, scores)
    theta[none], se[none] = est.prior_mean, est.prior_sd
    return theta, se, "wle"
