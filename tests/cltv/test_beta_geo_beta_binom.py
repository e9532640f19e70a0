"""BG/BB against the paper, lifetimes, simulation and numerical edge cases."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels import CRMData
from crmmodels.cltv.beta_geo_beta_binom import (
    BetaGeoBetaBinomModel,
    validate_discrete_summary,
)
from crmmodels.datasets._simulate_discrete import simulate_bg_bb
from crmmodels.errors import (
    ConvergenceWarning,
    DataValidationError,
    InvalidParameterError,
    MissingColumnError,
    NotFittedError,
)
from crmmodels.features import customer_summary
from crmmodels.testing import CHECKS, check_model
from tests.samples import lifetimes_file

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoBetaBinomFitter

NAMES = ["alpha", "beta", "gamma", "delta"]


@pytest.fixture(scope="module")
def donations() -> pd.DataFrame:
    """Return the paper's recency/frequency matrix: one row per pattern, with a count."""
    return pd.read_csv(lifetimes_file("donations.csv"))


@pytest.fixture(scope="module")
def donors(donations: pd.DataFrame) -> pd.DataFrame:
    """One row per donor (11,104), as the model takes them."""
    rows = donations.loc[donations.index.repeat(donations["weights"])]
    out = rows.rename(columns={"periods": "n_periods"})[["frequency", "recency", "n_periods"]]
    return out.set_axis(pd.Index([f"d{i}" for i in range(len(out))], name="customer_id"))


@pytest.fixture(scope="module")
def fitted(donors: pd.DataFrame) -> BetaGeoBetaBinomModel:
    return BetaGeoBetaBinomModel(horizon=5).fit(donors)


