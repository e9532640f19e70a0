"""Command line: ``crmmodels list-models``, ``crmmodels demo``.

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
from collections.abc import Sequence

import pandas as pd

from crmmodels.data import CRMData


def _parser() -> argparse.ArgumentParser:
    from crmmodels import __version__

    p = argparse.ArgumentParser(
        prog="crmmodels",
        description="CRM analytics models: RFM, CLV, churn, fraud, cross-sell, treatment.",
    )
    p.add_argument("--version", action="version", version=f"crmmodels {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("list-models", help="list the registered models (built-ins and plug-ins)")
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


def _demo(sample: bool, freq: str, source: str = "cdnow") -> int:
    from crmmodels.cltv import NaiveRateModel
    from crmmodels.data import customer_summary
    from crmmodels.datasets import load_cdnow, load_cdnow_sample, load_online_retail

    t0 = time.perf_counter()
    if source == "online-retail":
        data, name = load_online_retail(), "Online Retail"
    else:
        data = load_cdnow_sample() if sample else load_cdnow()
        name = "CDNOW sample" if sample else "CDNOW"
    t1 = time.perf_counter()
    print(f"Loaded and validated {name}: {data} in {t1 - t0:.2f} s")
    print(data.report)
    summary = customer_summary(data, freq=freq)
    t2 = time.perf_counter()
    print(f"\nCustomer summary (freq={freq!r}), {len(summary)} customers, {t2 - t1:.3f} s:")
    with pd.option_context("display.width", 120, "display.max_columns", 10):
        print(summary.head(10).round(2).to_string())
        print("\nDistribution:")
        print(summary.describe().T.round(2).to_string())
    model = NaiveRateModel(horizon=52, freq=freq).fit(data)
    scores = model.score(data)
    print("\nNaive Gamma-Poisson baseline (no dropout): params "
          + ", ".join(f"{k}={v:.4g}" for k, v in model.params_.items()))
    print(f"Expected purchases next 52 {freq}: total {scores['expected_purchases'].sum():.0f} "
          f"over {len(scores)} customers")
    clv = _demo_clv(data, summary, freq)
    _demo_segments(data)
    _demo_churn(data, clv)
    _demo_rules(data)
    return 0


def _demo_rules(data: CRMData) -> None:
    from crmmodels.association import AssociationRulesModel, top_rules

    tx = data.transactions
    if tx is None or "product_id" not in tx or "transaction_id" not in tx:
        print("\nCross-sell rules: skipped, the transactions have no baskets "
              "(transaction_id and product_id); try --data online-retail.")
        return
    # Items named by their description where there is one, so the rules read well.
    names = tx["description"] if "description" in tx else tx["product_id"]
    baskets = pd.DataFrame({"basket_id": tx["transaction_id"],
                            "item": names.fillna(tx["product_id"]).astype(str).str.strip()})
    t0 = time.perf_counter()
    model = AssociationRulesModel(min_support=0.01, min_confidence=0.5, min_lift=2.0,
                                  max_consequent_len=1).fit(baskets)
    print(f"\nCross-sell rules (baskets = orders, min_support 0.01, min_confidence 0.5, "
          f"lift >= 2): {len(model.itemsets_):,} frequent itemsets and {len(model.rules_):,} "
          f"rules over {model.n_baskets_:,} baskets in {time.perf_counter() - t0:.2f} s. "
          f"Top 10 by lift:")
    with pd.option_context("display.width", 140, "display.max_colwidth", 60):
        print(top_rules(model.rules_, n=10, by="lift").round(4).to_string(index=False))


def _demo_segments(data: CRMData) -> None:
    from crmmodels.segments import RFMModel

    scores = RFMModel().fit(data).score(data)
    table = scores.groupby("segment").agg(customers=("monetary", "size"),
                                          revenue=("monetary", "sum"),
                                          mean_recency_days=("recency", "mean"),
                                          mean_frequency=("frequency", "mean"))
    table["revenue_share"] = table["revenue"] / table["revenue"].sum()
    with pd.option_context("display.width", 120):
        print("\nRFM segments (quintile scores, standard 11-segment map):")
        print(table.sort_values("revenue", ascending=False).round(3).to_string())


def _demo_clv(data: CRMData, summary: pd.DataFrame, freq: str) -> pd.Series:
    from crmmodels.cltv import BetaGeoModel, CLVModel, GammaGammaModel, period_discount_rate

    per_year = {"D": 365.25, "W": 365.25 / 7, "M": 12.0}[freq]
    horizon = round(per_year)
    clv = CLVModel(transaction_model=BetaGeoModel(freq=freq),
                   spend_model=GammaGammaModel(freq=freq), horizon=horizon,
                   discount_rate=period_discount_rate(0.10, freq), margin=0.3,
                   freq=freq).fit(summary)
    print("\nBG/NBD: " + ", ".join(
        f"{k}={v:.4g}" for k, v in clv.transaction_model_.params_.items())
        + "; Gamma-Gamma: " + ", ".join(
        f"{k}={v:.4g}" for k, v in clv.spend_model_.params_.items()))
    scores = clv.score(summary)
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

    t0 = time.perf_counter()
    model = ChurnModel(horizon="90D", random_state=0).fit(data)
    scores = model.score(data, value=clv)
    print(f"\nChurn propensity (no purchase in the next 90 days; trained at "
          f"{model.cutoffs_[0].date()} on {model.n_train_} customers, churn rate "
          f"{model.churn_rate_:.1%}, {time.perf_counter() - t0:.1f} s). Most valuable "
          f"customers at risk (defection cost = P(churn) x CLV):")
    top = scores.sort_values("retention_priority").head(10)
    with pd.option_context("display.width", 120):
        print(top.join(clv.rename("clv")).round(3).to_string())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "list-models":
        return _list_models()
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
