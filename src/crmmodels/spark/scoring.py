"""Scoring a fitted model on Spark: ``mapInPandas`` with the model broadcast.

The model is fitted on the driver (on a sample, on the collected summary or through
:func:`crmmodels.spark.fit`); scoring runs on the executors, each with a copy of the
model, on pandas batches of the frame:

* a per-customer summary (``frequency, recency, T``: the CLV models) or a customers
  frame (response and uplift models) is scored batch by batch: each row is one unit;
* transactions (RFM, churn, fraud: models that read each customer's whole history)
  are first repartitioned by ``customer_id``, so that every customer's rows sit in one
  partition, and each partition is scored as one
  :class:`~crmmodels.data.CRMData` with the same ``observation_end`` (given, or the
  latest timestamp of the whole frame).

The result is a Spark DataFrame: the model's score index as a column, then its score
columns, with the types of the pandas result (found by scoring a small sample on the
driver first, which also checks that the model is fitted and takes this input).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmmodels.core import CRMModel
from crmmodels.data import CRMData, align_timestamp
from crmmodels.errors import DataValidationError
from crmmodels.spark.frames import require_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

__all__ = ["score"]

LOG = logging.getLogger("crmmodels")

_SUMMARY = {"frequency", "recency", "T"}
_SAMPLE_CUSTOMERS = 20
_SAMPLE_ROWS = 200


def _spark_schema(frame: pd.DataFrame) -> StructType:
    """Return the Spark schema of a pandas score frame (numbers, flags, text, times)."""
    from pyspark.sql import types as st

    fields = []
    for name, dtype in frame.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype):
            kind: Any = st.BooleanType()
        elif pd.api.types.is_integer_dtype(dtype):
            kind = st.LongType()
        elif pd.api.types.is_float_dtype(dtype):
            kind = st.DoubleType()
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            kind = st.TimestampType()
        else:
            kind = st.StringType()
        fields.append(st.StructField(str(name), kind, True))
    return st.StructType(fields)


def _as_output(out: pd.DataFrame) -> pd.DataFrame:
    """Return the score frame with its index as a column and text as Python strings."""
    flat = out.reset_index()
    for name in flat.columns:
        column = flat[name]
        if not (pd.api.types.is_numeric_dtype(column.dtype)
                or pd.api.types.is_bool_dtype(column.dtype)
                or pd.api.types.is_datetime64_any_dtype(column.dtype)):
            # Text as Python strings: Spark's Arrow writer takes no chunked arrays
            # (pandas 3 keeps text in them).
            flat[name] = column.astype("str").astype(object).where(column.notna(), None)
    return flat


def _latest(frame: DataFrame) -> pd.Timestamp:
    from pyspark.sql import functions as sf

    # Through pandas (not Row objects): Spark shows the wall clock of the session time
    # zone there, as in the batches the executors score.
    latest = frame.agg(sf.max("timestamp").alias("latest")).toPandas()["latest"].iloc[0]
    if pd.isna(latest):
        raise DataValidationError("transactions is empty", frame="transactions",
                                  rule="non_empty")
    return pd.Timestamp(latest)


def score(
    model: CRMModel,
    frame: DataFrame,
    *,
    observation_end: object = None,
    allow_returns: bool = False,
    partitions: int | None = None,
) -> DataFrame:
    """Score every row, customer or transaction of a Spark DataFrame with a fitted model.

    Parameters
    ----------
    model : CRMModel
        A fitted model: CLV (on a summary), RFM, churn, fraud (on transactions),
        response or uplift (on a customers frame).
    frame : pyspark.sql.DataFrame
        A per-customer summary (``frequency, recency, T[, monetary_value]`` and
        ``customer_id``), transactions (with ``timestamp``), or customers.
    observation_end : str or Timestamp, optional
        Transactions only: the moment the customers are scored at (wall-clock time of
        the session time zone); later rows are left out, as not yet known. Default:
        the latest timestamp of the frame (one aggregation).
    allow_returns : bool, default False
        Transactions only: accept negative amounts.
    partitions : int, optional
        Transactions only: partitions of the repartition by ``customer_id`` (default:
        ``spark.sql.shuffle.partitions``).

    Returns
    -------
    pyspark.sql.DataFrame
        The score index (``customer_id``, or ``transaction_id`` for per-transaction
        fraud scores) and the model's score columns, equal to ``model.score`` on the
        same data in pandas. Churn's ``risk_decile`` and ``retention_priority`` rank the
        customers scored together: they are ranked again over the whole frame (two
        distributed sorts) once the partitions are scored.

    Examples
    --------
    >>> from crmmodels.spark import score
    >>> scores = score(bgnbd, spark_summary)  # doctest: +SKIP
    """
    require_spark("score")
    from pyspark.sql import DataFrame

    if not isinstance(model, CRMModel):
        raise TypeError(f"score takes a crmmodels model, got {type(model).__name__}")
    if not isinstance(frame, DataFrame):
        raise DataValidationError(f"score takes a Spark DataFrame, got {type(frame).__name__}",
                                  rule="type")
    columns = set(frame.columns)
    whole = not _SUMMARY <= columns and "timestamp" in columns
    end: pd.Timestamp | None = None
    if whole:
        crossing = [f for f in getattr(model, "features_used_", [])
                    if str(f).startswith("terminal_")]
        if crossing:
            raise DataValidationError(
                f"{type(model).__name__} uses {crossing[0]}, which reads the history of "
                "every customer at a terminal, and Spark scoring keeps each customer's "
                "rows together, not each terminal's; fit it without terminal_id to score "
                "on Spark, or score on one machine", rule="partitioning")
        if observation_end is None:
            end = _latest(frame)
        else:
            from pyspark.sql import functions as sf

            end = align_timestamp(observation_end, None, "observation_end")
            # As of then: later rows are not known yet (a naive literal is a wall-clock
            # time of the session time zone, as the timestamps are read).
            frame = frame.filter(sf.col("timestamp") <= sf.lit(end.to_pydatetime()))
        ids = frame.select("customer_id").distinct().limit(_SAMPLE_CUSTOMERS)
        sample = frame.join(ids, on="customer_id", how="inner").toPandas()
        source = (frame.repartition(partitions, "customer_id") if partitions
                  else frame.repartition("customer_id"))
    else:
        if observation_end is not None:
            raise DataValidationError(
                "observation_end applies to transactions; this frame has no timestamp "
                "column (a summary or customers frame is scored as it is)",
                rule="observation_end")
        sample = frame.limit(_SAMPLE_ROWS).toPandas()
        source = frame
    if sample.empty:
        raise DataValidationError("score: the frame is empty", rule="non_empty")
    schema = _spark_schema(_as_output(_runner(model, whole, end, allow_returns)(sample)))
    broadcast = frame.sparkSession.sparkContext.broadcast(model)
    names = [f.name for f in schema.fields]

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        scorer = broadcast.value
        call = _runner(scorer, whole, end, allow_returns)
        if whole:
            # One customer's rows may straddle Arrow batches: score the partition at once.
            parts = [b for b in batches if len(b)]
            if parts:
                yield _as_output(call(pd.concat(parts, ignore_index=True)))[names]
            return
        for batch in batches:
            if len(batch):
                yield _as_output(call(batch))[names]

    LOG.info("scoring with %s on Spark (%s)", type(model).__name__,
             "partitions by customer_id" if whole else "batches")
    out: DataFrame = source.mapInPandas(run, schema)
    if {"risk_decile", "retention_priority"} <= set(names):
        out = _churn_ranks(out, names)
    return out


def _ranked(frame: DataFrame, order: list[Any], name: str) -> DataFrame:
    """Add ``name``: each row's 0-based place in ``order``, by a distributed sort.

    The sorted frame's partitions hold consecutive ranges, so a row's place is its
    partition's offset (counted once) plus its place within the partition. The sorted
    frame is cached, so that the counts and the ranks come from the same sort.
    """
    from pyspark.sql import functions as sf

    ordered = (frame.orderBy(*order).withColumn("__part", sf.spark_partition_id())
               .withColumn("__id", sf.monotonically_increasing_id()).cache())
    sizes = ordered.groupBy("__part").count().toPandas().sort_values("__part")
    offsets = frame.sparkSession.createDataFrame(pd.DataFrame({
        "__part": sizes["__part"].astype("int32"),
        "__offset": (sizes["count"].cumsum() - sizes["count"]).astype("int64")}))
    # monotonically_increasing_id() is the partition number << 33 plus the row's place.
    within = sf.col("__id") - sf.col("__part").cast("long") * (1 << 33)
    return (ordered.join(sf.broadcast(offsets), on="__part")
            .withColumn(name, sf.col("__offset") + within)
            .drop("__part", "__id", "__offset"))


def _churn_ranks(out: DataFrame, names: list[str]) -> DataFrame:
    """Rank ``risk_decile`` and ``retention_priority`` over every customer scored.

    The partitions ranked their own customers only; these columns rank the customers
    scored together, so they are recomputed over the whole frame as ``ChurnModel.score``
    computes them (ties by customer id).
    """
    from pyspark.sql import functions as sf

    n = out.count()
    cost = sf.col("defection_cost")
    has_cost = out.where(~sf.isnan(cost) & cost.isNotNull()).limit(1).count() > 0
    key = (sf.when(sf.isnan(cost) | cost.isNull(), float("-inf")).otherwise(cost)
           if has_cost else sf.col("churn_probability"))
    ranked = _ranked(out.drop("risk_decile", "retention_priority"),
                     [sf.desc("churn_probability"), sf.asc("customer_id")], "__p_rank")
    ranked = _ranked(ranked.withColumn("__key", key),
                     [sf.desc("__key"), sf.asc("customer_id")], "__k_rank")
    result: DataFrame = ranked.select(*[
        (sf.floor(sf.col("__p_rank") * 10 / max(n, 1)) + 1).cast("long").alias(c)
        if c == "risk_decile" else
        (sf.col("__k_rank") + 1).cast("long").alias(c) if c == "retention_priority"
        else sf.col(c) for c in names])
    return result


def _runner(model: CRMModel, whole: bool, end: pd.Timestamp | None,
                      allow_returns: bool) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Return what scores one pandas frame (on an executor: the broadcast model's copy)."""
    if whole:
        def on_transactions(pdf: pd.DataFrame) -> pd.DataFrame:
            return model.score(CRMData(transactions=pdf, observation_end=end,
                                       allow_returns=allow_returns))
        return on_transactions
    return model.score
