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

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmmodels.data import BOOLEAN_TEXT
from crmmodels.errors import DataQualityWarning, DataValidationError, LeakageWarning, warn

__all__ = [
    "LEAK_AUC",
    "TARGET_NAMES",
    "as_numbers",
    "binary_labels",
    "binary_or_missing",
    "clipped_logit",
    "design",
    "fit_threads",
    "identifier_columns",
    "is_label_value",
    "label_candidates",
    "learn_categories",
    "numeric_text",
    "occlusion",
    "read_numbers",
    "screen_columns",
    "separation",
    "typical_values",
]

# Categorical levels kept per column (gradient boosting bins at most 255 values);
# rarer levels are pooled into one.
MAX_LEVELS = 250
MISSING = "(missing)"
OTHER = "(other)"


# Column names that hold an outcome (normalised: lower case, non-alphanumerics as "_").
TARGET_NAMES = frozenset({
    "is_fraud", "fraud", "fraud_reported", "fraudfound_p", "is_churn", "churned", "churn",
    "churn_flag", "exited", "attrition_flag", "response", "y", "label", "target", "class"})
# A single column whose ROC AUC against the label reaches this gives the label away.
LEAK_AUC = 0.99
# Rows used to measure single-column separation (a seeded sample above this).
_LEAK_ROWS = 200_000
_DATE_TEXT = re.compile(
    r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})"
    r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?\s*$")


def read_numbers(values: pd.Series) -> tuple[pd.Series, int, bool]:
    """Read a text column as numbers.

    Returns the floats (NaN where blank or not a number), how many non-blank values
    were not numbers, and whether every value was blank.

    Examples
    --------
    >>> import pandas as pd
    >>> numbers, bad, blank = read_numbers(pd.Series(["1.5", " ", "x"]))
    >>> numbers.tolist(), bad, blank
    ([1.5, nan, nan], 1, False)
    """
    # Each distinct value is read once (text columns repeat their values).
    codes, uniques = pd.factorize(values.astype("object"), use_na_sentinel=True)
    text = pd.Series(uniques, dtype="object").map(
        lambda v: v.strip() if isinstance(v, str) else v)
    blank_u = text.isna().to_numpy() | (text == "").to_numpy()
    numbers_u = pd.to_numeric(text.where(~blank_u, None), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan)
    bad_u = np.isnan(numbers_u) & ~blank_u
    missing = codes < 0
    safe = np.where(missing, 0, codes)
    numbers = pd.Series(np.where(missing, np.nan, numbers_u[safe] if len(uniques) else
                                 np.nan), index=values.index, dtype=np.float64)
    blank = missing | (blank_u[safe] if len(uniques) else True)
    bad = int(np.count_nonzero(~missing & bad_u[safe])) if len(uniques) else 0
    return numbers, bad, bool(blank.all())


def numeric_text(values: pd.Series) -> pd.Series | None:
    """Return a text column as numbers when every non-blank value is one, else None.

    Examples
    --------
    >>> import pandas as pd
    >>> numeric_text(pd.Series(["29.85", " ", "1889.5"])).tolist()
    [29.85, nan, 1889.5]
    >>> numeric_text(pd.Series(["a", "1"])) is None
    True
    """
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(
            values.dtype) or isinstance(values.dtype, pd.CategoricalDtype):
        return None
    if not (pd.api.types.is_object_dtype(values.dtype)
            or pd.api.types.is_string_dtype(values.dtype)):
        return None
    # A cheap probe first: one value among the first few that is not a number settles it.
    probe = values.iloc[:_PROBE].dropna().astype("object")
    probe = probe[probe.map(lambda v: not isinstance(v, str) or bool(v.strip()))]
    if len(probe) and pd.to_numeric(probe.map(lambda v: v.strip() if isinstance(v, str)
                                              else v), errors="coerce").isna().any():
        return None
    numbers, bad, all_blank = read_numbers(values)
    return None if bad or all_blank else numbers  # (read on the distinct values)


# Values probed before a text column is read in full as numbers.
_PROBE = 64


# Below this many training rows the classifier fits on one thread unless n_jobs says
# otherwise: gradient boosting gains little from more threads on small tables, and
# waiting OpenMP threads slow a fit down many times over when other work holds the cores.
SINGLE_THREAD_BELOW = 100_000


def fit_threads(n_rows: int, n_jobs: int | None) -> Any:
    """Thread bound of a classifier fit: ``n_jobs``, else one thread for small tables.

    Examples
    --------
    >>> with fit_threads(500, None) as threads:
    ...     threads
    1
    """
    from crmmodels.core import limit_threads

    return limit_threads(n_jobs if n_jobs is not None else
                         (1 if n_rows < SINGLE_THREAD_BELOW else None))


