"""Campaign history as a training table: one row per contact, features as of the contact.

A CRM's interactions hold every campaign contact (``kind == "campaign_sent"``) and every
response (``kind == "response"``). :func:`campaign_history` turns them into the flat
table a response model learns from: per contact, what was known about the customer
just before it (purchases, earlier contacts and responses, complaints) and whether a
response on the same channel followed within ``response_window`` days.
:func:`response_features` gives the same features for every customer as of one date,
for a contact not yet made: what :class:`~crmmodels.targeting.ResponseModel` scores.

Nothing after a contact enters its features: every count and recency uses events
strictly before the contact's timestamp.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmmodels.data import CRMData, argsort_text, data_time, wall_clock, whole_number
from crmmodels.errors import DataValidationError, InvalidParameterError

__all__ = ["FEATURES", "campaign_history", "response_features"]

_DAY = 86_400
# The features, in order (``channel`` is text; the rest are numbers, NaN where a
# customer has no such event yet).
FEATURES: tuple[str, ...] = (
    "channel", "days_since_purchase", "purchases_365d", "spend_365d", "contacts_365d",
    "responses_365d", "response_rate_365d", "channel_contacts_365d",
    "channel_responses_365d", "channel_response_rate_365d", "days_since_contact",
    "days_since_response", "complaints_365d")
# Counts look back one year: a lifetime count grows with time, so the customers scored
# at the end of the data would lie beyond every training row.
_YEAR = 365 * _DAY


def _seconds(values: pd.Series) -> np.ndarray:
    return np.asarray(wall_clock(values), dtype="datetime64[s]").astype(np.int64)


class _Events:
    """Events of one kind sorted by (group, time), with a running total of a weight."""

    def __init__(self, group: np.ndarray, seconds: np.ndarray, span: int,
                 weights: np.ndarray | None = None) -> None:
        self.span = span
        key = group.astype(np.int64) * span + seconds
        order = np.argsort(key, kind="stable")
        self.key = key[order]
        w = np.ones(len(key)) if weights is None else np.asarray(weights, float)[order]
        self.total = np.r_[0.0, np.cumsum(w)]
        self.seconds = seconds[order]

    def before(self, group: np.ndarray, seconds: np.ndarray, window: int | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Count and weigh each query's group events in ``[t - window, t)``.

        Also returns the times of the group's first and last event before ``t`` (-1 when
        none).
        """
        q = group.astype(np.int64) * self.span + seconds
        start = np.searchsorted(self.key, group.astype(np.int64) * self.span, side="left")
        hi = np.searchsorted(self.key, q, side="left")
        lo = start if window is None else np.maximum(
            start, np.searchsorted(self.key, q - window, side="left"))
        count = (hi - lo).astype(np.float64)
        weight = self.total[hi] - self.total[lo]
        has = hi > start
        last = np.where(has, self.seconds[np.maximum(hi - 1, 0)] if len(self.key) else 0, -1)
        first = np.where(has, self.seconds[np.minimum(start, max(len(self.key) - 1, 0))]
                         if len(self.key) else 0, -1)
        return count, weight, first, last


def _codes(ids: pd.Series, uniques: pd.Index) -> np.ndarray:
    return np.asarray(uniques.get_indexer(pd.Index(ids.astype("str"))), dtype=np.int64)


