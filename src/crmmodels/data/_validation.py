"""Vectorised validation of the transactions, customers and interactions frames.

The rules come from :mod:`crmmodels.data` (required fields and each field's
``kind``). Every check works on whole columns; identifiers are hashed once with
:func:`pandas.factorize` and the (few) distinct values are checked, which keeps 5M
rows in the seconds range.
"""

from __future__ import annotations

import datetime as dt
import difflib
import html
import re
import warnings
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from crmmodels.data.schemas import SCHEMAS, Channel, InteractionKind, field_kinds, required_fields
from crmmodels.errors import DataValidationError, InvalidParameterError, MissingColumnError

OnInvalid = Literal["raise", "drop"]
OnDuplicate = Literal["keep", "drop", "raise"]
OnUnknown = Literal["keep", "drop", "raise"]

#: The text read as True and as False in boolean columns (lower-cased, stripped).
BOOLEAN_TEXT: dict[str, bool] = {
    **dict.fromkeys(("true", "t", "yes", "y", "1", "1.0"), True),
    **dict.fromkeys(("false", "f", "no", "n", "0", "0.0"), False),
}
_TRUE = frozenset(k for k, v in BOOLEAN_TEXT.items() if v)
_FALSE = frozenset(k for k, v in BOOLEAN_TEXT.items() if not v)
#: A UTC offset (or "Z") after a time of day; "2011-12-09" has none.
_TZ_SUFFIX = re.compile(r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$",
                        re.IGNORECASE)


@dataclass(frozen=True)
class ReportEntry:
    """One line of a :class:`ValidationReport`.

    Attributes
    ----------
    frame, column, rule : str
        Where and which rule.
    action : {"coerced", "dropped", "kept", "info"}
        What was done with the rows.
    count : int
        How many rows (or values).
    rows : tuple
        Up to five example row labels.
    detail : str
        Human-readable explanation.
    """

    frame: str
    column: str
    rule: str
    action: str
    count: int
    rows: tuple[Hashable, ...] = ()
    detail: str = ""


