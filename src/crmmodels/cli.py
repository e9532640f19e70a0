"""Command line: ``crmmodels analyze``, ``crmmodels list-models``, ``crmmodels demo``.

``crmmodels analyze [TRANSACTIONS] --out DIR`` reads CSV or Parquet files, validates
them, runs every model the data allow and writes per-customer scores, the cross-sell
rules and a self-contained HTML report (:mod:`crmmodels.report`); with no file it runs on
the bundled CDNOW data. This module only parses arguments, reads files and prints.

Examples
--------
>>> from crmmodels.cli import main
>>> main(["list-models"])  # doctest: +ELLIPSIS
abc...ABCModel...bg_bb...BetaGeoBetaBinomModel...naive_rate...NaiveRateModel...
0
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd

from crmmodels.data import CRMData

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from crmmodels import __version__

    p = argparse.ArgumentParser(
        prog="crmmodels",
        description="CRM analytics models: RFM, CLV, churn, fraud, cross-sell, treatment.",
    )
    p.add_argument("--version", action="version", version=f"crmmodels {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("list-models", help="list the registered models (built-ins and plug-ins)")
    an = sub.add_parser(
        "analyze", help="run every model on a transactions file; write scores and a report",
        description="Validate the files, run RFM and segments, CLV with a backtest, churn "
                    "risk, cross-sell rules, next best action and the value-chain portfolio, "
                    "and write scores.parquet, scores.csv, rules.csv and report.html.")
    an.add_argument("transactions", nargs="?",
                    help="CSV or Parquet file of transactions (default: the bundled CDNOW "
                         "data)")
    an.add_argument("--customers", help="CSV or Parquet file of customers")
    an.add_argument("--interactions", help="CSV or Parquet file of interactions")
    an.add_argument("--columns", default="",
                    help="your column names, e.g. customer_id=CustomerID,"
                         "timestamp=InvoiceDate,amount=Spend (applied to every file)")
    an.add_argument("--date-format", help="strftime format of text dates, e.g. %%d/%%m/%%Y")
    an.add_argument("--dayfirst", action="store_true",
                    help="read day/month/year dates as day first (01/02 = 1 February)")
    an.add_argument("--allow-returns", action="store_true",
                    help="accept negative amounts as returns")
    an.add_argument("--on-invalid", choices=["raise", "drop"], default="raise",
                    help="stop at the first invalid row (default) or drop and count them")
    an.add_argument("--engine", choices=["pandas", "polars", "spark"], default="pandas",
                    help="the dataframe library that reads and validates the files; "
                         "spark (Parquet with typed timestamps) keeps the customers on "
                         "Spark and runs validation, CLV and rules there")
    an.add_argument("--freq", choices=["D", "W", "M"], default="W",
                    help="period of the customer summary behind the CLV (default: W)")
    an.add_argument("--out", default="crmmodels-report",
                    help="folder to write to (default: crmmodels-report)")
    an.add_argument("--quiet", action="store_true",
                    help="no progress bar and no validation report on the terminal")
    an.add_argument("--verbose", action="store_true",
                    help="log each step and each conversion on standard error")
    demo = sub.add_parser(
        "demo", help="run the main job on the bundled CDNOW data (validate, summarise)"
    )
    demo.add_argument("--sample", action="store_true",
                      help="use the 2,357-customer CDNOW sample instead of the full log")
    demo.add_argument("--data", default="cdnow", choices=["cdnow", "online-retail"],
                      help="bundled CDNOW (default) or UCI Online Retail, read from "
                           "CRMMODELS_DATA_DIR; Online Retail has baskets, so the demo "
                           "also mines cross-sell rules")
    demo.add_argument("--freq", default="W", choices=["D", "W", "M"],
                      help="time unit of the customer summary (default: W)")
    return p


def _list_models() -> int:
    from crmmodels.core import get_model, list_models

    for name in list_models():
        try:
            klass = get_model(name)
            where = f"{klass.__module__}.{klass.__qualname__}"
        except Exception as exc:  # a broken plug-in must not hide the others
            where = f"unavailable: {exc}"
        print(f"{name:<24} {where}")
    return 0


class _Step:
    """One step of the demo: its wall-clock time and the warnings it raised."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.warned: list[tuple[str, str]] = []  # (category, message on one line)


