"""Every model page shows a figure, and docs/make_figures.py draws them.

The figures in docs/images/ are drawn by docs/make_figures.py with crmmodels' own
plotting functions; the pages reference them as ``![...](../images/name.png)``.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
IMAGES = DOCS / "images"
SCRIPT = DOCS / "make_figures.py"
MODEL_PAGES = sorted((DOCS / "models").glob("*.md"))

_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def images_of(page: Path) -> list[Path]:
    """Return the local images a markdown page references, resolved to paths."""
    return [(page.parent / ref).resolve() for ref in _IMAGE.findall(page.read_text("utf-8"))
            if "://" not in ref]


def png_size(path: Path) -> tuple[int, int]:
    """Return (width, height) of a PNG file from its header."""
    head = path.read_bytes()[:24]
    assert head[:8] == _PNG_SIGNATURE, f"{path.name} is not a PNG file"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def run_script(out: Path, *names: str) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, str(SCRIPT), "--out", str(out)]
    if names:
        args += ["--only", *names]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False,
                          env=env, timeout=600)


def test_there_are_model_pages() -> None:
    assert len(MODEL_PAGES) >= 20


@pytest.mark.parametrize("page", MODEL_PAGES, ids=lambda p: p.stem)
def test_every_model_page_shows_an_existing_figure(page: Path) -> None:
    images = images_of(page)
    assert images, f"{page.name} references no image"
    for image in images:
        assert image.is_file(), f"{page.name} references a missing image: {image}"
        assert image.parent == IMAGES.resolve(), f"{page.name}: {image} is not in docs/images"


def test_every_image_referenced_anywhere_in_the_docs_exists() -> None:
    for page in DOCS.rglob("*.md"):
        for image in images_of(page):
            assert image.is_file(), f"{page.relative_to(DOCS)} references {image}, missing"


def test_the_figures_are_small_pngs_at_about_100_dpi() -> None:
    for page in MODEL_PAGES:
        for image in images_of(page):
            assert image.stat().st_size < 200_000, f"{image.name} is larger than 200 kB"
            width, height = png_size(image)
            # 6.4 x 4 to 10 x 6 inches at 100 dpi
            assert 400 <= width <= 1100, (image.name, width)
            assert 250 <= height <= 700, (image.name, height)


def test_the_script_lists_its_figures() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--list"], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    names = result.stdout.split()
    assert {"beta_geo", "rfm", "abc", "uplift_metrics"} <= set(names)


def test_the_script_draws_figures_into_a_directory(tmp_path: Path) -> None:
    result = run_script(tmp_path, "abc", "shifted_beta_geo")
    assert result.returncode == 0, result.stderr[-2000:]
    drawn = sorted(p.name for p in tmp_path.glob("*.png"))
    assert drawn == ["abc_pareto.png", "sbg_survival.png"]
    for name in drawn:
        assert png_size(tmp_path / name) == png_size(IMAGES / name)


@pytest.mark.slow
def test_the_script_draws_every_figure_the_model_pages_show(tmp_path: Path) -> None:
    result = run_script(tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    shown = {image.name for page in MODEL_PAGES for image in images_of(page)}
    drawn = {p.name for p in tmp_path.glob("*.png")}
    assert shown <= drawn, f"not drawn by docs/make_figures.py: {sorted(shown - drawn)}"
    for name in shown:
        assert png_size(tmp_path / name) == png_size(IMAGES / name), name
