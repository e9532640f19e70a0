"""Uplift evaluation: Qini and uplift curves, their normalised areas, uplift at k.

Every function takes ``(y_true, uplift, treatment)`` in the order of scikit-uplift's
metrics (``qini_auc_score(y_true, uplift, treatment)``), so code can switch between the
two, and gives scikit-uplift 0.5.1's numbers (the test suite compares them to 1e-12).

* ``y_true``: the outcome, 0/1 or True/False (1 = responded);
* ``uplift``: the predicted uplift (any finite score; higher = target first);
* ``treatment``: 0/1 or True/False (1 = treated, 0 = control); both groups must be
  present.

pandas Series, numpy arrays and lists are accepted; values are matched **by position**
(as in scikit-learn's metrics: a Series' index is not used for alignment).

Ranking and ties
----------------
Rows are ranked by predicted uplift, highest first, by
``np.argsort(uplift, kind="mergesort")[::-1]`` (scikit-uplift's order): among tied
scores the row that comes later in the input is ranked first. The curves are only read
at the end of each run of tied scores (one point per distinct score, plus the origin),
so they, and the areas under them, do not depend on the order of tied rows.
:func:`uplift_at_k` and :func:`uplift_by_percentile` cut the ranked list at a row
count, which can split a run of ties; they then depend on that order.

Curves (``N`` rows, the top ``n`` by score targeted; ``n_t(n)``, ``n_c(n)``: treated
and control rows among them; ``r_t(n)``, ``r_c(n)``: their responders):

* Qini curve: ``Q(n) = r_t(n) - r_c(n) * n_t(n) / n_c(n)`` (incremental responders,
  the control count scaled to the treated group's size);
* uplift curve: ``U(n) = (r_t(n) / n_t(n) - r_c(n) / n_c(n)) * n``;

a ratio whose denominator is zero counts as 0 (as scikit-uplift does). The random
curve is the straight line from ``(0, 0)`` to the curve's end ``(N, Q(N))``. The
normalised area is ``(A_model - A_random) / (A_perfect - A_random)``, areas by the
trapezoidal rule: 1 for the perfect ranking, 0 for a random one, negative when the
ranking is worse than random (:func:`qini_auc` with ``negative_effect=False`` measures
against a perfect curve that ignores customers the treatment put off, so a model can
score above 1 there).

Examples
--------
>>> y = [1, 0, 1, 0, 1, 0, 0, 1]
>>> t = [1, 1, 1, 1, 0, 0, 0, 0]
>>> u = [0.9, 0.2, 0.7, 0.1, 0.3, 0.6, 0.4, 0.05]
>>> x, q = qini_curve(y, u, t)
>>> x.tolist(), [round(float(v), 3) for v in q]
([0, 1, 2, 3, 4, 5, 6, 7, 8], [0.0, 1.0, 2.0, 2.0, 2.0, 1.333, 1.0, 0.667, 0.0])
>>> round(qini_auc(y, u, t), 6)
0.833333
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels.core import Boolean, Constraint, Interval, Options, check_params
from crmmodels.errors import (
    DataQualityWarning,
    DataValidationError,
    InvalidParameterError,
    MissingColumnError,
    warn,
)

__all__ = [
    "make_uplift_scorer",
    "perfect_qini_curve",
    "perfect_uplift_curve",
    "qini_auc",
    "qini_curve",
    "uplift_at_k",
    "uplift_auc",
    "uplift_by_percentile",
    "uplift_curve",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Curve = tuple[IntArray, FloatArray]

_STRATEGY: list[Constraint] = [Options({"overall", "by_group"})]
_K: list[Constraint] = [Interval(Integral, 1, None, closed="left"),
                        Interval(Real, 0, 1, closed="neither")]
_CONSTRAINTS: dict[str, dict[str, list[Constraint]]] = {
    "uplift_auc": {"normalize": [Boolean()]},
    "qini_auc": {"negative_effect": [Boolean()]},
    "perfect_qini_curve": {"negative_effect": [Boolean()]},
    "uplift_at_k": {"strategy": _STRATEGY, "k": _K},
    "uplift_by_percentile": {"strategy": _STRATEGY,
                             "bins": [Interval(Integral, 1, None, closed="left")],
                             "std": [Boolean()], "total": [Boolean()]},
}


# ---------------------------------------------------------------------- input checks
def _values(values: Any, name: str) -> tuple[np.ndarray, pd.Index | None]:
    """Return ``values`` as a 1-d array and, for a Series, its index (for messages)."""
    if isinstance(values, pd.DataFrame):
        raise DataValidationError(f"{name} must be one column (1-d), got a DataFrame",
                                  column=name, rule="shape")
    if values is None or isinstance(values, str | bytes | Mapping):
        raise DataValidationError(f"{name} must be an array of values, got "
                                  f"{type(values).__name__}", column=name, rule="type")
    if isinstance(values, pd.Series):
        return values.to_numpy(), values.index
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise DataValidationError(f"{name} must be 1-d, got shape {arr.shape}",
                                  column=name, rule="shape")
    return arr, None


def _offending(bad: npt.NDArray[np.bool_], index: pd.Index | None) -> list[Any]:
    where = np.flatnonzero(bad)[:5]
    return index[where].tolist() if index is not None else where.tolist()


def _is_binary_value(v: Any) -> bool:
    if isinstance(v, bool | np.bool_):
        return True
    return isinstance(v, Real) and (v == 0 or v == 1)


def _binary(arr: np.ndarray, index: pd.Index | None, name: str, what: str) -> FloatArray:
    """Return a 0/1 float array, or raise naming the missing or non-binary values."""
    missing = np.asarray(pd.isna(arr), dtype=bool)
    if missing.any():
        raise DataValidationError(
            f"{name} holds {int(missing.sum())} missing value(s); it must be 0/1 or "
            f"True/False ({what})",
            column=name, rule="not_missing", rows=_offending(missing, index),
            n_rows=int(missing.sum()))
    if arr.dtype == bool:
        ok = np.ones(len(arr), dtype=bool)
    elif arr.dtype.kind in "iuf":
        ok = (arr == 0) | (arr == 1)
    elif arr.dtype.kind == "O":
        ok = np.fromiter((_is_binary_value(v) for v in arr), dtype=bool, count=len(arr))
    else:
        ok = np.zeros(len(arr), dtype=bool)
    if not ok.all():
        shown = pd.unique(pd.Series(arr[~ok], dtype=object))[:5].tolist()
        raise DataValidationError(
            f"{name} must hold only 0/1 or True/False ({what}), got {shown!r}",
            column=name, rule="binary", rows=_offending(~ok, index), n_rows=int((~ok).sum()))
    return arr.astype(np.float64)


def _check(y_true: Any, uplift: Any, treatment: Any, *, scores: bool = True
           ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validate the inputs; return 0/1 outcomes, finite scores, 0/1 treatment.

    ``scores=False`` (the perfect curves) checks the outcomes and treatment only and
    returns zero scores; otherwise ``uplift`` is required (None is refused).
    """
    named = {"y_true": y_true, "treatment": treatment}
    if scores:
        named["uplift"] = uplift
    arrays = {name: _values(values, name) for name, values in named.items()}
    lengths = {name: len(arr) for name, (arr, _) in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} {n}" for name, n in lengths.items())
        raise DataValidationError(f"the inputs must have equal lengths, got {shown}",
                                  rule="length")
    if lengths["y_true"] == 0:
        raise DataValidationError("the inputs are empty: nothing to evaluate",
                                  rule="non_empty")
    y = _binary(*arrays["y_true"], "y_true", "1 = responded")
    t = _binary(*arrays["treatment"], "treatment", "1 = treated, 0 = control")
    u = _scores(*arrays["uplift"]) if scores else np.zeros(len(y))
    n_treated = int(t.sum())
    if n_treated in (0, len(t)):
        group = "control" if n_treated == 0 else "treated"
        raise DataValidationError(
            f"treatment holds only {group} rows: uplift compares a treated group (1) with a "
            "control group (0), and both are needed", column="treatment", rule="both_groups")
    return y, u, t


