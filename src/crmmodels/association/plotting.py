"""Figures and tables for association rules.

* :func:`top_rules`: the best rules of
  :class:`~crmmodels.association.AssociationRulesModel` as a readable table;
* :func:`plot_rule_network`: the same rules as a network ("spider-web") chart.

matplotlib is an optional dependency (``pip install "crmmodels[plot]"``), imported only
when a figure is drawn. :func:`plot_rule_network` draws on ``ax`` when given, otherwise
on a new figure, and returns the :class:`matplotlib.axes.Axes`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmmodels.core import check_frame, new_axes, numeric_column, require_columns
from crmmodels.errors import DataValidationError, InvalidParameterError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_rule_network", "top_rules"]

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
    frame = check_frame(rules, "rules", _RULE_SOURCE)
    needed = ("antecedents", "consequents", "support", "confidence", "lift")
    require_columns(frame, "rules", needed if by in needed else (*needed, by), _RULE_SOURCE)
    support = numeric_column(frame, "rules", "support", non_negative=True)
    confidence = numeric_column(frame, "rules", "confidence", non_negative=True)
    lift = numeric_column(frame, "rules", "lift", non_negative=True)
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
    >>> from crmmodels.association import top_rules
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
    then name, clockwise from the top.

    Each item's label starts just outside its node, along the radius; labels whose
    boxes (as the figure's renderer measures them) would overlap are pushed apart,
    preferably away from the circle, until no two overlap; the data limits are then
    set so that labels and nodes fill the axes (the circle shrinks when the labels
    need room). A label that had to move away from its node gets a thin grey leader
    line to it. The layout is deterministic. It is computed for the size the axes have
    when the function is called: size the figure first, not afterwards.

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
        item), one text label per item (``ax.texts``, in circle order; annotations
        placed in points from their node), the leader lines (``ax.collections[1]``,
        possibly empty), one arrow per edge (``ax.patches``; each a
        ``FancyArrowPatch`` labelled ``"a -> c"``, its line width proportional to
        lift) and a colour bar for confidence.

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
    >>> from crmmodels.association import plot_rule_network
    >>> baskets = [["milk", "bread"], ["milk", "bread", "eggs"], ["milk"], ["bread"],
    ...            ["bread", "eggs"]]
    >>> model = AssociationRulesModel(min_support=0.2, min_confidence=0.6).fit(baskets)
    >>> ax = plot_rule_network(model.rules_, n=3)
    >>> sorted(t.get_text() for t in ax.texts)
    ['bread', 'eggs', 'milk']
    >>> sorted(p.get_label() for p in ax.patches)  # eggs + milk -> bread gives two
    ['eggs -> bread', 'milk -> bread']
    >>> boxes = [t.get_window_extent() for t in ax.texts]  # no two labels overlap
    >>> any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    False
    >>> plt.close(ax.figure)
    """
    import matplotlib as mpl
    from matplotlib.collections import LineCollection
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

    ax = new_axes(ax)
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
    ax.figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax,
                       label="confidence")
    ax.set_axis_off()
    ax.set_title(f"Top {len(table)} rules by {by} (edge width: lift)")
    # Each label starts just outside its node, along the radius (offsets in points, so
    # a label stays with its node), then labels are moved apart until none overlaps
    # another, and the limits are set so that they all fit in the axes.
    outward = np.column_stack([np.cos(angles), np.sin(angles)])
    start = outward * (np.array([radius[item] for item in nodes]) + _LABEL_GAP)[:, None]
    labels = [ax.annotate(item, position[item], xytext=(float(dx), float(dy)),
                          textcoords="offset points", fontsize="small",
                          ha="left" if u[0] > 0.05 else "right" if u[0] < -0.05
                          else "center",
                          va="bottom" if u[1] > 0.5 else "top" if u[1] < -0.5 else "center")
              for item, u, (dx, dy) in zip(nodes, outward, start, strict=True)]
    node_radius = np.array([radius[item] for item in nodes])
    _layout_labels(ax, labels, start, outward, xy, node_radius)
    ax.add_collection(LineCollection(_leader_lines(ax, labels, start, xy, node_radius),
                                     colors="grey", linewidths=0.6, zorder=1.5),
                      autolim=False)
    return ax


_LABEL_GAP = 3.0  # points between a node's edge and its label
_LABEL_PAD = 1.0  # pixels kept free between two labels
_REPEL_ROUNDS = 300
_FIT_ROUNDS = 6
_LEADER_MIN = 6.0  # points a label must have moved to get a leader line to its node


