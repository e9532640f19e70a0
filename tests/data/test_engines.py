"""CRMData from polars, pyarrow and DuckDB: the same validation and numbers as pandas.

The pandas path is the reference: every frame is given once as pandas and once in the
other library, and the per-customer aggregate, the summary, the calibration/holdout
split, the RFM scores and the validation report are compared. Counts are compared
exactly; sums of amounts to 1e-9 (the libraries add in different orders).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData
from crmmodels.data import calibration_holdout, customer_aggregates, customer_summary
from crmmodels.errors import DataQualityWarning, DataValidationError, MissingColumnError
from crmmodels.segments import RFMModel

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")
duckdb = pytest.importorskip("duckdb")


def _polars(df: pd.DataFrame) -> Any:
    return pl.from_pandas(df)


def _lazy(df: pd.DataFrame) -> Any:
    return pl.from_pandas(df).lazy()


def _arrow(df: pd.DataFrame) -> Any:
    return pa.Table.from_pandas(df, preserve_index=False)


def _duckdb(df: pd.DataFrame) -> Any:
    table = pa.Table.from_pandas(df, preserve_index=False)
    return duckdb.from_arrow(table)


ENGINES: dict[str, Callable[[pd.DataFrame], Any]] = {
    "polars": _polars, "polars-lazy": _lazy, "pyarrow": _arrow, "duckdb": _duckdb}
KEPT_IN = {"polars": "polars", "polars-lazy": "polars", "pyarrow": "pyarrow",
           "duckdb": "polars"}


def assert_same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Equal frames: integers, text and dates exactly, floats to 1e-9.

    Sums of amounts with returns cancel, which magnifies the rounding of a different
    order of addition: floats are compared to 1e-9 relative or 1e-9 absolute.
    """
    assert list(left.columns) == list(right.columns)
    pd.testing.assert_index_equal(left.index, right.index)
    for column in left.columns:
        a, b = left[column], right[column]
        assert a.dtype == b.dtype, column
        if pd.api.types.is_float_dtype(a.dtype):
            np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=1e-9, atol=1e-9,
                                       err_msg=column)
        else:
            pd.testing.assert_series_equal(a, b, check_exact=True)


@pytest.fixture(scope="module")
def cdnow_tx() -> pd.DataFrame:
    from crmmodels.datasets import load_cdnow

    tx = load_cdnow().transactions
    assert tx is not None
    return tx.reset_index(drop=True)


@pytest.fixture(scope="module")
def retail_tx() -> pd.DataFrame:
    from crmmodels.datasets import load_online_retail

    tx = load_online_retail(clean=False).transactions
    assert tx is not None
    return tx.reset_index(drop=True)


@pytest.mark.parametrize("engine", list(ENGINES))
def test_cdnow_same_numbers(cdnow_tx: pd.DataFrame, engine: str) -> None:
    ref = CRMData(transactions=cdnow_tx)
    data = CRMData(transactions=ENGINES[engine](cdnow_tx))
    assert data.engine("transactions") == KEPT_IN[engine]
    for freq in ("D", "W", "M", "h"):
        assert_same(customer_aggregates(ref, freq=freq), customer_aggregates(data, freq=freq))
    assert_same(customer_aggregates(ref, end="1997-06-30", freq="W"),
                customer_aggregates(data, end="1997-06-30", freq="W"))
    assert_same(customer_summary(ref, freq="W"), customer_summary(data, freq="W"))
    assert_same(calibration_holdout(ref, "1997-09-30", freq="W"),
                calibration_holdout(data, "1997-09-30", freq="W"))
    assert_same(RFMModel().fit(ref).score(ref), RFMModel().fit(data).score(data))
    assert data.n_customers == ref.n_customers
    assert data.observation_end == ref.observation_end


