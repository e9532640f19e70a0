"""Common base of the buy-till-you-die transaction models."""

from __future__ import annotations

from numbers import Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmmodels.cltv._likelihood import FitResult, compress, fit_mle, summary_table, wsum
from crmmodels.core import Constraint, CRMModel, Interval, Options
from crmmodels.data import CRMData
from crmmodels.errors import DataValidationError

__all__ = ["MaximumLikelihoodModel", "TransactionModel"]


class MaximumLikelihoodModel(CRMModel):
    """Results shared by every model fitted by maximum likelihood.

    Subclasses set ``_param_names`` and call :meth:`_store_fit` with the optimiser's
    result; they get ``standard_errors_`` and :meth:`summary`.
    """

    _param_names: ClassVar[tuple[str, ...]] = ()

    def _store_fit(self, res: FitResult, total: float) -> None:
        """Keep the estimates of a fit whose objective was the mean log-likelihood."""
        names = list(self._param_names)
        self.params_ = pd.Series(res.params, index=names, name="estimate")
        self.covariance_ = pd.DataFrame(res.covariance / total, index=names, columns=names)
        self.log_likelihood_ = res.log_likelihood * total
        self.converged_ = res.converged
        self.n_customers_ = int(total)

    @property
    def standard_errors_(self) -> pd.Series:
        """Standard errors of ``params_`` from the inverse Hessian."""
        self._check_fitted()
        return pd.Series(np.sqrt(np.diag(self.covariance_.to_numpy())),
                         index=self.params_.index, name="se")

    def summary(self) -> pd.DataFrame:
        """Estimate, standard error and 95% interval (on the log scale) per parameter.

        Returns
        -------
        DataFrame
            Indexed by the parameter names: ``estimate, se, lower_95, upper_95``.
        """
        self._check_fitted()
        return summary_table(self.params_, self.covariance_)


class TransactionModel(MaximumLikelihoodModel):
    """Base of BG/NBD-type models: fit on ``(frequency, recency, T)``, score per customer.

    Subclasses set ``_param_names`` and implement ``_loglik(params, x, tx, T)`` (per-row
    log-likelihood), optionally ``_grad(params, x, tx, T, w)``, the predictions
    ``conditional_probability_alive`` and ``conditional_expected_purchases``, and
    ``_x0``.
    """

    #: Discrete-time models count whole transaction opportunities: horizons and
    #: steps must be whole numbers.
    _discrete_time: ClassVar[bool] = False
    _boundary_notes: ClassVar[dict[str, str]] = {}
    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "horizon": [Interval(Real, 0, None, closed="neither")],
        "freq": [Options({"D", "W", "M", "h"})],
    }
    _score_columns: ClassVar[tuple[str, ...]] = ("p_alive", "expected_purchases")
    _accepts_summary: ClassVar[bool] = True
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"horizon": 0}, {"horizon": -1.0}, {"freq": "Y"},
    )

    horizon: float
    freq: str

    # ------------------------------------------------------------------ data
    def _summary(self, data: CRMData | pd.DataFrame) -> pd.DataFrame:
        from crmmodels.data import as_summary

        return as_summary(data, self.freq)

    @staticmethod
    def _arrays(s: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (s["frequency"].to_numpy(dtype=float), s["recency"].to_numpy(dtype=float),
                s["T"].to_numpy(dtype=float))

    # ------------------------------------------------------------------ fitting
    def _x0(self, x: np.ndarray, tx: np.ndarray, t: np.ndarray) -> list[np.ndarray]:
        return [np.ones(len(self._param_names))]

    def _loglik(self, params: np.ndarray, x: np.ndarray, tx: np.ndarray,
                t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _grad(self, params: np.ndarray, x: np.ndarray, tx: np.ndarray, t: np.ndarray,
              w: np.ndarray) -> np.ndarray | None:
        """Gradient of the weighted negative log-likelihood (None: numerical)."""
        return None

    def _check_fit_data(self, x: np.ndarray, tx: np.ndarray, t: np.ndarray) -> None:
        if len(x) < 2:
            raise DataValidationError(
                f"{type(self).__name__} needs at least 2 customers, got {len(x)}",
                frame="summary", rule="min_customers",
            )
        if not (t > 0).any():
            raise DataValidationError(
                f"{type(self).__name__} needs customers observed for some time (T > 0)",
                frame="summary", column="T", rule="positive",
            )

    def _fit(self, data: CRMData | pd.DataFrame) -> None:
        s = self._summary(data)
        x, tx, t = self._arrays(s)
        self._check_fit_data(x, tx, t)
        (ux, utx, ut), w, _ = compress(x, tx, t)
        total = float(w.sum())

        def nll(p: np.ndarray) -> float:
            return -wsum(w, self._loglik(p, ux, utx, ut)) / total

        grad_fn = None
        if self._grad(np.ones(len(self._param_names)), ux[:1], utx[:1], ut[:1], w[:1]) \
                is not None:
            def grad_fn(p: np.ndarray) -> np.ndarray:
                g = self._grad(p, ux, utx, ut, w)
                assert g is not None
                return g / total

        starts = self._x0(ux, utx, ut)
        # Value and gradient at the same parameters share work through a cache that
        # lives only during this fit (never across calls, data or threads).
        self._fit_cache: dict[str, Any] | None = {}
        try:
            res = fit_mle(nll, starts[0], self._param_names, grad=grad_fn,
                          model=type(self).__name__, boundary_notes=self._boundary_notes,
                          extra_starts=starts[1:])
        finally:
            del self._fit_cache
        self._store_fit(res, total)

    # ------------------------------------------------------------------ results
    def _p(self) -> np.ndarray:
        self._check_fitted()
        return self.params_.to_numpy()

    def conditional_probability_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:  # noqa: N803
        """Return P(customer still alive at T | frequency, recency, T)."""
        raise NotImplementedError

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any,
                                       T: Any) -> np.ndarray:  # noqa: N803
        """Return expected purchases in (T, T + t] given the customer's history."""
        raise NotImplementedError

    def expected_purchases_if_alive(self, t: Any, frequency: Any, T: Any) -> np.ndarray:  # noqa: N803
        """Return expected purchases in (T, T + t] of a customer known to be alive at T.

        ``conditional_expected_purchases = expected_purchases_if_alive * P(alive)`` in
        every model here, and the first factor does not depend on recency. This default
        divides the two at recency ``T`` (where P(alive) is largest, so the division is
        stable); models override it with their closed form.
        """
        tt, x, big_t = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(t, frequency,
                                                                               T))
        tx = np.where(x > 0, big_t, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = self.conditional_expected_purchases(tt, x, tx, big_t) \
                / self.conditional_probability_alive(x, tx, big_t)
        return np.asarray(out, dtype=float)

    def _score(self, data: CRMData | pd.DataFrame) -> pd.DataFrame:
        s = self._summary(data)
        x, tx, t = self._arrays(s)
        # Customers share (frequency, recency, T) a lot: predict once per distinct row.
        (ux, utx, ut), _, inv = compress(x, tx, t)
        return pd.DataFrame(
            {
                "p_alive": self.conditional_probability_alive(ux, utx, ut)[inv],
                "expected_purchases": self.conditional_expected_purchases(
                    float(self.horizon), ux, utx, ut)[inv],
            },
            index=pd.Index(s.index, name="customer_id"),
        )
