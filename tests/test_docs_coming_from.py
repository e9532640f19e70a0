"""docs/coming-from.md: the paired examples agree, and every name it cites exists.

For lifetimes, mlxtend and scikit-uplift the page shows one example written with the
library and with crmmodels ("The same example in both"); both are run here from the
page and their numbers compared. Each mapping table's library column is checked
against the installed library and its crmmodels column against crmmodels (public
names, their attributes and parameters, or column names the code writes).
pymc-marketing is not installed: only its crmmodels column is checked.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import keyword
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "coming-from.md").read_text(encoding="utf-8")

pytestmark = pytest.mark.reference

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`([^`]+)`")
_STRING = re.compile(r"\"[^\"]*\"|'[^']*'")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def section(title: str) -> str:
    """Return the text of the ``## title`` section of the page."""
    parts = re.split(r"^## ", PAGE, flags=re.MULTILINE)
    found = [p for p in parts if p.startswith(title + "\n")]
    assert found, f"no section {title!r} in docs/coming-from.md"
    return found[0]


def paired_blocks(title: str) -> tuple[str, str]:
    """Return the library's and crmmodels' code of the section's paired example."""
    example = section(title).split("### The same example in both", 1)[1]
    blocks = [m.group(2) for m in _FENCE.finditer(example) if m.group(1) == "python"]
    assert len(blocks) == 2, f"{title}: expected two python blocks, got {len(blocks)}"
    return blocks[0], blocks[1]


PACKAGES = {"lifetimes": "lifetimes", "mlxtend": "mlxtend", "scikit-uplift": "sklift"}


def _require(title: str) -> None:
    """Skip when the library of ``title`` is not installed (the reference extras)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pytest.importorskip(PACKAGES[title])


def run_pair(title: str) -> dict[str, object]:
    _require(title)
    library, ours = paired_blocks(title)
    namespace: dict[str, object] = {"__name__": "coming_from"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the reference libraries' own warnings
        exec(compile(library, f"coming-from.md {title}", "exec"), namespace)
    exec(compile(ours, "coming-from.md crmmodels", "exec"), namespace)
    return namespace


def assert_close(ours: object, theirs: object, rtol: float, what: str) -> None:
    a = np.asarray(ours, dtype=float)
    b = np.asarray(theirs, dtype=float)
    assert a.shape == b.shape, what
    np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12, err_msg=what)


# ------------------------------------------------------------------ paired examples
def test_lifetimes_and_crmmodels_agree() -> None:
    ns = run_pair("lifetimes")
    bgf, bgnbd = ns["bgf"], ns["bgnbd"]
    assert_close(bgnbd.params_[["r", "alpha", "a", "b"]],  # type: ignore[attr-defined]
                 bgf.params_[["r", "alpha", "a", "b"]], 1e-3, "BG/NBD parameters")  # type: ignore[attr-defined]
    ggf, gamma_gamma = ns["ggf"], ns["gamma_gamma"]
    assert_close(gamma_gamma.params_[["p", "q", "v"]],  # type: ignore[attr-defined]
                 ggf.params_[["p", "q", "v"]], 1e-3, "Gamma-Gamma parameters")  # type: ignore[attr-defined]
    scores = ns["scores"]
    assert isinstance(scores, pd.DataFrame)
    assert_close(scores["p_alive"], ns["p_alive"], 1e-4, "P(alive)")
    assert_close(scores["expected_purchases"], ns["purchases"], 1e-4, "expected purchases")
    assert_close(ns["expected_spend"], ns["spend"], 1e-4, "expected spend")
    assert_close(ns["values"], ns["clv"], 1e-4, "CLV")


def test_mlxtend_and_crmmodels_agree() -> None:
    ns = run_pair("mlxtend")
    frequent, rules, model = ns["frequent"], ns["rules"], ns["model"]
    assert isinstance(frequent, pd.DataFrame)
    assert isinstance(rules, pd.DataFrame)
    theirs = dict(zip(frequent["itemsets"], frequent["support"], strict=True))
    ours = dict(zip(model.itemsets_["itemsets"], model.itemsets_["support"],  # type: ignore[attr-defined]
                    strict=True))
    assert set(ours) == set(theirs)
    assert_close([ours[k] for k in theirs], list(theirs.values()), 1e-12, "itemset support")
    key = ["antecedents", "consequents"]
    ours_rules = model.rules_  # type: ignore[attr-defined]
    assert list(ours_rules.columns) == list(rules.columns)
    merged = ours_rules.merge(rules, on=key, how="outer", suffixes=("", "_mlxtend"),
                              indicator=True)
    assert (merged["_merge"] == "both").all(), "the two rule sets differ"
    for column in rules.columns.drop(key):
        a = merged[column].to_numpy(dtype=float)
        b = merged[f"{column}_mlxtend"].to_numpy(dtype=float)
        np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=column)


def test_scikit_uplift_and_crmmodels_agree() -> None:
    ns = run_pair("scikit-uplift")
    assert_close(ns["crmmodels_scores"], ns["sklift_scores"], 1e-9, "uplift metrics")


# ------------------------------------------------------------------------ the names
def table_columns(title: str) -> dict[str, list[str]]:
    """Return the first table of a section as {header: cells}."""
    lines = [line for line in section(title).splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    table_end = next((i for i, r in enumerate(rows) if len(r) != len(header)), len(rows))
    return {h: [r[i] for r in rows[:table_end]] for i, h in enumerate(header)}


def identifiers(cells: list[str]) -> Iterator[str]:
    """Yield the names in the code spans of ``cells`` (string literals left out)."""
    skip = set(keyword.kwlist) | set(dir(builtins))
    for cell in cells:
        for span in _CODE.findall(cell):
            for name in _NAME.findall(_STRING.sub("", span)):
                if name not in skip:
                    yield name


def known_names(package: str, modules: list[str]) -> set[str]:
    """Public names of ``modules``, their members' attributes and parameters."""
    names: set[str] = set()

    def add_callable(obj: object) -> None:
        try:
            names.update(inspect.signature(obj).parameters)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            pass

    for module_name in modules:
        module: ModuleType = importlib.import_module(module_name)
        for name in dir(module):
            if name.startswith("_"):
                continue
            names.add(name)
            obj = getattr(module, name)
            if inspect.isclass(obj):
                add_callable(obj)
                for attribute, member in inspect.getmembers(obj):
                    if not attribute.startswith("_"):
                        names.add(attribute)
                        if callable(member):
                            add_callable(member)
            elif callable(obj):
                add_callable(obj)
    source = importlib.import_module(package).__file__
    assert source is not None
    names.add(package)
    names.update(p.name for p in Path(source).parent.iterdir() if p.is_dir())  # subpackages
    for path in Path(source).parent.rglob("*.py"):
        text = path.read_text(encoding="utf-8", errors="replace")
        for string in re.findall(r"[\"']([A-Za-z_][\w ]*)[\"']", text):  # column names
            names.update(string.split())
        names.update(re.findall(r"self\.([A-Za-z]\w*_)\b", text))  # learned attributes
    return names


