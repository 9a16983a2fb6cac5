"""Ledger text in the monthly report is text in every format (issue 13, item 7): a title
such as ``<script>alert(1)</script>`` or a Markdown link is neither HTML nor a link in the
HTML, the PDF's HTML or the Markdown, even when a permissive converter renders the
Markdown with raw HTML allowed."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from cwledger.errors import PdfUnavailable
from cwledger.ledger.ledger import Ledger
from cwledger.reports import build, render
from cwledger.reports.render import md_text
from tests.book.builders import Book, item, site
from tests.conftest import FOUNDING, ORIGIN

HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3))"
    " ![t](http://tracker.example/x.png) <http://evil.example> `code` *em* _em_ | pipe"
    " &lt;script&gt; \\<b>"
)
# Every tag the report's own templates write; ledger text must add none.
OWN_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "main", "section", "footer",
    "h1", "h2", "h3", "p", "em", "strong", "code", "pre", "table", "thead", "tbody", "tr",
    "th", "td", "br", "hr", "figure", "figcaption", "svg", "g", "line", "polyline", "text",
    "rect", "path", "span", "div", "small", "ul", "li", "a", "caption", "col", "colgroup",
}  # fmt: skip


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [f"{k}={v}" for k, v in attrs]


def _tags(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    led = Ledger.init(tmp_path / "ledger", ORIGIN, founding=FOUNDING, time="2013-09-14T00:00:00Z")
    book = Book(led)
    book.declare([item("C-1")], sites=[{**site("S-1"), "name": HOSTILE}, site("S-2")])
    book.append("finding.raised", {"title": HOSTILE, "subjects": ["S-1"]})
    book.append("finding.resolved", {"finding": 1, "status": "resolved", "remarks": HOSTILE})
    book.append(
        "milestone.set",
        {
            "milestone": "M-1",
            "description": HOSTILE,
            "instrument": HOSTILE,
            "due": "2014-06-30",
            "predicate": {"kind": "document", "document_kind": "plan"},
        },
    )
    doc = {"document": "D-1", "kind": "plan", "title": HOSTILE, "issued_by": HOSTILE}
    book.append("document.filed", doc)
    return led


def test_md_text_shows_text_literally() -> None:
    assert md_text("<script>") == "&lt;script&gt;"
    assert md_text("[a](b) *c* `d` |") == "\\[a\\](b) \\*c\\* \\`d\\` \\|"


@given(st.text())
def test_md_text_is_one_line_of_literal_text(text: str) -> None:
    """Whatever the text: one line, no Markdown control character left unescaped, no raw
    tag; a locale's no-break spaces (the grouping of "1 300,119") kept as they are."""
    shown = str(md_text(text))
    assert not any(ch in shown for ch in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
    assert "<" not in shown and ">" not in shown
    unescaped = re.sub(r"\\.", "", shown)
    assert not set(unescaped) & set("`*_[]#|~")
    inner = text.strip()
    assert shown.count("\u202f") == inner.count("\u202f") or not inner


@pytest.mark.parametrize("lang", ["en", "ar", "ru"])
def test_ledger_text_is_text_in_every_format(ledger: Ledger, lang: str) -> None:
    """In every language: the report's own sentences are translated around the ledger's
    text, which stays text."""
    with ledger.store.read() as r:
        report = build(r, "2014-01")
    assert any(HOSTILE in f.title for f in report.findings_opened)  # the attack is in it
    html = render.html(report, lang)
    markdown = render.markdown(report, lang)
    for text in (html, markdown):
        assert "<script" not in text and "<img" not in text and "<http" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Markdown rendered by a converter that passes raw HTML through, as the attack's did.
    converted = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    found = _tags(converted)
    assert set(found.tags) <= OWN_TAGS - {"a"}, set(found.tags) - OWN_TAGS
    assert not [a for a in found.attrs if a.startswith(("href", "src", "on"))]
    assert "<script>alert(1)</script>" in _text(converted)  # shown, as text
    assert set(_tags(html).tags) <= OWN_TAGS
    try:
        pdf = render.render(report, "pdf", lang)
    except PdfUnavailable:
        return
    assert pdf.startswith(b"%PDF")


def _text(html: str) -> str:
    parts: list[str] = []
    parser = HTMLParser()
    parser.handle_data = parts.append  # type: ignore[method-assign]
    parser.feed(html)
    return "".join(parts)
