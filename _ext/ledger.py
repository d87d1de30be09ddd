"""The verification ledger: a build-time list of every check the book's notebooks passed.

Enabled in ``_config.yml`` with ``sphinx: local_extensions: {ledger: _ext}``; used in
``book/ledger.md`` as

    ```{verification-ledger}
    ```

At build time the directive reads every notebook of the table of contents (the stored,
executed outputs: the book builds with ``execute_notebooks: off`` and nbval re-executes
and compares those outputs in CI) with :mod:`ddpm_course.ledger`, which reads the
structured records that :mod:`ddpm_lib.verify` stores beside each check line. It renders
a status filter (passed · wrong variant · unchecked, ``_static/ledger.js``) and one
section per chapter with its counts and a list of its claims (typeset by
:mod:`ddpm_course.ledger_text`), each with its method, its section and a link to the
cell that checks it. A list, not a table: every part stays visible in a phone's column.

Each claim links to the code cell that ran the check: on ``doctree-read`` the output of
every notebook code cell that shows checks gets one empty anchor ``check-<name>`` per
check (stable as long as the check keeps its name; a repeated name gets ``-2``, ``-3``),
so ``chapter.html#check-<name>`` lands on the cell.

The build warns (and so ``-W`` fails) when a notebook of the toc that calls ``verify``
has no summary, when a summary reports fewer passed than run, when a code cell was
saved unexecuted or with an error, when the number of stored checks differs from the
summary's count, or when a chapter states a step with ``verify.unchecked`` (allowed only
in the pages listed in the config value ``ledger_allow_unchecked``).
"""
from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ddpm_course import ledger as L
from ddpm_course.ledger_text import claim_segments

logger = logging.getLogger(__name__)
WARNING_TYPE, WARNING_SUBTYPE = "ledger", "verification"


class verification_ledger(nodes.General, nodes.Element):
    """Placeholder for one chapter, filled once links can be resolved (``doctree-resolved``)."""


def _toc_order(app: Sphinx) -> list[str]:
    """Docnames in table-of-contents order (Jupyter Book's ``_toc.yml``), if it can be read."""
    path = getattr(app.config, "external_toc_path", None)
    if not path:
        return []
    toc_path = Path(path)
    if not toc_path.is_absolute():
        toc_path = Path(app.srcdir) / toc_path
    try:
        import yaml

        return L.toc_files(yaml.safe_load(toc_path.read_text(encoding="utf-8")) or {})
    except Exception as exc:  # noqa: BLE001 - fall back to sorted docnames, but say so
        logger.info(f"verification ledger: could not read the toc {toc_path} ({exc}); using sorted pages")
        return []


def notebook_docs(app: Sphinx) -> list[str]:
    """The notebooks the build includes, in toc order (then any others, sorted)."""
    env = app.env
    found = set(env.found_docs)
    ordered = [d for d in _toc_order(app) if d in found]
    ordered += sorted(found - set(ordered))
    return [d for d in ordered if str(env.doc2path(d)).endswith(".ipynb")]


def _warn(problem: str, docname: str) -> None:
    logger.warning(f"verification ledger: {problem}", location=docname,
                   type=WARNING_TYPE, subtype=WARNING_SUBTYPE)