def _import_quietly(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        importlib.import_module(name)


CRMMODELS = ["crmmodels", "crmmodels.cltv", "crmmodels.data", "crmmodels.segments",
             "crmmodels.association", "crmmodels.targeting"]
LIBRARIES = {
    "lifetimes": ("lifetimes", ["lifetimes", "lifetimes.utils", "lifetimes.plotting",
                                "lifetimes.fitters"]),
    "mlxtend": ("mlxtend", ["mlxtend.frequent_patterns", "mlxtend.preprocessing"]),
    "scikit-uplift": ("sklift", ["sklift.metrics", "sklift.models"]),
}


@pytest.mark.parametrize("title", ["lifetimes", "pymc-marketing", "mlxtend", "scikit-uplift"])
def test_every_crmmodels_name_exists(title: str) -> None:
    known = known_names("crmmodels", CRMMODELS)
    cited = set(identifiers(table_columns(title)["crmmodels"]))
    assert cited, title
    missing = sorted(cited - known)
    assert not missing, f"{title}: crmmodels names not found: {missing}"


@pytest.mark.parametrize("title", sorted(LIBRARIES))
def test_every_library_name_exists(title: str) -> None:
    _require(title)
    package, modules = LIBRARIES[title]
    for module in modules:
        _import_quietly(module)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        known = known_names(package, modules)
    # sklift.viz does not import with recent scikit-learn: read its names from source.
    if package == "sklift":
        viz = Path(importlib.import_module("sklift").__file__ or "").parent / "viz"
        for path in viz.rglob("*.py"):
            known.update(re.findall(r"^def (\w+)", path.read_text("utf-8"), re.MULTILINE))
    if package == "lifetimes":
        known.update(_lifetimes_split_columns())
    cited = set(identifiers(table_columns(title)[title]))
    assert cited, title
    missing = sorted(cited - known)
    assert not missing, f"{title}: names not found in the installed package: {missing}"


def _lifetimes_split_columns() -> list[str]:
    """Return the columns of lifetimes' calibration / holdout split (built with suffixes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes.utils import calibration_and_holdout_data

        tx = pd.DataFrame({"id": [1, 1, 2], "amount": [1.0, 2.0, 3.0],
                           "date": pd.to_datetime(["2020-01-01", "2020-04-01",
                                                   "2020-01-05"])})
        split = calibration_and_holdout_data(tx, "id", "date", "2020-03-01", "2020-06-01",
                                             monetary_value_col="amount")
    return list(split.columns)
