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
