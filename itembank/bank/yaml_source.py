"""Read a YAML file into plain Python data, remembering the line and column of every value.

PyYAML's node tree carries marks; we walk it ourselves so that a schema error at
``items[2].options[0].text.en`` can be reported as ``FILE:LINE:COLUMN``.  Duplicate keys, which
PyYAML would silently overwrite, are reported too.

Bounded before anything is built (a few hundred bytes of nested aliases would otherwise grow into
gigabytes): the text is at most ``ITEMBANK_MAX_YAML_BYTES``, holds at most
``ITEMBANK_MAX_YAML_ALIASES`` aliases (``*name``), and the document, with every alias expanded,
at most ``ITEMBANK_MAX_YAML_NODES`` nodes and :data:`MAX_DEPTH` levels.  Each limit is reported
as a problem at its FILE:LINE:COLUMN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from itembank import config
from itembank.errors import Problem

Loc = tuple[str | int, ...]
MAX_DEPTH = 100


@dataclass
class SourceDocument:
    """A parsed YAML document: its data and the (line, column) of each location, 1-based."""

    path: str
    data: Any
    marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def place(self, loc: Loc) -> tuple[int, int]:
        """The line and column of ``loc`` or of its nearest existing ancestor.

        Locations that pass through parts not in the data (a pydantic union tag such as
        ``single_choice``) are matched by skipping those parts.
        """
        matched: Loc = ()
        node = self.data
        for part in loc:
            if isinstance(node, dict) and part in node:
                node = node[part]
                matched = (*matched, part)
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
                matched = (*matched, part)
            # else: a tag or a missing key; stay at the parent
        return self.marks.get(matched, (1, 1))

    def place_of_key(self, loc: Loc) -> tuple[int, int]:
        """Where the key of ``loc`` is written (for 'unknown field' messages)."""
        return self.key_marks.get(loc) or self.place(loc)


class _Loader(yaml.SafeLoader):
    """Safe loading only: no Python objects from YAML tags; aliases counted while composing and
    nodes (aliases expanded) counted while building."""

    max_aliases = 100
    max_nodes = 100_000
    aliases = 0
    nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > self.max_aliases:
                raise LimitError(f"more than {self.max_aliases} aliases (*name) in one document",
                                 self.peek_event().start_mark)
        return super().compose_node(parent, index)


class LimitError(yaml.YAMLError):
    """A YAML document beyond one of the limits; ``mark`` is where it was reached."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message, self.mark = message, mark


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _build(
    node: yaml.Node, loc: Loc, doc: SourceDocument, loader: _Loader, problems: list[Problem]
) -> Any:
    loader.nodes += 1
    if loader.nodes > loader.max_nodes:
        raise LimitError(f"more than {loader.max_nodes} values in one document (aliases expanded)",
                         node.start_mark)
    if len(loc) > MAX_DEPTH:
        raise LimitError(f"nested more than {MAX_DEPTH} levels deep", node.start_mark)
    doc.marks[loc] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                line, col = _mark(key_node)
                problems.append(Problem(doc.path, line, col, "a key must be a plain word, not a list or mapping"))
                continue
            if key in out:
                line, col = _mark(key_node)
                problems.append(
                    Problem(doc.path, line, col, f"key {key!r} appears twice in this mapping; keep one")
                )
                continue
            doc.key_marks[(*loc, key)] = _mark(key_node)
            out[key] = _build(value_node, (*loc, key), doc, loader, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(v, (*loc, i), doc, loader, problems) for i, v in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def read_yaml(path: Path, display: str | None = None) -> tuple[SourceDocument | None, list[Problem]]:
    """Parse ``path``; return the document (None when unreadable) and the problems found."""
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(name, 0, 0, f"cannot read the file: {exc.strerror or exc}")]
    return parse_yaml(raw, name)


def parse_yaml(raw: bytes | str, name: str) -> tuple[SourceDocument | None, list[Problem]]:
    """Parse YAML text (bytes must be UTF-8) as one document."""
    if isinstance(raw, bytes):
        if b"\x00" in raw:
            line = raw[: raw.index(b"\x00")].count(b"\n") + 1
            return None, [Problem(name, line, 1, "binary data, not YAML text; save the unit as UTF-8 YAML")]
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
            return None, [Problem(name, line, col, "not UTF-8 text; save the file with UTF-8 encoding")]
    else:
        text = raw
    if not text.strip():
        return None, [Problem(name, 1, 1, "the file is empty; a unit file holds one YAML mapping (id, title, ...)")]
    settings = config.load()
    if len(text) > settings.max_yaml_bytes:
        return None, [Problem(name, 1, 1, f"the YAML text is {len(text)} characters long; at most "
                                          f"{settings.max_yaml_bytes} are read")]
    try:
        loader = _Loader(text)  # checks for characters YAML does not allow before any parsing
        loader.max_aliases, loader.max_nodes = settings.max_yaml_aliases, settings.max_yaml_nodes
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        return None, [Problem(name, line, col, f"character #x{exc.character:04x} is not allowed in YAML text")]
    problems: list[Problem] = []
    try:
        node = loader.get_single_node()
        if node is None:
            return None, [Problem(name, 1, 1, "the file holds no YAML document; write one mapping")]
        doc = SourceDocument(name, None)
        doc.data = _build(node, (), doc, loader, problems)
    except LimitError as exc:
        line, col = (exc.mark.line + 1, exc.mark.column + 1) if exc.mark else (1, 1)
        return None, [Problem(name, line, col, f"YAML refused: {exc.message}")]
    except RecursionError:
        return None, [Problem(name, 1, 1, f"YAML refused: nested more than {MAX_DEPTH} levels deep")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or "malformed YAML"
        hint = f" ({exc.context})" if exc.context else ""
        return None, [Problem(name, line, col, f"YAML syntax error: {what}{hint}")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, 1, 1, f"YAML error: {exc}")]
    finally:
        loader.dispose()
    return doc, problems
