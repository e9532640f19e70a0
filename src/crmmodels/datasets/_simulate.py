"""Simulators with known ground truth for the CLV models.

Each returns one row per customer with the model's sufficient statistics plus the
latent truth (rates, dropout, alive), so that fits can be checked against known
parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmmodels.errors import InvalidParameterError

__all__ = ["simulate_bg_nbd", "simulate_pareto_nbd", "simulate_sbg"]


def _check(n: int, **params: float) -> None:
    if not (isinstance(n, int | np.integer) and n >= 1):
        raise InvalidParameterError(f"n_customers must be a positive integer, got {n!r}")
    for name, value in params.items():
        if not (np.isfinite(value) and value > 0):
            raise InvalidParameterError(f"{name} must be positive, got {value!r}")


def _ids(n: int) -> pd.Index:
    return pd.Index([f"s{i}" for i in range(n)], name="customer_id", dtype="str")


def _horizon(T: float | np.ndarray, n: int) -> np.ndarray:  # noqa: N803
    t = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    if not (np.all(np.isfinite(t)) and np.all(t > 0)):
        raise InvalidParameterError("T must be positive")
    return t


def _bg_family(n_customers: int, T: float | np.ndarray, r: float, alpha: float,  # noqa: N803
               a: float, b: float, random_state: int | np.random.Generator | None,
               *, dropout_at_zero: bool) -> pd.DataFrame:
    """Simulate BG/NBD (``dropout_at_zero=False``) or MBG/NBD customers.

    Gamma purchase rates, beta dropout probabilities; a customer may leave after each
    repeat purchase, and under MBG/NBD also right after the first one (time zero).
    """
    _check(n_customers, r=r, alpha=alpha, a=a, b=b)
    rng = np.random.default_rng(random_state)
    t = _horizon(T, n_customers)
    lam = rng.gamma(r, 1 / alpha, n_customers)
    p = rng.beta(a, b, n_customers)
    n_arrivals = rng.poisson(lam * t)
    # Repeat purchases made before dropping out (MBG/NBD: 0 when leaving at time zero).
    if dropout_at_zero:
        k_death = rng.geometric(np.clip(p, 1e-12, 1.0)) - 1
    else:
        k_death = rng.geometric(p)
    x = np.minimum(n_arrivals, k_death)
    # The x-th of n uniform arrival times on (0, T] is T * Beta(x, n - x + 1).
    rec = np.zeros(n_customers)
    pos = x > 0
    rec[pos] = t[pos] * rng.beta(x[pos], n_arrivals[pos] - x[pos] + 1)
    return pd.DataFrame(
        {"frequency": x.astype(float), "recency": rec, "T": t, "rate": lam, "dropout": p,
         "alive": n_arrivals < k_death},
        index=_ids(n_customers),
    )


def simulate_bg_nbd(
    n_customers: int, T: float | np.ndarray, r: float, alpha: float, a: float, b: float,  # noqa: N803
    *, random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate BG/NBD customers (Fader, Hardie & Lee 2005) observed for ``T`` periods.

    Each customer buys at rate ``lambda ~ Gamma(r, alpha)`` while alive and drops out
    after each repeat purchase with probability ``p ~ Beta(a, b)``.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``: ``frequency, recency, T`` and the truth
        ``rate, dropout, alive``.

    Examples
    --------
    >>> s = simulate_bg_nbd(1000, 52.0, r=0.25, alpha=4.0, a=0.8, b=2.5, random_state=0)
    >>> bool((s["recency"] <= s["T"]).all())
    True
    """
    return _bg_family(n_customers, T, r, alpha, a, b, random_state, dropout_at_zero=False)


def simulate_pareto_nbd(
    n_customers: int, T: float | np.ndarray, r: float, alpha: float, s: float, beta: float,  # noqa: N803
    *, random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate Pareto/NBD customers (Schmittlein, Morrison & Colombo 1987).

    Purchase rate ``lambda ~ Gamma(r, alpha)``, dropout rate ``mu ~ Gamma(s, beta)``;
    each customer is alive for an exponential lifetime with rate ``mu``.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``: ``frequency, recency, T`` and the truth
        ``rate, dropout_rate, lifetime, alive``.

    Examples
    --------
    >>> s = simulate_pareto_nbd(500, 39.0, r=0.55, alpha=10.6, s=0.61, beta=11.7,
    ...                         random_state=1)
    >>> bool(((s["frequency"] == 0) == (s["recency"] == 0)).all())
    True
    """
    _check(n_customers, r=r, alpha=alpha, s=s, beta=beta)
    rng = np.random.default_rng(random_state)
    t = _horizon(T, n_customers)
    lam = rng.gamma(r, 1 / alpha, n_customers)
    mu = rng.gamma(s, 1 / beta, n_customers)
    life = rng.exponential(1 / mu)
    active = np.minimum(life, t)
    x = rng.poisson(lam * active)
    rec = np.zeros(n_customers)
    pos = x > 0
    # The last of x uniform arrival times on (0, active]: active * U^(1/x).
    rec[pos] = active[pos] * rng.uniform(size=int(pos.sum())) ** (1 / x[pos])
    return pd.DataFrame(
        {"frequency": x.astype(float), "recency": rec, "T": t, "rate": lam,
         "dropout_rate": mu, "lifetime": life, "alive": life > t},
        index=_ids(n_customers),
    )


def simulate_sbg(
    n_customers: int, n_periods: int, alpha: float, beta: float,
    *, random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate contractual customers under the shifted-beta-geometric model.

    Each customer's churn probability per renewal is ``theta ~ Beta(alpha, beta)``
    (Fader & Hardie 2007); customers are observed for ``n_periods`` renewal periods.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``: ``duration`` (period of churn, or ``n_periods``
        when still active), ``churned`` (bool) and the truth ``churn_probability``.

    Examples
    --------
    >>> d = simulate_sbg(1000, 7, alpha=0.7, beta=1.2, random_state=0)
    >>> int(d["duration"].max()) <= 7
    True
    """
    _check(n_customers, alpha=alpha, beta=beta)
    if not (isinstance(n_periods, int | np.integer) and n_periods >= 1):
        raise InvalidParameterError(f"n_periods must be a positive integer, got {n_periods!r}")
    rng = np.random.default_rng(random_state)
    theta = rng.beta(alpha, beta, n_customers)
    churn_at = rng.geometric(np.clip(theta, 1e-300, 1.0))
    churned = churn_at <= n_periods
    return pd.DataFrame(
        {"duration": np.minimum(churn_at, n_periods).astype(np.int64), "churned": churned,
         "churn_probability": theta},
        index=_ids(n_customers),
    )
