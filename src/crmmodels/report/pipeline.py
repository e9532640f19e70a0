"""The whole analysis of one CRMData: every model the data allow, in one pass.

:func:`analyze` validates nothing itself (the ``CRMData`` is validated) and runs, in
order: the validation report, RFM with value tiers and lifecycle stages, customer
lifetime value with a backtest against the naive baseline, churn risk, cross-sell rules
(when the transactions carry baskets), the next best action (IDIC) and the value-chain
portfolio. Each step becomes a :class:`Section` of the report: a plain-language
reading, its tables and its figures, and the warnings the models raised. A step the
data cannot support (too little history for a backtest, no baskets) is kept as a
section that says why it did not run; any other error propagates.
"""

from __future__ import annotations

import io
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmmodels.data import CRMData, customer_summary
from crmmodels.errors import DataValidationError, InvalidParameterError, optional_dependency
from crmmodels.report.html import render
from crmmodels.report.sections import Section

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["Analysis", "Section", "analyze"]

LOG = logging.getLogger("crmmodels")

# Steps that cannot run on some data say why instead of failing the analysis.
_DATA_LIMITS = (DataValidationError, InvalidParameterError)


@dataclass
class Analysis:
    """The result of :func:`analyze`: report sections, per-customer scores and rules.

    Attributes
    ----------
    name : str
        What was analysed (shown in the report's title).
    sections : list of Section
        The report, validation first.
    scores : DataFrame
        One row per customer (index ``customer_id``), every score of every model that
        ran.
    rules : DataFrame or None
        The cross-sell rules, when the transactions carry baskets.
    """

    name: str
    sections: list[Section]
    scores: pd.DataFrame
    rules: pd.DataFrame | None = None

    def to_html(self) -> str:
        """Return the report as one self-contained HTML page (figures inline as SVG)."""
        return render(self.name, self.sections, len(self.scores))

    def save(self, out: str | Path) -> dict[str, Path]:
        """Write ``scores.parquet``, ``scores.csv``, ``rules.csv`` and ``report.html``.

        ``scores.parquet`` needs pyarrow; ``rules.csv`` is written only when there are
        rules. Returns the paths written, by name.
        """
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        written["scores.parquet"] = folder / "scores.parquet"
        self.scores.to_parquet(written["scores.parquet"])
        written["scores.csv"] = folder / "scores.csv"
        self.scores.to_csv(written["scores.csv"])
        write_rules_and_page(folder, self.rules, self.to_html(), written)
        return written


def write_rules_and_page(folder: Path, rules: pd.DataFrame | None, page: str,
                         written: dict[str, Path]) -> None:
    """Write ``rules.csv`` (when there are rules) and ``report.html``; note the paths."""
    if rules is not None:
        written["rules.csv"] = folder / "rules.csv"
        _flat_rules(rules).to_csv(written["rules.csv"], index=False)
    written["report.html"] = folder / "report.html"
    written["report.html"].write_text(page, encoding="utf-8")


def _flat_rules(rules: pd.DataFrame) -> pd.DataFrame:
    """Rules with their item sets written as text (``a, b``), for CSV."""
    out = rules.copy()
    for column in ("antecedents", "consequents"):
        if column in out.columns:
            out[column] = [", ".join(sorted(str(i) for i in items)) for items in out[column]]
    return out


def svg(ax: Axes) -> str:
    """Return the figure of ``ax`` as inline SVG markup (text drawn as paths)."""
    import matplotlib
    from matplotlib.figure import Figure

    figure = ax.figure  # get_figure(root=True) needs matplotlib 3.10
    assert isinstance(figure, Figure)
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _axes(width: float = 7.0, height: float = 4.0) -> Axes:
    """Return a new figure's axes, without pyplot (no backend, no global figure list)."""
    Figure = optional_dependency("matplotlib.figure", needed_for="the report's figures",  # noqa: N806
                                 extra="report").Figure
    axes: Axes = Figure(figsize=(width, height)).add_subplot()
    return axes


# ---------------------------------------------------------------------- steps
Step = Callable[[CRMData, dict[str, Any], Section], None]


