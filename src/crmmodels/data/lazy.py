"""The data path as lazy queries that run in the frame's own library (Spark included).

:class:`~crmmodels.data.CRMData` holds data on one machine. For data that stay where
they are (a Spark cluster, a DuckDB database, a polars lazy scan), these functions
build the same computations as queries of that library, over narwhals expressions:

* :func:`check_rows` applies the row rules of validation (missing, empty, infinite and
  negative values) with the pandas path's messages, raising or dropping and counting;
* :func:`lazy_aggregates` is :func:`~crmmodels.data.customer_aggregates`;
* :func:`lazy_summary` is :func:`~crmmodels.data.customer_summary`;
* :func:`ordered_sums` sums per group one row after another in a given order, the way
  ``numpy.bincount`` does, so a float sum has the same bits in every library.

They take a frame with the canonical columns (``customer_id``, ``timestamp``,
``amount`` and optionally ``transaction_id``) and return a lazy frame of the same
library (a Spark DataFrame for a Spark DataFrame), one row per customer in no
particular order, ``customer_id`` a column. The numbers are those of the pandas path:
counts exactly, amounts to rounding. :mod:`crmmodels.spark` wraps them for Spark.

Timestamps are read as wall-clock times: those of the column's time zone, or on Spark
those of the session time zone (``spark.sql.session.timeZone``), in which Spark shows
them.

Examples
--------
>>> import polars as pl
>>> from datetime import datetime
>>> from crmmodels.data import lazy_summary
>>> tx = pl.LazyFrame({"customer_id": ["a", "a", "b"],
...                    "timestamp": [datetime(2024, 1, 1), datetime(2024, 1, 11),
...                                  datetime(2024, 1, 5)],
...                    "amount": [10.0, 30.0, 8.0]})
>>> lazy_summary(tx, freq="D", observation_end="2024-01-31").sort("customer_id").collect()
shape: (2, 5)
┌─────────────┬───────────┬─────────┬──────┬────────────────┐
│ customer_id ┆ frequency ┆ recency ┆ T    ┆ monetary_value │
│ ---         ┆ ---       ┆ ---     ┆ ---  ┆ ---            │
│ str         ┆ f64       ┆ f64     ┆ f64  ┆ f64            │
╞═════════════╪═══════════╪═════════╪══════╪════════════════╡
│ a           ┆ 1.0       ┆ 10.0    ┆ 30.0 ┆ 30.0           │
│ b           ┆ 0.0       ┆ 0.0     ┆ 26.0 ┆ 0.0            │
└─────────────┴───────────┴─────────┴──────┴────────────────┘
"""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels.data._native import aggregate_query, calendar_periods
from crmmodels.data._validation import ValidationReport, align_timestamp
from crmmodels.data.aggregates import _check_freq, _period_of
from crmmodels.data.summary import _period_end
from crmmodels.errors import (
    DataQualityWarning,
    DataValidationError,
    InvalidParameterError,
    MissingColumnError,
    warn,
)

__all__ = ["check_rows", "lazy_aggregates", "lazy_summary", "ordered_sums"]

LOG = logging.getLogger("crmmodels")

_REQUIRED = ("customer_id", "timestamp", "amount")


def _lazy(frame: object, what: str) -> nw.LazyFrame[Any]:
    """Wrap ``frame`` as a narwhals lazy frame with the canonical columns checked."""
    try:
        wrapped = nw.from_native(frame)  # type: ignore[call-overload]
    except TypeError:
        raise DataValidationError(
            f"{what} takes a polars, DuckDB, pyarrow, pandas or Spark frame, got "
            f"{type(frame).__name__}", frame="transactions", rule="type") from None
    lazy: nw.LazyFrame[Any] = wrapped.lazy()
    names = lazy.collect_schema().names()
    for column in _REQUIRED:
        if column not in names:
            raise MissingColumnError("transactions", column, names)
    dtype = lazy.collect_schema()["timestamp"]
    if not isinstance(dtype, nw.Datetime):
        raise DataValidationError(
            f"timestamp must hold timestamps, got {dtype}; parse the column in its own "
            "library with an explicit format first", frame="transactions",
            column="timestamp", rule="type")
    return lazy


def _scalar(query: nw.LazyFrame[Any]) -> Any:
    """Collect a one-row, one-column query to a Python value."""
    out = query.collect(backend="pandas").to_native()
    return out.iloc[0, 0]


