"""Dataset registry, checksum verification and loaders."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, TypedDict

import pandas as pd

from crmmodels.data import CRMData, match_cancellations
from crmmodels.errors import DatasetError, DatasetNotFoundError, InvalidParameterError

ENV_VAR: Final = "CRMMODELS_DATA_DIR"


@dataclass(frozen=True)
class DatasetInfo:
    """Where a data file lives, its checksum and its public source."""

    name: str
    relpath: str
    sha256: str
    source: str
    licence: str
    bundled_with: str | None = None
    #: Address of the very file the loader reads (pinned to a commit), when it is
    #: published as such; None when the file is derived from the source (see
    #: ``derivation``) and so cannot be fetched.
    url: str | None = None
    #: How the file was derived from the source, when it was.
    derivation: str | None = None


DATASETS: Final[dict[str, DatasetInfo]] = {
    "cdnow": DatasetInfo(
        "cdnow", "data/cdnow_master.txt.gz",
        "ce9d3785b68a7d9d27120947dd510aec663c667b96ac0314988cbecbf2459436",
        "https://www.brucehardie.com/datasets/ (CDNOW master, 23,570 customers)",
        "as distributed with lifetimes (MIT); data courtesy of Fader & Hardie",
        bundled_with="crmmodels.datasets",
    ),
    "cdnow_sample": DatasetInfo(
        "cdnow_sample", "data/cdnow_sample.txt.gz",
        "5acfc85900e7fd346702395083244873ae3f156a3dcad1547b4ae723262bdad2",
        "https://www.brucehardie.com/datasets/ (CDNOW 1/10th sample, 2,357 customers)",
        "as distributed with lifetimes (MIT); data courtesy of Fader & Hardie",
        bundled_with="crmmodels.datasets",
    ),
    "donations": DatasetInfo(
        "donations", "data/donations.csv",
        "82c25f26a201ff047e1cd5fe3d7967a45db92a025ecedee72ff8940e50104544",
        "Fader, Hardie & Shang (2010), Marketing Science 29(6): 1995 cohort of 11,104 "
        "donors, six annual opportunities",
        "as distributed with lifetimes (MIT); data courtesy of Fader & Hardie",
        bundled_with="crmmodels.datasets",
    ),
    "online_retail": DatasetInfo(
        "online_retail", "online_retail/online_retail_uci.csv.gz",
        "51b5d7f4b2d5db3aa85d7f85dd0c775199bfb15548f3ec2104113db14eb8ae8a",
        "UCI Machine Learning Repository, 'Online Retail' (id 352); R package onlineretail",
        "CC BY 4.0 (UCI) / CC0 (R package); cite Chen, Sain & Guo (2012)",
        derivation="onlineretail.rda of the R package 'onlineretail' 0.1.2 "
        "(github.com/allanvc/onlineretail, commit 3a77afe, data/onlineretail.rda) read with "
        "pyreadr 0.5.8 and written as gzip-compressed csv, values unchanged",
    ),
    "groceries": DatasetInfo(
        "groceries", "groceries/groceries.csv",
        "ff1be892fd6b9b57d1a7bc50de067798963dda607619645988b21789bf23ae3b",
        "R package arules, data(Groceries); csv in "
        "github.com/stedy/Machine-Learning-with-R-datasets",
        "public domain per the source repository; cite Hahsler, Hornik & Reutterer (2006)",
        url="https://raw.githubusercontent.com/stedy/Machine-Learning-with-R-datasets/"
        "ff933238d9c30da179b7e3ad4b6ca938d67efc53/groceries.csv",
    ),
    "telco_churn": DatasetInfo(
        "telco_churn", "telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv",
        "88be4b93fbe0cc83421af1c503794c97c342eca914c1576db7c276e61d61358a",
        "IBM sample data 'Telco Customer Churn' (Kaggle blastchar/telco-customer-churn)",
        "IBM sample data; no explicit licence",
        url="https://raw.githubusercontent.com/Masoud2568/dataset/"
        "af51ec4c1d22361f89e92e40f7e9a4cea104076f/WA_Fn-UseC_-Telco-Customer-Churn.csv",
    ),
    "vehicle_insurance_fraud": DatasetInfo(
        "vehicle_insurance_fraud", "vehicle_insurance_fraud/fraud_oracle.csv",
        "8b6aa59764ef4f8b058598d3e8f325ef3623f52f4b1cd4ef946baebb5ccfa9a6",
        "Oracle / Angoss 'carclaims' (Kaggle shivamb/vehicle-claim-fraud-detection)",
        "no explicit licence",
        url="https://raw.githubusercontent.com/stg2209/insu_fraud_ml/"
        "3fe642862020e3fa9c322f057fcf90fb123e0c98/fraud_oracle.csv",
    ),
    "card_transactions": DatasetInfo(
        "card_transactions", "card_fraud_simulated/transactions_2018-04-01_2018-09-30.csv.gz",
        "d90dceecdaad0f92ae1a03193839034cd3e549e4a228591161da1b11b6a6ba70",
        "Fraud Detection Handbook simulated data "
        "(github.com/Fraud-Detection-Handbook/simulated-data-raw)",
        "GPL-3 simulator output; cite Le Borgne et al. (2022)",
        derivation="the 183 daily pickles data/2018-04-01.pkl .. 2018-09-30.pkl of "
        "github.com/Fraud-Detection-Handbook/simulated-data-raw (commit 6e67dbd), "
        "concatenated and written as gzip-compressed csv",
    ),
    "card_transactions_sample": DatasetInfo(
        "card_transactions_sample",
        "card_fraud_simulated/transactions_2018-04-01_to_04-14_sample.csv.gz",
        "c8d21d6aea9ba1498434666a702ed4fa23d9cdadc96791bc3acb31ff63a457e0",
        "first 14 days of the Fraud Detection Handbook simulated data",
        "GPL-3 simulator output; cite Le Borgne et al. (2022)",
        derivation="the first 14 daily pickles (2018-04-01 .. 04-14) of "
        "github.com/Fraud-Detection-Handbook/simulated-data-raw (commit 6e67dbd), "
        "concatenated and written as gzip-compressed csv",
    ),
    "bank_marketing": DatasetInfo(
        "bank_marketing", "bank_marketing/bank-additional-full.csv",
        "74adfc578bf77a7ff4bb1ba4a9f8709d9e3c6907342959c2c8416847e0afb4d8",
        "UCI Machine Learning Repository, 'Bank Marketing' (id 222, "
        "bank-additional-full.csv); Moro, Cortez & Rita (2014)",
        "CC BY 4.0 (UCI); cite Moro, Cortez & Rita (2014)",
        derivation="member bank-additional/bank-additional-full.csv of bank-additional.zip "
        "inside bank+marketing.zip of github.com/Eshani-haldorai/bank-marketing-classifier "
        "(commit 7617986), bytes unchanged",
    ),
    "hillstrom": DatasetInfo(
        "hillstrom", "hillstrom/hillstrom.csv.gz",
        "d998e88f7a2bc3a015373b95dcc6371581efc3c36dd7b34134745f290dce6296",
        "Kevin Hillstrom, MineThatData E-Mail Analytics And Data Mining Challenge "
        "(2008); csv in github.com/a-raulet/project-02-causal-inference",
        "published by its author for public analysis; no explicit licence",
        derivation="data/raw/hillstrom.csv of github.com/a-raulet/project-02-causal-inference "
        "(commit 413d928), compressed with gzip -9 -n",
    ),
}

_VERIFIED: dict[tuple[str, int, float], bool] = {}


def get_data_home(data_home: str | os.PathLike[str] | None = None) -> Path:
    """Directory holding the data files: ``data_home``, else ``$CRMMODELS_DATA_DIR``.

    Falls back to ``~/crmmodels_data``.

    Examples
    --------
    >>> str(get_data_home("/tmp/some/where"))
    '/tmp/some/where'
    """
    if data_home is not None:
        return Path(data_home).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path.home() / "crmmodels_data"


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DatasetNotFoundError(f"the {package} package is not installed; pip install {package}")
    return Path(next(iter(spec.submodule_search_locations)))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dataset_path(name: str, data_home: str | os.PathLike[str] | None = None, *,
                 download_if_missing: bool = False) -> Path:
    """Path of a registered data file, after checking that it exists and its sha256.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    data_home : path, optional
        The folder holding the data sets (see :func:`get_data_home`).
    download_if_missing : bool, default False
        Fetch a missing file from its published address (``DatasetInfo.url``) into
        ``data_home``, as scikit-learn's fetchers do; its sha256 is checked before it
        is kept. Off by default: crmmodels reaches the network only when asked.

    Raises
    ------
    DatasetNotFoundError
        The file is absent (and not fetched); the message names the expected path, the
        source and, for a derived file, how it was derived.
    DatasetError
        The file's (or the fetched file's) sha256 differs from the registered one.
    """
    if name not in DATASETS:
        raise InvalidParameterError(f"unknown dataset {name!r}; known: {sorted(DATASETS)}")
    info = DATASETS[name]
    base = _package_dir(info.bundled_with) if info.bundled_with else get_data_home(data_home)
    path = base / info.relpath
    if not path.is_file() and download_if_missing and info.url is not None \
            and not info.bundled_with:
        _download(info, path)
    if not path.is_file():
        where = (f"the {info.bundled_with} package" if info.bundled_with
                 else f"data_home= or ${ENV_VAR}")
        how = (f" Download: {info.url} (or pass download_if_missing=True)." if info.url
               else f" The file is derived: {info.derivation}." if info.derivation else "")
        raise DatasetNotFoundError(
            f"dataset {name!r} not found at {path} (looked in {where}). Put the file there "
            f"(or point {ENV_VAR} at the folder holding '{info.relpath.split('/')[0]}/'). "
            f"Public source: {info.source}.{how} Licence: {info.licence}."
        )
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime)
    if not _VERIFIED.get(key):
        digest = _sha256(path)
        if digest != info.sha256:
            raise DatasetError(
                f"{path} has sha256 {digest}, expected {info.sha256}: the file is not the "
                f"published {name!r} data (source: {info.source})"
            )
        _VERIFIED[key] = True
    return path


def _download(info: DatasetInfo, path: Path) -> None:
    """Fetch ``info.url`` to ``path``: through a temporary file, kept only if its sha256 fits."""
    import tempfile
    import urllib.error
    import urllib.request

    assert info.url is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(info.url, timeout=60) as src:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                out.write(chunk)
        digest = _sha256(Path(tmp))
        if digest != info.sha256:
            raise DatasetError(
                f"the file fetched from {info.url} has sha256 {digest}, expected "
                f"{info.sha256}: not the published {info.name!r} data; nothing was kept")
        os.replace(tmp, path)
    except (urllib.error.URLError, OSError) as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetNotFoundError(
            f"dataset {info.name!r}: fetching {info.url} failed ({exc}); put the file at "
            f"{path} instead") from exc
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


class _DateOptions(TypedDict):
    datetime_format: str | None
    dayfirst: bool | None


def _date_options(known: str, datetime_format: str | None,
                  dayfirst: bool | None) -> _DateOptions:
    """Date options for :class:`CRMData`: the file's known format unless the caller chose.

    Examples
    --------
    >>> _date_options("%Y%m%d", None, None)
    {'datetime_format': '%Y%m%d', 'dayfirst': None}
    >>> _date_options("%Y%m%d", None, True)
    {'datetime_format': None, 'dayfirst': True}
    """
    if datetime_format is None and dayfirst is None:
        return {"datetime_format": known, "dayfirst": None}
    return {"datetime_format": datetime_format, "dayfirst": dayfirst}


def _read_cdnow(path: Path, sample: bool) -> pd.DataFrame:
    if sample:
        names = ["customer_id", "sample_index", "date", "quantity", "amount"]
        raw = pd.read_csv(path, sep=r"\s+", header=None, names=names,
                          dtype={"customer_id": str, "date": str})
        raw = raw.drop(columns="sample_index")
    else:
        raw = pd.read_csv(path, sep=r"\s+", header=0,
                          names=["customer_id", "date", "quantity", "amount"],
                          dtype={"customer_id": str, "date": str})
    raw["timestamp"] = raw.pop("date")  # text, e.g. 19970101: CRMData reads it
    return raw[["customer_id", "timestamp", "amount", "quantity"]]


CDNOW_END: Final = pd.Timestamp("1998-06-30")
CDNOW_DATE_FORMAT: Final = "%Y%m%d"


def load_cdnow(*, datetime_format: str | None = None, dayfirst: bool | None = None) -> CRMData:
    """CDNOW master log: 69,659 purchases of 23,570 customers, Jan 1997 - Jun 1998.

    The cohort first bought in the first quarter of 1997 (Fader, Hardie & Lee 2005
    use a 1/10th sample of it; see :func:`load_cdnow_sample`). ``quantity`` is the
    number of CDs; ``observation_end`` is 1998-06-30 (week 78).

    Parameters
    ----------
    datetime_format : str, optional
        ``strftime`` format of the file's dates (default: the published file's own
        format, ``'%Y%m%d'``); passed to :class:`~crmmodels.CRMData`.
    dayfirst : bool, optional
        Read day/month/year dates day-first (``True``) or month-first (``False``)
        instead of with a format; not together with ``datetime_format``.

    Returns
    -------
    CRMData
        Transactions ``customer_id, timestamp, amount, quantity``. A few purchases
        have amount 0; repeated identical rows are kept (counted in the report).

    Examples
    --------
    >>> data = load_cdnow()
    >>> data.n_customers
    23570
    """
    tx = _read_cdnow(dataset_path("cdnow"), sample=False)
    return CRMData(transactions=tx, observation_end=CDNOW_END,
                   **_date_options(CDNOW_DATE_FORMAT, datetime_format, dayfirst))


def load_cdnow_sample(
    *, datetime_format: str | None = None, dayfirst: bool | None = None
) -> CRMData:
    """CDNOW 1/10th sample: 6,919 purchases of 2,357 customers (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    datetime_format : str, optional
        ``strftime`` format of the file's dates (default: the published file's own
        format, ``'%Y%m%d'``); passed to :class:`~crmmodels.CRMData`.
    dayfirst : bool, optional
        Read day/month/year dates day-first (``True``) or month-first (``False``)
        instead of with a format; not together with ``datetime_format``.

    Returns
    -------
    CRMData
        Transactions ``customer_id, timestamp, amount, quantity``.

    Examples
    --------
    >>> load_cdnow_sample().n_customers
    2357
    """
    tx = _read_cdnow(dataset_path("cdnow_sample"), sample=True)
    return CRMData(transactions=tx, observation_end=CDNOW_END,
                   **_date_options(CDNOW_DATE_FORMAT, datetime_format, dayfirst))


def load_donations(*, patterns: bool = False) -> pd.DataFrame:
    """Donations: the 1995 cohort of 11,104 first-time donors, summarised for BG/BB.

    Fader, Hardie & Shang (2010), "Customer-base analysis in a discrete-time
    noncontractual setting": each donor had six annual opportunities to give again
    (1996-2001). The file holds the 22 distinct (frequency, recency) patterns, each with
    the number of donors who share it.

    Parameters
    ----------
    patterns : bool, default False
        Return the 22 patterns with their ``n_customers`` instead of one row per donor.

    Returns
    -------
    pandas.DataFrame
        One row per donor, ``frequency, recency, n_periods``, indexed by
        ``customer_id`` (``"d00001"``...): a discrete-time summary
        :class:`~crmmodels.cltv.BetaGeoBetaBinomModel` fits directly. With
        ``patterns=True``, ``frequency, recency, n_periods, n_customers``.

    Notes
    -----
    Bundled with crmmodels: the file ``donations.csv`` as distributed in the lifetimes
    package 0.11.3 (MIT licence), byte for byte (its sha256 is checked), with the
    column ``periods`` read as ``n_periods`` and ``weights`` as ``n_customers``.

    Examples
    --------
    >>> len(load_donations()), len(load_donations(patterns=True))
    (11104, 22)
    """
    raw = pd.read_csv(dataset_path("donations"))
    out = raw.rename(columns={"periods": "n_periods", "weights": "n_customers"})
    out = out[["frequency", "recency", "n_periods", "n_customers"]]
    if patterns:
        return out
    donors = out.loc[out.index.repeat(out["n_customers"])].drop(columns="n_customers")
    donors.index = pd.Index([f"d{i:05d}" for i in range(1, len(donors) + 1)],
                            name="customer_id")
    return donors


ONLINE_RETAIL_DATE_FORMAT: Final = "%Y-%m-%d %H:%M:%S"


def load_online_retail(
    data_home: str | os.PathLike[str] | None = None,
    *,
    download_if_missing: bool = False,
    clean: bool = True,
    datetime_format: str | None = None,
    dayfirst: bool | None = None,
) -> CRMData:
    """UCI Online Retail: a UK online gift shop, Dec 2010 - Dec 2011 (Chen et al. 2012).

    Parameters
    ----------
    data_home : path, optional
        Folder holding ``online_retail/online_retail_uci.csv.gz``.
    download_if_missing : bool, default False
        Accepted for the common signature; this file is derived from its source (see
        Notes), so a missing one is not fetched: the error says how to make it.
    clean : bool, default True
        Apply the usual cleaning: keep rows with a customer, positive quantity and
        price, and no cancellation invoice ("C..."); a cancelled order leaves with its
        cancellation (:func:`~crmmodels.data.match_cancellations`: same customer,
        product and quantity, the latest order at or before it). Of the 406,789 rows
        with a customer and a positive price, 2,899 cancellations are removed with
        their orders (5,798 rows) and 6,006 cancellations without a matching order
        are dropped, both counted in ``data.report`` -> 394,985 rows of 4,327
        customers. With ``clean=False`` cancellations are kept as returns
        (``allow_returns=True``) and the 135,080 rows without a customer are
        dropped by validation and counted in ``data.report``.
    datetime_format : str, optional
        ``strftime`` format of ``InvoiceDate`` (default: the published file's own
        format, ``'%Y-%m-%d %H:%M:%S'``); passed to :class:`~crmmodels.CRMData`.
    dayfirst : bool, optional
        Read day/month/year invoice dates day-first (``True``) or month-first
        (``False``, as in the UCI spreadsheet's ``12/1/2010 8:26``) instead of with a
        format; not together with ``datetime_format``.

    Returns
    -------
    CRMData
        Transactions ``customer_id, timestamp, amount (= quantity x unit_price),
        transaction_id (invoice), product_id (stock code), quantity, unit_price,
        description, country``; customers ``customer_id, country``.

    Notes
    -----
    ``online_retail/online_retail_uci.csv.gz`` (sha256 ``51b5d7f4b2d5db3a...``): source
    UCI Machine Learning Repository, 'Online Retail' (id 352); R package onlineretail;
    derived from it: onlineretail.rda of the R package 'onlineretail' 0.1.2
    (github.com/allanvc/onlineretail, commit 3a77afe, data/onlineretail.rda) read with
    pyreadr 0.5.8 and written as gzip-compressed csv, values unchanged.

    Examples
    --------
    >>> data = load_online_retail()
    >>> data.n_customers
    4327
    >>> data.report.count(rule="cancelled_order", action="dropped")
    5798
    """
    path = dataset_path("online_retail", data_home, download_if_missing=download_if_missing)
    raw = pd.read_csv(path,
                      dtype={"InvoiceNo": str, "StockCode": str, "Description": str,
                             "Country": str})
    dates = _date_options(ONLINE_RETAIL_DATE_FORMAT, datetime_format, dayfirst)
    end = pd.Timestamp("2011-12-09 23:59:59")
    if clean:
        cancelled = raw["InvoiceNo"].str.startswith("C").fillna(False)
        keep = (raw["CustomerID"].notna() & (raw["UnitPrice"] > 0)
                & ((~cancelled & (raw["Quantity"] > 0)) | (cancelled & (raw["Quantity"] < 0))))
        raw = raw.loc[keep]
    tx = pd.DataFrame({
        "customer_id": raw["CustomerID"],
        "timestamp": raw["InvoiceDate"],
        "amount": raw["Quantity"] * raw["UnitPrice"],
        "transaction_id": raw["InvoiceNo"],
        "product_id": raw["StockCode"],
        "quantity": raw["Quantity"].abs(),
        "unit_price": raw["UnitPrice"],
        "description": raw["Description"],
        "country": raw["Country"],
    })
    if not clean:
        customers = (raw.loc[raw["CustomerID"].notna(), ["CustomerID", "Country"]]
                     .drop_duplicates("CustomerID")
                     .rename(columns={"CustomerID": "customer_id", "Country": "country"}))
        return CRMData(transactions=tx, customers=customers, observation_end=end,
                       allow_returns=True, on_invalid="drop", **dates)
    # Cancellations leave with the orders they cancel (validated first: parsed dates).
    with_cancellations = CRMData(transactions=tx, observation_end=end, allow_returns=True,
                                 **dates)
    assert with_cancellations.transactions is not None
    matched = match_cancellations(with_cancellations, on_unmatched="drop")
    tx = matched.transactions
    customers = (tx[["customer_id", "country"]].drop_duplicates("customer_id"))
    data = CRMData(transactions=tx, customers=customers, observation_end=end, **dates)
    data.report.rows_in["transactions"] = len(with_cancellations.transactions)
    data.report.add(
        "transactions", "transaction_id", "cancelled_order", "dropped",
        2 * matched.n_matched, list(matched.pairs["cancellation"][:5]),
        f"cancellations matched to their orders: {2 * matched.n_matched} rows removed "
        f"({matched.n_matched} cancellations with their orders, order amount "
        f"{matched.amount_removed:,.2f})")
    data.report.add(
        "transactions", "transaction_id", "unmatched_cancellation", "dropped",
        matched.n_unmatched, list(matched.unmatched[:5]),
        "cancellations without an earlier order of the same customer, product and "
        "quantity (placed before the data starts, or cancelling part of an order)")
    return data


def load_groceries(data_home: str | os.PathLike[str] | None = None, *,
                   download_if_missing: bool = False) -> pd.DataFrame:
    """Groceries: 9,835 point-of-sale baskets, 169 items (arules; Hahsler et al. 2006).

    Item labels are kept exactly as in arules (some end in a space).

    Parameters
    ----------
    data_home : path, optional
        Folder holding the data sets (default: ``$CRMMODELS_DATA_DIR``).
    download_if_missing : bool, default False
        Fetch the file from its published address when it is not in ``data_home``
        (its sha256 checked before it is kept); see :func:`dataset_path`.

    Returns
    -------
    DataFrame
        Long format, one row per (basket, item): ``basket_id`` (0-based line
        number), ``item``.

    Notes
    -----
    ``groceries/groceries.csv`` (sha256 ``ff1be892fd6b9b57...``): source R package
    arules, data(Groceries); csv in github.com/stedy/Machine-Learning-with-R-datasets;
    published as is at
    https://raw.githubusercontent.com/stedy/Machine-Learning-with-R-datasets/ff933238d9c30da179b7e3ad4b6ca938d67efc53/groceries.csv

    Examples
    --------
    >>> baskets = load_groceries()
    >>> baskets["basket_id"].nunique(), baskets["item"].nunique()
    (9835, 169)
    """
    path = dataset_path("groceries", data_home, download_if_missing=download_if_missing)
    ids: list[int] = []
    items: list[str] = []
    with open(path, encoding="utf-8", newline="") as fh:
        for i, line in enumerate(fh):
            for item in line.rstrip("\r\n").split(","):
                if item:
                    ids.append(i)
                    items.append(item)
    return pd.DataFrame({"basket_id": ids, "item": pd.Series(items, dtype="str")})


def load_telco_churn(data_home: str | os.PathLike[str] | None = None, *,
                     download_if_missing: bool = False) -> CRMData:
    """IBM Telco customer churn: 7,043 customers, 26.5% churned.

    ``TotalCharges`` is blank for the 11 customers with tenure 0; it is read as NaN.

    Parameters
    ----------
    data_home : path, optional
        Folder holding the data sets (default: ``$CRMMODELS_DATA_DIR``).
    download_if_missing : bool, default False
        Fetch the file from its published address when it is not in ``data_home``
        (its sha256 checked before it is kept); see :func:`dataset_path`.

    Returns
    -------
    CRMData
        Customers frame: ``customer_id``, ``churned`` (bool) and every attribute
        column of the file.

    Notes
    -----
    ``telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv`` (sha256
    ``88be4b93fbe0cc83...``): source IBM sample data 'Telco Customer Churn' (Kaggle
    blastchar/telco-customer-churn); published as is at
    https://raw.githubusercontent.com/Masoud2568/dataset/af51ec4c1d22361f89e92e40f7e9a4cea104076f/WA_Fn-UseC_-Telco-Customer-Churn.csv

    Examples
    --------
    >>> data = load_telco_churn()
    >>> round(float(data.customers["churned"].mean()), 4)
    0.2654
    """
    path = dataset_path("telco_churn", data_home, download_if_missing=download_if_missing)
    raw = pd.read_csv(path)
    raw["TotalCharges"] = pd.to_numeric(raw["TotalCharges"].str.strip().replace("", None))
    raw = raw.rename(columns={"customerID": "customer_id", "Churn": "churned"})
    return CRMData(customers=raw)


def load_vehicle_insurance_fraud(data_home: str | os.PathLike[str] | None = None, *,
                                 download_if_missing: bool = False) -> pd.DataFrame:
    """Vehicle insurance claims: 15,420 claims, 923 (6.0%) fraudulent.

    ``FraudFound_P`` is the label; ``PolicyNumber`` is the row number (an
    identifier, not a feature: it leaks the row order).

    Parameters
    ----------
    data_home : path, optional
        Folder holding the data sets (default: ``$CRMMODELS_DATA_DIR``).
    download_if_missing : bool, default False
        Fetch the file from its published address when it is not in ``data_home``
        (its sha256 checked before it is kept); see :func:`dataset_path`.

    Returns
    -------
    DataFrame
        The claims table as published (one row per claim).

    Notes
    -----
    ``vehicle_insurance_fraud/fraud_oracle.csv`` (sha256 ``8b6aa59764ef4f8b...``):
    source Oracle / Angoss 'carclaims' (Kaggle shivamb/vehicle-claim-fraud-detection);
    published as is at
    https://raw.githubusercontent.com/stg2209/insu_fraud_ml/3fe642862020e3fa9c322f057fcf90fb123e0c98/fraud_oracle.csv

    Examples
    --------
    >>> claims = load_vehicle_insurance_fraud()
    >>> int(claims["FraudFound_P"].sum())
    923
    """
    path = dataset_path("vehicle_insurance_fraud", data_home,
                        download_if_missing=download_if_missing)
    return pd.read_csv(path,
                       encoding="utf-8-sig")


CARD_TRANSACTIONS_DATE_FORMAT: Final = "%Y-%m-%d %H:%M:%S"


def load_card_transactions(
    data_home: str | os.PathLike[str] | None = None,
    *,
    download_if_missing: bool = False,
    subset: Literal["full", "sample"] = "full",
    datetime_format: str | None = None,
    dayfirst: bool | None = None,
) -> CRMData:
    """Load simulated card transactions with fraud labels (Fraud Detection Handbook).

    Parameters
    ----------
    data_home : path, optional
        Folder holding ``card_fraud_simulated/``.
    download_if_missing : bool, default False
        Accepted for the common signature; this file is derived from its source (see
        Notes), so a missing one is not fetched: the error says how to make it.
    subset : {"full", "sample"}, default "full"
        ``"full"``: 1,754,155 transactions, 2018-04-01 to 2018-09-30;
        ``"sample"``: the first 14 days (134,288 transactions).
    datetime_format : str, optional
        ``strftime`` format of ``TX_DATETIME`` (default: the published file's own
        format, ``'%Y-%m-%d %H:%M:%S'``); passed to :class:`~crmmodels.CRMData`.
    dayfirst : bool, optional
        Read day/month/year dates day-first (``True``) or month-first (``False``)
        instead of with a format; not together with ``datetime_format``.

    Returns
    -------
    CRMData
        Transactions ``customer_id, timestamp, amount, transaction_id, is_fraud,
        terminal_id, fraud_scenario, tx_time_seconds, tx_time_days``.

    Notes
    -----
    ``card_fraud_simulated/transactions_2018-04-01_2018-09-30.csv.gz`` (sha256
    ``d90dceecdaad0f92...``): source Fraud Detection Handbook simulated data
    (github.com/Fraud-Detection-Handbook/simulated-data-raw); derived from it: the 183
    daily pickles data/2018-04-01.pkl .. 2018-09-30.pkl of
    github.com/Fraud-Detection-Handbook/simulated-data-raw (commit 6e67dbd),
    concatenated and written as gzip-compressed csv.
    ``card_fraud_simulated/transactions_2018-04-01_to_04-14_sample.csv.gz`` (sha256
    ``c8d21d6aea9ba149...``): source first 14 days of the Fraud Detection Handbook
    simulated data; derived from it: the first 14 daily pickles (2018-04-01 .. 04-14) of
    github.com/Fraud-Detection-Handbook/simulated-data-raw (commit 6e67dbd),
    concatenated and written as gzip-compressed csv.

    Examples
    --------
    >>> data = load_card_transactions(subset="sample")
    >>> len(data.transactions)
    134288
    """
    if subset not in ("full", "sample"):
        raise InvalidParameterError(f"subset must be 'full' or 'sample', got {subset!r}")
    name = "card_transactions" if subset == "full" else "card_transactions_sample"
    raw = pd.read_csv(dataset_path(name, data_home, download_if_missing=download_if_missing))
    tx = pd.DataFrame({
        "customer_id": raw["CUSTOMER_ID"].astype("str"),
        "timestamp": raw["TX_DATETIME"],
        "amount": raw["TX_AMOUNT"],
        "transaction_id": raw["TRANSACTION_ID"].astype("str"),
        "is_fraud": raw["TX_FRAUD"].astype(bool),
        "terminal_id": raw["TERMINAL_ID"].astype("str"),
        "fraud_scenario": raw["TX_FRAUD_SCENARIO"],
        "tx_time_seconds": raw["TX_TIME_SECONDS"],
        "tx_time_days": raw["TX_TIME_DAYS"],
    })
    return CRMData(transactions=tx, **_date_options(CARD_TRANSACTIONS_DATE_FORMAT,
                                                    datetime_format, dayfirst))


def load_bank_marketing(data_home: str | os.PathLike[str] | None = None, *,
                        download_if_missing: bool = False) -> pd.DataFrame:
    """UCI Bank Marketing: 41,188 telephone contacts of a Portuguese bank, 11.3% subscribed.

    The direct-marketing campaigns of May 2008 - November 2010, with the social and
    economic context (Moro, Cortez & Rita 2014, ``bank-additional-full.csv``). The
    label ``y`` ("yes"/"no") says whether the client subscribed a term deposit.
    ``duration`` (the call's length in seconds) is known only once the call has
    ended, and a call of length 0 always means "no": it leaks the outcome and must be
    left out of a model that chooses whom to call. Missing values are coded
    ``"unknown"``; 12 rows are exact duplicates, kept as published.

    Source: UCI Machine Learning Repository, "Bank Marketing" (id 222), DOI
    10.24432/C5K306. Licence: CC BY 4.0 (UCI); cite S. Moro, P. Cortez and P. Rita, A
    Data-Driven Approach to Predict the Success of Bank Telemarketing, Decision Support
    Systems 62 (2014) 22-31.

    Parameters
    ----------
    data_home : path, optional
        Folder holding ``bank_marketing/bank-additional-full.csv``.
    download_if_missing : bool, default False
        Accepted for the common signature; this file is derived from its source (see
        Notes), so a missing one is not fetched: the error says how to make it.

    Returns
    -------
    DataFrame
        The table as published (``;``-separated): 21 columns, ``age`` to
        ``nr.employed`` and the label ``y``, one row per contact.

    Notes
    -----
    ``bank_marketing/bank-additional-full.csv`` (sha256 ``74adfc578bf77a7f...``): source
    UCI Machine Learning Repository, 'Bank Marketing' (id 222,
    bank-additional-full.csv); Moro, Cortez & Rita (2014); derived from it: member
    bank-additional/bank-additional-full.csv of bank-additional.zip inside
    bank+marketing.zip of github.com/Eshani-haldorai/bank-marketing-classifier (commit
    7617986), bytes unchanged.

    Examples
    --------
    >>> bank = load_bank_marketing()
    >>> bank.shape, int((bank["y"] == "yes").sum())
    ((41188, 21), 4640)
    """
    path = dataset_path("bank_marketing", data_home, download_if_missing=download_if_missing)
    return pd.read_csv(path, sep=";")


def load_hillstrom(data_home: str | os.PathLike[str] | None = None, *,
                   download_if_missing: bool = False) -> pd.DataFrame:
    """Hillstrom's e-mail test: 64,000 customers randomised to three arms (2008).

    Kevin Hillstrom's MineThatData E-Mail Analytics And Data Mining Challenge: customers
    who bought in the last twelve months were split at random into thirds that got a
    "Mens E-Mail", a "Womens E-Mail" or "No E-Mail" (the control); visits, conversions
    and spend were tracked for two weeks after. The standard public benchmark for
    uplift (treatment-effect) models. In this copy of the file the arm column
    (``segment`` in the original) is named ``treatment``; ``zip_code`` keeps the
    original's spelling "Surburban".

    Source: MineThatData blog (Kevin Hillstrom, March 2008); this csv from
    github.com/a-raulet/project-02-causal-inference (commit 413d928). Licence:
    published by its author for public analysis; no licence file.

    Parameters
    ----------
    data_home : path, optional
        Folder holding ``hillstrom/hillstrom.csv.gz``.
    download_if_missing : bool, default False
        Accepted for the common signature; this file is derived from its source (see
        Notes), so a missing one is not fetched: the error says how to make it.

    Returns
    -------
    DataFrame
        One row per customer: features ``recency, history_segment, history, mens,
        womens, zip_code, newbie, channel``, the arm ``treatment`` ("Mens E-Mail",
        "Womens E-Mail", "No E-Mail") and the outcomes ``conversion``, ``visit``
        (0/1) and ``spend``.

    Notes
    -----
    ``hillstrom/hillstrom.csv.gz`` (sha256 ``d998e88f7a2bc3a0...``): source Kevin
    Hillstrom, MineThatData E-Mail Analytics And Data Mining Challenge (2008); csv in
    github.com/a-raulet/project-02-causal-inference; derived from it:
    data/raw/hillstrom.csv of github.com/a-raulet/project-02-causal-inference (commit
    413d928), compressed with gzip -9 -n.

    Examples
    --------
    >>> hillstrom = load_hillstrom()
    >>> hillstrom["treatment"].value_counts().sort_index().tolist()
    [21307, 21306, 21387]
    >>> round(float(hillstrom["visit"].mean()), 6)
    0.146781
    """
    path = dataset_path("hillstrom", data_home, download_if_missing=download_if_missing)
    return pd.read_csv(path)
