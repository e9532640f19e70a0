"""Common base of the CLV models fitted by maximum likelihood.

:class:`MaximumLikelihoodModel` owns the one fitting path of every such model
(:meth:`~MaximumLikelihoodModel._fit`): compress the data into weighted distinct rows,
maximise the weighted log-likelihood from the model's starting points with
:func:`~crmmodels.cltv._likelihood.fit_mle`, and keep the estimates. A model file
states only its paper's likelihood and what differs, through a few hooks:

``_fit_rows(data)``
    The fit's data rules, then the distinct rows of the likelihood's sufficient
    statistics and how many customers each stands for (:func:`compress`).
``_loglik(params, *rows)``
    The paper's log-likelihood of each row.
``_grad(params, *rows, w)``
    The gradient of the weighted negative log-likelihood, or ``None`` for a numerical
    one.
``_starts(rows, w)``
    Starting points (the best optimum wins when the first one fails).
``_data_scales(rows, w)``
    The data's own scale of time or spend, against which parameters in those units
    are judged at the boundary (see :class:`~crmmodels.cltv._likelihood.Boundary`).
``_objective(rows, w)``
    Only for models that compute the value and the gradient together (Pareto/NBD).

:class:`TransactionModel` fills ``_fit_rows`` and ``_starts`` for the models of
``(frequency, recency, T)`` and scores them.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmmodels.cltv._likelihood import (
    GRAD,
    NLL,
    Boundary,
    FitResult,
    Rows,
    as_arrays,
    boundary_pair,
    compress,
    customer_weights,
    fit_mle,
    numeric_grad,
    summary_table,
    wsum,
)
from crmmodels.core import Constraint, CRMModel, Interval, Options
from crmmodels.data import CRMData
from crmmodels.errors import DataValidationError

__all__ = ["PURCHASE_RATE_NOTES", "MaximumLikelihoodModel", "TransactionModel"]

#: What the Gamma(r, alpha) distribution of purchase rates at an edge means: shared by
#: BG/NBD, MBG/NBD and Pareto/NBD, which all model purchases the same way.
PURCHASE_RATE_NOTES: dict[str, Boundary] = boundary_pair(
    "r", "alpha",
    zero=("r -> 0 means purchase rates are extremely heterogeneous: most customers' rate "
          "is essentially 0 while a few buy very often",
          "alpha -> 0 means the mean purchase rate r / alpha is far above one purchase per "
          "period"),
    infinity=("r -> infinity means the mean purchase rate r / alpha is far above one "
              "purchase per period",
              "alpha -> infinity means the mean purchase rate r / alpha is essentially 0; "
              "when nobody made a repeat purchase, the rates are simply not identified"),
    both_zero="r and alpha -> 0 together mean purchase rates are extremely heterogeneous: "
              "most customers' rate is essentially 0 while a few buy very often",
    both_infinity="r and alpha -> infinity together mean purchase rates hardly vary "
                  "across customers: everyone buys at the same Poisson rate r / alpha",
    units=(None, "time"),
)


def _no_gradient(*args: Any) -> None:
    """Return no analytic gradient: :func:`fit_mle` differentiates numerically."""
    return None


class MaximumLikelihoodModel(CRMModel):
    """Base of every CLV model fitted by maximum likelihood: one ``_fit`` for all.

    Subclasses set ``_param_names`` (the paper's symbols, the index of ``params_``)
    and ``_boundary_notes`` (per parameter, a
    :class:`~crmmodels.cltv._likelihood.Boundary`: what an estimate driven to 0 or to
    infinity means for that model), and implement the hooks the module docstring
    lists; they get ``params_``, ``covariance_``, ``log_likelihood_``, ``converged_``,
    ``n_customers_``, ``boundary_``, ``standard_errors_`` and :meth:`summary`.

    ``boundary_`` maps each parameter estimated at an edge of its range to the message
    of the :class:`~crmmodels.errors.ConvergenceWarning` the fit issued about it (the
    parameter, its estimate and what that edge means for the model); it is empty when
    the optimum is inside the parameter space.
    """

    _param_names: ClassVar[tuple[str, ...]] = ()
    _boundary_notes: ClassVar[dict[str, Boundary]] = {}

    #: ``_loglik(params, *rows)``: the paper's log-likelihood of each row.
    _loglik: Callable[..., np.ndarray]
    #: ``_grad(params, *rows, w)``: gradient of ``-sum(w * _loglik(params, *rows))`` in
    #: the natural parameters, or ``None`` to differentiate numerically.
    _grad: Callable[..., np.ndarray | None] = _no_gradient

    # ------------------------------------------------------------------ hooks
    def _fit_rows(self, data: Any) -> tuple[Rows, np.ndarray]:
        """Check the data for fitting; return the distinct rows and their weights."""
        raise NotImplementedError

    def _starts(self, rows: Rows, w: np.ndarray) -> list[np.ndarray]:
        """Return starting points (natural parameters, all > 0), best guess first."""
        return [np.ones(len(self._param_names))]

    def _data_scales(self, rows: Rows, w: np.ndarray) -> dict[str, float]:
        """Return the data's scale of each unit a parameter may be in (none here)."""
        return {}

    def _objective(self, rows: Rows, w: np.ndarray) -> tuple[NLL, GRAD]:
        """Mean negative log-likelihood over customers, and its gradient.

        The mean (not the sum) keeps the optimiser's tolerances independent of the
        number of customers.
        """
        total = float(w.sum())

        def nll(p: np.ndarray) -> float:
            return -wsum(w, self._loglik(p, *rows)) / total

        def grad(p: np.ndarray) -> np.ndarray:
            g = self._grad(p, *rows, w)
            return numeric_grad(nll, p) if g is None else g / total

        return nll, grad

    # ------------------------------------------------------------------ fitting
    def _fit(self, data: Any) -> None:
        rows, w = self._fit_rows(data)
        nll, grad = self._objective(rows, w)
        starts = self._starts(rows, w)
        # Value and gradient at the same parameters may share work through a cache
        # that lives only during this fit (never across calls, data or threads).
        self._fit_cache: dict[str, Any] | None = {}
        try:
            res = fit_mle(nll, starts[0], self._param_names, grad=grad,
                          model=type(self).__name__, boundary_notes=self._boundary_notes,
                          scales=self._data_scales(rows, w), extra_starts=starts[1:])
        finally:
            del self._fit_cache
        self._store_fit(res, float(w.sum()))

    def _store_fit(self, res: FitResult, total: float) -> None:
        """Keep the estimates of a fit whose objective was the mean log-likelihood."""
        names = list(self._param_names)
        self.params_ = pd.Series(res.params, index=names, name="estimate")
        self.covariance_ = pd.DataFrame(res.covariance / total, index=names, columns=names)
        self.log_likelihood_ = res.log_likelihood * total
        self.converged_ = res.converged
        self.n_customers_ = int(total)
        self.boundary_ = dict(res.boundary)

    # ------------------------------------------------------------------ results
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

    def _html_diagnostics(self) -> list[tuple[str, pd.DataFrame | pd.Series | str]]:
        """Show :meth:`summary` (estimates, standard errors, intervals) and edge notes.

        Parameters set by hand, without a covariance, are shown without errors.
        """
        estimates = self.summary() if hasattr(self, "covariance_") else self.params_
        sections: list[tuple[str, pd.DataFrame | pd.Series | str]] = [
            ("Estimates", estimates)]
        boundary = getattr(self, "boundary_", None) or {}
        if boundary:
            sections.append(("At the boundary", "\n".join(str(m) for m in boundary.values())))
        return sections


class TransactionModel(MaximumLikelihoodModel):
    """Base of BG/NBD-type models: fit on ``(frequency, recency, T)``, score per customer.

    Subclasses set ``_param_names`` and implement ``_loglik(params, x, tx, T)`` (per-row
    log-likelihood), optionally ``_grad(params, x, tx, T, w)``, the predictions
    ``conditional_probability_alive`` and ``conditional_expected_purchases``, and
    ``_x0(x, tx, T)`` (starting points, from the distinct rows). Fitting is
    :meth:`MaximumLikelihoodModel._fit`.
    """

    #: Discrete-time models count whole transaction opportunities: horizons and
    #: steps must be whole numbers.
    _discrete_time: ClassVar[bool] = False
    #: The summary column of each customer's time under observation, and who must
    #: have some for a fit (named in the error when nobody has).
    _time_column: ClassVar[str] = "T"
    _observed: ClassVar[str] = "customers observed for some time"
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

    def _arrays(self, s: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (s["frequency"].to_numpy(dtype=float), s["recency"].to_numpy(dtype=float),
                s[self._time_column].to_numpy(dtype=float))

    def _check_fit_data(self, x: np.ndarray, tx: np.ndarray, t: np.ndarray,
                        n: np.ndarray | None = None) -> None:
        count = len(x) if n is None else int(n.sum())
        if count < 2:
            raise DataValidationError(
                f"{type(self).__name__} needs at least 2 customers, got {count}",
                frame="summary", rule="min_customers",
            )
        if not (t > 0).any():
            raise DataValidationError(
                f"{type(self).__name__} needs {self._observed} ({self._time_column} > 0)",
                frame="summary", column=self._time_column, rule="positive",
            )

    # ------------------------------------------------------------------ fitting
    def _fit_rows(self, data: CRMData | pd.DataFrame) -> tuple[Rows, np.ndarray]:
        s = self._summary(data)
        x, tx, t = self._arrays(s)
        n = customer_weights(s)
        self._check_fit_data(x, tx, t, n)
        rows, w, _ = compress(x, tx, t, weights=n)
        return rows, w

    def _starts(self, rows: Rows, w: np.ndarray) -> list[np.ndarray]:
        return self._x0(*rows)

    def _data_scales(self, rows: Rows, w: np.ndarray) -> dict[str, float]:
        """Return the customers' mean time under observation: the data's scale of time."""
        return {"time": float(np.average(rows[2], weights=w))}

    def _x0(self, x: np.ndarray, tx: np.ndarray, t: np.ndarray) -> list[np.ndarray]:
        return [np.ones(len(self._param_names))]

    def _loglik(self, params: np.ndarray, x: np.ndarray, tx: np.ndarray,
                t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _grad(self, params: np.ndarray, x: np.ndarray, tx: np.ndarray, t: np.ndarray,
              w: np.ndarray) -> np.ndarray | None:
        """Gradient of the weighted negative log-likelihood (None: numerical)."""
        return None

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
        tt, x, big_t = as_arrays(t, frequency, T)
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
