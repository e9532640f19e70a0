"""Churn propensity: who is likely to leave, and what losing them would cost.

:class:`ChurnModel` learns the probability that a customer defects from

* behavioural features known at a cut-off date
  (:func:`crmmodels.propensity.churn_features`: recency, spend and frequency trends,
  inter-purchase gaps, product breadth, complaints and contacts), and
* the customer attributes of a customers frame (contract, tenure, plan ... ),
  categoricals kept as categories, identifier-like columns left out with a
  :class:`~crmmodels.errors.DataQualityWarning`.

Two settings share one API:

* **non-contractual** (transactions only): the label of a customer active at the
  cut-off is "no purchase in ``(cutoff, cutoff + horizon]``" and the features use only
  the rows up to the cut-off. Several cut-offs can be stacked (rolling origin) for more
  training rows;
* **contractual** (a customers frame holding the ``label`` column, such as telecom or
  bank data): the label is that column.

Any scikit-learn classifier or pipeline can be plugged in; the default stacks a
spline logistic regression and a regularised gradient-boosting model (see
:func:`default_estimator`), whose combining layer calibrates the probabilities.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmmodels.core import (
    Boolean,
    ColumnName,
    Constraint,
    CRMModel,
    HasMethods,
    Interval,
    Options,
    Predicate,
    RandomState,
    check_params,
    renamed_argument,
    warn_deprecated,
)
from crmmodels.data import CRMData
from crmmodels.errors import DataValidationError, InvalidParameterError
from crmmodels.propensity._tabular import (
    binary_labels,
    fit_threads,
    identifier_columns,
    is_label_value,
    occlusion,
    screen_columns,
    typical_values,
)
from crmmodels.propensity.churn_features import churn_features, churn_labels, parse_horizon
from crmmodels.propensity.classifier import PropensityClassifier, default_estimator

__all__ = ["ChurnModel", "default_estimator", "identifier_columns"]

# Columns of a customers frame that are never features.
_NOT_FEATURES = ("customer_id", "churned", "signup_date")


def _valid_cutoff(v: Any) -> bool:
    if v is None:
        return True
    items = v if isinstance(v, list | tuple) else [v]
    if not items:
        return False
    try:
        return all(not pd.isna(pd.Timestamp(x)) for x in items)
    except (TypeError, ValueError):
        return False


def _valid_horizon(v: Any) -> bool:
    try:
        parse_horizon(v)
    except InvalidParameterError:
        return False
    return True


def _valid_features(v: Any) -> bool:
    return v == "auto" or (isinstance(v, list | tuple) and len(v) > 0
                           and all(isinstance(c, str) for c in v))


def _valid_windows(v: Any) -> bool:
    return (isinstance(v, list | tuple) and len(v) > 0
            and all(isinstance(w, Integral) and not isinstance(w, bool | np.bool_) and int(w) > 0
                    for w in v))


class ChurnModel(CRMModel):
    """Churn propensity with point-in-time features and any scikit-learn classifier.

    Parameters
    ----------
    estimator : scikit-learn classifier, optional
        Any classifier or pipeline with ``predict_proba``; it receives a DataFrame whose
        categorical columns have pandas ``category`` dtype (missing as a level of its
        own) and whose numeric columns are floats (NaN where unknown). Default:
        :func:`default_estimator`.
    horizon : str, Timedelta or number, default "90D"
        Non-contractual label window: churned = no purchase in ``(cutoff, cutoff +
        horizon]``. A number counts periods of ``freq``.
    freq : {"D", "W", "h"}, default "D"
        Time unit of a number given as ``horizon``.
    cutoff : date or list of dates, optional
        Training cut-off(s). Non-contractual default: ``observation_end - horizon``
        (the latest cut-off whose label is fully observed); several dates stack one
        training row per customer and cut-off (rolling origin). Contractual default:
        ``observation_end``.
    label : str, default "churned"
        Customers column holding the label: bool, 0/1, true/false, yes/no or Y/N (any
        case); its presence makes the setting contractual.
    pos_label : str, number or bool, optional
        The label value of a churner, for a label of two other values (e.g.
        ``"Attrited Customer"``); without it such a label is refused.
    calibrate : bool, default True
        Calibrate the probabilities of a given ``estimator`` (Platt scaling over 5
        shuffled, stratified folds, averaging the 5 calibrated models; fewer folds when
        the rarer class has fewer than 5 customers, none below 2), as
        :class:`PropensityClassifier` does. The default
        estimator is calibrated by construction (its combining logistic regression is
        fitted on out-of-fold predictions), so the flag changes nothing for it.
    features : "auto" or list of str, default "auto"
        Feature columns: "auto" takes every behavioural feature and every customers
        attribute except ids, the label, ``churned`` and ``signup_date``; a list
        restricts to those columns.
    random_state : int or None, default 0
        Seed of the default estimator and of the calibration folds (two fits on the
        same data give the same probabilities).
    value : str, optional
        Column (of the customers frame or of the features, e.g. ``"spend_365d"`` or
        ``"MonthlyCharges"``) giving each customer's value for ``defection_cost``; a
        CLV Series or fitted CLV model can also be passed to :meth:`score`.
    windows : sequence of int, default (30, 90, 180)
        Windows (days) of the behavioural features.
    n_jobs : int, optional
        Threads of the BLAS and OpenMP pools while the classifier fits. Default: one
        below 100,000 training rows (gradient boosting gains little from more there,
        and waiting threads slow it down many times over when other work holds the
        cores), else the cores the process may use (:func:`crmmodels.core.limit_threads`);
        ``-1`` all of them.

    Attributes
    ----------
    classifier_ : PropensityClassifier
        The fitted classifier: it reads text columns of numbers as numbers, encodes
        the categoricals with their training levels, calibrates a given ``estimator``
        and fits it.
    estimator_ : classifier
        The fitted (calibrated) estimator inside ``classifier_``.
    features_used_ : list of str
        Columns the classifier sees, in order.
    features_dropped_ : dict
        Columns left out and why: ``"identifier"``, ``"datetime"``, ``"date text"``,
        ``"constant"``, ``"all missing"``, ``"target-like name"`` or ``"leaks the label
        (ROC AUC ...)"`` (see :func:`crmmodels.propensity.screen_columns`).
    feature_names_, excluded_ : deprecated
        Aliases of ``features_used_`` and ``features_dropped_`` (removed in the next
        release).
    categorical_ : list of str
        The categorical ones.
    categories_ : dict
        Levels of each categorical column learned in training.
    setting_ : {"contractual", "non-contractual"}
    cutoffs_ : list of Timestamp
        Training cut-offs.
    n_train_ : int
        Training rows.
    churn_rate_ : float
        Share of churners among them.
    reference_ : dict
        Typical value of each feature (median, or most frequent level) used by
        :meth:`drivers`.

    Examples
    --------
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> data = load_cdnow_sample()
    >>> model = ChurnModel(random_state=0).fit(data)
    >>> scores = model.score(data)
    >>> scores.columns.tolist()
    ['churn_probability', 'risk_decile', 'defection_cost', 'retention_priority']
    >>> bool(scores["churn_probability"].between(0, 1).all())
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "estimator": [None, HasMethods(["fit", "predict_proba"], "a scikit-learn classifier")],
        "horizon": [Predicate(_valid_horizon, "a positive time span such as '90D' or a "
                              "positive number of freq periods", ["-5D", "soon", 0])],
        "freq": [Options({"D", "W", "h"})],
        "cutoff": [None, Predicate(_valid_cutoff, "a date or a non-empty list of dates",
                                   ["not a date", []])],
        "label": [ColumnName()],
        "pos_label": [None, Predicate(is_label_value, "a label value (str, number or bool)",
                                      [[1], {}])],
        "calibrate": [Boolean()],
        "features": [Predicate(_valid_features, "'auto' or a list of column names",
                               ["all", [], [1]])],
        "random_state": [None, RandomState()],
        "n_jobs": [None, Predicate(lambda v: isinstance(v, Integral) and not isinstance(
            v, bool | np.bool_) and int(v) != 0, "a non-zero int", [0, 1.5, True])],
        "value": [None, ColumnName()],
        "windows": [Predicate(_valid_windows, "a non-empty list of positive whole days",
                              [[], [0], [1.5]])],
    }
    _score_columns: ClassVar[tuple[str, ...]] = (
        "churn_probability", "risk_decile", "defection_cost", "retention_priority")
    _required_frames: ClassVar[tuple[str, ...]] = ()
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"horizon": "0D"}, {"horizon": "soon"}, {"calibrate": "yes"}, {"cutoff": "not a date"},
    )

    def __init__(self, *, estimator: Any = None, horizon: str | float | pd.Timedelta = "90D",
                 freq: str = "D",
                 cutoff: Any = None, label: str = "churned", pos_label: Any = None,
                 calibrate: bool = True,
                 features: str | Sequence[str] = "auto", random_state: int | None = 0,
                 value: str | None = None, windows: Sequence[int] = (30, 90, 180),
                 n_jobs: int | None = None) -> None:
        self.estimator = estimator
        self.horizon = horizon
        self.freq = freq
        self.cutoff = cutoff
        self.label = label
        self.pos_label = pos_label
        self.calibrate = calibrate
        self.features = features
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.value = value
        self.windows = windows

    # ------------------------------------------------------------------ input
    def _prepare(self, data: object) -> CRMData:
        if isinstance(data, CRMData):
            return data
        if isinstance(data, pd.DataFrame):
            if "timestamp" in data.columns:
                return CRMData(transactions=data)
            frame = data
            if "customer_id" not in frame.columns:
                frame = frame.rename_axis("customer_id").reset_index()
            return CRMData(customers=frame)
        raise DataValidationError(
            f"ChurnModel takes CRMData or a DataFrame, got {type(data).__name__}", rule="type")

    def _windows(self) -> tuple[int, ...]:
        return tuple(int(w) for w in self.windows)

    def _contractual(self, data: CRMData) -> bool:
        return data.customers is not None and self.label in data.customers.columns

    def _has_history(self, data: CRMData) -> bool:
        return data.has("transactions") or data.has("interactions")

    # ------------------------------------------------------------------ features
    def _raw_features(self, data: CRMData, at: pd.Timestamp | None) -> pd.DataFrame:
        """Behavioural features at ``at`` joined with the customer attributes."""
        parts: list[pd.DataFrame] = []
        if self._has_history(data):
            parts.append(churn_features(data, at, windows=self._windows()))
        if data.customers is not None:
            attrs = data.customers.drop_duplicates("customer_id").set_index("customer_id")
            drop = [c for c in (*_NOT_FEATURES, self.label) if c in attrs.columns]
            attrs = attrs.drop(columns=drop)
            attrs.index = attrs.index.astype(str)
            if parts:
                attrs = attrs.reindex(parts[0].index)
                clash = [c for c in attrs.columns if c in parts[0].columns]
                attrs = attrs.rename(columns={c: f"attr_{c}" for c in clash})
            parts.append(attrs)
        if not parts:
            raise DataValidationError("no transactions, interactions or customer attributes "
                                      "to build churn features from", rule="required_frame")
        out = pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]
        out.index.name = "customer_id"
        return out if out.index.is_monotonic_increasing else out.sort_index()

    @staticmethod
    def _attribute_columns(data: CRMData, raw: pd.DataFrame) -> set[str]:
        """Columns of ``raw`` that come from the customers frame (not behavioural)."""
        if data.customers is None:
            return set()
        given = set(map(str, data.customers.columns))
        return {str(c) for c in raw.columns
                if str(c) in given or (str(c).startswith("attr_") and str(c)[5:] in given)}

    def _select(self, raw: pd.DataFrame, attributes: set[str], y: np.ndarray
                ) -> pd.DataFrame:
        """Choose the training columns; record what was left out and why.

        One screen for every tabular model (:func:`screen_columns`): identifier
        detection applies to the customer attributes (behavioural features are
        computed, never identifiers; columns named in ``features=`` are taken as the
        user's choice); columns missing for everyone are left out (with a warning for
        customer attributes), as are constant ones, dates, columns named like a target
        and columns that alone give the label away.
        """
        if self.features != "auto":
            missing = [c for c in self.features if c not in raw.columns]
            if missing:
                from crmmodels.errors import MissingColumnError

                raise MissingColumnError("features", missing[0], list(raw.columns))
            raw = raw[list(self.features)]
        keep, excluded = screen_columns(
            raw, sorted(attributes) if self.features == "auto" else [], "ChurnModel",
            y=y, label=self.label,
            given=sorted(attributes) if self.features == "auto" else list(raw.columns))
        if not keep:
            raise DataValidationError(f"no usable feature column: {excluded}",
                                      frame="customers", rule="no_features")
        self.features_dropped_ = excluded
        return raw[keep]

    def _design(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Typed design matrix in the training layout (unknown levels -> missing).

        A feature column absent from ``raw`` is missing for every customer.
        """
        return self.classifier_.design_matrix(raw.reindex(columns=self.features_used_))

    # ------------------------------------------------------------------ fitted parts
    @property
    def estimator_(self) -> Any:
        """The fitted (calibrated) classifier inside ``classifier_``."""
        return self.classifier_.estimator_

    @property
    def features_used_(self) -> list[str]:
        """Columns the classifier sees, in order."""
        return list(self.classifier_.features_used_)

    @property
    def feature_names_(self) -> list[str]:
        """Deprecated alias of ``features_used_``."""
        warn_deprecated("ChurnModel.feature_names_ is deprecated; use features_used_")
        return self.features_used_

    @property
    def excluded_(self) -> dict[str, str]:
        """Deprecated alias of ``features_dropped_``."""
        warn_deprecated("ChurnModel.excluded_ is deprecated; use features_dropped_")
        return dict(self.features_dropped_)

    @property
    def categories_(self) -> dict[str, list[str]]:
        """Levels of each categorical column learned in training."""
        return dict(self.classifier_.categories_)

    @property
    def categorical_(self) -> list[str]:
        """The categorical columns among ``features_used_``."""
        return [c for c in self.features_used_ if c in self.classifier_.categories_]

    def _load_state(self, state: dict[str, Any]) -> None:
        """Restore a saved state; files of earlier releases held the parts one by one."""
        state = dict(state)
        if "classifier_" not in state and "estimator_" in state:
            state["classifier_"] = PropensityClassifier.from_fitted(
                state.pop("estimator_"), classes=[0, 1],
                features=state.pop("feature_names_"),
                categories=state.pop("categories_"), estimator=self.estimator,
                calibrate=self.calibrate, categorical="native", screen=False,
                random_state=self.random_state)
            state.pop("categorical_", None)
        if "excluded_" in state:
            state["features_dropped_"] = state.pop("excluded_")
        super()._load_state(state)

    # ------------------------------------------------------------------ fit
    def _training_rows(self, data: CRMData) -> tuple[pd.DataFrame, np.ndarray]:
        if self._contractual(data):
            assert data.customers is not None
            self.setting_ = "contractual"
            at = None if self.cutoff is None else self._cutoffs(data)[0]
            raw = self._raw_features(data, at if self._has_history(data) else None)
            labels = data.customers.drop_duplicates("customer_id").set_index("customer_id")[
                self.label]
            labels.index = labels.index.astype(str)
            y = self._binary(labels.reindex(raw.index))
            self.cutoffs_ = [data.observation_end if at is None else at]
            return raw, y
        if not data.has("transactions"):
            raise DataValidationError(
                f"no label column {self.label!r} in the customers frame and no transactions "
                "to derive labels from", frame="customers", column=self.label,
                rule="required_column")
        self.setting_ = "non-contractual"
        frames, ys = [], []
        self.cutoffs_ = self._cutoffs(data)
        for cut in self.cutoffs_:
            labels = churn_labels(data, cut, self._horizon())
            raw = self._raw_features(data, cut).reindex(labels.index)
            frames.append(raw)
            ys.append(labels.to_numpy(dtype=np.int64))
        return pd.concat(frames), np.concatenate(ys)

    def _cutoffs(self, data: CRMData) -> list[pd.Timestamp]:
        from crmmodels.data import data_time

        if self.cutoff is None:
            return [data.observation_end - self._horizon()]
        items = self.cutoff if isinstance(self.cutoff, list | tuple) else [self.cutoff]
        return [data_time(c, data, "cutoff") for c in items]

    def _horizon(self) -> pd.Timedelta:
        """Return the label window: a number counts periods of ``freq``."""
        h = self.horizon
        if isinstance(h, numbers.Real) and not isinstance(h, bool | np.bool_):
            return parse_horizon(pd.Timedelta(float(h), unit=self.freq))
        return parse_horizon(h)

    def _binary(self, labels: pd.Series) -> np.ndarray:
        return binary_labels(labels, self.label, "customers", "customers", self.pos_label)

    def _fit(self, data: CRMData) -> None:
        raw, y = self._training_rows(data)
        if len(y) == 0:
            raise DataValidationError("no customers to train on at the cut-off",
                                      rule="empty")
        classes = np.unique(y)
        if len(classes) < 2:
            raise DataValidationError(
                f"the label has one class only ({'churned' if classes[0] else 'retained'} "
                f"for all {len(y)} customers): nothing to learn", column=self.label,
                rule="one_class")
        selected = self._select(raw, self._attribute_columns(data, raw), y)
        # The columns are screened above (identifiers only among the customer
        # attributes); the classifier types, encodes, calibrates and fits. The default
        # stack's combining layer is a logistic regression on out-of-fold
        # probabilities, i.e. already a Platt calibration: no second loop of folds.
        classifier = PropensityClassifier(
            estimator=self.estimator, calibrate=self.calibrate, categorical="native",
            screen=False, random_state=self.random_state)
        with fit_threads(len(y), self.n_jobs):
            classifier.fit(selected, y)
        self.classifier_ = classifier
        self.n_train_ = len(y)
        self.churn_rate_ = float(y.mean())
        self.reference_ = typical_values(self._design(selected), self.categories_)

    # ------------------------------------------------------------------ score
    def score(self, data: CRMData | pd.DataFrame, /, *, cutoff: Any = None,
              value: Any = None, at: Any = None) -> pd.DataFrame:
        """Churn probability, risk decile, defection cost and retention priority.

        Parameters
        ----------
        data : CRMData or DataFrame
            Customers to score (transactions and/or a customers frame).
        cutoff : date, optional
            Point in time of the features; default ``data.observation_end``.
        value : Series or fitted CLV model, optional
            Each customer's value (e.g. CLV): a Series indexed by ``customer_id`` or a
            model whose ``score(data)`` has a ``clv`` column. Default: the ``value``
            column given at construction, if any.
        at : date, optional
            Deprecated name of ``cutoff`` (removed in the next release).

        Returns
        -------
        DataFrame
            Indexed by ``customer_id``: ``churn_probability`` (calibrated),
            ``risk_decile`` (1 = the 10% most at risk among the customers scored,
            10 = the 10% least),
            ``defection_cost`` = ``churn_probability x value`` (the expected lost value;
            NaN without a value) and ``retention_priority`` (1 = contact first: by
            defection cost, or by probability without a value).
        """
        self._check_fitted()
        cutoff = renamed_argument("ChurnModel.score", "at", at, "cutoff", cutoff)
        prepared = self._prepare(data)
        return self._check_output(self._score_at(prepared, cutoff, value))

    def _score(self, data: CRMData) -> pd.DataFrame:
        return self._score_at(data, None, None)

    def _features_at(self, data: CRMData, at: Any) -> pd.DataFrame:
        from crmmodels.data import data_time

        cut = None if at is None else data_time(at, data, "cutoff")
        raw = self._raw_features(data, cut if self._has_history(data) else None)
        return self._design(raw)

    def _probability(self, x: pd.DataFrame) -> np.ndarray:
        """Churn probability of each row of a design matrix (``classes_[1]`` is 1)."""
        return np.asarray(self.estimator_.predict_proba(x)[:, 1], dtype=np.float64)

    def _score_at(self, data: CRMData, at: Any, value: Any) -> pd.DataFrame:
        x = self._features_at(data, at)
        p = self._probability(x) if len(x) else np.zeros(0)
        # Rank 0 = highest probability (ties by customer id); deciles of the ranks.
        rank = np.empty(len(p), dtype=np.int64)
        rank[np.lexsort((x.index.to_numpy(dtype=object).astype(str), -p))] = np.arange(len(p))
        decile = rank * 10 // max(len(p), 1) + 1
        worth = self._value(data, x, value)
        cost = p * worth
        key = np.where(np.isnan(cost), -np.inf, cost) if not np.isnan(cost).all() else p
        order = np.lexsort((x.index.to_numpy(dtype=object).astype(str), -key))
        priority = np.empty(len(p), dtype=np.int64)
        priority[order] = np.arange(1, len(p) + 1)
        return pd.DataFrame({"churn_probability": p, "risk_decile": decile.astype(np.int64),
                             "defection_cost": cost, "retention_priority": priority},
                            index=pd.Index(x.index, name="customer_id"))

    def _value(self, data: CRMData, x: pd.DataFrame, value: Any) -> np.ndarray:
        if value is None and self.value is None:
            return np.full(len(x), np.nan)
        if value is None:
            column = self.value
            assert column is not None
            found: pd.Series | None
            if data.customers is not None and column in data.customers.columns:
                found = data.customers.drop_duplicates("customer_id").set_index(
                    "customer_id")[column]
            elif self._has_history(data) and column not in x.columns:
                found = churn_features(data, None, windows=self._windows()).get(column)
            else:
                found = x.get(column)
            if found is None:
                from crmmodels.errors import MissingColumnError

                raise MissingColumnError("customers", column, list(x.columns))
            s = found
        elif isinstance(value, pd.Series):
            s = value
        elif hasattr(value, "score"):
            s = value.score(data)["clv"]
        else:
            raise InvalidParameterError(
                "value must be a Series indexed by customer_id or a fitted CLV model")
        s = pd.Series(s)
        s.index = s.index.astype(str)
        out = pd.to_numeric(s, errors="coerce").reindex(x.index).to_numpy(dtype=np.float64)
        return out

    # ------------------------------------------------------------------ drivers
    def drivers(self, customer_ids: Sequence[Any] | None = None, data: CRMData | None = None,
                *, cutoff: Any = None, top_k: int = 3, at: Any = None,
                n: int | None = None) -> pd.DataFrame:
        """Each customer's top features pushing the churn probability up.

        Local attribution by occlusion: feature ``j``'s contribution for a customer is
        ``p(x) - p(x with x_j set to its typical value)`` (the training median, or most
        frequent level). It needs no extra library and is exact for what it says; it
        ignores interactions between features, like a one-at-a-time sensitivity.

        Parameters
        ----------
        customer_ids : sequence, optional
            Customers to explain; default all scored customers.
        data : CRMData or DataFrame
            Data to build the features from (required: scoring keeps nothing).
        cutoff : date, optional
            Point in time of the features; default ``data.observation_end``.
        top_k : int, default 3
            Features per customer.
        at, n : optional
            Deprecated names of ``cutoff`` and ``top_k`` (removed in the next release).

        Returns
        -------
        DataFrame
            One row per customer and rank: ``customer_id``, ``rank`` (1 = strongest),
            ``feature``, ``value`` (the customer's, as text) and ``contribution``
            (probability points; positive raises the risk).
        """
        self._check_fitted()
        cutoff = renamed_argument("ChurnModel.drivers", "at", at, "cutoff", cutoff)
        top_k = renamed_argument("ChurnModel.drivers", "n", n, "top_k", top_k, default=3)
        check_params("ChurnModel.drivers", {"top_k": top_k},
                     {"top_k": [Interval(Integral, 1, None)]})
        if data is None:
            raise InvalidParameterError(
                "ChurnModel.drivers needs data=: the features are built from the data "
                "given, so that the drivers always match the fitted model")
        x = self._features_at(self._prepare(data), cutoff)
        if customer_ids is not None:
            wanted = pd.Index([str(c) for c in customer_ids])
            unknown = wanted[~wanted.isin(x.index)]
            if len(unknown):
                raise DataValidationError(f"unknown customers {unknown[:5].tolist()}",
                                          column="customer_id", rule="unknown_id")
            x = x.loc[wanted]
        names = self.features_used_
        contribution = occlusion(self._probability, x, self.reference_)
        top = np.argsort(-contribution, axis=0, kind="stable")[:min(int(top_k), len(names))]
        rows_out = []
        for i, cid in enumerate(x.index):
            for r in range(top.shape[0]):
                j = int(top[r, i])
                rows_out.append((cid, r + 1, names[j], str(x.iat[i, j]),
                                 float(contribution[j, i])))
        return pd.DataFrame(rows_out, columns=["customer_id", "rank", "feature", "value",
                                               "contribution"])
