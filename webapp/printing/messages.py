"""The problems of an uploaded ANSWERS.csv or DESIGN.yaml/.csv and of a booklet design, in the page's
language.  The readers (:mod:`itembank.paper.paper_responses`, :mod:`itembank.paper.design`,
:mod:`itembank.delivery.scoring`) write English for the command line; their messages are matched
here by their wording, and one not listed is shown as it is."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext as _

from itembank.errors import Problem

_Make = Callable[[re.Match[str]], str]

_MESSAGES: list[tuple[re.Pattern[str], _Make]] = [
    # ANSWERS.csv
    (re.compile(r"^empty file"), lambda m: _("The file is empty: the first line must be person_id,booklet and the item ids.")),
    (re.compile(r"^the header must start with person_id,booklet"),
     lambda m: _("The first line must start with person_id,booklet.")),
    (re.compile(r"^the design uses unit\(s\) not in the bank: (.*)$"),
     lambda m: _("The design uses units that are not in the bank: %(units)s.", units=m.group(1))),
    (re.compile(r"^column '([^']*)' appears twice"), lambda m: _("The column %(name)s appears twice.", name=m.group(1))),
    (re.compile(r"^'([^']*)' is not an item of the bank"),
     lambda m: _("%(name)s is not an item of the bank.", name=m.group(1))),
    (re.compile(r"^item (\S+) is in no booklet of the design"),
     lambda m: _("Item %(item)s is in no booklet of this design.", item=m.group(1))),
    (re.compile(r"^row has (\d+) fields, the header has (\d+)"),
     lambda m: _("This row has %(n)s cells, the first line has %(k)s.", n=m.group(1), k=m.group(2))),
    (re.compile(r"^empty person_id"), lambda m: _("The person_id is empty.")),
    (re.compile(r"^duplicate person_id '([^']*)' \(first on line (\d+)\)"),
     lambda m: _("The person_id %(id)s appears twice (first on line %(line)s).", id=m.group(1), line=m.group(2))),
    (re.compile(r"^booklet '([^']*)' is not in the design; use one of (.*)$"),
     lambda m: _("Booklet %(booklet)s is not in the design; use one of %(choices)s.", booklet=m.group(1),
                 choices=m.group(2))),
    (re.compile(r"^no column for item (\S+), which is in booklet (\S+) \(line (\d+)\)"),
     lambda m: _("There is no column for item %(item)s, which is in booklet %(booklet)s (line %(line)s).",
                 item=m.group(1), booklet=m.group(2), line=m.group(3))),
    (re.compile(r"^item (\S+) is not in booklet (\S+); leave the cell blank"),
     lambda m: _("Item %(item)s is not in booklet %(booklet)s; leave the cell blank.", item=m.group(1),
                 booklet=m.group(2))),
    (re.compile(r"^not UTF-8 text"), lambda m: _("The file is not UTF-8 text; save it as UTF-8.")),
    (re.compile(r"^cannot read the file"), lambda m: _("The file cannot be read.")),
    (re.compile(r"^the file is larger than 5 MB"), lambda m: _("The file is larger than 5 MB.")),
    # an answer in a cell (the scoring rules of online answers)
    (re.compile(r"^item (\S+): '([^']*)' is not an option; use one of (.*)$"),
     lambda m: _("Item %(item)s: %(answer)s is not an option; use one of %(ids)s.", item=m.group(1),
                 answer=m.group(2), ids=m.group(3))),
    (re.compile(r"^item (\S+): (.*) are not options; use ids from (.*)$"),
     lambda m: _("Item %(item)s: %(answer)s are not options; use one of %(ids)s.", item=m.group(1),
                 answer=m.group(2), ids=m.group(3))),
    (re.compile(r"^item (\S+): an option id is listed twice"),
     lambda m: _("Item %(item)s: an option is listed twice.", item=m.group(1))),
    (re.compile(r"^item (\S+): '([^']*)' is not a statement; use ids from (.*)$"),
     lambda m: _("Item %(item)s: %(answer)s is not a statement; use one of %(ids)s.", item=m.group(1),
                 answer=m.group(2), ids=m.group(3))),
    (re.compile(r"^item (\S+): the answer to '([^']*)' must be one of (.*)$"),
     lambda m: _("Item %(item)s: the answer to %(statement)s must be one of %(ids)s.", item=m.group(1),
                 statement=m.group(2), ids=m.group(3))),
    (re.compile(r"^item (\S+): the answer is longer than (\d+) characters"),
     lambda m: _("Item %(item)s: the answer is longer than %(n)s characters.", item=m.group(1), n=m.group(2))),
    # a design (DESIGN.yaml / DESIGN.csv, or the design page's choices)
    (re.compile(r"^the header must be booklet,position,cluster,units"),
     lambda m: _("The first line must be booklet,position,cluster,units.")),
    (re.compile(r"^expected 4 fields"), lambda m: _("This row needs 4 cells.")),
    (re.compile(r"^booklet and position must be whole numbers"),
     lambda m: _("The booklet and the position must be whole numbers.")),
    (re.compile(r"booklet (\S+) has two clusters in position (\d+)"),
     lambda m: _("Booklet %(booklet)s has two clusters in position %(n)s.", booklet=m.group(1), n=m.group(2))),
    (re.compile(r"^unit (\S+) is in clusters (\S+) and (\S+); a unit belongs to one cluster"),
     lambda m: _("Unit %(unit)s is in clusters %(a)s and %(b)s; a unit belongs to one cluster.", unit=m.group(1),
                 a=m.group(2), b=m.group(3))),
    (re.compile(r"^cluster (\S+): unit (\S+) is not in the bank"),
     lambda m: _("Cluster %(cluster)s: unit %(unit)s is not in the bank or not approved.", cluster=m.group(1),
                 unit=m.group(2))),
    (re.compile(r"^more clusters than units"),
     lambda m: _("there are more clusters than approved units; choose fewer clusters")),
    (re.compile(r"^no units to put in booklets"), lambda m: _("there are no approved units to put in booklets")),
    # a printed design named by an uploaded design.yaml (:mod:`itembank.paper.printed`)
    (re.compile(r"^there is no printed design (\d+)"),
     lambda m: _("There is no printed design %(id)s: type the design number printed on the booklet's cover.",
                 id=m.group(1))),
]


def message(text: str) -> str:
    """``text`` (a reader's English message) in the page's language."""
    for pattern, make in _MESSAGES:
        match = pattern.search(text)
        if match:
            return make(match)
    return text


def problems(found: list[Problem]) -> list[Problem]:
    return [Problem(p.file, p.line, p.column, message(p.message)) for p in found]
