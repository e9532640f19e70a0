"""Customize: the next best action of each customer, by budgeted plan or by rule table."""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from crmmodels.core import Interval, Options, check_params
from crmmodels.errors import DataValidationError, InvalidParameterError, MissingColumnError
from crmmodels.idic.plan import Plan, solve_plan

__all__ = ["DEFAULT_RULES", "NO_ACTION", "RULE_CONDITIONS", "NextBestAction"]

NO_ACTION = "no action"
# Columns a rule table matches on, in this order; "*" matches anything.
RULE_CONDITIONS = ("value_tier", "lifecycle_stage", "churn_risk", "fraud_alert")

#: The default rule table, first matching row wins (``"*"`` matches any value). Value
#: tiers are ABC tiers (A: the customers holding 80% of the value), lifecycle stages
#: those of :class:`~crmmodels.segments.LifecycleModel`, churn risk ``"high"`` or
#: ``"low"`` and the fraud alert ``True`` or ``False``.
DEFAULT_RULES = pd.DataFrame([
    ("*", "*", "*", True, "fraud review", "fraud alert: hold every offer until reviewed"),
    ("A", "churned", "*", "*", "win-back call", "a top-tier customer has churned"),
    ("B", "churned", "*", "*", "win-back offer", "a mid-tier customer has churned"),
    ("C", "churned", "*", "*", NO_ACTION, "a low-value churned customer: a win-back costs more "
     "than it brings back"),
    ("A", "*", "high", "*", "retention call", "a top-tier customer at high churn risk"),
    ("B", "*", "high", "*", "retention offer", "a mid-tier customer at high churn risk"),
    ("C", "*", "high", "*", "retention e-mail", "a low-value customer at high churn risk: "
     "automated contact only"),
    ("*", "prospect", "*", "*", "first-purchase offer", "a prospect who has not bought yet"),
    ("*", "new", "*", "*", "welcome series", "a new customer: onboarding"),
    ("*", "declining", "*", "*", "re-engagement offer", "buying less than before"),
    ("*", "lapsed", "*", "*", "reactivation offer", "no purchase for longer than usual"),
    ("A", "*", "*", "*", "loyalty reward", "a top-tier customer, stable or growing"),
    ("B", "*", "*", "*", "cross-sell offer", "a mid-tier customer with room to grow"),
    ("*", "*", "*", "*", NO_ACTION, "no rule asks for an action"),
], columns=[*RULE_CONDITIONS, "action", "reason"])


