"""Draw the figures of the documentation's model pages into ``docs/images/``.

Every figure is drawn by crmmodels' own plotting functions from models fitted here:
on the data that ship with crmmodels (CDNOW, the donations of the BG/BB paper)
wherever they fit the model, otherwise on small simulations with fixed seeds, so the
script needs no file outside the package.
Run it from the repository root after a change that moves a figure::

    .venv/bin/python docs/make_figures.py                  # every figure
    .venv/bin/python docs/make_figures.py --only rfm abc   # some of them
    .venv/bin/python docs/make_figures.py --out /tmp/figs  # somewhere else
    .venv/bin/python docs/make_figures.py --list           # the names

Two figures have no plotting function in the library and are drawn with matplotlib
directly: the Gamma-Gamma shrinkage plot and the identity cluster sizes.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from crmmodels import CRMData
from crmmodels.errors import ConvergenceWarning, DataQualityWarning

IMAGES = Path(__file__).resolve().parent / "images"
DPI = 100

# The CDNOW sample's calibration / holdout split of Fader, Hardie & Lee (2005).
CALIBRATION_END = "1997-09-30"
HOLDOUT_END = "1998-06-30"

_cache: dict[str, object] = {}


def _save(fig: Figure, out: Path, name: str) -> Path:
    """Write ``fig`` as ``out/name`` (small PNG) and close it."""
    path = out / name
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, pil_kwargs={"optimize": True})
    plt.close(fig)
    return path


def _cdnow() -> CRMData:
    if "cdnow" not in _cache:
        from crmmodels.datasets import load_cdnow_sample

        _cache["cdnow"] = load_cdnow_sample()
    return _cache["cdnow"]  # type: ignore[return-value]


def _split() -> pd.DataFrame:
    """Return the calibration / holdout summary of the CDNOW sample, in weeks."""
    if "split" not in _cache:
        from crmmodels.data import calibration_holdout

        _cache["split"] = calibration_holdout(_cdnow(), CALIBRATION_END, HOLDOUT_END,
                                              freq="D", freq_multiplier=7)
    return _cache["split"]  # type: ignore[return-value]


def _calibration(monetary: bool = False) -> pd.DataFrame:
    columns = ["frequency", "recency", "T"] + (["monetary_value"] if monetary else [])
    return _split()[columns]


# ------------------------------------------------------------------ transaction models
def _period_transactions(model: object, summary: pd.DataFrame, out: Path, name: str,
                         title: str, max_frequency: int = 7) -> Path:
    """Draw customers by number of repeat transactions, actual against the model."""
    from crmmodels.cltv import plot_period_transactions

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    plot_period_transactions(model, summary, max_frequency=max_frequency, ax=ax)
    ax.set_title(title)
    return _save(fig, out, name)


def naive_rate(out: Path) -> list[Path]:
    """Naive rate baseline: mean holdout purchases by calibration frequency."""
    from crmmodels.cltv import NaiveRateModel, holdout_comparison, plot_holdout_by_frequency

    model = NaiveRateModel().fit(_calibration())
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    plot_holdout_by_frequency(holdout_comparison(model, _split()), ax=ax)
    ax.set_title("Naive rate baseline on the CDNOW sample: holdout purchases")
    return [_save(fig, out, "naive_rate_holdout.png")]


def beta_geo(out: Path) -> list[Path]:
    """BG/NBD: the tracking plot, the P(alive) matrix and the period transactions."""
    from crmmodels.cltv import (
        BetaGeoModel,
        plot_probability_alive_matrix,
        plot_tracking,
        purchase_tracking,
    )

    model = BetaGeoModel().fit(_calibration())
    tracking = purchase_tracking(model, _cdnow(), "1997-01-01", HOLDOUT_END,
                                 cutoff=CALIBRATION_END)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    plot_tracking(tracking, ax=ax)
    ax.set_title("BG/NBD on the CDNOW sample: cumulative repeat purchases")
    paths = [_save(fig, out, "bgnbd_tracking.png")]
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    plot_probability_alive_matrix(model, max_frequency=20, T=39, ax=ax)
    ax.set_title("BG/NBD: P(alive) after 39 weeks, CDNOW sample")
    paths.append(_save(fig, out, "bgnbd_p_alive.png"))
    paths.append(_period_transactions(
        model, _calibration(), out, "bgnbd_period_transactions.png",
        "BG/NBD on the CDNOW sample: repeat purchases in calibration"))
    return paths


def pareto_nbd(out: Path) -> list[Path]:
    """Pareto/NBD: holdout purchases and the period transactions."""
    from crmmodels.cltv import ParetoNBDModel, holdout_comparison, plot_holdout_by_frequency

    model = ParetoNBDModel().fit(_calibration())
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    plot_holdout_by_frequency(holdout_comparison(model, _split()), ax=ax)
    ax.set_title("Pareto/NBD on the CDNOW sample: holdout purchases")
    return [_save(fig, out, "pareto_nbd_holdout.png"), _period_transactions(
        model, _calibration(), out, "pareto_nbd_period_transactions.png",
        "Pareto/NBD on the CDNOW sample: repeat purchases in calibration")]


def modified_beta_geo(out: Path) -> list[Path]:
    """MBG/NBD: the P(alive) matrix (one-time buyers are not all alive), period fit."""
    from crmmodels.cltv import ModifiedBetaGeoModel, plot_probability_alive_matrix

    model = ModifiedBetaGeoModel().fit(_calibration())
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    plot_probability_alive_matrix(model, max_frequency=20, T=39, ax=ax)
    ax.set_title("MBG/NBD: P(alive) after 39 weeks, CDNOW sample")
    return [_save(fig, out, "mbgnbd_p_alive.png"), _period_transactions(
        model, _calibration(), out, "mbgnbd_period_transactions.png",
        "MBG/NBD on the CDNOW sample: repeat purchases in calibration")]


def beta_geo_beta_binom(out: Path) -> list[Path]:
    """BG/BB: P(alive) by frequency and recency of the donations data (bundled)."""
    from crmmodels.cltv import BetaGeoBetaBinomModel, plot_probability_alive_matrix
    from crmmodels.datasets import load_donations

    # The 11,104 donors of Fader, Hardie & Shang (2010), 6 opportunities each.
    model = BetaGeoBetaBinomModel(horizon=5).fit(load_donations())
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    plot_probability_alive_matrix(model, max_frequency=6, max_recency=6, T=6, ax=ax)
    ax.set_title("BG/BB: P(alive) in 2002 of the donors of 1995")
    return [_save(fig, out, "bgbb_p_alive.png"), _period_transactions(
        model, load_donations(), out, "bgbb_period_transactions.png",
        "BG/BB on the donations data: repeat donations 1996-2001", max_frequency=6)]


def gamma_gamma(out: Path) -> list[Path]:
    """Gamma-Gamma: expected spend against the customer's own mean (matplotlib)."""
    from crmmodels.cltv import GammaGammaModel

    summary = _calibration(monetary=True)
    model = GammaGammaModel().fit(summary)
    repeat = summary[summary["frequency"] > 0]
    spend = model.score(repeat)["expected_spend"]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    groups = repeat["frequency"].clip(upper=5).astype(int)
    for k, colour in zip(range(1, 6), plt.get_cmap("viridis")(np.linspace(0, 0.9, 5)),
                         strict=True):
        rows = groups == k
        ax.scatter(repeat.loc[rows, "monetary_value"], spend[rows], s=8, color=colour,
                   label=f"{k}{'+' if k == 5 else ''} repeat purchases")
    top = float(repeat["monetary_value"].quantile(0.99))
    ax.plot([0, top], [0, top], color="grey", lw=1, ls=":", label="own mean")
    mean = model.population_mean_spend()
    ax.axhline(mean, color="black", lw=1, ls="--", label=f"population mean {mean:.2f}")
    ax.set(xlim=(0, top), ylim=(0, top), xlabel="mean repeat spend (calibration)",
           ylabel="expected spend per transaction",
           title="Gamma-Gamma on the CDNOW sample: shrinkage to the mean")
    ax.legend(fontsize=8)
    return [_save(fig, out, "gamma_gamma_shrinkage.png")]


