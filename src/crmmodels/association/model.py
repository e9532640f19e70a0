"""Market-basket analysis: frequent itemsets, association rules, recommendations.

Rules and their interest metrics follow mlxtend's definitions (antecedent and
consequent support, support, confidence, lift, representativity, leverage, conviction,
Zhang's metric, Jaccard, certainty, Kulczynski). The default miner
(:mod:`crmmodels.association._miner`, level by level on whole arrays) returns exactly
mlxtend's itemsets; an itemset is frequent when it occurs in at least
``ceil(min_support * n_baskets)`` baskets.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable, Mapping, Sequence
from itertools import accumulate, combinations
from math import comb
from numbers import Integral, Real
from typing import Any, ClassVar

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import scipy.sparse as sp

from crmmodels.core import ColumnName, Constraint, CRMModel, Interval, Options
from crmmodels.data import CRMData
from crmmodels.errors import DataValidationError, optional_dependency

__all__ = ["AssociationRulesModel", "attribute_baskets", "encode_baskets", "rule_metrics"]

RULE_COLUMNS = ("antecedents", "consequents", "antecedent support", "consequent support",
                "support", "confidence", "lift", "representativity", "leverage",
                "conviction", "zhangs_metric", "jaccard", "certainty", "kulczynski")


def encode_baskets(baskets: Any) -> tuple[sp.csc_matrix, pd.Index, pd.Index]:
    """Baskets as a sparse boolean basket x item matrix (never a dense one-hot frame).

    Parameters
    ----------
    baskets : DataFrame or iterable of iterables
        A long frame with columns ``basket_id, item`` (one row per basket and item;
        repeated pairs count once), or an iterable of baskets, each an iterable of
        items.

    Returns
    -------
    matrix : scipy.sparse.csc_matrix
        ``n_baskets x n_items`` boolean.
    basket_ids, items : Index
        Row and column labels.

    Examples
    --------
    >>> m, b, i = encode_baskets([["milk", "bread"], ["milk"]])
    >>> m.toarray().astype(int).tolist(), list(i)
    ([[1, 1], [0, 1]], ['bread', 'milk'])
    """
    if isinstance(baskets, pd.DataFrame):
        missing = [c for c in ("basket_id", "item") if c not in baskets.columns]
        if missing:
            from crmmodels.errors import MissingColumnError

            raise MissingColumnError("baskets", missing[0], list(baskets.columns))
        basket_col, item_col = baskets["basket_id"], baskets["item"]
        labels = baskets.index
    else:
        if isinstance(baskets, str | bytes) or not isinstance(baskets, Iterable):
            raise DataValidationError(
                "baskets must be a (basket_id, item) frame or an iterable of baskets",
                frame="baskets", rule="type")
        ids: list[int] = []
        items: list[Any] = []
        for k, basket in enumerate(baskets):
            if isinstance(basket, str | bytes) or not isinstance(basket, Iterable):
                raise DataValidationError(
                    f"basket {k} is not a list of items: {basket!r}", frame="baskets",
                    rule="type", rows=[k])
            for item in basket:
                ids.append(k)
                items.append(item)
        basket_col = pd.Series(np.asarray(ids, dtype=np.int64))
        item_col = pd.Series(items, dtype=object)
        labels = basket_col.index
    if len(basket_col) == 0:
        raise DataValidationError("there are no items in the baskets", frame="baskets",
                                  rule="non_empty")
    b, basket_ids = _factorize_sorted(basket_col)
    i, items_idx = _factorize_sorted(item_col)
    bad = (b < 0) | (i < 0)  # missing values have no code
    if bad.any():
        raise DataValidationError(
            "baskets hold missing items or basket ids", frame="baskets", column="item",
            rule="not_null", rows=list(labels[bad][:5]), n_rows=int(bad.sum()))
    return _matrix(b, i, basket_ids, items_idx)


def _matrix(b: np.ndarray, i: np.ndarray, basket_ids: Any, items: Any
            ) -> tuple[sp.csc_matrix, pd.Index, pd.Index]:
    """Build the boolean basket x item matrix from the codes and their labels."""
    matrix = sp.csc_matrix((np.ones(len(b), dtype=bool), (b, i)),
                           shape=(len(basket_ids), len(items)))
    matrix.sum_duplicates()
    matrix.data[:] = True
    return matrix, pd.Index(basket_ids, name="basket_id"), pd.Index(items, name="item")


def _encode_rows(rows: nw.LazyFrame[Any]) -> tuple[sp.csc_matrix, pd.Index, pd.Index]:
    """:func:`encode_baskets` of a ``basket_id, item`` query, coded in its own library.

    Only the two integer code columns and the distinct labels leave that library; codes
    follow the sorted labels, as :func:`encode_baskets` numbers them.
    """
    rows = rows.drop_nulls()
    coded = rows.select((nw.col("basket_id").rank("dense") - 1).cast(nw.Int64).alias("b"),
                        (nw.col("item").rank("dense") - 1).cast(nw.Int64).alias("i")
                        ).collect()
    if len(coded) == 0:
        raise DataValidationError("there are no items in the baskets", frame="baskets",
                                  rule="non_empty")
    labels = [rows.select(name).unique().sort(name).collect()[name].to_numpy()
              for name in ("basket_id", "item")]
    return _matrix(coded["b"].to_numpy(), coded["i"].to_numpy(), labels[0], labels[1])


def _factorize_sorted(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes (-1 where missing) and labels in sorted label order.

    So that results do not depend on row order. Integer ids already in order (a long
    frame listed basket by basket) are coded in one pass.
    """
    raw = values.to_numpy()
    if raw.dtype.kind in "iu" and len(raw) and bool((raw[1:] >= raw[:-1]).all()):
        start = np.r_[True, raw[1:] != raw[:-1]]
        return np.cumsum(start) - 1, pd.Index(raw[start])
    if raw.dtype.kind == "O" or isinstance(values.dtype, pd.StringDtype):
        codes, uniques = pd.factorize(values.to_numpy(dtype=object))
        try:
            order = np.argsort(uniques, kind="stable")
        except TypeError:  # labels that cannot be compared: sorted as pandas sorts them
            pass
        else:
            rank = np.empty(len(order) + 1, dtype=np.int64)
            rank[order] = np.arange(len(order))
            rank[-1] = -1  # code -1 (missing) stays -1
            return rank[codes], pd.Index(uniques[order])
    try:
        codes, labels = pd.factorize(values, sort=True)
    except TypeError:  # labels of mixed types cannot be sorted: order by their text
        missing = values.isna().to_numpy()
        codes, labels = pd.factorize(values.map(str), sort=True)
        first = pd.Series(values.to_numpy()).groupby(codes).first()
        codes = np.where(missing, -1, codes)
        return codes, pd.Index(first.to_numpy(), dtype=object)
    return codes, pd.Index(labels)


