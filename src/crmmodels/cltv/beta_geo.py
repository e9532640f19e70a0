"""BG/NBD: beta-geometric / negative binomial distribution model.

Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "'Counting Your Customers' the
Easy Way: An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275-284.

While alive, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r,
alpha)``; after each purchase they drop out with probability ``p ~ Beta(a, b)``.
Equation numbers below refer to the paper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from scipy.special import betainc, betaln, digamma, expit, gammaln, hyp2f1

from crmmodels.cltv._base import PURCHASE_RATE_NOTES, TransactionModel
from crmmodels.cltv._likelihood import Boundary, boundary_pair, wsum
from crmmodels.cltv._likelihood import as_arrays as _as_arrays

__all__ = ["BetaGeoModel"]


def _discounted_hyp(r: float, a: float, b: float, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``(1 - z)^(r + x) 2F1(r + x, b + x; a + b + x - 1; z)``, evaluated stably.

    Two equal forms (Euler's transformation): the direct one is accurate unless the
    frequency is large (the series then overflows), the transformed one
    ``(1 - z)^(a - 1) 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z)`` unless ``a`` is
    large; the direct value is used wherever it is finite.
    """
    x, z = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(z, dtype=float))
    log1mz = np.log1p(-z)
    out = np.asarray(np.exp((r + x) * log1mz) * hyp2f1(r + x, b + x, a + b + x - 1, z),
                     dtype=float)
    bad = ~np.isfinite(out)
    if bad.any():
        xb, zb = x[bad], z[bad]
        out[bad] = np.exp((a - 1) * np.log1p(-zb)) * hyp2f1(a + b - 1 - r, a - 1,
                                                           a + b + xb - 1, zb)
        bad = ~np.isfinite(out)
        if bad.any():  # e.g. scipy's hyp2f1(1, 2; 101; 0.98) = inf: sum the series
            # in log space, so that a tiny (1 - z)^(r + x) and a huge sum do not meet as
            # 0 x inf (r = 212.5, z = 50/51).
            xb, zb = x[bad], z[bad]
            out[bad] = np.exp((r + xb) * np.log1p(-zb) + log_hyp2f1_series(
                r + xb, b + xb, a + b + xb - 1, zb))
    return out


def log_hyp2f1_series(a: Any, b: Any, c: Any, z: Any,
                      max_terms: int = 1_000_000) -> np.ndarray:
    """Logarithm of the Gauss series of ``2F1(a, b; c; z)`` for ``a, b, c > 0``, ``0 <= z < 1``.

    A fallback where scipy's ``hyp2f1`` returns inf or NaN. Every term is positive, so
    the terms are summed in log space (no overflow however large the sum); summing
    stops once the terms fall and no longer change the total.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.special import hyp2f1
    >>> bool(np.isclose(np.exp(log_hyp2f1_series(1.5, 2.0, 3.0, 0.5)), hyp2f1(1.5, 2.0, 3.0, 0.5)))
    True
    """
    a, b, c, z = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(a, b, c, z))
    log_z = np.log(np.where(z > 0, z, 1.0))
    log_term = np.zeros(a.shape)
    log_total = np.zeros(a.shape)
    active = z > 0
    for k in range(max_terms):
        if not active.any():
            break
        step = (np.log(a + k) + np.log(b + k) - np.log(c + k) - np.log(k + 1.0) + log_z)
        log_term = np.where(active, log_term + step, log_term)
        log_total = np.where(active, np.logaddexp(log_total, log_term), log_total)
        # Stop where the terms shrink (step < 0) and no longer move the total.
        active = active & ~((step < 0) & (log_term < log_total - 40.0))
    return log_total


def _at_a(a: float, f: Callable[[float], np.ndarray]) -> np.ndarray:
    """Evaluate ``f(a)``; near the removable singularity at ``a = 1`` average both sides."""
    if abs(a - 1) < 1e-4:
        return np.asarray((f(1 - 1e-4) + f(1 + 1e-4)) / 2, dtype=float)
    return np.asarray(f(a), dtype=float)