def _features(data: CRMData, customer: np.ndarray, seconds: np.ndarray,
              channel: np.ndarray, uniques: pd.Index) -> pd.DataFrame:
    """Compute the features of contacts (customer code, seconds, channel) from ``data``."""
    tx = data.transactions
    inter = data.interactions
    assert inter is not None
    all_seconds = [seconds]
    if tx is not None and len(tx):
        all_seconds.append(_seconds(tx["timestamp"]))
    inter_seconds = _seconds(inter["timestamp"])
    all_seconds.append(inter_seconds)
    joined = np.concatenate(all_seconds)
    low = int(joined.min())
    span = int(joined.max()) - low + 400 * _DAY + 2
    t = seconds - low
    kinds = inter["kind"].astype("str").to_numpy()
    i_customer = _codes(inter["customer_id"], uniques)
    i_channel = inter["channel"].astype("str").to_numpy()
    i_seconds = inter_seconds - low
    channels = pd.Index(sorted(set(i_channel) | set(channel)))
    n_ch = len(channels)
    q_pair = customer * n_ch + channels.get_indexer(channel)

    def events(kind: str, by_channel: bool = False) -> _Events:
        sel = kinds == kind
        group = i_customer[sel]
        if by_channel:
            group = group * n_ch + channels.get_indexer(i_channel[sel])
        return _Events(group, i_seconds[sel], span)

    out: dict[str, Any] = {"channel": pd.Series(channel, dtype="str").to_numpy()}
    if tx is not None and len(tx):
        purchases = _Events(_codes(tx["customer_id"], uniques),
                            _seconds(tx["timestamp"]) - low, span,
                            tx["amount"].to_numpy(dtype=float))
        n365, spend365, _, last_p = purchases.before(customer, t, _YEAR)
    else:
        n365 = spend365 = np.zeros(len(t))
        last_p = np.full(len(t), -1)
    contacts, _, _, last_c = events("campaign_sent").before(customer, t, _YEAR)
    responses, _, _, last_r = events("response").before(customer, t, _YEAR)
    ch_contacts = events("campaign_sent", True).before(q_pair, t, _YEAR)[0]
    ch_responses = events("response", True).before(q_pair, t, _YEAR)[0]

    def since(last: np.ndarray) -> np.ndarray:
        return np.where(last >= 0, (t - last) / _DAY, np.nan)

    def rate(k: np.ndarray, n: np.ndarray) -> np.ndarray:
        return np.where(n > 0, k / np.maximum(n, 1), np.nan)

    out["days_since_purchase"] = since(last_p)
    out["purchases_365d"] = n365
    out["spend_365d"] = np.round(spend365, 6)
    out["contacts_365d"] = contacts
    out["responses_365d"] = responses
    out["response_rate_365d"] = rate(responses, contacts)
    out["channel_contacts_365d"] = ch_contacts
    out["channel_responses_365d"] = ch_responses
    out["channel_response_rate_365d"] = rate(ch_responses, ch_contacts)
    out["days_since_contact"] = since(last_c)
    out["days_since_response"] = since(last_r)
    out["complaints_365d"] = events("complaint").before(customer, t, _YEAR)[0]
    return pd.DataFrame(out)


def _interactions(data: object, owner: str) -> CRMData:
    if not isinstance(data, CRMData):
        raise TypeError(f"{owner}: data must be a CRMData with interactions, got "
                        f"{type(data).__name__}")
    data.require("interactions")
    return data


