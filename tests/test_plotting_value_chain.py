"""The value-chain figures draw exactly the numbers of the scores and the lifecycle table.

The figures are also drawn by ``ValueChainModel.report(figures=True)`` (see
tests/value_chain/); here each function is called directly, on small frames whose
figures are known, with and without ``ax``, and with bad input.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.lines import Line2D

from crmmodels.errors import DataValidationError
from crmmodels.value_chain import plot_concentration, plot_lifecycle, plot_portfolio

matplotlib.use("Agg")


pytestmark = pytest.mark.usefixtures("close_figures")


@pytest.fixture
def scores() -> pd.DataFrame:
    return pd.DataFrame(
        {"portfolio_quadrant": pd.Categorical(
            ["strategic", "maintain", "strategic", None, "develop", "maintain"]),
         "current_value": [10.0, 1.0, 8.0, 0.0, -2.0, 3.0],
         "future_value": [20.0, 2.0, 15.0, 0.0, 9.0, -1.0]},
        index=pd.Index(list("abcdef"), name="customer_id"))


@pytest.fixture
def lifecycle() -> pd.DataFrame:
    return pd.DataFrame({"customers": [3, 5, 2], "future_value": [1234.4, 10.0, 0.6]},
                        index=pd.Index(["new", "stable", "lapsing"], name="stage"))


def _xdata(line: Line2D) -> np.ndarray:
    return np.asarray(line.get_xdata(), dtype=float)


def _ydata(line: Line2D) -> np.ndarray:
    return np.asarray(line.get_ydata(), dtype=float)


# ---------------------------------------------------------------------- portfolio
def test_portfolio_draws_each_customer_in_its_quadrant(scores: pd.DataFrame) -> None:
    ax = plot_portfolio(scores, current_cut=5.0, future_cut=4.0)
    assert isinstance(ax, Axes)
    drawn = {}
    for collection in ax.collections:
        assert isinstance(collection, PathCollection)
        name, _, count = str(collection.get_label()).partition(" (")
        points = np.asarray(collection.get_offsets())
        assert count == f"{len(points):,})"
        drawn[name] = points
    assert set(drawn) == {"strategic", "maintain", "develop"}  # no quadrant: not drawn
    for name, points in drawn.items():
        part = scores[scores["portfolio_quadrant"] == name]
        np.testing.assert_array_equal(points, part[["current_value", "future_value"]])
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert sorted((tuple(_xdata(line)), tuple(_ydata(line))) for line in dashed) == [
        ((0.0, 1.0), (4.0, 4.0)), ((5.0, 5.0), (0.0, 1.0))]


def test_portfolio_without_cuts(scores: pd.DataFrame) -> None:
    ax = plot_portfolio(scores)
    assert ax.get_lines() == []
    assert sum(len(np.asarray(c.get_offsets())) for c in ax.collections) == 5


# ---------------------------------------------------------------------- concentration
def _lorenz(values: pd.Series) -> tuple[list[float], list[float]]:
    """Share of customers, most valuable first, against their share of the value."""
    v = sorted((max(float(x), 0.0) for x in values), reverse=True)
    total = sum(v)
    shares = [0.0]
    for x in v:
        shares.append(shares[-1] + x / total)
    return [k / len(v) for k in range(len(v) + 1)], shares


def test_concentration_curves_are_the_lorenz_curves(scores: pd.DataFrame) -> None:
    ax = plot_concentration(scores)
    lines = {str(line.get_label()): line for line in ax.get_lines()}
    for column in ("current_value", "future_value"):
        line = lines[column.replace("_", " ")]
        x, y = _lorenz(scores[column])
        np.testing.assert_allclose(_xdata(line), np.array(x))
        np.testing.assert_allclose(_ydata(line), np.array(y))
    assert _ydata(lines["equal shares"]).tolist() == [0, 1]
    assert _xdata(lines["top 20% of customers"]).tolist() == [0.2, 0.2]
    # Current values 10, 8, 3, 1 and 0 twice (-2 counts as 0): 22 in all.
    np.testing.assert_allclose(_ydata(lines["current value"])[[1, 2, 3, 4]],
                               [10 / 22, 18 / 22, 21 / 22, 1.0])


# ---------------------------------------------------------------------- lifecycle
def test_lifecycle_bars_are_the_customers_labelled_with_value(
        lifecycle: pd.DataFrame) -> None:
    ax = plot_lifecycle(lifecycle)
    heights = [bar.get_height() for bar in ax.patches]  # type: ignore[attr-defined]
    assert heights == [3, 5, 2]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["new", "stable", "lapsing"]
    assert [t.get_text() for t in ax.texts] == ["1,234", "10", "1"]
    for text, height in zip(ax.texts, heights, strict=True):
        assert text.xy[1] == height  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- axes, bad input
def test_every_figure_draws_on_the_given_axes(scores: pd.DataFrame,
                                              lifecycle: pd.DataFrame) -> None:
    fig, axes = plt.subplots(1, 3)
    drawn = [plot_portfolio(scores, ax=axes[0]), plot_concentration(scores, ax=axes[1]),
             plot_lifecycle(lifecycle, ax=axes[2])]
    assert plt.get_fignums() == [fig.number]
    assert drawn == list(axes)


@pytest.mark.parametrize("func", [plot_portfolio, plot_concentration])
def test_scores_must_be_the_score_frame(scores: pd.DataFrame, func: object) -> None:
    with pytest.raises(TypeError, match="DataFrame"):
        func(scores.to_numpy())  # type: ignore[operator]
    with pytest.raises(DataValidationError, match="future_value"):
        func(scores.drop(columns="future_value"))  # type: ignore[operator]


def test_lifecycle_must_be_the_report_table(lifecycle: pd.DataFrame) -> None:
    with pytest.raises(TypeError, match="DataFrame"):
        plot_lifecycle(lifecycle.to_dict())  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="customers"):
        plot_lifecycle(lifecycle.drop(columns="customers"))
