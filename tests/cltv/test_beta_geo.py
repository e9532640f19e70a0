"""BG/NBD against the paper, lifetimes, simulation and numerical edge cases."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels import CRMData
from crmmodels.cltv import BetaGeoModel
from crmmodels.datasets import simulate_bg_nbd
from crmmodels.errors import DataValidationError, NotFittedError
from crmmodels.testing import CHECKS, check_model
from tests.samples import lifetimes_file

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    path = lifetimes_file("cdnow_customers_summary.csv")
    return pd.read_csv(path).rename(columns={"ID": "customer_id"})


@pytest.fixture(scope="module")
def fitted(cdnow_summary: pd.DataFrame) -> BetaGeoModel:
    return BetaGeoModel(horizon=39).fit(cdnow_summary)


def _lifetimes_with(params: pd.Series) -> BetaGeoFitter:
    fitter = BetaGeoFitter()
    fitter.params_ = pd.Series(params.to_numpy(), index=["r", "alpha", "a", "b"])
    return fitter


@pytest.mark.reference
def test_published_estimates(fitted: BetaGeoModel) -> None:
    """Fader, Hardie & Lee (2005): r=0.243, alpha=4.414, a=0.793, b=2.426, LL=-9582.4."""
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert float(f"{fitted.params_[name]:.3g}") == pytest.approx(float(f"{value:.3g}"))
    assert round(fitted.log_likelihood_, 1) == -9582.4
    assert fitted.converged_
    assert fitted.n_customers_ == 2357


@pytest.mark.reference
def test_predictions_equal_lifetimes(fitted: BetaGeoModel, cdnow_summary: pd.DataFrame) -> None:
    ref = _lifetimes_with(fitted.params_)
    x, tx, t = (cdnow_summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    np.testing.assert_allclose(fitted.conditional_probability_alive(x, tx, t),
                               ref.conditional_probability_alive(x, tx, t), rtol=1e-6)
    for horizon in (1.0, 10.0, 39.0, 104.0):
        np.testing.assert_allclose(
            fitted.conditional_expected_purchases(horizon, x, tx, t),
            ref.conditional_expected_number_of_purchases_up_to_time(horizon, x, tx, t),
            rtol=1e-6)
    weeks = np.arange(1, 79)
    np.testing.assert_allclose(fitted.expected_purchases(weeks),
                               ref.expected_number_of_purchases_up_to_time(weeks), rtol=1e-6)
    for n in range(6):
        np.testing.assert_allclose(fitted.probability_of_purchases(n, 39.0),
                                   ref.probability_of_n_purchases_up_to_time(39.0, n), rtol=1e-6)


@pytest.mark.reference
def test_our_optimum_is_at_least_lifetimes(cdnow_summary: pd.DataFrame,
                                           fitted: BetaGeoModel) -> None:
    ref = BetaGeoFitter().fit(cdnow_summary["frequency"], cdnow_summary["recency"],
                              cdnow_summary["T"])
    x, tx, t = (cdnow_summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    theirs = fitted._loglik(ref.params_[["r", "alpha", "a", "b"]].to_numpy(), x, tx, t).sum()
    assert fitted.log_likelihood_ >= theirs - 1e-6


def test_probabilities_sum_to_one(fitted: BetaGeoModel) -> None:
    total = sum(float(fitted.probability_of_purchases(n, 20.0)) for n in range(400))
    assert total == pytest.approx(1.0, abs=1e-9)
    mean = sum(n * float(fitted.probability_of_purchases(n, 20.0)) for n in range(400))
    assert mean == pytest.approx(float(fitted.expected_purchases(20.0)), rel=1e-6)


def test_gradient_matches_finite_differences(cdnow_summary: pd.DataFrame) -> None:
    model = BetaGeoModel()
    x, tx, t = (cdnow_summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    w = np.ones_like(x)
    rng = np.random.default_rng(0)
    for _ in range(5):
        p = rng.uniform(0.2, 5.0, 4)
        g = model._grad(p, x, tx, t, w)
        num = np.empty(4)
        for i in range(4):
            h = 1e-6 * p[i]
            e = np.zeros(4)
            e[i] = h
            num[i] = -(model._loglik(p + e, x, tx, t).sum()
                       - model._loglik(p - e, x, tx, t).sum()) / (2 * h)
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-6)


def test_parameter_recovery_on_simulated_customers() -> None:
    truth = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    sim = simulate_bg_nbd(200_000, 52.0, **truth, random_state=1)
    table = BetaGeoModel().fit(sim).summary()
    for name, value in truth.items():
        assert table.loc[name, "lower_95"] <= value <= table.loc[name, "upper_95"], name
    # The simulation's own truth: P(alive) is calibrated against the latent state.
    model = BetaGeoModel().fit(sim)
    p_alive = model.conditional_probability_alive(sim["frequency"], sim["recency"], sim["T"])
    assert abs(p_alive.mean() - sim["alive"].mean()) < 0.01


_params = st.tuples(*(st.floats(1e-3, 1e3) for _ in range(4))).map(np.array)


@given(params=_params, x=st.integers(0, 5000), t=st.floats(1e-6, 1e4),
       share=st.floats(0.0, 1.0))
def test_numerical_robustness(params: np.ndarray, x: int, t: float, share: float) -> None:
    model = BetaGeoModel()
    model.params_ = pd.Series(params, index=["r", "alpha", "a", "b"])
    tx = share * t if x > 0 else 0.0
    ll = model._loglik(params, np.array([float(x)]), np.array([tx]), np.array([t]))
    assert np.isfinite(ll).all()
    p_alive = model.conditional_probability_alive(x, tx, t)
    assert np.isfinite(p_alive).all()
    assert 0.0 <= float(p_alive) <= 1.0
    ll_eq = model._loglik(params, np.array([float(x)]), np.array([t]), np.array([t]))
    assert np.isfinite(ll_eq).all()  # recency == T
    expected = model.conditional_expected_purchases(10.0, x, tx, t)
    assert np.isfinite(expected).all()
    assert float(expected) >= -1e-9
    assert np.isfinite(model.expected_purchases([0.5, 50.0])).all()


def test_all_zero_frequencies_flagged() -> None:
    zeros = pd.DataFrame({"frequency": 0, "recency": 0.0, "T": np.linspace(10, 50, 200)},
                         index=pd.Index([f"c{i}" for i in range(200)], name="customer_id"))
    from crmmodels.errors import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match="not identified|driven to"):
        model = BetaGeoModel().fit(zeros)
    scores = model.score(zeros)
    assert np.isfinite(scores.to_numpy()).all()
    assert (scores["expected_purchases"] < 1e-3).all()


def test_score_on_transactions_and_summary(cdnow_sample: CRMData) -> None:
    model = BetaGeoModel(horizon=52, freq="W").fit(cdnow_sample)
    scores = model.score(cdnow_sample)
    assert scores.index.name == "customer_id"
    assert len(scores) == 2357
    assert scores["p_alive"].between(0, 1).all()
    assert (scores["expected_purchases"] >= 0).all()
    assert np.isfinite(scores.to_numpy()).all()
    # Same answer through the summary frame route.
    from crmmodels.features import customer_summary

    summary = customer_summary(cdnow_sample, freq="W")
    pd.testing.assert_frame_equal(model.score(summary), scores)


def test_contract_and_pickle(cdnow_sample: CRMData) -> None:
    assert check_model(BetaGeoModel(), cdnow_sample) == list(CHECKS)
    model = BetaGeoModel().fit(cdnow_sample)
    again = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(again.summary(), model.summary())
    with pytest.raises(NotFittedError):
        BetaGeoModel().summary()


def test_single_customer_is_a_clear_error(cdnow_sample: CRMData) -> None:
    tx = cdnow_sample.transactions
    assert tx is not None
    one = CRMData(transactions=tx[tx["customer_id"] == tx["customer_id"].iloc[0]])
    with pytest.raises(DataValidationError, match="at least 2 customers"):
        BetaGeoModel().fit(one)


def test_purchase_count_tail_without_cancellation(fitted: BetaGeoModel) -> None:
    """Far in the tail P(X(t) = n) stays accurate (no 1 - sum cancellation)."""
    from scipy import stats
    from scipy.special import betaln

    r, alpha, a, b = fitted.params_.to_numpy()
    t = 39.0
    q = alpha / (alpha + t)
    for n in (1, 5, 40, 120):
        expected = (np.exp(betaln(a, b + n) - betaln(a, b)) * stats.nbinom.pmf(n, r, q)
                    + np.exp(betaln(a + 1, b + n - 1) - betaln(a, b))
                    * stats.nbinom.sf(n - 1, r, q))
        assert float(fitted.probability_of_purchases(n, t)) == pytest.approx(expected, rel=1e-9)


def test_no_stale_results_outside_a_fit(fitted: BetaGeoModel) -> None:
    p = fitted.params_.to_numpy()
    x, tx, t = np.array([0.0, 1.0, 2.0]), np.array([0.0, 5.0, 9.0]), np.array([10.0] * 3)
    first = fitted._loglik(p, x, tx, t).copy()
    x[:] = 3.0
    tx[:] = 9.5
    again = fitted._loglik(p, x, tx, t)
    np.testing.assert_array_equal(again, fitted._loglik(p, x.copy(), tx.copy(), t.copy()))
    assert not np.allclose(first, again)
    assert not hasattr(fitted, "_fit_cache")


def _log_series(a: float, b: float, c: float, z: float) -> float:
    """Log of the Gauss series of 2F1(a, b; c; z), summed in plain Python (the reference)."""
    from math import exp, log

    terms, log_term = [0.0], 0.0
    for k in range(1_000_000):
        ratio = (a + k) * (b + k) / ((c + k) * (k + 1)) * z
        log_term += log(ratio)
        terms.append(log_term)
        if ratio < 1 and log_term < max(terms) - 50:
            break
    top = max(terms)
    return top + log(sum(exp(t - top) for t in terms))


@pytest.mark.parametrize(("params", "x", "big_t"), [
    ((212.5, 1.0, 25.0, 148.0), 0, 50.0),  # (1 - z)^r underflows, the series overflows
    ((87.5, 0.25, 15.0, 1.0), 158, 0.25),  # a frequent buyer seen for a short time
])
def test_extreme_parameters_give_finite_expectations(params: tuple[float, ...], x: int,
                                                     big_t: float) -> None:
    from math import exp, log

    r, alpha, a, b = params
    model = BetaGeoModel()
    model.params_ = pd.Series(params, index=["r", "alpha", "a", "b"])
    if x == 0:
        z = big_t / (alpha + big_t)
        want = (a + b - 1) / (a - 1) * (1 - exp(r * log(1 - z) + _log_series(r, b, a + b - 1,
                                                                           z)))
        got = float(model.expected_purchases(big_t))
    else:
        t = 10.0
        z = t / (alpha + big_t + t)
        if_alive = (a + b + x - 1) / (a - 1) * (1 - exp(
            (r + x) * log(1 - z) + _log_series(r + x, b + x, a + b + x - 1, z)))
        log_odds = log(a) - log(b + x - 1) + (r + x) * (log(alpha + big_t) - log(alpha))
        want = if_alive / (1 + exp(log_odds))
        got = float(model.conditional_expected_purchases(t, x, 0.0, big_t))
    assert np.isfinite(got)
    assert got == pytest.approx(want, rel=1e-9)