def _overlaps(boxes: np.ndarray, pad: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise overlap widths (x, y) of boxes ``x0, y0, x1, y1``, padded by ``pad``.

    Entry ``[i, j]`` is positive on both when boxes ``i`` and ``j`` intersect.
    """
    x0, y0, x1, y1 = (boxes[:, k] for k in range(4))
    ox = np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :]) + pad
    oy = np.minimum(y1[:, None], y1[None, :]) - np.maximum(y0[:, None], y0[None, :]) + pad
    return ox, oy


def _repel_step(boxes: np.ndarray, outward: np.ndarray, pad: float) -> np.ndarray | None:
    """One round of pairwise repulsion; the moves (pixels), or None when nothing overlaps.

    Each overlapping pair is pushed apart along the axis of its smaller overlap, by
    that overlap. The push goes to the label(s) it moves away from the circle (the
    other one would be pushed onto the nodes and edges), shared when both or neither.
    """
    ox, oy = _overlaps(boxes, pad)
    pairs = np.argwhere(np.triu((ox > 0) & (oy > 0), k=1))
    if len(pairs) == 0:
        return None
    centre = np.column_stack([boxes[:, 0] + boxes[:, 2], boxes[:, 1] + boxes[:, 3]]) / 2
    move = np.zeros((len(boxes), 2))
    for i, j in pairs:
        axis = 0 if ox[i, j] < oy[i, j] else 1
        amount = min(ox[i, j], oy[i, j])
        gap = centre[j, axis] - centre[i, axis]
        if gap == 0:  # same centre: part them the way their radii part
            gap = outward[j, axis] - outward[i, axis]
        step = np.zeros(2)
        step[axis] = 1.0 if gap >= 0 else -1.0  # direction from i to j
        share_i = float(np.dot(-step, outward[i]) >= -1e-9)
        share_j = float(np.dot(step, outward[j]) >= -1e-9)
        if share_i + share_j == 0:
            share_i = share_j = 1.0
        move[i] -= step * amount * share_i / (share_i + share_j)
        move[j] += step * amount * share_j / (share_i + share_j)
    return move


def _separate(boxes: np.ndarray, outward: np.ndarray) -> np.ndarray:
    """Return moves (pixels) after which no two of ``boxes`` intersect.

    Pairwise repulsion (:func:`_repel_step`) for a bounded number of rounds; a label
    still overlapping one before it then is moved outward along its node's radius
    until it clears all of them, which always ends.
    """
    shift = np.zeros((len(boxes), 2))
    for _ in range(_REPEL_ROUNDS):
        move = _repel_step(boxes + np.tile(shift, 2), outward, _LABEL_PAD)
        if move is None:
            return shift
        shift += move
    step = max(1.0, float(np.min(boxes[:, 3] - boxes[:, 1])) / 2)
    for k in range(1, len(boxes)):
        while True:
            placed = boxes[:k + 1] + np.tile(shift[:k + 1], 2)
            ox, oy = _overlaps(placed, _LABEL_PAD)
            if not ((ox[k, :k] > 0) & (oy[k, :k] > 0)).any():
                break
            shift[k] += step * outward[k]
    return shift


def _largest_scale(xy: np.ndarray, boxes: np.ndarray, size: np.ndarray) -> float:
    """Largest pixels per data unit at which the drawing fits in ``size`` pixels.

    ``xy`` are the anchors in data coordinates and ``boxes`` the boxes ``x0, y0, x1,
    y1`` around them in pixels, relative to their anchor (their size does not change
    with the scale). At scale ``k`` the drawing spans ``max(k p + hi) - min(k p + lo)``
    along each axis, a convex function of ``k``: the scales that fit are an interval
    from 0, whose end is found by bisection. Infinite when nothing limits the scale.
    """
    largest = np.inf
    for axis in (0, 1):
        p, lo, hi = xy[:, axis], boxes[:, axis], boxes[:, axis + 2]

        def span(k: float, p: np.ndarray = p, lo: np.ndarray = lo,
                 hi: np.ndarray = hi) -> float:
            return float(np.max(k * p + hi) - np.min(k * p + lo))

        spread = float(np.ptp(p))
        if spread <= 1e-9 * float(np.max(np.abs(p), initial=1.0)):
            continue  # anchors in a line across this axis: its span does not grow
        if span(0.0) > size[axis]:
            return 0.0
        low, high = 0.0, (size[axis] + float(np.ptp(np.r_[lo, hi]))) / spread
        while span(high) <= size[axis]:
            high *= 2
        for _ in range(60):
            middle = (low + high) / 2
            low, high = (middle, high) if span(middle) <= size[axis] else (low, middle)
        largest = min(largest, low)
    return largest


def _layout_labels(ax: Axes, labels: list[Any], start: np.ndarray, outward: np.ndarray,
                   xy: np.ndarray, node_radius: np.ndarray) -> None:
    """Place annotation labels so that none overlaps another and all fit in the axes.

    ``start`` holds each label's first offset from its node (points), ``outward`` the
    unit vector from the centre of the circle to the node, ``xy`` the nodes' data
    coordinates and ``node_radius`` their radii (points). Each label's box is measured
    once with the figure's renderer, relative to its node (a box keeps its size when
    it or the nodes move). Then, for a few rounds: the labels are separated
    (:func:`_separate`) at the current scale (pixels per data unit), and the scale is
    lowered to the largest at which the moved labels and the nodes fit in the axes
    (:func:`_largest_scale`; the circle shrinks when the labels need room), until it
    need not be. The limits are set to that scale, centred on the drawing. The result
    depends only on the labels and the figure: it is deterministic.
    """
    figure = ax.figure.figure  # the root figure, also when ax is in a subfigure
    if figure.get_layout_engine() is not None:
        figure.draw_without_rendering()  # the layout engine places the axes at draw time
    ax.set_aspect("equal")
    ax.set_xlim(-1.0, 1.0)
    ax.set_ylim(-1.0, 1.0)
    ax.apply_aspect()
    box = ax.get_position(original=True)
    parent = ax.figure.bbox  # of the subfigure, if any: the position is relative to it
    size = np.array([box.width * parent.width, box.height * parent.height])
    canvas_renderer = getattr(figure.canvas, "get_renderer", None)
    renderer = canvas_renderer() if callable(canvas_renderer) else None
    to_points = 72.0 / figure.dpi
    anchors = np.tile(ax.transData.transform(xy), 2)
    relative = np.array([label.get_window_extent(renderer).extents
                         for label in labels]) - anchors
    reach = (node_radius / to_points)[:, None] * np.array([-1.0, -1.0, 1.0, 1.0])
    smallest = 0.1 * float(size.min())  # never shrink the circle below a tenth
    scale = max(_largest_scale(np.vstack([xy, xy]), np.vstack([relative, reach]), size),
                smallest)
    shift = np.zeros((len(labels), 2))
    for _ in range(_FIT_ROUNDS):
        shift = _separate(np.tile(scale * xy, 2) + relative, outward)
        fit = _largest_scale(np.vstack([xy, xy]),
                             np.vstack([relative + np.tile(shift, 2), reach]), size)
        if fit >= scale * (1 - 1e-9) or scale <= smallest:
            break
        scale = max(fit, smallest)
    else:  # not settled: separate at the last scale, so that no two labels overlap
        shift = _separate(np.tile(scale * xy, 2) + relative, outward)
    extent = np.vstack([relative + np.tile(shift, 2), reach]) / scale \
        + np.tile(np.vstack([xy, xy]), 2)
    middle = (extent[:, :2].min(axis=0) + extent[:, 2:].max(axis=0)) / 2
    half = size / scale / 2
    ax.set_xlim(float(middle[0] - half[0]), float(middle[0] + half[0]))
    ax.set_ylim(float(middle[1] - half[1]), float(middle[1] + half[1]))
    ax.apply_aspect()
    for label, offset, move in zip(labels, start, shift, strict=True):
        label.xyann = (float(offset[0] + move[0] * to_points),
                       float(offset[1] + move[1] * to_points))


def _leader_lines(ax: Axes, labels: list[Any], start: np.ndarray, xy: np.ndarray,
                  node_radius: np.ndarray) -> list[np.ndarray]:
    """Segments (data coordinates) from each node's edge to its label, if it moved away.

    Only labels moved more than ``_LEADER_MIN`` points from ``start`` get one; the
    segment ends at the label's anchor point (the side facing its node).
    """
    to_points = 72.0 / ax.figure.figure.dpi
    inverse = ax.transData.inverted()
    segments = []
    for label, first, node, r in zip(labels, start, xy, node_radius, strict=True):
        offset = np.asarray(label.xyann, dtype=np.float64)
        if np.hypot(*(offset - first)) <= _LEADER_MIN:
            continue
        centre = ax.transData.transform(node)
        reach = offset / to_points  # pixels from the node's centre to the anchor
        length = float(np.hypot(*reach))
        if length <= r / to_points:
            continue
        edge = centre + reach * (r / to_points) / length
        segments.append(inverse.transform(np.vstack([edge, centre + reach])))
    return segments
