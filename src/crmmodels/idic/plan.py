"""Budgeted offer plans: the most expected value within a budget and offer capacities.

The problem, for customers ``i`` and offers ``j`` with expected value ``v[i, j]`` (net of
the offer's cost) and cost ``c[j]``::

    maximise    sum v[i, j] x[i, j]
    subject to  sum_j x[i, j] <= max_offers          for every customer i
                sum_ij c[j] x[i, j] <= budget
                sum_i x[i, j] <= capacity[j]          for every offer j
                x[i, j] in {0, 1}

Only pairs with a positive value can be worth choosing. Small plans are solved exactly
as an integer programme (:func:`scipy.optimize.milp`, HiGHS). Large ones by Lagrangian
relaxation: with a price ``lam`` on the budget and ``mu[j]`` on each capacity, every
customer takes their best offers by reduced value ``v - lam * c - mu``; the dual function

    D(lam, mu) = sum_i (sum of the customer's best max_offers positive reduced values)
                 + lam * budget + sum_j mu[j] * capacity[j]

is an upper bound on the plan's value for any non-negative prices (and its minimum is
the bound of the linear relaxation, because each customer's sub-problem is integral).
The prices are found by exact coordinate minimisation of ``D`` (each coordinate is a
one-dimensional convex piecewise-linear function), then a greedy repair in the order of
reduced value builds a feasible plan; its gap to the best ``D`` is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Plan", "solve_plan"]


@dataclass(frozen=True)
class Plan:
    """A chosen set of (customer, offer) pairs.

    Attributes
    ----------
    rows, cols : ndarray
        Customer and offer positions of the chosen pairs.
    value : float
        Total expected value of the plan.
    bound : float
        An upper bound on the best plan's value (the optimum itself for ``"exact"``).
    method : str
        ``"exact"`` or ``"lagrangian"``.
    prices : ndarray
        Lagrangian prices: the budget's first, then each offer's capacity (zeros for
        ``"exact"``).
    """

    rows: np.ndarray
    cols: np.ndarray
    value: float
    bound: float
    method: str
    prices: np.ndarray

    @property
    def gap(self) -> float:
        """Relative gap ``(bound - value) / bound`` (0 when the bound is 0; NaN unknown)."""
        if not np.isfinite(self.bound):
            return float("nan")
        return 0.0 if self.bound <= 0 else max(0.0, (self.bound - self.value) / self.bound)


def _candidates(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows, cols = np.nonzero(values > 0)
    return rows, cols, values[rows, cols]


def solve_exact(values: np.ndarray, costs: np.ndarray, budget: float | None,
                capacities: np.ndarray | None, max_offers: int,
                time_limit: float | None = None) -> Plan:
    """Solve the plan as an integer programme with :func:`scipy.optimize.milp`.

    Examples
    --------
    >>> import numpy as np
    >>> v = np.array([[5.0, 3.0], [4.0, 1.0]])
    >>> plan = solve_exact(v, np.array([2.0, 1.0]), budget=3.0, capacities=None,
    ...                    max_offers=1)
    >>> plan.value, sorted(zip(plan.rows.tolist(), plan.cols.tolist()))
    (7.0, [(0, 1), (1, 0)])
    """
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    n, m = values.shape
    rows, cols, v = _candidates(values)
    k = len(v)
    if k == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Plan(empty, empty, 0.0, 0.0, "exact", np.zeros(1 + m))
    idx = np.arange(k)
    blocks = [sp.csr_matrix((np.ones(k), (rows, idx)), shape=(n, k))]
    upper = [np.full(n, float(max_offers))]
    if budget is not None:
        blocks.append(sp.csr_matrix(costs[cols].reshape(1, -1)))
        upper.append(np.array([float(budget)]))
    if capacities is not None:
        blocks.append(sp.csr_matrix((np.ones(k), (cols, idx)), shape=(m, k)))
        upper.append(np.asarray(capacities, dtype=np.float64))
    a = sp.vstack(blocks, format="csr")
    constraint = LinearConstraint(a, -np.inf, np.concatenate(upper))
    result = milp(-v, constraints=constraint, integrality=np.ones(k, dtype=np.int64),
                  bounds=Bounds(0, 1),
                  options=None if time_limit is None else {"time_limit": float(time_limit)})
    if result.x is None:
        raise RuntimeError(f"the integer programme found no plan: {result.message}")
    chosen = result.x > 0.5
    value = float(v[chosen].sum())
    bound = value if result.status == 0 else float(-result.mip_dual_bound) \
        if getattr(result, "mip_dual_bound", None) is not None else np.inf
    return Plan(rows[chosen], cols[chosen], value, bound, "exact", np.zeros(1 + m))


def _top(reduced: np.ndarray, max_offers: int) -> np.ndarray:
    """Per customer, the sum of the best ``max_offers`` positive reduced values."""
    pos = np.maximum(reduced, 0.0)
    if max_offers >= reduced.shape[1]:
        return np.asarray(pos.sum(axis=1))
    if max_offers == 1:
        return np.asarray(pos.max(axis=1))
    part = np.partition(pos, reduced.shape[1] - max_offers, axis=1)
    return np.asarray(part[:, reduced.shape[1] - max_offers:].sum(axis=1))


def _dual(values: np.ndarray, costs: np.ndarray, lam: float, mu: np.ndarray,
          budget: float, capacities: np.ndarray, max_offers: int) -> float:
    reduced = values - lam * costs[None, :] - mu[None, :]
    return float(_top(reduced, max_offers).sum() + lam * budget + (mu * capacities).sum())


def _chosen(reduced: np.ndarray, max_offers: int) -> np.ndarray:
    """Boolean matrix of each customer's best ``max_offers`` positive reduced values."""
    m = reduced.shape[1]
    if max_offers >= m:
        return reduced > 0
    kth = np.partition(reduced, m - max_offers, axis=1)[:, m - max_offers]
    return (reduced >= kth[:, None]) & (reduced > 0)


