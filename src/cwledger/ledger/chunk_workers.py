"""Chunks of a log checked on worker processes, their results in log order (the audit's).

One process per core, started as `worker_context` says. Worker ``w`` of ``W`` takes the
chunks ``w``, ``w + W``, ``w + 2W``... two at a time: it works on one while the next
waits in its pipe. A thread per worker reads its results as they come, so a worker never
waits for this process to take one; the caller gets them in chunk order, and at most two
results per worker wait in memory. The caller's thread does nothing else for the workers.

A worker that dies loses nothing: the chunks it held are checked in this process
instead, so a result comes later, never lost and never assumed. An exception in a
worker is raised here.
"""

from __future__ import annotations

import pickle
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from queue import SimpleQueue
from typing import Any, Generic, TypeVar

from cwledger.ledger.signatures import worker_context

__all__ = ["ChunkWorkers"]

T = TypeVar("T")
Job = Callable[[int, int], T]  # the chunk start..<end -> its result


def _serve(tasks: Connection, results: Connection, job: Job[Any]) -> None:
    """A worker: `initializer(*initargs)` as first sent, then the chunks sent to it, one at
    a time, until None."""
    initializer, initargs = tasks.recv()
    initializer(*initargs)
    while (task := tasks.recv()) is not None:
        try:
            out: tuple[bool, Any] = (True, job(*task))
        except Exception as e:  # raised in the caller: as itself if it survives pickling
            try:
                pickle.loads(pickle.dumps(e))
                out = (False, e)
            except Exception:
                out = (False, RuntimeError(f"a worker failed:\n{traceback.format_exc()}"))
        results.send_bytes(pickle.dumps(out, pickle.HIGHEST_PROTOCOL))


def _read(results: Connection, into: SimpleQueue[bytes | None]) -> None:
    """Every result a worker sends, as it comes; None once it has ended (or died)."""
    try:
        while True:
            into.put(results.recv_bytes())
    except (EOFError, OSError):
        into.put(None)


class _Worker(Generic[T]):
    """One worker process, the chunks it is given and the results it has sent."""

    def __init__(self, tasks: Connection, results: Connection, process: Any) -> None:
        self.tasks = tasks
        self.results: SimpleQueue[bytes | None] = SimpleQueue()
        self.process = process
        self.alive = True
        self.done = False  # told there are no more chunks
        self.reader = threading.Thread(target=_read, args=(results, self.results), daemon=True)

    def send(self, message: object) -> None:
        try:
            self.tasks.send(message)
        except OSError:
            self.alive = False  # it has died: its result is read as missing

    def result(self) -> tuple[bool, T] | None:
        """Its next result, or None if it died first."""
        if self.alive:
            data = self.results.get()
            if data is not None:
                ok, value = pickle.loads(data)
                return ok, value
            self.alive = False
        return None

    def stop(self) -> None:
        if self.alive and not self.done:
            self.send(None)  # the end of its chunks
        self.tasks.close()
        self.process.join(timeout=1)
        if self.process.is_alive():  # still in a chunk the caller no longer wants
            self.process.terminate()
            self.process.join()
        if self.reader.is_alive():  # it reads the end of the worker's pipe, then ends
            self.reader.join()


class _Chunks(Sequence[tuple[int, int]]):
    """The chunks (start, end) of a log, given round by round, one chunk to each of
    `workers` in a round: `chunk` entries each, but for the last round, which shares what
    is left evenly (so that no worker ends a chunk's time after the others). Computed when
    asked for: nothing held per chunk."""

    def __init__(self, size: int, chunk: int, workers: int = 1) -> None:
        self.chunk = chunk
        self.whole = size // (chunk * workers) * workers  # chunks of the whole rounds
        rest_at = self.whole * chunk
        share = -(-(size - rest_at) // workers)
        self.rest = [(s, min(s + share, size)) for s in range(rest_at, size, share or 1)]

    def __len__(self) -> int:
        return self.whole + len(self.rest)

    def __getitem__(self, k: int) -> tuple[int, int]:  # type: ignore[override]
        if not 0 <= k < len(self):
            raise IndexError(k)
        if k < self.whole:
            return k * self.chunk, (k + 1) * self.chunk
        return self.rest[k - self.whole]


class ChunkWorkers(Generic[T]):
    """`job(start, end)` of each chunk of a log, on `workers` processes started at once:
    `submit` the log, then take the `results` in log order. Use as a context manager:
    the workers end with it."""

    def __init__(self, job: Job[T], workers: int) -> None:
        context = worker_context()
        self._pool: list[_Worker[T]] = []
        self._chunks = _Chunks(0, 1)
        self._sent: list[int] = []
        try:
            for _ in range(workers):
                task_out, task_in = context.Pipe(duplex=False)
                result_out, result_in = context.Pipe(duplex=False)
                process = context.Process(  # type: ignore[attr-defined]  # every start method's
                    target=_serve, args=(task_out, result_in, job), daemon=True
                )
                process.start()
                task_out.close()  # the worker's ends: a dead worker's pipe then reads as ended
                result_in.close()
                self._pool.append(_Worker(task_in, result_out, process))
            for worker in self._pool:
                worker.reader.start()
        except BaseException:
            self.close()
            raise

    def submit(
        self,
        size: int,
        chunk: int,
        initializer: Callable[..., None],
        initargs: tuple[Any, ...],
    ) -> None:
        """Start on the chunks of `chunk` entries of a log of `size` (the last few shorter,
        one for each worker: `_Chunks`): each worker first runs `initializer(*initargs)`,
        then is given its first two chunks."""
        self._chunks = _Chunks(size, chunk, len(self._pool))
        self._sent = [0] * len(self._pool)
        for worker in self._pool:
            worker.send((initializer, initargs))
        for w in range(len(self._pool)):
            self._feed(w)
            self._feed(w)

    def _feed(self, w: int) -> None:
        """Give worker `w` its next chunk, or tell it there is none left (it then ends as
        soon as it has sent its last result)."""
        worker, k = self._pool[w], w + self._sent[w] * len(self._pool)
        if k < len(self._chunks):
            worker.send(self._chunks[k])
            self._sent[w] += 1
        elif not worker.done:
            worker.send(None)
            worker.done = True

    def results(self, local: Job[T]) -> Iterator[T]:
        """The submitted chunks' results in log order; `local(start, end)` in this process
        for a chunk whose worker died."""
        width = len(self._pool)
        for k, (start, end) in enumerate(self._chunks):
            worker = self._pool[k % width]
            got = worker.result()
            if got is None:  # the worker died: its chunks are checked here
                yield local(start, end)
                continue
            self._feed(k % width)
            ok, value = got
            if not ok:
                raise value  # type: ignore[misc]  # an exception the worker raised
            yield value

    def close(self) -> None:
        """End the workers (at once, if still in a chunk)."""
        for worker in self._pool:
            worker.stop()

    def __enter__(self) -> ChunkWorkers[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
