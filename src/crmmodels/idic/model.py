"""IDICModel: Identify, Differentiate, Interact, Customize in one model."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels.association import AssociationRulesModel
from crmmodels.cltv import CLVModel
from crmmodels.core import Constraint, CRMModel, HasMethods, Interval, Options, Predicate
from crmmodels.data import CRMData
from crmmodels.errors import DataQualityWarning, warn
from crmmodels.idic.nba import DEFAULT_RULES, NO_ACTION, NextBestAction
from crmmodels.idic.profile import interaction_profile
from crmmodels.propensity import ChurnModel
from crmmodels.segments import ABCModel, LifecycleModel, RFMModel

__all__ = ["DEFAULT_OFFERS", "IDICModel"]

#: The offers the value-based policy weighs, with their cost per contact.
DEFAULT_OFFERS = pd.DataFrame({"cost": [5.0, 1.0]},
                              index=pd.Index(["retention offer", "cross-sell offer"],
                                             name="offer"))


def _is_policy(value: object) -> bool:
    return value is None or (isinstance(value, str) and value in ("plan", "rules")) or \
        isinstance(value, pd.DataFrame)


class IDICModel(CRMModel):
    """Peppers & Rogers' IDIC: one row per customer, ending in the next best action.

    * **Identify**: with ``resolution`` (an
      :class:`~crmmodels.identity.IdentityResolution`), the data are remapped to one
      ``customer_key`` per person first (:meth:`IdentityResolution.apply`); otherwise
      each ``customer_id`` is its own key.
    * **Differentiate**: ``value_tier`` (ABC tier of spend: A holds 80% of it),
      ``needs_segment`` (the RFM segment), ``lifecycle_stage``, ``clv`` (CLV model) and
      ``churn_probability`` (churn model).
    * **Interact**: ``preferred_channel`` from the interactions
      (:func:`~crmmodels.idic.interaction_profile`); without interactions every customer
      gets ``default_channel`` and a :class:`~crmmodels.errors.DataQualityWarning` says
      so.
    * **Customize**: two offers are valued per customer, net of their cost
      (``offers``):

      - ``"retention offer"``: P(churn) x CLV x ``retention_uplift`` - cost;
      - ``"cross-sell offer"``: P(response) x margin of the item the association rules
        recommend for the customer's last basket - cost, where P(response) is the lower
        end of the 95% Wilson interval of the customer's response rate (at least
        ``min_contacts`` contacts), else ``default_response_rate``, and the item's
        margin is ``margin`` x its mean line revenue.

      With ``policy="plan"`` (default) the best positive offer is chosen, within
      ``budget`` when given (:class:`NextBestAction`); with ``policy="rules"`` (or a
      rule table) the rule table decides (``churn_risk`` is ``"high"`` at a
      probability of ``churn_threshold`` or more). Every row carries its reason.

    Parameters
    ----------
    resolution : IdentityResolution, optional
    clv_model, churn_model, rules_model : models, optional
        Unfitted models (defaults ``CLVModel(horizon=52, freq="W", margin=margin)``,
        ``ChurnModel()``, ``AssociationRulesModel(min_support=0.01)``); cloned and fitted
        by ``fit``. The rules need ``transaction_id`` and ``product_id`` columns;
        without them there is no cross-sell offer.
    policy : {"plan", "rules"} or DataFrame, optional
        None is ``"plan"``.
    budget : float, optional
    offers : DataFrame, optional
        Cost (and optional capacity) per offer; default :data:`DEFAULT_OFFERS`.
    retention_uplift : float, default 0.1
        Assumed share of at-risk customers a retention offer keeps (replace it by the
        result of a test: :class:`~crmmodels.targeting.UpliftModel`).
    default_response_rate : float, default 0.02
    margin : float, default 1.0
    churn_threshold : float, default 0.5
    min_contacts : int, default 5
    default_channel : str, default "email"

    Examples
    --------
    >>> import warnings
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> data = load_cdnow_sample()
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     scores = IDICModel().fit(data).score(data)
    >>> scores.columns[:4].tolist()
    ['customer_key', 'value_tier', 'needs_segment', 'lifecycle_stage']
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "resolution": [None, HasMethods(["apply", "update"], "an IdentityResolution")],
        "clv_model": [None, HasMethods(["fit", "score"], "a CLV model")],
        "churn_model": [None, HasMethods(["fit", "score"], "a churn model")],
        "rules_model": [None, HasMethods(["fit", "score"], "an association rules model")],
        "policy": [Predicate(_is_policy, '"plan", "rules" or a rule table', [["x"], "x"])],
        "budget": [None, Interval(Real, 0, None)],
        "offers": [None, Predicate(lambda v: isinstance(v, pd.DataFrame), "a DataFrame",
                                   [["x"]])],
        "retention_uplift": [Interval(Real, 0, 1)],
        "default_response_rate": [Interval(Real, 0, 1)],
        "margin": [Interval(Real, 0, 1, closed="right")],
        "churn_threshold": [Interval(Real, 0, 1)],
        "min_contacts": [Interval(Integral, 1, None)],
        "default_channel": [Options({"email", "phone", "sms", "web", "app", "store", "social",
                                     "mail", "call_center", "agent", "other"})],
    }
    _score_columns: ClassVar[tuple[str, ...]] = (
        "customer_key", "value_tier", "needs_segment", "lifecycle_stage", "preferred_channel",
        "churn_probability", "clv", "next_best_action", "action_channel", "action_item",
        "expected_value", "reason")
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"policy": "magic"}, {"retention_uplift": 1.5}, {"margin": 0})

    def __init__(self, *, resolution: Any = None, clv_model: Any = None,
                 churn_model: Any = None, rules_model: Any = None, policy: Any = None,
                 budget: float | None = None, offers: pd.DataFrame | None = None,
                 retention_uplift: float = 0.1, default_response_rate: float = 0.02,
                 margin: float = 1.0, churn_threshold: float = 0.5, min_contacts: int = 5,
                 default_channel: str = "email") -> None:
        self.resolution = resolution
        self.clv_model = clv_model
        self.churn_model = churn_model
        self.rules_model = rules_model
        self.policy = policy
        self.budget = budget
        self.offers = offers
        self.retention_uplift = retention_uplift
        self.default_response_rate = default_response_rate
        self.margin = margin
        self.churn_threshold = churn_threshold
        self.min_contacts = min_contacts
        self.default_channel = default_channel

    # ------------------------------------------------------------------ helpers
    def _identified(self, data: CRMData) -> CRMData:
        return data if self.resolution is None else self.resolution.apply(data)

    @staticmethod
    def _baskets(data: CRMData) -> bool:
        return data.has("transactions") and {"transaction_id", "product_id"} <= set(
            data.lazy_rows("transactions").collect_schema().names())

    @staticmethod
    def _item_means(data: CRMData) -> pd.Series:
        """Mean line amount of each product (by its text), read where the data are."""
        if data.engine("transactions") != "polars":
            tx = data.transactions
            assert tx is not None
            means: pd.Series = tx.groupby(tx["product_id"].astype(str))["amount"].mean()
            return means
        got = (data.lazy_rows("transactions")
               .filter(~nw.col("product_id").is_null())
               .group_by(nw.col("product_id").cast(nw.String))
               .agg(nw.col("amount").mean()).collect())
        return pd.Series(got["amount"].to_numpy(), dtype=np.float64,
                         index=pd.Index(got["product_id"].to_list(), dtype="str",
                                        name="product_id"), name="amount")

    @staticmethod
    def _last_baskets(data: CRMData) -> pd.Series:
        """Each customer's last transaction id (the latest row; ties: the later row)."""
        if data.engine("transactions") != "polars":
            tx = data.transactions
            assert tx is not None
            last: pd.Series = tx.sort_values("timestamp", kind="stable").drop_duplicates(
                "customer_id", keep="last").set_index("customer_id")["transaction_id"]
            return last
        rows = (data.lazy_rows("transactions").select("customer_id", "timestamp",
                                                      "transaction_id")
                .collect().with_row_index("__row"))
        latest = rows.filter(nw.col("timestamp") == nw.col("timestamp").max()
                             .over("customer_id"))
        latest = latest.filter(nw.col("__row") == nw.col("__row").max().over("customer_id"))
        return pd.Series(latest["transaction_id"].to_pandas().to_numpy(),
                         index=pd.Index(latest["customer_id"].to_list(), dtype="str",
                                        name="customer_id"), name="transaction_id")

    def _fit(self, data: CRMData) -> None:
        from sklearn.base import clone

        data = self._identified(data)
        self.clv_model_ = (CLVModel(horizon=52, freq="W", margin=self.margin)
                           if self.clv_model is None else clone(self.clv_model)).fit(data)
        self.churn_model_ = (ChurnModel() if self.churn_model is None
                             else clone(self.churn_model)).fit(data)
        self.abc_model_ = ABCModel().fit(data)
        self.rfm_model_ = RFMModel().fit(data)
        self.lifecycle_model_ = LifecycleModel().fit(data)
        self.rules_model_ = None
        self.item_margin_ = pd.Series(dtype=np.float64, name="item_margin")
        if self._baskets(data):
            self.rules_model_ = (AssociationRulesModel(min_support=0.01)
                                 if self.rules_model is None
                                 else clone(self.rules_model)).fit(data)
            line = self._item_means(data)
            self.item_margin_ = (line * float(self.margin)).astype(np.float64).rename(
                "item_margin")
        # The checked offers and rules (kept as tables; the planner is built to score).
        nba = self._planner(DEFAULT_OFFERS if self.offers is None else self.offers,
                            self.policy if isinstance(self.policy, pd.DataFrame)
                            else DEFAULT_RULES)
        assert nba.offers is not None
        self.offers_ = nba.offers
        self.rules_ = nba.rules

    def _planner(self, offers: pd.DataFrame, rules: pd.DataFrame) -> NextBestAction:
        return NextBestAction(offers=offers, budget=self.budget, rules=rules)

    def _recommended(self, data: CRMData, ids: pd.Index) -> pd.DataFrame:
        """Find the item the rules recommend for each customer's last basket, and its margin."""
        out = pd.DataFrame({"action_item": pd.Series(None, index=ids, dtype=object),
                            "item_margin": 0.0, "rule": None})
        if self.rules_model_ is None or not self._baskets(data):
            return out
        last = self._last_baskets(data)
        recs = self.rules_model_.score(data)
        rec = recs.reindex(last.astype(recs.index.dtype).to_numpy())
        rec.index = last.index
        rec = rec.reindex(ids)
        has = rec["item"].notna()
        out.loc[has, "action_item"] = rec.loc[has, "item"].astype(str).to_numpy()
        out.loc[has, "rule"] = rec.loc[has, "rule"].astype(str).to_numpy()
        out["item_margin"] = self.item_margin_.reindex(
            out["action_item"].astype(object).to_numpy()).fillna(0.0).to_numpy(np.float64)
        return out

    def _html_diagnostics(self) -> list[tuple[str, pd.DataFrame | pd.Series | str]]:
        """Show the offers and the policy rules the plan uses."""
        return [("Offers", self.offers_), ("Policy rules", self.rules_)]

    def _score(self, data: CRMData) -> pd.DataFrame:
        data = self._identified(data)
        ids = data.customer_ids
        clv = self.clv_model_.score(data)["clv"].reindex(ids)
        churn = self.churn_model_.score(data)["churn_probability"].reindex(ids)
        tier = self.abc_model_.score(data)["value_tier"].reindex(ids)
        segment = self.rfm_model_.score(data)["segment"].reindex(ids)
        stage = self.lifecycle_model_.score(data)["lifecycle_stage"].reindex(ids)
        if data.has("interactions"):
            profile = interaction_profile(data, min_contacts=self.min_contacts).reindex(ids)
            silent = profile["preferred_channel"].isna()
            if silent.any():
                warn(f"IDICModel: {int(silent.sum()):,} customers have no interactions: their "
                     f"preferred channel is {self.default_channel!r} and their response rate "
                     f"{self.default_response_rate:g}", DataQualityWarning)
            channel = profile["preferred_channel"].fillna(self.default_channel)
            enough = profile["contacts"].fillna(0) >= self.min_contacts
            rate = profile["response_ci_lower"].where(enough, self.default_response_rate)
        else:
            warn(f"IDICModel: no interactions: every customer's preferred channel is "
                 f"{self.default_channel!r} and the response rate "
                 f"{self.default_response_rate:g}", DataQualityWarning)
            channel = pd.Series(self.default_channel, index=ids, dtype=object)
            rate = pd.Series(float(self.default_response_rate), index=ids)
        rate = rate.fillna(self.default_response_rate).astype(np.float64)
        no_value = clv.isna().to_numpy()
        if no_value.any():
            warn(f"IDICModel: {int(no_value.sum()):,} customers have no CLV (no purchase "
                 "in the transactions): they get no action", DataQualityWarning)
        rec = self._recommended(data, ids)
        nba = self._planner(self.offers_, self.rules_)
        offers = self.offers_
        cost = offers["cost"]
        p_churn = churn.fillna(0.0).to_numpy(dtype=np.float64)
        value_clv = clv.fillna(0.0).to_numpy(dtype=np.float64)
        values = pd.DataFrame(index=ids)
        if "retention offer" in offers.index:
            values["retention offer"] = (p_churn * value_clv * float(self.retention_uplift)
                                         - cost["retention offer"])
        if "cross-sell offer" in offers.index:
            xsell = rate.to_numpy() * rec["item_margin"].to_numpy() - cost["cross-sell offer"]
            values["cross-sell offer"] = np.where(rec["action_item"].notna(), xsell, np.nan)
        policy = "plan" if self.policy is None else self.policy
        if isinstance(policy, str) and policy == "plan":
            plan = nba.plan(values)
            action, expected, why = (plan["next_best_action"], plan["expected_value"],
                                     plan["reason"])
        else:
            profile_table = pd.DataFrame({
                "value_tier": tier.astype(str), "lifecycle_stage": stage.astype(str),
                "churn_risk": np.where(p_churn >= self.churn_threshold, "high", "low"),
                "fraud_alert": False}, index=ids)
            ruled = nba.by_rules(profile_table, values)
            action, expected, why = (ruled["next_best_action"], ruled["expected_value"],
                                     ruled["reason"])
        detail = []
        for i, (a, r) in enumerate(zip(action, why, strict=True)):
            if a == "retention offer":
                detail.append(f"{r}: P(churn) {p_churn[i]:.2f} x CLV {value_clv[i]:,.0f} x "
                              f"uplift {self.retention_uplift:g} - cost "
                              f"{cost['retention offer']:g}")
            elif a == "cross-sell offer":
                detail.append(f"{r}: P(response) {rate.iloc[i]:.3f} x margin "
                              f"{rec['item_margin'].iloc[i]:,.2f} of item "
                              f"{rec['action_item'].iloc[i]} ({rec['rule'].iloc[i]}) - cost "
                              f"{cost['cross-sell offer']:g}")
            elif no_value[i]:
                detail.append("no CLV: no purchase yet, so no offer can be valued")
            else:
                detail.append(str(r))
        chosen = np.asarray(action, dtype=object)
        item = rec["action_item"].to_numpy(dtype=object).copy()
        item[chosen != "cross-sell offer"] = None
        where_to = channel.to_numpy(dtype=object).copy()
        where_to[chosen == NO_ACTION] = None
        out = pd.DataFrame({
            "customer_key": ids.to_numpy(dtype=object),
            "value_tier": tier.to_numpy(),
            "needs_segment": segment.to_numpy(),
            "lifecycle_stage": stage.to_numpy(),
            "preferred_channel": channel.to_numpy(dtype=object),
            "churn_probability": churn.to_numpy(dtype=np.float64),
            "clv": clv.to_numpy(dtype=np.float64),
            "next_best_action": np.asarray(action, dtype=object),
            "action_channel": where_to,
            "action_item": item,
            "expected_value": np.asarray(expected, dtype=np.float64),
            "reason": detail}, index=ids)
        out.index.name = "customer_id"
        return out
