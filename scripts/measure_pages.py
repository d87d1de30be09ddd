"""Measure what a reader sees on every page of the built book, in headless Chromium.

    .venv/bin/python scripts/measure_pages.py [HTML_DIR] [PAGE ...] [--widths 1280 390] [--brief]

HTML_DIR defaults to _build/html; PAGE names a page by its file stem (``ou_forward``) or
path (``book/ou_forward.html``); without pages every page is measured. For each page and
width (1280 and 390 CSS px) it prints: display equations wider than the text column (and
which; "cut" when the overflow has no scroll box of its own), ✔/✘ output lines wider than
the column or cut, the share of the page height taken by visible code inputs, the figures
(natural vs displayed size, PNG dpi, the estimated size of a 10 pt label in CSS px,
panels a row) and solutions or answers visible before their dropdown is opened.
Needs Debian's ``chromium`` and ``chromium-driver`` and selenium (in requirements.txt).
The criteria the CI checks on these figures are in ``tests/browser/test_layout.py``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

import browser_checks as bc  # noqa: E402
import page_metrics as pm  # noqa: E402


def _select(all_pages: list[str], wanted: list[str]) -> list[str]:
    if not wanted:
        return all_pages
    chosen = []
    for w in wanted:
        hits = [p for p in all_pages if p == w or Path(p).stem == w or p == w + ".html"]
        if not hits:
            raise SystemExit(f"error: no page {w!r} (pages: {', '.join(Path(p).stem for p in all_pages)})")
        chosen += hits
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 2)[2])
    parser.add_argument("html", nargs="?", default="_build/html", help="built book folder (default _build/html)")
    parser.add_argument("pages", nargs="*", help="page names (file stems), default: every page")
    parser.add_argument("--widths", nargs="+", type=int, default=list(pm.WIDTHS), help="viewport widths in CSS px")
    parser.add_argument("--brief", action="store_true", help="only the counts, not which items")
    parser.add_argument("--summary", action="store_true", help="one line per page and width (a table)")
    args = parser.parse_intermixed_args(argv)
    root = Path(args.html)
    if not (root / "index.html").is_file():
        print(f"error: no built book at {root} (build with jupyter-book build . --path-output DIR)", file=sys.stderr)
        return 2
    if not bc.chromium_available():
        print(f"error: needs {bc.CHROMIUM} and {bc.CHROMEDRIVER} (apt-get install chromium chromium-driver)",
              file=sys.stderr)
        return 2
    pages = [p for p in _select(bc.discover_pages(root), args.pages) if bc.redirect_target(root, p) is None]
    with bc.StaticServer(root) as server:
        driver = bc.make_driver()
        try:
            if args.summary:
                print(pm.SUMMARY_HEADER)
            for page in pages:
                for width in args.widths:
                    m = pm.measure(driver, server.url, root, page, width)
                    print(pm.summary_line(m) if args.summary else pm.format_metrics(m, verbose=not args.brief),
                          flush=True)
        finally:
            bc.quit_driver(driver)
    return 0


if __name__ == "__main__":
    sys.exit(main())
