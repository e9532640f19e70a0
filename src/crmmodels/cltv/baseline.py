"""A naive purchase-rate baseline: pooled Gamma-Poisson rates, no dropout.

Each customer buys at a constant rate ``lambda`` (Poisson); rates vary across
customers as ``Gamma(r, alpha)``. Unlike BG/NBD or Pareto/NBD nobody ever leaves,
which is exactly what makes it a useful yardstick: a buy-till-you-die model must
beat it on holdout purchases. ``r`` and ``alpha`` come from the method of moments
with unequal exposure times:

* pooled mean rate ``m = sum(x) / sum(T)``;
* rate variance ``v = (sum((x - m T)^2) - sum(m T)) / sum(T^2)`` (floored at a tiny
  positive number when counts are not over-dispersed);
* ``r = m^2 / v``, ``alpha = m / v``;
* posterior mean rate of a customer with ``x`` repeat purchases in ``T``:
  ``(r + x) / (alpha + T)``.

Without dropout, a customer's purchases over the next ``t`` periods are expected at
that rate: ``t (r + x) / (alpha + T)`` (:meth:`NaiveRateModel.conditional_expected_purchases`,
the method :func:`~crmmodels.cltv.holdout_comparison` calls on every transaction model),
and a new customer's at the population mean rate, ``t r / alpha``
(:meth:`NaiveRateModel.expected_purchases`, used by
:func:`~crmmodels.cltv.purchase_tracking`).

It is also the reference model on which the model contract
(:func:`crmmodels.testing.check_model`) is exercised.
"""

from __future__ import annotations

from numbers import Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmmodels.cltv._likelihood import as_arrays
from crmmodels.core import Constraint, CRMModel, Interval, Options
from crmmodels.data import CRMData
from crmmodels.errors import DataValidationError

__all__ = ["NaiveRateModel"]


