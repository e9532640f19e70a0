"""Benchmark the MBG/NBD and BG/BB fits against lifetimes.

Times (best of ``--repeat``) the fit of

1. ``ModifiedBetaGeoModel`` vs ``lifetimes.ModifiedBetaGeoFitter`` on lifetimes'
   CDNOW summary (2,357 customers) and on ``--customers`` simulated MBG/NBD customers,
   once with continuous recency (every row distinct) and once with recency and ``T``
   in whole weeks (many customers share a row);
2. ``BetaGeoBetaBinomModel`` vs ``lifetimes.BetaGeoBetaBinomFitter`` on the donations
   data of Fader, Hardie & Shang (2010) (11,104 donors) and on ``--customers``
   simulated BG/BB customers with 6 and with 1..52 transaction opportunities.

crmmodels takes one row per customer and compresses identical rows itself; lifetimes
is timed both on the raw rows ("plain") and on the distinct rows with their counts
(``weights=``, "weighted"), the form its documentation recommends. The log-likelihoods
of both optima are evaluated with crmmodels' likelihood and printed side by side.

Run from the repository root::

    .venv/bin/python benchmarks/bench_mbg_bgbb.py
    .venv/bin/python benchmarks/bench_mbg_bgbb.py --customers 200000 --repeat 1
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import platform
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import crmmodels
from crmmodels.cltv._likelihood import compress
from crmmodels.cltv.beta_geo_beta_binom import BetaGeoBetaBinomModel
from crmmodels.cltv.modified_beta_geo import ModifiedBetaGeoModel
from crmmodels.datasets import simulate_bg_bb, simulate_mbg_nbd

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import lifetimes
    from lifetimes import BetaGeoBetaBinomFitter, ModifiedBetaGeoFitter


def best_of(fun: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs and the last result; (nan, None) on failure."""
    best, out = np.inf, None
    for _ in range(repeat):
        out = None
        gc.collect()
        start = time.perf_counter()
        # lifetimes prints scipy's result to stdout when a fit fails: keep the table clean.
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            try:
                out = fun()
            except Exception as exc:  # lifetimes raises its own ConvergenceError
                FAILURES.append(f"{type(exc).__name__}: {' '.join(str(exc).split())[:100]}")
                return float("nan"), None
        best = min(best, time.perf_counter() - start)
    return best, out


RTOL = 1e-6  # agreement required between the log-likelihoods
FAILURES: list[str] = []  # lifetimes' errors, printed after the table
# label, agree, ours worse, lifetimes weighted / ours
RESULTS: list[tuple[str, bool, bool, float]] = []


def report(label: str, n: int, ours: float, plain: float | None, weighted: float,
           ll_ours: float, ll_theirs: float) -> None:
    """Print one Markdown table row and record whether the fits agree."""
    def txt(v: float | None) -> str:
        if v is None:
            return "skipped"
        return "failed" if np.isnan(v) else f"{v:.3f} s ({v / ours:.1f}x)"

    rel = abs(ll_theirs - ll_ours) / abs(ll_ours)
    agree = bool(rel < RTOL)
    worse = bool(ll_ours < ll_theirs - RTOL * abs(ll_ours))
    RESULTS.append((label, agree, worse, weighted / ours))
    print(f"| {label} | {n:,} | {ours:.3f} s | {txt(plain)} | {txt(weighted)} | "
          f"{ll_ours:,.3f} | {ll_theirs:,.3f} | {rel:.1e} |")


