"""The plotting functions draw exactly the numbers of the models and evaluation frames."""

from __future__ import annotations

from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from crmmodels import CRMData
from crmmodels.cltv import BetaGeoModel
from crmmodels.cltv.shifted_beta_geo import ShiftedBetaGeoModel, retention_frame_from_survivors
from crmmodels.errors import DataValidationError, InvalidParameterError, NotFittedError
from crmmodels.evaluation import HoldoutResult, holdout_comparison, purchase_tracking
from crmmodels.features import calibration_holdout
from crmmodels.plotting import (
    plot_frequency_recency_matrix,
    plot_holdout_by_frequency,
    plot_probability_alive_matrix,
    plot_survival,
    plot_tracking,
)

matplotlib.use("Agg")

REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]


pytestmark = pytest.mark.usefixtures("close_figures")


@pytest.fixture(scope="module")
def split(cdnow_sample: CRMData) -> pd.DataFrame:
    return calibration_holdout(cdnow_sample, "1997-09-30", "1998-06-30", freq="D",
                               freq_multiplier=7)


@pytest.fixture(scope="module")
def bgnbd(split: pd.DataFrame) -> BetaGeoModel:
    return BetaGeoModel().fit(split[["frequency", "recency", "T"]])


@pytest.fixture(scope="module")
def holdout(bgnbd: BetaGeoModel, split: pd.DataFrame) -> HoldoutResult:
    return holdout_comparison(bgnbd, split)


@pytest.fixture(scope="module")
def tracking(bgnbd: BetaGeoModel, cdnow_sample: CRMData) -> pd.DataFrame:
    return purchase_tracking(bgnbd, cdnow_sample, "1997-01-01", "1998-06-30",
                             cutoff="1997-09-30")


@pytest.fixture(scope="module")
def sbg() -> ShiftedBetaGeoModel:
    return ShiftedBetaGeoModel().fit(retention_frame_from_survivors(REGULAR[:8]))


def _image_data(ax: Axes) -> np.ma.MaskedArray[Any, Any]:
    assert len(ax.images) == 1
    data = ax.images[0].get_array()
    assert data is not None
    return np.ma.asarray(data)


def _line(ax: Axes, label: str) -> Any:
    lines = [line for line in ax.get_lines() if line.get_label() == label]
    assert len(lines) == 1, [line.get_label() for line in ax.get_lines()]
    return lines[0]


# ---------------------------------------------------------------------- heat maps
@pytest.mark.parametrize("t", [1.0, 39.0])
def test_frequency_recency_matrix_equals_model_on_grid(bgnbd: BetaGeoModel, t: float) -> None:
    ax = plot_frequency_recency_matrix(bgnbd, max_frequency=12, max_recency=30, T=38.86, t=t)
    assert isinstance(ax, Axes)
    data = _image_data(ax)
    assert data.shape == (13, 31)  # rows: frequency 0-12, columns: recency 0-30
    x, tx = np.meshgrid(np.arange(13.0), np.arange(31.0), indexing="ij")
    expected = bgnbd.conditional_expected_purchases(t, x, tx, 38.86)
    possible = ~((x == 0) & (tx > 0))
    np.testing.assert_array_equal(np.ma.getmaskarray(data), ~possible)
    np.testing.assert_allclose(data.data[possible], expected[possible], rtol=1e-15)
    # Recent frequent buyers are worth more than lapsed frequent buyers.
    assert data[12, 30] > data[12, 0]


def test_probability_alive_matrix_equals_model_on_grid(bgnbd: BetaGeoModel) -> None:
    ax = plot_probability_alive_matrix(bgnbd, max_frequency=5, max_recency=20, T=20)
    data = _image_data(ax)
    x, tx = np.meshgrid(np.arange(6.0), np.arange(21.0), indexing="ij")
    expected = bgnbd.conditional_probability_alive(x, tx, 20.0)
    possible = ~((x == 0) & (tx > 0))
    np.testing.assert_array_equal(np.ma.getmaskarray(data), ~possible)
    np.testing.assert_allclose(data.data[possible], expected[possible], rtol=1e-15)
    assert ax.images[0].get_clim() == (0.0, 1.0)


