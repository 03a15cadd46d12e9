"""Login cards as PDF: one card per student (name, student id, school and class, the sign-in
password, and how to begin: the test's address and access code when given), bilingual, eight to
an A4 page with cutting lines.  Same engine and fonts as the booklets (:mod:`.render`): the
template ``login_cards.html`` holds the structure, ``login_cards.css`` the layout.

The cards are given as plain values (:class:`CardStudent`), so printing needs no roster tables:
the command line and the web app read the class (:mod:`itembank.orgs.cards`) and pass it here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Protocol

from .render import TEMPLATES, _environment, _pdf

__all__ = ["CardStudent", "LABELS", "login_cards_html", "render_login_cards"]

# Every word of a card, in both languages (a card is read by a student and a parent alike).
LABELS: dict[str, dict[str, str]] = {
    "zh-TW": {
        "title": "全球素養評量 登入卡",
        "name": "姓名",
        "student_id": "學號",
        "school": "學校",
        "class": "班級",
        "password": "密碼",
        "no_password": "請向老師索取密碼",
        "address": "網址",
        "access_code": "測驗代碼",
        "how": "開啟網址，輸入測驗代碼、學號和密碼，再按「開始」。",
        "keep": "請妥善保管這張卡片，不要給別人看密碼。",
    },
    "en": {
        "title": "Global Competence Assessment login card",
        "name": "Name",
        "student_id": "Student ID",
        "school": "School",
        "class": "Class",
        "password": "Password",
        "no_password": "Ask your teacher for your password",
        "address": "Address",
        "access_code": "Access code",
        "how": "Open the address, type the access code, your student ID and password, then Start.",
        "keep": "Keep this card safe and do not show the password to anyone.",
    },
}


class CardStudent(Protocol):
    """What one card prints (``password`` None: it cannot be printed; the card says to ask)."""

    @property
    def name(self) -> str | None: ...
    @property
    def student_id(self) -> str: ...
    @property
    def class_name(self) -> str: ...
    @property
    def school_name(self) -> Mapping[str, str]: ...
    @property
    def password(self) -> str | None: ...


@lru_cache(maxsize=1)
def _css() -> str:
    return (TEMPLATES / "login_cards.css").read_text(encoding="utf-8")


def login_cards_html(
    students: Sequence[CardStudent],
    *,
    language: str = "zh-TW",
    test_title: Mapping[str, str] | None = None,
    address: str | None = None,
    access_code: str | None = None,
) -> str:
    """The cards' HTML; ``language`` is the first of the two languages on each card."""
    first = "en" if language == "en" else "zh-TW"
    second = "zh-TW" if first == "en" else "en"
    template = _environment().get_template("login_cards.html")
    return template.render(
        css=_css(), students=students, first=LABELS[first], second=LABELS[second],
        lang=first, html_lang="en" if first == "en" else "zh-Hant-TW",
        test_name=(test_title or {}).get(first) or LABELS[first]["title"],
        test_title=test_title, first_code=first, second_code=second,
        address=address, access_code=access_code,
    )  # fmt: skip


def render_login_cards(
    students: Sequence[CardStudent],
    *,
    language: str = "zh-TW",
    test_title: Mapping[str, str] | None = None,
    address: str | None = None,
    access_code: str | None = None,
) -> bytes:
    """The login cards as PDF bytes (see :func:`login_cards_html`)."""
    return _pdf(login_cards_html(students, language=language, test_title=test_title,
                                 address=address, access_code=access_code))  # fmt: skip
