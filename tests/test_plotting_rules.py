"""top_rules and plot_rule_network show exactly the best rules of AssociationRulesModel."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from matplotlib.patches import FancyArrowPatch

from crmmodels.association import AssociationRulesModel
from crmmodels.datasets import load_groceries
from crmmodels.errors import DataValidationError, InvalidParameterError
from crmmodels.plotting import plot_rule_network, top_rules

matplotlib.use("Agg")


pytestmark = pytest.mark.usefixtures("close_figures")


@pytest.fixture(scope="module")
def rules() -> pd.DataFrame:
    model = AssociationRulesModel(min_support=0.001, min_confidence=0.8,
                                  max_consequent_len=1)
    return model.fit(load_groceries()).rules_


def _text(ante: frozenset[str], cons: frozenset[str]) -> str:
    return f"{' + '.join(sorted(map(str, ante)))} -> {' + '.join(sorted(map(str, cons)))}"


def _best(rules: pd.DataFrame, n: int) -> pd.DataFrame:
    """Return the rows of ``rules`` shown by top_rules(rules, n), in its order."""
    texts = [_text(a, c) for a, c in rules[["antecedents", "consequents"]].itertuples(
        index=False)]
    assert len(set(texts)) == len(texts)
    position = {t: k for k, t in enumerate(texts)}
    return rules.iloc[[position[t] for t in top_rules(rules, n=n)["rule"]]]


def _expected_edges(rules: pd.DataFrame, n: int) -> dict[tuple[str, str], float]:
    """(antecedent item, consequent item) -> largest lift among the top n rules."""
    edges: dict[tuple[str, str], float] = {}
    for ante, cons, lift in _best(rules, n)[["antecedents", "consequents", "lift"]].itertuples(
            index=False):
        for a in ante:
            for c in cons:
                edges[(str(a), str(c))] = max(edges.get((str(a), str(c)), 0.0), float(lift))
    return edges


def _arrows(ax: matplotlib.axes.Axes) -> list[FancyArrowPatch]:
    return [p for p in ax.patches if isinstance(p, FancyArrowPatch)]


# ---------------------------------------------------------------------- top_rules
def test_top_rules_first_rule(rules: pd.DataFrame) -> None:
    table = top_rules(rules)
    assert list(table.columns) == ["rule", "support", "confidence", "lift"]
    # arules' published top rule by lift on Groceries (support 0.001, confidence 0.8).
    assert table["rule"].iloc[0] == "liquor + red/blush wine -> bottled beer"
    assert round(float(table["lift"].iloc[0]), 3) == 11.235


@pytest.mark.parametrize("n", [1, 5, 10, 25])
def test_top_rules_n_and_order(rules: pd.DataFrame, n: int) -> None:
    table = top_rules(rules, n=n)
    assert len(table) == n
    assert list(table.index) == list(range(n))
    key = list(zip(table["lift"], table["confidence"], strict=True))
    assert key == sorted(key, reverse=True)
    best = rules.sort_values(["lift", "confidence"], ascending=False).head(n)
    np.testing.assert_allclose(table["lift"], best["lift"])  # same values, ties aside
    np.testing.assert_allclose(table["confidence"], best["confidence"])
    np.testing.assert_allclose(table["support"], _best(rules, n)["support"])


def test_top_rules_text_matches_rules(rules: pd.DataFrame) -> None:
    table = top_rules(rules, n=20)
    texts = {_text(a, c) for a, c in rules[["antecedents", "consequents"]].itertuples(
        index=False)}
    assert set(table["rule"]) <= texts
    assert all(" -> " in t for t in table["rule"])


def test_top_rules_by_other_metric(rules: pd.DataFrame) -> None:
    by_conf = top_rules(rules, n=15, by="confidence")
    key = list(zip(by_conf["confidence"], by_conf["lift"], strict=True))
    assert key == sorted(key, reverse=True)
    assert float(by_conf["confidence"].iloc[0]) == pytest.approx(rules["confidence"].max())
    by_support = top_rules(rules, n=5, by="support")
    assert float(by_support["support"].iloc[0]) == pytest.approx(rules["support"].max())
    by_leverage = top_rules(rules, n=5, by="leverage")
    assert "leverage" in by_leverage.columns
    assert by_leverage["leverage"].is_monotonic_decreasing


def test_top_rules_n_larger_than_rules(rules: pd.DataFrame) -> None:
    assert len(top_rules(rules.head(4), n=100)) == 4


# ---------------------------------------------------------------------- network
@pytest.mark.parametrize("n", [1, 10, 30])
def test_network_nodes_and_edges(rules: pd.DataFrame, n: int) -> None:
    ax = plot_rule_network(rules, n=n)
    expected = _expected_edges(rules, n)
    items = {i for pair in expected for i in pair}
    labels = [t.get_text() for t in ax.texts]
    assert len(labels) == len(set(labels))
    assert set(labels) == items
    assert len(ax.collections[0].get_offsets()) == len(items)
    arrows = _arrows(ax)
    assert len(arrows) == len(expected)
    assert {tuple(a.get_label().split(" -> ")) for a in arrows} == set(expected)


def test_network_edge_width_increases_with_lift(rules: pd.DataFrame) -> None:
    ax = plot_rule_network(rules, n=30)
    expected = _expected_edges(rules, 30)
    pairs = [(expected[tuple(a.get_label().split(" -> "))], a.get_linewidth())  # type: ignore[index]
             for a in _arrows(ax)]
    lifts = np.array([p[0] for p in pairs])
    widths = np.array([p[1] for p in pairs])
    order = np.argsort(lifts, kind="mergesort")
    assert np.all(np.diff(widths[order]) >= -1e-12)
    assert widths[np.argmax(lifts)] > widths[np.argmin(lifts)]
    # linear in lift: equal lifts give equal widths, and the map is affine
    slope = np.polyfit(lifts, widths, 1)
    np.testing.assert_allclose(np.polyval(slope, lifts), widths, atol=1e-9)
    assert slope[0] > 0


def test_network_colour_by_confidence_and_colorbar(rules: pd.DataFrame) -> None:
    ax = plot_rule_network(rules, n=30)
    assert len(ax.figure.axes) == 2  # the plot and its colour bar
    assert ax.figure.axes[1].get_ylabel() == "confidence"
    colours = {tuple(np.round(a.get_edgecolor()[:3], 6)) for a in _arrows(ax)}
    assert len(colours) > 1


def test_network_node_sizes_follow_support(rules: pd.DataFrame) -> None:
    ax = plot_rule_network(rules, n=30)
    labels = [t.get_text() for t in ax.texts]
    sizes = dict(zip(labels, ax.collections[0].get_sizes(), strict=True))
    support = {str(next(iter(c))): float(s)
               for c, s in rules[["consequents", "consequent support"]].itertuples(
                   index=False)}
    known = [item for item in labels if item in support]
    assert len(known) >= 2
    ranked = sorted(known, key=lambda item: support[item])
    assert sizes[ranked[-1]] > sizes[ranked[0]]


def test_network_is_deterministic(rules: pd.DataFrame) -> None:
    first = plot_rule_network(rules, n=20)
    second = plot_rule_network(rules, n=20)
    assert [t.get_text() for t in first.texts] == [t.get_text() for t in second.texts]
    np.testing.assert_allclose(first.collections[0].get_offsets(),
                               second.collections[0].get_offsets())
    radii = np.hypot(*np.asarray(first.collections[0].get_offsets()).T)
    np.testing.assert_allclose(radii, 1.0)  # on the unit circle


def _overlapping_labels(ax: matplotlib.axes.Axes) -> list[tuple[str, str]]:
    """Pairs of item labels whose drawn bounding boxes (window extents) intersect."""
    canvas = ax.figure.canvas
    canvas.draw()  # measure what is drawn, after any layout engine ran
    renderer = canvas.get_renderer()  # type: ignore[attr-defined]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in ax.texts]
    return [(a, b) for i, (a, box_a) in enumerate(boxes) for b, box_b in boxes[i + 1:]
            if box_a.overlaps(box_b)]


def _leader_lines(ax: matplotlib.axes.Axes) -> list[np.ndarray]:
    lines = ax.collections[1]
    assert isinstance(lines, LineCollection)
    return lines.get_segments()


@pytest.mark.parametrize("n", [5, 10, 20, 30, 100])
def test_network_labels_do_not_overlap(rules: pd.DataFrame, n: int) -> None:
    ax = plot_rule_network(rules, n=n)
    assert len(ax.texts) > 2
    assert _overlapping_labels(ax) == []
    # ... and they stay inside the axes (clear of the title and the colour bar).
    inside = ax.bbox.padded(1.0)
    for text in ax.texts:
        box = text.get_window_extent()
        assert inside.x0 <= box.x0, text.get_text()
        assert box.x1 <= inside.x1, text.get_text()
        assert inside.y0 <= box.y0, text.get_text()
        assert box.y1 <= inside.y1, text.get_text()


@pytest.mark.parametrize(("figsize", "layout"), [((4.0, 3.0), None), ((12.0, 9.0), None),
                                                 ((6.4, 4.8), "constrained")])
def test_network_labels_do_not_overlap_on_any_figure(
        rules: pd.DataFrame, figsize: tuple[float, float], layout: str | None) -> None:
    fig = plt.figure(figsize=figsize, layout=layout)
    ax = plot_rule_network(rules, n=30, ax=fig.add_subplot())
    assert _overlapping_labels(ax) == []


def test_network_labels_start_outside_their_node(rules: pd.DataFrame) -> None:
    # Labels that need no room keep their place just outside the node, along the radius.
    ax = plot_rule_network(rules, n=1)
    centre = ax.transData.transform((0.0, 0.0))
    nodes = np.asarray(ax.collections[0].get_offsets())
    for text, node in zip(ax.texts, nodes, strict=True):
        box = text.get_window_extent()
        anchor = ax.transData.transform(node)
        assert not box.contains(*anchor)
        outward = np.asarray(anchor) - centre
        middle = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
        assert float(np.dot(middle - anchor, outward)) > 0
    assert len(_leader_lines(ax)) == 0  # no leader lines needed


def test_network_moved_labels_get_leader_lines(rules: pd.DataFrame) -> None:
    ax = plot_rule_network(rules, n=100)
    assert 0 < len(_leader_lines(ax)) < len(ax.texts)


def test_network_label_layout_is_deterministic(rules: pd.DataFrame) -> None:
    first = plot_rule_network(rules, n=30)
    second = plot_rule_network(rules, n=30)
    assert [t.xyann for t in first.texts] == [t.xyann for t in second.texts]  # type: ignore[attr-defined]
    assert first.get_xlim() == second.get_xlim()
    assert first.get_ylim() == second.get_ylim()


def test_network_uses_given_ax(rules: pd.DataFrame) -> None:
    _fig, ax = plt.subplots()
    before = set(plt.get_fignums())
    assert plot_rule_network(rules, n=5, ax=ax) is ax
    assert set(plt.get_fignums()) == before
    assert ax.texts


# ---------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("func", [top_rules, plot_rule_network])
@pytest.mark.parametrize("column", ["antecedents", "consequents", "support", "confidence",
                                    "lift"])
def test_missing_column(rules: pd.DataFrame, func: object, column: str) -> None:
    with pytest.raises(DataValidationError) as err:
        func(rules.drop(columns=column))  # type: ignore[operator]
    assert err.value.column == column
    assert err.value.rule == "required_column"


@pytest.mark.parametrize("func", [top_rules, plot_rule_network])
def test_missing_by_column(rules: pd.DataFrame, func: object) -> None:
    with pytest.raises(DataValidationError, match="leverage"):
        func(rules.drop(columns="leverage"), by="leverage")  # type: ignore[operator]


@pytest.mark.parametrize("func", [top_rules, plot_rule_network])
@pytest.mark.parametrize("n", [0, -1, 2.5, True, "3", None])
def test_bad_n(rules: pd.DataFrame, func: object, n: object) -> None:
    with pytest.raises(InvalidParameterError, match="n must be"):
        func(rules, n=n)  # type: ignore[operator]


@pytest.mark.parametrize("func", [top_rules, plot_rule_network])
@pytest.mark.parametrize("by", ["lifts", "rule", "antecedents", "", None, 1])
def test_unknown_by(rules: pd.DataFrame, func: object, by: object) -> None:
    with pytest.raises(InvalidParameterError, match="by must be"):
        func(rules, by=by)  # type: ignore[operator]


@pytest.mark.parametrize("func", [top_rules, plot_rule_network])
def test_bad_frames(rules: pd.DataFrame, func: object) -> None:
    with pytest.raises(DataValidationError):
        func([1, 2, 3])  # type: ignore[operator]
    with pytest.raises(DataValidationError):
        func(rules.head(0))  # type: ignore[operator]
    bad = rules.head(3).copy()
    bad["lift"] = ["a", "b", "c"]
    with pytest.raises(DataValidationError):
        func(bad)  # type: ignore[operator]
    bad = rules.head(3).copy()
    bad["antecedents"] = ["x", "y", "z"]
    with pytest.raises(DataValidationError):
        func(bad)  # type: ignore[operator]