def _validation(data: CRMData, state: dict[str, Any], section: Section) -> None:
    report = data.report
    table = report.to_frame()
    rows = [f"{name}: {report.rows_in.get(name, 0):,} rows in, "
            f"{report.rows_out.get(name, 0):,} kept" for name in report.rows_in]
    section.reading.append(
        "Every frame was checked against the data model before any model ran. "
        + "; ".join(rows) + f". {data.n_customers:,} customers, observed up to "
        f"{data.observation_end.date()}.")
    dropped, coerced = report.n_dropped, report.n_coerced
    kept = table.loc[table["action"].isin(["kept", "info"])] if len(table) else table
    said = (f"{dropped:,} rows were dropped and {coerced:,} values converted (text to dates, "
            "ids to text, ...)" if dropped or coerced else "Nothing was dropped or converted")
    if len(kept):
        said += "; noticed and kept: " + "; ".join(
            f"{int(n):,} {detail}" for n, detail in zip(kept["count"], kept["detail"],
                                                        strict=True))
    section.reading.append(said + ". Each entry below gives the rule, the number of rows "
                           "and what was done.")
    if len(table):
        section.tables.append(("Validation report", table.drop(columns="rows")))


def _segments(data: CRMData, state: dict[str, Any], section: Section) -> None:
    from crmmodels.segments import (
        STANDARD_SEGMENTS,
        ABCModel,
        LifecycleModel,
        RFMModel,
        plot_segment_summary,
    )

    rfm = RFMModel().fit(data).score(data)
    tiers = ABCModel().fit(data).score(data)
    stages = LifecycleModel().fit(data).score(data)
    state["scores"].append(rfm[["recency", "frequency", "monetary", "r_score", "f_score",
                                "m_score", "rfm_cell", "segment"]])
    state["scores"].append(tiers[["value_tier"]])
    state["scores"].append(stages[["lifecycle_stage"]])
    table = rfm.groupby("segment", observed=True).agg(
        customers=("monetary", "size"), revenue=("monetary", "sum"),
        mean_recency=("recency", "mean"), mean_frequency=("frequency", "mean"))
    table = table.reindex(pd.Index(list(STANDARD_SEGMENTS), name="segment")).fillna(
        {"customers": 0, "revenue": 0.0})
    table["customers"] = table["customers"].astype("int64")
    table["revenue_share"] = table["revenue"] / table["revenue"].sum()
    table = table.sort_values("revenue", ascending=False)
    top = table.index[0]
    section.reading.append(
        f"Customers are scored 1-5 on recency, frequency and monetary value (quintiles) "
        f"and named by the standard segment map. The largest share of revenue, "
        f"{table.loc[top, 'revenue_share']:.0%}, sits with '{top}' "
        f"({table.loc[top, 'customers']:,} customers, "
        f"{table.loc[top, 'customers'] / len(rfm):.0%} of all).")
    empty = table.index[table["customers"] == 0].tolist()
    if empty:
        section.reading.append(f"No customer falls in: {', '.join(empty)}.")
    tier_share = tiers.groupby("value_tier", observed=True)["value"].agg(["size", "sum"])
    tier_share["customer_share"] = tier_share["size"] / tier_share["size"].sum()
    tier_share["value_share"] = tier_share["sum"] / tier_share["sum"].sum()
    tier_share = tier_share.rename(columns={"size": "customers", "sum": "value"})
    if "A" in tier_share.index:
        a_customers = float(tier_share["customer_share"].loc["A"])
        a_value = float(tier_share["value_share"].loc["A"])
        section.reading.append(
            f"Value tiers (ABC): tier A is {a_customers:.0%} of the customers and holds "
            f"{a_value:.0%} of the spend.")
    lifecycle = stages["lifecycle_stage"].value_counts().rename("customers").to_frame()
    lifecycle["share"] = lifecycle["customers"] / lifecycle["customers"].sum()
    section.reading.append(
        "Lifecycle stages, from each customer's own purchase rhythm: "
        + ", ".join(f"{stage} {share:.0%}" for stage, share in lifecycle["share"].items())
        + ".")
    section.tables += [("RFM segments", table), ("Value tiers (ABC)", tier_share),
                       ("Lifecycle stages", lifecycle)]
    ax = plot_segment_summary(rfm, ax=_axes(7.0, 4.5))
    section.figures.append(("Share of customers and of revenue per RFM segment", svg(ax)))


def clv_model(freq: str) -> Any:
    """Return the lifetime-value model of the analysis: BG/NBD and Gamma-Gamma, one year.

    One year of periods of ``freq``, 10% a year discount, margin 1 (revenue).
    """
    from crmmodels.cltv import BetaGeoModel, CLVModel, GammaGammaModel, period_discount_rate

    per_year = {"D": 365.25, "W": 365.25 / 7, "M": 12.0}[freq]
    return CLVModel(transaction_model=BetaGeoModel(freq=freq),
                    spend_model=GammaGammaModel(freq=freq), horizon=round(per_year),
                    discount_rate=period_discount_rate(0.10, freq), margin=1.0, freq=freq)


