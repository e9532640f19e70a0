"""Gamma-Gamma model of spend per transaction.

Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "RFM and CLV: Using Iso-Value
Curves for Customer Base Analysis", *Journal of Marketing Research* 42(4), 415-430;
Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of Monetary Value"
(note at brucehardie.com), whose equation numbers are cited below.

A customer's transaction values are Gamma(p, nu) around their own mean ``p / nu``;
``nu ~ Gamma(q, gamma)`` across customers. Only the mean repeat-transaction value
``m_x`` of the ``x`` repeat transactions enters (it is sufficient). The spend model
assumes spend is independent of the purchase process.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from crmmodels.cltv._base import MaximumLikelihoodModel
from crmmodels.cltv._likelihood import (
    Boundary,
    Rows,
    as_arrays,
    compress,
    customer_weights,
    wsum,
)
from crmmodels.core import Constraint, Options
from crmmodels.data import CRMData
from crmmodels.errors import DataQualityWarning, DataValidationError, warn

__all__ = ["GammaGammaModel"]


#: Above this correlation of frequency and spend the model's independence assumption
#: is visibly broken (Fader, Hardie & Lee 2005 check it on CDNOW, where it is 0.11).
_MAX_CORRELATION = 0.3


_SPREAD_UNBOUNDED = ("q and v -> 0 together mean mean spend varies without bound across "
                     "customers: most spend next to nothing and a few very much")
_SAME_MEAN_SPEND = ("q and v -> infinity together mean customers' mean spends hardly vary: "
                    "every customer has the same mean spend p v / (q - 1)")


def _correlation(x: np.ndarray, m: np.ndarray, w: np.ndarray) -> float:
    """Pearson correlation of two columns over rows weighted by ``w`` (0 when constant)."""
    if np.ptp(x) == 0 or np.ptp(m) == 0:
        return 0.0
    cov = np.cov(x, m, aweights=w)
    return float(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]))


class GammaGammaModel(MaximumLikelihoodModel):
    """Gamma-Gamma spend model (Fader, Hardie & Lee 2005; Fader & Hardie 2013).

    Parameters
    ----------
    freq : {"D", "W", "M", "h"}, default "W"
        Time unit used to summarise ``CRMData`` (spend does not depend on it, but
        purchases in the same period are merged into one transaction, as the
        transaction models count them).

    Attributes
    ----------
    params_ : Series
        ``p``, ``q`` and ``v`` (the paper's gamma; ``v`` as lifetimes names it).
    covariance_ : DataFrame
        Asymptotic covariance of ``params_``.
    log_likelihood_ : float
        Maximised log-likelihood over customers with repeat transactions (eq. 4).
    converged_ : bool
        Whether the optimiser converged.
    n_customers_ : int
        Customers with at least one repeat transaction and positive spend (the ones
        that inform the fit).
    boundary_ : dict
        ``{parameter: message}`` for the estimates at an edge of the parameter space
        (the text of the fit's :class:`~crmmodels.errors.ConvergenceWarning`: the
        parameter, its estimate and what that edge means); empty when there is none.
    n_excluded_ : int
        Customers with repeat transactions but zero mean spend (free items, fully
        discounted orders): the Gamma distribution has no mass at 0, so they are left
        out of the fit; they are still scored.
    spend_frequency_correlation_ : float
        Pearson correlation of frequency and mean spend over the customers fitted. The
        model assumes they are independent; above 0.3 the fit warns
        (:class:`~crmmodels.errors.DataQualityWarning`).

    Examples
    --------
    >>> from crmmodels.cltv import GammaGammaModel
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> model = GammaGammaModel().fit(load_cdnow_sample())
    >>> spend = model.score(load_cdnow_sample())["expected_spend"]
    >>> bool((spend > 0).all())
    True
    """

    _param_names: ClassVar[tuple[str, ...]] = ("p", "q", "v")
    _boundary_notes: ClassVar[dict[str, Boundary]] = {
        "p": Boundary(
            zero="p -> 0 means a customer's transaction values vary without bound around "
                 "their own mean (their coefficient of variation is 1 / sqrt(p))",
            infinity="p -> infinity means every customer spends the same amount on each of "
                     "their transactions (no variation within a customer)",
        ),
        "q": Boundary(
            zero="q -> 0 means mean spend varies without bound across customers: the "
                 "average spend p v / (q - 1) is undefined, so customers without repeat "
                 "purchases get an infinite expected spend",
            infinity="q -> infinity means the average spend p v / (q - 1) is essentially 0",
            critical=1.0,
            below_critical="mean spend varies so much across customers that its average "
                           "p v / (q - 1) is undefined (infinite): customers without repeat "
                           "purchases get an infinite expected spend (and CLV)",
            partner="v", both_zero=_SPREAD_UNBOUNDED, both_infinity=_SAME_MEAN_SPEND,
        ),
        "v": Boundary(
            zero="v -> 0 means the average spend p v / (q - 1) is essentially 0",
            infinity="v -> infinity means the average spend p v / (q - 1) is far above "
                     "what customers spend",
            unit="spend",
            partner="q", both_zero=_SPREAD_UNBOUNDED, both_infinity=_SAME_MEAN_SPEND,
        ),
    }
    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "freq": [Options({"D", "W", "M", "h"})],
    }
    _score_columns: ClassVar[tuple[str, ...]] = ("expected_spend",)
    _accepts_summary: ClassVar[bool] = True
    _summary_needs_monetary: ClassVar[bool] = True
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = ({"freq": "fortnight"}, {"freq": 7})

    def __init__(self, *, freq: str = "W") -> None:
        self.freq = freq

    def _summary(self, data: CRMData | pd.DataFrame) -> pd.DataFrame:
        from crmmodels.data import as_summary

        return as_summary(data, self.freq)

    @staticmethod
    def _loglik(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Per-customer log-likelihood of the mean spend ``m`` of ``x`` transactions, eq. (4)."""
        p, q, v = params
        px = p * x
        return np.asarray(
            gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(v + m * x),
            dtype=float,
        )

    @staticmethod
    def _grad(params: np.ndarray, x: np.ndarray, m: np.ndarray, w: np.ndarray) -> np.ndarray:
        p, q, v = params
        px = p * x
        dg = digamma(px + q)
        d_p = x * (dg - digamma(px) + np.log(m) + np.log(x) - np.log(v + m * x))
        d_q = dg - digamma(q) + np.log(v) - np.log(v + m * x)
        d_v = q / v - (px + q) / (v + m * x)
        return -np.array([wsum(w, d_p), wsum(w, d_q), wsum(w, d_v)])

    def _fit_rows(self, data: CRMData | pd.DataFrame) -> tuple[Rows, np.ndarray]:
        """Distinct ``(x, m_x)`` of the customers with repeat purchases and positive spend.

        Customers with repeat purchases but no spend cannot inform a Gamma likelihood:
        they are counted in ``n_excluded_`` and left out.
        """
        s = self._summary(data)
        x = s["frequency"].to_numpy(dtype=float)
        m = s["monetary_value"].to_numpy(dtype=float)
        n = customer_weights(s)
        use = (x > 0) & (m > 0)
        n_used = int(n[use].sum()) if n is not None else int(use.sum())
        if n_used < 2:
            raise DataValidationError(
                "GammaGammaModel needs at least 2 customers with repeat purchases and "
                f"positive spend, got {n_used}", frame="summary",
                column="monetary_value", rule="min_customers",
            )
        excluded = (x > 0) & (m <= 0)
        self.n_excluded_ = int(n[excluded].sum()) if n is not None else int(excluded.sum())
        rows, w, _ = compress(x[use], m[use], weights=None if n is None else n[use])
        self.spend_frequency_correlation_ = _correlation(rows[0], rows[1], w)
        if self.spend_frequency_correlation_ > _MAX_CORRELATION:
            warn(f"GammaGammaModel assumes that spend per transaction does not depend on "
                 f"how often a customer buys, but here they correlate at "
                 f"{self.spend_frequency_correlation_:.2f} (Pearson, over the "
                 f"{n_used} customers fitted; above {_MAX_CORRELATION}): the CLV "
                 "of frequent buyers will be off", DataQualityWarning)
        return rows, w

    def _data_scales(self, rows: Rows, w: np.ndarray) -> dict[str, float]:
        """Return the customers' mean spend per transaction: the data's scale of spend."""
        return {"spend": float(np.average(rows[1], weights=w))}

    def _starts(self, rows: Rows, w: np.ndarray) -> list[np.ndarray]:
        mean_m = float(np.average(rows[1], weights=w))
        return [np.array([1.0, 2.0, mean_m]), np.array([5.0, 3.0, mean_m * 2])]

    def population_mean_spend(self) -> float:
        """Return the mean spend per transaction across customers, ``p v / (q - 1)``.

        Infinite when ``q <= 1`` (the spread of spend is too heavy-tailed for a mean).
        """
        self._check_fitted()
        p, q, v = self.params_.to_numpy()
        return float(p * v / (q - 1)) if q > 1 else float("inf")

    def conditional_expected_spend(self, frequency: Any, monetary_value: Any) -> np.ndarray:
        """Return each customer's expected spend per transaction, eq. (5).

        A weighted average of the population mean and the customer's own mean
        ``m_x``; customers without repeat transactions get the population mean.

        Examples
        --------
        >>> import pandas as pd
        >>> m = GammaGammaModel()
        >>> m.params_ = pd.Series({"p": 6.25, "q": 3.74, "v": 15.44})
        >>> m.conditional_expected_spend([0, 2], [0.0, 30.0]).round(2).tolist()
        [35.22, 30.94]
        """
        self._check_fitted()
        p, q, v = self.params_.to_numpy()
        x, m = as_arrays(frequency, monetary_value)
        with np.errstate(divide="ignore", invalid="ignore"):
            own = (v + m * x) * p / (p * x + q - 1)
        pop = self.population_mean_spend()
        return np.where(x > 0, own, pop)

    def _score(self, data: CRMData | pd.DataFrame) -> pd.DataFrame:
        s = self._summary(data)
        spend = self.conditional_expected_spend(s["frequency"].to_numpy(float),
                                                s["monetary_value"].to_numpy(float))
        return pd.DataFrame({"expected_spend": spend}, index=pd.Index(s.index, name="customer_id"))
