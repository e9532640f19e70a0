"""``CRMData``: the validated container every model takes."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, Literal, get_args

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from crmmodels.data._native import (
    NativeFrame,
    id_text,
    is_native,
    latest_timestamp,
    native_frame,
    to_pandas,
    validate_native,
)
from crmmodels.data._validation import (
    FrameResult,
    OnDuplicate,
    OnInvalid,
    OnUnknown,
    ValidationReport,
    align_timestamp,
    argsort_text,
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

    Each frame may be a pandas or polars ``DataFrame``, a polars ``LazyFrame``, a pyarrow
    ``Table`` or a DuckDB relation. A frame of another library than pandas is validated
    and kept in that library (a lazy one is collected first); the per-customer
    aggregate, the summary and RFM are computed there, and for polars the rest of the
    data path too (churn and fraud features, basket encoding, lifecycle, backtest
    cuts); models that work in pandas read a pandas copy made once on first use (see
    :meth:`engine`).

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

    def __init__(
        self,
        transactions: Any = None,
        customers: Any = None,
        interactions: Any = None,
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
        native: dict[str, NativeFrame] = {}
        options: dict[str, Any] = {
            "allow_returns": allow_returns, "on_invalid": on_invalid,
            "on_duplicate": on_duplicate, "observation_end": end, "future_limit": now,
            "datetime_format": datetime_format, "dayfirst": dayfirst}
        for name, frame in zip(_FRAMES, (transactions, customers, interactions), strict=True):
            if frame is None:
                continue
            if isinstance(frame, pd.DataFrame) or not is_native(frame):
                results[name] = validate_frame(frame, name, self.report, **options)
            else:
                native[name] = validate_native(native_frame(frame, name), name, self.report,
                                               **options)
        self._codes: dict[str, np.ndarray] = {k: v.codes for k, v in results.items()}
        self._uniques: dict[str, pd.Index] = {k: v.uniques for k, v in results.items()}
        self._pandas: dict[str, pd.DataFrame] = {k: v.frame for k, v in results.items()}
        self._native: dict[str, NativeFrame] = native
        if "customers" in results:
            _check_unique_customers(results["customers"])
        elif "customers" in native:
            _check_unique_native(native["customers"])
        _check_timezones({k: self._timestamp_dtypes(k) for k in self._frame_names()})
        self._handle_unknown(on_unknown)
        self.observation_end = (align_timestamp(end, self.timezone, "observation_end")
                                if end is not None else self._latest_timestamp())

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_frames(
        cls,
        transactions: Any = None,
        customers: Any = None,
        interactions: Any = None,
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
        renamed: dict[str, Any] = {}
        for name, frame in frames.items():
            if frame is None:
                renamed[name] = None
                continue
            native = None if isinstance(frame, pd.DataFrame) else native_frame(frame, name)
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
            columns_in = native.columns if native is not None else frame.columns
            rename = {theirs: canonical for canonical, theirs in m.items()
                      if canonical in fields and theirs in columns_in}
            if native is not None:
                # (the collected frame: a lazy one is not collected twice)
                renamed[name] = (native.rename(rename) if rename else native).to_native()
                continue
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
        >>> float(data.transactions["amount"].sum())
        14.5
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
    def transactions(self) -> pd.DataFrame | None:
        """The validated transactions as a pandas frame (None when not given).

        A frame given in another library is converted on first access and kept.
        """
        return self._frame("transactions")

    @transactions.setter
    def transactions(self, value: pd.DataFrame | None) -> None:
        self._set_frame("transactions", value)

    @property
    def customers(self) -> pd.DataFrame | None:
        """The validated customers as a pandas frame (None when not given)."""
        return self._frame("customers")

    @customers.setter
    def customers(self, value: pd.DataFrame | None) -> None:
        self._set_frame("customers", value)

    @property
    def interactions(self) -> pd.DataFrame | None:
        """The validated interactions as a pandas frame (None when not given)."""
        return self._frame("interactions")

    @interactions.setter
    def interactions(self, value: pd.DataFrame | None) -> None:
        self._set_frame("interactions", value)

    def has(self, frame: FrameName) -> bool:
        """Whether this data holds ``frame`` (without converting it to pandas).

        Examples
        --------
        >>> import pandas as pd
        >>> data = CRMData(customers=pd.DataFrame({"customer_id": ["a"]}))
        >>> data.has("customers"), data.has("transactions")
        (True, False)
        """
        return frame in self._pandas or frame in self._native

    def engine(self, frame: FrameName) -> str:
        """Return the dataframe library that holds ``frame``: ``"pandas"``, ``"polars"``, ...

        A frame given in polars, pyarrow or DuckDB is validated and kept in that library
        (a DuckDB relation or a lazy frame is collected into polars, or pyarrow when
        polars is absent); the data path reads it there (all of it for polars, the
        aggregate, summary and RFM for the others; see :meth:`lazy_rows`). Models that
        work in pandas read the pandas copy (see :attr:`transactions`), made once on
        first use and logged.

        Examples
        --------
        >>> import pandas as pd
        >>> tx = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2024-01-05"],
        ...                    "amount": [1.0]})
        >>> CRMData(transactions=tx).engine("transactions")
        'pandas'
        """
        self.require(frame)
        if frame in self._native:
            return str(self._native[frame].implementation.name.lower())
        return "pandas"

    def to_native(self, frame: FrameName) -> Any:
        """Return the validated ``frame`` in the library that holds it (see :meth:`engine`).

        Examples
        --------
        >>> import pandas as pd
        >>> tx = pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-05"],
        ...                    "amount": [1.0]})
        >>> type(CRMData(transactions=tx).to_native("transactions")).__name__
        'DataFrame'
        """
        self.require(frame)
        if frame in self._native:
            return self._native[frame].to_native()
        return self._pandas[frame]

    def lazy_rows(self, frame: FrameName, end: pd.Timestamp | None = None
                  ) -> nw.LazyFrame[Any]:
        """Return ``frame`` as a narwhals LazyFrame over the library that holds it.

        Nothing is converted: a query built on the result runs in that library (pandas
        included). ``customer_id`` comes as text and ``timestamp`` as wall-clock time
        (time zone dropped, unit kept), so that the models read times as they do from
        pandas.

        Parameters
        ----------
        frame : {"transactions", "customers", "interactions"}
            A frame the data hold.
        end : Timestamp, optional
            Keep only the rows stamped (wall-clock) at or before it; a timezone-aware
            one is first converted to the frame's zone. Needs a ``timestamp`` column.

        Examples
        --------
        >>> import pandas as pd
        >>> tx = pd.DataFrame({"customer_id": [7, 7], "amount": [1.0, 2.0],
        ...                    "timestamp": ["2024-01-05", "2024-02-01"]})
        >>> rows = CRMData(transactions=tx).lazy_rows("transactions",
        ...                                          end=pd.Timestamp("2024-01-31"))
        >>> rows.collect().to_native()[["customer_id", "amount"]]
          customer_id  amount
        0           7     1.0
        """
        self.require(frame)
        native = self._native.get(frame)
        base = native if native is not None else nw.from_native(self._pandas[frame],
                                                                eager_only=True)
        lazy = base.lazy()
        schema = lazy.collect_schema()
        exprs: list[nw.Expr] = []
        if "customer_id" in schema and not isinstance(schema["customer_id"], nw.String):
            exprs.append(nw.col("customer_id").cast(nw.String))
        stamp = schema.get("timestamp")
        if isinstance(stamp, nw.Datetime) and stamp.time_zone is not None:
            exprs.append(nw.col("timestamp").dt.replace_time_zone(None))
        if exprs:
            lazy = lazy.with_columns(*exprs)
        if end is not None:
            if not isinstance(stamp, nw.Datetime):
                raise InvalidParameterError(f"lazy_rows: {frame} has no timestamp column")
            if end.tzinfo is not None:
                end = end.tz_convert(stamp.time_zone or "UTC").tz_localize(None)
            unit = stamp.time_unit
            cut = int(end.as_unit(unit).to_datetime64().astype(np.int64))
            lazy = lazy.filter(nw.col("timestamp").dt.timestamp(unit) <= cut)
        return lazy

    def time_range(self, frame: FrameName) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Return the first and the last timestamp of ``frame``, read where it is held.

        Examples
        --------
        >>> import pandas as pd
        >>> tx = pd.DataFrame({"customer_id": ["a", "b"], "amount": [1.0, 2.0],
        ...                    "timestamp": ["2024-01-05", "2024-02-01"]})
        >>> CRMData(transactions=tx).time_range("transactions")
        (Timestamp('2024-01-05 00:00:00'), Timestamp('2024-02-01 00:00:00'))
        """
        self.require(frame)
        if frame in self._native:
            stamps = self._native[frame]["timestamp"]
            return latest_timestamp(stamps, "min"), latest_timestamp(stamps)
        ts = self._pandas[frame]["timestamp"]
        return pd.Timestamp(ts.min()), pd.Timestamp(ts.max())

    def rows_between(self, frame: FrameName, start: pd.Timestamp | None = None,
                     end: pd.Timestamp | None = None, *, include_start: bool = False
                     ) -> Any:
        """Return the rows of ``frame`` stamped in ``(start, end]``, in its own library.

        The validated frame's rows with their columns as validated (a polars frame
        stays polars), ready to build another :class:`CRMData` from. ``start`` and
        ``end`` are instants (a naive one is read in the data's timezone); None leaves
        that side open; ``include_start`` makes the window ``[start, end]``.

        Examples
        --------
        >>> import pandas as pd
        >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [1.0, 2.0, 3.0],
        ...                    "timestamp": ["2024-01-05", "2024-02-01", "2024-03-01"]})
        >>> data = CRMData(transactions=tx)
        >>> data.rows_between("transactions", pd.Timestamp("2024-01-05"),
        ...                   pd.Timestamp("2024-02-01"))["amount"].tolist()
        [2.0]
        """
        self.require(frame)
        start = None if start is None else align_timestamp(start, self.timezone, "start")
        end = None if end is None else align_timestamp(end, self.timezone, "end")
        if frame in self._native:
            native = self._native[frame]
            dtype = native.schema["timestamp"]
            assert isinstance(dtype, nw.Datetime)
            unit = dtype.time_unit
            ticks = nw.col("timestamp").dt.timestamp(unit)  # instants (UTC when aware)
            keep = nw.lit(True)
            if start is not None:
                at = _instant_ticks(start, unit)
                keep = keep & ((ticks >= at[1]) if include_start else (ticks > at[0]))
            if end is not None:
                keep = keep & (ticks <= _instant_ticks(end, unit)[0])
            return native.filter(keep).to_native()
        pdf = self._pandas[frame]
        ts = pdf["timestamp"]
        mask = np.ones(len(pdf), dtype=bool)
        if start is not None:
            mask &= ((ts >= start) if include_start else (ts > start)).to_numpy()
        if end is not None:
            mask &= (ts <= end).to_numpy()
        return pdf.loc[mask]

    def n_rows(self, frame: FrameName) -> int:
        """Rows of the validated ``frame`` (0 when absent), without converting it."""
        if frame in self._native:
            return len(self._native[frame])
        return len(self._pandas[frame]) if frame in self._pandas else 0

    @property
    def customer_ids(self) -> pd.Index:
        """Every customer id seen in any frame (customers frame first, then the rest)."""
        parts = [self._ids(k) for k in ("customers", "transactions", "interactions")
                 if self.has(k)]
        out: pd.Index = parts[0]
        for p in parts[1:]:
            out = out.append(p[~p.isin(out)])
        result: pd.Index = pd.Index(out, name="customer_id", dtype="str")
        return result

    @property
    def timezone(self) -> Any:
        """Timezone of the timestamps (``None`` when they are naive)."""
        for name in ("transactions", "interactions"):
            dtypes = self._timestamp_dtypes(name) if self.has(name) else {}
            if "timestamp" in dtypes:
                return dtypes["timestamp"][0]
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
        if not self.has(frame):
            raise DataValidationError(f"this CRMData has no {frame} frame", frame=frame,
                                      rule="required_frame")
        if frame not in self._codes and self.engine(frame) == "polars":  # coded there
            column = id_text(self._native[frame]["customer_id"])
            seen = pd.Index(column.unique().to_numpy(), dtype="str")
            ids = seen[argsort_text(seen)]
            self._codes[frame] = column.replace_strict(
                ids.tolist(), list(range(len(ids))), return_dtype=nw.Int64).to_numpy()
            self._uniques[frame] = ids
        if frame not in self._codes:  # pandas data set after validation
            pdf = self._frame(frame)
            assert pdf is not None
            codes, uniques = pd.factorize(pdf["customer_id"])
            ids = pd.Index(uniques, dtype="str")
            order = argsort_text(ids)
            rank = np.empty(len(order), dtype=np.intp)
            rank[order] = np.arange(len(order))
            self._codes[frame] = rank[codes]
            self._uniques[frame] = ids[order]
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

    def is_derived(self, key: Hashable) -> bool:
        """Whether the table of ``key`` was computed already (see :meth:`derived`).

        Examples
        --------
        >>> import pandas as pd
        >>> data = CRMData(transactions=pd.DataFrame({
        ...     "customer_id": ["a"], "timestamp": ["2024-01-01"], "amount": [1.0]}))
        >>> data.is_derived("t")
        False
        """
        return key in self.__dict__.get("_derived", {})

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
            if not self.has(f):
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
        parts = [f"{name}={self.n_rows(name)} rows" for name in self._frame_names()]
        return (f"CRMData({', '.join(parts)}, n_customers={self.n_customers}, "
                f"observation_end={self.observation_end})")

    # ------------------------------------------------------------------ internals
    def _frame_names(self) -> list[FrameName]:
        return [name for name in _FRAMES if self.has(name)]

    def _frame(self, name: FrameName) -> pd.DataFrame | None:
        if name not in self._pandas and name in self._native:
            self._pandas[name] = to_pandas(self._native[name], name)
        return self._pandas.get(name)

    def _set_frame(self, name: FrameName, value: pd.DataFrame | None) -> None:
        self.__dict__.setdefault("_pandas", {})
        self.__dict__.setdefault("_native", {})
        self._native.pop(name, None)
        if value is None:
            self._pandas.pop(name, None)
        else:
            self._pandas[name] = value

    def _ids(self, name: FrameName) -> pd.Index:
        """Return the distinct ids of ``name``, sorted (no pandas copy of a native frame)."""
        if name in self._uniques:
            return self._uniques[name]
        ids = id_text(self._native[name]["customer_id"]).unique().to_list()
        out = pd.Index(ids, dtype="str")
        result: pd.Index = out[argsort_text(out)]
        return result

    def _timestamp_dtypes(self, name: FrameName) -> dict[str, tuple[Any, bool]]:
        """Per datetime column of ``name``: its timezone and whether it is all missing."""
        out: dict[str, tuple[Any, bool]] = {}
        for col, kind in field_kinds(SCHEMAS[name]).items():
            if kind != "datetime":
                continue
            if name in self._native:
                frame = self._native[name]
                dtype = frame.schema.get(col)
                if isinstance(dtype, nw.Datetime):
                    out[col] = (dtype.time_zone, frame[col].null_count() == len(frame))
            elif col in self._pandas[name].columns:
                values = self._pandas[name][col]
                if isinstance(values.dtype, pd.DatetimeTZDtype) or \
                        pd.api.types.is_datetime64_dtype(values.dtype):
                    out[col] = (getattr(values.dtype, "tz", None), bool(values.isna().all()))
        return out

    def _unknown_rows(self, name: FrameName, known: pd.Index) -> tuple[np.ndarray, int]:
        """Rows of ``name`` whose customer is not in ``known``, and how many ids that is."""
        if name in self._native:
            ids = id_text(self._native[name]["customer_id"])
            mask: np.ndarray = (~ids.is_in(known.to_numpy(dtype=object))).to_numpy()
            n_ids = int(ids.filter(nw.new_series(
                "m", mask, nw.Boolean(), backend=ids.implementation)).n_unique())
            return mask.astype(bool, copy=False), n_ids
        codes, uniques = self._codes[name], self._uniques[name]
        unknown_u = ~uniques.isin(known)
        return unknown_u[codes], int(unknown_u.sum())

    def _drop_rows(self, name: FrameName, keep: np.ndarray) -> None:
        """Keep the rows of ``name`` where ``keep`` is True."""
        if name in self._native:
            frame = self._native[name]
            self._native[name] = frame.filter(nw.new_series(
                "keep", keep, nw.Boolean(), backend=frame.implementation))
            return
        codes, uniques = self._codes[name], self._uniques[name]
        present = np.bincount(codes[keep], minlength=len(uniques)) > 0
        remap = np.cumsum(present) - 1
        self._codes[name] = remap[codes[keep]]
        self._uniques[name] = uniques[present]
        self._pandas[name] = self._pandas[name].loc[keep]

    def _labels(self, name: FrameName, mask: np.ndarray) -> list[Hashable]:
        """Return the first five row labels (positions for a native frame) where ``mask``."""
        pos = np.flatnonzero(mask)[:5]
        if name in self._native:
            return [int(i) for i in pos]
        index = self._pandas[name].index
        return [index[i] for i in pos]

    def _handle_unknown(self, on_unknown: OnUnknown) -> None:
        if self.has("customers"):
            known = self._ids("customers")
            for name in ("transactions", "interactions"):
                if not self.has(name):
                    continue
                mask, n_ids = self._unknown_rows(name, known)
                if not mask.any():
                    continue
                n = int(mask.sum())
                labels = self._labels(name, mask)
                if on_unknown == "raise":
                    raise DataValidationError(
                        f"{n} {name} rows reference customer ids absent from customers "
                        "(pass on_unknown='keep' or 'drop')",
                        frame=name, column="customer_id", rule="known_customer",
                        rows=labels, n_rows=n,
                    )
                action = "dropped" if on_unknown == "drop" else "kept"
                self.report.add(name, "customer_id", "known_customer", action, n, labels,
                                f"{n_ids} customer ids not in customers")
                if on_unknown == "drop":
                    if n == len(mask):
                        raise DataValidationError(
                            f"every {name} row references an unknown customer",
                            frame=name, column="customer_id", rule="known_customer",
                        )
                    self._drop_rows(name, ~mask)
                    self.report.rows_out[name] = self.n_rows(name)
            if self.has("transactions"):
                no_tx = ~known.isin(self._ids("transactions"))
                self.report.add("customers", "customer_id", "has_transactions", "info",
                                int(no_tx.sum()), list(known[no_tx][:5]),
                                "customers without any transaction (prospects)")
        elif self.has("transactions") and self.has("interactions"):
            mask, n_ids = self._unknown_rows("interactions", self._ids("transactions"))
            if mask.any():
                self.report.add(
                    "interactions", "customer_id", "known_customer", "info", int(mask.sum()),
                    self._labels("interactions", mask),
                    f"{n_ids} customers with interactions but no transaction",
                )

    def _latest_timestamp(self) -> pd.Timestamp:
        latest: list[pd.Timestamp] = []
        for name in ("transactions", "interactions"):
            if name in self._native:
                latest.append(latest_timestamp(self._native[name]["timestamp"]))
            elif name in self._pandas:
                latest.append(pd.Timestamp(self._pandas[name]["timestamp"].max()))
        if not latest:
            return pd.Timestamp.now().normalize()
        return max(latest)


