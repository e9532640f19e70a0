"""Point-in-time card-transaction features.

Every rolling window is computed for all transactions at once: rows are sorted by
(group, time), each row's window start is found with one ``numpy.searchsorted`` on a
combined (group, seconds) key, and counts and sums come from cumulative sums. No
per-row or per-customer Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels.data import CRMData, argsort_text, as_transaction_data, whole_number
from crmmodels.errors import InvalidParameterError

__all__ = ["fraud_features"]

_DAY = 86_400


def _windows(values: Sequence[int], name: str) -> list[int]:
    out = [int(w) for w in values]
    if not out or any(isinstance(w, bool) or int(w) != w or w <= 0 for w in values):
        raise InvalidParameterError(f"{name} must be positive whole days, got {values!r}")
    return out


def _stable_order(group: np.ndarray) -> np.ndarray:
    """``numpy.argsort(group, kind="stable")`` of non-negative integers below 2**32.

    By 16-bit digits, least significant first: numpy sorts 16-bit integers by radix.
    """
    top = int(group.max()) if len(group) else 0
    low = np.argsort(group.astype(np.uint16), kind="stable")
    if top < 1 << 16:
        return low
    high = (group[low] >> 16).astype(np.uint16)
    return low[np.argsort(high, kind="stable")]


def _sorted_keys(group: np.ndarray, seconds: np.ndarray, max_offset: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Order by (group, time) and the monotone key ``group * span + seconds``.

    ``span`` exceeds the time range plus the longest look-back, so a key minus any
    look-back never reaches the previous group's keys. Rows already in time order (a
    transaction log) only need a stable sort by group, which is much cheaper.
    """
    span = int(seconds.max() - seconds.min()) + max_offset + 1 if len(seconds) else 1
    key = group.astype(np.int64) * span + (seconds - seconds.min() if len(seconds) else 0)
    in_time_order = not (seconds[1:] < seconds[:-1]).any()
    if in_time_order and 0 <= int(group.min(initial=0)) and int(group.max(initial=0)) < 1 << 32:
        order = _stable_order(group)
    else:
        order = np.argsort(key, kind="stable")
    return order, key[order]


def _run_ends(key: np.ndarray) -> np.ndarray:
    """For sorted ``key``: ``numpy.searchsorted(key, key, side="right")``, in linear time."""
    n = len(key)
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    ends = np.flatnonzero(key[1:] != key[:-1]) + 1
    ends = np.append(ends, n)
    return np.repeat(ends, np.diff(ends, prepend=0))


def _names(wins: list[int], t_wins: list[int], with_terminal: bool) -> list[str]:
    """Return the feature columns in their order."""
    names = ["amount"]
    for w in wins:
        names += [f"customer_tx_{w}d", f"customer_mean_amount_{w}d", f"amount_ratio_{w}d"]
    names += ["seconds_since_previous", "is_night", "is_weekend"]
    if with_terminal:
        for w in t_wins:
            names += [f"terminal_tx_{w}d", f"terminal_risk_{w}d"]
    return names


