"""The shared column screen of the tabular models: labels, leakage, identifiers.

Each case is shaped like a real file where the earlier screen let a wrong answer
through: an insurance-claims table whose label is ``fraud_reported`` (Y/N), a
bank-churn table with integer customer numbers, surnames and near-unique postal
codes, text dates, and Telco's text column of charges with blanks.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from crmmodels.errors import (
    DataQualityWarning,
    DataValidationError,
    InvalidParameterError,
    LeakageWarning,
)
from crmmodels.propensity import (
    ChurnModel,
    FraudModel,
    PropensityClassifier,
    identifier_columns,
    screen_columns,
    separation,
)
from crmmodels.propensity._tabular import label_candidates

FAST = HistGradientBoostingClassifier(max_iter=30, categorical_features="from_dtype",
                                      random_state=0)


@pytest.fixture(scope="module")
def claims() -> pd.DataFrame:
    from crmmodels.datasets import load_vehicle_insurance_fraud

    return load_vehicle_insurance_fraud()


def _bank(n: int = 10_000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Build a table shaped like the bank-churn file: ids, surnames, codes, text dates."""
    rng = np.random.default_rng(seed)
    names = np.array([f"Name{i}" for i in range(2932)])
    weights = 1 / np.arange(1, 2933) ** 0.6
    y = rng.random(n) < 0.2
    frame = pd.DataFrame({
        "CustomerId": rng.choice(np.arange(15_565_701, 15_815_690), n, replace=False),
        "RowNumber": np.arange(1, n + 1),
        "Surname": rng.choice(names, n, p=weights / weights.sum()),
        "insured_zip": rng.integers(430_000, 620_000, n),
        "policy_bind_date": pd.Timestamp("2010-01-01").normalize() + pd.to_timedelta(
            rng.integers(0, 5000, n), unit="D"),
        "CreditScore": rng.integers(350, 851, n),
        "Age": rng.integers(18, 93, n),
        "Geography": rng.choice(["France", "Spain", "Germany"], n),
        "Balance": np.round(rng.gamma(2, 40_000, n), 2),
        "TotalCharges": np.where(rng.random(n) < 0.002, " ",
                                 np.round(rng.gamma(2, 1000, n), 2).astype(str)),
    })
    frame["policy_bind_date"] = frame["policy_bind_date"].dt.strftime("%Y-%m-%d")
    return frame, y.astype(int)


def test_identifier_guard_on_a_bank_churn_shaped_table() -> None:
    frame, y = _bank()
    # The surnames: 2,932 names, far more than half the rows share their name.
    counts = frame["Surname"].value_counts()
    assert counts.iloc[:250].sum() < 0.5 * len(frame)
    assert identifier_columns(frame) == ["CustomerId", "RowNumber", "Surname",
                                         "insured_zip", "policy_bind_date"]
    with pytest.warns(DataQualityWarning, match="look like identifiers"):
        keep, dropped = screen_columns(frame, list(frame.columns), "Model", y=y)
    assert dropped == {"CustomerId": "identifier", "RowNumber": "identifier",
                       "Surname": "identifier", "insured_zip": "identifier",
                       "policy_bind_date": "date text"}
    # Text of numbers with blanks is a number column, never an identifier.
    assert keep == ["CreditScore", "Age", "Geography", "Balance", "TotalCharges"]


def test_classifier_reads_text_numbers_and_drops_identifiers() -> None:
    frame, y = _bank(3000)
    clf = PropensityClassifier(estimator=FAST, calibrate=False)
    with pytest.warns(DataQualityWarning, match="identifiers"):
        clf.fit(frame, y)
    assert clf.numeric_text_ == ["TotalCharges"]
    assert set(clf.features_dropped_) == {"CustomerId", "RowNumber", "Surname",
                                          "insured_zip", "policy_bind_date"}


def test_separation_equals_roc_auc() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(500) < 0.3).astype(int)
    v = rng.normal(size=500) + y
    expected = roc_auc_score(y, v)
    assert separation(pd.Series(v), y) == pytest.approx(max(expected, 1 - expected))
    assert separation(pd.Series(-v), y) == pytest.approx(max(expected, 1 - expected))
    # Missing exactly for the positive class: missing values ranked at the top give
    # the positives all the highest ranks.
    masked = pd.Series(np.where(y == 1, np.nan, v))
    assert separation(masked, y) == pytest.approx(1.0)


def test_target_named_and_near_perfect_columns_are_left_out(claims: pd.DataFrame) -> None:
    y = claims["FraudFound_P"].to_numpy()
    rng = np.random.default_rng(3)
    flip = rng.random(len(y)) < 0.002
    table = claims.assign(
        target=y,  # named like a target
        ClaimStatus=np.where(y ^ flip, "investigated", "closed"),  # 0.2% noise
    )
    expected = roc_auc_score(y, (y ^ flip).astype(float))
    with pytest.warns(LeakageWarning, match="give the label away") as seen:
        model = FraudModel(estimator=FAST, label="FraudFound_P", id="PolicyNumber",
                           random_state=0).fit(table)
    assert any("ClaimStatus" in str(w.message) for w in seen)
    dropped = model.features_dropped_
    assert dropped["target"] == "target-like name"
    assert dropped["ClaimStatus"] == f"leaks the label (ROC AUC {expected:.3f} on its own)"
    assert "ClaimStatus" not in model.features_used_
    # The same screen in ChurnModel.
    frame = claims.drop(columns="PolicyNumber").assign(
        churned=y.astype(bool), Exited=y, Status=np.where(y ^ flip, "gone", "here"))
    with pytest.warns(LeakageWarning):
        churn = ChurnModel(estimator=FAST, calibrate=False, random_state=0).fit(frame)
    assert churn.features_dropped_["Exited"] == "target-like name"
    assert churn.features_dropped_["Status"].startswith("leaks the label")


