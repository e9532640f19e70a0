"""Customer ids behind every aggregate: codes, distinct ids and their order, by brute force.

``CRMData`` factorises text ids by their UTF-8 bytes (packed into 64-bit words) and
falls back to pandas for anything else; both must give what plain Python gives: the
distinct ids sorted as Python sorts strings, each row's position among them, and the
same validation problems.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData
from crmmodels.data import _validation
from crmmodels.errors import DataValidationError

ALPHABETS = {
    "digits": list("0123456789"),
    "ascii": list("abcXYZ019_-."),
    "unicode": [*"abcé€ß", "😀", "\u00e9", "Ω"],
    "inner space": [*"ab c", "\t"],
}


def _ids(rng: np.random.Generator, alphabet: list[str], n_rows: int, n_ids: int,
         lengths: tuple[int, int]) -> list[str]:
    pool = {"".join(rng.choice(alphabet, rng.integers(*lengths))) for _ in range(n_ids)}
    pool = {p for p in pool if p and p.strip() == p}  # no blank or padded ids here
    ids = sorted(pool)
    return [ids[i] for i in rng.integers(0, len(ids), n_rows)]


def _frame(ids: list[object]) -> pd.DataFrame:
    n = len(ids)
    # Object dtype: text with lone surrogates cannot be stored as Arrow strings.
    return pd.DataFrame({"customer_id": pd.Series(ids, dtype=object),
                         "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(
                             np.arange(n) % 50, unit="D"),
                         "amount": np.arange(n) % 7 + 1.0})


def _check(data: CRMData, ids: list[str]) -> None:
    codes, uniques = data.customer_codes()
    expected = sorted(set(ids))  # Python's order: by code point
    assert uniques.tolist() == expected
    position = {v: i for i, v in enumerate(expected)}
    assert codes.tolist() == [position[v] for v in ids]
    assert data.transactions is not None
    assert data.transactions["customer_id"].tolist() == ids


@pytest.mark.parametrize("alphabet", list(ALPHABETS))
@pytest.mark.parametrize("lengths", [(1, 4), (8, 9), (3, 30), (60, 70)])
@pytest.mark.parametrize("dtype", ["str", object])
def test_text_ids_give_pythons_distinct_values_order_and_codes(
        alphabet: str, lengths: tuple[int, int], dtype: object) -> None:
    rng = np.random.default_rng(abs(hash((alphabet, lengths))) % 2**32)
    ids = _ids(rng, ALPHABETS[alphabet], 3000, 400, lengths)
    tx = _frame(list(ids))
    tx["customer_id"] = tx["customer_id"].astype(dtype)  # type: ignore[call-overload]
    _check(CRMData(transactions=tx), ids)


def test_fixed_length_ids_and_prefixes() -> None:
    # Every id 8 bytes (one word each), then ids that are prefixes of each other.
    ids = [f"C{i:07d}" for i in (5, 3, 5, 1_000_000 - 1, 0, 3)]
    _check(CRMData(transactions=_frame(list(ids))), ids)
    prefixes = ["ab", "a", "abc", "b", "a", "abcdefghi", "abcdefgh", "ab"]
    _check(CRMData(transactions=_frame(list(prefixes))), prefixes)


@pytest.mark.parametrize(("bad", "rule"), [
    (None, "not_null"), ("", "non_empty"), ("   ", "non_empty"), (float("nan"), "not_null"),
])
def test_missing_and_blank_ids_are_refused_or_dropped(bad: object, rule: str) -> None:
    ids: list[object] = ["a", "b", bad, "a"]
    with pytest.raises(DataValidationError) as info:
        CRMData(transactions=_frame(ids))
    assert info.value.rule == rule
    assert info.value.rows == [2]
    data = CRMData(transactions=_frame(ids), on_invalid="drop")
    assert data.report.count(rule=rule, action="dropped") == 1
    _check(data, ["a", "b", "a"])


def test_padded_and_mixed_ids_are_turned_into_text_once() -> None:
    data = CRMData(transactions=_frame([" a", "a", 7, "7", 7.0, "b "]))
    assert data.transactions is not None
    assert data.transactions["customer_id"].tolist() == ["a", "a", "7", "7", "7", "b"]
    codes, uniques = data.customer_codes()
    assert uniques.tolist() == ["7", "a", "b"]
    assert codes.tolist() == [1, 1, 0, 0, 0, 2]
    assert data.report.count(rule="as_text", action="coerced") == 6


def test_integer_ids_sort_as_text() -> None:
    ids = [10, 9, 100, 9, -1, 2**40]
    data = CRMData(transactions=_frame(list(ids)))
    codes, uniques = data.customer_codes()
    text = [str(i) for i in ids]
    assert uniques.tolist() == sorted(set(text))
    assert [uniques[c] for c in codes] == text


def test_nul_and_surrogate_ids_take_the_general_path() -> None:
    ids = ["a\x00b", "a", "a\x00b", "\ud800x"]
    assert _validation._pack_text(np.array(ids, dtype=object)) is None
    if getattr(pd.Series(["a"], dtype="str").dtype, "storage", "") == "pyarrow":
        # Arrow-backed text (pyarrow installed) cannot hold a lone surrogate: refused.
        with pytest.raises(DataValidationError, match="valid Unicode") as info:
            CRMData(transactions=_frame(list(ids)))
        assert info.value.n_rows == 1
        _check(CRMData(transactions=_frame(ids[:3])), ids[:3])
    else:
        _check(CRMData(transactions=_frame(list(ids))), ids)


def test_packed_words_order_like_python() -> None:
    rng = np.random.default_rng(3)
    values = sorted({"".join(rng.choice(ALPHABETS["unicode"], rng.integers(0, 12)))
                     for _ in range(2000)})
    shuffled = np.array(values, dtype=object)[rng.permutation(len(values))]
    packed = _validation._pack_text(shuffled)
    assert packed is not None
    order = _validation._order_packed(packed[0])
    assert shuffled[order].tolist() == values


def test_duplicate_rows_found_exactly_on_large_frames() -> None:
    # Above the size where candidate rows are found by hashing: the same rows as pandas.
    rng = np.random.default_rng(5)
    n = 120_000
    tx = pd.DataFrame({"customer_id": rng.integers(0, 3000, n).astype(str),
                       "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(
                           rng.integers(0, 40, n), unit="D"),
                       "amount": rng.integers(1, 30, n).astype(float),
                       "product_id": rng.choice(["x", "y"], n)})
    data = CRMData(transactions=tx)
    assert data.report.count(rule="duplicate_rows") == int(tx.duplicated().sum())
