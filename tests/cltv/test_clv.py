"""CLVModel against lifetimes' customer_lifetime_value and its own definition."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData
from crmmodels.cltv import BetaGeoModel, CLVModel, GammaGammaModel, period_discount_rate
from crmmodels.errors import InvalidParameterError
from crmmodels.testing import CHECKS, check_model
from tests.samples import lifetimes_file

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    path = lifetimes_file("cdnow_customers_summary_with_transactions.csv")
    frame = pd.read_csv(path)
    frame.columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    return frame.set_index("customer_id")


@pytest.mark.reference
def test_equals_lifetimes_monthly_discounting(summary: pd.DataFrame) -> None:
    model = CLVModel(horizon=12 * 4.345, discount_rate=0.01, step=4.345).fit(summary)
    ours = model.score(summary)["clv"].to_numpy()
    spend = GammaGammaFitter()
    spend.params_ = pd.Series(model.spend_model_.params_.to_numpy(), index=["p", "q", "v"])
    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series(model.transaction_model_.params_.to_numpy(),
                            index=["r", "alpha", "a", "b"])
    bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time
    ref = spend.customer_lifetime_value(bgf, summary["frequency"], summary["recency"],
                                        summary["T"], summary["monetary_value"], time=12,
                                        discount_rate=0.01, freq="W")
    np.testing.assert_allclose(ours, ref.to_numpy(), rtol=1e-6)


def test_definition_margin_discount_and_horizon(summary: pd.DataFrame) -> None:
    base = CLVModel(horizon=26, margin=1.0).fit(summary)
    s = base.score(summary)
    # No discounting: CLV = expected purchases over the horizon x expected spend.
    np.testing.assert_allclose(s["clv"], s["expected_purchases"] * s["expected_spend"],
                               rtol=1e-9)
    half = CLVModel(horizon=26, margin=0.5).fit(summary).score(summary)
    np.testing.assert_allclose(half["clv"], 0.5 * s["clv"], rtol=1e-12)
    disc = CLVModel(horizon=26, discount_rate=0.02).fit(summary).score(summary)
    assert (disc["clv"] <= s["clv"] + 1e-12).all()
    assert (disc["clv"] >= s["clv"] / 1.02**26 - 1e-12).all()
    longer = CLVModel(horizon=52).fit(summary).score(summary)
    assert (longer["clv"] >= s["clv"] - 1e-12).all()
    # Brute force: weekly increments discounted one by one.
    m = CLVModel(horizon=5, discount_rate=0.03).fit(summary)
    tm = m.transaction_model_
    x, tx, t = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    cum = [tm.conditional_expected_purchases(k, x, tx, t) for k in range(6)]
    manual = sum((cum[k] - cum[k - 1]) / 1.03**k for k in range(1, 6))
    spend = m.spend_model_.conditional_expected_spend(x, summary["monetary_value"].to_numpy())
    np.testing.assert_allclose(m.score(summary)["clv"], manual * spend, rtol=1e-10)


def test_never_negative_or_nan(cdnow_sample: CRMData) -> None:
    scores = CLVModel(horizon=104, discount_rate=period_discount_rate(0.15, "W"),
                      margin=0.3).fit(cdnow_sample).score(cdnow_sample)
    assert np.isfinite(scores.to_numpy()).all()
    assert (scores["clv"] >= 0).all()
    assert scores.index.name == "customer_id"


def test_discount_rate_conversion() -> None:
    weekly = period_discount_rate(0.10, "W")
    assert (1 + weekly) ** (365.25 / 7) == pytest.approx(1.10, rel=1e-12)
    assert period_discount_rate(0.0, "M") == 0.0
    with pytest.raises(InvalidParameterError):
        period_discount_rate(0.1, "Q")
    with pytest.raises(InvalidParameterError):
        period_discount_rate(-1.0, "W")


def test_sub_models_are_cloned_and_contract(cdnow_sample: CRMData) -> None:
    tm, sm = BetaGeoModel(horizon=3), GammaGammaModel()
    model = CLVModel(transaction_model=tm, spend_model=sm, horizon=10).fit(cdnow_sample)
    assert not hasattr(tm, "params_")  # the given models are left untouched
    assert model.transaction_model_.horizon == 10
    assert check_model(CLVModel(horizon=12), cdnow_sample) == list(CHECKS)


def test_predict_interval(summary: pd.DataFrame) -> None:
    model = CLVModel(horizon=26, margin=0.3).fit(summary)
    band = model.predict_interval(summary, level=0.9, n_draws=100, random_state=1)
    again = model.predict_interval(summary, level=0.9, n_draws=100, random_state=1)
    pd.testing.assert_frame_equal(band, again)  # seeded
    pd.testing.assert_series_equal(band["clv"], model.score(summary)["clv"])
    assert (band["clv_lower"] <= band["clv"]).all()
    assert (band["clv"] <= band["clv_upper"]).all()
    assert (band["clv_upper"] > band["clv_lower"]).mean() > 0.99
    narrow = model.predict_interval(summary, level=0.5, n_draws=100, random_state=1)
    width = (band["clv_upper"] - band["clv_lower"]).mean()
    assert (narrow["clv_upper"] - narrow["clv_lower"]).mean() < width
    with pytest.raises(InvalidParameterError):
        model.predict_interval(summary, level=1.5)


@pytest.mark.parametrize("model_name", ["BetaGeoModel", "ParetoNBDModel",
                                        "ModifiedBetaGeoModel", "BetaGeoBetaBinomModel"])
def test_clv_with_every_transaction_model(model_name: str, cdnow_sample: CRMData) -> None:
    import crmmodels.cltv as cltv

    tm = getattr(cltv, model_name)()
    plain = CLVModel(transaction_model=tm, horizon=26).fit(cdnow_sample).score(cdnow_sample)
    # Without discounting, CLV is expected purchases over the horizon x expected spend,
    # even though it is computed per step from the purchases of customers alive today.
    np.testing.assert_allclose(plain["clv"], plain["expected_purchases"]
                               * plain["expected_spend"], rtol=1e-9, atol=1e-9)
    disc = CLVModel(transaction_model=tm, horizon=26,
                    discount_rate=0.01).fit(cdnow_sample).score(cdnow_sample)
    assert (disc["clv"] <= plain["clv"] + 1e-9).all()
    assert (disc["clv"] >= 0).all()
    assert np.isfinite(disc.to_numpy()).all()


def test_clv_units_and_discrete_models(cdnow_sample: CRMData) -> None:
    from crmmodels.cltv import BetaGeoBetaBinomModel

    # The CLV's unit and horizon apply to its parts.
    model = CLVModel(transaction_model=BetaGeoModel(freq="D", horizon=3), freq="W",
                     horizon=10).fit(cdnow_sample)
    assert model.transaction_model_.freq == "W"
    assert model.transaction_model_.horizon == 10
    assert model.spend_model_.freq == "W"
    pd.testing.assert_series_equal(
        model.score(cdnow_sample)["expected_purchases"],
        model.transaction_model_.score(cdnow_sample)["expected_purchases"])
    # A discrete-time model needs whole steps.
    with pytest.raises(InvalidParameterError, match="whole numbers"):
        CLVModel(transaction_model=BetaGeoBetaBinomModel(), step=4.345,
                 horizon=52).fit(cdnow_sample)


def test_argument_checks_use_the_parameter_checker(summary: pd.DataFrame) -> None:
    model = CLVModel(horizon=26).fit(summary)
    band = model.predict_interval(summary.head(20), level=np.float64(0.8),
                                  n_draws=np.int64(10), random_state=0)  # numpy scalars
    assert len(band) == 20
    for kwargs, message in (
        ({"level": 1.5}, r"level must be a number in \(0, 1\), got 1.5"),
        ({"level": "0.9"}, "level must be a number"),
        ({"n_draws": 9}, r"n_draws must be an int in \[10, inf\), got 9"),
        ({"n_draws": 100.0}, "n_draws must be an int"),
        ({"n_draws": True}, "n_draws must be an int"),
    ):
        with pytest.raises(InvalidParameterError, match="CLVModel.predict_interval: " + message):
            model.predict_interval(summary.head(20), **kwargs)  # type: ignore[arg-type]
    for rate, freq in ((0.1, "Y"), (-1.0, "W"), (float("nan"), "W"), (True, "W")):
        with pytest.raises(InvalidParameterError, match="period_discount_rate: "):
            period_discount_rate(rate, freq)
