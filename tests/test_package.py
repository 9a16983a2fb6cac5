"""The package as a plain `pip install cwledger` gets it: built into a wheel, installed with
no extras into a fresh virtual environment that sees only the project's runtime
dependencies, every module imports and the `cwledger` command runs.

Offline: the wheel is built from this tree with the installed setuptools, installed with
`--no-index --no-deps`, and the runtime dependencies are this environment's own
distributions, linked into a directory of their own: [project].dependencies and what they
require, transitively (with the extras asked for), and nothing else, so a module that
imports a dev-only package (pytest, httpx, ...) fails here.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
import venv
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
IMPORT_EVERY_MODULE = """
import importlib, pkgutil, sys
import cwledger
names = sorted(m.name for m in pkgutil.walk_packages(cwledger.__path__, "cwledger."))
for name in names:
    if not name.endswith(".__main__"):
        importlib.import_module(name)
assert cwledger.__file__.startswith(sys.prefix), cwledger.__file__
print(len(names))
"""


def _runtime_closure() -> set[str]:
    """The distributions a plain install of the project needs: its dependencies and theirs,
    with the extras each requirement names."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [(Requirement(r), "") for r in project["dependencies"]]
    seen: set[tuple[str, str]] = set()
    names: set[str] = set()
    while wanted:
        req, extra = wanted.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(req.name)
        for asked in [""] + sorted(req.extras):
            if (name, asked) in seen:
                continue
            seen.add((name, asked))
            try:
                requires = metadata.distribution(name).requires or []
            except metadata.PackageNotFoundError:
                continue  # not in the lock (e.g. an optional format checker of jsonschema)
            names.add(name)
            wanted += [(Requirement(sub), asked) for sub in requires]
    return names


def _link_distributions(names: set[str], into: Path) -> None:
    """Link each distribution's top-level files and directories (its packages, modules,
    shared libraries and metadata) into `into`."""
    into.mkdir()
    for name in names:
        dist = metadata.distribution(name)
        base = Path(str(dist.locate_file("")))
        tops = {Path(str(f)).parts[0] for f in dist.files or []}
        for top in tops - {".."}:
            if top.endswith(".pth") or top == "__pycache__" or (into / top).exists():
                continue
            if (base / top).exists():
                (into / top).symlink_to(base / top)


@pytest.mark.slow
def test_a_plain_install_imports_every_module(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check"]
        + ["--no-deps", "--no-index", "--no-build-isolation", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [wheel] = wheels.glob("cwledger-*.whl")
    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
        + ["--disable-pip-version-check", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    deps = tmp_path / "runtime-deps"
    _link_distributions(_runtime_closure(), deps)
    [site] = (env_dir / "lib").glob("python3*/site-packages")
    (site / "runtime-deps.pth").write_text(f"{deps}\n")

    done = subprocess.run(
        [str(python), "-c", IMPORT_EVERY_MODULE], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 100
    version = subprocess.run(
        [str(env_dir / "bin" / "cwledger"), "--version"], capture_output=True, text=True
    )
    assert version.returncode == 0 and version.stdout.strip(), version.stderr
