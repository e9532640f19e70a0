"""What a plain ``pip install crmmodels`` brings, and what the extras add."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = {"pandas", "numpy", "scipy", "scikit-learn", "pydantic", "narwhals",
        "threadpoolctl", "skops"}


def _name(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert found is not None
    return found.group(0).lower()


def test_core_dependencies_are_the_core_list() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert {_name(r) for r in project["dependencies"]} == CORE
    extras = project["optional-dependencies"]
    assert "lifetimes" in {_name(r) for r in extras["reference"]}
    assert {_name(r) for r in extras["mlxtend"]} == {"mlxtend"}


def test_cdnow_loads_without_lifetimes() -> None:
    """The bundled CDNOW files are read with lifetimes made unimportable."""
    code = ("import sys; sys.modules['lifetimes'] = None; sys.modules['mlxtend'] = None\n"
            "import crmmodels\n"
            "from crmmodels.datasets import dataset_path, load_cdnow, load_cdnow_sample\n"
            "path = dataset_path('cdnow')\n"
            "assert path.is_relative_to(crmmodels.__path__[0]), path\n"
            "print(load_cdnow().n_customers, load_cdnow_sample().n_customers)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["23570", "2357"]


def test_bundled_cdnow_is_the_published_text() -> None:
    """The compressed files hold the text lifetimes distributes, byte for byte."""
    import gzip
    import hashlib

    from crmmodels.datasets import dataset_path

    published = {"cdnow": "eff6889ed364c5199d6eacbbeb7a6d559971df4406ac876f322c373f00a072ef",
                 "cdnow_sample":
                 "6fae10155c0b0ba363c2c386e30f77990d22328220efd862a5edd1443420d94a"}
    for name, digest in published.items():
        text = gzip.decompress(dataset_path(name).read_bytes())
        assert hashlib.sha256(text).hexdigest() == digest
    assert (dataset_path("cdnow").parent / "PROVENANCE.md").is_file()


def test_mlxtend_engine_names_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from crmmodels.association import AssociationRulesModel

    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.frequent_patterns", None)
    model = AssociationRulesModel(engine="mlxtend", min_support=0.5)
    with pytest.raises(ImportError, match=r'pip install "crmmodels\[mlxtend\]"'):
        model.fit([["a", "b"], ["a"]])
    assert not hasattr(model, "rules_")


def _draw(tmp_path: Path) -> None:
    from crmmodels.core.figures import new_axes

    new_axes(None)


def _report_page(tmp_path: Path) -> None:
    from crmmodels.report.html import render

    render("x", [], 0)


def _polars_summary(tmp_path: Path) -> None:
    from crmmodels.data import customer_summary
    from crmmodels.datasets import load_cdnow_sample

    customer_summary(load_cdnow_sample(), output="polars")


def _spark_rules(tmp_path: Path) -> None:
    from crmmodels.spark import association_rules

    association_rules(None, min_support=0.1)


def _parquet_file(tmp_path: Path) -> None:
    from crmmodels.cli import _read

    path = tmp_path / "orders.parquet"
    path.write_bytes(b"PAR1")
    _read(str(path), "pandas", "transactions")


@pytest.mark.parametrize(("blocked", "call", "expected"), [
    ("matplotlib.pyplot", _draw,
     'drawing a figure needs matplotlib: pip install "crmmodels[plot]"'),
    ("jinja2", _report_page, 'the HTML report needs jinja2: pip install "crmmodels[report]"'),
    ("polars", _polars_summary, 'output="polars" needs polars: pip install polars'),
    ("pyspark", _spark_rules, 'needs pyspark: pip install "crmmodels[spark]"'),
    ("pyarrow", _parquet_file, 'reading Parquet needs pyarrow: pip install "crmmodels[report]"'),
], ids=["plot", "report", "polars", "spark", "parquet"])
def test_missing_optional_dependency_names_what_to_install(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, blocked: str, call: Any,
        expected: str) -> None:
    monkeypatch.setitem(sys.modules, blocked, None)
    with pytest.raises(ImportError, match=re.escape(expected)) as info:
        call(tmp_path)
    assert info.value.name == blocked.partition(".")[0]


SMOKE = """
import crmmodels
from crmmodels.cltv import BetaGeoModel
from crmmodels.datasets import load_cdnow

data = load_cdnow()
model = BetaGeoModel().fit(data)
scores = model.score(data)
assert len(scores) == data.n_customers == 23570, len(scores)
assert scores["p_alive"].between(0, 1).all()
print(crmmodels.__version__, len(scores))
"""

# Run inside the new venv: what crmmodels' requirements reach (extras left out), and
# what is installed.
CLOSURE = """
import importlib.metadata as md, json
from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.utils import canonicalize_name

