"""docs/quickstart.md runs, and prints exactly the output shown on the page.

Each ```python block of the page is run in one namespace, in page order; the ```text
block that follows it is its printed output (a python block without one must print
nothing). Whitespace is normalised: runs of spaces and tabs become one space, and
trailing whitespace and blank lines at the ends are dropped.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import matplotlib

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "quickstart.md"

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def _normalise(text: str) -> str:
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.strip().splitlines()]
    return "\n".join(lines)


def code_and_output(markdown: str) -> list[tuple[str, str]]:
    """Return (python code, expected output) pairs in page order."""
    blocks = [(m.group(1), m.group(2)) for m in _FENCE.finditer(markdown)]
    pairs: list[tuple[str, str]] = []
    for i, (language, body) in enumerate(blocks):
        if language != "python":
            continue
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        expected = following[1] if following is not None and following[0] == "text" else ""
        pairs.append((body, expected))
    return pairs


def test_the_page_has_code_with_output() -> None:
    pairs = code_and_output(PAGE.read_text(encoding="utf-8"))
    assert len(pairs) >= 4
    assert all(expected for _, expected in pairs)


def test_quickstart_prints_what_the_page_shows() -> None:
    matplotlib.use("Agg")
    namespace: dict[str, object] = {"__name__": "quickstart"}
    for number, (code, expected) in enumerate(code_and_output(PAGE.read_text("utf-8")), 1):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"quickstart.md block {number}", "exec"), namespace)
        assert _normalise(printed.getvalue()) == _normalise(expected), (
            f"block {number} of docs/quickstart.md prints something else than the page "
            f"shows:\n{printed.getvalue()}")
