"""Vectorised validation of the transactions, customers and interactions frames.

The rules come from :mod:`crmmodels.data` (required fields and each field's
``kind``). Every check works on whole columns; identifiers are hashed once with
:func:`pandas.factorize` and the (few) distinct values are checked, which keeps 5M
rows in the seconds range.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

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
_TZ_SUFFIX = re.compile(r"(Z|[+-]\d{2}(:?\d{2})?)$")


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
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
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
    else:
        text_u = u.astype("str")
    empty_u = np.asarray(text_u.str.len() == 0, dtype=bool) | np.asarray(
        text_u.str.isspace(), dtype=bool
    )
    # Surrounding whitespace is not part of an id (as in the record schemas).
    padded = np.asarray(text_u.str.len() != text_u.str.strip().str.len(), dtype=bool) & ~empty_u
    if padded.any():
        text_u = text_u.str.strip()
        coerced = True
    if empty_u.any():
        problems.append(_Problem(column, "non_empty", rows_of(empty_u),
                                 f"{column} must not be empty text"))
    if coerced:
        report.add(frame, column, "as_text", "coerced", int((~null_mask).sum()),
                   detail=f"{column} values turned into text")
        # Different raw values may map to the same text (1 and "1"): re-factorise.
        rank_u, final_uniques = pd.factorize(text_u, sort=True)
        final = pd.Index(final_uniques, dtype="str")
    else:
        order = _argsort_text(text_u)
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


def _argsort_text(values: pd.Index) -> np.ndarray:
    """Argsort distinct strings by code point (as Python compares them), fast when short."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.intp)
    longest = int(values.str.len().max())
    if longest <= 64:
        return np.argsort(np.asarray(values, dtype=f"U{max(longest, 1)}"), kind="stable")
    return np.asarray(values.argsort(), dtype=np.intp)


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _duplicated(out: pd.DataFrame, id_col: str | None, codes: np.ndarray) -> np.ndarray:
    """Exact ``DataFrame.duplicated(keep="first")``, fast for large frames.

    Rows are hashed on their id codes and numeric / datetime columns; only rows whose
    hash occurs more than once are compared exactly, column by column, by pandas.
    """
    n = len(out)
    if n < 50_000:
        return _exact_duplicated(out)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in out.columns:
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
            h = (h ^ (v + _MIX + (h << np.uint64(6)) + (h >> np.uint64(2)))) * _MIX
    candidates = pd.Series(h).duplicated(keep=False).to_numpy()
    result = np.zeros(n, dtype=bool)
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


def _tz_status(values: pd.Series) -> pd.Series:
    """Per element: the timezone text (or '' for naive) of raw datetime-like values."""

    def one(v: object) -> str:
        if isinstance(v, pd.Timestamp | np.datetime64) or hasattr(v, "tzinfo"):
            tz = getattr(v, "tzinfo", None)
            return "" if tz is None else str(tz)
        if isinstance(v, str):
            m = _TZ_SUFFIX.search(v.strip())
            return m.group(0) if m else ""
        return ""

    return values.map(one)


def _is_tz_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "timezone" in text or "tz-aware" in text or "tz-naive" in text or "offset" in text


