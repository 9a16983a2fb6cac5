"""The one time module: half-open periods, calendar months, the parser of moments, dates and
months (MalformedInput naming the text and the forms), and the formats."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cwledger.errors import MalformedInput
from cwledger.time import (
    DAY,
    Period,
    _moment_of,
    check_rfc3339,
    date_text,
    day_of,
    from_rfc3339,
    month_label,
    month_of,
    month_text,
    months,
    parse_date,
    parse_moment,
    parse_month,
    rfc3339,
    time_text,
)

# Moments from 1970 to the end of 9998 (so that the month after is still a date).
moments = st.integers(min_value=0, max_value=253_370_764_800_000_000 - 1)
END_OF_9999 = 253_402_300_800_000_000  # 10000-01-01T00:00:00Z, the first moment past RFC 3339
month_texts = st.builds(
    lambda y, m: f"{y:04d}-{m:02d}",
    st.integers(min_value=1970, max_value=9998),
    st.integers(min_value=1, max_value=12),
)


def _stdlib(at: int) -> datetime:
    return datetime.fromtimestamp(at // 1_000_000, UTC)


@given(moments)
def test_the_formats_agree_with_the_standard_library(at: int) -> None:
    d = _stdlib(at)
    assert rfc3339(at) == d.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert date_text(at) == d.strftime("%Y-%m-%d") == day_of(at).isoformat()
    assert month_text(at) == d.strftime("%Y-%m")
    assert time_text(at) == d.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert month_label(at) == d.strftime("%B %Y")


@given(moments)
def test_rfc3339_text_round_trips_to_the_second(at: int) -> None:
    assert from_rfc3339(rfc3339(at)) == at - at % 1_000_000
    assert parse_moment(rfc3339(at)) == at - at % 1_000_000


@given(moments)
def test_a_date_is_its_day_and_means_the_end_of_it(at: int) -> None:
    day = parse_date(date_text(at))
    assert at in day and day.end - day.start == DAY
    assert parse_moment(date_text(at)) == day.last == day.end - 1
    assert parse_moment(date_text(at), start_of_day=True) == day.start


@given(month_texts)
def test_a_month_round_trips_through_its_text(text: str) -> None:
    p = parse_month(text)
    assert p.month == month_text(p.start) == month_text(p.last) == text
    assert month_of(p.start) == month_of(p.last) == p
    assert p.first_day == f"{text}-01" and parse_date(p.last_day).end == p.end
    assert month_text(p.end) != text  # the end is the next month's start, outside
    assert month_of(p.end).start == p.end


@given(moments)
def test_a_period_is_half_open(at: int) -> None:
    p = month_of(at)
    assert at in p and p.start in p and p.last in p
    assert p.end not in p and p.start - 1 not in p
    assert p.to_json() == {"start": rfc3339(p.start), "end": rfc3339(p.end)}


@given(moments, st.integers(min_value=0, max_value=40 * 31 * DAY))
def test_the_months_cover_a_range_without_gap_or_overlap(first: int, span: int) -> None:
    last = first + span
    assume(last < END_OF_9999)  # a moment is at most 9999-12-31T23:59:59.999999Z
    ps = months(first, last)
    assert first in ps[0] and last in ps[-1]
    for a, b in zip(ps, ps[1:], strict=False):
        assert a.end == b.start  # adjacent: one's end is the next one's start
    assert all(p == month_of(p.start) for p in ps)
    assert [p.month for p in ps] == sorted({p.month for p in ps})
    # every moment of the range is in exactly one month
    for t in (first, last, (first + last) // 2, *(p.start for p in ps), *(p.last for p in ps)):
        if first <= t <= last:
            assert sum(t in p for p in ps) == 1


def test_december_9999_is_a_month_with_an_end() -> None:
    p = month_of(END_OF_9999 - 1)
    assert (p.start, p.end) == (from_rfc3339("9999-12-01T00:00:00Z"), END_OF_9999)
    assert months(END_OF_9999 - DAY, END_OF_9999 - 1) == [p]


def test_months_before_the_first_month_are_none() -> None:
    march = parse_month("2014-03")
    assert months(march.start + 5, march.start - 1) == []
    assert months(march.start + 5, march.start) == [march]


def test_a_period_ends_after_it_starts() -> None:
    with pytest.raises(MalformedInput, match="ends after it starts"):
        Period(5, 5)


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("2014-13", "01 to 12"),
        ("2014-00", "01 to 12"),
        ("14-03", "YYYY-MM"),
        ("2014-3", "YYYY-MM"),
        ("March 2014", "YYYY-MM"),
        ("２０１４-03", "YYYY-MM"),
        ("", "YYYY-MM"),
        ("1969-12", "1970 to 9998"),
    ],
)
def test_a_bad_month_is_malformed_input_naming_it_and_the_form(text: str, form: str) -> None:
    with pytest.raises(MalformedInput) as e:
        parse_month(text)
    assert repr(text) in str(e.value) and form in str(e.value)


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("2014-13-01", "YYYY-MM-DD"),
        ("2014-02-30", "YYYY-MM-DD"),
        ("tomorrow", "YYYY-MM-DD"),
        ("2014-01-07T10:00:00", "ending in Z"),
        ("2014-01-07T25:00:00Z", "RFC 3339"),
        ("2014-01-07 10:00Z", "RFC 3339"),
    ],
)
def test_a_bad_moment_is_malformed_input_naming_it_and_the_forms(text: str, form: str) -> None:
    with pytest.raises(MalformedInput) as e:
        parse_moment(text)
    assert repr(text) in str(e.value) and form in str(e.value)


def test_a_bad_month_on_the_command_line_is_one_line_and_exit_1(tmp_path: Path) -> None:
    from tests.test_cli import ORIGIN, _cli, run

    ledger_dir = tmp_path / "ledger"
    run("init", str(ledger_dir), "--origin", ORIGIN)
    result = _cli(
        "accountancy", "site", "S-03", "--first", "2014-13", "--last", "2014-06", "--ledger",
        str(ledger_dir),
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error (malformed-input): '2014-13': the month must be 01 to 12, got 13"
    ]
    bad = _cli("balances", "--period", "2014-3", "--ledger", str(ledger_dir))
    assert bad.returncode == 1 and "'2014-3' is not a month" in bad.stderr


# -- the one form of a time (issue 13: week dates, basic forms, long fractions) ----------------

_STRICT = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z"


@given(moments, st.integers(min_value=0, max_value=6))
def test_every_moment_written_in_the_form_reads_back(at: int, digits: int) -> None:
    whole = rfc3339(at)
    fraction = f"{at % 1_000_000:06d}"[:digits]
    text = whole[:-1] + (f".{fraction}" if digits else "") + "Z"
    expect = at - at % 1_000_000 + (int(fraction.ljust(6, "0")) if digits else 0)
    assert from_rfc3339(text) == expect
    assert check_rfc3339(text) == expect


@given(
    st.one_of(
        st.text(max_size=40),
        st.from_regex(r"\A[0-9W+:.TZtz -]{8,40}\Z"),
        st.from_regex(r"\A" + _STRICT + r"\Z"),
    )
)
def test_a_time_is_taken_only_in_the_one_form(text: str) -> None:
    """Whatever the text, it is a time only if it is in the one form and names a real
    moment; then it is at most 27 characters and reads as the standard library reads it."""
    try:
        at = check_rfc3339(text)
    except ValueError as e:
        assert "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" in str(e) or "RFC 3339" in str(e)
        with pytest.raises(MalformedInput):
            from_rfc3339(text)
        return
    assert re.fullmatch(_STRICT, text) and len(text) <= 27
    parsed = datetime.fromisoformat(text[:-1] + "+00:00")
    assert at == (parsed - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


@given(
    st.one_of(
        st.from_regex(r"\A" + _STRICT + r"\Z"),
        st.from_regex(r"\A[0-9]{4}-(0[0-9]|1[0-3])-[0-3][0-9]T[0-2][0-9]:[0-6][0-9]:[0-6][0-9]Z\Z"),
        st.from_regex(r"\A[0-9W+:.TZtz -]{8,40}\Z"),
    )
)
def test_the_quick_reading_of_a_time_is_the_reading_field_by_field(text: str) -> None:
    """`check_rfc3339` reads a time in the form by `datetime.fromisoformat`; read field by
    field, every text gives the same moment, or the same refusal in the same words."""

    def outcome(read: Callable[[str], int]) -> object:
        try:
            return read(text)
        except ValueError as e:
            return str(e)

    assert outcome(check_rfc3339.__wrapped__) == outcome(_moment_of)


@pytest.mark.parametrize(
    "text",
    [
        "2016-W01-1T10:00:00Z",
        "20160101T100000Z",
        "2016-01-01T10Z",
        "2016-01-01T10:00:00." + "1" * 5000 + "Z",
        "2016-01-01T10:00:00.1234567Z",
        "2016-01-01T10:00:00+00:00",
    ],
)
def test_the_forms_of_the_attack_are_refused_naming_the_form(text: str) -> None:
    with pytest.raises(MalformedInput) as e:
        parse_moment(text)
    assert "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" in str(e.value) or "ending in Z" in str(e.value)
    assert len(str(e.value)) < 400  # a 5,000-digit text is not echoed whole
