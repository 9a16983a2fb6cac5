"""A long-running process's heap: freed memory kept for the next answer, and the objects
of its start-up out of the cyclic collector's sight.

CPython takes every block over 512 bytes from the C library's ``malloc``. glibc gives the
top of its heap back to the kernel as soon as more than 128 kB of it is free, and serves a
block over 128 kB with its own ``mmap``; the next answer then touches fresh pages, each one
a page fault. A large answer (a page of 16 entries is 104 kB, an entry bundle of the
scenario 650 kB) is built, framed and freed on every request, so the server paid those
faults every time: in one process, joining a 104 kB page and framing it took 110 µs with
glibc's defaults and 10 µs with the heap kept, 1.6 MB 1,645 and 72 µs
(docs/performance.md, "Reads at the server's limit").

`keep_freed_heap` sets the three thresholds once per worker process: blocks under
`MMAP_THRESHOLD` come from the heap, and up to `TRIM_THRESHOLD` of free heap stays with the
process. Elsewhere than glibc it does nothing.

`freeze_start_up` is for the same processes and for the command line: once the modules
are imported, some 80,000 objects (classes, functions, pydantic's and SQLAlchemy's
tables) live as long as the process. CPython's cyclic collector walks every one of them
in each full collection, and a batch of appends makes some: the collector took 18.6-21.0
µs of the appending thread's CPU an event, and 5.8-7.4 µs with them frozen
(`benchmarks/bench_cpu.py` against `--no-freeze`; docs/performance.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import platform

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "freeze_start_up", "keep_freed_heap"]

# mallopt's parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 4 * 2**20
"""Blocks up to this size come from the heap (glibc's default: 128 kB, raised as blocks
are freed; setting any threshold fixes them all)."""
TRIM_THRESHOLD = 16 * 2**20
"""Free memory at the top of the heap kept up to this size (glibc's default: 128 kB)."""
TOP_PAD = 2**20
"""Extra memory asked of the kernel each time the heap grows, and kept when it shrinks."""


def keep_freed_heap() -> bool:
    """Set the heap's thresholds in this process; whether they were set (False elsewhere
    than glibc, or if it refused one)."""
    if platform.libc_ver()[0] != "glibc":
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    return all(
        libc.mallopt(param, value) == 1
        for param, value in (
            (_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
            (_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
            (_M_TOP_PAD, TOP_PAD),
        )
    )


def freeze_start_up() -> None:
    """Move every object alive now, which the start-up made, out of the cyclic collector's
    sight for the life of the process (`gc.freeze`): they are never collected, and never
    walked again. Call it once the modules are imported and before the work, in a process
    of its own (a command, a server's worker): what the work makes later is collected as
    ever. A forked child (the audit's workers) inherits them frozen, so its collections
    do not touch, and copy, the parent's pages."""
    gc.freeze()
