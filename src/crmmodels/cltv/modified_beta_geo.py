"""MBG/NBD: modified beta-geometric / negative binomial distribution model.

Batislam, E. P., Denizel, M. and Filiztekin, A. (2007), "Empirical validation and
comparison of models for customer base analysis", *International Journal of Research
in Marketing* 24(3), 201-209; with the corrections of Wagner, U. and Hoppe, D.
(2008), "Erratum on the MBG/NBD model", *IJRM* 25(3), 225-226.

As in BG/NBD, while alive a customer buys as a Poisson process with rate ``lambda ~
Gamma(r, alpha)``, and drops out with probability ``p ~ Beta(a, b)`` after each
repeat purchase. The modification: the customer may also drop out *at time zero*,
right after the first purchase, so a customer with no repeat purchase is not assumed
alive (BG/NBD's weak point for one-time buyers). This is the variant lifetimes
implements as ``ModifiedBetaGeoFitter``.

Conditional on ``(lambda, p)`` the likelihood of ``x`` repeat purchases, the last at
``t_x``, in ``(0, T]`` is

    L = (1 - p)^(x + 1) lambda^x e^(-lambda T) + p (1 - p)^x lambda^x e^(-lambda t_x)

(alive at ``T`` / dropped out right after the ``x``-th purchase, which for ``x = 0``
means at time zero). Mixing over the Gamma and Beta distributions gives the
likelihood of Batislam et al. (2007, Appendix A)::

    L = Gamma(r + x) alpha^r / Gamma(r) * [ B(a, b + x + 1) / B(a, b) (alpha + T)^-(r + x)
                                          + B(a + 1, b + x) / B(a, b) (alpha + t_x)^-(r + x) ]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from scipy import integrate
from scipy.special import betainc, betaln, digamma, expit, gammaln, hyp2f1

from crmmodels.cltv._base import PURCHASE_RATE_NOTES, TransactionModel
from crmmodels.cltv._likelihood import Boundary, boundary_pair, wsum
from crmmodels.cltv._likelihood import as_arrays as _as_arrays

__all__ = ["ModifiedBetaGeoModel"]

# Predictions have a removable singularity at a = 1 (a ratio 0 / 0). Within `step` of
# it they are interpolated by the degree-5 polynomial through a = 1 +- {1, 2, 3} step:
# far enough from 1 that nothing cancels (error ~ 1e-12 / step), close enough that the
# interpolation error (~ (step * scale)^6, where the prediction varies like exp(-scale
# * (a - 1))) is negligible. Callers pass step = _NEAR_ONE / scale.
_NEAR_ONE = 1e-2
_NODES = np.array([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0])


def _per_count(x: np.ndarray, fun: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``fun(x)``, evaluated once per count when ``x`` holds small whole numbers.

    Special functions of ``r + x``, ``b + x`` ... depend on the customer only through
    the repeat-purchase count, so a table over ``0 .. max(x)`` is far cheaper than
    one evaluation per customer.
    """
    if x.size > 64 and np.all(x == np.round(x)) and 0 <= x.min() and x.max() <= 4 * x.size:
        table = np.asarray(fun(np.arange(int(x.max()) + 1, dtype=float)), dtype=float)
        return np.asarray(table[x.astype(np.intp)], dtype=float)
    return np.asarray(fun(x), dtype=float)


def _near_one(fun: Callable[[float], np.ndarray], a: float,
              step: float = _NEAR_ONE) -> np.ndarray:
    """``fun(a)``, interpolated across the removable singularity at ``a = 1``.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda a: np.asarray(np.expm1(a - 1.0) / (a - 1.0))  # -> 1 at a = 1
    >>> round(float(_near_one(f, 1.0)), 12)
    1.0
    """
    if abs(a - 1.0) >= step:
        return fun(a)
    u = (a - 1.0) / step
    out: np.ndarray | float = 0.0
    for k, node in enumerate(_NODES):
        others = np.delete(_NODES, k)
        weight = float(np.prod((u - others) / (node - others)))
        out = out + weight * fun(1.0 + node * step)
    return np.asarray(out, dtype=float)