@pytest.mark.parametrize("engine", ["polars", "pyarrow"])
def test_online_retail_with_returns(retail_tx: pd.DataFrame, engine: str) -> None:
    """Returns, text ids, invoice numbers as transaction ids: the same numbers."""
    assert (retail_tx["amount"] < 0).any()
    assert "transaction_id" in retail_tx.columns
    ref = CRMData(transactions=retail_tx, allow_returns=True)
    data = CRMData(transactions=ENGINES[engine](retail_tx), allow_returns=True)
    for freq in ("D", "W"):
        assert_same(customer_aggregates(ref, freq=freq), customer_aggregates(data, freq=freq))
    assert_same(customer_aggregates(ref, end="2011-06-30 12:00", freq="D"),
                customer_aggregates(data, end="2011-06-30 12:00", freq="D"))
    with pytest.warns(DataQualityWarning, match="no purchase left") as ref_warned:
        ref_split = calibration_holdout(ref, "2011-09-30", freq="D")
    with pytest.warns(DataQualityWarning, match="no purchase left") as warned:
        split = calibration_holdout(data, "2011-09-30", freq="D")
    assert str(warned[0].message) == str(ref_warned[0].message)
    assert_same(ref_split, split)
    assert_same(RFMModel().fit(ref).score(ref), RFMModel().fit(data).score(data))
    assert_same(ref.report.to_frame(), data.report.to_frame())


def test_brute_force_periods() -> None:
    """Period numbers before 1970, weeks on Monday, returns netting: against a loop."""
    rng = np.random.default_rng(3)
    n = 400
    stamps = pd.Timestamp("1969-11-20") + pd.to_timedelta(rng.integers(0, 90 * 24, n), "h")
    tx = pd.DataFrame({"customer_id": rng.choice(list("abcdefg"), n),
                       "timestamp": stamps,
                       "amount": np.round(rng.normal(10, 12, n), 2)})
    data = CRMData(transactions=pl.from_pandas(tx), allow_returns=True)
    agg = customer_aggregates(data, freq="W")
    for cid, rows in tx.groupby("customer_id"):
        monday = (rows["timestamp"] - pd.to_timedelta(rows["timestamp"].dt.day_of_week, "D")
                  ).dt.normalize()
        net = rows["amount"].groupby(monday).sum()
        pos = rows["amount"].clip(lower=0).groupby(monday).sum()
        neg = rows["amount"].clip(upper=0).groupby(monday).sum()
        bought = net[(neg == 0) | (net > 1e-9 * pos)]
        week = (bought.index - pd.Timestamp("1969-12-29")).days // 7  # a Monday: week 0
        got = agg.loc[str(cid)]
        assert got["n_periods"] == len(bought)
        if len(bought):
            assert got["first_period"] == week.min()
            assert got["last_period"] == week.max()
            assert got["repeat_amount"] == pytest.approx(bought.iloc[1:].sum(), abs=1e-9)
        assert got["total_amount"] == pytest.approx(rows["amount"].sum(), abs=1e-9)


def test_purchases_count_ids_and_rows_without_one() -> None:
    tx = pd.DataFrame({"customer_id": [1, 1, 1, 1, 2],
                       "timestamp": pd.to_datetime(["2024-01-01"] * 4 + ["2024-01-02"]),
                       "amount": [1.0, 2.0, 3.0, 4.0, 5.0],
                       "transaction_id": ["t1", "t1", None, None, "t2"]})
    agg = customer_aggregates(CRMData(transactions=pl.from_pandas(tx)), freq=None)
    assert agg["n_purchases"].tolist() == [3, 1]  # t1 once, each row without an id
    assert agg.index.tolist() == ["1", "2"]


def test_integer_ids_sort_as_text() -> None:
    tx = pd.DataFrame({"customer_id": [10, 9, 2, 10],
                       "timestamp": pd.to_datetime(["2024-01-01"] * 4),
                       "amount": 1.0})
    data = CRMData(transactions=pl.from_pandas(tx))
    assert customer_aggregates(data, freq="D").index.tolist() == ["10", "2", "9"]
    codes, ids = data.customer_codes()
    assert ids.tolist() == ["10", "2", "9"]
    assert codes.tolist() == [0, 2, 1, 0]
    assert data.transactions is not None
    assert data.transactions["customer_id"].tolist() == ["10", "9", "2", "10"]


