"""Text dates are read with one format per column, inferred from all its values.

Day/month/year text is never parsed value by value: a column is day-first or
month-first as a whole (decided by the values whose day is above 12, or by
``dayfirst=`` / ``datetime_format=``), and a column that cannot be decided, or that
mixes both orders, is refused. Every parsed column is compared against
:func:`pandas.to_datetime` with the explicit format written out in the test.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData
from crmmodels.datasets import dataset_path, load_cdnow_sample
from crmmodels.errors import DatasetNotFoundError, DataValidationError, InvalidParameterError


def _frame(timestamps: Sequence[str | None] | pd.Series) -> pd.DataFrame:
    n = len(timestamps)
    return pd.DataFrame({
        "customer_id": [f"c{i % 7}" for i in range(n)],
        "timestamp": timestamps.to_numpy() if isinstance(timestamps, pd.Series)
        else list(timestamps),
        "amount": np.arange(1.0, n + 1.0),
    })


def _raises(frame: pd.DataFrame, **kwargs: object) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        CRMData(transactions=frame, **kwargs)  # type: ignore[arg-type]
    return info.value


def _parsed(data: CRMData) -> pd.Series:
    assert data.transactions is not None
    return data.transactions["timestamp"]


def _same_instants(got: pd.Series, expected: pd.Series) -> None:
    np.testing.assert_array_equal(got.to_numpy(dtype="datetime64[ns]"),
                                  expected.to_numpy(dtype="datetime64[ns]"))


@pytest.fixture(scope="module")
def online_retail_dates() -> pd.Series:
    """InvoiceDate of the real Online Retail file (ISO text in the published csv)."""
    try:
        path = dataset_path("online_retail")
    except DatasetNotFoundError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(str(exc))
    return pd.read_csv(path, usecols=["InvoiceDate"])["InvoiceDate"]


@pytest.fixture(scope="module")
def stamps() -> pd.Series:
    """Two years of minute-resolution timestamps (days 1 to 31, so some above 12)."""
    rng = np.random.default_rng(7)
    minutes = np.sort(rng.integers(0, 730 * 24 * 60, 400))
    return pd.Series(pd.Timestamp("2010-12-01") + pd.to_timedelta(minutes, unit="min"))


# ----------------------------------------------------------------- real shapes
def test_online_retail_month_first_text(online_retail_dates: pd.Series) -> None:
    """The UCI spreadsheet writes InvoiceDate as '12/1/2010 8:26' (month first, no padding)."""
    iso = online_retail_dates
    reference = pd.to_datetime(iso, format="%Y-%m-%d %H:%M:%S")
    # Rewritten by hand (not with strftime) in the spreadsheet's layout, per distinct time.
    codes, distinct = pd.factorize(reference)
    written = np.array([f"{t.month}/{t.day}/{t.year} {t.hour}:{t.minute:02d}"
                        for t in distinct], dtype=object)
    us = pd.Series(written[codes], dtype="str")
    assert us.iloc[0] == "12/1/2010 8:26"
    data = CRMData(transactions=_frame(us))
    _same_instants(_parsed(data), reference)
    entry = next(e for e in data.report.entries if e.rule == "parsed_datetime")
    assert entry.count == len(us)
    assert "'%m/%d/%Y %H:%M'" in entry.detail
    assert "month first" in entry.detail


def test_online_retail_first_week_cannot_be_decided(online_retail_dates: pd.Series) -> None:
    """Its first 20,000 invoices (1-9 December 2010) have every day <= 12: no guess."""
    reference = pd.to_datetime(online_retail_dates.iloc[:20_000], format="%Y-%m-%d %H:%M:%S")
    assert (reference.dt.day <= 12).all()
    us = reference.dt.strftime("%m/%d/%Y %H:%M")
    err = _raises(_frame(us))
    assert (err.column, err.rule) == ("timestamp", "ambiguous_date_order")
    assert "datetime_format=" in str(err)
    assert "dayfirst=" in str(err)
    assert err.n_rows == 20_000
    data = CRMData(transactions=_frame(us), dayfirst=False)
    _same_instants(_parsed(data), reference)


def test_european_export_is_day_first(stamps: pd.Series) -> None:
    text = stamps.dt.strftime("%d/%m/%Y %H:%M")
    assert text.iloc[-1].startswith(f"{stamps.iloc[-1].day:02d}/")
    data = CRMData(transactions=_frame(text))
    _same_instants(_parsed(data), pd.to_datetime(text, format="%d/%m/%Y %H:%M"))
    entry = next(e for e in data.report.entries if e.rule == "parsed_datetime")
    assert entry.count == len(text)
    assert "'%d/%m/%Y %H:%M'" in entry.detail
    assert "day first" in entry.detail


@pytest.mark.parametrize(("layout", "dayfirst"), [
    ("%d.%m.%Y", True),             # German dotted dates
    ("%d-%m-%Y %H:%M:%S", True),
    ("%m/%d/%y %I:%M %p", False),   # 2-digit years, 12-hour clock
    ("%d/%m/%Y %H:%M:%S.%f", True),
])
def test_other_day_month_layouts(stamps: pd.Series, layout: str, dayfirst: bool) -> None:
    text = stamps.dt.strftime(layout)
    data = CRMData(transactions=_frame(text))
    _same_instants(_parsed(data), pd.to_datetime(text, format=layout))
    detail = " ".join(e.detail for e in data.report.entries if e.rule == "parsed_datetime")
    assert repr(layout) in detail
    assert ("day first" if dayfirst else "month first") in detail


# ----------------------------------------------------------------- refusals
def test_mixed_orders_are_refused_with_examples_of_each() -> None:
    text = ["13/01/2011", "01/13/2011", "02/02/2011", "25/03/2011", "03/25/2011",
            "14/01/2011"]
    err = _raises(_frame(text))
    assert (err.column, err.rule) == ("timestamp", "mixed_date_order")
    msg = str(err)
    for value in ("'13/01/2011'", "'25/03/2011'", "'01/13/2011'", "'03/25/2011'"):
        assert value in msg
    assert "'02/02/2011'" not in msg  # it fits both orders: not an example of either
    assert set(err.rows) == {0, 1, 3, 4, 5}
    assert err.n_rows == 5
    # Raised whatever on_invalid says: dropping one side would be a guess.
    assert _raises(_frame(text), on_invalid="drop").rule == "mixed_date_order"


def test_mixed_orders_read_one_way_when_told() -> None:
    text = ["13/01/2011", "01/13/2011", "02/03/2011"]
    err = _raises(_frame(text), dayfirst=True)
    assert (err.rule, err.rows) == ("parseable", [1])
    data = CRMData(transactions=_frame(text), dayfirst=True, on_invalid="drop")
    assert data.report.count(rule="parseable", action="dropped") == 1
    _same_instants(_parsed(data), pd.to_datetime(pd.Series(["13/01/2011", "02/03/2011"]),
                                                 format="%d/%m/%Y"))


def test_undecidable_column_needs_a_format_or_dayfirst() -> None:
    text = ["01/02/2011 09:00", "03/04/2011 10:30", "12/11/2011 23:59", "05/06/2011 00:00"]
    err = _raises(_frame(text))
    assert (err.column, err.rule) == ("timestamp", "ambiguous_date_order")
    assert "datetime_format=" in str(err)
    assert "'%d/%m/%Y %H:%M'" in str(err)  # the formats to choose from are spelled out
    day_first = pd.to_datetime(pd.Series(text), format="%d/%m/%Y %H:%M")
    month_first = pd.to_datetime(pd.Series(text), format="%m/%d/%Y %H:%M")
    _same_instants(_parsed(CRMData(transactions=_frame(text), dayfirst=True)), day_first)
    _same_instants(_parsed(CRMData(transactions=_frame(text), dayfirst=False)), month_first)
    _same_instants(
        _parsed(CRMData(transactions=_frame(text), datetime_format="%d/%m/%Y %H:%M")),
        day_first)


def test_values_outside_the_inferred_format_are_not_dates() -> None:
    text = ["13/01/2011", "2011-01-02", "14/01/2011", "yesterday", None, "15/01/2011"]
    err = _raises(_frame(text))
    assert (err.rule, err.rows) == ("parseable", [1, 3])
    assert "'%d/%m/%Y'" in str(err)
    data = CRMData(transactions=_frame(text), on_invalid="drop")
    assert data.report.count(rule="parseable", action="dropped") == 2
    assert data.report.count(rule="not_null", action="dropped") == 1
    _same_instants(_parsed(data), pd.to_datetime(
        pd.Series(["13/01/2011", "14/01/2011", "15/01/2011"]), format="%d/%m/%Y"))


def test_format_and_dayfirst_are_exclusive_and_checked() -> None:
    frame = _frame(["13/01/2011"])
    with pytest.raises(InvalidParameterError, match="not both"):
        CRMData(transactions=frame, datetime_format="%d/%m/%Y", dayfirst=True)
    with pytest.raises(InvalidParameterError, match="dayfirst"):
        CRMData(transactions=frame, dayfirst="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="not both"):
        load_cdnow_sample(datetime_format="%Y%m%d", dayfirst=False)


# ----------------------------------------------------------------- unchanged inputs
def test_iso_text_and_datetimes_pass_unchanged(stamps: pd.Series) -> None:
    iso = ["2011-12-09", "2011-12-09 12:50:00", "2011-12-09T12:50:00", "2011-01-02 08:05"]
    data = CRMData(transactions=_frame(iso))
    _same_instants(_parsed(data), pd.Series(pd.to_datetime(iso, format="ISO8601")))
    assert [e.detail for e in data.report.entries if e.rule == "parsed_datetime"] == [
        "timestamp parsed from str"]
    frame = _frame(stamps)
    as_datetimes = CRMData(transactions=frame)
    _same_instants(_parsed(as_datetimes), stamps)
    assert as_datetimes.report.count(rule="parsed_datetime") == 0


def test_several_offsets_still_become_utc() -> None:
    text = ["2024-03-30T10:00+01:00", "2024-04-02T12:00+02:00", "2024-01-13T09:00+01:00"]
    data = CRMData(transactions=_frame(text))
    _same_instants(_parsed(data), pd.Series(pd.to_datetime(text, utc=True,
                                                            format="ISO8601")))
    assert str(_parsed(data).dt.tz) == "UTC"
    assert data.report.count(rule="to_utc", action="coerced") == 3


@pytest.mark.parametrize("text", [
    ["2011-12-09T12:50:00+01:00", "2011-12-10T12:50:00+01:00", "2011-12-11T09:00:00"],
    # A date alone has no offset (its "-09" is the day): naive among aware values.
    ["2011-12-09", "2011-12-10T12:50:00+01:00", "2011-12-11T09:00:00+02:00"],
])
def test_aware_and_naive_in_one_column_is_an_error(text: list[str]) -> None:
    err = _raises(_frame(text))
    assert (err.rule, err.rows) == ("single_timezone", [text.index(
        next(t for t in text if "+" not in t))])


def test_aware_and_naive_across_date_columns_is_an_error() -> None:
    tx = _frame(["2011-12-09T12:50:00+01:00", "2011-12-10T08:00:00+01:00"])
    customers = pd.DataFrame({"customer_id": ["c0", "c1"],
                              "signup_date": ["2011-01-03", "2011-02-01"]})
    with pytest.raises(DataValidationError) as info:
        CRMData(transactions=tx, customers=customers)
    err = info.value
    assert err.rule == "single_timezone"
    assert "customers.signup_date" in str(err)
    assert "transactions.timestamp" in str(err)
    aware = customers.assign(signup_date=["2011-01-03T00:00+01:00", "2011-02-01T00:00+01:00"])
    data = CRMData(transactions=tx, customers=aware)
    assert data.customers is not None
    assert str(data.customers["signup_date"].dt.tz) == str(_parsed(data).dt.tz)


def test_every_date_column_uses_the_options() -> None:
    tx = _frame(["01/02/2011", "03/02/2011"])
    customers = pd.DataFrame({"customer_id": ["c0", "c1"],
                              "signup_date": ["05/01/2011", "06/01/2011"]})
    data = CRMData(transactions=tx, customers=customers, dayfirst=True)
    assert data.customers is not None
    assert data.customers["signup_date"].dt.month.tolist() == [1, 1]
    assert _parsed(data).dt.month.tolist() == [2, 2]


def test_callers_frames_are_not_modified() -> None:
    tx = _frame(["13/01/2011 09:00", "01/02/2011 10:00", "bad", None])
    both_orders = np.array(["01/13/2011", "13/01/2011", None, None], dtype=object)
    customers = pd.DataFrame({"customer_id": ["c0"], "signup_date": ["13/01/2011"]})
    before_tx, before_customers = tx.copy(deep=True), customers.copy(deep=True)
    CRMData(transactions=tx, customers=customers, on_invalid="drop")
    with pytest.raises(DataValidationError):
        CRMData(transactions=tx.assign(timestamp=both_orders))
    pd.testing.assert_frame_equal(tx, before_tx)
    pd.testing.assert_frame_equal(customers, before_customers)


def test_from_frames_passes_the_date_options() -> None:
    raw = pd.DataFrame({"CustomerID": [7, 8], "InvoiceDate": ["03/01/2011", "04/01/2011"],
                        "Spend": [3.5, 4.0]})
    columns = {"customer_id": "CustomerID", "timestamp": "InvoiceDate", "amount": "Spend"}
    with pytest.raises(DataValidationError, match="dayfirst="):
        CRMData.from_frames(raw, columns=columns)
    for kwargs, layout in (({"dayfirst": True}, "%d/%m/%Y"),
                           ({"datetime_format": "%m/%d/%Y"}, "%m/%d/%Y")):
        data = CRMData.from_frames(raw, columns=columns, **kwargs)
        _same_instants(_parsed(data), pd.to_datetime(raw["InvoiceDate"], format=layout))


def test_loader_date_options_are_passed_through() -> None:
    default = load_cdnow_sample()
    assert default.transactions is not None
    told = load_cdnow_sample(datetime_format="%Y%m%d")
    inferred = load_cdnow_sample(dayfirst=True)  # '19970101': year first, no order to settle
    for other in (told, inferred):
        assert other.transactions is not None
        _same_instants(other.transactions["timestamp"], default.transactions["timestamp"])


# ----------------------------------------------------------------- randomised check
@pytest.mark.parametrize("seed", range(6))
def test_inferred_order_matches_the_true_one(seed: int) -> None:
    """Random columns in a random order and layout: parsed exactly as written, or refused."""
    rng = np.random.default_rng(seed)
    day_first = bool(rng.integers(2))
    n = int(rng.integers(1, 40))
    days = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3000, n), unit="D")
    sep = str(rng.choice(["/", ".", "-"]))
    layout = sep.join(["%d", "%m"] if day_first else ["%m", "%d"]) + f"{sep}%Y"
    if rng.integers(2):
        layout += " %H:%M"
        days = days + pd.to_timedelta(rng.integers(0, 1440, n), unit="min")
    text = pd.Series(days).dt.strftime(layout)
    decisive = (pd.Series(days).dt.day > 12).any()
    if decisive:
        _same_instants(_parsed(CRMData(transactions=_frame(text))),
                       pd.to_datetime(text, format=layout))
    else:
        assert _raises(_frame(text)).rule == "ambiguous_date_order"
    _same_instants(_parsed(CRMData(transactions=_frame(text), dayfirst=day_first)),
                   pd.to_datetime(text, format=layout))


# ----------------------------------------------------------------- container repr
def test_repr_names_each_part_once() -> None:
    tx = _frame(["13/01/2011", "14/01/2011", "15/01/2011"])
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(5)]})
    text = repr(CRMData(transactions=tx, customers=customers))
    assert len(re.findall(r"\bcustomers=", text)) == 1
    assert "transactions=3 rows" in text
    assert "customers=5 rows" in text
    assert "n_customers=5" in text
    assert "observation_end=2011-01-15 00:00:00" in text
