"""Command line."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
import warnings

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


def _run_demo(*args: str) -> tuple[str, list[warnings.WarningMessage]]:
    """Run the demo; return its output and every warning it let out."""
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        assert main(["demo", *args]) == 0
    return out.getvalue(), caught


def _section(out: str, start: str, end: str) -> str:
    """Text from the line after the one holding ``start`` up to ``end``."""
    after = out.split(start, 1)[1].split("\n", 1)[1]
    return after.split(end, 1)[0]


def _table(text: str) -> list[list[str]]:
    """Rows of a printed frame: lines after the two header lines, split on 2+ spaces."""
    lines = [line for line in text.splitlines() if line.strip()]
    return [re.split(r"\s{2,}", line.strip()) for line in lines[2:]]


@pytest.fixture(scope="module")
def sample_demo() -> tuple[str, list[warnings.WarningMessage]]:
    return _run_demo("--sample")


STEPS = ("Loaded and validated CDNOW sample", "Customer summary", "Baseline:", "CLV:", "RFM:",
         "Churn:", "Cross-sell rules", "Next best action (IDIC)")


def test_demo_on_sample(sample_demo: tuple[str, list[warnings.WarningMessage]]) -> None:
    out, caught = sample_demo
    assert [str(w.message) for w in caught] == []
    # One line per step with its time, in order, then the total.
    steps = re.findall(r"^\[\s*(\d+\.\d\d) s\] (.*)$", out, flags=re.MULTILINE)
    assert [text for _, text in steps] == [
        next(t for _, t in steps if t.startswith(step)) for step in STEPS]
    assert len(steps) == len(STEPS)
    total = float(re.findall(r"^Total (\d+\.\d) s$", out, flags=re.MULTILINE)[0])
    assert sum(float(t) for t, _ in steps) <= total + 0.05
    assert "2,357 customers" in out
    assert "CLV: BG/NBD + Gamma-Gamma fitted on 2,357 customers" in out
    assert "duplicate_rows -> kept 21" in out
    assert "frequency" in out
    assert "monetary_value" in out
    # No model warned on CDNOW, so the demo has nothing to report; the missing
    # interactions are said in the next-best-action line itself.
    assert "note:" not in out
    assert "no interactions in the data, so every customer's channel is e-mail" in out


def test_demo_ends_with_the_next_best_action_table(
        sample_demo: tuple[str, list[warnings.WarningMessage]]) -> None:
    out, _ = sample_demo
    tail = out[out.index("Next best action (IDIC)"):]
    budget, customers, offers = re.findall(
        r"a budget of ([\d,]+) for ([\d,]+) customers; ([\d,]+) offers", tail)[0]
    assert customers == "2,357"
    # 10% of the customers at the dearest offer's cost (5.0), each offer costs 5.0.
    assert int(budget.replace(",", "")) == round(0.1 * 2357 * 5.0)
    assert int(offers.replace(",", "")) <= int(budget.replace(",", "")) // 5
    assert "The 10 actions of highest expected value" in tail
    assert "retention offer" in tail


def test_demo_shows_every_rfm_segment(
        sample_demo: tuple[str, list[warnings.WarningMessage]]) -> None:
    from crmmodels.datasets import load_cdnow_sample
    from crmmodels.segments import STANDARD_SEGMENTS, RFMModel

    out, _ = sample_demo
    header = next(line for line in out.splitlines() if "] RFM:" in line)
    section = _section(out, header, "\n\n")
    rows = {r[0]: int(r[1]) for r in _table(section)}
    assert set(rows) == set(STANDARD_SEGMENTS)
    data = load_cdnow_sample()
    counts = RFMModel().fit(data).score(data)["segment"].value_counts()
    assert rows == {s: int(counts.get(s, 0)) for s in STANDARD_SEGMENTS}
    empty = [s for s in STANDARD_SEGMENTS if rows[s] == 0]
    assert empty == ["Recent Customers"]
    assert header.endswith(f"standard 11-segment map on 2,357 customers; 10 segments hold "
                           f"customers, empty: {', '.join(empty)}")


def test_demo_churn_tables_say_what_they_rank(
        sample_demo: tuple[str, list[warnings.WarningMessage]]) -> None:
    out, _ = sample_demo
    deciles = _table(_section(out, "By risk decile (1 = the 10% most likely to churn, 10 = "
                                    "the 10% least", "\n\n"))
    assert [int(r[0]) for r in deciles] == list(range(1, 11))
    p_min = [float(r[2]) for r in deciles]
    p_max = [float(r[3]) for r in deciles]
    # Decile 1 is the riskiest: each decile's probabilities sit above the next one's.
    assert all(lo >= hi for lo, hi in zip(p_min[:-1], p_max[1:], strict=True))
    assert sum(int(r[1]) for r in deciles) == 2357

    top = _table(_section(out, "Top 10 customers by expected loss = P(churn) x CLV, largest "
                               "first", "\n\n"))
    assert [int(r[1]) for r in top] == list(range(1, 11))  # retention priority
    p = [float(r[2]) for r in top]
    decile = [int(r[3]) for r in top]
    clv = [float(r[4]) for r in top]
    loss = [float(r[5]) for r in top]
    assert loss == sorted(loss, reverse=True)
    for pi, ci, li in zip(p, clv, loss, strict=True):
        assert li == pytest.approx(pi * ci, abs=0.01 * ci)
    # Each customer's decile is the one whose probability range holds its P(churn).
    for pi, d in zip(p, decile, strict=True):
        assert p_min[d - 1] - 0.001 <= pi <= p_max[d - 1] + 0.001


@pytest.mark.slow
def test_demo_full_cdnow() -> None:
    out, caught = _run_demo()
    assert [str(w.message) for w in caught] == []
    assert "69,659 transactions of 23,570 customers" in out
    assert "note:" not in out


def test_demo_skips_rules_without_baskets(
        sample_demo: tuple[str, list[warnings.WarningMessage]]) -> None:
    out, _ = sample_demo
    assert "Cross-sell rules: skipped" in out


@pytest.mark.slow
def test_demo_online_retail_shows_rules() -> None:
    # Online Retail shows no sign of dropout at weekly resolution: BG/NBD warns, and the
    # demo reports it as one line of its own instead of letting the warning out.
    out, caught = _run_demo("--data", "online-retail")
    assert [str(w.message) for w in caught] == []
    notes = [line.strip() for line in out.splitlines() if "note:" in line]
    assert len(notes) == 1
    assert notes[0].startswith("note: ")
    assert "BetaGeoModel: a was driven to 0" in notes[0]
    clv_line = out.splitlines()[out.splitlines().index(notes[0].join(["          ", ""])) - 1]
    from crmmodels.datasets import load_online_retail

    retail = load_online_retail()  # cancelled orders removed with their cancellations
    n = retail.n_customers
    assert f"] CLV: BG/NBD + Gamma-Gamma fitted on {n:,} customers" in clv_line
    assert f"{n:,} customers" in out
    assert retail.transactions is not None
    assert f"{retail.transactions['transaction_id'].nunique():,} baskets" in out
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
