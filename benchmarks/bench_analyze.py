"""Benchmark: the whole analysis end to end at 1M and 10M transactions.

Synthetic order lines (skewed customer activity, baskets of related products, 2% of the
lines returned) are written once to Parquet. Then, each in a fresh process:

* **pandas** and **polars**: read the file with that library, ``CRMData(transactions=...,
  allow_returns=True)`` (validation), every step of :func:`crmmodels.report.analyze`,
  and ``Analysis.save`` (scores in Parquet and CSV, rules, the HTML report): what
  ``crmmodels analyze FILE --engine pandas|polars`` runs;
* **Spark local** (``local[2]``): read the file with Spark, ``validate_transactions``,
  ``customer_summary``, the CLV model of the analysis fitted from the customers counted
  per distinct summary row (``crmmodels.spark.fit``), scored through ``mapInPandas``
  (``crmmodels.spark.score``) and written to Parquet, and the association rules through
  MLlib's FP-Growth (``crmmodels.spark.association_rules``).

Each step's wall time is measured in its process; memory is measured in a second fresh
process running the same work: the resident set (for Spark, of the driver, the JVM and
the Python workers together) sampled every 5 ms, reported as its peak during each
step. Nothing samples memory while the timed run runs. The scores must agree: the polars
run's every score column with the pandas run's, and Spark's CLV columns and rules with
the pandas run's: counts and labels exactly, numbers to 1e-6 relative (spend is summed
in another order by each library, equal to about 1e-15, and the fitted models stop at
the same optimum to the optimiser's tolerance); otherwise the script exits with
status 1.

Run: ``python benchmarks/bench_analyze.py [--sizes 1000000 10000000] [--engines pandas
polars spark]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------------- the data
def synthetic(rows: int, seed: int = 0) -> pd.DataFrame:
    """Order lines: heavy-tailed customers, baskets of related products, 2% returns.

    One customer per 20 lines; a basket holds 1 + Geometric(1/2) lines (3 on average)
    of products drawn from one of 50 families (Zipf-like popularity); prices are
    per-product. 2% of the lines are returned 1 to 30 days later: a line of its own
    with the negative amount, on a return note (``C...``) of the same customer, on top
    of the ``rows`` purchase lines.
    """
    rng = np.random.default_rng(seed)
    customers = max(rows // 20, 10)
    sizes = 1 + rng.geometric(0.5, rows)
    ends = np.cumsum(sizes)
    n_baskets = int(np.searchsorted(ends, rows)) + 1
    sizes = sizes[:n_baskets]
    sizes[-1] -= int(ends[n_baskets - 1] - rows)
    basket = np.repeat(np.arange(n_baskets), sizes)
    weights = rng.pareto(1.2, customers) + 1.0
    owner = np.concatenate([np.arange(min(customers, n_baskets)),
                            rng.choice(customers, max(n_baskets - customers, 0),
                                       p=weights / weights.sum())])
    rng.shuffle(owner)
    start = np.datetime64("2022-01-01T00:00:00", "s")
    when = start + rng.integers(0, 2 * 365 * 86_400, n_baskets).astype("timedelta64[s]")
    family = np.minimum(rng.zipf(1.6, n_baskets), 50) - 1
    item_in_family = np.minimum(rng.zipf(1.4, rows), 40) - 1
    product = family[basket] * 40 + item_in_family
    price = np.round(rng.lognormal(2.5, 0.8, 50 * 40), 2) + 0.5
    quantity = 1 + rng.poisson(0.3, rows)
    amount = np.round(price[product] * quantity, 2)
    timestamp = when[basket]
    invoice = np.char.add("T", basket.astype(str))
    # Returns: 2% of the lines come back 1 to 30 days later, as lines of their own
    # (negative amount) on a return note of the same customer.
    back = np.flatnonzero(rng.random(rows) < 0.02)
    later = rng.integers(1, 31, len(back)).astype("timedelta64[D]").astype("timedelta64[s]")
    line = np.concatenate([np.arange(rows), back])
    return pd.DataFrame({
        "customer_id": pd.Series(np.char.add("C", owner[basket[line]].astype(str)),
                                 dtype="str"),
        "timestamp": np.concatenate([timestamp, timestamp[back] + later]).astype(
            "datetime64[us]"),
        "amount": np.concatenate([amount, -amount[back]]),
        "transaction_id": pd.Series(np.concatenate(
            [invoice, np.char.add("C", basket[back].astype(str))]), dtype="str"),
        "product_id": pd.Series(np.char.add("P", product[line].astype(str)), dtype="str"),
        "quantity": quantity[line].astype(np.int64),
    })


# ---------------------------------------------------------------------- measuring
class Meter:
    """Wall time and peak resident set (this process and its children) per step."""

    def __init__(self, *, memory: bool) -> None:
        import psutil

        self._proc = psutil.Process()
        self.samples: list[tuple[float, float]] = []
        self.steps: list[tuple[str, float, float]] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        if memory:  # only in the memory run: no sampling while the timed run runs
            self._thread.start()

    def rss_mb(self) -> float:
        """Return the resident set of this process and its children, in MB."""
        total = 0
        for p in [self._proc, *self._proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except Exception:  # a worker that just ended
                pass
        return total / 1e6

    def _sample(self) -> None:
        while not self._done.is_set():
            self.samples.append((time.perf_counter(), self.rss_mb()))
            time.sleep(0.005)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block as step ``name``."""
        t0 = time.perf_counter()
        yield
        self.steps.append((name, t0, time.perf_counter()))

    def add(self, name: str, t0: float, t1: float) -> None:
        """Record step ``name`` timed elsewhere (``perf_counter`` times)."""
        self.steps.append((name, t0, t1))

    def report(self) -> list[dict[str, Any]]:
        """Stop sampling; each step's seconds and peak resident set."""
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()
        out = []
        for name, t0, t1 in self.steps:
            inside = [m for t, m in self.samples if t0 <= t <= t1]
            out.append({"step": name, "seconds": t1 - t0,
                        "peak_mb": max(inside) if inside else self.rss_mb()})
        return out


