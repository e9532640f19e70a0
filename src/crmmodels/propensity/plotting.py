"""Figures for propensity scores (churn, fraud).

* :func:`plot_gains`, :func:`plot_lift` and :func:`plot_calibration`: how well scores
  rank and how well probabilities are calibrated;
* :func:`plot_cost_curve` and :func:`plot_card_precision`: fraud alerts.

matplotlib is an optional dependency (``pip install "crmmodels[plot]"``), imported only
when a figure is drawn. Every function draws on ``ax`` when given, otherwise on a new
figure, and returns the :class:`matplotlib.axes.Axes`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crmmodels.core import check_count, is_number, new_axes
from crmmodels.errors import InvalidParameterError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_DIAGONAL = "crmmodels-reference-diagonal"

__all__ = ["plot_calibration", "plot_card_precision", "plot_cost_curve", "plot_gains",
           "plot_lift"]


# ---------------------------------------------------------------------- helpers


# ---------------------------------------------------------------------- heat maps


# ---------------------------------------------------------------------- evaluation


# ---------------------------------------------------------------------- retention


# ---------------------------------------------------------------------- segments


# ---------------------------------------------------------------------- association rules


# ---------------------------------------------------------------- propensity models
def _diagonal(ax: Axes, label: str) -> None:
    """Draw the dashed reference diagonal once per axes (curves may be overlaid)."""
    if not any(line.get_gid() == _DIAGONAL for line in ax.lines):
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label=label, gid=_DIAGONAL)


def _label(label: object) -> str:
    if not isinstance(label, str):
        raise InvalidParameterError(f"label must be a string, got {label!r}")
    return label


def plot_gains(y_true: Any, y_score: Any, n_groups: int = 10,
               ax: Axes | None = None, *, label: str = "model") -> Axes:
    """Cumulative gains chart: share of all positives found against share contacted.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes (e.g. churned).
    y_score : array-like of float
        Scores, higher = more likely.
    n_groups : int, default 10
        Groups (deciles) of :func:`crmmodels.propensity.gains_table`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted. Drawing several
        models on one axes overlays their curves (the diagonal is drawn once).
    label : str, default "model"
        The curve's legend label.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines[0]`` is the model's curve (from (0, 0) through each group's
        cumulative share and gain), ``ax.lines[1]`` the random-contact diagonal;
        curves drawn later on the same axes follow.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_gains([1, 0, 1, 0, 0], [0.9, 0.2, 0.8, 0.4, 0.1], n_groups=5)
    >>> ax.lines[0].get_ydata().tolist()
    [0.0, 0.5, 1.0, 1.0, 1.0, 1.0]
    """
    from crmmodels.propensity.evaluation import gains_table

    label = _label(label)
    table = gains_table(y_true, y_score, n_groups)
    ax = new_axes(ax)
    x = np.r_[0.0, table["cumulative_share"].to_numpy()]
    y = np.r_[0.0, table["cumulative_gain"].to_numpy()]
    ax.plot(x, y, marker="o", label=label)
    _diagonal(ax, "random")
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
    from crmmodels.propensity.evaluation import gains_table

    table = gains_table(y_true, y_score, n_groups)
    ax = new_axes(ax)
    ax.bar(table.index.to_numpy(), table["lift"].to_numpy())
    ax.axhline(1.0, linestyle="--", color="grey")
    ax.set_xlabel("score group (1 = highest scores)")
    ax.set_ylabel("lift (group rate / overall rate)")
    ax.set_title("Lift by group")
    return ax


def plot_calibration(y_true: Any, y_prob: Any, n_bins: int = 10,
                     ax: Axes | None = None, *, label: str = "model") -> Axes:
    """Reliability diagram: observed rate against mean predicted probability per bin.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes.
    y_prob : array-like of float in [0, 1]
        Predicted probabilities.
    n_bins : int, default 10
        Equal-count bins of :func:`crmmodels.propensity.calibration_table`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted. Drawing several
        models on one axes overlays their curves (the diagonal is drawn once).
    label : str, default "model"
        The curve's legend label.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines[0]``: (mean predicted, observed) per bin; ``ax.lines[1]``: the
        diagonal of perfect calibration; curves drawn later on the same axes follow.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_calibration([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], n_bins=2)
    >>> ax.lines[0].get_ydata().tolist()
    [0.0, 1.0]
    """
    from crmmodels.propensity.evaluation import calibration_table

    label = _label(label)
    table = calibration_table(y_true, y_prob, n_bins)
    ax = new_axes(ax)
    ax.plot(table["mean_predicted"].to_numpy(), table["observed_rate"].to_numpy(),
            marker="o", label=label)
    _diagonal(ax, "perfectly calibrated")
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
        (:func:`crmmodels.propensity.cost_curve`).
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
    from crmmodels.propensity.evaluation import cost_curve

    if threshold is not None and not is_number(threshold):
        raise InvalidParameterError(f"threshold must be a finite number, got {threshold!r}")
    curve = cost_curve(y_true, y_score, cost_fp, cost_fn)
    ax = new_axes(ax)
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
        Per transaction, as :func:`crmmodels.propensity.card_precision_at_k` takes them.
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
    from crmmodels.propensity.evaluation import card_precision_at_k

    values = [check_count(k, "ks") for k in ks]
    if not values or min(values) < 1:
        raise InvalidParameterError(f"ks must be positive whole numbers, got {ks!r}")
    means = [float(card_precision_at_k(y_true, y_score, customer_id, day, k=k)
                   ["card_precision"].mean()) for k in values]
    ax = new_axes(ax)
    ax.plot(values, means, marker="o")
    ax.set_xlabel("cards investigated per day (k)")
    ax.set_ylabel("mean card precision at k")
    ax.set_title("Card precision")
    return ax
