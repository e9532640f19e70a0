"""period_transactions and plot_period_transactions: exact expected counts, drawn as is.

On the CDNOW 1/10th sample (calibration to 1997-09-30, in weeks, as Fader, Hardie &
Lee 2005), the ``actual`` column is checked against a brute-force count of the summary
and the ``model`` column against sums over customers of P(X(T) = x) computed here,
independently of the models' own ``probability_of_purchases``: BG/NBD from eq. (8) of
Fader, Hardie & Lee (2005) and from lifetimes' ``BetaGeoFitter``, MBG/NBD from lifetimes'
``ModifiedBetaGeoFitter``, Pareto/NBD from its integral over the time of death by
adaptive quadrature, BG/BB from eq. (7) of Fader, Hardie & Shang (2010) and the
no-dropout baseline from the negative binomial formula.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from scipy import integrate
from scipy.special import betaln, gammaln

from crmmodels import CRMData
from crmmodels.cltv import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    NaiveRateModel,
    ParetoNBDModel,
    period_transactions,
    plot_period_transactions,
)
from crmmodels.data import calibration_holdout, customer_summary
from crmmodels.errors import DataValidationError, InvalidParameterError, NotFittedError

matplotlib.use("Agg")

PMF = Callable[[int, np.ndarray], np.ndarray]  # P(X(T) = x) for each customer's T


pytestmark = pytest.mark.usefixtures("close_figures")


@pytest.fixture(scope="module")
def summary(cdnow_sample: CRMData) -> pd.DataFrame:
    split = calibration_holdout(cdnow_sample, "1997-09-30", freq="D", freq_multiplier=7)
    return split[["frequency", "recency", "T"]]


@pytest.fixture(scope="module")
def models(summary: pd.DataFrame, cdnow_sample: CRMData) -> dict[str, Any]:
    """Every transaction model, fitted once; BG/BB on the weekly opportunities."""
    return {
        "bg_nbd": BetaGeoModel().fit(summary),
        "pareto_nbd": ParetoNBDModel().fit(summary),
        "mbg_nbd": ModifiedBetaGeoModel().fit(summary),
        "naive": NaiveRateModel().fit(summary),
        "bg_bb": BetaGeoBetaBinomModel(freq="W").fit(cdnow_sample),
    }


@pytest.fixture(scope="module")
def weekly(cdnow_sample: CRMData) -> pd.DataFrame:
    """Return the discrete-time summary BG/BB is fitted on: whole weeks."""
    s = customer_summary(cdnow_sample, freq="W")
    return pd.DataFrame({"frequency": s["frequency"], "recency": s["recency"].round(),
                         "n_periods": s["T"].round()})


# ---------------------------------------------------------------------- references
def _bgnbd_eq8(params: pd.Series) -> PMF:
    """Eq. (8) of Fader, Hardie & Lee (2005), with its finite sum, per customer."""
    r, alpha, a, b = (float(params[k]) for k in ("r", "alpha", "a", "b"))

    def pmf(x: int, t: np.ndarray) -> np.ndarray:
        log_nb = (gammaln(r + x) - gammaln(r) - gammaln(x + 1) + r * np.log(alpha / (alpha + t))
                  + x * np.log(t / (alpha + t)))
        first = np.exp(betaln(a, b + x) - betaln(a, b) + log_nb)
        if x == 0:
            return np.asarray(first)
        partial = sum(np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1)
                             + j * np.log(t / (alpha + t))) for j in range(x))
        second = np.exp(betaln(a + 1, b + x - 1) - betaln(a, b)) * (
            1 - (alpha / (alpha + t)) ** r * partial)
        return np.asarray(first + second)

    return pmf


def _lifetimes(fitter: Any, params: pd.Series) -> PMF:
    """Return lifetimes' probability_of_n_purchases_up_to_time at the same parameters."""
    fitter.params_ = pd.Series(params.to_dict())

    def pmf(x: int, t: np.ndarray) -> np.ndarray:
        return _each_age(lambda ti: fitter.probability_of_n_purchases_up_to_time(ti, x), t)

    return pmf


def _each_age(one: Callable[[float], float], t: np.ndarray) -> np.ndarray:
    """``one(T)`` for every customer, evaluated once per distinct age."""
    values: dict[float, float] = {}
    for ti in map(float, t):
        if ti not in values:
            values[ti] = one(ti)
    return np.array([values[ti] for ti in map(float, t)])