def _wall(value: Any, dtype: nw.Datetime, name: str) -> pd.Timestamp:
    """Return ``value`` as a naive wall-clock timestamp of the column's time zone."""
    ts = align_timestamp(value, dtype.time_zone, name)
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


def _returns(lazy: nw.LazyFrame[Any]) -> bool:
    """Whether some amount is negative (one aggregation)."""
    low = _scalar(lazy.select(nw.col("amount").min()))
    return bool(pd.notna(low) and float(low) < 0)


def lazy_aggregates(frame: Any, *, end: object = None, freq: str | None = None) -> Any:
    """Per-customer aggregate of validated transactions, as a query of their library.

    Parameters
    ----------
    frame : polars LazyFrame or DataFrame, DuckDB relation, pyarrow Table, Spark DataFrame
        Transactions with the canonical columns, already validated (see
        :func:`check_rows`).
    end : str or Timestamp, optional
        Only transactions stamped at or before it count (wall-clock time).
    freq : {"D", "W", "M", "h"}, optional
        Period of the purchase-period columns; without it they are left out.

    Returns
    -------
    lazy frame of the input's library
        The columns of :func:`~crmmodels.data.customer_aggregates`, with
        ``customer_id`` a column.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> tx = pl.DataFrame({"customer_id": [1, 1], "amount": [5.0, 7.0],
    ...                    "timestamp": [datetime(2024, 3, 1), datetime(2024, 3, 9)]})
    >>> lazy_aggregates(tx, freq="W").collect()["n_periods"].to_list()
    [2]
    """
    if freq is not None:
        _check_freq(freq)
    lazy = _lazy(frame, "lazy_aggregates")
    dtype = lazy.collect_schema()["timestamp"]
    assert isinstance(dtype, nw.Datetime)
    cut = None if end is None else _wall(end, dtype, "end")
    returns = freq is not None and _returns(lazy)
    query = aggregate_query(lazy, dtype, cut, freq, returns=returns,
                            civil=calendar_periods(lazy))
    return query.to_native()


def lazy_summary(frame: Any, *, freq: str = "D", observation_end: object = None,
                 freq_multiplier: float = 1) -> Any:
    """Per-customer repeat-purchase summary, as a query of the transactions' library.

    The numbers of :func:`~crmmodels.data.customer_summary` on the same transactions.

    Parameters
    ----------
    frame : polars LazyFrame or DataFrame, DuckDB relation, pyarrow Table, Spark DataFrame
        Transactions with the canonical columns, already validated (see
        :func:`check_rows`).
    freq : {"D", "W", "M", "h"}, default "D"
        Period: day, week (starting Monday), calendar month, hour.
    observation_end : str or Timestamp, optional
        End of the observation window (transactions in later periods are ignored).
        Default: the latest timestamp (one aggregation).
    freq_multiplier : float, default 1
        Divide every duration by this number.

    Returns
    -------
    lazy frame of the input's library
        ``customer_id, frequency, recency, T, monetary_value`` (float64). Customers
        whose every period nets to zero or less once returns are netted are left out,
        with a :class:`~crmmodels.errors.DataQualityWarning` naming how many.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> tx = pl.DataFrame({"customer_id": ["a", "a"], "amount": [5.0, 7.0],
    ...                    "timestamp": [datetime(2024, 3, 1), datetime(2024, 3, 9)]})
    >>> lazy_summary(tx, freq="W").collect()["T"].to_list()
    [1.0]
    """
    _check_freq(freq)
    if isinstance(freq_multiplier, bool | np.bool_) or not (
            isinstance(freq_multiplier, numbers.Real) and np.isfinite(freq_multiplier)
            and freq_multiplier > 0):
        raise InvalidParameterError(
            f"freq_multiplier must be a positive number, got {freq_multiplier!r}")
    lazy = _lazy(frame, "lazy_summary")
    dtype = lazy.collect_schema()["timestamp"]
    assert isinstance(dtype, nw.Datetime)
    civil = calendar_periods(lazy)
    # The latest timestamp and the lowest amount, in one aggregation.
    bounds = lazy.select(nw.col("timestamp").max(), nw.col("amount").min()).collect(
        backend="pandas").to_native().iloc[0]
    latest, low = bounds["timestamp"], bounds["amount"]
    if observation_end is None:
        if pd.isna(latest):
            raise DataValidationError("transactions is empty", frame="transactions",
                                      rule="non_empty")
        end = _wall(pd.Timestamp(latest), dtype, "observation_end")
        cut = None
    else:
        end = _wall(observation_end, dtype, "observation_end")
        cut = _period_end(end, freq, "us" if civil else dtype.time_unit, None)
    returns = bool(pd.notna(low) and float(low) < 0)
    agg = aggregate_query(lazy, dtype, cut, freq, returns=returns, civil=civil)
    if returns:
        gone = int(_scalar(agg.select((nw.col("n_periods") == 0).cast(nw.Int64).sum())))
        if gone:
            warn(f"lazy_summary: {gone} customers have no purchase left once returns are "
                 "netted within their periods; they are left out", DataQualityWarning)
            agg = agg.filter(nw.col("n_periods") > 0)
    end_period = _period_of(end, freq)
    frequency = (nw.col("n_periods") - 1).cast(nw.Float64)
    summary = agg.select(
        "customer_id",
        frequency.alias("frequency"),
        ((nw.col("last_period") - nw.col("first_period")).cast(nw.Float64)
         / float(freq_multiplier)).alias("recency"),
        ((end_period - nw.col("first_period")).cast(nw.Float64)
         / float(freq_multiplier)).alias("T"),
        nw.when(frequency > 0).then(nw.col("repeat_amount") / frequency)
        .otherwise(0.0).alias("monetary_value"),
    )
    return summary.to_native()


