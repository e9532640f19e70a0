"""Rolling-origin backtest and TemporalSearchCV: against hand computations on real data."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score

from crmmodels.cltv import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    CLVModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    NaiveRateModel,
    ParetoNBDModel,
)
from crmmodels.data import CRMData
from crmmodels.datasets import load_cdnow, load_cdnow_sample, load_online_retail
from crmmodels.errors import DataValidationError, InvalidParameterError, NotFittedError
from crmmodels.model_selection import METRICS, TemporalSearchCV, backtest
from crmmodels.propensity import ChurnModel, churn_labels
from crmmodels.segments import RFMModel

CUT1 = pd.Timestamp("1997-09-30")
CUT2 = pd.Timestamp("1997-12-15")
MONDAY = pd.Timestamp("1970-01-05")


# ----------------------------------------------------------------- helpers
def _tx(data: CRMData) -> pd.DataFrame:
    assert data.transactions is not None
    return data.transactions


def _week(ts: pd.Series | pd.Timestamp) -> Any:
    """Week number, weeks starting on Monday (computed here, not by the library)."""
    if isinstance(ts, pd.Timestamp):
        return (ts.normalize() - MONDAY).days // 7
    return (ts.dt.normalize() - MONDAY).dt.days // 7


def _hand_summary(data: CRMData, cut: pd.Timestamp, lo: pd.Timestamp | None = None
                  ) -> pd.DataFrame:
    """Weekly frequency / recency / T from the transactions up to ``cut``, by brute force."""
    tx = _tx(data)
    keep = tx["timestamp"] <= cut
    if lo is not None:
        keep &= tx["timestamp"] >= lo
    weeks = pd.DataFrame({"customer_id": tx.loc[keep, "customer_id"].astype(str),
                          "week": _week(tx.loc[keep, "timestamp"])}).drop_duplicates()
    g = weeks.groupby("customer_id")["week"]
    first, last, n = g.min(), g.max(), g.nunique()
    out = pd.DataFrame({"frequency": (n - 1).astype(float),
                        "recency": (last - first).astype(float),
                        "T": (_week(cut) - first).astype(float)})
    out.index.name = "customer_id"
    return out.sort_index()


def _hand_holdout(data: CRMData, begin: pd.Timestamp, end: pd.Timestamp,
                  index: pd.Index) -> np.ndarray:
    """Distinct purchase weeks per customer in ``(begin, end]``, by brute force."""
    tx = _tx(data)
    inside = (tx["timestamp"] > begin) & (tx["timestamp"] <= end)
    weeks = pd.DataFrame({"customer_id": tx.loc[inside, "customer_id"].astype(str),
                          "week": _week(tx.loc[inside, "timestamp"])}).drop_duplicates()
    counts = weeks.groupby("customer_id").size()
    return counts.reindex(index, fill_value=0).to_numpy(dtype=float)


def _naive_by_hand(s: pd.DataFrame, t: float) -> np.ndarray:
    """NaiveRateModel's method of moments and posterior mean, spelled out."""
    x, big_t = s["frequency"].to_numpy(), s["T"].to_numpy()
    m = x.sum() / big_t.sum()
    v = max((np.sum((x - m * big_t) ** 2) - np.sum(m * big_t)) / np.sum(big_t**2),
            m**2 * 1e-9)
    r, alpha = m**2 / v, m / v
    return np.asarray((r + x) / (alpha + big_t) * t, dtype=float)


