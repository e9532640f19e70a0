"""Simulators with known ground truth for the MBG/NBD and BG/BB models.

Like :mod:`crmmodels.datasets._simulate`, each returns one row per customer with the
model's sufficient statistics plus the latent truth, so that fits can be checked
against known parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmmodels.datasets._simulate import _bg_family, _check, _ids
from crmmodels.errors import InvalidParameterError

__all__ = ["simulate_bg_bb", "simulate_mbg_nbd"]


def simulate_mbg_nbd(
    n_customers: int, T: float | np.ndarray, r: float, alpha: float, a: float, b: float,  # noqa: N803
    *, random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate MBG/NBD customers (Batislam, Denizel & Filiztekin 2007) observed for ``T``.

    Each customer buys at rate ``lambda ~ Gamma(r, alpha)`` while alive and drops out
    with probability ``p ~ Beta(a, b)`` right after the first purchase (time zero)
    and after each repeat purchase.

    Parameters
    ----------
    n_customers : int
        Number of customers.
    T : float or array
        Observation time of each customer (periods since the first purchase).
    r, alpha, a, b : float
        Model parameters.
    random_state : int or Generator, optional
        Seed for reproducible draws.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``: ``frequency, recency, T`` and the truth
        ``rate, dropout, alive`` (alive at ``T``).

    Examples
    --------
    >>> s = simulate_mbg_nbd(1000, 52.0, r=0.25, alpha=4.0, a=0.8, b=2.5, random_state=0)
    >>> bool((s["recency"] <= s["T"]).all())
    True
    >>> bool(s.loc[s["frequency"] == 0, "alive"].mean() < 1)  # some left at time zero
    True
    """
    return _bg_family(n_customers, T, r, alpha, a, b, random_state, dropout_at_zero=True)


def simulate_bg_bb(
    n_customers: int, n_periods: int | np.ndarray, alpha: float, beta: float, gamma: float,
    delta: float, *, random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate BG/BB customers (Fader, Hardie & Shang 2010) over ``n_periods`` opportunities.

    After the first transaction (opportunity 0), a customer alive at an opportunity
    transacts with probability ``p ~ Beta(alpha, beta)``, and becomes inactive at the
    beginning of each opportunity with probability ``theta ~ Beta(gamma, delta)``.

    Parameters
    ----------
    n_customers : int
        Number of customers.
    n_periods : int or array of int
        Transaction opportunities observed per customer.
    alpha, beta, gamma, delta : float
        Model parameters.
    random_state : int or Generator, optional
        Seed for reproducible draws.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``: ``frequency, recency, n_periods`` (int64) and the
        truth ``transaction_probability`` (``p``), ``dropout_probability``
        (``theta``), ``lifetime`` (opportunities the customer is alive for, capped at
        ``n_periods + 1``) and ``alive`` (alive at opportunity ``n_periods + 1``,
        the quantity the model's ``p_alive`` estimates).

    Examples
    --------
    >>> s = simulate_bg_bb(1000, 6, alpha=1.2, beta=0.75, gamma=0.66, delta=2.78,
    ...                    random_state=0)
    >>> bool(((s["frequency"] <= s["recency"]) & (s["recency"] <= s["n_periods"])).all())
    True
    """
    _check(n_customers, alpha=alpha, beta=beta, gamma=gamma, delta=delta)
    n = np.broadcast_to(np.asarray(n_periods), (n_customers,)).copy()
    if not (np.issubdtype(n.dtype, np.integer) or np.all(n == np.round(n))) or np.any(n < 0):
        raise InvalidParameterError("n_periods must be non-negative whole numbers")
    n = n.astype(np.int64)
    rng = np.random.default_rng(random_state)
    p = np.clip(rng.beta(alpha, beta, n_customers), 1e-12, 1.0)
    theta = np.clip(rng.beta(gamma, delta, n_customers), 1e-12, 1.0)
    # Opportunities survived: inactive from the beginning of opportunity G ~ Geometric.
    lifetime = np.minimum(rng.geometric(theta) - 1, n + 1)
    m = np.minimum(lifetime, n)  # opportunities alive within the window
    # Scanning back from opportunity m, the failures before the last transaction are
    # Geometric(p) - 1; the transactions before it are Binomial(t_x - 1, p).
    trailing = rng.geometric(p) - 1
    any_tx = trailing < m
    tx = np.where(any_tx, m - trailing, 0)
    x = np.where(any_tx, 1 + rng.binomial(np.maximum(tx - 1, 0), p), 0)
    return pd.DataFrame(
        {"frequency": x.astype(np.int64), "recency": tx.astype(np.int64), "n_periods": n,
         "transaction_probability": p, "dropout_probability": theta,
         "lifetime": lifetime.astype(np.int64), "alive": lifetime > n},
        index=_ids(n_customers),
    )
