"""The authoring workflow as a service (no web framework): saving edited units as new versions,
the steps draft → review → approved → retired → released with their comments, and translation
verification.

Rules (docs/authoring.md):

- Every save of changed content is a new version (kept forever, with its author and time) in
  status ``draft``; an approved version stays in use for delivery until a newer one is approved
  (:func:`itembank.bank.queries.in_use_versions`).  Saving goes through
  :func:`itembank.bank.importer.save_unit`, like ``itembank import``.
- Parameters (``irt`` blocks) are never edited here: they are carried over by item id from the
  version before, and dropped (with a note) when the item's score range no longer fits them.
- A version that changes a text in one language only raises a :class:`TranslationCheck` for the
  other language; open checks block approval until a translator verifies them.  A translator's own
  edit verifies the checks on the texts it touches and raises none.
- A translator changes texts only: the unit with every text blanked out must stay the same.
- A reviewer approves only versions they had no hand in since the last approval.
- A retired unit may be released (reviewers, administrators): its keys, rationales and coding
  guide may then be shown to students in practice tests.  A released unit is never edited again
  (its keys are public: new items need new ids), so it can never return to operational use.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank.bank.importer import save_unit
from itembank.bank.models import Item, MediaFile, Unit, UnitVersion
from itembank.bank.queries import unit_schema
from itembank.bank.schema import LANGUAGES, ImageBlock, rationale_parts
from itembank.bank.schema import Unit as UnitSchema
from itembank.bank.yaml_export import content_hash, unit_content, without_irt
from itembank.errors import ItembankError

from .models import TextChange, TranslationCheck, WorkflowEvent

AUTHORS = ("teacher", "admin")
REVIEWERS = ("reviewer", "admin")
TRANSLATORS = ("translator", "admin")
READERS = ("teacher", "reviewer", "translator", "researcher", "admin")
EDITORS = tuple(dict.fromkeys(AUTHORS + TRANSLATORS))
COMMENTERS = tuple(dict.fromkeys(AUTHORS + REVIEWERS + TRANSLATORS))


class WorkflowError(ItembankError):
    """A step that is not allowed now, or not to this person; nothing was changed."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path  # the field concerned (``items[2].irt``), when there is one


@dataclass(frozen=True)
class Actor:
    """Who acts: a plain copy of the logged-in user (or the CLI's operator)."""

    id: int | None
    username: str
    role: str


@dataclass
class SaveResult:
    version: UnitVersion | None  # None: nothing changed
    created: bool = False
    notes: list[str] = field(default_factory=list)
    checks_raised: list[str] = field(default_factory=list)
    checks_verified: list[str] = field(default_factory=list)


# -- texts ----------------------------------------------------------------------------------------
def _is_local_text(value: Any) -> bool:
    return (isinstance(value, dict) and set(value) == set(LANGUAGES)
            and all(isinstance(value[lang], str) for lang in LANGUAGES))


def _segment(element: Any, index: int) -> str:
    if isinstance(element, dict):
        for key in ("id", "code"):
            if isinstance(element.get(key), str | int):
                return f"[{element[key]}]"
    return f"[{index}]"


