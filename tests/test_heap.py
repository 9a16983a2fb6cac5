"""The server process keeps its freed heap, and the objects of a process's start-up are
out of the cyclic collector's sight (`cwledger.heap`)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from cwledger.heap import TRIM_THRESHOLD

# In a new process: how much free memory the top of the heap holds (glibc's mallinfo2
# keepcost) after a block of 2 MiB is freed, with glibc's defaults or with the server's.
_PROBE = """
import ctypes, ctypes.util, sys
from cwledger.heap import keep_freed_heap

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "kept":
    assert keep_freed_heap()
before = libc.mallinfo2().hblks
block = bytes(2 * 2**20)  # above glibc's default mmap threshold
mapped = libc.mallinfo2().hblks - before
del block
print(mapped, libc.mallinfo2().keepcost)
"""


def _probe(mode: str) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]), int(out[1])


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_a_freed_large_answer_stays_with_the_process() -> None:
    mapped, kept = _probe("default")
    assert mapped == 1  # glibc's default: a 2 MiB block is mapped apart, and unmapped when freed
    assert kept < 2 * 2**20
    mapped, kept = _probe("kept")
    assert mapped == 0  # from the heap
    assert 2 * 2**20 <= kept <= TRIM_THRESHOLD + 2**20  # and its memory stays there once freed


# In a new process: whether the collector still walks an object made at start-up, and one
# made after `freeze_start_up`.
_FROZEN = """
import gc
from cwledger.heap import freeze_start_up

early = [[]]
freeze_start_up()
late = [[]]
tracked = {id(o) for o in gc.get_objects()}
print(id(early) in tracked, id(late) in tracked, gc.get_freeze_count() > 0)
"""


def test_the_start_up_objects_are_out_of_the_collectors_sight_and_later_ones_not() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _FROZEN], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "True", "True"]