def _mean_given_p(p: np.ndarray, s: float, c: float) -> np.ndarray:
    """``(1 - (1 + c p)^-s) / p``: expected purchases of an alive customer given ``p``.

    With ``lambda ~ Gamma(s, alpha + T)`` and dropout after each purchase with
    probability ``p``, ``E[X] = E[(1 - exp(-lambda p t)) / p]``; ``c = t / (alpha +
    T)``. Decreasing in ``p`` from ``s c`` at ``p = 0``.
    """
    # s c * [(1 - e^-L) / L] * [log1p(y) / y] with y = c p, L = s log1p(y): both
    # ratios tend to 1 as p -> 0, so tiny p (even denormal products) stay exact.
    y = c * np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.where(y > 1e-8, np.log1p(y) / y, 1.0 - y / 2)
        big_l = s * y * log_ratio
        exp_ratio = np.where(big_l > 1e-8, -np.expm1(-big_l) / big_l, 1.0 - big_l / 2)
    return np.asarray(s * c * exp_ratio * log_ratio, dtype=float)


def _beta_mean_by_quadrature(a: float, bb: float, s: float, c: float) -> float:
    """``E[_mean_given_p(p)]`` for ``p ~ Beta(a, bb)`` by adaptive quadrature.

    The density is evaluated in log space, so concentrated Betas (large ``a, bb``)
    neither overflow nor underflow, and the integration breaks at the bulk of the
    Beta. For ``a < 1`` substituting ``u = p^a`` absorbs the ``p^(a - 1)``
    singularity at 0.
    """
    log_norm = float(betaln(a, bb))
    mean = a / (a + bb)
    sd = np.sqrt(a * bb / ((a + bb) ** 2 * (a + bb + 1)))
    feature = 1.0 / (s * c)  # where (1 + c p)^-s turns from 1 to 0
    marks = [mean + k * sd for k in (-8, -3, 0, 3, 8)] + [
        feature * f for f in (0.1, 1.0, 10.0, 100.0)]
    if a < 1:
        def integrand(u: float) -> float:
            p = u ** (1.0 / a)
            if p >= 1.0:
                return 0.0
            dens = np.exp((bb - 1.0) * np.log1p(-p) - log_norm - np.log(a))
            return float(_mean_given_p(np.asarray(p), s, c) * dens)

        points = sorted({float(m**a) for m in marks if 0 < m < 1})
    else:
        def integrand(u: float) -> float:
            if not 0.0 < u < 1.0:
                return 0.0
            dens = np.exp((a - 1.0) * np.log(u) + (bb - 1.0) * np.log1p(-u) - log_norm)
            return float(_mean_given_p(np.asarray(u), s, c) * dens)

        points = sorted({float(m) for m in marks if 0 < m < 1})
    # full_output: quad reports (rather than warns about) a tolerance it cannot reach.
    result = integrate.quad(integrand, 0.0, 1.0, points=points or None, limit=400,
                            epsabs=0.0, epsrel=1e-11, full_output=1)
    return float(result[0])


