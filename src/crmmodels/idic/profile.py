"""Interact: each customer's contacts, responses and channel preference from interactions."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd

from crmmodels.core import Interval, check_params
from crmmodels.data import CRMData, data_time
from crmmodels.errors import DataValidationError
from crmmodels.segments import wilson_interval

__all__ = ["PROFILE_COLUMNS", "channel_responses", "interaction_profile"]

#: Columns of :func:`interaction_profile`, in order.
PROFILE_COLUMNS = ("contacts", "responses", "response_rate", "response_ci_lower",
                   "response_ci_upper", "preferred_channel", "preferred_by", "contacts_recent",
                   "contacts_norm", "fatigue", "complaints", "open_complaints", "last_contact")
# Complaint outcomes that close it; any other outcome (or none) leaves it open.
CLOSED = frozenset({"resolved", "closed", "solved", "done"})


def _interactions(data: CRMData, owner: str) -> pd.DataFrame:
    if not isinstance(data, CRMData):
        raise TypeError(f"{owner}: data must be a CRMData with an interactions frame, got "
                        f"{type(data).__name__}")
    data.require("interactions")
    inter = data.interactions
    assert inter is not None
    return inter


def channel_responses(data: CRMData) -> pd.DataFrame:
    """Contacts, responses and the response rate of each customer on each channel.

    A ``campaign_sent`` interaction is a contact, a ``response`` a response, on the
    channel it names. A customer who responded more often than they were contacted on a
    channel counts as contacted as often as they responded.

    Returns
    -------
    DataFrame
        Indexed by (``customer_id``, ``channel``): ``contacts``, ``responses``,
        ``response_rate`` and its 95% Wilson interval ``ci_lower``, ``ci_upper``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels import CRMData
    >>> inter = pd.DataFrame({"customer_id": ["a"] * 3, "channel": ["email", "email", "sms"],
    ...                       "kind": ["campaign_sent", "response", "campaign_sent"],
    ...                       "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02",
    ...                                                    "2024-01-03"])})
    >>> channel_responses(CRMData(interactions=inter))[["contacts", "responses"]]
                          contacts  responses
    customer_id channel
    a           email            1          1
                sms              1          0
    """
    return _channel_table(_interactions(data, "channel_responses"))


def _channel_table(inter: pd.DataFrame) -> pd.DataFrame:
    kind = inter["kind"].astype(str)
    campaign = inter[kind.isin(["campaign_sent", "response"])]
    if campaign.empty:
        raise DataValidationError("the interactions hold no campaign_sent or response rows",
                                  frame="interactions", column="kind", rule="non_empty")
    flags = pd.DataFrame({
        "customer_id": campaign["customer_id"].to_numpy(),
        "channel": campaign["channel"].astype(str).to_numpy(),
        "contacts": (campaign["kind"].astype(str) == "campaign_sent").to_numpy(np.int64),
        "responses": (campaign["kind"].astype(str) == "response").to_numpy(np.int64)})
    table = flags.groupby(["customer_id", "channel"], sort=True)[
        ["contacts", "responses"]].sum()
    table["contacts"] = np.maximum(table["contacts"], table["responses"])
    n = table["contacts"].to_numpy(dtype=np.float64)
    k = table["responses"].to_numpy(dtype=np.float64)
    lo, hi = wilson_interval(k, n)
    table["response_rate"] = k / n
    table["ci_lower"] = lo
    table["ci_upper"] = hi
    return table


def interaction_profile(data: CRMData, *, min_contacts: int = 5,
                        as_of: str | pd.Timestamp | None = None,
                        recent_days: int = 30) -> pd.DataFrame:
    """Summarise each customer's interactions: responses, preferred channel, fatigue.

    * ``contacts``, ``responses``, ``response_rate`` (all channels) with its 95% Wilson
      interval ``response_ci_lower`` / ``response_ci_upper``;
    * ``preferred_channel``: among the channels with at least ``min_contacts``
      contacts, the one whose response rate has the highest Wilson lower bound
      (``preferred_by = "response rate"``); a customer without such a channel gets the
      channel of most of their interactions of any kind (``"most used"``; ties go to
      the first in alphabetical order);
    * contact fatigue: ``contacts_recent`` (contacts in the ``recent_days`` before
      ``as_of``) against ``contacts_norm``, the customer's own contacts per
      ``recent_days`` between their first interaction and ``as_of``; ``fatigue`` is
      their ratio (NaN without a norm: a first contact inside the window);
    * ``complaints`` and ``open_complaints`` (a complaint is open unless its outcome is
      one of resolved, closed, solved, done, in any case);
    * ``last_contact``: the time of the latest interaction.

    Parameters
    ----------
    data : CRMData
        With an interactions frame.
    min_contacts : int, default 5
        Contacts on a channel before its response rate decides the preference.
    as_of : str or Timestamp, optional
        The date of the profile (in the data's timezone): interactions after it are
        left out, and the fatigue window ends there; default ``data.observation_end``.
    recent_days : int, default 30

    Returns
    -------
    DataFrame
        One row per customer with interactions, indexed by ``customer_id``, columns
        :data:`PROFILE_COLUMNS`.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels import CRMData
    >>> inter = pd.DataFrame({
    ...     "customer_id": ["a"] * 4, "channel": ["email", "email", "sms", "sms"],
    ...     "kind": ["campaign_sent", "campaign_sent", "campaign_sent", "response"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01",
    ...                                  "2024-03-02"])})
    >>> profile = interaction_profile(CRMData(interactions=inter), min_contacts=1)
    >>> profile.loc["a", ["contacts", "responses", "preferred_channel"]].map(str).tolist()
    ['3', '1', 'sms']
    """
    check_params("interaction_profile", {"min_contacts": min_contacts,
                                         "recent_days": recent_days},
                 {"min_contacts": [Interval(Integral, 1, None)],
                  "recent_days": [Interval(Integral, 1, None)]})
    inter = _interactions(data, "interaction_profile")
    end = data.observation_end if as_of is None else data_time(as_of, data, "as_of")
    # Only what had happened by as_of counts.
    inter = inter[inter["timestamp"] <= end]
    if inter.empty:
        raise DataValidationError(f"no interaction at or before as_of={end}",
                                  frame="interactions", rule="non_empty")
    ids = inter["customer_id"]
    kind = inter["kind"].astype(str)
    customers = pd.Index(sorted(ids.unique()), name="customer_id")
    out = pd.DataFrame(index=customers)

    has_campaign = kind.isin(["campaign_sent", "response"]).any()
    per_channel = _channel_table(inter) if has_campaign else None
    if per_channel is not None:
        totals = per_channel.groupby(level="customer_id")[["contacts", "responses"]].sum()
        totals = totals.reindex(customers, fill_value=0)
    else:
        totals = pd.DataFrame({"contacts": 0, "responses": 0}, index=customers)
    out["contacts"] = totals["contacts"].astype(np.int64)
    out["responses"] = totals["responses"].astype(np.int64)
    n = out["contacts"].to_numpy(dtype=np.float64)
    k = out["responses"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["response_rate"] = np.where(n > 0, k / n, np.nan)
        lo, hi = wilson_interval(k, np.maximum(n, 1.0))
    out["response_ci_lower"] = np.where(n > 0, lo, np.nan)
    out["response_ci_upper"] = np.where(n > 0, hi, np.nan)

    # Preferred channel: by response (enough contacts), else by use.
    used = pd.DataFrame({"customer_id": ids.to_numpy(),
                         "channel": inter["channel"].astype(str).to_numpy()})
    counts = used.value_counts().rename("n").reset_index().sort_values(
        ["customer_id", "n", "channel"], ascending=[True, False, True])
    most_used = counts.drop_duplicates("customer_id").set_index("customer_id")["channel"]
    preferred = most_used.reindex(customers).astype(object)
    basis = pd.Series("most used", index=customers, dtype=object)
    if per_channel is not None:
        enough = per_channel[per_channel["contacts"] >= min_contacts].reset_index()
        if len(enough):
            best = enough.sort_values(["customer_id", "ci_lower", "channel"],
                                      ascending=[True, False, True]).drop_duplicates(
                "customer_id").set_index("customer_id")["channel"]
            preferred.loc[best.index] = best.to_numpy()
            basis.loc[best.index] = "response rate"
    out["preferred_channel"] = preferred.to_numpy()
    out["preferred_by"] = basis.to_numpy()

    # Fatigue: recent contacts against the customer's own norm.
    ts = inter["timestamp"]
    sent = kind == "campaign_sent"
    window = pd.Timedelta(days=int(recent_days))
    recent = (sent & (ts > end - window) & (ts <= end)).groupby(ids).sum()
    all_sent = (sent & (ts <= end)).groupby(ids).sum()
    first = ts.groupby(ids).min()
    span = ((end - first).dt.total_seconds() / window.total_seconds()).reindex(customers)
    out["contacts_recent"] = recent.reindex(customers, fill_value=0).astype(np.int64)
    norm = all_sent.reindex(customers, fill_value=0) / span.where(span >= 1.0)
    out["contacts_norm"] = norm.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["fatigue"] = np.where(out["contacts_norm"] > 0,
                                  out["contacts_recent"] / out["contacts_norm"], np.nan)

    complaint = kind == "complaint"
    if "outcome" in inter.columns:
        closed = inter["outcome"].astype("str").str.strip().str.lower().isin(CLOSED) & \
            inter["outcome"].notna()
    else:
        closed = pd.Series(False, index=inter.index)
    out["complaints"] = complaint.groupby(ids).sum().reindex(customers, fill_value=0).astype(
        np.int64)
    out["open_complaints"] = (complaint & ~closed.astype(bool)).groupby(ids).sum().reindex(
        customers, fill_value=0).astype(np.int64)
    out["last_contact"] = ts.groupby(ids).max().reindex(customers)
    return out[list(PROFILE_COLUMNS)]
