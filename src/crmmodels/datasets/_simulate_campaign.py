"""A simulated randomised campaign with known per-customer uplift.

Customers are drawn like the buyers of Hillstrom's e-mail test, assigned at random to
the control group or a treatment, and respond with a probability that the treatment
raises for some customers and lowers for others. The true uplift of every customer is
returned with the data, so that uplift models can be checked against it.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from crmmodels.errors import InvalidParameterError

__all__ = ["simulate_campaign"]

#: The arms of a campaign with two treatments: the control value first.
TWO_TREATMENTS = ("no_email", "womens_email", "mens_email")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-z))
    return out


def _check(n_customers: Any, treatment_share: Any, n_treatments: Any) -> None:
    if not (isinstance(n_customers, Integral) and not isinstance(n_customers, bool)
            and int(n_customers) >= 1):
        raise InvalidParameterError(
            f"simulate_campaign: n_customers must be an int >= 1, got {n_customers!r}")
    if not (isinstance(treatment_share, Real) and not isinstance(treatment_share, bool)
            and 0 < float(treatment_share) < 1):
        raise InvalidParameterError(
            "simulate_campaign: treatment_share must be a number in (0, 1), got "
            f"{treatment_share!r}")
    if isinstance(n_treatments, bool) or n_treatments not in (1, 2):
        raise InvalidParameterError(
            f"simulate_campaign: n_treatments must be 1 or 2, got {n_treatments!r}")


def simulate_campaign(n_customers: int, *, treatment_share: float = 0.5,
                      n_treatments: int = 1,
                      random_state: int | np.random.Generator | None = 0) -> pd.DataFrame:
    """Simulate a randomised e-mail test with a known uplift for every customer.

    Customers resemble Hillstrom's e-mail test (:func:`load_hillstrom`):

    * ``recency`` (months since the last purchase) uniform on 1, ..., 12;
    * ``history`` (spend in the past year) ``exp(h)`` with ``h ~ N(5, 0.8)``;
    * ``womens``, ``mens`` (bought women's or men's merchandise) each Bernoulli(0.55);
    * ``newbie`` Bernoulli(0.5); ``channel`` "Phone", "Web" or "Multichannel" with
      probabilities 0.45, 0.45, 0.10; ``zip_code`` "Urban", "Suburban" or "Rural"
      with equal probabilities (``mens`` and ``zip_code`` play no part in the
      response without treatment, nor ``zip_code`` in any effect).

    Without treatment a customer responds with probability
    ``p0 = sigmoid(-2 + 0.35 (h - 5) - 0.08 (recency - 6) + 0.2 womens - 0.1 newbie
    + 0.2 [channel = Multichannel])``. A treatment adds an effect on the probability
    scale, ``p1 = clip(p0 + effect, 0.001, 0.999)``; the true uplift is ``p1 - p0``.
    The effect of the (first) treatment is
    ``0.02 + 0.08 womens + 0.04 (h - 5) - 0.008 (recency - 6.5) - 0.04 newbie``: about a
    quarter of the customers are put off (negative uplift). With two treatments the
    second one's effect is
    ``0.02 + 0.08 mens - 0.03 (h - 5) + 0.008 (recency - 6.5) - 0.01 newbie``, so which
    treatment is best differs between customers.

    Parameters
    ----------
    n_customers : int
        Number of customers.
    treatment_share : float, default 0.5
        Probability that a customer is treated, in (0, 1); with two treatments each
        gets half of it. Each customer is assigned independently at random.
    n_treatments : {1, 2}, default 1
        One treatment (``treatment`` 0 = control, 1 = treated) or two (``treatment``
        ``"no_email"`` = control, ``"womens_email"``, ``"mens_email"``).
    random_state : int, Generator or None, default 0
        Seed.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``: the features ``recency, history, mens, womens,
        newbie, zip_code, channel``, the assignment ``treatment``, the outcome
        ``response`` (0/1) and the truth: ``true_uplift`` (one treatment) or
        ``true_uplift_womens_email`` and ``true_uplift_mens_email`` (two). Leave the
        truth out of the features of a model.

    Raises
    ------
    InvalidParameterError
        A parameter is out of range.

    Examples
    --------
    >>> campaign = simulate_campaign(20_000, random_state=0)
    >>> round(float(campaign["true_uplift"].mean()), 3)
    0.045
    >>> round(float((campaign["true_uplift"] < 0).mean()), 2)
    0.25
    >>> arms = simulate_campaign(3000, n_treatments=2)["treatment"]
    >>> sorted(arms.unique())
    ['mens_email', 'no_email', 'womens_email']
    """
    _check(n_customers, treatment_share, n_treatments)
    n = int(n_customers)
    share = float(treatment_share)
    rng = np.random.default_rng(random_state)
    recency = rng.integers(1, 13, n)
    h = rng.normal(5.0, 0.8, n)
    womens = rng.binomial(1, 0.55, n)
    mens = rng.binomial(1, 0.55, n)
    newbie = rng.binomial(1, 0.5, n)
    channel = rng.choice(np.array(["Phone", "Web", "Multichannel"], dtype=object), n,
                         p=[0.45, 0.45, 0.10])
    zip_code = rng.choice(np.array(["Urban", "Suburban", "Rural"], dtype=object), n)
    p0 = _sigmoid(-2.0 + 0.35 * (h - 5) - 0.08 * (recency - 6) + 0.2 * womens
                  - 0.1 * newbie + 0.2 * (channel == "Multichannel"))
    effects = [0.02 + 0.08 * womens + 0.04 * (h - 5) - 0.008 * (recency - 6.5)
               - 0.04 * newbie]
    if n_treatments == 2:
        effects.append(0.02 + 0.08 * mens - 0.03 * (h - 5) + 0.008 * (recency - 6.5)
                       - 0.01 * newbie)
    p_arm = [p0, *(np.clip(p0 + e, 0.001, 0.999) for e in effects)]
    arm = rng.choice(len(p_arm), n, p=[1 - share, *[share / n_treatments] * n_treatments])
    p = np.choose(arm, p_arm)
    response = rng.binomial(1, p)
    frame = pd.DataFrame({
        "recency": recency, "history": np.round(np.exp(h), 2), "mens": mens,
        "womens": womens, "newbie": newbie, "zip_code": zip_code, "channel": channel,
    }, index=pd.Index([f"c{i}" for i in range(n)], name="customer_id", dtype="str"))
    if n_treatments == 1:
        frame["treatment"] = arm
        frame["response"] = response
        frame["true_uplift"] = p_arm[1] - p0
    else:
        frame["treatment"] = np.asarray(TWO_TREATMENTS, dtype=object)[arm]
        frame["response"] = response
        for name, p1 in zip(TWO_TREATMENTS[1:], p_arm[1:], strict=True):
            frame[f"true_uplift_{name}"] = p1 - p0
    return frame