def shifted_beta_geo(out: Path) -> list[Path]:
    """sBG: survivor curve of the 'regular' cohort against the actual survivors."""
    from crmmodels.cltv import ShiftedBetaGeoModel, plot_survival, retention_frame_from_survivors

    regular = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]
    model = ShiftedBetaGeoModel().fit(retention_frame_from_survivors(regular[:8]))
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    plot_survival(model, np.arange(13), actual=np.array(regular) / 1000, ax=ax)
    ax.axvline(7, color="grey", lw=1, ls=":")
    ax.set_title("sBG, 'regular' cohort: fitted on years 1-7, projected to 12")
    return [_save(fig, out, "sbg_survival.png")]


def clv(out: Path) -> list[Path]:
    """CLV: how concentrated the next year's value is (ABC Pareto curve of the CLV)."""
    from crmmodels.cltv import CLVModel, period_discount_rate
    from crmmodels.segments import ABCModel, plot_pareto_curve

    summary = _calibration(monetary=True)
    model = CLVModel(horizon=52, discount_rate=period_discount_rate(0.10, "W"), margin=0.3)
    scores = model.fit(summary).score(summary)
    customers = CRMData(customers=scores[["clv"]].reset_index())
    tiers = ABCModel(value="clv").fit(customers).score(customers)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    plot_pareto_curve(tiers, ax=ax)
    ax.set_title("CLV over the next year, CDNOW sample: share held by the top customers")
    return [_save(fig, out, "clv_pareto.png")]


