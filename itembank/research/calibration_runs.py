"""Calibration runs asked for in the web app: the settings are stored with a queued job; the
worker (:func:`run_job`) loads the chosen data sets, calibrates with :class:`irt.calibration.
Calibrator` (models per item type, the bank's current parameters as anchors if asked), computes
item fit (S-X², RMSD, infit/outfit), DIF between two groups (Mantel–Haenszel) and the persons'
EAP θ, and stores it all as the run's result under the job's lease."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from irt.calibration import CalibrationError, Calibrator
from irt.dif import DIFError, mantel_haenszel
from irt.fit import mean_squares, rmsd, s_x2
from irt.models import ItemParameters as IrtParameters
from irt.scoring import eap
from itembank.bank.models import ItemVersion
from itembank.bank.params_json import _jsonable, params_file_from_result, params_to_document
from itembank.bank.queries import in_use_versions

from . import jobs
from .datasets import Matrix, dataset_from_sessions, latest_item_versions, load_matrix
from .models import CalibrationRun, Dataset

ITEM_TYPES = ("single_choice", "multiple_choice", "complex_choice", "short_response", "open_response", "order")
DICHOTOMOUS_MODELS = ("rasch", "2pl", "3pl")
POLYTOMOUS_MODELS = ("gpcm", "pcm", "grm")
DEFAULT_MODELS = {
    "single_choice": "2pl", "multiple_choice": "gpcm", "complex_choice": "gpcm",
    "short_response": "2pl", "open_response": "gpcm", "order": "2pl",
}
GROUP_COLUMNS = ("city", "school", "grade", "language", "gender")
RMSD_FLAG = 0.12  # OECD 2017, ch. 9
SX2_ALPHA = 0.01
JOB_KIND = "calibration"


class RunSettingsError(ValueError):
    """Settings a run cannot use; ``field`` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def current_item_versions(session: Session, item_ids: Sequence[str] | None = None) -> list[ItemVersion]:
    """The item versions whose parameters the bank uses now: each item's version in its unit's
    approved version in use and in its unit's latest version (one or two per item)."""
    wanted = None if item_ids is None else set(item_ids)
    out: dict[int, ItemVersion] = {}
    for version in in_use_versions(session):
        for iv in version.item_versions:
            if wanted is None or iv.item_id in wanted:
                out[iv.id] = iv
    for iv in latest_item_versions(session, item_ids).values():
        out[iv.id] = iv
    return list(out.values())


