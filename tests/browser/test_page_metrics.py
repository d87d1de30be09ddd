"""The layout measurements must flag a broken page, or the layout tests prove nothing.

The pure parts (which output lines may follow an exercise, the figure arithmetic) run in
the unit-test stage; the browser run on a deliberately broken fixture page runs with the
browser tests (DDPM_BROWSER_TESTS=1 and Debian's chromium present).
"""
from __future__ import annotations

import os

import pytest

import browser_checks as bc
import page_metrics as pm


@pytest.mark.parametrize("line,allowed", [
    ("[langevin-step] ✔ correct", True),
    ("[dsm-ex-tweedie] ✔ correct: E[x_0 | x_i] agrees with the reference on every case", True),
    ("[ou-ex-vp-forward] ✔ correct: x_i agrees with the reference at every step, i = 0..n", True),
    ("[ddpm-ex] ✔ correct: x_{i-1} = (x_i - beta_i eps / sqrt(1 - abar_i)) / sqrt(alpha_i)", False),
    ("[langevin-step] ✘ not yet: the noise should be sqrt(2h) z, not sqrt(h) z", True),
    ("[langevin-step] ✔ correct: x + h s(x) + √(2h) z", False),
    ("✔ correct", True),
    ("3 of 3 checks in 'Langevin dynamics' passed.", True),
    ("[ou-ex-vp-forward] ✔ correct: x_i = √ᾱ_i x0 + √(1 − ᾱ_i) ε", False),
    ("✔ exercise-covariance: Cov(x_s, x_t | x_0) = e^{-(t-s)/2}(1 - e^{-s}) [symbolic]", False),
    ("exact beta = 0.00917", False),
])
def test_what_may_follow_an_exercise(line, allowed):
    assert pm.allowed_after_exercise(line) is allowed


def test_figure_resolution_and_label_size(tmp_path):
    fig = {"src": "x.png", "natural": [1376, 600], "displayed": [688, 300], "code": "plt.subplots(1, 4)", "cut": False}
    f = pm._figure(tmp_path, "page.html", fig)        # no file: dpi unknown, so no label estimate
    assert f["hi_res"] and f["panels_per_row"] == 4 and f["label_px"] is None
    fig["natural"] = [800, 350]
    assert not pm._figure(tmp_path, "page.html", fig)["hi_res"]


def test_label_size_from_the_png(tmp_path):
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("ddpm:min-font-pt", "8")
    Image.new("RGB", (2000, 400)).save(tmp_path / "f.png", dpi=(200, 200), pnginfo=info)
    fig = {"src": "f.png", "natural": [2000, 400], "displayed": [688, 138], "code": "", "cut": False}
    f = pm._figure(tmp_path, "page.html", fig)
    # 8 pt at 200 dpi is 22.2 px in the file, shrunk by 688/2000: 7.6 CSS px
    assert f["label_px"] == pytest.approx(8 * 200 / 72 * 688 / 2000, rel=1e-3)
    assert f["hi_res"]



def test_a_stretched_figure_is_reported(tmp_path):
    fig = {"src": "x.png", "natural": [1681, 1060], "displayed": [358, 530], "code": "", "cut": False}
    assert pm._figure(tmp_path, "page.html", fig)["distortion"] == pytest.approx(530 * 1681 / (358 * 1060) - 1)
    fig["displayed"] = [358, 225.7]  # 1681 × 1060 shrunk to 358 wide, rounded
    assert pm._figure(tmp_path, "page.html", fig)["distortion"] < pm.MAX_DISTORTION


BROKEN = """<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<style>article.bd-article{width:688px;max-width:100%;padding:0} pre{white-space:pre;overflow-x:auto}</style></head>
<body><article class="bd-article">
<div class="cell"><div class="cell_input"><pre>""" + "code\n" * 60 + """</pre></div>
<div class="cell_output"><pre>✔ long: """ + "a very long claim " * 12 + """[symbolic]</pre>
<img src="f.png" style="width:400px"></div></div>
<p>Prose.</p>
<section><div class="exercise admonition"><p class="admonition-title">Exercise 1</p><p>Find x.</p></div>
<div class="solution dropdown admonition" id="sol"><p class="admonition-title">Solution</p><p>x = 42</p></div>
<div class="cell"><div class="cell_output"><pre>✔ answer: x = 42 [symbolic]</pre></div></div></section>
</article></body></html>"""


@pytest.mark.skipif(os.environ.get("DDPM_BROWSER_TESTS") != "1" or not bc.chromium_available(),
                    reason="needs DDPM_BROWSER_TESTS=1 and chromium")
def test_broken_page_is_flagged(tmp_path):
    from PIL import Image

    Image.new("RGB", (400, 100), "white").save(tmp_path / "f.png", dpi=(50, 50))  # 10 pt: 6.9 px
    (tmp_path / "index.html").write_text(BROKEN, encoding="utf-8")
    with bc.StaticServer(tmp_path) as server:
        driver = bc.make_driver()
        try:
            wide = pm.measure(driver, server.url, tmp_path, "index.html", 1280)
            phone = pm.measure(driver, server.url, tmp_path, "index.html", 390)
        finally:
            bc.quit_driver(driver)
    assert [ln["text"][:7] for ln in wide.wide_lines] == ["✔ long:"]
    assert len(phone.wide_lines) == 1 and phone.wide_lines[0]["cut"]
    assert wide.code_share > 0.2
    (fig,) = wide.figures
    assert not fig["hi_res"] and fig["label_px"] < pm.MIN_LABEL_PX
    kinds = sorted(s["kind"] for s in wide.spoilers)
    assert kinds == ["output after an exercise", "solution open"]
