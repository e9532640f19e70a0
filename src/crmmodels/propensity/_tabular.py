"""Shared machinery of the propensity models (churn, fraud) on tabular features.

* :func:`identifier_columns`: columns that can only memorise rows;
* :func:`learn_categories` / :func:`design`: a typed design matrix (categoricals as
  pandas ``category`` with the training levels, numerics as float) that new data is
  mapped onto exactly as the training data was;
* :func:`binary_labels` / :func:`binary_or_missing`: 0/1 labels from bool, 0/1 or yes/no
  columns, with clear errors;
* :func:`typical_values` / :func:`occlusion`: per-row attribution by setting one
  feature at a time to its typical value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmmodels.data import BOOLEAN_TEXT
from crmmodels.errors import DataQualityWarning, DataValidationError, warn

__all__ = ["binary_labels", "binary_or_missing", "clipped_logit", "design",
           "identifier_columns", "is_label_value", "learn_categories", "occlusion",
           "screen_columns", "typical_values"]

# Categorical levels kept per column (gradient boosting bins at most 255 values);
# rarer levels are pooled into one.
MAX_LEVELS = 250
MISSING = "(missing)"
OTHER = "(other)"


def identifier_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that look like row identifiers rather than features.

    A column is identifier-like when every non-missing value is distinct and there
    are at least 20 rows, and it is text (codes such as ``"7590-VHVEG"``) or whole
    numbers that run (almost) contiguously, like a row number or policy number.
    Such a column can only memorise rows, or leak their order.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"PolicyNumber": range(1, 31), "age": [30, 40, 50] * 10,
    ...                   "code": [f"C{i}" for i in range(30)]})
    >>> identifier_columns(f)
    ['PolicyNumber', 'code']
    """
    out: list[str] = []
    n = len(frame)
    if n < 20:
        return out
    for column in frame.columns:
        values = frame[column].dropna()
        if len(values) < 0.95 * n or values.nunique() != len(values):
            continue
        dtype = values.dtype
        if pd.api.types.is_bool_dtype(dtype):
            continue
        if pd.api.types.is_integer_dtype(dtype) or (
                pd.api.types.is_float_dtype(dtype)
                and bool(np.all(np.mod(values.to_numpy(float), 1) == 0))):
            v = values.to_numpy(float)
            if v.max() - v.min() + 1 <= 1.5 * len(v):
                out.append(str(column))
        elif not (pd.api.types.is_numeric_dtype(dtype)
                  or pd.api.types.is_datetime64_any_dtype(dtype)):
            out.append(str(column))
    return out


def screen_columns(raw: pd.DataFrame, id_candidates: Sequence[str], owner: str
                   ) -> tuple[list[str], dict[str, str]]:
    """Split candidate feature columns into kept and excluded (with the reason).

    Identifier-like columns among ``id_candidates`` are excluded with a
    :class:`~crmmodels.errors.DataQualityWarning` naming ``owner``; datetime columns,
    columns missing everywhere and constant columns are excluded silently (the reasons
    are returned: ``"identifier"``, ``"datetime"``, ``"all missing"``, ``"constant"``).

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"x": [1.0, 2.0], "c": ["a", "a"], "e": [None, None]})
    >>> screen_columns(raw, [], "Model")
    (['x'], {'c': 'constant', 'e': 'all missing'})
    """
    excluded: dict[str, str] = {}
    ids = identifier_columns(raw[[c for c in raw.columns if c in set(id_candidates)]])
    if ids:
        warn(
            f"{owner}: {ids} look like identifiers (every value distinct) and are left out "
            "of the features: they can only memorise rows or leak their order",
            DataQualityWarning)
        excluded.update({c: "identifier" for c in ids})
    keep: list[str] = []
    for column in map(str, raw.columns):
        if column in excluded:
            continue
        values = raw[column]
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            excluded[column] = "datetime"
        elif values.isna().all():
            excluded[column] = "all missing"
        elif values.nunique(dropna=False) <= 1:
            excluded[column] = "constant"
        else:
            keep.append(column)
    return keep, excluded


def _as_text(values: pd.Series) -> pd.Series:
    return values.astype("object").where(values.notna(), MISSING).astype(str)