def test_timezone_aware() -> None:
    stamps = pd.to_datetime(["2024-03-30 23:30", "2024-03-31 01:30", "2024-04-02 12:00"]
                            ).tz_localize("Europe/Paris")
    tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "timestamp": stamps,
                       "amount": [1.0, 2.0, 3.0]})
    ref, data = CRMData(transactions=tx), CRMData(transactions=pl.from_pandas(tx))
    assert data.timezone is not None
    assert str(data.timezone) == str(ref.timezone)
    assert data.observation_end == ref.observation_end
    for freq in ("D", "h"):
        assert_same(customer_aggregates(ref, freq=freq, end="2024-03-31 00:45"),
                    customer_aggregates(data, freq=freq, end="2024-03-31 00:45"))


# ---------------------------------------------------------------------- validation
def _both(frame: pd.DataFrame, **kwargs: Any) -> tuple[Any, Any]:
    """Validate ``frame`` as pandas and as polars; the errors or the data of each."""
    out = []
    for given in (frame, pl.from_pandas(frame)):
        try:
            out.append(CRMData(transactions=given, **kwargs))
        except DataValidationError as exc:
            out.append(exc)
    return out[0], out[1]


BROKEN = {
    "negative": lambda tx: tx.assign(amount=[10.0, -1.0, 5.0, 7.5, 2.5, -3.0]),
    "missing_id": lambda tx: tx.assign(customer_id=["a", None, "b", "c", "c", "c"]),
    "blank_id": lambda tx: tx.assign(customer_id=["a", "  ", "b", "c", "c", "c"]),
    "missing_amount": lambda tx: tx.assign(amount=[10.0, np.nan, 5.0, 7.5, 2.5, 30.0]),
    "infinite": lambda tx: tx.assign(amount=[10.0, np.inf, 5.0, 7.5, 2.5, 30.0]),
    "future": lambda tx: tx.assign(timestamp=tx["timestamp"].where(
        tx.index != 2, pd.Timestamp("2200-01-01"))),
    "text_amount": lambda tx: tx.assign(amount=["10", "x", "5", "7.5", "2.5", "30"]),
    "ambiguous_dates": lambda tx: tx.assign(timestamp=["01/02/2024", "03/04/2024",
                                                       "05/06/2024", "07/08/2024",
                                                       "09/10/2024", "11/12/2024"]),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_errors_as_in_pandas(tx: pd.DataFrame, case: str) -> None:
    ref, got = _both(BROKEN[case](tx))
    assert isinstance(ref, DataValidationError)
    assert isinstance(got, DataValidationError)
    assert (got.frame, got.column, got.rule, got.rows, got.n_rows) == (
        ref.frame, ref.column, ref.rule, ref.rows, ref.n_rows)
    if case != "future":  # (which names the moment of the check)
        assert str(got) == str(ref)


@pytest.mark.parametrize("case", [c for c in BROKEN if c != "ambiguous_dates"])
def test_dropped_rows_as_in_pandas(tx: pd.DataFrame, case: str) -> None:
    ref, got = _both(BROKEN[case](tx), on_invalid="drop")
    assert isinstance(ref, CRMData)
    assert isinstance(got, CRMData)
    columns = ["frame", "column", "rule", "action", "count", "rows"]
    assert_same(ref.report.to_frame()[columns], got.report.to_frame()[columns])
    assert ref.transactions is not None
    assert got.transactions is not None
    pd.testing.assert_frame_equal(ref.transactions.reset_index(drop=True), got.transactions)


def test_text_dates_and_padded_ids(tx: pd.DataFrame) -> None:
    raw = tx.assign(customer_id=[" a", "a", "b ", "c", "c", "c"],
                    timestamp=["13/01/2024 10:00", "15/01/2024 12:00", "03/01/2024 09:00",
                               "02/01/2024 08:00", "02/01/2024 18:00", "01/02/2024 11:00"])
    ref, got = _both(raw)
    assert isinstance(ref, CRMData)
    assert isinstance(got, CRMData)
    assert_same(ref.report.to_frame(), got.report.to_frame())
    assert got.engine("transactions") == "polars"
    assert_same(customer_aggregates(ref), customer_aggregates(got))


def test_duplicates_counted_and_dropped(tx: pd.DataFrame) -> None:
    doubled = pd.concat([tx, tx.iloc[[1, 4]], tx.iloc[[1]]], ignore_index=True)
    for how in ("keep", "drop"):
        ref, got = _both(doubled, on_duplicate=how)
        assert isinstance(ref, CRMData)
        assert isinstance(got, CRMData)
        assert_same(ref.report.to_frame(), got.report.to_frame())
        assert got.n_rows("transactions") == (9 if how == "keep" else 6)
    ref, got = _both(doubled, on_duplicate="raise")
    assert isinstance(got, DataValidationError)
    assert isinstance(ref, DataValidationError)
    assert (got.rule, got.rows, got.n_rows) == (ref.rule, ref.rows, ref.n_rows) == (
        "duplicate_rows", [6, 7, 8], 3)


def test_customers_and_interactions(tx: pd.DataFrame) -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b", "z"],
                              "signup_date": pd.to_datetime(["2023-01-01"] * 3)})
    inter = pd.DataFrame({"customer_id": ["a", "c", "q"], "channel": [" Email", "sms", "web"],
                          "kind": ["campaign_sent", "response", "visit"],
                          "timestamp": pd.to_datetime(["2024-01-05"] * 3)})
    for how in ("keep", "drop"):
        ref = CRMData(tx, customers, inter, on_unknown=how)
        got = CRMData(pl.from_pandas(tx), pl.from_pandas(customers), pl.from_pandas(inter),
                      on_unknown=how)
        assert_same(ref.report.to_frame(), got.report.to_frame())
        assert got.customer_ids.tolist() == ref.customer_ids.tolist()
        assert got.interactions is not None
        assert ref.interactions is not None
        assert got.interactions["channel"].tolist() == ref.interactions["channel"].tolist()
    with pytest.raises(DataValidationError, match="customer ids on more than one row") as info:
        CRMData(customers=pl.from_pandas(pd.concat([customers, customers.iloc[[0]]])))
    assert info.value.rows == [3]
    with pytest.raises(DataValidationError, match="outside") as info:
        CRMData(interactions=pl.from_pandas(inter.assign(channel=["email", "emial", "sms"])))
    assert "'emial' -> 'email'?" in str(info.value)


