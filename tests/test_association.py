"""Association rules against arules' published Groceries figures, mlxtend and brute force.

The brute-force references are computed in the tests by counting the raw baskets.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from itertools import combinations
from unittest import mock

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


def _onehot(baskets: pd.DataFrame) -> pd.DataFrame:
    """Dense basket x item table of a long ``basket_id, item`` frame (pandas only)."""
    return pd.crosstab(baskets["basket_id"], baskets["item"]).astype(bool)


def _count(table: pd.DataFrame, items: Iterable[Hashable]) -> int:
    """Baskets of ``table`` holding every one of ``items``."""
    return int(table[list(items)].all(axis=1).sum())


def _assert_rules_by_brute_force(rules: pd.DataFrame, table: pd.DataFrame) -> None:
    """Every rule's supports, confidence and lift equal counts over the raw baskets."""
    n = len(table)
    for ante, cons, s_a, s_c, s_ac, conf, lift in rules[[
            "antecedents", "consequents", "antecedent support", "consequent support",
            "support", "confidence", "lift"]].itertuples(index=False):
        n_a, n_c, n_ac = _count(table, ante), _count(table, cons), _count(table, ante | cons)
        assert (s_a, s_c, s_ac) == pytest.approx((n_a / n, n_c / n, n_ac / n), rel=1e-12)
        assert conf == pytest.approx(n_ac / n_a, rel=1e-12)
        assert lift == pytest.approx(n_ac * n / (n_a * n_c), rel=1e-12)


@pytest.mark.reference
def test_groceries_published_figures(groceries: pd.DataFrame) -> None:
    """Match arules' 410 single-consequent rules at support 0.001, confidence 0.8.

    The top one is {liquor, red/blush wine} -> {bottled beer} (support 0.001932,
    confidence 0.9048, lift 11.235); every rule's support, confidence and lift is
    checked by brute force over the raw baskets, the itemsets against mlxtend.
    """
    from mlxtend.frequent_patterns import fpgrowth

    model = AssociationRulesModel(min_support=0.001, min_confidence=0.8,
                                  max_consequent_len=1).fit(groceries)
    assert model.n_baskets_ == 9835
    assert len(model.rules_) == 410
    top = model.rules_.sort_values("lift", ascending=False).iloc[0]
    assert top["antecedents"] == frozenset({"liquor", "red/blush wine"})
    assert top["consequents"] == frozenset({"bottled beer"})
    assert round(top["support"], 6) == 0.001932
    assert round(top["confidence"], 4) == 0.9048
    assert round(top["lift"], 3) == 11.235
    table = _onehot(groceries)
    _assert_rules_by_brute_force(model.rules_, table)
    # 32 rules with lift > 5 and 13,492 itemsets: regression values (this project's
    # counts); the lifts are checked above, the itemsets against mlxtend here.
    assert int((model.rules_["lift"] > 5).sum()) == 32
    ref = fpgrowth(table, min_support=0.001, use_colnames=True)
    assert len(model.itemsets_) == len(ref) == 13_492
    assert dict(zip(model.itemsets_["itemsets"], model.itemsets_["support"], strict=True)) \
        == dict(zip(ref["itemsets"], ref["support"], strict=True))


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
    """Every itemset in at least ``ceil(min_support * n)`` baskets, with its support."""
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


def _brute_force_rules(baskets: list[set[int]], min_support: float, min_confidence: float,
                       ) -> dict[tuple[frozenset[int], frozenset[int]], tuple[float, ...]]:
    """Return every rule A -> C of a frequent itemset meeting min_confidence.

    All splits; (support, confidence, lift), counted over the baskets.
    """
    n = len(baskets)

    def count(items: frozenset[int]) -> int:
        return sum(1 for b in baskets if items <= b)

    out = {}
    for itemset in _brute_force(baskets, min_support):
        for size in range(1, len(itemset)):
            for cons in map(frozenset, combinations(sorted(itemset), size)):
                ante = itemset - cons
                n_ac, n_a, n_c = count(itemset), count(ante), count(cons)
                if n_ac / n_a >= min_confidence - 1e-12:
                    out[(ante, cons)] = (n_ac / n, n_ac / n_a, n_ac * n / (n_a * n_c))
    return out