def _pareto_integral(params: pd.Series) -> PMF:
    """Alive at T with x purchases, or died at tau < T after x purchases (quadrature).

    Rates lambda ~ Gamma(r, alpha), purchases Poisson while alive, lifetimes
    exponential with rates mu ~ Gamma(s, beta): the lifetime has density
    s beta^s / (beta + tau)^(s + 1), and the purchases before tau are NBD(r, alpha, tau).
    """
    r, alpha, s, beta = (float(params[k]) for k in ("r", "alpha", "s", "beta"))

    def nbd(x: int, t: float) -> float:
        return math.exp(math.lgamma(r + x) - math.lgamma(r) - math.lgamma(x + 1)
                        + r * math.log(alpha / (alpha + t)) + x * math.log(t / (alpha + t)))

    def one(x: int, t: float) -> float:
        survive = math.pow(beta / (beta + t), s)
        died, _ = integrate.quad(
            lambda tau: nbd(x, tau) * s * beta**s / (beta + tau) ** (s + 1) if tau > 0
            else float(x == 0) * s / beta, 0.0, t, epsabs=1e-13, epsrel=1e-11, limit=200)
        return nbd(x, t) * survive + float(died)

    def pmf(x: int, t: np.ndarray) -> np.ndarray:
        return _each_age(lambda ti: one(x, ti), t)

    return pmf


def _bgbb_eq7(params: pd.Series) -> PMF:
    """Eq. (7) of Fader, Hardie & Shang (2010): x transactions in n opportunities."""
    al, be, ga, de = (float(params[k]) for k in ("alpha", "beta", "gamma", "delta"))

    def log_choose(n: float, k: float) -> float:
        return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)

    def one(x: int, n: int) -> float:
        if x > n:
            return 0.0
        total = math.exp(log_choose(n, x) + betaln(al + x, be + n - x) - betaln(al, be)
                         + betaln(ga, de + n) - betaln(ga, de))
        for i in range(x, n):
            total += math.exp(log_choose(i, x) + betaln(al + x, be + i - x) - betaln(al, be)
                              + betaln(ga + 1, de + i) - betaln(ga, de))
        return total

    def pmf(x: int, t: np.ndarray) -> np.ndarray:
        return _each_age(lambda n: one(x, int(n)), t)

    return pmf


def _negative_binomial(params: pd.Series) -> PMF:
    """Gamma(r, alpha) mixture of Poisson counts over (0, T], no dropout."""
    r, alpha = float(params["r"]), float(params["alpha"])

    def pmf(x: int, t: np.ndarray) -> np.ndarray:
        return np.asarray(np.exp(gammaln(r + x) - gammaln(r) - gammaln(x + 1)
                                 + r * np.log(alpha / (alpha + t))
                                 + x * np.log(t / (alpha + t))), dtype=float)

    return pmf


def _reference(name: str, params: pd.Series, lifetimes: bool = False) -> PMF:
    if name == "bg_nbd":
        if lifetimes:
            from lifetimes import BetaGeoFitter

            return _lifetimes(BetaGeoFitter(), params)
        return _bgnbd_eq8(params)
    if name == "mbg_nbd":
        from lifetimes import ModifiedBetaGeoFitter

        return _lifetimes(ModifiedBetaGeoFitter(), params)
    if name == "pareto_nbd":
        return _pareto_integral(params)
    if name == "bg_bb":
        return _bgbb_eq7(params)
    assert name == "naive"
    return _negative_binomial(params)


def _brute_force_actual(frequency: pd.Series, max_frequency: int) -> list[int]:
    counts = [0] * (max_frequency + 1)
    for x in frequency:
        counts[min(int(x), max_frequency)] += 1
    return counts


# ---------------------------------------------------------------------- (a) actual
@pytest.mark.parametrize("max_frequency", [1, 3, 7, 40])
def test_actual_is_a_brute_force_count(models: dict[str, Any], summary: pd.DataFrame,
                                       max_frequency: int) -> None:
    table = period_transactions(models["bg_nbd"], summary, max_frequency=max_frequency)
    assert table["actual"].tolist() == _brute_force_actual(summary["frequency"],
                                                           max_frequency)
    assert table["actual"].dtype == np.int64
    assert table.index.name == "frequency"
    assert list(table.index) == [*map(str, range(max_frequency)), f"{max_frequency}+"]
    assert list(table.columns) == ["actual", "model"]