class VerificationLedgerDirective(SphinxDirective):
    """``{verification-ledger}``: the table of every verified claim of the book."""

    has_content = False
    required_arguments = 0
    optional_arguments = 0

    def run(self) -> list[nodes.Node]:
        chapters: list[dict[str, Any]] = []
        allowed = set(self.env.app.config.ledger_allow_unchecked or [])
        for docname in notebook_docs(self.env.app):
            path = str(self.env.doc2path(docname))
            self.env.note_dependency(path)  # rebuild the ledger when a notebook changes
            led = L.read_notebook(path, label=Path(path).name)
            for problem in led.problems:
                _warn(problem, docname)
            if led.n_unchecked and docname not in allowed:
                names = ", ".join(r.name for r in led.records if r.kind == "unchecked")
                _warn(f"{Path(path).name}: {led.n_unchecked} stated step{'s have' if led.n_unchecked > 1 else ' has'} "
                      f"no check ({names}); check it, or move it to the errata appendix", docname)
            if not led.uses_verify:
                continue
            chapters.append({
                "docname": docname, "chapter": led.chapter, "summary": led.summary,
                "records": [dict(name=r.name, claim=r.claim, method=r.method, status=r.shown_status,
                                 kind=r.kind, section=r.section, anchor=r.anchor, reason=r.reason)
                            for r in led.records],
            })
        out: list[nodes.Node] = []
        totals = {s: sum(r["status"] == s for c in chapters for r in c["records"]) for s in L.STATUSES}
        n_claims = sum(len(c["records"]) for c in chapters)
        n_checked = totals["passed"] + totals["wrong variant"]
        out.append(_para(f"{_plural(n_claims, 'stated step')} in {_plural(len(chapters), 'chapter')}: "
                         f"{n_checked} checked ({totals['wrong variant']} of them by rejecting a deliberately "
                         f"wrong variant), {totals['unchecked']} not checked."))
        out.append(nodes.raw("", _filter_html(totals, n_claims), format="html"))
        for c in chapters:
            section = nodes.section(ids=[f"ledger-{L.slugify(c['docname'])}"], classes=["ledger-chapter"])
            section += nodes.title("", "", *_segments_nodes(c["chapter"]))
            holder = verification_ledger()
            holder["chapter"] = c
            self.set_source_info(holder)
            section += holder
            out.append(section)
        return out


def _plural(k: int, word: str) -> str:
    return f"{k} {word}{'' if k == 1 else 's'}"


def _filter_html(totals: dict[str, int], n: int) -> str:
    """The status filter's buttons (``_static/ledger.js`` makes them work)."""
    buttons = [("all", f"all ({n})")] + [(s, f"{s} ({totals[s]})") for s in L.STATUSES]
    return ('<div class="ledger-filter" role="group" aria-label="Show the steps with this status">'
            + "".join(f'<button type="button" class="ledger-filter-button" data-status="{_status_class(s)}" '
                      f'aria-pressed="{str(s == "all").lower()}">{html.escape(label)}</button>'
                      for s, label in buttons) + "</div>")


def _status_class(status: str) -> str:
    return "all" if status == "all" else "ledger-status-" + L.slugify(status)


def add_cell_anchors(app: Sphinx, doctree: nodes.document) -> None:
    """Give each notebook code cell that printed checks the ids ``check-<name>``."""
    docname = app.env.docname
    path = str(app.env.doc2path(docname))
    if not path.endswith(".ipynb"):
        return
    led = L.read_notebook(path)
    by_cell: dict[int, list[str]] = {}
    for r in led.records:
        by_cell.setdefault(r.cell_index, []).append(r.anchor)
    if not by_cell:
        return
    for node in list(doctree.findall(nodes.container)):
        if node.get("nb_element") != "cell_code" or node.get("cell_index") not in by_cell:
            continue
        # An HTML element shows only its first id, so each anchor is an empty span of its
        # own, placed in the cell's output (myst-nb expects the cell's first child to be
        # its source and its last its output, so the cell itself gets no new children).
        outputs = [c for c in node.children if c.get("nb_element") == "cell_code_output"]
        holder = outputs[0] if outputs else node
        for k, anchor in enumerate(by_cell[node["cell_index"]]):
            if anchor in node["ids"]:
                continue
            if holder is node:
                node["ids"].append(anchor)
            else:
                holder.insert(k, nodes.inline("", "", ids=[anchor], classes=["ledger-anchor"]))


_INLINE_MATH = re.compile(r"(?<!\\)\$([^$]+?)(?<!\\)\$")


def _text_with_math(text: str) -> list[nodes.Node]:
    """Split text into text and inline-math nodes, so ``$p_t$`` is typeset, not shown raw."""
    out: list[nodes.Node] = []
    pos = 0
    for m in _INLINE_MATH.finditer(text):
        if m.start() > pos:
            out.append(nodes.Text(text[pos:m.start()]))
        out.append(nodes.math(m.group(1), m.group(1)))
        pos = m.end()
    if pos < len(text):
        out.append(nodes.Text(text[pos:]))
    return out


