"""Exact frequent-itemset mining, level by level, with whole-level array operations.

Items are ranked rarest first, and an itemset grows only by items ranked after its
own. The itemsets of one length are kept in *groups of siblings*: itemsets that are
equal but for their last item. Two siblings ``P + a`` and ``P + b`` (``a`` before
``b``) give the candidate ``P + a + b``; every longer frequent itemset is such a
candidate, so nothing is missed.

Counting is horizontal. For each group, each basket that holds the group's prefix
``P`` is one *row*, listing the siblings it holds; the baskets holding ``P + a + b``
are exactly the rows listing both ``P + a`` and ``P + b``. So one pass over all pairs
of entries of all rows counts every candidate of the level at once (each candidate has
one integer key, dense within the level, and the keys are tallied with
``numpy.add.at``): there is no search node by node and no candidate that no basket
holds. The rows of the next level are the entries of this one: the row of
``P + a`` in a basket is the basket's entry ``P + a``, listing the candidates
``P + a + b`` that it holds and that turned out frequent and have a sibling. The
first level is the basket x item matrix itself, one group, one row per basket.

Work and memory follow the occurrences of frequent itemsets in the baskets (pairs are
made in small chunks, a level is kept only while the next one is built), not the
number of baskets times the number of itemsets. An itemset is frequent when its count
is at least ``ceil(min_support * n_baskets)``, the rule mlxtend, arules and Spark
apply.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["TooManyItemsetsError", "frequent_itemsets", "lexicographic_order", "min_count",
           "mine_itemsets"]

# Pairs of row entries made in one go (small temporary arrays that stay in cache), and
# pairs kept at once for a level (8 bytes each; larger levels are made twice, in spans).
_CHUNK_PAIRS = 1 << 15
_LEVEL_PAIRS = 1 << 22
# Candidate key spaces (sum of squared group sizes) up to this size are counted in one
# dense array; larger ones are counted by sorting the keys.
_DENSE_KEYS = 1 << 24

Emit = Callable[[int], Callable[[np.ndarray, np.ndarray], None]]
Level = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def min_count(min_support: float, n_baskets: int) -> int:
    """Smallest basket count meeting ``min_support`` (``ceil(min_support * n)``).

    A tiny tolerance keeps e.g. ``0.001 * 10_000 = 10.000000000000002`` at 10.

    Examples
    --------
    >>> min_count(0.001, 9835)
    10
    >>> min_count(0.5, 4)
    2
    """
    return max(1, math.ceil(min_support * n_baskets - 1e-9))


class TooManyItemsetsError(ValueError):
    """The search would return more itemsets than allowed."""


def frequent_itemsets(
    matrix: sp.spmatrix, min_support: float, max_len: int | None = None,
    max_itemsets: int = 2_000_000,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """All itemsets with support >= ``min_support``, as one array per length.

    Parameters
    ----------
    matrix : sparse matrix
        Baskets x items, non-zero where the basket holds the item.
    min_support : float
        Minimum share of baskets, in (0, 1].
    max_len : int, optional
        Longest itemset to return.
    max_itemsets : int, default 2,000,000
        Stop with :class:`TooManyItemsetsError` beyond this many itemsets (a low
        support on few, large baskets makes every subset frequent: 2^k itemsets).

    Returns
    -------
    list of (sets, counts)
        Entry ``k - 1`` holds the frequent itemsets of ``k`` items: ``sets`` is an
        ``int64`` array ``(n_k, k)`` of item column indices, each row increasing and
        the rows in lexicographic order; ``counts`` the number of baskets holding
        each. The list ends at the longest frequent itemset (length 1 is always
        there, possibly empty).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> m = sp.csc_matrix(np.array([[1, 1, 0], [1, 1, 1], [1, 0, 1], [0, 1, 1]]))
    >>> [(s.tolist(), c.tolist()) for s, c in frequent_itemsets(m, 0.5)]
    [([[0], [1], [2]], [3, 3, 3]), ([[0, 1], [0, 2], [1, 2]], [2, 2, 2])]
    """
    csc = sp.csc_matrix(matrix)  # no copy when it is one (as encode_baskets makes)
    if not csc.has_canonical_format or not csc.data.all():
        csc = csc.copy()
        csc.sum_duplicates()
        csc.eliminate_zeros()
    n, n_items = csc.shape
    need = min_count(min_support, n)
    item_counts = np.diff(csc.indptr).astype(np.int64)
    frequent = np.flatnonzero(item_counts >= need)
    # Rarest first keeps the groups, and so the pairs to count, small.
    frequent = frequent[np.argsort(item_counts[frequent], kind="stable")]
    n_freq = len(frequent)
    limit = n_freq if max_len is None else min(max_len, n_freq)
    if n_freq > max_itemsets:
        raise TooManyItemsetsError(_too_many(max_itemsets, min_support))
    found: list[list[tuple[np.ndarray, np.ndarray]]] = [
        [(np.arange(n_freq, dtype=np.int64)[:, None], item_counts[frequent])]]
    total = [n_freq]

    def emit(n_new: int) -> Callable[[np.ndarray, np.ndarray], None]:
        # Check the budget before the new itemsets are made, then keep them.
        total[0] += n_new
        if total[0] > max_itemsets:
            raise TooManyItemsetsError(_too_many(max_itemsets, min_support))
        return keep

    def keep(sets: np.ndarray, counts: np.ndarray) -> None:
        while len(found) < sets.shape[1]:
            found.append([])
        found[sets.shape[1] - 1].append((sets, counts))

    if limit >= 2:
        # Level 1: one row per basket, listing its frequent items by rank (the columns
        # taken in rank order, then turned into rows: sorted by rank).
        level1 = csc[:, frequent].tocsr()
        level1.sort_indices()
        level: Level | None = (
            level1.indptr.astype(np.int64), level1.indices.astype(np.int32),
            np.arange(n_freq, dtype=np.int64)[:, None], np.array([0, n_freq], dtype=np.int64))
        del level1
        while level is not None:  # one level at a time: the last one is freed first
            level = _next_level(*level, need, limit, emit)
    out = []
    for parts in found:
        sets = frequent[np.concatenate([p[0] for p in parts])]
        counts = np.concatenate([p[1] for p in parts])
        sets.sort(axis=1)
        order = lexicographic_order(sets, n_items)
        out.append((sets[order], counts[order]))
    return out


def lexicographic_order(rows: np.ndarray, n_values: int) -> np.ndarray:
    """Order of the rows of ``rows`` (values in ``0 .. n_values - 1``), first column first.

    Examples
    --------
    >>> import numpy as np
    >>> lexicographic_order(np.array([[1, 2], [0, 3], [1, 0]]), 4).tolist()
    [1, 2, 0]
    """
    k = rows.shape[1]
    if k == 1:
        return np.argsort(rows[:, 0], kind="stable")
    if n_values ** k < 2**63:  # one number per row: a single sort
        key = rows[:, 0].copy()
        for c in range(1, k):
            key *= n_values
            key += rows[:, c]
        return np.argsort(key, kind="stable")
    return np.lexsort(rows.T[::-1])


def _too_many(max_itemsets: int, min_support: float) -> str:
    return (f"more than {max_itemsets:,} frequent itemsets at min_support={min_support}; "
            "raise min_support or set max_len")


def _next_level(indptr: np.ndarray, indices: np.ndarray, sets: np.ndarray,
                bounds: np.ndarray, need: int, limit: int, emit: Emit) -> Level | None:
    """Count every candidate of one level, emit the frequent ones, make the next level.

    Parameters
    ----------
    indptr, indices : ndarray
        Rows in CSR form: each row is one basket within one group of siblings and
        lists the siblings (row numbers of ``sets``, increasing) the basket holds.
    sets : ndarray
        ``(m, k)`` item ranks of the itemsets, sorted so that each group is a run.
    bounds : ndarray
        Start of each group in ``sets``, then ``m``.
    need : int
        Baskets a frequent itemset needs.
    limit : int
        Longest itemset wanted.
    emit : callable
        ``emit(n)`` checks the budget for ``n`` new itemsets and returns the function
        that keeps them (``keep(sets, counts)``).

    Returns
    -------
    tuple or None
        The same four arrays for the next level (its candidates that are frequent
        and have a sibling), or None when nothing can grow.
    """
    m, k = sets.shape
    sizes = np.diff(bounds)
    group = np.repeat(np.arange(len(sizes)), sizes)
    local = np.arange(m, dtype=np.int64) - bounds[group]
    # Candidate (a, b), siblings with a before b, has key offset[group] + local[a] *
    # size + local[b]: one number per candidate, dense within the level.
    offset = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes.astype(np.int64) ** 2, out=offset[1:])
    n_keys = int(offset[-1])
    base = offset[group] + local * sizes[group]
    row_len = np.diff(indptr)
    first_pair = np.zeros(len(row_len) + 1, dtype=np.int64)
    np.cumsum(row_len * (row_len - 1) // 2, out=first_pair[1:])
    if first_pair[-1] == 0:
        return None
    # Entry numbers and keys take 32 bits unless the level is huge.
    entry_type = np.int32 if len(indices) < 2**31 else np.int64
    key_type = np.int32 if n_keys < 2**31 else np.int64
    col_base = base[indices].astype(key_type)
    col_local = local[indices].astype(key_type)

    def pairs(r0: int, r1: int) -> list[tuple[np.ndarray, np.ndarray]]:
        # Every pair of entries (p, q), p before q, of the rows r0..r1: the entry p
        # (a row of the next level) and the candidate's key, in chunks of whole rows
        # (small arrays, reused memory).
        return [_row_pairs(indptr, row_len, c0, c1, col_base, col_local, entry_type)
                for c0, c1 in _cuts(first_pair, r0, r1, _CHUNK_PAIRS)]

    # The pairs are made once and kept for the second pass below, unless there are
    # more than _LEVEL_PAIRS; then they are made again, span by span.
    spans = _cuts(first_pair, 0, len(row_len), _LEVEL_PAIRS)
    kept = pairs(*spans[0]) if len(spans) == 1 else None
    dense = n_keys <= _DENSE_KEYS
    if dense:
        counts = np.zeros(n_keys, dtype=np.intp)  # numpy's fast path of ``add.at``
        for r0, r1 in spans:
            for _, keys in kept if kept is not None else pairs(r0, r1):
                np.add.at(counts, keys, 1)
        fkeys = np.flatnonzero(counts >= need)
        fcounts = counts[fkeys].astype(np.int64, copy=False)
        del counts
    else:
        uniq, tallies = [], []
        for r0, r1 in spans:
            keys = np.concatenate([k for _, k in (kept if kept is not None else pairs(r0, r1))])
            u, c = np.unique(keys, return_counts=True)
            uniq.append(u)
            tallies.append(c)
        u, inverse = np.unique(np.concatenate(uniq), return_inverse=True)
        c = np.bincount(inverse, weights=np.concatenate(tallies)).astype(np.int64)
        fkeys, fcounts = u[c >= need], c[c >= need]
    if len(fkeys) == 0:
        return None
    keep = emit(len(fkeys))  # raises when the itemsets exceed the budget
    g = np.searchsorted(offset, fkeys, side="right") - 1
    within = fkeys - offset[g]
    a = bounds[g] + within // sizes[g]
    b = bounds[g] + within % sizes[g]
    del g, within
    new = np.empty((len(a), k + 1), dtype=np.int64)
    new[:, :k] = sets[a]
    new[:, k] = sets[b, -1]
    keep(new, fcounts)  # keys increase with (a, b): ``new`` is sorted, groups are runs
    if k + 1 >= limit:
        return None
    # The next level: only candidates with a sibling can grow.
    grows = _with_sibling(a)
    if not grows.any():
        return None
    gkeys = fkeys[grows]
    child_bounds = np.flatnonzero(np.r_[True, a[grows][1:] != a[grows][:-1], True])
    column = None
    if dense:
        column = np.full(n_keys, -1, dtype=entry_type)
        column[gkeys] = np.arange(len(gkeys))
    parents, cols = [], []
    for r0, r1 in spans:
        for first, keys in kept if kept is not None else pairs(r0, r1):
            if column is not None:
                col = column[keys]
                hit = col >= 0
            else:
                col = np.minimum(np.searchsorted(gkeys, keys), len(gkeys) - 1)
                hit = gkeys[col] == keys
            parents.append(first[hit])
            cols.append(col[hit].astype(entry_type, copy=False))
    del kept, column
    # Each parent entry's children form one run, parents in increasing order: one row
    # of the next level.
    parent = np.concatenate(parents)
    del parents
    if len(parent) == 0:
        return None
    child_ptr = np.flatnonzero(np.r_[True, parent[1:] != parent[:-1], True])
    child_cols = np.concatenate(cols)
    return child_ptr, child_cols, new[grows], child_bounds


def _with_sibling(parent: np.ndarray) -> np.ndarray:
    """Whether each entry of a sorted array shares its value with another entry."""
    start = np.flatnonzero(np.r_[True, parent[1:] != parent[:-1]])
    size = np.diff(np.r_[start, len(parent)])
    return np.repeat(size >= 2, size)


def _row_pairs(indptr: np.ndarray, row_len: np.ndarray, r0: int, r1: int,
               col_base: np.ndarray, col_local: np.ndarray,
               entry_type: type[np.signedinteger[Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of entries ``p < q`` of the same row, for rows ``r0 .. r1``.

    Returns the first entry ``p`` of each pair (the pairs of one ``p`` form one run, in
    increasing ``q``) and the pair's candidate key ``col_base[p] + col_local[q]``.
    """
    e0, e1 = int(indptr[r0]), int(indptr[r1])
    entry = np.arange(e0, e1, dtype=entry_type)
    # Entries after each entry in its row.
    later = np.repeat(indptr[r0 + 1:r1 + 1].astype(entry_type), row_len[r0:r1])
    later -= entry + 1
    first = np.repeat(entry, later)
    # The second entry runs from p + 1 on: the pair's number minus the pairs before p.
    shift = np.cumsum(later, dtype=entry_type)
    shift -= later + entry + 1 - e0
    second = np.arange(e0, e0 + len(first), dtype=entry_type)
    second -= np.repeat(shift, later)
    keys = np.repeat(col_base[e0:e1], later)
    keys += col_local[second]
    return first, keys


