"""``PropensityClassifier``: the tabular classifier churn and fraud models share.

A real scikit-learn classifier (``fit(X, y, sample_weight=None)``, ``predict_proba``,
``predict``, ``decision_function``, ``classes_``, ``feature_names_in_``) that works in
``Pipeline``, ``cross_val_score`` and ``GridSearchCV``. On top of the estimator it wraps
(by default :func:`~crmmodels.propensity.default_estimator`, a calibrated stack of a
spline logistic regression and gradient boosting) it adds what raw CRM tables need:

* column screening on named DataFrame columns: identifier-like columns (every value
  distinct: customer ids, policy numbers), datetime, all-missing and constant columns
  are left out and reported in ``features_dropped_`` (name -> reason); plain arrays
  pass through unscreened;
* text columns that hold numbers (Telco's ``TotalCharges``, blanks included) are read
  as numbers; other text and boolean columns become categoricals with the training
  levels (unseen levels map to a pooled level), so new data is encoded exactly as the
  training data was;
* calibration of a user-given estimator (Platt scaling over shuffled, stratified
  folds) and class weights.

It follows scikit-learn's label rules: any two labels, ``classes_`` sorted, the second
class is the positive one. ChurnModel and FraudModel add the friendlier label handling
(yes/no columns, missing labels) on top.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.utils import assert_all_finite
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from crmmodels.errors import DataQualityWarning, InvalidParameterError, warn
from crmmodels.propensity._tabular import (
    as_numbers,
    clipped_logit,
    design,
    learn_categories,
    numeric_text,
    screen_columns,
)

__all__ = ["BlendedClassifier", "PropensityClassifier", "WeightedPipeline", "default_estimator"]


def _validate_data(estimator: BaseEstimator, X: Any, *, reset: bool,  # noqa: N803
                   skip_check_array: bool = False, dtype: Any = None,
                   allow_nan: bool = False) -> Any:
    """scikit-learn's ``validate_data`` (1.6+), or the method it replaced (1.5)."""
    try:
        from sklearn.utils.validation import validate_data
    except ImportError:  # scikit-learn 1.5
        if skip_check_array:
            return estimator._validate_data(X, reset=reset, cast_to_ndarray=False)
        return estimator._validate_data(X, reset=reset, dtype=dtype,
                                        force_all_finite="allow-nan" if allow_nan else True)
    if skip_check_array:
        return validate_data(estimator, X, reset=reset, skip_check_array=True)
    return validate_data(estimator, X, reset=reset, dtype=dtype,
                         ensure_all_finite="allow-nan" if allow_nan else True)


class WeightedPipeline(Pipeline):  # type: ignore[misc]
    """A :class:`~sklearn.pipeline.Pipeline` whose ``fit`` takes ``sample_weight``.

    The weights go to the final step, as ``Pipeline.fit(X, y,
    <last step>__sample_weight=w)`` would send them; this lets a pipeline be a member of
    a stack or a search that passes ``sample_weight`` by name (scikit-learn's own
    ``Pipeline`` accepts it only through metadata routing).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = np.arange(8.0).reshape(-1, 1), np.array([0, 0, 1, 0, 1, 0, 1, 1])
    >>> w = np.array([1, 1, 1, 1, 1, 1, 0, 0])
    >>> pipe = WeightedPipeline([("scale", StandardScaler()), ("lr", LogisticRegression())])
    >>> direct = LogisticRegression().fit(StandardScaler().fit_transform(X), y,
    ...                                   sample_weight=w)
    >>> bool(np.allclose(pipe.fit(X, y, sample_weight=w)[-1].coef_, direct.coef_))
    True
    """

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None,  # noqa: N803
            **params: Any) -> Self:
        """Fit the steps; ``sample_weight`` goes to the final step's ``fit``."""
        if sample_weight is not None:
            params[f"{self.steps[-1][0]}__sample_weight"] = sample_weight
        super().fit(X, y, **params)
        return self


class BlendedClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Two classifiers combined by a logistic regression fitted on held-out rows.

    A seeded, stratified share of the rows (``holdout``) is set aside; both members
    are fitted on the rest, and a logistic regression on the log-odds of their
    probabilities for the held-out rows combines them, which also calibrates the
    result (Platt scaling). The boosting member is then fitted again on every row with
    the number of trees early stopping chose (``refit``). Each member is fitted twice at most, not
    once per fold as in stacking.

    Parameters
    ----------
    logistic, boosting : scikit-learn classifiers
        The members (any classifiers with ``predict_proba``; ``boosting`` is refitted
        on all rows, with ``max_iter`` set to the trees it grew and early stopping off
        when it has those parameters).
    holdout : float, default 0.2
        Share of each class held out to fit the combiner (at least one row of each).
    logistic_rows : int or None, default 200_000
        At most this many of the kept rows (a seeded, stratified sample) fit the
        logistic member: its few hundred coefficients are settled long before, and its
        spline basis is the largest matrix of the fit. None uses every kept row.
    refit : bool, default True
        Fit the boosting member again on every row (the held-out ones included) with
        the number of trees early stopping chose. False keeps the member fitted on the
        kept rows: one boosted fit instead of two, at some accuracy on small tables
        (on the claims data of the fraud docs, average precision 0.258 instead of
        0.265).
    random_state : int, default 0
        Seed of the held-out rows and of the logistic member's sample.

    Attributes
    ----------
    classes_ : ndarray
        The two labels.
    logistic_, boosting_, combiner_ : fitted estimators
    holdout_index_ : ndarray
        Positions of the held-out rows.
    holdout_score_ : ndarray
        The combined probability of the positive class for those rows (from members
        that did not see them): honest scores to set thresholds on.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3))
    >>> y = (X[:, 0] + rng.normal(size=400) > 0).astype(int)
    >>> blend = BlendedClassifier(logistic=LogisticRegression(),
    ...                           boosting=HistGradientBoostingClassifier(max_iter=20))
    >>> blend.fit(X, y).predict_proba(X[:2]).shape, len(blend.holdout_index_)
    ((2, 2), 80)
    """

    def __init__(self, *, logistic: Any, boosting: Any, holdout: float = 0.2,
                 logistic_rows: int | None = 200_000, refit: bool = True,
                 random_state: int | None = 0) -> None:
        self.logistic = logistic
        self.boosting = boosting
        self.holdout = holdout
        self.logistic_rows = logistic_rows
        self.refit = refit
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags

    def _more_tags(self) -> dict[str, Any]:
        """Return the same tags for scikit-learn 1.5, which reads this method instead."""
        return {"allow_nan": True, "binary_only": True}

    def _split(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stratified held-out rows: ``holdout`` of each class, one row at least."""
        rng = np.random.default_rng(self.random_state)
        held: list[np.ndarray] = []
        for c in (0, 1):
            rows = np.flatnonzero(codes == c)
            if len(rows) < 2:
                raise ValueError(f"BlendedClassifier needs 2 rows of each class, class "
                                 f"{self.classes_[c]!r} has {len(rows)}")
            k = min(len(rows) - 1, max(1, round(self.holdout * len(rows))))
            held.append(rng.choice(rows, k, replace=False))
        test = np.sort(np.concatenate(held))
        train = np.setdiff1d(np.arange(len(codes)), test, assume_unique=True)
        return train, test

    @staticmethod
    def _fit_member(member: Any, X: Any, y: np.ndarray, w: np.ndarray | None) -> Any:  # noqa: N803
        return member.fit(X, y) if w is None else member.fit(X, y, sample_weight=w)

    def _logits(self, X: Any, members: Sequence[Any]) -> np.ndarray:  # noqa: N803
        return np.column_stack([clipped_logit(np.asarray(m.predict_proba(X))[:, 1])
                                for m in members])

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:  # noqa: N803
        """Fit the members on the kept rows, the combiner on the held-out ones.

        Parameters
        ----------
        X : DataFrame or array-like
            Features, as the members take them.
        y : array-like
            Two classes.
        sample_weight : array-like, optional
            Row weights, passed to the members and to the combiner.

        Returns
        -------
        self
        """
        from sklearn.linear_model import LogisticRegression

        y_arr = np.asarray(y)
        self.classes_, codes = np.unique(y_arr, return_inverse=True)
        if len(self.classes_) != 2:
            raise ValueError(f"BlendedClassifier needs 2 classes, got {len(self.classes_)}")
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        train, test = self._split(codes)

        def rows(data: Any, idx: np.ndarray) -> Any:
            return data.iloc[idx] if isinstance(data, pd.DataFrame) else np.asarray(data)[idx]

        x_train, x_test = rows(X, train), rows(X, test)
        w_train = None if w is None else w[train]
        few = train
        if self.logistic_rows is not None and len(train) > self.logistic_rows:
            # A stratified sample: the same share of each class.
            rng = np.random.default_rng(self.random_state)
            share = self.logistic_rows / len(train)
            few = np.sort(np.concatenate([
                rng.choice(part, max(1, round(share * len(part))), replace=False)
                for part in (train[codes[train] == 0], train[codes[train] == 1])]))
        logistic = self._fit_member(clone(self.logistic), rows(X, few), codes[few],
                                    None if w is None else w[few])
        boosting = self._fit_member(clone(self.boosting), x_train, codes[train], w_train)
        z = self._logits(x_test, (logistic, boosting))
        combiner = LogisticRegression()
        if w is None:
            combiner.fit(z, codes[test])
        else:
            combiner.fit(z, codes[test], sample_weight=w[test])
        self.holdout_index_ = test
        self.holdout_score_ = combiner.predict_proba(z)[:, 1]
        self.logistic_ = logistic
        self.boosting_ = boosting
        if self.refit:
            params = boosting.get_params()
            again = clone(self.boosting)
            if hasattr(boosting, "n_iter_") and "early_stopping" in params:
                again.set_params(max_iter=int(boosting.n_iter_), early_stopping=False)
            self.boosting_ = self._fit_member(again, X, codes, w)
        self.combiner_ = combiner
        return self

    def predict_proba(self, X: Any) -> np.ndarray:  # noqa: N803
        """Return the combined probability of each class (columns in ``classes_`` order)."""
        check_is_fitted(self)
        out: np.ndarray = self.combiner_.predict_proba(
            self._logits(X, (self.logistic_, self.boosting_)))
        return out

    def predict(self, X: Any) -> np.ndarray:  # noqa: N803
        """Return the more probable label of each row."""
        return np.asarray(self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(np.intp)])


