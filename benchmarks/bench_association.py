"""Benchmark: frequent itemsets against pyfim (C) and mlxtend, in one process.

Two workloads, each mined at one ``min_support`` by every engine:

* **Groceries** (arules' 9,835 point-of-sale baskets, 169 items, from
  ``CRMMODELS_DATA_DIR``), ``min_support=0.001`` (13,492 itemsets up to 6 items);
* **synthetic** baskets (fixed seed): ``--baskets`` baskets over ``--items`` items whose
  popularity follows a Zipf-like law, basket sizes ``1 + Poisson(3)``, plus planted
  co-purchase bundles of 2 to 4 items, ``min_support=0.001``.

``--min-support`` (default 0.001) applies to both.

Without options both run (the synthetic one at 1,000,000 baskets); ``--groceries``
runs Groceries only, ``--baskets N`` the synthetic baskets only, and ``--quick`` both
at a small size (20,000 synthetic baskets, fewer runs, no memory runs).

Steps timed (wall clock, ``gc.collect()`` before each run, best of ``--repeat``; the
runs of (a), (b) and (d) alternate, so that the load of the machine weighs on each
alike):

(a) crmmodels end to end, the public API:
    ``AssociationRulesModel(min_support=...).fit(long_frame)`` from the long
    ``basket_id, item`` frame (text items): encoding and validation, mining, the
    ``itemsets_`` frame and the rules (default ``min_confidence=0.5``);
(b) pyfim (Christian Borgelt's C library; ``pip install -e ".[bench]"``) ``fpgrowth``
    and ``eclat`` on ready-made transactions (one list of item labels per basket,
    built once and not timed), every frequent itemset with its count: its best case;
(b') pyfim ``fpgrowth`` end to end from the same long frame: building the lists
    (``groupby``) and mining;
(c) mlxtend ``fpgrowth`` on a sparse DataFrame (the CSR matrix is made once, not
    timed), on the first ``--mlxtend-baskets`` baskets when given;
(d) the crmmodels miner alone on the encoded matrix
    (``crmmodels.association._miner.frequent_itemsets``), for reference.

The itemsets and their basket counts of (a), (b), (c) and (d) must be identical, or no
ratio is printed and the script exits with status 1. Memory (unless ``--no-memory``):
the ``tracemalloc`` peak of (a), (c) and (d), each in one separate untimed run after the
timed ones, and the rise of the peak resident set (``VmHWM``) during the first timed
run (the only figure that sees pyfim's C allocations).

Output is Markdown: one table per workload and one ``Headline:`` line per ratio.
``--profile`` adds a cProfile listing of (a) (stderr).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import itertools
import os
import pstats
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from bench_customer_summary import _reset_peak_rss, _status_kb

from crmmodels.association import AssociationRulesModel, encode_baskets
from crmmodels.association._miner import frequent_itemsets, min_count

# Planted bundles: (item ranks, share of baskets holding the whole bundle).
PATTERNS: tuple[tuple[tuple[int, ...], float], ...] = (
    ((40, 41), 0.010),
    ((120, 121, 122), 0.006),
    ((300, 301, 302, 303), 0.004),
    ((5, 250, 600), 0.003),
    ((700, 701), 0.002),
    ((10, 11, 12, 13), 0.0025),
)

Counts = dict[frozenset[Any], int]


def synthetic(n_baskets: int, n_items: int, seed: int, zipf: float = 1.0) -> pd.DataFrame:
    """Long ``basket_id, item`` frame of synthetic market baskets.

    Parameters
    ----------
    n_baskets : int
        Number of baskets.
    n_items : int
        Size of the catalogue; item ``r`` (0-based rank) is drawn with weight
        ``1 / (r + 1) ** zipf``.
    seed : int
        Seed of the random generator.
    zipf : float, default 1.0
        Exponent of the popularity law.

    Returns
    -------
    DataFrame
        One row per basket and drawn item (``basket_id`` int64, ``item`` text such as
        ``"SKU0042"``); an item drawn twice in a basket gives two rows.
    """
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_items + 1) ** zipf
    # Shuffle which SKU gets which popularity rank so that columns are not sorted.
    sku_of_rank = rng.permutation(n_items)
    sizes = 1 + rng.poisson(3.0, n_baskets)
    basket = np.repeat(np.arange(n_baskets, dtype=np.int64), sizes)
    rank = rng.choice(n_items, size=len(basket), p=weights / weights.sum())
    baskets_parts = [basket]
    rank_parts = [rank]
    for ranks, share in PATTERNS:
        chosen = np.flatnonzero(rng.random(n_baskets) < share)
        ranks_arr = np.asarray([r for r in ranks if r < n_items], dtype=np.int64)
        baskets_parts.append(np.repeat(chosen, len(ranks_arr)))
        rank_parts.append(np.tile(ranks_arr, len(chosen)))
    basket = np.concatenate(baskets_parts)
    rank = np.concatenate(rank_parts)
    order = np.argsort(basket, kind="stable")
    labels = np.char.add("SKU", np.char.zfill(np.arange(n_items).astype(str), 4))
    return pd.DataFrame({
        "basket_id": basket[order],
        "item": pd.Series(labels[sku_of_rank[rank[order]]], dtype=object),
    })


@dataclass
class Step:
    """One timed step: its label, run times, memory and result."""

    name: str
    fn: Callable[[], Any]
    key: str = ""
    times: list[float] = field(default_factory=list)
    rss_mb: float = float("nan")
    peak_mb: float = float("nan")
    result: Any = None

    @property
    def best(self) -> float:
        """Fastest run, in seconds."""
        return min(self.times)


def run_once(step: Step, first: bool) -> None:
    """Time one run of ``step`` (wall clock), after a full garbage collection.

    The first run also records the rise of the process's peak resident memory
    (``VmHWM`` after resetting it; NaN where the mark cannot be reset).
    """
    step.result = None
    gc.collect()
    rss0 = _status_kb("VmRSS") if first else None
    reset = first and _reset_peak_rss()
    t0 = time.perf_counter()
    out = step.fn()
    elapsed = time.perf_counter() - t0
    if reset and rss0 is not None:
        hwm = _status_kb("VmHWM")
        if hwm is not None:
            step.rss_mb = (hwm - rss0) * 1024 / 1e6
    step.times.append(elapsed)
    step.result = out


def time_together(steps: list[Step], repeat: int, budget_s: float = float("inf")) -> None:
    """Run the steps in turn, ``repeat`` rounds (fewer once a round exceeds the budget)."""
    for r in range(repeat):
        t0 = time.perf_counter()
        for step in steps:
            run_once(step, first=r == 0)
        if time.perf_counter() - t0 > budget_s:
            break


def peak_mb(fn: Callable[[], Any]) -> float:
    """Peak memory traced by ``tracemalloc`` during one untimed run, in MB."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 1e6


