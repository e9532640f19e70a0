"""The package's structure: one-way layers, public surfaces, no cycles, working old paths.

Every ``import`` in ``src/crmmodels`` (module level, inside functions and under
``TYPE_CHECKING``) is read from the syntax tree, so the rules hold for lazy imports too.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

import crmmodels

SRC = Path(crmmodels.__file__).resolve().parent

# Layers, lowest first: a part imports lower layers, and other parts of its own layer,
# only through their surface (the subpackage's __init__); parts of one layer must not
# form a cycle.
LAYERS: dict[str, int] = {
    "errors": 0,
    "data": 1,
    "core": 2,
    "datasets": 2,
    "cltv": 3,
    "segments": 3,
    "association": 3,
    "propensity": 3,
    "identity": 3,
    "targeting": 3,
    "idic": 4,
    "value_chain": 4,
    "model_selection": 5,
    "testing": 5,
    "spark": 5,
    "report": 5,
    "cli": 6,
    "__main__": 7,  # python -m crmmodels: calls the command line
}
# Thin re-export modules for the old flat import paths: above everything.
SHIMS = {"base", "baseline", "churn", "evaluation", "features", "fraud", "plotting",
         "registry", "rfm", "schemas"}

# Old import path -> names that must still import from it.
OLD_PATHS: dict[str, list[str]] = {
    "crmmodels": ["CRMData", "CRMModel", "Model", "NaiveRateModel", "ReportEntry",
                  "ValidationReport", "calibration_holdout", "customer_summary", "get_model",
                  "list_models"],
    "crmmodels.rfm": ["RFMModel", "STANDARD_SEGMENTS", "breakeven_response_rate",
                      "responses_from_interactions", "rfm_change", "wilson_interval"],
    "crmmodels.churn": ["ChurnModel", "default_estimator", "identifier_columns"],
    "crmmodels.fraud": ["FraudModel"],
    "crmmodels.features": ["SUMMARY_COLUMNS", "as_summary", "calibration_holdout",
                           "churn_features", "churn_labels", "customer_summary",
                           "fraud_features", "validate_summary"],
    "crmmodels.evaluation": ["HoldoutResult", "backtest", "calibration_table",
                             "card_precision_at_k", "classification_metrics", "cost_curve",
                             "fraud_time_split", "gains_table", "holdout_comparison",
                             "precision_at_k", "purchase_tracking"],
    "crmmodels.plotting": ["plot_calibration", "plot_card_precision", "plot_cost_curve",
                           "plot_frequency_recency_matrix", "plot_gains",
                           "plot_holdout_by_frequency", "plot_lift", "plot_pareto_curve",
                           "plot_probability_alive_matrix", "plot_rfm_heatmap",
                           "plot_rule_network", "plot_segment_summary", "plot_survival",
                           "plot_tracking", "plot_transition_matrix", "top_rules"],
    "crmmodels.segments": ["ABCModel", "LifecycleModel", "STAGES", "SegmentationModel", "gini"],
    "crmmodels.base": ["CRMModel", "Model", "ParamRule"],
    "crmmodels.baseline": ["NaiveRateModel"],
    "crmmodels.schemas": ["SCHEMAS", "Channel", "Customer", "FieldKind", "Interaction",
                          "InteractionKind", "Transaction", "field_kinds", "required_fields"],
    "crmmodels.registry": ["ENTRY_POINT_GROUP", "get_model", "list_models", "register",
                           "unregister"],
    "crmmodels.testing": ["CHECKS", "check_model"],
    "crmmodels.data": ["CRMData", "ValidationReport"],
    "crmmodels.association": ["AssociationRulesModel", "attribute_baskets", "encode_baskets",
                              "rule_metrics"],
    "crmmodels.cltv": ["BetaGeoBetaBinomModel", "BetaGeoModel", "CLVModel", "GammaGammaModel",
                       "ModifiedBetaGeoModel", "ParetoNBDModel", "ShiftedBetaGeoModel",
                       "TransactionModel", "period_discount_rate",
                       "retention_frame_from_survivors", "validate_discrete_summary"],
    "crmmodels.cltv.beta_geo": ["BetaGeoModel"],
    "crmmodels.cltv.pareto_nbd": ["ParetoNBDModel"],
    "crmmodels.cltv.modified_beta_geo": ["ModifiedBetaGeoModel"],
    "crmmodels.cltv.beta_geo_beta_binom": ["BetaGeoBetaBinomModel"],
    "crmmodels.cltv.gamma_gamma": ["GammaGammaModel"],
    "crmmodels.cltv.shifted_beta_geo": ["ShiftedBetaGeoModel"],
    "crmmodels.cltv.clv": ["CLVModel"],
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> list[tuple[str, str, list[str], int]]:
    """Return (importing module, imported module, names, line) for every import."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        module = _module_name(path)
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "crmmodels":
                        found.append((module, alias.name, [], node.lineno))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".")
                    base = base[: len(base) - node.level + (1 if is_pkg else 0)]
                    target = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    target = node.module or ""
                if target.split(".")[0] == "crmmodels":
                    found.append((module, target, [a.name for a in node.names], node.lineno))
    return found


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "<root>"


IMPORTS = _imports()


def test_every_part_has_a_layer() -> None:
    parts = {_part(_module_name(p)) for p in SRC.rglob("*.py")}
    unknown = parts - set(LAYERS) - SHIMS - {"<root>"}
    assert not unknown, f"modules outside the layer table: {sorted(unknown)}"


