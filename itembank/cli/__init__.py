"""The ``itembank`` command: one click group; each module of this package contributes its commands."""

from __future__ import annotations

import click

from . import (
    analysis,
    bank,
    materials,
    paper,
    psychometrics,
    qti,
    questionnaire,
    report,
    roster,
    serve,
    simulate,
    testadmin,
    users,
    worker,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gc-itembank")
def main() -> None:
    """Global competence item bank: validate, import, calibrate, simulate, serve."""


for _module in (bank, psychometrics, analysis, report, simulate, roster, serve, paper, qti, users,
                worker, testadmin, materials, questionnaire):
    for _command in _module.COMMANDS:
        main.add_command(_command)