# ---------------------------------------------------------------------- row rules
@dataclass(frozen=True)
class _Rule:
    column: str
    rule: str
    mask: nw.Expr
    message: str


def _rules(lazy: nw.LazyFrame[Any], *, allow_returns: bool) -> list[_Rule]:
    """Return the row rules of validation for the canonical columns, in pandas' order."""
    schema = lazy.collect_schema()
    cid = nw.col("customer_id")
    rules = [_Rule("customer_id", "not_null", cid.is_null(),
                   "customer_id must not be missing (NaN/None)")]
    if schema["customer_id"] == nw.String:
        rules.append(_Rule("customer_id", "non_empty",
                           cid.str.strip_chars().str.len_chars() == 0,
                           "customer_id must not be empty text"))
    rules.append(_Rule("timestamp", "not_null", nw.col("timestamp").is_null(),
                       "timestamp must not be missing"))
    amount = nw.col("amount")
    rules += [
        _Rule("amount", "not_null", amount.is_null() | amount.is_nan(),
              "amount must not be missing"),
        _Rule("amount", "finite", amount.abs() == float("inf"), "amount must be finite"),
    ]
    if not allow_returns:
        rules.append(_Rule("amount", "non_negative", amount < 0,
                           "amount must not be negative (pass allow_returns=True if these "
                           "are returns)"))
    return rules


