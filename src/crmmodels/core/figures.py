"""Small helpers every figure of crmmodels shares.

matplotlib is an optional dependency (``pip install "crmmodels[plot]"``): it is imported
only when a figure is drawn. Each plotting function of a subpackage takes ``ax=None``,
draws on a new figure when none is given (:func:`new_axes`) and returns the
:class:`matplotlib.axes.Axes`; none calls ``plt.show()``. The argument checks here give
every plotting function the same messages.

Examples
--------
>>> check_count(3, "n")
3
>>> is_number(float("nan"))
False
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crmmodels.errors import DataValidationError, InvalidParameterError, optional_dependency

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["check_column_name", "check_count", "check_frame", "check_positive", "is_number",
           "new_axes", "numeric_array", "numeric_column", "require_columns"]


def new_axes(ax: Axes | None) -> Axes:
    """Return ``ax``, or the axes of a new figure when ``ax`` is None.

    Examples
    --------
    >>> import matplotlib
    >>> new_axes(None).__class__.__name__
    'Axes'
    """
    if ax is not None:
        return ax
    plt = optional_dependency("matplotlib.pyplot", needed_for="drawing a figure", extra="plot")
    axes: Axes = plt.figure().add_subplot()
    return axes


def is_number(v: object) -> bool:
    """Return whether ``v`` is a finite real number (not a bool)."""
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(
        v, bool | np.bool_) and bool(np.isfinite(v))


def check_count(value: object, name: str) -> int:
    """Return ``value`` as an int when it is a whole number >= 0, else raise.

    Raises
    ------
    InvalidParameterError
        Naming ``name``.
    """
    if not (isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
            and value >= 0):
        raise InvalidParameterError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(value)


def check_positive(value: object, name: str) -> float:
    """Return ``value`` as a float when it is a positive finite number, else raise.

    Raises
    ------
    InvalidParameterError
        Naming ``name``.
    """
    if not (is_number(value) and float(value) > 0):  # type: ignore[arg-type]
        raise InvalidParameterError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def numeric_array(value: object, name: str) -> np.ndarray:
    """Return ``value`` as a float array when it is a number or an array of numbers.

    ``None``, text, mappings and sequences that do not convert to numbers are refused
    (``numpy.asarray`` would turn ``None`` into NaN and ``"3"`` into 3.0).

    Raises
    ------
    TypeError
        Naming ``name`` and the type received.

    Examples
    --------
    >>> numeric_array([1, 2], "t").tolist()
    [1.0, 2.0]
    >>> numeric_array(None, "t")
    Traceback (most recent call last):
    ...
    TypeError: t must be a number or an array of numbers, got NoneType
    """
    what = f"{name} must be a number or an array of numbers, got {type(value).__name__}"
    if value is None or isinstance(value, str | bytes | Mapping):
        raise TypeError(what)
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what}: {exc}") from exc


def _require_frame(frame: object, name: str, source: str | None) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        what = f"the DataFrame returned by {source}" if source else "a DataFrame"
        raise DataValidationError(f"{name} must be {what}, got {type(frame).__name__}",
                                  frame=name, rule="type")
    return frame


# ---------------------------------------------------------------------- heat maps


# ---------------------------------------------------------------------- evaluation


# ---------------------------------------------------------------------- retention


def check_frame(frame: object, name: str, source: str) -> pd.DataFrame:
    """Return ``frame`` when it is a non-empty DataFrame, else raise.

    ``source`` names the function whose output the figure expects.

    Raises
    ------
    DataValidationError
        Naming the frame and the rule.
    """
    frame = _require_frame(frame, name, source)
    if len(frame) == 0:
        raise DataValidationError(f"{name} is empty: there is nothing to draw",
                                  frame=name, rule="non_empty")
    return frame


def check_column_name(value: object, name: str) -> str:
    """Return ``value`` when it is a non-empty string (a column name), else raise.

    Raises
    ------
    InvalidParameterError
        Naming ``name``.
    """
    if not isinstance(value, str) or not value:
        raise InvalidParameterError(f"{name} must be a column name (a string), got {value!r}")
    return value


def require_columns(frame: pd.DataFrame, name: str, columns: tuple[str, ...],
                     source: str) -> None:
    """Raise when ``frame`` lacks one of ``columns``, saying which function builds it.

    Raises
    ------
    DataValidationError
        ``frame`` is not a DataFrame, or lacks a column (the message names it).
    """
    _require_frame(frame, name, source)
    for column in columns:
        if column not in frame.columns:
            raise DataValidationError(
                f"{name} lacks the column {column!r} (have {[str(c) for c in frame.columns]!r});"
                f" build it with {source}",
                frame=name, column=column, rule="required_column")


def numeric_column(frame: pd.DataFrame, name: str, column: str,
                    non_negative: bool = False) -> np.ndarray:
    """Return a numeric column as float64, refusing missing, infinite or negative values.

    Raises
    ------
    DataValidationError
        ``frame`` is not a DataFrame, or the column breaks a rule (the message names
        the column, the rule and the offending rows).
    """
    raw = _require_frame(frame, name, None)[column]
    if not pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        raise DataValidationError(f"{name} column {column!r} must be numeric, got {raw.dtype}",
                                  frame=name, column=column, rule="numeric")
    values = raw.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if non_negative:
        bad |= values < 0
    if bad.any():
        what = "finite numbers >= 0" if non_negative else "finite numbers"
        raise DataValidationError(
            f"{name} column {column!r} must hold {what}",
            frame=name, column=column, rule="non_negative" if non_negative else "not_missing",
            rows=frame.index[bad].tolist(), n_rows=int(bad.sum()))
    return values


# ---------------------------------------------------------------------- association rules


# ---------------------------------------------------------------- propensity models