def _errors(pred: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    e = pred - actual
    return {"mae": float(np.mean(np.abs(e))), "rmse": float(np.sqrt(np.mean(e**2))),
            "bias": float(np.mean(e))}


def _value(result: pd.DataFrame, cut: pd.Timestamp, metric: str) -> float:
    row = result[(result["cutoff"] == cut) & (result["metric"] == metric)]
    assert len(row) == 1, (cut, metric)
    return float(row["value"].iloc[0])


def _truncate(data: CRMData, cut: pd.Timestamp, lo: pd.Timestamp | None = None) -> CRMData:
    tx = _tx(data)
    keep = tx["timestamp"] <= cut
    if lo is not None:
        keep &= tx["timestamp"] >= lo
    return CRMData(transactions=tx.loc[keep], customers=data.customers, observation_end=cut)


def _snapshot(data: CRMData) -> dict[str, Any]:
    return {"transactions": None if data.transactions is None else data.transactions.copy(),
            "customers": None if data.customers is None else data.customers.copy(),
            "observation_end": data.observation_end}


def _assert_unchanged(data: CRMData, before: dict[str, Any]) -> None:
    for name in ("transactions", "customers"):
        if before[name] is None:
            assert getattr(data, name) is None
        else:
            pd.testing.assert_frame_equal(getattr(data, name), before[name])
    assert data.observation_end == before["observation_end"]


def _fitted_state(model: Any) -> list[str]:
    return [k for k in vars(model) if k.endswith("_") and not k.startswith("__")]


class SpyRateModel(NaiveRateModel):
    """NaiveRateModel that records what its fit saw."""

    def _fit(self, data: Any) -> None:
        super()._fit(data)
        self.seen_last_timestamp_ = _tx(data)["timestamp"].max()
        self.seen_first_timestamp_ = _tx(data)["timestamp"].min()
        self.seen_observation_end_ = data.observation_end
        self.seen_customers_ = None if data.customers is None else len(data.customers)
        self.seen_last_interaction_ = (None if data.interactions is None
                                       else data.interactions["timestamp"].max())


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def cdnow() -> CRMData:
    return load_cdnow()


@pytest.fixture(scope="module")
def sample() -> CRMData:
    return load_cdnow_sample()


@pytest.fixture(scope="module")
def bg_run(cdnow: CRMData) -> tuple[pd.DataFrame, list[Any]]:
    out = backtest(BetaGeoModel(freq="W"), cdnow, cutoffs=[CUT2, CUT1], horizon="26W",
                   return_models=True)
    assert isinstance(out, tuple)
    return out


@pytest.fixture(scope="module")
def retail() -> CRMData:
    """Every third customer of Online Retail (about 1,450 customers, 125k rows)."""
    full = load_online_retail()
    keep = np.sort(full.customer_ids.to_numpy(dtype=str))[::3]
    tx = _tx(full)
    assert full.customers is not None
    return CRMData(transactions=tx[tx["customer_id"].isin(keep)],
                   customers=full.customers[full.customers["customer_id"].isin(keep)],
                   observation_end=full.observation_end)


@pytest.fixture(scope="module")
def churn_run(retail: CRMData) -> tuple[pd.DataFrame, list[Any]]:
    out = backtest(ChurnModel(random_state=0), retail, cutoffs=2, horizon="90D",
                   return_models=True)
    assert isinstance(out, tuple)
    return out


def _quick_churn(**kw: Any) -> ChurnModel:
    """Return a fast churn model: logistic regression on three features."""
    args: dict[str, Any] = {"estimator": LogisticRegression(), "calibrate": False,
                            "features": ["recency_days", "n_purchases", "tenure_days"], **kw}
    return ChurnModel(**args)


# ----------------------------------------------------------------- CLV backtest
def test_bgnbd_metrics_equal_a_hand_computation(cdnow: CRMData,
                                                bg_run: tuple[pd.DataFrame, list[Any]]
                                                ) -> None:
    result, models = bg_run
    assert list(result.columns) == ["cutoff", "metric", "value"]
    assert result["cutoff"].drop_duplicates().tolist() == [CUT1, CUT2]  # sorted
    for cut, fitted in zip([CUT1, CUT2], models, strict=True):
        s = _hand_summary(cdnow, cut)
        hand = BetaGeoModel(horizon=26, freq="W").fit(s)
        pd.testing.assert_series_equal(fitted.params_, hand.params_, rtol=1e-9)
        pred = hand.conditional_expected_purchases(26, s["frequency"], s["recency"], s["T"])
        actual = _hand_holdout(cdnow, cut, cut + pd.Timedelta(weeks=26), s.index)
        for name, value in _errors(np.asarray(pred), actual).items():
            assert _value(result, cut, name) == pytest.approx(value, rel=1e-9, abs=1e-12)
        for name, value in _errors(_naive_by_hand(s, 26), actual).items():
            assert _value(result, cut, f"baseline_{name}") == pytest.approx(
                value, rel=1e-9, abs=1e-12)
        assert _value(result, cut, "mae") < _value(result, cut, "baseline_mae")
    assert result["metric"].tolist()[:6] == ["mae", "rmse", "bias", "baseline_mae",
                                             "baseline_rmse", "baseline_bias"]


def test_returned_models_were_fitted_on_the_data_known_at_the_cutoff(
        cdnow: CRMData, bg_run: tuple[pd.DataFrame, list[Any]]) -> None:
    _, models = bg_run
    for cut, fitted in zip([CUT1, CUT2], models, strict=True):
        assert fitted.horizon == 26
        assert fitted.freq == "W"
        fresh = BetaGeoModel(horizon=26, freq="W").fit(_truncate(cdnow, cut))
        pd.testing.assert_series_equal(fitted.params_, fresh.params_, rtol=1e-12)
        assert fitted.n_customers_ == _tx(cdnow).loc[
            _tx(cdnow)["timestamp"] <= cut, "customer_id"].nunique()


def test_nothing_after_the_cutoff_reaches_the_fit(sample: CRMData) -> None:
    tx = _tx(sample)
    late = tx["timestamp"] > CUT1
    # Change the future: drop half of it, triple the rest's amounts, add new customers.
    rng = np.random.default_rng(0)
    changed = tx.loc[~late | (rng.random(len(tx)) < 0.5)].copy()
    changed.loc[changed["timestamp"] > CUT1, "amount"] *= 3
    newcomers = pd.DataFrame({"customer_id": ["zz1", "zz2"],
                              "timestamp": [CUT1 + pd.Timedelta(days=3)] * 2,
                              "amount": [5.0, 6.0]})
    other = CRMData(transactions=pd.concat([changed, newcomers], ignore_index=True),
                    observation_end=sample.observation_end)
    runs = [backtest(m, d, cutoffs=[CUT1], horizon="26W", return_models=True)
            for d in (sample, other) for m in (BetaGeoModel(freq="W"), SpyRateModel())]
    (r_bg, [bg_a]), (_, [spy_a]), (r_bg_other, [bg_b]), (_, [spy_b]) = runs
    pd.testing.assert_series_equal(bg_a.params_, bg_b.params_, rtol=0, atol=0)
    assert bg_a.n_customers_ == bg_b.n_customers_
    for spy in (spy_a, spy_b):
        assert spy.seen_last_timestamp_ <= CUT1
        assert spy.seen_observation_end_ == CUT1
    # ... while the evaluation did see the changed future.
    assert _value(r_bg, CUT1, "mae") != _value(r_bg_other, CUT1, "mae")


def test_gap_shifts_the_scored_window(sample: CRMData) -> None:
    result, [fitted] = backtest(BetaGeoModel(freq="W"), sample, cutoffs=[CUT1],
                                horizon="13W", gap="4W", return_models=True)
    s = _hand_summary(sample, CUT1)
    args = (s["frequency"], s["recency"], s["T"])
    pred = np.asarray(fitted.conditional_expected_purchases(17, *args)
                      - fitted.conditional_expected_purchases(4, *args))
    begin = CUT1 + pd.Timedelta(weeks=4)
    actual = _hand_holdout(sample, begin, begin + pd.Timedelta(weeks=13), s.index)
    assert _value(result, CUT1, "mae") == pytest.approx(_errors(pred, actual)["mae"],
                                                         rel=1e-9)
    assert _value(result, CUT1, "baseline_mae") == pytest.approx(
        _errors(_naive_by_hand(s, 13), actual)["mae"], rel=1e-9)
    no_gap = backtest(BetaGeoModel(freq="W"), sample, cutoffs=[CUT1], horizon="13W")
    assert _value(no_gap, CUT1, "mae") != _value(result, CUT1, "mae")
    # A cut-off valid without a gap can run past the data with one.
    last = sample.observation_end - pd.Timedelta(weeks=13)
    backtest(NaiveRateModel(), sample, cutoffs=[last], horizon="13W", metrics=["mae"])
    with pytest.raises(InvalidParameterError, match="gap \\+ horizon"):
        backtest(NaiveRateModel(), sample, cutoffs=[last], horizon="13W", gap=1)


def test_gap_for_churn_labels_the_shifted_window(sample: CRMData) -> None:
    result, [fitted] = backtest(_quick_churn(), sample, cutoffs=[CUT1], horizon="90D",
                                gap="30D", return_models=True)
    train = _truncate(sample, CUT1)
    p = fitted.score(train)["churn_probability"]
    labels = churn_labels(sample, CUT1 + pd.Timedelta(days=30), "90D").reindex(p.index)
    assert _value(result, CUT1, "roc_auc") == pytest.approx(roc_auc_score(labels, p))


def test_clv_model_adds_revenue_metrics(sample: CRMData) -> None:
    result, [fitted] = backtest(CLVModel(freq="W"), sample, cutoffs=[CUT1],
                                horizon="26W", return_models=True)
    assert result["metric"].tolist() == [
        "mae", "rmse", "bias", "revenue_mae", "revenue_rmse", "revenue_bias",
        "baseline_mae", "baseline_rmse", "baseline_bias"]
    assert fitted.horizon == 26
    scores = fitted.score(_truncate(sample, CUT1))
    tx = _tx(sample)
    inside = (tx["timestamp"] > CUT1) & (tx["timestamp"] <= CUT1 + pd.Timedelta(weeks=26))
    spend = tx.loc[inside].groupby("customer_id")["amount"].sum().reindex(
        scores.index, fill_value=0.0).to_numpy()
    pred = (scores["expected_purchases"] * scores["expected_spend"]).to_numpy()
    for name, value in _errors(pred, spend).items():
        assert _value(result, CUT1, f"revenue_{name}") == pytest.approx(value, rel=1e-9)
    with pytest.raises(InvalidParameterError, match="needs a model that forecasts spend"):
        backtest(BetaGeoModel(), sample, cutoffs=[CUT1], horizon="26W",
                 metrics=["revenue_mae"])


def test_discrete_time_model_gets_whole_periods(sample: CRMData) -> None:
    result = backtest(BetaGeoBetaBinomModel(freq="W"), sample, cutoffs=[CUT1],
                      horizon="26W", metrics=["mae"])
    assert result["metric"].tolist() == ["mae", "baseline_mae"]
    assert np.isfinite(result["value"]).all()
    with pytest.raises(InvalidParameterError):  # 90 days = 12.86 weeks: not whole
        backtest(BetaGeoBetaBinomModel(freq="W"), sample, cutoffs=[CUT1], horizon="90D")


def test_number_horizon_is_in_periods_of_the_model_freq(sample: CRMData) -> None:
    weeks = backtest(NaiveRateModel(freq="W"), sample, cutoffs=[CUT1], horizon=13)
    span = backtest(NaiveRateModel(freq="W"), sample, cutoffs=[CUT1], horizon="91D")
    pd.testing.assert_frame_equal(weeks, span)
    days = backtest(NaiveRateModel(freq="D"), sample, cutoffs=[CUT1], horizon=91,
                    return_models=True)
    assert days[1][0].horizon == 91
    months = backtest(NaiveRateModel(freq="M"), sample, cutoffs=[CUT1], horizon=3,
                      return_models=True)
    assert months[1][0].horizon == 3
    with pytest.raises(InvalidParameterError, match="calendar months must be whole"):
        backtest(NaiveRateModel(freq="M"), sample, cutoffs=[CUT1], horizon=2.5)


# ----------------------------------------------------------------- churn backtest
def test_churn_on_online_retail(retail: CRMData,
                                churn_run: tuple[pd.DataFrame, list[Any]]) -> None:
    result, models = churn_run
    assert result["metric"].drop_duplicates().tolist() == [
        "roc_auc", "average_precision", "brier", "log_loss", "lift_at_10"]
    cuts = result["cutoff"].drop_duplicates().tolist()
    assert len(cuts) == 2
    for cut, fitted in zip(cuts, models, strict=True):
        # Trained on the latest label window that ends at the cut-off: no leak.
        assert fitted.cutoffs_ == [cut - pd.Timedelta(days=90)]
        train = _truncate(retail, cut)
        p = fitted.score(train)["churn_probability"]
        labels = churn_labels(retail, cut, "90D")
        active = _tx(retail).loc[_tx(retail)["timestamp"] <= cut, "customer_id"].unique()
        labels = labels[labels.index.isin(active)]
        p = p.reindex(labels.index)
        assert not p.isna().any()
        y, q = labels.to_numpy(dtype=int), p.to_numpy()
        auc = _value(result, cut, "roc_auc")
        assert 0.5 < auc <= 1
        assert auc == pytest.approx(roc_auc_score(y, q), rel=1e-12)
        assert _value(result, cut, "average_precision") == pytest.approx(
            average_precision_score(y, q), rel=1e-12)
        assert _value(result, cut, "brier") == pytest.approx(np.mean((q - y) ** 2))
        k = int(np.ceil(0.1 * len(y)))
        top = np.argsort(-q, kind="stable")[:k]
        assert _value(result, cut, "lift_at_10") == pytest.approx(y[top].mean() / y.mean())
        assert _value(result, cut, "lift_at_10") > 1


def test_churn_training_ignores_the_future(retail: CRMData,
                                           churn_run: tuple[pd.DataFrame, list[Any]]
                                           ) -> None:
    result, models = churn_run
    cut = result["cutoff"].iloc[0]
    tx = _tx(retail)
    # Remove the purchases after the cut-off of every other customer: their labels flip.
    ids = np.sort(tx["customer_id"].unique())
    drop = (tx["timestamp"] > cut) & tx["customer_id"].isin(ids[::2])
    other = CRMData(transactions=tx.loc[~drop], customers=retail.customers,
                    observation_end=retail.observation_end)
    result_b, [model_b] = backtest(ChurnModel(random_state=0), other, cutoffs=[cut],
                                   horizon="90D", return_models=True)
    train = _truncate(retail, cut)
    pd.testing.assert_frame_equal(models[0].score(train), model_b.score(train))
    assert _value(result, cut, "roc_auc") != _value(result_b, cut, "roc_auc")


# ----------------------------------------------------------------- cut-offs and windows
def test_cutoffs_int_spreads_over_the_second_half(sample: CRMData) -> None:
    start, end = _tx(sample)["timestamp"].min(), sample.observation_end
    horizon = pd.Timedelta(weeks=13)
    first, last = start + (end - start) / 2, end - horizon
    result = backtest(NaiveRateModel(), sample, cutoffs=3, horizon="13W", metrics=["mae"])
    got = result["cutoff"].drop_duplicates().tolist()
    step = (last - first) / 2
    assert got == [(first + step * i).floor("D") for i in range(3)]
    assert got[0] >= start + (end - start) / 2 - pd.Timedelta(days=1)
    assert all(c + horizon <= end for c in got)
    one = backtest(NaiveRateModel(), sample, cutoffs=1, horizon="13W", metrics=["mae"])
    assert one["cutoff"].drop_duplicates().tolist() == [last.floor("D")]
    with pytest.raises(InvalidParameterError, match="middle of the data"):
        backtest(NaiveRateModel(), sample, cutoffs=2, horizon="60W")


def test_sliding_window_drops_early_history(cdnow: CRMData) -> None:
    cuts = [CUT1, pd.Timestamp("1997-12-30")]
    runs = {w: backtest(BetaGeoModel(freq="W"), cdnow, cutoffs=cuts, horizon="26W",
                        window=w, return_models=True) for w in ("expanding", "sliding")}
    (r_exp, m_exp), (r_sl, m_sl) = runs["expanding"], runs["sliding"]
    # Same first window ...
    pd.testing.assert_series_equal(m_exp[0].params_, m_sl[0].params_)
    assert _value(r_exp, cuts[0], "mae") == _value(r_sl, cuts[0], "mae")
    # ... then only the last L = cuts[0] - first transaction.
    length = cuts[0] - _tx(cdnow)["timestamp"].min()
    lo = cuts[1] - length
    tx = _tx(cdnow)
    in_window = (tx["timestamp"] >= lo) & (tx["timestamp"] <= cuts[1])
    assert m_sl[1].n_customers_ == tx.loc[in_window, "customer_id"].nunique()
    assert m_sl[1].n_customers_ < m_exp[1].n_customers_
    hand = BetaGeoModel(horizon=26, freq="W").fit(_hand_summary(cdnow, cuts[1], lo))
    pd.testing.assert_series_equal(m_sl[1].params_, hand.params_, rtol=1e-9)
    s = _hand_summary(cdnow, cuts[1], lo)
    actual = _hand_holdout(cdnow, cuts[1], cuts[1] + pd.Timedelta(weeks=26), s.index)
    assert _value(r_sl, cuts[1], "baseline_mae") == pytest.approx(
        _errors(_naive_by_hand(s, 26), actual)["mae"], rel=1e-9)


def test_spy_sees_only_the_sliding_window(sample: CRMData) -> None:
    cuts = [pd.Timestamp("1997-06-30"), pd.Timestamp("1997-12-31")]
    _, spies = backtest(SpyRateModel(), sample, cutoffs=cuts, horizon="13W",
                        window="sliding", return_models=True)
    length = cuts[0] - _tx(sample)["timestamp"].min()
    for cut, spy in zip(cuts, spies, strict=True):
        assert spy.seen_first_timestamp_ >= cut - length
        assert spy.seen_last_timestamp_ <= cut
        assert spy.seen_observation_end_ == cut


def test_n_jobs_gives_the_same_result(sample: CRMData) -> None:
    kw: dict[str, Any] = {"cutoffs": [CUT1, CUT2], "horizon": "26W"}
    one = backtest(BetaGeoModel(freq="W"), sample, **kw)
    two = backtest(BetaGeoModel(freq="W"), sample, n_jobs=2, **kw)
    pd.testing.assert_frame_equal(one, two)


# ----------------------------------------------------------------- metrics argument
def test_metric_subset_and_callables(sample: CRMData) -> None:
    kw: dict[str, Any] = {"cutoffs": [CUT1], "horizon": "26W"}
    sub = backtest(BetaGeoModel(freq="W"), sample, metrics=["rmse", "mae"], **kw)
    assert sub["metric"].tolist() == ["rmse", "mae", "baseline_rmse", "baseline_mae"]
    full, [fitted] = backtest(BetaGeoModel(freq="W"), sample, return_models=True, **kw)

    def total_error(y: np.ndarray, p: np.ndarray) -> float:
        return float(np.sum(p) - np.sum(y))

    custom = backtest(BetaGeoModel(freq="W"), sample, metrics={"total_error": total_error},
                      **kw)
    assert custom["metric"].tolist() == ["total_error", "baseline_total_error"]
    n = fitted.n_customers_
    assert _value(custom, CUT1, "total_error") == pytest.approx(
        _value(full, CUT1, "bias") * n, rel=1e-9)
    assert _value(custom, CUT1, "baseline_total_error") == pytest.approx(
        _value(full, CUT1, "baseline_bias") * n, rel=1e-9)


@pytest.mark.parametrize(("metrics", "match"), [
    (["mae", "accuracy"], "unknown metric 'accuracy'.*valid metrics: \\['mae', 'rmse', "
                          "'bias'\\]"),
    (["roc_auc"], "unknown metric 'roc_auc'"),
    (["mae", "mae"], "listed twice"),
    ([], "non-empty"),
    ("mae", "non-empty list of names"),
    ({"mae": np.mean}, "reserved"),
    ({"baseline_x": np.mean}, "reserved"),
    ({"x": "mae"}, "must be a callable"),
])
def test_bad_metrics_raise(sample: CRMData, metrics: Any, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        backtest(BetaGeoModel(), sample, cutoffs=[CUT1], horizon="26W", metrics=metrics)


def test_churn_metrics_names(sample: CRMData) -> None:
    with pytest.raises(InvalidParameterError, match="valid metrics: \\['roc_auc'"):
        backtest(_quick_churn(), sample, cutoffs=[CUT1], horizon="90D", metrics=["mae"])
    out = backtest(_quick_churn(), sample, cutoffs=[CUT1], horizon="90D",
                   metrics=["brier"])
    assert out["metric"].tolist() == ["brier"]
    assert {m.name for m in METRICS.values() if m.greater_is_better} == {
        "roc_auc", "average_precision", "lift_at_10"}


# ----------------------------------------------------------------- argument checks
@pytest.mark.parametrize(("kwargs", "match"), [
    ({"cutoffs": ["1996-06-01"]}, "outside the data"),
    ({"cutoffs": ["1997-01-01"]}, "outside the data"),
    ({"cutoffs": ["1998-07-15"]}, "outside the data"),
    ({"cutoffs": ["1998-03-01"]}, "runs past observation_end"),
    ({"cutoffs": [CUT1, CUT1]}, "distinct"),
    ({"cutoffs": []}, "must not be empty"),
    ({"cutoffs": 0}, "positive number of cut-offs"),
    ({"cutoffs": 2.5}, "positive int or a list of dates"),
    ({"cutoffs": ["not a date"]}, "not a date"),
    ({"horizon": "soon"}, "horizon must be"),
    ({"horizon": 0}, "horizon must be"),
    ({"horizon": -4}, "horizon must be"),
    ({"horizon": True}, "horizon must be"),
    ({"horizon": "-3D"}, "horizon must be"),
    ({"gap": "-1D"}, "gap must be"),
    ({"window": "rolling"}, "window must be 'expanding' or 'sliding'"),
    ({"n_jobs": 0}, "n_jobs"),
    ({"return_models": "yes"}, "return_models"),
])
def test_bad_arguments_raise(sample: CRMData, kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"cutoffs": [CUT1], "horizon": "26W", **kwargs}
    with pytest.raises(InvalidParameterError, match=match):
        backtest(BetaGeoModel(), sample, **args)


@pytest.mark.parametrize("model", [GammaGammaModel(), RFMModel(), "BetaGeoModel"])
def test_unsupported_models_raise(sample: CRMData, model: Any) -> None:
    with pytest.raises(InvalidParameterError, match=r"model|backtest evaluates"):
        backtest(model, sample, cutoffs=[CUT1], horizon="26W")


def test_bad_data_raise(sample: CRMData) -> None:
    with pytest.raises(DataValidationError, match="needs CRMData"):
        backtest(BetaGeoModel(), [1, 2], cutoffs=[CUT1], horizon="26W")  # type: ignore[call-overload]
    no_tx = CRMData(customers=pd.DataFrame({"customer_id": ["a", "b"]}))
    with pytest.raises(DataValidationError, match="transactions"):
        backtest(BetaGeoModel(), no_tx, cutoffs=[CUT1], horizon="26W")


def test_empty_sliding_window_raises() -> None:
    days = list(pd.date_range("2024-01-01", "2024-01-10")) + list(
        pd.date_range("2024-03-01", "2024-06-30"))
    tx = pd.DataFrame({"customer_id": [f"c{i % 7}" for i in range(len(days))],
                       "timestamp": days, "amount": 1.0})
    data = CRMData(transactions=tx)
    with pytest.raises(DataValidationError, match="no transaction in the training window"):
        backtest(NaiveRateModel(freq="D"), data, cutoffs=["2024-01-10", "2024-02-20"],
                 horizon="30D", window="sliding")


def test_churn_needs_a_full_label_window_of_history(sample: CRMData) -> None:
    with pytest.raises(InvalidParameterError, match="cutoff - horizon"):
        backtest(_quick_churn(), sample, cutoffs=["1997-03-01"], horizon="90D")


def test_churn_rejects_a_label_column_in_customers(sample: CRMData) -> None:
    ids = sample.customer_ids
    customers = pd.DataFrame({"customer_id": ids, "churned": np.arange(len(ids)) % 2 == 0})
    data = CRMData(transactions=_tx(sample), customers=customers,
                   observation_end=sample.observation_end)
    with pytest.raises(DataValidationError, match="label column 'churned'"):
        backtest(_quick_churn(), data, cutoffs=[CUT1], horizon="90D")


def test_model_and_data_are_not_changed(sample: CRMData) -> None:
    before = _snapshot(sample)
    for model in (BetaGeoModel(horizon=5, freq="W"), _quick_churn(horizon="30D")):
        params = model.get_params()
        backtest(model, sample, cutoffs=[CUT1], horizon="13W", gap="2W",
                 window="sliding")
        assert model.get_params() == params
        assert not _fitted_state(model)
    _assert_unchanged(sample, before)


def test_later_signups_and_interactions_are_not_known_at_the_cutoff(sample: CRMData) -> None:
    ids = sample.customer_ids
    signup = np.where(np.arange(len(ids)) < 5, "1998-01-15", "1997-01-01")
    customers = pd.DataFrame({"customer_id": ids, "signup_date": pd.to_datetime(signup)})
    tx = _tx(sample)
    contacts = pd.DataFrame({"customer_id": ids[:40].repeat(2), "channel": "email",
                             "kind": "campaign_sent",
                             "timestamp": np.tile(pd.to_datetime(["1997-06-01",
                                                                  "1998-02-01"]), 40)})
    data = CRMData(transactions=tx[tx["customer_id"].isin(ids[5:])], customers=customers,
                   interactions=contacts, observation_end=sample.observation_end)
    _, [spy] = backtest(SpyRateModel(), data, cutoffs=[CUT1], horizon="13W",
                        return_models=True)
    assert spy.seen_observation_end_ == CUT1
    assert spy.seen_customers_ == len(ids) - 5
    assert spy.seen_last_interaction_ == pd.Timestamp("1997-06-01")


def test_timezone_aware_data_give_the_same_numbers(sample: CRMData) -> None:
    tx = _tx(sample).copy()
    tx["timestamp"] = tx["timestamp"].dt.tz_localize("Europe/Paris")
    aware = CRMData(transactions=tx,
                    observation_end=sample.observation_end.tz_localize("Europe/Paris"))
    kw: dict[str, Any] = {"cutoffs": 2, "horizon": "13W"}
    naive = backtest(BetaGeoModel(freq="W"), sample, **kw)
    zoned = backtest(BetaGeoModel(freq="W"), aware, **kw)
    assert zoned["cutoff"].dt.tz is not None
    assert zoned["cutoff"].dt.tz_localize(None).tolist() == naive["cutoff"].tolist()
    np.testing.assert_allclose(zoned["value"], naive["value"], rtol=1e-9)


# ----------------------------------------------------------------- TemporalSearchCV
TRANSACTION_MODELS = [BetaGeoModel(), ParetoNBDModel(), ModifiedBetaGeoModel()]


@pytest.fixture(scope="module")
def search(cdnow: CRMData) -> TemporalSearchCV:
    return TemporalSearchCV(CLVModel(), {"transaction_model": TRANSACTION_MODELS},
                            cutoffs=2, horizon="26W", scoring="mae").fit(cdnow)


def test_search_picks_the_argmin_of_its_own_results(search: TemporalSearchCV) -> None:
    res = search.cv_results_
    assert set(res) >= {"params", "param_transaction_model", "split0_test_score",
                        "split1_test_score", "mean_test_score", "std_test_score",
                        "rank_test_score"}
    splits = np.column_stack([res["split0_test_score"], res["split1_test_score"]])
    np.testing.assert_allclose(res["mean_test_score"], splits.mean(axis=1))
    np.testing.assert_allclose(res["std_test_score"], splits.std(axis=1))
    best = int(np.argmin(res["mean_test_score"]))
    assert search.best_index_ == best
    assert search.best_params_ == res["params"][best]
    assert search.best_score_ == res["mean_test_score"][best]
    assert res["rank_test_score"][best] == 1
    assert sorted(res["rank_test_score"].tolist()) == [1, 2, 3]
    assert [type(m).__name__ for m in res["param_transaction_model"]] == [
        "BetaGeoModel", "ParetoNBDModel", "ModifiedBetaGeoModel"]
    assert search.n_splits_ == 2
    assert len(search.cutoffs_) == 2


def test_search_scores_equal_independent_backtests(cdnow: CRMData,
                                                   search: TemporalSearchCV) -> None:
    means = []
    for i, tm in enumerate(TRANSACTION_MODELS):
        out = backtest(CLVModel(transaction_model=tm), cdnow, cutoffs=search.cutoffs_,
                       horizon="26W", metrics=["mae"])
        values = out.loc[out["metric"] == "mae", "value"].to_numpy()
        np.testing.assert_allclose(values, [search.cv_results_[f"split{j}_test_score"][i]
                                            for j in range(2)], rtol=1e-12)
        means.append(values.mean())
    assert type(search.best_params_["transaction_model"]) is type(
        TRANSACTION_MODELS[int(np.argmin(means))])


def test_search_best_estimator_is_refitted_on_all_data(cdnow: CRMData,
                                                        search: TemporalSearchCV) -> None:
    best = search.best_estimator_
    assert isinstance(best, CLVModel)
    assert best.horizon == 26
    assert type(best.transaction_model_) is type(search.best_params_["transaction_model"])
    fresh = CLVModel(transaction_model=search.best_params_["transaction_model"],
                     horizon=26).fit(cdnow)
    pd.testing.assert_frame_equal(search.score(cdnow), fresh.score(cdnow))


def test_search_clones_and_keeps_the_convention(search: TemporalSearchCV) -> None:
    copied = clone(search)
    assert not hasattr(copied, "cv_results_")
    assert copied.get_params()["scoring"] == "mae"
    assert copied.get_params()["horizon"] == "26W"
    assert set(copied.get_params()) >= {"model", "param_grid", "cutoffs", "horizon",
                                        "scoring", "gap", "window", "n_jobs", "refit",
                                        "model__horizon"}
    unfitted = TemporalSearchCV(NaiveRateModel(), {"freq": ["W"]}, cutoffs=1,
                                horizon="13W", scoring="mae")
    with pytest.raises(NotFittedError):
        unfitted.score(load_cdnow_sample())


def test_search_bias_is_ranked_by_absolute_value(sample: CRMData) -> None:
    s = TemporalSearchCV(CLVModel(), {"transaction_model": TRANSACTION_MODELS[:2]},
                         cutoffs=[CUT1, CUT2], horizon="26W", scoring="bias",
                         refit=False).fit(sample)
    assert not hasattr(s, "best_estimator_")
    for i, tm in enumerate(TRANSACTION_MODELS[:2]):
        out = backtest(CLVModel(transaction_model=tm), sample, cutoffs=[CUT1, CUT2],
                       horizon="26W", metrics=["bias"])
        bias = out.loc[out["metric"] == "bias", "value"].to_numpy()
        assert s.cv_results_["split0_test_score"][i] == pytest.approx(abs(bias[0]))
        assert s.cv_results_["split1_test_score"][i] == pytest.approx(abs(bias[1]))
    assert s.best_index_ == int(np.argmin(s.cv_results_["mean_test_score"]))
    parallel = clone(s).set_params(n_jobs=2).fit(sample)
    for key in ("split0_test_score", "split1_test_score", "rank_test_score"):
        np.testing.assert_array_equal(parallel.cv_results_[key], s.cv_results_[key])


def test_search_churn_on_online_retail_maximises_roc_auc(retail: CRMData) -> None:
    grid = {"features": [["recency_days"], ["n_purchases"],
                         ["recency_days", "n_purchases", "tenure_days"]]}
    # Customers of the customers frame with no purchase yet are scored with missing
    # behaviour: the logistic regression needs them imputed.
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    imputed = make_pipeline(SimpleImputer(), LogisticRegression())
    s = TemporalSearchCV(_quick_churn(estimator=imputed), grid, cutoffs=2, horizon="90D",
                         scoring="roc_auc", n_jobs=1).fit(retail)
    best = int(np.argmax(s.cv_results_["mean_test_score"]))
    assert s.best_index_ == best
    assert s.best_params_ == {"features": grid["features"][best]}
    assert s.best_estimator_.cutoffs_ == [retail.observation_end - pd.Timedelta(days=90)]
    ref = backtest(_quick_churn(estimator=imputed, features=grid["features"][best]), retail,
                   cutoffs=s.cutoffs_, horizon="90D", metrics=["roc_auc"])
    assert ref["value"].mean() == pytest.approx(s.best_score_)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"scoring": "roc_auc"}, "scoring must be one of"),
    ({"scoring": "revenue_mae"}, "scoring must be one of"),
    ({"scoring": "baseline_mae"}, "scoring must be one of"),
    ({"param_grid": {"horizon": [10, 20]}}, "set by the backtest"),
    ({"param_grid": {"penalizer": [0.1]}}, "not a parameter of BetaGeoModel"),
    ({"param_grid": {"freq": "W"}}, "param_grid is invalid"),
    ({"refit": "yes"}, "refit"),
])
def test_search_bad_arguments_raise(sample: CRMData, kwargs: dict[str, Any],
                                    match: str) -> None:
    args: dict[str, Any] = {"param_grid": {"freq": ["W"]}, "scoring": "mae", **kwargs}
    grid = args.pop("param_grid")
    s = TemporalSearchCV(BetaGeoModel(), grid, cutoffs=[CUT1], horizon="26W", **args)
    with pytest.raises(InvalidParameterError, match=match):
        s.fit(sample)


