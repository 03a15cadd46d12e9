"""One look for every chart the project draws with matplotlib, with fonts that carry Traditional
Chinese (Noto Sans CJK TC from Debian's fonts-noto-cjk) so zh-TW labels never become empty boxes.

Charts are drawn with :class:`matplotlib.figure.Figure` (no pyplot state); call :func:`figure`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib

if TYPE_CHECKING:  # not in every matplotlib the project allows (>= 3.8)
    from matplotlib.typing import RcKeyType

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

FONT_FAMILY = ["Noto Sans CJK TC", "Noto Sans CJK JP", "DejaVu Sans"]
STYLE: dict[RcKeyType, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": FONT_FAMILY,
    "axes.unicode_minus": False,  # the CJK font draws U+2212 poorly; a hyphen reads the same
    "svg.fonttype": "path",  # text as paths: the SVG shows the same glyphs without the font
}


def figure(**kwargs: Any) -> Figure:
    """A new figure with the project's fonts."""
    matplotlib.rcParams.update(STYLE)
    return Figure(**kwargs)
