"""The unit editor's validation errors as sentences in the page's language that name the field by
its label ("第 1 題的選項 B（中文）不能空白" / "Question 1, option B (Chinese) must not be empty").

One translator, :func:`sentence`, from a schema error (its place, pydantic's error type and
context, see :func:`itembank.bank.validation.schema_errors`) to a sentence; :func:`field_label`
names a place by the labels of the editor.  Messages of the schema's own validators are matched by
their wording; an unknown one is shown after the field's label, so the field is still named.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from babel.lists import format_list
from flask_babel import get_locale, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from itembank.bank.validation import SchemaError

from .labels import CREDITS, DIMENSIONS, DOMAINS, GRADE_BANDS, ITEM_TYPES, PROCESSES

Loc = Sequence[str | int]

LANGUAGE_SUFFIX = ("zh-TW", "en")
CODE_NAMES = {**DIMENSIONS, **DOMAINS, **PROCESSES, **GRADE_BANDS, **ITEM_TYPES, **CREDITS}  # a choice by its label

FIELDS = {
    "id": _l("id"), "title": _l("title"), "metadata": _l("classification"), "dimension": _l("dimension"),
    "content_domain": _l("content domain"), "context": _l("context"), "grade_band": _l("grade band"),
    "estimated_minutes": _l("minutes a student needs"), "author": _l("author or team"), "sdgs": _l("SDGs"),
    "topics": _l("topics"), "stimulus": _l("stimulus"), "items": _l("questions"), "text": _l("text"),
    "src": _l("image file"), "alt": _l("text alternative"), "caption": _l("caption"), "width": _l("width"),
    "columns": _l("columns"), "rows": _l("rows"), "source": _l("source"), "prompt": _l("question text"),
    "process": _l("cognitive process"), "key": _l("key"), "options": _l("options"),
    "statements": _l("statements"), "choices": _l("choices"), "rationale": _l("rationale"),
    "accepted": _l("accepted answers"), "numeric": _l("numeric answer"), "value": _l("value"),
    "tolerance": _l("tolerance"), "coding_guide": _l("coding guide"), "code": _l("code"),
    "credit": _l("credit"), "score": _l("score"), "descriptor": _l("description of the code"),
    "examples": _l("example answers"), "lines": _l("answer lines"), "scoring": _l("scoring rules"),
    "min_correct": _l("right answers needed"), "type": _l("type"), "irt": _l("item parameters"),
    "version": _l("version"), "status": _l("status"), "weights": _l("weights"), "points": _l("points"),
    "upper": _l("highest score"), "also_correct": _l("other correct answers"),
}  # fmt: skip


def _entry(container: str, index: int, node: Any) -> str:
    """One entry of a list by its number or id: "option B", "statement 2", "code 1"."""
    entry_id = node.get("id") if isinstance(node, dict) else None
    if container == "items":
        return _("Question %(n)s", n=index + 1)
    if container == "stimulus":
        return _("stimulus part %(n)s", n=index + 1)
    if container == "options":
        return _("option %(id)s", id=entry_id or index + 1)
    if container == "statements":
        return _("statement %(n)s", n=index + 1)
    if container == "choices":
        return _("choice %(id)s", id=entry_id or index + 1)
    if container == "coding_guide":
        code = node.get("code") if isinstance(node, dict) else None
        return _("code %(code)s", code=code) if code else _("code number %(n)s", n=index + 1)
    if container == "scoring":
        return _("scoring rule %(n)s", n=index + 1)
    if container == "examples":
        return _("example %(n)s", n=index + 1)
    if container == "rows":
        return _("row %(n)s", n=index + 1)
    if container == "columns":
        return _("column %(n)s", n=index + 1)
    return _("entry %(n)s", n=index + 1)


def field_label(loc: Loc, content: Any) -> str:
    """The place ``loc`` (``("items", 0, "options", 1, "text", "zh-TW")``) by the editor's labels:
    "Question 1, option B (Chinese)" / 「第 1 題的選項 B（中文）」."""
    parts: list[str] = []
    language = None
    node: Any = content
    for i, part in enumerate(loc):
        following = loc[i + 1] if i + 1 < len(loc) else None
        previous = loc[i - 1] if i > 0 else None
        child: Any = None
        if isinstance(node, dict) and isinstance(part, str):
            child = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            child = node[part]
        if isinstance(part, int):
            parts.append(_entry(str(previous), part, child))
        elif part in LANGUAGE_SUFFIX and following is None:
            language = part
        elif (part == "metadata" and following is not None) or isinstance(following, int):
            pass  # metadata's fields are named alone; a list is named by its entry
        elif part == "text" and isinstance(previous, int) and loc[i - 2] in ("options", "statements", "choices"):
            pass  # "option B", not "option B, text"
        else:
            parts.append(str(FIELDS.get(part, part)))
        node = child
    label = pgettext("joins the parts of a field's name", ", ").join(parts) if parts else _("the unit")
    label = label[:1].upper() + label[1:]
    if language == "zh-TW":
        return _("%(field)s (Chinese)", field=label)
    if language == "en":
        return _("%(field)s (English)", field=label)
    return label


def _list(values: Sequence[str]) -> str:
    return format_list([str(v) for v in values], style="or", locale=get_locale())


# -- the messages of the schema's own validators (itembank/bank/schema.py), by their wording ------
_CUSTOM: list[tuple[re.Pattern[str], Callable[[re.Match[str], str], str]]] = [
    (re.compile(r"^text is blank"), lambda m, f: _("%(field)s must not be empty.", field=f)),
    (re.compile(r"^\w+ id '?([^']*)'? is used twice"),
     lambda m, f: _("%(field)s: the id %(id)s is used twice; give each a different id.", field=f, id=m.group(1))),
    (re.compile(r"^'([^']*)' is not an option id; use one of (.*)$"),
     lambda m, f: _("%(field)s: %(id)s is not one of the options (%(ids)s).", field=f, id=m.group(1) or "–",
                    ids=m.group(2))),
    (re.compile(r"^'([^']*)' is not a statement id"),
     lambda m, f: _("%(field)s: %(id)s is not one of the statements.", field=f, id=m.group(1))),
    (re.compile(r"^the choice for '([^']*)' is '([^']*)', not a choice id"),
     lambda m, f: _("%(field)s: choose an answer for statement %(id)s.", field=f, id=m.group(1))),
    (re.compile(r"^no choice given for statement\(s\) (.*)$"),
     lambda m, f: _("%(field)s: choose an answer for each statement (%(ids)s).", field=f, ids=m.group(1))),
    (re.compile(r"^list the rules from the highest score down"),
     lambda m, f: _("%(field)s: list the rules from the highest score down, each score once.", field=f)),
    (re.compile(r"^min_correct must decrease"),
     lambda m, f: _("%(field)s: a lower score must need fewer right answers.", field=f)),
    (re.compile(r"^scores must run down to 1"),
     lambda m, f: _("%(field)s: the scores must run down to 1 without gaps (e.g. 2, 1).", field=f)),
    (re.compile(r"^min_correct (\d+) is more than the (\d+)"),
     lambda m, f: _("%(field)s: %(n)s right answers are needed but there are only %(k)s.", field=f,
                    n=m.group(1), k=m.group(2))),
    (re.compile(r"^needs a code with credit '(\w+)'"),
     lambda m, f: _("%(field)s needs a code with %(credit)s.", field=f,
                    credit=str(CREDITS.get(m.group(1), m.group(1))))),
    (re.compile(r"full credit must carry the highest score \((\d+)\)"),
     lambda m, f: _("%(field)s: full credit must carry the highest score (%(n)s).", field=f, n=m.group(1))),
    (re.compile(r"credit '(\w+)' scores 0"),
     lambda m, f: _("%(field)s: %(credit)s scores 0.", field=f, credit=str(CREDITS.get(m.group(1), m.group(1))))),
    (re.compile(r"partial credit must score between 0 and (\d+)"),
     lambda m, f: _("%(field)s: partial credit must score more than 0 and less than %(n)s.", field=f,
                    n=m.group(1))),
    (re.compile(r"give example answers for coders"),
     lambda m, f: _("%(field)s: give example answers for the coders.", field=f)),
    (re.compile(r"^other correct answers need all-or-nothing scoring"),
     lambda m, f: _("%(field)s: other correct answers need all-or-nothing scoring; leave out the scoring rules "
                    "and weights, or the other correct answers.", field=f)),
    (re.compile(r"^an answer chooses at least one option"),
     lambda m, f: _("%(field)s: an answer chooses at least one option.", field=f)),
    (re.compile(r"^this answer is the key or listed before"),
     lambda m, f: _("%(field)s: this answer is the key or is listed already; list each answer once.", field=f)),
    (re.compile(r"^an item scores by scoring rules or by weights, not both"),
     lambda m, f: _("%(field)s: score by scoring rules or by weights, not both; leave one out.", field=f)),
    (re.compile(r"^the choice '([^']*)' of '([^']*)' is not a choice id; use one of (.*)$"),
     lambda m, f: _("%(field)s: %(id)s is not one of the choices (%(ids)s).", field=f, id=m.group(1),
                    ids=m.group(3))),
    (re.compile(r"^(\d+) is not below the best answer's (\d+) points"),
     lambda m, f: _("%(field)s: %(n)s is not below the best answer's %(k)s points; leave the highest score "
                    "empty.", field=f, n=m.group(1), k=m.group(2))),
    (re.compile(r"^no answer scores a point"),
     lambda m, f: _("%(field)s: no answer scores a point; give the parts of the key positive points.", field=f)),
    (re.compile(r"^no answer scores ([\d, ]+) of 0\.\.(\d+)"),
     lambda m, f: _("%(field)s: no answer scores %(scores)s of 0 to %(top)s; every score from 0 to the highest "
                    "must be possible (e.g. 1 point per part of the key).", field=f, scores=m.group(1),
                    top=m.group(2))),
    (re.compile(r"^the key scores (-?\d+) but the best answer scores (\d+)"),
     lambda m, f: _("%(field)s: the key scores %(n)s but the best answer scores %(k)s; make the key the best "
                    "answer.", field=f, n=m.group(1), k=m.group(2))),
    (re.compile(r"^SDG (-?\d+) does not exist"),
     lambda m, f: _("%(field)s: there is no SDG %(n)s; the SDGs are numbered 1 to 17.", field=f, n=m.group(1))),
    (re.compile(r"row (\d+) has (\d+) cells but the table has (\d+) columns"),
     lambda m, f: _("%(field)s has %(n)s cells but the table has %(k)s columns.", field=f, n=m.group(2),
                    k=m.group(3))),
]


def sentence(error: SchemaError, content: Any) -> str:
    """The error as a sentence naming its field, in the page's language."""
    field = field_label(error.loc, content)
    kind, ctx, last = error.kind, error.ctx, (error.loc[-1] if error.loc else None)
    is_list = kind in ("too_short", "too_long")  # pydantic's string_too_short is for texts
    if last == "key" and kind in ("missing", "string_too_short", "string_pattern_mismatch", "too_short"):
        return _("%(field)s: choose the right answer.", field=field_label(error.loc[:-1], content))
    if kind == "missing" or kind == "string_too_short" and ctx.get("min_length") == 1:
        return _("%(field)s must not be empty.", field=field)
    if kind == "string_too_short":
        return _("%(field)s needs at least %(n)s characters.", field=field, n=ctx.get("min_length"))
    if kind == "string_too_long":
        return _("%(field)s may have at most %(n)s characters.", field=field, n=ctx.get("max_length"))
    if is_list and kind == "too_short":
        return _("%(field)s: at least %(n)s needed.", field=field, n=ctx.get("min_length"))
    if is_list and kind == "too_long":
        return _("%(field)s: at most %(n)s allowed.", field=field, n=ctx.get("max_length"))
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("%(field)s must be a whole number.", field=field)
    if kind in ("float_parsing", "float_type", "finite_number"):
        return _("%(field)s must be a number.", field=field)
    limits = {"greater_than_equal": _l("%(field)s must be at least %(n)s."),
              "greater_than": _l("%(field)s must be more than %(n)s."),
              "less_than_equal": _l("%(field)s must be at most %(n)s."),
              "less_than": _l("%(field)s must be less than %(n)s.")}  # fmt: skip
    if kind in limits:
        bound = next((ctx[k] for k in ("ge", "gt", "le", "lt") if k in ctx), "")
        return str(limits[kind]) % {"field": field, "n": bound}
    if kind in ("literal_error", "enum"):
        expected = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        names = [str(CODE_NAMES.get(code, code)) for code in expected]
        return _("%(field)s must be one of %(values)s.", field=field, values=_list(names))
    if kind == "string_pattern_mismatch":
        return _("%(field)s may hold only letters, digits, dots, hyphens and underscores, starting with a "
                 "letter or digit.", field=field)
    if kind == "extra_forbidden":
        return _("%(field)s is not a field of a unit.", field=field)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _("%(field)s: choose a type.", field=field)
    if kind in ("model_type", "dict_type", "list_type", "string_type", "model_attributes_type"):
        return _("%(field)s holds the wrong kind of value.", field=field)
    if kind == "value_error":
        for pattern, make in _CUSTOM:
            match = pattern.search(error.message)
            if match:
                return make(match, field)
    return _("%(field)s: %(problem)s", field=field, problem=error.message)


