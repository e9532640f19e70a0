"""Thread bounds of the native thread pools (BLAS, OpenMP) during model fits.

Numerical libraries size their thread pools from the machine, not from the cores the
process may run on: in a container or under ``taskset`` they start more threads than
there are cores, and the threads fight over them. :func:`limit_threads` bounds every
BLAS and OpenMP pool loaded in the process (through threadpoolctl) to
:func:`usable_cores`, or to ``n_jobs`` when given; :class:`~crmmodels.core.CRMModel`
fits every model inside it, so k-means, the tree ensembles and linear algebra never
oversubscribe, and a large server is not capped either.

Examples
--------
>>> from threadpoolctl import threadpool_info
>>> with limit_threads() as n:
...     all(lib["num_threads"] <= usable_cores() for lib in threadpool_info())
True
>>> n <= usable_cores()
True
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from numbers import Integral
from typing import Any

from crmmodels.core.params import Interval, check_params

__all__ = ["limit_threads", "usable_cores"]

_N_JOBS = {"n_jobs": [None, Interval(Integral, 1, None), Interval(Integral, None, -1)]}
_state = threading.local()


def usable_cores() -> int:
    """Return the number of CPU cores this process may run on.

    The process's CPU affinity (``os.sched_getaffinity``, which ``taskset``, ``cpuset``
    and container CPU sets restrict) where the platform has it, otherwise
    ``os.cpu_count()``; at least 1.

    Returns
    -------
    int

    Examples
    --------
    >>> usable_cores() >= 1
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _resolve(n_jobs: int | None) -> int:
    check_params("limit_threads", {"n_jobs": n_jobs}, _N_JOBS)
    cores = usable_cores()
    if n_jobs is None:
        return cores
    n = int(n_jobs)
    # joblib's convention: -1 is every usable core, -2 all but one, ...
    return n if n > 0 else max(1, cores + 1 + n)


def _above(current: object, n: int) -> bool:
    """Whether a pool of ``current`` threads is above the bound ``n`` (unknown: yes)."""
    return not isinstance(current, int) or current < 1 or current > n


def limit_threads(n_jobs: int | None = None) -> AbstractContextManager[int]:
    """Bound the BLAS and OpenMP thread pools for the duration of the block.

    Parameters
    ----------
    n_jobs : int, optional
        Threads per pool. ``None`` (the default) bounds each pool to
        :func:`usable_cores` and never raises a pool that is already smaller (a
        limit set by the user, e.g. ``OMP_NUM_THREADS``, by an enclosing block or by
        joblib in a worker process stays). A positive int sets every pool to exactly
        that many threads; a negative one counts back from the usable cores as in
        joblib (``-1`` = all of them, ``-2`` = all but one).

    Yields
    ------
    int
        The bound in force in the block.

    Raises
    ------
    InvalidParameterError
        ``n_jobs`` is not ``None``, a positive int or a negative int.

    Notes
    -----
    The limits apply to the pools loaded when the block starts and are restored when
    it ends. Blocks nest: inside a block, ``limit_threads()`` keeps the enclosing
    bound without inspecting the libraries again.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> with limit_threads(n_jobs=1):
    ...     sorted({lib["num_threads"] for lib in threadpool_info()})
    [1]
    >>> limit_threads(n_jobs=0)
    Traceback (most recent call last):
    ...
    crmmodels.errors.InvalidParameterError: limit_threads: n_jobs must be None, an int in ... got 0
    """
    return _limited(_resolve(n_jobs), exact=n_jobs is not None)


# The loaded pools, found by scanning the process's shared libraries (a few ms); found
# again whenever a module was imported since, as a new native library comes with one.
_found: dict[str, object] = {}
_found_lock = threading.Lock()


def _controller(make: type) -> Any:
    with _found_lock:
        if _found.get("modules") != len(sys.modules):
            _found["controller"] = make()
            _found["modules"] = len(sys.modules)
        return _found["controller"]


@contextmanager
def _limited(n: int, *, exact: bool) -> Iterator[int]:
    from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

    enclosing: int | None = getattr(_state, "bound", None)
    if not exact and enclosing is not None and enclosing <= n:
        # An enclosing block already bounds the pools at least as tightly.
        yield enclosing
        return
    controller = _controller(ThreadpoolController)
    if not exact:
        # Only the pools above the bound: a smaller pool keeps its size.
        controller = controller.select(filepath=[
            lib["filepath"] for lib in controller.info() if _above(lib.get("num_threads"), n)])
    _state.bound = n
    try:
        with controller.limit(limits=n):
            yield n
    finally:
        _state.bound = enclosing
