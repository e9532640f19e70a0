"""Benchmark: frequent itemsets and rules against mlxtend's FP-Growth, in one process.

Synthetic market baskets (fixed seed): ``--baskets`` baskets over ``--items`` items
whose popularity follows a Zipf-like law, basket sizes ``1 + Poisson(3)``, plus a few
planted co-purchase patterns (bundles of 2 to 4 items bought together) so that there
are frequent itemsets of three and four items. The sparse basket x item matrix is
built once with :func:`crmmodels.association.encode_baskets` from the long
``basket_id, item`` frame.

Steps timed (best of ``--repeat``; peak memory from ``tracemalloc`` in a separate run, and
the rise of the peak resident set size during the first timed run):

(a) ``crmmodels.association._miner.mine_itemsets(matrix, min_support)``: the bitset Eclat miner;
(b) ``AssociationRulesModel(min_support, min_confidence=0.5).fit(long_frame)``: end to
    end (encoding, mining, rules);
(c) mlxtend ``fpgrowth(pd.DataFrame.sparse.from_spmatrix(csr, columns=...))``: what
    mlxtend users do at scale (the CSR copy of the matrix is made once, untimed);
(d) when the ``pyfim`` package (Christian Borgelt's C implementation, ``pip install
    pyfim`` or ``pip install -e ".[bench]"``) is importable, its ``fpgrowth`` and
    ``eclat`` on the baskets as lists of item indices (the lists are built once,
    untimed), asking for every frequent itemset with its absolute count.

The itemsets and their basket counts of (a), (c) and (d) must be identical, otherwise no
ratio is printed. With ``--mlxtend-baskets M`` (M < N), mlxtend runs on the first M
baskets only, and (a) is timed again on the same M baskets for the comparison.

Run: ``python benchmarks/bench_association.py [--baskets 1000000 --min-support 0.001]``;
``--profile`` adds a cProfile listing of (a).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from bench_customer_summary import _reset_peak_rss, _status_kb

from crmmodels.association import AssociationRulesModel, encode_baskets
from crmmodels.association._miner import mine_itemsets

# Planted bundles: (item ranks, share of baskets holding the whole bundle).
PATTERNS: tuple[tuple[tuple[int, ...], float], ...] = (
    ((40, 41), 0.010),
    ((120, 121, 122), 0.006),
    ((300, 301, 302, 303), 0.004),
    ((5, 250, 600), 0.003),
    ((700, 701), 0.002),
    ((10, 11, 12, 13), 0.0025),
)


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


def timed(fn: Callable[[], Any], repeat: int,
          budget_s: float = float("inf")) -> tuple[float, Any, float]:
    """Best wall time over ``repeat`` runs, the last result and the first run's RSS rise.

    Parameters
    ----------
    fn : callable
        What to run.
    repeat : int
        Number of runs.
    budget_s : float, optional
        Stop repeating once a run took longer than this.

    Returns
    -------
    best : float
        Best wall time, in seconds.
    out : object
        Result of the last run.
    rss_mb : float
        Rise of the process's peak resident memory during the first run, in MB
        (``VmHWM`` after resetting it; NaN where the mark cannot be reset). Unlike
        ``tracemalloc`` this also sees memory that C code allocates by itself.
    """
    best, out, rss_mb = float("inf"), None, float("nan")
    for run in range(repeat):
        out = None
        gc.collect()
        rss0 = _status_kb("VmRSS")
        reset = run == 0 and _reset_peak_rss()
        t0 = time.perf_counter()
        out = fn()
        elapsed = time.perf_counter() - t0
        hwm = _status_kb("VmHWM")
        if reset and hwm is not None and rss0 is not None:
            rss_mb = (hwm - rss0) * 1024 / 1e6
        best = min(best, elapsed)
        if elapsed > budget_s:
            break
    return best, out, rss_mb


def peak_mb(fn: Callable[[], Any]) -> float:
    """Peak memory traced by ``tracemalloc`` during one run, in MB.

    Parameters
    ----------
    fn : callable
        What to run.

    Returns
    -------
    float
        Peak traced memory above what was allocated before the run, in MB.
    """
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 1e6


def ours_counts(matrix: sp.spmatrix, min_support: float) -> dict[frozenset[int], int]:
    """Itemsets (column indices) and basket counts from the bitset Eclat miner.

    Parameters
    ----------
    matrix : sparse matrix
        Baskets x items.
    min_support : float
        Minimum share of baskets.

    Returns
    -------
    dict
        ``{frozenset of column indices: basket count}``.
    """
    sets, counts = mine_itemsets(matrix, min_support)
    return {frozenset(s): int(c) for s, c in zip(sets, counts.tolist(), strict=True)}


def mlxtend_counts(found: pd.DataFrame, n_baskets: int) -> dict[frozenset[int], int]:
    """Itemsets and basket counts from an mlxtend result, checking supports are exact.

    Parameters
    ----------
    found : DataFrame
        ``support, itemsets`` as ``fpgrowth`` returns them (columns named by index).
    n_baskets : int
        Number of baskets mined.

    Returns
    -------
    dict
        ``{frozenset of column indices: basket count}``.

    Raises
    ------
    AssertionError
        If a support is not a whole number of baskets divided by ``n_baskets``.
    """
    support = found["support"].to_numpy(dtype=float)
    counts = np.round(support * n_baskets).astype(np.int64)
    err = np.abs(support - counts / n_baskets).max(initial=0.0)
    assert err < 1e-12, f"mlxtend support is not count / n (error {err})"
    return {frozenset(int(i) for i in s): int(c)
            for s, c in zip(found["itemsets"], counts.tolist(), strict=True)}


def compare(ours: dict[frozenset[int], int], theirs: dict[frozenset[int], int]) -> str:
    """Empty string when both results hold the same itemsets and counts, else why not.

    Parameters
    ----------
    ours, theirs : dict
        ``{itemset: basket count}``.

    Returns
    -------
    str
        Description of the first differences, or ``""``.
    """
    only_ours = ours.keys() - theirs.keys()
    only_theirs = theirs.keys() - ours.keys()
    diff = [s for s in ours.keys() & theirs.keys() if ours[s] != theirs[s]]
    if not (only_ours or only_theirs or diff):
        return ""
    return (f"{len(only_ours)} itemsets only in ours (e.g. {sorted(only_ours, key=len)[:3]}), "
            f"{len(only_theirs)} only in mlxtend (e.g. {sorted(only_theirs, key=len)[:3]}), "
            f"{len(diff)} with different counts (e.g. "
            f"{[(sorted(s), ours[s], theirs[s]) for s in diff[:3]]})")


def pyfim_step(matrix: sp.spmatrix, ms: float, ours: dict[frozenset[int], int],
               ours_s: float, ours_rss: float, rows: list[tuple[str, float, float, float, int]],
               args: argparse.Namespace) -> str:
    """Run pyfim's FP-Growth and Eclat on the same baskets, if pyfim is installed.

    Parameters
    ----------
    matrix : sparse matrix
        Baskets x items.
    ms : float
        Minimum support.
    ours : dict
        Our itemsets and counts, for the identity check.
    ours_s, ours_rss : float
        Our best time and peak RSS rise.
    rows : list
        Table rows; pyfim's are appended.
    args : Namespace
        Command-line options (``repeat``, ``no_memory``).

    Returns
    -------
    str
        Lines for the report: the check and the ratios, or why there are none.
    """
    try:
        import fim  # type: ignore[import-not-found]
    except ImportError:
        return "\npyfim is not installed: no C reference (pip install -e '.[bench]')."
    csr = sp.csr_matrix(matrix)
    baskets = [csr.indices[csr.indptr[i]:csr.indptr[i + 1]].tolist()
               for i in range(csr.shape[0])]
    need = max(1, int(np.ceil(ms * csr.shape[0] - 1e-9)))
    lines = ""
    for name in ("fpgrowth", "eclat"):
        algo = getattr(fim, name)

        def run(algo: Any = algo) -> Any:
            return algo(baskets, target="s", supp=-need, zmin=1, report="a")

        s, found, rss = timed(run, args.repeat)
        theirs = {frozenset(int(i) for i in items): int(c) for items, c in found}
        del found
        # pyfim allocates in C, out of tracemalloc's sight: only the RSS rise counts.
        rows.append((f"(d) pyfim {name}(baskets as lists)", s, float("nan"), rss,
                     len(theirs)))
        why = compare(ours, theirs)
        lines += (f"\nRESULTS DIFFER from pyfim {name}: {why}" if why else
                  f"\nIdentical itemsets and counts with pyfim {name}; pyfim / ours: time "
                  f"{s / ours_s:.2f}x, peak RSS rise {rss:.0f} MB vs {ours_rss:.0f} MB")
    return lines


def main() -> None:
    """Run the benchmark and print the table, the check and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baskets", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--min-support", type=float, default=0.001)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2, help="runs of (a) and (b)")
    parser.add_argument("--mlxtend-repeat", type=int, default=2,
                        help="runs of (c); a second run is skipped if the first took > 90 s")
    parser.add_argument("--mlxtend-baskets", type=int, default=None,
                        help="run mlxtend on the first M baskets only")
    parser.add_argument("--groceries", action="store_true",
                        help="mine the Groceries baskets (CRMMODELS_DATA_DIR) instead")
    parser.add_argument("--no-mlxtend", action="store_true")
    parser.add_argument("--no-pyfim", action="store_true")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument("--profile", action="store_true", help="cProfile listing of (a)")
    parser.add_argument("--profile-top", type=int, default=15)
    args = parser.parse_args()
    ms = args.min_support

    t0 = time.perf_counter()
    if args.groceries:
        from crmmodels.datasets import load_groceries

        long = load_groceries()
    else:
        long = synthetic(args.baskets, args.items, args.seed)
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    matrix, _, items = encode_baskets(long)
    enc_s = time.perf_counter() - t0
    n = matrix.shape[0]
    print(f"{n:,} baskets, {len(items):,} items, {matrix.nnz:,} basket-item pairs "
          f"(mean {matrix.nnz / n:.2f} items per basket); long frame {len(long):,} rows, "
          f"{long.memory_usage(deep=True).sum() / 1e6:.0f} MB; generated in {gen_s:.1f} s, "
          f"encoded in {enc_s:.1f} s; min_support {ms} (>= "
          f"{max(1, int(np.ceil(ms * n - 1e-9))):,} baskets)")

    rows: list[tuple[str, float, float, float, int]] = []

    a_s, a_res, a_rss = timed(lambda: ours_counts(matrix, ms), args.repeat)
    a_mb = float("nan") if args.no_memory else peak_mb(lambda: mine_itemsets(matrix, ms))
    rows.append(("(a) crmmodels.association._miner.mine_itemsets(matrix)", a_s, a_mb, a_rss,
                 len(a_res)))
    sizes = np.bincount([len(s) for s in a_res])
    print("itemsets by length (ours): "
          + ", ".join(f"{k}: {c:,}" for k, c in enumerate(sizes) if k and c))

    def fit_model() -> AssociationRulesModel:
        return AssociationRulesModel(min_support=ms, min_confidence=0.5).fit(long)

    b_s, model, b_rss = timed(fit_model, args.repeat)
    b_mb = float("nan") if args.no_memory else peak_mb(fit_model)
    rows.append(("(b) AssociationRulesModel(min_confidence=0.5).fit(long frame)", b_s, b_mb,
                 b_rss, len(model.itemsets_)))
    n_rules = len(model.rules_)
    del model

    ratio_line = ""
    if not args.no_mlxtend:
        from mlxtend.frequent_patterns import fpgrowth

        m = n if args.mlxtend_baskets is None else min(n, args.mlxtend_baskets)
        csr = sp.csr_matrix(matrix[:m] if m < n else matrix)
        columns = list(range(csr.shape[1]))
        ref_s, ref_mb, ref = a_s, a_mb, a_res
        if m < n:
            sub = sp.csc_matrix(csr)
            ref_s, ref, _ = timed(lambda: ours_counts(sub, ms), args.repeat)
            ref_mb = float("nan") if args.no_memory else peak_mb(lambda: mine_itemsets(sub, ms))
            rows.append((f"(a) mine_itemsets on the first {m:,} baskets", ref_s, ref_mb,
                         float("nan"), len(ref)))

        def run_mlxtend() -> pd.DataFrame:
            frame = pd.DataFrame.sparse.from_spmatrix(csr, columns=columns)
            return fpgrowth(frame, min_support=ms)

        c_s, found, c_rss = timed(run_mlxtend, args.mlxtend_repeat, budget_s=90.0)
        theirs = mlxtend_counts(found, m)
        del found
        c_mb = float("nan") if args.no_memory else peak_mb(run_mlxtend)
        label = "(c) mlxtend fpgrowth(sparse DataFrame)"
        if m < n:
            label += f" on the first {m:,} baskets"
        rows.append((label, c_s, c_mb, c_rss, len(theirs)))
        why = compare(ref, theirs)
        if why:
            ratio_line = f"\nRESULTS DIFFER, no ratio printed: {why}"
        else:
            ratio_line = (f"\nItemsets and supports identical between (a) and (c) "
                          f"({len(ref):,} itemsets at {m:,} baskets).\n"
                          f"mlxtend / ours: time {c_s / ref_s:.1f}x, "
                          f"peak memory {c_mb / ref_mb:.1f}x (tracemalloc), "
                          f"{c_rss:.0f} MB vs {a_rss:.0f} MB peak RSS rise")

    if not args.no_pyfim:
        ratio_line += pyfim_step(matrix, ms, a_res, a_s, a_rss, rows, args)

    print("\n| step | best s | peak MB (tracemalloc) | peak RSS rise MB | itemsets |\n"
          "|---|---:|---:|---:|---:|")
    for name, s, mb, rss, k in rows:
        print(f"| {name} | {s:.2f} | {mb:.0f} | {rss:.0f} | {k:,} |")
    print(f"\n(b) kept {n_rules:,} rules at min_confidence 0.5.{ratio_line}")
    print(f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        mine_itemsets(matrix, ms)
        prof.disable()
        for key in ("cumulative", "tottime"):
            print(f"\ncProfile of (a), sorted by {key}:")
            pstats.Stats(prof).sort_stats(key).print_stats(args.profile_top)


if __name__ == "__main__":
    main()
