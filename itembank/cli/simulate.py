"""CLI command ``simulate-cat``: run the CAT engine over simulated examinees."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
