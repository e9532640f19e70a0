"""Probabilistic matching with splink on a real DuckDB.

Planted duplicates without keys, the pair table, the Fellegi-Sunter arithmetic, saved
models, updates, bad input.
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmmodels.datasets import simulate_identities
from crmmodels.errors import (
    DataQualityWarning,
    DataValidationError,
    InvalidParameterError,
    MissingColumnError,
)
from crmmodels.identity import IdentityResolution, resolve_identities
from tests.samples import pair_scores

COLUMNS = ["first_name", "surname", "address", "postcode"]
# All compared without term-frequency adjustment, so a pair's weight is the plain sum.
PLAIN = {"columns": {"first_name": "text", "surname": "text", "address": "text",
                     "postcode": "exact"}, "blocking": [["postcode"], ["surname"]]}

Planted = tuple[pd.DataFrame, IdentityResolution, IdentityResolution]


@pytest.fixture(scope="module")
def planted() -> Planted:
    records = simulate_identities(3_000, keyless_share=0.3, random_state=2)
    exact = resolve_identities(records, keys=["email", "phone"])
    fuzzy = resolve_identities(records, keys=["email", "phone"], fuzzy=COLUMNS)
    return records, exact, fuzzy


@pytest.fixture(scope="module")
def plain() -> tuple[pd.DataFrame, IdentityResolution]:
    records = simulate_identities(800, keyless_share=0.3, random_state=5)
    return records, resolve_identities(records, keys=["email", "phone"], fuzzy=PLAIN)


def _found(records: pd.DataFrame, res: IdentityResolution) -> np.ndarray:
    return records["customer_id"].map(res.mapping).to_numpy()


def test_fuzzy_matching_links_the_records_that_carry_no_key(planted: Planted) -> None:
    records, exact, fuzzy = planted
    truth = records["person"].to_numpy()
    precision_e, recall_e = pair_scores(truth, _found(records, exact))
    precision_f, recall_f = pair_scores(truth, _found(records, fuzzy))
    # Without keys, 30% of the later records are not linked by the exact keys ...
    assert precision_e == 1.0
    assert recall_e < 0.75
    # ... the names and addresses link them, without linking different people.
    assert precision_f >= 0.98
    assert recall_f >= 0.95
    assert fuzzy.report.fuzzy_links > 0
    assert "fuzzy" in str(fuzzy.report)


def test_pair_table_follows_blocking_rules_and_thresholds(planted: Planted) -> None:
    records, _, res = planted
    pairs = res.pairs
    assert pairs is not None
    assert len(pairs) == res.report.fuzzy_pairs
    assert (pairs["match_probability"] >= 0.5).all()
    # match_probability is the logistic of the weight in base 2.
    w = pairs["match_weight"].to_numpy()
    np.testing.assert_allclose(pairs["match_probability"], 2.0**w / (1 + 2.0**w),
                               rtol=1e-9)
    assert (np.diff(w) <= 0).all()
    # Every pair is one the blocking rules generate: same postcode, or same first name
    # and surname (normalised).
    same_code = pairs["postcode_l"] == pairs["postcode_r"]
    same_name = ((pairs["first_name_l"] == pairs["first_name_r"])
                 & (pairs["surname_l"] == pairs["surname_r"]))
    assert (same_code | same_name).all()
    # Linked exactly when at or above the threshold (no person reaches the size limit).
    assert (pairs["linked"] == (pairs["match_probability"] >= 0.95)).all()
    assert res.report.fuzzy_links == int(pairs["linked"].sum())
    linked = pairs[pairs["linked"]]
    assert (linked["customer_id_l"].map(res.mapping).to_numpy()
            == linked["customer_id_r"].map(res.mapping).to_numpy()).all()
    # The compared values are the normalised ones.
    raw = records.set_index("customer_id")
    row = pairs.iloc[0]
    assert row["address_l"] == raw.loc[row["customer_id_l"], "address"].lower()


def _jaro_winkler(a: str, b: str) -> float:
    """Jaro-Winkler similarity written out as DuckDB defines it.

    Transpositions rounded down; prefix scale 0.1 over at most 4 characters, only above
    a Jaro similarity of 0.7.
    """
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    window = max(max(len(a), len(b)) // 2 - 1, 0)
    used_b = [False] * len(b)
    matched_a = []
    for i, ch in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not used_b[j] and b[j] == ch:
                used_b[j] = True
                matched_a.append(ch)
                break
    m = len(matched_a)
    if m == 0:
        return 0.0
    matched_b = [b[j] for j in range(len(b)) if used_b[j]]
    # Transpositions: half the matched characters out of order, rounded down.
    half = sum(x != y for x, y in zip(matched_a, matched_b, strict=True)) // 2
    jaro = (m / len(a) + m / len(b) + (m - half) / m) / 3
    if jaro <= 0.7:
        return jaro
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * 0.1 * (1 - jaro)


def _level(a: Any, b: Any, kind: str) -> int:
    """Agreement level as configured: text by Jaro-Winkler 1 / 0.95 / 0.85, exact 1/0."""
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)) or \
            (isinstance(b, float) and math.isnan(b)):
        return -1
    if kind == "exact":
        return int(a == b)
    if a == b:
        return 3
    sim = _jaro_winkler(a, b)
    return 2 if sim >= 0.95 else 1 if sim >= 0.85 else 0


def test_levels_and_weights_equal_the_fellegi_sunter_sum_written_out(
        plain: tuple[pd.DataFrame, IdentityResolution]) -> None:
    _, res = plain
    pairs = res.pairs
    assert pairs is not None
    assert len(pairs) > 100
    model = res.settings["fuzzy"]["model"]
    prior = model["probability_two_random_records_match"]
    weight = np.full(len(pairs), math.log2(prior / (1 - prior)))
    for comparison in model["comparisons"]:
        column = comparison["output_column_name"]
        kind = PLAIN["columns"][column]
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        gamma = pairs[f"gamma_{column}"].to_numpy()
        # The levels computed here from the two values agree with splink's.
        mine = [_level(a, b, kind) for a, b in zip(pairs[f"{column}_l"], pairs[f"{column}_r"],
                                                   strict=True)]
        assert mine == gamma.tolist(), column
        # Levels are listed best first: gamma k is the (len - 1 - k)-th.
        for g in np.unique(gamma[gamma >= 0]):
            level = levels[len(levels) - 1 - g]
            weight[gamma == g] += math.log2(level["m_probability"] / level["u_probability"])
    np.testing.assert_allclose(pairs["match_weight"].to_numpy(), weight, rtol=1e-9, atol=1e-9)


def test_prior_comes_from_the_key_links(plain: tuple[pd.DataFrame, IdentityResolution]
                                        ) -> None:
    records, res = plain
    exact = resolve_identities(records, keys=["email", "phone"])
    sizes = exact.clusters["size"].to_numpy(dtype=float)
    n = len(records)
    expected = (sizes * (sizes - 1) / 2).sum() / (n * (n - 1) / 2) / 0.8
    assert res.settings["fuzzy"]["model"]["probability_two_random_records_match"] == \
        pytest.approx(expected, rel=1e-12)


def _parameters(model: dict[str, Any]) -> np.ndarray:
    return np.array([level.get(name, np.nan) for c in model["comparisons"]
                     for level in c["comparison_levels"]
                     for name in ("m_probability", "u_probability")], dtype=float)


def test_same_input_gives_the_same_resolution(plain: tuple[pd.DataFrame, IdentityResolution]
                                              ) -> None:
    records, res = plain
    # On all cores DuckDB's parallel sums differ in the last digits between runs ...
    again = resolve_identities(records, keys=["email", "phone"], fuzzy=PLAIN)
    np.testing.assert_allclose(_parameters(again.settings["fuzzy"]["model"]),
                               _parameters(res.settings["fuzzy"]["model"]), rtol=1e-9)
    assert res.pairs is not None
    assert again.pairs is not None
    pd.testing.assert_frame_equal(again.pairs, res.pairs, rtol=1e-9)
    pd.testing.assert_series_equal(again.mapping, res.mapping)
    # ... on one thread two runs are identical to the bit.
    one = {**PLAIN, "threads": 1}
    first = resolve_identities(records, keys=["email", "phone"], fuzzy=one)
    second = resolve_identities(records, keys=["email", "phone"], fuzzy=one)
    assert first.settings == second.settings
    assert first.pairs is not None
    pd.testing.assert_frame_equal(first.pairs, second.pairs, check_exact=True)


def test_saved_resolution_keeps_the_trained_model_and_the_pairs(
        plain: tuple[pd.DataFrame, IdentityResolution], tmp_path: Path) -> None:
    records, res = plain
    path = tmp_path / "ids.zip"
    res.save(path)
    back = IdentityResolution.load(path)
    assert back.settings == res.settings
    assert res.pairs is not None
    assert back.pairs is not None
    pd.testing.assert_frame_equal(back.pairs, res.pairs)
    pd.testing.assert_series_equal(back.mapping, res.mapping)
    assert back.report.fuzzy_links == res.report.fuzzy_links
    # The settings carry the trained model: the same records resolve the same way with
    # it, and the model is used as it is (not trained again).
    again = resolve_identities(records, settings=back.settings)
    assert again.settings["fuzzy"]["model"] == res.settings["fuzzy"]["model"]
    pd.testing.assert_series_equal(again.mapping, res.mapping)


def test_update_scores_new_records_with_the_trained_model_and_keeps_keys(
        planted: Planted) -> None:
    records, _, _ = planted
    cut = int(len(records) * 0.8)
    old, new = records.iloc[:cut], records.iloc[cut:]
    first = resolve_identities(old, keys=["email", "phone"], fuzzy=COLUMNS)
    later = first.update(new)
    assert later.settings["fuzzy"]["model"] == first.settings["fuzzy"]["model"]
    kept = later.mapping.reindex(first.mapping.index)
    moved = kept != first.mapping
    # Earlier keys stay, except those merged into another by the new records.
    assert set(first.mapping[moved]) <= set(later.report.merged_keys)
    assert first.pairs is not None
    assert later.pairs is not None
    assert len(later.pairs) > len(first.pairs)
    new_ids = set(new["customer_id"])
    added = later.pairs[later.pairs["customer_id_l"].isin(new_ids)
                        | later.pairs["customer_id_r"].isin(new_ids)]
    assert len(added) == len(later.pairs) - len(first.pairs)
    precision, recall = pair_scores(records["person"].to_numpy(), _found(records, later))
    assert precision >= 0.98
    assert recall >= 0.95


def test_size_limit_cuts_probabilistic_links_before_shared_keys(
        plain: tuple[pd.DataFrame, IdentityResolution]) -> None:
    _, res = plain
    # B and C are written alike; A and B share an e-mail; three records are one too many.
    frame = pd.DataFrame({
        "customer_id": ["A", "B", "C"],
        "email": ["ann@x.org", "ANN@x.org", None], "phone": [None, None, None],
        "first_name": ["Ann", "Ann", "Ann"], "surname": ["Wolde", "Wolde", "Wolde"],
        "address": ["9 Elm Street", "12 Oak Street", "12 Oak St"],
        "postcode": ["10001", "20002", "20002"]})
    settings = {**res.settings, "max_cluster_size": 2}
    with pytest.warns(DataQualityWarning, match="too many records"):
        small = resolve_identities(frame, settings=settings)
    assert small.mapping["A"] == small.mapping["B"] != small.mapping["C"]
    assert small.pairs is not None
    bc = small.pairs[(small.pairs["customer_id_l"] == "B") & (small.pairs["customer_id_r"] == "C")]
    assert bc["match_probability"].iloc[0] >= 0.95
    assert not bc["linked"].iloc[0]
    assert small.report.split["key"].tolist() == ["(fuzzy)"]


def test_splink_warnings_are_issued_as_data_quality_warnings() -> None:
    records = simulate_identities(300, keyless_share=0.3, random_state=1)
    # One EM pass blocked on the postcode leaves the postcode's m values untrained.
    with pytest.warns(DataQualityWarning, match="m values not fully trained"):
        resolve_identities(records, keys=["email", "phone"],
                           fuzzy={"columns": COLUMNS, "training_blocking": [["postcode"]]})


@pytest.mark.parametrize(("fuzzy", "error", "match"), [
    ("first_name", InvalidParameterError, "list of columns"),
    ({"blocking": [["postcode"]]}, InvalidParameterError, "'columns'"),
    ({"columns": ["first_name"], "treshold": 0.9}, InvalidParameterError, "unknown options"),
    ({"columns": {"first_name": "fuzzy"}}, InvalidParameterError, "kind of 'first_name'"),
    (["shoe_size"], MissingColumnError, "shoe_size"),
    (["email"], InvalidParameterError, "id or a key column"),
    ({"columns": COLUMNS, "threshold": 1.0}, InvalidParameterError, "threshold"),
    ({"columns": COLUMNS, "threshold": 0.8, "review_threshold": 0.9}, InvalidParameterError,
     "must not be above"),
    ({"columns": COLUMNS, "blocking": [["phone"]]}, InvalidParameterError, "compared columns"),
    ({"columns": COLUMNS, "blocking": []}, InvalidParameterError, "non-empty list"),
    ({"columns": ["address"]}, InvalidParameterError, "no default blocking rule"),
    ({"columns": COLUMNS, "max_pairs": 10.5}, InvalidParameterError, "max_pairs"),
    ({"columns": COLUMNS, "prior": True}, InvalidParameterError, "prior"),
])
def test_bad_fuzzy_settings_are_refused(fuzzy: Any, error: type[Exception], match: str
                                        ) -> None:
    records = simulate_identities(20, random_state=0)
    with pytest.raises(error, match=match):
        resolve_identities(records, keys=["email", "phone"], fuzzy=fuzzy)


def test_without_key_links_the_prior_must_be_given() -> None:
    records = simulate_identities(1_000, max_records=1, random_state=0)
    with pytest.raises(DataValidationError, match="keys link no two records") as info:
        resolve_identities(records, keys=["email", "phone"], fuzzy=COLUMNS)
    assert info.value.rule == "no_key_links"
    with warnings.catch_warnings():
        # One record per person: EM sees few matches (its warnings are not tested here).
        warnings.simplefilter("ignore", DataQualityWarning)
        res = resolve_identities(records, keys=["email", "phone"],
                                 fuzzy={"columns": COLUMNS, "prior": 1e-4})
    assert res.settings["fuzzy"]["model"]["probability_two_random_records_match"] == 1e-4


def test_settings_and_fuzzy_together_are_refused(
        plain: tuple[pd.DataFrame, IdentityResolution]) -> None:
    records, res = plain
    with pytest.raises(InvalidParameterError, match="not both"):
        resolve_identities(records, settings=res.settings, fuzzy=COLUMNS)


def test_missing_splink_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "splink", None)
    records = simulate_identities(50, random_state=0)
    with pytest.raises(ImportError, match=r"crmmodels\[identity\]"):
        resolve_identities(records, keys=["email", "phone"], fuzzy=COLUMNS)


def test_caller_frame_is_not_modified(plain: tuple[pd.DataFrame, IdentityResolution]
                                      ) -> None:
    records, _ = plain
    before = records.copy()
    resolve_identities(records, keys=["email", "phone"], fuzzy=PLAIN)
    pd.testing.assert_frame_equal(records, before)
