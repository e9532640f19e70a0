"""The analysis of transactions that stay on a Spark cluster.

:func:`analyze_spark` runs the steps of :func:`~crmmodels.report.analyze` that
:mod:`crmmodels.spark` can run without bringing customers to the driver:

* validation (the row rules, counted on Spark);
* lifetime value: the summary on Spark, the analysis's CLV model fitted from the
  customers counted per distinct summary row, scored on the executors (no backtest: it
  needs the summary at a past cut-off, which the one-machine analysis computes);
* cross-sell rules with MLlib's FP-Growth, when the transactions carry baskets.

RFM, value tiers and lifecycle stages, churn, the next best action and the value chain
learn from every customer's history in one process: their sections say so, and
:func:`crmmodels.spark.score` scores such a model, fitted on a sample, on the cluster.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmmodels.data import ValidationReport, lazy_summary
from crmmodels.errors import InvalidParameterError
from crmmodels.report.html import render
from crmmodels.report.pipeline import (
    NO_BASKETS,
    RULE_SETTINGS,
    STEPS,
    clv_model,
    clv_reading,
    rules_reading,
    run_steps,
    write_rules_and_page,
)
from crmmodels.report.sections import Section
from crmmodels.spark import association_rules, fit, score, validate_transactions

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["SparkAnalysis", "analyze_spark"]

_ONE_MACHINE = ("runs on one machine: it learns from every customer's history in one "
                "process. Run crmmodels analyze with --engine polars where the data fit, "
                "or fit the model on a sample and score it on Spark with "
                "crmmodels.spark.score")

#: The score columns the Spark analysis gives (those of the CLV step).
SPARK_SCORES = ("p_alive", "expected_purchases", "expected_spend", "clv")


@dataclass
class SparkAnalysis:
    """The result of :func:`analyze_spark`: report sections, scores on Spark, rules.

    Attributes
    ----------
    name : str
        What was analysed.
    sections : list of Section
        The report, in the order of :func:`~crmmodels.report.analyze`.
    scores : pyspark.sql.DataFrame or None
        ``customer_id`` and the CLV scores, one row per customer (None when the CLV
        step could not run; its section says why).
    rules : DataFrame or None
        The cross-sell rules, when the transactions carry baskets.
    n_customers : int
        Customers scored.
    """

    name: str
    sections: list[Section]
    scores: Any
    rules: pd.DataFrame | None
    n_customers: int

    def to_html(self) -> str:
        """Return the report as one self-contained HTML page."""
        return render(self.name, self.sections, self.n_customers)

    def save(self, out: str | Path) -> dict[str, Path]:
        """Write the scores (Parquet and CSV folders, by the executors), rules and report.

        ``scores.parquet`` and ``scores.csv`` are Spark output folders (one part file
        per partition; pandas and polars read the Parquet folder as one table).
        """
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        if self.scores is not None:
            written["scores.parquet"] = folder / "scores.parquet"
            written["scores.csv"] = folder / "scores.csv"
            self.scores.write.mode("overwrite").parquet(str(written["scores.parquet"]))
            self.scores.write.mode("overwrite").option("header", True).csv(
                str(written["scores.csv"]))
        write_rules_and_page(folder, self.rules, self.to_html(), written)
        return written


def analyze_spark(frame: DataFrame, *, name: str = "", freq: str = "W",
                  columns: Mapping[str, str] | None = None, allow_returns: bool = False,
                  on_invalid: str = "raise", progress: bool = False) -> SparkAnalysis:
    """Analyse transactions held in a Spark DataFrame; the customers stay on Spark.

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        Transactions with typed timestamps (see
        :func:`crmmodels.spark.validate_transactions`).
    name : str, optional
        What the data are, for the report's title.
    freq : {"D", "W", "M"}, default "W"
        Period of the customer summary behind the lifetime value.
    columns, allow_returns, on_invalid
        As for :func:`crmmodels.spark.validate_transactions`.
    progress : bool, default False
        Show a progress bar on standard error.

    Returns
    -------
    SparkAnalysis
        The CLV scores equal those of :func:`~crmmodels.report.analyze` on the same
        transactions (to the optimiser's tolerance), and so do the rules.

    Examples
    --------
    >>> from crmmodels.report import analyze_spark
    >>> analyze_spark(spark.read.parquet("tx.parquet")).save("report")  # doctest: +SKIP
    """
    if freq not in ("D", "W", "M"):
        raise InvalidParameterError(f"freq must be one of ['D', 'W', 'M'], got {freq!r}")
    report = ValidationReport()
    clean = validate_transactions(frame, columns=columns,
                                            allow_returns=allow_returns,
                                            on_invalid=on_invalid, report=report).cache()
    state: dict[str, Any] = {}

    def validation(section: Section) -> None:
        rows_in, kept = frame.count(), clean.count()
        section.reading.append(
            f"Every row was checked on Spark against the data model before any model ran: "
            f"{rows_in:,} rows in, {kept:,} kept.")
        table = report.to_frame()
        if len(table):
            section.tables.append(("Validation report", table.drop(columns="rows")))

    def lifetime_value(section: Section) -> None:
        summary = lazy_summary(clean, freq=freq).cache()  # validated once, above
        n = summary.count()
        model = fit(clv_model(freq), summary)
        scores = score(model, summary).select("customer_id", *SPARK_SCORES).cache()
        state["scores"], state["n"] = scores, n
        from pyspark.sql import functions as sf

        positive = sf.greatest(sf.col("clv"), sf.lit(0.0))
        totals = scores.agg(sf.sum("expected_purchases"), sf.sum("clv"),
                            sf.sum(positive)).first()
        assert totals is not None
        top = (scores.select(positive.alias("v")).orderBy(sf.desc("v"))
               .limit(max(1, math.ceil(0.1 * n))).agg(sf.sum("v")).first())
        assert top is not None
        share = float(top[0]) / float(totals[2]) if totals[2] else float("nan")
        clv_reading(section, model, n_customers=n, purchases=float(totals[0]),
                    total=float(totals[1]), top_decile_share=share)
        section.reading.append(
            "No backtest on Spark: it refits the model on the summary at a past cut-off; "
            "the analysis on one machine runs it.")

    def rules(section: Section) -> None:
        if not {"transaction_id", "product_id"} <= set(clean.columns):
            section.skipped = NO_BASKETS
            return
        found = association_rules(clean, **RULE_SETTINGS)
        state["rules"] = found
        n_baskets = clean.select("transaction_id").distinct().count()
        rules_reading(section, found, n_baskets=n_baskets, n_itemsets=None)

    on_spark: dict[str, Callable[[Section], None]] = {
        "validation": validation, "clv": lifetime_value, "rules": rules}

    def elsewhere(section: Section) -> None:
        section.skipped = _ONE_MACHINE

    sections = run_steps([(key, title, on_spark.get(key, elsewhere))
                          for key, title, _ in STEPS], progress=progress)
    clean.unpersist()
    return SparkAnalysis(name=name, sections=sections, scores=state.get("scores"),
                         rules=state.get("rules"), n_customers=state.get("n", 0))

