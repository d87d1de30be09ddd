"""Read the verification ledger back out of executed notebooks (pure functions, no Sphinx).

Every check of :mod:`ddpm_lib.verify` shows one line ``✔ <name>: <claim> [<method>]``
and stores beside it, in the same display output, the record itself as JSON (MIME type
``ddpm_lib.check_format.RECORD_MIME``); the last cell of a chapter stores the summary the same way. The
book is built from the *stored* outputs of its notebooks (``execute_notebooks: off``;
nbval re-executes and compares them in CI), so those records are what was verified. This
module reads the records (not the text) of one notebook into

* a list of :class:`LedgerRecord` (one per check or unchecked step, with the cell it came
  from, the nearest section heading above that cell and a stable HTML anchor), and
* a list of problems: strings saying why the notebook's ledger cannot be trusted
  (no summary, fewer passed than run, code cells saved unexecuted, error outputs,
  or a count of records that disagrees with the summary).

The Sphinx extension ``_ext/ledger.py`` renders the records as the book's
verification-ledger appendix and turns each problem into a build warning.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from ddpm_lib.check_format import RECORD_MIME   # pure Python: the ledger loads no torch

__all__ = [
    "RECORD_MIME", "STATUSES", "LedgerRecord", "NotebookLedger", "parse_notebook", "read_notebook", "anchor_for", "slugify", "toc_files",
    "chapter_notebooks",
]

#: The statuses the ledger shows (and filters by).
STATUSES = ("passed", "wrong variant", "unchecked")
_HEADING_RE = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
_FENCE_RE = re.compile(r"^(`{3,}|~{3,}|:{3,})")
_USES_VERIFY_RE = re.compile(r"\bverify\s*\.")


@dataclass(frozen=True)
class LedgerRecord:
    """One verified claim as a notebook's stored output shows it."""

    chapter: str
    name: str
    claim: str
    method: str
    status: str          # "passed" or "unchecked" (a failed check stops its notebook)
    kind: str            # "check", "wrong variant" or "unchecked"
    cell_index: int      # index of the code cell in the notebook's cell list
    section: str         # the nearest markdown heading above that cell ("" if none)
    anchor: str          # HTML id given to that cell, unique within the notebook
    reason: str = ""     # why an unchecked step has no check

    @property
    def shown_status(self) -> str:
        """One of :data:`STATUSES`: what the ledger page shows and filters by."""
        return "unchecked" if self.kind == "unchecked" else ("wrong variant" if self.kind == "wrong variant"
                                                             else self.status)


@dataclass
class NotebookLedger:
    """Everything the ledger needs from one notebook."""

    path: str
    chapter: str
    records: list[LedgerRecord] = field(default_factory=list)
    summary: tuple[int, int] | None = None   # (passed, run) from the summary
    problems: list[str] = field(default_factory=list)
    uses_verify: bool = False

    @property
    def n_unchecked(self) -> int:
        return sum(r.kind == "unchecked" for r in self.records)

    @property
    def n_passed(self) -> int:
        return self.summary[0] if self.summary else 0

    @property
    def n_run(self) -> int:
        return self.summary[1] if self.summary else 0


def _text(value: Any) -> str:
    """Notebook JSON stores text either as one string or as a list of lines."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return "".join(value)


def slugify(text: str) -> str:
    """Lower-case ASCII id: letters and digits, runs of anything else become one ``-``."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "x"


def anchor_for(name: str, taken: set[str]) -> str:
    """A stable HTML id ``check-<slug of name>`` unique within ``taken`` (which it updates).

    A repeated name gets ``-2``, ``-3``, … in order of appearance, so the anchors stay
    the same as long as the notebook's checks keep their names and order.
    """
    base = f"check-{slugify(name)}"
    anchor, k = base, 2
    while anchor in taken:
        anchor, k = f"{base}-{k}", k + 1
    taken.add(anchor)
    return anchor


def _headings(markdown: str) -> list[str]:
    """ATX headings of a markdown cell, skipping fenced blocks (code, directives)."""
    out, fence = [], None
    for line in markdown.splitlines():
        f = _FENCE_RE.match(line.lstrip())
        if f:
            mark = f.group(1)[0]
            if fence is None:
                fence = mark
            elif fence == mark:
                fence = None
            continue
        if fence is None:
            h = _HEADING_RE.match(line)
            if h:
                out.append(re.sub(r"[`*]", "", h["title"]).strip())   # drop inline-code/emphasis marks
    return out


