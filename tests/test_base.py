"""CRMModel base behaviour: parameters, fitting state, output contract, persistence."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.linear_model import LogisticRegression

from crmmodels import CRMData, CRMModel, Model, NaiveRateModel
from crmmodels.core import ParamRule, register, unregister
from crmmodels.errors import (
    DataValidationError,
    InvalidParameterError,
    ModelFormatError,
    NotFittedError,
)


class _BrokenOutputModel(CRMModel):
    _score_columns: ClassVar[tuple[str, ...]] = ("value",)

    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode

    def _fit(self, data: Any) -> None:
        self.n_ = 1

    def _score(self, data: Any) -> pd.DataFrame:
        idx = pd.Index(["a"], name="customer_id")
        if self.mode == "index":
            return pd.DataFrame({"value": [1.0]}, index=pd.Index(["a"], name="id"))
        if self.mode == "columns":
            return pd.DataFrame({"other": [1.0]}, index=idx)
        if self.mode == "type":
            return pd.Series([1.0], index=idx)  # type: ignore[return-value]
        return pd.DataFrame({"value": [1.0]}, index=idx)


class _RichStateModel(CRMModel):
    """Keeps every kind of state the file format supports."""

    _score_columns: ClassVar[tuple[str, ...]] = ("value",)
    _param_rules: ClassVar[dict[str, ParamRule]] = {"k": (lambda v: v > 0, "k > 0")}

    def __init__(self, k: int = 2, weights: dict[str, float] | None = None) -> None:
        self.k = k
        self.weights = weights

    def _fit(self, data: CRMData) -> None:
        tx = data.transactions
        assert tx is not None
        self.table_ = tx.groupby("customer_id")["amount"].agg(["sum", "count"])
        self.series_ = pd.Series([0.1, 1 / 3, np.nan], index=["r", "alpha", "b"], name="v")
        self.array_ = np.arange(6, dtype=np.int64).reshape(2, 3)
        self.strings_ = np.array(["x", "y"], dtype=object)
        self.when_ = pd.Timestamp("2024-01-02 03:04:05")
        self.nested_ = {"a": [1, 2.5, None], "b": (True, "t"), 3: frozenset({"p", "q"})}
        self.scalar_ = np.float64(0.1) + np.float64(0.2)
        self.inf_ = float("inf")
        self.cat_ = pd.Series(pd.Categorical(["lo", "hi", "lo"], categories=["lo", "hi"],
                                             ordered=True), index=["x", "y", "z"], name="c")
        self.mi_ = pd.DataFrame({"v": [1.0, 2.0]}, index=pd.MultiIndex.from_tuples(
            [("a", 1), ("b", 2)], names=["seg", "k"]))
        self.gap_ = pd.Timedelta(days=3, hours=2)
        x = self.table_[["sum", "count"]].to_numpy()
        self.clf_ = LogisticRegression().fit(x, (x[:, 0] > np.median(x[:, 0])).astype(int))
        self.sub_ = NaiveRateModel(horizon=3).fit(data)

    def _score(self, data: CRMData) -> pd.DataFrame:
        return pd.DataFrame({"value": self.table_["sum"] * self.k})


def test_model_protocol_and_sklearn_conventions(tx: pd.DataFrame) -> None:
    model = NaiveRateModel(horizon=10, freq="D")
    assert isinstance(model, Model)
    assert model.get_params() == {"horizon": 10, "freq": "D"}
    assert model.set_params(horizon=5) is model
    assert clone(model).get_params() == {"horizon": 5, "freq": "D"}
    with pytest.raises(NotFittedError) as info:
        model.score(tx)
    assert isinstance(info.value, SklearnNotFittedError)
    assert model.fit(tx) is model
    assert hasattr(model, "params_")
    assert "NaiveRateModel(freq='D', horizon=5)" in repr(model)


def test_invalid_parameters_raise_at_fit(tx: pd.DataFrame) -> None:
    with pytest.raises(InvalidParameterError,
                       match=r"NaiveRateModel: horizon must be a number in \(0, inf\), got -1"):
        NaiveRateModel(horizon=-1).fit(tx)
    with pytest.raises(InvalidParameterError, match="freq"):
        NaiveRateModel(freq="Q").fit(tx)
    with pytest.raises(InvalidParameterError):
        _RichStateModel(k="x").fit(tx)  # type: ignore[arg-type]


def test_output_contract_is_enforced(tx: pd.DataFrame) -> None:
    assert _BrokenOutputModel("ok").fit(tx).score(tx).index.name == "customer_id"
    for mode, msg in [("index", "index 'id'"), ("columns", "columns"), ("type", "DataFrame")]:
        model = _BrokenOutputModel(mode).fit(tx)
        with pytest.raises(TypeError, match=msg):
            model.score(tx)


def test_refit_forgets_old_state(tx: pd.DataFrame) -> None:
    model = NaiveRateModel().fit(tx)
    model.extra_ = 1
    model.fit(tx)
    assert not hasattr(model, "extra_")


def test_summary_input_only_where_accepted(tx: pd.DataFrame) -> None:
    summary = pd.DataFrame({"frequency": [1, 0], "recency": [3.0, 0.0], "T": [5.0, 4.0]},
                           index=pd.Index(["a", "b"], name="customer_id"))
    scores = NaiveRateModel(horizon=2).fit(summary).score(summary)
    assert scores.index.tolist() == ["a", "b"]
    with pytest.raises(DataValidationError, match="not a per-customer summary"):
        _BrokenOutputModel().fit(summary)
    with pytest.raises(DataValidationError):
        NaiveRateModel().fit(np.zeros((3, 3)))  # type: ignore[arg-type]


def test_single_customer_gets_a_clear_error(tx: pd.DataFrame) -> None:
    one = CRMData(transactions=tx[tx["customer_id"] == "c"])
    with pytest.raises(DataValidationError, match="at least 2 customers") as info:
        NaiveRateModel().fit(one)
    assert info.value.rule == "min_customers"


@pytest.fixture
def _registered() -> Any:
    register("test_rich_state", _RichStateModel)
    yield
    unregister("test_rich_state")


@pytest.mark.usefixtures("_registered")
def test_save_load_round_trip_is_exact(tx: pd.DataFrame, tmp_path: Path) -> None:
    model = _RichStateModel(k=3, weights={"a": 0.5}).fit(tx)
    path = tmp_path / "rich.zip"
    model.save(path)
    loaded = _RichStateModel.load(path)
    assert loaded.get_params() == model.get_params()
    pd.testing.assert_frame_equal(loaded.table_, model.table_)
    pd.testing.assert_series_equal(loaded.series_, model.series_)
    np.testing.assert_array_equal(loaded.array_, model.array_)
    assert loaded.array_.dtype == np.int64
    assert loaded.strings_.tolist() == ["x", "y"]
    assert loaded.when_ == model.when_
    assert loaded.nested_ == model.nested_
    assert loaded.scalar_ == model.scalar_
    assert isinstance(loaded.scalar_, np.float64)
    assert loaded.inf_ == float("inf")
    pd.testing.assert_series_equal(loaded.cat_, model.cat_)
    pd.testing.assert_frame_equal(loaded.mi_, model.mi_)
    assert loaded.gap_ == model.gap_
    np.testing.assert_array_equal(loaded.clf_.coef_, model.clf_.coef_)
    pd.testing.assert_series_equal(loaded.sub_.params_, model.sub_.params_)
    pd.testing.assert_frame_equal(loaded.score(tx), model.score(tx))
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        names = set(zf.namelist())
    assert manifest["format"] == "crmmodels-model"
    # the registry name, never a module path
    assert manifest["model"] == "test_rich_state"
    assert manifest["format_version"] == 2
    assert "class" not in manifest
    assert "_RichStateModel" not in json.dumps(manifest)
    assert {"crmmodels", "numpy", "pandas", "scikit-learn"} <= set(manifest["versions"])
    # skops only for the scikit-learn sub-model, no pickle
    assert sorted(n for n in names if n not in ("manifest.json", "arrays.npz")) == ["b0.skops"]


@pytest.mark.usefixtures("_registered")
def test_load_refuses_other_classes_and_files(tx: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "m.zip"
    NaiveRateModel().fit(tx).save(path)
    with pytest.raises(ModelFormatError, match="holds a NaiveRateModel"):
        _RichStateModel.load(path)
    assert isinstance(CRMModel.load(path), NaiveRateModel)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "something-else"}))
        zf.writestr("arrays.npz", b"")
    with pytest.raises(ModelFormatError, match="not a crmmodels model file"):
        NaiveRateModel.load(other)
    text = tmp_path / "t.zip"
    text.write_text("hello")
    with pytest.raises(ModelFormatError):
        NaiveRateModel.load(text)
    future = tmp_path / "future.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(future, "w") as dst:
        manifest = json.loads(src.read("manifest.json"))
        manifest["format_version"] = 99
        dst.writestr("manifest.json", json.dumps(manifest))
        dst.writestr("arrays.npz", src.read("arrays.npz"))
    with pytest.raises(ModelFormatError, match="version 99"):
        NaiveRateModel.load(future)
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(damaged, "w") as dst:
        manifest = json.loads(src.read("manifest.json"))
        del manifest["model"]
        dst.writestr("manifest.json", json.dumps(manifest))
        dst.writestr("arrays.npz", src.read("arrays.npz"))
    with pytest.raises(ModelFormatError, match="damaged"):
        NaiveRateModel.load(damaged)


def test_unsaveable_state_is_refused(tx: pd.DataFrame, tmp_path: Path) -> None:
    model = NaiveRateModel().fit(tx)
    model.callback_ = lambda x: x
    with pytest.raises(ModelFormatError, match="function"):
        model.save(tmp_path / "x.zip")


def test_unregistered_model_cannot_be_saved(tx: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError, match="not a registered model"):
        _RichStateModel().fit(tx).save(tmp_path / "x.zip")


def test_pickle_round_trip(tx: pd.DataFrame) -> None:
    model = _RichStateModel().fit(tx)
    again = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(again.score(tx), model.score(tx))
