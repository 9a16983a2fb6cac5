"""ChunkWorkers: a log's chunks on worker processes, their results in log order, a dead
worker's chunks done here, a worker's exception raised here, nothing left behind."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cwledger.ledger.chunk_workers import ChunkWorkers, _Chunks

_SEEN: list[str] = []  # set by `_init` in each worker


def _init(tag: str) -> None:
    _SEEN[:] = [tag]


def _job(start: int, end: int) -> tuple[int, int, int, str]:
    """A chunk's result: where it was done, and the tag its worker was started with."""
    return start, end, os.getpid(), _SEEN[0]


def _die_at(start: int, end: int) -> tuple[int, int, int, str]:
    if start >= 60:  # the worker given this chunk dies in it
        os.kill(os.getpid(), signal.SIGKILL)
    return _job(start, end)


def _fail_at(start: int, end: int) -> tuple[int, int, int, str]:
    if start == 40:
        raise ValueError(f"chunk {start}..{end} is bad")
    return _job(start, end)


def _slow(start: int, end: int) -> tuple[int, int, int, str]:
    time.sleep(0.05)
    return _job(start, end)


@given(
    st.integers(0, 5_000),
    st.integers(1, 700),
    st.integers(1, 300),
    st.integers(1, 4),
    st.sampled_from([1, 16, 256]),
)
def test_the_chunks_cover_the_log_and_the_last_get_shorter(
    size: int, chunk: int, smallest: int, workers: int, align: int
) -> None:
    """`chunk` entries a chunk, then, for the last `workers` chunks' worth at most, chunks
    that get shorter down to `smallest`: a few dozen of them at most. With `align`, a last
    chunk that starts at a multiple of it and is at least `smallest` and `align` long ends
    at one too (or at the end of the log)."""
    chunks = _Chunks(size, chunk, smallest, workers, align)
    bounds = list(chunks)
    assert len(bounds) == len(chunks)
    assert [s for s, _ in bounds] == [0, *(e for _, e in bounds[:-1])][: len(bounds)]
    assert (bounds[-1][1] if bounds else 0) == size
    whole = max(0, size - workers * chunk) // chunk
    assert all(e - s == chunk for s, e in bounds[:whole])
    last = [e - s for s, e in bounds[whole:]]
    assert sum(last) < (workers + 1) * chunk
    assert all(n >= min(smallest, chunk) for n in last[:-1])
    shortest = min(smallest, chunk)
    for s, e in bounds[whole:]:  # at most a share of what is left, and at a multiple if it can
        assert e - s <= max(shortest, -(-(size - s) // (2 * workers)))
        if e < size and s % align == 0 and e - e % align - s >= shortest:
            assert e % align == 0, (s, e)
    if align == 1:
        assert all(a >= b for a, b in zip(last, last[1:-1], strict=False))  # shorter and shorter
        assert len(last) <= 22 * workers + 1  # geometric, then `smallest` each
    else:
        assert len(last) <= 22 * workers + 2 * (workers + 1) * chunk // align + 1
    with pytest.raises(IndexError):
        chunks[len(bounds)]


def test_results_come_in_log_order_from_every_worker() -> None:
    with ChunkWorkers(_job, 2, 1_000, 64, 16, _init, ("started",)) as pool:
        got = list(pool.results(lambda s, e: (s, e, -1, "here")))
    assert [(s, e) for s, e, _, _ in got] == list(_Chunks(1_000, 64, 16, 2))
    assert {tag for *_, tag in got} == {"started"}
    assert len({pid for _, _, pid, _ in got}) == 2 and os.getpid() not in {g[2] for g in got}


def test_a_dead_workers_chunks_are_done_here() -> None:
    """Both workers die at their first chunk from 60 on: every chunk still comes, in order,
    the rest of theirs done in this process; the pool ends cleanly."""
    with ChunkWorkers(_die_at, 2, 200, 20, 20, _init, ("started",)) as pool:
        got = list(pool.results(lambda s, e: (s, e, os.getpid(), "here")))
    assert [(s, e) for s, e, _, _ in got] == list(_Chunks(200, 20, 20, 2))
    here = [s for s, _, pid, tag in got if tag == "here"]
    assert here == list(range(60, 200, 20)) and all(g[2] != os.getpid() for g in got[:3])


def _cannot_start(tag: str) -> None:
    raise OSError(f"no store at {tag}")


def test_a_worker_that_cannot_start_says_why_in_a_line_and_its_chunks_are_done_here(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """An initializer that fails (a store a worker cannot open) ends the worker with one
    line on standard error, not a traceback; every chunk is done here, in order."""
    with ChunkWorkers(_job, 2, 200, 20, 20, _cannot_start, ("/nowhere",)) as pool:
        got = list(pool.results(lambda s, e: (s, e, os.getpid(), "here")))
    assert got == [(s, e, os.getpid(), "here") for s, e in _Chunks(200, 20, 20, 2)]
    err = capfd.readouterr().err
    line = (
        "cwledger: a worker process could not start (OSError: no store at /nowhere); "
        "the main process does its share"
    )
    assert err.splitlines() == [line, line]  # one line from each, and nothing else
    assert "Traceback" not in err


def test_a_workers_exception_is_raised_here_and_the_workers_end() -> None:
    threads = threading.active_count()
    with ChunkWorkers(_fail_at, 2, 100, 20, 20, _init, ("started",)) as pool:
        results = pool.results(lambda s, e: (s, e, -1, "here"))
        assert [next(results)[0], next(results)[0]] == [0, 20]
        with pytest.raises(ValueError, match="chunk 40..60 is bad"):
            next(results)
    assert threading.active_count() == threads  # its readers are gone with the workers


def test_closing_early_ends_workers_still_in_a_chunk() -> None:
    threads = threading.active_count()
    with ChunkWorkers(_slow, 2, 10_000, 10, 10, _init, ("started",)) as pool:
        first = next(pool.results(lambda s, e: (s, e, -1, "here")))
        pids = [w.process.pid for w in pool._pool]
    assert first[:2] == (0, 10)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # ended and reaped
    assert threading.active_count() == threads
