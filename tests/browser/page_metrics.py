"""Layout measurements of a built page in headless Chromium (what a reader sees).

Used by ``scripts/measure_pages.py`` (prints the figures) and by the browser tests
(``test_layout.py``, which turn them into pass/fail criteria). Everything is measured
in CSS px against the article's text column (``article.bd-article`` minus padding):

* display equations (MathJax ``mjx-container[display]``): natural width, whether wider
  than the column, and whether the overflow is *cut off* (no scrollable box of its own);
* ✔/✘ output lines: each line's right edge against the column and against the visible
  edge of its box (a line that needs horizontal scrolling counts as cut);
* the share of the article's height taken by visible code inputs (and outputs);
* figures: natural vs displayed size, PNG dpi, the smallest label (the PNG states its font size, else 10 pt assumed) in
  CSS px, panels per row (from ``subplots(r, c)`` in the cell's source, when literal);
* spoilers: solution dropdowns open before a click, ``solution``-tagged code visible,
  and visible outputs after an exercise that are not a bare checker verdict.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

WIDTHS = (1280, 390)
#: a label must render at least this tall (CSS px); 10 pt is matplotlib's default label size
MIN_LABEL_PX = 9.0
#: a figure's shown aspect ratio may differ from its drawn one by rounding only (1 px in 100)
MAX_DISTORTION = 0.02
DEFAULT_FONT_PT = 10.0
#: lines that may stay visible after an exercise: the chapter summary, or a checker's verdict
#: whose hint states no formula: "[label] ✔ correct: agrees with the reference at every step,
#: i = 0..n" gives nothing away, "✔ correct: x + h s(x) + √(2h) z" does
_VERDICT = re.compile(r"^(\[[\w.-]+\] )?[✔✘] (correct|not yet)(\.?|: (?P<hint>.*))$")
_SUMMARY = re.compile(r"^\d+ of \d+ checks in '.*' passed\.( .*)?$")
# a formula: a root, a power or ≈, or "=" followed by an expression with a letter and an operator
_FORMULA = re.compile(r"[√^≈]|=\s*[^,;.]*[A-Za-zα-ωᾱ][^,;.]*[-+*/−]|=\s*[^,;.]*[-+*/−][^,;.]*[A-Za-zα-ωᾱ]")


def allowed_after_exercise(line: str) -> bool:
    """Whether an output line may be visible after an exercise before any dropdown is opened."""
    if not line.strip() or _SUMMARY.match(line.strip()):
        return True
    m = _VERDICT.match(line.strip())
    return bool(m) and not _FORMULA.search(m.group("hint") or "")


SUBPLOTS = re.compile(r"subplots\(\s*(?:nrows\s*=\s*)?(\d+)\s*,\s*(?:ncols\s*=\s*)?(\d+)")

_MEASURE = r"""
const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
const cs = getComputedStyle(article);
const ar = article.getBoundingClientRect();
const colLeft = ar.left + parseFloat(cs.paddingLeft), colRight = ar.right - parseFloat(cs.paddingRight);
const vw = document.documentElement.clientWidth;
const visible = e => e.getClientRects().length > 0 && e.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
// the right edge up to which `e` is visible without scrolling, and whether a box of its own scrolls
function clip(e) {
  let right = Math.min(vw, colRight + 1e6), scrolls = false, hidden = false;
  for (let a = e; a && a !== document.body; a = a.parentElement) {
    const ox = getComputedStyle(a).overflowX;
    if (ox !== 'visible') {
      const r = a.getBoundingClientRect();
      const edge = r.left + a.clientLeft + a.clientWidth;
      if (edge < right) right = edge;
      if ((ox === 'auto' || ox === 'scroll') && !a.matches('article, main, .bd-main, .bd-content, .bd-article-container, .bd-page-width, .bd-container, .bd-container__inner, body, html')) scrolls = true;
      else if (ox === 'hidden' || ox === 'clip') hidden = true;
    }
  }
  return {right: Math.min(right, vw), scrolls, hidden};
}
const texOf = {};
try {
  for (const item of MathJax.startup.document.math) {
    if (item.display && item.typesetRoot) texOf[item.start.n + ':' + item.math.length] = item;
  }
} catch (err) {}
const items = (() => { try { return Array.from(MathJax.startup.document.math).filter(i => i.display); } catch (e) { return []; } })();
const eqs = [];
document.querySelectorAll('mjx-container[display="true"]').forEach((c, k) => {
  if (!visible(c)) return;
  const m = c.querySelector('mjx-math') || c;
  const r = m.getBoundingClientRect();
  const it = items.find(i => i.typesetRoot === c);
  const cl = clip(m.parentElement || c);
  eqs.push({tex: it ? it.math.replace(/\s+/g, ' ').trim().slice(0, 70) : '#' + k,
            width: r.width, wide: r.right > colRight + 1 || r.left < colLeft - 1,
            cut: r.right > cl.right + 1 && !cl.scrolls, offscreen: r.right > cl.right + 1});
});
const lines = [];
document.querySelectorAll('.cell_output pre, .output pre').forEach(pre => {
  if (!visible(pre)) return;
  const cl = clip(pre);
  const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
  const nodes = []; let n; while ((n = walker.nextNode())) nodes.push(n);
  // lines as [node, offset] ranges split at '\n'
  let start = null, text = '';
  const flush = (endNode, endOff) => {
    if (start && /^\s*[✔✘]/.test(text)) {
      const rg = document.createRange(); rg.setStart(start[0], start[1]); rg.setEnd(endNode, endOff);
      const rs = Array.from(rg.getClientRects());
      const right = rs.length ? Math.max(...rs.map(x => x.right)) : 0;
      lines.push({text: text.trim().slice(0, 90), right,
                  wide: right > colRight + 1, cut: right > cl.right + 1});
    }
    start = null; text = '';
  };
  for (const node of nodes) {
    const s = node.data;
    let i = 0;
    while (i <= s.length) {
      const j = s.indexOf('\n', i);
      if (start === null && i < s.length) start = [node, i];
      if (j < 0) { text += s.slice(i); break; }
      text += s.slice(i, j); flush(node, j); i = j + 1;
    }
  }
  if (nodes.length) flush(nodes[nodes.length - 1], nodes[nodes.length - 1].data.length);
});
const height = article.getBoundingClientRect().height || 1;
let codeH = 0, outH = 0, codeN = 0, codeVisible = 0;
document.querySelectorAll('.cell_input').forEach(e => { codeN++; if (visible(e)) { codeVisible++; codeH += e.getBoundingClientRect().height; } });
document.querySelectorAll('.cell_output').forEach(e => { if (visible(e)) outH += e.getBoundingClientRect().height; });
const figs = [];
article.querySelectorAll('img').forEach(img => {
  if (!visible(img) || img.closest('.bd-header, nav, .navbar-brand')) return;
  const r = img.getBoundingClientRect();
  const cell = img.closest('.cell');
  const src = cell ? (cell.querySelector('.cell_input') || {}).textContent || '' : '';
  const cl = clip(img);
  figs.push({src: img.getAttribute('src'), natural: [img.naturalWidth, img.naturalHeight],
             displayed: [Math.round(r.width * 10) / 10, Math.round(r.height * 10) / 10],
             code: src.slice(0, 4000), cut: r.right > cl.right + 1 && !cl.scrolls});
});
// spoilers
const spoil = [];
document.querySelectorAll('div.solution.dropdown, details.solution').forEach(s => {
  const body = Array.from(s.children).filter(e => !e.matches('.admonition-title, summary, button'));
  if (body.some(visible)) spoil.push({kind: 'solution open', text: (s.id || '')});
});
document.querySelectorAll('.cell.tag_solution .cell_input').forEach(e => {
  if (visible(e) && e.getBoundingClientRect().height > 2) spoil.push({kind: 'solution code visible', text: e.textContent.trim().slice(0, 80)});
});
const firstEx = document.querySelector('div.exercise, div.exercise-enumerable');
const exerciseOutputs = [];
if (firstEx) {
  const sec = firstEx.closest('section') || article;
  sec.querySelectorAll('.cell_output').forEach(o => {
    if (!(firstEx.compareDocumentPosition(o) & Node.DOCUMENT_POSITION_FOLLOWING)) return;
    if (o.closest('div.solution, details')) { if (!visible(o)) return; }
    if (!visible(o)) return;
    o.querySelectorAll('pre').forEach(p => { if (visible(p)) exerciseOutputs.push(p.innerText); });
    o.querySelectorAll('img').forEach(i => { if (visible(i)) exerciseOutputs.push('[figure]'); });
  });
}
const tables = [];
article.querySelectorAll('table').forEach(t => {
  if (!visible(t)) return;
  const r = t.getBoundingClientRect(), cl = clip(t);
  if (r.right > colRight + 1) tables.push({width: r.width, cut: r.right > cl.right + 1 && !cl.scrolls,
                                          text: (t.querySelector('th, td') || t).innerText.slice(0, 40)});
});
return {tables, col: colRight - colLeft, vw, pageOverflow: document.documentElement.scrollWidth > vw + 1,
        eqs, lines, codeShare: codeH / height, outShare: outH / height, codeCells: codeN, codeVisible,
        figs, spoil, exerciseOutputs, height};