def _check_rules(rules: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(rules, pd.DataFrame):
        raise TypeError(f"rules must be a DataFrame, got {type(rules).__name__}")
    for column in (*RULE_CONDITIONS, "action", "reason"):
        if column not in rules.columns:
            raise MissingColumnError("rules", column, list(rules.columns))
    table = rules[[*RULE_CONDITIONS, "action", "reason"]].reset_index(drop=True)
    keys = table[list(RULE_CONDITIONS)].astype(str)
    same = keys.duplicated(keep=False)
    if same.any():
        groups = table[same].groupby(keys[same].apply(tuple, axis=1).to_numpy())["action"]
        clash = [cond for cond, acts in groups if acts.nunique() > 1]
        if clash:
            raise DataValidationError(
                f"rules {clash[:3]} name the same conditions with different actions; keep "
                "one row per set of conditions", frame="rules", rule="conflicting_rules")
    if table["action"].isna().any() or table["reason"].isna().any():
        raise DataValidationError("every rule needs an action and a reason", frame="rules",
                                  rule="not_null")
    return table


class NextBestAction:
    """Choose each customer's next best action: a budgeted plan, or a rule table.

    **Plan** (:meth:`plan`): given each customer's expected value of each offer (net of
    the offer's cost), choose at most ``max_offers`` offers per customer, keeping the
    offers' total cost within ``budget`` and each offer within its capacity, to maximise
    the total expected value. Up to ``exact_limit`` candidate pairs (a positive value)
    the plan is solved exactly as an integer programme (:func:`scipy.optimize.milp`,
    HiGHS); above, by Lagrangian relaxation (a price on the budget and on each capacity)
    with a greedy repair, and ``summary_`` reports the gap to an upper bound (the
    relaxation's; any plan is at most that good). "No action" is an action, with its
    reason.

    **Rules** (:meth:`by_rules`): the first row of the rule table (default
    :data:`DEFAULT_RULES`) whose conditions match the customer's ``value_tier``,
    ``lifecycle_stage``, ``churn_risk`` and ``fraud_alert`` (``"*"`` matches anything)
    gives the action and its reason. Rows with the same conditions and different
    actions are refused.

    Parameters
    ----------
    offers : DataFrame, optional
        For :meth:`plan`: one row per offer, indexed by the offer's name, with ``cost``
        and optionally ``capacity`` (most customers; missing means no limit, text that is
        not a number is refused).
    budget : float, optional
        Total cost allowed (None: no budget).
    max_offers : int, default 1
    method : {"auto", "exact", "lagrangian"}, default "auto"
    exact_limit : int, default 2000
        Largest number of candidate pairs solved exactly by ``"auto"``.
    time_limit : float, default 60
        Seconds allowed to the integer programme (its best plan and bound are used
        when it stops early).
    rules : DataFrame, optional
        Rule table for :meth:`by_rules`: columns ``value_tier, lifecycle_stage,
        churn_risk, fraud_alert, action, reason``; default :data:`DEFAULT_RULES`.

    Attributes
    ----------
    summary_ : dict
        After :meth:`plan`: ``method``, ``value``, ``bound``, ``gap``, ``spend``,
        ``budget``, ``customers``, ``actions`` (customers per offer).

    Examples
    --------
    >>> import pandas as pd
    >>> offers = pd.DataFrame({"cost": [5.0, 1.0], "capacity": [1, None]},
    ...                       index=["call", "email"])
    >>> values = pd.DataFrame({"call": [30.0, 20.0, -1.0], "email": [4.0, 6.0, -0.5]},
    ...                       index=pd.Index(["a", "b", "c"], name="customer_id"))
    >>> nba = NextBestAction(offers=offers, budget=10.0)
    >>> nba.plan(values)[["next_best_action", "expected_value"]]
                next_best_action  expected_value
    customer_id
    a                       call            30.0
    b                      email             6.0
    c                  no action             0.0
    """

    _constraints: Mapping[str, Any] = {
        "budget": [None, Interval(Real, 0, None)],
        "max_offers": [Interval(Integral, 1, None)],
        "method": [Options({"auto", "exact", "lagrangian"})],
        "exact_limit": [Interval(Integral, 0, None)],
        "time_limit": [None, Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, *, offers: pd.DataFrame | None = None, budget: float | None = None,
                 max_offers: int = 1, method: str = "auto", exact_limit: int = 2_000,
                 time_limit: float | None = 60.0, rules: pd.DataFrame | None = None) -> None:
        check_params("NextBestAction", {"budget": budget, "max_offers": max_offers,
                                        "method": method, "exact_limit": exact_limit,
                                        "time_limit": time_limit}, self._constraints)
        self.offers = None if offers is None else self._check_offers(offers)
        self.budget = budget
        self.max_offers = int(max_offers)
        self.method = method
        self.exact_limit = int(exact_limit)
        self.time_limit = time_limit
        self.rules = _check_rules(DEFAULT_RULES if rules is None else rules)

    @staticmethod
    def _check_offers(offers: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(offers, pd.DataFrame):
            raise TypeError(f"offers must be a DataFrame indexed by offer, got "
                            f"{type(offers).__name__}")
        if "cost" not in offers.columns:
            raise MissingColumnError("offers", "cost", list(offers.columns))
        if not offers.index.is_unique:
            raise DataValidationError("offers must have one row per offer (a unique index)",
                                      frame="offers", rule="unique")
        if NO_ACTION in offers.index:
            raise DataValidationError(f"{NO_ACTION!r} is not an offer name", frame="offers",
                                      rule="reserved")
        cost = pd.to_numeric(offers["cost"], errors="coerce")
        if cost.isna().any() or (cost < 0).any() or not np.isfinite(cost).all():
            raise DataValidationError("offer costs must be finite numbers >= 0",
                                      frame="offers", column="cost", rule="non_negative")
        out = pd.DataFrame({"cost": cost.astype(np.float64)}, index=offers.index.astype(str))
        if "capacity" in offers.columns:
            cap = pd.to_numeric(offers["capacity"], errors="coerce")
            given = cap.notna()
            # Missing means no limit; text that is not a number is an error, not "no limit".
            unreadable = offers["capacity"].notna() & ~given
            if unreadable.any() or (cap[given] < 0).any() or (cap[given] % 1 != 0).any():
                raise DataValidationError("offer capacities must be whole numbers >= 0",
                                          frame="offers", column="capacity",
                                          rule="non_negative")
            out["capacity"] = cap.to_numpy(dtype=np.float64)
        return out

    # ------------------------------------------------------------------ plan
    def plan(self, values: pd.DataFrame) -> pd.DataFrame:
        """Choose the offers that maximise the total expected value within the limits.

        Parameters
        ----------
        values : DataFrame
            One row per customer (the index names them), one column per offer of
            ``offers``: the expected incremental value net of the offer's cost. NaN:
            the offer is not available to that customer.

        Returns
        -------
        DataFrame
            Indexed like ``values``: ``next_best_action`` (an offer, or ``"no action"``),
            ``expected_value`` (0 for no action), ``cost`` and ``reason``. With
            ``max_offers`` above 1, one row per chosen offer (customers without one keep
            a single ``"no action"`` row), best first.
        """
        if self.offers is None:
            raise InvalidParameterError("NextBestAction.plan needs offers= (cost and "
                                        "capacity per offer)")
        if not isinstance(values, pd.DataFrame):
            raise TypeError(f"values must be a DataFrame (customers x offers), got "
                            f"{type(values).__name__}")
        missing = [o for o in values.columns.astype(str) if o not in self.offers.index]
        if missing:
            raise DataValidationError(f"values has columns {missing[:5]} that are not offers "
                                      f"({list(self.offers.index)})", frame="values",
                                      rule="unknown_offer")
        if not values.index.is_unique:
            raise DataValidationError("values must have one row per customer",
                                      frame="values", rule="unique")
        if values.columns.duplicated().any():
            raise DataValidationError(
                f"values names an offer twice: "
                f"{values.columns[values.columns.duplicated()].unique().tolist()}",
                frame="values", rule="unique")
        offers = self.offers.loc[values.columns.astype(str)]
        numbers = values.apply(pd.to_numeric, errors="coerce")
        unreadable = values.notna().to_numpy() & numbers.isna().to_numpy()
        if unreadable.any():
            rows, cols = np.nonzero(unreadable)
            raise DataValidationError(
                f"values holds {int(unreadable.sum())} entries that are not numbers, e.g. "
                f"{values.iat[rows[0], cols[0]]!r} for {values.index[rows[0]]!r} and "
                f"{values.columns[cols[0]]!r} (NaN means: not offered)", frame="values",
                rule="numeric", rows=values.index[rows][:5].tolist(), n_rows=len(rows))
        matrix = numbers.to_numpy(dtype=np.float64)
        bad = np.isinf(matrix)
        if bad.any():
            raise DataValidationError("expected values must be finite (NaN: not offered)",
                                      frame="values", rule="finite", n_rows=int(bad.sum()))
        costs = offers["cost"].to_numpy()
        if self.budget is not None and len(costs) and (costs > 0).all() and \
                self.budget < costs.min():
            raise DataValidationError(
                f"the budget {self.budget:g} is below the cheapest offer's cost "
                f"{costs.min():g}: no offer can be made", frame="offers", rule="budget")
        caps = None
        if "capacity" in offers.columns:
            c = offers["capacity"].to_numpy()
            caps = np.where(np.isnan(c), np.inf, c) if np.isnan(c).any() else c
        found = solve_plan(matrix, costs, budget=self.budget, capacities=caps,
                           max_offers=self.max_offers, method=self.method,
                           exact_limit=self.exact_limit, time_limit=self.time_limit)
        return self._table(values, offers, matrix, found, caps)

    def _table(self, values: pd.DataFrame, offers: pd.DataFrame, matrix: np.ndarray,
               found: Plan, caps: np.ndarray | None) -> pd.DataFrame:
        names = offers.index.to_numpy(dtype=object)
        costs = offers["cost"].to_numpy()
        n = len(values)
        chosen = pd.DataFrame({"row": found.rows, "offer": names[found.cols],
                               "expected_value": matrix[found.rows, found.cols],
                               "cost": costs[found.cols]})
        chosen["reason"] = [f"highest expected value within the limits ({v:,.2f} net of "
                            f"cost {c:,.2f})" for v, c in
                            zip(chosen["expected_value"], chosen["cost"], strict=True)]
        none = np.setdiff1d(np.arange(n), found.rows)
        offered = np.where(np.isnan(matrix), -np.inf, matrix)
        spend = float(chosen["cost"].sum())
        if matrix.shape[1]:
            best = offered[none].max(axis=1)
            best_cost = costs[offered[none].argmax(axis=1)]
        else:
            best, best_cost = np.full(len(none), -np.inf), np.zeros(len(none))
        over_budget = (self.budget is not None) & (spend + best_cost > (
            self.budget if self.budget is not None else np.inf) + 1e-9)
        reasons = np.where(
            ~np.isfinite(best) | (best <= 0), "no offer has a positive expected value",
            np.where(over_budget, "the budget went to customers of higher expected value",
                     "the offers' capacity went to customers of higher expected value"))
        idle = pd.DataFrame({"row": none, "offer": NO_ACTION, "expected_value": 0.0,
                             "cost": 0.0, "reason": reasons})
        out = pd.concat([chosen, idle], ignore_index=True).sort_values(
            ["row", "expected_value"], ascending=[True, False], kind="stable")
        index = values.index[out["row"].to_numpy()]
        table = pd.DataFrame({"next_best_action": out["offer"].to_numpy(dtype=object),
                              "expected_value": out["expected_value"].to_numpy(),
                              "cost": out["cost"].to_numpy(),
                              "reason": out["reason"].to_numpy(dtype=object)}, index=index)
        counts = chosen["offer"].value_counts()
        self.summary_ = {"method": found.method, "value": found.value, "bound": found.bound,
                         "gap": found.gap, "spend": spend, "budget": self.budget,
                         "customers": n,
                         "actions": {str(k): int(counts.get(k, 0)) for k in names}}
        return table

    # ------------------------------------------------------------------ rules
    def by_rules(self, profile: pd.DataFrame,
                 values: pd.DataFrame | None = None) -> pd.DataFrame:
        """Apply the rule table: the first matching row gives each customer's action.

        Parameters
        ----------
        profile : DataFrame
            One row per customer with ``value_tier``, ``lifecycle_stage``,
            ``churn_risk`` and ``fraud_alert``.
        values : DataFrame, optional
            Expected values (customers x actions) to report beside each action (NaN
            where an action has none).

        Returns
        -------
        DataFrame
            Indexed like ``profile``: ``next_best_action``, ``expected_value``,
            ``reason`` and ``rule`` (the position of the matching row).

        Examples
        --------
        >>> import pandas as pd
        >>> profile = pd.DataFrame({"value_tier": ["A", "C"], "lifecycle_stage": ["stable",
        ...                         "churned"], "churn_risk": ["high", "low"],
        ...                         "fraud_alert": [False, False]}, index=["a", "b"])
        >>> NextBestAction().by_rules(profile)["next_best_action"].tolist()
        ['retention call', 'no action']
        """
        if not isinstance(profile, pd.DataFrame):
            raise TypeError(f"profile must be a DataFrame, got {type(profile).__name__}")
        for column in RULE_CONDITIONS:
            if column not in profile.columns:
                raise MissingColumnError("profile", column, list(profile.columns))
        n = len(profile)
        rule_of = np.full(n, -1, dtype=np.int64)
        open_rows = np.ones(n, dtype=bool)
        # Each condition column as matching keys, once (booleans and their text alike).
        keys = {c: profile[c].map(_match_key).to_numpy(dtype=object) for c in RULE_CONDITIONS}
        for k, rule in self.rules.iterrows():
            match = open_rows.copy()
            for column in RULE_CONDITIONS:
                want = rule[column]
                if isinstance(want, str) and want == "*":
                    continue
                match &= keys[column] == _match_key(want)
            rule_of[match] = int(str(k))
            open_rows &= ~match
        actions = np.where(rule_of >= 0, self.rules["action"].to_numpy(dtype=object)[
            np.maximum(rule_of, 0)], NO_ACTION)
        reasons = np.where(rule_of >= 0, self.rules["reason"].to_numpy(dtype=object)[
            np.maximum(rule_of, 0)], "no rule matches")
        expected = np.full(n, np.nan)
        if values is not None:
            expected[actions == NO_ACTION] = 0.0
            aligned = values.reindex(profile.index)
            for action in set(actions) & set(aligned.columns):
                rows = actions == action
                expected[rows] = aligned[action].to_numpy(dtype=np.float64)[rows]
        return pd.DataFrame({"next_best_action": actions, "expected_value": expected,
                             "reason": reasons, "rule": rule_of}, index=profile.index)


def _match_key(value: object) -> str:
    """Text a rule condition is matched on: booleans and their text (any case) alike."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    text = str(value)
    return text.lower() if text.lower() in ("true", "false") else text
