"""Customer lifecycle stage at a date, from each customer's own purchase rhythm.

Every customer known at the date ``observation_end`` (written ``end`` below; by default
the data's ``observation_end``) gets one stage. Only transactions stamped at or before
``end`` are used. A *purchase* is a calendar day with at least one transaction (several
order lines on one day are one purchase); gaps are measured between purchase days, in
days. The rules, in order of precedence (the first that holds wins):

1. ``churned``: the customer's ``churned`` attribute (customers frame) is True. The
   attribute describes the end of the data, so it is used only when ``end`` is at or
   after ``data.observation_end``.
2. ``prospect``: in the customers frame, but no purchase up to ``end``.
3. ``churned``: ``days_since_last > churn_multiple * typical_gap``.
4. ``lapsed``: ``days_since_last > lapse_multiple * typical_gap``.
5. ``new``: ``days_since_first <= new_window``.
6. ``declining`` / ``growing``: with at least ``min_purchases_for_trend`` purchases in
   the last two ``trend_window``-day windows together, the measure (spend or purchase
   count) of the recent window ``(end - w, end]`` is below ``decline_ratio`` times that
   of the previous window ``(end - 2w, end - w]`` (declining) or above ``growth_ratio``
   times it (growing; includes a zero previous window).
7. ``stable``: everything else.

``typical_gap`` is the customer's own median gap between purchases; a customer with a
single purchase gets the population default ``default_gap_`` learned in ``fit`` (the
median over repeat customers of their median gaps).
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from crmmodels.core import (
    Constraint,
    CRMModel,
    Date,
    Interval,
    Options,
    renamed_param,
    warn_deprecated,
)
from crmmodels.data import CRMData, customer_aggregates, ordered_sums, wall_clock
from crmmodels.errors import DataValidationError, InvalidParameterError

__all__ = ["STAGES", "LifecycleModel"]

STAGES: tuple[str, ...] = (
    "prospect", "new", "growing", "stable", "declining", "lapsed", "churned",
)
"""Every stage, in lifecycle order (the row and column order of ``transitions``)."""

_DAY = np.timedelta64(1, "D")


class LifecycleModel(CRMModel):
    """Lifecycle stage per customer: prospect, new, growing, stable, declining, lapsed, churned.

    Parameters
    ----------
    new_window : float, default 90
        A customer whose first purchase is at most this many days before
        ``observation_end`` is ``new``.
    lapse_multiple : float, default 3.0
        ``lapsed`` when the days since the last purchase exceed this multiple of the
        customer's typical gap between purchases.
    churn_multiple : float, default 6.0
        ``churned`` when the days since the last purchase exceed this multiple of the
        typical gap; must be larger than ``lapse_multiple``.
    trend_window : float, default 180
        Length in days of the recent and the previous window compared for the trend.
    decline_ratio : float, default 0.7
        ``declining`` when recent < ``decline_ratio`` x previous (in ``(0, 1]``).
    growth_ratio : float, default 1.3
        ``growing`` when recent > ``growth_ratio`` x previous (at least 1).
    min_purchases_for_trend : int, default 3
        Purchases needed in the two trend windows together before a trend is read;
        fewer gives ``stable``.
    trend_measure : {"spend", "purchases"}, default "spend"
        What the trend compares: total spend or number of purchases per window.
    observation_end : str or Timestamp, optional
        Date at which stages are measured (used by ``fit`` and ``score``); default the
        data's ``observation_end``. Transactions after it are ignored.
    at : str or Timestamp, optional
        Deprecated name of ``observation_end``, removed in the next release: it still
        works, with a ``FutureWarning``; passing both raises ``InvalidParameterError``.

    Attributes
    ----------
    default_gap_ : float
        Population default gap (days) used for customers with a single purchase: the
        median over repeat customers of their own median gap.
    observation_end_ : Timestamp
        The date the stages were measured at during the fit (``at_`` is its deprecated
        name).
    stage_counts_ : Series
        Customers per stage at ``observation_end_`` (index ``lifecycle_stage``:
        :data:`STAGES`).
    n_customers_ : int
        Customers at ``observation_end_``.

    Notes
    -----
    Precedence of the rules: churned flag > prospect > churned (gap) > lapsed > new >
    declining / growing > stable. See the module documentation for the exact rules.

    ``score`` returns per ``customer_id``: ``lifecycle_stage``, ``n_purchases``,
    ``days_since_first``, ``days_since_last``, ``typical_gap``, ``spend_recent``,
    ``spend_previous``, ``purchases_recent``, ``purchases_previous`` (days are
    fractional; a prospect has missing day figures and zero counts), and last
    ``stage``, a copy of ``lifecycle_stage`` under its deprecated name, removed in the
    next release.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-31", "2024-03-01",
    ...                                  "2024-01-01", "2024-01-11", "2024-02-20"]),
    ...     "amount": [10.0, 10.0, 10.0, 5.0, 5.0, 8.0],
    ... })
    >>> model = LifecycleModel(observation_end="2024-03-10").fit(tx)
    >>> model.default_gap_
    20.0
    >>> model.score(tx)["lifecycle_stage"].to_dict()
    {'a': 'new', 'b': 'lapsed', 'c': 'new'}
    >>> model.set_params(new_window=30).score(tx)["lifecycle_stage"].to_dict()
    {'a': 'growing', 'b': 'lapsed', 'c': 'new'}
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "new_window": [Interval(Real, 0, None, closed="neither")],
        "lapse_multiple": [Interval(Real, 0, None, closed="neither")],
        "churn_multiple": [Interval(Real, 0, None, closed="neither")],
        "trend_window": [Interval(Real, 0, None, closed="neither")],
        "decline_ratio": [Interval(Real, 0, 1, closed="right")],
        "growth_ratio": [Interval(Real, 1, None, closed="left")],
        "min_purchases_for_trend": [Interval(Integral, 0, None)],
        "trend_measure": [Options({"spend", "purchases"})],
        "observation_end": [None, Date()],
        "at": [None, Date()],  # deprecated name of observation_end
    }
    _score_columns: ClassVar[tuple[str, ...]] = (
        "lifecycle_stage", "n_purchases", "days_since_first", "days_since_last",
        "typical_gap", "spend_recent", "spend_previous", "purchases_recent",
        "purchases_previous",
        "stage",  # deprecated copy of lifecycle_stage, removed in the next release
    )
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"new_window": 0}, {"lapse_multiple": -1.0}, {"churn_multiple": 2.0},
        {"trend_window": "180"}, {"decline_ratio": 1.5}, {"growth_ratio": 0.5},
        {"min_purchases_for_trend": 1.5}, {"trend_measure": "margin"},
        {"observation_end": "not a date"}, {"observation_end": 5},
        {"at": "2024-01-31", "observation_end": "2024-01-31"},
    )

    def __init__(
        self,
        *,
        new_window: float = 90,
        lapse_multiple: float = 3.0,
        churn_multiple: float = 6.0,
        trend_window: float = 180,
        decline_ratio: float = 0.7,
        growth_ratio: float = 1.3,
        min_purchases_for_trend: int = 3,
        trend_measure: str = "spend",
        observation_end: str | pd.Timestamp | None = None,
        at: str | pd.Timestamp | None = None,
    ) -> None:
        self.new_window = new_window
        self.lapse_multiple = lapse_multiple
        self.churn_multiple = churn_multiple
        self.trend_window = trend_window
        self.decline_ratio = decline_ratio
        self.growth_ratio = growth_ratio
        self.min_purchases_for_trend = min_purchases_for_trend
        self.trend_measure = trend_measure
        self.observation_end = observation_end
        self.at = at

    @property
    def at_(self) -> pd.Timestamp:
        """Deprecated name of ``observation_end_``, removed in the next release."""
        value: pd.Timestamp = self.observation_end_
        warn_deprecated("LifecycleModel: the attribute at_ is deprecated and will be "
                        "removed in the next release; use observation_end_ instead")
        return value

    @at_.setter
    def at_(self, value: pd.Timestamp) -> None:
        # Model files written before the rename hold ``at_``: load it under its new name.
        self.observation_end_ = value

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Pickles made before the rename hold ``at_`` in the instance dict.
        if "at_" in state:
            state = {("observation_end_" if k == "at_" else k): v for k, v in state.items()}
        super().__setstate__(state)

    # ------------------------------------------------------------------ public
    def transitions(
        self, data: CRMData | pd.DataFrame, t1: str | pd.Timestamp, t2: str | pd.Timestamp
    ) -> pd.DataFrame:
        """Count customers moving from each stage at ``t1`` to each stage at ``t2``.

        Each date sees only the transactions stamped at or before it. Customers not
        yet known at ``t1`` (first seen between the dates) are counted in the row
        ``"absent"``.

        Parameters
        ----------
        data : CRMData or DataFrame
            Transactions (and optionally customers).
        t1, t2 : str or Timestamp
            The two dates, ``t1 < t2``.

        Returns
        -------
        DataFrame
            Counts; rows ``from`` (:data:`STAGES` then ``"absent"``), columns ``to``
            (:data:`STAGES`). The total equals the number of customers at ``t2``.

        Examples
        --------
        >>> from crmmodels.datasets import load_cdnow_sample
        >>> data = load_cdnow_sample()
        >>> model = LifecycleModel().fit(data)
        >>> m = model.transitions(data, "1997-06-30", "1997-12-31")
        >>> later = model.set_params(observation_end="1997-12-31").score(data)
        >>> int(m.to_numpy().sum()) == len(later)
        True
        """
        self._check_fitted()
        prepared = self._prepare(data)
        a, b = self._date(prepared, t1, "t1"), self._date(prepared, t2, "t2")
        if not a < b:
            raise InvalidParameterError(f"transitions needs t1 < t2, got t1={a}, t2={b}")
        s1 = self._stages(prepared, a, float(self.default_gap_))["lifecycle_stage"]
        s2 = self._stages(prepared, b, float(self.default_gap_))["lifecycle_stage"]
        before = s1.reindex(s2.index).astype(object).fillna("absent")
        counts = pd.crosstab(pd.Series(before.to_numpy(), name="from"),
                             pd.Series(s2.to_numpy(dtype=object), name="to"))
        rows = pd.Index([*STAGES, "absent"], name="from")
        cols = pd.Index(list(STAGES), name="to")
        out: pd.DataFrame = counts.reindex(index=rows, columns=cols, fill_value=0)
        return out.astype(np.int64)

    # ------------------------------------------------------------------ hooks
    def _check_params(self) -> None:
        super()._check_params()
        if not self.churn_multiple > self.lapse_multiple:
            raise InvalidParameterError(
                f"LifecycleModel: churn_multiple={self.churn_multiple!r} must be larger than "
                f"lapse_multiple={self.lapse_multiple!r}"
            )
        if not self.growth_ratio >= self.decline_ratio:
            raise InvalidParameterError(  # pragma: no cover - implied by the rules
                "LifecycleModel: growth_ratio must be at least decline_ratio"
            )
        renamed_param(self, "at", "observation_end", when="fit")

    def _fit(self, data: CRMData) -> None:
        end = self._end(data, "internal")
        feats = self._features(data, end)
        own = feats["own_gap"].dropna()
        if own.empty:
            raise DataValidationError(
                "LifecycleModel needs at least one customer with two or more purchase days "
                "up to observation_end to learn the typical gap between purchases",
                frame="transactions", rule="min_repeat_customers",
            )
        self.default_gap_ = float(own.median())
        self.observation_end_ = end
        stages = self._classify(data, end, feats, self.default_gap_)["lifecycle_stage"]
        self.stage_counts_ = (stages.value_counts().reindex(list(STAGES), fill_value=0)
                              .astype(np.int64).rename("customers"))
        self.stage_counts_.index.name = "lifecycle_stage"
        self.n_customers_ = len(stages)

    def _html_diagnostics(self) -> list[tuple[str, pd.DataFrame | pd.Series | str]]:
        """Show the customers in each stage at the fit."""
        return [("Stages", self.stage_counts_)]

    def _score(self, data: CRMData) -> pd.DataFrame:
        out = self._stages(data, self._end(data, "score"), float(self.default_gap_))
        out["stage"] = out["lifecycle_stage"]  # deprecated name, removed in the next release
        return out

    # ------------------------------------------------------------------ helpers
    def _end(self, data: CRMData, when: Literal["score", "internal"]) -> pd.Timestamp:
        """Return the date stages are measured at: ``observation_end`` (or ``at``)."""
        name = "at" if self.at is not None else "observation_end"
        return self._date(data, renamed_param(self, "at", "observation_end", when=when), name)

    @staticmethod
    def _date(data: CRMData, value: object, name: str) -> pd.Timestamp:
        from crmmodels.data import align_timestamp

        if value is None:
            return pd.Timestamp(data.observation_end)
        return align_timestamp(value, data.timezone, name)

    def _stages(self, data: CRMData, end: pd.Timestamp, default_gap: float) -> pd.DataFrame:
        return self._classify(data, end, self._features(data, end), default_gap)

    def _trends(self, data: CRMData, end_naive: pd.Timestamp, end64: np.datetime64
                ) -> pd.DataFrame:
        """Own gap and the two trend windows of each customer, from pandas data."""
        tx = data.transactions
        assert tx is not None
        codes, ids = data.customer_codes("transactions")
        wall = wall_clock(tx["timestamp"])
        keep = wall <= end_naive.to_datetime64()  # the transactions of the aggregate
        stamps = wall[keep].astype("datetime64[us]")
        since: Any = end64 - stamps
        frame = pd.DataFrame({
            "code": codes[keep],
            "day": stamps.astype("datetime64[D]"),
            "elapsed": since / _DAY,
            "amount": tx["amount"].to_numpy(dtype=float)[keep],
        })
        w = float(self.trend_window)
        frame["window"] = np.where(frame["elapsed"] < w, 0,
                                   np.where(frame["elapsed"] < 2 * w, 1, 2))
        days = (frame.groupby(["code", "day"], sort=True)
                .agg(window=("window", "max"))
                .reset_index())
        gaps = days.groupby("code")["day"].diff().dt.total_seconds() / 86400.0
        # Spend added row after row in input order (bincount), as the polars path adds
        # it (ordered_sums): a customer on a trend threshold is on the same side in both.
        present = np.unique(frame["code"].to_numpy())
        code, amount, window = (frame[c].to_numpy() for c in ("code", "amount", "window"))

        def spend(k: int) -> pd.Series:
            total = np.bincount(code, weights=np.where(window == k, amount, 0.0),
                                minlength=len(ids))
            return pd.Series(total[present], index=present)

        by_code = pd.DataFrame({
            "own_gap": gaps.groupby(days["code"]).median(),
            "spend_recent": spend(0),
            "spend_previous": spend(1),
            "purchases_recent": (days["window"] == 0).groupby(days["code"]).sum(),
            "purchases_previous": (days["window"] == 1).groupby(days["code"]).sum(),
        })
        by_code.index = pd.Index(np.asarray(ids)[by_code.index.to_numpy()],
                                 name="customer_id", dtype="str")
        return by_code

    def _native_trends(self, data: CRMData, end: pd.Timestamp, end64: np.datetime64
                       ) -> pd.DataFrame:
        """:meth:`_trends` as one query of the library holding the transactions."""
        import narwhals.stable.v2 as nw

        day_us = 86_400_000_000
        stamp = nw.col("timestamp").dt.timestamp("us")
        w = float(self.trend_window)
        elapsed = (int(end64.astype(np.int64)) - stamp) / day_us
        rows = (data.lazy_rows("transactions", end=end).collect().with_row_index("__row")
                .lazy().select(
                    "customer_id", "amount", "__row", (stamp // day_us).alias("day"),
                    nw.when(elapsed < w).then(0).otherwise(
                        nw.when(elapsed < 2 * w).then(1).otherwise(2)).alias("window")))
        days = (rows.group_by("customer_id", "day").agg(nw.col("window").max())
                .with_columns(nw.col("day").diff().over("customer_id", order_by="day")
                              .cast(nw.Float64).alias("gap")))
        window = nw.col("window")
        per_day = days.group_by("customer_id").agg(
            nw.col("gap").median().alias("own_gap"),
            (window == 0).cast(nw.Int64).sum().alias("purchases_recent"),
            (window == 1).cast(nw.Int64).sum().alias("purchases_previous"))
        spend = ordered_sums(rows, ["customer_id"], ["__row"], {
            name: nw.when(window == k).then(nw.col("amount")).otherwise(0.0)
            for k, name in ((0, "spend_recent"), (1, "spend_previous"))})
        out = per_day.join(spend, on="customer_id").collect().to_pandas()
        out.index = pd.Index(out.pop("customer_id").to_numpy(dtype=object),
                             name="customer_id", dtype="str")
        return out[["own_gap", "spend_recent", "spend_previous", "purchases_recent",
                    "purchases_previous"]]

    def _features(self, data: CRMData, end: pd.Timestamp) -> pd.DataFrame:
        """Per-customer purchase features from the transactions up to ``end``.

        Purchase days, first and last purchase come from the shared per-customer aggregate
        (:func:`crmmodels.data.customer_aggregates`); the gaps between purchase days and the
        two trend windows are computed here.
        """
        agg = customer_aggregates(data, end=end, freq="D")
        end_naive = end.tz_localize(None) if end.tzinfo is not None else end
        end64 = end_naive.to_datetime64().astype("datetime64[us]")

        def elapsed(stamps: pd.Series) -> np.ndarray:
            days: np.ndarray = (end64 - wall_clock(stamps).astype("datetime64[us]")) / _DAY
            return days

        if data.engine("transactions") != "polars":
            by_code = self._trends(data, end_naive, end64)
        else:  # in the library that holds the transactions
            by_code = self._native_trends(data, end, end64)
        per = pd.DataFrame({
            "n_purchases": agg["n_periods"].to_numpy(),
            "days_since_first": elapsed(agg["first_timestamp"]),
            "days_since_last": elapsed(agg["last_timestamp"]),
        }, index=agg.index).join(by_code)
        known = per.index
        customers = data.customers
        if customers is not None:
            cust = customers
            if "signup_date" in cust.columns:
                signup = cust["signup_date"]
                if getattr(signup.dtype, "tz", None) is not None:
                    signup = signup.dt.tz_localize(None)
                late = signup.notna().to_numpy() & (
                    signup.to_numpy().astype("datetime64[us]") > end64)
                cust = cust.loc[~late]
            extra = pd.Index(cust["customer_id"], dtype="str")
            known = known.append(extra[~extra.isin(known)])
        per = per.reindex(known.sort_values())
        per.index.name = "customer_id"
        for col in ("n_purchases", "purchases_recent", "purchases_previous"):
            per[col] = per[col].fillna(0).astype(np.int64)
        for col in ("spend_recent", "spend_previous"):
            per[col] = per[col].fillna(0.0).astype(float)
        if per.empty:
            raise DataValidationError(
                f"LifecycleModel: no customer is known at {end} (no transaction at or before "
                "it and no customers frame)", frame="transactions", rule="customers_at_date",
            )
        return per

    def _classify(
        self, data: CRMData, end: pd.Timestamp, per: pd.DataFrame, default_gap: float
    ) -> pd.DataFrame:
        n = per["n_purchases"].to_numpy()
        since_last = per["days_since_last"].to_numpy(dtype=float)
        since_first = per["days_since_first"].to_numpy(dtype=float)
        own = per["own_gap"].to_numpy(dtype=float)
        typical = np.where(np.isnan(own), default_gap, own)
        typical = np.where(n > 0, typical, np.nan)
        flag = np.zeros(len(per), dtype=bool)
        customers = data.customers
        if customers is not None and "churned" in customers.columns \
                and end >= data.observation_end:
            churned = pd.Series(customers["churned"].to_numpy(dtype=object),
                                index=pd.Index(customers["customer_id"], dtype="str"))
            flag = churned.reindex(per.index).eq(True).to_numpy(dtype=bool)
        if self.trend_measure == "spend":
            recent = per["spend_recent"].to_numpy(dtype=float)
            previous = per["spend_previous"].to_numpy(dtype=float)
        else:
            recent = per["purchases_recent"].to_numpy(dtype=float)
            previous = per["purchases_previous"].to_numpy(dtype=float)
        enough = (per["purchases_recent"].to_numpy() + per["purchases_previous"].to_numpy()
                  >= self.min_purchases_for_trend)
        with np.errstate(invalid="ignore"):
            conditions = [
                flag,
                n == 0,
                since_last > self.churn_multiple * typical,
                since_last > self.lapse_multiple * typical,
                since_first <= self.new_window,
                enough & (recent < self.decline_ratio * previous),
                enough & (recent > self.growth_ratio * previous),
            ]
        labels = ["churned", "prospect", "churned", "lapsed", "new", "declining", "growing"]
        stage = np.select(conditions, labels, default="stable").astype(object)
        return pd.DataFrame({
            "lifecycle_stage": pd.array(stage, dtype="str"),
            "n_purchases": n.astype(np.int64),
            "days_since_first": since_first,
            "days_since_last": since_last,
            "typical_gap": typical,
            "spend_recent": per["spend_recent"].to_numpy(dtype=float),
            "spend_previous": per["spend_previous"].to_numpy(dtype=float),
            "purchases_recent": per["purchases_recent"].to_numpy(dtype=np.int64),
            "purchases_previous": per["purchases_previous"].to_numpy(dtype=np.int64),
        }, index=per.index)
