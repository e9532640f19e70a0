"""Default settings fit real, messy transaction logs without warnings or tuning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from crmmodels.cltv import CLVModel
from crmmodels.datasets import load_cdnow, load_online_retail
from crmmodels.errors import ConvergenceWarning


@pytest.mark.slow
@pytest.mark.parametrize("loader", [load_cdnow, load_online_retail])
def test_clv_defaults_on_real_logs(loader) -> None:  # type: ignore[no-untyped-def]
    data = loader()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = CLVModel(horizon=52, margin=0.3).fit(data)
    messages = [str(w.message) for w in caught]
    if loader is load_cdnow:
        assert messages == []  # an interior optimum: nothing to flag
    else:
        # Online Retail's weekly log shows almost no dropout: BG/NBD's a goes to 0 and
        # the fit says so, in words, instead of returning silent nonsense.
        assert any("no sign of customers leaving" in m for m in messages), messages
        assert all(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert model.transaction_model_.converged_
    assert model.spend_model_.converged_
    assert np.isfinite(model.transaction_model_.params_.to_numpy()).all()
    scores = model.score(data)
    assert len(scores) == data.n_customers
    assert np.isfinite(scores.to_numpy()).all()
    assert (scores["clv"] >= 0).all()
    assert scores["p_alive"].between(0, 1).all()