@dataclass
class ValidationReport:
    """What validation coerced, dropped, kept or noticed, counted per frame and rule.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels import CRMData
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...                    "timestamp": ["2024-01-01", "2024-01-01", "2024-01-03"],
    ...                    "amount": [5.0, 5.0, 7.0]})
    >>> data = CRMData(transactions=tx, on_duplicate="drop")
    >>> data.report.count(rule="duplicate_rows", action="dropped")
    1
    """

    entries: list[ReportEntry] = field(default_factory=list)
    rows_in: dict[str, int] = field(default_factory=dict)
    rows_out: dict[str, int] = field(default_factory=dict)

    def add(
        self,
        frame: str,
        column: str,
        rule: str,
        action: str,
        count: int,
        rows: Sequence[Hashable] = (),
        detail: str = "",
    ) -> None:
        """Record one entry (entries with a zero count are skipped)."""
        if count:
            self.entries.append(
                ReportEntry(frame, column, rule, action, int(count), tuple(list(rows)[:5]), detail)
            )

    def count(
        self,
        frame: str | None = None,
        rule: str | None = None,
        action: str | None = None,
        column: str | None = None,
    ) -> int:
        """Total count of the entries matching every given filter."""
        return sum(
            e.count
            for e in self.entries
            if (frame is None or e.frame == frame)
            and (rule is None or e.rule == rule)
            and (action is None or e.action == action)
            and (column is None or e.column == column)
        )

    @property
    def n_dropped(self) -> int:
        """Rows dropped over all frames."""
        return self.count(action="dropped")

    @property
    def n_coerced(self) -> int:
        """Values coerced (parsed from text, ids turned into text, ...)."""
        return self.count(action="coerced")

    def to_frame(self) -> pd.DataFrame:
        """Return the entries as a DataFrame (one row per entry)."""
        cols = ["frame", "column", "rule", "action", "count", "rows", "detail"]
        return pd.DataFrame(
            [[e.frame, e.column, e.rule, e.action, e.count, list(e.rows), e.detail]
             for e in self.entries],
            columns=cols,
        )

    def __str__(self) -> str:
        lines = ["Validation report"]
        for name, n_in in self.rows_in.items():
            lines.append(f"  {name}: {n_in} rows in, {self.rows_out.get(name, 0)} rows out")
        if not self.entries:
            lines.append("  no issues found")
        for e in self.entries:
            lines.append(
                f"  {e.frame}.{e.column}: {e.rule} -> {e.action} {e.count}"
                + (f" ({e.detail})" if e.detail else "")
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Return the report as HTML for notebooks: verdict, counts, one row per entry.

        The badge reads "no issues" when validation changed nothing, else the number of
        entries (red when rows were dropped); a table gives each frame's rows in and
        out, another each entry (at most 50). Every text is escaped (column names and
        example row labels come from the data). Never raises.

        Examples
        --------
        >>> report = ValidationReport()
        >>> report.add("transactions", "<b>", "not_null", "dropped", 2, rows=["x"])
        >>> html = report._repr_html_()
        >>> "2 rows dropped" in html and "&lt;b&gt;" in html and "<b>" not in html
        True
        """
        try:
            return _report_html(self)
        except Exception:  # never fail a notebook cell; show the text instead
            try:
                text = str(self)
            except Exception:
                text = "ValidationReport"
            return f"<pre>{html.escape(text)}</pre>"


_ENTRY_COLUMNS = ("frame", "column", "rule", "action", "count", "example rows", "detail")
# The look of crmmodels.core.display.HTMLCard (data sits below core and cannot use it).
_REPORT_STYLE = (
    "<style>.crmmodels-repr{font-size:12px;line-height:1.4;display:inline-block;"
    "max-width:100%;border:1px solid rgba(128,128,128,.45);border-radius:6px;"
    "padding:6px 10px}.crmmodels-repr .crm-title{font-size:13px;font-weight:600}"
    ".crmmodels-repr .crm-badge{display:inline-block;margin-left:8px;padding:0 7px;"
    "border-radius:9px;font-size:11px}.crmmodels-repr .crm-ok{background:rgba(46,160,67,.18)}"
    ".crmmodels-repr .crm-warn{background:rgba(212,167,44,.25)}"
    ".crmmodels-repr .crm-bad{background:rgba(248,81,73,.22)}"
    ".crmmodels-repr summary{cursor:pointer;font-weight:600}"
    ".crmmodels-repr table{border-collapse:collapse;margin:2px 0 4px 12px}"
    ".crmmodels-repr th,.crmmodels-repr td{padding:1px 8px;text-align:right;"
    "border-bottom:1px solid rgba(128,128,128,.25)}.crmmodels-repr tbody th,"
    ".crmmodels-repr .crm-text{text-align:left}"
    ".crmmodels-repr p{margin:2px 0 4px 12px;opacity:.7;font-style:italic}</style>"
)
_MAX_ENTRIES = 50


def _html_table(header: Sequence[str], rows: Sequence[Sequence[object]],
                numeric: Sequence[bool]) -> str:
    """Escaped table: the first cell of each row is a row header."""
    text_class = ' class="crm-text"'
    head = "".join(f"<th{'' if is_number else text_class}>{html.escape(h)}</th>"
                   for h, is_number in zip(header, numeric, strict=True))
    body = []
    for row in rows:
        cells = [f"<th>{html.escape(str(row[0]))}</th>"]
        for value, is_number in zip(row[1:], numeric[1:], strict=True):
            text = f"{value:,}" if is_number and isinstance(value, int) else str(value)
            css = "" if is_number else text_class
            cells.append(f"<td{css}>{html.escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _report_html(report: ValidationReport) -> str:
    n = len(report.entries)
    dropped, coerced = report.n_dropped, report.n_coerced
    if not n:
        status, tone = "no issues", "ok"
    else:
        status = f"{n:,} issue" + ("" if n == 1 else "s")
        changes = [f"{dropped:,} rows dropped" if dropped else "",
                   f"{coerced:,} values coerced" if coerced else ""]
        status += "".join(f", {c}" for c in changes if c)
        tone = "bad" if dropped else "warn"
    parts = [_REPORT_STYLE, '<div class="crmmodels-repr"><div>',
             '<span class="crm-title">ValidationReport</span>',
             f'<span class="crm-badge crm-{tone}">{html.escape(status)}</span></div>']
    frames = list(dict.fromkeys([*report.rows_in, *report.rows_out]))
    if frames:
        rows = [[f, report.rows_in.get(f, 0), report.rows_out.get(f, 0),
                 report.count(frame=f, action="dropped"),
                 report.count(frame=f, action="coerced")]
                for f in frames]
        parts.append("<details open><summary>Rows</summary>"
                     + _html_table(["frame", "rows in", "rows out", "dropped", "coerced"],
                                   rows, [False, True, True, True, True])
                     + "</details>")
    if n:
        rows = [[e.frame, e.column, e.rule, e.action, e.count,
                 ", ".join(str(r) for r in e.rows), e.detail]
                for e in report.entries[:_MAX_ENTRIES]]
        table = _html_table(_ENTRY_COLUMNS, rows,
                            [False, False, False, False, True, False, False])
        more = (f"<p>first {_MAX_ENTRIES} of {n:,} entries</p>" if n > _MAX_ENTRIES else "")
        parts.append(f"<details open><summary>Entries</summary>{table}{more}</details>")
    else:
        parts.append("<p>validation changed nothing</p>")
    parts.append("</div>")
    return "".join(parts)


@dataclass
class _Problem:
    column: str
    rule: str
    mask: np.ndarray
    message: str


@dataclass
class FrameResult:
    """A validated frame and the factorised customer ids of its rows."""

    frame: pd.DataFrame
    codes: np.ndarray
    uniques: pd.Index


def _labels(index: pd.Index, mask: np.ndarray) -> list[Hashable]:
    pos = np.flatnonzero(mask)[:5]
    return [index[i] for i in pos]


def _check_id(
    s: pd.Series, column: str, problems: list[_Problem], report: ValidationReport, frame: str
) -> tuple[pd.Series, np.ndarray, pd.Index]:
    """Check identifiers: non-null, non-empty text; integers (or integral floats) become text.

    Returns the text column, each row's code and the distinct ids, sorted, so that
    ``ids[codes]`` is the column and per-customer results come out in id order.
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(s.cat.categories.dtype)
    # Python strings (object or python-backed "str" columns); Arrow-backed text is
    # factorised faster by pandas itself.
    if s.dtype == object or (s.dtype == "str" and getattr(s.dtype, "storage", "") == "python"):
        fast = _text_ids(s, column, problems)
        if fast is not None:
            return fast
    codes, uniques = _factorize(s)
    u = pd.Index(uniques)
    null_mask = codes < 0
    if null_mask.any():
        problems.append(
            _Problem(column, "not_null", null_mask, f"{column} must not be missing (NaN/None)")
        )

    def rows_of(bad_u: np.ndarray) -> np.ndarray:
        bad = np.zeros(len(s), bool)
        valid = codes >= 0
        bad[valid] = bad_u[codes[valid]]
        return bad

    # Work on the distinct values only.
    if pd.api.types.is_bool_dtype(u.dtype):
        problems.append(
            _Problem(column, "type", np.ones(len(s), bool), f"{column} must be text, not boolean")
        )
        return s, codes, u
    coerced = True
    if pd.api.types.is_float_dtype(u.dtype):
        vals = u.to_numpy(dtype=float)
        finite = np.isfinite(vals)
        if not finite.all():
            problems.append(_Problem(column, "finite", rows_of(~finite),
                                     f"{column} must not be infinite"))
        text_u = pd.Index(
            [str(int(v)) if f and v.is_integer() else str(v) for v, f in zip(vals, finite,
                                                                           strict=True)],
            dtype="str",
        )
    elif pd.api.types.is_integer_dtype(u.dtype):
        text_u = u.astype("str")
    elif pd.api.types.is_string_dtype(u.dtype) or u.dtype == object:
        if u.dtype == "str":
            non_text = np.zeros(len(u), bool)
        else:
            non_text = ~pd.Series(u).map(type).isin([str, np.str_]).to_numpy()
        try:
            if non_text.any():
                # Mixed objects (e.g. ints and strings): turn everything into text.
                conv = [
                    str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
                    for v in u.to_numpy(dtype=object)
                ]
                text_u = pd.Index(conv, dtype="str")
            else:
                text_u = u.astype("str")
                coerced = False
        except UnicodeEncodeError:
            # Arrow-backed text holds valid Unicode only; a lone surrogate is not.
            bad_u = np.array([isinstance(v, str) and not _encodable(v) for v in u],
                             dtype=bool)
            problems.append(_Problem(column, "unicode", rows_of(bad_u),
                                     f"{column} must be valid Unicode text (a value holds a "
                                     "lone surrogate)"))
            return s, codes, u
    else:
        text_u = u.astype("str")
    if pd.api.types.is_integer_dtype(u.dtype):
        empty_u = padded = np.zeros(len(text_u), dtype=bool)
    else:
        empty_u, padded = _blank_and_padded(np.asarray(text_u, dtype=object))
    # Surrounding whitespace is not part of an id (as in the record schemas).
    if padded.any():
        text_u = text_u.str.strip()
        coerced = True
    if empty_u.any():
        problems.append(_Problem(column, "non_empty", rows_of(empty_u),
                                 f"{column} must not be empty text"))
    # Distinct integers have distinct texts; other raw values may map to the same text
    # (1.0 and 1, 1 and "1", " a" and "a").
    distinct_text = pd.api.types.is_integer_dtype(u.dtype)
    if coerced:
        report.add(frame, column, "as_text", "coerced", int((~null_mask).sum()),
                   detail=f"{column} values turned into text")
    if coerced and not distinct_text:
        rank_u, final_uniques = _factorize(text_u, sort=True)
        final = pd.Index(final_uniques, dtype="str")
    else:
        order = argsort_text(text_u)
        final = text_u[order]
        rank_u = np.empty(len(order), dtype=np.intp)
        rank_u[order] = np.arange(len(order))
    new_codes = np.where(codes >= 0, rank_u[np.maximum(codes, 0)], -1)
    if coerced:
        lookup = np.empty(len(final) + 1, dtype=object)
        lookup[:-1] = np.asarray(final, dtype=object)
        values = pd.Series(lookup[new_codes], index=s.index, dtype="str")
        return values, new_codes, final
    out = s if s.dtype == "str" else s.astype("str")
    return out, new_codes, final


def _encodable(text: str) -> bool:
    """Whether ``text`` is valid Unicode (encodes as UTF-8: no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _blank_and_padded(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per text: empty or whitespace only; surrounded by whitespace (and not blank)."""
    n = len(texts)
    length = np.fromiter(map(len, texts), dtype=np.intp, count=n)
    kept = np.fromiter((len(t.strip()) for t in texts), dtype=np.intp, count=n)
    blank = kept == 0
    return blank, (kept != length) & ~blank


def _factorize(values: pd.Series | pd.Index, *, sort: bool = False
               ) -> tuple[np.ndarray, np.ndarray | pd.Index]:
    """``pandas.factorize``, with text holding NUL kept apart under pandas 2.

    pandas 2 hashes Python strings up to their first NUL, so ``"a"`` and ``"a<NUL>b"``
    would become one customer; such columns are factorised by Python's own equality.
    """
    if _PANDAS_2 and values.dtype == object:
        objects = values.to_numpy(dtype=object)
        if any(isinstance(v, str) and "\x00" in v for v in objects):
            null = pd.isna(objects)
            table: dict[object, int] = {}
            codes = np.array([-1 if n else table.setdefault(v, len(table))
                              for v, n in zip(objects, null, strict=True)], dtype=np.intp)
            uniques = np.array(list(table), dtype=object)
            if sort:
                order = np.array(sorted(range(len(uniques)), key=lambda i: uniques[i]),
                                 dtype=np.intp)
                rank = np.empty(len(order), dtype=np.intp)
                rank[order] = np.arange(len(order))
                codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1)
                uniques = uniques[order]
            return codes, uniques
    return pd.factorize(values, sort=sort, use_na_sentinel=True)


