"""One per-customer aggregate of the transactions, computed once per data and arguments.

Every per-customer model starts from the same few numbers: when a customer bought
first and last, how often, and for how much. :func:`customer_aggregates` computes them
in one vectorised pass over the customer codes that :class:`~crmmodels.CRMData`
computed during validation (``numpy.bincount``, ``numpy.minimum.at``, one sort for the
distinct periods) and caches the table on the data through
:meth:`CRMData.derived <crmmodels.data.CRMData.derived>`, so that the repeat-purchase
summary, RFM, ABC, lifecycle stages, behavioural segments and churn features fitted
and scored on one ``CRMData`` aggregate its transactions once per cut-off and period.

The module also holds the time helpers the aggregate rests on: wall-clock
timestamps, integer period numbers and cut-off dates in the data's timezone.
"""

from __future__ import annotations

from typing import Final, Literal, TypeAlias

import numpy as np
import pandas as pd

from crmmodels.data._native import native_aggregates
from crmmodels.data._native import timestamp_unit as native_unit
from crmmodels.data._validation import align_timestamp
from crmmodels.data.container import CRMData, as_transaction_data
from crmmodels.errors import InvalidParameterError

__all__ = [
    "customer_aggregates",
    "data_time",
    "period_numbers",
    "wall_clock",
]

_FREQS: Final = ("D", "W", "M", "h")
TimeUnit: TypeAlias = Literal["s", "ms", "us", "ns"]
_BIG: Final = np.iinfo(np.int64).max


