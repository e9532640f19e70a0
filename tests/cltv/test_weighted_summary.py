"""Summaries with ``n_customers``: one row standing for several customers.

The reference is the same summary with each row repeated ``n_customers`` times: the
weighted fit must find the estimates, log-likelihood and diagnostics of that fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmmodels.cltv import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
)
from crmmodels.data import customer_summary, validate_summary
from crmmodels.errors import DataValidationError


@pytest.fixture(scope="module")
def summary(cdnow_sample) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return customer_summary(cdnow_sample, freq="W")


@pytest.fixture(scope="module")
def counted(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct (frequency, recency, T, monetary_value), in random order."""
    keys = ["frequency", "recency", "T", "monetary_value"]
    out = summary.groupby(keys).size().rename("n_customers").reset_index()
    return out.sample(frac=1.0, random_state=0).reset_index(drop=True)


@pytest.mark.parametrize("model_class", [BetaGeoModel, ParetoNBDModel, ModifiedBetaGeoModel,
                                         GammaGammaModel])
def test_weighted_fit_equals_repeated_rows(counted: pd.DataFrame, model_class: type) -> None:
    repeated = counted.loc[counted.index.repeat(counted["n_customers"])].drop(
        columns="n_customers").reset_index(drop=True)
    assert len(counted) < len(repeated) / 2
    ref = model_class(freq="W").fit(repeated)
    got = model_class(freq="W").fit(counted)
    np.testing.assert_allclose(got.params_.to_numpy(), ref.params_.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(got.log_likelihood_, ref.log_likelihood_, rtol=1e-12)
    np.testing.assert_allclose(got.standard_errors_.to_numpy(),
                               ref.standard_errors_.to_numpy(), rtol=1e-6)
    assert got.n_customers_ == ref.n_customers_
    if model_class is GammaGammaModel:
        assert got.n_excluded_ == ref.n_excluded_
        np.testing.assert_allclose(got.spend_frequency_correlation_,
                                   ref.spend_frequency_correlation_, rtol=1e-12)
    # Scoring a counted summary scores each row once.
    assert len(got.score(counted)) == len(counted)


@pytest.mark.parametrize("bad", [0, 1.5, -2, np.nan])
def test_counts_are_whole_numbers_from_one(counted: pd.DataFrame, bad: float) -> None:
    broken = counted.astype({"n_customers": float})
    broken.loc[3, "n_customers"] = bad
    with pytest.raises(DataValidationError, match="whole number >= 1") as raised:
        validate_summary(broken)
    assert (raised.value.column, raised.value.rule, raised.value.rows) == (
        "n_customers", "count", [3])


def test_counts_numeric_and_continuous_only(counted: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match="n_customers must be numeric"):
        validate_summary(counted.assign(n_customers="2"))
    discrete = pd.DataFrame({"frequency": [1, 0], "recency": [3, 0], "n_periods": [6, 6],
                             "n_customers": [5, 2]})
    with pytest.raises(DataValidationError, match="continuous-time") as raised:
        BetaGeoBetaBinomModel().fit(discrete)
    assert raised.value.rule == "unsupported"


def test_two_customers_in_one_row_are_two(summary: pd.DataFrame) -> None:
    one_row = summary.iloc[[0]].assign(n_customers=1)
    with pytest.raises(DataValidationError, match="at least 2 customers, got 1"):
        BetaGeoModel(freq="W").fit(one_row)
    doubled = summary.iloc[:300].assign(n_customers=2)
    assert BetaGeoModel(freq="W").fit(doubled).n_customers_ == 600