# ---------------------------------------------------------------------- the runs
def run_local(engine: str, path: str, out: str, memory: bool) -> dict[str, Any]:
    """Read, validate, analyze and save with pandas or polars; the step figures."""
    from crmmodels import CRMData
    from crmmodels.report import analyze

    meter = Meter(memory=memory)
    t_start = time.perf_counter()
    with meter.step("read"):
        if engine == "polars":
            import polars as pl

            tx: Any = pl.read_parquet(path)
        else:
            tx = pd.read_parquet(path)
    with meter.step("validate"):
        data = CRMData(transactions=tx, allow_returns=True)
    t0 = time.perf_counter()
    result = analyze(data)
    for section in result.sections:  # the steps ran one after the other
        meter.add(section.key, t0, t0 + section.seconds)
        t0 += section.seconds
    with meter.step("save"):
        result.save(out)
    total = time.perf_counter() - t_start
    skipped = {s.key: s.skipped for s in result.sections if s.skipped}
    return {"steps": meter.report(), "total": total, "skipped": skipped,
            "customers": len(result.scores)}


def run_spark(path: str, out: str, memory: bool) -> dict[str, Any]:
    """Run the data path, the CLV model and the rules on Spark local; the step figures."""
    from pyspark.sql import SparkSession

    from crmmodels import spark as crm_spark
    from crmmodels.cltv import BetaGeoModel, CLVModel, GammaGammaModel, period_discount_rate

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    meter = Meter(memory=memory)
    t_start = time.perf_counter()
    with meter.step("session"):
        spark = (SparkSession.builder.master("local[2]")
                 .config("spark.ui.enabled", "false")
                 .config("spark.driver.memory", "6g")
                 .config("spark.sql.shuffle.partitions", "8")
                 .config("spark.sql.session.timeZone", "UTC")
                 .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                 .getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
    with meter.step("read"):
        tx = spark.read.parquet(path)
    with meter.step("validate"):
        clean = crm_spark.validate_transactions(tx, allow_returns=True).cache()
        clean.count()
    with meter.step("summary"):
        summary = crm_spark.customer_summary(clean, freq="W", allow_returns=True).cache()
        summary.count()
    with meter.step("clv_fit"):
        model = crm_spark.fit(CLVModel(
            transaction_model=BetaGeoModel(freq="W"), spend_model=GammaGammaModel(freq="W"),
            horizon=52, discount_rate=period_discount_rate(0.10, "W"), margin=1.0,
            freq="W"), summary)
    with meter.step("clv_score"):
        crm_spark.score(model, summary).write.mode("overwrite").parquet(
            str(Path(out) / "clv.parquet"))
    with meter.step("rules"):
        # The baskets of the analysis: every transaction id (return notes included).
        rules = crm_spark.association_rules(clean, min_support=0.01, min_confidence=0.5,
                                            min_lift=2.0)
    total = time.perf_counter() - t_start
    rules.assign(antecedents=rules["antecedents"].map(sorted).map(", ".join),
                 consequents=rules["consequents"].map(sorted).map(", ".join)).to_csv(
        Path(out) / "rules.csv", index=False)
    steps = meter.report()
    spark.stop()
    return {"steps": steps, "total": total, "skipped": {}}


def child(args: argparse.Namespace) -> int:
    os.makedirs(args.out, exist_ok=True)
    if args.child == "spark":
        result = run_spark(args.path, args.out, args.memory)
    else:
        result = run_local(args.child, args.path, args.out, args.memory)
    print(json.dumps(result))
    return 0


def _one_child(engine: str, path: str, out: str, memory: bool) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", engine, "--path", path,
                           "--out", out, *(["--memory"] if memory else [])],
                          capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "2"})
    if done.returncode:
        raise RuntimeError(f"the {engine} run failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def in_child(engine: str, path: str, out: str) -> dict[str, Any]:
    """Time the work in one fresh process, measure its memory in another; merge."""
    timed = _one_child(engine, path, out, memory=False)
    peaks = {s["step"]: s["peak_mb"] for s in _one_child(
        engine, path, out + "-memory", memory=True)["steps"]}
    for step in timed["steps"]:
        step["peak_mb"] = peaks[step["step"]]
    return timed


# ---------------------------------------------------------------------- comparing
def _differ(a: pd.Series, b: pd.Series, rtol: float) -> int:
    if pd.api.types.is_float_dtype(a.dtype):
        x, y = a.to_numpy(float), b.to_numpy(float)
        both_nan = np.isnan(x) & np.isnan(y)
        return int((~(np.isclose(x, y, rtol=rtol, atol=1e-12) | both_nan)).sum())
    same = (a.isna().to_numpy() & b.isna().to_numpy()) | (
        a.astype("str").to_numpy() == b.astype("str").to_numpy())
    return int((~same).sum())


def compare_local(ref_dir: str, got_dir: str) -> int:
    """Score cells of the polars run that differ from the pandas run's."""
    ref = pd.read_parquet(Path(ref_dir) / "scores.parquet")
    got = pd.read_parquet(Path(got_dir) / "scores.parquet")
    if not ref.index.equals(got.index) or list(ref.columns) != list(got.columns):
        return max(len(ref), 1)
    # Spend is summed in another order by each library: a customer whose spend lies on
    # a quintile edge (to 1e-9, relative) may get the neighbouring monetary score, and
    # so another cell and segment. Such customers are counted apart (as in
    # bench_engines.py), not as differences.
    spend = ref["monetary"].to_numpy(dtype=float)
    edges = np.nanquantile(spend, [0.2, 0.4, 0.6, 0.8])
    edge = np.isclose(spend[:, None], edges[None, :], rtol=1e-9, atol=0.0).any(axis=1)
    bad = {}
    for c in ref.columns:
        keep = ~edge if c in ("m_score", "rfm_cell", "segment") else slice(None)
        bad[c] = _differ(ref[c][keep], got[c][keep], 1e-6)
    moved = int(((ref["m_score"] != got["m_score"]).to_numpy() & edge).sum())
    print(f"{moved} customers whose spend lies on a quintile edge (to rounding) got the "
          "neighbouring monetary score.")
    if any(bad.values()):
        print(f"cells that differ per column: { {c: n for c, n in bad.items() if n} }")
    return sum(bad.values())


def compare_spark(ref_dir: str, spark_dir: str) -> int:
    """CLV cells and rules of the Spark run that differ from the pandas run's."""
    ref = pd.read_parquet(Path(ref_dir) / "scores.parquet")
    got = pd.read_parquet(Path(spark_dir) / "clv.parquet").set_index("customer_id")
    columns = ["p_alive", "expected_purchases", "expected_spend", "clv"]
    ref = ref[columns].dropna(subset=["clv"])
    got = got.loc[ref.index, columns] if set(ref.index) <= set(got.index) else None
    if got is None:
        return max(len(ref), 1)
    per = {c: _differ(ref[c], got[c], 1e-6) for c in columns}
    if any(per.values()):
        print(f"CLV cells that differ per column: {per}")
    bad = sum(per.values())
    ref_rules = pd.read_csv(Path(ref_dir) / "rules.csv")
    got_rules = pd.read_csv(Path(spark_dir) / "rules.csv")
    if len(ref_rules) != len(got_rules):
        return bad + max(len(ref_rules), 1)
    for c in ("antecedents", "consequents"):
        bad += _differ(ref_rules[c], got_rules[c], 0)
    for c in ("support", "confidence", "lift"):
        bad += _differ(ref_rules[c], got_rules[c], 1e-9)
    return bad


# ---------------------------------------------------------------------- the table
def table(size: int, results: dict[str, dict[str, Any]]) -> None:
    engines = list(results)
    names: list[str] = []
    for r in results.values():
        for s in r["steps"]:
            if s["step"] not in names:
                names.append(s["step"])
    head = " | ".join(f"{e} s | {e} peak MB" for e in engines)
    print(f"| step | {head} |\n|---|" + "---:|" * (2 * len(engines)))
    for name in names:
        cells = []
        for e in engines:
            step = next((s for s in results[e]["steps"] if s["step"] == name), None)
            cells += (["-", "-"] if step is None
                      else [f"{step['seconds']:.1f}", f"{step['peak_mb']:,.0f}"])
        print(f"| {name} | " + " | ".join(cells) + " |")
    totals = []
    for e in engines:
        peak = max(s["peak_mb"] for s in results[e]["steps"])
        totals += [f"**{results[e]['total']:.1f}**", f"**{peak:,.0f}**"]
    print("| end to end | " + " | ".join(totals) + " |")
    for e in engines:
        if results[e]["skipped"]:
            print(f"\n{e}: steps skipped: {results[e]['skipped']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--engines", nargs="+", default=["pandas", "polars", "spark"],
                        choices=["pandas", "polars", "spark"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", choices=["pandas", "polars", "spark"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-analyze-") as tmp:
        for size in args.sizes:
            path = str(Path(tmp) / f"tx-{size}.parquet")
            frame = synthetic(size, args.seed)
            n_customers = frame["customer_id"].nunique()
            n_baskets = frame["transaction_id"].nunique()
            frame.to_parquet(path, index=False)
            del frame
            results = {e: in_child(e, path, str(Path(tmp) / f"{e}-{size}"))
                       for e in args.engines}
            print(f"\n### {size:,} order lines ({n_customers:,} customers, "
                  f"{n_baskets:,} baskets and return notes)\n")
            table(size, results)
            lines = []
            if "pandas" in results and "polars" in results:
                bad = compare_local(str(Path(tmp) / f"pandas-{size}"),
                                    str(Path(tmp) / f"polars-{size}"))
                lines.append(f"score cells that differ, polars vs pandas: {bad}")
                ok &= bad == 0
            if "pandas" in results and "spark" in results:
                bad = compare_spark(str(Path(tmp) / f"pandas-{size}"),
                                    str(Path(tmp) / f"spark-{size}"))
                lines.append(f"CLV cells and rules that differ, Spark vs pandas: {bad}")
                ok &= bad == 0
            print("\n" + "; ".join(lines) + ".")
            if "polars" in results:
                peak = max(s["peak_mb"] for s in results["polars"]["steps"])
                print(f"\nHeadline: crmmodels analyze, {size:,} order lines, polars: "
                      f"**{results['polars']['total']:.0f} s**, peak RSS "
                      f"**{peak / 1000:.1f} GB**")
    if not ok:
        print("\nRESULTS DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
