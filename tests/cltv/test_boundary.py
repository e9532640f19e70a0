"""Fits that end on the boundary name the parameter and say what that means, as data too."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData
from crmmodels.cltv import (
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    ShiftedBetaGeoModel,
    retention_frame_from_survivors,
)
from crmmodels.cltv._base import MaximumLikelihoodModel
from crmmodels.cltv._likelihood import Boundary, boundary_messages
from crmmodels.data import customer_summary
from crmmodels.errors import ConvergenceWarning
from tests.samples import mle_models


def _fit_recording(model: Any, data: Any) -> tuple[Any, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fitted = model.fit(data)
    return fitted, record


@pytest.fixture(scope="module")
def no_dropout() -> pd.DataFrame:
    """400 customers who never leave: Gamma(0.5, 5) Poisson rates, ages of 20-60 weeks.

    The known truth is the NBD model: every buy-till-you-die model must find no dropout.
    """
    rng = np.random.default_rng(0)
    n = 400
    rate = rng.gamma(0.5, 1 / 5.0, n)
    age = rng.integers(20, 61, n).astype(float)
    x = rng.poisson(rate * age)
    last = [np.ceil(rng.uniform(0, t, k).max()) if k else 0.0 for k, t in zip(x, age,
                                                                               strict=True)]
    return pd.DataFrame({"frequency": x.astype(float), "recency": last, "T": age},
                        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"))


# ------------------------------------------------------------------ the notes are data
@pytest.mark.parametrize("cls", mle_models(), ids=lambda c: c.__name__)
def test_every_parameter_has_a_meaning_at_each_edge(cls: type[MaximumLikelihoodModel]) -> None:
    notes = cls._boundary_notes
    assert set(notes) == set(cls._param_names)
    for name, note in notes.items():
        assert isinstance(note, Boundary)
        assert note.zero.startswith(f"{name} -> 0 means "), (name, note.zero)
        assert note.infinity.startswith(f"{name} -> infinity means "), (name, note.infinity)
        assert note.unit in (None, "time", "spend")
        if note.partner is not None:  # pairs are symmetric and share their joint notes
            other = notes[note.partner]
            assert other.partner == name
            assert (other.both_zero, other.both_infinity) == (note.both_zero,
                                                              note.both_infinity)
            assert note.both_zero
            assert note.both_infinity


@pytest.mark.parametrize("cls", [BetaGeoModel, ParetoNBDModel, ModifiedBetaGeoModel,
                                 GammaGammaModel], ids=lambda c: c.__name__)
def test_units_have_a_data_scale(cls: type[MaximumLikelihoodModel]) -> None:
    rows = (np.array([1.0, 2.0]), np.array([10.0, 30.0]), np.array([40.0, 60.0]))
    scales = cls()._data_scales(rows, np.array([1.0, 3.0]))
    for note in cls._boundary_notes.values():
        if note.unit is not None:
            assert scales[note.unit] > 0
    # The weighted mean of the time (T) or the spend (m) column of the distinct rows.
    assert scales == ({"spend": 25.0} if cls is GammaGammaModel else {"time": 55.0})


def test_the_shared_routine() -> None:
    notes = {"a": Boundary(zero="a -> 0 means A0", infinity="a -> infinity means Ainf",
                           partner="b", both_zero="both gone", both_infinity="both huge"),
             "b": Boundary(zero="b -> 0 means B0", infinity="b -> infinity means Binf",
                           partner="a", both_zero="both gone", both_infinity="both huge"),
             "t": Boundary(zero="t0", infinity="tinf", unit="time"),
             "q": Boundary(zero="q0", infinity="qinf", critical=1.0, below_critical="no mean")}
    names = ["a", "b", "t", "q", "other"]

    def messages(*values: float, time: float = 1.0) -> dict[str, str]:
        return boundary_messages("M", names, np.array(values), notes, {"time": time})

    assert messages(1.0, 1.0, 1.0, 2.0, 1.0) == {}
    assert messages(1e-6, 2.0, 1.0, 2.0, 1.0) == {
        "a": "M: a was driven to 0 (estimate 1e-06); a -> 0 means A0. Standard errors are "
             "not meaningful for it."}
    together = messages(1e-6, 1e-7, 1.0, 2.0, 1.0)
    assert together["a"] == ("M: a was driven to 0 (estimate 1e-06) together with b (1e-07); "
                             "both gone. Standard errors are not meaningful for it.")
    assert together["b"].endswith("together with a (1e-06); both gone. Standard errors are "
                                  "not meaningful for it.")
    # Opposite edges: each alone.
    assert "A0" in messages(1e-6, 1e7, 1.0, 2.0, 1.0)["a"]
    assert "Binf" in messages(1e-6, 1e7, 1.0, 2.0, 1.0)["b"]
    # A parameter in the data's units is judged against the data's scale.
    assert "t" in messages(1.0, 1.0, 2e5, 2.0, 1.0)
    assert messages(1.0, 1.0, 2e5, 2.0, 1.0, time=1e4) == {}
    assert "tinf" in messages(1.0, 1.0, 2e9, 2.0, 1.0, time=1e4)["t"]
    # An edge inside the range, and the optimiser's box for anything without a note.
    assert messages(1.0, 1.0, 1.0, 0.8, 1.0) == {"q": "M: q = 0.8 is at or below 1; no mean."}
    assert "edge of its parameter space" in messages(1.0, 1.0, 1.0, 2.0, np.exp(30.0))["other"]
    # A looser threshold (fit_mle's when the information matrix is singular).
    assert boundary_messages("M", names, np.array([1.0, 1.0, 5e3, 2.0, 1.0]), notes,
                             {"time": 1.0}, flat=1e3).keys() == {"t"}


# ------------------------------------------------------------------ fits
def test_bg_nbd_without_dropout(no_dropout: pd.DataFrame) -> None:
    model, record = _fit_recording(BetaGeoModel(), no_dropout)
    assert set(model.boundary_) == {"a"}
    message = model.boundary_["a"]
    assert message.startswith("BetaGeoModel: a was driven to 0 (estimate ")
    assert "no sign of customers leaving" in message
    assert "reduces to the NBD model without dropout" in message
    # The data and the warnings say the same, one warning per parameter, at this line.
    assert [str(w.message) for w in record] == list(model.boundary_.values())
    assert all(w.category is ConvergenceWarning for w in record)
    assert {w.filename for w in record} == {__file__}
    # What it means holds: everyone is alive, and the mean purchase rate r / alpha is
    # the simulation's 0.5 / 5.
    p_alive = model.conditional_probability_alive(no_dropout["frequency"],
                                                  no_dropout["recency"], no_dropout["T"])
    assert p_alive.min() > 0.999
    r, alpha = model.params_["r"], model.params_["alpha"]
    assert r / alpha == pytest.approx(0.5 / 5.0, rel=0.25)


def test_mbg_and_pareto_nbd_without_dropout(no_dropout: pd.DataFrame) -> None:
    mbg, _ = _fit_recording(ModifiedBetaGeoModel(), no_dropout)
    assert set(mbg.boundary_) == {"a"}
    assert "MBG/NBD reduces to the NBD model without dropout" in mbg.boundary_["a"]
    pareto, record = _fit_recording(ParetoNBDModel(), no_dropout)
    assert set(pareto.boundary_) == {"s", "beta"}
    assert "s was driven to 0" in pareto.boundary_["s"]
    assert "the data show (almost) no dropout" in pareto.boundary_["s"]
    assert "beta was driven to infinity" in pareto.boundary_["beta"]
    assert "lifetimes far longer than the observation window" in pareto.boundary_["beta"]
    assert len(record) == 2


def test_an_interior_optimum_flags_nothing_and_a_refit_forgets(
    no_dropout: pd.DataFrame, cdnow_sample: CRMData,
) -> None:
    model, _ = _fit_recording(BetaGeoModel(), no_dropout)
    assert model.boundary_
    model.fit(cdnow_sample)  # warnings are errors in this suite: none is raised
    assert model.boundary_ == {}


def test_units_do_not_make_a_boundary(cdnow_sample: CRMData) -> None:
    """Time in seconds or spend in tiny units moves alpha or v far out, not to an edge."""
    weekly = customer_summary(cdnow_sample, "W")
    seconds = weekly.assign(recency=weekly["recency"] * 604_800, T=weekly["T"] * 604_800)
    in_weeks, in_seconds = BetaGeoModel().fit(weekly), BetaGeoModel().fit(seconds)
    assert in_seconds.params_["alpha"] > 1e5  # beyond the magnitude an absolute rule flags
    assert in_weeks.boundary_ == in_seconds.boundary_ == {}
    assert in_seconds.params_["alpha"] / in_weeks.params_["alpha"] == pytest.approx(604_800,
                                                                                   rel=1e-4)
    cents = weekly.assign(monetary_value=weekly["monetary_value"] * 1e5)
    spend, tiny = GammaGammaModel().fit(weekly), GammaGammaModel().fit(cents)
    assert tiny.params_["v"] > 1e5
    assert spend.boundary_ == tiny.boundary_ == {}
    assert tiny.params_["q"] == pytest.approx(spend.params_["q"], rel=1e-4)


def test_gamma_gamma_with_undefined_mean_spend() -> None:
    """Customers' mean spends drawn with q = 0.8: their average does not exist."""
    rng = np.random.default_rng(0)
    n, p = 20_000, 6.0
    nu = rng.gamma(0.8, 1 / 10.0, n)
    x = rng.integers(1, 6, n)
    frame = pd.DataFrame({"frequency": x.astype(float), "recency": 1.0, "T": 2.0,
                          "monetary_value": rng.gamma(p * x, 1 / nu) / x},
                         index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"))
    model, record = _fit_recording(GammaGammaModel(), frame)
    assert model.params_["q"] < 1
    assert set(model.boundary_) == {"q"}
    assert model.boundary_["q"].startswith(f"GammaGammaModel: q = {model.params_['q']:.3g} "
                                           "is at or below 1; ")
    assert "infinite expected spend" in model.boundary_["q"]
    assert [str(w.message) for w in record] == [model.boundary_["q"]]
    assert model.population_mean_spend() == float("inf")


@pytest.mark.parametrize(
    ("survivors", "side", "meaning"),
    [([1000, 1, 1, 1], "0", "the cohort splits in two"),
     ([1000, 10, 0], "infinity", "every customer has the same churn probability")],
)
def test_sbg_pairs_at_an_edge_together(survivors: list[int], side: str, meaning: str) -> None:
    model, record = _fit_recording(
        ShiftedBetaGeoModel(), retention_frame_from_survivors(survivors))
    assert set(model.boundary_) == {"alpha", "beta"}
    for name, other in (("alpha", "beta"), ("beta", "alpha")):
        message = model.boundary_[name]
        assert f"{name} was driven to {side} " in message
        assert f"together with {other} (" in message
        assert meaning in message
    assert len(record) == 2


def test_online_retail_bg_nbd() -> None:
    """The real case: Online Retail's weekly log shows no sign of customers leaving."""
    from crmmodels.cltv import CLVModel
    from crmmodels.datasets import load_online_retail

    summary = customer_summary(load_online_retail(), "W")
    model, record = _fit_recording(BetaGeoModel(), summary)
    assert list(model.boundary_) == ["a"]
    assert "a was driven to 0" in model.boundary_["a"]
    assert "no sign of customers leaving" in model.boundary_["a"]
    assert [str(w.message) for w in record] == [model.boundary_["a"]]
    # A CLV model keeps its parts, so a report can say it in its own words.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clv = CLVModel(horizon=52).fit(summary)
    assert clv.transaction_model_.boundary_.keys() == {"a"}
    assert clv.spend_model_.boundary_ == {}
