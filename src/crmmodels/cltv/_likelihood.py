"""Shared maximum-likelihood machinery of the CLV models.

* :func:`compress` collapses customers with identical sufficient statistics into one
  weighted row (real logs repeat ``(frequency, recency, T)`` a lot: one-time buyers
  of the same cohort all share one row);
* :func:`fit_mle` maximises a weighted log-likelihood over the log of the (positive)
  parameters with L-BFGS-B, then computes the observed information (the Hessian of
  the negative log-likelihood in the natural parameters, by central differences of
  the analytic or numerical gradient) and its inverse, the asymptotic covariance;
* failures raise :class:`~crmmodels.errors.ConvergenceError` carrying the optimiser
  result, and estimates on the boundary of the parameter space are flagged with a
  :class:`~crmmodels.errors.ConvergenceWarning` that says what the boundary means.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from crmmodels.errors import ConvergenceError, ConvergenceWarning, warn

__all__ = [
    "GRAD",
    "NLL",
    "FitResult",
    "Rows",
    "as_arrays",
    "compress",
    "fit_mle",
    "numeric_grad",
    "summary_table",
    "wsum",
]


def as_arrays(*values: Any) -> list[np.ndarray]:
    """Broadcast the arguments together as float arrays (prediction inputs)."""
    return [np.asarray(v, dtype=float) for v in np.broadcast_arrays(*values)]


def wsum(a: np.ndarray, b: np.ndarray) -> float:
    """Return ``sum(a * b)`` for 1-D arrays.

    ``numpy.dot`` goes through multithreaded BLAS, whose threads spin badly when the
    machine's cores are busy (15 ms instead of 20 us for 65k elements); ``einsum``
    stays single-threaded and fast.
    """
    return float(np.einsum("i,i->", a, b))

# Negative log-likelihood (and optionally its gradient) in natural parameters.
NLL = Callable[[np.ndarray], float]
GRAD = Callable[[np.ndarray], np.ndarray]
# The distinct rows of a likelihood's sufficient statistics, one array per column.
Rows = tuple[np.ndarray, ...]


@dataclass(frozen=True)
class FitResult:
    """Outcome of :func:`fit_mle`."""

    params: np.ndarray
    log_likelihood: float
    covariance: np.ndarray
    converged: bool
    result: Any


def compress(*columns: np.ndarray) -> tuple[Rows, np.ndarray, np.ndarray]:
    """Distinct rows of the given columns, their counts, and each input row's distinct row.

    Each column is hashed separately (``pandas.factorize``), the codes are combined
    into one integer per row and factorised again: linear time, no sort.

    Returns
    -------
    unique : tuple of arrays
        One array per column, the distinct rows (in order of first appearance).
    weights : ndarray
        How many input rows each distinct row stands for.
    inverse : ndarray
        ``unique[k][inverse[i]] == columns[k][i]``.

    Examples
    --------
    >>> import numpy as np
    >>> (x, t), w, inv = compress(np.array([1., 0., 1.]), np.array([5., 2., 5.]))
    >>> x.tolist(), t.tolist(), w.tolist(), inv.tolist()
    ([1.0, 0.0], [5.0, 2.0], [2.0, 1.0], [0, 1, 0])
    """
    cols = [np.asarray(c, dtype=float).ravel() for c in columns]
    n = len(cols[0])
    if n == 0:
        return tuple(cols), np.zeros(0), np.zeros(0, dtype=np.intp)
    combined = np.zeros(n, dtype=np.int64)
    for c in cols:
        codes, uniques = pd.factorize(c)
        if len(uniques) and combined.max() > np.iinfo(np.int64).max // (len(uniques) + 1):
            combined, _ = pd.factorize(combined)  # keep the combined codes small
            combined = combined.astype(np.int64)
        combined = combined * (len(uniques) + 1) + codes
    inverse, first_rows = pd.factorize(combined)
    rep = np.empty(len(first_rows), dtype=np.intp)
    rep[inverse[::-1]] = np.arange(n - 1, -1, -1)  # the first row of each group wins
    weights = np.bincount(inverse, minlength=len(first_rows)).astype(float)
    return tuple(c[rep] for c in cols), weights, inverse.astype(np.intp)


def numeric_grad(fun: NLL, x: np.ndarray) -> np.ndarray:
    """Gradient of ``fun`` at ``x`` by central differences (steps relative to ``x``)."""
    g = np.empty_like(x)
    for i in range(len(x)):
        h = 1e-6 * max(1.0, abs(x[i]))
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (fun(x + e) - fun(x - e)) / (2 * h)
    return g


def hessian(nll: NLL, params: np.ndarray, grad: GRAD | None = None) -> np.ndarray:
    """Hessian of ``nll`` at ``params`` by central differences (of ``grad`` when given).

    Steps are relative to each parameter, so parameters of very different scales get
    comparable accuracy.
    """
    k = len(params)
    g = grad if grad is not None else (lambda p: numeric_grad(nll, p))
    h = np.empty((k, k))
    for i in range(k):
        step = 1e-4 * max(abs(params[i]), 1e-8)
        e = np.zeros(k)
        e[i] = step
        h[:, i] = (g(params + e) - g(params - e)) / (2 * step)
    return (h + h.T) / 2


def fit_mle(
    nll: NLL,
    x0: np.ndarray,
    names: Sequence[str],
    *,
    grad: GRAD | None = None,
    model: str = "model",
    boundary_notes: dict[str, str] | None = None,
    maxiter: int = 2000,
    extra_starts: Sequence[np.ndarray] = (),
) -> FitResult:
    """Maximise a log-likelihood over positive parameters.

    Parameters
    ----------
    nll : callable
        Negative log-likelihood of the natural (positive) parameters.
    x0 : ndarray
        Starting point (natural parameters, all > 0).
    names : sequence of str
        Parameter names (for messages).
    grad : callable, optional
        Gradient of ``nll`` in natural parameters; numerical when absent.
    model : str
        Model name for messages.
    boundary_notes : dict, optional
        ``{name: meaning}`` explaining what a parameter driven to 0 or infinity
        means; such estimates get a :class:`ConvergenceWarning`.
    maxiter : int
        Optimiser iteration limit.
    extra_starts : sequence of ndarray
        Further starting points; the best optimum wins.

    Returns
    -------
    FitResult
    """

    def f_log(theta: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            value = float(nll(np.exp(theta)))
        return value if np.isfinite(value) else 1e300

    def g_log(theta: np.ndarray) -> np.ndarray:
        p = np.exp(theta)
        with np.errstate(all="ignore"):
            gp = grad(p) if grad is not None else numeric_grad(nll, p)
        gl = gp * p
        return np.where(np.isfinite(gl), gl, 0.0)

    best: Any = None
    for start in (x0, *extra_starts):
        res = optimize.minimize(
            f_log, np.log(np.asarray(start, dtype=float)), jac=g_log, method="L-BFGS-B",
            bounds=[(-30.0, 30.0)] * len(x0),
            options={"maxiter": maxiter, "ftol": 1e-14, "gtol": 1e-9, "maxcor": 30},
        )
        if best is None or (np.isfinite(res.fun) and res.fun < best.fun):
            best = res
        if best.success and np.all(np.abs(best.x) < 29.9):
            break  # further starting points only where the first one fails
    params = np.exp(best.x)
    value = float(nll(params))
    if not np.isfinite(value) or value >= 1e299:
        raise ConvergenceError(
            f"{model}: the log-likelihood is not finite at the optimum; check the data "
            "(e.g. recency > T) or start elsewhere", best,
        )
    # L-BFGS-B may stop on "ABNORMAL" line searches very close to the optimum; accept
    # those when the gradient (in log-parameters) is small.
    gnorm = float(np.max(np.abs(g_log(best.x)))) if len(best.x) else 0.0
    converged = bool(best.success) or gnorm < 1e-3 * max(1.0, abs(value)) ** 0.5
    if not converged:
        raise ConvergenceError(
            f"{model}: the optimiser did not converge ({best.message}); the result is in "
            "err.result", best,
        )
    # On the boundary: driven to the optimiser's limits, or to magnitudes (below 1e-5 or
    # above 1e5) where the likelihood has flattened out along that parameter.
    at_bound = (np.abs(best.x) >= 29.9) | (params < 1e-5) | (params > 1e5)
    notes = boundary_notes or {}
    for name, hit, p in zip(names, at_bound, params, strict=True):
        if hit:
            side = "0" if p < 1 else "infinity"
            warn(
                f"{model}: {name} was driven to {side} (estimate {p:.3g}); "
                + notes.get(name, "the model is at the edge of its parameter space")
                + ". Standard errors are not meaningful for it.",
                ConvergenceWarning,
            )
    with np.errstate(all="ignore"):
        h = hessian(nll, params, grad)
    try:
        cov = np.linalg.inv(h)
        if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
            raise np.linalg.LinAlgError("not positive definite")
    except np.linalg.LinAlgError:
        cov = np.full((len(params), len(params)), np.nan)
        if not at_bound.any():
            warn(
                f"{model}: the information matrix is singular at the optimum, so some of "
                f"{list(names)} are not identified by these data (e.g. no customer made a "
                "repeat purchase); standard errors are NaN and the estimates are arbitrary "
                "along the flat directions.",
                ConvergenceWarning,
            )
    return FitResult(params, -value, cov, converged, best)


def summary_table(params: pd.Series, covariance: pd.DataFrame) -> pd.DataFrame:
    """Estimate, standard error and Wald 95% interval per parameter.

    The interval is computed on the log scale (parameters are positive) and
    transformed back, so it never includes negative values.
    """
    se = np.sqrt(np.diag(covariance.to_numpy()))
    est = params.to_numpy()
    z = 1.959963984540054
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_se = se / est
        lower, upper = est * np.exp(-z * log_se), est * np.exp(z * log_se)
    return pd.DataFrame({"estimate": est, "se": se, "lower_95": lower, "upper_95": upper},
                        index=params.index)