def _records(cell: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The :data:`RECORD_MIME` payloads of a code cell's display outputs, in order."""
    out = []
    for o in cell.get("outputs", []) or []:
        if o.get("output_type") in ("display_data", "execute_result"):
            payload = (o.get("data") or {}).get(RECORD_MIME)
            if isinstance(payload, str):   # a notebook writer may store JSON as text
                payload = json.loads(payload)
            if isinstance(payload, Mapping):
                out.append(payload)
    return out


def _tags(cell: Mapping[str, Any]) -> list[str]:
    return list((cell.get("metadata") or {}).get("tags") or [])


def parse_notebook(nb: Mapping[str, Any], path: str = "<notebook>") -> NotebookLedger:
    """Records and problems of one notebook given as its JSON dict (or an nbformat node)."""
    cells = list(nb.get("cells", []))
    structured: list[tuple[Mapping[str, Any], int, str]] = []
    summaries: list[tuple[int, int, str, int]] = []
    problems: list[str] = []
    uses_verify = False
    title, section = "", ""
    taken: set[str] = set()
    unexecuted: list[int] = []
    for index, cell in enumerate(cells):
        kind = cell.get("cell_type")
        if kind == "markdown":
            heads = _headings(_text(cell.get("source")))
            if heads:
                section = heads[-1]
                title = title or heads[0]
            continue
        if kind != "code":
            continue
        source = _text(cell.get("source"))
        if _USES_VERIFY_RE.search(source):
            uses_verify = True
        if source.strip() and cell.get("execution_count") is None:
            unexecuted.append(index + 1)
        for out in cell.get("outputs", []) or []:
            if out.get("output_type") == "error" and "raises-exception" not in _tags(cell):
                problems.append(f"{path}: code cell {index + 1} was saved with an error "
                                f"({out.get('ename', 'error')}: {out.get('evalue', '')})")
        for payload in _records(cell):
            if payload.get("type") == "summary":
                summaries.append((int(payload["passed"]), int(payload["run"]), str(payload["chapter"]), index))
            elif payload.get("type") == "check":
                structured.append((payload, index, section))

    if unexecuted:
        which = ", ".join(map(str, unexecuted[:10])) + (", …" if len(unexecuted) > 10 else "")
        many = len(unexecuted) > 1
        problems.append(f"{path}: {len(unexecuted)} code cell{'s were' if many else ' was'} saved unexecuted "
                        f"(cell{'s' if many else ''} {which}, counting from 1); execute the notebook and save "
                        "its outputs")
    chapter = summaries[-1][2] if summaries else title or Path(path).stem
    uses_verify = uses_verify or bool(structured)
    summary = (summaries[-1][0], summaries[-1][1]) if summaries else None
    if uses_verify and summary is None:
        problems.append(f"{path}: the notebook runs verification checks but has no summary "
                        "(verify.summary); end it with verify.summary(expected=M)")
    if summary is not None:
        passed, run = summary
        if passed < run:
            problems.append(f"{path}: the summary reports {passed} of {run} checks passed; "
                            f"{run - passed} failed")
        n_stored = sum(p.get("kind") != "unchecked" for p, _, _ in structured)
        if n_stored != run:
            problems.append(f"{path}: {n_stored} check records are stored but the summary counts {run} "
                            "checks; a check's output was lost, or shown twice, or the notebook "
                            "was not re-executed in full")
    recs = [LedgerRecord(chapter=chapter, name=str(p["name"]), claim=str(p["claim"]),
                         method=str(p.get("method", "")), status=str(p.get("status", "passed")),
                         kind=str(p.get("kind", "check")), cell_index=index, section=sec,
                         anchor=anchor_for(str(p["name"]), taken), reason=str(p.get("reason", "")))
            for p, index, sec in structured]
    return NotebookLedger(path=path, chapter=chapter, records=recs, summary=summary,
                          problems=problems, uses_verify=uses_verify)


def read_notebook(path: str | Path, label: str | None = None) -> NotebookLedger:
    """:func:`parse_notebook` of the ``.ipynb`` file at ``path``; unreadable JSON is a problem.

    ``label`` names the notebook in the problems (default: ``path``).
    """
    p = Path(path)
    label = str(p) if label is None else label
    try:
        nb = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return NotebookLedger(path=label, chapter=p.stem, problems=[f"{label}: cannot read the notebook ({exc})"])
    return parse_notebook(nb, label)


def toc_files(toc: Mapping[str, Any]) -> list[str]:
    """Every ``file:`` of a Jupyter Book ``_toc.yml`` (already loaded), root first, in order."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    out.append(node[key])
            for key, value in node.items():
                if key not in ("root", "file"):
                    walk(value)
        elif isinstance(node, Iterable) and not isinstance(node, (str, bytes)):
            for item in node:
                walk(item)

    walk(toc)
    seen, ordered = set(), []
    for f in out:
        doc = re.sub(r"\.(ipynb|md|rst)$", "", f.strip("/"))
        if doc not in seen:
            seen.add(doc)
            ordered.append(doc)
    return ordered


def chapter_notebooks(root: str | Path) -> list[str]:
    """The chapters of the book at ``root`` that have an executed notebook: the names ``<ch>`` of
    ``book/<ch>.ipynb``, in the order of its ``_toc.yml`` (pages without a notebook left out)."""
    import yaml  # only here: the ledger itself needs no YAML

    root = Path(root)
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8")) or {}
    return [doc[len("book/"):] for doc in toc_files(toc)
            if doc.startswith("book/") and (root / f"{doc}.ipynb").is_file()]
