"""Disclosure control for published group statistics: which groups of a family of tables may be
shown so that no suppressed group's count or mean — and no set of fewer than the minimum number
of persons the viewer cannot see row by row — can be computed from the groups that are shown.

Every figure a report publishes for a group (its n, its sum = n × mean, its sum of squares, its
count at each level) is a sum over the group's members.  What a viewer can compute from the
published groups of every table she can request for the same persons (a city's total, its
schools, their classes, the breakdowns by gender and language, the trends by window) is exactly
the linear span of their membership vectors, with the persons she sees row by row added as
singletons.  So, on the "atoms" (the persons she cannot see, grouped by the cells they belong to):

1. **Primary suppression**: a group of fewer than ``min_size`` persons is not shown.
2. **Complementary suppression** (Cox 1980; Willenborg & de Waal 2001, ch. 6): while
   (a) a suppressed group's membership vector lies in the span of the published ones (its count
   and mean follow by subtraction, e.g. a school = its city minus the city's other schools), or
   (b) some 0/1 combination of atoms with 1 … ``min_size`` − 1 unseen persons lies in it (e.g.
   two suppressed classes whose school total minus its published classes is a group of three;
   boys minus English speakers when every English speaker is a boy),
   one more published group that the derivation uses is suppressed (the smallest).  (b) is a
   small mixed-integer feasibility problem solved with HiGHS (:func:`scipy.optimize.milp`).

The result is safe against every exact linear derivation from the given tables, is the same for
every table of the family (so two requests cannot be played against each other), and is not
minimal (the choice is greedy).  Limits are in docs/research.md.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Protection", "cells_by", "protect"]


class _Unfinished(Exception):
    """The search for a derivation ran out of time."""


@dataclass(frozen=True)
class Protection:
    """The suppression pattern of a family of cells.  ``sizes``: n of every cell; ``primary``:
    cells under ``min_size``; ``complementary``: cells hidden so that nothing hidden can be
    derived.  A suppressed cell shows neither its figures nor its n."""

    min_size: int
    sizes: Mapping[Any, int]
    primary: frozenset[Any]
    complementary: frozenset[Any]
    complete: bool = True  # False: the search ran out of time and every cell is suppressed

    @property
    def suppressed(self) -> frozenset[Any]:
        return self.primary | self.complementary

    def published(self, key: Hashable) -> bool:
        """Whether cell ``key`` may be shown (an unknown cell never may)."""
        return key in self.sizes and key not in self.primary and key not in self.complementary


def cells_by(
    persons: Sequence[Mapping[str, Any]],
    tables: Iterable[Sequence[str]],
    *,
    person_id: Callable[[int, Mapping[str, Any]], Hashable] = lambda k, _p: k,
    label: Callable[[Any], Any] = lambda v: v,
) -> dict[tuple[tuple[str, ...], tuple[Any, ...]], set[Hashable]]:
    """The cells of ``tables`` over ``persons``: ``{(dims, values): member ids}``; a table is a
    tuple of attribute names (``()`` is everyone, ``("school", "window")`` a two-way table);
    ``label`` maps an attribute's value to the group's label (e.g. missing → "–")."""
    out: dict[tuple[tuple[str, ...], tuple[Any, ...]], set[Hashable]] = {}
    for dims in tables:
        dims = tuple(dims)
        for k, p in enumerate(persons):
            key = (dims, tuple(label(p.get(d)) for d in dims))
            out.setdefault(key, set()).add(person_id(k, p))
    return out


def protect(
    cells: Mapping[Any, Collection[Hashable]],
    *,
    min_size: int,
    known: Collection[Hashable] = (),
    time_limit: float = 20.0,
) -> Protection:
    """The suppression pattern of ``cells`` ({key: member ids}) for a viewer who sees the
    persons ``known`` row by row.  A key ``(table, label)`` names its table (as from
    :func:`cells_by`): the cells of one table are disjoint, and a table whose cells each lie in
    one cell of another (classes in schools, school × window in schools) splits it.  Cells with
    the same members are one cell.  Ties are broken by ``repr`` of the key, so the pattern does
    not depend on the order of ``cells``."""
    minimum = max(1, int(min_size))
    keys = sorted(cells, key=repr)
    members = {key: frozenset(cells[key]) for key in keys}
    sizes = {key: len(members[key]) for key in keys}
    primary = frozenset(key for key in keys if sizes[key] < minimum)
    known_set = frozenset(known)

    same: dict[frozenset[Hashable], list[Any]] = {}
    for key in keys:
        same.setdefault(members[key], []).append(key)
    sets = list(same)  # the distinct cells, each with the keys that name it
    unseen = [len(m - known_set) for m in sets]
    order = sorted(range(len(sets)), key=lambda i: (len(sets[i]), repr(same[sets[i]][0])))
    suppressed = {i for i, m in enumerate(sets) if len(m) < minimum}

    # atoms: unseen persons grouped by the cells they belong to
    signature: dict[Hashable, list[int]] = {}
    for i, m in enumerate(sets):
        for person in m - known_set:
            signature.setdefault(person, []).append(i)
    atom_of: dict[tuple[int, ...], int] = {}
    counts: list[int] = []
    for sig in signature.values():
        j = atom_of.setdefault(tuple(sig), len(atom_of))
        if j == len(counts):
            counts.append(0)
        counts[j] += 1
    a = np.zeros((len(sets), len(atom_of)))
    for cells_of_atom, j in atom_of.items():
        a[list(cells_of_atom), j] = 1.0
    c = np.asarray(counts, float)

    def smallest(candidates: Iterable[int]) -> int | None:
        found = set(candidates)
        return next((i for i in order if i in found), None)

    # 1. the rule of each split (a parent and its children): when a child is hidden and the
    #    parent shown, at least two children are hidden and they hold ≥ min_size unseen persons;
    #    a hidden parent has a hidden child
    #    (the smallest parents first, so that a class is complemented in its school rather
    #    than anywhere in its city)
    splits = sorted(_splits(same, sets), key=lambda s: (len(sets[s[0]]), order.index(s[0])))
    changed = True
    while changed:
        changed = False
        for parent, children in splits:
            hid = [k for k in children if k in suppressed and unseen[k]]
            shown = [k for k in children if k not in suppressed and unseen[k]]
            if parent in suppressed:
                needs = unseen[parent] > 0 and not hid and bool(shown)
            else:
                needs = bool(hid) and (len(hid) == 1 or sum(unseen[k] for k in hid) < minimum)
            if needs:
                extra = smallest(shown)
                suppressed.add(parent if extra is None else extra)
                changed = True
                break

    # 2. the audit over the whole span, until nothing hidden and nothing small can be derived
    while True:
        published = [i for i in range(len(sets)) if i not in suppressed and a[i].any()]
        if not published:
            break
        p = a[published]
        hidden = [i for i in order if i in suppressed and a[i].any()]
        targets = _derivable_cells(p, a[hidden]) if hidden else []
        if not targets and minimum > 1:
            try:
                small = _small_derivable_set(p, c, minimum - 1, time_limit)
            except _Unfinished:
                # nothing is known to be safe: publish nothing rather than guess
                return Protection(minimum, sizes, primary, frozenset(keys) - primary, False)
            targets = [] if small is None else [small]
        if not targets:
            break
        for target in targets:
            y, *_ = np.linalg.lstsq(p.T, target, rcond=None)
            used = [published[t] for t in np.flatnonzero(np.abs(y) > 1e-6)]
            pick = smallest(used)
            if pick is not None:
                suppressed.add(pick)
    hidden_keys = frozenset(key for i in suppressed for key in same[sets[i]])
    return Protection(minimum, sizes, primary, hidden_keys - primary)


def _splits(
    same: Mapping[frozenset[Hashable], list[Any]], sets: Sequence[frozenset[Hashable]]
) -> list[tuple[int, list[int]]]:
    """(parent, children) of every table whose cells split a cell of another table."""
    index = {m: i for i, m in enumerate(sets)}
    tables: dict[Any, list[int]] = {}
    for m, names in same.items():
        for key in names:
            table = key[0] if isinstance(key, tuple) and len(key) == 2 else key
            tables.setdefault(table, []).append(index[m])
    out: list[tuple[int, list[int]]] = []
    for upper, parents in tables.items():
        where = {person: i for i in parents for person in sets[i]}
        for lower, kids in tables.items():
            if lower == upper:
                continue
            inside: dict[int, list[int]] = {}
            for k in kids:
                first = next(iter(sets[k]), None)
                parent = where.get(first)
                if parent is None or not sets[k] <= sets[parent]:
                    break
                inside.setdefault(parent, []).append(k)
            else:
                for parent, children in inside.items():
                    if len(children) > 1 and sum(len(sets[k]) for k in children) == len(sets[parent]):
                        out.append((parent, sorted(set(children))))
    return out


def _row_basis(m: np.ndarray) -> np.ndarray:
    """An orthonormal basis (R, A) of the row space of ``m`` (P, A): rank-revealing QR."""
    from scipy.linalg import qr

    if m.size == 0:
        return np.zeros((0, m.shape[1]))
    q, r, _ = qr(m.T, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int(np.sum(diag > 1e-9 * max(1.0, float(diag[0]))))
    return np.asarray(q[:, :rank].T)


def _derivable_cells(p: np.ndarray, hidden: np.ndarray) -> list[np.ndarray]:
    """The ``hidden`` rows (H, A) that lie in the span of the published rows ``p`` (P, A)."""
    q = _row_basis(p)
    residual = hidden - (hidden @ q.T) @ q
    return [hidden[k] for k in range(hidden.shape[0]) if np.max(np.abs(residual[k])) < 1e-7]


def _rref(m: np.ndarray) -> np.ndarray:
    """The non-zero rows of the reduced row echelon form of ``m`` (Gauss-Jordan, partial
    pivoting)."""
    m = m.astype(float).copy()
    rows, cols = m.shape
    r = 0
    for col in range(cols):
        if r == rows:
            break
        pivot = r + int(np.argmax(np.abs(m[r:, col])))
        if abs(m[pivot, col]) < 1e-9:
            continue
        m[[r, pivot]] = m[[pivot, r]]
        m[r] /= m[r, col]
        others = np.arange(rows) != r
        m[others] -= np.outer(m[others, col], m[r])
        r += 1
    m[np.abs(m) < 1e-12] = 0.0
    return m[:r]


def _small_derivable_set(
    p: np.ndarray, counts: np.ndarray, largest: int, time_limit: float
) -> np.ndarray | None:
    """A 0/1 vector x over the atoms, in the span of the published rows ``p`` (P, A), with
    1 ≤ counts·x ≤ ``largest`` persons; None when there is none.

    A derivable x is constant on atoms that belong to the same published cells ("blocks") and
    is 0 on every block of more than ``largest`` persons; so x lives in the subspace S of the
    span that vanishes on the large blocks, over the small blocks.  In S's reduced row echelon
    basis B (R, S) x = Bᵀw with w = x at the pivots, hence w ∈ {0,1}^R: a pure 0/1 program."""
    from scipy.linalg import null_space
    from scipy.optimize import Bounds, LinearConstraint, milp

    columns: dict[bytes, list[int]] = {}
    for j in range(p.shape[1]):
        if p[:, j].any():
            columns.setdefault(p[:, j].tobytes(), []).append(j)
    blocks = list(columns.values())
    size = np.array([counts[b].sum() for b in blocks])
    small = [k for k in range(len(blocks)) if size[k] <= largest]
    if not small:
        return None
    large = [k for k in range(len(blocks)) if size[k] > largest]
    first = [b[0] for b in blocks]
    ys = null_space(p[:, [first[k] for k in large]].T) if large else np.eye(p.shape[0])
    if ys.shape[1] == 0:
        return None
    basis = _rref((p[:, [first[k] for k in small]].T @ ys).T)
    if basis.shape[0] == 0:
        return None
    n_w, n_x = basis.shape
    result = milp(
        c=np.zeros(n_w + n_x),
        constraints=[
            LinearConstraint(np.hstack([basis.T, -np.eye(n_x)]), -1e-9, 1e-9),  # Bᵀw − x = 0
            LinearConstraint(np.concatenate([np.zeros(n_w), size[small]])[None, :], 1.0,
                             float(largest)),
        ],
        integrality=np.ones(n_w + n_x),
        bounds=Bounds(0.0, 1.0),
        options={"time_limit": time_limit},
    )
    if result.status == 2:  # infeasible: no small set can be derived
        return None
    if result.x is None:
        raise _Unfinished(result.message)
    x = np.zeros(p.shape[1])
    for k, on in zip(small, np.round(result.x[n_w:]), strict=True):
        x[blocks[k]] = on
    return x
