"""The item bank as the CAT engine sees it: units of items in delivery order, which items route,
their content attributes, and per-bank precomputed tables (information and log-probabilities on a θ
grid), computed once per bank object and cached on it.

A PISA unit is a shared stimulus with several items.  Selection is by unit; every item of a unit is
delivered, in the unit's order.  Only *routing* items (auto-scored and with IRT parameters) enter θ
estimation and selection; the others (open responses coded later by people, uncalibrated items) are
delivered with their unit and counted in the test length, but never route.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..models import ItemParameters, category_probabilities, item_information

GRID_LOW, GRID_HIGH, GRID_STEP = -6.0, 6.0, 0.05
"""The θ grid of the precomputed tables: 241 nodes; selection interpolates linearly between them."""


class CatBankError(ValueError):
    """A bank the engine cannot use (duplicate ids, a parameter set for an unknown item, ...)."""


@dataclass(frozen=True)
class BankItem:
    """One item of the bank: its id, unit, content attributes and whether it is scored at once.

    ``dimension`` is the global competence dimension, ``domain`` the content domain; either may be
    None.  ``auto_scored`` is False for open responses that people code after the test.
    """

    id: str
    unit: str
    dimension: str | None = None
    domain: str | None = None
    auto_scored: bool = True


@dataclass(frozen=True, eq=False)
class CatBank:
    """A bank for the engine.  Build it with :meth:`build`; it is immutable, hashed by identity, and
    caches its θ-grid tables on itself (build it once per process and reuse it).

    item_ids: (I,) every item, grouped by unit, each unit's items in delivery order.
    item_unit: (I,) unit index of each item.  unit_ids: (U,) in bank order.
    unit_start: (U + 1,) unit u has items ``unit_start[u]:unit_start[u + 1]``.
    routing: (I,) index into ``params`` for routing items, -1 for the others.
    params: parameters of the R routing items, in bank order (so each unit's routing items are
    contiguous).  routing_unit: (R,) unit index of each routing item.
    dimension, domain: (I,) per item, None when absent.
    """

    item_ids: tuple[str, ...]
    item_unit: np.ndarray
    unit_ids: tuple[str, ...]
    unit_start: np.ndarray
    routing: np.ndarray
    params: ItemParameters
    routing_unit: np.ndarray
    dimension: tuple[str | None, ...]
    domain: tuple[str | None, ...]
    item_position: Mapping[str, int] = field(repr=False)
    unit_position: Mapping[str, int] = field(repr=False)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def build(cls, params: ItemParameters, items: Sequence[BankItem] | None = None) -> CatBank:
        """A bank from item parameters and (optionally) the bank's items.

        Without ``items`` every parameterised item is its own unit, with no content attributes.
        With ``items``, units appear in the order of their first item and keep their items in the
        order given; items without parameters or not auto-scored are delivered but do not route.
        Every id in ``params`` must be one of ``items`` (CatBankError otherwise).
        """
        if items is None:
            items = [BankItem(i, i) for i in params.ids]
        seen: set[str] = set()
        by_unit: dict[str, list[BankItem]] = {}
        for item in items:
            if item.id in seen:
                raise CatBankError(f"item {item.id!r} appears twice in the bank")
            seen.add(item.id)
            by_unit.setdefault(item.unit, []).append(item)
        unknown = [i for i in params.ids if i not in seen]
        if unknown:
            raise CatBankError(
                f"{len(unknown)} parameterised item(s) are not in the bank's item list, "
                f"e.g. {unknown[0]!r}; give every item a unit"
            )
        param_pos = {item_id: j for j, item_id in enumerate(params.ids)}
        ordered = [item for unit_items in by_unit.values() for item in unit_items]
        unit_ids = tuple(by_unit)
        sizes = [len(v) for v in by_unit.values()]
        unit_start = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        item_unit = np.repeat(np.arange(len(unit_ids)), sizes)
        routing = np.full(len(ordered), -1, dtype=int)
        route_src: list[int] = []
        for i, item in enumerate(ordered):
            if item.auto_scored and item.id in param_pos:
                routing[i] = len(route_src)
                route_src.append(param_pos[item.id])
        routing_params = params.subset(route_src)
        return cls(
            item_ids=tuple(item.id for item in ordered),
            item_unit=item_unit,
            unit_ids=unit_ids,
            unit_start=unit_start,
            routing=routing,
            params=routing_params,
            routing_unit=item_unit[routing >= 0],
            dimension=tuple(item.dimension for item in ordered),
            domain=tuple(item.domain for item in ordered),
            item_position={item.id: i for i, item in enumerate(ordered)},
            unit_position={u: k for k, u in enumerate(unit_ids)},
        )

    # -- sizes --------------------------------------------------------------------------------
    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_units(self) -> int:
        return len(self.unit_ids)

    @cached_property
    def unit_size(self) -> np.ndarray:
        """(U,) number of items (routing or not) in each unit: what it adds to the test length."""
        return np.diff(self.unit_start)

    @cached_property
    def n_categories(self) -> np.ndarray:
        """(R,) score categories of each routing item (``params.n_categories``, computed once)."""
        return self.params.n_categories

    @cached_property
    def unit_routing_count(self) -> np.ndarray:
        """(U,) number of routing items in each unit."""
        return np.bincount(self.routing_unit, minlength=self.n_units)

    def unit_items(self, u: int) -> tuple[str, ...]:
        """The item ids of unit index ``u`` in delivery order."""
        return self.item_ids[self.unit_start[u] : self.unit_start[u + 1]]

    @cached_property
    def memo(self) -> dict[object, object]:
        """Per-bank results of other modules keyed by their arguments (e.g. strata per S)."""
        return {}

    # -- aggregation of routing-item values to units --------------------------------------------
    @cached_property
    def _routing_starts(self) -> np.ndarray:
        starts = np.searchsorted(self.routing_unit, np.arange(self.n_units), side="left")
        return starts.astype(int)

    def unit_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum routing-item values per unit.  values: (..., R).  Returns (..., U); 0 for units
        without routing items."""
        pad = np.concatenate([values, np.zeros(values.shape[:-1] + (1,))], axis=-1)
        out = np.add.reduceat(pad, self._routing_starts, axis=-1)
        out[..., self.unit_routing_count == 0] = 0.0
        return out

    # -- θ grid tables ----------------------------------------------------------------------------
    @cached_property
    def grid(self) -> np.ndarray:
        """(Q,) the θ nodes of the tables."""
        n = int(round((GRID_HIGH - GRID_LOW) / GRID_STEP)) + 1
        return np.linspace(GRID_LOW, GRID_HIGH, n)

    @cached_property
    def item_information_table(self) -> np.ndarray:
        """(Q, R) Fisher information of each routing item at each grid node."""
        return np.ascontiguousarray(item_information(self.params, self.grid).T)

    @cached_property
    def unit_information_table(self) -> np.ndarray:
        """(Q, U) summed Fisher information of each unit's routing items at each grid node."""
        return np.ascontiguousarray(self.unit_sum(self.item_information_table))

    @cached_property
    def log_probability_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For KL selection: (P, PlogP, cumulative ∫ log P dθ), shapes (Q, R, K), (Q, R),
        (Q, R, K); the integral by the trapezoid rule from the grid's low end, 0 where P = 0."""
        probs = np.transpose(category_probabilities(self.params, self.grid), (1, 0, 2))
        with np.errstate(divide="ignore"):
            logp = np.where(probs > 0, np.log(np.maximum(probs, 1e-300)), 0.0)
        plogp = np.sum(probs * logp, axis=2)
        cum = np.zeros_like(logp)
        cum[1:] = np.cumsum(0.5 * (logp[1:] + logp[:-1]) * GRID_STEP, axis=0)
        return probs, plogp, cum

    @cached_property
    def unit_a(self) -> np.ndarray:
        """(U,) mean discrimination of each unit's routing items (NaN without routing items)."""
        with np.errstate(invalid="ignore"):
            return self.unit_sum(self.params.a) / self.unit_routing_count

    @cached_property
    def unit_b(self) -> np.ndarray:
        """(U,) mean location of each unit's routing items: b for dichotomous items, the mean of
        the thresholds for GRM/GPCM (NaN without routing items)."""
        loc = np.nanmean(self.params.b, axis=1) if self.params.n_items else np.zeros(0)
        with np.errstate(invalid="ignore"):
            return self.unit_sum(loc) / self.unit_routing_count

    def interpolate(self, table: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Linear interpolation of a (Q, X) grid table at θ (N,).  Returns (N, X)."""
        pos = (np.clip(theta, GRID_LOW, GRID_HIGH) - GRID_LOW) / GRID_STEP
        lo = np.minimum(pos.astype(int), len(self.grid) - 2)
        w = (pos - lo)[:, None]
        return table[lo] * (1.0 - w) + table[lo + 1] * w

    # -- content attributes -----------------------------------------------------------------------
    @cached_property
    def content_counts(self) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
        """Per attribute ("dimension", "domain"): the category names and a (U, C) matrix of how
        many items of each category each unit holds (items without the attribute count in none)."""
        out: dict[str, tuple[tuple[str, ...], np.ndarray]] = {}
        for attribute, values in (("dimension", self.dimension), ("domain", self.domain)):
            names = tuple(sorted({v for v in values if v is not None}))
            code = {name: c for c, name in enumerate(names)}
            matrix = np.zeros((self.n_units, len(names)))
            for i, value in enumerate(values):
                if value is not None:
                    matrix[self.item_unit[i], code[value]] += 1
            out[attribute] = (names, matrix)
        return out
