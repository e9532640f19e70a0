"""Public contract checks for crmmodels models, like scikit-learn's ``check_estimator``.

Every registered model (built-in or plug-in) must pass :func:`check_model`. Plug-in
authors call it from their own tests.
"""

from __future__ import annotations

import copy
import inspect
import json
import math
import os
import pickle
import tempfile
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from crmmodels.core import CRMModel, Model, check_params, invalid_values, name_of
from crmmodels.data import CRMData
from crmmodels.errors import (
    DataValidationError,
    InvalidParameterError,
    ModelFormatError,
    NotFittedError,
)

__all__ = ["CHECKS", "check_model"]

_FRAMES = ("transactions", "customers", "interactions")


def _frames(data: CRMData) -> dict[str, pd.DataFrame]:
    return {n: getattr(data, n) for n in _FRAMES if getattr(data, n) is not None}


def _snapshot(data: CRMData) -> dict[str, pd.DataFrame]:
    return {n: f.copy(deep=True) for n, f in _frames(data).items()}


def _assert_same(a: Any, b: Any, where: str = "state", exact: bool = True) -> None:
    """Recursively assert two learned states are equal."""
    if isinstance(a, pd.DataFrame):
        assert isinstance(b, pd.DataFrame), f"{where}: DataFrame vs {type(b).__name__}"
        pd.testing.assert_frame_equal(a, b, check_exact=exact, obj=where)
    elif isinstance(a, pd.Series):
        assert isinstance(b, pd.Series), f"{where}: Series vs {type(b).__name__}"
        pd.testing.assert_series_equal(a, b, check_exact=exact, obj=where)
    elif isinstance(a, pd.Index):
        pd.testing.assert_index_equal(a, b, exact=True, obj=where)
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), f"{where}: ndarray vs {type(b).__name__}"
        assert a.shape == b.shape, f"{where}: shape {a.shape} vs {b.shape}"
        if exact or a.dtype.kind not in "fc":
            np.testing.assert_array_equal(a, b, err_msg=where)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-7, err_msg=where)
    elif isinstance(a, dict):
        assert isinstance(b, dict), f"{where}: dict vs {type(b).__name__}"
        assert set(a) == set(b), f"{where}: keys differ"
        for k in a:
            _assert_same(a[k], b[k], f"{where}[{k!r}]", exact)
    elif isinstance(a, list | tuple):
        assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
        assert len(a) == len(b), f"{where}: lengths {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]", exact)
    elif isinstance(a, float) and not isinstance(a, bool):
        assert isinstance(b, float), f"{where}: {a!r} vs {b!r}"
        if math.isnan(a):
            assert math.isnan(b), f"{where}: nan vs {b!r}"
        elif exact:
            assert a == b, f"{where}: {a!r} != {b!r}"
        else:
            assert math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-12), f"{where}: {a!r} vs {b!r}"
    elif isinstance(a, CRMModel):
        assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
        _assert_same(_state(a), _state(b), where, exact)
    elif isinstance(a, BaseEstimator):
        # Same class, same hyper-parameters and the same learned attributes (compared
        # value by value: pickled bytes differ between equal estimators, e.g. through
        # shared numpy dtype objects).
        assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
        _assert_same(a.get_params(deep=False), b.get_params(deep=False), f"{where}.params",
                     exact)
        learned_a = {k: v for k, v in vars(a).items() if k.endswith("_")}
        learned_b = {k: v for k, v in vars(b).items() if k.endswith("_")}
        assert set(learned_a) == set(learned_b), f"{where}: learned attributes differ"
        for k in learned_a:
            va, vb = learned_a[k], learned_b[k]
            if isinstance(va, np.ndarray | pd.DataFrame | pd.Series | float | int | str
                          | BaseEstimator | list | tuple | dict) or va is None:
                _assert_same(va, vb, f"{where}.{k}", exact)
            else:
                assert pickle.dumps(va) == pickle.dumps(vb), f"{where}.{k}: differ"
    elif (type(a) is type(b) and hasattr(a, "__dict__") and not inspect.isroutine(a)
          and not isinstance(a, type) and a != b):
        # Plain helper objects without equality (a CV splitter, a fitted calibrator
        # wrapper, a spline): equal when their attributes are.
        _assert_same(vars(a), vars(b), f"{where}.vars", exact)
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _state(model: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(model).items() if k.endswith("_") and not k.startswith("__")}


