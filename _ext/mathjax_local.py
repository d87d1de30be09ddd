"""Serve MathJax 4 from the book's own ``_static/mathjax/`` so that math renders offline.

Two jobs, one file:

* As a Sphinx extension (``sphinx: local_extensions: {mathjax_local: _ext}`` in
  ``_config.yml``): when the build starts, if ``_static/mathjax/tex-chtml.js`` exists
  next to the book's sources, point ``mathjax_path`` at it and its font
  (``loader.paths.fonts``) at ``_static/mathjax/fonts/``; otherwise load the version
  pinned in ``package.json`` from the CDN and say so (an info line, not a warning: the
  build runs with -W). The ``mathjax3_config`` of ``_config.yml`` (macros, automatic
  line breaking of long display equations) applies either way.
* As a script, ``python _ext/mathjax_local.py --install``: install the MathJax version
  pinned in ``package.json`` with npm (``npm ci`` when ``package-lock.json`` is there)
  and copy its browser components and the CHTML part of its default font
  (``@mathjax/mathjax-newcm-font``) into ``_static/mathjax/`` (git-ignored). Without
  npm it prints why and exits 0: the book then uses the CDN.
"""
from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

LOCAL_DIR = Path("_static") / "mathjax"
ENTRY = "tex-chtml.js"
#: What Sphinx (relative to ``_static/``) loads when the local copy is there.
LOCAL_MATHJAX_PATH = f"mathjax/{ENTRY}"
FONT = "mathjax-newcm-font"
#: MathJax resolves ``[mathjax]`` to the folder of the entry script.
LOCAL_FONTS_PATH = "[mathjax]/fonts"
CDN = "https://cdn.jsdelivr.net/npm/mathjax@{version}/" + ENTRY
REPO = Path(__file__).resolve().parent.parent


def pinned_version(root: str | Path = REPO) -> str:
    """The MathJax version pinned in ``package.json`` (the CDN fallback loads the same one)."""
    deps = json.loads((Path(root) / "package.json").read_text(encoding="utf-8"))["dependencies"]
    return deps["mathjax"]


def local_mathjax(srcdir: str | Path) -> Path | None:
    """The local MathJax entry script under ``srcdir``, or None when it is not installed."""
    entry = Path(srcdir) / LOCAL_DIR / ENTRY
    return entry if entry.is_file() else None


def _is_mathjax_asset(entry) -> bool:
    path = entry[0] if isinstance(entry, (tuple, list)) else entry
    return isinstance(path, str) and path.replace("\\", "/").startswith(LOCAL_DIR.name + "/")


def _config_inited(app, config) -> None:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    # jupyter-book adds every *.js/*.css under _static/ to every page; MathJax's own files
    # must not be (MathJax loads the few it needs itself), so drop them from those lists.
    for name in ("html_js_files", "html_css_files"):
        entries = getattr(config, name, None) or []
        kept = [e for e in entries if not _is_mathjax_asset(e)]
        if len(kept) != len(entries):
            setattr(config, name, kept)
    mj_config = copy.deepcopy(getattr(config, "mathjax3_config", None) or {})
    if local_mathjax(app.srcdir) is not None:
        config.mathjax_path = LOCAL_MATHJAX_PATH
        mj_config.setdefault("loader", {}).setdefault("paths", {})["fonts"] = LOCAL_FONTS_PATH
        config.mathjax3_config = mj_config
        logger.info("[mathjax_local] MathJax served from _static/%s (works offline)", LOCAL_MATHJAX_PATH)
    else:
        config.mathjax_path = CDN.format(version=pinned_version(app.srcdir))
        logger.info(
            "[mathjax_local] no local MathJax in %s: math loads from the CDN (%s) and needs a "
            "network. Run `python _ext/mathjax_local.py --install` (needs npm) for an offline copy.",
            Path(app.srcdir) / LOCAL_DIR, config.mathjax_path,
        )


def _dedupe_inline_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated identical <script> entries from a page.

    sphinx-thebe 0.3.1 registers its inline ``const THEBE_JS_URL = …`` script once per
    read pass, so pages got it two or three times and the browser reported
    "Identifier 'THEBE_JS_URL' has already been declared" (the browser tests caught it).
    """
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        attrs = getattr(js, "attributes", {}) or {}
        key = (str(getattr(js, "filename", js) or ""), attrs.get("body"))  # None and "" alike
        if key in seen:
            continue
        seen.add(key)
        kept.append(js)
    if len(kept) != len(scripts):
        context["script_files"] = kept


def setup(app):
    app.setup_extension("sphinx.ext.mathjax")
    # after jupyter-book's and sphinx's own handlers, so that our value wins
    app.connect("config-inited", _config_inited, priority=900)
    app.connect("html-page-context", _dedupe_inline_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}


def install(root: str | Path) -> int:
    """npm-install the pinned MathJax and copy it and its CHTML font to ``root/_static/mathjax``."""
    root = Path(root).resolve()
    npm = shutil.which("npm")
    if npm is None:
        print("[mathjax_local] npm not found: the book will load MathJax from the CDN "
              "(math then needs a network). Install Node.js/npm for offline math.")
        return 0
    cmd = [npm, "ci" if (root / "package-lock.json").is_file() else "install",
           "--no-audit", "--no-fund", "--loglevel=error"]
    proc = subprocess.run(cmd, cwd=root)
    if proc.returncode != 0:
        print(f"[mathjax_local] `{' '.join(cmd[1:])}` failed (exit {proc.returncode}): "
              "the book will load MathJax from the CDN.")
        return 0
    src = root / "node_modules" / "mathjax"
    font = root / "node_modules" / "@mathjax" / FONT
    dest = root / LOCAL_DIR
    for needed in (src / ENTRY, font / "chtml.js"):
        if not needed.is_file():
            print(f"[mathjax_local] {needed} missing after npm install", file=sys.stderr)
            return 1
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    # MathJax loads the parts it needs (extensions, sre/ for speech) relative to the entry
    # script; the node-only entry points are left out.
    shutil.copytree(src, tmp, ignore=shutil.ignore_patterns("node-main*", "require.mjs", "*.md"))
    (tmp / "fonts" / FONT).mkdir(parents=True)
    shutil.copy2(font / "chtml.js", tmp / "fonts" / FONT / "chtml.js")
    shutil.copytree(font / "chtml", tmp / "fonts" / FONT / "chtml")
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)  # others may be building: swap in one step
    version = json.loads((src / "package.json").read_text())["version"]
    print(f"[mathjax_local] MathJax {version} and {FONT} copied to {dest.relative_to(root)}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["--install"]:
        print(__doc__)
        sys.exit(2)
    sys.exit(install(Path(__file__).resolve().parent.parent))
