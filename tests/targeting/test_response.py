"""ResponseModel on the UCI Bank Marketing data: probabilities, break-even, gains, errors."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from crmmodels import CRMData
from crmmodels.datasets import load_bank_marketing
from crmmodels.errors import (
    DataQualityWarning,
    DataValidationError,
    InvalidParameterError,
    MissingColumnError,
)
from crmmodels.propensity import gains_table
from crmmodels.registry import get_model
from crmmodels.segments import breakeven_response_rate
from crmmodels.targeting import ResponseModel


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    """Return the published table without ``duration`` (known only after the call)."""
    return load_bank_marketing().drop(columns="duration")


@pytest.fixture(scope="module")
def sample(bank: pd.DataFrame) -> pd.DataFrame:
    """3,000 contacts drawn at random (the file is in date order), with an id column."""
    rows = np.sort(np.random.default_rng(0).choice(len(bank), 3000, replace=False))
    out = bank.iloc[rows].reset_index(drop=True)
    out.insert(0, "contact_id", [f"k{i:05d}" for i in rows])
    return out


@pytest.fixture(scope="module")
def fitted(sample: pd.DataFrame) -> ResponseModel:
    """Return the default classifier fitted on the first 2,400 rows of the sample."""
    return ResponseModel(label="y", id="contact_id", cost_per_contact=2.0,
                         net_revenue_per_response=40.0).fit(sample.iloc[:2400])


@pytest.fixture(scope="module")
def numeric(sample: pd.DataFrame) -> pd.DataFrame:
    """Return a small numeric table for fits with a plain logistic regression."""
    return sample[["contact_id", "age", "campaign", "pdays", "previous", "euribor3m",
                   "y"]].iloc[:800]


def _lr_model(**params: object) -> ResponseModel:
    return ResponseModel(estimator=LogisticRegression(max_iter=1000), **params)  # type: ignore[arg-type]


def test_bank_marketing_loader(bank: pd.DataFrame) -> None:
    full = load_bank_marketing()
    assert full.shape == (41188, 21)
    assert int((full["y"] == "yes").sum()) == 4640  # as the PROVENANCE file counts
    assert "duration" in full.columns
    assert "duration" not in bank.columns


def test_scores_are_probabilities_indexed_by_id_in_input_order(
        fitted: ResponseModel, sample: pd.DataFrame) -> None:
    held = sample.iloc[2400:]
    reversed_rows = held.iloc[::-1]
    scores = fitted.score(reversed_rows)
    assert scores.index.name == "id"
    assert scores.index.tolist() == reversed_rows["contact_id"].tolist()
    assert scores.columns.tolist() == ["response_probability", "mail"]
    p = scores["response_probability"]
    assert p.between(0, 1).all()
    # The same rows in another order get the same probabilities.
    pd.testing.assert_series_equal(p.sort_index(), fitted.score(held)[
        "response_probability"].sort_index())
    # Held-out rows are ranked better than chance.
    y = (reversed_rows["y"] == "yes").to_numpy()
    assert roc_auc_score(y, p) > 0.6


def test_mail_is_probability_at_or_above_breakeven(fitted: ResponseModel,
                                                   sample: pd.DataFrame) -> None:
    scores = fitted.score(sample.iloc[2400:])
    assert fitted.breakeven_rate_ == pytest.approx(2.0 / 40.0)
    assert fitted.breakeven_rate_ == breakeven_response_rate(2.0, 40.0)
    expected = scores["response_probability"].to_numpy() >= 2.0 / 40.0
    np.testing.assert_array_equal(scores["mail"].to_numpy(), expected)
    assert 0 < expected.sum() < len(expected)  # the cut separates the customers


def test_without_costs_only_probabilities(numeric: pd.DataFrame) -> None:
    model = _lr_model(label="y", id="contact_id").fit(numeric)
    assert model.score(numeric).columns.tolist() == ["response_probability"]
    assert model.breakeven_rate_ is None


def test_gains_match_gains_table_on_the_scores(fitted: ResponseModel,
                                               sample: pd.DataFrame) -> None:
    held = sample.iloc[2400:]
    table = fitted.gains(held, n_groups=5)
    y = (held["y"] == "yes").astype(int).to_numpy()
    p = fitted.score(held)["response_probability"].to_numpy()
    pd.testing.assert_frame_equal(table, gains_table(y, p, n_groups=5))
    # Brute force: the top fifth by probability holds this many responders.
    top = np.argsort(-p, kind="stable")[:len(p) // 5]
    assert table["positives"].iloc[0] == y[top].sum()
    assert table["lift"].iloc[0] > 1.5


def test_features_are_screened(sample: pd.DataFrame) -> None:
    table = sample[["age", "campaign", "euribor3m", "y"]].iloc[:600].assign(
        row_number=np.arange(600), copy_of_label=lambda f: (f["y"] == "yes").astype(int))
    with pytest.warns(DataQualityWarning) as seen:
        model = _lr_model(label="y").fit(table)
    messages = " ".join(str(w.message) for w in seen)
    assert "row_number" in messages
    assert "copy_of_label" in messages
    assert model.features_dropped_["row_number"] == "identifier"
    assert model.features_dropped_["copy_of_label"].startswith("leaks the label")
    assert model.features_used_ == ["age", "campaign", "euribor3m"]


@pytest.mark.parametrize("encode", [
    lambda s: s == "yes",                                  # bool
    lambda s: (s == "yes").astype(int),                    # 0/1
    lambda s: s.map({"yes": "Y", "no": "N"}),              # Y/N
    lambda s: s.map({"yes": " True", "no": "false"}),      # true/false, spaces, case
])
def test_label_encodings_give_the_same_model(numeric: pd.DataFrame, encode: object) -> None:
    reference = _lr_model(label="y", id="contact_id").fit(numeric).score(numeric)
    other = numeric.assign(y=encode(numeric["y"]))  # type: ignore[operator]
    pd.testing.assert_frame_equal(
        _lr_model(label="y", id="contact_id").fit(other).score(other), reference)


def test_other_two_valued_labels_need_pos_label(numeric: pd.DataFrame) -> None:
    words = numeric.assign(y=numeric["y"].map({"yes": "subscribed", "no": "declined"}))
    with pytest.raises(DataValidationError, match="pos_label="):
        _lr_model(label="y", id="contact_id").fit(words)
    with pytest.raises(DataValidationError, match="not a value"):
        _lr_model(label="y", id="contact_id", pos_label="yes").fit(words)
    reference = _lr_model(label="y", id="contact_id").fit(numeric).score(numeric)
    pd.testing.assert_frame_equal(
        _lr_model(label="y", id="contact_id", pos_label="subscribed").fit(words)
        .score(words), reference)


def test_crmdata_reads_the_customers_frame(numeric: pd.DataFrame) -> None:
    customers = numeric.rename(columns={"contact_id": "customer_id"})
    model = _lr_model(label="y").fit(CRMData(customers=customers))
    scores = model.score(CRMData(customers=customers))
    assert scores.index.name == "customer_id"
    assert scores.index.tolist() == customers["customer_id"].tolist()
    table = _lr_model(label="y", id="contact_id").fit(numeric).score(numeric)
    np.testing.assert_allclose(scores["response_probability"].to_numpy(),
                               table["response_probability"].to_numpy(), rtol=1e-12)
    with pytest.raises(DataValidationError, match="same kind"):
        model.score(customers.set_index("customer_id"))


def test_crmdata_without_a_flat_table_is_refused(cdnow_sample: CRMData) -> None:
    with pytest.raises(DataValidationError, match="flat table") as info:
        ResponseModel().fit(cdnow_sample)
    assert "interactions" in str(info.value)
    campaign = CRMData(interactions=pd.DataFrame({
        "customer_id": ["a", "a", "b"], "timestamp": ["2024-01-01", "2024-01-03",
                                                      "2024-01-01"],
        "channel": ["email", "email", "email"],
        "kind": ["campaign_sent", "response", "campaign_sent"]}))
    with pytest.raises(DataValidationError, match="flat table"):
        ResponseModel().fit(campaign)


def test_bad_data(numeric: pd.DataFrame) -> None:
    model = _lr_model(label="y", id="contact_id")
    with pytest.raises(MissingColumnError) as info:
        _lr_model(label="Y").fit(numeric)
    assert info.value.suggestion == "y"
    with pytest.raises(DataValidationError, match="at least 2 of each"):
        model.fit(numeric.assign(y="no"))
    with pytest.raises(DataValidationError, match="missing for 1 rows"):
        model.fit(numeric.assign(y=numeric["y"].where(numeric.index != 3)))
    with pytest.raises(DataValidationError, match="repeated"):
        model.fit(numeric.assign(contact_id="same"))
    with pytest.raises(DataValidationError, match="must be a DataFrame"):
        model.fit([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="no rows"):
        model.fit(numeric.iloc[:0])
    fitted = model.fit(numeric)
    with pytest.raises(MissingColumnError, match="euribor3m"):
        fitted.score(numeric.drop(columns="euribor3m"))
    # The label and unknown columns are not needed at scoring.
    scores = fitted.score(numeric.drop(columns="y").assign(extra=1.0))
    pd.testing.assert_frame_equal(scores, fitted.score(numeric))


def test_bad_parameters(numeric: pd.DataFrame) -> None:
    with pytest.raises(InvalidParameterError, match="both cost_per_contact"):
        ResponseModel(label="y", cost_per_contact=1.0).fit(numeric)
    with pytest.raises(InvalidParameterError, match="cost_per_contact must be"):
        ResponseModel(label="y", cost_per_contact=0.0, net_revenue_per_response=1.0).fit(
            numeric)
    with pytest.raises(TypeError):
        ResponseModel("y")  # type: ignore[misc]


def test_registered_and_unfitted_errors() -> None:
    assert get_model("response") is ResponseModel
    with pytest.raises(Exception, match="not fitted"):
        ResponseModel().gains(pd.DataFrame({"response": [1]}))


def test_save_load_and_pickle(fitted: ResponseModel, sample: pd.DataFrame,
                              tmp_path: os.PathLike[str]) -> None:
    held = sample.iloc[2400:]
    expected = fitted.score(held)
    path = os.path.join(tmp_path, "response.zip")
    fitted.save(path)
    # Boosting with native categoricals holds a partial of check_array (scikit-learn
    # >= 1.8): the default trusted types load it.
    loaded = ResponseModel.load(path)
    pd.testing.assert_frame_equal(loaded.score(held), expected)
    assert loaded.get_params() == fitted.get_params()
    restored = pickle.loads(pickle.dumps(fitted))
    pd.testing.assert_frame_equal(restored.score(held), expected)


def test_a_partial_of_an_untrusted_function_is_still_refused() -> None:
    import functools

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    from crmmodels.core import TRUSTED_TYPES

    trusted = [*TRUSTED_TYPES,
               "sklearn.preprocessing._function_transformer.FunctionTransformer"]
    bad = FunctionTransformer(functools.partial(os.system, "echo hi"))
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException, match="system"):
        sio.loads(sio.dumps(bad), trusted=trusted)


@pytest.mark.slow
def test_bank_marketing_auc_against_plain_classifiers(bank: pd.DataFrame) -> None:
    """5-fold ROC AUC of the default against boosting and logistic regression on the same folds.

    Measured: default 0.8044, gradient boosting 0.8037, logistic regression 0.7914
    (published comparisons: 0.804 and 0.792); with ``duration`` kept, 0.95.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    y = (bank["y"] == "yes").to_numpy().astype(int)
    x = bank.drop(columns="y")
    text = x.select_dtypes(exclude="number").columns.tolist()
    numbers = x.select_dtypes("number").columns.tolist()
    typed = x.assign(**{c: x[c].astype("category") for c in text})
    auc: dict[str, list[float]] = {"model": [], "boosting": [], "logistic": []}
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(x, y))
    for train, test in folds:
        model = ResponseModel(label="y").fit(bank.iloc[train])
        auc["model"].append(roc_auc_score(
            y[test], model.score(bank.iloc[test])["response_probability"]))
        boosting = HistGradientBoostingClassifier(
            random_state=0, categorical_features="from_dtype").fit(typed.iloc[train], y[train])
        auc["boosting"].append(roc_auc_score(
            y[test], boosting.predict_proba(typed.iloc[test])[:, 1]))
        logistic = make_pipeline(
            ColumnTransformer([("c", OneHotEncoder(handle_unknown="ignore"), text),
                               ("n", StandardScaler(), numbers)]),
            LogisticRegression(max_iter=2000)).fit(x.iloc[train], y[train])
        auc["logistic"].append(roc_auc_score(
            y[test], logistic.predict_proba(x.iloc[test])[:, 1]))
    mean = {k: float(np.mean(v)) for k, v in auc.items()}
    assert mean["model"] >= 0.80
    assert mean["model"] >= mean["logistic"]
    assert mean["model"] >= mean["boosting"] - 0.005
    # Keeping duration, known only once the call has ended: the screen does not catch
    # it (it does not separate the label on its own), and the AUC jumps.
    train, test = folds[0]
    full = load_bank_marketing()
    leaky = ResponseModel(label="y").fit(full.iloc[train])
    assert "duration" in leaky.features_used_
    assert "duration" not in leaky.features_dropped_
    leaky_auc = roc_auc_score(y[test], leaky.score(full.iloc[test])["response_probability"])
    assert leaky_auc > auc["model"][0] + 0.10
