"""Benchmark: churn features and ChurnModel fit/score for many customers, one process.

A synthetic transaction log (fixed seed): ``--customers`` customers, about
``--rows-per-customer`` purchases each over two years, each customer with a purchase
rate and a defection date, so that churn is partly predictable from recency and
trends. Steps timed (wall clock and the rise of the peak resident set; peak memory traced
by ``tracemalloc`` in a separate run of each step, never in the timed one):

(a) ``CRMData(transactions=...)``: validation, once;
(b) ``churn_features(data, cutoff)``: the point-in-time features;
(c) ``ChurnModel(random_state=0).fit(data)``: labels at ``observation_end - 90 days``,
    features, the default blend (two members, a held-out combiner);
(d) ``model.score(data)``: features at ``observation_end`` and probabilities.

The anchor for (b) is plain pandas: the same recency, frequency, spend and 90-day
window features with ``groupby``, from the raw frame; (b) is timed end to end too, from
the raw frame (validation included, best of ``--repeat``). The shared columns must agree
before the ratio is printed, otherwise the script exits with status 1.

Run: ``python benchmarks/bench_churn.py [--customers 1000000]``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from bench_customer_summary import _reset_peak_rss, _status_kb

from crmmodels import CRMData
from crmmodels.propensity import ChurnModel, churn_features

END = pd.Timestamp("2025-01-01")


def synthetic(n_customers: int, per_customer: float, seed: int) -> pd.DataFrame:
    """Transactions of customers who buy at their own rate until they defect.

    Parameters
    ----------
    n_customers : int
        Number of customers.
    per_customer : float
        Mean purchases per customer over the two years (before defection).
    seed : int
        Seed of the random generator.

    Returns
    -------
    DataFrame
        ``customer_id`` (text), ``timestamp``, ``amount``.
    """
    rng = np.random.default_rng(seed)
    start = END - pd.Timedelta(days=730)
    rate = rng.gamma(1.0, per_customer / 730.0, n_customers)  # purchases per day
    join = rng.uniform(0, 600, n_customers)
    life = rng.exponential(500.0, n_customers)
    stop = np.minimum(join + life, 730.0)
    n = np.maximum(rng.poisson(rate * (stop - join)), 1)
    cust = np.repeat(np.arange(n_customers), n)
    day = join[cust] + rng.random(len(cust)) * (stop - join)[cust]
    spend = rng.lognormal(3.0, 0.5, n_customers)
    amount = np.round(spend[cust] * rng.lognormal(0.0, 0.3, len(cust)), 2)
    return pd.DataFrame({
        "customer_id": np.char.add("C", np.char.zfill(cust.astype(str), 7)),
        "timestamp": start + pd.to_timedelta(np.round(day * 86400), unit="s"),
        "amount": amount,
    })


def pandas_features(tx: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Recency, purchases, spend and 90-day window features with plain pandas.

    Parameters
    ----------
    tx : DataFrame
        ``customer_id, timestamp, amount``.
    cutoff : Timestamp
        Point in time.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``: ``recency_days``, ``n_purchases``, ``spend_total``,
        ``purchases_90d``, ``spend_90d``.
    """
    past = tx[tx["timestamp"] <= cutoff]
    age = (cutoff - past["timestamp"]).dt.total_seconds() / 86400
    recent = past[age < 90]
    g = past.groupby("customer_id")
    out = pd.DataFrame({
        "recency_days": age.groupby(past["customer_id"]).min(),
        "n_purchases": g.size().astype(float),
        "spend_total": g["amount"].sum(),
    })
    out["purchases_90d"] = recent.groupby("customer_id").size().reindex(out.index,
                                                                        fill_value=0)
    out["spend_90d"] = recent.groupby("customer_id")["amount"].sum().reindex(
        out.index, fill_value=0.0)
    return out


