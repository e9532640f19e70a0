"""Figures for segments: RFM heat map, segment summary, Pareto curve, transitions.

* :func:`plot_rfm_heatmap`: a value per recency x frequency score cell of
  :class:`~crmmodels.segments.RFMModel`;
* :func:`plot_segment_summary`: customers and value per named segment;
* :func:`plot_pareto_curve`: the cumulative value curve of
  :class:`~crmmodels.segments.ABCModel`;
* :func:`plot_transition_matrix`: lifecycle stage transitions between two dates.

matplotlib is an optional dependency (``pip install "crmmodels[plot]"``), imported only
when a figure is drawn. Every function draws on ``ax`` when given, otherwise on a new
figure, and returns the :class:`matplotlib.axes.Axes`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from crmmodels.core import (
    check_column_name,
    check_frame,
    new_axes,
    numeric_column,
    require_columns,
)
from crmmodels.errors import DataValidationError, InvalidParameterError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_pareto_curve", "plot_rfm_heatmap", "plot_segment_summary",
           "plot_transition_matrix"]


# ---------------------------------------------------------------------- helpers


# ---------------------------------------------------------------------- heat maps


# ---------------------------------------------------------------------- evaluation


# ---------------------------------------------------------------------- retention


# ---------------------------------------------------------------------- segments


def _score_levels(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Validate a score column (whole numbers >= 1); return its values as int64."""
    values = numeric_column(frame, "scores", column)
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
    :class:`~crmmodels.segments.RFMModel`), so whole rows or columns may be empty.

    Parameters
    ----------
    scores : DataFrame
        Output of :meth:`crmmodels.segments.RFMModel.score`: one row per customer with
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
    >>> from crmmodels.segments import plot_rfm_heatmap
    >>> from crmmodels.segments import RFMModel
    >>> data = load_cdnow_sample()
    >>> scores = RFMModel().fit(data).score(data)
    >>> ax = plot_rfm_heatmap(scores, value="count")
    >>> counts = ax.images[0].get_array()
    >>> counts.shape, int(counts.sum()) == len(scores)
    ((5, 5), True)
    >>> plt.close(ax.figure)
    """
    value = check_column_name(value, "value")
    frame = check_frame(scores, "scores", "crmmodels.segments.RFMModel.score")
    needed = ("r_score", "f_score") if value == "count" else ("r_score", "f_score", value)
    require_columns(frame, "scores", needed, "crmmodels.segments.RFMModel.score")
    r = _score_levels(frame, "r_score")
    f = _score_levels(frame, "f_score")
    n_r, n_f = int(r.max()), int(f.max())
    counts = np.zeros((n_r, n_f), dtype=np.float64)
    np.add.at(counts, (r - 1, f - 1), 1.0)
    if value == "count":
        values = counts
        label, fmt = "customers", "count"
    else:
        x = numeric_column(frame, "scores", value)
        sums = np.zeros((n_r, n_f), dtype=np.float64)
        np.add.at(sums, (r - 1, f - 1), x)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(counts > 0, sums / counts, np.nan)
        label, fmt = f"mean {value}", "value"
    ax = new_axes(ax)
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
        One row per customer, e.g. the output of :meth:`crmmodels.segments.RFMModel.score`.
    segment_column : str, default "segment"
        Column with the segment of each customer.
    value_column : str, default "monetary"
        Numeric column with each customer's revenue. For an
        :class:`~crmmodels.segments.RFMModel` this is the total spend only with
        ``monetary="sum"`` (the default). Values must be finite and their total
        positive.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes; ``ax.containers[0]`` holds the customer-share bars (label
        ``"customers"``) and ``ax.containers[1]`` the value-share bars (label
        ``"revenue"`` for the default ``"monetary"``, else ``value_column``), one per
        segment in the order of the y tick labels (top to
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
    >>> from crmmodels.segments import plot_segment_summary
    >>> scores = pd.DataFrame({"segment": ["gold", "gold", "basic", "basic", "basic"],
    ...                        "monetary": [300.0, 100.0, 40.0, 30.0, 30.0]})
    >>> ax = plot_segment_summary(scores)
    >>> [tick.get_text() for tick in ax.get_yticklabels()]
    ['gold', 'basic']
    >>> [round(float(bar.get_width()), 2) for bar in ax.containers[1]]
    [0.8, 0.2]
    >>> plt.close(ax.figure)
    """
    segment_column = check_column_name(segment_column, "segment_column")
    value_column = check_column_name(value_column, "value_column")
    frame = check_frame(scores, "scores", "crmmodels.segments.RFMModel.score")
    require_columns(frame, "scores", (segment_column, value_column),
                     "crmmodels.segments.RFMModel.score")
    segments = frame[segment_column]
    missing = segments.isna().to_numpy(dtype=bool)
    if missing.any():
        raise DataValidationError(
            f"scores column {segment_column!r} has missing segments",
            frame="scores", column=segment_column, rule="not_missing",
            rows=frame.index[missing].tolist(), n_rows=int(missing.sum()))
    values = numeric_column(frame, "scores", value_column)
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
    ax = new_axes(ax)
    ax.barh(positions - height / 2, table["customer_share"].to_numpy(dtype=np.float64),
            height=height, label="customers")
    ax.barh(positions + height / 2, table["value_share"].to_numpy(dtype=np.float64),
            height=height, label="revenue" if value_column == "monetary" else value_column)
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
    last (in the ranking, from the ``value_tier`` column), with each tier's share of
    customers and of value written above it. The further the curve bows above the
    diagonal, the more concentrated the value (see :attr:`ABCModel.gini_
    <crmmodels.segments.ABCModel>`).

    Parameters
    ----------
    abc_scores : DataFrame
        Output of :meth:`crmmodels.segments.ABCModel.score`: one row per customer with
        ``value`` (finite, >= 0, positive total) and ``value_tier`` (a frame with the
        deprecated column name ``tier`` instead is read too).
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
        ``abc_scores`` is not a non-empty DataFrame, lacks ``value`` or ``value_tier``
        (``rule="required_column"``), has missing tiers, or its values are not finite
        numbers >= 0 with a positive total.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from crmmodels.segments import plot_pareto_curve
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
    frame = check_frame(abc_scores, "abc_scores", "crmmodels.segments.ABCModel.score")
    # Frames scored before the rename call the tier column "tier".
    tier_column = "tier" if "value_tier" not in frame.columns and "tier" in frame.columns \
        else "value_tier"
    require_columns(frame, "abc_scores", ("value", tier_column),
                     "crmmodels.segments.ABCModel.score")
    values = numeric_column(frame, "abc_scores", "value", non_negative=True)
    total = float(values.sum())
    if not total > 0:
        raise DataValidationError("abc_scores needs a positive total value",
                                  frame="abc_scores", column="value", rule="positive_total")
    tiers = frame[tier_column]
    missing = tiers.isna().to_numpy(dtype=bool)
    if missing.any():
        raise DataValidationError(f"abc_scores column {tier_column!r} has missing tiers",
                                  frame="abc_scores", column=tier_column, rule="not_missing",
                                  rows=frame.index[missing].tolist(), n_rows=int(missing.sum()))
    # Highest value first; equal values by tier name so that each tier is one run.
    ranked = pd.DataFrame({"value": values, "tier": tiers.astype(str).to_numpy(dtype=object)})
    ranked = ranked.sort_values(["value", "tier"], ascending=[False, True], kind="stable")
    n = len(ranked)
    x = np.arange(n + 1, dtype=np.float64) / n
    y = np.concatenate(([0.0], np.cumsum(ranked["value"].to_numpy(dtype=np.float64)) / total))
    y[-1] = 1.0  # exact end despite rounding in the sum
    ax = new_axes(ax)
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
    >>> from crmmodels.segments import plot_transition_matrix
    >>> matrix = pd.DataFrame([[6, 2], [1, 3]], index=["active", "lapsed"],
    ...                       columns=["active", "lapsed"])
    >>> ax = plot_transition_matrix(matrix)
    >>> ax.images[0].get_array().tolist()
    [[0.75, 0.25], [0.25, 0.75]]
    >>> plt.close(ax.figure)
    """
    if not isinstance(normalize, bool | np.bool_):
        raise InvalidParameterError(f"normalize must be True or False, got {normalize!r}")
    frame = check_frame(matrix, "matrix",
                         "crmmodels.segments.LifecycleModel.transitions")
    if frame.shape[1] == 0:
        raise DataValidationError("matrix has no columns: there is nothing to draw",
                                  frame="matrix", rule="non_empty")
    for column in frame.columns:
        numeric_column(frame, "matrix", column, non_negative=True)
    counts = frame.to_numpy(dtype=np.float64)
    if normalize:
        totals = counts.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(totals > 0, counts / totals, np.nan)
    else:
        values = counts
    row_name = frame.index.name or "stage at t1"
    column_name = frame.columns.name or "stage at t2"
    ax = new_axes(ax)
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


# ---------------------------------------------------------------- propensity models


