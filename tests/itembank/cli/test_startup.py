"""``itembank --help`` and ``itembank validate`` start without the heavy libraries (scipy,
matplotlib, SQLAlchemy, WeasyPrint): the commands import what they need when they run.  The
option choices that the command modules spell out for that reason stay equal to the library's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("scipy", "matplotlib", "sqlalchemy", "weasyprint", "numpy", "irt")

PROBE = """
import json, sys
sys.argv = ["itembank", *json.loads(sys.argv[1])]
from itembank.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in HEAVY_NAMES)), file=sys.stderr)
"""


def loaded_modules(args: list[str]) -> set[str]:
    code = PROBE.replace("HEAVY_NAMES", repr(HEAVY))
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(args)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    return {m.split(".")[0] for m in json.loads(done.stderr.strip().splitlines()[-1])}


@pytest.mark.parametrize(
    "args",
    [["--help"], ["validate", "tests/data/units"], ["calibrate", "--help"], ["report", "--help"],
     ["questionnaire", "scale", "--help"]],
)
def test_starts_without_heavy_libraries(args: list[str]) -> None:
    assert loaded_modules(args) == set()


def test_the_probe_sees_a_command_that_does_load_them(tmp_path: Path) -> None:
    # score reads a PARAMS file with numpy before it fails on the missing one
    (tmp_path / "r.csv").write_text("person_id,i1\np1,1\n", encoding="utf-8")
    args = ["score", str(tmp_path / "r.csv"), "--params", str(tmp_path / "none.json"),
            "--method", "eap", "--out", str(tmp_path / "s.csv")]
    assert "numpy" in loaded_modules(args)


def test_option_choices_equal_the_library() -> None:
    from irt import linking, scoring
    from irt.calibration_mstep import FIT_MODELS
    from irt.cat.config import EXPOSURE_METHODS
    from irt.questionnaire import RMSD_THRESHOLD
    from irt.replicates import METHODS as REPLICATE_METHODS
    from itembank.accounts.models import ROLES
    from itembank.bank.schema import LANGUAGES
    from itembank.cli import analysis, paper, psychometrics, questionnaire, report, simulate, worker
    from itembank.research.jobs import DEFAULT_STALE_AFTER

    assert analysis.SCORING_METHODS == scoring.METHODS
    assert analysis.LINKING_METHODS == linking.METHODS
    assert psychometrics.FIT_MODELS == FIT_MODELS
    assert simulate.EXPOSURE_METHODS == EXPOSURE_METHODS
    assert paper.LANGUAGES == LANGUAGES
    assert worker.STALE_AFTER == DEFAULT_STALE_AFTER
    assert report.REPLICATE_METHODS == REPLICATE_METHODS
    assert questionnaire.RMSD_THRESHOLD == RMSD_THRESHOLD
    assert ROLES[0] == "student" and "admin" in ROLES
