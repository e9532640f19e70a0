"""Simulated CRM records with planted truth: people with several ids across channels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmmodels.errors import InvalidParameterError

__all__ = ["simulate_identities"]

_DOMAINS = np.array(["gmail.com", "yahoo.com", "outlook.com", "example.org", "mail.de"])
_SYSTEMS = np.array(["crm", "web", "shop", "app"])


def _email_variant(local: str, domain: str, style: int, tag: str) -> str:
    """One way of writing an address: case, a plus-tag, spaces, dots (gmail only)."""
    if style == 1:
        return f"{local.upper()}@{domain.upper()}"
    if style == 2:
        return f"{local}+{tag}@{domain}"
    if style == 3:
        return f"  {local.capitalize()}@{domain} "
    if style == 4 and domain == "gmail.com" and len(local) > 2:
        return f"{local[:2]}.{local[2:]}@{domain}"
    return f"{local}@{domain}"


def _phone_variant(area: int, exchange: int, line: int, style: int) -> str:
    """One of four ways of writing a North American number."""
    if style == 0:
        return f"+1 ({area}) {exchange}-{line:04d}"
    if style == 1:
        return f"{area}.{exchange}.{line:04d}"
    if style == 2:
        return f"{area}{exchange}{line:04d}"
    return f"1-{area}-{exchange}-{line:04d}"


def simulate_identities(n_people: int = 1_000, *, max_records: int = 4,
                        shared_phone_records: int = 0, random_state: int = 0
                        ) -> pd.DataFrame:
    """Simulate customer records of people known under several ids, and who each is.

    Each person has 1 to ``max_records`` records in different systems (``crm-12``,
    ``web-40`` ...). The first record carries the e-mail address and the phone
    number; each later record carries the address written another way (upper case, a
    ``+tag``, surrounding spaces, dots in a gmail address) and the phone in one of four
    formats (``+1 (555) 123-4567``, ``555.123.4567``, ``5551234567``,
    ``1-555-123-4567``), or only one of the two keys. With ``shared_phone_records``,
    that many extra records of different people share one phone number (a call
    centre's) and have no e-mail.

    Parameters
    ----------
    n_people : int, default 1000
    max_records : int, default 4
        Most records per person.
    shared_phone_records : int, default 0
    random_state : int, default 0

    Returns
    -------
    DataFrame
        ``customer_id`` (unique per record), ``email``, ``phone``, ``name`` and
        ``person`` (the planted truth), one row per record, shuffled.

    Examples
    --------
    >>> records = simulate_identities(50)
    >>> records["customer_id"].is_unique, records["person"].nunique()
    (True, 50)
    """
    for name, value, low in (("n_people", n_people, 1), ("max_records", max_records, 1),
                             ("shared_phone_records", shared_phone_records, 0)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise InvalidParameterError(f"simulate_identities: {name} must be an int >= {low}, "
                                        f"got {value!r}")
    rng = np.random.default_rng(random_state)
    n_rec = rng.integers(1, max_records + 1, n_people)
    person = np.repeat(np.arange(n_people), n_rec)
    first = np.r_[True, person[1:] != person[:-1]]
    n = len(person)
    domain = _DOMAINS[rng.integers(0, len(_DOMAINS), n_people)]
    local = np.array([f"p{p}x{rng.integers(0, 10**6)}" for p in range(n_people)], dtype=object)
    # Distinct numbers: area codes 200-999, exchange 200-999, line 0-9999.
    number = rng.choice(800 * 800 * 10_000, n_people + 1, replace=False)
    area, exchange, line = 200 + number // 8_000_000, 200 + number // 10_000 % 800, \
        number % 10_000
    # Later records: 0 both keys, 1 e-mail only, 2 phone only.
    carries = np.where(first, 0, rng.choice(3, n, p=[0.5, 0.25, 0.25]))
    email_style = np.where(first, 0, rng.integers(0, 5, n))
    phone_style = np.where(first, 0, rng.integers(0, 4, n))
    emails = np.array([_email_variant(local[p], domain[p], int(s), f"t{i % 7}")
                       for i, (p, s) in enumerate(zip(person, email_style, strict=True))],
                      dtype=object)
    phones = np.array([_phone_variant(int(area[p]), int(exchange[p]), int(line[p]), int(s))
                       for p, s in zip(person, phone_style, strict=True)], dtype=object)
    emails[carries == 2] = None
    phones[carries == 1] = None
    system = _SYSTEMS[rng.integers(0, len(_SYSTEMS), n)]
    frame = pd.DataFrame({
        "customer_id": [f"{s}-{i}" for i, s in enumerate(system)],
        "email": emails, "phone": phones,
        "name": [f"Person {p}" for p in person], "person": person})
    if shared_phone_records:
        k = shared_phone_records
        hub = _phone_variant(int(area[-1]), int(exchange[-1]), int(line[-1]), 0)
        extra = pd.DataFrame({
            "customer_id": [f"call-{i}" for i in range(k)], "email": None,
            "phone": [hub] * k, "name": [f"Caller {i}" for i in range(k)],
            "person": np.arange(n_people, n_people + k)})
        frame = pd.concat([frame, extra], ignore_index=True)
    return frame.sample(frac=1.0, random_state=random_state).reset_index(drop=True)


_CONTACT_CHANNELS = ("email", "sms", "phone", "mail")


def simulate_interactions(n_customers: int = 1_000, *, contacts: int = 40,
                          complaint_rate: float = 0.05, start: str = "2024-01-01",
                          days: int = 365, random_state: int = 0
                          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Campaign contacts, responses and complaints with a planted channel preference.

    Each customer prefers one of email, sms, phone and mail: a contact there gets a
    response with probability 0.25 to 0.40, elsewhere 0.02 to 0.10. Each customer
    gets ``contacts`` campaign contacts spread evenly over the channels at random times
    in ``days`` days; responses follow their contact by up to two days on the same
    channel. A share ``complaint_rate`` of customers complain once (half of the
    complaints are resolved).

    Parameters
    ----------
    n_customers : int, default 1000
    contacts : int, default 40
        Campaign contacts per customer.
    complaint_rate : float, default 0.05
    start : str, default "2024-01-01"
    days : int, default 365
    random_state : int, default 0

    Returns
    -------
    (DataFrame, DataFrame)
        The interactions (``customer_id, timestamp, channel, kind, outcome``) and the
        truth per customer (``preferred_channel`` and the response rate of each
        channel), indexed by ``customer_id``.

    Examples
    --------
    >>> inter, truth = simulate_interactions(20)
    >>> sorted(inter["kind"].unique()), truth.columns[0]
    (['campaign_sent', 'complaint', 'response'], 'preferred_channel')
    """
    for name, value, low in (("n_customers", n_customers, 1), ("contacts", contacts, 1),
                             ("days", days, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise InvalidParameterError(f"simulate_interactions: {name} must be an int >= "
                                        f"{low}, got {value!r}")
    if not 0 <= complaint_rate <= 1:
        raise InvalidParameterError("simulate_interactions: complaint_rate must be in [0, 1]")
    rng = np.random.default_rng(random_state)
    channels = np.array(_CONTACT_CHANNELS)
    m = len(channels)
    ids = np.array([f"P{i:06d}" for i in range(n_customers)], dtype=object)
    preferred = rng.integers(0, m, n_customers)
    rates = rng.uniform(0.02, 0.10, (n_customers, m))
    rates[np.arange(n_customers), preferred] = rng.uniform(0.25, 0.40, n_customers)
    who = np.repeat(np.arange(n_customers), contacts)
    channel = np.tile(np.arange(contacts) % m, n_customers)
    origin = pd.Timestamp(start).to_datetime64().astype("datetime64[s]")
    when = origin + rng.integers(0, days * 86_400, len(who)).astype("timedelta64[s]")
    answered = rng.random(len(who)) < rates[who, channel]
    reply = when[answered] + rng.integers(60, 2 * 86_400, int(answered.sum())).astype(
        "timedelta64[s]")
    complain = np.flatnonzero(rng.random(n_customers) < complaint_rate)
    frames = [
        pd.DataFrame({"customer_id": ids[who], "timestamp": when,
                      "channel": channels[channel], "kind": "campaign_sent", "outcome": None}),
        pd.DataFrame({"customer_id": ids[who[answered]], "timestamp": reply,
                      "channel": channels[channel[answered]], "kind": "response",
                      "outcome": None}),
        pd.DataFrame({"customer_id": ids[complain],
                      "timestamp": origin + rng.integers(0, days * 86_400, len(complain))
                      .astype("timedelta64[s]"),
                      "channel": "phone", "kind": "complaint",
                      "outcome": np.where(rng.random(len(complain)) < 0.5, "resolved",
                                          "open")}),
    ]
    inter = pd.concat(frames, ignore_index=True).sort_values(
        ["timestamp", "customer_id"], ignore_index=True)
    truth = pd.DataFrame(rates, columns=[f"rate_{c}" for c in channels],
                         index=pd.Index(ids, name="customer_id"))
    truth.insert(0, "preferred_channel", channels[preferred])
    return inter, truth