def current_parameters(session: Session, item_ids: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """PARAMS.json records of the bank's current parameters (the approved version in use wins
    over a newer draft), with ``calibration`` and ``se``."""
    records: dict[str, dict[str, Any]] = {}
    latest = latest_item_versions(session, item_ids)
    in_use = {iv.item_id: iv for v in in_use_versions(session) for iv in v.item_versions}
    for item_id in set(latest) | ({i for i in in_use if item_ids is None or i in set(item_ids)}):
        iv = in_use.get(item_id) or latest.get(item_id)
        p = iv.parameters if iv is not None else None
        if p is not None:
            records[item_id] = {"id": item_id, "model": p.model, "a": p.a, "b": p.b, "c": p.c,
                                "calibration": p.calibration_id, "se": p.se or {}}
    return records


def create_run(
    session: Session,
    *,
    name: str,
    dataset_ids: Sequence[int],
    models: Mapping[str, str] | None = None,
    anchor: bool = False,
    dif: Mapping[str, str] | None = None,
    max_iter: int = 500,
    created_by: int | None = None,
) -> CalibrationRun:
    """Check the settings and queue the run (in the caller's transaction)."""
    if not dataset_ids:
        raise RunSettingsError("datasets", "choose at least one data set")
    found = set(session.scalars(select(Dataset.id).where(Dataset.id.in_(list(dataset_ids)))))
    if missing := sorted(set(dataset_ids) - found):
        raise RunSettingsError("datasets", f"no data set {missing[0]}")
    chosen = {**DEFAULT_MODELS, **(models or {})}
    for kind, model in chosen.items():
        if kind not in ITEM_TYPES or model not in (*DICHOTOMOUS_MODELS, *POLYTOMOUS_MODELS):
            raise RunSettingsError(f"model_{kind}", f"unknown item type or model {kind}: {model}")
    item_ids = sorted({i for d in session.scalars(select(Dataset).where(Dataset.id.in_(found)))
                       for i in d.item_ids})
    for item_id, iv in sorted(latest_item_versions(session, item_ids).items()):
        if iv.max_score > 1 and chosen[iv.type] in DICHOTOMOUS_MODELS:
            raise RunSettingsError(
                f"model_{iv.type}",
                f"item {item_id} scores 0–{iv.max_score}: its type {iv.type} needs a partial-credit model",
            )
    if dif:
        if dif.get("group") not in GROUP_COLUMNS:
            raise RunSettingsError("dif_group", f"unknown group column {dif.get('group')!r}")
        if not dif.get("reference") or not dif.get("focal") or dif["reference"] == dif["focal"]:
            raise RunSettingsError("dif_focal", "give two different groups to compare")
    settings = {
        "datasets": sorted(found), "models": chosen, "anchor": bool(anchor),
        "dif": dict(dif) if dif else None, "max_iter": int(max_iter),
    }
    job = jobs.enqueue(session, JOB_KIND, {}, created_by=created_by)
    run = CalibrationRun(job_id=job.id, name=name, settings=settings, created_by=created_by)
    session.add(run)
    session.flush()
    job.payload = {"run_id": run.id}
    return run


def create_online_run(
    session: Session, test_id: str, *, name: str, created_by: int | None = None
) -> CalibrationRun:
    """Online calibration of a test's pretest units (in the caller's transaction): a data set of
    the test's online sessions, and a run that anchors every item with published parameters (so
    the operational items stay fixed and the pretest items land on the bank's scale), with DIF
    between the two languages.  It is reviewed and published like any other run."""
    dataset = dataset_from_sessions(session, test_id, name=f"{test_id} (online)",
                                    created_by=created_by)
    return create_run(
        session, name=name, dataset_ids=[dataset.id], anchor=True,
        dif={"group": "language", "reference": "zh-TW", "focal": "en"}, created_by=created_by,
    )


def _fit_statistics(params: IrtParameters, scores: np.ndarray, result: Any) -> dict[str, dict[str, Any]]:
    mu, sd = float(result.population_mean), float(result.population_sd)
    out: dict[str, dict[str, Any]] = {i: {} for i in params.ids}
    sx = s_x2(params, scores, prior_mean=mu, prior_sd=sd)
    rm = rmsd(params, scores, prior_mean=mu, prior_sd=sd)
    ms = mean_squares(params, scores)
    for j, item_id in enumerate(params.ids):
        entry = out[item_id]
        entry.update(s_x2=sx.statistic[j], s_x2_df=sx.df[j], s_x2_p=sx.p_value[j],
                     rmsd=rm.rmsd[j], infit=ms.infit[j], outfit=ms.outfit[j])
        flags = []
        if np.isfinite(sx.p_value[j]) and sx.p_value[j] < SX2_ALPHA:
            flags.append("s_x2_misfit")
        if np.isfinite(rm.rmsd[j]) and rm.rmsd[j] > RMSD_FLAG:
            flags.append("rmsd_misfit")
        entry["fit_flags"] = flags
    return out


def analyse(
    matrix: Matrix, models: Mapping[str, str], *, types: Mapping[str, str],
    anchors: Sequence[Mapping[str, Any]] | None = None, dif: Mapping[str, str] | None = None,
    max_iter: int = 500, progress: Any = None,
) -> dict[str, Any]:
    """Calibrate a matrix and describe the items: the run's result document."""
    item_models = {i: models[types[i]] for i in matrix.item_ids}
    keep = [a for a in (anchors or []) if a["id"] in set(matrix.item_ids)]

    def em_progress(iteration: int, max_iterations: int, change: float) -> None:
        if progress is not None:
            fraction = 0.05 + 0.7 * (1.0 - np.exp(-iteration / 15.0))
            progress(fraction, f"EM {iteration}: Δ {change:.2g}")

    cal = Calibrator("2pl", item_models=item_models, anchors=keep or None, max_iter=max_iter,
                     drop_degenerate=True, progress=em_progress)
    result = cal.fit(matrix.scores, matrix.item_ids)
    doc = params_to_document(params_file_from_result(result))
    kept = [matrix.item_ids.index(i) for i in result.params.ids]
    scores = matrix.scores[:, kept]
    if progress is not None:
        progress(0.8, "fit", force=True)
    fit = _fit_statistics(result.params, scores, result)
    theta = eap(result.params, scores, prior_mean=result.population_mean,
                prior_sd=result.population_sd)
    dif_out: dict[str, Any] = {}
    if dif:
        if progress is not None:
            progress(0.9, "DIF", force=True)
        labels = np.array([str(p.get(dif["group"]) or "") for p in matrix.persons], dtype=object)
        try:
            res = mantel_haenszel(scores, labels, reference=dif["reference"], focal=dif["focal"],
                                  item_ids=list(result.params.ids),
                                  n_categories=result.params.n_categories)
            dif_out = {d.id: d.to_dict() for d in res.items}
        except DIFError as exc:
            doc["dif_error"] = str(exc)
    for entry in doc["items"]:
        entry["fit"].update(_jsonable(fit[entry["id"]]))
        entry["type"] = types[entry["id"]]
        if entry["id"] in dif_out:
            entry["dif"] = dif_out[entry["id"]]
    doc["dropped"] = dict(result.dropped)
    doc["warnings"] = list(result.warnings)
    doc["n_persons"] = int(result.n_persons)
    doc["theta"] = [round(float(t), 4) for t in theta.theta]
    doc["anchored"] = sorted(result.anchored)
    return doc


def run_job(ctx: jobs.JobContext) -> None:
    """The worker's handler of a calibration job."""
    run_id = int(ctx.payload["run_id"])
    with ctx.factory() as s:
        run = s.get(CalibrationRun, run_id)
        if run is None:
            raise jobs.PermanentJobError(f"no calibration run {run_id}", failure="run_missing")
        settings = dict(run.settings)
        ctx.progress(0.01, "loading data", force=True)
        matrix = load_matrix(s, settings["datasets"])
        types = {i: iv.type for i, iv in latest_item_versions(s, matrix.item_ids).items()}
        anchors = list(current_parameters(s, matrix.item_ids).values()) if settings["anchor"] else None
    if not matrix.item_ids:
        raise jobs.PermanentJobError("the chosen data sets hold no responses", failure="no_responses")
    try:
        doc = analyse(matrix, settings["models"], types=types, anchors=anchors,
                      dif=settings.get("dif"), max_iter=settings.get("max_iter", 500),
                      progress=ctx.progress)
    except CalibrationError as exc:
        raise jobs.PermanentJobError(str(exc), failure="calibration_failed") from exc
    ctx.progress(0.97, "saving", force=True)
    with ctx.factory() as s, s.begin():
        if not ctx.owns(s) or not jobs.finish(ctx, s):
            s.rollback()
            raise jobs.JobLost(f"job {ctx.job_id} was taken over")
        run = s.get(CalibrationRun, run_id)
        assert run is not None
        run.result = doc  # keyed by the job: a retried job replaces its result


HANDLERS = {JOB_KIND: run_job}


def run_params(run: CalibrationRun) -> IrtParameters:
    assert run.result is not None
    return IrtParameters.from_records(run.result["items"])