def clv_reading(section: Section, clv: Any, *, n_customers: int, purchases: float,
                total: float, top_decile_share: float) -> None:
    """Write the CLV section's reading, its parameter table and its figure."""
    from crmmodels.cltv import plot_probability_alive_matrix

    section.reading.append(
        f"BG/NBD (purchases) and Gamma-Gamma (spend per purchase) were fitted on "
        f"{n_customers:,} customers. Over the next {clv.horizon} periods of '{clv.freq}' "
        f"(one year, 10% a year discount), they expect {purchases:,.0f} "
        f"repeat purchases worth {total:,.0f} in all; the top 10% of "
        f"customers by CLV hold {top_decile_share:.0%} of it.")
    params = pd.DataFrame({
        "model": ["BG/NBD"] * len(clv.transaction_model_.params_)
        + ["Gamma-Gamma"] * len(clv.spend_model_.params_),
        "value": [*dict(clv.transaction_model_.params_).values(),
                  *dict(clv.spend_model_.params_).values()]},
        index=pd.Index([*dict(clv.transaction_model_.params_),
                        *dict(clv.spend_model_.params_)], name="parameter"))
    section.tables.append(("Fitted parameters", params))
    ax = plot_probability_alive_matrix(clv.transaction_model_, ax=_axes(6.0, 5.0))
    section.figures.append(("Probability that a customer is still active, by frequency and "
                            "recency (BG/NBD)", svg(ax)))


def _clv(data: CRMData, state: dict[str, Any], section: Section) -> None:
    from crmmodels.model_selection import backtest

    freq = state["freq"]
    summary = customer_summary(data, freq=freq)
    clv = clv_model(freq).fit(summary)
    scores = clv.score(summary)
    state["clv"] = scores["clv"]
    state["scores"].append(scores[["p_alive", "expected_purchases", "expected_spend", "clv"]])
    clv_reading(section, clv, n_customers=len(summary),
                purchases=float(scores["expected_purchases"].sum()),
                total=float(scores["clv"].sum()),
                top_decile_share=_top_share(scores["clv"].to_numpy(), 0.1))
    half = pd.Timedelta(days=182)
    try:
        result = backtest(clv_model(freq), data, cutoffs=1, horizon=f"{int(half.days)}D")
    except _DATA_LIMITS as exc:
        section.reading.append(f"No backtest: {exc}")
    else:
        wide = result.pivot(index="metric", columns="cutoff", values="value")
        wide.columns = [f"cut-off {pd.Timestamp(c).date()}" for c in wide.columns]
        cutoff = result["cutoff"].iloc[0]
        model_mae = float(result.loc[result["metric"] == "mae", "value"].iloc[0])
        base_mae = float(result.loc[result["metric"] == "baseline_mae", "value"].iloc[0])
        better = "beats" if model_mae < base_mae else "does not beat"
        section.reading.append(
            f"Backtest: fitted on what was known at {cutoff.date()} and compared with the "
            f"next {half.days} days (to {(cutoff + half).date()}), the model's mean absolute error "
            f"in purchases per customer is {model_mae:.3f} against {base_mae:.3f} for the "
            f"naive baseline (a constant purchase rate, no dropout): it {better} it.")
        section.tables.append(("Backtest against the naive baseline", wide))


def _top_share(values: np.ndarray, share: float) -> float:
    v = np.sort(np.maximum(values, 0.0))[::-1]
    k = max(1, int(np.ceil(share * len(v))))
    total = v.sum()
    return float(v[:k].sum() / total) if total > 0 else float("nan")


