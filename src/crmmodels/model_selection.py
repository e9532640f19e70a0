"""Rolling-origin (temporal) evaluation and parameter search for crmmodels models.

* :func:`backtest` fits a model at each of several cut-off dates on what was known
  then, scores the customers known at the cut-off, and compares the scores with what
  happened in the following horizon. It returns a long frame ``cutoff, metric,
  value``.
* :class:`TemporalSearchCV` chooses hyper-parameters by the mean of one backtest
  metric over the cut-offs, as scikit-learn's ``GridSearchCV`` does with folds.
* :data:`METRICS` describes every built-in metric (what it measures, which models it
  applies to, and whether greater is better).

Two families of models are evaluated:

* **propensity** models, whose score has a ``churn_probability`` column
  (:class:`~crmmodels.propensity.ChurnModel`): the truth is
  :func:`~crmmodels.propensity.churn_labels` at the cut-off;
* **transaction** models, whose score has an ``expected_purchases`` column and which
  take ``horizon`` and ``freq`` parameters (BG/NBD, Pareto/NBD, MBG/NBD, BG/BB,
  :class:`~crmmodels.cltv.NaiveRateModel`, :class:`~crmmodels.cltv.CLVModel`): the
  truth is each customer's repeat purchase periods in the horizon (and their spend,
  for a CLV model).

See the "Model selection" page of the documentation for the rules in one place.
"""

from __future__ import annotations

import copy
import datetime as _dt
import itertools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Self, overload

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import ParameterGrid

from crmmodels.cltv import NaiveRateModel
from crmmodels.core import Boolean, Constraint, Interval, Predicate, check_params
from crmmodels.data import CRMData, as_transaction_data, calibration_holdout, data_time
from crmmodels.errors import DataValidationError, InvalidParameterError, NotFittedError
from crmmodels.propensity import churn_labels, parse_horizon, precision_at_k

__all__ = ["METRICS", "Metric", "TemporalSearchCV", "backtest"]

Kind = Literal["propensity", "transactions"]
MetricFunc = Callable[[np.ndarray, np.ndarray], float]

#: Length of one period of each ``freq`` when a horizon is given as a time span.
#: A month is 365.25 / 12 days.
PERIOD_LENGTH: Final[dict[str, pd.Timedelta]] = {
    "D": pd.Timedelta(days=1),
    "W": pd.Timedelta(days=7),
    "M": pd.Timedelta(days=365.25 / 12),
    "h": pd.Timedelta(hours=1),
}

BASELINE_PREFIX: Final = "baseline_"


# ---------------------------------------------------------------------- metrics
def _roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, p))


def _average_precision(y: np.ndarray, p: np.ndarray) -> float:
    if not y.any():
        return float("nan")
    return float(average_precision_score(y, p))


def _brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    eps = np.finfo(np.float64).eps
    q = np.clip(p, eps, 1 - eps)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log1p(-q)))


def _lift_at_10(y: np.ndarray, p: np.ndarray) -> float:
    base = float(np.mean(y))
    if base == 0:
        return float("nan")
    return precision_at_k(y, p, math.ceil(0.1 * len(y))) / base


def _mae(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.abs(p - y)))


def _rmse(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.sqrt(np.mean((p - y) ** 2)))


def _bias(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(p - y))


@dataclass(frozen=True)
class Metric:
    """A built-in backtest metric.

    Parameters
    ----------
    name : str
        The name used in ``metrics=`` and ``scoring=`` and in the result's ``metric``
        column.
    applies_to : {"propensity", "purchases", "revenue"}
        Churn probabilities against churn labels; expected against actual purchases
        per customer; expected against actual spend per customer (CLV models).
    greater_is_better : bool
        Direction used by :class:`TemporalSearchCV`.
    absolute : bool
        Whether :class:`TemporalSearchCV` ranks the absolute value (bias: closest to
        zero is best).
    description : str
        What the number is.
    func : callable
        ``func(y_true, y_pred) -> float`` on numpy arrays.
    """

    name: str
    applies_to: Literal["propensity", "purchases", "revenue"]
    greater_is_better: bool
    absolute: bool
    description: str
    func: MetricFunc = field(repr=False, compare=False)


METRICS: Final[dict[str, Metric]] = {m.name: m for m in (
    Metric("roc_auc", "propensity", True, False,
           "area under the ROC curve of churn_probability against the churn label "
           "(NaN when only one class occurs)", _roc_auc),
    Metric("average_precision", "propensity", True, False,
           "area under the precision-recall curve, churners as positives "
           "(NaN without churners)", _average_precision),
    Metric("brier", "propensity", False, False,
           "mean squared difference between churn_probability and the 0/1 label",
           _brier),
    Metric("log_loss", "propensity", False, False,
           "mean negative log-likelihood of the labels (probabilities clipped to "
           "[eps, 1 - eps])", _log_loss),
    Metric("lift_at_10", "propensity", True, False,
           "churn rate among the 10% highest scores (rounded up) divided by the overall "
           "churn rate", _lift_at_10),
    Metric("mae", "purchases", False, False,
           "mean absolute error of expected vs actual purchase periods per "
           "customer", _mae),
    Metric("rmse", "purchases", False, False,
           "root mean squared error of expected vs actual purchases", _rmse),
    Metric("bias", "purchases", False, True,
           "mean of expected - actual purchases (> 0: over-forecast); searched by its "
           "absolute value", _bias),
    Metric("revenue_mae", "revenue", False, False,
           "mean absolute error of expected vs actual spend in the horizon per customer "
           "(CLV models)", _mae),
    Metric("revenue_rmse", "revenue", False, False,
           "root mean squared error of expected vs actual spend", _rmse),
    Metric("revenue_bias", "revenue", False, True,
           "mean of expected - actual spend; searched by its absolute value", _bias),
)}


