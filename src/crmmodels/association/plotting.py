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
    >>> from crmmodels.association import plot_rule_network
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
