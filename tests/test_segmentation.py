"""SegmentationModel: behavioural k-means clustering of customers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from crmmodels import CRMData
from crmmodels.datasets import load_cdnow_sample, load_online_retail
from crmmodels.errors import DataValidationError, InvalidParameterError
from crmmodels.segments import SegmentationModel
from crmmodels.testing import check_model

END = pd.Timestamp("2024-12-31")

# (recency in days, purchases, spend per purchase, favourite category) per group.
_GROUPS = ((3.0, 40, 120.0, "garden"), (90.0, 6, 30.0, "books"), (330.0, 1, 8.0, "toys"))


def _simulate(n_per_group: int = 150, seed: int = 0, other: float = 0.2
              ) -> tuple[pd.DataFrame, pd.Series]:
    """Transactions of three well-separated groups and each customer's true group."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    truth: dict[str, int] = {}
    for g, (recency, purchases, spend, category) in enumerate(_GROUPS):
        for i in range(n_per_group):
            cid = f"g{g}c{i:04d}"
            truth[cid] = g
            n = max(1, round(purchases * rng.uniform(0.8, 1.25)))
            last = END - pd.Timedelta(days=recency * rng.uniform(0.8, 1.25))
            for j in range(n):
                rows.append({
                    "customer_id": cid,
                    "timestamp": last - pd.Timedelta(days=float(j) * 2.0),
                    "amount": round(spend * rng.uniform(0.8, 1.25), 2),
                    "transaction_id": f"{cid}-{j}",
                    "category": category if rng.uniform() >= other else "other",
                })
    tx = pd.DataFrame(rows)
    return tx, pd.Series(truth, name="group").rename_axis("customer_id")


@pytest.fixture(scope="module")
def simulated() -> tuple[CRMData, pd.Series]:
    tx, truth = _simulate()
    return CRMData(transactions=tx, observation_end=END), truth


@pytest.fixture(scope="module")
def fitted(simulated: tuple[CRMData, pd.Series]) -> SegmentationModel:
    data, _ = simulated
    return SegmentationModel(random_state=0).fit(data)


def test_auto_recovers_known_groups(simulated: tuple[CRMData, pd.Series],
                                    fitted: SegmentationModel) -> None:
    data, truth = simulated
    assert fitted.n_segments_ == 3
    assert fitted.silhouette_.idxmax() == 3
    assert fitted.silhouette_.index.tolist() == list(range(2, 9))
    scores = fitted.score(data)
    assert scores["segment"].between(0, 2).all()
    assert (scores["distance"] >= 0).all()
    ari = adjusted_rand_score(truth.loc[scores.index], scores["segment"])
    assert ari > 0.95
    # Segment 0 is the highest spending one: here the frequent, recent group.
    assert scores["segment"].loc[["g0c0000"]].tolist() == [0]
    assert fitted.profiles_["monetary"].is_monotonic_decreasing


def test_labels_stable_across_fits_and_row_order(simulated: tuple[CRMData, pd.Series],
                                                 fitted: SegmentationModel) -> None:
    data, _ = simulated
    assert data.transactions is not None
    expected = fitted.score(data)
    again = SegmentationModel(random_state=0).fit(data).score(data)
    pd.testing.assert_frame_equal(again, expected)
    tx = data.transactions.sample(frac=1.0, random_state=7)
    shuffled = CRMData(transactions=tx, observation_end=END)
    got = SegmentationModel(random_state=0).fit(shuffled).score(shuffled)
    pd.testing.assert_series_equal(got["segment"].sort_index(), expected["segment"])
    # Another seed may number k-means' clusters differently; segments do not change.
    other = SegmentationModel(random_state=123).fit(data).score(data)
    pd.testing.assert_series_equal(other["segment"], expected["segment"])


def test_default_fits_are_deterministic() -> None:
    data = load_cdnow_sample()
    assert SegmentationModel().get_params()["random_state"] == 0
    # With 6 segments on CDNOW, k-means seeded at random lands in different local optima
    # from fit to fit; the default seed gives the same segments every time.
    first = SegmentationModel(n_segments=6).fit(data)
    second = SegmentationModel(n_segments=6).fit(data)
    np.testing.assert_array_equal(first.kmeans_.cluster_centers_,
                                  second.kmeans_.cluster_centers_)
    pd.testing.assert_frame_equal(first.score(data), second.score(data))
    seeded = SegmentationModel(n_segments=6, random_state=0).fit(data)
    pd.testing.assert_frame_equal(seeded.score(data), first.score(data))


