"""CLI commands for student questionnaires: ``itembank questionnaire scale`` turns Likert
responses into standardised indices (GPCM, WLE) and checks their invariance across groups.

numpy, scipy and the irt library are imported inside the command, so that ``itembank --help``
starts without them."""

from __future__ import annotations

import csv
import json
import math
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from itembank.errors import DataFileError, ItembankError, Problem

if TYPE_CHECKING:
    import numpy as np

    from itembank.bank.questionnaire import Questionnaire
    from itembank.bank.responses_csv import ResponseData

COMMANDS: list[click.Command] = []
RMSD_THRESHOLD = 0.12  # = irt.questionnaire.RMSD_THRESHOLD (tests/itembank/cli/test_startup.py)


@click.group("questionnaire")
def questionnaire() -> None:
    """Student questionnaires: scale Likert responses into indices (docs/research.md)."""


def _scale_scores(
    path: str, data: ResponseData, q: Questionnaire
) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Per scale id: its reverse-coded scores (N, J_s) and item ids.  A questionnaire item
    without a column, or a score above its response scale's top, is a problem naming its place;
    columns that are not questionnaire items (test items, say) are left alone."""
    import numpy as np

    from irt.questionnaire import reverse_code

    position = {item_id: k for k, item_id in enumerate(data.item_ids)}
    problems: list[Problem] = []
    out: dict[str, tuple[np.ndarray, list[str]]] = {}
    for scale in q.scales:
        ids = [item.id for item in scale.items]
        missing = [i for i in ids if i not in position]
        if missing:
            problems.append(
                Problem(path, 1, 0, f"scale {scale.id}: no column for item(s) {', '.join(missing)}")
            )
            continue
        cols = [position[i] for i in ids]
        raw = data.scores[:, cols]
        top = q.n_categories(scale) - 1
        for i, k in np.argwhere(~np.isnan(raw) & (raw > top))[:20]:
            line = data.lines[i] if data.lines else int(i) + 2
            column = data.columns[cols[k]] if data.columns else cols[k] + 2
            problems.append(
                Problem(path, line, column, f"item {ids[k]}: score {raw[i, k]:g} is above {top}, "
                        f"the top of response scale {scale.response_scale} (scores 0..{top})")
            )
        reverse = [item.reverse for item in scale.items]
        out[scale.id] = (reverse_code(raw, reverse, [top + 1] * len(ids)), ids)
    if problems:
        raise DataFileError(problems)
    return out


def _column(path: str, data: ResponseData, name: str, option: str) -> list[str]:
    from itembank.bank.responses_csv import read_columns

    cells = read_columns(path, [name])[name]
    blank = [k for k, c in enumerate(cells) if not c]
    if blank:
        k = blank[0]
        line = data.lines[k] if data.lines else k + 2
        raise DataFileError.at(path, line, 0, f"{option} {name}: blank cell for person "
                                              f"{data.person_ids[k]!r}")
    return cells


def _weights(path: str, data: ResponseData, name: str) -> np.ndarray:
    import numpy as np

    cells = _column(path, data, name, "--weight")
    values = np.full(len(cells), np.nan)
    for k, cell in enumerate(cells):
        try:
            values[k] = float(cell)
        except ValueError:
            values[k] = np.nan
        if not (math.isfinite(values[k]) and values[k] >= 0):
            line = data.lines[k] if data.lines else k + 2
            raise DataFileError.at(path, line, 0, f"--weight {name}: {cell!r} is not a number ≥ 0")
    return values


def _number(x: float) -> str:
    return "" if not math.isfinite(x) else f"{x:.6f}"


@questionnaire.command("scale")
@click.argument("responses", type=click.Path(dir_okay=False))
@click.option("--questionnaire", "questionnaire_path", required=True,
              type=click.Path(dir_okay=False),
              help="The questionnaire's YAML file (docs/item-format.md, Questionnaires).")
@click.option("--weight", "weight_col", default=None,
              help="Column of the student weight, for the standardisation and the groups' "
                   "populations (default: every student 1).")
@click.option("--group", "group_col", default=None,
              help="Column of the groups (e.g. language) whose invariance is checked by RMSD.")
@click.option("--reference", "reference_group", default=None,
              help="Standardise in this --group only (default: everybody).")
@click.option("--rmsd-threshold", type=click.FloatRange(min=0, min_open=True),
              default=RMSD_THRESHOLD, show_default=True,
              help="Flag an item in a group whose RMSD exceeds this (0.12: PISA's cut-off for "
                   "cognitive items).")
@click.option("--free-flagged", is_flag=True,
              help="Give items flagged in any group group-specific parameters and scale again "
                   "(PISA's treatment of a non-invariant item).")
@click.option("--min-responses", type=click.IntRange(min=1), default=1, show_default=True,
              help="Fewer answers to a scale give no index for it (blank).")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="INDICES.csv to write: person_id, then SCALE and SCALE_se per scale.")
@click.option("--report", "report_path", default=None, type=click.Path(dir_okay=False),
              help="REPORT.json to write: item parameters, standardisation, reliability and "
                   "the RMSD of every item in every group, with flags.")
def scale_command(
    responses: str,
    questionnaire_path: str,
    weight_col: str | None,
    group_col: str | None,
    reference_group: str | None,
    rmsd_threshold: float,
    free_flagged: bool,
    min_responses: int,
    out: str,
    report_path: str | None,
) -> None:
    """Scale each questionnaire scale in RESPONSES.csv into an index.

    RESPONSES.csv: person_id, a column per questionnaire item with the category chosen, 0 for
    the first category of its response scale (blank = not answered), and any other columns
    (weights, groups, test items), which are left alone.  Reverse-coded items are turned round;
    each scale is calibrated with the GPCM (Muraki 1992), every student scored by WLE (Warm 1989)
    and the WLEs standardised to mean 0, SD 1 (weighted with --weight) in the reference
    population.  With --group, every item's RMSD in every group against the pooled curves is
    reported and items above --rmsd-threshold are flagged (PISA's invariance check).
    """
    import numpy as np

    from irt.calibration import CalibrationError, CalibrationWarning
    from irt.questionnaire import QuestionnaireError, scale
    from itembank.bank.questionnaire import load_questionnaire
    from itembank.bank.responses_csv import PERSON_ID, read_responses

    if reference_group is not None and group_col is None:
        raise click.UsageError("--reference names a group of --group; give --group too")
    if free_flagged and group_col is None:
        raise click.UsageError("--free-flagged frees the items flagged across --group; give --group")
    try:
        q = load_questionnaire(questionnaire_path)
        extra = [c for c in (weight_col, group_col) if c]
        data = read_responses(responses, extra_columns=extra)
        by_scale = _scale_scores(responses, data, q)
        weights = _weights(responses, data, weight_col) if weight_col else None
        groups = np.asarray(_column(responses, data, group_col, "--group")) if group_col else None
        reference = None
        if reference_group is not None and groups is not None:
            reference = groups == reference_group
            if not reference.any():
                raise click.UsageError(
                    f"--reference {reference_group!r}: no person has it in column {group_col}; "
                    f"groups are {sorted(set(groups.tolist()))}"
                )
        results: dict[str, Any] = {}
        notes: list[str] = []
        with click.progressbar(q.scales, label="scales", file=sys.stderr) as bar:
            for s in bar:
                x, ids = by_scale[s.id]
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", CalibrationWarning)
                    results[s.id] = scale(
                        x, ids, weights=weights, reference=reference, groups=groups,
                        rmsd_threshold=rmsd_threshold, free_flagged=free_flagged,
                        min_responses=min_responses,
                    )
                notes += [f"scale {s.id}: {w.message}" for w in caught]
        with open(out, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow([PERSON_ID, *(c for s in q.scales for c in (s.id, f"{s.id}_se"))])
            for i, pid in enumerate(data.person_ids):
                row = [pid]
                for s in q.scales:
                    r = results[s.id]
                    row += [_number(r.index[i]), _number(r.se[i])]
                writer.writerow(row)
        flags = [
            {"scale": s.id, "group": g, "item": item, "rmsd": round(v, 4)}
            for s in q.scales
            if results[s.id].invariance is not None
            for g, item, v in results[s.id].invariance.flags()
        ]
        if report_path:
            doc = _report(q, results, flags, notes, {
                "responses": responses, "questionnaire": questionnaire_path, "weight": weight_col,
                "group": group_col, "reference": reference_group,
                "rmsd_threshold": rmsd_threshold, "free_flagged": free_flagged,
                "min_responses": min_responses,
            })
            Path(report_path).write_text(
                json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
    except (ItembankError, QuestionnaireError, CalibrationError) as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"{exc.filename or ''}: {exc.strerror}") from exc
    for note in notes:
        click.echo(f"note: {note}", err=True)
    for f in flags:
        click.echo(f"flag: scale {f['scale']}, item {f['item']}, group {f['group']}: "
                   f"RMSD {f['rmsd']:.3f} > {rmsd_threshold:g}", err=True)
    for s in q.scales:
        if results[s.id].freed:
            click.echo(f"scale {s.id}: group-specific parameters for "
                       f"{', '.join(results[s.id].freed)}", err=True)
    click.echo(f"{out}: {len(q.scales)} indices for {len(data.person_ids)} persons"
               + (f", {len(flags)} invariance flag(s)" if group_col else ""), err=True)


def _report(
    q: Questionnaire, results: dict[str, Any], flags: list[dict[str, Any]], notes: list[str],
    inputs: dict[str, Any],
) -> dict[str, Any]:
    scales = []
    for s in q.scales:
        r = results[s.id]
        reverse = {item.id: item.reverse for item in s.items}
        # a freed item's parameters are per group, "ID[group]" (irt.questionnaire.split_by_group)
        items = [{**rec, "reverse": reverse[rec["id"].split("[")[0]]}
                 for rec in r.params.to_records()]
        for rec in items:
            rec.pop("c", None)
        scales.append({
            "id": s.id,
            "construct": str(s.construct_),
            "name": {"zh-TW": s.name.zh_TW, "en": s.name.en},
            "items": items,
            "wle_mean": r.standardisation.mean,
            "wle_sd": r.standardisation.sd,
            "reliability": r.reliability if math.isfinite(r.reliability) else None,
            "n_scored": int(sum(math.isfinite(v) for v in r.index.tolist())),
            "converged": r.calibration.converged,
            "freed": list(r.freed),
            "invariance": r.invariance.to_dict() if r.invariance is not None else None,
        })
    return {"questionnaire": q.id, "scales": scales, "flags": flags, "notes": notes,
            "inputs": inputs}


@questionnaire.command("export")
@click.argument("test_id")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="RESPONSES.csv to write: person_id (the session), language, a column per "
                   "statement.")
@click.option("--questionnaire-out", "questionnaire_out", required=True,
              type=click.Path(dir_okay=False),
              help="The questionnaire version the sessions were given, as a YAML file for "
                   "`itembank questionnaire scale --questionnaire`.")
@click.option("--version", "version", type=click.IntRange(min=1), default=None,
              help="The questionnaire version (default: the latest any session was given).")
def export_command(test_id: str, out: str, questionnaire_out: str, version: int | None) -> None:
    """Write the questionnaire answers of TEST_ID's online sessions for scaling.

    Then: itembank questionnaire scale OUT --questionnaire QUESTIONNAIRE_OUT --group language
    --out INDICES.csv (docs/research.md, "Questionnaire indices of online sessions")."""
    from itembank.cli.database import open_bank
    from itembank.research.questionnaire_data import NoQuestionnaireData, questionnaire_table

    with open_bank()() as session:
        try:
            table = questionnaire_table(session, test_id, version=version)
        except NoQuestionnaireData as exc:
            raise click.ClickException(str(exc)) from None
        text, definition = table.csv_text(), table.questionnaire_yaml()
        label = f"{table.version.questionnaire_id} v{table.version.version}"
    try:
        Path(out).write_text(text, encoding="utf-8")
        Path(questionnaire_out).write_text(definition, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"{exc.filename or ''}: {exc.strerror}") from exc
    click.echo(f"{out}: {len(table.rows)} sessions, {len(table.item_ids)} statements of {label}; "
               f"{questionnaire_out}: the questionnaire", err=True)


COMMANDS += [questionnaire]
