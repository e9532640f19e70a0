"""Evaluation of propensity scores (churn, fraud).

* :func:`classification_metrics`: ROC AUC, PR AUC (average precision), Brier score and
  the base rate;
* :func:`calibration_table`: predicted vs observed rate by probability bin;
* :func:`gains_table`: response, lift and cumulative gains by score decile;
* :func:`churn_holdout`: train on earlier cut-offs, test on a later one, time-ordered
  (rolling-origin evaluation over many cut-offs is
  :func:`crmmodels.model_selection.backtest`).

For fraud models:

* :func:`precision_at_k` and :func:`card_precision_at_k` (per day, the share of
  compromised cards among the ``k`` most suspicious, as the Fraud Detection Handbook
  reports it);
* :func:`cost_curve`: alerts, hits, misses and expected cost at every threshold;
* :func:`fraud_time_split`: train on a period, wait out the label delay, test on the
  following days without the cards already known to be compromised.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmmodels.core import warn_deprecated
from crmmodels.data import CRMData, whole_number
from crmmodels.errors import DataValidationError, InvalidParameterError

__all__ = ["backtest", "calibration_table", "card_precision_at_k", "churn_holdout",
           "classification_metrics", "cost_curve", "fraud_time_split", "gains_table",
           "precision_at_k"]


# ---------------------------------------------------------------- propensity models
def _binary_pair(y_true: Any, y_score: Any) -> tuple[np.ndarray, np.ndarray]:
    """Aligned 0/1 labels and finite scores, or a clear error."""
    y = np.asarray(y_true)
    s = np.asarray(y_score, dtype=np.float64)
    if y.ndim != 1 or s.ndim != 1 or len(y) != len(s):
        raise DataValidationError(
            f"y_true and y_score must be 1-d and of equal length, got shapes {y.shape} and "
            f"{s.shape}", rule="shape")
    if len(y) == 0:
        raise DataValidationError("no rows to evaluate", rule="empty")
    if y.dtype == bool:
        y = y.astype(np.int64)
    if not np.isin(y, (0, 1)).all():
        raise DataValidationError("y_true must hold only 0/1 or True/False",
                                  rule="binary_label")
    if not np.isfinite(s).all():
        raise DataValidationError("y_score holds NaN or infinite values", rule="finite")
    return y.astype(np.int64), s


def classification_metrics(y_true: Any, y_score: Any) -> dict[str, float]:
    """ROC AUC, PR AUC, Brier score and base rate of a probability (or score) vector.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes.
    y_score : array-like of float
        Predicted probabilities (the Brier score needs them in [0, 1]; for other
        scores it is NaN).

    Returns
    -------
    dict
        ``roc_auc``, ``pr_auc`` (average precision), ``brier``, ``base_rate``, ``n``.

    Raises
    ------
    DataValidationError
        Lengths differ, labels are not binary or have one class, scores are not finite.

    Examples
    --------
    >>> m = classification_metrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> m["roc_auc"], round(m["brier"], 6)
    (0.75, 0.158125)
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    y, s = _binary_pair(y_true, y_score)
    if len(np.unique(y)) < 2:
        raise DataValidationError("y_true has one class only: AUC is undefined",
                                  rule="one_class")
    in_unit = bool(((s >= 0) & (s <= 1)).all())
    return {"roc_auc": float(roc_auc_score(y, s)),
            "pr_auc": float(average_precision_score(y, s)),
            "brier": float(np.mean((s - y) ** 2)) if in_unit else float("nan"),
            "base_rate": float(y.mean()), "n": float(len(y))}