def model_counts(model: AssociationRulesModel) -> Counts:
    """``{itemset: basket count}`` of a fitted model."""
    n = model.n_baskets_
    return {s: round(v * n) for s, v in zip(model.itemsets_["itemsets"],
                                             model.itemsets_["support"], strict=True)}


def miner_counts(levels: list[tuple[np.ndarray, np.ndarray]], labels: np.ndarray) -> Counts:
    """``{itemset of labels: basket count}`` from the miner's arrays."""
    return {frozenset(labels[row]): int(c) for rows, counts in levels
            for row, c in zip(rows, counts.tolist(), strict=True)}


def pyfim_counts(found: list[tuple[tuple[Any, ...], int]]) -> Counts:
    """``{itemset: basket count}`` from pyfim's ``report="a"`` output."""
    return {frozenset(items): int(c) for items, c in found}


def mlxtend_counts(found: pd.DataFrame, n_baskets: int, labels: np.ndarray) -> Counts:
    """``{itemset of labels: basket count}`` from mlxtend, checking supports are exact.

    Raises
    ------
    AssertionError
        If a support is not a whole number of baskets divided by ``n_baskets``.
    """
    support = found["support"].to_numpy(dtype=float)
    counts = np.round(support * n_baskets).astype(np.int64)
    err = np.abs(support - counts / n_baskets).max(initial=0.0)
    assert err < 1e-12, f"mlxtend support is not count / n (error {err})"
    return {frozenset(labels[list(s)]): int(c)
            for s, c in zip(found["itemsets"], counts.tolist(), strict=True)}


def differences(ours: Counts, theirs: Counts) -> str:
    """Empty string when both hold the same itemsets and counts, else what differs."""
    only_ours = ours.keys() - theirs.keys()
    only_theirs = theirs.keys() - ours.keys()
    diff = [s for s in ours.keys() & theirs.keys() if ours[s] != theirs[s]]
    if not (only_ours or only_theirs or diff):
        return ""
    return (f"{len(only_ours)} itemsets only in crmmodels (e.g. "
            f"{[sorted(s) for s in sorted(only_ours, key=len)[:3]]}), {len(only_theirs)} "
            f"only in the other (e.g. {[sorted(s) for s in sorted(only_theirs, key=len)[:3]]}"
            f"), {len(diff)} with other counts (e.g. "
            f"{[(sorted(s), ours[s], theirs[s]) for s in diff[:3]]})")


