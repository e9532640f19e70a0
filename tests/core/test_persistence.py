"""Model files: format 2 names models by registry name; old files still load; skops trust."""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.preprocessing import FunctionTransformer

from crmmodels import CRMModel
from crmmodels.cltv import NaiveRateModel
from crmmodels.core import register, unregister
from crmmodels.datasets import load_cdnow_sample
from crmmodels.errors import ModelFormatError, ModelFormatWarning
from crmmodels.propensity import ChurnModel
from crmmodels.segments import ABCModel
from tests.samples import cdnow_churn_sample

DATA = Path(__file__).resolve().parents[1] / "data"


def _saved_versions(name: str) -> dict[str, str]:
    with zipfile.ZipFile(DATA / name) as zf:
        versions: dict[str, str] = json.loads(zf.read("manifest.json"))["versions"]
    return versions


def _minor(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".")[:2])


_SKLEARN_AS_SAVED = _minor(sklearn.__version__) == _minor(
    _saved_versions("churn_format1.zip")["scikit-learn"])
# The committed churn file holds joblib pickles of scikit-learn objects: they unpickle
# only under numpy 2 and the scikit-learn minor version that wrote them.
pickles_as_saved = pytest.mark.skipif(
    not (_SKLEARN_AS_SAVED and int(np.__version__.partition(".")[0]) >= 2),
    reason="the committed format-1 churn file holds pickles written by numpy 2 and "
           f"scikit-learn {_saved_versions('churn_format1.zip')['scikit-learn']}")


def _saved_scores(name: str) -> pd.DataFrame:
    # Regression values: scores the earlier release gave (see tests/data/README.md).
    return pd.read_csv(DATA / name, index_col="customer_id", dtype={"customer_id": str})


def test_format1_abc_file_loads_and_scores_as_before() -> None:
    with zipfile.ZipFile(DATA / "abc_format1.zip") as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["format_version"] == 1
    assert manifest["class"] == "crmmodels._abc:ABCModel"  # a module that no longer exists
    if _SKLEARN_AS_SAVED:
        model = ABCModel.load(DATA / "abc_format1.zip")
    else:  # format 1 did not record whether a file holds scikit-learn sub-models
        with pytest.warns(ModelFormatWarning, match="was saved with scikit-learn"):
            model = ABCModel.load(DATA / "abc_format1.zip")
    assert isinstance(model, ABCModel)
    data = load_cdnow_sample()
    scores = model.score(data)
    expected = _saved_scores("abc_format1_scores.csv")
    pd.testing.assert_frame_equal(scores.reset_index(drop=True)[expected.columns.tolist()]
                                  .astype(expected.dtypes.to_dict()),
                                  expected.reset_index(drop=True), check_exact=False,
                                  rtol=1e-12)
    assert scores.index.astype(str).tolist() == expected.index.tolist()


@pickles_as_saved
def test_format1_churn_file_needs_trust_then_scores_as_before() -> None:
    path = DATA / "churn_format1.zip"
    with pytest.raises(ModelFormatError, match="trusted=True"):
        ChurnModel.load(path)
    with pytest.warns(ModelFormatWarning, match="format-1 model file"):
        model = ChurnModel.load(path, trusted=True)
    data = cdnow_churn_sample()
    scores = model.score(data)
    expected = _saved_scores("churn_format1_scores.csv")
    assert scores.index.astype(str).tolist() == expected.index.tolist()
    np.testing.assert_allclose(scores["churn_probability"], expected["churn_probability"],
                               rtol=1e-12)
    np.testing.assert_array_equal(scores["risk_decile"], expected["risk_decile"])
    np.testing.assert_array_equal(scores["retention_priority"], expected["retention_priority"])


