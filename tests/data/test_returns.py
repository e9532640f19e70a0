"""Returns net within their period; cancellations leave with the orders they cancel."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmmodels.data import CRMData, customer_aggregates, customer_summary, match_cancellations
from crmmodels.datasets import dataset_path, load_online_retail
from crmmodels.errors import DataValidationError, InvalidParameterError

# --------------------------------------------------------------------------- netting


def _log_with_returns(seed: int) -> pd.DataFrame:
    """Purchases, returns in the same day, fully returned days, and return-only customers."""
    rng = np.random.default_rng(seed)
    n = 500
    customer = rng.integers(0, 40, n)
    day = rng.integers(0, 60, n)
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(day * 86_400
                                                          + rng.integers(0, 86_400, n), unit="s")
    amount = np.round(rng.lognormal(2.5, 0.8, n), 2)
    frame = pd.DataFrame({"customer_id": [f"c{c:02d}" for c in customer],
                          "timestamp": stamps, "amount": amount})
    # A return of a purchase later the same day (full), or of part of it, or a
    # return alone (its purchase before the data).
    picked = frame.sample(frac=0.3, random_state=seed)
    returns = picked.assign(
        timestamp=picked["timestamp"].dt.floor("D") + pd.Timedelta("23:59:00"),
        amount=-np.where(rng.random(len(picked)) < 0.6, picked["amount"],
                         np.round(picked["amount"] / 2, 2)))
    alone = pd.DataFrame({"customer_id": ["r1", "r2"],
                          "timestamp": pd.to_datetime(["2024-01-05", "2024-02-01"]),
                          "amount": [-15.0, -4.5]})
    return pd.concat([frame, returns, alone], ignore_index=True)


def _brute_periods(tx: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Compute the period columns one customer and one period at a time (plain Python)."""
    pandas_freq = "W-SUN" if freq == "W" else freq
    rows: dict[str, dict[str, Any]] = {}
    for customer, own in tx.groupby("customer_id"):
        net: dict[pd.Period, float] = {}
        has_return: dict[pd.Period, bool] = {}
        for stamp, amount in zip(own["timestamp"], own["amount"], strict=True):
            period = pd.Period(stamp, freq=pandas_freq)
            net[period] = net.get(period, 0.0) + float(amount)
            has_return[period] = has_return.get(period, False) or amount < 0
        bought = sorted(p for p in net if not has_return[p] or net[p] > 1e-9)
        every = sorted(net)
        ends = bought if bought else every
        rows[str(customer)] = {
            "first_period": ends[0].start_time,
            "last_period": ends[-1].start_time,
            "n_periods": len(bought),
            "repeat_amount": sum(net[p] for p in bought[1:]),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index = pd.Index(out.index, name="customer_id", dtype="str")
    return out


def _period_start(number: pd.Series, freq: str) -> pd.Series:
    values = number.to_numpy(dtype=np.int64)
    if freq == "W":
        starts = (7 * values - 3).astype("datetime64[D]")  # weeks start on Monday
    else:
        starts = values.astype(f"datetime64[{freq}]")
    return pd.Series(starts.astype("datetime64[us]"), index=number.index)


@pytest.mark.parametrize("freq", ["D", "W", "M"])
@pytest.mark.parametrize("seed", [0, 1])
def test_returns_net_within_their_period_as_a_brute_force_loop(freq: str, seed: int) -> None:
    tx = _log_with_returns(seed)
    data = CRMData(transactions=tx, allow_returns=True)
    got = customer_aggregates(data, freq=freq)
    want = _brute_periods(tx, freq)
    pd.testing.assert_index_equal(got.index, want.index)
    for col in ("first_period", "last_period"):
        pd.testing.assert_series_equal(_period_start(got[col], freq), want[col],
                                       check_names=False, check_dtype=False)
    np.testing.assert_array_equal(got["n_periods"].to_numpy(), want["n_periods"].to_numpy())
    np.testing.assert_allclose(got["repeat_amount"].to_numpy(),
                               want["repeat_amount"].to_numpy(), rtol=1e-12, atol=1e-9)
    # The synthetic log exercises each case.
    assert (want["n_periods"] == 0).sum() >= 2  # return-only customers
    assert (got["n_periods"] < pd.Series(tx["timestamp"].dt.to_period(
        "W-SUN" if freq == "W" else freq)).groupby(tx["customer_id"]).nunique()
        .reindex(got.index).to_numpy()).any()  # some periods fully returned


def test_a_returned_repeat_purchase_is_no_repeat_purchase() -> None:
    tx = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "b"],
        "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-10 09:00",
                                     "2024-01-10 18:00", "2024-01-01 10:00",
                                     "2024-01-10 10:00"]),
        "amount": [20.0, 50.0, -50.0, 20.0, 30.0],
    })
    summary = customer_summary(CRMData(transactions=tx, allow_returns=True), freq="D",
                               observation_end="2024-01-31")
    assert summary.loc["a", "frequency"] == 0  # the repeat was fully returned
    assert summary.loc["a", "monetary_value"] == 0
    assert summary.loc["b", "frequency"] == 1
    assert summary.loc["b", "monetary_value"] == 30.0
    agg = customer_aggregates(CRMData(transactions=tx.iloc[[0, 1, 2]].assign(
        amount=[20.0, 50.0, -20.0]), allow_returns=True))
    assert agg.loc["a", "n_periods"] == 2  # partly returned: still a purchase
    assert agg.loc["a", "repeat_amount"] == 30.0


