"""BG/BB: beta-geometric / beta-Bernoulli model of discrete-time repeat transactions.

Fader, P. S., Hardie, B. G. S. and Shang, J. (2010), "Customer-Base Analysis in a
Discrete-Time Noncontractual Setting", *Marketing Science* 29(6), 1086-1108.

Customers have discrete *transaction opportunities* (a yearly fund drive, a weekly
visit window, an annual event). After the first ("trial") transaction at
opportunity 0, a customer

* while alive, transacts at each opportunity with probability ``p ~ Beta(alpha,
  beta)``;
* becomes inactive at the beginning of each opportunity with probability ``theta ~
  Beta(gamma, delta)``.

A customer's history over ``n`` opportunities is summarised by ``x`` (opportunities
with a transaction), ``t_x`` (the opportunity of the last transaction, 0 if none) and
``n``. Alive for all ``n`` opportunities, or inactive from opportunity ``t_x + i + 1``
on (``i = 0 .. n - t_x - 1``), the likelihood mixed over ``p`` and ``theta`` is::

    L = B(alpha + x, beta + n - x) / B(alpha, beta) * B(gamma, delta + n) / B(gamma, delta)
        + sum_{i=0}^{n - t_x - 1} B(alpha + x, beta + t_x - x + i) / B(alpha, beta)
                                  * B(gamma + 1, delta + t_x + i) / B(gamma, delta)

Every term is evaluated in log space from tables of ``gammaln`` / ``digamma`` over
``0 .. max(n) + 1``, and customers sharing ``(x, t_x, n)`` are fitted as one weighted
row, so a million customers cost about as much as the number of distinct patterns.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, gammaln

from crmmodels.cltv._base import TransactionModel
from crmmodels.cltv._likelihood import Boundary, as_arrays, boundary_pair, compress, wsum
from crmmodels.cltv.modified_beta_geo import _NEAR_ONE, _near_one
from crmmodels.core import Constraint, Interval, Options
from crmmodels.data import CRMData, validate_summary
from crmmodels.errors import DataValidationError

__all__ = ["BetaGeoBetaBinomModel", "validate_discrete_summary"]

def validate_discrete_summary(summary: object) -> pd.DataFrame:
    """Check a per-customer discrete-time summary (``frequency, recency, n_periods``).

    The same checks as :func:`crmmodels.data.validate_summary` with ``discrete=True``
    (which this calls): one row per customer; ``T`` is accepted as a synonym of
    ``n_periods`` (when both are present they must agree); the columns exist and are
    finite whole numbers, ``0 <= frequency <= recency <= n_periods``, ``recency == 0``
    when ``frequency == 0``, ids unique. The customer ids (a ``customer_id`` column,
    else the index) are kept as given, labels and dtype, in an index named
    ``customer_id``.

    Returns
    -------
    DataFrame
        A new float64 frame indexed by ``customer_id`` with columns ``frequency,
        recency, n_periods``.

    Raises
    ------
    DataValidationError
        Naming the frame (``"summary"``), the column, the rule and a few rows.

    Examples
    --------
    >>> import pandas as pd
    >>> validate_discrete_summary(pd.DataFrame({"frequency": [3], "recency": [2],
    ...                                         "n_periods": [6]}))
    Traceback (most recent call last):
    ...
    crmmodels.errors.DataValidationError: [frame='summary', column='frequency', ...
    """
    return validate_summary(summary, discrete=True)


def _whole(*values: Any) -> list[np.ndarray]:
    arrays = as_arrays(*values)
    for a in arrays:
        if not (np.all(np.isfinite(a)) and np.all(a >= 0) and np.all(a == np.round(a))):
            raise DataValidationError(
                "frequency, recency, n_periods and horizons must be non-negative whole "
                "numbers", frame="summary", rule="integer",
            )
    return arrays


class _Tables:
    """``gammaln`` (and ``digamma``) of the parameters plus ``0 .. size - 1``."""

    def __init__(self, p: np.ndarray, size: int, grad: bool = False) -> None:
        alpha, beta, gamma, delta = p
        j = np.arange(size, dtype=float)
        f: Callable[[np.ndarray], np.ndarray] = digamma if grad else gammaln
        self.a = f(alpha + j)
        self.b = f(beta + j)
        self.ab = f(alpha + beta + j)
        self.d = f(delta + j)
        self.gd = f(gamma + delta + j)


def _expand(tx: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row index and opportunity ``k = t_x + i`` of each dropout term, ``i < n - t_x``."""
    lengths = (n - tx).astype(np.intp)
    rid = np.repeat(np.arange(len(n)), lengths)
    starts = np.cumsum(lengths) - lengths
    k = tx.astype(np.intp)[rid] + (np.arange(int(lengths.sum())) - starts[rid])
    return rid, k


class BetaGeoBetaBinomModel(TransactionModel):
    """BG/BB model of discrete-time repeat transactions (Fader, Hardie & Shang 2010).

    Parameters
    ----------
    horizon : int, default 52
        Future transaction opportunities for ``expected_purchases`` in :meth:`score`.
    freq : {"D", "W", "M", "h"}, default "W"
        Length of one transaction opportunity when summarising ``CRMData``.

    Attributes
    ----------
    params_ : Series
        ``alpha, beta`` (Beta distribution of the transaction probability ``p``),
        ``gamma, delta`` (Beta distribution of the dropout probability ``theta``).
    covariance_ : DataFrame
        Asymptotic covariance of ``params_`` (inverse Hessian).
    log_likelihood_ : float
        Maximised log-likelihood, summed over customers.
    converged_ : bool
        Whether the optimiser converged.
    n_customers_ : int
        Customers in the fit.
    boundary_ : dict
        ``{parameter: message}`` for the estimates at an edge of the parameter space
        (the text of the fit's :class:`~crmmodels.errors.ConvergenceWarning`: the
        parameter, its estimate and what that edge means); empty when there is none.

    Notes
    -----
    **Input.** ``fit`` and ``score`` take one row per customer:

    * a summary frame with whole-number columns ``frequency`` (opportunities with a
      transaction after the first one, ``x``), ``recency`` (the opportunity of the
      last transaction, ``t_x``; 0 if none) and ``n_periods`` (opportunities
      observed, ``n``; ``T`` is accepted as a synonym), see
      :func:`validate_discrete_summary`. Published recency/frequency matrices list a
      count per pattern: repeat each row that many times (``df.loc[df.index.repeat(
      df["weights"])]``); the fit compresses identical rows again internally.
    * ``CRMData``: summarised with :func:`crmmodels.data.customer_summary` and
      ``freq``; each period of ``freq`` is one opportunity, the first purchase period
      is opportunity 0, so ``frequency`` = periods with a repeat purchase, ``recency``
      = periods from the first to the last purchase, and ``n_periods`` = ``T`` (periods
      from the first purchase to ``observation_end``), rounded.

    **Output.** :meth:`score` returns ``p_alive``, the probability of being alive at
    the next opportunity ``n + 1`` (the paper's P(alive)), and ``expected_purchases``,
    the expected transactions over the next ``horizon`` opportunities.

    Examples
    --------
    >>> from crmmodels.cltv.beta_geo_beta_binom import BetaGeoBetaBinomModel
    >>> from crmmodels.datasets import load_donations  # Fader, Hardie & Shang (2010)
    >>> model = BetaGeoBetaBinomModel(horizon=5).fit(load_donations())
    >>> model.params_.round(3).to_dict()
    {'alpha': 1.204, 'beta': 0.75, 'gamma': 0.657, 'delta': 2.783}
    >>> round(model.log_likelihood_, 1)
    -33225.6
    """

    _discrete_time: ClassVar[bool] = True
    _time_column: ClassVar[str] = "n_periods"
    _observed: ClassVar[str] = ("customers with transaction opportunities after the first "
                                "purchase")
    _param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta", "gamma", "delta")
    _boundary_notes: ClassVar[dict[str, Boundary]] = {
        **boundary_pair(
            "alpha", "beta",
            zero=("alpha -> 0 means the transaction probability is essentially 0 for "
                  "nearly every customer",
                  "beta -> 0 means nearly every customer transacts at every opportunity "
                  "(transaction probability about 1)"),
            infinity=("alpha -> infinity means nearly every customer transacts at every "
                      "opportunity (transaction probability about 1)",
                      "beta -> infinity means the transaction probability is essentially 0 "
                      "for nearly every customer"),
            both_zero="alpha and beta -> 0 together mean customers split in two: a share "
                      "alpha / (alpha + beta) transacts at every opportunity and the others "
                      "never",
            both_infinity="alpha and beta -> infinity together mean the transaction "
                          "probability hardly varies: every customer transacts with the "
                          "same probability alpha / (alpha + beta)",
        ),
        **boundary_pair(
            "gamma", "delta",
            zero=("gamma -> 0 means the dropout probability is essentially 0 for nearly "
                  "every customer: the data show no sign of customers leaving and BG/BB "
                  "reduces to the beta-binomial model without dropout",
                  "delta -> 0 means nearly every customer drops out at the first "
                  "opportunity (dropout probability about 1)"),
            infinity=("gamma -> infinity means nearly every customer drops out at the "
                      "first opportunity (dropout probability about 1)",
                      "delta -> infinity means the dropout probability is essentially 0 "
                      "for nearly every customer: BG/BB reduces to the beta-binomial model "
                      "without dropout"),
            both_zero="gamma and delta -> 0 together mean customers split in two: a share "
                      "gamma / (gamma + delta) drops out at the first opportunity and the "
                      "others never drop out",
            both_infinity="gamma and delta -> infinity together mean the dropout "
                          "probability hardly varies: every customer drops out with the "
                          "same probability gamma / (gamma + delta) at each opportunity",
        ),
    }
    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "horizon": [Interval(Integral, 1, None)],
        "freq": [Options({"D", "W", "M", "h"})],
    }
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"horizon": 0}, {"horizon": -1}, {"horizon": 2.5}, {"horizon": "52"}, {"freq": "Y"},
    )

    def __init__(self, *, horizon: int = 52, freq: str = "W") -> None:
        self.horizon = horizon
        self.freq = freq

    # ------------------------------------------------------------------ data
    def _prepare(self, data: object) -> Any:
        if isinstance(data, pd.DataFrame) and {"frequency", "recency"} <= set(data.columns):
            return validate_summary(data, discrete=True)
        return super()._prepare(data)

    def _summary(self, data: CRMData | pd.DataFrame) -> pd.DataFrame:
        from crmmodels.data import customer_summary

        if isinstance(data, CRMData):
            s = customer_summary(data, freq=self.freq)
            return pd.DataFrame(
                {"frequency": s["frequency"].to_numpy(),
                 "recency": np.round(s["recency"].to_numpy()),
                 "n_periods": np.round(s["T"].to_numpy())},
                index=s.index,
            )
        return data

    # ------------------------------------------------------------------ likelihood
    def _x0(self, x: np.ndarray, tx: np.ndarray, t: np.ndarray) -> list[np.ndarray]:
        return [np.ones(4), np.array([1.2, 0.75, 0.65, 2.8])]

    @staticmethod
    def _log_terms(p: np.ndarray, x: np.ndarray, tx: np.ndarray,
                   n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                           np.ndarray, np.ndarray]:
        """Return the common factor, the "alive" term, the dropout terms and their rows.

        Each is a log; the dropout terms decrease in ``k``, so the first of each row
        is its largest.
        """
        alpha, beta, gamma, delta = p
        size = int(n.max()) + 2 if len(n) else 2
        g = _Tables(p, size)
        xi, ni = x.astype(np.intp), n.astype(np.intp)
        rid, k = _expand(tx, n)
        common = g.a[xi] - betaln(alpha, beta) - betaln(gamma, delta)
        log_a = g.b[ni - xi] - g.ab[ni] + gammaln(gamma) + g.d[ni] - g.gd[ni]
        log_b = g.b[k - xi[rid]] - g.ab[k] + gammaln(gamma + 1) + g.d[k] - g.gd[k + 1]
        return common, log_a, log_b, rid, k, xi

    @staticmethod
    def _normalise(log_a: np.ndarray, log_b: np.ndarray, rid: np.ndarray,
                   m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log-sum-exp per row, and the weights of the alive and dropout terms."""
        top = log_a.copy()
        first = np.ones(len(rid), dtype=bool)
        first[1:] = rid[1:] != rid[:-1]
        top[rid[first]] = np.maximum(top[rid[first]], log_b[first])
        # Clipped so that negligible terms never become (very slow) denormal numbers.
        e_a = np.exp(np.maximum(log_a - top, -700.0))
        e_b = np.exp(np.maximum(log_b - top[rid], -700.0))
        total = e_a + np.bincount(rid, weights=e_b, minlength=m)
        return top + np.log(total), e_a / total, e_b / total[rid]

    def _loglik(self, params: np.ndarray, x: np.ndarray, tx: np.ndarray,
                t: np.ndarray) -> np.ndarray:
        """Per-customer log-likelihood (the BG/BB likelihood above), in log space."""
        common, log_a, log_b, rid, _, _ = self._log_terms(params, x, tx, t)
        lse, _, _ = self._normalise(log_a, log_b, rid, len(x))
        return np.asarray(common + lse, dtype=float)

    def _grad(self, params: np.ndarray, x: np.ndarray, tx: np.ndarray, t: np.ndarray,
              w: np.ndarray) -> np.ndarray:
        """Analytic gradient of the weighted negative log-likelihood.

        The derivative of a log-sum-exp is the average of the terms' derivatives
        weighted by each term's share of the likelihood.
        """
        alpha, beta, gamma, delta = params
        m = len(x)
        _, log_a, log_b, rid, k, xi = self._log_terms(params, x, tx, t)
        _, w_a, w_b = self._normalise(log_a, log_b, rid, m)
        d = _Tables(params, int(t.max()) + 2 if m else 2, grad=True)
        ni = t.astype(np.intp)

        def mix(on_a: np.ndarray, on_b: np.ndarray) -> np.ndarray:
            return np.asarray(w_a * on_a + np.bincount(rid, weights=w_b * on_b, minlength=m),
                              dtype=float)

        dg_ab, dg_gd = digamma(alpha + beta), digamma(gamma + delta)
        d_alpha = d.a[xi] - digamma(alpha) + dg_ab - mix(d.ab[ni], d.ab[k])
        d_beta = -digamma(beta) + dg_ab + mix(d.b[ni - xi] - d.ab[ni],
                                              d.b[k - xi[rid]] - d.ab[k])
        d_gamma = dg_gd + mix(-d.gd[ni], 1.0 / gamma - d.gd[k + 1])
        d_delta = -digamma(delta) + dg_gd + mix(d.d[ni] - d.gd[ni], d.d[k] - d.gd[k + 1])
        return -np.array([wsum(w, d_alpha), wsum(w, d_beta), wsum(w, d_gamma),
                          wsum(w, d_delta)])

    # ------------------------------------------------------------------ predictions
    def _per_pattern(self, fun: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                                         np.ndarray],
                     frequency: Any, recency: Any, n_periods: Any, extra: Any) -> np.ndarray:
        """Evaluate ``fun(x, t_x, n, extra)`` once per distinct pattern."""
        x, tx, n, e = _whole(frequency, recency, n_periods, extra)
        if np.any(tx > n) or np.any(x > tx) or np.any((x == 0) & (tx > 0)):
            raise DataValidationError(
                "need frequency <= recency <= n_periods, and recency == 0 when frequency "
                "== 0", frame="summary", rule="recency_le_n_periods",
            )
        shape = x.shape
        (ux, utx, un, ue), _, inverse = compress(x.ravel(), tx.ravel(), n.ravel(), e.ravel())
        return np.asarray(fun(ux, utx, un, ue)[inverse].reshape(shape), dtype=float)

    def _log_likelihood_rows(self, x: np.ndarray, tx: np.ndarray, n: np.ndarray) -> np.ndarray:
        return self._loglik(self._p(), x, tx, n)

    def conditional_probability_alive(self, frequency: Any, recency: Any,
                                      n_periods: Any, periods_ahead: Any = 1) -> np.ndarray:
        """P(alive at opportunity ``n + periods_ahead`` | x, t_x, n).

        ``B(alpha + x, beta + n - x) / B(alpha, beta) * B(gamma, delta + n + m) /
        B(gamma, delta) / L(x, t_x, n)``. The default ``periods_ahead=1`` is the
        paper's P(alive) "in period n + 1", also what :meth:`score` reports;
        ``periods_ahead=0`` is the probability of having been alive at opportunity
        ``n``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = BetaGeoBetaBinomModel()
        >>> m.params_ = pd.Series({"alpha": 1.204, "beta": 0.750, "gamma": 0.657,
        ...                        "delta": 2.783})
        >>> m.conditional_probability_alive([6, 3, 0], [6, 3, 0], 6).round(3).tolist()
        [0.93, 0.095, 0.108]
        """
        alpha, beta, gamma, delta = self._p()

        def fun(x: np.ndarray, tx: np.ndarray, n: np.ndarray, m: np.ndarray) -> np.ndarray:
            log_alive = (betaln(alpha + x, beta + n - x) - betaln(alpha, beta)
                         + betaln(gamma, delta + n + m) - betaln(gamma, delta))
            # A probability: rounding in exp(log_alive - loglik) may overshoot 1 by ~1e-11.
            return np.asarray(np.minimum(np.exp(log_alive - self._log_likelihood_rows(x, tx, n)),
                                         1.0), dtype=float)

        return self._per_pattern(fun, frequency, recency, n_periods, periods_ahead)

    def _future_factor(self, n: np.ndarray, ahead: np.ndarray,
                       log_prefix: np.ndarray) -> np.ndarray:
        """Return ``exp(log_prefix)`` times the dropout part of eq. (13), stably.

        ``delta / (gamma - 1) Gamma(gamma + delta) / Gamma(1 + delta) [Gamma(1 + delta
        + n) / Gamma(gamma + delta + n) - (same at n + ahead)]``; the prefix joins the
        logs before exponentiating, so a huge posterior factor times a tiny survival
        factor neither overflows nor underflows.
        """
        _, _, gamma, delta = self._p()

        def at(g: float) -> np.ndarray:
            def big_d(j: np.ndarray) -> np.ndarray:
                return np.asarray(gammaln(1 + delta + j) - gammaln(g + delta + j), dtype=float)

            scale = gammaln(g + delta) - gammaln(1 + delta) + big_d(n) + log_prefix
            with np.errstate(over="ignore", invalid="ignore"):
                return np.asarray(delta / (g - 1) * np.exp(scale)
                                  * -np.expm1(big_d(n + ahead) - big_d(n)), dtype=float)

        scale = max(1.0, float(np.max(np.log1p(n + ahead)))) if n.size else 1.0
        return _near_one(at, gamma, _NEAR_ONE / scale)

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any,
                                       n_periods: Any) -> np.ndarray:
        """Return expected transactions in the next ``t`` opportunities given ``(x, t_x, n)``.

        Eq. (13) of the paper: ``B(alpha + x + 1, beta + n - x) / B(alpha, beta) /
        L(x, t_x, n) * delta / (gamma - 1) * Gamma(gamma + delta) / Gamma(1 + delta) *
        [Gamma(1 + delta + n) / Gamma(gamma + delta + n) - Gamma(1 + delta + n + t) /
        Gamma(gamma + delta + n + t)]``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = BetaGeoBetaBinomModel()
        >>> m.params_ = pd.Series({"alpha": 1.204, "beta": 0.750, "gamma": 0.657,
        ...                        "delta": 2.783})
        >>> m.conditional_expected_purchases(5, [6, 0], [6, 0], 6).round(3).tolist()
        [3.752, 0.073]
        """
        alpha, beta, _, _ = self._p()

        def fun(x: np.ndarray, tx: np.ndarray, n: np.ndarray, ahead: np.ndarray) -> np.ndarray:
            log_p = betaln(alpha + x + 1, beta + n - x) - betaln(alpha, beta)
            return self._future_factor(n, ahead, log_p - self._log_likelihood_rows(x, tx, n))

        return self._per_pattern(fun, frequency, recency, n_periods, t)

    def expected_purchases(self, n: Any) -> np.ndarray:
        """Return expected transactions of a new customer in the first ``n`` opportunities.

        ``E[X(n)] = alpha / (alpha + beta) * delta / (gamma - 1) * [1 - Gamma(gamma +
        delta) / Gamma(1 + delta) * Gamma(1 + delta + n) / Gamma(gamma + delta + n)]``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = BetaGeoBetaBinomModel()
        >>> m.params_ = pd.Series({"alpha": 1.20, "beta": 0.75, "gamma": 0.66,
        ...                        "delta": 2.78})
        >>> m.expected_purchases([1, 10]).round(4).tolist()
        [0.4973, 3.165]
        """
        alpha, beta, _, _ = self._p()
        (nn,) = _whole(n)
        zero = np.zeros_like(nn)
        return self._future_factor(zero, nn, zero + np.log(alpha) - np.log(alpha + beta))

    def probability_of_purchases(self, x: Any, n: Any) -> np.ndarray:
        """P(X(n) = x): probability of ``x`` transactions in the first ``n`` opportunities.

        Eq. (7) of the paper: alive throughout, or inactive from opportunity ``i + 1``
        on (``i = x .. n - 1``)::

            C(n, x) B(alpha + x, beta + n - x) / B(alpha, beta)
                    B(gamma, delta + n) / B(gamma, delta)
            + sum_i C(i, x) B(alpha + x, beta + i - x) / B(alpha, beta)
                            B(gamma + 1, delta + i) / B(gamma, delta)

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> m = BetaGeoBetaBinomModel()
        >>> m.params_ = pd.Series({"alpha": 1.204, "beta": 0.750, "gamma": 0.657,
        ...                        "delta": 2.783})
        >>> p = m.probability_of_purchases(np.arange(7), 6)
        >>> round(float(p.sum()), 12), round(float(p[0]), 4)
        (1.0, 0.3112)
        """
        alpha, beta, gamma, delta = self._p()
        xx, nn = _whole(x, n)
        shape = xx.shape
        xf, nf = xx.ravel(), nn.ravel()
        ok = xf <= nf
        out = np.zeros(len(xf))
        if ok.any():
            xs, ns = xf[ok], nf[ok]

            def log_choose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
                return np.asarray(gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1),
                                  dtype=float)

            norm = betaln(alpha, beta) + betaln(gamma, delta)
            log_a = (log_choose(ns, xs) + betaln(alpha + xs, beta + ns - xs)
                     + betaln(gamma, delta + ns) - norm)
            rid, i = _expand(xs, ns)  # i runs over x .. n - 1
            xr = xs[rid]
            log_b = (log_choose(i, xr) + betaln(alpha + xr, beta + i - xr)
                     + betaln(gamma + 1, delta + i) - norm)
            out[ok] = np.exp(log_a) + np.bincount(rid, weights=np.exp(log_b), minlength=len(xs))
        return out.reshape(shape)
