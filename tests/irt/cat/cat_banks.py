"""Bank builders for the CAT tests, from fixed seeds so every figure is reproducible."""

from __future__ import annotations

import numpy as np

from irt.cat import BankItem, CatBank
from irt.models import ItemParameters

DIMENSIONS = ("issues", "perspectives", "interactions", "action")
DOMAINS = ("culture", "environment", "economy")


def two_pl(n: int, seed: int, prefix: str = "i") -> ItemParameters:
    rng = np.random.default_rng(seed)
    return ItemParameters(
        tuple(f"{prefix}{j:04d}" for j in range(n)),
        ("2pl",) * n,
        rng.lognormal(0.1, 0.3, n),
        rng.normal(0.0, 1.0, (n, 1)),
        np.zeros(n),
    )


def mixed(n: int, seed: int) -> ItemParameters:
    """Rasch, 2PL, 3PL, GRM (3 boundaries) and GPCM (2 steps) items in turn."""
    rng = np.random.default_rng(seed)
    records = []
    for j in range(n):
        model = ("rasch", "2pl", "3pl", "grm", "gpcm")[j % 5]
        a = float(rng.lognormal(0.1, 0.3))
        loc = float(rng.normal())
        if model == "grm":
            b: float | list[float] = sorted((loc + rng.normal(0, 0.8, 3)).tolist())
        elif model == "gpcm":
            b = (loc + rng.normal(0, 0.7, 2)).tolist()
        else:
            b = loc
        records.append({"id": f"m{j:03d}", "model": model, "a": a, "b": b, "c": 0.15})
    return ItemParameters.from_records(records)


def unit_bank(n_units: int, seed: int, open_every: int = 0) -> CatBank:
    """Units of 1-4 items with dimensions and domains; with ``open_every`` every such unit's
    last item is an open response (not auto-scored), and unit 0 holds an uncalibrated item."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 5, n_units)
    params = two_pl(int(sizes.sum()), seed, prefix="x")
    items: list[BankItem] = []
    j = 0
    for u, size in enumerate(sizes):
        dim = DIMENSIONS[int(rng.integers(len(DIMENSIONS)))]
        dom = DOMAINS[u % len(DOMAINS)]
        for k in range(size):
            auto = not (open_every and u % open_every == 0 and k == size - 1 and size > 1)
            items.append(BankItem(params.ids[j], f"U{u:03d}", dim, dom, auto))
            j += 1
        if u == 0:
            items.append(BankItem("uncalibrated", "U000", dim, dom, True))
    return CatBank.build(params, items)