def attribute_baskets(customers: pd.DataFrame, columns: Sequence[str] | None = None,
                      bins: int = 4, *, id: str = "customer_id") -> pd.DataFrame:
    """Turn customer attributes into items, one basket per customer (attribute rules).

    Categorical (and boolean) columns become items ``"column=value"``; numeric columns
    are cut into ``bins`` quantile bands, ``"column=[low, high]"``. Mining the result
    gives rules such as "MaritalStatus=Married AND Age=[50, 59] -> NumberOfCars=2+".

    Parameters
    ----------
    customers : DataFrame
        One row per customer. Not changed.
    columns : sequence of str, optional
        Attributes to use (default: every column but the ``id`` column).
    bins : int, default 4
        Quantile bands for numeric columns.
    id : str, default "customer_id"
        The column naming the customer (one value per row, none missing). When no
        column has that name but the index does, the index is used; otherwise a
        :class:`~crmmodels.errors.DataValidationError` names the missing column (and
        suggests the closest column name, if any is close). Nothing else is tried.

    Returns
    -------
    DataFrame
        Long frame ``basket_id`` (the customer), ``item``.

    Raises
    ------
    DataValidationError
        The ``id`` column or one of ``columns`` is missing, or an id is missing or
        repeated.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"customer_id": ["a", "b", "c"], "married": ["yes", "no", "no"],
    ...                   "age": [30, 45, 60]})
    >>> attribute_baskets(c, bins=2)["item"].tolist()
    ['married=yes', 'married=no', 'married=no', 'age=[30, 45]', 'age=[30, 45]', 'age=(45, 60]']

    Any column can name the customer, and a named index serves as well:

    >>> people = pd.DataFrame({"CustomerID": [7, 8], "married": ["yes", "no"]})
    >>> attribute_baskets(people, id="CustomerID")["basket_id"].tolist()
    [7, 8]
    >>> attribute_baskets(people.set_index("CustomerID"), id="CustomerID").shape
    (2, 2)
    """
    if not isinstance(customers, pd.DataFrame):
        raise TypeError("attribute_baskets: customers must be a DataFrame with one row per "
                        f"customer, got {type(customers).__name__}")
    if id in customers.columns:
        ids = customers[id].to_numpy()
    elif customers.index.name == id:
        ids = customers.index.to_numpy()
    else:
        raise _missing_column(
            customers, id, "the customer id",
            f"; name the customer column with id= (the index serves only when it is "
            f"named {id!r})", "Did you mean id={!r}?")
    ids_ok = pd.Series(ids)
    if ids_ok.isna().any() or ids_ok.duplicated().any():
        bad = ids_ok.isna().to_numpy() | ids_ok.duplicated(keep=False).to_numpy()
        raise DataValidationError(
            f"customer ids ({id!r}) must be present and unique, one row per customer",
            frame="customers", column=str(id), rule="unique_id",
            rows=list(customers.index[bad][:5]), n_rows=int(bad.sum()))
    frame = customers
    use = list(columns) if columns is not None else [c for c in frame.columns if c != id]
    parts = []
    for col in use:
        if col not in frame.columns:
            raise _missing_column(frame, col, "an attribute in columns=", "",
                                  "Did you mean {!r}?")
        values = frame[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) \
                and values.nunique() > bins:
            edges = np.unique(np.quantile(values.dropna(), np.linspace(0, 1, bins + 1)))
            band = np.clip(np.searchsorted(edges, values.to_numpy(float), side="left"), 1,
                           len(edges) - 1)
            names = [f"[{edges[0]:g}, {edges[1]:g}]"] + [
                f"({edges[k - 1]:g}, {edges[k]:g}]" for k in range(2, len(edges))]
            labels = pd.Series([names[b - 1] for b in band], index=values.index, dtype=object)
        else:
            labels = values.astype(object)
        keep = values.notna().to_numpy()
        parts.append(pd.DataFrame({"basket_id": ids[keep],
                                   "item": [f"{col}={v}" for v in labels.to_numpy()[keep]]}))
    if not parts:
        raise DataValidationError("no attribute columns to turn into items",
                                  frame="customers", rule="non_empty")
    return pd.concat(parts, ignore_index=True)


