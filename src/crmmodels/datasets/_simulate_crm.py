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


_SYLLABLES = np.array(["an", "be", "ca", "da", "el", "fi", "ga", "ho", "is", "jo", "ka",
                       "li", "ma", "ne", "ol", "pe", "ra", "sa", "ti", "ul", "va", "wi",
                       "ya", "zo", "mar", "son", "ton", "ley", "den", "ric"])
_STREET_TYPES = np.array(["Street", "Road", "Lane", "Avenue"])
_STREET_SHORT = {"Street": "St", "Road": "Rd", "Lane": "Ln", "Avenue": "Ave"}


def _words(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """``n`` distinct capitalised made-up words of ``low`` to ``high`` syllables."""
    found: dict[str, None] = {}
    while len(found) < n:
        k = int(rng.integers(low, high + 1))
        found["".join(rng.choice(_SYLLABLES, k)).capitalize()] = None
    return np.array(list(found), dtype=object)


def _zipf_pick(rng: np.random.Generator, pool: np.ndarray, n: int) -> np.ndarray:
    """Draw ``n`` words from ``pool`` with Zipf-like frequencies (some common)."""
    weights = np.arange(1, len(pool) + 1) ** -0.6
    return pool[rng.choice(len(pool), n, p=weights / weights.sum())]


def _typo(rng: np.random.Generator, word: str) -> str:
    """One keying error: a letter dropped, doubled, swapped with the next, or replaced."""
    if len(word) < 4:
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    if kind == 2:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    letter = "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(0, 26))]
    return word[:i] + letter + word[i + 1:]


def simulate_identities(n_people: int = 1_000, *, max_records: int = 4,
                        shared_phone_records: int = 0, keyless_share: float = 0.0,
                        random_state: int = 0) -> pd.DataFrame:
    """Simulate customer records of people known under several ids, and who each is.

    Each person has 1 to ``max_records`` records in different systems (``crm-12``,
    ``web-40`` ...). The first record carries the e-mail address and the phone
    number; each later record carries the address written another way (upper case, a
    ``+tag``, surrounding spaces, dots in a gmail address) and the phone in one of four
    formats (``+1 (555) 123-4567``, ``555.123.4567``, ``5551234567``,
    ``1-555-123-4567``), or only one of the two keys. With ``shared_phone_records``,
    that many extra records of different people share one phone number (a call
    centre's) and have no e-mail.

    Every record also has the person's ``first_name``, ``surname``, ``address`` and
    ``postcode`` (made-up words; surnames and first names drawn with Zipf-like
    frequencies, so some are shared by many people). Later records write them with
    errors: a keying error in one name (a letter dropped, doubled, swapped or
    replaced; 20% of records), the street type abbreviated (``Street`` -> ``St``,
    30%), a keying error in the street name (10%), a move to another address and
    postcode (10%). About 25 people share each postcode. A share ``keyless_share`` of the
    later records carries neither e-mail nor phone: only the names and address link
    them (probabilistic matching, ``resolve_identities(..., fuzzy=...)``).

    Parameters
    ----------
    n_people : int, default 1000
    max_records : int, default 4
        Most records per person.
    shared_phone_records : int, default 0
    keyless_share : float, default 0.0
        Share of later records without e-mail and phone, in [0, 1].
    random_state : int, default 0

    Returns
    -------
    DataFrame
        ``customer_id`` (unique per record), ``email``, ``phone``, ``name`` (first name
        and surname as written), ``first_name``, ``surname``, ``address``, ``postcode``
        and ``person`` (the planted truth), one row per record, shuffled.

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
    if isinstance(keyless_share, bool) or not isinstance(keyless_share, float | int) \
            or not 0 <= keyless_share <= 1:
        raise InvalidParameterError(f"simulate_identities: keyless_share must be a number in "
                                    f"[0, 1], got {keyless_share!r}")
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
    # Names and addresses from a second stream, so the keys above do not depend on them.
    k = shared_phone_records
    rng2 = np.random.default_rng([random_state, 1])
    firsts = _zipf_pick(rng2, _words(rng2, 400, 2, 3), n_people + k)
    surnames = _zipf_pick(rng2, _words(rng2, 3_000, 2, 4), n_people + k)
    streets = _words(rng2, 2_000, 2, 3)[rng2.integers(0, 2_000, n_people + k)]
    street_type = _STREET_TYPES[rng2.integers(0, len(_STREET_TYPES), n_people + k)]
    house = rng2.integers(1, 300, n_people + k)
    # About 25 people per postcode: neighbours share one.
    codes = np.array([f"{z:05d}" for z in rng2.choice(np.arange(1_000, 100_000),
                                                       max(10, n_people // 25), replace=False)],
                     dtype=object)
    postcode = codes[rng2.integers(0, len(codes), n_people + k)]
    first_w, sur_w, addr_w, code_w = [], [], [], []
    for p, is_first in zip(person, first, strict=True):
        f, s_, street, st = str(firsts[p]), str(surnames[p]), str(streets[p]), \
            str(street_type[p])
        code, house_no = str(postcode[p]), int(house[p])
        if not is_first:
            u = rng2.random(5)
            if u[4] < 0.1:
                # Moved: another house, street and postcode.
                street = str(streets[rng2.integers(0, n_people + k)])
                code = str(codes[rng2.integers(0, len(codes))])
                house_no = int(rng2.integers(1, 300))
            if u[0] < 0.2:
                if u[1] < 0.5:
                    f = _typo(rng2, f)
                else:
                    s_ = _typo(rng2, s_)
            if u[2] < 0.1:
                street = _typo(rng2, street)
            if u[3] < 0.3:
                st = _STREET_SHORT[st]
        first_w.append(f)
        sur_w.append(s_)
        addr_w.append(f"{house_no} {street} {st}")
        code_w.append(code)
    keyless = ~first & (rng2.random(n) < keyless_share)
    emails[keyless] = None
    phones[keyless] = None
    frame = pd.DataFrame({
        "customer_id": [f"{s}-{i}" for i, s in enumerate(system)],
        "email": emails, "phone": phones,
        "name": [f"{a} {b}" for a, b in zip(first_w, sur_w, strict=True)],
        "first_name": first_w, "surname": sur_w, "address": addr_w,
        "postcode": code_w, "person": person})
    if shared_phone_records:
        hub = _phone_variant(int(area[-1]), int(exchange[-1]), int(line[-1]), 0)
        callers = np.arange(n_people, n_people + k)
        extra = pd.DataFrame({
            "customer_id": [f"call-{i}" for i in range(k)], "email": None,
            "phone": [hub] * k,
            "name": [f"{a} {b}" for a, b in zip(firsts[callers], surnames[callers],
                                                strict=True)],
            "first_name": firsts[callers], "surname": surnames[callers],
            "address": [f"{h} {a} {b}" for h, a, b in zip(house[callers], streets[callers],
                                                          street_type[callers], strict=True)],
            "postcode": postcode[callers], "person": callers})
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
