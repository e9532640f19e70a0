"""One simulated CRM with planted truth: ids across systems, channels, stages, a campaign."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crmmodels.data import CRMData, whole_number
from crmmodels.datasets._simulate_crm import simulate_identities, simulate_interactions
from crmmodels.errors import InvalidParameterError

__all__ = ["PLANTED_STAGES", "SimulatedCRM", "simulate_crm"]

# Planted lifecycle stages and their shares.
PLANTED_STAGES: dict[str, float] = {"new": 0.10, "growing": 0.10, "stable": 0.35,
                                    "declining": 0.15, "lapsed": 0.15, "churned": 0.15}
# Days of the test campaign before the end of the data, and of its visit window.
_CAMPAIGN_BEFORE_END = 30
_VISIT_WINDOW = 14


@dataclass(frozen=True)
class SimulatedCRM:
    """A simulated CRM and its planted truth (see :func:`simulate_crm`).

    Attributes
    ----------
    records : DataFrame
        One row per source id: ``customer_id``, ``email``, ``phone``, ``name``,
        ``first_name``, ``surname``, ``address``, ``postcode`` and ``person`` (the
        truth), as :func:`simulate_identities` makes them.
    data : CRMData
        Transactions, customers and interactions, keyed by source id (one person's
        purchases and contacts are spread over their ids).
    truth : DataFrame
        Per person (index ``person``): ``source_ids``, ``lifecycle_stage``,
        ``typical_gap`` (days), ``preferred_channel``, ``rate_<channel>`` (response
        rate per channel), ``treated``, ``visit`` and ``true_uplift`` of the test
        campaign.
    campaign : DataFrame
        The randomised test campaign, one row per person (index ``person``): features
        as of the campaign date (``recency``, ``frequency``, ``monetary``,
        ``tenure``, ``email_contacts``, ``email_responses`` before it), ``treatment``
        (1 = sent),
        ``visit`` (visited within 14 days) and ``true_uplift``.
    campaign_date : Timestamp
        The day of the test campaign (30 days before the end of the data); its e-mails
        are stamped 09:00 that day.
    """

    records: pd.DataFrame
    data: CRMData
    truth: pd.DataFrame
    campaign: pd.DataFrame
    campaign_date: pd.Timestamp


def _purchase_days(stage: str, gap: float, days: int, rng: np.random.Generator
                   ) -> np.ndarray:
    """Days before the end of the data of one person's purchases, oldest first."""
    if stage == "new":
        first = rng.uniform(5, 85)
    elif stage == "churned":
        first = rng.uniform(0.8 * days, days)
    else:
        first = rng.uniform(0.5 * days, days)
    stop = 0.0
    if stage == "lapsed":
        stop = rng.uniform(3.6, 5.4) * gap
    elif stage == "churned":
        stop = rng.uniform(7.5, 12.0) * gap
    out = []
    age = first
    while age >= stop:
        out.append(age)
        step = gap
        if stage == "growing" and age <= 180:
            step = gap / 2.5
        elif stage == "declining" and age <= 180:
            step = gap * 2.0
        age -= step * rng.uniform(0.8, 1.2)
    return np.array(out)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def _z(x: np.ndarray) -> np.ndarray:
    sd = float(np.std(x))
    return np.asarray((x - np.mean(x)) / (sd if sd > 0 else 1.0))


