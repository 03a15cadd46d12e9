"""Replicate weights for complex samples: paired jackknife (JK2), balanced repeated replication
with Fay's factor (BRR-Fay), and random-group jackknife for simple random samples.

A replicate design is the (N, G) matrix of replicate weights and the (G,) variance factors c_g,
so that for any statistic t the sampling variance is

    V(t) = Σ_g c_g (t_g − t)²                                           (1)

with t computed once with the final weights and t_g once with each replicate weight.

- JK2 (TIMSS/PIRLS; Foy & LaRoche, TIMSS 2019 Technical Report ch. 14): the PSUs (schools) of
  each stratum are paired in sorted order into zones; each zone makes one replicate in which the
  first school's weights are doubled and the second's set to zero, all other schools unchanged;
  c_g = 1 (the sum of squared deviations).  A stratum with an odd number of schools ends in a
  zone of three, handled as a JKn zone (Wolter 2007, §4.5): three replicates, each dropping one
  school and multiplying the other two by 3/2, c_g = (3 − 1)/3.
- BRR-Fay (PISA; OECD, PISA 2018 Technical Report ch. 8; Fay 1989; Judkins 1990): zones as for
  JK2; replicate r gives the first school of zone h the factor 1 + (1 − k)·H[r, h + 1] and the
  second 1 − (1 − k)·H[r, h + 1], with H a Hadamard matrix of order G ≥ zones + 1 (G = 80 as in
  PISA while there are at most 79 zones) and k = 0.5; c_g = 1/(G(1 − k)²).  A zone of three gets
  1 ± (1 − k)√2 for its first school and 1 ∓ (1 − k)/√2 for the other two (PISA's 1.7071 and
  0.6464 for k = 0.5).
- Random groups (Kott 2001, the delete-a-group jackknife): without a design, students are put in
  G random groups and each replicate drops one group (weights of the others × G/(G−1)),
  c_g = (G − 1)/G: the variance of simple random sampling for any statistic.

Everything is vectorised over students; the loops run over zones or replicates only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METHODS = ("jk2", "brr-fay")
FAY_K = 0.5
PISA_REPLICATES = 80


class SurveyDesignError(ValueError):
    """A design that cannot give replicates (a stratum with one PSU, bad weights, ...)."""


@dataclass(frozen=True)
class ReplicateDesign:
    """Final weights (N,), replicate weights (N, G), variance factors (G,) as in (1), the method
    ("jk2", "brr-fay", "srs-groups" or "given") and whether the variance assumes simple random
    sampling."""

    weights: np.ndarray
    replicate_weights: np.ndarray
    factors: np.ndarray
    method: str
    srs: bool = False

    @property
    def n_replicates(self) -> int:
        return int(self.replicate_weights.shape[1])

    def all_weights(self) -> np.ndarray:
        """(N, 1 + G): the final weight, then the replicates."""
        return np.column_stack([self.weights, self.replicate_weights])

    def subset(self, rows: np.ndarray) -> ReplicateDesign:
        """The design restricted to ``rows`` (a boolean (N,) mask or indices): a subpopulation
        keeps every replicate (domain estimation)."""
        return ReplicateDesign(
            self.weights[rows], self.replicate_weights[rows], self.factors, self.method, self.srs
        )


def _check_weights(weights: np.ndarray | None, n: int) -> np.ndarray:
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise SurveyDesignError(f"weights must have one value per student ({n}), got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise SurveyDesignError("weights must be finite and ≥ 0")
    if not w.sum() > 0:
        raise SurveyDesignError("the weights sum to zero")
    return w


def zones(stratum: np.ndarray, psu: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Pair the PSUs of each stratum, in sorted order, into zones of two (three for the last zone
    of a stratum with an odd number of PSUs).

    stratum, psu: (N,) labels.  Returns zone (N,) 0-based zone of each student, member (N,) the
    PSU's 0-based position in its zone (0, 1 or 2), and the number of zones.  A stratum with a
    single PSU gives no variance estimate: :class:`SurveyDesignError` naming it.
    """
    stratum = np.asarray(stratum)
    psu = np.asarray(psu)
    if stratum.shape != psu.shape or stratum.ndim != 1:
        raise SurveyDesignError("stratum and psu must be (N,) arrays of equal length")
    # one row per distinct (stratum, psu), sorted by stratum then psu
    # formats=None is the default; numpy's stubs only accept names= next to an explicit formats=
    keys = np.rec.fromarrays([stratum.astype(str), psu.astype(str)], formats=None, names="s,p")
    units, unit_of = np.unique(keys, return_inverse=True)
    strata, first, counts = np.unique(units["s"], return_index=True, return_counts=True)
    single = strata[counts < 2]
    if single.size:
        raise SurveyDesignError(
            f"stratum {str(single[0])!r} has one PSU: no variance can be estimated within it "
            "(collapse it with a similar stratum)"
        )
    pos = np.arange(units.size) - np.repeat(first, counts)  # position of the PSU in its stratum
    n_pairs = counts // 2
    in_stratum_zone = np.minimum(pos // 2, np.repeat(n_pairs - 1, counts))
    member = pos - 2 * in_stratum_zone
    zone_offset = np.concatenate([[0], np.cumsum(n_pairs)[:-1]])
    unit_zone = np.repeat(zone_offset, counts) + in_stratum_zone
    return unit_zone[unit_of.ravel()], member[unit_of.ravel()], int(n_pairs.sum())


def _zone_sizes(zone: np.ndarray, member: np.ndarray, n_zones: int) -> np.ndarray:
    """(n_zones,) number of PSUs (2 or 3) in each zone."""
    size = np.full(n_zones, 2)
    size[np.unique(zone[member == 2])] = 3
    return size


def jk2(
    stratum: np.ndarray, psu: np.ndarray, weights: np.ndarray | None = None
) -> ReplicateDesign:
    """JK2 replicate weights (TIMSS/PIRLS) from the design.  stratum, psu, weights: (N,).

    A zone of two PSUs: one replicate, first PSU × 2, second × 0, c = 1.  A zone of three:
    three JKn replicates (drop one PSU, the others × 3/2), c = 2/3.  Returns G = pairs + 3 ×
    triples replicates."""
    zone, member, n_zones = zones(stratum, psu)
    w = _check_weights(weights, zone.size)
    size = _zone_sizes(zone, member, n_zones)
    n_rep = np.where(size == 2, 1, 3)
    start = np.concatenate([[0], np.cumsum(n_rep)[:-1]])
    g_total = int(n_rep.sum())
    factor = np.ones((zone.size, g_total))
    rows = np.arange(zone.size)
    pair = size[zone] == 2
    # pairs: one replicate column per zone
    col = start[zone]
    factor[rows[pair], col[pair]] = np.where(member[pair] == 0, 2.0, 0.0)
    # triples: three columns; in column start + i, PSU i is dropped, the others × 3/2
    tri = ~pair
    for i in range(3):
        c = start[zone[tri]] + i
        factor[rows[tri], c] = np.where(member[tri] == i, 0.0, 1.5)
    factors = np.where(np.repeat(size, n_rep) == 2, 1.0, 2.0 / 3.0)
    return ReplicateDesign(w, factor * w[:, None], factors, "jk2")


def hadamard(order: int) -> np.ndarray:
    """A Hadamard matrix (±1, H Hᵀ = order·I) of ``order`` = 2^k·(q + 1) with q = 1 or a prime
    q ≡ 3 (mod 4): Paley's construction I for q + 1, then Sylvester doubling (e.g. 80 = 4 × 20,
    20 from q = 19).  Normalised so that the first column is all ones."""
    k, base = 0, order
    while base % 2 == 0 and base > 2:
        if _paley_ok(base - 1):
            break
        base //= 2
        k += 1
    if base in (1, 2):
        h = np.array([[1]]) if base == 1 else np.array([[1, 1], [1, -1]])
    elif _paley_ok(base - 1):
        h = _paley(base - 1)
    else:
        raise SurveyDesignError(f"no Hadamard matrix of order {order} is built here")
    for _ in range(k):
        h = np.block([[h, h], [h, -h]])
    return h * h[:, :1]  # normalise: first column all ones


def _paley_ok(q: int) -> bool:
    return q > 2 and q % 4 == 3 and all(q % d for d in range(2, int(q**0.5) + 1))


def _paley(q: int) -> np.ndarray:
    """Paley I: order q + 1 from the quadratic character of GF(q), q prime ≡ 3 (mod 4)."""
    residues = {(x * x) % q for x in range(1, q)}
    chi = np.array([0] + [1 if x in residues else -1 for x in range(1, q)])
    idx = (np.arange(q)[None, :] - np.arange(q)[:, None]) % q
    jac = chi[idx]  # Jacobsthal matrix, skew-symmetric for q ≡ 3 (mod 4)
    s = np.zeros((q + 1, q + 1), dtype=int)
    s[0, 1:] = 1
    s[1:, 0] = -1
    s[1:, 1:] = jac
    return s + np.eye(q + 1, dtype=int)


def _brr_order(n_zones: int, n_replicates: int | None) -> int:
    if n_replicates is not None:
        if n_replicates < n_zones + 1:
            raise SurveyDesignError(
                f"{n_replicates} BRR replicates cannot balance {n_zones} zones (need > zones)"
            )
        return n_replicates
    order = PISA_REPLICATES
    while order < n_zones + 1:
        order += 4
    while True:
        try:
            hadamard(order)
            return order
        except SurveyDesignError:
            order += 4


def brr_fay(
    stratum: np.ndarray,
    psu: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    k: float = FAY_K,
    n_replicates: int | None = None,
) -> ReplicateDesign:
    """BRR with Fay's factor k (PISA: k = 0.5, 80 replicates).  stratum, psu, weights: (N,).

    Zone h uses column h + 1 of a normalised Hadamard matrix (column 0, all ones, is skipped so
    that every zone is balanced).  c_g = 1/(G(1 − k)²)."""
    if not 0.0 <= k < 1.0:
        raise SurveyDesignError(f"Fay's factor must be in [0, 1), got {k}")
    zone, member, n_zones = zones(stratum, psu)
    w = _check_weights(weights, zone.size)
    g = _brr_order(n_zones, n_replicates)
    h = hadamard(g)[:, 1 : n_zones + 1].astype(float)  # (G, zones)
    size = _zone_sizes(zone, member, n_zones)
    sign = h[:, zone].T  # (N, G)
    triple = size[zone] == 3
    # pair: first +, second −; triple: first × √2, the other two × −1/√2 (Judkins 1990)
    scale = np.where(member == 0, 1.0, -1.0)
    scale = np.where(triple & (member == 0), np.sqrt(2.0), scale)
    scale = np.where(triple & (member > 0), -1.0 / np.sqrt(2.0), scale)
    factor = 1.0 + (1.0 - k) * scale[:, None] * sign
    factors = np.full(g, 1.0 / (g * (1.0 - k) ** 2))
    return ReplicateDesign(w, factor * w[:, None], factors, "brr-fay")


def random_groups(
    weights: np.ndarray | None, n: int, rng: np.random.Generator, *, n_groups: int = 100
) -> ReplicateDesign:
    """The delete-a-group jackknife (Kott 2001) for a sample taken as simple random: G random
    groups of nearly equal size; replicate g drops group g and multiplies the others by
    G/(G − 1); c_g = (G − 1)/G.  ``srs`` is True: these SEs assume simple random sampling."""
    w = _check_weights(weights, n)
    g = max(2, min(int(n_groups), n))
    group = rng.permutation(np.arange(n) % g)
    factor = np.full((n, g), g / (g - 1.0))
    factor[np.arange(n), group] = 0.0
    return ReplicateDesign(w, factor * w[:, None], np.full(g, (g - 1.0) / g), "srs-groups", True)


def given(
    weights: np.ndarray, replicate_weights: np.ndarray, method: str, *, k: float = FAY_K
) -> ReplicateDesign:
    """Replicate weights supplied with the data (N, G), read with the factor of ``method``:
    "jk2" c = 1, "brr-fay" c = 1/(G(1 − k)²)."""
    rep = np.asarray(replicate_weights, dtype=float)
    w = _check_weights(weights, rep.shape[0])
    if rep.ndim != 2 or rep.shape[1] < 2:
        raise SurveyDesignError(f"replicate weights must be (N, G ≥ 2), got {rep.shape}")
    if not np.all(np.isfinite(rep)) or np.any(rep < 0):
        raise SurveyDesignError("replicate weights must be finite and ≥ 0")
    g = rep.shape[1]
    if method == "jk2":
        factors = np.ones(g)
    elif method == "brr-fay":
        factors = np.full(g, 1.0 / (g * (1.0 - k) ** 2))
    else:
        raise SurveyDesignError(f"unknown replicate method {method!r}; use one of {METHODS}")
    return ReplicateDesign(w, rep, factors, method)


def build(
    method: str,
    stratum: np.ndarray,
    psu: np.ndarray,
    weights: np.ndarray | None = None,
) -> ReplicateDesign:
    """:func:`jk2` or :func:`brr_fay` by name."""
    if method == "jk2":
        return jk2(stratum, psu, weights)
    if method == "brr-fay":
        return brr_fay(stratum, psu, weights)
    raise SurveyDesignError(f"unknown replicate method {method!r}; use one of {METHODS}")