def _churn(data: CRMData, state: dict[str, Any], section: Section) -> None:
    from crmmodels.propensity import ChurnModel

    model = ChurnModel(horizon="90D", random_state=0).fit(data)
    clv = state.get("clv")
    scores = model.score(data, value=clv) if clv is not None else model.score(data)
    keep = ["churn_probability", "risk_decile"] + (
        ["defection_cost"] if "defection_cost" in scores.columns and clv is not None else [])
    state["scores"].append(scores[keep].rename(columns={"defection_cost": "expected_loss"}))
    deciles = scores.groupby("risk_decile").agg(
        customers=("churn_probability", "size"),
        p_churn_min=("churn_probability", "min"),
        p_churn_max=("churn_probability", "max"))
    if "defection_cost" in keep:
        deciles["expected_loss"] = scores.groupby("risk_decile")["defection_cost"].sum()
    section.reading.append(
        f"P(no purchase in the next 90 days) from each customer's history, learnt at "
        f"{model.cutoffs_[0].date()} on {model.n_train_:,} customers, of whom "
        f"{model.churn_rate_:.0%} did not buy in the following 90 days. Decile 1 holds "
        f"the 10% most likely to leave (P from {deciles['p_churn_min'].iloc[0]:.2f}).")
    if "expected_loss" in deciles.columns:
        share = deciles["expected_loss"] / deciles["expected_loss"].sum()
        section.reading.append(
            f"Expected loss = P(churn) x CLV: the two riskiest deciles carry "
            f"{share.iloc[:2].sum():.0%} of it; a valuable customer can matter more at "
            "a low risk than a cheap one at a high risk, which is why retention is "
            "ranked by expected loss.")
    section.tables.append(("Churn risk by decile (1 = most likely to leave)", deciles))
    ax = _axes(7.0, 3.6)
    counts = np.histogram(scores["churn_probability"].to_numpy(), bins=20, range=(0, 1))[0]
    ax.bar(np.linspace(0.025, 0.975, 20), counts, width=0.045, color="#4c72b0")
    ax.set_xlabel("P(churn in the next 90 days)")
    ax.set_ylabel("customers")
    ax.set_title("Churn probability")
    section.figures.append(("How many customers at each churn probability", svg(ax)))


#: The thresholds of the cross-sell rules of the analysis.
RULE_SETTINGS: dict[str, Any] = {"min_support": 0.01, "min_confidence": 0.5, "min_lift": 2.0}


def rules_reading(section: Section, rules: pd.DataFrame, *, n_baskets: int,
                  n_itemsets: int | None) -> None:
    """Write the rules section's reading, its table and its network figure."""
    from crmmodels.association import plot_rule_network, top_rules

    sets = f"{n_itemsets:,} frequent item sets and " if n_itemsets is not None else ""
    section.reading.append(
        f"{n_baskets:,} baskets (orders) were mined for products bought together "
        f"in at least 1% of them: {sets}{len(rules):,} rules with confidence >= 50% "
        "and lift >= 2.")
    if len(rules):
        best = top_rules(rules, n=10, by="lift")
        section.tables.append(("The 10 rules of highest lift", best))
        ax = plot_rule_network(rules, n=20, by="lift", ax=_axes(8.0, 6.0))
        section.figures.append(("The 20 rules of highest lift as a network", svg(ax)))


NO_BASKETS = ("the transactions have no baskets (columns transaction_id and product_id), "
              "so there is nothing to cross-sell from")


def _rules(data: CRMData, state: dict[str, Any], section: Section) -> None:
    from crmmodels.association import AssociationRulesModel

    columns = (data.lazy_rows("transactions").collect_schema().names()
               if data.has("transactions") else [])
    if not {"product_id", "transaction_id"} <= set(columns):
        section.skipped = NO_BASKETS
        return
    model = AssociationRulesModel(**RULE_SETTINGS, max_consequent_len=1).fit(data)
    state["rules"] = model.rules_
    rules_reading(section, model.rules_, n_baskets=model.n_baskets_,
                  n_itemsets=len(model.itemsets_))


def _nba(data: CRMData, state: dict[str, Any], section: Section) -> None:
    from crmmodels.idic import DEFAULT_OFFERS, NO_ACTION, IDICModel

    budget = 0.10 * data.n_customers * float(DEFAULT_OFFERS["cost"].max())
    actions = IDICModel(budget=budget).fit(data).score(data)
    state["scores"].append(actions[["next_best_action", "action_channel",
                                    "expected_value"]])
    chosen = actions["next_best_action"] != NO_ACTION
    counts = actions["next_best_action"].value_counts().rename("customers").to_frame()
    counts["expected_value"] = actions.groupby("next_best_action")["expected_value"].sum()
    section.reading.append(
        f"Identify, differentiate, interact, customise: with a budget of {budget:,.0f} "
        f"(enough to contact 10% of customers with the dearest offer), the plan makes "
        f"{int(chosen.sum()):,} offers worth {actions['expected_value'].sum():,.0f} in "
        "expected value net of their cost, chosen by an exact optimisation under the "
        "budget.")
    section.tables.append(("Next best action", counts))


