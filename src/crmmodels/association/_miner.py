"""Exact frequent-itemset mining on bitsets (Eclat, depth first).

Items are counted from the sparse column lengths and every pair at once with one
sparse product ``X'X`` of the frequent columns, so no bitset is touched for the
(usually many) pairs that are not frequent. Only items of frequent pairs that can grow
into triples get a packed basket bitset (``uint64`` words, built in one vectorised
pass). Extending an itemset intersects its bitset with those of its remaining
siblings in one vectorised call and counts the bits with ``numpy.bitwise_count``;
siblings below the support count are pruned, and on long bitsets a candidate
``prefix + (a, b)`` is first dropped when the pair ``(a, b)`` is not frequent. An
itemset is frequent when its count is at least ``ceil(min_support * n_baskets)``, the
rule mlxtend, arules and Spark apply.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

__all__ = ["TooManyItemsetsError", "min_count", "mine_itemsets"]

# Bitset length (64-bit words, i.e. baskets / 64) from which candidate extensions are
# first checked against the frequent pairs: a look-up costs about as much as
# intersecting ~1,000 words.
_PAIR_CHECK_WORDS = 1024


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
    """Packed basket bitsets (rows) of the given item columns, as uint64 words.

    Vectorised: every (basket, item) entry becomes one bit; the bits falling in the
    same 64-bit word are OR-ed together with one ``reduceat``.
    """
    n_words = (matrix.shape[0] + 63) // 64
    out = np.zeros((len(columns), n_words), dtype=np.uint64)
    if len(columns) == 0:
        return out
    starts = matrix.indptr[columns]
    lengths = matrix.indptr[columns + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        return out
    # Positions of the chosen columns' entries in ``indices`` (row order kept).
    owner = np.repeat(np.arange(len(columns), dtype=np.int64), lengths)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths,
                                                           lengths)
    rows = matrix.indices[np.repeat(starts, lengths) + offsets].astype(np.int64)
    word = owner * n_words + (rows >> 6)
    bit = np.left_shift(np.uint64(1), (rows & 63).astype(np.uint64))
    first = np.flatnonzero(np.r_[True, word[1:] != word[:-1]])
    out.reshape(-1)[word[first]] = np.bitwise_or.reduceat(bit, first)
    return out


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
    csc.sort_indices()
    n = csc.shape[0]
    need = min_count(min_support, n)
    item_counts = np.diff(csc.indptr)
    frequent = np.flatnonzero(item_counts >= need)
    # Rarest first keeps the intersections (and the search) small.
    frequent = frequent[np.argsort(item_counts[frequent], kind="stable")]
    n_freq = len(frequent)
    limit = max_len if max_len is not None else n_freq
    # Itemsets are built as tuples of positions and mapped to columns at the end.
    out_sets: list[tuple[int, ...]] = [(p,) for p in range(n_freq)]
    out_counts: list[int] = item_counts[frequent].tolist()
    if limit < 2 or n_freq < 2:
        return [(int(j),) for j in frequent], np.asarray(out_counts, dtype=np.int64)

    # Every pair count at once: one sparse product of the frequent columns
    # (positions in rarest-first order); keep the upper triangle at or above ``need``.
    sub = csc[:, frequent].astype(np.int32)
    co = sp.coo_matrix(sp.triu(sub.T @ sub, k=1))
    keep = co.data >= need
    first, second, pair_count = co.row[keep], co.col[keep], co.data[keep].astype(np.int64)
    order = np.lexsort((second, first))
    first, second, pair_count = first[order], second[order], pair_count[order]
    # Sorted keys of the frequent pairs: a candidate (.., a, b) is pruned at once when
    # the pair (a, b) is not frequent, before any bitset is touched.
    pair_keys = first.astype(np.int64) * n_freq + second
    bounds = np.searchsorted(first, np.arange(n_freq + 1))
    # Bitsets are needed only for the items of pairs that can grow into triples.
    grows = np.diff(bounds) >= 2 if limit >= 3 else np.zeros(n_freq, dtype=bool)
    needed = np.zeros(n_freq, dtype=bool)
    needed[grows] = True
    needed[second[np.repeat(grows, np.diff(bounds))]] = True
    slot = np.full(n_freq, -1, dtype=np.int64)
    slot[needed] = np.arange(int(needed.sum()))
    bits = _bitsets(csc, frequent[needed])
    buffer = np.empty_like(bits)
    check_pairs = bits.shape[1] >= _PAIR_CHECK_WORDS

    def check_budget(more: int) -> None:
        if len(out_sets) + more > max_itemsets:
            raise TooManyItemsetsError(
                f"more than {max_itemsets:,} frequent itemsets at min_support="
                f"{min_support}; raise min_support or set max_len")

    def extend(prefix: tuple[int, ...], items: np.ndarray, sets: np.ndarray,
               counts: np.ndarray) -> None:
        # ``items`` are positions extending ``prefix``, each already frequent with
        # it; ``sets[k]`` is the bitset of ``prefix + (items[k],)``.
        size = len(items)
        check_budget(size)
        item_list = items.tolist()
        out_sets.extend([(*prefix, p) for p in item_list])
        out_counts.extend(counts.tolist())
        if len(prefix) + 2 > limit or size < 2:
            return
        pair_ok = None
        if check_pairs:
            # (a, b) must be a frequent pair for prefix + (a, b) to be frequent: look
            # all sibling pairs up at once, before touching any bitset.
            keys = (items[:, None] * n_freq + items[None, :]).ravel()
            hit = np.minimum(np.searchsorted(pair_keys, keys), len(pair_keys) - 1)
            pair_ok = np.triu((pair_keys[hit] == keys).reshape(size, size), k=1)
            worth = pair_ok.any(axis=1).tolist()
        for k in range(size - 1):
            if pair_ok is not None and not worth[k]:
                continue
            inter = np.bitwise_and(sets[k + 1:], sets[k], out=buffer[:size - k - 1])
            c = np.bitwise_count(inter).sum(axis=1, dtype=np.int64)
            ok = c >= need
            if pair_ok is not None:
                ok &= pair_ok[k, k + 1:]
            if ok.any():
                extend((*prefix, item_list[k]), items[k + 1:][ok], inter[ok], c[ok])

    for a in range(n_freq):
        lo, hi = bounds[a], bounds[a + 1]
        if hi == lo:
            continue
        if not grows[a]:
            check_budget(hi - lo)
            out_sets.extend([(a, b) for b in second[lo:hi].tolist()])
            out_counts.extend(pair_count[lo:hi].tolist())
            continue
        partners = second[lo:hi]
        sets = np.bitwise_and(bits[slot[partners]], bits[slot[a]])
        extend((a,), partners, sets, pair_count[lo:hi])
    columns = frequent.tolist()
    return ([tuple(sorted([columns[p] for p in s])) for s in out_sets],
            np.asarray(out_counts, dtype=np.int64))
