"""The data path on Spark: the same validation and numbers as pandas.

Every frame is given once as pandas (the reference: ``CRMData`` and
:mod:`crmmodels.data`) and once as a Spark DataFrame in a real local session. Counts
are compared exactly, amounts to 1e-9 (Spark adds in another order).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData, ValidationReport
from crmmodels import spark as crm_spark
from crmmodels.data import customer_aggregates, customer_summary
from crmmodels.errors import DataQualityWarning, DataValidationError, MissingColumnError
from tests.spark.conftest import collect, to_spark

pytestmark = pytest.mark.spark


def assert_same(ref: pd.DataFrame, got: pd.DataFrame) -> None:
    """Equal per-customer frames: counts and dates exactly, floats to 1e-9."""
    assert list(got.columns) == list(ref.columns)
    assert got.index.tolist() == ref.index.tolist()
    for column in ref.columns:
        a, b = ref[column].to_numpy(), got[column].to_numpy()
        if np.issubdtype(a.dtype, np.floating):
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-9, err_msg=column)
        elif np.issubdtype(a.dtype, np.datetime64):
            np.testing.assert_array_equal(b.astype("datetime64[us]"),
                                          a.astype("datetime64[us]"), err_msg=column)
        else:
            np.testing.assert_array_equal(b.astype(np.int64), a.astype(np.int64),
                                          err_msg=column)


@pytest.fixture(scope="module")
def retail_tx() -> pd.DataFrame:
    from crmmodels.datasets import load_online_retail

    tx = load_online_retail(clean=False).transactions
    assert tx is not None
    return tx[["customer_id", "timestamp", "amount", "transaction_id"]].reset_index(drop=True)


def test_cdnow_summary(cdnow_tx: pd.DataFrame, cdnow_spark: Any) -> None:
    ref = CRMData(transactions=cdnow_tx)
    for freq in ("D", "W", "M", "h"):
        assert_same(customer_summary(ref, freq=freq),
                    collect(crm_spark.customer_summary(cdnow_spark, freq=freq)))
    assert_same(customer_summary(ref, freq="D", observation_end="1997-09-30",
                                 freq_multiplier=7),
                collect(crm_spark.customer_summary(cdnow_spark, freq="D",
                                                   observation_end="1997-09-30",
                                                   freq_multiplier=7)))


def test_cdnow_aggregates(cdnow_tx: pd.DataFrame, cdnow_spark: Any) -> None:
    ref = CRMData(transactions=cdnow_tx)
    for freq in (None, "W", "M"):
        assert_same(customer_aggregates(ref, freq=freq),
                    collect(crm_spark.customer_aggregates(cdnow_spark, freq=freq)))
    assert_same(customer_aggregates(ref, end="1997-06-30", freq="W"),
                collect(crm_spark.customer_aggregates(cdnow_spark, end="1997-06-30",
                                                      freq="W")))


def test_online_retail_with_returns(spark: Any, retail_tx: pd.DataFrame) -> None:
    """Returns netted per period, invoices as transaction ids, text ids: as pandas."""
    assert (retail_tx["amount"] < 0).any()
    ref = CRMData(transactions=retail_tx, allow_returns=True)
    frame = to_spark(spark, retail_tx).cache()
    for freq in ("D", "W"):
        assert_same(customer_aggregates(ref, freq=freq),
                    collect(crm_spark.customer_aggregates(frame, freq=freq,
                                                          allow_returns=True)))
    with pytest.warns(DataQualityWarning, match="no purchase left") as ref_warned:
        expected = customer_summary(ref, freq="W")
    with pytest.warns(DataQualityWarning, match="no purchase left") as warned:
        got = collect(crm_spark.customer_summary(frame, freq="W", allow_returns=True))
    n_gone = [int(str(w.message).split(": ")[1].split()[0])
              for record in (ref_warned, warned) for w in record
              if issubclass(w.category, DataQualityWarning)]
    assert n_gone[0] == n_gone[1] > 0
    assert_same(expected, got)
    with pytest.raises(DataValidationError, match="allow_returns=True") as raised:
        crm_spark.customer_summary(frame)
    assert raised.value.n_rows == int((retail_tx["amount"] < 0).sum())
    frame.unpersist()


def test_session_time_zone(spark: Any) -> None:
    """Wall-clock times of the session time zone, across daylight-saving changes."""
    rng = np.random.default_rng(3)
    stamps = (pd.Timestamp("2023-03-10") + pd.to_timedelta(
        rng.integers(0, 60 * 24 * 3600, 400), unit="s")).astype("datetime64[us]")
    stamps = stamps[~pd.DatetimeIndex(stamps).tz_localize(
        "America/New_York", nonexistent="NaT", ambiguous="NaT").isna()]
    tx = pd.DataFrame({"customer_id": rng.choice(list("abcdefgh"), len(stamps)),
                       "timestamp": stamps, "amount": rng.uniform(1, 50, len(stamps))})
    ref = CRMData(transactions=tx)
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        frame = to_spark(spark, tx)
        for freq in ("h", "D", "W"):
            assert_same(customer_summary(ref, freq=freq, observation_end="2023-05-05 13:00"),
                        collect(crm_spark.customer_summary(
                            frame, freq=freq, observation_end="2023-05-05 13:00")))
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")


BROKEN = {
    "negative": lambda tx: tx.assign(amount=[10.0, -1.0, 5.0, 7.5, 2.5, -3.0]),
    "missing_id": lambda tx: tx.assign(customer_id=["a", None, "b", "c", "c", "c"]),
    "blank_id": lambda tx: tx.assign(customer_id=["a", "  ", "b", "c", "c", "c"]),
    "missing_time": lambda tx: tx.assign(timestamp=tx["timestamp"].where(tx.index != 4)),
    "missing_amount": lambda tx: tx.assign(amount=[10.0, np.nan, 5.0, 7.5, 2.5, 30.0]),
    "infinite": lambda tx: tx.assign(amount=[10.0, np.inf, 5.0, 7.5, -np.inf, 30.0]),
    "several": lambda tx: tx.assign(customer_id=["a", None, "b", "c", "c", "c"],
                                    amount=[10.0, -1.0, np.nan, 7.5, 2.5, -3.0]),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_errors_as_in_pandas(spark: Any, tx: pd.DataFrame, case: str) -> None:
    broken = BROKEN[case](tx)
    with pytest.raises(DataValidationError) as ref:
        CRMData(transactions=broken)
    with pytest.raises(DataValidationError) as got:
        crm_spark.validate_transactions(to_spark(spark, broken))
    assert (got.value.frame, got.value.column, got.value.rule, got.value.n_rows) == (
        ref.value.frame, ref.value.column, ref.value.rule, ref.value.n_rows)
    # The same message; pandas names the rows, Spark (no row labels) counts them.
    assert str(got.value).split(" Offending rows: ")[0] == \
        str(ref.value).split(" Offending rows: ")[0]
    assert str(got.value).endswith(f" Offending rows: {ref.value.n_rows}.")


@pytest.mark.parametrize("case", list(BROKEN))
def test_drops_counted_as_in_pandas(spark: Any, tx: pd.DataFrame, case: str) -> None:
    broken = BROKEN[case](tx)
    ref = CRMData(transactions=broken, on_invalid="drop")
    report = ValidationReport()
    kept = crm_spark.validate_transactions(to_spark(spark, broken), on_invalid="drop",
                                           report=report)
    columns = ["frame", "column", "rule", "action", "count", "detail"]
    expected = ref.report.to_frame()[columns]
    expected = expected[expected["action"] == "dropped"].reset_index(drop=True)
    pd.testing.assert_frame_equal(report.to_frame()[columns].reset_index(drop=True), expected)
    assert ref.transactions is not None
    assert kept.count() == len(ref.transactions)


def test_types_refused_not_guessed(spark: Any, tx: pd.DataFrame) -> None:
    text_dates = tx.assign(timestamp=tx["timestamp"].dt.strftime("%d/%m/%Y"))
    with pytest.raises(DataValidationError, match="to_timestamp") as raised:
        crm_spark.validate_transactions(to_spark(spark, text_dates))
    assert (raised.value.column, raised.value.rule) == ("timestamp", "type")
    with pytest.raises(DataValidationError, match="customer_id must be text or integers"):
        crm_spark.validate_transactions(to_spark(spark, tx.assign(customer_id=1.5)))
    with pytest.raises(DataValidationError, match="amount must be numeric"):
        crm_spark.validate_transactions(to_spark(spark, tx.assign(amount="1")))
    with pytest.raises(MissingColumnError):
        crm_spark.validate_transactions(to_spark(spark, tx.drop(columns="amount")))
    with pytest.raises(DataValidationError, match="takes a Spark DataFrame"):
        crm_spark.customer_summary(tx)
    with pytest.raises(DataValidationError, match=r"crmmodels\.spark"):
        CRMData(transactions=to_spark(spark, tx))


def test_columns_dates_and_integer_ids(spark: Any, tx: pd.DataFrame) -> None:
    """Named columns mapped, date columns read as midnight, integer ids kept."""
    renamed = tx.rename(columns={"customer_id": "CustomerID", "amount": "Sales"})
    ids = {"a": 11, "b": 2, "c": 100}
    frame = to_spark(spark, renamed.assign(CustomerID=renamed["CustomerID"].map(ids)))
    frame = frame.withColumn("timestamp", frame["timestamp"].cast("date"))
    got = crm_spark.customer_summary(frame, freq="D",
                                     columns={"customer_id": "CustomerID", "amount": "Sales"})
    assert dict(got.dtypes)["customer_id"] == "bigint"
    midnight = tx.assign(timestamp=tx["timestamp"].dt.normalize(),
                            customer_id=tx["customer_id"].map(ids).astype("str"))
    assert_same(customer_summary(CRMData(transactions=midnight), freq="D"), collect(got))