def _kmeans_threads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the largest thread pool each k-means fit runs with."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_info

    seen: list[int] = []
    original = KMeans.fit

    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(max(int(lib["num_threads"]) for lib in threadpool_info()))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(KMeans, "fit", fit)
    return seen


def test_small_inputs_cluster_on_one_thread(simulated: tuple[CRMData, pd.Series],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from threadpoolctl import threadpool_limits

    seen = _kmeans_threads(monkeypatch)
    with threadpool_limits(limits=4):
        SegmentationModel(n_segments=3).fit(simulated[0])
    assert seen == [1]


def test_large_inputs_cluster_on_the_usable_cores(simulated: tuple[CRMData, pd.Series],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from threadpoolctl import threadpool_limits

    from crmmodels.core import usable_cores
    from crmmodels.segments import clustering

    monkeypatch.setattr(clustering, "_SINGLE_THREAD_BELOW", 0)
    seen = _kmeans_threads(monkeypatch)
    with threadpool_limits(limits=usable_cores() + 3):
        SegmentationModel(n_segments=3).fit(simulated[0])
    assert seen == [usable_cores()]


def test_profiles_add_up_and_match_groupby(simulated: tuple[CRMData, pd.Series],
                                           fitted: SegmentationModel) -> None:
    data, _ = simulated
    assert data.transactions is not None
    tx = data.transactions
    profiles = fitted.profiles_
    assert profiles.index.tolist() == [0, 1, 2]
    assert int(profiles["size"].sum()) == data.n_customers
    assert profiles["share_customers"].sum() == pytest.approx(1.0)
    assert profiles["share_revenue"].sum() == pytest.approx(1.0)

    per_customer = pd.DataFrame({
        "recency": (END - tx.groupby("customer_id")["timestamp"].max()).dt.total_seconds()
        / 86_400,
        "frequency": tx.groupby("customer_id")["transaction_id"].nunique().astype(float),
        "monetary": tx.groupby("customer_id")["amount"].sum(),
    })
    segment = fitted.score(data)["segment"]
    means = per_customer.groupby(segment.loc[per_customer.index]).mean()
    for col in ("recency", "frequency", "monetary"):
        np.testing.assert_allclose(profiles[col].to_numpy(), means[col].to_numpy(), rtol=1e-9)
    revenue = per_customer["monetary"].groupby(segment.loc[per_customer.index]).sum()
    np.testing.assert_allclose(profiles["share_revenue"].to_numpy(),
                               (revenue / revenue.sum()).to_numpy(), rtol=1e-9)
    np.testing.assert_array_equal(profiles["size"].to_numpy(),
                                  segment.value_counts().sort_index().to_numpy())


def test_frequency_counts_distinct_transactions() -> None:
    tx = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "c", "c"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01",
                                     "2024-03-01", "2024-01-05", "2024-04-01"]),
        "amount": [10.0, 5.0, 20.0, 7.0, 1.0, 2.0],
        "transaction_id": ["t1", "t1", "t2", "t3", "t4", "t5"],
    })
    data = CRMData(transactions=tx, observation_end="2024-04-01")
    model = SegmentationModel(n_segments=3, random_state=0).fit(data)
    profiles = model.profiles_.set_index("frequency")
    assert sorted(profiles.index) == [1.0, 2.0, 2.0]
    assert sorted(model.profiles_["monetary"]) == [3.0, 7.0, 35.0]
    assert sorted(model.profiles_["recency"]) == [0.0, 31.0, 60.0]


def test_new_data_uses_fitted_scaling(simulated: tuple[CRMData, pd.Series],
                                      fitted: SegmentationModel) -> None:
    data, _ = simulated
    assert data.transactions is not None
    tx = data.transactions
    expected = fitted.score(data)
    for cid in ("g0c0001", "g1c0002", "g2c0003"):
        one = CRMData(transactions=tx[tx["customer_id"] == cid], observation_end=END)
        pd.testing.assert_frame_equal(fitted.score(one), expected.loc[[cid]],
                                      check_exact=False, rtol=1e-9)


