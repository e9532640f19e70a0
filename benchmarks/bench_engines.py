"""Benchmark: the repeat-purchase summary and RFM from a polars frame against a pandas one.

The same transactions are given to crmmodels once as a pandas frame and once as a polars
frame; each side runs, end to end through the public API, ``CRMData(transactions=tx)``
(validation), ``customer_summary(data)`` and ``RFMModel().fit(data).score(data)``. The
polars frame is validated and summarised in polars (narwhals expressions); the pandas
frame by the numpy kernels of the pandas path. The two results must agree (counts
exactly, amounts to 1e-9), otherwise no ratio is printed and the script exits with
status 1.

Times are the best of ``--repeat`` runs in one process (``gc.collect()`` before each).
Memory is measured apart, in a fresh process per side that builds the input and then
runs the work once, sampling its resident set every 2 ms (polars allocates outside
Python's tracer, so tracemalloc cannot see it): the peak during the work less the
resident set just before it.

Spend is summed in a different order by each library, so it agrees to rounding, not bit
for bit; a customer whose spend lies on a quintile edge (to 1e-9, relative) may then get
the neighbouring monetary score. Such customers are counted apart, not as differences
(as in ``bench_rfm.py``).

Run: ``python benchmarks/bench_engines.py [--rows 10000000 --customers 500000 --ids both]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from crmmodels import CRMData
from crmmodels.data import customer_summary
from crmmodels.segments import RFMModel


def synthetic(rows: int, customers: int, seed: int, ids: str) -> pd.DataFrame:
    """Three years of transactions with heavy-tailed activity per customer."""
    rng = np.random.default_rng(seed)
    weights = rng.pareto(1.2, customers) + 1.0
    cust = np.concatenate([np.arange(customers),
                           rng.choice(customers, rows - customers, p=weights / weights.sum())])
    seconds = rng.integers(0, 3 * 365 * 86_400, rows)
    customer_id: Any = (pd.Series(np.char.add("C", cust.astype(str)), dtype="str")
                        if ids == "text" else cust.astype(np.int64))
    return pd.DataFrame({
        "customer_id": customer_id,
        "timestamp": (np.datetime64("2021-01-01T00:00:00", "us")
                      + seconds.astype("timedelta64[s]")),
        "amount": np.round(rng.gamma(2.0, 20.0, rows), 2),
    })


def run(tx: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate, summarise and score RFM through the public API."""
    data = CRMData(transactions=tx)
    return customer_summary(data), RFMModel().fit(data).score(data)


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        out = None
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def differences(ref: pd.DataFrame, got: pd.DataFrame,
                skip: np.ndarray | None = None) -> int:
    """Cells that differ: other values exactly, floats beyond 1e-9; rows in ``skip`` not."""
    if not ref.index.equals(got.index) or list(ref.columns) != list(got.columns):
        return max(len(ref), 1)
    keep = np.ones(len(ref), dtype=bool) if skip is None else ~skip
    bad = 0
    for column in ref.columns:
        a, b = ref[column].to_numpy()[keep], got[column].to_numpy()[keep]
        if pd.api.types.is_float_dtype(ref[column].dtype):
            bad += int((~np.isclose(a, b, rtol=1e-9, atol=1e-9)).sum())
        else:
            bad += int((a != b).sum())
    return bad


def on_edge(rfm: pd.DataFrame) -> np.ndarray:
    """Return the customers whose spend lies on a quintile edge, to 1e-9 relative."""
    spend = rfm["monetary"].to_numpy(dtype=float)
    edges = np.quantile(spend, [0.2, 0.4, 0.6, 0.8])
    out: np.ndarray = np.isclose(spend[:, None], edges[None, :], rtol=1e-9, atol=0.0).any(1)
    return out


def resident_mb() -> float:
    """Resident set of this process now, in MB (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * 4096 / 1e6


def peak_during(fn: Callable[[], Any]) -> tuple[float, float]:
    """Resident set before ``fn`` and its peak while ``fn`` runs (sampled every 2 ms)."""
    gc.collect()
    before = peak = resident_mb()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, resident_mb())
            time.sleep(0.002)

    thread = threading.Thread(target=sample)
    thread.start()
    try:
        fn()
    finally:
        done.set()
        thread.join()
    return before, max(peak, resident_mb())


def child(args: argparse.Namespace) -> int:
    """Build the input in one library, note the memory, run once, print both as JSON."""
    tx: Any = synthetic(args.rows, args.customers, args.seed, args.ids)
    if args.child == "polars":
        import polars as pl

        tx = pl.from_pandas(tx)
    before, peak = peak_during(lambda: run(tx))
    print(json.dumps({"before": before, "peak": peak}))
    return 0


def memory(args: argparse.Namespace, engine: str) -> dict[str, float]:
    """Run the work once in a fresh process; its resident-set figures."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", engine, "--rows", str(args.rows),
         "--customers", str(args.customers), "--ids", args.ids, "--seed", str(args.seed)],
        check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def bench(args: argparse.Namespace) -> bool:
    """Time both sides on one id kind; print the table; whether the results agree."""
    import polars as pl

    tx = synthetic(args.rows, args.customers, args.seed, args.ids)
    ptx = pl.from_pandas(tx)
    pandas_s, (ref_summary, ref_rfm) = best_of(lambda: run(tx), args.repeat)
    polars_s, (summary, rfm) = best_of(lambda: run(ptx), args.repeat)
    edge = on_edge(ref_rfm)
    bad = differences(ref_summary, summary) + differences(ref_rfm, rfm, skip=edge)
    moved = int(((ref_rfm["m_score"] != rfm["m_score"]).to_numpy() & edge).sum())
    kind = "text ids (`\"C123\"`)" if args.ids == "text" else "integer ids"
    print(f"\n### {args.rows:,} rows, {args.customers:,} customers, {kind}\n")
    print(f"`CRMData(transactions=tx)` + `customer_summary(data)` + "
          f"`RFMModel().fit(data).score(data)`; best of {args.repeat}.\n")
    rows = {"pandas": pandas_s, "polars": polars_s}
    mem = {} if args.no_memory else {k: memory(args, k) for k in rows}
    print("| input | best s | resident MB before | peak added by the work, MB |\n"
          "|---|---:|---:|---:|")
    for engine, seconds in rows.items():
        m = mem.get(engine)
        before = f"{m['before']:,.0f}" if m else "n/a"
        added = f"{m['peak'] - m['before']:,.0f}" if m else "n/a"
        print(f"| {engine} frame | {seconds:.2f} | {before} | {added} |")
    print(f"\nCells that differ between the two (summary and RFM scores): {bad}; {moved} "
          "customers whose spend lies on a quintile edge (to rounding) got the neighbouring "
          "monetary score.")
    if bad:
        print("\nRESULTS DIFFER: no ratio printed.")
        return False
    print(f"\nHeadline: summary + RFM, {kind}, {args.rows:,} rows: pandas frame / polars "
          f"frame = **{pandas_s / polars_s:.2f}x**")
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with ``--child``, one memory run)."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=500_000)
    parser.add_argument("--ids", choices=("text", "int", "both"), default="both")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    parser.add_argument("--child", choices=("pandas", "polars"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    kinds = ("int", "text") if args.ids == "both" else (args.ids,)
    ok = []
    for ids in kinds:
        args.ids = ids
        ok.append(bench(args))
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