def _arrays(rf: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_col = "periods" if "periods" in rf.columns else "n_periods"
    return (rf["frequency"].to_numpy(float), rf["recency"].to_numpy(float),
            rf[n_col].to_numpy(float))


def _lifetimes_with(params: pd.Series, donations: pd.DataFrame) -> BetaGeoBetaBinomFitter:
    fitter = BetaGeoBetaBinomFitter()
    fitter.params_ = pd.Series(params.to_numpy(), index=NAMES)
    fitter.data = pd.DataFrame({"frequency": donations["frequency"],
                                "recency": donations["recency"],
                                "n_periods": donations["periods"],
                                "weights": donations["weights"]})
    return fitter


def _close_where_finite(ours: np.ndarray, theirs: np.ndarray, rtol: float = 1e-6) -> None:
    """Compare wherever lifetimes gives a finite answer."""
    ours, theirs = np.broadcast_arrays(np.atleast_1d(np.asarray(ours, dtype=float)),
                                       np.atleast_1d(np.asarray(theirs, dtype=float)))
    ok = np.isfinite(theirs)
    assert ok.any()
    np.testing.assert_allclose(ours[ok], theirs[ok], rtol=rtol)


@pytest.mark.reference
def test_published_estimates(fitted: BetaGeoBetaBinomModel) -> None:
    """Fader, Hardie & Shang (2010): 1.204, 0.750, 0.657, 2.783; LL = -33,225.6."""
    published = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
    for name, value in published.items():
        assert float(f"{fitted.params_[name]:.3g}") == pytest.approx(float(f"{value:.3g}"))
        assert fitted.params_[name] == pytest.approx(value, abs=6e-4)
    assert round(fitted.log_likelihood_, 1) == -33225.6
    assert fitted.converged_
    assert fitted.n_customers_ == 11104


@pytest.mark.reference
def test_likelihood_and_optimum_versus_lifetimes(
        fitted: BetaGeoBetaBinomModel, donations: pd.DataFrame) -> None:
    x, tx, n = _arrays(donations)
    w = donations["weights"].to_numpy(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = BetaGeoBetaBinomFitter().fit(donations["frequency"], donations["recency"],
                                           donations["periods"], weights=donations["weights"])
        theirs = BetaGeoBetaBinomFitter._loglikelihood(
            fitted.params_.to_numpy(), x.astype(int), tx.astype(int), n.astype(int))
    np.testing.assert_allclose(fitted._loglik(fitted.params_.to_numpy(), x, tx, n), theirs,
                               rtol=1e-10)
    their_ll = float(w @ fitted._loglik(ref.params_[NAMES].to_numpy(), x, tx, n))
    assert fitted.log_likelihood_ >= their_ll - 1e-8
    for name in NAMES:
        assert float(f"{fitted.params_[name]:.3g}") == float(f"{ref.params_[name]:.3g}")


@pytest.mark.reference
def test_predictions_equal_lifetimes(fitted: BetaGeoBetaBinomModel,
                                     donations: pd.DataFrame) -> None:
    ref = _lifetimes_with(fitted.params_, donations)
    x, tx, n = _arrays(donations)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for ahead in (0, 1, 5):
            _close_where_finite(fitted.conditional_probability_alive(x, tx, n, ahead),
                                ref.conditional_probability_alive(ahead, x, tx, n))
        for horizon in (1, 5, 10, 30):
            _close_where_finite(
                fitted.conditional_expected_purchases(horizon, x, tx, n),
                ref.conditional_expected_number_of_purchases_up_to_time(horizon, x, tx, n))
        # lifetimes' "expected_number_of_transactions_in_first_n_periods" is N P(X(n) = x).
        counts = ref.expected_number_of_transactions_in_first_n_periods(6)
    total = donations["weights"].sum()
    _close_where_finite(fitted.probability_of_purchases(counts.index.to_numpy(), 6) * total,
                        counts["model"].to_numpy())


@pytest.mark.reference
def test_new_customer_expectation_matches_btyd() -> None:
    """BTYD's documented ``bgbb.Expectation(c(1.20, 0.75, 0.66, 2.78), n=1:10)``."""
    model = BetaGeoBetaBinomModel()
    model.params_ = pd.Series([1.20, 0.75, 0.66, 2.78], index=NAMES)
    published = [0.4973166, 0.9207078, 1.2927317, 1.6266289, 1.9309062, 2.2113893,
                 2.4722624, 2.7166434, 2.9469256, 3.1649902]
    np.testing.assert_allclose(model.expected_purchases(np.arange(1, 11)), published,
                               rtol=2e-7)


def test_probabilities_sum_to_one_and_match_the_mean(fitted: BetaGeoBetaBinomModel) -> None:
    for n in (0, 1, 6, 40):
        p = fitted.probability_of_purchases(np.arange(n + 3), n)
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        assert p[n + 1:].sum() == 0.0
        mean = float(np.dot(np.arange(n + 3), p))
        assert mean == pytest.approx(float(fitted.expected_purchases(n)), rel=1e-10, abs=1e-15)


def test_conditional_expectations_are_consistent(fitted: BetaGeoBetaBinomModel) -> None:
    """A new customer is the pattern (0, 0, 0); P(alive at 0) is 1."""
    np.testing.assert_allclose(
        fitted.conditional_expected_purchases(np.arange(1, 30), 0, 0, 0),
        fitted.expected_purchases(np.arange(1, 30)), rtol=1e-12)
    assert float(fitted.conditional_probability_alive(0, 0, 0, 0)) == pytest.approx(1.0)
    # Being alive later is less likely than being alive now.
    now = fitted.conditional_probability_alive([0, 2, 6], [0, 4, 6], 6, 0)
    later = fitted.conditional_probability_alive([0, 2, 6], [0, 4, 6], 6, 3)
    assert np.all(later < now)


def test_continuous_across_gamma_equal_one() -> None:
    """The expected-transactions expressions divide by gamma - 1."""
    model = BetaGeoBetaBinomModel()

    def values(g: float) -> np.ndarray:
        model.params_ = pd.Series([1.2, 0.75, g, 2.8], index=NAMES)
        return np.array([float(model.expected_purchases(10)),
                         float(model.conditional_expected_purchases(5, 3, 5, 6))])

    far = np.array([-3e-3, -2e-3, -1e-3, 1e-3, 2e-3, 3e-3])
    table = np.array([values(1 + d) for d in far])
    for near in (-5e-6, -1e-6, 0.0, 1e-6, 5e-6):
        got = values(1 + near)
        for k in range(2):
            predicted = np.polyval(np.polyfit(far, table[:, k], 4), near)
            assert got[k] == pytest.approx(predicted, rel=1e-8)


def test_gradient_matches_finite_differences(donations: pd.DataFrame) -> None:
    model = BetaGeoBetaBinomModel()
    x, tx, n = _arrays(donations)
    w = donations["weights"].to_numpy(float)
    rng = np.random.default_rng(0)
    for _ in range(5):
        p = rng.uniform(0.2, 5.0, 4)
        g = model._grad(p, x, tx, n, w)
        num = np.empty(4)
        for i in range(4):
            h = 1e-6 * p[i]
            e = np.zeros(4)
            e[i] = h
            num[i] = -(w @ model._loglik(p + e, x, tx, n)
                       - w @ model._loglik(p - e, x, tx, n)) / (2 * h)
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-6)


def test_parameter_recovery_on_simulated_customers() -> None:
    truth = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.78}
    sim = simulate_bg_bb(200_000, 6, **truth, random_state=0)
    model = BetaGeoBetaBinomModel().fit(sim[["frequency", "recency", "n_periods"]])
    table = model.summary()
    for name, value in truth.items():
        assert table.loc[name, "lower_95"] <= value <= table.loc[name, "upper_95"], name
    # P(alive at n + 1) is calibrated against the simulation's latent state.
    p_alive = model.conditional_probability_alive(sim["frequency"], sim["recency"],
                                                  sim["n_periods"])
    assert abs(p_alive.mean() - sim["alive"].mean()) < 0.01