class NaiveRateModel(CRMModel):
    """Pooled Gamma-Poisson purchase rates (no dropout): a baseline for CLV models.

    Parameters
    ----------
    horizon : float, default 52
        Length of the prediction window, in periods of ``freq``.
    freq : {"D", "W", "M", "h"}, default "W"
        Time unit used to summarise transactions (ignored for a summary frame,
        which is already in its own unit).

    Attributes
    ----------
    params_ : Series
        ``r`` (shape) and ``alpha`` (rate) of the Gamma distribution of rates.
    n_customers_ : int
        Customers used in the fit.

    See Also
    --------
    crmmodels.cltv.holdout_comparison : holdout predictions of this baseline beside those
        of a buy-till-you-die model (the same calls work on both).

    Notes
    -----
    Nobody leaves, so there is no ``conditional_probability_alive``: the baseline's
    answer would be 1 for every customer.

    Examples
    --------
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> data = load_cdnow_sample()
    >>> model = NaiveRateModel(horizon=39, freq="W").fit(data)
    >>> model.params_.index.tolist()
    ['r', 'alpha']
    >>> scores = model.score(data)
    >>> bool((scores["expected_purchases"] > 0).all())
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "horizon": [Interval(Real, 0, None, closed="neither")],
        "freq": [Options({"D", "W", "M", "h"})],
    }
    _score_columns: ClassVar[tuple[str, ...]] = ("expected_purchases", "purchase_rate")
    _accepts_summary: ClassVar[bool] = True
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"horizon": 0}, {"horizon": -3.0}, {"horizon": "52"}, {"freq": "fortnight"},
    )

    def __init__(self, *, horizon: float = 52, freq: str = "W") -> None:
        self.horizon = horizon
        self.freq = freq

    def _summary(self, data: CRMData | pd.DataFrame) -> pd.DataFrame:
        from crmmodels.data import as_summary

        return as_summary(data, self.freq)

    def _fit(self, data: CRMData | pd.DataFrame) -> None:
        s = self._summary(data)
        if len(s) < 2:
            raise DataValidationError(
                f"NaiveRateModel needs at least 2 customers to estimate how purchase rates "
                f"vary, got {len(s)}", frame="summary", rule="min_customers",
            )
        x = s["frequency"].to_numpy(dtype=float)
        t = s["T"].to_numpy(dtype=float)
        if t.sum() <= 0 or x.sum() <= 0:
            raise DataValidationError(
                "NaiveRateModel needs some repeat purchases and positive observation time",
                frame="summary", rule="min_repeat_purchases",
            )
        m = x.sum() / t.sum()
        v = (np.sum((x - m * t) ** 2) - np.sum(m * t)) / np.sum(t**2)
        v = max(v, m**2 * 1e-9)
        self.params_ = pd.Series({"r": m**2 / v, "alpha": m / v}, name="value")
        self.n_customers_ = len(s)

    def purchase_rate(self, frequency: Any, T: Any) -> np.ndarray:  # noqa: N803
        """Return each customer's posterior mean purchase rate, ``(r + x) / (alpha + T)``.

        Parameters
        ----------
        frequency : array-like
            Repeat purchases ``x`` in the calibration period.
        T : array-like
            Time the customer was observed (their age), in the fit's unit.

        Returns
        -------
        ndarray
            Expected purchases per period, broadcast over the inputs.

        Examples
        --------
        >>> import pandas as pd
        >>> model = NaiveRateModel()
        >>> model.params_ = pd.Series({"r": 1.0, "alpha": 10.0})
        >>> model.purchase_rate([0, 4], [10, 40]).tolist()
        [0.05, 0.1]
        """
        self._check_fitted()
        r, alpha = float(self.params_["r"]), float(self.params_["alpha"])
        x, big_t = as_arrays(frequency, T)
        return np.asarray((r + x) / (alpha + big_t), dtype=float)

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any,
                                       T: Any) -> np.ndarray:  # noqa: N803
        """Return expected purchases in ``(T, T + t]``: ``t`` times :meth:`purchase_rate`.

        The same call as a buy-till-you-die model's (BG/NBD's, Pareto/NBD's...), so the
        baseline goes wherever they go (:func:`~crmmodels.cltv.holdout_comparison`,
        :func:`~crmmodels.cltv.plot_frequency_recency_matrix`). Nobody leaves, so
        ``recency`` carries no information and is ignored (it only broadcasts).

        Parameters
        ----------
        t : array-like
            Length of the prediction window, in the fit's unit.
        frequency, recency, T : array-like
            The customers' summary: repeat purchases, time of the last one, age.

        Returns
        -------
        ndarray
            ``t (r + frequency) / (alpha + T)``, broadcast over the inputs.

        Examples
        --------
        >>> import pandas as pd
        >>> model = NaiveRateModel()
        >>> model.params_ = pd.Series({"r": 1.0, "alpha": 10.0})
        >>> model.conditional_expected_purchases(26, [0, 4], [0, 30], [10, 40]).tolist()
        [1.3, 2.6]
        """
        tt, x, _, big_t = as_arrays(t, frequency, recency, T)
        return np.asarray(tt * self.purchase_rate(x, big_t), dtype=float)

    def expected_purchases(self, t: Any) -> np.ndarray:
        """Return expected purchases in ``(0, t]`` of a new customer: ``t r / alpha``.

        A customer who has just made their first purchase buys at the population mean
        rate ``r / alpha``; :func:`~crmmodels.cltv.purchase_tracking` sums this over a
        cohort.

        Examples
        --------
        >>> import pandas as pd
        >>> model = NaiveRateModel()
        >>> model.params_ = pd.Series({"r": 1.0, "alpha": 10.0})
        >>> model.expected_purchases([1, 52]).tolist()
        [0.1, 5.2]
        """
        (tt,) = as_arrays(t)
        return np.asarray(tt * self.purchase_rate(0.0, 0.0), dtype=float)

    def probability_of_purchases(self, n: Any, t: Any) -> np.ndarray:
        """Return P(X(t) = n) for a new customer.

        Poisson purchases at a Gamma(r, alpha) rate, with no dropout, make the count in
        ``(0, t]`` negative binomial: ``NB(r, alpha / (alpha + t))``.

        Examples
        --------
        >>> import pandas as pd
        >>> model = NaiveRateModel()
        >>> model.params_ = pd.Series({"r": 1.0, "alpha": 1.0})
        >>> model.probability_of_purchases([0, 1], 1.0).round(12).tolist()
        [0.5, 0.25]
        """
        from scipy.stats import nbinom

        self._check_fitted()
        r, alpha = float(self.params_["r"]), float(self.params_["alpha"])
        nn, tt = as_arrays(n, t)
        return np.asarray(nbinom.pmf(np.round(nn), r, alpha / (alpha + tt)), dtype=float)

    def _html_diagnostics(self) -> list[tuple[str, pd.DataFrame | pd.Series | str]]:
        """Show the method-of-moments estimates (they have no standard errors)."""
        return [("Estimates", self.params_)]

    def _score(self, data: CRMData | pd.DataFrame) -> pd.DataFrame:
        s = self._summary(data)
        rate = self.purchase_rate(s["frequency"].to_numpy(float), s["T"].to_numpy(float))
        return pd.DataFrame(
            {"expected_purchases": rate * float(self.horizon), "purchase_rate": rate},
            index=pd.Index(s.index, name="customer_id"),
        )