def check_rows(frame: Any, *, allow_returns: bool = False, on_invalid: str = "raise",
               report: ValidationReport | None = None) -> Any:
    """Apply validation's row rules to transactions in their own library.

    The rules and messages of :class:`~crmmodels.data.CRMData`: ``customer_id`` present
    and not empty text, ``timestamp`` present, ``amount`` present, finite and (unless
    ``allow_returns``) not negative. One aggregation counts every rule.

    Parameters
    ----------
    frame : polars, DuckDB, pyarrow or Spark frame
        Transactions with the canonical columns and types.
    allow_returns : bool, default False
        Accept negative amounts.
    on_invalid : {"raise", "drop"}, default "raise"
        Raise on the first rule broken, or drop the rows breaking any and count them
        in ``report``.
    report : ValidationReport, optional
        Where the drops are counted (rows are not labelled: a lazy frame has no row
        labels).

    Returns
    -------
    lazy frame of the input's library
        The rows kept.

    Raises
    ------
    DataValidationError
        With the frame, column, rule and number of rows broken.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> tx = pl.DataFrame({"customer_id": ["a", None], "amount": [5.0, 7.0],
    ...                    "timestamp": [datetime(2024, 3, 1), datetime(2024, 3, 9)]})
    >>> check_rows(tx)
    Traceback (most recent call last):
    ...
    crmmodels.errors.DataValidationError: [frame='transactions', ...] customer_id must not ...
    """
    if on_invalid not in ("raise", "drop"):
        raise InvalidParameterError(
            f"on_invalid must be 'raise' or 'drop', got {on_invalid!r}")
    lazy = _lazy(frame, "check_rows")
    rules = _rules(lazy, allow_returns=allow_returns)
    # Each rule counts the rows it is the first to break (fresh), as the pandas path
    # reports drops; the first rule with any row is the one raised.
    seen: nw.Expr | None = None
    counts: list[nw.Expr] = []
    for i, r in enumerate(rules):
        hit = r.mask.fill_null(False)
        fresh = hit if seen is None else hit & ~seen
        counts.append(fresh.cast(nw.Int64).sum().alias(f"r{i}"))
        seen = hit if seen is None else seen | hit
    assert seen is not None
    row = lazy.select(*counts).collect(backend="pandas").to_native().iloc[0]
    broken = [(r, int(n)) for r, n in zip(rules, row.fillna(0).to_numpy(), strict=True)
              if n]
    if not broken:
        return lazy.to_native()
    if on_invalid == "raise":
        # The first rule broken: no earlier rule took any row, so its count is whole.
        first, total = broken[0]
        raise DataValidationError(first.message, frame="transactions", column=first.column,
                                  rule=first.rule, n_rows=total)
    for r, n in broken:
        LOG.info("dropping %d transactions: %s", n, r.message)
        if report is not None:
            report.add("transactions", r.column, r.rule, "dropped", n, detail=r.message)
    return lazy.filter(~seen).to_native()


def ordered_sums(rows: Any, keys: list[str], order: list[str],
                 sums: dict[str, nw.Expr], other: dict[str, nw.Expr] | None = None
                 ) -> Any:
    """Sum per group, adding one row after another in ``order``.

    A group-by sum adds in an order of its own (pairwise, compensated, in parallel
    chunks), so the same floats summed by two libraries can differ in the last bits, and
    a value on a threshold can fall on either side. Summed here as ``numpy.bincount``
    sums, row after row in ``order`` (ties in ``order`` must be rows of equal values),
    the result is the same in every library, and equal to ``numpy.bincount`` over rows
    sorted by ``order``.

    Parameters
    ----------
    rows : narwhals LazyFrame or a frame narwhals reads
        The rows (polars, pandas, DuckDB, Spark...; ordered window functions needed).
    keys : list of str
        The group columns.
    order : list of str
        The columns that order the rows within a group.
    sums : dict of str to Expr
        Name and value of each sum.
    other : dict of str to Expr, optional
        Aggregations that do not depend on the order (``nw.col("x").min()``...).

    Returns
    -------
    narwhals LazyFrame, or a lazy frame of the input's library for a native input
        One row per group: ``keys``, the sums, the other aggregations.

    Examples
    --------
    >>> import narwhals.stable.v2 as nw
    >>> import polars as pl
    >>> rows = nw.from_native(pl.LazyFrame({"g": ["a", "a", "b"], "t": [2, 1, 1],
    ...                                     "x": [0.2, 0.1, 0.7]}))
    >>> out = ordered_sums(rows, ["g"], ["t"], {"total": nw.col("x")},
    ...                    {"n": nw.col("x").count()})
    >>> out.sort("g").collect().to_native().rows()
    [('a', 0.30000000000000004, 2), ('b', 0.7, 1)]
    """
    other = other or {}
    native = not isinstance(rows, nw.LazyFrame | nw.DataFrame)
    if native:
        try:
            rows = nw.from_native(rows)
        except TypeError:
            raise DataValidationError(
                f"ordered_sums takes a dataframe (polars, pandas, DuckDB, Spark, a narwhals "
                f"frame), got {type(rows).__name__}", frame="rows", rule="type") from None
    rows = rows.lazy()
    ranked = rows.with_columns(
        *(expr.cum_sum().over(*keys, order_by=order).alias(name)
          for name, expr in sums.items()),
        *(expr.over(*keys).alias(name) for name, expr in other.items()),
        nw.col(order[-1]).cum_count().over(*keys, order_by=order).alias("__k"),
        nw.col(order[-1]).count().over(*keys).alias("__n"))
    out = ranked.filter(nw.col("__k") == nw.col("__n")).select(*keys, *sums, *other)
    return out.to_native() if native else out
