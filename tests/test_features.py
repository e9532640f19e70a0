"""customer_summary and calibration_holdout against lifetimes and brute force."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels import CRMData
from crmmodels.errors import DataValidationError, InvalidParameterError
from crmmodels.features import calibration_holdout, customer_summary, validate_summary
from tests.strategies import START, transactions_frames

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes.utils import summary_data_from_transaction_data


def _lifetimes(tx: pd.DataFrame, freq: str, end: Any, multiplier: float = 1) -> pd.DataFrame:
    out = summary_data_from_transaction_data(
        tx, "customer_id", "timestamp", monetary_value_col="amount", freq=freq,
        observation_period_end=end, freq_multiplier=multiplier,
    )
    out.index = pd.Index(out.index.astype(str), name="customer_id")
    return out.sort_index()


def _assert_matches(ours: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert ours.index.tolist() == ref.index.tolist()
    for col in ("frequency", "recency", "T"):
        np.testing.assert_array_equal(ours[col].to_numpy(), ref[col].to_numpy(), err_msg=col)
    np.testing.assert_allclose(ours["monetary_value"].to_numpy(),
                               ref["monetary_value"].to_numpy(), rtol=1e-12, atol=0)


@pytest.mark.reference
@pytest.mark.parametrize(("freq", "multiplier"), [("D", 1), ("W", 1), ("h", 24), ("D", 7)])
def test_cdnow_sample_equals_lifetimes(cdnow_sample: CRMData, freq: str, multiplier: int) -> None:
    tx = cdnow_sample.transactions
    assert tx is not None
    ref = _lifetimes(tx, freq, "1998-06-30", multiplier)
    ours = customer_summary(cdnow_sample, freq=freq, freq_multiplier=multiplier)
    assert len(ours) == 2357
    _assert_matches(ours, ref)


@pytest.mark.reference
def test_cdnow_sample_with_earlier_end_equals_lifetimes(cdnow_sample: CRMData) -> None:
    tx = cdnow_sample.transactions
    assert tx is not None
    ref = _lifetimes(tx, "W", "1997-09-30")
    ours = customer_summary(cdnow_sample, freq="W", observation_end="1997-09-30")
    _assert_matches(ours, ref)


@pytest.mark.reference
def test_cdnow_weekly_matches_published_summary(cdnow_sample: CRMData) -> None:
    """The 39-week calibration summary reproduces lifetimes' published file to 0.01 weeks."""
    from crmmodels.datasets import dataset_path
    from tests.samples import lifetimes_file

    path = dataset_path("cdnow_sample")
    published = pd.read_csv(lifetimes_file("cdnow_customers_summary.csv"))
    # The published file is ordered by the sample's own customer number (column 2).
    raw = pd.read_csv(path, sep=r"\s+", header=None, dtype={0: str})
    order = raw.drop_duplicates(0).set_index(1)[0]
    ours = calibration_holdout(cdnow_sample, "1997-09-30", "1998-06-30", freq="D",
                               freq_multiplier=7).loc[order.loc[published["ID"]].to_numpy()]
    assert len(ours) == len(published) == 2357
    np.testing.assert_array_equal(ours["frequency"].to_numpy(), published["frequency"].to_numpy())
    np.testing.assert_allclose(ours["recency"].to_numpy(), published["recency"], atol=0.006)
    np.testing.assert_allclose(ours["T"].to_numpy(), published["T"], atol=0.006)


def _period(ts: pd.Timestamp, freq: str) -> pd.Period:
    return ts.to_period(freq)