def _value_chain(data: CRMData, state: dict[str, Any], section: Section) -> None:
    from crmmodels.value_chain import ValueChainModel, plot_concentration, plot_portfolio

    model = ValueChainModel().fit(data)
    scores = model.score(data)
    state["scores"].append(scores[["portfolio_quadrant", "current_value", "future_value",
                                   "strategic"]])
    report = model.report(data)
    portfolio = report["portfolio"]
    section.reading.append(
        "Buttle's customer portfolio: current value (the last year's spend) against future "
        "value (CLV), each split at its median. "
        + "; ".join(f"{q}: {int(n):,} customers" for q, n in portfolio["customers"].items())
        + ".")
    section.tables.append(("Customer portfolio", portfolio))
    ax = plot_portfolio(scores, ax=_axes(6.0, 5.0))
    section.figures.append(("Customer portfolio: current against future value", svg(ax)))
    ax = plot_concentration(scores, ax=_axes(6.0, 4.0))
    section.figures.append(("Value concentration (Pareto curves)", svg(ax)))


STEPS: tuple[tuple[str, str, Step], ...] = (
    ("validation", "Data validation", _validation),
    ("segments", "RFM segments, value tiers and lifecycle", _segments),
    ("clv", "Customer lifetime value", _clv),
    ("churn", "Churn risk", _churn),
    ("rules", "Cross-sell rules", _rules),
    ("nba", "Next best action (IDIC)", _nba),
    ("value_chain", "Value chain portfolio", _value_chain),
)


def analyze(data: CRMData, *, name: str = "", freq: str = "W",
            progress: bool = False) -> Analysis:
    """Run every model the data allow and gather the report, the scores and the rules.

    Parameters
    ----------
    data : CRMData
        Validated data with a transactions frame (customers and interactions are used
        when given).
    name : str, optional
        What the data are, for the report's title.
    freq : {"D", "W", "M"}, default "W"
        Period of the customer summary behind the lifetime value.
    progress : bool, default False
        Show a progress bar (tqdm, the ``report`` extra) on standard error.

    Returns
    -------
    Analysis
        ``sections`` (the report), ``scores`` (one row per customer), ``rules``.

    Examples
    --------
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> from crmmodels.report import analyze
    >>> result = analyze(load_cdnow_sample())
    >>> [s.key for s in result.sections][:3]
    ['validation', 'segments', 'clv']
    >>> result.scores[["segment", "value_tier", "clv"]].notna().all().tolist()
    [True, True, True]
    """
    if not isinstance(data, CRMData):
        raise TypeError(f"analyze: data must be a CRMData, got {type(data).__name__}")
    data.require("transactions")
    if freq not in ("D", "W", "M"):
        raise InvalidParameterError(f"freq must be one of ['D', 'W', 'M'], got {freq!r}")
    state: dict[str, Any] = {"freq": freq, "scores": []}

    def bound(step: Step) -> Callable[[Section], None]:
        return lambda section: step(data, state, section)

    sections = run_steps([(key, title, bound(step)) for key, title, step in STEPS],
                         progress=progress)
    scores = pd.DataFrame(index=pd.Index(data.customer_ids, name="customer_id"))
    for part in state["scores"]:
        scores = scores.join(part, how="left")
    return Analysis(name=name, sections=sections, scores=scores, rules=state.get("rules"))


def run_steps(steps: list[tuple[str, str, Callable[[Section], None]]], *,
              progress: bool = False) -> list[Section]:
    """Run the steps in order, each into its own section; the sections.

    A step the data cannot support (a :class:`~crmmodels.errors.DataValidationError`
    or :class:`~crmmodels.errors.InvalidParameterError`) is kept as a section saying
    why; the warnings a step raised become its notes; its wall time is kept.
    """
    bar = _progress(progress, len(steps))
    sections: list[Section] = []
    try:
        for key, title, run in steps:
            if bar is not None:
                bar.set_description_str(title)
            LOG.info("analyze: %s", title)
            section = Section(key=key, title=title)
            started = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    run(section)
                except _DATA_LIMITS as exc:
                    section.skipped = f"the data do not allow it: {exc}"
            section.seconds = time.perf_counter() - started
            for w in caught:
                line = f"{w.category.__name__}: {' '.join(str(w.message).split())}"
                if line not in section.notes:
                    section.notes.append(line)
            sections.append(section)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return sections


def _progress(show: bool, total: int) -> Any:
    """Return a tqdm bar on standard error, or None when not shown."""
    if not show:
        return None
    tqdm = optional_dependency("tqdm.auto", needed_for="the progress bar",
                               extra="report").tqdm
    return tqdm(total=total, unit="step", leave=False)
