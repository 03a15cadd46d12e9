"""The bank's make-up in numbers (``itembank stats --json``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy.orm import Session

from .queries import latest_versions, unit_schema
from .schema import LANGUAGES, ItemType, OpenResponse, language_complete

ACTIVE = ("draft", "review", "approved")


def bank_stats(session: Session, statuses: tuple[str, ...] = ACTIVE) -> dict[str, Any]:
    """Counts over the latest version of every unit that is not retired.

    ``languages`` counts items whose every text (the item's own and its unit's stimulus and title)
    is present in that language.
    """
    units = [unit_schema(v) for v in latest_versions(session, statuses)]
    by_type: Counter[str] = Counter({t.value: 0 for t in ItemType})
    by_dimension: Counter[str] = Counter()
    by_domain: Counter[str] = Counter()
    languages: Counter[str] = Counter({lang: 0 for lang in LANGUAGES})
    coded = calibrated = n_items = 0
    for unit in units:
        unit_texts = {lang: language_complete([unit.title, unit.stimulus], lang) for lang in LANGUAGES}
        for item in unit.items:
            n_items += 1
            by_type[str(item.type)] += 1
            by_dimension[str(item.dimension or unit.metadata.dimension)] += 1
            by_domain[str(unit.metadata.content_domain)] += 1
            for lang in LANGUAGES:
                languages[lang] += int(unit_texts[lang] and language_complete(item, lang))
            coded += int(isinstance(item, OpenResponse) and bool(item.coding_guide))
            calibrated += int(item.irt is not None)
    return {
        "units": len(units),
        "items": n_items,
        "by_type": dict(sorted(by_type.items())),
        "by_dimension": dict(sorted(by_dimension.items())),
        "by_domain": dict(sorted(by_domain.items())),
        "languages": dict(sorted(languages.items())),
        "open_items_with_coding_guide": coded,
        "calibrated_items": calibrated,
    }
