"""Zip file format of saved models: a JSON manifest, an ``.npz`` of arrays, skops blobs.

Format 2 (written from crmmodels 0.1 on):

* ``manifest.json`` names the model by its registry name (``"model": "rfm"``), never
  by a Python module path, so files keep loading when classes move; it records the
  format version and the crmmodels, scikit-learn, numpy, pandas and Python versions,
  the hyper-parameters and the learned state;
* values are encoded recursively: JSON scalars stay JSON (floats round-trip exactly,
  ``NaN``/``inf`` included); numpy arrays go to ``arrays.npz`` (read with
  ``allow_pickle=False``); pandas Series, Index and DataFrame are stored as their
  arrays plus labels; nested crmmodels models by their registry name;
* scikit-learn sub-models are stored with skops, which loads only the types it is
  told to trust: scikit-learn's own estimators plus :data:`TRUSTED_TYPES`, the few
  helper types crmmodels' default estimators hold. Anything else is refused at save
  time rather than pickled silently.

Format 1 (earlier files) recorded module paths (``"crmmodels._abc:ABCModel"``), which
an alias table maps to registry names, and stored scikit-learn sub-models as joblib
pickles: such files load only with ``trusted=True`` (a pickle can run any code).
"""

from __future__ import annotations

import io
import json
import os
import platform
import zipfile
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Final

import numpy as np
import pandas as pd

from crmmodels.core.protocol import Model
from crmmodels.core.registry import get_model, name_of
from crmmodels.errors import CRMModelsError, ModelFormatError, ModelFormatWarning, warn

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "TRUSTED_TYPES", "Trusted", "learned_state",
           "read_model", "write_model"]

FORMAT_NAME: Final = "crmmodels-model"
FORMAT_VERSION: Final = 2

#: Types, beyond what skops trusts by itself, that the estimators crmmodels builds
#: hold (the default churn and fraud stacks: splines, boosted trees, folds, the
#: log-odds transform of the fraud combiner; the ``functools.partial`` of
#: ``check_array`` that gradient boosting with native categoricals holds since
#: scikit-learn 1.8: skops still audits the function a partial wraps). Tree
#: predictors index their node arrays without bounds checks, so every loaded one is
#: checked here before it is handed back.
TRUSTED_TYPES: Final[tuple[str, ...]] = (
    "crmmodels.propensity.BlendedClassifier",
    "crmmodels.propensity.PropensityClassifier",
    "crmmodels.propensity.WeightedPipeline",
    "crmmodels.propensity.clipped_logit",
    "functools.partial",
    "numpy.dtype",
    "scipy._lib.array_api_compat.numpy._aliases.asarray",
    "scipy.interpolate._bsplines.BSpline",
    # Gradient boosting's loss, link and binning objects and the column transformer's
    # remainder list (plain data), which skops does not list under scikit-learn 1.5.
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn.compose._column_transformer._RemainderColsList",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.model_selection._split.KFold",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.utils._bunch.Bunch",
    "sklearn.utils.validation.check_array",
)

#: ``None`` (the default types), extra type names to trust, or ``True`` (trust every
#: type; needed for format-1 files, whose sub-models are pickles).
Trusted = bool | Sequence[str] | None

# Module paths that format-1 files recorded, by registry name.
_FORMAT1_CLASSES: Final[dict[str, str]] = {
    "crmmodels.baseline:NaiveRateModel": "naive_rate",
    "crmmodels.cltv.beta_geo:BetaGeoModel": "bg_nbd",
    "crmmodels.cltv.pareto_nbd:ParetoNBDModel": "pareto_nbd",
    "crmmodels.cltv.modified_beta_geo:ModifiedBetaGeoModel": "mbg_nbd",
    "crmmodels.cltv.beta_geo_beta_binom:BetaGeoBetaBinomModel": "bg_bb",
    "crmmodels.cltv.gamma_gamma:GammaGammaModel": "gamma_gamma",
    "crmmodels.cltv.shifted_beta_geo:ShiftedBetaGeoModel": "sbg",
    "crmmodels.cltv.clv:CLVModel": "clv",
    "crmmodels.rfm:RFMModel": "rfm",
    "crmmodels._abc:ABCModel": "abc",
    "crmmodels._lifecycle:LifecycleModel": "lifecycle",
    "crmmodels._clustering:SegmentationModel": "segmentation",
    "crmmodels.association:AssociationRulesModel": "association_rules",
    "crmmodels.churn:ChurnModel": "churn",
    "crmmodels.fraud:FraudModel": "fraud",
}


