"""Fraud propensity on entity tables: supervised scores, anomaly scores, readable rules.

:class:`FraudModel` scores claims, applications or transactions given as a table (one
row per entity, a 0/1 label column, an id column or index, every other column a
candidate feature):

* **supervised** (labels known): the default classifier of the churn model (spline
  logistic regression and gradient boosting, stacked on shuffled out-of-fold
  probabilities, so the output is a calibrated probability) or any scikit-learn
  classifier; the alert threshold minimises the expected cost ``cost_fp x FP + cost_fn
  x FN`` on out-of-fold predictions, or flags a fixed share (``alert_budget``);
* **anomaly** (no labels): IsolationForest on the one-hot encoded table, the outlier
  score normalised to [0, 1];
* readable IF-THEN **rules** from a shallow decision tree (``rules_``,
  :meth:`FraudModel.rules_table`), each with its support, precision and lift.

Identifier-like columns (e.g. a policy number that is the row number) are detected and
left out with a :class:`~crmmodels.errors.DataQualityWarning`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmmodels._tabular import (
    binary_labels,
    design,
    learn_categories,
    occlusion,
    screen_columns,
    typical_values,
)
from crmmodels.base import CRMModel, ParamRule
from crmmodels.data import CRMData
from crmmodels.errors import DataValidationError, InvalidParameterError

__all__ = ["FraudModel"]

_N_FOLDS = 5


def _positive(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v > 0


class FraudModel(CRMModel):
    """Fraud scores, cost-optimal alerts and readable rules for an entity table.

    Parameters
    ----------
    estimator : scikit-learn classifier, optional
        Supervised classifier with ``predict_proba``; it receives a DataFrame with
        ``category`` and float columns. Default:
        :func:`crmmodels.churn.default_estimator`.
    mode : {"auto", "supervised", "anomaly"}, default "auto"
        "auto" is supervised when the ``label`` column exists, anomaly otherwise.
    label : str, default "is_fraud"
        Column holding 0/1 (or bool, yes/no) outcomes.
    id : str, optional
        Column identifying the rows; default the frame's index.
    cost_fp, cost_fn : float, default 1 and 10
        Cost of investigating a legitimate case and of missing a fraud.
    alert_budget : float, optional
        Share of rows to flag, in (0, 1), instead of the cost-optimal threshold.
    random_state : int, optional
        Seed of the folds, the classifier and the isolation forest.
    rule_depth : int, default 3
        Depth of the rule tree (conditions per rule).
    min_rule_size : int, default 50
        Fewest training rows a rule may cover.

    Attributes
    ----------
    estimator_ : classifier or IsolationForest
    mode_ : {"supervised", "anomaly"}
    feature_names_, categorical_, categories_, excluded_ : see ChurnModel
    threshold_ : float
        Alert threshold on ``fraud_score``.
    base_rate_ : float
        Share of fraud in training (supervised).
    oof_score_ : ndarray
        Out-of-fold training scores (supervised), from which the threshold is chosen.
    rules_ : DataFrame
        Rules (supervised): ``rule``, ``n``, ``frauds``, ``precision``, ``lift``,
        ``support``, best first.

    Examples
    --------
    >>> from crmmodels.datasets import load_vehicle_insurance_fraud
    >>> claims = load_vehicle_insurance_fraud().iloc[:3000]
    >>> model = FraudModel(label="FraudFound_P", id="PolicyNumber", random_state=0)
    >>> model = model.fit(claims)
    >>> model.score(claims).columns.tolist()
    ['fraud_score', 'is_alert', 'reasons']
    """

    _param_rules: ClassVar[dict[str, ParamRule]] = {
        "estimator": (lambda v: v is None or hasattr(v, "fit"),
                      "None or a scikit-learn classifier"),
        "mode": (lambda v: v in ("auto", "supervised", "anomaly"),
                 "'auto', 'supervised' or 'anomaly'"),
        "label": (lambda v: isinstance(v, str) and len(v) > 0, "a column name"),
        "id": (lambda v: v is None or (isinstance(v, str) and len(v) > 0),
               "None or a column name"),
        "cost_fp": (_positive, "a positive number"),
        "cost_fn": (_positive, "a positive number"),
        "alert_budget": (lambda v: v is None or (isinstance(v, float) and 0 < v < 1),
                         "None or a share in (0, 1)"),
        "random_state": (lambda v: v is None or (isinstance(v, int) and not isinstance(
            v, bool)), "None or an int"),
        "rule_depth": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
                       "a positive integer"),
        "min_rule_size": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
                          "a positive integer"),
    }
    _score_index: ClassVar[str] = "id"
    _score_columns: ClassVar[tuple[str, ...]] = ("fraud_score", "is_alert", "reasons")
    _required_frames: ClassVar[tuple[str, ...]] = ()
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"mode": "magic"}, {"cost_fp": 0}, {"alert_budget": 1.5},
    )

    def __init__(self, estimator: Any = None, mode: str = "auto", label: str = "is_fraud",
                 id: str | None = None, cost_fp: float = 1.0,
                 cost_fn: float = 10.0, alert_budget: float | None = None,
                 random_state: int | None = None, rule_depth: int = 3,
                 min_rule_size: int = 50) -> None:
        self.estimator = estimator
        self.mode = mode
        self.label = label
        self.id = id
        self.cost_fp = cost_fp
        self.cost_fn = cost_fn
        self.alert_budget = alert_budget
        self.random_state = random_state
        self.rule_depth = rule_depth
        self.min_rule_size = min_rule_size

    # ------------------------------------------------------------------ input
    def _prepare(self, data: object) -> pd.DataFrame:
        if isinstance(data, CRMData):
            if data.transactions is None:
                raise DataValidationError("FraudModel needs a transactions frame",
                                          frame="transactions", rule="required_frame")
            frame = data.transactions
        elif isinstance(data, pd.DataFrame):
            frame = data
        else:
            raise DataValidationError(
                f"FraudModel takes a DataFrame or CRMData, got {type(data).__name__}",
                rule="type")
        if len(frame) == 0:
            raise DataValidationError("no rows to score or learn from", rule="empty")
        if self.id is not None:
            if self.id not in frame.columns:
                from crmmodels.errors import MissingColumnError

                raise MissingColumnError("table", self.id, list(frame.columns))
            ids = frame[self.id]
            if ids.isna().any() or ids.duplicated().any():
                raise DataValidationError(f"id column {self.id!r} has missing or repeated "
                                          "values", column=self.id, rule="unique_id")
            frame = frame.set_index(self.id, drop=True)
        elif frame.index.has_duplicates:
            raise DataValidationError("the index has repeated values; give id=",
                                      rule="unique_id")
        out = frame.copy(deep=False)
        out.index = pd.Index(out.index, name="id")
        return out

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        drop = [c for c in (self.label,) if c in frame.columns]
        return frame.drop(columns=drop)

    # ------------------------------------------------------------------ fit
    def _fit(self, frame: pd.DataFrame) -> None:
        has_label = self.label in frame.columns
        if self.mode == "supervised" and not has_label:
            raise DataValidationError(f"mode='supervised' needs the label column "
                                      f"{self.label!r}", column=self.label,
                                      rule="required_column")
        self.mode_ = "supervised" if (self.mode == "supervised" or (
            self.mode == "auto" and has_label)) else "anomaly"
        raw = self._features(frame)
        self._select(raw)
        x = design(raw, self.feature_names_, self.categories_)
        self.reference_ = typical_values(x, self.categories_)
        if self.mode_ == "anomaly":
            self._fit_anomaly(x)
            return
        y = binary_labels(frame[self.label], self.label, "table", "rows")
        if len(np.unique(y)) < 2:
            raise DataValidationError(
                f"the label {self.label!r} has one class only: nothing to learn",
                column=self.label, rule="one_class")
        self._fit_supervised(x, y)
        self.rules_ = self._rules(x, y)

    def _select(self, raw: pd.DataFrame) -> None:
        keep, excluded = screen_columns(raw, list(map(str, raw.columns)), "FraudModel")
        if not keep:
            raise DataValidationError(
                "no usable feature: every column is an identifier, a date or the same for "
                "all rows", rule="no_features")
        self.excluded_ = excluded
        self.categories_ = learn_categories(raw[keep])
        self.feature_names_ = keep
        self.categorical_ = [c for c in keep if c in self.categories_]

    def _fit_supervised(self, x: pd.DataFrame, y: np.ndarray) -> None:
        from sklearn.base import clone
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        from crmmodels.churn import default_estimator

        if self.estimator is None:
            numeric = [c for c in self.feature_names_ if c not in self.categories_]
            base = default_estimator(numeric, self.categorical_, self.random_state,
                                     n_samples=int(len(y) * (1 - 1 / _N_FOLDS)))
        else:
            base = clone(self.estimator)
        minority = int(np.bincount(y).min())
        folds = StratifiedKFold(n_splits=max(2, min(_N_FOLDS, minority)), shuffle=True,
                                random_state=self.random_state)
        self.oof_score_ = cross_val_predict(clone(base), x, y, cv=folds,
                                            method="predict_proba")[:, 1]
        self.estimator_ = base.fit(x, y)
        self.base_rate_ = float(y.mean())
        self.threshold_ = self._threshold(self.oof_score_, y)

    def _threshold(self, p: np.ndarray, y: np.ndarray) -> float:
        if self.alert_budget is not None:
            return float(np.quantile(p, 1 - self.alert_budget))
        order = np.argsort(-p, kind="stable")
        ys = y[order]
        # Alerting the top k: FP = k - TP(k), FN = positives - TP(k), for k = 0..n.
        tp = np.r_[0, np.cumsum(ys)]
        k = np.arange(len(ys) + 1)
        cost = self.cost_fp * (k - tp) + self.cost_fn * (ys.sum() - tp)
        # Only cut between distinct scores.
        ps = p[order]
        cuts = np.r_[True, ps[1:] != ps[:-1], True]
        best = int(np.flatnonzero(cuts)[np.argmin(cost[cuts])])
        self.expected_cost_ = float(cost[best])
        return float(np.inf) if best == 0 else float(ps[best - 1])

    def _fit_anomaly(self, x: pd.DataFrame) -> None:
        from sklearn.compose import ColumnTransformer
        from sklearn.ensemble import IsolationForest
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder

        numeric = [c for c in self.feature_names_ if c not in self.categories_]
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
        if self.mode_ == "anomaly":
            return self._anomaly(x)
        return np.asarray(self.estimator_.predict_proba(x)[:, 1], dtype=np.float64)

    # ------------------------------------------------------------------ rules
    def _rules(self, x: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
        """Leaves of a shallow tree on one-hot categoricals, as readable rules."""
        from sklearn.tree import DecisionTreeClassifier

        cols: dict[str, np.ndarray] = {}
        names: list[tuple[str, str | None]] = []  # (column, level or None for numeric)
        for c in self.feature_names_:
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
        rows = []

        def walk(node: int, conds: list[str]) -> None:
            if t.children_left[node] == -1:
                leaf = tree.apply(matrix) == node
                n, frauds = int(leaf.sum()), int(y[leaf].sum())
                precision = frauds / n if n else 0.0
                rows.append({"rule": " AND ".join(conds) or "(all)", "n": n,
                             "frauds": frauds, "precision": precision,
                             "lift": precision / self.base_rate_, "support": n / len(y)})
                return
            column, level = names[t.feature[node]]
            cut = float(t.threshold[node])
            if level is None:
                left, right = f"{column} <= {cut:.4g}", f"{column} > {cut:.4g}"
            else:
                left, right = f"{column} != {level}", f"{column} = {level}"
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
        if self.mode_ != "supervised":
            raise InvalidParameterError("rules need labels (mode='supervised')")
        return self.rules_[self.rules_["lift"] >= min_lift].reset_index(drop=True)

    # ------------------------------------------------------------------ score
    def _score(self, frame: pd.DataFrame) -> pd.DataFrame:
        x = design(self._features(frame), self.feature_names_, self.categories_)
        p = self._predict(x)
        alert = p >= self.threshold_
        reasons = np.full(len(p), "", dtype=object)
        if alert.any():
            flagged = x[alert]
            contribution = occlusion(self._predict, flagged, self.reference_)
            top = np.argsort(-contribution, axis=0, kind="stable")[:2]
            texts = []
            for i in range(len(flagged)):
                parts = [f"{self.feature_names_[j]}={flagged.iat[i, j]!s}"
                         for j in top[:, i] if contribution[j, i] > 0]
                texts.append("; ".join(parts))
            reasons[alert] = texts
        return pd.DataFrame({"fraud_score": p, "is_alert": alert, "reasons": reasons},
                            index=x.index)