def _text_ids(s: pd.Series, column: str, problems: list[_Problem]
              ) -> tuple[pd.Series, np.ndarray, pd.Index] | None:
    """``_check_id`` for a column of ``str`` values, factorised by their UTF-8 bytes.

    Hashing packed bytes is several times faster than hashing Python strings. Returns
    None (the general path then runs) when a value is missing or not a ``str``, is
    longer than 64 bytes, contains NUL, or has surrounding whitespace.
    """
    values = s.to_numpy(dtype=object)
    packed = _pack_text(values)
    found = None if packed is None else _factorize_packed(packed[0])
    if packed is None or found is None:
        return None
    codes, first = found
    distinct = values[first]
    words = packed[0][first]
    if _blank_free(words):
        blank = packed[1][first] == 0
    else:
        blank, padded = _blank_and_padded(distinct)
        if padded.any():
            return None
    if blank.any():
        problems.append(_Problem(column, "non_empty", blank[codes],
                                 f"{column} must not be empty text"))
    order = _order_packed(words)
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    out = s if s.dtype == "str" else s.astype("str")
    return out, rank[codes], pd.Index(distinct[order], dtype="str")


def argsort_text(values: pd.Index) -> np.ndarray:
    """Argsort strings by code point (as Python compares them), fast when they are short.

    Strings of at most 64 UTF-8 bytes without NUL are packed into 64-bit words and
    sorted by those (several times faster than sorting Python strings); others fall
    back to a fixed-width or a Python sort. The sort is stable.

    Examples
    --------
    >>> import pandas as pd
    >>> argsort_text(pd.Index(["b10", "b9", "a"])).tolist()
    [2, 0, 1]
    """
    if not isinstance(values, pd.Index | pd.Series) or not (
            pd.api.types.is_string_dtype(values.dtype) or values.dtype == object):
        raise TypeError(f"argsort_text: values must be a pandas Index or Series of text, got "
                        f"{type(values).__name__}")
    if len(values) == 0:
        return np.zeros(0, dtype=np.intp)
    packed = _pack_text(np.asarray(values, dtype=object))
    if packed is not None:
        return _order_packed(packed[0])
    longest = int(values.str.len().max())
    if longest <= 64:
        return np.argsort(np.asarray(values, dtype=f"U{max(longest, 1)}"), kind="stable")
    return np.asarray(values.argsort(), dtype=np.intp)


_MIX = np.uint64(0x9E3779B97F4A7C15)