def _instant_ticks(ts: pd.Timestamp, unit: Literal["s", "ms", "us", "ns"]) -> tuple[int, int]:
    """Return an instant as ticks of ``unit`` since the epoch, floored and ceiled."""
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    per = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[unit]
    ns = int(ts.as_unit("ns").value)
    return ns // per, -(-ns // per)


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
    if isinstance(data, pd.DataFrame) or is_native(data):
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


def _check_unique_native(frame: NativeFrame) -> None:
    """``_check_unique_customers`` for a customers frame of another library."""
    ids = frame["customer_id"]
    repeated = ids.is_duplicated().to_numpy().astype(bool)
    if repeated.any():
        later = ~ids.is_first_distinct().to_numpy().astype(bool)
        raise DataValidationError(
            f"customers has {int(ids.filter(ids.is_duplicated()).n_unique())} customer ids on "
            "more than one row; one row per customer is required",
            frame="customers", column="customer_id", rule="unique",
            rows=[int(i) for i in np.flatnonzero(later)[:5]], n_rows=int(later.sum()),
        )


def _check_timezones(frames: Mapping[str, Mapping[str, tuple[Any, bool]]]) -> None:
    """Refuse timezone-aware dates beside naive ones, across frames and columns.

    Comparing or subtracting the two needs a zone for the naive values, which would be
    a guess: the caller converts first. ``frames`` gives, per frame and datetime
    column, its timezone and whether every value is missing.
    """
    aware: list[tuple[str, str]] = []
    naive: list[tuple[str, str]] = []
    for name, columns in frames.items():
        for col, (tz, all_missing) in columns.items():
            if all_missing:
                continue
            (naive if tz is None else aware).append((name, col))
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
