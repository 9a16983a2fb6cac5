"""Reports built from the ledger: the progress report in the manner of the
Director-General's monthly reports to the Executive Council (2013-2016), for a calendar
month or any period of days.

`monthly.build` / `monthly.build_period` read one snapshot of the log into a pure data
object (`MonthlyReport`); `render` turns it into HTML, Markdown, PDF, JSON or CSV. Every
figure comes from the core functions (`cwledger.book.progress`, `cwledger.book.answers`,
the book's records and the log); the report code only selects, orders and formats them.
"""

from cwledger.reports.monthly import MonthlyReport, build, build_period

__all__ = ["MonthlyReport", "build", "build_period"]
