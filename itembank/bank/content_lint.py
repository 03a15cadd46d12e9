"""The content lint: what a careful bilingual copy editor notices in a unit's texts, as warnings
with their FILE:LINE:COLUMN (``itembank validate`` prints them; ``--strict`` makes them errors).

Rules (docs/item-format.md, "Content lint"); each has a code that names it in the message:
- ``space-after-fullwidth``: a space after full-width punctuation in Chinese (「理由， 以及」);
- ``halfwidth-in-chinese``: half-width , ; : ? ! ( ) between Chinese characters (「(1)」「:」);
- ``curly-quotes``: “ ” ‘ ’ in zh-TW, where Taiwan writes 「」 and 『』;
- ``tai``: 台 where the bank writes 臺 (臺灣, 新臺幣, 三臺車); proper names in ``TAI_NAMES`` keep 台;
- ``english-punctuation``: a chat tilde ("See you~") or full-width punctuation in English;
- ``length-ratio``: an English text longer than its Chinese would make it, often a sentence the
  Chinese lacks: more English sentences than Chinese ones at more than ``SENTENCE_RATIO`` English
  words per Chinese character, or more than ``MAX_LENGTH_RATIO`` words per character at all (in the
  demo bank the median is 0.68 and the 99.5th percentile 1.08, over 1,295 texts of 12 or more
  Chinese characters);
- ``romanisation``: one given name written with two surnames or two honorific styles in a unit
  ("Chang Jia-Wei" and "Zhang Jia-Wei"; "Mr Chen" and "Mr. Chen").
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from itembank.errors import Problem

from .yaml_source import Loc, SourceDocument, read_yaml

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
FULLWIDTH_PUNCT = "，。、；：？！）」』】》"
TAI_NAMES = ("台積電",)  # proper names written with 台 by their owners
MAX_LENGTH_RATIO = 1.2  # English words per Chinese character
SENTENCE_RATIO = 0.9
MIN_CHINESE_FOR_RATIO = 12

_SPACE_AFTER = re.compile(rf"[{FULLWIDTH_PUNCT}][ \t\u3000]+(?=\S)")
_HALFWIDTH = re.compile(
    rf"(?<=[{CJK}{FULLWIDTH_PUNCT}「（])[ ]?[,;:?!()]|[,;:?!()](?=[ ]?[{CJK}「（])"
)
_CURLY = re.compile("[\u201c\u201d\u2018\u2019]")
_TAI = re.compile("台")
_TILDE = re.compile(r"~(?=\s|$|[\"'”’)*])")
_EN_FULLWIDTH = re.compile(rf"(?<![{CJK}「」])[，。；：？！](?![{CJK}」])")
_ZH_SENTENCE = re.compile("[。？！]")
# a sentence ends at . ? ! before a capital letter or the end ("a.m. on" and "e.g. the" do not)
_EN_SENTENCE = re.compile(r"(?<!\b[A-Za-z])[.?!](?=\s+[\"“*(]*[A-Z]|[\"”*)]*\s*$)")
_EN_WORD = re.compile(r"[A-Za-z]+")
_NAME = re.compile(r"\b(Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Prof\.?)?\s?\b([A-Z][a-z]+)\s([A-Z][a-z]+-[A-Z]?[a-z]+)\b")
_HONORIFIC = re.compile(r"\b(Mr|Mrs|Ms|Dr|Prof)(\.?)\s([A-Z][a-z]+)\b")
_MARKDOWN_LINK = re.compile(r"\]\([^)]*\)")


def local_texts(data: Any, loc: Loc = ()) -> Iterator[tuple[Loc, dict[str, str]]]:
    """Every ``{zh-TW, en}`` text of a unit document with its location."""
    if isinstance(data, dict):
        if isinstance(data.get("zh-TW"), str) and isinstance(data.get("en"), str):
            yield loc, data
            return
        for key, value in data.items():
            yield from local_texts(value, (*loc, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from local_texts(value, (*loc, i))


def _where(doc: SourceDocument, loc: Loc, text: str, offset: int) -> tuple[int, int]:
    """The line and column of ``text[offset]``, for a value written at ``loc`` (a block scalar's
    text starts on the line after its ``|`` indicator, indented two past its key)."""
    line, col = doc.place(loc)
    before = text[:offset]
    if "\n" in text:
        key_col = doc.place_of_key(loc)[1]
        return line + 1 + before.count("\n"), key_col + 2 + offset - (before.rfind("\n") + 1)
    return line, col + offset


def _path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def lint_text(zh: str, en: str) -> list[tuple[str, str, int, str]]:
    """The findings of one text pair: (language, rule, offset, message)."""
    found: list[tuple[str, str, int, str]] = []
    for m in _SPACE_AFTER.finditer(zh):
        found.append(("zh-TW", "space-after-fullwidth", m.start() + 1,
                      f"a space after 「{m.group(0)[0]}」: full-width punctuation carries its own space"))
    zh_plain = _MARKDOWN_LINK.sub("", zh)
    for m in _HALFWIDTH.finditer(zh_plain):
        mark = m.group(0).strip()
        found.append(("zh-TW", "halfwidth-in-chinese", m.start(),
                      f"half-width 「{mark}」 between Chinese characters; write the full-width form"))
    for m in _CURLY.finditer(zh):
        found.append(("zh-TW", "curly-quotes", m.start(),
                      f"curly quote 「{m.group(0)}」 in zh-TW; Taiwan writes 「」 and 『』"))
    for m in _TAI.finditer(zh):
        if not any(zh.startswith(name, m.start() - name.index("台")) for name in TAI_NAMES if "台" in name):
            found.append(("zh-TW", "tai", m.start(), "「台」: the bank writes 「臺」 (臺灣, 新臺幣, 一臺車)"))
    for m in _TILDE.finditer(en):
        found.append(("en", "english-punctuation", m.start(), "a chat tilde in English; end the sentence with a full stop"))
    for m in _EN_FULLWIDTH.finditer(en):
        found.append(("en", "english-punctuation", m.start(),
                      f"full-width 「{m.group(0)}」 in English; use the half-width mark"))
    zh_chars = len(re.findall(f"[{CJK}]", zh))
    if zh_chars >= MIN_CHINESE_FOR_RATIO:
        ratio = len(_EN_WORD.findall(en)) / zh_chars
        en_sentences = len(_EN_SENTENCE.findall(en))
        zh_sentences = max(len(_ZH_SENTENCE.findall(zh)), 1)
        if ratio > MAX_LENGTH_RATIO or (en_sentences > zh_sentences and ratio > SENTENCE_RATIO):
            found.append(("en", "length-ratio", 0,
                          f"{ratio:.2f} English words per Chinese character and {en_sentences} "
                          f"sentence(s) for {zh_sentences}: does the English say something the "
                          "Chinese does not?"))
    return found


def lint_document(doc: SourceDocument) -> list[Problem]:
    """Warnings of one unit document (``doc.data`` as read from YAML)."""
    problems: list[Problem] = []
    given_names: dict[str, set[str]] = defaultdict(set)
    honorifics: dict[str, set[str]] = defaultdict(set)
    name_place: dict[str, tuple[int, int]] = {}
    for loc, text in local_texts(doc.data):
        zh, en = text["zh-TW"], text["en"]
        for lang, rule, offset, message in lint_text(zh, en):
            value = zh if lang == "zh-TW" else en
            line, col = _where(doc, (*loc, lang), value, offset)
            problems.append(Problem(doc.path, line, col, f"warning [{rule}] {_path((*loc, lang))}: {message}"))
        for m in _NAME.finditer(en):
            given_names[m.group(3)].add(m.group(2))
            name_place.setdefault(m.group(3), _where(doc, (*loc, "en"), en, m.start()))
        for m in _HONORIFIC.finditer(en):
            honorifics[m.group(3)].add(m.group(1) + m.group(2))
            name_place.setdefault(m.group(3), _where(doc, (*loc, "en"), en, m.start()))
    for given, surnames in sorted(given_names.items()):
        if len(surnames) > 1:
            line, col = name_place[given]
            spelled = " and ".join(f"{s} {given}" for s in sorted(surnames))
            problems.append(Problem(doc.path, line, col, f"warning [romanisation]: {spelled} in one unit; "
                                    "write the person's name one way"))
    for surname, styles in sorted(honorifics.items()):
        if len({s.rstrip(".") for s in styles}) == 1 and len(styles) > 1:
            line, col = name_place[surname]
            spelled = " and ".join(f"{s} {surname}" for s in sorted(styles))
            problems.append(Problem(doc.path, line, col, f"warning [romanisation]: {spelled} in one unit; "
                                    "write the title one way (the bank writes Mr, Ms, Dr without a full stop)"))
    return problems


def lint_paths(files: Sequence[Path]) -> list[Problem]:
    """Warnings of every unit file in ``files`` (calibration records have no texts to lint)."""
    problems: list[Problem] = []
    for file in files:
        doc, _ = read_yaml(file, str(file))
        if doc is not None:
            problems.extend(lint_document(doc))
    return sorted(problems)
