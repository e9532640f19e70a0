"""RFMModel: scores against a plain pandas computation, segments, ties, campaigns."""

from __future__ import annotations

import json
import math
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels import CRMData
from crmmodels.datasets import load_cdnow_sample, load_online_retail
from crmmodels.errors import DataValidationError, InvalidParameterError, NotFittedError
from crmmodels.rfm import (
    STANDARD_SEGMENTS,
    RFMModel,
    breakeven_response_rate,
    rfm_change,
    wilson_interval,
)
from crmmodels.testing import CHECKS, check_model


@pytest.fixture(scope="module")
def retail() -> CRMData:
    return load_online_retail()


def _cut(values: pd.Series, edges: np.ndarray) -> pd.Series:
    """Score = 1 + number of edges strictly below the value (a loop, independent)."""
    return values.map(lambda v: 1 + sum(1 for e in edges if v > e)).astype("int64")


@pytest.mark.parametrize("monetary", ["sum", "mean"])
def test_scores_match_plain_pandas_on_online_retail(retail: CRMData, monetary: str) -> None:
    model = RFMModel(monetary=monetary).fit(retail)
    scores = model.score(retail)
    tx = retail.transactions
    assert tx is not None
    end = retail.observation_end
    g = tx.groupby("customer_id")
    last = g["timestamp"].max()
    recency = (end.normalize() - last.dt.normalize()).dt.days
    frequency = g["transaction_id"].nunique()
    total = g["amount"].sum()
    money = total if monetary == "sum" else total / frequency
    assert len(scores) == retail.n_customers
    np.testing.assert_array_equal(scores["recency"], recency.loc[scores.index])
    np.testing.assert_array_equal(scores["frequency"], frequency.loc[scores.index])
    np.testing.assert_allclose(scores["monetary"], money.loc[scores.index], rtol=1e-9)
    # Edges are the quintiles of the values.
    q = [0.2, 0.4, 0.6, 0.8]
    np.testing.assert_allclose(model.edges_["recency"], np.quantile(recency, q))
    np.testing.assert_allclose(model.edges_["frequency"], np.quantile(frequency, q))
    np.testing.assert_allclose(model.edges_["monetary"], np.quantile(money, q))
    r = 6 - _cut(recency, model.edges_["recency"])
    f = _cut(frequency, model.edges_["frequency"])
    m = _cut(money, model.edges_["monetary"])
    idx = scores.index
    np.testing.assert_array_equal(scores["r_score"], r.loc[idx])
    np.testing.assert_array_equal(scores["f_score"], f.loc[idx])
    np.testing.assert_array_equal(scores["m_score"], m.loc[idx])
    cell = r.astype(str) + f.astype(str) + m.astype(str)
    assert (scores["rfm_cell"] == cell.loc[idx]).all()
    np.testing.assert_array_equal(scores["rfm_score"], (r + f + m).loc[idx])
    fm = ((f + m) / 2 + 0.5).map(math.floor)
    np.testing.assert_array_equal(scores["fm_score"], fm.loc[idx])
    # bin_counts_ explains every score.
    for col in ("r_score", "f_score", "m_score"):
        counts = scores[col].value_counts().reindex(range(1, 6), fill_value=0)
        np.testing.assert_array_equal(model.bin_counts_[col], counts)


def test_every_standard_cell_maps_to_its_segment() -> None:
    expected = {
        "55": "Champions", "54": "Champions", "45": "Champions",
        "53": "Loyal Customers", "44": "Loyal Customers", "35": "Loyal Customers",
        "34": "Loyal Customers",
        "52": "Potential Loyalists", "42": "Potential Loyalists",
        "33": "Potential Loyalists", "43": "Potential Loyalists",
        "51": "Recent Customers", "41": "Promising", "31": "Promising",
        "32": "Customers Needing Attention", "23": "Customers Needing Attention",
        "22": "Customers Needing Attention", "21": "About to Sleep",
        "25": "At Risk", "24": "At Risk", "13": "At Risk",
        "15": "Can't Lose Them", "14": "Can't Lose Them", "12": "Hibernating", "11": "Lost",
    }
    assert len(expected) == 25
    # Fixed edges make F = M = the value, so each (R, FM) cell is reachable directly.
    edges = [1.5, 2.5, 3.5, 4.5]
    rows = []
    for r in range(1, 6):
        for fm in range(1, 6):
            cid = f"c{r}{fm}"
            days_ago = 6 - r  # R score r <=> recency 6 - r days
            ts = pd.Timestamp("2024-01-10") - pd.Timedelta(days=days_ago)
            for j in range(fm):
                rows.append({"customer_id": cid, "timestamp": ts, "amount": 1.0,
                             "transaction_id": f"{cid}-{j}"})
    data = CRMData(pd.DataFrame(rows), observation_end="2024-01-10")
    model = RFMModel(method="fixed", fixed_edges={"recency": edges, "frequency": edges,
                                                  "monetary": edges}).fit(data)
    scores = model.score(data)
    for cell, segment in expected.items():
        row = scores.loc[f"c{cell}"]
        assert (row["r_score"], row["fm_score"]) == (int(cell[0]), int(cell[1]))
        assert row["segment"] == segment, cell
    assert {c: s for s, cells in STANDARD_SEGMENTS.items() for c in cells} == expected