def _require_frame(frame: object, owner: str) -> pd.DataFrame:
    """Return ``frame`` when it is a DataFrame, else raise a TypeError naming ``owner``."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{owner}: expected a pandas DataFrame of feature columns, got "
                        f"{type(frame).__name__}")
    return frame


def as_numbers(frame: pd.DataFrame, columns: Sequence[str], owner: str) -> pd.DataFrame:
    """Read ``columns`` (text that held numbers in training) as numbers.

    Values that are not numbers become missing, counted in a
    :class:`~crmmodels.errors.DataQualityWarning` naming ``owner``; columns already
    numeric or absent are left as they are.

    Examples
    --------
    >>> import pandas as pd
    >>> as_numbers(pd.DataFrame({"c": ["1.5", " "]}), ["c"], "Model")["c"].tolist()
    [1.5, nan]
    """
    converted = {}
    for c in columns:
        if c not in frame.columns or pd.api.types.is_numeric_dtype(frame[c].dtype):
            continue
        numbers, bad, _ = read_numbers(frame[c])
        if bad:
            warn(f"{owner}: column {c!r} held numbers in training but {bad} of its values "
                 "here are not numbers; they are read as missing", DataQualityWarning)
        converted[c] = numbers
    return frame.assign(**converted) if converted else frame


def _is_text(dtype: Any) -> bool:
    return not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
                or pd.api.types.is_datetime64_any_dtype(dtype)
                or isinstance(dtype, pd.CategoricalDtype))


def _identifier_reason(values: pd.Series, n: int) -> str | None:
    """Why a column looks like an identifier (None when it does not).

    Whole numbers: (almost) every value distinct (account numbers, near-unique codes
    such as a postal code per row), or distinct and running contiguously (a row number).
    Text: more than half the values distinct (codes, e-mails, names), or more than
    ``MAX_LEVELS`` levels of which the most frequent ``MAX_LEVELS`` cover less than
    half the rows (surnames): levels that few rows share can only memorise rows.
    """
    present = values.dropna()
    if len(present) < 0.95 * n or pd.api.types.is_bool_dtype(present.dtype):
        return None
    if isinstance(present.dtype, pd.CategoricalDtype):
        present = present.astype("object")
    numbers = numeric_text(present) if _is_text(present.dtype) else None
    if numbers is not None:
        present = numbers.dropna()
    distinct = int(present.nunique())
    if pd.api.types.is_numeric_dtype(present.dtype):
        v = present.to_numpy(np.float64)
        if not (len(v) and bool(np.all(np.mod(v, 1) == 0))):
            return None
        if distinct == len(v) and v.max() - v.min() + 1 <= 1.5 * len(v):
            return "consecutive whole numbers"
        if distinct >= 0.95 * len(v):
            return f"{distinct:,} distinct whole numbers in {len(v):,} rows"
        return None
    if not _is_text(present.dtype):
        return None
    if distinct > 0.5 * len(present):
        return f"{distinct:,} distinct values in {len(present):,} rows"
    if distinct > MAX_LEVELS:
        counts = present.astype("object").value_counts()
        if counts.iloc[:MAX_LEVELS].sum() < 0.5 * len(present):
            return (f"{distinct:,} distinct values, the {MAX_LEVELS} most frequent cover "
                    f"{counts.iloc[:MAX_LEVELS].sum() / len(present):.0%} of the rows")
    return None


def identifier_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that look like row identifiers rather than features.

    With at least 20 rows, a column present in 95% of them is identifier-like when it
    holds whole numbers (or text of whole numbers) of which at least 95% are distinct
    (account and policy numbers, near-unique codes such as a postal code per row) or
    which are distinct and run contiguously (a row number); or text with more than half
    its values distinct (codes such as ``"7590-VHVEG"``, e-mails, names), or with more
    than 250 levels of which the 250 most frequent cover less than half the rows (such
    as surnames). Such a column can only memorise rows, or leak their order.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"PolicyNumber": range(1, 31), "age": [30, 40, 50] * 10,
    ...                   "code": [f"C{i}" for i in range(30)]})
    >>> identifier_columns(f)
    ['PolicyNumber', 'code']
    """
    n = len(_require_frame(frame, "identifier_columns"))
    if n < 20:
        return []
    return [str(c) for c in frame.columns if _identifier_reason(frame[c], n) is not None]