def calibration_table(y_true: Any, y_prob: Any, n_bins: int = 10,
                      strategy: str = "quantile") -> pd.DataFrame:
    """Mean predicted probability against the observed rate, by probability bin.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes.
    y_prob : array-like of float in [0, 1]
        Predicted probabilities.
    n_bins : int, default 10
        Number of bins.
    strategy : {"quantile", "uniform"}, default "quantile"
        Equal-count bins (ties kept together) or equal-width bins over [0, 1].

    Returns
    -------
    DataFrame
        One row per non-empty bin (``bin`` 1 = lowest probabilities): ``n``,
        ``mean_predicted``, ``observed_rate``, ``lower`` and ``upper`` (the bin's
        probability range).

    Examples
    --------
    >>> t = calibration_table([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], n_bins=2)
    >>> t[["n", "mean_predicted", "observed_rate"]].to_dict("list")
    {'n': [2, 2], 'mean_predicted': [0.15000000000000002, 0.8], 'observed_rate': [0.0, 1.0]}
    """
    y, p = _binary_pair(y_true, y_prob)
    if not ((p >= 0) & (p <= 1)).all():
        raise DataValidationError("y_prob must lie in [0, 1]", rule="range")
    whole_number(n_bins, "n_bins")
    if strategy == "quantile":
        edges = np.quantile(p, np.linspace(0, 1, n_bins + 1)[1:-1])
    elif strategy == "uniform":
        edges = np.linspace(0, 1, n_bins + 1)[1:-1]
    else:
        raise InvalidParameterError(f"strategy must be 'quantile' or 'uniform', got {strategy!r}")
    which = np.searchsorted(np.unique(edges), p, side="left")
    frame = pd.DataFrame({"bin": which, "y": y, "p": p})
    out = frame.groupby("bin").agg(n=("y", "size"), mean_predicted=("p", "mean"),
                                   observed_rate=("y", "mean"), lower=("p", "min"),
                                   upper=("p", "max"))
    out.index = pd.RangeIndex(1, len(out) + 1, name="bin")
    return out