def _check_protocol(model: CRMModel, data: CRMData) -> None:
    assert isinstance(model, Model), "does not implement crmmodels.core.Model"
    assert isinstance(model, CRMModel), "does not derive from crmmodels.CRMModel"
    assert type(model).__name__.endswith("Model"), "class name must end in 'Model'"


def _check_keyword_only(model: CRMModel, data: CRMData) -> None:
    params = inspect.signature(type(model).__init__).parameters
    positional = [n for n, p in params.items() if n != "self" and p.kind in (
        p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)]
    assert not positional, (f"constructor takes {positional} positionally; declare "
                            "def __init__(self, *, ...)")


def _check_clone(model: CRMModel, data: CRMData) -> None:
    c = clone(model)
    _assert_same(c.get_params(deep=False), model.get_params(deep=False), "params")
    assert not _state(c), "clone carries learned state"


def _check_not_fitted(model: CRMModel, data: CRMData) -> None:
    m = clone(model)
    try:
        m.score(data)
    except NotFittedError:
        return
    raise AssertionError("score before fit did not raise NotFittedError")


def _check_fit_no_mutation(model: CRMModel, data: CRMData) -> None:
    before = _snapshot(data)
    params = clone(model).get_params(deep=False)
    m = clone(model)
    out = m.fit(data)
    assert out is m, "fit must return self"
    m.score(data)
    for name, frame in _frames(data).items():
        pd.testing.assert_frame_equal(frame, before[name], obj=f"data.{name} after fit/score")
    _assert_same(m.get_params(deep=False), params, "params changed by fit")
    # A plain DataFrame input must not be modified either.
    if data.transactions is not None and "transactions" in model._required_frames:
        raw = data.transactions.copy(deep=True)
        keep = raw.copy(deep=True)
        clone(model).fit(raw)
        pd.testing.assert_frame_equal(raw, keep, obj="transactions frame passed to fit")


def _check_score_contract(model: CRMModel, data: CRMData) -> None:
    m = clone(model).fit(data)
    state = copy.deepcopy(_state(m))
    scores = m.score(data)
    assert isinstance(scores, pd.DataFrame), "score must return a DataFrame"
    assert scores.index.name == m._score_index, f"index name {scores.index.name!r}"
    assert scores.index.is_unique, "score's index must be unique"
    assert len(scores) > 0, "score returned no rows"
    assert tuple(scores.columns) == tuple(m._score_columns), "columns differ from _score_columns"
    assert all(c == c.lower() and " " not in c for c in scores.columns), "columns not snake_case"
    _assert_same(state, _state(m), "state changed by score")
    again = m.score(data)
    pd.testing.assert_frame_equal(scores, again, obj="second score")


def _check_refit(model: CRMModel, data: CRMData) -> None:
    m1 = clone(model).fit(data)
    first = m1.score(data)
    m1.fit(data)
    m2 = clone(model).fit(data)
    pd.testing.assert_frame_equal(m1.score(data), first, obj="refit vs first fit")
    pd.testing.assert_frame_equal(m2.score(data), first, obj="fresh fit vs first fit")
    _assert_same(_state(m1), _state(m2), "refit state")


def _shuffled(data: CRMData, seed: int = 0) -> CRMData:
    rng = np.random.default_rng(seed)
    frames = {n: f.iloc[rng.permutation(len(f))] for n, f in _frames(data).items()}
    return CRMData(frames.get("transactions"), frames.get("customers"),
                   frames.get("interactions"), observation_end=data.observation_end,
                   allow_returns=data.allow_returns)


