"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium (installed by bin/setup),
launched the way this machine needs (no sandbox as root, no background network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def launch_chromium(playwright: Any) -> Any:
    """A headless Chromium from a running ``sync_playwright()``; fails (never skips) when missing."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run bin/setup (it installs Debian's chromium)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
