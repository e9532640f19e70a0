"""Benchmark fitting ``crmmodels``' Pareto/NBD against lifetimes' ``ParetoNBDFitter``.

One process simulates Pareto/NBD customers (fixed seed; CDNOW-like parameters
``r=0.55, alpha=10.6, s=0.61, beta=11.7`` per week) observed for ``T`` uniform on
1-78 weeks, with ``T`` and ``recency`` in whole days (as a daily transaction log
gives them), then times

1. ``ParetoNBDModel().fit(summary)`` -- the public API: validation, compression to
   distinct rows, maximum likelihood with the analytic gradient and the Hessian;
2. lifetimes ``ParetoNBDFitter().fit(frequency, recency, T, weights=counts)`` on the
   distinct rows (the grouping itself is not timed);
3. lifetimes ``ParetoNBDFitter().fit(frequency, recency, T)`` on every customer, at
   ``--plain-customers`` customers (default: all; at a smaller size crmmodels is timed
   again on the same customers so the ratio compares like with like).

It then checks that the fits agree: every log-likelihood is evaluated on the original
time scale with crmmodels' likelihood at each fit's parameters (lifetimes rescales
time internally and reports the rescaled, weight-averaged value). Ratios are printed
only when they agree to ``--rtol``; otherwise the script exits with status 1.

Run from the repository root::

    .venv/bin/python benchmarks/bench_pareto_nbd.py                          # 1M customers
    .venv/bin/python benchmarks/bench_pareto_nbd.py --plain-customers 100000
    .venv/bin/python benchmarks/bench_pareto_nbd.py --customers 100000
"""

from __future__ import annotations

import argparse
import gc
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
from crmmodels.cltv.pareto_nbd import ParetoNBDModel
from crmmodels.datasets import simulate_pareto_nbd

with warnings.catch_warnings():
    # lifetimes 0.11.3 sets a pandas option that pandas 3 deprecates, at import.
    warnings.simplefilter("ignore")
    import lifetimes
    from lifetimes import ParetoNBDFitter

TRUTH = {"r": 0.55, "alpha": 10.6, "s": 0.61, "beta": 11.7}
NAMES = ["r", "alpha", "s", "beta"]


def simulate(n: int, seed: int) -> pd.DataFrame:
    """Pareto/NBD customers with ``T`` and ``recency`` in whole days (unit: weeks)."""
    rng = np.random.default_rng(seed)
    t = np.ceil(rng.uniform(1.0, 78.0, n) * 7) / 7
    sim = simulate_pareto_nbd(n, t, *TRUTH.values(), random_state=seed + 1)
    out = sim[["frequency", "recency", "T"]].copy()
    out["recency"] = np.minimum(np.round(out["recency"].to_numpy() * 7) / 7, out["T"])
    return out


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[Any, float]:
    """Run ``fn`` ``repeat`` times; return its result and the best wall-clock seconds."""
    best, result = float("inf"), None
    for _ in range(repeat):
        result = None
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return result, best


def loglik(params: np.ndarray, summary: pd.DataFrame) -> float:
    """Return the summed log-likelihood on the original time scale at ``params``."""
    model = ParetoNBDModel()
    model.params_ = pd.Series(np.asarray(params, dtype=float), index=NAMES)
    return float(model.log_likelihood(summary["frequency"], summary["recency"],
                                      summary["T"]).sum())


def lifetimes_params(fitter: ParetoNBDFitter) -> np.ndarray:
    """Lifetimes' estimates (already back on the original time scale)."""
    return np.asarray([fitter.params_[k] for k in NAMES], dtype=float)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--plain-customers", type=int, default=None,
                        help="customers for lifetimes' unweighted fit (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed runs of the crmmodels fits (lifetimes runs once)")
    parser.add_argument("--rtol", type=float, default=1e-6,
                        help="agreement required between the log-likelihoods")
    args = parser.parse_args(argv)

    summary = simulate(args.customers, args.seed)
    x, tx, t = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    (ux, utx, ut), counts, _ = compress(x, tx, t)
    print(f"Python {platform.python_version()}, numpy {np.__version__}, pandas "
          f"{pd.__version__}, crmmodels {crmmodels.__version__}, lifetimes "
          f"{lifetimes.__version__}")
    print(f"\n{args.customers:,} customers, {len(ux):,} distinct (frequency, recency, T) rows")

    model, t_ours = timed(lambda: ParetoNBDModel().fit(summary), args.repeat)
    weighted, t_weighted = timed(
        lambda: ParetoNBDFitter().fit(ux, utx, ut, weights=counts.astype(np.int64)))

    n_plain = min(args.plain_customers or args.customers, args.customers)
    plain_data = summary.iloc[:n_plain]
    plain, t_plain = timed(lambda: ParetoNBDFitter().fit(
        plain_data["frequency"].to_numpy(), plain_data["recency"].to_numpy(),
        plain_data["T"].to_numpy()))
    if n_plain < args.customers:
        model_small, t_ours_small = timed(lambda: ParetoNBDModel().fit(plain_data),
                                          args.repeat)
    else:
        model_small, t_ours_small = model, t_ours

    ll_ours = model.log_likelihood_
    ll_weighted = loglik(lifetimes_params(weighted), summary)
    ll_small = model_small.log_likelihood_
    ll_plain = loglik(lifetimes_params(plain), plain_data)
    rel_weighted = abs(ll_weighted - ll_ours) / abs(ll_ours)
    rel_plain = abs(ll_plain - ll_small) / abs(ll_small)

    rows = [
        ("crmmodels ParetoNBDModel().fit", args.customers, t_ours, ll_ours, model.params_),
        ("lifetimes fit(weights=counts)", args.customers, t_weighted, ll_weighted,
         pd.Series(lifetimes_params(weighted), index=NAMES)),
    ]
    if n_plain < args.customers:
        rows.append(("crmmodels ParetoNBDModel().fit", n_plain, t_ours_small, ll_small,
                     model_small.params_))
    rows.append(("lifetimes fit (every customer)", n_plain, t_plain, ll_plain,
                 pd.Series(lifetimes_params(plain), index=NAMES)))
    print()
    print("| fit | customers | seconds | log-likelihood | r | alpha | s | beta |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, n, sec, ll, p in rows:
        print(f"| {name} | {n:,} | {sec:.2f} | {ll:.2f} | "
              + " | ".join(f"{p[k]:.4f}" for k in NAMES) + " |")
    print()
    print(f"Log-likelihood relative difference: weighted {rel_weighted:.1e}, "
          f"plain {rel_plain:.1e} (required < {args.rtol:g})")
    if rel_weighted > args.rtol or rel_plain > args.rtol:
        print("The fits do not agree; no speed ratio is reported.")
        return 1
    print(f"\nHeadline: Pareto/NBD fit, {args.customers:,} customers: lifetimes weighted / "
          f"crmmodels = **{t_weighted / t_ours:.1f}x**")
    print(f"\nHeadline: Pareto/NBD fit, {n_plain:,} customers: lifetimes plain / crmmodels = "
          f"**{t_plain / t_ours_small:.1f}x**")
    return 0


if __name__ == "__main__":
    sys.exit(main())