def _segments_nodes(text: str) -> list[nodes.Node]:
    """A claim's ASCII math typeset: symbols, sub- and superscripts, ``$…$`` as math."""
    out: list[nodes.Node] = []
    for kind, s in claim_segments(text):
        if kind == "math":
            out.append(nodes.math(s, s))
        elif kind == "sub":
            out.append(nodes.subscript(s, s))
        elif kind == "sup":
            out.append(nodes.superscript(s, s))
        else:
            out.append(nodes.Text(s))
    return out


def _para(*children: nodes.Node | str, classes: list[str] | None = None) -> nodes.paragraph:
    p = nodes.paragraph(classes=classes or [])
    for c in children:
        if isinstance(c, str):
            p.extend(_text_with_math(c))
        else:
            p += c
    return p


def _link(children: list[nodes.Node] | str, uri: str, classes: list[str] | None = None) -> nodes.reference:
    kids = [nodes.Text(children)] if isinstance(children, str) else children
    return nodes.reference("", "", *kids, internal=True, refuri=uri, classes=classes or [])


_BADGE = {"passed": "✔ passed", "wrong variant": "✔ wrong variant rejected", "unchecked": "○ unchecked"}


def _item(r: dict[str, Any], page: str) -> nodes.list_item:
    """One claim: status, name (linked to its cell) and claim; then method and section."""
    item = nodes.list_item(classes=["ledger-item", _status_class(r["status"])])
    head = nodes.paragraph(classes=["ledger-claim"])
    head += nodes.inline("", _BADGE[r["status"]], classes=["ledger-badge"])
    head += nodes.Text(" ")
    head += _link([nodes.literal(r["name"], r["name"])], f"{page}#{r['anchor']}", ["ledger-name"])
    head += nodes.Text(": ")
    head.extend(_segments_nodes(r["claim"]))
    item += head
    meta = nodes.paragraph(classes=["ledger-meta"])
    meta += nodes.Text(f"unchecked: {r['reason']}" if r["kind"] == "unchecked" else r["method"])
    if r["section"]:
        meta += nodes.Text(" · § ")
        meta.extend(_text_with_math(r["section"]))
    item += meta
    return item


def render_ledger(app: Sphinx, doctree: nodes.document, fromdocname: str) -> None:
    """Fill each chapter section: its counts and its list of claims, links relative to this page."""
    for node in list(doctree.findall(verification_ledger)):
        c = node["chapter"]
        page = app.builder.get_relative_uri(fromdocname, c["docname"])
        passed, run = c["summary"] or (0, 0)
        count = {s: sum(r["status"] == s for r in c["records"]) for s in L.STATUSES}
        out: list[nodes.Node] = [_para(_link(c["chapter"], page),
                                       f": {passed} of {run} checks passed ({count['wrong variant']} of them "
                                       f"reject a wrong variant); {_plural(count['unchecked'], 'unchecked step')}.",
                                       classes=["ledger-counts"])]
        items = nodes.bullet_list(classes=["ledger-list"])
        for r in c["records"]:
            items += _item(r, page)
        if c["records"]:
            out.append(items)
        node.replace_self(out)


def mark_math(app: Sphinx, doctree: nodes.document) -> None:
    """The ledger's math is added after reading: tell Sphinx the page needs MathJax."""
    if any(True for _ in doctree.findall(verification_ledger)):
        app.env.get_domain("math").data["has_equations"][app.env.docname] = True


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("ledger_allow_unchecked", [], "env", types=[list])
    app.add_node(verification_ledger)
    app.add_directive("verification-ledger", VerificationLedgerDirective)
    app.connect("doctree-read", add_cell_anchors)
    app.connect("doctree-read", mark_math)
    app.connect("doctree-resolved", render_ledger)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}
