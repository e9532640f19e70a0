"""A real local Spark session (Java 17 and pyspark from the ``spark`` extra)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    # Executors run this interpreter, where crmmodels is installed.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (SparkSession.builder.master("local[2]").appName("crmmodels-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.default.parallelism", "2")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.driver.memory", "2g")
               # FP-Growth's trees are serialised recursively, a level per item of a
               # basket: Online Retail's deepest (280 frequent items) needs more than the
               # JVM's 1 MiB thread stack (crmmodels.spark.association_rules checks it).
               .config("spark.driver.extraJavaOptions", "-Xss16m")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def to_spark(spark: Any, frame: pd.DataFrame) -> Any:
    """Return the pandas frame as a Spark DataFrame (text as text, through Arrow)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == "str":
            out[column] = out[column].astype(object)
    return spark.createDataFrame(out)


def collect(frame: Any, index: str = "customer_id") -> pd.DataFrame:
    """Return a Spark result as pandas, indexed by ``index`` (as text), sorted."""
    out = frame.toPandas()
    out[index] = out[index].astype("str")
    out = out.set_index(index)
    return out.loc[sorted(out.index)]


@pytest.fixture(scope="session")
def cdnow_tx() -> pd.DataFrame:
    """Return CDNOW's transactions (the three canonical columns) as pandas."""
    from crmmodels.datasets import load_cdnow

    tx = load_cdnow().transactions
    assert tx is not None
    return tx[["customer_id", "timestamp", "amount"]].reset_index(drop=True)


@pytest.fixture(scope="session")
def cdnow_spark(spark: Any, cdnow_tx: pd.DataFrame) -> Any:
    """Return the same transactions as a cached Spark DataFrame."""
    return to_spark(spark, cdnow_tx).cache()
