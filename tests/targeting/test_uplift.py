"""UpliftModel against known uplift, hand-built learners, scikit-uplift and Hillstrom's test."""

from __future__ import annotations

import os
import pickle
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import skew, spearmanr
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold, train_test_split

from crmmodels import CRMData
from crmmodels.datasets import load_hillstrom, simulate_campaign
from crmmodels.errors import (
    DataQualityWarning,
    DataValidationError,
    InvalidParameterError,
    MissingColumnError,
)
from crmmodels.registry import get_model
from crmmodels.targeting import UpliftModel, make_uplift_scorer, qini_auc

METHODS = ["t_learner", "s_learner", "class_transformation", "x_learner"]
NUMERIC = ["recency", "history", "mens", "womens", "newbie"]
CATEGORICAL = ["zip_code", "channel"]
HILLSTROM_FEATURES = ["recency", "history", "mens", "womens", "zip_code", "newbie", "channel"]


def _lr() -> LogisticRegression:
    return LogisticRegression(C=1.0, max_iter=2000)


def _split(frame: pd.DataFrame, seed: int, treated: Any, outcome: str = "response"
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split 70/30, stratified on treatment x outcome, as the Hillstrom protocol does."""
    strata = 2 * np.asarray(treated, dtype=int) + frame[outcome].to_numpy(dtype=int)
    train, test = train_test_split(np.arange(len(frame)), test_size=0.3, stratify=strata,
                                   random_state=seed)
    return frame.iloc[train], frame.iloc[test]


def _padded(frame: pd.DataFrame) -> pd.DataFrame:
    """Ids whose text order is the row order (the model fits in id order)."""
    out = frame.copy()
    out.index = pd.Index([f"c{i:05d}" for i in range(len(frame))], name="customer_id")
    return out


def _hand_design(train: pd.DataFrame, test: pd.DataFrame
                 ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Build the documented design by hand: log1p(history), one-hot drop-first, scaled."""
    def raw(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[NUMERIC].astype(float)
        out["history"] = np.log1p(out["history"])
        for column in CATEGORICAL:
            levels = sorted(train[column].unique())
            for level in levels[1:]:
                out[f"{column}={level}"] = (frame[column] == level).astype(float)
        return out

    a, b = raw(train), raw(test)
    mean, sd = a.mean(axis=0), a.std(axis=0, ddof=0)
    return ((a - mean) / sd).to_numpy(), ((b - mean) / sd).to_numpy(), list(a.columns)


def _truth_spearman(model: UpliftModel, test: pd.DataFrame) -> float:
    return float(spearmanr(model.score(test)["uplift"], test["true_uplift"]).statistic)


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def campaign() -> tuple[pd.DataFrame, pd.DataFrame]:
    """20,000 simulated customers, half treated, split 70/30 as in the Hillstrom protocol."""
    frame = simulate_campaign(20_000, random_state=0)
    return _split(frame, 0, frame["treatment"])


@pytest.fixture(scope="module")
def default_model(campaign: tuple[pd.DataFrame, pd.DataFrame]) -> UpliftModel:
    train, _ = campaign
    return UpliftModel().fit(train.drop(columns="true_uplift"))


@pytest.fixture(scope="module")
def small() -> tuple[pd.DataFrame, pd.DataFrame]:
    """3,000 simulated customers (30% treated) in id order, split 70/30."""
    frame = _padded(simulate_campaign(3000, treatment_share=0.3, random_state=1))
    return frame.iloc[:2100], frame.iloc[2100:]


@pytest.fixture(scope="module")
def small_models(small: tuple[pd.DataFrame, pd.DataFrame]) -> dict[str, UpliftModel]:
    train, _ = small
    features = train.drop(columns="true_uplift")
    return {m: UpliftModel(method=m).fit(features) for m in METHODS}


@pytest.fixture(scope="module")
def hillstrom() -> pd.DataFrame:
    """Womens E-Mail (treated) and No E-Mail (control) rows, the features and ``visit``."""
    data = load_hillstrom()
    data = data[data["treatment"].isin(["Womens E-Mail", "No E-Mail"])]
    return data[[*HILLSTROM_FEATURES, "treatment", "visit"]].reset_index(drop=True)


@pytest.fixture(scope="module")
def hillstrom_splits(hillstrom: pd.DataFrame) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    treated = hillstrom["treatment"] == "Womens E-Mail"
    return [_split(hillstrom, seed, treated, "visit") for seed in (0, 1, 2)]


def _hillstrom_qini(model: UpliftModel, test: pd.DataFrame) -> float:
    return qini_auc(test["visit"], model.score(test)["uplift"].to_numpy(),
                    test["treatment"] == "Womens E-Mail")


@pytest.fixture(scope="module")
def hillstrom_default_qini(hillstrom_splits: list[tuple[pd.DataFrame, pd.DataFrame]]
                           ) -> list[float]:
    model = UpliftModel(treatment="treatment", outcome="visit", control="No E-Mail")
    return [_hillstrom_qini(clone(model).fit(train), test) for train, test in hillstrom_splits]


# ---------------------------------------------------------------------- simulator
def test_simulated_campaign_truth() -> None:
    frame = simulate_campaign(20_000, random_state=0)
    # Recompute the planted uplift from the features (history is rounded to cents).
    h = np.log(frame["history"])
    p0 = 1 / (1 + np.exp(-(-2.0 + 0.35 * (h - 5) - 0.08 * (frame["recency"] - 6)
                           + 0.2 * frame["womens"] - 0.1 * frame["newbie"]
                           + 0.2 * (frame["channel"] == "Multichannel"))))
    effect = (0.02 + 0.08 * frame["womens"] + 0.04 * (h - 5)
              - 0.008 * (frame["recency"] - 6.5) - 0.04 * frame["newbie"])
    expected = np.clip(p0 + effect, 0.001, 0.999) - p0
    np.testing.assert_allclose(frame["true_uplift"], expected, atol=1e-4)
    assert 0.2 < float((frame["true_uplift"] < 0).mean()) < 0.3  # some are put off
    assert abs(frame["treatment"].mean() - 0.5) < 0.02
    # The response rates follow the truth: treated minus control near the mean uplift.
    rates = frame.groupby("treatment")["response"].mean()
    assert abs((rates[1] - rates[0]) - frame["true_uplift"].mean()) < 0.015
    unequal = simulate_campaign(20_000, treatment_share=0.2, random_state=0)
    assert abs(unequal["treatment"].mean() - 0.2) < 0.01
    two = simulate_campaign(20_000, n_treatments=2, random_state=0)
    shares = two["treatment"].value_counts(normalize=True)
    np.testing.assert_allclose(shares[["no_email", "womens_email", "mens_email"]],
                               [0.5, 0.25, 0.25], atol=0.02)
    with pytest.raises(InvalidParameterError, match="treatment_share"):
        simulate_campaign(10, treatment_share=1.0)
    with pytest.raises(InvalidParameterError, match="n_treatments"):
        simulate_campaign(10, n_treatments=3)


# ---------------------------------------------------------------------- known truth
def test_default_recovers_the_true_uplift(default_model: UpliftModel,
                                          campaign: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, test = campaign
    # Measured 0.943 (FINDINGS-style protocol, seed 0); the bar is 0.85.
    assert _truth_spearman(default_model, test) >= 0.85
    assert default_model.method_ == "t_learner"
    assert default_model.treatment_auc_ is not None
    assert default_model.treatment_auc_ < 0.6


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unequal_shares_every_method(seed: int) -> None:
    """20% treated: every learner ranks held-out customers by their true uplift.

    50,000 customers give the treated group of the training part the 7,000 rows it has
    in the balanced test. Measured (seeds 0, 1, 2): T 0.965/0.940/0.948, S
    0.964/0.937/0.950, class transformation 0.963/0.960/0.921, X 0.974/0.957/0.964.
    """
    frame = simulate_campaign(50_000, treatment_share=0.2, random_state=seed)
    train, test = _split(frame, seed, frame["treatment"])
    features = train.drop(columns="true_uplift")
    for method in METHODS:
        model = UpliftModel(method=method).fit(features)
        assert _truth_spearman(model, test) >= 0.85, method
        assert model.propensity_[1] == pytest.approx(float(train["treatment"].mean()))
    # Without the propensity weights the class transformation ranks by the wrong thing.
    z_train, z_test, _ = _hand_design(train, test)
    t, y = train["treatment"].to_numpy(), train["response"].to_numpy()
    naive = _lr().fit(z_train, (y == t).astype(int)).predict_proba(z_test)[:, 1]
    assert spearmanr(naive, test["true_uplift"]).statistic < 0.5


def test_two_treatments_best_treatment() -> None:
    """The planted best treatment is found for most customers.

    Customers whose two planted effects are within a few points of each other are
    near-ties that no estimate separates reliably (8% are within 0.01, 16% within
    0.02), so the bar is 80% of all held-out customers and 90% of those whose best
    effect is ahead by more than 0.02. Measured: 89.3% and 95.0% (seeds 1 and 2:
    89.5%/95.5%, 90.1%/95.2%).
    """
    frame = simulate_campaign(30_000, n_treatments=2, random_state=0)
    truth_columns = ["true_uplift_womens_email", "true_uplift_mens_email"]
    train, test = _split(frame, 0, frame["treatment"] != "no_email")
    model = UpliftModel(control="no_email").fit(train.drop(columns=truth_columns))
    scores = model.score(test)
    assert scores.columns.tolist() == ["uplift_mens_email", "uplift_womens_email",
                                       "best_treatment"]
    assert model.treatments_ == ["mens_email", "womens_email"]
    truth = test[truth_columns].to_numpy()
    planted = np.where(truth.max(axis=1) > 0,
                       np.array(["womens_email", "mens_email"])[truth.argmax(axis=1)],
                       "no_email")
    best = scores["best_treatment"].to_numpy()
    assert (best == planted).mean() >= 0.80
    clear = np.abs(truth[:, 0] - truth[:, 1]) > 0.02
    assert (best[clear] == planted[clear]).mean() >= 0.90
    # best_treatment is the highest uplift's treatment, or the control when none is > 0.
    u = scores[["uplift_mens_email", "uplift_womens_email"]].to_numpy()
    expected = np.where(u.max(axis=1) > 0,
                        np.array(["mens_email", "womens_email"])[u.argmax(axis=1)],
                        "no_email")
    np.testing.assert_array_equal(best, expected)
    for column, true in zip(["uplift_womens_email", "uplift_mens_email"], truth.T,
                            strict=True):
        assert spearmanr(scores[column], true).statistic >= 0.85


# ---------------------------------------------------------------------- by hand
def test_design_matches_the_documented_one(small_models: dict[str, UpliftModel],
                                           small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, _ = small
    model = small_models["t_learner"]
    skewed = [c for c in NUMERIC if (train[c] >= 0).all() and skew(train[c], bias=False) > 1]
    assert model.log_columns_ == skewed == ["history"]
    _, _, names = _hand_design(train, train)
    assert model.design_columns_ == names
    assert model.features_used_ == [*NUMERIC, *CATEGORICAL]
    assert set(model.features_dropped_) == set()


def test_each_learner_equals_its_hand_built_version(
        small_models: dict[str, UpliftModel], small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, test = small
    z, z_test, _ = _hand_design(train, test)
    t = train["treatment"].to_numpy()
    y = train["response"].to_numpy()
    e = t.mean()

    def p1(model: LogisticRegression, x: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict_proba(x)[:, 1])

    control, treated = _lr().fit(z[t == 0], y[t == 0]), _lr().fit(z[t == 1], y[t == 1])
    expected = {"t_learner": p1(treated, z_test) - p1(control, z_test)}
    one = _lr().fit(np.hstack([z, t[:, None], z * t[:, None]]), y)
    n = len(z_test)
    expected["s_learner"] = (
        p1(one, np.hstack([z_test, np.ones((n, 1)), z_test]))
        - p1(one, np.hstack([z_test, np.zeros((n, 1)), np.zeros_like(z_test)])))
    weight = np.where(t == 1, 1 / (2 * e), 1 / (2 * (1 - e)))
    ct = _lr().fit(z, (y == t).astype(int), sample_weight=weight)
    expected["class_transformation"] = 2 * p1(ct, z_test) - 1
    tau1 = Ridge(alpha=1.0).fit(z[t == 1], y[t == 1] - p1(control, z[t == 1]))
    tau0 = Ridge(alpha=1.0).fit(z[t == 0], p1(treated, z[t == 0]) - y[t == 0])
    expected["x_learner"] = e * tau0.predict(z_test) + (1 - e) * tau1.predict(z_test)
    for method, model in small_models.items():
        scores = model.score(test)
        np.testing.assert_allclose(scores["uplift"], expected[method], atol=1e-9,
                                   err_msg=method)
    for method in ("t_learner", "s_learner"):
        scores = small_models[method].score(test)
        np.testing.assert_allclose(scores["p_treated"] - scores["p_control"],
                                   scores["uplift"], atol=1e-15)
    np.testing.assert_allclose(small_models["t_learner"].score(test)["p_control"],
                               p1(control, z_test), atol=1e-9)
    assert small_models["class_transformation"].score(test).columns.tolist() == ["uplift"]
    assert small_models["x_learner"].score(test).columns.tolist() == ["uplift"]


def test_known_propensity_column_sets_the_weights(small: tuple[pd.DataFrame, pd.DataFrame]
                                                  ) -> None:
    train, test = small
    e = np.where(train["recency"] > 6, 0.25, 0.35)
    with_e = train.drop(columns="true_uplift").assign(p_assign=e)
    model = UpliftModel(method="class_transformation", propensity="p_assign").fit(with_e)
    assert "p_assign" not in model.features_used_
    assert model.treatment_auc_ is None
    z, z_test, _ = _hand_design(train, test)
    t, y = train["treatment"].to_numpy(), train["response"].to_numpy()
    weight = np.where(t == 1, 1 / (2 * e), 1 / (2 * (1 - e)))
    ct = _lr().fit(z, (y == t).astype(int), sample_weight=weight)
    np.testing.assert_allclose(model.score(test)["uplift"],
                               2 * ct.predict_proba(z_test)[:, 1] - 1, atol=1e-9)
    x_model = UpliftModel(method="x_learner", propensity="p_assign").fit(with_e)
    assert x_model.propensity_[1] == pytest.approx(float(e.mean()))
    with pytest.raises(DataValidationError, match=r"probabilities in \(0, 1\)"):
        UpliftModel(propensity="p_assign").fit(with_e.assign(p_assign=1.0))


@pytest.mark.reference
def test_learners_equal_scikit_uplift_on_balanced_data(
        small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """TwoModels, SoloModel(treatment_interaction) and ClassTransformation on our design."""
    models = pytest.importorskip("sklift.models")
    train, test = small
    # Equal groups: the class transformation's weights are then exactly 1.
    keep = pd.concat([train[train["treatment"] == 1],
                      train[train["treatment"] == 0].iloc[:int(train["treatment"].sum())]]
                     ).sort_index()
    assert keep["treatment"].mean() == 0.5
    z, z_test, _ = _hand_design(keep, test)
    t, y = keep["treatment"].to_numpy(), keep["response"].to_numpy()
    features = keep.drop(columns="true_uplift")
    reference = {
        "t_learner": models.TwoModels(_lr(), _lr(), method="vanilla"),
        "s_learner": models.SoloModel(_lr(), method="treatment_interaction"),
        "class_transformation": models.ClassTransformation(_lr()),
    }
    for method, other in reference.items():
        ours = UpliftModel(method=method).fit(features).score(test)["uplift"]
        theirs = other.fit(z, y, t).predict(z_test)
        # The S-learner's columns come in another order, so lbfgs stops elsewhere
        # within its tolerance.
        np.testing.assert_allclose(ours, theirs, atol=1e-9 if method != "s_learner"
                                   else 1e-4, err_msg=method)


# ---------------------------------------------------------------------- Hillstrom
def test_hillstrom_loader() -> None:
    data = load_hillstrom()
    assert data.shape == (64_000, 12)
    assert data["treatment"].value_counts().to_dict() == {
        "Womens E-Mail": 21_387, "Mens E-Mail": 21_307, "No E-Mail": 21_306}
    assert round(float(data["visit"].mean()), 6) == 0.146781


@pytest.mark.xfail(strict=True, reason="Hillstrom Qini bar 0.070: the default selected on "
                   "training data only measures 0.0682 (seeds 0, 1, 2: 0.0711, 0.0741, "
                   "0.0594); one 30% test part has a bootstrap SE of about 0.015")
def test_hillstrom_qini_reaches_0_070(hillstrom_default_qini: list[float]) -> None:
    assert np.mean(hillstrom_default_qini) >= 0.070


@pytest.mark.reference
def test_hillstrom_default_matches_scikit_uplift_class_transformation(
        hillstrom_splits: list[tuple[pd.DataFrame, pd.DataFrame]],
        hillstrom_default_qini: list[float]) -> None:
    """The default's mean Qini is within 0.003 of scikit-uplift's CT + logistic regression.

    Measured: default 0.0711, 0.0741, 0.0594 (mean 0.0682); scikit-uplift
    ClassTransformation(LogisticRegression(max_iter=10000)) on one-hot features
    0.0659, 0.0788, 0.0601 (mean 0.0683).
    """
    models = pytest.importorskip("sklift.models")
    theirs = []
    for train, test in hillstrom_splits:
        x = pd.get_dummies(pd.concat([train, test])[HILLSTROM_FEATURES],
                           columns=CATEGORICAL, dtype=float)
        treated = (train["treatment"] == "Womens E-Mail").to_numpy(dtype=int)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, module="sklift")
            ct = models.ClassTransformation(LogisticRegression(max_iter=10_000)).fit(
                x.iloc[:len(train)], train["visit"].to_numpy(), treated)
            uplift = ct.predict(x.iloc[len(train):])
        theirs.append(qini_auc(test["visit"], uplift, test["treatment"] == "Womens E-Mail"))
    assert abs(np.mean(hillstrom_default_qini) - np.mean(theirs)) <= 0.003
    # Regression values (this model's own output on the protocol's splits).
    np.testing.assert_allclose(hillstrom_default_qini, [0.0711, 0.0741, 0.0594], atol=1e-4)


def test_hillstrom_every_learner_beats_random_targeting(
        hillstrom_splits: list[tuple[pd.DataFrame, pd.DataFrame]]) -> None:
    """Mean Qini of each learner (measured: T 0.0682, S 0.0687, CT 0.0695, X 0.0670)."""
    for method in METHODS:
        model = UpliftModel(treatment="treatment", outcome="visit", control="No E-Mail",
                            method=method)
        qini = [_hillstrom_qini(clone(model).fit(train), test)
                for train, test in hillstrom_splits]
        assert np.mean(qini) > 0.05, method


# ---------------------------------------------------------------------- scoring
def test_scores_in_input_order_indexed_by_id(default_model: UpliftModel,
                                             campaign: tuple[pd.DataFrame, pd.DataFrame]
                                             ) -> None:
    _, test = campaign
    rows = test.iloc[:50].iloc[::-1]
    scores = default_model.score(rows.drop(columns=["treatment", "response"]))
    assert scores.index.name == "id"
    assert scores.index.tolist() == rows.index.tolist()
    assert scores.columns.tolist() == ["uplift", "p_treated", "p_control"]
    with_id = rows.reset_index()
    by_id = UpliftModel(id="customer_id").fit(
        campaign[0].reset_index().drop(columns="true_uplift")).score(with_id)
    assert by_id.index.tolist() == with_id["customer_id"].tolist()
    np.testing.assert_allclose(by_id["uplift"], scores["uplift"], atol=1e-12)
    customers = CRMData(customers=campaign[0].reset_index().drop(columns="true_uplift"))
    from_crmdata = UpliftModel().fit(customers).score(CRMData(customers=with_id))
    assert from_crmdata.index.name == "customer_id"
    np.testing.assert_allclose(from_crmdata["uplift"], scores["uplift"], atol=1e-12)


def test_unseen_levels_and_missing_values(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, test = small
    history = train["history"].where(np.arange(len(train)) % 10 != 0)
    model = UpliftModel().fit(train.drop(columns="true_uplift").assign(history=history))
    assert "history_missing" in model.design_columns_
    scores = model.score(test.assign(history=np.nan))
    assert scores["uplift"].notna().all()
    odd = test.iloc[:3].assign(zip_code="Mars")
    with pytest.warns(DataQualityWarning, match="did not have"):
        unseen = model.score(odd)
    reference = model.score(test.iloc[:3].assign(zip_code="Rural"))  # the first level
    pd.testing.assert_frame_equal(unseen, reference)
    with pytest.warns(DataQualityWarning, match="miss 'zip_code'"):
        missing = model.score(test.iloc[:3].assign(zip_code=None))
    pd.testing.assert_frame_equal(missing, reference)
    # Training rows with missing values give them a level of their own: no warning.
    gaps = train["zip_code"].where(np.arange(len(train)) % 7 != 0)
    pooled = UpliftModel().fit(train.drop(columns="true_uplift").assign(zip_code=gaps))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        as_missing = pooled.score(test.iloc[:3].assign(zip_code=None))
    with pytest.warns(DataQualityWarning, match="scored as the level '\\(missing\\)'"):
        odd_pooled = pooled.score(odd)
    pd.testing.assert_frame_equal(odd_pooled, as_missing)


def test_grid_search_with_the_uplift_scorer(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, _ = small
    data = train.drop(columns="true_uplift")
    search = GridSearchCV(UpliftModel(), {"method": ["t_learner", "class_transformation"]},
                          scoring=make_uplift_scorer(), cv=KFold(3))
    search.fit(data)
    assert search.best_params_["method"] in ("t_learner", "class_transformation")
    assert search.best_estimator_.method == search.best_params_["method"]
    # Each fold's score recomputed by hand.
    for i, method in enumerate(search.cv_results_["param_method"]):
        for fold, (a, b) in enumerate(KFold(3).split(data)):
            held = data.iloc[b]
            u = UpliftModel(method=method).fit(data.iloc[a]).score(held)["uplift"]
            assert search.cv_results_[f"split{fold}_test_score"][i] == pytest.approx(
                qini_auc(held["response"], u.to_numpy(), held["treatment"]), abs=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_save_load_and_pickle(method: str, small_models: dict[str, UpliftModel],
                              small: tuple[pd.DataFrame, pd.DataFrame],
                              tmp_path: os.PathLike[str]) -> None:
    _, test = small
    model = small_models[method]
    expected = model.score(test)
    path = os.path.join(tmp_path, "uplift.zip")
    model.save(path)
    pd.testing.assert_frame_equal(UpliftModel.load(path).score(test), expected)
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(model)).score(test), expected)


def test_two_treatments_save_load(tmp_path: os.PathLike[str]) -> None:
    frame = simulate_campaign(3000, n_treatments=2, random_state=2)
    data = frame.drop(columns=["true_uplift_womens_email", "true_uplift_mens_email"])
    model = UpliftModel(method="s_learner", control="no_email").fit(data)
    path = os.path.join(tmp_path, "uplift.zip")
    model.save(path)
    pd.testing.assert_frame_equal(UpliftModel.load(path).score(data), model.score(data))


# ---------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def bad() -> pd.DataFrame:
    return _padded(simulate_campaign(1200, random_state=3)).drop(columns="true_uplift")


def test_treatment_problems(bad: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match="no control row"):
        UpliftModel().fit(bad.assign(treatment=1))
    with pytest.raises(DataValidationError, match="one value"):
        UpliftModel().fit(bad.assign(treatment=0))
    named = bad.assign(treatment=np.where(bad["treatment"] == 1, "mail", "none"))
    with pytest.raises(DataValidationError, match="control="):
        UpliftModel().fit(named)
    with pytest.raises(DataValidationError, match="not a value"):
        UpliftModel(control="nothing").fit(named)
    with pytest.raises(DataValidationError, match="one value"):
        UpliftModel(control="none").fit(named.assign(treatment="none"))
    with pytest.raises(DataValidationError, match="missing for 1 rows"):
        UpliftModel().fit(bad.assign(treatment=bad["treatment"].where(
            np.arange(len(bad)) != 5)))
    ok = UpliftModel(control="none").fit(named)
    assert (ok.control_, ok.treatments_) == ("none", ["mail"])
    flags = UpliftModel().fit(bad.assign(treatment=bad["treatment"] == 1))
    assert (flags.control_, flags.treatments_) == (False, [True])


def test_outcome_with_one_class_in_a_group(bad: pd.DataFrame) -> None:
    silent = bad.assign(response=np.where(bad["treatment"] == 1, 0, bad["response"]))
    with pytest.raises(DataValidationError, match="one class in the treatment group"):
        UpliftModel().fit(silent)
    with pytest.raises(DataValidationError, match="pos_label="):
        UpliftModel().fit(bad.assign(response=np.where(bad["response"] == 1, "buy", "no")))
    words = bad.assign(response=np.where(bad["response"] == 1, "bought", "ignored"))
    pd.testing.assert_frame_equal(
        UpliftModel(pos_label="bought").fit(words).score(bad),
        UpliftModel().fit(bad).score(bad))


def test_non_randomised_treatment_warns(bad: pd.DataFrame) -> None:
    rng = np.random.default_rng(0)
    biased = bad.assign(treatment=(rng.random(len(bad)) < np.where(
        bad["history"] > bad["history"].median(), 0.8, 0.2)).astype(int))
    with pytest.warns(DataQualityWarning, match=r"ROC AUC 0\.\d+ > 0.6") as seen:
        model = UpliftModel().fit(biased)
    assert model.treatment_auc_ is not None
    assert model.treatment_auc_ > 0.65
    assert f"{model.treatment_auc_:.3f}" in str(seen[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert UpliftModel().fit(bad).treatment_auc_ < 0.6  # type: ignore[operator]


def test_features_are_screened(bad: pd.DataFrame) -> None:
    extra = bad.assign(row_number=np.arange(len(bad)),
                       signup=pd.Timestamp("2024-01-01") + pd.to_timedelta(
                           np.arange(len(bad)), unit="D"),
                       p_assign=0.5)
    with pytest.warns(DataQualityWarning, match="row_number"):
        model = UpliftModel(propensity="p_assign").fit(extra)
    assert model.features_dropped_ == {"row_number": "identifier", "signup": "datetime"}
    assert model.features_used_ == [*NUMERIC, *CATEGORICAL]
    # Scoring needs only the features used.
    pd.testing.assert_frame_equal(model.score(bad[[*NUMERIC, *CATEGORICAL]]),
                                  model.score(extra))


def test_missing_columns_suggest_names(bad: pd.DataFrame) -> None:
    with pytest.raises(MissingColumnError) as info:
        UpliftModel(treatment="Treatment").fit(bad)
    assert info.value.suggestion == "treatment"
    with pytest.raises(MissingColumnError) as info:
        UpliftModel(outcome="responses").fit(bad)
    assert info.value.suggestion == "response"
    with pytest.raises(MissingColumnError, match="p_assign"):
        UpliftModel(propensity="p_assign").fit(bad)
    with pytest.raises(MissingColumnError, match="customer_id"):
        UpliftModel(id="customer_id").fit(bad)
    model = UpliftModel().fit(bad)
    with pytest.raises(MissingColumnError, match="recency"):
        model.score(bad.drop(columns="recency"))


def test_bad_parameters_and_frames(bad: pd.DataFrame, cdnow_sample: CRMData) -> None:
    with pytest.raises(InvalidParameterError, match="name the same column"):
        UpliftModel(treatment="response").fit(bad)
    with pytest.raises(InvalidParameterError, match="method must be"):
        UpliftModel(method="r_learner").fit(bad)
    with pytest.raises(TypeError):
        UpliftModel("treatment")  # type: ignore[misc]
    with pytest.raises(DataValidationError, match="flat table"):
        UpliftModel().fit(cdnow_sample)
    two = simulate_campaign(1500, n_treatments=2, random_state=0).drop(
        columns=["true_uplift_womens_email", "true_uplift_mens_email"])
    with pytest.raises(DataValidationError, match="one treatment"):
        UpliftModel(control="no_email", propensity="p").fit(two.assign(p=0.25))
    assert get_model("uplift") is UpliftModel