# ---------------------------------------------------------------------------- segments
def rfm(out: Path) -> list[Path]:
    """RFM: the R x F heat map (mean spend) and customers vs revenue per segment."""
    from crmmodels.segments import RFMModel, plot_rfm_heatmap, plot_segment_summary

    data = _cdnow()
    scores = RFMModel().fit(data).score(data)
    fig, ax = plt.subplots(figsize=(6.0, 4.8))
    plot_rfm_heatmap(scores, value="monetary", ax=ax)
    ax.set_title("RFM on the CDNOW sample: mean spend per R x F cell")
    paths = [_save(fig, out, "rfm_heatmap.png")]
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    plot_segment_summary(scores, ax=ax)
    ax.set_title("RFM segments: share of customers and of revenue")
    paths.append(_save(fig, out, "rfm_segments.png"))
    return paths


def abc(out: Path) -> list[Path]:
    """ABC tiers: the Pareto curve of total spend."""
    from crmmodels.segments import ABCModel, plot_pareto_curve

    data = _cdnow()
    tiers = ABCModel().fit(data).score(data)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    plot_pareto_curve(tiers, ax=ax)
    ax.set_title("ABC tiers of total spend, CDNOW sample")
    return [_save(fig, out, "abc_pareto.png")]


def lifecycle(out: Path) -> list[Path]:
    """Lifecycle: stage transitions between the end of calibration and of the data."""
    from crmmodels.segments import LifecycleModel, plot_transition_matrix

    data = _cdnow()
    model = LifecycleModel().fit(data)
    matrix = model.transitions(data, "1997-09-30", "1998-06-30")
    fig, ax = plt.subplots(figsize=(6.4, 5.0))
    plot_transition_matrix(matrix, ax=ax)
    ax.set_title("Lifecycle stages, CDNOW sample: 1997-09-30 to 1998-06-30")
    return [_save(fig, out, "lifecycle_transitions.png")]


def segmentation(out: Path) -> list[Path]:
    """Behavioural segments: share of customers and of revenue per segment."""
    from crmmodels.segments import RFMModel, SegmentationModel, plot_segment_summary

    data = _cdnow()
    segments = SegmentationModel(n_segments=4, random_state=0).fit(data).score(data)
    spend = RFMModel().fit(data).score(data)["monetary"]
    table = segments.join(spend).assign(segment=lambda f: "segment " + f["segment"].astype(str))
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    plot_segment_summary(table, ax=ax)
    ax.set_title("k-means segments (k = 4), CDNOW sample")
    return [_save(fig, out, "segmentation_summary.png")]