# ---------------------------------------------------------------------- plan
@dataclass(frozen=True)
class _Span:
    """A length of time: what to add to a date, and how many model periods it is."""

    offset: pd.Timedelta | pd.DateOffset
    periods: float


@dataclass(frozen=True)
class _Task:
    """One cut-off: the data known then, and what happened afterwards."""

    cutoff: pd.Timestamp
    train: CRMData
    truth: pd.DataFrame


@dataclass(frozen=True)
class _Spec:
    """A metric to compute: its name, function and what it compares."""

    name: str
    func: MetricFunc
    applies_to: Literal["propensity", "purchases", "revenue"]


@dataclass(frozen=True)
class _Setup:
    """What every fit of a backtest shares (small: sent to each parallel job)."""

    kind: Kind
    revenue: bool
    overrides: dict[str, Any]
    horizon: _Span
    gap: _Span
    freq: str | None


@dataclass(frozen=True)
class _Plan:
    setup: _Setup
    tasks: list[_Task]
    data: CRMData


def _shift(ts: pd.Timestamp, offset: pd.Timedelta | pd.DateOffset,
           sign: Literal[1, -1] = 1) -> pd.Timestamp:
    """Move ``ts`` by ``offset`` in wall-clock time (as the data layer counts time).

    For timezone-aware data "13 weeks after" keeps the time of day across a daylight
    saving change, as :func:`~crmmodels.data.calibration_holdout` and
    :func:`~crmmodels.propensity.churn_labels` count it.
    """
    if ts.tzinfo is None:
        out: pd.Timestamp = ts + offset if sign > 0 else ts - offset
        return out
    wall = ts.tz_localize(None)
    wall = wall + offset if sign > 0 else wall - offset
    shifted: pd.Timestamp = wall.tz_localize(ts.tz, ambiguous=False,
                                             nonexistent="shift_forward")
    return shifted