def test_simulated_cohorts_of_different_ages() -> None:
    truth = {"alpha": 0.8, "beta": 2.0, "gamma": 1.5, "delta": 6.0}
    ages = np.random.default_rng(3).integers(1, 30, 50_000)
    sim = simulate_bg_bb(50_000, ages, **truth, random_state=3)
    table = BetaGeoBetaBinomModel().fit(sim[["frequency", "recency", "n_periods"]]).summary()
    for name, value in truth.items():
        assert table.loc[name, "lower_95"] <= value <= table.loc[name, "upper_95"], name


_params = st.tuples(*(st.floats(1e-3, 1e3) for _ in range(4))).map(np.array)


@st.composite
def _patterns(draw: st.DrawFn) -> tuple[int, int, int]:
    n = draw(st.one_of(st.integers(0, 3), st.integers(0, 3000)))
    tx = draw(st.one_of(st.just(n), st.integers(0, n)))  # recency == n_periods often
    x = draw(st.one_of(st.just(tx), st.integers(min(tx, 1), tx))) if tx > 0 else 0
    return x, tx, n


@given(params=_params, pattern=_patterns(), horizon=st.integers(1, 1000))
def test_numerical_robustness(params: np.ndarray, pattern: tuple[int, int, int],
                              horizon: int) -> None:
    model = BetaGeoBetaBinomModel()
    model.params_ = pd.Series(params, index=NAMES)
    x, tx, n = pattern
    ll = model._loglik(params, np.array([float(x)]), np.array([float(tx)]),
                       np.array([float(n)]))
    assert np.isfinite(ll).all()
    assert float(ll[0]) <= 1e-9  # a log-probability, up to rounding
    p_alive = float(model.conditional_probability_alive(x, tx, n))
    assert 0.0 <= p_alive <= 1.0 + 1e-12
    expected = float(model.conditional_expected_purchases(horizon, x, tx, n))
    assert np.isfinite(expected)
    assert -1e-12 <= expected <= horizon * (1 + 1e-9)
    mean = float(model.expected_purchases(n))
    assert np.isfinite(mean)
    assert -1e-12 <= mean <= n * (1 + 1e-9) + 1e-12
    p = model.probability_of_purchases(np.array([0, x, n]), n)
    assert np.all(np.isfinite(p))
    assert np.all((p >= 0) & (p <= 1 + 1e-9))


def test_all_zero_frequencies_flagged() -> None:
    zeros = pd.DataFrame({"frequency": 0, "recency": 0, "n_periods": np.arange(200) % 7 + 1},
                         index=pd.Index([f"c{i}" for i in range(200)], name="customer_id"))
    with pytest.warns(ConvergenceWarning, match="not identified|driven to"):
        model = BetaGeoBetaBinomModel().fit(zeros)
    scores = model.score(zeros)
    assert np.isfinite(scores.to_numpy()).all()
    assert (scores["expected_purchases"] < 1e-3).all()


