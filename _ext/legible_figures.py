"""Figures stay legible on a phone: their labels never shrink below 9 CSS px.

A notebook figure is stored at 200 dpi with its smallest font size in the PNG
(``ddpm_lib.notebook.MIN_FONT_KEY``) and shown at 100 CSS px per inch, so on a desktop
every label is at least ``font_pt · 100/72`` px. In a 358 px phone column a figure the
width of the desktop column is shrunk by about half, and 10 pt labels fall to 5–7 px.

At build time this extension reads each notebook PNG's dpi and smallest font and gives
its ``<img>`` two classes: ``ddpm-figure`` and ``ddpm-legible-<W>``, where ``W`` (CSS px)
is the narrowest width at which its smallest label is still ``MIN_LABEL_PX`` px:

    label px = font_pt · dpi / 72 · (shown width / natural width)  ≥ MIN_LABEL_PX
    ⇔ shown width ≥ W = natural width · MIN_LABEL_PX · 72 / (font_pt · dpi).

``_static/legible_figures.js`` turns the class into the CSS variable ``--ddpm-legible``,
and ``_static/ddpm.css`` uses it as the figure's ``min-width`` on narrow screens, where
the output box then scrolls sideways (like a long equation) instead of shrinking the
labels. On a desktop nothing changes. ``tests/browser/test_layout.py`` measures the
labels at 1280 and 390 px.
"""
from __future__ import annotations

import math
from pathlib import Path

#: The smallest label the book shows, in CSS px (``tests/browser/page_metrics.MIN_LABEL_PX``).
MIN_LABEL_PX = 9.0
#: ``ddpm_lib.notebook.MIN_FONT_KEY`` (not imported: the build must not need torch).
MIN_FONT_KEY = "ddpm:min-font-pt"
CLASS = "ddpm-figure"
WIDTH_CLASS = "ddpm-legible-{}"


def legible_width(natural_px: int, dpi: float, font_pt: float, min_label_px: float = MIN_LABEL_PX) -> int:
    """The narrowest displayed width (CSS px) at which a ``font_pt`` label stays ``min_label_px``."""
    if natural_px <= 0 or dpi <= 0 or font_pt <= 0:
        raise ValueError(f"natural_px, dpi and font_pt must be positive, got {natural_px}, {dpi}, {font_pt}")
    # PNG stores dpi in px per metre, so 200 dpi reads back as 199.9996: round off 1e-3 px first
    return math.ceil(natural_px * min_label_px * 72.0 / (font_pt * dpi) - 1e-3)


def png_legible_width(path: Path) -> int | None:
    """``legible_width`` of a PNG that records its dpi and smallest font; None otherwise."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            dpi, font = im.info.get("dpi"), im.info.get(MIN_FONT_KEY)
            width = im.size[0]
    except OSError:
        return None
    if not dpi or not font:
        return None
    return legible_width(width, float(dpi[0]), float(font))


def _image_path(app, node) -> Path | None:
    uri = node.get("uri", "")
    if not uri.lower().endswith(".png") or "://" in uri:
        return None
    for root in (Path(app.srcdir), Path(app.outdir)):
        path = root / uri.lstrip("/")
        if path.is_file():
            return path
    return None


def _mark_figures(app, doctree, docname: str) -> None:
    from docutils import nodes

    for node in doctree.findall(nodes.image):
        path = _image_path(app, node)
        width = png_legible_width(path) if path is not None else None
        if width is not None:
            node["classes"] += [CLASS, WIDTH_CLASS.format(width)]


def setup(app):
    app.connect("doctree-resolved", _mark_figures)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
