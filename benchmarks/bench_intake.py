#!/usr/bin/env python
"""Declaration sheets of 10,000 and 100,000 rows: time and peak memory, and linearity.

For each size and format (CSV, XLSX) it writes a good sheet (containers of three chemicals
on fifty sites), then, in a new process each, reads it into a declaration and splits it into
its parts (``read_declaration`` and ``declaration_parts``: all that ``cwledger declare``
does before it signs and appends), and prints the time and the peak RSS of that process.
``per_row_ratio`` is the time per row at 100,000 over the time per row at 10,000 (1.0:
linear). With ``--declare`` it also times the whole ``cwledger declare`` command (signing
and appending the parts to a new ledger too) at each size.

The LAST line is one JSON object. Run ``python benchmarks/bench_intake.py`` (about two
minutes; ``--declare`` adds a few more).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from cwledger.intake import COLUMNS

SIZES = (10_000, 100_000)

READ = """
import json, sys, time
from pathlib import Path
from cwledger.intake import declaration_parts, read_declaration
def hwm():  # VmHWM: ru_maxrss would keep the forking parent's size across exec
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024
start = time.perf_counter()
d = read_declaration(Path(sys.argv[1]), version=1, legal_basis="EC-M-33/DEC.1",
                     due="2013-10-27", party="declarant")
read = time.perf_counter() - start
parts = declaration_parts(d)
print(json.dumps({"items": len(d.items), "parts": len(parts), "read_s": read,
                  "seconds": time.perf_counter() - start,
                  "peak_mb": hwm()}))
"""


def rows(n: int) -> Iterator[list[object]]:
    chemicals = [("Chem-A", 1, "1A3", "1"), ("Chem-B", 2, "", "2"), ("Chem-C", 3, "", "1")]
    for i in range(n):
        label, category, schedule, priority = chemicals[i % 3]
        s = i % 50
        yield [
            f"C-{i:07d}", "container", label, category, schedule, priority, "", "", f"T-{i:07d}",
            f"S-{s}", f"Site {s}", "storage", 34 + s / 100, 36 + s / 100, "",
            100 + i % 997 + 0.5, 2.5, 1.0, "weighing",
        ]  # fmt: skip


def write_csv(path: Path, n: int) -> Path:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(COLUMNS)
        out.writerows(rows(n))
    return path


def _letter(index: int) -> str:
    letters, n = "", index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _sheet_xml(n: int) -> Iterator[bytes]:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    yield f'<worksheet xmlns="{main}"><sheetData>'.encode()
    for number, values in enumerate([list(COLUMNS), *rows(n)], start=1):
        cells = []
        for index, value in enumerate(values):
            ref = f"{_letter(index)}{number}"
            if value == "":
                continue
            if isinstance(value, int | float):
                cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>')
        yield f'<row r="{number}">{"".join(cells)}</row>'.encode()
    yield b"</sheetData></worksheet>"


_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="items" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def write_xlsx(path: Path, n: int) -> Path:
    """A minimal workbook, its sheet XML written directly (openpyxl would take minutes)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in _PARTS.items():
            z.writestr(name, text)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            for piece in _sheet_xml(n):
                f.write(piece)
    return path


def measure(path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", READ, str(path)], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def declare(path: Path, work: Path) -> dict[str, Any]:
    """The whole ``cwledger declare`` in a new ledger: seconds and peak RSS (GNU time)."""
    ledger = work / f"ledger-{path.stem}-{path.suffix[1:]}"
    cli = [sys.executable, "-m", "cwledger"]
    env = {**os.environ}
    subprocess.run([*cli, "init", str(ledger), "--origin", "example.org/bench"], check=True,
                   capture_output=True, env=env)  # fmt: skip
    subprocess.run([*cli, "keys", "new", "--party", "declarant", "--role", "declarant",
                    "--ledger", str(ledger)], check=True, capture_output=True, env=env)  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cli, "declare", str(path), "--as", "declarant",
         "--legal-basis", "EC-M-33/DEC.1", "--due", "2013-10-27",
         "--time", "2013-10-24T00:00:00Z", "--ledger", str(ledger)],
        check=True, capture_output=True, text=True, env=env,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": int(done.stderr.strip().splitlines()[-1]) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--declare", action="store_true", help="also the whole CLI command")
    args = parser.parse_args()
    results: dict[str, Any] = {"load_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for kind, write in (("csv", write_csv), ("xlsx", write_xlsx)):
            for n in SIZES:
                path = write(work / f"sheet-{n}.{kind}", n)
                got = measure(path)
                assert got["items"] == n, got
                key = f"{kind}_{n}"
                results[key] = {k: round(v, 3) for k, v in got.items()}
                results[key]["file_mb"] = round(path.stat().st_size / 2**20, 1)
                print(f"{key:>12}: read {got['read_s']:6.2f} s, with parts {got['seconds']:6.2f} s,"
                      f" peak {got['peak_mb']:6.1f} MB", flush=True)  # fmt: skip
                if args.declare:
                    whole = declare(path, work)
                    results[f"{key}_declare"] = {k: round(v, 2) for k, v in whole.items()}
                    print(f"{'':>12}  cwledger declare {whole['seconds']:6.2f} s,"
                          f" peak {whole['peak_mb']:6.1f} MB", flush=True)  # fmt: skip
            small, large = results[f"{kind}_{SIZES[0]}"], results[f"{kind}_{SIZES[1]}"]
            ratio = (large["seconds"] / SIZES[1]) / (small["seconds"] / SIZES[0])
            results[f"{kind}_per_row_ratio"] = round(ratio, 2)
            print(f"{kind:>12}: time per row at 100,000 / at 10,000 = {ratio:.2f}", flush=True)
            if args.declare:
                small, large = (results[f"{kind}_{n}_declare"] for n in SIZES)
                ratio = (large["seconds"] / SIZES[1]) / (small["seconds"] / SIZES[0])
                results[f"{kind}_declare_per_row_ratio"] = round(ratio, 2)
                print(f"{kind:>12}: declare, time per row 100,000 / 10,000 = {ratio:.2f}")
    results["load_end"] = os.getloadavg()[0]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
