"""The analysis as one self-contained HTML page.

Everything the page shows is in the file: the style sheet is inline, the figures are
inline SVG with their text drawn as paths, and there is no script, font, image or
style sheet to fetch, so the page opens the same offline, from an e-mail or from a
file share. The template is rendered by jinja2 with autoescaping; only the SVG
markup, produced by matplotlib, and the tables, produced by pandas, are inserted as
markup.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crmmodels.errors import optional_dependency

if TYPE_CHECKING:
    from crmmodels.report.sections import Section

__all__ = ["render"]

_STYLE = """
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif;
       max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #1d2330;
       line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.3rem; border-bottom: 1px solid #d0d5de; padding-bottom: 0.2rem;
     margin-top: 2.2rem; }
.meta { color: #5b6475; font-size: 0.9rem; }
nav ol { columns: 2; font-size: 0.95rem; }
table { border-collapse: collapse; margin: 0.6rem 0 1.2rem; font-size: 0.85rem; }
th, td { border-bottom: 1px solid #e3e6ec; padding: 0.25rem 0.6rem; text-align: right; }
th { background: #f3f5f8; }
td:first-child, th:first-child { text-align: left; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 0.3rem 0; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #5b6475; font-size: 0.9rem; }
.notes { background: #fff8e6; border-left: 4px solid #e0a800; padding: 0.4rem 0.8rem;
         font-size: 0.85rem; }
.skipped { background: #f3f5f8; border-left: 4px solid #9aa3b2; padding: 0.4rem 0.8rem; }
.scroll { overflow-x: auto; }
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{{ style }}</style>
</head>
<body>
<header>
<h1>{{ title }}</h1>
<p class="meta">Written by crmmodels {{ version }} on {{ written }};
{{ n_customers }} customers. Per-customer scores are in scores.csv and
scores.parquet beside this page.</p>
</header>
<nav><ol>
{% for s in sections %}<li><a href="#{{ s.key }}">{{ s.title }}</a></li>
{% endfor %}</ol></nav>
<main>
{% for s in sections %}
<section id="{{ s.key }}" class="analysis-section">
<h2>{{ s.title }}</h2>
{% if s.skipped %}<p class="skipped">Not run: {{ s.skipped }}</p>{% endif %}
{% for paragraph in s.reading %}<p>{{ paragraph }}</p>
{% endfor %}
{% if s.notes %}<div class="notes"><p>The models noted:</p><ul>
{% for note in s.notes %}<li>{{ note }}</li>{% endfor %}
</ul></div>{% endif %}
{% for caption, table in s.tables %}<div class="scroll">{{ table | safe }}</div>
{% endfor %}
{% for caption, figure in s.figures %}<figure class="analysis-figure">
{{ figure | safe }}
<figcaption>{{ caption }}</figcaption>
</figure>
{% endfor %}
<p class="meta">{{ "%.1f" | format(s.seconds) }} s</p>
</section>
{% endfor %}
</main>
</body>
</html>
"""


def _number(value: float) -> str:
    """Format a float for a table: thousands with separators, small values to 3 digits."""
    if not np.isfinite(value):
        return "-"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 1 or value == 0:
        return f"{value:,.2f}"
    return f"{value:.3g}"


def _table(caption: str, frame: pd.DataFrame) -> str:
    """Return a frame as an HTML table with its caption (a RangeIndex is left out)."""
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column].dtype):
            shown[column] = [_number(v) for v in shown[column].to_numpy(dtype=np.float64)]
        elif pd.api.types.is_integer_dtype(shown[column].dtype):
            shown[column] = [f"{v:,}" for v in shown[column].to_numpy()]
    shown.columns = [str(c) for c in shown.columns]
    plain_index = isinstance(shown.index, pd.RangeIndex)
    html: str = shown.to_html(border=0, na_rep="-", escape=True, index=not plain_index,
                              classes="analysis-table")
    return html.replace('class="dataframe analysis-table">',
                        f'class="dataframe analysis-table">\n<caption>'
                        f"{_escape(caption)}</caption>", 1)


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def render(name: str, parts: Sequence[Section], n_customers: int) -> str:
    """Return the page of an analysis of ``n_customers`` customers made of ``parts``."""
    jinja2 = optional_dependency("jinja2", needed_for="the HTML report", extra="report")
    from importlib.metadata import PackageNotFoundError, version

    try:
        __version__ = version("crmmodels")
    except PackageNotFoundError:  # pragma: no cover - a source tree without metadata
        __version__ = "(unknown version)"

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(_TEMPLATE)
    sections = []
    for s in parts:
        sections.append({
            "key": s.key, "title": s.title, "skipped": s.skipped, "reading": s.reading,
            "notes": s.notes, "seconds": s.seconds,
            "tables": [(c, _table(c, t)) for c, t in s.tables],
            "figures": s.figures})
    title = "Customer analysis" + (f": {name}" if name else "")
    page: str = template.render(
        title=title, style=_STYLE, version=__version__,
        written=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        n_customers=f"{n_customers:,}", sections=sections)
    return page
