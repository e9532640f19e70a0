"""Behavioural segmentation: k-means clustering of customers on RFM (and category mix).

Each customer is described, at ``data.observation_end``, by

* ``recency``: days since the last purchase;
* ``frequency``: number of purchases (distinct ``transaction_id`` when the column is
  present, else rows);
* ``monetary``: total spend;
* optionally the share of spend per value of ``category_column`` (e.g. a product
  category), when that column is given and present.

The features are transformed with ``log1p`` (they are heavily right-skewed) and
standardised; the means and scales are learned state, so new data is transformed
exactly as the training data was. scikit-learn's :class:`~sklearn.cluster.KMeans`
groups the customers; with ``n_segments="auto"`` the number of segments is the one
with the best silhouette score over ``k_range``. Clusters are relabelled in a fixed
order (descending mean spend of their members), so segment ``0`` is always the most
valuable one and labels do not depend on k-means' arbitrary numbering.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmmodels.core import (
    ColumnName,
    Constraint,
    CRMModel,
    Interval,
    Options,
    Predicate,
    RandomState,
    limit_threads,
)
from crmmodels.data import CRMData, customer_aggregates
from crmmodels.errors import DataValidationError

__all__ = ["SegmentationModel"]

_RFM = ("recency", "frequency", "monetary")
_N_INIT = 10
_SILHOUETTE_SAMPLE = 10_000
# Below this many customers k-means runs on one thread: thread start-up costs more than
# it saves on small tables (and much more on a busy machine). Above it, k-means uses the
# bound every fit runs under (crmmodels.core.limit_threads: the usable cores).
_SINGLE_THREAD_BELOW = 50_000
_PROFILE_COLUMNS = ("size", "share_customers", "recency", "frequency", "monetary",
                    "share_revenue")


def _is_int(v: Any) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_)


def _valid_k_range(v: Any) -> bool:
    return (isinstance(v, tuple | list) and len(v) == 2 and all(_is_int(k) for k in v)
            and 2 <= v[0] <= v[1])


def _valid_features(v: Any) -> bool:
    return (isinstance(v, tuple | list) and len(v) > 0 and len(set(v)) == len(v)
            and all(isinstance(f, str) and f in _RFM for f in v))


def _rfm(data: CRMData) -> tuple[pd.DataFrame, np.ndarray]:
    """Recency (days), frequency and monetary per customer, in customer-id order.

    Returns the frame and the row -> customer codes. The values come from the shared
    per-customer aggregate (:func:`crmmodels.data.customer_aggregates`).
    """
    codes, _ = data.customer_codes()
    agg = customer_aggregates(data, freq=None)
    days = ((data.observation_end - agg["last_timestamp"]).dt.total_seconds()
            .to_numpy(dtype=float) / 86_400.0)
    frame = pd.DataFrame({"recency": np.clip(days, 0.0, None),
                          "frequency": agg["n_purchases"].to_numpy().astype(float),
                          "monetary": agg["total_amount"].to_numpy()},
                         index=agg.index)
    return frame, codes


def _category_shares(data: CRMData, codes: np.ndarray, column: str,
                     categories: pd.Index) -> np.ndarray:
    """Share of each customer's spend per category (unknown categories count nowhere)."""
    tx = data.transactions
    assert tx is not None
    n = int(codes.max()) + 1 if len(codes) else 0
    values = tx[column]
    labels = values.astype(str).where(values.notna(), None)
    cat = pd.Categorical(labels, categories=categories).codes.astype(np.int64)
    amount = np.clip(tx["amount"].to_numpy(dtype=float), 0.0, None)
    known = cat >= 0
    n_cat = len(categories)
    flat = codes[known].astype(np.int64) * n_cat + cat[known]
    order = np.lexsort((amount[known], flat))
    spend = np.bincount(flat[order], weights=amount[known][order],
                        minlength=n * n_cat).reshape(n, n_cat)
    total = np.bincount(codes, weights=amount, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(total[:, None] > 0, spend / total[:, None], 0.0)
    result: np.ndarray = shares
    return result


class SegmentationModel(CRMModel):
    """Behavioural clustering of customers (k-means on log-standardised RFM features).

    Parameters
    ----------
    n_segments : int or "auto", default "auto"
        Number of segments (at least 2), or ``"auto"`` to choose the one with the
        best silhouette score over ``k_range``.
    features : tuple of str, default ("recency", "frequency", "monetary")
        Which of ``recency`` (days since the last purchase), ``frequency`` (number of
        purchases) and ``monetary`` (total spend) to cluster on.
    k_range : tuple of (int, int), default (2, 8)
        Smallest and largest number of segments tried by ``"auto"`` (inclusive,
        ``2 <= low <= high``).
    category_column : str, optional
        A transactions column (e.g. a product category); when given and present,
        each customer's share of spend per value of it is added to the features.
    random_state : int or None, default 0
        Seed of k-means and of the silhouette sample, so two fits on the same data
        give the same segments. ``None`` lets k-means draw its own seed at every fit
        (the segments may then differ between fits; the silhouette sample keeps
        seed 0).

    Attributes
    ----------
    n_segments_ : int
        Number of segments found.
    kmeans_ : sklearn.cluster.KMeans
        The fitted k-means estimator (in its own, arbitrary, label numbering).
    relabel_ : ndarray of int
        ``relabel_[kmeans_label]`` is the segment: segments are numbered by
        descending mean spend of their members.
    feature_names_ : list of str
        Columns clustered on (``share_<category>`` for the category mix).
    means_, scales_ : Series
        Mean and standard deviation of each ``log1p`` feature in the training data.
    categories_ : Index or None
        Category values of ``category_column`` seen in training.
    silhouette_ : Series
        Silhouette score per number of segments tried (index ``k``).
    profiles_ : DataFrame
        Per segment: ``size``, ``share_customers``, mean ``recency``, ``frequency``,
        ``monetary``, and ``share_revenue`` (share of total spend).

    Notes
    -----
    ``score`` returns, per ``customer_id``, the ``segment`` (``0 .. n_segments_ - 1``)
    and the Euclidean ``distance`` to the segment's centre in the standardised
    feature space. Like every crmmodels model, ``score`` returns a frame, so grid
    search needs an explicit ``scoring=``.

    Examples
    --------
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> data = load_cdnow_sample()
    >>> model = SegmentationModel(n_segments=3, random_state=0).fit(data)
    >>> model.n_segments_
    3
    >>> model.profiles_.columns.tolist()
    ['size', 'share_customers', 'recency', 'frequency', 'monetary', 'share_revenue']
    >>> int(model.profiles_["size"].sum()) == data.n_customers
    True
    >>> model.score(data).columns.tolist()
    ['segment', 'distance']
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "n_segments": [Options({"auto"}), Interval(Integral, 2, None)],
        "features": [Predicate(_valid_features,
                               "a non-empty tuple of distinct names from 'recency', "
                               "'frequency', 'monetary'", [(), ("recency", "recency"), "x"])],
        "k_range": [Predicate(_valid_k_range,
                              "a pair of ints (low, high) with 2 <= low <= high",
                              [(1, 3), (4, 3), (2.0, 3)])],
        "category_column": [None, ColumnName()],
        "random_state": [None, RandomState()],
    }
    _score_columns: ClassVar[tuple[str, ...]] = ("segment", "distance")
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"n_segments": 1}, {"n_segments": "many"}, {"n_segments": 2.5},
        {"k_range": (1, 5)}, {"k_range": (6, 3)}, {"k_range": (2,)},
        {"features": ()}, {"features": ("recency", "age")},
        {"random_state": -1},
    )

    def __init__(
        self,
        *,
        n_segments: int | str = "auto",
        features: tuple[str, ...] = _RFM,
        k_range: tuple[int, int] = (2, 8),
        category_column: str | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.n_segments = n_segments
        self.features = features
        self.k_range = k_range
        self.category_column = category_column
        self.random_state = random_state

    # ------------------------------------------------------------------ features
    def _raw_features(self, data: CRMData, categories: pd.Index | None
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
        rfm, codes = _rfm(data)
        raw = rfm.loc[:, list(self.features)]
        if categories is not None:
            column = str(self.category_column)
            tx = data.transactions
            assert tx is not None
            if column not in tx.columns:
                raise DataValidationError(
                    f"SegmentationModel was fitted with the category mix of {column!r}, "
                    f"which these transactions lack", frame="transactions", column=column,
                    rule="required_column",
                )
            shares = _category_shares(data, codes, column, categories)
            names = [f"share_{c}" for c in categories]
            raw = pd.concat([raw, pd.DataFrame(shares, index=raw.index, columns=names)],
                            axis=1)
        return rfm, raw

    def _transform(self, raw: pd.DataFrame) -> np.ndarray:
        logged = np.log1p(np.clip(raw.to_numpy(dtype=float), 0.0, None))
        x: np.ndarray = (logged - self.means_.to_numpy()) / self.scales_.to_numpy()
        return x

    # ------------------------------------------------------------------ hooks
    def _fit(self, data: CRMData) -> None:
        from sklearn.cluster import KMeans
        from sklearn.metrics import silhouette_score

        tx = data.transactions
        assert tx is not None
        categories: pd.Index | None = None
        if self.category_column is not None and self.category_column in tx.columns:
            col = tx[self.category_column]
            categories = pd.Index(np.sort(col[col.notna()].astype(str).unique()), dtype=object)
        rfm, raw = self._raw_features(data, categories)
        logged = np.log1p(np.clip(raw.to_numpy(dtype=float), 0.0, None))
        means = logged.mean(axis=0)
        scales = logged.std(axis=0)
        scales = np.where(scales > 0, scales, 1.0)
        self.feature_names_ = [str(c) for c in raw.columns]
        self.categories_ = categories
        self.means_ = pd.Series(means, index=self.feature_names_, name="mean")
        self.scales_ = pd.Series(scales, index=self.feature_names_, name="scale")
        x = self._transform(raw)

        n = len(x)
        n_distinct = len(np.unique(x, axis=0))
        if self.n_segments == "auto":
            low, high = int(self.k_range[0]), int(self.k_range[1])
            # Silhouette needs 2 <= k <= n - 1; k-means needs k distinct points.
            ks = [k for k in range(low, high + 1) if k <= n_distinct and k <= n - 1]
            if not ks:
                raise DataValidationError(
                    f"SegmentationModel(n_segments='auto') needs more than {low} customers "
                    f"with distinct behaviour to try k_range={tuple(self.k_range)}; got {n} "
                    f"customers ({n_distinct} distinct)", frame="transactions",
                    rule="min_customers",
                )
        else:
            k = int(self.n_segments)
            if n_distinct < k:
                raise DataValidationError(
                    f"SegmentationModel(n_segments={k}) needs at least {k} customers with "
                    f"distinct behaviour; got {n} customers ({n_distinct} distinct)",
                    frame="transactions", rule="min_customers",
                )
            ks = [k]

        seed = 0 if self.random_state is None else int(self.random_state)
        sample = _SILHOUETTE_SAMPLE if n > _SILHOUETTE_SAMPLE else None
        fits: dict[int, Any] = {}
        scores: dict[int, float] = {}
        limits: AbstractContextManager[object] = (
            limit_threads(n_jobs=1) if n < _SINGLE_THREAD_BELOW else nullcontext())
        with limits:
            for k in ks:
                km = KMeans(n_clusters=k, n_init=_N_INIT, random_state=self.random_state)
                km.fit(x)
                fits[k] = km
                found = len(np.unique(km.labels_))
                if 2 <= found <= n - 1:
                    scores[k] = float(silhouette_score(x, km.labels_, sample_size=sample,
                                                       random_state=seed))
                else:
                    scores[k] = float("nan")
        if len(ks) == 1:
            best = ks[0]
        else:
            valid = {k: s for k, s in scores.items() if np.isfinite(s)}
            best = max(valid, key=lambda k: (valid[k], -k)) if valid else ks[0]
        km = fits[best]

        # Stable numbering: by descending mean spend, then recency, frequency, centre.
        raw_labels = np.argmin(km.transform(x), axis=1)
        counts = np.bincount(raw_labels, minlength=best).astype(float)
        safe = np.where(counts > 0, counts, 1.0)

        def mean_of(col: str) -> np.ndarray:
            out: np.ndarray = np.bincount(raw_labels, weights=rfm[col].to_numpy(),
                                          minlength=best) / safe
            return out

        keys = [*km.cluster_centers_.T[::-1], -mean_of("frequency"), mean_of("recency"),
                -mean_of("monetary")]
        order = np.lexsort(keys)
        relabel = np.empty(best, dtype=np.int64)
        relabel[order] = np.arange(best)

        self.kmeans_ = km
        self.relabel_ = relabel
        self.n_segments_ = best
        self.silhouette_ = pd.Series(scores, name="silhouette", dtype=float)
        self.silhouette_.index = pd.Index(list(scores), name="k", dtype=np.int64)
        self.profiles_ = self._profiles(rfm, relabel[raw_labels], best)

    @staticmethod
    def _profiles(rfm: pd.DataFrame, segment: np.ndarray, k: int) -> pd.DataFrame:
        counts = np.bincount(segment, minlength=k).astype(float)
        safe = np.where(counts > 0, counts, 1.0)
        sums = {c: np.bincount(segment, weights=rfm[c].to_numpy(), minlength=k)
                for c in _RFM}
        total = float(rfm["monetary"].sum())
        share_revenue = sums["monetary"] / total if total != 0 else np.full(k, np.nan)
        return pd.DataFrame(
            {"size": counts.astype(np.int64), "share_customers": counts / len(segment),
             "recency": sums["recency"] / safe, "frequency": sums["frequency"] / safe,
             "monetary": sums["monetary"] / safe, "share_revenue": share_revenue},
            index=pd.Index(np.arange(k, dtype=np.int64), name="segment"),
            columns=list(_PROFILE_COLUMNS),
        )

    def _html_diagnostics(self) -> list[tuple[str, pd.DataFrame | pd.Series | str]]:
        """Show the segment profiles and the silhouette of each number of segments tried."""
        return [("Segment profiles", self.profiles_), ("Silhouette by k", self.silhouette_)]

    def _score(self, data: CRMData) -> pd.DataFrame:
        _, raw = self._raw_features(data, self.categories_)
        x = self._transform(raw)
        dist = self.kmeans_.transform(x)
        raw_labels = np.argmin(dist, axis=1)
        return pd.DataFrame(
            {"segment": self.relabel_[raw_labels],
             "distance": dist[np.arange(len(x)), raw_labels]},
            index=pd.Index(raw.index, name="customer_id"),
        )