def gains_table(y_true: Any, y_score: Any, n_groups: int = 10) -> pd.DataFrame:
    """Response rate, lift and cumulative gains by score group (deciles by default).

    Customers are sorted by score, highest first (ties in input order), and cut into
    ``n_groups`` groups of equal size, the first ``n % n_groups`` groups one larger (as
    ``numpy.array_split``); group 1 holds the highest scores. Empty groups (fewer
    customers than groups) are left out.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes.
    y_score : array-like of float
        Scores; higher means more likely.
    n_groups : int, default 10
        Number of groups.

    Returns
    -------
    DataFrame
        Indexed by ``group``: ``n``, ``positives``, ``rate`` (share positive),
        ``lift`` (rate / overall rate), ``cumulative_share`` (of customers),
        ``cumulative_gain`` (share of all positives found so far) and
        ``cumulative_lift``.

    Examples
    --------
    >>> g = gains_table([1, 0, 1, 0, 0, 0, 0, 0, 0, 0], [.9, .8, .7, .6, .5, .4, .3, .2,
    ...                 .1, 0.], n_groups=5)
    >>> g[["positives", "lift", "cumulative_gain"]].iloc[:2].to_dict("list")
    {'positives': [1, 1], 'lift': [2.5, 2.5], 'cumulative_gain': [0.5, 1.0]}
    """
    y, s = _binary_pair(y_true, y_score)
    whole_number(n_groups, "n_groups")
    total = int(y.sum())
    if total == 0:
        raise DataValidationError("no positive outcome: lift is undefined", rule="one_class")
    order = np.argsort(-s, kind="stable")
    sizes = np.full(n_groups, len(y) // n_groups)
    sizes[:len(y) % n_groups] += 1  # the first groups take the remainder
    group = np.repeat(np.arange(1, n_groups + 1), sizes)
    frame = pd.DataFrame({"group": group, "y": y[order]})
    out = frame.groupby("group").agg(n=("y", "size"), positives=("y", "sum"))
    rate = total / len(y)
    out["rate"] = out["positives"] / out["n"]
    out["lift"] = out["rate"] / rate
    out["cumulative_share"] = out["n"].cumsum() / len(y)
    out["cumulative_gain"] = out["positives"].cumsum() / total
    out["cumulative_lift"] = out["cumulative_gain"] / out["cumulative_share"]
    return out


def churn_holdout(model: Any, data: CRMData, *, train_cutoffs: Any, test_cutoff: Any,
                  horizon: Any = None) -> dict[str, Any]:
    """Time-ordered holdout evaluation of a non-contractual churn model.

    The model is fitted with ``cutoff=train_cutoffs`` (each training label window
    ``(cutoff, cutoff + horizon]`` must end by the test cut-off, so nothing of the test
    period is seen), then scores the customers active at ``test_cutoff`` with features
    as of that date, and is compared with their actual labels.

    Parameters
    ----------
    model : ChurnModel
        An unfitted model (cloned, not changed).
    data : CRMData
        Transactions covering ``test_cutoff + horizon``.
    train_cutoffs : date or list of dates
        Training cut-offs.
    test_cutoff : date
        Test cut-off, later than every training label window.
    horizon : str, optional
        Label window; default the model's.

    Returns
    -------
    dict
        ``metrics`` (:func:`classification_metrics`), ``gains`` (:func:`gains_table`),
        ``scores`` (the test scores joined with ``churned``) and ``model`` (fitted).

    Examples
    --------
    >>> from crmmodels.propensity import ChurnModel
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> out = churn_holdout(ChurnModel(random_state=0), load_cdnow_sample(),
    ...                     train_cutoffs=["1997-10-01", "1997-12-01"],
    ...                     test_cutoff="1998-03-01")
    >>> out["metrics"]["roc_auc"] > 0.7
    True
    """
    from sklearn.base import clone

    from crmmodels.propensity.churn_features import churn_labels, parse_horizon

    span = parse_horizon(model.horizon if horizon is None else horizon)
    cuts = list(train_cutoffs) if isinstance(train_cutoffs, list | tuple) else [train_cutoffs]
    test = pd.Timestamp(test_cutoff)
    late = [c for c in cuts if pd.Timestamp(c) + span > test]
    if late:
        raise InvalidParameterError(
            f"training cut-offs {late} have label windows running past the test cut-off "
            f"{test}: the test period would leak into training")
    fitted = clone(model).set_params(cutoff=cuts, horizon=span).fit(data)
    labels = churn_labels(data, test, span)
    scores = fitted.score(data, cutoff=test).reindex(labels.index)
    scores["churned"] = labels
    return {"metrics": classification_metrics(labels.to_numpy(),
                                              scores["churn_probability"].to_numpy()),
            "gains": gains_table(labels.to_numpy(), scores["churn_probability"].to_numpy()),
            "scores": scores, "model": fitted}


def backtest(model: Any, data: CRMData, train_cutoffs: Any, test_cutoff: Any,
             horizon: Any = None) -> dict[str, Any]:
    """Run :func:`churn_holdout` under its deprecated name (removed in the next release).

    ``backtest`` now names the rolling-origin evaluation of every forward-looking model,
    :func:`crmmodels.model_selection.backtest`; this one-split churn evaluation is
    :func:`churn_holdout`. Calling it warns (``FutureWarning``) and returns what
    :func:`churn_holdout` returns.
    """
    warn_deprecated(
        "crmmodels.propensity.backtest is deprecated and will be removed in the next "
        "release; use churn_holdout(model, data, train_cutoffs=..., test_cutoff=...) for "
        "this one-split evaluation, or crmmodels.model_selection.backtest for rolling-origin "
        "evaluation over many cutoffs")
    return churn_holdout(model, data, train_cutoffs=train_cutoffs, test_cutoff=test_cutoff,
                         horizon=horizon)


# ---------------------------------------------------------------- fraud models
def precision_at_k(y_true: Any, y_score: Any, k: int) -> float:
    """Frauds among the ``k`` highest scores, divided by ``k`` (ties: input order first).

    With fewer than ``k`` rows the count is still divided by ``k``, as the Fraud
    Detection Handbook's precision top-k does (a day with few transactions cannot
    score well).

    Examples
    --------
    >>> precision_at_k([0, 1, 1, 0], [0.1, 0.9, 0.3, 0.5], k=2)
    0.5
    """
    y, s = _binary_pair(y_true, y_score)
    k = whole_number(k, "k")
    top = np.argsort(-s, kind="stable")[:k]
    return float(y[top].sum() / k)


def cost_curve(y_true: Any, y_score: Any, cost_fp: float = 1.0,
               cost_fn: float = 10.0) -> pd.DataFrame:
    """Alerts, hits, misses and expected cost at every threshold.

    Alerting every row scored at or above ``threshold`` costs ``cost_fp x FP + cost_fn
    x FN``. The first row alerts nothing (threshold ``inf``); each further row lowers
    the threshold to the next distinct score.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Outcomes.
    y_score : array-like of float
        Scores (higher = more suspicious).
    cost_fp, cost_fn : float, default 1 and 10
        Cost of a false alert and of a missed fraud.

    Returns
    -------
    DataFrame
        ``threshold``, ``alerts``, ``tp``, ``fp``, ``fn``, ``precision`` (NaN without
        alerts), ``recall``, ``cost``; from the highest threshold to the lowest.

    Examples
    --------
    >>> t = cost_curve([0, 1, 1, 0], [0.1, 0.9, 0.3, 0.5], cost_fp=1, cost_fn=10)
    >>> t[["threshold", "alerts", "cost"]].values.tolist()
    [[inf, 0.0, 20.0], [0.9, 1.0, 10.0], [0.5, 2.0, 11.0], [0.3, 3.0, 1.0], [0.1, 4.0, 2.0]]
    """
    if not all(isinstance(c, int | float) and not isinstance(c, bool) and c > 0
               for c in (cost_fp, cost_fn)):
        raise InvalidParameterError(f"costs must be positive numbers, got {cost_fp!r} and "
                                    f"{cost_fn!r}")
    y, s = _binary_pair(y_true, y_score)
    order = np.argsort(-s, kind="stable")
    ys, ss = y[order], s[order]
    tp = np.r_[0, np.cumsum(ys)]
    k = np.arange(len(ys) + 1)
    # Alerting the top i rows is a threshold only where score i differs from score i+1.
    keep = np.flatnonzero(np.r_[True, ss[1:] != ss[:-1], True])
    tp, k = tp[keep], k[keep]
    positives = int(ys.sum())
    fp, fn = k - tp, positives - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(k > 0, tp / np.maximum(k, 1), np.nan)
        recall = tp / positives if positives else np.full(len(k), np.nan)
    threshold = np.r_[np.inf, ss[keep[1:] - 1]]
    return pd.DataFrame({"threshold": threshold, "alerts": k.astype(np.float64),
                         "tp": tp.astype(np.float64), "fp": fp.astype(np.float64),
                         "fn": fn.astype(np.float64), "precision": precision,
                         "recall": recall, "cost": cost_fp * fp + cost_fn * fn})


def card_precision_at_k(y_true: Any, y_score: Any, customer_id: Any, day: Any,
                        k: int = 100, remove_detected: bool = True) -> pd.DataFrame:
    """Daily card precision at ``k``, as the Fraud Detection Handbook defines it.

    Each day, every card (customer) gets the highest score and the highest label of
    its transactions that day; the ``k`` cards with the highest scores are
    investigated and the share of them that were compromised is that day's card
    precision (divided by ``k`` even when fewer cards are left). With
    ``remove_detected``, cards found on earlier days are blocked and leave the later
    days. Report the mean of the ``card_precision`` column.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool
        Transaction labels.
    y_score : array-like of float
        Transaction scores.
    customer_id, day : array-like
        Each transaction's card and day (dates, or day numbers).
    k : int, default 100
        Cards investigated per day.
    remove_detected : bool, default True
        Drop cards detected on an earlier day.

    Returns
    -------
    DataFrame
        Indexed by ``day``: ``cards`` (cards with a transaction that day, not yet
        detected), ``compromised`` (those of them with a fraud that day),
        ``detected`` (compromised cards in the top ``k``) and ``card_precision``
        (``detected / k``).

    Examples
    --------
    >>> table = card_precision_at_k([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1],
    ...                             ["a", "b", "a", "c"], [1, 1, 2, 2], k=1)
    >>> table["card_precision"].tolist()
    [1.0, 0.0]
    """
    y, s = _binary_pair(y_true, y_score)
    cards = np.asarray(customer_id)
    days = np.asarray(day)
    if cards.shape != y.shape or days.shape != y.shape:
        raise DataValidationError("customer_id and day need one value per transaction",
                                  rule="shape")
    k = whole_number(k, "k")
    frame = pd.DataFrame({"day": days, "card": cards, "score": s, "fraud": y})
    per_card = frame.groupby(["day", "card"], sort=True).agg(
        score=("score", "max"), fraud=("fraud", "max")).reset_index()
    detected: set[Any] = set()
    rows = []
    for d, cards_day in per_card.groupby("day", sort=True):
        if remove_detected and detected:
            cards_day = cards_day[~cards_day["card"].isin(detected)]
        top = cards_day.sort_values("score", ascending=False, kind="stable").head(k)
        found = top.loc[top["fraud"] == 1, "card"]
        if remove_detected:
            detected.update(found.tolist())
        rows.append({"day": d, "cards": len(cards_day),
                     "compromised": int(cards_day["fraud"].sum()),
                     "detected": len(found), "card_precision": len(found) / k})
    return pd.DataFrame(rows).set_index("day")


def fraud_time_split(data: CRMData, train_start: Any, train_days: int = 7,
                     delay_days: int = 7, test_days: int = 7,
                     drop_known_compromised: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Time-ordered train and test rows for transaction fraud models.

    Training covers ``train_days`` calendar days from ``train_start``; the next
    ``delay_days`` are skipped (their labels are not known yet when the model is
    built); the test covers the ``test_days`` after that. As in the Fraud Detection
    Handbook, a test day leaves out the customers already known to be compromised
    on that day: those with a fraud more than ``delay_days`` days earlier, from
    ``train_start`` on (their cards are blocked).

    Parameters
    ----------
    data : CRMData
        Transactions with ``is_fraud``.
    train_start : date
        First training day.
    train_days, delay_days, test_days : int, default 7
        Lengths of the three periods in days.
    drop_known_compromised : bool, default True
        Leave out the test transactions of known compromised customers.

    Returns
    -------
    (ndarray, ndarray)
        Boolean masks over ``data.transactions`` (input order): training rows, test
        rows. Pass them as ``rows=`` to :meth:`crmmodels.propensity.FraudModel.fit` and
        ``score``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels import CRMData
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a", "b"],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01",
    ...                                                 "2024-01-04", "2024-01-04"]),
    ...                    "amount": 10.0, "is_fraud": [True, False, False, False]})
    >>> train, test = fraud_time_split(CRMData(transactions=tx), "2024-01-01",
    ...                                train_days=1, delay_days=2, test_days=1)
    >>> train.tolist(), test.tolist()
    ([True, True, False, False], [False, False, False, True])
    """
    from crmmodels.data import data_time, wall_clock

    whole_number(train_days, "train_days")
    whole_number(test_days, "test_days")
    whole_number(delay_days, "delay_days", low=0)
    if not isinstance(data, CRMData) or data.transactions is None:
        raise DataValidationError("fraud_time_split needs CRMData with transactions",
                                  frame="transactions", rule="required_frame")
    tx = data.transactions
    if "is_fraud" not in tx.columns:
        from crmmodels.errors import MissingColumnError

        raise MissingColumnError("transactions", "is_fraud", list(tx.columns))
    from crmmodels.propensity._tabular import binary_or_missing

    start = data_time(train_start, data, "train_start").tz_localize(None).normalize()
    day = ((wall_clock(tx["timestamp"]).astype("datetime64[D]")
            - np.datetime64(start.date(), "D")).astype(np.int64))
    train = (day >= 0) & (day < train_days)
    first_test = train_days + delay_days
    test = (day >= first_test) & (day < first_test + test_days)
    if drop_known_compromised:
        # Missing labels count as not known to be fraud.
        fraud = binary_or_missing(tx["is_fraud"], "is_fraud", "transactions") == 1
        customer = tx["customer_id"].to_numpy()
        frauds = pd.DataFrame({"customer": customer[fraud & (day >= 0)],
                               "day": day[fraud & (day >= 0)]})
        first_known = frauds.groupby("customer")["day"].min()
        # Known on test day d: a fraud on a day before d - delay_days.
        known_from = pd.Series(customer).map(first_known).to_numpy(dtype=np.float64)
        known = ~np.isnan(known_from) & (known_from < day - delay_days)
        test &= ~known
    if not train.any() or not test.any():
        raise DataValidationError(
            f"the split from {start.date()} has {int(train.sum())} training and "
            f"{int(test.sum())} test transactions; both need some", rule="empty_split")
    return train, test