@contextmanager
def _timed() -> Iterator[_Step]:
    """Time the block and keep its warnings, so they are reported as the demo's text."""
    step = _Step()
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield step
    step.seconds = time.perf_counter() - t0
    for w in caught:
        found = (w.category.__name__, _one_line(w.message))
        if found not in step.warned:
            step.warned.append(found)


def _one_line(message: object) -> str:
    return " ".join(str(message).split())


# Notes printed so far in this demo: a warning raised again by a later step (a model
# fitted again inside a composite model) is not printed twice.
_PRINTED: set[str] = set()


def _headline(step: _Step, text: str, notes: Sequence[str] = (),
              covered: Sequence[str] = ()) -> None:
    """Print a step's line ``[ 1.2 s] text``, then one line per note.

    ``notes`` are what the step reports itself; a warning the step raised is reported
    as a note unless one of ``notes`` already says it, ``text`` says it (its message
    starts with one of ``covered``) or an earlier step printed it.
    """
    print(f"\n[{step.seconds:5.2f} s] {text}")
    said = [_one_line(n) for n in notes]
    for note in said:
        print(f"          note: {note}")
        _PRINTED.add(note)
    for category, message in step.warned:
        if message in said or message in _PRINTED or any(
                message.startswith(c) for c in covered):
            continue
        print(f"          note: {category}: {message}")
        _PRINTED.add(message)


def _demo(sample: bool, freq: str, source: str = "cdnow") -> int:
    from crmmodels.cltv import NaiveRateModel
    from crmmodels.data import customer_summary
    from crmmodels.datasets import load_cdnow, load_cdnow_sample, load_online_retail

    t0 = time.perf_counter()
    _PRINTED.clear()
    with _timed() as step:
        if source == "online-retail":
            data, name = load_online_retail(), "Online Retail"
        else:
            data = load_cdnow_sample() if sample else load_cdnow()
            name = "CDNOW sample" if sample else "CDNOW"
    tx = data.transactions
    n_rows = 0 if tx is None else len(tx)
    _headline(step, f"Loaded and validated {name}: {n_rows:,} transactions of "
                    f"{data.n_customers:,} customers up to {data.observation_end.date()}")
    print(data.report)

    with _timed() as step:
        summary = customer_summary(data, freq=freq)
    _headline(step, f"Customer summary (freq={freq!r}): {len(summary):,} customers")
    with pd.option_context("display.width", 120, "display.max_columns", 10):
        print(summary.head(10).round(2).to_string())
        print("\nDistribution:")
        print(summary.describe().T.round(2).to_string())

    with _timed() as step:
        model = NaiveRateModel(horizon=52, freq=freq).fit(data)
        scores = model.score(data)
    _headline(step, f"Baseline: naive Gamma-Poisson (no dropout) fitted on {len(scores):,} "
                    f"customers")
    print("params " + ", ".join(f"{k}={v:.4g}" for k, v in model.params_.items())
          + f"; expected purchases in the next 52 {freq}: "
            f"{scores['expected_purchases'].sum():,.0f}")
    clv = _demo_clv(summary, freq)
    _demo_segments(data)
    _demo_churn(data, clv)
    _demo_rules(data)
    _demo_nba(data)
    print(f"\nTotal {time.perf_counter() - t0:.1f} s")
    return 0


def _demo_rules(data: CRMData) -> None:
    from crmmodels.association import AssociationRulesModel, top_rules

    tx = data.transactions
    if tx is None or "product_id" not in tx or "transaction_id" not in tx:
        print("\n[ 0.00 s] Cross-sell rules: skipped, the transactions have no baskets "
              "(transaction_id and product_id); try --data online-retail.")
        return
    with _timed() as step:
        # Items named by their description where there is one, so the rules read well.
        names = tx["description"] if "description" in tx else tx["product_id"]
        baskets = pd.DataFrame({"basket_id": tx["transaction_id"],
                                "item": names.fillna(tx["product_id"]).astype(str).str.strip()})
        model = AssociationRulesModel(min_support=0.01, min_confidence=0.5, min_lift=2.0,
                                      max_consequent_len=1).fit(baskets)
    _headline(step, f"Cross-sell rules (baskets = orders, min_support 0.01, min_confidence "
                    f"0.5, lift >= 2): {len(model.itemsets_):,} frequent itemsets and "
                    f"{len(model.rules_):,} rules over {model.n_baskets_:,} baskets")
    print("Top 10 by lift:")
    with pd.option_context("display.width", 140, "display.max_colwidth", 60):
        print(top_rules(model.rules_, n=10, by="lift").round(4).to_string(index=False))


