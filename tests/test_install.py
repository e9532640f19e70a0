"""What a plain ``pip install crmmodels`` brings, and what the extras add."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

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