_WHITESPACE_BYTES = np.zeros(256, dtype=bool)
_WHITESPACE_BYTES[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True  # str.isspace in ASCII
_WHITESPACE_BYTES[128:] = True  # not ASCII: may be whitespace (U+00A0, ...)
_LONGEST_PACKED = 64  # bytes: longer ids are factorised by pandas
# _KEEP_BYTES[j]: a mask keeping the j leading (most significant) bytes of a word.
_KEEP_BYTES = np.array([0] + [(1 << 64) - (1 << (64 - 8 * j)) for j in range(1, 9)],
                       dtype=np.uint64)


def _pack_text(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Pack texts into words: NUL-padded UTF-8 bytes, big-endian, 8 to a ``uint64``.

    Comparing two rows of the words as tuples compares the texts by code point, as
    Python does (UTF-8 keeps that order, and a text holds no NUL).

    Parameters
    ----------
    values : ndarray of object
        ``str`` values of at most 64 UTF-8 bytes, without NUL.

    Returns
    -------
    (words, n_bytes) or None
        A ``(len(values), k)`` uint64 array and each text's length in bytes; None when a
        value is not a ``str`` (a missing value included), holds NUL or a lone
        surrogate, or is longer than 64 bytes.
    """
    n = len(values)
    if n == 0:
        return None
    try:
        raw = "\x00".join(values).encode("utf-8")
    except (TypeError, UnicodeEncodeError):
        return None
    buf = np.frombuffer(raw, dtype=np.uint8)
    size = len(values[0].encode("utf-8"))
    if len(buf) == n * (size + 1) - 1 and np.count_nonzero(buf == 0) == n - 1 and (
            size == 0 or not buf[size::size + 1].any()):
        # Every value has the same length: the bytes are a (n, size + 1) grid.
        width = max(8, -(-size // 8) * 8)
        if size > _LONGEST_PACKED:
            return None
        padded = np.zeros((n, width), dtype=np.uint8)
        padded[:, :size] = np.lib.stride_tricks.as_strided(
            buf, shape=(n, size), strides=(size + 1, 1), writeable=False)
        return padded.view(">u8").astype(np.uint64), np.broadcast_to(np.intp(size), (n,))
    ends = np.flatnonzero(buf == 0)
    if len(ends) != n - 1:  # a NUL inside a value
        return None
    starts = np.empty(n, dtype=np.intp)
    starts[0] = 0
    starts[1:] = ends + 1
    n_bytes = np.empty(n, dtype=np.intp)
    n_bytes[:-1] = ends - starts[:-1]
    n_bytes[-1] = len(buf) - starts[-1]
    longest = int(n_bytes.max())
    if longest > _LONGEST_PACKED:
        return None
    # The 8 bytes from every byte offset, as one big-endian word each (a strided view of
    # the buffer, padded so that the last offsets can be read too); a value's k-th word
    # is the word at its start + 8 k, with the bytes past its end masked out.
    padded_buf = np.concatenate([buf, np.zeros(8, dtype=np.uint8)])
    at = np.ndarray(shape=(len(buf) + 1,), dtype=">u8", buffer=padded_buf, strides=(1,))
    k = max(1, -(-longest // 8))
    words = np.empty((n, k), dtype=np.uint64)
    for j in range(k):
        keep = np.clip(n_bytes - 8 * j, 0, 8)
        words[:, j] = at[np.minimum(starts + 8 * j, len(buf))]
        words[:, j] &= _KEEP_BYTES[keep]
    return words, n_bytes


def _blank_free(words: np.ndarray) -> bool:
    """Whether packed texts are all ASCII without whitespace."""
    return not _WHITESPACE_BYTES[words.astype(">u8").view(np.uint8)].any()


def _factorize_packed(words: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Codes (first-appearance order) and the first row of each code, of packed texts.

    Several words are hashed into one key; the result is checked against every row's
    words, and None is returned in the (astronomically unlikely) case of a collision.
    """
    n, k = words.shape
    if k == 1:
        key = words[:, 0]
    else:
        key = words[:, 0].copy()
        with np.errstate(over="ignore"):
            for j in range(1, k):
                key *= _MIX
                key ^= words[:, j]
                key ^= key >> np.uint64(29)
    codes, _ = pd.factorize(key)
    # Codes are numbered in order of first appearance: a row is a code's first one
    # exactly when its code exceeds every earlier code.
    running = np.maximum.accumulate(codes)
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.greater(running[1:], running[:-1], out=new[1:])
    first = np.flatnonzero(new)
    if k > 1:
        rep = first[codes]
        for j in range(k):
            if not np.array_equal(words[rep, j], words[:, j]):
                return None
    return codes.astype(np.intp, copy=False), first


def _order_packed(words: np.ndarray) -> np.ndarray:
    """Argsort of packed texts by code point."""
    if words.shape[1] == 1:
        return np.argsort(words[:, 0], kind="stable")
    return np.lexsort(words.T[::-1])


def _duplicated(out: pd.DataFrame, id_col: str | None, codes: np.ndarray,
                keys: Sequence[Hashable] | None = None) -> np.ndarray:
    """Exact ``DataFrame.duplicated(keep="first")``, fast for large frames.

    Rows are hashed on their id codes and the numeric / datetime columns among ``keys``
    (default: all columns); the hashes are folded to 32 bits and sorted, and only rows
    whose folded hash occurs more than once are compared exactly, on every column, by
    pandas. Hashing fewer columns only lets more rows through to the exact comparison.
    """
    n = len(out)
    if n < 50_000:
        return _exact_duplicated(out)
    h = np.zeros(n, dtype=np.uint64)
    part = np.empty(n, dtype=np.uint64)
    shifted = np.empty(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in out.columns if keys is None else keys:
            series = out[col]
            if col == id_col:
                v = codes.astype(np.int64).view(np.uint64)
            elif pd.api.types.is_datetime64_any_dtype(series.dtype):
                v = series.to_numpy(dtype="datetime64[ns]").view(np.int64).view(np.uint64) \
                    if getattr(series.dtype, "tz", None) is None \
                    else series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(
                        dtype="datetime64[ns]").view(np.int64).view(np.uint64)
            elif pd.api.types.is_numeric_dtype(series.dtype) or \
                    pd.api.types.is_bool_dtype(series.dtype):
                f = series.to_numpy(dtype=np.float64, na_value=np.nan) + 0.0  # -0.0 -> 0.0
                f[np.isnan(f)] = np.nan
                v = f.view(np.uint64)
            else:
                continue
            # h = (h ^ (v + MIX + (h << 6) + (h >> 2))) * MIX, in place
            np.right_shift(h, np.uint64(2), out=part)
            np.add(part, v, out=part)
            np.add(part, _MIX, out=part)
            np.left_shift(h, np.uint64(6), out=shifted)
            np.add(part, shifted, out=part)
            np.bitwise_xor(h, part, out=h)
            np.multiply(h, _MIX, out=h)
    del part, shifted
    folded = (h ^ (h >> np.uint64(32))).astype(np.uint32)
    del h
    ordered = np.sort(folded)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    result = np.zeros(n, dtype=bool)
    if len(repeated) == 0:
        return result
    # Rows whose folded hash repeats: a first sieve on its top 24 bits (a 16 MB table
    # instead of a binary search per row), then an exact look-up of the few left.
    repeated = np.unique(repeated)
    sieve = np.zeros(1 << 24, dtype=bool)
    sieve[repeated >> np.uint32(8)] = True
    candidates = sieve[folded >> np.uint32(8)]
    maybe = np.flatnonzero(candidates)
    candidates[maybe] = np.isin(folded[maybe], repeated)
    if candidates.any():
        pos = np.flatnonzero(candidates)
        result[pos] = _exact_duplicated(out.iloc[pos])
    return result


def _exact_duplicated(frame: pd.DataFrame) -> np.ndarray:
    """``duplicated(keep="first")`` that also copes with unhashable cells (lists, dicts)."""
    try:
        return frame.duplicated(keep="first").to_numpy()
    except TypeError:
        hashable = frame.copy()
        for col in frame.columns:
            if frame[col].dtype == object:
                hashable[col] = frame[col].map(
                    lambda v: repr(v) if isinstance(v, list | dict | set) else v)
        return hashable.duplicated(keep="first").to_numpy()


# --------------------------------------------------------------------------- dates
#: The shape of day/month/year text once every digit is replaced by "9": day and month
#: (in either order), then the year (4 digits, or 2 after "/" or "."), then an optional
#: time of day (hours, minutes, optional seconds and fraction, optional AM/PM).
_DM_SHAPE = re.compile(
    r"(9{1,2})([/.-])(9{1,2})\2(9{4}|9{2})"
    r"(?:([ T])(9{1,2}):(99)(?::(99)(\.9{1,9})?)?( ?[AaPp][Mm])?)?"
)
#: Year-first dates with dashes (ISO 8601), read by pandas' ISO 8601 parser.
_ISO_SHAPE = re.compile(r"9{4}-9{1,2}-9{1,2}(?:[T ]|$)")
_ISO_START = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]|$)")
#: Longest text looked at when inferring a column's date format (longer is not a date).
_MAX_DATE_TEXT = 64
#: Distinct values turned into digit shapes at once (bounds the memory of the arrays).
_SHAPE_CHUNK = 200_000
_N_EXAMPLES = 3
_FAMILY_OTHER, _FAMILY_ISO, _FAMILY_DM = 0, 1, 2
#: ``infer_dtype`` answers of object columns that hold numbers rather than dates.
_NUMBER_KINDS = frozenset(
    ("integer", "floating", "mixed-integer-float", "decimal", "boolean", "complex")
)


def check_date_options(datetime_format: object, dayfirst: object) -> None:
    """Check the ``datetime_format=`` and ``dayfirst=`` options of :class:`CRMData`.

    Raises
    ------
    InvalidParameterError
        ``datetime_format`` is not text, ``dayfirst`` is not None / True / False, or
        both are given (a format already fixes the day/month order).

    Examples
    --------
    >>> check_date_options("%d/%m/%Y", None)
    >>> check_date_options("%d/%m/%Y", True)
    Traceback (most recent call last):
    ...
    crmmodels.errors.InvalidParameterError: give datetime_format= or dayfirst=, not both...
    """
    if datetime_format is not None and not isinstance(datetime_format, str):
        raise InvalidParameterError(
            f"datetime_format must be a strftime format such as '%d/%m/%Y', got "
            f"{datetime_format!r}"
        )
    if dayfirst is not None and not isinstance(dayfirst, bool | np.bool_):
        raise InvalidParameterError(f"dayfirst must be None, True or False, got {dayfirst!r}")
    if datetime_format is not None and dayfirst is not None:
        raise InvalidParameterError(
            "give datetime_format= or dayfirst=, not both: a format already fixes the "
            f"day/month order (got datetime_format={datetime_format!r}, dayfirst={dayfirst!r})"
        )


_PANDAS_2 = int(pd.__version__.partition(".")[0]) < 3


def _tz_status(values: pd.Series) -> pd.Series:
    """Per element: the timezone text (or '' for naive) of raw datetime-like values."""

    def one(v: object) -> str:
        if isinstance(v, pd.Timestamp | np.datetime64) or hasattr(v, "tzinfo"):
            tz = getattr(v, "tzinfo", None)
            return "" if tz is None else str(tz)
        if isinstance(v, str):
            m = _TZ_SUFFIX.search(v.strip())
            return m.group(1) if m else ""
        return ""

    return values.map(one)


def _to_datetime(raw: pd.Series, **kwargs: Any) -> pd.Series:
    """Return ``pandas.to_datetime(raw, **kwargs)``, mixed UTC offsets an error.

    pandas 3 raises on values with different offsets (unless ``utc=True``); pandas 2
    returns them as objects with a FutureWarning, and reads naive text after an aware
    first value in that value's offset. All become the ValueError of pandas 3.
    """
    if not _PANDAS_2:
        out = pd.to_datetime(raw, **kwargs)
    else:
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*mixed time zones",
                                    category=FutureWarning)
            try:
                out = pd.to_datetime(raw, **kwargs)
            except FutureWarning as exc:
                raise ValueError(f"mixed timezone offsets: {exc}") from None
    if out.dtype == object and out.notna().any():
        raise ValueError("mixed timezone offsets (tz-aware and tz-naive values)")
    if _PANDAS_2 and isinstance(out.dtype, pd.DatetimeTZDtype) and not kwargs.get("utc") \
            and not _is_datetime(raw):
        given = raw[raw.notna()]
        if (_tz_status(given) == "").any():
            raise ValueError("mixed tz-aware and tz-naive values")
    return out


