"""What the evaluation functions accept, and purchase_tracking's vocabulary.

purchase_tracking takes freq and cutoff, and the old unit and calibration_end. The
period counts below are arithmetic on the dates: 1997-01-01 to 1998-06-30 is 546 days,
78 weeks, of which the 39 weeks to 1997-09-30 calibrate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData
from crmmodels.cltv import BetaGeoModel, purchase_tracking
from crmmodels.data import calibration_holdout
from crmmodels.errors import DataValidationError, InvalidParameterError

START, END, CUTOFF = "1997-01-01", "1998-06-30", "1997-09-30"


@pytest.fixture(scope="module")
def model(cdnow_sample: CRMData) -> BetaGeoModel:
    split = calibration_holdout(cdnow_sample, CUTOFF, END, freq="D", freq_multiplier=7)
    return BetaGeoModel().fit(split[["frequency", "recency", "T"]])


def test_new_names(model: BetaGeoModel, cdnow_sample: CRMData) -> None:
    weekly = purchase_tracking(model, cdnow_sample, START, END, freq="W", cutoff=CUTOFF)
    assert len(weekly) == 78
    assert int(weekly["in_calibration"].sum()) == 39
    # The defaults: weeks, and no period marked as calibration.
    default = purchase_tracking(model, cdnow_sample, START, END)
    pd.testing.assert_frame_equal(default.drop(columns="in_calibration"),
                                  weekly.drop(columns="in_calibration"))
    assert not default["in_calibration"].any()
    daily = purchase_tracking(model, cdnow_sample, START, END, freq="D", cutoff=CUTOFF)
    assert len(daily) == 546
    assert daily["actual"].sum() == weekly["actual"].sum()


@pytest.mark.parametrize(("old", "new", "value"), [("unit", "freq", "D"),
                                                   ("calibration_end", "cutoff", CUTOFF)])
def test_old_names_warn_at_the_callers_line(model: BetaGeoModel, cdnow_sample: CRMData,
                                            old: str, new: str, value: str) -> None:
    expected = purchase_tracking(model, cdnow_sample, START, END, **{new: value})
    message = f"the argument {old} is deprecated.*use {new}="
    with pytest.warns(FutureWarning, match=message) as record:
        got = purchase_tracking(model, cdnow_sample, START, END, **{old: value})
    pd.testing.assert_frame_equal(got, expected)
    assert len(record) == 1
    assert record[0].filename == __file__


def test_old_names_through_the_old_import_path(model: BetaGeoModel,
                                               cdnow_sample: CRMData) -> None:
    from crmmodels.evaluation import purchase_tracking as old_path

    with pytest.warns(FutureWarning) as record:
        old_path(model, cdnow_sample, START, END, unit="W", calibration_end=CUTOFF)
    assert [w.filename for w in record] == [__file__, __file__]


@pytest.mark.parametrize(("old", "new", "value"), [("unit", "freq", "D"),
                                                   ("calibration_end", "cutoff", CUTOFF)])
def test_old_and_new_name_together_is_an_error(model: BetaGeoModel, cdnow_sample: CRMData,
                                               old: str, new: str, value: str) -> None:
    message = f"{old} is the deprecated name of {new}; pass only {new}"
    with pytest.raises(InvalidParameterError, match=message):
        purchase_tracking(model, cdnow_sample, START, END, **{old: value, new: value})


def test_positional_use_and_bad_values(model: BetaGeoModel, cdnow_sample: CRMData) -> None:
    track = purchase_tracking(model, cdnow_sample, pd.Timestamp(START), pd.Timestamp(END))
    assert track.index.name == "period"
    with pytest.raises(TypeError):
        purchase_tracking(model, cdnow_sample, START, END, "W")  # type: ignore[misc]
    with pytest.raises(InvalidParameterError, match="freq must be one of 'D', 'W', got 'M'"):
        purchase_tracking(model, cdnow_sample, START, END, freq="M")
    with pytest.raises(InvalidParameterError, match="cutoff"):
        purchase_tracking(model, cdnow_sample, START, END, cutoff="not a date")
    with pytest.raises(InvalidParameterError, match="after start"):
        purchase_tracking(model, cdnow_sample, END, START)


# ------------------------------------------------------- what the functions accept
@pytest.fixture(scope="module")
def split(cdnow_sample: CRMData) -> pd.DataFrame:
    return calibration_holdout(cdnow_sample, CUTOFF, END, freq="D", freq_multiplier=7)


def test_a_model_without_the_method_is_named(split: pd.DataFrame,
                                             cdnow_sample: CRMData) -> None:
    from sklearn.linear_model import LinearRegression

    from crmmodels.cltv import holdout_comparison

    wrong = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    message = ("holdout_comparison: model (LinearRegression) has no "
               "conditional_expected_purchases; pass a fitted transaction model such as "
               "BetaGeoModel")
    with pytest.raises(TypeError) as info:
        holdout_comparison(wrong, split)  # type: ignore[arg-type]
    assert str(info.value) == message
    with pytest.raises(TypeError, match=r"purchase_tracking: model \(dict\) has no "
                                        "expected_purchases"):
        purchase_tracking({}, cdnow_sample, START, END)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="model is the class BetaGeoModel, not a model; "
                                        r"pass a fitted instance, e\.g\. BetaGeoModel\(\)"):
        holdout_comparison(BetaGeoModel, split)  # type: ignore[arg-type]


def test_an_unfitted_model_is_not_fitted(split: pd.DataFrame, cdnow_sample: CRMData) -> None:
    from crmmodels.cltv import NaiveRateModel, holdout_comparison
    from crmmodels.errors import NotFittedError

    for func, args in ((holdout_comparison, (split,)),
                       (purchase_tracking, (cdnow_sample, START, END))):
        for model in (BetaGeoModel(), NaiveRateModel()):
            name = type(model).__name__
            with pytest.raises(NotFittedError, match=rf"{func.__name__}: model \({name}\) "
                                                     "is not fitted"):
                func(model, *args)  # type: ignore[operator]


def test_data_of_the_wrong_kind(model: BetaGeoModel, split: pd.DataFrame,
                                cdnow_sample: CRMData) -> None:
    from crmmodels.cltv import holdout_comparison

    with pytest.raises(TypeError, match=r"holdout_comparison: split must be the DataFrame of "
                                        r"crmmodels\.data\.calibration_holdout, got CRMData"):
        holdout_comparison(model, cdnow_sample)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="purchase_tracking: data must be a CRMData holding "
                                        "the cohort's transactions, got DataFrame"):
        purchase_tracking(model, split, START, END)  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="calibration_holdout"):
        holdout_comparison(model, split[["frequency", "recency", "T"]])


def test_figures_name_the_missing_method(split: pd.DataFrame) -> None:
    from crmmodels.cltv import (
        NaiveRateModel,
        plot_frequency_recency_matrix,
        plot_probability_alive_matrix,
        plot_survival,
    )

    naive = NaiveRateModel().fit(split[["frequency", "recency", "T"]])
    with pytest.raises(TypeError, match=r"plot_probability_alive_matrix: model "
                                        r"\(NaiveRateModel\) has no "
                                        "conditional_probability_alive"):
        plot_probability_alive_matrix(naive)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"plot_survival: model \(NaiveRateModel\) has no "
                                        "survival; pass a fitted retention model such as "
                                        "ShiftedBetaGeoModel"):
        plot_survival(naive, [0, 1, 2])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="plot_frequency_recency_matrix: model"):
        plot_frequency_recency_matrix(object())  # type: ignore[arg-type]


def test_the_baseline_draws_its_frequency_recency_matrix(split: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crmmodels.cltv import NaiveRateModel, plot_frequency_recency_matrix

    naive = NaiveRateModel().fit(split[["frequency", "recency", "T"]])
    ax = plot_frequency_recency_matrix(naive, max_frequency=3, T=39, t=39)
    cells = np.ma.filled(ax.images[0].get_array(), np.nan)
    r, alpha = naive.params_["r"], naive.params_["alpha"]
    for x in range(1, 4):  # every recency gives the same answer without dropout
        np.testing.assert_allclose(cells[x], 39 * (r + x) / (alpha + 39), rtol=1e-12)
    assert cells[0, 0] == pytest.approx(39 * r / (alpha + 39), rel=1e-12)
    plt.close(ax.figure)
