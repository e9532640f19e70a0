"""Cancellations matched to the orders they cancel.

Shop logs often record a cancelled order twice: the order itself and, later, a
cancellation row (e.g. invoice ``C541433`` in the UCI Online Retail file) with the
same customer, product and quantity and a negative quantity or amount. Dropping the
cancellation rows alone keeps the cancelled orders as purchases; keeping both counts
the cancellation as a return in a later period. :func:`match_cancellations` pairs each
cancellation with the order it cancels and removes both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import pandas as pd

from crmmodels.data.container import CRMData
from crmmodels.errors import DataValidationError, InvalidParameterError

__all__ = ["CancellationMatch", "match_cancellations"]

_COLUMNS: Final = ("customer_id", "timestamp", "transaction_id", "product_id", "quantity",
                   "amount")
OnUnmatched = Literal["keep", "drop"]


@dataclass(frozen=True)
class CancellationMatch:
    """The transactions without their cancelled orders, and what was removed.

    Attributes
    ----------
    transactions : DataFrame
        The transactions without the matched cancellations and their orders (and
        without the unmatched cancellations when ``on_unmatched="drop"``), a new frame.
    pairs : DataFrame
        One row per matched cancellation: ``cancellation`` and ``order``, the row
        labels (index values) of the cancellation and of the order it cancels.
    unmatched : Index
        Row labels of the cancellations without an order to match.
    n_matched : int
        Cancellations matched to an order (each removed with its order).
    n_unmatched : int
        Cancellations without an order of the same customer, product and quantity at
        or before them (e.g. the order predates the data).
    n_rows_removed : int
        Rows removed: two per matched cancellation, plus the unmatched cancellations
        when they are dropped.
    amount_removed : float
        Sum of the amounts of the removed orders (the cancellations' own amounts are
        the negative counterpart).
    """

    transactions: pd.DataFrame
    pairs: pd.DataFrame
    unmatched: pd.Index
    n_matched: int
    n_unmatched: int
    n_rows_removed: int
    amount_removed: float


def match_cancellations(
    transactions: pd.DataFrame | CRMData,
    *,
    cancel_prefix: str = "C",
    on_unmatched: OnUnmatched = "keep",
) -> CancellationMatch:
    """Remove each cancellation together with the order it cancels.

    A cancellation is a row whose ``transaction_id`` starts with ``cancel_prefix`` and
    whose ``quantity`` or ``amount`` is negative. It cancels an order: a row of the same
    ``customer_id`` and ``product_id`` whose ``transaction_id`` does not start with the
    prefix, with positive ``quantity`` and ``amount``, the same quantity in absolute
    value, and stamped at or before the cancellation. Of these, the most recent one not
    yet cancelled is taken (a stack per customer, product and quantity, in time order;
    orders before cancellations at equal times). Rows with the prefix and nothing
    negative, and negative rows without it (plain returns), are left as they are.

    The matching is vectorised: one sort, cumulative sums and a second sort, with no
    loop per customer.

    Parameters
    ----------
    transactions : DataFrame or CRMData
        Columns ``customer_id, timestamp, transaction_id, product_id, quantity,
        amount`` (any other column is kept); ``timestamp`` holds parsed dates (a
        :class:`~crmmodels.CRMData` built with ``allow_returns=True`` has them). Not
        modified.
    cancel_prefix : str, default "C"
        The start of the transaction ids of cancellations.
    on_unmatched : {"keep", "drop"}, default "keep"
        What to do with cancellations without an order: keep them as returns, or drop
        them. Either way they are counted.

    Returns
    -------
    CancellationMatch
        The remaining transactions, the matched pairs and the counts.

    Raises
    ------
    DataValidationError
        A column is missing, or ``timestamp`` does not hold dates (or has missing
        values).
    InvalidParameterError
        ``cancel_prefix`` is not a non-empty string, or ``on_unmatched`` is not one of
        its values.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2011-01-03 10:00", "2011-01-03 10:05",
    ...                                  "2011-02-01 09:00", "2011-01-05 12:00"]),
    ...     "transaction_id": ["541431", "C541433", "545000", "C541500"],
    ...     "product_id": ["23166", "23166", "23166", "22980"],
    ...     "quantity": [74215, -74215, 12, -2],
    ...     "amount": [77183.6, -77183.6, 12.48, -3.3],
    ... })
    >>> result = match_cancellations(tx, on_unmatched="drop")
    >>> result.n_matched, result.n_unmatched, result.n_rows_removed
    (1, 1, 3)
    >>> result.transactions["transaction_id"].tolist()
    ['545000']
    >>> result.pairs
       cancellation  order
    0             1      0
    """
    if not isinstance(cancel_prefix, str) or not cancel_prefix:
        raise InvalidParameterError(
            f"cancel_prefix must be a non-empty string, got {cancel_prefix!r}")
    if on_unmatched not in ("keep", "drop"):
        raise InvalidParameterError(
            f"on_unmatched must be one of ['keep', 'drop'], got {on_unmatched!r}")
    tx = _frame(transactions)
    n = len(tx)
    flagged = (tx["transaction_id"].astype("string").str.startswith(cancel_prefix)
               .fillna(False).to_numpy(dtype=bool))
    quantity = tx["quantity"].to_numpy(dtype=np.float64)
    amount = tx["amount"].to_numpy(dtype=np.float64)
    cancel = flagged & ((quantity < 0) | (amount < 0))
    order = ~flagged & (quantity > 0) & (amount > 0)
    rows = np.flatnonzero(cancel | order)
    stamps = tx["timestamp"].iloc[rows]
    if getattr(stamps.dtype, "tz", None) is not None:
        stamps = stamps.dt.tz_convert(None)  # order by instant
    if stamps.isna().any():
        raise DataValidationError(
            "match_cancellations needs a timestamp on every order and cancellation",
            frame="transactions", column="timestamp", rule="not_null",
            rows=list(stamps.index[stamps.isna().to_numpy()][:5]))
    time = stamps.to_numpy().view(np.int64)
    # One stack per customer, product and quantity.
    group = pd.DataFrame({
        "customer_id": tx["customer_id"].to_numpy()[rows],
        "product_id": tx["product_id"].to_numpy()[rows],
        "size": np.abs(quantity[rows]),
    }).groupby(["customer_id", "product_id", "size"], sort=False, dropna=False).ngroup(
    ).to_numpy(dtype=np.int64)
    is_cancel = cancel[rows]
    sorted_ = np.lexsort((rows, is_cancel, time, group))
    rows, group, is_cancel = rows[sorted_], group[sorted_], is_cancel[sorted_]
    # Stack depth after each event: the walk of +1 (order) and -1 (cancellation)
    # reflected at 0; a cancellation that would go below 0 finds an empty stack.
    step = np.where(is_cancel, -1, 1).astype(np.int64)
    walk = np.cumsum(step)
    starts = np.flatnonzero(np.diff(group, prepend=-1))
    walk -= np.repeat(walk[starts] - step[starts], np.diff(np.r_[starts, len(group)]))
    low = pd.Series(walk).groupby(group).cummin().to_numpy()
    low_before = np.r_[0, low[:-1]]
    low_before[starts] = 0
    unmatched = is_cancel & (low < np.minimum(low_before, 0))
    depth = walk - np.minimum(low, 0)
    # An order pushed to level d is cancelled by the next cancellation popping level d
    # (from depth d to d - 1): per group and level, orders and their cancellations
    # alternate in time.
    matchable = ~unmatched
    level = np.where(is_cancel, depth + 1, depth)[matchable]
    m_rows, m_group, m_cancel = rows[matchable], group[matchable], is_cancel[matchable]
    by_level = np.lexsort((np.arange(len(m_rows)), level, m_group))
    m_rows, m_cancel = m_rows[by_level], m_cancel[by_level]
    at = np.flatnonzero(m_cancel)
    cancel_rows, order_rows = m_rows[at], m_rows[at - 1]
    assert not m_cancel[at - 1].any()  # the alternation above
    unmatched_rows = np.sort(rows[unmatched])
    removed = np.zeros(n, dtype=bool)
    removed[cancel_rows] = True
    removed[order_rows] = True
    if on_unmatched == "drop":
        removed[unmatched_rows] = True
    position = np.argsort(cancel_rows, kind="stable")
    index = tx.index
    pairs = pd.DataFrame({"cancellation": index[cancel_rows[position]],
                          "order": index[order_rows[position]]})
    return CancellationMatch(
        transactions=tx.loc[~removed].copy(),
        pairs=pairs,
        unmatched=index[unmatched_rows],
        n_matched=len(cancel_rows),
        n_unmatched=len(unmatched_rows),
        n_rows_removed=int(removed.sum()),
        amount_removed=float(amount[order_rows].sum()),
    )


def _frame(transactions: pd.DataFrame | CRMData) -> pd.DataFrame:
    """Return the transactions frame, checking the columns the matching needs."""
    if isinstance(transactions, CRMData):
        transactions.require("transactions")
        assert transactions.transactions is not None
        tx = transactions.transactions
    elif isinstance(transactions, pd.DataFrame):
        tx = transactions
    else:
        raise DataValidationError(
            "match_cancellations needs a transactions DataFrame or CRMData, got "
            f"{type(transactions).__name__}", frame="transactions", rule="type")
    missing = [c for c in _COLUMNS if c not in tx.columns]
    if missing:
        raise DataValidationError(
            f"match_cancellations needs the columns {list(_COLUMNS)}; missing {missing}",
            frame="transactions", column=missing[0], rule="required_column")
    stamps = tx["timestamp"]
    if not (isinstance(stamps.dtype, pd.DatetimeTZDtype)
            or pd.api.types.is_datetime64_dtype(stamps.dtype)):
        raise DataValidationError(
            f"timestamp must hold dates, got dtype {stamps.dtype}; validate the frame "
            "first (CRMData(transactions=..., allow_returns=True).transactions)",
            frame="transactions", column="timestamp", rule="parseable")
    return tx