@pytest.mark.parametrize(
    ("change", "column", "rule", "rows"),
    [
        ({"frequency": [6, 1, 0]}, "frequency", "frequency_le_recency", ["a"]),
        ({"recency": [7, 1, 0]}, "recency", "recency_le_n_periods", ["a"]),
        ({"recency": [5, 1, 1]}, "recency", "recency_zero_without_repeat", ["c"]),
        ({"n_periods": [6.5, 6, 6]}, "n_periods", "integer", ["a"]),
        ({"frequency": [-1, 1, 0]}, "frequency", "non_negative", ["a"]),
        ({"recency": [np.nan, 1, 0]}, "recency", "finite", ["a"]),
        ({"frequency": ["2", "1", "0"]}, "frequency", "numeric", []),
    ],
)
def test_bad_summary_rows_are_named(change: dict[str, list[object]], column: str,
                                    rule: str, rows: list[str]) -> None:
    good = pd.DataFrame({"customer_id": ["a", "b", "c"], "frequency": [2, 1, 0],
                         "recency": [5, 1, 0], "n_periods": [6, 6, 6]})
    bad = good.assign(**change)
    with pytest.raises(DataValidationError) as info:
        BetaGeoBetaBinomModel().fit(bad)
    assert (info.value.frame, info.value.column, info.value.rule) == ("summary", column, rule)
    assert info.value.rows == rows


def test_summary_frame_variants() -> None:
    good = pd.DataFrame({"customer_id": ["a", "b"], "frequency": [2, 0], "recency": [5, 0],
                         "n_periods": [6, 6]})
    out = validate_discrete_summary(good)
    assert out.index.name == "customer_id"
    assert out.columns.tolist() == ["frequency", "recency", "n_periods"]
    with_t = good.rename(columns={"n_periods": "T"})
    pd.testing.assert_frame_equal(validate_discrete_summary(with_t), out)
    pd.testing.assert_frame_equal(validate_discrete_summary(good.assign(T=[6, 6])), out)
    with pytest.raises(DataValidationError, match="synonyms"):
        validate_discrete_summary(good.assign(T=[6, 7]))
    with pytest.raises(MissingColumnError, match="n_periods"):
        validate_discrete_summary(good.drop(columns="n_periods"))
    with pytest.raises(DataValidationError, match="unique"):
        validate_discrete_summary(pd.concat([good, good]))
    with pytest.raises(DataValidationError, match="at least 2"):
        BetaGeoBetaBinomModel().fit(good.iloc[:1])
    with pytest.raises(DataValidationError, match="n_periods > 0"):
        BetaGeoBetaBinomModel().fit(good.assign(frequency=0, recency=0, n_periods=0))


def test_predictions_reject_impossible_patterns(fitted: BetaGeoBetaBinomModel) -> None:
    with pytest.raises(DataValidationError):
        fitted.conditional_probability_alive(3, 2, 6)
    with pytest.raises(DataValidationError):
        fitted.conditional_expected_purchases(1.5, 1, 2, 6)
    with pytest.raises(InvalidParameterError):
        BetaGeoBetaBinomModel(horizon=2.5).fit(pd.DataFrame(
            {"frequency": [1, 0], "recency": [1, 0], "n_periods": [2, 2]}))


def test_score_on_transactions_and_summary(cdnow_sample: CRMData) -> None:
    model = BetaGeoBetaBinomModel(horizon=52, freq="W").fit(cdnow_sample)
    scores = model.score(cdnow_sample)
    assert scores.index.name == "customer_id"
    assert len(scores) == 2357
    assert scores["p_alive"].between(0, 1).all()
    assert (scores["expected_purchases"] >= 0).all()
    assert np.isfinite(scores.to_numpy()).all()
    # The CRMData route is the weekly summary with T as the number of opportunities.
    summary = customer_summary(cdnow_sample, freq="W")
    pd.testing.assert_frame_equal(model.score(summary), scores)
    discrete = summary[["frequency", "recency", "T"]].rename(columns={"T": "n_periods"})
    pd.testing.assert_frame_equal(model.score(discrete), scores)
    refit = BetaGeoBetaBinomModel(horizon=52).fit(discrete)
    pd.testing.assert_series_equal(refit.params_, model.params_)


def test_contract_and_pickle(cdnow_sample: CRMData) -> None:
    assert check_model(BetaGeoBetaBinomModel(), cdnow_sample) == list(CHECKS)
    model = BetaGeoBetaBinomModel().fit(cdnow_sample)
    again = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(again.summary(), model.summary())
    with pytest.raises(NotFittedError):
        BetaGeoBetaBinomModel().summary()
    with pytest.raises(NotFittedError):
        BetaGeoBetaBinomModel().expected_purchases(3)