def _minimise_coordinate(slopes_of: np.ndarray, weights: np.ndarray, level: float) -> float:
    """Minimise ``level * t + sum_i w_i max(s_i - t * w_i', ...)``: the weighted quantile.

    ``slopes_of`` are the break points (the price at which each customer stops taking
    the offer), ``weights`` how much each contributes to the constraint; the minimiser
    is the smallest non-negative price at which the weight of break points above it is
    at most ``level``.
    """
    if len(slopes_of) == 0:
        return 0.0
    order = np.argsort(-slopes_of, kind="stable")
    cum = np.cumsum(weights[order])
    over = np.searchsorted(cum, level, side="right")
    if over >= len(order):
        return 0.0
    return max(0.0, float(slopes_of[order][over]))


def solve_lagrangian(values: np.ndarray, costs: np.ndarray, budget: float | None,
                     capacities: np.ndarray | None, max_offers: int,
                     rounds: int = 30) -> Plan:
    """Price the budget and capacities, then repair greedily (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> v = np.array([[5.0, 3.0], [4.0, 1.0]])
    >>> plan = solve_lagrangian(v, np.array([2.0, 1.0]), budget=3.0, capacities=None,
    ...                         max_offers=1)
    >>> plan.value, plan.bound  # on two customers the repair is far from the bound
    (6.0, 7.0)
    """
    m = values.shape[1]
    work = np.where(values > 0, values, -np.inf)
    b = np.inf if budget is None else float(budget)
    cap = np.full(m, np.inf) if capacities is None else np.asarray(capacities, np.float64)
    lam, mu = 0.0, np.zeros(m)
    priced_b, priced_c = np.isfinite(b), np.isfinite(cap)

    def evaluate(lam: float, mu: np.ndarray) -> float:
        return _dual(work, costs, lam, mu, b if priced_b else 0.0,
                     np.where(priced_c, cap, 0.0), max_offers)

    best = evaluate(lam, mu)
    best_prices = (lam, mu.copy())
    if priced_b or priced_c.any():
        for _ in range(rounds):
            before = best
            if priced_b:
                lam = _price_budget(work, costs, mu, b, max_offers)
            for j in np.flatnonzero(priced_c):
                mu[j] = _price_capacity(work, costs, lam, mu, int(j), float(cap[j]), max_offers)
            current = evaluate(lam, mu)
            if current < best:
                best, best_prices = current, (lam, mu.copy())
            if before - current <= 1e-9 * max(1.0, abs(before)):
                break
    lam, mu = best_prices
    rows, cols = _repair(values, costs, lam, mu, b, cap, max_offers)
    value = float(values[rows, cols].sum())
    return Plan(rows, cols, value, max(best, value), "lagrangian", np.r_[lam, mu])


def _price_capacity(work: np.ndarray, costs: np.ndarray, lam: float, mu: np.ndarray,
                    j: int, cap: float, max_offers: int) -> float:
    """Find the capacity price of offer ``j`` minimising the dual, the others fixed."""
    reduced = work - lam * costs[None, :] - mu[None, :]
    reduced[:, j] = work[:, j] - lam * costs[j]  # offer j without its own price
    others = np.delete(reduced, j, axis=1)
    # Offer j stays among a customer's choices while its reduced value beats the
    # max_offers-th best other option (or 0): the break point of that customer.
    if max_offers > others.shape[1]:
        threshold = np.zeros(len(work))
    else:
        kth = np.partition(others, others.shape[1] - max_offers, axis=1)[
            :, others.shape[1] - max_offers]
        threshold = np.maximum(kth, 0.0)
    breaks = reduced[:, j] - threshold
    keep = np.isfinite(breaks) & (breaks > 0)
    return _minimise_coordinate(breaks[keep], np.ones(int(keep.sum())), cap)


