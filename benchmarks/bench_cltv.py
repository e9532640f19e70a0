"""Benchmark: BG/NBD fitting and CLV scoring against lifetimes, in one process.

Simulates customers from known BG/NBD parameters (recency and T in weeks at day
resolution, as real logs summarised by day are), then times

* ``crmmodels.cltv.BetaGeoModel().fit(summary)`` on one row per customer;
* lifetimes' ``BetaGeoFitter().fit(frequency, recency, T)`` as users usually call it;
* lifetimes' fit on the distinct ``(frequency, recency, T)`` rows with ``weights=``
  (its best case, which it does not do by itself);
* scoring every customer: ``CLVModel.score`` (P(alive), expected purchases, expected
  spend and CLV).

All fits are compared on one scale: our log-likelihood function evaluated at each
fit's parameters. Run: ``python benchmarks/bench_cltv.py [--customers 1000000]``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from crmmodels.cltv import BetaGeoModel, CLVModel, GammaGammaModel
from crmmodels.cltv._likelihood import compress
from crmmodels.datasets import simulate_bg_nbd

TRUTH = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}


def simulate(n: int, seed: int) -> pd.DataFrame:
    """Simulate ``n`` customers; times in weeks rounded to whole days; add spend."""
    rng = np.random.default_rng(seed)
    t = rng.integers(7, 7 * 52 + 1, n) / 7.0  # customers joined over a year
    sim = simulate_bg_nbd(n, t, **TRUTH, random_state=seed)
    sim["recency"] = np.minimum(np.round(sim["recency"] * 7) / 7, sim["T"])
    x = sim["frequency"].to_numpy()
    nu = rng.gamma(4.0, 1 / 15.0, n)
    spend = np.where(x > 0, rng.gamma(6.0 * np.maximum(x, 1), 1 / nu) / np.maximum(x, 1), 0.0)
    sim["monetary_value"] = np.round(spend, 2)
    return sim[["frequency", "recency", "T", "monetary_value"]].reset_index(drop=True)


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        out = None
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_mb(fn: Callable[[], Any]) -> float:
    """Peak traced memory of one run, in MB."""
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def main() -> int:
    """Run the benchmark and print a table with the ratios; 1 when the fits disagree."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-plain", action="store_true",
                        help="skip lifetimes' plain fit (slow at 1M customers)")
    parser.add_argument("--rtol", type=float, default=1e-6,
                        help="agreement required between the log-likelihoods")
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes import BetaGeoFitter

    summary = simulate(args.customers, args.seed)
    f, r, t = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    (uf, ur, ut), w, _ = compress(f, r, t)
    print(f"{args.customers:,} customers, {len(w):,} distinct (frequency, recency, T) rows")

    rows: list[tuple[str, float, float, float]] = []
    ours_s, ours = timed(lambda: BetaGeoModel().fit(summary[["frequency", "recency", "T"]]), 3)
    ll = BetaGeoModel()._loglik

    def ll_at(p: np.ndarray) -> float:
        return float(np.dot(w, ll(p, uf, ur, ut)))

    ours_ll = ll_at(ours.params_.to_numpy())
    rows.append(("crmmodels BetaGeoModel.fit", ours_s,
                 peak_mb(lambda: BetaGeoModel().fit(summary[["frequency", "recency", "T"]])),
                 ours_ll))

    def lifetimes_weighted() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return BetaGeoFitter().fit(uf, ur, ut, weights=w)

    lw_s, lw = timed(lifetimes_weighted, 2)
    rows.append(("lifetimes BetaGeoFitter.fit(weights=)", lw_s, peak_mb(lifetimes_weighted),
                 ll_at(lw.params_[["r", "alpha", "a", "b"]].to_numpy())))
    lp_s = float("nan")
    if not args.skip_plain:
        def lifetimes_plain() -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return BetaGeoFitter().fit(f, r, t)

        lp_s, lp = timed(lifetimes_plain, 1)
        rows.append(("lifetimes BetaGeoFitter.fit (plain)", lp_s, peak_mb(lifetimes_plain),
                     ll_at(lp.params_[["r", "alpha", "a", "b"]].to_numpy())))

    clv = CLVModel(transaction_model=BetaGeoModel(), spend_model=GammaGammaModel(),
                   horizon=52, discount_rate=0.002, margin=0.3).fit(summary)
    score_s, scores = timed(lambda: clv.score(summary), 3)
    rows.append(("crmmodels CLVModel.score (p_alive, purchases, spend, clv)", score_s,
                 peak_mb(lambda: clv.score(summary)), float("nan")))

    print("\n| step | best s | peak MB (tracemalloc) | log-likelihood |\n|---|---:|---:|---:|")
    for name, sec, mb, value in rows:
        print(f"| {name} | {sec:.3f} | {mb:.0f} | {value:.6f} |")
    diffs = [abs(ours_ll / row[3] - 1) for row in rows[1:-1]]
    print("\nLog-likelihood relative difference to ours: "
          + ", ".join(f"{d:.2e}" for d in diffs) + f" (required < {args.rtol:g})")
    print(f"\nScoring {len(scores):,} customers: {score_s:.3f} s; estimates "
          + ", ".join(f"{k}={v:.4f}" for k, v in ours.params_.items()))
    if not all(d < args.rtol for d in diffs):
        print("\nRESULTS DIFFER: the fits do not agree; no ratio printed.")
        return 1
    print(f"\nHeadline: BG/NBD fit, {args.customers:,} customers: lifetimes weighted / "
          f"crmmodels = **{lw_s / ours_s:.1f}x**")
    if not args.skip_plain:
        print(f"\nHeadline: BG/NBD fit, {args.customers:,} customers: lifetimes plain / "
              f"crmmodels = **{lp_s / ours_s:.1f}x**")
    return 0


if __name__ == "__main__":
    sys.exit(main())
