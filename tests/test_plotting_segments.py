"""The segment figures draw exactly the numbers of the RFM, ABC and lifecycle models."""

from __future__ import annotations

from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from crmmodels import CRMData
from crmmodels.datasets import load_cdnow_sample
from crmmodels.errors import DataValidationError, InvalidParameterError
from crmmodels.plotting import (
    plot_pareto_curve,
    plot_rfm_heatmap,
    plot_segment_summary,
    plot_transition_matrix,
)
from crmmodels.rfm import RFMModel
from crmmodels.segments import ABCModel, LifecycleModel

matplotlib.use("Agg")


pytestmark = pytest.mark.usefixtures("close_figures")


@pytest.fixture(scope="module")
def data() -> CRMData:
    return load_cdnow_sample()


@pytest.fixture(scope="module")
def rfm_scores(data: CRMData) -> pd.DataFrame:
    return RFMModel().fit(data).score(data)


@pytest.fixture(scope="module")
def abc_scores(data: CRMData) -> pd.DataFrame:
    return ABCModel().fit(data).score(data)


@pytest.fixture(scope="module")
def transitions(data: CRMData) -> pd.DataFrame:
    return LifecycleModel().fit(data).transitions(data, "1997-06-30", "1997-12-31")


def _image_data(ax: Axes) -> np.ma.MaskedArray[Any, Any]:
    assert len(ax.images) == 1
    data = ax.images[0].get_array()
    assert data is not None
    return np.ma.asarray(data)


def _line(ax: Axes, label: str) -> Any:
    lines = [line for line in ax.get_lines() if line.get_label() == label]
    assert len(lines) == 1, [line.get_label() for line in ax.get_lines()]
    return lines[0]


def _pivot(scores: pd.DataFrame, how: str) -> pd.DataFrame:
    grouped = scores.groupby(["r_score", "f_score"])
    table = grouped.size() if how == "count" else grouped["monetary"].mean()
    levels_r = range(1, int(scores["r_score"].max()) + 1)
    levels_f = range(1, int(scores["f_score"].max()) + 1)
    fill = 0 if how == "count" else np.nan
    return table.unstack().reindex(index=levels_r, columns=levels_f).fillna(fill)


# ---------------------------------------------------------------------- RFM heat map
@pytest.mark.parametrize("value", ["monetary", "count"])
def test_rfm_heatmap_equals_pivot(rfm_scores: pd.DataFrame, value: str) -> None:
    ax = plot_rfm_heatmap(rfm_scores, value=value)
    data = _image_data(ax)
    expected = _pivot(rfm_scores, value).to_numpy(dtype=float)
    assert data.shape == expected.shape == (5, 5)
    np.testing.assert_array_equal(np.ma.getmaskarray(data), np.isnan(expected))
    np.testing.assert_allclose(data.filled(np.nan), expected, rtol=1e-12)
    # One annotation per drawn cell, rows labelled by r_score and columns by f_score.
    assert len(ax.texts) == int((~np.ma.getmaskarray(data)).sum())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "2", "3", "4", "5"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3", "4", "5"]


def test_rfm_heatmap_count_annotations_and_total(rfm_scores: pd.DataFrame) -> None:
    ax = plot_rfm_heatmap(rfm_scores, value="count")
    assert int(_image_data(ax).sum()) == len(rfm_scores)
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
             for t in ax.texts}
    expected = _pivot(rfm_scores, "count")
    assert texts[(4, 4)] == str(int(expected.to_numpy()[4, 4]))


def test_rfm_heatmap_other_numeric_column(rfm_scores: pd.DataFrame) -> None:
    data = _image_data(plot_rfm_heatmap(rfm_scores, value="recency"))
    expected = rfm_scores.groupby(["r_score", "f_score"])["recency"].mean()
    np.testing.assert_allclose(data[4, 4], expected.loc[(5, 5)])


def test_rfm_heatmap_respects_ax(rfm_scores: pd.DataFrame) -> None:
    _, ax = plt.subplots()
    assert plot_rfm_heatmap(rfm_scores, ax=ax) is ax
    assert len(ax.images) == 1


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"value": "median"}, DataValidationError),
        ({"value": 3}, InvalidParameterError),
        ({"value": ""}, InvalidParameterError),
        ({"value": "segment"}, DataValidationError),  # not numeric
    ],
)
def test_rfm_heatmap_rejects_bad_value(rfm_scores: pd.DataFrame, kwargs: dict[str, Any],
                                       error: type[Exception]) -> None:
    before = plt.get_fignums()
    with pytest.raises(error):
        plot_rfm_heatmap(rfm_scores, **kwargs)
    assert plt.get_fignums() == before