@given(baskets=st.lists(st.sets(st.integers(0, 7), min_size=1, max_size=5), min_size=1,
                        max_size=25),
       min_support=st.sampled_from([0.05, 0.1, 0.2, 0.34, 0.5, 1.0]),
       min_confidence=st.sampled_from([0.01, 0.5, 0.75, 1.0]))
def test_itemsets_and_rules_equal_brute_force(baskets: list[set[int]], min_support: float,
                                              min_confidence: float) -> None:
    model = AssociationRulesModel(min_support=min_support, min_confidence=min_confidence
                                  ).fit([sorted(b) for b in baskets])
    ours = dict(zip(model.itemsets_["itemsets"], model.itemsets_["support"], strict=True))
    assert ours == pytest.approx(_brute_force(baskets, min_support))
    # Rules: the same set, with support, confidence and lift counted over the baskets.
    rules = model.rules_
    got = {(a, c): (s, conf, lift) for a, c, s, conf, lift in rules[
        ["antecedents", "consequents", "support", "confidence", "lift"]].itertuples(
            index=False)}
    expected = _brute_force_rules(baskets, min_support, min_confidence)
    assert got.keys() == expected.keys()
    for key, values in expected.items():
        assert got[key] == pytest.approx(values, rel=1e-12)
    # Best first: confidence, then lift, descending.
    order = list(zip(rules["confidence"], rules["lift"], strict=True))
    assert order == sorted(order, reverse=True)


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
    # A basket that already holds everything the firing rules offer gets no offer.
    full = model.score(pd.DataFrame({"basket_id": ["z"] * 3, "item": ["milk", "bread",
                                                                      "eggs"]}))
    assert model.recommend(["milk", "bread", "eggs"]).empty
    assert pd.isna(full.loc["z", "item"])
    assert full.loc["z", "items"] == ()


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


@pytest.mark.parametrize("frame", [
    # basket ids in order, out of order, as text; items as str and object
    pd.DataFrame({"basket_id": [1, 1, 2, 5, 5], "item": ["b", "a", "c", "a", "a"]}),
    pd.DataFrame({"basket_id": [5, 1, 2, 1, 5], "item": ["a", "b", "c", "a", "a"]}),
    pd.DataFrame({"basket_id": ["x5", "x1", "x2", "x1", "x5"],
                  "item": pd.Series(["a", "b", "c", "a", "a"], dtype=object)}),
])
def test_encoding_does_not_depend_on_row_order(frame: pd.DataFrame) -> None:
    matrix, baskets, items = encode_baskets(frame)
    expected = {(str(b), i) for b, i in zip(frame["basket_id"], frame["item"], strict=True)}
    rows, cols = matrix.nonzero()
    assert {(str(baskets[r]), items[c]) for r, c in zip(rows, cols, strict=True)} == expected
    assert list(baskets) == sorted(set(frame["basket_id"]))
    assert list(items) == ["a", "b", "c"]


def test_encoding_mixed_item_types_and_missing_ids() -> None:
    matrix, _, items = encode_baskets([[1, "a"], ["a", 2.5]])
    assert sorted(map(str, items)) == ["1", "2.5", "a"]
    assert matrix.sum() == 4
    for missing in (np.nan, None):
        with pytest.raises(DataValidationError, match="missing") as err:
            encode_baskets(pd.DataFrame({"basket_id": [1.0, missing], "item": ["a", "b"]}))
        assert err.value.rows == [1]


@pytest.fixture(scope="module")
def telco_customers() -> pd.DataFrame:
    from crmmodels.datasets import load_telco_churn

    customers = load_telco_churn().customers
    assert customers is not None
    return customers


