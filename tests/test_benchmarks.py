"""The benchmark scripts stay runnable: ``benchmarks/run_all.py --quick`` runs every one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_run_all_quick_writes_every_section(tmp_path: Path) -> None:
    pytest.importorskip("lifetimes")
    pytest.importorskip("mlxtend")
    data_dir = os.environ.get("CRMMODELS_DATA_DIR")
    if not data_dir or not Path(data_dir, "groceries").exists():
        pytest.skip("the Groceries and card-transaction data (CRMMODELS_DATA_DIR) are needed")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import run_all
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick",
                           "--output", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert "FAILED" not in text
    assert "- Machine: " in text
    assert "- Versions: python " in text
    starts = []
    for bench in run_all.BENCHES:
        heading = f"\n## {bench.title}\n"
        assert heading in text, f"no section for {bench.key}"
        starts.append(text.index(heading))
    assert starts == sorted(starts)
    for bench, start, stop in zip(run_all.BENCHES, starts, [*starts[1:], len(text)],
                                  strict=True):
        body = text[start:stop]
        assert "|---" in body or "| ---" in body, f"no table in the {bench.key} section"
    # Every script that compares with a reference reports a headline ratio.
    headlines = text.split("## Headline ratios", 1)[1].split("\n## ", 1)[0]
    assert headlines.count("**") >= 2 * 9
