"""Market-basket analysis: frequent itemsets, association rules, recommendations.

Rules and their interest metrics follow mlxtend's definitions (antecedent and
consequent support, support, confidence, lift, representativity, leverage, conviction,
Zhang's metric, Jaccard, certainty, Kulczynski). The default miner
(:mod:`crmmodels._miner`, Eclat on bitsets) returns exactly mlxtend's itemsets; an
itemset is frequent when it occurs in at least ``ceil(min_support * n_baskets)``
baskets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import combinations
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from crmmodels.core import ColumnName, Constraint, CRMModel, Interval, Options
from crmmodels.data import CRMData
from crmmodels.errors import DataValidationError

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
        frame = baskets[["basket_id", "item"]]
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
        frame = pd.DataFrame({"basket_id": ids, "item": pd.Series(items, dtype=object)})
    if len(frame) == 0:
        raise DataValidationError("there are no items in the baskets", frame="baskets",
                                  rule="non_empty")
    bad = frame["item"].isna().to_numpy() | frame["basket_id"].isna().to_numpy()
    if bad.any():
        raise DataValidationError(
            "baskets hold missing items or basket ids", frame="baskets", column="item",
            rule="not_null", rows=list(frame.index[bad][:5]), n_rows=int(bad.sum()))
    b, basket_ids = _factorize_sorted(frame["basket_id"])
    i, items_idx = _factorize_sorted(frame["item"])
    matrix = sp.csc_matrix((np.ones(len(b), dtype=bool), (b, i)),
                           shape=(len(basket_ids), len(items_idx)))
    matrix.sum_duplicates()
    matrix.data[:] = True
    return matrix, pd.Index(basket_ids, name="basket_id"), pd.Index(items_idx, name="item")


def _factorize_sorted(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes and labels in sorted label order (so results do not depend on row order)."""
    try:
        codes, labels = pd.factorize(values, sort=True)
    except TypeError:  # labels of mixed types cannot be sorted: order by their text
        codes, labels = pd.factorize(values.map(str), sort=True)
        first = pd.Series(values.to_numpy()).groupby(codes).first()
        return codes, pd.Index(first.to_numpy(), dtype=object)
    return codes, pd.Index(labels)


def attribute_baskets(customers: pd.DataFrame, columns: Sequence[str] | None = None,
                      bins: int = 4) -> pd.DataFrame:
    """Turn customer attributes into items, one basket per customer (attribute rules).

    Categorical (and boolean) columns become items ``"column=value"``; numeric columns
    are cut into ``bins`` quantile bands, ``"column=[low, high]"``. Mining the result
    gives rules such as "MaritalStatus=Married AND Age=[50, 59] -> NumberOfCars=2+".

    Parameters
    ----------
    customers : DataFrame
        One row per customer (``customer_id`` column or index).
    columns : sequence of str, optional
        Attributes to use (default: every column but ``customer_id``).
    bins : int, default 4
        Quantile bands for numeric columns.

    Returns
    -------
    DataFrame
        Long frame ``basket_id`` (the customer), ``item``.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"customer_id": ["a", "b", "c"], "married": ["yes", "no", "no"],
    ...                   "age": [30, 45, 60]})
    >>> attribute_baskets(c, bins=2)["item"].tolist()
    ['married=yes', 'married=no', 'married=no', 'age=[30, 45]', 'age=[30, 45]', 'age=(45, 60]']
    """
    frame = customers.reset_index() if "customer_id" not in customers.columns \
        and customers.index.name == "customer_id" else customers
    if "customer_id" not in frame.columns:
        from crmmodels.errors import MissingColumnError

        raise MissingColumnError("customers", "customer_id", list(frame.columns))
    use = list(columns) if columns is not None else [c for c in frame.columns
                                                     if c != "customer_id"]
    parts = []
    for col in use:
        if col not in frame.columns:
            from crmmodels.errors import MissingColumnError

            raise MissingColumnError("customers", col, list(frame.columns))
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
        parts.append(pd.DataFrame({"basket_id": frame["customer_id"].to_numpy()[keep],
                                   "item": [f"{col}={v}" for v in labels.to_numpy()[keep]]}))
    if not parts:
        raise DataValidationError("no attribute columns to turn into items",
                                  frame="customers", rule="non_empty")
    return pd.concat(parts, ignore_index=True)


