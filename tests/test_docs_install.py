"""The install page lists what pyproject.toml and the data set registry declare."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from crmmodels.datasets import DATASETS

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower()


def _table_rows(heading: str) -> list[list[str]]:
    """Return the cells of the first table after ``heading``."""
    block: list[str] = []
    for line in PAGE.split(heading, 1)[1].splitlines()[1:]:
        if line.startswith("|"):
            block.append(line)
        elif block:
            break
    assert block, f"no table after {heading!r}"
    return [[c.strip() for c in line.strip("|").split("|")] for line in block[2:]]


def test_core_dependencies_are_listed_with_their_lower_bounds() -> None:
    rows = {r[0].lower(): r[1] for r in _table_rows("## Core dependencies")}
    declared = {_name(r): r for r in PROJECT["dependencies"]}
    assert set(rows) == set(declared)
    for name, requirement in declared.items():
        bound = re.search(r">=\s*([\w.]+)", requirement)
        assert bound is not None, requirement
        assert rows[name] == f">= {bound.group(1)}", (name, rows[name], requirement)


@pytest.mark.parametrize("extra", ["plot", "report", "spark", "identity", "mlxtend",
                                   "reference"])
def test_each_user_extra_is_listed_with_its_packages(extra: str) -> None:
    rows = {r[0].strip("`"): r[1] for r in _table_rows("## Extras")}
    assert extra in rows, f"extra {extra!r} missing from install.md"
    listed = {_name(p.strip()) for p in rows[extra].split(",")}
    declared = {_name(r) for r in PROJECT["optional-dependencies"][extra]}
    assert listed == declared


def test_every_data_set_and_its_licence_is_listed() -> None:
    text = PAGE.replace("\n", " ")
    for name, info in DATASETS.items():
        loader = "load_" + name.removesuffix("_sample")
        assert f"`{loader}`" in text, f"{loader} missing from install.md"
        assert info.licence in text, f"licence of {name} differs from DATASETS"


def test_supported_versions_match_the_declared_bounds() -> None:
    assert PROJECT["requires-python"] == ">=3.11"
    assert "| Python | 3.11 and later |" in PAGE
    assert "| pandas | 2.2 and later, pandas 3.x included |" in PAGE
    assert "| numpy | 1.26 and later, numpy 2.x included |" in PAGE
    assert "| scikit-learn | 1.5 and later |" in PAGE
