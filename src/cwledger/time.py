"""Time in cwledger: one representation, one period, one parser, one set of formats.

**A moment** is an ``int``: microseconds since the Unix epoch, UTC. Events carry their time
as RFC 3339 text in UTC (``2014-01-07T10:00:00Z``); the book, the accountancy and every
answer compute on moments.

**A period** is half-open, ``[start, end)``: it holds every moment ``t`` with
``start <= t < end``, so consecutive periods share a boundary (one's ``end`` is the next
one's ``start``) and no moment is in two of them. Its last moment is ``end - 1``. A
calendar month, a balance period and a day are all a :class:`Period`.

**One form of time.** A time is written in one strict form only, RFC 3339 in UTC:
``YYYY-MM-DDTHH:MM:SS[.f]Z`` with an upper-case ``T`` and ``Z`` and at most six digits of
fraction (microseconds, the resolution of a moment): :data:`RFC3339_FORM`,
:func:`check_rfc3339`. Week dates, the basic form (``20160101T100000Z``), times without
seconds, offsets other than ``Z`` and longer fractions are refused, so that every time
stored has exactly one moment and compares as a number.

**Text in** (parameters, options, query strings): :func:`parse_moment` (an RFC 3339 UTC
time in that form, or a date meaning the end of that day), :func:`parse_date` (a day, as
a period) and :func:`parse_month` (a calendar month, as a period). Each raises
:class:`~cwledger.errors.MalformedInput` naming the bad text and the accepted forms.

**Text out**: :func:`rfc3339` (whole seconds, as events and balance series write them),
:func:`date_text`, :func:`month_text`, :func:`time_text` (for people), :func:`month_label`
("March 2014") and :func:`day_of` (a :class:`datetime.date`). :func:`clock` reads the clock.
"""

from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cwledger.errors import MalformedInput

__all__ = [
    "DAY",
    "Period",
    "months",
    "month_of",
    "parse_moment",
    "parse_date",
    "parse_month",
    "from_rfc3339",
    "check_rfc3339",
    "RFC3339_FORM",
    "rfc3339",
    "date_text",
    "month_text",
    "time_text",
    "month_label",
    "day_of",
    "clock",
    "queryable",
]

DAY = 86_400_000_000  # microseconds in a day
_EPOCH_DAY = date(1970, 1, 1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)  # what `datetime.fromisoformat` reads a time without Z from
_MICROSECOND = timedelta(microseconds=1)
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH_FORMS = "give a calendar month as YYYY-MM, e.g. 2014-03"
_MOMENT_FORMS = "give a date (YYYY-MM-DD) or a UTC time ending in Z (e.g. 2014-01-07T10:00:00Z)"
RFC3339_FORM = "YYYY-MM-DDTHH:MM:SS[.ffffff]Z"
"""The one form a time is written in: RFC 3339, UTC, at most microseconds."""
_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z", re.ASCII)
# The same form without groups: what `check_rfc3339` matches first.
_RFC3339_FORM = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z", re.ASCII)
_SHOWN = 60  # characters of a refused time echoed back