def learn_categories(frame: pd.DataFrame) -> dict[str, list[str]]:
    """Levels of every non-numeric column: the 250 most frequent, sorted, plus pools.

    Booleans count as categorical. ``"(other)"`` pools rarer levels (only when there
    are more than 250) and ``"(missing)"`` stands for missing values and levels never
    seen in training. A pandas ``category`` column with at most 250 declared levels
    keeps them all, in their declared order (a design matrix made by :func:`design`
    gives back its own levels).

    Examples
    --------
    >>> import pandas as pd
    >>> learn_categories(pd.DataFrame({"plan": ["b", "a", None], "x": [1.0, 2.0, 3.0]}))
    {'plan': ['(missing)', 'a', 'b']}
    >>> size = pd.Categorical(["S", "L"], categories=["S", "M", "L"], ordered=True)
    >>> learn_categories(pd.DataFrame({"size": size}))
    {'size': ['S', 'M', 'L', '(missing)']}
    """
    categories: dict[str, list[str]] = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
                values.dtype):
            continue
        declared = (values.dtype.categories if isinstance(values.dtype, pd.CategoricalDtype)
                    else None)
        if declared is not None and len(declared) <= MAX_LEVELS:
            levels = list(dict.fromkeys(str(v) for v in declared))
            if MISSING not in levels:
                levels.append(MISSING)
            categories[str(column)] = levels
            continue
        counts = _as_text(values).value_counts()
        levels = sorted(counts.index[:MAX_LEVELS].tolist())
        if len(counts) > MAX_LEVELS:
            levels.append(OTHER)
        if MISSING not in levels:
            levels.append(MISSING)
        categories[str(column)] = levels
    return categories


def design(frame: pd.DataFrame, names: Sequence[str],
           categories: dict[str, list[str]]) -> pd.DataFrame:
    """Typed design matrix in the training layout.

    Columns ``names`` in order; categoricals get the training levels (unknown levels
    become ``"(other)"`` when that pool exists, else ``"(missing)"``); numerics become
    float (NaN where missing or not numeric); absent columns are all missing.

    Examples
    --------
    >>> import pandas as pd
    >>> x = design(pd.DataFrame({"plan": ["a", "z"], "x": ["1", None]}), ["plan", "x"],
    ...            {"plan": ["(missing)", "a", "b"]})
    >>> x["plan"].tolist(), x["x"].tolist()
    (['a', '(missing)'], [1.0, nan])
    """
    out: dict[str, Any] = {}
    for column in names:
        values = frame[column] if column in frame.columns else pd.Series(np.nan,
                                                                           index=frame.index)
        if column in categories:
            levels = categories[column]
            text = _as_text(values)
            text = text.where(text.isin(levels), OTHER if OTHER in levels else MISSING)
            out[column] = pd.Categorical(text, categories=levels)
        else:
            out[column] = pd.to_numeric(values, errors="coerce").astype(np.float64)
    return pd.DataFrame(out, index=frame.index)


# Labels read as the data layer reads boolean columns.
_LABEL_WORDS: dict[str, float] = {k: float(v) for k, v in BOOLEAN_TEXT.items()}


def binary_or_missing(labels: pd.Series, column: str, frame: str,
                      pos_label: Any = None) -> np.ndarray:
    """0/1 labels as floats, NaN where missing; a clear error for any other value.

    Without ``pos_label``: bool, 0/1, true/false, t/f, yes/no and y/n (any case, spaces
    around ignored; :data:`crmmodels.data.BOOLEAN_TEXT`). With ``pos_label``: that
    value is 1, the one other value 0 (a label of more than two values is an error).

    Examples
    --------
    >>> import pandas as pd
    >>> binary_or_missing(pd.Series(["Yes", None, 0, "n"]), "fraud", "transactions").tolist()
    [1.0, nan, 0.0, 0.0]
    >>> binary_or_missing(pd.Series(["Attrited", "Existing"]), "flag", "customers",
    ...                   pos_label="Attrited").tolist()
    [1.0, 0.0]
    """
    missing = labels.isna().to_numpy()
    if pos_label is not None:
        return _with_pos_label(labels, missing, column, frame, pos_label)
    if pd.api.types.is_bool_dtype(labels.dtype):
        return labels.to_numpy(dtype=np.float64)
    text = labels.astype(str).str.strip().str.lower()
    mapped = np.array(text.map(_LABEL_WORDS), dtype=np.float64)
    bad = np.isnan(mapped) & ~missing
    if bad.any():
        values = pd.unique(labels[~missing])
        hint = (f"; it has two values, {sorted(map(str, values))}: say which one is the "
                "positive class with pos_label=" if len(values) == 2 else "")
        raise DataValidationError(
            f"label {column!r} must be 0/1, True/False, T/F, Yes/No or Y/N; found "
            f"{sorted(set(text[bad]))[:5]}{hint}", frame=frame, column=column,
            rule="binary_label", rows=labels.index[bad][:5].tolist())
    mapped[missing] = np.nan
    return mapped


