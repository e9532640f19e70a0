"""Fitting from Spark summaries and scoring on Spark, against the pandas path.

The references are the same models fitted and scored on the collected pandas data:
the weighted fit on counts must find the same estimates, and ``mapInPandas`` scoring
with the broadcast model the same scores, row for row.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from crmmodels import CRMData
from crmmodels import spark as crm_spark
from crmmodels.cltv import BetaGeoModel, CLVModel, GammaGammaModel, ParetoNBDModel
from crmmodels.data import customer_summary
from crmmodels.errors import DataQualityWarning, DataValidationError
from crmmodels.propensity import ChurnModel, FraudModel
from crmmodels.segments import RFMModel
from crmmodels.targeting import ResponseModel, UpliftModel
from tests.spark.conftest import collect, to_spark

pytestmark = pytest.mark.spark


def assert_scores(ref: pd.DataFrame, got: pd.DataFrame) -> None:
    """Assert the same rows and columns; numbers to 1e-9, flags and text exactly."""
    ref = ref.copy()
    ref.index = ref.index.astype("str")
    ref = ref.loc[sorted(ref.index)]
    assert got.index.tolist() == ref.index.tolist()
    assert list(got.columns) == list(ref.columns)
    for column in ref.columns:
        a, b = ref[column], got[column]
        if pd.api.types.is_float_dtype(a.dtype):
            np.testing.assert_allclose(b.to_numpy(float), a.to_numpy(float), rtol=1e-9,
                                       atol=1e-12, err_msg=column)
        else:
            assert b.astype("str").tolist() == a.astype("str").tolist(), column


@pytest.fixture(scope="module")
def summaries(cdnow_tx: pd.DataFrame, cdnow_spark: Any) -> tuple[pd.DataFrame, Any]:
    summary = crm_spark.customer_summary(cdnow_spark, freq="W").cache()
    return customer_summary(CRMData(transactions=cdnow_tx), freq="W"), summary


def test_counts_stand_for_every_customer(summaries: tuple[pd.DataFrame, Any]) -> None:
    ref, summary = summaries
    counts = crm_spark.summary_counts(summary)
    distinct = ref.groupby(["frequency", "recency", "T"]).size()
    assert len(counts) == len(distinct) < len(ref) / 2
    assert int(counts["n_customers"].sum()) == len(ref)
    got = counts.set_index(["frequency", "recency", "T"])["n_customers"]
    assert got.sort_index().tolist() == distinct.sort_index().tolist()


@pytest.mark.parametrize("model_class", [BetaGeoModel, ParetoNBDModel, GammaGammaModel,
                                         CLVModel])
def test_fit_on_counts_equals_fit_on_customers(summaries: tuple[pd.DataFrame, Any],
                                               model_class: type) -> None:
    ref_summary, summary = summaries
    ref = model_class(freq="W").fit(ref_summary)
    got = crm_spark.fit(model_class(freq="W"), summary)
    if model_class is CLVModel:
        pairs = [(ref.transaction_model_, got.transaction_model_),
                 (ref.spend_model_, got.spend_model_)]
    else:
        pairs = [(ref, got)]
    for a, b in pairs:
        np.testing.assert_allclose(b.params_.to_numpy(), a.params_.to_numpy(), rtol=1e-6)
        np.testing.assert_allclose(b.log_likelihood_, a.log_likelihood_, rtol=1e-10)
        assert b.n_customers_ == a.n_customers_
    assert_scores(ref.score(ref_summary), collect(crm_spark.score(got, summary)))


def test_rfm_scored_per_customer(cdnow_tx: pd.DataFrame, cdnow_spark: Any) -> None:
    data = CRMData(transactions=cdnow_tx)
    model = RFMModel().fit(data)
    assert_scores(model.score(data), collect(crm_spark.score(model, cdnow_spark,
                                                             partitions=3)))
    at = "1997-12-31"
    early = CRMData(transactions=cdnow_tx[cdnow_tx["timestamp"] <= at], observation_end=at)
    assert_scores(model.score(early),
                  collect(crm_spark.score(model, cdnow_spark, observation_end=at)))


def test_churn_scored_per_customer(cdnow_tx: pd.DataFrame, cdnow_spark: Any) -> None:
    data = CRMData(transactions=cdnow_tx)
    model = ChurnModel(calibrate=False, windows=(30, 90)).fit(data)
    # Three partitions score their customers apart; the ranks (risk_decile,
    # retention_priority) are over every customer, as in pandas.
    got = collect(crm_spark.score(model, cdnow_spark, partitions=3))
    assert_scores(model.score(data), got)


def test_fraud_scored_per_transaction(spark: Any) -> None:
    from crmmodels.datasets import load_card_transactions

    tx = load_card_transactions(subset="sample").transactions
    assert tx is not None
    ids = sorted(tx["customer_id"].unique())[:600]
    tx = tx[tx["customer_id"].isin(ids)].reset_index(drop=True)
    own = tx[["customer_id", "timestamp", "amount", "transaction_id", "is_fraud"]]
    data = CRMData(transactions=own)
    with pytest.warns(DataQualityWarning, match="no terminal_id"):
        model = FraudModel().fit(data)
    with warnings.catch_warnings():  # the same warning, on the driver's sample
        warnings.simplefilter("ignore", DataQualityWarning)
        got = collect(crm_spark.score(model, to_spark(spark, own)), index="transaction_id")
        expected = model.score(data)
    assert_scores(expected, got)
    # Terminal risk reads other customers' rows: not split by customer.
    with_terminals = FraudModel().fit(CRMData(transactions=tx.drop(
        columns=["fraud_scenario", "tx_time_seconds", "tx_time_days"])))
    with pytest.raises(DataValidationError, match="terminal"):
        crm_spark.score(with_terminals, to_spark(spark, own))


def test_response_scored_per_row(spark: Any) -> None:
    from crmmodels.datasets import load_bank_marketing

    bank = load_bank_marketing().iloc[::10].reset_index(drop=True)
    table = bank[["age", "campaign", "pdays", "previous", "euribor3m", "y"]].copy()
    table.insert(0, "contact_id", [f"k{i:05d}" for i in range(len(table))])
    model = ResponseModel(estimator=LogisticRegression(max_iter=1000), label="y",
                          id="contact_id").fit(table)
    got = collect(crm_spark.score(model, to_spark(spark, table).repartition(3)),
                  index="id")
    assert_scores(model.score(table), got)


def test_uplift_scored_per_row(spark: Any) -> None:
    from crmmodels.datasets import simulate_campaign

    frame = simulate_campaign(4000, random_state=2).drop(columns="true_uplift").reset_index()
    model = UpliftModel(id="customer_id").fit(frame)
    got = collect(crm_spark.score(model, to_spark(spark, frame).repartition(3)), index="id")
    assert_scores(model.score(frame), got)


def test_score_guards(spark: Any, summaries: tuple[pd.DataFrame, Any]) -> None:
    from crmmodels.errors import NotFittedError

    _, summary = summaries
    with pytest.raises(NotFittedError):
        crm_spark.score(BetaGeoModel(), summary)
    with pytest.raises(DataValidationError, match="observation_end applies"):
        crm_spark.score(BetaGeoModel(), summary, observation_end="1998-01-01")
    with pytest.raises(TypeError, match="crmmodels model"):
        crm_spark.score(object(), summary)  # type: ignore[arg-type]
