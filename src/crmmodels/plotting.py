"""Matplotlib figures for customer-lifetime-value work.

matplotlib is an optional dependency (``pip install crmmodels[plot]``): it is imported
inside each function, so ``import crmmodels.plotting`` works without it. Every function
draws on ``ax`` when given, otherwise on a new figure, and returns the
:class:`matplotlib.axes.Axes`; none of them calls ``plt.show()``.

* :func:`plot_frequency_recency_matrix` and :func:`plot_probability_alive_matrix`:
  heat maps of a transaction model's predictions over a grid of frequency x recency;
* :func:`plot_holdout_by_frequency`: mean actual vs predicted holdout purchases by
  calibration frequency (the "conditional expectations" figure of Fader, Hardie & Lee
  2005), from :func:`crmmodels.evaluation.holdout_comparison`;
* :func:`plot_tracking`: the cohort's repeat purchases per period, actual vs expected,
  from :func:`crmmodels.evaluation.purchase_tracking`;
* :func:`plot_survival`: the survivor curve of the shifted-beta-geometric model
  (Fader & Hardie 2007), with optional actual survivor shares;
* :func:`top_rules` (a table) and :func:`plot_rule_network` (a network chart): the
  best rules of :class:`crmmodels.association.AssociationRulesModel`;
* :func:`plot_gains`, :func:`plot_lift` and :func:`plot_calibration`: propensity scores
  (churn, fraud);
* :func:`plot_cost_curve` and :func:`plot_card_precision`: fraud alerts.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
import pandas as pd

from crmmodels.errors import DataValidationError, InvalidParameterError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.evaluation import HoldoutResult

__all__ = [
    "plot_calibration",
    "plot_card_precision",
    "plot_cost_curve",
    "plot_frequency_recency_matrix",
    "plot_gains",
    "plot_holdout_by_frequency",
    "plot_lift",
    "plot_pareto_curve",
    "plot_probability_alive_matrix",
    "plot_rfm_heatmap",
    "plot_rule_network",
    "plot_segment_summary",
    "plot_survival",
    "plot_tracking",
    "plot_transition_matrix",
    "top_rules",
]

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


# ---------------------------------------------------------------------- helpers
def _new_axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure().add_subplot()


def _is_number(v: object) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(
        v, bool | np.bool_) and bool(np.isfinite(v))


def _check_count(value: object, name: str) -> int:
    if not (isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
            and value >= 0):
        raise InvalidParameterError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(value)


def _check_positive(value: object, name: str) -> float:
    if not (_is_number(value) and float(value) > 0):  # type: ignore[arg-type]
        raise InvalidParameterError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def _grid(max_frequency: int | None, max_recency: float | None,
          T: float | None) -> tuple[np.ndarray, np.ndarray, float]:  # noqa: N803
    """Validate the grid arguments; return frequencies, recencies and the age T."""
    max_f = DEFAULT_MAX_FREQUENCY if max_frequency is None \
        else _check_count(max_frequency, "max_frequency")
    if max_recency is not None and not (_is_number(max_recency) and max_recency >= 0):
        raise InvalidParameterError(
            f"max_recency must be a finite number >= 0, got {max_recency!r}")
    if T is None:
        age = float(max_recency) if max_recency is not None and max_recency > 0 else DEFAULT_T
    else:
        age = _check_positive(T, "T")
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
    >>> from crmmodels.plotting import plot_frequency_recency_matrix
    >>> model = BetaGeoModel()
    >>> model.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> ax = plot_frequency_recency_matrix(model, max_frequency=10, T=39, t=52)
    >>> ax.images[0].get_array().shape  # frequencies 0-10 x recencies 0-39
    (11, 40)
    >>> plt.close(ax.figure)
    """
    horizon = _check_positive(t, "t")
    frequencies, recencies, age = _grid(max_frequency, max_recency, T)
    values = _matrix(
        lambda x, tx: model.conditional_expected_purchases(horizon, x, tx, age),
        frequencies, recencies, discrete=bool(getattr(model, "_discrete_time", False)))
    ax = _new_axes(ax)
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
    >>> from crmmodels.plotting import plot_probability_alive_matrix
    >>> model = BetaGeoModel()
    >>> model.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> ax = plot_probability_alive_matrix(model, max_frequency=10, T=39)
    >>> p = ax.images[0].get_array()
    >>> bool(p.min() >= 0 and p.max() <= 1)
    True
    >>> plt.close(ax.figure)
    """
    frequencies, recencies, age = _grid(max_frequency, max_recency, T)
    values = _matrix(lambda x, tx: model.conditional_probability_alive(x, tx, age),
                     frequencies, recencies,
                     discrete=bool(getattr(model, "_discrete_time", False)))
    ax = _new_axes(ax)
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
        Output of :func:`crmmodels.evaluation.holdout_comparison`.
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
    >>> from crmmodels.evaluation import holdout_comparison
    >>> from crmmodels.features import calibration_holdout
    >>> from crmmodels.plotting import plot_holdout_by_frequency
    >>> split = calibration_holdout(load_cdnow_sample(), "1997-09-30", "1998-06-30",
    ...                             freq="D", freq_multiplier=7)
    >>> model = BetaGeoModel().fit(split[["frequency", "recency", "T"]])
    >>> ax = plot_holdout_by_frequency(holdout_comparison(model, split))
    >>> [tick.get_text() for tick in ax.get_xticklabels()]
    ['0', '1', '2', '3', '4', '5', '6', '7+']
    >>> plt.close(ax.figure)
    """
    table = result.by_frequency(_check_count(max_frequency, "max_frequency"))
    positions = np.arange(len(table), dtype=np.float64)
    ax = _new_axes(ax)
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
        Output of :func:`crmmodels.evaluation.purchase_tracking`, indexed by period.
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
    >>> from crmmodels.plotting import plot_tracking
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
            "tracking must be the DataFrame returned by crmmodels.evaluation."
            f"purchase_tracking, got {type(tracking).__name__}",
            frame="tracking", rule="type")
    for column in _TRACKING_COLUMNS:
        if column not in tracking.columns:
            raise DataValidationError(
                f"tracking lacks the column {column!r}; build it with "
                "crmmodels.evaluation.purchase_tracking",
                frame="tracking", column=column, rule="required_column")
    if not isinstance(cumulative, bool | np.bool_):
        raise InvalidParameterError(f"cumulative must be True or False, got {cumulative!r}")
    suffix = "_cumulative" if cumulative else ""
    periods = tracking.index.to_numpy(dtype=np.float64)
    ax = _new_axes(ax)
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
    >>> from crmmodels.plotting import plot_survival
    >>> regular = [1000, 631, 468, 382, 326, 289, 262, 241]
    >>> model = ShiftedBetaGeoModel().fit(retention_frame_from_survivors(regular))
    >>> ax = plot_survival(model, np.arange(8), actual=np.array(regular) / 1000)
    >>> ax.lines[0].get_ydata().round(3).tolist()[:3]
    [1.0, 0.627, 0.474]
    >>> plt.close(ax.figure)
    """
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
    ax = _new_axes(ax)
    ax.plot(t, curve, label="model")
    if observed is not None:
        ax.plot(t, observed, marker="o", linestyle="none", color="black", label="actual")
    ax.set_xlabel("period")
    ax.set_ylabel("share of the cohort still active")
    ax.set_ylim(0.0, 1.05)
    ax.set_title("Survivor curve")
    ax.legend()
    return ax


# ---------------------------------------------------------------------- segments
def _check_frame(frame: object, name: str, source: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError(
            f"{name} must be the DataFrame returned by {source}, got {type(frame).__name__}",
            frame=name, rule="type")
    if len(frame) == 0:
        raise DataValidationError(f"{name} is empty: there is nothing to draw",
                                  frame=name, rule="non_empty")
    return frame


def _check_column_name(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidParameterError(f"{name} must be a column name (a string), got {value!r}")
    return value


def _require_columns(frame: pd.DataFrame, name: str, columns: tuple[str, ...],
                     source: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise DataValidationError(
                f"{name} lacks the column {column!r} (have {[str(c) for c in frame.columns]!r});"
                f" build it with {source}",
                frame=name, column=column, rule="required_column")


def _numeric_column(frame: pd.DataFrame, name: str, column: str,
                    non_negative: bool = False) -> np.ndarray:
    raw = frame[column]
    if not pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        raise DataValidationError(f"{name} column {column!r} must be numeric, got {raw.dtype}",
                                  frame=name, column=column, rule="numeric")
    values = raw.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if non_negative:
        bad |= values < 0
    if bad.any():
        what = "finite numbers >= 0" if non_negative else "finite numbers"
        raise DataValidationError(
            f"{name} column {column!r} must hold {what}",
            frame=name, column=column, rule="non_negative" if non_negative else "not_missing",
            rows=frame.index[bad].tolist(), n_rows=int(bad.sum()))
    return values


def _score_levels(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Validate a score column (whole numbers >= 1); return its values as int64."""
    values = _numeric_column(frame, "scores", column)
    bad = (values != np.round(values)) | (values < 1)
    if bad.any():
        raise DataValidationError(
            f"scores column {column!r} must hold whole-number scores >= 1",
            frame="scores", column=column, rule="score",
            rows=frame.index[bad].tolist(), n_rows=int(bad.sum()))
    return values.astype(np.int64)


