"""The checks the browser tests run on every page of the built book.

Pure-Python parts (finding raw TeX in text, resolving internal links against the built
files) are plain functions, unit-tested on deliberately broken fixtures in
``test_browser_checks.py``. The browser parts drive Debian's headless Chromium through
Selenium and ``/usr/bin/chromedriver`` (no browser download).
"""
from __future__ import annotations

import base64
import functools
import http.server
import os
import re
import shutil
import tempfile
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM = os.environ.get("DDPM_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DDPM_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", "--window-size=1280,900", "--hide-scrollbars"]
SKIP_PAGES = {"genindex.html", "search.html", "py-modindex.html"}
SKIP_DIRS = {"_static", "_sources", "_images", "_downloads", "screenshots"}


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()


# ---------------------------------------------------------------- pure checks


def discover_pages(root: str | Path) -> list[str]:
    """Every HTML page of the built book, as paths relative to ``root`` (posix)."""
    root = Path(root)
    pages = []
    for p in sorted(root.rglob("*.html")):
        rel = p.relative_to(root)
        if rel.parts[0] in SKIP_DIRS or rel.name in SKIP_PAGES:
            continue
        pages.append(rel.as_posix())
    return pages


# `$…$`, `$$`, `\begin{…}`/`\end{…}` or a TeX command visible as text means math that
# MathJax did not typeset (a parse failure, a missing blank line around `$$`, …).
RAW_TEX = re.compile(r"\$\$|\$[^$\n]{1,200}\$|\\(?:begin|end)\{|\\(?:frac|mathbb|mathcal|nabla|sqrt|alpha|beta|sigma|bar|tilde|mathrm|left|right|sum|int|partial)\b")


def raw_tex_fragments(text: str) -> list[str]:
    """Pieces of ``text`` that look like untypeset TeX; a lone `$` counts too."""
    found = [m.group(0) for m in RAW_TEX.finditer(text)]
    if not found and "$" in text:
        i = text.index("$")
        found.append(text[max(0, i - 30): i + 30])
    return found


class _LinkParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str]] = []   # (tag.attr, url)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        for attr in ("href", "src"):
            if a.get(attr) is not None and tag in ("a", "img", "script", "link", "iframe", "source"):
                self.refs.append((f"{tag}.{attr}", a[attr]))


@functools.lru_cache(maxsize=None)
def _parse(path: Path) -> _LinkParser:
    parser = _LinkParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def broken_links(root: str | Path, page: str) -> list[str]:
    """Internal links and resources of ``page`` whose file or anchor id does not exist."""
    root = Path(os.path.abspath(root))
    page_path = root / page
    problems = []
    for what, url in _parse(page_path).refs:
        parts = urlsplit(url.strip())
        if parts.scheme or parts.netloc or url.startswith(("mailto:", "javascript:", "data:")):
            continue  # external: not checked (the CI machine is offline)
        target = page_path if not parts.path else Path(os.path.normpath(page_path.parent / unquote(parts.path)))
        if target.is_dir():
            target = target / "index.html"
        try:
            target.relative_to(root)
        except ValueError:
            problems.append(f"{what}={url!r} points outside the book")
            continue
        if not target.is_file():
            problems.append(f"{what}={url!r}: no file {target.relative_to(root).as_posix()}")
            continue
        frag = unquote(parts.fragment)
        if frag and what == "a.href" and target.suffix == ".html" and frag not in _parse(target).ids:
            problems.append(f"{what}={url!r}: no id {frag!r} in {target.relative_to(root).as_posix()}")
    return problems


_REFRESH = re.compile(r'<meta\s+http-equiv="refresh"\s+content="\d+;\s*url=([^"]+)"', re.I)


def redirect_target(root: str | Path, page: str) -> str | None:
    """The target of a page that is only a ``<meta http-equiv="refresh">`` forward, else None."""
    html = (Path(root) / page).read_text(encoding="utf-8", errors="replace")
    m = _REFRESH.search(html)
    return m.group(1) if m and len(html) < 2000 else None


# ---------------------------------------------------------------- the server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


class StaticServer:
    """Serve a folder on 127.0.0.1 at a free port, in a daemon thread."""

    def __init__(self, root: str | Path):
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------- the browser


def make_driver():
    """Headless Debian Chromium with a fresh profile; console logs collected."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="ddpm-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    driver._ddpm_profile = profile
    return driver


def quit_driver(driver) -> None:
    driver.quit()
    shutil.rmtree(getattr(driver, "_ddpm_profile", ""), ignore_errors=True)


_WAIT_READY = """
const done = arguments[arguments.length - 1];
(async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null :
      new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); })));
  let mathjax = 'absent';
  if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
    await window.MathJax.startup.promise;
    mathjax = window.MathJax.version;
  }
  done(mathjax);
})().catch(e => done('error: ' + e));
"""

_BROKEN_IMAGES = """
return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))
            .map(i => i.getAttribute('src'));
