"""Dataset loaders read the published files (checked by sha256) with the documented counts."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from crmmodels.datasets import (
    DATASETS,
    dataset_path,
    load_card_transactions,
    load_cdnow,
    load_cdnow_sample,
    load_groceries,
    load_online_retail,
    load_telco_churn,
    load_vehicle_insurance_fraud,
)
from crmmodels.errors import DatasetError, DatasetNotFoundError, InvalidParameterError


def test_cdnow_full_and_sample() -> None:
    full = load_cdnow()
    assert full.n_customers == 23570
    assert full.transactions is not None
    assert len(full.transactions) == 69659
    assert str(full.observation_end.date()) == "1998-06-30"
    first = full.transactions.groupby("customer_id")["timestamp"].min()
    assert first.max() < np.datetime64("1997-04-01")  # the first-quarter 1997 cohort
    sample = load_cdnow_sample()
    assert sample.n_customers == 2357
    assert sample.transactions is not None
    assert len(sample.transactions) == 6919
    assert set(sample.customer_ids) <= set(full.customer_ids)


def test_online_retail_clean_and_raw() -> None:
    clean = load_online_retail()
    assert clean.transactions is not None
    # The usual cleaning (a customer, a positive price, no "C" invoice) keeps 397,884
    # rows of 4,338 customers; matching each cancellation to its order also removes the
    # orders that were cancelled (one per matched cancellation, counted in the report).
    removed = clean.report.count(rule="cancelled_order", action="dropped")
    assert removed % 2 == 0
    assert len(clean.transactions) == 397_884 - removed // 2
    # Regression values (this loader's own output): 2,899 orders removed, 4,327 left.
    assert removed // 2 == 2899
    assert clean.n_customers == 4327
    assert clean.customers is not None
    assert len(clean.customers) == 4327
    assert (clean.transactions["amount"] > 0).all()
    raw = load_online_retail(clean=False)
    assert raw.report.count(frame="transactions", column="customer_id", rule="not_null",
                            action="dropped") == 135_080
    assert raw.transactions is not None
    assert (raw.transactions["amount"] < 0).any()


def test_groceries() -> None:
    baskets = load_groceries()
    assert baskets["basket_id"].nunique() == 9835
    assert baskets["item"].nunique() == 169
    assert len(baskets) / 9835 == pytest.approx(4.409, abs=5e-4)
    assert "cream cheese " in set(baskets["item"])  # arules' labels kept exactly


def test_telco_churn() -> None:
    data = load_telco_churn()
    c = data.customers
    assert c is not None
    assert len(c) == 7043
    assert int(c["churned"].sum()) == 1869
    assert int(c["TotalCharges"].isna().sum()) == 11


def test_vehicle_insurance_fraud() -> None:
    claims = load_vehicle_insurance_fraud()
    assert claims.shape == (15420, 33)
    assert int(claims["FraudFound_P"].sum()) == 923
    assert claims.columns[0] == "Month"  # BOM stripped


def test_card_transactions_sample() -> None:
    data = load_card_transactions(subset="sample")
    assert data.transactions is not None
    assert len(data.transactions) == 134_288
    assert int(data.transactions["is_fraud"].sum()) == 471
    with pytest.raises(InvalidParameterError):
        load_card_transactions(subset="half")  # type: ignore[arg-type]


@pytest.mark.slow
def test_card_transactions_full() -> None:
    data = load_card_transactions()
    assert data.transactions is not None
    assert len(data.transactions) == 1_754_155
    assert int(data.transactions["is_fraud"].sum()) == 14_681
    assert data.n_customers == 4990


def test_missing_file_names_path_and_source(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError) as info:
        load_groceries(data_home=tmp_path)
    msg = str(info.value)
    assert str(tmp_path / "groceries" / "groceries.csv") in msg
    assert "arules" in msg
    assert "CRMMODELS_DATA_DIR" in msg
    assert isinstance(info.value, FileNotFoundError)


def test_env_var_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMMODELS_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetNotFoundError, match=str(tmp_path)):
        load_telco_churn()


def test_checksum_mismatch(tmp_path: Path) -> None:
    target = tmp_path / "groceries" / "groceries.csv"
    target.parent.mkdir()
    shutil.copy(dataset_path("groceries"), target)
    assert dataset_path("groceries", tmp_path) == target
    with open(target, "ab") as fh:
        fh.write(b"extra item\n")
    with pytest.raises(DatasetError, match="sha256"):
        load_groceries(data_home=tmp_path)
    with pytest.raises(InvalidParameterError):
        dataset_path("nope")
    assert set(DATASETS) >= {"cdnow", "cdnow_sample", "groceries", "online_retail"}
