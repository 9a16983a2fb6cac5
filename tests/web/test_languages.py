"""The dashboard in the six official languages, in a real browser (Debian's Chromium, one
browser for the session): every main page in each language at 1280 and 390 px with no text
overflowing its box and no sideways scroll; Arabic right to left with the navigation and
the tables mirrored; no console error, no request off 127.0.0.1; no English message left on
a translated page; and the same numbers on every translated page as on the English one,
each read back with Babel in its own locale.

The language comes from the browser's ``Accept-Language`` (each context sends its own), the
switch's cookie overrides it, and the switch goes back only to a page of this server."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from babel.numbers import parse_decimal

from cwledger import i18n
from cwledger.api.process import spawn
from cwledger.web.language import back_to
from tests.web.confidential import build
from tests.web.conftest import Site, Watched

LANGS = [lang.code for lang in i18n.LANGUAGES]
TRANSLATED = [c for c in LANGS if c != i18n.DEFAULT]

# The main pages (the syria-2013 scenario in the clear) and the public ones (a confidential
# ledger, for an anonymous visitor).
PAGES = [
    ("overview", "/"),
    ("map", "/map?at=2014-04-24"),
    ("log", "/log?entry=1000"),
    ("balances", "/balances?site=PORT-LOADING"),
    ("findings", "/findings"),
    ("site", "/sites/S-01"),
    ("item", "/items/DF-001"),
]
PUBLIC_PAGES = [("overview-public", "/"), ("map-public", "/map")]


@pytest.fixture(scope="module")
def public_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`cwledger serve` over a small confidential ledger, pages public."""
    path = tmp_path_factory.mktemp("i18n-public") / "ledger"
    build(path).close()
    server = spawn(path, env={"CWLEDGER_PUBLIC_PAGES": "true"})
    yield server.base
    server.stop()


def _english_messages(lang: str) -> set[str]:
    """The English messages a page shows as they are (no placeholder, no markup) whose
    translation in `lang` differs: any of them on a `lang` page is English left behind."""
    from babel.messages.pofile import read_po

    with i18n.catalogue_path(lang, "web").open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain="web")
    out = set()
    for m in catalog:
        if not m.id or not isinstance(m.id, str) or re.search(r"[%<&]", m.id):
            continue
        if m.string and m.string != m.id and len(m.id) > 1:
            out.add(m.id)
    return out


# What a page measures of itself in the browser.
MEASURE = """() => {
  const overflowing = [];
  // Out of sight on purpose: a clipped ancestor (a table's head restacked at a phone's
  // width), or not displayed.
  const clipped = (el) => {
    for (let a = el; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      if ((s.clip && s.clip !== 'auto') || s.display === 'none' || s.visibility === 'hidden') {
        return true;
      }
    }
    return false;
  };
  const boxes = document.querySelectorAll('h1, h2, h3, p, li, dt, dd, th, td, label, button,'
    + ' summary, figcaption, .figure, .label, .badge, nav a');
  for (const el of boxes) {
    const style = getComputedStyle(el);
    if (style.display === 'inline' || style.display === 'none' || el.closest('pre')) continue;
    if (style.overflowX !== 'visible' || clipped(el)) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      overflowing.push(el.tagName + '.' + el.className + ': ' + el.textContent.trim().slice(0, 60));
    }
  }
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, pre, code, noscript, [hidden]')) continue;
    const text = node.textContent.trim();
    if (text) texts.push(text);
  }
  const links = [...document.querySelectorAll('header nav:not(.languages) > ul > li > a')];
  const rect = (el) => el.getBoundingClientRect();
  const shown = [...document.querySelectorAll('main table')].filter((t) => t.tHead
    && t.tHead.rows[0].cells.length > 1 && !clipped(t.tHead)
    && t.tHead.rows[0].cells[0].getBoundingClientRect().width > 0);
  const firstTable = shown.length ? shown[0].tHead.rows[0] : null;
  const heads = firstTable ? [...firstTable.children] : [];
  return {
    lang: document.documentElement.lang,
    dir: document.documentElement.dir,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    overflowing,
    texts,
    nav: links.map((a) => [rect(a).left, rect(a).right]),
    heads: heads.map((h) => [rect(h).left, rect(h).right]),
    switch: [...document.querySelectorAll('nav.languages a')]
      .map((a) => [a.lang, a.textContent.trim()]),
  };
}"""


def _visit(browser: Any, lang: str, width: int, base: str, pages: list[tuple[str, str]]) -> None:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, extra_http_headers={"Accept-Language": lang}
    )
    page = context.new_page()
    watched = Watched(page)
    page.on("console", lambda m: watched.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watched.errors.append(str(e)))
    page.on("request", lambda r: watched.requests.append(r.url))
    english = _english_messages(lang) if lang != i18n.DEFAULT else set()
    direction = i18n.language(lang).direction
    problems: list[str] = []
    try:
        for name, path in pages:
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            m = page.evaluate(MEASURE)
            where = f"{name} {lang} {width}px"
            if (m["lang"], m["dir"]) != (lang, direction):
                problems.append(f"{where}: html lang={m['lang']} dir={m['dir']}")
            if m["scrollWidth"] > m["innerWidth"]:
                problems.append(f"{where}: scrolls sideways ({m['scrollWidth']} px)")
            problems += [f"{where}: overflows: {o}" for o in m["overflowing"]]
            left = sorted({t for t in m["texts"] if t in english})
            if left:
                problems.append(f"{where}: English left: {left}")
            # the switch: every language in its own name, marked with its language
            names = {lang.code: lang.name for lang in i18n.LANGUAGES}
            if dict(m["switch"]) != names:
                problems.append(f"{where}: language switch {m['switch']}")
            if direction == "rtl":
                nav, heads = m["nav"], m["heads"]
                if len(nav) > 1 and not nav[0][1] > nav[-1][1]:
                    problems.append(f"{where}: the navigation's first link is not at the right")
                if len(heads) > 1 and not heads[0][0] > heads[-1][0]:
                    problems.append(f"{where}: the table's first column is not at the right")
        watched.assert_clean()
    finally:
        context.close()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("lang", LANGS)