def _brute_calibration_holdout(
    tx: pd.DataFrame, cal_end: pd.Timestamp, obs_end: pd.Timestamp, freq: str,
    multiplier: float = 1,
) -> pd.DataFrame:
    """Per-customer loop with pandas Periods, independent of the vectorised code."""
    rows = {}
    cal_p = _period(cal_end, freq)
    for cid, g in tx.groupby("customer_id"):
        cal = g[g["timestamp"] <= cal_end]
        if cal.empty:
            continue
        per: dict[pd.Period, float] = {}
        for ts, amt in zip(cal["timestamp"], cal["amount"], strict=True):
            p = _period(ts, freq)
            per[p] = per.get(p, 0.0) + amt
        ps = sorted(per)
        first, last = ps[0], ps[-1]
        repeat = [per[p] for p in ps[1:]]
        hold = g[(g["timestamp"] > cal_end) & (g["timestamp"] <= obs_end)]
        hper: dict[pd.Period, float] = {}
        for ts, amt in zip(hold["timestamp"], hold["amount"], strict=True):
            p = _period(ts, freq)
            hper[p] = hper.get(p, 0.0) + amt
        rows[cid] = {
            "frequency": float(len(ps) - 1),
            "recency": float((last - first).n) / multiplier,
            "T": float((cal_p - first).n) / multiplier,
            "monetary_value": float(np.mean(repeat)) if repeat else 0.0,
            "frequency_holdout": float(len(hper)),
            "monetary_value_holdout": float(np.mean(list(hper.values()))) if hper else 0.0,
            "duration_holdout": float((_period(obs_end, freq) - cal_p).n) / multiplier,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index = pd.Index(out.index.astype(str), name="customer_id")
    return out.sort_index()


@pytest.mark.parametrize("freq", ["D", "W", "M"])
def test_calibration_holdout_equals_brute_force_on_cdnow(cdnow_sample: CRMData, freq: str) -> None:
    tx = cdnow_sample.transactions
    assert tx is not None
    cal_end, obs_end = pd.Timestamp("1997-09-30"), pd.Timestamp("1998-06-30")
    ours = calibration_holdout(cdnow_sample, cal_end, obs_end, freq=freq)
    ref = _brute_calibration_holdout(tx, cal_end, obs_end, freq)
    pd.testing.assert_frame_equal(ours, ref[ours.columns], check_exact=False, rtol=1e-12)


@given(frame=transactions_frames(min_rows=2), cut=st.integers(60, 399 * 24 * 60),
       freq=st.sampled_from(["D", "W", "M", "h"]), multiplier=st.sampled_from([1, 7, 24, 2.5]),
       seed=st.integers(0, 2**32 - 1))
def test_calibration_holdout_equals_brute_force(
    frame: pd.DataFrame, cut: int, freq: str, multiplier: float, seed: int
) -> None:
    cal_end = START + pd.Timedelta(minutes=cut)  # arbitrary minutes, not just midnight
    obs_end = START + pd.Timedelta(days=401)
    if not (frame["timestamp"] <= cal_end).any():
        with pytest.raises(DataValidationError):
            calibration_holdout(frame, cal_end, obs_end, freq=freq)
        return
    data = CRMData(transactions=frame, observation_end=obs_end)
    ours = calibration_holdout(data, cal_end, obs_end, freq=freq, freq_multiplier=multiplier)
    ref = _brute_calibration_holdout(frame, cal_end, obs_end, freq, multiplier)
    pd.testing.assert_frame_equal(ours, ref[ours.columns], check_exact=False, rtol=1e-9)
    # Invariants of the calibration part.
    assert (ours["recency"] >= 0).all()
    assert (ours["recency"] <= ours["T"]).all()
    assert (ours.loc[ours["frequency"] == 0, "recency"] == 0).all()
    assert (ours["frequency_holdout"] >= 0).all()
    # Row order and column names do not matter.
    perm = np.random.default_rng(seed).permutation(len(frame))
    renamed = frame.iloc[perm].rename(columns={"customer_id": "cid", "timestamp": "when",
                                               "amount": "spend"})
    mapped = CRMData.from_frames(renamed, columns={"customer_id": "cid", "timestamp": "when",
                                                   "amount": "spend"}, observation_end=obs_end)
    pd.testing.assert_frame_equal(
        calibration_holdout(mapped, cal_end, obs_end, freq=freq, freq_multiplier=multiplier),
        ours, check_exact=False, rtol=1e-12)


@given(frame=transactions_frames(min_rows=2), zone=st.sampled_from(
    ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]), cut=st.integers(1, 399))
def test_timezone_aware_data_keep_the_invariants(frame: pd.DataFrame, zone: str,
                                                  cut: int) -> None:
    aware = frame.assign(timestamp=frame["timestamp"].dt.tz_localize(zone,
                                                                     nonexistent="shift_forward",
                                                                     ambiguous="NaT"))
    aware = aware[aware["timestamp"].notna()]
    if aware.empty:
        return
    end_utc = pd.Timestamp("2021-02-06", tz="UTC")  # any zone: converted to the data's
    data = CRMData(transactions=aware, observation_end=end_utc)
    s = customer_summary(data, freq="D")
    assert (s["recency"] <= s["T"]).all()
    cal_end = pd.Timestamp(START + pd.Timedelta(days=cut)).tz_localize("UTC")
    if (aware["timestamp"] <= cal_end).any():
        split = calibration_holdout(data, cal_end, freq="W")
        assert (split["recency"] <= split["T"]).all()
        assert (split["T"] >= 0).all()


@given(frame=transactions_frames(), freq=st.sampled_from(["D", "W", "M", "h"]),
       seed=st.integers(0, 2**32 - 1))