@pytest.mark.parametrize("column", ["r_score", "f_score", "monetary"])
def test_rfm_heatmap_rejects_missing_columns(rfm_scores: pd.DataFrame, column: str) -> None:
    with pytest.raises(DataValidationError) as info:
        plot_rfm_heatmap(rfm_scores.drop(columns=column))
    assert info.value.rule == "required_column"
    assert info.value.column == column


def test_rfm_heatmap_rejects_bad_frames(rfm_scores: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError):
        plot_rfm_heatmap(rfm_scores.iloc[:0])
    with pytest.raises(DataValidationError):
        plot_rfm_heatmap(rfm_scores.to_numpy())  # type: ignore[arg-type]
    bad = rfm_scores.assign(r_score=rfm_scores["r_score"] - 1)  # a score of 0
    with pytest.raises(DataValidationError):
        plot_rfm_heatmap(bad)


# ---------------------------------------------------------------------- segment summary
def test_segment_summary_bars_equal_shares(rfm_scores: pd.DataFrame) -> None:
    ax = plot_segment_summary(rfm_scores)
    counts = rfm_scores["segment"].value_counts()
    revenue = rfm_scores.groupby("segment")["monetary"].sum()
    customer_share = counts / len(rfm_scores)
    revenue_share = revenue / rfm_scores["monetary"].sum()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(labels) == sorted(counts.index)
    # Sorted by revenue share, largest first (at the top).
    np.testing.assert_allclose([revenue_share[s] for s in labels],
                               revenue_share.sort_values(ascending=False).to_numpy())
    customers, revenues = ax.containers
    assert customers.get_label() == "customers"
    assert revenues.get_label() == "revenue"
    np.testing.assert_allclose([bar.get_width() for bar in customers],
                               [customer_share[s] for s in labels], rtol=1e-12)
    np.testing.assert_allclose([bar.get_width() for bar in revenues],
                               [revenue_share[s] for s in labels], rtol=1e-12)
    assert sum(bar.get_width() for bar in revenues) == pytest.approx(1.0)
    # The y axis is inverted, so the first segment is drawn at the top.
    bottom, top = ax.get_ylim()
    assert bottom > top


def test_segment_summary_other_columns_and_ax(abc_scores: pd.DataFrame) -> None:
    _, ax = plt.subplots()
    assert plot_segment_summary(abc_scores, segment_column="value_tier",
                                value_column="value", ax=ax) is ax
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["A", "B", "C"]
    share = abc_scores.groupby("value_tier")["value"].sum() / abc_scores["value"].sum()
    np.testing.assert_allclose([bar.get_width() for bar in ax.containers[1]],
                               share.loc[labels].to_numpy())
    assert ax.containers[1].get_label() == "value"  # the column shown, not "revenue"


@pytest.mark.parametrize(
    "kwargs", [{"segment_column": "cluster"}, {"value_column": "revenue"}])
def test_segment_summary_rejects_missing_columns(rfm_scores: pd.DataFrame,
                                                 kwargs: dict[str, Any]) -> None:
    with pytest.raises(DataValidationError) as info:
        plot_segment_summary(rfm_scores, **kwargs)
    assert info.value.rule == "required_column"


@pytest.mark.parametrize("kwargs", [{"segment_column": None}, {"value_column": 1}])
def test_segment_summary_rejects_bad_parameters(rfm_scores: pd.DataFrame,
                                                kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterError):
        plot_segment_summary(rfm_scores, **kwargs)


def test_segment_summary_rejects_bad_values(rfm_scores: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError):
        plot_segment_summary(rfm_scores.assign(monetary=0.0))
    with pytest.raises(DataValidationError):
        plot_segment_summary(rfm_scores, value_column="segment")
    with pytest.raises(DataValidationError):
        plot_segment_summary(rfm_scores.assign(segment=None))


# ---------------------------------------------------------------------- Pareto curve
def test_pareto_curve_equals_cumsum(abc_scores: pd.DataFrame) -> None:
    ax = plot_pareto_curve(abc_scores)
    curve = _line(ax, "cumulative value")
    x = np.asarray(curve.get_xdata(), dtype=float)
    y = np.asarray(curve.get_ydata(), dtype=float)
    n = len(abc_scores)
    assert (x[0], y[0]) == (0.0, 0.0)
    assert (x[-1], y[-1]) == (1.0, 1.0)
    assert np.all(np.diff(x) > 0)
    assert np.all(np.diff(y) >= 0)
    values = abc_scores["value"].sort_values(ascending=False).to_numpy()
    np.testing.assert_allclose(x[1:], np.arange(1, n + 1) / n)
    np.testing.assert_allclose(y[1:], np.cumsum(values) / values.sum(), rtol=1e-12)
    # Above the diagonal: value is concentrated.
    assert np.all(y >= x - 1e-12)
    np.testing.assert_array_equal(_line(ax, "equal value").get_ydata(), [0.0, 1.0])