class BetaGeoModel(TransactionModel):
    """BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    horizon : float, default 52
        Periods ahead for ``expected_purchases`` in :meth:`score`.
    freq : {"D", "W", "M", "h"}, default "W"
        Time unit used to summarise ``CRMData`` (a summary frame is in its own unit).

    Attributes
    ----------
    params_ : Series
        ``r, alpha`` (Gamma purchase rates), ``a, b`` (Beta dropout probabilities).
    covariance_ : DataFrame
        Asymptotic covariance of ``params_`` (inverse Hessian).
    log_likelihood_ : float
        Maximised log-likelihood (eq. 6 summed over customers, in the data's unit).
    converged_ : bool
        Whether the optimiser converged.
    n_customers_ : int
        Customers in the fit.
    boundary_ : dict
        ``{parameter: message}`` for the estimates at an edge of the parameter space
        (the text of the fit's :class:`~crmmodels.errors.ConvergenceWarning`: the
        parameter, its estimate and what that edge means); empty when there is none.

    Examples
    --------
    >>> from crmmodels.cltv import BetaGeoModel
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> model = BetaGeoModel(horizon=39, freq="W").fit(load_cdnow_sample())
    >>> model.params_.round(3).to_dict()  # all 78 weeks of the sample
    {'r': 0.275, 'alpha': 7.05, 'a': 0.602, 'b': 2.708}

    The paper's estimates (r 0.243, alpha 4.414, a 0.793, b 2.426) are those of its
    39-week calibration period, ``calibration_holdout(data, "1997-09-30", freq="D",
    freq_multiplier=7)``; the tests reproduce them.
    """

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    _boundary_notes: ClassVar[dict[str, Boundary]] = {
        **PURCHASE_RATE_NOTES,
        **boundary_pair(
            "a", "b",
            zero=("a -> 0 means the dropout probability after a purchase is essentially 0 "
                  "for nearly every customer: the data show no sign of customers leaving, "
                  "BG/NBD reduces to the NBD model without dropout and P(alive) is about 1 "
                  "for everyone",
                  "b -> 0 means the dropout probability is essentially 1: nearly every "
                  "customer drops out right after their first repeat purchase"),
            infinity=("a -> infinity means nearly every customer drops out right after "
                      "their first repeat purchase",
                      "b -> infinity means the mean dropout probability a / (a + b) is "
                      "essentially 0: customers (almost) never drop out and BG/NBD reduces "
                      "to the NBD model without dropout"),
            both_zero="a and b -> 0 together mean customers split in two: a share "
                      "a / (a + b) drops out right after their first repeat purchase and "
                      "the others never drop out",
            both_infinity="a and b -> infinity together mean the dropout probability "
                          "hardly varies: every customer drops out after a purchase with "
                          "the same probability a / (a + b)",
        ),
    }

    def __init__(self, *, horizon: float = 52, freq: str = "W") -> None:
        self.horizon = horizon
        self.freq = freq

    # ------------------------------------------------------------------ likelihood
    def _x0(self, x: np.ndarray, tx: np.ndarray, t: np.ndarray) -> list[np.ndarray]:
        mean_t = float(np.mean(t)) or 1.0
        return [np.array([0.5, mean_t / 4, 0.8, 2.5]), np.array([1.0, mean_t, 1.5, 1.5])]

    def _fit_memo(self) -> dict[str, Any] | None:
        memo: dict[str, Any] | None = getattr(self, "_fit_cache", None)
        return memo

    def _unique_x(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``np.unique(x, return_inverse=True)``, computed once per fit."""
        memo = self._fit_memo()
        if memo is not None and memo.get("x") is x:
            return memo["unique"]  # type: ignore[no-any-return]
        res = np.unique(x, return_inverse=True)
        if memo is not None:
            memo.update(x=x, unique=res)
        return res

    def _terms(self, p: np.ndarray, x: np.ndarray, tx: np.ndarray,
               t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the three log-terms of eq. (6).

        Special functions are evaluated once per distinct frequency (a few hundred at
        most), the rest per row. During a fit the terms at the last parameters are
        kept, so the value and the gradient there are computed from one pass.
        """
        memo = self._fit_memo()
        key = p.tobytes()
        if memo is not None and memo.get("terms_key") == key and memo.get("terms_x") is x:
            return memo["terms"]  # type: ignore[no-any-return]
        r, alpha, a, b = p
        xu, inv = self._unique_x(x)
        c = (gammaln(r + xu) - gammaln(r))[inv] + r * np.log(alpha)
        la = (betaln(a, b + xu) - betaln(a, b))[inv] - (r + x) * np.log(alpha + t)
        with np.errstate(divide="ignore", invalid="ignore"):
            lb_u = np.where(xu > 0, betaln(a + 1, np.maximum(b + xu - 1, 1e-300))
                            - betaln(a, b), -np.inf)
            lb = lb_u[inv] - (r + x) * np.log(alpha + tx)
        if memo is not None:
            memo.update(terms_key=key, terms_x=x, terms=(c, la, lb))
        return c, la, lb

    def _loglik(self, params: np.ndarray, x: np.ndarray, tx: np.ndarray,
                t: np.ndarray) -> np.ndarray:
        """Per-customer log-likelihood, eq. (6) of the paper, in log space."""
        c, la, lb = self._terms(params, x, tx, t)
        return np.asarray(c + np.logaddexp(la, lb), dtype=float)

    def _grad(self, params: np.ndarray, x: np.ndarray, tx: np.ndarray, t: np.ndarray,
              w: np.ndarray) -> np.ndarray:
        """Analytic gradient of the weighted negative log-likelihood of eq. (6)."""
        r, alpha, a, b = params
        xu, inv = self._unique_x(x)
        _, la, lb = self._terms(params, x, tx, t)
        wb = expit(lb - la)  # share of the "dropped out after last purchase" term
        wa = 1.0 - wb
        rx = r + x
        log_at, log_atx = np.log(alpha + t), np.log(alpha + tx)
        sum_w = np.bincount(inv, weights=w, minlength=len(xu))
        sum_wa = np.bincount(inv, weights=w * wa, minlength=len(xu))
        sum_wb = sum_w - sum_wa
        d_r = wsum(sum_w, digamma(r + xu) - digamma(r)) + sum_w.sum() * np.log(alpha) \
            - wsum(w * wa, log_at) - wsum(w * wb, log_atx)
        d_alpha = sum_w.sum() * r / alpha - wsum(w * wa, rx / (alpha + t)) \
            - wsum(w * wb, rx / (alpha + tx))
        dg_ab, dg_abx = digamma(a + b), digamma(a + b + xu)
        da_a = dg_ab - dg_abx
        db_a = digamma(a + 1) - dg_abx - digamma(a) + dg_ab
        da_b = digamma(b + xu) - dg_abx - digamma(b) + dg_ab
        with np.errstate(invalid="ignore"):
            db_b = np.where(xu > 0, digamma(np.maximum(b + xu - 1, 1e-300)) - dg_abx
                            - digamma(b) + dg_ab, 0.0)
        d_a = wsum(sum_wa, da_a) + wsum(sum_wb, db_a)
        d_b = wsum(sum_wa, da_b) + wsum(sum_wb, db_b)
        return -np.array([d_r, d_alpha, d_a, d_b])

    # ------------------------------------------------------------------ predictions
    def expected_purchases(self, t: Any) -> np.ndarray:
        """Return expected purchases in (0, t] of a new customer, eq. (9).

        Evaluated after Euler's transformation, ``(alpha / (alpha + t))^r 2F1(r, b;
        a + b - 1; z) = (1 - z)^(a - 1) 2F1(a + b - 1 - r, a - 1; a + b - 1; z)`` with
        ``z = t / (alpha + t)``, which converges fast; at ``a = 1`` (a removable
        singularity) the value is the mean of ``a = 1 +- 1e-4``.
        """
        r, alpha, a, b = self._p()
        (tt,) = _as_arrays(t)
        z = tt / (alpha + tt)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return _at_a(a, lambda aa: (aa + b - 1) / (aa - 1) * (
                1 - _discounted_hyp(r, aa, b, np.zeros_like(z), z)))

    def conditional_probability_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:  # noqa: N803
        """P(alive at T | x, t_x, T), from eq. (10)'s denominator, in log space.

        Examples
        --------
        >>> from crmmodels.cltv import BetaGeoModel
        >>> m = BetaGeoModel()
        >>> m.params_ = __import__("pandas").Series({"r": .243, "alpha": 4.414,
        ...                                          "a": .793, "b": 2.426})
        >>> float(m.conditional_probability_alive(0, 0, 38.86))
        1.0
        """
        r, alpha, a, b = self._p()
        x, tx, t = _as_arrays(frequency, recency, T)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds = (np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                        + (r + x) * (np.log(alpha + t) - np.log(alpha + tx)))
        return np.where(x > 0, expit(-log_odds), 1.0)

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any,
                                       T: Any) -> np.ndarray:  # noqa: N803
        """Return expected purchases in (T, T + t] given (x, t_x, T), eq. (10).

        With ``z = t / (alpha + T + t)``, Euler's transformation turns
        ``((alpha + T) / (alpha + T + t))^(r + x) 2F1(r + x, b + x; a + b + x - 1; z)``
        into ``(1 - z)^(a - 1) 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z)``, whose
        series converges fast for any frequency (the untransformed one overflows for
        frequent buyers).
        """
        tt, x, tx, big_t = _as_arrays(t, frequency, recency, T)
        return np.asarray(self.expected_purchases_if_alive(tt, x, big_t)
                          * self.conditional_probability_alive(x, tx, big_t), dtype=float)

    def expected_purchases_if_alive(self, t: Any, frequency: Any, T: Any) -> np.ndarray:  # noqa: N803
        """Return expected purchases in (T, T + t] of a customer alive at T, eq. (10).

        The conditional expectation is this times P(alive); it does not depend on
        recency, which lets CLV be computed once per distinct (frequency, T).
        """
        r, alpha, a, b = self._p()
        tt, x, big_t = _as_arrays(t, frequency, T)
        z = tt / (alpha + big_t + tt)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return _at_a(a, lambda aa: (aa + b + x - 1) / (aa - 1) * (
                1 - _discounted_hyp(r, aa, b, x, z)))

    def probability_of_purchases(self, n: Any, t: Any) -> np.ndarray:
        """Return P(X(t) = n) for a new customer, eq. (8).

        The bracket of the second term, ``1 - (alpha/(alpha+t))^r sum_{j<n} ...``, is the
        upper tail of a negative binomial count, computed as the regularised incomplete
        beta function ``I_z(n, r)`` with ``z = t / (alpha + t)`` instead of one minus a
        sum (which cancels to noise for large ``n``).

        Examples
        --------
        >>> import pandas as pd
        >>> m = BetaGeoModel()
        >>> m.params_ = pd.Series({"r": .243, "alpha": 4.414, "a": .793, "b": 2.426})
        >>> round(float(sum(m.probability_of_purchases(k, 39.0) for k in range(300))), 9)
        1.0
        """
        r, alpha, a, b = self._p()
        nn, tt = _as_arrays(n, t)
        nn = np.round(nn)
        z = tt / (alpha + tt)
        with np.errstate(divide="ignore", invalid="ignore"):
            first = np.exp(betaln(a, b + nn) - betaln(a, b) + gammaln(r + nn) - gammaln(r)
                           - gammaln(nn + 1) + r * np.log1p(-z) + nn * np.log(z))
            tail = np.where(nn > 0, np.exp(betaln(a + 1, np.maximum(b + nn - 1, 1e-300))
                                           - betaln(a, b)) * betainc(np.maximum(nn, 1), r, z),
                            0.0)
        return np.asarray(first + tail, dtype=float)