"""


@dataclass
class PageMetrics:
    """What :func:`measure` found on one page at one width."""

    page: str
    width: int
    column: float = 0.0
    page_overflow: bool = False
    equations: list[dict] = field(default_factory=list)
    check_lines: list[dict] = field(default_factory=list)
    code_share: float = 0.0
    output_share: float = 0.0
    code_cells: int = 0
    code_visible: int = 0
    figures: list[dict] = field(default_factory=list)
    spoilers: list[dict] = field(default_factory=list)
    wide_tables: list[dict] = field(default_factory=list)

    @property
    def wide_equations(self) -> list[dict]:
        return [e for e in self.equations if e["wide"]]

    @property
    def cut_equations(self) -> list[dict]:
        return [e for e in self.equations if e["cut"]]

    @property
    def wide_lines(self) -> list[dict]:
        return [ln for ln in self.check_lines if ln["wide"] or ln["cut"]]

    @property
    def low_res_figures(self) -> list[dict]:
        return [f for f in self.figures if not f["hi_res"]]

    @property
    def small_label_figures(self) -> list[dict]:
        # 0.05 px: the shown width is measured to 0.1 px and the PNG stores dpi to 1e-6
        return [f for f in self.figures if f["label_px"] is not None and f["label_px"] < MIN_LABEL_PX - 0.05]

    @property
    def distorted_figures(self) -> list[dict]:
        """Figures shown at another aspect ratio than they were drawn (stretched)."""
        return [f for f in self.figures if f["distortion"] > MAX_DISTORTION]

    @property
    def crowded_figures(self) -> list[dict]:
        return [f for f in self.figures if (f["panels_per_row"] or 0) > 3]


def png_info(root: Path, page: str, src: str) -> tuple[float | None, float | None]:
    """(dpi, font pt) stored in the PNG behind ``src`` (relative to ``page``), None when unknown."""
    parts = urlsplit(src)
    if parts.scheme or not parts.path.lower().endswith(".png"):
        return None, None
    path = (root / page).parent / unquote(parts.path)
    try:
        from PIL import Image

        with Image.open(path) as im:
            dpi = im.info.get("dpi")
            font = im.info.get("ddpm:min-font-pt")  # ddpm_lib.notebook.MIN_FONT_KEY
            return (float(dpi[0]) if dpi else None), (float(font) if font else None)
    except (OSError, ImportError, ValueError):
        return None, None


def _figure(root: Path, page: str, f: dict) -> dict:
    nat_w, nat_h = f["natural"]
    disp_w, disp_h = f["displayed"]
    # relative change of the aspect ratio (0 when shown undistorted)
    distortion = abs((disp_h * nat_w) / (disp_w * nat_h) - 1.0) if nat_h and disp_w else 0.0
    dpi, font_pt = png_info(root, page, f["src"])
    scale = disp_w / nat_w if nat_w else 1.0
    # 150 dpi as displayed: enough pixels for 1.5 device px per CSS px, or the file says so
    hi_res = bool(nat_w and nat_w >= 1.5 * disp_w - 0.5) or (dpi is not None and dpi >= 149.5 and scale <= 1.0 + 1e-6
                                                             and nat_w >= disp_w * dpi / 96 - 0.5)
    label_px = None
    if dpi:
        label_px = (font_pt or DEFAULT_FONT_PT) * dpi / 72.0 * scale
    m = SUBPLOTS.search(f.get("code", ""))
    panels = int(m.group(2)) if m else None
    return {"src": f["src"].rsplit("/", 1)[-1][:16], "natural": f["natural"], "displayed": f["displayed"],
            "dpi": dpi, "hi_res": hi_res, "label_px": label_px, "panels_per_row": panels, "cut": f["cut"],
            "distortion": distortion}


def set_width(driver, width: int) -> None:
    """Lay the page out at ``width`` CSS px (a phone-like mobile viewport below 600 px)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 900 if width >= 600 else 844,
                            "deviceScaleFactor": 1, "mobile": width < 600})