def _wall(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


def _score_columns(model: Any) -> tuple[str, ...]:
    cols = getattr(type(model), "_score_columns", ())
    return tuple(str(c) for c in cols)


def _model_kind(model: Any) -> tuple[Kind, bool]:
    """Return the family of ``model`` and whether it also forecasts spend."""
    if not (hasattr(model, "fit") and hasattr(model, "score")
            and hasattr(model, "get_params")):
        raise InvalidParameterError(
            f"model must be a crmmodels model (fit, score, get_params), got "
            f"{type(model).__name__}")
    cols = _score_columns(model)
    params = model.get_params(deep=False)
    if "churn_probability" in cols:
        return "propensity", False
    if "expected_purchases" in cols and {"horizon", "freq"} <= set(params):
        return "transactions", {"expected_spend", "clv"} <= set(cols)
    raise InvalidParameterError(
        f"backtest evaluates models that score churn_probability (e.g. ChurnModel) or "
        f"expected_purchases with horizon and freq parameters (e.g. BetaGeoModel, "
        f"CLVModel); {type(model).__name__} scores {list(cols)}")


def _overridden(model: Any, kind: Kind) -> tuple[str, ...]:
    """Parameters the backtest sets on every clone: the horizon (and a churn cut-off)."""
    params = model.get_params(deep=False)
    if kind == "transactions":
        return ("horizon",)
    return tuple(name for name in ("horizon", "cutoff") if name in params)


def _whole(x: float) -> float:
    """Return ``x`` as an int when it is whole (discrete-time models need ints)."""
    return int(x) if float(x).is_integer() else float(x)


def _bad_span(name: str, value: object, what: str) -> InvalidParameterError:
    return InvalidParameterError(f"{name} must be {what}, got {value!r}")


def _timedelta(value: object, name: str, what: str) -> pd.Timedelta:
    try:
        td = pd.Timedelta(value)  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise _bad_span(name, value, what) from exc
    if pd.isna(td):
        raise _bad_span(name, value, what)
    return td


def _days_span(value: object, name: str, *, allow_zero: bool) -> _Span:
    """Parse a span for propensity models: a time span, or a number of days."""
    what = ("a time span such as '90D' or a number of days"
            + (" (0 or None for no gap)" if allow_zero else ""))
    if isinstance(value, bool | np.bool_):
        raise _bad_span(name, value, what)
    if allow_zero and isinstance(value, numbers.Real) and value == 0:
        return _Span(pd.Timedelta(0), 0.0)
    if isinstance(value, numbers.Real):
        days = float(value)
        if not (math.isfinite(days) and days > 0):
            raise _bad_span(name, value, what)
        td = pd.Timedelta(days=days)
    elif isinstance(value, str | _dt.timedelta | np.timedelta64):
        td = _timedelta(value, name, what)
    else:
        raise _bad_span(name, value, what)
    if td < pd.Timedelta(0) or (td == pd.Timedelta(0) and not allow_zero):
        raise _bad_span(name, value, what)
    if td > pd.Timedelta(0):
        td = parse_horizon(td)
    return _Span(td, td / pd.Timedelta(days=1))


def _period_span(value: object, freq: str, name: str, *, allow_zero: bool) -> _Span:
    """Parse a span for transaction models: a time span or a number of ``freq`` periods."""
    what = (f"a time span such as '26W' or a number of periods of freq={freq!r}"
            + (" (0 or None for no gap)" if allow_zero else ""))
    if freq not in PERIOD_LENGTH:
        raise InvalidParameterError(
            f"the model's freq must be one of {list(PERIOD_LENGTH)}, got {freq!r}")
    if isinstance(value, bool | np.bool_):
        raise _bad_span(name, value, what)
    if isinstance(value, numbers.Real):
        n = float(value)
        if not math.isfinite(n) or n < 0 or (n == 0 and not allow_zero):
            raise _bad_span(name, value, what)
        if freq == "M":
            if not n.is_integer():
                raise InvalidParameterError(
                    f"{name}={value!r}: a number of calendar months must be whole; give "
                    "a time span such as '90D' instead")
            return _Span(pd.DateOffset(months=int(n)), _whole(n))
        return _Span(PERIOD_LENGTH[freq] * n, _whole(n))
    if isinstance(value, str | _dt.timedelta | np.timedelta64):
        td = _timedelta(value, name, what)
        if td < pd.Timedelta(0) or (td == pd.Timedelta(0) and not allow_zero):
            raise _bad_span(name, value, what)
        return _Span(td, _whole(td / PERIOD_LENGTH[freq]))
    raise _bad_span(name, value, what)


# The arguments shared by backtest and TemporalSearchCV, checked by the one checker.
_CONSTRAINTS: Final[dict[str, list[Constraint | None]]] = {
    "window": [Predicate(lambda v: v in ("expanding", "sliding"), "'expanding' or 'sliding'",
                         ["rolling"])],
    "n_jobs": [None, Interval(numbers.Integral, 1, None), Interval(numbers.Integral, None, -1)],
    "return_models": [Boolean()],
    "refit": [Boolean()],
}


def _equally_spaced(n: int, start: pd.Timestamp, end: pd.Timestamp,
                    last: pd.Timestamp) -> list[pd.Timestamp]:
    """Apply the ``cutoffs=n`` rule: ``n`` dates from mid-span to the last cut-off."""
    first = start + (end - start) / 2
    if last < first:
        raise InvalidParameterError(
            f"cutoffs={n}: the cut-offs are spread from the middle of the data ({first}) "
            f"to observation_end - gap - horizon ({last}), which is earlier: give the "
            "cut-offs as dates or use a shorter horizon / gap")
    if n == 1:
        cuts = [last]
        step = pd.Timedelta(days=1)
    else:
        step = (last - first) / (n - 1)
        cuts = [first + step * i for i in range(n)]
    if step >= pd.Timedelta(days=1):
        floored = [c.floor("D") for c in cuts]
        if floored[0] > start:
            cuts = floored
    if len(set(cuts)) < len(cuts):
        raise InvalidParameterError(
            f"cutoffs={n}: too many cut-offs for the span from {first} to {last}")
    return cuts


def _resolve_cutoffs(cutoffs: object, data: CRMData, start: pd.Timestamp,
                     last: pd.Timestamp) -> list[pd.Timestamp]:
    if isinstance(cutoffs, numbers.Integral) and not isinstance(cutoffs, bool | np.bool_):
        if int(cutoffs) < 1:
            raise InvalidParameterError(
                f"cutoffs must be a positive number of cut-offs or a list of dates, got "
                f"{cutoffs!r}")
        return _equally_spaced(int(cutoffs), start, data.observation_end, last)
    if isinstance(cutoffs, str | _dt.date | np.datetime64):
        items: list[object] = [cutoffs]
    elif isinstance(cutoffs, Sequence | pd.Index | np.ndarray | pd.Series):
        items = list(cutoffs)
    else:
        raise InvalidParameterError(
            f"cutoffs must be a positive int or a list of dates, got {cutoffs!r}")
    if not items:
        raise InvalidParameterError("cutoffs must not be empty")
    cuts = sorted(data_time(c, data, "cutoffs") for c in items)
    dup = [str(a) for a, b in itertools.pairwise(cuts) if a == b]
    if dup:
        raise InvalidParameterError(f"cutoffs must be distinct; repeated: {dup}")
    return cuts


def _training_data(data: CRMData, lo: pd.Timestamp | None, cut: pd.Timestamp) -> CRMData:
    """Return the data known at ``cut``: rows stamped in ``[lo, cut]`` (``lo`` None: all).

    Frames stay in the library that holds them (polars data are cut in polars).
    """

    def rows(name: Literal["transactions", "interactions"]) -> Any:
        if not data.has(name):
            return None
        return data.rows_between(name, lo, cut, include_start=True)

    tx = rows("transactions")
    if len(tx) == 0:
        where = f"[{lo}, {cut}]" if lo is not None else f"up to {cut}"
        raise DataValidationError(
            f"no transaction in the training window {where}", frame="transactions",
            column="timestamp", rule="empty_training_window")
    customers = data.customers
    if customers is not None and "signup_date" in customers.columns:
        signup = customers["signup_date"]
        customers = customers.loc[(signup.isna() | (signup <= cut)).to_numpy()]
    return CRMData(transactions=tx, customers=customers, interactions=rows("interactions"),
                   observation_end=cut, allow_returns=bool(getattr(data, "allow_returns",
                                                                   False)))


def _truth(kind: Kind, data: CRMData, train: CRMData, cut: pd.Timestamp, horizon: _Span,
           gap: _Span, freq: str | None) -> pd.DataFrame:
    """Return what happened in ``(cut + gap, cut + gap + horizon]`` to the customers.

    The customers are those active at ``cut`` (a transaction in the training window),
    in id order.
    """
    _, population = train.customer_codes("transactions")
    pop = pd.Index(population, name="customer_id")
    begin = _shift(cut, gap.offset)
    end = _shift(begin, horizon.offset)
    if kind == "propensity":
        labels = churn_labels(data, begin, horizon.offset)
        churned = labels.reindex(pop)
        assert not churned.isna().any()
        return pd.DataFrame({"churned": churned.to_numpy(dtype=np.int64)}, index=pop)
    assert freq is not None
    split = calibration_holdout(data, calibration_end=begin, observation_end=end, freq=freq)
    # With returns, a customer whose purchases up to the cut-off all net to nothing has
    # no purchase to count from: the summary leaves them out (calibration_holdout says
    # how many in a DataQualityWarning), and so does the truth.
    pop = pop[pop.isin(split.index)]
    purchases = split["frequency_holdout"].reindex(pop)
    assert not purchases.isna().any()
    inside = nw.from_native(data.rows_between("transactions", begin, end), eager_only=True)
    spend = (inside.group_by("customer_id").agg(nw.col("amount").sum())
             .with_columns(nw.col("customer_id").cast(nw.String)))
    revenue = pd.Series(spend["amount"].to_numpy(), dtype=np.float64,
                        index=pd.Index(spend["customer_id"].to_list(), dtype="str")
                        ).reindex(pop, fill_value=0.0)
    return pd.DataFrame({"purchases": purchases.to_numpy(dtype=np.float64),
                         "revenue": revenue.to_numpy(dtype=np.float64)}, index=pop)


def _plan(model: Any, data: object, *, cutoffs: object, horizon: object, gap: object,
          window: object) -> _Plan:
    """Check every argument and prepare the training data and truth at each cut-off."""
    kind, revenue = _model_kind(model)
    crm = as_transaction_data(data, "backtest")
    check_params("backtest", {"window": window}, _CONSTRAINTS)
    mode: Literal["expanding", "sliding"] = "sliding" if window == "sliding" else "expanding"
    params = model.get_params(deep=False)
    freq: str | None = None
    overrides: dict[str, Any] = {}
    if kind == "propensity":
        h = _days_span(horizon, "horizon", allow_zero=False)
        g = _days_span(0 if gap is None else gap, "gap", allow_zero=True)
        values: dict[str, Any] = {"horizon": h.offset, "cutoff": None}
        overrides = {name: values[name] for name in _overridden(model, kind)}
        label = params.get("label")
        if isinstance(label, str) and crm.customers is not None \
                and label in crm.customers.columns:
            raise DataValidationError(
                f"the customers frame holds the label column {label!r}: a contractual "
                "label describes the end of the data, not each cut-off, so a backtest "
                "would leak it; drop the column (the labels come from the transactions)",
                frame="customers", column=label, rule="label_leak")
    else:
        freq = str(params["freq"])
        h = _period_span(horizon, freq, "horizon", allow_zero=False)
        g = _period_span(0 if gap is None else gap, freq, "gap", allow_zero=True)
        overrides["horizon"] = h.periods
    start = crm.time_range("transactions")[0]
    end = crm.observation_end
    last = _shift(_shift(end, h.offset, -1), g.offset, -1)
    cuts = _resolve_cutoffs(cutoffs, crm, start, last)
    for c in cuts:
        if c <= start or c > end:
            raise InvalidParameterError(
                f"cutoff {c} is outside the data: it must be after the first transaction "
                f"({start}) and no later than observation_end ({end})")
        stop = _shift(_shift(c, g.offset), h.offset)
        if stop > end:
            raise InvalidParameterError(
                f"cutoff {c} + gap + horizon = {stop} runs past "
                f"observation_end ({end}): what happens after the cut-off is not fully "
                "observed; use an earlier cut-off or a shorter horizon")
    length = _wall(cuts[0]) - _wall(start)
    tasks = []
    for c in cuts:
        lo = None if mode == "expanding" else _shift(c, length, -1)
        train = _training_data(crm, lo, c)
        if kind == "propensity" and "horizon" in params:
            first = train.time_range("transactions")[0]
            back = _shift(c, h.offset, -1)
            if back <= first:
                raise InvalidParameterError(
                    f"at cutoff {c} the model learns from labels of the window "
                    f"(cutoff - horizon, cutoff], but cutoff - horizon = {back} is "
                    f"not after the first transaction of the training window ({first}): "
                    "use later cut-offs, a shorter horizon or window='expanding'")
        tasks.append(_Task(c, train, _truth(kind, crm, train, c, h, g, freq)))
    return _Plan(_Setup(kind, revenue, overrides, h, g, freq), tasks, crm)


def _metric_specs(metrics: object, kind: Kind, revenue: bool, model: Any) -> list[_Spec]:
    valid = [m for m in METRICS.values() if
             (m.applies_to == "propensity") == (kind == "propensity")
             and (m.applies_to != "revenue" or revenue)]
    names = [m.name for m in valid]
    if metrics is None:
        return [_Spec(m.name, m.func, m.applies_to) for m in valid]
    target: Literal["propensity", "purchases"] = (
        "propensity" if kind == "propensity" else "purchases")
    if isinstance(metrics, Mapping):
        if not metrics:
            raise InvalidParameterError("metrics must not be empty")
        specs = []
        for name, func in metrics.items():
            if not isinstance(name, str) or not name:
                raise InvalidParameterError(f"metric names must be text, got {name!r}")
            if name in METRICS or name.startswith(BASELINE_PREFIX):
                raise InvalidParameterError(
                    f"metric name {name!r} is reserved (built-in metrics and the "
                    f"{BASELINE_PREFIX!r} prefix); choose another name")
            if not callable(func):
                raise InvalidParameterError(
                    f"metrics[{name!r}] must be a callable f(y_true, y_pred) -> float, got "
                    f"{func!r}")
            specs.append(_Spec(name, func, target))
        return specs
    if isinstance(metrics, str) or not isinstance(metrics, Sequence) or not metrics:
        raise InvalidParameterError(
            f"metrics must be None, a non-empty list of names among {names} or a dict "
            f"{{name: callable}}, got {metrics!r}")
    specs = []
    for name in metrics:
        if name not in names:
            extra = ""
            if name in METRICS and METRICS[name].applies_to == "revenue":
                extra = (f" ({name} needs a model that forecasts spend, such as CLVModel; "
                         f"{type(model).__name__} does not)")
            raise InvalidParameterError(
                f"unknown metric {name!r} for {type(model).__name__}{extra}; valid metrics: "
                f"{names}")
        if any(s.name == name for s in specs):
            raise InvalidParameterError(f"metric {name!r} is listed twice")
        m = METRICS[name]
        specs.append(_Spec(m.name, m.func, m.applies_to))
    return specs


# ---------------------------------------------------------------------- evaluation
def _aligned(scores: pd.Series, index: pd.Index, model: Any) -> np.ndarray:
    values = pd.Series(scores.to_numpy(dtype=np.float64),
                       index=scores.index.astype(str)).reindex(index)
    missing = values.isna()
    if missing.any():
        raise DataValidationError(
            f"{type(model).__name__} returned no score for {int(missing.sum())} customers "
            "active at the cut-off", column="customer_id", rule="scored",
            rows=list(index[missing.to_numpy()][:5]), n_rows=int(missing.sum()))
    return values.to_numpy(dtype=np.float64)


def _window_scores(fitted: Any, train: CRMData, horizon: _Span, gap: _Span) -> pd.DataFrame:
    """Scores for ``(cutoff + gap, cutoff + gap + horizon]``.

    Expected purchases are cumulative in time, so with a gap they are the expectation
    up to ``gap + horizon`` minus the one up to ``gap``.
    """
    if gap.periods == 0:
        out: pd.DataFrame = fitted.score(train)
        return out
    far = copy.copy(fitted)
    far.set_params(horizon=_whole(gap.periods + horizon.periods))
    near = copy.copy(fitted)
    near.set_params(horizon=gap.periods)
    out = far.score(train).copy()
    out["expected_purchases"] = (out["expected_purchases"]
                                 - near.score(train)["expected_purchases"])
    return out


def _evaluate(model: Any, setup: _Setup, task: _Task, specs: list[_Spec], *, baseline: bool,
              keep_model: bool) -> tuple[list[tuple[str, float]], Any]:
    """Fit a clone at one cut-off and compute the metrics."""
    fitted = clone(model).set_params(**setup.overrides).fit(task.train)
    truth = task.truth
    rows: list[tuple[str, float]] = []
    if setup.kind == "propensity":
        scores = fitted.score(task.train)
        p = _aligned(scores["churn_probability"], truth.index, model)
        y = truth["churned"].to_numpy(dtype=np.int64)
        rows = [(s.name, float(s.func(y, p))) for s in specs]
        return rows, (fitted if keep_model else None)
    scores = _window_scores(fitted, task.train, setup.horizon, setup.gap)
    pred = _aligned(scores["expected_purchases"], truth.index, model)
    actual = truth["purchases"].to_numpy(dtype=np.float64)
    for s in specs:
        if s.applies_to == "revenue":
            spend = _aligned(scores["expected_spend"], truth.index, model)
            rows.append((s.name, float(s.func(truth["revenue"].to_numpy(dtype=np.float64),
                                              pred * spend))))
        else:
            rows.append((s.name, float(s.func(actual, pred))))
    purchase_specs = [s for s in specs if s.applies_to == "purchases"]
    if baseline and purchase_specs:
        assert setup.freq is not None
        naive = NaiveRateModel(horizon=setup.horizon.periods, freq=setup.freq).fit(task.train)
        base = _aligned(_window_scores(naive, task.train, setup.horizon, setup.gap)[
            "expected_purchases"], truth.index, naive)
        rows += [(BASELINE_PREFIX + s.name, float(s.func(actual, base)))
                 for s in purchase_specs]
    return rows, (fitted if keep_model else None)


def _run(model: Any, plan: _Plan, specs: list[_Spec], n_jobs: int | None, *,
         baseline: bool, keep_model: bool) -> list[tuple[list[tuple[str, float]], Any]]:
    setup = plan.setup
    if n_jobs in (None, 1) or len(plan.tasks) == 1:
        return [_evaluate(model, setup, task, specs, baseline=baseline, keep_model=keep_model)
                for task in plan.tasks]
    jobs = [delayed(_evaluate)(model, setup, task, specs, baseline=baseline,
                               keep_model=keep_model) for task in plan.tasks]
    out: list[tuple[list[tuple[str, float]], Any]] = Parallel(n_jobs=n_jobs)(jobs)
    return out


@overload
def backtest(
    model: Any,
    data: CRMData,
    *,
    cutoffs: int | Sequence[Any],
    horizon: str | float | pd.Timedelta,
    metrics: Sequence[str] | Mapping[str, MetricFunc] | None = ...,
    window: Literal["expanding", "sliding"] = ...,
    gap: str | float | pd.Timedelta | None = ...,
    n_jobs: int | None = ...,
    return_models: Literal[False] = ...,
) -> pd.DataFrame: ...


@overload
def backtest(
    model: Any,
    data: CRMData,
    *,
    cutoffs: int | Sequence[Any],
    horizon: str | float | pd.Timedelta,
    metrics: Sequence[str] | Mapping[str, MetricFunc] | None = ...,
    window: Literal["expanding", "sliding"] = ...,
    gap: str | float | pd.Timedelta | None = ...,
    n_jobs: int | None = ...,
    return_models: Literal[True],
) -> tuple[pd.DataFrame, list[Any]]: ...


@overload
def backtest(
    model: Any,
    data: CRMData,
    *,
    cutoffs: int | Sequence[Any],
    horizon: str | float | pd.Timedelta,
    metrics: Sequence[str] | Mapping[str, MetricFunc] | None = ...,
    window: Literal["expanding", "sliding"] = ...,
    gap: str | float | pd.Timedelta | None = ...,
    n_jobs: int | None = ...,
    return_models: bool = ...,
) -> pd.DataFrame | tuple[pd.DataFrame, list[Any]]: ...


def backtest(
    model: Any,
    data: CRMData,
    *,
    cutoffs: int | Sequence[Any],
    horizon: str | float | pd.Timedelta,
    metrics: Sequence[str] | Mapping[str, MetricFunc] | None = None,
    window: Literal["expanding", "sliding"] = "expanding",
    gap: str | float | pd.Timedelta | None = None,
    n_jobs: int | None = None,
    return_models: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, list[Any]]:
    """Rolling-origin evaluation: fit at each cut-off on what was known then, score ahead.

    At every cut-off ``c`` the training data are the rows stamped at or before ``c``
    (transactions, interactions; customers whose ``signup_date`` is after ``c`` are
    left out), as a new :class:`~crmmodels.CRMData` whose ``observation_end`` is ``c``.
    A clone of ``model`` is fitted on them, scores the customers with a transaction in
    the training window, and is compared with what those customers did in
    ``(c + gap, c + gap + horizon]``. Neither ``model`` nor ``data`` is changed.

    Parameters
    ----------
    model : crmmodels model
        An (unfitted) model; it is cloned at each cut-off. Supported:

        - propensity models scoring ``churn_probability``
          (:class:`~crmmodels.propensity.ChurnModel`). The clone's ``horizon`` is set
          to ``horizon`` and its ``cutoff`` to None, so it learns from the labels of
          ``(c - horizon, c]`` and nothing after ``c`` reaches the fit; it then scores
          with features at ``c``. The truth is
          :func:`~crmmodels.propensity.churn_labels` at ``c + gap`` over the full
          data (churned = no purchase in the horizon);
        - transaction models scoring ``expected_purchases`` with ``horizon`` and
          ``freq`` parameters (BG/NBD, Pareto/NBD, MBG/NBD, BG/BB, NaiveRateModel,
          CLVModel). The clone's ``horizon`` is set to the backtest horizon in
          periods of its ``freq``. The truth is the number of periods of ``freq``
          with a purchase in the horizon, counted as
          :func:`~crmmodels.data.calibration_holdout` counts ``frequency_holdout``;
          for a CLV model also the spend (sum of amounts) in the horizon, compared
          with ``expected_purchases x expected_spend`` (undiscounted, before margin).
          The same purchase metrics are always reported for the naive baseline
          :class:`~crmmodels.cltv.NaiveRateModel` (same horizon and ``freq``, same
          training data), as rows named ``baseline_<metric>``.
    data : CRMData
        Transactions (optionally customers and interactions) covering every
        ``cutoff + gap + horizon``; a transactions DataFrame is validated first.
    cutoffs : int or list of dates
        The cut-offs, or how many: ``n`` equally spaced dates from the middle of the
        observed span (first transaction to ``observation_end``) to the last possible
        cut-off ``observation_end - gap - horizon``, rounded down to midnight when
        they are at least a day apart (``n = 1``: the last possible cut-off only).
        Each must be after the first transaction and leave ``gap + horizon`` before
        ``observation_end``.
    horizon : str, Timedelta or number
        Length of the scored window: a time span (``"90D"``, ``"26W"``), or a number
        of periods of the model's ``freq`` for transaction models (whole calendar
        months for ``freq="M"``) and a number of days for propensity models. A time
        span is converted to periods of ``freq`` (a month = 365.25 / 12 days).
    metrics : list of str or dict, optional
        Metric names from :data:`METRICS` valid for the model (default: all of them),
        or ``{name: f(y_true, y_pred) -> float}``: churn labels (0/1) and
        probabilities for propensity models, actual and expected purchases per
        customer for transaction models (also reported for the baseline).
    window : {"expanding", "sliding"}, default "expanding"
        ``"expanding"``: all history up to each cut-off. ``"sliding"``: only the rows
        stamped in ``[c - L, c]``, where ``L`` is the length of the first training
        window (first transaction to first cut-off), so every fit sees as much time
        as the first one. Customers then look new from their first purchase inside
        the window (left truncation), which transaction models take at face value.
    gap : str, Timedelta or number, optional
        Time between the cut-off and the start of the scored window (same units as
        ``horizon``), e.g. the delay before a campaign can act on the scores. For a
        transaction model the forecast for the window is the expected purchases up
        to ``gap + horizon`` minus those up to ``gap``; a churn model is trained as
        without a gap.
    n_jobs : int, optional
        Cut-offs fitted in parallel through joblib (None: 1 unless inside a
        ``joblib.parallel_config`` context; -1: all cores).
    return_models : bool, default False
        Also return the fitted clones, one per cut-off.

    Returns
    -------
    DataFrame or (DataFrame, list)
        Columns ``cutoff`` (Timestamp), ``metric`` (str) and ``value`` (float), one row
        per cut-off and metric, by cut-off then metric (the model's metrics, then the
        ``baseline_`` ones); with ``return_models=True`` also the fitted models in
        cut-off order.

    Raises
    ------
    InvalidParameterError
        A cut-off outside the data, ``cutoff + gap + horizon`` after
        ``observation_end``, an unknown metric or window, an unsupported model, a
        churn cut-off without a full label window ``(c - horizon, c]`` of history.
    DataValidationError
        No transactions, an empty training window, or (propensity) a customers
        frame holding the model's label column.

    Examples
    --------
    >>> from crmmodels.cltv import BetaGeoModel
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> from crmmodels.model_selection import backtest
    >>> data = load_cdnow_sample()
    >>> result = backtest(BetaGeoModel(freq="W"), data,
    ...                   cutoffs=["1997-09-30", "1997-12-15"], horizon="26W")
    >>> result["metric"].unique().tolist()
    ['mae', 'rmse', 'bias', 'baseline_mae', 'baseline_rmse', 'baseline_bias']
    >>> wide = result.pivot(index="cutoff", columns="metric", values="value")
    >>> bool((wide["mae"] < wide["baseline_mae"]).all())  # beats the no-dropout baseline
    True
    """
    check_params("backtest", {"return_models": return_models, "n_jobs": n_jobs}, _CONSTRAINTS)
    jobs = None if n_jobs is None else int(n_jobs)
    specs = _metric_specs(metrics, *_model_kind(model), model)
    plan = _plan(model, data, cutoffs=cutoffs, horizon=horizon, gap=gap, window=window)
    results = _run(model, plan, specs, jobs, baseline=True, keep_model=bool(return_models))
    cutoff_col: list[pd.Timestamp] = []
    metric_col: list[str] = []
    value_col: list[float] = []
    for task, (rows, _) in zip(plan.tasks, results, strict=True):
        for name, value in rows:
            cutoff_col.append(task.cutoff)
            metric_col.append(name)
            value_col.append(value)
    frame = pd.DataFrame({"cutoff": pd.DatetimeIndex(cutoff_col),
                          "metric": pd.Series(metric_col, dtype=str),
                          "value": np.asarray(value_col, dtype=np.float64)})
    if return_models:
        return frame, [m for _, m in results]
    return frame


# ---------------------------------------------------------------------- search
def _search_one(model: Any, params: dict[str, Any], setup: _Setup, task: _Task,
                spec: _Spec) -> float:
    candidate = clone(model).set_params(**params)
    rows, _ = _evaluate(candidate, setup, task, [spec], baseline=False, keep_model=False)
    return rows[0][1]


class TemporalSearchCV(BaseEstimator):  # type: ignore[misc]
    """Choose hyper-parameters by rolling-origin backtest, like ``GridSearchCV``.

    Every combination of ``param_grid`` is evaluated with :func:`backtest` at the same
    cut-offs (the cut-offs play the role of folds); the best is the one whose
    ``scoring`` metric has the best mean over the cut-offs: highest for metrics where
    greater is better (``roc_auc``, ``average_precision``, ``lift_at_10``), lowest for
    the others, and for ``bias`` / ``revenue_bias`` the lowest absolute value (see
    :data:`METRICS`). The constructor only stores its arguments.

    Parameters
    ----------
    model : crmmodels model
        The model to tune (cloned, never changed).
    param_grid : dict or list of dicts
        As for :class:`sklearn.model_selection.ParameterGrid`, e.g.
        ``{"transaction_model": [BetaGeoModel(), ParetoNBDModel()]}``. ``horizon`` (and
        a churn model's ``cutoff``) are set by the backtest and cannot be searched.
    cutoffs, horizon, gap, window
        As for :func:`backtest`.
    scoring : str
        Name of a built-in metric valid for the model (not a ``baseline_`` one).
    n_jobs : int, optional
        Fits run in parallel through joblib, over every (combination, cut-off).
    refit : bool, default True
        Fit a clone with the best parameters (and the backtest's horizon) on all of
        ``data`` as ``best_estimator_``.

    Attributes
    ----------
    cv_results_ : dict of arrays
        ``params`` (list of dicts), ``param_<name>`` (masked arrays),
        ``split<i>_test_score`` (the metric at the i-th cut-off; absolute values for a
        bias), ``mean_test_score``, ``std_test_score`` and ``rank_test_score`` (1 =
        best; NaN scores rank last).
    best_index_ : int
        Index of the best combination in ``cv_results_``.
    best_params_ : dict
        Its parameters.
    best_score_ : float
        Its mean score.
    best_estimator_ : crmmodels model
        Clone with the best parameters fitted on all the data (``refit=True`` only).
    cutoffs_ : list of Timestamp
        The cut-offs used.
    n_splits_ : int
        How many.

    Examples
    --------
    >>> from crmmodels.cltv import BetaGeoModel, CLVModel, ParetoNBDModel
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> from crmmodels.model_selection import TemporalSearchCV
    >>> search = TemporalSearchCV(
    ...     CLVModel(), {"transaction_model": [BetaGeoModel(), ParetoNBDModel()]},
    ...     cutoffs=2, horizon="26W", scoring="mae")
    >>> search = search.fit(load_cdnow_sample())
    >>> search.cutoffs_  # the cutoffs=2 rule: mid-span to observation_end - horizon
    [Timestamp('1997-09-30 00:00:00'), Timestamp('1997-12-30 00:00:00')]
    >>> search.cv_results_["rank_test_score"].tolist()
    [2, 1]
    >>> type(search.best_params_["transaction_model"]).__name__
    'ParetoNBDModel'
    >>> search.best_estimator_.horizon  # the backtest horizon, in weeks
    26
    """

    def __init__(
        self,
        model: Any,
        param_grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Sequence[Any]]],
        *,
        cutoffs: int | Sequence[Any],
        horizon: str | float | pd.Timedelta,
        scoring: str,
        gap: str | float | pd.Timedelta | None = None,
        window: Literal["expanding", "sliding"] = "expanding",
        n_jobs: int | None = None,
        refit: bool = True,
    ) -> None:
        self.model = model
        self.param_grid = param_grid
        self.cutoffs = cutoffs
        self.horizon = horizon
        self.scoring = scoring
        self.gap = gap
        self.window = window
        self.n_jobs = n_jobs
        self.refit = refit

    def _candidates(self, overrides: Sequence[str]) -> list[dict[str, Any]]:
        try:
            grid = ParameterGrid(self.param_grid)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(f"param_grid is invalid: {exc}") from exc
        candidates = [dict(p) for p in grid]
        if not candidates:
            raise InvalidParameterError("param_grid has no combination")
        valid = set(self.model.get_params(deep=True))
        for params in candidates:
            for name in params:
                if name in overrides:
                    raise InvalidParameterError(
                        f"{name!r} is set by the backtest (horizon={self.horizon!r}) and "
                        "cannot be searched")
                if name not in valid:
                    raise InvalidParameterError(
                        f"{name!r} is not a parameter of {type(self.model).__name__}; "
                        f"parameters: {sorted(valid)}")
        return candidates

    def fit(self, data: CRMData) -> Self:
        """Backtest every combination and keep the best.

        Parameters
        ----------
        data : CRMData
            As for :func:`backtest`.

        Returns
        -------
        self
        """
        check_params("TemporalSearchCV", self.get_params(deep=False), _CONSTRAINTS)
        jobs = None if self.n_jobs is None else int(self.n_jobs)
        kind, revenue = _model_kind(self.model)
        valid = _metric_specs(None, kind, revenue, self.model)
        names = [s.name for s in valid]
        if not isinstance(self.scoring, str) or self.scoring not in names:
            raise InvalidParameterError(
                f"scoring must be one of {names} for {type(self.model).__name__}, got "
                f"{self.scoring!r}")
        spec = next(s for s in valid if s.name == self.scoring)
        metric = METRICS[self.scoring]
        candidates = self._candidates(_overridden(self.model, kind))
        plan = _plan(self.model, data, cutoffs=self.cutoffs, horizon=self.horizon,
                     gap=self.gap, window=self.window)
        setup = plan.setup
        pairs = [(params, task) for params in candidates for task in plan.tasks]
        if jobs in (None, 1):
            flat = [_search_one(self.model, params, setup, task, spec)
                    for params, task in pairs]
        else:
            flat = Parallel(n_jobs=jobs)(delayed(_search_one)(self.model, params, setup, task,
                                                              spec) for params, task in pairs)
        scores = np.asarray(flat, dtype=np.float64).reshape(len(candidates), len(plan.tasks))
        if metric.absolute:
            scores = np.abs(scores)
        self.cv_results_ = _cv_results(candidates, scores, metric.greater_is_better)
        ranks = self.cv_results_["rank_test_score"]
        self.best_index_ = int(np.flatnonzero(ranks == 1)[0])
        self.best_params_ = candidates[self.best_index_]
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        self.cutoffs_ = [t.cutoff for t in plan.tasks]
        self.n_splits_ = len(plan.tasks)
        if self.refit:
            if np.isnan(self.best_score_):
                raise DataValidationError(
                    f"every combination scored NaN on {self.scoring}: nothing to refit",
                    rule="finite_score")
            best = clone(self.model).set_params(**self.best_params_, **setup.overrides)
            self.best_estimator_ = best.fit(plan.data)
        return self

    def score(self, data: CRMData) -> pd.DataFrame:
        """Score ``data`` with ``best_estimator_`` (needs ``refit=True``).

        Returns
        -------
        DataFrame
            The best estimator's scores.
        """
        if not hasattr(self, "best_estimator_"):
            raise NotFittedError(
                "This TemporalSearchCV has no best_estimator_; call fit(data) with "
                "refit=True first.")
        out: pd.DataFrame = self.best_estimator_.score(data)
        return out


def _cv_results(candidates: list[dict[str, Any]], scores: np.ndarray,
                greater_is_better: bool) -> dict[str, Any]:
    """``GridSearchCV``-style results from a (candidates x cut-offs) score array."""
    from scipy.stats import rankdata

    n, k = scores.shape
    results: dict[str, Any] = {"params": candidates}
    names = sorted({name for p in candidates for name in p})
    for name in names:
        column: Any = np.ma.MaskedArray(np.empty(n, dtype=object), mask=True)
        for i, p in enumerate(candidates):
            if name in p:
                column[i] = p[name]
        results[f"param_{name}"] = column
    for j in range(k):
        results[f"split{j}_test_score"] = scores[:, j].copy()
    mean = scores.mean(axis=1)
    results["mean_test_score"] = mean
    results["std_test_score"] = scores.std(axis=1)
    key = np.where(np.isnan(mean), np.inf, -mean if greater_is_better else mean)
    results["rank_test_score"] = np.asarray(rankdata(key, method="min"), dtype=np.int32)
    return results