def test_matrix_defaults(bgnbd: BetaGeoModel) -> None:
    # No arguments: frequencies 0-20, a customer of age 52 and recencies 0-52.
    assert _image_data(plot_frequency_recency_matrix(bgnbd)).shape == (21, 53)
    # T alone: recencies up to floor(T).
    assert _image_data(plot_probability_alive_matrix(bgnbd, T=38.86)).shape == (21, 39)
    # max_recency alone: the customer's age is max_recency.
    ax = plot_probability_alive_matrix(bgnbd, max_frequency=3, max_recency=10)
    data = _image_data(ax)
    assert data.shape == (4, 11)
    np.testing.assert_allclose(data[3, 5], bgnbd.conditional_probability_alive(3, 5, 10.0))


def test_matrix_handles_large_frequencies(bgnbd: BetaGeoModel) -> None:
    data = _image_data(plot_frequency_recency_matrix(bgnbd, max_frequency=300, T=400, t=52))
    assert np.isfinite(data.compressed()).all()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"t": -1.0}, {"t": 0}, {"t": float("nan")}, {"t": "1"},
        {"max_frequency": -1}, {"max_frequency": 2.5}, {"max_frequency": True},
        {"max_recency": -1}, {"max_recency": 40, "T": 39}, {"T": 0}, {"T": -5.0},
        {"T": float("inf")},
    ],
)
def test_frequency_recency_matrix_rejects_bad_parameters(bgnbd: BetaGeoModel,
                                                         kwargs: dict[str, Any]) -> None:
    before = plt.get_fignums()
    with pytest.raises(InvalidParameterError):
        plot_frequency_recency_matrix(bgnbd, **kwargs)
    assert plt.get_fignums() == before  # nothing drawn on failure


@pytest.mark.parametrize("kwargs", [{"max_frequency": -3}, {"max_recency": 10, "T": 5}])
def test_probability_alive_matrix_rejects_bad_parameters(bgnbd: BetaGeoModel,
                                                         kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterError):
        plot_probability_alive_matrix(bgnbd, **kwargs)


def test_unfitted_model_is_a_clear_error() -> None:
    with pytest.raises(NotFittedError):
        plot_frequency_recency_matrix(BetaGeoModel())
    with pytest.raises(NotFittedError):
        plot_survival(ShiftedBetaGeoModel(), [0, 1, 2])


# ---------------------------------------------------------------------- holdout
@pytest.mark.parametrize("max_frequency", [0, 3, 7])
def test_holdout_by_frequency_equals_table(holdout: HoldoutResult, max_frequency: int) -> None:
    ax = plot_holdout_by_frequency(holdout, max_frequency=max_frequency)
    table = holdout.by_frequency(max_frequency)
    actual, predicted = _line(ax, "actual"), _line(ax, "predicted")
    np.testing.assert_array_equal(actual.get_ydata(), table["actual"].to_numpy())
    np.testing.assert_array_equal(predicted.get_ydata(), table["predicted"].to_numpy())
    positions = np.arange(len(table))
    np.testing.assert_array_equal(actual.get_xdata(), positions)
    assert [tick.get_text() for tick in ax.get_xticklabels()] == list(table.index)
    assert list(table.index)[-1] == f"{max_frequency}+"


@pytest.mark.parametrize("max_frequency", [-1, 2.0, None, True])
def test_holdout_by_frequency_rejects_bad_max_frequency(holdout: HoldoutResult,
                                                        max_frequency: Any) -> None:
    with pytest.raises(InvalidParameterError):
        plot_holdout_by_frequency(holdout, max_frequency=max_frequency)


# ---------------------------------------------------------------------- tracking
@pytest.mark.parametrize("cumulative", [True, False])
def test_tracking_lines_equal_frame(tracking: pd.DataFrame, cumulative: bool) -> None:
    ax = plot_tracking(tracking, cumulative=cumulative)
    suffix = "_cumulative" if cumulative else ""
    for label in ("actual", "expected"):
        line = _line(ax, label)
        np.testing.assert_array_equal(line.get_ydata(), tracking[label + suffix].to_numpy())
        np.testing.assert_array_equal(line.get_xdata(), tracking.index.to_numpy())
    end = _line(ax, "end of calibration")
    assert list(end.get_xdata()) == [39.0, 39.0]  # 39 calibration weeks
    assert len(ax.get_lines()) == 3


def test_tracking_without_calibration_has_no_vertical_line(tracking: pd.DataFrame) -> None:
    ax = plot_tracking(tracking.assign(in_calibration=False))
    assert [line.get_label() for line in ax.get_lines()] == ["actual", "expected"]