def test_missing_column_and_not_a_frame(tx: pd.DataFrame) -> None:
    with pytest.raises(MissingColumnError, match="amount"):
        CRMData(transactions=pl.from_pandas(tx.drop(columns="amount")))
    with pytest.raises(DataValidationError, match="pandas, polars, pyarrow or DuckDB"):
        CRMData(transactions=[1, 2, 3])
    with pytest.raises(DataValidationError, match="is empty"):
        CRMData(transactions=pl.from_pandas(tx.iloc[:0]))


def test_timezone_mix_refused(tx: pd.DataFrame) -> None:
    aware = pd.DataFrame({"customer_id": ["a"], "channel": ["email"], "kind": ["visit"],
                          "timestamp": pd.to_datetime(["2024-01-05"]).tz_localize("UTC")})
    with pytest.raises(DataValidationError, match="timezone-aware") as info:
        CRMData(transactions=pl.from_pandas(tx), interactions=pl.from_pandas(aware))
    assert info.value.rule == "single_timezone"


def test_pandas_copy_made_once_and_logged(tx: pd.DataFrame,
                                          caplog: pytest.LogCaptureFixture) -> None:
    data = CRMData(transactions=pl.from_pandas(tx))
    with caplog.at_level(logging.INFO, logger="crmmodels"):
        customer_summary(data)
        RFMModel().fit(data).score(data)
    assert not [r for r in caplog.records if "to pandas" in r.getMessage()]
    with caplog.at_level(logging.INFO, logger="crmmodels"):
        first = data.transactions
        second = data.transactions
    assert first is second
    assert len([r for r in caplog.records if "to pandas" in r.getMessage()]) == 1
    assert isinstance(data.to_native("transactions"), pl.DataFrame)


def test_models_on_the_pandas_copy(cdnow_tx: pd.DataFrame) -> None:
    """A model that reads the pandas copy gives the pandas numbers."""
    from crmmodels.cltv import BetaGeoModel

    ref = BetaGeoModel().fit(CRMData(transactions=cdnow_tx))
    got = BetaGeoModel().fit(CRMData(transactions=pl.from_pandas(cdnow_tx)))
    for name, value in ref.params_.items():
        assert got.params_[name] == pytest.approx(value, rel=1e-6)


