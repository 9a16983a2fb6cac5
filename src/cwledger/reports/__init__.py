"""Reports built from the ledger: the monthly progress report in the manner of the
Director-General's monthly reports to the Executive Council (2013-2016).

`monthly.build` reads one snapshot of the log into a pure data object (`MonthlyReport`);
`render` turns it into HTML, Markdown or PDF. Every figure comes from the core functions
(`cwledger.book.progress`, `cwledger.book.answers`, the book's records and the log);
the report code only selects, orders and formats them.
"""

from cwledger.reports.monthly import MonthlyReport, build

__all__ = ["MonthlyReport", "build"]