@dataclass(frozen=True, order=True)
class Period:
    """A half-open span of time, ``start <= t < end``, in microseconds since the epoch (UTC).

    ``end`` is excluded: a calendar month ends where the next one starts. The period's last
    moment is :attr:`last` (``end - 1``); ``t in period`` tests membership.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise MalformedInput(
                f"a period ends after it starts: [{rfc3339(self.start)}, {rfc3339(self.end)})"
            )

    def __contains__(self, at: object) -> bool:
        return isinstance(at, int) and self.start <= at < self.end

    @property
    def last(self) -> int:
        """The last moment in the period: ``end - 1``."""
        return self.end - 1

    @property
    def month(self) -> str:
        """The calendar month the period starts in, YYYY-MM."""
        return month_text(self.start)

    @property
    def first_day(self) -> str:
        """The day of its first moment, YYYY-MM-DD."""
        return date_text(self.start)

    @property
    def last_day(self) -> str:
        """The day of its last moment, YYYY-MM-DD."""
        return date_text(self.last)

    def to_json(self) -> dict[str, str]:
        """As a balance series writes it: ``{"start": ..., "end": ...}`` in RFC 3339."""
        return {"start": rfc3339(self.start), "end": rfc3339(self.end)}


# -- calendar months ---------------------------------------------------------------------------


def _day_number(at: int) -> int:
    return at // DAY


def _date_of(at: int) -> date:
    return _EPOCH_DAY + timedelta(days=_day_number(at))


def _start_of(d: date) -> int:
    return (d - _EPOCH_DAY).days * DAY


def _month_period(year: int, number: int) -> Period:
    # its end is the day after its last (so December 9999 has one too, though the next
    # month is no date)
    last = date(year, number, calendar.monthrange(year, number)[1])
    return Period(_start_of(date(year, number, 1)), _start_of(last) + DAY)


def month_of(at: int) -> Period:
    """The calendar month (UTC) that holds the moment ``at``."""
    d = _date_of(at)
    return _month_period(d.year, d.month)


def months(first: int, last: int) -> list[Period]:
    """The calendar months (UTC) covering the moments ``first`` to ``last`` (both included),
    in order: from the month holding ``first`` to the month holding ``last``; empty when
    ``last`` is before the month holding ``first`` starts. Each month's ``end`` is the
    next one's ``start``."""
    out: list[Period] = []
    p = month_of(first)
    while p.start <= last:
        out.append(p)
        if p.end > last:
            break
        p = month_of(p.end)
    return out


# -- text in -----------------------------------------------------------------------------------


def _shown(text: str) -> str:
    """A refused text as it is echoed: at most `_SHOWN` characters."""
    return repr(text) if len(text) <= _SHOWN else f"{text[:_SHOWN]!r}... ({len(text)} characters)"


@functools.lru_cache(maxsize=1 << 14)
def check_rfc3339(text: str) -> int:
    """The moment of a time in the one accepted form, ``YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z``
    (RFC 3339, UTC, at most microseconds). Raises ValueError saying why (pydantic's
    validators turn it into a validation error); `from_rfc3339` raises MalformedInput.
    Cached: the append path reads an event's time several times (schema, mandate, book).

    Every entry read or appended has a time or more, each new: the form is matched without
    groups and the date and time read by `datetime.fromisoformat` (C), half the
    instructions of reading each field; a time either refuses is read field by field
    (`_moment_of`), which says why."""
    if _RFC3339_FORM.fullmatch(text) is None:
        return _moment_of(text)
    try:
        since = datetime.fromisoformat(text[:19]) - _EPOCH_NAIVE
    except ValueError:
        return _moment_of(text)
    micro = int(text[20:-1].ljust(6, "0")) if len(text) > 20 else 0
    return (since.days * 86_400 + since.seconds) * 1_000_000 + micro


def _moment_of(text: str) -> int:
    """`check_rfc3339`, field by field: what says why a time is refused."""
    m = _RFC3339.fullmatch(text)
    if m is None:
        raise ValueError(
            f"{_shown(text)} is not a time in the accepted form {RFC3339_FORM}"
            " (RFC 3339 in UTC, ending in Z, at most 6 digits of fraction,"
            " e.g. 2014-01-07T10:00:00Z)"
        )
    year, month, day, hour, minute, second, fraction = m.groups()
    try:
        parsed = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except ValueError as e:
        raise ValueError(f"{text!r} is not an RFC 3339 time: {e}") from None
    micro = int((fraction or "").ljust(6, "0"))
    return (parsed - _EPOCH) // _MICROSECOND + micro


def from_rfc3339(text: str) -> int:
    """An RFC 3339 UTC time in the one accepted form (`check_rfc3339`) as a moment.
    Raises MalformedInput naming the text and the form."""
    try:
        return check_rfc3339(text)
    except ValueError as e:
        raise MalformedInput(str(e)) from None


