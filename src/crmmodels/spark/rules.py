"""Association rules on Spark: Spark MLlib's FP-Growth, in ``AssociationRulesModel``'s schema.

The baskets are built and mined on the executors; the frequent itemsets and the rules
(small: bounded by ``min_support``) reach the driver, where every interest metric is
computed from the supports by :func:`crmmodels.association.rule_metrics`, so the
numbers and the order are those of ``AssociationRulesModel.rules_``.

Spark's FP-Growth makes rules with one item in the consequent: the result equals
``AssociationRulesModel(max_consequent_len=1).rules_`` on the same baskets.

FP-Growth ships its prefix trees between tasks with Java serialisation, which recurses
once per tree level: a basket of *d* frequent items makes a path *d* nodes deep. A task
thread whose stack overflows there raises ``StackOverflowError``, which Spark treats as
fatal: it ends the executor, and in local mode the whole Spark JVM. Measured here with
Spark 4.3 on Java 17, a thread stack of 1 MiB (the JVM's default) overflows at 250-300
levels, 4 MiB at about 1,000. Before mining, the longest basket is measured in frequent
items and checked against the thread stack the session was started with (``-Xss`` in
``spark.driver.extraJavaOptions`` for a local master, ``spark.executor.extraJavaOptions``
otherwise), at 8 KiB per level above 256 KiB: baskets too deep for it are refused with
the setting that would hold them, before any task can end the JVM.
"""

from __future__ import annotations

import logging
import math
import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crmmodels.association import RULE_COLUMNS, rule_metrics
from crmmodels.errors import DataValidationError, InvalidParameterError, MissingColumnError
from crmmodels.spark.frames import require_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["association_rules"]

LOG = logging.getLogger("crmmodels")


def _check_share(name: str, value: float, *, low_open: bool = True) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and (
        0 < value <= 1 if low_open else 0 <= value <= 1)
    if not ok:
        raise InvalidParameterError(f"association_rules: {name} must be a number in (0, 1], "
                                    f"got {value!r}")


_DEFAULT_STACK = 1 << 20  # HotSpot's ThreadStackSize on 64-bit Linux
_STACK_BASE = 256 << 10  # what a task uses before the tree
_STACK_PER_LEVEL = 8 << 10  # twice the measured cost of one tree level
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def _thread_stack_bytes(options: str) -> int | None:
    """Return the thread stack size that JVM options set, or None when they set none.

    ``-Xss<size>`` (bytes, or with a k, m or g suffix) and ``-XX:ThreadStackSize=<KiB>``
    are read; the last one given wins, as in the JVM.

    Examples
    --------
    >>> _thread_stack_bytes("-XX:+UseG1GC -Xss4m")
    4194304
    >>> _thread_stack_bytes("-Xss512k -XX:ThreadStackSize=2048")
    2097152
    >>> _thread_stack_bytes("-Dfoo=bar") is None
    True
    """
    found: int | None = None
    pattern = r"(?:^|\s)(?:-Xss(\d+)([kKmMgG]?)|-XX:ThreadStackSize=(\d+))(?=\s|$)"
    for match in re.finditer(pattern, options):
        if match.group(1) is not None:
            found = int(match.group(1)) * _UNITS[match.group(2).lower()]
        else:
            found = int(match.group(3)) << 10
    return found