def fraud_features(data: CRMData | pd.DataFrame, *, windows: Sequence[int] = (1, 7, 30),
                   terminal_windows: Sequence[int] = (1, 7, 30), delay_days: int = 7,
                   terminal_column: str | None = "terminal_id", label: str = "is_fraud",
                   pos_label: Any = None
                   ) -> pd.DataFrame:
    """Per-transaction fraud features with no look-ahead.

    Parameters
    ----------
    data : CRMData or DataFrame
        Transactions ``customer_id, timestamp, amount`` and optionally
        ``transaction_id``, ``is_fraud`` and a terminal (merchant) column.
    windows : sequence of int, default (1, 7, 30)
        Customer windows in days, ending at (and including) the transaction.
    terminal_windows : sequence of int, default (1, 7, 30)
        Terminal risk windows in days.
    delay_days : int, default 7
        Fraud labels are known only after investigation: the terminal risk of a
        transaction at time ``t`` uses the transactions in ``(t - delay - w, t -
        delay]`` (as the Fraud Detection Handbook does); with ``delay_days=0``,
        ``(t - w, t)``, without the transaction's own second.
    terminal_column : str or None, default "terminal_id"
        Column naming the terminal or merchant; None leaves the terminal features out.
    pos_label : str, number or bool, optional
        The value of ``label`` that marks a fraud, for labels of two other values.
    label : str, default "is_fraud"
        Column of 0/1 fraud labels used for the terminal risk (missing labels count
        as not fraudulent).

    Returns
    -------
    DataFrame
        One row per transaction, in the input order, indexed by ``transaction_id``
        when present: ``amount``; per window ``w``: ``customer_tx_{w}d`` (number of the
        customer's transactions in ``(t - w days, t]``, this one and any at the same
        second included),
        ``customer_mean_amount_{w}d`` and ``amount_ratio_{w}d`` (amount / that mean);
        ``seconds_since_previous`` (NaN for a customer's first transaction);
        ``is_night`` (before 06:00) and ``is_weekend``; with a terminal column and
        the label column: ``terminal_tx_{w}d`` and ``terminal_risk_{w}d`` (fraud share of
        the terminal's transactions in the delayed window, 0 when it had none).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a"], "amount": [10.0, 30.0, 20.0],
    ...                    "timestamp": pd.to_datetime(["2024-01-01 10:00",
    ...                                                 "2024-01-01 23:00",
    ...                                                 "2024-01-03 09:00"])})
    >>> f = fraud_features(tx, windows=(1,), terminal_windows=(1,))
    >>> f[["customer_tx_1d", "customer_mean_amount_1d", "seconds_since_previous"]].values.tolist()
    [[1.0, 10.0, nan], [2.0, 20.0, 46800.0], [1.0, 20.0, 122400.0]]
    """
    wins = _windows(windows, "windows")
    t_wins = _windows(terminal_windows, "terminal_windows")
    whole_number(delay_days, "delay_days", low=0)
    data = as_transaction_data(data, "fraud_features")
    cols_in = _columns(data, terminal_column, label)
    seconds, amount, codes = cols_in.seconds, cols_in.amount, cols_in.codes
    with_terminal = cols_in.terminal is not None
    names = _names(wins, t_wins, with_terminal)
    # Results are written straight into the columns of one Fortran-ordered block, which
    # becomes the frame without a copy.
    block = np.empty((len(amount), len(names)), dtype=np.float64, order="F")
    col = {name: block[:, j] for j, name in enumerate(names)}
    col["amount"][:] = amount

    order, key = _sorted_keys(codes, seconds, max(wins) * _DAY)
    # Window sums are differences of one running sum over all rows; extended precision
    # keeps them exact to float64 even when the running total is large.
    cum = np.r_[0.0, np.cumsum(amount[order], dtype=np.longdouble)]
    # Transactions at the very same second all belong to each other's windows.
    hi = _run_ends(key)
    for w in wins:
        lo = np.searchsorted(key, key - w * _DAY, side="right")
        count = hi - lo
        col[f"customer_tx_{w}d"][order] = count
        mean = col[f"customer_mean_amount_{w}d"]
        mean[order] = (cum[hi] - cum[lo]) / count
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(amount, mean, out=col[f"amount_ratio_{w}d"])
        col[f"amount_ratio_{w}d"][mean <= 0] = np.nan
    same = np.r_[False, codes[order][1:] == codes[order][:-1]]
    gap = np.r_[0, np.diff(seconds[order])].astype(np.float64)
    gap[~same] = np.nan
    col["seconds_since_previous"][order] = gap
    hours = (seconds % _DAY) // 3600
    col["is_night"][:] = hours < 6
    weekday = (seconds // _DAY + 3) % 7  # 1970-01-01 was a Thursday
    col["is_weekend"][:] = weekday >= 5

    if cols_in.terminal is not None:
        assert cols_in.labels is not None
        terminal = cols_in.terminal
        from crmmodels.propensity._tabular import binary_or_missing

        # Unknown (missing) labels count as not fraudulent.
        fraud = np.nan_to_num(binary_or_missing(cols_in.labels, label, "transactions",
                                                pos_label), nan=0.0)
        t_order, t_key = _sorted_keys(terminal, seconds, (delay_days + max(t_wins)) * _DAY)
        cum_fraud = np.r_[0.0, np.cumsum(fraud[t_order])]
        # With no delay the window stops just before the transaction's own second: its
        # label (and any at that very second) is not known yet when it is scored.
        end = np.searchsorted(t_key, t_key - delay_days * _DAY,
                              side="left" if delay_days == 0 else "right")
        for w in t_wins:
            start = np.searchsorted(t_key, t_key - (delay_days + w) * _DAY, side="right")
            n = end - start
            col[f"terminal_tx_{w}d"][t_order] = n
            with np.errstate(invalid="ignore", divide="ignore"):
                risk = np.where(n > 0, (cum_fraud[end] - cum_fraud[start]) / n, 0.0)
            col[f"terminal_risk_{w}d"][t_order] = risk
    return pd.DataFrame(block, index=cols_in.index, columns=names, copy=False)


@dataclass
class _Columns:
    """The columns the features read, as arrays: no frame of the whole input."""

    seconds: np.ndarray  # wall-clock seconds since the epoch (floored)
    amount: np.ndarray
    codes: np.ndarray  # customer of each row, any integer labelling
    terminal: np.ndarray | None  # terminal of each row (missing: one group of its own)
    labels: pd.Series | None
    index: pd.Index


def _columns(data: CRMData, terminal_column: str | None, label: str) -> _Columns:
    """Read the columns from the library that holds the transactions.

    Polars data give their columns straight to numpy; the label column alone comes to
    pandas, for its parsing rules.
    """
    if data.engine("transactions") != "polars":
        from crmmodels.data import wall_clock

        tx = data.transactions
        assert tx is not None  # as_transaction_data requires it
        seconds = wall_clock(tx["timestamp"]).astype("datetime64[s]").astype(np.int64)
        terminal = labels = None
        if terminal_column is not None and terminal_column in tx.columns and label in tx:
            terminal = pd.factorize(tx[terminal_column].to_numpy())[0].astype(np.int64)
            labels = tx[label]
        return _Columns(
            seconds=np.asarray(seconds), amount=tx["amount"].to_numpy(dtype=np.float64),
            codes=data.customer_codes("transactions")[0], terminal=terminal, labels=labels,
            index=(pd.Index(tx["transaction_id"], name="transaction_id")
                   if "transaction_id" in tx.columns else pd.RangeIndex(len(tx))))
    import polars as pl

    rows = data.lazy_rows("transactions")
    present = rows.collect_schema().names()
    with_terminal = (terminal_column is not None and terminal_column in present
                     and label in present)
    frame = nw.to_native(rows.collect())
    # The customers coded in id order, as CRMData.customer_codes codes them (the
    # running sums then add in the same order and the means agree to the last bit).
    ids = pd.Index(frame["customer_id"].unique().to_numpy(), dtype="str")
    ids = ids[argsort_text(ids)]
    exprs = [(pl.col("timestamp").dt.epoch("us") // 1_000_000).alias("seconds"),
             pl.col("amount").cast(pl.Float64),
             pl.col("customer_id").replace_strict(ids.tolist(), range(len(ids)),
                                                  return_dtype=pl.Int64).alias("codes")]
    if with_terminal:
        assert terminal_column is not None
        exprs.append(pl.col(terminal_column).cast(pl.String).cast(pl.Categorical)
                     .to_physical().cast(pl.Int64).fill_null(-1).alias("terminal"))
    keep = [label] if with_terminal else []
    keep += ["transaction_id"] if "transaction_id" in present else []
    got = frame.select(*exprs, *keep)
    return _Columns(
        seconds=got["seconds"].to_numpy(), amount=got["amount"].to_numpy(),
        codes=got["codes"].to_numpy(),
        terminal=got["terminal"].to_numpy() if with_terminal else None,
        labels=got[label].to_pandas() if with_terminal else None,
        index=(pd.Index(got["transaction_id"].to_pandas(), name="transaction_id")
               if "transaction_id" in present else pd.RangeIndex(len(got))))