def test_every_main_page_in_every_language(browser: Any, site: Site, lang: str, width: int) -> None:
    _visit(browser, lang, width, site.base, PAGES)


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("lang", LANGS)
def test_the_public_pages_in_every_language(
    browser: Any, public_base: str, lang: str, width: int
) -> None:
    _visit(browser, lang, width, public_base, PUBLIC_PAGES)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_an_error_page_wraps_a_long_word_of_its_detail(browser: Any, site: Site, lang: str) -> None:
    # The detail quotes what it refused (up to 80 characters without a space; a corrupt
    # row's stored value): it wraps at 390 px, and reads left to right in Arabic too.
    context = browser.new_context(
        viewport={"width": 390, "height": 900}, extra_http_headers={"Accept-Language": lang}
    )
    page = context.new_page()
    try:
        response = page.goto(site.base + "/?at=" + "2014" * 30)
        assert response is not None and response.status == 422
        m = page.evaluate(MEASURE)
        assert m["scrollWidth"] <= m["innerWidth"], m["scrollWidth"]
        assert m["overflowing"] == []
        assert page.get_attribute("p.problem", "dir") == "auto"
        assert (
            page.evaluate("getComputedStyle(document.querySelector('p.problem')).direction")
            == "ltr"
        )
    finally:
        context.close()


def test_arabic_charts_run_right_to_left(browser: Any, site: Site) -> None:
    """The burn-down in Arabic: its value axis at the right, time from right to left."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, extra_http_headers={"Accept-Language": "ar"}
    )
    try:
        page = context.new_page()
        page.goto(site.base + "/")
        axis = page.evaluate(
            """() => {
              const svg = document.querySelector('figure.chart svg');
              const box = svg.getBoundingClientRect();
              const unit = svg.querySelector('text.unit').getBoundingClientRect();
              const line = svg.querySelector('polyline').getAttribute('points').split(' ');
              const x = (p) => parseFloat(p.split(',')[0]);
              return {mid: box.left + box.width / 2, unit: unit.left,
                      first: x(line[0]), last: x(line[line.length - 1])};
            }"""
        )
        assert axis["unit"] > axis["mid"]  # the unit of the value axis, at the right
        assert axis["first"] > axis["last"]  # the first month at the right
    finally:
        context.close()


# -- the language switch, and the numbers -------------------------------------------------------


def test_the_switch_remembers_the_choice_and_goes_back(site: Site) -> None:
    with httpx.Client(base_url=site.base, follow_redirects=False) as client:
        r = client.get("/language/ar", params={"next": "/map?at=2014-04-24"})
        assert r.status_code == 303 and r.headers["location"] == "/map?at=2014-04-24"
        assert "cwledger_lang=ar" in r.headers["set-cookie"]
        assert "samesite=lax" in r.headers["set-cookie"].lower()
        page = client.get("/", headers={"Accept-Language": "fr"})  # the cookie wins
        assert '<html lang="ar" dir="rtl">' in page.text
        assert "Accept-Language" in page.headers["vary"]
    with httpx.Client(base_url=site.base) as client:
        fr = client.get("/", headers={"Accept-Language": "de, fr;q=0.8, en;q=0.5"})
        assert '<html lang="fr" dir="ltr">' in fr.text
        other = client.get("/", headers={"Accept-Language": "de"})
        assert '<html lang="en" dir="ltr">' in other.text
        unknown = client.get("/language/de")
        assert unknown.status_code == 404 and "set-cookie" not in unknown.headers


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "", "map", "/\x00x"]
)
def test_the_switch_goes_back_only_to_this_server(target: str) -> None:
    assert back_to(target) == "/"
    assert back_to("/sites/S-01?at=2014-04-24") == "/sites/S-01?at=2014-04-24"


class _Figures(HTMLParser):
    """The text of every figure (``data-figure``) and every numeric cell (class ``num``)."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[str] = []
        self._depth: list[int] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "input", "img", "meta", "link"):
            return
        self._stack.append(tag)
        a = dict(attrs)
        if "data-figure" in a or "num" in (a.get("class") or "").split():
            self._depth.append(len(self._stack))
            self.figures.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("br", "input", "img", "meta", "link") or not self._stack:
            return
        if self._depth and self._depth[-1] == len(self._stack):
            self._depth.pop()
        self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.figures[-1] += data


NUMBER = re.compile(r"[0-9](?:[0-9.,\u00a0\u202f ]*[0-9])?")


def _numbers(html: str, lang: str) -> list[Decimal]:
    parser = _Figures()
    parser.feed(html)
    out = []
    for text in parser.figures:
        for token in NUMBER.findall(text):
            out.append(parse_decimal(token.strip(), locale=lang, strict=True))
    return out


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_numbers_are_the_english_numbers(site: Site, public_base: str, lang: str) -> None:
    compared = 0
    for base, pages in ((site.base, PAGES), (public_base, PUBLIC_PAGES)):
        with httpx.Client(base_url=base) as client:
            for name, path in pages:
                en = client.get(path, headers={"Accept-Language": "en"}).text
                other = client.get(path, headers={"Accept-Language": lang}).text
                english, translated = _numbers(en, "en"), _numbers(other, lang)
                # the same numbers, each once as often; a sentence may order them its way
                assert Counter(translated) == Counter(english), name
                compared += len(english)
    assert compared > 100