def test_actual_of_the_discrete_model(models: dict[str, Any], weekly: pd.DataFrame,
                                      cdnow_sample: CRMData) -> None:
    from_data = period_transactions(models["bg_bb"], cdnow_sample)
    assert from_data["actual"].tolist() == _brute_force_actual(weekly["frequency"], 7)
    pd.testing.assert_frame_equal(from_data, period_transactions(models["bg_bb"], weekly))


# ---------------------------------------------------------------------- (b) model
@pytest.mark.parametrize(
    ("name", "lifetimes"),
    [("bg_nbd", False), ("bg_nbd", True), ("mbg_nbd", True), ("pareto_nbd", False),
     ("bg_bb", False), ("naive", False)],
)
def test_model_is_the_sum_of_each_customers_probability(
        models: dict[str, Any], summary: pd.DataFrame, weekly: pd.DataFrame, name: str,
        lifetimes: bool) -> None:
    model = models[name]
    data = weekly if name == "bg_bb" else summary
    ages = data["n_periods" if name == "bg_bb" else "T"].to_numpy(dtype=float)
    max_frequency = 7
    table = period_transactions(model, data, max_frequency=max_frequency)
    pmf = _reference(name, model.params_, lifetimes)
    expected = [float(pmf(x, ages).sum()) for x in range(max_frequency)]
    expected.append(len(data) - sum(expected))
    np.testing.assert_allclose(table["model"], expected, rtol=1e-7)


def test_bgnbd_on_the_published_parameters(summary: pd.DataFrame) -> None:
    # Fader, Hardie & Lee (2005) report r, alpha, a, b for these very data.
    model = BetaGeoModel()
    model.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    pmf = _bgnbd_eq8(model.params_)
    ages = summary["T"].to_numpy()
    table = period_transactions(model, summary, max_frequency=10)
    np.testing.assert_allclose(table["model"].iloc[:10],
                               [pmf(x, ages).sum() for x in range(10)], rtol=1e-9)


# ---------------------------------------------------------------------- (c) totals
@pytest.mark.parametrize("name", ["bg_nbd", "pareto_nbd", "mbg_nbd", "bg_bb", "naive"])
def test_model_sums_to_the_customers(models: dict[str, Any], summary: pd.DataFrame,
                                     weekly: pd.DataFrame, name: str) -> None:
    data = weekly if name == "bg_bb" else summary
    table = period_transactions(models[name], data, max_frequency=7)
    assert table["model"].sum() == pytest.approx(len(data), rel=1e-6)
    assert (table["model"] >= 0).all()
    assert table["actual"].sum() == len(data)


def test_pooled_group_is_the_tail_of_the_distribution(models: dict[str, Any],
                                                      summary: pd.DataFrame) -> None:
    # The last group gets the rest: check it against the sum of the tail itself.
    model = models["bg_nbd"]
    pmf = _bgnbd_eq8(model.params_)
    ages, customers = np.unique(summary["T"].to_numpy(), return_counts=True)
    tail = sum(float(customers @ pmf(x, ages)) for x in range(5, 300))
    table = period_transactions(model, summary, max_frequency=5)
    assert table["model"].iloc[-1] == pytest.approx(tail, rel=1e-8)


def test_weighted_rows_count_as_their_customers(models: dict[str, Any],
                                                summary: pd.DataFrame) -> None:
    counted = summary.groupby(["frequency", "recency", "T"]).size().rename("n_customers")
    compressed = counted.reset_index()
    assert len(compressed) < len(summary)
    for name in ("bg_nbd", "pareto_nbd"):
        expected = period_transactions(models[name], summary)
        got = period_transactions(models[name], compressed)
        pd.testing.assert_series_equal(got["actual"], expected["actual"])
        np.testing.assert_allclose(got["model"], expected["model"], rtol=1e-10)


def test_customers_observed_for_no_time_make_no_repeat_purchase(
        models: dict[str, Any]) -> None:
    frame = pd.DataFrame({"frequency": [0.0, 0.0, 2.0], "recency": [0.0, 0.0, 3.0],
                          "T": [0.0, 5.0, 10.0]})
    for name in ("bg_nbd", "pareto_nbd", "mbg_nbd", "naive"):
        model = models[name]
        pmf = _reference(name, model.params_, lifetimes=True)
        table = period_transactions(model, frame, max_frequency=3)
        expected = [1.0 + float(pmf(0, np.array([5.0, 10.0])).sum())]
        expected += [float(pmf(x, np.array([5.0, 10.0])).sum()) for x in (1, 2)]
        np.testing.assert_allclose(table["model"].iloc[:3], expected, rtol=1e-7)
        assert table["model"].sum() == pytest.approx(3.0)


