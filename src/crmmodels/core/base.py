"""The model protocol and the base class every crmmodels model derives from.

Subclasses write only ``_fit`` and ``_score``; :class:`CRMModel` owns the public
``fit`` / ``score``: it checks hyper-parameters, validates the input, calls the
subclass (``_fit`` with the BLAS and OpenMP thread pools bounded to the usable cores,
:func:`crmmodels.core.threads.limit_threads`), and enforces the output's index name and
columns. It follows scikit-learn's estimator contract (constructor stores, ``fit``
learns state ending in ``_``, :func:`sklearn.base.clone` works). ``score`` returns a
frame, not a number, so grid search needs an explicit ``scoring=``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, ClassVar, Self

import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from crmmodels.core.display import Sections, model_html
from crmmodels.core.params import Constraint, Predicate, check_params
from crmmodels.core.persistence import Trusted, learned_state, read_model, write_model
from crmmodels.core.protocol import Model
from crmmodels.core.threads import limit_threads
from crmmodels.data import CRMData, validate_summary
from crmmodels.errors import (
    DataValidationError,
    ModelFormatError,
    NotFittedError,
)

__all__ = ["CRMModel", "Model", "ParamRule"]

ParamRule = Callable[[Any], bool] | tuple[Callable[[Any], bool], str]


class CRMModel(BaseEstimator):  # type: ignore[misc]
    """Base class of every crmmodels model.

    Class attributes a subclass sets:

    ``_parameter_constraints``
        ``{name: [constraint, ...]}`` from :mod:`crmmodels.core.params` (``None`` in
        the list admits ``None``); checked at every ``fit`` by
        :func:`~crmmodels.core.params.check_params`, which raises
        :class:`~crmmodels.errors.InvalidParameterError` with one message shape.
    ``_param_rules``
        Older form for plug-ins: ``{name: predicate}`` or ``{name: (predicate, "what
        is expected")}``; checked by the same function.
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
    >>> from crmmodels.cltv import NaiveRateModel
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> model = NaiveRateModel(horizon=52, freq="W").fit(load_cdnow_sample())
    >>> model.score(load_cdnow_sample()).columns.tolist()
    ['expected_purchases', 'purchase_rate']
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {}
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

        The learning runs with the BLAS and OpenMP thread pools bounded to the cores
        the process may use (:func:`crmmodels.core.threads.limit_threads`).

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
        self._learn(prepared)
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

        The file holds ``manifest.json`` (format version, the model's registry name,
        library versions, hyper-parameters and learned state), ``arrays.npz`` for
        arrays and skops files for scikit-learn sub-models; no Python module path and
        no pickle. The model's class must be registered
        (:func:`crmmodels.core.register` or an entry point).

        Examples
        --------
        >>> import tempfile, os
        >>> from crmmodels.cltv import NaiveRateModel
        >>> path = os.path.join(tempfile.mkdtemp(), "m.zip")
        >>> NaiveRateModel(horizon=10).save(path)
        >>> NaiveRateModel.load(path).horizon
        10
        """
        write_model(path, self)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, trusted: Trusted = None) -> Self:
        """Read a model written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
            The model file.
        trusted : None, True or list of str, default None
            Which types a scikit-learn sub-model may hold, as in skops: ``None``
            trusts scikit-learn's estimators and the helper types crmmodels' own
            estimators use (:data:`crmmodels.core.persistence.TRUSTED_TYPES`); a list
            adds the named types; ``True`` trusts every type, which format-1 files
            (pickled sub-models) need: use it only for files you trust.

        Raises
        ------
        ModelFormatError
            The file is not a crmmodels model file, has a newer format, holds another
            class or an untrusted type.
        """
        klass, params, state = read_model(path, trusted=trusted)
        if not issubclass(klass, CRMModel):
            raise ModelFormatError(f"{os.fspath(path)!r} holds {klass.__name__}, which is "
                                   "not a crmmodels.CRMModel")
        if cls is not CRMModel and klass is not cls:
            raise ModelFormatError(
                f"{os.fspath(path)!r} holds a {klass.__name__}, not a {cls.__name__}; "
                f"load it with {klass.__name__}.load or CRMModel.load"
            )
        model = klass(**params)
        model._load_state(state)
        if not isinstance(model, cls):  # pragma: no cover - guarded above
            raise ModelFormatError(f"file holds {klass.__name__}")
        return model

    # ------------------------------------------------------------------ display
    def _repr_html_(self) -> str:
        """Return the model as HTML for notebooks (:func:`crmmodels.core.display.model_html`).

        The class name, fitted or not, the hyper-parameters and, once fitted, the
        model's diagnostics; every text escaped. Never raises, never changes the model.

        Examples
        --------
        >>> from crmmodels.cltv import NaiveRateModel
        >>> "not fitted" in NaiveRateModel()._repr_html_()
        True
        """
        return model_html(self)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        """Return the plain and HTML displays (Jupyter asks for this before ``_repr_html_``).

        Replaces scikit-learn's estimator diagram with :meth:`_repr_html_`.
        """
        try:
            text = repr(self)
        except Exception:  # never fail a notebook cell
            text = type(self).__name__
        return {"text/plain": text, "text/html": self._repr_html_()}

    def _html_diagnostics(self) -> Sections:
        """Return the tables the HTML display adds for a fitted model (hook).

        A subclass returns ``(heading, content)`` pairs, the content a DataFrame, a
        Series or text: its estimates, standard errors, per-group counts. It must only
        read the fitted state and stay cheap (it runs each time a notebook shows the
        model). Learned attributes holding one value (``log_likelihood_``,
        ``n_customers_``, ...) and fitted sub-models are shown without it.
        """
        return []

    # ------------------------------------------------------------------ hooks
    def _fit(self, data: Any) -> None:
        raise NotImplementedError

    def _load_state(self, state: dict[str, Any]) -> None:
        """Set the learned attributes read from a model file.

        A model whose learned attributes changed between releases overrides this to
        translate the state of older files.
        """
        for k, v in state.items():
            setattr(self, k, v)

    def _score(self, data: Any) -> pd.DataFrame:
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers
    def _learn(self, prepared: Any) -> None:
        """Run ``_fit`` atomically: when it raises, the model keeps its previous state.

        ``_fit`` runs with the BLAS and OpenMP thread pools bounded to the usable
        cores, or to the model's ``n_jobs`` when it has one
        (:func:`crmmodels.core.threads.limit_threads`).
        """
        previous = learned_state(self)
        self._reset()
        try:
            with limit_threads(getattr(self, "n_jobs", None)):
                self._fit(prepared)
        except BaseException:
            self._reset()
            for k, v in previous.items():
                setattr(self, k, v)
            raise

    def _reset(self) -> None:
        for k in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            delattr(self, k)

    def _check_params(self) -> None:
        constraints = dict(self._parameter_constraints)
        for name, rule in self._param_rules.items():
            check, expected = rule if isinstance(rule, tuple) else (rule, "a valid value")
            constraints[name] = [Predicate(check, expected)]
        check_params(type(self).__name__, self.get_params(deep=False), constraints)

    def _check_fitted(self) -> None:
        try:
            check_is_fitted(self)
        except Exception as exc:
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(data) first."
            ) from exc

    def _prepare(self, data: object) -> Any:
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
