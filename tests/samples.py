"""Small slices of the real data sets that several test modules fit models on."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from crmmodels import CRMData
from crmmodels.cltv._base import MaximumLikelihoodModel
from crmmodels.core import get_model, list_models
from crmmodels.datasets import load_cdnow_sample


def mle_models() -> list[type[MaximumLikelihoodModel]]:
    """Return every registered model fitted by the shared maximum-likelihood loop."""
    classes = [get_model(name) for name in list_models()]
    return [c for c in classes if issubclass(c, MaximumLikelihoodModel)]


def cdnow_churn_sample() -> CRMData:
    """Return the 600 lowest customer ids of the CDNOW sample, with its observation end.

    600 customers keep the stacked default churn estimator's many fits quick; the
    format-1 churn file under tests/data was fitted on exactly this slice.
    """
    data = load_cdnow_sample()
    tx = data.transactions
    assert tx is not None
    first = tx["customer_id"].drop_duplicates().sort_values().iloc[:600]
    return CRMData(transactions=tx[tx["customer_id"].isin(first)],
                   observation_end=data.observation_end)


@cache
def cdnow_with_interactions() -> CRMData:
    """Return the CDNOW sample with simulated campaign interactions (for the IDIC model)."""
    from crmmodels.datasets import load_cdnow_sample, simulate_interactions

    data = load_cdnow_sample()
    ids = data.customer_ids
    inter, truth = simulate_interactions(len(ids), contacts=8, start="1997-01-01", days=540,
                                         random_state=0)
    rename = dict(zip(truth.index, ids, strict=True))
    inter = inter.assign(customer_id=inter["customer_id"].map(rename))
    return CRMData(transactions=data.transactions,
                   interactions=inter[inter["timestamp"] <= data.observation_end],
                   observation_end=data.observation_end)


@cache
def bank_contacts(step: int) -> CRMData:
    """Return every ``step``-th Bank Marketing contact as a customers table.

    The numeric columns only (``duration``, known after the call, dropped) and the
    label ``y``: a small, quick table for the response model's contract tests.
    """
    from crmmodels.datasets import load_bank_marketing

    bank = load_bank_marketing().iloc[::step]
    table = bank.select_dtypes("number").drop(columns="duration").assign(y=bank["y"])
    return CRMData(customers=table.assign(customer_id=[f"b{i}" for i in bank.index]))


@cache
def campaign_test(n_customers: int) -> CRMData:
    """Return a simulated randomised campaign (true uplift dropped) as a customers table."""
    from crmmodels.datasets import simulate_campaign

    test = simulate_campaign(n_customers, random_state=0).drop(columns="true_uplift")
    return CRMData(customers=test.reset_index())


def pair_scores(truth: np.ndarray, found: np.ndarray) -> tuple[float, float]:
    """Precision and recall of same-person pairs, counted from the contingency table.

    A pair of records is predicted together when both get one key and truly together
    when both belong to one person; counting pairs as C(n, 2) per cell of the table is
    the same as looping over every pair of records.
    """
    table = pd.crosstab(truth, found)

    def pairs(counts: np.ndarray) -> float:
        return float((counts * (counts - 1) / 2).sum())

    both = pairs(table.to_numpy())
    return both / pairs(table.sum(axis=0).to_numpy()), both / pairs(table.sum(axis=1).to_numpy())


def key_of_person(records: pd.DataFrame, mapping: pd.Series) -> pd.Series:
    """Each planted person's ``customer_key`` (from their first record), by person."""
    keys = records["customer_id"].map(mapping)
    return keys.groupby(records["person"].to_numpy()).first()


def lifetimes_file(name: str) -> Path:
    """Return a data file the lifetimes package ships (its published summaries).

    Found without importing lifetimes; it comes with the ``reference`` extra.
    """
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or spec.origin is None:
        raise ImportError('the lifetimes files need pip install "crmmodels[reference]"')
    return Path(spec.origin).parent / "datasets" / name
