"""LifecycleModel: stage per customer at a date, without leakage."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from crmmodels import CRMData
from crmmodels.datasets import load_cdnow_sample
from crmmodels.errors import DataValidationError, InvalidParameterError, NotFittedError
from crmmodels.segments import STAGES, LifecycleModel
from crmmodels.testing import check_model

AT = "2024-12-31"
MONTHS = pd.date_range("2024-01-01", periods=12, freq="MS") + pd.Timedelta(days=14)


def _rows(customer: str, dates: Any, amounts: Any) -> list[tuple[str, pd.Timestamp, float]]:
    dates = list(pd.to_datetime(dates))
    amounts = list(np.broadcast_to(np.asarray(amounts, dtype=float), (len(dates),)))
    return [(customer, d, float(a)) for d, a in zip(dates, amounts, strict=True)]


def _designed_rows() -> list[tuple[str, pd.Timestamp, float]]:
    """One customer per stage at 2024-12-31 (monthly buyers have a ~30-day gap)."""
    half = np.r_[np.full(6, 10.0), np.full(6, 20.0)]
    return [
        *_rows("new", ["2024-12-01"], 50.0),                    # first purchase 30 days ago
        *_rows("stable", MONTHS, 10.0),                          # same spend each half-year
        *_rows("growing", MONTHS, half),                         # spend doubled
        *_rows("declining", MONTHS, half[::-1]),                 # spend halved
        *_rows("lapsed", MONTHS[:9], 10.0),                      # last 2024-09-15: 107 days
        *_rows("churned", MONTHS[:3], 10.0),                     # last 2024-03-15: 291 days
        *_rows("flagged", MONTHS, 10.0),                         # stable, but churned=True
    ]


def _frame(rows: list[tuple[str, pd.Timestamp, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])


def _customers() -> pd.DataFrame:
    ids = ["new", "stable", "growing", "declining", "lapsed", "churned", "flagged", "prospect"]
    return pd.DataFrame({"customer_id": ids,
                         "churned": [i == "flagged" for i in ids]})


EXPECTED = {"new": "new", "stable": "stable", "growing": "growing", "declining": "declining",
            "lapsed": "lapsed", "churned": "churned", "flagged": "churned",
            "prospect": "prospect"}


@pytest.fixture
def designed() -> CRMData:
    return CRMData(transactions=_frame(_designed_rows()), customers=_customers(),
                   observation_end=AT)


def test_contract() -> None:
    assert "row_order" in check_model(LifecycleModel(), load_cdnow_sample())


def test_designed_customers(designed: CRMData) -> None:
    model = LifecycleModel().fit(designed)
    assert model.default_gap_ == pytest.approx(30.5, abs=1.0)
    scores = model.score(designed)
    assert scores["lifecycle_stage"].to_dict() == EXPECTED
    assert set(scores["lifecycle_stage"]) == set(STAGES)
    assert int(model.stage_counts_.sum()) == len(scores) == model.n_customers_
    assert scores.loc["prospect", "n_purchases"] == 0
    assert scores["days_since_last"].isna().to_dict()["prospect"]
    assert scores.loc["new", "days_since_last"] == pytest.approx(30.0)
    # A single purchaser gets the population default gap.
    assert scores.loc["new", "typical_gap"] == model.default_gap_
    assert scores.loc["growing", "spend_recent"] == pytest.approx(120.0)
    assert scores.loc["growing", "spend_previous"] == pytest.approx(60.0)
    assert scores.loc["stable", "purchases_recent"] == 6


@pytest.mark.parametrize(
    ("params", "moved"),
    [
        ({"new_window": 20}, {"new": "stable"}),
        ({"lapse_multiple": 4.0}, {"lapsed": "declining"}),
        ({"churn_multiple": 10.0}, {"churned": "lapsed"}),
        ({"decline_ratio": 0.4}, {"declining": "stable"}),
        ({"growth_ratio": 2.5}, {"growing": "stable"}),
        ({"min_purchases_for_trend": 13}, {"growing": "stable", "declining": "stable"}),
        ({"trend_measure": "purchases"}, {"growing": "stable", "declining": "stable"}),
        ({"trend_window": 30}, {"growing": "stable", "declining": "stable"}),
    ],
)
def test_thresholds_move_designed_customers(
    designed: CRMData, params: dict[str, Any], moved: dict[str, str]
) -> None:
    scores = LifecycleModel(**params).fit(designed).score(designed)
    assert scores["lifecycle_stage"].to_dict() == {**EXPECTED, **moved}


def test_churned_flag_only_at_observation_end(designed: CRMData) -> None:
    model = LifecycleModel(observation_end="2024-12-20").fit(designed)
    assert model.score(designed).loc["flagged", "lifecycle_stage"] == "stable"


def test_no_leakage() -> None:
    at = "2024-12-31"
    end = "2025-06-30"
    later = [*_rows("stable", ["2025-01-20", "2025-02-20"], 500.0),
             *_rows("lapsed", ["2025-01-02"], 1.0),
             *_rows("late", ["2025-03-01"], 30.0)]
    customers = pd.concat([_customers(), pd.DataFrame({
        "customer_id": ["signup_later"], "churned": [False],
        "signup_date": [pd.Timestamp("2025-02-01")]})], ignore_index=True)
    full = CRMData(transactions=_frame(_designed_rows() + later), customers=customers,
                   observation_end=end)
    cut = CRMData(transactions=_frame(_designed_rows()), customers=customers,
                  observation_end=end)
    shifted_rows = [(c, t + pd.Timedelta(days=40), a * 3) for c, t, a in later]
    shifted = CRMData(transactions=_frame(_designed_rows() + shifted_rows),
                      customers=customers, observation_end="2025-12-31")
    results = []
    for data in (full, cut, shifted):
        model = LifecycleModel(observation_end=at).fit(data)
        results.append((model.default_gap_, model.score(data)))
    for gap, scores in results[1:]:
        assert gap == results[0][0]
        pd.testing.assert_frame_equal(scores, results[0][1])
    scores = results[0][1]
    assert "late" not in scores.index
    assert "signup_later" not in scores.index
    assert scores.loc["lapsed", "lifecycle_stage"] == "lapsed"


def test_transitions(designed: CRMData) -> None:
    model = LifecycleModel().fit(designed)
    t1, t2 = "2024-11-15", AT
    m = model.transitions(designed, t1, t2)
    assert m.index.tolist() == [*STAGES, "absent"]
    assert m.columns.tolist() == list(STAGES)
    at2 = model.set_params(observation_end=t2).score(designed)
    at1 = model.set_params(observation_end=t1).score(designed)
    assert int(m.to_numpy().sum()) == len(at2)
    # column sums are the stages at t2, row sums the stages at t1 (+ absent customers)
    pd.testing.assert_series_equal(
        m.sum(axis=0),
        at2["lifecycle_stage"].value_counts().reindex(list(STAGES), fill_value=0),
        check_names=False, check_index_type=False, check_dtype=False)
    pd.testing.assert_series_equal(
        m.sum(axis=1).drop("absent"),
        at1["lifecycle_stage"].value_counts().reindex(list(STAGES), fill_value=0),
        check_names=False, check_index_type=False, check_dtype=False)
    assert m.loc["prospect", "new"] == 1  # "new" first bought after t1
    assert m.loc["stable", "churned"] == 1  # "flagged": churned flag at the end only


def test_transitions_absent_customers() -> None:
    tx = _frame(_designed_rows())  # no customers frame: "new" is unknown at t1
    model = LifecycleModel().fit(tx)
    m = model.transitions(tx, "2024-11-15", AT)
    assert m.loc["absent", "new"] == 1
    assert m.to_numpy()[-1].sum() == 1
    assert int(m.to_numpy().sum()) == 7


def test_transitions_on_real_data() -> None:
    data = load_cdnow_sample()
    model = LifecycleModel().fit(data)
    m = model.transitions(data, "1997-06-30", "1998-01-31")
    later = model.set_params(observation_end="1998-01-31").score(data)
    assert int(m.to_numpy().sum()) == len(later)
    assert (m.to_numpy() >= 0).all()
    with pytest.raises(InvalidParameterError, match="t1 < t2"):
        model.transitions(data, "1998-01-31", "1997-06-30")


def test_timezone_aware_data() -> None:
    tx = _frame(_designed_rows())
    tx["timestamp"] = tx["timestamp"].dt.tz_localize("Europe/London")
    data = CRMData(transactions=tx, customers=_customers(), observation_end=AT)
    scores = LifecycleModel().fit(data).score(data)
    assert scores["lifecycle_stage"].to_dict() == EXPECTED


def test_needs_a_repeat_customer() -> None:
    tx = _frame(_rows("a", ["2024-01-01"], 1.0) + _rows("b", ["2024-02-01"], 1.0))
    with pytest.raises(DataValidationError, match="two or more purchase days"):
        LifecycleModel().fit(tx)


def test_no_customer_at_date() -> None:
    tx = _frame(_designed_rows())
    with pytest.raises(DataValidationError, match="no customer is known"):
        LifecycleModel(observation_end="2023-01-01").fit(tx)


@pytest.mark.parametrize(
    "params",
    [{"new_window": 0}, {"new_window": -5}, {"lapse_multiple": 0.0},
     {"churn_multiple": 3.0}, {"churn_multiple": 2.0}, {"trend_window": None},
     {"decline_ratio": 0.0}, {"decline_ratio": 1.2}, {"growth_ratio": 0.9},
     {"min_purchases_for_trend": -1}, {"min_purchases_for_trend": True},
     {"trend_measure": "margin"}, {"observation_end": "yesterday-ish"},
     {"observation_end": 20240101}, {"at": "yesterday-ish"}, {"at": 20240101},
     {"at": AT, "observation_end": AT}, {"new_window": float("nan")}],
)
def test_bad_params(designed: CRMData, params: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterError):
        LifecycleModel(**params).fit(designed)


def test_not_fitted(designed: CRMData) -> None:
    with pytest.raises(NotFittedError):
        LifecycleModel().score(designed)
    with pytest.raises(NotFittedError):
        LifecycleModel().transitions(designed, "2024-06-30", AT)


# ---------------------------------------------------------------------- deprecated names
def test_score_keeps_the_deprecated_stage_column_last(designed: CRMData) -> None:
    scores = LifecycleModel().fit(designed).score(designed)
    assert scores.columns[0] == "lifecycle_stage"
    assert scores.columns[-1] == "stage"
    pd.testing.assert_series_equal(scores["stage"], scores["lifecycle_stage"],
                                   check_names=False)
    assert LifecycleModel().fit(designed).stage_counts_.index.name == "lifecycle_stage"


def test_at_still_works_with_a_future_warning(designed: CRMData) -> None:
    expected = LifecycleModel(observation_end="2024-12-20").fit(designed)
    model = LifecycleModel(at="2024-12-20")
    assert model.get_params()["at"] == "2024-12-20"  # the constructor only stores
    assert clone(model).get_params() == model.get_params()
    with pytest.warns(FutureWarning, match="at is deprecated.*use observation_end") as record:
        model.fit(designed)
    assert len(record) == 1
    assert record[0].filename == __file__
    with pytest.warns(FutureWarning, match="use observation_end") as record:
        scores = model.score(designed)
    assert record[0].filename == __file__
    pd.testing.assert_frame_equal(scores, expected.score(designed))
    assert model.observation_end_ == expected.observation_end_ == pd.Timestamp("2024-12-20")
    assert model.get_params()["at"] == "2024-12-20"


def test_at_through_set_params_warns_at_score(designed: CRMData) -> None:
    model = LifecycleModel().fit(designed)
    expected = model.set_params(observation_end="2024-11-15").score(designed)
    model.set_params(observation_end=None, at="2024-11-15")
    with pytest.warns(FutureWarning, match="use observation_end") as record:
        scores = model.score(designed)
    assert record[0].filename == __file__
    pd.testing.assert_frame_equal(scores, expected)


def test_at_and_observation_end_together_raise(designed: CRMData) -> None:
    with pytest.raises(InvalidParameterError, match="pass only observation_end"):
        LifecycleModel(at=AT, observation_end=AT).fit(designed)
    model = LifecycleModel().fit(designed).set_params(at=AT, observation_end=AT)
    with pytest.raises(InvalidParameterError, match="pass only observation_end"):
        model.score(designed)


def test_at_underscore_is_a_deprecated_alias(designed: CRMData) -> None:
    model = LifecycleModel().fit(designed)
    with pytest.warns(FutureWarning, match="use observation_end_") as record:
        value = model.at_
    assert record[0].filename == __file__
    assert value == model.observation_end_ == pd.Timestamp(AT)
    assert not hasattr(LifecycleModel(), "observation_end_")


def test_files_and_pickles_from_before_the_rename_load(designed: CRMData,
                                                       tmp_path: Path) -> None:
    model = LifecycleModel().fit(designed)
    expected = model.score(designed)
    path = tmp_path / "new.zip"
    model.save(path)
    # The same file as the earlier release wrote it: parameter at, state at_.
    old = tmp_path / "old.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            raw = src.read(item.filename)
            if item.filename == "manifest.json":
                manifest = json.loads(raw)
                manifest["params"]["items"].pop("observation_end")
                state = manifest["state"]["items"]
                manifest["state"]["items"] = {("at_" if k == "observation_end_" else k): v
                                              for k, v in state.items()}
                raw = json.dumps(manifest).encode()
            dst.writestr(item, raw)
    loaded = LifecycleModel.load(old)
    assert loaded.observation_end_ == model.observation_end_
    pd.testing.assert_frame_equal(loaded.score(designed), expected)
    # A pickle of the earlier release holds at_ in the instance dict.
    model.__dict__["at_"] = model.__dict__.pop("observation_end_")
    unpickled = pickle.loads(pickle.dumps(model))
    assert "at_" not in vars(unpickled)
    assert unpickled.observation_end_ == pd.Timestamp(AT)
    pd.testing.assert_frame_equal(unpickled.score(designed), expected)