def _demo_segments(data: CRMData) -> None:
    from crmmodels.segments import STANDARD_SEGMENTS, RFMModel

    with _timed() as step:
        scores = RFMModel().fit(data).score(data)
    table = scores.groupby("segment", observed=True).agg(
        customers=("monetary", "size"), revenue=("monetary", "sum"),
        mean_recency_days=("recency", "mean"), mean_frequency=("frequency", "mean"))
    # Every segment of the map, an empty one with 0 customers.
    table = table.reindex(pd.Index(list(STANDARD_SEGMENTS), name="segment"))
    table[["customers", "revenue"]] = table[["customers", "revenue"]].fillna(0)
    table["customers"] = table["customers"].astype("int64")
    table["revenue_share"] = table["revenue"] / table["revenue"].sum()
    empty = table.index[table["customers"] == 0].tolist()
    held = len(table) - len(empty)
    _headline(step, f"RFM: quintile scores and the standard {len(table)}-segment map on "
                    f"{len(scores):,} customers; {held} segments hold customers"
                    + (f", empty: {', '.join(empty)}" if empty else ""))
    with pd.option_context("display.width", 120):
        print(table.sort_values(["revenue", "customers"], ascending=False)
              .round(3).to_string(na_rep="-"))


def _demo_clv(summary: pd.DataFrame, freq: str) -> pd.Series:
    from crmmodels.cltv import BetaGeoModel, CLVModel, GammaGammaModel, period_discount_rate

    per_year = {"D": 365.25, "W": 365.25 / 7, "M": 12.0}[freq]
    horizon = round(per_year)
    with _timed() as step:
        clv = CLVModel(transaction_model=BetaGeoModel(freq=freq),
                       spend_model=GammaGammaModel(freq=freq), horizon=horizon,
                       discount_rate=period_discount_rate(0.10, freq), margin=0.3,
                       freq=freq).fit(summary)
        scores = clv.score(summary)
    # Estimates at an edge of the parameter space (BG/NBD's a -> 0 on Online Retail:
    # no sign of dropout), as the fitted models record them.
    boundary = [str(message) for fitted in (clv.transaction_model_, clv.spend_model_)
                for message in getattr(fitted, "boundary_", {}).values()]
    _headline(step, f"CLV: BG/NBD + Gamma-Gamma fitted on {len(summary):,} customers",
              boundary)
    print("BG/NBD: " + ", ".join(
        f"{k}={v:.4g}" for k, v in clv.transaction_model_.params_.items())
        + "; Gamma-Gamma: " + ", ".join(
        f"{k}={v:.4g}" for k, v in clv.spend_model_.params_.items()))
    print(f"CLV over the next year ({horizon} periods of {freq!r}, 10% a year discount, 30% "
          f"margin): total {scores['clv'].sum():,.0f}, mean {scores['clv'].mean():.2f}")
    top = scores.sort_values("clv", ascending=False).head(10)
    with pd.option_context("display.width", 120):
        print("Top 10 customers by CLV:")
        print(top.join(summary[["frequency", "recency", "T", "monetary_value"]])
              .round(3).to_string())
    return scores["clv"]


