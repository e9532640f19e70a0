"""Model evaluation: calibration / holdout comparison and purchase tracking.

For transaction models (BG/NBD, Pareto/NBD, ...):

* :func:`holdout_comparison` compares, per customer, the purchases predicted for the
  holdout period with the purchases that happened (MAE, RMSE, correlation, totals);
* :func:`purchase_tracking` compares cumulative repeat purchases of the whole cohort,
  period by period, with the model's expectation (the "tracking plot" of Fader,
  Hardie & Lee 2005).

For propensity models (churn, fraud):

* :func:`classification_metrics`: ROC AUC, PR AUC (average precision), Brier score and
  the base rate;
* :func:`calibration_table`: predicted vs observed rate by probability bin;
* :func:`gains_table`: response, lift and cumulative gains by score decile;
* :func:`backtest`: train on earlier cut-offs, test on a later one, time-ordered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from crmmodels.data import CRMData
from crmmodels.errors import DataValidationError, InvalidParameterError

__all__ = ["HoldoutResult", "backtest", "calibration_table", "classification_metrics",
           "gains_table", "holdout_comparison", "purchase_tracking"]


class _TransactionModel(Protocol):
    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any,
                                       T: Any) -> np.ndarray: ...  # noqa: N803

    def expected_purchases(self, t: Any) -> np.ndarray: ...


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
        Anything with ``conditional_expected_purchases(t, frequency, recency, T)``,
        fitted on the calibration columns of ``split``.
    split : DataFrame
        Output of :func:`crmmodels.features.calibration_holdout`.

    Returns
    -------
    HoldoutResult

    Examples
    --------
    >>> from crmmodels.cltv import BetaGeoModel
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> from crmmodels.features import calibration_holdout
    >>> split = calibration_holdout(load_cdnow_sample(), "1997-09-30", "1998-06-30",
    ...                             freq="D", freq_multiplier=7)
    >>> model = BetaGeoModel().fit(split[["frequency", "recency", "T"]])
    >>> result = holdout_comparison(model, split)
    >>> sorted(result.metrics)
    ['correlation', 'mae', 'rmse', 'total_actual', 'total_error', 'total_predicted']
    """
    needed = ["frequency", "recency", "T", "frequency_holdout", "duration_holdout"]
    missing = [c for c in needed if c not in split.columns]
    if missing:
        raise DataValidationError(
            f"split lacks {missing}; build it with crmmodels.features.calibration_holdout",
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
    unit: str = "W",
    calibration_end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Cumulative repeat purchases of a cohort per period: actual vs expected.

    A repeat purchase is a purchase day after the customer's first purchase day (days
    with several purchases count once, as in the summary with ``freq="D"``). The
    expectation sums, over customers, the model's ``expected_purchases`` for a new
    customer, from each customer's first purchase to the end of each period. The
    model must have been fitted in the same time unit (``unit``; e.g. weeks with
    ``customer_summary(data, "D", freq_multiplier=7)``).

    Parameters
    ----------
    model : fitted transaction model
        Anything with ``expected_purchases(t)``.
    data : CRMData
        The cohort's transactions.
    start, end : date
        First day of period 1 and the end of the tracked range.
    unit : {"D", "W"}, default "W"
        Length of one tracked period (a day or a week).
    calibration_end : date, optional
        Only marks, in the ``in_calibration`` column, which periods were used to fit.

    Returns
    -------
    DataFrame
        Indexed by ``period`` (1, 2, ...): ``actual``, ``expected`` (per period),
        ``actual_cumulative``, ``expected_cumulative``, ``in_calibration``.

    Examples
    --------
    >>> from crmmodels.cltv import BetaGeoModel
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> from crmmodels.features import calibration_holdout
    >>> data = load_cdnow_sample()
    >>> split = calibration_holdout(data, "1997-09-30", freq="D", freq_multiplier=7)
    >>> model = BetaGeoModel().fit(split[["frequency", "recency", "T"]])
    >>> track = purchase_tracking(model, data, "1997-01-01", "1998-06-30")
    >>> len(track)
    78
    """
    if unit not in ("D", "W"):
        raise InvalidParameterError(f"unit must be 'D' or 'W', got {unit!r}")
    data.require("transactions")
    assert data.transactions is not None
    from crmmodels._validation import align_timestamp

    t0 = align_timestamp(start, data.timezone, "start")
    t1 = align_timestamp(end, data.timezone, "end")
    if t1 <= t0:
        raise InvalidParameterError(f"end {t1} must be after start {t0}")
    days_per = 1.0 if unit == "D" else 7.0
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
    if calibration_end is not None:
        cal = align_timestamp(calibration_end, data.timezone, "calibration_end")
        if cal.tzinfo is not None:
            cal = cal.tz_localize(None)
        cal_day = (cal.normalize() - t0.normalize()) / pd.Timedelta(days=1)
        out["in_calibration"] = ends <= cal_day + 1
    else:
        out["in_calibration"] = False
    return out


# ---------------------------------------------------------------- propensity models
def _binary_pair(y_true: Any, y_score: Any) -> tuple[np.ndarray, np.ndarray]:
    """Aligned 0/1 labels and finite scores, or a clear error."""
    y = np.asarray(y_true)
    s = np.asarray(y_score, dtype=np.float64)
    if y.ndim != 1 or s.ndim != 1 or len(y) != len(s):
        raise DataValidationError(
            f"y_true and y_score must be 1-d and of equal length, got shapes {y.shape} and "
            f"{s.shape}", rule="shape")
    if len(y) == 0:
        raise DataValidationError("no rows to evaluate", rule="empty")
    if y.dtype == bool:
        y = y.astype(np.int64)
    if not np.isin(y, (0, 1)).all():
        raise DataValidationError("y_true must hold only 0/1 or True/False",
                                  rule="binary_label")
    if not np.isfinite(s).all():
        raise DataValidationError("y_score holds NaN or infinite values", rule="finite")
    return y.astype(np.int64), s


def classification_metrics(y_true: Any, y_score: Any) -> dict[str, float]:
    """ROC AUC, PR AUC, Brier score and base rate of a probability (or score) vector.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes.
    y_score : array-like of float
        Predicted probabilities (the Brier score needs them in [0, 1]; for other
        scores it is NaN).

    Returns
    -------
    dict
        ``roc_auc``, ``pr_auc`` (average precision), ``brier``, ``base_rate``, ``n``.

    Raises
    ------
    DataValidationError
        Lengths differ, labels are not binary or have one class, scores are not finite.

    Examples
    --------
    >>> m = classification_metrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> m["roc_auc"], round(m["brier"], 6)
    (0.75, 0.158125)
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    y, s = _binary_pair(y_true, y_score)
    if len(np.unique(y)) < 2:
        raise DataValidationError("y_true has one class only: AUC is undefined",
                                  rule="one_class")
    in_unit = bool(((s >= 0) & (s <= 1)).all())
    return {"roc_auc": float(roc_auc_score(y, s)),
            "pr_auc": float(average_precision_score(y, s)),
            "brier": float(np.mean((s - y) ** 2)) if in_unit else float("nan"),
            "base_rate": float(y.mean()), "n": float(len(y))}


