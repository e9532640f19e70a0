"""Per-customer features computed once and shared by every model.

The repeat-purchase summary follows lifetimes' definitions exactly:

* timestamps are floored to the start of their period (day, week starting Monday,
  month, hour) and purchases in the same period are merged into one (their amounts
  summed);
* ``frequency`` is the number of periods with a purchase after the first one;
* ``recency`` is the time from the first to the last purchase period;
* ``T`` is the time from the first purchase period to the period of
  ``observation_end``;
* ``monetary_value`` is the mean amount of the repeat periods (0 when there are
  none).

Times are counted in periods of ``freq`` divided by ``freq_multiplier`` (e.g.
``freq="h", freq_multiplier=24`` gives days with hour resolution). For ``freq="M"``
the unit is the calendar month (the difference of month numbers), which lifetimes
cannot compute on pandas 3.

The per-customer counts, periods and amounts come from
:func:`~crmmodels.data.customer_aggregates`, computed once per data, cut-off and
period and shared with the other models.
"""

from __future__ import annotations

import numbers
from typing import Any, Final, Literal, overload

import numpy as np
import pandas as pd

from crmmodels.data._native import native_holdout
from crmmodels.data.aggregates import (
    TimeUnit,
    _distinct_pairs,
    _period_of,
    _wall,
    customer_aggregates,
    data_time,
    period_numbers,
    timestamp_unit,
    wall_clock,
)
from crmmodels.data.aggregates import _check_freq as _check_period
from crmmodels.data.container import CRMData, as_transaction_data
from crmmodels.errors import (
    DataQualityWarning,
    DataValidationError,
    InvalidParameterError,
    optional_dependency,
    warn,
)

__all__ = [
    "SUMMARY_COLUMNS",
    "as_summary",
    "calibration_holdout",
    "customer_summary",
    "validate_summary",
]

SUMMARY_COLUMNS: Final = ("frequency", "recency", "T", "monetary_value")


def _check_freq(freq: str, freq_multiplier: float) -> None:
    _check_period(freq)
    if isinstance(freq_multiplier, bool | np.bool_) or not (
            isinstance(freq_multiplier, numbers.Real) and np.isfinite(freq_multiplier)
            and freq_multiplier > 0):
        raise InvalidParameterError(
            f"freq_multiplier must be a positive number, got {freq_multiplier!r}"
        )


def _check_output(output: object) -> None:
    if output not in ("pandas", "polars"):
        raise InvalidParameterError(f"output must be 'pandas' or 'polars', got {output!r}")


def as_output(frame: pd.DataFrame, output: str) -> Any:
    """Return a per-customer frame as asked: pandas as is, or polars with ``customer_id``.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"frequency": [1.0]}, index=pd.Index(["a"], name="customer_id"))
    >>> as_output(s, "polars").columns
    ['customer_id', 'frequency']
    """
    if output == "pandas":
        return frame
    pl = optional_dependency("polars", needed_for='output="polars"')
    return pl.from_pandas(frame.reset_index())


def _period_end(end: pd.Timestamp, freq: str, unit: TimeUnit,
                timezone: str | None) -> pd.Timestamp:
    """Return the last moment of the (wall-clock) period of ``end``, in the data's unit.

    A transaction is at or before it exactly when its period is at or before the period
    of ``end``.
    """
    nxt = _period_of(end, freq) + 1  # the start of the next period:
    if freq == "W":
        start = np.datetime64(7 * nxt - 3, "D")  # weeks start on Monday
    elif freq == "M":
        start = np.datetime64(nxt, "M")
    elif freq == "h":
        start = np.datetime64(nxt, "h")
    else:
        start = np.datetime64(nxt, "D")
    last = pd.Timestamp(start) - pd.Timedelta(1, unit=unit)
    if timezone is not None:
        # Any offset keeps the wall-clock time; a moment in a DST gap moves before it.
        last = last.tz_localize(timezone, ambiguous=True, nonexistent="shift_backward")
    return last


def _summary_columns(agg: pd.DataFrame, end_period: int,
                     freq_multiplier: float) -> dict[str, np.ndarray]:
    """Frequency, recency, T and monetary value from the per-customer aggregate."""
    first = agg["first_period"].to_numpy()
    frequency = (agg["n_periods"].to_numpy() - 1).astype(np.float64)
    repeat = agg["repeat_amount"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, repeat / np.maximum(frequency, 1), 0.0)
    return {
        "frequency": frequency,
        "recency": (agg["last_period"].to_numpy() - first).astype(np.float64)
        / freq_multiplier,
        "T": (end_period - first).astype(np.float64) / freq_multiplier,
        "monetary_value": monetary,
    }


