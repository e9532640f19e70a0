"""Fraud propensity: supervised scores, anomaly scores, readable rules, cost-based alerts.

:class:`FraudModel` works in the two settings a CRM team meets:

* **entity tables** (claims, applications): one row per entity, a 0/1 label column, an
  id column or index, every other column a candidate feature;
* **card-style transactions** (:class:`~crmmodels.data.CRMData`): the point-in-time
  features of :func:`crmmodels.propensity.fraud_features` (the customer's recent count
  and spend, time since the previous transaction, night and weekend flags, the
  terminal's fraud rate over windows ending a label delay before the transaction),
  scored per transaction or per customer.

Modes:

* **supervised** (labels known): the default classifier of the churn model (spline
  logistic regression and gradient boosting, stacked on shuffled out-of-fold
  probabilities, so the output is a calibrated probability; here with finer boosted
  trees, combined on log-odds) or any scikit-learn classifier; the alert threshold
  minimises the expected cost ``cost_fp x FP + cost_fn x FN`` on out-of-fold
  predictions, or meets a precision target, or flags a fixed share
  (``alert_budget``);
* **anomaly** (no labels): IsolationForest on the one-hot encoded features, the outlier
  score normalised to [0, 1];
* readable IF-THEN **rules** from a shallow decision tree (``rules_``,
  :meth:`FraudModel.rules_table`), each with its support, precision and lift.

Identifier-like columns of an entity table (e.g. a policy number that is the row
number) are detected and left out with a :class:`~crmmodels.errors.DataQualityWarning`.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar, NamedTuple, Self

import numpy as np
import pandas as pd

from crmmodels.core import (
    ColumnName,
    Constraint,
    CRMModel,
    HasMethods,
    Interval,
    Options,
    Predicate,
    RandomState,
    is_number,
    warn_deprecated,
)
from crmmodels.data import CRMData
from crmmodels.errors import (
    DataQualityWarning,
    DataValidationError,
    InvalidParameterError,
    MissingColumnError,
    warn,
)
from crmmodels.propensity._tabular import (
    as_numbers,
    binary_labels,
    design,
    fit_threads,
    is_label_value,
    label_candidates,
    learn_categories,
    numeric_text,
    occlusion,
    screen_columns,
    typical_values,
)
from crmmodels.propensity.classifier import PropensityClassifier, default_estimator

__all__ = ["FraudModel"]

_N_FOLDS = 5
_CHUNK = 200_000  # rows per predict call: bounds the spline basis' memory


def _whole(v: Any, low: int) -> bool:
    return isinstance(v, Integral) and not isinstance(v, bool | np.bool_) and int(v) >= low


class _Input(NamedTuple):
    """Prepared rows: candidate features, labels, and the customer of each row."""

    kind: str  # "table" or "transactions"
    raw: pd.DataFrame
    labels: pd.Series | None
    customer: np.ndarray | None
    source: pd.Index  # the caller's row labels, for masks given as a pandas Series


class FraudModel(CRMModel):
    """Fraud scores, cost-optimal alerts and readable rules.

    Parameters
    ----------
    estimator : scikit-learn classifier, optional
        Supervised classifier with ``predict_proba``; it receives a DataFrame with
        ``category`` and float columns. Default:
        :func:`crmmodels.propensity.default_estimator`.
    mode : {"auto", "supervised", "anomaly"}, default "auto"
        "auto" and "supervised" learn from the ``label`` column and raise a
        :class:`~crmmodels.errors.DataValidationError` without it (naming columns that
        look like a label); "anomaly" scores outliers without labels, and runs only
        when asked for.
    unit : {"transaction", "customer"}, default "transaction"
        For transactions: score each transaction, or each customer (the highest score
        among the customer's transactions scored).
    label : str, default "is_fraud"
        Column holding the outcomes (bool, 0/1, true/false, yes/no or Y/N, any case): in
        the entity table, or in the transactions frame (``Transaction.is_fraud``).
    pos_label : str, number or bool, optional
        The label value of a fraud, for a label of two other values; without it such a
        label is refused.
    id : str, optional
        Entity tables: the column identifying the rows; default the frame's index.
    cost_fp, cost_fn : float, default 1 and 10
        Cost of investigating a legitimate case and of missing a fraud.
    alert_budget : float, optional
        Share of rows to flag, in (0, 1), instead of the cost-optimal threshold.
    target_precision : float, optional
        Alert as many rows as possible while the out-of-fold precision stays at least
        this, in (0, 1), instead of the cost-optimal threshold.
    class_weight : {None, "balanced"}, default None
        Class weights of the default classifier's members (computed inside each fold),
        or set on ``estimator`` when it takes ``class_weight``.
    delay_days : int, default 7
        Transactions: days before a fraud label is known (terminal risk windows end
        this long before each transaction).
    windows : tuple of int, default (1, 7, 30)
        Transactions: customer and terminal windows in days.
    attributes : tuple of str, default ()
        Transactions: further columns of the transactions frame to use as features
        as they are (e.g. ``("channel", "merchant_category")``). Named explicitly, so
        that columns such as a fraud scenario code never leak in.
    random_state : int or None, default 0
        Seed of the held-out rows or folds, the classifier and the isolation forest
        (two fits on the same data give the same scores).
    rule_depth : int, default 3
        Depth of the rule tree (conditions per rule).
    min_rule_size : int, default 50
        Fewest training rows a rule may cover.
    n_jobs : int, optional
        Threads of the BLAS and OpenMP pools while the classifier fits. Default: one
        below 100,000 training rows (gradient boosting gains little from more there,
        and waiting threads slow it down many times over when other work holds the
        cores), else the cores the process may use (:func:`crmmodels.core.limit_threads`);
        ``-1`` all of them.

    Attributes
    ----------
    estimator_ : PropensityClassifier or IsolationForest pipeline
        Supervised: the fitted :class:`PropensityClassifier` around the stack (or the
        given estimator); anomaly: the forest on the encoded features.
    mode_ : {"supervised", "anomaly"}
    kind_ : {"table", "transactions"}
        What the model was fitted on; ``score`` takes the same kind.
    features_used_, features_dropped_, categorical_, categories_ : see ChurnModel
        The same screen chooses the columns (identifiers, dates, constant and empty
        columns, columns named like a target and columns that alone give the label
        away are left out).
    numeric_text_ : list of str
        Text columns read as numbers (every non-blank value a number in training).
    feature_names_, excluded_ : deprecated
        Aliases of ``features_used_`` and ``features_dropped_``.
    threshold_ : float
        Alert threshold on ``fraud_score``.
    base_rate_ : float
        Share of fraud in training (supervised).
    oof_score_ : ndarray
        Training scores (supervised) from models that did not see the row, in the
        order given, from which the threshold is chosen: with the default classifier
        the 20% of rows its combiner was fitted on (NaN for the others), with a given
        ``estimator`` every row, out of 5 folds.
    rules_ : DataFrame
        Rules (supervised): ``rule``, ``n``, ``frauds``, ``precision``, ``lift``,
        ``support``, best first.

    Notes
    -----
    A DataFrame is read as a transactions frame when ``id`` is None and it has a
    ``timestamp`` column (it is then validated like ``CRMData(transactions=frame)``);
    any other DataFrame is an entity table. ``fit(data, rows=...)`` and
    ``score(data, rows=...)`` take a boolean mask over the rows (input order) or a list
    of ids: with transactions, the features still use every transaction in ``data`` as
    history, so pass the whole log and select the period with ``rows``.

    Examples
    --------
    >>> from crmmodels.datasets import load_vehicle_insurance_fraud
    >>> claims = load_vehicle_insurance_fraud().iloc[:3000]
    >>> model = FraudModel(label="FraudFound_P", id="PolicyNumber", random_state=0)
    >>> model = model.fit(claims)
    >>> model.score(claims).columns.tolist()
    ['fraud_score', 'is_alert', 'reasons']
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "estimator": [None, HasMethods(["fit", "predict_proba"], "a scikit-learn classifier")],
        "mode": [Options({"auto", "supervised", "anomaly"})],
        "unit": [Options({"transaction", "customer"})],
        "label": [ColumnName()],
        "pos_label": [None, Predicate(is_label_value, "a label value (str, number or bool)",
                                      [[1], {}])],
        "id": [None, ColumnName()],
        "cost_fp": [Interval(Real, 0, None, closed="neither")],
        "cost_fn": [Interval(Real, 0, None, closed="neither")],
        "alert_budget": [None, Interval(Real, 0, 1, closed="neither")],
        "target_precision": [None, Interval(Real, 0, 1, closed="neither")],
        "class_weight": [None, Options({"balanced"})],
        "delay_days": [Interval(Integral, 0, None)],
        "windows": [Predicate(lambda v: isinstance(v, tuple) and len(v) > 0 and all(
            _whole(w, 1) for w in v), "a tuple of positive whole days", [(), (0,), (1.5,)])],
        "attributes": [Predicate(lambda v: isinstance(v, tuple) and all(
            isinstance(c, str) and c for c in v), "a tuple of column names", [("",), "x"])],
        "random_state": [None, RandomState()],
        "n_jobs": [None, Predicate(lambda v: isinstance(v, Integral) and not isinstance(
            v, bool | np.bool_) and int(v) != 0, "a non-zero int", [0, 1.5, True])],
        "rule_depth": [Interval(Integral, 1, None)],
        "min_rule_size": [Interval(Integral, 1, None)],
    }
    _score_columns: ClassVar[tuple[str, ...]] = ("fraud_score", "is_alert", "reasons")
    oof_score_: np.ndarray
    _required_frames: ClassVar[tuple[str, ...]] = ()
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"mode": "magic"}, {"cost_fp": 0}, {"alert_budget": 1.5}, {"unit": "card"},
        {"windows": (0, 7)}, {"alert_budget": 0.1, "target_precision": 0.5},
    )

    def __init__(self, *, estimator: Any = None, mode: str = "auto",
                 unit: str = "transaction", label: str = "is_fraud", pos_label: Any = None,
                 id: str | None = None,
                 cost_fp: float = 1.0, cost_fn: float = 10.0,
                 alert_budget: float | None = None, target_precision: float | None = None,
                 class_weight: str | None = None, delay_days: int = 7,
                 windows: tuple[int, ...] = (1, 7, 30), attributes: tuple[str, ...] = (),
                 random_state: int | None = 0, rule_depth: int = 3,
                 min_rule_size: int = 50, n_jobs: int | None = None) -> None:
        self.estimator = estimator
        self.mode = mode
        self.unit = unit
        self.label = label
        self.pos_label = pos_label
        self.id = id
        self.cost_fp = cost_fp
        self.cost_fn = cost_fn
        self.alert_budget = alert_budget
        self.target_precision = target_precision
        self.class_weight = class_weight
        self.delay_days = delay_days
        self.windows = windows
        self.attributes = attributes
        self.random_state = random_state
        self.rule_depth = rule_depth
        self.min_rule_size = min_rule_size
        self.n_jobs = n_jobs

    @property
    def _score_index(self) -> str:  # type: ignore[override]
        kind = getattr(self, "kind_", "table")
        if kind == "table":
            return "id"
        return "customer_id" if self.unit == "customer" else "transaction_id"

    def _check_params(self) -> None:
        super()._check_params()
        if self.alert_budget is not None and self.target_precision is not None:
            raise InvalidParameterError("FraudModel: give alert_budget or target_precision, "
                                        "not both")

    # ------------------------------------------------------------------ protocol
    def fit(self, data: CRMData | pd.DataFrame, /, *, rows: Any = None) -> Self:
        """Learn fraud scores (or outlier scores), the alert threshold and the rules.

        Parameters
        ----------
        data : CRMData or DataFrame
            Card-style transactions (CRMData, or a frame with a ``timestamp`` column
            and no ``id=``), or an entity table.
        rows : array-like, optional
            Rows to learn from: a boolean mask in the input order (a boolean pandas
            Series is aligned on the rows' labels) or a list of ids (transaction ids,
            or the table's ids). Transactions outside ``rows`` still serve as history
            for the features.

        Returns
        -------
        self
        """
        self._check_params()
        prepared = self._prepare_rows(data, rows, supervised=self.mode != "anomaly")
        self._learn(prepared)
        return self

    def score(self, data: CRMData | pd.DataFrame, /, *, rows: Any = None) -> pd.DataFrame:
        """Fraud score, alert flag and the reasons for each alert.

        Parameters
        ----------
        data : CRMData or DataFrame
            The same kind of data the model was fitted on.
        rows : array-like, optional
            Rows to score, given as for :meth:`fit`; default all.

        Returns
        -------
        DataFrame
            Indexed by ``transaction_id`` (transactions), ``customer_id``
            (``unit="customer"``: each customer's highest-scoring transaction) or
            ``id`` (tables): ``fraud_score`` (calibrated probability when
            supervised, outlier score in [0, 1] otherwise), ``is_alert`` (score at
            or above ``threshold_``) and ``reasons`` (for alerts: the two features
            that raise the score most, with their values).
        """
        self._check_fitted()
        prepared = self._prepare_rows(data, rows, supervised=self.mode_ == "supervised")
        if prepared.kind != self.kind_:
            raise DataValidationError(
                f"this FraudModel was fitted on {self.kind_}; score takes the same kind of "
                f"data, got {prepared.kind}", rule="type")
        return self._check_output(self._score(prepared))

    # ------------------------------------------------------------------ input
    def _prepare_rows(self, data: object, rows: Any, *, supervised: bool) -> _Input:
        if isinstance(data, pd.DataFrame) and self.id is None and "timestamp" in data.columns:
            data = CRMData(transactions=data)
        if isinstance(data, CRMData):
            prepared = self._transactions(data, supervised)
        elif isinstance(data, pd.DataFrame):
            prepared = self._table(data)
        else:
            raise DataValidationError(
                f"FraudModel takes CRMData or a DataFrame, got {type(data).__name__}",
                rule="type")
        return prepared if rows is None else _take(prepared, rows)

    def _table(self, frame: pd.DataFrame) -> _Input:
        if len(frame) == 0:
            raise DataValidationError("no rows to score or learn from", rule="empty")
        if self.id is not None:
            if self.id not in frame.columns:
                raise MissingColumnError("table", self.id, list(frame.columns))
            ids = frame[self.id]
            if ids.isna().any() or ids.duplicated().any():
                raise DataValidationError(f"id column {self.id!r} has missing or repeated "
                                          "values", column=self.id, rule="unique_id")
        elif frame.index.has_duplicates:
            raise DataValidationError("the index has repeated values; give id=",
                                      rule="unique_id")
        source = frame.index
        out = frame.copy(deep=False)
        if self.id is not None:
            out = out.set_index(self.id, drop=True)
        out.index = pd.Index(out.index, name="id")
        labels = out[self.label] if self.label in out.columns else None
        raw = out.drop(columns=[self.label]) if labels is not None else out
        return _Input("table", raw, labels, None, source)

    def _transactions(self, data: CRMData, supervised: bool) -> _Input:
        from crmmodels.propensity.fraud_features import fraud_features

        if not data.has("transactions"):
            raise DataValidationError("FraudModel needs a transactions frame",
                                      frame="transactions", rule="required_frame")
        if data.engine("transactions") == "pandas":
            tx = data.transactions
            assert tx is not None
        else:  # the columns read here, not the whole frame, come to pandas
            rows = data.lazy_rows("transactions")
            names = rows.collect_schema().names()
            tx = rows.select(*[c for c in names if c in {
                "customer_id", "transaction_id", self.label, *self.attributes}]
            ).collect().to_pandas()
        if "transaction_id" in tx.columns and tx["transaction_id"].duplicated().any():
            repeated = tx["transaction_id"][tx["transaction_id"].duplicated()]
            raise DataValidationError(
                f"transaction_id has {len(repeated)} repeated values: FraudModel scores "
                "each transaction once", frame="transactions", column="transaction_id",
                rule="unique_id", rows=repeated.iloc[:5].tolist())
        has_label = self.label in tx.columns and bool(tx[self.label].notna().any())
        windows = tuple(int(w) for w in self.windows)
        features = fraud_features(data, windows=windows, terminal_windows=windows,
                                  delay_days=self.delay_days,
                                  terminal_column="terminal_id" if supervised and has_label
                                  else None,
                                  label=self.label, pos_label=self.pos_label)
        features.index.name = "transaction_id"
        for column in self.attributes:
            if column not in tx.columns:
                raise MissingColumnError("transactions", column, list(tx.columns))
            if column in features.columns or column == self.label:
                raise InvalidParameterError(f"attributes: {column!r} is a built-in "
                                            "feature or the label")
            features[column] = tx[column].to_numpy()
        labels = (pd.Series(tx[self.label].to_numpy(), index=features.index)
                  if has_label else None)
        return _Input("transactions", features, labels, tx["customer_id"].to_numpy(),
                      tx.index)

    # ------------------------------------------------------------------ fit
    def _fit(self, data: _Input) -> None:
        has_label = data.labels is not None
        if self.mode != "anomaly" and not has_label:
            look = label_candidates(data.raw, self.label)
            hint = (f"; columns that look like a label: {look[:5]} (pass label=...)"
                    if look else "")
            raise DataValidationError(
                f"mode={self.mode!r} learns from the label column {self.label!r}, which "
                f"the {'table' if data.kind == 'table' else 'transactions'} lack"
                f"{hint}; for outlier scores without labels pass mode='anomaly'",
                column=self.label, rule="required_column")
        if self.unit == "customer" and data.kind != "transactions":
            raise InvalidParameterError("FraudModel: unit='customer' needs transactions (CRMData)")
        self.mode_ = "anomaly" if self.mode == "anomaly" else "supervised"
        if self.mode_ == "anomaly" and self.target_precision is not None:
            raise InvalidParameterError("FraudModel: target_precision needs labels; in "
                                        "anomaly mode give alert_budget")
        self.kind_ = data.kind
        raw = data.raw
        if data.kind == "transactions":
            # A canonical row order: the same transactions in any order give the same
            # folds, hence the same model.
            order = np.argsort(raw.index.to_numpy(dtype=object).astype(str), kind="stable")
            raw = raw.iloc[order]
            data = data._replace(labels=None if data.labels is None else
                                 data.labels.iloc[order])
        if self.mode_ == "supervised" and data.kind == "transactions" and not any(
                str(c).startswith("terminal_") for c in raw.columns):
            warn("FraudModel: the transactions have no terminal_id column, so "
                          "there is no terminal risk feature", DataQualityWarning)
        y: np.ndarray | None = None
        if self.mode_ == "supervised":
            assert data.labels is not None
            y = binary_labels(data.labels, self.label,
                              "table" if data.kind == "table" else "transactions", "rows",
                              self.pos_label)
            self._check_classes(y)
        raw = self._screen(raw, list(raw.columns) if data.kind == "table" else
                           list(self.attributes), y)
        x = design(raw, self.features_used_, self.categories_)
        self.reference_ = typical_values(x, self.categories_)
        if y is None:
            self._fit_anomaly(x)
            return
        with fit_threads(len(y), self.n_jobs):
            self._fit_supervised(x, y)
        self.rules_ = self._rules(x, y)
        if data.kind == "transactions":
            # Report the out-of-fold scores in the order the rows were given.
            back = np.empty_like(order)
            back[order] = np.arange(len(order))
            self.oof_score_ = self.oof_score_[back]

    def _check_classes(self, y: np.ndarray) -> None:
        """Both classes, with enough rows of the rarer one to set the threshold."""
        if len(np.unique(y)) < 2:
            raise DataValidationError(
                f"the label {self.label!r} has one class only: nothing to learn",
                column=self.label, rule="one_class")
        # Out-of-fold scores need each class in every fold; the default classifier
        # stacks with 5 inner folds of its own.
        fewest = 10 if self.estimator is None else 2
        if int(np.bincount(y).min()) < fewest:
            raise DataValidationError(
                f"the label {self.label!r} has {int(np.bincount(y).min())} rows of its "
                f"rarer class; {fewest} at least are needed to learn and set the "
                "threshold out of fold", column=self.label, rule="too_few_cases")

    def _screen(self, raw: pd.DataFrame, id_candidates: list[str], y: np.ndarray | None
                ) -> pd.DataFrame:
        """Choose the feature columns (the shared screen) and read text numbers.

        Returns ``raw`` with the text columns of numbers read as numbers.
        """
        numbers = {c: v for c in raw.columns if (v := numeric_text(raw[c])) is not None}
        if numbers:
            raw = raw.assign(**numbers)
        keep, excluded = screen_columns(raw, id_candidates, "FraudModel", y=y,
                                        label=self.label)
        if not keep:
            raise DataValidationError(f"no usable feature column: {excluded}",
                                      rule="no_features")
        self.features_dropped_ = excluded
        self.numeric_text_ = [str(c) for c in numbers if c in keep]
        self.categories_ = learn_categories(raw[keep])
        self.features_used_ = keep
        self.categorical_ = [c for c in keep if c in self.categories_]
        return raw

    def _typed(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Read the columns that held numbers in training as numbers."""
        return as_numbers(raw, getattr(self, "numeric_text_", []), "FraudModel")

    @property
    def feature_names_(self) -> list[str]:
        """Deprecated alias of ``features_used_``."""
        warn_deprecated("FraudModel.feature_names_ is deprecated; use features_used_")
        return list(self.features_used_)

    @property
    def excluded_(self) -> dict[str, str]:
        """Deprecated alias of ``features_dropped_``."""
        warn_deprecated("FraudModel.excluded_ is deprecated; use features_dropped_")
        return dict(self.features_dropped_)

    def _load_state(self, state: dict[str, Any]) -> None:
        """Restore a saved state; earlier files named the column lists differently."""
        state = dict(state)
        for old, new in (("feature_names_", "features_used_"),
                         ("excluded_", "features_dropped_")):
            if old in state:
                state[new] = state.pop(old)
        state.setdefault("numeric_text_", [])
        super()._load_state(state)

    def _classifier(self, n_samples: int) -> Any:
        from sklearn.base import clone

        if self.estimator is None:
            numeric = [c for c in self.features_used_ if c not in self.categories_]
            return default_estimator(numeric, self.categorical_, self.random_state,
                                     n_samples=n_samples, class_weight=self.class_weight)
        return clone(self.estimator)

    def _fit_supervised(self, x: pd.DataFrame, y: np.ndarray) -> None:
        from sklearn.base import clone
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        # The columns are screened and encoded above; the classifier fits the default
        # blend (or the given estimator, uncalibrated: the threshold is set on its
        # scores). Class weights go into the default blend's members as it is built,
        # and onto a given estimator through the classifier.
        base = PropensityClassifier(
            estimator=self._classifier(len(y)), calibrate=False,
            class_weight=None if self.estimator is None else self.class_weight,
            categorical="native", screen=False, random_state=self.random_state)
        self.estimator_ = base.fit(x, y)
        if self.estimator is None:
            # The blend's combiner was fitted on held-out rows whose scores came from
            # members that never saw them: the threshold is set on those.
            blend = base.estimator_
            self.oof_score_ = np.full(len(y), np.nan)
            self.oof_score_[blend.holdout_index_] = blend.holdout_score_
        else:
            minority = int(np.bincount(y).min())
            folds = StratifiedKFold(n_splits=max(2, min(_N_FOLDS, minority)), shuffle=True,
                                    random_state=self.random_state)
            self.oof_score_ = cross_val_predict(clone(base), x, y, cv=folds,
                                                method="predict_proba")[:, 1]
        self.base_rate_ = float(y.mean())
        known = ~np.isnan(self.oof_score_)
        self.threshold_ = self._threshold(self.oof_score_[known], y[known])

    def _threshold(self, p: np.ndarray, y: np.ndarray) -> float:
        from crmmodels.propensity.evaluation import cost_curve

        if self.alert_budget is not None:
            return float(np.quantile(p, 1 - self.alert_budget))
        curve = cost_curve(y, p, self.cost_fp, self.cost_fn)
        if self.target_precision is None:
            best = int(np.argmin(curve["cost"].to_numpy()))  # the fewest alerts on ties
        else:
            precise = np.flatnonzero(curve["precision"].to_numpy() >= self.target_precision)
            if len(precise) == 0:
                warn(f"FraudModel: no threshold reaches precision "
                              f"{self.target_precision} on the out-of-fold scores; nothing "
                              "is alerted", DataQualityWarning)
            best = int(precise[-1]) if len(precise) else 0
        self.expected_cost_ = float(curve["cost"].to_numpy()[best])
        return float(curve["threshold"].to_numpy()[best])

    def _fit_anomaly(self, x: pd.DataFrame) -> None:
        from sklearn.compose import ColumnTransformer
        from sklearn.ensemble import IsolationForest
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder

        numeric = [c for c in self.features_used_ if c not in self.categories_]
        parts: list[tuple[str, Any, list[str]]] = []
        if numeric:
            parts.append(("n", SimpleImputer(strategy="median", keep_empty_features=True),
                          numeric))
        if self.categorical_:
            parts.append(("c", OneHotEncoder(handle_unknown="ignore"), self.categorical_))
        forest = make_pipeline(ColumnTransformer(parts), IsolationForest(
            n_estimators=200, random_state=self.random_state))
        forest.fit(x)
        raw = -forest.score_samples(x)
        self.estimator_ = forest
        self.anomaly_range_ = (float(raw.min()), float(raw.max()))
        budget = 0.01 if self.alert_budget is None else self.alert_budget
        self.threshold_ = float(np.quantile(self._anomaly(x), 1 - budget))

    def _anomaly(self, x: pd.DataFrame) -> np.ndarray:
        raw = -self.estimator_.score_samples(x)
        lo, hi = self.anomaly_range_
        out: np.ndarray = np.clip((raw - lo) / (hi - lo if hi > lo else 1.0), 0.0, 1.0)
        return out

    def _predict(self, x: pd.DataFrame) -> np.ndarray:
        parts = []
        for start in range(0, len(x), _CHUNK):
            chunk = x.iloc[start:start + _CHUNK]
            parts.append(self._anomaly(chunk) if self.mode_ == "anomaly" else
                         np.asarray(self.estimator_.predict_proba(chunk)[:, 1],
                                    dtype=np.float64))
        return np.concatenate(parts) if parts else np.zeros(0)

    # ------------------------------------------------------------------ rules
    def _rules(self, x: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
        """Leaves of a shallow tree on one-hot categoricals, as readable rules."""
        from sklearn.tree import DecisionTreeClassifier

        cols: dict[str, np.ndarray] = {}
        names: list[tuple[str, str | None]] = []  # (column, level or None for numeric)
        for c in self.features_used_:
            if c in self.categories_:
                codes = x[c].cat.codes.to_numpy()
                for i, level in enumerate(self.categories_[c]):
                    if (codes == i).any():
                        cols[f"{c}={level}"] = (codes == i).astype(np.float64)
                        names.append((c, level))
            else:
                v = x[c].to_numpy(np.float64)
                cols[c] = np.where(np.isnan(v), np.nanmedian(v), v)
                names.append((c, None))
        matrix = np.column_stack(list(cols.values()))
        tree = DecisionTreeClassifier(max_depth=self.rule_depth,
                                      min_samples_leaf=self.min_rule_size,
                                      class_weight="balanced", random_state=self.random_state)
        tree.fit(matrix, y)
        t = tree.tree_
        leaf_of = tree.apply(matrix)
        rows = []

        def walk(node: int, conds: list[tuple[str, str, Any]]) -> None:
            if t.children_left[node] == -1:
                leaf = leaf_of == node
                n, frauds = int(leaf.sum()), int(y[leaf].sum())
                precision = frauds / n if n else 0.0
                rows.append({"rule": _rule_text(conds), "n": n,
                             "frauds": frauds, "precision": precision,
                             "lift": precision / self.base_rate_, "support": n / len(y)})
                return
            column, level = names[t.feature[node]]
            if level is None:
                cut = float(t.threshold[node])
                left, right = (column, "<=", cut), (column, ">", cut)
            else:
                left, right = (column, "!=", level), (column, "=", level)
            walk(int(t.children_left[node]), [*conds, left])
            walk(int(t.children_right[node]), [*conds, right])

        walk(0, [])
        out = pd.DataFrame(rows, columns=["rule", "n", "frauds", "precision", "lift",
                                          "support"])
        return out.sort_values(["lift", "n"], ascending=[False, False],
                               ignore_index=True)

    def rules_table(self, min_lift: float = 1.0) -> pd.DataFrame:
        """Rules with at least ``min_lift`` times the base fraud rate, best first.

        Each rule's conditions hold for ``n`` training rows of which ``frauds`` were
        fraudulent: ``precision = frauds / n``, ``lift = precision / base rate``,
        ``support = n / rows``.

        Examples
        --------
        >>> from crmmodels.datasets import load_vehicle_insurance_fraud
        >>> claims = load_vehicle_insurance_fraud().iloc[:3000]
        >>> model = FraudModel(label="FraudFound_P", id="PolicyNumber", random_state=0)
        >>> table = model.fit(claims).rules_table(min_lift=2.0)
        >>> bool((table["lift"] >= 2.0).all())
        True
        """
        self._check_fitted()
        if not is_number(min_lift):
            raise TypeError(f"rules_table: min_lift must be a number, got "
                            f"{type(min_lift).__name__}")
        if self.mode_ != "supervised":
            raise InvalidParameterError("rules need labels (mode='supervised')")
        return self.rules_[self.rules_["lift"] >= min_lift].reset_index(drop=True)

    # ------------------------------------------------------------------ score
    def _html_diagnostics(self) -> list[tuple[str, pd.DataFrame | pd.Series | str]]:
        """Show the readable rules of a supervised fit (best first)."""
        rules = getattr(self, "rules_", None)
        if isinstance(rules, pd.DataFrame) and len(rules):
            return [("Rules", rules.head(10))]
        return []

    def _score(self, data: _Input) -> pd.DataFrame:
        x = design(self._typed(data.raw), self.features_used_, self.categories_)
        if self.kind_ == "transactions" and self.mode_ == "supervised" and any(
                c.startswith("terminal_risk") for c in self.features_used_) and (
                data.labels is None):
            raise DataValidationError(
                f"the terminal risk features need the past labels: the transactions have "
                f"no {self.label!r} values (leave the recent, unknown ones missing)",
                frame="transactions", column=self.label, rule="required_column")
        p = self._predict(x)
        alert = p >= self.threshold_
        reasons = np.full(len(p), "", dtype=object)
        if alert.any():
            flagged = x[alert]
            contribution = occlusion(self._predict, flagged, self.reference_)
            top = np.argsort(-contribution, axis=0, kind="stable")[:2]
            texts = []
            for i in range(len(flagged)):
                parts = [f"{self.features_used_[j]}={_text(flagged.iat[i, j])}"
                         for j in top[:, i] if contribution[j, i] > 0]
                texts.append("; ".join(parts))
            reasons[alert] = texts
        out = pd.DataFrame({"fraud_score": p, "is_alert": alert, "reasons": reasons},
                           index=pd.Index(x.index, name=self._score_index))
        if self.kind_ == "transactions" and self.unit == "customer":
            assert data.customer is not None
            # Each customer's highest-scoring transaction (ties: the first in input order).
            out = out.reset_index(drop=True)
            out.insert(0, "customer_id", data.customer)
            top_rows = out.sort_values("fraud_score", ascending=False, kind="stable"
                                       ).drop_duplicates("customer_id")
            out = top_rows.set_index("customer_id").sort_index()
        return out


def _rule_text(conds: list[tuple[str, str, Any]]) -> str:
    """Join a path's conditions, keeping only the tightest bound per column and side."""
    bounds: dict[tuple[str, str], float] = {}
    parts: list[tuple[str, str, Any]] = []
    for column, op, value in conds:
        if op in ("<=", ">"):
            key = (column, op)
            if key not in bounds:
                parts.append((column, op, None))
            tighter = min if op == "<=" else max
            bounds[key] = tighter(bounds.get(key, value), value)
        elif (column, op, value) not in parts:
            parts.append((column, op, value))
    text = [f"{c} {op} {bounds[(c, op)]:.4g}" if v is None else f"{c} {op} {v}"
            for c, op, v in parts]
    return " AND ".join(text) or "(all)"


def _text(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    return str(value)


def _take(data: _Input, rows: Any) -> _Input:
    """Keep the rows selected by a boolean mask (input order) or by their ids.

    A boolean pandas Series is aligned on the caller's row labels; a 0/1 integer array
    with one value per row is refused as ambiguous (mask or ids?).
    """
    index = data.raw.index
    if isinstance(rows, pd.Series) and pd.api.types.is_bool_dtype(rows.dtype):
        if not rows.index.equals(data.source):
            if rows.index.has_duplicates or not rows.index.sort_values().equals(
                    data.source.sort_values()):
                raise DataValidationError("rows: the boolean Series' index does not match "
                                          "the rows of the data", rule="rows")
            rows = rows.reindex(data.source)
    values = np.asarray(rows)
    if values.dtype == bool:
        if values.ndim != 1 or len(values) != len(index):
            raise DataValidationError(f"rows: a boolean mask needs one value per row "
                                      f"({len(index)}), got shape {values.shape}",
                                      rule="rows")
        mask = values
    else:
        if (values.ndim == 1 and len(values) == len(index) and len(index) > 2
                and np.issubdtype(values.dtype, np.integer) and np.isin(values, (0, 1)).all()):
            raise DataValidationError("rows: 0/1 integers, one per row, look like a mask; "
                                      "pass a boolean mask (or the ids themselves)",
                                      rule="rows")
        wanted = pd.Index(values.ravel())
        unknown = wanted.difference(index)
        if len(unknown):
            raise DataValidationError(f"rows: {len(unknown)} ids are not in the data, e.g. "
                                      f"{unknown[:3].tolist()}", rule="rows",
                                      rows=unknown[:5].tolist())
        mask = index.isin(wanted)
    if not mask.any():
        raise DataValidationError("rows selects no row", rule="rows")
    return _Input(data.kind, data.raw[mask],
                  None if data.labels is None else data.labels[mask],
                  None if data.customer is None else data.customer[mask],
                  data.source[mask])