def test_search_does_not_change_its_model(sample: CRMData) -> None:
    model = BetaGeoModel(horizon=3)
    before = copy.deepcopy(model.get_params())
    TemporalSearchCV(model, {"freq": ["W"]}, cutoffs=[CUT1], horizon="26W",
                     scoring="rmse").fit(sample)
    assert model.get_params() == before
    assert not _fitted_state(model)


def test_customers_whose_purchases_are_all_returned_are_left_out(sample: CRMData) -> None:
    """Leave out, with returns, a customer with nothing left at the cut-off.

    Neither scored nor judged: the backtest equals the one on the data without them.
    """
    from crmmodels.errors import DataQualityWarning

    tx = sample.transactions
    assert tx is not None
    gone = pd.DataFrame({"customer_id": ["zz-returned", "zz-returned"],
                         "timestamp": pd.to_datetime(["1997-02-03 09:00", "1997-02-03 12:00"]),
                         "amount": [10.0, -10.0]})
    with_returns = CRMData(transactions=pd.concat([tx[gone.columns], gone],
                                                  ignore_index=True), allow_returns=True)
    without = CRMData(transactions=tx[gone.columns], allow_returns=True)
    with pytest.warns(DataQualityWarning, match="1 customers have no purchase left"):
        got = backtest(BetaGeoModel(freq="W"), with_returns, cutoffs=[CUT1], horizon="26W")
    ref = backtest(BetaGeoModel(freq="W"), without, cutoffs=[CUT1], horizon="26W")
    pd.testing.assert_frame_equal(got, ref)