class _Writer:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.blobs: dict[str, bytes] = {}
        self.sklearn = False

    def array(self, values: np.ndarray) -> dict[str, Any]:
        values = np.asarray(values)
        if values.dtype == object:
            if all(isinstance(v, str) for v in values.ravel()):
                key = f"a{len(self.arrays)}"
                self.arrays[key] = values.astype(str)
                return {"__type__": "ndarray", "key": key, "object": True}
            return {"__type__": "list_array", "items": [self.encode(v) for v in values.tolist()],
                    "shape": list(values.shape)}
        key = f"a{len(self.arrays)}"
        self.arrays[key] = values
        return {"__type__": "ndarray", "key": key}

    def encode(self, obj: Any) -> Any:
        from sklearn.base import BaseEstimator

        if obj is None or isinstance(obj, bool | str):
            return obj
        if isinstance(obj, int | float) and not isinstance(obj, np.generic):
            return obj
        if isinstance(obj, np.generic):
            return {"__type__": "npscalar", "dtype": obj.dtype.str,
                    "value": self.array(np.asarray([obj]))}
        if isinstance(obj, np.ndarray):
            return self.array(obj)
        if isinstance(obj, pd.Timestamp):
            return {"__type__": "timestamp", "value": obj.isoformat()}
        if isinstance(obj, pd.Timedelta):
            return {"__type__": "timedelta", "value": int(obj.value)}
        if isinstance(obj, pd.Categorical):
            return {"__type__": "categorical", "codes": self.array(obj.codes),
                    "categories": self.encode(obj.categories), "ordered": bool(obj.ordered)}
        if isinstance(obj, pd.MultiIndex):
            return {"__type__": "multiindex", "names": [self.encode(n) for n in obj.names],
                    "levels": [self.encode(lv) for lv in obj.levels],
                    "codes": [self.array(np.asarray(c)) for c in obj.codes]}
        if isinstance(obj, pd.CategoricalIndex):
            return {"__type__": "categorical_index", "name": self.encode(obj.name),
                    "values": self.encode(obj.array)}
        if isinstance(obj, pd.Index):
            return {"__type__": "index", "name": self.encode(obj.name),
                    "dtype": str(obj.dtype), "values": self.array(obj.to_numpy())}
        if isinstance(obj, pd.Series) and isinstance(obj.dtype, pd.CategoricalDtype):
            return {"__type__": "categorical_series", "name": self.encode(obj.name),
                    "values": self.encode(obj.array), "index": self.encode(obj.index)}
        if isinstance(obj, pd.Series):
            return {"__type__": "series", "name": self.encode(obj.name),
                    "dtype": str(obj.dtype), "values": self.array(obj.to_numpy()),
                    "index": self.encode(obj.index)}
        if isinstance(obj, pd.DataFrame):
            return {"__type__": "frame", "index": self.encode(obj.index),
                    "columns": [self.encode(c) for c in obj.columns],
                    "data": [self.encode(obj.iloc[:, i]) for i in range(obj.shape[1])]}
        if isinstance(obj, dict):
            if all(isinstance(k, str) for k in obj):
                return {"__type__": "dict", "items": {k: self.encode(v) for k, v in obj.items()}}
            return {"__type__": "kvlist",
                    "items": [[self.encode(k), self.encode(v)] for k, v in obj.items()]}
        if isinstance(obj, list | tuple):
            return {"__type__": type(obj).__name__, "items": [self.encode(v) for v in obj]}
        if isinstance(obj, frozenset | set):
            return {"__type__": type(obj).__name__,
                    "items": [self.encode(v) for v in sorted(obj, key=repr)]}
        if isinstance(obj, Model) and isinstance(obj, BaseEstimator):
            return {"__type__": "crmmodel", "model": _registry_name(type(obj)),
                    "params": self.encode(obj.get_params(deep=False)),
                    "state": self.encode(learned_state(obj))}
        if isinstance(obj, BaseEstimator):
            import skops.io

            key = f"b{len(self.blobs)}.skops"
            self.blobs[key] = skops.io.dumps(obj)
            self.sklearn = True
            return {"__type__": "skops", "key": key}
        raise ModelFormatError(
            f"cannot save a value of type {type(obj).__name__}; models must keep their "
            "learned state as numbers, arrays, pandas objects or scikit-learn estimators"
        )