"""

_MATH_ERRORS = """
return Array.from(document.querySelectorAll('mjx-merror, mjx-container [style*="color: red"]'))
            .map(e => (e.getAttribute('data-mjx-error') || e.textContent || e.outerHTML).slice(0, 120));
"""

# innerText is what a reader sees: hide code while reading it, then put the page back.
_VISIBLE_TEXT = """
const code = Array.from(document.querySelectorAll('pre, code, .highlight, script, style, textarea'));
const saved = code.map(e => e.style.display);
code.forEach(e => { e.style.display = 'none'; });
const text = document.body.innerText;
code.forEach((e, k) => { e.style.display = saved[k]; });
return text;
"""

_SOLUTIONS = "return Array.from(document.querySelectorAll('div.solution.dropdown, details.solution'));"


def _content_displayed(solution) -> bool:
    from selenium.webdriver.common.by import By

    body = [e for e in solution.find_elements(By.XPATH, "./*")
            if "admonition-title" not in (e.get_attribute("class") or "") and e.tag_name != "summary"
            and e.tag_name != "button"]
    return any(e.is_displayed() for e in body)


def check_solutions(driver) -> tuple[int, list[str]]:
    """Every dropdown solution is collapsed at first and shows its content once clicked."""
    from selenium.webdriver.common.by import By

    problems = []
    solutions = driver.execute_script(_SOLUTIONS)
    for k, sol in enumerate(solutions):
        name = sol.get_attribute("id") or f"solution {k + 1}"
        if _content_displayed(sol):
            problems.append(f"{name}: solution visible before it is clicked")
            continue
        # what a reader clicks: the toggle button (sphinx-togglebutton), else the title or
        # <summary>. Not the title's centre: that can be the "Exercise N" link inside it.
        targets = (sol.find_elements(By.CSS_SELECTOR, "button.toggle-button")
                   or sol.find_elements(By.CSS_SELECTOR, ".admonition-title, summary"))
        target = targets[0] if targets else sol
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", target)
        target.click()
        try:
            from selenium.webdriver.support.ui import WebDriverWait
            WebDriverWait(driver, 5).until(lambda d: _content_displayed(sol))
        except Exception:  # noqa: BLE001 - reported below
            problems.append(f"{name}: solution still hidden after a click")
    return len(solutions), problems


def console_errors(driver) -> list[str]:
    """SEVERE browser-console entries; the browser's own /favicon.ico request is not the page's."""
    return [e["message"] for e in driver.get_log("browser")
            if e.get("level") == "SEVERE" and "/favicon.ico" not in e.get("message", "")]


def full_page_screenshot(driver, path: str | Path, width: int = 1280, max_height: int = 16000) -> None:
    """The whole page as a PNG: the viewport is made as tall as the page, then put back."""
    height = driver.execute_script(
        "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight);")
    height = int(min(max(height, 600), max_height))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    try:
        driver.execute_script("window.scrollTo(0, 0); document.activeElement && document.activeElement.blur();")
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(base64.b64decode(shot["data"]))


def check_page(driver, base_url: str, root: str | Path, page: str,
               screenshot_dir: str | Path | None = None) -> dict:
    """Load ``page`` and run every check; returns {"problems": [...], "solutions": n, "mathjax": v}."""
    redirect = redirect_target(root, page)
    if redirect is not None:  # jupyter-book's index.html only forwards to the first page
        target = (Path(root) / page).parent / redirect.split("#")[0]
        return {"problems": [] if target.is_file() else [f"redirect to missing {redirect!r}"],
                "solutions": 0, "mathjax": "redirect"}
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(base_url + page)
    mathjax = driver.execute_async_script(_WAIT_READY)
    problems = []
    if str(mathjax).startswith("error"):
        problems.append(f"MathJax did not finish: {mathjax}")
    problems += [f"image not loaded: {src}" for src in driver.execute_script(_BROKEN_IMAGES)]
    problems += [f"MathJax error: {m}" for m in driver.execute_script(_MATH_ERRORS)]
    n_solutions, sol_problems = check_solutions(driver)
    problems += sol_problems
    # solutions are open now, so their math is checked too
    raw = raw_tex_fragments(driver.execute_script(_VISIBLE_TEXT))
    problems += [f"raw TeX visible: {f!r}" + (f" ({raw.count(f)} times)" if raw.count(f) > 1 else "")
                 for f in dict.fromkeys(raw)]
    problems += [f"broken link: {p}" for p in broken_links(root, page)]
    problems += [f"console error: {m}" for m in console_errors(driver)]
    if screenshot_dir is not None:
        full_page_screenshot(driver, Path(screenshot_dir) / (page.replace("/", "__")[:-5] + ".png"))
    return {"problems": problems, "solutions": n_solutions, "mathjax": mathjax}
