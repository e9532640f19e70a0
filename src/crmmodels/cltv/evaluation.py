"""Holdout evaluation of transaction models (BG/NBD, Pareto/NBD, ...).

* :func:`holdout_comparison` compares, per customer, the purchases predicted for the
  holdout period with the purchases that happened (MAE, RMSE, correlation, totals);
* :func:`purchase_tracking` compares cumulative repeat purchases of the whole cohort,
  period by period, with the model's expectation (the "tracking plot" of Fader,
  Hardie & Lee 2005).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted

from crmmodels.core import Options, check_params, renamed_argument
from crmmodels.data import CRMData
from crmmodels.errors import DataValidationError, InvalidParameterError, NotFittedError

__all__ = ["HoldoutResult", "holdout_comparison", "purchase_tracking"]


class _TransactionModel(Protocol):
    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any,
                                       T: Any) -> np.ndarray: ...  # noqa: N803

    def expected_purchases(self, t: Any) -> np.ndarray: ...


def _require_model(func: str, model: Any, methods: tuple[str, ...], *,
                   kind: str = "transaction model such as BetaGeoModel") -> None:
    """Check that ``model`` is a fitted model with ``methods``, naming what is missing.

    ``kind`` completes the advice "pass a fitted ...".

    Raises
    ------
    TypeError
        ``model`` is a class, or lacks one of ``methods``: the message names the
        function, the object's type and the first missing method.
    NotFittedError
        ``model`` is an estimator (it has ``fit``) that has not been fitted.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> try:
    ...     _require_model("holdout_comparison", LinearRegression(),
    ...                    ("conditional_expected_purchases",))
    ... except TypeError as err:
    ...     print(err)  # doctest: +NORMALIZE_WHITESPACE
    holdout_comparison: model (LinearRegression) has no conditional_expected_purchases;
    pass a fitted transaction model such as BetaGeoModel
    """
    if isinstance(model, type):
        raise TypeError(
            f"{func}: model is the class {model.__name__}, not a model; pass a fitted "
            f"instance, e.g. {model.__name__}().fit(calibration)"
        )
    for method in methods:
        if not callable(getattr(model, method, None)):
            raise TypeError(
                f"{func}: model ({type(model).__name__}) has no {method}; pass a fitted "
                f"{kind}"
            )
    if callable(getattr(model, "fit", None)):
        try:
            check_is_fitted(model)
        except _SklearnNotFittedError as err:
            raise NotFittedError(
                f"{func}: model ({type(model).__name__}) is not fitted; call its fit on "
                "the calibration data first"
            ) from err


@dataclass(frozen=True)
class HoldoutResult:
    """Per-customer predicted vs actual holdout purchases and summary metrics.

    Attributes
    ----------
    table : DataFrame
        Indexed by ``customer_id``: ``frequency`` (calibration), ``actual``,
        ``predicted``.
    metrics : dict
        ``mae``, ``rmse``, ``correlation``, ``total_actual``, ``total_predicted``,
        ``total_error`` (predicted / actual - 1).
    """

    table: pd.DataFrame
    metrics: dict[str, float]

    def by_frequency(self, max_frequency: int = 7) -> pd.DataFrame:
        """Mean actual and predicted holdout purchases by calibration frequency.

        Frequencies above ``max_frequency`` are pooled into one ``max_frequency+``
        group (the paper's "conditional expectations" figure).
        """
        f = self.table["frequency"].clip(upper=max_frequency).astype(int)
        out = self.table.groupby(f)[["actual", "predicted"]].mean()
        out["customers"] = self.table.groupby(f).size()
        out.index = pd.Index([str(i) if i < max_frequency else f"{max_frequency}+"
                              for i in out.index], name="frequency")
        return out


def holdout_comparison(model: _TransactionModel, split: pd.DataFrame) -> HoldoutResult:
    """Compare a fitted model's holdout predictions with what happened.

    Parameters
    ----------
    model : fitted transaction model
        Anything with ``conditional_expected_purchases(t, frequency, recency, T)``
        (BG/NBD, Pareto/NBD, MBG/NBD, BG/BB, :class:`~crmmodels.cltv.NaiveRateModel`),
        fitted on the calibration columns of ``split``.
    split : DataFrame
        Output of :func:`crmmodels.data.calibration_holdout`.

    Returns
    -------
    HoldoutResult

    Raises
    ------
    TypeError
        ``model`` has no ``conditional_expected_purchases`` (or is a class), or
        ``split`` is not a DataFrame.
    NotFittedError
        ``model`` has not been fitted.
    DataValidationError
        ``split`` lacks a column of :func:`~crmmodels.data.calibration_holdout`.

    Examples
    --------
    >>> from crmmodels.cltv import BetaGeoModel
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> from crmmodels.data import calibration_holdout
    >>> split = calibration_holdout(load_cdnow_sample(), "1997-09-30", "1998-06-30",
    ...                             freq="D", freq_multiplier=7)
    >>> model = BetaGeoModel().fit(split[["frequency", "recency", "T"]])
    >>> result = holdout_comparison(model, split)
    >>> sorted(result.metrics)
    ['correlation', 'mae', 'rmse', 'total_actual', 'total_error', 'total_predicted']

    The no-dropout baseline takes the same call:

    >>> from crmmodels.cltv import NaiveRateModel
    >>> naive = NaiveRateModel().fit(split[["frequency", "recency", "T"]])
    >>> holdout_comparison(naive, split).metrics["total_error"] > result.metrics["total_error"]
    True
    """
    _require_model("holdout_comparison", model, ("conditional_expected_purchases",))
    if not isinstance(split, pd.DataFrame):
        raise TypeError(
            f"holdout_comparison: split must be the DataFrame of "
            f"crmmodels.data.calibration_holdout, got {type(split).__name__}"
        )
    needed = ["frequency", "recency", "T", "frequency_holdout", "duration_holdout"]
    missing = [c for c in needed if c not in split.columns]
    if missing:
        raise DataValidationError(
            f"split lacks {missing}; build it with crmmodels.data.calibration_holdout",
            frame="summary", column=missing[0], rule="required_column",
        )
    x, tx, t = (split[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    duration = split["duration_holdout"].to_numpy(dtype=float)
    predicted = np.asarray(model.conditional_expected_purchases(duration, x, tx, t), dtype=float)
    actual = split["frequency_holdout"].to_numpy(dtype=float)
    err = predicted - actual
    with np.errstate(invalid="ignore"):
        corr = float(np.corrcoef(predicted, actual)[0, 1]) if len(actual) > 1 else float("nan")
    metrics = {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "correlation": corr,
        "total_actual": float(actual.sum()),
        "total_predicted": float(predicted.sum()),
        "total_error": float(predicted.sum() / actual.sum() - 1) if actual.sum() > 0
        else float("nan"),
    }
    table = pd.DataFrame({"frequency": x, "actual": actual, "predicted": predicted},
                         index=pd.Index(split.index, name="customer_id"))
    return HoldoutResult(table, metrics)


def purchase_tracking(
    model: _TransactionModel,
    data: CRMData,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    *,
    freq: str = "W",
    cutoff: str | pd.Timestamp | None = None,
    unit: str | None = None,
    calibration_end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Cumulative repeat purchases of a cohort per period: actual vs expected.

    A repeat purchase is a purchase day after the customer's first purchase day (days
    with several purchases count once, as in the summary with ``freq="D"``). The
    expectation sums, over customers, the model's ``expected_purchases`` for a new
    customer, from each customer's first purchase to the end of each period. The
    model must have been fitted in the same time unit (``freq``; e.g. weeks with
    ``customer_summary(data, "D", freq_multiplier=7)``).

    Parameters
    ----------
    model : fitted transaction model
        Anything with ``expected_purchases(t)`` (BG/NBD, Pareto/NBD, MBG/NBD,
        :class:`~crmmodels.cltv.NaiveRateModel`...).
    data : CRMData
        The cohort's transactions.
    start, end : date
        First day of period 1 and the end of the tracked range.
    freq : {"D", "W"}, default "W"
        Length of one tracked period: a day or a week.
    cutoff : date, optional
        End of the calibration period: only marks, in the ``in_calibration`` column,
        the periods that ended by then (the data the model was fitted on).
    unit : {"D", "W"}, optional
        Deprecated old name of ``freq``: still accepted with a ``FutureWarning``.
    calibration_end : date, optional
        Deprecated old name of ``cutoff``: still accepted with a ``FutureWarning``.

    Returns
    -------
    DataFrame
        Indexed by ``period`` (1, 2, ...): ``actual``, ``expected`` (per period),
        ``actual_cumulative``, ``expected_cumulative``, ``in_calibration``.

    Raises
    ------
    TypeError
        ``model`` has no ``expected_purchases`` (or is a class), or ``data`` is not a
        :class:`~crmmodels.CRMData`.
    NotFittedError
        ``model`` has not been fitted.
    InvalidParameterError
        A ``freq`` other than ``"D"`` or ``"W"``, ``end`` not after ``start``, or a
        parameter given under both its new and its old name.

    Examples
    --------
    >>> from crmmodels.cltv import BetaGeoModel
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> from crmmodels.data import calibration_holdout
    >>> data = load_cdnow_sample()
    >>> split = calibration_holdout(data, "1997-09-30", freq="D", freq_multiplier=7)
    >>> model = BetaGeoModel().fit(split[["frequency", "recency", "T"]])
    >>> track = purchase_tracking(model, data, "1997-01-01", "1998-06-30",
    ...                           cutoff="1997-09-30")
    >>> len(track), int(track["in_calibration"].sum())
    (78, 39)
    """
    freq = renamed_argument("purchase_tracking", "unit", unit, "freq", freq, default="W")
    cutoff = renamed_argument("purchase_tracking", "calibration_end", calibration_end,
                              "cutoff", cutoff)
    check_params("purchase_tracking", {"freq": freq}, {"freq": [Options({"D", "W"})]})
    _require_model("purchase_tracking", model, ("expected_purchases",))
    if not isinstance(data, CRMData):
        raise TypeError(
            f"purchase_tracking: data must be a CRMData holding the cohort's transactions, "
            f"got {type(data).__name__}; build one with CRMData(transactions=...)"
        )
    data.require("transactions")
    assert data.transactions is not None
    from crmmodels.data import align_timestamp

    t0 = align_timestamp(start, data.timezone, "start")
    t1 = align_timestamp(end, data.timezone, "end")
    if t1 <= t0:
        raise InvalidParameterError(f"end {t1} must be after start {t0}")
    days_per = 1.0 if freq == "D" else 7.0
    codes, ids = data.customer_codes("transactions")
    ts = data.transactions["timestamp"]
    if getattr(ts.dtype, "tz", None) is not None:
        ts = ts.dt.tz_localize(None)
        t0, t1 = t0.tz_localize(None), t1.tz_localize(None)
    day = ((ts - t0.normalize()) / pd.Timedelta(days=1)).to_numpy()
    day = np.floor(day).astype(np.int64)
    n_days = int(np.floor((t1.normalize() - t0.normalize()) / pd.Timedelta(days=1))) + 1
    keep = (day >= 0) & (day < n_days)
    c, d = codes[keep], day[keep]
    # Distinct customer-days, and each customer's first day.
    key: np.ndarray = np.unique(c.astype(np.int64) * n_days + d)
    kc: np.ndarray = (key // n_days).astype(np.intp)
    kd: np.ndarray = (key % n_days).astype(np.int64)
    first = np.full(len(ids), np.iinfo(np.int64).max)
    np.minimum.at(first, kc, kd)
    repeat_days = kd[kd > first[kc]]
    n_periods = int(np.ceil(n_days / days_per))
    period_of_day = (np.arange(n_days) // days_per).astype(int)
    actual = np.bincount(period_of_day[repeat_days], minlength=n_periods)[:n_periods]
    births = first[first < n_days]
    # Expected cumulative repeat purchases at the end of each period.
    ends = np.arange(1, n_periods + 1) * days_per
    birth_counts = np.bincount(births, minlength=n_days)
    birth_days = np.flatnonzero(birth_counts)
    expected_cum = np.zeros(n_periods)
    for b in birth_days:
        # A purchase on day b happens during that day: age is counted from its end.
        age = (ends - (b + 1)) / days_per
        pos = age > 0
        if pos.any():
            expected_cum[pos] += birth_counts[b] * np.asarray(
                model.expected_purchases(age[pos]), dtype=float)
    expected = np.diff(np.concatenate([[0.0], expected_cum]))
    out = pd.DataFrame(
        {"actual": actual.astype(float), "expected": expected,
         "actual_cumulative": np.cumsum(actual).astype(float),
         "expected_cumulative": expected_cum},
        index=pd.Index(np.arange(1, n_periods + 1), name="period"),
    )
    if cutoff is not None:
        cal = align_timestamp(cutoff, data.timezone, "cutoff")
        if cal.tzinfo is not None:
            cal = cal.tz_localize(None)
        cal_day = (cal.normalize() - t0.normalize()) / pd.Timedelta(days=1)
        out["in_calibration"] = ends <= cal_day + 1
    else:
        out["in_calibration"] = False
    return out
