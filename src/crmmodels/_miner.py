"""Exact frequent-itemset mining on bitsets (Eclat, depth first).

Each frequent item keeps the set of baskets holding it as a packed bitset
(``uint64`` words). Extending an itemset intersects its bitset with those of its
remaining siblings in one vectorised call and counts the bits with
``numpy.bitwise_count``; siblings below the support count are pruned. An itemset is
frequent when its count is at least ``ceil(min_support * n_baskets)``, the rule
mlxtend, arules and Spark apply.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

__all__ = ["TooManyItemsetsError", "min_count", "mine_itemsets"]


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


def _bitsets(matrix: sp.csc_matrix, columns: np.ndarray) -> np.ndarray:
    """Packed basket bitsets (rows) of the given item columns, as uint64 words."""
    n = matrix.shape[0]
    n_words = (n + 63) // 64
    out = np.zeros((len(columns), n_words * 8), dtype=np.uint8)
    for k, j in enumerate(columns):
        rows = matrix.indices[matrix.indptr[j]:matrix.indptr[j + 1]]
        col = np.zeros(n_words * 64, dtype=bool)
        col[rows] = True
        out[k] = np.packbits(col, bitorder="little")
    return out.view(np.uint64)


class TooManyItemsetsError(ValueError):
    """The search would return more itemsets than allowed."""


def mine_itemsets(
    matrix: sp.spmatrix, min_support: float, max_len: int | None = None,
    max_itemsets: int = 2_000_000,
) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """All itemsets with support >= ``min_support`` and their basket counts.

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
    itemsets : list of tuple of int
        Item column indices, each tuple sorted.
    counts : ndarray
        Number of baskets holding each itemset.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> m = sp.csc_matrix(np.array([[1, 1, 0], [1, 1, 1], [1, 0, 1], [0, 1, 1]]))
    >>> sets, counts = mine_itemsets(m, 0.5)
    >>> sorted(zip(sets, counts.tolist()))
    [((0,), 3), ((0, 1), 2), ((0, 2), 2), ((1,), 3), ((1, 2), 2), ((2,), 3)]
    """
    csc = sp.csc_matrix(matrix, dtype=bool)
    csc.sum_duplicates()
    n = csc.shape[0]
    need = min_count(min_support, n)
    item_counts = np.diff(csc.indptr)
    frequent = np.flatnonzero(item_counts >= need)
    # Rarest first keeps the intersections (and the search) small.
    frequent = frequent[np.argsort(item_counts[frequent], kind="stable")]
    bits = _bitsets(csc, frequent)
    out_sets: list[tuple[int, ...]] = []
    out_counts: list[int] = []
    limit = max_len if max_len is not None else len(frequent)

    def extend(prefix: tuple[int, ...], items: np.ndarray, sets: np.ndarray,
               counts: np.ndarray) -> None:
        for i in range(len(items)):
            itemset = (*prefix, int(items[i]))
            if len(out_sets) >= max_itemsets:
                raise TooManyItemsetsError(
                    f"more than {max_itemsets:,} frequent itemsets at min_support="
                    f"{min_support}; raise min_support or set max_len")
            out_sets.append(itemset)
            out_counts.append(int(counts[i]))
            if len(itemset) >= limit or i + 1 >= len(items):
                continue
            inter = sets[i + 1:] & sets[i]
            c = np.bitwise_count(inter).sum(axis=1, dtype=np.int64)
            keep = c >= need
            if keep.any():
                extend(itemset, items[i + 1:][keep], inter[keep], c[keep])

    if len(frequent):
        extend((), frequent, bits, item_counts[frequent].astype(np.int64))
    return [tuple(sorted(s)) for s in out_sets], np.asarray(out_counts, dtype=np.int64)