# ------------------------------------------------------------------------- association
def simulate_baskets(n_baskets: int = 4_000, seed: int = 0) -> pd.DataFrame:
    """Baskets of 12 grocery items with a few planted associations (long frame)."""
    rng = np.random.default_rng(seed)
    items = ["bread", "butter", "jam", "milk", "cereal", "coffee", "sugar", "beer",
             "crisps", "salsa", "pasta", "tomato sauce"]
    base = np.array([0.30, 0.10, 0.06, 0.35, 0.10, 0.20, 0.08, 0.15, 0.10, 0.04,
                     0.12, 0.06])
    held = rng.random((n_baskets, len(items))) < base
    index = {item: i for i, item in enumerate(items)}
    for a, b, p in [("bread", "butter", 0.45), ("butter", "jam", 0.35),
                    ("milk", "cereal", 0.35), ("coffee", "sugar", 0.35),
                    ("beer", "crisps", 0.50), ("crisps", "salsa", 0.30),
                    ("pasta", "tomato sauce", 0.60)]:
        add = held[:, index[a]] & (rng.random(n_baskets) < p)
        held[:, index[b]] |= add
    rows, cols = np.nonzero(held)
    return pd.DataFrame({"basket_id": rows, "item": np.array(items)[cols]})


def association(out: Path) -> list[Path]:
    """Association rules: the rule network of simulated baskets."""
    from crmmodels.association import AssociationRulesModel, plot_rule_network

    model = AssociationRulesModel(min_support=0.02, min_confidence=0.3, max_len=2)
    model.fit(simulate_baskets())
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    plot_rule_network(model.rules_, n=15, ax=ax)
    ax.set_title("The 15 pair rules of highest lift (simulated baskets)")
    return [_save(fig, out, "association_network.png")]


# -------------------------------------------------------------------------- propensity
def churn(out: Path) -> list[Path]:
    """Churn: gains and calibration on held-out CDNOW customers."""
    from crmmodels.datasets import load_cdnow
    from crmmodels.propensity import ChurnModel, churn_labels, plot_calibration, plot_gains

    full = load_cdnow()
    cutoff = full.observation_end - pd.Timedelta("90D")
    labels = churn_labels(full, cutoff, "90D")
    held = np.random.default_rng(0).random(len(labels)) < 0.5
    tx = full.transactions

    def subset(ids: pd.Index) -> CRMData:
        return CRMData(transactions=tx[tx["customer_id"].isin(ids)],
                       observation_end=full.observation_end)

    model = ChurnModel(horizon="90D", cutoff=cutoff, random_state=0)
    model.fit(subset(labels.index[~held]))
    scores = model.score(subset(labels.index[held]), cutoff=cutoff)
    y = labels.reindex(scores.index).astype(int)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.0))
    plot_gains(y, scores["churn_probability"], ax=left)
    left.set_title("Cumulative gains")
    plot_calibration(y, scores["churn_probability"], ax=right)
    right.set_title("Calibration")
    fig.suptitle("Churn in the next 90 days, held-out CDNOW customers")
    return [_save(fig, out, "churn_gains_calibration.png")]


