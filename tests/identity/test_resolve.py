"""Identity resolution: planted duplicates, size limit, stable keys, apply, save, bad input."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData
from crmmodels.datasets import simulate_identities
from crmmodels.errors import (
    DataQualityWarning,
    DataValidationError,
    InvalidParameterError,
    MissingColumnError,
    ModelFormatError,
)
from crmmodels.identity import (
    IdentityResolution,
    normalize_email,
    normalize_phone,
    resolve_identities,
)
from tests.samples import pair_scores


def brute_force_pairs(truth: np.ndarray, found: np.ndarray) -> tuple[float, float]:
    """Score by looping over every pair (small inputs)."""
    tp = fp = fn = 0
    for i in range(len(truth)):
        for j in range(i + 1, len(truth)):
            same, linked = truth[i] == truth[j], found[i] == found[j]
            tp += same and linked
            fp += linked and not same
            fn += same and not linked
    return tp / (tp + fp), tp / (tp + fn)


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, IdentityResolution]:
    records = simulate_identities(3_000, shared_phone_records=200, random_state=1)
    with pytest.warns(DataQualityWarning, match="shared by too many records"):
        res = resolve_identities(records, keys=["email", "phone"])
    return records, res


def test_planted_duplicates_are_found_with_pair_precision_and_recall_of_098(
        planted: tuple[pd.DataFrame, IdentityResolution]) -> None:
    records, res = planted
    found = records["customer_id"].map(res.mapping).to_numpy()
    precision, recall = pair_scores(records["person"].to_numpy(), found)
    assert precision >= 0.98
    assert recall >= 0.98
    # The call centre's phone, shared by 200 people, linked none of them.
    assert res.report.split["records"].iloc[0] == 200
    callers = records["customer_id"].str.startswith("call-")
    assert records.loc[callers, "customer_id"].map(res.mapping).nunique() == 200


def test_pair_scores_equal_brute_force() -> None:
    rng = np.random.default_rng(3)
    truth, found = rng.integers(0, 6, 40), rng.integers(0, 5, 40)
    assert pair_scores(truth, found) == pytest.approx(brute_force_pairs(truth, found))


def test_every_key_format_of_the_planted_data_normalises_to_one_value() -> None:
    emails = pd.Series(["ann@gmail.com", "ANN@GMAIL.COM", "ann+t3@gmail.com", "  Ann@gmail.com ",
                        "a.nn@gmail.com", "a.nn@googlemail.com"])
    assert normalize_email(emails)[0].nunique() == 1
    # Dots count outside the providers that ignore them.
    assert normalize_email(pd.Series(["a.nn@x.org", "ann@x.org"]))[0].nunique() == 2
    kept = normalize_email(pd.Series(["a+b@x.org"]), strip_plus_tags=False)[0]
    assert kept.tolist() == ["a+b@x.org"]
    phones = pd.Series(["+1 (555) 123-4567", "555.123.4567", "5551234567", "1-555-123-4567",
                        "001 555 123 4567"])
    assert normalize_phone(phones)[0].tolist() == ["15551234567"] * 5
    uk = normalize_phone(pd.Series(["020 7946 0018", "+44 20 7946 0018"]),
                         default_country_code="44")[0]
    assert uk.nunique() == 1


def test_mapping_clusters_and_report_agree(
        planted: tuple[pd.DataFrame, IdentityResolution]) -> None:
    records, res = planted
    assert res.mapping.index.is_unique
    assert set(res.mapping.index) == set(records["customer_id"])
    assert res.clusters["size"].sum() == len(records)
    assert (res.clusters["n_source_ids"] == res.clusters["source_ids"].map(len)).all()
    # Recomputed from the mapping.
    sizes = res.mapping.value_counts()
    assert res.report.people == len(sizes) == len(res.clusters)
    assert res.report.records_linked == int(sizes[sizes > 1].sum())
    assert res.report.cluster_sizes.to_dict() == sizes.value_counts().sort_index().to_dict()
    assert res.report.keys.loc["email", "present"] == records["email"].notna().sum()
    assert res.clusters["size"].max() <= 50
    assert str(res.report).startswith(f"{len(records):,} records")


def test_row_order_does_not_change_the_keys(
        planted: tuple[pd.DataFrame, IdentityResolution]) -> None:
    records, res = planted
    shuffled = records.sample(frac=1.0, random_state=9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        again = resolve_identities(shuffled, keys=["email", "phone"])
    pd.testing.assert_series_equal(again.mapping, res.mapping)


def test_a_chain_above_the_size_limit_is_split_and_reported() -> None:
    # 12 records in a chain: record i shares a loyalty number with record i + 1.
    chain = pd.DataFrame({"customer_id": [f"r{i:02d}" for i in range(12)],
                          "card": [f"L{i // 2}" for i in range(1, 13)],
                          "code": [f"M{i // 2}" for i in range(12)]})
    with pytest.warns(DataQualityWarning, match="shared by too many"):
        res = resolve_identities(chain, keys={"card": "loyalty", "code": "text"},
                                 max_cluster_size=5)
    assert res.clusters["size"].max() <= 5
    assert len(res.report.split) >= 1
    unlimited = resolve_identities(chain, keys={"card": "loyalty", "code": "text"},
                                   max_cluster_size=None)
    assert unlimited.report.people == 1


def test_conflicting_emails_in_one_person_are_reported() -> None:
    frame = pd.DataFrame({"customer_id": ["a", "b"], "email": ["x@y.com", "z@y.com"],
                          "phone": ["555 123 4567", "5551234567"]})
    res = resolve_identities(frame)
    assert res.report.people == 1
    conflict = res.report.conflicts
    assert conflict[["key", "n_values"]].values.tolist() == [["email", 2]]
    assert sorted(conflict["values"].iloc[0]) == ["x@y.com", "z@y.com"]


def test_update_keeps_every_existing_key_and_reports_merges() -> None:
    first = pd.DataFrame({"customer_id": ["a", "b", "c"],
                          "email": ["ann@x.com", "bob@x.com", None],
                          "phone": [None, None, "555 000 1111"]})
    res = resolve_identities(first)
    later = res.update(pd.DataFrame({
        "customer_id": ["d", "e", "f"],
        # d: a new address of Ann; e: someone new; f: Bob's address and c's phone.
        "email": ["ANN@x.com", "eve@x.com", "bob@x.com"],
        "phone": [None, None, "+1 555-000-1111"]}))
    before = res.mapping
    after = later.mapping
    assert after["d"] == before["a"]
    assert after["e"] not in set(before)
    assert int(after["e"][1:]) == max(int(k[1:]) for k in before) + 1
    # f joins b and c: they merge under the smaller key, and the other is reported.
    kb, kc = before["b"], before["c"]
    assert after["b"] == after["c"] == after["f"] == min(kb, kc)
    assert later.report.merged_keys == {max(kb, kc): min(kb, kc)}
    # Every other earlier id keeps its key; the earlier resolution is unchanged.
    assert (after[before.index].drop(["b", "c"]) == before.drop(["b", "c"])).all()
    assert res.report.records == 3


def test_update_never_splits_an_earlier_person() -> None:
    # Two records linked by a phone; later, 3 more records share that phone, which then
    # exceeds the size limit: the earlier pair stays one person.
    first = pd.DataFrame({"customer_id": ["a", "b"], "phone": ["555 000 1111"] * 2})
    res = resolve_identities(first, max_cluster_size=3)
    with pytest.warns(DataQualityWarning):
        later = res.update(pd.DataFrame({"customer_id": ["c", "d", "e"],
                                         "phone": ["555 000 1111"] * 3}))
    assert later.mapping["a"] == later.mapping["b"] == res.mapping["a"]
    assert later.mapping[["c", "d", "e"]].nunique() == 3


def test_update_with_a_known_id_adds_its_keys_to_that_person() -> None:
    res = resolve_identities(pd.DataFrame({"customer_id": ["a", "b"],
                                           "email": ["x@y.com", "z@y.com"]}))
    # "a" seen again with a second e-mail; "c" shares only that new e-mail.
    later = res.update(pd.DataFrame({"customer_id": ["a", "c"],
                                     "email": ["w@y.com", "W@y.com"]}))
    assert later.mapping.to_dict() == {"a": "K0000001", "b": "K0000002", "c": "K0000001"}
    assert later.report.people == 2


def test_apply_remaps_every_frame_and_counts_in_the_report() -> None:
    res = resolve_identities(pd.DataFrame({"customer_id": ["a", "b", "c"],
                                           "email": ["x@y.com", "X@Y.com", "z@y.com"]}))
    tx = pd.DataFrame({"customer_id": ["a", "b", "c"], "amount": [5.0, 7.0, 1.0],
                       "timestamp": pd.to_datetime(["2024-01-02", "2024-02-03", "2024-02-04"])})
    customers = pd.DataFrame({"customer_id": ["b", "a", "c"], "region": ["N", "S", "E"]})
    data = CRMData(transactions=tx, customers=customers)
    tx_before = tx.copy()
    out = res.apply(data)
    pd.testing.assert_frame_equal(tx, tx_before)
    assert out.transactions["customer_id"].tolist() == ["K0000001", "K0000001", "K0000002"]
    assert out.transactions["source_customer_id"].tolist() == ["a", "b", "c"]
    assert out.n_customers == 2
    # The first customer row of each person is kept.
    assert out.customers.set_index("customer_id")["region"].to_dict() == {
        "K0000001": "N", "K0000002": "E"}
    assert out.report.count(frame="customers", rule="identity", action="merged") == 1
    assert out.report.count(frame="transactions", rule="identity", action="remapped") == 3
    unknown = CRMData(transactions=tx.assign(customer_id=["a", "b", "zz"]))
    with pytest.raises(DataValidationError, match="not in the resolution"):
        res.apply(unknown)
    with pytest.raises(TypeError, match="CRMData"):
        res.apply(tx)  # type: ignore[arg-type]


def test_save_load_and_settings_round_trip(
        planted: tuple[pd.DataFrame, IdentityResolution], tmp_path: Path) -> None:
    records, res = planted
    path = tmp_path / "ids.zip"
    res.save(path)
    back = IdentityResolution.load(path)
    pd.testing.assert_series_equal(back.mapping, res.mapping)
    pd.testing.assert_frame_equal(back.clusters, res.clusters)
    pd.testing.assert_frame_equal(back.report.keys, res.report.keys)
    pd.testing.assert_frame_equal(back.report.split, res.report.split)
    # The settings are plain JSON and give the same resolution again.
    settings = json.loads(json.dumps(res.settings))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        again = resolve_identities(records, settings=settings)
    pd.testing.assert_series_equal(again.mapping, res.mapping)
    (tmp_path / "other.zip").write_bytes(b"not a zip")
    with pytest.raises(ModelFormatError):
        IdentityResolution.load(tmp_path / "other.zip")


def test_rules_are_configurable() -> None:
    frame = pd.DataFrame({"customer_id": ["a", "b"], "email": ["ann+x@y.com", "ann@y.com"]})
    assert resolve_identities(frame).report.people == 1
    strict = resolve_identities(frame, keys={"email": {"kind": "email",
                                                      "strip_plus_tags": False}})
    assert strict.report.people == 2
    assert strict.settings["keys"]["email"]["strip_plus_tags"] is False


def test_bad_input_is_refused_with_a_reason() -> None:
    frame = pd.DataFrame({"customer_id": ["a", "b"], "email": ["x@y.com", None]})
    with pytest.raises(DataValidationError, match="no key column"):
        resolve_identities(frame[["customer_id"]])
    with pytest.raises(DataValidationError, match="no usable key value"):
        resolve_identities(frame.assign(email=["not-an-address", None]))
    with pytest.raises(MissingColumnError, match="Did you mean 'email'"):
        resolve_identities(frame, keys=["emial"])
    with pytest.raises(InvalidParameterError, match="not known from its name"):
        resolve_identities(frame.assign(crm_ref="1"), keys=["crm_ref"])
    with pytest.raises(InvalidParameterError, match="kind must be one of"):
        resolve_identities(frame, keys={"email": "mail"})
    with pytest.raises(DataValidationError, match="must not be missing"):
        resolve_identities(frame.assign(customer_id=["a", None]))
    with pytest.raises(MissingColumnError):
        resolve_identities(frame, id="account")
    with pytest.raises(InvalidParameterError, match="max_cluster_size"):
        resolve_identities(frame, max_cluster_size=0)
    with pytest.raises(InvalidParameterError, match="either settings"):
        resolve_identities(frame, keys=["email"], settings={"id": "customer_id",
                                                            "keys": {"email": "email"}})
    with pytest.raises(InvalidParameterError, match="fuzzy"):
        resolve_identities(frame, fuzzy={"name": "name"})
    with pytest.raises(TypeError, match="DataFrame"):
        resolve_identities(frame.to_dict())  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="string"):
        resolve_identities(frame, keys="email")


def test_integer_ids_and_the_caller_frame_unchanged() -> None:
    frame = pd.DataFrame({"customer_id": [10, 11], "email": ["x@y.com", "X@y.com"]})
    before = frame.copy()
    res = resolve_identities(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert res.mapping.index.tolist() == ["10", "11"]
    assert res.report.keys.loc["email", "unusable"] == 0


def test_values_held_by_one_record_are_never_cut() -> None:
    # Six records of one source id (a fixed link) with six different e-mails: above the
    # limit, but no e-mail links anything, so nothing is cut; the person is reported.
    frame = pd.DataFrame({"customer_id": ["a"] * 6,
                          "email": [f"x{i}@y.com" for i in range(6)]})
    res = resolve_identities(frame, max_cluster_size=5)
    assert len(res.report.split) == 0
    assert res.report.oversize == ["K0000001"]
    # Blank text is missing, not present.
    blanks = resolve_identities(pd.DataFrame({"customer_id": ["a", "b"],
                                              "email": ["x@y.com", "  "]}))
    assert blanks.report.keys.loc["email", "present"] == 1