def wall_clock(values: pd.Series) -> np.ndarray:
    """Return wall-clock datetime64 values in the column's own unit (no overflow to ns).

    Timezone-aware timestamps lose their zone and keep their local time.

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.Series(pd.to_datetime(["2024-01-01 09:00"]).tz_localize("Europe/Paris"))
    >>> str(wall_clock(ts)[0])[:19]
    '2024-01-01T09:00:00'
    """
    if not isinstance(values, pd.Series):
        raise TypeError("wall_clock: values must be a pandas Series of timestamps (a frame "
                        f"column), got {type(values).__name__}")
    if getattr(values.dtype, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    return values.to_numpy()


def data_time(value: object, data: CRMData, name: str) -> pd.Timestamp:
    """Return the date ``value`` expressed in the timezone of ``data``.

    Parameters
    ----------
    value : str or Timestamp
        A cut-off date given by the caller.
    data : CRMData
        The data it applies to.
    name : str
        The parameter's name, for the error message.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels import CRMData
    >>> tx = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2024-01-05"], "amount": [1.0]})
    >>> data_time("2024-01-31", CRMData(transactions=tx), "cutoff")
    Timestamp('2024-01-31 00:00:00')
    """
    if not isinstance(data, CRMData):
        raise TypeError(f"data_time: data must be a CRMData, got {type(data).__name__}")
    return align_timestamp(value, data.timezone, name)


def period_numbers(ts: np.ndarray, freq: str) -> np.ndarray:
    """Integer period number of each (naive) timestamp.

    Days, hours and months count from the Unix epoch; weeks start on Monday, as
    pandas' ``W`` (``W-SUN``) periods do.

    Examples
    --------
    >>> import numpy as np
    >>> ts = np.array(["2024-01-07", "2024-01-08"], dtype="datetime64[ns]")  # Sun, Mon
    >>> np.diff(period_numbers(ts, "W")).tolist()
    [1]
    """
    if not (isinstance(ts, np.ndarray) and np.issubdtype(ts.dtype, np.datetime64)):
        raise TypeError("period_numbers: ts must be a numpy datetime64 array, got "
                        f"{type(ts).__name__}")
    if freq == "D":
        return ts.astype("datetime64[D]").astype(np.int64)
    if freq == "h":
        return ts.astype("datetime64[h]").astype(np.int64)
    if freq == "M":
        return ts.astype("datetime64[M]").astype(np.int64)
    if freq == "W":
        days = ts.astype("datetime64[D]").astype(np.int64)
        return (days + 3) // 7  # 1970-01-01 is a Thursday; weeks start on Monday
    raise InvalidParameterError(f"freq must be one of {list(_FREQS)}, got {freq!r}")


def _check_freq(freq: object) -> None:
    """Raise ``InvalidParameterError`` unless ``freq`` is one of ``_FREQS``."""
    if not isinstance(freq, str) or freq not in _FREQS:
        raise InvalidParameterError(f"freq must be one of {list(_FREQS)}, got {freq!r}")


def _period_of(ts: pd.Timestamp, freq: str) -> int:
    """Period number of one timestamp (its wall-clock time when timezone-aware)."""
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return int(period_numbers(np.array([ts.to_datetime64()]), freq)[0])


def _distinct_pairs(codes: np.ndarray, offsets: np.ndarray, span: int) -> np.ndarray:
    """Distinct ``code * span + offset`` keys (one per customer and period), sorted.

    The keys are 32-bit when they fit (half the memory and traffic of 64-bit ones).
    """
    n_keys = (int(codes.max()) + 1) * span if len(codes) else 0
    key = codes.astype(np.int32 if n_keys <= np.iinfo(np.int32).max else np.int64)
    np.multiply(key, span, out=key)
    np.add(key, offsets, out=key, casting="unsafe")  # no overflow: key < n_keys
    key.sort()
    if len(key) == 0:
        return key
    keep = np.empty(len(key), dtype=bool)
    keep[0] = True
    np.not_equal(key[1:], key[:-1], out=keep[1:])
    out: np.ndarray = key[keep]
    return out


def _period_runs(codes: np.ndarray, offsets: np.ndarray, span: int,
                 n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct periods, first and last period offset per customer code."""
    pairs = _distinct_pairs(codes, offsets, span)
    owner = pairs // span  # the sorted pairs hold a run of periods per customer
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    stops = np.r_[starts[1:], len(owner)] - 1
    first = np.zeros(n, dtype=offsets.dtype)
    last = np.zeros(n, dtype=offsets.dtype)
    first[owner[starts]] = pairs[starts] - owner[starts] * span
    last[owner[stops]] = pairs[stops] - owner[stops] * span
    return np.bincount(owner, minlength=n), first, last


def customer_aggregates(
    data: CRMData | pd.DataFrame,
    *,
    end: str | pd.Timestamp | None = None,
    freq: str | None = "D",
) -> pd.DataFrame:
    """When, how often and for how much each customer bought, up to ``end``.

    The one per-customer aggregate of the transactions that the repeat-purchase
    summary, :class:`~crmmodels.segments.RFMModel`,
    :class:`~crmmodels.segments.ABCModel`,
    :class:`~crmmodels.segments.LifecycleModel`,
    :class:`~crmmodels.segments.SegmentationModel` and
    :func:`~crmmodels.propensity.churn_features` start from. It is computed once per
    ``CRMData`` and argument set and kept on the data (see :meth:`CRMData.derived
    <crmmodels.data.CRMData.derived>`); each call returns a copy. The columns that do
    not depend on ``freq`` are computed once per ``end`` for every ``freq``.

    Parameters
    ----------
    data : CRMData or DataFrame
        Validated data with a transactions frame, or a transactions frame (validated on
        the way in; nothing is then kept between calls).
    end : str or Timestamp, optional
        Point in time: only transactions stamped at or before ``end`` count (compared
        in wall-clock time for timezone-aware data; a naive date is read in the data's
        timezone). Default: ``data.observation_end``, i.e. every transaction.
    freq : {"D", "W", "M", "h"} or None, default "D"
        Period of the period columns: calendar day, week starting on Monday, calendar
        month, hour (of the wall-clock time). ``None`` leaves the period columns out,
        which is cheaper (they need a sort of the transactions).

    Returns
    -------
    DataFrame
        One row per customer with at least one transaction at or before ``end``,
        indexed by ``customer_id`` in the order of :meth:`CRMData.customer_codes
        <crmmodels.data.CRMData.customer_codes>` (sorted ids). Columns:

        - ``first_timestamp``, ``last_timestamp``: the earliest and the latest
          transaction (in the transactions' dtype, timezone included);
        - ``n_transactions`` (int64): transaction rows;
        - ``n_purchases`` (int64): distinct ``transaction_id`` values (a row without
          one is a purchase of its own); ``n_transactions`` when there is no such
          column;
        - ``total_amount`` (float64): the sum of ``amount`` (returns included);

        and, unless ``freq`` is None, the period columns:

        - ``first_period``, ``last_period`` (int64): the first and the last purchase
          period, numbered as :func:`period_numbers` numbers them;
        - ``n_periods`` (int64): purchase periods;
        - ``repeat_amount`` (float64): the sum of the net amounts of the purchase
          periods after the first one.

        A purchase period is a period with a transaction, where returns (negative
        amounts, kept with ``allow_returns=True``) net against the customer's
        purchases in the same period: a period holding a return is a purchase period
        only when its net amount is > 0, so a fully returned purchase is no purchase
        (and no repeat purchase). A customer whose every period nets to <= 0 has
        ``n_periods`` 0 and the first and last period of its transactions.

        Amounts are summed in row order (``numpy.bincount``): every model that reports a
        customer's spend reports this number.

    Raises
    ------
    InvalidParameterError
        ``freq`` is not one of the four periods or None, or ``end`` is not a date.
    DataValidationError
        ``data`` has no transactions frame.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels import CRMData
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 17:00",
    ...                                  "2024-01-11 10:00", "2024-01-05 12:00"]),
    ...     "amount": [10.0, 5.0, 30.0, 8.0],
    ... })
    >>> data = CRMData(transactions=tx)
    >>> agg = customer_aggregates(data)
    >>> agg[["n_transactions", "n_periods", "total_amount", "repeat_amount"]]
                 n_transactions  n_periods  total_amount  repeat_amount
    customer_id
    a                         3          2          45.0           30.0
    b                         1          1           8.0            0.0
    >>> early = customer_aggregates(data, end="2024-01-04", freq=None)
    >>> early.columns.tolist()
    ['first_timestamp', 'last_timestamp', 'n_transactions', 'n_purchases', 'total_amount']
    >>> early[["last_timestamp", "total_amount"]]
                      last_timestamp  total_amount
    customer_id
    a            2024-01-01 17:00:00          15.0
    """
    if freq is not None:
        _check_freq(freq)
    data = as_transaction_data(data, "customer_aggregates")
    cut: pd.Timestamp | None = None
    if end is not None:
        aligned = data_time(end, data, "end")
        if aligned < data.observation_end:  # no transaction is later than observation_end
            cut = _wall(aligned, timestamp_unit(data))
    native = data._native.get("transactions")
    if native is not None:  # polars, pyarrow, ...: one query in that library
        if freq is None:  # the columns of a table already computed with periods
            for other in _FREQS:
                key = ("customer_aggregates", "native", cut, other)
                if data.is_derived(key):
                    return data.derived(key, lambda: pd.DataFrame()).iloc[:, :5]
        return data.derived(("customer_aggregates", "native", cut, freq),
                            lambda: native_aggregates(native, cut, freq))
    periods = None if freq is None else data.derived(
        ("customer_aggregates", cut, freq), lambda: _periods(data, cut, freq))
    totals = data.derived(("customer_aggregates", cut, None), lambda: _totals(data, cut))
    if periods is not None:
        for column in periods.columns:  # the same customers in the same order
            totals[column] = periods[column].to_numpy()
    return totals


def _unit(stamps: pd.Series) -> TimeUnit:
    """Resolution of a timestamp column, timezone-aware or not."""
    unit = stamps.dt.unit
    return unit if unit in ("s", "ms", "us") else "ns"


def timestamp_unit(data: CRMData) -> TimeUnit:
    """Resolution of the transactions' timestamps (no pandas copy of a native frame)."""
    native = data._native.get("transactions")
    if native is not None:
        unit = native_unit(native)
        return unit if unit in ("s", "ms", "us") else "ns"  # type: ignore[return-value]
    assert data.transactions is not None
    return _unit(data.transactions["timestamp"])


