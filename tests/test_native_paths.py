"""Churn features and labels, and basket encoding, read polars data in polars.

Each is compared with the pandas computation on the same data, value by value, and no
pandas copy of the transactions is made.
"""

from __future__ import annotations

import logging
from typing import Any

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
    """Equal to the last bit: the sums add the same values in the same order."""
    assert got.index.equals(ref.index)
    assert got.columns.tolist() == ref.columns.tolist()
    pd.testing.assert_frame_equal(got, ref, check_exact=True)


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


@pytest.fixture(scope="module")
def cdnow_tx() -> pd.DataFrame:
    from crmmodels.datasets import load_cdnow

    tx = load_cdnow().transactions
    assert tx is not None
    return tx[["customer_id", "timestamp", "amount"]]


@pytest.mark.parametrize("kind", ["clv", "churn"])
def test_backtest_cuts_polars_data_in_polars(world: CRMData, cdnow_tx: pd.DataFrame,
                                             kind: str,
                                             caplog: pytest.LogCaptureFixture) -> None:
    from crmmodels.cltv import BetaGeoModel
    from crmmodels.model_selection import backtest
    from crmmodels.propensity import ChurnModel

    def model() -> Any:
        return (BetaGeoModel(freq="W", horizon=13) if kind == "clv"
                else ChurnModel(horizon="90D", random_state=0))

    data = CRMData(transactions=cdnow_tx) if kind == "clv" else world
    horizon = "182D" if kind == "clv" else "90D"
    ref = backtest(model(), data, cutoffs=2, horizon=horizon, window="sliding")
    native = _polars(data)
    with caplog.at_level(logging.INFO, logger="crmmodels"):
        got = backtest(model(), native, cutoffs=2, horizon=horizon, window="sliding")
    assert not _copies(caplog, "transactions")
    assert not _copies(caplog, "interactions")
    pd.testing.assert_frame_equal(got, ref, rtol=1e-9)
    assert len(ref) > 4


@pytest.mark.parametrize("end", [None, "2024-06-30 12:00"])
def test_lifecycle_trends_in_polars(world: CRMData, end: str | None,
                                    caplog: pytest.LogCaptureFixture) -> None:
    from crmmodels.segments import LifecycleModel

    ref = LifecycleModel(observation_end=end).fit(world).score(world)
    native = _polars(world)
    with caplog.at_level(logging.INFO, logger="crmmodels"):
        got = LifecycleModel(observation_end=end).fit(native).score(native)
    assert not _copies(caplog, "transactions")
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    assert ref["lifecycle_stage"].nunique() >= 4


def test_whole_analysis_of_polars_data_reads_it_in_polars(
        retail: pd.DataFrame, caplog: pytest.LogCaptureFixture) -> None:
    from crmmodels.report import analyze

    sample = retail[retail["customer_id"].isin(
        sorted(retail["customer_id"].unique())[::6])]
    ref = analyze(CRMData(transactions=sample), name="retail")
    with caplog.at_level(logging.INFO, logger="crmmodels"):
        got = analyze(CRMData(transactions=pl.from_pandas(sample)), name="retail")
    assert not _copies(caplog, "transactions")
    assert [s.skipped for s in got.sections] == [s.skipped for s in ref.sections]
    assert all(s.skipped is None for s in ref.sections)
    pd.testing.assert_frame_equal(got.scores, ref.scores, rtol=1e-6)


# BG/NBD's a and b run to infinity on this simulation (its dropout is not BG/NBD's);
# both sides fit the same summary, which is what is compared.
@pytest.mark.filterwarnings("ignore::crmmodels.errors.ConvergenceWarning")
def test_value_chain_report_grouped_in_polars(world: CRMData,
                                              caplog: pytest.LogCaptureFixture) -> None:
    from crmmodels.errors import DataQualityWarning
    from crmmodels.value_chain import ValueChainModel

    def run(data: CRMData) -> tuple[dict[str, Any], pd.DataFrame]:
        model = ValueChainModel(period="180D").fit(data)
        return model.report(data), model.score(data)

    # 15 customers of the customers frame never buy: both sides say so.
    with pytest.warns(DataQualityWarning, match="15 customers have no future value"):
        ref, ref_scores = run(world)
    native = _polars(world)
    with caplog.at_level(logging.INFO, logger="crmmodels"), \
            pytest.warns(DataQualityWarning, match="15 customers have no future value"):
        got, scores = run(native)
    assert not _copies(caplog, "transactions")
    assert not _copies(caplog, "interactions")
    pd.testing.assert_frame_equal(scores, ref_scores, rtol=1e-9)
    for key in ("portfolio", "concentration", "intimacy", "proposition", "lifecycle"):
        pd.testing.assert_frame_equal(got[key], ref[key], rtol=1e-9, obj=key)
    assert ref["intimacy"]["complaints_per_customer"].gt(0).any()


def test_churn_features_purchases_of_many_lines(retail: pd.DataFrame) -> None:
    """Online Retail: invoices of up to hundreds of lines, summed in the same order."""
    sizes = retail.groupby("transaction_id").size()
    assert sizes.max() > 100
    ref = churn_features(CRMData(transactions=retail), "2011-09-30")
    got = churn_features(CRMData(transactions=pl.from_pandas(retail)), "2011-09-30")
    _same(got, ref)
    assert {"n_products", "spend_trend_90d"} <= set(ref.columns)


def test_pyarrow_data_take_the_pandas_path(world: CRMData) -> None:
    """A pyarrow table is read through its pandas copy, with the pandas numbers.

    narwhals' pyarrow backend has no ordered window functions, which the polars
    queries use.
    """
    import pyarrow as pa

    from crmmodels.segments import LifecycleModel

    tx = world.transactions
    assert tx is not None
    data = CRMData(transactions=pa.Table.from_pandas(tx, preserve_index=False),
                   observation_end=world.observation_end)
    assert data.engine("transactions") == "pyarrow"
    plain = CRMData(transactions=tx, observation_end=world.observation_end)
    _same(churn_features(data), churn_features(plain))
    pd.testing.assert_frame_equal(LifecycleModel().fit(data).score(data),
                                  LifecycleModel().fit(plain).score(plain))
    codes, ids = data.customer_codes()
    ref_codes, ref_ids = plain.customer_codes()
    assert ids.equals(ref_ids)
    assert (codes == ref_codes).all()