def _check_tree_depth(baskets: DataFrame, need: int) -> int:
    """Refuse baskets whose FP-tree paths would overflow a task thread's stack."""
    from pyspark.sql import functions as sf

    session = baskets.sparkSession
    conf = session.sparkContext.getConf()
    local = (session.sparkContext.master or "").startswith("local")
    key = "spark.driver.extraJavaOptions" if local else "spark.executor.extraJavaOptions"
    stack = _thread_stack_bytes(conf.get(key, "") or "") or _DEFAULT_STACK
    lines = baskets.select("basket", sf.explode("items").alias("item"))
    frequent = lines.groupBy("item").count().where(sf.col("count") >= need).select("item")
    deepest = (lines.join(sf.broadcast(frequent), "item").groupBy("basket").count()
               .agg(sf.max("count")).first())
    depth = int(deepest[0]) if deepest is not None and deepest[0] is not None else 0
    holds = max((stack - _STACK_BASE) // _STACK_PER_LEVEL, 0)
    if depth > holds:
        needed = _STACK_BASE + depth * _STACK_PER_LEVEL
        mib = 1 << max(math.ceil(math.log2(needed / (1 << 20))), 0)
        raise DataValidationError(
            f"association_rules: the longest basket holds {depth:,} frequent items, and "
            f"FP-Growth's tree would need about {needed / (1 << 20):.1f} MiB of thread "
            f"stack to ship it; this session's threads have {stack / (1 << 20):g} MiB "
            f"(-Xss in {key}), which holds {holds:,} levels. A deeper tree ends the "
            f"Spark JVM with StackOverflowError. Start Spark with {key}=-Xss{mib}m, "
            "raise min_support, or split the largest baskets.",
            frame="baskets", rule="basket_depth")
    return depth


def association_rules(
    frame: DataFrame,
    *,
    basket: str = "transaction_id",
    item: str = "product_id",
    min_support: float = 0.01,
    min_confidence: float = 0.5,
    min_lift: float | None = None,
    partitions: int | None = None,
) -> pd.DataFrame:
    """Mine association rules from baskets on Spark with MLlib's FP-Growth.

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        One row per (basket, item) line; repeated items in a basket count once, rows
        with a missing basket or item are left out.
    basket, item : str
        The columns naming the basket and the item.
    min_support : float, default 0.01
        Minimum share of baskets, in (0, 1]: an itemset needs
        ``ceil(min_support * n_baskets)`` baskets.
    min_confidence : float, default 0.5
        Minimum rule confidence, in (0, 1].
    min_lift : float, optional
        Minimum lift.
    partitions : int, optional
        FP-Growth's ``numPartitions``.

    Returns
    -------
    pandas.DataFrame
        The columns of ``AssociationRulesModel.rules_`` (antecedents and consequents
        as frozensets, every mlxtend metric), highest confidence first, then highest
        lift, ties in the model's order. Items come back as text (Spark's FP-Growth
        takes arrays of one type; numbers are cast), ordered as text.

    Examples
    --------
    >>> from crmmodels.spark import association_rules
    >>> rules = association_rules(lines, basket="basket_id", item="item")  # doctest: +SKIP
    """
    require_spark("association_rules")
    from pyspark.ml.fpm import FPGrowth
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as sf

    if not isinstance(frame, DataFrame):
        raise DataValidationError(
            f"association_rules takes a Spark DataFrame, got {type(frame).__name__}",
            frame="baskets", rule="type")
    for column in (basket, item):
        if column not in frame.columns:
            raise MissingColumnError("baskets", column, list(frame.columns))
    _check_share("min_support", min_support)
    _check_share("min_confidence", min_confidence)
    if min_lift is not None and not (isinstance(min_lift, int | float)
                                     and not isinstance(min_lift, bool) and min_lift >= 0):
        raise InvalidParameterError(
            f"association_rules: min_lift must be a number >= 0, got {min_lift!r}")
    baskets = (frame.select(sf.col(basket).alias("basket"), sf.col(item).cast("string")
                            .alias("item"))
               .dropna().groupBy("basket")
               .agg(sf.array_distinct(sf.collect_list("item")).alias("items"))
               .cache())
    try:
        n = baskets.count()
        if n == 0:
            raise DataValidationError("association_rules: no basket", frame="baskets",
                                      rule="non_empty")
        need = math.ceil(min_support * n)
        depth = _check_tree_depth(baskets, need)
        # Spark keeps rules at or above its confidence; ours allows 1e-12 of rounding:
        # ask Spark for a little more and cut on the driver.
        miner = FPGrowth(itemsCol="items", minSupport=float(min_support),
                         minConfidence=max(float(min_confidence) - 1e-9, 0.0))
        if partitions is not None:
            miner = miner.setNumPartitions(int(partitions))
        fitted = miner.fit(baskets)
        itemsets = fitted.freqItemsets.toPandas()
        found = fitted.associationRules.select("antecedent", "consequent").toPandas()
    finally:
        baskets.unpersist()
    LOG.info("association_rules: %d baskets (at most %d frequent items each), %d frequent "
             "itemsets, %d candidate rules", n, depth, len(itemsets), len(found))
    count = {frozenset(s): int(c) for s, c in zip(itemsets["items"], itemsets["freq"],
                                                  strict=True)}
    if any(c < need for c in count.values()):  # pragma: no cover - Spark's own rule
        raise RuntimeError("FP-Growth returned an itemset below min_support")
    ante = [frozenset(a) for a in found["antecedent"]]
    cons = [frozenset(c) for c in found["consequent"]]
    whole = [a | c for a, c in zip(ante, cons, strict=True)]
    s_a = np.array([count[a] for a in ante], dtype=float) / n
    s_c = np.array([count[c] for c in cons], dtype=float) / n
    s_ac = np.array([count[w] for w in whole], dtype=float) / n
    rules = rule_metrics(s_a, s_c, s_ac)
    rules.insert(0, "consequents", pd.Series(cons, dtype=object))
    rules.insert(0, "antecedents", pd.Series(ante, dtype=object))
    conf = rules["confidence"].to_numpy()
    lift = rules["lift"].to_numpy()
    keep = conf >= min_confidence - 1e-12
    if min_lift is not None:
        keep &= lift >= min_lift

    # The model's order: confidence, lift (both descending), then the whole itemset
    # (shorter first, then by its sorted items), then the consequent's place in it.
    def key(i: int) -> tuple[object, ...]:
        items = sorted(whole[i])
        return (-conf[i], -lift[i], len(items), items, len(cons[i]),
                [items.index(x) for x in sorted(cons[i])])

    order = sorted(np.flatnonzero(keep).tolist(), key=key)
    out = rules.iloc[order].reset_index(drop=True)
    return out[list(RULE_COLUMNS)]
