"""ABC (Pareto) value tiers: which few customers hold most of the value.

Customers are ranked by value, highest first. Tier ``A`` holds about the first
``shares[0]`` (80 %) of the total value, tier ``B`` the next ``shares[1]`` (15 %) and
tier ``C`` the rest (5 %).

The rule, precisely. For a customer with value ``v`` let ``above(v)`` be the share of
the total value held by customers with a value *strictly greater* than ``v``. With
cumulative bounds ``b_k = shares[0] + ... + shares[k]`` the customer's tier is the
first tier ``k`` with ``above(v) < b_k``. So the customer who crosses a bound still
belongs to the tier being filled (tier ``A`` holds at least 80 % of the value, and is
never empty), and customers with equal values always get the same tier (ties are
never split). ``fit`` stores the smallest value of each tier as ``thresholds_``;
``score`` assigns tiers from those value cut-offs, so new data is tiered on the
training scale.
"""

from __future__ import annotations

import math
import string
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmmodels.core import ColumnName, Constraint, CRMModel, Predicate, numeric_array
from crmmodels.data import CRMData, customer_aggregates
from crmmodels.errors import DataValidationError, MissingColumnError

__all__ = ["ABCModel", "gini"]

_TOL = 1e-9


def _valid_shares(v: Any) -> bool:
    if not isinstance(v, tuple | list) or not 2 <= len(v) <= 26:
        return False
    if not all(isinstance(s, int | float) and not isinstance(s, bool) for s in v):
        return False
    arr = np.asarray(v, dtype=float)
    return bool(np.all(np.isfinite(arr)) and np.all(arr > 0) and abs(arr.sum() - 1.0) <= 1e-9)


def gini(values: np.ndarray | pd.Series) -> float:
    """Gini coefficient of non-negative values (0: all equal, near 1: one holds all).

    Computed from the sorted values as ``sum((2 i - n - 1) x_(i)) / (n sum(x))``,
    ``i = 1..n``, which equals the mean absolute difference over all pairs divided by
    twice the mean.

    Parameters
    ----------
    values : array-like of float
        Non-negative values, at least one of them positive.

    Returns
    -------
    float

    Examples
    --------
    >>> gini(np.array([1.0, 1.0, 1.0, 1.0]))
    0.0
    >>> gini(np.array([0.0, 0.0, 0.0, 10.0]))
    0.75
    """
    x = np.sort(numeric_array(values, "gini: values"))
    n = len(x)
    total = float(x.sum())
    if n == 0 or total <= 0:
        return float("nan")
    i = np.arange(1, n + 1, dtype=float)
    return float(np.sum((2 * i - n - 1) * x) / (n * total))


