"""Figures of the value chain: the portfolio map, value concentration, lifecycle.

* :func:`plot_portfolio`: current against future value per customer, coloured by
  quadrant, with the two cut-points;
* :func:`plot_concentration`: the Pareto (Lorenz) curves of current and future value;
* :func:`plot_lifecycle`: customers and future value per lifecycle stage.

matplotlib is an optional dependency (``pip install "crmmodels[plot]"``), imported only
when a figure is drawn. Every function draws on ``ax`` when given, otherwise on a new
figure, and returns the :class:`matplotlib.axes.Axes`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crmmodels.core import new_axes
from crmmodels.errors import DataValidationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_concentration", "plot_lifecycle", "plot_portfolio"]

_SCORES = ("portfolio_quadrant", "current_value", "future_value")


def _scores(scores: object, needs: tuple[str, ...] = _SCORES) -> pd.DataFrame:
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(f"scores must be the DataFrame of ValueChainModel.score, got "
                        f"{type(scores).__name__}")
    missing = [c for c in needs if c not in scores.columns]
    if missing:
        raise DataValidationError(f"scores lack {missing}: pass ValueChainModel.score(data)",
                                  frame="scores", rule="missing_column")
    return scores


def plot_portfolio(scores: pd.DataFrame, *, current_cut: float | None = None,
                   future_cut: float | None = None, ax: Axes | None = None) -> Axes:
    """Draw every customer at (current value, future value), coloured by quadrant.

    Parameters
    ----------
    scores : DataFrame
        ``ValueChainModel.score(data)``.
    current_cut, future_cut : float, optional
        The model's ``current_cut_`` and ``future_cut_``, drawn as dashed lines.
    ax : matplotlib Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"portfolio_quadrant": ["strategic", "maintain"],
    ...                        "current_value": [10.0, 1.0], "future_value": [20.0, 2.0]})
    >>> len(plot_portfolio(scores, current_cut=5.0, future_cut=5.0).collections)
    2
    """
    scores = _scores(scores)
    ax = new_axes(ax)
    quadrant = scores["portfolio_quadrant"].astype("object")
    for name in pd.unique(quadrant.dropna()):
        part = scores[quadrant == name]
        ax.scatter(part["current_value"], part["future_value"], s=8, alpha=0.6,
                   label=f"{name} ({len(part):,})")
    if current_cut is not None:
        ax.axvline(current_cut, linestyle="--", color="grey")
    if future_cut is not None:
        ax.axhline(future_cut, linestyle="--", color="grey")
    ax.set_xlabel("current value (margin over the last period, net of cost to serve)")
    ax.set_ylabel("future value (CLV)")
    ax.set_title("Customer portfolio")
    ax.legend(loc="best")
    return ax


def _lorenz(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of customers (most valuable first) against their share of the value."""
    v = np.sort(np.maximum(values[np.isfinite(values)], 0.0))[::-1]
    total = v.sum()
    x = np.r_[0.0, np.arange(1, len(v) + 1) / max(len(v), 1)]
    y = np.r_[0.0, np.cumsum(v) / total] if total > 0 else np.zeros(len(v) + 1)
    return x, y


def plot_concentration(scores: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Draw the share of value held by the most valuable customers (Pareto curve).

    Negative values count as 0. The top 20% of customers is marked.

    Examples
    --------
    >>> import matplotlib
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"portfolio_quadrant": ["strategic", "maintain"],
    ...                        "current_value": [10.0, 1.0], "future_value": [20.0, 2.0]})
    >>> len(plot_concentration(scores).lines)
    4
    """
    scores = _scores(scores)
    ax = new_axes(ax)
    for column in ("current_value", "future_value"):
        x, y = _lorenz(scores[column].to_numpy(dtype=np.float64))
        ax.plot(x, y, label=column.replace("_", " "))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="equal shares")
    ax.axvline(0.2, linestyle=":", color="black", label="top 20% of customers")
    ax.set_xlabel("share of customers (most valuable first)")
    ax.set_ylabel("share of value")
    ax.set_title("Value concentration")
    ax.legend(loc="lower right")
    return ax


def plot_lifecycle(lifecycle: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Draw customers per lifecycle stage, labelled with each stage's future value.

    Parameters
    ----------
    lifecycle : DataFrame
        The ``"lifecycle"`` table of ``ValueChainModel.report`` (index: stage; columns
        ``customers`` and ``future_value``).
    ax : matplotlib Axes, optional

    Examples
    --------
    >>> import matplotlib
    >>> import pandas as pd
    >>> table = pd.DataFrame({"customers": [3, 5], "future_value": [30.0, 10.0]},
    ...                      index=["new", "stable"])
    >>> len(plot_lifecycle(table).patches)
    2
    """
    lifecycle = _scores(lifecycle, ("customers", "future_value"))
    ax = new_axes(ax)
    names = [str(s) for s in lifecycle.index]
    bars = ax.bar(names, lifecycle["customers"].to_numpy())
    for bar, value in zip(bars, lifecycle["future_value"].to_numpy(), strict=True):
        ax.annotate(f"{value:,.0f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)
    ax.set_xlabel("lifecycle stage")
    ax.set_ylabel("customers (label: their future value)")
    ax.set_title("Lifecycle management")
    return ax