class _Reader:
    def __init__(self, zf: zipfile.ZipFile, arrays: dict[str, np.ndarray], version: int,
                 trusted: Trusted, path: str) -> None:
        self.zf = zf
        self.arrays = arrays
        self.version = version
        self.trusted = trusted
        self.path = path

    def array(self, node: dict[str, Any]) -> np.ndarray:
        if node["__type__"] == "list_array":
            out = np.empty(len(node["items"]), dtype=object)
            for i, v in enumerate(node["items"]):
                out[i] = self.decode(v)
            return out.reshape(node["shape"])
        values = self.arrays[node["key"]]
        if node.get("object"):
            values = values.astype(object)
        return values

    def decode(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        kind = node.get("__type__")
        if kind in ("ndarray", "list_array"):
            return self.array(node)
        if kind == "npscalar":
            return self.array(node["value"]).astype(np.dtype(node["dtype"]))[0]
        if kind == "timestamp":
            return pd.Timestamp(node["value"])
        if kind == "timedelta":
            return pd.Timedelta(node["value"], unit="ns")
        if kind == "categorical":
            return pd.Categorical.from_codes(self.array(node["codes"]),
                                             categories=self.decode(node["categories"]),
                                             ordered=node["ordered"])
        if kind == "multiindex":
            return pd.MultiIndex(levels=[self.decode(lv) for lv in node["levels"]],
                                 codes=[self.array(c).tolist() for c in node["codes"]],
                                 names=[self.decode(n) for n in node["names"]])
        if kind == "categorical_index":
            return pd.CategoricalIndex(self.decode(node["values"]),
                                       name=self.decode(node["name"]))
        if kind == "categorical_series":
            return pd.Series(self.decode(node["values"]), index=self.decode(node["index"]),
                             name=self.decode(node["name"]))
        if kind == "index":
            return pd.Index(self.array(node["values"]), name=self.decode(node["name"]),
                            dtype=_dtype(node["dtype"]))
        if kind == "series":
            return pd.Series(self.array(node["values"]), index=self.decode(node["index"]),
                             name=self.decode(node["name"]), dtype=_dtype(node["dtype"]))
        if kind == "frame":
            cols = [self.decode(c) for c in node["columns"]]
            data = [self.decode(d) for d in node["data"]]
            index = self.decode(node["index"])
            frame = pd.concat(data, axis=1) if data else pd.DataFrame(index=index)
            frame.columns = pd.Index(cols)
            return frame
        if kind == "dict":
            return {k: self.decode(v) for k, v in node["items"].items()}
        if kind == "kvlist":
            return {self.decode(k): self.decode(v) for k, v in node["items"]}
        if kind == "list":
            return [self.decode(v) for v in node["items"]]
        if kind == "tuple":
            return tuple(self.decode(v) for v in node["items"])
        if kind == "frozenset":
            return frozenset(self.decode(v) for v in node["items"])
        if kind == "set":
            return {self.decode(v) for v in node["items"]}
        if kind == "crmmodel":
            klass = _model_class(node, self.version)
            model = klass(**self.decode(node["params"]))
            for k, v in self.decode(node["state"]).items():
                setattr(model, k, v)
            return model
        if kind == "skops" and self.version >= 2:
            return _load_skops(self.zf.read(node["key"]), self.trusted, self.path)
        if kind == "joblib" and self.version == 1:
            if self.trusted is not True:
                raise ModelFormatError(
                    f"{self.path!r} is a format-1 model file whose scikit-learn sub-model "
                    "is a pickle, and unpickling runs whatever code the file holds; load it "
                    "with trusted=True only if you made it or trust its source, then save "
                    "it again to write the safer format 2"
                )
            import joblib

            warn(
                f"{self.path!r} is a format-1 model file: its scikit-learn sub-model was "
                "unpickled because trusted=True; save the model again to write format 2, "
                "which loads without running code from the file",
                ModelFormatWarning)
            return joblib.load(io.BytesIO(self.zf.read(node["key"])))
        raise ModelFormatError(f"unknown value type {kind!r} in model file")


def _dtype(name: str) -> Any:
    return None if name == "object" else name


def learned_state(model: object) -> dict[str, Any]:
    """Return a model's learned attributes (names ending in ``_``).

    Examples
    --------
    >>> from crmmodels.cltv import NaiveRateModel
    >>> learned_state(NaiveRateModel())
    {}
    """
    return {k: v for k, v in vars(model).items() if k.endswith("_") and not k.startswith("__")}


def _registry_name(klass: type) -> str:
    try:
        return name_of(klass)
    except CRMModelsError as exc:
        raise ModelFormatError(f"cannot save {klass.__name__}: {exc}") from exc


def _model_class(node: dict[str, Any], version: int) -> type:
    """Return the class a manifest or a nested model node names."""
    if version == 1:
        path = node["class"]
        name = _FORMAT1_CLASSES.get(path)
        if name is None:
            # A plug-in's format-1 file: its module path is an entry point's target.
            from importlib.metadata import entry_points

            from crmmodels.core.registry import ENTRY_POINT_GROUP

            name = next((ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)
                         if ep.value == path), None)
        if name is None:
            raise ModelFormatError(
                f"format-1 model class {path!r} is neither a crmmodels model nor a "
                "registered plug-in")
    else:
        name = node["model"]
        if not isinstance(name, str):
            raise ModelFormatError(f"model name {name!r} is not a string")
    try:
        return get_model(name)
    except CRMModelsError as exc:
        raise ModelFormatError(f"the file's model {name!r} is not available: {exc}") from exc