def test_tracking_rejects_bad_input(tracking: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError) as info:
        plot_tracking(tracking.drop(columns="expected_cumulative"))
    assert info.value.column == "expected_cumulative"
    assert info.value.rule == "required_column"
    with pytest.raises(DataValidationError):
        plot_tracking(tracking.to_numpy())  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError):
        plot_tracking(tracking, cumulative="yes")  # type: ignore[arg-type]


# ---------------------------------------------------------------------- survival
def test_survival_lines_equal_model_and_actuals(sbg: ShiftedBetaGeoModel) -> None:
    periods = np.arange(13)
    shares = np.array(REGULAR) / 1000
    ax = plot_survival(sbg, periods, actual=shares)
    model_line, actual_line = _line(ax, "model"), _line(ax, "actual")
    np.testing.assert_array_equal(model_line.get_ydata(), sbg.survival(periods))
    np.testing.assert_array_equal(model_line.get_xdata(), periods)
    np.testing.assert_array_equal(actual_line.get_ydata(), shares)
    # The projection for years 8-12 is that of Fader & Hardie (2007).
    np.testing.assert_allclose(1000 * model_line.get_ydata()[8:],
                               [220.1, 204.4, 191.2, 179.9, 170.0], atol=0.05)


def test_survival_without_actuals(sbg: ShiftedBetaGeoModel) -> None:
    ax = plot_survival(sbg, [0, 1, 2, 3])
    assert [line.get_label() for line in ax.get_lines()] == ["model"]


@pytest.mark.parametrize(
    ("periods", "actual"),
    [([], None), ([0, -1, 2], None), ([0, 1.5], None), ([[0, 1]], None),
     ([0, 1, 2], [1.0, 0.6]), ([0, 1], ["a", "b"]), (["x"], None)],
)
def test_survival_rejects_bad_input(sbg: ShiftedBetaGeoModel, periods: Any,
                                    actual: Any) -> None:
    with pytest.raises(InvalidParameterError):
        plot_survival(sbg, periods, actual=actual)


# ---------------------------------------------------------------------- axes
def test_every_function_draws_on_the_given_axes(
    bgnbd: BetaGeoModel, holdout: HoldoutResult, tracking: pd.DataFrame,
    sbg: ShiftedBetaGeoModel,
) -> None:
    fig, axes = plt.subplots(2, 3)
    targets = list(axes.ravel())
    drawn = [
        plot_frequency_recency_matrix(bgnbd, max_frequency=5, T=39, ax=targets[0]),
        plot_probability_alive_matrix(bgnbd, max_frequency=5, T=39, ax=targets[1]),
        plot_holdout_by_frequency(holdout, ax=targets[2]),
        plot_tracking(tracking, ax=targets[3]),
        plot_survival(sbg, range(13), ax=targets[4]),
    ]
    assert plt.get_fignums() == [fig.number]  # no new figure
    for given, returned in zip(targets, drawn, strict=False):
        assert returned is given
        assert returned.figure is fig
    assert len(targets[0].images) == 1
    assert len(targets[1].images) == 1
    assert not targets[5].has_data()


def test_new_figure_when_no_axes_given(holdout: HoldoutResult) -> None:
    before = set(plt.get_fignums())
    ax = plot_holdout_by_frequency(holdout)
    assert isinstance(ax, Axes)
    assert set(plt.get_fignums()) - before == {ax.figure.number}  # type: ignore[union-attr]


def test_heat_maps_of_a_discrete_time_model() -> None:
    from crmmodels.cltv import BetaGeoBetaBinomModel
    from crmmodels.datasets import load_cdnow_sample
    from crmmodels.plotting import plot_frequency_recency_matrix, plot_probability_alive_matrix

    model = BetaGeoBetaBinomModel(freq="W").fit(load_cdnow_sample())
    for plot in (plot_frequency_recency_matrix, plot_probability_alive_matrix):
        ax = plot(model, max_frequency=10, T=39)
        values = np.ma.filled(ax.images[0].get_array(), np.nan)
        x, tx = np.meshgrid(np.arange(11), np.arange(40), indexing="ij")
        impossible = ((x == 0) & (tx > 0)) | (x > tx)
        assert np.isnan(values[impossible]).all()
        assert np.isfinite(values[~impossible]).all()
        plt.close(ax.figure)
