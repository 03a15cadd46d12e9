"""CLI commands over the psychometric core: calibrate, score, link, dif."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