def _scores(arr: np.ndarray, index: pd.Index | None) -> FloatArray:
    if arr.dtype.kind == "O":
        missing = np.asarray(pd.isna(arr), dtype=bool)
        if all(isinstance(v, Real) for v in arr[~missing]):
            arr = np.where(missing, np.nan, arr)
    if arr.dtype.kind not in "biuf" and not (
            arr.dtype.kind == "O" and all(isinstance(v, Real) for v in arr)):
        raise DataValidationError(f"uplift must hold numbers, got dtype {arr.dtype}",
                                  column="uplift", rule="numeric")
    u = arr.astype(np.float64)
    bad = ~np.isfinite(u)
    if bad.any():
        raise DataValidationError(
            f"uplift holds {int(bad.sum())} missing or infinite value(s)", column="uplift",
            rule="finite", rows=_offending(bad, index), n_rows=int(bad.sum()))
    return u


# ---------------------------------------------------------------------- curves
def _order(uplift: FloatArray) -> npt.NDArray[np.intp]:
    """Rows by descending score; among ties, later rows first (scikit-uplift's order)."""
    return np.argsort(uplift, kind="mergesort")[::-1]


def _cumulative(y: FloatArray, u: FloatArray, t: FloatArray) -> tuple[
        IntArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Count the top rows at the end of each run of tied scores.

    Returns targeted rows, treated rows, treated responders, control rows and control
    responders.
    """
    order = _order(u)
    ys, us, ts = y[order], u[order], t[order]
    ends = np.r_[np.flatnonzero(np.diff(us)), us.size - 1]
    n_all = (ends + 1).astype(np.int64)
    n_t = np.cumsum(ts, dtype=np.float64)[ends]
    y_t = np.cumsum(ys * ts, dtype=np.float64)[ends]
    y_c = np.cumsum(ys * (1.0 - ts), dtype=np.float64)[ends]
    return n_all, n_t, y_t, n_all - n_t, y_c


def _safe_ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


def _uplift_points(y: FloatArray, u: FloatArray, t: FloatArray) -> Curve:
    n_all, n_t, y_t, n_c, y_c = _cumulative(y, u, t)
    values = (_safe_ratio(y_t, n_t) - _safe_ratio(y_c, n_c)) * n_all
    return np.r_[0, n_all].astype(np.int64), np.r_[0.0, values]


def _qini_points(y: FloatArray, u: FloatArray, t: FloatArray) -> Curve:
    n_all, n_t, y_t, n_c, y_c = _cumulative(y, u, t)
    values = y_t - y_c * _safe_ratio(n_t, n_c)
    return np.r_[0, n_all].astype(np.int64), np.r_[0.0, values]


def uplift_curve(y_true: Any, uplift: Any, treatment: Any) -> Curve:
    """Uplift curve: the difference in response rates among the top ``n``, times ``n``.

    ``U(n) = (r_t(n) / n_t(n) - r_c(n) / n_c(n)) * n``, where among the ``n`` rows with
    the highest predicted uplift ``n_t``, ``n_c`` count the treated and control rows
    and ``r_t``, ``r_c`` their responders; a rate of an empty group counts as 0. One
    point per distinct score (at the end of each run of ties), plus ``(0, 0)``; as
    scikit-uplift's ``uplift_curve``.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes (1 = responded).
    uplift : array-like of float
        Predicted uplift; higher = targeted first.
    treatment : array-like of 0/1 or bool
        1 = treated, 0 = control; both groups must be present.

    Returns
    -------
    x : ndarray of int
        Number of rows targeted, from 0 to ``len(y_true)``.
    y : ndarray of float
        Cumulative uplift at ``x``.

    Raises
    ------
    DataValidationError
        Lengths differ, outcomes or treatment are not binary or missing, a treatment
        group is absent, or a score is not finite.

    Examples
    --------
    >>> x, y = uplift_curve([1, 0, 1, 0], [0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0])
    >>> x.tolist(), y.tolist()
    ([0, 1, 3, 4], [0.0, 1.0, -1.5, 0.0])
    """
    return _uplift_points(*_check(y_true, uplift, treatment))


def qini_curve(y_true: Any, uplift: Any, treatment: Any) -> Curve:
    """Qini curve: incremental responders among the top ``n`` rows.

    ``Q(n) = r_t(n) - r_c(n) * n_t(n) / n_c(n)`` (Radcliffe 2007): treated responders
    less control responders scaled to the treated group's size (0 while no control row
    is among the top ``n``). One point per distinct score (at the end of each run of
    ties), plus ``(0, 0)``; as scikit-uplift's ``qini_curve``.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes (1 = responded).
    uplift : array-like of float
        Predicted uplift; higher = targeted first.
    treatment : array-like of 0/1 or bool
        1 = treated, 0 = control; both groups must be present.

    Returns
    -------
    x : ndarray of int
        Number of rows targeted, from 0 to ``len(y_true)``.
    y : ndarray of float
        Incremental responders at ``x``.

    Raises
    ------
    DataValidationError
        Lengths differ, outcomes or treatment are not binary or missing, a treatment
        group is absent, or a score is not finite.

    Examples
    --------
    >>> x, y = qini_curve([1, 0, 1, 0], [0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0])
    >>> x.tolist(), y.tolist()
    ([0, 1, 3, 4], [0.0, 1.0, -1.0, 0.0])
    """
    return _qini_points(*_check(y_true, uplift, treatment))


def _perfect_uplift(y: FloatArray, t: FloatArray) -> Curve:
    control_responders = np.sum((y == 1) & (t == 0))
    treated_non_responders = np.sum((y == 0) & (t == 1))
    summand = y if control_responders > treated_non_responders else t
    return _uplift_points(y, 2.0 * (y == t) + summand, t)


def perfect_uplift_curve(y_true: Any, treatment: Any) -> Curve:
    """Uplift curve of the best ranking that the outcomes allow (scikit-uplift's).

    The rows are ranked by ``2 * (y_true == treatment) + s``, where ``s`` is
    ``y_true`` when control responders outnumber treated non-responders and
    ``treatment`` otherwise: treated responders and control non-responders first,
    control responders and treated non-responders last; then as :func:`uplift_curve`.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes (1 = responded).
    treatment : array-like of 0/1 or bool
        1 = treated, 0 = control; both groups must be present.

    Returns
    -------
    x, y : ndarray
        As :func:`uplift_curve`.

    Raises
    ------
    DataValidationError
        As :func:`uplift_curve`.

    Examples
    --------
    >>> x, y = perfect_uplift_curve([1, 0, 1, 0], [1, 1, 0, 0])
    >>> x.tolist(), y.tolist()
    ([0, 1, 2, 3, 4], [0.0, 1.0, 2.0, 1.5, 0.0])
    """
    y, _, t = _check(y_true, None, treatment, scores=False)
    return _perfect_uplift(y, t)


def _perfect_qini(y: FloatArray, t: FloatArray, negative_effect: bool) -> tuple[
        npt.NDArray[Any], FloatArray]:
    if negative_effect:
        return _qini_points(y, y * t - y * (1 - t), t)
    n_t, n_c = float(t.sum()), float(len(t) - t.sum())
    gain = float(np.sum(y[t == 1]) - n_t * np.sum(y[t == 0]) / n_c)
    if gain < 0:
        raise DataValidationError(
            f"the treated group responded less than the control group (incremental "
            f"responders {gain:.6g}): the perfect Qini curve without negative effects is "
            "undefined; use negative_effect=True", rule="negative_overall_effect")
    return np.array([0.0, gain, float(len(y))]), np.array([0.0, gain, gain])


def perfect_qini_curve(y_true: Any, treatment: Any, *, negative_effect: bool = True) -> tuple[
        npt.NDArray[Any], FloatArray]:
    """Qini curve of the best ranking that the outcomes allow (scikit-uplift's).

    With ``negative_effect=True`` the rows are ranked treated responders first, control
    responders last (score ``y * t - y * (1 - t)``), then as :func:`qini_curve`: the
    curve rises above the overall effect and comes down again through the customers
    whom the treatment put off. With ``negative_effect=False`` the curve assumes no one
    is put off: ``(0, 0)``, ``(g, g)``, ``(N, g)``, where
    ``g = R_t - N_t * R_c / N_c`` is the overall number of incremental responders.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes (1 = responded).
    treatment : array-like of 0/1 or bool
        1 = treated, 0 = control; both groups must be present.
    negative_effect : bool, default True
        Whether the perfect curve includes customers the treatment put off.

    Returns
    -------
    x, y : ndarray
        Points on the curve; ``x`` is int with ``negative_effect=True`` and float
        otherwise (``g`` need not be whole).

    Raises
    ------
    DataValidationError
        As :func:`qini_curve`; with ``negative_effect=False``, also when the treated
        group responded less than the control group (``g < 0``).
    InvalidParameterError
        ``negative_effect`` is not a bool.

    Examples
    --------
    >>> x, y = perfect_qini_curve([1, 0, 1, 0], [1, 1, 0, 0])
    >>> x.tolist(), y.tolist()
    ([0, 1, 3, 4], [0.0, 1.0, 1.0, 0.0])
    >>> perfect_qini_curve([1, 0, 1, 0], [1, 1, 0, 0], negative_effect=False)[1].tolist()
    [0.0, 0.0, 0.0]
    """
    check_params("perfect_qini_curve", {"negative_effect": negative_effect},
                 _CONSTRAINTS["perfect_qini_curve"])
    y, _, t = _check(y_true, None, treatment, scores=False)
    return _perfect_qini(y, t, bool(negative_effect))


def _area(x: npt.NDArray[Any], y: FloatArray) -> float:
    """Trapezoidal area (the sum scikit-learn's ``auc`` computes, in the same order)."""
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0))


def _normalised(model: tuple[npt.NDArray[Any], FloatArray],
                perfect: tuple[npt.NDArray[Any], FloatArray], name: str) -> float:
    """``(A_model - A_random) / (A_perfect - A_random)`` as scikit-uplift computes it."""
    x_random = np.array([0, perfect[0][-1]])
    y_random = np.array([0, perfect[1][-1]])
    random = _area(x_random, y_random)
    best = _area(*perfect) - random
    if best == 0:
        raise DataValidationError(
            f"the perfect {name} curve has the same area as the random one (e.g. all "
            "outcomes are equal), so the normalised area is undefined", rule="degenerate")
    return (_area(*model) - random) / best


def uplift_auc(y_true: Any, uplift: Any, treatment: Any, *, normalize: bool = True) -> float:
    """Area under the uplift curve, normalised as scikit-uplift's ``uplift_auc_score``.

    ``(A_model - A_random) / (A_perfect - A_random)``: the areas (trapezoidal rule)
    under :func:`uplift_curve`, under the straight line from ``(0, 0)`` to the curve's
    end and under :func:`perfect_uplift_curve`. 1 = the perfect ranking, 0 = random.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes (1 = responded).
    uplift : array-like of float
        Predicted uplift; higher = targeted first.
    treatment : array-like of 0/1 or bool
        1 = treated, 0 = control; both groups must be present.
    normalize : bool, default True
        When False, return ``A_model - A_random`` (in rows x responders, not
        normalised; positive = better than random). The plain area under the curve is
        ``numpy.trapezoid(y, x)`` of :func:`uplift_curve`.

    Returns
    -------
    float

    Raises
    ------
    DataValidationError
        As :func:`uplift_curve`; with ``normalize=True``, also when the perfect curve's
        area equals the random one's (e.g. every outcome is 0).
    InvalidParameterError
        ``normalize`` is not a bool.

    Examples
    --------
    >>> y, t = [1, 0, 1, 0, 1, 0], [1, 1, 1, 0, 0, 0]
    >>> round(uplift_auc(y, [0.9, 0.1, 0.8, 0.7, 0.3, 0.2], t), 6)
    0.76
    >>> round(uplift_auc(y, [0.9, 0.1, 0.8, 0.7, 0.3, 0.2], t, normalize=False), 6)
    6.333333
    """
    check_params("uplift_auc", {"normalize": normalize}, _CONSTRAINTS["uplift_auc"])
    y, u, t = _check(y_true, uplift, treatment)
    model = _uplift_points(y, u, t)
    if not normalize:
        n, end = model[0][-1], model[1][-1]
        return _area(*model) - _area(np.array([0, n]), np.array([0, end]))
    return _normalised(model, _perfect_uplift(y, t), "uplift")


def qini_auc(y_true: Any, uplift: Any, treatment: Any, *,
             negative_effect: bool = True) -> float:
    """Area under the Qini curve, normalised as scikit-uplift's ``qini_auc_score``.

    ``(A_model - A_random) / (A_perfect - A_random)`` (the Qini coefficient scaled by
    the perfect ranking's): the areas (trapezoidal rule) under :func:`qini_curve`,
    under the straight line from ``(0, 0)`` to the perfect curve's end and under
    :func:`perfect_qini_curve`. 1 = the perfect ranking, 0 = random; with
    ``negative_effect=False`` a model that also ranks the customers put off last can
    score above 1.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes (1 = responded).
    uplift : array-like of float
        Predicted uplift; higher = targeted first.
    treatment : array-like of 0/1 or bool
        1 = treated, 0 = control; both groups must be present.
    negative_effect : bool, default True
        Whether the perfect curve includes customers the treatment put off (see
        :func:`perfect_qini_curve`).

    Returns
    -------
    float

    Raises
    ------
    DataValidationError
        As :func:`qini_curve`; also when the perfect curve's area equals the random
        one's (e.g. every outcome is 0), and with ``negative_effect=False`` when the
        treated group responded less than the control group.
    InvalidParameterError
        ``negative_effect`` is not a bool.

    Examples
    --------
    >>> y, t = [1, 0, 1, 0, 1, 0], [1, 1, 1, 0, 0, 0]
    >>> round(qini_auc(y, [0.9, 0.1, 0.8, 0.7, 0.3, 0.2], t), 6)
    0.74359
    >>> round(qini_auc(y, [0.9, 0.1, 0.8, 0.7, 0.3, 0.2], t, negative_effect=False), 6)
    1.933333
    """
    check_params("qini_auc", {"negative_effect": negative_effect}, _CONSTRAINTS["qini_auc"])
    y, u, t = _check(y_true, uplift, treatment)
    return _normalised(_qini_points(y, u, t), _perfect_qini(y, t, bool(negative_effect)),
                       "Qini")


# ---------------------------------------------------------------------- uplift at k
def _group_mean(y: FloatArray, what: str, k: Any) -> float:
    if len(y) == 0:
        raise DataValidationError(
            f"the top k={k!r} rows hold no {what} row, so uplift at k is undefined; "
            "raise k", rule="empty_group")
    return float(y.mean())


def uplift_at_k(y_true: Any, uplift: Any, treatment: Any, *, strategy: str = "overall",
                k: float = 0.3) -> float:
    """Treated minus control response rate among the rows with the highest uplift.

    As scikit-uplift's ``uplift_at_k``, rows ranked by
    ``np.argsort(uplift, kind="mergesort")[::-1]`` (among ties, later rows first).

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes (1 = responded).
    uplift : array-like of float
        Predicted uplift; higher = targeted first.
    treatment : array-like of 0/1 or bool
        1 = treated, 0 = control; both groups must be present.
    strategy : {"overall", "by_group"}, default "overall"
        ``"overall"``: the top ``k`` of all rows, then the response rate of the treated
        and of the control rows among them; ``"by_group"``: the top ``k`` of the treated
        rows and the top ``k`` of the control rows, each group ranked on its own.
    k : float or int, default 0.3
        A float in (0, 1) is a share: ``int(k * N)`` rows (``"overall"``) or
        ``int(k * N_t)`` treated and ``int(k * N_c)`` control rows (``"by_group"``);
        an int >= 1 is a number of rows (of each group with ``"by_group"``).

    Returns
    -------
    float

    Raises
    ------
    DataValidationError
        As :func:`uplift_curve`; also when the selected rows hold no treated or no
        control row.
    InvalidParameterError
        ``strategy`` or ``k`` is invalid, or an int ``k`` exceeds the rows (of a group).

    Examples
    --------
    >>> y, t = [1, 0, 1, 0, 1, 0], [1, 1, 1, 0, 0, 0]
    >>> u = [0.9, 0.1, 0.8, 0.7, 0.3, 0.2]
    >>> uplift_at_k(y, u, t, k=0.5)
    1.0
    >>> uplift_at_k(y, u, t, strategy="by_group", k=2)
    0.5
    """
    check_params("uplift_at_k", {"strategy": strategy, "k": k}, _CONSTRAINTS["uplift_at_k"])
    y, u, t = _check(y_true, uplift, treatment)
    is_count = isinstance(k, Integral)
    order = _order(u)
    ys, ts = y[order], t[order]
    if strategy == "overall":
        n = int(k) if is_count else int(len(y) * k)
        if n > len(y):
            raise InvalidParameterError(f"uplift_at_k: k={k!r} exceeds the {len(y)} rows")
        top_y, top_t = ys[:n], ts[:n]
        return (_group_mean(top_y[top_t == 1], "treated", k)
                - _group_mean(top_y[top_t == 0], "control", k))
    scores = {}
    for flag, what in ((1.0, "treated"), (0.0, "control")):
        group = ys[ts == flag]
        n = int(k) if is_count else int(len(group) * k)
        if n > len(group):
            raise InvalidParameterError(
                f"uplift_at_k: k={k!r} exceeds the {len(group)} {what} rows")
        scores[what] = _group_mean(group[:n], what, k)
    return scores["treated"] - scores["control"]


# ---------------------------------------------------------------------- by percentile
def _rates(parts: list[FloatArray]) -> tuple[IntArray, FloatArray]:
    sizes = np.array([len(p) for p in parts], dtype=np.int64)
    rates = np.array([p.mean() if len(p) else np.nan for p in parts], dtype=np.float64)
    return sizes, rates


def uplift_by_percentile(y_true: Any, uplift: Any, treatment: Any, *,
                         strategy: str = "overall", bins: int = 10, std: bool = False,
                         total: bool = False) -> pd.DataFrame:
    """Group sizes, response rates and uplift in each percentile of predicted uplift.

    As scikit-uplift's ``uplift_by_percentile``: the ranked rows (as
    :func:`uplift_at_k` ranks them) are cut into ``bins`` parts of equal size (the
    first ``N % bins`` parts one row larger, as ``numpy.array_split`` cuts), over all
    rows (``"overall"``) or over each group on its own (``"by_group"``).

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes (1 = responded).
    uplift : array-like of float
        Predicted uplift; higher = targeted first.
    treatment : array-like of 0/1 or bool
        1 = treated, 0 = control; both groups must be present.
    strategy : {"overall", "by_group"}, default "overall"
        Cut all rows, or the treated and the control rows separately.
    bins : int, default 10
        Number of parts, at most the number of rows.
    std : bool, default False
        Add ``std_treatment`` and ``std_control`` (``sqrt(p * (1 - p) / n)`` of each
        response rate) and ``std_uplift`` (``sqrt`` of the sum of their squares).
    total : bool, default False
        Add a last row ``"total"`` over all rows. Its ``std_*`` columns are the same
        formulas over all rows (scikit-uplift 0.5.1 writes the sum of the parts'
        standard deviations there instead).

    Returns
    -------
    DataFrame
        Indexed by ``percentile`` (``"0-10"``, ``"10-20"``, ...; bounds are
        ``round(100 * i / bins)``), columns ``n_treatment``, ``n_control``,
        ``response_rate_treatment``, ``response_rate_control``, ``uplift`` and, with
        ``std=True``, ``std_treatment``, ``std_control``, ``std_uplift``. A part
        without treated (or control) rows has a NaN rate and uplift, with a
        :class:`~crmmodels.errors.DataQualityWarning` naming those parts.

    Raises
    ------
    DataValidationError
        As :func:`uplift_curve`.
    InvalidParameterError
        ``strategy``, ``bins``, ``std`` or ``total`` is invalid, or ``bins`` exceeds
        the rows.

    Examples
    --------
    >>> y, t = [1, 0, 1, 0, 1, 0, 1, 1], [1, 1, 1, 0, 0, 0, 1, 0]
    >>> u = [0.9, 0.1, 0.8, 0.7, 0.3, 0.2, 0.5, 0.6]
    >>> table = uplift_by_percentile(y, u, t, bins=2)
    >>> table.index.tolist(), table["uplift"].tolist()
    (['0-50', '50-100'], [0.5, 0.0])
    """
    check_params("uplift_by_percentile",
                 {"strategy": strategy, "bins": bins, "std": std, "total": total},
                 _CONSTRAINTS["uplift_by_percentile"])
    y, u, t = _check(y_true, uplift, treatment)
    bins = int(bins)
    if bins > len(y):
        raise InvalidParameterError(
            f"uplift_by_percentile: bins={bins} exceeds the {len(y)} rows")
    order = _order(u)
    ys, ts = y[order], t[order]
    if strategy == "overall":
        y_parts, t_parts = np.array_split(ys, bins), np.array_split(ts, bins)
        n_t, rate_t = _rates([p[g == 1] for p, g in zip(y_parts, t_parts, strict=True)])
        n_c, rate_c = _rates([p[g == 0] for p, g in zip(y_parts, t_parts, strict=True)])
    else:
        n_t, rate_t = _rates(np.array_split(ys[ts == 1], bins))
        n_c, rate_c = _rates(np.array_split(ys[ts == 0], bins))
    bounds = [round(p * 100 / bins) for p in range(1, bins + 1)]
    labels = [f"{lo}-{hi}" for lo, hi in zip([0, *bounds[:-1]], bounds, strict=True)]
    empty = [label for label, a, b in zip(labels, n_t, n_c, strict=True) if a == 0 or b == 0]
    if empty:
        warn(f"uplift_by_percentile: {len(empty)} of {bins} parts hold no treated or no "
             f"control row ({', '.join(empty[:5])}{', ...' if len(empty) > 5 else ''}); "
             "their response rate and uplift are NaN (use fewer bins)", DataQualityWarning)
    if total:
        labels.append("total")
        n_t = np.r_[n_t, int(t.sum())]
        n_c = np.r_[n_c, int(len(t) - t.sum())]
        rate_t = np.r_[rate_t, y[t == 1].mean()]
        rate_c = np.r_[rate_c, y[t == 0].mean()]
    frame = pd.DataFrame({"n_treatment": n_t, "n_control": n_c,
                          "response_rate_treatment": rate_t,
                          "response_rate_control": rate_c,
                          "uplift": rate_t - rate_c},
                         index=pd.Index(labels, name="percentile"))
    if std:
        with np.errstate(invalid="ignore", divide="ignore"):
            var_t = rate_t * ((1 - rate_t) / n_t)
            var_c = rate_c * ((1 - rate_c) / n_c)
        frame["std_treatment"] = np.sqrt(var_t)
        frame["std_control"] = np.sqrt(var_c)
        frame["std_uplift"] = np.sqrt(var_t + var_c)
    return frame


# ---------------------------------------------------------------------- scorer
_METRICS: dict[str, Callable[..., float]] = {
    "qini_auc": qini_auc, "uplift_auc": uplift_auc, "uplift_at_k": uplift_at_k}


class _UpliftScorer:
    """``scorer(estimator, X, y=None) -> float`` for an uplift model (see the factory)."""

    def __init__(self, metric: str, kwargs: dict[str, Any]) -> None:
        self.metric = metric
        self.kwargs = kwargs

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"make_uplift_scorer({self.metric!r}{extra})"

    def __call__(self, estimator: Any, X: Any, y: Any = None) -> float:  # noqa: N803
        missing = [a for a in ("treatment", "outcome", "control") if not hasattr(estimator, a)]
        if missing:
            raise InvalidParameterError(
                f"make_uplift_scorer scores uplift models, whose parameters `treatment`, "
                f"`outcome` and `control` name the columns; {type(estimator).__name__} has "
                f"no {', '.join(missing)}")
        if not isinstance(X, pd.DataFrame):
            raise DataValidationError(f"X must be a DataFrame, got {type(X).__name__}",
                                      frame="X", rule="type")
        for column in (estimator.outcome, estimator.treatment):
            if column not in X.columns:
                raise MissingColumnError("X", column, list(X.columns))
        outcome = X[estimator.outcome]
        if y is not None and not np.array_equal(np.asarray(y), outcome.to_numpy()):
            raise DataValidationError(
                f"y differs from X[{estimator.outcome!r}]: the scorer reads the outcome "
                "from X; pass y=None", frame="X", column=str(estimator.outcome),
                rule="conflicting_y")
        treated = self._treated(X[estimator.treatment], estimator.control,
                                str(estimator.treatment))
        scores = estimator.score(X)
        if not isinstance(scores, pd.DataFrame) or "uplift" not in scores.columns:
            raise DataValidationError(
                f"{type(estimator).__name__}.score(X) must return a DataFrame with an "
                "'uplift' column", rule="score_output")
        if len(scores) != len(X):
            raise DataValidationError(
                f"{type(estimator).__name__}.score(X) returned {len(scores)} rows for "
                f"{len(X)} input rows; one row per input row is needed", rule="score_output")
        return float(_METRICS[self.metric](outcome, scores["uplift"].to_numpy(), treated,
                                           **self.kwargs))

    @staticmethod
    def _treated(column: pd.Series, control: Any, name: str) -> Any:
        if control is None:
            return column  # must be 0/1 or bool: the metric checks it
        missing = column.isna()
        if missing.any():
            raise DataValidationError(
                f"treatment column {name!r} holds {int(missing.sum())} missing value(s)",
                frame="X", column=name, rule="not_missing",
                rows=column.index[missing.to_numpy()].tolist(), n_rows=int(missing.sum()))
        values = pd.unique(column)
        if len(values) > 2:
            raise DataValidationError(
                f"treatment column {name!r} holds {len(values)} values "
                f"({values[:5].tolist()!r}): the scorer compares one treatment with the "
                f"control {control!r}; score one treatment at a time", frame="X",
                column=name, rule="two_groups")
        return (column != control).to_numpy()


def make_uplift_scorer(metric: str = "qini_auc", **kwargs: Any) -> Callable[..., float]:
    """Build a scikit-learn scorer ``scorer(estimator, X, y=None) -> float``.

    For model selection of an uplift model (``GridSearchCV(model, grid,
    scoring=make_uplift_scorer())``): our models' ``score`` returns a frame, not a
    number, so grid search needs this explicit ``scoring=``. The model takes a
    DataFrame ``X`` holding its feature, treatment and outcome columns; its parameters
    ``treatment`` and ``outcome`` name those columns and ``control`` the control value
    (``None``: the treatment column holds 0/1 or bools, 0/False = control). The scorer
    reads the outcome from ``X[estimator.outcome]``, treated = ``X[estimator.treatment]
    != estimator.control``, and the uplift from the ``uplift`` column of
    ``estimator.score(X)`` (one row per row of ``X``, in order), and returns
    ``metric(outcome, uplift, treated, **kwargs)``. Higher is better for every metric.

    Parameters
    ----------
    metric : {"qini_auc", "uplift_auc", "uplift_at_k"}, default "qini_auc"
        :func:`qini_auc`, :func:`uplift_auc` or :func:`uplift_at_k`.
    **kwargs
        Keyword options of the metric (``negative_effect``; ``normalize``;
        ``strategy``, ``k``), checked here.

    Returns
    -------
    callable
        ``scorer(estimator, X, y=None)``; ``y``, which scikit-learn passes when given,
        must be None or equal to ``X[estimator.outcome]``.

    Raises
    ------
    InvalidParameterError
        Unknown metric, option or option value.

    Examples
    --------
    >>> make_uplift_scorer("uplift_at_k", k=0.2)
    make_uplift_scorer('uplift_at_k', k=0.2)
    >>> make_uplift_scorer("qini", k=0.2)
    Traceback (most recent call last):
    ...
    crmmodels.errors.InvalidParameterError: metric must be one of 'qini_auc', \
'uplift_at_k', 'uplift_auc', got 'qini'
    """
    if not isinstance(metric, str) or metric not in _METRICS:
        raise InvalidParameterError(
            f"metric must be one of {', '.join(repr(m) for m in sorted(_METRICS))}, "
            f"got {metric!r}")
    function = _METRICS[metric]
    options = [name for name, p in inspect.signature(function).parameters.items()
               if p.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(kwargs) - set(options))
    if unknown:
        raise InvalidParameterError(
            f"make_uplift_scorer: {metric} takes the options {options}, got {unknown}")
    check_params(metric, kwargs, _CONSTRAINTS[metric])
    return _UpliftScorer(metric, dict(kwargs))
