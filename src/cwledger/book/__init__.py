"""The book of a stockpile elimination: records, rules and holdings, derived from the log."""

from cwledger.book.book import Book, BookSource, Changes, Context, Custody, Movement, Position
from cwledger.book.records import ItemRecord, ItemState, Record
from cwledger.book.rules.common import AGREEMENT_K

__all__ = [
    "AGREEMENT_K",
    "Book",
    "BookSource",
    "Changes",
    "Context",
    "Custody",
    "ItemRecord",
    "ItemState",
    "Movement",
    "Position",
    "Record",
]