def simulate_crm(n_people: int = 2_000, *, max_records: int = 3, contacts: int = 80,
                 days: int = 730, end: str = "2024-12-31", treatment_share: float = 0.5,
                 random_state: int = 0) -> SimulatedCRM:
    """Simulate a whole CRM whose truth is known: who is who, how they buy and respond.

    * **Identity.** Each person has 1 to ``max_records`` records in different systems
      (:func:`simulate_identities`): e-mail and phone written differently, names and
      addresses with keying errors. Their purchases and contacts are spread over
      their source ids at random, so models fitted on source ids count one person
      several times until the ids are resolved.
    * **Lifecycle.** Each person has a planted stage (:data:`PLANTED_STAGES`) and a
      typical gap between purchases ``g`` (uniform 20 to 45 days; purchases ``g`` times
      a uniform 0.8 to 1.2 apart): ``new`` (first purchase 5 to 85 days before the end),
      ``stable`` (regular up to the end), ``growing`` (gaps ``g / 2.5`` in the last 180
      days), ``declining`` (gaps ``2 g`` in the last 180 days), ``lapsed`` (stopped
      3.6 to 5.4 ``g`` before the end), ``churned`` (stopped 7.5 to 12 ``g`` before
      the end); amounts are gamma (shape 16) around a person's own mean. These follow
      :class:`~crmmodels.segments.LifecycleModel`'s default rules.
    * **Interact.** ``contacts`` campaign contacts per person with a planted preferred
      channel and response rates (:func:`simulate_interactions`), and complaints.
    * **A randomised test campaign** 30 days before the end: each person is sent an
      e-mail (``campaign_sent``, channel ``email``, cost 0.5) with probability
      ``treatment_share``; a ``visit`` (channel ``web``) within 14 days follows with
      probability ``p0 = sigmoid(-1.6 + 0.5 z(log monetary) - 0.6 z(recency) + 0.3
      z(frequency))`` untreated and ``p1 = clip(p0 + 0.03 + 0.06 z(email response
      rate) - 0.05 z(recency) + 0.02 z(log monetary), 0.001, 0.999)`` treated (``z``:
      standardised over people; features as of the campaign date), so some people are
      put off; ``true_uplift = p1 - p0``.

    Parameters
    ----------
    n_people : int, default 2000
    max_records : int, default 3
        Most source ids per person.
    contacts : int, default 80
        Regular campaign contacts per person over the period.
    days : int, default 730
        Length of the data in days (at least 400).
    end : str, default "2024-12-31"
        Last day of the data (the data's ``observation_end``).
    treatment_share : float, default 0.5
        Probability of being sent the test e-mail, in (0, 1).
    random_state : int, default 0

    Returns
    -------
    SimulatedCRM

    Examples
    --------
    >>> world = simulate_crm(200, random_state=1)
    >>> sorted(world.truth["lifecycle_stage"].unique()) == sorted(PLANTED_STAGES)
    True
    >>> world.data.n_customers, world.campaign.shape[0]
    (414, 200)
    """
    for name, value, low in (("n_people", n_people, 10), ("max_records", max_records, 1),
                             ("contacts", contacts, 4), ("days", days, 400),
                             ("random_state", random_state, 0)):
        whole_number(value, f"simulate_crm: {name}", low)
    if isinstance(treatment_share, bool) or not isinstance(treatment_share, float | int) or \
            not 0 < treatment_share < 1:
        raise InvalidParameterError(f"simulate_crm: treatment_share must be in (0, 1), got "
                                    f"{treatment_share!r}")
    stop = pd.Timestamp(end)
    if stop != stop.normalize():
        raise InvalidParameterError(f"simulate_crm: end must be a day, got {end!r}")
    last = stop + pd.Timedelta(hours=23, minutes=59)
    rng = np.random.default_rng([random_state, 7])
    records = simulate_identities(n_people, max_records=max_records,
                                  random_state=random_state)
    person = records["person"].to_numpy()
    ids = records["customer_id"].to_numpy(dtype=object)
    order = np.argsort(person, kind="stable")
    starts = np.searchsorted(person[order], np.arange(n_people))
    counts = np.bincount(person, minlength=n_people)

    def some_id(who: np.ndarray) -> np.ndarray:
        """Pick a random source id of each person in ``who``."""
        pick = starts[who] + (rng.random(len(who)) * counts[who]).astype(np.int64)
        return np.asarray(ids[order[pick]], dtype=object)

    # Purchases.
    names = np.array(list(PLANTED_STAGES))
    stage = names[rng.choice(len(names), n_people, p=list(PLANTED_STAGES.values()))]
    gap = rng.uniform(20, 45, n_people)
    gap[stage == "churned"] = rng.uniform(20, 35, int((stage == "churned").sum()))
    mean_amount = np.exp(rng.normal(np.log(40), 0.5, n_people))
    ages = [_purchase_days(str(s), float(g), days, rng) for s, g in zip(stage, gap,
                                                                         strict=True)]
    who = np.repeat(np.arange(n_people), [len(a) for a in ages])
    age = np.concatenate(ages)
    # Calendar days before the end, at a random time of day.
    when = (stop - pd.to_timedelta(np.floor(age), unit="D")
            + pd.to_timedelta(rng.integers(8 * 3600, 20 * 3600, len(age)), unit="s"))
    amount = np.round(mean_amount[who] * rng.gamma(16.0, 1 / 16, len(age)), 2) + 0.01
    tx = pd.DataFrame({"customer_id": some_id(who), "timestamp": when, "amount": amount,
                       "transaction_id": [f"T{i:08d}" for i in range(len(age))]})

    # Regular contacts with a planted channel preference, over the whole period.
    campaign_date = stop - pd.Timedelta(days=_CAMPAIGN_BEFORE_END)
    origin = stop - pd.Timedelta(days=days)
    inter, channel_truth = simulate_interactions(
        n_people, contacts=contacts, start=str(origin.date()), days=days - 3,
        random_state=random_state)
    contact_person = inter["customer_id"].str.slice(1).astype(np.int64).to_numpy()
    inter = inter.assign(customer_id=some_id(contact_person))

    # The test campaign: features as of its date.
    before = when < campaign_date
    t_days = (campaign_date - when[before]).total_seconds().to_numpy() / 86_400
    b_who = who[before]
    recency = np.full(n_people, float(days))
    np.minimum.at(recency, b_who, t_days)
    tenure = np.zeros(n_people)
    np.maximum.at(tenure, b_who, t_days)
    frequency = np.bincount(b_who[t_days <= 365], minlength=n_people).astype(float)
    spend = np.bincount(b_who, weights=amount[before], minlength=n_people)
    n_before = np.bincount(b_who, minlength=n_people)
    monetary = np.where(n_before > 0, spend / np.maximum(n_before, 1), 0.0)
    is_email = ((inter["channel"] == "email")
                & (inter["timestamp"] < campaign_date)).to_numpy()
    sent = is_email & (inter["kind"] == "campaign_sent").to_numpy()
    replied = is_email & (inter["kind"] == "response").to_numpy()
    email_contacts = np.bincount(contact_person[sent], minlength=n_people)
    email_responses = np.bincount(contact_person[replied], minlength=n_people)
    email_rate = email_responses / np.maximum(email_contacts, 1)
    log_m = np.log1p(monetary)
    p0 = _sigmoid(-1.6 + 0.5 * _z(log_m) - 0.6 * _z(recency) + 0.3 * _z(frequency))
    p1 = np.clip(p0 + 0.03 + 0.06 * _z(email_rate) - 0.05 * _z(recency) + 0.02 * _z(log_m),
                 0.001, 0.999)
    treated = rng.random(n_people) < treatment_share
    visit = rng.random(n_people) < np.where(treated, p1, p0)
    t_who = np.flatnonzero(treated)
    v_who = np.flatnonzero(visit)
    test = [
        pd.DataFrame({"customer_id": some_id(t_who),
                      "timestamp": campaign_date + pd.Timedelta(hours=9),
                      "channel": "email", "kind": "campaign_sent", "outcome": None,
                      "cost": 0.5}),
        pd.DataFrame({"customer_id": some_id(v_who),
                      "timestamp": campaign_date + pd.to_timedelta(
                          rng.integers(10 * 3600, _VISIT_WINDOW * 86_400, len(v_who)),
                          unit="s"),
                      "channel": "web", "kind": "visit", "outcome": None, "cost": np.nan}),
    ]
    interactions = pd.concat([inter.assign(cost=np.where(inter["kind"] == "campaign_sent",
                                                         0.5, np.nan)), *test],
                             ignore_index=True).sort_values(
        ["timestamp", "customer_id"], kind="stable", ignore_index=True)

    # Customers: every source id, signed up when first seen (or at the start).
    seen = pd.concat([tx[["customer_id", "timestamp"]],
                      interactions[["customer_id", "timestamp"]]]).groupby(
        "customer_id")["timestamp"].min()
    signup = pd.Series(ids, dtype=object).map(seen).fillna(origin).dt.normalize()
    customers = pd.DataFrame({"customer_id": ids, "signup_date": signup.to_numpy()})
    data = CRMData(transactions=tx, customers=customers, interactions=interactions,
                   observation_end=last)

    index = pd.Index([f"P{p:06d}" for p in range(n_people)], name="person")
    id_lists = pd.Series(ids[order], dtype=object).groupby(person[order]).agg(
        lambda s: sorted(s))
    truth = pd.DataFrame({"source_ids": id_lists.to_numpy(), "lifecycle_stage": stage,
                          "typical_gap": gap}, index=index)
    channel_truth.index = index
    truth = truth.join(channel_truth)
    truth["treated"] = treated
    truth["visit"] = visit
    truth["true_uplift"] = p1 - p0
    campaign = pd.DataFrame({
        "recency": np.round(recency, 3), "frequency": frequency,
        "monetary": np.round(monetary, 2), "tenure": np.round(tenure, 3),
        "email_contacts": email_contacts, "email_responses": email_responses,
        "treatment": treated.astype(np.int64), "visit": visit.astype(np.int64),
        "true_uplift": p1 - p0}, index=index)
    records_out = records.assign(person=[f"P{p:06d}" for p in person])
    return SimulatedCRM(records=records_out, data=data, truth=truth, campaign=campaign,
                        campaign_date=campaign_date)