def rule_metrics(s_a: np.ndarray, s_c: np.ndarray, s_ac: np.ndarray) -> pd.DataFrame:
    """Compute mlxtend's interest metrics from antecedent, consequent and rule supports.

    Examples
    --------
    >>> import numpy as np
    >>> m = rule_metrics(np.array([0.4]), np.array([0.5]), np.array([0.3]))
    >>> round(float(m["lift"].iloc[0]), 6)
    1.5
    """
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
    return pd.DataFrame({
        "antecedent support": s_a, "consequent support": s_c, "support": s_ac,
        "confidence": conf, "lift": lift, "representativity": np.ones(len(s_a)),
        "leverage": leverage, "conviction": conviction, "zhangs_metric": zhang,
        "jaccard": jaccard, "certainty": certainty, "kulczynski": kulczynski,
    })


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
        Miner: our exact bitset Eclat ("auto" and "eclat") or mlxtend's FP-Growth.
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
        ``support, itemsets`` (frozensets of items), as mlxtend returns them.
    rules_ : DataFrame
        One row per rule with every mlxtend metric.
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
            tx = data.transactions
            assert tx is not None
            for col in (self.basket, "product_id"):
                if col not in tx.columns:
                    from crmmodels.errors import MissingColumnError

                    raise MissingColumnError("transactions", col, list(tx.columns))
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
    def _mine(self, matrix: sp.csc_matrix, items: pd.Index) -> pd.DataFrame:
        n = matrix.shape[0]
        if self.engine == "mlxtend":
            from mlxtend.frequent_patterns import fpgrowth

            frame = pd.DataFrame.sparse.from_spmatrix(  # type: ignore[attr-defined]
                sp.csr_matrix(matrix), columns=range(len(items)))
            found = fpgrowth(frame, min_support=self.min_support, max_len=self.max_len)
            sets = [tuple(sorted(int(i) for i in s)) for s in found["itemsets"]]
            counts = np.round(found["support"].to_numpy() * n).astype(np.int64)
        else:
            from crmmodels.association._miner import TooManyItemsetsError, mine_itemsets

            try:
                sets, counts = mine_itemsets(matrix, self.min_support, self.max_len)
            except TooManyItemsetsError as exc:
                raise DataValidationError(
                    f"{exc} ({n} baskets)", frame="baskets", rule="too_many_itemsets",
                ) from exc
        labels = items.to_numpy(dtype=object)
        return pd.DataFrame({
            "support": counts / n,
            "itemsets": [frozenset(labels[list(s)]) for s in sets],
            "_codes": sets,
        })

    def _rules(self, itemsets: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
        support = dict(zip(itemsets["_codes"], itemsets["support"], strict=True))
        sizes = np.array([len(c) for c in itemsets["_codes"]], dtype=np.int64)
        tops = sizes - 1 if self.max_consequent_len is None \
            else np.minimum(sizes - 1, self.max_consequent_len)
        from scipy.special import comb

        n_rules = sum(float(comb(k, j, exact=False)) for k, t in zip(sizes, tops, strict=True)
                      for j in range(1, int(t) + 1))
        if n_rules > 5_000_000:
            raise DataValidationError(
                f"the {len(sizes):,} itemsets would give {n_rules:,.0f} candidate rules; "
                "raise min_support or set max_len / max_consequent_len",
                frame="baskets", rule="too_many_rules")
        ante: list[tuple[int, ...]] = []
        cons: list[tuple[int, ...]] = []
        for codes in itemsets["_codes"]:
            k = len(codes)
            if k < 2:
                continue
            top = k - 1 if self.max_consequent_len is None else min(k - 1,
                                                                    self.max_consequent_len)
            for size in range(1, top + 1):
                for c in combinations(codes, size):
                    ante.append(tuple(x for x in codes if x not in c))
                    cons.append(c)
        s_a = np.array([support[a] for a in ante], dtype=float)
        s_c = np.array([support[c] for c in cons], dtype=float)
        s_ac = np.array([support[tuple(sorted(a + c))] for a, c in zip(ante, cons,
                                                                         strict=True)],
                        dtype=float)
        metrics = rule_metrics(s_a, s_c, s_ac)
        keep = metrics["confidence"].to_numpy() >= self.min_confidence - 1e-12
        if self.min_lift is not None:
            keep &= metrics["lift"].to_numpy() >= self.min_lift
        idx = np.flatnonzero(keep)
        rules = metrics.iloc[idx].reset_index(drop=True)
        rules.insert(0, "consequents", [frozenset(labels[list(cons[i])]) for i in idx])
        rules.insert(0, "antecedents", [frozenset(labels[list(ante[i])]) for i in idx])
        # Ties in confidence and lift keep the (sorted-item) mining order: deterministic.
        rules = rules.sort_values(["confidence", "lift"], ascending=False, kind="stable")
        return rules.reset_index(drop=True)

    def _fit(self, prepared: tuple[Any, ...]) -> None:
        matrix, _, items = prepared[:3]
        itemsets = self._mine(matrix, items)
        labels = items.to_numpy(dtype=object)
        self.rules_ = self._rules(itemsets, labels)
        self.itemsets_ = itemsets.drop(columns="_codes")
        self.n_baskets_ = int(matrix.shape[0])
        self.items_ = pd.Index(items, name="item")
        if len(prepared) > 3:
            segments = prepared[3]
            csr = sp.csr_matrix(matrix)
            per_segment: dict[Any, pd.DataFrame] = {}
            for seg in pd.unique(segments[pd.notna(segments)]):
                rows = np.flatnonzero(segments == seg)
                sub = sp.csc_matrix(csr[rows])
                per_segment[seg] = self._rules(self._mine(sub, items), labels)
            self.segment_rules_ = per_segment

    # ------------------------------------------------------------------ use
    def recommend(self, basket: Sequence[Any], k: int = 5,
                  segment: Any = None) -> pd.DataFrame:
        """Items not in ``basket``, ranked by the best rule that fires (confidence, lift).

        A rule fires when all its antecedents are in the basket. With ``segment``
        (models fitted with ``segment_column``), that segment's rules are used.
        """
        self._check_fitted()
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
