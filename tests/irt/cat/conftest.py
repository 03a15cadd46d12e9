"""Fixtures for the CAT tests."""

from __future__ import annotations

import pytest
from cat_banks import two_pl, unit_bank

from irt.cat import CatBank


@pytest.fixture(scope="session")
def bank300() -> CatBank:
    return CatBank.build(two_pl(300, 11))


@pytest.fixture(scope="session")
def units_bank() -> CatBank:
    return unit_bank(120, 5, open_every=3)
