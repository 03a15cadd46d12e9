"""Read a JSON file given on the command line, its problems as :class:`DataFileError` naming the
file (and the line and column of a syntax error)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from itembank.errors import DataFileError


def read_json_file(path: str | Path) -> Any:
    """The parsed document of ``path`` (UTF-8, a byte-order mark allowed)."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DataFileError.at(name, 0, 0, f"cannot read the file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise DataFileError.at(name, 0, 0, f"not UTF-8 text ({exc.reason})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFileError.at(name, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}") from exc
