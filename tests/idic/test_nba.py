"""Next best action: plans against brute force and the LP bound, limits, reasons, rules."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from crmmodels.errors import DataValidationError, InvalidParameterError, MissingColumnError
from crmmodels.idic import DEFAULT_RULES, NO_ACTION, NextBestAction, solve_plan
from crmmodels.idic.plan import solve_exact, solve_lagrangian


def brute_force(values: np.ndarray, costs: np.ndarray, budget: float | None,
                caps: np.ndarray | None, max_offers: int) -> float:
    """Best plan value by enumerating every set of at most max_offers offers per customer."""
    n, m = values.shape
    options = [s for r in range(max_offers + 1) for s in itertools.combinations(range(m), r)]
    best = 0.0
    for plan in itertools.product(options, repeat=n):
        taken = [j for chosen in plan for j in chosen]
        if budget is not None and sum(costs[j] for j in taken) > budget + 1e-9:
            continue
        if caps is not None and any(taken.count(j) > caps[j] for j in range(m)):
            continue
        best = max(best, sum(values[i, j] for i, chosen in enumerate(plan) for j in chosen))
    return best


def feasible(rows: np.ndarray, cols: np.ndarray, costs: np.ndarray, budget: float | None,
             caps: np.ndarray | None, max_offers: int) -> bool:
    ok = bool((np.bincount(rows, minlength=1) <= max_offers).all()) if len(rows) else True
    if budget is not None:
        ok &= float(costs[cols].sum()) <= budget + 1e-9
    if caps is not None:
        ok &= bool((np.bincount(cols, minlength=len(caps)) <= caps).all())
    return ok


def random_instance(rng: np.random.Generator, n: int, m: int
                    ) -> tuple[np.ndarray, np.ndarray, float | None, np.ndarray | None]:
    values = np.round(rng.normal(2.0, 3.0, (n, m)), 2)
    costs = np.round(rng.uniform(0.5, 3.0, m), 2)
    budget = float(np.round(rng.uniform(1.0, 8.0), 2)) if rng.random() < 0.8 else None
    caps = rng.integers(0, 4, m) if rng.random() < 0.7 else None
    return values, costs, budget, caps


@pytest.mark.parametrize("max_offers", [1, 2])
def test_exact_plans_equal_brute_force_and_lagrangian_plans_are_bounded(max_offers: int) -> None:
    rng = np.random.default_rng(max_offers)
    for _ in range(60):
        n, m = int(rng.integers(2, 6)), int(rng.integers(1, 4))
        values, costs, budget, caps = random_instance(rng, n, m)
        best = brute_force(values, costs, budget, caps, max_offers)
        exact = solve_exact(values, costs, budget, caps, max_offers)
        assert exact.value == pytest.approx(best, abs=1e-9)
        assert feasible(exact.rows, exact.cols, costs, budget, caps, max_offers)
        lagr = solve_lagrangian(values, costs, budget, caps, max_offers)
        assert feasible(lagr.rows, lagr.cols, costs, budget, caps, max_offers)
        assert lagr.value <= best + 1e-9
        assert lagr.bound >= best - 1e-9  # a valid upper bound


def lp_bound(values: np.ndarray, costs: np.ndarray, budget: float,
             caps: np.ndarray | None) -> float:
    """Solve the linear relaxation with scipy's HiGHS (in the test) and return its optimum."""
    import scipy.sparse as sp
    from scipy.optimize import linprog

    n, m = values.shape
    rows, cols = np.nonzero(values > 0)
    v = values[rows, cols]
    k = len(v)
    idx = np.arange(k)
    blocks = [sp.csr_matrix((np.ones(k), (rows, idx)), shape=(n, k)),
              sp.csr_matrix(costs[cols].reshape(1, -1))]
    upper = [np.ones(n), np.array([budget])]
    if caps is not None:
        blocks.append(sp.csr_matrix((np.ones(k), (cols, idx)), shape=(m, k)))
        upper.append(caps.astype(float))
    res = linprog(-v, A_ub=sp.vstack(blocks).tocsr(), b_ub=np.concatenate(upper),
                  bounds=(0, 1), method="highs")
    return float(-res.fun)


