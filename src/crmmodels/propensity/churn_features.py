"""Point-in-time churn features and labels.

Everything here reads only rows dated at or before the cut-off: shifting, changing or
adding rows after it leaves every feature unchanged (a test proves it). All
aggregations are vectorised (sorting and ``numpy.bincount``), no per-customer loops.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels.data import (
    CRMData,
    as_transaction_data,
    customer_aggregates,
    ordered_sums,
    wall_clock,
)
from crmmodels.errors import DataValidationError, InvalidParameterError

__all__ = ["churn_features", "churn_labels", "parse_horizon"]

_DAY_NS = 86_400 * 10**9


def parse_horizon(horizon: object) -> pd.Timedelta:
    """Parse a positive time span from ``"90D"``, a ``Timedelta`` or a number of days.

    Examples
    --------
    >>> parse_horizon("90D"), parse_horizon(30)
    (Timedelta('90 days 00:00:00'), Timedelta('30 days 00:00:00'))
    """
    try:
        if isinstance(horizon, numbers.Real) and not isinstance(horizon, bool):
            span = pd.Timedelta(days=float(horizon))
        elif isinstance(horizon, str | pd.Timedelta | np.timedelta64):
            span = pd.Timedelta(horizon)
        else:
            raise TypeError
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"horizon must be a time span such as '90D' or a number of days, got {horizon!r}"
        ) from exc
    if pd.isna(span) or span <= pd.Timedelta(0):
        raise InvalidParameterError(f"horizon must be positive, got {horizon!r}")
    return span


def _cutoff(data: CRMData, cutoff: object) -> tuple[pd.Timestamp, np.datetime64]:
    """Return the cut-off in the data's timezone and as a naive ``datetime64[ns]``."""
    from crmmodels.data import data_time

    cut = data.observation_end if cutoff is None else data_time(cutoff, data, "cutoff")
    naive = cut.tz_localize(None) if cut.tzinfo is not None else cut
    return cut, np.datetime64(naive.as_unit("ns"))


def _age_days(stamps: pd.Series, cut: np.datetime64) -> np.ndarray:
    """Days from each timestamp (wall-clock time) to the cut-off (negative after it)."""
    ts = wall_clock(stamps).astype("datetime64[ns]")
    return (cut - ts).astype(np.int64) / _DAY_NS


def _check_span(data: CRMData, cut: pd.Timestamp) -> None:
    """Refuse a cut-off before all the data or after the observation window."""
    starts = [data.time_range(name)[0] for name in ("transactions", "interactions")
              if data.n_rows(name)]
    if starts and cut < min(starts):
        raise InvalidParameterError(
            f"cutoff {cut} is before all the data (first timestamp {min(starts)}): no "
            "customer has any history at it")
    if cut > data.observation_end:
        raise InvalidParameterError(
            f"cutoff {cut} is after the end of the observation window "
            f"({data.observation_end})")


def _population(data: CRMData, cut: np.datetime64) -> pd.Index:
    """List the customers known at the cut-off: the customers frame, else anyone seen.

    Without a customers frame a customer exists from their first transaction or
    interaction on: one whose history starts after the cut-off is not in the result.
    """
    if data.customers is not None:
        ids = pd.Index(data.customers["customer_id"].astype(str).unique())
    else:
        parts = []
        for name, frame in (("transactions", data.transactions),
                            ("interactions", data.interactions)):
            if frame is not None:
                codes, uniques = data.customer_codes(name)  # type: ignore[arg-type]
                seen = np.bincount(codes[_age_days(frame["timestamp"], cut) >= 0],
                                   minlength=len(uniques)) > 0
                parts.append(uniques[seen])
        ids = parts[0]
        for more in parts[1:]:
            ids = ids.append(more[~more.isin(ids)])
    out: pd.Index = pd.Index(np.sort(ids.to_numpy(dtype=object)), name="customer_id",
                             dtype="str")
    return out


