"""What a reader sees, measured on every page at 1280 and 390 CSS px (``page_metrics``).

The criteria of the book's page (issue "the page a reader sees"):

* at 1280 px no display equation and no ✔/✘ line is wider than the text column;
* at 390 px nothing is cut off: an equation may scroll inside its own box, ✔/✘ lines
  wrap, no table runs out of the column, the page does not scroll sideways;
* visible code is at most a fifth of a chapter's height (at 1280 px);
* figures at ≥ 150 dpi as displayed, at most 3 panels a row (when the cell's
  ``subplots(r, c)`` says), labels ≥ 9 CSS px at both widths (a phone scrolls a wide
  figure inside its box rather than shrink its labels);
* no solution, and no output after an exercise other than a bare checker verdict,
  visible before its dropdown is opened.

Runs like ``test_pages.py``: only with DDPM_BROWSER_TESTS=1 and a built book. The same
figures for people: ``scripts/measure_pages.py``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import browser_checks as bc
import page_metrics as pm

REPO = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("DDPM_BOOK_HTML", REPO / "_build" / "html"))
ENABLED = os.environ.get("DDPM_BROWSER_TESTS") == "1"
MAX_CODE_SHARE = 0.20

pytestmark = [
    pytest.mark.skipif(not ENABLED, reason="browser tests run with DDPM_BROWSER_TESTS=1 (scripts/test.sh)"),
    pytest.mark.skipif(not (HTML / "index.html").is_file(), reason=f"no built book at {HTML}"),
    pytest.mark.skipif(not bc.chromium_available(),
                       reason=f"needs {bc.CHROMIUM} and {bc.CHROMEDRIVER} (apt-get install chromium chromium-driver)"),
]

PAGES = ([p for p in bc.discover_pages(HTML) if bc.redirect_target(HTML, p) is None]
         if (HTML / "index.html").is_file() else [])
_cache: dict[tuple[str, int], pm.PageMetrics] = {}


@pytest.fixture(scope="module")
def measured():
    """``measured(page, width)``: the page's metrics, measured once per page and width."""
    with bc.StaticServer(HTML) as server:
        driver = bc.make_driver()

        def get(page: str, width: int) -> pm.PageMetrics:
            if (page, width) not in _cache:
                _cache[page, width] = pm.measure(driver, server.url, HTML, page, width)
            return _cache[page, width]

        try:
            yield get
        finally:
            bc.quit_driver(driver)
            _cache.clear()


def _fail_if(items: list, what: str, page: str, width: int, show) -> None:
    assert not items, f"{page} @ {width}px: {len(items)} {what}:\n  " + "\n  ".join(show(i) for i in items)


@pytest.mark.parametrize("page", PAGES)
def test_equations_fit_at_1280(measured, page):
    m = measured(page, 1280)
    _fail_if(m.wide_equations, "display equations wider than the column", page, 1280,
             lambda e: f"{e['width']:.0f}px > {m.column:.0f}px: {e['tex']}")


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("width", pm.WIDTHS)
def test_check_lines_wrap(measured, page, width):
    m = measured(page, width)
    _fail_if(m.wide_lines, "✔/✘ lines wider than the column or cut", page, width, lambda ln: ln["text"])


@pytest.mark.parametrize("page", PAGES)
def test_nothing_cut_off_at_390(measured, page):
    m = measured(page, 390)
    problems = [f"equation cut (no scroll box): {e['tex']}" for e in m.cut_equations]
    problems += [f"figure cut: {f['src']}" for f in m.figures if f["cut"]]
    problems += [f"table {t['width']:.0f}px cut: {t['text']}" for t in m.wide_tables if t["cut"]]
    problems += ["the page scrolls sideways"] if m.page_overflow else []
    _fail_if(problems, "things cut off", page, 390, str)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("width", pm.WIDTHS)
def test_tables_fit_the_column(measured, page, width):
    """At 1280 px no table is wider than the column; at 390 px the ledger's every part is visible
    (other tables may scroll in their own box there: ``test_nothing_cut_off_at_390``)."""
    if width < 1280 and Path(page).stem != "ledger":
        pytest.skip("at 390 px a table may scroll inside its own box")
    m = measured(page, width)
    _fail_if(m.wide_tables, "tables wider than the column", page, width,
             lambda t: f"{t['width']:.0f}px > {m.column:.0f}px: {t['text']}")