def _missing_column(frame: pd.DataFrame, name: Any, what: str, advice: str,
                    suggest: str) -> DataValidationError:
    """Build the error for a column ``frame`` lacks, suggesting only a column it has."""
    from crmmodels.errors import closest_name

    real = {str(c): c for c in frame.columns}
    close = closest_name(str(name), list(real))
    hint = " " + suggest.format(real[close]) if close is not None else ""
    shown = list(frame.columns)[:10]
    more = ", ..." if frame.shape[1] > 10 else ""
    return DataValidationError(
        f"the customers frame has no column {name!r} ({what}; its columns: "
        f"{shown!r}{more}){advice}.{hint}",
        frame="customers", column=str(name), rule="required_column")


def rule_metrics(s_a: np.ndarray, s_c: np.ndarray, s_ac: np.ndarray) -> pd.DataFrame:
    """Compute mlxtend's interest metrics from antecedent, consequent and rule supports.

    Examples
    --------
    >>> import numpy as np
    >>> m = rule_metrics(np.array([0.4]), np.array([0.5]), np.array([0.3]))
    >>> round(float(m["lift"].iloc[0]), 6)
    1.5
    """
    from crmmodels.core import numeric_array

    s_a, s_c, s_ac = (numeric_array(v, f"rule_metrics: {name}")
                      for v, name in ((s_a, "s_a"), (s_c, "s_c"), (s_ac, "s_ac")))
    with np.errstate(divide="ignore", invalid="ignore"):
        conf = s_ac / s_a
        lift = conf / s_c
        leverage = s_ac - s_a * s_c
        conviction = np.where(conf >= 1.0, np.inf, (1 - s_c) / (1 - conf))
        denom = np.maximum(s_ac * (1 - s_a), s_a * (s_c - s_ac))
        zhang = np.where(denom == 0, 0.0, leverage / denom)
        jaccard = s_ac / (s_a + s_c - s_ac)
        certainty = np.where(1 - s_c == 0, 0.0, (conf - s_c) / (1 - s_c))
        kulczynski = (s_ac / s_a + s_ac / s_c) / 2
    # One float block, built at once.
    values = np.column_stack([s_a, s_c, s_ac, conf, lift, np.ones(len(s_a)), leverage,
                              conviction, zhang, jaccard, certainty, kulczynski])
    return pd.DataFrame(values, columns=list(RULE_COLUMNS[2:]))


