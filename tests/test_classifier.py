"""PropensityClassifier: a real scikit-learn classifier for raw CRM tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import check_estimator

from crmmodels.datasets import dataset_path
from crmmodels.errors import DataQualityWarning
from crmmodels.propensity import PropensityClassifier


def _check_estimator(estimator: object, expected_failed_checks: dict[str, str] | None = None
                     ) -> list[dict[str, object]]:
    """Return every check of ``check_estimator`` as a record.

    scikit-learn 1.6+ returns the records; under 1.5 the generated checks run here.
    """
    try:
        return list(check_estimator(estimator, on_fail=None,
                                    expected_failed_checks=expected_failed_checks))
    except TypeError as exc:  # scikit-learn 1.5: no on_fail
        if "on_fail" not in str(exc):
            raise
    from unittest import SkipTest

    records: list[dict[str, object]] = []
    for est, check in check_estimator(estimator, generate_only=True):
        name = getattr(check, "func", check).__name__
        try:
            check(est)
            status, error = "passed", None
        except SkipTest as skip:
            status, error = "skipped", skip
        except Exception as err:  # each failure is recorded
            expected = name in (expected_failed_checks or {})
            status, error = ("xfail" if expected else "failed"), err
        records.append({"check_name": name, "status": status, "exception": error})
    return records


@pytest.fixture(scope="module")
def telco_raw() -> tuple[pd.DataFrame, pd.Series]:
    """Read the Telco file as users do: customerID kept, TotalCharges text with blanks."""
    raw = pd.read_csv(dataset_path("telco_churn"))
    assert pd.api.types.is_string_dtype(raw["TotalCharges"].dtype)
    assert (raw["TotalCharges"].str.strip() == "").sum() == 11
    return raw.drop(columns="Churn"), raw["Churn"]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
def test_check_estimator_in_full_with_a_plain_estimator() -> None:
    clf = PropensityClassifier(estimator=LogisticRegression(), calibrate=False)
    results = _check_estimator(clf)
    failed = {r["check_name"]: str(r["exception"])[:200] for r in results
              if r["status"] == "failed"}
    assert len(results) > 50
    assert not failed, failed


# The two checks the default blend fails, and why. scikit-learn lists the first for
# both members of the blend itself (HistGradientBoostingClassifier and
# LogisticRegression: "sample_weight is not equivalent to removing/repeating samples");
# here the seeded held-out rows add to it, as a hold-out drawn from repeated rows
# differs from one drawn from weighted rows. The second is a choice: class weights
# shape the members, and the combining layer, fitted unweighted, keeps the
# probabilities calibrated, so extreme weights do not flip the predictions as the
# check expects.
DEFAULT_STACK_EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data":
        "sample_weight is not equivalent to removing/repeating samples (as for "
        "HistGradientBoostingClassifier and LogisticRegression in scikit-learn)",
    "check_class_weight_classifiers":
        "class weights shape the members; the unweighted combiner keeps the "
        "probabilities calibrated",
}


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@pytest.mark.filterwarnings("ignore::crmmodels.errors.DataQualityWarning")
def test_check_estimator_with_the_default_stack() -> None:
    results = _check_estimator(PropensityClassifier(random_state=0),
                               DEFAULT_STACK_EXPECTED_FAILURES)
    status = {r["check_name"]: r["status"] for r in results}
    failed = {name: s for name, s in status.items() if s == "failed"}
    assert len(results) > 50
    assert not failed, failed
    # The expected failures do fail (otherwise the list above is stale).
    assert {status[name] for name in DEFAULT_STACK_EXPECTED_FAILURES} == {"xfail"}


def test_sample_weight_reaches_the_default_stack() -> None:
    rng = np.random.default_rng(4)
    n = 400
    x = pd.DataFrame({"tenure": rng.uniform(0, 72, n),
                      "plan": rng.choice(["basic", "plus"], n)})
    y = (rng.random(n) < 1 / (1 + np.exp((x["tenure"] - 30) / 10))).astype(int)
    plain = PropensityClassifier(random_state=0).fit(x, y)
    ones = PropensityClassifier(random_state=0).fit(x, y, sample_weight=np.ones(n))
    np.testing.assert_allclose(ones.predict_proba(x), plain.predict_proba(x), rtol=1e-12)
    w = np.where(x["plan"] == "basic", 5.0, 1.0)
    weighted = PropensityClassifier(random_state=0).fit(x, y, sample_weight=w)
    assert not np.allclose(weighted.predict_proba(x), plain.predict_proba(x))
    with pytest.raises(ValueError, match="weights are zero"):
        PropensityClassifier(random_state=0).fit(x, y, sample_weight=np.zeros(n))
    with pytest.raises(ValueError, match="2 classes among the rows with positive"):
        PropensityClassifier(random_state=0).fit(x, y, sample_weight=(y == 1).astype(float))


def test_rare_class_sets_the_folds_and_one_row_fits_the_logistic_member() -> None:
    rng = np.random.default_rng(5)
    x = pd.DataFrame({"v": rng.normal(size=60), "w": rng.normal(size=60)})
    y = np.zeros(60, dtype=int)
    y[:3] = 1
    clf = PropensityClassifier(random_state=0).fit(x, y)
    # The combiner's held-out rows: a fifth of each class, one rare row at least.
    held = clf.estimator_.holdout_index_
    assert (y[held] == 1).sum() == 1
    assert (y[held] == 0).sum() == round(0.2 * 57)
    assert clf.estimator_.boosting.early_stopping
    # Early stopping needs two rows of each class in the members' fit (the hold-out
    # of 10% is stratified): with two rare rows, the members see one.
    y[2] = 0
    clf = PropensityClassifier(random_state=0).fit(x, y)
    assert (y[clf.estimator_.holdout_index_] == 1).sum() == 1
    assert not clf.estimator_.boosting.early_stopping
    y1 = np.zeros(60, dtype=int)
    y1[0] = 1
    with pytest.warns(DataQualityWarning, match="fitted alone"):
        alone = PropensityClassifier(random_state=0).fit(x, y1)
    assert type(alone.estimator_).__name__ == "WeightedPipeline"
    assert alone.predict_proba(x).shape == (60, 2)


def test_class_weight_dict_is_keyed_by_the_labels() -> None:
    from crmmodels.errors import InvalidParameterError

    rng = np.random.default_rng(6)
    x = rng.normal(size=(200, 2))
    y = np.where(x[:, 0] + rng.normal(size=200) > 1, "leave", "stay")
    clf = PropensityClassifier(estimator=LogisticRegression(), calibrate=False,
                               class_weight={"leave": 5.0, "stay": 1.0}).fit(x, y)
    reference = LogisticRegression(class_weight={"leave": 5.0, "stay": 1.0}).fit(x, y)
    np.testing.assert_allclose(clf.predict_proba(x), reference.predict_proba(x), rtol=1e-8)
    with pytest.raises(InvalidParameterError, match="not in y"):
        PropensityClassifier(class_weight={"churn": 2.0}).fit(x, y)


def test_labels_follow_scikit_learn_rules() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = np.where(x[:, 0] + rng.normal(size=200) > 0, "yes", "no")
    clf = PropensityClassifier(estimator=LogisticRegression(), calibrate=False).fit(x, y)
    assert clf.classes_.tolist() == ["no", "yes"]
    reference = LogisticRegression().fit(x, y)
    np.testing.assert_allclose(clf.predict_proba(x), reference.predict_proba(x), rtol=1e-10)
    assert (clf.predict(x) == reference.predict(x)).all()
    np.testing.assert_allclose(clf.decision_function(x), reference.decision_function(x),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="Only binary classification"):
        clf.fit(x, np.arange(200) % 3)


def test_screening_reports_what_it_dropped(telco_raw: tuple[pd.DataFrame, pd.Series]) -> None:
    x, y = telco_raw
    before = x.copy(deep=True)
    x = x.assign(signup=pd.Timestamp("2024-01-01"), empty=np.nan, const="a")
    boosting = HistGradientBoostingClassifier(max_iter=20, categorical_features="from_dtype")
    clf = PropensityClassifier(estimator=boosting, calibrate=False)
    with pytest.warns(DataQualityWarning) as seen:
        clf.fit(x, y)
    messages = " ".join(str(w.message) for w in seen)
    assert "['customerID'] look like identifiers" in messages
    assert "['empty'] are missing for every row" in messages
    assert clf.features_dropped_ == {"customerID": "identifier", "signup": "datetime",
                                     "empty": "all missing", "const": "constant"}
    assert "customerID" not in clf.features_used_
    # TotalCharges is text with 11 blanks: read as a number, never dropped or one-hot.
    assert "TotalCharges" in clf.features_used_
    assert "TotalCharges" not in clf.categories_
    assert clf.feature_names_in_.tolist() == list(x.columns)
    pd.testing.assert_frame_equal(telco_raw[0], before)  # the caller's frame is untouched


def test_telco_five_fold_auc(telco_raw: tuple[pd.DataFrame, pd.Series]) -> None:
    x, y = telco_raw
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    aucs = []
    for train, test in folds.split(x, y):
        clf = PropensityClassifier(random_state=0)
        with pytest.warns(DataQualityWarning, match="customerID"):
            clf.fit(x.iloc[train], y.iloc[train])
        p = clf.predict_proba(x.iloc[test])[:, list(clf.classes_).index("Yes")]
        aucs.append(roc_auc_score(y.iloc[test] == "Yes", p))
    # Bar: mean 5-fold ROC AUC >= 0.84 on the raw file (ids and text numbers included);
    # measured 0.8507 here (folds 0.826 to 0.861).
    assert np.mean(aucs) >= 0.84, aucs


def test_pipeline_cross_val_score_and_grid_search(
        telco_raw: tuple[pd.DataFrame, pd.Series]) -> None:
    x, y = telco_raw
    x = x.drop(columns="customerID")
    # A pipeline step before the classifier, scored by scikit-learn's own CV.
    boosting = HistGradientBoostingClassifier(max_iter=50, categorical_features="from_dtype",
                                              random_state=0)
    pipe = make_pipeline(FunctionTransformer(lambda f: f.copy()),
                         PropensityClassifier(estimator=boosting, calibrate=False))
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    scores = cross_val_score(pipe, x, y, cv=folds, scoring="roc_auc")
    assert scores.shape == (3,)
    assert scores.min() > 0.8
    grid = GridSearchCV(
        PropensityClassifier(estimator=boosting, calibrate=False),
        {"class_weight": [None, "balanced"], "estimator__learning_rate": [0.05, 0.3]},
        cv=folds, scoring="roc_auc")
    grid.fit(x, y)
    assert set(grid.best_params_) == {"class_weight", "estimator__learning_rate"}
    best = int(np.argmax(grid.cv_results_["mean_test_score"]))
    assert grid.best_params_ == grid.cv_results_["params"][best]
    assert grid.best_estimator_.classes_.tolist() == ["No", "Yes"]
    assert clone(grid.best_estimator_).get_params()["estimator__learning_rate"] == \
        grid.best_params_["estimator__learning_rate"]


def test_plain_estimator_gets_one_hot_categoricals() -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(1)
    n = 300
    x = pd.DataFrame({"plan": rng.choice(["basic", "plus", "premium"], n),
                      "tenure": rng.integers(1, 72, n).astype(float)})
    y = (rng.random(n) < np.where(x["plan"] == "basic", 0.5, 0.2)).astype(int)
    clf = PropensityClassifier(estimator=LogisticRegression(), calibrate=False).fit(x, y)
    reference = make_pipeline(
        ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore"), ["plan"])],
                          remainder="passthrough"),
        LogisticRegression()).fit(x, y)
    np.testing.assert_allclose(clf.predict_proba(x), reference.predict_proba(x), rtol=1e-8)
    unseen = pd.DataFrame({"plan": ["gold"], "tenure": [10.0]})
    assert clf.predict_proba(unseen).shape == (1, 2)


def test_identifier_warning_points_at_the_callers_line() -> None:
    x = pd.DataFrame({"id": [f"C{i}" for i in range(40)], "v": [1.0, 2.0, 3.0] * 13 + [1.0]})
    y = [0, 1] * 20
    clf = PropensityClassifier(estimator=LogisticRegression(), calibrate=False)
    with pytest.warns(DataQualityWarning) as record:
        clf.fit(x, y)
    assert record[0].filename == __file__


def test_categorical_setting_native_onehot_and_bad_value() -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(2)
    n = 300
    x = pd.DataFrame({"plan": rng.choice(["basic", "plus"], n),
                      "tenure": rng.integers(1, 72, n).astype(float)})
    y = (rng.random(n) < np.where(x["plan"] == "basic", 0.5, 0.2)).astype(int)
    # native: the estimator receives the category column itself.
    seen: list[pd.DataFrame] = []

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        seen.append(frame)
        return frame

    native = make_pipeline(
        FunctionTransformer(keep),
        ColumnTransformer([("onehot", OneHotEncoder(), ["plan"])], remainder="passthrough"),
        LogisticRegression())
    PropensityClassifier(estimator=native, calibrate=False, categorical="native").fit(x, y)
    assert isinstance(seen[0]["plan"].dtype, pd.CategoricalDtype)
    # onehot forces the encoding even for a model that reads categories natively.
    boosting = HistGradientBoostingClassifier(max_iter=10, categorical_features="from_dtype")
    onehot = PropensityClassifier(estimator=boosting, calibrate=False,
                                  categorical="onehot").fit(x, y)
    assert type(onehot.estimator_).__name__ == "WeightedPipeline"
    auto = PropensityClassifier(estimator=boosting, calibrate=False).fit(x, y)
    assert type(auto.estimator_).__name__ == "HistGradientBoostingClassifier"
    with pytest.raises(ValueError, match="categorical must be"):
        PropensityClassifier(estimator=boosting, categorical="dummy").fit(x, y)


def test_numeric_text_is_read_as_in_fit_and_bad_values_are_reported() -> None:
    rng = np.random.default_rng(3)
    n = 200
    charges = rng.uniform(20, 100, n).round(2)
    x = pd.DataFrame({"charges": [f"{v:.2f}" for v in charges], "code": ["7"] * (n - 1) + ["8"]})
    x.loc[:4, "charges"] = " "
    y = (charges + rng.normal(0, 10, n) > 60).astype(int)
    boosting = HistGradientBoostingClassifier(max_iter=10)
    clf = PropensityClassifier(estimator=boosting, calibrate=False).fit(x, y)
    assert clf.numeric_text_ == ["charges", "code"]
    design = clf.design_matrix(x)
    expected = pd.to_numeric(x["charges"].str.strip().replace("", None)).astype(float)
    np.testing.assert_array_equal(design["charges"].to_numpy(), expected.to_numpy())
    # Text that is not a number at prediction becomes missing, and the user hears of it.
    later = x.head(3).assign(charges=["12.5", "n/a", "30"])
    with pytest.warns(DataQualityWarning, match="1 of its values here are not numbers"):
        got = clf.design_matrix(later)["charges"]
    assert got.isna().tolist() == [False, True, False]
    # A column of text in fit stays categorical, even when scoring data looks numeric.
    words = x.assign(code=["a", "b"] * (n // 2))
    clf2 = PropensityClassifier(estimator=boosting, calibrate=False).fit(words, y)
    assert "code" in clf2.categories_
    assert isinstance(clf2.design_matrix(words.assign(code="1"))["code"].dtype,
                      pd.CategoricalDtype)


class _RowCounter(LogisticRegression):  # type: ignore[misc]
    """Logistic regression that records how many rows (and positives) it was fitted on."""

    def fit(self, X: object, y: object, sample_weight: object = None) -> _RowCounter:  # noqa: N803
        self.rows_seen_ = len(np.asarray(y))
        self.positives_seen_ = int(np.asarray(y).sum())
        super().fit(X, y, sample_weight=sample_weight)
        return self


def test_blend_fits_the_logistic_member_on_a_stratified_sample() -> None:
    from crmmodels.propensity import BlendedClassifier

    rng = np.random.default_rng(7)
    x = rng.normal(size=(1000, 2))
    y = (x[:, 0] + rng.normal(size=1000) > 1).astype(int)
    blend = BlendedClassifier(logistic=_RowCounter(), boosting=_RowCounter(),
                              logistic_rows=300).fit(x, y)
    kept = 1000 - len(blend.holdout_index_)
    positives_kept = int(y.sum() - y[blend.holdout_index_].sum())
    assert blend.logistic_.rows_seen_ == pytest.approx(300, abs=1)
    # The same share of each class as in the kept rows.
    assert blend.logistic_.positives_seen_ == round(300 / kept * positives_kept)
    assert blend.boosting_.rows_seen_ == 1000  # refitted on every row
    every = BlendedClassifier(logistic=_RowCounter(), boosting=_RowCounter(),
                              logistic_rows=None).fit(x, y)
    assert every.logistic_.rows_seen_ == kept


def test_blend_without_refit_keeps_the_member_that_scored_the_held_out_rows() -> None:
    from crmmodels.propensity import BlendedClassifier

    rng = np.random.default_rng(8)
    x = rng.normal(size=(1000, 2))
    y = (x[:, 0] + rng.normal(size=1000) > 1).astype(int)
    blend = BlendedClassifier(logistic=_RowCounter(), boosting=_RowCounter(),
                              refit=False).fit(x, y)
    kept = 1000 - len(blend.holdout_index_)
    assert blend.boosting_.rows_seen_ == kept
    # The held-out scores are then exactly what the fitted blend gives those rows.
    held = blend.holdout_index_
    np.testing.assert_allclose(blend.predict_proba(x[held])[:, 1], blend.holdout_score_,
                               rtol=1e-12)
