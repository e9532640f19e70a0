"""CRMData validation: every bad input gets a clear error or a counted handling."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData
from crmmodels.errors import (
    DataValidationError,
    InvalidParameterError,
    MissingColumnError,
)
from crmmodels.schemas import Customer, Interaction, Transaction


def _raises(frame: pd.DataFrame | None = None, **kwargs: object) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        CRMData(transactions=frame, **kwargs)  # type: ignore[arg-type]
    return info.value


def test_valid_frame_round_trip(tx: pd.DataFrame) -> None:
    data = CRMData(transactions=tx)
    assert data.n_customers == 3
    assert data.observation_end == tx["timestamp"].max()
    assert data.report.n_dropped == 0
    assert data.report.rows_in == {"transactions": 6}
    pd.testing.assert_series_equal(data.transactions["amount"], tx["amount"])


def test_missing_column_suggests_closest_name(tx: pd.DataFrame) -> None:
    bad = tx.rename(columns={"customer_id": "CustomerID"})
    with pytest.raises(MissingColumnError) as info:
        CRMData(transactions=bad)
    err = info.value
    assert (err.frame, err.column, err.rule) == ("transactions", "customer_id", "required_column")
    assert err.suggestion == "CustomerID"
    assert "Did you mean 'CustomerID'" in str(err)
    assert isinstance(err, ValueError)


@pytest.mark.parametrize("bad_id", [None, np.nan, "", "   "])
def test_nan_or_empty_customer_ids(tx: pd.DataFrame, bad_id: object) -> None:
    bad = tx.copy()
    bad["customer_id"] = bad["customer_id"].astype(object)
    bad.loc[[1, 4], "customer_id"] = bad_id
    err = _raises(bad)
    assert (err.frame, err.column) == ("transactions", "customer_id")
    assert err.rule in ("not_null", "non_empty")
    assert err.rows == [1, 4]
    assert err.n_rows == 2


def test_error_lists_at_most_five_row_labels(tx: pd.DataFrame) -> None:
    big = pd.concat([tx] * 5, ignore_index=True)
    big.index = [f"r{i}" for i in range(len(big))]
    big["amount"] = -1.0
    err = _raises(big)
    assert err.rule == "non_negative"
    assert err.rows == ["r0", "r1", "r2", "r3", "r4"]
    assert err.n_rows == 30
    assert "showing 5 of 30" in str(err)


def test_unparseable_timestamps(tx: pd.DataFrame) -> None:
    bad = tx.copy()
    bad["timestamp"] = ["2024-01-01", "not a date", "2024-01-03", "2024-13-45", "2024-01-05",
                        "2024-01-06"]
    err = _raises(bad)
    assert (err.column, err.rule) == ("timestamp", "parseable")
    assert err.rows == [1, 3]


def test_text_timestamps_are_parsed_and_counted(tx: pd.DataFrame) -> None:
    text = tx.copy()
    text["timestamp"] = tx["timestamp"].dt.strftime("%Y-%m-%d %H:%M")
    data = CRMData(transactions=text)
    pd.testing.assert_series_equal(
        data.transactions["timestamp"].astype("datetime64[ns]"),
        tx["timestamp"].astype("datetime64[ns]"),
    )
    assert data.report.count(column="timestamp", action="coerced") == 6


def test_integer_dates_need_a_format(tx: pd.DataFrame) -> None:
    ints = tx.copy()
    ints["timestamp"] = tx["timestamp"].dt.strftime("%Y%m%d").astype(int)
    err = _raises(ints)
    assert (err.column, err.rule) == ("timestamp", "type")
    assert "datetime_format" in str(err)
    data = CRMData(transactions=ints, datetime_format="%Y%m%d")
    assert data.transactions["timestamp"].iloc[0] == pd.Timestamp("2024-01-01")


def test_timezone_mixed_timestamps(tx: pd.DataFrame) -> None:
    bad = tx.copy()
    bad["timestamp"] = [
        "2024-01-01T10:00+01:00", "2024-01-15T12:00+01:00", "2024-01-03T09:00+05:00",
        "2024-01-02T08:00+01:00", "2024-01-02T18:00+01:00", "2024-02-01T11:00",
    ]
    err = _raises(bad)
    assert (err.column, err.rule) == ("timestamp", "single_timezone")
    assert err.rows == [5]  # the one naive value among timezone-aware ones
    assert "utc=True" in str(err)


def test_several_utc_offsets_become_utc_and_are_counted(tx: pd.DataFrame) -> None:
    """Offsets that differ (e.g. across daylight saving) name exact instants: kept, in UTC."""
    offsets = tx.copy()
    offsets["timestamp"] = ["2024-03-30T10:00+01:00", "2024-04-02T12:00+02:00",
                            "2024-01-03T09:00+01:00", "2024-01-02T08:00+01:00",
                            "2024-01-02T18:00+01:00", "2024-04-01T11:00+02:00"]
    data = CRMData(transactions=offsets)
    ts = data.transactions["timestamp"]
    assert str(ts.dt.tz) == "UTC"
    assert ts.iloc[1] == pd.Timestamp("2024-04-02T10:00Z")
    assert data.report.count(column="timestamp", rule="to_utc", action="coerced") == 6


def test_timezone_mixed_datetime_objects(tx: pd.DataFrame) -> None:
    bad = tx.copy()
    stamps: list[object] = [t.to_pydatetime() for t in tx["timestamp"]]
    stamps[3] = stamps[3].replace(tzinfo=dt.UTC)
    bad["timestamp"] = pd.Series(stamps, dtype=object)
    err = _raises(bad)
    assert err.rule == "single_timezone"
    assert err.rows == [3]


def test_one_timezone_is_fine_and_compared_in_its_zone(tx: pd.DataFrame) -> None:
    aware = tx.copy()
    aware["timestamp"] = tx["timestamp"].dt.tz_localize("Europe/Paris")
    data = CRMData(transactions=aware, observation_end="2024-02-01 11:00")
    assert str(data.transactions["timestamp"].dt.tz) == "Europe/Paris"
    with pytest.raises(DataValidationError) as info:
        CRMData(transactions=aware, observation_end="2024-02-01 10:59")
    assert info.value.rule == "not_after_observation_end"


def test_negative_amounts_need_allow_returns(tx: pd.DataFrame) -> None:
    bad = tx.copy()
    bad.loc[2, "amount"] = -5.0
    err = _raises(bad)
    assert (err.column, err.rule, err.rows) == ("amount", "non_negative", [2])
    assert "allow_returns=True" in str(err)
    data = CRMData(transactions=bad, allow_returns=True)
    assert data.transactions.loc[2, "amount"] == -5.0


@pytest.mark.parametrize("value", ["twelve", "1,5€", True])
def test_non_numeric_amounts(tx: pd.DataFrame, value: object) -> None:
    bad = tx.copy()
    bad["amount"] = bad["amount"].astype(object)
    bad.loc[3, "amount"] = value
    err = _raises(bad)
    assert (err.column, err.rule) == ("amount", "numeric")
    if not isinstance(value, bool):
        assert err.rows == [3]


def test_numeric_text_amounts_are_coerced_and_counted(tx: pd.DataFrame) -> None:
    text = tx.copy()
    text["amount"] = tx["amount"].astype(str)
    data = CRMData(transactions=text)
    np.testing.assert_array_equal(data.transactions["amount"].to_numpy(), tx["amount"].to_numpy())
    assert data.report.count(column="amount", rule="parsed_number") == 6


def test_nan_and_infinite_amounts(tx: pd.DataFrame) -> None:
    bad = tx.copy()
    bad.loc[0, "amount"] = np.nan
    assert _raises(bad).rule == "not_null"
    bad.loc[0, "amount"] = np.inf
    assert _raises(bad).rule == "finite"


@pytest.mark.parametrize(("on_duplicate", "rows_out"), [("keep", 8), ("drop", 6)])
def test_exact_duplicates_are_counted(tx: pd.DataFrame, on_duplicate: str, rows_out: int) -> None:
    dup = pd.concat([tx, tx.iloc[[1, 4]]], ignore_index=True)
    data = CRMData(transactions=dup, on_duplicate=on_duplicate)  # type: ignore[arg-type]
    action = "kept" if on_duplicate == "keep" else "dropped"
    assert data.report.count(rule="duplicate_rows", action=action) == 2
    assert len(data.transactions) == rows_out
    entry = next(e for e in data.report.entries if e.rule == "duplicate_rows")
    assert entry.rows == (6, 7)


def test_duplicates_can_raise(tx: pd.DataFrame) -> None:
    dup = pd.concat([tx, tx.iloc[[1]]], ignore_index=True)
    err = _raises(dup, on_duplicate="raise")
    assert (err.rule, err.rows) == ("duplicate_rows", [6])


def test_empty_frame(tx: pd.DataFrame) -> None:
    err = _raises(tx.iloc[:0])
    assert (err.frame, err.rule) == ("transactions", "non_empty")
    with pytest.raises(DataValidationError, match="at least one frame"):
        CRMData()


def test_not_a_frame() -> None:
    with pytest.raises(DataValidationError) as info:
        CRMData(transactions=[{"customer_id": "a"}])  # type: ignore[arg-type]
    assert info.value.rule == "type"


def test_single_customer_is_valid_data(tx: pd.DataFrame) -> None:
    one = tx[tx["customer_id"] == "c"]
    data = CRMData(transactions=one)
    assert data.n_customers == 1


def test_unknown_customer_ids_are_counted(tx: pd.DataFrame) -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b", "z"], "region": ["n", "s", "e"]})
    interactions = pd.DataFrame({
        "customer_id": ["a", "q", "q"],
        "timestamp": pd.to_datetime(["2024-01-05", "2024-01-06", "2024-01-07"]),
        "channel": ["email", "Phone", "sms"],
        "kind": ["campaign_sent", "complaint", "response"],
    })
    data = CRMData(transactions=tx, customers=customers, interactions=interactions)
    rep = data.report
    assert rep.count(frame="transactions", rule="known_customer", action="kept") == 3
    assert rep.count(frame="interactions", rule="known_customer", action="kept") == 2
    assert rep.count(frame="customers", rule="has_transactions", action="info") == 1
    assert data.interactions["channel"].tolist() == ["email", "phone", "sms"]
    dropped = CRMData(transactions=tx, customers=customers, interactions=interactions,
                      on_unknown="drop")
    assert len(dropped.transactions) == 3
    assert len(dropped.interactions) == 1
    assert dropped.report.count(rule="known_customer", action="dropped") == 5
    codes, ids = dropped.customer_codes()
    assert ids[codes].tolist() == dropped.transactions["customer_id"].tolist()
    with pytest.raises(DataValidationError) as info:
        CRMData(transactions=tx, customers=customers, on_unknown="raise")
    assert (info.value.rule, info.value.rows) == ("known_customer", [3, 4, 5])


def test_interactions_without_customers_frame_are_counted(tx: pd.DataFrame) -> None:
    inter = pd.DataFrame({"customer_id": ["a", "new"], "timestamp": ["2024-01-05", "2024-01-06"],
                          "channel": ["web", "web"], "kind": ["visit", "visit"]})
    data = CRMData(transactions=tx, interactions=inter)
    assert data.report.count(frame="interactions", rule="known_customer", action="info") == 1
    assert data.n_customers == 4


def test_timestamps_after_observation_end(tx: pd.DataFrame) -> None:
    err = _raises(tx, observation_end="2024-01-20")
    assert (err.column, err.rule, err.rows) == ("timestamp", "not_after_observation_end", [5])


def test_future_timestamps_without_observation_end(tx: pd.DataFrame) -> None:
    fut = tx.copy()
    fut.loc[0, "timestamp"] = pd.Timestamp.now() + pd.Timedelta(days=3)
    err = _raises(fut)
    assert (err.rule, err.rows) == ("not_after_observation_end", [0])
    assert "future" in str(err)


def test_on_invalid_drop_counts_every_rule(tx: pd.DataFrame) -> None:
    bad = tx.copy()
    bad["customer_id"] = bad["customer_id"].astype(object)
    bad["amount"] = bad["amount"].astype(object)
    bad.loc[0, "customer_id"] = None
    bad.loc[1, "amount"] = "n/a"
    bad.loc[2, "amount"] = -1.0
    data = CRMData(transactions=bad, on_invalid="drop")
    rep = data.report
    assert rep.count(rule="not_null", action="dropped") == 1
    assert rep.count(rule="numeric", action="dropped") == 1
    assert rep.count(rule="non_negative", action="dropped") == 1
    assert rep.n_dropped == 3
    assert data.transactions.index.tolist() == [3, 4, 5]
    assert rep.rows_out["transactions"] == 3
    frame = rep.to_frame()
    assert set(frame["rule"]) >= {"not_null", "numeric", "non_negative"}
    assert "dropped" in str(rep)


def test_drop_everything_is_an_error(tx: pd.DataFrame) -> None:
    bad = tx.assign(amount=-1.0)
    err = _raises(bad, on_invalid="drop")
    assert err.rule == "non_empty"


def test_caller_frames_are_never_mutated(tx: pd.DataFrame) -> None:
    raw = tx.copy()
    raw["customer_id"] = [1, 1, 2, 3, 3, 3]
    raw["amount"] = raw["amount"].astype(str)
    raw["timestamp"] = raw["timestamp"].dt.strftime("%Y-%m-%d %H:%M")
    raw["is_fraud"] = ["yes", "no", "no", "no", "Y", "0"]
    keep = raw.copy(deep=True)
    data = CRMData(transactions=raw, on_duplicate="drop")
    data.transactions.loc[0, "amount"] = 999.0
    pd.testing.assert_frame_equal(raw, keep)
    assert data.transactions["is_fraud"].tolist() == [True, False, False, False, True, False]


def test_integer_and_float_ids_become_the_same_text() -> None:
    frame = pd.DataFrame({"customer_id": [17850.0, 17850.0, 12.0],
                          "timestamp": ["2024-01-01", "2024-01-02", "2024-01-02"],
                          "amount": [1.0, 2.0, 3.0]})
    data = CRMData(transactions=frame)
    assert data.transactions["customer_id"].tolist() == ["17850", "17850", "12"]
    assert data.report.count(column="customer_id", rule="as_text") == 3
    mixed = frame.assign(customer_id=pd.Series([1, "1", 2], dtype=object))
    assert CRMData(transactions=mixed).n_customers == 2


def test_enum_values_are_checked(tx: pd.DataFrame) -> None:
    bad = tx.assign(channel=["web", "web", "online", "store", "store", "emial"])
    err = _raises(bad)
    assert (err.column, err.rule, err.rows) == ("channel", "allowed_values", [2, 5])
    assert "'emial' -> 'email'?" in str(err)


def test_customers_frame_rules() -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b", "b"], "churned": ["Yes", "No", "No"]})
    with pytest.raises(DataValidationError) as info:
        CRMData(customers=customers)
    assert (info.value.frame, info.value.rule, info.value.rows) == ("customers", "unique", [2])
    ok = pd.DataFrame({"churned": ["Yes", "No", "maybe"]},
                      index=pd.Index(["a", "b", "c"], name="customer_id"))
    with pytest.raises(DataValidationError) as info:
        CRMData(customers=ok)
    assert (info.value.column, info.value.rule, info.value.rows) == ("churned", "boolean", ["c"])
    data = CRMData(customers=ok.iloc[:2])
    assert data.customers["churned"].tolist() == [True, False]
    assert data.customers["customer_id"].tolist() == ["a", "b"]


def test_interaction_kinds_required() -> None:
    inter = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2024-01-01"], "channel": ["email"],
                          "kind": [None]})
    with pytest.raises(DataValidationError) as info:
        CRMData(interactions=inter)
    assert (info.value.column, info.value.rule) == ("kind", "not_null")


def test_mixed_timezone_conventions_across_frames(tx: pd.DataFrame) -> None:
    inter = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2024-01-01T00:00Z"],
                          "channel": ["web"], "kind": ["visit"]})
    with pytest.raises(DataValidationError) as info:
        CRMData(transactions=tx, interactions=inter)
    assert info.value.rule == "single_timezone"


def test_bad_options(tx: pd.DataFrame) -> None:
    with pytest.raises(InvalidParameterError):
        CRMData(transactions=tx, on_invalid="ignore")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError):
        CRMData(transactions=tx, observation_end="yesterday-ish")


def test_from_frames_maps_names(tx: pd.DataFrame) -> None:
    raw = tx.rename(columns={"customer_id": "CustomerID", "timestamp": "When", "amount": "Spend"})
    data = CRMData.from_frames(raw, columns={"customer_id": "CustomerID", "timestamp": "When",
                                             "amount": "Spend"})
    assert list(data.transactions.columns) == ["customer_id", "timestamp", "amount"]
    assert list(raw.columns) == ["CustomerID", "When", "Spend"]
    per_frame = CRMData.from_frames(
        raw, columns={"transactions": {"customer_id": "CustomerID", "timestamp": "When",
                                       "amount": "Spend"}})
    pd.testing.assert_frame_equal(per_frame.transactions, data.transactions)
    with pytest.raises(InvalidParameterError):
        CRMData.from_frames(raw, columns={"transactions": {"custmer": "CustomerID"}})


def test_from_records_validates_each_record() -> None:
    data = CRMData.from_records(
        transactions=[Transaction(customer_id="a", timestamp=dt.datetime(2024, 1, 1), amount=5),
                      {"customer_id": 7, "timestamp": "2024-01-02", "amount": "2.5",
                       "store": "north"}],
        customers=[Customer(customer_id="a"), {"customer_id": "7", "churned": True}],
        interactions=[Interaction(customer_id="a", timestamp="2024-01-01", channel="sms",
                                  kind="campaign_sent")],
    )
    assert data.transactions["customer_id"].tolist() == ["a", "7"]
    assert data.transactions["store"].tolist()[1] == "north"
    with pytest.raises(DataValidationError) as info:
        CRMData.from_records([{"customer_id": "a", "timestamp": "2024-01-01", "amount": -1}])
    assert info.value.rows == [0]
    ok = CRMData.from_records([{"customer_id": "a", "timestamp": "2024-01-01", "amount": -1}],
                              allow_returns=True)
    assert ok.transactions["amount"].iloc[0] == -1


def test_require_names_missing_frame(tx: pd.DataFrame) -> None:
    data = CRMData(transactions=tx)
    with pytest.raises(DataValidationError) as info:
        data.require("customers")
    assert (info.value.frame, info.value.rule) == ("customers", "required_frame")


def test_repr_and_ids(tx: pd.DataFrame) -> None:
    data = CRMData(transactions=tx)
    assert "transactions=6 rows" in repr(data)
    assert data.customer_ids.tolist() == ["a", "b", "c"]


def test_drop_mixed_timezones_leaves_a_datetime_column() -> None:
    frame = pd.DataFrame({
        "customer_id": ["a", "a", "b"],
        "timestamp": ["2024-01-01T00:00+01:00", "2024-01-05T00:00",
                      "2024-01-03T00:00+01:00"],
        "amount": [5.0, 6.0, 7.0],
    })
    data = CRMData(transactions=frame, on_invalid="drop")
    assert data.report.count(rule="single_timezone", action="dropped") == 1
    ts = data.transactions["timestamp"]
    assert isinstance(ts.dtype, pd.DatetimeTZDtype)
    assert data.observation_end == pd.Timestamp("2024-01-03T00:00+01:00")
    from crmmodels import customer_summary

    assert customer_summary(data).loc["a", "frequency"] == 0.0


def test_fast_duplicate_detection_equals_pandas() -> None:
    from crmmodels.data._validation import _duplicated

    rng = np.random.default_rng(0)
    n = 80_000
    frame = pd.DataFrame({
        "customer_id": rng.integers(0, 500, n).astype(str),
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 50, n), "D"),
        "amount": rng.integers(0, 4, n) * 2.5,
        "product_id": rng.choice(["p1", "p2", "p3"], n),
        "quantity": rng.choice([1.0, np.nan, -0.0, 0.0], n),
    })
    codes, _ = pd.factorize(frame["customer_id"])
    expected = frame.duplicated(keep="first").to_numpy()
    assert 0 < expected.sum() < n
    np.testing.assert_array_equal(_duplicated(frame, "customer_id", codes), expected)
    data = CRMData(transactions=frame, on_duplicate="drop")
    assert data.report.count(rule="duplicate_rows", action="dropped") == int(expected.sum())


def test_float_ids_with_infinity() -> None:
    frame = pd.DataFrame({"customer_id": [1.0, 2.0, np.inf], "timestamp": ["2024-01-01"] * 3,
                          "amount": [1.0, 2.0, 3.0]})
    err = _raises(frame)
    assert (err.column, err.rule, err.rows) == ("customer_id", "finite", [2])
    data = CRMData(transactions=frame, on_invalid="drop")
    assert data.transactions["customer_id"].tolist() == ["1", "2"]


def test_customer_codes_are_sorted_ids() -> None:
    frame = pd.DataFrame({"customer_id": ["zed", "amy", "bob", "amy"],
                          "timestamp": ["2024-01-01"] * 4, "amount": [1.0, 2.0, 3.0, 4.0]})
    codes, ids = CRMData(transactions=frame).customer_codes()
    assert ids.tolist() == ["amy", "bob", "zed"]
    assert ids[codes].tolist() == frame["customer_id"].tolist()
    long_ids = ["b" * 100, "a" * 100 + "z", "a" * 100]
    frame = pd.DataFrame({"customer_id": long_ids, "timestamp": ["2024-01-01"] * 3,
                          "amount": [1.0, 2.0, 3.0]})
    assert CRMData(transactions=frame).customer_codes()[1].tolist() == sorted(long_ids)


def test_future_check_uses_the_data_timezone() -> None:
    soon = pd.Timestamp.now(tz="Pacific/Kiritimati").floor("min")  # UTC+14: wall clock ahead
    frame = pd.DataFrame({"customer_id": ["a"], "timestamp": [soon], "amount": [1.0]})
    assert CRMData(transactions=frame).observation_end == soon
    later = frame.assign(timestamp=[soon + pd.Timedelta(hours=2)])
    with pytest.raises(DataValidationError, match="future"):
        CRMData(transactions=later)


def test_reviewed_edge_cases() -> None:
    from crmmodels import customer_summary

    # A NaT does not switch off the observation_end check.
    tx = pd.DataFrame({"customer_id": ["a", "b", "c"],
                       "timestamp": pd.to_datetime(["2024-01-01", None, "2024-03-01"]),
                       "amount": [1.0, 2.0, 3.0]})
    data = CRMData(transactions=tx, observation_end="2024-01-31", on_invalid="drop")
    assert data.report.count(rule="not_after_observation_end", action="dropped") == 1
    assert data.transactions["customer_id"].tolist() == ["a"]
    # Missing amounts are dropped even when other amounts are not numbers.
    tx = pd.DataFrame({"customer_id": list("aabc"),
                       "timestamp": ["2024-01-01", "2024-01-05", "2024-01-03", "2024-01-04"],
                       "amount": ["1.0", "x", None, "4"]})
    data = CRMData(transactions=tx, on_invalid="drop")
    assert data.report.count(rule="not_null", column="amount") == 1
    assert data.report.count(rule="numeric", column="amount") == 1
    assert data.transactions["amount"].notna().all()
    # Dates before 1678 do not overflow (pandas 3); pandas 2, whose datetimes are
    # nanoseconds, cannot hold them and the error says so.
    old = pd.DataFrame({"customer_id": ["a", "a"], "timestamp": ["1600-01-01", "1600-01-11"],
                        "amount": [1.0, 2.0]})
    if int(pd.__version__.partition(".")[0]) >= 3:
        assert customer_summary(old).loc["a", "recency"] == 10.0
    else:
        with pytest.raises(DataValidationError, match="pandas 2 holds dates from 1677"):
            customer_summary(old)
    # Unhashable free attributes are kept and do not break duplicate detection.
    data = CRMData.from_records([{"customer_id": "a", "timestamp": "2024-01-01", "amount": 1,
                                  "tags": ["x", "y"]}] * 2)
    assert data.report.count(rule="duplicate_rows") == 1
    # A customers attribute called "timestamp" is just an attribute.
    CRMData(customers=pd.DataFrame({"customer_id": ["a"], "timestamp": ["2020-01-01"]}))
    # Ids are stripped; enum case is ignored and the coercion counted.
    tx = pd.DataFrame({"customer_id": ["a", " a", "a "], "timestamp": ["2024-01-01"] * 3,
                       "amount": [1.0, 2.0, 3.0], "channel": ["Web", " web", "EMAIL"]})
    data = CRMData(transactions=tx)
    assert data.n_customers == 1
    assert data.report.count(column="channel", rule="as_enum") == 3
    # Categorical float ids give the same text as float ids.
    cat = tx.assign(customer_id=pd.Categorical([1.0, 2.0, 1.0]))
    assert CRMData(transactions=cat).customer_ids.tolist() == ["1", "2"]
    # MultiIndex columns are refused with a clear error.
    multi = tx.copy()
    multi.columns = pd.MultiIndex.from_product([["x"], tx.columns])
    with pytest.raises(DataValidationError, match="MultiIndex"):
        CRMData(transactions=multi)


def test_observation_end_timezones(tx: pd.DataFrame) -> None:
    aware = tx.assign(timestamp=tx["timestamp"].dt.tz_localize("UTC"))
    ny = pd.Timestamp("2024-02-01 07:00", tz="America/New_York")
    data = CRMData(transactions=aware, observation_end=ny)
    assert str(data.observation_end.tz) == "UTC"
    assert data.observation_end == ny
    with pytest.raises(InvalidParameterError, match="timezone-aware"):
        CRMData(transactions=tx, observation_end=ny)
    from crmmodels import calibration_holdout, customer_summary

    s = customer_summary(data)
    assert (s["recency"] <= s["T"]).all()
    with pytest.raises(InvalidParameterError):
        calibration_holdout(tx, "not a date")


def test_from_frames_maps_index_names_and_only_schema_fields() -> None:
    customers = pd.DataFrame({"date": ["x"]}, index=pd.Index(["a"], name="CustomerID"))
    tx = pd.DataFrame({"CustomerID": ["a"], "date": ["2024-01-01"], "Spend": [1.0]})
    data = CRMData.from_frames(tx, customers,
                               columns={"customer_id": "CustomerID", "timestamp": "date",
                                        "amount": "Spend"})
    assert data.customers is not None
    assert data.customers["customer_id"].tolist() == ["a"]
    assert "date" in data.customers.columns
