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
                              calibration_end="1997-09-30")
    assert len(track) == 78
    assert int(track["in_calibration"].sum()) == 39
    error = track["expected_cumulative"].iloc[-1] / track["actual_cumulative"].iloc[-1] - 1
    assert -0.06 < error < -0.02
    # Within the calibration period the fit tracks closely.
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
    assert 0.5 < result.metrics["correlation"] < 1
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
        purchase_tracking(model, cdnow_sample, "1997-01-01", "1998-01-01", unit="M")


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
