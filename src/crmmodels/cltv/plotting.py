"""Figures for customer-lifetime-value work.

* :func:`plot_frequency_recency_matrix` and :func:`plot_probability_alive_matrix`:
  heat maps of a transaction model's predictions over a grid of frequency x recency;
* :func:`plot_holdout_by_frequency`: mean actual vs predicted holdout purchases by
  calibration frequency (the "conditional expectations" figure of Fader, Hardie & Lee
  2005), from :func:`crmmodels.cltv.holdout_comparison`;
* :func:`plot_tracking`: the cohort's repeat purchases per period, actual vs expected,
  from :func:`crmmodels.cltv.purchase_tracking`;
* :func:`plot_survival`: the survivor curve of the shifted-beta-geometric model
  (Fader & Hardie 2007), with optional actual survivor shares;
* :func:`plot_period_transactions`: how many customers made 0, 1, 2, ... repeat
  transactions in the calibration period, actual vs the model's exact expectation
  (:func:`period_transactions`), the goodness-of-fit figure of lifetimes.

matplotlib is an optional dependency (``pip install "crmmodels[plot]"``), imported only
when a figure is drawn. Every function draws on ``ax`` when given, otherwise on a new
figure, and returns the :class:`matplotlib.axes.Axes`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from crmmodels.cltv.baseline import NaiveRateModel
from crmmodels.cltv.evaluation import HoldoutResult, _require_model
from crmmodels.core import check_count, check_positive, is_number, new_axes
from crmmodels.data import CRMData, customer_summary, validate_summary
from crmmodels.errors import DataValidationError, InvalidParameterError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["period_transactions", "plot_frequency_recency_matrix",
           "plot_holdout_by_frequency", "plot_period_transactions",
           "plot_probability_alive_matrix", "plot_survival", "plot_tracking"]

DEFAULT_T = 52.0
DEFAULT_MAX_FREQUENCY = 20
_TRACKING_COLUMNS = ("actual", "expected", "actual_cumulative", "expected_cumulative",
                     "in_calibration")


class _ExpectedPurchasesModel(Protocol):
    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any,
                                       T: Any) -> np.ndarray: ...  # noqa: N803


class _ProbabilityAliveModel(Protocol):
    def conditional_probability_alive(self, frequency: Any, recency: Any,
                                      T: Any) -> np.ndarray: ...  # noqa: N803


class _SurvivalModel(Protocol):
    def survival(self, t: Any) -> np.ndarray: ...


class _PurchaseCountModel(Protocol):
    # P(X = count) over the first ``time`` periods (BG/BB: opportunities), new customer.
    def probability_of_purchases(self, count: Any, time: Any, /) -> np.ndarray: ...


# ---------------------------------------------------------------------- helpers


def _grid(max_frequency: int | None, max_recency: float | None,
          T: float | None) -> tuple[np.ndarray, np.ndarray, float]:  # noqa: N803
    """Validate the grid arguments; return frequencies, recencies and the age T."""
    max_f = DEFAULT_MAX_FREQUENCY if max_frequency is None \
        else check_count(max_frequency, "max_frequency")
    if max_recency is not None and not (is_number(max_recency) and max_recency >= 0):
        raise InvalidParameterError(
            f"max_recency must be a finite number >= 0, got {max_recency!r}")
    if T is None:
        age = float(max_recency) if max_recency is not None and max_recency > 0 else DEFAULT_T
    else:
        age = check_positive(T, "T")
    max_r = math.floor(age) if max_recency is None else math.floor(float(max_recency))
    if max_r > age:
        raise InvalidParameterError(
            f"max_recency ({max_recency!r}) must not exceed the customer age T ({age:g}): "
            "recency is the age at the last purchase, so recency <= T")
    frequencies = np.arange(max_f + 1, dtype=np.float64)
    recencies = np.arange(max_r + 1, dtype=np.float64)
    return frequencies, recencies, age


def _heat_map(ax: Axes, values: np.ndarray, frequencies: np.ndarray, recencies: np.ndarray,
              label: str, title: str, vmin: float | None = None,
              vmax: float | None = None) -> None:
    image = ax.imshow(
        np.ma.masked_invalid(values), origin="lower", aspect="auto", interpolation="nearest",
        cmap="viridis", vmin=vmin, vmax=vmax,
        extent=(-0.5, float(recencies[-1]) + 0.5, -0.5, float(frequencies[-1]) + 0.5),
    )
    ax.figure.colorbar(image, ax=ax, label=label)
    ax.set_xlabel("recency: age at the last purchase (periods)")
    ax.set_ylabel("frequency: repeat purchases")
    ax.set_title(title)


def _matrix(f: Any, frequencies: np.ndarray, recencies: np.ndarray,
            discrete: bool = False) -> np.ndarray:
    """Evaluate ``f(frequency, recency)`` on the grid; NaN where the cell cannot occur.

    A customer without repeat purchases has recency 0 by definition, so the cells with
    frequency 0 and recency > 0 are left empty; in discrete time (BG/BB) a customer
    cannot have more transactions than the opportunity of the last one, so cells with
    frequency > recency are empty too.
    """
    x, tx = np.meshgrid(frequencies, recencies, indexing="ij")
    possible = ~((x == 0) & (tx > 0))
    if discrete:
        possible &= x <= tx
    values = np.full(x.shape, np.nan)
    if possible.any():
        values[possible] = np.asarray(f(x[possible], tx[possible]), dtype=np.float64)
    return values


# ---------------------------------------------------------------------- heat maps
def plot_frequency_recency_matrix(
    model: _ExpectedPurchasesModel,
    max_frequency: int | None = None,
    max_recency: float | None = None,
    T: float | None = None,  # noqa: N803
    t: float = 1,
    ax: Axes | None = None,
) -> Axes:
    """Heat map of expected purchases in the next ``t`` periods by frequency and recency.

    Cell ``(frequency, recency)`` shows
    ``model.conditional_expected_purchases(t, frequency, recency, T)`` for a customer
    of age ``T``: frequency ``0, 1, ..., max_frequency`` in the rows (bottom to top),
    recency ``0, 1, ..., max_recency`` in the columns. Customers with many purchases
    and a recent last one (top right) are the best prospects; frequent buyers who have
    not bought for a long time (top left) have probably left. Cells with frequency 0
    and recency > 0 cannot occur (recency is 0 without repeat purchases) and stay empty.

    Parameters
    ----------
    model : fitted transaction model
        Anything with ``conditional_expected_purchases(t, frequency, recency, T)``,
        e.g. :class:`~crmmodels.cltv.BetaGeoModel`. All durations are in the time unit
        the model was fitted in.
    max_frequency : int, optional
        Largest frequency (repeat purchases) on the grid; default 20. The fitted model
        does not keep its data, so pass your data's largest frequency
        (``int(summary["frequency"].max())``) to cover every customer, as lifetimes
        does.
    max_recency : float, optional
        Largest recency on the grid (whole periods ``0, 1, ...`` up to it); default
        ``floor(T)``. Must not exceed ``T``.
    T : float, optional
        Age of the customer (periods since the first purchase); default ``max_recency``
        when that is given and positive, otherwise 52 (a year for a model fitted in
        weeks, the package's default unit). Pass e.g. the calibration length.
    t : float, default 1
        Length of the prediction window, in periods.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, holding one image (``ax.images[0]``, rows = frequencies) and a
        colour bar.

    Raises
    ------
    InvalidParameterError
        ``t`` or ``T`` is not positive, ``max_frequency`` is not a whole number >= 0,
        ``max_recency`` is negative or greater than ``T``.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from crmmodels.cltv import BetaGeoModel
    >>> from crmmodels.cltv import plot_frequency_recency_matrix
    >>> model = BetaGeoModel()
    >>> model.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> ax = plot_frequency_recency_matrix(model, max_frequency=10, T=39, t=52)
    >>> ax.images[0].get_array().shape  # frequencies 0-10 x recencies 0-39
    (11, 40)
    >>> plt.close(ax.figure)
    """
    _require_model("plot_frequency_recency_matrix", model, ("conditional_expected_purchases",))
    horizon = check_positive(t, "t")
    frequencies, recencies, age = _grid(max_frequency, max_recency, T)
    values = _matrix(
        lambda x, tx: model.conditional_expected_purchases(horizon, x, tx, age),
        frequencies, recencies, discrete=bool(getattr(model, "_discrete_time", False)))
    ax = new_axes(ax)
    _heat_map(ax, values, frequencies, recencies, label="expected purchases",
              title=f"Expected purchases in the next {horizon:.4g} periods\n"
                    f"(customer age T = {age:.4g})")
    return ax


def plot_probability_alive_matrix(
    model: _ProbabilityAliveModel,
    max_frequency: int | None = None,
    max_recency: float | None = None,
    T: float | None = None,  # noqa: N803
    ax: Axes | None = None,
) -> Axes:
    """Heat map of the probability of being alive by frequency and recency.

    Cell ``(frequency, recency)`` shows
    ``model.conditional_probability_alive(frequency, recency, T)`` for a customer of
    age ``T``, on the same grid as :func:`plot_frequency_recency_matrix` (colour
    scale fixed to 0-1). Cells with frequency 0 and recency > 0 cannot occur and stay
    empty.

    Parameters
    ----------
    model : fitted transaction model
        Anything with ``conditional_probability_alive(frequency, recency, T)``.
    max_frequency : int, optional
        Largest frequency on the grid; default 20 (see
        :func:`plot_frequency_recency_matrix`).
    max_recency : float, optional
        Largest recency on the grid; default ``floor(T)``. Must not exceed ``T``.
    T : float, optional
        Age of the customer; default ``max_recency`` when given and positive,
        otherwise 52.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, holding one image (``ax.images[0]``) and a colour bar.

    Raises
    ------
    InvalidParameterError
        ``T`` is not positive, ``max_frequency`` is not a whole number >= 0,
        ``max_recency`` is negative or greater than ``T``.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from crmmodels.cltv import BetaGeoModel
    >>> from crmmodels.cltv import plot_probability_alive_matrix
    >>> model = BetaGeoModel()
    >>> model.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> ax = plot_probability_alive_matrix(model, max_frequency=10, T=39)
    >>> p = ax.images[0].get_array()
    >>> bool(p.min() >= 0 and p.max() <= 1)
    True
    >>> plt.close(ax.figure)
    """
    _require_model("plot_probability_alive_matrix", model, ("conditional_probability_alive",))
    frequencies, recencies, age = _grid(max_frequency, max_recency, T)
    values = _matrix(lambda x, tx: model.conditional_probability_alive(x, tx, age),
                     frequencies, recencies,
                     discrete=bool(getattr(model, "_discrete_time", False)))
    ax = new_axes(ax)
    _heat_map(ax, values, frequencies, recencies, label="P(alive)",
              title=f"Probability of being alive\n(customer age T = {age:.4g})",
              vmin=0.0, vmax=1.0)
    return ax


# ---------------------------------------------------------------------- evaluation
def plot_holdout_by_frequency(result: HoldoutResult, max_frequency: int = 7,
                              ax: Axes | None = None) -> Axes:
    """Mean actual vs predicted holdout purchases by calibration frequency.

    The "conditional expectations" figure of Fader, Hardie & Lee (2005): customers are
    grouped by their repeat purchases in the calibration period (``max_frequency`` and
    above pooled), and each group's mean holdout purchases are drawn as two lines,
    ``actual`` (solid) and ``predicted`` (dashed), the values of
    ``result.by_frequency(max_frequency)``.

    Parameters
    ----------
    result : HoldoutResult
        Output of :func:`crmmodels.cltv.holdout_comparison`.
    max_frequency : int, default 7
        Calibration frequencies from this one up are pooled into one group.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes; ``ax.lines[0]`` is ``actual``, ``ax.lines[1]`` is ``predicted``, at
        x positions ``0, 1, ...`` labelled with the groups.

    Raises
    ------
    InvalidParameterError
        ``max_frequency`` is not a whole number >= 0.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from crmmodels.cltv import BetaGeoModel
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> from crmmodels.cltv import holdout_comparison
    >>> from crmmodels.data import calibration_holdout
    >>> from crmmodels.cltv import plot_holdout_by_frequency
    >>> split = calibration_holdout(load_cdnow_sample(), "1997-09-30", "1998-06-30",
    ...                             freq="D", freq_multiplier=7)
    >>> model = BetaGeoModel().fit(split[["frequency", "recency", "T"]])
    >>> ax = plot_holdout_by_frequency(holdout_comparison(model, split))
    >>> [tick.get_text() for tick in ax.get_xticklabels()]
    ['0', '1', '2', '3', '4', '5', '6', '7+']
    >>> plt.close(ax.figure)
    """
    if not isinstance(result, HoldoutResult):
        raise TypeError(
            "plot_holdout_by_frequency: result must be the HoldoutResult returned by "
            f"holdout_comparison, got {type(result).__name__}")
    table = result.by_frequency(check_count(max_frequency, "max_frequency"))
    positions = np.arange(len(table), dtype=np.float64)
    ax = new_axes(ax)
    ax.plot(positions, table["actual"].to_numpy(dtype=np.float64), marker="o",
            label="actual")
    ax.plot(positions, table["predicted"].to_numpy(dtype=np.float64), marker="s",
            linestyle="--", label="predicted")
    ax.set_xticks(positions, [str(label) for label in table.index])
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("mean purchases in the holdout period")
    ax.set_title("Holdout purchases by calibration frequency")
    ax.legend()
    return ax


def plot_tracking(tracking: pd.DataFrame, cumulative: bool = True,
                  ax: Axes | None = None) -> Axes:
    """Repeat purchases of a cohort per period, actual vs expected (a tracking plot).

    Draws ``actual_cumulative`` and ``expected_cumulative`` (or, with
    ``cumulative=False``, ``actual`` and ``expected`` per period) against the period
    number, with a dotted vertical line at the last period of the calibration period
    (the last row with ``in_calibration``; no line when there is none).

    Parameters
    ----------
    tracking : DataFrame
        Output of :func:`crmmodels.cltv.purchase_tracking`, indexed by period.
    cumulative : bool, default True
        Cumulative purchases (the paper's Figure 2) or purchases per period (its
        Figure 1).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes; ``ax.lines[0]`` is the actual series, ``ax.lines[1]`` the expected
        one, and ``ax.lines[2]`` (if any) the end of the calibration period.

    Raises
    ------
    DataValidationError
        ``tracking`` lacks one of the columns of ``purchase_tracking``
        (``frame="tracking"``, ``rule="required_column"``).
    InvalidParameterError
        ``cumulative`` is not a bool.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from crmmodels.cltv import plot_tracking
    >>> tracking = pd.DataFrame(
    ...     {"actual": [5.0, 8.0, 6.0], "expected": [5.5, 7.0, 6.5],
    ...      "actual_cumulative": [5.0, 13.0, 19.0],
    ...      "expected_cumulative": [5.5, 12.5, 19.0],
    ...      "in_calibration": [True, True, False]},
    ...     index=pd.Index([1, 2, 3], name="period"))
    >>> ax = plot_tracking(tracking)
    >>> ax.lines[0].get_ydata().tolist()
    [5.0, 13.0, 19.0]
    >>> plt.close(ax.figure)
    """
    if not isinstance(tracking, pd.DataFrame):
        raise DataValidationError(
            "tracking must be the DataFrame returned by crmmodels.cltv."
            f"purchase_tracking, got {type(tracking).__name__}",
            frame="tracking", rule="type")
    for column in _TRACKING_COLUMNS:
        if column not in tracking.columns:
            raise DataValidationError(
                f"tracking lacks the column {column!r}; build it with "
                "crmmodels.cltv.purchase_tracking",
                frame="tracking", column=column, rule="required_column")
    if not isinstance(cumulative, bool | np.bool_):
        raise InvalidParameterError(f"cumulative must be True or False, got {cumulative!r}")
    suffix = "_cumulative" if cumulative else ""
    periods = tracking.index.to_numpy(dtype=np.float64)
    ax = new_axes(ax)
    ax.plot(periods, tracking[f"actual{suffix}"].to_numpy(dtype=np.float64), label="actual")
    ax.plot(periods, tracking[f"expected{suffix}"].to_numpy(dtype=np.float64),
            linestyle="--", label="expected")
    in_calibration = tracking["in_calibration"].to_numpy(dtype=bool)
    if in_calibration.any():
        end = float(periods[np.flatnonzero(in_calibration)[-1]])
        ax.axvline(end, color="grey", linestyle=":", label="end of calibration")
    ax.set_xlabel("period")
    ax.set_ylabel("cumulative repeat purchases" if cumulative else "repeat purchases")
    ax.set_title("Tracking: cumulative repeat purchases" if cumulative
                 else "Tracking: repeat purchases per period")
    ax.legend()
    return ax


# ---------------------------------------------------------------------- retention
def plot_survival(model: _SurvivalModel, periods: Any, actual: Any = None,
                  ax: Axes | None = None) -> Axes:
    """Survivor curve of a contractual retention model, optionally against actuals.

    Draws ``model.survival(periods)``, the share of a cohort still customers after
    each number of renewal periods (e.g. of a
    :class:`~crmmodels.cltv.shifted_beta_geo.ShiftedBetaGeoModel`), and, when given,
    the actual shares as markers.

    Parameters
    ----------
    model : fitted retention model
        Anything with ``survival(t)``.
    periods : array of int
        Periods ``t >= 0`` at which to draw the curve, e.g. ``np.arange(13)``.
    actual : array of float, optional
        Actual survivor shares at the same periods (divide survivor counts by the
        cohort size); NaN where nothing was observed.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes; ``ax.lines[0]`` is the model, ``ax.lines[1]`` (if ``actual`` is
        given) the actual shares.

    Raises
    ------
    InvalidParameterError
        ``periods`` is empty, not one-dimensional or not whole numbers >= 0, or
        ``actual`` does not match it in length.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from crmmodels.cltv.shifted_beta_geo import (
    ...     ShiftedBetaGeoModel, retention_frame_from_survivors)
    >>> from crmmodels.cltv import plot_survival
    >>> regular = [1000, 631, 468, 382, 326, 289, 262, 241]
    >>> model = ShiftedBetaGeoModel().fit(retention_frame_from_survivors(regular))
    >>> ax = plot_survival(model, np.arange(8), actual=np.array(regular) / 1000)
    >>> ax.lines[0].get_ydata().round(3).tolist()[:3]
    [1.0, 0.627, 0.474]
    >>> plt.close(ax.figure)
    """
    _require_model("plot_survival", model, ("survival",),
                   kind="retention model such as ShiftedBetaGeoModel")
    try:
        t = np.asarray(periods, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidParameterError(f"periods must be whole numbers >= 0, got {periods!r}") \
            from err
    if t.ndim != 1 or len(t) == 0:
        raise InvalidParameterError("periods must be a non-empty one-dimensional sequence")
    if not (np.all(np.isfinite(t)) and np.all(t == np.round(t)) and np.all(t >= 0)):
        raise InvalidParameterError("periods must hold whole numbers >= 0")
    observed: np.ndarray | None = None
    if actual is not None:
        try:
            observed = np.asarray(actual, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise InvalidParameterError("actual must hold survivor shares (numbers)") from err
        if observed.shape != t.shape:
            raise InvalidParameterError(
                f"actual must have one share per period: got shape {observed.shape} for "
                f"{len(t)} periods")
    curve = np.asarray(model.survival(t), dtype=np.float64)
    ax = new_axes(ax)
    ax.plot(t, curve, label="model")
    if observed is not None:
        ax.plot(t, observed, marker="o", linestyle="none", color="black", label="actual")
    ax.set_xlabel("period")
    ax.set_ylabel("share of the cohort still active")
    ax.set_ylim(0.0, 1.05)
    ax.set_title("Survivor curve")
    ax.legend()
    return ax


# ---------------------------------------------------------------------- goodness of fit
def _calibration_counts(model: Any, data: CRMData | pd.DataFrame,
                        discrete: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return each row's repeat transactions, time observed and customers it stands for.

    ``CRMData`` is summarised as the model summarises it for ``fit`` (with its
    ``freq``; BG/BB counts whole opportunities); a summary frame is validated with
    :func:`crmmodels.data.validate_summary` (discrete for BG/BB).
    """
    if isinstance(data, CRMData):
        summary = customer_summary(data, freq=str(getattr(model, "freq", "D")))
        times = summary["T"].to_numpy(dtype=np.float64)
        return (summary["frequency"].to_numpy(dtype=np.float64),
                np.round(times) if discrete else times, np.ones(len(summary)))
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(
            "data must be the CRMData or the summary DataFrame the model was fitted on, "
            f"got {type(data).__name__}", frame="summary", rule="type")
    summary = validate_summary(data, discrete=discrete)
    weights = summary["n_customers"].to_numpy(dtype=np.float64) \
        if "n_customers" in summary.columns else np.ones(len(summary))
    return (summary["frequency"].to_numpy(dtype=np.float64),
            summary["n_periods" if discrete else "T"].to_numpy(dtype=np.float64), weights)


def period_transactions(model: _PurchaseCountModel | NaiveRateModel,
                        data: CRMData | pd.DataFrame, *,
                        max_frequency: int = 7) -> pd.DataFrame:
    """Count customers by repeat transactions in the calibration period: actual vs model.

    Counts the customers of ``data`` with ``0, 1, ..., max_frequency - 1`` and with
    ``max_frequency`` or more repeat transactions, and the number the fitted model
    expects: for each count ``k``, the sum over customers of the model's probability
    ``P(X(T) = k)`` that a new customer makes ``k`` repeat transactions in ``(0, T]``,
    at the customer's own age ``T`` (BG/BB: ``n_periods`` opportunities). The last
    group gets the rest, so the model column sums to the number of customers.

    This is exact: lifetimes' ``plot_period_transactions`` instead simulates one data
    set from the model, whose counts carry simulation noise.

    Parameters
    ----------
    model : fitted transaction model
        A model with ``probability_of_purchases(count, time)`` (BG/NBD, Pareto/NBD,
        MBG/NBD, BG/BB), or a :class:`~crmmodels.cltv.NaiveRateModel` (no dropout:
        its counts are negative binomial).
    data : CRMData or DataFrame
        The calibration data the model was fitted on: transactions (summarised with
        the model's ``freq``, as ``fit`` does) or the per-customer summary frame
        (``frequency``, ``recency``, ``T``, optionally ``n_customers``; BG/BB:
        ``n_periods``).
    max_frequency : int, default 7
        Counts from this one up are pooled into one group, ``"7+"``; at least 1.

    Returns
    -------
    DataFrame
        Indexed by ``frequency`` (``"0", "1", ..., "6", "7+"``), with columns
        ``actual`` (customers, int) and ``model`` (expected customers, float).

    Raises
    ------
    TypeError
        ``model`` is a class or has no ``probability_of_purchases``.
    NotFittedError
        ``model`` has not been fitted.
    InvalidParameterError
        ``max_frequency`` is not a whole number >= 1.
    DataValidationError
        ``data`` is neither ``CRMData`` nor a valid summary frame (see
        :func:`crmmodels.data.validate_summary`).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.cltv import BetaGeoModel, period_transactions
    >>> from crmmodels.data import calibration_holdout
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> split = calibration_holdout(load_cdnow_sample(), "1997-09-30", freq="D",
    ...                             freq_multiplier=7)
    >>> model = BetaGeoModel()  # Fader, Hardie & Lee (2005), fitted to these data
    >>> model.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> table = period_transactions(model, split[["frequency", "recency", "T"]])
    >>> table.round(1)
               actual   model
    frequency
    0            1411  1406.5
    1             439   460.8
    2             214   192.7
    3             100   101.3
    4              62    59.9
    5              38    38.2
    6              29    25.6
    7+             64    72.0
    >>> round(float(table["model"].sum()), 6)
    2357.0
    """
    _require_model("period_transactions", model, ("probability_of_purchases",))
    top = check_count(max_frequency, "max_frequency")
    if top < 1:
        raise InvalidParameterError(f"max_frequency must be a whole number >= 1, got {top!r}")
    discrete = bool(getattr(model, "_discrete_time", False))
    x, times, weights = _calibration_counts(model, data, discrete)
    groups = np.minimum(x, top).astype(np.int64)
    actual = np.bincount(groups, weights=weights, minlength=top + 1)
    # Customers share their age a lot: evaluate the model once per distinct age.
    ages, inverse = np.unique(times, return_inverse=True)
    customers = np.bincount(inverse.ravel(), weights=weights, minlength=len(ages))
    counts = np.arange(top, dtype=np.float64)
    probability = np.zeros((top, len(ages)))
    observed = ages > 0
    probability[0, ~observed] = 1.0  # no time observed, no repeat transaction
    if observed.any():
        probability[:, observed] = np.asarray(
            model.probability_of_purchases(counts[:, None], ages[None, observed]),
            dtype=np.float64)
    expected = probability @ customers
    total = float(customers.sum())
    expected = np.append(expected, max(total - float(expected.sum()), 0.0))
    labels = [str(k) for k in range(top)] + [f"{top}+"]
    return pd.DataFrame({"actual": np.rint(actual).astype(np.int64), "model": expected},
                        index=pd.Index(labels, name="frequency"))


def plot_period_transactions(model: _PurchaseCountModel | NaiveRateModel,
                             data: CRMData | pd.DataFrame, *, max_frequency: int = 7,
                             ax: Axes | None = None) -> Axes:
    """Bars of customers by repeat transactions in the calibration period, actual vs model.

    The goodness-of-fit figure of lifetimes' ``plot_period_transactions``, with the
    model's bars computed exactly rather than simulated: the values of
    :func:`period_transactions`, side by side per count ``0, 1, ...,
    max_frequency - 1`` and ``max_frequency+``.

    Parameters
    ----------
    model : fitted transaction model
        As for :func:`period_transactions` (BG/NBD, Pareto/NBD, MBG/NBD, BG/BB,
        :class:`~crmmodels.cltv.NaiveRateModel`).
    data : CRMData or DataFrame
        The calibration data the model was fitted on (see
        :func:`period_transactions`).
    max_frequency : int, default 7
        Counts from this one up are pooled into the last group; at least 1.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes; ``ax.containers[0]`` holds the ``actual`` bars and
        ``ax.containers[1]`` the ``model`` bars, at x positions ``0, 1, ...``
        labelled with the groups.

    Raises
    ------
    TypeError, NotFittedError, InvalidParameterError, DataValidationError
        As :func:`period_transactions`.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from crmmodels.cltv import ParetoNBDModel, plot_period_transactions
    >>> from crmmodels.data import calibration_holdout
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> split = calibration_holdout(load_cdnow_sample(), "1997-09-30", freq="D",
    ...                             freq_multiplier=7)
    >>> summary = split[["frequency", "recency", "T"]]
    >>> model = ParetoNBDModel().fit(summary)
    >>> ax = plot_period_transactions(model, summary)
    >>> [tick.get_text() for tick in ax.get_xticklabels()]
    ['0', '1', '2', '3', '4', '5', '6', '7+']
    >>> [int(bar.get_height()) for bar in ax.containers[0]]  # actual customers
    [1411, 439, 214, 100, 62, 38, 29, 64]
    >>> plt.close(ax.figure)
    """
    table = period_transactions(model, data, max_frequency=max_frequency)
    positions = np.arange(len(table), dtype=np.float64)
    ax = new_axes(ax)
    ax.bar(positions - 0.2, table["actual"].to_numpy(dtype=np.float64), width=0.4,
           label="actual")
    ax.bar(positions + 0.2, table["model"].to_numpy(dtype=np.float64), width=0.4,
           label="model")
    ax.set_xticks(positions, [str(label) for label in table.index])
    ax.set_xlabel("repeat transactions in the calibration period")
    ax.set_ylabel("customers")
    ax.set_title("Frequency of repeat transactions")
    ax.legend()
    return ax


# ---------------------------------------------------------------------- segments


# ---------------------------------------------------------------------- association rules


# ---------------------------------------------------------------- propensity models


