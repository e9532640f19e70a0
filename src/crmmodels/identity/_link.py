"""Record linkage on shared keys: connected components of records and key values.

Records are nodes ``0 .. n-1``; every distinct (key, normalised value) is a node after
them. A record is joined to the values it holds, so two records sharing any value end in
one connected component (``scipy.sparse.csgraph.connected_components``). Values held by
more than ``max_size`` records (a shared call-centre phone, a family e-mail) are left out
of the graph; a component still above ``max_size`` loses its most shared value, again
and again, until it fits or only fixed links hold it together. Weak links (a pair of
records matched by probability) are cut before any shared key value, in the order they
are numbered. Fixed links (the source id, the keys of an earlier resolution) are never
cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

__all__ = ["Links", "link"]


@dataclass(frozen=True)
class Links:
    """Result of :func:`link`.

    Attributes
    ----------
    labels : ndarray
        Component of each record (0 .. n_components - 1).
    cut : ndarray
        Value nodes (positions among the value nodes) left out of the linkage.
    oversize : ndarray
        Components still larger than the limit (held together by fixed links).
    """

    labels: np.ndarray
    cut: np.ndarray
    oversize: np.ndarray


def _components(n: int, rows: np.ndarray, values: np.ndarray, n_values: int,
                keep: np.ndarray) -> np.ndarray:
    """Component label of each record, using the edges whose value is kept."""
    use = keep[values]
    graph = sp.coo_matrix((np.ones(int(use.sum()), dtype=np.int8),
                           (rows[use], n + values[use])), shape=(n + n_values, n + n_values))
    _, labels = connected_components(graph.tocsr(), directed=False)
    # Relabel the records' components 0 .. k-1 in order of first appearance.
    _, first = np.unique(labels[:n], return_inverse=True)
    return np.asarray(first, dtype=np.int64)


def link(n: int, rows: np.ndarray, values: np.ndarray, n_values: int, fixed: np.ndarray,
         max_size: int | None, weak: np.ndarray | None = None) -> Links:
    """Find the people: components of records that share a value, ``max_size`` at most.

    Parameters
    ----------
    n : int
        Records.
    rows, values : ndarray
        One edge per (record, value node it holds); value nodes numbered from 0.
    n_values : int
        Number of value nodes.
    fixed : ndarray of bool
        Per value node: a link that is never cut (source ids, earlier keys).
    max_size : int or None
        Largest component allowed (None: no limit).
    weak : ndarray of bool, optional
        Per value node: a link cut first (lowest number first) when a component is too
        large.

    Returns
    -------
    Links

    Examples
    --------
    >>> import numpy as np
    >>> # records 0-1 share value 0; records 1-2 share value 1; value 2 joins all four
    >>> rows = np.array([0, 1, 1, 2, 0, 1, 2, 3])
    >>> values = np.array([0, 0, 1, 1, 2, 2, 2, 2])
    >>> found = link(4, rows, values, 3, np.zeros(3, bool), max_size=3)
    >>> found.labels.tolist(), found.cut.tolist()
    ([0, 0, 0, 1], [2])
    """
    rows = np.asarray(rows, dtype=np.int64)
    values = np.asarray(values, dtype=np.int64)
    degree = np.bincount(values, minlength=n_values)
    strong = np.ones(n_values, dtype=bool) if weak is None else ~np.asarray(weak, dtype=bool)
    keep = np.ones(n_values, dtype=bool)
    if max_size is not None:
        keep &= (degree <= max_size) | fixed
    labels = _components(n, rows, values, n_values, keep)
    if max_size is None:
        return Links(labels, np.flatnonzero(~keep), np.zeros(0, dtype=np.int64))
    stuck: set[int] = set()
    for _ in range(10 * n + 10):
        size = np.bincount(labels)
        big = np.flatnonzero(size > max_size)
        if len(big) == 0:
            break
        # In each component above the limit, the weakest link that may be cut: a weak
        # link first, else the most shared value.
        is_big = np.isin(labels[rows], big)
        # Only values that link two records or more can split a component.
        cand = is_big & keep[values] & ~fixed[values] & (degree[values] > 1)
        if not cand.any():
            stuck.update(big.tolist())
            break
        comp = labels[rows[cand]]
        node = values[cand]
        order = np.lexsort((node, -degree[node], strong[node], comp))
        first = np.r_[True, comp[order][1:] != comp[order][:-1]]
        keep[node[order][first]] = False
        labels = _components(n, rows, values, n_values, keep)
    size = np.bincount(labels)
    oversize = np.flatnonzero(size > max_size)
    return Links(labels, np.flatnonzero(~keep), oversize.astype(np.int64))
