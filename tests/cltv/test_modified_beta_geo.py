"""MBG/NBD against lifetimes, simulation and numerical edge cases."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats
from scipy.special import betaln, gammaln

from crmmodels import CRMData
from crmmodels.cltv.modified_beta_geo import ModifiedBetaGeoModel
from crmmodels.datasets._simulate_discrete import simulate_mbg_nbd
from crmmodels.errors import ConvergenceWarning, NotFittedError
from crmmodels.features import customer_summary
from crmmodels.testing import CHECKS, check_model
from tests.samples import lifetimes_file

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes import ModifiedBetaGeoFitter

NAMES = ["r", "alpha", "a", "b"]


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    path = lifetimes_file("cdnow_customers_summary.csv")
    return pd.read_csv(path).rename(columns={"ID": "customer_id"})


@pytest.fixture(scope="module")
def fitted(cdnow_summary: pd.DataFrame) -> ModifiedBetaGeoModel:
    return ModifiedBetaGeoModel(horizon=39).fit(cdnow_summary)


@pytest.fixture(scope="module")
def lifetimes_fit(cdnow_summary: pd.DataFrame) -> ModifiedBetaGeoFitter:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ModifiedBetaGeoFitter().fit(cdnow_summary["frequency"],
                                           cdnow_summary["recency"], cdnow_summary["T"])


def _arrays(s: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (s["frequency"].to_numpy(float), s["recency"].to_numpy(float),
            s["T"].to_numpy(float))


def _lifetimes_with(params: pd.Series) -> ModifiedBetaGeoFitter:
    fitter = ModifiedBetaGeoFitter()
    fitter.params_ = pd.Series(params.to_numpy(), index=NAMES)
    return fitter


def _close_where_finite(ours: np.ndarray, theirs: np.ndarray, rtol: float = 1e-6,
                        atol: float = 0.0) -> None:
    """Compare wherever lifetimes gives a finite answer."""
    ours, theirs = np.broadcast_arrays(np.atleast_1d(np.asarray(ours, dtype=float)),
                                       np.atleast_1d(np.asarray(theirs, dtype=float)))
    ok = np.isfinite(theirs)
    assert ok.any()
    np.testing.assert_allclose(ours[ok], theirs[ok], rtol=rtol, atol=atol)


@pytest.mark.reference
def test_estimates_and_optimum_versus_lifetimes(
    cdnow_summary: pd.DataFrame, fitted: ModifiedBetaGeoModel,
    lifetimes_fit: ModifiedBetaGeoFitter,
) -> None:
    """Our optimum is lifetimes' (no published MBG/NBD fit of this sample exists).

    For the record, regression values (measured by crmmodels itself, not a reference):
    r=0.5248, alpha=6.183, a=0.8914, b=1.614, LL=-9582.1327.
    """
    x, tx, t = _arrays(cdnow_summary)
    theirs = lifetimes_fit.params_[NAMES]
    # lifetimes fits on rescaled time and reports a mean; put both on our scale.
    their_ll = fitted._loglik(theirs.to_numpy(), x, tx, t).sum()
    assert fitted.log_likelihood_ >= their_ll - 1e-8
    # lifetimes' own likelihood code at lifetimes' own optimum: an independent value.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        their_own = -ModifiedBetaGeoFitter._negative_log_likelihood(
            np.log(theirs.to_numpy()), x, tx, t, np.ones_like(x), 0.0) * len(x)
    assert fitted.log_likelihood_ == pytest.approx(their_own, abs=1e-3)
    assert fitted.log_likelihood_ == pytest.approx(
        fitted._loglik(fitted.params_.to_numpy(), x, tx, t).sum(), rel=1e-12)
    for name in NAMES:
        assert float(f"{fitted.params_[name]:.3g}") == float(f"{theirs[name]:.3g}"), name
    assert fitted.converged_
    assert fitted.n_customers_ == 2357


@pytest.mark.reference
def test_predictions_equal_lifetimes(fitted: ModifiedBetaGeoModel,
                                     cdnow_summary: pd.DataFrame) -> None:
    ref = _lifetimes_with(fitted.params_)
    x, tx, t = _arrays(cdnow_summary)
    _close_where_finite(fitted.conditional_probability_alive(x, tx, t),
                        ref.conditional_probability_alive(x, tx, t))
    for horizon in (0.5, 1.0, 10.0, 39.0, 104.0, 520.0):
        _close_where_finite(
            fitted.conditional_expected_purchases(horizon, x, tx, t),
            ref.conditional_expected_number_of_purchases_up_to_time(horizon, x, tx, t))
    weeks = np.arange(1, 79, dtype=float)
    _close_where_finite(fitted.expected_purchases(weeks),
                        ref.expected_number_of_purchases_up_to_time(weeks))
    # lifetimes computes the negative binomial tail as 1 - sum, which cancels in the
    # far tail (absolute error ~1e-19); test_probabilities_far_tail checks ours there.
    for n in range(40):
        for horizon in (1.0, 39.0, 78.0):
            _close_where_finite(fitted.probability_of_purchases(n, horizon),
                                ref.probability_of_n_purchases_up_to_time(horizon, n),
                                atol=1e-15)


@pytest.mark.reference
def test_predictions_equal_lifetimes_elsewhere_in_parameter_space(
        cdnow_summary: pd.DataFrame) -> None:
    x, tx, t = _arrays(cdnow_summary)
    for params in ([0.25, 4.0, 0.8, 2.5], [2.0, 0.5, 3.0, 0.7], [0.1, 20.0, 1.5, 10.0]):
        model = ModifiedBetaGeoModel()
        model.params_ = pd.Series(params, index=NAMES)
        ref = _lifetimes_with(model.params_)
        _close_where_finite(model.conditional_probability_alive(x, tx, t),
                            ref.conditional_probability_alive(x, tx, t))
        _close_where_finite(
            model.conditional_expected_purchases(52.0, x, tx, t),
            ref.conditional_expected_number_of_purchases_up_to_time(52.0, x, tx, t))
        _close_where_finite(model.expected_purchases(np.array([1.0, 52.0])),
                            ref.expected_number_of_purchases_up_to_time(np.array([1.0, 52.0])))


def test_probabilities_sum_to_one(fitted: ModifiedBetaGeoModel) -> None:
    p = fitted.probability_of_purchases(np.arange(2000), 20.0)
    assert p.sum() == pytest.approx(1.0, abs=1e-10)
    mean = float(np.dot(np.arange(2000), p))
    assert mean == pytest.approx(float(fitted.expected_purchases(20.0)), rel=1e-8)
    assert float(fitted.probability_of_purchases(0, 0.0)) == pytest.approx(1.0)


def test_probabilities_far_tail(fitted: ModifiedBetaGeoModel) -> None:
    """P(X(t) = n) against the tail summed term by term (no cancellation)."""
    r, alpha, a, b = fitted.params_.to_numpy()
    horizon = 1.0
    j = np.arange(5000)
    log_nbd = (gammaln(r + j) - gammaln(r) - gammaln(j + 1) + r * np.log(alpha / (alpha + horizon))
               + j * np.log(horizon / (alpha + horizon)))
    nbd = np.exp(log_nbd)
    for n in (0, 5, 15, 30, 60):
        tail = np.sum(nbd[n:][::-1])
        expected = (np.exp(betaln(a, b + n + 1) - betaln(a, b)) * nbd[n]
                    + np.exp(betaln(a + 1, b + n) - betaln(a, b)) * tail)
        assert float(fitted.probability_of_purchases(n, horizon)) == pytest.approx(
            expected, rel=1e-12)


def test_conditional_expectation_against_quadrature() -> None:
    """Frequent buyers, where lifetimes' 2F1 overflows, against direct integration.

    Alive at T, E[X(T, T + t) | lambda, p] = (1 - exp(-lambda p t)) / p; the posterior
    is lambda ~ Gamma(r + x, alpha + T), p ~ Beta(a, b + x + 1).
    """
    model = ModifiedBetaGeoModel()
    r, alpha, a, b = 0.5, 6.0, 0.9, 1.6
    model.params_ = pd.Series([r, alpha, a, b], index=NAMES)
    big_t, horizon = 40.0, 52.0
    for x in (0, 3, 300, 3000):
        shape = r + x

        def integrand(p: float, shape: float = shape, x: int = x) -> float:
            mean_given_p = (1 - ((alpha + big_t) / (alpha + big_t + p * horizon)) ** shape) / p
            return float(mean_given_p * stats.beta.pdf(p, a, b + x + 1))

        expected, _ = integrate.quad(integrand, 0, 1, limit=500, epsabs=0, epsrel=1e-11)
        alive = model.conditional_probability_alive(x, big_t if x else 0.0, big_t)
        ours = model.conditional_expected_purchases(horizon, x, big_t if x else 0.0, big_t)
        assert float(ours) == pytest.approx(expected * float(alive), rel=1e-7), x


def test_continuous_across_a_equal_one() -> None:
    """The closed forms divide by a - 1; near a = 1 they must stay smooth."""
    model = ModifiedBetaGeoModel()

    def values(a: float) -> np.ndarray:
        model.params_ = pd.Series([0.5, 6.0, a, 1.6], index=NAMES)
        return np.array([float(model.expected_purchases(39.0)),
                         float(model.conditional_expected_purchases(39.0, 2, 30.0, 38.0))])

    # A polynomial through points well away from a = 1 predicts the values near it.
    far = np.array([-3e-3, -2e-3, -1e-3, 1e-3, 2e-3, 3e-3])
    table = np.array([values(1 + d) for d in far])
    for near in (-5e-6, -1e-6, 0.0, 1e-6, 5e-6):
        got = values(1 + near)
        assert np.all(np.isfinite(got))
        for k in range(2):
            predicted = np.polyval(np.polyfit(far, table[:, k], 4), near)
            assert got[k] == pytest.approx(predicted, rel=1e-8)


def test_gradient_matches_finite_differences(cdnow_summary: pd.DataFrame) -> None:
    model = ModifiedBetaGeoModel()
    x, tx, t = _arrays(cdnow_summary)
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
    sim = simulate_mbg_nbd(200_000, 52.0, **truth, random_state=0)
    model = ModifiedBetaGeoModel().fit(sim[["frequency", "recency", "T"]])
    table = model.summary()
    for name, value in truth.items():
        assert table.loc[name, "lower_95"] <= value <= table.loc[name, "upper_95"], name
    # P(alive) is calibrated against the simulation's latent state.
    p_alive = model.conditional_probability_alive(sim["frequency"], sim["recency"], sim["T"])
    assert abs(p_alive.mean() - sim["alive"].mean()) < 0.01
    one_timers = (sim["frequency"] == 0).to_numpy()
    assert abs(p_alive[one_timers].mean() - sim["alive"][one_timers].mean()) < 0.01


_params = st.tuples(*(st.floats(1e-3, 1e3) for _ in range(4))).map(np.array)


@given(params=_params, x=st.integers(0, 5000), t=st.floats(1e-6, 1e4),
       share=st.floats(0.0, 1.0), horizon=st.floats(1e-3, 1e3))
def test_numerical_robustness(params: np.ndarray, x: int, t: float, share: float,
                              horizon: float) -> None:
    model = ModifiedBetaGeoModel()
    model.params_ = pd.Series(params, index=NAMES)
    tx = share * t if x > 0 else 0.0
    for rec in (tx, t if x > 0 else 0.0):  # recency == T too
        ll = model._loglik(params, np.array([float(x)]), np.array([rec]), np.array([t]))
        assert np.isfinite(ll).all()
        p_alive = float(model.conditional_probability_alive(x, rec, t))
        assert 0.0 <= p_alive <= 1.0
        expected = float(model.conditional_expected_purchases(horizon, x, rec, t))
        assert np.isfinite(expected)
        assert expected >= -1e-9 * max(1.0, abs(expected))
    assert np.isfinite(model.expected_purchases(horizon)).all()
    p = model.probability_of_purchases(np.array([0, 1, x]), horizon)
    assert np.all(np.isfinite(p))
    assert np.all((p >= 0) & (p <= 1 + 1e-12))


@given(a=st.floats(1e-3, 1e3), b=st.floats(1e-3, 1e3), r=st.floats(1e-3, 1e3),
       x=st.sampled_from([0, 1, 7, 60, 800, 5000]), c=st.floats(1e-8, 1e6))
def test_closed_form_agrees_with_quadrature(a: float, b: float, r: float, x: int,
                                            c: float) -> None:
    """The hypergeometric / series evaluation against direct integration over p."""
    from crmmodels.cltv.modified_beta_geo import _alive_mean, _beta_mean_by_quadrature

    ours = float(_alive_mean(a, np.array([b + x + 1]), np.array([r + x]), np.array([c]))[0])
    assert ours == pytest.approx(_beta_mean_by_quadrature(a, b + x + 1, r + x, c), rel=1e-7)


def test_all_zero_frequencies_flagged() -> None:
    zeros = pd.DataFrame({"frequency": 0, "recency": 0.0, "T": np.linspace(10, 50, 200)},
                         index=pd.Index([f"c{i}" for i in range(200)], name="customer_id"))
    with pytest.warns(ConvergenceWarning, match="not identified|driven to"):
        model = ModifiedBetaGeoModel().fit(zeros)
    scores = model.score(zeros)
    assert np.isfinite(scores.to_numpy()).all()
    assert (scores["expected_purchases"] < 1e-3).all()


def test_score_on_transactions_and_summary(cdnow_sample: CRMData) -> None:
    model = ModifiedBetaGeoModel(horizon=52, freq="W").fit(cdnow_sample)
    scores = model.score(cdnow_sample)
    assert scores.index.name == "customer_id"
    assert len(scores) == 2357
    assert scores["p_alive"].between(0, 1).all()
    assert (scores["p_alive"] < 1).all()  # one-time buyers may have left
    assert (scores["expected_purchases"] >= 0).all()
    assert np.isfinite(scores.to_numpy()).all()
    summary = customer_summary(cdnow_sample, freq="W")
    pd.testing.assert_frame_equal(model.score(summary), scores)
    refit = ModifiedBetaGeoModel(horizon=52).fit(summary)
    pd.testing.assert_series_equal(refit.params_, model.params_)


def test_contract_and_pickle(cdnow_sample: CRMData) -> None:
    assert check_model(ModifiedBetaGeoModel(), cdnow_sample) == list(CHECKS)
    model = ModifiedBetaGeoModel().fit(cdnow_sample)
    again = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(again.summary(), model.summary())
    with pytest.raises(NotFittedError):
        ModifiedBetaGeoModel().summary()
