"""Customer lifetime value: margin x discounted expected purchases x expected spend.

``CLV_i = margin * sum_{k=1..K} [E(purchases of i in step k) / (1 + d)^k] * E(spend_i)``

where the steps are ``step`` periods long, ``K = ceil(horizon / step)`` (the last step
is cut at the horizon), ``d`` is the discount rate per step, and ``E(purchases in
step k)`` is the difference of the transaction model's conditional expected purchases
at the ends of the step. Time unit, horizon and discounting are explicit: a yearly
rate converts to a per-period rate with :func:`period_discount_rate`.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import clone

from crmmodels.cltv._base import TransactionModel
from crmmodels.cltv.gamma_gamma import GammaGammaModel
from crmmodels.core import Constraint, CRMModel, Interval, Options, Predicate, check_params
from crmmodels.data import CRMData
from crmmodels.errors import InvalidParameterError

__all__ = ["CLVModel", "period_discount_rate"]

PERIODS_PER_YEAR: dict[str, float] = {"D": 365.25, "W": 365.25 / 7, "M": 12.0, "h": 8766.0}
_DISCOUNT_RATE_CONSTRAINTS: dict[str, list[Constraint | None]] = {
    "annual_rate": [Interval(Real, -1, None, closed="neither")],
    "freq": [Options(PERIODS_PER_YEAR)],
}
_INTERVAL_CONSTRAINTS: dict[str, list[Constraint | None]] = {
    "level": [Interval(Real, 0, 1, closed="neither")],
    "n_draws": [Interval(Integral, 10, None)],
}


def period_discount_rate(annual_rate: float, freq: str = "W") -> float:
    """Convert a yearly discount rate into the equivalent rate per period of ``freq``.

    ``(1 + annual_rate) ** (1 / periods_per_year) - 1``: compounding the period rate
    over a year gives the yearly rate back.

    Examples
    --------
    >>> round(period_discount_rate(0.10, "M"), 6)
    0.007974
    >>> round((1 + period_discount_rate(0.10, "W")) ** (365.25 / 7), 12)
    1.1
    """
    check_params("period_discount_rate", {"annual_rate": annual_rate, "freq": freq},
                 _DISCOUNT_RATE_CONSTRAINTS)
    return float((1 + annual_rate) ** (1 / PERIODS_PER_YEAR[freq]) - 1)


def _draw(params: pd.Series, cov: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """One draw of positive parameters from their log-normal approximation."""
    p = params.to_numpy(dtype=float)
    c = cov.to_numpy(dtype=float)
    if not np.all(np.isfinite(c)):
        return p  # no usable covariance: no parameter uncertainty to propagate
    log_cov = c / np.outer(p, p)
    return np.asarray(np.exp(rng.multivariate_normal(np.log(p), log_cov)), dtype=float)


def _with_params(model: Any, values: np.ndarray) -> Any:
    """Return a copy of a fitted model with other parameter values."""
    out = clone(model)
    for k, v in vars(model).items():
        if k.endswith("_"):
            setattr(out, k, v)
    out.params_ = pd.Series(values, index=model.params_.index, name=model.params_.name)
    return out


class CLVModel(CRMModel):
    """Customer lifetime value from a transaction model and a spend model.

    Parameters
    ----------
    transaction_model : TransactionModel, optional
        Unfitted purchase model (default ``BetaGeoModel(freq=freq)``); it is cloned
        and fitted by :meth:`fit`. Its ``horizon`` and ``freq`` are replaced by this
        model's (so ``transaction_model__horizon`` in a grid search has no effect: search
        over ``horizon``).
    spend_model : GammaGammaModel, optional
        Unfitted spend model (default ``GammaGammaModel(freq=freq)``); its ``freq`` is
        replaced by this model's.
    horizon : float, default 52
        How far ahead to value purchases, in periods of ``freq``.
    discount_rate : float, default 0.0
        Discount rate per step (see ``step``), e.g. ``period_discount_rate(0.10, "W")``
        for 10% a year with weekly steps.
    margin : float, default 1.0
        Share of spend kept as profit (1.0 values revenue).
    freq : {"D", "W", "M", "h"}, default "W"
        Time unit of the summary, the horizon and the discount rate.
    step : float, default 1.0
        Length of one discounting step in periods (e.g. 4.345 weeks for monthly
        discounting of weekly data, as lifetimes does). With a discrete-time model
        (BG/BB) ``step`` and ``horizon`` must be whole numbers.

    Attributes
    ----------
    transaction_model_ : TransactionModel
        The fitted purchase model.
    spend_model_ : GammaGammaModel
        The fitted spend model.

    Examples
    --------
    >>> from crmmodels.cltv import CLVModel, period_discount_rate
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> data = load_cdnow_sample()
    >>> clv = CLVModel(horizon=52, discount_rate=period_discount_rate(0.10, "W"),
    ...                margin=0.3).fit(data)
    >>> scores = clv.score(data)
    >>> scores.columns.tolist()
    ['p_alive', 'expected_purchases', 'expected_spend', 'clv']
    >>> bool((scores["clv"] >= 0).all())
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "horizon": [Interval(Real, 0, None, closed="neither")],
        "discount_rate": [Interval(Real, -1, None, closed="neither")],
        "margin": [Interval(Real, 0, None, closed="left")],
        "freq": [Options({"D", "W", "M", "h"})],
        "step": [Interval(Real, 0, None, closed="neither")],
        "transaction_model": [None, Predicate(lambda v: isinstance(v, TransactionModel),
                                              "a crmmodels transaction model (e.g. "
                                              "BetaGeoModel())")],
        "spend_model": [None, Predicate(lambda v: isinstance(v, GammaGammaModel),
                                        "a GammaGammaModel")],
    }
    _score_columns: ClassVar[tuple[str, ...]] = (
        "p_alive", "expected_purchases", "expected_spend", "clv",
    )
    _accepts_summary: ClassVar[bool] = True
    _summary_needs_monetary: ClassVar[bool] = True
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"horizon": 0}, {"discount_rate": -1.5}, {"margin": -0.1}, {"step": 0},
        {"transaction_model": "bgnbd"},
    )

    def __init__(
        self,
        *,
        transaction_model: TransactionModel | None = None,
        spend_model: GammaGammaModel | None = None,
        horizon: float = 52,
        discount_rate: float = 0.0,
        margin: float = 1.0,
        freq: str = "W",
        step: float = 1.0,
    ) -> None:
        self.transaction_model = transaction_model
        self.spend_model = spend_model
        self.horizon = horizon
        self.discount_rate = discount_rate
        self.margin = margin
        self.freq = freq
        self.step = step

    def _summary(self, data: CRMData | pd.DataFrame) -> pd.DataFrame:
        from crmmodels.data import as_summary

        return as_summary(data, self.freq)

    def _fit(self, data: CRMData | pd.DataFrame) -> None:
        from crmmodels.cltv.beta_geo import BetaGeoModel

        s = self._summary(data)
        tm = clone(self.transaction_model) if self.transaction_model is not None \
            else BetaGeoModel(freq=self.freq)
        sm = clone(self.spend_model) if self.spend_model is not None \
            else GammaGammaModel(freq=self.freq)
        if tm._discrete_time and not (float(self.horizon).is_integer()
                                      and float(self.step).is_integer()):
            raise InvalidParameterError(
                f"{type(tm).__name__} counts whole transaction opportunities: horizon "
                f"({self.horizon}) and step ({self.step}) must be whole numbers"
            )
        # The CLV's time unit and horizon apply to its parts (they are fitted on the
        # CLV's summary), whatever the given sub-models said.
        tm.set_params(horizon=self.horizon, freq=self.freq)
        sm.set_params(freq=self.freq)
        self.transaction_model_ = tm.fit(s)
        self.spend_model_ = sm.fit(s)

    def discounted_expected_purchases(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:  # noqa: N803
        """Return the sum over steps of expected purchases discounted to today.

        Computed as ``P(alive) x sum_k [B(t_k) - B(t_{k-1})] / (1 + d)^k`` with ``B`` the
        expected purchases of a customer alive today, evaluated once per distinct
        ``(frequency, T)`` (it does not depend on recency).
        """
        from crmmodels.cltv._likelihood import as_arrays, compress

        self._check_fitted()
        tm = self.transaction_model_
        x, tx, t = as_arrays(frequency, recency, T)
        horizon, step = float(self.horizon), float(self.step)
        n_steps = math.ceil(horizon / step - 1e-12)
        ends = np.minimum(np.arange(1, n_steps + 1) * step, horizon)
        (ux, ut), _, inv = compress(x.ravel(), t.ravel())
        total = np.zeros(len(ux))
        previous = np.zeros(len(ux))
        for k, end in enumerate(ends, start=1):
            cum = tm.expected_purchases_if_alive(end, ux, ut)
            total += np.maximum(cum - previous, 0.0) / (1 + float(self.discount_rate)) ** k
            previous = cum
        out = total[inv].reshape(x.shape) * tm.conditional_probability_alive(x, tx, t)
        return np.asarray(out, dtype=float)

    def predict_interval(
        self,
        data: CRMData | pd.DataFrame,
        level: float = 0.9,
        n_draws: int = 200,
        random_state: int | np.random.Generator | None = None,
    ) -> pd.DataFrame:
        """Per-customer CLV interval from the uncertainty of the fitted parameters.

        Parametric bootstrap: parameters of both sub-models are drawn from their
        asymptotic normal distribution on the log scale (delta method:
        ``cov(log p) = cov(p) / (p p')``), CLV is recomputed for every draw, and the
        ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles are returned. It covers
        estimation uncertainty, not the randomness of each customer's future.

        Parameters
        ----------
        data : CRMData or DataFrame
            Customers to value (as for :meth:`score`).
        level : float, default 0.9
            Coverage of the interval.
        n_draws : int, default 200
            Parameter draws.
        random_state : int or Generator, optional
            Seed for reproducible intervals.

        Returns
        -------
        DataFrame
            Indexed by ``customer_id``: ``clv`` (point estimate), ``clv_lower``,
            ``clv_upper``.

        Examples
        --------
        >>> from crmmodels.cltv import CLVModel
        >>> from crmmodels.datasets import load_cdnow_sample
        >>> data = load_cdnow_sample()
        >>> model = CLVModel(horizon=26).fit(data)
        >>> band = model.predict_interval(data, n_draws=50, random_state=0)
        >>> bool((band["clv_lower"] <= band["clv"]).all() and
        ...      (band["clv"] <= band["clv_upper"]).all())
        True
        """
        self._check_fitted()
        check_params("CLVModel.predict_interval", {"level": level, "n_draws": n_draws},
                     _INTERVAL_CONSTRAINTS)
        rng = np.random.default_rng(random_state)
        prepared = self._prepare(data)
        s = self._summary(prepared)
        x, tx, t = (s[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
        m = s["monetary_value"].to_numpy(dtype=float)
        point = self._score(prepared)["clv"].to_numpy()
        draws = np.empty((n_draws, len(s)))
        tm, sm = self.transaction_model_, self.spend_model_
        for i in range(n_draws):
            tm_i = _with_params(tm, _draw(tm.params_, tm.covariance_, rng))
            sm_i = _with_params(sm, _draw(sm.params_, sm.covariance_, rng))
            clone_self = CLVModel(horizon=self.horizon, discount_rate=self.discount_rate,
                                  margin=self.margin, freq=self.freq, step=self.step)
            clone_self.transaction_model_ = tm_i
            clone_self.spend_model_ = sm_i
            disc = clone_self.discounted_expected_purchases(x, tx, t)
            draws[i] = float(self.margin) * disc * sm_i.conditional_expected_spend(x, m)
        lo, hi = np.nanquantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
        return pd.DataFrame(
            {"clv": point, "clv_lower": np.minimum(lo, point), "clv_upper": np.maximum(hi, point)},
            index=pd.Index(s.index, name="customer_id"),
        )

    def _score(self, data: CRMData | pd.DataFrame) -> pd.DataFrame:
        s = self._summary(data)
        x, tx, t = (s[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
        tm = self.transaction_model_
        spend = self.spend_model_.conditional_expected_spend(
            x, s["monetary_value"].to_numpy(dtype=float))
        disc = self.discounted_expected_purchases(x, tx, t)
        return pd.DataFrame(
            {
                "p_alive": tm.conditional_probability_alive(x, tx, t),
                "expected_purchases": tm.conditional_expected_purchases(
                    float(self.horizon), x, tx, t),
                "expected_spend": spend,
                "clv": float(self.margin) * disc * spend,
            },
            index=pd.Index(s.index, name="customer_id"),
        )
