"""Which submissions there are, which slice a shard grades, and merging the shards' CSVs.

A submission is a ``*.ipynb`` file anywhere under the folder (``.ipynb_checkpoints`` and
hidden folders skipped); its id is its path relative to the folder, so ``alice.ipynb``,
``alice/langevin.ipynb`` and ``alice/old/langevin.ipynb`` are three submissions of the
student ``alice``. A symbolic link, or anything that is not a regular file, is not read:
it gets a row that says so. ``--shard K/N`` keeps the submissions whose id hashes to ``K − 1``
modulo ``N`` (CRC-32 of the id's bytes): deterministic, and independent of the others.
"""
from __future__ import annotations

import os
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path

from .report import read_csv, write_csv

__all__ = ["Submission", "find_submissions", "in_shard", "parse_shard", "merge"]

MAX_NOTEBOOK_BYTES = 32 << 20


@dataclass(frozen=True)
class Submission:
    id: str                  # path relative to the folder ("/"-separated; undecodable bytes as surrogates)
    student: str
    path: Path
    refused: str = ""        # why it is not graded (a link, not a regular file, too large)

    @property
    def notebook(self) -> str:
        return self.path.name


def _student(rel_parts: tuple[str, ...]) -> str:
    first = rel_parts[0]
    return first[:-len(".ipynb")] if len(rel_parts) == 1 and first.endswith(".ipynb") else first


def find_submissions(folder: str | Path) -> list[Submission]:
    """Every submission under ``folder``, sorted by id; links and odd files come back refused."""
    folder = Path(folder)
    found: list[Submission] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        rel_root = Path(root).relative_to(folder)
        keep = []
        for d in sorted(dirs):
            if d.startswith(".") or d == "__pycache__":
                continue
            p = Path(root) / d
            if p.is_symlink():
                rel = (rel_root / d).parts
                found.append(Submission("/".join(rel), _student(rel), p,
                                        "refused: a symbolic link to a folder; links are not followed"))
                continue
            keep.append(d)
        dirs[:] = keep
        for name in sorted(files):
            if not name.endswith(".ipynb"):
                continue
            p = Path(root) / name
            rel = (rel_root / name).parts
            sid = "/".join(rel)
            st = os.lstat(p)
            refused = ""
            if stat.S_ISLNK(st.st_mode):
                target = os.path.realpath(p)
                inside = target.startswith(str(folder.resolve()) + os.sep)
                refused = ("refused: a symbolic link " + ("to another file of the folder" if inside else
                           "to a file outside the submissions folder") + "; links are not followed")
            elif not stat.S_ISREG(st.st_mode):
                refused = "refused: not a regular file"
            elif st.st_size > MAX_NOTEBOOK_BYTES:
                refused = f"refused: larger than {MAX_NOTEBOOK_BYTES >> 20} MiB"
            found.append(Submission(sid, _student(rel), p, refused))
    return sorted(found, key=lambda s: s.id.encode("utf-8", "surrogateescape"))


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` with ``1 ≤ K ≤ N`` → ``(K, N)``; ``ValueError`` otherwise."""
    try:
        k, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard takes K/N with whole numbers, e.g. 2/8; got {text!r}") from None
    if not 1 <= k <= n:
        raise ValueError(f"--shard K/N needs 1 <= K <= N; got {text!r}")
    return k, n


def in_shard(sub: Submission, k: int, n: int) -> bool:
    return zlib.crc32(sub.id.encode("utf-8", "surrogateescape")) % n == k - 1


def merge(inputs: list[Path], out: Path) -> int:
    """Join shard CSVs into ``out``; ``ValueError`` if two shards graded the same submission differently."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for path in inputs:
        for r in read_csv(path):
            key = (r["submission"], r["exercise"])
            if key in rows and rows[key] != r:
                raise ValueError(f"{path}: submission {r['submission']} exercise {r['exercise']!r} is graded "
                                 "differently in two inputs")
            rows[key] = r
    write_csv(list(rows.values()), out)
    return len(rows)

