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
  :class:`~crmmodels.errors.ConvergenceWarning` that names the parameter and says what
  that boundary means for the model (its :class:`Boundary` notes), and returned as
  :attr:`FitResult.boundary`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from crmmodels.core import numeric_array
from crmmodels.errors import ConvergenceError, ConvergenceWarning, warn

__all__ = [
    "FLAT",
    "FLAT_IF_SINGULAR",
    "GRAD",
    "LOG_LIMIT",
    "NLL",
    "Boundary",
    "FitResult",
    "Rows",
    "as_arrays",
    "boundary_messages",
    "boundary_pair",
    "compress",
    "customer_weights",
    "fit_mle",
    "numeric_grad",
    "summary_table",
    "wsum",
]


def as_arrays(*values: Any) -> list[np.ndarray]:
    """Broadcast the arguments together as float arrays (prediction inputs).

    Raises
    ------
    TypeError
        An argument is not a number or an array of numbers (``None``, text, a dict).
    """
    arrays = [numeric_array(v, "prediction inputs") for v in values]
    return [np.asarray(v, dtype=float) for v in np.broadcast_arrays(*arrays)]


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


#: An estimate this far from 1 (below ``1 / FLAT`` or above ``FLAT``, after dividing a
#: parameter in the data's units by the data's scale) sits where the likelihood has
#: flattened out along it: numerically on the boundary even inside the optimiser's box.
FLAT = 1e5
#: Where the information matrix is singular (the likelihood is flat along some
#: direction), estimates beyond this magnitude are taken to be at the edge it runs to.
FLAT_IF_SINGULAR = 1e3
#: The optimiser's box on the log scale: ``log(p)`` in ``[-LOG_LIMIT, LOG_LIMIT]``.
LOG_LIMIT = 30.0


@dataclass(frozen=True)
class Boundary:
    """What an estimate at an edge of a parameter's range means, in the model's words.

    Every parameter of a CLV model is positive, so its range has two edges, 0 and
    infinity; a few have a meaningful edge inside it as well (Gamma-Gamma's ``q = 1``,
    below which mean spend is infinite). Models keep one per parameter in their
    ``_boundary_notes``; :func:`boundary_messages` picks the note of the edge an
    estimate is at.

    The two parameters of one distribution (the shape and rate of a Gamma, the two
    shapes of a Beta) often reach an edge together, and together they mean something
    else than either alone (a Beta with both shapes at 0 splits customers into two
    groups; with both at infinity it is one value for everyone): ``partner`` names the
    other parameter and ``both_zero`` / ``both_infinity`` say what the pair at that
    edge means. :func:`boundary_pair` builds the two notes of such a pair.

    Parameters
    ----------
    zero : str
        What the estimate driven to 0 means.
    infinity : str
        What the estimate driven to infinity means.
    unit : {"time", "spend"}, optional
        The parameter is in the data's units (a scale of time or of spend): it is
        judged at the boundary relative to the data's own scale (the model's
        ``_data_scales``), so the answer does not depend on the unit the data are
        in. Without a unit the parameter is dimensionless.
    critical : float, optional
        An edge inside the range: estimates at or below it get ``below_critical``.
    below_critical : str
        What an estimate at or below ``critical`` means.
    partner : str, optional
        The other parameter of the same distribution.
    both_zero, both_infinity : str
        What this parameter and its partner at that edge together mean.

    Examples
    --------
    >>> note = Boundary(zero="no dropout", infinity="everyone drops out")
    >>> note.meaning("0"), note.meaning("infinity")
    ('no dropout', 'everyone drops out')
    """

    zero: str
    infinity: str
    unit: str | None = None
    critical: float | None = None
    below_critical: str = ""
    partner: str | None = None
    both_zero: str = ""
    both_infinity: str = ""

    def meaning(self, side: str, partner_side: str | None = None) -> str:
        """Return the note of edge ``side`` (``"0"`` or ``"infinity"``).

        When the partner is at the same edge and the pair has a note for it, that
        note is returned instead.
        """
        if partner_side == side:
            both = self.both_zero if side == "0" else self.both_infinity
            if both:
                return both
        return self.zero if side == "0" else self.infinity


