"""Every public ``plot_*`` function of a crmmodels subpackage is exercised by a test.

The public plotting functions are the names starting with ``plot_`` in the ``__all__``
of every subpackage of :mod:`crmmodels`. A function counts as exercised when a test
module uses it as code: calls it, or passes it around (``plot_x(...)``,
``module.plot_x(...)``, ``[plot_x, plot_y]`` in a parametrisation), found in the syntax
tree, so names in strings, comments and imports alone do not count. The generic
contract tests (``tests/contract/``) call every public function with wrong types only,
which draws nothing, so they do not count either. A new plotting function without a
test of what it draws fails :func:`test_every_plot_function_is_exercised`.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from functools import cache
from pathlib import Path

import pytest

import crmmodels

TESTS = Path(__file__).resolve().parent
#: Test modules that do not count as exercising a plotting function, and why.
NOT_COUNTED = {
    TESTS / "contract": "calls every public function with wrong types only",
    Path(__file__).resolve(): "this module: lists the functions, exercises none",
}


@cache
def plot_functions() -> dict[str, list[str]]:
    """Map each public ``plot_*`` name to the subpackages exporting it."""
    found: dict[str, list[str]] = {}
    for info in pkgutil.iter_modules(crmmodels.__path__):
        if not info.ispkg:
            continue
        name = f"crmmodels.{info.name}"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:  # an optional dependency is missing
            if err.name is not None and err.name.split(".")[0] == "crmmodels":
                raise
            continue
        for public in getattr(module, "__all__", ()):
            if public.startswith("plot_") and callable(getattr(module, public)):
                found.setdefault(public, []).append(name)
    return found


def _counted(path: Path) -> bool:
    return not any(path == skip or skip in path.parents for skip in NOT_COUNTED)


def names_in_code(source: str, filename: str = "<test>") -> set[str]:
    """Return the names ``source`` uses as code: variables and attributes."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
    return names


@cache
def used_names() -> dict[str, set[str]]:
    """Map each name used as code in a counted test module to those modules."""
    used: dict[str, set[str]] = {}
    for path in sorted(TESTS.rglob("*.py")):
        if _counted(path):
            relative = str(path.relative_to(TESTS.parent))
            for name in names_in_code(path.read_text(encoding="utf-8"), relative):
                used.setdefault(name, set()).add(relative)
    return used


def test_the_subpackages_export_plot_functions() -> None:
    functions = plot_functions()
    # A sample of the families: the enumeration finds them where they live.
    assert {"plot_rule_network", "plot_period_transactions", "plot_gains",
            "plot_rfm_heatmap", "plot_qini_curve", "plot_portfolio"} <= set(functions)
    assert functions["plot_period_transactions"] == ["crmmodels.cltv"]


def test_every_plot_function_is_exercised() -> None:
    used = used_names()
    missing = {name: packages for name, packages in sorted(plot_functions().items())
               if name not in used}
    assert missing == {}, (
        "public plotting functions that no test draws with (add a test of what each "
        f"one draws under tests/): {missing}")


@pytest.mark.parametrize("source", [
    "from crmmodels.cltv import plot_x\n",
    "# plot_x(model)\n",
    "NAMES = ['plot_x']\n",
    'CALLS = {"crmmodels.cltv.plot_x": None}\n',
])
def test_mentions_that_do_not_count(source: str) -> None:
    assert "plot_x" not in names_in_code(source)


@pytest.mark.parametrize("source", [
    "ax = plot_x(model)\n",
    "import crmmodels.cltv as c\nc.plot_x(model)\n",
    "FUNCS = [plot_y, plot_x]\n",
])
def test_uses_that_count(source: str) -> None:
    assert "plot_x" in names_in_code(source)


def test_contract_tests_do_not_count() -> None:
    assert not _counted(TESTS / "contract" / "test_wrong_types.py")
    assert _counted(TESTS / "test_plotting.py")
    assert _counted(TESTS / "targeting" / "test_metrics.py")