def _trusted_types(trusted: Trusted, blob: bytes) -> list[str]:
    import skops.io

    if trusted is True:
        return list(skops.io.get_untrusted_types(data=blob))
    if trusted is None or trusted is False:
        return list(TRUSTED_TYPES)
    if isinstance(trusted, str) or not all(isinstance(t, str) for t in trusted):
        raise ModelFormatError(
            f"trusted must be None, True or a list of type names, got {trusted!r}")
    return [*TRUSTED_TYPES, *trusted]


def _load_skops(blob: bytes, trusted: Trusted, path: str) -> Any:
    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        est = skops.io.loads(blob, trusted=_trusted_types(trusted, blob))
    except UntrustedTypesFoundException as exc:
        untrusted = sorted(set(skops.io.get_untrusted_types(data=blob)) - set(TRUSTED_TYPES))
        raise ModelFormatError(
            f"{path!r} holds types crmmodels does not trust by default: {untrusted}; if you "
            "made the file or trust its source, pass load(path, trusted=[...]) with the "
            "types you have reviewed"
        ) from exc
    _check_trees(est)
    return est


def _check_tree(tree: Any, n_features: int | None) -> None:
    nodes = tree.nodes
    n = len(nodes)
    inner = nodes[~nodes["is_leaf"].astype(bool)]
    bad = bool(((inner["left"] < 0) | (inner["left"] >= n) | (inner["right"] < 0)
                | (inner["right"] >= n) | (inner["feature_idx"] < 0)).any())
    if n_features is not None:
        bad |= bool((inner["feature_idx"] >= n_features).any())
    cats = inner[inner["is_categorical"].astype(bool)]
    if len(cats):
        bad |= bool(((cats["bitset_idx"] < 0)
                     | (cats["bitset_idx"] >= len(tree.raw_left_cat_bitsets))).any())
    if bad:
        raise ModelFormatError("a boosted tree in the file points outside its arrays")


