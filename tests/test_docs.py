"""Documentation builds cleanly and covers every built-in model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crmmodels.core.registry import _BUILTIN, get_model

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mkdocs_builds_strict(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "index.html").is_file()
    assert (tmp_path / "data-model" / "index.html").is_file()


@pytest.mark.parametrize("name", sorted(_BUILTIN))
def test_every_builtin_model_has_a_docs_page_and_a_notebook(name: str) -> None:
    cls_name = get_model(name).__name__
    pages = [p for p in (ROOT / "docs" / "models").glob("*.md") if cls_name in p.read_text()]
    assert pages, f"no page in docs/models/ documents {cls_name}"
    notebooks = [p for p in (ROOT / "notebooks").glob("*.ipynb") if cls_name in p.read_text()]
    assert notebooks, f"no notebook in notebooks/ uses {cls_name}"
