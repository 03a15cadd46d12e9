"""CLI commands that analyse data with known parameters: score, link, dif.

numpy, scipy and the irt library are imported inside the commands, so that ``itembank --help``
and the other commands start without them."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from itembank.errors import DataFileError, ItembankError, Problem

if TYPE_CHECKING:
    import numpy as np

    from irt.models import ItemParameters
    from itembank.bank.responses_csv import ResponseData

# The choices of the options, as the library names them (tests/itembank/cli/test_startup.py
# checks that they stay equal to irt.scoring.METHODS and irt.linking.METHODS).
SCORING_METHODS = ("mle", "wle", "eap", "map")
LINKING_METHODS = ("mean-mean", "mean-sigma", "haebara", "stocking-lord")

COMMANDS: list[click.Command] = []


@contextmanager
def _errors_as_messages() -> Iterator[None]:
    """Print expected failures as one message each and exit 1, never a traceback."""
    from irt import dif as dif_lib
    from irt import linking as linking_lib
    from irt import scoring
    from irt.models import ParameterError

    try:
        yield
    except (
        ItembankError,
        ParameterError,
        scoring.ScoringError,
        linking_lib.LinkingError,
        dif_lib.DIFError,
    ) as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"{exc.filename or ''}: {exc.strerror}") from exc


def _line(i: int) -> int:
    """1-based line of the i-th data row of a CSV whose header is line 1."""
    return i + 2


def _aligned_scores(path: str, data: ResponseData, params: ItemParameters) -> np.ndarray:
    """(N, J_params) scores in the parameter file's item order, NaN for items not in the CSV.

    An item column without parameters, or a score above an item's top category, is an error
    naming its row and column.
    """
    import numpy as np

    known = set(params.ids)
    problems = [
        Problem(path, 1, k + 2, f"item {item_id!r} has no parameters in the PARAMS file")
        for k, item_id in enumerate(data.item_ids)
        if item_id not in known
    ]
    if problems:
        raise DataFileError(problems)
    scores = np.full((len(data.person_ids), params.n_items), np.nan)
    cols = params.index(data.item_ids)
    scores[:, cols] = data.scores
    top = params.n_categories[cols] - 1
    bad = ~np.isnan(data.scores) & (data.scores > top[None, :])
    for i, k in np.argwhere(bad)[:20]:
        problems.append(
            Problem(
                path,
                _line(int(i)),
                int(k) + 2,
                f"item {data.item_ids[k]}: score {data.scores[i, k]:g} is above the top "
                f"category {top[k]} of its {params.models[cols[k]]} parameters",
            )
        )
    if problems:
        raise DataFileError(problems)
    return scores


def _number(x: float) -> str:
    if math.isnan(x):
        return ""
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.6f}"


@click.command("score")
@click.argument("responses", type=click.Path(dir_okay=False))
@click.option(
    "--params",
    "params_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="PARAMS.json with the items' parameters.",
)
@click.option(
    "--method",
    required=True,
    type=click.Choice(SCORING_METHODS),
    help="mle, wle (Warm 1989), eap or map (prior: the PARAMS population).",
)
@click.option(
    "--plausible-values",
    "n_pv",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also draw N plausible values per person (Mislevy 1991).",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Random seed of the plausible values."
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="SCORES.csv to write.")
def score_command(
    responses: str, params_path: str, method: str, n_pv: int, seed: int, out: str
) -> None:
    """Estimate each person's ability from RESPONSES.csv with known item parameters.

    SCORES.csv has one row per person, in the order of RESPONSES.csv, and the columns
    person_id, theta, se, then pv1..pvN with --plausible-values N.  theta and se are on the
    logistic metric of PARAMS.json.  se is the posterior SD (eap), 1/sqrt(I + 1/sd²) (map) or
    1/sqrt(I) (mle, wle).  A person with no scored item gets the prior (eap, map) or blank theta
    and se (mle, wle).  An mle at the bound of [-6, 6] (all lowest or all highest scores) has
    se "inf".  EAP, MAP and plausible values use the PARAMS population N(mean, sd²) as prior.
    """
    import numpy as np

    from irt import scoring
    from itembank.bank.params_json import read_params
    from itembank.bank.responses_csv import PERSON_ID, read_responses

    with _errors_as_messages():
        pf = read_params(params_path)
        data = read_responses(responses)
        scores = _aligned_scores(responses, data, pf.params)
        mean = float(pf.population.get("mean", 0.0))
        sd = float(pf.population.get("sd", 1.0))
        kw = {"prior_mean": mean, "prior_sd": sd} if method in ("eap", "map") else {}
        est = scoring.estimate(pf.params, scores, method, **kw)
        pv = (
            scoring.plausible_values(
                pf.params, scores, n_pv, np.random.default_rng(seed), prior_mean=mean, prior_sd=sd
            )
            if n_pv
            else np.empty((len(data.person_ids), 0))
        )
        with open(out, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow([PERSON_ID, "theta", "se", *(f"pv{k + 1}" for k in range(n_pv))])
            for i, pid in enumerate(data.person_ids):
                writer.writerow(
                    [pid, _number(est.theta[i]), _number(est.se[i]), *map(_number, pv[i])]
                )
    click.echo(f"scored {len(data.person_ids)} persons by {method} into {out}", err=True)


@click.command("link")
@click.option(
    "--from",
    "from_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="PARAMS.json of the calibration to move.",
)
@click.option(
    "--to",
    "to_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="PARAMS.json of the target scale.",
)
@click.option(
    "--method",
    required=True,
    type=click.Choice(LINKING_METHODS),
    help="Mean-mean, mean-sigma, Haebara (1980) or Stocking-Lord (1983).",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="LINK.json to write.")
def link_command(from_path: str, to_path: str, method: str, out: str) -> None:
    """Find A and B with θ_to = A·θ_from + B from the items common to two calibrations.

    LINK.json: {"A", "B", "common_items": [ids], "method"}.  The "from" items move to the
    target scale as a/A, A·b + B, c unchanged.  Needs at least 2 common items with the same
    model in both files.
    """
    from irt import linking as linking_lib
    from itembank.bank.params_json import read_params

    with _errors_as_messages():
        frm = read_params(from_path).params
        to = read_params(to_path).params
        result = linking_lib.link(frm, to, method)
        Path(out).write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    click.echo(
        f"A = {result.A:.4f}, B = {result.B:.4f} from {len(result.common_items)} common items",
        err=True,
    )


def _read_groups(path: str) -> tuple[dict[str, tuple[str, int]], int]:
    """person_id → (group, line) from a GROUPS.csv with header ``person_id,group``, and the
    1-based column of ``group``."""
    from itembank.bank.responses_csv import PERSON_ID

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError.at(path, 0, 0, f"not UTF-8 text ({exc.reason})") from exc
    reader = csv.reader(text.splitlines(keepends=True))
    rows = [(reader.line_num, r) for r in reader]
    rows = [(ln, r) for ln, r in rows if any(c.strip() for c in r)]
    if not rows:
        raise DataFileError.at(path, 1, 0, "empty file: expected a header `person_id,group`")
    header = [h.strip() for h in rows[0][1]]
    for col, name in enumerate((PERSON_ID, "group")):
        if name not in header:
            raise DataFileError.at(
                path, rows[0][0], col + 1, f"no column {name!r}; the header must be person_id,group"
            )
    pcol, gcol = header.index(PERSON_ID), header.index("group")
    out: dict[str, tuple[str, int]] = {}
    problems = []
    for line, r in rows[1:]:
        pid = r[pcol].strip() if pcol < len(r) else ""
        group = r[gcol].strip() if gcol < len(r) else ""
        if not pid:
            problems.append(Problem(path, line, pcol + 1, "empty person_id"))
        elif pid in out:
            problems.append(
                Problem(path, line, pcol + 1, f"person {pid!r} already on line {out[pid][1]}")
            )
        elif not group:
            problems.append(Problem(path, line, gcol + 1, f"person {pid!r} has no group"))
        else:
            out[pid] = (group, line)
    if problems:
        raise DataFileError(problems)
    return out, gcol + 1


@click.command("dif")
@click.argument("responses", type=click.Path(dir_okay=False))
@click.option(
    "--groups",
    "groups_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="GROUPS.csv with the columns person_id,group.",
)
@click.option("--reference", required=True, help="Name of the reference group.")
@click.option("--focal", required=True, help="Name of the focal group.")
@click.option(
    "--purify/--no-purify",
    default=True,
    show_default=True,
    help="Two-stage purification of the matching score.",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="DIF.json to write.")
def dif_command(
    responses: str, groups_path: str, reference: str, focal: str, purify: bool, out: str
) -> None:
    """Mantel-Haenszel DIF of every item between a reference and a focal group.

    Persons are matched on their summed score (within the set of items they were given);
    persons in other groups are left out.  DIF.json: {"items": [{"id", "mh_d_dif", "p_value",
    "ets_class", "kind", "n_reference", "n_focal", "alpha_mh", "se", "chi_square", "smd",
    "smd_ratio"}], "reference", "focal", "matching_items", "purified"}.  mh_d_dif = -2.35 ln α_MH
    (negative: harder for the focal group); ets_class A/B/C (AA/BB/CC for polytomous items,
    whose mh_d_dif is null and whose p_value is Mantel's test).
    """
    from irt import dif as dif_lib
    from itembank.bank.responses_csv import read_responses

    with _errors_as_messages():
        data = read_responses(responses)
        groups, group_col = _read_groups(groups_path)
        problems = [
            Problem(responses, _line(i), 1, f"person {pid!r} is not in {groups_path}")
            for i, pid in enumerate(data.person_ids)
            if pid not in groups
        ]
        if problems:
            raise DataFileError(problems[:20])
        labels = [groups[pid][0] for pid in data.person_ids]
        present = set(labels)
        for role, name in (("reference", reference), ("focal", focal)):
            if name not in present:
                known = ", ".join(sorted(present))
                raise DataFileError.at(
                    groups_path,
                    1,
                    group_col,
                    f"--{role} group {name!r} is not in the group column (groups: {known})",
                )
        result = dif_lib.mantel_haenszel(
            data.scores,
            labels,
            reference=reference,
            focal=focal,
            item_ids=data.item_ids,
            purify=purify,
        )
        doc = {
            "items": [r.to_dict() for r in result.items],
            "reference": reference,
            "focal": focal,
            "matching_items": list(result.matching_items),
            "purified": result.purified,
        }
        Path(out).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    flagged = [r.id for r in result.items if r.ets_class in ("B", "C", "BB", "CC")]
    click.echo(f"{len(result.items)} items; flagged: {', '.join(flagged) or 'none'}", err=True)


COMMANDS += [score_command, link_command, dif_command]
