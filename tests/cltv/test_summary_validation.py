"""One summary validator for continuous (BG/NBD ...) and discrete (BG/BB) summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmmodels.cltv import BetaGeoBetaBinomModel, BetaGeoModel, validate_discrete_summary
from crmmodels.data import validate_summary
from crmmodels.datasets import load_cdnow_sample
from crmmodels.errors import DataValidationError
from tests.samples import lifetimes_file

# The same three customers as a continuous and as a discrete summary.
CONTINUOUS = {"frequency": [2, 1, 0], "recency": [5.0, 1.0, 0.0], "T": [6.0, 6.0, 6.0]}
DISCRETE = {"frequency": [2, 1, 0], "recency": [5, 1, 0], "n_periods": [6, 6, 6]}
PATHS = [pytest.param(CONTINUOUS, False, id="continuous"),
         pytest.param(DISCRETE, True, id="discrete")]
IDS = [
    pytest.param(pd.Index([17, 4, 99]), id="int64"),
    pytest.param(pd.RangeIndex(3), id="range"),
    pytest.param(pd.Index(["a", "b", "c"], dtype="str"), id="str"),
    pytest.param(pd.Index(["a", "b", "c"], dtype=object), id="object"),
    pytest.param(pd.Index([1.5, 2.5, 3.5]), id="float"),
]


@pytest.mark.parametrize(("columns", "discrete"), PATHS)
@pytest.mark.parametrize("ids", IDS)
def test_index_keeps_the_callers_labels_and_dtype(columns: dict[str, list[float]],
                                                  discrete: bool, ids: pd.Index) -> None:
    frame = pd.DataFrame(columns, index=ids)
    out = validate_summary(frame, discrete=discrete)
    assert out.index.name == "customer_id"
    pd.testing.assert_index_equal(out.index, ids.rename("customer_id"), exact=True)
    assert ids.name is None  # the caller's index is not renamed in place
    # A customer_id column becomes the index, with the column's own dtype.
    with_column = frame.rename_axis("customer_id").reset_index()
    from_column = validate_summary(with_column, discrete=discrete)
    pd.testing.assert_index_equal(from_column.index, pd.Index(with_column["customer_id"]),
                                  exact="equiv")
    assert from_column.index.dtype == with_column["customer_id"].dtype
    np.testing.assert_array_equal(from_column.to_numpy(), out.to_numpy())


@pytest.fixture(scope="module")
def fitted() -> dict[bool, BetaGeoModel | BetaGeoBetaBinomModel]:
    rf = pd.read_csv(lifetimes_file("donations.csv"))
    donors = rf.loc[rf.index.repeat(rf["weights"])].rename(columns={"periods": "n_periods"})
    return {False: BetaGeoModel(horizon=3).fit(load_cdnow_sample()),
            True: BetaGeoBetaBinomModel(horizon=3).fit(
                donors[["frequency", "recency", "n_periods"]].reset_index(drop=True))}


@pytest.mark.parametrize(("columns", "discrete"), PATHS)
def test_scores_come_back_under_the_callers_ids(
    columns: dict[str, list[float]], discrete: bool,
    fitted: dict[bool, BetaGeoModel | BetaGeoBetaBinomModel],
) -> None:
    ids = pd.Index([30, 10, 20], name="id")
    scores = fitted[discrete].score(pd.DataFrame(columns, index=ids))
    pd.testing.assert_index_equal(scores.index, ids.rename("customer_id"), exact=True)
    as_text = fitted[discrete].score(pd.DataFrame(columns, index=ids.astype("str")))
    pd.testing.assert_index_equal(as_text.index, pd.Index(["30", "10", "20"], dtype="str",
                                                          name="customer_id"), exact=True)
    np.testing.assert_array_equal(as_text.to_numpy(), scores.to_numpy())


def test_discrete_wrapper_is_the_shared_validator() -> None:
    frame = pd.DataFrame(DISCRETE, index=pd.Index([3, 1, 2]))
    pd.testing.assert_frame_equal(validate_discrete_summary(frame),
                                  validate_summary(frame, discrete=True))
    # T is a synonym of n_periods on the discrete path only.
    with_t = frame.rename(columns={"n_periods": "T"})
    pd.testing.assert_frame_equal(validate_summary(with_t, discrete=True),
                                  validate_discrete_summary(frame))
    assert validate_summary(with_t).columns.tolist() == ["frequency", "recency", "T"]


@pytest.mark.parametrize(("columns", "discrete"), PATHS)
@pytest.mark.parametrize(
    ("change", "column", "rule"),
    [
        ({"frequency": [2, 1.5, 0]}, "frequency", "integer"),
        ({"frequency": [2, -1, 0]}, "frequency", "non_negative"),
        ({"recency": [5, np.nan, 0]}, "recency", "finite"),
        ({"recency": [5, 1, 1]}, "recency", "recency_zero_without_repeat"),
        ({"frequency": ["2", "1", "0"]}, "frequency", "numeric"),
    ],
)
def test_shared_rules_read_the_same_on_both_paths(
    columns: dict[str, list[float]], discrete: bool, change: dict[str, list[object]],
    column: str, rule: str,
) -> None:
    bad = pd.DataFrame(columns, index=pd.Index([10, 20, 30])).assign(**change)
    with pytest.raises(DataValidationError) as info:
        validate_summary(bad, discrete=discrete)
    assert (info.value.frame, info.value.column, info.value.rule) == ("summary", column, rule)
    if rule != "numeric":
        assert info.value.rows == [20 if rule != "recency_zero_without_repeat" else 30]


@pytest.mark.parametrize(("columns", "discrete"), PATHS)
def test_duplicate_ids_and_multiindex_are_refused(columns: dict[str, list[float]],
                                                  discrete: bool) -> None:
    dup = pd.DataFrame(columns, index=pd.Index([5, 6, 5]))
    with pytest.raises(DataValidationError) as info:
        validate_summary(dup, discrete=discrete)
    assert (info.value.column, info.value.rule, info.value.rows) == ("customer_id", "unique",
                                                                     [5])
    nested = pd.DataFrame(columns, index=pd.MultiIndex.from_arrays([["a", "a", "b"],
                                                                    [1, 2, 1]]))
    with pytest.raises(DataValidationError) as info:
        validate_summary(nested, discrete=discrete)
    assert info.value.rule == "flat_index"


def test_rules_that_differ_between_paths() -> None:
    # Continuous: recency is a time and may exceed the count of repeat purchases.
    assert validate_summary(pd.DataFrame({"frequency": [1], "recency": [0.5],
                                          "T": [2.0]})).shape == (1, 3)
    # Discrete: every column counts opportunities, and frequency <= recency.
    with pytest.raises(DataValidationError) as info:
        validate_summary(pd.DataFrame({"frequency": [1], "recency": [0.5],
                                       "n_periods": [2]}), discrete=True)
    assert (info.value.column, info.value.rule) == ("recency", "integer")
    with pytest.raises(DataValidationError) as info:
        validate_summary(pd.DataFrame({"frequency": [3], "recency": [2],
                                       "n_periods": [6]}), discrete=True)
    assert (info.value.column, info.value.rule) == ("frequency", "frequency_le_recency")
    # The discrete path keeps only its three columns unless spend is required.
    frame = pd.DataFrame({**DISCRETE, "monetary_value": [1.0, 2.0, 0.0]})
    assert validate_summary(frame, discrete=True).columns.tolist() == [
        "frequency", "recency", "n_periods"]
    assert validate_summary(frame, discrete=True, require_monetary=True).columns.tolist() == [
        "frequency", "recency", "n_periods", "monetary_value"]
    assert validate_summary(frame.rename(columns={"n_periods": "T"})).columns.tolist() == [
        "frequency", "recency", "T", "monetary_value"]