@pytest.mark.parametrize("page", PAGES)
def test_visible_code_at_most_a_fifth(measured, page):
    m = measured(page, 1280)
    assert m.code_share <= MAX_CODE_SHARE, (
        f"{page}: visible code is {100 * m.code_share:.1f}% of the page height "
        f"({m.code_visible} of {m.code_cells} inputs shown); fold plotting and set-up code (hide-input)")


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("width", pm.WIDTHS)
def test_figures_sharp_and_legible(measured, page, width):
    """At both widths: ≥ 150 dpi as shown, ≤ 3 panels a row, not stretched, every label ≥ 9 CSS px (on a
    phone a wide figure keeps its labels and scrolls in its box: _ext/legible_figures.py)."""
    m = measured(page, width)
    problems = [f"{f['src']}: {f['natural'][0]}px shown at {f['displayed'][0]:.0f}px (dpi {f['dpi']}), "
                "below 150 dpi" for f in m.low_res_figures]
    problems += [f"{f['src']}: {f['panels_per_row']} panels a row" for f in m.crowded_figures]
    problems += [f"{f['src']}: drawn {f['natural'][0]}×{f['natural'][1]}, shown {f['displayed'][0]:.0f}×"
                 f"{f['displayed'][1]:.0f} (stretched {100 * f['distortion']:.0f}%)" for f in m.distorted_figures]
    problems += [f"{f['src']}: smallest label {f['label_px']:.1f}px < {pm.MIN_LABEL_PX:g}px"
                 for f in m.small_label_figures]
    _fail_if(problems, "figure problems", page, width, str)


@pytest.mark.parametrize("page", PAGES)
def test_no_spoilers_before_a_dropdown_is_opened(measured, page):
    m = measured(page, 1280)
    _fail_if(m.spoilers, "answers visible before their dropdown is opened", page, 1280,
             lambda s: f"{s['kind']}: {s['text']}")


LEDGER = [p for p in PAGES if Path(p).stem == "ledger"]


@pytest.mark.parametrize("page", LEDGER)
def test_ledger_status_filter(page):
    """The ledger: a section per chapter, each claim linked to its cell, and a working status filter."""
    counts = _ledger_counts(page)
    assert counts["sections"] >= 1 and counts["items"] > 0 and counts["linked"] == counts["items"]
    for status in ("ledger-status-passed", "ledger-status-wrong-variant", "ledger-status-unchecked"):
        shown = counts["after"][status]
        assert shown["visible"] == shown["with_status"], f"{status}: {shown}"
        assert shown["others_visible"] == 0, f"{status}: other entries stay visible"


def _ledger_counts(page: str) -> dict:
    from browser_checks import _WAIT_READY

    with bc.StaticServer(HTML) as server:
        driver = bc.make_driver()
        try:
            driver.get(server.url + page)
            driver.execute_async_script(_WAIT_READY)
            out = driver.execute_script("""
              const items = Array.from(document.querySelectorAll('li.ledger-item'));
              return {sections: document.querySelectorAll('section.ledger-chapter').length, items: items.length,
                      linked: items.filter(li => li.querySelector('a.ledger-name[href*="#check-"]')).length};""")
            out["after"] = {}
            for status in ("ledger-status-passed", "ledger-status-wrong-variant", "ledger-status-unchecked"):
                out["after"][status] = driver.execute_script("""
                  document.querySelector(`button[data-status="${arguments[0]}"]`).click();
                  const items = Array.from(document.querySelectorAll('li.ledger-item'));
                  const vis = li => li.getClientRects().length > 0;
                  return {with_status: items.filter(li => li.classList.contains(arguments[0])).length,
                          visible: items.filter(li => li.classList.contains(arguments[0]) && vis(li)).length,
                          others_visible: items.filter(li => !li.classList.contains(arguments[0]) && vis(li)).length};
                """, status)
            return out
        finally:
            bc.quit_driver(driver)