def bench_mbg(label: str, s: pd.DataFrame, repeat: int, plain: bool) -> None:
    x, tx, t = (s[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    ours_t, model = best_of(lambda: ModifiedBetaGeoModel().fit(s[["frequency", "recency", "T"]]),
                            repeat)
    plain_t = None
    if plain:
        plain_t, _ = best_of(lambda: ModifiedBetaGeoFitter().fit(x, tx, t), repeat)
    (ux, utx, ut), w, _ = compress(x, tx, t)
    weighted_t, ref = best_of(lambda: ModifiedBetaGeoFitter().fit(ux, utx, ut, weights=w),
                              repeat)
    theirs = np.nan if ref is None else \
        model._loglik(ref.params_[["r", "alpha", "a", "b"]].to_numpy(), x, tx, t).sum()
    report(f"MBG/NBD {label} ({len(w):,} rows)", len(s), ours_t, plain_t, weighted_t,
           model.log_likelihood_, float(theirs))


def bench_bgbb(label: str, s: pd.DataFrame, repeat: int, plain: bool) -> None:
    x, tx, n = (s[c].to_numpy(float) for c in ("frequency", "recency", "n_periods"))
    ours_t, model = best_of(
        lambda: BetaGeoBetaBinomModel().fit(s[["frequency", "recency", "n_periods"]]), repeat)
    plain_t = None
    if plain:
        plain_t, _ = best_of(lambda: BetaGeoBetaBinomFitter().fit(
            x.astype(int), tx.astype(int), n.astype(int)), repeat)
    (ux, utx, un), w, _ = compress(x, tx, n)
    weighted_t, ref = best_of(lambda: BetaGeoBetaBinomFitter().fit(
        ux.astype(int), utx.astype(int), un.astype(int), weights=w.astype(int)), repeat)
    theirs = np.nan if ref is None else model._loglik(
        ref.params_[["alpha", "beta", "gamma", "delta"]].to_numpy(), x, tx, n).sum()
    report(f"BG/BB {label} ({len(w):,} rows)", len(s), ours_t, plain_t, weighted_t,
           model.log_likelihood_, float(theirs))


def main() -> int:
    """Run every fit, print the table; 1 when a pair of fits disagrees."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-lifetimes-plain-above", type=int, default=2_000_000,
                        help="skip lifetimes' unweighted fit above this many customers")
    args = parser.parse_args()
    print(f"crmmodels {crmmodels.__version__}, lifetimes {lifetimes.__version__}, "
          f"numpy {np.__version__}, pandas {pd.__version__}, Python "
          f"{platform.python_version()} on {platform.machine()}")
    big = args.customers
    print("\n| fit (distinct rows) | customers | crmmodels | lifetimes plain | lifetimes "
          "weighted | LL crmmodels | LL lifetimes | relative difference |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|")
    plain_big = big <= args.skip_lifetimes_plain_above
    from importlib.resources import files  # lifetimes' published CDNOW summary

    folder = files("lifetimes") / "datasets"

    cdnow = pd.read_csv(folder / "cdnow_customers_summary.csv")
    bench_mbg("CDNOW summary", cdnow, args.repeat, plain=True)
    sim = simulate_mbg_nbd(big, 52.0, r=0.25, alpha=4.0, a=0.8, b=2.5, random_state=0)
    bench_mbg("simulated", sim, args.repeat, plain_big)
    weekly = sim.assign(recency=np.floor(sim["recency"]))
    bench_mbg("simulated, whole weeks", weekly, args.repeat, plain_big)

    rf = pd.read_csv(folder / "donations.csv")
    donors = rf.loc[rf.index.repeat(rf["weights"])].rename(columns={"periods": "n_periods"})
    bench_bgbb("donations", donors.reset_index(drop=True), args.repeat, plain=True)
    sim6 = simulate_bg_bb(big, 6, alpha=1.2, beta=0.75, gamma=0.66, delta=2.78,
                          random_state=0)
    bench_bgbb("simulated, n = 6", sim6, args.repeat, plain_big)
    ages = np.random.default_rng(1).integers(1, 53, big)
    sim52 = simulate_bg_bb(big, ages, alpha=1.2, beta=0.75, gamma=0.66, delta=2.78,
                           random_state=1)
    bench_bgbb("simulated, n = 1..52", sim52, args.repeat, plain_big)
    for failure in FAILURES:
        print(f"\nA lifetimes fit failed: {failure}")
    worse = [label for label, _, ours_worse, _ in RESULTS if ours_worse]
    if worse:
        print(f"\nRESULTS DIFFER: crmmodels stopped at a lower log-likelihood for {worse}.")
        return 1
    apart = [label for label, agree, _, _ in RESULTS if not agree]
    print(f"\nLog-likelihoods agree within {RTOL:g} except: {apart or 'none'} (there "
          "lifetimes stopped at a lower likelihood or failed; no ratio for those rows).")
    for label, agree, _, ratio in RESULTS:
        if agree and "simulated" in label:
            print(f"\nHeadline: {label.split(' (')[0]}, {big:,} customers: lifetimes "
                  f"weighted / crmmodels = **{ratio:.1f}x**")
    return 0


if __name__ == "__main__":
    sys.exit(main())