def _is_date_text(values: pd.Series) -> bool:
    """Whether at least 95% of a text column's distinct values are written as dates."""
    if not _is_text(values.dtype):
        return False
    distinct = [v for v in pd.unique(values.dropna().astype("object"))
                if isinstance(v, str) and v.strip()]
    if not distinct:
        return False
    return sum(bool(_DATE_TEXT.match(v)) for v in distinct) >= 0.95 * len(distinct)


def _norm_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def label_candidates(frame: pd.DataFrame, label: str) -> list[str]:
    """Columns of ``frame`` that look like the missing label ``label``, best first.

    The closest name (case, ``_`` and spaces ignored), columns named like a target,
    then columns of two values read as booleans (0/1, Y/N, yes/no, true/false).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"fraud_reported": ["Y", "N"], "age": [30, 40],
    ...                   "IsFraud": [0, 1]})
    >>> label_candidates(f, "is_fraud")
    ['IsFraud', 'fraud_reported']
    """
    from crmmodels.errors import closest_name

    names = [str(c) for c in frame.columns]
    out: list[str] = []
    close = closest_name(label, names)
    if close is not None:
        out.append(close)
    out += [c for c in names if _norm_name(c) in TARGET_NAMES and c not in out]
    for c in names:
        if c in out:
            continue
        values = frame[c].dropna()
        if values.nunique() != 2:
            continue
        if pd.api.types.is_bool_dtype(values.dtype) or values.astype(str).str.strip(
                ).str.lower().isin(list(BOOLEAN_TEXT)).all():
            out.append(c)
    return out