def simulate_claims(n: int = 6_000, seed: int = 0) -> pd.DataFrame:
    """Insurance claims with a planted fraud signal (about 6% fraud)."""
    rng = np.random.default_rng(seed)
    claims = pd.DataFrame({
        "claim_id": [f"C{i:05d}" for i in range(n)],
        "amount": np.round(rng.lognormal(7.5, 0.8, n), 2),
        "days_to_report": rng.integers(0, 60, n),
        "prior_claims": rng.poisson(0.6, n),
        "policy_age_years": np.round(rng.uniform(0, 15, n), 1),
        "police_report": rng.random(n) < 0.7,
        "channel": rng.choice(["agent", "phone", "web"], n, p=[0.5, 0.3, 0.2]),
    })
    logit = (-3.0 + 0.6 * np.log(claims["amount"] / 1_800) + 0.03 * claims["days_to_report"]
             + 0.5 * claims["prior_claims"] - 0.12 * claims["policy_age_years"]
             - 0.9 * claims["police_report"] + 0.7 * (claims["channel"] == "web"))
    claims["is_fraud"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    return claims


def fraud(out: Path) -> list[Path]:
    """Fraud: expected cost of alerting on held-out simulated claims."""
    from crmmodels.propensity import FraudModel, plot_cost_curve

    claims = simulate_claims()
    test = np.random.default_rng(1).random(len(claims)) < 0.3
    model = FraudModel(label="is_fraud", id="claim_id", cost_fp=1, cost_fn=10,
                       random_state=0).fit(claims[~test])
    scores = model.score(claims[test])
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    plot_cost_curve(claims.loc[test, "is_fraud"].to_numpy(), scores["fraud_score"].to_numpy(),
                    cost_fp=1, cost_fn=10, threshold=model.threshold_, ax=ax)
    ax.set_title("Cost of alerting (false alarm 1, missed fraud 10), simulated claims")
    return [_save(fig, out, "fraud_cost_curve.png")]


# ------------------------------------------------------------ identity, IDIC, NBA, chain
def identity(out: Path) -> list[Path]:
    """Identity resolution: records per person, planted and found (matplotlib)."""
    from crmmodels.datasets import simulate_identities
    from crmmodels.identity import resolve_identities

    records = simulate_identities(2_000, shared_phone_records=60, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # the shared phone, reported
        res = resolve_identities(records, keys=["email", "phone"])
    planted = records.groupby("person").size().value_counts().sort_index()
    found = res.clusters["size"].value_counts().sort_index()
    sizes = planted.index.union(found.index)
    x = np.arange(len(sizes))
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.bar(x - 0.2, planted.reindex(sizes, fill_value=0), 0.4, label="planted people")
    ax.bar(x + 0.2, found.reindex(sizes, fill_value=0), 0.4, label="resolved customer keys")
    ax.set_xticks(x, [str(s) for s in sizes])
    ax.set(xlabel="records per person", ylabel="people", ylim=(0, 1.3 * planted.max()),
           title="Identity resolution on 2,000 simulated people")
    ax.legend(loc="upper center", ncol=2)
    return [_save(fig, out, "identity_cluster_sizes.png")]


def _simulated_idic() -> pd.DataFrame:
    if "idic" not in _cache:
        from crmmodels.datasets import simulate_crm
        from crmmodels.identity import resolve_identities
        from crmmodels.idic import IDICModel

        sim = simulate_crm(800, contacts=60, random_state=0)
        res = resolve_identities(sim.records, keys=["email", "phone"])
        data = res.apply(sim.data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", DataQualityWarning)
            _cache["idic"] = IDICModel(budget=1_000).fit(data).score(data)
    return _cache["idic"]  # type: ignore[return-value]


def idic(out: Path) -> list[Path]:
    """IDIC: customers and CLV per next best action on a simulated CRM."""
    from crmmodels.segments import plot_segment_summary

    scores = _simulated_idic()
    table = scores[scores["clv"].notna()]
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    plot_segment_summary(table, segment_column="next_best_action", value_column="clv", ax=ax)
    ax.set_title("IDIC on a simulated CRM (budget 1,000): share of customers and of CLV")
    return [_save(fig, out, "idic_actions.png")]


def next_best_action(out: Path) -> list[Path]:
    """Next best action: a budgeted plan over simulated offer values."""
    from crmmodels.idic import NextBestAction
    from crmmodels.segments import plot_segment_summary

    rng = np.random.default_rng(0)
    n = 5_000
    values = pd.DataFrame({
        "retention call": rng.gamma(1.2, 12.0, n) - 5.0,
        "retention e-mail": rng.gamma(1.5, 2.0, n) - 0.5,
        "cross-sell offer": rng.gamma(0.8, 4.0, n) - 1.0,
    }, index=pd.Index([f"c{i:04d}" for i in range(n)], name="customer_id"))
    offers = pd.DataFrame({"cost": [5.0, 0.5, 1.0], "capacity": [400, None, None]},
                          index=values.columns)
    plan = NextBestAction(offers=offers, budget=4_000).plan(values)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    plot_segment_summary(plan, segment_column="next_best_action",
                         value_column="expected_value", ax=ax)
    ax.set_title("A plan for 5,000 customers, budget 4,000: customers and value per action")
    return [_save(fig, out, "nba_plan.png")]


def value_chain(out: Path) -> list[Path]:
    """Value chain: the customer portfolio of the CDNOW sample."""
    from crmmodels.value_chain import ValueChainModel, plot_portfolio

    data = _cdnow()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = ValueChainModel().fit(data)
        scores = model.score(data)
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    plot_portfolio(scores, current_cut=model.current_cut_, future_cut=model.future_cut_, ax=ax)
    ax.set_title("Customer portfolio of the CDNOW sample")
    return [_save(fig, out, "value_chain_portfolio.png")]


# --------------------------------------------------------------------------- targeting
def _campaign() -> tuple[pd.DataFrame, pd.DataFrame]:
    if "campaign" not in _cache:
        from crmmodels.datasets import simulate_campaign

        test = simulate_campaign(20_000, random_state=0)
        _cache["campaign"] = (test.iloc[:14_000], test.iloc[14_000:])
    return _cache["campaign"]  # type: ignore[return-value]


def _uplift_scores() -> tuple[pd.DataFrame, pd.Series]:
    from crmmodels.targeting import UpliftModel

    train, test = _campaign()
    features = ["recency", "history", "mens", "womens", "zip_code", "newbie", "channel",
                "treatment", "response"]
    model = UpliftModel(treatment="treatment", outcome="response").fit(train[features])
    return test, model.score(test[features])["uplift"]


def uplift_metrics(out: Path) -> list[Path]:
    """Uplift metrics: the Qini curve of a T-learner on a simulated test."""
    from crmmodels.targeting import plot_qini_curve

    test, uplift = _uplift_scores()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    plot_qini_curve(test["response"], uplift, test["treatment"], ax=ax)
    return [_save(fig, out, "uplift_qini.png")]


def uplift(out: Path) -> list[Path]:
    """Uplift: response rates and uplift by decile of predicted uplift."""
    from crmmodels.targeting import plot_uplift_by_percentile

    test, scores = _uplift_scores()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    plot_uplift_by_percentile(test["response"], scores, test["treatment"], bins=10, ax=ax)
    ax.set_title("Held-out 6,000 customers of a simulated e-mail test, by predicted uplift")
    return [_save(fig, out, "uplift_by_percentile.png")]


def response(out: Path) -> list[Path]:
    """Campaign response: gains and lift on the mailed half of a simulated test."""
    from crmmodels.datasets import simulate_campaign
    from crmmodels.propensity import plot_gains, plot_lift
    from crmmodels.targeting import ResponseModel

    test = simulate_campaign(20_000, random_state=0)
    mailed = test[test["treatment"] == 1].drop(columns=["treatment", "true_uplift"])
    train, holdout = mailed.iloc[:7_000], mailed.iloc[7_000:]
    model = ResponseModel(label="response", cost_per_contact=2.0,
                          net_revenue_per_response=40.0, random_state=0).fit(train)
    p = model.score(holdout)["response_probability"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.0))
    plot_gains(holdout["response"], p, ax=left)
    plot_lift(holdout["response"], p, ax=right)
    fig.suptitle("Response to a simulated e-mail, held-out mailed customers")
    return [_save(fig, out, "response_gains.png")]


FIGURES: dict[str, Callable[[Path], list[Path]]] = {
    "naive_rate": naive_rate,
    "beta_geo": beta_geo,
    "pareto_nbd": pareto_nbd,
    "modified_beta_geo": modified_beta_geo,
    "beta_geo_beta_binom": beta_geo_beta_binom,
    "gamma_gamma": gamma_gamma,
    "shifted_beta_geo": shifted_beta_geo,
    "clv": clv,
    "rfm": rfm,
    "abc": abc,
    "lifecycle": lifecycle,
    "segmentation": segmentation,
    "association": association,
    "churn": churn,
    "fraud": fraud,
    "identity": identity,
    "idic": idic,
    "next_best_action": next_best_action,
    "value_chain": value_chain,
    "uplift_metrics": uplift_metrics,
    "uplift": uplift,
    "response": response,
}


def main(argv: list[str] | None = None) -> int:
    """Draw the figures named on the command line (all by default)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=IMAGES, help="directory of the PNGs")
    parser.add_argument("--only", nargs="+", choices=sorted(FIGURES), metavar="NAME",
                        help="draw only these figures")
    parser.add_argument("--list", action="store_true", help="list the figure names")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(FIGURES))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    plt.rcParams.update({"figure.dpi": DPI, "font.size": 9, "axes.titlesize": 10})
    for name in args.only or FIGURES:
        start = time.perf_counter()
        paths = FIGURES[name](args.out)
        sizes = ", ".join(f"{p.name} ({p.stat().st_size // 1024} kB)" for p in paths)
        print(f"{name}: {sizes} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
