"""The analysis on Spark: the CLV scores and rules of the one-machine analysis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData
from crmmodels.cli import main
from crmmodels.report import STEPS, analyze, analyze_spark
from crmmodels.report.on_spark import SPARK_SCORES
from tests.spark.conftest import collect, to_spark

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def retail_sample() -> pd.DataFrame:
    """Return a quarter of Online Retail's customers: baskets, returns, invoice ids."""
    from crmmodels.datasets import load_online_retail

    tx = load_online_retail(clean=False).transactions
    assert tx is not None
    keep = sorted(tx["customer_id"].unique())[::4]
    return tx[tx["customer_id"].isin(keep)][
        ["customer_id", "timestamp", "amount", "transaction_id", "product_id"]
    ].reset_index(drop=True)


@pytest.fixture(scope="module")
def both(spark: Any, retail_sample: pd.DataFrame) -> tuple[Any, Any]:
    ref = analyze(CRMData(transactions=retail_sample, allow_returns=True), name="retail")
    got = analyze_spark(to_spark(spark, retail_sample), name="retail", allow_returns=True)
    return ref, got


def test_scores_and_rules_equal_the_one_machine_analysis(both: tuple[Any, Any]) -> None:
    ref, got = both
    expected = ref.scores[list(SPARK_SCORES)].dropna(subset=["clv"])
    scores = collect(got.scores)
    assert got.n_customers == len(scores) == len(expected)
    assert scores.index.tolist() == expected.index.tolist()
    # The weighted fit on counts and the fit on customers add the same terms in another
    # order. On these 1,077 customers BG/NBD's likelihood is nearly flat along a ridge
    # of (r, alpha): the two fits stop at points of the same log-likelihood (to 1e-11)
    # whose scores agree to about 1e-5.
    for column in SPARK_SCORES:
        np.testing.assert_allclose(scores[column].to_numpy(), expected[column].to_numpy(),
                                   rtol=1e-4, err_msg=column)
    assert got.rules is not None
    assert ref.rules is not None
    assert len(got.rules) == len(ref.rules) > 0
    assert got.rules["antecedents"].tolist() == ref.rules["antecedents"].tolist()
    np.testing.assert_allclose(got.rules["lift"].to_numpy(), ref.rules["lift"].to_numpy(),
                               rtol=1e-12)


def test_sections_say_what_ran_on_spark(both: tuple[Any, Any]) -> None:
    ref, got = both
    assert [s.key for s in got.sections] == [key for key, _, _ in STEPS]
    ran = {s.key for s in got.sections if s.skipped is None}
    assert ran == {"validation", "clv", "rules"}
    for section in got.sections:
        if section.skipped:
            assert "runs on one machine" in section.skipped
    clv = next(s for s in got.sections if s.key == "clv")
    ref_clv = next(s for s in ref.sections if s.key == "clv")
    # The same reading of the same model (to the optimiser's last digits) and its figure.
    assert clv.reading[0].split(" they expect ")[0] == ref_clv.reading[0].split(
        " they expect ")[0]
    assert clv.reading[0].endswith(ref_clv.reading[0][-40:])
    assert len(clv.figures) == 1
    page = got.to_html()
    assert "<script" not in page
    assert "runs on one machine" in page


def test_command_line_engine_spark(spark: Any, retail_sample: pd.DataFrame,
                                   tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tx.parquet"
    retail_sample.to_parquet(path)
    out = tmp_path / "report"
    assert main(["analyze", str(path), "--engine", "spark", "--allow-returns", "--quiet",
                 "--out", str(out)]) == 0
    scores = pd.read_parquet(out / "scores.parquet")
    assert list(scores.columns) == ["customer_id", *SPARK_SCORES]
    assert (out / "report.html").is_file()
    assert (out / "rules.csv").is_file()
    csv = tmp_path / "tx.csv"
    retail_sample.to_csv(csv, index=False)
    assert main(["analyze", str(csv), "--engine", "spark", "--out", str(out)]) == 2
    assert "reads Parquet" in capsys.readouterr().err
    assert main(["analyze", str(path), "--engine", "spark", "--date-format", "%Y",
                 "--out", str(out)]) == 2