def _frame(days: list[int], counts: list[int], amounts: list[float]) -> pd.DataFrame:
    rows = []
    for i, (d, n, a) in enumerate(zip(days, counts, amounts, strict=True)):
        for j in range(n):
            rows.append({"customer_id": f"c{i}",
                         "timestamp": pd.Timestamp("2024-06-30") - pd.Timedelta(days=d + j),
                         "amount": a / n, "transaction_id": f"t{i}-{j}"})
    return pd.DataFrame(rows)


@given(st.lists(st.tuples(st.integers(0, 100), st.integers(1, 6), st.floats(1.0, 1000.0)),
                min_size=2, max_size=25))
def test_scores_are_monotone(rows: list[tuple[int, int, float]]) -> None:
    days, counts, amounts = (list(x) for x in zip(*rows, strict=True))
    data = CRMData(_frame(days, counts, amounts), observation_end="2024-06-30")
    s = RFMModel().fit(data).score(data)
    for a in s.index:
        for b in s.index:
            sa, sb = s.loc[a], s.loc[b]
            if sa["recency"] < sb["recency"]:
                assert sa["r_score"] >= sb["r_score"]
            if sa["frequency"] > sb["frequency"]:
                assert sa["f_score"] >= sb["f_score"]
            if sa["monetary"] > sb["monetary"]:
                assert sa["m_score"] >= sb["m_score"]
            for v, sc in (("recency", "r_score"), ("frequency", "f_score"),
                          ("monetary", "m_score")):
                if sa[v] == sb[v]:
                    assert sa[sc] == sb[sc]


def test_ties_never_split_and_empty_bins_are_counted() -> None:
    # 70% bought once: the quintile edges of frequency are [1, 1, 1, 2].
    counts = [1] * 14 + [2] * 3 + [5] * 3
    data = CRMData(_frame(list(range(20)), counts, [10.0] * 20), observation_end="2024-06-30")
    model = RFMModel().fit(data)
    s = model.score(data)
    np.testing.assert_allclose(model.edges_["frequency"], [1, 1, 1, 2])
    assert s.loc[s["frequency"] == 1, "f_score"].nunique() == 1
    assert (s.loc[s["frequency"] == 1, "f_score"] == 1).all()
    assert model.bin_counts_["f_score"].tolist() == [14, 0, 0, 3, 3]
    # All monetary values are equal: one score for everyone.
    assert s["m_score"].nunique() == 1
    assert model.bin_counts_["m_score"].sum() == 20


def test_later_snapshot_uses_fitted_edges(retail: CRMData) -> None:
    tx = retail.transactions
    assert tx is not None
    early = CRMData(tx[tx["timestamp"] <= "2011-06-30"], observation_end="2011-06-30")
    model = RFMModel().fit(early)
    edges = {k: v.copy() for k, v in model.edges_.items()}
    later = model.score(retail)
    for k, v in edges.items():
        np.testing.assert_array_equal(model.edges_[k], v)
    expected_f = _cut(later["frequency"], edges["frequency"])
    np.testing.assert_array_equal(later["f_score"], expected_f)
    expected_r = 6 - _cut(later["recency"], edges["recency"])
    np.testing.assert_array_equal(later["r_score"], expected_r)
    # The later scores differ from a refit on the later data.
    refit = RFMModel().fit(retail).score(retail)
    assert not later["rfm_cell"].equals(refit["rfm_cell"])


