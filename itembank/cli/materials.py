"""CLI commands for the teaching-materials exchange: ``itembank materials export OUT.jsonld`` and
``itembank materials import IN.jsonld`` (schema.org LearningResource JSON-LD, metadata only)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .database import open_bank


@click.group("materials")
def materials() -> None:
    """Teaching materials: metadata as schema.org LearningResource JSON-LD."""


@materials.command("export")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def export(out: Path) -> None:
    """Write every material's metadata to OUT.jsonld (files' bytes are named by SHA-256, not
    included)."""
    from sqlalchemy import select

    from itembank.accounts import audit
    from itembank.db import unit_of_work
    from itembank.materials.jsonld import to_jsonld
    from itembank.materials.models import Material

    factory = open_bank()
    with factory() as session:
        rows = list(session.scalars(select(Material).order_by(Material.uid)))
        document = to_jsonld(session, rows)
        with unit_of_work(session):
            audit.record(session, audit.cli_actor(), "material.export", f"file:{out.name}",
                         {"materials": len(rows)})
    out.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    click.echo(f"{len(rows)} material(s) written to {out}")


@materials.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(path: Path) -> None:
    """Create or update (by identifier) the materials of IN.jsonld, all or nothing.  Every problem
    is printed as IN.jsonld: entry N (identifier): field: message, and nothing is written."""
    from itembank.accounts import audit
    from itembank.db import transaction
    from itembank.materials.jsonld import JsonLdError, import_document

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        click.echo(f"{path}: not JSON: {exc}", err=True)
        raise SystemExit(1) from None
    factory = open_bank()
    try:
        with transaction(factory) as session:
            created, updated = import_document(session, document, str(path))
            audit.record(session, audit.cli_actor(), "material.import", f"file:{path.name}",
                         {"created": created, "updated": updated})
    except JsonLdError as exc:
        for problem in exc.problems:
            click.echo(f"{path}: {problem}", err=True)
        click.echo(f"{len(exc.problems)} problem(s) found; nothing was changed.", err=True)
        raise SystemExit(1) from None
    click.echo(f"{created} material(s) created, {updated} updated")


COMMANDS = [materials]