def _purchasers(agg: pd.DataFrame, owner: str) -> np.ndarray:
    """Mask of the customers with a purchase period (returns netted), warning for others.

    A customer whose every period nets to zero or less (returns only, or each purchase
    returned in its period) has no purchase to count from: such customers are left out
    with a :class:`~crmmodels.errors.DataQualityWarning` naming how many.
    """
    bought: np.ndarray = agg["n_periods"].to_numpy() > 0
    if not bought.all():
        warn(f"{owner}: {int((~bought).sum())} customers have no purchase left once "
             "returns are netted within their periods; they are left out",
             DataQualityWarning)
    return bought


@overload
def customer_summary(data: CRMData | pd.DataFrame, freq: str = ...,
                     observation_end: str | pd.Timestamp | None = ..., *,
                     freq_multiplier: float = ...,
                     output: Literal["pandas"] = ...) -> pd.DataFrame: ...
@overload
def customer_summary(data: CRMData | pd.DataFrame, freq: str = ...,
                     observation_end: str | pd.Timestamp | None = ..., *,
                     freq_multiplier: float = ..., output: str) -> Any: ...
def customer_summary(
    data: CRMData | pd.DataFrame,
    freq: str = "D",
    observation_end: str | pd.Timestamp | None = None,
    *,
    freq_multiplier: float = 1,
    output: str = "pandas",
) -> Any:
    """Per-customer repeat-purchase summary (lifetimes' definitions).

    Parameters
    ----------
    data : CRMData or DataFrame
        Validated data, or a transactions frame (validated on the way in).
    freq : {"D", "W", "M", "h"}, default "D"
        Period: day, week (starting Monday), calendar month, hour.
    observation_end : str or Timestamp, optional
        End of the observation window; transactions in later *periods* are ignored
        (a transaction later in the same period still counts, as in lifetimes).
        Defaults to ``data.observation_end``.
    freq_multiplier : float, default 1
        Divide every duration by this number (``freq="h", freq_multiplier=24``:
        days at hour resolution).
    output : {"pandas", "polars"}, default "pandas"
        The library of the result; a polars frame has ``customer_id`` as its first
        column.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (sorted), columns ``frequency, recency, T,
        monetary_value`` (float64). Customers whose first purchase is after
        ``observation_end`` are absent.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels import CRMData
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-11",
    ...                                  "2024-01-05"]),
    ...     "amount": [10.0, 5.0, 30.0, 8.0],
    ... })
    >>> customer_summary(CRMData(transactions=tx), observation_end="2024-01-31")
                 frequency  recency     T  monetary_value
    customer_id
    a                  1.0     10.0  30.0            30.0
    b                  0.0      0.0  26.0             0.0
    """
    _check_freq(freq, freq_multiplier)
    _check_output(output)
    data = as_transaction_data(data, "the summary")
    end = data_time(observation_end, data, "observation_end") if observation_end is not None \
        else data.observation_end
    cut = None if observation_end is None else _period_end(
        end, freq, timestamp_unit(data), data.timezone)
    agg = customer_aggregates(data, end=cut, freq=freq)
    if agg.empty:
        raise DataValidationError(
            f"no transaction on or before observation_end {end}", frame="transactions",
            column="timestamp", rule="non_empty",
        )
    bought = _purchasers(agg, "customer_summary")
    if not bought.all():
        agg = agg[bought]
    return as_output(pd.DataFrame(_summary_columns(agg, _period_of(end, freq),
                                                   freq_multiplier),
                                  index=agg.index, copy=False),  # fresh arrays: no copy
                     output)


@overload
def calibration_holdout(data: CRMData | pd.DataFrame, calibration_end: str | pd.Timestamp,
                        observation_end: str | pd.Timestamp | None = ..., freq: str = ...,
                        *, freq_multiplier: float = ...,
                        output: Literal["pandas"] = ...) -> pd.DataFrame: ...
@overload
def calibration_holdout(data: CRMData | pd.DataFrame, calibration_end: str | pd.Timestamp,
                        observation_end: str | pd.Timestamp | None = ..., freq: str = ...,
                        *, freq_multiplier: float = ..., output: str) -> Any: ...