def _alive_mean(a: float, bb: np.ndarray, s: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Return an alive customer's expected purchases, ``E[(1 - (1 + c p)^-s) / p]``.

    ``p ~ Beta(a, bb)``; ``s`` and ``c`` are the shape of the posterior Gamma of the
    purchase rate and the horizon over its rate. Evaluated

    * in closed form, ``(a + bb - 1) / (a - 1) [1 - (1 + c)^-(a - 1) 2F1(a + bb - 1 -
      s, a - 1; a + bb - 1; c / (1 + c))]`` (Euler's transformation of the paper's
      expressions), interpolated across ``a = 1``;
    * by its power series in ``c`` for short horizons (``s c < 0.1`` and ``c < 0.1``),
      where the closed form cancels;
    * by adaptive quadrature over ``p`` where scipy's ``hyp2f1`` fails or loses digits
      (large parameters with ``c / (1 + c)`` near 1), or where the result breaks the
      bounds ``g(1) <= E <= g(0)`` of the decreasing integrand ``g``.
    """
    bb, s, c = np.broadcast_arrays(bb, s, c)
    shape = c.shape
    bb, s, c = (np.atleast_1d(v).ravel() for v in (bb, s, c))
    z = c / (1.0 + c)
    log_q = -np.log1p(c)

    def closed_at(a_: float, s_: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            first = (a_ - 1) * log_q
            big_l = first + np.log(hyp2f1(a_ + bb - 1 - s_, a_ - 1, a_ + bb - 1, z))
            value = (a_ + bb - 1) / (a_ - 1) * -np.expm1(big_l)
        # Where the two logs cancel to a few digits, leave it to the quadrature.
        return np.asarray(value, dtype=float), np.abs(first) > 1e4 * np.abs(big_l)

    def closed(a_: float) -> np.ndarray:
        value, unsafe = closed_at(a_, s)
        # When c - a - b of the 2F1 (s + 1 - a) is a whole number, scipy's hyp2f1 takes
        # a degenerate branch that can be wrong in the 7th digit: average s -+ 1e-7.
        degenerate = np.abs((s - a_) - np.round(s - a_)) <= 1e-9
        if degenerate.any():
            lo, unsafe_lo = closed_at(a_, s - 1e-7)
            hi, unsafe_hi = closed_at(a_, s + 1e-7)
            value = np.where(degenerate, (lo + hi) / 2, value)
            unsafe = np.where(degenerate, unsafe_lo | unsafe_hi, unsafe)
        return np.asarray(np.where(unsafe, np.nan, value), dtype=float)

    scale = max(1.0, float(np.max(np.log1p(c)))) if c.size else 1.0
    out = _near_one(closed, a, _NEAR_ONE / scale)
    # Short horizons: the closed form cancels; sum the series of E[g(p)] in c instead,
    # sum_k (-1)^k (s)_(k+1) / (k+1)! c^(k+1) E[p^k], E[p^k] = (a)_k / (a + bb)_k.
    small = (s * c < 0.1) & (c < 0.1)  # terms shrink at least 5-fold
    if small.any():
        ss, cs, bs = s[small], c[small], bb[small]
        term = ss * cs
        total = term.copy()
        for k in range(1, 30):
            term = -term * (ss + k) * cs / (k + 1) * (a + k - 1) / (a + bs + k - 1)
            total += term
        out = np.array(out, dtype=float, copy=True)
        out[small] = total
    low = -np.expm1(-s * np.log1p(c))
    high = s * c
    bad = ~np.isfinite(out) | (out < low * (1 - 1e-9)) | (out > high * (1 + 1e-9))
    if bad.any():
        out = np.array(out, dtype=float, copy=True)
        for i in np.flatnonzero(bad):
            out[i] = _beta_mean_by_quadrature(a, float(bb[i]), float(s[i]), float(c[i]))
    return np.asarray(np.where(c > 0, out, 0.0), dtype=float).reshape(shape)


class ModifiedBetaGeoModel(TransactionModel):
    """MBG/NBD model of repeat purchasing (Batislam, Denizel & Filiztekin 2007).

    Like :class:`~crmmodels.cltv.BetaGeoModel`, but a customer can drop out right
    after the first purchase, so one-time buyers are not all assumed alive.

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
        Maximised log-likelihood (summed over customers, in the data's time unit).
    converged_ : bool
        Whether the optimiser converged.
    n_customers_ : int
        Customers in the fit.
    boundary_ : dict
        ``{parameter: message}`` for the estimates at an edge of the parameter space
        (the text of the fit's :class:`~crmmodels.errors.ConvergenceWarning`: the
        parameter, its estimate and what that edge means); empty when there is none.

    See Also
    --------
    crmmodels.cltv.BetaGeoModel : BG/NBD, where nobody drops out at time zero.

    Notes
    -----
    :meth:`score` returns ``p_alive`` (probability of being alive at ``T``) and
    ``expected_purchases`` (expected repeat purchases in ``(T, T + horizon]``).

    Examples
    --------
    >>> from crmmodels.cltv.modified_beta_geo import ModifiedBetaGeoModel
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> data = load_cdnow_sample()
    >>> model = ModifiedBetaGeoModel(horizon=39, freq="W").fit(data)
    >>> model.params_.index.tolist()
    ['r', 'alpha', 'a', 'b']
    >>> model.score(data).columns.tolist()
    ['p_alive', 'expected_purchases']
    """

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    _boundary_notes: ClassVar[dict[str, Boundary]] = {
        **PURCHASE_RATE_NOTES,
        **boundary_pair(
            "a", "b",
            zero=("a -> 0 means the dropout probability (at time zero and after each "
                  "purchase) is essentially 0 for nearly every customer: the data show no "
                  "sign of customers leaving and MBG/NBD reduces to the NBD model without "
                  "dropout",
                  "b -> 0 means the dropout probability is essentially 1: nearly every "
                  "customer drops out right after the first purchase and no repeat "
                  "purchases are expected"),
            infinity=("a -> infinity means nearly every customer drops out right after the "
                      "first purchase",
                      "b -> infinity means the mean dropout probability a / (a + b) is "
                      "essentially 0: customers (almost) never drop out and MBG/NBD reduces "
                      "to the NBD model without dropout"),
            both_zero="a and b -> 0 together mean customers split in two: a share "
                      "a / (a + b) drops out right after the first purchase and the others "
                      "never drop out",
            both_infinity="a and b -> infinity together mean the dropout probability "
                          "hardly varies: every customer drops out (at time zero and after "
                          "each purchase) with the same probability a / (a + b)",
        ),
    }

    def __init__(self, *, horizon: float = 52, freq: str = "W") -> None:
        self.horizon = horizon
        self.freq = freq

    # ------------------------------------------------------------------ likelihood
    def _x0(self, x: np.ndarray, tx: np.ndarray, t: np.ndarray) -> list[np.ndarray]:
        mean_t = float(np.mean(t)) or 1.0
        return [np.array([1.0, mean_t, 1.0, 1.0]), np.array([0.5, mean_t / 4, 0.8, 2.5])]

    @staticmethod
    def _terms(p: np.ndarray, x: np.ndarray, tx: np.ndarray,
               t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log of the common factor, the "alive at T" and the "dropped out" terms."""
        r, alpha, a, b = p
        c = _per_count(x, lambda k: gammaln(r + k)) - gammaln(r) + r * np.log(alpha)
        la = _per_count(x, lambda k: betaln(a, b + k + 1)) - betaln(a, b) \
            - (r + x) * np.log(alpha + t)
        lb = _per_count(x, lambda k: betaln(a + 1, b + k)) - betaln(a, b) \
            - (r + x) * np.log(alpha + tx)
        return c, la, lb

    def _loglik(self, params: np.ndarray, x: np.ndarray, tx: np.ndarray,
                t: np.ndarray) -> np.ndarray:
        """Per-customer log-likelihood (Batislam et al. 2007, Appendix A), in log space.

        Unlike BG/NBD the "dropped out" term is present for ``x = 0`` too (dropout at
        time zero, where ``t_x = 0``).
        """
        c, la, lb = self._terms(params, x, tx, t)
        return np.asarray(c + np.logaddexp(la, lb), dtype=float)

    def _grad(self, params: np.ndarray, x: np.ndarray, tx: np.ndarray, t: np.ndarray,
              w: np.ndarray) -> np.ndarray:
        """Analytic gradient of the weighted negative log-likelihood."""
        r, alpha, a, b = params
        _, la, lb = self._terms(params, x, tx, t)
        # Posterior probability of "dropped out after t_x"; clipped so that it never
        # becomes a (very slow) denormal number.
        wb = expit(np.clip(lb - la, -700.0, 700.0))
        wa = 1.0 - wb
        rx = r + x
        log_at, log_atx = np.log(alpha + t), np.log(alpha + tx)
        d_r = _per_count(x, lambda k: digamma(r + k)) - digamma(r) + np.log(alpha) \
            - wa * log_at - wb * log_atx
        d_alpha = r / alpha - rx * (wa / (alpha + t) + wb / (alpha + tx))
        dg_ab, dg_abx1 = digamma(a + b), _per_count(x, lambda k: digamma(a + b + k + 1))
        # d/da and d/db of log B(a, b + x + 1) - log B(a, b) ...
        da_a = dg_ab - dg_abx1
        da_b = _per_count(x, lambda k: digamma(b + k + 1)) - dg_abx1 - digamma(b) + dg_ab
        # ... and of log B(a + 1, b + x) - log B(a, b); digamma(a + 1) - digamma(a) = 1/a.
        db_a = 1.0 / a - dg_abx1 + dg_ab
        db_b = _per_count(x, lambda k: digamma(b + k)) - dg_abx1 - digamma(b) + dg_ab
        d_a = wa * da_a + wb * db_a
        d_b = wa * da_b + wb * db_b
        return -np.array([wsum(w, d_r), wsum(w, d_alpha), wsum(w, d_a), wsum(w, d_b)])

    # ------------------------------------------------------------------ predictions
    def expected_purchases(self, t: Any) -> np.ndarray:
        """Return expected repeat purchases in ``(0, t]`` of a new customer.

        ``E[X(t)] = b / (a - 1) [1 - (alpha / (alpha + t))^r 2F1(r, b + 1; a + b;
        t / (alpha + t))]`` (Batislam et al. 2007, Appendix A), evaluated after Euler's
        transformation ``2F1(r, b + 1; a + b; z) = (1 - z)^(a - r - 1) 2F1(a + b - r,
        a - 1; a + b; z)``, which stays accurate for long horizons (with a series for
        short ones and numerical integration where ``hyp2f1`` fails).

        Examples
        --------
        >>> import pandas as pd
        >>> m = ModifiedBetaGeoModel()
        >>> m.params_ = pd.Series({"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614})
        >>> m.expected_purchases([0.0, 39.0]).round(3).tolist()
        [0.0, 1.183]
        """
        r, alpha, a, b = self._p()
        (tt,) = _as_arrays(t)
        # Alive after time zero with probability b / (a + b); then p ~ Beta(a, b + 1).
        return np.asarray(b / (a + b) * _alive_mean(a, np.full_like(tt, b + 1.0),
                                                    np.full_like(tt, r), tt / alpha),
                          dtype=float)

    def conditional_probability_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:  # noqa: N803
        """P(alive at T | x, t_x, T) (Batislam et al. 2007, Appendix A).

        ``1 / (1 + a / (b + x) ((alpha + T) / (alpha + t_x))^(r + x))``: unlike
        BG/NBD it is below 1 for customers without repeat purchases.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ModifiedBetaGeoModel()
        >>> m.params_ = pd.Series({"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614})
        >>> float(m.conditional_probability_alive(0, 0, 38.86).round(3))
        0.39
        """
        r, alpha, a, b = self._p()
        x, tx, t = _as_arrays(frequency, recency, T)
        log_odds = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + t)
                                                          - np.log(alpha + tx))
        return np.asarray(expit(-log_odds), dtype=float)

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any,
                                       T: Any) -> np.ndarray:  # noqa: N803
        """Return expected repeat purchases in ``(T, T + t]`` given ``(x, t_x, T)``.

        Wagner & Hoppe (2008)'s corrected expression::

            (a + b + x) / (a - 1) [1 - ((alpha + T) / (alpha + T + t))^(r + x)
                2F1(r + x, b + x + 1; a + b + x; t / (alpha + T + t))] P(alive)

        evaluated after Euler's transformation ``2F1(r + x, b + x + 1; a + b + x; z) =
        (1 - z)^(a - r - x - 1) 2F1(a + b - r, a - 1; a + b + x; z)``, whose series
        converges fast for any ``x`` (the untransformed one overflows for frequent
        buyers); short horizons use a power series and the rare parameters where
        scipy's ``hyp2f1`` fails use numerical integration over the posterior of ``p``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ModifiedBetaGeoModel()
        >>> m.params_ = pd.Series({"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614})
        >>> float(m.conditional_expected_purchases(39, 2, 30.43, 38.86).round(3))
        1.263
        """
        r, alpha, a, b = self._p()
        tt, x, tx, big_t = _as_arrays(t, frequency, recency, T)
        # Alive at T: lambda ~ Gamma(r + x, alpha + T), p ~ Beta(a, b + x + 1).
        alive = self.conditional_probability_alive(x, tx, big_t)
        return np.asarray(_alive_mean(a, b + x + 1, r + x, tt / (alpha + big_t)) * alive,
                          dtype=float)

    def probability_of_purchases(self, n: Any, t: Any) -> np.ndarray:
        """P(X(t) = n): probability of ``n`` repeat purchases in ``(0, t]`` (new customer).

        Alive throughout with ``n`` purchases, or dropped out right after the ``n``-th
        (at time zero for ``n = 0``)::

            B(a, b + n + 1) / B(a, b) NBD(n; r, alpha, t)
            + B(a + 1, b + n) / B(a, b) P(NBD(r, alpha, t) >= n)

        The negative binomial tail is the regularised incomplete beta function
        ``I_z(n, r)`` with ``z = t / (alpha + t)``, accurate far into the tail.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> m = ModifiedBetaGeoModel()
        >>> m.params_ = pd.Series({"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614})
        >>> p = m.probability_of_purchases(np.arange(500), 39.0)
        >>> round(float(p.sum()), 10)
        1.0
        """
        r, alpha, a, b = self._p()
        nn, tt = _as_arrays(n, t)
        nn = np.round(nn)
        log_q = np.log(alpha) - np.log(alpha + tt)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_z = np.log(tt) - np.log(alpha + tt)
            log_nbd = gammaln(r + nn) - gammaln(r) - gammaln(nn + 1) + r * log_q \
                + np.where(nn > 0, nn * log_z, 0.0)
            tail = np.where(nn > 0, betainc(np.maximum(nn, 1), r, tt / (alpha + tt)), 1.0)
            # B(a, b + n + 1) and B(a + 1, b + n) are B(a, b + n) times (b + n) / (a + b +
            # n) and a / (a + b + n): the shares add up to 1 for n = 0.
            common = np.exp(betaln(a, b + nn) - betaln(a, b))
            out = common * ((b + nn) * np.exp(log_nbd) + a * tail) / (a + b + nn)
        return np.asarray(np.where(nn >= 0, out, 0.0), dtype=float)