def _wall(ts: pd.Timestamp, unit: TimeUnit) -> pd.Timestamp:
    """Return the wall-clock time of ``ts`` floored to ``unit``.

    A time on the grid of ``unit`` is at or before ``ts`` exactly when it is at or before
    the result.
    """
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.as_unit(unit)  # as_unit floors


def _rows(data: CRMData, cut: pd.Timestamp | None) -> np.ndarray | None:
    """Positions of the transactions at or before ``cut`` (None: all of them)."""
    if cut is None:
        return None
    assert data.transactions is not None
    keep = wall_clock(data.transactions["timestamp"]) <= cut.to_datetime64()
    return None if keep.all() else np.flatnonzero(keep)


def _index(ids: pd.Index, present: np.ndarray) -> pd.Index:
    index: pd.Index = pd.Index(ids[present], name="customer_id", dtype="str")
    return index


def _totals(data: CRMData, cut: pd.Timestamp | None) -> pd.DataFrame:
    """First and last transaction, counts and total amount per customer."""
    tx = data.transactions
    assert tx is not None
    codes, ids = data.customer_codes("transactions")
    stamps = tx["timestamp"]
    tz = getattr(stamps.dtype, "tz", None)
    # The instants (UTC for timezone-aware data) order the transactions.
    instant = (stamps.dt.tz_convert(None) if tz is not None else stamps).to_numpy()
    amount = tx["amount"].to_numpy(dtype=np.float64)
    rows = _rows(data, cut)
    if rows is not None:
        codes, instant, amount = codes[rows], instant[rows], amount[rows]
    n = len(ids)
    n_tx = np.bincount(codes, minlength=n)
    present = n_tx > 0
    # (astype: numpy gives integers for no rows at all)
    total = np.bincount(codes, weights=amount, minlength=n).astype(np.float64, copy=False)
    as_int = instant.view(np.int64)
    first = np.full(n, _BIG, dtype=np.int64)
    last = np.full(n, -_BIG, dtype=np.int64)
    np.minimum.at(first, codes, as_int)
    np.maximum.at(last, codes, as_int)
    if "transaction_id" in tx.columns:
        n_purchases = _purchases(tx["transaction_id"], rows, codes, n)
    else:
        n_purchases = n_tx
    return pd.DataFrame({
        "first_timestamp": _stamps(first[present], instant.dtype, tz),
        "last_timestamp": _stamps(last[present], instant.dtype, tz),
        "n_transactions": n_tx[present].astype(np.int64),
        "n_purchases": n_purchases[present].astype(np.int64),
        "total_amount": total[present],
    }, index=_index(ids, present), copy=False)  # fresh arrays: no copy


