"""NaiveRateModel recovers known Gamma-Poisson parameters from simulated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmmodels import NaiveRateModel


def _simulate(r: float, alpha: float, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rates = rng.gamma(shape=r, scale=1 / alpha, size=n)
    t = rng.uniform(20, 80, size=n)
    x = rng.poisson(rates * t)
    recency = np.where(x > 0, t * rng.uniform(0.5, 1.0, size=n), 0.0)
    return pd.DataFrame({"frequency": x, "recency": recency, "T": t},
                        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"))


@pytest.mark.parametrize(("r", "alpha"), [(0.5, 10.0), (2.0, 4.0)])
def test_recovers_simulated_parameters(r: float, alpha: float) -> None:
    summary = _simulate(r, alpha, 40_000, seed=1)
    model = NaiveRateModel(horizon=10).fit(summary)
    assert model.params_["r"] == pytest.approx(r, rel=0.1)
    assert model.params_["alpha"] == pytest.approx(alpha, rel=0.1)
    assert model.n_customers_ == 40_000


def test_posterior_mean_formula_and_shrinkage() -> None:
    summary = _simulate(0.5, 10.0, 5_000, seed=2)
    model = NaiveRateModel(horizon=26).fit(summary)
    scores = model.score(summary)
    r, a = model.params_["r"], model.params_["alpha"]
    expected = 26 * (r + summary["frequency"]) / (a + summary["T"])
    np.testing.assert_allclose(scores["expected_purchases"], expected, rtol=1e-12)
    # Shrinkage: the posterior rate lies between the pooled mean and the customer's own rate.
    own = summary["frequency"] / summary["T"]
    pooled = r / a
    lo, hi = np.minimum(own, pooled), np.maximum(own, pooled)
    assert ((scores["purchase_rate"] >= lo - 1e-12) & (scores["purchase_rate"] <= hi + 1e-12)).all()


def test_holdout_prediction_beats_pooled_mean() -> None:
    """On data with known rates, posterior means predict new counts better than the pool."""
    rng = np.random.default_rng(3)
    n = 20_000
    rates = rng.gamma(0.8, 1 / 8.0, size=n)
    t = np.full(n, 52.0)
    x = rng.poisson(rates * t)
    future = rng.poisson(rates * 26)
    summary = pd.DataFrame({"frequency": x, "recency": np.where(x > 0, 30.0, 0.0), "T": t},
                           index=pd.Index([str(i) for i in range(n)], name="customer_id"))
    pred = NaiveRateModel(horizon=26).fit(summary).score(summary)["expected_purchases"]
    pooled = np.full(n, x.sum() / t.sum() * 26)
    assert np.mean((pred - future) ** 2) < 0.8 * np.mean((pooled - future) ** 2)
