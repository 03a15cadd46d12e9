"""Words for a background job's state on every job page (research runs and reports, booklet sets):
its status, and why it failed, in the reader's language (``Job.failure``; the English detail in
``Job.message`` is shown only as the technical details under it)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from itembank.research.jobs import FAILURES

JOB_LABELS = {"queued": _l("queued"), "running": _l("running"), "done": _l("done"),
              "failed": _l("failed")}  # fmt: skip

FAILURE_TEXTS = {
    "crashed": _l(
        "An unexpected error stopped it on every attempt. Ask the administrator to look at the "
        "technical details below."
    ),
    "worker_lost": _l(
        "The worker stopped responding on every attempt (it was stopped or ran out of memory). "
        "Start it again and repeat."
    ),
    "run_missing": _l("The calibration run was deleted before it could start."),
    "no_responses": _l("The chosen data sets hold no responses. Choose data sets with responses."),
    "calibration_failed": _l(
        "The estimation could not use these data (too few responses for an item, or an item "
        "everyone answered the same way, for example). The technical details below say which."
    ),
    "source_missing": _l("The test or data set of this report no longer exists."),
    "bad_grouping": _l("The data have no such grouping. Choose another grouping."),
    "design_missing": _l("The printed design was deleted."),
    "no_approved_units": _l("The bank has no approved unit to print. Approve units first."),
    "design_invalid": _l(
        "This booklet design cannot be built from the bank (more clusters than units, for "
        "example). Change the number of clusters or positions."
    ),
}
assert set(FAILURE_TEXTS) == set(FAILURES), "every job failure needs its words"