def test_transactions_are_summarised_as_the_model_does(cdnow_sample: CRMData) -> None:
    model = BetaGeoModel(freq="W").fit(cdnow_sample)
    pd.testing.assert_frame_equal(period_transactions(model, cdnow_sample),
                                  period_transactions(model,
                                                      customer_summary(cdnow_sample, "W")))


# ---------------------------------------------------------------------- (d) figure
@pytest.mark.parametrize("name", ["bg_nbd", "pareto_nbd", "bg_bb"])
def test_bars_equal_the_table(models: dict[str, Any], summary: pd.DataFrame,
                              weekly: pd.DataFrame, name: str) -> None:
    data = weekly if name == "bg_bb" else summary
    ax = plot_period_transactions(models[name], data, max_frequency=5)
    assert isinstance(ax, Axes)
    table = period_transactions(models[name], data, max_frequency=5)
    actual, model = ax.containers
    assert actual.get_label() == "actual"
    assert model.get_label() == "model"
    np.testing.assert_array_equal([bar.get_height() for bar in actual], table["actual"])
    np.testing.assert_array_equal([bar.get_height() for bar in model], table["model"])
    centres = [bar.get_x() + bar.get_width() / 2 for bar in actual]
    np.testing.assert_allclose(centres, np.arange(6) - 0.2)
    assert [tick.get_text() for tick in ax.get_xticklabels()] == list(table.index)
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["actual", "model"]


def test_draws_on_the_given_axes(models: dict[str, Any], summary: pd.DataFrame) -> None:
    _fig, ax = plt.subplots()
    before = plt.get_fignums()
    assert plot_period_transactions(models["bg_nbd"], summary, ax=ax) is ax
    assert plt.get_fignums() == before
    assert len(ax.patches) == 16  # 8 groups x (actual, model)


# ---------------------------------------------------------------------- (e) bad input
@pytest.mark.parametrize("max_frequency", [0, -1, 2.5, True, "7", None])
@pytest.mark.parametrize("func", [period_transactions, plot_period_transactions])
def test_bad_max_frequency(models: dict[str, Any], summary: pd.DataFrame,
                           func: Callable[..., Any], max_frequency: Any) -> None:
    before = plt.get_fignums()
    with pytest.raises(InvalidParameterError, match="max_frequency"):
        func(models["bg_nbd"], summary, max_frequency=max_frequency)
    assert plt.get_fignums() == before  # nothing drawn on failure


@pytest.mark.parametrize("func", [period_transactions, plot_period_transactions])
def test_bad_model(summary: pd.DataFrame, func: Callable[..., Any]) -> None:
    with pytest.raises(NotFittedError):
        func(BetaGeoModel(), summary)
    with pytest.raises(NotFittedError):
        func(NaiveRateModel(), summary)
    with pytest.raises(TypeError, match="class BetaGeoModel"):
        func(BetaGeoModel, summary)
    with pytest.raises(TypeError, match="probability_of_purchases"):
        func(GammaGammaModel(), summary)  # a spend model: no purchase counts
    with pytest.raises(TypeError, match="probability_of_purchases"):
        func(summary, summary)


@pytest.mark.parametrize("func", [period_transactions, plot_period_transactions])
def test_bad_data(models: dict[str, Any], summary: pd.DataFrame,
                  func: Callable[..., Any]) -> None:
    model = models["bg_nbd"]
    for wrong in ([1, 2, 3], None, "summary.csv", summary.to_numpy()):
        with pytest.raises(DataValidationError, match=r"CRMData|DataFrame") as info:
            func(model, wrong)
        assert info.value.rule == "type"
    with pytest.raises(DataValidationError) as info:
        func(model, summary.drop(columns="T"))
    assert info.value.column == "T"
    with pytest.raises(DataValidationError) as info:
        func(model, summary.assign(frequency=-summary["frequency"]))
    assert info.value.rule == "non_negative"
    with pytest.raises(DataValidationError) as info:
        func(model, summary.head(0))
    assert info.value.rule == "non_empty"
    # BG/BB counts whole opportunities: a continuous-time summary is refused.
    with pytest.raises(DataValidationError) as info:
        func(models["bg_bb"], summary)
    assert info.value.rule == "integer"