def test_without_returns_zero_amount_purchases_still_count() -> None:
    tx = pd.DataFrame({"customer_id": ["a", "a"],
                       "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05"]),
                       "amount": [10.0, 0.0]})
    agg = customer_aggregates(CRMData(transactions=tx))
    assert agg.loc["a", "n_periods"] == 2


# ---------------------------------------------------------------- cancellations


def _brute_match(tx: pd.DataFrame, prefix: str = "C") -> tuple[list[tuple[Any, Any]], list[Any]]:
    """Match cancellations with a stack per (customer, product, quantity), in time order."""
    events = []
    for pos, (tid, qty, amount, stamp) in enumerate(zip(
            tx["transaction_id"], tx["quantity"], tx["amount"], tx["timestamp"],
            strict=True)):
        flagged = isinstance(tid, str) and tid.startswith(prefix)
        if flagged and (qty < 0 or amount < 0):
            events.append((stamp, 1, pos))
        elif not flagged and qty > 0 and amount > 0:
            events.append((stamp, 0, pos))
    events.sort()
    stacks: dict[tuple[Any, Any, float], list[int]] = {}
    pairs: list[tuple[Any, Any]] = []
    unmatched: list[Any] = []
    customer, product, qty = (tx["customer_id"].tolist(), tx["product_id"].tolist(),
                              tx["quantity"].tolist())
    labels = tx.index
    for _, kind, pos in events:
        key = (customer[pos], product[pos], abs(qty[pos]))
        if kind == 0:
            stacks.setdefault(key, []).append(pos)
        elif stacks.get(key):
            pairs.append((labels[pos], labels[stacks[key].pop()]))
        else:
            unmatched.append(labels[pos])
    return sorted(pairs), sorted(unmatched)


