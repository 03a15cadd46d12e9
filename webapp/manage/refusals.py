"""A test's settings refused by the delivery layer (``InvalidRequest.reason``), worded in the
reader's language: the service's own message is English and is never shown on a page."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from itembank.delivery.cat_bank import BankUnavailableError
from itembank.delivery.sessions import InvalidRequest

REASONS = {
    "attempts": _l("A student needs at least one attempt (or any number)."),
    "time_limit": _l("The time limit must be at least 1 minute."),
    "window_order": _l("The test must close after it opens."),
    "items_missing": _l("A fixed or practice test needs its item ids."),
    "pretest_in_fixed_form": _l(
        "Only adaptive tests seed pretest units; a fixed form is given as it is."
    ),
    "practice_questionnaire": _l(
        "A practice test has no questionnaire: practice answers are never research data."
    ),
    "practice_items": _l(
        "A practice test takes items of released units only, and every item must be in the bank."
    ),
}


def refusal_message(exc: InvalidRequest) -> str:
    """The refusal in the reader's language, naming the setting where the service names one."""
    if exc.reason == "cat_config":
        return _(
            "The adaptive settings cannot be used as they are (setting %(field)s); change it and "
            "save again.",
            field=exc.details.get("field", "?"),
        )
    text = REASONS.get(exc.reason or "")
    if text is None:
        return _("These settings cannot be saved; check them and save again.")
    return str(text)


def missing_items_message(exc: BankUnavailableError) -> str:
    """A fixed test's items that the bank cannot give, named in the reader's language."""
    if exc.missing:
        return _("These items are not in an approved unit of the bank: %(items)s",
                 items=", ".join(exc.missing))
    return _("These items cannot be given; check the item ids and save again.")
