"""CLI command ``itembank report``: a learning-outcome report with survey-design standard errors
and plausible values from the population model (docs/research.md).

numpy, scipy and the irt library are imported inside the command, so that ``itembank --help``
starts without them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from itembank.errors import DataFileError, ItembankError, Problem

COMMANDS: list[click.Command] = []
REPLICATE_METHODS = ("jk2", "brr-fay")


@click.command("report")
@click.argument("responses", type=click.Path(dir_okay=False))
@click.option("--params", "params_path", required=True, type=click.Path(dir_okay=False),
              help="PARAMS.json with the items' parameters (fixed).")
@click.option("--background", "background_path", required=True, type=click.Path(dir_okay=False),
              help="BACKGROUND.csv: person_id, then the group, weight, design and conditioning "
                   "columns.")
@click.option("--weight", "weight_col", default=None,
              help="Column of the final student weight (default: every student 1).")
@click.option("--replicates", "replicate_method", type=click.Choice(REPLICATE_METHODS),
              default=None,
              help="Build replicate weights from --stratum and --psu: jk2 (paired schools, as "
                   "TIMSS/PIRLS) or brr-fay (Fay's k = 0.5, 80 replicates, as PISA); with "
                   "--replicate-weights, how to read them (default brr-fay).")
@click.option("--stratum", "stratum_col", default=None, help="Column of the explicit stratum.")
@click.option("--psu", "psu_col", default=None,
              help="Column of the primary sampling unit (the school).")
@click.option("--replicate-weights", "replicate_prefix", default=None,
              help="Replicate weights given in columns PREFIX1, PREFIX2, ...")
@click.option("--condition-on", "condition_on", default="",
              help="Comma-separated background columns of the population model (the --group-by "
                   "column is added); none: unconditioned plausible values.")
@click.option("--plausible-values", "n_pv", type=click.IntRange(min=1), default=5,
              show_default=True, help="Number of plausible values per student.")
@click.option("--group-by", "group_col", required=True, help="Column whose groups are reported.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--indices", "indices_paths", multiple=True, type=click.Path(dir_okay=False),
              help="A CSV keyed by person_id joined to BACKGROUND.csv, e.g. INDICES.csv of "
                   "`itembank questionnaire scale`: its columns can be named in --correlate and "
                   "--condition-on; a person without a row has no value.  Repeatable.")
@click.option("--correlate", "correlate", default="",
              help="Comma-separated numeric background columns (e.g. questionnaire indices of "
                   "`itembank questionnaire scale`) to correlate with the scale score, overall "
                   "and per group, each r with its SE; a blank cell leaves that student out of "
                   "that correlation.")
@click.option("--compare-to", "compare_to", default=None, type=click.Path(dir_okay=False),
              help="An earlier REPORT.json (another cycle or calibration, on the same reporting "
                   "scale): the change of the overall and each group's mean, with its SE.")
@click.option("--linking-error", "linking_error", default=None,
              type=click.FloatRange(min=0), metavar="E",
              help="Linking error of the two calibrations on the θ (logit) scale of this one, "
                   "turned into points by the reporting scale's factor and added to the SE of "
                   "every trend (default: not given, taken as 0, and REPORT.json says so).")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="REPORT.json to write.")
def report_command(
    responses: str,
    params_path: str,
    background_path: str,
    weight_col: str | None,
    replicate_method: str | None,
    stratum_col: str | None,
    psu_col: str | None,
    replicate_prefix: str | None,
    condition_on: str,
    n_pv: int,
    group_col: str,
    seed: int,
    indices_paths: tuple[str, ...],
    correlate: str,
    compare_to: str | None,
    linking_error: float | None,
    out: str,
) -> None:
    """Group means, SDs and percentages at each proficiency level on the reporting scale
    (500/100, levels of the default reporting configuration), each with its standard error and
    95% interval, and every pairwise group difference with its SE and significance.

    SEs combine the sampling variance from replicate weights (JK2, BRR-Fay, or given) with the
    imputation variance over plausible values (Rubin 1987).  Without a design the SEs assume
    simple random sampling (random-group jackknife), and REPORT.json says so.  Plausible values
    are drawn from the population model θ ~ N(Γᵀx, σ²) with x from --condition-on (Mislevy 1991).

    --correlate adds the correlation of the scale score with background columns (r, SE, 95%
    interval, significance, n with a value), computed per plausible value and combined the same
    way; condition on the same columns, or the correlations are attenuated.  --compare-to adds
    the trend against an earlier REPORT.json: SE² = SE_later² + SE_earlier² + linking error²
    (PISA).
    """
    import numpy as np

    from irt import replicates as rep
    from irt.latent_regression import LatentRegressionError
    from irt.models import ParameterError
    from irt.reporting import ReportingError, ReportingScale
    from irt.reporting import from_dict as reporting_from_dict
    from irt.scoring import ScoringError
    from itembank.bank.params_json import read_params
    from itembank.bank.responses_csv import read_responses
    from itembank.delivery.cat_config import DEFAULT_REPORTING
    from itembank.research.background import design_matrix, join, read_background
    from itembank.research.survey_report import survey_report
    from itembank.research.survey_trends import add_trends, read_earlier_report

    from .analysis import _aligned_scores

    design_given = stratum_col is not None or psu_col is not None
    if design_given and replicate_prefix is not None:
        raise click.ClickException("give either --stratum/--psu or --replicate-weights, not both")
    if design_given and not (stratum_col and psu_col and replicate_method):
        raise click.ClickException(
            "building replicates needs --replicates jk2|brr-fay with both --stratum and --psu"
        )
    if replicate_method and not design_given and replicate_prefix is None:
        raise click.ClickException(
            f"--replicates {replicate_method} needs --stratum and --psu (or --replicate-weights)"
        )
    if linking_error is not None and compare_to is None:
        raise click.UsageError("--linking-error is the error of a trend: give --compare-to too")
    conditioning = [c.strip() for c in condition_on.split(",") if c.strip()]
    correlated = list(dict.fromkeys(c.strip() for c in correlate.split(",") if c.strip()))
    try:
        pf = read_params(params_path)
        data = read_responses(responses)
        scores = _aligned_scores(responses, data, pf.params)
        bg = read_background(background_path)
        rows = bg.aligned(data.person_ids, responses, data.lines)
        groups = bg.labels(group_col, rows, "--group-by")
        weights = (
            bg.numbers(weight_col, rows, "--weight", non_negative=True)
            if weight_col else np.ones(rows.size)
        )
        if stratum_col and psu_col and replicate_method:
            strata = bg.labels(stratum_col, rows, "--stratum")
            psus = bg.labels(psu_col, rows, "--psu")
            design = rep.build(replicate_method, strata, psus, weights)
        elif replicate_prefix is not None:
            cols = bg.prefixed(replicate_prefix)
            if len(cols) < 2:
                raise DataFileError.at(
                    background_path, 1, 0,
                    f"--replicate-weights: no columns {replicate_prefix}1, {replicate_prefix}2, ...",
                )
            repw = np.column_stack(
                [bg.numbers(c, rows, "--replicate-weights", non_negative=True) for c in cols]
            )
            design = rep.given(weights, repw, replicate_method or "brr-fay")
        else:
            design = rep.random_groups(weights, rows.size, np.random.default_rng([seed, 1]))
        columns = join(bg, rows, data.person_ids, [read_background(p) for p in indices_paths])
        if conditioning:
            columns.require(conditioning, "--condition-on")
            names = [group_col] + [c for c in conditioning if c != group_col]
            x, x_names = design_matrix(
                {n: columns.text(n) for n in names}, categorical=[group_col]
            )
        else:
            x, x_names = None, []
        indices = {c: columns.numbers(c, "--correlate") for c in correlated}
        for c, values in indices.items():
            if np.isnan(values).all():
                source, col = columns.place(c)
                raise DataFileError.at(
                    source, 1, col, f"--correlate: column {c!r} has no value for any student "
                                   f"of {responses}",
                )
        config = dict(DEFAULT_REPORTING)
        scale, levels = reporting_from_dict(config)
        pop = (float(pf.population.get("mean", 0.0)), float(pf.population.get("sd", 1.0)))
        if "population" not in config:  # as research/reports.py: the calibration's population
            scale = ReportingScale(pop[0], pop[1], scale.mean, scale.sd)
        earlier = (
            None if compare_to is None
            else read_earlier_report(compare_to, scale=scale, group_by=group_col)
        )
        with click.progressbar(length=2, label="report", file=sys.stderr) as bar:
            doc = survey_report(
                pf.params, scores, groups, design,
                background=x, background_names=x_names, n_pv=n_pv,
                rng=np.random.default_rng(seed), scale=scale, levels=levels, population=pop,
                step=lambda _what: bar.update(1), indices=indices,
            )
        if earlier is not None:
            add_trends(doc, earlier, linking_error)
        doc["inputs"] = {
            "responses": responses, "params": params_path, "background": background_path,
            "group_by": group_col, "weight": weight_col, "replicates": design.method,
            "stratum": stratum_col, "psu": psu_col, "replicate_weights": replicate_prefix,
            "seed": seed, "indices": list(indices_paths), "correlate": correlated,
            "compare_to": compare_to, "linking_error": linking_error,
        }
        Path(out).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except (ItembankError, ParameterError, ScoringError, ReportingError) as exc:
        raise click.ClickException(str(exc)) from exc
    except (rep.SurveyDesignError, LatentRegressionError) as exc:
        where = Problem(background_path, 0, 0, str(exc))
        raise click.ClickException(str(where)) from exc
    except OSError as exc:
        raise click.ClickException(f"{exc.filename or ''}: {exc.strerror}") from exc
    srs = " (SEs assume simple random sampling)" if design.srs else ""
    click.echo(
        f"{out}: {len(doc['groups'])} groups, {rows.size} students, {n_pv} plausible values, "
        f"{design.method} with {design.n_replicates} replicates{srs}",
        err=True,
    )


COMMANDS += [report_command]