def _walk(value: Any, path: str) -> Iterator[tuple[str, dict[str, str]]]:
    if _is_local_text(value):
        yield path, value
    elif isinstance(value, dict):
        for key, sub in value.items():
            if key == "irt":
                continue
            yield from _walk(sub, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _walk(sub, f"{path}{_segment(sub, i)}")


def local_texts(content: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Every bilingual text of a unit's content by a stable path (ids, not positions, where there
    are ids): ``{"items[Q1].options[A].text": {"zh-TW": ..., "en": ...}}``."""
    return dict(_walk(dict(content), ""))


def changed_texts(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, set[str]]:
    """Path → the languages whose text differs (texts new in ``after`` count as both changed)."""
    old, new = local_texts(before), local_texts(after)
    out: dict[str, set[str]] = {}
    for path, texts in new.items():
        langs = {lang for lang in LANGUAGES if path not in old or old[path][lang] != texts[lang]}
        if langs:
            out[path] = langs
    return out


def skeleton(content: Mapping[str, Any]) -> str:
    """The unit with every bilingual text blanked out (what a translator must leave as it is)."""

    def blank(value: Any) -> Any:
        if _is_local_text(value):
            return {lang: "" for lang in LANGUAGES}
        if isinstance(value, dict):
            return {k: blank(v) for k, v in value.items() if k not in ("irt", "version", "status")}
        if isinstance(value, list):
            return [blank(v) for v in value]
        return value

    return json.dumps(blank(dict(content)), sort_keys=True, ensure_ascii=False)


# -- reading --------------------------------------------------------------------------------------
def get_unit(session: Session, unit_id: str) -> Unit:
    row = session.get(Unit, unit_id)
    if row is None or not row.versions:
        raise LookupError(unit_id)
    return row


def version_of(row: Unit, number: int) -> UnitVersion:
    for version in row.versions:
        if version.version == number:
            return version
    raise LookupError(f"{row.id} v{number}")


def in_use(row: Unit) -> UnitVersion | None:
    """The version delivery uses: the newest approved one."""
    approved = [v for v in row.versions if v.status == "approved"]
    return approved[-1] if approved else None


def open_checks(session: Session, unit_id: str) -> list[TranslationCheck]:
    return list(session.scalars(
        select(TranslationCheck)
        .where(TranslationCheck.unit_id == unit_id, TranslationCheck.status == "open")
        .order_by(TranslationCheck.id)
    ))


def open_check_counts(session: Session) -> dict[str, int]:
    counts: dict[str, int] = {}
    for unit_id in session.scalars(select(TranslationCheck.unit_id).where(TranslationCheck.status == "open")):
        counts[unit_id] = counts.get(unit_id, 0) + 1
    return counts


def events(session: Session, unit_id: str) -> list[WorkflowEvent]:
    return list(session.scalars(
        select(WorkflowEvent).where(WorkflowEvent.unit_id == unit_id).order_by(WorkflowEvent.id)
    ))


def text_changes(session: Session, version_ids: list[int]) -> dict[int, list[TextChange]]:
    out: dict[int, list[TextChange]] = {v: [] for v in version_ids}
    if version_ids:
        for row in session.scalars(select(TextChange).where(TextChange.unit_version_id.in_(version_ids))
                                   .order_by(TextChange.id)):
            out[row.unit_version_id].append(row)
    return out


def media_bytes(session: Session, version: UnitVersion) -> dict[str, bytes]:
    images = {}
    for src, digest in version.media.items():
        row = session.get(MediaFile, digest)
        if row is not None:
            images[src] = row.data
    return images


def editable_content(version: UnitVersion) -> dict[str, Any]:
    """A version's content as an author edits it: canonical order, no irt blocks."""
    return without_irt(unit_content(unit_schema(version)))


# -- saving -----------------------------------------------------------------------------------------
def _require(actor: Actor, roles: tuple[str, ...], what: str) -> None:
    if actor.role not in roles:
        raise WorkflowError(f"your role ({actor.role}) may not {what}")


def _carry_parameters(unit: UnitSchema, base: UnitVersion | None, notes: list[str]) -> UnitSchema:
    """``unit`` without its own irt blocks, with the base version's parameters where they fit."""
    params = {}
    if base is not None:
        params = {iv.item_id: iv.parameters for iv in base.item_versions if iv.parameters is not None}
    data = unit.model_dump(mode="json", by_alias=True, exclude_none=True)
    for item, stored in zip(unit.items, data["items"], strict=True):
        stored.pop("irt", None)
        row = params.get(item.id)
        if row is None:
            continue
        block = row.irt_block()
        n_scores = len(block["b"]) + 1 if isinstance(block["b"], list) else 2
        if n_scores == item.max_score + 1:
            stored["irt"] = block
        else:
            notes.append(f"items[{item.id}].irt: the item now scores 0..{item.max_score}; its parameters "
                         f"from {block['calibration']} no longer fit and were left out (recalibrate it)")
    return UnitSchema.model_validate(data)


def save_version(
    session: Session,
    unit: UnitSchema,
    actor: Actor,
    *,
    new_images: Mapping[str, bytes] | None = None,
    translator_only: bool = False,
    comment: str | None = None,
    action: str = "edit",
) -> SaveResult:
    """Store an edited (or new) unit as a new draft version in the caller's transaction.

    ``new_images``: uploaded images by src; other image srcs must be those of the version before.
    Raises :class:`WorkflowError` when the edit is not allowed; changes nothing then."""
    if translator_only:
        _require(actor, TRANSLATORS, "edit translations")
    else:
        _require(actor, AUTHORS, "write units")
    row = session.get(Unit, unit.id)
    base = row.latest if row is not None and row.versions else None
    if base is not None and base.status == "released":
        raise WorkflowError("this unit is released for practice: its keys are public, so it is "
                            "never edited or used operationally again; write a new unit with new "
                            "item ids instead")
    if translator_only and base is None:
        raise WorkflowError("a translator edits the texts of an existing unit only")
    notes: list[str] = []
    unit = _carry_parameters(unit, base, notes)
    unit = unit.model_copy(update={"status": "draft", "version": base.version if base else 1})
    content = unit_content(unit)
    if translator_only and base is not None and skeleton(content) != skeleton(editable_content(base)):
        raise WorkflowError("a translator may change texts only; ids, keys, scoring and the unit's "
                            "structure stay as they are")
    for i, item in enumerate(unit.items):
        owner = session.scalars(select(Item.unit_id).where(Item.id == item.id)).first()
        if owner is not None and owner != unit.id:
            raise WorkflowError(f"item id {item.id!r} belongs to unit {owner!r}; give this item a new id",
                                f"items[{i}].id")
    images: dict[str, bytes] = {}
    known = media_bytes(session, base) if base is not None else {}
    for i, block in enumerate(unit.stimulus):
        if isinstance(block, ImageBlock):
            if new_images and block.src in new_images:
                images[block.src] = new_images[block.src]
            elif block.src in known:
                images[block.src] = known[block.src]
            else:
                raise WorkflowError(f"no uploaded image {block.src!r}; upload the image with the form",
                                    f"stimulus[{i}].src")
    if base is not None and content_hash(content) == base.content_hash and \
            set(images) == set(base.media) and all(k in known and known[k] == v for k, v in images.items()):
        return SaveResult(None, notes=notes)
    relpath = row.source_path if row is not None else f"{unit.id}.yaml"
    save_unit(session, unit, relpath, images, author=actor.username)
    session.flush()
    row = session.get(Unit, unit.id)
    assert row is not None
    session.refresh(row)
    version = row.latest
    result = SaveResult(version, created=base is None, notes=notes)
    if base is not None:
        _record_text_changes(session, row, base, version, actor, result, translator_only)
    _event(session, version, actor, "create" if base is None else action,
           base.status if base is not None else None, "draft", comment)
    return result


def _record_text_changes(session: Session, row: Unit, base: UnitVersion, version: UnitVersion,
                         actor: Actor, result: SaveResult, translator_only: bool) -> None:
    now = datetime.now(UTC)
    changes = changed_texts(base.content, version.content)
    for path, langs in sorted(changes.items()):
        for lang in sorted(langs):
            session.add(TextChange(unit_version_id=version.id, path=path, language=lang))
    present = local_texts(version.content)
    existing = {(c.path, c.language): c for c in open_checks(session, row.id)}
    for (path, _lang), check in existing.items():
        if path not in present:
            check.status, check.resolved_at, check.resolved_in_version_id = "obsolete", now, version.id
    if translator_only:
        for (path, lang), check in existing.items():
            if check.status == "open" and lang in changes.get(path, set()):
                check.status, check.resolved_at = "verified", now
                check.resolved_by_id, check.resolved_by = actor.id, actor.username
                check.resolved_in_version_id = version.id
                result.checks_verified.append(f"{path} ({lang})")
        return
    before = local_texts(base.content)
    for path, langs in sorted(changes.items()):
        if path not in before or len(langs) != 1:
            continue  # a new text, or both languages rewritten together by the author
        (changed,) = langs
        other = next(lang for lang in LANGUAGES if lang != changed)
        if (path, other) in existing and existing[(path, other)].status == "open":
            continue
        session.add(TranslationCheck(unit_id=row.id, raised_in_version_id=version.id, path=path,
                                     language=other, changed_language=changed, status="open"))
        result.checks_raised.append(f"{path} ({other})")


def _event(session: Session, version: UnitVersion, actor: Actor, action: str, from_status: str | None,
           to_status: str | None, comment: str | None) -> WorkflowEvent:
    event = WorkflowEvent(unit_id=version.unit_id, unit_version_id=version.id, action=action,
                          from_status=from_status, to_status=to_status, user_id=actor.id,
                          username=actor.username, comment=(comment or "").strip() or None)
    session.add(event)
    session.flush()
    return event


# -- steps ----------------------------------------------------------------------------------------
def _authors_since_approval(row: Unit) -> set[str]:
    """Who wrote the versions since the last approved one (up to the latest)."""
    names: set[str] = set()
    for version in reversed(row.versions):
        if version.status == "approved" and version is not row.latest:
            break
        if version.created_by:
            names.add(version.created_by)
    return names


def submit(session: Session, unit_id: str, actor: Actor, comment: str | None = None) -> UnitVersion:
    """draft → review."""
    _require(actor, AUTHORS, "submit units for review")
    version = get_unit(session, unit_id).latest
    if version.status != "draft":
        raise WorkflowError(f"only a draft can be submitted for review; this version is {version.status}")
    version.status = "review"
    _event(session, version, actor, "submit", "draft", "review", comment)
    return version


def missing_rationales(unit: UnitSchema) -> list[str]:
    """The options of single- and multiple-choice items and the statements of complex-choice items
    that have no rationale (a rationale has both languages: LocalText refuses a blank one), as
    ``ITEM/OPTION``."""
    missing = []
    for item in unit.items:
        for part in rationale_parts(item):
            if part.rationale is None:
                missing.append(f"{item.id}/{part.id}")
    return missing


def approve(session: Session, unit_id: str, actor: Actor, comment: str | None = None) -> UnitVersion:
    """review → approved, by a reviewer who did not write it, with every translation verified."""
    _require(actor, REVIEWERS, "approve units")
    row = get_unit(session, unit_id)
    version = row.latest
    if version.status != "review":
        raise WorkflowError(f"only a version in review can be approved; this version is {version.status}")
    if actor.username in _authors_since_approval(row):
        raise WorkflowError("you wrote this version; a reviewer other than its author must approve it")
    pending = open_checks(session, unit_id)
    if pending:
        raise WorkflowError(f"{len(pending)} translation(s) still need verification by a translator")
    missing = missing_rationales(unit_schema(version))
    if missing:
        raise WorkflowError("every option needs a rationale (why a student would choose it) before "
                            f"approval; missing: {', '.join(missing)}")
    version.status = "approved"
    _event(session, version, actor, "approve", "review", "approved", comment)
    return version


def return_to_draft(session: Session, unit_id: str, actor: Actor, comment: str | None) -> UnitVersion:
    """review → draft, with the reviewer's reasons."""
    _require(actor, REVIEWERS, "return units to their authors")
    if not (comment or "").strip():
        raise WorkflowError("say in a comment what the author should change")
    version = get_unit(session, unit_id).latest
    if version.status != "review":
        raise WorkflowError(f"only a version in review can be returned; this version is {version.status}")
    version.status = "draft"
    _event(session, version, actor, "return", "review", "draft", comment)
    return version


def retire(session: Session, unit_id: str, actor: Actor, comment: str | None = None) -> UnitVersion:
    """approved → retired: the unit leaves delivery."""
    _require(actor, REVIEWERS, "retire units")
    version = get_unit(session, unit_id).latest
    if version.status != "approved":
        raise WorkflowError(f"only an approved version can be retired; this version is {version.status}")
    version.status = "retired"
    _event(session, version, actor, "retire", "approved", "retired", comment)
    return version


RELEASE_ACTION = "release"  # the event's action (allowed by migration 0015)


def release(session: Session, unit_id: str, actor: Actor, comment: str | None = None) -> UnitVersion:
    """retired → released: the unit may be used in practice tests, which show students its keys,
    option rationales and coding guide's examples.  Final: a released unit is never edited."""
    _require(actor, REVIEWERS, "release units")
    version = get_unit(session, unit_id).latest
    if version.status != "retired":
        raise WorkflowError(f"only a retired version can be released; this version is {version.status}")
    version.status = "released"
    _event(session, version, actor, RELEASE_ACTION, "retired", "released", comment)
    return version


def add_comment(session: Session, unit_id: str, actor: Actor, comment: str) -> WorkflowEvent:
    _require(actor, COMMENTERS, "comment on units")
    if not comment.strip():
        raise WorkflowError("the comment is empty")
    version = get_unit(session, unit_id).latest
    return _event(session, version, actor, "comment", None, None, comment)


def verify_translation(session: Session, check_id: int, actor: Actor, comment: str | None = None) -> TranslationCheck:
    """A translator confirms that the translation still says what the changed text says."""
    _require(actor, TRANSLATORS, "verify translations")
    check = session.get(TranslationCheck, check_id)
    if check is None:
        raise LookupError(check_id)
    if check.status != "open":
        raise WorkflowError(f"this check is already {check.status}")
    version = get_unit(session, check.unit_id).latest
    check.status, check.resolved_at = "verified", datetime.now(UTC)
    check.resolved_by_id, check.resolved_by = actor.id, actor.username
    check.resolved_in_version_id, check.comment = version.id, (comment or "").strip() or None
    _event(session, version, actor, "verify", None, None,
           f"{check.path} ({check.language})" + (f": {check.comment}" if check.comment else ""))
    return check


STEPS = {"submit": submit, "approve": approve, "return": return_to_draft, "retire": retire,
         "release": release}