def _source_kind(s: pd.Series) -> str:
    """Name what a column held: ``str`` for text (pandas 2 stores it as objects)."""
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) == "string":
        return "str"
    return str(s.dtype)


def _is_tz_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "timezone" in text or "tz-aware" in text or "tz-naive" in text or "offset" in text


def _value_kind(v: object) -> int:
    """0 for text, 1 for a date or datetime object, 2 for anything else."""
    if isinstance(v, str):
        return 0
    if isinstance(v, dt.date | np.datetime64):
        return 1
    return 2


def _split_objects(raw: pd.Series, nonnull: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the text values and of the values that are neither text nor dates."""
    none = np.zeros(len(raw), dtype=bool)
    if raw.dtype != object:
        if pd.api.types.is_string_dtype(raw.dtype):
            return nonnull, none
        return none, none
    inferred = pd.api.types.infer_dtype(raw, skipna=True)
    if inferred == "string":
        return nonnull, none
    if inferred in ("datetime", "datetime64", "date", "empty"):
        return none, none
    kinds = raw.map(_value_kind).to_numpy(dtype=np.int8)
    return nonnull & (kinds == 0), nonnull & (kinds == 2)


def _digit_shapes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each text with every digit replaced by '9', and its two leading numbers.

    Returns the shapes ('' for text too long to be a date) and the numbers written
    by the first one or two digits and by the one or two digits after the next
    character (the day and month fields of ``13/01/2011``; meaningless for other
    shapes). Vectorised: the distinct values become fixed-width code point arrays, in
    chunks, rewritten at once.
    """
    n = len(values)
    shapes = np.full(n, "", dtype=object)
    first = np.zeros(n, dtype=np.int64)
    second = np.zeros(n, dtype=np.int64)
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=n)
    short = np.flatnonzero((lengths > 0) & (lengths <= _MAX_DATE_TEXT))
    for start in range(0, len(short), _SHAPE_CHUNK):
        part = short[start:start + _SHAPE_CHUNK]
        text = np.array(values[part].tolist(), dtype=str)
        width = text.dtype.itemsize // 4
        points = text.view(np.uint32).reshape(len(part), width)
        digit = (points >= 48) & (points <= 57)
        lead = min(width, 5)  # "dd/mm" at most
        value = points[:, :lead].astype(np.int64) - 48
        zero = np.zeros(len(part), dtype=np.int64)
        first[part], end = _number_at(value, digit[:, :lead], zero)
        second[part], _ = _number_at(value, digit[:, :lead], end + 1)
        points[digit] = 57  # "0".."9" -> "9"
        shapes[part] = text.astype(object)
    return shapes, first, second