def calibration_holdout(
    data: CRMData | pd.DataFrame,
    calibration_end: str | pd.Timestamp,
    observation_end: str | pd.Timestamp | None = None,
    freq: str = "D",
    *,
    freq_multiplier: float = 1,
    output: str = "pandas",
) -> Any:
    """Summary over a calibration period plus what happened in the holdout period.

    The calibration summary uses the transactions stamped on or before
    ``calibration_end`` (with ``calibration_end`` as its observation end); the
    holdout covers transactions stamped in ``(calibration_end, observation_end]``.

    Parameters
    ----------
    data : CRMData or DataFrame
        Validated data or a transactions frame.
    calibration_end : str or Timestamp
        Last moment of the calibration period (inclusive).
    observation_end : str or Timestamp, optional
        Last moment of the holdout period (inclusive); defaults to
        ``data.observation_end``.
    freq : {"D", "W", "M", "h"}, default "D"
        Period, as in :func:`customer_summary`.
    freq_multiplier : float, default 1
        Divide every duration by this number.
    output : {"pandas", "polars"}, default "pandas"
        The library of the result, as in :func:`customer_summary`.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (customers with a purchase in the calibration
        period), columns ``frequency, recency, T, monetary_value`` (calibration),
        ``frequency_holdout`` (number of holdout periods with a purchase),
        ``monetary_value_holdout`` (mean amount per holdout purchase period; 0 when
        none; lifetimes averages individual transactions instead) and
        ``duration_holdout`` (periods from ``calibration_end`` to
        ``observation_end``).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-09",
    ...                                                 "2024-02-03", "2024-01-20"]),
    ...                    "amount": [10.0, 20.0, 40.0, 5.0]})
    >>> calibration_holdout(tx, "2024-01-31", "2024-02-29")[
    ...     ["frequency", "T", "frequency_holdout", "duration_holdout"]]
                 frequency     T  frequency_holdout  duration_holdout
    customer_id
    a                  1.0  30.0                1.0              29.0
    b                  0.0  11.0                0.0              29.0
    """
    _check_freq(freq, freq_multiplier)
    _check_output(output)
    data = as_transaction_data(data, "the summary")
    cal_end = data_time(calibration_end, data, "calibration_end")
    obs_end = data_time(observation_end, data, "observation_end") if observation_end is not None \
        else data.observation_end
    if cal_end >= obs_end:
        raise InvalidParameterError(
            f"calibration_end {cal_end} must be before observation_end {obs_end}"
        )
    agg = customer_aggregates(data, end=cal_end, freq=freq)
    if agg.empty:
        raise DataValidationError(
            f"no transaction on or before calibration_end {cal_end}", frame="transactions",
            column="timestamp", rule="non_empty",
        )
    bought = _purchasers(agg, "calibration_holdout")
    cal_p = _period_of(cal_end, freq)
    cols = _summary_columns(agg[bought] if not bought.all() else agg, cal_p,
                            freq_multiplier)
    # The holdout: its own distinct periods and amounts (a period holding calibration_end
    # counts on both sides), for the customers of the calibration summary.
    f_hold, s_hold = _holdout(data, cal_end, obs_end, freq, agg.index[bought])
    with np.errstate(invalid="ignore", divide="ignore"):
        m_hold = np.where(f_hold > 0, s_hold / np.maximum(f_hold, 1), 0.0)
    duration = float(_period_of(obs_end, freq) - cal_p) / freq_multiplier
    cols.update({
        "frequency_holdout": f_hold,
        "monetary_value_holdout": m_hold,
        "duration_holdout": np.full(int(bought.sum()), duration),
    })
    return as_output(pd.DataFrame(cols, index=agg.index[bought], copy=False), output)