def _periods(data: CRMData, cut: pd.Timestamp | None, freq: str) -> pd.DataFrame:
    """First and last period, distinct periods and the amount after the first period."""
    tx = data.transactions
    assert tx is not None
    codes, ids = data.customer_codes("transactions")
    wall = wall_clock(tx["timestamp"])
    amount = tx["amount"].to_numpy(dtype=np.float64)
    rows = _rows(data, cut)
    if rows is not None:
        codes, wall, amount = codes[rows], wall[rows], amount[rows]
    n = len(ids)
    n_periods = np.zeros(n, dtype=np.int64)
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    repeat: np.ndarray = np.zeros(n)
    if len(codes):
        periods = period_numbers(wall, freq)
        p0 = int(periods.min())
        span = int(periods.max()) - p0 + 1
        # Periods counted from the data's first one: 32-bit when they fit.
        offsets = np.subtract(periods, p0, out=periods).astype(
            np.int32 if span <= np.iinfo(np.int32).max else np.int64, copy=False)
        del periods
        n_periods, first_offset, last_offset = _period_runs(codes, offsets, span, n)
        present = n_periods > 0  # customers with a transaction, as in _totals
        if amount.min() < 0:
            # Returns net against their customer's purchases in the same period: a
            # period holding a return is a purchase period only when its net amount is
            # > 0 (beyond the rounding of its sum). One sort of the (customer, period)
            # keys; no loop per customer.
            pairs, inverse = np.unique(codes.astype(np.int64) * span + offsets,
                                       return_inverse=True)
            bought_sum = np.bincount(inverse, weights=np.maximum(amount, 0.0),
                                     minlength=len(pairs))
            returned = np.bincount(inverse, weights=np.minimum(amount, 0.0),
                                   minlength=len(pairs))
            net = bought_sum + returned
            bought = (returned == 0) | (net > 1e-9 * bought_sum)
            pairs, net = pairs[bought], net[bought]
            owner = pairs // span
            starts = np.flatnonzero(np.diff(owner, prepend=-1))
            stops = np.flatnonzero(np.diff(owner, append=-1))
            n_periods = np.bincount(owner, minlength=n)
            # Customers without a purchase period keep the periods of their transactions.
            first_offset[owner[starts]] = pairs[starts] - owner[starts] * span
            last_offset[owner[stops]] = pairs[stops] - owner[stops] * span
            net[starts] = 0.0
            repeat = np.bincount(owner, weights=net, minlength=n)
        else:
            is_first = offsets == first_offset[codes]
            repeat = np.bincount(codes, weights=np.where(is_first, 0.0, amount), minlength=n)
        first = first_offset.astype(np.int64) + p0
        last = last_offset.astype(np.int64) + p0
    else:
        present = n_periods > 0
    return pd.DataFrame({
        "first_period": first[present],
        "last_period": last[present],
        "n_periods": n_periods[present].astype(np.int64),
        "repeat_amount": repeat[present],
    }, index=_index(ids, present), copy=False)  # fresh arrays: no copy


def _stamps(values: np.ndarray, dtype: np.dtype, tz: object) -> pd.DatetimeIndex:
    """Timestamps from their int64 view, in the zone of the transactions."""
    out = pd.DatetimeIndex(values.view(dtype))
    if tz is not None:
        out = out.tz_localize("UTC").tz_convert(tz)  # type: ignore[arg-type]
    return out


def _purchases(tid: pd.Series, rows: np.ndarray | None, codes: np.ndarray,
               n: int) -> np.ndarray:
    """Distinct (customer, transaction_id) per customer; a row without an id counts once."""
    code = pd.factorize(tid)[0].astype(np.int64)
    if rows is not None:
        code = code[rows]
    lone = code < 0
    n_ids = int(code.max(initial=-1)) + 1
    code[lone] = n_ids + np.arange(int(lone.sum()))
    span = max(int(code.max(initial=0)) + 1, 1)
    key = np.unique(codes.astype(np.int64) * span + code)
    out: np.ndarray = np.bincount(key // span, minlength=n)
    return out
