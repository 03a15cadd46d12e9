"""CLI command ``simulate-cat``: run the CAT engine over simulated examinees."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from itembank.errors import DataFileError, ProblemsError

if TYPE_CHECKING:
    from irt.cat import BankItem, CatBank
    from irt.cat.batch import BatchResult
    from irt.cat.simulator import SimulationResult
    from itembank.bank.params_json import ParamsFile

# irt.cat.config.EXPOSURE_METHODS, without importing the CAT engine for --help (checked by
# tests/itembank/cli/test_startup.py); numpy and irt are imported inside the command.
EXPOSURE_METHODS = ("none", "randomesque", "sympson-hetter")

REPLAYED_SESSIONS = 20
"""Sessions re-run one answer at a time through ``next_step`` to time it as a web app would."""


@click.command("simulate-cat")
@click.option(
    "--params", "params_path", required=True, type=click.Path(dir_okay=False), help="PARAMS.json"
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="CAT.yaml: engine settings and item_attributes (units, dimension, domain).",
)
@click.option("--examinees", default=1000, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=1, show_default=True, type=click.IntRange(min=0))
@click.option("--stop-se", type=float, help="Stop when the SE is at or below this.")
@click.option("--max-items", type=int, help="The maximum number of items.")
@click.option(
    "--exposure", type=click.Choice(EXPOSURE_METHODS), help="Exposure control (overrides config)."
)
@click.option("--max-exposure", type=float, help="Sympson-Hetter target maximum exposure rate.")
@click.option(
    "--pretest",
    "pretest_path",
    type=click.Path(dir_okay=False),
    help="PRETEST.json: generating parameters of pretest items to seed and calibrate online.",
)
@click.option(
    "--pretest-per-session",
    type=click.IntRange(min=1),
    help="Pretest units seeded into each session (default: the config's pretest.count, or 1).",
)
@click.option(
    "--out", "out_path", required=True, type=click.Path(dir_okay=False), help="REPORT.json"
)
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="REPORT.png")
def simulate_cat(
    params_path: str,
    config_path: str | None,
    examinees: int,
    seed: int,
    stop_se: float | None,
    max_items: int | None,
    exposure: str | None,
    max_exposure: float | None,
    pretest_path: str | None,
    pretest_per_session: int | None,
    out_path: str,
    plot_path: str | None,
) -> None:
    """Simulate adaptive tests for EXAMINEES simulated students drawn from the calibration
    population and report length, accuracy and item exposure.

    Command-line options override the config file.  With Sympson-Hetter exposure control and no
    exposure.parameters in the config, the parameters are derived by simulation first and written
    to the report (``config.exposure.parameters``) for use in the live test's config.
    """
    import numpy as np

    from irt.cat import CatBank, CatBankError
    from irt.cat.batch import simulate_batch
    from irt.cat.draws import fixed_draws
    from irt.cat.simulator import derive_sympson_hetter, replay, summarize
    from itembank.bank.params_json import read_params
    from itembank.delivery.cat_config import CatConfigFileError, load_cat_config

    try:
        pf = read_params(params_path)
    except ProblemsError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{params_path}: cannot use these parameters") from exc
    overrides: dict[str, dict[str, Any]] = {
        "stopping": {"se": stop_se, "max_items": max_items},
        "exposure": {"method": exposure, "max_rate": max_exposure},
    }
    pretest = _read_pretest(pretest_path, pf.params.ids) if pretest_path else None
    try:
        loaded = load_cat_config(config_path, overrides)
        bank_items = loaded.items
        if pretest is not None and bank_items is not None:
            bank_items = [i for i in bank_items if i.id not in set(pretest.params.ids)]
        bank = CatBank.build(pf.params, bank_items)
    except (CatConfigFileError, DataFileError, CatBankError) as exc:
        raise click.ClickException(str(exc)) from exc
    config = loaded.config
    pop_mean = float(pf.population.get("mean", 0.0))
    pop_sd = float(pf.population.get("sd", 1.0))
    theta = np.random.default_rng([seed, 2]).normal(pop_mean, pop_sd, examinees)
    data = loaded.data
    if config.exposure.method == "sympson-hetter" and not config.exposure.parameters:
        click.echo(
            f"deriving Sympson-Hetter parameters (target {config.exposure.max_rate})", err=True
        )
        derive_theta = np.random.default_rng([seed, 3]).normal(pop_mean, pop_sd, examinees)
        parameters = derive_sympson_hetter(
            bank,
            config,
            derive_theta,
            seed + 1,
            progress=lambda it, mx: click.echo(f"  round {it}: max exposure {mx:.3f}", err=True),
        )
        config = replace(config, exposure=replace(config.exposure, parameters=parameters))
        data.setdefault("exposure", {})["parameters"] = parameters
    with click.progressbar(length=examinees, label="simulating", file=sys.stderr) as bar:
        result = simulate_batch(bank, config, theta, seed, progress=bar.update)
    report = summarize(result)
    times: list[float] = []
    matches = 0
    n_replay = min(REPLAYED_SESSIONS, examinees)
    for e in range(n_replay):  # through next_step, with the batch's random draws
        with fixed_draws(result.draws.session(e)):
            items, t = replay(bank, config, result, e)
        times.extend(t)
        matches += items == [i for u in result.units[e] for i in bank.unit_items(u)]
    report["seconds_per_selection"] = float(np.mean(times)) if times else 0.0
    report["replayed_sessions"] = {"n": n_replay, "identical": int(matches)}
    report["item_exposure"] = {
        item: round(float(x), 4)
        for item, x in zip(bank.item_ids, result.item_exposure, strict=True)
    }
    if pretest is not None:
        per_session = pretest_per_session or config.pretest.count or 1
        click.echo(f"online calibration of {pretest.params.n_items} pretest items", err=True)
        report["pretest"] = _pretest_report(bank, result, pretest, loaded.items, per_session, seed)
    report["seed"] = seed
    report["config"] = _jsonable(data)
    ordered = {k: report[k] for k in _REPORT_ORDER if k in report}
    ordered.update({k: v for k, v in report.items() if k not in ordered})
    Path(out_path).write_text(
        json.dumps(ordered, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    if plot_path:
        plot_report(ordered, result, plot_path)
    click.echo(
        f"{examinees} examinees: mean length {report['mean_length']:.1f}, "
        f"RMSE {report['rmse']:.3f}, max exposure {report['max_exposure']:.3f} -> {out_path}",
        err=True,
    )


_REPORT_ORDER = (
    "examinees",
    "mean_length",
    "median_length",
    "rmse",
    "bias",
    "max_exposure",
    "overlap_rate",
    "seconds_per_selection",
    "seconds_per_selection_batch",
    "conditional",
)


def _read_pretest(path: str, operational: tuple[str, ...]) -> ParamsFile:
    from itembank.bank.params_json import read_params

    try:
        pretest = read_params(path)
    except ProblemsError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{path}: cannot use these parameters") from exc
    both = sorted(set(pretest.params.ids) & set(operational))
    if both:
        raise click.ClickException(
            f"{path}: {len(both)} pretest item(s) are also in --params, e.g. {both[0]!r}; "
            "a pretest item has no published parameters"
        )
    return pretest


def _pretest_report(
    bank: CatBank,
    result: BatchResult,
    pretest: ParamsFile,
    attributes: list[BankItem] | None,
    per_session: int,
    seed: int,
) -> dict[str, Any]:
    """Seed the pretest units into the simulated sessions, calibrate them online and compare the
    estimates with the generating values."""
    import numpy as np

    from irt.calibration import CalibrationError
    from irt.cat.pretest import balanced_assignment, simulate_pretest_responses
    from irt.online_calibration import calibrate_pretest, parameter_rmse

    ids = pretest.params.ids
    unit_of = {item.id: item.unit for item in attributes or () if item.id in set(ids)}
    units = list(dict.fromkeys(unit_of.get(i, i) for i in ids))
    item_unit = np.array([units.index(unit_of.get(i, i)) for i in ids], dtype=int)
    n = result.true_theta.size
    assignment = balanced_assignment(n, len(units), per_session, np.random.default_rng([seed, 5]))
    answers = simulate_pretest_responses(
        pretest.params, item_unit, assignment, result.true_theta, np.random.default_rng([seed, 6])
    )
    # the operational answers of the items each simulee was given (NaN elsewhere)
    given = np.zeros((n, bank.n_units + 1), bool)
    order = result.unit_order
    given[np.arange(n)[:, None], np.where(order >= 0, order, bank.n_units)] = True
    operational = np.where(given[:, bank.routing_unit], result.answers, np.nan)
    models = dict(zip(ids, pretest.params.models, strict=True))
    try:
        fitted = calibrate_pretest(
            np.concatenate([operational, answers], axis=1),
            [*bank.params.ids, *ids],
            bank.params,
            models,
            drop_degenerate=True,
        )
    except CalibrationError as exc:
        raise click.ClickException(f"online calibration: {exc}") from exc
    counts = (~np.isnan(answers)).sum(axis=0)
    recovery = parameter_rmse(pretest.params, fitted.params)
    estimates = fitted.params.subset(fitted.params.index(i for i in ids if i in fitted.params.ids))
    out: dict[str, Any] = {
        "responses_per_item": {i: int(c) for i, c in zip(ids, counts, strict=True)},
        "rmse_a": _finite(recovery["rmse_a"]),
        "rmse_b": _finite(recovery["rmse_b"]),
    }
    if "3pl" in pretest.params.models:
        out["rmse_c"] = _finite(recovery["rmse_c"])
    out.update(
        {
            "per_session": min(per_session, len(units)),
            "units": len(units),
            "converged": bool(fitted.converged),
            "iterations": int(fitted.iterations),
            "population": {
                "mean": float(fitted.population_mean),
                "sd": float(fitted.population_sd),
            },
            "dropped": dict(fitted.dropped),
            "items": [
                {
                    **rec,
                    "se": _jsonable(fitted.se.get(rec["id"], {})),
                    "flags": fitted.flags.get(rec["id"], []),
                }
                for rec in estimates.to_records()
            ],
        }
    )
    return out


def _finite(x: float) -> float | None:
    return round(float(x), 4) if x == x else None


def _jsonable(x: Any) -> Any:
    import numpy as np

    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and x != x:
        return None
    return x


def plot_report(report: dict[str, Any], result: SimulationResult, path: str) -> None:
    """Four panels: conditional bias, conditional RMSE, conditional mean length (per bin of the
    true θ) and the distribution of item exposure rates."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cond = report["conditional"]
    x = [c["theta_mean"] for c in cond]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5), constrained_layout=True)
    panels = (
        (axes[0, 0], "bias", "Conditional bias", "bias of final θ"),
        (axes[0, 1], "rmse", "Conditional RMSE", "RMSE of final θ"),
        (axes[1, 0], "mean_length", "Conditional test length", "mean number of items"),
    )
    for ax, key, title, ylabel in panels:
        ax.plot(x, [c[key] for c in cond], marker="o")
        ax.set_title(title)
        ax.set_xlabel("true θ (bin mean)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0, 0].axhline(0.0, color="grey", lw=0.8)
    ax = axes[1, 1]
    ax.hist(result.item_exposure, bins=30, color="tab:orange")
    ax.set_title(f"Item exposure (max {report['max_exposure']:.2f})")
    ax.set_xlabel("exposure rate (share of examinees)")
    ax.set_ylabel("number of items")
    ax.grid(alpha=0.3)
    fig.suptitle(
        f"CAT simulation: {report['examinees']} examinees, mean length "
        f"{report['mean_length']:.1f}, RMSE {report['rmse']:.3f}"
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)


COMMANDS: list[click.Command] = [simulate_cat]
