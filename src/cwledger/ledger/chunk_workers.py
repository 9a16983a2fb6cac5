"""Chunks of a log checked on worker processes, their results in log order (the audit's).

One process per core, started as `worker_context` says. Each worker holds two chunks at
a time: it works on one while the next waits in its pipe, and whichever worker sends a
result is given the next chunk, so a worker that started later or runs slower is not
left with a share of its own at the end; the last chunks are shorter and shorter, for the
same reason. A thread per worker reads its results as they come, so a worker never waits
for this process to take one; the caller gets them in log order, and no more than a few
chunks' results wait in memory (a worker far ahead of the oldest chunk still out waits
for it).
The caller's thread does nothing else for the workers.

A worker that dies loses nothing: the chunks it held are checked in this process
instead, so a result comes later, never lost and never assumed. So does one whose
initializer fails (say, it cannot open the store): it says why in one line on standard
error and ends. An exception in a worker's chunk is raised here.
"""

from __future__ import annotations

import pickle
import sys
import threading
import traceback
from collections import deque
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
    start = tasks.recv()
    if start is None:  # closed before it was given a log
        return
    initializer, initargs = start
    try:
        initializer(*initargs)
    except Exception as e:  # its chunks are done in the caller's process, as a dead one's
        sys.stderr.write(
            f"cwledger: a worker process could not start ({type(e).__name__}: {e}); the "
            "main process does its share\n"
        )
        return
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


_Arrived = SimpleQueue[tuple[int, bytes | None]]  # (worker, its next result, or None: it ended)


def _read(w: int, results: Connection, into: _Arrived) -> None:
    """Every result worker `w` sends, as it comes; None once it has ended (or died)."""
    try:
        while True:
            into.put((w, results.recv_bytes()))
    except (EOFError, OSError):
        into.put((w, None))


class _Worker:
    """One worker process and the chunks it holds, oldest first."""

    def __init__(
        self, w: int, tasks: Connection, results: Connection, process: Any, into: _Arrived
    ) -> None:
        self.tasks = tasks
        self.process = process
        self.held: deque[int] = deque()
        self.alive = True
        self.done = False  # told there are no more chunks
        self.reader = threading.Thread(target=_read, args=(w, results, into), daemon=True)

    def send(self, message: object) -> None:
        try:
            self.tasks.send(message)
        except OSError:
            self.alive = False  # it has died: its reader says so

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
    """The chunks (start, end) of a log: `chunk` entries each, but for the last entries, at
    most `workers` chunks' worth, which go in shorter and shorter chunks, each a share of
    what is left, down to `smallest` (so that the workers end together). Nothing held per
    chunk of `chunk` entries; the shorter ones, a few dozen at most, are listed.

    With `align`, a last chunk that would end past a multiple of `align` ends at the
    multiple instead, when the chunk is still `smallest` long: the audit's workers check
    the bottom tiles inside their chunks (its whole chunks, 2,048 entries, end at tile
    ends already), and a tile two chunks share is walked leaf by leaf in its process."""

    def __init__(
        self, size: int, chunk: int, smallest: int, workers: int = 1, align: int = 1
    ) -> None:
        self.chunk = chunk
        self.whole = max(0, size - workers * chunk) // chunk  # chunks of `chunk` entries
        self.tail: list[tuple[int, int]] = []
        shortest = min(smallest, chunk)
        start = self.whole * chunk
        while start < size:
            end = min(start + max(shortest, -(-(size - start) // (2 * workers))), size)
            if end < size and end - end % align - start >= shortest:
                end -= end % align
            self.tail.append((start, end))
            start = end

    def __len__(self) -> int:
        return self.whole + len(self.tail)

    def __getitem__(self, k: int) -> tuple[int, int]:  # type: ignore[override]
        if not 0 <= k < len(self):
            raise IndexError(k)
        if k < self.whole:
            return k * self.chunk, (k + 1) * self.chunk
        return self.tail[k - self.whole]


class ChunkWorkers(Generic[T]):
    """`job(start, end)` of each chunk of a log of `size`, `chunk` entries each but for the
    last few, down to `smallest`, ending at multiples of `align` where they can (`_Chunks`),
    on `workers` processes: each runs
    `initializer(*initargs)` first. Take the `results` in log order. Use as a context
    manager: the workers end with it."""

    def __init__(
        self,
        job: Job[T],
        workers: int,
        size: int,
        chunk: int,
        smallest: int,
        initializer: Callable[..., None],
        initargs: tuple[Any, ...],
        align: int = 1,
    ) -> None:
        context = worker_context()
        self._arrived: _Arrived = SimpleQueue()
        self._pool: list[_Worker] = []
        self._chunks = _Chunks(size, chunk, smallest, workers, align)
        self._next = 0  # the next chunk to give out
        try:
            for w in range(workers):
                task_out, task_in = context.Pipe(duplex=False)
                result_out, result_in = context.Pipe(duplex=False)
                process = context.Process(  # type: ignore[attr-defined]  # every start method's
                    target=_serve, args=(task_out, result_in, job), daemon=True
                )
                process.start()
                task_out.close()  # the worker's ends: a dead worker's pipe then reads as ended
                result_in.close()
                worker = _Worker(w, task_in, result_out, process, self._arrived)
                self._pool.append(worker)
                worker.reader.start()
                # It starts on its first chunk while the next worker is started.
                worker.send((initializer, initargs))
                self._feed(worker, 0)
            for worker in self._pool:
                self._feed(worker, 0)  # and has its next one waiting
        except BaseException:
            self.close()
            raise

    def _feed(self, worker: _Worker, oldest: int) -> bool:
        """Give `worker` the next chunk, unless it is more than a few chunks ahead of the
        `oldest` not yet taken (whether it did); or tell it there is none left (it then
        ends as soon as it has sent its last result)."""
        if self._next < len(self._chunks):
            if self._next >= oldest + 4 * len(self._pool):
                return False
            worker.held.append(self._next)
            worker.send(self._chunks[self._next])
            self._next += 1
            return True
        if not worker.done:
            worker.send(None)
            worker.done = True
        return False

    def results(self, local: Job[T]) -> Iterator[T]:
        """The submitted chunks' results in log order; `local(start, end)` in this process
        for a chunk whose worker died (or that no worker was left to take)."""
        waiting: dict[int, bytes] = {}  # results that came before an older one
        done_here: dict[int, T] = {}
        for k in range(len(self._chunks)):
            while k not in waiting and k not in done_here:
                if k >= self._next:  # no worker is left to take it
                    done_here[k] = local(*self._chunks[k])
                    self._next = k + 1
                    break
                w, data = self._arrived.get()
                worker = self._pool[w]
                if data is None:  # it ended: what it still held is checked here, in order
                    worker.alive = False
                    for held in worker.held:
                        done_here[held] = local(*self._chunks[held])
                    worker.held.clear()
                else:
                    waiting[worker.held.popleft()] = data
                for other in self._pool:  # give out what the window now allows
                    while other.alive and len(other.held) < 2 and self._feed(other, k):
                        pass
            if k in done_here:
                yield done_here.pop(k)
                continue
            ok, value = pickle.loads(waiting.pop(k))
            if not ok:
                try:
                    raise value  # an exception the worker raised
                finally:
                    del value  # else this frame and the exception's traceback hold each other
            yield value

    def close(self) -> None:
        """End the workers (at once, if still in a chunk)."""
        for worker in self._pool:
            worker.stop()

    def __enter__(self) -> ChunkWorkers[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
