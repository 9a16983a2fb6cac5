"""The layers of the code, enforced: every import goes down (or across a layer, never up),
no two modules import each other however indirectly, and an import inside a function says
why it is there.

The direction (docs/architecture.md, "Layers"): core (errors, time, tlog, model) -> the
domain (book, accountancy statistics, EPCIS formats) -> the ledger and the store -> the
answers -> the shells (cli, api, web, reports). Within the shells, the HTTP pieces that
api and web share come first, then the pages and reports, then the API (which mounts the
pages), then the CLI and the demo (which start the server).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "cwledger"

# The layer of each module, by the longest prefix of its dotted name that is listed.
LAYERS: dict[str, float] = {
    # 0. core: no domain knowledge beyond the types
    "cwledger": 0,
    "cwledger.errors": 0,
    "cwledger.time": 0,
    "cwledger.words": 0,
    "cwledger.heap": 0,
    "cwledger.i18n": 0,
    "cwledger.tlog": 0,
    "cwledger.model": 0,
    # 1. the domain: the book's rules and registry, statistics, EPCIS formats (pure)
    "cwledger.book": 1,
    "cwledger.accountancy": 1,
    "cwledger.epcis": 1,
    # 2. the ledger (the append path) and the store; intake of sheets; the EPCIS document
    #    (which reads the registry)
    "cwledger.ledger": 2,
    "cwledger.store": 2,
    "cwledger.intake": 2,
    "cwledger.witness": 2,
    "cwledger.escrow": 2,
    "cwledger.epcis.mapping": 2,
    "cwledger.epcis._export": 2,
    "cwledger.epcis._import": 2,
    # 3. answers: what the shells print, read from the store (the book's and the
    #    accountancy's: balances and draws read the store too); ready-made ledgers; charts
    "cwledger.book.answers": 3,
    "cwledger.accountancy.answers": 3,
    "cwledger.accountancy.balances": 3,
    "cwledger.accountancy.draws": 3,
    "cwledger.scenario": 3,
    "cwledger.charts": 3,
    # 4. shells
    "cwledger.http": 4.0,
    "cwledger.tables": 4.0,
    "cwledger.web": 4.1,
    "cwledger.reports": 4.1,
    "cwledger.api": 4.2,
    "cwledger.witness.app": 4.2,
    "cwledger.cli": 4.3,
    "cwledger.demo": 4.3,
    "cwledger.__main__": 4.4,
}

# An import inside a function must say, in a comment on its line or above it in the same
# function, that it is there for start-up time.
REASON = "start-up"


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    in_function: bool
    reason: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(p): p
        for p in sorted((SRC / PACKAGE).rglob("*.py"))
        if "migrations" not in p.parts
    }


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The module that `import name` (or `from name import ...`) runs last, if ours."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _imports(module: str, path: Path) -> list[Import]:
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    # Imports inside a function -> the function's first line: a comment anywhere in the
    # function above the import may give the reason for all of them.
    inside: dict[int, int] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            inside |= {id(n): fn.lineno for n in ast.walk(fn) if n is not fn}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module if path.name == "__init__.py" else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                stem = f"{base}.{node.module}" if node.module else base
            else:
                stem = node.module or ""
            # `from package import submodule` imports the submodule; any other name comes
            # from the module (or package __init__) itself.
            names = [
                f"{stem}.{a.name}" if f"{stem}.{a.name}" in MODULES else stem for a in node.names
            ]
        else:
            continue
        first = inside.get(id(node), max(1, node.lineno - 1))
        context = " ".join(lines[first - 1 : node.end_lineno or node.lineno]).lower()
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                found.append(
                    Import(module, target, node.lineno, id(node) in inside, REASON in context)
                )
            elif target is None and id(node) in inside and name == names[-1]:
                # Another library's, inside a function: kept for the explanation check only.
                found.append(Import(module, name, node.lineno, True, REASON in context))
    return list(dict.fromkeys(found))


def _parents(module: str, importer: str) -> list[str]:
    """The packages whose __init__ runs before the module when `importer` imports it (those
    of them that do not hold the importer: their __init__ has run already)."""
    parts = module.split(".")
    found = [".".join(parts[:i]) for i in range(1, len(parts))]
    return [p for p in found if p in MODULES and not importer.startswith(p + ".")]


def layer(module: str) -> float:
    name = module
    while name not in LAYERS or (name == PACKAGE != module):
        if name == PACKAGE:
            raise KeyError(f"{module} is in no layer: add it to LAYERS")
        name = name.rpartition(".")[0]
    return LAYERS[name]


ALL_IMPORTS = [i for m, p in MODULES.items() for i in _imports(m, p)]
IMPORTS = [i for i in ALL_IMPORTS if i.imported in MODULES]


def test_the_walk_sees_the_code() -> None:
    assert len(MODULES) > 80
    assert any(i.imported == "cwledger.book.registry" for i in IMPORTS)


def test_every_module_has_a_layer() -> None:
    unplaced = []
    for m in MODULES:
        try:
            layer(m)
        except KeyError:
            unplaced.append(m)
    assert not unplaced


def test_imports_go_down_the_layers() -> None:
    upward = [
        f"{i.importer}:{i.line} (layer {layer(i.importer):g})"
        f" imports {i.imported} (layer {layer(i.imported):g})"
        for i in IMPORTS
        if layer(i.imported) > layer(i.importer)
    ]
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_no_cycle_between_modules() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for m in MODULES:
        edges[m]
    for i in IMPORTS:
        edges[i.importer].add(i.imported)
        # Importing a module runs its packages' __init__ first.
        edges[i.importer] |= set(_parents(i.imported, i.importer))
    cycles = _cycles(edges)
    assert not cycles, "modules that import each other:\n" + "\n".join(map(str, cycles))


def test_an_import_in_a_function_says_why() -> None:
    unexplained = [
        f"{i.importer}:{i.line} imports {i.imported}"
        for i in ALL_IMPORTS
        if i.in_function and not i.reason
    ]
    assert not unexplained, f"imports inside functions without a {REASON!r} comment:\n" + "\n".join(
        unexplained
    )


def test_the_cycle_finder_finds_cycles() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(edges) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("cwledger.tlog.note", 0),
        ("cwledger.book.rules.seals", 1),
        ("cwledger.book.answers", 3),
        ("cwledger.epcis.mapping", 2),
        ("cwledger.web.items", 4.1),
    ],
)
def test_layer_lookup(module: str, expected: float) -> None:
    assert layer(module) == expected


def test_modules_stay_small() -> None:
    """One module, one reason to change: none over 800 lines, the median under 200."""
    sizes = {m: len(p.read_text().splitlines()) for m, p in MODULES.items()}
    too_long = {m: n for m, n in sizes.items() if n > 800}
    assert not too_long
    ordered = sorted(sizes.values())
    assert ordered[len(ordered) // 2] < 200