def _with_pos_label(labels: pd.Series, missing: np.ndarray, column: str, frame: str,
                    pos_label: Any) -> np.ndarray:
    values = pd.unique(labels[~missing])
    if len(values) > 2:
        raise DataValidationError(
            f"label {column!r} must have two values, got {len(values)} "
            f"({sorted(map(str, values))[:5]})", frame=frame, column=column,
            rule="binary_label")
    positive = (labels == pos_label).to_numpy(dtype=bool, na_value=False)
    if not positive.any():
        raise DataValidationError(
            f"pos_label={pos_label!r} is not a value of the label {column!r} (it has "
            f"{sorted(map(str, values))})", frame=frame, column=column, rule="pos_label")
    out: np.ndarray = positive.astype(np.float64)
    out[missing] = np.nan
    return out


def is_label_value(value: Any) -> bool:
    """Whether ``value`` can name a label's positive class (a string, number or bool)."""
    return isinstance(value, str | int | float | bool | np.generic)


def binary_labels(labels: pd.Series, column: str, frame: str, unit: str,
                  pos_label: Any = None) -> np.ndarray:
    """0/1 labels from bool, 0/1, true/false, yes/no or Y/N values, or by ``pos_label``.

    Examples
    --------
    >>> import pandas as pd
    >>> binary_labels(pd.Series(["Yes", "no", 1, "Y"]), "churned", "customers", "customers")
    array([1, 0, 1, 1])
    """
    if labels.isna().any():
        bad = labels.index[labels.isna().to_numpy()][:5].tolist()
        raise DataValidationError(
            f"label {column!r} is missing for {int(labels.isna().sum())} {unit}",
            frame=frame, column=column, rule="missing_label", rows=bad)
    return binary_or_missing(labels, column, frame, pos_label).astype(np.int64)


def clipped_logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of probabilities clipped to [1e-6, 1 - 1e-6] (finite for 0 and 1).

    Examples
    --------
    >>> import numpy as np
    >>> clipped_logit(np.array([0.5, 0.0])).round(3).tolist()
    [0.0, -13.816]
    """
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    out: np.ndarray = np.log(q / (1 - q))
    return out


# Fitted combiners hold this function, and their saved files name it by module: the
# public surface keeps that name stable wherever the function's code lives.
clipped_logit.__module__ = "crmmodels.propensity"


def typical_values(x: pd.DataFrame, categories: dict[str, list[str]]) -> dict[str, Any]:
    """Median of each numeric column and most frequent level of each categorical one.

    Examples
    --------
    >>> import pandas as pd
    >>> x = design(pd.DataFrame({"plan": ["a", "b", "b"], "x": [1, 5, 9]}), ["plan", "x"],
    ...            {"plan": ["(missing)", "a", "b"]})
    >>> typical_values(x, {"plan": ["(missing)", "a", "b"]})
    {'plan': 'b', 'x': 5.0}
    """
    out: dict[str, Any] = {}
    for c in x.columns:
        if c in categories:
            codes = x[c].cat.codes.to_numpy()
            counts = np.bincount(codes[codes >= 0], minlength=len(categories[c]))
            out[c] = categories[c][int(np.argmax(counts))]
        else:
            out[c] = float(np.nanmedian(x[c].to_numpy(float)))
    return out


def occlusion(predict: Any, x: pd.DataFrame, reference: dict[str, Any]) -> np.ndarray:
    """Per-row contribution of each feature: ``p(x) - p(x with x_j := reference_j)``.

    Parameters
    ----------
    predict : callable
        Maps a design matrix to a 1-d array of scores.
    x : DataFrame
        Rows to explain (``k`` rows, ``f`` columns).
    reference : dict
        Typical value per column.

    Returns
    -------
    ndarray
        ``f x k`` contributions (positive: the feature raises the score).
    """
    k, f = len(x), x.shape[1]
    base = np.asarray(predict(x), dtype=np.float64)
    stacked = pd.concat([x] * f, ignore_index=True)
    for j, column in enumerate(x.columns):
        stacked.iloc[j * k:(j + 1) * k, j] = reference[column]
    occluded = np.asarray(predict(stacked), dtype=np.float64).reshape(f, k)
    return base[None, :] - occluded