def _number_at(value: np.ndarray, digit: np.ndarray,
               pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Read, per row, the one- or two-digit number at ``pos``; return it and its end."""
    rows = np.arange(len(pos))
    width = value.shape[1]
    one = value[rows, np.minimum(pos, width - 1)]
    nxt = np.minimum(pos + 1, width - 1)
    two = (pos + 1 < width) & digit[rows, nxt]
    return np.where(two, one * 10 + value[rows, nxt], one), pos + 1 + two


def _dm_format(shape: re.Match[str], day_first: bool) -> str:
    """Build the strftime format of a day/month/year shape matched by ``_DM_SHAPE``."""
    sep = shape.group(2)
    first, second = ("%d", "%m") if day_first else ("%m", "%d")
    fmt = f"{first}{sep}{second}{sep}{'%Y' if len(shape.group(4)) == 4 else '%y'}"
    if shape.group(5) is not None:
        ampm = shape.group(10)
        fmt += f"{shape.group(5)}{'%I' if ampm else '%H'}:%M"
        if shape.group(8) is not None:
            fmt += ":%S"
        if shape.group(9) is not None:
            fmt += ".%f"
        if ampm:
            fmt += " %p" if ampm.startswith(" ") else "%p"
    return fmt


def _ambiguous_format(fmt: str) -> bool:
    """Whether a format reads day and month as numbers in an order other than Y-m-d."""
    if "%d" not in fmt or "%m" not in fmt:
        return False
    year, month, day = fmt.find("%Y"), fmt.find("%m"), fmt.find("%d")
    return not 0 <= year < month < day


def _examples(values: np.ndarray, codes: np.ndarray, index: pd.Index,
              which: np.ndarray) -> tuple[str, list[Hashable]]:
    """Up to ``_N_EXAMPLES`` of the distinct values ``which``, with a row label each."""
    chosen = np.flatnonzero(which)[:_N_EXAMPLES]  # codes follow first appearance
    labels = [index[int(np.argmax(codes == k))] for k in chosen]
    text = ", ".join(f"{values[k]!r} (row {label!r})"
                     for k, label in zip(chosen, labels, strict=True))
    return text, labels


def _infer_text_format(
    text: pd.Series, column: str, frame: str, dayfirst: bool | None
) -> tuple[str, str]:
    """Infer the one format of a column of text dates from all its (distinct) values.

    Returns the format for :func:`pandas.to_datetime` ("ISO8601" for year-first
    dates) and how it was chosen, for the report. Raises
    :class:`~crmmodels.errors.DataValidationError` when day and month cannot be
    told apart (every value has both at most 12) or the column mixes both orders.
    """
    codes, uniques = pd.factorize(text)
    values = np.asarray(uniques, dtype=object)
    counts = np.bincount(codes, minlength=len(values))
    digit_shapes, first, second = _digit_shapes(values)
    shape_codes, shapes = pd.factorize(digit_shapes)
    family = np.full(len(shapes), _FAMILY_OTHER, dtype=np.int8)
    dm_shapes: dict[int, re.Match[str]] = {}
    for k, shape in enumerate(shapes):
        m = _DM_SHAPE.fullmatch(shape)
        if m is not None and not (len(m.group(4)) == 2 and m.group(2) == "-"):
            family[k] = _FAMILY_DM
            dm_shapes[k] = m
        elif _ISO_SHAPE.match(shape):
            family[k] = _FAMILY_ISO
    family_u = family[shape_codes]
    rows = np.bincount(family_u, weights=counts, minlength=3)
    if rows[_FAMILY_DM] > 0 and rows[_FAMILY_DM] >= rows.max():
        is_dm = family_u == _FAMILY_DM
        return _day_month_format(values, codes, counts, text.index, shape_codes, dm_shapes,
                                 np.where(is_dm, first, -1), np.where(is_dm, second, -1),
                                 column, frame, dayfirst)
    if rows[_FAMILY_ISO] > 0 and rows[_FAMILY_ISO] >= rows[_FAMILY_OTHER]:
        return "ISO8601", ""
    sample = str(values[int(np.argmax(family_u == _FAMILY_OTHER))])
    with warnings.catch_warnings():
        # pandas warns when it reads a day-first value without dayfirst=True; a
        # format with numeric day and month is refused below anyway.
        warnings.simplefilter("ignore", UserWarning)
        guess = guess_datetime_format(sample)
    if guess is None or "%d" not in guess or not ("%Y" in guess or "%y" in guess):
        return "ISO8601", ""  # not dates: each value is reported as not parseable
    if _ambiguous_format(guess):
        raise DataValidationError(
            f"{column} has dates such as {sample!r} whose day/month order cannot be "
            "inferred; pass datetime_format= (e.g. '%d/%m/%Y %H:%M' or '%m/%d/%Y %H:%M')",
            frame=frame, column=column, rule="ambiguous_date_order",
            rows=[text.index[int(np.argmax(family_u[codes] == _FAMILY_OTHER))]],
            n_rows=int(rows[_FAMILY_OTHER]),
        )
    return guess, f"with format {guess!r} inferred from the column"


def _day_month_format(
    values: np.ndarray,
    codes: np.ndarray,
    counts: np.ndarray,
    index: pd.Index,
    shape_codes: np.ndarray,
    dm_shapes: dict[int, re.Match[str]],
    first: np.ndarray,
    second: np.ndarray,
    column: str,
    frame: str,
    dayfirst: bool | None,
) -> tuple[str, str]:
    """Settle the day/month order of day/month/year text, and build its format.

    ``first`` and ``second`` are each distinct value's first two fields (-1 for the
    values that are not day/month/year text).
    """
    is_dm = first >= 0
    day_first_only = is_dm & (first > 12) & (second <= 12)
    month_first_only = is_dm & (second > 12) & (first <= 12)
    rows_per_shape = np.bincount(shape_codes, weights=counts, minlength=max(dm_shapes) + 1)

    def fmt_for(day_first: bool) -> str:
        per_format: dict[str, float] = {}
        for k, shape in dm_shapes.items():
            f = _dm_format(shape, day_first)
            per_format[f] = per_format.get(f, 0.0) + rows_per_shape[k]
        return max(per_format, key=lambda f: per_format[f])

    if dayfirst is not None:
        day_first = bool(dayfirst)
        why = f"dayfirst={day_first}"
    else:
        n_day = int(counts[day_first_only].sum())
        n_month = int(counts[month_first_only].sum())
        if n_day and n_month:
            day_text, day_rows = _examples(values, codes, index, day_first_only)
            month_text, month_rows = _examples(values, codes, index, month_first_only)
            raise DataValidationError(
                f"{column} mixes day-first dates ({n_day} rows whose first field is above "
                f"12, e.g. {day_text}) and month-first dates ({n_month} rows whose second "
                f"field is above 12, e.g. {month_text}); one column must use one order. "
                f"Fix those rows, or pass datetime_format= (e.g. {fmt_for(True)!r}) or "
                "dayfirst= to read the column one way (the rows that do not fit are then "
                "reported as not dates)",
                frame=frame, column=column, rule="mixed_date_order",
                rows=day_rows + month_rows,
                n_rows=n_day + n_month,
            )
        if not n_day and not n_month:
            some, labels = _examples(values, codes, index, is_dm)
            raise DataValidationError(
                f"{column} has dates such as {some} whose day/month order cannot be "
                "inferred: no value has a first or second field above 12. Pass "
                f"datetime_format= (e.g. {fmt_for(True)!r} or {fmt_for(False)!r}) or "
                "dayfirst=True / False",
                frame=frame, column=column, rule="ambiguous_date_order",
                rows=labels, n_rows=int(counts[is_dm].sum()),
            )
        day_first = bool(n_day)
        n = max(n_day, n_month)
        why = (f"{'day' if day_first else 'month'} first: {n} "
               f"{'row has' if n == 1 else 'rows have'} a "
               f"{'first' if day_first else 'second'} field above 12")
    fmt = fmt_for(day_first)
    return fmt, f"with format {fmt!r} ({why})"


def _parse_dates(
    raw: pd.Series,
    nonnull: np.ndarray,
    fmt: str | None,
    column: str,
    problems: list[_Problem],
    report: ValidationReport,
    frame: str,
    *,
    tz_failed: bool = False,
) -> pd.Series | None:
    """Parse ``raw`` with the one format ``fmt``; flag what does not fit or mixes zones.

    ``tz_failed``: a strict parse already failed on mixed timezones. Returns None when
    the column cannot become a datetime column at all.
    """
    where = f" in the format {fmt!r}" if fmt not in (None, "ISO8601") else ""
    hint = " (pass datetime_format= if they are dates written another way" + (
        "; pandas 2 holds dates from 1677-09-21 to 2262-04-11 only)" if _PANDAS_2 else ")")
    out: pd.Series | None = None
    if not tz_failed:
        try:
            return _to_datetime(raw, format=fmt)
        except (ValueError, TypeError) as exc:
            if not _is_tz_error(exc):
                try:
                    out = _to_datetime(raw, format=fmt, errors="coerce")
                except (ValueError, TypeError) as exc2:
                    if not _is_tz_error(exc2):
                        raise
                    out = None
        if out is not None and out.dtype != object:
            unparsed = nonnull & out.isna().to_numpy()
            if unparsed.any():
                problems.append(_Problem(
                    column, "parseable", unparsed,
                    f"{column} has values that are not dates{where}{hint}",
                ))
            return out
    aware = (_tz_status(raw[nonnull]) != "").to_numpy()
    mixed = np.zeros(len(raw), bool)
    if aware.any() and not aware.all():
        # Naive and timezone-aware values together: ambiguous, an error.
        minority = aware if aware.sum() <= (~aware).sum() else ~aware
        mixed[np.flatnonzero(nonnull)] = minority
        majority = "timezone-aware" if minority is not aware else "naive"
        problems.append(_Problem(
            column, "single_timezone", mixed,
            f"{column} mixes naive and timezone-aware values (most rows: "
            f"{majority}); convert to one convention first, e.g. "
            "pandas.to_datetime(col, utc=True)",
        ))
        kwargs: dict[str, Any] = {}
    else:
        # Only the offsets differ (e.g. across daylight saving): the instants are
        # unambiguous, so express them in UTC and count the conversion.
        kwargs = {"utc": True}
        report.add(frame, column, "to_utc", "coerced", int(nonnull.sum()),
                   detail=f"{column} had several UTC offsets; converted to UTC")
    try:
        out = _to_datetime(raw.where(nonnull & ~mixed), format=fmt, errors="coerce",
                             **kwargs)
    except (ValueError, TypeError):  # pragma: no cover - defensive
        return None
    if out.dtype == object:  # pragma: no cover - defensive
        return None
    unparsed = nonnull & ~mixed & out.isna().to_numpy()
    if unparsed.any():
        problems.append(_Problem(column, "parseable", unparsed,
                                 f"{column} has values that are not dates{where}{hint}"))
    return out


def _check_datetime(
    s: pd.Series,
    column: str,
    problems: list[_Problem],
    report: ValidationReport,
    frame: str,
    datetime_format: str | None,
    required: bool,
    *,
    dayfirst: bool | None = None,
) -> pd.Series:
    """Check a datetime column; text is read with one format for the whole column.

    Datetime columns pass unchanged. Text is read with ``datetime_format`` when
    given; otherwise year-first (ISO 8601) text is read as such, and day/month/year
    text with the one order its values allow (or ``dayfirst``), never value by value.
    """
    if _is_datetime(s):
        out = s
    else:
        raw = s
        if isinstance(raw.dtype, pd.CategoricalDtype):
            raw = raw.astype(raw.cat.categories.dtype)
        numbers = pd.api.types.is_numeric_dtype(raw.dtype) or \
            pd.api.types.is_bool_dtype(raw.dtype) or (
                raw.dtype == object
                and pd.api.types.infer_dtype(raw, skipna=True) in _NUMBER_KINDS)
        if numbers:
            if datetime_format is None or pd.api.types.is_bool_dtype(raw.dtype):
                problems.append(_Problem(
                    column, "type", np.ones(len(s), bool),
                    f"{column} holds numbers, not dates; pass datetime_format= (e.g. '%Y%m%d') "
                    "or convert with pandas.to_datetime",
                ))
                return s
            raw = raw.astype("Int64").astype("str")
        nonnull = raw.notna().to_numpy()
        text, other = _split_objects(raw, nonnull)
        if other.any():
            problems.append(_Problem(column, "parseable", other,
                                     f"{column} has values that are neither text nor dates"))
            raw = raw.where(~other)
            nonnull = nonnull & ~other
        fmt, how = datetime_format, ""
        if datetime_format is not None:
            how = f"with format {datetime_format!r}"
        parsed: pd.Series | None = None
        tz_failed = False
        if fmt is None and text.any():
            first = raw.iloc[int(np.argmax(text))]
            if _ISO_START.match(first):
                # Fast path: year-first text throughout (ISO 8601).
                try:
                    parsed = _to_datetime(raw, format="ISO8601")
                    fmt = "ISO8601"
                except (ValueError, TypeError) as exc:
                    if _is_tz_error(exc):
                        fmt, tz_failed = "ISO8601", True
            if parsed is None and fmt is None:
                fmt, how = _infer_text_format(raw[text], column, frame, dayfirst)
        if parsed is None:
            parsed = _parse_dates(raw, nonnull, fmt, column, problems, report, frame,
                                  tz_failed=tz_failed)
            if parsed is None:  # pragma: no cover - defensive
                return s
        out = parsed
        n_parsed = int((nonnull & out.notna().to_numpy()).sum())
        report.add(frame, column, "parsed_datetime", "coerced", n_parsed,
                   detail=f"{column} parsed from {_source_kind(s)}" + (f" {how}" if how else ""))
    null = out.isna().to_numpy()
    if required and null.any():
        problems.append(_Problem(column, "not_null", null, f"{column} must not be missing"))
    return out


def _check_numeric(
    s: pd.Series,
    column: str,
    problems: list[_Problem],
    report: ValidationReport,
    frame: str,
    *,
    required: bool,
    allow_negative: bool,
) -> pd.Series:
    if pd.api.types.is_bool_dtype(s.dtype):
        problems.append(_Problem(column, "numeric", np.ones(len(s), bool),
                                 f"{column} must be numeric, not boolean"))
        return s
    bad = np.zeros(len(s), dtype=bool)
    if pd.api.types.is_numeric_dtype(s.dtype):
        out = s.astype("float64") if not pd.api.types.is_float_dtype(s.dtype) else s
    else:
        out = pd.to_numeric(s, errors="coerce")
        nonnull = s.notna().to_numpy()
        bad = nonnull & out.isna().to_numpy()
        if s.dtype == object:
            bad |= s.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(dtype=bool)
        if bad.any():
            problems.append(_Problem(column, "numeric", bad,
                                     f"{column} has values that are not numbers"))
        report.add(frame, column, "parsed_number", "coerced", int(nonnull.sum() - bad.sum()),
                   detail=f"{column} parsed from text")
        out = out.astype("float64")
    number_problems(out.to_numpy(dtype="float64", na_value=np.nan), column, problems,
                    required=required, allow_negative=allow_negative, unreadable=bad)
    return out


def number_problems(vals: np.ndarray, column: str, problems: list[_Problem], *,
                    required: bool, allow_negative: bool,
                    unreadable: np.ndarray | None = None) -> None:
    """Add the missing, infinite and negative values of a float column to ``problems``.

    ``unreadable`` marks values already reported as not numbers (not missing then).
    """
    missing = np.isnan(vals) if unreadable is None else np.isnan(vals) & ~unreadable
    if required and missing.any():
        problems.append(_Problem(column, "not_null", missing, f"{column} must not be missing"))
    inf = np.isinf(vals)
    if inf.any():
        problems.append(_Problem(column, "finite", inf, f"{column} must be finite"))
    if not allow_negative:
        neg = vals < 0
        if neg.any():
            hint = " (pass allow_returns=True if these are returns)" if column == "amount" else ""
            problems.append(_Problem(column, "non_negative", neg,
                                     f"{column} must not be negative{hint}"))


def _check_bool(
    s: pd.Series, column: str, problems: list[_Problem], report: ValidationReport, frame: str
) -> pd.Series:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s
    nonnull = s.notna().to_numpy()
    text = s.astype("str").str.strip().str.lower()
    t = text.isin(_TRUE).to_numpy() & nonnull
    f = text.isin(_FALSE).to_numpy() & nonnull
    bad = nonnull & ~(t | f)
    if bad.any():
        problems.append(_Problem(column, "boolean", bad,
                                 f"{column} must be true/false (or 1/0, yes/no)"))
    out = pd.Series(pd.array(np.where(t, True, False), dtype="boolean"), index=s.index)
    out[~(t | f)] = pd.NA
    if not pd.api.types.is_numeric_dtype(s.dtype) or s.isin([0, 1]).all():
        report.add(frame, column, "as_boolean", "coerced", int((t | f).sum()),
                   detail=f"{column} read as booleans")
    return out


def _check_enum(
    s: pd.Series,
    column: str,
    allowed: Sequence[str],
    problems: list[_Problem],
    report: ValidationReport,
    frame: str,
    required: bool,
) -> pd.Series:
    codes, uniques = pd.factorize(s)
    raw_u = pd.Index(uniques).astype("str")
    u = raw_u.str.strip().str.lower()
    ok_u = u.isin(list(allowed))
    changed_u = np.asarray(u != raw_u, dtype=bool) & np.asarray(ok_u, dtype=bool)
    if changed_u.any():
        valid_codes = codes[codes >= 0]
        report.add(frame, column, "as_enum", "coerced", int(changed_u[valid_codes].sum()),
                   detail=f"{column} values stripped and lower-cased to match the allowed values")
    lookup = np.asarray(u, dtype=object) if len(u) else np.array([None], dtype=object)
    values = lookup[np.maximum(codes, 0)]
    values[codes < 0] = None
    out = pd.Series(values, index=s.index, dtype="str")
    bad = np.zeros(len(s), bool)
    valid = codes >= 0
    bad[valid] = ~ok_u[codes[valid]]
    if bad.any():
        problems.append(_Problem(column, "allowed_values", bad, outside_message(
            column, [str(v) for v in u[~ok_u]], allowed)))
    if required and (~valid).any():
        problems.append(_Problem(column, "not_null", ~valid, f"{column} must not be missing"))
    return out


def outside_message(column: str, values: Sequence[str], allowed: Sequence[str]) -> str:
    """Say which values of ``column`` are not allowed, with a "did you mean" hint."""
    wrong = sorted(set(values))[:5]
    hints = {w: difflib.get_close_matches(w, allowed, n=1) for w in wrong}
    hint_txt = ", ".join(f"{w!r} -> {h[0]!r}?" for w, h in hints.items() if h)
    return (f"{column} has values {wrong!r} outside {list(allowed)!r}"
            + (f" ({hint_txt})" if hint_txt else "") + "; map them first or use 'other'")


def _check_text(s: pd.Series, column: str, report: ValidationReport, frame: str) -> pd.Series:
    if s.dtype == "str":
        return s
    if _PANDAS_2 and s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) == "string":
        return s  # pandas 2 holds text as objects: nothing to turn into text
    if pd.api.types.is_float_dtype(s.dtype):
        vals = s.to_numpy(dtype=float, na_value=np.nan)
        if np.all(np.isnan(vals) | (vals == np.round(vals))):
            s = s.astype("Int64")
    out = s.astype("str").where(s.notna().to_numpy())
    report.add(frame, column, "as_text", "coerced", int(s.notna().sum()),
               detail=f"{column} values turned into text")
    return out


def validate_frame(
    df: object,
    frame: str,
    report: ValidationReport,
    *,
    allow_returns: bool = False,
    on_invalid: OnInvalid = "raise",
    on_duplicate: OnDuplicate = "keep",
    observation_end: pd.Timestamp | None = None,
    future_limit: pd.Timestamp | None = None,
    datetime_format: str | None = None,
    dayfirst: bool | None = None,
) -> FrameResult:
    """Validate one frame against its schema and return a new, clean frame.

    The input is never modified: the result is a new frame whose validated
    columns are new Series objects (pandas copy-on-write keeps the rest shared
    until written).
    """
    schema = SCHEMAS[frame]
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(
            f"{frame} must be a pandas, polars, pyarrow or DuckDB table, got "
            f"{type(df).__name__}",
            frame=frame, rule="type",
        )
    kinds = field_kinds(schema)
    required = required_fields(schema)
    if isinstance(df.columns, pd.MultiIndex):
        raise DataValidationError(
            f"{frame} has MultiIndex columns; flatten them to single names first",
            frame=frame, rule="type",
        )
    out = df.copy(deep=False)
    if out.columns.has_duplicates:
        dup_cols = out.columns[out.columns.duplicated()].unique().tolist()
        raise DataValidationError(f"{frame} has duplicated column names {dup_cols!r}",
                                  frame=frame, column=str(dup_cols[0]), rule="unique_columns")
    # A required column given as the (named) index is accepted.
    for name in required:
        if name not in out.columns and name in (out.index.names or []):
            if out.index.nlevels == 1:
                # Keep the caller's labels (for error messages), drop the index name.
                out.insert(0, name, out.index.to_numpy())
                out.index = pd.Index(out.index.to_numpy())
            else:
                out = out.reset_index(level=name)
    for name in required:
        if name not in out.columns:
            raise MissingColumnError(frame, name, list(out.columns))
    if len(out) == 0:
        raise DataValidationError(f"{frame} is empty: give at least one row",
                                  frame=frame, rule="non_empty")
    report.rows_in[frame] = len(out)

    problems: list[_Problem] = []
    codes = np.zeros(0, dtype=np.intp)
    uniques: pd.Index = pd.Index([], dtype="str")
    for name, kind in kinds.items():
        if name not in out.columns:
            continue
        s = out[name]
        is_req = name in required
        if kind == "id":
            out[name], codes, uniques = _check_id(s, name, problems, report, frame)
        elif kind == "datetime":
            out[name] = _check_datetime(s, name, problems, report, frame, datetime_format, is_req,
                                        dayfirst=dayfirst)
        elif kind == "money":
            out[name] = _check_numeric(s, name, problems, report, frame, required=is_req,
                                       allow_negative=allow_returns)
        elif kind == "number":
            out[name] = _check_numeric(s, name, problems, report, frame, required=is_req,
                                       allow_negative=False)
        elif kind == "bool":
            out[name] = _check_bool(s, name, problems, report, frame)
        elif kind == "channel":
            out[name] = _check_enum(s, name, [c.value for c in Channel], problems, report,
                                    frame, is_req)
        elif kind == "interaction_kind":
            out[name] = _check_enum(s, name, [k.value for k in InteractionKind], problems,
                                    report, frame, is_req)
        elif kind == "text":
            out[name] = _check_text(s, name, report, frame)

    ts_col = "timestamp" if kinds.get("timestamp") == "datetime" and "timestamp" in out.columns \
        else None
    if ts_col is not None and _is_datetime(out[ts_col]):
        ts = out[ts_col]
        limit = observation_end if observation_end is not None else future_limit
        if limit is not None:
            tz = getattr(ts.dtype, "tz", None)
            if observation_end is None and tz is not None:
                # "Now" in the data's own zone (naive data are compared with local now).
                lim = pd.Timestamp.now(tz=tz)
            else:
                lim = _align_tz(limit, ts)
            if tz is None and lim.tzinfo is None:  # numpy: NaT is never later
                after = np.asarray(ts.to_numpy() > lim.to_datetime64(), dtype=bool)
            else:
                after = (ts > lim).to_numpy(dtype=bool, na_value=False)
            if after.any():
                what = "observation_end" if observation_end is not None else "now (future date)"
                problems.append(_Problem(
                    ts_col, "not_after_observation_end", after,
                    f"{ts_col} is after {what} {lim}; pass observation_end= to cut the data, "
                    "or fix the dates",
                ))

    if problems:
        drop = settle_problems(problems, frame, report, on_invalid,
                               lambda mask: _labels(out.index, mask))
        out = out.loc[~drop]
        codes = codes[~drop]
        if len(out) == 0:
            raise DataValidationError(
                f"every row of {frame} was invalid and dropped (see data.report)",
                frame=frame, rule="non_empty",
            )

    # Duplicate rows share their customer, time and amount: hashing those columns finds
    # the candidates, which are then compared on every column.
    keys = [name for name, kind in kinds.items()
            if kind in ("id", "datetime", "money") and name in out.columns]
    dup = _duplicated(out, "customer_id" if "customer_id" in out.columns else None, codes,
                      keys=keys or None)
    if settle_duplicates(dup, frame, report, on_duplicate, _labels(out.index, dup)):
        out = out.loc[~dup]
        codes = codes[~dup]
    # Compact the id codes to the ids still present.
    present = np.bincount(codes, minlength=len(uniques)) > 0
    if not present.all():
        remap = np.cumsum(present) - 1
        codes = remap[codes]
        uniques = uniques[present]
    report.rows_out[frame] = len(out)
    return FrameResult(out, codes.astype(np.intp, copy=False), uniques)


def settle_problems(problems: Sequence[_Problem], frame: str, report: ValidationReport,
                    on_invalid: OnInvalid,
                    labels: Callable[[np.ndarray], list[Hashable]]) -> np.ndarray:
    """Raise on the first problem, or count each in ``report``; the rows to drop.

    ``labels`` gives the row labels of a mask, for the error and the report.
    """
    if on_invalid == "raise":
        p = problems[0]
        raise DataValidationError(p.message, frame=frame, column=p.column, rule=p.rule,
                                  rows=labels(p.mask), n_rows=int(p.mask.sum()))
    drop = np.zeros(len(problems[0].mask), bool)
    for p in problems:
        fresh = p.mask & ~drop
        report.add(frame, p.column, p.rule, "dropped", int(fresh.sum()), labels(fresh),
                   p.message)
        drop |= p.mask
    return drop


def settle_duplicates(dup: np.ndarray, frame: str, report: ValidationReport,
                      on_duplicate: OnDuplicate, labels: list[Hashable]) -> bool:
    """Raise on duplicate rows, or count them in ``report``; whether to drop them."""
    n_dup = int(dup.sum())
    if not n_dup:
        return False
    if on_duplicate == "raise":
        raise DataValidationError(
            f"{frame} has {n_dup} exact duplicate rows; pass on_duplicate='keep' or 'drop'",
            frame=frame, rule="duplicate_rows", rows=labels, n_rows=n_dup,
        )
    action = "dropped" if on_duplicate == "drop" else "kept"
    report.add(frame, "*", "duplicate_rows", action, n_dup, labels, "exact duplicate rows")
    return on_duplicate == "drop"


def _is_datetime(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype)


def _align_tz(limit: pd.Timestamp, ts: pd.Series) -> pd.Timestamp:
    return align_timestamp(limit, getattr(ts.dtype, "tz", None), "observation_end")


def align_timestamp(value: object, tz: object, name: str) -> pd.Timestamp:
    """Parse ``value`` and express it in the data's timezone ``tz`` (None: naive data).

    A naive value given for timezone-aware data is read as wall time in that zone; an
    aware value is converted to it. An aware value for naive data is ambiguous and
    raises :class:`~crmmodels.errors.InvalidParameterError`.
    """
    from crmmodels.errors import InvalidParameterError

    try:
        ts = pd.Timestamp(value)  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise InvalidParameterError(f"{name} {value!r} is not a date") from exc
    if pd.isna(ts):
        raise InvalidParameterError(f"{name} must not be missing")
    if tz is not None:
        zone: Any = tz
        return ts.tz_localize(zone) if ts.tzinfo is None else ts.tz_convert(zone)
    if ts.tzinfo is not None:
        raise InvalidParameterError(
            f"{name} {ts} is timezone-aware but the timestamps are naive; give a naive "
            "date, or make the timestamps timezone-aware"
        )
    return ts


def whole_number(value: object, name: str, low: int = 1) -> int:
    """Return ``value`` as an int when it is a whole number >= ``low`` (not a bool).

    Raises
    ------
    InvalidParameterError
        Otherwise, naming the parameter.

    Examples
    --------
    >>> whole_number(3, "k")
    3
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer) or (
            value < low):
        raise InvalidParameterError(f"{name} must be a whole number >= {low}, got {value!r}")
    return int(value)