def transactions(long: pd.DataFrame) -> list[list[Any]]:
    """One list of item labels per basket, in basket order (pyfim's input)."""
    ordered = long.sort_values("basket_id", kind="stable")
    items = ordered["item"].to_numpy(dtype=object)
    starts = np.flatnonzero(np.r_[True, ordered["basket_id"].to_numpy()[1:]
                                  != ordered["basket_id"].to_numpy()[:-1]])
    bounds = np.r_[starts, len(items)].tolist()
    return [items[a:b].tolist() for a, b in itertools.pairwise(bounds)]


def workload(title: str, long: pd.DataFrame, args: argparse.Namespace,
             min_support: float) -> bool:
    """Time, check and report one workload; False when the engines disagree."""
    matrix, _, items = encode_baskets(long)
    labels = items.to_numpy(dtype=object)
    n = matrix.shape[0]
    need = min_count(min_support, n)
    steps: list[Step] = []

    def fit() -> AssociationRulesModel:
        return AssociationRulesModel(min_support=min_support).fit(long)

    ours = Step("(a) crmmodels `AssociationRulesModel(min_support).fit(long frame)`, "
                "end to end", fit)
    steps.append(ours)
    pyfim_steps: list[Step] = []
    fim: Any = None
    if not args.no_pyfim:
        try:
            import fim
        except ImportError:
            fim = None
    if fim is not None:
        lists = transactions(long)
        for name in ("fpgrowth", "eclat"):
            algo = getattr(fim, name)

            def run(algo: Any = algo) -> Any:
                return algo(lists, target="s", supp=-need, zmin=1, report="a")

            pyfim_steps.append(Step(f"(b) pyfim `{name}` on ready-made transactions", run,
                                    key=f"pyfim {name}"))

        def pyfim_from_frame() -> Any:
            return fim.fpgrowth(transactions(long), target="s", supp=-need, zmin=1,
                                report="a")

        pyfim_steps.append(Step("(b') pyfim `fpgrowth` end to end from the long frame "
                                "(lists built by the benchmark)", pyfim_from_frame,
                                key="pyfim fpgrowth from the frame"))
        steps += pyfim_steps
    miner = Step("(d) crmmodels miner alone on the encoded matrix",
                 lambda: frequent_itemsets(matrix, min_support))
    steps.append(miner)
    time_together(steps, args.repeat)
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        fit()
        prof.disable()
        print(f"cProfile of (a), {title}:", file=sys.stderr)
        pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(
            args.profile_top)

    results: dict[str, Counts] = {
        "crmmodels fit": model_counts(ours.result),
        "crmmodels miner": miner_counts(miner.result, labels),
    }
    n_rules = len(ours.result.rules_)
    for step in pyfim_steps:
        results[step.key] = pyfim_counts(step.result)

    mlx: Step | None = None
    m = n if args.mlxtend_baskets is None else min(n, args.mlxtend_baskets)
    if not args.no_mlxtend:
        from mlxtend.frequent_patterns import fpgrowth

        csr = sp.csr_matrix(matrix[:m] if m < n else matrix)
        columns = list(range(csr.shape[1]))

        def run_mlxtend() -> pd.DataFrame:
            frame = pd.DataFrame.sparse.from_spmatrix(csr, columns=columns)
            return fpgrowth(frame, min_support=min_support)

        label = "(c) mlxtend `fpgrowth(sparse DataFrame)`"
        if m < n:
            label += f" on the first {m:,} baskets"
        mlx = Step(label, run_mlxtend)
        time_together([mlx], args.mlxtend_repeat, budget_s=90.0)
        mlx_counts = mlxtend_counts(mlx.result, m, labels)
        mlx.result = None

    if not args.no_memory:
        ours.peak_mb = peak_mb(fit)
        miner.peak_mb = peak_mb(lambda: frequent_itemsets(matrix, min_support))
        if mlx is not None:
            mlx.peak_mb = peak_mb(mlx.fn)
    for step in steps:
        step.result = None

    # Checks: every engine gives the same itemsets and counts.
    reference = results["crmmodels fit"]
    problems = [f"{name}: {why}" for name, counts in results.items()
                if (why := differences(reference, counts))]
    if mlx is not None:
        if m < n:
            sub = sp.csc_matrix(sp.csr_matrix(matrix)[:m])
            mlx_reference = miner_counts(frequent_itemsets(sub, min_support), labels)
        else:
            mlx_reference = reference
        if why := differences(mlx_reference, mlx_counts):
            problems.append(f"mlxtend: {why}")

    sizes = np.bincount([len(s) for s in reference])
    print(f"\n### {title}\n")
    print(f"{n:,} baskets, {len(items):,} items, {matrix.nnz:,} basket-item pairs; long frame "
          f"{len(long):,} rows; `min_support={min_support}` (at least {need:,} baskets): "
          f"{len(reference):,} itemsets ("
          + ", ".join(f"{c:,} of {k}" for k, c in enumerate(sizes) if k and c)
          + f" items); (a) also derives {n_rules:,} rules at `min_confidence=0.5`. "
          f"Best of {args.repeat} runs; (a), (b) and (d) run in turn.\n")
    print("| step | best s | runs | peak MB (tracemalloc) | peak RSS rise MB |")
    print("|---|---:|---:|---:|---:|")
    for step in [*steps, *([mlx] if mlx is not None else [])]:
        traced = "n/a (C)" if step in pyfim_steps else (
            "-" if np.isnan(step.peak_mb) else f"{step.peak_mb:,.1f}")
        rss = "-" if np.isnan(step.rss_mb) else f"{step.rss_mb:,.0f}"
        print(f"| {step.name} | {step.best:.4f} | {len(step.times)} | {traced} | {rss} |")
    print()
    if problems:
        print("RESULTS DIFFER, no ratio printed:\n")
        for p in problems:
            print(f"- {p}")
        return False
    engines = ", ".join(results) + (", mlxtend" if mlx is not None else "")
    print(f"Identical itemsets and basket counts: {engines}.")
    short = title.split(":")[0]
    if pyfim_steps:
        best_pyfim = min(pyfim_steps[:2], key=lambda s: s.best)
        algo = best_pyfim.name.split("`")[1]
        print(f"\nHeadline: {short} itemsets, crmmodels end to end vs pyfim `{algo}` on "
              f"ready-made transactions: pyfim / crmmodels = "
              f"**{best_pyfim.best / ours.best:.2f}x**")
        print(f"\nHeadline: {short} itemsets, both end to end from the long frame: "
              f"pyfim / crmmodels = **{pyfim_steps[2].best / ours.best:.2f}x**")
        print(f"\n{short}, the crmmodels miner alone: pyfim `{algo}` / miner = "
              f"{best_pyfim.best / miner.best:.2f}x")
    elif args.no_pyfim:
        print("\npyfim skipped (--no-pyfim): no C reference.")
    else:
        print("\npyfim is not installed: no C reference (pip install -e '.[bench]').")
    if mlx is not None:
        if m < n:
            print(f"\n{short}: mlxtend ran on the first {m:,} baskets only; no ratio.")
        else:
            print(f"\nHeadline: {short} itemsets: mlxtend / crmmodels end to end = "
                  f"**{mlx.best / ours.best:.1f}x**")
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 1 when the engines' itemsets differ."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groceries", action="store_true",
                        help="mine the Groceries baskets (CRMMODELS_DATA_DIR) only")
    parser.add_argument("--baskets", type=int, default=None,
                        help="synthetic baskets only, this many (both workloads when "
                             "neither this nor --groceries is given)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes: 20,000 synthetic baskets, 3 runs, no memory runs")
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--min-support", type=float, default=0.001)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=None,
                        help="rounds of (a), (b), (d) (default 5, 3 with --quick)")
    parser.add_argument("--mlxtend-repeat", type=int, default=None,
                        help="runs of (c) (default 2, 1 with --quick); no second run after "
                             "a run of more than 90 s")
    parser.add_argument("--mlxtend-baskets", type=int, default=None,
                        help="run mlxtend on the first M synthetic baskets only")
    parser.add_argument("--no-mlxtend", action="store_true")
    parser.add_argument("--no-pyfim", action="store_true")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument("--profile", action="store_true", help="cProfile of (a), on stderr")
    parser.add_argument("--profile-top", type=int, default=25)
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 3 if args.quick else 5
    if args.mlxtend_repeat is None:
        args.mlxtend_repeat = 1 if args.quick else 2
    args.no_memory = args.no_memory or args.quick
    run_groceries = args.groceries or args.baskets is None
    run_synthetic = not args.groceries
    n_baskets = args.baskets if args.baskets is not None else (
        20_000 if args.quick else 1_000_000)

    print("## Frequent itemsets: crmmodels against pyfim and mlxtend\n")
    print(f"One process, {os.cpu_count()} cores visible; wall-clock times, `gc.collect()` "
          "before each run. `python benchmarks/bench_association.py "
          + " ".join(sys.argv[1:] if argv is None else argv) + "`")
    ok = True
    if run_groceries:
        from crmmodels.datasets import load_groceries

        home = os.environ.get("CRMMODELS_DATA_DIR")
        if home is None or not Path(home, "groceries").exists():
            print("\nGroceries is not available (set CRMMODELS_DATA_DIR): skipped.")
        else:
            ok &= workload("Groceries: 9,835 point-of-sale baskets", load_groceries(), args,
                           args.min_support)
    if run_synthetic:
        long = synthetic(n_baskets, args.items, args.seed)
        ok &= workload(f"{n_baskets:,} synthetic baskets: {args.items:,} items, Zipf "
                       "popularity, planted bundles", long, args, args.min_support)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
