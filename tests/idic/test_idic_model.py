"""IDICModel end to end on Online Retail, its values against their formulas, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData
from crmmodels.errors import ConvergenceWarning, DataQualityWarning, InvalidParameterError
from crmmodels.identity import resolve_identities
from crmmodels.idic import NO_ACTION, IDICModel


@pytest.fixture(scope="module")
def retail() -> CRMData:
    from crmmodels.datasets import load_online_retail

    return load_online_retail()


def quiet_fit(model: IDICModel, data: CRMData) -> pd.DataFrame:
    with warnings.catch_warnings():
        # BG/NBD's boundary estimate on this data, and the missing interactions.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", DataQualityWarning)
        return model.fit(data).score(data)


@pytest.fixture(scope="module")
def scored(retail: CRMData) -> tuple[IDICModel, pd.DataFrame]:
    model = IDICModel()
    return model, quiet_fit(model, retail)


def test_every_customer_gets_an_action_with_a_reason(
        retail: CRMData, scored: tuple[IDICModel, pd.DataFrame]) -> None:
    _, scores = scored
    assert len(scores) == retail.n_customers
    assert list(scores.columns) == list(IDICModel._score_columns)
    assert scores["next_best_action"].notna().all()
    assert scores["next_best_action"].str.len().gt(0).all()
    assert scores["reason"].str.len().gt(0).all()
    assert (scores["customer_key"] == scores.index).all()
    assert set(scores["value_tier"]) <= {"A", "B", "C"}


def test_expected_values_follow_the_documented_formulas(
        retail: CRMData, scored: tuple[IDICModel, pd.DataFrame]) -> None:
    _model, scores = scored
    retention = scores[scores["next_best_action"] == "retention offer"]
    assert len(retention) > 0
    expected = retention["churn_probability"] * retention["clv"] * 0.1 - 5.0
    np.testing.assert_allclose(retention["expected_value"], expected, rtol=1e-9)
    # The chosen offer is the better of the two (none chosen when neither is positive).
    idle = scores[scores["next_best_action"] == NO_ACTION]
    assert (idle["churn_probability"] * idle["clv"] * 0.1 - 5.0 <= 0).all()
    assert (idle["expected_value"] == 0).all()


def test_a_budget_limits_the_plan(retail: CRMData) -> None:
    scores = quiet_fit(IDICModel(budget=500.0), retail)
    chosen = scores["next_best_action"] != NO_ACTION
    # Every chosen offer costs 5 (the retention offer wins everywhere here, see above):
    # 500 / 5 = 100 offers.
    assert (scores.loc[chosen, "next_best_action"] == "retention offer").all()
    assert chosen.sum() == 100
    # The budget goes to the highest expected values: no customer left out had a
    # retention value above the smallest one chosen.
    left_out = scores.loc[~chosen]
    value_left = left_out["churn_probability"] * left_out["clv"] * 0.1 - 5.0
    assert value_left.max() <= scores.loc[chosen, "expected_value"].min() + 1e-9
    assert (left_out["reason"].str.contains("budget|positive")).all()


def test_rules_policy_and_planted_channel_preferences(retail: CRMData) -> None:
    from crmmodels.datasets import simulate_interactions

    ids = retail.customer_ids
    inter, truth = simulate_interactions(len(ids), contacts=120, start="2010-12-01",
                                         days=370, random_state=5)
    rename = dict(zip(truth.index, ids, strict=True))
    inter = inter.assign(customer_id=inter["customer_id"].map(rename))
    tx = retail.transactions
    assert tx is not None
    end = retail.observation_end
    data = CRMData(transactions=tx, customers=retail.customers,
                   interactions=inter[inter["timestamp"] <= end], observation_end=end)
    scores = quiet_fit(IDICModel(policy="rules"), data)
    planted = truth["preferred_channel"].rename(index=rename).reindex(scores.index)
    assert (scores["preferred_channel"] == planted).mean() >= 0.95
    from crmmodels.idic import DEFAULT_RULES

    assert scores["next_best_action"].isin(DEFAULT_RULES["action"]).all()
    assert scores["reason"].str.len().gt(0).all()


def test_identify_step_merges_records_of_one_person() -> None:
    from crmmodels.datasets import load_cdnow_sample

    data = load_cdnow_sample()
    ids = data.customer_ids
    # The first 200 ids are 100 people with two ids each (one e-mail in two cases).
    email = [f"p{i // 2}@x.com".upper() if i % 2 else f"p{i // 2}@x.com" if i < 200 else
             f"solo{i}@x.com" for i in range(len(ids))]
    res = resolve_identities(pd.DataFrame({"customer_id": ids, "email": email}))
    scores = quiet_fit(IDICModel(resolution=res), data)
    assert len(scores) == len(ids) - 100
    assert set(scores["customer_key"]) == set(res.mapping.unique())
    assert scores["next_best_action"].notna().all()


def test_customers_without_a_purchase_get_no_action_and_a_warning() -> None:
    from crmmodels.datasets import load_cdnow_sample

    data = load_cdnow_sample()
    customers = pd.DataFrame({"customer_id": [*data.customer_ids, "ghost"]})
    with_ghost = CRMData(transactions=data.transactions, customers=customers,
                         observation_end=data.observation_end)
    model = IDICModel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", "IDICModel: no interactions")
        model.fit(with_ghost)
        with pytest.warns(DataQualityWarning, match="1 customers have no CLV"):
            scores = model.score(with_ghost)
    assert scores.loc["ghost", "next_best_action"] == NO_ACTION
    assert scores.loc["ghost", "reason"].startswith("no CLV")


def test_bad_parameters() -> None:
    tx = pd.DataFrame({"customer_id": ["a"], "amount": [1.0],
                       "timestamp": pd.to_datetime(["2024-01-01"])})
    with pytest.raises(InvalidParameterError, match="policy"):
        IDICModel(policy="magic").fit(CRMData(transactions=tx))
    with pytest.raises(InvalidParameterError, match="retention_uplift"):
        IDICModel(retention_uplift=2.0).fit(CRMData(transactions=tx))