def _cuts(first_pair: np.ndarray, r0: int, r1: int, most: int) -> list[tuple[int, int]]:
    """Rows ``r0 .. r1`` cut into runs of at most ``most`` pairs (or a single row)."""
    out = []
    while r0 < r1:
        end = int(np.searchsorted(first_pair, first_pair[r0] + most, side="right")) - 1
        end = min(r1, max(end, r0 + 1))
        out.append((r0, end))
        r0 = end
    return out


def mine_itemsets(
    matrix: sp.spmatrix, min_support: float, max_len: int | None = None,
    max_itemsets: int = 2_000_000,
) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """All itemsets with support >= ``min_support`` and their basket counts.

    :func:`frequent_itemsets` as one list of tuples (shortest first, then in
    lexicographic order).

    Parameters
    ----------
    matrix : sparse matrix
        Baskets x items, non-zero where the basket holds the item.
    min_support : float
        Minimum share of baskets, in (0, 1].
    max_len : int, optional
        Longest itemset to return.
    max_itemsets : int, default 2,000,000
        Stop with :class:`TooManyItemsetsError` beyond this many itemsets.

    Returns
    -------
    itemsets : list of tuple of int
        Item column indices, each tuple sorted.
    counts : ndarray
        Number of baskets holding each itemset.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> m = sp.csc_matrix(np.array([[1, 1, 0], [1, 1, 1], [1, 0, 1], [0, 1, 1]]))
    >>> sets, counts = mine_itemsets(m, 0.5)
    >>> list(zip(sets, counts.tolist()))
    [((0,), 3), ((1,), 3), ((2,), 3), ((0, 1), 2), ((0, 2), 2), ((1, 2), 2)]
    """
    levels = frequent_itemsets(matrix, min_support, max_len, max_itemsets)
    sets = [tuple(s) for level, _ in levels for s in level.tolist()]
    counts = np.concatenate([c for _, c in levels]) if levels else np.zeros(0, np.int64)
    return sets, counts

