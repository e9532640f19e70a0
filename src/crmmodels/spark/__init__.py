"""crmmodels on Apache Spark, for data that outgrow one machine (extra ``spark``).

* :func:`validate_transactions`, :func:`customer_aggregates` and
  :func:`customer_summary`: the data path of :mod:`crmmodels.data` as Spark queries,
  with the same numbers as pandas (counts exactly, amounts to rounding);
* :func:`summary_counts` and :func:`fit`: BG/NBD, Pareto/NBD, MBG/NBD, Gamma-Gamma and
  CLV fitted on the driver from the customers of each distinct summary row counted on
  Spark (the customers are never collected);
* :func:`score`: any fitted model scored on the executors through ``mapInPandas``
  with the model broadcast;
* :func:`association_rules`: Spark MLlib's FP-Growth, in the schema and order of
  ``AssociationRulesModel.rules_``.

Identity resolution runs on the driver (see the Spark page of the documentation for
the sizes it handles). Timestamps are read as wall-clock times of the session time
zone (``spark.sql.session.timeZone``).

Examples
--------
>>> from crmmodels.spark import customer_summary, fit, score  # doctest: +SKIP
>>> summary = customer_summary(spark.read.parquet("tx.parquet"), freq="W")  # doctest: +SKIP
>>> model = fit(BetaGeoModel(freq="W"), summary)  # doctest: +SKIP
>>> score(model, summary).write.parquet("scores.parquet")  # doctest: +SKIP
"""

from crmmodels.spark.fitting import fit, summary_counts
from crmmodels.spark.frames import customer_aggregates, customer_summary, validate_transactions
from crmmodels.spark.rules import association_rules
from crmmodels.spark.scoring import score

__all__ = [
    "association_rules",
    "customer_aggregates",
    "customer_summary",
    "fit",
    "score",
    "summary_counts",
    "validate_transactions",
]
