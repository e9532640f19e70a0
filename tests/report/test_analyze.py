"""``analyze`` and ``crmmodels analyze``: every score checked against its model, files, page.

Each per-customer score of the analysis is compared with the same model fitted on its
own through the public API (the reference), so the pipeline can neither drop, shift nor
mislabel a column. The page is checked for being self-contained (nothing fetched) in
the HTML and, in ``test_browser.py``, in a real browser.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData
from crmmodels.cli import main
from crmmodels.datasets import load_cdnow_sample
from crmmodels.report import STEPS, Analysis, analyze

pytest.importorskip("jinja2")
pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def sample() -> CRMData:
    return load_cdnow_sample()


@pytest.fixture(scope="module")
def result(sample: CRMData) -> Analysis:
    return analyze(sample, name="CDNOW sample")


def test_sections_in_order(result: Analysis) -> None:
    assert [s.key for s in result.sections] == [key for key, _, _ in STEPS]
    ran = {s.key: s.skipped is None for s in result.sections}
    assert ran == {"validation": True, "segments": True, "clv": True, "churn": True,
                   "rules": False, "nba": True, "value_chain": True}
    rules = next(s for s in result.sections if s.key == "rules")
    assert rules.skipped is not None
    assert "no baskets" in rules.skipped
    for section in result.sections:
        if section.skipped is None:
            assert section.reading, section.key
    assert result.rules is None


def test_scores_match_each_model(sample: CRMData, result: Analysis) -> None:
    from crmmodels.cltv import BetaGeoModel, CLVModel, GammaGammaModel, period_discount_rate
    from crmmodels.data import customer_summary
    from crmmodels.propensity import ChurnModel
    from crmmodels.segments import ABCModel, LifecycleModel, RFMModel
    from crmmodels.value_chain import ValueChainModel

    scores = result.scores
    assert scores.index.tolist() == sample.customer_ids.tolist()
    assert scores.index.is_unique
    rfm = RFMModel().fit(sample).score(sample)
    pd.testing.assert_series_equal(scores["segment"], rfm["segment"], check_names=False)
    assert (scores["monetary"] == rfm["monetary"]).all()
    assert (scores["value_tier"] == ABCModel().fit(sample).score(sample)["value_tier"]).all()
    stages = LifecycleModel().fit(sample).score(sample)["lifecycle_stage"]
    assert (scores["lifecycle_stage"] == stages).all()
    summary = customer_summary(sample, freq="W")
    clv = CLVModel(transaction_model=BetaGeoModel(freq="W"),
                   spend_model=GammaGammaModel(freq="W"), horizon=52,
                   discount_rate=period_discount_rate(0.10, "W"), freq="W").fit(summary)
    np.testing.assert_allclose(scores["clv"], clv.score(summary)["clv"], rtol=1e-12)
    churn = ChurnModel(horizon="90D", random_state=0).fit(sample).score(
        sample, value=clv.score(summary)["clv"])
    np.testing.assert_allclose(scores["churn_probability"], churn["churn_probability"])
    np.testing.assert_allclose(scores["expected_loss"], churn["defection_cost"])
    chain = ValueChainModel().fit(sample).score(sample)
    assert (scores["portfolio_quadrant"] == chain["portfolio_quadrant"]).all()
    assert scores["next_best_action"].notna().all()


def test_readings_quote_their_tables(result: Analysis) -> None:
    clv = next(s for s in result.sections if s.key == "clv")
    backtest = dict(clv.tables)["Backtest against the naive baseline"].iloc[:, 0]
    text = " ".join(clv.reading)
    assert f"{backtest['mae']:.3f}" in text
    assert f"{backtest['baseline_mae']:.3f}" in text
    assert ("it beats it" in text) == bool(backtest["mae"] < backtest["baseline_mae"])
    segments = next(s for s in result.sections if s.key == "segments")
    table = dict(segments.tables)["RFM segments"]
    top = table.index[0]
    assert f"'{top}'" in " ".join(segments.reading)
    assert table["customers"].sum() == len(result.scores)


def test_page_is_self_contained(result: Analysis) -> None:
    page = result.to_html()
    assert page.startswith("<!DOCTYPE html>")
    # (url(#id) inside an SVG points at the SVG itself)
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\((?!#)", page, re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page, re.I)
    figures = sum(len(s.figures) for s in result.sections)
    assert page.count("<figure") == figures >= 4
    assert page.count("<svg") >= figures
    for section in result.sections:
        assert f'<section id="{section.key}"' in page


def test_text_is_escaped(result: Analysis) -> None:
    from crmmodels.report import Section

    evil = Analysis(name="<b>x</b>", sections=[Section(
        key="t", title="<i>t</i>", reading=["<script>alert(1)</script>"],
        tables=[("<c>", pd.DataFrame({"name": ["<img src=x>"]}))])],
        scores=result.scores)
    page = evil.to_html()
    assert "<script>" not in page
    assert "<img" not in page
    assert "&lt;script&gt;" in page


def test_polars_gives_the_same_scores(sample: CRMData, result: Analysis) -> None:
    pl = pytest.importorskip("polars")
    assert sample.transactions is not None
    data = CRMData(transactions=pl.from_pandas(sample.transactions.reset_index(drop=True)))
    other = analyze(data)
    pd.testing.assert_frame_equal(other.scores, result.scores, check_exact=False, rtol=1e-9)


def test_cli_reads_csv_and_parquet_with_columns(sample: CRMData, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pyarrow")
    assert sample.transactions is not None
    raw = sample.transactions.rename(columns={"customer_id": "CustomerID",
                                              "timestamp": "Date", "amount": "Spend"})
    raw = raw.assign(Date=raw["Date"].dt.strftime("%d/%m/%Y"))
    raw.to_csv(tmp_path / "tx.csv", index=False)
    raw.to_parquet(tmp_path / "tx.parquet", index=False)
    columns = "customer_id=CustomerID,timestamp=Date,amount=Spend"
    for name in ("tx.csv", "tx.parquet"):
        out = tmp_path / name.replace(".", "_")
        assert main(["analyze", str(tmp_path / name), "--columns", columns, "--dayfirst",
                     "--out", str(out), "--quiet"]) == 0
        scores = pd.read_parquet(out / "scores.parquet")
        assert len(scores) == sample.n_customers
        csv = pd.read_csv(out / "scores.csv", index_col="customer_id", dtype={"customer_id": str})
        assert csv.index.tolist() == scores.index.tolist()
        assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
        assert not (out / "rules.csv").exists()
    printed = capsys.readouterr().out
    assert "report.html in a browser" in printed


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(tmp_path / "missing.csv"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "tx.csv").write_text("customer_id,timestamp,amount\na,2024-01-01,-5\n")
    assert main(["analyze", str(tmp_path / "tx.csv"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "allow_returns" in err
    assert "Traceback" not in err
    assert main(["analyze", str(tmp_path / "tx.csv"), "--columns", "customer_id",
                 "--out", str(tmp_path / "o")]) == 2
    assert "--columns takes" in capsys.readouterr().err


@pytest.mark.slow
def test_online_retail_rules(tmp_path: Path) -> None:
    """With baskets, rules.csv holds the rules of the association model, item for item."""
    from crmmodels.association import AssociationRulesModel
    from crmmodels.datasets import load_online_retail

    data = load_online_retail()
    result = analyze(data, name="Online Retail")
    assert result.rules is not None
    written = result.save(tmp_path)
    rules = pd.read_csv(written["rules.csv"])
    reference = AssociationRulesModel(min_support=0.01, min_confidence=0.5, min_lift=2.0,
                                      max_consequent_len=1).fit(data).rules_
    assert len(rules) == len(reference) > 0
    as_text = [", ".join(sorted(str(i) for i in items)) for items in reference["antecedents"]]
    assert rules["antecedents"].tolist() == as_text
    np.testing.assert_allclose(rules["lift"], reference["lift"])
    section = next(s for s in result.sections if s.key == "rules")
    assert section.skipped is None
    assert len(section.figures) == 1


@pytest.mark.slow
def test_cli_bundled_cdnow(tmp_path: Path) -> None:
    assert main(["analyze", "--out", str(tmp_path), "--quiet"]) == 0
    scores = pd.read_parquet(tmp_path / "scores.parquet")
    assert len(scores) == 23_570
