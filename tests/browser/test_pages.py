"""Every page of the built book in headless Chromium: math typeset, images loaded, no
console errors, internal links resolve, solutions collapsed until clicked.

Runs only when DDPM_BROWSER_TESTS=1 and the book is built (``_build/html``, or the folder
in DDPM_BOOK_HTML); ``scripts/test.sh`` sets both in its "browser tests" stage. Each page
is saved as a full-page screenshot under ``_build/screenshots/`` (DDPM_SCREENSHOTS).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import browser_checks as bc

REPO = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("DDPM_BOOK_HTML", REPO / "_build" / "html"))
SHOTS = Path(os.environ.get("DDPM_SCREENSHOTS", REPO / "_build" / "screenshots"))
ENABLED = os.environ.get("DDPM_BROWSER_TESTS") == "1"

pytestmark = [
    pytest.mark.skipif(not ENABLED, reason="browser tests run with DDPM_BROWSER_TESTS=1 (scripts/test.sh)"),
    pytest.mark.skipif(not (HTML / "index.html").is_file(), reason=f"no built book at {HTML}"),
    pytest.mark.skipif(not bc.chromium_available(),
                       reason=f"needs {bc.CHROMIUM} and {bc.CHROMEDRIVER} (apt-get install chromium chromium-driver)"),
]

PAGES = bc.discover_pages(HTML) if (HTML / "index.html").is_file() else []


@pytest.fixture(scope="module")
def site():
    with bc.StaticServer(HTML) as server:
        driver = bc.make_driver()
        try:
            yield server.url, driver
        finally:
            bc.quit_driver(driver)


def test_the_book_has_pages():
    assert PAGES, f"no HTML pages found under {HTML}"


@pytest.mark.parametrize("page", PAGES)
def test_page(site, page):
    url, driver = site
    t0 = time.perf_counter()
    result = bc.check_page(driver, url, HTML, page, screenshot_dir=SHOTS)
    print(f"{page}: MathJax {result['mathjax']}, {result['solutions']} solutions, "
          f"{time.perf_counter() - t0:.2f} s")
    assert not result["problems"], f"{page}:\n  " + "\n  ".join(result["problems"])