@pytest.mark.parametrize(
    ("segment_map", "message"),
    [
        ({**STANDARD_SEGMENTS, "Lost": []}, "not assigned: 11"),
        ({**STANDARD_SEGMENTS, "Extra": ["55"]}, "assigned twice: 55"),
        ({"All": ["11"]}, "not assigned"),
    ],
)
def test_custom_map_with_missing_or_duplicated_cell_raises(
        segment_map: dict[str, list[str]], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        RFMModel(segment_map=segment_map).fit(load_cdnow_sample())


def test_custom_map_and_other_bins() -> None:
    data = load_cdnow_sample()
    cells = [f"{r}{fm}" for r in range(1, 4) for fm in range(1, 4)]
    smap = {"top": ["33"], "rest": [c for c in cells if c != "33"]}
    s = RFMModel(bins=3, segment_map=smap).fit(data).score(data)
    assert set(s["segment"]) <= {"top", "rest"}
    assert ((s["segment"] == "top") == ((s["r_score"] == 3) & (s["fm_score"] == 3))).all()
    with pytest.raises(InvalidParameterError, match="bins=5 only"):
        RFMModel(bins=3).fit(data)


def test_breakeven_and_campaign_cells() -> None:
    assert breakeven_response_rate(0.62, 35.00) == pytest.approx(0.0177142857)
    with pytest.raises(InvalidParameterError):
        breakeven_response_rate(0, 35.0)
    data = load_cdnow_sample()
    model = RFMModel().fit(data)
    cells = model.rfm_cells_
    ids = cells.index[:600]
    rng = np.random.default_rng(0)
    resp = pd.Series(rng.random(600) < 0.05, index=ids)
    table = model.campaign_cells(resp, 0.62, 35.0)
    assert table.index.name == "rfm_cell"
    # Hand computation per cell.
    z = 1.959963984540054
    by_cell = pd.DataFrame({"cell": cells.loc[ids].to_numpy(), "hit": resp.to_numpy()})
    for cell, grp in by_cell.groupby("cell"):
        n, x = len(grp), int(grp["hit"].sum())
        p = x / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        row = table.loc[cell]
        assert (row["contacts"], row["responses"]) == (n, x)
        assert row["ci_lower"] == pytest.approx(max(centre - half, 0.0))
        assert row["ci_upper"] == pytest.approx(centre + half)
        assert row["expected_profit_per_contact"] == pytest.approx(p * 35.0 - 0.62)
        # By default a cell is mailed when its interval's lower end clears break-even.
        assert bool(row["mail"]) == (max(centre - half, 0.0) > 0.62 / 35.0)
    # Known value: 5 of 100 -> Wilson (0.02154, 0.11175).
    lo, hi = wilson_interval(np.array([5]), np.array([100]))
    assert (lo[0], hi[0]) == (pytest.approx(0.021543, abs=1e-6),
                              pytest.approx(0.111750, abs=1e-6))


def _declining_customer() -> tuple[RFMModel, CRMData]:
    rows: list[dict[str, Any]] = []
    for i in range(10):
        # Steady customers buy every month of 2024.
        for month in range(1, 13):
            rows.append({"customer_id": f"s{i}", "timestamp": pd.Timestamp(2024, month, 5),
                         "amount": 20.0, "transaction_id": f"s{i}-{month}"})
    # "gone" bought every month until March, then stopped.
    for month in range(1, 4):
        rows.append({"customer_id": "gone", "timestamp": pd.Timestamp(2024, month, 5),
                     "amount": 20.0, "transaction_id": f"g-{month}"})
    data = CRMData(pd.DataFrame(rows), observation_end="2024-12-31")
    model = RFMModel(method="fixed", fixed_edges={
        "recency": [7, 30, 90, 180], "frequency": [1, 2, 4, 8],
        "monetary": [20, 40, 80, 160]}).fit(data)
    return model, data


def test_rfm_change_finds_a_declining_customer() -> None:
    model, data = _declining_customer()
    change = rfm_change(model, data, cutoffs=["2024-03-31", "2024-12-31"])
    assert change.index.tolist() == ["gone"]
    row = change.loc["gone"]
    assert row["r_score_1"] == 4
    assert row["r_score_2"] == 1
    assert row["r_change"] == -3
    assert rfm_change(model, data, cutoffs=["2024-03-31", "2024-12-31"], k=4).empty
    with pytest.raises(InvalidParameterError):
        rfm_change(model, data, cutoffs=["2024-12-31", "2024-03-31"])


@pytest.mark.parametrize("params", RFMModel._bad_params)
def test_bad_params_raise(params: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterError):
        RFMModel(**params).fit(load_cdnow_sample())


def test_score_before_fit_raises() -> None:
    with pytest.raises(NotFittedError):
        RFMModel().score(load_cdnow_sample())


def test_check_model_passes() -> None:
    assert check_model(RFMModel(), load_cdnow_sample()) == list(CHECKS)


def test_segment_map_with_score_ranges() -> None:
    from crmmodels.datasets import load_cdnow_sample

    data = load_cdnow_sample()
    ranges = {"best": {"r": (4, 5), "fm": (4, 5)}, "recent": {"r": (4, 5), "fm": (1, 3)},
              "rest": {"r": (1, 3)}}
    scores = RFMModel(segment_map=ranges).fit(data).score(data)
    r, fm = scores["r_score"], scores["fm_score"]
    expected = np.where((r >= 4) & (fm >= 4), "best", np.where(r >= 4, "recent", "rest"))
    assert (scores["segment"].to_numpy() == expected).all()
    overlapping = {**ranges, "also": {"r": (5, 5), "fm": (5, 5)}}
    with pytest.raises(InvalidParameterError, match="assigned twice"):
        RFMModel(segment_map=overlapping).fit(data)
    with pytest.raises(InvalidParameterError, match="ranges"):
        RFMModel(segment_map={"all": {"r": (0, 9)}}).fit(data)


def test_campaign_cells_rule_and_zero_one_responses() -> None:
    model = RFMModel().fit(load_cdnow_sample())
    ids = model.rfm_cells_.index[:1500]
    rng = np.random.default_rng(1)
    resp = pd.Series(rng.random(1500) < 0.04, index=ids)
    lower = model.campaign_cells(resp, 0.62, 35.0)
    point = model.campaign_cells(resp, 0.62, 35.0, rule="point")
    breakeven = 0.62 / 35.0
    assert (lower["mail"] == (lower["ci_lower"] > breakeven)).all()
    assert (point["mail"] == (point["response_rate"] > breakeven)).all()
    # Evidence mails fewer cells: every cell it mails the point rule mails too.
    assert not (lower["mail"] & ~point["mail"]).any()
    assert point["mail"].sum() > lower["mail"].sum()
    pd.testing.assert_frame_equal(model.campaign_cells(resp.astype(int), 0.62, 35.0), lower)
    for bad in (resp.astype(int) * 2, resp.astype(float).where(resp, np.nan),
                resp.map({True: "yes", False: "no"})):
        with pytest.raises(DataValidationError, match="bool or 0/1"):
            model.campaign_cells(bad, 0.62, 35.0)
    with pytest.raises(InvalidParameterError, match="rule must be one of"):
        model.campaign_cells(resp, 0.62, 35.0, rule="upper")


def test_campaign_cells_from_interactions() -> None:
    from crmmodels import CRMData
    from crmmodels.datasets import load_cdnow_sample

    data = load_cdnow_sample()
    model = RFMModel().fit(data)
    ids = model.rfm_cells_.index[:300]
    responded = set(ids[::10])
    sent = pd.DataFrame({"customer_id": ids, "channel": "mail", "kind": "campaign_sent",
                         "timestamp": "1998-07-15"})
    back = pd.DataFrame({"customer_id": sorted(responded), "channel": "mail",
                         "kind": "response", "timestamp": "1998-07-20"})
    campaign = CRMData(interactions=pd.concat([sent, back], ignore_index=True),
                       observation_end="1998-08-01")
    from_rows = model.campaign_cells(campaign, 0.62, 35.0)
    series = pd.Series([i in responded for i in ids], index=ids)
    pd.testing.assert_frame_equal(from_rows, model.campaign_cells(series, 0.62, 35.0))
    assert int(from_rows["responses"].sum()) == len(responded)


# ---------------------------------------------------------------------- deprecated names
def test_rfm_change_at_still_works_with_a_future_warning() -> None:
    model, data = _declining_customer()
    expected = rfm_change(model, data, cutoffs=["2024-03-31", "2024-12-31"])
    with pytest.warns(FutureWarning, match="at is deprecated.*use cutoffs") as record:
        change = rfm_change(model, data, at=["2024-03-31", "2024-12-31"])
    assert len(record) == 1
    assert record[0].filename == __file__
    pd.testing.assert_frame_equal(change, expected)
    # Positional calls (the third argument) keep working without a warning.
    pd.testing.assert_frame_equal(rfm_change(model, data, ["2024-03-31", "2024-12-31"]),
                                  expected)


def test_rfm_change_needs_exactly_one_of_cutoffs_and_at() -> None:
    model, data = _declining_customer()
    with pytest.raises(InvalidParameterError, match="pass only cutoffs"):
        rfm_change(model, data, cutoffs=["2024-03-31", "2024-12-31"],
                   at=["2024-03-31", "2024-12-31"])
    with pytest.raises(InvalidParameterError, match="cutoffs must be two dates"):
        rfm_change(model, data)
    with pytest.raises(InvalidParameterError, match="cutoffs"):
        rfm_change(model, data, cutoffs=["2024-03-31", "not a date"])


def test_freq_sets_the_recency_unit() -> None:
    data = load_cdnow_sample()
    days = RFMModel().fit(data).score(data)
    weeks = RFMModel(freq="W").fit(data).score(data)
    assert (weeks["recency"] <= days["recency"] // 7 + 1).all()
    assert (weeks["recency"] >= days["recency"] // 7).all()
    assert not weeks["recency"].equals(days["recency"])


def test_recency_unit_still_works_with_a_future_warning() -> None:
    data = load_cdnow_sample()
    expected = RFMModel(freq="W").fit(data)
    model = RFMModel(recency_unit="W")
    assert model.get_params()["recency_unit"] == "W"  # the constructor only stores
    assert model.get_params()["freq"] == "D"
    with pytest.warns(FutureWarning, match="recency_unit is deprecated.*use freq") as record:
        model.fit(data)
    assert len(record) == 1
    assert record[0].filename == __file__
    with pytest.warns(FutureWarning, match="use freq") as record:
        scores = model.score(data)
    assert record[0].filename == __file__
    pd.testing.assert_frame_equal(scores, expected.score(data))
    for key, edges in expected.edges_.items():
        np.testing.assert_array_equal(model.edges_[key], edges)
    with pytest.warns(FutureWarning, match="use freq") as record:
        rfm_change(model, data, cutoffs=["1997-06-30", "1998-06-30"])
    assert len(record) == 1
    assert record[0].filename == __file__


def test_recency_unit_and_freq_together_raise() -> None:
    with pytest.raises(InvalidParameterError, match="pass only freq"):
        RFMModel(recency_unit="W", freq="M").fit(load_cdnow_sample())
    with pytest.raises(InvalidParameterError, match="recency_unit must be None or one of"):
        RFMModel(recency_unit="year").fit(load_cdnow_sample())


def test_files_saved_before_the_rename_load_and_score_quietly(tmp_path: Path) -> None:
    data = load_cdnow_sample()
    model = RFMModel().fit(data)
    expected = model.score(data)
    model.save(tmp_path / "new.zip")
    # The same file as the earlier release wrote it: recency_unit="D", no freq.
    old = tmp_path / "old.zip"
    with zipfile.ZipFile(tmp_path / "new.zip") as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            raw = src.read(item.filename)
            if item.filename == "manifest.json":
                manifest = json.loads(raw)
                params = manifest["params"]["items"]
                params.pop("freq")
                params["recency_unit"] = "D"
                raw = json.dumps(manifest).encode()
            dst.writestr(item, raw)
    loaded = RFMModel.load(old)
    assert loaded.get_params()["recency_unit"] == "D"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pd.testing.assert_frame_equal(loaded.score(data), expected)
        weeks = loaded.set_params(freq="W").score(data)  # no conflict with the old "D"
    pd.testing.assert_series_equal(weeks["recency"],
                                   RFMModel(freq="W").fit(data).score(data)["recency"])
    # Refitting reads the parameters: the old name is reported, with how to drop it.
    with pytest.warns(FutureWarning, match=r"set_params\(recency_unit=None\)") as record:
        loaded.fit(data)
    assert record[0].filename == __file__
