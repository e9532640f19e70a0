"""Transactions on Spark: validation, the per-customer aggregate and the summary.

The computations are those of :mod:`crmmodels.data.lazy`, run as Spark queries: the
rows stay on the executors, and only one-row aggregations (the counts of each broken
rule, the latest timestamp, whether some amount is negative) reach the driver.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from crmmodels.data import ValidationReport, check_rows, lazy_aggregates, lazy_summary
from crmmodels.errors import DataValidationError, MissingColumnError, require_installed

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["customer_aggregates", "customer_summary", "validate_transactions"]

LOG = logging.getLogger("crmmodels")

_REQUIRED = ("customer_id", "timestamp", "amount")


def require_spark(what: str) -> None:
    """Raise ImportError naming the extra when pyspark is not installed."""
    require_installed("pyspark", needed_for=what, extra="spark")


def _check_frame(frame: object, what: str) -> DataFrame:
    require_spark(what)
    from pyspark.sql import DataFrame

    if not isinstance(frame, DataFrame):
        raise DataValidationError(
            f"{what} takes a Spark DataFrame, got {type(frame).__name__}",
            frame="transactions", rule="type")
    return frame


def validate_transactions(
    frame: DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    allow_returns: bool = False,
    on_invalid: str = "raise",
    report: ValidationReport | None = None,
) -> DataFrame:
    """Check transactions on Spark and return them with the canonical names and types.

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        One row per transaction.
    columns : mapping, optional
        Canonical name -> the frame's column, for the columns named otherwise
        (``{"customer_id": "CustomerID"}``).
    allow_returns : bool, default False
        Accept negative amounts (returns).
    on_invalid : {"raise", "drop"}, default "raise"
        Raise on the first rule broken, or drop the rows breaking any and count them
        in ``report``.
    report : ValidationReport, optional
        Where drops are counted.

    Returns
    -------
    pyspark.sql.DataFrame
        ``customer_id`` (text or integers, as given), ``timestamp`` (a Spark
        ``timestamp``; a ``date`` column is read as midnight), ``amount`` (``double``)
        and every other column as it was.

    Raises
    ------
    DataValidationError
        A column of the wrong type (text dates are not parsed here: parse them with
        ``pyspark.sql.functions.to_timestamp(column, format)``, whose format you
        know), or a row rule of :func:`crmmodels.data.check_rows` broken.

    Examples
    --------
    >>> from crmmodels.spark import validate_transactions
    >>> clean = validate_transactions(spark_frame, allow_returns=True)  # doctest: +SKIP
    """
    frame = _check_frame(frame, "validate_transactions")
    from pyspark.sql import functions as sf
    from pyspark.sql import types as st

    mapping = dict(columns or {})
    for target, source in mapping.items():
        if source not in frame.columns:
            raise MissingColumnError("transactions", source, list(frame.columns))
        if target != source:
            frame = frame.withColumnRenamed(source, target)
    for column in _REQUIRED:
        if column not in frame.columns:
            raise MissingColumnError("transactions", column, list(frame.columns))
    types = {f.name: f.dataType for f in frame.schema.fields}
    cid = types["customer_id"]
    if not isinstance(cid, st.StringType | st.IntegerType | st.LongType | st.ShortType
                      | st.ByteType):
        raise DataValidationError(
            f"customer_id must be text or integers, got {cid.simpleString()}; cast it on "
            "Spark first", frame="transactions", column="customer_id", rule="type")
    ts = types["timestamp"]
    if isinstance(ts, st.DateType):
        LOG.info("reading the date column timestamp as midnight timestamps")
        frame = frame.withColumn("timestamp", sf.col("timestamp").cast("timestamp"))
    elif not isinstance(ts, st.TimestampType | st.TimestampNTZType):
        raise DataValidationError(
            f"timestamp must be a Spark timestamp or date, got {ts.simpleString()}; parse "
            "text with pyspark.sql.functions.to_timestamp(column, format) first "
            "(crmmodels does not guess date formats)", frame="transactions",
            column="timestamp", rule="type")
    amount = types["amount"]
    if not isinstance(amount, st.NumericType):
        raise DataValidationError(
            f"amount must be numeric, got {amount.simpleString()}", frame="transactions",
            column="amount", rule="numeric")
    if not isinstance(amount, st.DoubleType):
        frame = frame.withColumn("amount", sf.col("amount").cast("double"))
    checked: DataFrame = check_rows(frame, allow_returns=allow_returns,
                                    on_invalid=on_invalid, report=report)
    return checked


def customer_aggregates(
    frame: DataFrame,
    *,
    end: object = None,
    freq: str | None = None,
    columns: Mapping[str, str] | None = None,
    allow_returns: bool = False,
    on_invalid: str = "raise",
) -> DataFrame:
    """Per-customer aggregate of transactions on Spark.

    The columns and numbers of :func:`crmmodels.data.customer_aggregates`, with
    ``customer_id`` a column. The transactions are validated first
    (:func:`validate_transactions`).

    Examples
    --------
    >>> from crmmodels.spark import customer_aggregates
    >>> agg = customer_aggregates(spark_frame, freq="W")  # doctest: +SKIP
    """
    clean = validate_transactions(frame, columns=columns, allow_returns=allow_returns,
                                  on_invalid=on_invalid)
    out: DataFrame = lazy_aggregates(clean, end=end, freq=freq)
    return out


def customer_summary(
    frame: DataFrame,
    *,
    freq: str = "D",
    observation_end: object = None,
    freq_multiplier: float = 1,
    columns: Mapping[str, str] | None = None,
    allow_returns: bool = False,
    on_invalid: str = "raise",
) -> DataFrame:
    """Per-customer repeat-purchase summary on Spark.

    The numbers of :func:`crmmodels.data.customer_summary` on the same transactions
    (counts exactly, amounts to rounding), as a Spark DataFrame ``customer_id,
    frequency, recency, T, monetary_value``. Timestamps are read as wall-clock times of
    the session time zone. The transactions are validated first
    (:func:`validate_transactions`).

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        Transactions.
    freq : {"D", "W", "M", "h"}, default "D"
        Period: day, week (starting Monday), calendar month, hour.
    observation_end : str or Timestamp, optional
        End of the observation window; default: the latest timestamp.
    freq_multiplier : float, default 1
        Divide every duration by this number.
    columns, allow_returns, on_invalid
        As for :func:`validate_transactions`.

    Examples
    --------
    >>> from crmmodels.spark import customer_summary
    >>> summary = customer_summary(spark_frame, freq="W")  # doctest: +SKIP
    """
    clean = validate_transactions(frame, columns=columns, allow_returns=allow_returns,
                                  on_invalid=on_invalid)
    out: DataFrame = lazy_summary(clean, freq=freq, observation_end=observation_end,
                                  freq_multiplier=freq_multiplier)
    return out
