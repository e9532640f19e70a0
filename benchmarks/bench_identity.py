"""Benchmark: identity resolution of 1,000,000 records against a networkx recipe, one process.

Data: ``crmmodels.datasets.simulate_identities`` (people with 1 to 4 records in several
systems; e-mail addresses written in five ways, phones in four formats, later records
carrying one key only), about 1,000,000 records.

(a) crmmodels: ``resolve_identities(records, keys=["email", "phone"],
    max_cluster_size=None)`` end to end (normalisation, linkage, keys, clusters and
    report).
(b) the notebook recipe: the same normalised keys (crmmodels' public normalisers, so
    that both sides link the same values), a networkx graph of records and key values,
    ``networkx.connected_components``, and a key per component.

Both must give the same partition of the records (checked before any ratio is
printed; exit status 1 otherwise), and the pair precision and recall against the
planted people are printed. Times are wall clock, never under tracemalloc; memory is
the rise of peak RSS in the timed run and the tracemalloc peak of a separate run.

Run: ``python benchmarks/bench_identity.py [--people 400000] [--no-networkx]``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd
from bench_churn import run

from crmmodels.datasets import simulate_identities
from crmmodels.identity import normalize_email, normalize_phone, resolve_identities


def networkx_recipe(records: pd.DataFrame) -> pd.Series:
    """Normalise the keys, link records through shared values with networkx."""
    import networkx as nx

    email = normalize_email(records["email"])[0]
    phone = normalize_phone(records["phone"])[0]
    graph: Any = nx.Graph()
    ids = records["customer_id"].tolist()
    graph.add_nodes_from(ids)
    graph.add_edges_from((i, ("email", e)) for i, e in zip(ids, email, strict=True)
                         if e is not None)
    graph.add_edges_from((i, ("phone", p)) for i, p in zip(ids, phone, strict=True)
                         if p is not None)
    key: dict[str, int] = {}
    for number, component in enumerate(nx.connected_components(graph)):
        for node in component:
            if isinstance(node, str):
                key[node] = number
    return pd.Series(key, name="component")


def same_partition(a: pd.Series, b: pd.Series) -> bool:
    """Whether two labelings of the same ids group them the same way."""
    b = b.reindex(a.index)
    if b.isna().any():
        return False
    pairs = pd.DataFrame({"a": a.to_numpy(), "b": b.to_numpy()}).drop_duplicates()
    return bool(pairs["a"].is_unique and pairs["b"].is_unique)


def pair_scores(truth: np.ndarray, found: np.ndarray) -> tuple[float, float]:
    """Precision and recall of same-person pairs (pairs counted per contingency cell)."""
    table = pd.crosstab(truth, found, dropna=False) if len(truth) < 50_000 else None
    if table is not None:
        counts, rows, cols = (table.to_numpy(), table.sum(axis=1).to_numpy(),
                              table.sum(axis=0).to_numpy())
    else:
        cell = pd.DataFrame({"t": truth, "f": found}).value_counts().to_numpy()
        counts = cell
        rows = pd.Series(truth).value_counts().to_numpy()
        cols = pd.Series(found).value_counts().to_numpy()

    def pairs(x: np.ndarray) -> float:
        return float((x.astype(np.float64) * (x - 1) / 2).sum())

    both = pairs(counts)
    return both / pairs(cols), both / pairs(rows)


def main() -> int:
    """Run the benchmark and print its table; 1 when the two sides disagree."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=400_000)
    parser.add_argument("--no-networkx", action="store_true")
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args()
    records = simulate_identities(args.people, random_state=0)
    print(f"{len(records):,} records of {args.people:,} people "
          f"({records['email'].notna().sum():,} e-mails, {records['phone'].notna().sum():,} "
          "phones)\n")
    memory = not args.no_memory
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours_s, ours_mb, ours_rss, res = run(
            lambda: resolve_identities(records, keys=["email", "phone"],
                                       max_cluster_size=None), memory)
    found = records["customer_id"].map(res.mapping).to_numpy()
    precision, recall = pair_scores(records["person"].to_numpy(), found)
    print("| step | s | peak MB (tracemalloc) | peak RSS rise MB |\n|---|---:|---:|---:|")
    print(f"| (a) crmmodels `resolve_identities` end to end | {ours_s:.2f} | {ours_mb:.0f} | "
          f"{ours_rss:.0f} |")
    ok = True
    if not args.no_networkx:
        try:
            import networkx  # noqa: F401
        except ImportError:
            print("\nnetworkx is not installed (pip install -e \".[bench]\"): (b) skipped")
            args.no_networkx = True
    if not args.no_networkx:
        nx_s, nx_mb, nx_rss, ref = run(lambda: networkx_recipe(records), memory)
        print(f"| (b) normalisers + networkx connected components | {nx_s:.2f} | "
              f"{nx_mb:.0f} | {nx_rss:.0f} |")
        ours = records["customer_id"].map(res.mapping)
        ours.index = records["customer_id"]
        ok = same_partition(ours, ref)
    print(f"\n{res.report.people:,} people found for {records['person'].nunique():,} planted; "
          f"same-person pairs: precision {precision:.4f}, recall {recall:.4f}")
    if not ok:
        print("\nPARTITIONS DIFFER: no ratio printed")
        return 1
    if not args.no_networkx:
        print("\nBoth sides give the same partition of the records.")
        print(f"\nHeadline: identity resolution, {len(records):,} records: networkx recipe / "
              f"crmmodels = **{nx_s / ours_s:.1f}x**")
    print(f"\nHeadline: identity resolution of {len(records):,} records: **{ours_s:.1f} s**, "
          f"peak RSS rise {ours_rss:,.0f} MB (bars 30 s and 2 GB); pair precision "
          f"{precision:.4f}, recall {recall:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