def test_attribute_rules_on_telco_customers(telco_customers: pd.DataFrame) -> None:
    """Check attribute rules by brute force, against mlxtend and the churn rates.

    Every rule's support, confidence and lift equal a count over the customers'
    attribute baskets and mlxtend's association_rules on the same baskets; a churn
    rule's confidence is the churn rate of the customers matching its antecedent
    (counted on the customers frame).
    """
    from mlxtend.frequent_patterns import association_rules, fpgrowth

    from crmmodels.association import attribute_baskets

    customers = telco_customers
    items = attribute_baskets(customers, columns=["Contract", "InternetService", "tenure",
                                                  "churned"])
    model = AssociationRulesModel(min_support=0.05, min_confidence=0.4).fit(items)
    rules = model.rules_
    assert len(rules) > 0
    table = _onehot(items)
    assert len(table) == len(customers)
    _assert_rules_by_brute_force(rules, table)
    # mlxtend on the same baskets: the same rules, every metric to 1e-12.
    frequent = fpgrowth(table, min_support=0.05, use_colnames=True)
    ref = association_rules(frequent, num_itemsets=len(table), metric="confidence",
                            min_threshold=0.4).set_index(["antecedents", "consequents"])
    ours = rules.set_index(["antecedents", "consequents"])
    assert set(ours.index) == set(ref.index)
    np.testing.assert_allclose(ours.to_numpy(float), ref.loc[ours.index, ours.columns]
                               .to_numpy(float), rtol=1e-12, atol=1e-15)
    # Churn rules whose antecedent is categories only: confidence = churn rate there.
    churn = rules[rules["consequents"] == frozenset({"churned=True"})]
    plain = [r for r in churn.itertuples(index=False)
             if not any(i.startswith("tenure=") for i in r.antecedents)]
    assert plain
    for rule in plain:
        mask = np.ones(len(customers), dtype=bool)
        for item in rule.antecedents:
            col, value = item.split("=", 1)
            mask &= customers[col].astype(str).to_numpy() == value
        assert rule.confidence == pytest.approx(customers.loc[mask, "churned"].mean(),
                                                rel=1e-12)
    # Churn is concentrated (e.g. month-to-month fibre customers): the best churn rule
    # lifts the 26.5% base rate by more than half.
    assert churn["lift"].max() > 1.5


def test_attribute_baskets_id_column(telco_customers: pd.DataFrame) -> None:
    from crmmodels.association import attribute_baskets

    renamed = telco_customers.rename(columns={"customer_id": "customerID"})
    before = renamed.copy()
    items = attribute_baskets(renamed, columns=["Contract", "churned"], id="customerID")
    pd.testing.assert_frame_equal(renamed, before)  # the caller's frame is unchanged
    assert items["basket_id"].nunique() == len(renamed)
    assert set(items["basket_id"]) == set(renamed["customerID"])
    # The same baskets with the ids as a named index.
    by_index = attribute_baskets(renamed.set_index("customerID"),
                                 columns=["Contract", "churned"], id="customerID")
    pd.testing.assert_frame_equal(by_index, items)
    # And the default name, as a column or as the index's name.
    default = attribute_baskets(telco_customers, columns=["Contract", "churned"])
    pd.testing.assert_frame_equal(default, items)
    pd.testing.assert_frame_equal(attribute_baskets(
        telco_customers.set_index("customer_id"), columns=["Contract", "churned"]), items)
    # Every other column is an attribute, the id column is not.
    every = attribute_baskets(renamed.head(50), id="customerID")
    assert {i.split("=", 1)[0] for i in every["item"]} == set(renamed.columns) - {"customerID"}


def test_attribute_baskets_missing_id_names_it() -> None:
    from crmmodels.association import attribute_baskets

    people = pd.DataFrame({"CustomerID": [1, 2], "Contract": ["a", "b"],
                           "tenure": [3, 4]})
    with pytest.raises(DataValidationError, match="id=") as err:
        attribute_baskets(people)
    assert err.value.column == "customer_id"
    assert err.value.rule == "required_column"
    assert "Did you mean id='CustomerID'?" in str(err.value)
    # A named index other than ``id`` is not used in its place.
    with pytest.raises(DataValidationError) as err:
        attribute_baskets(people.set_index("CustomerID"))
    assert err.value.column == "customer_id"
    assert "Did you mean" not in str(err.value)  # no column is close: nothing suggested
    # Suggestions are columns of the frame, never other names.
    unrelated = pd.DataFrame({"Contract": ["a"], "tenure": [3], "churned": [True]})
    with pytest.raises(DataValidationError) as err:
        attribute_baskets(unrelated, id="customer")
    assert "Did you mean" not in str(err.value)
    with pytest.raises(DataValidationError) as err:
        attribute_baskets(people, columns=["contract"], id="CustomerID")
    assert err.value.column == "contract"
    assert "Did you mean 'Contract'?" in str(err.value)
    with pytest.raises(DataValidationError) as err:
        attribute_baskets(people, columns=["age"], id="CustomerID")
    assert err.value.column == "age"
    assert "Did you mean" not in str(err.value)