def measure(driver, base_url: str, root: str | Path, page: str, width: int) -> PageMetrics:
    """Load ``page`` at ``width`` and measure it (before any click)."""
    from browser_checks import _WAIT_READY

    root = Path(root)
    set_width(driver, width)
    driver.get(base_url + page)
    driver.execute_async_script(_WAIT_READY)
    r = driver.execute_script(_MEASURE)
    spoilers = list(r["spoil"])
    for text in r["exerciseOutputs"]:
        bad = [ln for ln in text.splitlines() if not allowed_after_exercise(ln)]
        if bad:
            spoilers.append({"kind": "output after an exercise", "text": bad[0][:80]})
    return PageMetrics(page=page, width=width, column=r["col"], page_overflow=r["pageOverflow"],
                       equations=r["eqs"], check_lines=r["lines"], code_share=r["codeShare"],
                       output_share=r["outShare"], code_cells=r["codeCells"], code_visible=r["codeVisible"],
                       figures=[_figure(root, page, f) for f in r["figs"]], spoilers=spoilers,
                       wide_tables=r["tables"])


def format_metrics(m: PageMetrics, verbose: bool = True) -> str:
    """A few lines a person reads: the counts, then (verbose) which items."""
    figs = m.figures
    lines = [
        f"{m.page} @ {m.width}px (column {m.column:.0f}px{', PAGE SCROLLS SIDEWAYS' if m.page_overflow else ''})",
        f"  equations: {len(m.equations)} display, {len(m.wide_equations)} wider than the column, "
        f"{len(m.cut_equations)} cut off (no scroll box)",
        f"  check lines: {len(m.check_lines)} ✔/✘, {len(m.wide_lines)} wider than the column or cut",
        f"  code: {m.code_visible}/{m.code_cells} inputs visible, {100 * m.code_share:.1f}% of the page height "
        f"(outputs {100 * m.output_share:.1f}%)",
        f"  figures: {len(figs)}, {len(m.low_res_figures)} below 150 dpi as displayed, "
        f"{len(m.small_label_figures)} with 10pt labels < {MIN_LABEL_PX:g}px, "
        f"{len(m.crowded_figures)} with > 3 panels a row",
        f"  spoilers: {len(m.spoilers)} visible before a dropdown is opened",
    ]
    if m.wide_tables:
        lines.append(f"  tables wider than the column: "
                     + ", ".join(f"{t['width']:.0f}px{' CUT' if t['cut'] else ''}" for t in m.wide_tables))
    if verbose:
        for e in m.wide_equations:
            lines.append(f"    eq {e['width']:.0f}px{' CUT' if e['cut'] else ''}: {e['tex']}")
        for ln in m.wide_lines:
            lines.append(f"    line{' CUT' if ln['cut'] else ''}: {ln['text'][:80]}")
        for f in figs:
            lp = f"{f['label_px']:.1f}px" if f["label_px"] is not None else "?"
            lines.append(f"    fig {f['natural'][0]}x{f['natural'][1]} -> {f['displayed'][0]:.0f}x{f['displayed'][1]:.0f}"
                         f" dpi {f['dpi'] or '?'} label {lp} panels/row {f['panels_per_row'] or '?'}")
        for s in m.spoilers:
            lines.append(f"    spoiler ({s['kind']}): {s['text'][:80]}")
    return "\n".join(lines)


SUMMARY_HEADER = ("page                 width  eq wide/cut/all  ✔ wide/all  code%  out%  "
                  "fig lowdpi/small/>3/all  spoil  table>col")


def summary_line(m: PageMetrics) -> str:
    """One line per page and width (``measure_pages.py --summary``)."""
    f = m.figures
    return (f"{Path(m.page).stem:<20} {m.width:>5}  {len(m.wide_equations):>4}/{len(m.cut_equations)}/{len(m.equations):<6} "
            f"{len(m.wide_lines):>4}/{len(m.check_lines):<5} {100 * m.code_share:5.1f} {100 * m.output_share:5.1f}  "
            f"{len(m.low_res_figures):>3}/{len(m.small_label_figures)}/{len(m.crowded_figures)}/{len(f):<12} "
            f"{len(m.spoilers):>5}  {len(m.wide_tables):>3}{'  page scrolls sideways' if m.page_overflow else ''}")
