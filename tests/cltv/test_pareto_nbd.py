"""Pareto/NBD against the paper, lifetimes, simulation, quadrature and numerical edge cases."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate
from scipy.special import gammaln

from crmmodels import CRMData
from crmmodels.cltv.pareto_nbd import ParetoNBDModel
from crmmodels.datasets import simulate_pareto_nbd
from crmmodels.errors import DataValidationError, NotFittedError
from crmmodels.testing import check_model
from tests.samples import lifetimes_file

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes import ParetoNBDFitter

NAMES = ["r", "alpha", "s", "beta"]
PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    path = lifetimes_file("cdnow_customers_summary.csv")
    return pd.read_csv(path).rename(columns={"ID": "customer_id"})


@pytest.fixture(scope="module")
def fitted(cdnow_summary: pd.DataFrame) -> ParetoNBDModel:
    return ParetoNBDModel(horizon=39).fit(cdnow_summary)


def _with_params(params: np.ndarray | list[float]) -> ParetoNBDModel:
    model = ParetoNBDModel()
    model.params_ = pd.Series(np.asarray(params, dtype=float), index=NAMES, name="estimate")
    return model


def _lifetimes_with(params: pd.Series) -> ParetoNBDFitter:
    fitter = ParetoNBDFitter()
    fitter.params_ = pd.Series(params.to_numpy(), index=NAMES)
    return fitter


def _max_rel(ours: np.ndarray, ref: np.ndarray) -> float:
    """Largest relative difference where the reference is finite."""
    ok = np.isfinite(ref)
    assert ok.mean() > 0.9, "lifetimes is non-finite almost everywhere"
    scale = np.maximum(np.abs(ref[ok]), 1e-300)
    return float(np.max(np.abs(ours[ok] - ref[ok]) / scale))


def _random_customers(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    x = rng.choice([0, 1, 2, 3, 5, 8, 13, 30, 100], n).astype(float)
    t = rng.uniform(0.5, 80.0, n)
    tx = np.where(x > 0, t * rng.uniform(0.0, 1.0, n), 0.0)
    tx[:5] = np.where(x[:5] > 0, t[:5], 0.0)  # recency == T
    return x, tx, t


# ---------------------------------------------------------------------- published results
@pytest.mark.reference
def test_published_estimates(fitted: ParetoNBDModel) -> None:
    """Fader, Hardie & Lee (2005) on CDNOW: r=0.553, alpha=10.578, s=0.606, beta=11.669.

    The log-likelihood -9595.0 is quoted with them (Fader, Hardie & Lee compare it
    with BG/NBD's -9582.4); test_predictions_equal_lifetimes_on_cdnow also checks our
    value against lifetimes' likelihood code.
    """
    for name, value in PUBLISHED.items():
        assert float(f"{fitted.params_[name]:.3g}") == pytest.approx(float(f"{value:.3g}"))
        assert fitted.params_[name] == pytest.approx(value, rel=1e-3)
    assert round(fitted.log_likelihood_, 1) == -9595.0
    assert fitted.converged_
    assert fitted.n_customers_ == 2357
    summary = fitted.summary()
    assert list(summary.columns) == ["estimate", "se", "lower_95", "upper_95"]
    assert np.all(np.isfinite(summary.to_numpy()))


@pytest.mark.reference
def test_log_likelihood_at_published_parameters(cdnow_summary: pd.DataFrame,
                                                fitted: ParetoNBDModel) -> None:
    x, tx, t = (cdnow_summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    at_published = _with_params(list(PUBLISHED.values())).log_likelihood(x, tx, t).sum()
    assert at_published == pytest.approx(-9595.0, abs=0.05)
    assert fitted.log_likelihood_ >= at_published - 1e-9


# ---------------------------------------------------------------------- lifetimes
@pytest.mark.reference
def test_predictions_equal_lifetimes_on_cdnow(fitted: ParetoNBDModel,
                                              cdnow_summary: pd.DataFrame) -> None:
    ref = _lifetimes_with(fitted.params_)
    x, tx, t = (cdnow_summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    assert _max_rel(fitted.conditional_probability_alive(x, tx, t),
                    ref.conditional_probability_alive(x, tx, t)) < 1e-6
    for horizon in (1.0, 10.0, 39.0, 104.0):
        assert _max_rel(
            fitted.conditional_expected_purchases(horizon, x, tx, t),
            ref.conditional_expected_number_of_purchases_up_to_time(horizon, x, tx, t),
        ) < 1e-6
    grid = np.linspace(0.5, 150.0, 60)
    assert _max_rel(fitted.expected_purchases(grid),
                    ref.expected_number_of_purchases_up_to_time(grid)) < 1e-6
    params = fitted.params_.to_numpy()
    theirs = ParetoNBDFitter._conditional_log_likelihood(params, x, tx, t)
    assert _max_rel(fitted.log_likelihood(x, tx, t), theirs) < 1e-6
    assert fitted.log_likelihood_ == pytest.approx(float(np.sum(theirs)), rel=1e-9)


@pytest.mark.reference
@pytest.mark.parametrize("regime", ["alpha >= beta", "alpha < beta"])
def test_predictions_equal_lifetimes_on_random_parameters(regime: str) -> None:
    rng = np.random.default_rng(7 if regime == "alpha >= beta" else 8)
    x, tx, t = _random_customers(rng, 400)
    for _ in range(15):
        r, s = 10 ** rng.uniform(-1.5, 1.0, 2)
        big, small = np.sort(10 ** rng.uniform(-1.0, 2.0, 2))[::-1]
        alpha, beta = (big, small) if regime == "alpha >= beta" else (small, big)
        model = _with_params([r, alpha, s, beta])
        ref = _lifetimes_with(model.params_)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lifetimes' hyp2f1 may overflow
            pa = ref.conditional_probability_alive(x, tx, t)
            ce = ref.conditional_expected_number_of_purchases_up_to_time(20.0, x, tx, t)
            ll = ParetoNBDFitter._conditional_log_likelihood([r, alpha, s, beta], x, tx, t)
        assert _max_rel(model.conditional_probability_alive(x, tx, t), pa) < 1e-6
        assert _max_rel(model.conditional_expected_purchases(20.0, x, tx, t), ce) < 1e-6
        assert _max_rel(model.log_likelihood(x, tx, t), ll) < 1e-6


@pytest.mark.reference
def test_predictions_equal_lifetimes_on_extreme_parameters() -> None:
    """Parameters 1e-3..1e3, T 1e-6..1e3, x up to 5000: equal wherever lifetimes is finite.

    lifetimes' hyp2f1 overflows in about a third of these cases. Values within 1e-10 of
    0 are compared in absolute terms: P(alive) that lifetimes underflows to 0, and
    log-likelihoods of nearly certain histories, where both sum terms of size ~500 and
    lifetimes is off by up to 4e-11 (a 80-digit evaluation agrees with crmmodels to 4e-14).
    """
    rng = np.random.default_rng(2024)
    finite = 0
    for _ in range(300):
        p = 10 ** rng.uniform(-3.0, 3.0, 4)
        t = float(10 ** rng.uniform(-6.0, 3.0))
        x = float(rng.choice([0, 1, 2, 5, 50, 1000, 5000]))
        tx = 0.0 if x == 0 else t * float(rng.choice([0.0, 1e-9, rng.uniform(), 1 - 1e-9, 1.0]))
        model = _with_params(p)
        ref = _lifetimes_with(model.params_)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = [ref.conditional_probability_alive(x, tx, t),
                        ref.conditional_expected_number_of_purchases_up_to_time(10.0, x, tx, t),
                        ParetoNBDFitter._conditional_log_likelihood(p, x, tx, t)]
        ours = [model.conditional_probability_alive(x, tx, t),
                model.conditional_expected_purchases(10.0, x, tx, t),
                model.log_likelihood(x, tx, t)]
        for got, want in zip(ours, expected, strict=True):
            assert np.isfinite(got)
            if np.isfinite(want):
                finite += 1
                assert float(got) == pytest.approx(float(want), rel=1e-6, abs=1e-10)
    assert finite > 400


# ---------------------------------------------------------------------- independent check
def _quadrature_loglik(p: np.ndarray, x: float, tx: float, t: float) -> float:
    """Evaluate the likelihood's defining integral (FH section 3) by adaptive quadrature."""
    r, alpha, s, beta = p
    log_top = -(r + x) * np.log(alpha + tx) - (s + 1.0) * np.log(beta + tx)

    def integrand(y: float) -> float:
        return float(np.exp(-(r + x) * np.log(alpha + y) - (s + 1.0) * np.log(beta + y)
                            - log_top))

    log_first = -(r + x) * np.log(alpha + t) - s * np.log(beta + t)
    if t <= tx:
        log_bracket = log_first
    else:
        width = 1.0 / ((r + x) / (alpha + tx) + (s + 1.0) / (beta + tx))
        points = [tx + width * k for k in (1.0, 10.0, 100.0) if tx + width * k < t]
        j = integrate.quad(integrand, tx, t, epsabs=0.0, epsrel=1e-13, limit=500,
                           points=points or None)[0]
        log_bracket = float(np.logaddexp(log_first, np.log(s) + log_top + np.log(j)))
    return float(gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
                 + log_bracket)


def test_log_likelihood_equals_quadrature_of_its_integral() -> None:
    rng = np.random.default_rng(3)
    for _ in range(60):
        p = 10 ** rng.uniform(-1.0, 1.5, 4)
        x = float(rng.choice([0, 1, 4, 20]))
        t = float(10 ** rng.uniform(-1.0, 2.0))
        tx = 0.0 if x == 0 else float(t * rng.uniform())
        ours = float(_with_params(p).log_likelihood(x, tx, t))
        assert ours == pytest.approx(_quadrature_loglik(p, x, tx, t), rel=1e-9, abs=1e-9)


# ---------------------------------------------------------------------- gradient
def _central_differences(model: ParetoNBDModel, p: np.ndarray, x: np.ndarray, tx: np.ndarray,
                         t: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Central differences (steps h and 2h, Richardson-extrapolated) of the weighted NLL."""

    def nll(q: np.ndarray) -> float:
        return -float(w @ model._loglik(q, x, tx, t))

    out = np.empty(4)
    for i in range(4):
        diffs = []
        for h in (1e-4 * p[i], 2e-4 * p[i]):
            e = np.zeros(4)
            e[i] = h
            diffs.append((nll(p + e) - nll(p - e)) / (2 * h))
        out[i] = (4 * diffs[0] - diffs[1]) / 3
    return out


@given(
    log_params=st.lists(st.floats(-2.5, 2.5), min_size=4, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_analytic_gradient_equals_central_differences(log_params: list[float],
                                                      seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.exp(np.array(log_params))
    x, tx, t = _random_customers(rng, 60)
    w = rng.integers(1, 5, x.size).astype(float)
    model = ParetoNBDModel()
    analytic = model._grad(p, x, tx, t, w)
    numeric = _central_differences(model, p, x, tx, t, w)
    scale = np.abs(numeric) + 1e-6 * np.max(np.abs(numeric)) + 1e-8
    assert np.max(np.abs(analytic - numeric) / scale) < 1e-5


def test_gradient_is_zero_at_the_optimum(fitted: ParetoNBDModel,
                                         cdnow_summary: pd.DataFrame) -> None:
    x, tx, t = (cdnow_summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    g = fitted._grad(fitted.params_.to_numpy(), x, tx, t, np.ones_like(x))
    assert np.max(np.abs(g * fitted.params_.to_numpy())) < 1e-3


# ---------------------------------------------------------------------- simulation
@pytest.mark.parametrize(
    ("truth", "seed"),
    [((0.55, 10.6, 0.61, 11.7), 11), ((1.5, 20.0, 0.4, 2.0), 0)],
    ids=["alpha < beta (CDNOW-like)", "alpha > beta"],
)
def test_parameter_recovery(truth: tuple[float, ...], seed: int) -> None:
    """200k simulated customers: every 95% interval covers the true value."""
    rng = np.random.default_rng(seed)
    t = np.round(rng.uniform(4.0, 78.0, 200_000) * 7) / 7
    sim = simulate_pareto_nbd(200_000, t, *truth, random_state=seed)
    model = ParetoNBDModel().fit(sim[["frequency", "recency", "T"]])
    summary = model.summary()
    for name, value in zip(NAMES, truth, strict=True):
        assert summary.loc[name, "lower_95"] <= value <= summary.loc[name, "upper_95"], name


# ---------------------------------------------------------------------- robustness
params_1e3 = st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False)
frequencies = st.one_of(st.integers(0, 5), st.integers(0, 5000), st.sampled_from([1000, 5000]))


@st.composite
def customers(draw: st.DrawFn) -> tuple[float, float, float]:
    x = float(draw(frequencies))
    t = draw(st.one_of(st.floats(1e-6, 1e-3), st.floats(1e-3, 1e3), st.just(1e-6)))
    where = draw(st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0)))
    tx = 0.0 if x == 0 else min(t, t * where)
    return x, tx, t


def _assert_finite_everything(model: ParetoNBDModel, x: np.ndarray, tx: np.ndarray,
                              t: np.ndarray) -> None:
    ll = model.log_likelihood(x, tx, t)
    assert np.all(np.isfinite(ll))
    pa = model.conditional_probability_alive(x, tx, t)
    assert np.all((pa >= 0) & (pa <= 1))
    for horizon in (1e-6, 1.0, 52.0, 1e3):
        ce = model.conditional_expected_purchases(horizon, x, tx, t)
        assert np.all(np.isfinite(ce) & (ce >= 0))
    e = model.expected_purchases(np.array([1e-6, 1.0, 52.0, 1e3]))
    assert np.all(np.isfinite(e) & (e >= 0))
    g = model._grad(model.params_.to_numpy(), x, tx, t, np.ones_like(x))
    assert np.all(np.isfinite(g))


@given(r=params_1e3, s=params_1e3, big=params_1e3, ratio=st.floats(0.0, 1.0),
       rows=st.lists(customers(), min_size=1, max_size=8))
@pytest.mark.parametrize("regime", ["alpha >= beta", "alpha < beta"])
def test_finite_in_both_regimes(regime: str, r: float, s: float, big: float, ratio: float,
                                rows: list[tuple[float, float, float]]) -> None:
    small = max(big * ratio, 1e-3)
    alpha, beta = (big, small) if regime == "alpha >= beta" else (small, big)
    if regime == "alpha < beta" and alpha == beta:
        beta = np.nextafter(beta, np.inf)
    model = _with_params([r, alpha, s, beta])
    x, tx, t = (np.array(c) for c in zip(*rows, strict=True))
    _assert_finite_everything(model, x, tx, t)


@given(r=params_1e3, alpha=params_1e3, s=params_1e3, beta=params_1e3,
       t=st.floats(1e-6, 1e3))
def test_all_zero_frequencies(r: float, alpha: float, s: float, beta: float, t: float) -> None:
    model = _with_params([r, alpha, s, beta])
    n = 4
    x, tx = np.zeros(n), np.zeros(n)
    tt = np.array([t, 1e-6, 1.0, 1e3])
    _assert_finite_everything(model, x, tx, tt)
    # Nobody bought again: P(alive) falls with T.
    pa = model.conditional_probability_alive(0, 0, np.array([1e-6, 1.0, 1e3]))
    assert np.all(np.diff(pa) <= 1e-12)


@given(r=params_1e3, beta=params_1e3, s=params_1e3, row=customers(),
       rel=st.sampled_from([1e-12, 1e-10, 1e-8]))
def test_continuous_across_the_two_regimes(r: float, beta: float, s: float,
                                           row: tuple[float, float, float], rel: float) -> None:
    """The two forms of A_0 (alpha >= beta, alpha < beta) meet smoothly at alpha == beta."""
    x, tx, t = row
    at = [float(_with_params([r, beta * f, s, beta]).log_likelihood(x, tx, t))
          for f in (1 - rel, 1.0, 1 + rel)]
    slope = -ParetoNBDModel()._grad(np.array([r, beta, s, beta]), np.array([x]), np.array([tx]),
                                    np.array([t]), np.ones(1))[1] * beta * rel
    tol = 1e-9 * (1 + abs(at[1])) + 1e-5 * abs(slope)
    assert abs(at[0] - (at[1] - slope)) <= tol
    assert abs(at[2] - (at[1] + slope)) <= tol


@given(p=st.lists(st.floats(1e-2, 1e2), min_size=4, max_size=4), row=customers(),
       scale=st.sampled_from([1 / 7, 7.0, 52.0, 1e-3]))
def test_time_unit_invariance(p: list[float], row: tuple[float, float, float],
                              scale: float) -> None:
    """Measuring time in other units rescales alpha and beta and shifts LL by x log(scale)."""
    x, tx, t = row
    r, alpha, s, beta = p
    base = float(_with_params(p).log_likelihood(x, tx, t))
    scaled = float(_with_params([r, alpha * scale, s, beta * scale]).log_likelihood(
        x, tx * scale, t * scale))
    assert scaled == pytest.approx(base - x * np.log(scale), rel=1e-9, abs=1e-8)
    pa = _with_params(p).conditional_probability_alive(x, tx, t)
    pa_scaled = _with_params([r, alpha * scale, s, beta * scale]).conditional_probability_alive(
        x, tx * scale, t * scale)
    assert float(pa_scaled) == pytest.approx(float(pa), rel=1e-8, abs=1e-12)


def test_large_frequency_and_tiny_age_are_accurate() -> None:
    """Spot values in the regimes where hyp2f1 fails, against quadrature of the integral."""
    cases = [
        ([0.5, 10.0, 0.6, 0.01], 3000.0, 30.0, 52.0),
        ([0.5, 0.01, 0.6, 10.0], 3000.0, 30.0, 52.0),
        ([2.0, 1.0, 3.0, 50.0], 0.0, 0.0, 1e-6),
        ([2.0, 50.0, 3.0, 1.0], 1.0, 5e-7, 1e-6),
    ]
    for p, x, tx, t in cases:
        ours = float(_with_params(p).log_likelihood(x, tx, t))
        assert ours == pytest.approx(_quadrature_loglik(np.array(p), x, tx, t), rel=1e-9)


# ---------------------------------------------------------------------- predictions
def test_probability_of_purchases_is_a_distribution() -> None:
    model = _with_params(list(PUBLISHED.values()))
    n = np.arange(0, 400)
    for t in (1e-6, 1.0, 39.0, 200.0):
        pmf = model.probability_of_purchases(n, t)
        assert np.all(pmf >= 0)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
        assert (n * pmf).sum() == pytest.approx(float(model.expected_purchases(t)), rel=1e-8)
    assert model.probability_of_purchases(0, 0.0) == 1.0
    assert model.probability_of_purchases(2, 0.0) == 0.0


def test_expected_purchases_at_s_equal_one() -> None:
    """E[X(t)] = r beta / alpha * log(1 + t / beta) when s = 1 (the limit of SMC's formula)."""
    model = _with_params([0.5, 10.0, 1.0, 12.0])
    assert float(model.expected_purchases(39.0)) == pytest.approx(
        0.5 * 12.0 / 10.0 * np.log1p(39.0 / 12.0), rel=1e-14)
    near = _with_params([0.5, 10.0, 1.0 + 1e-9, 12.0])
    assert float(near.expected_purchases(39.0)) == pytest.approx(
        float(model.expected_purchases(39.0)), rel=1e-8)


def test_conditional_expectation_factorises(fitted: ParetoNBDModel,
                                            cdnow_summary: pd.DataFrame) -> None:
    x, tx, t = (cdnow_summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    np.testing.assert_allclose(
        fitted.conditional_expected_purchases(39.0, x, tx, t),
        fitted.expected_purchases_if_alive(39.0, x, t)
        * fitted.conditional_probability_alive(x, tx, t), rtol=1e-14)


# ---------------------------------------------------------------------- model contract
def test_score_on_crmdata_and_summary(cdnow_sample: CRMData, cdnow_summary: pd.DataFrame,
                                      fitted: ParetoNBDModel) -> None:
    model = ParetoNBDModel(horizon=52, freq="W").fit(cdnow_sample)
    for m, data in ((model, cdnow_sample), (fitted, cdnow_summary)):
        scores = m.score(data)
        assert list(scores.columns) == ["p_alive", "expected_purchases"]
        assert scores.index.name == "customer_id"
        assert len(scores) == 2357
        assert scores["p_alive"].between(0.0, 1.0).all()
        e = scores["expected_purchases"]
        assert bool(np.isfinite(e).all())
        assert bool((e >= 0).all())


def test_check_model(cdnow_sample: CRMData) -> None:
    assert "save_load" in check_model(ParetoNBDModel(), cdnow_sample)


def test_not_fitted_and_bad_data(cdnow_summary: pd.DataFrame) -> None:
    with pytest.raises(NotFittedError):
        ParetoNBDModel().score(cdnow_summary)
    with pytest.raises(DataValidationError):
        ParetoNBDModel().fit(cdnow_summary.head(1))
    bad = cdnow_summary.head(5).assign(recency=lambda d: d["T"] + 1)
    with pytest.raises(DataValidationError):
        ParetoNBDModel().fit(bad)


def test_pickle_round_trip(fitted: ParetoNBDModel, cdnow_summary: pd.DataFrame) -> None:
    again = pickle.loads(pickle.dumps(fitted))
    pd.testing.assert_frame_equal(again.score(cdnow_summary), fitted.score(cdnow_summary))


def test_fit_uses_distinct_rows(cdnow_summary: pd.DataFrame, fitted: ParetoNBDModel) -> None:
    """Repeating every customer doubles the log-likelihood and keeps the estimates."""
    doubled = pd.concat([cdnow_summary, cdnow_summary.assign(
        customer_id=cdnow_summary["customer_id"].astype(str) + "b")])
    model = ParetoNBDModel().fit(doubled)
    np.testing.assert_allclose(model.params_, fitted.params_, rtol=1e-5)
    assert model.log_likelihood_ == pytest.approx(2 * fitted.log_likelihood_, rel=1e-9)
