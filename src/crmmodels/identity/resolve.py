"""Deterministic identity resolution: one ``customer_key`` per person across ids and channels.

:func:`resolve_identities` normalises each identifying key (e-mail, phone, loyalty
number, any other text key), links the records that share a normalised value or a
source id, and numbers the connected components. Its rules are data: the ``settings``
dict of the returned :class:`IdentityResolution` rebuilds the same resolution, can be
saved as JSON, and is used again by :meth:`IdentityResolution.update`.
"""

from __future__ import annotations

import copy
import html
import io
import json
import os
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmmodels.core import HTMLCard
from crmmodels.data import CRMData, argsort_text
from crmmodels.errors import (
    DataQualityWarning,
    DataValidationError,
    InvalidParameterError,
    MissingColumnError,
    ModelFormatError,
    warn,
)
from crmmodels.identity._fuzzy import fuzzy_pairs, fuzzy_rule, normalize_fuzzy, prior_from_links
from crmmodels.identity._link import link
from crmmodels.identity._normalize import (
    DOMAIN_ALIASES,
    DOT_INSENSITIVE,
    KINDS,
    normalize_key,
)

__all__ = ["DEFAULT_KEYS", "IdentityReport", "IdentityResolution", "default_rule",
           "resolve_identities"]

# Column names read as keys when ``keys`` is not given, with their kind.
DEFAULT_KEYS: dict[str, str] = {"email": "email", "phone": "phone", "loyalty_id": "loyalty"}
# Names whose kind is known when keys are given as a list of names.
_KNOWN_NAMES: dict[str, str] = {
    "email": "email", "e_mail": "email", "email_address": "email", "mail": "email",
    "phone": "phone", "phone_number": "phone", "mobile": "phone", "telephone": "phone",
    "tel": "phone", "loyalty_id": "loyalty", "loyalty_number": "loyalty",
    "loyalty_card": "loyalty", "card_number": "loyalty", "member_id": "loyalty",
}
SETTINGS_FORMAT = 1
_FILE_FORMAT = "crmmodels.identity_resolution"
_KEY_WIDTH = 7
# Conflicting values shown per cluster and key in the report.
_SHOWN = 5
# The keys of an earlier resolution, as a link.
_EARLIER = "(earlier key)"
# Pairs matched by probability, as links (in report.split when cut).
_FUZZY = "(fuzzy)"


def default_rule(kind: str) -> dict[str, Any]:
    """Return the full default rule of a key kind (every option spelled out).

    Examples
    --------
    >>> default_rule("phone")
    {'kind': 'phone', 'default_country_code': '1', 'trunk_prefix': '0'}
    """
    if kind == "email":
        return {"kind": "email", "strip_plus_tags": True,
                "dot_insensitive_domains": list(DOT_INSENSITIVE),
                "domain_aliases": dict(DOMAIN_ALIASES)}
    if kind == "phone":
        return {"kind": "phone", "default_country_code": "1", "trunk_prefix": "0"}
    if kind in KINDS:
        return {"kind": kind}
    raise InvalidParameterError(f"key kind must be one of {sorted(KINDS)}, got {kind!r}")


def _norm_name(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name.lower()).strip("_")


def _key_rules(keys: Sequence[str] | Mapping[str, Any] | None, columns: Sequence[str]
               ) -> dict[str, dict[str, Any]]:
    """Every key column with its full rule."""
    if keys is None:
        present = {c: k for c, k in DEFAULT_KEYS.items() if c in columns}
        if not present:
            raise DataValidationError(
                f"no key column: none of {list(DEFAULT_KEYS)} is in the frame (have "
                f"{list(columns)[:10]}); name them with keys={{column: kind}}, kinds "
                f"{sorted(KINDS)}", rule="no_keys")
        return {c: default_rule(k) for c, k in present.items()}
    if isinstance(keys, str):
        raise InvalidParameterError(f"keys must be a list of column names or a mapping "
                                    f"{{column: kind}}, got the string {keys!r}")
    rules: dict[str, dict[str, Any]] = {}
    if isinstance(keys, Mapping):
        for column, rule in keys.items():
            if isinstance(rule, str):
                rules[str(column)] = default_rule(rule)
            elif isinstance(rule, Mapping):
                full = default_rule(str(rule.get("kind")))
                full.update(copy.deepcopy(dict(rule)))
                rules[str(column)] = full
            else:
                raise InvalidParameterError(
                    f"keys[{column!r}] must be a kind ({sorted(KINDS)}) or a rule dict, got "
                    f"{rule!r}")
    else:
        for column in keys:
            if str(column) not in columns:
                raise MissingColumnError("records", str(column), list(columns))
            kind = _KNOWN_NAMES.get(_norm_name(str(column)))
            if kind is None:
                raise InvalidParameterError(
                    f"the kind of key {column!r} is not known from its name; give keys as a "
                    f"mapping, e.g. keys={{{str(column)!r}: 'text'}} (kinds {sorted(KINDS)})")
            rules[str(column)] = default_rule(kind)
    if not rules:
        raise InvalidParameterError("keys must name at least one column")
    return rules


def _source_ids(values: pd.Series, column: str) -> pd.Series:
    """Source ids as text (whole numbers without a decimal point); none may be missing."""
    missing = values.isna().to_numpy()
    if missing.any():
        raise DataValidationError(
            f"{column} must not be missing: every record needs its source id",
            column=column, rule="not_null", rows=values.index[missing][:5],
            n_rows=int(missing.sum()))
    if pd.api.types.is_integer_dtype(values.dtype):
        return values.astype("str").astype(object)
    if pd.api.types.is_float_dtype(values.dtype):
        v = values.to_numpy(dtype=float)
        return pd.Series([str(int(x)) if x.is_integer() else str(x) for x in v],
                         index=values.index, dtype=object)
    text = values.astype("object").map(str).str.strip()
    blank = text.eq("").to_numpy()
    if blank.any():
        raise DataValidationError(f"{column} must not be empty text", column=column,
                                  rule="non_empty", rows=values.index[blank][:5],
                                  n_rows=int(blank.sum()))
    return text