class AssociationRulesModel(CRMModel):
    """Frequent itemsets and association rules, and cross-sell recommendations.

    Parameters
    ----------
    min_support : float, default 0.01
        Minimum share of baskets, in (0, 1]; an itemset needs
        ``ceil(min_support * n_baskets)`` baskets.
    min_confidence : float, default 0.5
        Minimum rule confidence, in (0, 1].
    min_lift : float, optional
        Minimum rule lift.
    max_len : int, optional
        Longest itemset mined.
    max_consequent_len : int, optional
        Longest rule consequent (1 gives the single-item rules of arules, pyfim and
        Spark; ``None`` gives every split, as mlxtend does).
    engine : {"auto", "eclat", "mlxtend"}, default "auto"
        Miner: our exact level-wise miner (``"auto"`` and ``"eclat"``, the name kept
        from its first version) or mlxtend's FP-Growth; both give the same itemsets.
    basket : {"transaction_id", "customer_id"}, default "transaction_id"
        For ``CRMData`` input: a basket is an order (``transaction_id``) or everything
        a customer bought (``customer_id``); items are ``product_id``.
    top_k : int, default 3
        Recommendations per basket returned by :meth:`score` (column ``items``).
    segment_column : str, optional
        With ``CRMData`` holding a customers frame: the customers column (e.g. an RFM
        or value segment) by which to mine one rule set per segment, from the baskets
        of that segment's customers (``segment_rules_``), so that
        ``recommend(basket, segment=...)`` makes the segment's own offer.

    Attributes
    ----------
    itemsets_ : DataFrame
        ``support, itemsets`` (frozensets of items), as mlxtend returns them; shorter
        itemsets first, then in the order of their (sorted) items.
    rules_ : DataFrame
        One row per rule with every mlxtend metric, highest confidence first, then
        highest lift (ties keep the itemsets' order, shorter consequents first).
    n_baskets_ : int
        Baskets in the fit.

    Examples
    --------
    >>> baskets = [["milk", "bread"], ["milk", "bread", "eggs"], ["milk"], ["bread"]]
    >>> model = AssociationRulesModel(min_support=0.5, min_confidence=0.6).fit(baskets)
    >>> model.rules_[["antecedents", "consequents", "confidence"]].to_dict("records")
    [{'antecedents': frozenset({'milk'}), 'consequents': frozenset({'bread'}), \
'confidence': 0.6666666666666666}, {'antecedents': frozenset({'bread'}), \
'consequents': frozenset({'milk'}), 'confidence': 0.6666666666666666}]
    >>> model.recommend(["bread"])["item"].tolist()
    ['milk']
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "min_support": [Interval(Real, 0, 1, closed="right")],
        "min_confidence": [Interval(Real, 0, 1, closed="right")],
        "min_lift": [None, Interval(Real, 0, None)],
        "max_len": [None, Interval(Integral, 1, None)],
        "max_consequent_len": [None, Interval(Integral, 1, None)],
        "engine": [Options({"auto", "eclat", "mlxtend"})],
        "basket": [Options({"transaction_id", "customer_id"})],
        "top_k": [Interval(Integral, 1, None)],
        "segment_column": [None, ColumnName()],
    }
    _score_index: ClassVar[str] = "basket_id"
    _score_columns: ClassVar[tuple[str, ...]] = ("item", "confidence", "lift", "rule", "items")
    _required_frames: ClassVar[tuple[str, ...]] = ()
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"min_support": 0}, {"min_support": 1.5}, {"min_confidence": 0}, {"engine": "apriori"},
    )

    def __init__(self, *, min_support: float = 0.01, min_confidence: float = 0.5,
                 min_lift: float | None = None, max_len: int | None = None,
                 max_consequent_len: int | None = None, engine: str = "auto",
                 basket: str = "transaction_id", top_k: int = 3,
                 segment_column: str | None = None) -> None:
        self.min_support = min_support
        self.min_confidence = min_confidence
        self.min_lift = min_lift
        self.max_len = max_len
        self.max_consequent_len = max_consequent_len
        self.engine = engine
        self.basket = basket
        self.top_k = top_k
        self.segment_column = segment_column

    # ------------------------------------------------------------------ input
    def _prepare(self, data: object) -> Any:
        if isinstance(data, CRMData):
            data.require("transactions")
            columns = data.lazy_rows("transactions").collect_schema().names()
            for col in (self.basket, "product_id"):
                if col not in columns:
                    from crmmodels.errors import MissingColumnError

                    raise MissingColumnError("transactions", col, columns)
            if data.engine("transactions") == "polars":  # coded where the data are
                encoded = _encode_rows(data.lazy_rows("transactions").select(
                    nw.col(self.basket).alias("basket_id"),
                    nw.col("product_id").alias("item")))
            else:
                tx = data.transactions
                assert tx is not None
                long = pd.DataFrame({"basket_id": tx[self.basket].to_numpy(),
                                     "item": tx["product_id"].to_numpy()})
                encoded = encode_baskets(long.dropna())
            if self.segment_column is None:
                return encoded
            return (*encoded, self._basket_segments(data, encoded[1]))
        if self.segment_column is not None:
            raise DataValidationError(
                "segment_column needs CRMData with a customers frame holding it",
                frame="customers", column=self.segment_column, rule="required_frame")
        return encode_baskets(data)

    def _basket_segments(self, data: CRMData, basket_ids: pd.Index) -> np.ndarray:
        """Return the segment of each basket's customer."""
        from crmmodels.errors import MissingColumnError

        data.require("customers")
        customers = data.customers
        tx = data.transactions
        assert customers is not None
        assert tx is not None
        col = str(self.segment_column)
        if col not in customers.columns:
            raise MissingColumnError("customers", col, list(customers.columns))
        segment_of = pd.Series(customers[col].to_numpy(),
                               index=customers["customer_id"].to_numpy())
        if self.basket == "customer_id":
            owner = pd.Series(basket_ids.to_numpy(), index=basket_ids)
        else:
            owner = tx.drop_duplicates(self.basket).set_index(self.basket)["customer_id"]
        return np.asarray(segment_of.reindex(owner.reindex(basket_ids).to_numpy()).to_numpy(),
                          dtype=object)

    # ------------------------------------------------------------------ fitting
    def _mine(self, matrix: sp.csc_matrix) -> list[tuple[np.ndarray, np.ndarray]]:
        """Frequent itemsets by length: (item columns, basket counts), rows in order."""
        from crmmodels.association._miner import (
            TooManyItemsetsError,
            frequent_itemsets,
            lexicographic_order,
        )

        n = matrix.shape[0]
        if self.engine == "mlxtend":
            fpgrowth = optional_dependency("mlxtend.frequent_patterns",
                                           needed_for='engine="mlxtend"',
                                           extra="mlxtend").fpgrowth

            with warnings.catch_warnings():
                # pandas 2.2 deprecates the fill value its own from_spmatrix gives a
                # boolean matrix (0, not False); pandas 3 gives False.
                warnings.filterwarnings("ignore", "Allowing arbitrary scalar fill_value",
                                        FutureWarning)
                frame = pd.DataFrame.sparse.from_spmatrix(  # type: ignore[attr-defined]
                    sp.csr_matrix(matrix), columns=range(matrix.shape[1]))
            found = fpgrowth(frame, min_support=self.min_support, max_len=self.max_len)
            sets = [sorted(int(i) for i in s) for s in found["itemsets"]]
            counts = np.round(found["support"].to_numpy() * n).astype(np.int64)
            sizes = np.array([len(s) for s in sets], dtype=np.int64)
            levels = []
            for k in range(1, int(sizes.max(initial=1)) + 1):
                pick = np.flatnonzero(sizes == k)
                rows = np.array([sets[i] for i in pick], dtype=np.int64).reshape(-1, k)
                order = lexicographic_order(rows, matrix.shape[1])
                levels.append((rows[order], counts[pick][order]))
            return levels
        try:
            return frequent_itemsets(matrix, self.min_support, self.max_len)
        except TooManyItemsetsError as exc:
            raise DataValidationError(
                f"{exc} ({n} baskets)", frame="baskets", rule="too_many_itemsets",
            ) from exc

    @staticmethod
    def _label_sets(levels: list[tuple[np.ndarray, np.ndarray]],
                    labels: np.ndarray) -> np.ndarray:
        """Return the itemsets as frozensets of item labels (an object array), in order."""
        sets: list[frozenset[Any]] = []
        for rows, _ in levels:
            # One list per item position, zipped: no list per itemset is made.
            sets.extend(map(frozenset, zip(*labels[rows.T].tolist(), strict=True)))
        out = np.empty(len(sets), dtype=object)
        out[:] = sets
        return out

    def _rules(self, levels: list[tuple[np.ndarray, np.ndarray]], n: int,
               sets: np.ndarray) -> pd.DataFrame:
        """Every rule ``A -> C`` (``A + C`` frequent) meeting the thresholds, best first.

        All splits of all itemsets of one length and one consequent length are made at
        once; ``A`` and ``C`` are frequent itemsets too, found by rank (see
        :class:`_ItemsetIndex`), so their supports and their frozensets (``sets``)
        are reused. Ties in confidence and lift keep the itemsets' order (shorter
        first, then by item), then shorter consequents first.
        """
        tops = [k - 1 if self.max_consequent_len is None
                else min(k - 1, self.max_consequent_len) for k in range(1, len(levels) + 1)]
        n_rules = sum(len(levels[k - 1][0]) * sum(comb(k, j) for j in range(1, tops[k - 1] + 1))
                      for k in range(2, len(levels) + 1))
        if n_rules > 5_000_000:
            raise DataValidationError(
                f"the {len(sets):,} itemsets would give {n_rules:,.0f} candidate rules; "
                "raise min_support or set max_len / max_consequent_len",
                frame="baskets", rule="too_many_rules")
        index = _ItemsetIndex(levels)
        support = np.concatenate([c for _, c in levels]) / n
        parts: list[tuple[np.ndarray, ...]] = []
        for k in range(2, len(levels) + 1):
            rows = index.positions(levels[k - 1][0])
            step = max(1, (1 << 20) // (2**k))
            for r0 in range(0, len(rows), step):
                block = rows[r0:r0 + step]
                first = index.first[k - 1] + r0
                # Confidence only falls as the consequent grows (its antecedent, a
                # subset, is at least as frequent): a consequent is tried only when
                # every consequent one item shorter met min_confidence.
                passed = np.ones((len(block), 1), dtype=bool)
                for j in range(1, tops[k - 1] + 1):
                    chosen, rest, shorter = _splits(k, j)
                    if j == 1:  # every single-item consequent: whole blocks
                        r = np.repeat(np.arange(len(block)), k)
                        c = np.tile(np.arange(k), len(block))
                        ante = index.find(block[:, rest].reshape(-1, k - 1))
                        cons = index.find(block.reshape(-1, 1))
                    else:
                        r, c = np.nonzero(passed[:, shorter].all(axis=2))
                        if len(r) == 0:
                            break
                        ante = index.find(block[r[:, None], rest[c]])
                        cons = index.find(block[r[:, None], chosen[c]])
                    conf = support[first + r] / support[ante]
                    ok = conf >= self.min_confidence - 1e-12
                    passed = np.zeros((len(block), len(chosen)), dtype=bool)
                    passed[r[ok], c[ok]] = True
                    if self.min_lift is not None:
                        ok &= conf / support[cons] >= self.min_lift
                    if ok.any():
                        parts.append((ante[ok], cons[ok], first + r[ok],
                                      np.full(int(ok.sum()), j), c[ok]))
        if parts:
            ante, cons, whole, cons_len, split = (np.concatenate(c)
                                                  for c in zip(*parts, strict=True))
        else:
            ante = cons = whole = cons_len = split = np.zeros(0, dtype=np.int64)
        s_a, s_c, s_ac = support[ante], support[cons], support[whole]
        conf = s_ac / s_a  # as rule_metrics computes them
        order = np.lexsort((split, cons_len, whole, -(conf / s_c), -conf))
        rules = rule_metrics(s_a[order], s_c[order], s_ac[order])
        rules.insert(0, "consequents", sets[cons[order]])
        rules.insert(0, "antecedents", sets[ante[order]])
        return rules

    def _fit(self, prepared: tuple[Any, ...]) -> None:
        matrix, _, items = prepared[:3]
        n = int(matrix.shape[0])
        labels = items.to_numpy(dtype=object)
        levels = self._mine(matrix)
        sets = self._label_sets(levels, labels)
        self.rules_ = self._rules(levels, n, sets)
        self.itemsets_ = pd.DataFrame({
            "support": np.concatenate([c for _, c in levels]) / n,
            "itemsets": pd.Series(sets, dtype=object)})
        self.n_baskets_ = n
        self.items_ = pd.Index(items, name="item")
        if len(prepared) > 3:
            segments = prepared[3]
            csr = sp.csr_matrix(matrix)
            per_segment: dict[Any, pd.DataFrame] = {}
            for seg in pd.unique(segments[pd.notna(segments)]):
                rows = np.flatnonzero(segments == seg)
                sub = sp.csc_matrix(csr[rows])
                seg_levels = self._mine(sub)
                per_segment[seg] = self._rules(seg_levels, len(rows),
                                               self._label_sets(seg_levels, labels))
            self.segment_rules_ = per_segment

    # ------------------------------------------------------------------ use
    def recommend(self, basket: Sequence[Any], k: int = 5,
                  segment: Any = None) -> pd.DataFrame:
        """Items not in ``basket``, ranked by the best rule that fires (confidence, lift).

        A rule fires when all its antecedents are in the basket. With ``segment``
        (models fitted with ``segment_column``), that segment's rules are used.
        """
        self._check_fitted()
        if isinstance(basket, str | bytes | Mapping) or not isinstance(basket, Iterable):
            raise TypeError("recommend: basket must be a list (or set) of items, got "
                            f"{type(basket).__name__}")
        rules = self.rules_
        if segment is not None:
            per_segment = getattr(self, "segment_rules_", None)
            if per_segment is None or segment not in per_segment:
                from crmmodels.errors import InvalidParameterError

                raise InvalidParameterError(
                    f"no rules for segment {segment!r}; fit with segment_column= (segments: "
                    f"{sorted(map(str, per_segment or {}))})")
            rules = per_segment[segment]
        have = frozenset(basket)
        best: dict[Any, tuple[float, float, str]] = {}
        for row in rules.itertuples(index=False):
            ante, cons = row[0], row[1]
            if not ante <= have:
                continue
            conf, lift = float(row[5]), float(row[6])
            text = f"{sorted(map(str, ante))} -> {sorted(map(str, cons))}"
            for item in cons:
                if item in have:
                    continue
                if item not in best or (conf, lift) > best[item][:2]:
                    best[item] = (conf, lift, text)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], -kv[1][1], str(kv[0])))[:k]
        return pd.DataFrame({"item": [i for i, _ in ranked],
                             "confidence": [v[0] for _, v in ranked],
                             "lift": [v[1] for _, v in ranked],
                             "rule": [v[2] for _, v in ranked]})

    def _html_diagnostics(self) -> list[tuple[str, pd.DataFrame | pd.Series | str]]:
        """Show how many itemsets and rules were mined, and the first ten rules."""
        rules = self.rules_
        shown = [c for c in ("antecedents", "consequents", "support", "confidence", "lift")
                 if c in rules.columns]
        counts = pd.Series({"items": len(self.items_), "itemsets": len(self.itemsets_),
                            "rules": len(rules)}, name="count")
        return [("Mined", counts), ("Rules (first 10)", rules.head(10)[shown])]

    def _score(self, prepared: tuple[Any, ...]) -> pd.DataFrame:
        """Best recommendations per basket, vectorised over baskets and rules.

        A rule fires for a basket when the basket holds all its antecedents (a sparse
        product counts the antecedent items present); every consequent item the basket
        lacks is then a candidate, ranked by the best firing rule's confidence, then
        lift.
        """
        matrix, basket_ids, items = prepared[:3]
        n_b = matrix.shape[0]
        known = {item: k for k, item in enumerate(self.items_)}
        # Baskets over the fitted item universe (new items are ignored).
        col_map = np.array([known.get(i, -1) for i in items], dtype=np.int64)
        coo = matrix.tocoo()
        ok = col_map[coo.col] >= 0
        basket = sp.csr_matrix((np.ones(int(ok.sum())), (coo.row[ok], col_map[coo.col[ok]])),
                               shape=(n_b, len(self.items_)))
        basket.data[:] = 1.0
        rules = self.rules_
        n_r = len(rules)
        empty = pd.DataFrame({"item": pd.Series([None] * n_b, dtype=object),
                              "confidence": np.nan, "lift": np.nan,
                              "rule": pd.Series([None] * n_b, dtype=object),
                              "items": [() for _ in range(n_b)]},
                             index=pd.Index(basket_ids, name="basket_id"))
        if n_r == 0 or n_b == 0:
            return empty
        ante_rows, ante_cols, cons_rule, cons_item = [], [], [], []
        for r, (a, c) in enumerate(zip(rules["antecedents"], rules["consequents"],
                                       strict=True)):
            for item in a:
                ante_rows.append(known[item])
                ante_cols.append(r)
            for item in c:
                cons_rule.append(r)
                cons_item.append(known[item])
        ante = sp.csc_matrix((np.ones(len(ante_rows)), (ante_rows, ante_cols)),
                             shape=(len(self.items_), n_r))
        need = np.asarray(ante.sum(axis=0)).ravel()
        hits = (basket @ ante).tocoo()
        fired = hits.data >= need[hits.col] - 0.5
        fb, fr = hits.row[fired], hits.col[fired]
        if len(fb) == 0:
            return empty
        cons = sp.csr_matrix((np.ones(len(cons_rule)), (cons_rule, cons_item)),
                             shape=(n_r, len(self.items_)))
        # Expand each fired (basket, rule) to its consequent items.
        counts = np.diff(cons.indptr)[fr]
        cb = np.repeat(fb, counts)
        cr = np.repeat(fr, counts)
        starts = cons.indptr[fr]
        offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        ci = cons.indices[np.repeat(starts, counts) + offsets]
        owned = np.asarray(basket[cb, ci]).ravel() > 0
        cb, cr, ci = cb[~owned], cr[~owned], ci[~owned]
        if len(cb) == 0:  # every item the fired rules offer is in its basket already
            return empty
        conf = rules["confidence"].to_numpy(float)[cr]
        lift = rules["lift"].to_numpy(float)[cr]
        order = np.lexsort((ci, cr, -lift, -conf, cb))
        cb, cr, ci, conf, lift = cb[order], cr[order], ci[order], conf[order], lift[order]
        # Keep each (basket, item) once, at its best rule (first in this order).
        pair = cb.astype(np.int64) * len(self.items_) + ci
        _, first = np.unique(pair, return_index=True)
        first = np.sort(first)
        cb, cr, ci, conf, lift = cb[first], cr[first], ci[first], conf[first], lift[first]
        labels = self.items_.to_numpy(dtype=object)
        texts = [" + ".join(sorted(map(str, a))) + " -> " + " + ".join(sorted(map(str, c)))
                 for a, c in zip(rules["antecedents"], rules["consequents"], strict=True)]
        out = empty.copy()
        items_col: list[tuple[Any, ...]] = [() for _ in range(n_b)]
        starts_b = np.flatnonzero(np.r_[True, cb[1:] != cb[:-1]])
        ends_b = np.r_[starts_b[1:], len(cb)]
        best_b = cb[starts_b]
        for s0, e0, b in zip(starts_b, ends_b, best_b, strict=True):
            items_col[b] = tuple(labels[ci[s0:min(e0, s0 + int(self.top_k))]])
        item_col = np.full(n_b, None, dtype=object)
        conf_col = np.full(n_b, np.nan)
        lift_col = np.full(n_b, np.nan)
        rule_col = np.full(n_b, None, dtype=object)
        item_col[best_b] = labels[ci[starts_b]]
        conf_col[best_b] = conf[starts_b]
        lift_col[best_b] = lift[starts_b]
        rule_col[best_b] = [texts[r] for r in cr[starts_b]]
        out["item"] = item_col
        out["confidence"] = conf_col
        out["lift"] = lift_col
        out["rule"] = rule_col
        out["items"] = items_col
        return out


