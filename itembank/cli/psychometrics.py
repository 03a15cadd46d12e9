"""CLI commands over the psychometric core: calibrate (score, link and dif live in analysis)."""

from __future__ import annotations

import csv
import sys
import warnings
from pathlib import Path

import click

from itembank.errors import DataFileError, Problem, ProblemsError

# irt.calibration_mstep.FIT_MODELS, without importing numpy for --help (checked by
# tests/itembank/cli/test_startup.py); numpy and irt are imported inside the command.
CLI_MODELS = ("rasch", "2pl", "3pl", "grm", "gpcm", "pcm")
FIT_MODELS = CLI_MODELS


def read_item_models(path: str | Path, known: list[str]) -> dict[str, str]:
    """An --item-models file: CSV with header ``item_id,model``, one line per item whose model
    differs from --model.  Unknown ids or models are problems naming FILE:ROW:COLUMN."""
    name = str(path)
    text = Path(path).read_text(encoding="utf-8-sig")
    reader = csv.reader(text.splitlines())
    rows = [(reader.line_num, r) for r in reader]
    rows = [(ln, r) for ln, r in rows if any(c.strip() for c in r)]
    if not rows:
        raise DataFileError.at(name, 1, 0, "empty file: expected a header `item_id,model`")
    header_line, header = rows[0]
    if [h.strip() for h in header[:2]] != ["item_id", "model"]:
        raise DataFileError.at(name, header_line, 1, "the header must be `item_id,model`")
    out: dict[str, str] = {}
    problems: list[Problem] = []
    for line, row in rows[1:]:
        if len(row) != 2:
            problems.append(Problem(name, line, min(len(row), 2) + 1, "expected 2 fields"))
            continue
        item_id, model = row[0].strip(), row[1].strip().lower()
        if item_id not in known:
            problems.append(Problem(name, line, 1, f"item {item_id!r} is not in the responses"))
        elif item_id in out:
            problems.append(Problem(name, line, 1, f"item {item_id!r} is listed twice"))
        if model not in FIT_MODELS:
            problems.append(
                Problem(
                    name, line, 2, f"unknown model {model!r}; use one of {', '.join(FIT_MODELS)}"
                )
            )
        out[item_id] = model
    if problems:
        raise DataFileError(problems)
    return out


@click.command("calibrate")
@click.argument("responses", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--model",
    type=click.Choice(CLI_MODELS, case_sensitive=False),
    required=True,
    help="Model of every item (pcm = gpcm with a fixed at 1), unless --item-models says otherwise.",
)
@click.option(
    "--item-models",
    type=click.Path(exists=True, dir_okay=False),
    help="CSV with header `item_id,model`: per-item models overriding --model.",
)
@click.option(
    "--anchors",
    type=click.Path(exists=True, dir_okay=False),
    help="PARAMS.json of fixed items: kept exactly; the population mean and SD are estimated.",
)
@click.option("--max-iter", type=click.IntRange(min=1), default=500, show_default=True)
@click.option("--tol", type=click.FloatRange(min=0, min_open=True), default=1e-4, show_default=True)
@click.option(
    "--drop-degenerate",
    is_flag=True,
    help="Drop items without variance or with unobserved categories instead of stopping.",
)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="PARAMS.json to write.")
def calibrate_command(
    responses: str,
    model: str,
    item_models: str | None,
    anchors: str | None,
    max_iter: int,
    tol: float,
    drop_degenerate: bool,
    out: str,
) -> None:
    """Calibrate item parameters by MML-EM from RESPONSES.csv and write PARAMS.json.

    RESPONSES.csv: `person_id`, then one column per item; integer scores from 0; blank = not
    administered.  --item-models FILE is a CSV `item_id,model` (models rasch, 2pl, 3pl, grm,
    gpcm, pcm); items not listed get --model.  See docs/calibration.md.
    """
    from irt.calibration import CalibrationError, CalibrationWarning, Calibrator
    from itembank.bank.params_json import params_file_from_result, read_params, write_params
    from itembank.bank.responses_csv import read_responses

    try:
        data = read_responses(responses)
        per_item = read_item_models(item_models, data.item_ids) if item_models else {}
        anchor_file = read_params(anchors) if anchors else None
        if anchor_file is not None:
            unknown = [
                Problem(anchors or "", 0, 0, f"items[{k}] ({i}): not in {responses}")
                for k, i in enumerate(anchor_file.params.ids)
                if i not in data.item_ids
            ]
            if unknown:
                raise DataFileError(unknown)
        _check_score_ranges(responses, data, model.lower(), per_item, anchor_file)
    except ProblemsError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)

    with click.progressbar(length=max_iter, label="EM", file=sys.stderr) as bar:
        done = [0]

        def progress(iteration: int, total: int, change: float) -> None:
            bar.update(iteration - done[0])
            done[0] = iteration

        calibrator = Calibrator(
            model.lower(),
            item_models=per_item,
            anchors=anchor_file.params if anchor_file else None,
            tol=tol,
            max_iter=max_iter,
            drop_degenerate=drop_degenerate,
            progress=progress,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CalibrationWarning)
            try:
                result = calibrator.fit(data.scores, data.item_ids)
            except CalibrationError as exc:
                raise click.ClickException(f"{responses}: {exc}") from exc
        bar.update(max_iter - done[0])
    for w in caught:
        if issubclass(w.category, CalibrationWarning):
            click.echo(f"warning: {w.message}", err=True)
    write_params(out, params_file_from_result(result))
    state = "converged" if result.converged else "NOT converged"
    click.echo(
        f"{out}: {result.params.n_items} items, {result.n_persons} persons, {state} after "
        f"{result.iterations} iterations, log-likelihood {result.log_likelihood:.3f}"
    )


def _check_score_ranges(
    file: str,
    data,  # ResponseData
    model: str,
    per_item: dict[str, str],
    anchor_file,  # ParamsFile | None
) -> None:
    """Every score above its item's range as FILE:ROW:COLUMN (dichotomous: 0/1; anchors: 0..m)."""
    import numpy as np

    from irt.models import DICHOTOMOUS

    problems: list[Problem] = []
    anchor_pos = {} if anchor_file is None else {i: k for k, i in enumerate(anchor_file.params.ids)}
    for j, item_id in enumerate(data.item_ids):
        if item_id in anchor_pos:
            k = anchor_pos[item_id]
            top = int(anchor_file.params.n_categories[k]) - 1
            what = f"anchor model {anchor_file.params.models[k]}"
        else:
            m = per_item.get(item_id, model)
            if m not in DICHOTOMOUS:
                continue
            top, what = 1, f"model {m} (scores 0/1)"
        col = data.scores[:, j]
        for n in np.flatnonzero(~np.isnan(col) & (col > top)).tolist():
            problems.append(
                Problem(
                    file,
                    data.lines[n] if data.lines else n + 2,
                    data.columns[j] if data.columns else j + 2,
                    f"item {item_id}: score {int(col[n])} is above {top}, the highest of {what}",
                )
            )
    if problems:
        raise DataFileError(problems)


COMMANDS: list[click.Command] = [calibrate_command]