def test_auto_mode_without_the_label_raises_and_suggests(claims: pd.DataFrame) -> None:
    # As in a common insurance-claims file: the label is fraud_reported, Y/N.
    table = claims.rename(columns={"FraudFound_P": "fraud_reported"})
    table["fraud_reported"] = np.where(table["fraud_reported"] == 1, "Y", "N")
    before = table.copy()
    model = FraudModel(id="PolicyNumber", random_state=0)
    with pytest.raises(DataValidationError, match="is_fraud") as err:
        model.fit(table)
    assert "fraud_reported" in str(err.value)
    assert "mode='anomaly'" in str(err.value)
    assert not hasattr(model, "mode_")
    pd.testing.assert_frame_equal(table, before)
    assert label_candidates(table, "is_fraud")[0] == "fraud_reported"
    # With the label named, Y/N is read as the outcome.
    fitted = FraudModel(estimator=FAST, label="fraud_reported", id="PolicyNumber",
                        random_state=0).fit(table)
    assert fitted.mode_ == "supervised"
    assert fitted.base_rate_ == pytest.approx(claims["FraudFound_P"].mean())
    # Anomaly mode runs when asked for, and never feeds a label-like column in.
    with pytest.warns(LeakageWarning, match="fraud_reported"):
        anomaly = FraudModel(mode="anomaly", id="PolicyNumber", random_state=0,
                             label="is_fraud").fit(table.iloc[:2000])
    assert "fraud_reported" not in anomaly.features_used_


def test_churn_and_fraud_share_one_rule(claims: pd.DataFrame) -> None:
    table = claims.iloc[:3000].assign(Notes=np.nan, Region="North")
    with pytest.warns(DataQualityWarning, match="Notes"):
        fraud = FraudModel(estimator=FAST, label="FraudFound_P", id="PolicyNumber",
                           random_state=0).fit(table)
    frame = table.drop(columns="PolicyNumber").rename(columns={"FraudFound_P": "churned"})
    with pytest.warns(DataQualityWarning, match="Notes"):
        churn = ChurnModel(estimator=FAST, calibrate=False, random_state=0).fit(frame)
    assert fraud.features_dropped_ == churn.features_dropped_ == {
        "Notes": "all missing", "Region": "constant", "Year": "constant"}
    assert fraud.features_used_ == churn.features_used_


def test_deprecated_aliases(claims: pd.DataFrame) -> None:
    table = claims.iloc[:2000]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        model = FraudModel(estimator=FAST, label="FraudFound_P", id="PolicyNumber",
                           random_state=0).fit(table)
    with pytest.warns(FutureWarning, match="features_used_"):
        assert model.feature_names_ == model.features_used_
    with pytest.warns(FutureWarning, match="features_dropped_"):
        assert model.excluded_ == model.features_dropped_
    clf = PropensityClassifier(estimator=LogisticRegression(), calibrate=False)
    assert clf.get_params()["screen"] is True


class _ThreadSpy(HistGradientBoostingClassifier):  # type: ignore[misc]
    """Gradient boosting that records the largest thread pool while it fits."""

    def fit(self, X: object, y: object, sample_weight: object = None) -> _ThreadSpy:  # noqa: N803
        from threadpoolctl import threadpool_info

        self.threads_seen_ = max(p["num_threads"] for p in threadpool_info())
        super().fit(X, y, sample_weight=sample_weight)
        return self


def test_n_jobs_bounds_the_thread_pools(claims: pd.DataFrame) -> None:
    table = claims.iloc[:2000]
    spy = _ThreadSpy(max_iter=5, categorical_features="from_dtype", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        fraud = FraudModel(estimator=spy, label="FraudFound_P", id="PolicyNumber",
                           n_jobs=1).fit(table)
        frame = table.drop(columns="PolicyNumber").rename(
            columns={"FraudFound_P": "churned"})
        churn = ChurnModel(estimator=spy, calibrate=False, n_jobs=1).fit(frame)
        wide = ChurnModel(estimator=spy, calibrate=False, n_jobs=2).fit(frame)
        small = ChurnModel(estimator=spy, calibrate=False).fit(frame)
    assert small.estimator_.threads_seen_ == 1  # a small table fits on one thread
    assert fraud.estimator_.estimator_.threads_seen_ == 1
    assert churn.estimator_.threads_seen_ == 1
    assert wide.estimator_.threads_seen_ == 2  # an explicit n_jobs sets the pools exactly
    with pytest.raises(InvalidParameterError, match="n_jobs"):
        ChurnModel(n_jobs=0).fit(frame)


def test_numeric_text_decides_on_every_value_not_on_the_probe() -> None:
    from crmmodels.propensity._tabular import numeric_text

    numbers = [f"{i}.5" for i in range(100)]
    # A word after the first 64 values still makes the column text.
    assert numeric_text(pd.Series([*numbers, "n/a"])) is None
    # Blanks among the probed values are not words.
    got = numeric_text(pd.Series([" ", ""] * 40 + numbers))
    assert got is not None
    assert got.isna().sum() == 80
    assert got.iloc[-1] == 99.5
    assert numeric_text(pd.Series(["x", *numbers])) is None
