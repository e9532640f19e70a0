"""The one per-customer aggregate: brute force, point in time, computed once per data."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import crmmodels.data.aggregates as aggregates
from crmmodels.data import CRMData, customer_aggregates, customer_summary
from crmmodels.datasets import load_cdnow_sample
from crmmodels.errors import DataValidationError, InvalidParameterError
from crmmodels.propensity import churn_features, churn_labels
from crmmodels.segments import ABCModel, LifecycleModel, RFMModel, SegmentationModel

TOTALS = ["first_timestamp", "last_timestamp", "n_transactions", "n_purchases",
          "total_amount"]
PERIODS = ["first_period", "last_period", "n_periods", "repeat_amount"]
END = "2024-01-10 12:00"


def _transactions(seed: int, tz: str | None) -> pd.DataFrame:
    """Random rows over 2023 (both DST changes), some returns, ids, and missing ids."""
    rng = np.random.default_rng(seed)
    n = 600
    customer = rng.integers(0, 60, n)
    stamps = pd.Timestamp("2023-01-01") + pd.to_timedelta(
        rng.integers(0, 365 * 86_400, n), unit="s")
    if tz is not None:
        stamps = stamps.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    amount = np.round(rng.lognormal(3.0, 1.0, n), 2)
    returned = rng.random(n) < 0.1
    amount[returned] = -np.round(amount[returned] / 3, 2)
    tid = np.array([f"T{c}-{k}" for c, k in zip(customer, rng.integers(0, 8, n),
                                                  strict=True)], dtype=object)
    tid[rng.random(n) < 0.15] = None
    frame = pd.DataFrame({"customer_id": [f"c{c:02d}" for c in customer],
                          "timestamp": stamps, "amount": amount, "transaction_id": tid})
    return frame.loc[frame["timestamp"].notna()].reset_index(drop=True)


def _data(seed: int, tz: str | None) -> CRMData:
    end = pd.Timestamp(END) if tz is None else pd.Timestamp(END).tz_localize(tz)
    return CRMData(transactions=_transactions(seed, tz), allow_returns=True,
                   observation_end=end)


def _period_start(number: pd.Series, freq: str) -> pd.Series:
    """Return the first moment of each period number, as ``period_numbers`` counts them."""
    values = number.to_numpy(dtype=np.int64)
    if freq == "W":
        starts = (7 * values - 3).astype("datetime64[D]")
    else:
        starts = values.astype(f"datetime64[{freq}]")
    return pd.Series(starts.astype("datetime64[us]"), index=number.index)


def _brute_force(data: CRMData, end: str | None, freq: str) -> pd.DataFrame:
    """Compute the aggregate with plain pandas groupby, one column at a time."""
    assert data.transactions is not None
    tx = data.transactions
    wall = tx["timestamp"]
    if getattr(wall.dtype, "tz", None) is not None:
        wall = wall.dt.tz_localize(None)
    if end is not None:
        keep = (wall <= pd.Timestamp(end)).to_numpy()
        tx, wall = tx.loc[keep], wall.loc[keep]
    period = wall.dt.to_period("W-SUN" if freq == "W" else freq)
    g = tx.groupby("customer_id")
    tid = tx["transaction_id"]
    # Returns net against the period's purchases: a period is a purchase period when it
    # holds no return, or when its net amount stays above zero.
    cells = pd.DataFrame({"customer_id": tx["customer_id"].to_numpy(),
                          "period": period.to_numpy(),
                          "amount": tx["amount"].to_numpy()})
    per = cells.groupby(["customer_id", "period"])["amount"].agg(
        net="sum", positive=lambda a: a[a > 0].sum(), returns=lambda a: (a < 0).any())
    per["bought"] = ~per["returns"] | (per["net"] > 1e-9 * per["positive"])
    rows = []
    for customer, group in per.groupby(level="customer_id"):
        periods = group.index.get_level_values("period")
        bought = group["bought"].to_numpy()
        span = periods[bought] if bought.any() else periods
        first_bought = span.min()
        repeat = group["net"].to_numpy()[bought & (periods > first_bought)].sum()
        rows.append((customer, span.min().start_time, span.max().start_time,
                     int(bought.sum()), float(repeat)))
    periods_frame = pd.DataFrame(rows, columns=["customer_id", "first_period",
                                                "last_period", "n_periods",
                                                "repeat_amount"]).set_index("customer_id")
    out = pd.DataFrame({
        "first_timestamp": g["timestamp"].min(),
        "last_timestamp": g["timestamp"].max(),
        "n_transactions": g.size(),
        "n_purchases": tid.groupby(tx["customer_id"]).nunique()
        + tid.isna().groupby(tx["customer_id"]).sum(),
        "total_amount": g["amount"].sum(),
    }).join(periods_frame)
    out.index = pd.Index(out.index, name="customer_id", dtype="str")
    return out


@pytest.mark.parametrize("tz", [None, "Europe/Paris"])
@pytest.mark.parametrize("freq", ["D", "W", "M", "h"])
@pytest.mark.parametrize("end", [None, "2023-10-29 12:30", "2023-03-15 14:00:01"])
def test_matches_a_brute_force_groupby(tz: str | None, freq: str, end: str | None) -> None:
    data = _data(seed=len(freq) + (tz is None), tz=tz)
    got = customer_aggregates(data, end=end, freq=freq)
    want = _brute_force(data, end, freq)
    assert got.columns.tolist() == TOTALS + PERIODS
    pd.testing.assert_index_equal(got.index, want.index)
    for col in ("first_period", "last_period"):
        # Period numbers: the same periods as pandas' (weeks start on Monday).
        pd.testing.assert_series_equal(_period_start(got[col], freq), want[col],
                                       check_names=False, check_dtype=False)
    others = [c for c in TOTALS + PERIODS if c not in ("first_period", "last_period")]
    pd.testing.assert_frame_equal(got[others], want[others], check_exact=False,
                                  rtol=1e-12, check_freq=False)
    assert got["first_timestamp"].dtype == data.transactions["timestamp"].dtype  # type: ignore[index]


def test_index_follows_customer_codes_and_freq_none_leaves_out_periods() -> None:
    data = _data(seed=3, tz="Europe/Paris")
    codes, ids = data.customer_codes()
    full = customer_aggregates(data, freq="W")
    assert full.index.name == "customer_id"
    assert full.index.tolist() == ids.tolist()  # every customer bought by observation_end
    totals = customer_aggregates(data, freq=None)
    assert totals.columns.tolist() == TOTALS
    pd.testing.assert_frame_equal(totals, full[TOTALS])
    # Summed in row order, as numpy.bincount does.
    amount = data.transactions["amount"].to_numpy()  # type: ignore[index]
    np.testing.assert_array_equal(totals["total_amount"].to_numpy(),
                                  np.bincount(codes, weights=amount))


def test_point_in_time_ignores_later_rows() -> None:
    data = _data(seed=5, tz=None)
    assert data.transactions is not None
    early = customer_aggregates(data, end="2023-06-30", freq="D")
    kept = data.transactions.loc[data.transactions["timestamp"] <= "2023-06-30"]
    changed = data.transactions.copy()
    later = changed["timestamp"] > "2023-06-30"
    changed.loc[later, "amount"] = 1e6
    changed.loc[later, "timestamp"] = pd.Timestamp("2023-12-31")
    again = customer_aggregates(CRMData(transactions=changed, allow_returns=True,
                                        observation_end=END), end="2023-06-30", freq="D")
    pd.testing.assert_frame_equal(early, again)
    assert early["n_transactions"].sum() == len(kept)
    assert (early["last_timestamp"] <= pd.Timestamp("2023-06-30")).all()
    # At or after observation_end every row counts, and the table is shared.
    pd.testing.assert_frame_equal(customer_aggregates(data, end="2030-01-01"),
                                  customer_aggregates(data))
    # Before every transaction: no customer, same columns and dtypes.
    empty = customer_aggregates(data, end="2022-01-01")
    assert empty.empty
    pd.testing.assert_series_equal(empty.dtypes, customer_aggregates(data).dtypes)


def test_returns_a_copy_and_leaves_the_data_alone() -> None:
    data = _data(seed=7, tz=None)
    assert data.transactions is not None
    before = data.transactions.copy()
    first = customer_aggregates(data)
    first.loc[:, "total_amount"] = -1.0
    first["extra"] = 1
    second = customer_aggregates(data)
    assert (second["total_amount"] != -1.0).any()
    assert "extra" not in second.columns
    pd.testing.assert_frame_equal(data.transactions, before)


def test_accepts_a_frame_and_checks_its_arguments() -> None:
    tx = _transactions(seed=1, tz=None)
    got = customer_aggregates(tx.assign(amount=tx["amount"].abs()), freq="M")
    assert len(got) == tx["customer_id"].nunique()
    with pytest.raises(InvalidParameterError, match="freq must be one of"):
        customer_aggregates(tx, freq="Y")
    with pytest.raises(InvalidParameterError, match="end 'soon' is not a date"):
        customer_aggregates(_data(seed=1, tz=None), end="soon")
    with pytest.raises(DataValidationError, match="needs a transactions frame"):
        customer_aggregates(CRMData(customers=pd.DataFrame({"customer_id": ["a"]})))


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[Any, ...]]:
    """Count the computations of each part of the aggregate, by argument set."""
    seen: Counter[tuple[Any, ...]] = Counter()

    def spy(name: str, compute: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
        def counted(data: CRMData, *args: Any) -> pd.DataFrame:
            seen[(name, *args)] += 1
            return compute(data, *args)
        return counted

    monkeypatch.setattr(aggregates, "_totals", spy("totals", aggregates._totals))
    monkeypatch.setattr(aggregates, "_periods", spy("periods", aggregates._periods))
    return seen


def test_models_on_one_data_aggregate_once_per_argument_set(
        calls: Counter[tuple[Any, ...]]) -> None:
    data = load_cdnow_sample()  # a fresh CRMData: nothing derived yet
    RFMModel().fit(data).score(data)
    summary = customer_summary(data)
    ABCModel().fit(data).score(data)
    LifecycleModel().fit(data).score(data)
    SegmentationModel(n_segments=3, random_state=0).fit(data).score(data)
    churn_features(data)
    RFMModel(freq="W").fit(data).score(data)
    pd.testing.assert_frame_equal(customer_summary(data), summary)
    # Everything at observation_end shares one table per argument set.
    assert calls == Counter({("totals", None): 1, ("periods", None, "D"): 1})

    customer_summary(data, freq="W")
    customer_summary(data, freq="W")
    assert calls[("periods", None, "W")] == 1
    assert calls[("totals", None)] == 1

    # A cut-off is another argument set, computed once for every model that uses it.
    model = RFMModel(observation_end="1997-12-31").fit(data)
    model.score(data)
    churn_features(data, "1997-12-31")
    churn_labels(data, "1997-12-31", "90D")
    LifecycleModel(observation_end="1997-12-31").fit(data).score(data)
    cut = pd.Timestamp("1997-12-31")
    assert calls[("totals", cut)] == 1
    assert calls[("periods", cut, "D")] == 1
    assert sum(calls.values()) == 5
