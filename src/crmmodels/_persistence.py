"""Zip file format of saved models: a JSON manifest, an ``.npz`` of arrays, joblib blobs.

Values are encoded recursively: JSON scalars stay JSON (floats round-trip exactly,
``NaN``/``inf`` included); numpy arrays go to ``arrays.npz``; pandas Series, Index
and DataFrame are stored as their arrays plus labels; scikit-learn estimators are
stored with joblib (the only non-array binary). Anything else is refused at save
time rather than pickled silently.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import platform
import zipfile
from typing import Any

import numpy as np
import pandas as pd

from crmmodels.errors import ModelFormatError

FORMAT_NAME = "crmmodels-model"
FORMAT_VERSION = 1


class _Writer:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.blobs: dict[str, bytes] = {}

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

        from crmmodels.base import CRMModel

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
        if isinstance(obj, CRMModel):
            return {"__type__": "crmmodel", "class": _class_path(type(obj)),
                    "params": self.encode(obj.get_params(deep=False)),
                    "state": self.encode({k: v for k, v in vars(obj).items()
                                          if k.endswith("_") and not k.startswith("__")})}
        if isinstance(obj, BaseEstimator):
            import joblib

            buf = io.BytesIO()
            joblib.dump(obj, buf)
            key = f"b{len(self.blobs)}.joblib"
            self.blobs[key] = buf.getvalue()
            return {"__type__": "joblib", "key": key}
        raise ModelFormatError(
            f"cannot save a value of type {type(obj).__name__}; models must keep their "
            "learned state as numbers, arrays, pandas objects or scikit-learn estimators"
        )


class _Reader:
    def __init__(self, zf: zipfile.ZipFile, arrays: dict[str, np.ndarray]) -> None:
        self.zf = zf
        self.arrays = arrays

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
            klass = _import_class(node["class"])
            model = klass(**self.decode(node["params"]))
            for k, v in self.decode(node["state"]).items():
                setattr(model, k, v)
            return model
        if kind == "joblib":
            import joblib

            return joblib.load(io.BytesIO(self.zf.read(node["key"])))
        raise ModelFormatError(f"unknown value type {kind!r} in model file")


def _dtype(name: str) -> Any:
    return None if name == "object" else name


def _class_path(klass: type) -> str:
    return f"{klass.__module__}:{klass.__qualname__}"


def _import_class(path: str) -> type:
    module, _, qual = path.partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in qual.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ModelFormatError(f"model class {path!r} cannot be imported: {exc}") from exc
    from crmmodels.base import CRMModel

    if not (isinstance(obj, type) and issubclass(obj, CRMModel)):
        raise ModelFormatError(f"{path!r} is not a crmmodels model class")
    return obj


def _versions() -> dict[str, str]:
    import sklearn

    from crmmodels import __version__

    return {"crmmodels": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "pandas": pd.__version__,
            "scikit-learn": sklearn.__version__}


def write_model(
    path: str | os.PathLike[str], klass: type, params: dict[str, Any], state: dict[str, Any]
) -> None:
    """Write a model file (see the module docstring)."""
    w = _Writer()
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "class": _class_path(klass),
        "versions": _versions(),
        "params": w.encode(params),
        "state": w.encode(state),
    }
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **w.arrays)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=1, allow_nan=True))
        zf.writestr("arrays.npz", buf.getvalue())
        for key, blob in w.blobs.items():
            zf.writestr(key, blob)


def read_model(path: str | os.PathLike[str]) -> tuple[type, dict[str, Any], dict[str, Any]]:
    """Read a model file; return its class, hyper-parameters and learned state."""
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
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ModelFormatError(
                f"model file format version {manifest.get('format_version')!r} is not "
                f"supported (this crmmodels reads version {FORMAT_VERSION})"
            )
        try:
            klass = _import_class(manifest["class"])
            with np.load(io.BytesIO(arrays_raw), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            reader = _Reader(zf, arrays)
            params = reader.decode(manifest["params"])
            state = reader.decode(manifest["state"])
        except ModelFormatError:
            raise
        except (KeyError, TypeError, ValueError, OSError) as exc:
            raise ModelFormatError(
                f"{os.fspath(path)!r} is a damaged crmmodels model file: {exc!r}"
            ) from exc
    return klass, params, state
