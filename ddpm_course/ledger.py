"""Read the verification ledger back out of executed notebooks (pure functions, no Sphinx).

Every passed check of :mod:`ddpm_lib.verify` prints one line
``✔ <name>: <claim> [<method>]`` and the last cell of a chapter prints
``N of M checks in '<chapter>' passed.``. The book is built from the *stored* outputs
of its notebooks (``execute_notebooks: off``; nbval re-executes and compares them in
CI), so those stored lines are the record of what was verified. This module turns one
notebook into

* a list of :class:`LedgerRecord` (one per check line, with the cell it came from, the
  nearest section heading above that cell and a stable HTML anchor), and
* a list of problems: strings saying why the notebook's ledger cannot be trusted
  (no summary line, fewer passed than run, code cells saved unexecuted, error outputs,
  or a count of check lines that disagrees with the summary).

The Sphinx extension ``_ext/ledger.py`` renders the records as the book's
verification-ledger appendix and turns each problem into a build warning.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

__all__ = [
    "CHECK_MARK", "LedgerRecord", "NotebookLedger", "parse_check_line", "parse_summary_line",
    "parse_notebook", "read_notebook", "anchor_for", "slugify", "toc_files",
]

CHECK_MARK = "✔"
_SUMMARY_RE = re.compile(r"^(?P<passed>\d+) of (?P<total>\d+) checks in '(?P<chapter>.*)' passed\.$")
_HEADING_RE = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
_FENCE_RE = re.compile(r"^(`{3,}|~{3,}|:{3,})")
_USES_VERIFY_RE = re.compile(r"\bverify\s*\.")
_WRONG_PREFIX = "the wrong variant is rejected: "


@dataclass(frozen=True)
class LedgerRecord:
    """One verified claim as a notebook's stored output shows it."""

    chapter: str
    name: str
    claim: str
    method: str
    status: str          # "passed" (only passed checks print a line)
    kind: str            # "check" or "wrong variant"
    cell_index: int      # index of the code cell in the notebook's cell list
    section: str         # the nearest markdown heading above that cell ("" if none)
    anchor: str          # HTML id given to that cell, unique within the notebook


@dataclass
class NotebookLedger:
    """Everything the ledger needs from one notebook."""

    path: str
    chapter: str
    records: list[LedgerRecord] = field(default_factory=list)
    summary: tuple[int, int] | None = None   # (passed, run) from the summary line
    problems: list[str] = field(default_factory=list)
    uses_verify: bool = False

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


def _matching_open_bracket(s: str, close: int) -> int:
    """Index of the ``[`` that matches the ``]`` at ``close``, or -1."""
    depth = 0
    for k in range(close, -1, -1):
        if s[k] == "]":
            depth += 1
        elif s[k] == "[":
            depth -= 1
            if depth == 0:
                return k
    return -1


def parse_check_line(line: str) -> tuple[str, str, str] | None:
    """``(name, claim, method)`` of a line ``✔ name: claim [method]``, else None.

    The method is the *last* bracketed group, matched bracket by bracket from the end,
    so a claim may itself contain brackets (``E[x]``, ``[0, T]``) and a method may contain
    balanced brackets. Surrounding whitespace is ignored.
    """
    s = line.strip()
    if not s.startswith(CHECK_MARK + " "):
        return None
    body = s[len(CHECK_MARK) + 1:]
    sep = body.find(": ")
    if sep <= 0 or not body.endswith("]"):
        return None
    name, rest = body[:sep].strip(), body[sep + 2:]
    open_ = _matching_open_bracket(rest, len(rest) - 1)
    if open_ < 0:  # unbalanced: fall back to the last " ["
        open_ = rest.rfind(" [") + 1
        if open_ <= 0:
            return None
    claim, method = rest[:open_].rstrip(), rest[open_ + 1:-1].strip()
    if not name or not claim or not method:
        return None
    return name, claim, method


def parse_summary_line(line: str) -> tuple[int, int, str] | None:
    """``(passed, run, chapter)`` of a line ``N of M checks in '<chapter>' passed.``, else None."""
    m = _SUMMARY_RE.match(line.strip())
    if not m:
        return None
    return int(m["passed"]), int(m["total"]), m["chapter"]


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


def _stdout_text(cell: Mapping[str, Any]) -> str:
    """All stdout stream text of a code cell, joined (a line may be split over outputs)."""
    return "".join(_text(o.get("text")) for o in cell.get("outputs", []) or []
                   if o.get("output_type") == "stream" and o.get("name", "stdout") == "stdout")


def _tags(cell: Mapping[str, Any]) -> list[str]:
    return list((cell.get("metadata") or {}).get("tags") or [])


def parse_notebook(nb: Mapping[str, Any], path: str = "<notebook>") -> NotebookLedger:
    """Records and problems of one notebook given as its JSON dict (or an nbformat node)."""
    cells = list(nb.get("cells", []))
    records: list[tuple[str, str, str, int, str]] = []
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
        for line in _stdout_text(cell).splitlines():
            check = parse_check_line(line)
            if check:
                records.append((*check, index, section))
                continue
            summ = parse_summary_line(line)
            if summ:
                summaries.append((*summ, index))

    if unexecuted:
        which = ", ".join(map(str, unexecuted[:10])) + (", …" if len(unexecuted) > 10 else "")
        many = len(unexecuted) > 1
        problems.append(f"{path}: {len(unexecuted)} code cell{'s were' if many else ' was'} saved unexecuted "
                        f"(cell{'s' if many else ''} {which}, counting from 1); execute the notebook and save "
                        "its outputs")
    chapter = summaries[-1][2] if summaries else title or Path(path).stem
    uses_verify = uses_verify or bool(records)
    summary = (summaries[-1][0], summaries[-1][1]) if summaries else None
    if uses_verify and summary is None:
        problems.append(f"{path}: the notebook runs verification checks but has no summary line "
                        "('N of M checks in ... passed.'); end it with verify.summary(expected=M)")
    if summary is not None:
        passed, run = summary
        if passed < run:
            problems.append(f"{path}: the summary reports {passed} of {run} checks passed; "
                            f"{run - passed} failed")
        if len(records) != run:
            problems.append(f"{path}: {len(records)} check lines are stored but the summary counts {run} "
                            "checks; a check's output was lost, or printed twice, or the notebook "
                            "was not re-executed in full")
    recs = []
    for name, claim, method, index, sec in records:
        is_wrong = method == "wrong variant"
        if is_wrong and claim.startswith(_WRONG_PREFIX):
            claim = claim[len(_WRONG_PREFIX):]
        recs.append(LedgerRecord(chapter=chapter, name=name, claim=claim, method=method, status="passed",
                                 kind="wrong variant" if is_wrong else "check", cell_index=index,
                                 section=sec, anchor=anchor_for(name, taken)))
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
