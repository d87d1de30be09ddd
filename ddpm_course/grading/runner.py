"""Grade one submission: copy it into a fresh scratch folder, run it sandboxed, judge, clean up."""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import protocol, sandbox
from .report import Row
from .shard import MAX_NOTEBOOK_BYTES, Submission

__all__ = ["Config", "read_notebook", "grade_submission"]


@dataclass
class Config:
    timeout: float = 120.0                 # seconds for the notebook's cells
    probe_timeout: float = 30.0            # seconds for each exercise's check
    kernel: str = "python3"
    seed: int = 0                          # the cases' seed (the CLI draws one per run)
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    sandboxed: bool = True
    hide: list = field(default_factory=list)   # folders the sandbox must not see (submissions, output, cwd)


def read_notebook(path: Path):
    """``(notebook, "")`` or ``(None, why)``; never follows a link, never reads more than the size limit."""
    import nbformat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror})"
    with os.fdopen(fd, "rb") as f:
        raw = f.read(MAX_NOTEBOOK_BYTES + 1)
    if len(raw) > MAX_NOTEBOOK_BYTES:
        return None, "too large"
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one row that says so
        return None, f"not a valid notebook ({type(exc).__name__}: {str(exc)[:150]})"
    return nb, ""


def _rows(sub: Submission, ids: list[str], result: str, hint: str, cfg: Config, flags: str = "") -> list[Row]:
    kind = "bwrap" if cfg.sandboxed else "none (--no-sandbox)"
    return [Row(sub.id, sub.student, sub.notebook, ex, result, hint, flags, kind) for ex in (ids or [""])]


def grade_submission(sub: Submission, expected_ids: list[str], cfg: Config, slot: int = 0) -> list[Row]:
    """Rows for one submission: one per exercise (its own checker calls and ``expected_ids``)."""
    from ddpm_course.exercises import load_all
    from ddpm_course.exercises._engine import EXERCISES

    if sub.refused:
        return _rows(sub, [], "error", sub.refused, cfg)
    nb, why = read_notebook(sub.path)
    if nb is None:
        return _rows(sub, [i for i in expected_ids], "error", why, cfg)
    load_all()
    ids = [i for i in dict.fromkeys(protocol.checker_ids(nb) + list(expected_ids)) if i in EXERCISES]
    flags = protocol.tamper_flags(nb)
    if not ids:
        return _rows(sub, [], "error", "the notebook names no coding exercise the grader knows", cfg, flags)
    uid = sandbox.sandbox_uid(slot) if (cfg.sandboxed and os.geteuid() == 0) else None
    scratch = Path(tempfile.mkdtemp(prefix="ddpm-scratch-"))
    private = Path(tempfile.mkdtemp(prefix="ddpm-grader-"))
    try:
        import nbformat

        nb_file = scratch / "submission.ipynb"
        nbformat.write(nb, str(nb_file))
        job = {"ids": ids, "seed": cfg.seed, "timeout": cfg.timeout, "probe_timeout": cfg.probe_timeout,
               "kernel": cfg.kernel}
        (scratch / ".job.json").write_text(json.dumps(job), encoding="utf-8")
        for p in (nb_file, scratch / ".job.json"):
            os.chmod(p, 0o644)
        wall = cfg.timeout + cfg.probe_timeout * len(ids) + 150  # + kernel start-up and shut-down
        limits = dataclasses.replace(cfg.limits, wall_s=wall)
        inner = [sys.executable, "-m", "ddpm_course.grading.executor"]
        if cfg.sandboxed:
            argv = sandbox.sandbox_argv(scratch, inner + [f"{sandbox.INSIDE}/submission.ipynb",
                                                          f"{sandbox.INSIDE}/.job.json"], cfg.hide, uid, limits)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        else:
            argv = inner + [str(nb_file), str(scratch / ".job.json")]
            env = sandbox.sandbox_env(str(scratch))
        out = private / "result.json"
        code, timed_out = sandbox.run_limited(argv, limits, out, scratch, env, nproc=cfg.sandboxed)
        doc, why = protocol.read_result(out)
        if doc is None:
            if timed_out:
                return _rows(sub, ids, "timeout", f"stopped at the sandbox's {wall:g} s wall-time limit", cfg, flags)
            return _rows(sub, ids, "error", f"{why} (exit {code})", cfg, flags)
        verdicts = protocol.verdicts(ids, doc, cfg.seed)
        return [Row(sub.id, sub.student, sub.notebook, ex, res, hint, flags, _rows(sub, [], "", "", cfg)[0].sandbox)
                for ex, (res, hint) in verdicts.items()]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(private, ignore_errors=True)