def parse_date(text: str) -> Period:
    """The day (UTC) ``text`` names, YYYY-MM-DD, as a period. Raises MalformedInput."""
    text = text.strip()
    try:
        if len(text) != 10:
            raise ValueError("expected YYYY-MM-DD")
        d = date.fromisoformat(text)
    except ValueError as e:
        raise MalformedInput(f"{text!r} is not a date (YYYY-MM-DD): {e}") from None
    start = _start_of(d)
    return Period(start, start + DAY)


def parse_moment(text: str, *, start_of_day: bool = False) -> int:
    """A moment from text: an RFC 3339 UTC time (ending in ``Z``), or a date (YYYY-MM-DD)
    meaning the end of that day (its last microsecond; its first with ``start_of_day``).
    Raises MalformedInput naming the text and the accepted forms."""
    text = text.strip()
    if len(text) == 10:
        d = parse_date(text)
        return d.start if start_of_day else d.last
    if not text.endswith("Z"):
        raise MalformedInput(f"{_shown(text)}: {_MOMENT_FORMS}")
    return from_rfc3339(text)


def parse_month(text: str) -> Period:
    """The calendar month (UTC) ``text`` names, YYYY-MM, as a period. Raises MalformedInput
    naming the text and the accepted form."""
    raw = text.strip()
    year, dash, number = raw.partition("-")
    digits = year + number
    if not (dash and len(year) == 4 and len(number) == 2 and digits.isascii() and digits.isdigit()):
        raise MalformedInput(f"{text!r} is not a month: {_MONTH_FORMS}")
    if not 1 <= int(number) <= 12:
        raise MalformedInput(f"{text!r}: the month must be 01 to 12, got {number}")
    if not 1970 <= int(year) <= _LAST_YEAR:
        raise MalformedInput(f"{text!r}: the year must be 1970 to {_LAST_YEAR}")
    return _month_period(int(year), int(number))


# -- text out ----------------------------------------------------------------------------------


def _datetime(at: int) -> datetime:
    return _EPOCH + timedelta(microseconds=at)


def rfc3339(at: int) -> str:
    """A moment as RFC 3339 UTC text to the whole second (truncated): ``2014-01-07T10:00:00Z``."""
    return _datetime(at).strftime("%Y-%m-%dT%H:%M:%SZ")


def date_text(at: int) -> str:
    """The day of a moment, ``2014-01-07``."""
    return _date_of(at).isoformat()


def month_text(at: int) -> str:
    """The calendar month of a moment, ``2014-01``."""
    d = _date_of(at)
    return f"{d.year:04d}-{d.month:02d}"


def time_text(at: int) -> str:
    """A moment for people, to the whole second: ``2014-01-07 10:00:00 UTC``."""
    return _datetime(at).strftime("%Y-%m-%d %H:%M:%S UTC")


def month_label(at: int) -> str:
    """The calendar month of a moment by name: ``March 2014``."""
    d = _date_of(at)
    return f"{_MONTH_NAMES[d.month - 1]} {d.year}"


def day_of(at: int) -> date:
    """The day (UTC) of a moment."""
    return _date_of(at)


def clock() -> int:
    """The clock's moment now."""
    return (datetime.now(UTC) - _EPOCH) // _MICROSECOND


# -- moments asked about -----------------------------------------------------------------------

_LAST_YEAR = 9998
"""The last year a moment asked about may fall in: the answers step a day or a month past
it, and the calendar ends with 9999."""


def queryable(at: int, text: str) -> int:
    """`at`, a moment asked about (`?at=`, `--at`, parsed from `text`), if it lies from
    1970-01-01 through the end of 9998. Raises MalformedInput."""
    if not 0 <= at < _start_of(date(_LAST_YEAR + 1, 1, 1)):
        raise MalformedInput(f"{text[:40]!r}: ask about a moment from 1970 to {_LAST_YEAR}")
    return at