def _check_datetime(
    s: pd.Series,
    column: str,
    problems: list[_Problem],
    report: ValidationReport,
    frame: str,
    datetime_format: str | None,
    required: bool,
) -> pd.Series:
    if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype):
        out = s
    else:
        raw = s
        if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            if datetime_format is None:
                problems.append(_Problem(
                    column, "type", np.ones(len(s), bool),
                    f"{column} holds numbers, not dates; pass datetime_format= (e.g. '%Y%m%d') "
                    "or convert with pandas.to_datetime",
                ))
                return s
            raw = s.astype("Int64").astype("str")
        nonnull = raw.notna().to_numpy()
        out_or_none: pd.Series | None
        try:
            out_or_none = pd.to_datetime(raw, format=datetime_format)
        except (ValueError, TypeError) as exc:
            if not _is_tz_error(exc):
                try:
                    out_or_none = pd.to_datetime(raw, format=datetime_format or "mixed",
                                                 errors="coerce")
                except (ValueError, TypeError) as exc2:
                    if not _is_tz_error(exc2):
                        raise
                    out_or_none = None
            else:
                out_or_none = None
            if out_or_none is not None and out_or_none.dtype != object:
                unparsed = nonnull & out_or_none.isna().to_numpy()
                if unparsed.any():
                    problems.append(_Problem(
                        column, "parseable", unparsed,
                        f"{column} has values that are not dates"
                        + (f" in format {datetime_format!r}" if datetime_format else ""),
                    ))
        if out_or_none is None or out_or_none.dtype == object:
            aware = (_tz_status(raw[nonnull]) != "").to_numpy()
            mixed = np.zeros(len(s), bool)
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
                out_or_none = pd.to_datetime(raw.where(nonnull & ~mixed),
                                             format=datetime_format or "mixed",
                                             errors="coerce", **kwargs)
            except (ValueError, TypeError):  # pragma: no cover - defensive
                return s
            if out_or_none.dtype == object:  # pragma: no cover - defensive
                return s
            unparsed = nonnull & ~mixed & out_or_none.isna().to_numpy()
            if unparsed.any():
                problems.append(_Problem(column, "parseable", unparsed,
                                         f"{column} has values that are not dates"))
        out = out_or_none
        n_parsed = int((nonnull & out.notna().to_numpy()).sum())
        report.add(frame, column, "parsed_datetime", "coerced", n_parsed,
                   detail=f"{column} parsed from {s.dtype}")
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
    vals = out.to_numpy(dtype="float64", na_value=np.nan)
    nan = np.isnan(vals)
    missing = nan & ~bad
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
    return out


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
        wrong = sorted({str(v) for v in u[~ok_u]})[:5]
        hints = {w: difflib.get_close_matches(w, allowed, n=1) for w in wrong}
        hint_txt = ", ".join(f"{w!r} -> {h[0]!r}?" for w, h in hints.items() if h)
        problems.append(_Problem(
            column, "allowed_values", bad,
            f"{column} has values {wrong!r} outside {list(allowed)!r}"
            + (f" ({hint_txt})" if hint_txt else "")
            + "; map them first or use 'other'",
        ))
    if required and (~valid).any():
        problems.append(_Problem(column, "not_null", ~valid, f"{column} must not be missing"))
    return out


def _check_text(s: pd.Series, column: str, report: ValidationReport, frame: str) -> pd.Series:
    if s.dtype == "str":
        return s
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
) -> FrameResult:
    """Validate one frame against its schema and return a new, clean frame.

    The input is never modified: the result is a new frame whose validated
    columns are new Series objects (pandas copy-on-write keeps the rest shared
    until written).
    """
    schema = SCHEMAS[frame]
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(
            f"{frame} must be a pandas DataFrame, got {type(df).__name__}",
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
            out[name] = _check_datetime(s, name, problems, report, frame, datetime_format, is_req)
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
            after = (ts > lim).to_numpy(dtype=bool, na_value=False)
            if after.any():
                what = "observation_end" if observation_end is not None else "now (future date)"
                problems.append(_Problem(
                    ts_col, "not_after_observation_end", after,
                    f"{ts_col} is after {what} {lim}; pass observation_end= to cut the data, "
                    "or fix the dates",
                ))

    if problems:
        if on_invalid == "raise":
            p = problems[0]
            raise DataValidationError(p.message, frame=frame, column=p.column, rule=p.rule,
                                      rows=_labels(out.index, p.mask), n_rows=int(p.mask.sum()))
        drop = np.zeros(len(out), bool)
        for p in problems:
            report.add(frame, p.column, p.rule, "dropped", int((p.mask & ~drop).sum()),
                       _labels(out.index, p.mask & ~drop), p.message)
            drop |= p.mask
        out = out.loc[~drop]
        codes = codes[~drop]
        if len(out) == 0:
            raise DataValidationError(
                f"every row of {frame} was invalid and dropped (see data.report)",
                frame=frame, rule="non_empty",
            )

    dup = _duplicated(out, "customer_id" if "customer_id" in out.columns else None, codes)
    n_dup = int(dup.sum())
    if n_dup:
        if on_duplicate == "raise":
            raise DataValidationError(
                f"{frame} has {n_dup} exact duplicate rows; pass on_duplicate='keep' or 'drop'",
                frame=frame, rule="duplicate_rows", rows=_labels(out.index, dup), n_rows=n_dup,
            )
        action = "dropped" if on_duplicate == "drop" else "kept"
        report.add(frame, "*", "duplicate_rows", action, n_dup, _labels(out.index, dup),
                   "exact duplicate rows")
        if on_duplicate == "drop":
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
