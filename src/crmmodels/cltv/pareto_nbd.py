r"""Pareto/NBD: the Poisson purchasing / exponential lifetime model of repeat buying.

Schmittlein, D. C., Morrison, D. G. and Colombo, R. (1987), "Counting Your Customers:
Who Are They and What Will They Do Next?", *Management Science* 33(1), 1-24 (SMC).

Fader, P. S. and Hardie, B. G. S. (2005), "A Note on Deriving the Pareto/NBD Model and
Related Expressions", http://brucehardie.com/notes/009/ (FH).

While alive, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r,
alpha)``; their unobserved lifetime is exponential with rate ``mu ~ Gamma(s, beta)``,
independent of ``lambda``. With ``x`` repeat purchases, the last at ``t_x``, in
``(0, T]``, FH section 3 gives the likelihood

.. math::

    L = \frac{\Gamma(r+x)\alpha^r\beta^s}{\Gamma(r)}\Big[
        \frac{1}{(\alpha+T)^{r+x}(\beta+T)^s} + \frac{s}{r+s+x} A_0\Big],

where ``A_0`` is a difference of two Gauss hypergeometric terms, one form for
``alpha >= beta`` and one for ``alpha < beta`` (FH, the two cases of ``A_0``). Both
are the same integral,

.. math::

    \frac{s}{r+s+x} A_0 = s \int_{t_x}^{T} (\alpha+y)^{-(r+x)} (\beta+y)^{-(s+1)}\,dy
    = s\,[G(t_x) - G(T)],

and this module evaluates ``log G`` without ``scipy.special.hyp2f1`` (which can
return NaN, or lose its digits, for large ``x`` with an argument near 1) and without
forming huge powers outside log space: with
``M = max(alpha, beta)``, ``m = min(alpha, beta)``, ``k_M`` and ``k_m`` the exponents
attached to them above, ``a = r + s + x``, ``q = 1 - k_m`` and
``z = (M - m) / (M + y)``,

.. math::

    G(y) = \int_y^\infty (\alpha+u)^{-(r+x)}(\beta+u)^{-(s+1)}\,du
         = \frac{(M+y)^{-k_M} (m+y)^{q}}{a}\; {}_2F_1(1, a+q; a+1; z),

the Euler-transformed hypergeometric term, which is at least 1 and of moderate size
for every ``z`` in ``[0, 1)``, so all large powers stay in log space. It is evaluated
by its power series (positive terms) for ``z <= 0.75``, by the incomplete-beta
continued fraction for larger ``z`` and, when ``1 - z`` is below
``w0 = min(1/4, 1/(a+1))`` (where that fraction slows down), as the value at
``1 - w0`` plus a rapidly convergent series for the rest of the beta integral,
written with ``exprel`` so that nothing cancels even when ``q`` is 0 or a negative
integer. Partial derivatives are carried through every step (forward mode), which
gives the analytic gradient of the log-likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy.special import digamma, exprel, gammaln

from crmmodels.cltv._base import PURCHASE_RATE_NOTES, TransactionModel
from crmmodels.cltv._likelihood import GRAD, NLL, Boundary, Rows, boundary_pair, compress
from crmmodels.cltv._likelihood import as_arrays as _as_arrays

__all__ = ["ParetoNBDModel"]

_TINY = 1e-300
_SERIES_MAX_Z = 0.75
_MAX_TERMS = 100_000


# ---------------------------------------------------------------------- special functions
def _log_exprel(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log((exp(y) - 1) / y)`` and its derivative, accurate for every real ``y``."""
    out = np.empty_like(y)
    der = np.empty_like(y)
    small = np.abs(y) < 0.05
    big = y > 30.0
    neg = y < -30.0
    mid = ~(small | big | neg)
    ys = y[small]
    y2 = ys * ys
    out[small] = ys / 2 + y2 / 24 - y2 * y2 / 2880 + y2**3 / 181440
    der[small] = 0.5 + ys / 12 - ys * y2 / 720 + ys * y2 * y2 / 30240
    yb = y[big]
    out[big] = yb - np.log(yb) + np.log1p(-np.exp(-yb))
    der[big] = 1.0 / -np.expm1(-yb) - 1.0 / yb
    yn = y[neg]
    out[neg] = np.log1p(-np.exp(yn)) - np.log(-yn)
    der[neg] = -np.exp(yn) / -np.expm1(yn) - 1.0 / yn
    ym = y[mid]
    out[mid] = np.log(exprel(ym))
    der[mid] = 1.0 / -np.expm1(-ym) - 1.0 / ym
    return out, der


