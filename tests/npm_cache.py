"""JavaScript packages the browser tests use (an independent QTI player, axe-core), installed from
the npm registry at a pinned version into a cache folder outside the repository on first use.
No npm or no registry: the test fails, never skips."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gc-itembank" / "npm"


def npm_package(name: str, version: str, folder_name: str) -> Path:
    """The installed package's folder (``node_modules/<name>``), installed when not cached yet."""
    folder = CACHE / folder_name
    package = folder / "node_modules" / name
    if not (package / "package.json").exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(f"npm is missing: run bin/setup (the browser tests install {name}@{version} "
                        "from the npm registry)")
        folder.mkdir(parents=True, exist_ok=True)
        result = subprocess.run([npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund",
                                 "--no-save", f"{name}@{version}"], capture_output=True, text=True,
                                timeout=300, check=False)
        if result.returncode != 0 or not (package / "package.json").exists():
            pytest.fail(f"npm could not install {name}@{version}: {result.stderr[-2000:]}")
    return package
