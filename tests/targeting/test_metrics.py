"""Uplift metrics against brute force, against scikit-uplift 0.5.1, and their input checks."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from crmmodels.errors import (
    DataQualityWarning,
    DataValidationError,
    InvalidParameterError,
    MissingColumnError,
)
from crmmodels.targeting import (
    make_uplift_scorer,
    perfect_qini_curve,
    perfect_uplift_curve,
    plot_qini_curve,
    plot_uplift_by_percentile,
    plot_uplift_curve,
    qini_auc,
    qini_curve,
    uplift_at_k,
    uplift_auc,
    uplift_by_percentile,
    uplift_curve,
)

matplotlib.use("Agg")

# scikit-uplift 0.5.1 calls scikit-learn's deprecated stable_cumsum (a FutureWarning).
SKLIFT_WARNING = "ignore:.*stable_cumsum.*:FutureWarning"
# ... and DataFrame.set_index(inplace=...), which pandas 3.1 deprecates.
SKLIFT_PANDAS_WARNING = "ignore:The inplace keyword in DataFrame.set_index:Warning"
RTOL = 1e-12


pytestmark = pytest.mark.usefixtures("close_figures")


def _random_case(n: int, seed: int, ties: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Outcomes, scores and treatment with a positive average effect."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, n)
    t[:2] = [0, 1]
    score = rng.normal(size=n)
    y = (rng.random(n) < 0.25 + 0.2 * t * (score > 0)).astype(np.int64)
    uplift = np.round(score, 0) / 4 if ties else score + rng.normal(scale=0.5, size=n)
    return y, uplift, t


SMALL = [_random_case(n, seed, ties) for n, seed, ties in
         [(6, 1, False), (9, 2, True), (12, 3, True), (25, 4, False), (25, 5, True),
          (40, 6, True)]]


# ---------------------------------------------------------------------- brute force
def _brute_curves(y: Any, u: Any, t: Any) -> tuple[list[int], list[float], list[float]]:
    """Qini and uplift curves, one point per distinct score, counted row by row."""
    n = len(y)
    xs, qini, upl = [0], [0.0], [0.0]
    for s in sorted(set(u.tolist()), reverse=True):
        top = [i for i in range(n) if u[i] >= s]
        n_t = sum(1 for i in top if t[i] == 1)
        n_c = len(top) - n_t
        r_t = sum(1 for i in top if t[i] == 1 and y[i] == 1)
        r_c = sum(1 for i in top if t[i] == 0 and y[i] == 1)
        xs.append(len(top))
        qini.append(r_t - (r_c * n_t / n_c if n_c else 0.0))
        upl.append(((r_t / n_t if n_t else 0.0) - (r_c / n_c if n_c else 0.0)) * len(top))
    return xs, qini, upl


def _brute_area(x: Any, y: Any) -> float:
    return sum((x[i + 1] - x[i]) * (y[i + 1] + y[i]) / 2 for i in range(len(x) - 1))


def _brute_normalised(model: Any, perfect: Any) -> float:
    random = _brute_area([0, perfect[0][-1]], [0, perfect[1][-1]])
    return (_brute_area(*model) - random) / (_brute_area(*perfect) - random)


def _ranking(u: Any) -> list[int]:
    """Descending score; among ties the later row first (the documented order)."""
    return sorted(range(len(u)), key=lambda i: (-u[i], -i))


def _rate(values: list[int]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _brute_uplift_at_k(y: Any, u: Any, t: Any, strategy: str, k: float) -> float:
    rank = _ranking(u)
    n = len(y)
    if strategy == "overall":
        top = rank[: (k if isinstance(k, int) else int(n * k))]
        return (_rate([y[i] for i in top if t[i] == 1])
                - _rate([y[i] for i in top if t[i] == 0]))
    out = []
    for flag in (1, 0):
        group = [i for i in rank if t[i] == flag]
        m = k if isinstance(k, int) else int(len(group) * k)
        out.append(_rate([y[i] for i in group[:m]]))
    return out[0] - out[1]


def _parts(items: list[int], bins: int) -> list[list[int]]:
    sizes = [len(items) // bins + (1 if i < len(items) % bins else 0) for i in range(bins)]
    bounds = np.cumsum([0, *sizes])
    return [items[bounds[i]:bounds[i + 1]] for i in range(bins)]


def _brute_by_percentile(y: Any, u: Any, t: Any, strategy: str, bins: int) -> pd.DataFrame:
    rank = _ranking(u)
    if strategy == "overall":
        parts = _parts(rank, bins)
        treated = [[i for i in p if t[i] == 1] for p in parts]
        control = [[i for i in p if t[i] == 0] for p in parts]
    else:
        treated = _parts([i for i in rank if t[i] == 1], bins)
        control = _parts([i for i in rank if t[i] == 0], bins)
    rows = []
    for tr, ct in zip(treated, control, strict=True):
        p_t, p_c = _rate([y[i] for i in tr]), _rate([y[i] for i in ct])
        rows.append({"n_treatment": len(tr), "n_control": len(ct),
                     "response_rate_treatment": p_t, "response_rate_control": p_c,
                     "uplift": p_t - p_c,
                     "std_treatment": (p_t * (1 - p_t) / len(tr)) ** 0.5 if tr else np.nan,
                     "std_control": (p_c * (1 - p_c) / len(ct)) ** 0.5 if ct else np.nan})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("case", range(len(SMALL)))
def test_curves_equal_counting_by_hand(case: int) -> None:
    y, u, t = SMALL[case]
    xs, qini, upl = _brute_curves(y, u, t)
    x, q = qini_curve(y, u, t)
    np.testing.assert_array_equal(x, xs)
    np.testing.assert_allclose(q, qini, rtol=RTOL, atol=1e-12)
    x, v = uplift_curve(y, u, t)
    np.testing.assert_array_equal(x, xs)
    np.testing.assert_allclose(v, upl, rtol=RTOL, atol=1e-12)
    assert x.dtype == np.int64
    if len(set(u.tolist())) < len(u):  # ties: one point per distinct score
        assert len(x) == len(set(u.tolist())) + 1 < len(u) + 1


@pytest.mark.parametrize("case", range(len(SMALL)))
def test_perfect_curves_and_areas_equal_brute_force(case: int) -> None:
    y, u, t = SMALL[case]
    # Perfect uplift ranking: treated responders and control non-responders first.
    first = y if ((y == 1) & (t == 0)).sum() > ((y == 0) & (t == 1)).sum() else t
    best_u = np.array([2 * (y[i] == t[i]) + first[i] for i in range(len(y))], dtype=float)
    xs, _, upl = _brute_curves(y, best_u, t)
    perfect_u = perfect_uplift_curve(y, t)
    np.testing.assert_array_equal(perfect_u[0], xs)
    np.testing.assert_allclose(perfect_u[1], upl, rtol=RTOL, atol=1e-12)
    # Perfect Qini ranking: treated responders first, control responders last.
    best_q = np.array([1.0 if (y[i], t[i]) == (1, 1) else -1.0 if (y[i], t[i]) == (1, 0)
                       else 0.0 for i in range(len(y))])
    xs_q, qini, _ = _brute_curves(y, best_q, t)
    perfect_q = perfect_qini_curve(y, t)
    np.testing.assert_array_equal(perfect_q[0], xs_q)
    np.testing.assert_allclose(perfect_q[1], qini, rtol=RTOL, atol=1e-12)
    gain = y[t == 1].sum() - (t == 1).sum() * y[t == 0].sum() / (t == 0).sum()
    if gain >= 0:
        no_negative = perfect_qini_curve(y, t, negative_effect=False)
        np.testing.assert_allclose(no_negative[0], [0, gain, len(y)], rtol=RTOL)
        np.testing.assert_allclose(no_negative[1], [0, gain, gain], rtol=RTOL)
    else:
        with pytest.raises(DataValidationError, match="use negative_effect=True"):
            perfect_qini_curve(y, t, negative_effect=False)

    model_x, model_q, model_u = _brute_curves(y, u, t)
    assert qini_auc(y, u, t) == pytest.approx(
        _brute_normalised((model_x, model_q), (xs_q, qini)), rel=1e-12)
    assert uplift_auc(y, u, t) == pytest.approx(
        _brute_normalised((model_x, model_u), (xs, upl)), rel=1e-12)
    raw = _brute_area(model_x, model_u) - _brute_area([0, len(y)], [0, model_u[-1]])
    assert uplift_auc(y, u, t, normalize=False) == pytest.approx(raw, rel=1e-12, abs=1e-12)
    if gain > 0:
        assert qini_auc(y, u, t, negative_effect=False) == pytest.approx(
            _brute_normalised((model_x, model_q), ([0, gain, len(y)], [0, gain, gain])),
            rel=1e-12)
    # Known truth: scoring with the perfect ranking gives 1.
    assert qini_auc(y, best_q, t) == pytest.approx(1.0, rel=1e-12)
    assert uplift_auc(y, best_u, t) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("case", range(len(SMALL)))
def test_uplift_at_k_and_by_percentile_equal_brute_force(case: int) -> None:
    y, u, t = SMALL[case]
    for strategy in ("overall", "by_group"):
        for k in (0.5, 0.8, 3, len(y) // 2):
            smallest = min((t == 1).sum(), (t == 0).sum())
            if strategy == "by_group" and isinstance(k, int) and k > smallest:
                with pytest.raises(InvalidParameterError, match=f"k={k} exceeds the"):
                    uplift_at_k(y, u, t, strategy=strategy, k=k)
                continue
            expected = _brute_uplift_at_k(y, u, t, strategy, k)
            if np.isnan(expected):
                with pytest.raises(DataValidationError, match="hold no"):
                    uplift_at_k(y, u, t, strategy=strategy, k=k)
            else:
                assert uplift_at_k(y, u, t, strategy=strategy, k=k) == pytest.approx(
                    expected, rel=1e-12, abs=1e-15)
        bins = 3
        expected_table = _brute_by_percentile(y, u, t, strategy, bins)
        has_empty = bool((expected_table[["n_treatment", "n_control"]] == 0).any(axis=None))
        if has_empty:
            with pytest.warns(DataQualityWarning, match="no treated or no control"):
                table = uplift_by_percentile(y, u, t, strategy=strategy, bins=bins, std=True)
        else:
            table = uplift_by_percentile(y, u, t, strategy=strategy, bins=bins, std=True)
        assert table.index.tolist() == ["0-33", "33-67", "67-100"]
        for column in expected_table.columns:
            np.testing.assert_allclose(table[column].to_numpy(dtype=float),
                                       expected_table[column].to_numpy(dtype=float),
                                       rtol=1e-12, atol=1e-15)


def test_ties_order_of_tied_rows() -> None:
    # Curves read only at the end of each run of ties: reordering rows changes nothing.
    y, u, t = SMALL[4]
    perm = np.random.default_rng(0).permutation(len(y))
    for curve in (qini_curve, uplift_curve):
        a, b = curve(y, u, t), curve(y[perm], u[perm], t[perm])
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_allclose(a[1], b[1], rtol=1e-12, atol=1e-12)
    # A cut inside a run of ties takes the later rows first.
    y2, t2, u2 = [1, 0, 0, 1], [1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5]
    assert uplift_at_k(y2, u2, t2, k=2) == pytest.approx(-1.0)  # rows 3 and 2
    assert uplift_at_k(y2[::-1], u2, t2[::-1], k=2) == pytest.approx(1.0)


def test_total_row_and_counts() -> None:
    y, u, t = _random_case(300, 11, ties=True)
    table = uplift_by_percentile(y, u, t, bins=4, std=True, total=True)
    total = table.loc["total"]
    assert table.index.name == "percentile"
    assert total["n_treatment"] == (t == 1).sum() == table["n_treatment"].iloc[:-1].sum()
    assert total["n_control"] == (t == 0).sum()
    p_t, p_c = y[t == 1].mean(), y[t == 0].mean()
    assert total["uplift"] == pytest.approx(p_t - p_c, rel=1e-12)
    assert total["std_treatment"] == pytest.approx(np.sqrt(p_t * (1 - p_t) / (t == 1).sum()))
    assert total["std_uplift"] == pytest.approx(
        np.sqrt(p_t * (1 - p_t) / (t == 1).sum() + p_c * (1 - p_c) / (t == 0).sum()))
    assert table["n_treatment"].dtype == np.int64
    assert list(table.columns) == ["n_treatment", "n_control", "response_rate_treatment",
                                   "response_rate_control", "uplift", "std_treatment",
                                   "std_control", "std_uplift"]


# ---------------------------------------------------------------------- scikit-uplift
def _compare_with_sklift(y: Any, u: Any, t: Any, *, bins: int = 10) -> None:
    sm = pytest.importorskip("sklift.metrics")
    for ours, theirs in ((qini_curve, sm.qini_curve), (uplift_curve, sm.uplift_curve)):
        a, b = ours(y, u, t), theirs(y, u, t)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_allclose(a[1], b[1], rtol=RTOL, atol=0)
    a, b = perfect_uplift_curve(y, t), sm.perfect_uplift_curve(y, t)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1], rtol=RTOL, atol=0)
    y_arr, t_arr = np.asarray(y), np.asarray(t)
    positive = y_arr[t_arr == 1].mean() > y_arr[t_arr == 0].mean()
    for negative_effect in (True, False) if positive else (True,):
        a, b = (perfect_qini_curve(y, t, negative_effect=negative_effect),
                sm.perfect_qini_curve(y, t, negative_effect))
        np.testing.assert_allclose(a[0], b[0], rtol=RTOL, atol=0)
        np.testing.assert_allclose(a[1], b[1], rtol=RTOL, atol=0)
        assert qini_auc(y, u, t, negative_effect=negative_effect) == pytest.approx(
            sm.qini_auc_score(y, u, t, negative_effect), rel=RTOL, abs=0)
    assert uplift_auc(y, u, t) == pytest.approx(sm.uplift_auc_score(y, u, t), rel=RTOL, abs=0)
    for strategy in ("overall", "by_group"):
        for k in (0.1, 0.3, 0.77, 50):
            assert uplift_at_k(y, u, t, strategy=strategy, k=k) == pytest.approx(
                sm.uplift_at_k(y, u, t, strategy=strategy, k=k), rel=RTOL, abs=0)
        for std, total in ((False, False), (True, True)):
            ours_t = uplift_by_percentile(y, u, t, strategy=strategy, bins=bins, std=std,
                                          total=total)
            try:
                theirs_t = sm.uplift_by_percentile(y, u, t, strategy=strategy, bins=bins,
                                                   std=std, total=total)
            except (AttributeError, ValueError):
                if not total or int(pd.__version__.partition(".")[0]) >= 3:
                    raise
                # scikit-uplift 0.5.1 cannot append its total row under pandas 2 (it sets
                # a list into .loc): compare the parts; test_total_row_and_counts checks
                # the total row.
                theirs_t = sm.uplift_by_percentile(y, u, t, strategy=strategy, bins=bins,
                                                   std=std, total=False)
                ours_t, total = ours_t.iloc[:-1], False
            assert ours_t.index.tolist() == theirs_t.index.tolist()
            assert list(ours_t.columns) == list(theirs_t.columns)
            # scikit-uplift's total row holds the sum of the parts' standard deviations;
            # ours the standard deviation over all rows (test_total_row_and_counts).
            for column in ours_t.columns:
                rows = slice(None, -1) if total and column.startswith("std") else slice(None)
                np.testing.assert_allclose(ours_t[column].to_numpy(dtype=float)[rows],
                                           theirs_t[column].to_numpy(dtype=float)[rows],
                                           rtol=RTOL, atol=0, err_msg=column)


@pytest.mark.reference
@pytest.mark.filterwarnings(SKLIFT_WARNING)
@pytest.mark.filterwarnings(SKLIFT_PANDAS_WARNING)
@pytest.mark.parametrize(("n", "seed", "ties"), [(500, 21, False), (500, 22, True),
                                                  (2000, 23, True), (1999, 24, False)])
def test_equals_scikit_uplift_on_random_inputs(n: int, seed: int, ties: bool) -> None:
    y, u, t = _random_case(n, seed, ties)
    _compare_with_sklift(y, u, t)
    _compare_with_sklift(y.astype(bool), u, t.astype(bool), bins=7)


@pytest.fixture(scope="module")
def hillstrom() -> pd.DataFrame:
    path = Path(os.environ.get("CRMMODELS_DATA_DIR", "")) / "hillstrom" / "hillstrom.csv.gz"
    if not path.is_file():
        pytest.skip(f"the Hillstrom data are needed at {path}")
    frame = pd.read_csv(path)
    frame = frame[frame["treatment"].isin(["Womens E-Mail", "No E-Mail"])]
    return frame.assign(**pd.get_dummies(frame["channel"], prefix="ch", dtype=float))


def _t_learner_uplift(frame: pd.DataFrame, features: list[str]) -> np.ndarray:
    treated = (frame["treatment"] != "No E-Mail").to_numpy()
    probs = []
    for rows in (treated, ~treated):
        model = make_pipeline(StandardScaler(), LogisticRegression())
        model.fit(frame.loc[rows, features], frame.loc[rows, "visit"])
        probs.append(model.predict_proba(frame[features])[:, 1])
    return np.asarray(probs[0] - probs[1])


@pytest.mark.reference
@pytest.mark.filterwarnings(SKLIFT_WARNING)
@pytest.mark.filterwarnings(SKLIFT_PANDAS_WARNING)
@pytest.mark.parametrize("features", [
    ["recency", "history", "mens", "womens", "newbie", "ch_Phone", "ch_Web"],
    ["mens", "womens", "newbie", "ch_Phone", "ch_Web"],  # 24 score values: many ties
])
def test_equals_scikit_uplift_on_hillstrom(hillstrom: pd.DataFrame, features: list[str]) -> None:
    y = hillstrom["visit"]
    t = (hillstrom["treatment"] == "Womens E-Mail").astype(int)
    u = _t_learner_uplift(hillstrom, features)
    assert len(y) == 21_387 + 21_306  # PROVENANCE: Womens E-Mail and No E-Mail rows
    _compare_with_sklift(y, u, t)
    # Published per-arm visit rates (PROVENANCE): Womens 0.1514, No E-Mail 0.1062.
    total = uplift_by_percentile(y, u, t, total=True).loc["total"]
    assert total["response_rate_treatment"] == pytest.approx(0.1514, abs=5e-5)
    assert total["response_rate_control"] == pytest.approx(0.1062, abs=5e-5)


# ---------------------------------------------------------------------- input checks
Y, U, T = [1, 0, 1, 0], [0.4, 0.3, 0.2, 0.1], [1, 1, 0, 0]


@pytest.mark.parametrize(("y", "u", "t", "rule", "match"), [
    ([1, 0, 1], U, T, "length", "equal lengths"),
    ([], [], [], "non_empty", "empty"),
    ([1, 0, 2, 0], U, T, "binary", r"y_true must hold only 0/1.*\[2\]"),
    ([1.0, np.nan, 1.0, 0.0], U, T, "not_missing", "y_true holds 1 missing"),
    (Y, U, ["a", "a", "b", "b"], "binary", "treatment must hold only 0/1"),
    (Y, U, [1, 1, 1, 1], "both_groups", "only treated rows"),
    (Y, U, [False] * 4, "both_groups", "only control rows"),
    (Y, [0.4, np.inf, 0.2, np.nan], T, "finite", "uplift holds 2 missing or infinite"),
    (Y, ["a", "b", "c", "d"], T, "numeric", "uplift must hold numbers"),
    (np.ones((4, 1)), U, T, "shape", "y_true must be 1-d"),
    (Y, pd.DataFrame({"u": U}), T, "shape", "uplift must be one column"),
    (None, U, T, "type", "y_true must be an array"),
])
def test_input_errors(y: Any, u: Any, t: Any, rule: str, match: str) -> None:
    for function in (qini_curve, uplift_curve, qini_auc, uplift_auc, uplift_at_k,
                     uplift_by_percentile):
        with pytest.raises(DataValidationError, match=match) as info:
            function(y, u, t)
        assert info.value.rule == rule
        assert isinstance(info.value, ValueError)


def test_error_names_offending_rows_by_series_label() -> None:
    u = pd.Series([0.4, np.nan, 0.2, 0.1], index=["a", "b", "c", "d"])
    with pytest.raises(DataValidationError, match=r"Offending rows: \['b'\]"):
        qini_curve(Y, u, T)
    with pytest.raises(DataValidationError, match=r"Offending rows: \[2\]"):
        perfect_qini_curve([1, 0, 5, 0], T)


def test_accepts_series_bools_and_nullable_dtypes() -> None:
    expected = qini_curve(Y, U, T)
    index = pd.Index([10, 11, 12, 13])
    variants = [
        (pd.Series(Y, index=index), pd.Series(U, index=index[::-1]), pd.Series(T)),
        (np.array(Y, dtype=bool), np.array(U), np.array(T, dtype=bool)),
        (pd.Series(Y, dtype="Int64"), pd.Series(U, dtype="Float64"), pd.Series(T, dtype="boolean")),
        (np.array(Y, dtype=float), np.array(U, dtype=np.float32), np.array(T, dtype=object)),
    ]
    for y, u, t in variants:  # matched by position, whatever the indexes
        got = qini_curve(y, u, t)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
    frame = pd.DataFrame({"y": Y, "u": U, "t": T})
    before = frame.copy()
    uplift_by_percentile(frame["y"], frame["u"], frame["t"], bins=1, std=True, total=True)
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: uplift_at_k(Y, U, T, strategy="top"), "strategy must be one of"),
    (lambda: uplift_at_k(Y, U, T, k=0), "k must be"),
    (lambda: uplift_at_k(Y, U, T, k=1.0), "k must be"),
    (lambda: uplift_at_k(Y, U, T, k=True), "k must be"),
    (lambda: uplift_at_k(Y, U, T, k=5), "exceeds the 4 rows"),
    (lambda: uplift_at_k(Y, U, T, strategy="by_group", k=3), "exceeds the 2 treated"),
    (lambda: uplift_by_percentile(Y, U, T, bins=0), "bins must be"),
    (lambda: uplift_by_percentile(Y, U, T, bins=5), "bins=5 exceeds the 4 rows"),
    (lambda: uplift_by_percentile(Y, U, T, std="yes"), "std must be True or False"),
    (lambda: uplift_by_percentile(Y, U, T, total=1), "total must be True or False"),
    (lambda: uplift_auc(Y, U, T, normalize=1), "normalize must be True or False"),
    (lambda: qini_auc(Y, U, T, negative_effect=None), "negative_effect must be"),
    (lambda: perfect_qini_curve(Y, T, negative_effect="no"), "negative_effect must be"),
])
def test_parameter_errors(call: Any, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        call()


def test_undefined_values_raise() -> None:
    # Top 1 row holds no control row.
    with pytest.raises(DataValidationError, match="no control row") as info:
        uplift_at_k(Y, U, T, k=1)
    assert info.value.rule == "empty_group"
    # int(0.1 * 4) = 0 rows of each group.
    with pytest.raises(DataValidationError, match="no treated row"):
        uplift_at_k(Y, U, T, strategy="by_group", k=0.1)
    # Nobody responded: the perfect curve is the random one.
    for area in (qini_auc, uplift_auc):
        with pytest.raises(DataValidationError, match="normalised area is undefined") as info:
            area([0, 0, 0, 0], U, T)
        assert info.value.rule == "degenerate"
    # The treated responded less: no perfect Qini curve without negative effects.
    with pytest.raises(DataValidationError, match="use negative_effect=True"):
        qini_auc([0, 0, 1, 1], U, T, negative_effect=False)
    assert qini_auc([0, 0, 1, 1], U, T) == pytest.approx(
        _brute_normalised(_brute_curves([0, 0, 1, 1], np.array(U), T)[:2],
                          _brute_curves([0, 0, 1, 1], np.array([0.0, 0.0, -1.0, -1.0]),
                                        T)[:2]))


def test_empty_percentile_is_nan_with_a_warning() -> None:
    y, u, t = [1, 0, 1, 0, 1, 0], [0.9, 0.8, 0.7, 0.3, 0.2, 0.1], [1, 1, 1, 0, 0, 0]
    with pytest.warns(DataQualityWarning, match=r"2 of 2 parts hold no treated or no control"):
        table = uplift_by_percentile(y, u, t, bins=2, std=True)
    assert table["n_control"].tolist() == [0, 3]
    assert table["response_rate_treatment"].tolist()[0] == pytest.approx(2 / 3)
    assert np.isnan(table["uplift"]).all()


# ---------------------------------------------------------------------- scorer
class TLearner(BaseEstimator):  # type: ignore[misc]
    """A stand-in uplift model: one logistic regression per group."""

    def __init__(self, *, C: float = 1.0, treatment: str = "group",  # noqa: N803
                 outcome: str = "bought", control: Any = "none",
                 features: tuple[str, ...] = ("x1", "x2")) -> None:
        self.C = C
        self.treatment = treatment
        self.outcome = outcome
        self.control = control
        self.features = features

    def _treated(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        control = 0 if self.control is None else self.control
        return np.asarray(X[self.treatment] != control)

    def fit(self, X: pd.DataFrame, y: Any = None) -> TLearner:  # noqa: N803
        treated = self._treated(X)
        features = list(self.features)
        self.models_ = [LogisticRegression(C=self.C).fit(X.loc[rows, features],
                                                         X.loc[rows, self.outcome])
                        for rows in (treated, ~treated)]
        return self

    def score(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        features = list(self.features)
        p_t, p_c = (m.predict_proba(X[features])[:, 1] for m in self.models_)
        return pd.DataFrame({"uplift": p_t - p_c}, index=pd.Index(X.index, name="customer_id"))


@pytest.fixture(scope="module")
def campaign() -> pd.DataFrame:
    """Simulate a test mailing: the mail works for customers with high x1 only."""
    rng = np.random.default_rng(7)
    n = 3000
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    mailed = rng.random(n) < 0.5
    logit = -1.0 + 0.3 * x2 + mailed * 1.2 * (x1 > 0.5)
    bought = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "group": np.where(mailed, "mail", "none"),
                         "bought": bought}, index=pd.RangeIndex(100, 100 + n))


def test_scorer_reads_model_columns(campaign: pd.DataFrame) -> None:
    model = TLearner().fit(campaign)
    uplift = model.score(campaign)["uplift"].to_numpy()
    treated = (campaign["group"] == "mail").to_numpy()
    assert make_uplift_scorer()(model, campaign) == qini_auc(campaign["bought"], uplift, treated)
    scorer = make_uplift_scorer("uplift_at_k", strategy="by_group", k=0.2)
    assert scorer(model, campaign, campaign["bought"]) == uplift_at_k(
        campaign["bought"], uplift, treated, strategy="by_group", k=0.2)
    assert make_uplift_scorer("uplift_auc", normalize=False)(model, campaign) == uplift_auc(
        campaign["bought"], uplift, treated, normalize=False)
    assert repr(scorer) == "make_uplift_scorer('uplift_at_k', strategy='by_group', k=0.2)"
    assert pickle.loads(pickle.dumps(scorer))(model, campaign) == scorer(model, campaign)
    # control=None: a 0/1 column, 0 = control.
    coded = campaign.assign(group=treated.astype(int))
    coded_model = TLearner(control=None).fit(coded)
    assert make_uplift_scorer()(coded_model, coded) == pytest.approx(
        make_uplift_scorer()(model, campaign), rel=1e-12)
    # The model with x1, which drives the effect, ranks better than one without it.
    blind = TLearner(features=("x2",)).fit(campaign)
    assert make_uplift_scorer()(model, campaign) > make_uplift_scorer()(blind, campaign)


def test_scorer_in_grid_search_equals_scores_by_hand(campaign: pd.DataFrame) -> None:
    cv = KFold(3, shuffle=True, random_state=0)
    grid = {"C": [0.001, 1.0], "features": [("x1", "x2"), ("x2",)]}
    search = GridSearchCV(TLearner(), grid, scoring=make_uplift_scorer(), cv=cv)
    search.fit(campaign)
    results = search.cv_results_
    for j, params in enumerate(results["params"]):
        for i, (train, test) in enumerate(cv.split(campaign)):
            model = clone(TLearner()).set_params(**params).fit(campaign.iloc[train])
            part = campaign.iloc[test]
            expected = qini_auc(part["bought"].to_numpy(),
                                model.score(part)["uplift"].to_numpy(),
                                (part["group"] != "none").to_numpy())
            assert results[f"split{i}_test_score"][j] == pytest.approx(expected, rel=1e-12)
    best = int(np.argmax(results["mean_test_score"]))
    assert search.best_params_ == results["params"][best]
    assert search.best_params_["features"] == ("x1", "x2")  # x1 drives the effect


class _NoColumns(BaseEstimator):  # type: ignore[misc]
    def score(self, X: Any) -> pd.DataFrame:  # noqa: N803
        return pd.DataFrame({"uplift": np.zeros(len(X))})


class _ShortScore(TLearner):
    def score(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        return super().score(X).iloc[:-1]


def test_scorer_errors(campaign: pd.DataFrame) -> None:
    model = TLearner().fit(campaign)
    scorer = make_uplift_scorer()
    with pytest.raises(InvalidParameterError, match="has no treatment, outcome, control"):
        scorer(_NoColumns(), campaign)
    with pytest.raises(DataValidationError, match="X must be a DataFrame"):
        scorer(model, campaign.to_numpy())
    with pytest.raises(MissingColumnError, match="Did you mean 'Bought'"):
        scorer(model, campaign.rename(columns={"bought": "Bought"}))
    three = campaign.assign(group=np.resize(["mail", "sms", "none"], len(campaign)))
    with pytest.raises(DataValidationError, match="holds 3 values") as info:
        scorer(model, three)
    assert info.value.rule == "two_groups"
    with pytest.raises(DataValidationError, match="holds 1 missing"):
        scorer(model, campaign.assign(group=campaign["group"].where(campaign.index != 105)))
    with pytest.raises(DataValidationError, match="only treated rows"):
        scorer(TLearner().fit(campaign).set_params(control="nobody"), campaign)
    with pytest.raises(DataValidationError, match="y differs"):
        scorer(model, campaign, 1 - campaign["bought"])
    with pytest.raises(DataValidationError, match="2999 rows for 3000 input rows"):
        scorer(_ShortScore().fit(campaign), campaign)
    with pytest.raises(InvalidParameterError, match="metric must be one of"):
        make_uplift_scorer("qini_auc_score")
    with pytest.raises(InvalidParameterError, match=r"takes the options \['normalize'\]"):
        make_uplift_scorer("uplift_auc", k=0.3)
    with pytest.raises(InvalidParameterError, match="k must be"):
        make_uplift_scorer("uplift_at_k", k=2.5)


# ---------------------------------------------------------------------- figures
def _xy(line: Any) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float)


@pytest.mark.parametrize("negative_effect", [True, False])
def test_plot_qini_curve_draws_the_curves(negative_effect: bool) -> None:
    y, u, t = SMALL[5]
    ax = plot_qini_curve(y, u, t, negative_effect=negative_effect)
    assert [line.get_label() for line in ax.lines] == ["model", "random", "perfect"]
    model, perfect = qini_curve(y, u, t), perfect_qini_curve(y, t,
                                                             negative_effect=negative_effect)
    for line, (x, v) in zip(ax.lines[::2], (model, perfect), strict=True):
        np.testing.assert_array_equal(_xy(line)[0], x)
        np.testing.assert_array_equal(_xy(line)[1], v)
    np.testing.assert_array_equal(_xy(ax.lines[1])[0], [0, len(y)])
    np.testing.assert_array_equal(_xy(ax.lines[1])[1], [0, perfect[1][-1]])
    area = qini_auc(y, u, t, negative_effect=negative_effect)
    assert ax.get_title() == f"Qini curve (normalised area {area:.3f})"
    assert ax.get_xlabel()
    assert ax.get_ylabel()


def test_plot_uplift_curve_draws_the_curves() -> None:
    y, u, t = SMALL[3]
    _, given = plt.subplots()
    ax = plot_uplift_curve(y, u, t, ax=given)
    assert ax is given
    assert len(ax.lines) == 3
    for line, (x, v) in zip(ax.lines[::2], (uplift_curve(y, u, t), perfect_uplift_curve(y, t)),
                            strict=True):
        np.testing.assert_array_equal(_xy(line)[0], x)
        np.testing.assert_array_equal(_xy(line)[1], v)
    assert ax.get_title() == f"Uplift curve (normalised area {uplift_auc(y, u, t):.3f})"
    # Nobody responded: the curves are drawn and the title says the area is undefined.
    ax = plot_uplift_curve(np.zeros(len(y), dtype=int), u, t)
    assert "undefined" in ax.get_title()
    with pytest.raises(DataValidationError, match="only treated rows"):
        plot_uplift_curve(y, u, np.ones(len(y), dtype=int))


@pytest.mark.parametrize("strategy", ["overall", "by_group"])
def test_plot_uplift_by_percentile_draws_the_table(strategy: str) -> None:
    y, u, t = _random_case(400, 3, ties=True)
    ax = plot_uplift_by_percentile(y, u, t, strategy=strategy, bins=5)
    table = uplift_by_percentile(y, u, t, strategy=strategy, bins=5)
    assert len(ax.containers) == 3
    columns = ["response_rate_treatment", "response_rate_control", "uplift"]
    for bars, column in zip(ax.containers, columns, strict=True):
        heights = [bar.get_height() for bar in bars]
        np.testing.assert_array_equal(heights, table[column].to_numpy())
    assert [c.get_label() for c in ax.containers] == ["treatment response rate",
                                                      "control response rate", "uplift"]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == table.index.tolist()
    with pytest.raises(InvalidParameterError, match="bins must be"):
        plot_uplift_by_percentile(y, u, t, bins=0)


def test_import_does_not_import_matplotlib() -> None:
    code = ("import sys, crmmodels.targeting; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr[-1000:]
