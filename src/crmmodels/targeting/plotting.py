"""Figures for uplift scores: Qini and uplift curves, uplift by percentile.

* :func:`plot_qini_curve` and :func:`plot_uplift_curve`: the model's curve beside the
  random and the perfect ranking's (:mod:`crmmodels.targeting.metrics` computes them);
* :func:`plot_uplift_by_percentile`: response rates and uplift per percentile (bars).

matplotlib is an optional dependency (``pip install "crmmodels[plot]"``), imported only
when a figure is drawn. Every function draws on ``ax`` when given, otherwise on a new
figure, and returns the :class:`matplotlib.axes.Axes`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from crmmodels.core import new_axes
from crmmodels.errors import DataValidationError
from crmmodels.targeting.metrics import (
    perfect_qini_curve,
    perfect_uplift_curve,
    qini_auc,
    qini_curve,
    uplift_auc,
    uplift_by_percentile,
    uplift_curve,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_qini_curve", "plot_uplift_by_percentile", "plot_uplift_curve"]


def _title(name: str, area: Callable[[], float]) -> str:
    """``name`` with the normalised area, or ``name`` alone when it is undefined."""
    try:
        return f"{name} (normalised area {area():.3f})"
    except DataValidationError as err:
        if err.rule != "degenerate":
            raise
        return f"{name} (normalised area undefined: perfect = random)"


def _draw_curves(ax: Axes, model: tuple[Any, Any], perfect: tuple[Any, Any],
                 ylabel: str, title: str) -> Axes:
    ax.plot(model[0], model[1], label="model")
    ax.plot([0, perfect[0][-1]], [0, perfect[1][-1]], linestyle="--", color="grey",
            label="random")
    ax.plot(perfect[0], perfect[1], linestyle=":", color="black", label="perfect")
    ax.set_xlabel("customers targeted (highest predicted uplift first)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return ax


def plot_qini_curve(y_true: Any, uplift: Any, treatment: Any, *, negative_effect: bool = True,
                    ax: Axes | None = None) -> Axes:
    """Qini curve of the model, of random targeting and of the perfect ranking.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes (1 = responded).
    uplift : array-like of float
        Predicted uplift; higher = targeted first.
    treatment : array-like of 0/1 or bool
        1 = treated, 0 = control; both groups must be present.
    negative_effect : bool, default True
        Perfect curve with or without customers the treatment put off
        (:func:`crmmodels.targeting.perfect_qini_curve`).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines[0]`` ("model") is :func:`crmmodels.targeting.qini_curve`,
        ``ax.lines[1]`` ("random") the straight line to the perfect curve's end,
        ``ax.lines[2]`` ("perfect") :func:`crmmodels.targeting.perfect_qini_curve`; the
        title gives :func:`crmmodels.targeting.qini_auc`.

    Raises
    ------
    DataValidationError
        As :func:`crmmodels.targeting.qini_curve` and
        :func:`crmmodels.targeting.perfect_qini_curve`.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> y, t = [1, 0, 1, 0, 1, 0], [1, 1, 1, 0, 0, 0]
    >>> ax = plot_qini_curve(y, [0.9, 0.1, 0.8, 0.7, 0.3, 0.2], t)
    >>> ax.lines[0].get_ydata().tolist()
    [0.0, 1.0, 2.0, 2.0, 1.0, 1.3333333333333335, 1.0]
    >>> ax.get_title()
    'Qini curve (normalised area 0.744)'
    """
    model = qini_curve(y_true, uplift, treatment)
    perfect = perfect_qini_curve(y_true, treatment, negative_effect=negative_effect)
    title = _title("Qini curve", lambda: qini_auc(y_true, uplift, treatment,
                                                  negative_effect=negative_effect))
    return _draw_curves(new_axes(ax), model, perfect,
                        "incremental responders (Qini)", title)


def plot_uplift_curve(y_true: Any, uplift: Any, treatment: Any, *,
                      ax: Axes | None = None) -> Axes:
    """Uplift curve of the model, of random targeting and of the perfect ranking.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes (1 = responded).
    uplift : array-like of float
        Predicted uplift; higher = targeted first.
    treatment : array-like of 0/1 or bool
        1 = treated, 0 = control; both groups must be present.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines[0]`` ("model") is :func:`crmmodels.targeting.uplift_curve`,
        ``ax.lines[1]`` ("random") the straight line to its end, ``ax.lines[2]``
        ("perfect") :func:`crmmodels.targeting.perfect_uplift_curve`; the title gives
        :func:`crmmodels.targeting.uplift_auc`.

    Raises
    ------
    DataValidationError
        As :func:`crmmodels.targeting.uplift_curve`.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> y, t = [1, 0, 1, 0, 1, 0], [1, 1, 1, 0, 0, 0]
    >>> ax = plot_uplift_curve(y, [0.9, 0.1, 0.8, 0.7, 0.3, 0.2], t)
    >>> [line.get_label() for line in ax.lines]
    ['model', 'random', 'perfect']
    """
    model = uplift_curve(y_true, uplift, treatment)
    perfect = perfect_uplift_curve(y_true, treatment)
    title = _title("Uplift curve", lambda: uplift_auc(y_true, uplift, treatment))
    return _draw_curves(new_axes(ax), model, perfect,
                        "cumulative uplift (rate difference x customers)", title)


def plot_uplift_by_percentile(y_true: Any, uplift: Any, treatment: Any, *,
                              strategy: str = "overall", bins: int = 10,
                              ax: Axes | None = None) -> Axes:
    """Bars of the treated and control response rates and the uplift per percentile.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes (1 = responded).
    uplift : array-like of float
        Predicted uplift; higher = targeted first.
    treatment : array-like of 0/1 or bool
        1 = treated, 0 = control; both groups must be present.
    strategy : {"overall", "by_group"}, default "overall"
        As :func:`crmmodels.targeting.uplift_by_percentile`.
    bins : int, default 10
        Number of percentile groups.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        Three bar groups (``ax.containers``): "treatment response rate", "control
        response rate" and "uplift", one bar per percentile (highest predicted uplift
        first), heights from :func:`crmmodels.targeting.uplift_by_percentile`; tick
        labels are its percentiles.

    Raises
    ------
    DataValidationError
        As :func:`crmmodels.targeting.uplift_by_percentile`.
    InvalidParameterError
        ``strategy`` or ``bins`` is invalid.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> y, t = [1, 0, 1, 0, 1, 0, 1, 1], [1, 1, 1, 0, 0, 0, 1, 0]
    >>> u = [0.9, 0.1, 0.8, 0.7, 0.3, 0.2, 0.5, 0.6]
    >>> ax = plot_uplift_by_percentile(y, u, t, bins=2)
    >>> [float(bar.get_height()) for bar in ax.containers[2]]
    [0.5, 0.0]
    """
    table = uplift_by_percentile(y_true, uplift, treatment, strategy=strategy, bins=bins)
    ax = new_axes(ax)
    position = np.arange(len(table), dtype=np.float64)
    width = 0.27
    for shift, column, label in ((-width, "response_rate_treatment", "treatment response rate"),
                                 (0.0, "response_rate_control", "control response rate"),
                                 (width, "uplift", "uplift")):
        ax.bar(position + shift, table[column].to_numpy(), width=width, label=label)
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xticks(position, table.index.tolist(), rotation=45, ha="right")
    ax.set_xlabel("percentile of predicted uplift (highest first)")
    ax.set_ylabel("response rate / uplift")
    ax.set_title(f"Uplift by percentile ({strategy})")
    ax.legend()
    return ax
