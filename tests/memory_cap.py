"""What the memory tests' child processes share: the memory the kernel's ``RLIMIT_DATA``
counts (Linux 4.7+: VmData), and the cap set at what the child uses now plus a headroom.

Each test's child program starts with `PRELUDE`, handles a small case, calls
``cap_data(headroom_mb)`` and must then handle a case ten or more times larger: bounded
state passes, state per event dies with MemoryError. For two ledgers, the child calls
``small_then_large(run)`` and the test starts it with `run_child` (`dies_of_memory` for
its leaky variant)."""

import subprocess
import sys
from pathlib import Path

PRELUDE = """
import resource, sys
from pathlib import Path

def data_mb():  # what RLIMIT_DATA counts (Linux 4.7+): VmData
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmData:")[1].split()[0]) / 1024

def cap_data(headroom_mb):
    cap = int((data_mb() + headroom_mb) * 1024 * 1024)
    resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))

def small_then_large(run):
    # run(ledger, large) on the ledger at argv[1], then, under the cap (argv[3] MB above
    # what the child then uses), on the one at argv[2]; prints each ledger's directory
    # name, what run returned and the memory used.
    from cwledger.ledger.ledger import Ledger

    small, large, headroom = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    for path in (small, large):
        ledger = Ledger.open(path)
        if path == large:
            cap_data(headroom)
        shown = run(ledger, path == large)
        ledger.close()
        print(path.name, *shown, round(data_mb(), 1), flush=True)
"""


def run_child(
    program: str, small: Path, large: Path, headroom_mb: int
) -> subprocess.CompletedProcess[str]:
    """`program` (which starts with `PRELUDE`) in a new Python, over the two ledgers."""
    return subprocess.run(
        [sys.executable, "-c", program, str(small), str(large), str(headroom_mb)],
        capture_output=True,
        text=True,
        timeout=900,
    )


def dies_of_memory(program: str, small: Path, large: Path, headroom_mb: int) -> bool:
    """Whether `program` (a leaky variant of a test's child) fails with MemoryError under
    the cap: the proof that the cap is tight enough to catch what the test guards against."""
    run = run_child(program, small, large, headroom_mb)
    return run.returncode != 0 and "MemoryError" in run.stderr
