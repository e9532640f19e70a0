"""Uplift: whom a contact changes, learned from a randomised test.

:class:`UpliftModel` estimates, for each customer, how much a treatment (a mailing, a
call, an offer) changes the probability of a response: ``uplift = P(response |
treated) - P(response | not treated)``. It learns from a randomised test: a flat table
with the feature columns, a treatment column (who was contacted) and an outcome column
(who responded). Four learners:

* ``"t_learner"`` (two models): one classifier per arm, ``uplift = p_1(x) - p_0(x)``;
* ``"s_learner"`` (one model): one classifier on the features, the treatment
  indicators and their products with the features;
* ``"class_transformation"`` (Jaskowski & Jaroszewicz 2012): one classifier of
  ``z = 1[y == t]`` with the two groups weighted to equal size, ``uplift = 2 P(z = 1 |
  x) - 1``;
* ``"x_learner"`` (Künzel, Sekhon, Bickel & Yu 2019): the T-learner's models impute each
  customer's effect, two regressions learn it, combined by the propensity.

``"auto"``, the default, is the T-learner with a logistic regression per arm on a shared
design (see :class:`UpliftModel`), the learner a training-only selection on Hillstrom's
e-mail test chose.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmmodels.core import (
    ColumnName,
    Constraint,
    HasMethods,
    Options,
    Predicate,
    RandomState,
)
from crmmodels.data import CRMData
from crmmodels.errors import (
    DataQualityWarning,
    DataValidationError,
    InvalidParameterError,
    MissingColumnError,
    warn,
)
from crmmodels.propensity import binary_labels, fit_threads, is_label_value
from crmmodels.targeting.response import (
    FlatTableModel,
    Table,
    canonical_order,
    flat_table,
    n_jobs_ok,
    take_columns,
)

__all__ = ["METHODS", "TREATMENT_AUC_WARNING", "UpliftModel"]

#: The learners ``method`` names ("auto" is the T-learner).
METHODS = ("t_learner", "s_learner", "class_transformation", "x_learner")
#: Cross-validated ROC AUC of the treatment predicted from the features above which fit
#: warns that the data does not look randomised.
TREATMENT_AUC_WARNING = 0.6
#: Non-negative numeric features whose skewness exceeds this are log1p-transformed.
LOG_SKEWNESS = 1.0
# Rows used to measure how well the features predict the treatment (a seeded sample).
_AUC_ROWS = 50_000
# Regularisation of the X-learner's effect regressions (ridge on the standardised design).
_EFFECT_ALPHA = 1.0


def _slug(value: Any) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(value).lower()).strip("_")


def _python(value: Any) -> Any:
    """Return a numpy scalar as the Python scalar it holds (stable in model files)."""
    return value.item() if isinstance(value, np.generic) else value


def _positive(model: Any, x: np.ndarray) -> np.ndarray:
    """Probability of class 1 from a fitted classifier."""
    classes = list(model.classes_)
    p: np.ndarray = np.asarray(model.predict_proba(x), dtype=np.float64)[:, classes.index(1)]
    return p


class UpliftModel(FlatTableModel):
    """Per-customer uplift of a treatment, learned from a randomised test.

    Parameters
    ----------
    treatment : str, default "treatment"
        Column saying which arm each row was in: 0/1 or bool (0/False = control), or
        any values with ``control=`` naming the control value. With several treatment
        values every treatment is compared with the control.
    outcome : str, default "response"
        Column of the outcome: bool, 0/1, true/false, t/f, yes/no or y/n (any case), or
        two other values with ``pos_label``.
    method : {"auto", "t_learner", "s_learner", "class_transformation", "x_learner"}
        The learner; "auto" is the T-learner (see Notes).
    estimator : scikit-learn classifier, optional
        Classifier with ``predict_proba`` (and ``sample_weight`` in ``fit`` for the
        class transformation with unequal groups) used by every learner; it receives
        the numeric design matrix described in Notes. Default:
        ``LogisticRegression(C=1.0, max_iter=2000)`` (L2, lbfgs).
    control : str, number or bool, optional
        The control value of the treatment column; needed unless the column is 0/1 or
        bool.
    id : str, optional
        Column identifying the rows (unique); default the frame's index, or
        ``customer_id`` for a CRMData.
    propensity : str, optional
        Column of the known probability that each row was treated, in (0, 1), used
        instead of the observed treated share (one treatment only; never a feature):
        in the class transformation's weights and the X-learner's combination.
    pos_label : str, number or bool, optional
        The outcome value that means "responded", for an outcome of two other values.
    random_state : int or None, default 0
        Seed given to ``estimator`` when it takes one.
    n_jobs : int, optional
        Threads of the BLAS and OpenMP pools while the learners fit. Default: one
        below 100,000 rows, else the cores the process may use; ``-1`` all of them.

    Attributes
    ----------
    method_ : str
        The learner used ("auto" resolved).
    control_ : object
        The control value.
    treatments_ : list
        The treatment values, sorted.
    features_used_ : list of str
        Feature columns, in order.
    features_dropped_ : dict
        Columns left out of the features, with the reason (the screen of
        :func:`crmmodels.propensity.screen_columns`: identifiers, dates, constant and
        empty columns, target-like names, columns that alone give the outcome away).
    log_columns_ : list of str
        Numeric features log1p-transformed (non-negative, skewness above 1 in the
        training rows).
    design_columns_ : list of str
        Columns of the design matrix the learners see.
    encoder_ : PropensityClassifier
        The propensity models' typing of the feature columns (text of numbers, category
        levels), fitted with a dummy classifier that learns nothing.
    center_, scale_ : ndarray
        Mean and standard deviation of each design column in the training rows.
    treatment_share_ : dict
        Share of the training rows in each arm, by value.
    propensity_ : dict
        Per treatment, the probability of treatment the learners used (the share
        among the treatment's and the control's rows, or the mean of ``propensity``).
    treatment_auc_ : float or None
        Cross-validated ROC AUC of the treatment predicted from the features (the
        highest over the treatments); None with ``propensity``.
    models_ : list
        The fitted classifiers: T- and X-learner one per arm (control first), S-learner
        one, class transformation one per treatment.
    effect_models_ : list of tuple
        X-learner: per treatment, the ridge regressions of the imputed effects on the
        control and on the treated rows.
    kind_ : {"table", "customers"}
        A DataFrame (scores indexed by ``id``) or a CRMData's customers frame
        (indexed by ``customer_id``); score takes the same kind.

    Notes
    -----
    **Design.** The features are typed as the propensity models type them (text of
    numbers read as numbers, other text and booleans as categories with the training
    levels, rare and unseen levels pooled). The learners then see one numeric matrix,
    fitted on all training rows: ``log1p`` of the non-negative numeric columns whose
    skewness exceeds 1 (decided from the training rows, ``log_columns_``), missing
    numbers replaced by the training median plus a missing-value indicator, categories
    one-hot with the first level dropped, every column standardised.

    **Learners.** With ``p_a(x)`` the probability of a response in arm ``a``:

    * T-learner: one classifier per arm; ``uplift = p_1(x) - p_0(x)``.
    * S-learner: one classifier on ``[x, d, x * d]`` (``d`` the treatment indicators);
      ``p_a(x)`` predicts with ``d`` set to arm ``a``.
    * Class transformation: ``z = 1`` for treated responders and control
      non-responders, else 0; with ``e`` the probability of treatment, treated rows
      weigh ``1 / (2 e)`` and control rows ``1 / (2 (1 - e))``, so both groups weigh
      half whatever their sizes, and ``uplift = 2 P_w(z = 1 | x) - 1``. This is the
      propensity correction of the transformed outcome ``y* = y (t - e) / (e (1 -
      e))`` (Athey & Imbens 2015) in classification form: both have expectation
      ``p_1(x) - p_0(x)`` given ``x``; with equal groups (``e = 1/2``) the weights are
      1 and it is the plain class transformation.
    * X-learner: the T-learner's classifiers impute each row's effect, ``D = y -
      p_0(x)`` on treated rows and ``D = p_1(x) - y`` on control rows; a ridge
      regression (alpha 1) on each group gives ``tau_1(x)`` and ``tau_0(x)``, and
      ``uplift = e tau_0(x) + (1 - e) tau_1(x)``.

    ``e`` is the treated share among a treatment's and the control's rows, or the known
    probabilities of ``propensity`` (their mean in the X-learner's combination).

    **Default ("auto").** The T-learner with ``LogisticRegression(C=1.0,
    max_iter=2000)`` per arm. It was chosen among 28 learners (T-, S-, X-, DR- and
    R-learners, class transformation and transformed outcome, linear and boosted) by
    3-fold cross-validated Qini on the training parts of Hillstrom's e-mail test only;
    its mean test Qini there is 0.068 (see the uplift page of the documentation).

    **Randomisation.** Uplift is the difference between arms only when the arms hold
    the same kind of customers. Fit cross-validates a logistic regression of the
    treatment on the features (3 folds, at most 50,000 rows) and warns with a
    :class:`~crmmodels.errors.DataQualityWarning` when its ROC AUC exceeds
    ``TREATMENT_AUC_WARNING`` = 0.6 (a randomised test gives about 0.5); with
    ``propensity`` the check is skipped.

    The treatment, outcome, propensity and id columns are never features; leave out
    every other column recorded after the treatment (other outcomes such as spend).

    Examples
    --------
    >>> from crmmodels.datasets import simulate_campaign
    >>> campaign = simulate_campaign(4000, random_state=0)
    >>> model = UpliftModel().fit(campaign.drop(columns="true_uplift"))
    >>> scores = model.score(campaign)
    >>> scores.columns.tolist()
    ['uplift', 'p_treated', 'p_control']
    >>> model.log_columns_
    ['history']
    >>> from scipy.stats import spearmanr
    >>> bool(spearmanr(scores["uplift"], campaign["true_uplift"]).statistic > 0.8)
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "treatment": [ColumnName()],
        "outcome": [ColumnName()],
        "method": [Options({"auto", *METHODS})],
        "estimator": [None, HasMethods(["fit", "predict_proba"], "a scikit-learn classifier")],
        "control": [None, Predicate(is_label_value, "a treatment value (str, number or bool)",
                                    [[0], {}])],
        "id": [None, ColumnName()],
        "propensity": [None, ColumnName()],
        "pos_label": [None, Predicate(is_label_value, "a label value (str, number or bool)",
                                      [[1], {}])],
        "random_state": [None, RandomState()],
        "n_jobs": [None, Predicate(n_jobs_ok, "a non-zero int", [0, 1.5, True])],
    }
    _required_frames: ClassVar[tuple[str, ...]] = ("customers",)
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"treatment": "x", "outcome": "x"}, {"treatment": "x", "id": "x"},
        {"outcome": "x", "propensity": "x"},
    )

    def __init__(self, *, treatment: str = "treatment", outcome: str = "response",
                 method: str = "auto", estimator: Any = None, control: Any = None,
                 id: str | None = None, propensity: str | None = None,
                 pos_label: Any = None, random_state: int | None = 0,
                 n_jobs: int | None = None) -> None:
        self.treatment = treatment
        self.outcome = outcome
        self.method = method
        self.estimator = estimator
        self.control = control
        self.id = id
        self.propensity = propensity
        self.pos_label = pos_label
        self.random_state = random_state
        self.n_jobs = n_jobs

    @property
    def _score_columns(self) -> tuple[str, ...]:  # type: ignore[override]
        columns: tuple[str, ...] = getattr(self, "score_columns_", ("uplift",))
        return columns

    def _check_params(self) -> None:
        super()._check_params()
        named = {"treatment": self.treatment, "outcome": self.outcome, "id": self.id,
                 "propensity": self.propensity}
        seen: dict[str, str] = {}
        for param, column in named.items():
            if column is None:
                continue
            if column in seen:
                raise InvalidParameterError(
                    f"UpliftModel: {seen[column]} and {param} name the same column "
                    f"{column!r}")
            seen[column] = param

    def _prepare(self, data: object) -> Table:
        return flat_table(data, "UpliftModel", self.id,
                          f"the treatment column {self.treatment!r}, the outcome column "
                          f"{self.outcome!r} and the features")

    # ------------------------------------------------------------------ input
    def _arms(self, values: pd.Series, frame: str) -> tuple[np.ndarray, Any, list[Any]]:
        """Arm of each row (0 = control, k = k-th treatment), the control, the treatments."""
        name = self.treatment
        missing = values.isna().to_numpy()
        if missing.any():
            raise DataValidationError(
                f"the treatment column {name!r} is missing for {int(missing.sum())} rows",
                frame=frame, column=name, rule="not_missing",
                rows=values.index[missing][:5].tolist(), n_rows=int(missing.sum()))
        distinct = [_python(v) for v in pd.unique(values)]
        if self.control is None:
            binary = all(isinstance(v, bool | int | float) and v in (0, 1) for v in distinct)
            if not binary:
                raise DataValidationError(
                    f"the treatment column {name!r} holds {sorted(map(str, distinct))[:6]}; "
                    "without control= it must be 0/1 or bool (0/False = control): name the "
                    "control value with control=", frame=frame, column=name,
                    rule="control")
            control: Any = False if pd.api.types.is_bool_dtype(values.dtype) else 0
            treated_value: Any = True if control is False else 1
            if not any(v == 0 for v in distinct):
                raise DataValidationError(
                    f"the treatment column {name!r} has no control row (0/False): uplift "
                    "compares treated customers with an untreated control group",
                    frame=frame, column=name, rule="no_control")
            if not any(v == 1 for v in distinct):
                raise DataValidationError(
                    f"the treatment column {name!r} has one value ({control!r}, the "
                    "control): there is no treated row to learn from", frame=frame,
                    column=name, rule="one_value")
            treatments = [treated_value]
        else:
            control = _python(self.control)
            if not any(v == control for v in distinct):
                raise DataValidationError(
                    f"control={self.control!r} is not a value of the treatment column "
                    f"{name!r} (it has {sorted(map(str, distinct))[:6]}): there is no "
                    "control row", frame=frame, column=name, rule="no_control")
            others = [v for v in distinct if not (v == control)]
            if not others:
                raise DataValidationError(
                    f"the treatment column {name!r} has one value ({control!r}, the "
                    "control): there is no treated row to learn from", frame=frame,
                    column=name, rule="one_value")
            try:
                treatments = sorted(others)
            except TypeError:
                treatments = sorted(others, key=str)
        arm = np.full(len(values), -1, dtype=np.int64)
        arm[(values == control).to_numpy(dtype=bool, na_value=False)] = 0
        for k, value in enumerate(treatments, start=1):
            arm[(values == value).to_numpy(dtype=bool, na_value=False)] = k
        return arm, control, treatments

    def _check_outcomes(self, y: np.ndarray, arm: np.ndarray, frame: str) -> None:
        for k, value in enumerate([self.control_, *self.treatments_]):
            counts = np.bincount(y[arm == k], minlength=2)
            if counts.min() == 0:
                group = "control" if k == 0 else "treatment"
                only = "responders" if counts[0] == 0 else "non-responders"
                raise DataValidationError(
                    f"the outcome {self.outcome!r} has one class in the {group} group "
                    f"{value!r}: its {int(counts.sum())} rows are all {only}, so its "
                    "response rate cannot be modelled", frame=frame, column=self.outcome,
                    rule="one_class")

    def _known_propensity(self, frame: pd.DataFrame, name: str) -> np.ndarray:
        assert self.propensity is not None
        if len(self.treatments_) > 1:
            raise DataValidationError(
                f"propensity={self.propensity!r} gives the probability of one treatment; "
                f"the treatment column holds {len(self.treatments_)} treatments "
                f"({self.treatments_}): leave propensity out (their shares are used)",
                frame=name, column=self.propensity, rule="propensity")
        values = frame[self.propensity]
        e = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64,
                                                              na_value=np.nan)
        bad = ~((e > 0) & (e < 1))
        if bad.any():
            raise DataValidationError(
                f"the propensity column {self.propensity!r} must hold probabilities in "
                f"(0, 1); {int(bad.sum())} values are missing, 0, 1 or outside",
                frame=name, column=self.propensity, rule="probability",
                rows=values.index[bad][:5].tolist(), n_rows=int(bad.sum()))
        return e

    # ------------------------------------------------------------------ design
    def _learn_design(self, typed: pd.DataFrame) -> None:
        """Learn the numeric design: log columns, medians, indicators, levels, scaling."""
        categories = self.encoder_.categories_
        self.log_columns_: list[str] = []
        self.medians_: dict[str, float] = {}
        self.indicator_columns_: list[str] = []
        self.levels_: dict[str, list[str]] = {}
        self.reference_levels_: dict[str, str] = {}
        for column in self.features_used_:
            if column in categories:
                codes = typed[column].cat.codes.to_numpy()
                present = [categories[column][i] for i in np.unique(codes[codes >= 0])]
                self.reference_levels_[column] = present[0]
                self.levels_[column] = present[1:]
                continue
            v = typed[column].to_numpy(dtype=np.float64)
            seen = v[~np.isnan(v)]
            skew = float(np.asarray(pd.Series(seen).skew())) if len(seen) > 2 else 0.0
            if len(seen) and seen.min() >= 0 and skew > LOG_SKEWNESS:
                self.log_columns_.append(column)
                seen = np.log1p(seen)
            self.medians_[column] = float(np.median(seen))
            if len(seen) < len(v):
                self.indicator_columns_.append(column)
        raw, names = self._raw_design(typed, warn_unseen=False)
        self.design_columns_ = names
        center = raw.mean(axis=0)
        scale = raw.std(axis=0)
        self.center_ = center
        self.scale_ = np.where(scale > 0, scale, 1.0)

    def _raw_design(self, typed: pd.DataFrame, *, warn_unseen: bool
                    ) -> tuple[np.ndarray, list[str]]:
        """Return the design before standardisation, and its column names."""
        blocks: list[np.ndarray] = []
        names: list[str] = []
        n = len(typed)
        for column in self.features_used_:
            if column in self.levels_:
                levels = self.levels_[column]
                text = typed[column].astype(str).to_numpy()
                for level in levels:
                    blocks.append((text == level).astype(np.float64))
                    names.append(f"{column}={level}")
                continue
            v = typed[column].to_numpy(dtype=np.float64, copy=True)
            if column in self.log_columns_:
                negative = v < 0
                if warn_unseen and negative.any():
                    warn(f"UpliftModel: {int(negative.sum())} rows have negative "
                         f"{column!r}, which was non-negative in training and is "
                         "log-transformed; they are scored as 0", DataQualityWarning)
                v = np.log1p(np.where(negative, 0.0, v))
            missing = np.isnan(v)
            if column in self.indicator_columns_:
                blocks.append(np.where(missing, self.medians_[column], v))
                names.append(column)
                blocks.append(missing.astype(np.float64))
                names.append(f"{column}_missing")
            else:
                if warn_unseen and missing.any():
                    warn(f"UpliftModel: {int(missing.sum())} rows miss {column!r}, which "
                         "no training row missed; they are scored with its training "
                         f"median {self.medians_[column]:.6g}", DataQualityWarning)
                blocks.append(np.where(missing, self.medians_[column], v))
                names.append(column)
        matrix = np.column_stack(blocks) if blocks else np.zeros((n, 0))
        return matrix, names

    def _warn_unseen(self, x: pd.DataFrame, typed: pd.DataFrame) -> None:
        """Warn about category values, or missing ones, that the training rows lacked."""
        for column, levels in self.levels_.items():
            first = self.reference_levels_[column]
            known = {first, *levels}
            values = x[column]
            missing = values.isna().to_numpy()
            seen_levels = self.encoder_.categories_[column]
            unseen = ~missing & ~values.astype(object).astype(str).isin(seen_levels).to_numpy()
            if unseen.any():
                as_level = str(typed[column][unseen].iloc[0])  # the pool they fall in
                how = (f"the level {as_level!r}" if as_level in known
                       else f"its first level {first!r}")
                shown = sorted(set(values[unseen].astype(str)))[:3]
                warn(f"UpliftModel: {int(unseen.sum())} rows hold values of {column!r} that "
                     f"the training rows did not have ({shown}); they are scored as {how}",
                     DataQualityWarning)
            if missing.any() and str(typed[column][missing].iloc[0]) not in known:
                warn(f"UpliftModel: {int(missing.sum())} rows miss {column!r}, which no "
                     f"training row missed; they are scored as its first level {first!r}",
                     DataQualityWarning)

    def _design(self, frame: pd.DataFrame, *, warn_unseen: bool) -> np.ndarray:
        """Return the standardised design matrix of ``frame`` (the table's feature columns)."""
        x = take_columns(frame, self.features_used_, self.features_used_, self.kind_)
        typed = self.encoder_.design_matrix(x)
        if warn_unseen:
            self._warn_unseen(x, typed)
        raw, _ = self._raw_design(typed, warn_unseen=warn_unseen)
        out: np.ndarray = (raw - self.center_) / self.scale_
        return out

    # ------------------------------------------------------------------ fit
    def _fit(self, table: Table) -> None:
        from sklearn.dummy import DummyClassifier

        from crmmodels.propensity import PropensityClassifier, screen_columns

        name = table.kind
        frame = table.frame
        for column in (self.treatment, self.outcome, self.propensity):
            if column is not None and column not in frame.columns:
                raise MissingColumnError(name, column, list(frame.columns))
        frame = frame.iloc[canonical_order(frame.index)]
        arm, self.control_, self.treatments_ = self._arms(frame[self.treatment], name)
        y = binary_labels(frame[self.outcome], self.outcome, name, "rows", self.pos_label)
        self._check_outcomes(y, arm, name)
        known = (self._known_propensity(frame, name) if self.propensity is not None
                 else None)
        self.method_ = "t_learner" if self.method == "auto" else self.method
        self.kind_ = table.kind
        arms = [self.control_, *self.treatments_]
        self.treatment_share_ = {_python(v): float(np.mean(arm == k))
                                 for k, v in enumerate(arms)}
        self._set_columns()

        not_features = [c for c in (self.treatment, self.outcome, self.propensity)
                        if c is not None]
        features = frame.drop(columns=not_features)
        if features.shape[1] == 0:
            raise DataValidationError("UpliftModel: the table has no feature column",
                                      frame=name, rule="no_features")
        keep, dropped = screen_columns(features, list(features.columns), "UpliftModel",
                                       y=y, label=self.outcome)
        if not keep:
            raise DataValidationError(f"UpliftModel: no usable feature column: {dropped}",
                                      frame=name, rule="no_features")
        self.features_used_ = list(keep)
        self.features_dropped_ = dict(dropped)
        # The propensity models' typing (text numbers, categories with the training
        # levels); the dummy classifier learns nothing.
        self.encoder_ = PropensityClassifier(
            estimator=DummyClassifier(strategy="prior"), calibrate=False,
            categorical="native", screen=False).fit(features[keep], y)
        self._learn_design(self.encoder_.design_matrix(features[keep]))
        z = self._design(features, warn_unseen=False)

        with fit_threads(len(y), self.n_jobs):
            if known is None:
                self.treatment_auc_: float | None = self._treatment_auc(z, arm)
            else:
                self.treatment_auc_ = None
            self.propensity_ = {}
            shares = []
            for k, value in enumerate(self.treatments_, start=1):
                rows = (arm == 0) | (arm == k)
                e = (known[rows] if known is not None
                     else np.full(int(rows.sum()), np.mean(arm[rows] == k)))
                shares.append(e)
                self.propensity_[value] = float(np.mean(e))
            fit = {"t_learner": self._fit_t, "s_learner": self._fit_s,
                   "class_transformation": self._fit_ct, "x_learner": self._fit_x}
            fit[self.method_](z, y, arm, shares)

    def _set_columns(self) -> None:
        if len(self.treatments_) == 1:
            self.uplift_columns_ = ["uplift"]
            self.score_columns_: tuple[str, ...] = (
                ("uplift", "p_treated", "p_control")
                if self.method_ in ("t_learner", "s_learner") else ("uplift",))
            return
        columns = [f"uplift_{_slug(v)}" for v in self.treatments_]
        if len(set(columns)) < len(columns) or "uplift_" in columns:
            raise DataValidationError(
                f"the treatment values {self.treatments_} do not give distinct column "
                "names (uplift_<value>, in lower case with '_' for other characters); "
                "rename them", column=self.treatment, rule="treatment_names")
        self.uplift_columns_ = columns
        self.score_columns_ = (*columns, "best_treatment")

    def _treatment_auc(self, z: np.ndarray, arm: np.ndarray) -> float | None:
        """Cross-validated ROC AUC of each treatment vs control from the features (max)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        worst: float | None = None
        rng = np.random.default_rng(0)
        for k in range(1, len(self.treatments_) + 1):
            rows = np.flatnonzero((arm == 0) | (arm == k))
            if len(rows) > _AUC_ROWS:
                rows = np.sort(rng.choice(rows, _AUC_ROWS, replace=False))
            t = (arm[rows] == k).astype(np.int64)
            if np.bincount(t, minlength=2).min() < 3 or z.shape[1] == 0:
                continue
            folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
            p = cross_val_predict(LogisticRegression(max_iter=2000), z[rows], t, cv=folds,
                                  method="predict_proba")[:, 1]
            auc = float(roc_auc_score(t, p))
            worst = auc if worst is None else max(worst, auc)
        if worst is not None and worst > TREATMENT_AUC_WARNING:
            warn(f"UpliftModel: the features predict the treatment (cross-validated ROC "
                 f"AUC {worst:.3f} > {TREATMENT_AUC_WARNING}): the data does not look like "
                 "a randomised test, and the arms hold different kinds of customers, so "
                 "the uplift estimates mix the treatment's effect with those differences; "
                 "use a randomised test, or pass propensity= with the known assignment "
                 "probabilities", DataQualityWarning)
        return worst

    def _base(self) -> Any:
        from sklearn.base import clone
        from sklearn.linear_model import LogisticRegression

        model = (LogisticRegression(C=1.0, max_iter=2000) if self.estimator is None
                 else clone(self.estimator))
        if self.random_state is not None and "random_state" in model.get_params():
            model.set_params(random_state=self.random_state)
        return model

    def _fit_t(self, z: np.ndarray, y: np.ndarray, arm: np.ndarray,
               shares: list[np.ndarray]) -> None:
        self.models_ = [self._base().fit(z[arm == k], y[arm == k])
                        for k in range(len(self.treatments_) + 1)]

    @staticmethod
    def _s_design(z: np.ndarray, d: np.ndarray) -> np.ndarray:
        """``[z, d, z * d_1, ..., z * d_K]``: the features, the arm indicators, products."""
        out: np.ndarray = np.hstack([z, d, *(z * d[:, [k]] for k in range(d.shape[1]))])
        return out

    def _indicators(self, arm: np.ndarray) -> np.ndarray:
        out: np.ndarray = (arm[:, None] == np.arange(1, len(self.treatments_) + 1)[None, :]
                           ).astype(np.float64)
        return out

    def _fit_s(self, z: np.ndarray, y: np.ndarray, arm: np.ndarray,
               shares: list[np.ndarray]) -> None:
        self.models_ = [self._base().fit(self._s_design(z, self._indicators(arm)), y)]

    def _fit_ct(self, z: np.ndarray, y: np.ndarray, arm: np.ndarray,
                shares: list[np.ndarray]) -> None:
        from sklearn.utils.validation import has_fit_parameter

        self.models_ = []
        for k, e in enumerate(shares, start=1):
            rows = (arm == 0) | (arm == k)
            t = arm[rows] == k
            target = (y[rows] == t).astype(np.int64)
            weight = np.where(t, 1.0 / (2.0 * e), 1.0 / (2.0 * (1.0 - e)))
            model = self._base()
            if np.all(weight == 1.0):
                model.fit(z[rows], target)
            elif has_fit_parameter(model, "sample_weight"):
                model.fit(z[rows], target, sample_weight=weight)
            else:
                raise InvalidParameterError(
                    f"UpliftModel: method='class_transformation' weighs the treated and "
                    f"control rows to equal size (treated share {float(np.mean(t)):.3f}), "
                    f"and {type(model).__name__}.fit takes no sample_weight")
            self.models_.append(model)

    def _fit_x(self, z: np.ndarray, y: np.ndarray, arm: np.ndarray,
               shares: list[np.ndarray]) -> None:
        from sklearn.linear_model import Ridge

        self._fit_t(z, y, arm, shares)
        control = arm == 0
        p_control = _positive(self.models_[0], z)
        self.effect_models_ = []
        for k in range(1, len(self.treatments_) + 1):
            treated = arm == k
            p_treated = _positive(self.models_[k], z[control])
            on_treated = Ridge(alpha=_EFFECT_ALPHA).fit(z[treated],
                                                        y[treated] - p_control[treated])
            on_control = Ridge(alpha=_EFFECT_ALPHA).fit(z[control],
                                                        p_treated - y[control])
            self.effect_models_.append((on_control, on_treated))

    # ------------------------------------------------------------------ score
    def _predict(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Uplift per treatment (n x K) and, where the learner has them, p per arm."""
        k_treatments = len(self.treatments_)
        if self.method_ == "t_learner":
            p = np.column_stack([_positive(m, z) for m in self.models_])
            return p[:, 1:] - p[:, [0]], p
        if self.method_ == "s_learner":
            n = len(z)
            p = np.column_stack([
                _positive(self.models_[0], self._s_design(
                    z, self._indicators(np.full(n, a, dtype=np.int64))))
                for a in range(k_treatments + 1)])
            return p[:, 1:] - p[:, [0]], p
        if self.method_ == "class_transformation":
            return np.column_stack([2.0 * _positive(m, z) - 1.0 for m in self.models_]), None
        uplift = []
        for value, (on_control, on_treated) in zip(self.treatments_, self.effect_models_,
                                                   strict=True):
            e = self.propensity_[value]
            uplift.append(e * on_control.predict(z) + (1.0 - e) * on_treated.predict(z))
        return np.column_stack(uplift), None

    def _score(self, table: Table) -> pd.DataFrame:
        if table.kind != self.kind_:
            raise DataValidationError(
                f"this UpliftModel was fitted on a {self.kind_} frame; score takes the same "
                f"kind of data, got a {table.kind} frame", rule="type")
        z = self._design(table.frame, warn_unseen=True)
        uplift, p = self._predict(z)
        index = pd.Index(table.frame.index, name=self._score_index)
        if len(self.treatments_) == 1:
            out = pd.DataFrame({"uplift": uplift[:, 0]}, index=index)
            if p is not None:
                out["p_treated"] = p[:, 1]
                out["p_control"] = p[:, 0]
            return out
        out = pd.DataFrame(uplift, columns=self.uplift_columns_, index=index)
        arms = np.asarray([self.control_, *self.treatments_], dtype=object)
        best = np.where(uplift.max(axis=1) > 0, np.argmax(uplift, axis=1) + 1, 0)
        out["best_treatment"] = arms[best]
        return out

    def score(self, data: CRMData | pd.DataFrame, /) -> pd.DataFrame:
        """Predicted uplift of each row.

        Parameters
        ----------
        data : DataFrame or CRMData
            A table with the feature columns (``features_used_``); the treatment,
            outcome and propensity columns may be absent. Score takes the kind of data
            (DataFrame or CRMData) the model was fitted on.

        Returns
        -------
        DataFrame
            One row per input row, in input order, indexed by ``id`` (the ``id``
            column's values, else the input's index) or, for a CRMData,
            ``customer_id``. One treatment: ``uplift`` (``P(response | treated) -
            P(response | control)``) and, for the T- and S-learner, ``p_treated`` and
            ``p_control`` (``uplift = p_treated - p_control``; the class
            transformation and the X-learner estimate the difference directly).
            Several treatments: ``uplift_<treatment>`` per treatment against the
            control (the value in lower case, other characters as ``_``) and
            ``best_treatment``, the treatment with the highest uplift, or the
            control value when no uplift is above 0.
        """
        return super().score(data)
