"""sBG: the shifted-beta-geometric model of contractual retention.

Fader, P. S. and Hardie, B. G. S. (2007), "How to Project Customer Retention",
*Journal of Interactive Marketing* 21(1), 76-90.

Customers of a contractual business (subscriptions, insurance policies, memberships)
decide at the end of every period whether to renew. While a customer's relationship
lasts, they churn at each renewal opportunity with a fixed probability ``theta``, so
their lifetime ``T`` (the period in which they churn) is geometric on ``1, 2, ...``;
``theta`` varies across customers as ``Beta(alpha, beta)``. Mixing the geometric over
the beta distribution gives, in the paper's notation (the expressions are cited by
name because the paper's own equation numbers are not reproduced here):

* the probability of churning in period ``t``
  ``P(T = t | alpha, beta) = B(alpha + 1, beta + t - 1) / B(alpha, beta)``;
* the survivor function, the share still a customer after ``t`` renewal decisions,
  ``S(t | alpha, beta) = B(alpha, beta + t) / B(alpha, beta)``, ``S(0) = 1``;
* the retention rate ``r_t = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1)``,
  which increases with ``t``: the customers most likely to churn leave first;
* the log-likelihood of a cohort observed for some periods: each customer who churned
  in period ``t`` contributes ``ln P(T = t)``, each customer still active after ``t``
  periods (right-censored) contributes ``ln S(t)``.

The discounted expected residual lifetime follows Fader, P. S. and Hardie, B. G. S.
(2010), "Customer-Base Valuation in a Contractual Setting: The Perils of Ignoring
Heterogeneity", *Marketing Science* 29(1), 85-93.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, logsumexp

from crmmodels.cltv._base import MaximumLikelihoodModel
from crmmodels.cltv._likelihood import GRAD, NLL, Boundary, Rows, boundary_pair, compress
from crmmodels.core import Constraint, Interval, numeric_array
from crmmodels.data import CRMData, whole_number
from crmmodels.errors import DataValidationError, InvalidParameterError, MissingColumnError

__all__ = ["ShiftedBetaGeoModel", "retention_frame_from_survivors"]

_MAX_DURATION = 2.0**53  # largest whole number a float64 holds exactly
_MIN_DISCOUNT = 1e-5
_CHUNK = 1 << 16
_BUDGET = 1 << 22  # floats per block in the vectorised sums


# ---------------------------------------------------------------------- data
def retention_frame_from_survivors(survivors: Sequence[int] | np.ndarray,
                                   start: int = 0) -> pd.DataFrame:
    """Expand a cohort's survivor counts into one row per customer.

    Indexing convention: ``survivors[0]`` is the cohort size (customers at the start of
    period 1) and ``survivors[t]`` is the number still customers after ``t`` renewal
    decisions, that is, at the end of period ``t``. Then

    * ``survivors[t - 1] - survivors[t]`` customers churned in period ``t``: they get
      ``duration = t`` and ``churned = True``;
    * the ``survivors[-1]`` customers still active at the last count are censored: they
      get ``duration = len(survivors) - 1`` (the number of observed periods) and
      ``churned = False``.

    Counting, for each ``t``, the customers with ``duration > t`` or not churned gives
    ``survivors`` back, and fitting :class:`ShiftedBetaGeoModel` on the frame maximises
    exactly the cohort likelihood of Fader & Hardie (2007).

    Parameters
    ----------
    survivors : sequence of int
        Non-increasing whole counts, at least two (the cohort size and one period).
    start : int, default 0
        Number of the first customer id: ids are ``f"c{start}"``, ``f"c{start + 1}"``,
        ... Give cohorts disjoint ranges before concatenating their frames.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (text), with ``duration`` (int64) and ``churned``
        (bool), churners first in period order, then the censored customers.

    Raises
    ------
    DataValidationError
        The counts are not whole, negative, increasing, fewer than two, or the cohort
        is empty (``frame="survivors"``; ``rows`` are positions in ``survivors``).

    Examples
    --------
    >>> frame = retention_frame_from_survivors([10, 6, 4])
    >>> frame.groupby(["duration", "churned"]).size().to_dict()
    {(1, True): 4, (2, False): 4, (2, True): 2}
    >>> frame.index[:2].tolist()
    ['c0', 'c1']
    """
    values = np.asarray(survivors)
    if values.ndim != 1 or len(values) < 2:
        raise DataValidationError(
            "survivors must be a flat sequence of at least two counts: the cohort size and "
            "the number still active after each observed period",
            frame="survivors", rule="min_periods",
        )
    if values.dtype.kind == "b" or values.dtype.kind not in "iuf":
        raise DataValidationError(f"survivors must hold whole numbers, got {values.dtype}",
                                  frame="survivors", rule="numeric")
    first = whole_number(start, "start", low=0)
    counts = values.astype(np.float64)
    for bad, rule, msg in (
        (~np.isfinite(counts), "finite", "survivors must be finite"),
        (np.isfinite(counts) & (counts != np.round(counts)), "integer",
         "survivors must be whole numbers"),
        (counts < 0, "non_negative", "survivors must not be negative"),
    ):
        if bad.any():
            pos = np.flatnonzero(bad)
            raise DataValidationError(msg, frame="survivors", rule=rule, rows=pos.tolist(),
                                      n_rows=len(pos))
    up = np.flatnonzero(np.diff(counts) > 0) + 1
    if len(up):
        raise DataValidationError(
            "survivors must not increase: a cohort only loses customers",
            frame="survivors", rule="non_increasing", rows=up.tolist(), n_rows=len(up),
        )
    if counts[0] < 1:
        raise DataValidationError("the cohort is empty (survivors[0] == 0)",
                                  frame="survivors", rule="non_empty", rows=[0], n_rows=1)
    n = counts.astype(np.int64)
    periods = len(n) - 1
    lost = n[:-1] - n[1:]
    duration = np.concatenate([np.repeat(np.arange(1, periods + 1, dtype=np.int64), lost),
                               np.full(n[-1], periods, dtype=np.int64)])
    churned = np.concatenate([np.ones(int(lost.sum()), dtype=bool),
                              np.zeros(int(n[-1]), dtype=bool)])
    ids = pd.Index([f"c{i}" for i in range(first, first + len(duration))],
                   name="customer_id", dtype="str")
    return pd.DataFrame({"duration": duration, "churned": churned}, index=ids)


def _raise_rows(mask: np.ndarray, labels: pd.Index, frame: str, column: str, rule: str,
                msg: str) -> None:
    if mask.any():
        pos = np.flatnonzero(mask)
        rows: list[Hashable] = [labels[i] for i in pos[:5]]
        raise DataValidationError(msg, frame=frame, column=column, rule=rule, rows=rows,
                                  n_rows=len(pos))


def _validate_retention(data: pd.DataFrame, frame: str) -> pd.DataFrame:
    """Check a one-row-per-customer retention frame and return a clean copy.

    Rules: customer ids (a ``customer_id`` column, else an index named
    ``customer_id``) are present and unique; columns ``duration`` and ``churned``
    exist; ``duration`` is a whole number >= 1; ``churned`` is boolean
    (``True``/``False`` or ``1``/``0``); nothing is missing.
    """
    if "customer_id" in data.columns:
        raw_ids = pd.Index(data["customer_id"])
    elif data.index.name == "customer_id":
        raw_ids = pd.Index(data.index)
    else:
        raise MissingColumnError(frame, "customer_id", list(data.columns))
    for col in ("duration", "churned"):
        if col not in data.columns:
            raise MissingColumnError(frame, col, list(data.columns))
    if len(data) == 0:
        raise DataValidationError(f"{frame} is empty: give at least one customer",
                                  frame=frame, rule="non_empty")
    _raise_rows(np.asarray(raw_ids.isna()), pd.Index(data.index), frame, "customer_id",
                "not_null", "customer ids must not be missing")
    ids = pd.Index(raw_ids.astype("str"), name="customer_id", dtype="str")
    _raise_rows(np.asarray(ids.duplicated()), ids, frame, "customer_id", "unique",
                "customer ids must be unique: give one row per customer")

    dur = data["duration"]
    if pd.api.types.is_bool_dtype(dur.dtype) or not pd.api.types.is_numeric_dtype(dur.dtype):
        raise DataValidationError(
            f"duration must be a whole number of periods, got dtype {dur.dtype}",
            frame=frame, column="duration", rule="numeric",
        )
    d = dur.to_numpy(dtype=np.float64, na_value=np.nan)
    _raise_rows(np.isnan(d), ids, frame, "duration", "not_null", "duration must not be missing")
    _raise_rows(np.isinf(d), ids, frame, "duration", "finite", "duration must be finite")
    _raise_rows(d != np.round(d), ids, frame, "duration", "integer",
                "duration counts renewal periods and must be a whole number")
    _raise_rows(d < 1, ids, frame, "duration", "positive",
                "duration must be at least 1: the period in which the customer churned, or "
                "the number of periods observed so far")
    _raise_rows(d > _MAX_DURATION, ids, frame, "duration", "max_value",
                "duration must not exceed 2**53 periods")

    churned = _as_bool(data["churned"], ids, frame)
    out = pd.DataFrame({"duration": d.astype(np.int64), "churned": churned}, index=ids)
    out.attrs["frame"] = frame
    return out


def _as_bool(s: pd.Series, ids: pd.Index, frame: str) -> np.ndarray:
    msg = "churned must be True/False (or 1/0): True = churned, False = still active"
    if s.dtype == bool:
        return s.to_numpy(dtype=bool)
    if pd.api.types.is_bool_dtype(s.dtype):  # nullable "boolean"
        _raise_rows(np.asarray(s.isna()), ids, frame, "churned", "not_null",
                    "churned must not be missing")
        return s.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(s.dtype):
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        _raise_rows(np.isnan(v), ids, frame, "churned", "not_null", "churned must not be missing")
        _raise_rows((v != 0) & (v != 1), ids, frame, "churned", "boolean", msg)
        return np.asarray(v == 1, dtype=bool)
    values = s.to_numpy(dtype=object)
    missing = np.asarray(pd.isna(s))
    _raise_rows(missing, ids, frame, "churned", "not_null", "churned must not be missing")
    ok = np.array([isinstance(v, bool | np.bool_)
                   or (isinstance(v, int | np.integer) and v in (0, 1)) for v in values],
                  dtype=bool)
    _raise_rows(~ok, ids, frame, "churned", "boolean", msg)
    return np.array([bool(v) for v in values], dtype=bool)


def _whole(values: Any, name: str, minimum: int) -> np.ndarray:
    arr = numeric_array(values, name)
    if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)) or np.any(arr < minimum):
        raise InvalidParameterError(f"{name} must hold whole numbers >= {minimum}")
    return arr


# ---------------------------------------------------------------------- sums
def _expected_renewals(alpha: float, beta: float, renewals: np.ndarray,
                       horizon: int) -> np.ndarray:
    """``sum_{k=1..horizon} S(n + k) / S(n)`` for each ``n`` in ``renewals``.

    Every term is a product of retention rates (all positive), summed directly in
    blocks: no cancellation, whatever ``alpha``.
    """
    out = np.zeros(len(renewals))
    cols = min(horizon, _CHUNK)
    rows = max(1, _BUDGET // cols)
    for r0 in range(0, len(renewals), rows):
        x = beta + renewals[r0:r0 + rows, None]
        total = np.zeros(len(x))
        log_q = np.zeros(len(x))
        for c0 in range(0, horizon, cols):
            j = np.arange(c0, min(c0 + cols, horizon), dtype=np.float64)
            cum = log_q[:, None] + np.cumsum(-np.log1p(alpha / (x + j)), axis=1)
            total += np.exp(cum).sum(axis=1)
            log_q = cum[:, -1]
            if np.all(log_q < -745.0):  # every later term underflows to 0
                break
        out[r0:r0 + rows] = total
    return out


def _log_tail(alpha: float, beta: float, n: float, log_z: float, d: float) -> float:
    """``log sum_{k>=1} z^k S(n + k) / S(n)`` by blocks until the rest is negligible."""
    total = -np.inf
    log_q = 0.0
    m = n
    while True:
        j = m + np.arange(_CHUNK, dtype=np.float64)
        cum = log_q + np.cumsum(log_z - np.log1p(alpha / (beta + j)))
        total = float(np.logaddexp(total, logsumexp(cum)))
        log_q = float(cum[-1])
        m += _CHUNK
        # Later terms shrink by at least z each: the rest is below q * z / (1 - z).
        if log_q - np.log(d) < total - 40.0:
            return total


def _derl(alpha: float, beta: float, renewals: np.ndarray, d: float) -> np.ndarray:
    """DERL for each whole ``n`` in ``renewals`` (discount rate ``d`` > 0).

    ``DERL(n) = (1/z) sum_{m>n} Q_m / Q_n`` with ``Q_{m+1} / Q_m = z r_{m+1}``: a single
    backward log-sum-exp over the grid of renewal counts, plus one tail sum.
    """
    uniq, inv = np.unique(renewals, return_inverse=True)
    log_z = -float(np.log1p(d))
    n0, n_max = float(uniq[0]), float(uniq[-1])
    if n_max - n0 > 1 << 24:  # sparse, far apart counts: one tail sum each
        per = np.array([_log_tail(alpha, beta, float(n), log_z, d) for n in uniq])
        return np.asarray(np.exp(per - log_z), dtype=np.float64)[inv]
    m = n0 + np.arange(int(n_max - n0), dtype=np.float64)
    log_q = np.concatenate([[0.0], np.cumsum(log_z - np.log1p(alpha / (beta + m)))])
    tail = _log_tail(alpha, beta, n_max, log_z, d)
    v = np.concatenate([log_q[1:], [log_q[-1] + tail]])
    suffix = np.logaddexp.accumulate(v[::-1])[::-1]
    log_derl = suffix - log_q - log_z
    return np.asarray(np.exp(log_derl[(uniq - n0).astype(np.intp)])[inv], dtype=np.float64)


# ---------------------------------------------------------------------- model
class ShiftedBetaGeoModel(MaximumLikelihoodModel):
    """Shifted-beta-geometric (sBG) model of contractual retention (Fader & Hardie 2007).

    Fitted on one row per customer: ``duration`` (the renewal period in which the
    customer churned, or the number of periods observed so far) and ``churned``
    (``False``: still active, i.e. right-censored at ``duration``).

    Parameters
    ----------
    horizon : int, default 12
        Renewal periods ahead for ``expected_purchases`` in :meth:`score`.

    Attributes
    ----------
    params_ : Series
        ``alpha, beta`` of the Beta distribution of churn probabilities
        (mean churn probability ``alpha / (alpha + beta)``).
    covariance_ : DataFrame
        Asymptotic covariance of ``params_`` (inverse Hessian).
    log_likelihood_ : float
        Maximised log-likelihood.
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
    ``fit`` and ``score`` take

    * a DataFrame with columns ``duration`` and ``churned``, one row per customer,
      with a ``customer_id`` column or an index named ``customer_id`` (errors name
      ``frame="retention"``);
    * or a :class:`~crmmodels.CRMData` whose ``customers`` frame has those two columns
      (errors name ``frame="customers"``). Every customer must have a known ``churned``.

    Only the distinct ``(duration, churned)`` pairs enter the likelihood, with their
    counts, so millions of customers fit in milliseconds.

    :meth:`score` returns, per customer (index ``customer_id``):

    ``p_alive``
        Probability that the customer renews at the end of the next period, given they
        are active after ``duration`` periods: ``r_{n+1} = (beta + n) / (alpha + beta +
        n)`` with ``n = duration``; 0 for churned customers.
    ``expected_purchases``
        Expected number of renewals over the next ``horizon`` renewal decisions of an
        active customer with ``n = duration`` renewals so far:
        ``sum_{k=1..horizon} S(n + k) / S(n)``; 0 for churned customers.

    Examples
    --------
    >>> from crmmodels.cltv.shifted_beta_geo import (
    ...     ShiftedBetaGeoModel, retention_frame_from_survivors)
    >>> regular = [1000, 631, 468, 382, 326, 289, 262, 241]  # years 0-7
    >>> model = ShiftedBetaGeoModel().fit(retention_frame_from_survivors(regular))
    >>> model.params_.round(3).to_dict()
    {'alpha': 0.704, 'beta': 1.182}
    >>> (1000 * model.survival([8, 12])).round(1).tolist()
    [220.1, 170.0]
    """

    _param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta")
    _boundary_notes: ClassVar[dict[str, Boundary]] = boundary_pair(
        "alpha", "beta",
        zero=("alpha -> 0 means the churn probability is essentially 0 for nearly every "
              "customer: almost nobody churns",
              "beta -> 0 means nearly every customer churns at the first renewal (churn "
              "probability about 1)"),
        infinity=("alpha -> infinity means nearly every customer churns at the first "
                  "renewal (churn probability about 1)",
                  "beta -> infinity means the churn probability is essentially 0 for "
                  "nearly every customer: almost nobody churns"),
        both_zero="alpha and beta -> 0 together mean the cohort splits in two: a share "
                  "alpha / (alpha + beta) churns at the first renewal and the others never "
                  "churn",
        both_infinity="alpha and beta -> infinity together mean every customer has the "
                      "same churn probability alpha / (alpha + beta): the retention rate is "
                      "constant over time (no heterogeneity)",
    )
    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "horizon": [Interval(Integral, 1, None)],
    }
    _score_columns: ClassVar[tuple[str, ...]] = ("p_alive", "expected_purchases")
    _required_frames: ClassVar[tuple[str, ...]] = ("customers",)
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"horizon": 0}, {"horizon": -1}, {"horizon": 2.5}, {"horizon": "12"},
        {"horizon": True},
    )

    horizon: int

    def __init__(self, *, horizon: int = 12) -> None:
        self.horizon = horizon

    # ------------------------------------------------------------------ data
    def _prepare(self, data: object) -> pd.DataFrame:
        if isinstance(data, CRMData):
            data.require("customers")
            assert data.customers is not None
            return _validate_retention(data.customers, "customers")
        if isinstance(data, pd.DataFrame):
            return _validate_retention(data, "retention")
        raise DataValidationError(
            f"{type(self).__name__} takes CRMData or a DataFrame with columns duration and "
            f"churned, got {type(data).__name__}",
            rule="type",
        )

    # ------------------------------------------------------------------ likelihood
    @staticmethod
    def _loglik(params: np.ndarray, duration: np.ndarray, churned: np.ndarray) -> np.ndarray:
        """Per-customer log-likelihood: ``ln P(T = t)`` if churned, else ``ln S(t)``."""
        alpha, beta = params
        t = np.asarray(duration, dtype=np.float64)
        c = np.asarray(churned, dtype=bool)
        out = np.where(c, betaln(alpha + 1, beta + t - 1), betaln(alpha, beta + t))
        return np.asarray(out - betaln(alpha, beta), dtype=np.float64)

    @staticmethod
    def _grad(params: np.ndarray, duration: np.ndarray, churned: np.ndarray,
              w: np.ndarray) -> np.ndarray:
        """Gradient of the weighted negative log-likelihood in ``(alpha, beta)``."""
        alpha, beta = params
        t = np.asarray(duration, dtype=np.float64)
        c = np.asarray(churned, dtype=bool)
        dg_ab = digamma(alpha + beta)
        dg_abt = digamma(alpha + beta + t)
        # d/d alpha and d/d beta of ln B(alpha + 1, beta + t - 1) or ln B(alpha, beta + t),
        # minus those of ln B(alpha, beta).
        d_alpha = np.where(c, 1.0 / alpha, 0.0) + dg_ab - dg_abt
        d_beta = np.where(c, digamma(beta + t - 1), digamma(beta + t)) - dg_abt \
            - digamma(beta) + dg_ab
        return -np.array([np.dot(w, d_alpha), np.dot(w, d_beta)])

    def _fit_rows(self, data: pd.DataFrame) -> tuple[Rows, np.ndarray]:
        """Distinct ``(duration, churned)`` pairs and their counts."""
        duration = data["duration"].to_numpy(dtype=np.float64)
        churned = data["churned"].to_numpy(dtype=bool)
        name = type(self).__name__
        frame = str(data.attrs.get("frame", "retention"))
        if len(duration) < 2:
            raise DataValidationError(
                f"{name} needs at least 2 customers, got {len(duration)}: one customer "
                "cannot show how churn probabilities vary",
                frame=frame, rule="min_customers",
            )
        if not churned.any():
            raise DataValidationError(
                f"{name} needs at least one churned customer: without churn the churn "
                "probabilities cannot be estimated",
                frame=frame, column="churned", rule="min_churned",
            )
        if duration.max() < 2:
            raise DataValidationError(
                f"{name} needs some customers observed beyond period 1 (duration >= 2): "
                "one period identifies the mean churn probability but not its spread",
                frame=frame, column="duration", rule="min_periods",
            )
        (ut, uc), w, _ = compress(duration, churned.astype(np.float64))
        return (ut, uc.astype(bool)), w

    def _starts(self, rows: Rows, w: np.ndarray) -> list[np.ndarray]:
        return [np.array([1.0, 1.0]), np.array([0.5, 2.0]), np.array([3.0, 10.0])]

    def _objective(self, rows: Rows, w: np.ndarray) -> tuple[NLL, GRAD]:
        """Return the base objective, with the weighted sum taken by ``numpy.dot``.

        A cohort has a handful of distinct rows, so the sum costs nothing either way;
        but where the likelihood is flat around its optimum another summation order
        moves the optimiser's stopping point (by 3e-7 relative on a simulated cohort
        with ``alpha = 2, beta = 5``), and estimates should not change for that.
        """
        duration, churned = rows
        total = float(w.sum())

        def nll(p: np.ndarray) -> float:
            return float(-np.dot(w, self._loglik(p, duration, churned))) / total

        def grad(p: np.ndarray) -> np.ndarray:
            return self._grad(p, duration, churned, w) / total

        return nll, grad

    # ------------------------------------------------------------------ results
    def _p(self) -> tuple[float, float]:
        self._check_fitted()
        alpha, beta = self.params_.to_numpy(dtype=np.float64)
        return float(alpha), float(beta)

    # ------------------------------------------------------------------ predictions
    def churn_probability(self, t: Any) -> np.ndarray:
        """``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)``: churn in period t.

        Parameters
        ----------
        t : int or array of int
            Periods, ``>= 1``.

        Returns
        -------
        ndarray
            Same shape as ``t``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ShiftedBetaGeoModel()
        >>> m.params_ = pd.Series({"alpha": 1.0, "beta": 1.0})
        >>> m.churn_probability([1, 2, 3]).round(4).tolist()
        [0.5, 0.1667, 0.0833]
        """
        alpha, beta = self._p()
        tt = _whole(t, "t", 1)
        return np.asarray(np.exp(betaln(alpha + 1, beta + tt - 1) - betaln(alpha, beta)),
                          dtype=np.float64)

    def survival(self, t: Any) -> np.ndarray:
        """``S(t) = B(alpha, beta + t) / B(alpha, beta)``: still a customer after t periods.

        Parameters
        ----------
        t : int or array of int
            Periods, ``>= 0`` (``S(0) = 1``).

        Returns
        -------
        ndarray
            Same shape as ``t``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ShiftedBetaGeoModel()
        >>> m.params_ = pd.Series({"alpha": 1.0, "beta": 1.0})
        >>> m.survival([0, 1, 3]).round(4).tolist()
        [1.0, 0.5, 0.25]
        """
        alpha, beta = self._p()
        tt = _whole(t, "t", 0)
        return np.asarray(np.exp(betaln(alpha, beta + tt) - betaln(alpha, beta)),
                          dtype=np.float64)

    def retention_rate(self, t: Any) -> np.ndarray:
        """``r_t = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1)``.

        The share of customers active after ``t - 1`` periods who renew at the end of
        period ``t``.

        Parameters
        ----------
        t : int or array of int
            Periods, ``>= 1``.

        Returns
        -------
        ndarray
            Same shape as ``t``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ShiftedBetaGeoModel()
        >>> m.params_ = pd.Series({"alpha": 1.0, "beta": 1.0})
        >>> m.retention_rate([1, 2, 3]).round(4).tolist()
        [0.5, 0.6667, 0.75]
        """
        alpha, beta = self._p()
        tt = _whole(t, "t", 1)
        return np.asarray((beta + tt - 1) / (alpha + beta + tt - 1), dtype=np.float64)

    def expected_renewals(self, renewals: Any, horizon: int) -> np.ndarray:
        """Return expected renewals in the next ``horizon`` decisions of active customers.

        ``sum_{k=1..horizon} S(n + k) / S(n)`` for a customer who has renewed
        ``n = renewals`` times (is active after ``n`` periods). This is the
        ``expected_purchases`` column of :meth:`score`.

        Parameters
        ----------
        renewals : int or array of int
            Renewals so far, ``>= 0``.
        horizon : int
            Renewal decisions ahead, ``>= 1``.

        Returns
        -------
        ndarray
            Same shape as ``renewals``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ShiftedBetaGeoModel()
        >>> m.params_ = pd.Series({"alpha": 1.0, "beta": 1.0})
        >>> m.expected_renewals(0, 2).round(4).tolist()  # S(1) + S(2)
        0.8333
        """
        alpha, beta = self._p()
        horizon = whole_number(horizon, "horizon")
        n = _whole(renewals, "renewals", 0)
        uniq, inv = np.unique(n.ravel(), return_inverse=True)
        out = _expected_renewals(alpha, beta, uniq, horizon)[inv]
        return np.asarray(out.reshape(n.shape), dtype=np.float64)

    def discounted_expected_residual_lifetime(self, renewals: Any,
                                              discount_rate: float) -> np.ndarray:
        """Return the DERL (Fader & Hardie 2010) of active customers who renewed n times.

        The expected discounted number of renewal payments still to come, standing just
        before the customer's next renewal decision (that payment is not discounted,
        the one after is discounted once, and so on)::

            DERL(d | n) = sum_{k>=0} S(n + k + 1) / S(n) / (1 + d)^k
                        = B(alpha, beta + n + 1) / B(alpha, beta + n)
                          * 2F1(1, beta + n + 1; alpha + beta + n + 1; 1 / (1 + d))

        Multiplied by the margin per renewal it gives the residual value of the customer.
        The hypergeometric series is summed directly (in log space, over a grid of
        renewal counts), which stays accurate where library ``2F1`` routines fail.

        Parameters
        ----------
        renewals : int or array of int
            Renewals so far ``n`` (``>= 0``; a customer active after ``n`` periods).
        discount_rate : float
            Discount rate per period ``d``: ``0`` or at least ``1e-5``. With ``d = 0``
            the result is the expected number of remaining renewals,
            ``(beta + n) / (alpha - 1)`` when ``alpha > 1`` and infinite otherwise.

        Returns
        -------
        ndarray
            Same shape as ``renewals``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ShiftedBetaGeoModel()
        >>> m.params_ = pd.Series({"alpha": 0.668, "beta": 3.806})  # "high end" cohort
        >>> m.discounted_expected_residual_lifetime([0, 7], 0.1).round(3).tolist()
        [5.415, 7.53]
        """
        alpha, beta = self._p()
        d = discount_rate
        if isinstance(d, bool) or not isinstance(d, int | float | np.floating | np.integer) \
                or not np.isfinite(d) or not (d == 0 or d >= _MIN_DISCOUNT):
            raise InvalidParameterError(
                f"discount_rate must be 0 or a finite rate >= {_MIN_DISCOUNT} per period, "
                f"got {discount_rate!r}"
            )
        n = _whole(renewals, "renewals", 0)
        flat = n.ravel()
        if len(flat) == 0:
            return np.zeros(n.shape)
        if d == 0:
            out = (beta + flat) / (alpha - 1) if alpha > 1 else np.full(len(flat), np.inf)
        else:
            out = _derl(alpha, beta, flat, float(d))
        return np.asarray(out.reshape(n.shape), dtype=np.float64)

    # ------------------------------------------------------------------ scoring
    def _score(self, data: pd.DataFrame) -> pd.DataFrame:
        alpha, beta = self._p()
        n = data["duration"].to_numpy(dtype=np.float64)
        active = ~data["churned"].to_numpy(dtype=bool)
        uniq, inv = np.unique(n, return_inverse=True)
        renew = _expected_renewals(alpha, beta, uniq, int(self.horizon))[inv]
        return pd.DataFrame(
            {
                "p_alive": np.where(active, (beta + n) / (alpha + beta + n), 0.0),
                "expected_purchases": np.where(active, renew, 0.0),
            },
            index=pd.Index(data.index, name="customer_id"),
        )
