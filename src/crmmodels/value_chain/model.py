"""Buttle's five-step CRM value chain over the library's models.

1. **Customer portfolio analysis**: each customer's current value (margin over the last
   ``period``, net of the cost to serve them when interactions carry a cost) against
   their future value (CLV), a quadrant per customer, the strategically significant
   customers, and how concentrated the value is;
2. **customer intimacy**: per quadrant, what its customers buy, through which channels,
   their complaints and tenure;
3. **network development** and 4. **value proposition**: per quadrant, the top
   products, the revenue by channel or country, and the proposition recommended;
5. **customer lifecycle management**: customers and value per lifecycle stage, the
   stage transitions over the last period, and the action each stage calls for.
"""

from __future__ import annotations

from numbers import Real
from typing import Any, ClassVar

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels.cltv import CLVModel
from crmmodels.core import Constraint, CRMModel, HasMethods, Interval, TimeSpan
from crmmodels.data import CRMData, customer_aggregates
from crmmodels.errors import DataQualityWarning, DataValidationError, warn
from crmmodels.segments import STAGES, LifecycleModel, gini

__all__ = ["PROPOSITIONS", "QUADRANTS", "STAGE_ACTIONS", "ValueChainModel"]

#: Portfolio quadrants: (current value high?, future value high?) -> name.
QUADRANTS = {(True, True): "strategic", (False, True): "develop",
             (True, False): "maintain", (False, False): "divest_or_automate"}
#: The value proposition each quadrant calls for.
PROPOSITIONS = {
    "strategic": "key-account care: personal contact, co-created and early offers",
    "develop": "grow share of wallet: cross-sell and upgrade offers",
    "maintain": "keep margin: loyalty benefits at low cost to serve",
    "divest_or_automate": "serve at lowest cost: self-service and automated contact",
}
#: The lifecycle-management action of each stage.
STAGE_ACTIONS = {"prospect": "acquire", "new": "acquire", "growing": "develop",
                 "stable": "retain", "declining": "retain", "lapsed": "win back",
                 "churned": "win back"}