def _holdout(data: CRMData, cal_end: pd.Timestamp, obs_end: pd.Timestamp, freq: str,
             customers: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Purchase periods and amount in ``(cal_end, obs_end]`` of each of ``customers``."""
    unit = timestamp_unit(data)
    start, stop = _wall(cal_end, unit), _wall(obs_end, unit)
    native = data._native.get("transactions")
    if native is not None:  # polars, pyarrow, ...: computed in that library
        hold = native_holdout(native, start, stop, freq).reindex(customers, fill_value=0.0)
        return (hold["period"].to_numpy(dtype=np.float64),
                hold["amount"].to_numpy(dtype=np.float64))
    assert data.transactions is not None
    codes, ids = data.customer_codes("transactions")
    ts = wall_clock(data.transactions["timestamp"])
    in_hold = (ts > start.to_datetime64()) & (ts <= stop.to_datetime64())
    n = len(ids)
    hc = codes[in_hold]
    f_hold: np.ndarray = np.zeros(n)
    s_hold: np.ndarray = np.zeros(n)
    if len(hc):
        hp = period_numbers(ts[in_hold], freq)
        p0 = int(hp.min())
        span = int(hp.max()) - p0 + 1
        f_hold = np.bincount(_distinct_pairs(hc, hp - p0, span) // span,
                             minlength=n).astype(np.float64)
        s_hold = np.bincount(
            hc, weights=data.transactions["amount"].to_numpy(dtype=np.float64)[in_hold],
            minlength=n)
    rows = ids.get_indexer(customers)  # every customer of the summary has a transaction
    return f_hold[rows], s_hold[rows]


def as_summary(data: CRMData | pd.DataFrame, freq: str) -> pd.DataFrame:
    """Return the per-customer summary of ``data`` (already a summary frame: as is).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"frequency": [1.0], "recency": [2.0], "T": [3.0]})
    >>> as_summary(s, "W") is s
    True
    """
    if isinstance(data, CRMData):
        return customer_summary(data, freq=freq)
    if not isinstance(data, pd.DataFrame):
        raise TypeError("as_summary: data must be a CRMData or a summary DataFrame, got "
                        f"{type(data).__name__}")
    return data


def validate_summary(summary: object, *, require_monetary: bool = False,
                     discrete: bool = False) -> pd.DataFrame:
    """Check a per-customer summary frame and return a clean float64 copy.

    One validator for both kinds of summary the transaction models take:

    * continuous time (the default): ``frequency, recency, T[, monetary_value]``, as
      :func:`customer_summary` returns them and lifetimes uses them;
    * discrete time (``discrete=True``, for BG/BB): ``frequency, recency, n_periods``
      counted in transaction opportunities. ``T`` is accepted as a synonym of
      ``n_periods``; when both are present they must agree.

    A continuous-time summary may carry an ``n_customers`` column: the number of
    customers each row stands for (whole numbers >= 1), as
    :func:`crmmodels.spark.summary_counts` returns them; the models fit such rows
    weighted and score each row once.

    Parameters
    ----------
    summary : DataFrame
        One row per customer, with the columns above and the customer ids as a
        ``customer_id`` column or as the index.
    require_monetary : bool, default False
        Require a ``monetary_value`` column (spend models). Without it, a
        ``monetary_value`` column of a continuous-time summary is checked and kept when
        present; a discrete-time summary keeps only its three columns.
    discrete : bool, default False
        Check a discrete-time summary.

    Returns
    -------
    DataFrame
        A new float64 frame with the columns ``frequency, recency, T[,
        monetary_value][, n_customers]`` (discrete: ``frequency, recency,
        n_periods``). Its index holds
        the caller's customer ids unchanged, labels and dtype (integer ids stay
        integers, text stays text), named ``customer_id``: taken from the
        ``customer_id`` column when there is one, else from the frame's index.

    Raises
    ------
    DataValidationError
        With ``frame="summary"``, the column, up to five offending row labels and the
        rule: ``type`` (not a DataFrame), ``required_column``, ``non_empty``,
        ``flat_index`` (a MultiIndex), ``numeric``, ``finite``, ``non_negative``,
        ``integer`` (``frequency`` is a whole number; discrete: every column is),
        ``T_equals_n_periods`` (discrete, both given), ``recency_le_T`` (discrete:
        ``recency_le_n_periods``), ``frequency_le_recency`` (discrete: each
        opportunity with a transaction is at or before the last one),
        ``recency_zero_without_repeat`` (``recency == 0`` when ``frequency == 0``),
        ``count`` (``n_customers``), ``unsupported`` (``n_customers`` in a discrete-time
        summary) and ``unique`` (customer ids).

    Examples
    --------
    >>> import pandas as pd
    >>> validate_summary(pd.DataFrame({"frequency": [2], "recency": [5.0], "T": [3.0]}))
    Traceback (most recent call last):
    ...
    crmmodels.errors.DataValidationError: [frame='summary', ...] recency must not exceed T...
    >>> ok = pd.DataFrame({"frequency": [2, 0], "recency": [5, 0], "n_periods": [6, 6]},
    ...                   index=[101, 102])
    >>> validate_summary(ok, discrete=True)
                 frequency  recency  n_periods
    customer_id
    101                2.0      5.0        6.0
    102                0.0      0.0        6.0
    """
    from crmmodels.errors import MissingColumnError

    if not isinstance(summary, pd.DataFrame):
        raise DataValidationError(
            f"summary must be a DataFrame, got {type(summary).__name__}", frame="summary",
            rule="type",
        )
    df = summary.copy(deep=False)
    if "customer_id" in df.columns:
        df = df.set_index("customer_id")
    time_col = "n_periods" if discrete and "n_periods" in df.columns else "T"
    time_name = "n_periods" if discrete else "T"
    cols = ["frequency", "recency", time_col]
    if require_monetary or (not discrete and "monetary_value" in df.columns):
        cols.append("monetary_value")
    for c in cols:
        if c not in df.columns:
            raise MissingColumnError("summary", time_name if c == time_col else c,
                                     list(df.columns))
    if len(df) == 0:
        raise DataValidationError("summary is empty", frame="summary", rule="non_empty")
    if isinstance(df.index, pd.MultiIndex):
        raise DataValidationError(
            "summary must have one customer id per row: give a customer_id column or a "
            f"flat index, not a MultiIndex of {df.index.nlevels} levels",
            frame="summary", rule="flat_index",
        )
    # The caller's ids as they are: converting them (say a million integers to text)
    # would cost more than the fit, and scores should come back under the same labels.
    out = pd.DataFrame(index=df.index.rename("customer_id"))
    for c in cols:
        s = df[c]
        if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            raise DataValidationError(f"{c} must be numeric, got {s.dtype}", frame="summary",
                                      column=c, rule="numeric")
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        _raise_if(~np.isfinite(v), df.index, c, "finite", f"{c} must be a finite number")
        _raise_if(v < 0, df.index, c, "non_negative", f"{c} must not be negative")
        out[time_name if c == time_col else c] = v
    if discrete:
        for c in ("frequency", "recency", time_col):
            v = out[time_name if c == time_col else c].to_numpy()
            _raise_if(v != np.round(v), df.index, c, "integer",
                      f"{c} counts transaction opportunities and must be a whole number")
        if time_col == "n_periods" and "T" in df.columns:
            t = pd.to_numeric(df["T"], errors="coerce").to_numpy(dtype=np.float64,
                                                                 na_value=np.nan)
            _raise_if(t != out["n_periods"].to_numpy(), df.index, "T", "T_equals_n_periods",
                      "T and n_periods are synonyms here and must agree (drop one of them)")
    else:
        f = out["frequency"].to_numpy()
        _raise_if(f != np.round(f), df.index, "frequency", "integer",
                  "frequency counts repeat purchase periods and must be a whole number")
    if "n_customers" in df.columns:
        if discrete:
            raise DataValidationError(
                "n_customers (rows standing for several customers) is taken by the "
                "continuous-time models only; repeat each row instead",
                frame="summary", column="n_customers", rule="unsupported")
        s = df["n_customers"]
        if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            raise DataValidationError(f"n_customers must be numeric, got {s.dtype}",
                                      frame="summary", column="n_customers", rule="numeric")
        n = s.to_numpy(dtype=np.float64, na_value=np.nan)
        _raise_if(~(n >= 1) | (n != np.round(n)), df.index, "n_customers", "count",
                  "n_customers counts the customers a row stands for: a whole number >= 1")
        out["n_customers"] = n
    f, r, t = (out[c].to_numpy() for c in ("frequency", "recency", time_name))
    if discrete:
        _raise_if(r > t, df.index, "recency", "recency_le_n_periods",
                  "recency (the opportunity of the last transaction) must not exceed "
                  "n_periods")
        _raise_if(f > r, df.index, "frequency", "frequency_le_recency",
                  "frequency (opportunities with a transaction) must not exceed recency")
    else:
        _raise_if(r > t * (1 + 1e-12), df.index, "recency", "recency_le_T",
                  "recency must not exceed T")
    _raise_if((f == 0) & (r != 0), df.index, "recency", "recency_zero_without_repeat",
              "recency must be 0 when frequency is 0")
    if out.index.has_duplicates:
        _raise_if(out.index.duplicated(), df.index, "customer_id", "unique",
                  "customer ids must be unique: give one row per customer, or one row per "
                  "pattern with the number of customers sharing it in n_customers")
    return out


def _raise_if(mask: np.ndarray, index: pd.Index, column: str, rule: str, msg: str) -> None:
    if mask.any():
        raise DataValidationError(msg, frame="summary", column=column, rule=rule,
                                  rows=list(index[np.flatnonzero(mask)[:5]]),
                                  n_rows=int(mask.sum()))