class ABCModel(CRMModel):
    """ABC / Pareto value tiers with value concentration figures.

    Parameters
    ----------
    shares : tuple of float, default (0.8, 0.15, 0.05)
        Share of the total value each tier holds, best tier first; positive and adding
        up to 1. Tiers are named ``"A"``, ``"B"``, ``"C"`` (and ``"D"``, ... when more
        shares are given).
    value : str, default "monetary"
        ``"monetary"``: a customer's value is their total spend (sum of ``amount``,
        rounded to 9 decimals) in the transactions; customers of a customers frame
        without a purchase have value 0. ``"clv"``: the ``clv`` column of
        ``data.customers`` when there is one, else the CLV over the next 52 weeks from
        a :class:`~crmmodels.cltv.CLVModel` (BG/NBD + Gamma-Gamma, 10% a year
        discount) fitted on the transactions and kept as ``clv_model_``. Any other
        string names a numeric column of ``data.customers``, which then must be
        present, non-missing and non-negative.

    Attributes
    ----------
    thresholds_ : Series
        Per tier except the last: the smallest value in that tier at ``fit``. A
        customer with ``value >= thresholds_["A"]`` is ``A``, else with
        ``value >= thresholds_["B"]`` is ``B``, and so on; the rest is the last tier.
    summary_ : DataFrame
        Per tier (index ``value_tier``): ``customers``, ``customer_share``, ``value``,
        ``value_share``.
    gini_ : float
        Gini coefficient of the customer values.
    top20_value_share_ : float
        Share of the total value held by the top 20 % of customers
        (``ceil(0.2 n)`` customers with the highest values).
    total_value_ : float
        Total value of the fitted customers.
    n_customers_ : int
        Customers used in the fit.

    Notes
    -----
    Tier rule: with ``above(v)`` the share of total value held by customers whose
    value is strictly greater than ``v``, a customer is in the first tier ``k`` with
    ``above(v) < shares[0] + ... + shares[k]``. The customer who crosses a bound stays
    in the tier being filled, and equal values always share a tier.

    ``score`` returns, per ``customer_id``: ``value``, ``cumulative_share`` (share of
    the scored data's total value held by customers with a value at or above this
    customer's, ties included), ``value_tier`` (from ``thresholds_``) and last
    ``tier``, a copy of ``value_tier`` under its deprecated name, removed in the next
    release.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "b", "c", "d", "e"],
    ...     "timestamp": pd.to_datetime(["2024-01-01"] * 5),
    ...     "amount": [70.0, 12.0, 10.0, 5.0, 3.0],
    ... })
    >>> model = ABCModel().fit(tx)
    >>> model.score(tx)["value_tier"].tolist()
    ['A', 'A', 'B', 'B', 'C']
    >>> model.thresholds_.to_dict()
    {'A': 12.0, 'B': 5.0}
    >>> round(model.gini_, 3)
    0.564
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "shares": [Predicate(_valid_shares, "2 to 26 positive numbers adding up to 1",
                             [(0.5, 0.6), (1.0,), "0.8"])],
        "value": [ColumnName()],
    }
    _score_columns: ClassVar[tuple[str, ...]] = (
        "value", "cumulative_share", "value_tier",
        "tier",  # deprecated copy of value_tier, removed in the next release
    )
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"shares": (0.8, 0.1, 0.05)}, {"shares": (0.9, 0.2, -0.1)}, {"shares": (1.0,)},
        {"shares": "abc"}, {"shares": (0.8, 0.2, 0.0)}, {"value": ""}, {"value": 3},
    )

    def __init__(
        self, *, shares: tuple[float, ...] = (0.8, 0.15, 0.05), value: str = "monetary"
    ) -> None:
        self.shares = shares
        self.value = value

    # ------------------------------------------------------------------ helpers
    @property
    def _tiers(self) -> list[str]:
        return list(string.ascii_uppercase[: len(self.shares)])

    def _uses_clv_model(self, data: CRMData) -> bool:
        return self.value == "clv" and not (data.customers is not None
                                            and "clv" in data.customers.columns)

    def _prepare(self, data: object) -> Any:
        if isinstance(data, CRMData):
            if self.value == "monetary" or self._uses_clv_model(data):
                data.require("transactions")
            else:
                data.require("customers")
            return data
        return super()._prepare(data)

    def _values(self, data: CRMData) -> pd.Series:
        """Value per customer, indexed by sorted ``customer_id``."""
        if self._uses_clv_model(data):
            clv = self.clv_model_.score(data)["clv"]
            out = pd.Series(np.round(clv.to_numpy(dtype=float), 9),
                            index=pd.Index(clv.index, name="customer_id"), name="value")
            return out.sort_index()
        if self.value == "monetary":
            # Total spend from the shared per-customer aggregate, with float noise rounded
            # away so that equal spends are exactly equal (ties never split).
            spend = customer_aggregates(data, freq=None)["total_amount"]
            out = pd.Series(np.round(spend.to_numpy(), 9), index=spend.index, dtype=float)
            all_ids = data.customer_ids
            if len(all_ids) > len(out):
                out = out.reindex(all_ids.sort_values(), fill_value=0.0)
            col = "amount"
            frame = "transactions"
        else:
            data.require("customers")
            customers = data.customers
            assert customers is not None
            if self.value not in customers.columns:
                raise MissingColumnError("customers", self.value, list(customers.columns))
            raw = customers[self.value]
            if not pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
                raise DataValidationError(
                    f"ABCModel: customers column {self.value!r} must be numeric, "
                    f"got {raw.dtype}", frame="customers", column=self.value, rule="numeric",
                )
            out = pd.Series(raw.to_numpy(dtype=float, na_value=np.nan),
                            index=pd.Index(customers["customer_id"], name="customer_id"))
            out = out.sort_index()
            col = self.value
            frame = "customers"
            bad = ~np.isfinite(out.to_numpy())
            if bad.any():
                raise DataValidationError(
                    f"ABCModel: customers column {self.value!r} has {int(bad.sum())} "
                    "missing or infinite values", frame=frame, column=col, rule="not_missing",
                    rows=list(out.index[bad][:5]), n_rows=int(bad.sum()),
                )
        neg = out.to_numpy() < 0
        if neg.any():
            raise DataValidationError(
                f"ABCModel: {int(neg.sum())} customers have a negative value; value tiers "
                "need non-negative values (net of returns)", frame=frame, column=col,
                rule="non_negative_value", rows=list(out.index[neg][:5]), n_rows=int(neg.sum()),
            )
        out.name = "value"
        return out

    @staticmethod
    def _cumulative(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Share held strictly above and at-or-above each value (ties grouped)."""
        total = float(values.sum())
        uniq, inverse = np.unique(values, return_inverse=True)  # ascending
        group_sum = np.bincount(inverse, weights=values, minlength=len(uniq))
        at_or_above = np.cumsum(group_sum[::-1])[::-1]  # sum of values >= uniq[j]
        above = at_or_above - group_sum
        return above[inverse] / total, at_or_above[inverse] / total

    # ------------------------------------------------------------------ hooks
    def _fit(self, data: CRMData) -> None:
        if self._uses_clv_model(data):
            from crmmodels.cltv import CLVModel, period_discount_rate

            # Value = CLV over the next year (weekly BG/NBD + Gamma-Gamma, 10% a year
            # discount, revenue margin); kept so that new data are valued the same way.
            self.clv_model_ = CLVModel(horizon=52, freq="W",
                                       discount_rate=period_discount_rate(0.10, "W")).fit(data)
        values = self._values(data)
        v = values.to_numpy()
        total = float(v.sum())
        if total <= 0:
            raise DataValidationError(
                "ABCModel needs a positive total value to split into tiers",
                frame="transactions" if self.value == "monetary" else "customers",
                rule="positive_total",
            )
        above, _ = self._cumulative(v)
        bounds = np.cumsum(np.asarray(self.shares, dtype=float))
        tier_idx = np.searchsorted(bounds - _TOL, above, side="right")
        tier_idx = np.minimum(tier_idx, len(bounds) - 1)
        tiers = self._tiers
        thresholds: dict[str, float] = {}
        for k, name in enumerate(tiers[:-1]):
            members = v[tier_idx <= k]
            thresholds[name] = float(members.min())
        self.thresholds_ = pd.Series(thresholds, name="min_value", dtype=float)
        n = len(v)
        counts = np.bincount(tier_idx, minlength=len(tiers))
        sums = np.bincount(tier_idx, weights=v, minlength=len(tiers))
        self.summary_ = pd.DataFrame(
            {"customers": counts.astype(np.int64), "customer_share": counts / n,
             "value": sums, "value_share": sums / total},
            index=pd.Index(tiers, name="value_tier"),
        )
        k_top = max(1, math.ceil(0.2 * n - _TOL))
        self.top20_value_share_ = float(np.sort(v)[::-1][:k_top].sum() / total)
        self.gini_ = gini(v)
        self.total_value_ = total
        self.n_customers_ = int(n)

    def _assign(self, v: np.ndarray) -> np.ndarray:
        tiers = np.asarray(self._tiers, dtype=object)
        idx = np.full(len(v), len(tiers) - 1, dtype=np.int64)
        for k in range(len(tiers) - 2, -1, -1):
            idx[v >= float(self.thresholds_.iloc[k])] = k
        out: np.ndarray = tiers[idx]
        return out

    def _html_diagnostics(self) -> list[tuple[str, pd.DataFrame | pd.Series | str]]:
        """Show the tiers (customers and value per tier) and their thresholds."""
        return [("Value tiers", self.summary_), ("Tier thresholds", self.thresholds_)]

    def _score(self, data: CRMData) -> pd.DataFrame:
        values = self._values(data)
        v = values.to_numpy()
        if float(v.sum()) > 0:
            _, cumulative = self._cumulative(v)
        else:
            cumulative = np.full(len(v), np.nan)
        tiers = pd.array(self._assign(v), dtype="str")
        return pd.DataFrame(
            {"value": v, "cumulative_share": cumulative, "value_tier": tiers,
             "tier": tiers.copy()},  # deprecated name, removed in the next release
            index=values.index,
        )
