"""The balance series document: the periods, methods and measurements one analysis runs on.

A *balance series* is a run of contiguous, half-open balance periods ``[start, end)`` of
one material balance area (or one shipper/receiver route), the measurement methods with
their relative standard deviations (random ``d_r`` and systematic ``d_s``, METHODS.md 2.1;
one calibration period per series), and the measurements, each of one *point* of a kind:

- ``input`` / ``output``: a flow measured during a period (``start <= time < end``);
- ``inventory``: an inventory taken at a period boundary, ``time`` equal to a period's
  start or to the last period's end. Boundary 0 (the start of period 1) is the beginning
  inventory PB of the first period, a measurement like any other; an inventory point is
  measured at every boundary 0..n.

A point's measurements are all of one kind and one method. Values are non-negative and
finite (the sign of a flow comes from its kind). ``page_k`` is the reference value k of
Page's test on SITMUF (METHODS.md 2.3).

``BalanceSeries.model_validate_json`` refuses a bad document with a pydantic
``ValidationError`` that locates every problem (``measurements.4.time``);
:func:`parse_series` and :func:`load_series` turn it into :class:`EventRejected` with one
:class:`Problem` per error, and unreadable or non-JSON input into :class:`MalformedInput`.
Field-level problems are reported first; the cross-field checks (contiguous periods,
known methods, inventories at boundaries...) run once every field is valid.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from cwledger.errors import EventRejected, MalformedInput, Problem
from cwledger.model._base import Strict, Text, Timestamp
from cwledger.time import Period, from_rfc3339

__all__ = [
    "Kind",
    "SeriesPeriod",
    "Method",
    "Measurement",
    "BalanceSeries",
    "boundaries",
    "slots",
    "parse_series",
    "series_from_document",
    "load_series",
    "series_to_json",
]

Kind = Literal["input", "output", "inventory"]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]

Loc = tuple[str | int, ...]


class SeriesPeriod(Strict):
    """One balance period as the document writes it: half-open, ``start <= t < end``, in
    RFC 3339 UTC text. :meth:`period` and :meth:`of` convert to and from the one
    :class:`cwledger.time.Period`."""

    start: Timestamp
    end: Timestamp

    @classmethod
    def of(cls, period: Period) -> SeriesPeriod:
        """A period as the document writes it."""
        return cls(**period.to_json())

    def period(self) -> Period:
        """As a :class:`cwledger.time.Period` (valid once the series validated: end > start)."""
        return Period(from_rfc3339(self.start), from_rfc3339(self.end))


class Method(Strict):
    """A measurement method's relative standard deviations: ``d_r`` (random) and ``d_s``
    (systematic, shared by all its measurements within the series' calibration period)."""

    rsd_random: NonNegative
    rsd_systematic: NonNegative


class Measurement(Strict):
    """One measured value of one point: a flow in a period or an inventory at a boundary."""

    kind: Kind
    point: Text
    method: Text
    time: Timestamp
    value: NonNegative


class BalanceSeries(Strict):
    """A balance series: contiguous periods, methods, measurements and Page's ``k``."""

    unit: Text
    periods: list[SeriesPeriod] = Field(min_length=1)
    methods: dict[Text, Method]
    measurements: list[Measurement] = Field(min_length=1)
    page_k: NonNegative

    @model_validator(mode="after")
    def _consistent(self) -> BalanceSeries:
        problems = _period_problems(self.periods)
        if not problems:
            problems = _measurement_problems(self)
        if problems:
            raise ValidationError.from_exception_data(
                "BalanceSeries",
                [
                    InitErrorDetails(
                        type=PydanticCustomError("balance_series", "{message}", {"message": m}),
                        loc=loc,
                        input=None,
                    )
                    for loc, m in problems
                ],
            )
        return self

    @property
    def n(self) -> int:
        """The number of balance periods."""
        return len(self.periods)


def boundaries(series: BalanceSeries) -> list[int]:
    """The n + 1 period boundaries in microseconds: each period's start, then the last end."""
    periods = [p.period() for p in series.periods]
    return [p.start for p in periods] + [periods[-1].end]


def _slot(kind: str, at: int, bounds: Sequence[int]) -> int | None:
    """A flow's period index (0..n-1) or an inventory's boundary index (0..n), else None."""
    if kind == "inventory":
        k = bisect_left(bounds, at)
        return k if k < len(bounds) and bounds[k] == at else None
    i = bisect_right(bounds, at) - 1
    return i if 0 <= i < len(bounds) - 1 else None


def slots(series: BalanceSeries) -> list[int]:
    """Per measurement: its period index (flows) or its boundary index (inventories).

    Both are 0-based: a flow in the first period is in period 0; the beginning inventory
    of the first period is at boundary 0 and the ending inventory of period i (0-based) at
    boundary i + 1.
    """
    bounds = boundaries(series)
    out = []
    for m in series.measurements:
        slot = _slot(m.kind, from_rfc3339(m.time), bounds)
        assert slot is not None  # the validator refused any other
        out.append(slot)
    return out


def _period_problems(periods: Sequence[SeriesPeriod]) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    for i, p in enumerate(periods):
        if from_rfc3339(p.end) <= from_rfc3339(p.start):
            problems.append((("periods", i, "end"), f"{p.end} is not after start {p.start}"))
        if i == 0:
            continue
        before = periods[i - 1].end
        if from_rfc3339(p.start) != from_rfc3339(before):
            what = (
                "leaving a gap after"
                if from_rfc3339(p.start) > from_rfc3339(before)
                else "overlapping"
            )
            problems.append(
                (
                    ("periods", i, "start"),
                    f"starts at {p.start}, {what} period {i - 1} (ending {before}): "
                    "periods are contiguous",
                )
            )
    return problems


def _measurement_problems(series: BalanceSeries) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    bounds = boundaries(series)
    first_of: dict[str, int] = {}
    inventories: dict[str, dict[int, int]] = {}
    for j, m in enumerate(series.measurements):
        where: Loc = ("measurements", j)
        if m.method not in series.methods:
            known = ", ".join(repr(k) for k in sorted(series.methods)) or "none"
            problems.append(((*where, "method"), f"unknown method {m.method!r} (known: {known})"))
        j0 = first_of.setdefault(m.point, j)
        lead = series.measurements[j0]
        if m.kind != lead.kind:
            problems.append(
                (
                    (*where, "kind"),
                    f"point {m.point!r} is an {lead.kind} point (measurements.{j0}): "
                    "a point's measurements are all of one kind",
                )
            )
            continue
        if m.method != lead.method and {m.method, lead.method} <= series.methods.keys():
            problems.append(
                (
                    (*where, "method"),
                    f"point {m.point!r} is measured by {lead.method!r} (measurements.{j0}): "
                    "a point keeps one method within a series",
                )
            )
        slot = _slot(m.kind, from_rfc3339(m.time), bounds)
        if slot is None and m.kind == "inventory":
            problems.append(
                (
                    (*where, "time"),
                    f"{m.time} is not a period boundary: an inventory is taken at a period's "
                    "start or at the last period's end",
                )
            )
        elif slot is None:
            problems.append(
                (
                    (*where, "time"),
                    f"{m.time} is outside the series "
                    f"[{series.periods[0].start}, {series.periods[-1].end})",
                )
            )
        elif m.kind == "inventory":
            taken = inventories.setdefault(m.point, {})
            if slot in taken:
                problems.append(
                    (
                        (*where, "time"),
                        f"point {m.point!r} already has an inventory at boundary {slot} "
                        f"(measurements.{taken[slot]})",
                    )
                )
            else:
                taken[slot] = j
    for point, taken in inventories.items():
        missing = [k for k in range(len(bounds)) if k not in taken]
        if missing:
            listed = ", ".join(f"{k} ({_boundary_text(series, k)})" for k in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            problems.append(
                (
                    ("measurements",),
                    f"inventory point {point!r} has no inventory at boundary {listed}{more}: "
                    f"an inventory point is measured at every boundary 0..{len(bounds) - 1}",
                )
            )
    return problems


def _boundary_text(series: BalanceSeries, k: int) -> str:
    """Boundary k as written in the document."""
    return series.periods[k].start if k < series.n else series.periods[-1].end


def _problems(err: ValidationError) -> list[Problem]:
    return [Problem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in err.errors()]


def parse_series(data: str | bytes, source: str = "series") -> BalanceSeries:
    """A balance series from JSON text.

    Raises MalformedInput if ``data`` is not JSON, EventRejected (one Problem per error,
    located like ``measurements.4.time``) if it is not a valid balance series.
    """
    try:
        return BalanceSeries.model_validate_json(data)
    except ValidationError as e:
        bad = [err for err in e.errors() if err["type"] == "json_invalid"]
        if bad:
            raise MalformedInput(f"{source}: {bad[0]['msg']}") from e
        raise EventRejected(_problems(e)) from e


def series_from_document(doc: Mapping[str, Any]) -> BalanceSeries:
    """A balance series from the document as Python data (what ``json.loads`` of the file
    gives, or what :mod:`cwledger.accountancy.balances` builds): validated as
    :func:`parse_series` validates the text, without going through JSON text. Raises
    EventRejected with one Problem per error."""
    try:
        return BalanceSeries.model_validate(doc)
    except ValidationError as e:
        raise EventRejected(_problems(e)) from e


def load_series(path: str | Path) -> BalanceSeries:
    """Read and validate a balance series document (see :func:`parse_series`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise MalformedInput(f"cannot read {path}: {e.strerror or e}") from e
    return parse_series(data, str(path))


def series_to_json(series: BalanceSeries, indent: int | None = None) -> str:
    """The document as JSON text; ``BalanceSeries.model_validate_json`` reads it back equal."""
    return series.model_dump_json(indent=indent)
