"""Fitting the CLV models from a summary on Spark, without collecting the customers.

BG/NBD, Pareto/NBD, MBG/NBD and Gamma-Gamma depend on a customer only through
``(frequency, recency, T)`` (and ``monetary_value`` for spend): Spark counts the
customers of each distinct row and the driver fits on those counts, weighted
(:func:`crmmodels.data.validate_summary`, ``n_customers``). The distinct rows number
at most (periods observed)^3, whatever the number of customers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, TypeVar

import pandas as pd

from crmmodels.core import CRMModel
from crmmodels.errors import DataValidationError, MissingColumnError
from crmmodels.spark.frames import require_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["fit", "summary_counts"]

LOG = logging.getLogger("crmmodels")

M = TypeVar("M", bound=CRMModel)

_KEYS = ("frequency", "recency", "T")


def summary_counts(summary: DataFrame, *, monetary: bool = False) -> pd.DataFrame:
    """Count the customers of each distinct summary row, on Spark; return the counts.

    Parameters
    ----------
    summary : pyspark.sql.DataFrame
        ``frequency, recency, T[, monetary_value]``, one row per customer (as
        :func:`crmmodels.spark.customer_summary` returns it).
    monetary : bool, default False
        Keep ``monetary_value`` in the key (spend models need it; more distinct rows).

    Returns
    -------
    pandas.DataFrame
        ``frequency, recency, T[, monetary_value], n_customers``: one row per distinct
        pattern, sorted, which every continuous-time CLV model fits weighted.

    Examples
    --------
    >>> from crmmodels.spark import summary_counts
    >>> counts = summary_counts(spark_summary)  # doctest: +SKIP
    """
    require_spark("summary_counts")
    from pyspark.sql import DataFrame

    if not isinstance(summary, DataFrame):
        raise DataValidationError(
            f"summary_counts takes a Spark DataFrame, got {type(summary).__name__}",
            frame="summary", rule="type")
    keys = list(_KEYS) + (["monetary_value"] if monetary else [])
    for column in keys:
        if column not in summary.columns:
            raise MissingColumnError("summary", column, list(summary.columns))
    counts = (summary.groupBy(*keys).count().withColumnRenamed("count", "n_customers")
              .toPandas())
    LOG.info("summary_counts: %d distinct rows for %d customers", len(counts),
             int(counts["n_customers"].sum()) if len(counts) else 0)
    out: pd.DataFrame = counts.sort_values(keys, kind="stable").reset_index(drop=True)
    out["n_customers"] = out["n_customers"].astype("int64")
    return out


def fit(model: M, summary: DataFrame, *, monetary: bool | None = None) -> M:
    """Fit a CLV model on a Spark summary: counts on Spark, a weighted fit on the driver.

    Gives the estimates of ``model.fit`` on the collected summary (the same
    likelihood, summed over the same customers).

    Parameters
    ----------
    model : BetaGeoModel, ParetoNBDModel, ModifiedBetaGeoModel, GammaGammaModel, CLVModel
        Any model that fits on a per-customer summary.
    summary : pyspark.sql.DataFrame
        ``frequency, recency, T[, monetary_value]``, one row per customer.
    monetary : bool, optional
        Count distinct rows with ``monetary_value`` (default: when the model's fit
        needs it: Gamma-Gamma and CLV).

    Returns
    -------
    model
        Fitted.

    Examples
    --------
    >>> from crmmodels.cltv import BetaGeoModel
    >>> from crmmodels.spark import fit
    >>> model = fit(BetaGeoModel(freq="W"), spark_summary)  # doctest: +SKIP
    """
    if not isinstance(model, CRMModel):
        raise TypeError(f"fit takes a crmmodels model, got {type(model).__name__}")
    if monetary is None:
        # The protocol's class attribute: whether fitting on a summary needs spend.
        monetary = bool(type(model)._summary_needs_monetary)
    model.fit(summary_counts(summary, monetary=monetary))
    return model
