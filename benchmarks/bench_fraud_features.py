"""Benchmark: card-transaction rolling features against a per-customer loop, one process.

Data: the simulated card transactions of the Fraud Detection Handbook
(``load_card_transactions``, 1,754,155 rows; ``--sample`` for the 14-day subset).
Timed (wall clock, end to end from the raw frame: (a) and (a2) include building and
validating ``CRMData``; peak memory by ``tracemalloc`` in a separate run of each step):

(a) ``crmmodels.propensity.fraud_features(frame)``: customer windows 1/7/30 days,
    time since the previous transaction, night/weekend flags and terminal risk over
    1/7/30 days with a 7-day label delay, all vectorised;
(a2) the same without the terminal columns (customer windows, flags, time since the
    previous transaction);
(b) the handbook's recipe for the same windows: a Python loop over customers, each
    sorted by time with pandas' time-based ``rolling("{w}d")`` count and mean, then a
    loop over terminals with ``rolling`` fraud counts over ``delay + w`` and ``delay``
    days, differenced (the handbook's ``get_count_risk_rolling_window``);
(c) scoring: the default ``FraudModel`` fitted on the handbook's training week
    (2018-07-25 + 7 days; fit time reported apart), then ``score`` on every one of the
    transactions: features and predictions together.

The 12 shared columns (customer count and mean amount, terminal count and risk, per
window) must agree before the ratio is printed; transactions with a same-customer,
same-second twin are left out of the comparison (pandas counts ties by position, ours
counts them all). (a) also computes 7 columns (b) does not (amount ratios, time since the
previous transaction, night and weekend flags).

The script exits with status 1 when the shared columns differ.

Run: ``python benchmarks/bench_fraud_features.py [--sample] [--no-score] [--no-memory]``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd
from bench_churn import run

from crmmodels.datasets import load_card_transactions
from crmmodels.propensity import fraud_features

WINDOWS = (1, 7, 30)


def per_customer_loop(tx: pd.DataFrame) -> pd.DataFrame:
    """Compute customer window counts and mean amounts one customer at a time.

    Parameters
    ----------
    tx : DataFrame
        ``customer_id, timestamp, amount, transaction_id``.

    Returns
    -------
    DataFrame
        Indexed by ``transaction_id``: ``customer_tx_{w}d`` and
        ``customer_mean_amount_{w}d``.
    """
    parts = []
    for _, rows in tx.groupby("customer_id", sort=False):
        rows = rows.sort_values("timestamp").set_index("timestamp")
        out = pd.DataFrame(index=rows["transaction_id"].to_numpy())
        for w in WINDOWS:
            rolled = rows["amount"].rolling(f"{w}D")
            out[f"customer_tx_{w}d"] = rolled.count().to_numpy()
            out[f"customer_mean_amount_{w}d"] = rolled.mean().to_numpy()
        parts.append(out)
    return pd.concat(parts)


def per_terminal_loop(tx: pd.DataFrame, delay: int = 7) -> pd.DataFrame:
    """Compute terminal counts and fraud risk one terminal at a time (handbook recipe).

    Parameters
    ----------
    tx : DataFrame
        ``terminal_id, timestamp, is_fraud, transaction_id``.
    delay : int, default 7
        Label delay in days.

    Returns
    -------
    DataFrame
        Indexed by ``transaction_id``: ``terminal_tx_{w}d`` and ``terminal_risk_{w}d``.
    """
    parts = []
    for _, rows in tx.groupby("terminal_id", sort=False):
        rows = rows.sort_values("timestamp").set_index("timestamp")
        fraud = rows["is_fraud"].astype(float)
        fraud_delay = fraud.rolling(f"{delay}D").sum()
        count_delay = fraud.rolling(f"{delay}D").count()
        out = pd.DataFrame(index=rows["transaction_id"].to_numpy())
        for w in WINDOWS:
            n = (fraud.rolling(f"{delay + w}D").count() - count_delay).to_numpy()
            frauds = (fraud.rolling(f"{delay + w}D").sum() - fraud_delay).to_numpy()
            out[f"terminal_tx_{w}d"] = n
            with np.errstate(invalid="ignore", divide="ignore"):
                out[f"terminal_risk_{w}d"] = np.nan_to_num(frauds / n, nan=0.0)
        parts.append(out)
    return pd.concat(parts)


def main() -> int:
    """Run the benchmark and print the tables and the ratios; 1 when the results differ."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", action="store_true", help="the 14-day subset")
    parser.add_argument("--no-score", action="store_true", help="skip (c)")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the separate tracemalloc runs")
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed runs of (a) and (a2) (best is shown); the loops run once")
    parser.add_argument("--customers", type=int, default=None,
                        help="keep the transactions of the first N customers only (smoke runs)")
    args = parser.parse_args()
    mem = not args.no_memory
    data = load_card_transactions(subset="sample" if args.sample else "full")
    assert data.transactions is not None
    # The raw frame a user starts from: both sides start from it, and (a) validates it.
    tx = data.transactions.copy()
    if args.customers is not None:
        keep = np.sort(tx["customer_id"].unique())[:args.customers]
        tx = tx[tx["customer_id"].isin(keep)].reset_index(drop=True)
    print(f"{len(tx):,} transactions, {tx['customer_id'].nunique():,} customers, "
          f"{tx['terminal_id'].nunique():,} terminals\n")
    a_s, a_mb, a_rss, ours = run(lambda: fraud_features(tx), mem, repeat=args.repeat)
    c_only_s, c_only_mb, c_only_rss, _ = run(
        lambda: fraud_features(tx, terminal_column=None), mem, repeat=args.repeat)
    b_s, b_mb, b_rss, ref = run(lambda: per_customer_loop(tx), mem)
    t_s, t_mb, t_rss, ref_t = run(lambda: per_terminal_loop(tx), mem)
    ref = ref.join(ref_t)
    shared = list(ref.columns)
    # pandas' rolling counts tied timestamps by position (in whatever order the sort
    # left them); ours counts every transaction at the same second. Compare the rows
    # without a same-customer, same-second twin.
    lone = ~tx.duplicated(["customer_id", "timestamp"], keep=False).to_numpy()
    ids = tx["transaction_id"].to_numpy()[lone]
    mine = ours.loc[ids, shared].to_numpy()
    theirs = ref.loc[ids].to_numpy()
    err = float(np.max(np.abs(mine - theirs) / np.maximum(1.0, np.abs(theirs))))
    print(f"Compared {lone.sum():,} transactions ({(~lone).sum():,} with a same-second "
          "twin left out). Every step starts from the raw frame; (a) and (a2) include the "
          f"validation (best of {args.repeat}).")
    print("\n| step | s | peak MB (tracemalloc) | peak RSS rise MB |\n|---|---:|---:|---:|")
    print(f"| (a) fraud_features(raw frame) ({ours.shape[1]} columns) | {a_s:.2f} | "
          f"{a_mb:.0f} | {a_rss:.0f} |")
    print(f"| (a2) fraud_features(raw frame, terminal_column=None) (13 columns) | "
          f"{c_only_s:.2f} | {c_only_mb:.0f} | {c_only_rss:.0f} |")
    print(f"| (b1) per-customer loop, pandas rolling (6 columns) | {b_s:.2f} | "
          f"{b_mb:.0f} | {b_rss:.0f} |")
    print(f"| (b2) per-terminal loop, pandas rolling (6 columns) | {t_s:.2f} | "
          f"{t_mb:.0f} | {t_rss:.0f} |")
    if not err <= 1e-9:
        print(f"\nRESULTS DIFFER (max relative difference {err:.1e}): no ratio printed")
        return 1
    print(f"\nShared columns agree (max relative difference {err:.1e}).")
    print(f"\nHeadline: fraud features end to end, {len(tx):,} transactions: loops (b1 + b2) "
          f"/ fraud_features (a) = **{(b_s + t_s) / a_s:.1f}x**")
    print(f"\nHeadline: fraud customer windows end to end: per-customer loop (b1) / (a2) = "
          f"**{b_s / c_only_s:.1f}x**")
    if args.no_score:
        return 0
    from crmmodels.propensity import FraudModel, fraud_time_split

    start = "2018-04-01" if args.sample else "2018-07-25"
    train, _ = fraud_time_split(data, start, train_days=7, delay_days=0 if args.sample
                                else 7, test_days=7)
    f_s, f_mb, f_rss, model = run(lambda: FraudModel(random_state=0).fit(data, rows=train),
                                  mem)
    c_s, c_mb, c_rss, scores = run(lambda: model.score(data), mem)
    print("\n| step | s | peak MB (tracemalloc) | peak RSS rise MB |\n|---|---:|---:|---:|")
    print(f"| fit on {train.sum():,} training transactions (features of all) | {f_s:.2f} | "
          f"{f_mb:.0f} | {f_rss:.0f} |")
    print(f"| (c) score all {len(scores):,} transactions (features + predictions, "
          f"{int(scores['is_alert'].sum()):,} alerts with reasons) | {c_s:.2f} | "
          f"{c_mb:.0f} | {c_rss:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
