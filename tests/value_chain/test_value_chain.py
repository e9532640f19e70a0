"""Buttle's value chain on Online Retail.

Current values and quadrants are recomputed independently with pandas; future values and
stages are checked against the CLV and lifecycle models fitted in the test with the
documented settings (a check of the wiring, not of those models).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData
from crmmodels.cltv import CLVModel
from crmmodels.errors import ConvergenceWarning, DataQualityWarning, InvalidParameterError
from crmmodels.segments import STAGES, LifecycleModel
from crmmodels.value_chain import PROPOSITIONS, QUADRANTS, ValueChainModel


@pytest.fixture(scope="module")
def retail() -> CRMData:
    from crmmodels.datasets import load_online_retail

    return load_online_retail()


@pytest.fixture(scope="module")
def fitted(retail: CRMData) -> tuple[ValueChainModel, pd.DataFrame]:
    with warnings.catch_warnings():
        # BG/NBD's dropout parameter a reaches its boundary on this data (reported).
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = ValueChainModel().fit(retail)
        return model, model.score(retail)


def test_every_customer_gets_a_quadrant_and_three_quadrants_are_populated(
        retail: CRMData, fitted: tuple[ValueChainModel, pd.DataFrame]) -> None:
    _, scores = fitted
    assert len(scores) == retail.n_customers
    assert scores.index.equals(retail.customer_ids)
    populated = scores["portfolio_quadrant"].value_counts()
    assert (populated > 0).sum() >= 3
    assert set(scores["portfolio_quadrant"].unique()) <= set(QUADRANTS.values())
    assert set(scores["lifecycle_stage"].unique()) <= set(STAGES)


def test_values_and_quadrants_agree_with_an_independent_computation(
        retail: CRMData, fitted: tuple[ValueChainModel, pd.DataFrame]) -> None:
    _, scores = fitted
    tx = retail.transactions
    assert tx is not None
    # Current value: spend in the last 365 days, recomputed with pandas.
    end = retail.observation_end
    recent = tx[(tx["timestamp"] > end - pd.Timedelta("365D")) & (tx["timestamp"] <= end)]
    current = recent.groupby("customer_id")["amount"].sum().reindex(scores.index,
                                                                    fill_value=0.0)
    np.testing.assert_allclose(scores["current_value"], current, rtol=1e-12)
    # Future value: a CLV model fitted here with the documented default settings.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clv = CLVModel(horizon=52, freq="W", margin=1.0).fit(retail).score(retail)["clv"]
    np.testing.assert_allclose(scores["future_value"], clv.reindex(scores.index), rtol=1e-9)
    # Quadrants: above or below the median of each value.
    high_now = current > current.quantile(0.5)
    high_later = clv.reindex(scores.index) > clv.quantile(0.5)
    expected = [QUADRANTS[(bool(a), bool(b))] for a, b in zip(high_now, high_later,
                                                              strict=True)]
    assert scores["portfolio_quadrant"].astype(str).tolist() == expected
    # Strategic: the top 5% by future value.
    assert scores["strategic"].mean() == pytest.approx(0.05, abs=0.002)
    stages = LifecycleModel().fit(retail).score(retail)["lifecycle_stage"]
    assert (scores["lifecycle_stage"] == stages.reindex(scores.index)).all()


def test_report_has_the_five_steps(retail: CRMData,
                                   fitted: tuple[ValueChainModel, pd.DataFrame]) -> None:
    model, scores = fitted
    report = model.report(retail)
    portfolio = report["portfolio"]
    assert portfolio["customers"].sum() == len(scores)
    assert portfolio["current_value_share"].sum() == pytest.approx(1.0)
    assert (report["strategic"]["strategic"]).all()
    assert 0.2 <= report["concentration"].loc["current_value", "top_20pct_share"] <= 1.0
    assert list(report["proposition"]["proposition"]) == [PROPOSITIONS[q] for q in
                                                          report["proposition"].index]
    assert report["proposition"]["leading_country"].str.startswith("United Kingdom").all()
    assert report["lifecycle"]["customers"].sum() == len(scores)
    assert report["transitions"].to_numpy().sum() == len(scores)


def test_customers_without_a_purchase_have_no_quadrant() -> None:
    from crmmodels.datasets import load_cdnow_sample

    data = load_cdnow_sample()
    customers = pd.DataFrame({"customer_id": [*data.customer_ids, "ghost"]})
    with_ghost = CRMData(transactions=data.transactions, customers=customers,
                         observation_end=data.observation_end)
    model = ValueChainModel(period="180D")
    with pytest.warns(DataQualityWarning, match="1 customers have no future value"):
        scores = model.fit(with_ghost).score(with_ghost)
    assert pd.isna(scores.loc["ghost", "portfolio_quadrant"])
    assert scores["portfolio_quadrant"].notna().sum() == len(scores) - 1


def test_cost_to_serve_is_subtracted_and_bad_parameters_refused() -> None:
    tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [100.0, 50.0, 20.0],
                       "timestamp": pd.to_datetime(["2024-01-05", "2024-06-01",
                                                    "2024-06-02"])})
    inter = pd.DataFrame({"customer_id": ["a", "b"], "channel": "phone",
                          "kind": "support", "cost": [30.0, 5.0],
                          "timestamp": pd.to_datetime(["2024-05-01", "2023-01-01"])})
    data = CRMData(transactions=tx, interactions=inter, observation_end="2024-06-30")
    values = ValueChainModel(margin=0.5, period="90D")._current_values(data)
    # a: 0.5 * 50 - 30 (the support call in the window); b: 0.5 * 20 (its cost is older).
    assert values.to_dict() == {"a": -5.0, "b": 10.0}
    with pytest.raises(InvalidParameterError, match="current_quantile"):
        ValueChainModel(current_quantile=1.5).fit(data)


def test_report_figures_draw_what_the_tables_say(
        retail: CRMData, fitted: tuple[ValueChainModel, pd.DataFrame]) -> None:
    model, scores = fitted
    report = model.report(retail, figures=True)
    figures = report["figures"]
    assert set(figures) == {"portfolio", "concentration", "lifecycle"}
    # Portfolio: one point per customer with a quadrant, one colour per quadrant, the
    # cut-points as dashed lines.
    ax = figures["portfolio"].axes[0]
    points = sum(len(c.get_offsets()) for c in ax.collections)
    assert points == scores["portfolio_quadrant"].notna().sum()
    assert len(ax.collections) == scores["portfolio_quadrant"].nunique()
    assert sorted(line.get_xdata()[0] for line in ax.lines
                  if line.get_linestyle() == "--" and line.get_xdata()[0] ==
                  line.get_xdata()[1]) == [model.current_cut_]
    # Concentration: each curve runs from (0, 0) to (1, 1) and, at the top 20% of the
    # customers, reaches the share the concentration table gives.
    ax = figures["concentration"].axes[0]
    table = report["concentration"]
    for line, column in zip(ax.lines[:2], ("current_value", "future_value"), strict=True):
        x, y = line.get_xdata(), line.get_ydata()
        assert (x[0], y[0]) == (0.0, 0.0)
        assert x[-1] == pytest.approx(1.0)
        assert y[-1] == pytest.approx(1.0)
        k = int(np.ceil(0.2 * len(scores)))
        assert y[k] == pytest.approx(table.loc[column, "top_20pct_share"])
    # Lifecycle: one bar per stage, as tall as its customers.
    ax = figures["lifecycle"].axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights == report["lifecycle"]["customers"].tolist()
