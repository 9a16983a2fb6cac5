"""What the memory tests' child processes share: the memory the kernel's ``RLIMIT_DATA``
counts (Linux 4.7+: VmData), and the cap set at what the child uses now plus a headroom.

Each test's child program starts with `PRELUDE`, handles a small case, calls
``cap_data(headroom_mb)`` and must then handle a case ten or more times larger: bounded
state passes, state per event dies with MemoryError."""

PRELUDE = """
import resource, sys
from pathlib import Path

def data_mb():  # what RLIMIT_DATA counts (Linux 4.7+): VmData
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmData:")[1].split()[0]) / 1024

def cap_data(headroom_mb):
    cap = int((data_mb() + headroom_mb) * 1024 * 1024)
    resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
"""
