"""The browser checks must fail on a broken page, or they prove nothing.

The pure checks (raw TeX in text, internal links) run in the unit-test stage; the
browser run on a deliberately broken fixture runs with the browser tests
(DDPM_BROWSER_TESTS=1 and Debian's chromium present).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import browser_checks as bc


def test_raw_tex_is_found_in_text():
    assert bc.raw_tex_fragments("The mean is $x_t$ here.") == ["$x_t$"]
    assert bc.raw_tex_fragments("$$\nx\n$$")
    assert bc.raw_tex_fragments(r"see \begin{aligned} a \end{aligned}")
    assert bc.raw_tex_fragments(r"a bare \frac{1}{2} in prose")
    assert bc.raw_tex_fragments("a lone $ sign")
    assert bc.raw_tex_fragments("Typeset math leaves no TeX: x_t = e^{-t/2}") == []


def _write(root: Path, name: str, html: str) -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(html, encoding="utf-8")


def test_broken_links_are_found(tmp_path):
    _write(tmp_path, "index.html", '<meta http-equiv="Refresh" content="0; url=a.html" />')
    _write(tmp_path, "a.html", """<html><body><h1 id="top">A</h1>
      <a href="#top">ok</a> <a href="sub/b.html#sec">ok</a> <a href="https://example.org/x">external</a>
      <a href="#nowhere">bad anchor</a> <a href="missing.html">bad file</a>
      <a href="sub/b.html#gone">bad anchor elsewhere</a> <img src="_images/none.png">
      <a href="../../etc/passwd">outside</a></body></html>""")
    _write(tmp_path, "sub/b.html", '<html><body><section id="sec"><a href="../a.html">back</a></section></body></html>')
    assert bc.discover_pages(tmp_path) == ["a.html", "index.html", "sub/b.html"]
    problems = bc.broken_links(tmp_path, "a.html")
    text = "\n".join(problems)
    assert len(problems) == 5, text
    for bad in ("#nowhere", "missing.html", "#gone", "none.png", "outside"):
        assert bad in text
    assert bc.broken_links(tmp_path, "sub/b.html") == []
    assert bc.redirect_target(tmp_path, "index.html") == "a.html"
    assert bc.redirect_target(tmp_path, "a.html") is None


BROKEN_PAGE = r"""<!DOCTYPE html><html><head><meta charset="utf-8">
<script>window.MathJax = {loader: {paths: {fonts: "[mathjax]/fonts"}}, tex: {macros: {E: "\\mathbb{E}"}}};</script>
<script defer src="mathjax/tex-chtml.js"></script></head><body>
<p>Typeset: \(\E[x_t] = e^{-t/2} x_0\)</p>
<p class="mathjax_ignore">Raw, as when a parse fails: $x_t$ and \begin{aligned} a \end{aligned}</p>
<p>An undefined macro: \(\nosuchmacro{x}\)</p>
<img src="missing.png" alt="broken">
<a href="#no-such-anchor">a dead anchor</a>
<div class="solution dropdown admonition" id="sol-shown"><p class="admonition-title">Solution</p>
  <section><p>Visible from the start: a leak.</p></section></div>
<pre>$ code may hold dollars</pre>
<script>undefinedFunctionCall();</script>
</body></html>"""

GOOD_PAGE = r"""<!DOCTYPE html><html><head><meta charset="utf-8">
<script>window.MathJax = {loader: {paths: {fonts: "[mathjax]/fonts"}}, tex: {macros: {E: "\\mathbb{E}"}}};</script>
<script defer src="mathjax/tex-chtml.js"></script>
<style>.hidden-body > section {display: none;} .open > section {display: block;}</style></head><body>
<p id="top">Typeset: \(\E[x_t] = e^{-t/2} x_0\) and $$\int_0^1 x\,dx$$</p>
<a href="#top">up</a>
<div class="solution dropdown admonition hidden-body" id="sol-ok">
  <p class="admonition-title" onclick="this.parentNode.classList.add('open')">Solution</p>
  <section><p>Hidden until clicked.</p></section></div>
<pre>$ code may hold dollars</pre>
</body></html>"""

MATHJAX = Path(__file__).resolve().parents[2] / "_static" / "mathjax"
browser = pytest.mark.skipif(
    os.environ.get("DDPM_BROWSER_TESTS") != "1" or not bc.chromium_available()
    or not (MATHJAX / "tex-chtml.js").is_file(),
    reason="needs DDPM_BROWSER_TESTS=1, Debian chromium + chromium-driver, and _static/mathjax "
           "(python _ext/mathjax_local.py --install)")


@browser
def test_the_browser_checks_fail_on_a_broken_page_and_pass_on_a_good_one(tmp_path):
    (tmp_path / "mathjax").symlink_to(MATHJAX, target_is_directory=True)
    _write(tmp_path, "broken.html", BROKEN_PAGE)
    _write(tmp_path, "good.html", GOOD_PAGE)
    with bc.StaticServer(tmp_path) as server:
        driver = bc.make_driver()
        try:
            bad = bc.check_page(driver, server.url, tmp_path, "broken.html", screenshot_dir=tmp_path / "shots")
            good = bc.check_page(driver, server.url, tmp_path, "good.html")
        finally:
            bc.quit_driver(driver)
    text = "\n".join(bad["problems"])
    assert bad["mathjax"].startswith("4."), bad
    assert "raw TeX visible: '$x_t$'" in text
    assert "begin{" in text                         # shown as repr: doubled backslash
    assert "image not loaded: missing.png" in text
    assert "MathJax error" in text                  # \nosuchmacro
    assert "no id 'no-such-anchor'" in text
    assert "sol-shown: solution visible before it is clicked" in text
    assert "undefinedFunctionCall" in text          # the console error
    assert "code may hold dollars" not in text      # <pre> is not prose
    assert (tmp_path / "shots" / "broken.png").stat().st_size > 1000
    assert good["problems"] == [] and good["solutions"] == 1, good
