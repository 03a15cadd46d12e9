"""Translatable names of the bank's codes (dimensions, domains, types, statuses, workflow steps)
and the translation of the workflow service's messages for the pages."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..roles import ROLE_NAMES

DIMENSIONS = {
    "examine_issues": _l("Examine local, global and intercultural issues"),
    "understand_perspectives": _l("Understand and appreciate perspectives"),
    "intercultural_interaction": _l("Engage in intercultural interactions"),
    "take_action": _l("Take action for collective well-being"),
}
DOMAINS = {
    "culture": _l("Culture and intercultural relations"),
    "socio_economic": _l("Socio-economic development"),
    "environment": _l("Environmental sustainability"),
    "institutions": _l("Institutions, conflicts and human rights"),
}
PROCESSES = {
    "evaluate_information": _l("Evaluate information and arguments"),
    "analyse_perspectives": _l("Analyse multiple perspectives"),
    "understand_communication": _l("Understand differences in communication"),
    "evaluate_actions": _l("Evaluate actions and consequences"),
}
GRADE_BANDS = {"junior_high": _l("Junior high school"), "senior_high": _l("Senior high school")}
ITEM_TYPES = {
    "single_choice": _l("Single choice"),
    "multiple_choice": _l("Multiple choice (all that apply)"),
    "complex_choice": _l("Table of statements"),
    "short_response": _l("Short answer"),
    "open_response": _l("Open response (coded)"),
    "order": _l("Put in order"),
}
CREDITS = {"full": _l("full credit"), "partial": _l("partial credit"), "none": _l("no credit"),
           "missing": _l("missing")}
STATUSES = {"draft": _l("draft"), "review": _l("in review"), "approved": _l("approved"), "retired": _l("retired"),
            "released": _l("released for practice")}
ACTIONS = {
    "create": _l("created"), "edit": _l("edited"), "submit": _l("submitted for review"),
    "approve": _l("approved"), "return": _l("returned to the author"), "retire": _l("retired"),
    "release": _l("released for practice"),
    "comment": _l("commented"), "verify": _l("verified a translation"), "import": _l("imported"),
}
ROLES = ROLE_NAMES
LANGUAGE_NAMES = {"zh-TW": _l("Traditional Chinese"), "en": _l("English")}
STEP_DONE = {
    "submit": _l("Submitted for review."), "approve": _l("Approved: this version is now in use."),
    "return": _l("Returned to the author."), "retire": _l("Retired."),
    "release": _l("Released: practice tests may now show its keys and rationales."), "comment": _l("Comment added."),
}

_WORKFLOW = [
    ("may not", _l("Your role does not allow this step.")),
    ("other than its author", _l("You wrote this version; a reviewer other than its author must approve it.")),
    ("still need verification", _l("Some translations still need verification by a translator.")),
    ("texts only", _l("A translator may change texts only; ids, keys, scoring and structure stay as they are.")),
    ("only a draft", _l("Only a draft can be submitted for review.")),
    ("can be approved", _l("Only a version in review can be approved.")),
    ("can be returned", _l("Only a version in review can be returned.")),
    ("can be retired", _l("Only an approved version can be retired.")),
    ("can be released", _l("Only a retired version can be released.")),
    ("released for practice: its keys are public", _l("This unit is released for practice: its keys are public, so it is never edited again. Write a new unit with new item ids instead.")),
    ("what the author should change", _l("Say in a comment what the author should change.")),
    ("comment is empty", _l("The comment is empty.")),
    ("already", _l("This check is already closed.")),
    ("belongs to unit", _l("This item id belongs to another unit; give the item a new id.")),
    ("no uploaded image", _l("This image was never uploaded; upload it with the form.")),
]
_UPLOAD = [
    ("unsupported image type", _l("This kind of file is not accepted; use PNG, JPEG, GIF, WebP or SVG.")),
    ("larger than", _l("The image is larger than 5 MB; make it smaller.")),
    ("empty", _l("The file is empty.")),
    ("SVG", _l("This SVG is refused: it contains scripts, links or embedded content.")),
    ("not a", _l("The file's content does not match its type.")),
]


def _match(table: list[tuple[str, object]], message: str) -> str:
    for needle, text in table:
        if needle in message:
            return str(text)
    return message


def workflow_message(message: str) -> str:
    return _match(_WORKFLOW, message)


def upload_message(message: str) -> str:
    if "SVG" in message and "not well-formed" in message:
        return _("The SVG file is not well-formed.")
    return _match(_UPLOAD, message)
