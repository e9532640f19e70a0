"""Every CLV maximum-likelihood model fits through MaximumLikelihoodModel._fit."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest
from scipy import stats
from scipy.special import gammaln

import crmmodels.cltv._base as base
from crmmodels import CRMData
from crmmodels.cltv import (
    GammaGammaModel,
    ParetoNBDModel,
    ShiftedBetaGeoModel,
    retention_frame_from_survivors,
)
from crmmodels.cltv._base import MaximumLikelihoodModel
from crmmodels.cltv._likelihood import Rows, compress
from tests.samples import mle_models


def test_every_registered_mle_model_uses_the_one_fit() -> None:
    models = mle_models()
    assert {c.__name__ for c in models} >= {
        "BetaGeoModel", "ParetoNBDModel", "ModifiedBetaGeoModel", "BetaGeoBetaBinomModel",
        "GammaGammaModel", "ShiftedBetaGeoModel"}
    for cls in models:
        assert cls._fit is MaximumLikelihoodModel._fit, cls.__name__


def test_models_with_different_data_share_the_optimiser_call(
    cdnow_sample: CRMData, monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, tuple[str, ...], float]] = []
    real_fit_mle = base.fit_mle

    def spy(nll: Any, x0: np.ndarray, names: tuple[str, ...], **kwargs: Any) -> Any:
        res = real_fit_mle(nll, x0, names, **kwargs)
        calls.append((kwargs["model"], tuple(names), nll(res.params)))
        return res

    monkeypatch.setattr(base, "fit_mle", spy)
    spend = GammaGammaModel().fit(cdnow_sample)
    purchases = ParetoNBDModel().fit(cdnow_sample)
    retention = ShiftedBetaGeoModel().fit(
        retention_frame_from_survivors([1000, 631, 468, 382, 326, 289, 262, 241]))
    assert [c[:2] for c in calls] == [
        ("GammaGammaModel", ("p", "q", "v")),
        ("ParetoNBDModel", ("r", "alpha", "s", "beta")),
        ("ShiftedBetaGeoModel", ("alpha", "beta")),
    ]
    # The objective was the mean negative log-likelihood over the customers fitted.
    for (_, _, mean_nll), model in zip(calls, (spend, purchases, retention), strict=True):
        assert model.log_likelihood_ == pytest.approx(-mean_nll * model.n_customers_,
                                                      rel=1e-12)
        assert not hasattr(model, "_fit_cache")


class _PoissonRate(MaximumLikelihoodModel):
    """A model written only through the hooks: counts ~ Poisson(rate), no gradient."""

    _param_names: ClassVar[tuple[str, ...]] = ("rate",)
    _score_columns: ClassVar[tuple[str, ...]] = ("rate",)

    def __init__(self) -> None:
        pass

    def _prepare(self, data: object) -> np.ndarray:
        return np.asarray(data, dtype=float)

    def _fit_rows(self, data: np.ndarray) -> tuple[Rows, np.ndarray]:
        rows, w, _ = compress(data)
        return rows, w

    @staticmethod
    def _loglik(params: np.ndarray, x: np.ndarray) -> np.ndarray:
        return np.asarray(x * np.log(params[0]) - params[0] - gammaln(x + 1), dtype=float)


def test_a_model_that_states_only_its_likelihood() -> None:
    counts = np.random.default_rng(0).poisson(3.0, 5000)
    model = _PoissonRate().fit(counts)
    rate = counts.mean()
    assert model.params_["rate"] == pytest.approx(rate, rel=1e-7)
    assert model.log_likelihood_ == pytest.approx(
        stats.poisson.logpmf(counts, model.params_["rate"]).sum(), rel=1e-12)
    assert model.n_customers_ == len(counts)
    assert model.converged_
    # Standard error from the (numerical) Hessian: sqrt(rate / n) for a Poisson mean.
    assert model.standard_errors_["rate"] == pytest.approx(np.sqrt(rate / len(counts)),
                                                           rel=1e-4)


def test_convergence_warnings_point_at_the_callers_line() -> None:
    import pandas as pd

    from crmmodels.cltv import BetaGeoModel
    from crmmodels.errors import ConvergenceWarning

    # Nobody repeats: the dropout parameters are not identified by these data.
    summary = pd.DataFrame({"frequency": [0.0] * 50, "recency": [0.0] * 50,
                            "T": np.linspace(10, 60, 50)})
    with pytest.warns(ConvergenceWarning) as record:
        BetaGeoModel().fit(summary)
    assert {w.filename for w in record} == {__file__}