def test_from_frames_renames_lazy_frames(tx: pd.DataFrame) -> None:
    raw = tx.rename(columns={"customer_id": "CustomerID", "amount": "Spend"})
    columns = {"customer_id": "CustomerID", "amount": "Spend"}
    ref = CRMData.from_frames(raw, columns=columns)
    for engine in ("polars-lazy", "duckdb", "pyarrow"):
        data = CRMData.from_frames(ENGINES[engine](raw), columns=columns)
        assert data.engine("transactions") == KEPT_IN[engine]
        assert_same(customer_aggregates(ref), customer_aggregates(data))


# ---------------------------------------------------------------------- lazy queries
def _collected(lazy: Any) -> pd.DataFrame:
    """Return a lazy per-customer result as pandas, indexed by id in code-point order."""
    import narwhals as nw

    frame = nw.from_native(lazy).lazy().collect(backend="pandas").to_native()
    frame.index = pd.Index(frame.pop("customer_id").astype("str"), name="customer_id")
    return frame.loc[sorted(frame.index)]


@pytest.mark.parametrize("engine", ["polars-lazy", "duckdb"])
def test_lazy_queries_equal_the_pandas_path(cdnow_tx: pd.DataFrame, engine: str) -> None:
    """lazy_summary and lazy_aggregates, run by polars or DuckDB, give pandas' numbers."""
    from crmmodels.data import lazy_aggregates, lazy_summary

    ref = CRMData(transactions=cdnow_tx)
    frame = ENGINES[engine](cdnow_tx)
    for freq, end in (("W", None), ("D", "1997-09-30"), ("M", "1998-03-15 12:00")):
        expected = customer_summary(ref, freq=freq, observation_end=end)
        got = _collected(lazy_summary(frame, freq=freq, observation_end=end))
        assert_same(expected.astype("float64"), got.astype("float64"))
    expected = customer_aggregates(ref, end="1997-06-30", freq="W")
    got = _collected(lazy_aggregates(frame, end="1997-06-30", freq="W"))
    assert_same(expected, got[expected.columns].astype(expected.dtypes.to_dict()))


@pytest.mark.parametrize("case", [c for c in BROKEN if c not in (
    "future", "text_amount", "ambiguous_dates")])
def test_check_rows_as_in_pandas(tx: pd.DataFrame, case: str) -> None:
    from crmmodels.data import ValidationReport, check_rows

    broken = BROKEN[case](tx)
    with pytest.raises(DataValidationError) as ref:
        CRMData(transactions=broken)
    with pytest.raises(DataValidationError) as got:
        check_rows(pl.from_pandas(broken))
    assert (got.value.column, got.value.rule, got.value.n_rows) == (
        ref.value.column, ref.value.rule, ref.value.n_rows)
    report = ValidationReport()
    kept = check_rows(pl.from_pandas(broken).lazy(), on_invalid="drop", report=report)
    dropped = CRMData(transactions=broken, on_invalid="drop")
    assert dropped.transactions is not None
    assert kept.collect().height == len(dropped.transactions)
    columns = ["column", "rule", "count"]
    pd.testing.assert_frame_equal(report.to_frame()[columns].reset_index(drop=True),
                                  dropped.report.to_frame()[columns].reset_index(drop=True))


def test_output_polars(cdnow_tx: pd.DataFrame) -> None:
    """output="polars": the pandas result, customer_id a column, values unchanged."""
    from crmmodels.errors import InvalidParameterError

    data = CRMData(transactions=pl.from_pandas(cdnow_tx))
    for name, call in (("summary", lambda out: customer_summary(data, freq="W", output=out)),
                       ("holdout", lambda out: calibration_holdout(
                           data, "1997-09-30", freq="W", output=out))):
        expected = call("pandas")
        got = call("polars")
        assert isinstance(got, pl.DataFrame), name
        assert got.columns == ["customer_id", *expected.columns]
        assert got["customer_id"].to_list() == expected.index.tolist()
        for column in expected.columns:
            assert got[column].to_list() == expected[column].tolist(), (name, column)
    with pytest.raises(InvalidParameterError, match="output must be 'pandas' or 'polars'"):
        customer_summary(data, output="arrow")
