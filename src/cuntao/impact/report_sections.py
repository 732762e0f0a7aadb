"""Sections of the printable impact report, contributed by impact's subdomains.

The county's quarterly report (indicators) and the evaluation's results (evaluation)
are built by different parts of the app; each registers its section at start-up and
the report shows them in order. A section gets the report's request and returns
reportlab flowables (an empty list when it has nothing for that county and quarter).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ReportRequest:
    county_id: int
    start: datetime.date  # first day of the quarter
    end: datetime.date  # last day of the quarter, inclusive
    language: str  # "zh-hans" or "en"
    scope: object  # the caller's cuntao.core.scope.Scope


@dataclass(frozen=True)
class ReportSection:
    order: int
    build: Callable[[ReportRequest], list]  # -> reportlab flowables


_sections: list[ReportSection] = []


def register_report_section(section: ReportSection) -> None:
    if section not in _sections:
        _sections.append(section)
        _sections.sort(key=lambda s: s.order)


def report_sections() -> list[ReportSection]:
    return list(_sections)
