"""Rich notebook display: the escaped HTML a model shows in Jupyter.

Every model's ``_repr_html_`` (and ``_repr_mimebundle_``, which Jupyter asks first)
comes from :class:`~crmmodels.core.CRMModel` and renders :func:`model_html`: the class
name, whether the model is fitted, its hyper-parameters, then for a fitted model

* the tables the model adds through its ``_html_diagnostics()`` hook (the estimates and
  standard errors of the CLV models, the tiers of ABC, the stage counts of the
  lifecycle model, ...);
* a "Fit" table of every learned attribute holding one value (``log_likelihood_``,
  ``converged_``, ``n_customers_``, ...) and a folded list of the others;
* each fitted crmmodels sub-model (a CLV model's transaction and spend models), folded.

A model adds its own tables by overriding ``_html_diagnostics(self)``, which returns a
list of ``(heading, content)`` pairs, the content a DataFrame, a Series or text. The
hook must read the fitted state only (no writes) and stay cheap: it runs each time a
notebook shows the model.

:class:`HTMLCard` is the builder every card of crmmodels uses (models, identity
resolutions): every text it is given (headings, index labels, column names, values) is
escaped with :func:`html.escape`, because ids and column names come from user data.
The display never raises: a hook or a value that fails to render is replaced by a note.

Examples
--------
>>> from crmmodels.cltv import NaiveRateModel
>>> html = NaiveRateModel(horizon=26)._repr_html_()
>>> "NaiveRateModel" in html and "not fitted" in html and "horizon" in html
True
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

__all__ = ["HTMLCard", "Tone", "format_value", "model_html"]

#: The colour of a card's status badge.
Tone = Literal["ok", "warn", "bad", "neutral"]

#: What a model's ``_html_diagnostics`` hook returns: ``(heading, content)`` pairs.
Sections = list[tuple[str, "pd.DataFrame | pd.Series | str"]]

_STYLE: Final = (
    "<style>"
    ".crmmodels-repr{font-family:var(--jp-ui-font-family,-apple-system,'Segoe UI',"
    "Helvetica,Arial,sans-serif);font-size:12px;line-height:1.4;display:inline-block;"
    "max-width:100%;border:1px solid rgba(128,128,128,.45);border-radius:6px;"
    "padding:6px 10px;color:inherit}"
    ".crmmodels-repr .crm-title{font-size:13px;font-weight:600}"
    ".crmmodels-repr .crm-badge{display:inline-block;margin-left:8px;padding:0 7px;"
    "border-radius:9px;font-size:11px;font-weight:500;background:rgba(128,128,128,.18)}"
    ".crmmodels-repr .crm-ok{background:rgba(46,160,67,.18)}"
    ".crmmodels-repr .crm-warn{background:rgba(212,167,44,.25)}"
    ".crmmodels-repr .crm-bad{background:rgba(248,81,73,.22)}"
    ".crmmodels-repr details{margin:4px 0 0 0}"
    ".crmmodels-repr details details{margin-left:12px}"
    ".crmmodels-repr summary{cursor:pointer;font-weight:600}"
    ".crmmodels-repr table{border-collapse:collapse;margin:2px 0 4px 12px;"
    "font-variant-numeric:tabular-nums}"
    ".crmmodels-repr th,.crmmodels-repr td{padding:1px 8px;text-align:right;"
    "border-bottom:1px solid rgba(128,128,128,.25);white-space:nowrap}"
    ".crmmodels-repr th{font-weight:600}"
    ".crmmodels-repr tbody th{text-align:left}"
    ".crmmodels-repr p{margin:2px 0 4px 12px;white-space:pre-wrap}"
    ".crmmodels-repr .crm-note{opacity:.7;font-style:italic}"
    "</style>"
)
# Values longer than this are cut (with an ellipsis) in tables.
_WIDTH: Final = 80
# Containers of at most this many plain values are shown in full.
_SHORT: Final = 6
# Sub-models are shown this many levels deep (a CLV model inside IDIC is level 2).
_DEPTH: Final = 2


# ------------------------------------------------------------------ values
def _format_float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    if 1e3 <= abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _is_plain(value: object) -> bool:
    """Whether ``value`` is one plain value (number, text, date, None)."""
    return value is None or isinstance(
        value, bool | int | float | str | np.generic | dt.date | dt.timedelta | pd.Timedelta)


def _format(value: object, width: int) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return _format_float(float(value))
    if isinstance(value, str):
        return " ".join(value.split()) if "\n" in value else value
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else str(value)
    if isinstance(value, dt.date | dt.timedelta | pd.Timedelta | np.generic):
        return str(value)
    if isinstance(value, pd.DataFrame):
        return (f"DataFrame, {_count(value.shape[0], 'row')}, "
                f"{_count(value.shape[1], 'column')}")
    if isinstance(value, pd.Series | pd.Index):
        return f"{type(value).__name__}, {_count(len(value), 'value')}"
    if isinstance(value, np.ndarray):
        if value.ndim == 1 and value.size <= _SHORT:
            return "[" + ", ".join(_format(v, width) for v in value.tolist()) + "]"
        return f"array of shape {value.shape}"
    if isinstance(value, list | tuple | set | frozenset):
        if len(value) > _SHORT:  # only counted: a large learned set is not sorted
            return f"{type(value).__name__} of {_count(len(value), 'item')}"
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        if all(_is_plain(v) for v in items):
            inner = ", ".join(_format(v, width) for v in items)
            if isinstance(value, tuple):
                return f"({inner},)" if len(items) == 1 else f"({inner})"
            return f"{{{inner}}}" if isinstance(value, set | frozenset) else f"[{inner}]"
        return f"{type(value).__name__} of {_count(len(items), 'item')}"
    if isinstance(value, Mapping):
        if len(value) <= _SHORT // 2 and all(_is_plain(v) for v in value.values()):
            return "{" + ", ".join(f"{_format(k, width)}: {_format(v, width)}"
                                   for k, v in value.items()) + "}"
        return f"{type(value).__name__} of {_count(len(value), 'item')}"
    if callable(value) and hasattr(value, "__qualname__") and not hasattr(value, "get_params"):
        return str(value.__qualname__)
    # Estimators (scikit-learn's repr shows the parameters that differ from the
    # defaults) and anything else: the repr on one line.
    return " ".join(repr(value).split())


def format_value(value: object, width: int = _WIDTH) -> str:
    """Return ``value`` as the short plain text the HTML display shows (not escaped).

    Numbers: whole numbers with thousands separators, other numbers with four
    significant digits (``,.0f`` from 1,000 on); dates without a midnight time; frames,
    series and long containers by their size; estimators by their one-line repr. Text
    longer than ``width`` characters is cut with an ellipsis. Never raises.

    Parameters
    ----------
    value : object
        Any value.
    width : int, default 80
        The longest text returned.

    Returns
    -------
    str

    Examples
    --------
    >>> format_value(0.2425877), format_value(12345.678), format_value(2357)
    ('0.2426', '12,346', '2,357')
    >>> format_value(pd.Timestamp("1998-06-30")), format_value((30, 90, 180))
    ('1998-06-30', '(30, 90, 180)')
    >>> format_value(pd.DataFrame({"a": [1, 2]}))
    'DataFrame, 2 rows, 1 column'
    """
    try:
        text = _format(value, width)
    except Exception:  # a value whose repr or comparison fails: name its type
        text = f"{type(value).__name__} object"
    return text if len(text) <= width else text[: max(width - 1, 0)] + "\u2026"


# ------------------------------------------------------------------ the card
def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _label(value: object) -> str:
    """Escaped text of an index label or column name (tuples of a MultiIndex joined)."""
    if isinstance(value, tuple):
        return _esc(" / ".join(format_value(v) for v in value))
    return _esc(format_value(value))


class HTMLCard:
    """A titled card of tables and text, rendered as escaped HTML for notebooks.

    Each ``add_*`` method appends a section (folded with ``collapsed=True``) and
    returns the card. Every text, label and value is escaped, so user data (ids,
    column names) cannot inject markup; values are shown with :func:`format_value`.

    Parameters
    ----------
    title : str
        The card's title (a class name).
    status : str, default ""
        Text of the badge beside the title (``"fitted"``); none when empty.
    tone : {"ok", "warn", "bad", "neutral"}, default "neutral"
        The badge's colour.

    Examples
    --------
    >>> import pandas as pd
    >>> card = HTMLCard("Report", "2 issues", tone="warn")
    >>> card = card.add_table("Counts", {"rows": 1200, "<b>ids</b>": 3})
    >>> card = card.add_table("Top", pd.DataFrame({"n": [5, 3]}, index=["a", "b"]))
    >>> html = card.render()
    >>> "&lt;b&gt;ids&lt;/b&gt;" in html and "1,200" in html and "<b>" not in html
    True
    """

    def __init__(self, title: str, status: str = "", *, tone: Tone = "neutral") -> None:
        self.title = title
        self.status = status
        self.tone = tone
        self._sections: list[tuple[str, str, bool]] = []

    def add_table(
        self,
        heading: str,
        content: pd.DataFrame | pd.Series | Mapping[Any, Any],
        *,
        collapsed: bool = False,
        max_rows: int = 20,
        max_columns: int = 12,
    ) -> HTMLCard:
        """Append a table: a frame or series (with its index), or a mapping of name to value.

        Only the first ``max_rows`` rows and ``max_columns`` columns are rendered; a note
        counts the rest.

        Returns
        -------
        HTMLCard
            This card.
        """
        if isinstance(content, pd.Series):
            name = content.name if content.name is not None else "value"
            content = content.to_frame(name=name)
        if isinstance(content, pd.DataFrame):
            body = _frame_table(content, max_rows, max_columns)
        else:
            body = _mapping_table(content, max_rows)
        self._sections.append((heading, body, collapsed))
        return self

    def add_text(self, heading: str, text: str, *, collapsed: bool = False) -> HTMLCard:
        """Append a paragraph of plain text (escaped; line breaks kept).

        Returns
        -------
        HTMLCard
            This card.
        """
        self._sections.append((heading, f"<p>{_esc(text)}</p>", collapsed))
        return self

    def add_card(self, heading: str, card: HTMLCard, *, collapsed: bool = True) -> HTMLCard:
        """Append another card as a section (a sub-model), folded by default.

        Returns
        -------
        HTMLCard
            This card.
        """
        self._sections.append((heading, card._inner(), collapsed))
        return self

    def _head(self) -> str:
        badge = (f'<span class="crm-badge crm-{_esc(self.tone)}">{_esc(self.status)}</span>'
                 if self.status else "")
        return f'<span class="crm-title">{_esc(self.title)}</span>{badge}'

    def _inner(self) -> str:
        parts = [f"<div>{self._head()}</div>"] if self.title or self.status else []
        for heading, body, collapsed in self._sections:
            parts.append(f"<details{'' if collapsed else ' open'}><summary>{_esc(heading)}"
                         f"</summary>{body}</details>")
        return "".join(parts)

    def render(self) -> str:
        """Return the card as one HTML fragment (with its scoped style).

        Returns
        -------
        str
        """
        return f'{_STYLE}<div class="crmmodels-repr">{self._inner()}</div>'

    def _repr_html_(self) -> str:
        return self.render()


def _note(text: str) -> str:
    return f'<p class="crm-note">{_esc(text)}</p>'


def _frame_table(frame: pd.DataFrame, max_rows: int, max_columns: int) -> str:
    n_rows, n_cols = frame.shape
    shown = frame.iloc[:max_rows, :max_columns]
    index_names = list(shown.index.names)
    has_index_name = any(n is not None for n in index_names)
    head = "".join(f"<th>{_label(n) if n is not None else ''}</th>" for n in index_names)
    head += "".join(f"<th>{_label(c)}</th>" for c in shown.columns)
    rows = []
    values = shown.to_numpy(dtype=object)
    for label, row in zip(shown.index, values, strict=True):
        labels = label if isinstance(label, tuple) and shown.index.nlevels > 1 else (label,)
        cells = "".join(f"<th>{_label(v)}</th>" for v in labels)
        cells += "".join(f"<td>{_esc(format_value(v))}</td>" for v in row)
        rows.append(f"<tr>{cells}</tr>")
    table = (f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
             if n_cols or has_index_name else "")
    notes = []
    if n_rows == 0:
        notes.append("no rows")
    if n_rows > max_rows:
        notes.append(f"first {max_rows:,} of {n_rows:,} rows")
    if n_cols > max_columns:
        notes.append(f"first {max_columns:,} of {n_cols:,} columns")
    return table + (_note("; ".join(notes)) if notes else "")


def _mapping_table(mapping: Mapping[Any, Any], max_rows: int) -> str:
    items = list(mapping.items())
    rows = "".join(f"<tr><th>{_label(k)}</th><td>{_esc(format_value(v))}</td></tr>"
                   for k, v in items[:max_rows])
    table = f"<table><tbody>{rows}</tbody></table>" if rows else ""
    if not items:
        return table + _note("none")
    if len(items) > max_rows:
        return table + _note(f"first {max_rows:,} of {len(items):,}")
    return table


# ------------------------------------------------------------------ models
def _is_fitted(model: Any) -> bool:
    try:
        check = getattr(model, "__sklearn_is_fitted__", None)
        if callable(check):
            return bool(check())
        return any(k.endswith("_") and not k.startswith("_") for k in vars(model))
    except Exception:
        return False


def _is_model(value: object) -> bool:
    return hasattr(type(value), "_html_diagnostics") and callable(
        getattr(value, "get_params", None))


def _is_estimator(value: object) -> bool:
    return not isinstance(value, type) and callable(getattr(value, "get_params", None))


def _add_content(card: HTMLCard, heading: str, content: object) -> None:
    if isinstance(content, pd.DataFrame | pd.Series | Mapping):
        card.add_table(heading, content)
    else:
        card.add_text(heading, content if isinstance(content, str) else format_value(content))


def _failure(exc: BaseException) -> str:
    return f"could not be shown ({type(exc).__name__}: {exc})"


def _model_card(model: Any, depth: int = 0) -> HTMLCard:
    fitted = _is_fitted(model)
    card = HTMLCard(type(model).__name__, "fitted" if fitted else "not fitted",
                    tone="ok" if fitted else "neutral")
    try:
        params = model.get_params(deep=False)
    except Exception as exc:
        card.add_text("Parameters", _failure(exc))
    else:
        card.add_table("Parameters", params, max_rows=100)
    if not fitted:
        return card
    try:
        sections = list(model._html_diagnostics())
    except Exception as exc:
        sections = [("Diagnostics", _failure(exc))]
    for heading, content in sections:
        try:
            _add_content(card, str(heading), content)
        except Exception as exc:
            card.add_text(str(heading), _failure(exc))
    learned = {k: v for k, v in vars(model).items() if k.endswith("_") and not k.startswith("_")}
    scalars = {k: v for k, v in learned.items() if _is_plain(v)}
    others = {k: v for k, v in learned.items() if k not in scalars}
    if scalars:
        card.add_table("Fit", scalars, max_rows=100)
    for name, value in list(others.items()):
        if depth < _DEPTH and _is_model(value) and _is_fitted(value):
            del others[name]
            try:
                card.add_card(f"{name}: {type(value).__name__}", _model_card(value, depth + 1))
            except Exception as exc:
                card.add_text(name, _failure(exc), collapsed=True)
    if others:
        # Learned estimators by class name: scikit-learn's repr of a fitted ensemble
        # takes a long time to build.
        described = {k: f"{type(v).__name__} (fitted)" if _is_estimator(v) else v
                     for k, v in others.items()}
        card.add_table("Other fitted attributes", described, collapsed=True, max_rows=100)
    return card


def model_html(model: Any) -> str:
    """Return the HTML a notebook shows for ``model`` (what ``_repr_html_`` returns).

    The class name and whether the model is fitted; its hyper-parameters
    (``get_params(deep=False)``); for a fitted model the tables its
    ``_html_diagnostics()`` hook returns, a "Fit" table of the learned attributes
    holding one value, a folded list of the other learned attributes and each fitted
    sub-model, folded. Reads the model only: never writes to it, never scores data,
    never raises (what fails to render is replaced by a note, at worst the whole card by
    the model's escaped ``repr``).

    Parameters
    ----------
    model : CRMModel
        A fitted or unfitted model (any object with ``get_params``).

    Returns
    -------
    str
        An HTML fragment; every text in it is escaped.

    Examples
    --------
    >>> from crmmodels.cltv import BetaGeoModel
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> model = BetaGeoModel().fit(load_cdnow_sample())
    >>> html = model_html(model)
    >>> all(name in html for name in ["BetaGeoModel", "fitted", "log_likelihood_", "se"])
    True
    >>> format_value(model.params_["r"]) in html
    True
    """
    try:
        return _model_card(model).render()
    except Exception:
        try:
            text = repr(model)
        except Exception:
            text = f"{type(model).__name__} object"
        return f'{_STYLE}<div class="crmmodels-repr"><pre>{_esc(text)}</pre></div>'

