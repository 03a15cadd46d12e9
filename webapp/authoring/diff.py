"""Side-by-side differences between two versions of a unit, line by line over their canonical YAML
(:func:`itembank.bank.yaml_export.unit_yaml`): rows for an HTML table whose cells the template escapes."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class DiffRow:
    kind: str  # "same", "changed", "added", "removed", "skip"
    left_no: int | None
    left: str
    right_no: int | None
    right: str


def side_by_side(left: str, right: str, context: int = 3) -> list[DiffRow]:
    a, b = left.splitlines(), right.splitlines()
    rows: list[DiffRow] = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        if rows:
            rows.append(DiffRow("skip", None, "", None, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [DiffRow("same", i + 1, a[i], j + 1, b[j]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
            elif tag == "replace":
                n = max(i2 - i1, j2 - j1)
                for k in range(n):
                    i, j = i1 + k, j1 + k
                    rows.append(DiffRow("changed", i + 1 if i < i2 else None, a[i] if i < i2 else "",
                                        j + 1 if j < j2 else None, b[j] if j < j2 else ""))
            elif tag == "delete":
                rows += [DiffRow("removed", i + 1, a[i], None, "") for i in range(i1, i2)]
            elif tag == "insert":
                rows += [DiffRow("added", None, "", j + 1, b[j]) for j in range(j1, j2)]
    return rows
