"""``CRMData``: the validated container every model takes."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from crmmodels.data._validation import (
    FrameResult,
    OnDuplicate,
    OnInvalid,
    OnUnknown,
    ValidationReport,
    align_timestamp,
    check_date_options,
    validate_frame,
)
from crmmodels.data.schemas import SCHEMAS, Customer, Interaction, Transaction, field_kinds
from crmmodels.errors import DataValidationError, InvalidParameterError

__all__ = ["CRMData", "ValidationReport", "as_transaction_data"]

FrameName = Literal["transactions", "customers", "interactions"]
_FRAMES: tuple[FrameName, ...] = ("transactions", "customers", "interactions")


class CRMData:
    """Validated transactions, customers and interactions.

    Each frame is checked, vectorised, against :mod:`crmmodels.data`; the
    caller's frames are never modified (the container holds new frames). Whatever
    was coerced, dropped, or merely noticed is counted in :attr:`report`.

    Parameters
    ----------
    transactions : DataFrame, optional
        Columns ``customer_id, timestamp, amount`` and optionally ``transaction_id,
        product_id, quantity, channel, is_fraud``; any other column is kept.
    customers : DataFrame, optional
        Column ``customer_id`` (unique; may also be the index) and optionally
        ``signup_date, churned``, plus any attributes.
    interactions : DataFrame, optional
        Columns ``customer_id, timestamp, channel, kind`` and optionally
        ``outcome, cost``.
    observation_end : str or Timestamp, optional
        End of the observation window. Rows stamped after it are invalid. When not
        given, rows stamped in the future (after now) are invalid, and the end is
        the latest timestamp in the data.
    allow_returns : bool, default False
        Accept negative transaction amounts (returns / refunds). A return nets
        against its customer's purchases in the same period: a period holding one
        is a purchase period only when its net amount is > 0 (see
        :func:`~crmmodels.data.customer_aggregates`), so a returned purchase is no
        repeat purchase. Cancellations of earlier orders are better removed with
        them (:func:`~crmmodels.data.match_cancellations`).
    on_invalid : {"raise", "drop"}, default "raise"
        Raise :class:`~crmmodels.errors.DataValidationError` on the first broken
        rule, or drop the offending rows and count them in :attr:`report`.
        Structural problems (missing columns, an empty frame, duplicated customer
        ids in ``customers``) always raise.
    on_duplicate : {"keep", "drop", "raise"}, default "keep"
        What to do with exact duplicate rows; they are always counted. Two identical
        purchase rows can be legitimate (the same item bought twice), hence "keep".
    on_unknown : {"keep", "drop", "raise"}, default "keep"
        What to do with transactions or interactions whose customer is absent from
        ``customers`` (only when a customers frame is given); always counted.
    datetime_format : str, optional
        ``strftime`` format of text (or integer, e.g. ``%Y%m%d``) dates, used for every
        date column (``timestamp``, ``signup_date``); values that do not fit it break
        the ``parseable`` rule. Without it, year-first (ISO 8601) text is read as such
        and day/month/year text (``13/01/2011 09:00``, ``12/1/2010 8:26``) with the
        one order its values allow: a column with a first field above 12 somewhere is
        day-first, one with a second field above 12 month-first. A column holding
        both orders, or where no value tells them apart, raises
        :class:`~crmmodels.errors.DataValidationError` (rules ``mixed_date_order``,
        ``ambiguous_date_order``). Text is never read value by value.
    dayfirst : bool, optional
        Settle the day/month order of day/month/year text: ``True`` reads
        ``01/02/2011`` as 1 February, ``False`` as 2 January. Giving both
        ``dayfirst`` and ``datetime_format`` raises
        :class:`~crmmodels.errors.InvalidParameterError`.

    Attributes
    ----------
    transactions, customers, interactions : DataFrame or None
        The validated frames.
    report : ValidationReport
        Counts of what was coerced, dropped, kept or noticed.
    observation_end : Timestamp
        End of the observation window.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels import CRMData
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 2],
    ...     "timestamp": ["2024-01-02", "2024-02-10", "2024-01-20"],
    ...     "amount": [20.0, 35.5, 12.0],
    ... })
    >>> data = CRMData(transactions=tx)
    >>> data.n_customers, str(data.observation_end.date())
    (2, '2024-02-10')
    >>> data.transactions["customer_id"].tolist()
    ['1', '1', '2']
    >>> tx["customer_id"].tolist()  # the caller's frame is untouched
    [1, 1, 2]

    Day/month/year text is read with the one order its values allow; when no value
    tells day and month apart, say which it is:

    >>> eu = tx.assign(timestamp=["02/01/2024", "10/02/2024", "20/01/2024"])
    >>> CRMData(transactions=eu).transactions["timestamp"].dt.month.tolist()
    [1, 2, 1]
    >>> CRMData(transactions=eu.iloc[:2], dayfirst=True).observation_end
    Timestamp('2024-02-10 00:00:00')
    """

    transactions: pd.DataFrame | None
    customers: pd.DataFrame | None
    interactions: pd.DataFrame | None

    def __init__(
        self,
        transactions: pd.DataFrame | None = None,
        customers: pd.DataFrame | None = None,
        interactions: pd.DataFrame | None = None,
        *,
        observation_end: str | pd.Timestamp | None = None,
        allow_returns: bool = False,
        on_invalid: OnInvalid = "raise",
        on_duplicate: OnDuplicate = "keep",
        on_unknown: OnUnknown = "keep",
        datetime_format: str | None = None,
        dayfirst: bool | None = None,
    ) -> None:
        _check_choice("on_invalid", on_invalid, get_args(OnInvalid))
        _check_choice("on_duplicate", on_duplicate, get_args(OnDuplicate))
        _check_choice("on_unknown", on_unknown, get_args(OnUnknown))
        check_date_options(datetime_format, dayfirst)
        if transactions is None and customers is None and interactions is None:
            raise DataValidationError(
                "CRMData needs at least one frame: transactions, customers or interactions",
                rule="non_empty",
            )
        end = _parse_end(observation_end)
        now = pd.Timestamp.now()
        self.report = ValidationReport()
        self.allow_returns = allow_returns
        results: dict[str, FrameResult] = {}
        for name, frame in zip(_FRAMES, (transactions, customers, interactions), strict=True):
            if frame is None:
                continue
            results[name] = validate_frame(
                frame, name, self.report,
                allow_returns=allow_returns, on_invalid=on_invalid, on_duplicate=on_duplicate,
                observation_end=end, future_limit=now, datetime_format=datetime_format,
                dayfirst=dayfirst,
            )
        if "customers" in results:
            _check_unique_customers(results["customers"])
        _check_timezones(results)
        self._codes: dict[str, np.ndarray] = {k: v.codes for k, v in results.items()}
        self._uniques: dict[str, pd.Index] = {k: v.uniques for k, v in results.items()}
        self.transactions = results["transactions"].frame if "transactions" in results else None
        self.customers = results["customers"].frame if "customers" in results else None
        self.interactions = results["interactions"].frame if "interactions" in results else None
        self._handle_unknown(on_unknown)
        self.observation_end = (align_timestamp(end, self.timezone, "observation_end")
                                if end is not None else self._latest_timestamp())

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_frames(
        cls,
        transactions: pd.DataFrame | None = None,
        customers: pd.DataFrame | None = None,
        interactions: pd.DataFrame | None = None,
        *,
        columns: Mapping[str, str] | Mapping[str, Mapping[str, str]] | None = None,
        datetime_format: str | None = None,
        dayfirst: bool | None = None,
        **kwargs: Any,
    ) -> CRMData:
        """Build from frames whose column names differ from the canonical ones.

        Parameters
        ----------
        transactions, customers, interactions : DataFrame, optional
            The caller's frames (not modified).
        columns : mapping, optional
            ``{canonical name: your name}`` applied to every frame that has
            ``your name``, or per frame ``{"transactions": {...}, ...}``.
        datetime_format : str, optional
            ``strftime`` format of text dates, as in :class:`CRMData`.
        dayfirst : bool, optional
            Day/month order of day/month/year text, as in :class:`CRMData`
            (not together with ``datetime_format``).
        **kwargs
            Passed to :class:`CRMData` (``observation_end``, ``on_invalid``, ...).

        Returns
        -------
        CRMData

        Examples
        --------
        >>> import pandas as pd
        >>> raw = pd.DataFrame({"CustomerID": [7, 8], "InvoiceDate": ["2011-01-03", "2011-01-04"],
        ...                     "Spend": [3.5, 4.0]})
        >>> data = CRMData.from_frames(raw, columns={"customer_id": "CustomerID",
        ...                                           "timestamp": "InvoiceDate",
        ...                                           "amount": "Spend"})
        >>> list(data.transactions.columns)
        ['customer_id', 'timestamp', 'amount']
        >>> uk = raw.assign(InvoiceDate=["03/01/2011 09:00", "04/01/2011 10:30"])
        >>> data = CRMData.from_frames(uk, columns={"customer_id": "CustomerID",
        ...                                          "timestamp": "InvoiceDate",
        ...                                          "amount": "Spend"}, dayfirst=True)
        >>> data.transactions["timestamp"].dt.strftime("%d %b %Y").tolist()
        ['03 Jan 2011', '04 Jan 2011']
        """
        frames = {"transactions": transactions, "customers": customers,
                  "interactions": interactions}
        mapping = dict(columns or {})
        per_frame = bool(mapping) and all(
            k in _FRAMES and isinstance(v, Mapping) for k, v in mapping.items()
        )
        renamed: dict[str, pd.DataFrame | None] = {}
        for name, frame in frames.items():
            if frame is None:
                renamed[name] = None
                continue
            if not isinstance(frame, pd.DataFrame):
                raise DataValidationError(
                    f"{name} must be a pandas DataFrame, got {type(frame).__name__}",
                    frame=name, rule="type",
                )
            m: Mapping[str, Any] = (
                mapping.get(name, {}) if per_frame else mapping  # type: ignore[assignment]
            )
            for canonical, theirs in m.items():
                if not isinstance(theirs, str):
                    raise InvalidParameterError(
                        f"columns must map canonical names to column names, got {theirs!r}"
                    )
                if canonical not in SCHEMAS[name].model_fields and per_frame:
                    raise InvalidParameterError(
                        f"{canonical!r} is not a field of {name}; fields are "
                        f"{list(SCHEMAS[name].model_fields)}"
                    )
            fields = SCHEMAS[name].model_fields
            rename = {theirs: canonical for canonical, theirs in m.items()
                      if canonical in fields and theirs in frame.columns}
            new = frame.rename(columns=rename) if rename else frame
            index_names: dict[Any, Any] = {
                theirs: canonical for canonical, theirs in m.items()
                if canonical in fields and theirs in (frame.index.names or [])}
            if index_names:
                new_names: list[Any] = [index_names.get(n, n) for n in frame.index.names]
                new = new.rename_axis(index=new_names)
            renamed[name] = new
        return cls(renamed["transactions"], renamed["customers"], renamed["interactions"],
                   datetime_format=datetime_format, dayfirst=dayfirst, **kwargs)

    @classmethod
    def from_records(
        cls,
        transactions: Iterable[Transaction | Mapping[str, Any]] = (),
        customers: Iterable[Customer | Mapping[str, Any]] = (),
        interactions: Iterable[Interaction | Mapping[str, Any]] = (),
        **kwargs: Any,
    ) -> CRMData:
        """Build from pydantic records (or dicts), e.g. in a service.

        Each record is validated by its pydantic schema; an invalid record raises
        :class:`~crmmodels.errors.DataValidationError` naming the record's position.

        Examples
        --------
        >>> from crmmodels.data.schemas import Transaction
        >>> data = CRMData.from_records([
        ...     Transaction(customer_id="a", timestamp="2024-05-01", amount=10),
        ...     {"customer_id": "a", "timestamp": "2024-05-03", "amount": 4.5},
        ... ])
        >>> data.transactions["amount"].sum()
        np.float64(14.5)
        """
        context = {"allow_returns": bool(kwargs.get("allow_returns", False))}
        frames: dict[str, pd.DataFrame | None] = {}
        for name, records in (("transactions", transactions), ("customers", customers),
                              ("interactions", interactions)):
            schema = SCHEMAS[name]
            rows: list[dict[str, Any]] = []
            for i, rec in enumerate(records):
                try:
                    model = rec if isinstance(rec, schema) else schema.model_validate(
                        rec.model_dump() if isinstance(rec, BaseModel) else rec, context=context
                    )
                except ValidationError as exc:
                    first = exc.errors()[0]
                    col = ".".join(str(x) for x in first["loc"]) or None
                    raise DataValidationError(
                        f"record {i} is invalid: {first['msg']}", frame=name, column=col,
                        rule=str(first["type"]), rows=[i], n_rows=1,
                    ) from exc
                rows.append(model.model_dump(mode="python"))
            if rows:
                df = pd.DataFrame(rows)
                for col in df.columns:
                    if df[col].isna().all() and col in schema.model_fields \
                            and not schema.model_fields[col].is_required():
                        df = df.drop(columns=col)
                frames[name] = df
            else:
                frames[name] = None
        return cls(frames["transactions"], frames["customers"], frames["interactions"], **kwargs)

    # ------------------------------------------------------------------ accessors
    @property
    def customer_ids(self) -> pd.Index:
        """Every customer id seen in any frame (customers frame first, then the rest)."""
        parts = [self._uniques[k] for k in ("customers", "transactions", "interactions")
                 if k in self._uniques]
        out: pd.Index = parts[0]
        for p in parts[1:]:
            out = out.append(p[~p.isin(out)])
        result: pd.Index = pd.Index(out, name="customer_id", dtype="str")
        return result

    @property
    def timezone(self) -> Any:
        """Timezone of the timestamps (``None`` when they are naive)."""
        for df in (self.transactions, self.interactions):
            if df is not None and "timestamp" in df.columns:
                return getattr(df["timestamp"].dtype, "tz", None)
        return None

    @property
    def n_customers(self) -> int:
        """Number of distinct customers over all frames."""
        return len(self.customer_ids)

    def customer_codes(self, frame: FrameName = "transactions") -> tuple[np.ndarray, pd.Index]:
        """Integer codes of each row's customer and the ids they index.

        ``ids[codes[i]]`` is the customer of row ``i`` of ``frame``; ``ids`` is sorted.
        Computed once during validation so that every model can group by customer
        for free and per-customer results come out in id order.

        Examples
        --------
        >>> import pandas as pd
        >>> tx = pd.DataFrame({"customer_id": ["x", "y", "x"], "amount": [1.0, 2.0, 3.0],
        ...                    "timestamp": pd.to_datetime(["2024-01-01"] * 3)})
        >>> codes, ids = CRMData(transactions=tx).customer_codes()
        >>> codes.tolist(), ids.tolist()
        ([0, 1, 0], ['x', 'y'])
        """
        if frame not in self._codes:
            raise DataValidationError(f"this CRMData has no {frame} frame", frame=frame,
                                      rule="required_frame")
        return self._codes[frame], self._uniques[frame]

    def derived(self, key: Hashable, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """Return a table derived from this data, computed once per ``key``.

        Models that fit and then score the same data (or several models on one
        ``CRMData``) share per-customer aggregates this way. The cache assumes the
        validated frames are not modified in place; a copy is returned each time.

        Examples
        --------
        >>> import pandas as pd
        >>> data = CRMData(transactions=pd.DataFrame({
        ...     "customer_id": ["a"], "timestamp": ["2024-01-01"], "amount": [1.0]}))
        >>> calls = []
        >>> def table():
        ...     calls.append(1)
        ...     return pd.DataFrame({"x": [1]})
        >>> _ = data.derived("t", table); _ = data.derived("t", table); len(calls)
        1
        """
        cache: dict[Hashable, pd.DataFrame] = self.__dict__.setdefault("_derived", {})
        if key not in cache:
            cache[key] = compute()
        return cache[key].copy()

    def require(self, *frames: FrameName) -> None:
        """Raise a clear error if one of ``frames`` is absent.

        Examples
        --------
        >>> import pandas as pd
        >>> data = CRMData(customers=pd.DataFrame({"customer_id": ["a"]}))
        >>> data.require("transactions")
        Traceback (most recent call last):
        ...
        crmmodels.errors.DataValidationError: [frame='transactions', rule='required_frame'] ...
        """
        for f in frames:
            if getattr(self, f) is None:
                raise DataValidationError(
                    f"this model needs a {f} frame; build CRMData({f}=...)",
                    frame=f, rule="required_frame",
                )

    def __repr__(self) -> str:
        """Show the frames' row counts, the number of customers and the window end.

        Examples
        --------
        >>> import pandas as pd
        >>> CRMData(transactions=pd.DataFrame({"customer_id": ["a", "b"], "amount": [1.0, 2.0],
        ...                                    "timestamp": ["2024-01-01", "2024-01-02"]}),
        ...         customers=pd.DataFrame({"customer_id": ["a", "b", "c"]}))
        CRMData(transactions=2 rows, customers=3 rows, n_customers=3,
                observation_end=2024-01-02 00:00:00)
        """
        parts = [f"{name}={len(df)} rows" for name in _FRAMES
                 if (df := getattr(self, name)) is not None]
        return (f"CRMData({', '.join(parts)}, n_customers={self.n_customers}, "
                f"observation_end={self.observation_end})")

    # ------------------------------------------------------------------ internals
    def _handle_unknown(self, on_unknown: OnUnknown) -> None:
        if self.customers is not None:
            known = self._uniques["customers"]
            for name in ("transactions", "interactions"):
                df = getattr(self, name)
                if df is None:
                    continue
                codes, uniques = self._codes[name], self._uniques[name]
                unknown_u = ~uniques.isin(known)
                if not unknown_u.any():
                    continue
                mask = unknown_u[codes]
                n = int(mask.sum())
                labels = list(df.index[np.flatnonzero(mask)[:5]])
                if on_unknown == "raise":
                    raise DataValidationError(
                        f"{n} {name} rows reference customer ids absent from customers "
                        "(pass on_unknown='keep' or 'drop')",
                        frame=name, column="customer_id", rule="known_customer",
                        rows=labels, n_rows=n,
                    )
                action = "dropped" if on_unknown == "drop" else "kept"
                self.report.add(name, "customer_id", "known_customer", action, n, labels,
                                f"{int(unknown_u.sum())} customer ids not in customers")
                if on_unknown == "drop":
                    keep = ~mask
                    new = df.loc[keep]
                    if len(new) == 0:
                        raise DataValidationError(
                            f"every {name} row references an unknown customer",
                            frame=name, column="customer_id", rule="known_customer",
                        )
                    present = ~unknown_u
                    remap = np.cumsum(present) - 1
                    self._codes[name] = remap[codes[keep]]
                    self._uniques[name] = uniques[present]
                    setattr(self, name, new)
                    self.report.rows_out[name] = len(new)
            if self.transactions is not None:
                no_tx = ~known.isin(self._uniques["transactions"])
                self.report.add("customers", "customer_id", "has_transactions", "info",
                                int(no_tx.sum()), list(known[no_tx][:5]),
                                "customers without any transaction (prospects)")
        elif self.transactions is not None and self.interactions is not None:
            unk = ~self._uniques["interactions"].isin(self._uniques["transactions"])
            if unk.any():
                mask = unk[self._codes["interactions"]]
                self.report.add(
                    "interactions", "customer_id", "known_customer", "info", int(mask.sum()),
                    list(self.interactions.index[np.flatnonzero(mask)[:5]]),
                    f"{int(unk.sum())} customers with interactions but no transaction",
                )

    def _latest_timestamp(self) -> pd.Timestamp:
        latest: list[pd.Timestamp] = []
        for df in (self.transactions, self.interactions):
            if df is not None:
                latest.append(pd.Timestamp(df["timestamp"].max()))
        if not latest:
            return pd.Timestamp.now().normalize()
        return max(latest)


def as_transaction_data(data: object, owner: str = "this function") -> CRMData:
    """Return ``data`` as a :class:`CRMData` holding transactions.

    A ``CRMData`` passes through (it must have a transactions frame); a DataFrame is
    validated as the transactions frame of a new ``CRMData``.

    Parameters
    ----------
    data : CRMData or DataFrame
        The data, or a transactions frame.
    owner : str, default "this function"
        Who needs the transactions, for the error message.

    Raises
    ------
    DataValidationError
        ``data`` is neither, or is a ``CRMData`` without transactions.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2024-01-05"],
    ...                    "amount": [1.0]})
    >>> as_transaction_data(tx).n_customers
    1
    >>> as_transaction_data([1, 2], "backtest")
    Traceback (most recent call last):
    ...
    crmmodels.errors.DataValidationError: [frame='transactions', rule='type'] backtest needs ...
    """
    if isinstance(data, CRMData):
        data.require("transactions")
        return data
    if isinstance(data, pd.DataFrame):
        return CRMData(transactions=data)
    raise DataValidationError(
        f"{owner} needs CRMData with transactions or a transactions DataFrame, got "
        f"{type(data).__name__}", frame="transactions", rule="type")


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidParameterError(f"{name} must be one of {list(allowed)}, got {value!r}")


def _parse_end(value: str | pd.Timestamp | None) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InvalidParameterError(f"observation_end {value!r} is not a date") from exc
    if pd.isna(ts):
        raise InvalidParameterError("observation_end must not be NaT")
    return ts


def _check_unique_customers(res: FrameResult) -> None:
    codes = res.codes
    counts = np.bincount(codes, minlength=len(res.uniques))
    if (counts > 1).any():
        dup_rows = (counts > 1)[codes]
        seen_first = pd.Series(codes).duplicated().to_numpy()
        labels = list(res.frame.index[np.flatnonzero(dup_rows & seen_first)[:5]])
        raise DataValidationError(
            f"customers has {int((counts > 1).sum())} customer ids on more than one row; "
            "one row per customer is required",
            frame="customers", column="customer_id", rule="unique",
            rows=labels, n_rows=int((dup_rows & seen_first).sum()),
        )


def _check_timezones(results: Mapping[str, FrameResult]) -> None:
    """Refuse timezone-aware dates beside naive ones, across frames and columns.

    Comparing or subtracting the two needs a zone for the naive values, which would be
    a guess: the caller converts first.
    """
    aware: list[tuple[str, str]] = []
    naive: list[tuple[str, str]] = []
    for name, res in results.items():
        for col, kind in field_kinds(SCHEMAS[name]).items():
            if kind != "datetime" or col not in res.frame.columns:
                continue
            values = res.frame[col]
            if not (isinstance(values.dtype, pd.DatetimeTZDtype)
                    or pd.api.types.is_datetime64_dtype(values.dtype)) or values.isna().all():
                continue
            (naive if getattr(values.dtype, "tz", None) is None else aware).append((name, col))
    if aware and naive:
        def names(cols: list[tuple[str, str]]) -> str:
            return ", ".join(f"{frame}.{col}" for frame, col in cols)

        frame, column = min(aware, naive, key=len)[0]
        raise DataValidationError(
            f"dates are timezone-aware in {names(aware)} but naive in {names(naive)}; "
            "use one convention in all frames and columns (e.g. "
            "pandas.to_datetime(col, utc=True), or Series.dt.tz_localize on the naive ones)",
            frame=frame, column=column, rule="single_timezone",
        )
