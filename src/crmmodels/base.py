"""The model protocol and the base class every crmmodels model derives from.

Subclasses write only ``_fit`` and ``_score``; :class:`CRMModel` owns the public
``fit`` / ``score``: it checks hyper-parameters, validates the input, calls the
subclass, and enforces the output's index name and columns. It follows
scikit-learn's estimator contract (constructor stores, ``fit`` learns state ending in
``_``, :func:`sklearn.base.clone` works). ``score`` returns a frame, not a number, so
grid search needs an explicit ``scoring=``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from crmmodels.data import CRMData
from crmmodels.errors import (
    DataValidationError,
    InvalidParameterError,
    ModelFormatError,
    NotFittedError,
)

__all__ = ["CRMModel", "Model", "ParamRule"]

ParamRule = Callable[[Any], bool] | tuple[Callable[[Any], bool], str]


@runtime_checkable
class Model(Protocol):
    """What every crmmodels model (built-in or plug-in) provides."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the hyper-parameters."""
        ...

    def set_params(self, **params: Any) -> Self:
        """Set hyper-parameters and return the model."""
        ...

    def fit(self, data: CRMData | pd.DataFrame, /) -> Self:
        """Learn from data and return the model."""
        ...

    def score(self, data: CRMData | pd.DataFrame, /) -> pd.DataFrame:
        """Return one row of results per scored unit."""
        ...

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted model to ``path``."""
        ...

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read a model written by :meth:`save`."""
        ...