def _format_cell(value: float, fmt: str) -> str:
    if fmt == "count":
        return f"{value:.0f}"
    if fmt == "share":
        return f"{value:.0%}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _annotated_image(ax: Axes, values: np.ndarray, rows: list[str], columns: list[str],
                     origin: Literal["upper", "lower"], fmt: str, label: str,
                     vmin: float | None = None, vmax: float | None = None) -> None:
    """Draw ``values`` (rows x columns) as an image with one text per non-NaN cell."""
    image = ax.imshow(np.ma.masked_invalid(values), origin=origin, aspect="auto",
                      interpolation="nearest", cmap="viridis", vmin=vmin, vmax=vmax)
    ax.figure.colorbar(image, ax=ax, label=label)
    ax.set_xticks(np.arange(len(columns), dtype=np.float64), columns)
    ax.set_yticks(np.arange(len(rows), dtype=np.float64), rows)
    finite = np.isfinite(values)
    low = float(values[finite].min()) if vmin is None and finite.any() else (vmin or 0.0)
    high = float(values[finite].max()) if vmax is None and finite.any() else (vmax or 1.0)
    for i, j in zip(*np.nonzero(finite), strict=True):
        value = float(values[i, j])
        dark = value - low < 0.5 * (high - low)  # light text on the dark end of viridis
        ax.text(float(j), float(i), _format_cell(value, fmt), ha="center", va="center",
                fontsize="small", color="white" if dark else "black")


