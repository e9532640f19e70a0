"""Association rules against arules' published Groceries figures, mlxtend and brute force."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels.association import AssociationRulesModel, encode_baskets
from crmmodels.datasets import load_groceries
from crmmodels.errors import DataValidationError, InvalidParameterError


@pytest.fixture(scope="module")
def groceries() -> pd.DataFrame:
    return load_groceries()


@pytest.mark.reference
def test_groceries_published_figures(groceries: pd.DataFrame) -> None:
    """Match arules / arulesViz: 13,492 itemsets; 410 single-consequent rules; 32 with lift > 5."""
    model = AssociationRulesModel(min_support=0.001, min_confidence=0.8,
                                  max_consequent_len=1).fit(groceries)
    assert model.n_baskets_ == 9835
    assert len(model.itemsets_) == 13_492
    assert len(model.rules_) == 410
    assert int((model.rules_["lift"] > 5).sum()) == 32
    top = model.rules_.sort_values("lift", ascending=False).iloc[0]
    assert top["antecedents"] == frozenset({"liquor", "red/blush wine"})
    assert top["consequents"] == frozenset({"bottled beer"})
    assert round(top["support"], 6) == 0.001932
    assert round(top["confidence"], 4) == 0.9048
    assert round(top["lift"], 3) == 11.235


@pytest.mark.reference
def test_equals_mlxtend(groceries: pd.DataFrame) -> None:
    from mlxtend.frequent_patterns import association_rules

    ours = AssociationRulesModel(min_support=0.002, min_confidence=0.5).fit(groceries)
    ref_model = AssociationRulesModel(min_support=0.002, min_confidence=0.5,
                                      engine="mlxtend").fit(groceries)
    a = dict(zip(ours.itemsets_["itemsets"], ours.itemsets_["support"], strict=True))
    b = dict(zip(ref_model.itemsets_["itemsets"], ref_model.itemsets_["support"], strict=True))
    assert a == b  # same itemsets, supports exactly equal
    ref = association_rules(ref_model.itemsets_, num_itemsets=ref_model.n_baskets_,
                            metric="confidence", min_threshold=0.5)
    o = ours.rules_.set_index(["antecedents", "consequents"])
    r = ref.set_index(["antecedents", "consequents"])
    assert set(o.index) == set(r.index)
    assert len(o) == len(r)
    r = r.loc[o.index]
    np.testing.assert_allclose(o.to_numpy(float), r[o.columns].to_numpy(float),
                               rtol=1e-12, atol=1e-15)


def _brute_force(baskets: list[set[int]], min_support: float) -> dict[frozenset[int], float]:
    n = len(baskets)
    items = sorted(set().union(*baskets))
    need = max(1, int(np.ceil(min_support * n - 1e-9)))
    out: dict[frozenset[int], float] = {}
    for k in range(1, len(items) + 1):
        found = False
        for combo in combinations(items, k):
            c = sum(1 for b in baskets if set(combo) <= b)
            if c >= need:
                out[frozenset(combo)] = c / n
                found = True
        if not found:
            break
    return out


@given(baskets=st.lists(st.sets(st.integers(0, 7), min_size=1, max_size=5), min_size=1,
                        max_size=25),
       min_support=st.sampled_from([0.05, 0.1, 0.2, 0.34, 0.5, 1.0]))
def test_itemsets_equal_brute_force(baskets: list[set[int]], min_support: float) -> None:
    model = AssociationRulesModel(min_support=min_support, min_confidence=0.01).fit(
        [sorted(b) for b in baskets])
    ours = dict(zip(model.itemsets_["itemsets"], model.itemsets_["support"], strict=True))
    assert ours == pytest.approx(_brute_force(baskets, min_support))
    rules = model.rules_
    if len(rules):
        np.testing.assert_allclose(rules["lift"], rules["confidence"]
                                   / rules["consequent support"], rtol=1e-12)
        assert rules["confidence"].between(0, 1 + 1e-12).all()
        assert rules["jaccard"].between(0, 1 + 1e-12).all()
        assert rules["kulczynski"].between(0, 1 + 1e-12).all()
        assert rules["zhangs_metric"].between(-1 - 1e-12, 1 + 1e-12).all()
        assert (rules["support"] <= rules["antecedent support"] + 1e-12).all()


def test_recommend_and_score() -> None:
    baskets = [["milk", "bread"], ["milk", "bread", "eggs"], ["milk"], ["bread", "eggs"],
               ["bread", "eggs"]]
    model = AssociationRulesModel(min_support=0.2, min_confidence=0.5).fit(baskets)
    rec = model.recommend(["eggs"], k=3)
    assert rec["item"].tolist()[0] == "bread"  # eggs -> bread has confidence 1
    assert rec["confidence"].iloc[0] == pytest.approx(1.0)
    assert "eggs" not in rec["item"].tolist()
    scores = model.score(pd.DataFrame({"basket_id": ["x", "y"], "item": ["eggs", "milk"]}))
    assert scores.index.name == "basket_id"
    assert scores.loc["x", "item"] == "bread"


def test_bad_input() -> None:
    with pytest.raises(DataValidationError):
        AssociationRulesModel().fit([])
    with pytest.raises(DataValidationError):
        AssociationRulesModel().fit(pd.DataFrame({"basket_id": [1, 2], "item": ["a", None]}))
    with pytest.raises(DataValidationError):
        AssociationRulesModel().fit(["ab", "cd"])
    with pytest.raises(DataValidationError):
        AssociationRulesModel().fit(pd.DataFrame({"basket": [1], "item": ["a"]}))
    for bad in ({"min_support": 0}, {"min_support": 1.5}, {"engine": "apriori"}):
        with pytest.raises(InvalidParameterError):
            AssociationRulesModel(**bad).fit([["a", "b"]])  # type: ignore[arg-type]
    single = AssociationRulesModel(min_support=0.5).fit([["a"], ["a"]])
    assert len(single.itemsets_) == 1
    assert len(single.rules_) == 0


def test_encoding_is_sparse_and_deduplicated() -> None:
    matrix, baskets, items = encode_baskets(
        pd.DataFrame({"basket_id": [1, 1, 1, 2], "item": ["a", "a", "b", "b"]}))
    assert matrix.nnz == 3
    assert matrix.toarray().tolist() == [[True, True], [False, True]]
    assert list(baskets) == [1, 2]
    assert list(items) == ["a", "b"]


def test_attribute_rules_on_telco_customers() -> None:
    from crmmodels.association import attribute_baskets
    from crmmodels.datasets import load_telco_churn

    customers = load_telco_churn().customers
    assert customers is not None
    items = attribute_baskets(customers, columns=["Contract", "InternetService", "tenure",
                                                  "churned"])
    model = AssociationRulesModel(min_support=0.05, min_confidence=0.4).fit(items)
    churn_rules = model.rules_[model.rules_["consequents"] == frozenset({"churned=True"})]
    assert len(churn_rules) > 0
    rule = churn_rules.iloc[0]  # highest confidence first
    # Its confidence is the churn rate of the customers matching the antecedent.
    mask = np.ones(len(customers), dtype=bool)
    for item in rule["antecedents"]:
        col, value = item.split("=", 1)
        if col == "tenure":
            continue  # a band: checked through the itemset supports below
        mask &= customers[col].astype(str).to_numpy() == value
    if not any(i.startswith("tenure=") for i in rule["antecedents"]):
        assert rule["confidence"] == pytest.approx(customers.loc[mask, "churned"].mean())
    assert rule["lift"] > 1.5  # churn is concentrated, e.g. month-to-month fibre customers


def test_customer_baskets_from_crmdata() -> None:
    from crmmodels.datasets import load_online_retail

    data = load_online_retail()
    orders = AssociationRulesModel(min_support=0.02, min_confidence=0.6).fit(data)
    people = AssociationRulesModel(min_support=0.05, min_confidence=0.6,
                                   basket="customer_id").fit(data)
    assert orders.n_baskets_ == data.transactions["transaction_id"].nunique()
    assert people.n_baskets_ == data.n_customers
    assert len(orders.rules_) > 0
    assert len(people.rules_) > 0


def test_vectorised_score_equals_recommend(groceries: pd.DataFrame) -> None:
    model = AssociationRulesModel(min_support=0.002, min_confidence=0.3, top_k=3).fit(groceries)
    sample = groceries[groceries["basket_id"] < 400]
    scores = model.score(sample)
    assert len(scores) == sample["basket_id"].nunique()
    for basket_id, group in sample.groupby("basket_id"):
        expected = model.recommend(list(group["item"]), k=3)
        row = scores.loc[basket_id]
        assert list(row["items"]) == expected["item"].tolist()
        if len(expected):
            assert row["item"] == expected["item"].iloc[0]
            assert row["confidence"] == pytest.approx(expected["confidence"].iloc[0])
            assert row["lift"] == pytest.approx(expected["lift"].iloc[0])
        else:
            assert pd.isna(row["item"])


def test_rules_per_segment() -> None:
    from crmmodels import CRMData

    rows = []
    for c in range(40):
        segment_a = c < 20
        for o in range(3):
            basket = ["tea", "biscuits"] if segment_a else ["coffee", "cake"]
            rows += [{"customer_id": f"c{c}", "transaction_id": f"o{c}-{o}", "product_id": p,
                      "timestamp": "2024-01-01", "amount": 1.0} for p in basket]
    customers = pd.DataFrame({"customer_id": [f"c{c}" for c in range(40)],
                              "tier": ["A" if c < 20 else "B" for c in range(40)]})
    data = CRMData(transactions=pd.DataFrame(rows), customers=customers)
    model = AssociationRulesModel(min_support=0.3, min_confidence=0.8,
                                  segment_column="tier").fit(data)
    assert set(model.segment_rules_) == {"A", "B"}
    assert model.recommend(["tea"], segment="A")["item"].tolist() == ["biscuits"]
    assert model.recommend(["tea"], segment="B").empty  # B never buys tea
    with pytest.raises(InvalidParameterError):
        model.recommend(["tea"], segment="C")


def test_itemset_explosion_is_a_clear_error() -> None:
    big = [list(range(40))] * 3  # every subset of 40 items is frequent: 2^40 itemsets
    with pytest.raises(DataValidationError, match="raise min_support or set max_len"):
        AssociationRulesModel(min_support=0.5).fit(big)
    capped = AssociationRulesModel(min_support=0.5, max_len=2).fit(big)
    assert len(capped.itemsets_) == 40 + 40 * 39 // 2


@pytest.mark.parametrize("pair_check_words", [0, 10**9])
@given(baskets=st.lists(st.sets(st.integers(0, 9), min_size=1, max_size=6), min_size=1,
                        max_size=40),
       min_support=st.sampled_from([0.03, 0.1, 0.25, 0.5]),
       max_len=st.sampled_from([None, 1, 2, 3]))
def test_miner_paths_equal_brute_force(pair_check_words: int, baskets: list[set[int]],
                                       min_support: float, max_len: int | None) -> None:
    # Both search paths (frequent-pair look-ups on, as for long bitsets, and off) give
    # the brute-force itemsets, with and without a length cap.
    from unittest import mock

    import scipy.sparse as sp

    from crmmodels.association import _miner

    rows = np.repeat(np.arange(len(baskets)), [len(b) for b in baskets])
    cols = np.fromiter((i for b in baskets for i in sorted(b)), dtype=np.int64)
    matrix = sp.csc_matrix((np.ones(len(cols), bool), (rows, cols)), shape=(len(baskets), 10))
    with mock.patch.object(_miner, "_PAIR_CHECK_WORDS", pair_check_words):
        sets, counts = _miner.mine_itemsets(matrix, min_support, max_len=max_len)
    expected = {s: round(v * len(baskets)) for s, v in _brute_force(baskets, min_support).items()
                if max_len is None or len(s) <= max_len}
    assert len(sets) == len(set(sets))
    assert all(list(s) == sorted(s) for s in sets)
    assert dict(zip(map(frozenset, sets), counts.tolist(), strict=True)) == expected


def test_miner_budget_is_a_clear_error() -> None:
    import scipy.sparse as sp

    from crmmodels.association._miner import TooManyItemsetsError, mine_itemsets

    # One basket of 12 items: all 4,095 subsets are frequent.
    matrix = sp.csc_matrix(np.ones((1, 12), dtype=bool))
    assert len(mine_itemsets(matrix, 1.0)[0]) == 2**12 - 1
    with pytest.raises(TooManyItemsetsError, match="more than 1,000 frequent itemsets"):
        mine_itemsets(matrix, 1.0, max_itemsets=1_000)