def _demo_churn(data: CRMData, clv: pd.Series) -> None:
    from crmmodels.propensity import ChurnModel

    with _timed() as step:
        model = ChurnModel(horizon="90D", random_state=0).fit(data)
        scores = model.score(data, value=clv)
    _headline(step, f"Churn: P(no purchase in the next 90 days) trained at "
                    f"{model.cutoffs_[0].date()} on {model.n_train_:,} customers (churn rate "
                    f"{model.churn_rate_:.1%}), scored for {len(scores):,}")
    scored = scores.join(clv.rename("clv"))
    deciles = scored.groupby("risk_decile").agg(
        customers=("churn_probability", "size"),
        p_churn_min=("churn_probability", "min"), p_churn_max=("churn_probability", "max"),
        clv=("clv", "sum"), expected_loss=("defection_cost", "sum"))
    deciles["share_of_loss"] = deciles["expected_loss"] / deciles["expected_loss"].sum()
    print("By risk decile (1 = the 10% most likely to churn, 10 = the 10% least; CLV and "
          "expected loss = P(churn) x CLV summed):")
    with pd.option_context("display.width", 120):
        print(deciles.round(3).to_string())
    top = scored.sort_values("retention_priority").head(10)
    top = top[["retention_priority", "churn_probability", "risk_decile", "clv",
               "defection_cost"]].rename(columns={"defection_cost": "expected_loss"})
    print("\nTop 10 customers by expected loss = P(churn) x CLV, largest first (the "
          "retention priority); a high CLV ranks a customer high even at a low P(churn), "
          "see risk_decile:")
    with pd.option_context("display.width", 120):
        print(top.round(3).to_string())


def _demo_nba(data: CRMData) -> None:
    from crmmodels.idic import DEFAULT_OFFERS, NO_ACTION, IDICModel

    share = 0.10
    budget = share * data.n_customers * float(DEFAULT_OFFERS["cost"].max())
    with _timed() as step:
        model = IDICModel(budget=budget).fit(data)
        actions = model.score(data)
    chosen = actions["next_best_action"] != NO_ACTION
    no_contacts = data.interactions is None
    _headline(step, f"Next best action (IDIC): a budget of {budget:,.0f} for "
                    f"{data.n_customers:,} customers; {int(chosen.sum()):,} offers worth "
                    f"{actions['expected_value'].sum():,.0f} in expected value"
              + ("; no interactions in the data, so every customer's channel is e-mail "
                 "and P(response) 0.02" if no_contacts else ""),
              covered=("IDICModel: no interactions",))
    print(actions["next_best_action"].value_counts().to_string())
    top = actions.sort_values("expected_value", ascending=False).head(10)
    print("\nThe 10 actions of highest expected value (net of their cost):")
    with pd.option_context("display.width", 160, "display.max_colwidth", 90):
        print(top[["value_tier", "lifecycle_stage", "churn_probability", "clv",
                   "next_best_action", "action_channel", "expected_value", "reason"]]
              .round(3).to_string())


def _read(path: str, engine: str, what: str) -> Any:
    """Read a CSV or Parquet file with ``engine``; text stays text (CRMData reads it)."""
    from pathlib import Path

    from crmmodels.errors import DataValidationError, optional_dependency, require_installed

    name = Path(path).name.lower()
    if not Path(path).is_file():
        raise DataValidationError(f"{what} file {path!r} does not exist", frame=what,
                                  rule="file")
    parquet = name.endswith((".parquet", ".pq"))
    if not parquet and not name.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
        raise DataValidationError(f"{what} file {path!r}: give a .csv or .parquet file",
                                  frame=what, rule="file")
    if engine == "polars":
        pl = optional_dependency("polars", needed_for="--engine polars")
        if parquet:
            return pl.read_parquet(path)
        return pl.read_csv(path, separator="\t" if name.endswith(".tsv") else ",",
                           infer_schema_length=None)
    if parquet:
        require_installed("pyarrow", needed_for="reading Parquet", extra="report")
        return pd.read_parquet(path)
    return pd.read_csv(path, sep="\t" if name.endswith(".tsv") else ",")


def _columns(text: str) -> dict[str, str]:
    from crmmodels.errors import InvalidParameterError

    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        canonical, sep, theirs = part.partition("=")
        if not sep or not canonical.strip() or not theirs.strip():
            raise InvalidParameterError(
                f"--columns takes canonical=yours pairs separated by commas, got {part!r}")
        mapping[canonical.strip()] = theirs.strip()
    return mapping