# -- the YAML reader's messages (itembank/bank/yaml_source.py), by their wording ------------------
_SOURCE: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^the file is empty"),
     lambda m: _("The text is empty; write the unit as one YAML mapping (id, title, metadata, stimulus, items).")),
    (re.compile(r"^the file holds no YAML document"),
     lambda m: _("The text holds no YAML; write the unit as one YAML mapping (id, title, metadata, stimulus, items).")),
    (re.compile(r"^a unit file holds one mapping"),
     lambda m: _("A unit is one YAML mapping (id, title, metadata, stimulus, items), not a list or a single value.")),
    (re.compile(r"^key '([^']*)' appears twice"),
     lambda m: _("The key %(key)s appears twice in this mapping; keep one.", key=m.group(1))),
    (re.compile(r"^a key must be a plain word"), lambda m: _("A key must be a plain word, not a list or mapping.")),
    (re.compile(r"^YAML syntax error: (.*)$"),
     lambda m: _("The YAML is not well-formed here (%(detail)s).", detail=m.group(1))),
    (re.compile(r"^the YAML text is (\d+) characters long"),
     lambda m: _("The YAML text is too long (%(n)s characters).", n=m.group(1))),
]


def source_message(message: str) -> str:
    """A message of the YAML reader in the page's language (unknown ones as they are)."""
    for pattern, make in _SOURCE:
        match = pattern.search(message)
        if match:
            return make(match)
    return message
