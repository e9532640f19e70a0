"""purchase_tracking's vocabulary: freq and cutoff, the old unit and calibration_end."""

from __future__ import annotations

import pandas as pd
import pytest

from crmmodels import CRMData
from crmmodels.cltv import BetaGeoModel, purchase_tracking
from crmmodels.data import calibration_holdout
from crmmodels.errors import InvalidParameterError

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