def _rows_known(data: CRMData, name: str, pop: pd.Index, cut: np.datetime64
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of frame ``name`` dated at or before the cut-off, of customers in ``pop``.

    Returns the row mask, each kept row's position in ``pop`` and its age in days.
    """
    frame = getattr(data, name)
    codes, ids = data.customer_codes(name)  # type: ignore[arg-type]
    where = pop.get_indexer(ids)
    age = _age_days(frame["timestamp"], cut)
    keep = (age >= 0) & (where[codes] >= 0)
    return keep, where[codes[keep]].astype(np.int64), age[keep]


def _group_firsts(keys: np.ndarray) -> np.ndarray:
    """Start positions of the runs of equal values in sorted ``keys``."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])


def _trend(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Symmetric change ``(now - before) / (now + before)`` in [-1, 1]; 0 when both are 0."""
    total = now + before
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (now - before) / np.where(total > 0, total, 1.0), 0.0)


def _window_columns(cols: dict[str, np.ndarray], w: int, c_now: np.ndarray,
                    c_before: np.ndarray, s_now: np.ndarray, s_before: np.ndarray) -> None:
    """Add window ``w``'s purchases and spend and their trends against the ``w`` before."""
    cols[f"purchases_{w}d"] = c_now
    cols[f"spend_{w}d"] = s_now
    cols[f"purchases_trend_{w}d"] = _trend(c_now, c_before)
    cols[f"spend_trend_{w}d"] = _trend(s_now, s_before)


def _gap_columns(cols: dict[str, np.ndarray], n_days: np.ndarray, g_sum: np.ndarray,
                 g_sq: np.ndarray) -> None:
    """Add the purchase days and the mean, spread and ratio of the gaps between them.

    ``g_sum`` and ``g_sq`` are each customer's sum of gaps and of squared gaps (whole
    days); ``cols`` already holds ``recency_days``.
    """
    n_gaps = np.maximum(n_days - 1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        g_mean = np.where(n_gaps > 0, g_sum / np.maximum(n_gaps, 1), np.nan)
        g_var = np.where(n_gaps > 1, (g_sq - n_gaps * g_mean**2)
                         / np.maximum(n_gaps - 1, 1), np.nan)
        cols["purchase_days"] = n_days
        cols["gap_mean_days"] = g_mean
        cols["gap_std_days"] = np.sqrt(np.maximum(g_var, 0.0))
        cols["gap_ratio"] = cols["recency_days"] / g_mean


def churn_features(data: CRMData | pd.DataFrame, cutoff: object = None, *,
                   windows: Sequence[int] = (30, 90, 180)) -> pd.DataFrame:
    """Behavioural features of each customer as known at ``cutoff``.

    Only rows dated at or before ``cutoff`` are read. A purchase is a distinct
    ``transaction_id`` of the customer (each row when there is no such column), dated at
    its first row and worth the sum of its rows.

    Parameters
    ----------
    data : CRMData or DataFrame
        Transactions (and optionally interactions and a customers frame).
    cutoff : date, optional
        The point in time; default ``data.observation_end``.
    windows : sequence of int, default (30, 90, 180)
        Window lengths in days for the recent activity and its trend.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (sorted): the customers frame's customers when there
        is one, otherwise everyone with a transaction or interaction at or before the
        cut-off. Columns (all float):

        - ``recency_days``: days since the last purchase (NaN: no purchase yet);
        - ``tenure_days``: days since the first purchase, interaction or
          ``signup_date``, whichever is earliest;
        - ``n_purchases``, ``spend_total``, ``spend_mean`` (per purchase);
        - per window ``w``: ``purchases_{w}d`` and ``spend_{w}d`` over the last ``w``
          days, and ``purchases_trend_{w}d`` / ``spend_trend_{w}d`` comparing them with
          the ``w`` days before: ``(now - before) / (now + before)``, in [-1, 1];
        - ``purchase_days``, ``gap_mean_days``, ``gap_std_days`` (between distinct
          purchase days) and ``gap_ratio`` = ``recency_days / gap_mean_days``, the
          current gap relative to the customer's own typical gap;
        - ``n_products`` (distinct ``product_id``) and ``n_categories`` (distinct
          ``category``) when the columns exist;
        - per interaction kind present: ``n_<kind>`` and ``n_<kind>_{max w}d``, and
          ``days_since_contact`` (any interaction).

    Raises
    ------
    InvalidParameterError
        ``cutoff`` is before all the data or after ``observation_end``, or a window is
        not a positive whole number of days.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-03-01",
    ...                                                 "2024-03-21", "2024-02-01"]),
    ...                    "amount": [10.0, 20.0, 30.0, 5.0]})
    >>> data = CRMData(transactions=tx, observation_end="2024-03-31")
    >>> f = churn_features(data, windows=(30,))
    >>> f[["recency_days", "n_purchases", "spend_30d", "spend_trend_30d"]].to_dict("index")
    {'a': {'recency_days': 10.0, 'n_purchases': 3.0, 'spend_30d': 30.0, \
'spend_trend_30d': 0.2}, 'b': {'recency_days': 59.0, 'n_purchases': 1.0, \
'spend_30d': 0.0, 'spend_trend_30d': -1.0}}
    """
    data = as_transaction_data(data, "churn features")
    wins = [int(w) for w in windows]
    if not wins or any(isinstance(w, bool) or w <= 0 for w in windows) or any(
            w != v for w, v in zip(wins, windows, strict=True)):
        raise InvalidParameterError(f"windows must be positive whole days, got {windows!r}")
    if not any(data.has(name) for name in ("transactions", "interactions", "customers")):
        raise DataValidationError("no frames to build features from", rule="required_frame")
    cut_ts, cut = _cutoff(data, cutoff)
    if _native(data):
        return _native_features(data, cut_ts, cut, wins)
    _check_span(data, cut_ts)

    tx = data.transactions
    inter = data.interactions
    pop = _population(data, cut)
    n = len(pop)
    cols: dict[str, np.ndarray] = {}
    first_seen = np.full(n, -np.inf)  # largest age = earliest event

    if tx is not None:
        # Purchases and the first transaction: the shared per-customer aggregate.
        agg = customer_aggregates(data, end=cut_ts, freq=None)
        at = pop.get_indexer(agg.index)
        mine = at >= 0
        n_p = np.zeros(n)
        n_p[at[mine]] = agg["n_purchases"].to_numpy()[mine]
        first_seen[at[mine]] = _age_days(agg["first_timestamp"], cut)[mine]
        # Each purchase dated at its first row and worth the sum of its rows, for recency,
        # spend, the windows and the gaps.
        keep, cust, age = _rows_known(data, "transactions", pop, cut)
        amount = tx["amount"].to_numpy(dtype=np.float64)[keep]
        if "transaction_id" in tx.columns:
            tid = pd.factorize(tx["transaction_id"].to_numpy()[keep])[0].astype(np.int64)
            lone = tid < 0  # a row without a transaction id is a purchase of its own
            tid[lone] = tid.max(initial=-1) + 1 + np.arange(int(lone.sum()))
            # First row of a purchase = oldest; amount last so sums run in a fixed order.
            order = np.lexsort((amount, -age, tid, cust))
            key = cust[order] * (int(tid.max(initial=0)) + 1) + tid[order]
            starts = _group_firsts(key)
            p_cust = cust[order][starts]
            p_age = age[order][starts]
            # Summed one row after another (bincount), as the polars path sums them.
            which = np.cumsum(np.r_[True, key[1:] != key[:-1]]) - 1 if len(key) else key
            p_amount = np.bincount(which, weights=amount[order], minlength=len(starts))
        else:
            p_cust, p_age, p_amount = cust, age, amount
        # A canonical order (customer, age, amount): the float sums below then do not
        # depend on the order of the input rows.
        canon = np.lexsort((p_amount, p_age, p_cust))
        p_cust, p_age, p_amount = p_cust[canon], p_age[canon], p_amount[canon]
        spend = np.bincount(p_cust, weights=p_amount, minlength=n)
        recency = np.full(n, np.inf)
        np.minimum.at(recency, p_cust, p_age)
        cols["recency_days"] = np.where(n_p > 0, recency, np.nan)
        cols["n_purchases"] = n_p
        cols["spend_total"] = spend
        with np.errstate(invalid="ignore", divide="ignore"):
            cols["spend_mean"] = np.where(n_p > 0, spend / np.maximum(n_p, 1), 0.0)
        for w in wins:
            now = p_age < w
            before = (p_age >= w) & (p_age < 2 * w)
            c_now = np.bincount(p_cust[now], minlength=n).astype(np.float64)
            c_before = np.bincount(p_cust[before], minlength=n).astype(np.float64)
            s_now = np.bincount(p_cust[now], weights=p_amount[now], minlength=n)
            s_before = np.bincount(p_cust[before], weights=p_amount[before], minlength=n)
            _window_columns(cols, w, c_now, c_before, s_now, s_before)
        # Gaps between distinct purchase days (whole days before the cut-off).
        day = np.floor(p_age).astype(np.int64)
        dkey = np.unique(p_cust * (int(day.max(initial=0)) + 1) + day)
        d_cust = dkey // (int(day.max(initial=0)) + 1)
        d_day = dkey % (int(day.max(initial=0)) + 1)
        n_days = np.bincount(d_cust, minlength=n).astype(np.float64)
        same = np.r_[False, d_cust[1:] == d_cust[:-1]]
        gaps = np.r_[0, d_day[1:] - d_day[:-1]].astype(np.float64)  # sorted: age rises
        g_sum = np.bincount(d_cust[same], weights=gaps[same], minlength=n)
        g_sq = np.bincount(d_cust[same], weights=gaps[same] ** 2, minlength=n)
        _gap_columns(cols, n_days, g_sum, g_sq)
        for column, name in (("product_id", "n_products"), ("category", "n_categories")):
            if column in tx.columns:
                code = pd.factorize(tx[column].to_numpy()[keep])[0].astype(np.int64)
                ok = code >= 0
                pairs = np.unique(cust[ok] * (int(code.max(initial=0)) + 1) + code[ok])
                cols[name] = np.bincount(pairs // (int(code.max(initial=0)) + 1),
                                         minlength=n).astype(np.float64)

    if inter is not None:
        keep, cust, age = _rows_known(data, "interactions", pop, cut)
        kinds = inter["kind"].astype(str).to_numpy()[keep]
        longest = max(wins)
        for kind in sorted(pd.unique(inter["kind"].astype(str))):
            mine = kinds == kind
            cols[f"n_{kind}"] = np.bincount(cust[mine], minlength=n).astype(np.float64)
            cols[f"n_{kind}_{longest}d"] = np.bincount(
                cust[mine & (age < longest)], minlength=n).astype(np.float64)
        last = np.full(n, np.inf)
        np.minimum.at(last, cust, age)
        cols["days_since_contact"] = np.where(np.isfinite(last), last, np.nan)
        oldest = np.full(n, -np.inf)
        np.maximum.at(oldest, cust, age)
        first_seen = np.maximum(first_seen, oldest)
    return _assemble(data, pop, cut, cols, first_seen)


def _assemble(data: CRMData, pop: pd.Index, cut: np.datetime64, cols: dict[str, np.ndarray],
              first_seen: np.ndarray) -> pd.DataFrame:
    """Add the tenure (sign-up dates included) and put the columns in their order."""
    if data.customers is not None and "signup_date" in data.customers.columns:
        signup = data.customers.drop_duplicates("customer_id").set_index("customer_id")
        signed = signup["signup_date"].reindex(pop)
        age = _age_days(signed, cut)
        age = np.where(signed.notna().to_numpy() & (age >= 0), age, -np.inf)
        first_seen = np.maximum(first_seen, age)
    tenure = np.where(np.isfinite(first_seen), first_seen, np.nan)
    out = pd.DataFrame({"tenure_days": tenure, **cols}, index=pop)
    front = [c for c in ("recency_days", "tenure_days") if c in out.columns]
    return out[front + [c for c in out.columns if c not in front]]


# ---------------------------------------------------------------- other libraries
# Transactions held in polars are read there: the same features as one
# narwhals query per table, only the per-customer results come back to pandas.

def _native(data: CRMData) -> bool:
    return data.has("transactions") and data.engine("transactions") == "polars"


def _age_expr(cut: np.datetime64) -> nw.Expr:
    """Nanoseconds from each (wall-clock) timestamp to the cut-off."""
    cut_ns = int(cut.astype("datetime64[ns]").astype(np.int64))
    return (nw.lit(cut_ns) - nw.col("timestamp").dt.timestamp("ns")).alias("age")


def _frames(data: CRMData) -> dict[str, nw.LazyFrame[Any]]:
    """Return the dated frames, each as a query of the library that holds it."""
    return {name: data.lazy_rows(name) for name in ("transactions", "interactions")
            if data.has(name)}


def _per_customer(query: nw.LazyFrame[Any], pop: pd.Index) -> pd.DataFrame:
    """Collect a per-customer query into pandas, in the population's order."""
    out = query.collect().to_pandas()
    out.index = pd.Index(out.pop("customer_id").to_numpy(dtype=object), dtype="str")
    return out.reindex(pop)


def _native_features(data: CRMData, cut_ts: pd.Timestamp, cut: np.datetime64,
                     wins: list[int]) -> pd.DataFrame:
    """:func:`churn_features` as queries of the library holding the transactions."""
    from crmmodels.data import argsort_text

    _check_span(data, cut_ts)
    frames = _frames(data)
    known = {name: f.with_columns(_age_expr(cut)).filter(nw.col("age") >= 0)
             for name, f in frames.items()}
    if data.has("customers"):
        seen = data.lazy_rows("customers").select("customer_id").unique().collect()
        ids = seen["customer_id"].to_list()
    else:
        ids = sorted({i for f in known.values()
                      for i in f.select("customer_id").unique().collect()["customer_id"]
                      .to_list()})
    raw = pd.Index(np.asarray(ids, dtype=object), dtype="str")
    pop = pd.Index(raw[argsort_text(raw)], name="customer_id", dtype="str")
    n = len(pop)
    cols: dict[str, np.ndarray] = {}
    first_seen = np.full(n, -np.inf)

    tx = known["transactions"]
    names = tx.collect_schema().names()
    age, amount = nw.col("age"), nw.col("amount")
    if "transaction_id" in names:
        # A purchase: a transaction id of the customer, dated at its oldest row and
        # worth the sum of its rows; a row without an id is a purchase of its own.
        lone = tx.filter(nw.col("transaction_id").is_null())
        grouped = ordered_sums(
            tx.filter(~nw.col("transaction_id").is_null())
            .with_columns((age * -1).alias("__newer")),
            ["customer_id", "transaction_id"], ["__newer", "amount"],
            {"amount": amount}, {"age": age.max()})
        purchases = nw.concat([grouped.select("customer_id", "age", "amount"),
                               lone.select("customer_id", "age", "amount")])
    else:
        purchases = tx.select("customer_id", "age", "amount")
    sums: dict[str, nw.Expr] = {"spend_total": amount}
    tallies: dict[str, nw.Expr] = {}
    for w in wins:
        now = age < w * _DAY_NS
        before = (age >= w * _DAY_NS) & (age < 2 * w * _DAY_NS)
        tallies |= {f"c_now_{w}": now, f"c_before_{w}": before}
        sums |= {f"s_now_{w}": nw.when(now).then(amount).otherwise(0.0),
                 f"s_before_{w}": nw.when(before).then(amount).otherwise(0.0)}
    bought = _per_customer(ordered_sums(
        purchases, ["customer_id"], ["age", "amount"], sums,
        {"recency": age.min(), "n_purchases": age.count(),
         **{k: v.cast(nw.Int64).sum() for k, v in tallies.items()}}),
        pop)
    n_p = bought["n_purchases"].fillna(0).to_numpy(dtype=np.float64)
    spend = bought["spend_total"].fillna(0.0).to_numpy(dtype=np.float64)
    cols["recency_days"] = bought["recency"].to_numpy(dtype=np.float64) / _DAY_NS
    cols["n_purchases"] = n_p
    cols["spend_total"] = spend
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["spend_mean"] = np.where(n_p > 0, spend / np.maximum(n_p, 1), 0.0)
    for w in wins:
        c_now, c_before, s_now, s_before = (
            bought[f"{k}_{w}"].fillna(0).to_numpy(dtype=np.float64)
            for k in ("c_now", "c_before", "s_now", "s_before"))
        _window_columns(cols, w, c_now, c_before, s_now, s_before)
    # Gaps between distinct purchase days, each customer's days in order.
    days = (purchases.select("customer_id", (age // _DAY_NS).alias("day")).unique()
            .with_columns(nw.col("day").diff().over("customer_id", order_by="day")
                          .alias("gap")))
    spread = _per_customer(days.group_by("customer_id").agg(
        nw.len().alias("n_days"), nw.col("gap").sum().alias("g_sum"),
        (nw.col("gap") * nw.col("gap")).sum().alias("g_sq")), pop)
    n_days = spread["n_days"].fillna(0).to_numpy(dtype=np.float64)
    g_sum = spread["g_sum"].fillna(0).to_numpy(dtype=np.float64)
    g_sq = spread["g_sq"].fillna(0).to_numpy(dtype=np.float64)
    _gap_columns(cols, n_days, g_sum, g_sq)
    for column, name in (("product_id", "n_products"), ("category", "n_categories")):
        if column in names:
            distinct = _per_customer(tx.filter(~nw.col(column).is_null())
                                     .group_by("customer_id")
                                     .agg(nw.col(column).n_unique().alias(name)), pop)
            cols[name] = distinct[name].fillna(0).to_numpy(dtype=np.float64)
    oldest = _per_customer(tx.group_by("customer_id").agg(age.max().alias("oldest")), pop)
    first_seen = np.maximum(first_seen, (oldest["oldest"].to_numpy(dtype=np.float64)
                                         / _DAY_NS))
    first_seen = np.where(np.isnan(first_seen), -np.inf, first_seen)

    if "interactions" in known:
        longest = max(wins)
        kinds = sorted(frames["interactions"].select(nw.col("kind").cast(nw.String))
                       .unique().collect()["kind"].to_list())
        kind = nw.col("kind").cast(nw.String)
        counts = [nw.col("age").min().alias("last"), nw.col("age").max().alias("oldest")]
        for k in kinds:
            counts += [(kind == k).cast(nw.Int64).sum().alias(f"n_{k}"),
                       ((kind == k) & (age < longest * _DAY_NS)).cast(nw.Int64).sum()
                       .alias(f"n_{k}_{longest}d")]
        contact = _per_customer(known["interactions"].group_by("customer_id")
                                .agg(*counts), pop)
        for k in kinds:
            cols[f"n_{k}"] = contact[f"n_{k}"].fillna(0).to_numpy(dtype=np.float64)
            cols[f"n_{k}_{longest}d"] = contact[f"n_{k}_{longest}d"].fillna(0).to_numpy(
                dtype=np.float64)
        cols["days_since_contact"] = contact["last"].to_numpy(dtype=np.float64) / _DAY_NS
        oldest_contact = contact["oldest"].to_numpy(dtype=np.float64) / _DAY_NS
        first_seen = np.maximum(first_seen, np.where(np.isnan(oldest_contact), -np.inf,
                                                     oldest_contact))
    return _assemble(data, pop, cut, cols, first_seen)


def churn_labels(data: CRMData | pd.DataFrame, cutoff: object, horizon: object = "90D"
                 ) -> pd.Series:
    """Whether each customer active by ``cutoff`` makes no purchase in the horizon.

    A customer is active by the cut-off when they have a transaction at or before it;
    they churned when they have none in ``(cutoff, cutoff + horizon]``.

    Parameters
    ----------
    data : CRMData or DataFrame
        Transactions.
    cutoff : date
        The point in time.
    horizon : str, Timedelta or number of days, default "90D"
        Length of the window after the cut-off.

    Returns
    -------
    Series
        Boolean, named ``churned``, indexed by ``customer_id`` (sorted).

    Raises
    ------
    InvalidParameterError
        ``horizon`` is not positive, or ``cutoff + horizon`` runs past
        ``observation_end`` (the label would be censored).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-02-10",
    ...                                                 "2024-01-10"]),
    ...                    "amount": [1.0, 1.0, 1.0]})
    >>> data = CRMData(transactions=tx, observation_end="2024-03-31")
    >>> churn_labels(data, "2024-01-14", "30D").to_dict()
    {'a': False, 'b': True}
    """
    data = as_transaction_data(data, "churn features")
    data.require("transactions")
    span = parse_horizon(horizon)
    cut_ts, cut = _cutoff(data, cutoff)
    _check_span(data, cut_ts)
    if cut_ts + span > data.observation_end:
        raise InvalidParameterError(
            f"cutoff + horizon = {cut_ts + span} runs past the end of the data "
            f"({data.observation_end}): the labels would be censored; use an earlier "
            "cutoff or a shorter horizon")
    active = customer_aggregates(data, end=cut_ts, freq=None).index  # a transaction by the cut-off
    if _native(data):
        span_ns = int(span / pd.Timedelta(1, "ns"))
        later = (data.lazy_rows("transactions").with_columns(_age_expr(cut))
                 .filter((nw.col("age") < 0) & (nw.col("age") >= -span_ns))
                 .select("customer_id").unique().collect()["customer_id"].to_list())
        return pd.Series(~active.isin(later), index=active, name="churned")
    codes, ids = data.customer_codes("transactions")
    assert data.transactions is not None
    age = _age_days(data.transactions["timestamp"], cut)
    horizon_days = span / pd.Timedelta(days=1)
    after = np.bincount(codes[(age < 0) & (-age <= horizon_days)], minlength=len(ids)) > 0
    return pd.Series(~after[ids.get_indexer(active)], index=active, name="churned")