@dataclass(frozen=True)
class IdentityReport:
    """What a resolution did.

    Attributes
    ----------
    records : int
        Records read (rows of the frame, earlier records included after an update).
    source_ids : int
        Distinct source ids.
    people : int
        Distinct ``customer_key`` values.
    records_linked : int
        Records in a cluster of two or more records.
    keys : DataFrame
        Per key: ``present`` (non-missing values), ``unusable`` (values that normalise
        to nothing, e.g. an address without ``@``), ``distinct`` (normalised values),
        ``shared`` (records holding a value another record holds too).
    cluster_sizes : Series
        Number of clusters of each size (records per cluster).
    conflicts : DataFrame
        Clusters holding more than one value of a key: ``customer_key``, ``key``,
        ``n_values``, ``values`` (the first five).
    split : DataFrame
        Values not used as links because too many records share them or because they
        held a cluster above ``max_cluster_size`` together: ``key``, ``value``,
        ``records``.
    oversize : list of str
        Clusters still above ``max_cluster_size`` (held together by source ids or
        earlier keys, which are never cut).
    merged_keys : dict
        After :meth:`IdentityResolution.update`: earlier keys that new records showed to
        be one person, each with the key that stays.
    fuzzy_pairs : int
        Record pairs scored at or above the fuzzy ``review_threshold`` (the rows of
        :attr:`IdentityResolution.pairs`); 0 without fuzzy matching.
    fuzzy_links : int
        Of those, the pairs linked (at or above ``threshold`` and not cut by the size
        limit).
    """

    records: int
    source_ids: int
    people: int
    records_linked: int
    keys: pd.DataFrame
    cluster_sizes: pd.Series
    conflicts: pd.DataFrame
    split: pd.DataFrame
    oversize: list[str] = field(default_factory=list)
    merged_keys: dict[str, str] = field(default_factory=dict)
    fuzzy_pairs: int = 0
    fuzzy_links: int = 0

    def __str__(self) -> str:
        lines = [f"{self.records:,} records, {self.source_ids:,} source ids -> "
                 f"{self.people:,} people ({self.records_linked:,} records linked to "
                 "another)"]
        for key, row in self.keys.iterrows():
            lines.append(f"  {key}: {int(row['present']):,} present, "
                         f"{int(row['unusable']):,} unusable, {int(row['distinct']):,} "
                         f"distinct, {int(row['shared']):,} records share one")
        if self.fuzzy_pairs:
            lines.append(f"  fuzzy: {self.fuzzy_pairs:,} pairs scored for review, "
                         f"{self.fuzzy_links:,} linked")
        if len(self.split):
            lines.append(f"  {len(self.split):,} values not used as links (shared too "
                         "widely)")
        if len(self.conflicts):
            lines.append(f"  {self.conflicts['customer_key'].nunique():,} people hold "
                         "conflicting values of a key")
        if self.oversize:
            lines.append(f"  {len(self.oversize):,} people above the size limit, held by "
                         "source ids")
        if self.merged_keys:
            lines.append(f"  {len(self.merged_keys):,} earlier keys merged into others")
        return "\n".join(lines)