def calibration_table(y_true: Any, y_prob: Any, n_bins: int = 10,
                      strategy: str = "quantile") -> pd.DataFrame:
    """Mean predicted probability against the observed rate, by probability bin.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes.
    y_prob : array-like of float in [0, 1]
        Predicted probabilities.
    n_bins : int, default 10
        Number of bins.
    strategy : {"quantile", "uniform"}, default "quantile"
        Equal-count bins (ties kept together) or equal-width bins over [0, 1].

    Returns
    -------
    DataFrame
        One row per non-empty bin (``bin`` 1 = lowest probabilities): ``n``,
        ``mean_predicted``, ``observed_rate``, ``lower`` and ``upper`` (the bin's
        probability range).

    Examples
    --------
    >>> t = calibration_table([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], n_bins=2)
    >>> t[["n", "mean_predicted", "observed_rate"]].to_dict("list")
    {'n': [2, 2], 'mean_predicted': [0.15000000000000002, 0.8], 'observed_rate': [0.0, 1.0]}
    """
    y, p = _binary_pair(y_true, y_prob)
    if not ((p >= 0) & (p <= 1)).all():
        raise DataValidationError("y_prob must lie in [0, 1]", rule="range")
    if not isinstance(n_bins, int) or isinstance(n_bins, bool) or n_bins < 1:
        raise InvalidParameterError(f"n_bins must be a positive integer, got {n_bins!r}")
    if strategy == "quantile":
        edges = np.quantile(p, np.linspace(0, 1, n_bins + 1)[1:-1])
    elif strategy == "uniform":
        edges = np.linspace(0, 1, n_bins + 1)[1:-1]
    else:
        raise InvalidParameterError(f"strategy must be 'quantile' or 'uniform', got {strategy!r}")
    which = np.searchsorted(np.unique(edges), p, side="left")
    frame = pd.DataFrame({"bin": which, "y": y, "p": p})
    out = frame.groupby("bin").agg(n=("y", "size"), mean_predicted=("p", "mean"),
                                   observed_rate=("y", "mean"), lower=("p", "min"),
                                   upper=("p", "max"))
    out.index = pd.RangeIndex(1, len(out) + 1, name="bin")
    return out


