"""Charts of calibration runs and learning-outcome reports as SVG (matplotlib's Agg backend and
the object API, no pyplot state, so it is safe in a threaded web server).  Texts are passed in
already translated; every figure comes from :func:`itembank.plot_style.figure`, whose fonts carry
Traditional Chinese, so zh-TW labels never become empty boxes."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib import rcParams  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from irt.models import ItemParameters as IrtParameters  # noqa: E402
from irt.models import expected_score, test_information  # noqa: E402
from itembank.plot_style import figure  # noqa: E402

rcParams["svg.hashsalt"] = "gc-itembank"
BLUE, ORANGE, GREY = "#1f5f8b", "#c25e00", "#6b7280"


def _svg(fig: Figure) -> str:
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def icc_svg(
    record: Mapping[str, Any], theta: np.ndarray, scores: np.ndarray, *, title: str,
    x_label: str, y_label: str, observed_label: str, model_label: str, n_bins: int = 10,
) -> str:
    """Expected score curve of one item against the mean observed score of the persons who took
    it, binned by their EAP θ (equal-count bins); scores: (N,) with NaN = not administered."""
    params = IrtParameters.from_records([record])
    grid = np.linspace(-4, 4, 161)
    top = int(params.n_categories[0]) - 1
    fig = figure(figsize=(5.6, 3.6))
    ax = fig.add_subplot()
    ax.plot(grid, expected_score(params, grid)[0], color=BLUE, linewidth=2, label=model_label)
    seen = ~np.isnan(scores) & np.isfinite(theta)
    if seen.sum() >= n_bins:
        th, sc = theta[seen], scores[seen]
        edges = np.quantile(th, np.linspace(0, 1, n_bins + 1))
        which = np.clip(np.searchsorted(edges, th, side="right") - 1, 0, n_bins - 1)
        mids = np.array([th[which == k].mean() for k in range(n_bins) if np.any(which == k)])
        obs = np.array([sc[which == k].mean() for k in range(n_bins) if np.any(which == k)])
        counts = np.array([np.sum(which == k) for k in range(n_bins) if np.any(which == k)])
        err = np.array([sc[which == k].std(ddof=1) / np.sqrt(max(np.sum(which == k), 1))
                        for k in range(n_bins) if np.any(which == k)])
        ax.errorbar(mids, obs, yerr=1.96 * err, fmt="o", color=ORANGE, capsize=3,
                    label=f"{observed_label} (n = {int(counts.sum())})")
    ax.set_ylim(-0.03 * top, top * 1.03)
    ax.set_xlim(-4, 4)
    ax.set_title(title)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return _svg(fig)


def information_svg(records: Sequence[Mapping[str, Any]], *, title: str, x_label: str,
                    y_label: str, se_label: str) -> str:
    """Test information of the items, with the conditional SE on a second axis."""
    params = IrtParameters.from_records(records)
    grid = np.linspace(-4, 4, 161)
    info = test_information(params, grid)
    fig = figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    ax.plot(grid, info, color=BLUE, linewidth=2)
    ax.fill_between(grid, info, color=BLUE, alpha=0.12)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label, color=BLUE)
    ax2 = ax.twinx()
    ax2.plot(grid, 1 / np.sqrt(np.maximum(info, 1e-9)), color=ORANGE, linestyle="--")
    ax2.set_ylim(0, 2)
    ax2.set_ylabel(se_label, color=ORANGE)
    ax.set_title(f"{title} (n = {params.n_items})")
    ax.grid(alpha=0.3)
    return _svg(fig)


def wright_map_svg(theta: Sequence[float], records: Sequence[Mapping[str, Any]], *, title: str,
                   persons_label: str, items_label: str, y_label: str) -> str:
    """Persons' θ histogram (left) against item difficulties (right; every GRM boundary or
    GPCM step of a polytomous item), on one θ axis."""
    th = np.asarray(theta, float)
    bs: list[float] = []
    for rec in records:
        bs.extend(rec["b"] if isinstance(rec["b"], list) else [rec["b"]])
    low = min(-4.0, float(np.nanmin(th)) if th.size else -4.0, min(bs, default=-4.0))
    high = max(4.0, float(np.nanmax(th)) if th.size else 4.0, max(bs, default=4.0))
    bins = np.linspace(low, high, 33)
    fig = figure(figsize=(6.4, 4.4))
    left, right = fig.subplots(1, 2, sharey=True)
    left.hist(th, bins=bins, orientation="horizontal", color=BLUE, alpha=0.8)
    left.invert_xaxis()
    left.set_title(f"{persons_label} (n = {th.size})", fontsize=10)
    left.set_ylabel(y_label)
    right.hist(bs, bins=bins, orientation="horizontal", color=ORANGE, alpha=0.8)
    right.set_title(f"{items_label} (n = {len(bs)})", fontsize=10)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return _svg(fig)


def group_means_svg(rows: Sequence[Any], *, title: str, y_label: str) -> str:
    """Group means with 95% intervals (suppressed groups left out)."""
    shown = [r for r in rows if not r.suppressed]
    fig = figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    x = np.arange(len(shown))
    ax.bar(x, [r.mean for r in shown], color=BLUE, alpha=0.85,
           yerr=[1.96 * r.se for r in shown], capsize=4)
    ax.set_xticks(x, [r.group for r in shown], rotation=30 if len(shown) > 6 else 0, ha="right"
                  if len(shown) > 6 else "center")
    if shown:
        lo = min(r.mean - 3 * r.se for r in shown)
        hi = max(r.mean + 3 * r.se for r in shown)
        ax.set_ylim(lo - 0.1 * (hi - lo) - 10, hi + 0.1 * (hi - lo) + 10)
    ax.set_ylabel(y_label)
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="y")
    return _svg(fig)


def level_shares_svg(rows: Sequence[Any], labels: Sequence[str], *, title: str,
                     x_label: str) -> str:
    """Stacked horizontal bars: percent of each group at each level."""
    shown = [r for r in rows if not r.suppressed and r.level_shares]
    fig = figure(figsize=(6.4, 1.4 + 0.45 * max(len(shown), 3)))
    ax = fig.add_subplot()
    colors = matplotlib.colormaps["viridis"](np.linspace(0.1, 0.9, max(len(labels), 1)))
    left = np.zeros(len(shown))
    for k, label in enumerate(labels):
        vals = np.array([r.level_shares[k] for r in shown])
        ax.barh(np.arange(len(shown)), vals, left=left, color=colors[k], label=label)
        left += vals
    ax.set_yticks(np.arange(len(shown)), [r.group for r in shown])
    ax.set_xlim(0, 100)
    ax.set_xlabel(x_label)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return _svg(fig)


def trend_svg(rows: Sequence[Any], *, title: str, y_label: str, x_label: str) -> str:
    """One line per group over the windows, with 95% intervals."""
    fig = figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    windows = sorted({r.window for r in rows if not r.suppressed})
    pos = {w: k for k, w in enumerate(windows)}
    for group in sorted({r.group for r in rows}):
        pts = [r for r in rows if r.group == group and not r.suppressed]
        if pts:
            ax.errorbar([pos[r.window] for r in pts], [r.mean for r in pts],
                        yerr=[1.96 * r.se for r in pts], marker="o", capsize=3, label=group)
    ax.set_xticks(range(len(windows)), windows)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if rows:
        ax.legend(fontsize=8)
    return _svg(fig)

