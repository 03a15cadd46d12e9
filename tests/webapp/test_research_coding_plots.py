"""Every research chart renders zh-TW labels with real glyphs: matplotlib warns "Glyph ... missing
from font(s)" when a character falls back to an empty box, and here that warning is an error."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from itembank.research import plots
from itembank.research.reports import GroupRow

RECORDS = [
    {"id": "A", "model": "2pl", "a": 1.2, "b": -0.5, "c": None},
    {"id": "B", "model": "2pl", "a": 0.8, "b": 0.7, "c": None},
    {"id": "C", "model": "grm", "a": 1.0, "b": [-1.0, 0.4], "c": None},
]
GROUPS = [
    GroupRow("臺北市立第一中學", "2026-05", 40, False, 512.3, 6.1, [20.0, 50.0, 30.0]),
    GroupRow("新北市立第二中學", "2026-05", 35, False, 488.0, 7.4, [35.0, 45.0, 20.0]),
    GroupRow("小型學校", "2026-05", 3, True),
    GroupRow("臺北市立第一中學", "2026-11", 42, False, 520.9, 5.9, [18.0, 50.0, 32.0]),
]


def _charts() -> dict[str, Callable[[], str]]:
    rng = np.random.default_rng(7)
    theta = rng.normal(size=300)
    scores = (rng.random(300) < 1 / (1 + np.exp(-(1.2 * (theta + 0.5))))).astype(float)
    levels = ["未達基礎", "基礎", "精熟"]
    return {
        "icc": lambda: plots.icc_svg(RECORDS[0], theta, scores, title="題目 A 的特徵曲線",
                                     x_label="能力 θ（EAP）", y_label="期望得分",
                                     observed_label="觀察平均", model_label="模式"),
        "information": lambda: plots.information_svg(RECORDS, title="測驗資訊量", x_label="θ",
                                                     y_label="資訊量", se_label="標準誤"),
        "wright": lambda: plots.wright_map_svg(theta, RECORDS, title="懷特圖",
                                               persons_label="受試者（EAP θ）",
                                               items_label="題目難度", y_label="θ"),
        "means": lambda: plots.group_means_svg(GROUPS[:3], title="各學校的平均分數",
                                               y_label="量尺分數"),
        "levels": lambda: plots.level_shares_svg(GROUPS[:3], levels, title="各學校各等級的學生",
                                                 x_label="學生百分比"),
        "trend": lambda: plots.trend_svg(GROUPS, title="各施測梯次的趨勢", y_label="量尺分數",
                                         x_label="施測梯次"),
    }


@pytest.mark.parametrize("name", list(_charts()))
def test_chart_draws_chinese_without_missing_glyphs(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        svg = _charts()[name]()
    assert svg.startswith("<?xml")
    # the project's style, not matplotlib's default DejaVu-only list, was in force
    assert matplotlib.rcParams["font.sans-serif"][0] == "Noto Sans CJK TC"
    assert "<text" not in svg  # text drawn as glyph paths (svg.fonttype = path)


def test_default_font_would_fail() -> None:
    """The check above can fail: with matplotlib's default fonts the same chart warns."""
    with matplotlib.rc_context({"font.sans-serif": ["DejaVu Sans"]}):
        fig = Figure(figsize=(3, 2))
        fig.add_subplot().set_title("測驗資訊量")
        with pytest.warns(UserWarning, match="missing from font"):
            fig.savefig(io.BytesIO(), format="svg")