def gains_table(y_true: Any, y_score: Any, n_groups: int = 10) -> pd.DataFrame:
    """Response rate, lift and cumulative gains by score group (deciles by default).

    Customers are sorted by score, highest first (ties in input order), and cut into
    ``n_groups`` groups of equal size, the first ``n % n_groups`` groups one larger (as
    ``numpy.array_split``); group 1 holds the highest scores. Empty groups (fewer
    customers than groups) are left out.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes.
    y_score : array-like of float
        Scores; higher means more likely.
    n_groups : int, default 10
        Number of groups.

    Returns
    -------
    DataFrame
        Indexed by ``group``: ``n``, ``positives``, ``rate`` (share positive),
        ``lift`` (rate / overall rate), ``cumulative_share`` (of customers),
        ``cumulative_gain`` (share of all positives found so far) and
        ``cumulative_lift``.

    Examples
    --------
    >>> g = gains_table([1, 0, 1, 0, 0, 0, 0, 0, 0, 0], [.9, .8, .7, .6, .5, .4, .3, .2,
    ...                 .1, 0.], n_groups=5)
    >>> g[["positives", "lift", "cumulative_gain"]].iloc[:2].to_dict("list")
    {'positives': [1, 1], 'lift': [2.5, 2.5], 'cumulative_gain': [0.5, 1.0]}
    """
    y, s = _binary_pair(y_true, y_score)
    if not isinstance(n_groups, int) or isinstance(n_groups, bool) or n_groups < 1:
        raise InvalidParameterError(f"n_groups must be a positive integer, got {n_groups!r}")
    total = int(y.sum())
    if total == 0:
        raise DataValidationError("no positive outcome: lift is undefined", rule="one_class")
    order = np.argsort(-s, kind="stable")
    sizes = np.full(n_groups, len(y) // n_groups)
    sizes[:len(y) % n_groups] += 1  # the first groups take the remainder
    group = np.repeat(np.arange(1, n_groups + 1), sizes)
    frame = pd.DataFrame({"group": group, "y": y[order]})
    out = frame.groupby("group").agg(n=("y", "size"), positives=("y", "sum"))
    rate = total / len(y)
    out["rate"] = out["positives"] / out["n"]
    out["lift"] = out["rate"] / rate
    out["cumulative_share"] = out["n"].cumsum() / len(y)
    out["cumulative_gain"] = out["positives"].cumsum() / total
    out["cumulative_lift"] = out["cumulative_gain"] / out["cumulative_share"]
    return out


def backtest(model: Any, data: CRMData, train_cutoffs: Any, test_cutoff: Any,
             horizon: Any = None) -> dict[str, Any]:
    """Time-ordered evaluation of a non-contractual churn model.

    The model is fitted with ``cutoff=train_cutoffs`` (each training label window
    ``(cutoff, cutoff + horizon]`` must end by the test cut-off, so nothing of the test
    period is seen), then scores the customers active at ``test_cutoff`` with features
    as of that date, and is compared with their actual labels.

    Parameters
    ----------
    model : ChurnModel
        An unfitted model (cloned, not changed).
    data : CRMData
        Transactions covering ``test_cutoff + horizon``.
    train_cutoffs : date or list of dates
        Training cut-offs.
    test_cutoff : date
        Test cut-off, later than every training label window.
    horizon : str, optional
        Label window; default the model's.

    Returns
    -------
    dict
        ``metrics`` (:func:`classification_metrics`), ``gains`` (:func:`gains_table`),
        ``scores`` (the test scores joined with ``churned``) and ``model`` (fitted).

    Examples
    --------
    >>> from crmmodels.churn import ChurnModel
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> out = backtest(ChurnModel(random_state=0), load_cdnow_sample(),
    ...                ["1997-10-01", "1997-12-01"], "1998-03-01")
    >>> out["metrics"]["roc_auc"] > 0.7
    True
    """
    from sklearn.base import clone

    from crmmodels._churn_features import churn_labels, parse_horizon

    span = parse_horizon(model.horizon if horizon is None else horizon)
    cuts = list(train_cutoffs) if isinstance(train_cutoffs, list | tuple) else [train_cutoffs]
    test = pd.Timestamp(test_cutoff)
    late = [c for c in cuts if pd.Timestamp(c) + span > test]
    if late:
        raise InvalidParameterError(
            f"training cut-offs {late} have label windows running past the test cut-off "
            f"{test}: the test period would leak into training")
    fitted = clone(model).set_params(cutoff=cuts, horizon=span).fit(data)
    labels = churn_labels(data, test, span)
    scores = fitted.score(data, at=test).reindex(labels.index)
    scores["churned"] = labels
    return {"metrics": classification_metrics(labels.to_numpy(),
                                              scores["churn_probability"].to_numpy()),
            "gains": gains_table(labels.to_numpy(), scores["churn_probability"].to_numpy()),
            "scores": scores, "model": fitted}