def _check_row_order(model: CRMModel, data: CRMData) -> None:
    shuffled = _shuffled(data)
    a = clone(model).fit(data).score(data).sort_index()
    b = clone(model).fit(shuffled).score(shuffled).sort_index()
    # Sums taken in row order differ in their last bits (1e-16); a maximum-likelihood
    # fit stops within its tolerance on a flat ridge (Gamma-Gamma's q and gamma), which
    # moved IDIC's expected values by 2.2e-7 under scipy 1.11. Real order dependence
    # moves scores by far more than 1e-6.
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-6, obj="shuffled rows")


def _check_save_load(model: CRMModel, data: CRMData) -> None:
    m = clone(model).fit(data)
    expected = m.score(data)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.zip")
        m.save(path)
        with zipfile.ZipFile(path) as zf:
            manifest = json.loads(zf.read("manifest.json"))
        assert manifest.get("model") == name_of(type(m)), (
            f"the file names the model {manifest.get('model')!r}, not its registry name")
        assert type(m).__module__ not in json.dumps(manifest), "the file records a module path"
        loaded = type(m).load(path)
        assert type(loaded) is type(m)
        _assert_same(loaded.get_params(deep=False), m.get_params(deep=False), "loaded params")
        _assert_same(_state(loaded), _state(m), "loaded state")
        pd.testing.assert_frame_equal(loaded.score(data), expected, obj="score after load")
        any_model = CRMModel.load(path)
        assert type(any_model) is type(m)
        # A file of another class or format is refused.
        from crmmodels.cltv import NaiveRateModel

        other_cls: type[CRMModel] = NaiveRateModel if type(m) is not NaiveRateModel \
            else _OtherModel
        try:
            other_cls.load(path)
        except ModelFormatError:
            pass
        else:
            raise AssertionError("loading a file of another class did not raise ModelFormatError")
        junk = os.path.join(tmp, "junk.zip")
        with open(junk, "wb") as fh:
            fh.write(b"not a model")
        try:
            type(m).load(junk)
        except ModelFormatError:
            pass
        else:
            raise AssertionError("loading a non-model file did not raise ModelFormatError")


def _check_pickle(model: CRMModel, data: CRMData) -> None:
    m = clone(model).fit(data)
    expected = m.score(data)
    restored = pickle.loads(pickle.dumps(m))
    _assert_same(_state(restored), _state(m), "unpickled state")
    pd.testing.assert_frame_equal(restored.score(data), expected, obj="score after pickle")


def _check_bad_data(model: CRMModel, data: CRMData) -> None:
    frame_name = model._required_frames[0] if model._required_frames else "transactions"
    frame = getattr(data, frame_name)
    assert frame is not None, f"check data has no {frame_name} frame"
    cases: dict[str, Any] = {
        "missing customer_id": frame.drop(columns="customer_id"),
        "empty frame": frame.iloc[:0],
        "a list instead of data": [1, 2, 3],
    }
    nan_ids = frame.copy()
    nan_ids["customer_id"] = nan_ids["customer_id"].astype(object)
    nan_ids.iloc[0, nan_ids.columns.get_loc("customer_id")] = None
    cases["NaN customer id"] = nan_ids
    if "amount" in frame.columns:
        negative = frame.copy()
        negative.iloc[0, negative.columns.get_loc("amount")] = -1.0
        cases["negative amount"] = negative
    for label, bad in cases.items():
        # The raw frame goes to the model: it must validate it, not trust it.
        try:
            clone(model).fit(bad)
        except DataValidationError:
            pass
        else:
            raise AssertionError(f"fit on data with {label} did not raise DataValidationError")
    # A single customer is valid data: the model fits, or says clearly why it cannot.
    first = frame["customer_id"].iloc[0]
    one = CRMData(**{frame_name: frame[frame["customer_id"] == first]})
    try:
        clone(model).fit(one).score(one)
    except DataValidationError:
        pass