def _hyp_series(p: np.ndarray, q: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Power series of ``2F1(1, p+q; p+1; z)`` (positive terms), for ``z <= 0.75``.

    Rows whose terms have become negligible leave the loop every few terms.
    """
    out = np.empty((4, p.shape[0]))
    idx = np.arange(p.shape[0])
    b, c, zz, qq = p + q, p + 1.0, z, q
    t = np.ones_like(p)
    s = np.ones_like(p)
    tp, tq, tz = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    sp, sq, sz = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    inv_z = 1.0 + 1.0 / np.maximum(zz, _TINY)
    for n in range(_MAX_TERMS):
        cn = c + n
        ratio = (b + n) / cn
        rz = ratio * zz
        tp, tq, tz = (rz * tp + t * zz * (1.0 - qq) / cn**2, rz * tq + t * zz / cn,
                      rz * tz + t * ratio)
        t = t * rz
        s += t
        sp += tp
        sq += tq
        sz += tz
        if n % 8 == 7 or n < 8:
            done = t * (n + 2) * inv_z <= 1e-17 * s
            if done.any():
                out[:, idx[done]] = np.stack([np.log(s[done]), sp[done] / s[done],
                                              sq[done] / s[done], sz[done] / s[done]])
                keep = ~done
                if not keep.any():
                    return out
                idx, b, c, zz, qq, inv_z = (v[keep] for v in (idx, b, c, zz, qq, inv_z))
                t, s, tp, tq, tz, sp, sq, sz = (v[keep] for v in (t, s, tp, tq, tz, sp, sq, sz))
    out[:, idx] = np.stack([np.log(s), sp / s, sq / s, sz / s])  # pragma: no cover
    return out


def _lentz_step(aa: np.ndarray, daa: np.ndarray, c: np.ndarray, dc: np.ndarray,
                d: np.ndarray, dd: np.ndarray) -> tuple[np.ndarray, ...]:
    """One modified-Lentz step ``c <- 1 + aa/c``, ``d <- 1/(1 + aa d)``, with tangents."""
    dn = 1.0 + aa * d
    dn = 1.0 / np.where(np.abs(dn) < _TINY, _TINY, dn)
    ddn = -dn**2 * (daa * d + aa * dd)
    cn = 1.0 + aa / c
    cn = np.where(np.abs(cn) < _TINY, _TINY, cn)
    dcn = daa / c - aa * dc / c**2
    return cn, dcn, dn, ddn


def _hyp_cf(p: np.ndarray, q: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``log 2F1(1, p+q; p+1; z)`` and its partials by the incomplete-beta continued fraction.

    The fraction of ``B_z(p, q) = z^p (1-z)^q / p * 2F1(1, p+q; p+1; z)`` (modified
    Lentz); converged rows leave the loop.
    """
    n = p.shape[0]
    out = np.empty((4, n))
    idx = np.arange(n)
    pp, qq, zz = p, q, z
    aa = -(pp + qq) * zz / (pp + 1.0)
    daa = np.stack([-zz / (pp + 1.0) + (pp + qq) * zz / (pp + 1.0) ** 2, -zz / (pp + 1.0),
                    -(pp + qq) / (pp + 1.0)])
    d = 1.0 / np.where(np.abs(1.0 + aa) < _TINY, _TINY, 1.0 + aa)
    dd = -(d**2) * daa
    c = np.ones(n)
    dc = np.zeros((3, n))
    lh = np.log(d)
    dlh = dd / d
    for m in range(1, _MAX_TERMS):
        m2 = 2 * m
        e1, e2, e3 = pp - 1.0 + m2, pp + m2, pp + 1.0 + m2
        aa = m * (qq - m) * zz / (e1 * e2)
        daa = np.stack([-aa * (1.0 / e1 + 1.0 / e2), m * zz / (e1 * e2), m * (qq - m) / (e1 * e2)])
        c, dc, d, dd = _lentz_step(aa, daa, c, dc, d, dd)
        de1 = d * c
        inc1 = dd / d + dc / c
        pm, pqm = pp + m, pp + qq + m
        aa = -pm * pqm * zz / (e2 * e3)
        daa = np.stack([aa * (1.0 / pm + 1.0 / pqm - 1.0 / e2 - 1.0 / e3), aa / pqm,
                        -pm * pqm / (e2 * e3)])
        c, dc, d, dd = _lentz_step(aa, daa, c, dc, d, dd)
        de2 = d * c
        inc2 = dd / d + dc / c
        lh = lh + np.log(de1 * de2)
        dlh = dlh + inc1 + inc2
        done = (np.abs(de2 - 1.0) < 1e-16) & np.all(
            np.abs(inc1 + inc2) <= 1e-16 * (1.0 + np.abs(dlh)), axis=0)
        if done.any():
            out[0, idx[done]] = lh[done]
            out[1:, idx[done]] = dlh[:, done]
            keep = ~done
            if not keep.any():
                return out
            idx, pp, qq, zz = idx[keep], pp[keep], qq[keep], zz[keep]
            c, d, lh = c[keep], d[keep], lh[keep]
            dc, dd, dlh = dc[:, keep], dd[:, keep], dlh[:, keep]
    out[0, idx] = lh  # pragma: no cover - the fraction converges far earlier
    out[1:, idx] = dlh  # pragma: no cover
    return out


def _hyp_near_one(p: np.ndarray, q: np.ndarray, z: np.ndarray, log_eps: np.ndarray,
                  w0: np.ndarray) -> np.ndarray:
    """``p z^-p eps^-q * int_eps^w0 w^(q-1) (1-w)^(p-1) dw`` in log space, with partials.

    ``(1-w)^(p-1)`` is expanded in powers of ``w`` (``p w0 <= 1`` keeps the series
    short); each power integrates to ``K_j = (exp(qL) - exp(-jL)) / (q+j)`` with
    ``L = log(w0/eps)``, written through ``exprel`` so that ``q + j = 0`` is harmless.
    """
    big_l = np.log(w0) - log_eps
    log_l = np.log(big_l)
    coef = np.ones_like(p)
    dcoef = np.zeros_like(p)
    logs, grad_q, grad_l, coefs, dcoefs = [], [], [], [], []
    for j in range(_MAX_TERMS):
        y = (q + j) * big_l
        le, dle = _log_exprel(y)
        logs.append(-j * big_l + log_l + le)
        grad_q.append(big_l * dle)
        grad_l.append(-j + 1.0 / (big_l * exprel(-y)))
        coefs.append(coef)
        dcoefs.append(dcoef)
        coef, dcoef = (coef * (j + 1 - p) / (j + 1) * w0,
                       dcoef * (j + 1 - p) / (j + 1) * w0 - coef * w0 / (j + 1))
        if np.all(np.abs(coef) + np.abs(dcoef) < 1e-18):
            break
    lk, cf, dcf = np.stack(logs), np.stack(coefs), np.stack(dcoefs)
    top = np.max(np.where(cf != 0, lk, -np.inf), axis=0)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(lk - top)
    total = np.sum(cf * e, axis=0)
    log_z = np.log(z)
    return np.stack([
        np.log(p) - p * log_z + top + np.log(total),
        1.0 / p - log_z + np.sum(dcf * e, axis=0) / total,
        np.sum(cf * e * np.stack(grad_q), axis=0) / total,
        -p / z + np.sum(cf * e * np.stack(grad_l), axis=0) / total / np.exp(log_eps),
    ])


def _log_hyp(p: np.ndarray, q: np.ndarray, z: np.ndarray, log_eps: np.ndarray) -> np.ndarray:
    """``log 2F1(1, p+q; p+1; z)`` and its partials in ``p``, ``q``, ``z``.

    Requires ``p > 0``, ``p + q > 0``, ``0 <= z < 1``; ``log_eps = log(1 - z)`` is passed
    separately so that ``1 - z`` keeps its digits when it is tiny. Returns a
    ``(4, n)`` array: value, d/dp, d/dq, d/dz.
    """
    out = np.empty((4, p.shape[0]))
    low = z <= _SERIES_MAX_Z
    if low.any():
        out[:, low] = _hyp_series(p[low], q[low], z[low])
    high = np.flatnonzero(~low)
    if high.size:
        ph, qh, zh, leh = p[high], q[high], z[high], log_eps[high]
        w0 = np.minimum(0.25, 1.0 / (ph + 1.0))
        direct = leh >= np.log(w0)
        if direct.any():
            out[:, high[direct]] = _hyp_cf(ph[direct], qh[direct], zh[direct])
        split = ~direct
        if split.any():
            ps, qs, zs, les, ws = ph[split], qh[split], zh[split], leh[split], w0[split]
            z0 = 1.0 - ws
            head = np.empty((4, ps.shape[0]))
            by_series = z0 <= _SERIES_MAX_Z
            if by_series.any():
                head[:, by_series] = _hyp_series(ps[by_series], qs[by_series], z0[by_series])
            if not by_series.all():
                head[:, ~by_series] = _hyp_cf(ps[~by_series], qs[~by_series], z0[~by_series])
            log_ratio_z = np.log(z0) - np.log(zs)
            log_ratio_w = np.log(ws) - les
            b = np.stack([head[0] + ps * log_ratio_z + qs * log_ratio_w,
                          head[1] + log_ratio_z, head[2] + log_ratio_w,
                          -ps / zs + qs / np.exp(les)])
            tail = _hyp_near_one(ps, qs, zs, les, ws)
            tot = np.logaddexp(b[0], tail[0])
            wb, wt = np.exp(b[0] - tot), np.exp(tail[0] - tot)
            out[:, high[split]] = np.concatenate([tot[None], wb * b[1:] + wt * tail[1:]])
    return out


def _log_tail(params: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log G(y)`` with ``G(y) = int_y^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du``.

    Returns the values and their gradient (4, n) in ``(r, alpha, s, beta)``.
    """
    r, alpha, s, beta = (float(v) for v in params)
    a = r + s + x
    if alpha >= beta:
        big, small, k_big, q = alpha, beta, r + x, np.full_like(x, -s)
    else:
        big, small, k_big, q = beta, alpha, np.full_like(x, s + 1.0), 1.0 - r - x
    big_y, small_y = big + y, small + y
    log_big, log_small = np.log(big_y), np.log(small_y)
    z = (big - small) / big_y
    log_eps = log_small - log_big
    h = _log_hyp(a, q, z, log_eps)
    value = -k_big * log_big + q * log_small + h[0] - np.log(a)
    grad = np.empty((4, x.shape[0]))
    if alpha >= beta:
        grad[0] = -log_big + h[1] - 1.0 / a
        grad[2] = -log_small + h[1] - h[2] - 1.0 / a
        grad[1] = -k_big / big_y + h[3] * small_y / big_y**2
        grad[3] = q / small_y - h[3] / big_y
    else:
        grad[0] = -log_small + h[1] - h[2] - 1.0 / a
        grad[2] = -log_big + h[1] - 1.0 / a
        grad[1] = q / small_y - h[3] / big_y
        grad[3] = -k_big / big_y + h[3] * small_y / big_y**2
    return value, grad


# ---------------------------------------------------------------------- likelihood
@dataclass(frozen=True)
class _Design:
    """Customers and the distinct values their likelihood terms are built from.

    ``G`` is needed at the distinct ``(x, t_x)`` and ``(x, T)`` pairs only, and the
    terms in ``x`` or ``T`` alone at their distinct values: with ``T`` in whole days,
    a million customers have a few hundred distinct ``T``.
    """

    x: np.ndarray
    t: np.ndarray
    pair_x: np.ndarray
    pair_y: np.ndarray
    at_tx: np.ndarray
    at_t: np.ndarray
    x_values: np.ndarray
    at_x: np.ndarray
    t_values: np.ndarray
    at_tv: np.ndarray

    @classmethod
    def build(cls, x: np.ndarray, tx: np.ndarray, t: np.ndarray) -> _Design:
        n = x.shape[0]
        (px, py), _, inverse = compress(np.concatenate([x, x]), np.concatenate([tx, t]))
        (xv,), _, at_x = compress(x)
        (tv,), _, at_tv = compress(t)
        return cls(x, t, px, py, inverse[:n], inverse[n:], xv, at_x, tv, at_tv)


def _loglik_terms(params: np.ndarray, d: _Design, weights: np.ndarray | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Per-customer log-likelihood (FH section 3) and P(alive).

    With ``weights``, also the gradient of the weighted log-likelihood sum.
    """
    r, alpha, s, beta = (float(v) for v in params)
    x = d.x
    lg_pair, dg_pair = _log_tail(params, d.pair_x, d.pair_y)
    l_tx, l_t = lg_pair[d.at_tx], lg_pair[d.at_t]
    log_at_v, log_bt_v = np.log(alpha + d.t_values), np.log(beta + d.t_values)
    log_at, log_bt = log_at_v[d.at_tv], log_bt_v[d.at_tv]
    log_first = -(r + x) * log_at - s * log_bt
    delta = np.minimum(l_t - l_tx, 0.0)
    with np.errstate(divide="ignore"):
        log_j = l_tx + np.log(-np.expm1(delta))
    log_s = np.log(s)
    log_bracket = np.logaddexp(log_first, log_s + log_j)
    const_x = gammaln(r + d.x_values) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    ll = const_x[d.at_x] + log_bracket
    p_alive = np.exp(log_first - log_bracket)
    if weights is None:
        return ll, p_alive, None
    w = weights
    n_pairs = d.pair_x.shape[0]
    w_tx = w * np.exp(log_s + l_tx - log_bracket)
    w_t = w * np.exp(log_s + l_t - log_bracket)
    pair_w = (np.bincount(d.at_tx, w_tx, minlength=n_pairs)
              - np.bincount(d.at_t, w_t, minlength=n_pairs))
    grad = dg_pair @ pair_w
    wa = w * p_alive
    wa_t = np.bincount(d.at_tv, wa, minlength=d.t_values.shape[0])
    wa_xt = np.bincount(d.at_tv, wa * x, minlength=d.t_values.shape[0])
    w_x = np.bincount(d.at_x, w, minlength=d.x_values.shape[0])
    total = float(w.sum())
    grad[0] += (float(w_x @ (digamma(r + d.x_values) - digamma(r))) + total * np.log(alpha)
                - float(wa_t @ log_at_v))
    grad[1] += total * r / alpha - float((r * wa_t + wa_xt) @ (1.0 / (alpha + d.t_values)))
    grad[2] += (total * np.log(beta) - float(wa_t @ log_bt_v)
                + float(w.sum() - wa.sum()) / s)
    grad[3] += total * s / beta - s * float(wa_t @ (1.0 / (beta + d.t_values)))
    return ll, p_alive, grad


class ParetoNBDModel(TransactionModel):
    """Pareto/NBD model of repeat purchasing (Schmittlein, Morrison & Colombo 1987).

    Each customer buys as a Poisson process while alive and stays alive for an
    exponential lifetime; purchase rates vary as ``Gamma(r, alpha)`` and dropout rates
    as ``Gamma(s, beta)`` across customers. Fitted by maximum likelihood on the
    per-customer summary ``(frequency, recency, T)``, compressed to distinct rows, with
    an analytic gradient.

    Parameters
    ----------
    horizon : float, default 52
        Periods ahead for ``expected_purchases`` in :meth:`score`.
    freq : {"D", "W", "M", "h"}, default "W"
        Time unit used to summarise ``CRMData`` (a summary frame is in its own unit).

    Attributes
    ----------
    params_ : Series
        ``r, alpha`` (Gamma purchase rates), ``s, beta`` (Gamma dropout rates); ``alpha``
        and ``beta`` are in the data's time unit.
    covariance_ : DataFrame
        Asymptotic covariance of ``params_`` (inverse Hessian).
    log_likelihood_ : float
        Maximised log-likelihood (FH section 3, summed over customers, in the data's
        time unit).
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
    crmmodels.cltv.BetaGeoModel : BG/NBD, where dropout happens only right after a purchase.

    Notes
    -----
    ``score`` returns ``p_alive`` (FH section 5) and ``expected_purchases`` in the next
    ``horizon`` periods (FH section 6). Evaluating the likelihood's hypergeometric term
    is explained in the module docstring: it stays finite and accurate for both
    ``alpha >= beta`` and ``alpha < beta``, frequencies in the thousands, ``T`` near 0
    and ``recency == T``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.cltv.pareto_nbd import ParetoNBDModel
    >>> from importlib.resources import files  # lifetimes' published CDNOW summary
    >>> path = files("lifetimes") / "datasets" / "cdnow_customers_summary.csv"
    >>> summary = pd.read_csv(path, index_col="ID")
    >>> model = ParetoNBDModel(horizon=39).fit(summary)
    >>> model.params_.round(2).to_dict()
    {'r': 0.55, 'alpha': 10.58, 's': 0.61, 'beta': 11.67}
    >>> round(model.log_likelihood_, 1)
    -9595.0
    >>> model.score(summary).head(2).round(3)
                 p_alive  expected_purchases
    customer_id
    1              0.869               1.455
    2              0.168               0.171
    """

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    _boundary_notes: ClassVar[dict[str, Boundary]] = {
        **PURCHASE_RATE_NOTES,
        **boundary_pair(
            "s", "beta",
            zero=("s -> 0 means nearly every customer's dropout rate is essentially 0: the "
                  "data show (almost) no dropout, Pareto/NBD reduces to the NBD model and "
                  "P(alive) is about 1 for everyone",
                  "beta -> 0 means the mean dropout rate s / beta is huge: customers leave "
                  "almost at once after their first purchase"),
            infinity=("s -> infinity means the mean dropout rate s / beta is huge: "
                      "customers leave almost at once after their first purchase",
                      "beta -> infinity means the mean dropout rate s / beta is essentially "
                      "0 (lifetimes far longer than the observation window): no dropout, "
                      "Pareto/NBD reduces to the NBD model"),
            both_zero="s and beta -> 0 together mean dropout rates are extremely "
                      "heterogeneous: some customers leave almost at once and the others "
                      "(almost) never",
            both_infinity="s and beta -> infinity together mean dropout rates hardly vary "
                          "across customers: every lifetime is exponential with the same "
                          "rate s / beta",
            units=(None, "time"),
        ),
    }

    def __init__(self, *, horizon: float = 52, freq: str = "W") -> None:
        self.horizon = horizon
        self.freq = freq

    # ------------------------------------------------------------------ likelihood
    def _x0(self, x: np.ndarray, tx: np.ndarray, t: np.ndarray) -> list[np.ndarray]:
        mean_t = float(np.mean(t)) or 1.0
        rate = float(np.sum(x)) / max(float(np.sum(t)), 1e-12)
        alpha0 = 1.0 / max(rate, 1e-6)
        return [np.array([1.0, alpha0, 1.0, mean_t])]

    def _loglik(self, params: np.ndarray, x: np.ndarray, tx: np.ndarray,
                t: np.ndarray) -> np.ndarray:
        """Per-customer log-likelihood, FH section 3, with ``A_0`` in log space."""
        ll, _, _ = _loglik_terms(np.asarray(params, dtype=float),
                                 _Design.build(*_as_arrays(x, tx, t)))
        return ll

    def _grad(self, params: np.ndarray, x: np.ndarray, tx: np.ndarray, t: np.ndarray,
              w: np.ndarray) -> np.ndarray:
        """Analytic gradient of the weighted negative log-likelihood."""
        x, tx, t, ww = _as_arrays(x, tx, t, w)
        _, _, g = _loglik_terms(np.asarray(params, dtype=float), _Design.build(x, tx, t), ww)
        assert g is not None
        return -g

    def _objective(self, rows: Rows, w: np.ndarray) -> tuple[NLL, GRAD]:
        """Mean negative log-likelihood and its gradient, from one pass per point.

        The distinct ``(x, y)`` pairs behind the hypergeometric terms are found once
        per fit, not at every evaluation; scipy asks for the value and the gradient at
        the same point one after the other, so the last pass is kept.
        """
        design = _Design.build(*rows)
        total = float(w.sum())
        last: dict[str, Any] = {}

        def evaluate(p: np.ndarray) -> tuple[float, np.ndarray]:
            if "p" not in last or not np.array_equal(last["p"], p):
                ll, _, g = _loglik_terms(p, design, w)
                assert g is not None
                last.update(p=p.copy(), value=float(-np.dot(w, ll)) / total, grad=-g / total)
            return last["value"], last["grad"]

        def nll(p: np.ndarray) -> float:
            return evaluate(p)[0]

        def grad(p: np.ndarray) -> np.ndarray:
            return evaluate(p)[1]

        return nll, grad

    # ------------------------------------------------------------------ predictions
    def log_likelihood(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:  # noqa: N803
        """Per-customer log-likelihood at the fitted parameters (FH section 3).

        Examples
        --------
        >>> import pandas as pd
        >>> from crmmodels.cltv.pareto_nbd import ParetoNBDModel
        >>> m = ParetoNBDModel()
        >>> m.params_ = pd.Series({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
        >>> m.log_likelihood([0, 2], [0.0, 30.43], [38.86, 38.86]).round(4).tolist()
        [-0.521, -9.5543]
        """
        x, tx, t = _as_arrays(frequency, recency, T)
        shape = x.shape
        ll, _, _ = _loglik_terms(self._p(), _Design.build(x.ravel(), tx.ravel(), t.ravel()))
        return ll.reshape(shape)

    def expected_purchases(self, t: Any) -> np.ndarray:
        """Return expected purchases in ``(0, t]`` of a new customer (SMC; FH section 4).

        ``E[X(t)] = r beta / (alpha (s-1)) * (1 - (beta / (beta+t))^(s-1))``, computed
        through ``exprel`` so that ``s = 1`` (where it becomes a logarithm) is exact.

        Examples
        --------
        >>> import pandas as pd
        >>> from crmmodels.cltv.pareto_nbd import ParetoNBDModel
        >>> m = ParetoNBDModel()
        >>> m.params_ = pd.Series({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
        >>> m.expected_purchases([39.0, 78.0]).round(4).tolist()
        [1.213, 1.9094]
        """
        r, alpha, s, beta = self._p()
        (tt,) = _as_arrays(t)
        ell = np.log1p(tt / beta)
        return np.asarray(r / alpha * beta * ell * exprel((1.0 - s) * ell), dtype=float)

    def conditional_probability_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:  # noqa: N803
        """P(alive at T | x, t_x, T) (FH section 5), from the log-likelihood's two terms.

        ``P = (alpha+T)^-(r+x) (beta+T)^-s / (that + s/(r+s+x) A_0)``.

        Examples
        --------
        >>> import pandas as pd
        >>> from crmmodels.cltv.pareto_nbd import ParetoNBDModel
        >>> m = ParetoNBDModel()
        >>> m.params_ = pd.Series({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
        >>> m.conditional_probability_alive([0, 2, 5], [0.0, 30.43, 38.86],
        ...                                 [38.86, 38.86, 38.86]).round(4).tolist()
        [0.2953, 0.8692, 1.0]
        """
        x, tx, t = _as_arrays(frequency, recency, T)
        shape = x.shape
        _, p_alive, _ = _loglik_terms(self._p(),
                                      _Design.build(x.ravel(), tx.ravel(), t.ravel()))
        return p_alive.reshape(shape)

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any,
                                       T: Any) -> np.ndarray:  # noqa: N803
        """Return expected purchases in ``(T, T + t]`` given ``(x, t_x, T)`` (FH section 6).

        ``E = (r+x)(beta+T) / ((alpha+T)(s-1)) * (1 - ((beta+T)/(beta+T+t))^(s-1))
        * P(alive)``.

        Examples
        --------
        >>> import pandas as pd
        >>> from crmmodels.cltv.pareto_nbd import ParetoNBDModel
        >>> m = ParetoNBDModel()
        >>> m.params_ = pd.Series({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
        >>> m.conditional_expected_purchases(39, [0, 2], [0.0, 30.43],
        ...                                  [38.86, 38.86]).round(4).tolist()
        [0.1071, 1.4551]
        """
        tt, x, tx, big_t = _as_arrays(t, frequency, recency, T)
        return np.asarray(self.expected_purchases_if_alive(tt, x, big_t)
                          * self.conditional_probability_alive(x, tx, big_t), dtype=float)

    def expected_purchases_if_alive(self, t: Any, frequency: Any, T: Any) -> np.ndarray:  # noqa: N803
        """Return expected purchases in ``(T, T + t]`` of a customer known to be alive at T.

        The posterior of ``(lambda, mu)`` of a customer alive at ``T`` is
        ``Gamma(r+x, alpha+T) x Gamma(s, beta+T)``, so (FH section 6)
        ``E = (r+x)/(alpha+T) * (beta+T)/(s-1) * (1 - ((beta+T)/(beta+T+t))^(s-1))``,
        computed through ``exprel`` so that ``s = 1`` is exact.

        Examples
        --------
        >>> import pandas as pd
        >>> from crmmodels.cltv.pareto_nbd import ParetoNBDModel
        >>> m = ParetoNBDModel()
        >>> m.params_ = pd.Series({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
        >>> m.expected_purchases_if_alive(39, [0, 2], [38.86, 38.86]).round(4).tolist()
        [0.3626, 1.6742]
        """
        r, alpha, s, beta = self._p()
        tt, x, big_t = _as_arrays(t, frequency, T)
        ell = np.log1p(tt / (beta + big_t))
        return np.asarray((r + x) / (alpha + big_t) * (beta + big_t) * ell
                          * exprel((1.0 - s) * ell), dtype=float)

    def probability_of_purchases(self, n: Any, t: Any) -> np.ndarray:
        """P(X(t) = n) for a new customer (SMC; FH 2006, "Deriving an Expression for P(X(t) = x)").

        The customer is either alive at ``t`` (negative binomial count times
        ``(beta/(beta+t))^s``) or died at ``tau <= t`` after ``n`` purchases:

        ``P = NB(n; r, alpha, t) (beta/(beta+t))^s + Gamma(r+n)/(Gamma(r) n!) s alpha^r
        beta^s * int_0^t tau^n (alpha+tau)^-(r+n) (beta+tau)^-(s+1) dtau``.

        The integral is evaluated by Gauss-Legendre quadrature on a grid that is
        geometrically graded towards both ends of ``(0, t)``, in log space.

        Examples
        --------
        >>> import pandas as pd
        >>> from crmmodels.cltv.pareto_nbd import ParetoNBDModel
        >>> m = ParetoNBDModel()
        >>> m.params_ = pd.Series({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
        >>> m.probability_of_purchases([0, 1, 2], 39.0).round(4).tolist()
        [0.5936, 0.1656, 0.0825]
        """
        r, alpha, s, beta = self._p()
        nn, tt = _as_arrays(n, t)
        nn = np.round(nn)
        shape = nn.shape
        nf, tf = nn.ravel(), tt.ravel()
        out = np.zeros(nf.shape)
        pos = tf > 0
        out[~pos] = (nf[~pos] == 0).astype(float)
        if pos.any():
            k, tp = nf[pos], tf[pos]
            log_nb = (gammaln(r + k) - gammaln(r) - gammaln(k + 1.0)
                      + r * np.log(alpha / (alpha + tp)) + k * np.log(tp / (alpha + tp))
                      + s * np.log(beta / (beta + tp)))
            log_int = _log_death_integral(r, alpha, s, beta, k, tp)
            log_dead = (gammaln(r + k) - gammaln(r) - gammaln(k + 1.0) + np.log(s)
                        + r * np.log(alpha) + s * np.log(beta) + log_int)
            out[pos] = np.exp(np.logaddexp(log_nb, log_dead))
        return out.reshape(shape)


def _log_death_integral(r: float, alpha: float, s: float, beta: float, n: np.ndarray,
                        t: np.ndarray) -> np.ndarray:
    """``log int_0^t tau^n (alpha+tau)^-(r+n) (beta+tau)^-(s+1) dtau`` by graded quadrature."""
    nodes, weights = np.polynomial.legendre.leggauss(24)
    u = (nodes + 1.0) / 2.0
    wu = weights / 2.0
    # Breakpoints t * g_k: dense towards 0 (g = 2^-k) and towards t (g = 1 - 2^-k).
    k = np.arange(1, 60)
    grid = np.unique(np.concatenate([[0.0, 1.0], 2.0**-k, 1.0 - 2.0**-k[:52]]))
    lo, hi = grid[:-1], grid[1:]
    frac = (lo[:, None] + (hi - lo)[:, None] * u[None, :]).ravel()  # (intervals * nodes,)
    wt = ((hi - lo)[:, None] * wu[None, :]).ravel()
    tau = t[:, None] * frac[None, :]
    with np.errstate(divide="ignore"):
        log_f = (n[:, None] * np.log(tau) - (r + n[:, None]) * np.log(alpha + tau)
                 - (s + 1.0) * np.log(beta + tau))
    log_f = np.where(tau > 0, log_f, -np.inf)
    top = np.max(log_f, axis=1, keepdims=True)
    return np.asarray(np.log(t) + top[:, 0] + np.log(np.sum(wt * np.exp(log_f - top), axis=1)),
                      dtype=float)