def _auc(score: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC of ``score`` for the 0/1 labels ``y`` (ties count one half)."""
    from scipy.stats import rankdata

    ranks = rankdata(score)
    n1 = int(y.sum())
    n0 = len(y) - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def separation(values: pd.Series, y: np.ndarray, *, random_state: int = 0,
               folds: np.ndarray | None = None) -> float:
    """How well one column alone separates the 0/1 labels: ROC AUC, either direction.

    Numbers are ranked as they are, with missing values placed below and above all
    others (the better of the two counts, so a column missing exactly for one class is
    caught). Categories are scored by their mean label out of fold (5 folds): a level
    is judged on rows it was not learned from, so a code held by one row each scores
    0.5, not 1. ``folds`` gives each row's fold number (default: 5 shuffled,
    stratified folds seeded by ``random_state``).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> y = np.array([0, 0, 1, 1] * 10)
    >>> codes = pd.Series([f"C{i}" for i in range(40)])  # one row per level
    >>> separation(pd.Series(y * 2.0 + 1), y), separation(codes, y)
    (1.0, 0.5)
    """
    if not isinstance(values, pd.Series):
        raise TypeError(f"separation: values must be a pandas Series (one column of a frame), got "
                        f"{type(values).__name__}")
    y = np.asarray(y, dtype=np.int64)
    if y.min() == y.max():
        return 0.5
    numbers = values if pd.api.types.is_numeric_dtype(values.dtype) and not \
        pd.api.types.is_bool_dtype(values.dtype) else numeric_text(values)
    if numbers is not None:
        v = numbers.to_numpy(np.float64, na_value=np.nan)
        nan = np.isnan(v)
        aucs = [_auc(np.where(nan, fill, v), y) for fill in (-np.inf, np.inf)] if \
            nan.any() else [_auc(v, y)]
        return max(max(a, 1 - a) for a in aucs)
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int64)
        codes = np.where(codes < 0, len(values.cat.categories), codes)
    else:
        codes = pd.factorize(values.astype("object"), use_na_sentinel=False)[0]
    fold_of = _folds(y, random_state) if folds is None else folds
    k = int(codes.max()) + 1
    score = np.empty(len(y))
    for f in range(int(fold_of.max()) + 1):
        test = fold_of == f
        train = ~test
        total = np.bincount(codes[train], minlength=k)
        hits = np.bincount(codes[train], weights=y[train], minlength=k)
        mean = np.where(total > 0, hits / np.maximum(total, 1), y[train].mean())
        score[test] = mean[codes[test]]
    a = _auc(score, y)
    return max(a, 1 - a)


def _folds(y: np.ndarray, random_state: int) -> np.ndarray:
    """Fold number (0 to 4) of each row: 5 shuffled folds, stratified by ``y``."""
    from sklearn.model_selection import StratifiedKFold

    out = np.empty(len(y), dtype=np.int64)
    splits = StratifiedKFold(n_splits=5, shuffle=True, random_state=random_state)
    for f, (_, test) in enumerate(splits.split(np.zeros(len(y)), y)):
        out[test] = f
    return out


def screen_columns(raw: pd.DataFrame, id_candidates: Sequence[str], owner: str, *,
                   y: np.ndarray | None = None, label: str | None = None,
                   given: Sequence[str] | None = None) -> tuple[list[str], dict[str, str]]:
    """Split candidate feature columns into kept and dropped (with the reason).

    One rule for every tabular model:

    * ``"datetime"``: datetime columns; ``"date text"``: text columns written as dates;
    * ``"all missing"`` (a :class:`~crmmodels.errors.DataQualityWarning` names those
      among ``given``, the columns the user supplied: default ``id_candidates``) and
      ``"constant"``;
    * ``"identifier"``: among ``id_candidates``, columns :func:`identifier_columns`
      flags (a :class:`~crmmodels.errors.DataQualityWarning` names them);
    * ``"target-like name"``: columns named like an outcome (``is_fraud``,
      ``fraud_reported``, ``churned``, ``churn``, ``exited``, ``attrition_flag``,
      ``response``, ``y``, ``label``, ``target``, ``class``) other than ``label``;
    * ``"leaks the label (ROC AUC ...)"``: with labels ``y``, any column that alone
      separates them with a ROC AUC of 0.99 or more (:func:`separation`, on a seeded
      sample of 200,000 rows when there are more).

    The last two come with a :class:`~crmmodels.errors.LeakageWarning`. Text columns
    that hold numbers are judged as numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"x": [1.0, 2.0], "c": ["a", "a"], "e": [None, None]})
    >>> screen_columns(raw, [], "Model")
    (['x'], {'c': 'constant', 'e': 'all missing'})
    """
    dropped: dict[str, str] = {}
    n = len(_require_frame(raw, "screen_columns"))
    candidates = set(map(str, id_candidates))
    ids: dict[str, str] = {}
    leaks: dict[str, str] = {}
    for column in map(str, raw.columns):
        values = raw[column]
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            dropped[column] = "datetime"
        elif values.isna().all():
            dropped[column] = "all missing"
        elif values.nunique(dropna=False) <= 1:
            dropped[column] = "constant"
        elif column != label and _norm_name(column) in TARGET_NAMES:
            leaks[column] = "target-like name"
        elif _is_date_text(values):
            dropped[column] = "date text"
        elif column in candidates and n >= 20 and (
                why := _identifier_reason(values, n)) is not None:
            ids[column] = why
    empty = [c for c in (id_candidates if given is None else given)
             if dropped.get(str(c)) == "all missing"]
    if empty:
        warn(f"{owner}: {empty} are missing for every row and are left out of the "
             "features", DataQualityWarning)
    if ids:
        details = "; ".join(f"{c}: {why}" for c, why in ids.items())
        warn(f"{owner}: {list(ids)} look like identifiers ({details}) and are left out of "
             "the features: they can only memorise rows or leak their order",
             DataQualityWarning)
        dropped.update({c: "identifier" for c in ids})
    keep = [c for c in map(str, raw.columns) if c not in dropped and c not in leaks]
    if y is not None and keep:
        y = np.asarray(y, dtype=np.int64)
        rows = np.arange(n)
        if n > _LEAK_ROWS:
            rows = np.sort(np.random.default_rng(0).choice(n, _LEAK_ROWS, replace=False))
        sample = y[rows]
        folds = _folds(sample, 0) if np.bincount(sample, minlength=2).min() >= 5 else None
        for column in keep:
            if folds is None:  # too few rows of a class to measure separation
                break
            auc = separation(raw[column].iloc[rows], sample, folds=folds)
            if auc >= LEAK_AUC:
                leaks[column] = f"leaks the label (ROC AUC {auc:.3f} on its own)"
    if leaks:
        warn(f"{owner}: {list(leaks)} give the label away and are left out of the "
             f"features ({'; '.join(f'{c}: {why}' for c, why in leaks.items())})",
             LeakageWarning)
        dropped.update(leaks)
        keep = [c for c in keep if c not in leaks]
    return keep, dropped


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
        return labels.to_numpy(dtype=np.float64, na_value=np.nan)
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
    if not isinstance(labels, pd.Series):
        raise TypeError(f"labels must be a pandas Series (the label column of a frame), got "
                        f"{type(labels).__name__}")
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
    from crmmodels.core import numeric_array

    q = np.clip(numeric_array(p, "clipped_logit: p"), 1e-6, 1 - 1e-6)
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
