"""Benchmark: RFM scoring end to end against the pandas recipe, in one process.

The pandas recipe is what an analyst writes: ``groupby().agg`` for the last purchase,
the number of purchases and the spend, recency in calendar days, quintile edges of each
value (``Series.quantile``), scores by those edges (a value equal to an edge goes to the
lower score, so ties are never split), ``FM = round-half-up((F + M) / 2)`` and the
segment name looked up from the (R, FM) cell. crmmodels runs ``CRMData(transactions=tx)``
(validation) then ``RFMModel().fit(data).score(data)``. Both start from the same raw
frame and both are timed end to end (best of ``--repeat``, ``gc.collect()`` before each
run); peak memory is traced by ``tracemalloc`` in a separate run of each.

The two results must agree (same customers; recency, frequency, the three scores and the
segment exactly equal; monetary within ``rtol=1e-9``), otherwise no ratio is printed and
the script exits with status 1. ``--ids text`` gives customer ids such as ``"C123"``,
``--ids int`` integer ids (crmmodels turns them into text), ``--ids both`` runs both.

Run: ``python benchmarks/bench_rfm.py [--rows 10000000 --customers 1000000 --ids both]``.
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

from crmmodels import CRMData
from crmmodels.segments import STANDARD_SEGMENTS as STANDARD
from crmmodels.segments import RFMModel

LOOKUP = {cell: name for name, cells in STANDARD.items() for cell in cells}


def synthetic(rows: int, customers: int, seed: int, ids: str) -> pd.DataFrame:
    """Transactions over two years with heavy-tailed activity per customer.

    Parameters
    ----------
    rows, customers : int
        Transactions and distinct customers (every customer has one or more).
    seed : int
        Seed of the random generator.
    ids : {"text", "int"}
        Customer ids as text (``"C123"``, a ``str`` column) or as int64.

    Returns
    -------
    DataFrame
        ``customer_id``, ``timestamp`` (second resolution), ``amount``.
    """
    rng = np.random.default_rng(seed)
    weights = rng.pareto(1.5, customers) + 0.1
    cust = np.concatenate([np.arange(customers),
                           rng.choice(customers, rows - customers, p=weights / weights.sum())])
    start = np.datetime64("2023-01-01T00:00:00")
    seconds = rng.integers(0, 2 * 365 * 24 * 3600, rows)
    customer_id: Any = (pd.Series(np.char.add("C", cust.astype(str)), dtype="str")
                        if ids == "text" else cust.astype(np.int64))
    return pd.DataFrame({
        "customer_id": customer_id,
        "timestamp": start + seconds.astype("timedelta64[s]"),
        "amount": np.round(rng.lognormal(3.0, 1.0, rows), 2),
    })


def pandas_recipe(tx: pd.DataFrame) -> pd.DataFrame:
    """RFM with pandas: groupby-agg, quintile edges, scores, segment lookup."""
    end = tx["timestamp"].max()
    rfm = tx.groupby("customer_id").agg(last=("timestamp", "max"),
                                        frequency=("timestamp", "size"),
                                        monetary=("amount", "sum"))
    rfm["recency"] = (end.normalize() - rfm["last"].dt.normalize()).dt.days
    q = [0.2, 0.4, 0.6, 0.8]
    for col, score in (("recency", "r_score"), ("frequency", "f_score"),
                       ("monetary", "m_score")):
        edges = rfm[col].astype(float).quantile(q).to_numpy()
        bins = np.searchsorted(edges, rfm[col].to_numpy(dtype=float), side="left")
        rfm[score] = 5 - bins if col == "recency" else 1 + bins
    fm = np.floor((rfm["f_score"] + rfm["m_score"]) / 2 + 0.5).astype(int)
    rfm["segment"] = (rfm["r_score"].astype(str) + fm.astype(str)).map(LOOKUP)
    return rfm


def ours(tx: pd.DataFrame) -> pd.DataFrame:
    """Run crmmodels end to end: validation, fit, score."""
    data = CRMData(transactions=tx)
    return RFMModel().fit(data).score(data)


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs (``gc.collect()`` before each) and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        out = None
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_mb(fn: Callable[[], Any]) -> float:
    """Peak traced memory of one run, in MB (a separate, untimed run)."""
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def mismatches(scores: pd.DataFrame, ref: pd.DataFrame) -> tuple[dict[str, int], int]:
    """Count the customers whose values differ between crmmodels and the recipe.

    Spend is summed in a different order on each side (pandas' group sums are
    compensated), so it agrees to rounding, not bit for bit. A customer whose spend lies
    on a quintile edge (to 1e-9, relative) may then get the other monetary score; such
    customers are counted apart (second value returned) and not as mismatches.
    """
    ref = ref.set_axis(ref.index.astype(str)).reindex(scores.index)
    out = {"missing": int(ref["frequency"].isna().sum()) + abs(len(scores) - len(ref))}
    spend = scores["monetary"].to_numpy(dtype=float)
    edges = np.quantile(spend, [0.2, 0.4, 0.6, 0.8])
    on_edge = np.isclose(spend[:, None], edges[None, :], rtol=1e-9, atol=0.0).any(axis=1)
    for col in ("recency", "frequency", "r_score", "f_score", "m_score", "segment"):
        differ = scores[col].to_numpy() != ref[col].to_numpy()
        if col in ("m_score", "segment"):
            differ &= ~on_edge
        out[col] = int(differ.sum())
    m_differ = scores["m_score"].to_numpy() != ref["m_score"].to_numpy()
    out["monetary"] = int((~np.isclose(spend, ref["monetary"].to_numpy(dtype=float),
                                       rtol=1e-9, atol=0.0)).sum())
    return out, int((m_differ & on_edge).sum())


def bench(args: argparse.Namespace, ids: str) -> bool:
    """Run one id kind; print its table; return whether the results agree."""
    tx = synthetic(args.rows, args.customers, args.seed, ids)
    input_mb = tx.memory_usage(deep=True).sum() / 1e6
    ours_s, scores = best_of(lambda: ours(tx), args.repeat)
    pandas_s, ref = best_of(lambda: pandas_recipe(tx), args.repeat)
    ours_mb = float("nan") if args.no_memory else peak_mb(lambda: ours(tx))
    pandas_mb = float("nan") if args.no_memory else peak_mb(lambda: pandas_recipe(tx))
    bad, edge = mismatches(scores, ref)
    kind = "text ids (`\"C123\"`)" if ids == "text" else "integer ids"
    print(f"\n### {args.rows:,} rows, {args.customers:,} customers, {kind}\n")
    print(f"Input frame {input_mb:,.0f} MB. Both sides end to end from the raw frame; best "
          f"of {args.repeat}.\n")
    print("| step | best s | peak MB (tracemalloc) |\n|---|---:|---:|")
    print(f"| crmmodels `CRMData(transactions=tx)` + `RFMModel().fit(data).score(data)` | "
          f"{ours_s:.2f} | {ours_mb:,.0f} |")
    print(f"| pandas groupby + quantile edges + scores + lookup | {pandas_s:.2f} | "
          f"{pandas_mb:,.0f} |")
    print(f"\nMismatching customers per column: {bad}; {edge:,} customers whose spend lies "
          "on a quintile edge (to rounding) got the neighbouring monetary score.")
    if any(bad.values()):
        print("\nRESULTS DIFFER: no ratio printed.")
        return False
    print(f"\nHeadline: RFM end to end, {kind}, {args.rows:,} rows: pandas / crmmodels = "
          f"**{pandas_s / ours_s:.2f}x**")
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for the chosen id kinds; 1 if any result differs."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--ids", choices=("text", "int", "both"), default="both")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    args = parser.parse_args(argv)
    kinds = ("text", "int") if args.ids == "both" else (args.ids,)
    ok = [bench(args, ids) for ids in kinds]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