def plot_rfm_heatmap(scores: pd.DataFrame, value: str = "monetary",
                     ax: Axes | None = None) -> Axes:
    """Heat map of the RFM grid: recency score x frequency score, annotated.

    Rows are ``r_score`` ``1, ..., max`` (bottom to top, so the most recent customers
    are at the top), columns ``f_score`` ``1, ..., max`` (left to right), each up to
    the largest score present. A cell is coloured by the mean of the column ``value``
    over its customers, or by the number of customers with ``value="count"``, and
    shows that number. Cells without customers are empty (mean) or 0 (count); with
    quantile edges on tied data some scores are never given (see
    :class:`~crmmodels.rfm.RFMModel`), so whole rows or columns may be empty.

    Parameters
    ----------
    scores : DataFrame
        Output of :meth:`crmmodels.rfm.RFMModel.score`: one row per customer with
        ``r_score``, ``f_score`` and the ``value`` column.
    value : str, default "monetary"
        ``"count"`` (customers per cell) or the name of a numeric column of
        ``scores`` to average per cell, e.g. ``"monetary"``, ``"frequency"``,
        ``"recency"``.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, holding one image (``ax.images[0]``, row ``i`` = ``r_score`` ``i + 1``,
        column ``j`` = ``f_score`` ``j + 1``), a colour bar and one text per non-empty
        cell.

    Raises
    ------
    DataValidationError
        ``scores`` is not a non-empty DataFrame, lacks ``r_score``, ``f_score`` or the
        ``value`` column (``rule="required_column"``), or holds invalid scores or
        non-numeric / missing values.
    InvalidParameterError
        ``value`` is not a string.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> from crmmodels.plotting import plot_rfm_heatmap
    >>> from crmmodels.rfm import RFMModel
    >>> data = load_cdnow_sample()
    >>> scores = RFMModel().fit(data).score(data)
    >>> ax = plot_rfm_heatmap(scores, value="count")
    >>> counts = ax.images[0].get_array()
    >>> counts.shape, int(counts.sum()) == len(scores)
    ((5, 5), True)
    >>> plt.close(ax.figure)
    """
    value = _check_column_name(value, "value")
    frame = _check_frame(scores, "scores", "crmmodels.rfm.RFMModel.score")
    needed = ("r_score", "f_score") if value == "count" else ("r_score", "f_score", value)
    _require_columns(frame, "scores", needed, "crmmodels.rfm.RFMModel.score")
    r = _score_levels(frame, "r_score")
    f = _score_levels(frame, "f_score")
    n_r, n_f = int(r.max()), int(f.max())
    counts = np.zeros((n_r, n_f), dtype=np.float64)
    np.add.at(counts, (r - 1, f - 1), 1.0)
    if value == "count":
        values = counts
        label, fmt = "customers", "count"
    else:
        x = _numeric_column(frame, "scores", value)
        sums = np.zeros((n_r, n_f), dtype=np.float64)
        np.add.at(sums, (r - 1, f - 1), x)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(counts > 0, sums / counts, np.nan)
        label, fmt = f"mean {value}", "value"
    ax = _new_axes(ax)
    _annotated_image(ax, values, [str(k) for k in range(1, n_r + 1)],
                     [str(k) for k in range(1, n_f + 1)], origin="lower", fmt=fmt,
                     label=label)
    ax.set_xlabel("f_score (frequency)")
    ax.set_ylabel("r_score (recency)")
    ax.set_title("Customers per RFM cell" if value == "count"
                 else f"Mean {value} per RFM cell")
    return ax


def plot_segment_summary(scores: pd.DataFrame, segment_column: str = "segment",
                         value_column: str = "monetary", ax: Axes | None = None) -> Axes:
    """Share of customers next to share of revenue per segment, as horizontal bars.

    For every segment: the share of all customers in it and the share of the total of
    ``value_column`` they hold, as two bars side by side. Segments are sorted by
    revenue share, the largest at the top. A segment holding far more revenue than
    customers (e.g. "Champions") is where the value is concentrated.

    Parameters
    ----------
    scores : DataFrame
        One row per customer, e.g. the output of :meth:`crmmodels.rfm.RFMModel.score`.
    segment_column : str, default "segment"
        Column with the segment of each customer.
    value_column : str, default "monetary"
        Numeric column with each customer's revenue. For an
        :class:`~crmmodels.rfm.RFMModel` this is the total spend only with
        ``monetary="sum"`` (the default). Values must be finite and their total
        positive.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes; ``ax.containers[0]`` holds the customer-share bars (label
        ``"customers"``) and ``ax.containers[1]`` the revenue-share bars (label
        ``"revenue"``), one per segment in the order of the y tick labels (top to
        bottom, decreasing revenue share); the shares are the bar widths.

    Raises
    ------
    DataValidationError
        ``scores`` is not a non-empty DataFrame or lacks either column
        (``rule="required_column"``), the segments have missing values, or the values
        are not finite numbers with a positive total.
    InvalidParameterError
        A column name is not a string.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from crmmodels.plotting import plot_segment_summary
    >>> scores = pd.DataFrame({"segment": ["gold", "gold", "basic", "basic", "basic"],
    ...                        "monetary": [300.0, 100.0, 40.0, 30.0, 30.0]})
    >>> ax = plot_segment_summary(scores)
    >>> [tick.get_text() for tick in ax.get_yticklabels()]
    ['gold', 'basic']
    >>> [round(float(bar.get_width()), 2) for bar in ax.containers[1]]
    [0.8, 0.2]
    >>> plt.close(ax.figure)
    """
    segment_column = _check_column_name(segment_column, "segment_column")
    value_column = _check_column_name(value_column, "value_column")
    frame = _check_frame(scores, "scores", "crmmodels.rfm.RFMModel.score")
    _require_columns(frame, "scores", (segment_column, value_column),
                     "crmmodels.rfm.RFMModel.score")
    segments = frame[segment_column]
    missing = segments.isna().to_numpy(dtype=bool)
    if missing.any():
        raise DataValidationError(
            f"scores column {segment_column!r} has missing segments",
            frame="scores", column=segment_column, rule="not_missing",
            rows=frame.index[missing].tolist(), n_rows=int(missing.sum()))
    values = _numeric_column(frame, "scores", value_column)
    total = float(values.sum())
    if not total > 0:
        raise DataValidationError(
            f"scores column {value_column!r} must have a positive total to split into "
            f"shares, got {total!r}", frame="scores", column=value_column,
            rule="positive_total")
    keys = segments.astype(str).to_numpy(dtype=object)
    table = pd.DataFrame({"segment": keys, "value": values}).groupby("segment").agg(
        customers=("value", "size"), value=("value", "sum"))
    table["customer_share"] = table["customers"] / len(frame)
    table["value_share"] = table["value"] / total
    table = table.sort_values(["value_share", "customer_share"], ascending=False,
                              kind="stable")
    positions = np.arange(len(table), dtype=np.float64)
    height = 0.4
    ax = _new_axes(ax)
    ax.barh(positions - height / 2, table["customer_share"].to_numpy(dtype=np.float64),
            height=height, label="customers")
    ax.barh(positions + height / 2, table["value_share"].to_numpy(dtype=np.float64),
            height=height, label="revenue")
    ax.set_yticks(positions, [str(s) for s in table.index])
    ax.set_ylim(len(table) - 0.5, -0.5)  # first (largest revenue share) at the top
    ax.set_xlabel("share")
    ax.set_title(f"Share of customers and of {value_column} per segment")
    ax.legend(loc="lower right")
    return ax