def _layer_problems(imports: list[tuple[str, str, list[str], int]]) -> list[str]:
    problems = []
    for module, target, names, line in imports:
        src, dst = _part(module), _part(target)
        where = f"{module}:{line} imports {target} {names}"
        if src == dst:
            continue
        if src in SHIMS or src == "<root>":
            # Re-exports: may import any public module, never a private name.
            if any(seg.startswith("_") for seg in target.split(".")[1:]) or any(
                    n.startswith("_") for n in names):
                problems.append(f"{where}: a re-export reaches a private name")
            continue
        if (dst == "<root>" and src != "cli") or dst in SHIMS:
            problems.append(f"{where}: imports the top package or an old path (upward)")
            continue
        if dst == "<root>":
            continue  # the command line sits above the package's top-level surface
        low, high = LAYERS[dst], LAYERS[src]
        if low > high:
            problems.append(f"{where}: {src} (layer {high}) may not depend on {dst} "
                            f"(layer {low})")
        if target != f"crmmodels.{dst}" and dst != "errors":
            problems.append(f"{where}: use the surface crmmodels.{dst}, not a module inside it")
        private = [n for n in names if n.startswith("_")]
        if private:
            problems.append(f"{where}: private names {private} of another subpackage")
    return problems


def test_dependencies_run_one_way_through_public_surfaces() -> None:
    problems = _layer_problems(IMPORTS)
    assert not problems, "\n".join(problems)


def test_the_layer_check_catches_each_kind_of_violation() -> None:
    bad = [("crmmodels.data.summary", "crmmodels.propensity._tabular", ["_screen"], 1),
           ("crmmodels.cltv.clv", "crmmodels.features", ["as_summary"], 2),
           ("crmmodels.rfm", "crmmodels.segments._x", ["RFMModel"], 3)]
    problems = _layer_problems(bad)
    assert any("may not depend on propensity" in p for p in problems)
    assert any("use the surface crmmodels.propensity" in p for p in problems)
    assert any("private names ['_screen']" in p for p in problems)
    assert any("an old path (upward)" in p for p in problems)
    assert any("re-export reaches a private name" in p for p in problems)


def test_subpackages_do_not_depend_on_each_other_in_a_cycle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, target, _, _ in IMPORTS:
        src, dst = _part(module), _part(target)
        if src != dst and src in LAYERS and dst in LAYERS:
            graph[src].add(dst)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in sorted(graph.get(start, ())):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cyclic = sorted(p for p in list(graph) if reaches(p, p, {p}))
    assert not cyclic, f"subpackages in a dependency cycle: {cyclic}"


def test_imported_surface_names_are_in_all() -> None:
    problems = []
    for module, target, names, line in IMPORTS:
        if _part(module) == _part(target) or _part(module) in SHIMS or not names:
            continue
        if target == "crmmodels" or "." not in target.removeprefix("crmmodels."):
            surface = importlib.import_module(target)
            exported = set(getattr(surface, "__all__", ()))
            missing = [n for n in names if n not in exported and n != "*"]
            if missing:
                problems.append(f"{module}:{line}: {missing} not in {target}.__all__")
    assert not problems, "\n".join(problems)


def test_no_import_cycles_between_modules() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    modules = {_module_name(p) for p in SRC.rglob("*.py")}
    for module, target, names, _ in IMPORTS:
        # "from pkg import mod" names a module; otherwise the target itself.
        for name in names or [""]:
            candidate = f"{target}.{name}" if name else target
            dep = candidate if candidate in modules else target
            if dep in modules and dep != module:
                graph[module].add(dep)
    # Packages import their own modules in __init__ (a surface), so a module importing
    # its package's surface is the one arrow allowed back.
    def arrows(m: str) -> set[str]:
        return {d for d in graph[m] if not m.startswith(d + ".")}

    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(arrows(m)):
            if state.get(d) == 1:
                cycles.append([*stack[stack.index(d):], d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(modules):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("path", sorted(OLD_PATHS))
def test_old_import_paths_keep_working(path: str) -> None:
    module = importlib.import_module(path)
    for name in OLD_PATHS[path]:
        assert hasattr(module, name), f"{path}.{name} no longer imports"


def test_old_paths_give_the_same_objects() -> None:
    from crmmodels import (
        churn,
        cltv,
        data,
        evaluation,
        features,
        plotting,
        propensity,
        rfm,
        segments,
    )

    assert rfm.RFMModel is segments.RFMModel
    assert churn.ChurnModel is propensity.ChurnModel
    assert features.customer_summary is data.customer_summary
    assert evaluation.holdout_comparison is cltv.holdout_comparison
    assert plotting.plot_gains is propensity.plot_gains


def test_entry_point_target_imports() -> None:
    text = (SRC.parents[1] / "pyproject.toml").read_text()
    assert 'naive_rate = "crmmodels.cltv:NaiveRateModel"' in text
    from crmmodels.cltv import NaiveRateModel

    assert crmmodels.get_model("naive_rate") is NaiveRateModel


def test_import_crmmodels_does_not_import_matplotlib() -> None:
    code = ("import sys, crmmodels, crmmodels.plotting, crmmodels.cltv, crmmodels.segments, "
            "crmmodels.propensity, crmmodels.association; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr[-1000:]
