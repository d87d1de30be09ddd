"""The verification ledger: a build-time table of every check the book's notebooks passed.

Enabled in ``_config.yml`` with ``sphinx: local_extensions: {ledger: _ext}``; used in
``book/ledger.md`` as

    ```{verification-ledger}
    ```

At build time the directive reads every notebook of the table of contents (the stored,
executed outputs: the book builds with ``execute_notebooks: off`` and nbval re-executes
and compares those outputs in CI), parses the check lines ``✔ <name>: <claim> [<method>]``
and the summary line ``N of M checks in '<chapter>' passed.`` with
:mod:`ddpm_course.ledger`, and renders one table (chapter · check · claim · method · status).

Each row links to the code cell that ran the check: on ``doctree-read`` the output of
every notebook code cell that prints checks gets one empty anchor ``check-<name>`` per
check (stable as long as the check keeps its name; a repeated name gets ``-2``, ``-3``),
so ``chapter.html#check-<name>`` lands on the cell.

The build warns (and so ``-W`` fails) when a notebook of the toc that calls ``verify``
has no summary line, when a summary reports fewer passed than run, when a code cell was
saved unexecuted or with an error, or when the number of stored check lines differs from
the summary's count.
"""
from __future__ import annotations

import re

from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ddpm_course import ledger as L   # pure Python: importing it loads no torch

logger = logging.getLogger(__name__)
WARNING_TYPE, WARNING_SUBTYPE = "ledger", "verification"


class verification_ledger(nodes.General, nodes.Element):
    """Placeholder replaced by the table once links can be resolved (``doctree-resolved``)."""


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
        for docname in notebook_docs(self.env.app):
            path = str(self.env.doc2path(docname))
            self.env.note_dependency(path)  # rebuild the ledger when a notebook changes
            led = L.read_notebook(path, label=Path(path).name)
            for problem in led.problems:
                _warn(problem, docname)
            if not led.uses_verify:
                continue
            chapters.append({
                "docname": docname, "chapter": led.chapter, "summary": led.summary,
                "records": [dict(name=r.name, claim=r.claim, method=r.method, status=r.status,
                                 kind=r.kind, section=r.section, anchor=r.anchor) for r in led.records],
            })
        node = verification_ledger()
        node["chapters"] = chapters
        self.set_source_info(node)
        return [node]


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
    """Split a claim into text and inline-math nodes, so ``$p_t$`` is typeset, not shown raw."""
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


def _para(*children: nodes.Node | str) -> nodes.paragraph:
    p = nodes.paragraph()
    for c in children:
        if isinstance(c, str):
            p.extend(_text_with_math(c))
        else:
            p += c
    return p


def _link(text: str, uri: str) -> nodes.reference:
    return nodes.reference(text, text, internal=True, refuri=uri)


def _table(rows: list[list[nodes.Node]], header: list[str], widths: list[int]) -> nodes.table:
    table = nodes.table(classes=["verification-ledger"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for w in widths:
        group += nodes.colspec(colwidth=w)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for h in header:
        row += nodes.entry("", _para(h))
    head += row
    body = nodes.tbody()
    group += body
    for cells in rows:
        row = nodes.row()
        for c in cells:
            row += nodes.entry("", c)
        body += row
    return table


def render_ledger(app: Sphinx, doctree: nodes.document, fromdocname: str) -> None:
    """Replace each placeholder with the overview and the table, links relative to this page."""
    for node in list(doctree.findall(verification_ledger)):
        chapters = node["chapters"]
        out: list[nodes.Node] = []
        n_checks = sum(len(c["records"]) for c in chapters)
        n_wrong = sum(r["kind"] == "wrong variant" for c in chapters for r in c["records"])
        plural = lambda k, word: f"{k} {word}{'' if k == 1 else 's'}"
        out.append(_para(f"{plural(n_checks, 'verified claim')} in {plural(len(chapters), 'chapter')}; "
                         f"{n_wrong} of them show a deliberately wrong variant failing."))
        overview = nodes.bullet_list()
        rows: list[list[nodes.Node]] = []
        for c in chapters:
            page = app.builder.get_relative_uri(fromdocname, c["docname"])
            passed, run = c["summary"] or (0, 0)
            overview += nodes.list_item("", _para(_link(c["chapter"], page),
                                                  f": {passed} of {run} checks passed"))
            for r in c["records"]:
                where = _para(_link(c["chapter"], page))
                if r["section"]:
                    where.extend(_text_with_math(f" › {r['section']}"))
                method = r["method"]
                status = "✔ passed" + (" (wrong variant rejected)" if r["kind"] == "wrong variant" else "")
                rows.append([where, _para(_link(r["name"], f"{page}#{r['anchor']}")),
                             _para(r["claim"]), _para(method), _para(status)])
        out.append(overview)
        if rows:
            out.append(_table(rows, ["Chapter", "Check", "Claim", "Method", "Status"], [18, 14, 40, 20, 8]))
        node.replace_self(out)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_node(verification_ledger)
    app.add_directive("verification-ledger", VerificationLedgerDirective)
    app.connect("doctree-read", add_cell_anchors)
    app.connect("doctree-resolved", render_ledger)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