def campaign_history(data: CRMData, *, response_window: int = 14) -> pd.DataFrame:
    """One row per campaign contact: the customer as known just before it, and the label.

    A contact is an interaction of kind ``campaign_sent``. Its ``response`` is True when
    a ``response`` interaction of the same customer on the same channel follows within
    ``response_window`` days and no later contact on that channel comes between them (a
    response belongs to the latest contact before it).

    Parameters
    ----------
    data : CRMData
        With interactions (and usually transactions).
    response_window : int, default 14
        Days after a contact in which a response counts, at least 1.

    Returns
    -------
    DataFrame
        In the interactions' order: ``customer_id``, ``timestamp``, then :data:`FEATURES`
        (``channel``; ``days_since_purchase``, ``purchases_365d``, ``spend_365d`` from
        the transactions; ``contacts_365d``, ``responses_365d``, ``response_rate_365d``
        and the same on the contact's channel (``channel_...``), ``days_since_contact``,
        ``days_since_response``, ``complaints_365d`` from the interactions; counts over
        the 365 days before the contact, rates NaN without contacts, days NaN without
        such an event; all from events strictly before the contact) and ``response``
        (bool).

    Raises
    ------
    DataValidationError
        No campaign contact in the interactions.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels import CRMData
    >>> inter = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "a"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-01",
    ...                                  "2024-02-01"]),
    ...     "channel": "email", "kind": ["campaign_sent", "response", "campaign_sent",
    ...                                  "campaign_sent"]})
    >>> table = campaign_history(CRMData(interactions=inter))
    >>> table[["customer_id", "contacts_365d", "responses_365d", "response"]].values.tolist()
    [['a', 0.0, 0.0, True], ['b', 0.0, 0.0, False], ['a', 1.0, 1.0, False]]
    """
    data = _interactions(data, "campaign_history")
    window = whole_number(response_window, "campaign_history: response_window (days)")
    inter = data.interactions
    assert inter is not None
    kinds = inter["kind"].astype("str").to_numpy()
    sent = np.flatnonzero(kinds == "campaign_sent")
    if len(sent) == 0:
        raise DataValidationError("campaign_history: the interactions hold no campaign "
                                  "contact (kind 'campaign_sent')", frame="interactions",
                                  column="kind", rule="no_contacts")
    uniques = data.customer_ids
    customer = _codes(inter["customer_id"], uniques)
    seconds = _seconds(inter["timestamp"])
    channel = inter["channel"].astype("str").to_numpy()
    table = _features(data, customer[sent], seconds[sent], channel[sent], uniques)
    # Each response belongs to the latest contact before it on its channel, if that
    # contact is at most response_window days earlier.
    resp = np.flatnonzero(kinds == "response")
    contacts = pd.DataFrame({"row": np.arange(len(sent)), "customer": customer[sent],
                             "channel": channel[sent], "t": seconds[sent]})
    answers = pd.DataFrame({"customer": customer[resp], "channel": channel[resp],
                            "t": seconds[resp]})
    answered = np.zeros(len(sent), dtype=bool)
    if len(answers):
        matched = pd.merge_asof(answers.sort_values("t", kind="stable"),
                                contacts.sort_values("t", kind="stable"),
                                on="t", by=["customer", "channel"], direction="backward",
                                tolerance=window * _DAY, allow_exact_matches=False)
        rows = matched["row"].dropna().to_numpy(dtype=np.int64)
        answered[rows] = True
    table.insert(0, "customer_id", inter["customer_id"].astype("str").to_numpy()[sent])
    table.insert(1, "timestamp", inter["timestamp"].to_numpy()[sent])
    table["response"] = answered
    return table


def response_features(data: CRMData, *, channel: str, as_of: object = None) -> pd.DataFrame:
    """Give the features of :func:`campaign_history` for a contact on ``channel`` at ``as_of``.

    Every customer of ``data`` gets one row, as if contacted on ``channel`` just after
    ``as_of`` (events at or before ``as_of`` count).

    Parameters
    ----------
    data : CRMData
        With interactions.
    channel : str
        Channel of the contact to score.
    as_of : str or Timestamp, optional
        Default: the data's ``observation_end``.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (sorted): :data:`FEATURES`.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels import CRMData
    >>> inter = pd.DataFrame({"customer_id": ["a", "a"], "channel": "sms",
    ...                       "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]),
    ...                       "kind": ["campaign_sent", "response"]})
    >>> response_features(CRMData(interactions=inter), channel="sms")[
    ...     ["channel_contacts_365d", "channel_responses_365d"]].values.tolist()
    [[1.0, 1.0]]
    """
    data = _interactions(data, "response_features")
    if not isinstance(channel, str) or not channel:
        raise InvalidParameterError(f"response_features: channel must be a channel name, "
                                    f"got {channel!r}")
    end = data_time(as_of, data, "as_of") if as_of is not None else data.observation_end
    ids = data.customer_ids
    uniques = ids[argsort_text(ids)]
    n = len(uniques)
    when = pd.Series(np.full(n, pd.Timestamp(end).to_datetime64()))
    seconds = _seconds(when) + 1
    table = _features(data, np.arange(n, dtype=np.int64), seconds,
                      np.full(n, channel, dtype=object), uniques)
    table.index = pd.Index(np.asarray(uniques, dtype=object), dtype="str", name="customer_id")
    return table