def test_summary_properties(frame: pd.DataFrame, freq: str, seed: int) -> None:
    end = START + pd.Timedelta(days=401)
    data = CRMData(transactions=frame, observation_end=end)
    s = customer_summary(data, freq=freq)
    assert (s["recency"] >= 0).all()
    assert (s["recency"] <= s["T"]).all()
    assert (s.loc[s["frequency"] == 0, "recency"] == 0).all()
    assert (s.loc[s["frequency"] == 0, "monetary_value"] == 0).all()
    assert set(s.index) == set(frame["customer_id"])
    # Row order does not matter.
    perm = np.random.default_rng(seed).permutation(len(frame))
    shuffled = customer_summary(CRMData(transactions=frame.iloc[perm], observation_end=end),
                                freq=freq)
    pd.testing.assert_frame_equal(s, shuffled, check_exact=False, rtol=1e-12)
    # Column names given through from_frames give the same result.
    renamed = frame.rename(columns={"customer_id": "cid", "timestamp": "when", "amount": "spend"})
    mapped = CRMData.from_frames(renamed, columns={"customer_id": "cid", "timestamp": "when",
                                                   "amount": "spend"}, observation_end=end)
    pd.testing.assert_frame_equal(s, customer_summary(mapped, freq=freq))


@given(frame=transactions_frames(min_rows=1, max_rows=30))
def test_summary_equals_lifetimes_on_random_frames(frame: pd.DataFrame) -> None:
    end = START + pd.Timedelta(days=401)
    ours = customer_summary(CRMData(transactions=frame, observation_end=end), freq="D")
    _assert_matches(ours, _lifetimes(frame, "D", end))


def test_summary_of_dataframe_input_and_truncation(tx: pd.DataFrame) -> None:
    s = customer_summary(tx, freq="D")
    assert s.loc["c"].tolist() == [1.0, 30.0, 30.0, 30.0]  # two purchases on day 1 merged
    cut = customer_summary(tx, freq="D", observation_end="2024-01-10")
    assert cut.loc["a", "frequency"] == 0.0
    assert cut.loc["c", "T"] == 8.0
    with pytest.raises(DataValidationError):
        customer_summary(tx, observation_end="2023-01-01")


def test_month_unit_counts_calendar_months() -> None:
    frame = pd.DataFrame({"customer_id": ["a", "a", "a"],
                          "timestamp": pd.to_datetime(["2024-01-31", "2024-02-01", "2024-04-15"]),
                          "amount": [1.0, 2.0, 3.0]})
    s = customer_summary(frame, freq="M", observation_end="2024-06-01")
    assert s.loc["a"].tolist() == [2.0, 3.0, 5.0, 2.5]


def test_timezone_aware_uses_wall_clock(tx: pd.DataFrame) -> None:
    aware = tx.assign(timestamp=tx["timestamp"].dt.tz_localize("America/New_York"))
    pd.testing.assert_frame_equal(customer_summary(aware), customer_summary(tx))


def test_bad_arguments(tx: pd.DataFrame) -> None:
    with pytest.raises(InvalidParameterError):
        customer_summary(tx, freq="fortnight")
    with pytest.raises(InvalidParameterError):
        customer_summary(tx, freq_multiplier=0)
    with pytest.raises(InvalidParameterError):
        calibration_holdout(tx, "2024-03-01", "2024-02-01")
    with pytest.raises(DataValidationError):
        customer_summary(CRMData(customers=pd.DataFrame({"customer_id": ["a"]})))
    with pytest.raises(DataValidationError):
        customer_summary("not a frame")  # type: ignore[arg-type]


def test_validate_summary_rules() -> None:
    good = pd.DataFrame({"customer_id": ["a", "b"], "frequency": [2, 0], "recency": [5.0, 0.0],
                         "T": [9.0, 3.0], "monetary_value": [10.0, 0.0]})
    out = validate_summary(good)
    assert out.index.name == "customer_id"
    assert out.index.tolist() == ["a", "b"]
    cases = {
        "recency_le_T": good.assign(recency=[10.0, 0.0]),
        "recency_zero_without_repeat": good.assign(recency=[5.0, 1.0]),
        "integer": good.assign(frequency=[1.5, 0]),
        "non_negative": good.assign(T=[9.0, -1.0]),
        "finite": good.assign(T=[np.nan, 3.0]),
        "numeric": good.assign(T=["9", "3"]),
        "unique": good.assign(customer_id=["a", "a"]),
    }
    for rule, bad in cases.items():
        with pytest.raises(DataValidationError) as info:
            validate_summary(bad)
        assert info.value.rule == rule
    with pytest.raises(DataValidationError) as info:
        validate_summary(good.assign(monetary_value=[-1.0, 0.0]))
    assert (info.value.column, info.value.rule) == ("monetary_value", "non_negative")
    with pytest.raises(DataValidationError) as info:
        validate_summary(good.drop(columns="T"))
    assert info.value.rule == "required_column"