def _analyze_spark(args: argparse.Namespace) -> int:
    """``analyze --engine spark``: read Parquet with Spark, analyse there, write."""
    from pathlib import Path

    from crmmodels.errors import DataValidationError, InvalidParameterError
    from crmmodels.report import analyze_spark

    if args.customers or args.interactions:
        raise InvalidParameterError(
            "--engine spark analyses transactions only; drop --customers/--interactions "
            "or use --engine pandas or polars")
    if args.date_format or args.dayfirst:
        raise InvalidParameterError(
            "--engine spark reads typed timestamps (Parquet); --date-format and "
            "--dayfirst apply to text dates, which Spark does not guess")
    from crmmodels.errors import optional_dependency

    spark_sql = optional_dependency("pyspark.sql", needed_for="--engine spark", extra="spark")
    spark = spark_sql.SparkSession.builder.appName("crmmodels analyze").getOrCreate()
    if args.transactions is None:
        from crmmodels.datasets import load_cdnow

        cdnow = load_cdnow().transactions
        assert cdnow is not None
        frame = spark.createDataFrame(cdnow.astype({"customer_id": object}))
        name = "CDNOW (bundled)"
    else:
        path = Path(args.transactions)
        if not path.exists():
            raise DataValidationError(f"transactions file {args.transactions!r} does not "
                                      "exist", frame="transactions", rule="file")
        if not (path.is_dir() or path.name.lower().endswith((".parquet", ".pq"))):
            raise DataValidationError(
                f"--engine spark reads Parquet (typed timestamps), got {args.transactions!r};"
                " convert the CSV first or use --engine pandas or polars",
                frame="transactions", rule="file")
        frame = spark.read.parquet(str(path))
        name = args.transactions
    result = analyze_spark(frame, name=name, freq=args.freq, columns=_columns(args.columns),
                           allow_returns=args.allow_returns, on_invalid=args.on_invalid,
                           progress=not args.quiet and sys.stderr.isatty())
    written = result.save(args.out)
    _said(result.sections, written)
    return 0


def _said(sections: Sequence[Any], written: dict[str, Any]) -> None:
    """Print what each step did and what was written."""
    for section in sections:
        state = f"not run: {section.skipped}" if section.skipped else f"{section.seconds:.1f} s"
        print(f"  {section.title}: {state}")
    for path in written.values():
        print(f"wrote {path}")
    print(f"Open {written['report.html'].resolve()} in a browser.")


def _analyze(args: argparse.Namespace) -> int:
    import logging

    from crmmodels.report import analyze

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="crmmodels: %(message)s", stream=sys.stderr)
    if args.engine == "spark":
        return _analyze_spark(args)
    if args.transactions is None:
        from crmmodels.datasets import load_cdnow

        cdnow = load_cdnow().transactions
        assert cdnow is not None
        frames: dict[str, Any] = {"transactions": cdnow}
        name = "CDNOW (bundled)"
        if args.engine == "polars":
            import polars as pl

            frames["transactions"] = pl.from_pandas(cdnow)
    else:
        frames = {"transactions": _read(args.transactions, args.engine, "transactions")}
        name = args.transactions
    for what in ("customers", "interactions"):
        path = getattr(args, what)
        if path is not None:
            frames[what] = _read(path, args.engine, what)
    data = CRMData.from_frames(
        frames["transactions"], frames.get("customers"), frames.get("interactions"),
        columns=_columns(args.columns), datetime_format=args.date_format,
        dayfirst=True if args.dayfirst else None, allow_returns=args.allow_returns,
        on_invalid=args.on_invalid)
    if not args.quiet:
        print(data.report)
    progress = not args.quiet and sys.stderr.isatty()
    result = analyze(data, name=name, freq=args.freq, progress=progress)
    written = result.save(args.out)
    _said(result.sections, written)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "list-models":
        return _list_models()
    if args.command == "analyze":
        from crmmodels.errors import CRMModelsError

        try:
            return _analyze(args)
        except (CRMModelsError, ImportError) as exc:
            print(f"crmmodels analyze: {exc}", file=sys.stderr)
            return 2
    if args.command == "demo":
        from crmmodels.errors import DatasetNotFoundError

        try:
            return _demo(args.sample, args.freq, args.data)
        except DatasetNotFoundError as exc:
            print(f"crmmodels demo: {exc}", file=sys.stderr)
            return 2
    _parser().print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
