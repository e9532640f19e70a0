"""Holdout comparison and purchase tracking, including the paper's CDNOW result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData
from crmmodels.cltv import BetaGeoModel
from crmmodels.errors import DataValidationError, InvalidParameterError
from crmmodels.evaluation import holdout_comparison, purchase_tracking
from crmmodels.features import calibration_holdout


@pytest.fixture(scope="module")
def split_and_model(cdnow_sample: CRMData) -> tuple[pd.DataFrame, BetaGeoModel]:
    split = calibration_holdout(cdnow_sample, "1997-09-30", "1998-06-30", freq="D",
                                freq_multiplier=7)
    return split, BetaGeoModel().fit(split[["frequency", "recency", "T"]])


@pytest.mark.reference
def test_bg_nbd_tracking_under_forecast_as_published(
    cdnow_sample: CRMData, split_and_model: tuple[pd.DataFrame, BetaGeoModel]
) -> None:
    """Fader, Hardie & Lee (2005): BG/NBD under-forecasts week-78 cumulative sales by ~4%."""
    _, model = split_and_model
    track = purchase_tracking(model, cdnow_sample, "1997-01-01", "1998-06-30",
                              cutoff="1997-09-30")
    assert len(track) == 78
    assert int(track["in_calibration"].sum()) == 39
    error = track["expected_cumulative"].iloc[-1] / track["actual_cumulative"].iloc[-1] - 1
    assert -0.06 < error < -0.02
    # Within the calibration period the fit tracks closely (a bound of our own, not a
    # published number).
    cal_error = track["expected_cumulative"].iloc[38] / track["actual_cumulative"].iloc[38] - 1
    assert abs(cal_error) < 0.03


def test_tracking_actuals_equal_brute_force(
    cdnow_sample: CRMData, split_and_model: tuple[pd.DataFrame, BetaGeoModel]
) -> None:
    _, model = split_and_model
    track = purchase_tracking(model, cdnow_sample, "1997-01-01", "1998-06-30")
    tx = cdnow_sample.transactions
    assert tx is not None
    days = tx.assign(day=tx["timestamp"].dt.normalize())[["customer_id", "day"]]
    days = days.drop_duplicates().sort_values(["customer_id", "day"])
    repeat = days[days.duplicated("customer_id")]
    week = ((repeat["day"] - pd.Timestamp("1997-01-01")).dt.days // 7 + 1).value_counts()
    expected = week.reindex(range(1, 79), fill_value=0).to_numpy()
    np.testing.assert_array_equal(track["actual"].to_numpy(), expected)
    assert track["actual_cumulative"].iloc[-1] == len(repeat)


def test_holdout_comparison_metrics(split_and_model: tuple[pd.DataFrame, BetaGeoModel]) -> None:
    split, model = split_and_model
    result = holdout_comparison(model, split)
    table = result.table
    assert result.metrics["mae"] == pytest.approx(np.mean(np.abs(table["predicted"]
                                                                 - table["actual"])))
    assert result.metrics["total_actual"] == split["frequency_holdout"].sum()
    assert 0.5 < result.metrics["correlation"] < 1  # a sanity bound of our own
    by_f = result.by_frequency()
    assert by_f.index.tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert by_f["customers"].sum() == len(split)
    # Mean prediction grows with past frequency, as the actuals do.
    assert np.all(np.diff(by_f["predicted"].to_numpy()) > 0)


def test_bad_arguments(cdnow_sample: CRMData,
                       split_and_model: tuple[pd.DataFrame, BetaGeoModel]) -> None:
    split, model = split_and_model
    with pytest.raises(DataValidationError):
        holdout_comparison(model, split[["frequency", "recency", "T"]])
    with pytest.raises(InvalidParameterError):
        purchase_tracking(model, cdnow_sample, "1998-01-01", "1997-01-01")
    with pytest.raises(InvalidParameterError):
        purchase_tracking(model, cdnow_sample, "1997-01-01", "1998-01-01", freq="M")


@pytest.mark.reference
def test_pareto_nbd_tracking_as_published(cdnow_sample: CRMData) -> None:
    """Fader, Hardie & Lee (2005): Pareto/NBD under-forecasts week 78 by about 2%."""
    from crmmodels.cltv import ParetoNBDModel

    split = calibration_holdout(cdnow_sample, "1997-09-30", "1998-06-30", freq="D",
                                freq_multiplier=7)
    model = ParetoNBDModel().fit(split[["frequency", "recency", "T"]])
    track = purchase_tracking(model, cdnow_sample, "1997-01-01", "1998-06-30")
    error = track["expected_cumulative"].iloc[-1] / track["actual_cumulative"].iloc[-1] - 1
    assert -0.04 < error < 0.0
    bg = BetaGeoModel().fit(split[["frequency", "recency", "T"]])
    bg_track = purchase_tracking(bg, cdnow_sample, "1997-01-01", "1998-06-30")
    bg_error = bg_track["expected_cumulative"].iloc[-1] / bg_track["actual_cumulative"].iloc[-1]
    assert abs(error) < abs(bg_error - 1)  # as in the paper, Pareto/NBD tracks closer


# ------------------------------------------------------------- propensity metrics
def test_classification_metrics_equal_sklearn() -> None:
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    from crmmodels.evaluation import classification_metrics

    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.3
    p = np.clip(0.3 + 0.3 * (y - 0.3) + rng.normal(0, 0.2, 500), 0, 1)
    m = classification_metrics(y, p)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-15)
    assert m["pr_auc"] == pytest.approx(average_precision_score(y, p), abs=1e-15)
    assert m["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-15)
    assert m["base_rate"] == pytest.approx(y.mean())
    assert np.isnan(classification_metrics(y, p * 10 - 5)["brier"])  # not probabilities


def test_gains_and_calibration_tables_equal_brute_force() -> None:
    from crmmodels.evaluation import calibration_table, gains_table

    rng = np.random.default_rng(1)
    n = 1003
    y = (rng.random(n) < 0.2).astype(int)
    s = rng.random(n) + 0.5 * y
    table = gains_table(y, s, n_groups=10)
    order = np.argsort(-s, kind="stable")
    sizes = [len(part) for part in np.array_split(np.arange(n), 10)]
    bounds = np.cumsum([0, *sizes])
    for g in range(10):
        part = y[order][bounds[g]:bounds[g + 1]]
        assert table.loc[g + 1, "n"] == len(part)
        assert table.loc[g + 1, "positives"] == part.sum()
        assert table.loc[g + 1, "lift"] == pytest.approx(part.mean() / y.mean())
        assert table.loc[g + 1, "cumulative_gain"] == pytest.approx(
            y[order][:bounds[g + 1]].sum() / y.sum())
    assert table["cumulative_gain"].iloc[-1] == pytest.approx(1.0)
    p = np.clip(s / 1.5, 0, 1)
    cal = calibration_table(y, p, n_bins=5, strategy="uniform")
    assert cal["n"].sum() == n
    bins = np.searchsorted(np.linspace(0, 1, 6)[1:-1], p, side="left")
    for k, b in enumerate(np.unique(bins)):
        assert cal["observed_rate"].iloc[k] == pytest.approx(y[bins == b].mean())
        assert cal["mean_predicted"].iloc[k] == pytest.approx(p[bins == b].mean())


def test_propensity_metrics_bad_input() -> None:
    from crmmodels.evaluation import calibration_table, classification_metrics, gains_table

    with pytest.raises(DataValidationError, match="one class"):
        classification_metrics([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(DataValidationError, match="NaN"):
        classification_metrics([0, 1], [0.1, np.nan])
    with pytest.raises(DataValidationError, match="equal length"):
        classification_metrics([0, 1, 1], [0.1, 0.2])
    with pytest.raises(DataValidationError, match="0/1"):
        gains_table([0, 2], [0.1, 0.2])
    with pytest.raises(DataValidationError, match=r"\[0, 1\]"):
        calibration_table([0, 1], [0.1, 1.2])
    with pytest.raises(InvalidParameterError, match="n_groups"):
        gains_table([0, 1], [0.1, 0.2], n_groups=0)


def test_propensity_plots() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crmmodels.plotting import plot_calibration, plot_gains, plot_lift

    rng = np.random.default_rng(2)
    y = (rng.random(400) < 0.25).astype(int)
    p = np.clip(0.2 + 0.4 * y + rng.normal(0, 0.15, 400), 0, 1)
    ax = plot_gains(y, p)
    xs, ys = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    assert (xs[0], ys[0], xs[-1], ys[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(ys) >= 0)
    assert ys[1] > xs[1]  # better than random in the top decile
    ax = plot_lift(y, p, n_groups=5)
    assert len(ax.patches) == 5
    assert ax.patches[0].get_height() > 1 > ax.patches[-1].get_height()
    ax = plot_calibration(y, p, n_bins=4)
    assert len(ax.lines[0].get_xdata()) == 4
    plt.close("all")


@pytest.mark.parametrize("plot", ["plot_gains", "plot_calibration"])
def test_propensity_curves_overlay_on_one_axes(plot: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crmmodels import propensity

    draw = getattr(propensity, plot)
    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.25).astype(int)
    good = np.clip(0.2 + 0.4 * y + rng.normal(0, 0.15, 400), 0, 1)
    weak = np.clip(0.3 + 0.1 * y + rng.normal(0, 0.15, 400), 0, 1)
    ax = draw(y, good, label="boosting")
    assert draw(y, weak, ax=ax, label="logistic") is ax
    labels = [line.get_label() for line in ax.lines]
    assert (labels[0], labels[2]) == ("boosting", "logistic")
    assert len(ax.lines) == 3  # the diagonal once
    alone = draw(y, weak)
    np.testing.assert_array_equal(ax.lines[2].get_ydata(), alone.lines[0].get_ydata())
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [
        "boosting", ax.lines[1].get_label(), "logistic"]
    with pytest.raises(InvalidParameterError, match="label"):
        draw(y, good, label=3)
    plt.close("all")


def test_fraud_plots_draw_the_evaluation_tables() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crmmodels.evaluation import card_precision_at_k, cost_curve
    from crmmodels.plotting import plot_card_precision, plot_cost_curve

    rng = np.random.default_rng(4)
    n = 2000
    y = (rng.random(n) < 0.05).astype(int)
    p = rng.random(n) + 0.4 * y
    curve = cost_curve(y, p, cost_fp=1, cost_fn=20)
    ax = plot_cost_curve(y, p, cost_fp=1, cost_fn=20, threshold=0.9)
    assert ax.lines[0].get_ydata().tolist() == curve["cost"].tolist()
    assert ax.lines[1].get_ydata()[0] == curve["cost"].min()
    assert ax.lines[2].get_xdata()[0] == (p >= 0.9).sum()  # alerts at threshold 0.9
    card, day = rng.integers(0, 200, n), rng.integers(0, 5, n)
    ax = plot_card_precision(y, p, card, day, ks=(5, 50))
    assert ax.lines[0].get_xdata().tolist() == [5, 50]
    assert ax.lines[0].get_ydata().tolist() == pytest.approx(
        [card_precision_at_k(y, p, card, day, k=k)["card_precision"].mean() for k in (5, 50)])
    with pytest.raises(InvalidParameterError, match="ks"):
        plot_card_precision(y, p, card, day, ks=())
    with pytest.raises(InvalidParameterError, match="ks"):
        plot_card_precision(y, p, card, day, ks=(2.5,))
    with pytest.raises(InvalidParameterError, match="threshold"):
        plot_cost_curve(y, p, threshold=float("nan"))
    plt.close("all")