class IdentityResolution:
    """One ``customer_key`` per person: the result of :func:`resolve_identities`.

    Not built directly: :func:`resolve_identities`, :meth:`update` and :meth:`load`
    make it. It never changes after it is made (:meth:`update` returns a new one).

    Attributes
    ----------
    settings : dict
        The rules (id column, keys and their normalisation, size limit): JSON-ready;
        ``resolve_identities(frame, settings=res.settings)`` repeats the resolution.
    mapping : Series
        Source id -> ``customer_key``, indexed by the source id (text), sorted.
    clusters : DataFrame
        One row per ``customer_key``: ``size`` (records), ``n_source_ids``,
        ``source_ids`` (sorted list).
    report : IdentityReport
    records : DataFrame
        Every record's source id, normalised keys (and normalised compared columns with
        fuzzy matching) and ``customer_key`` (what :meth:`update` links new records
        against).
    pairs : DataFrame or None
        With fuzzy matching, the record pairs for clerical review: every pair the
        blocking rules generated with ``match_probability`` at or above
        ``review_threshold``, highest ``match_weight`` first: ``<id>_l``, ``<id>_r``
        (source ids), ``match_weight`` (log2 Bayes factor with the prior),
        ``match_probability``, ``linked`` (used as a link), and per compared column the
        two normalised values ``<col>_l``, ``<col>_r`` and ``gamma_<col>`` (its
        agreement level: higher is closer, 0 is no agreement, -1 a missing value).
        None without fuzzy matching.

    Examples
    --------
    >>> import pandas as pd
    >>> people = pd.DataFrame({"customer_id": ["web-1", "shop-7", "app-3"],
    ...                        "email": ["Ann@x.com", " ann@X.com", None],
    ...                        "phone": [None, "555 123 4567", "(555) 123-4567"]})
    >>> res = resolve_identities(people)
    >>> res.mapping.to_dict()
    {'app-3': 'K0000001', 'shop-7': 'K0000001', 'web-1': 'K0000001'}
    """

    def __init__(self, settings: dict[str, Any], records: pd.DataFrame,
                 report: IdentityReport, pairs: pd.DataFrame | None = None) -> None:
        self.settings = settings
        self.records = records
        self.report = report
        self.pairs = pairs
        id_col = settings["id"]
        id_codes, id_sorted = _sorted_codes(records[id_col].to_numpy(dtype=object))
        keys = records["customer_key"].to_numpy(dtype=object)
        n = len(records)
        # The key of each source id (all its records share it), from its first record.
        first = np.empty(len(id_sorted), dtype=np.int64)
        first[id_codes[::-1]] = np.arange(n)[::-1]
        self.mapping = pd.Series(keys[first], dtype="str",
                                 index=pd.Index(id_sorted, dtype="str", name=id_col),
                                 name="customer_key")
        key_codes, key_sorted = _sorted_codes(keys)
        # Distinct (person, source id) pairs in order of person, then id.
        id_pairs = np.unique(key_codes.astype(np.int64) * max(len(id_sorted), 1) + id_codes)
        person = id_pairs // max(len(id_sorted), 1)
        n_ids = np.bincount(person, minlength=len(key_sorted))
        ends = np.cumsum(n_ids)
        ids_by_person = id_sorted[id_pairs % max(len(id_sorted), 1)]
        self.clusters = pd.DataFrame(
            {"size": np.bincount(key_codes, minlength=len(key_sorted)),
             "n_source_ids": n_ids,
             "source_ids": pd.Series([ids_by_person[a:b].tolist() for a, b in
                                      zip(ends - n_ids, ends, strict=True)], dtype=object)
             .to_numpy()},
            index=pd.Index(key_sorted, dtype="str", name="customer_key"))

    def __repr__(self) -> str:
        return (f"IdentityResolution(records={self.report.records:,}, "
                f"people={self.report.people:,}, keys={list(self.settings['keys'])})")

    def _repr_html_(self) -> str:
        """Return the resolution as HTML for notebooks: counts, keys, largest clusters.

        Every text is escaped (source ids and column names come from the data); only the
        five largest clusters are listed. Never raises.

        Examples
        --------
        >>> import pandas as pd
        >>> res = resolve_identities(pd.DataFrame({"customer_id": ["<i>1</i>", "2"],
        ...                                        "email": ["a@x.com", "A@x.com"]}))
        >>> html = res._repr_html_()
        >>> "1 person" in html and "&lt;i&gt;1&lt;/i&gt;" in html and "<i>" not in html
        True
        """
        try:
            return self._html_card().render()
        except Exception:  # never fail a notebook cell; show the text instead
            try:
                text = f"{self!r}\n{self.report}"
            except Exception:
                text = "IdentityResolution"
            return f"<pre>{html.escape(text)}</pre>"

    def _html_card(self) -> HTMLCard:
        rep = self.report
        people = f"{rep.people:,} " + ("person" if rep.people == 1 else "people")
        card = HTMLCard("IdentityResolution", f"{people} from {rep.records:,} records",
                        tone="warn" if rep.oversize or len(rep.conflicts) else "ok")
        counts: dict[str, object] = {
            "records": rep.records, "source ids": rep.source_ids, "people": rep.people,
            "records linked to another": rep.records_linked}
        if rep.fuzzy_pairs:
            counts.update({"fuzzy pairs for review": rep.fuzzy_pairs,
                           "fuzzy pairs linked": rep.fuzzy_links})
        counts.update({
            "values not used as links": len(rep.split),
            "people with conflicting values": (int(rep.conflicts["customer_key"].nunique())
                                               if len(rep.conflicts) else 0),
            "people above the size limit": len(rep.oversize),
            "earlier keys merged": len(rep.merged_keys)})
        card.add_table("Counts", counts)
        card.add_table("Keys", rep.keys)
        card.add_table("Cluster sizes", rep.cluster_sizes.rename("clusters"), max_rows=10)
        largest = self.clusters.nlargest(5, "size", keep="first")
        card.add_table("Largest clusters", largest, collapsed=True)
        card.add_table("Settings", {"id": self.settings["id"],
                                    "keys": ", ".join(map(str, self.settings["keys"]))},
                       collapsed=True)
        return card

    # ------------------------------------------------------------------ update
    def update(self, new_records: pd.DataFrame) -> IdentityResolution:
        """Link new records, keeping every existing ``customer_key``.

        The new records are normalised and linked with the same settings, to each
        other and to the earlier records. A new record that shares a key with an
        earlier person gets that person's key; new people get new keys, numbered after
        the largest so far. A new record whose id is already known is that id's person
        seen again: it keeps the person's key and adds its key values (a new e-mail)
        to the person, so later records may link through them. Earlier people are
        never split. When new records show two
        earlier people to be one, they merge under the smaller key; the other key is
        listed in ``report.merged_keys`` (and ``mapping`` sends its source ids to the
        key that stays). With fuzzy matching, the trained model scores the pairs that
        involve a new record (it is not trained again); they join :attr:`pairs`.

        Parameters
        ----------
        new_records : DataFrame
            Records with the id column and some or all of the key columns (a missing
            key column is missing for every new record); not modified.

        Returns
        -------
        IdentityResolution
            A new resolution; this one is unchanged.

        Examples
        --------
        >>> import pandas as pd
        >>> res = resolve_identities(pd.DataFrame({"customer_id": ["a", "b"],
        ...                                        "email": ["x@y.com", "z@y.com"]}))
        >>> later = res.update(pd.DataFrame({"customer_id": ["c"], "email": ["X@y.com"]}))
        >>> later.mapping.to_dict()
        {'a': 'K0000001', 'b': 'K0000002', 'c': 'K0000001'}
        """
        if not isinstance(new_records, pd.DataFrame):
            raise TypeError(f"update: new_records must be a pandas DataFrame, got "
                            f"{type(new_records).__name__}")
        id_col = self.settings["id"]
        if id_col not in new_records.columns:
            raise MissingColumnError("records", id_col, list(new_records.columns))
        new_norm, stats = _normalised(new_records, self.settings)
        combined = pd.concat([self.records.drop(columns="customer_key"), new_norm],
                             ignore_index=True)
        earlier = self.records["customer_key"].to_numpy(dtype=object)
        return _resolve(combined, self.settings, earlier_keys=earlier,
                        stats=_add_stats(_stats_of(self.report), stats),
                        earlier_pairs=self.pairs)

    # ------------------------------------------------------------------ apply
    def apply(self, data: CRMData) -> CRMData:
        """Return ``data`` with every frame's ``customer_id`` replaced by ``customer_key``.

        Each frame keeps its rows and gains ``source_customer_id`` (the id it had).
        Customers: one row per person stays, the first in the frame's order of each
        person (their ``source_customer_id`` says which). The new data's validation
        report counts, per frame, the ids remapped (rule ``"identity"``, action
        ``"remapped"``) and the customer rows merged (action ``"merged"``). The options
        of ``data`` (observation end, returns) carry over.

        Parameters
        ----------
        data : CRMData
            Validated data whose ids all appear in this resolution.

        Returns
        -------
        CRMData

        Raises
        ------
        DataValidationError
            A customer id of ``data`` is not in the resolution (update it with those
            records first).

        Examples
        --------
        >>> import pandas as pd
        >>> from crmmodels import CRMData
        >>> res = resolve_identities(pd.DataFrame({"customer_id": ["a", "b"],
        ...                                        "email": ["x@y.com", "X@Y.com"]}))
        >>> tx = pd.DataFrame({"customer_id": ["a", "b"], "amount": [5.0, 7.0],
        ...                    "timestamp": pd.to_datetime(["2024-01-02", "2024-02-03"])})
        >>> res.apply(CRMData(transactions=tx)).transactions["customer_id"].tolist()
        ['K0000001', 'K0000001']
        """
        if not isinstance(data, CRMData):
            raise TypeError(f"apply: data must be a CRMData, got {type(data).__name__}")
        frames: dict[str, pd.DataFrame | None] = {}
        counts: list[tuple[str, int, int, int, int]] = []
        for name in ("transactions", "customers", "interactions"):
            frame = getattr(data, name)
            if frame is None:
                frames[name] = None
                continue
            ids = frame["customer_id"].astype("object")
            keys = ids.map(self.mapping)
            unknown = keys.isna().to_numpy()
            if unknown.any():
                raise DataValidationError(
                    f"{int(ids[unknown].nunique()):,} customer ids of the {name} are not in "
                    "the resolution; link those records first with resolution.update(...)",
                    frame=name, column="customer_id", rule="unknown_id",
                    rows=frame.index[unknown][:5], n_rows=int(unknown.sum()))
            out = frame.assign(customer_id=keys.astype("str"), source_customer_id=ids)
            merged = 0
            if name == "customers":
                dup = out["customer_id"].duplicated(keep="first").to_numpy()
                merged = int(dup.sum())
                out = out[~dup]
            frames[name] = out
            counts.append((name, len(frame), int(ids.nunique()),
                           int(out["customer_id"].nunique()), merged))
        result = CRMData(transactions=frames["transactions"], customers=frames["customers"],
                         interactions=frames["interactions"],
                         observation_end=data.observation_end,
                         allow_returns=data.allow_returns)
        for name, rows, ids_in, people, merged in counts:
            result.report.add(name, "customer_id", "identity", "remapped", rows,
                              detail=f"{ids_in:,} source ids -> {people:,} people")
            result.report.add(name, "customer_id", "identity", "merged", merged,
                              detail="customer rows of one person merged (the first kept)")
        return result

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the resolution to a zip file: settings as JSON, records as CSV.

        The settings include the trained fuzzy model, and the pair table is written
        beside the records, when the resolution used fuzzy matching.

        Examples
        --------
        >>> import pandas as pd, tempfile, os
        >>> res = resolve_identities(pd.DataFrame({"customer_id": ["a"], "email": ["x@y.com"]}))
        >>> with tempfile.TemporaryDirectory() as d:
        ...     res.save(os.path.join(d, "ids.zip"))
        ...     IdentityResolution.load(os.path.join(d, "ids.zip")).mapping.to_dict()
        {'a': 'K0000001'}
        """
        manifest = {"format": _FILE_FORMAT, "version": SETTINGS_FORMAT,
                    "settings": self.settings,
                    "merged_keys": self.report.merged_keys,
                    "stats": {str(k): {"present": int(r["present"]),
                                       "unusable": int(r["unusable"])}
                              for k, r in self.report.keys.iterrows()},
                    "split": self.report.split.astype(object).values.tolist(),
                    "oversize": self.report.oversize}
        buffer = io.StringIO()
        self.records.to_csv(buffer, index=False)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
            zf.writestr("records.csv", buffer.getvalue())
            if self.pairs is not None:
                zf.writestr("pairs.csv", self.pairs.to_csv(index=False))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> IdentityResolution:
        """Read a resolution written by :meth:`save` (its report is rebuilt).

        Raises
        ------
        ModelFormatError
            Not a resolution file, or one of a newer format.
        """
        try:
            with zipfile.ZipFile(path) as zf:
                manifest = json.loads(zf.read("manifest.json"))
                text = zf.read("records.csv").decode()
                pair_text = (zf.read("pairs.csv").decode() if "pairs.csv" in zf.namelist()
                             else None)
        except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
            raise ModelFormatError(f"{os.fspath(path)!r} is not an identity resolution "
                                   f"file: {exc}") from exc
        if manifest.get("format") != _FILE_FORMAT:
            raise ModelFormatError(f"{os.fspath(path)!r} is not an identity resolution file")
        if int(manifest.get("version", 0)) > SETTINGS_FORMAT:
            raise ModelFormatError(f"{os.fspath(path)!r} has format version "
                                   f"{manifest['version']}; this crmmodels reads "
                                   f"{SETTINGS_FORMAT} and older")
        records = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        records = records.astype(object).where(records != "", None)
        split = pd.DataFrame(manifest["split"], columns=["key", "value", "records"]).astype(
            {"records": np.int64})
        pairs = None
        if pair_text is not None:
            pairs = pd.read_csv(io.StringIO(pair_text), dtype=str, keep_default_na=False)
            pairs = pairs.astype(object).where(pairs != "", None)
            numbers = {"match_weight": np.float64, "match_probability": np.float64,
                       **{c: np.int64 for c in pairs.columns if c.startswith("gamma_")}}
            texts = {c: "str" for c in pairs.columns if c not in numbers and c != "linked"}
            pairs = pairs.astype({**numbers, **texts})
            pairs["linked"] = pairs["linked"].map({"True": True, "False": False}).astype(bool)
        return _build(records, manifest["settings"], manifest["stats"], split=split,
                      oversize=list(manifest["oversize"]),
                      merged=dict(manifest["merged_keys"]), pairs=pairs)


def _normalised(frame: pd.DataFrame, settings: Mapping[str, Any]
                ) -> tuple[pd.DataFrame, dict[str, dict[str, int]]]:
    """Source ids and normalised keys of ``frame``; per key, present and unusable counts."""
    id_col = settings["id"]
    out = {id_col: _source_ids(frame[id_col], id_col).to_numpy(dtype=object)}
    stats: dict[str, dict[str, int]] = {}
    for column, rule in settings["keys"].items():
        if column not in frame.columns:
            out[column] = np.full(len(frame), None, dtype=object)
            stats[column] = {"present": 0, "unusable": 0}
            continue
        values, unusable = normalize_key(frame[column], rule)
        out[column] = values.to_numpy(dtype=object)
        # Present: not missing and not blank (blank text is missing, as normalised).
        stats[column] = {"present": int(values.notna().sum()) + unusable,
                         "unusable": unusable}
    fuzzy = settings.get("fuzzy")
    if fuzzy is not None:
        for column, kind in fuzzy["columns"].items():
            out[column] = (normalize_fuzzy(frame[column], kind)[0].to_numpy(dtype=object)
                           if column in frame.columns
                           else np.full(len(frame), None, dtype=object))
    return pd.DataFrame(out), stats


def _stats_of(report: IdentityReport) -> dict[str, dict[str, int]]:
    return {str(k): {"present": int(r["present"]), "unusable": int(r["unusable"])}
            for k, r in report.keys.iterrows()}


def _add_stats(a: dict[str, dict[str, int]], b: dict[str, dict[str, int]]
               ) -> dict[str, dict[str, int]]:
    return {k: {m: a.get(k, {}).get(m, 0) + b.get(k, {}).get(m, 0)
                for m in ("present", "unusable")} for k in set(a) | set(b)}


def _sorted_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of text values numbered in sorted order, and the sorted distinct values."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object))
    order = argsort_text(pd.Index(np.asarray(uniques, dtype=object), dtype="str"))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[codes], np.asarray(uniques, dtype=object)[order]


def _key_number(keys: np.ndarray, prefix: str) -> np.ndarray:
    """Return the number in each key (``"K0000042"`` -> 42)."""
    digits = pd.Series(keys, dtype="str").str.slice(len(prefix))
    return digits.astype(np.int64).to_numpy()


def _resolve(records: pd.DataFrame, settings: dict[str, Any], *,
             earlier_keys: np.ndarray | None, stats: dict[str, dict[str, int]],
             earlier_pairs: pd.DataFrame | None = None) -> IdentityResolution:
    """Link ``records`` (source id and normalised keys) and number the people.

    ``earlier_keys`` holds the keys of the first records (those of an earlier
    resolution); they are fixed links and keep their numbers. With fuzzy settings, the
    pairs scored at or above the threshold are weak links (cut first by the size
    limit); ``earlier_pairs`` are the pairs of the earlier resolution, kept in the
    pair table.
    """
    id_col = settings["id"]
    prefix = settings.get("key_prefix", "K")
    n = len(records)
    rows_parts, value_parts, fixed_parts, names, values_text = [], [], [], [], []
    offset = 0
    n_old = 0 if earlier_keys is None else len(earlier_keys)
    columns = [(c, records[c].to_numpy(dtype=object)) for c in [id_col, *settings["keys"]]]
    if earlier_keys is not None:
        old = np.full(n, None, dtype=object)
        old[:n_old] = earlier_keys
        columns.append((_EARLIER, old))
    for column, vals in columns:
        codes, uniques = pd.factorize(pd.Series(vals, dtype=object), use_na_sentinel=True)
        present = np.flatnonzero(codes >= 0)
        rows_parts.append(present)
        value_parts.append(codes[present] + offset)
        fixed_parts.append(np.full(len(uniques), column in (id_col, _EARLIER)))
        names.append(np.full(len(uniques), column, dtype=object))
        values_text.append(np.asarray(uniques, dtype=object))
        offset += len(uniques)
    fuzzy = settings.get("fuzzy")
    scored = None
    n_fuzzy = 0
    if fuzzy is not None:
        prior = 0.0
        if fuzzy.get("model") is None:
            keyed = link(n, np.concatenate(rows_parts), np.concatenate(value_parts), offset,
                         np.concatenate(fixed_parts), settings.get("max_cluster_size"))
            prior = prior_from_links(keyed.labels, fuzzy)
        scored, model = fuzzy_pairs(records, fuzzy, prior=prior, new_from=n_old)
        settings = {**settings, "fuzzy": {**fuzzy, "model": model}}
        # Links: pairs at or above the threshold, the least likely numbered first (cut
        # first when a person is too large).
        use = np.flatnonzero(scored["match_probability"].to_numpy() >=
                             fuzzy["threshold"])[::-1]
        n_fuzzy = len(use)
        ends = scored[["record_l", "record_r"]].to_numpy()[use]
        rows_parts.append(ends.ravel())
        value_parts.append(np.repeat(np.arange(n_fuzzy), 2) + offset)
        fixed_parts.append(np.zeros(n_fuzzy, dtype=bool))
        names.append(np.full(n_fuzzy, _FUZZY, dtype=object))
        pair_ids = records[id_col].to_numpy(dtype=object)[ends].reshape(-1, 2)
        values_text.append((pd.Series(pair_ids[:, 0], dtype="str") + " ~ "
                            + pd.Series(pair_ids[:, 1], dtype="str")).to_numpy(dtype=object))
        offset += n_fuzzy
    rows = np.concatenate(rows_parts)
    values = np.concatenate(value_parts)
    fixed = np.concatenate(fixed_parts)
    weak = np.zeros(offset, dtype=bool)
    weak[offset - n_fuzzy:] = True
    found = link(n, rows, values, offset, fixed, settings.get("max_cluster_size"), weak=weak)
    labels = found.labels

    # Number the people: earlier people keep their keys (the smallest when new records
    # joined several), new people are numbered after the largest key, in order of their
    # smallest source id.
    ids = records[id_col].to_numpy(dtype=object)
    n_comp = int(labels.max()) + 1 if n else 0
    comp_key = np.full(n_comp, None, dtype=object)
    merged: dict[str, str] = {}
    next_number = 1
    if earlier_keys is not None and n_old:
        numbers = _key_number(earlier_keys, prefix)
        next_number = int(numbers.max()) + 1
        frame = pd.DataFrame({"comp": labels[:n_old], "number": numbers,
                              "key": earlier_keys})
        keep = frame.sort_values(["comp", "number"]).drop_duplicates("comp")
        comp_key[keep["comp"].to_numpy()] = keep["key"].to_numpy()
        held = frame.drop_duplicates("key")
        lost = held[held["key"].to_numpy() != comp_key[held["comp"].to_numpy()]]
        merged = dict(zip(lost["key"], comp_key[lost["comp"].to_numpy()], strict=True))
    new_comp = np.flatnonzero(pd.isna(comp_key))
    if len(new_comp):
        rank = _sorted_codes(ids)[0]
        first_rank = np.full(n_comp, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first_rank, labels, rank)
        order = new_comp[np.argsort(first_rank[new_comp], kind="stable")]
        width = max(_KEY_WIDTH, len(str(next_number + len(order))))
        comp_key[order] = [f"{prefix}{next_number + i:0{width}d}" for i in range(len(order))]
    out = records.copy()
    out["customer_key"] = comp_key[labels]

    all_names = np.concatenate(names)
    all_values = np.concatenate(values_text)
    cut = found.cut[~fixed[found.cut]]
    degree = np.bincount(values, minlength=offset)
    split = pd.DataFrame({"key": all_names[cut], "value": all_values[cut],
                          "records": degree[cut].astype(np.int64)}).sort_values(
        ["records", "key"], ascending=[False, True], ignore_index=True)
    if len(split):
        warn(f"resolve_identities: {len(split):,} key values are shared by too many records "
             f"to link them (most: {split['key'].iloc[0]} {split['value'].iloc[0]!r}, "
             f"{int(split['records'].iloc[0]):,} records); see report.split",
             DataQualityWarning)
    pairs: pd.DataFrame | None = None
    if scored is not None:
        cut_fuzzy = np.zeros(n_fuzzy, dtype=bool)
        cut_fuzzy[found.cut[found.cut >= offset - n_fuzzy] - (offset - n_fuzzy)] = True
        linked = np.zeros(len(scored), dtype=bool)
        linked[np.flatnonzero(scored["match_probability"].to_numpy() >=
                              settings["fuzzy"]["threshold"])[::-1][~cut_fuzzy]] = True
        pairs = _pair_table(scored, linked, ids, settings)
        if earlier_pairs is not None and len(earlier_pairs):
            pairs = pd.concat([earlier_pairs, pairs], ignore_index=True).sort_values(
                "match_weight", ascending=False, kind="stable", ignore_index=True)
    return _build(out, settings, stats, split=split,
                  oversize=sorted(str(comp_key[c]) for c in found.oversize), merged=merged,
                  pairs=pairs)


def _pair_table(scored: pd.DataFrame, linked: np.ndarray, ids: np.ndarray,
                settings: Mapping[str, Any]) -> pd.DataFrame:
    """Return the pairs of :func:`fuzzy_pairs` with source ids and whether each links."""
    id_col = settings["id"]
    table = pd.DataFrame({
        f"{id_col}_l": pd.Series(ids[scored["record_l"].to_numpy()], dtype="str"),
        f"{id_col}_r": pd.Series(ids[scored["record_r"].to_numpy()], dtype="str"),
        "match_weight": scored["match_weight"].to_numpy(),
        "match_probability": scored["match_probability"].to_numpy(),
        "linked": linked})
    for column in settings["fuzzy"]["columns"]:
        for side in ("l", "r"):
            table[f"{column}_{side}"] = pd.Series(scored[f"{column}_{side}"].to_numpy(),
                                                  dtype="str")
        table[f"gamma_{column}"] = scored[f"gamma_{column}"].to_numpy()
    return table


def _build(records: pd.DataFrame, settings: dict[str, Any], stats: Mapping[str, Any], *,
           split: pd.DataFrame, oversize: list[str], merged: dict[str, str],
           pairs: pd.DataFrame | None = None) -> IdentityResolution:
    """Build the resolution of records that carry their ``customer_key``, and its report."""
    key_columns = list(settings["keys"])
    distinct, shared, conflicts = {}, {}, []
    person, people = pd.factorize(records["customer_key"].to_numpy(dtype=object))
    for column in key_columns:
        codes, uniques = pd.factorize(records[column].to_numpy(dtype=object))
        held = codes >= 0
        counts = np.bincount(codes[held], minlength=len(uniques))
        distinct[column] = len(uniques)
        shared[column] = int(counts[counts > 1].sum())
        # Distinct (person, value) pairs; people with two or more values conflict.
        held_pairs = np.unique(person[held].astype(np.int64) * max(len(uniques), 1)
                               + codes[held])
        owner = held_pairs // max(len(uniques), 1)
        per_person = np.bincount(owner, minlength=len(people))
        many = np.flatnonzero(per_person > 1)
        if len(many):
            chosen = np.isin(owner, many)
            shown = pd.Series(np.asarray(uniques, dtype=object)[held_pairs[chosen]
                                                                % len(uniques)])
            listed = shown.groupby(owner[chosen]).agg(lambda v: list(v)[:_SHOWN])
            conflicts.append(pd.DataFrame({
                "customer_key": np.asarray(people, dtype=object)[many], "key": column,
                "n_values": per_person[many].astype(np.int64),
                "values": listed.reindex(many).to_numpy()}))
    conflict_table = (pd.concat(conflicts, ignore_index=True) if conflicts else
                      pd.DataFrame({"customer_key": pd.Series(dtype=object),
                                    "key": pd.Series(dtype=object),
                                    "n_values": pd.Series(dtype=np.int64),
                                    "values": pd.Series(dtype=object)}))
    if len(conflict_table):
        conflict_table = conflict_table.sort_values(["customer_key", "key"],
                                                    ignore_index=True)
    key_table = pd.DataFrame(
        {"present": [int(stats.get(c, {}).get("present", 0)) for c in key_columns],
         "unusable": [int(stats.get(c, {}).get("unusable", 0)) for c in key_columns],
         "distinct": [distinct[c] for c in key_columns],
         "shared": [shared[c] for c in key_columns]},
        index=pd.Index(key_columns, name="key"))
    sizes = np.bincount(person, minlength=len(people))
    size_table = pd.Series(sizes).value_counts().sort_index()
    size_table.index.name = "size"
    size_table.name = "clusters"
    report = IdentityReport(
        records=len(records), source_ids=len(pd.unique(records[settings["id"]])),
        people=len(people), records_linked=int(sizes[sizes > 1].sum()),
        keys=key_table, cluster_sizes=size_table, conflicts=conflict_table, split=split,
        oversize=oversize, merged_keys=merged,
        fuzzy_pairs=0 if pairs is None else len(pairs),
        fuzzy_links=0 if pairs is None else int(pairs["linked"].sum()))
    return IdentityResolution(settings, records, report, pairs)


def resolve_identities(frame: pd.DataFrame, *,
                       keys: Sequence[str] | Mapping[str, Any] | None = None,
                       id: str = "customer_id",
                       fuzzy: Any = None, max_cluster_size: int | None = 50,
                       settings: Mapping[str, Any] | None = None) -> IdentityResolution:
    """Give every person one ``customer_key`` across their ids, e-mails and phones.

    Each key column is normalised by its kind: ``"email"`` (case and whitespace; a
    ``+tag`` stripped for every domain; dots dropped only for gmail.com and
    googlemail.com, which ignore them; googlemail.com read as gmail.com), ``"phone"``
    (digits with the country code, ``default_country_code`` ``"1"`` for national
    numbers), ``"loyalty"`` (no spaces, dashes, dots or slashes; upper case) or
    ``"text"`` (whitespace and case). Records that share a normalised value of any key,
    or the same source id, are one person: the connected components of the graph of
    records and values (``scipy.sparse.csgraph``). A value shared by more than
    ``max_cluster_size`` records (a shop's phone, a family address) links nobody, and a
    person above that size loses the most shared of their values until they fit; both
    are listed in ``report.split`` with a :class:`~crmmodels.errors.DataQualityWarning`.

    Parameters
    ----------
    frame : DataFrame
        One row per record (a customer record of one system or channel); not modified.
    keys : list of str or mapping, optional
        Key columns. A list takes the kind from the name (``email``, ``phone``,
        ``mobile``, ``loyalty_id``, ``card_number`` ...); a mapping gives it
        (``{"mail": "email", "crm_ref": "text"}``) or a full rule
        (``{"phone": {"kind": "phone", "default_country_code": "44"}}``; email rules take
        ``strip_plus_tags``, ``dot_insensitive_domains`` and ``domain_aliases``). Default:
        those of ``email``, ``phone`` and ``loyalty_id`` the frame has.
    id : str, default "customer_id"
        Column of the source ids (a system's customer number), turned into text.
    fuzzy : list of str or mapping, optional
        Probabilistic matching of names and addresses (splink's Fellegi-Sunter model on
        DuckDB; the extra ``identity``). A list names the compared columns (kinds from the
        names: ``*name*`` columns are ``"name"``, ``postcode``/``zip``/``dob`` ...
        ``"exact"``, the rest ``"text"``); a mapping takes ``columns`` (a list, or
        ``{column: kind}``) and options: ``blocking`` (lists of columns whose equal values
        make the candidate pairs; default each exact column, and the name columns
        together), ``training_blocking`` (the EM passes; default ``blocking``),
        ``threshold`` (match probability that links, default 0.95),
        ``review_threshold`` (lowest probability kept in :attr:`IdentityResolution.pairs`,
        default 0.5), ``prior`` (probability that two random records are one person;
        default: the pairs the keys link, divided by all pairs and by ``key_recall``,
        default 0.8), ``max_pairs`` (pairs sampled to estimate u, default 5,000,000),
        ``seed`` (default 0), ``threads`` (DuckDB's threads; default all cores, whose
        parallel sums make the estimates differ between runs in the last digits: 1 gives
        bit-identical runs) and ``model`` (a trained splink model: used as it is, m and u
        probabilities below 1e-300 read as 1e-300, the smallest splink accepts). Names
        "name" are compared by Jaro-Winkler at 0.92, 0.88 and 0.70 with term-frequency
        adjustment (a common surname weighs less), "text" by Jaro-Winkler at 0.95 and
        0.85, "exact" by equality; values are compared normalised (accents, case,
        punctuation and repeated spaces removed). The trained model is stored in
        ``settings["fuzzy"]["model"]``.
    max_cluster_size : int or None, default 50
        Most records one person may have; None for no limit.
    settings : mapping, optional
        The ``settings`` of an earlier resolution: the same rules again (``keys``,
        ``id`` and ``max_cluster_size`` must then be left at their defaults).

    Returns
    -------
    IdentityResolution

    Raises
    ------
    DataValidationError
        No key column, a missing or empty source id.
    MissingColumnError
        A named key or the id column is not in the frame.

    Examples
    --------
    >>> import pandas as pd
    >>> records = pd.DataFrame({
    ...     "customer_id": ["crm-1", "web-9", "shop-4", "crm-2"],
    ...     "email": ["Ann.Lee@gmail.com", "annlee+deals@gmail.com", None, "bob@x.org"],
    ...     "phone": [None, "+1 555 123 4567", "(555) 123-4567", None]})
    >>> res = resolve_identities(records)
    >>> res.mapping.to_dict()
    {'crm-1': 'K0000001', 'crm-2': 'K0000002', 'shop-4': 'K0000001', 'web-9': 'K0000001'}
    >>> res.report.people, res.report.records_linked
    (2, 3)
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"resolve_identities: frame must be a pandas DataFrame, got "
                        f"{type(frame).__name__}")
    if settings is not None:
        if keys is not None or id != "customer_id" or max_cluster_size != 50 or \
                fuzzy is not None:
            raise InvalidParameterError(
                "resolve_identities: give either settings or keys / id / fuzzy / "
                "max_cluster_size, not both")
        full = copy.deepcopy(dict(settings))
        if int(full.get("format", 0)) > SETTINGS_FORMAT:
            raise InvalidParameterError(f"settings of format {full['format']} are newer than "
                                        f"this crmmodels reads ({SETTINGS_FORMAT})")
        full["keys"] = _key_rules(full.get("keys"), list(map(str, frame.columns)))
    else:
        if max_cluster_size is not None and (isinstance(max_cluster_size, bool) or not
                                             isinstance(max_cluster_size, int | np.integer)
                                             or max_cluster_size < 1):
            raise InvalidParameterError(f"resolve_identities: max_cluster_size must be None "
                                        f"or an int >= 1, got {max_cluster_size!r}")
        if not isinstance(id, str):
            raise InvalidParameterError(f"resolve_identities: id must be a column name, got "
                                        f"{id!r}")
        full = {"format": SETTINGS_FORMAT, "id": id, "key_prefix": "K",
                "max_cluster_size": None if max_cluster_size is None else int(max_cluster_size),
                "keys": _key_rules(keys, list(map(str, frame.columns))), "fuzzy": fuzzy}
    columns = list(map(str, frame.columns))
    if full.get("fuzzy") is not None:
        full["fuzzy"] = fuzzy_rule(full["fuzzy"], columns, [full["id"], *full["keys"]])
    else:
        full["fuzzy"] = None
    if full["id"] not in columns:
        raise MissingColumnError("records", full["id"], columns)
    for column in full["keys"]:
        if column not in columns:
            raise MissingColumnError("records", column, columns)
    if full["id"] in full["keys"]:
        raise InvalidParameterError(f"the id column {full['id']!r} cannot also be a key")
    if len(frame) == 0:
        raise DataValidationError("resolve_identities: the frame is empty", rule="non_empty")
    normalised, stats = _normalised(frame, full)
    usable = sum(int(normalised[c].notna().sum()) for c in full["keys"])
    if usable == 0:
        detail = ", ".join(f"{c}: {s['unusable']} unusable" for c, s in stats.items())
        raise DataValidationError(
            f"no usable key value: every value of {list(full['keys'])} is missing or "
            f"unusable ({detail})", rule="no_usable_keys")
    return _resolve(normalised, full, earlier_keys=None, stats=stats)