def boundary_pair(
    first: str,
    second: str,
    *,
    zero: tuple[str, str],
    infinity: tuple[str, str],
    both_zero: str,
    both_infinity: str,
    units: tuple[str | None, str | None] = (None, None),
) -> dict[str, Boundary]:
    """Return the :class:`Boundary` notes of two parameters of one distribution.

    ``zero`` and ``infinity`` hold the meanings of ``(first, second)`` alone at that
    edge; ``both_zero`` and ``both_infinity`` the meaning of the pair together.

    Examples
    --------
    >>> notes = boundary_pair("a", "b", zero=("a0", "b0"), infinity=("a-inf", "b-inf"),
    ...                       both_zero="both 0", both_infinity="both inf")
    >>> notes["b"].meaning("infinity"), notes["b"].meaning("infinity", "infinity")
    ('b-inf', 'both inf')
    """
    return {
        first: Boundary(zero=zero[0], infinity=infinity[0], unit=units[0], partner=second,
                        both_zero=both_zero, both_infinity=both_infinity),
        second: Boundary(zero=zero[1], infinity=infinity[1], unit=units[1], partner=first,
                         both_zero=both_zero, both_infinity=both_infinity),
    }


@dataclass(frozen=True)
class FitResult:
    """Outcome of :func:`fit_mle`.

    ``boundary`` maps each parameter estimated at an edge of its range to the message
    of its :class:`~crmmodels.errors.ConvergenceWarning` (empty when none is).
    """

    params: np.ndarray
    log_likelihood: float
    covariance: np.ndarray
    converged: bool
    result: Any
    boundary: dict[str, str] = field(default_factory=dict)


def customer_weights(summary: pd.DataFrame) -> np.ndarray | None:
    """Return the ``n_customers`` column of a summary (rows standing for many), or None.

    :func:`crmmodels.data.validate_summary` has checked it: whole numbers >= 1.
    """
    if "n_customers" not in summary.columns:
        return None
    return summary["n_customers"].to_numpy(dtype=float)


