"""Validation of frames from other dataframe libraries, over narwhals.

A polars, pyarrow or DuckDB frame given to :class:`~crmmodels.CRMData` is validated in
its own library through narwhals expressions, against the same rules and with the same
messages and report entries as a pandas frame (:func:`validate_frame`), and kept in that
library. The rules that read text (dates, numbers or booleans written as text, ids
stored as floats) need the pandas logic of :mod:`crmmodels.data._validation`: those
columns, and only they, go through it and come back (``crmmodels`` logs each at INFO
level). A lazy frame (polars ``LazyFrame``, a DuckDB relation) is collected once, into
polars when it is installed, else into a pyarrow table.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Hashable
from functools import partial
from typing import Any, Literal

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels.data._validation import (
    OnDuplicate,
    OnInvalid,
    ValidationReport,
    _check_bool,
    _check_datetime,
    _check_enum,
    _check_id,
    _check_numeric,
    _check_text,
    _Problem,
    align_timestamp,
    number_problems,
    outside_message,
    settle_duplicates,
    settle_problems,
)
from crmmodels.data.schemas import (
    SCHEMAS,
    Channel,
    InteractionKind,
    field_kinds,
    required_fields,
)
from crmmodels.errors import DataValidationError, MissingColumnError, require_installed

__all__ = [
    "NativeFrame",
    "aggregate_query",
    "calendar_periods",
    "id_text",
    "is_native",
    "is_spark_like",
    "latest_timestamp",
    "native_aggregates",
    "native_frame",
    "native_holdout",
    "period_expr",
    "timestamp_unit",
    "to_pandas",
    "validate_native",
]

LOG = logging.getLogger("crmmodels")

NativeFrame = nw.DataFrame[Any]


def is_native(obj: object) -> bool:
    """Whether ``obj`` is a frame of a library other than pandas that narwhals reads."""
    if isinstance(obj, pd.DataFrame):
        return False
    try:
        nw.from_native(obj)  # type: ignore[call-overload]
    except TypeError:
        return False
    return True


def is_spark_like(frame: nw.DataFrame[Any] | nw.LazyFrame[Any]) -> bool:
    """Whether ``frame`` is a Spark DataFrame (classic, Connect or sqlframe)."""
    impl = frame.implementation
    return bool(impl.is_pyspark() or impl.is_pyspark_connect() or impl.is_sqlframe())


def calendar_periods(frame: nw.DataFrame[Any] | nw.LazyFrame[Any]) -> bool:
    """Whether periods come from calendar fields (``civil``).

    Every library but polars, pandas and pyarrow: narwhals cannot turn their timestamps
    into epoch numbers (Spark, DuckDB, ...).
    """
    impl = frame.implementation
    return not (impl.is_polars() or impl.is_pandas() or impl.is_pyarrow())


def native_frame(obj: object, frame: str) -> NativeFrame:
    """Wrap a polars, pyarrow or DuckDB frame in narwhals; collect a lazy one.

    Raises
    ------
    DataValidationError
        ``obj`` is no frame narwhals reads, or is a Spark DataFrame (whose data stay on
        the cluster: :mod:`crmmodels.spark` works on those).
    """
    try:
        wrapped = nw.from_native(obj)  # type: ignore[call-overload]
    except TypeError:
        raise DataValidationError(
            f"{frame} must be a pandas, polars, pyarrow or DuckDB table, got "
            f"{type(obj).__name__}", frame=frame, rule="type") from None
    if is_spark_like(wrapped):
        raise DataValidationError(
            f"{frame} is a Spark DataFrame: CRMData holds data on one machine; use "
            "crmmodels.spark to summarise and score on the cluster, or collect a sample "
            "first (toPandas)", frame=frame, rule="type")
    if isinstance(wrapped, nw.LazyFrame):
        backend: Literal["polars", "pyarrow"] = (
            "polars" if importlib.util.find_spec("polars") else "pyarrow")
        LOG.info("collecting the lazy %s frame (%s) into %s", frame,
                 wrapped.implementation.name.lower(), backend)
        wrapped = wrapped.collect(backend=backend)
    out: NativeFrame = wrapped
    return out


def _require_pyarrow(what: str) -> None:
    require_installed("pyarrow", needed_for=what)


def to_pandas(frame: NativeFrame, name: str) -> pd.DataFrame:
    """Return the pandas copy of a validated native frame (text as ``str``, ``RangeIndex``)."""
    if not frame.implementation.is_pyarrow():
        _require_pyarrow(f"the pandas copy of the {name} frame")
    LOG.info("converting the %s frame (%s, %d rows) to pandas", name,
             frame.implementation.name.lower(), len(frame))
    out = frame.with_columns(id_text(frame["customer_id"])).to_pandas()
    for column in out.columns:
        s = out[column]
        if s.dtype == object and _is_text(frame.schema[column]):
            out[column] = s.astype("str")
        elif isinstance(frame.schema[column], nw.Boolean) and s.dtype == object:
            out[column] = s.astype("boolean")
    out.index = pd.RangeIndex(len(out))
    return out


def latest_timestamp(stamps: nw.Series[Any], how: Literal["max", "min"] = "max"
                     ) -> pd.Timestamp:
    """Return the latest (or earliest) timestamp of a datetime column, at full resolution."""
    dtype = stamps.dtype
    assert isinstance(dtype, nw.Datetime)
    unit = dtype.time_unit
    ticks = stamps.dt.timestamp(unit)
    out = pd.Timestamp(int(ticks.max() if how == "max" else ticks.min()),
                       unit=unit)  # UTC instants
    if dtype.time_zone is not None:
        out = out.tz_localize("UTC").tz_convert(dtype.time_zone)
    return out


def id_text(ids: nw.Series[Any]) -> nw.Series[Any]:
    """Return validated customer ids as text (integer ids are kept as integers)."""
    return ids if isinstance(ids.dtype, nw.String) else ids.cast(nw.String)


def _is_text(dtype: Any) -> bool:
    return isinstance(dtype, nw.String | nw.Categorical | nw.Enum)


def _mask(series: nw.Series[Any]) -> np.ndarray:
    """Return a boolean narwhals Series as a numpy mask (missing is False)."""
    out: np.ndarray = series.fill_null(False).to_numpy().astype(bool, copy=False)
    return out


def _via_pandas(s: nw.Series[Any], check: Callable[[pd.Series], pd.Series]) -> nw.Series[Any]:
    """Run a pandas column check on ``s`` alone and bring its result back."""
    _require_pyarrow(f"checking column {s.name} with the text rules")
    import pyarrow as pa  # type: ignore[import-untyped]

    LOG.info("checking column %s (%s) with the text rules in pandas", s.name, s.dtype)
    values = s.to_pandas()
    values.index = pd.RangeIndex(len(values))
    out = check(values)
    table = pa.table({s.name: pa.Array.from_pandas(out)})
    back: nw.Series[Any] = nw.from_arrow(table, backend=s.implementation)[s.name]
    return back


def _check_id_native(s: nw.Series[Any], column: str, problems: list[_Problem],
                     report: ValidationReport, frame: str) -> nw.Series[Any]:
    """Ids as text; the rules and messages of ``_check_id``."""
    if isinstance(s.dtype, nw.Categorical | nw.Enum):
        s = s.cast(nw.String)
    dtype = s.dtype
    if not (dtype.is_integer() or isinstance(dtype, nw.String)):
        return _via_pandas(s, lambda v: _check_id(v, column, problems, report, frame)[0])
    null = _mask(s.is_null())
    if null.any():
        problems.append(_Problem(column, "not_null", null,
                                 f"{column} must not be missing (NaN/None)"))
    n_valid = int((~null).sum())
    if dtype.is_integer():
        # Kept as integers, which group faster; their text is read where text is needed
        # (``id_text``): in the pandas copy and in per-customer results.
        report.add(frame, column, "as_text", "coerced", n_valid,
                   detail=f"{column} values turned into text")
        return s
    stripped = s.str.strip_chars()
    blank = _mask(stripped == "")
    padded = _mask(stripped != s) & ~blank
    if padded.any():
        s = stripped
        report.add(frame, column, "as_text", "coerced", n_valid,
                   detail=f"{column} values turned into text")
    if blank.any():
        problems.append(_Problem(column, "non_empty", blank, f"{column} must not be empty text"))
    return s


def _check_datetime_native(s: nw.Series[Any], column: str, problems: list[_Problem],
                           report: ValidationReport, frame: str, datetime_format: str | None,
                           required: bool, dayfirst: bool | None) -> nw.Series[Any]:
    """Datetimes pass; dates become datetimes; text goes through ``_check_datetime``."""
    if isinstance(s.dtype, nw.Datetime):
        out = s
    elif isinstance(s.dtype, nw.Date):
        out = s.cast(nw.Datetime("us"))
        report.add(frame, column, "parsed_datetime", "coerced", len(s) - s.null_count(),
                   detail=f"{column} parsed from date")
    else:
        # The pandas check also tests for missing values: nothing more to do here.
        return _via_pandas(s, lambda v: _check_datetime(
            v, column, problems, report, frame, datetime_format, required, dayfirst=dayfirst))
    if required:
        null = _mask(out.is_null())
        if null.any():
            problems.append(_Problem(column, "not_null", null, f"{column} must not be missing"))
    return out


def _check_numeric_native(s: nw.Series[Any], column: str, problems: list[_Problem],
                          report: ValidationReport, frame: str, *, required: bool,
                          allow_negative: bool) -> nw.Series[Any]:
    """Numbers as float64; the rules and messages of ``_check_numeric``."""
    if isinstance(s.dtype, nw.Boolean) or not s.dtype.is_numeric():
        return _via_pandas(s, lambda v: _check_numeric(
            v, column, problems, report, frame, required=required,
            allow_negative=allow_negative))
    out = s.cast(nw.Float64)
    # Missing values read as NaN.
    number_problems(out.to_numpy().astype(np.float64, copy=False), column, problems,
                    required=required, allow_negative=allow_negative)
    return out


def _check_enum_native(s: nw.Series[Any], column: str, allowed: list[str],
                       problems: list[_Problem], report: ValidationReport, frame: str,
                       required: bool) -> nw.Series[Any]:
    """Check allowed values, stripped and lower-cased, as ``_check_enum`` does."""
    if isinstance(s.dtype, nw.Categorical | nw.Enum):
        s = s.cast(nw.String)
    if not isinstance(s.dtype, nw.String):
        return _via_pandas(s, lambda v: _check_enum(v, column, allowed, problems, report,
                                                    frame, required))
    out = s.str.strip_chars().str.to_lowercase()
    ok = out.is_in(allowed)
    changed = _mask((out != s) & ok)
    if changed.any():
        report.add(frame, column, "as_enum", "coerced", int(changed.sum()),
                   detail=f"{column} values stripped and lower-cased to match the allowed values")
    bad = _mask(~ok & ~s.is_null())
    if bad.any():
        wrong = [str(v) for v in out.filter(~ok).drop_nulls().unique().to_list()]
        problems.append(_Problem(column, "allowed_values", bad,
                                 outside_message(column, wrong, allowed)))
    null = _mask(s.is_null())
    if required and null.any():
        problems.append(_Problem(column, "not_null", null, f"{column} must not be missing"))
    return out


def _positions(mask: np.ndarray) -> list[Hashable]:
    return [int(i) for i in np.flatnonzero(mask)[:5]]


def _later_duplicates(df: NativeFrame) -> np.ndarray:
    """Return a mask of the rows equal on every column to an earlier row."""
    later = np.zeros(len(df), dtype=bool)
    indexed = df.with_row_index("__crm_row")
    if df.implementation.is_polars():
        # Equal rows have equal row hashes: the rows whose hash is unique are no
        # duplicates, and a sort finds repeated hashes faster than a hash table.
        hashes = df.to_native().hash_rows()
        ranked = hashes.sort()
        repeated = ranked.filter(ranked == ranked.shift(1))
        if len(repeated) == 0:
            return later
        indexed = _keep(indexed, np.isin(hashes.to_numpy(), repeated.unique().to_numpy()))
    elif not _mask(df.is_duplicated()).any():
        return later
    rows = indexed["__crm_row"].to_numpy()
    first = indexed.unique(subset=df.columns, keep="first")["__crm_row"].to_numpy()
    later[rows] = True
    later[first] = False
    return later


def validate_native(
    df: NativeFrame,
    frame: str,
    report: ValidationReport,
    *,
    allow_returns: bool = False,
    on_invalid: OnInvalid = "raise",
    on_duplicate: OnDuplicate = "keep",
    observation_end: pd.Timestamp | None = None,
    future_limit: pd.Timestamp | None = None,
    datetime_format: str | None = None,
    dayfirst: bool | None = None,
) -> NativeFrame:
    """Validate one frame of another library against its schema, in that library.

    The rules, messages and report entries are those of :func:`validate_frame`; row
    labels in errors and in the report are row positions (these frames have no index).
    """
    schema = SCHEMAS[frame]
    kinds = field_kinds(schema)
    required = required_fields(schema)
    for name in required:
        if name not in df.columns:
            raise MissingColumnError(frame, name, list(df.columns))
    if len(df) == 0:
        raise DataValidationError(f"{frame} is empty: give at least one row",
                                  frame=frame, rule="non_empty")
    report.rows_in[frame] = len(df)
    problems: list[_Problem] = []
    checked: list[nw.Series[Any]] = []
    for name, kind in kinds.items():
        if name not in df.columns:
            continue
        s = df[name]
        is_req = name in required
        if kind == "id":
            out = _check_id_native(s, name, problems, report, frame)
        elif kind == "datetime":
            out = _check_datetime_native(s, name, problems, report, frame, datetime_format,
                                         is_req, dayfirst)
        elif kind in ("money", "number"):
            out = _check_numeric_native(s, name, problems, report, frame, required=is_req,
                                        allow_negative=allow_returns and kind == "money")
        elif kind == "bool":
            out = s if isinstance(s.dtype, nw.Boolean) else _via_pandas(
                s, partial(_check_bool, column=name, problems=problems, report=report,
                           frame=frame))
        elif kind in ("channel", "interaction_kind"):
            allowed = [c.value for c in (Channel if kind == "channel" else InteractionKind)]
            out = _check_enum_native(s, name, allowed, problems, report, frame, is_req)
        elif kind == "text":
            out = s if isinstance(s.dtype, nw.String) else _via_pandas(
                s, partial(_check_text, column=name, report=report, frame=frame))
        else:  # pragma: no cover - every schema kind is handled above
            continue
        if out is not s:
            checked.append(out.alias(name))
    if checked:
        df = df.with_columns(*checked)

    if "timestamp" in df.columns and kinds.get("timestamp") == "datetime" and isinstance(
            df.schema["timestamp"], nw.Datetime):
        _check_future(df, problems, observation_end, future_limit)

    if problems:
        df = _keep(df, ~settle_problems(problems, frame, report, on_invalid, _positions))
        if len(df) == 0:
            raise DataValidationError(
                f"every row of {frame} was invalid and dropped (see data.report)",
                frame=frame, rule="non_empty",
            )

    dup = _later_duplicates(df)
    if settle_duplicates(dup, frame, report, on_duplicate, _positions(dup)):
        df = _keep(df, ~dup)
    report.rows_out[frame] = len(df)
    return df


def _keep(df: NativeFrame, keep: np.ndarray) -> NativeFrame:
    """Return the rows of ``df`` where ``keep`` is True, in order."""
    mask = nw.new_series("__crm_keep", keep, nw.Boolean(), backend=df.implementation)
    return df.filter(mask)


def _check_future(df: NativeFrame, problems: list[_Problem],
                  observation_end: pd.Timestamp | None,
                  future_limit: pd.Timestamp | None) -> None:
    """Timestamps after ``observation_end`` (or after now) break ``not_after_observation_end``."""
    limit = observation_end if observation_end is not None else future_limit
    if limit is None:
        return
    dtype = df.schema["timestamp"]
    tz = dtype.time_zone if isinstance(dtype, nw.Datetime) else None
    if observation_end is None and tz is not None:
        lim = pd.Timestamp.now(tz=tz)
    else:
        lim = align_timestamp(limit, tz, "observation_end")
    after = _mask(df["timestamp"] > lim.to_pydatetime(warn=False))
    if after.any():
        what = "observation_end" if observation_end is not None else "now (future date)"
        problems.append(_Problem(
            "timestamp", "not_after_observation_end", after,
            f"timestamp is after {what} {lim}; pass observation_end= to cut the data, "
            "or fix the dates",
        ))


# ---------------------------------------------------------------------- aggregates
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _days_from_civil(ts: nw.Expr) -> nw.Expr:
    """Days since 1970-01-01 of each timestamp's calendar date, from year, month and day.

    Integer arithmetic only (H. Hinnant's ``days_from_civil``), so it runs in every
    library, Spark included, whose timestamps narwhals cannot turn into epoch numbers.
    """
    month = ts.dt.month().cast(nw.Int64)
    year = ts.dt.year().cast(nw.Int64) - (month <= 2).cast(nw.Int64)
    era = year // 400
    yoe = year - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + ts.dt.day().cast(nw.Int64) - 1
    return era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468


def _wall_ticks(dtype: nw.Datetime, *, civil: bool = False) -> nw.Expr:
    """Wall-clock time as integer ticks of the column's unit since the epoch.

    ``civil``: build them from the calendar fields (Spark, where the wall clock is
    that of the session time zone).
    """
    wall = nw.col("timestamp")
    if civil:
        seconds = ((_days_from_civil(wall) * 24 + wall.dt.hour().cast(nw.Int64)) * 60
                   + wall.dt.minute().cast(nw.Int64)) * 60 + wall.dt.second().cast(nw.Int64)
        # Spark's remainder keeps the sign of the dividend: before 1970 narwhals'
        # microsecond() is negative; bring it back into [0, 10**6).
        micro = (wall.dt.microsecond().cast(nw.Int64) + 1_000_000) % 1_000_000
        return seconds * 1_000_000 + micro
    if dtype.time_zone is not None:
        wall = wall.dt.replace_time_zone(None)
    return wall.dt.timestamp(dtype.time_unit)


def _ticks(ts: pd.Timestamp, unit: Literal["s", "ms", "us", "ns"]) -> int:
    """Return a naive timestamp as integer ticks of ``unit`` since the epoch (floored)."""
    return int(ts.as_unit(unit).to_datetime64().astype(np.int64))


def period_expr(dtype: nw.Datetime, freq: str, *, civil: bool = False) -> nw.Expr:
    """Period number of each wall-clock timestamp, as :func:`period_numbers` numbers it."""
    if freq == "M":
        wall = nw.col("timestamp")
        if dtype.time_zone is not None and not civil:
            wall = wall.dt.replace_time_zone(None)
        return ((wall.dt.year().cast(nw.Int64) - 1970) * 12
                + wall.dt.month().cast(nw.Int64) - 1)
    if civil:
        days = _days_from_civil(nw.col("timestamp"))
        if freq == "h":
            return days * 24 + nw.col("timestamp").dt.hour().cast(nw.Int64)
    else:
        second = _PER_SECOND[dtype.time_unit]
        ticks = _wall_ticks(dtype)
        if freq == "h":
            return ticks // (3600 * second)
        days = ticks // (86_400 * second)
    if freq == "W":
        return (days + 3) // 7  # weeks start on Monday (1970-01-01 is a Thursday)
    return days


def _up_to(frame: nw.LazyFrame[Any], dtype: nw.Datetime,
           cut: pd.Timestamp | None, *, civil: bool = False) -> nw.LazyFrame[Any]:
    """Return the rows stamped (wall-clock) at or before ``cut``; every row when None."""
    if cut is None:
        return frame
    unit = "us" if civil else dtype.time_unit
    return frame.filter(_wall_ticks(dtype, civil=civil) <= _ticks(cut, unit))


def _by_customer(frame: nw.LazyFrame[Any]) -> pd.DataFrame:
    """Collect a per-customer result into pandas, indexed by id in code-point order."""
    from crmmodels.data._validation import argsort_text

    out = frame.with_columns(nw.col("customer_id").cast(nw.String)).collect().to_pandas()
    ids = pd.Index(out.pop("customer_id").to_numpy(dtype=object), name="customer_id",
                   dtype="str")
    out.index = ids
    result: pd.DataFrame = out.iloc[argsort_text(ids)]
    return result


def native_aggregates(frame: NativeFrame, cut: pd.Timestamp | None,
                      freq: str | None) -> pd.DataFrame:
    """Compute ``customer_aggregates`` over narwhals, in one query of the frame's library.

    The columns, their order and their meaning are those of the pandas computation;
    returns net against their customer's purchases in the same period there too.
    """
    dtype = frame.schema["timestamp"]
    assert isinstance(dtype, nw.Datetime)
    returns = freq is not None and float(frame["amount"].min()) < 0
    return _by_customer(aggregate_query(frame.lazy(), dtype, cut, freq, returns=returns))


def aggregate_query(frame: nw.LazyFrame[Any], dtype: nw.Datetime, cut: pd.Timestamp | None,
                    freq: str | None, *, returns: bool,
                    civil: bool = False) -> nw.LazyFrame[Any]:
    """Build the per-customer aggregate of ``customer_aggregates`` as a lazy query.

    ``returns``: whether some amount is negative (then returns net against their
    customer's purchases in the same period); ``civil``: periods from calendar fields
    (Spark). One row per customer, in no particular order, ``customer_id`` a column.
    """
    rows = _up_to(frame, dtype, cut, civil=civil)
    has_tid = "transaction_id" in frame.collect_schema().names()
    keep = ["customer_id", "timestamp", "amount"] + (["transaction_id"] if has_tid else [])
    extra: list[nw.Expr] = []
    if has_tid:
        extra.append(nw.col("transaction_id").is_null().cast(nw.Int64).alias("__lone"))
    if freq is not None:
        extra.append(period_expr(dtype, freq, civil=civil).cast(nw.Int64).alias("period"))
    rows = rows.select(*keep, *extra)
    returns = freq is not None and returns
    aggs = [nw.col("timestamp").min().alias("first_timestamp"),
            nw.col("timestamp").max().alias("last_timestamp"),
            nw.len().alias("n_transactions"),
            nw.col("amount").sum().alias("total_amount")]
    if has_tid:
        aggs.append(nw.col("__lone").sum())
    if freq is not None:
        aggs += [nw.col("period").min().alias("first_period"),
                 nw.col("period").max().alias("last_period")]
        if not returns:
            aggs.append(nw.col("period").n_unique().alias("n_periods"))
    out = rows.group_by("customer_id").agg(*aggs)
    if freq is not None and not returns:
        # The amount after the first purchase period (no returns: every period with a
        # transaction is a purchase period): the rows outside each customer's first
        # period, found by an anti-join on (customer, period), summed.
        later = (rows.select("customer_id", "period", "amount")
                 .join(out.select("customer_id", nw.col("first_period").alias("period")),
                       on=["customer_id", "period"], how="anti")
                 .group_by("customer_id").agg(nw.col("amount").sum().alias("repeat_amount")))
        out = out.join(later, on="customer_id", how="left").with_columns(
            nw.col("repeat_amount").fill_null(0.0))
    if has_tid:
        ids = (rows.filter(~nw.col("transaction_id").is_null())
               .select("customer_id", "transaction_id").unique()
               .group_by("customer_id").agg(nw.len().alias("__ids")))
        out = (out.join(ids, on="customer_id", how="left")
               .with_columns((nw.col("__ids").fill_null(0) + nw.col("__lone"))
                             .alias("n_purchases")))
    else:
        out = out.with_columns(nw.col("n_transactions").alias("n_purchases"))
    if returns:
        out = out.join(_purchase_periods(rows), on="customer_id", how="left").with_columns(
            nw.col("__first").fill_null(nw.col("first_period")).alias("first_period"),
            nw.col("__last").fill_null(nw.col("last_period")).alias("last_period"),
            nw.col("n_periods").fill_null(0),
            nw.col("repeat_amount").fill_null(0.0))
    columns: list[str | nw.Expr] = [
        "customer_id", "first_timestamp", "last_timestamp",
        nw.col("n_transactions").cast(nw.Int64), nw.col("n_purchases").cast(nw.Int64),
        nw.col("total_amount").cast(nw.Float64)]
    if freq is not None:
        columns += [nw.col("first_period").cast(nw.Int64), nw.col("last_period").cast(nw.Int64),
                    nw.col("n_periods").cast(nw.Int64),
                    nw.col("repeat_amount").cast(nw.Float64)]
    return out.select(*columns)


def _purchase_periods(rows: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Return first, last and number of purchase periods and the amount after the first.

    A period holding a return is a purchase period only when its net amount is > 0
    (beyond the rounding of its sum). Customers without one are absent.
    """
    per = (rows.with_columns(nw.col("amount").clip(lower_bound=0.0).alias("__pos"),
                             nw.col("amount").clip(upper_bound=0.0).alias("__neg"))
           .group_by("customer_id", "period")
           .agg(nw.col("amount").sum().alias("__net"), nw.col("__pos").sum(),
                nw.col("__neg").sum()))
    bought = per.filter((nw.col("__neg") == 0) | (nw.col("__net") > 1e-9 * nw.col("__pos")))
    runs = bought.group_by("customer_id").agg(
        nw.col("period").min().alias("__first"), nw.col("period").max().alias("__last"),
        nw.len().alias("n_periods"))
    later = (bought.join(runs.select("customer_id", nw.col("__first").alias("period")),
                         on=["customer_id", "period"], how="anti")
             .group_by("customer_id").agg(nw.col("__net").sum().alias("repeat_amount")))
    return (runs.join(later, on="customer_id", how="left")
            .with_columns(nw.col("repeat_amount").fill_null(0.0)))


def native_holdout(frame: NativeFrame, start: pd.Timestamp, end: pd.Timestamp,
                   freq: str) -> pd.DataFrame:
    """Distinct purchase periods and amount per customer stamped in ``(start, end]``.

    ``start`` and ``end`` are wall-clock times in the unit of the timestamps.
    """
    dtype = frame.schema["timestamp"]
    assert isinstance(dtype, nw.Datetime)
    ticks = _wall_ticks(dtype)
    rows = frame.lazy().filter((ticks > _ticks(start, dtype.time_unit))
                        & (ticks <= _ticks(end, dtype.time_unit))).select(
        "customer_id", "amount", period_expr(dtype, freq).alias("period"))
    out = rows.group_by("customer_id").agg(nw.col("period").n_unique(), nw.col("amount").sum())
    return _by_customer(out.select("customer_id", nw.col("period").cast(nw.Float64),
                                   nw.col("amount").cast(nw.Float64)))


def timestamp_unit(frame: NativeFrame) -> str:
    """Return the resolution of the timestamps: ``"s"``, ``"ms"``, ``"us"`` or ``"ns"``."""
    dtype = frame.schema["timestamp"]
    assert isinstance(dtype, nw.Datetime)
    return str(dtype.time_unit)
