"""The whole analysis in one call, and its self-contained HTML report.

* :func:`analyze` runs every model the data allow on a :class:`~crmmodels.CRMData`
  (validation, RFM with value tiers and lifecycle stages, lifetime value with a
  backtest against the naive baseline, churn risk, cross-sell rules, next best action,
  the value-chain portfolio) and returns an :class:`Analysis`;
* :meth:`Analysis.save` writes ``scores.parquet``, ``scores.csv``, ``rules.csv`` and
  ``report.html``; :meth:`Analysis.to_html` gives the page;
* :func:`analyze_spark` runs the steps that need no customer on the driver
  (validation, lifetime value, rules) on a Spark DataFrame.

``crmmodels analyze`` on the command line reads the files, builds the ``CRMData`` and
calls these. The report needs the ``report`` extra (jinja2, pyarrow, tqdm, matplotlib).

Examples
--------
>>> from crmmodels.datasets import load_cdnow_sample
>>> from crmmodels.report import analyze
>>> page = analyze(load_cdnow_sample(), name="CDNOW sample").to_html()
>>> page.startswith("<!DOCTYPE html>"), "<script" in page
(True, False)
"""

from crmmodels.report.on_spark import SparkAnalysis, analyze_spark
from crmmodels.report.pipeline import STEPS, Analysis, analyze
from crmmodels.report.sections import Section

__all__ = ["STEPS", "Analysis", "Section", "SparkAnalysis", "analyze", "analyze_spark"]
