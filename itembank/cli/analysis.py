"""CLI commands that analyse data with known parameters: score, link, dif."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
