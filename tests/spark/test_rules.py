"""Association rules from Spark MLlib's FP-Growth against AssociationRulesModel."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmmodels import spark as crm_spark
from crmmodels.association import RULE_COLUMNS, AssociationRulesModel
from crmmodels.errors import DataValidationError, InvalidParameterError, MissingColumnError
from tests.spark.conftest import to_spark

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def groceries() -> pd.DataFrame:
    from crmmodels.datasets import load_groceries

    return load_groceries()


@pytest.mark.parametrize(("min_support", "min_confidence", "min_lift"),
                         [(0.01, 0.3, None), (0.005, 0.5, 2.0)])
def test_groceries_rules_equal_the_model(spark: Any, groceries: pd.DataFrame,
                                         min_support: float, min_confidence: float,
                                         min_lift: float | None) -> None:
    ref = AssociationRulesModel(min_support=min_support, min_confidence=min_confidence,
                                min_lift=min_lift, max_consequent_len=1).fit(
        list(groceries.groupby("basket_id")["item"].agg(list))).rules_
    got = crm_spark.association_rules(to_spark(spark, groceries), basket="basket_id",
                                      item="item", min_support=min_support,
                                      min_confidence=min_confidence, min_lift=min_lift)
    assert list(got.columns) == list(RULE_COLUMNS)
    assert len(got) == len(ref) > 10
    assert got["antecedents"].tolist() == ref["antecedents"].tolist()
    assert got["consequents"].tolist() == ref["consequents"].tolist()
    for column in RULE_COLUMNS[2:]:
        np.testing.assert_allclose(got[column].to_numpy(), ref[column].to_numpy(),
                                   rtol=1e-12, err_msg=column)


def test_repeated_items_and_missing_values(spark: Any) -> None:
    lines = pd.DataFrame({"transaction_id": ["t1", "t1", "t1", "t2", "t2", "t3", None],
                          "product_id": ["milk", "milk", "bread", "milk", "bread", "milk",
                                         "eggs"]})
    got = crm_spark.association_rules(to_spark(spark, lines), min_support=0.5,
                                      min_confidence=0.5)
    ref = AssociationRulesModel(min_support=0.5, min_confidence=0.5,
                                max_consequent_len=1).fit(
        [["milk", "bread"], ["milk", "bread"], ["milk"]]).rules_
    pd.testing.assert_frame_equal(got, ref)


def test_guards(spark: Any) -> None:
    lines = to_spark(spark, pd.DataFrame({"basket": ["b"], "item": ["x"]}))
    with pytest.raises(MissingColumnError):
        crm_spark.association_rules(lines)
    with pytest.raises(InvalidParameterError, match="min_support"):
        crm_spark.association_rules(lines, basket="basket", item="item", min_support=0)
    with pytest.raises(DataValidationError, match="Spark DataFrame"):
        crm_spark.association_rules(pd.DataFrame())  # type: ignore[arg-type]


def _deep_basket(depth: int) -> pd.DataFrame:
    """One basket of ``depth`` items, each item frequent through two baskets of its own."""
    rows = [("deep", f"i{i:05d}") for i in range(depth)]
    rows += [(f"b{i}-{k}", f"i{i:05d}") for i in range(depth) for k in range(2)]
    return pd.DataFrame(rows, columns=["transaction_id", "product_id"])


def test_baskets_too_deep_for_the_thread_stack_are_refused(spark: Any) -> None:
    # The session's threads have 16 MiB (conftest): (16 MiB - 256 KiB) / 8 KiB = 2,016
    # levels. Each item is in 3 of the 3 * depth + 1 baskets.
    deep = _deep_basket(2_100)
    with pytest.raises(DataValidationError, match=r"2,100 frequent items.*-Xss32m") as info:
        crm_spark.association_rules(to_spark(spark, deep), min_support=3 / 6_301)
    assert info.value.rule == "basket_depth"
    assert spark.range(3).count() == 3  # the JVM lives on

    # Just within the limit FP-Growth really ships a 2,000-level tree with that stack:
    # only single items are frequent, so no rule.
    fits = _deep_basket(2_000)
    got = crm_spark.association_rules(to_spark(spark, fits), min_support=3 / 6_001,
                                      min_confidence=0.5)
    assert got.empty
    assert list(got.columns) == list(RULE_COLUMNS)
    assert spark.range(3).count() == 3


def test_thread_stack_read_from_jvm_options() -> None:
    from crmmodels.spark.rules import _thread_stack_bytes

    assert _thread_stack_bytes("-Xss1048576") == 1 << 20
    assert _thread_stack_bytes("-Xss2M -Dx=-Xss9m") == 2 << 20
    assert _thread_stack_bytes("-Xss1g") == 1 << 30
    assert _thread_stack_bytes("") is None
