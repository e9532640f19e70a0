"""Gamma-Gamma spend model against the published CDNOW estimates and lifetimes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData, customer_summary
from crmmodels.cltv import GammaGammaModel
from crmmodels.errors import DataValidationError
from crmmodels.testing import CHECKS, check_model
from tests.samples import lifetimes_file

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes import GammaGammaFitter


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    path = lifetimes_file("cdnow_customers_summary_with_transactions.csv")
    frame = pd.read_csv(path)
    frame.columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    return frame


@pytest.fixture(scope="module")
def fitted(summary: pd.DataFrame) -> GammaGammaModel:
    return GammaGammaModel().fit(summary)


@pytest.mark.reference
def test_published_estimates(fitted: GammaGammaModel) -> None:
    """Fader & Hardie (2013) on CDNOW: p = 6.25, q = 3.74, gamma = 15.44."""
    assert fitted.n_customers_ == 946
    assert float(f"{fitted.params_['p']:.3g}") == 6.25
    assert float(f"{fitted.params_['q']:.3g}") == 3.74
    assert fitted.params_["v"] == pytest.approx(15.44, abs=0.01)


@pytest.mark.reference
def test_equals_lifetimes(fitted: GammaGammaModel, summary: pd.DataFrame) -> None:
    repeat = summary[summary["frequency"] > 0]
    ref = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    assert fitted.log_likelihood_ == pytest.approx(-ref._negative_log_likelihood_ * len(repeat),
                                                   rel=1e-9)
    ref.params_ = pd.Series(fitted.params_.to_numpy(), index=["p", "q", "v"])
    np.testing.assert_allclose(
        fitted.conditional_expected_spend(summary["frequency"], summary["monetary_value"]),
        ref.conditional_expected_average_profit(summary["frequency"],
                                                summary["monetary_value"]).to_numpy(),
        rtol=1e-6)


def test_shrinkage_towards_population_mean(fitted: GammaGammaModel) -> None:
    pop = fitted.population_mean_spend()
    own = np.array([10.0, 200.0])
    few = fitted.conditional_expected_spend([1, 1], own)
    many = fitted.conditional_expected_spend([50, 50], own)
    assert np.all(np.abs(few - pop) < np.abs(own - pop))  # pulled towards the mean
    assert np.all(np.abs(many - own) < np.abs(few - own))  # more data, less pull
    assert float(fitted.conditional_expected_spend(0, 0.0)) == pytest.approx(pop)


def test_parameter_recovery() -> None:
    rng = np.random.default_rng(7)
    p, q, v, n = 6.0, 4.0, 15.0, 100_000
    nu = rng.gamma(q, 1 / v, n)
    x = rng.integers(1, 15, n)
    spend_sums = rng.gamma(p * x, 1 / nu)  # sum of x Gamma(p, nu) transactions
    frame = pd.DataFrame({"frequency": x, "recency": 1.0, "T": 2.0,
                          "monetary_value": spend_sums / x},
                         index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"))
    table = GammaGammaModel().fit(frame).summary()
    for name, value in {"p": p, "q": q, "v": v}.items():
        assert table.loc[name, "lower_95"] <= value <= table.loc[name, "upper_95"], name


def test_gradient_matches_finite_differences(summary: pd.DataFrame) -> None:
    repeat = summary[summary["frequency"] > 0]
    x = repeat["frequency"].to_numpy(float)
    m = repeat["monetary_value"].to_numpy(float)
    params = np.array([6.0, 3.5, 15.0])
    g = GammaGammaModel._grad(params, x, m, np.ones_like(x))
    for i in range(3):
        e = np.zeros(3)
        e[i] = 1e-6 * params[i]
        num = -(GammaGammaModel._loglik(params + e, x, m).sum()
                - GammaGammaModel._loglik(params - e, x, m).sum()) / (2 * e[i])
        assert g[i] == pytest.approx(num, rel=1e-5)


def test_needs_monetary_value_and_repeaters(cdnow_sample: CRMData) -> None:
    with pytest.raises(DataValidationError, match="monetary_value"):
        GammaGammaModel().fit(pd.DataFrame({"frequency": [1, 2], "recency": [1.0, 2.0],
                                            "T": [3.0, 3.0]}))
    none = pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [3.0, 3.0],
                         "monetary_value": [0.0, 0.0]})
    with pytest.raises(DataValidationError, match="repeat purchases"):
        GammaGammaModel().fit(none)
    assert check_model(GammaGammaModel(), cdnow_sample) == list(CHECKS)


def test_spend_frequency_correlation_is_checked() -> None:
    from crmmodels.datasets import load_cdnow
    from crmmodels.errors import DataQualityWarning

    model = GammaGammaModel().fit(load_cdnow())
    summary = customer_summary(load_cdnow(), model.freq)
    # The independence lifetimes' docs and the paper check on CDNOW (about 0.1), over
    # the customers the model fits: repeat buyers with positive spend.
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    expected = repeat[["frequency", "monetary_value"]].corr().iloc[0, 1]
    assert model.spend_frequency_correlation_ == pytest.approx(expected, rel=1e-12)
    assert model.spend_frequency_correlation_ < 0.3
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, 500).astype(float)
    tied = pd.DataFrame({"frequency": x, "recency": x * 2, "T": x * 2 + 10,
                         "monetary_value": rng.gamma(4.0, 1.0 + 0.5 * x)})
    expected = np.corrcoef(x, tied["monetary_value"])[0, 1]
    assert 0.3 < expected < 0.9
    with pytest.warns(DataQualityWarning, match=f"correlate at {expected:.2f}") as record:
        fitted = GammaGammaModel().fit(tied)
    assert [w.filename for w in record] == [__file__]
    assert fitted.spend_frequency_correlation_ == pytest.approx(expected, rel=1e-12)