def test_attribute_baskets_ids_present_and_unique() -> None:
    from crmmodels.association import attribute_baskets

    twice = pd.DataFrame({"customer_id": ["a", "a", "b"], "plan": ["x", "y", "x"]})
    with pytest.raises(DataValidationError, match="unique") as err:
        attribute_baskets(twice)
    assert err.value.rule == "unique_id"
    assert err.value.rows == [0, 1]
    gap = pd.DataFrame({"customer_id": ["a", None], "plan": ["x", "y"]})
    with pytest.raises(DataValidationError, match="present") as err:
        attribute_baskets(gap)
    assert err.value.rows == [1]


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


@pytest.mark.parametrize("limits", [
    {"_CHUNK_PAIRS": 1 << 15},  # as shipped: each level made once, one dense count
    {"_CHUNK_PAIRS": 3, "_LEVEL_PAIRS": 5},  # tiny chunks; levels made twice, span by span
    {"_DENSE_KEYS": 0},  # candidates counted by sorting their keys
])
@given(baskets=st.lists(st.sets(st.integers(0, 9), min_size=1, max_size=6), min_size=1,
                        max_size=40),
       min_support=st.sampled_from([0.03, 0.1, 0.25, 0.5]),
       max_len=st.sampled_from([None, 1, 2, 3]))
def test_miner_paths_equal_brute_force(limits: dict[str, int], baskets: list[set[int]],
                                       min_support: float, max_len: int | None) -> None:
    # Every way the miner can make and count a level gives the brute-force itemsets,
    # with and without a length cap, each level in lexicographic order.
    import scipy.sparse as sp

    from crmmodels.association import _miner

    rows = np.repeat(np.arange(len(baskets)), [len(b) for b in baskets])
    cols = np.fromiter((i for b in baskets for i in sorted(b)), dtype=np.int64)
    matrix = sp.csc_matrix((np.ones(len(cols), bool), (rows, cols)), shape=(len(baskets), 10))
    with mock.patch.multiple(_miner, **limits):
        levels = _miner.frequent_itemsets(matrix, min_support, max_len=max_len)
        sets, counts = _miner.mine_itemsets(matrix, min_support, max_len=max_len)
    expected = {s: round(v * len(baskets)) for s, v in _brute_force(baskets, min_support).items()
                if max_len is None or len(s) <= max_len}
    assert len(sets) == len(set(sets))
    assert all(list(s) == sorted(s) for s in sets)
    assert dict(zip(map(frozenset, sets), counts.tolist(), strict=True)) == expected
    for k, (level, level_counts) in enumerate(levels, start=1):
        assert level.shape == (len(level_counts), k)
        assert level.tolist() == sorted(level.tolist())


@pytest.mark.parametrize("limits", [{"_RANK_LIMIT": 2}, {"_DENSE_RANKS": 0}])
def test_rule_lookups_equal(groceries: pd.DataFrame, limits: dict[str, int]) -> None:
    # Antecedents and consequents found by matching rows (no 64-bit rank) or by a sorted
    # search give the same rules as the dense rank tables.
    from crmmodels.association import model as model_module

    params = {"min_support": 0.003, "min_confidence": 0.2}
    expected = AssociationRulesModel(**params).fit(groceries).rules_
    with mock.patch.multiple(model_module, **limits):
        got = AssociationRulesModel(**params).fit(groceries).rules_
    pd.testing.assert_frame_equal(got, expected)


def test_miner_budget_is_a_clear_error() -> None:
    import scipy.sparse as sp

    from crmmodels.association._miner import TooManyItemsetsError, mine_itemsets

    # One basket of 12 items: all 4,095 subsets are frequent.
    matrix = sp.csc_matrix(np.ones((1, 12), dtype=bool))
    assert len(mine_itemsets(matrix, 1.0)[0]) == 2**12 - 1
    with pytest.raises(TooManyItemsetsError, match="more than 1,000 frequent itemsets"):
        mine_itemsets(matrix, 1.0, max_itemsets=1_000)
