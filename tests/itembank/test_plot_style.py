"""Charts carry Traditional Chinese: no glyph falls back to an empty box."""

from __future__ import annotations

import io
import warnings

from itembank.plot_style import figure


def test_chinese_labels_have_glyphs() -> None:
    fig = figure(figsize=(3, 2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1])
    ax.set_title("測驗資訊量（題數）")
    ax.set_xlabel("能力 θ")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        fig.savefig(io.BytesIO(), format="svg")
