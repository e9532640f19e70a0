"""The report in a real headless Chromium: no console error, nothing fetched, all shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crmmodels.datasets import load_cdnow_sample
from crmmodels.report import analyze

pytest.importorskip("jinja2")
pytest.importorskip("matplotlib")


@pytest.mark.slow
def test_report_in_chromium(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    result = analyze(load_cdnow_sample(), name="CDNOW sample")
    page = result.save(tmp_path)["report.html"]
    browser.get(page.resolve().as_uri())
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert fetched == []  # no script, style sheet, font or image loaded
    sections = browser.find_elements(By.CSS_SELECTOR, "section.analysis-section")
    assert [s.get_attribute("id") for s in sections] == [s.key for s in result.sections]
    for element, section in zip(sections, result.sections, strict=True):
        heading = element.find_element(By.TAG_NAME, "h2")
        assert heading.is_displayed()
        assert heading.text == section.title
        figures = element.find_elements(By.CSS_SELECTOR, "figure.analysis-figure svg")
        assert len(figures) == len(section.figures)
        for svg in figures:
            box = browser.execute_script(
                "const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];",
                svg)
            assert box[0] > 100
            assert box[1] > 100
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
