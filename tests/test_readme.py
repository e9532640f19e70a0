"""The README quickstart runs as written (on Online Retail data written to a CSV)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_readme_starts_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    first_block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert first_block is not None
    assert text.index("```bash") < 40
    lines = [ln.split("#")[0].strip() for ln in first_block.group(1).splitlines()]
    assert lines[:2] == ["make demo", "make test"]


def test_quickstart_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmmodels.datasets import load_online_retail

    tx = load_online_retail().transactions
    assert tx is not None
    raw = tx.rename(columns={"customer_id": "CustomerID", "timestamp": "InvoiceDate",
                             "amount": "Spend"})[["CustomerID", "InvoiceDate", "Spend"]]
    some = raw["CustomerID"].drop_duplicates().iloc[:300]
    raw[raw["CustomerID"].isin(some)].to_csv(tmp_path / "transactions.csv", index=False)
    code = re.search(r"## Quickstart\n\n```python\n(.*?)```", (ROOT / "README.md").read_text(),
                     re.S)
    assert code is not None
    assert len(code.group(1).splitlines()) <= 20
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"print": lambda *a, **k: None}
    exec(compile(code.group(1), "README.md", "exec"), namespace)
    scores = namespace["scores"]
    same = namespace["same"]
    assert isinstance(scores, pd.DataFrame)
    assert scores.index.name == "customer_id"
    pd.testing.assert_frame_equal(same.score(namespace["data"]), scores)  # type: ignore[attr-defined]
    split = namespace["split"]
    assert isinstance(split, pd.DataFrame)
    assert {"frequency_holdout", "duration_holdout"} <= set(split.columns)