def test_pareto_curve_marks_tier_ends(abc_scores: pd.DataFrame) -> None:
    ax = plot_pareto_curve(abc_scores)
    n = len(abc_scores)
    counts = abc_scores["value_tier"].value_counts()
    for tier, end in (("A", counts["A"]), ("B", counts["A"] + counts["B"])):
        line = _line(ax, f"end of tier {tier}")
        np.testing.assert_allclose(line.get_xdata(), [end / n, end / n])
    assert not [line for line in ax.get_lines() if line.get_label() == "end of tier C"]
    # At the end of tier A the curve holds tier A's share of the value.
    curve = _line(ax, "cumulative value")
    share_a = abc_scores.loc[abc_scores["value_tier"] == "A", "value"].sum() / abc_scores[
        "value"].sum()
    assert curve.get_ydata()[counts["A"]] == pytest.approx(share_a)


def test_pareto_curve_respects_ax(abc_scores: pd.DataFrame) -> None:
    _, ax = plt.subplots()
    assert plot_pareto_curve(abc_scores, ax=ax) is ax


@pytest.mark.parametrize("columns", [["value"], ["value_tier", "tier"]])
def test_pareto_curve_rejects_missing_columns(abc_scores: pd.DataFrame,
                                              columns: list[str]) -> None:
    with pytest.raises(DataValidationError) as info:
        plot_pareto_curve(abc_scores.drop(columns=columns))
    assert info.value.rule == "required_column"
    assert info.value.column == columns[0]


def test_pareto_curve_reads_frames_with_the_deprecated_tier_column(
        abc_scores: pd.DataFrame) -> None:
    new = plot_pareto_curve(abc_scores.drop(columns="tier"))
    old = plot_pareto_curve(abc_scores.drop(columns="value_tier"))
    assert [line.get_label() for line in old.get_lines()] == [
        line.get_label() for line in new.get_lines()]
    for a, b in zip(old.get_lines(), new.get_lines(), strict=True):
        np.testing.assert_array_equal(a.get_xdata(), b.get_xdata())
        np.testing.assert_array_equal(a.get_ydata(), b.get_ydata())
    with pytest.raises(DataValidationError, match="'tier' has missing tiers"):
        plot_pareto_curve(abc_scores.drop(columns="value_tier").assign(tier=None))


def test_pareto_curve_rejects_bad_values(abc_scores: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError):
        plot_pareto_curve(abc_scores.assign(value=-abc_scores["value"]))
    with pytest.raises(DataValidationError):
        plot_pareto_curve(abc_scores.assign(value=0.0))
    with pytest.raises(DataValidationError):
        plot_pareto_curve(abc_scores.iloc[:0])


# ---------------------------------------------------------------------- transitions
def test_transition_matrix_equals_row_shares(transitions: pd.DataFrame) -> None:
    ax = plot_transition_matrix(transitions)
    data = _image_data(ax)
    totals = transitions.sum(axis=1)
    expected = transitions.div(totals.where(totals > 0), axis=0).to_numpy(dtype=float)
    assert data.shape == transitions.shape
    np.testing.assert_array_equal(np.ma.getmaskarray(data), np.isnan(expected))
    np.testing.assert_allclose(data.filled(np.nan), expected, rtol=1e-12)
    assert np.allclose(data.sum(axis=1).compressed(), 1.0)
    assert ax.images[0].get_clim() == (0.0, 1.0)
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(i) for i in transitions.index]
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(c) for c in transitions.columns]
    assert len(ax.texts) == int((~np.ma.getmaskarray(data)).sum())


def test_transition_matrix_counts(transitions: pd.DataFrame) -> None:
    _, ax = plt.subplots()
    assert plot_transition_matrix(transitions, normalize=False, ax=ax) is ax
    np.testing.assert_array_equal(_image_data(ax), transitions.to_numpy(dtype=float))


@pytest.mark.parametrize("normalize", ["yes", 1, None])
def test_transition_matrix_rejects_bad_normalize(transitions: pd.DataFrame,
                                                 normalize: Any) -> None:
    with pytest.raises(InvalidParameterError):
        plot_transition_matrix(transitions, normalize=normalize)


def test_transition_matrix_rejects_bad_matrices(transitions: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError):
        plot_transition_matrix(-transitions)
    with pytest.raises(DataValidationError):
        plot_transition_matrix(transitions.iloc[:0])
    with pytest.raises(DataValidationError):
        plot_transition_matrix(transitions.astype(str))