direct = [Requirement(r) for r in md.requires("crmmodels") or []]
core = sorted(canonicalize_name(r.name) for r in direct
              if r.marker is None or r.marker.evaluate({"extra": ""}))
reached, todo = set(), ["crmmodels"]
while todo:
    name = todo.pop()
    if name in reached:
        continue
    reached.add(name)
    for text in md.requires(name) or []:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            todo.append(canonicalize_name(req.name))
installed = sorted({canonicalize_name(d.metadata["Name"]) for d in md.distributions()})
print(json.dumps({"core": core, "reached": sorted(reached), "installed": installed}))
"""


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


@pytest.mark.slow
def test_built_wheel_installs_the_core_list_and_runs(tmp_path: Path) -> None:
    """``python -m build`` makes a wheel and an sdist.

    The wheel, installed into a clean venv, brings only the core dependencies (and
    what they require), and the smoke test runs there.
    """
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True, text=True)
    wheels = sorted(dist.glob("crmmodels-*.whl"))
    sdists = sorted(dist.glob("crmmodels-*.tar.gz"))
    assert len(wheels) == 1, sorted(p.name for p in dist.iterdir())
    assert len(sdists) == 1, sorted(p.name for p in dist.iterdir())
    assert wheels[0].stat().st_size < 5 * 2**20

    import tarfile
    import zipfile

    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
    for data in ("cdnow_master.txt.gz", "cdnow_sample.txt.gz", "donations.csv",
                 "PROVENANCE.md"):
        assert f"crmmodels/datasets/data/{data}" in names
    assert any(n.endswith("/licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "benchmarks/", "notebooks/")) for n in names)
    with tarfile.open(sdists[0]) as sdist:
        members = sdist.getnames()
    assert any(m.endswith("/LICENSE") for m in members)
    assert any(m.endswith("/pyproject.toml") for m in members)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(_venv_python(venv))
    subprocess.run([python, "-m", "pip", "install", "-q", "-c", str(ROOT / "constraints.txt"),
                    str(wheels[0])], check=True, capture_output=True, text=True)
    import json

    found = json.loads(subprocess.run([python, "-c", CLOSURE], check=True,
                                      capture_output=True, text=True).stdout)
    assert set(found["core"]) == CORE
    installed = set(found["installed"])
    # Nothing beyond what the core list requires, but pip and the venv's setuptools.
    stray = installed - set(found["reached"]) - {"pip", "setuptools"}
    assert not stray, f"the default install brought {sorted(stray)}"
    for optional in ("lifetimes", "mlxtend", "matplotlib", "polars", "pyarrow", "pyspark",
                     "jinja2", "splink", "duckdb"):
        assert optional not in installed

    out = subprocess.run([python, "-c", SMOKE], check=True, capture_output=True, text=True,
                         cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert out.stdout.split()[1] == "23570"


def test_oldest_constraints_are_the_declared_lower_bounds() -> None:
    """`make test-oldest` installs exactly the lower bound pyproject.toml declares."""
    from packaging.version import Version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for line in (ROOT / "constraints-oldest.txt").read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = version.strip()
    extras = project["optional-dependencies"]
    declared = [*project["dependencies"],
                *(r for extra in ("plot", "report", "identity", "mlxtend", "reference", "test")
                  for r in extras[extra])]
    bounds = {}
    for requirement in declared:
        found = re.search(r">=\s*([\w.]+)", requirement)
        if found:
            bounds.setdefault(_name(requirement), set()).add(found.group(1))
    for name in CORE:
        assert name in pins, f"{name} is not pinned in constraints-oldest.txt"
    checked = 0
    for name, versions in bounds.items():
        if name in pins and name not in {"pytest", "hypothesis", "nbclient", "nbformat",
                                         "ipykernel"}:
            assert {Version(v) for v in versions} == {Version(pins[name])}, (
                name, versions, pins[name])
            checked += 1
    assert checked >= len(CORE) + 8


def test_a_broken_optional_package_is_not_called_missing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmmodels.errors import optional_dependency, require_installed

    package = tmp_path / "crm_broken_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("import crm_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    require_installed("crm_broken_pkg", needed_for="the test")  # it is installed
    with pytest.raises(ImportError) as info:
        optional_dependency("crm_broken_pkg", needed_for="the test", extra="plot")
    assert info.value.name == "crm_no_such_dependency"
    assert "pip install" not in str(info.value)
