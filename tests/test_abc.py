"""ABCModel: Pareto value tiers and concentration figures."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData
from crmmodels.datasets import load_cdnow_sample, load_online_retail
from crmmodels.errors import DataValidationError, InvalidParameterError, NotFittedError
from crmmodels.segments import ABCModel, gini
from crmmodels.testing import check_model


def _tx(amounts: dict[str, list[float]]) -> pd.DataFrame:
    rows = [(c, a) for c, values in amounts.items() for a in values]
    return pd.DataFrame({
        "customer_id": [c for c, _ in rows],
        "timestamp": pd.to_datetime(["2024-01-01"] * len(rows)),
        "amount": [a for _, a in rows],
    })


def _pandas_tiers(values: pd.Series, shares: tuple[float, ...]) -> pd.Series:
    """Independent tiering: rank by value; share held by strictly greater values."""
    total = values.sum()
    above = values.map(lambda v: values[values > v].sum() / total)
    bounds = pd.Series(shares).cumsum().to_list()
    letters = "ABCDEFG"

    def tier(a: float) -> str:
        for k, b in enumerate(bounds):
            if a < b - 1e-9:
                return letters[k]
        return letters[len(bounds) - 1]

    return above.map(tier)


@pytest.fixture(scope="module")
def retail() -> CRMData:
    return load_online_retail()


@pytest.fixture(scope="module")
def retail_model(retail: CRMData) -> ABCModel:
    return ABCModel().fit(retail)


def test_contract() -> None:
    assert "bad_params" in check_model(ABCModel(), load_cdnow_sample())


def test_shares_add_up(retail_model: ABCModel, retail: CRMData) -> None:
    s = retail_model.summary_
    assert s.index.tolist() == ["A", "B", "C"]
    assert s.index.name == "value_tier"
    assert s["customer_share"].sum() == pytest.approx(1.0)
    assert s["value_share"].sum() == pytest.approx(1.0)
    assert int(s["customers"].sum()) == retail.n_customers == retail_model.n_customers_
    assert s["value"].sum() == pytest.approx(retail.transactions["amount"].sum())  # type: ignore[index]
    # A holds at least 80 % (the crossing customer stays in A), but not much more.
    share_a, share_b = s["value_share"].to_numpy(dtype=float)[:2]
    assert 0.8 <= share_a < 0.8 + 0.01
    assert 0.95 <= share_a + share_b < 0.96


def test_gini_matches_mean_absolute_difference(retail_model: ABCModel) -> None:
    values = load_online_retail().transactions.groupby("customer_id")["amount"].sum()  # type: ignore[union-attr]
    v = values.to_numpy(dtype=float)
    n = len(v)
    # G = sum_i sum_j |x_i - x_j| / (2 n^2 mean), accumulated row block by row block.
    total_abs = sum(np.abs(v[i:i + 500, None] - v[None, :]).sum() for i in range(0, n, 500))
    expected = total_abs / (2 * n * n * v.mean())
    assert retail_model.gini_ == pytest.approx(expected, rel=1e-9)
    assert 0.5 < retail_model.gini_ < 1


def test_top20_share(retail_model: ABCModel) -> None:
    values = load_online_retail().transactions.groupby("customer_id")["amount"].sum()  # type: ignore[union-attr]
    k = math.ceil(0.2 * len(values))
    expected = values.nlargest(k).sum() / values.sum()
    assert retail_model.top20_value_share_ == pytest.approx(expected)


def test_tiers_match_pandas(retail_model: ABCModel, retail: CRMData) -> None:
    scores = retail_model.score(retail)
    values = retail.transactions.groupby("customer_id")["amount"].sum()  # type: ignore[union-attr]
    values = values.round(9)
    pd.testing.assert_series_equal(scores["value"], values.rename("value"),
                                   check_index_type=False, check_dtype=False)
    expected = _pandas_tiers(values, (0.8, 0.15, 0.05))
    assert (scores["value_tier"].to_numpy() == expected.reindex(scores.index).to_numpy()).all()
    # cumulative share: value held by customers at or above this one.
    total = values.sum()
    first = values.index[:50]
    manual = [values[values >= values[c]].sum() / total for c in first]
    np.testing.assert_allclose(scores.loc[first, "cumulative_share"], manual)
    # tiers are monotone in value: thresholds reproduce the fitted tiers.
    for tier, cut in retail_model.thresholds_.items():
        assert scores.loc[scores["value_tier"] == tier, "value"].min() == cut


@pytest.mark.parametrize("shares", [(0.8, 0.15, 0.05), (0.5, 0.3, 0.2), (0.7, 0.3)])
def test_tiers_match_pandas_small(shares: tuple[float, ...]) -> None:
    rng = np.random.default_rng(1)
    amounts = {f"c{i:03d}": [float(v)] for i, v in enumerate(rng.integers(1, 40, 200))}
    tx = _tx(amounts)
    scores = ABCModel(shares=shares).fit(tx).score(tx)
    values = tx.groupby("customer_id")["amount"].sum()
    expected = _pandas_tiers(values, shares)
    assert scores["value_tier"].tolist() == expected.reindex(scores.index).tolist()


def test_ties_never_split() -> None:
    # 10 customers worth 10 each: every one crosses together; all are A.
    tx = _tx({f"c{i}": [10.0] for i in range(10)})
    assert set(ABCModel().fit(tx).score(tx)["value_tier"]) == {"A"}
    # 75 | 5 x 5: the tie group crossing 80 % stays together in A (row by row, only
    # the first tied customer would cross into A).
    tx = _tx({"big": [75.0], **{f"t{i}": [5.0] for i in range(5)}})
    scores = ABCModel().fit(tx).score(tx)
    assert set(scores["value_tier"]) == {"A"}
    assert scores.loc["t0", "cumulative_share"] == pytest.approx(1.0)
    # 80 | 5 x 4: A is full; the whole tie group is B (row by row, the last would be C).
    tx = _tx({"big": [80.0], **{f"t{i}": [5.0] for i in range(4)}})
    scores = ABCModel().fit(tx).score(tx)
    assert scores["value_tier"].to_dict() == {"big": "A", "t0": "B", "t1": "B", "t2": "B",
                                              "t3": "B"}


def test_crossing_customer_rule() -> None:
    # shares held strictly above: a 0, b .70, c .82, d .92, e .97
    tx = _tx({"a": [70.0], "b": [12.0], "c": [10.0], "d": [5.0], "e": [3.0]})
    model = ABCModel().fit(tx)
    assert model.score(tx)["value_tier"].tolist() == ["A", "A", "B", "B", "C"]
    # exactly on a bound: above(b) = .8 means A is already full.
    tx = _tx({"a": [80.0], "b": [15.0], "c": [5.0]})
    assert ABCModel().fit(tx).score(tx)["value_tier"].tolist() == ["A", "B", "C"]


def test_thresholds_used_on_new_data() -> None:
    tx = _tx({"a": [70.0], "b": [12.0], "c": [10.0], "d": [5.0], "e": [3.0]})
    model = ABCModel().fit(tx)
    new = _tx({"x": [100.0], "y": [6.0], "z": [1.0]})
    scores = model.score(new)
    assert scores["value_tier"].tolist() == ["A", "B", "C"]
    assert scores["cumulative_share"].iloc[-1] == pytest.approx(1.0)


def test_value_from_customers_column() -> None:
    tx = _tx({"a": [1.0], "b": [1.0]})
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "clv": [90.0, 7.0, 3.0]})
    data = CRMData(transactions=tx, customers=customers)
    scores = ABCModel(value="clv").fit(data).score(data)
    assert scores["value_tier"].to_dict() == {"a": "A", "b": "B", "c": "C"}
    # customers alone are enough for a column value
    only = CRMData(customers=customers)
    assert ABCModel(value="clv").fit(only).score(only)["value"].tolist() == [90.0, 7.0, 3.0]
    # monetary gives customers without a purchase value 0
    mon = ABCModel().fit(data).score(data)
    assert mon.loc["c", "value"] == 0.0
    assert mon.loc["c", "value_tier"] == "C"


@pytest.mark.parametrize(
    ("column", "values"),
    [("nope", [1.0, 2.0]), ("clv", [1.0, float("nan")]), ("clv", [1.0, -2.0]),
     ("name", ["x", "y"])],
)
def test_bad_value_column(column: str, values: list[Any]) -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b"], "clv": [1.0, 2.0],
                              "name": ["x", "y"]})
    customers[column if column != "nope" else "clv"] = values
    data = CRMData(customers=customers)
    with pytest.raises(DataValidationError):
        ABCModel(value=column).fit(data)


def test_zero_total_value() -> None:
    customers = pd.DataFrame({"customer_id": ["a", "b"], "clv": [0.0, 0.0]})
    with pytest.raises(DataValidationError, match="positive total"):
        ABCModel(value="clv").fit(CRMData(customers=customers))


@pytest.mark.parametrize(
    "params",
    [{"shares": (0.8, 0.15, 0.1)}, {"shares": (0.8, 0.25, -0.05)}, {"shares": (1.0,)},
     {"shares": (0.8, 0.2, 0.0)}, {"shares": ("a", "b")}, {"shares": 0.8},
     {"shares": (0.5, float("nan"), 0.5)}, {"value": ""}, {"value": None}],
)
def test_bad_params(params: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterError):
        ABCModel(**params).fit(_tx({"a": [1.0]}))


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        ABCModel().score(_tx({"a": [1.0]}))


def test_gini_function() -> None:
    assert gini(np.array([5.0])) == 0.0
    assert math.isnan(gini(np.array([0.0, 0.0])))
    assert gini(np.array([0.0, 1.0])) == pytest.approx(0.5)


def test_clv_value_from_a_fitted_clv_model() -> None:
    from crmmodels.cltv import CLVModel, period_discount_rate
    from crmmodels.datasets import load_cdnow_sample

    data = load_cdnow_sample()
    model = ABCModel(value="clv").fit(data)
    scores = model.score(data)
    reference = CLVModel(horizon=52, freq="W", discount_rate=period_discount_rate(0.10, "W"))
    expected = reference.fit(data).score(data)["clv"].round(9)
    np.testing.assert_allclose(scores["value"].to_numpy(), expected.to_numpy(), rtol=1e-12)
    assert abs(model.summary_["value_share"].sum() - 1) < 1e-12
    assert set(scores["value_tier"]) == {"A", "B", "C"}


def test_score_keeps_the_deprecated_tier_column_last() -> None:
    tx = _tx({"a": [70.0], "b": [12.0], "c": [10.0], "d": [5.0], "e": [3.0]})
    scores = ABCModel().fit(tx).score(tx)
    assert scores.columns.tolist() == ["value", "cumulative_share", "value_tier", "tier"]
    pd.testing.assert_series_equal(scores["tier"], scores["value_tier"], check_names=False)