@functools.cache
def _splits(k: int, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return every ``j``-subset of ``k`` sorted items, its complement and its subsets.

    Positions of the ``j`` items, of the ``k - j`` others, and the numbers of the
    ``(j - 1)``-subsets among those of ``_splits(k, j - 1)``.

    Examples
    --------
    >>> chosen, rest, shorter = _splits(3, 2)
    >>> chosen.tolist(), rest.tolist(), shorter.tolist()
    ([[0, 1], [0, 2], [1, 2]], [[2], [1], [0]], [[1, 0], [2, 0], [2, 1]])
    """
    chosen = [c for c in combinations(range(k), j)]
    rest = [[i for i in range(k) if i not in c] for c in chosen]
    number = {c: i for i, c in enumerate(combinations(range(k), j - 1))}
    shorter = [[number[c[:i] + c[i + 1:]] for i in range(j)] for c in chosen]
    return (np.array(chosen, dtype=np.int64).reshape(-1, j),
            np.array(rest, dtype=np.int64).reshape(-1, k - j),
            np.array(shorter, dtype=np.int64).reshape(-1, j))


# Itemsets of j of u items are ranked into int64 while C(u, j) stays below this.
_RANK_LIMIT = 2**62
# Ranks up to this many values are looked up in a dense array, larger ones by search.
_DENSE_RANKS = 1 << 21


class _ItemsetIndex:
    """Find frequent itemsets by their item columns: their place in the list of all.

    An itemset of ``j`` items, as increasing positions ``c_1 < ... < c_j`` among the
    ``u`` frequent items, has the combinatorial rank ``sum_i C(c_i, i)``: a distinct
    integer below ``C(u, j)``, found in a dense array or by a sorted search; should
    ``C(u, j)`` not fit in 64 bits, rows are matched by sorting instead.

    Examples
    --------
    >>> import numpy as np
    >>> levels = [(np.array([[2], [5], [7]]), np.array([9, 8, 7])),
    ...           (np.array([[2, 5], [5, 7]]), np.array([4, 3]))]
    >>> index = _ItemsetIndex(levels)
    >>> index.find(index.positions(np.array([[5, 7], [2, 5]]))).tolist()
    [4, 3]
    """

    def __init__(self, levels: list[tuple[np.ndarray, np.ndarray]]) -> None:
        singles = levels[0][0][:, 0]
        # Position of each item column among the frequent items (increasing).
        self.position = np.full(int(singles.max(initial=-1)) + 1, -1, dtype=np.int64)
        self.position[singles] = np.arange(len(singles))
        self.first = np.cumsum([0] + [len(rows) for rows, _ in levels])
        u = len(singles)
        self.binom: list[np.ndarray | None] = [None]
        self.tables: list[tuple[str, np.ndarray, np.ndarray]] = []
        column = [1] * u  # C(v, 0) for v = 0 .. u - 1
        for j, (rows, _) in enumerate(levels, start=1):
            # C(v, j) = sum_{w < v} C(w, j - 1) (hockey stick), exact in Python ints.
            column = [0, *accumulate(column)][:u]
            fits = max(column, default=0) < _RANK_LIMIT and comb(u, j) < _RANK_LIMIT
            self.binom.append(np.array(column, dtype=np.int64) if fits else None)
            place = np.arange(self.first[j - 1], self.first[j],
                              dtype=np.int32 if self.first[-1] < 2**31 else np.int64)
            if j == 1:
                self.tables.append(("dense", place, place))
                continue
            positions = self.position[rows]
            if not all(b is not None for b in self.binom[1:j + 1]):
                self.tables.append(("rows", positions, place))
                continue
            ranks = self._ranks(positions)
            if comb(u, j) <= max(_DENSE_RANKS, 4 * len(rows)):
                dense = np.full(comb(u, j), -1, dtype=place.dtype)
                dense[ranks] = place
                self.tables.append(("dense", dense, dense))
            else:
                order = np.argsort(ranks)
                self.tables.append(("sorted", ranks[order], place[order]))

    def _ranks(self, positions: np.ndarray) -> np.ndarray:
        rank = np.zeros(len(positions), dtype=np.int64)
        for i in range(positions.shape[1]):
            table = self.binom[i + 1]
            assert table is not None
            rank += table[positions[:, i]]
        return rank

    def positions(self, rows: np.ndarray) -> np.ndarray:
        """Return itemsets given by item columns as positions among the frequent items."""
        out: np.ndarray = self.position[rows]
        return out

    def find(self, positions: np.ndarray) -> np.ndarray:
        """Return the place of each itemset (rows of :meth:`positions`; all frequent)."""
        kind, keys, place = self.tables[positions.shape[1] - 1]
        if kind == "rows":
            both = np.concatenate([keys, positions])
            _, inverse = np.unique(both, axis=0, return_inverse=True)
            inverse = inverse.ravel()
            slot = np.empty(int(inverse.max()) + 1, dtype=np.int64)
            slot[inverse[:len(keys)]] = place
            return slot[inverse[len(keys):]]
        ranks = positions[:, 0] if positions.shape[1] == 1 else self._ranks(positions)
        found: np.ndarray = place[ranks] if kind == "dense" else place[np.searchsorted(keys, ranks)]
        return found
