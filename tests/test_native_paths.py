"""Churn features and labels, and basket encoding, read polars data in polars.

Each is compared with the pandas computation on the same data: counts exactly, sums to
1e-12 (polars adds in another order), and no pandas copy of the transactions is made.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

from crmmodels import CRMData
from crmmodels.datasets import simulate_crm
from crmmodels.propensity import churn_features, churn_labels


def _polars(data: CRMData) -> CRMData:
    frames: dict[str, Any] = {}
    for name in ("transactions", "customers", "interactions"):
        frame = getattr(data, name)
        if frame is not None:
            frames[name] = pl.from_pandas(frame)
    return CRMData(**frames, observation_end=data.observation_end)


@pytest.fixture(scope="module")
def world() -> CRMData:
    """Return a simulated CRM: transactions with ids, interactions, sign-up dates."""
    return simulate_crm(300, random_state=1).data


def _copies(caplog: pytest.LogCaptureFixture, frame: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if "to pandas" in r.getMessage() and frame in r.getMessage()]


def _same(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert got.index.equals(ref.index)
    assert got.columns.tolist() == ref.columns.tolist()
    for column in ref.columns:
        np.testing.assert_allclose(got[column].to_numpy(), ref[column].to_numpy(),
                                   rtol=1e-12, atol=0, err_msg=column)


@pytest.mark.parametrize("cutoff", [None, "2024-06-30", "2023-03-01 12:00"])
def test_churn_features_polars_equal_pandas(world: CRMData, cutoff: str | None,
                                            caplog: pytest.LogCaptureFixture) -> None:
    ref = churn_features(world, cutoff, windows=(7, 30, 90))
    native = _polars(world)
    with caplog.at_level(logging.INFO, logger="crmmodels"):
        got = churn_features(native, cutoff, windows=(7, 30, 90))
    _same(got, ref)
    assert not _copies(caplog, "transactions")
    assert not _copies(caplog, "interactions")
    assert {"n_campaign_sent", "days_since_contact", "gap_std_days"} <= set(ref.columns)
    if cutoff is None:  # the gaps are exercised
        assert ref["gap_std_days"].notna().sum() > 100


def test_churn_features_without_customers_or_ids() -> None:
    """CDNOW: no transaction ids, no customers frame (population = buyers by then)."""
    from crmmodels.datasets import load_cdnow

    cdnow = load_cdnow()
    tx = cdnow.transactions
    assert tx is not None
    tx = tx[["customer_id", "timestamp", "amount"]]
    ref = churn_features(CRMData(transactions=tx), "1997-02-15")
    got = churn_features(CRMData(transactions=pl.from_pandas(tx)), "1997-02-15")
    _same(got, ref)
    assert len(ref) < cdnow.n_customers  # not everyone has bought by then


@pytest.mark.parametrize("tz", [None, "America/New_York"])
def test_churn_labels_polars_equal_pandas(world: CRMData, tz: str | None) -> None:
    data = world
    if tz is not None:
        tx = world.transactions.assign(
            timestamp=world.transactions["timestamp"].dt.tz_localize(tz))
        data = CRMData(transactions=tx)
    native = _polars(data)
    for cutoff, horizon in (("2024-06-30", "90D"), ("2023-12-31 06:00", 45)):
        ref = churn_labels(data, cutoff, horizon)
        got = churn_labels(native, cutoff, horizon)
        pd.testing.assert_series_equal(got, ref)
        assert 0 < ref.sum() < len(ref)


def test_native_guards_as_in_pandas(world: CRMData) -> None:
    from crmmodels.errors import InvalidParameterError

    native = _polars(world)
    for data in (world, native):
        with pytest.raises(InvalidParameterError, match="before all the data"):
            churn_features(data, "2000-01-01")
        with pytest.raises(InvalidParameterError, match="after the end"):
            churn_features(data, "2030-01-01")
        with pytest.raises(InvalidParameterError, match="censored"):
            churn_labels(data, "2024-12-01", "90D")


def test_churn_model_on_polars(world: CRMData, caplog: pytest.LogCaptureFixture) -> None:
    from crmmodels.propensity import ChurnModel

    ref = ChurnModel(horizon="90D", random_state=0).fit(world).score(world)
    native = _polars(world)
    with caplog.at_level(logging.INFO, logger="crmmodels"):
        got = ChurnModel(horizon="90D", random_state=0).fit(native).score(native)
    pd.testing.assert_frame_equal(got, ref, rtol=1e-9)
    assert not _copies(caplog, "transactions")
    assert not _copies(caplog, "interactions")


@pytest.fixture(scope="module")
def retail() -> pd.DataFrame:
    from crmmodels.datasets import load_online_retail

    tx = load_online_retail().transactions
    assert tx is not None
    return tx


def test_baskets_coded_in_polars(retail: pd.DataFrame,
                                 caplog: pytest.LogCaptureFixture) -> None:
    from crmmodels.association import AssociationRulesModel

    settings = {"min_support": 0.02, "min_confidence": 0.3}
    ref_data = CRMData(transactions=retail)
    ref = AssociationRulesModel(**settings).fit(ref_data)
    data = CRMData(transactions=pl.from_pandas(retail))
    with caplog.at_level(logging.INFO, logger="crmmodels"):
        got = AssociationRulesModel(**settings).fit(data)
    assert not _copies(caplog, "transactions")
    assert got.n_baskets_ == ref.n_baskets_ > 10_000
    assert len(got.rules_) == len(ref.rules_) > 0
    pd.testing.assert_frame_equal(got.rules_, ref.rules_)
    pd.testing.assert_frame_equal(got.score(data), ref.score(ref_data))


def test_baskets_with_integer_ids_and_missing_items() -> None:
    from crmmodels.association import AssociationRulesModel

    tx = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "b", "c", "c", "c", "d"],
        "timestamp": pd.to_datetime(["2024-01-01"] * 9),
        "amount": [1.0] * 9,
        "transaction_id": [12, 12, 12, 3, 3, 40, 40, 40, 5],
        "product_id": [101, 7, 7, 101, 7, 101, 55, None, 55]})
    tx["product_id"] = tx["product_id"].astype("Int64")
    ref = AssociationRulesModel(min_support=0.25, min_confidence=0.5).fit(
        CRMData(transactions=tx))
    got = AssociationRulesModel(min_support=0.25, min_confidence=0.5).fit(
        CRMData(transactions=pl.from_pandas(tx)))
    pd.testing.assert_frame_equal(got.rules_, ref.rules_)
    assert frozenset({"7"}) in set(ref.rules_["antecedents"])  # ids are text


@pytest.fixture(scope="module")
def cards() -> pd.DataFrame:
    """Return the first 150,000 card transactions (terminals, labels, some frauds)."""
    from crmmodels.datasets import load_card_transactions

    tx = load_card_transactions().transactions
    assert tx is not None
    return tx.iloc[:150_000].reset_index(drop=True)


@pytest.mark.parametrize("delay", [7, 0])
def test_fraud_features_polars_equal_pandas(cards: pd.DataFrame, delay: int,
                                            caplog: pytest.LogCaptureFixture) -> None:
    from crmmodels.propensity import fraud_features

    tx = cards.copy()
    tx.loc[::97, "terminal_id"] = None  # rows without a terminal: one group, as in pandas
    ref = fraud_features(CRMData(transactions=tx), delay_days=delay)
    data = CRMData(transactions=pl.from_pandas(tx))
    with caplog.at_level(logging.INFO, logger="crmmodels"):
        got = fraud_features(data, delay_days=delay)
    assert not _copies(caplog, "transactions")
    assert got.index.equals(ref.index)
    # The same sums in the same order: equal to the last bit, NaN where pandas has NaN.
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    assert ref["terminal_risk_7d"].gt(0).any()
    assert ref["seconds_since_previous"].isna().sum() == tx["customer_id"].nunique()


def test_fraud_features_wall_clock_in_polars(cards: pd.DataFrame) -> None:
    from crmmodels.propensity import fraud_features

    tx = cards.iloc[:20_000].assign(
        timestamp=cards["timestamp"].iloc[:20_000].dt.tz_localize("Europe/Brussels",
                                                                   nonexistent="shift_forward",
                                                                   ambiguous="NaT"))
    tx = tx[tx["timestamp"].notna()]
    ref = fraud_features(CRMData(transactions=tx), windows=(1,), terminal_windows=(1,))
    got = fraud_features(CRMData(transactions=pl.from_pandas(tx)), windows=(1,),
                         terminal_windows=(1,))
    pd.testing.assert_frame_equal(got, ref, check_exact=True)


def test_fraud_model_on_polars(cards: pd.DataFrame, caplog: pytest.LogCaptureFixture) -> None:
    from crmmodels.propensity import FraudModel

    tx = cards.iloc[:60_000]
    ref_data = CRMData(transactions=tx)
    ref = FraudModel(random_state=0).fit(ref_data).score(ref_data)
    data = CRMData(transactions=pl.from_pandas(tx))
    with caplog.at_level(logging.INFO, logger="crmmodels"):
        got = FraudModel(random_state=0).fit(data).score(data)
    assert not _copies(caplog, "transactions")
    pd.testing.assert_frame_equal(got, ref)