def _price_budget(work: np.ndarray, costs: np.ndarray, mu: np.ndarray, budget: float,
                  max_offers: int) -> float:
    """Find the budget price minimising the dual, the capacity prices fixed (bisection)."""
    base = work - mu[None, :]

    def spend(lam: float) -> float:
        chosen = _chosen(base - lam * costs[None, :], max_offers)
        return float((chosen * costs[None, :]).sum())

    if spend(0.0) <= budget:
        return 0.0
    # Above the largest value per unit of cost no offer that costs anything is taken
    # (free offers do not count against the budget, whatever the price).
    paid = costs > 0
    part = base[:, paid]
    hi = float(np.max(np.where(np.isfinite(part), part, 0.0) / costs[paid][None, :])) + 1.0
    lo = 0.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if spend(mid) > budget:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * max(1.0, hi):
            break
    # The spend crosses the budget between lo and hi: hi keeps the plan within it.
    return hi


def _repair(values: np.ndarray, costs: np.ndarray, lam: float, mu: np.ndarray,
            budget: float, cap: np.ndarray, max_offers: int) -> tuple[np.ndarray, np.ndarray]:
    """Build a feasible plan: pairs in order of reduced value, each taken while it fits.

    Pairs whose reduced value is negative still follow (by value per unit of cost) to
    use what the priced plan leaves of the budget and capacities.
    """
    rows, cols, v = _candidates(values)
    reduced = v - lam * costs[cols] - mu[cols]
    ratio = v / np.maximum(costs[cols], 1e-12)
    first = reduced > 0
    order = np.r_[np.flatnonzero(first)[np.argsort(-reduced[first], kind="stable")],
                  np.flatnonzero(~first)[np.argsort(-ratio[~first], kind="stable")]]
    taken_rows: list[int] = []
    taken_cols: list[int] = []
    per_customer = np.zeros(values.shape[0], dtype=np.int64)
    left_cap = cap.astype(np.float64).copy()
    left = float(budget)
    cost_of = costs.tolist()
    for r, c in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if per_customer[r] >= max_offers or left_cap[c] < 1 or cost_of[c] > left + 1e-9:
            continue
        per_customer[r] += 1
        left_cap[c] -= 1
        left -= cost_of[c]
        taken_rows.append(r)
        taken_cols.append(c)
    return np.asarray(taken_rows, dtype=np.int64), np.asarray(taken_cols, dtype=np.int64)


def solve_plan(values: np.ndarray, costs: np.ndarray, *, budget: float | None = None,
               capacities: np.ndarray | None = None, max_offers: int = 1,
               method: str = "auto", exact_limit: int = 2_000,
               time_limit: float | None = 60.0) -> Plan:
    """Choose the offers: exactly for small plans, by Lagrangian relaxation for large ones.

    Parameters
    ----------
    values : ndarray (customers x offers)
        Expected value of each offer for each customer, net of its cost; pairs with a
        value of 0 or less are never chosen (NaN: not offered).
    costs : ndarray
        Cost of each offer (counts against ``budget``).
    budget : float, optional
    capacities : ndarray, optional
        Most customers per offer.
    max_offers : int, default 1
    method : {"auto", "exact", "lagrangian"}
        ``"auto"``: exact when at most ``exact_limit`` pairs have a positive value.
    exact_limit : int, default 2000
    time_limit : float, optional
        Seconds allowed to the integer programme.

    Returns
    -------
    Plan

    Examples
    --------
    >>> import numpy as np
    >>> plan = solve_plan(np.array([[5.0, 3.0], [4.0, 1.0]]), np.array([2.0, 1.0]),
    ...                   budget=3.0)
    >>> plan.method, plan.value
    ('exact', 7.0)
    """
    from crmmodels.core import numeric_array

    values = numeric_array(values, "values")
    costs = numeric_array(costs, "costs")
    if values.ndim != 2 or costs.shape != (values.shape[1],):
        raise ValueError(f"values must be customers x offers and costs one per offer, got "
                         f"shapes {values.shape} and {costs.shape}")
    values = np.where(np.isnan(values), -np.inf, values)
    positive = int((values > 0).sum())
    unconstrained = budget is None and capacities is None
    if method == "exact" or (method == "auto" and positive <= exact_limit
                             and not unconstrained):
        return solve_exact(values, costs, budget, capacities, max_offers, time_limit)
    return solve_lagrangian(values, costs, budget, capacities, max_offers)
