"""Scored paper answers stored as a research data set (:func:`itembank.research.datasets.upload_dataset`),
recording the printed design they were scored against (``Dataset.printed_design_id``).  Used by the
web app's paper pages and by ``itembank paper-responses --dataset NAME``."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from sqlalchemy.orm import Session

from itembank.bank.responses_csv import ResponseData
from itembank.research.datasets import upload_dataset
from itembank.research.models import Dataset


def responses_csv(data: ResponseData, *, city: str = "", school: str = "", language: str = "",
                  booklets: Mapping[str, str] | None = None) -> str:
    """The scored wide CSV (person_id, background, booklet, items; blank = not administered)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")  # stored, not downloaded: raw values
    writer.writerow(["person_id", "city", "school", "language", "booklet", *data.item_ids])
    for pid, row in zip(data.person_ids, data.scores, strict=True):
        cells = ["" if v != v else str(int(v)) for v in row]  # NaN != NaN: not administered
        writer.writerow([pid, city, school, language, (booklets or {}).get(pid, ""), *cells])
    return out.getvalue()


def booklet_column(answers: bytes) -> dict[str, str]:
    """person_id → booklet, from ANSWERS.csv (already checked by the scoring)."""
    rows = list(csv.reader(io.StringIO(answers.decode("utf-8-sig"))))
    return {r[0].strip(): r[1].strip() for r in rows[1:] if len(r) >= 2}


def store_scored(session: Session, scored: ResponseData, answers: bytes, filename: str, *, name: str,
                 language: str = "", window: str | None = None, city: str = "", school: str = "",
                 created_by: int | None = None, printed_design_id: int | None = None) -> Dataset:
    """Store ``scored`` (the scores of the ANSWERS.csv bytes ``answers``) as a data set, in the
    caller's transaction; ``printed_design_id``: the printed design the answers were scored against."""
    text = responses_csv(scored, city=city, school=school, language=language,
                         booklets=booklet_column(answers))
    dataset = upload_dataset(session, text.encode(), filename, name=name, window=window,
                             created_by=created_by)
    dataset.printed_design_id = printed_design_id
    session.flush()
    return dataset
