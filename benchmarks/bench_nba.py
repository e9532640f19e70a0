"""Benchmark: a budgeted next-best-action plan for 100,000 customers x 5 offers, one process.

Instance: expected values net of cost per (customer, offer), drawn with a shared
customer effect (some customers worth more for every offer), offer costs 1 to 8, a
budget that binds and a capacity per offer that binds (seeded, see ``instance``).

(a) crmmodels: ``NextBestAction(offers=..., budget=...).plan(values)`` end to end
    (checks, Lagrangian prices, greedy repair, the table with reasons);
(b) scipy's HiGHS on the linear relaxation (``scipy.optimize.linprog``), whose optimum
    bounds every plan from above;
(c) scipy's HiGHS integer programme (``scipy.optimize.milp``) with a time limit
    (``--milp-seconds``), as an exact solver would be used.

Printed: times, plan values, the gap of (a) to the LP optimum and the bound (a) reports.
The script exits with status 1 when (a)'s bound is not within 1e-6 of the LP optimum
or its plan is infeasible.

Run: ``python benchmarks/bench_nba.py [--customers 100000] [--milp-seconds 120]``.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from crmmodels.idic import NO_ACTION, NextBestAction

OFFERS = pd.DataFrame({"cost": [5.0, 2.0, 8.0, 1.0, 3.0],
                       "share": [0.2, 0.3, 0.1, 0.4, 0.25]},
                      index=["retention call", "voucher", "gift", "e-mail", "sms"])


def instance(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Values (customers x offers), the offers with cost and capacity, the budget."""
    rng = np.random.default_rng(seed)
    m = len(OFFERS)
    values = (rng.gamma(1.0, 10.0, (n, m)) * rng.uniform(0.5, 2.0, m)[None, :]
              - rng.uniform(0.0, 8.0, m)[None, :] + rng.normal(0.0, 5.0, (n, 1)))
    offers = pd.DataFrame({"cost": OFFERS["cost"],
                           "capacity": (n * OFFERS["share"]).astype(np.int64)})
    frame = pd.DataFrame(values, columns=OFFERS.index,
                         index=pd.Index([f"C{i}" for i in range(n)], name="customer_id"))
    return frame, offers, 0.6 * n


def constraints(values: np.ndarray, offers: pd.DataFrame, budget: float
                ) -> tuple[np.ndarray, sp.csr_matrix, np.ndarray]:
    """Objective and constraints over the pairs with a positive value."""
    n, m = values.shape
    rows, cols = np.nonzero(values > 0)
    k = len(rows)
    idx = np.arange(k)
    a = sp.vstack([sp.csr_matrix((np.ones(k), (rows, idx)), shape=(n, k)),
                   sp.csr_matrix(offers["cost"].to_numpy()[cols].reshape(1, -1)),
                   sp.csr_matrix((np.ones(k), (cols, idx)), shape=(m, k))], format="csr")
    upper = np.r_[np.ones(n), budget, offers["capacity"].to_numpy(dtype=float)]
    return values[rows, cols], a, upper


def main() -> int:
    """Run the benchmark; 1 when the plan is infeasible or its bound is not the LP's."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--milp-seconds", type=float, default=120.0)
    args = parser.parse_args()
    values, offers, budget = instance(args.customers)
    n, m = values.shape
    print(f"{n:,} customers x {m} offers, {int((values.to_numpy() > 0).sum()):,} pairs of "
          f"positive value, budget {budget:,.0f}, capacities "
          f"{offers['capacity'].tolist()}\n")
    nba = NextBestAction(offers=offers, budget=budget)
    t0 = time.perf_counter()
    table = nba.plan(values)
    ours_s = time.perf_counter() - t0
    chosen = table[table["next_best_action"] != NO_ACTION]
    ok = (chosen["cost"].sum() <= budget + 1e-6 and all(
        (chosen["next_best_action"] == o).sum() <= offers.loc[o, "capacity"]
        for o in offers.index) and table.index.is_unique)
    v, a, upper = constraints(values.to_numpy(), offers, budget)
    t0 = time.perf_counter()
    lp = linprog(-v, A_ub=a, b_ub=upper, bounds=(0, 1), method="highs")
    lp_s = time.perf_counter() - t0
    lp_value = float(-lp.fun)
    t0 = time.perf_counter()
    exact = milp(-v, constraints=LinearConstraint(a, -np.inf, upper),
                 integrality=np.ones(len(v), dtype=np.int64), bounds=Bounds(0, 1),
                 options={"time_limit": args.milp_seconds})
    milp_s = time.perf_counter() - t0
    milp_value = float(-exact.fun) if exact.x is not None else float("nan")
    ours = nba.summary_["value"]
    print("| step | s | plan value | gap to the LP optimum |\n|---|---:|---:|---:|")
    print(f"| (a) crmmodels `NextBestAction.plan` (Lagrangian, end to end) | {ours_s:.2f} | "
          f"{ours:,.1f} | {(lp_value - ours) / lp_value:.2e} |")
    print(f"| (b) scipy `linprog` (HiGHS), linear relaxation | {lp_s:.2f} | {lp_value:,.1f} "
          "(bound) | 0 |")
    state = {0: "optimal", 1: "stopped at the time limit"}.get(int(exact.status),
                                                              str(exact.message))
    print(f"| (c) scipy `milp` (HiGHS), time limit {args.milp_seconds:g} s: {state} | "
          f"{milp_s:.2f} | {milp_value:,.1f} | "
          f"{(lp_value - milp_value) / lp_value:.2e} |")
    bound_ok = abs(nba.summary_["bound"] - lp_value) <= 1e-6 * lp_value
    print(f"\nReported bound {nba.summary_['bound']:,.1f} (LP optimum {lp_value:,.1f}); plan "
          f"feasible: {ok}; reported gap {nba.summary_['gap']:.2e}")
    if not (ok and bound_ok):
        print("\nPLAN INFEASIBLE OR BOUND NOT THE LP OPTIMUM: no ratio printed")
        return 1
    print(f"\nHeadline: next best action, {n:,} customers x {m} offers: **{ours_s:.2f} s** "
          f"within {(lp_value - ours) / lp_value:.2e} of the LP bound (bars 10 s and 0.5%); "
          f"scipy linprog / crmmodels = **{lp_s / ours_s:.0f}x**")
    return 0


if __name__ == "__main__":
    sys.exit(main())