class CRMModel(BaseEstimator):  # type: ignore[misc]
    """Base class of every crmmodels model.

    Class attributes a subclass sets:

    ``_param_rules``
        ``{name: predicate}`` or ``{name: (predicate, "what is expected")}``;
        checked at every ``fit``; a failing one raises
        :class:`~crmmodels.errors.InvalidParameterError`.
    ``_score_index``
        Name of the index of :meth:`score`'s result (``"customer_id"``).
    ``_score_columns``
        The exact columns :meth:`score` returns, in order.
    ``_accepts_summary``
        Whether ``fit`` / ``score`` also take a per-customer summary frame
        (``frequency, recency, T[, monetary_value]``).
    ``_required_frames``
        Frames a ``CRMData`` input must hold.
    ``_bad_params``
        Example invalid settings, used by :func:`crmmodels.testing.check_model`.

    Examples
    --------
    >>> from crmmodels.baseline import NaiveRateModel
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> model = NaiveRateModel(horizon=52, freq="W").fit(load_cdnow_sample())
    >>> model.score(load_cdnow_sample()).columns.tolist()
    ['expected_purchases', 'purchase_rate']
    """

    _param_rules: ClassVar[dict[str, ParamRule]] = {}
    _score_index: ClassVar[str] = "customer_id"
    _score_columns: ClassVar[tuple[str, ...]] = ()
    _accepts_summary: ClassVar[bool] = False
    _summary_needs_monetary: ClassVar[bool] = False
    _required_frames: ClassVar[tuple[str, ...]] = ("transactions",)
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = ()

    # ------------------------------------------------------------------ protocol
    def fit(self, data: CRMData | pd.DataFrame, /) -> Self:
        """Validate the hyper-parameters and the data, then learn.

        Parameters
        ----------
        data : CRMData or DataFrame
            Validated data, a transactions frame, or (for models that accept one)
            a per-customer summary frame.

        Returns
        -------
        self
        """
        self._check_params()
        prepared = self._prepare(data)
        self._reset()
        self._fit(prepared)
        return self

    def score(self, data: CRMData | pd.DataFrame, /) -> pd.DataFrame:
        """Score each unit (customer, basket, transaction) of ``data``.

        Never changes the model.

        Returns
        -------
        DataFrame
            Indexed by ``_score_index``, with exactly ``_score_columns``.
        """
        self._check_fitted()
        prepared = self._prepare(data)
        out = self._score(prepared)
        return self._check_output(out)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted (or unfitted) model to a zip file.

        The file holds ``manifest.json`` (format, class, library versions,
        hyper-parameters and learned state), ``arrays.npz`` for numeric arrays and
        joblib files only for scikit-learn sub-models.

        Examples
        --------
        >>> import tempfile, os
        >>> from crmmodels.baseline import NaiveRateModel
        >>> path = os.path.join(tempfile.mkdtemp(), "m.zip")
        >>> NaiveRateModel(horizon=10).save(path)
        >>> NaiveRateModel.load(path).horizon
        10
        """
        from crmmodels import _persistence

        state = {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("__")}
        _persistence.write_model(path, type(self), self.get_params(deep=False), state)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read a model written by :meth:`save`.

        Raises
        ------
        ModelFormatError
            The file is not a crmmodels model file, or holds another class.
        """
        from crmmodels import _persistence

        klass, params, state = _persistence.read_model(path)
        if cls is not CRMModel and klass is not cls:
            raise ModelFormatError(
                f"{os.fspath(path)!r} holds a {klass.__name__}, not a {cls.__name__}; "
                f"load it with {klass.__name__}.load or CRMModel.load"
            )
        model = klass(**params)
        for k, v in state.items():
            setattr(model, k, v)
        if not isinstance(model, cls):  # pragma: no cover - guarded above
            raise ModelFormatError(f"file holds {klass.__name__}")
        return model

    # ------------------------------------------------------------------ hooks
    def _fit(self, data: Any) -> None:
        raise NotImplementedError

    def _score(self, data: Any) -> pd.DataFrame:
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers
    def _reset(self) -> None:
        for k in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            delattr(self, k)

    def _check_params(self) -> None:
        params = self.get_params(deep=False)
        for name, rule in self._param_rules.items():
            check, expected = rule if isinstance(rule, tuple) else (rule, "a valid value")
            value = params.get(name)
            try:
                ok = bool(check(value))
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise InvalidParameterError(
                    f"{type(self).__name__}: {name}={value!r} is invalid; expected {expected}"
                )

    def _check_fitted(self) -> None:
        try:
            check_is_fitted(self)
        except Exception as exc:
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(data) first."
            ) from exc

    def _prepare(self, data: object) -> Any:
        from crmmodels.features import validate_summary

        if isinstance(data, CRMData):
            data.require(*self._required_frames)  # type: ignore[arg-type]
            return data
        if isinstance(data, pd.DataFrame):
            summary_cols = {"frequency", "recency", "T"}
            if summary_cols <= set(data.columns):
                if not self._accepts_summary:
                    raise DataValidationError(
                        f"{type(self).__name__} needs transactions, not a per-customer summary",
                        frame="summary", rule="type",
                    )
                return validate_summary(data, require_monetary=self._summary_needs_monetary)
            if self._required_frames and self._required_frames[0] != "transactions":
                frame = self._required_frames[0]
                return CRMData(**{frame: data})  # type: ignore[arg-type]
            return CRMData(transactions=data)
        raise DataValidationError(
            f"{type(self).__name__} takes CRMData or a DataFrame, got {type(data).__name__}",
            rule="type",
        )

    def _check_output(self, out: object) -> pd.DataFrame:
        name = type(self).__name__
        if not isinstance(out, pd.DataFrame):
            raise TypeError(f"{name}._score must return a DataFrame, got {type(out).__name__}")
        if out.index.name != self._score_index:
            raise TypeError(
                f"{name}._score returned index {out.index.name!r}, expected {self._score_index!r}"
            )
        if tuple(out.columns) != tuple(self._score_columns):
            raise TypeError(
                f"{name}._score returned columns {list(out.columns)}, "
                f"expected {list(self._score_columns)}"
            )
        return out

    def __sklearn_is_fitted__(self) -> bool:
        return any(k.endswith("_") and not k.startswith("__") for k in vars(self))