def _check_trees(obj: Any, seen: set[int] | None = None) -> None:
    """Refuse boosted trees whose node indices point outside their arrays.

    scikit-learn's tree predictors index their node arrays without bounds checks, so
    a crafted file could make ``predict`` read outside them.
    """
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

    seen = set() if seen is None else seen
    if id(obj) in seen or isinstance(obj, type):
        return
    seen.add(id(obj))
    if isinstance(obj, TreePredictor):
        _check_tree(obj, None)
        return
    predictors = getattr(obj, "_predictors", None)
    if isinstance(predictors, list):
        n_features = getattr(obj, "n_features_in_", None)
        for per_iter in predictors:
            for tree in per_iter:
                if not isinstance(tree, TreePredictor):
                    raise ModelFormatError("a boosted model in the file holds a non-tree")
                _check_tree(tree, n_features)
    if isinstance(obj, dict):
        children: Any = obj.values()
    elif isinstance(obj, list | tuple):
        children = obj
    elif hasattr(obj, "__dict__"):
        children = vars(obj).values()
    else:
        return
    for v in children:
        if isinstance(v, dict | list | tuple) or hasattr(v, "__dict__"):
            _check_trees(v, seen)


def _versions() -> dict[str, str]:
    import sklearn

    try:
        ours = version("crmmodels")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        ours = "0.0.0"
    return {"crmmodels": ours, "python": platform.python_version(),
            "numpy": np.__version__, "pandas": pd.__version__,
            "scikit-learn": sklearn.__version__}


def _minor(v: str) -> tuple[str, ...]:
    return tuple(v.split(".")[:2])


def write_model(path: str | os.PathLike[str], model: Any) -> None:
    """Write ``model`` (hyper-parameters and learned state) to a format-2 file.

    Raises
    ------
    ModelFormatError
        The model's class is not registered, or its state holds a value the format
        cannot store.
    """
    w = _Writer()
    manifest: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "model": _registry_name(type(model)),
        "versions": _versions(),
    }
    manifest["params"] = w.encode(model.get_params(deep=False))
    manifest["state"] = w.encode(learned_state(model))
    manifest["sklearn_submodels"] = w.sklearn
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **w.arrays)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=1, allow_nan=True))
        zf.writestr("arrays.npz", buf.getvalue())
        for key, blob in w.blobs.items():
            zf.writestr(key, blob)


def read_model(
    path: str | os.PathLike[str], *, trusted: Trusted = None
) -> tuple[type, dict[str, Any], dict[str, Any]]:
    """Read a model file; return its class, hyper-parameters and learned state.

    Raises
    ------
    ModelFormatError
        Not a crmmodels model file, a newer format, a damaged file, a model that is
        not registered here, or a type that is not trusted.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, IsADirectoryError) as exc:
        raise ModelFormatError(f"{os.fspath(path)!r} is not a crmmodels model file") from exc
    with zf:
        try:
            manifest = json.loads(zf.read("manifest.json"))
            arrays_raw = zf.read("arrays.npz")
        except (KeyError, json.JSONDecodeError) as exc:
            raise ModelFormatError(
                f"{os.fspath(path)!r} is a zip file but not a crmmodels model file"
            ) from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
            raise ModelFormatError(f"{os.fspath(path)!r} is not a crmmodels model file")
        file_version = manifest.get("format_version")
        if not isinstance(file_version, int) or isinstance(file_version, bool) or not (
                1 <= file_version <= FORMAT_VERSION):
            raise ModelFormatError(
                f"model file format version {file_version!r} is not supported (this "
                f"crmmodels reads versions 1 to {FORMAT_VERSION}; a newer file needs a "
                "newer crmmodels)"
            )
        saved_sklearn = manifest.get("versions", {}).get("scikit-learn")
        has_sklearn = manifest.get("sklearn_submodels", file_version == 1)
        if has_sklearn and isinstance(saved_sklearn, str):
            import sklearn

            if _minor(saved_sklearn) != _minor(sklearn.__version__):
                warn(
                    f"{os.fspath(path)!r} was saved with scikit-learn {saved_sklearn}, this "
                    f"is {sklearn.__version__}: its scikit-learn sub-models may predict "
                    "differently or fail; refit and save it with this version",
                    ModelFormatWarning)
        try:
            klass = _model_class(manifest, file_version)
            with np.load(io.BytesIO(arrays_raw), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            reader = _Reader(zf, arrays, file_version, trusted, os.fspath(path))
            params = reader.decode(manifest["params"])
            state = reader.decode(manifest["state"])
        except ModelFormatError:
            raise
        except (KeyError, TypeError, ValueError, OSError) as exc:
            raise ModelFormatError(
                f"{os.fspath(path)!r} is a damaged crmmodels model file: {exc!r}"
            ) from exc
    return klass, params, state