def compress(*columns: np.ndarray,
             weights: np.ndarray | None = None) -> tuple[Rows, np.ndarray, np.ndarray]:
    """Distinct rows of the given columns, their counts, and each input row's distinct row.

    With ``weights`` (one per input row, say how many customers a row stands for), the
    weight of a distinct row is the sum of its input rows' weights instead of their count.

    Each column is hashed separately (``pandas.factorize``), the codes are combined
    into one integer per row and factorised again: linear time, no sort.

    Returns
    -------
    unique : tuple of arrays
        One array per column, the distinct rows (in order of first appearance).
    weights : ndarray
        How many input rows each distinct row stands for (the sum of their ``weights``).
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
    given = None if weights is None else np.asarray(weights, dtype=float).ravel()
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
    counts = np.bincount(inverse, weights=given, minlength=len(first_rows)).astype(float)
    return tuple(c[rep] for c in cols), counts, inverse.astype(np.intp)


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
    boundary_notes: Mapping[str, Boundary] | None = None,
    scales: Mapping[str, float] | None = None,
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
    boundary_notes : mapping of str to Boundary, optional
        What each parameter at an edge of its range means (see
        :func:`boundary_messages`); such estimates get a :class:`ConvergenceWarning`.
    scales : mapping of str to float, optional
        The data's scale of each unit (``{"time": mean T}``...), for the notes with a
        ``unit``.
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
            bounds=[(-LOG_LIMIT, LOG_LIMIT)] * len(x0),
            options={"maxiter": maxiter, "ftol": 1e-14, "gtol": 1e-9, "maxcor": 30},
        )
        if best is None or (np.isfinite(res.fun) and res.fun < best.fun):
            best = res
        if best.success and np.all(np.abs(best.x) < LOG_LIMIT - 0.1):
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
    notes, unit_scales = boundary_notes or {}, scales or {}
    boundary = boundary_messages(model, names, params, notes, unit_scales)
    with np.errstate(all="ignore"):
        h = hessian(nll, params, grad)
    try:
        cov = np.linalg.inv(h)
        if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
            raise np.linalg.LinAlgError("not positive definite")
    except np.linalg.LinAlgError:
        cov = np.full((len(params), len(params)), np.nan)
        if not boundary:
            # The likelihood is flat along some direction: estimates already far out
            # (beyond FLAT_IF_SINGULAR of their scale) are where it levels off.
            boundary = boundary_messages(model, names, params, notes, unit_scales,
                                         flat=FLAT_IF_SINGULAR)
        if not boundary:
            warn(
                f"{model}: the information matrix is singular at the optimum, so some of "
                f"{list(names)} are not identified by these data (e.g. no customer made a "
                "repeat purchase); standard errors are NaN and the estimates are arbitrary "
                "along the flat directions.",
                ConvergenceWarning,
            )
    for message in boundary.values():
        warn(message, ConvergenceWarning)
    return FitResult(params, -value, cov, converged, best, boundary)


def boundary_messages(
    model: str,
    names: Sequence[str],
    params: np.ndarray,
    notes: Mapping[str, Boundary],
    scales: Mapping[str, float],
    *,
    flat: float = FLAT,
) -> dict[str, str]:
    """Name every estimate at an edge of its range and say what that means for the model.

    An estimate is at an edge when it reached the optimiser's box (``exp(+-30)``), or
    a magnitude where the likelihood has flattened out along it: below ``1 / flat`` or
    above ``flat`` (``1e5``), relative to the data's scale for a parameter with a
    ``unit`` (so ``alpha = 2e5`` hours is not an edge when customers are observed for
    1e4 hours); or at or below the note's ``critical`` value. Two partners at the same edge get
    the note of the pair; a partner beyond ``sqrt(FLAT)`` on the side its partner went
    to counts as at that edge too (where an optimiser stops along such a ridge depends
    on its tolerances). Parameters without a note get a generic message.

    Parameters
    ----------
    model : str
        Model name, the start of each message.
    names : sequence of str
        Parameter names, in the order of ``params``.
    params : ndarray
        The estimates.
    notes : mapping of str to Boundary
        The model's ``_boundary_notes``.
    scales : mapping of str to float
        The data's scale of each unit a note may name.
    flat : float, default FLAT
        The magnitude (relative to the scale) beyond which an estimate is at an edge;
        :func:`fit_mle` uses the looser ``FLAT_IF_SINGULAR`` when the information
        matrix is singular, to name the parameters along which it is flat.

    Returns
    -------
    dict
        ``{name: message}`` for the parameters at an edge, in the order of ``names``;
        empty when none is.

    Examples
    --------
    >>> import numpy as np
    >>> notes = boundary_pair("s", "beta", zero=("no dropout", "instant dropout"),
    ...                       infinity=("same rate", "no dropout"),
    ...                       both_zero="two groups", both_infinity="one rate")
    >>> out = boundary_messages("ParetoNBDModel", ["r", "s", "beta"],
    ...                         np.array([0.5, 1e-7, 11.7]), notes, {})
    >>> print(out["s"])  # doctest: +NORMALIZE_WHITESPACE
    ParetoNBDModel: s was driven to 0 (estimate 1e-07); no dropout.
    Standard errors are not meaningful for it.
    >>> out = boundary_messages("ParetoNBDModel", ["r", "s", "beta"],
    ...                         np.array([0.5, 3e6, 8e6]), notes, {})
    >>> print(out["beta"])  # doctest: +NORMALIZE_WHITESPACE
    ParetoNBDModel: beta was driven to infinity (estimate 8e+06) together with s (3e+06);
    one rate. Standard errors are not meaningful for it.
    """
    values = dict(zip(names, np.asarray(params, dtype=float).tolist(), strict=True))
    sides: dict[str, str] = {}
    relatives: dict[str, float] = {}
    for name, p in values.items():
        note = notes.get(name)
        scale = scales.get(note.unit, 1.0) if note is not None and note.unit else 1.0
        relative = p / scale if scale > 0 and np.isfinite(scale) else p
        relatives[name] = relative
        at_limit = not p > 0 or abs(float(np.log(p))) >= LOG_LIMIT - 0.1
        if at_limit or relative < 1 / flat or relative > flat:
            sides[name] = "0" if relative < 1 else "infinity"
    # A partner that followed the edge parameter part of the way (beyond sqrt(FLAT) on
    # the same side) is at that edge with it: where the optimiser stops along such a
    # ridge depends on its tolerances, not on the data. (Not with the looser ``flat``
    # of a singular information matrix, whose square root is a plain estimate.)
    loose = float(np.sqrt(FLAT))
    for name, side in list(sides.items()) if flat >= FLAT else []:
        note = notes.get(name)
        partner = note.partner if note is not None else None
        if partner is None or partner in sides or partner not in relatives:
            continue
        r = relatives[partner]
        if (side == "infinity" and r > loose) or (side == "0" and 0 < r < 1 / loose):
            sides[partner] = side
    out: dict[str, str] = {}
    for name, p in values.items():
        note = notes.get(name)
        if name in sides:
            side = sides[name]
            partner = note.partner if note is not None else None
            together = partner is not None and sides.get(partner) == side
            meaning = "the model is at the edge of its parameter space" if note is None \
                else note.meaning(side, sides.get(partner) if partner else None)
            with_partner = f" together with {partner} ({values[partner]:.3g})" \
                if together and partner is not None else ""
            out[name] = (f"{model}: {name} was driven to {side} (estimate {p:.3g})"
                         f"{with_partner}; {meaning}. Standard errors are not meaningful "
                         "for it.")
        elif note is not None and note.critical is not None and p <= note.critical:
            out[name] = (f"{model}: {name} = {p:.3g} is at or below {note.critical:g}; "
                         f"{note.below_critical}.")
    return out


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
