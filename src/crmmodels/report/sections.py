"""A section of the report: what one step of the analysis found."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["Section"]


@dataclass
class Section:
    """One part of the report: what a model found, in words, tables and figures.

    Attributes
    ----------
    key : str
        Anchor of the section in the HTML report.
    title : str
        Heading.
    reading : list of str
        Plain-language paragraphs: what the tables and figures say.
    tables : list of (str, DataFrame)
        Captions and tables.
    figures : list of (str, str)
        Captions and figures as inline SVG.
    notes : list of str
        Warnings the models raised, one line each.
    skipped : str or None
        Why the step did not run (None when it did).
    seconds : float
        Wall-clock time of the step.
    """

    key: str
    title: str
    reading: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0
