"""One parameter contract: declared constraints, one checker, one message shape."""

from __future__ import annotations

import inspect
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
import pytest

import crmmodels
from crmmodels.core import (
    Boolean,
    Date,
    Interval,
    Options,
    RandomState,
    TimeSpan,
    check_params,
    invalid_values,
)
from crmmodels.datasets import load_cdnow_sample
from crmmodels.errors import InvalidParameterError
from crmmodels.segments import RFMModel


def test_message_shape() -> None:
    with pytest.raises(InvalidParameterError,
                       match=r"^RFMModel: bins must be an int in \[2, 9\], got 1\.5$"):
        RFMModel(bins=1.5).fit(load_cdnow_sample())  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=r"^M: x must be None or a date, got 'no'$"):
        check_params("M", {"x": "no"}, {"x": [None, Date()]})


@pytest.mark.parametrize(
    ("constraint", "good", "bad"),
    [
        (Interval(Integral, 1, None), [1, np.int64(52), np.int32(3)],
         [52.0, True, np.bool_(True), 0, "3", 1.5, np.float64(2.0)]),
        (Interval(Real, 0, None, closed="neither"), [0.5, 3, np.float32(1e-3), np.int64(2)],
         [0, -1, float("nan"), float("inf"), True, "1"]),
        (Interval(Real, 0, 1, closed="right"), [1, 1.0, 0.25], [0, 1.01]),
        (Options({"D", "W"}), ["W", np.str_("D")], ["Y", None, 1, ["W"]]),
        (Options({"auto", 3}), ["auto", 3, np.int64(3)], [3.0, True, "3"]),
        (Boolean(), [True, np.bool_(False)], [1, "yes", None]),
        (Date(), ["2024-01-31", pd.Timestamp("2024-01-01"), np.datetime64("2024-01-01")],
         ["not a date", 3, None, True]),
        (TimeSpan(), ["90D", pd.Timedelta(days=3)], ["-5D", "later", 90]),
        (RandomState(), [0, np.int64(7), np.random.default_rng(0)], [-1, 1.5, "0", True]),
    ],
)
def test_constraints(constraint: Any, good: list[Any], bad: list[Any]) -> None:
    for v in good:
        assert constraint.is_satisfied_by(v), f"{v!r} should satisfy {constraint}"
    for v in bad:
        assert not constraint.is_satisfied_by(v), f"{v!r} should not satisfy {constraint}"
    for v in constraint.invalid_examples():
        assert not constraint.is_satisfied_by(v), f"its own example {v!r} satisfies it"


def test_invalid_values_satisfy_no_alternative() -> None:
    constraints = [None, Options({"auto"}), Interval(Integral, 2, None)]
    values = invalid_values(constraints)
    assert values
    for v in values:
        with pytest.raises(InvalidParameterError):
            check_params("M", {"k": v}, {"k": constraints})
    check_params("M", {"k": None}, {"k": constraints})
    check_params("M", {"k": "auto"}, {"k": constraints})
    check_params("M", {"k": np.int64(2)}, {"k": constraints})


@pytest.mark.parametrize("name", sorted(crmmodels.list_models()))
def test_every_builtin_declares_every_parameter(name: str) -> None:
    klass = crmmodels.get_model(name)
    params = [p for p in inspect.signature(klass.__init__).parameters if p != "self"]
    assert params, f"{klass.__name__} has no hyper-parameters"
    missing = [p for p in params if p not in klass._parameter_constraints]
    assert not missing, f"{klass.__name__} declares no constraint for {missing}"
    assert not klass._param_rules, f"{klass.__name__} still has hand-written rules"
    # Its defaults satisfy its own constraints, also as numpy scalars.
    defaults = klass().get_params(deep=False)
    check_params(klass.__name__, defaults, klass._parameter_constraints)
    numpy_defaults = {k: np.int64(v) if isinstance(v, int) and not isinstance(v, bool)
                      else np.float64(v) if isinstance(v, float) else v
                      for k, v in defaults.items()}
    check_params(klass.__name__, numpy_defaults, klass._parameter_constraints)


def test_whole_number_horizons_refuse_floats() -> None:
    from crmmodels.cltv import BetaGeoBetaBinomModel, ShiftedBetaGeoModel

    for klass in (BetaGeoBetaBinomModel, ShiftedBetaGeoModel):
        with pytest.raises(InvalidParameterError, match="horizon must be an int"):
            check_params(klass.__name__, {"horizon": 52.0}, klass._parameter_constraints)
        check_params(klass.__name__, {"horizon": np.int64(52)}, klass._parameter_constraints)


def test_churn_random_state_accepts_numpy_int() -> None:
    from crmmodels.propensity import ChurnModel

    check_params("ChurnModel", {"random_state": np.int64(3)}, ChurnModel._parameter_constraints)
    with pytest.raises(InvalidParameterError, match="random_state must be None or an int"):
        check_params("ChurnModel", {"random_state": 1.5}, ChurnModel._parameter_constraints)


def test_constructors_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        RFMModel(5)  # type: ignore[misc]


def test_numpy_integers_inside_window_tuples() -> None:
    from crmmodels.datasets import load_cdnow_sample
    from crmmodels.propensity import ChurnModel, FraudModel

    data = load_cdnow_sample()
    as_numpy = ChurnModel(windows=(np.int64(30), np.int64(90)), random_state=0,
                          features=["recency_days", "purchases_30d", "purchases_90d"])
    as_int = ChurnModel(windows=(30, 90), random_state=0,
                        features=["recency_days", "purchases_30d", "purchases_90d"])
    pd.testing.assert_frame_equal(as_numpy.fit(data).score(data), as_int.fit(data).score(data))
    FraudModel(windows=(np.int64(1), np.int64(7)))._check_params()
    for bad in ((np.float64(1.5),), (np.bool_(True),), (True,)):
        with pytest.raises(InvalidParameterError, match="windows"):
            FraudModel(windows=bad)._check_params()
        with pytest.raises(InvalidParameterError, match="windows"):
            ChurnModel(windows=bad)._check_params()