def _shop_log(seed: int, tz: str | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 2000
    qty = rng.integers(1, 4, n).astype(float)
    cancel = rng.random(n) < 0.35
    qty[cancel] *= -1
    # Whole hours: many orders and cancellations share a timestamp.
    stamps = pd.Timestamp("2011-01-01") + pd.to_timedelta(rng.integers(0, 24 * 40, n),
                                                          unit="h")
    frame = pd.DataFrame({
        "customer_id": rng.integers(0, 15, n).astype(str),
        "timestamp": stamps if tz is None else stamps.tz_localize(tz),
        "transaction_id": np.char.add(np.where(cancel, "C", ""),
                                      rng.integers(1000, 9999, n).astype(str)),
        "product_id": rng.integers(0, 4, n).astype(str),
        "quantity": qty,
        "amount": qty * 2.5,
        "note": "x",
    }, index=pd.Index(rng.permutation(n) + 10_000, name="row"))
    frame.loc[frame.index[:5], "transaction_id"] = None  # no id: an order
    return frame


@pytest.mark.parametrize(("seed", "tz"), [(0, None), (1, "Europe/London"), (2, None)])
def test_match_cancellations_as_a_brute_force_loop(seed: int, tz: str | None) -> None:
    tx = _shop_log(seed, tz)
    before = tx.copy()
    result = match_cancellations(tx)
    pd.testing.assert_frame_equal(tx, before)  # the caller's frame is untouched
    pairs, unmatched = _brute_match(tx)
    assert sorted(zip(result.pairs["cancellation"], result.pairs["order"],
                      strict=True)) == pairs
    assert sorted(result.unmatched) == unmatched
    assert result.n_matched == len(pairs) > 100
    assert result.n_unmatched == len(unmatched) > 10
    gone = {label for pair in pairs for label in pair}
    assert result.n_rows_removed == len(gone) == 2 * len(pairs)
    assert sorted(result.transactions.index) == sorted(set(tx.index) - gone)
    assert result.transactions.columns.tolist() == tx.columns.tolist()
    assert result.amount_removed == pytest.approx(tx.loc[[o for _, o in pairs], "amount"].sum())
    dropped = match_cancellations(tx, on_unmatched="drop")
    assert sorted(dropped.transactions.index) == sorted(set(tx.index) - gone
                                                        - set(unmatched))
    assert dropped.n_rows_removed == 2 * len(pairs) + len(unmatched)


def test_a_cancellation_matches_the_latest_open_order_at_or_before_it() -> None:
    tx = pd.DataFrame({
        "customer_id": ["a"] * 5,
        "timestamp": pd.to_datetime(["2011-01-01", "2011-01-02", "2011-01-03",
                                     "2011-01-03", "2011-01-04"]),
        "transaction_id": ["1", "2", "C3", "4", "C5"],
        "product_id": ["p"] * 5,
        "quantity": [2.0, 2.0, -2.0, 2.0, -2.0],
        "amount": [5.0, 5.0, -5.0, 5.0, -5.0],
    })
    pairs = match_cancellations(tx).pairs
    # C3 takes order 4 (same time, orders first), C5 then order 2.
    assert list(zip(pairs["cancellation"], pairs["order"], strict=True)) == [(2, 3), (4, 1)]


def test_match_cancellations_refuses_bad_input() -> None:
    tx = _shop_log(0)
    with pytest.raises(DataValidationError, match="product_id"):
        match_cancellations(tx.drop(columns="product_id"))
    with pytest.raises(DataValidationError, match="timestamp must hold dates"):
        match_cancellations(tx.assign(timestamp=tx["timestamp"].astype(str)))
    with pytest.raises(InvalidParameterError, match="cancel_prefix"):
        match_cancellations(tx, cancel_prefix="")
    with pytest.raises(InvalidParameterError, match="on_unmatched"):
        match_cancellations(tx, on_unmatched="raise")  # type: ignore[arg-type]


# ------------------------------------------------------------- Online Retail file


@pytest.fixture(scope="module")
def raw_retail() -> pd.DataFrame:
    raw = pd.read_csv(dataset_path("online_retail"),
                      dtype={"InvoiceNo": str, "StockCode": str, "Country": str})
    return pd.DataFrame({
        "customer_id": raw["CustomerID"],
        "timestamp": pd.to_datetime(raw["InvoiceDate"], format="%Y-%m-%d %H:%M:%S"),
        "transaction_id": raw["InvoiceNo"],
        "product_id": raw["StockCode"],
        "quantity": raw["Quantity"],
        "amount": raw["Quantity"] * raw["UnitPrice"],
    })


@pytest.fixture(scope="module")
def retail() -> CRMData:
    return load_online_retail()


def test_match_cancellations_on_online_retail_as_a_brute_force_loop(
        raw_retail: pd.DataFrame) -> None:
    rng = np.random.default_rng(7)
    with_cancellations = raw_retail.loc[raw_retail["transaction_id"].str.startswith("C"),
                                        "customer_id"].dropna().unique()
    chosen = set(rng.choice(with_cancellations, 150, replace=False)) | {12346.0, 16446.0}
    sample = raw_retail.loc[raw_retail["customer_id"].isin(chosen)]
    result = match_cancellations(sample)
    pairs, unmatched = _brute_match(sample)
    assert sorted(zip(result.pairs["cancellation"], result.pairs["order"],
                      strict=True)) == pairs
    assert sorted(result.unmatched) == unmatched
    assert len(pairs) > 100
    assert len(unmatched) > 100
    assert (61624, 61619) in pairs  # customer 12346: 74,215 units bought and cancelled
    assert (540422, 540421) in pairs  # customer 16446: 80,995 units


def test_load_online_retail_removes_cancelled_orders(retail: CRMData) -> None:
    tx = retail.transactions
    assert tx is not None
    assert "12346" not in set(retail.customer_ids)  # its one order was cancelled
    own = tx.loc[tx["customer_id"] == "16446"]
    assert len(own) == 2
    assert own["quantity"].max() < 100  # the 80,995 units are gone
    assert not tx["transaction_id"].str.startswith("C").any()
    assert (tx["amount"] > 0).all()
    assert retail.customers is not None
    assert set(retail.customers["customer_id"]) == set(tx["customer_id"])


def test_load_online_retail_reports_the_cancellations(retail: CRMData,
                                                      raw_retail: pd.DataFrame) -> None:
    report = retail.report
    matched = report.count(rule="cancelled_order", action="dropped")
    unmatched = report.count(rule="unmatched_cancellation", action="dropped")
    assert matched > 0
    assert matched % 2 == 0
    assert "cancellations matched to their orders" in str(report)
    assert report.rows_in["transactions"] - matched - unmatched \
        == report.rows_out["transactions"]
    # Every cancellation of the cleaned rows is accounted for.
    kept = raw_retail.loc[raw_retail["customer_id"].notna()
                          & (raw_retail["amount"] != 0)]
    assert matched // 2 + unmatched == int(kept["transaction_id"].str.startswith("C").sum())


def test_summary_leaves_out_customers_without_a_purchase_left() -> None:
    import warnings as _warnings

    from crmmodels import CRMData
    from crmmodels.data import calibration_holdout, customer_summary
    from crmmodels.errors import DataQualityWarning

    tx = pd.DataFrame({
        "customer_id": ["a", "a", "b", "b", "c"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-02",
                                     "2024-01-02", "2024-01-20"]),
        "amount": [10.0, 20.0, 15.0, -15.0, 5.0],  # b's only purchase is returned
    })
    data = CRMData(transactions=tx, allow_returns=True)
    with pytest.warns(DataQualityWarning, match="1 customers have no purchase left"):
        summary = customer_summary(data, freq="D", observation_end="2024-01-31")
    assert summary.index.tolist() == ["a", "c"]
    assert (summary["frequency"] >= 0).all()
    with pytest.warns(DataQualityWarning, match="no purchase left"):
        split = calibration_holdout(data, "2024-01-10", "2024-01-31", freq="D")
    assert split.index.tolist() == ["a"]
    with _warnings.catch_warnings():
        _warnings.simplefilter("error")
        assert customer_summary(CRMData(transactions=tx.iloc[[0, 1, 4]]),
                                freq="D").index.tolist() == ["a", "c"]