def run(fn: Callable[[], Any], memory: bool = True,
        fresh: Callable[[], None] | None = None,
        repeat: int = 1) -> tuple[float, float, float, Any]:
    """Time ``fn`` (best of ``repeat``); then, in a separate run, trace its peak memory.

    The timed run is never under tracemalloc (which slows allocation-heavy code); it
    records the rise of the process' peak RSS. ``fresh`` (if given) runs before each of
    the two runs, e.g. to drop the tables a ``CRMData`` keeps, so that the second run
    does the same work as the first.

    Parameters
    ----------
    fn : callable
        What to run.
    memory : bool, default True
        Whether to make the second, traced run (NaN otherwise).
    fresh : callable, optional
        Called before each run.
    repeat : int, default 1
        Timed runs; the best is reported (the RSS rise is that of the first).

    Returns
    -------
    tuple
        ``(seconds, traced peak MB, peak RSS rise MB, result)``.
    """
    if fresh is not None:
        fresh()
    gc.collect()
    rss0 = _status_kb("VmRSS")
    reset = _reset_peak_rss()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    hwm = _status_kb("VmHWM")
    rss = (hwm - rss0) * 1024 / 1e6 if reset and hwm and rss0 else float("nan")
    for _ in range(repeat - 1):
        out = None
        if fresh is not None:
            fresh()
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        seconds = min(seconds, time.perf_counter() - t0)
    peak = float("nan")
    if memory:
        if fresh is not None:
            fresh()
        gc.collect()
        tracemalloc.start()
        fn()
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    return seconds, peak, rss, out


def main() -> int:
    """Run the benchmark and print the table; 1 when the shared columns differ."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--rows-per-customer", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the separate tracemalloc runs")
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed runs of (b) and of the pandas anchor (best is shown)")
    args = parser.parse_args()
    mem = not args.no_memory

    tx = synthetic(args.customers, args.rows_per_customer, args.seed)
    print(f"{len(tx):,} transactions of {args.customers:,} customers, "
          f"{tx.memory_usage(deep=True).sum() / 1e6:.0f} MB")
    rows = []
    s, mb, rss, data = run(lambda: CRMData(transactions=tx, observation_end=END), mem)

    def fresh() -> None:
        # Start from validated data without derived tables: each run does all its work.
        data.__dict__.pop("_derived", None)

    rows.append(("(a) CRMData validation", s, mb, rss))
    cutoff = END - pd.Timedelta("90D")
    s, mb, rss, ours = run(lambda: churn_features(data, cutoff), mem, fresh, args.repeat)
    rows.append((f"(b) churn_features(data, cutoff) on validated data ({ours.shape[1]} "
                 "columns)", s, mb, rss))
    e_s, e_mb, e_rss, _ = run(lambda: churn_features(tx, cutoff), mem, None, args.repeat)
    rows.append(("(b) end to end: churn_features(raw frame, cutoff), validation included",
                 e_s, e_mb, e_rss))
    p_s, p_mb, p_rss, ref = run(lambda: pandas_features(tx, cutoff), mem, None, args.repeat)
    rows.append(("(b') pandas groupby from the raw frame: 5 of those columns", p_s, p_mb,
                 p_rss))
    ref.index = ref.index.astype(str)
    same = ours.loc[ref.index, ref.columns]
    err = float(np.nanmax(np.abs(same.to_numpy() - ref.to_numpy()) / np.maximum(
        1.0, np.abs(ref.to_numpy()))))
    s, mb, rss, model = run(lambda: ChurnModel(random_state=0).fit(data), mem, fresh)
    rows.append((f"(c) ChurnModel().fit ({model.n_train_:,} rows, churn rate "
                 f"{model.churn_rate_:.1%})", s, mb, rss))
    s, mb, rss, scores = run(lambda: model.score(data), mem, fresh)
    rows.append((f"(d) ChurnModel.score ({len(scores):,} customers)", s, mb, rss))

    print("\n| step | s | peak MB (tracemalloc) | peak RSS rise MB |\n|---|---:|---:|---:|")
    for name, s, mb, rss in rows:
        print(f"| {name} | {s:.2f} | {mb:.0f} | {rss:.0f} |")
    print(f"\nchurn_features vs pandas on the shared columns: max relative difference "
          f"{err:.1e}")
    if not err <= 1e-9:
        print("\nRESULTS DIFFER: no ratio printed.")
        return 1
    print(f"\nHeadline: churn features at {args.customers:,} customers, end to end from the "
          f"raw frame: pandas (5 columns) / crmmodels ({ours.shape[1]} columns) = "
          f"**{p_s / e_s:.2f}x**")
    return 0


if __name__ == "__main__":
    sys.exit(main())