def plot_pareto_curve(abc_scores: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Pareto (ABC) curve: cumulative share of value vs share of customers.

    Customers are ranked by ``value``, highest first; the curve goes through
    ``(k / n, (sum of the k highest values) / total)`` for ``k = 0, ..., n``, from
    ``(0, 0)`` to ``(1, 1)``. The diagonal (every customer worth the same) is drawn
    for reference, and a dashed vertical line marks the end of each tier but the
    last (in the ranking, from the ``tier`` column), with each tier's share of
    customers and of value written above it. The further the curve bows above the
    diagonal, the more concentrated the value (see :attr:`ABCModel.gini_
    <crmmodels.segments.ABCModel>`).

    Parameters
    ----------
    abc_scores : DataFrame
        Output of :meth:`crmmodels.segments.ABCModel.score`: one row per customer with
        ``value`` (finite, >= 0, positive total) and ``tier``.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes; ``ax.lines[0]`` is the curve (label ``"cumulative value"``),
        ``ax.lines[1]`` the diagonal (label ``"equal value"``), and the following
        lines the tier boundaries (labels such as ``"end of tier A"``).

    Raises
    ------
    DataValidationError
        ``abc_scores`` is not a non-empty DataFrame, lacks ``value`` or ``tier``
        (``rule="required_column"``), has missing tiers, or its values are not finite
        numbers >= 0 with a positive total.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from crmmodels.plotting import plot_pareto_curve
    >>> from crmmodels.segments import ABCModel
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "b", "c", "d", "e"],
    ...     "timestamp": pd.to_datetime(["2024-01-01"] * 5),
    ...     "amount": [70.0, 12.0, 10.0, 5.0, 3.0],
    ... })
    >>> ax = plot_pareto_curve(ABCModel().fit(tx).score(tx))
    >>> ax.lines[0].get_ydata().tolist()
    [0.0, 0.7, 0.82, 0.92, 0.97, 1.0]
    >>> [line.get_label() for line in ax.lines[2:]]
    ['end of tier A', 'end of tier B']
    >>> plt.close(ax.figure)
    """
    frame = _check_frame(abc_scores, "abc_scores", "crmmodels.segments.ABCModel.score")
    _require_columns(frame, "abc_scores", ("value", "tier"),
                     "crmmodels.segments.ABCModel.score")
    values = _numeric_column(frame, "abc_scores", "value", non_negative=True)
    total = float(values.sum())
    if not total > 0:
        raise DataValidationError("abc_scores needs a positive total value",
                                  frame="abc_scores", column="value", rule="positive_total")
    tiers = frame["tier"]
    missing = tiers.isna().to_numpy(dtype=bool)
    if missing.any():
        raise DataValidationError("abc_scores column 'tier' has missing tiers",
                                  frame="abc_scores", column="tier", rule="not_missing",
                                  rows=frame.index[missing].tolist(), n_rows=int(missing.sum()))
    # Highest value first; equal values by tier name so that each tier is one run.
    ranked = pd.DataFrame({"value": values, "tier": tiers.astype(str).to_numpy(dtype=object)})
    ranked = ranked.sort_values(["value", "tier"], ascending=[False, True], kind="stable")
    n = len(ranked)
    x = np.arange(n + 1, dtype=np.float64) / n
    y = np.concatenate(([0.0], np.cumsum(ranked["value"].to_numpy(dtype=np.float64)) / total))
    y[-1] = 1.0  # exact end despite rounding in the sum
    ax = _new_axes(ax)
    ax.plot(x, y, label="cumulative value")
    ax.plot([0.0, 1.0], [0.0, 1.0], color="grey", linestyle=":", label="equal value")
    labels = ranked["tier"].to_numpy(dtype=object)
    starts = np.flatnonzero(np.concatenate(([True], labels[1:] != labels[:-1])))
    ends = np.append(starts[1:], n)
    for k, (start, end) in enumerate(zip(starts, ends, strict=True)):
        name = str(labels[start])
        if k < len(starts) - 1:
            ax.axvline(float(x[end]), color="grey", linestyle="--",
                       label=f"end of tier {name}")
        ax.text(float(x[start] + x[end]) / 2, 1.02,
                f"{name}\n{(end - start) / n:.0%} / {y[end] - y[start]:.0%}",
                ha="center", va="bottom", fontsize="small")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.15)
    ax.set_xlabel("share of customers, ranked by value")
    ax.set_ylabel("cumulative share of value")
    ax.set_title("Pareto curve (tier: share of customers / share of value)", pad=28)
    ax.legend(loc="lower right")
    return ax


def plot_transition_matrix(matrix: pd.DataFrame, normalize: bool = True,
                           ax: Axes | None = None) -> Axes:
    """Heat map of a lifecycle transition matrix, annotated.

    Rows are the stages at the first date (top to bottom), columns the stages at the
    second one, as returned by :meth:`crmmodels.segments.LifecycleModel.transitions`.
    With ``normalize=True`` each row is divided by its total, so a cell is the share
    of the customers in the row's stage who moved to the column's stage (rows without
    customers stay empty; colour scale 0-1); otherwise the counts are drawn.

    Parameters
    ----------
    matrix : DataFrame
        Counts (finite numbers >= 0), rows = stage at ``t1``, columns = stage at
        ``t2``.
    normalize : bool, default True
        Draw row shares instead of counts.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, holding one image (``ax.images[0]``, same layout as ``matrix``), a
        colour bar and one text per non-empty cell.

    Raises
    ------
    DataValidationError
        ``matrix`` is not a non-empty DataFrame or holds values that are not finite
        numbers >= 0.
    InvalidParameterError
        ``normalize`` is not a bool.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from crmmodels.plotting import plot_transition_matrix
    >>> matrix = pd.DataFrame([[6, 2], [1, 3]], index=["active", "lapsed"],
    ...                       columns=["active", "lapsed"])
    >>> ax = plot_transition_matrix(matrix)
    >>> ax.images[0].get_array().tolist()
    [[0.75, 0.25], [0.25, 0.75]]
    >>> plt.close(ax.figure)
    """
    if not isinstance(normalize, bool | np.bool_):
        raise InvalidParameterError(f"normalize must be True or False, got {normalize!r}")
    frame = _check_frame(matrix, "matrix",
                         "crmmodels.segments.LifecycleModel.transitions")
    if frame.shape[1] == 0:
        raise DataValidationError("matrix has no columns: there is nothing to draw",
                                  frame="matrix", rule="non_empty")
    for column in frame.columns:
        _numeric_column(frame, "matrix", column, non_negative=True)
    counts = frame.to_numpy(dtype=np.float64)
    if normalize:
        totals = counts.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(totals > 0, counts / totals, np.nan)
    else:
        values = counts
    row_name = frame.index.name or "stage at t1"
    column_name = frame.columns.name or "stage at t2"
    ax = _new_axes(ax)
    _annotated_image(ax, values, [str(r) for r in frame.index],
                     [str(c) for c in frame.columns], origin="upper",
                     fmt="share" if normalize else "count",
                     label="share of the row" if normalize else "customers",
                     vmin=0.0 if normalize else None, vmax=1.0 if normalize else None)
    ax.tick_params(axis="x", labelrotation=45)
    ax.set_ylabel(f"{row_name}")
    ax.set_xlabel(f"{column_name}")
    ax.set_title("Stage transitions (row shares)" if normalize else "Stage transitions")
    return ax


# ---------------------------------------------------------------------- association rules
_RULE_SOURCE = "crmmodels.association.AssociationRulesModel (its rules_ attribute)"
_RULE_SORT_KEYS = ("lift", "confidence", "support", "leverage", "conviction",
                   "zhangs_metric", "jaccard", "certainty", "kulczynski")


def _rule_side(value: object, column: str, label: Any) -> list[str]:
    """Return the items of one side of a rule, as sorted strings."""
    if not isinstance(value, frozenset | set | list | tuple) or len(value) == 0:
        raise DataValidationError(
            f"rules column {column!r} must hold non-empty sets of items, got {value!r}",
            frame="rules", column=column, rule="itemset", rows=[label], n_rows=1)
    return sorted(str(item) for item in value)


def _ranked_rules(rules: pd.DataFrame, n: int, by: str
                  ) -> tuple[pd.DataFrame, list[list[str]], list[list[str]]]:
    """Validate ``rules``; return the top ``n`` (with a ``rule`` text) and their sides."""
    if not isinstance(by, str) or by not in _RULE_SORT_KEYS:
        raise InvalidParameterError(f"by must be one of {list(_RULE_SORT_KEYS)!r}, got {by!r}")
    if not (isinstance(n, int | np.integer) and not isinstance(n, bool | np.bool_) and n >= 1):
        raise InvalidParameterError(f"n must be a whole number >= 1, got {n!r}")
    frame = _check_frame(rules, "rules", _RULE_SOURCE)
    needed = ("antecedents", "consequents", "support", "confidence", "lift")
    _require_columns(frame, "rules", needed if by in needed else (*needed, by), _RULE_SOURCE)
    support = _numeric_column(frame, "rules", "support", non_negative=True)
    confidence = _numeric_column(frame, "rules", "confidence", non_negative=True)
    lift = _numeric_column(frame, "rules", "lift", non_negative=True)
    raw = frame[by]
    if not pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        raise DataValidationError(f"rules column {by!r} must be numeric, got {raw.dtype}",
                                  frame="rules", column=by, rule="numeric")
    key = raw.to_numpy(dtype=np.float64, na_value=np.nan)  # conviction may be inf
    if np.isnan(key).any():
        raise DataValidationError(f"rules column {by!r} must not hold missing values",
                                  frame="rules", column=by, rule="not_missing",
                                  rows=frame.index[np.isnan(key)].tolist(),
                                  n_rows=int(np.isnan(key).sum()))
    antecedents = [_rule_side(v, "antecedents", i)
                   for i, v in zip(frame.index, frame["antecedents"], strict=True)]
    consequents = [_rule_side(v, "consequents", i)
                   for i, v in zip(frame.index, frame["consequents"], strict=True)]
    text = [f"{' + '.join(a)} -> {' + '.join(c)}"
            for a, c in zip(antecedents, consequents, strict=True)]
    table = pd.DataFrame({"rule": text, "support": support, "confidence": confidence,
                          "lift": lift})
    if by not in table.columns:
        table[by] = key
    order = pd.DataFrame({"key": key, "confidence": confidence, "lift": lift, "rule": text})
    ranked = order.sort_values(["key", "confidence", "lift", "rule"],
                               ascending=[False, False, False, True], kind="mergesort")
    top = ranked.index.to_numpy()[:int(n)]
    return (table.iloc[top].reset_index(drop=True), [antecedents[i] for i in top],
            [consequents[i] for i in top])


def top_rules(rules: pd.DataFrame, n: int = 10, by: str = "lift") -> pd.DataFrame:
    """Tabulate the ``n`` best association rules, readably.

    Rules are sorted by ``by`` (descending), ties broken by confidence, then lift
    (both descending), then the rule text. Each side of a rule is written as its items
    sorted and joined by ``" + "``, e.g. ``"liquor + red/blush wine -> bottled beer"``.

    Parameters
    ----------
    rules : DataFrame
        :attr:`crmmodels.association.AssociationRulesModel.rules_`: ``antecedents`` and
        ``consequents`` (sets of items), ``support``, ``confidence``, ``lift`` and the
        ``by`` column.
    n : int, default 10
        How many rules to keep (>= 1); fewer when ``rules`` has fewer rows.
    by : str, default "lift"
        The metric to rank by: one of ``"lift"``, ``"confidence"``, ``"support"``,
        ``"leverage"``, ``"conviction"``, ``"zhangs_metric"``, ``"jaccard"``,
        ``"certainty"``, ``"kulczynski"``.

    Returns
    -------
    DataFrame
        One row per rule, best first (index ``0, ..., n - 1``), with columns ``rule``,
        ``support``, ``confidence``, ``lift`` and, when it is another metric, ``by``.

    Raises
    ------
    DataValidationError
        ``rules`` is not a non-empty DataFrame, lacks a needed column
        (``rule="required_column"``), holds non-numeric or missing metrics or a side
        that is not a non-empty set of items.
    InvalidParameterError
        ``n`` is not a whole number >= 1 or ``by`` is not a known metric.

    Examples
    --------
    >>> from crmmodels.association import AssociationRulesModel
    >>> from crmmodels.plotting import top_rules
    >>> baskets = [["milk", "bread"], ["milk", "bread", "eggs"], ["milk"], ["bread"],
    ...            ["bread", "eggs"]]
    >>> model = AssociationRulesModel(min_support=0.2, min_confidence=0.6).fit(baskets)
    >>> top_rules(model.rules_, n=3).round(3)
                       rule  support  confidence   lift
    0  eggs + milk -> bread      0.2       1.000  1.250
    1         eggs -> bread      0.4       1.000  1.250
    2         milk -> bread      0.4       0.667  0.833
    """
    table, _, _ = _ranked_rules(rules, n, by)
    return table


def plot_rule_network(rules: pd.DataFrame, n: int = 30, by: str = "lift",
                      ax: Axes | None = None) -> Axes:
    """Network ("spider-web") chart of the ``n`` best association rules.

    The rules are ranked as by :func:`top_rules`. Every distinct item of those rules is
    a node; every (antecedent item, consequent item) pair of a rule is one directed
    edge (an arrow), so a rule ``{a, b} -> {c}`` draws ``a -> c`` and ``b -> c``. A
    pair shared by several rules is drawn once, with the lift and confidence of the
    best-ranked of them. Edge width is proportional to lift, edge colour shows
    confidence (colour bar). Node area grows with the item's support where the rules
    tell it (the ``antecedent support`` / ``consequent support`` of rules whose side is
    that single item, looked up over all of ``rules``); items of unknown support get
    the smallest size. Nodes sit on a circle, by decreasing degree (number of edges)
    then name, clockwise from the top; the layout is deterministic.

    Parameters
    ----------
    rules : DataFrame
        :attr:`crmmodels.association.AssociationRulesModel.rules_`, as for
        :func:`top_rules`.
    n : int, default 30
        How many of the best rules to draw (>= 1).
    by : str, default "lift"
        The metric to rank the rules by (see :func:`top_rules`).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, holding the nodes as one scatter (``ax.collections[0]``, one point per
        item), one text label per item (``ax.texts``, in circle order), one arrow per
        edge (``ax.patches``; each a ``FancyArrowPatch`` labelled ``"a -> c"``, its
        line width proportional to lift) and a colour bar for confidence.

    Raises
    ------
    DataValidationError
        As :func:`top_rules`.
    InvalidParameterError
        As :func:`top_rules`.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from crmmodels.association import AssociationRulesModel
    >>> from crmmodels.plotting import plot_rule_network
    >>> baskets = [["milk", "bread"], ["milk", "bread", "eggs"], ["milk"], ["bread"],
    ...            ["bread", "eggs"]]
    >>> model = AssociationRulesModel(min_support=0.2, min_confidence=0.6).fit(baskets)
    >>> ax = plot_rule_network(model.rules_, n=3)
    >>> sorted(t.get_text() for t in ax.texts)
    ['bread', 'eggs', 'milk']
    >>> sorted(p.get_label() for p in ax.patches)  # eggs + milk -> bread gives two
    ['eggs -> bread', 'milk -> bread']
    >>> plt.close(ax.figure)
    """
    import matplotlib as mpl
    from matplotlib.patches import FancyArrowPatch

    table, antecedents, consequents = _ranked_rules(rules, n, by)
    edges: dict[tuple[str, str], tuple[float, float]] = {}
    for k, (ante, cons) in enumerate(zip(antecedents, consequents, strict=True)):
        for a in ante:
            for c in cons:
                edges.setdefault((a, c), (float(table["lift"].iloc[k]),
                                          float(table["confidence"].iloc[k])))
    degree: dict[str, int] = {}
    for a, c in edges:
        degree[a] = degree.get(a, 0) + 1
        degree[c] = degree.get(c, 0) + 1
    nodes = sorted(degree, key=lambda item: (-degree[item], item))
    angles = np.pi / 2 - 2 * np.pi * np.arange(len(nodes)) / len(nodes)
    position = {item: (float(np.cos(t)), float(np.sin(t)))
                for item, t in zip(nodes, angles, strict=True)}

    item_support: dict[str, float] = {}
    for side, column in (("antecedents", "antecedent support"),
                         ("consequents", "consequent support")):
        if column not in rules.columns or not pd.api.types.is_numeric_dtype(rules[column]):
            continue
        for items, value in zip(rules[side], rules[column], strict=True):
            if len(items) == 1 and np.isfinite(value) and value >= 0:
                item_support.setdefault(str(next(iter(items))), float(value))
    known = [item_support[item] for item in nodes if item in item_support]
    top_support = max(known) if known and max(known) > 0 else 1.0
    sizes = np.array([100.0 + 900.0 * item_support.get(item, 0.0) / top_support
                      for item in nodes])

    ax = _new_axes(ax)
    lifts = np.array([v[0] for v in edges.values()])
    confidences = np.array([v[1] for v in edges.values()])
    max_lift = float(lifts.max()) if lifts.max() > 0 else 1.0
    cmap = mpl.colormaps["viridis"]
    norm = mpl.colors.Normalize(vmin=float(confidences.min()), vmax=float(confidences.max()))
    radius = dict(zip(nodes, np.sqrt(sizes) / 2, strict=True))  # in points
    for (a, c), (lift, conf) in edges.items():
        width = 0.5 + 4.5 * lift / max_lift
        ax.add_patch(FancyArrowPatch(
            position[a], position[c], arrowstyle="-|>", mutation_scale=8 + 2 * width,
            connectionstyle="arc3,rad=0.12", linewidth=width, color=cmap(norm(conf)),
            alpha=0.8, shrinkA=float(radius[a]), shrinkB=float(radius[c]),
            label=f"{a} -> {c}", zorder=1))
    xy = np.array([position[item] for item in nodes])
    ax.scatter(xy[:, 0], xy[:, 1], s=sizes, color="lightsteelblue", edgecolors="grey",
               zorder=2)
    for item, t in zip(nodes, angles, strict=True):
        x, y = 1.12 * np.cos(t), 1.12 * np.sin(t)
        ax.text(float(x), float(y), item, fontsize="small", va="center",
                ha="left" if x > 0.05 else "right" if x < -0.05 else "center")
    ax.figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax,
                       label="confidence")
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.3, 1.3)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(f"Top {len(table)} rules by {by} (edge width: lift)")
    return ax


# ---------------------------------------------------------------- propensity models
def plot_gains(y_true: Any, y_score: Any, n_groups: int = 10,
               ax: Axes | None = None) -> Axes:
    """Cumulative gains chart: share of all positives found against share contacted.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes (e.g. churned).
    y_score : array-like of float
        Scores, higher = more likely.
    n_groups : int, default 10
        Groups (deciles) of :func:`crmmodels.evaluation.gains_table`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines[0]`` is the model's curve (from (0, 0) through each group's
        cumulative share and gain), ``ax.lines[1]`` the random-contact diagonal.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_gains([1, 0, 1, 0, 0], [0.9, 0.2, 0.8, 0.4, 0.1], n_groups=5)
    >>> ax.lines[0].get_ydata().tolist()
    [0.0, 0.5, 1.0, 1.0, 1.0, 1.0]
    """
    from crmmodels.evaluation import gains_table

    table = gains_table(y_true, y_score, n_groups)
    ax = _new_axes(ax)
    x = np.r_[0.0, table["cumulative_share"].to_numpy()]
    y = np.r_[0.0, table["cumulative_gain"].to_numpy()]
    ax.plot(x, y, marker="o", label="model")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random")
    ax.set_xlabel("share of customers contacted (highest scores first)")
    ax.set_ylabel("share of all positives found")
    ax.set_title("Cumulative gains")
    ax.legend()
    return ax


def plot_lift(y_true: Any, y_score: Any, n_groups: int = 10,
              ax: Axes | None = None) -> Axes:
    """Lift by score group: each group's positive rate over the overall rate.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes.
    y_score : array-like of float
        Scores, higher = more likely.
    n_groups : int, default 10
        Number of groups (group 1 = highest scores).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per group (``ax.patches``), height = lift; a dashed line at 1.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_lift([1, 0, 1, 0], [0.9, 0.2, 0.8, 0.4], n_groups=2)
    >>> [float(p.get_height()) for p in ax.patches]
    [2.0, 0.0]
    """
    from crmmodels.evaluation import gains_table

    table = gains_table(y_true, y_score, n_groups)
    ax = _new_axes(ax)
    ax.bar(table.index.to_numpy(), table["lift"].to_numpy())
    ax.axhline(1.0, linestyle="--", color="grey")
    ax.set_xlabel("score group (1 = highest scores)")
    ax.set_ylabel("lift (group rate / overall rate)")
    ax.set_title("Lift by group")
    return ax


def plot_calibration(y_true: Any, y_prob: Any, n_bins: int = 10,
                     ax: Axes | None = None) -> Axes:
    """Reliability diagram: observed rate against mean predicted probability per bin.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes.
    y_prob : array-like of float in [0, 1]
        Predicted probabilities.
    n_bins : int, default 10
        Equal-count bins of :func:`crmmodels.evaluation.calibration_table`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines[0]``: (mean predicted, observed) per bin; ``ax.lines[1]``: the
        diagonal of perfect calibration.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_calibration([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], n_bins=2)
    >>> ax.lines[0].get_ydata().tolist()
    [0.0, 1.0]
    """
    from crmmodels.evaluation import calibration_table

    table = calibration_table(y_true, y_prob, n_bins)
    ax = _new_axes(ax)
    ax.plot(table["mean_predicted"].to_numpy(), table["observed_rate"].to_numpy(),
            marker="o", label="model")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed rate")
    ax.set_title("Calibration")
    ax.legend()
    return ax


def plot_cost_curve(y_true: Any, y_score: Any, cost_fp: float = 1.0, cost_fn: float = 10.0,
                    threshold: float | None = None, ax: Axes | None = None) -> Axes:
    """Plot the expected cost of alerting against the number of alerts, lowest marked.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes (fraud or not).
    y_score : array-like of float
        Scores, higher = more suspicious.
    cost_fp, cost_fn : float, default 1 and 10
        Cost of a false alert and of a missed fraud
        (:func:`crmmodels.evaluation.cost_curve`).
    threshold : float, optional
        A threshold to mark, e.g. a fitted model's ``threshold_``.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines[0]`` is the cost at each number of alerts, ``ax.lines[1]`` the
        cheapest point, ``ax.lines[2]`` (with ``threshold``) the cost at that threshold.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_cost_curve([0, 1, 1, 0], [0.1, 0.9, 0.3, 0.5])
    >>> ax.lines[0].get_ydata().tolist(), ax.lines[1].get_xdata().tolist()
    ([20.0, 10.0, 11.0, 1.0, 2.0], [3.0])
    """
    from crmmodels.evaluation import cost_curve

    if threshold is not None and not _is_number(threshold):
        raise InvalidParameterError(f"threshold must be a finite number, got {threshold!r}")
    curve = cost_curve(y_true, y_score, cost_fp, cost_fn)
    ax = _new_axes(ax)
    alerts, cost = curve["alerts"].to_numpy(), curve["cost"].to_numpy()
    ax.plot(alerts, cost, label="expected cost")
    best = int(np.argmin(cost))
    ax.plot([alerts[best]], [cost[best]], marker="o", linestyle="none",
            label=f"lowest: {alerts[best]:.0f} alerts")
    if threshold is not None:
        at = int(np.flatnonzero(curve["threshold"].to_numpy() >= threshold)[-1])
        ax.plot([alerts[at]], [cost[at]], marker="x", linestyle="none", markersize=10,
                label=f"threshold {threshold:.3g}: {alerts[at]:.0f} alerts")
    ax.set_xlabel("alerts (highest scores first)")
    ax.set_ylabel(f"cost = {cost_fp:g} x FP + {cost_fn:g} x FN")
    ax.set_title("Cost curve")
    ax.legend()
    return ax


def plot_card_precision(y_true: Any, y_score: Any, customer_id: Any, day: Any,
                        ks: Any = (10, 25, 50, 100, 150, 200),
                        ax: Axes | None = None) -> Axes:
    """Card-precision curve: mean daily card precision at ``k`` for several ``k``.

    Parameters
    ----------
    y_true, y_score, customer_id, day : array-like
        Per transaction, as :func:`crmmodels.evaluation.card_precision_at_k` takes them.
    ks : sequence of int, default (10, 25, 50, 100, 150, 200)
        Cards investigated per day.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines[0]``: ``k`` against the mean card precision at ``k``.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_card_precision([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1],
    ...                          ["a", "b", "a", "c"], [1, 1, 2, 2], ks=(1, 2))
    >>> ax.lines[0].get_ydata().tolist()
    [0.5, 0.25]
    """
    from crmmodels.evaluation import card_precision_at_k

    values = [_check_count(k, "ks") for k in ks]
    if not values or min(values) < 1:
        raise InvalidParameterError(f"ks must be positive whole numbers, got {ks!r}")
    means = [float(card_precision_at_k(y_true, y_score, customer_id, day, k=k)
                   ["card_precision"].mean()) for k in values]
    ax = _new_axes(ax)
    ax.plot(values, means, marker="o")
    ax.set_xlabel("cards investigated per day (k)")
    ax.set_ylabel("mean card precision at k")
    ax.set_title("Card precision")
    return ax