def test_category_mix(simulated: tuple[CRMData, pd.Series]) -> None:
    data, _ = simulated
    assert data.transactions is not None
    model = SegmentationModel(category_column="category", random_state=0).fit(data)
    assert model.categories_ is not None
    assert list(model.categories_) == ["books", "garden", "other", "toys"]
    assert model.feature_names_[3:] == ["share_books", "share_garden", "share_other",
                                        "share_toys"]
    # Each group buys only its own category: the mix reinforces the groups.
    tx, truth = _simulate(n_per_group=60, seed=1, other=0.0)
    pure = CRMData(transactions=tx, observation_end=END)
    scores = SegmentationModel(category_column="category", random_state=0).fit(pure).score(pure)
    assert adjusted_rand_score(truth.loc[scores.index], scores["segment"]) > 0.95
    without = CRMData(transactions=data.transactions.drop(columns="category"),
                      observation_end=END)
    with pytest.raises(DataValidationError, match="category"):
        model.score(without)
    # A column that is absent at fit time is simply not used.
    plain = SegmentationModel(category_column="no_such_column", random_state=0).fit(without)
    assert plain.categories_ is None
    assert plain.feature_names_ == ["recency", "frequency", "monetary"]


def test_subset_of_features(simulated: tuple[CRMData, pd.Series]) -> None:
    data, _ = simulated
    model = SegmentationModel(n_segments=2, features=("monetary",), random_state=0).fit(data)
    assert model.feature_names_ == ["monetary"]
    assert model.silhouette_.index.tolist() == [2]
    assert model.profiles_["monetary"].iloc[0] > model.profiles_["monetary"].iloc[1]


@pytest.mark.parametrize("params", [
    {"n_segments": 1}, {"n_segments": 0}, {"n_segments": "three"}, {"n_segments": 2.0},
    {"n_segments": True}, {"k_range": (1, 4)}, {"k_range": (5, 3)}, {"k_range": (2,)},
    {"k_range": (2.0, 5)}, {"k_range": "2-8"}, {"features": ()},
    {"features": ("recency", "recency")}, {"features": ("age",)}, {"category_column": 3},
    {"random_state": -1}, {"random_state": 1.5},
])
def test_bad_params(simulated: tuple[CRMData, pd.Series], params: dict[str, Any]) -> None:
    data, _ = simulated
    with pytest.raises(InvalidParameterError):
        SegmentationModel(**params).fit(data)


def test_fewer_customers_than_segments() -> None:
    tx = pd.DataFrame({"customer_id": ["a", "b", "c"],
                       "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
                       "amount": [1.0, 50.0, 900.0]})
    data = CRMData(transactions=tx, observation_end="2024-04-01")
    with pytest.raises(DataValidationError, match="at least 5 customers"):
        SegmentationModel(n_segments=5).fit(data)
    with pytest.raises(DataValidationError, match="more than 4 customers"):
        SegmentationModel(k_range=(4, 6)).fit(data)
    # Identical customers are not distinct behaviour.
    same = tx.assign(amount=1.0, timestamp=pd.Timestamp("2024-01-01"))
    with pytest.raises(DataValidationError, match="distinct"):
        SegmentationModel(n_segments=2).fit(CRMData(transactions=same))


def test_score_before_fit_raises(simulated: tuple[CRMData, pd.Series]) -> None:
    from crmmodels.errors import NotFittedError

    with pytest.raises(NotFittedError):
        SegmentationModel().score(simulated[0])


def test_online_retail() -> None:
    data = load_online_retail()
    model = SegmentationModel(random_state=0).fit(data)
    assert model.k_range[0] <= model.n_segments_ <= model.k_range[1]
    assert model.silhouette_.idxmax() == model.n_segments_
    profiles = model.profiles_
    assert np.isfinite(profiles.to_numpy(dtype=float)).all()
    assert int(profiles["size"].sum()) == data.n_customers
    assert profiles["share_customers"].sum() == pytest.approx(1.0)
    assert profiles["share_revenue"].sum() == pytest.approx(1.0)
    assert (profiles[["recency", "frequency", "monetary"]] >= 0).all().all()
    assert profiles["monetary"].is_monotonic_decreasing
    scores = model.score(data)
    assert len(scores) == data.n_customers
    assert np.isfinite(scores["distance"]).all()


def test_check_model() -> None:
    passed = check_model(SegmentationModel(random_state=0), load_cdnow_sample())
    assert "save_load" in passed
    assert "row_order" in passed