class ValueChainModel(CRMModel):
    """Buttle's CRM value chain: portfolio quadrants, intimacy, proposition, lifecycle.

    ``fit`` fits the CLV and lifecycle models and learns the cut-points; ``score`` gives
    each customer's quadrant; :meth:`report` gives the five steps as tables. Customers
    of a customers frame without a purchase have no future value: their quadrant is
    missing (a :class:`~crmmodels.errors.DataQualityWarning` counts them).

    Parameters
    ----------
    clv_model : CLVModel, optional
        Future value (default ``CLVModel(horizon=52, freq="W", margin=margin)``).
    lifecycle_model : LifecycleModel, optional
        Lifecycle stages (default ``LifecycleModel()``).
    margin : float, default 1.0
        Share of spend that is margin, for the current value.
    period : str, default "365D"
        The window, ending at ``observation_end``, of the current value (and of the
        lifecycle transitions in the report).
    current_quantile, future_quantile : float, default 0.5
        Cut-points of the quadrants: a customer's current (future) value is high when it
        is above this quantile of the customers' values in ``fit``.
    strategic_share : float, default 0.05
        The strategically significant customers: this share with the highest future
        value in ``fit``.

    Attributes
    ----------
    clv_model_, lifecycle_model_ : fitted models
    current_cut_, future_cut_ : float
        The value cut-points learned in ``fit``.
    strategic_cut_ : float
        The future value above which a customer is strategic.

    Examples
    --------
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> data = load_cdnow_sample()
    >>> model = ValueChainModel(period="180D").fit(data)
    >>> model.score(data).columns.tolist()
    ['portfolio_quadrant', 'current_value', 'future_value', 'lifecycle_stage', 'strategic']
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "clv_model": [None, HasMethods(["fit", "score"], "a CLV model")],
        "lifecycle_model": [None, HasMethods(["fit", "score"], "a lifecycle model")],
        "margin": [Interval(Real, 0, 1, closed="right")],
        "period": [TimeSpan()],
        "current_quantile": [Interval(Real, 0, 1, closed="neither")],
        "future_quantile": [Interval(Real, 0, 1, closed="neither")],
        "strategic_share": [Interval(Real, 0, 1, closed="neither")],
    }
    _score_columns: ClassVar[tuple[str, ...]] = (
        "portfolio_quadrant", "current_value", "future_value", "lifecycle_stage", "strategic")
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"margin": 0}, {"current_quantile": 1.0}, {"strategic_share": 0.0})

    def __init__(self, *, clv_model: Any = None, lifecycle_model: Any = None,
                 margin: float = 1.0, period: str = "365D", current_quantile: float = 0.5,
                 future_quantile: float = 0.5, strategic_share: float = 0.05) -> None:
        self.clv_model = clv_model
        self.lifecycle_model = lifecycle_model
        self.margin = margin
        self.period = period
        self.current_quantile = current_quantile
        self.future_quantile = future_quantile
        self.strategic_share = strategic_share

    # ------------------------------------------------------------------ values
    def _current_values(self, data: CRMData) -> pd.Series:
        """Each customer's margin over the last ``period``, net of the cost to serve.

        ``margin`` x (spend in ``(observation_end - period, observation_end]``) minus
        the ``cost`` of the customer's interactions in that window (when the
        interactions carry a ``cost`` column; an interaction without a cost counts 0).
        Customers of the transactions without a purchase in the window have the
        negative of their cost (0 without one).

        """
        data.require("transactions")
        end = data.observation_end
        start = end - pd.Timedelta(self.period)
        ids = data.customer_ids
        spend = _sum_by_customer(data.rows_between("transactions", start, end), "amount")
        value = float(self.margin) * spend.reindex(ids, fill_value=0.0)
        if data.has("interactions") and "cost" in data.lazy_rows(
                "interactions").collect_schema().names():
            cost = _sum_by_customer(data.rows_between("interactions", start, end), "cost")
            value = value - cost.reindex(ids, fill_value=0.0).fillna(0.0)
        return value.rename("current_value").astype(np.float64)

    def _clv(self) -> Any:
        from sklearn.base import clone

        return (CLVModel(horizon=52, freq="W", margin=self.margin)
                if self.clv_model is None else clone(self.clv_model))

    # ------------------------------------------------------------------ protocol
    def _fit(self, data: CRMData) -> None:
        from sklearn.base import clone

        self.clv_model_ = self._clv().fit(data)
        self.lifecycle_model_ = (LifecycleModel() if self.lifecycle_model is None
                                 else clone(self.lifecycle_model)).fit(data)
        current = self._current_values(data)
        future = self.clv_model_.score(data)["clv"].reindex(current.index)
        if future.isna().all():
            raise DataValidationError("no customer has a future value", rule="non_empty")
        self.current_cut_ = float(current.quantile(self.current_quantile))
        self.future_cut_ = float(future.quantile(self.future_quantile))
        self.strategic_cut_ = float(future.quantile(1.0 - self.strategic_share))
        self.observation_end_ = data.observation_end

    def _score(self, data: CRMData) -> pd.DataFrame:
        current = self._current_values(data)
        future = self.clv_model_.score(data)["clv"].reindex(current.index)
        stage = self.lifecycle_model_.score(data)["lifecycle_stage"].reindex(current.index)
        high_now = current.to_numpy() > self.current_cut_
        high_later = future.to_numpy() > self.future_cut_
        unknown = future.isna().to_numpy()
        if unknown.any():
            warn(f"ValueChainModel: {int(unknown.sum()):,} customers have no future value "
                 "(no purchase in the transactions): their quadrant is left missing",
                 DataQualityWarning)
        quadrant = [None if u else QUADRANTS[(bool(a), bool(b))] for a, b, u in
                    zip(high_now, high_later, unknown, strict=True)]
        out = pd.DataFrame({
            "portfolio_quadrant": pd.Categorical(quadrant, categories=list(
                QUADRANTS.values())),
            "current_value": current.to_numpy(),
            "future_value": future.to_numpy(dtype=np.float64),
            "lifecycle_stage": stage.to_numpy(),
            "strategic": future.to_numpy() > self.strategic_cut_,
        }, index=current.index)
        out.index.name = "customer_id"
        return out

    # ------------------------------------------------------------------ report
    def report(self, data: CRMData, *, figures: bool = False) -> dict[str, Any]:
        """Return the five steps of the value chain as tables (and figures).

        Parameters
        ----------
        data : CRMData
            The data to report on (usually the data the model was fitted on).
        figures : bool, default False
            Also draw the figures (the plot extra, matplotlib): ``"figures"`` is then a
            dict of matplotlib Figures, ``"portfolio"``
            (:func:`~crmmodels.value_chain.plotting.plot_portfolio`),
            ``"concentration"`` and ``"lifecycle"``.

        Returns
        -------
        dict
            ``"portfolio"`` (customers, share of customers, current and future value and
            their shares, per quadrant), ``"strategic"`` (the strategic customers, most
            valuable first), ``"concentration"`` (share of current and future value held
            by the top 20% of customers, and their Gini coefficients), ``"intimacy"``
            (per quadrant: mean tenure in days, purchases, distinct products,
            complaints), ``"proposition"`` (per quadrant: top products by revenue,
            revenue share of the largest channel or country, the recommended
            proposition), ``"lifecycle"`` (customers, current and future value and the
            action per stage) and ``"transitions"`` (stage at ``observation_end -
            period`` against the stage at ``observation_end``).

        Examples
        --------
        >>> from crmmodels.datasets import load_cdnow_sample
        >>> data = load_cdnow_sample()
        >>> model = ValueChainModel(period="180D").fit(data)
        >>> sorted(model.report(data))[:3]
        ['concentration', 'intimacy', 'lifecycle']
        """
        scores = self.score(data)
        quadrant = scores["portfolio_quadrant"]
        portfolio = scores.groupby("portfolio_quadrant", observed=False).agg(
            customers=("current_value", "size"), current_value=("current_value", "sum"),
            future_value=("future_value", "sum"))
        for col in ("customers", "current_value", "future_value"):
            total = portfolio[col].sum()
            portfolio[f"{col}_share"] = portfolio[col] / total if total else np.nan
        strategic = scores[scores["strategic"]].sort_values("future_value", ascending=False)

        def top_share(values: pd.Series) -> float:
            v = np.sort(np.maximum(values.to_numpy(dtype=np.float64), 0.0))[::-1]
            k = max(1, int(np.ceil(0.2 * len(v))))
            return float(v[:k].sum() / v.sum()) if v.sum() > 0 else float("nan")

        concentration = pd.DataFrame({
            "top_20pct_share": [top_share(scores["current_value"]),
                                top_share(scores["future_value"])],
            "gini": [gini(np.maximum(scores["current_value"].to_numpy(), 0.0)),
                     gini(np.maximum(scores["future_value"].to_numpy(), 0.0))]},
            index=pd.Index(["current_value", "future_value"], name="value"))

        groups = _quadrant_groups(data, quadrant)
        first = customer_aggregates(data)["first_timestamp"]
        tenure = (data.observation_end - first).dt.days.reindex(scores.index)
        intimacy = pd.DataFrame({
            "tenure_days": tenure.groupby(quadrant, observed=False).mean(),
            "purchases_per_customer": groups["rows"].reindex(portfolio.index, fill_value=0)
            / portfolio["customers"].replace(0, np.nan)})
        if "products" in groups:
            intimacy["distinct_products"] = groups["products"].reindex(portfolio.index,
                                                                       fill_value=0)
        if "complaints" in groups:
            intimacy["complaints_per_customer"] = groups["complaints"].reindex(
                intimacy.index, fill_value=0) / portfolio["customers"].replace(0, np.nan)

        proposition = pd.DataFrame(index=portfolio.index)
        if "revenue" in groups:
            revenue = groups["revenue"]
            proposition["top_products"] = [
                revenue.loc[q].nlargest(5).index.tolist() if q in revenue.index.get_level_values(0)
                else [] for q in proposition.index]
        for column in ("channel", "country"):
            if column in groups:
                share = groups[column]
                lead = []
                for q in proposition.index:
                    part = share.loc[q] if q in share.index.get_level_values(0) else None
                    lead.append(None if part is None or part.sum() <= 0 else
                                f"{part.idxmax()} ({part.max() / part.sum():.0%})")
                proposition[f"leading_{column}"] = lead
        proposition["proposition"] = [PROPOSITIONS[str(q)] for q in proposition.index]

        stage = scores["lifecycle_stage"]
        lifecycle = scores.groupby(stage, observed=False).agg(
            customers=("current_value", "size"), current_value=("current_value", "sum"),
            future_value=("future_value", "sum")).reindex(list(STAGES), fill_value=0)
        lifecycle["action"] = [STAGE_ACTIONS[s] for s in lifecycle.index]
        start = data.observation_end - pd.Timedelta(self.period)
        transitions = None
        if start > data.time_range("transactions")[0]:
            transitions = self.lifecycle_model_.transitions(data, start, data.observation_end)
        out: dict[str, Any] = {
            "portfolio": portfolio, "strategic": strategic, "concentration": concentration,
            "intimacy": intimacy, "proposition": proposition, "lifecycle": lifecycle,
            "transitions": transitions}
        if figures:
            from crmmodels.value_chain.plotting import (
                plot_concentration,
                plot_lifecycle,
                plot_portfolio,
            )

            out["figures"] = {
                "portfolio": plot_portfolio(scores, current_cut=self.current_cut_,
                                            future_cut=self.future_cut_).figure,
                "concentration": plot_concentration(scores).figure,
                "lifecycle": plot_lifecycle(lifecycle).figure}
        return out


def _sum_by_customer(rows: Any, column: str) -> pd.Series:
    """Sum ``column`` per customer of a frame in any library (pandas sums as pandas does)."""
    if isinstance(rows, pd.DataFrame):
        out: pd.Series = rows.groupby("customer_id")[column].sum()
        return out
    got = (nw.from_native(rows, eager_only=True).group_by("customer_id")
           .agg(nw.col(column).sum()))
    return pd.Series(got[column].to_numpy(), dtype=np.float64,
                     index=pd.Index(got["customer_id"].cast(nw.String).to_list(),
                                    dtype="str", name="customer_id"))


def _quadrant_groups(data: CRMData, quadrant: pd.Series) -> dict[str, pd.Series]:
    """Count and sum the transactions (and complaints) by each customer's quadrant.

    ``rows``: transactions per quadrant; ``products``: distinct products; ``revenue``,
    ``channel``, ``country``: amounts by (quadrant, product label or column value), in
    the key order of a pandas group-by; ``complaints``: complaint interactions. Polars
    data are grouped in polars; only these small tables come back.
    """
    out: dict[str, pd.Series] = {}
    if data.engine("transactions") != "polars":
        tx = data.transactions
        assert tx is not None
        of = tx["customer_id"].map(quadrant)
        out["rows"] = tx.groupby(of, observed=False).size()
        if "product_id" in tx.columns:
            out["products"] = tx.groupby(of, observed=False)["product_id"].nunique()
            label = "description" if "description" in tx.columns else "product_id"
            out["revenue"] = tx.groupby([of, tx[label]], observed=True)["amount"].sum()
        for column in ("channel", "country"):
            if column in tx.columns:
                out[column] = tx.groupby([of, tx[column]], observed=True)["amount"].sum()
    else:
        rows = data.lazy_rows("transactions")
        names = rows.collect_schema().names()
        known = quadrant.dropna()
        table = nw.from_dict({"customer_id": known.index.astype(str).tolist(),
                              "__quadrant": known.astype(str).tolist()},
                             backend=rows.implementation).lazy()
        rows = rows.join(table, on="customer_id", how="inner")

        def by(*keys: str, value: nw.Expr) -> pd.Series:
            got = rows.group_by(*keys).agg(value.alias("__v")).collect().to_pandas()
            index = (pd.MultiIndex.from_frame(got[list(keys)]) if len(keys) > 1
                     else pd.Index(got[keys[0]]))
            return pd.Series(got["__v"].to_numpy(), index=index).sort_index()

        out["rows"] = by("__quadrant", value=nw.len())
        if "product_id" in names:
            out["products"] = by("__quadrant", value=nw.col("product_id").drop_nulls()
                                 .n_unique())
            label = "description" if "description" in names else "product_id"
            out["revenue"] = by("__quadrant", label, value=nw.col("amount").sum())
        for column in ("channel", "country"):
            if column in names:
                out[column] = by("__quadrant", column, value=nw.col("amount").sum())
    if data.has("interactions"):
        inter = data.lazy_rows("interactions")
        complaints = (inter.filter(nw.col("kind").cast(nw.String) == "complaint")
                      .select("customer_id").collect().to_pandas()["customer_id"])
        out["complaints"] = complaints.groupby(
            complaints.map(quadrant), observed=False).size()
    return out
