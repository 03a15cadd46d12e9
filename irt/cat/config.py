"""The configuration of one adaptive test: a plain dict, validated once into :class:`CatConfig`.

Every key is optional; the defaults give a maximum-information CAT with EAP interim and WLE final
estimates, stopping at SE 0.3 or 30 items.  The dict (as stored with a test, or read from YAML by
``itembank.delivery.cat_config``)::

    start:      {method: fixed | easy | prior, theta: 0.0, n_easy: 5}
    prior:      {mean: 0.0, sd: 1.0}               # interim EAP/MAP prior (a person's prior wins)
    estimation: {interim: eap | map | mle, final: wle | eap}
    selection:  {method: max-info | kl | a-stratified, unit_criterion: mean | sum,
                 kl_width: 3.0, strata: 4}
    exposure:   {method: none | randomesque | sympson-hetter, k: 5, max_rate: 0.2,
                 parameters: {UNIT_ID: K, ...}}    # Sympson-Hetter K per unit, 1 if absent
    content:    {dimension: {NAME: proportion, ...}, domain: {NAME: proportion, ...},
                 tolerance: 0.05, weight: 1.0, length: null}   # length: the planned length
    stopping:   {se: 0.3, min_items: 5, max_items: 30, min_information: 0.01}
    pretest:    {count: 0, after: 3, units: [UNIT_ID, ...],    # pretest units seeded per session
                 min_responses: 300}               # per item, before online calibration
    reporting:  {mean: 500, sd: 100, population: {mean: 0, sd: 1},
                 levels: {cuts: [...], labels: [...], descriptors: [{zh-TW, en}, ...]}}

Errors raise :class:`CatConfigError` naming the field by its dotted path (``stopping.se``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

START_METHODS = ("fixed", "easy", "prior")
INTERIM_METHODS = ("eap", "map", "mle")
FINAL_METHODS = ("wle", "eap")
SELECTION_METHODS = ("max-info", "kl", "a-stratified")
UNIT_CRITERIA = ("mean", "sum")
EXPOSURE_METHODS = ("none", "randomesque", "sympson-hetter")


class CatConfigError(ValueError):
    """A configuration value the engine cannot use; ``field`` is its dotted path."""

    def __init__(self, field_path: str, message: str) -> None:
        self.field = field_path
        super().__init__(f"{field_path}: {message}")


@dataclass(frozen=True)
class StartConfig:
    method: str = "fixed"
    theta: float = 0.0
    n_easy: int = 5


@dataclass(frozen=True)
class EstimationConfig:
    interim: str = "eap"
    final: str = "wle"
    prior_mean: float = 0.0
    prior_sd: float = 1.0


@dataclass(frozen=True)
class SelectionConfig:
    method: str = "max-info"
    unit_criterion: str = "mean"
    kl_width: float = 3.0
    strata: int = 4


@dataclass(frozen=True)
class ExposureConfig:
    method: str = "none"
    k: int = 5
    max_rate: float = 0.2
    parameters: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ContentConfig:
    dimension: Mapping[str, float] = field(default_factory=dict)
    domain: Mapping[str, float] = field(default_factory=dict)
    tolerance: float = 0.05
    weight: float = 1.0
    length: int | None = None

    @property
    def active(self) -> bool:
        return bool(self.dimension or self.domain)


@dataclass(frozen=True)
class StoppingConfig:
    se: float | None = 0.3
    min_items: int = 5
    max_items: int = 30
    min_information: float = 0.01


@dataclass(frozen=True)
class PretestConfig:
    """Pretest seeding (:mod:`irt.cat.pretest`): ``count`` pretest units per session, the k-th
    delivered once ``after[k]`` operational items have been (one number: all of them there);
    ``units`` narrows the candidates (empty: every unit without routing items that is offered).
    Pretest units never route and never count in θ or in the test length.  ``min_responses``:
    the responses per item at which a unit is ready for online calibration (the research pages
    say so); the engine does not use it."""

    count: int = 0
    after: tuple[int, ...] = (3,)
    units: tuple[str, ...] = ()
    min_responses: int = 300

    def position(self, k: int) -> int:
        """The operational items delivered before the k-th pretest unit (k = 0, 1, ...)."""
        return self.after[k] if len(self.after) > 1 else self.after[0]


@dataclass(frozen=True)
class CatConfig:
    """The validated configuration; build it with :meth:`from_dict`.  ``reporting`` is kept as the
    plain dict it came as (see :func:`irt.reporting.from_dict`)."""

    start: StartConfig = StartConfig()
    estimation: EstimationConfig = EstimationConfig()
    selection: SelectionConfig = SelectionConfig()
    exposure: ExposureConfig = ExposureConfig()
    content: ContentConfig = ContentConfig()
    stopping: StoppingConfig = StoppingConfig()
    reporting: Mapping[str, Any] = field(default_factory=dict)
    pretest: PretestConfig = PretestConfig()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CatConfig:
        """Validate a plain dict (see the module docstring).  Unknown keys are errors, so that a
        misspelt option is not silently ignored."""
        data = _section(data or {}, "", cls._KEYS)
        start = _section(data.get("start"), "start", ("method", "theta", "n_easy"))
        prior = _section(data.get("prior"), "prior", ("mean", "sd"))
        est = _section(data.get("estimation"), "estimation", ("interim", "final"))
        sel = _section(
            data.get("selection"), "selection", ("method", "unit_criterion", "kl_width", "strata")
        )
        exp = _section(data.get("exposure"), "exposure", ("method", "k", "max_rate", "parameters"))
        con = _section(
            data.get("content"),
            "content",
            ("dimension", "domain", "tolerance", "weight", "length"),
        )
        stop = _section(
            data.get("stopping"), "stopping", ("se", "min_items", "max_items", "min_information")
        )
        stopping = StoppingConfig(
            se=_number(stop, "stopping.se", 0.3, low=0.0, optional=True),
            min_items=_integer(stop, "stopping.min_items", 5, low=0),
            max_items=_integer(stop, "stopping.max_items", 30, low=1),
            min_information=_number(stop, "stopping.min_information", 0.01, low=0.0),
        )
        if stopping.min_items > stopping.max_items:
            raise CatConfigError(
                "stopping.min_items",
                f"{stopping.min_items} is more than stopping.max_items ({stopping.max_items})",
            )
        exposure = ExposureConfig(
            method=_choice(exp, "exposure.method", "none", EXPOSURE_METHODS),
            k=_integer(exp, "exposure.k", 5, low=1),
            max_rate=_number(exp, "exposure.max_rate", 0.2, low=0.0, high=1.0, open_low=True),
            parameters=_proportions(exp.get("parameters"), "exposure.parameters", total=False),
        )
        content = ContentConfig(
            dimension=_proportions(con.get("dimension"), "content.dimension"),
            domain=_proportions(con.get("domain"), "content.domain"),
            tolerance=_number(con, "content.tolerance", 0.05, low=0.0, high=1.0),
            weight=_number(con, "content.weight", 1.0, low=0.0),
            length=_integer(con, "content.length", None, low=1),
        )
        reporting = data.get("reporting") or {}
        if not isinstance(reporting, Mapping):
            raise CatConfigError("reporting", "must be a mapping")
        pretest = _pretest(
            _section(data.get("pretest"), "pretest", ("count", "after", "units", "min_responses"))
        )
        return cls(
            start=StartConfig(
                method=_choice(start, "start.method", "fixed", START_METHODS),
                theta=_number(start, "start.theta", 0.0, low=-6.0, high=6.0),
                n_easy=_integer(start, "start.n_easy", 5, low=1),
            ),
            estimation=EstimationConfig(
                interim=_choice(est, "estimation.interim", "eap", INTERIM_METHODS),
                final=_choice(est, "estimation.final", "wle", FINAL_METHODS),
                prior_mean=_number(prior, "prior.mean", 0.0),
                prior_sd=_number(prior, "prior.sd", 1.0, low=0.0, open_low=True),
            ),
            selection=SelectionConfig(
                method=_choice(sel, "selection.method", "max-info", SELECTION_METHODS),
                unit_criterion=_choice(sel, "selection.unit_criterion", "mean", UNIT_CRITERIA),
                kl_width=_number(sel, "selection.kl_width", 3.0, low=0.0, open_low=True),
                strata=_integer(sel, "selection.strata", 4, low=1),
            ),
            exposure=exposure,
            content=content,
            stopping=stopping,
            reporting=dict(reporting),
            pretest=pretest,
        )

    _KEYS = (
        "start",
        "prior",
        "estimation",
        "selection",
        "exposure",
        "content",
        "stopping",
        "reporting",
        "pretest",
    )


def _pretest(section: Mapping[str, Any]) -> PretestConfig:
    count = _integer(section, "pretest.count", 0, low=0)
    after = section.get("after", 3)
    positions = list(after) if isinstance(after, list | tuple) else [after]
    for k, value in enumerate(positions):
        where = f"pretest.after[{k}]" if isinstance(after, list | tuple) else "pretest.after"
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CatConfigError(where, f"must be a whole number >= 0, got {value!r}")
    if not positions:
        raise CatConfigError("pretest.after", "must name at least one position")
    if len(positions) > 1 and len(positions) != count:
        raise CatConfigError(
            "pretest.after", f"{len(positions)} positions for {count} pretest unit(s)"
        )
    if positions != sorted(positions):
        raise CatConfigError("pretest.after", f"positions must not decrease, got {positions}")
    units = section.get("units") or []
    if not isinstance(units, list | tuple) or not all(isinstance(u, str) for u in units):
        raise CatConfigError("pretest.units", f"must be a list of unit ids, got {units!r}")
    minimum = _integer(section, "pretest.min_responses", 300, low=1)
    return PretestConfig(count, tuple(int(p) for p in positions), tuple(units), minimum)


def _section(value: Any, path: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise CatConfigError(path or "(top level)", f"must be a mapping, got {value!r}")
    for key in value:
        if key not in keys:
            where = f"{path}.{key}" if path else str(key)
            raise CatConfigError(where, f"unknown key; expected one of {', '.join(keys)}")
    return value


def _choice(section: Mapping[str, Any], path: str, default: str, choices: tuple[str, ...]) -> str:
    value = section.get(path.rsplit(".", 1)[-1], default)
    if value is None:
        return default
    value = str(value).lower().replace("_", "-")
    if value not in choices:
        raise CatConfigError(path, f"{value!r} is not one of {', '.join(choices)}")
    return value


def _number(
    section: Mapping[str, Any],
    path: str,
    default: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
    optional: bool = False,
) -> Any:
    value = section.get(path.rsplit(".", 1)[-1], default)
    if value is None:
        return None if optional else default
    return _as_number(value, path, low=low, high=high, open_low=open_low)


def _as_number(
    value: Any,
    path: str,
    *,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CatConfigError(path, f"must be a number, got {value!r}")
    value = float(value)
    if low is not None and (value < low or (open_low and value == low)):
        raise CatConfigError(path, f"must be {'>' if open_low else '>='} {low}, got {value}")
    if high is not None and value > high:
        raise CatConfigError(path, f"must be <= {high}, got {value}")
    return value


def _integer(
    section: Mapping[str, Any], path: str, default: int | None, *, low: int | None = None
) -> Any:
    key = path.rsplit(".", 1)[-1]
    value = section.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise CatConfigError(path, f"must be a whole number, got {value!r}")
    if low is not None and value < low:
        raise CatConfigError(path, f"must be >= {low}, got {value}")
    return int(value)


def _proportions(value: Any, path: str, *, total: bool = True) -> dict[str, float]:
    """A mapping name → number in [0, 1]; with ``total`` the numbers must sum to at most 1."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise CatConfigError(path, f"must be a mapping of name to number, got {value!r}")
    out: dict[str, float] = {}
    for name, v in value.items():
        out[str(name)] = _as_number(v, f"{path}.{name}", low=0.0, high=1.0)
    if total and sum(out.values()) > 1.0 + 1e-9:
        raise CatConfigError(path, f"proportions sum to {sum(out.values()):.3f}, more than 1")
    return out
