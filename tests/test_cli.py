"""Command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from crmmodels.cli import main


def test_help() -> None:
    out = subprocess.run([sys.executable, "-m", "crmmodels.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "list-models" in out
    assert "demo" in out


def test_list_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list-models"]) == 0
    assert "naive_rate" in capsys.readouterr().out


def test_demo_on_sample(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--sample"]) == 0
    out = capsys.readouterr().out
    assert "2357 customers" in out
    assert "duplicate_rows -> kept 21" in out
    assert "frequency" in out
    assert "monetary_value" in out


@pytest.mark.slow
def test_demo_full_cdnow(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "23570 customers" in out


def test_demo_skips_rules_without_baskets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--sample"]) == 0
    out = capsys.readouterr().out
    assert "Cross-sell rules: skipped" in out
    # The churn table lists the customers by retention priority 1, 2, 3, ...
    table = out.split("Most valuable customers at risk")[1].split("Cross-sell")[0]
    rows = [line.split() for line in table.splitlines()[3:] if line.strip()]
    assert [int(r[4]) for r in rows] == list(range(1, 11))
    costs = [float(r[3]) for r in rows]
    assert costs == sorted(costs, reverse=True)


@pytest.mark.slow
def test_demo_online_retail_shows_rules(capsys: pytest.CaptureFixture[str]) -> None:
    from crmmodels.errors import ConvergenceWarning

    # Online Retail shows no sign of dropout at weekly resolution: BG/NBD says so.
    with pytest.warns(ConvergenceWarning, match="driven to 0"):
        assert main(["demo", "--data", "online-retail"]) == 0
    out = capsys.readouterr().out
    assert "4338 customers" in out
    assert "18,532 baskets" in out
    # Matching items of one product line dominate the top rules: pink -> green Regency
    # tea plates, with the confidence counted directly from the invoices.
    line = next(x for x in out.splitlines()
                if "REGENCY TEA PLATE PINK -> REGENCY TEA PLATE GREEN" in x)
    from crmmodels.datasets import load_online_retail

    tx = load_online_retail().transactions
    assert tx is not None
    desc = tx["description"].str.strip()
    pink = set(tx.loc[desc == "REGENCY TEA PLATE PINK", "transaction_id"])
    green = set(tx.loc[desc == "REGENCY TEA PLATE GREEN", "transaction_id"])
    assert f"{len(pink & green) / len(pink):.4f}" in line.split()


def test_demo_missing_dataset_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: object,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CRMMODELS_DATA_DIR", str(tmp_path))
    assert main(["demo", "--data", "online-retail"]) == 2
    assert "dataset 'online_retail' not found" in capsys.readouterr().err