def default_estimator(numeric: Sequence[str], categorical: Sequence[str],
                      random_state: int | None = 0, n_samples: int | None = None,
                      class_weight: str | dict[int, float] | None = None, *,
                      n_minority: int | None = None) -> Any:
    """Build the default churn and fraud classifier: spline logistic regression and boosting.

    Two members see the same columns (a :class:`BlendedClassifier`: fitted on 80% of
    the rows, combined by a logistic regression on the log-odds of their probabilities
    for the other 20%, the boosted trees then refitted on every row):

    * a logistic regression on one-hot categoricals and, for each numeric column, a
      cubic spline basis of its quantile-transformed value (median-imputed, plus a
      missing-value indicator): smooth, additive, non-linear effects;
    * scikit-learn's :class:`~sklearn.ensemble.HistGradientBoostingClassifier` with
      native categoricals, learning rate 0.05, 31-leaf trees with at least 20 rows per
      leaf and early stopping (10 rounds without gain on a 10% split): interactions.

    The combiner is fitted on rows the members did not see, so its output is a
    calibrated probability. It costs about two boosted fits (stacking over 5 folds cost
    six of each member); accuracy in the churn and fraud docs.

    Parameters
    ----------
    numeric, categorical : sequence of str
        Column names of the two kinds (categoricals have pandas ``category`` dtype).
    random_state : int, default 0
        Seed of the held-out rows, the quantile transform and the boosted trees.
    n_samples : int, optional
        Training rows, when known: the quantile transform then uses at most as many
        quantiles as the members' share of the rows has (200 at most).
    class_weight : {None, "balanced"} or dict, default None
        Class weights of both members; the combiner sees unweighted rows and keeps the
        probabilities calibrated.
    n_minority : int, optional
        Rows of the rarer class, when known: fewer than 2 leave nothing to hold out,
        and the logistic member alone is returned (with a
        :class:`~crmmodels.errors.DataQualityWarning`). Early stopping of the boosted
        trees is left off when its validation split could not hold both classes.

    Returns
    -------
    BlendedClassifier
        Or, below 2 rows of the rarer class, the logistic member (a
        :class:`WeightedPipeline`). Every part takes ``sample_weight``.

    Examples
    --------
    >>> est = default_estimator(["tenure"], ["contract"])
    >>> type(est).__name__, type(est.boosting).__name__
    ('BlendedClassifier', 'HistGradientBoostingClassifier')
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import MissingIndicator, SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import OneHotEncoder, QuantileTransformer, SplineTransformer

    fit_share = 0.8  # of the rows, in the members' first fit
    quantiles = 200 if n_samples is None else int(
        min(200, max(2, 0.9 * n_samples * fit_share)))
    # The boosted trees' early stopping holds out a stratified 10% of their rows.
    early_stopping = (n_samples is None or n_samples * fit_share > 10) and (
        n_minority is None or n_minority * fit_share >= 2)
    parts: list[tuple[str, Any, list[str]]] = []
    if numeric:
        splines = make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            QuantileTransformer(n_quantiles=quantiles, random_state=random_state),
            SplineTransformer(n_knots=5, degree=3, knots="uniform"))
        parts.append(("numeric", make_union(
            splines, MissingIndicator(features="all", error_on_new=False)), list(numeric)))
    if categorical:
        parts.append(("categorical", OneHotEncoder(handle_unknown="ignore"),
                      list(categorical)))
    logistic = WeightedPipeline(make_pipeline(ColumnTransformer(parts), LogisticRegression(
        max_iter=2000, class_weight=class_weight)).steps)
    if n_minority is not None and n_minority < 2:
        warn(f"the rarer class has {n_minority} row: too few to hold any out; the "
             "spline logistic regression is fitted alone", DataQualityWarning)
        return logistic
    boosting = HistGradientBoostingClassifier(
        learning_rate=0.05, max_iter=300, max_leaf_nodes=31, min_samples_leaf=20,
        early_stopping=early_stopping, validation_fraction=0.1, n_iter_no_change=10,
        categorical_features="from_dtype", class_weight=class_weight,
        random_state=random_state)
    return BlendedClassifier(logistic=logistic, boosting=boosting,
                             random_state=random_state)


class PropensityClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Binary classifier for CRM tables: screening, categoricals, calibration, weights.

    Parameters
    ----------
    estimator : scikit-learn classifier, optional
        Any classifier with ``predict_proba``. It receives a DataFrame whose numeric
        columns are floats (NaN where missing); categorical columns reach it as pandas
        ``category`` columns when it reads them natively (a ``categorical_features=
        "from_dtype"`` parameter, as gradient boosting has), otherwise one-hot
        encoded. Default: :func:`~crmmodels.propensity.default_estimator` (calibrated
        by construction).
    calibrate : bool, default True
        Calibrate a given ``estimator`` with Platt scaling over 5 shuffled,
        stratified folds (fewer when the rarer class has fewer than 5 rows; none
        below 2). Changes nothing for the default estimator.
    class_weight : {None, "balanced"} or dict, default None
        Class weights (a dict is keyed by the labels of ``y``) of the default
        estimator's members, or set on ``estimator`` when it takes ``class_weight``.
        The default stack's combining layer stays unweighted, so its probabilities
        stay calibrated: weights sharpen what the members learn about the rarer class
        without moving the probabilities away from the observed rates.
    categorical : {"auto", "native", "onehot"}, default "auto"
        How a given ``estimator`` receives categorical columns: ``"native"`` as pandas
        ``category`` columns (for estimators or pipelines that handle them
        themselves), ``"onehot"`` one-hot encoded, ``"auto"`` natively when the
        estimator has ``categorical_features="from_dtype"``, else one-hot. The default
        estimator always reads them natively.
    screen : bool, default True
        Leave identifier-like, datetime, all-missing and constant DataFrame columns
        out (reported in ``features_dropped_``).
    random_state : int or None, default 0
        Seed of the default estimator and of the calibration folds (two fits on the
        same data give the same probabilities).

    Attributes
    ----------
    classes_ : ndarray
        The two labels, sorted; ``classes_[1]`` is the positive class.
    n_features_in_ : int
        Columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Their names, when ``X`` was a DataFrame with string column names.
    features_used_ : list of str
        Columns the estimator sees, in order.
    features_dropped_ : dict
        Columns left out and why: ``"identifier"``, ``"datetime"``,
        ``"all missing"`` or ``"constant"``.
    numeric_text_ : list of str
        Text columns read as numbers (every non-blank value a number in ``fit``); the
        same columns are read as numbers at prediction, and only they.
    categories_ : dict
        Levels of each categorical column learned in training.
    estimator_ : classifier
        The fitted (calibrated) estimator.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = pd.DataFrame({"id": [f"C{i}" for i in range(40)],
    ...                   "tenure": [1, 5, 12, 30] * 10,
    ...                   "plan": ["basic", "premium"] * 20})
    >>> y = ["stay"] * 20 + ["leave"] * 20
    >>> clf = PropensityClassifier(estimator=LogisticRegression(), calibrate=False)
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     _ = clf.fit(X, y)
    >>> clf.classes_.tolist(), str(seen[0].message)[:45]
    (['leave', 'stay'], "PropensityClassifier: ['id'] look like identi")
    >>> clf.features_dropped_
    {'id': 'identifier'}
    >>> clf.predict_proba(X).shape
    (40, 2)
    """

    def __init__(self, *, estimator: Any = None, calibrate: bool = True,
                 class_weight: str | dict[Any, float] | None = None,
                 categorical: str = "auto",
                 screen: bool = True, random_state: int | None = 0) -> None:
        self.estimator = estimator
        self.calibrate = calibrate
        self.class_weight = class_weight
        self.categorical = categorical
        self.screen = screen
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.estimator is None or get_tags(
            self.estimator).input_tags.allow_nan
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.classifier_tags.multi_class = False
        return tags

    def _more_tags(self) -> dict[str, Any]:
        """Return the same tags for scikit-learn 1.5, which reads this method instead."""
        allow_nan = True
        if self.estimator is not None:
            found: dict[str, Any] = getattr(self.estimator, "_get_tags", dict)()
            allow_nan = bool(found.get("allow_nan", False))
        return {"allow_nan": allow_nan, "binary_only": True,
                "X_types": ["2darray", "categorical", "string"]}

    # ------------------------------------------------------------------ input
    def _frame(self, X: Any, *, reset: bool) -> pd.DataFrame:  # noqa: N803
        """Validate ``X`` as scikit-learn does and return it as a DataFrame."""
        if isinstance(X, pd.DataFrame):
            _validate_data(self, X, reset=reset, skip_check_array=True)
            if X.shape[0] == 0:
                raise ValueError("Found array with 0 sample(s) (shape=(0, "
                                 f"{X.shape[1]})) while a minimum of 1 is required.")
            if X.shape[1] == 0:
                raise ValueError(f"Found array with 0 feature(s) (shape=({X.shape[0]}, 0)) "
                                 "while a minimum of 1 is required.")
            frame = X.copy(deep=False)
            frame.columns = [str(c) for c in frame.columns]
            return frame
        arr = _validate_data(self, X, reset=reset, dtype=np.float64, allow_nan=True)
        return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])

    @staticmethod
    def _numeric_text_columns(frame: pd.DataFrame) -> dict[str, pd.Series]:
        """Columns of text that hold numbers, as floats."""
        return {c: s for c in frame.columns if (s := numeric_text(frame[c])) is not None}

    def _typed(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Read the text columns that held numbers in ``fit`` as numbers."""
        return as_numbers(frame, self.numeric_text_, "PropensityClassifier")

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:  # noqa: N803
        """Screen and encode the columns, then fit the (calibrated) estimator.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Features; DataFrame columns are screened and typed, arrays pass as floats.
        y : array-like of shape (n_samples,)
            Two distinct labels of any type.
        sample_weight : array-like of shape (n_samples,), optional
            Row weights, passed to the estimator's ``fit``.

        Returns
        -------
        self
        """
        if y is None:
            raise ValueError("PropensityClassifier requires y to be passed, but the target y "
                             "is None")
        frame = self._frame(X, reset=True)
        y_arr = np.asarray(y)
        if y_arr.ndim == 2 and y_arr.shape[1] == 1:

            from sklearn.exceptions import DataConversionWarning

            warn("A column-vector y was passed when a 1d array was expected.",
                          DataConversionWarning)
            y_arr = y_arr.ravel()
        if y_arr.ndim != 1 or len(y_arr) != len(frame):
            raise ValueError(f"y must be 1-d with one label per row of X, got shape "
                             f"{y_arr.shape} for {len(frame)} rows")
        if y_arr.dtype.kind in "fc":
            assert_all_finite(y_arr, input_name="y")
        check_classification_targets(y_arr)
        classes, codes = np.unique(y_arr, return_inverse=True)
        if len(classes) > 2:
            raise ValueError(
                "Only binary classification is supported by PropensityClassifier; got "
                f"{len(classes)} classes ({type_of_target(y_arr)} target)")
        if len(classes) < 2:
            raise ValueError(f"PropensityClassifier needs 2 classes; y has 1 class only "
                             f"({classes[0]!r})")
        if self.categorical not in ("auto", "native", "onehot"):
            raise InvalidParameterError("PropensityClassifier: categorical must be one of "
                                        f"'auto', 'native', 'onehot', got {self.categorical!r}")
        weights = None if sample_weight is None else self._weights(sample_weight, len(frame))
        # Rows with zero weight teach nothing: the classes must both keep some.
        counts = np.bincount(codes if weights is None else codes[weights > 0], minlength=2)
        if weights is not None and (counts == 0).any():
            raise ValueError(
                "PropensityClassifier needs 2 classes among the rows with positive "
                f"sample_weight; only class {classes[int(np.argmax(counts))]!r} has any")
        text_numbers = self._numeric_text_columns(frame)
        if text_numbers:
            frame = frame.assign(**text_numbers)
        if self.screen and isinstance(X, pd.DataFrame):
            keep, dropped = screen_columns(frame, list(frame.columns), "PropensityClassifier",
                                           y=codes)
            if not keep:
                raise ValueError("no usable feature column (all identifiers, datetimes, "
                                 f"constant or missing): {dropped}")
        else:
            keep, dropped = list(frame.columns), {}
        categories = learn_categories(frame[keep])
        x = design(frame, keep, categories)
        model = self._estimator(keep, categories, int(counts.min()), len(frame),
                                self._class_weight_codes(classes))
        if weights is None:
            model.fit(x, codes)
        else:
            model.fit(x, codes, sample_weight=weights)
        self.classes_ = classes
        self.numeric_text_ = [c for c in text_numbers if c in keep]
        self.features_used_ = keep
        self.features_dropped_ = dropped
        self.categories_ = categories
        self.estimator_ = model
        return self

    @staticmethod
    def _weights(sample_weight: Any, n: int) -> np.ndarray:
        w = np.asarray(sample_weight, dtype=np.float64)
        if w.ndim == 0:
            w = np.full(n, float(w))
        if w.shape != (n,):
            raise ValueError(f"sample_weight.shape == {w.shape}, expected ({n},)!")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError("sample_weight must be finite and non-negative")
        if not (w > 0).any():
            raise ValueError("sample_weight: all weights are zero; at least one row must "
                             "have a positive weight")
        return w

    def _class_weight_codes(self, classes: np.ndarray) -> Any:
        """``class_weight`` as the estimator sees it: a dict keyed by class codes 0/1."""
        if not isinstance(self.class_weight, dict):
            return self.class_weight
        unknown = [k for k in self.class_weight if k not in set(classes.tolist())]
        if unknown:
            raise InvalidParameterError(
                f"PropensityClassifier: class_weight has labels {unknown} that are not in "
                f"y (classes {classes.tolist()})")
        return {code: self.class_weight[label] for code, label in enumerate(classes.tolist())
                if label in self.class_weight}

    def _estimator(self, keep: list[str], categories: dict[str, list[str]],
                   minority: int, n: int, class_weight: Any) -> Any:
        """Return the unfitted estimator for these columns and class counts."""
        numeric = [c for c in keep if c not in categories]
        categorical = [c for c in keep if c in categories]
        if self.estimator is None:
            return default_estimator(numeric, categorical, self.random_state, n_samples=n,
                                     class_weight=class_weight, n_minority=minority)
        base = clone(self.estimator)
        if class_weight is not None:
            if "class_weight" not in base.get_params():
                raise InvalidParameterError(
                    f"class_weight={self.class_weight!r}: {type(base).__name__} takes no "
                    "class_weight; weigh the classes in the estimator itself")
            base.set_params(class_weight=class_weight)
        native = self.categorical == "native" or (
            self.categorical == "auto"
            and base.get_params().get("categorical_features") == "from_dtype")
        if categorical and not native:
            from sklearn.compose import ColumnTransformer
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import OneHotEncoder

            onehot = ColumnTransformer(
                [("onehot", OneHotEncoder(handle_unknown="ignore"), categorical)],
                remainder="passthrough")
            base = WeightedPipeline(make_pipeline(onehot, base).steps)
        if not self.calibrate or minority < 2:
            return base
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.model_selection import StratifiedKFold

        folds = StratifiedKFold(n_splits=min(5, minority), shuffle=True,
                                random_state=self.random_state)
        return CalibratedClassifierCV(base, method="sigmoid", cv=folds)

    @classmethod
    def from_fitted(cls, fitted: Any, *, classes: Sequence[Any], features: Sequence[str],
                    categories: dict[str, list[str]], **params: Any) -> PropensityClassifier:
        """Wrap an estimator already fitted on a design matrix of these columns.

        For model files of earlier releases, which held the estimator and the column
        layout separately: the result predicts exactly as ``fitted`` did on the design
        matrix (no text column is read as a number, as none was then).

        Parameters
        ----------
        fitted : classifier
            Fitted on ``design(frame, features, categories)`` with labels ``classes``.
        classes : sequence
            The two labels, sorted.
        features : sequence of str
            The columns ``fitted`` saw, in order.
        categories : dict
            Levels of each categorical column.
        **params
            Constructor parameters of the wrapper.

        Returns
        -------
        PropensityClassifier

        Examples
        --------
        >>> import pandas as pd
        >>> from sklearn.linear_model import LogisticRegression
        >>> lr = LogisticRegression().fit(pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]}),
        ...                               [0, 0, 1, 1])
        >>> clf = PropensityClassifier.from_fitted(lr, classes=[0, 1], features=["x"],
        ...                                        categories={}, screen=False)
        >>> clf.predict(pd.DataFrame({"x": [0.5, 2.5]})).tolist()
        [0, 1]
        """
        out = cls(**params)
        out.classes_ = np.asarray(classes)
        out.n_features_in_ = len(features)
        out.feature_names_in_ = np.asarray([str(f) for f in features], dtype=object)
        out.numeric_text_ = []
        out.features_used_ = [str(f) for f in features]
        out.features_dropped_ = {}
        out.categories_ = dict(categories)
        out.estimator_ = fitted
        return out

    # ------------------------------------------------------------------ predict
    def _design(self, X: Any) -> pd.DataFrame:  # noqa: N803
        frame = self._typed(self._frame(X, reset=False))
        return design(frame, self.features_used_, self.categories_)

    def design_matrix(self, X: Any) -> pd.DataFrame:  # noqa: N803
        """Return ``X`` as the estimator sees it: screened, typed and encoded.

        The columns ``features_used_`` in order: numbers as floats (text columns of
        numbers read as numbers), categoricals as pandas ``category`` columns with the
        training levels (unseen levels pooled). A given ``estimator`` that reads
        categoricals one-hot gets them encoded inside ``estimator_``.

        Examples
        --------
        >>> import pandas as pd
        >>> from sklearn.linear_model import LogisticRegression
        >>> X = pd.DataFrame({"charges": ["1.5", " ", "3"] * 4,
        ...                   "plan": ["a", "b", "a"] * 4})
        >>> clf = PropensityClassifier(estimator=LogisticRegression(), calibrate=False)
        >>> _ = clf.fit(X, [0, 1, 1] * 4)
        >>> clf.design_matrix(X.head(2)).dtypes.astype(str).tolist()
        ['float64', 'category']
        """
        check_is_fitted(self)
        return self._design(X)

    def predict_proba(self, X: Any) -> np.ndarray:  # noqa: N803
        """Return the probability of each class, columns in ``classes_`` order."""
        check_is_fitted(self)
        proba: np.ndarray = np.asarray(self.estimator_.predict_proba(self._design(X)),
                                       dtype=np.float64)
        return proba

    def decision_function(self, X: Any) -> np.ndarray:  # noqa: N803
        """Return the log-odds of the positive class ``classes_[1]`` (clipped, finite)."""
        check_is_fitted(self)
        return clipped_logit(self.predict_proba(X)[:, 1])

    def predict(self, X: Any) -> np.ndarray:  # noqa: N803
        """Return the more probable label of each row."""
        positive = self.predict_proba(X)[:, 1] > 0.5
        return np.asarray(self.classes_[positive.astype(np.intp)])

    def set_output(self, *, transform: str | None = None) -> Self:
        """Accept ``set_output`` as pipelines call it on every step.

        A classifier's outputs are predictions, not transformed columns, so the
        setting changes nothing here; it is kept so that ``Pipeline.set_output``
        works with this classifier as the final step.
        """
        self._output = transform
        return self


# Model files name the class by its public path, which stays when modules move.
PropensityClassifier.__module__ = "crmmodels.propensity"
WeightedPipeline.__module__ = "crmmodels.propensity"
BlendedClassifier.__module__ = "crmmodels.propensity"
