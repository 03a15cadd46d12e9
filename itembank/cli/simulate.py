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
    from irt.cat.simulator import SimulationResult

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
    try:
        loaded = load_cat_config(config_path, overrides)
        bank = CatBank.build(pf.params, loaded.items)
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


def _jsonable(x: Any) -> Any:
    import numpy as np

    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
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