def _check_bad_params(model: CRMModel, data: CRMData) -> None:
    klass = type(model)
    declared = klass._parameter_constraints
    # (settings, whether the message must follow the contract's shape)
    bad: list[tuple[dict[str, Any], bool]] = [(p, False) for p in klass._bad_params]
    for name, constraints in declared.items():
        bad.extend(({name: value}, True) for value in invalid_values(constraints))
    assert bad, f"{klass.__name__} declares no parameter constraints to test"
    for params, strict in bad:
        m = clone(model).set_params(**params)
        try:
            m.fit(data)
        except InvalidParameterError as exc:
            name = next(iter(params))
            message = str(exc)
        else:
            raise AssertionError(f"fit with {params} did not raise InvalidParameterError")
        if strict and not message.startswith(f"{klass.__name__}: {name} must be "):
            raise AssertionError(
                f"message for {params} does not follow the parameter contract: {message}")
    # numpy scalars are accepted wherever the Python type is.
    current = model.get_params(deep=False)
    as_numpy = {n: (np.int64(v) if isinstance(v, int) else np.float64(v))
                for n, v in current.items() if n in declared
                and isinstance(v, int | float) and not isinstance(v, bool)}
    try:
        check_params(klass.__name__, as_numpy, declared)
    except InvalidParameterError as exc:
        raise AssertionError(f"numpy scalars refused: {exc}") from exc


def _check_atomic_fit(model: CRMModel, data: CRMData) -> None:
    m = clone(model).fit(data)
    state = copy.deepcopy(_state(m))
    expected = m.score(data)

    def failing(prepared: Any) -> None:
        m.half_learned_ = 1.0
        raise RuntimeError("planted failure inside _fit")

    m._fit = failing
    try:
        m.fit(data)
    except RuntimeError:
        pass
    else:
        raise AssertionError("the planted failure inside _fit did not propagate")
    finally:
        del m._fit
    _assert_same(_state(m), state, "state after a fit that failed inside _fit")
    try:
        m.fit([1, 2, 3])
    except DataValidationError:
        pass
    _assert_same(_state(m), state, "state after a fit that failed in validation")
    pd.testing.assert_frame_equal(m.score(data), expected, obj="score after failed fits")


class _OtherModel(CRMModel):
    """A class no file is saved as (used to test class checks on load)."""


CHECKS: dict[str, Callable[[CRMModel, CRMData], None]] = {
    "protocol": _check_protocol,
    "keyword_only": _check_keyword_only,
    "clone": _check_clone,
    "not_fitted": _check_not_fitted,
    "fit_no_mutation": _check_fit_no_mutation,
    "score_contract": _check_score_contract,
    "save_load": _check_save_load,
    "pickle": _check_pickle,
    "refit_equals_fresh_fit": _check_refit,
    "row_order": _check_row_order,
    "bad_data": _check_bad_data,
    "bad_params": _check_bad_params,
    "atomic_fit": _check_atomic_fit,
}


def check_model(model: CRMModel, data: CRMData, *, checks: list[str] | None = None) -> list[str]:
    """Run the model contract checks on ``model`` with ``data``.

    Parameters
    ----------
    model : CRMModel
        An unfitted model instance (it is cloned, never modified).
    data : CRMData
        Data the model can be fitted on.
    checks : list of str, optional
        Subset of :data:`CHECKS` to run (default: all).

    Returns
    -------
    list of str
        Names of the checks that passed (all of them, or an error is raised).

    Raises
    ------
    AssertionError
        The first failing check, named in the message.

    Examples
    --------
    >>> from crmmodels.cltv import NaiveRateModel
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> check_model(NaiveRateModel(), load_cdnow_sample())[:3]
    ['protocol', 'keyword_only', 'clone']
    """
    names = list(CHECKS) if checks is None else checks
    passed = []
    for name in names:
        if name not in CHECKS:
            raise InvalidParameterError(f"unknown check {name!r}; choose from {list(CHECKS)}")
        try:
            CHECKS[name](model, data)
        except AssertionError as exc:
            raise AssertionError(f"{type(model).__name__} failed check {name!r}: {exc}") from exc
        except Exception as exc:
            raise AssertionError(
                f"{type(model).__name__} failed check {name!r}: raised "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        passed.append(name)
    return passed