def large_instance(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = (rng.gamma(1.0, 10.0, (n, 5)) * rng.uniform(0.5, 2.0, 5)[None, :]
              - rng.uniform(0.0, 8.0, 5)[None, :] + rng.normal(0.0, 5.0, (n, 1)))
    costs = np.array([5.0, 2.0, 8.0, 1.0, 3.0])
    caps = (n * np.array([0.2, 0.3, 0.1, 0.4, 0.25])).astype(np.int64)
    return values, costs, 0.6 * n, caps


@pytest.mark.parametrize("seed", [0, 1])
def test_lagrangian_dual_bound_equals_the_lp_bound_and_the_plan_is_within_half_a_percent(
        seed: int) -> None:
    values, costs, budget, caps = large_instance(4_000, seed)
    plan = solve_lagrangian(values, costs, budget, caps, 1)
    lp = lp_bound(values, costs, budget, caps)
    assert plan.bound == pytest.approx(lp, rel=1e-6)
    assert plan.value >= 0.995 * lp
    assert feasible(plan.rows, plan.cols, costs, budget, caps, 1)


def test_100k_customers_5_offers_within_half_a_percent_of_the_bound() -> None:
    values, costs, budget, caps = large_instance(100_000, 3)
    plan = solve_plan(values, costs, budget=budget, capacities=caps)
    assert plan.method == "lagrangian"
    # The bound is the dual function at the prices found: an upper bound on every plan
    # (weak duality), checked equal to the LP bound on smaller instances above.
    assert plan.gap <= 0.005
    assert feasible(plan.rows, plan.cols, costs, budget, caps, 1)


@pytest.fixture
def offers() -> pd.DataFrame:
    return pd.DataFrame({"cost": [5.0, 1.0, 2.0], "capacity": [2, None, 1]},
                        index=["call", "email", "voucher"])


def test_plan_table_respects_budget_capacity_and_gives_reasons(offers: pd.DataFrame) -> None:
    rng = np.random.default_rng(4)
    values = pd.DataFrame(rng.normal(3.0, 4.0, (8, 3)), columns=offers.index,
                          index=pd.Index([f"c{i}" for i in range(8)], name="customer_id"))
    values.iloc[0, :] = -1.0  # nothing worth offering
    values.iloc[1, 0] = np.nan  # no call for customer c1
    nba = NextBestAction(offers=offers, budget=9.0)
    table = nba.plan(values)
    assert list(table.columns) == ["next_best_action", "expected_value", "cost", "reason"]
    assert table.index.equals(values.index)
    chosen = table[table["next_best_action"] != NO_ACTION]
    assert chosen["cost"].sum() <= 9.0
    assert (chosen["next_best_action"] == "call").sum() <= 2
    assert (chosen["next_best_action"] == "voucher").sum() <= 1
    assert table.loc["c0", "next_best_action"] == NO_ACTION
    assert table.loc["c0", "reason"] == "no offer has a positive expected value"
    assert table.loc["c1", "next_best_action"] != "call"
    # Each chosen value is the customer's value of that offer.
    for customer, row in chosen.iterrows():
        assert row["expected_value"] == values.loc[customer, row["next_best_action"]]
    # The plan is the best one: brute force over the same instance.
    matrix = values.to_numpy()
    caps = np.array([2, 10, 1])  # email has no limit: 10 is more than the customers
    best = brute_force(np.where(np.isnan(matrix), -1.0, matrix), offers["cost"].to_numpy(),
                       9.0, caps, 1)
    assert table["expected_value"].sum() == pytest.approx(best)
    assert nba.summary_["method"] == "exact"
    assert nba.summary_["value"] == pytest.approx(best)


def test_several_offers_per_customer_give_one_row_each(offers: pd.DataFrame) -> None:
    values = pd.DataFrame({"call": [9.0, 1.0], "email": [4.0, -1.0], "voucher": [3.0, -2.0]},
                          index=["a", "b"])
    table = NextBestAction(offers=offers, max_offers=2).plan(values)
    assert table.loc["a", "next_best_action"].tolist() == ["call", "email"]
    assert table.loc[["b"], "next_best_action"].tolist() == ["call"]


def test_bad_plans_are_refused(offers: pd.DataFrame) -> None:
    values = pd.DataFrame({"call": [9.0], "email": [4.0]}, index=["a"])
    with pytest.raises(DataValidationError, match="below the cheapest offer"):
        NextBestAction(offers=offers, budget=0.5).plan(values)
    with pytest.raises(DataValidationError, match="not offers"):
        NextBestAction(offers=offers).plan(values.assign(sms=1.0))
    with pytest.raises(DataValidationError, match="finite"):
        NextBestAction(offers=offers).plan(values.assign(call=np.inf))
    with pytest.raises(MissingColumnError):
        NextBestAction(offers=offers.drop(columns="cost"))
    with pytest.raises(DataValidationError, match="costs"):
        NextBestAction(offers=offers.assign(cost=[-1.0, 1.0, 1.0]))
    with pytest.raises(DataValidationError, match="capacities"):
        NextBestAction(offers=offers.assign(capacity=[2, "lots", None]))
    with pytest.raises(InvalidParameterError, match="max_offers"):
        NextBestAction(offers=offers, max_offers=0)
    with pytest.raises(InvalidParameterError, match="needs offers"):
        NextBestAction().plan(values)
    with pytest.raises(TypeError, match="DataFrame"):
        NextBestAction(offers=offers).plan(values.to_numpy())  # type: ignore[arg-type]


def test_default_rules_cover_every_profile_and_say_why() -> None:
    grid = pd.DataFrame(list(itertools.product(
        ["A", "B", "C"], ["prospect", "new", "growing", "stable", "declining", "lapsed",
                          "churned"], ["high", "low"], [True, False])),
        columns=["value_tier", "lifecycle_stage", "churn_risk", "fraud_alert"])
    out = NextBestAction().by_rules(grid)
    assert (out["rule"] >= 0).all()
    assert out["reason"].str.len().gt(0).all()
    # Checked by hand against the documented table: first matching row wins.
    def expect(tier: str, stage: str, risk: str, fraud: bool) -> str:
        if fraud:
            return "fraud review"
        if stage == "churned":
            return {"A": "win-back call", "B": "win-back offer", "C": NO_ACTION}[tier]
        if risk == "high":
            return {"A": "retention call", "B": "retention offer", "C": "retention e-mail"}[tier]
        stage_action = {"prospect": "first-purchase offer", "new": "welcome series",
                        "declining": "re-engagement offer", "lapsed": "reactivation offer"}
        if stage in stage_action:
            return stage_action[stage]
        return {"A": "loyalty reward", "B": "cross-sell offer", "C": NO_ACTION}[tier]
    wanted = [expect(*row) for row in grid.itertuples(index=False)]
    assert out["next_best_action"].tolist() == wanted


def test_rules_can_be_replaced_and_conflicts_are_refused() -> None:
    rules = pd.DataFrame([("*", "*", "high", "*", "call", "at risk"),
                          ("*", "*", "*", "*", NO_ACTION, "otherwise")],
                         columns=list(DEFAULT_RULES.columns))
    profile = pd.DataFrame({"value_tier": ["A", "B"], "lifecycle_stage": ["new", "new"],
                            "churn_risk": ["high", "low"], "fraud_alert": [False, False]},
                           index=["a", "b"])
    values = pd.DataFrame({"call": [12.0, 3.0]}, index=["a", "b"])
    out = NextBestAction(rules=rules).by_rules(profile, values)
    assert out["next_best_action"].tolist() == ["call", NO_ACTION]
    assert out["expected_value"].tolist() == [12.0, 0.0]
    clash = pd.concat([rules, rules.iloc[[0]].assign(action="email")], ignore_index=True)
    with pytest.raises(DataValidationError, match="same conditions"):
        NextBestAction(rules=clash)
    with pytest.raises(MissingColumnError):
        NextBestAction().by_rules(profile.drop(columns="churn_risk"))


def test_a_free_offer_does_not_break_the_budget_price() -> None:
    rng = np.random.default_rng(11)
    values = rng.gamma(1.0, 10.0, (3_000, 3)) - 3.0
    costs = np.array([0.0, 2.0, 5.0])
    exact = solve_exact(values, costs, 1_000.0, None, 1)
    lagr = solve_lagrangian(values, costs, 1_000.0, None, 1)
    assert feasible(lagr.rows, lagr.cols, costs, 1_000.0, None, 1)
    assert lagr.value >= 0.995 * exact.value
    assert lagr.gap <= 0.005


def test_unknown_bound_gives_an_unknown_gap() -> None:
    from crmmodels.idic import Plan

    empty = np.zeros(0, dtype=np.int64)
    assert np.isnan(Plan(empty, empty, 5.0, np.inf, "exact", np.zeros(1)).gap)


def test_repeated_or_unreadable_values_are_refused(offers: pd.DataFrame) -> None:
    twice = pd.DataFrame([[30.0, 29.0]], columns=["call", "call"], index=["a"])
    with pytest.raises(DataValidationError, match="twice"):
        NextBestAction(offers=offers).plan(twice)
    text = pd.DataFrame({"call": ["30,5"], "email": [4.0]}, index=["a"])
    with pytest.raises(DataValidationError, match="not numbers"):
        NextBestAction(offers=offers).plan(text)
