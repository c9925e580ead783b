"""The package as a user gets it: built, installed into a fresh environment, run.

``python -m build`` makes an sdist and, from it, a wheel (without a setuptools
deprecation notice). The wheel is installed into a new virtual environment —
not editable, with no repository on the path, run from an empty folder —
where it imports, ``autograd-mini demo`` and ``autograd-mini grad`` work, and
its files and metadata are what a package index shows: the package and
nothing else (no tests, notebooks or benchmarks), the license, the README as
the description, classifiers, project URLs, and the version that
``autograd_mini.__version__`` says.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import autograd_mini

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def _run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run a command outside this test's environment: no PYTHONPATH, no repository."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The sdist, the wheel and everything the build printed."""
    dist = tmp_path_factory.mktemp("dist")
    result = _run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)], cwd=dist)
    sdists, wheels = list(dist.glob("*.tar.gz")), list(dist.glob("*.whl"))
    assert len(sdists) == len(wheels) == 1, sorted(p.name for p in dist.iterdir())
    return sdists[0], wheels[0], result.stdout + result.stderr


@pytest.fixture(scope="module")
def installed(built: tuple[Path, Path, str],
              tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """A fresh venv with the wheel installed, an empty folder to run in, and what it reports."""
    venv = tmp_path_factory.mktemp("venv")
    home = tmp_path_factory.mktemp("elsewhere")
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=home)
    python = venv / "bin" / "python"
    # This environment's pip installs into the new one (and reuses its cache).
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
          "--disable-pip-version-check", str(built[1])], cwd=home)
    report = """
import json, importlib.metadata as md, sys
import autograd_mini
dist = md.distribution("autograd_mini")
meta = dist.metadata
print(json.dumps({
    "file": autograd_mini.__file__,
    "version": autograd_mini.__version__,
    "path": sys.path,
    "metadata": {k: meta.get_all(k) for k in set(meta.keys())},
    "description": meta.get_payload(),
    "files": [str(f) for f in dist.files],
    "direct_url": dist.read_text("direct_url.json"),
}))
"""
    # -I: isolated, so neither the current folder nor PYTHON* variables reach sys.path.
    info = json.loads(_run([str(python), "-I", "-c", report], cwd=home).stdout)
    return venv, home, info


def test_build_makes_an_sdist_and_a_wheel_without_deprecation_notices(
        built: tuple[Path, Path, str]) -> None:
    sdist, wheel, output = built
    version = autograd_mini.__version__
    assert sdist.name == f"autograd_mini-{version}.tar.gz"
    assert wheel.name == f"autograd_mini-{version}-py3-none-any.whl"
    assert "Deprecat" not in output and "deprecat" not in output, output
    assert "!!" not in output, output  # setuptools frames its notices with "!!"
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"LICENSE", "README.md", "pyproject.toml", "autograd_mini/bridge.py"} <= names


def test_the_wheel_holds_the_package_and_nothing_else(built: tuple[Path, Path, str]) -> None:
    with zipfile.ZipFile(built[1]) as whl:
        names = whl.namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"autograd_mini", f"autograd_mini-{autograd_mini.__version__}.dist-info"}
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "autograd_mini").glob("*.py")}
    assert sources <= set(names)
    for name in names:
        assert not re.search(r"(^|/)(tests?|notebooks|benchmarks|tools|docs)/", name), name
        assert not name.endswith((".ipynb", ".pyc")), name


def test_installed_from_the_wheel_not_the_repository(installed: tuple[Path, Path, dict]) -> None:
    venv, _, info = installed
    site = Path(info["file"]).resolve()
    assert site.is_relative_to(venv.resolve()) and "site-packages" in site.parts
    assert not any(Path(p).resolve() == ROOT for p in info["path"] if p)
    assert "editable" not in (info["direct_url"] or "")


def test_metadata_a_package_index_shows(installed: tuple[Path, Path, dict]) -> None:
    _, _, info = installed
    meta = info["metadata"]
    assert meta["Name"] == ["autograd_mini"]
    assert meta["License-Expression"] == ["MIT"]  # SPDX, not the old License field
    assert "License" not in meta
    assert meta["License-File"] == ["LICENSE"]
    assert not any(c.startswith("License ::") for c in meta["Classifier"])
    assert "Programming Language :: Python :: 3" in meta["Classifier"]
    assert "Typing :: Typed" in meta["Classifier"]
    assert len(meta["Classifier"]) >= 5
    assert {url.split(",")[0] for url in meta["Project-URL"]} >= {"Homepage", "Source",
                                                                 "Issues"}
    assert meta["Requires-Python"] == [">=3.10"]
    assert any(r.startswith("graphviz") for r in meta["Requires-Dist"])
    assert any(r.startswith("torch") and 'extra == "torch"' in r for r in meta["Requires-Dist"])
    assert meta["Description-Content-Type"] == ["text/markdown"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert info["description"].strip() == readme.strip()
    license_files = [f for f in info["files"] if f.endswith("licenses/LICENSE")]
    assert len(license_files) == 1
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License") and "autograd_mini contributors" in license_text


def test_one_version_everywhere(installed: tuple[Path, Path, dict]) -> None:
    """``__version__`` is the only place the version is written; the metadata reads it."""
    _, _, info = installed
    assert info["version"] == autograd_mini.__version__
    assert info["metadata"]["Version"] == [autograd_mini.__version__]
    assert 'dynamic = ["version"]' in PYPROJECT
    assert not re.search(r'^version\s*=\s*"', PYPROJECT, re.M)  # no second copy
    assert 'version = { attr = "autograd_mini.__version__" }' in PYPROJECT


def test_installed_files(installed: tuple[Path, Path, dict]) -> None:
    _, _, info = installed
    files = info["files"]
    assert "autograd_mini/__init__.py" in files and "autograd_mini/bridge.py" in files
    assert "autograd_mini/py.typed" in files  # type checkers read the package's hints
    for f in files:
        assert not re.match(r"(tests?|notebooks|benchmarks|tools|docs)/", f), f
        assert not f.endswith(".ipynb"), f


def test_the_commands_run_from_the_installed_wheel(installed: tuple[Path, Path, dict]) -> None:
    venv, home, _ = installed
    command = str(venv / "bin" / "autograd-mini")
    grad = _run([command, "grad", "x*y + exp(x)", "x=2", "y=-3"], cwd=home).stdout
    printed = dict(line.split(" = ") for line in grad.splitlines())
    assert printed.keys() == {"f", "df/dx", "df/dy"}
    f, dfdx, dfdy = (float(printed[k]) for k in ("f", "df/dx", "df/dy"))
    assert (f, dfdx, dfdy) == (pytest.approx(-6 + math.exp(2)), pytest.approx(-3 + math.exp(2)),
                               2.0)
    demo = _run([command, "demo"], cwd=home).stdout
    assert "0.408666186" in demo and "0.51130127" in demo  # w6, w7 after one step
    version = _run([command, "--version"], cwd=home).stdout
    assert autograd_mini.__version__ in version