@pickles_as_saved
def test_format1_file_resaved_as_format2_loads_without_trust(tmp_path: Path) -> None:
    with pytest.warns(ModelFormatWarning):
        model = ChurnModel.load(DATA / "churn_format1.zip", trusted=True)
    model.save(tmp_path / "m.zip")
    with zipfile.ZipFile(tmp_path / "m.zip") as zf:
        manifest = json.loads(zf.read("manifest.json"))
        names = zf.namelist()
    assert manifest["format_version"] == 2
    assert manifest["model"] == "churn"
    assert not [n for n in names if n.endswith(".joblib")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = ChurnModel.load(tmp_path / "m.zip")
    data = cdnow_churn_sample()
    pd.testing.assert_frame_equal(again.score(data), model.score(data))


def _rewrite_manifest(src: Path, dst: Path, change: Any) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            blob = zin.read(name)
            if name == "manifest.json":
                manifest = json.loads(blob)
                change(manifest)
                blob = json.dumps(manifest).encode()
            zout.writestr(name, blob)


def test_newer_format_is_refused_older_is_read(tmp_path: Path) -> None:
    data = load_cdnow_sample()
    NaiveRateModel().fit(data).save(tmp_path / "m.zip")
    _rewrite_manifest(tmp_path / "m.zip", tmp_path / "new.zip",
                      lambda m: m.update(format_version=3))
    with pytest.raises(ModelFormatError, match="version 3 is not supported"):
        NaiveRateModel.load(tmp_path / "new.zip")
    _rewrite_manifest(tmp_path / "m.zip", tmp_path / "nomodel.zip",
                      lambda m: m.update(model="no_such_model"))
    with pytest.raises(ModelFormatError, match="'no_such_model' is not available"):
        CRMModel.load(tmp_path / "nomodel.zip")


class _HoldsEstimatorModel(NaiveRateModel):
    """A naive rate model that also keeps a scikit-learn estimator in its state."""

    def _fit(self, data: Any) -> None:
        super()._fit(data)
        self.extra_ = self._make_extra()

    def _make_extra(self) -> Any:
        return FunctionTransformer(np.log1p).fit(np.ones((2, 1)))


class _UntrustedModel(_HoldsEstimatorModel):
    def _make_extra(self) -> Any:
        # os.system is exactly what a malicious file would smuggle in.
        return FunctionTransformer(os.system)


class _TreeModel(_HoldsEstimatorModel):
    def _make_extra(self) -> Any:
        rng = np.random.default_rng(0)
        x = rng.normal(size=(200, 3))
        return HistGradientBoostingClassifier(max_iter=3).fit(x, x[:, 0] > 0)


@pytest.fixture
def _registered() -> Any:
    for klass in (_UntrustedModel, _TreeModel):
        register(f"test_{klass.__name__.lower()}", klass)
    yield
    for klass in (_UntrustedModel, _TreeModel):
        unregister(f"test_{klass.__name__.lower()}")


@pytest.mark.usefixtures("_registered")
def test_untrusted_type_in_a_file_is_refused(tmp_path: Path) -> None:
    data = load_cdnow_sample()
    _UntrustedModel().fit(data).save(tmp_path / "bad.zip")
    with pytest.raises(ModelFormatError, match="does not trust by default") as info:
        CRMModel.load(tmp_path / "bad.zip")
    assert "system" in str(info.value)
    # The caller can trust it explicitly, as with skops.
    loaded = CRMModel.load(tmp_path / "bad.zip", trusted=[f"{os.system.__module__}.system"])
    assert loaded.extra_.func is os.system


@pytest.mark.usefixtures("_registered")
def test_tampered_boosted_tree_is_refused(tmp_path: Path) -> None:
    data = load_cdnow_sample()
    model = _TreeModel().fit(data)
    model.save(tmp_path / "ok.zip")
    assert CRMModel.load(tmp_path / "ok.zip").extra_.n_iter_ == model.extra_.n_iter_
    nodes = model.extra_._predictors[0][0].nodes
    inner = np.flatnonzero(~nodes["is_leaf"].astype(bool))[0]
    nodes["left"][inner] = 10**6  # points far outside the node array
    model.save(tmp_path / "tampered.zip")
    with pytest.raises(ModelFormatError, match="outside its arrays"):
        CRMModel.load(tmp_path / "tampered.zip")


@pytest.mark.usefixtures("_registered")
def test_other_sklearn_minor_version_warns(tmp_path: Path) -> None:
    data = load_cdnow_sample()
    _TreeModel().fit(data).save(tmp_path / "m.zip")

    def older(manifest: dict[str, Any]) -> None:
        manifest["versions"]["scikit-learn"] = "1.0.2"

    _rewrite_manifest(tmp_path / "m.zip", tmp_path / "old.zip", older)
    with pytest.warns(ModelFormatWarning, match="scikit-learn 1.0.2"):
        CRMModel.load(tmp_path / "old.zip")
    # A file without scikit-learn sub-models does not care.
    NaiveRateModel().fit(data).save(tmp_path / "plain.zip")
    _rewrite_manifest(tmp_path / "plain.zip", tmp_path / "plain_old.zip", older)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        NaiveRateModel.load(tmp_path / "plain_old.zip")


@pickles_as_saved
def test_warnings_point_at_the_callers_line() -> None:
    with pytest.warns(ModelFormatWarning) as record:
        ChurnModel.load(DATA / "churn_format1.zip", trusted=True)
    assert record[0].filename == __file__
